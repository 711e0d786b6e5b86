"""Token-bucket rate limits stored in the database, so they hold across workers and restarts.

A bucket holds up to `capacity` tokens and refills completely over `period` seconds. Keys are
HMACs of (scope, value) under the secret key: the table never holds an email address or an IP
address, and a key from one scope cannot collide with another's.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.core.models import TokenBucket


@dataclass(frozen=True)
class Limit:
    scope: str
    capacity: int
    period: float  # seconds for a full refill

    def key(self, value: str) -> str:
        digest = hmac.new(settings.SECRET_KEY.encode(), f"{self.scope}\0{value}".encode(), hashlib.sha256)
        return f"{self.scope}:{digest.hexdigest()[:64]}"


def _locked_bucket(limit: Limit, value: str) -> TokenBucket:
    key = limit.key(value)
    now = timezone.now()
    for _ in range(2):
        try:
            with transaction.atomic():
                bucket, _ = TokenBucket.objects.select_for_update(no_key=True).get_or_create(
                    key=key, defaults={"tokens": float(limit.capacity), "updated": now}
                )
            break
        except IntegrityError:  # created concurrently by another request: lock the existing row
            continue
    bucket = TokenBucket.objects.select_for_update(no_key=True).get(key=key)
    elapsed = max((now - bucket.updated).total_seconds(), 0.0)
    bucket.tokens = min(float(limit.capacity), bucket.tokens + elapsed * limit.capacity / limit.period)
    bucket.updated = now
    return bucket


def available(limit: Limit, value: str) -> bool:
    """Whether at least one token is left, without taking it."""
    with transaction.atomic():
        bucket = _locked_bucket(limit, value)
        bucket.save(update_fields=["tokens", "updated"])
        return bucket.tokens >= 1


def consume(limit: Limit, value: str) -> bool:
    """Take one token; False (and nothing taken) when the bucket is empty."""
    with transaction.atomic():
        bucket = _locked_bucket(limit, value)
        allowed = bucket.tokens >= 1
        if allowed:
            bucket.tokens -= 1
        bucket.save(update_fields=["tokens", "updated"])
        return allowed
