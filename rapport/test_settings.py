"""Settings for the test suite: the normal settings in test mode."""

import os

os.environ.setdefault("RAPPORT_MODE", "test")

from rapport.settings import *  # noqa: E402, F403

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "rapport.core.sms.LocmemBackend"
