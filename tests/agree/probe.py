#!/usr/bin/python3
"""probe.py: what the Django services of the data model experience, with
their real clients (Debian 12 packages), for tests/integration/t_agree.sh.

  probe.py run [--timeout S] [GROUP...]   one verdict line per group
  probe.py serve                          the same for each line "run ..."
                                          on stdin, each answer ended by
                                          "end" (imports paid once)
  probe.py setup                          create the test table (through
                                          PgBouncer, as the services do)
  probe.py warm N                         N concurrent transactions through
                                          PgBouncer (N pooled server
                                          connections exist afterwards)
  probe.py hold-pg                        fill PostgreSQL's connection slots
                                          (direct logins as DB_USER) and keep
                                          taking back any slot that frees,
                                          until SIGTERM
  probe.py hold-pool N                    N client connections through
                                          PgBouncer, each inside an open
                                          transaction (holding a pooled
                                          server connection), until SIGTERM

Settings: agree_settings.py, from the stack's environment (DB_*, REDIS_*,
POSTGRES_*). `run` prints, per group, "GROUP<TAB>works<TAB>DETAIL" or
"GROUP<TAB>fails<TAB>DETAIL", DETAIL being "op: ok 0.012s; op: WHY; ...".

A group's clients are those the data model gives the service:
  user-service, ticket-service   db (Django ORM through PgBouncer), cache
  communication-service          + channels (channels_redis group_send)
  file-service                   + celery (publish, consume, result)
Each operation runs in its own forked process, all at once, and is killed
when it has not finished within the hard timeout (default 5 s): a client
that hangs "fails (timeout)".
"""
import json
import os
import select
import signal
import sys
import time
import traceback
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agree_settings")

GROUPS = {
    "user-service": ["db", "cache"],
    "ticket-service": ["db", "cache"],
    "communication-service": ["db", "cache", "channels"],
    "file-service": ["db", "cache", "celery"],
}
GROUP_ORDER = ["user-service", "ticket-service", "communication-service",
               "file-service"]

SECRETS = [os.environ.get(v, "") for v in
           ("DB_PASSWORD", "REDIS_PASSWORD", "POSTGRES_PASSWORD")]


def mask(text):
    for s in SECRETS:
        if s:
            text = text.replace(s, "***")
    return text


def short_error(exc):
    """One line: the exception type and the first line of its text."""
    msg = str(exc).strip().splitlines()
    first = msg[0].strip() if msg else ""
    out = type(exc).__name__ + (": " + first if first else "")
    return mask(out)[:200]


# ------------------------------------------------------------- operations

def op_db(token):
    """A Django ORM write and read in one transaction through PgBouncer."""
    from django.db import connection, transaction
    from agreeapp.models import AgreeRow
    try:
        with transaction.atomic():
            row = AgreeRow.objects.create(token=token)
            got = AgreeRow.objects.get(pk=row.pk)
            if got.token != token:
                raise AssertionError("read back %r, wrote %r" %
                                     (got.token, token))
            AgreeRow.objects.filter(pk=row.pk).delete()
    finally:
        connection.close()


def op_cache(token):
    """django-redis (db 0): set, get back, delete."""
    from django.core.cache import cache
    key = "agree:cache:" + token
    cache.set(key, token, timeout=60)
    got = cache.get(key)
    if got != token:
        raise AssertionError("cache.get returned %r" % (got,))
    cache.delete(key)


def op_channels(token):
    """channels_redis (db 1): group_add, group_send, receive, discard."""
    import asyncio
    from channels.layers import get_channel_layer

    async def go():
        layer = get_channel_layer()
        try:
            group = "agree-" + token
            ch = await layer.new_channel()
            await layer.group_add(group, ch)
            await layer.group_send(group, {"type": "agree.ping",
                                           "token": token})
            msg = await layer.receive(ch)
            if msg.get("token") != token:
                raise AssertionError("received %r" % (msg,))
            await layer.group_discard(group, ch)
        finally:
            await layer.close_pools()

    asyncio.run(go())


_celery_app = None


def celery_app():
    """The file service's Celery app, configured from Django's settings."""
    global _celery_app
    if _celery_app is None:
        from celery import Celery
        app = Celery("agree")
        app.config_from_object("django.conf:settings", namespace="CELERY")
        _celery_app = app
    return _celery_app


