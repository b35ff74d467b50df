"""Checks of config/django/infra_settings.py under Debian's python3-django.

Run by t_django_settings.sh with /usr/bin/python3 and the test stack's
environment. Prints one "ok - MSG" or "not ok - MSG" line per check:

  offline   a sample environment (every variable set, a password that
            needs percent-encoding), the defaults, VAR_FILE, missing
            required variables: every URL, host, port and db number
  live      the stack's environment: Django's ORM through PgBouncer
            (statement_timeout 0 from OPTIONS), django-redis writing to
            db 0, channels_redis to db 1, kombu (Celery's transport) to
            db 2, each seen in its database by a plain redis client
"""
import importlib
import os
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "config", "django"))

FAILED = 0


def check(cond, msg, detail=""):
    global FAILED
    if cond:
        print("ok - %s" % msg)
    else:
        FAILED += 1
        print("not ok - %s%s" % (msg, (": " + detail) if detail else ""))


def load(environ):
    """infra_settings imported afresh under exactly environ."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environ)
    try:
        sys.modules.pop("infra_settings", None)
        return importlib.import_module("infra_settings")
    finally:
        os.environ.clear()
        os.environ.update(saved)


SAMPLE = {
    "DB_NAME": "svc_db",
    "DB_USER": "svc",
    "DB_PASSWORD": "db pass",
    "DB_HOST": "pgbouncer.internal",
    "DB_PORT": "6433",
    "DB_CONNECT_TIMEOUT": "7",
    "REDIS_HOST": "cache.internal",
    "REDIS_PORT": "6380",
    "REDIS_PASSWORD": "p@ss/w:rd",
}


def offline():
    from urllib.parse import urlsplit, unquote

    import redis
    from kombu import Connection

    s = load(SAMPLE)
    db = s.DATABASES["default"]
    check(db["ENGINE"] == "django.db.backends.postgresql", "ENGINE")
    check((db["HOST"], db["PORT"]) == ("pgbouncer.internal", 6433),
          "DATABASES HOST/PORT from DB_HOST/DB_PORT", repr(db))
    check((db["NAME"], db["USER"], db["PASSWORD"]) ==
          ("svc_db", "svc", "db pass"), "DATABASES NAME/USER/PASSWORD")
    check(db["CONN_MAX_AGE"] == 0, "CONN_MAX_AGE 0")
    check(db["OPTIONS"] == {"connect_timeout": 7,
                            "options": "-c statement_timeout=0"},
          "OPTIONS connect_timeout and options", repr(db["OPTIONS"]))
    urls = {
        "CACHES": (s.CACHES["default"]["LOCATION"], 0),
        "CHANNEL_LAYERS": (s.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0],
                           1),
        "CELERY_BROKER_URL": (s.CELERY_BROKER_URL, 2),
        "CELERY_RESULT_BACKEND": (s.CELERY_RESULT_BACKEND, 2),
    }
    for name, (url, want_db) in urls.items():
        u = urlsplit(url)
        check(u.scheme == "redis" and u.hostname == "cache.internal" and
              u.port == 6380 and u.path == "/%d" % want_db and
              unquote(u.password or "") == "p@ss/w:rd",
              "%s: host, port, password and db %d" % (name, want_db),
              url.replace(u.password or "\0", "***"))
        # what the clients make of it: redis-py (django-redis,
        # channels_redis) and kombu (Celery)
        kw = redis.ConnectionPool.from_url(url).connection_kwargs
        check((kw.get("host"), kw.get("port"), kw.get("db"),
               kw.get("password")) ==
              ("cache.internal", 6380, want_db, "p@ss/w:rd"),
              "%s: redis-py reads db %d" % (name, want_db))
    k = Connection(s.CELERY_BROKER_URL)
    check((k.hostname, k.port, str(k.virtual_host), k.password) ==
          ("cache.internal", 6380, "2", "p@ss/w:rd"),
          "CELERY_BROKER_URL: kombu reads db 2",
          "%r" % ((k.hostname, k.port, k.virtual_host),))
    check(s.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache",
          "CACHES backend django-redis")
    check(s.CHANNEL_LAYERS["default"]["BACKEND"] ==
          "channels_redis.core.RedisChannelLayer",
          "CHANNEL_LAYERS backend channels_redis")

    # defaults: the data model's (and readyd.conf's)
    d = load({"DB_USER": "u", "DB_PASSWORD": "p"})
    db = d.DATABASES["default"]
    check((db["HOST"], db["PORT"], db["NAME"],
           db["OPTIONS"]["connect_timeout"]) ==
          ("pgbouncer", 6432, "hdms_db", 20),
          "defaults pgbouncer:6432, hdms_db, connect_timeout 20", repr(db))
    check((d.CACHES["default"]["LOCATION"],
           d.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0],
           d.CELERY_BROKER_URL) ==
          ("redis://redis:6379/0", "redis://redis:6379/1",
           "redis://redis:6379/2"),
          "defaults redis://redis:6379/0, /1, /2 without a password")
    # empty optional variables: the defaults, as readyd's ${VAR:-default}
    e = load({"DB_USER": "u", "DB_PASSWORD": "p", "DB_HOST": "",
              "REDIS_PASSWORD": "", "REDIS_PORT": ""})
    check(e.DATABASES["default"]["HOST"] == "pgbouncer" and
          e.CELERY_BROKER_URL == "redis://redis:6379/2",
          "empty optional variables take the defaults")

    # VAR_FILE, one trailing newline dropped; beside an empty VAR too
    with tempfile.TemporaryDirectory() as tmp:
        pw = os.path.join(tmp, "pw")
        with open(pw, "w") as f:
            f.write("from file\n")
        f1 = load({"DB_USER": "u", "DB_PASSWORD_FILE": pw,
                   "REDIS_PASSWORD_FILE": pw})
        check(f1.DATABASES["default"]["PASSWORD"] == "from file",
              "DB_PASSWORD_FILE read, trailing newline dropped")
        check(f1.CACHES["default"]["LOCATION"] ==
              "redis://:from%20file@redis:6379/0",
              "REDIS_PASSWORD_FILE in the URLs, percent-encoded")
        f2 = load({"DB_USER": "u", "DB_PASSWORD": "", "DB_PASSWORD_FILE": pw})
        check(f2.DATABASES["default"]["PASSWORD"] == "from file",
              "an empty DB_PASSWORD beside DB_PASSWORD_FILE: the file")
        from django.core.exceptions import ImproperlyConfigured
        for env, what in (({"DB_PASSWORD": "p"}, "DB_USER missing"),
                          ({"DB_USER": "u"}, "DB_PASSWORD missing"),
                          ({"DB_USER": "u", "DB_PASSWORD_FILE":
                            os.path.join(tmp, "absent")},
                           "DB_PASSWORD_FILE unreadable"),
                          ({"DB_USER": "u", "DB_PASSWORD": "p",
                            "DB_PORT": "65536"}, "DB_PORT out of range"),
                          ({"DB_USER": "u", "DB_PASSWORD": "p",
                            "DB_CONNECT_TIMEOUT": "0"},
                           "DB_CONNECT_TIMEOUT 0")):
            try:
                load(env)
                check(False, "%s: ImproperlyConfigured" % what,
                      "imported without error")
            except ImproperlyConfigured as e:
                check("p" not in str(e).split() and
                      "from file" not in str(e),
                      "%s: ImproperlyConfigured" % what, str(e))


def live():
    """Against the test stack: the clients land where readyd looks."""
    import django
    import redis
    from asgiref.sync import async_to_sync
    from django.conf import settings
    from kombu import Connection

    s = load(dict(os.environ))
    settings.configure(
        DATABASES=s.DATABASES, CACHES=s.CACHES,
        CHANNEL_LAYERS=s.CHANNEL_LAYERS, INSTALLED_APPS=[],
        USE_TZ=True, SECRET_KEY="test-not-secret", LOGGING_CONFIG=None)
    django.setup()
    from django.db import connection
    from django.core.cache import cache
    from channels.layers import get_channel_layer

    with connection.cursor() as c:
        c.execute("SHOW statement_timeout")
        timeout = c.fetchone()[0]
        c.execute("SELECT current_database()")
        dbname = c.fetchone()[0]
    check(timeout == "0", "ORM through PgBouncer: statement_timeout 0",
          timeout)
    check(dbname == os.environ["DB_NAME"], "ORM: database DB_NAME", dbname)
    check(int(connection.settings_dict["PORT"]) ==
          int(os.environ["DB_PORT"]) and
          os.environ["DB_PORT"] != os.environ["POSTGRES_PORT"],
          "ORM connects to PgBouncer's port, not PostgreSQL's")
    connection.close()

    def plain(db):
        return redis.Redis(host=os.environ["REDIS_HOST"],
                           port=int(os.environ["REDIS_PORT"]), db=db,
                           password=os.environ.get("REDIS_PASSWORD") or None)

    tag = uuid.uuid4().hex
    cache.set("lintenv-" + tag, "v", 60)
    found = [db for db in range(3) if plain(db).keys("*lintenv-" + tag)]
    check(found == [0], "django-redis writes to db 0", repr(found))
    for db in range(3):
        for k in plain(db).keys("*lintenv-" + tag):
            plain(db).delete(k)

    layer = get_channel_layer()
    chan = "lintenv" + tag
    async_to_sync(layer.send)(chan, {"type": "t"})
    found = [db for db in range(3) if plain(db).keys("*" + chan + "*")]
    check(found == [1], "channels_redis writes to db 1", repr(found))
    async_to_sync(layer.flush)()

    q = "lintenv-" + tag
    with Connection(s.CELERY_BROKER_URL, connect_timeout=5) as conn:
        sq = conn.SimpleQueue(q)
        sq.put({"t": 1})
        found = [db for db in range(3) if plain(db).exists(q)]
        got = sq.get(timeout=5).payload
        sq.close()
    check(found == [2], "kombu (Celery's broker) writes to db 2",
          repr(found))
    check(got == {"t": 1}, "kombu: the message comes back")
    for db in range(3):
        for k in plain(db).keys("*" + q + "*"):
            plain(db).delete(k)


if __name__ == "__main__":
    offline()
    if len(sys.argv) > 1 and sys.argv[1] == "live":
        live()
    sys.exit(1 if FAILED else 0)
