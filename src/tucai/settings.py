"""Settings, read from the environment.

Two profiles from one code base:

* **embedded default** (no variables set): SQLite file and media folder under ``TUCAI_DATA_DIR``
  (default ``./var``), a secret key generated on first run and kept there, tasks run in-process.
* **production**: ``TUCAI_DATABASE_URL=postgres://...``, ``TUCAI_STORAGE=s3`` with ``TUCAI_S3_*``,
  ``TUCAI_TASKS=database`` or ``TUCAI_TASKS=rq`` for real workers, ``TUCAI_DEBUG=0``,
  ``TUCAI_ALLOWED_HOSTS``, ``TUCAI_SECRET_KEY``.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = env(name)
    if value is None:
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


DATA_DIR = Path(env("TUCAI_DATA_DIR", str(Path.cwd() / "var"))).resolve()


def _secret_key() -> str:
    given = env("TUCAI_SECRET_KEY")
    if given:
        return given
    # Embedded default: generate once and keep it, so sessions survive restarts.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    if not path.exists():
        # Exclusive create, owner-only from the first byte: two first starts agree on one key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(50))
    for _ in range(100):  # another process may be between its create and its write
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty: delete it and start again")


SECRET_KEY = _secret_key()
DEBUG = env_bool("TUCAI_DEBUG", True)
ALLOWED_HOSTS = env_list("TUCAI_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("TUCAI_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "tucai.core",
    "tucai.accounts",
    "tucai.audit",
    "tucai.campaigns",
    "tucai.capture",
    "tucai.stations",
    "tucai.fees",
    "tucai.handoff",
    "tucai.proofing",
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
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tucai.urls"
WSGI_APPLICATION = "tucai.wsgi.application"
ASGI_APPLICATION = "tucai.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

_default_db = f"sqlite:///{DATA_DIR / 'tucai.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env("TUCAI_DATABASE_URL", _default_db), conn_max_age=int(env("TUCAI_DB_CONN_MAX_AGE", "60"))
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout: check-in desks and the hot-folder watcher write concurrently.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# 简体中文 is the default UI language; English is available.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env("TUCAI_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = Path(env("TUCAI_STATIC_ROOT", str(DATA_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on a missing root before collectstatic
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("TUCAI_MEDIA_ROOT", str(DATA_DIR / "media")))

if env("TUCAI_STORAGE", "local") == "s3":
    _media_backend = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("TUCAI_S3_BUCKET"),
            "endpoint_url": env("TUCAI_S3_ENDPOINT_URL"),
            "access_key": env("TUCAI_S3_ACCESS_KEY"),
            "secret_key": env("TUCAI_S3_SECRET_KEY"),
            "region_name": env("TUCAI_S3_REGION"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _media_backend = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_backend,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Tasks: Django's tasks API (django-tasks backport). In-process by default; a database queue
# (`tucai worker`, i.e. db_worker) or RQ on Redis for production.
_tasks = env("TUCAI_TASKS", "immediate")
if _tasks == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif _tasks == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": env("TUCAI_REDIS_URL", "redis://127.0.0.1:6379/0")}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if env("TUCAI_REDIS_URL") and _tasks != "immediate":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("TUCAI_REDIS_URL")}}

# Production hardening (what `manage.py check --deploy` asks for) whenever DEBUG is off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("TUCAI_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env("TUCAI_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("TUCAI_HSTS_PRELOAD", False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Capture codes are signed with a key of their own so rotating SECRET_KEY is a separate decision.
TUCAI_CODE_KEY = env("TUCAI_CODE_KEY", SECRET_KEY)
# Pluggable decoder for CHSI 采集码 (dotted path to a callable); none by default.
TUCAI_CHSI_DECODER = env("TUCAI_CHSI_DECODER")
TUCAI_PHOTO_PROFILE = env("TUCAI_PHOTO_PROFILE", "chsi")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("TUCAI_LOG_LEVEL", "WARNING")},
}