def op_celery(token):
    """Celery/kombu (db 2): publish a task (what a view's .delay() does),
    consume and ack it (a worker's part), store its result and read it back
    (the result backend)."""
    app = celery_app()
    queue = "agree"
    res = app.send_task("agree.ping", args=[token], queue=queue)
    with app.connection_for_read() as conn:
        with conn.SimpleQueue(app.amqp.queues[queue]) as sq:
            # Older messages (a publish that reached a frozen Redis after
            # its client was killed) come first: a worker takes those too.
            while True:
                msg = sq.get(block=True, timeout=4)
                msg.ack()
                if msg.headers.get("id") == res.id:
                    break
            args = msg.payload[0] if isinstance(msg.payload, (list, tuple)) \
                else None
            if args != [token]:
                raise AssertionError("task args %r" % (args,))
    app.backend.store_result(res.id, {"token": token}, "SUCCESS")
    meta = app.backend.get_task_meta(res.id)
    if meta.get("status") != "SUCCESS" or \
            meta.get("result", {}).get("token") != token:
        raise AssertionError("result backend returned %r" % (meta,))
    app.backend.forget(res.id)


OPS = {"db": op_db, "cache": op_cache, "channels": op_channels,
       "celery": op_celery}


# ------------------------------------------------------------- runner

def child(op, wfd):
    t0 = time.monotonic()
    try:
        OPS[op](uuid.uuid4().hex)
        res = {"ok": True}
    except BaseException as exc:  # noqa: anything the client raises
        res = {"ok": False, "why": short_error(exc)}
        if os.environ.get("AGREE_TRACE"):
            traceback.print_exc()
    res["secs"] = round(time.monotonic() - t0, 3)
    os.write(wfd, json.dumps(res).encode())
    os.close(wfd)


def run_ops(jobs, timeout):
    """jobs: list of (key, op). Each in a forked child; returns
    {key: result}. Children still running at the deadline are killed."""
    sys.stdout.flush()
    sys.stderr.flush()
    running = {}  # read fd -> (key, pid, chunks)
    for key, op in jobs:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.close(r)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                child(op, w)
            except BaseException:  # noqa
                code = 1
            finally:
                os._exit(code)
        os.close(w)
        running[r] = (key, pid, [])
    results = {}
    t0 = time.monotonic()
    deadline = t0 + timeout
    while running:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select(list(running), [], [], left)
        for fd in ready:
            data = os.read(fd, 65536)
            key, pid, chunks = running[fd]
            if data:
                chunks.append(data)
                continue
            os.close(fd)
            del running[fd]
            os.waitpid(pid, 0)
            try:
                results[key] = json.loads(b"".join(chunks).decode())
            except ValueError:
                results[key] = {"ok": False, "why": "client process died",
                                "secs": round(time.monotonic() - t0, 3)}
    for fd, (key, pid, _) in running.items():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)
        results[key] = {"ok": False,
                        "why": "timeout: no answer within %g s" % timeout,
                        "secs": timeout}
    return results


def parse_run_args(args):
    timeout = 5.0
    groups = []
    args = list(args)
    while args:
        a = args.pop(0)
        if a == "--timeout":
            timeout = float(args.pop(0))
        elif a in GROUPS:
            groups.append(a)
        else:
            raise ValueError("unknown group %r" % a)
    return timeout, groups or GROUP_ORDER


def cmd_run(args):
    try:
        timeout, groups = parse_run_args(args)
    except ValueError as exc:
        sys.exit("probe.py: %s" % exc)
    setup_django()
    preload()
    run_groups(groups, timeout)


def cmd_serve(_args):
    """`run` once per line read on stdin ("run [--timeout S] [GROUP...]"),
    each answer followed by a line "end": the imports are paid once."""
    setup_django()
    preload()
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            if words[0] != "run":
                raise ValueError("unknown request %r" % words[0])
            timeout, groups = parse_run_args(words[1:])
            run_groups(groups, timeout)
        except ValueError as exc:
            print("error\t%s" % exc)
        print("end", flush=True)


