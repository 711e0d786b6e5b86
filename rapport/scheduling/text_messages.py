"""Text messages through a pluggable backend (settings.RAPPORT_SMS_BACKEND, a dotted path).

A backend is a class with `send(to: str, body: str) -> None` that raises on failure. The console
backend (the default outside production) writes to the log. An HTTP provider's adapter is a class
of that shape posting to the provider's API with its credentials from the environment.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("rapport.sms")


class ConsoleBackend:
    sent: list[tuple[str, str]] = []  # in this process, for tests and the demo

    def send(self, to: str, body: str) -> None:
        ConsoleBackend.sent.append((to, body))
        log.info("Text message to %s: %s", to, body)


def send_text(to: str, body: str) -> None:
    backend = getattr(settings, "RAPPORT_SMS_BACKEND", "rapport.scheduling.text_messages.ConsoleBackend")
    import_string(backend)().send(to, body)
