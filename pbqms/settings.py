"""Django settings for PBQMS, configured entirely through environment variables.

See README.md "Configuration" for the list. Defaults give a working embedded (SQLite)
installation; production sets PBQMS_PRODUCTION=1 and passes `pbqms check --deploy`.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE as CSP_NONCE
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_DIR = PACKAGE_DIR.parent


def _env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _default_data_dir() -> Path:
    # A source checkout keeps its data beside the code (./var); an installed package uses the
    # user's data folder, so the console script works from any folder.
    if (SOURCE_DIR / "pyproject.toml").exists():
        return SOURCE_DIR / "var"
    return Path.home() / ".local" / "share" / "pbqms"


PRODUCTION = _env_bool("PBQMS_PRODUCTION")
DATA_DIR = Path(os.environ.get("PBQMS_DATA_DIR", _default_data_dir()))
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set when PBQMS_PRODUCTION=1")
    SECRET_KEY = "pbqms-insecure-development-key-" + "x" * 40
DEBUG = _env_bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

# Key for field encryption (ID numbers). Defaults to one derived from SECRET_KEY; production
# should set its own and keep it apart from the database backups.
FIELD_ENCRYPTION_KEY = os.environ.get("PBQMS_FIELD_KEY", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "pbqms.core",
    "pbqms.audit",
    "pbqms.accounts",
    "pbqms.orgs",
    "pbqms.members",
    "pbqms.roster",
    "pbqms.files",
    "pbqms.notify",
    "pbqms.rectification",
    "pbqms.activities",
    "pbqms.documents",
    "pbqms.objectives",
    "pbqms.assessment",
    "pbqms.demo",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "pbqms.accounts.middleware.UserLanguageMiddleware",
    "pbqms.accounts.middleware.IdleTimeoutMiddleware",
    "pbqms.accounts.middleware.PasswordExpiryMiddleware",
    "pbqms.audit.middleware.AuditContextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "pbqms.urls"
WSGI_APPLICATION = "pbqms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pbqms.core.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'pbqms.sqlite3'}"),
        conn_max_age=_env_int("PBQMS_DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
PASSWORD_MIN_LENGTH = _env_int("PBQMS_PASSWORD_MIN_LENGTH", 8)
PASSWORD_MIN_CLASSES = _env_int("PBQMS_PASSWORD_MIN_CLASSES", 3)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {
        "NAME": "pbqms.accounts.validators.CharacterClassValidator",
        "OPTIONS": {"min_classes": PASSWORD_MIN_CLASSES},
    },
]
# 等保2.0 三级 login protection; each is a setting.
LOGIN_LOCKOUT_ATTEMPTS = _env_int("PBQMS_LOCKOUT_ATTEMPTS", 5)
LOGIN_LOCKOUT_MINUTES = _env_int("PBQMS_LOCKOUT_MINUTES", 15)
# Per client address, across every username: after this many failed sign-ins within the window the
# address is refused (429) until the window has passed — alongside the per-account lockout above.
LOGIN_CLIENT_ATTEMPTS = _env_int("PBQMS_CLIENT_ATTEMPTS", 20)
LOGIN_CLIENT_WINDOW_MINUTES = _env_int("PBQMS_CLIENT_WINDOW_MINUTES", 15)
SESSION_IDLE_MINUTES = _env_int("PBQMS_SESSION_IDLE_MINUTES", 30)
PASSWORD_MAX_AGE_DAYS = _env_int("PBQMS_PASSWORD_MAX_AGE_DAYS", 90)  # 0 disables expiry
API_TOKEN_DAYS = _env_int("PBQMS_API_TOKEN_DAYS", 7)
# The OpenAPI document and the interactive docs (/api/v1/docs): public only on a development
# machine; in production a signed-in user (or a bearer token) is needed.
PBQMS_PUBLIC_API_DOCS = _env_bool("PBQMS_PUBLIC_API_DOCS", DEBUG and not PRODUCTION)

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = False  # the idle middleware refreshes at most once a minute
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("PBQMS_STATIC_ROOT", DATA_DIR / "static"))
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("PBQMS_MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "/media/"
PBQMS_FILE_ROOT = Path(os.environ.get("PBQMS_FILE_ROOT", DATA_DIR / "files"))  # attachments, never served directly
PBQMS_MAX_UPLOAD_MB = _env_int("PBQMS_MAX_UPLOAD_MB", 20)
PBQMS_DAILY_HOUR = _env_int("PBQMS_DAILY_HOUR", 6)  # local hour after which `pbqms worker` runs the daily sweeps
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing folder
WHITENOISE_USE_FINDERS = not PRODUCTION
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

TASKS = {
    "default": {
        "BACKEND": os.environ.get("PBQMS_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "pbqms@localhost")
EMAIL_TIMEOUT = _env_int("EMAIL_TIMEOUT", 10)
# Base address for links in e-mails and group-chat messages (e.g. https://dangjian.example.com).
PBQMS_SITE_URL = os.environ.get("PBQMS_SITE_URL", "")
# Hosts group-chat robots may call besides the platforms' own (e.g. an intranet relay), comma-separated.
PBQMS_ROBOT_HOSTS = [h.strip().lower() for h in os.environ.get("PBQMS_ROBOT_HOSTS", "").split(",") if h.strip()]

if PRODUCTION:
    SECURE_SSL_REDIRECT = _env_bool("PBQMS_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _env_int("PBQMS_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

# Content-Security-Policy (django-csp): scripts and styles from our own static files only; the few
# <style> blocks of the print pages carry the request's nonce; no inline script, no style attribute
# and no eval anywhere (htmx's hx-on handlers live in app.js). Images may be data: URLs (charts).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF, CSP_NONCE],
        "style-src": [CSP_SELF, CSP_NONCE],
        "img-src": [CSP_SELF, "data:", "blob:"],
        "font-src": [CSP_SELF, "data:"],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_SELF],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "pbqms.security": {"handlers": ["console"], "level": "INFO"},
        "django": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
    },
}
