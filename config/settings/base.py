"""Base settings: everything the project needs, read from the environment.

Only `config/` reads the environment. With no environment set the project runs on embedded
defaults (SQLite under var/, local-memory cache, in-memory channel layer, Celery tasks inline);
with DATABASE_URL / REDIS_URL it runs on PostgreSQL and Redis.
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-development-key-change-me-0123456789abcdef")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

DATABASE_URL = env("DATABASE_URL", default="")
REDIS_URL = env("REDIS_URL", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    # third party
    "rest_framework",
    "rest_framework_simplejwt",
    "django_filters",
    "drf_spectacular",
    "corsheaders",
    "channels",
    "django_celery_beat",
    "django_prometheus",
    "import_export",
    # shared kernel
    "shop.events",
    "shop.api",
    # business domains, in dependency order (DESIGN.md §3.6)
    "apps.accounts",
    "apps.catalog",
    "apps.inventory",
    "apps.purchasing",
    "apps.rebates",
    "apps.orders",
    "apps.payments",
    "apps.engagement",
    "apps.exposure",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "shop.observability.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shop.observability.middleware.AccessLogMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "accounts.User"
APPEND_SLASH = False

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

# --- Database -------------------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Fail fast when the server is unreachable (readiness probes, workers) instead of hanging.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_CONNECT_TIMEOUT", default=5
    )
    # Server-side binding lets psycopg prepare a statement after its 5th run on a connection: the
    # hot paths (checkout: ~20 statements) then skip PostgreSQL's parse and plan, measured in the
    # orders bench. DATABASE_PREPARE_THRESHOLD=0 turns it off (e.g. behind a transaction-mode pooler).
    if _prepare_threshold := env.int("DATABASE_PREPARE_THRESHOLD", default=5):
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=_prepare_threshold)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django_prometheus.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", default=str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channels, Celery ----------------------------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="shop"),
            "TIMEOUT": 300,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env("CHANNELS_PREFIX", default="asgi")},
        }
    }
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shop"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
    CELERY_TASK_ALWAYS_EAGER = True

CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Workers and beat log through Django's LOGGING (structlog JSON), not Celery's own root handler.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Beat schedule in code; django-celery-beat mirrors it into the admin where it can be edited.
# Every entry expires so a backlog after an outage does not run the same job many times.
CELERY_BEAT_SCHEDULE = {
    "outbox-sweep": {
        "task": "shop.events.tasks.outbox_sweep_task",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    "idempotency-cleanup": {
        "task": "shop.api.tasks.idempotency_cleanup_task",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
    "stock-release-expired-reservations": {
        "task": "apps.inventory.tasks.reservations_release_expired_task",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    "orders-expire-unpaid": {
        "task": "apps.orders.tasks.orders_expire_unpaid_task",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 50},
    },
    "payments-retry-notifications": {
        "task": "apps.payments.tasks.payment_notifications_retry_task",
        "schedule": timedelta(minutes=2),
        "options": {"expires": 100},
    },
    "rebates-accrue-monthly": {
        "task": "apps.rebates.tasks.rebate_accruals_record_task",
        "schedule": crontab(minute=15, hour=2, day_of_month=1),
        "options": {"expires": 3600 * 6},
    },
    "engagement-rollup": {
        "task": "apps.engagement.tasks.engagement_rollup_task",
        "schedule": crontab(minute=5),
        "options": {"expires": 3000},
    },
    "engagement-purge": {
        "task": "apps.engagement.tasks.engagement_purge_task",
        "schedule": crontab(minute=30, hour=3),
        "options": {"expires": 3600 * 6},
    },
    "scoring-hourly": {
        "task": "apps.exposure.tasks.scoring_run_task",
        "schedule": crontab(minute=10),
        "options": {"expires": 3000},
    },
}

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- i18n, time, money ----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
SHOP_CURRENCY = env("SHOP_CURRENCY", default="PEN")

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static"))
MEDIA_URL = "/media/"
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "shop.api.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "shop.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "shop.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "shop.api.exceptions.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Shop API",
    "DESCRIPTION": "Storefront and back-office API. Errors share one shape: "
    '{"error": {"code", "message", "details"}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "apps.orders.models.OrderStatus",
        "ShipmentStatusEnum": "apps.orders.models.Shipment.Status",
    },
}

CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])

# --- Observability --------------------------------------------------------------------------
# Key for hashing user ids in logs (HMAC-SHA256): logs never carry e-mails or raw ids.
LOG_HASH_KEY = env("LOG_HASH_KEY", default=SECRET_KEY)
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_JSON = env.bool("LOG_JSON", default=True)
PROMETHEUS_EXPORT_MIGRATIONS = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structlog": {
            "()": "shop.observability.logging.formatter_factory",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structlog"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Kernel mechanisms ----------------------------------------------------------------------
IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48))
# How long a duplicate waits for the first request with the same key before answering 409.
IDEMPOTENCY_WAIT_SECONDS = env.float("IDEMPOTENCY_WAIT_SECONDS", default=10.0)
OUTBOX_SWEEP_AFTER = timedelta(seconds=env.int("OUTBOX_SWEEP_AFTER_SECONDS", default=30))
# How long after the first event of a batch the outbox drain runs (events of that window go together).
OUTBOX_WAKE_DELAY = timedelta(milliseconds=env.int("OUTBOX_WAKE_DELAY_MS", default=100))
# Optional external broker for domain events (kombu URL, e.g. amqp://…); empty = disabled.
EVENTS_EXTERNAL_BROKER_URL = env("EVENTS_EXTERNAL_BROKER_URL", default="")
EVENTS_EXTERNAL_EXCHANGE = env("EVENTS_EXTERNAL_EXCHANGE", default="shop.events")

# --- Domain settings ------------------------------------------------------------------------
# Catalog
# PostgreSQL text search configuration of Product.search_vector ("simple": no stemming, any language).
# Changing it needs `manage.py catalog_reindex`.
CATALOG_SEARCH_CONFIG = env("CATALOG_SEARCH_CONFIG", default="simple")
CATALOG_IMAGE_MAX_BYTES = env.int("CATALOG_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
# Public product reads (list/detail for anyone without catalog permissions) are cached this long; every
# catalog write invalidates them at once, stock movements only by expiry (0 = no cache).
CATALOG_PUBLIC_CACHE_SECONDS = env.int("CATALOG_PUBLIC_CACHE_SECONDS", default=30)
# Port binding: the module whose stock_receive/stock_adjust the catalog's CSV stock import calls, so the
# ledger stays true while catalog (an earlier layer) never imports inventory code.
CATALOG_STOCK_SERVICES = "apps.inventory.services"
# Inventory
STOCK_RESERVATION_TTL = timedelta(minutes=env.int("STOCK_RESERVATION_TTL_MINUTES", default=30))
# Orders and payments
SHOP_PAYMENT_TIMEOUT = timedelta(minutes=env.int("SHOP_PAYMENT_TIMEOUT_MINUTES", default=30))
# Checkout reservations outlive the payment timeout by this much, so the order-expiry job decides.
SHOP_RESERVATION_GRACE = timedelta(minutes=env.int("SHOP_RESERVATION_GRACE_MINUTES", default=15))
SHOP_SHIPPING_FLAT_RATE = Decimal(env("SHOP_SHIPPING_FLAT_RATE", default="10.00"))
SHOP_FREE_SHIPPING_THRESHOLD = Decimal(env("SHOP_FREE_SHIPPING_THRESHOLD", default="150.00"))
SHOP_ORDER_NUMBER_PREFIX = env("SHOP_ORDER_NUMBER_PREFIX", default="SO-")
SHOP_PUBLIC_URL = env("SHOP_PUBLIC_URL", default="http://localhost:8000")
PAYMENTS_PROVIDER = env("PAYMENTS_PROVIDER", default="dummy")
MERCADOPAGO_ACCESS_TOKEN = env("MERCADOPAGO_ACCESS_TOKEN", default="")
MERCADOPAGO_WEBHOOK_SECRET = env("MERCADOPAGO_WEBHOOK_SECRET", default="")
MERCADOPAGO_NOTIFICATION_URL = env("MERCADOPAGO_NOTIFICATION_URL", default="")
MERCADOPAGO_WEBHOOK_TOLERANCE_SECONDS = env.int("MERCADOPAGO_WEBHOOK_TOLERANCE_SECONDS", default=300)
# Engagement, scoring, exposure
ENGAGEMENT_MAX_BATCH = env.int("ENGAGEMENT_MAX_BATCH", default=500)
ENGAGEMENT_MAX_AGE = timedelta(days=env.int("ENGAGEMENT_MAX_AGE_DAYS", default=7))
ENGAGEMENT_RAW_RETENTION = timedelta(days=env.int("ENGAGEMENT_RAW_RETENTION_DAYS", default=30))
RATE_LIMITS = {
    # policy name: list of (limit, window seconds); checked atomically in Redis.
    "events:ip": [(50, 1), (1200, 60), (200_000, 86_400)],
    "events:customer": [(50, 1), (1200, 60), (200_000, 86_400)],
}
# shop/ratelimit: counters live in RATELIMIT_REDIS_URL (default REDIS_URL; neither → in-process);
# RATELIMIT_TRUSTED_PROXY_COUNT = reverse proxies appending to X-Forwarded-For (0 → REMOTE_ADDR);
# RATELIMIT_MULTIPLIER scales every limit (load tests); ENGAGEMENT_BOT_USER_AGENTS: extra bot UA regexes.
RATELIMIT_REDIS_URL = env("RATELIMIT_REDIS_URL", default="")
RATELIMIT_TRUSTED_PROXY_COUNT = env.int("RATELIMIT_TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_MULTIPLIER = env.float("RATELIMIT_MULTIPLIER", default=1.0)
# Each limiter call to Redis gives up after this long and fails open (the request is admitted, and counted).
RATELIMIT_SOCKET_TIMEOUT = env.float("RATELIMIT_SOCKET_TIMEOUT", default=0.25)
# The ingest INSERT is prepared once per connection; turn off behind PgBouncer in transaction pooling mode.
ENGAGEMENT_PREPARED_STATEMENTS = env.bool("ENGAGEMENT_PREPARED_STATEMENTS", default=True)
ENGAGEMENT_BOT_USER_AGENTS = env.list("ENGAGEMENT_BOT_USER_AGENTS", default=[])
SCORING_HALF_LIFE_HOURS = env.float("SCORING_HALF_LIFE_HOURS", default=72.0)
SCORING_EVENT_WEIGHTS = {"view": 1.0, "click": 3.0, "add_to_cart": 8.0, "purchase": 20.0}
SCORING_ALPHA = env.float("SCORING_ALPHA", default=0.7)
SCORING_STRATEGY_WEIGHTS = {"cold": 1 / 3, "profit": 1 / 3, "fresh": 1 / 3}
SCORING_FRESHNESS_HALF_LIFE_DAYS = env.float("SCORING_FRESHNESS_HALF_LIFE_DAYS", default=14.0)
EXPOSURE_TTL_SEC = env.int("EXPOSURE_TTL_SEC", default=300)
EXPOSURE_CATEGORY_CAP = env.int("EXPOSURE_CATEGORY_CAP", default=3)
EXPOSURE_COLD_SLOTS = env.int("EXPOSURE_COLD_SLOTS", default=2)
# Scoring/exposure tuning (docs/exposure.md): cold_score = 2^(−impressions_7d / K) for products in stock;
# events younger than the ingest lag wait for the next run (a slower insert may still hold a lower id).
SCORING_COLD_IMPRESSIONS = env.float("SCORING_COLD_IMPRESSIONS", default=50.0)
SCORING_INGEST_LAG_SECONDS = env.float("SCORING_INGEST_LAG_SECONDS", default=2.0)
SCORING_RELANDMARK_HALF_LIVES = env.float("SCORING_RELANDMARK_HALF_LIVES", default=24.0)
EXPOSURE_CANDIDATES = env.int("EXPOSURE_CANDIDATES", default=240)
EXPOSURE_COLD_CANDIDATES = env.int("EXPOSURE_COLD_CANDIDATES", default=60)
EXPOSURE_AFFINITY_DAYS = env.int("EXPOSURE_AFFINITY_DAYS", default=30)
EXPOSURE_BADGES = {"new_days": 14, "hot_popularity": 0.5, "low_stock_units": 5, "deal_max_margin": 0.15}
