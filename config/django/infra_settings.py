"""Infrastructure settings of the Django services, from the environment.

The data model's client configuration (data-model.md, sections 4-7),
read from the same environment variables, with the same defaults and the
same VAR_FILE convention, as readyd's default configuration
(config/readyd.conf), so that the services connect exactly as readyd
probes them:

  DATABASES       through PgBouncer: DB_HOST (pgbouncer) : DB_PORT (6432),
                  DB_NAME (hdms_db), DB_USER, DB_PASSWORD; CONN_MAX_AGE 0;
                  OPTIONS connect_timeout = DB_CONNECT_TIMEOUT (20) and
                  options "-c statement_timeout=0"
  CACHES          django-redis on Redis db 0 (Debian 12's Django 3.2 has no
                  django.core.cache.backends.redis, which the data model
                  names; django-redis is its equivalent there)
  CHANNEL_LAYERS  channels_redis on db 1, hosts in URL form: the data
                  model's [("redis", 6379)] tuple form selects db 0
  CELERY_BROKER_URL, CELERY_RESULT_BACKEND   db 2 (read by a project's
                  celery.py with app.config_from_object(settings,
                  namespace="CELERY"))

Redis: REDIS_HOST (redis), REDIS_PORT (6379), REDIS_PASSWORD (empty: no
AUTH; percent-encoded in the URLs).

Use from a service's settings.py:

    from infra_settings import DATABASES, CACHES, CHANNEL_LAYERS  # noqa
    from infra_settings import CELERY_BROKER_URL, CELERY_RESULT_BACKEND

Variables without a default (DB_USER, DB_PASSWORD) must be set, or VAR_FILE
must name a file holding the value (one trailing newline dropped), else
importing this module raises ImproperlyConfigured: readyd refuses to start
on the same condition. `readyd lint-env FILE` checks an env file first.
"""
import os
from urllib.parse import quote

try:
    from django.core.exceptions import ImproperlyConfigured
except ImportError:  # usable without Django (e.g. a Celery-only worker)
    class ImproperlyConfigured(Exception):
        pass

__all__ = [
    "DATABASES", "CACHES", "CHANNEL_LAYERS", "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND", "redis_url",
]


def _read_file(name, path):
    try:
        with open(path, encoding="utf-8") as f:
            value = f.read()
    except OSError as e:
        raise ImproperlyConfigured(
            "%s_FILE = %r: %s" % (name, path, e.strerror)) from None
    return value[:-1] if value.endswith("\n") else value


def env(name, default=None):
    """readyd's ${NAME} (default None) or ${NAME:-default}: NAME when set
    (for ${NAME} even empty, unless NAME_FILE is set), else the file
    NAME_FILE names, else the default; required and missing: an error."""
    value = os.environ.get(name)
    path = os.environ.get(name + "_FILE")
    if value is not None and (value != "" or (default is None
                                              and path is None)):
        return value
    if path is not None:
        return _read_file(name, path)
    if default is not None:
        return default
    raise ImproperlyConfigured(
        "environment variable %s is not set (set %s or %s_FILE)"
        % (name, name, name))


def _int(name, default, low, high):
    raw = env(name, default)
    try:
        value = int(raw, 10)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ImproperlyConfigured(
            "%s: not an integer in %d-%d" % (name, low, high))
    return value


REDIS_HOST = env("REDIS_HOST", "redis")
REDIS_PORT = _int("REDIS_PORT", "6379", 1, 65535)
REDIS_PASSWORD = env("REDIS_PASSWORD", "")

# Redis logical databases (data model, section 3).
REDIS_DB_CACHE = 0
REDIS_DB_CHANNELS = 1
REDIS_DB_CELERY = 2


def redis_url(db):
    """redis://[:password@]host:port/db, the password percent-encoded."""
    auth = ":%s@" % quote(REDIS_PASSWORD, safe="") if REDIS_PASSWORD else ""
    host = "[%s]" % REDIS_HOST if ":" in REDIS_HOST else REDIS_HOST
    return "redis://%s%s:%d/%d" % (auth, host, REDIS_PORT, db)


DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": env("DB_NAME", "hdms_db"),
        "USER": env("DB_USER"),
        "PASSWORD": env("DB_PASSWORD"),
        "HOST": env("DB_HOST", "pgbouncer"),
        "PORT": _int("DB_PORT", "6432", 1, 65535),
        # transaction pooling: no connection kept across requests
        "CONN_MAX_AGE": 0,
        "OPTIONS": {
            "connect_timeout": _int("DB_CONNECT_TIMEOUT", "20", 1,
                                    2147483647),
            "options": "-c statement_timeout=0",
        },
    }
}

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": redis_url(REDIS_DB_CACHE),
        "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
    }
}

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [redis_url(REDIS_DB_CHANNELS)],
            "capacity": 100,
            "expiry": 60,
        },
    }
}

CELERY_BROKER_URL = redis_url(REDIS_DB_CELERY)
CELERY_RESULT_BACKEND = redis_url(REDIS_DB_CELERY)
