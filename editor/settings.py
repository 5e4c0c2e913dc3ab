"""Settings for the collaborative editor, read from the environment.

Every knob is an environment variable with a sensible default, so that a fresh
clone runs embedded (SQLite + in-memory channel layer, one process) and the
production set-up is switched on by DATABASE_URL and REDIS_URL alone. The
README lists them all.
"""

import ipaddress
import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from collab import config as collab_config
from editor import forwarded, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "data"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_number(name: str, default: float, cast=float):
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return cast(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a {cast.__name__}, got {value!r}") from None


# Off unless asked for: development mode (`scripts/run --dev`, DEBUG=1) shows
# Django's debug pages, with settings and local variables, to anyone who can
# reach the server.
DEBUG = env_bool("DEBUG", False)

# The key that signs sessions and CSRF tokens: SECRET_KEY, or else the key kept
# in SECRET_KEY_FILE (default <DATA_DIR>/secret_key), generated on first run and
# readable by its owner only (editor/secret_key.py). Processes sharing documents
# through Redis must share one key, and on several hosts each would generate its
# own and sign out the others' users: there the key is never generated (except
# in development mode, whose processes share one data directory).
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if os.environ.get("REDIS_URL") and not os.environ.get("SECRET_KEY_FILE") and not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set (or SECRET_KEY_FILE, a file every process reads) when processes share REDIS_URL"
        )
    try:
        SECRET_KEY = secret_key.read_or_create(Path(os.environ.get("SECRET_KEY_FILE") or DATA_DIR / "secret_key"))
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"Cannot read or create the secret key: {exc}") from exc
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]
# Reverse proxies whose X-Forwarded-For names the client (editor/forwarded.py): comma-separated
# addresses or CIDR blocks. Empty (the embedded set-up): the connection's own address is the client's.
try:
    TRUSTED_PROXIES = forwarded.parse_networks(os.environ.get("TRUSTED_PROXIES", ""))
except ValueError as exc:
    raise ImproperlyConfigured(f"TRUSTED_PROXIES must list addresses or CIDR blocks: {exc}") from None

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "ninja",  # serves the API docs' assets itself (no CDN)
    "axes",  # sign-in throttling (its own tables: migrate)
    "documents",
    "collab",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",  # after WhiteNoise: static files need no policy
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "editor.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "editor.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=int(env_number("CONN_MAX_AGE", 60, int)),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Persistence writes from several threads: WAL lets readers go on while
    # one writes, IMMEDIATE transactions avoid lock-upgrade deadlocks, and the
    # timeout makes a writer wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if DATABASES["default"]["NAME"] == ":memory:" else 60

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- The real-time engine -------------------------------------------------------
# Every COLLAB_* variable, its default, bounds and meaning: collab/config.py
# (the README's table lists them). An unknown or invalid one stops startup.
COLLAB = collab_config.from_environ({
    # What the engine asks of this project (README, Layout): its tables, who may open
    # and edit a document, whose a bearer token is. The environment may override them.
    "COLLAB_STORAGE": "documents.storage.DocumentStorage",
    "COLLAB_ACCESS_POLICY": "documents.access.DocumentAccess",
    "COLLAB_TOKEN_BACKEND": "documents.access.ApiTokenBackend",
    **os.environ,
})

