"""The one settings module: every value comes from the environment, with defaults for a laptop demo."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import env, positive_int, rate, secret_key, strict_bool, whole_number
from plugins.precision import PRECISION_POLICIES

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("ZOOBOARD_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = strict_bool("DEBUG", False)
SECRET_KEY = secret_key(VAR_DIR)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# HTTPS in production; the demo serves plain http on 127.0.0.1, so all of these are off unless set. With them set
# (README, Accounts and tokens), `manage.py check --deploy --fail-level WARNING` passes.
SECURE_SSL_REDIRECT = strict_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container's health check asks over plain http, from inside
SECURE_HSTS_SECONDS = whole_number("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = strict_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = strict_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = strict_bool("SESSION_COOKIE_SECURE", SECURE_SSL_REDIRECT)
CSRF_COOKIE_SECURE = strict_bool("CSRF_COOKIE_SECURE", SECURE_SSL_REDIRECT)
# Reverse proxies in front of gunicorn: their X-Forwarded-* headers are believed only when this says they exist
# (a client could forge them otherwise); the throttles take the client's address from them.
ZOOBOARD_PROXY_COUNT = whole_number("ZOOBOARD_PROXY_COUNT", 0)
if ZOOBOARD_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",  # API tokens, hashed at rest; the model is ours (KNOX_TOKEN_MODEL)
    "axes",  # sign-in lockout
    "allauth",  # accounts: sign-up with a confirmed email, sign-in, password reset (django-allauth)
    "allauth.account",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files: no CDN
    "django_celery_beat",  # the periodic scheduler's timetable, in the database, editable in the admin
    "leaderboard",
    "evaluator",  # for its management command and tasks; it has no models
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "leaderboard.middleware.UploadLimitMiddleware",  # before anything reads the body (CSRF reads the form)
    "leaderboard.middleware.NulCharacterMiddleware",
    "leaderboard.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: it turns a lockout into the sign-in page
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
# Each gunicorn thread keeps its connection between requests (a new PostgreSQL connection per request forks a
# backend: under load that cost more than a cached board page); checked before each request reuses it, so a
# database restart costs one reconnect, not an error. 0 closes it after every request, as Django's default.
DATABASES["default"]["CONN_MAX_AGE"] = whole_number("CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The API throttles count here, so it must be shared by every gunicorn worker in production: a redis:// URL gives
# Django's own Redis backend. The demo's local memory counts per process.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# Boards as served (leaderboard/board_cache.py): keyed on the boards' stamps in the database, so a cache of each
# process's own is correct too, only less shared. By default the same server as the throttles, or a memory store
# of its own, apart from theirs, so that a burst of pages cannot evict a throttle's count.
CACHES["boards"] = env.cache_url(
    "BOARD_CACHE_URL", default=env.str("CACHE_URL", default="") or "locmemcache://boards?MAX_ENTRIES=1000"
)
# Whole-board exports made by a worker once a board is re-ranked, so that no download waits for a big board's to
# be made: only worth it where the site reads the cache the workers write (not a process's own memory).
ZOOBOARD_EXPORTS_AHEAD = env.bool(
    "ZOOBOARD_EXPORTS_AHEAD",
    default=CACHES["boards"]["BACKEND"].rsplit(".", 1)[0]
    not in ("django.core.cache.backends.locmem", "django.core.cache.backends.dummy"),
)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "index"
LOGOUT_REDIRECT_URL = "index"
# Accounts (django-allauth): anyone may sign up with a username, an email address and a password; the account
# signs in once the address is confirmed through the link mailed to it. Sign-in is by username (the lockout
# below counts per username). Password reset mails a link to a confirmed address.
ACCOUNT_ADAPTER = "leaderboard.accounts.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Zooboard] "
ACCOUNT_PREVENT_ENUMERATION = True  # a reset or a sign-up never says whether an address has an account
# allauth limits sign-ups, mails and resets per address and per client (in CACHES["default"]); repeated wrong
# passwords are django-axes's (below), so that one rule, with its own page, locks a username
ACCOUNT_RATE_LIMITS = {"login_failed": None}
ACCOUNT_SIGNUP_ENABLED = env.bool("ZOOBOARD_SIGNUP", default=True)
# Mail, for those links: EMAIL_URL (smtp://user:password@host:587/?tls=True, or smtp+ssl://...) in production;
# the default prints each mail to the site's log (the demo's console).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Zooboard <noreply@localhost>")
# Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT wrong passwords for a username, signing in as it is
# refused, the right password included, for the cool-off; then its count starts again. Per username, not per
# address: the demo, and a site behind a proxy, may see one address for everybody.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",  # the admin's sign-in
    "allauth.account.auth_backends.AuthenticationBackend",
]
AXES_FAILURE_LIMIT = positive_int("ZOOBOARD_SIGNIN_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=positive_int("ZOOBOARD_SIGNIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 warns that a lockout without the address can be dodged by changing user agents or cookies; ours counts
# a username's failures whatever the address, agent or cookie, so there is nothing to dodge.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout do not extend it: hammering someone's username cannot keep them out for good.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "leaderboard.views.accounts.locked_out"
AXES_IPWARE_PROXY_COUNT = ZOOBOARD_PROXY_COUNT or None
AXES_VERBOSE = False  # its start-up banner would land on the stderr of every manage.py command

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "leaderboard" / "static"]
# Uploads (models) and stored predictions go through Django's storage API, so that a worker on any host reaches
# them: the local file system by default (one host, or a volume every host mounts), S3-compatible object storage
# (django-storages) with ZOOBOARD_STORAGE=s3. Workers read uploads and write predictions; re-scoring reads them.
MEDIA_ROOT = Path(env.str("ZOOBOARD_MEDIA_DIR", default=str(VAR_DIR / "media")))
MEDIA_URL = "media/"
# Hidden test sets: on workers only, never served; may be mounted read-only (the pixel caches go elsewhere then).
ZOOBOARD_DATA_DIR = Path(env.str("ZOOBOARD_DATA_DIR", default=str(VAR_DIR / "data")))
# Each worker's own decoded pixels (evaluator/engine/pixel_cache.py); empty: beside the test set
ZOOBOARD_CACHE_DIR = env.str("ZOOBOARD_CACHE_DIR", default="")
ZOOBOARD_STORAGE = env.str("ZOOBOARD_STORAGE", default="local")
if ZOOBOARD_STORAGE == "local":
    _uploads = {"BACKEND": "django.core.files.storage.FileSystemStorage"}  # MEDIA_ROOT
    _predictions = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env.str("ZOOBOARD_PREDICTIONS_DIR", default=str(ZOOBOARD_DATA_DIR / "predictions")),
            "allow_overwrite": True,  # an evaluation run again replaces its predictions
        },
    }
elif ZOOBOARD_STORAGE == "s3":
    _bucket = {
        "bucket_name": env.str("ZOOBOARD_S3_BUCKET", default="") or None,
        "endpoint_url": env.str("ZOOBOARD_S3_ENDPOINT_URL", default="") or None,  # MinIO, Ceph, R2...: its URL
        "region_name": env.str("ZOOBOARD_S3_REGION", default="") or None,
        # empty: boto3 finds them (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, an instance role...)
        "access_key": env.str("ZOOBOARD_S3_ACCESS_KEY", default="") or None,
        "secret_key": env.str("ZOOBOARD_S3_SECRET_KEY", default="") or None,
        "default_acl": None,
        "querystring_auth": True,  # nothing here is public: a URL, if one is ever made, is signed
    }
    if _bucket["bucket_name"] is None:
        raise ImproperlyConfigured("ZOOBOARD_STORAGE=s3 needs ZOOBOARD_S3_BUCKET")
    _uploads = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {**_bucket, "location": "uploads"}}
    _predictions = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_bucket, "location": "predictions", "file_overwrite": True},
    }
else:
    raise ImproperlyConfigured(f"ZOOBOARD_STORAGE must be local or s3, not {ZOOBOARD_STORAGE!r}")
STORAGES = {
    "default": _uploads,
    "predictions": _predictions,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
ZOOBOARD_MAX_UPLOAD_MB = positive_int("ZOOBOARD_MAX_UPLOAD_MB", 500)
ZOOBOARD_BATCH_SIZE = positive_int("ZOOBOARD_BATCH_SIZE", 256)
# Slices smaller than this are shown to staff only: per-example labels must not leak through tiny slices.
ZOOBOARD_MIN_SLICE = positive_int("ZOOBOARD_MIN_SLICE", 25)
# Fair use (leaderboard/quotas.py): submissions per user per test set in any 24 hours, unless the test set sets its
# own, and evaluations one user may have queued or running at once. Staff are exempt from both.
ZOOBOARD_DAILY_QUOTA = positive_int("ZOOBOARD_DAILY_QUOTA", 5)
ZOOBOARD_MAX_IN_FLIGHT = positive_int("ZOOBOARD_MAX_IN_FLIGHT", 2)
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
# An evaluation is stopped at the soft limit by the worker's own watchdog (it interrupts onnxruntime mid-call);
# Celery's limits stand behind it, and the reaper fails what is still running past the hard limit.
ZOOBOARD_SOFT_TIME_LIMIT = positive_int("ZOOBOARD_SOFT_TIME_LIMIT", 3600)
ZOOBOARD_HARD_TIME_LIMIT = ZOOBOARD_SOFT_TIME_LIMIT + 60
# Exactly-once evaluation (evaluator/reaper.py): a running evaluation holds a lease its worker renews; the
# reaper, a thread of every worker, re-queues one whose lease ran out (or fails it after the last attempt)
# and sends what the site could not hand to the broker.
ZOOBOARD_LEASE_SECONDS = positive_int("ZOOBOARD_LEASE_SECONDS", 60)
ZOOBOARD_REAPER_INTERVAL = positive_int("ZOOBOARD_REAPER_INTERVAL", 20)
ZOOBOARD_MAX_ATTEMPTS = positive_int("ZOOBOARD_MAX_ATTEMPTS", 2)
ZOOBOARD_RESEND_AFTER = positive_int("ZOOBOARD_RESEND_AFTER", 600)  # a queued message no worker took: sent again
CELERY_TASK_DEFAULT_QUEUE = ZOOBOARD_CPU_QUEUE
# The periodic scheduler (`celery -A config beat`, one per deployment): housekeeping on a CPU worker. The reaper
# needs no scheduler: it is a thread of every worker. The timetable below is written into django-celery-beat's
# tables when the scheduler starts; staff may change or pause it in the admin.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
ZOOBOARD_HOUSEKEEPING_INTERVAL = positive_int("ZOOBOARD_HOUSEKEEPING_INTERVAL", 3600)
CELERY_BEAT_SCHEDULE = {
    "housekeeping": {
        "task": "evaluator.housekeeping",
        "schedule": float(ZOOBOARD_HOUSEKEEPING_INTERVAL),
        "options": {"queue": ZOOBOARD_CPU_QUEUE, "expires": ZOOBOARD_HOUSEKEEPING_INTERVAL},
    },
}
# A message is acknowledged after its task ends, so a lost worker's message comes back; a second delivery finds
# the submission held (or finished) and does nothing. Recovery itself is the reaper's, not the broker's.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = ZOOBOARD_SOFT_TIME_LIMIT + 30
CELERY_TASK_TIME_LIMIT = ZOOBOARD_HARD_TIME_LIMIT
CELERY_TASK_IGNORE_RESULT = True  # results live in the database, written by the task itself
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
# The site gives up on an unreachable broker within about a second; the submission waits in the database.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.3, "interval_max": 0.5}
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
        "leaderboard.api.authentication.ApiTokenAuthentication",  # django-rest-knox's, as `Authorization: Token …`
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Counted in CACHES["default"]; a throttled request gets 429 with Retry-After (leaderboard/api/throttles.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "leaderboard.api.throttles.AnonThrottle",
        "leaderboard.api.throttles.UserThrottle",
        "leaderboard.api.throttles.SubmitThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": rate("ZOOBOARD_API_RATE_ANON", "120/minute"),
        "user": rate("ZOOBOARD_API_RATE_USER", "600/minute"),
        "submit": rate("ZOOBOARD_API_RATE_SUBMIT", "30/hour"),
    },
    "NUM_PROXIES": ZOOBOARD_PROXY_COUNT,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "leaderboard.api.schemas.AutoSchema",  # drf-spectacular's, with the error answers
    "EXCEPTION_HANDLER": "leaderboard.api.errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "leaderboard.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "leaderboard.api.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "leaderboard.api.pagination.BoundedLimitOffsetPagination",  # limit at most 200
    "PAGE_SIZE": 50,
}
# API tokens (django-rest-knox): a digest is stored, the key is shown once; each has a name and an expiry.
KNOX_TOKEN_MODEL = "leaderboard.ApiToken"
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_PREFIX": "zb_",  # a leaked key is recognisable (by secret scanners, too)
    "TOKEN_TTL": timedelta(days=90),
    "TOKEN_LIMIT_PER_USER": positive_int("ZOOBOARD_TOKENS_PER_USER", 20),
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
