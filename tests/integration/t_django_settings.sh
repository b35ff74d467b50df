#!/usr/bin/env bash
# config/django/infra_settings.py (issue 11, point 6) under Debian's
# python3-django (/usr/bin/python3: a python3 earlier in PATH may lack
# Debian's packages): tests/integration/django_settings.py checks every
# URL, host, port and Redis db number with a sample environment, then,
# with the stack's environment (lib.sh sources it), that Django's ORM
# reaches PostgreSQL through PgBouncer with statement_timeout 0 and that
# django-redis, channels_redis and kombu write to db 0, 1 and 2. Then
# `readyd lint-env` (issue 11, point 5) as a command: exit statuses 0, 78
# and 64, its output format, no secret echoed (the rules themselves are
# unit-tested: tests/test_lint_env.c).
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
OUT=$T_ART/django_settings.out

"$PY" "$IT_HERE/django_settings.py" live >"$OUT" 2>&1
rc=$?
n=0
while IFS= read -r line; do
	case $line in
	"ok - "*)
		ok "${line#ok - }"
		n=$((n + 1))
		;;
	"not ok - "*)
		fail "${line#not ok - }"
		n=$((n + 1))
		;;
	esac
done <"$OUT"
# a crash (import error, traceback) or a silent run fails too
check "[[ $rc == 0 ]]" "django_settings.py exits 0" "$(tail -n 20 "$OUT")"
check "(( n >= 30 ))" "django_settings.py ran all its checks ($n)"

# readyd's own reading of the same file agrees: lint-env on the stack env
# (it holds passwords: not under $T_ART, which is scanned for secrets)
ENVF=$(mktemp "$IT_WORK/stack-env.XXXXXX")
on_exit rm -f -- "$ENVF"
{
	sed -n 's/^export //p' "$STACK_DIR/env" | grep -v '^STACK_'
	echo PGBOUNCER_POOL_SIZE=25
} >"$ENVF"
lint=$("$READYD" lint-env "$ENVF")
rc=$?
check "[[ $rc == 0 ]]" "readyd lint-env accepts the stack's env (exit 0)" "$lint"
assert_not_contains "$lint" "$POSTGRES_PASSWORD" "lint-env echoes no password"

# ---- readyd lint-env: the command's exit statuses and output
GOLD=$IT_HERE/../data/lint_env
run_cmd lint-example "$READYD" lint-env "$IT_HERE/../../config/env.example"
assert_eq "$RC" 0 "lint-env config/env.example: exit 0"
run_cmd lint-pool "$READYD" lint-env "$GOLD/ok.env" "$GOLD/pool_size.env"
assert_eq "$RC" 78 "lint-env with an error: exit 78"
assert_eq "$OUT" "$GOLD/pool_size.env:7: PGBOUNCER_POOL_SIZE: out of range (accepted: 25-50)" \
	"lint-env: one FILE:LINE: VAR: problem (accepted: ...) line"
run_cmd lint-warn "$READYD" lint-env "$GOLD/bypass_pgbouncer.env"
assert_eq "$RC" 0 "lint-env with warnings only: exit 0"
assert_match "$OUT" "bypass_pgbouncer.env:16: warning: DB_PORT: services would bypass PgBouncer" \
	"lint-env: the warning is printed and marked"
run_cmd lint-secret "$READYD" lint-env "$GOLD/malformed.env"
assert_eq "$RC" 78 "lint-env malformed file: exit 78"
assert_not_contains "$OUT" "topsecret" "lint-env: an unterminated secret is not echoed"
run_cmd lint-none "$READYD" lint-env
assert_eq "$RC" 64 "lint-env without FILE: exit 64"
run_cmd lint-opt "$READYD" lint-env --frob "$GOLD/ok.env"
assert_eq "$RC" 64 "lint-env with an option: exit 64"
run_cmd lint-absent "$READYD" lint-env "$IT_WORK/absent.env"
assert_eq "$RC" 78 "lint-env unreadable file: exit 78"
