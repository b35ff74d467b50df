#!/usr/bin/env python3
"""compose_cycle.py CYCLES: the CPU of docker compose's own health checks of
the stack, one cycle being what its healthcheck: lines run per interval:
pg_isready for postgres and for pgbouncer, redis-cli ping for each of the
three Redis users (cache, channels, celery). Each command is a process, as
compose's `docker exec` runs it (the exec itself, runc and the shim, costs
more and is not counted: this is a lower bound for compose).

Reads the stack's environment (tests/stack/stack.sh's DIR/env: POSTGRES_*,
DB_*, REDIS_*). CPU is the children's user+system time from getrusage
(RUSAGE_CHILDREN) around each command. Prints one line:
"cycles=N cycle_ms=X pg_isready_ms=Y redis_cli_ms=Z failures=F" (per
cycle, per pg_isready, per redis-cli; F commands that did not succeed).
"""
import os
import resource
import subprocess
import sys


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(cmd, env):
    c0 = child_cpu()
    ok = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode == 0
    return child_cpu() - c0, ok


def main():
    cycles = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    e = os.environ
    env = dict(e)
    pg = ["pg_isready", "-q", "-h", e["POSTGRES_HOST"], "-p", e["POSTGRES_PORT"],
          "-U", e["POSTGRES_USER"], "-d", e["POSTGRES_DB"], "-t", "5"]
    pgb = ["pg_isready", "-q", "-h", e["DB_HOST"], "-p", e["DB_PORT"],
           "-U", e["DB_USER"], "-d", e["DB_NAME"], "-t", "5"]
    rc = ["redis-cli", "-h", e["REDIS_HOST"], "-p", e["REDIS_PORT"]]
    if e.get("REDIS_PASSWORD"):
        env["REDISCLI_AUTH"] = e["REDIS_PASSWORD"]
    pg_cpu = redis_cpu = 0.0
    failures = 0
    for _ in range(cycles):
        for cmd in (pg, pgb):
            c, ok = run(cmd, env)
            pg_cpu += c
            failures += not ok
        for db in ("0", "1", "2"):
            c, ok = run(rc + ["-n", db, "ping"], env)
            redis_cpu += c
            failures += not ok
    print(f"cycles={cycles} cycle_ms={(pg_cpu + redis_cpu) * 1000 / cycles:.2f} "
          f"pg_isready_ms={pg_cpu * 1000 / (2 * cycles):.2f} "
          f"redis_cli_ms={redis_cpu * 1000 / (3 * cycles):.2f} failures={failures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
