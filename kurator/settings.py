"""Kurator settings: every deployment-specific value comes from the environment.

With no environment at all Kurator runs on an embedded SQLite database under ``var/`` with DEBUG on,
which is what ``make run`` needs on a fresh laptop. Production sets DATABASE_URL, SECRET_KEY,
DEBUG=0, ALLOWED_HOSTS and REDIS_URL.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from kurator.core.storage import default_storage_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KURATOR_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
# HTTPS-only cookies, redirects and HSTS: on by default whenever DEBUG is off. `make run` serves the product
# locally with DEBUG=0 HTTPS=0 (real error pages, compressed static files, plain http on 127.0.0.1).
HTTPS = env_bool("HTTPS", not DEBUG)


def _local_secret_key() -> str:
    """A random key kept under var/ for a local install; a real deployment sets SECRET_KEY."""
    if HTTPS:
        raise RuntimeError("SECRET_KEY must be set in production (HTTPS on)")
    path = VAR_DIR / "secret_key"
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or _local_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "simple_history",
    "rules.apps.AutodiscoverRulesConfig",
    "kurator.core",
    "kurator.accounts",
    "kurator.access",
    "kurator.companies",
    "kurator.activities",
    "kurator.inquiries",
    "kurator.sales",
    "kurator.finance",
    "kurator.documents",
    "kurator.ui",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kurator.core.middleware.SecurityHeadersMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

if not DEBUG:
    # In production WhiteNoise serves the collected static files; in development runserver does.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "kurator.urls"
WSGI_APPLICATION = "kurator.wsgi.application"
ASGI_APPLICATION = "kurator.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kurator.access.context_processors.access",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'kurator.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if "DATABASE_URL" not in os.environ:
    # The embedded default: its folder must exist before the first command touches the database.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server and a background job read and write at the same time.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Covering indexes (INCLUDE) are a PostgreSQL speed-up; SQLite ignores the extra columns, which is fine
    # for the embedded database, so its warning would only alarm whoever runs `make run`.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "companies:list"
LOGOUT_REDIRECT_URL = "login"

AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Argon2 for new and changed passwords (R4); the older hashers only read passwords stored before, and Django
# re-hashes those with Argon2 at the next successful sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("KURATOR_PASSWORD_MIN_LENGTH", "10"))},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "kurator" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    # The local disk under MEDIA_ROOT, or an S3-compatible bucket when KURATOR_S3_BUCKET is set.
    "default": default_storage_config(os.environ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Celery: with no broker the jobs run in-process (the embedded default); production sets REDIS_URL.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE

# Periodic jobs (reminders, D10): Celery beat runs them with Redis; without Redis a thread of the web server
# does (kurator.activities.scheduler), unless KURATOR_INPROCESS_JOBS=0. Every job is idempotent.
KURATOR_JOB_INTERVAL_SECONDS = int(os.environ.get("KURATOR_JOB_INTERVAL_SECONDS", "300"))
KURATOR_INPROCESS_JOBS = env_bool("KURATOR_INPROCESS_JOBS", not REDIS_URL)
CELERY_BEAT_SCHEDULE = {
    "send-reminders": {
        "task": "kurator.activities.tasks.send_reminders",
        "schedule": float(KURATOR_JOB_INTERVAL_SECONDS),
    },
}
# Birthdays of clients and of their leaders are reminded this many days ahead, and again on the day (D10).
KURATOR_BIRTHDAY_REMINDER_DAYS = int(os.environ.get("KURATOR_BIRTHDAY_REMINDER_DAYS", "7"))
# Where users open Kurator: links in e-mails and calendar entries are made from it.
KURATOR_BASE_URL = os.environ.get("KURATOR_BASE_URL", "http://127.0.0.1:8000")

# E-mail: SMTP when EMAIL_HOST is set, else printed to the console (the embedded default).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", bool(EMAIL_HOST) and not EMAIL_USE_SSL)
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "465" if EMAIL_USE_SSL else "587" if EMAIL_USE_TLS else "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Kurator <kurator@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kurator.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["kurator.access.api.PolicyPermission"],
    "DEFAULT_PAGINATION_CLASS": "kurator.core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kurator.core.api.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kurator.core.schema.add_error_responses",
    ],
    "TITLE": "Kurator API",
    "DESCRIPTION": "The public API of Kurator, a CRM for B2B sales departments.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Tags and operation ids come from the resource name (companies, contacts …), not from "v1".
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Swagger UI is served from the drf-spectacular-sidecar package: the docs page needs no network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several resources have a "status"; each choice set gets its own stable name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "CompanyStatusEnum": "kurator.companies.models.CompanyStatus",
        "InquiryStatusEnum": "kurator.inquiries.models.InquiryStatus",
        "ImportStatusEnum": "kurator.inquiries.models.ImportStatus",
        "StageKindEnum": "kurator.sales.models.StageKind",
        "ActivityKindEnum": "kurator.activities.models.ActivityKind",
        "ContractStatusEnum": "kurator.finance.models.ContractStatus",
        "ObligationPartyEnum": "kurator.finance.models.ObligationParty",
        "OrderStatusEnum": "kurator.finance.models.OrderStatus",
        "ApprovalStatusEnum": "kurator.finance.models.ApprovalStatus",
        "InvoiceStatusEnum": "kurator.finance.models.InvoiceStatus",
        "PaymentSourceEnum": "kurator.finance.models.PaymentSource",
        "ReviewStatusEnum": "kurator.finance.models.ReviewStatus",
        "CollectionKindEnum": "kurator.finance.models.CollectionKind",
        "StatementSourceEnum": "kurator.finance.models.StatementSource",
        "ConflictSeverityEnum": "kurator.finance.models.ConflictSeverity",
        "ConflictStatusEnum": "kurator.finance.models.ConflictStatus",
        "HistoryObjectTypeEnum": ["company", "bank_account", "contact"],
        "HistoryActionEnum": ["created", "changed", "deleted"],
        "AccessRequestStatusEnum": "kurator.access.models.AccessRequestStatus",
        "AuditActionEnum": "kurator.access.models.AuditAction",
        "DocumentSectionEnum": "kurator.documents.models.DocumentSection",
    },
}

SESSION_COOKIE_HTTPONLY = True
# A session ends after this many hours, and when the browser closes (a shared office computer).
SESSION_COOKIE_AGE = int(float(os.environ.get("KURATOR_SESSION_HOURS", "12")) * 3600)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("KURATOR_SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# The CSRF cookie stays readable by scripts: the deal board (sales/board.js) reads it for its fetch() calls.
# An HttpOnly CSRF cookie protects nothing anyway (Django's docs): the token is in every page's forms.
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content Security Policy and Permissions-Policy (kurator.core.middleware): KURATOR_CSP replaces the whole
# policy; KURATOR_CSP_REPORT_ONLY=1 only reports violations (to try a stricter policy on a live install);
# KURATOR_EMBED_FRAME_ANCESTORS says which sites may show the public inquiry form in an <iframe>.
KURATOR_CSP = os.environ.get("KURATOR_CSP", "")
KURATOR_CSP_REPORT_ONLY = env_bool("KURATOR_CSP_REPORT_ONLY", False)
KURATOR_EMBED_FRAME_ANCESTORS = os.environ.get("KURATOR_EMBED_FRAME_ANCESTORS", "*")
KURATOR_PERMISSIONS_POLICY = os.environ.get("KURATOR_PERMISSIONS_POLICY", "")
# Sign-in lock-out (kurator.accounts.throttle): this many failures for one username within the period lock it
# for the period; this many failures from one address lock the address (behind a proxy set
# KURATOR_TRUSTED_PROXY_COUNT, or the whole office shares one counter).
KURATOR_LOGIN_MAX_FAILURES = int(os.environ.get("KURATOR_LOGIN_MAX_FAILURES", "5"))
KURATOR_LOGIN_LOCKOUT_MINUTES = float(os.environ.get("KURATOR_LOGIN_LOCKOUT_MINUTES", "15"))
KURATOR_LOGIN_MAX_FAILURES_PER_IP = int(os.environ.get("KURATOR_LOGIN_MAX_FAILURES_PER_IP", "20"))
if HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# A dossier section not updated for this many days is marked stale (D11).
KURATOR_STALE_AFTER_DAYS = int(os.environ.get("KURATOR_STALE_AFTER_DAYS", "180"))

# The client-list import (S1): the largest file accepted, and the most rows read from one file.
KURATOR_IMPORT_MAX_BYTES = int(os.environ.get("KURATOR_IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
KURATOR_IMPORT_MAX_ROWS = int(os.environ.get("KURATOR_IMPORT_MAX_ROWS", "100000"))

# The public inquiry form (R2): submissions per client IP per window, and how many proxies in front of Kurator
# add themselves to X-Forwarded-For (behind nginx set 1, or every visitor shares the proxy's rate limit).
KURATOR_PUBLIC_FORM_RATE_LIMIT = int(os.environ.get("KURATOR_PUBLIC_FORM_RATE_LIMIT", "5"))
KURATOR_PUBLIC_FORM_RATE_WINDOW = int(os.environ.get("KURATOR_PUBLIC_FORM_RATE_WINDOW", "600"))
KURATOR_TRUSTED_PROXY_COUNT = int(os.environ.get("KURATOR_TRUSTED_PROXY_COUNT", "0"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Credit control (D6): a new order for a client with an invoice overdue by more than this many days needs the
# head of sales' approval, as does one that takes the client over its credit limit.
KURATOR_CREDIT_OVERDUE_DAYS = int(os.environ.get("KURATOR_CREDIT_OVERDUE_DAYS", "30"))
# Restricted access (R4): the longest a grant may run, in days from today.
KURATOR_ACCESS_GRANT_MAX_DAYS = int(os.environ.get("KURATOR_ACCESS_GRANT_MAX_DAYS", "90"))
# The bank statement import (D6): the largest file accepted.
KURATOR_BANK_STATEMENT_MAX_BYTES = int(
    os.environ.get("KURATOR_BANK_STATEMENT_MAX_BYTES", str(10 * 1024 * 1024))
)

# The dossier's documents (D12): the largest file accepted (25 MiB), and the days a document stays in the
# trash before the administrator may purge it for good.
KURATOR_DOCUMENT_MAX_BYTES = int(os.environ.get("KURATOR_DOCUMENT_MAX_BYTES", str(25 * 1024 * 1024)))
KURATOR_DOCUMENT_RETENTION_DAYS = int(os.environ.get("KURATOR_DOCUMENT_RETENTION_DAYS", "365"))

# Backups (D12, `manage.py backup` / `restore`): where archives go by default, and the folder of the
# PostgreSQL client programs when those on PATH are older than the server (e.g. /usr/lib/postgresql/16/bin).
KURATOR_BACKUP_DIR = Path(os.environ.get("KURATOR_BACKUP_DIR", VAR_DIR / "backups"))
KURATOR_PG_BIN_DIR = os.environ.get("KURATOR_PG_BIN_DIR", "")
