"""Text messages through a pluggable backend, in the manner of Django's email backends.

`settings.SMS_BACKEND` names a class with `send(to, body)`; pick one with RAPPORT_SMS_BACKEND:

- `rapport.core.sms.ConsoleBackend` (default outside production): writes the message to stdout;
- `rapport.core.sms.LocmemBackend` (tests): appends to `rapport.core.sms.outbox`;
- `rapport.core.sms.DisabledBackend` (default in production until a provider is configured):
  sends nothing and says so, so a practice relying on texts sees they are off.

A provider (an HTTP gateway) is a class with the same `send`, named in the setting.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


class SMSError(Exception):
    """The message was not sent (no provider, or the provider refused it)."""


@dataclass(frozen=True)
class Message:
    to: str
    body: str


outbox: list[Message] = []


class ConsoleBackend:
    def send(self, to: str, body: str) -> None:
        sys.stdout.write(f"Text message to {to}: {body}\n")


class LocmemBackend:
    def send(self, to: str, body: str) -> None:
        outbox.append(Message(to, body))


class DisabledBackend:
    def send(self, to: str, body: str) -> None:
        raise SMSError("text messages are not configured (RAPPORT_SMS_BACKEND)")


def send_sms(to: str, body: str) -> None:
    """Send one text; raises SMSError when it cannot be sent."""
    if not to.strip():
        raise SMSError("no phone number")
    import_string(settings.SMS_BACKEND)().send(to.strip(), body)
