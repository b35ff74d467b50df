#!/usr/bin/env bash
# tests/valgrind/run.sh BIN: readyd under valgrind (memcheck) through a life
# with faults: start-up, a backend stopped and started, one frozen and
# thawed, a reload (SIGHUP), once/wait/check/config, and shutdown on
# SIGTERM. Passes only when valgrind reports no error and no leak.
# Prints "N passed, N failed" last.
set -uo pipefail
BIN=$(realpath "${1:-build/readyd}")
HERE=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
STACK=$HERE/../stack/stack.sh
WORK=$(mktemp -d /tmp/readyd-vg.XXXXXX)
chmod 755 "$WORK"
pass=0 failed=0
VG=(valgrind -q --leak-check=full --show-leak-kinds=all
	--errors-for-leak-kinds=all --error-exitcode=99)

ok() { echo "ok - $*"; pass=$((pass + 1)); }
ko() { echo "not ok - $*"; failed=$((failed + 1)); }
cleanup() {
	[[ -n ${PID:-} ]] && kill -KILL "$PID" 2>/dev/null
	"$STACK" stop "$WORK/stack" >/dev/null 2>&1
	rm -rf -- "$WORK"
}
trap cleanup EXIT INT TERM

"$STACK" start "$WORK/stack" >/dev/null 2>&1 || { echo "stack failed"; exit 1; }
# shellcheck disable=SC1091
. "$WORK/stack/env"
PORT=$("$STACK" free-port)
# Under valgrind a SCRAM login to PostgreSQL takes 0.7-1 s (measured with
# "valgrind readyd once"), so timeouts of 1 s would fail healthy servers.
cat >"$WORK/readyd.conf" <<CONF
[daemon]
listen = 127.0.0.1:$PORT
[defaults]
interval = 5s
timeout = 5s
retries = 2
start_interval = 1s
fast_interval = 250ms
[check postgres]
kind = postgres
host = \${POSTGRES_HOST}
port = \${POSTGRES_PORT}
dbname = \${POSTGRES_DB}
user = \${POSTGRES_USER}
password = \${POSTGRES_PASSWORD}
[check pgbouncer]
kind = pgbouncer
host = \${DB_HOST}
port = \${DB_PORT}
dbname = \${DB_NAME}
user = \${DB_USER}
password = \${DB_PASSWORD}
options = -c statement_timeout=0
depends_on = postgres
[check redis-cache]
kind = redis
host = localhost
port = \${REDIS_PORT}
password = \${REDIS_PASSWORD}
[group user-service]
checks = pgbouncer redis-cache
CONF

code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT$1"; }
wait_code() { # PATH CODE SECONDS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		[[ $(code "$1") == "$2" ]] && return 0
		sleep 0.1
	done
	return 1
}

"${VG[@]}" "$BIN" serve -c "$WORK/readyd.conf" >"$WORK/serve.log" 2>&1 &
PID=$!
wait_code /ready 200 60 && ok "serve: all pass under valgrind" || ko "serve: all pass"
"$STACK" stop "$WORK/stack" redis >/dev/null 2>&1
wait_code /ready 503 30 && ok "redis stopped: 503" || ko "redis stopped: 503"
curl -s "http://127.0.0.1:$PORT/metrics" >/dev/null
"$STACK" start-server "$WORK/stack" redis >/dev/null 2>&1
wait_code /ready 200 30 && ok "redis back: 200" || ko "redis back: 200"
"$STACK" freeze "$WORK/stack" postgres >/dev/null 2>&1
wait_code /ready 503 30 && ok "postgres frozen: 503" || ko "postgres frozen: 503"
"$STACK" thaw "$WORK/stack" postgres >/dev/null 2>&1
wait_code /ready 200 30 && ok "postgres thawed: 200" || ko "postgres thawed: 200"
kill -HUP "$PID"
sleep 2
wait_code /ready 200 30 && ok "after SIGHUP: 200" || ko "after SIGHUP: 200"
for p in /ready?verbose /ready/user-service /live /nope; do code "$p" >/dev/null; done
curl -s -X POST "http://127.0.0.1:$PORT/ready" >/dev/null
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=
if [[ $rc == 0 ]]; then ok "serve: valgrind clean, exit 0"; else
	ko "serve: valgrind exit $rc"
	grep -v "readyd: " "$WORK/serve.log" | head -40
fi

run_vg() { # NAME EXPECTED-EXIT ARGS...
	local name=$1 want=$2 rc
	shift 2
	"${VG[@]}" "$BIN" "$@" >"$WORK/$name.log" 2>&1
	rc=$?
	if [[ $rc == "$want" ]]; then ok "$name: exit $rc, valgrind clean"; else
		ko "$name: exit $rc (want $want)"
		head -40 "$WORK/$name.log"
	fi
}
run_vg once 0 once -c "$WORK/readyd.conf"
run_vg once-json 0 once --json -c "$WORK/readyd.conf" user-service
run_vg wait 0 wait -c "$WORK/readyd.conf" --timeout 20s
run_vg config 0 config -c "$WORK/readyd.conf"
run_vg config-bad 78 config -c /nonexistent/readyd.conf
run_vg check-down 1 check --url "http://127.0.0.1:$PORT/ready" --timeout 2s
"$STACK" stop "$WORK/stack" redis >/dev/null 2>&1
run_vg once-fail 1 once -c "$WORK/readyd.conf"
"$STACK" start-server "$WORK/stack" redis >/dev/null 2>&1

echo "$pass passed, $failed failed"
[[ $failed == 0 ]]
