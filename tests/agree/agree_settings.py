"""Django settings of the agreement test's clients (tests/agree/probe.py).

The data model's client configuration (/work/shared/seed/data-model.md,
"Django Service ... Configuration"), built from the same environment
variables readyd's default configuration reads (the test stack's env):

  DATABASES   PgBouncer (DB_HOST:DB_PORT), DB_NAME/DB_USER/DB_PASSWORD,
              CONN_MAX_AGE 0, OPTIONS connect_timeout (DB_CONNECT_TIMEOUT,
              default 20) and options "-c statement_timeout=0"
  CACHES      django-redis on db 0 (Debian 12's Django 3.2 has no built-in
              django.core.cache.backends.redis, which the data model names;
              django-redis is what a Django 3.2 service uses)
  CHANNEL_LAYERS  channels_redis on db 1, hosts in URL form (the data
              model's ("redis", 6379) tuple would select db 0)
  CELERY_*    broker and results on db 2 (app.config_from_object with
              namespace CELERY, as a Django project's celery.py does)

config/django/infra_settings.py (another issue) will be the shipped form.
"""
import os
from urllib.parse import quote


def _env(name, default=None):
    v = os.environ.get(name)
    if v is None or v == "":
        if default is None:
            raise RuntimeError("environment variable %s is not set" % name)
        return default
    return v


REDIS_HOST = _env("REDIS_HOST", "redis")
REDIS_PORT = int(_env("REDIS_PORT", "6379"))
REDIS_PASSWORD = os.environ.get("REDIS_PASSWORD", "")


def redis_url(db):
    auth = ":%s@" % quote(REDIS_PASSWORD, safe="") if REDIS_PASSWORD else ""
    return "redis://%s%s:%d/%d" % (auth, REDIS_HOST, REDIS_PORT, db)


SECRET_KEY = "agreement-test-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["agreeapp"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING_CONFIG = None

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _env("DB_NAME", "hdms_db"),
        "USER": _env("DB_USER"),
        "PASSWORD": _env("DB_PASSWORD"),
        "HOST": _env("DB_HOST", "pgbouncer"),
        "PORT": int(_env("DB_PORT", "6432")),
        "CONN_MAX_AGE": 0,
        "OPTIONS": {
            "connect_timeout": int(_env("DB_CONNECT_TIMEOUT", "20")),
            "options": "-c statement_timeout=0",
        },
    }
}

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": redis_url(0),
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [redis_url(1)],
            "capacity": 100,
            "expiry": 60,
        },
    }
}

CELERY_BROKER_URL = redis_url(2)
CELERY_RESULT_BACKEND = redis_url(2)