# --- Channel layer ----------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
# Deployments that share one Redis (staging beside production, parallel test runs) each set their
# own: it keeps their rate limits apart (below) and their channel-layer messages. User ids repeat
# from one database to another: without it one deployment's document lists heard the other's
# changes (document ids included), and its sockets re-checked access on the other's access changes.
CACHE_KEY_PREFIX = os.environ.get("CACHE_KEY_PREFIX", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 would otherwise time out idle blocking reads (5 s).
                "hosts": [{"address": REDIS_URL, "socket_timeout": None}],
                "capacity": COLLAB["LAYER_CAPACITY"],
                "expiry": 30,
                "prefix": f"asgi:{CACHE_KEY_PREFIX}" if CACHE_KEY_PREFIX else "asgi",  # channels-redis' own is "asgi"
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Cache (API rate limits) ---------------------------------------------------
# With Redis the limits are shared by every process; otherwise per process.
# CACHE_KEY_PREFIX (above) separates deployments that share one Redis: the limits count
# per user id.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": CACHE_KEY_PREFIX}}
# Requests per user to the REST API and the page forms that create or share, as
# "<count>/<s|min|h|day>"; beyond it, 429.
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600/min")
# API requests per client address that fail to authenticate (no, a wrong or a revoked token).
API_UNAUTHENTICATED_RATE_LIMIT = os.environ.get("API_UNAUTHENTICATED_RATE_LIMIT", "60/min")

# Largest file (or body) the import accepts, in bytes; beyond it, 413 (documents/importing).
IMPORT_MAX_BYTES = int(env_number("IMPORT_MAX_BYTES", 4 * 1024 * 1024, int))

# --- Search (documents/search.py, documents/indexing.py) -------------------------------
# Between snapshots, an edited document's text is read back from the store and
# indexed at most this often: a word typed is findable within about this long.
SEARCH_INDEX_DELAY = env_number("SEARCH_INDEX_DELAY", 5.0)

# --- Auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
# Sign-in throttling (django-axes), on the product's sign-in page and the admin's: after
# SIGN_IN_FAILURE_LIMIT wrong passwords for one username from one address, that pair is refused
# (even with the right password) for SIGN_IN_LOCKOUT_MINUTES, counted from the latest failure.
# Only failures count, and a success clears them.
# allauth's backend after Django's: the username field also takes an e-mail address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AXES_FAILURE_LIMIT = int(env_number("SIGN_IN_FAILURE_LIMIT", 10, int))
AXES_COOLOFF_TIME = timedelta(minutes=env_number("SIGN_IN_LOCKOUT_MINUTES", 15.0))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The account named, however it was typed (username in any case, or an e-mail address): accounts/throttle.py.
AXES_USERNAME_CALLABLE = "accounts.throttle.attempted_account"
AXES_RESET_ON_SUCCESS = True
# The connection's address, never a header a client can write (behind a proxy: Daphne's --proxy-headers).
AXES_CLIENT_IP_CALLABLE = "documents.ratelimit.client_address"
AXES_LOCKOUT_CALLABLE = "frontend.views.sign_in_locked"
AXES_VERBOSE = False
LOGIN_REDIRECT_URL = "document-list"
LOGOUT_REDIRECT_URL = "login"

# --- Accounts: sign-up, e-mail, invitations, share links (accounts/, django-allauth) ---------------
# Before allauth, whose templates accounts/templates restyles in the product's look.
_at = INSTALLED_APPS.index("documents")
INSTALLED_APPS[_at:_at] = ["accounts", "allauth", "allauth.account"]
TEMPLATES[0]["OPTIONS"]["context_processors"].append("accounts.context_processors.signup")
MIDDLEWARE.insert(MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
                  "allauth.account.middleware.AccountMiddleware")
# Anyone may make an account on the sign-up page (SIGNUP_ENABLED=0: only people invited by e-mail);
# SIGNUP_EMAIL_DOMAINS (comma-separated, e.g. "example.com,example.org") limits new accounts,
# invitations included, to addresses at those domains. See accounts/policy.py.
SIGNUP_ENABLED = env_bool("SIGNUP_ENABLED", True)
SIGNUP_EMAIL_DOMAINS = [d.strip() for d in os.environ.get("SIGNUP_EMAIL_DOMAINS", "").split(",") if d.strip()]
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
# Mandatory: the domain limit and invitations mean something only for a proven address. Opening an
# invitation proves it (no second e-mail). Accounts made by an administrator are exempt (accounts/forms.py).
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Coedit] "
ACCOUNT_PREVENT_ENUMERATION = True
# Failed sign-ins are django-axes' (above), on the product's and the admin's sign-in pages alike:
# allauth's own counter for them is off. Its other limits (sign-ups, reset and confirmation e-mails) stay.
ACCOUNT_RATE_LIMITS = {"login_failed": False}
# E-mail through Django's backend: printed on the console unless EMAIL_BACKEND says otherwise
# (e.g. django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER,
# EMAIL_HOST_PASSWORD, EMAIL_USE_TLS).
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env_number("EMAIL_PORT", 25, int))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Coedit <coedit@localhost>")

