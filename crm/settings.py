"""Settings for the investment-attraction CRM.

Everything comes from the environment, with embedded defaults that need no server at all:
SQLite under var/ and Celery's filesystem broker, so `make run` works on a bare laptop.
`DJANGO_ENV=production` switches on the hardened settings that `check --deploy` expects.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CRM_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DJANGO_ENV = os.environ.get("DJANGO_ENV", "development")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env_bool("DEBUG", not PRODUCTION)
# The development key is public on purpose; production refuses to start without its own.
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "" if PRODUCTION else "dev-only-insecure-key-do-not-use-in-production-3f9a1c7e5b"
)
if PRODUCTION and not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when DJANGO_ENV=production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# A refused CSRF token gets the product's 403 page in the reader's language, not Django's.
CSRF_FAILURE_VIEW = "crm.core.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "django_htmx",
    "csp",
    # The floor: shared by every app.
    "crm.core",
    "crm.accounts",
    "crm.org",
    "crm.notifications",
    "crm.audit",
    # Business apps.
    "leads",
    "parks",
    "funds",
    # The roof: composes every app.
    "crm.dashboards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Early, so that every response (a 413 or a static file too) carries the policies.
    "csp.middleware.CSPMiddleware",
    "crm.core.security_middleware.PermissionsPolicyMiddleware",
    # Before anything reads the body (CSRF, sessions' POST, the views).
    "crm.core.security_middleware.RequestBodyLimitMiddleware",
    "crm.core.security_middleware.NonceTemplateMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "crm.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm.core.middleware.LoginRequiredMiddleware",
    # After authentication: it logs the 403s of signed-in users (crm/audit).
    "crm.audit.middleware.DeniedAttemptMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.core.middleware.BadParameterMiddleware",
    # Last, as django-axes asks, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm.urls"
FORM_RENDERER = "crm.core.forms.CrmFormRenderer"
WSGI_APPLICATION = "crm.wsgi.application"
ASGI_APPLICATION = "crm.asgi.application"

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
                "crm.core.context_processors.navigation",
                "crm.notifications.context_processors.inbox",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DEFAULT_SQLITE_URL = f"sqlite:///{VAR_DIR / 'crm.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_SQLITE_URL),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
USING_SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
if USING_SQLITE:
    # Web, worker and beat share one file: WAL lets readers run beside the writer, IMMEDIATE
    # transactions take the write lock up front (no lock-upgrade deadlocks), and the timeout
    # makes a writer wait instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    # Session settings for PostgreSQL (issue 8, measured at 200,000 projects): JIT compilation
    # cost more than it saved on every report query (hundreds of ms per aggregate), and the
    # default 4 MB work_mem sent the reports' hash aggregates to disk. Override with
    # DATABASE_SESSION_OPTIONS (libpq "options" syntax).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = os.environ.get(
        "DATABASE_SESSION_OPTIONS", "-c jit=off -c work_mem=32MB")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Several installations (or test runs) sharing one Redis keep apart by prefix.
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": REDIS_URL, "KEY_PREFIX": CACHE_KEY_PREFIX}
    }
else:
    # Web, worker and beat are three processes: a file cache is one cache for all three, so
    # a write in the worker invalidates the dashboards the web server has cached
    # (crm/core/figures.py) and import progress published by the worker is seen by the page.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache"), "KEY_PREFIX": CACHE_KEY_PREFIX}}

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling: 10 failures within an hour lock that username from that address for an
# hour. Keyed on (username, ip) so one mistyping colleague cannot lock out a whole office NAT.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The address is the one the audit log records (crm.core.http.client_ip): REMOTE_ADDR, or behind
# TRUSTED_PROXY_COUNT proxies the address the outermost one saw. Without this, behind a reverse
# proxy every login came from the proxy, and ten bad tries locked a user out for the whole office.
AXES_CLIENT_IP_CALLABLE = "crm.core.http.client_ip"

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end packages installed by npm at install time (see package.json); never a CDN.
STATICFILES_DIRS = [
    BASE_DIR / "crm" / "static",
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
    # Searchable selects with chips for multiple values (crm/static/crm/js/app.js).
    ("vendor/tom-select", BASE_DIR / "node_modules" / "tom-select" / "dist"),
    # The CJK web font (app.css @imports the weights it uses); icons are inlined from
    # node_modules/lucide-static by crm.core.templatetags.icons, so they need no entry here.
    ("vendor/noto-sans-sc", BASE_DIR / "node_modules" / "@fontsource" / "noto-sans-sc"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Development serves static files from the finders; production from collectstatic output.
WHITENOISE_USE_FINDERS = not PRODUCTION
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Uploads: refuse anything over this size (bytes) before reading it; see crm.core.uploads.
MAX_UPLOAD_SIZE = int(os.environ.get("MAX_UPLOAD_SIZE", str(20 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_SIZE
# Any request declaring a bigger body is refused with 413 before it is read
# (crm.core.security_middleware). Above MAX_UPLOAD_SIZE by room for a multipart form's other
# fields and boundaries, so a file at the upload limit still gets the upload check's message.
MAX_REQUEST_BODY_SIZE = int(os.environ.get("MAX_REQUEST_BODY_SIZE",
                                           str(MAX_UPLOAD_SIZE + 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Spreadsheet imports: the caps a file is held to before it is read, when a file is checked by
# a worker instead of the request, and when a job whose worker died is swept as failed. Each
# default lives, with the reason for its value, beside the code that uses it (leads/imports/
# reading.py, services.py, jobs.py); set the environment variable only to change one.
for _name in ("IMPORT_MAX_ROWS", "IMPORT_MAX_COLUMNS", "IMPORT_MAX_CELL_CHARS",
              "IMPORT_MAX_UNPACKED_BYTES", "IMPORT_MAX_COMPRESSION_RATIO", "IMPORT_STALE_SECONDS",
              "LEADS_IMPORT_ASYNC_THRESHOLD_BYTES", "LEADS_IMPORT_ASYNC_THRESHOLD_ROWS"):
    if os.environ.get(_name):
        globals()[_name] = int(os.environ[_name])

# --- Lists and exports ----------------------------------------------------------------------
# Lists count exactly up to this many rows, then show PostgreSQL's estimate
# (crm/core/pagination.py explains the default).
LIST_EXACT_COUNT_CAP = int(os.environ.get("LIST_EXACT_COUNT_CAP", "2000"))
# A filtered list longer than this is refused for export, with the reason (crm/core/exports.py).
EXPORT_MAX_ROWS = int(os.environ.get("EXPORT_MAX_ROWS", "20000"))

# --- Email ------------------------------------------------------------------------------------
# Without SMTP settings, mail is written as files under var/mail/ so the demo shows it.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
else:
    EMAIL_BACKEND = os.environ.get(
        "EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
    )
    EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "crm@localhost")
MAIL_DOMAIN = DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1]
# Absolute links in emails and IM messages point here.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# --- Reminders ----------------------------------------------------------------------------------
# Email and IM reminders go out in office hours (Asia/Shanghai); the in-app inbox fills anytime.
REMINDERS_OFFICE_HOURS_ONLY = env_bool("REMINDERS_OFFICE_HOURS_ONLY", True)
REMINDERS_OFFICE_HOURS = tuple(os.environ.get("REMINDERS_OFFICE_HOURS", "08:30-18:00").split("-"))
REMINDERS_WEEKDAYS_ONLY = env_bool("REMINDERS_WEEKDAYS_ONLY", True)
# How often beat scans for due reminders and re-enqueues unsent deliveries (seconds).
REMINDERS_SCAN_INTERVAL = int(os.environ.get("REMINDERS_SCAN_INTERVAL", "300"))
REMINDERS_SWEEP_INTERVAL = int(os.environ.get("REMINDERS_SWEEP_INTERVAL", "120"))
# A delivery claimed longer ago than this is taken to have died with its worker.
REMINDERS_CLAIM_TIMEOUT = int(os.environ.get("REMINDERS_CLAIM_TIMEOUT", "300"))
# Waits between retries of a transient failure (seconds); all far below the visibility timeout.
REMINDERS_RETRY_BACKOFF = [int(x) for x in
                           os.environ.get("REMINDERS_RETRY_BACKOFF", "10,30,90,270").split(",")]
# The only hosts a robot webhook URL may point at (https, public addresses only: see
# crm/notifications/webhooks.py). Default: the WeCom and DingTalk group-robot hosts. An entry
# written as an origin ("http://10.1.2.3:8080") trusts that one endpoint as written.
WEBHOOK_ALLOWED_HOSTS = [h.strip() for h in os.environ.get(
    "WEBHOOK_ALLOWED_HOSTS", "qyapi.weixin.qq.com,oapi.dingtalk.com").split(",") if h.strip()]
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first, so an anonymous API call gets 401 with WWW-Authenticate rather than 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.accounts.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "crm.core.api.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crm.core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + ([] if PRODUCTION else ["rest_framework.renderers.BrowsableAPIRenderer"]),
}
# API tokens (django-rest-knox, issue "Hardening" item 8): each login issues a new token that
# expires after this many days; only its hash is stored. Issued by crm.accounts.services.
API_TOKEN_TTL_DAYS = int(os.environ.get("API_TOKEN_TTL_DAYS", "30"))
if API_TOKEN_TTL_DAYS < 1:
    # knox reads "no TTL" as "never expires", the very thing this setting exists to prevent.
    raise RuntimeError("API_TOKEN_TTL_DAYS must be a whole number of days, at least 1.")
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",  # the scheme clients already send
    # A token's life is fixed at login; refreshing on use would make a leaked token immortal.
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Investment Attraction CRM API",
    "DESCRIPTION": "招商引资管理平台 API. Authenticate with `Authorization: Token <token>` "
    "or a browser session. POST username and password to /api/v1/auth/token/ for a token: "
    f"every call issues a new one, valid for {API_TOKEN_TTL_DAYS} days (the response's "
    "`expiry`). "
    "List and revoke your tokens at /api/v1/auth/tokens/ (or the page /accounts/tokens/); "
    "changing your password revokes all of them.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI and Redoc from the drf-spectacular-sidecar wheel: no CDN on an intranet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"ApplicationStateEnum": "funds.models.State"},
}

# --- Celery -----------------------------------------------------------------------------------
# Without a broker URL, kombu's filesystem transport passes messages through files under var/,
# so `make run` needs no Redis. Production and tests set REDIS_URL or CELERY_BROKER_URL. The
# transport ignores the host, but without one kombu warns "No hostname was supplied" on start.
CELERY_BROKER_URL = (os.environ.get("CELERY_BROKER_URL") or REDIS_URL
                     or "filesystem://localhost/")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"  # broadcast (fanout) exchanges
    for _d in (_queue_dir, _processed_dir, _control_dir):
        _d.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
        # The transport polls its folder; a second (kombu's default) makes the demo sluggish.
        "polling_interval": 0.2,
    }
else:
    # Unacked messages return to the queue after this; no task may be scheduled (countdown/ETA)
    # further ahead than this, or Redis would redeliver it early.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Security ----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 10  # one office day
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Reverse proxies in front of the app that append to X-Forwarded-For (nginx alone: 1). With 0,
# REMOTE_ADDR is the client and X-Forwarded-For is ignored: a client could forge it to dodge the
# login lockout. Read by crm.core.http.client_ip (lockouts, audit log).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Content-Security-Policy (django-csp): everything from this origin only, and no inline script.
# The one third-party page with an inline script, Swagger UI, gets a per-request nonce
# (crm.core.security_middleware.NonceTemplateMiddleware); htmx is told not to eval (base.html).
# Inline style *attributes* stay allowed: the templates draw progress bars and chart swatches
# with computed style="width:…%" and CSS variables, and script cannot run through a style
# attribute. <style> elements are 'self' (or nonce) only, like scripts (style-src-elem). The
# plain style-src is only for browsers too old for -elem/-attr (before Chrome 75), which would
# otherwise drop those widths; newer ones ignore it once the two are given.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "style-src-elem": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],  # the web font under /static/vendor/noto-sans-sc/
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}
# Browser features no page here uses, switched off for the pages and anything they embed
# (crm.core.security_middleware.PermissionsPolicyMiddleware).
PERMISSIONS_POLICY = {feature: [] for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope",
    "magnetometer", "microphone", "midi", "payment", "usb", "xr-spatial-tracking")}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Periodic work is declared by the app that owns it (crm/core/schedule.py: every()).
