"""Settings, driven entirely by the environment (see the README's table).

Every variable is optional for development: the defaults give an embedded setup (SQLite, a file-system Celery
broker and generated development keys, all under SUBSIDY_DATA_DIR). Production sets DEBUG=0, SECRET_KEY,
the PII keys, DATABASE_URL and CELERY_BROKER_URL.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("SUBSIDY_DATA_DIR") or BASE_DIR / "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
# Off unless turned on: the development commands (`make run`, `manage.py demo`, the tests) set DEBUG=1.
DEBUG = env_bool("DEBUG", False)


def _development_secret(filename: str, generate) -> str:
    """Read a development secret from the data folder, creating it on first start.

    Only used while DEBUG is on: production must provide every secret through the environment.
    """
    path = DATA_DIR / "keys" / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(generate())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic: two processes starting at once keep the first key
        except FileExistsError:
            pass
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def _fernet_key() -> str:
    return Fernet.generate_key().decode()


def _required_secret(name: str, filename: str, generate) -> str:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if not DEBUG:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")
    return _development_secret(filename, generate)


SECRET_KEY = _required_secret("SECRET_KEY", "secret_key", lambda: secrets.token_urlsafe(50))
# Comma-separated Fernet keys: the first encrypts, all decrypt (MultiFernet), so keys can rotate.
PII_ENCRYPTION_KEYS = [
    k.strip()
    for k in _required_secret("PII_ENCRYPTION_KEYS", "pii_fernet_keys", _fernet_key).split(",")
    if k.strip()
]
# HMAC keys for the lookup hashes of ID numbers, phones and bank accounts. PII_HASH_KEYS (comma-separated) lets
# the key rotate: the first computes every new hash, all are tried on lookup until `manage.py rotate_keys` has
# recomputed every stored hash under the first. PII_HASH_KEY is the single-key form.
PII_HASH_KEYS = [
    k.strip()
    for k in (
        os.environ.get("PII_HASH_KEYS", "").strip()
        or _required_secret("PII_HASH_KEY", "pii_hash_key", lambda: secrets.token_hex(32))
    ).split(",")
    if k.strip()
]
PII_HASH_KEY = PII_HASH_KEYS[0]
MIN_HASH_KEY_BYTES = 32


def _check_keys() -> None:
    """Refuse to start with keys that are not what they must be: a clear message instead of weak secrets."""
    for key in PII_ENCRYPTION_KEYS:
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                "PII_ENCRYPTION_KEYS: each key must be a Fernet key (32 url-safe base64-encoded bytes; "
                "make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from None
    if not PII_ENCRYPTION_KEYS:
        raise ImproperlyConfigured("PII_ENCRYPTION_KEYS must hold at least one Fernet key")
    for key in PII_HASH_KEYS:
        if len(key.encode()) < MIN_HASH_KEY_BYTES:
            raise ImproperlyConfigured(
                f"PII_HASH_KEY / PII_HASH_KEYS: each key must be at least {MIN_HASH_KEY_BYTES} bytes "
                "(make one with: python -c 'import secrets; print(secrets.token_hex(32))')"
            )


_check_keys()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "claims",
]

MIDDLEWARE = [
    # First: an oversized body is refused from its Content-Length before anything reads it.
    "subsidy.errors.RequestBodyLimitMiddleware",
    "subsidy.errors.InfrastructureErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Control characters, unparsable bodies and files where text is expected: a 400 before any view runs.
    "claims.api.input_guard.InputGuardMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "subsidy.urls"
WSGI_APPLICATION = "subsidy.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'subsidy.sqlite3'}"
# Persistent connections on PostgreSQL: opening one costs more than a whole /healthz answer (measured: 166 req/s
# with a new connection per request, 1,077 with persistent ones). The health check at the start of each request
# drops a connection the server closed (a restart), so a restart costs one reconnect, not an error.
_DEFAULT_CONN_MAX_AGE = "0" if DATABASE_URL.startswith("sqlite") else "60"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", _DEFAULT_CONN_MAX_AGE)),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on the busy timeout instead of
    # failing with "database is locked" when a read transaction tries to upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: revokes the user's API tokens whenever their password changes.
    {"NAME": "claims.accounts.tokens.RevokeTokensOnPasswordChange"},
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ENABLED = env_bool("AXES_ENABLED", True)
# The lockout counts failures per client address as the rest of the project determines it (see TRUSTED_PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "claims.network.axes_client_ip"
# Staff API tokens expire this many hours after they were issued; a password change invalidates them at once.
STAFF_TOKEN_HOURS = float(os.environ.get("STAFF_TOKEN_HOURS", "12"))

# --- Locale and time --------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Claim documents live here, outside any public URL; staff see them only through an authorised view.
DOCUMENTS_DIR = DATA_DIR / "documents"
EXPORTS_DIR = DATA_DIR / "exports"
# Exported bank payout files are deleted this many days after they were written (the batch's record stays).
BANK_FILE_RETENTION_DAYS = int(os.environ.get("BANK_FILE_RETENTION_DAYS", "90"))
MEDIA_ROOT = DATA_DIR / "media"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 10
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_PIXELS = int(os.environ.get("MAX_DOCUMENT_PIXELS", str(40_000_000)))
# Staged uploads (documents sent before the claim): unused ones are deleted after this many hours; caps on the
# unused bytes and count per client address and on the unused bytes in total.
STAGED_UPLOAD_TTL_HOURS = int(os.environ.get("STAGED_UPLOAD_TTL_HOURS", "24"))
STAGED_UPLOAD_MAX_COUNT_PER_ADDRESS = int(os.environ.get("STAGED_UPLOAD_MAX_COUNT_PER_ADDRESS", "40"))
STAGED_UPLOAD_MAX_BYTES_PER_ADDRESS = int(
    os.environ.get("STAGED_UPLOAD_MAX_BYTES_PER_ADDRESS", str(150 * 1024 * 1024))
)
STAGED_UPLOAD_MAX_BYTES_TOTAL = int(os.environ.get("STAGED_UPLOAD_MAX_BYTES_TOTAL", str(20 * 1024**3)))
# Benchmarks only: mounts /bench/bare-reserve (the budget row's bare limit). Never set in production.
BENCH_BARE_VIEW = env_bool("BENCH_BARE_VIEW", False)
MAX_PDF_PAGES = 5
# Every PDF and image is parsed in a child process under these limits (subsidy/isolation.py); a file over them is
# refused as invalid_file at upload. The memory is what the child may add to the process it was forked from.
DOCUMENT_ISOLATION = env_bool("DOCUMENT_ISOLATION", True)
DOCUMENT_MEMORY_LIMIT_MB = int(os.environ.get("DOCUMENT_MEMORY_LIMIT_MB", "160"))
DOCUMENT_CPU_LIMIT_SECONDS = int(os.environ.get("DOCUMENT_CPU_LIMIT_SECONDS", "8"))
DOCUMENT_TIME_LIMIT_SECONDS = float(os.environ.get("DOCUMENT_TIME_LIMIT_SECONDS", "20"))
# The largest request body read at all (checked on Content-Length before anything is spooled to disk): the five
# documents at their limit plus the form fields.
MAX_REQUEST_BODY_BYTES = int(
    os.environ.get("MAX_REQUEST_BODY_BYTES", str(5 * MAX_DOCUMENT_BYTES + 1024 * 1024))
)

# --- Security -------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"  # the stored-document view allows its own same-origin frame
# How many reverse proxies in front of the application append to X-Forwarded-For. 0: the socket's peer is the
# client and X-Forwarded-For is ignored (anyone can write it). N: the N-th entry from the right is the client.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
# X-Forwarded-Proto is believed only when the proxy in front says so (and strips what clients send).
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# /healthz answers plain HTTP probes from inside the network even when every other URL redirects to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]

# --- REST framework -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "claims.accounts.tokens.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "claims.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "lookup": os.environ.get("LOOKUP_RATE", "30/min"),
        "submit": os.environ.get("SUBMIT_RATE", "60/min"),
        "auth": os.environ.get("AUTH_RATE", "20/min"),
        "recover": os.environ.get("RECOVER_RATE", "5/hour"),
        "upload": os.environ.get("UPLOAD_RATE", "60/min"),
        "check": os.environ.get("CHECK_RATE", "60/min"),
        # Attempts on one claim number (lookup, withdrawal, correction, bank details) from any address.
        "claim_number": os.environ.get("CLAIM_NUMBER_RATE", "20/hour"),
    },
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "汽车消费补贴核补系统 API",
    "DESCRIPTION": "Public contract v1: programs, claims, staff review and payouts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the installed sidecar package, not a CDN: the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Cache (rate limits, idempotency locks) -------------------------------------------------------------
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith("redis://"):
    # A cache outage (e.g. the broker's Redis down) falls back to per-process limits: it never stops the site.
    CACHES = {"default": {"BACKEND": "subsidy.cache.ResilientRedisCache", "LOCATION": CACHE_URL}}
else:
    # File cache: shared by every process on one machine (rate limits across gunicorn workers), no server needed.
    CACHES = {
        "default": {
            "BACKEND": "subsidy.cache.ResilientFileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# --- Celery -----------------------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
CELERY_BROKER_DIR = DATA_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (CELERY_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        # Broadcast (worker control) messages too, instead of a `control/` folder in the working directory.
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # A message a worker took but never acknowledged (the worker was killed with its parent) is delivered again
    # after visibility_timeout; it must exceed the longest task run (CELERY_TASK_TIME_LIMIT) or a slow task would
    # run twice. The database sweeps below re-queue lost work sooner than that.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "300")),
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
    }
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A submission must not hang on a broker that is down: two quick tries, then the claim is kept and the sweep
# queues its work when the broker is back.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 1,
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "120"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "180"))
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# Every periodic task in one place. Each is a sweep over what the database says is due, so a missed or doubled
# run changes nothing.
# How often the database sweeps run, and how long a document may wait for its reading before it is queued again
# (lost message, broker down at submission, worker killed). Worst case after the broker or worker is back:
# OCR_STALE_SECONDS + OCR_SWEEP_SECONDS + the reading itself, under two minutes with the defaults.
OCR_SWEEP_SECONDS = float(os.environ.get("OCR_SWEEP_SECONDS", "30"))
OCR_STALE_SECONDS = float(os.environ.get("OCR_STALE_SECONDS", "60"))
PAYOUT_SWEEP_SECONDS = float(os.environ.get("PAYOUT_SWEEP_SECONDS", "300"))
# A gateway payout left pending or without a known outcome this long is sent or asked about again by the sweep.
PAYOUT_STALE_SECONDS = float(os.environ.get("PAYOUT_STALE_SECONDS", "300"))
CELERY_BEAT_SCHEDULE = {
    # Returned claims not corrected by their deadline expire (the deadline is a date: hourly is plenty).
    "claims-expire-returned": {"task": "claims.review.expire_returned", "schedule": crontab(minute=5)},
    # Payout-failed claims without new bank details within payout_fix_days expire (money released).
    "claims-expire-payout-failed": {
        "task": "claims.review.expire_payout_failed",
        "schedule": crontab(minute=7),
    },
    # Programs past the end of their claim window close; their waitlisted claims become unfunded.
    "programs-close-due": {"task": "claims.programs.close_due", "schedule": crontab(minute=10)},
    # Approved claims without a payout instruction, and gateway payouts left pending, are queued again.
    "payouts-sweep": {"task": "claims.payouts.sweep", "schedule": PAYOUT_SWEEP_SECONDS},
    # Documents never read (e.g. the broker was down at submission) or stuck pending are queued again.
    "ocr-sweep-unread": {"task": "claims.checks.sweep_unread", "schedule": OCR_SWEEP_SECONDS},
    # Files of submissions interrupted between storing and committing (a killed web process) are removed.
    "documents-sweep-journal": {"task": "claims.intake.sweep_journal", "schedule": crontab(minute="*/10")},
    # The public ledger: every program with claims approved or paid since its last publication, once a day.
    "ledger-publish": {"task": "claims.ledger.publish", "schedule": crontab(hour=18, minute=0)},
    # SMS still pending (the broker was down at commit, a worker died, a provider was busy) are queued again.
    "notifications-sweep": {"task": "claims.notifications.sweep", "schedule": crontab(minute="*/2")},
    # Reminders 3 days before a correction or bank-details deadline (idempotent: one per claim and deadline).
    "notifications-reminders": {
        "task": "claims.notifications.reminders",
        "schedule": crontab(hour="9,15", minute=0),
    },
    # Staged uploads unused for 24 hours are deleted with their files.
    "intake-purge-uploads": {"task": "claims.intake.purge_uploads", "schedule": crontab(minute=35)},
    # Exported bank files (every full account number of a batch) past BANK_FILE_RETENTION_DAYS are deleted.
    "payouts-purge-bank-files": {
        "task": "claims.payouts.purge_bank_files",
        "schedule": crontab(hour=2, minute=20),
    },
}

# --- SMS notifications --------------------------------------------------------------------------------------
# A dotted path: the file backend (default) appends JSON lines to SMS_OUTBOX_FILE; the Alibaba Cloud backend is
# claims.notifications.backends.AliyunSmsBackend with the ALIYUN_SMS_* settings below.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "claims.notifications.backends.FileBackend")
SMS_OUTBOX_FILE = Path(os.environ.get("SMS_OUTBOX_FILE") or DATA_DIR / "outbox" / "sms.jsonl")
SMS_HTTP_TIMEOUT = float(os.environ.get("SMS_HTTP_TIMEOUT", "10"))
ALIYUN_SMS_ACCESS_KEY_ID = os.environ.get("ALIYUN_SMS_ACCESS_KEY_ID", "")
ALIYUN_SMS_ACCESS_KEY_SECRET = os.environ.get("ALIYUN_SMS_ACCESS_KEY_SECRET", "")
ALIYUN_SMS_SIGN_NAME = os.environ.get("ALIYUN_SMS_SIGN_NAME", "")
ALIYUN_SMS_TEMPLATE_CODE = os.environ.get("ALIYUN_SMS_TEMPLATE_CODE", "")
ALIYUN_SMS_TEMPLATE_CODES = json.loads(os.environ.get("ALIYUN_SMS_TEMPLATE_CODES") or "{}")
ALIYUN_SMS_ENDPOINT = os.environ.get("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
ALIYUN_SMS_REGION = os.environ.get("ALIYUN_SMS_REGION", "cn-hangzhou")

# --- Payouts ----------------------------------------------------------------------------------------------
# Empty: payouts go to the bank as batch files. Set: each payout is sent through the bank's payment API.
PAYOUT_GATEWAY_URL = os.environ.get("PAYOUT_GATEWAY_URL", "")
PAYOUT_GATEWAY_TOKEN = os.environ.get("PAYOUT_GATEWAY_TOKEN", "")
PAYOUT_GATEWAY_TIMEOUT = float(os.environ.get("PAYOUT_GATEWAY_TIMEOUT", "10"))
PAYOUT_GATEWAY_MAX_ATTEMPTS = int(os.environ.get("PAYOUT_GATEWAY_MAX_ATTEMPTS", "4"))

# --- OCR ----------------------------------------------------------------------------------------------------
OCR_ENGINES = env_list("OCR_ENGINES", "rapidocr,tesseract")
OCR_TIMEOUT_SECONDS = int(os.environ.get("OCR_TIMEOUT_SECONDS", "60"))

# --- Logging ----------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "pikepdf": {"level": "WARNING"}},
}
