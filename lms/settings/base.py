"""Settings shared by every mode. Everything that differs between machines comes from the
environment (see .env.example); local.py, test.py and production.py only adjust."""

import sys
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env(
    "SECRET_KEY", default="dev-insecure-merit-secret-key-change-me-in-production-0123456789"
)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "hijack",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "lms",
    "users",
    "achievements",
    "certifications",
    "progress",
    "payments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "lms.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "users.middleware.DisabledUserLogoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "users.middleware.SessionIdleTimeoutMiddleware",
    "users.middleware.TwoFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hijack.middleware.HijackUserMiddleware",
    "lms.middleware.RequestActorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "lms.urls"
WSGI_APPLICATION = "lms.wsgi.application"

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
                "lms.context_processors.merit",
            ],
        },
    },
]

# PostgreSQL only (docs/decisions/0004-postgresql-only.md): an external server when
# DATABASE_URL is set, else the embedded server of lms.embedded_db with its data in var/pgdata.
DATABASE_URL = env("DATABASE_URL", default="")
MERIT_EMBEDDED_PGDATA = env("MERIT_EMBEDDED_PGDATA", default=str(VAR_DIR / "pgdata"))
# The database on the embedded server (a production smoke test points it at the test run's).
MERIT_EMBEDDED_DATABASE = env("MERIT_EMBEDDED_DATABASE", default="merit")
MERIT_EMBEDDED_THROWAWAY = False
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        sys.exit(
            f"Merit runs on PostgreSQL only, and DATABASE_URL={DATABASE_URL.split(':', 1)[0]}:... "
            "is not PostgreSQL: unset DATABASE_URL to use the embedded server (data in var/pgdata) "
            "or set DATABASE_URL=postgres://USER@HOST:5432/NAME."
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "lms.embedded_db",
            "NAME": MERIT_EMBEDDED_DATABASE,
            "USER": "postgres",
        }
    }
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "users.login_throttle.LoginThrottleBackend",  # django-axes' lock check, first
    "users.backends.EmailOrUsernameBackend",
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

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # WhiteNoise warns about a missing root
MEDIA_URL = "media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The registered font types (RFC 8081), whatever the machine's mime.types says.
WHITENOISE_MIMETYPES = {".woff": "font/woff", ".woff2": "font/woff2"}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Merit LMS <no-reply@merit.local>")

# Celery. Without REDIS_URL / CELERY_BROKER_URL the broker is kombu's filesystem transport, so
# `make run` starts a real worker with no server to install.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 30
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 28
CELERY_WORKER_MAX_MEMORY_PER_CHILD = 300_000  # KiB: WeasyPrint can grow; recycle the child.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
CELERY_BEAT_SCHEDULE["certifications-reminders"] = {
    "task": "certifications.reminders_send",
    "schedule": 60 * 60 * 24,  # daily: renewal/expiry emails, expired awards marked
}
CELERY_BEAT_SCHEDULE["payments-subscriptions-lapse"] = {
    "task": "payments.subscriptions_lapse",
    "schedule": 60 * 60,  # hourly: subscriptions whose period ran out are marked ended
}

# A cache shared by the web and worker processes when Redis is there; else each process's memory.
# Its own Redis database (CACHE_REDIS_URL) keeps a cache.clear() away from the broker's queues.
CACHE_REDIS_URL = env("CACHE_REDIS_URL", default=REDIS_URL)
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_REDIS_URL,
            "KEY_PREFIX": "merit",
            # The cache only saves work (users.selectors falls back to the database when it
            # fails), so a Redis that does not answer must fail fast, not hold the page.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if CACHE_REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Merit
# How long the users list keeps the number of a search's matches (so paging does not count
# them again); the number shown may lag by this much, the rows never do.
MERIT_USERS_LIST_COUNT_SECONDS = env.int("MERIT_USERS_LIST_COUNT_SECONDS", default=30)
MERIT_ORGANISATION_NAME = env("MERIT_ORGANISATION_NAME", default="My Company")
MERIT_BULK_JOB_THRESHOLD = env.int("MERIT_BULK_JOB_THRESHOLD", default=100)
MERIT_JOB_CHUNK_SIZE = env.int("MERIT_JOB_CHUNK_SIZE", default=2000)
# Chunks of a job whose items are independent run as separate tasks, on every worker process at
# once; off, they run one after another in one task.
MERIT_JOB_PARALLEL = env.bool("MERIT_JOB_PARALLEL", default=True)
MERIT_SITE_URL = env("MERIT_SITE_URL", default="http://127.0.0.1:8000")
# Certificate ZIPs with more PDFs than this are built by a background job.
MERIT_CERTIFICATE_ZIP_INLINE_MAX = env.int("MERIT_CERTIFICATE_ZIP_INLINE_MAX", default=20)
MERIT_AVATAR_MAX_BYTES = 5 * 1024 * 1024
MERIT_IMAGE_MAX_PIXELS = 40_000_000

