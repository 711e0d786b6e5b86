"""Staff accounts, practices (organisations), roles and supervision."""

from __future__ import annotations

import hashlib
import uuid
from binascii import unhexlify

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from rapport.core.fields import EncryptedTextField


class Organisation(models.Model):
    """A practice: every tenant-owned row points at one."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    # Whether the practice has any webhook endpoint (active or not), kept by rapport.webhooks
    # when one is created or deleted: read with the practice, it spares every check-in answer
    # the look-up of endpoints in the many practices that have none.
    has_webhook_endpoints = models.BooleanField(default=False, db_default=False, editable=False)

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("A user needs an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A staff member. Clients are not users; they reach the portal through emailed links."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # The language the staff member reads the site in (settings.LANGUAGES); clients have their own.
    language = models.CharField(max_length=35, default="en")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    def __str__(self) -> str:
        return self.name or self.email


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SUPERVISOR = "supervisor", _("Supervisor")
    THERAPIST = "therapist", _("Therapist")


class Membership(models.Model):
    """One role of one user in one organisation; a person may hold several."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user", "role"], name="unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.organisation}"


class Supervision(models.Model):
    """A supervisor oversees a therapist's episodes within one organisation."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    supervisor = models.ForeignKey(User, on_delete=models.CASCADE, related_name="supervisees")
    therapist = models.ForeignKey(User, on_delete=models.CASCADE, related_name="supervisors")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "supervisor", "therapist"], name="unique_supervision"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supervisor} supervises {self.therapist}"


def _new_seed() -> str:
    from django_otp.util import random_hex

    return random_hex(20)


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """django-otp's TOTP device, with its seed encrypted at rest with the project's key ring.

    The fields and the verification are django-otp's TOTPDevice's (reused, not rewritten); only
    the seed's storage differs: `TOTPDevice.key` is plain hex in the database and in backups,
    which with a cracked password would bypass the second factor.
    """

    secret = EncryptedTextField(default=_new_seed)  # hex, encrypted (rapport.core.crypto)
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = "authenticator app"

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.secret.encode())

    verify_token = TOTPDevice.verify_token
    get_throttle_factor = TOTPDevice.get_throttle_factor
    config_url = TOTPDevice.config_url
    _read_str_from_settings = TOTPDevice._read_str_from_settings


def recovery_digest(code: str) -> str:
    """Recovery codes are random (80 bits, django-otp's StaticToken.random_token), so a plain
    SHA-256 is enough to make the stored value useless to whoever reads the database."""
    return hashlib.sha256(code.strip().lower().encode()).hexdigest()


class RecoveryCodes(ThrottlingMixin, Device):
    """A staff member's single-use recovery codes, stored only as digests."""

    class Meta(Device.Meta):
        verbose_name = "recovery codes"

    def get_throttle_factor(self) -> int:
        return 1

    def verify_token(self, token) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        used = self.codes.filter(digest=recovery_digest(str(token))).delete()[0]
        if used:
            self.throttle_reset(commit=True)
            return True
        self.throttle_increment(commit=True)
        return False


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodes, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, db_index=True)

    def __str__(self) -> str:
        return f"recovery code {self.pk}"