# --- I18N / static ------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Images in documents (documents/images.py) ------------------------------------
# Largest image a person may upload, in bytes (beyond it, 413); PNG, JPEG, GIF and WebP only, by content.
IMAGES_MAX_BYTES = int(env_number("IMAGES_MAX_BYTES", 10 * 1024 * 1024, int))
# The HTML export embeds images up to this size as data: URIs (and at most IMAGES_INLINE_TOTAL_BYTES
# per export), so that the file stands alone; larger ones are linked to their authenticated URL.
IMAGES_INLINE_MAX_BYTES = int(env_number("IMAGES_INLINE_MAX_BYTES", 512 * 1024, int))
IMAGES_INLINE_TOTAL_BYTES = int(env_number("IMAGES_INLINE_TOTAL_BYTES", 8 * 1024 * 1024, int))
# Where the files go: a directory under DATA_DIR, or any Django storage (django-storages: S3, GCS, Azure...)
# given as IMAGES_STORAGE='{"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {...}}'. Files are never
# served by the storage's own URL: every request passes the document's access check.
STORAGES["images"] = json.loads(os.environ["IMAGES_STORAGE"]) if os.environ.get("IMAGES_STORAGE") else {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(DATA_DIR / "images"), "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700},
}

# --- Security (non-DEBUG) -----------------------------------------------------
# Production defaults assume HTTPS in front (a TLS-terminating proxy that sets
# X-Forwarded-Proto). For a plain-HTTP trial (docker-compose on localhost) set
# SECURE_COOKIES=0 and SECURE_SSL_REDIRECT=0.
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Container healthchecks and scrapers speak plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz", r"^readyz", r"^metrics$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(env_number("SECURE_HSTS_SECONDS", 31536000, int))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True

# --- Content-Security-Policy (every response, django-csp) -----------------------
# Scripts only from our own static files: no inline script, no eval, no other
# origin (the pages, the admin, /api/docs and the editor bundle need nothing
# else). Inline styles are allowed: Tiptap injects its base <style> and
# presence colours are style attributes; what styles may load is still bounded
# by img-src/font-src, so a colour like url(https://tracker/) fetches nothing.
# connect-src 'self' covers the editor's WebSocket on the same host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Images pasted from other sites are fetched by the editor and uploaded here (frontend/js/images.js):
# fetch() may reach https sites (which must still allow it by CORS). Scripts remain 'self' only.
CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"] = [*CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"],
                                                        "https:"]

# --- Error pages -------------------------------------------------------------------
# Our own 400/403/404/500 pages (JSON under /api/): editor/views.py.
CSRF_FAILURE_VIEW = "editor.views.csrf_failure"
# Only for the tests: serves /__error__ and /api/__error__, which raise, to show
# what a server error looks like. Never set it on a real server.
ERROR_PROBE = env_bool("ERROR_PROBE", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}, "django.channels.server": {"level": "WARNING"}},
}

# --- Metrics (GET /metrics, Prometheus text; editor/metrics.py) ------------------------
# Off (404) unless one of these is set. METRICS_TOKEN: scrapers send `Authorization: Bearer <it>`
# (anything else: 401). METRICS_NETWORKS: comma-separated addresses or CIDR blocks the scraper
# connects from (others: 404), e.g. "127.0.0.1/32,10.0.0.0/8". Both set: both are required.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
try:
    METRICS_NETWORKS = [ipaddress.ip_network(n.strip(), strict=False)
                        for n in os.environ.get("METRICS_NETWORKS", "").split(",") if n.strip()]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_NETWORKS must list addresses or CIDR blocks: {exc}") from None