# Payments (payments/providers): Stripe is on when its secret key is set; its webhook endpoint
# (/payments/webhooks/stripe/) verifies deliveries with the endpoint's signing secret.
MERIT_STRIPE_SECRET_KEY = env("MERIT_STRIPE_SECRET_KEY", default="")
MERIT_STRIPE_WEBHOOK_SECRET = env("MERIT_STRIPE_WEBHOOK_SECRET", default="")
# Which provider's hosted page saves a learner's card ("stripe", or "manual" in development);
# empty: Stripe when its key is set, else no "Add a card" button.
MERIT_PAYMENTS_CARD_PROVIDER = env("MERIT_PAYMENTS_CARD_PROVIDER", default="")

HIJACK_PERMISSION_CHECK = "users.permissions.can_impersonate"
HIJACK_INSERT_BEFORE = None  # the banner is drawn by templates/base.html

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}

# --- Security (README "Security") -------------------------------------------------------
# Content-Security-Policy (django-csp): scripts only from our own static files, never inline
# (static/js/merit.js wires pages up through data- attributes). Styles allow inline because
# templates set widths and colours in style="" attributes; images allow data: for Bootstrap's
# embedded SVGs and the 2FA set-up QR code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # "Add a card" posts to Merit, which redirects to Stripe Checkout's hosted page; the
        # browser applies form-action to that redirect too.
        "form-action": [SELF, "https://checkout.stripe.com"],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
MERIT_PERMISSIONS_POLICY = env(
    "MERIT_PERMISSIONS_POLICY",
    default="camera=(), microphone=(), geolocation=(), payment=(), usb=()",
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Login throttling (django-axes; users/login_throttle.py): a lock per (username, IP address)
# after MERIT_LOGIN_FAILURE_LIMIT failures, and per IP address over all usernames after the
# higher MERIT_LOGIN_IP_FAILURE_LIMIT; both end after the cool-off. Unknown usernames count
# and answer like known ones.
AXES_FAILURE_LIMIT = env.int("MERIT_LOGIN_FAILURE_LIMIT", default=10)
MERIT_LOGIN_IP_FAILURE_LIMIT = env.int("MERIT_LOGIN_IP_FAILURE_LIMIT", default=100)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("MERIT_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "users.login_throttle.MeritAxesHandler"
AXES_LOCKOUT_CALLABLE = "users.login_throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "users.login_throttle.client_ip"
AXES_USERNAME_CALLABLE = "users.login_throttle.client_username"
AXES_RESET_ON_SUCCESS = True
# Failures during a lock do not push its end further: the cool-off is counted from the lock.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
# How many reverse proxies in front of Merit add X-Forwarded-For (0: use REMOTE_ADDR).
MERIT_TRUSTED_PROXY_COUNT = env.int("MERIT_TRUSTED_PROXY_COUNT", default=0)

# Sessions end after this long without a request (users.middleware.SessionIdleTimeoutMiddleware):
# admins (and anyone impersonating) sooner than learners. They also end on a password change
# (other sessions; Django's session hash), on disable and on "log out everywhere"
# (users.User.session_generation).
MERIT_SESSION_IDLE_HOURS_ADMIN = env.float("MERIT_SESSION_IDLE_HOURS_ADMIN", default=8)
MERIT_SESSION_IDLE_HOURS_LEARNER = env.float("MERIT_SESSION_IDLE_HOURS_LEARNER", default=24 * 14)

# Two-factor authentication (django-otp; users/two_factor.py): anyone may set up an
# authenticator app and recovery codes from their profile; the roles named here must
# (super_admin, department_admin, customer_service, learner; comma-separated), and cannot
# impersonate without a verified code in the session.
MERIT_REQUIRE_2FA_FOR = env.list("MERIT_REQUIRE_2FA_FOR", default=[])
OTP_TOTP_ISSUER = f"Merit ({MERIT_ORGANISATION_NAME})"
