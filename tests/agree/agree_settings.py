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

They are the shipped config/django/infra_settings.py, imported here.
"""
import os
import sys

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                    "config", "django"))

from infra_settings import (  # noqa: E402  (the path above first)
    CACHES,
    CELERY_BROKER_URL,
    CELERY_RESULT_BACKEND,
    CHANNEL_LAYERS,
    DATABASES,
)

__all__ = ["DATABASES", "CACHES", "CHANNEL_LAYERS", "CELERY_BROKER_URL",
           "CELERY_RESULT_BACKEND"]

SECRET_KEY = "agreement-test-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["agreeapp"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING_CONFIG = None