def run_groups(groups, timeout):
    jobs = [((g, op), op) for g in groups for op in GROUPS[g]]
    results = run_ops(jobs, timeout)
    for g in groups:
        parts = []
        works = True
        for op in GROUPS[g]:
            r = results[(g, op)]
            if r["ok"]:
                parts.append("%s: ok %.3fs" % (op, r["secs"]))
            else:
                works = False
                parts.append("%s: %s" % (op, r["why"]))
        print("%s\t%s\t%s" % (g, "works" if works else "fails",
                              "; ".join(parts).replace("\t", " ")))
    sys.stdout.flush()


def preload():
    """Import what the clients use before the fork (no connection is made
    here), so that each operation's time is the client's, not Python's."""
    import asyncio  # noqa: F401
    import django.db.backends.postgresql.base  # noqa: F401
    import django_redis.cache  # noqa: F401
    import django_redis.client  # noqa: F401
    import channels.layers  # noqa: F401
    import channels_redis.core  # noqa: F401
    import kombu.transport.redis  # noqa: F401
    import celery.backends.redis  # noqa: F401
    from django.db import connection
    from agreeapp.models import AgreeRow  # noqa: F401
    connection.ops  # noqa: B018 (loads the backend's operations)
    app = celery_app()
    app.loader.import_default_modules()
    app.amqp  # noqa: B018


def setup_django():
    import django
    django.setup()


def cmd_setup(_args):
    setup_django()
    from django.db import connection
    from agreeapp.models import AgreeRow
    with connection.cursor():
        tables = connection.introspection.table_names()
    if AgreeRow._meta.db_table not in tables:
        with connection.schema_editor() as editor:
            editor.create_model(AgreeRow)
    connection.close()
    print("table %s ready" % AgreeRow._meta.db_table)


# ------------------------------------------------------------- fault helpers

def pg_connect(direct, **kw):
    import psycopg2
    e = os.environ
    if direct:
        return psycopg2.connect(
            host=e["POSTGRES_HOST"], port=e["POSTGRES_PORT"],
            dbname=e["POSTGRES_DB"], user=e["POSTGRES_USER"],
            password=e["POSTGRES_PASSWORD"], connect_timeout=3, **kw)
    return psycopg2.connect(
        host=e["DB_HOST"], port=e["DB_PORT"], dbname=e["DB_NAME"],
        user=e["DB_USER"], password=e["DB_PASSWORD"], connect_timeout=3,
        options="-c statement_timeout=0", **kw)


def cmd_warm(args):
    n = int(args[0]) if args else 8
    import threading
    errors = []
    barrier = threading.Barrier(n)

    def one():
        try:
            c = pg_connect(False)
            cur = c.cursor()
            barrier.wait(timeout=10)
            cur.execute("SELECT pg_sleep(0.3)")
            c.commit()
            c.close()
        except Exception as exc:  # noqa
            errors.append(short_error(exc))
            try:
                barrier.abort()
            except Exception:  # noqa
                pass

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("warm: %s" % errors[0])
    print("warm: %d concurrent transactions through PgBouncer" % n)


def cmd_hold_pg(_args):
    """Take every free connection slot of PostgreSQL and keep them."""
    import psycopg2
    held = []
    announced = False
    while True:
        try:
            held.append(pg_connect(True))
            continue
        except psycopg2.OperationalError as exc:
            text = str(exc)
            if "too many clients" not in text and "53300" not in text \
                    and "remaining connection slots" not in text:
                sys.stderr.write("hold-pg: %s\n" % short_error(exc))
        if not announced:
            print("holding %d" % len(held), flush=True)
            announced = True
        time.sleep(0.1)


def cmd_hold_pool(args):
    """N connections through PgBouncer, each in an open transaction."""
    n = int(args[0])
    held = []
    for _ in range(n):
        c = pg_connect(False)
        c.cursor().execute("SELECT 1")  # BEGIN is implicit: a server is held
        held.append(c)
    print("holding %d" % len(held), flush=True)
    while True:
        time.sleep(3600)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    cmds = {"run": cmd_run, "serve": cmd_serve, "setup": cmd_setup,
            "warm": cmd_warm,
            "hold-pg": cmd_hold_pg, "hold-pool": cmd_hold_pool}
    if cmd not in cmds:
        sys.exit("probe.py: unknown command %r\n%s" % (cmd, __doc__))
    cmds[cmd](args)


if __name__ == "__main__":
    main()
