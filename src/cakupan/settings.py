"""Django settings for cakupan: SQLite in var/ by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(os.environ.get("CAKUPAN_HOME", Path.cwd())).resolve()
VAR_DIR = Path(os.environ.get("CAKUPAN_VAR", BASE_DIR / "var")).resolve()
# var/ holds the database, the secret key and uploaded lists: the server's user only.
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("CAKUPAN_DEBUG", False)


def _secret_key() -> str:
    # A key set by the operator wins; otherwise one is generated once and kept in var/,
    # so sessions survive restarts without a secret committed to the repository.
    if key := os.environ.get("CAKUPAN_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    from django.core.management.utils import get_random_secret_key

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = get_random_secret_key()
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [
    h for h in os.environ.get("CAKUPAN_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("CAKUPAN_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]
CSRF_FAILURE_VIEW = "cakupan.web.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "ninja",  # serves the API docs' Swagger UI from its own static files, not a CDN
    "csp",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "django_ratelimit",
    "cakupan.accounts",
    "cakupan.regions",
    "cakupan.registry",
    "cakupan.funding",
    "cakupan.membership",
    "cakupan.contributions",
    "cakupan.claims",
    "cakupan.coverage",
    "cakupan.calculate",
    "cakupan.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cakupan.web.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cakupan.web.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "cakupan.web.middleware.DatabaseBusyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cakupan.urls"
WSGI_APPLICATION = "cakupan.wsgi.application"

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
                "cakupan.web.context_processors.site",
            ],
        },
    },
]

SQLITE_PATH = VAR_DIR / "cakupan.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{SQLITE_PATH}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _db = Path(DATABASES["default"]["NAME"])
    if not _db.exists() and str(_db) != ":memory:":
        # The database holds personal data: created readable by the server's user only (its
        # -wal and -shm files take the same mode from it).
        _db.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(_db, os.O_CREAT | os.O_WRONLY, 0o600))
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while the task worker writes; IMMEDIATE avoids the
        # "database is locked" upgrade deadlock between two writers.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            " PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
else:
    # PostgreSQL's JIT compiler spends about 0.6 s compiling each query it judges large (the
    # bulk paths' million-row joins cross its cost threshold) and won nothing back on the
    # ledger's queries (docs/benchmarks.md): off for this application's connections, unless
    # the database URL sets it.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    if "jit" not in _options.get("options", ""):
        _options["options"] = (_options.get("options", "") + " -c jit=off").strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "cakupan.accounts.backends.RoleBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

# Failed logins: five wrong passwords for the same user from the same address lock that
# pair for 15 minutes (django-axes).
AXES_FAILURE_LIMIT = int(os.environ.get("CAKUPAN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "web/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(
    parents=True, exist_ok=True
)  # WhiteNoise serves from the finders; no collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# The coverage charts' plotly.min.js, served from the installed `plotly` package (its
# package_data directory) as static/plotly/plotly.min.js: never copied into the repository,
# never loaded from a CDN, and always the version the Python figures were built with.
_PLOTLY = find_spec("plotly")
STATICFILES_DIRS = (
    [("plotly", str(Path(_PLOTLY.origin).parent / "package_data"))]
    if _PLOTLY and _PLOTLY.origin
    else []
)
MEDIA_ROOT = VAR_DIR / "media"

TASKS = {
    "default": {
        "BACKEND": os.environ.get("CAKUPAN_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 60 * 60
X_FRAME_OPTIONS = "DENY"

# HTTPS: CAKUPAN_HTTPS=1 when every visitor reaches cakupan over HTTPS. It redirects plain
# HTTP, sends HSTS (a year by default, with subdomains and preload, as `check --deploy` asks)
# and keeps cookies to HTTPS. Behind a reverse proxy that ends TLS, CAKUPAN_BEHIND_PROXY=1
# trusts its X-Forwarded-Proto header; set it only when the proxy overwrites that header,
# otherwise a client could claim HTTPS itself.
HTTPS = _env_bool("CAKUPAN_HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("CAKUPAN_HSTS_SECONDS", 365 * 24 * 3600 if HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("CAKUPAN_HSTS_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = _env_bool("CAKUPAN_HSTS_PRELOAD", HTTPS)
if _env_bool("CAKUPAN_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = HTTPS or _env_bool("CAKUPAN_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Content-Security-Policy on every answer (django-csp): scripts, styles, images and fonts
# only from this server, no inline script or style, no plugins, no framing, forms post only
# here. Page behaviour lives in static files (web/static/cakupan/app.js); htmx's indicator
# style is in app.css because htmx may not inject a <style> (see base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # Swagger UI's and the admin's stylesheets draw icons from data: URLs
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 500

# A refused request (4xx) is one line — method, path without its query, status, user id —
# instead of Django's message with a traceback (a 403 carries one); server errors keep theirs.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refused": {"()": "cakupan.requestlog.RefusedRequestFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CAKUPAN_LOG_LEVEL", "WARNING")},
    "loggers": {
        "axes": {"level": "ERROR"},
        "django.request": {"filters": ["refused"]},
        "django.security.csrf": {"filters": ["refused"]},
    },
}

# Per-user rate limits (django-ratelimit) on the requests that reach one person at a time.
# The counts live in the web server's memory: the threads of one process share LocMemCache and
# its increments are atomic there. With `cakupan serve --processes N` each process counts
# apart, so a user may get up to N times the rate before every process refuses (the kernel
# spreads connections over the processes); a shared count would need Redis or Memcached
# (the database or file cache would cost a write per check, or count wrongly across
# processes). django-ratelimit warns about LocMemCache for that reason; silenced here.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
CAKUPAN_RATE_NIK_SEARCH = os.environ.get("CAKUPAN_RATE_NIK_SEARCH", "30/m")
CAKUPAN_RATE_VERIFY = os.environ.get("CAKUPAN_RATE_VERIFY", "20/m")
# The hospital's verify check answered in front of Django (cakupan.apifast) writes its
# access-log rows in batches, this often (seconds) and as each server worker stops.
CAKUPAN_ACCESS_LOG_SECONDS = float(os.environ.get("CAKUPAN_ACCESS_LOG_SECONDS", "0.25"))
# Scans of membership cards (/V/<token>, no login): counted per IP address.
CAKUPAN_RATE_CARD_CHECK = os.environ.get("CAKUPAN_RATE_CARD_CHECK", "30/m")
# Behind a reverse proxy every request comes from the proxy's address: name the header the
# proxy sets to the client's address (e.g. HTTP_X_REAL_IP), and only if it overwrites it.
if _client_ip_header := os.environ.get("CAKUPAN_CLIENT_IP_HEADER"):
    RATELIMIT_IP_META_KEY = _client_ip_header

# Membership cards: the address printed in their QR codes (/V/<token> under it), and where the
# private halves of the card signing keys live (files of mode 0600, never in the database).
CAKUPAN_SITE_URL = os.environ.get("CAKUPAN_SITE_URL", "https://cakupan.malangkota.go.id")
CAKUPAN_CARD_KEY_DIR = Path(os.environ.get("CAKUPAN_CARD_KEY_DIR", VAR_DIR / "keys"))

# Uploaded lists and the SQLite file hold personal data: readable by the server's user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# Page size of the web lists.
CAKUPAN_PAGE_SIZE = 50
