"""Suffrage settings: one file, every deployment choice read from the environment.

Defaults give a local, embedded installation (SQLite, database task queue,
console email). docs/operations.md lists every variable.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Under pytest the suite needs no environment of its own: test-only defaults below.
TESTING = "pytest" in sys.modules
# A fixed key is only acceptable for a local DEBUG run or tests; production sets one.
SECRET_KEY = env("SECRET_KEY") or ("insecure-local-development-key" if DEBUG or TESTING else "")
if not SECRET_KEY:
    raise RuntimeError("Set SECRET_KEY in the environment (or DEBUG=1 for a local run).")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
DATA_DIR = Path(env("DATA_DIR", str(BASE_DIR / "var")))

INSTALLED_APPS = [
    "suffrage.core",
    "suffrage.people",
    "suffrage.imports",
    "suffrage.territory",
    "suffrage.elections",
    "suffrage.roll",
    "suffrage.segments",
    "suffrage.privacy",
    "suffrage.messaging",
    "suffrage.engagement",
    "suffrage.canvassing",
    "suffrage.texting",
    "suffrage.social",
    "suffrage.api",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "django_tasks_rq",
    "django_rq",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "ninja",  # its Swagger UI static files: the API documentation page uses no CDN
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "suffrage.core.middleware.user_language_middleware",
    "suffrage.core.middleware.audit_context_middleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "suffrage.urls"
WSGI_APPLICATION = "suffrage.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "suffrage" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "suffrage.core.context_processors.shell",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# DATABASE_URL selects PostgreSQL (postgres://user@host:5432/name); the default
# is an embedded SQLite file tuned for a web server and a worker writing at once.
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'suffrage.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue on
        # busy_timeout instead of failing with "database is locked" mid-transaction.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
        ),
    }
    # Tests use a file, not memory, so a real worker process can share it.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
else:
    # PostgreSQL's JIT compiles any query it estimates expensive, which a segment
    # count over a large base always is: 1.3 s of compiling for a 2.5 s count.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (login rate limits, TOTP replay protection) ----------------------
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
if env("CACHE", "local") == "redis":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background tasks -----------------------------------------------------------
# TASKS_BACKEND=database (default: a `db_worker` process), rq (Redis workers, for
# horizontal scale) or immediate (runs inline; tests only).
TASKS_BACKEND = env("TASKS_BACKEND", "immediate" if TESTING else "database")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}}

# --- Accounts -----------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
ACCOUNT_ADAPTER = "suffrage.core.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# allauth's own limits, tightened on failed sign-ins: per IP and per account.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env("LOGIN_FAILED_RATE", "10/m/ip,5/5m/key"),
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Suffrage"
# Accept the code of the neighbouring 30-second window: phone clocks drift.
MFA_TOTP_TOLERANCE = 1
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
SESSION_COOKIE_AGE = 60 * 60 * 12
INVITATION_DAYS = 7
# Anyone may create an account (and then a campaign) when on; otherwise accounts
# come from invitations and from `manage.py createcampaign`.
SIGNUP_OPEN = env_bool("SIGNUP_OPEN", False)

# --- Imports ----------------------------------------------------------------
# Limits on uploaded files; each is reported to the user by name when crossed.
IMPORT_LIMITS = {
    "max_bytes": int(env("IMPORT_MAX_MB", "200")) * 1024 * 1024,
    "max_rows": int(env("IMPORT_MAX_ROWS", "2000000")),
    # European results files have about 325 columns (38 lists × 8 + 21).
    "max_columns": int(env("IMPORT_MAX_COLUMNS", "500")),
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Electoral roll matching ----------------------------------------------------
# Splink runs on DuckDB in process (one campaign, a city or a constituency) or on
# Spark for national rolls (`pip install pyspark`; SPARK_MASTER a cluster URL).
ROLL_MATCH_BACKEND = env("ROLL_MATCH_BACKEND", "duckdb")
ROLL_MATCH_MEMORY = env("ROLL_MATCH_MEMORY", "8GB")  # DuckDB's memory limit while matching
SPARK_MASTER = env("SPARK_MASTER", "local[2]")
SPARK_CHECKPOINT_DIR = env("SPARK_CHECKPOINT_DIR", str(DATA_DIR / "spark-checkpoints"))

# --- Maps -----------------------------------------------------------------------
# Maps draw polling stations on a plain background; set a tile URL such as
# "https://tile.example.org/{z}/{x}/{y}.png" to show streets (voters' browsers will fetch from it).
MAP_TILES_URL = env("MAP_TILES_URL")

# --- Email --------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Suffrage <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Privacy -------------------------------------------------------------------
# Key of the suppression list's hashes. Set it once and keep it: a new key makes the
# list forget every address (default: derived from SECRET_KEY).
SUPPRESSION_KEY = env("SUPPRESSION_KEY")

# --- Mailings (messaging app; the campaign's transports are configured in the app) ----
# Links in messages (tracking, unsubscribe) point here: the address voters can reach.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The "local sink" transport (demo, trials) writes what it "sends" into this folder.
MAIL_SINK_DIR = env("MAIL_SINK_DIR", str(DATA_DIR / "mail-sink"))
# Name servers for the senders' DNS check ("" = the system's), e.g. "9.9.9.9,1.1.1.1".
DNS_NAMESERVERS = [server for server in env("DNS_NAMESERVERS").split(",") if server]
# The composer's link check fetches only public addresses unless this is set.
LINK_CHECK_PRIVATE = env_bool("LINK_CHECK_PRIVATE", False)
# The REST and OSDI APIs: calls per minute per token.
API_RATE_LIMIT = int(env("API_RATE_LIMIT", "600"))
# Outbound webhooks refuse private, loopback and link-local addresses unless allowed
# (an operator whose other tools run on the same network).
WEBHOOK_ALLOW_PRIVATE = env_bool("WEBHOOK_ALLOW_PRIVATE", False)
# A webhook is disabled after this many deliveries in a row failed for good; deliveries
# (their payloads hold personal data) are deleted after this many days.
WEBHOOK_DISABLE_AFTER = int(env("WEBHOOK_DISABLE_AFTER", "10"))
WEBHOOK_RETENTION_DAYS = int(env("WEBHOOK_RETENTION_DAYS", "30"))

# --- Languages ----------------------------------------------------------------
LANGUAGE_CODE = env("LANGUAGE_CODE", "fr")
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files -------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "suffrage" / "static"]
# Job outputs (exports, reports) are private: served only through views that
# check the campaign and role, never as public media.
PRIVATE_ROOT = DATA_DIR / "private"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": PRIVATE_ROOT}},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- Security -----------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a TLS-terminating proxy set TRUST_PROXY=1 so request.is_secure() and the
# audit log's IP come from the proxy's headers.
TRUST_PROXY = env_bool("TRUST_PROXY", False)
if TRUST_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    ALLAUTH_TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "1"))
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not TESTING)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    SECURE_SSL_REDIRECT = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
