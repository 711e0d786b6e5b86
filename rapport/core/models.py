from django.db import models


class TokenBucket(models.Model):
    """A rate limit held in the database, keyed on a keyed hash (never the raw email or address).

    Shared by every app that needs one (logins, emailed links): see rapport.core.ratelimit.
    """

    key = models.CharField(max_length=100, unique=True)
    tokens = models.FloatField()
    updated = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: {self.tokens:.1f}"
