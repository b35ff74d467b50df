#!/usr/bin/env bash
# config/django/infra_settings.py (issue 11, point 6) under Debian's
# python3-django (/usr/bin/python3: a python3 earlier in PATH may lack
# Debian's packages): tests/integration/django_settings.py checks every
# URL, host, port and Redis db number with a sample environment, then,
# with the stack's environment (lib.sh sources it), that Django's ORM
# reaches PostgreSQL through PgBouncer with statement_timeout 0 and that
# django-redis, channels_redis and kombu write to db 0, 1 and 2.
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
