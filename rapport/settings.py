"""Settings for Rapport, read from the environment.

Three modes, chosen with RAPPORT_MODE:

- ``production`` (the default): DEBUG off; refuses to start without RAPPORT_SECRET_KEY and
  RAPPORT_ENCRYPTION_KEYS; PostgreSQL through RAPPORT_DATABASE_URL.
- ``demo``: what ``make demo`` runs; DEBUG on, SQLite under var/, keys generated under var/.
- ``test``: what the test suite runs; keys fixed, fast password hashing.

Every secret can also come from a file: RAPPORT_SECRET_KEY_FILE, RAPPORT_ENCRYPTION_KEYS_FILE,
RAPPORT_BLIND_INDEX_KEYS_FILE (rapport.keys reads and checks them).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from rapport import keys
from rapport.core.proxies import parse_networks as _parse_networks

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("RAPPORT_VAR_DIR", BASE_DIR / "var"))

MODES = ("production", "demo", "test")
MODE = os.getenv("RAPPORT_MODE", "production")
if MODE not in MODES:
    raise ImproperlyConfigured(f"RAPPORT_MODE must be one of {', '.join(MODES)}, not {MODE!r}")


def env_bool(name: str, default: bool) -> bool:
    raw = os.getenv(name, str(default).lower())
    if raw not in ("true", "false"):
        raise ImproperlyConfigured(f"{name} must be 'true' or 'false', not {raw!r}")
    return raw == "true"


# The keys (SECRET_KEY, the encryption and blind-index keys), checked for the mode: rapport.keys.
SECRET_KEY, ENCRYPTION_KEYS, BLIND_INDEX_KEYS = keys.read(MODE, VAR_DIR)

DEBUG = env_bool("RAPPORT_DEBUG", default=MODE == "demo")

ALLOWED_HOSTS = [
    h.strip()
    for h in os.getenv(
        "RAPPORT_ALLOWED_HOSTS", "" if MODE == "production" else "127.0.0.1,localhost,testserver"
    ).split(",")
    if h.strip()
]
# Reverse proxies whose X-Forwarded-For is believed (rapport.core.proxies); gunicorn's
# forwarded_allow_ips is set from the same list by `rapport serve`.
TRUSTED_PROXIES_RAW = os.getenv("RAPPORT_TRUSTED_PROXIES", "")
TRUSTED_PROXIES = _parse_networks(TRUSTED_PROXIES_RAW)
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.getenv("RAPPORT_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_scopes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rapport.core",
    "rapport.accounts",
    "rapport.audit",
    "rapport.care",
    "rapport.alerts",
    "rapport.checkins",
    "rapport.scheduling",
    "rapport.portal",
    "rapport.goals",
    "rapport.notes",
    "rapport.privacy",
    "rapport.analytics",
    "rapport.workspace",
    "rapport.practice",
    "ninja",  # its interactive API docs, served from its own static files (no CDN)
    "rapport.api",
    "rapport.webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "rapport.core.middleware.RequestBodyLimitMiddleware",  # before anything reads the body
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "rapport.core.middleware.LanguageMiddleware",  # after auth: the staff member's own language
    "django_otp.middleware.OTPMiddleware",
    "rapport.accounts.middleware.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "rapport.core.middleware.SecurityHeadersMiddleware",
    "rapport.accounts.middleware.OrganisationScopeMiddleware",
]

ROOT_URLCONF = "rapport.urls"
WSGI_APPLICATION = "rapport.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "rapport" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rapport.alerts.context_processors.urgent_alerts",
            ],
        },
    },
]

_default_db = f"sqlite:///{VAR_DIR / 'rapport.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("RAPPORT_DATABASE_URL", _default_db), conn_max_age=60, conn_health_checks=True
    )
}
# PostgreSQL: the application's own role, granted after each migrate (run as the owner) what the
# site needs and, on the audit trail, only SELECT and INSERT (rapport.audit.roles).
DATABASE_APP_ROLE = os.getenv("RAPPORT_DATABASE_APP_ROLE", "")
if "postgresql" in DATABASES["default"]["ENGINE"] and env_bool("RAPPORT_DATABASE_PREPARED", True):
    # The hot path's statements (rapport.core.statements) are prepared at their first run on each
    # connection; nothing else is (Django's cursors bind parameters on the client). Off behind a
    # pooler in transaction mode that cannot keep prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 0
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the demo's readers and writers overlap; a busy timeout instead of "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts-login"
LOGIN_REDIRECT_URL = "care-caseload"
LOGOUT_REDIRECT_URL = "accounts-login"

# Two-factor login (TOTP, with single-use recovery codes) is required for every staff account.
OTP_TOTP_ISSUER = "Rapport"
RECOVERY_CODES = 10
# Sensitive actions (exports, erasure, role changes) ask for the password and a code again when
# the last confirmation is older than this.
REAUTH_MINUTES = int(os.getenv("RAPPORT_REAUTH_MINUTES", "10"))
# Requests each API token may make per minute (rapport.api); more answer 429.
RAPPORT_API_REQUESTS_PER_MINUTE = int(os.getenv("RAPPORT_API_REQUESTS_PER_MINUTE", "120"))

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if MODE == "test":
    # Argon2 is deliberately slow; tests that check hashing set it explicitly.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The languages every page, message and questionnaire is offered in (README, "Languages"). Staff
# read in their own language (User.language), clients in theirs (Client.language), chosen by
# rapport.core.middleware.LanguageMiddleware; a third language is a translator's work alone.
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "rapport" / "locale"]
TIME_ZONE = os.getenv("RAPPORT_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "rapport" / "static"]
if MODE == "production":
    # `rapport manage collectstatic` fills it; WhiteNoise serves it from gunicorn.
    STATIC_ROOT = Path(os.getenv("RAPPORT_STATIC_ROOT", VAR_DIR / "static"))
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
else:
    STATIC_ROOT = None
    WHITENOISE_USE_FINDERS = True  # the demo and tests serve straight from the apps' folders

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Sessions end after this much inactivity (every request renews the cookie): a shared clinic
# computer left logged in must not stay open to the next person.
IDLE_TIMEOUT_MINUTES = int(os.getenv("RAPPORT_IDLE_TIMEOUT_MINUTES", "30"))
SESSION_COOKIE_AGE = IDLE_TIMEOUT_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# A client's language (chosen on a check-in link or their portal) is remembered in Django's
# language cookie, not in a session: answering a link creates no session (rapport.core.i18n).
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# The Content Security Policy: no inline scripts or styles, nothing from other origins.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)

if MODE == "production":
    SESSION_COOKIE_SECURE = env_bool("RAPPORT_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("RAPPORT_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
    SECURE_HSTS_SECONDS = int(os.getenv("RAPPORT_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("RAPPORT_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("RAPPORT_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Joining the browsers' preload list is a lasting decision for the domain's owner, not a
        # default we can take for them; RAPPORT_HSTS_PRELOAD=true opts in.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

EMAIL_BACKEND = os.getenv(
    "RAPPORT_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if MODE != "production"
    else "django.core.mail.backends.smtp.EmailBackend",
)
SMS_BACKEND = os.getenv(
    "RAPPORT_SMS_BACKEND",
    "rapport.core.sms.ConsoleBackend" if MODE != "production" else "rapport.core.sms.DisabledBackend",
)
DEFAULT_FROM_EMAIL = os.getenv("RAPPORT_FROM_EMAIL", "rapport@localhost")
# Email through a provider's API (Amazon SES, Postmark, Mailgun, ...), optional: install the extra
# `email-providers` (django-anymail), set RAPPORT_EMAIL_BACKEND to the provider's backend (e.g.
# anymail.backends.postmark.EmailBackend) and its settings as RAPPORT_ANYMAIL_<NAME>
# (e.g. RAPPORT_ANYMAIL_POSTMARK_SERVER_TOKEN); they become the ANYMAIL settings dict.
ANYMAIL = {name.removeprefix("RAPPORT_ANYMAIL_"): value for name, value in os.environ.items()
           if name.startswith("RAPPORT_ANYMAIL_")}
if EMAIL_BACKEND.startswith("anymail."):
    INSTALLED_APPS.append("anymail")
# The site's address for links built outside a request (emails sent by a job); in a request the
# link names the host the request came to. Production has no default: see checkins.services.invitations.absolute.
RAPPORT_BASE_URL = os.getenv(
    "RAPPORT_BASE_URL", "" if MODE == "production" else "http://127.0.0.1:8000"
).rstrip("/")

# Webhooks (rapport/webhooks): seconds to wait for a receiver, and whether addresses on a private
# or loopback network may receive them (refused in production unless set: a webhook must not
# reach into the server's own network).
WEBHOOKS_TIMEOUT = int(os.getenv("RAPPORT_WEBHOOKS_TIMEOUT", "10"))
WEBHOOKS_ALLOW_PRIVATE = env_bool("RAPPORT_WEBHOOKS_ALLOW_PRIVATE", MODE != "production")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("RAPPORT_LOG_LEVEL", "WARNING")},
}

# ---- background work: Celery (rapport/celery.py) ---------------------------------------------
# Production: Redis (or any broker Celery supports), shared by the web servers, the workers
# (`rapport worker`, on as many machines as needed) and one scheduler (`rapport scheduler`).
# The demo: kombu's filesystem transport under var/broker, so it needs no service. Tests: an
# in-memory broker with tasks run at once (eager); tests of a real worker use Redis.
_DEFAULT_BROKERS = {"production": "redis://127.0.0.1:6379/0", "demo": "filesystem://",
                    "test": "memory://"}
CELERY_BROKER_URL = os.getenv("RAPPORT_BROKER_URL", _DEFAULT_BROKERS[MODE])
BROKER_FOLDER = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # One folder for both directions (the workers read what the web server writes); the
    # filesystem transport has no broadcast, so no remote control between workers.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_FOLDER / "queue"),
        "data_folder_out": str(BROKER_FOLDER / "queue"),
        "control_folder": str(BROKER_FOLDER / "control"),
        "store_processed": False,
    }
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
elif CELERY_BROKER_URL.startswith("redis"):
    # A message taken by a worker that dies without acknowledging it goes back to the queue
    # after this long (a worker shut down normally hands it back at once). Longer than any
    # task runs, and longer than the longest retry delay (RETRY_BACKOFF_MAX in core.tasks).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(
        os.getenv("RAPPORT_BROKER_VISIBILITY_TIMEOUT", "3600"))}
CELERY_TASK_DEFAULT_QUEUE = os.getenv("RAPPORT_TASK_QUEUE", "rapport")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # results live in the database, not in a result backend
# Never lose a task to a dying worker: acknowledge only after the task ran, and put it back when
# the process running it is killed; take one message at a time so a dying worker holds few.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env_bool("RAPPORT_TASKS_EAGER", MODE == "test")
CELERY_TASK_EAGER_PROPAGATES = CELERY_TASK_ALWAYS_EAGER
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The scheduled work (celery beat, `rapport scheduler`). Times in TIME_ZONE. Each daily job fans
# out one task per practice, and a practice's episodes or clients in chunks, so several workers
# share it.
DAILY_HOUR = int(os.getenv("RAPPORT_DAILY_HOUR", "3"))
# An episode's findings refresh: a worker's claim on it lapses after FINDINGS_CLAIM_SECONDS (it
# died), and every FINDINGS_SWEEP_SECONDS episodes left behind are queued again.
FINDINGS_CLAIM_SECONDS = int(os.getenv("RAPPORT_FINDINGS_CLAIM_SECONDS", "60"))
FINDINGS_SWEEP_SECONDS = int(os.getenv("RAPPORT_FINDINGS_SWEEP_SECONDS", "60"))
# How often due check-in links are emailed (the demo: often, so it shows within a minute).
INVITATION_SECONDS = int(os.getenv("RAPPORT_INVITATION_SECONDS", "20" if MODE == "demo" else "300"))
CELERY_BEAT_SCHEDULE = {
    "refresh-findings-daily": {
        "task": "rapport.alerts.tasks.refresh_findings",
        "schedule": crontab(hour=DAILY_HOUR, minute=0),
    },
    "apply-retention-daily": {
        "task": "rapport.privacy.tasks.apply_retention",
        "schedule": crontab(hour=DAILY_HOUR, minute=30),
    },
    "pending-findings": {  # catches an episode whose refresh was lost (a crash)
        "task": "rapport.alerts.tasks.refresh_pending_findings",
        "schedule": float(FINDINGS_SWEEP_SECONDS),
    },
    "send-due-invitations": {  # idempotent, as the reminders: one row claimed per invitation
        "task": "rapport.scheduling.tasks.send_checkin_invitations",
        "schedule": float(INVITATION_SECONDS),
    },
    "escalate-urgent-alerts": {  # unacknowledged urgent alerts go to the supervisor; retries
        "task": "rapport.alerts.notify_tasks.escalate_urgent_alerts",
        "schedule": 120.0,
    },
    "mark-missed-checkins": {  # each closed, unanswered check-in once (webhooks react)
        "task": "rapport.checkins.tasks.mark_missed_checkins",
        "schedule": 900.0,
    },
    "sweep-webhook-deliveries": {  # a delivery whose queued attempt was lost is sent again
        "task": "rapport.webhooks.tasks.sweep_deliveries",
        "schedule": 900.0,
    },
    "send-session-reminders": {  # idempotent: a reminder is claimed once before it is sent
        "task": "rapport.scheduling.tasks.send_session_reminders",
        "schedule": float(INVITATION_SECONDS),
    },
}
