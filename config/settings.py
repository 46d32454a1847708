"""The one settings module: every value comes from the environment, with defaults for a laptop demo."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import env, positive_int, secret_key, strict_bool
from plugins.precision import PRECISION_POLICIES

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("ZOOBOARD_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = strict_bool("DEBUG", False)
SECRET_KEY = secret_key(VAR_DIR)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files: no CDN
    "leaderboard",
    "evaluator",  # for its management command and tasks; it has no models
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
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
            ]
        },
    }
]

# SQLite is only the embedded demo default; production and CI set a postgres:// URL (psycopg 3).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'zooboard.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "index"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "leaderboard" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Uploads (models) are written here by the site and read by workers: a shared volume in production.
MEDIA_ROOT = Path(env.str("ZOOBOARD_MEDIA_DIR", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
# Hidden test sets and stored predictions: needed on workers only, never served.
ZOOBOARD_DATA_DIR = Path(env.str("ZOOBOARD_DATA_DIR", default=str(VAR_DIR / "data")))
ZOOBOARD_MAX_UPLOAD_MB = positive_int("ZOOBOARD_MAX_UPLOAD_MB", 500)
ZOOBOARD_BATCH_SIZE = positive_int("ZOOBOARD_BATCH_SIZE", 256)
# Slices smaller than this are shown to staff only: per-example labels must not leak through tiny slices.
ZOOBOARD_MIN_SLICE = positive_int("ZOOBOARD_MIN_SLICE", 25)
# Always to a temporary file, so the ONNX checker reads a path and big uploads never sit in memory.
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Celery: a real broker in CI and production; the demo's default is kombu's filesystem transport.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
ZOOBOARD_CPU_QUEUE = env.str("ZOOBOARD_CPU_QUEUE", default="cpu")
ZOOBOARD_GPU_QUEUE = env.str("ZOOBOARD_GPU_QUEUE", default="gpu")
# Where evaluations go: the gpu queue where GPU workers run (manage.py workers), else cpu.
# Re-scoring is numpy work and always goes to the cpu queue.
ZOOBOARD_EVALUATION_QUEUE = env.str("ZOOBOARD_EVALUATION_QUEUE", default=ZOOBOARD_CPU_QUEUE)
if ZOOBOARD_EVALUATION_QUEUE not in (ZOOBOARD_CPU_QUEUE, ZOOBOARD_GPU_QUEUE):
    raise ImproperlyConfigured(
        f"ZOOBOARD_EVALUATION_QUEUE must be {ZOOBOARD_CPU_QUEUE!r} or {ZOOBOARD_GPU_QUEUE!r}, "
        f"not {ZOOBOARD_EVALUATION_QUEUE!r}"
    )
# What each policy means: plugins/precision.py.
ZOOBOARD_PRECISION = env.str("ZOOBOARD_PRECISION", default="auto")
if ZOOBOARD_PRECISION not in PRECISION_POLICIES:
    raise ImproperlyConfigured(
        f"ZOOBOARD_PRECISION must be {', '.join(PRECISION_POLICIES[:-1])} or {PRECISION_POLICIES[-1]}, "
        f"not {ZOOBOARD_PRECISION!r}"
    )
ZOOBOARD_LATENCY_RUNS = positive_int("ZOOBOARD_LATENCY_RUNS", 50)  # timed batch-1 runs per evaluation
ZOOBOARD_SOFT_TIME_LIMIT = positive_int("ZOOBOARD_SOFT_TIME_LIMIT", 3600)
CELERY_TASK_DEFAULT_QUEUE = ZOOBOARD_CPU_QUEUE
CELERY_TASK_ACKS_LATE = True  # a task lost with its worker is delivered again...
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # ...and the task then fails the submission instead of rerunning it
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = ZOOBOARD_SOFT_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = ZOOBOARD_SOFT_TIME_LIMIT + 60
CELERY_TASK_IGNORE_RESULT = True  # results live in the database, written by the task itself
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),  # kombu's default is ./control, beside the code
        "store_processed": False,
    }
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False  # the filesystem transport has no broadcast

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "leaderboard.api.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Zooboard API",
    "DESCRIPTION": "Submit image classifiers, follow their evaluation, read the leaderboards.",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
