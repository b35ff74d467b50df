#!/usr/bin/env bash
# run-local.sh READYD_BIN: `make run`. Starts a throwaway PostgreSQL,
# PgBouncer and Redis on loopback (in build/stack, or $READYD_STACK_DIR;
# Redis without a password, as in development), then runs `READYD_BIN serve`
# in the foreground with the built-in default configuration, which reads the
# stack's environment. Ctrl-C (or SIGTERM) stops readyd and the stack.
set -euo pipefail

BIN=${1:?usage: run-local.sh READYD_BIN}
[[ -x $BIN ]] || {
	echo "run-local.sh: $BIN is not an executable" >&2
	exit 1
}
BIN=$(realpath -- "$BIN")
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
STACK_DIR=${READYD_STACK_DIR:-}
if [[ -z $STACK_DIR ]]; then
	STACK_DIR=$ROOT/build/stack
	# PostgreSQL runs as user postgres: it must reach the directory, and
	# the unix socket path must stay short. Else use /tmp.
	if ((${#STACK_DIR} >= 80)) || ! setpriv --reuid=postgres --regid=postgres \
		--init-groups -- test -x "$ROOT" 2>/dev/null; then
		STACK_DIR=/tmp/readyd-stack-$(id -u)
	fi
fi
STACK=$HERE/stack.sh

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
	if command -v ss >/dev/null 2>&1; then
		[[ -n $(ss -Htln "sport = :$1" 2>/dev/null) ]] && return 0
	fi
	return 1
}

READYD_PID=
# shellcheck disable=SC2317 # called from the trap
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n $READYD_PID ]] && kill -0 "$READYD_PID" 2>/dev/null; then
		kill -TERM "$READYD_PID" 2>/dev/null || true
		wait "$READYD_PID" 2>/dev/null || true
	fi
	echo "run-local.sh: stopping the stack in $STACK_DIR" >&2
	"$STACK" stop "$STACK_DIR" || true
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# `start` stops and wipes a previous stack in the same directory.
"$STACK" start "$STACK_DIR" --redis-password ''
# shellcheck disable=SC1091
source "$STACK_DIR/env"

port=8080
if port_in_use "$port"; then
	port=$("$STACK" free-port)
	echo "run-local.sh: 8080 is taken; readyd listens on $port" >&2
fi
export READYD_LISTEN=127.0.0.1:$port
unset READYD_CONFIG
if [[ -e /etc/readyd/readyd.conf ]]; then
	echo "run-local.sh: note: /etc/readyd/readyd.conf exists and is used" \
		"instead of the built-in default" >&2
fi

cat <<EOF

  PostgreSQL  127.0.0.1:$POSTGRES_PORT  (psql -h 127.0.0.1 -p $POSTGRES_PORT -U $POSTGRES_USER $POSTGRES_DB)
  PgBouncer   127.0.0.1:$DB_PORT
  Redis       127.0.0.1:$REDIS_PORT  (no password)
  environment: source $STACK_DIR/env
  break things: $STACK stop|start-server|freeze|thaw $STACK_DIR postgres|pgbouncer|redis

  Try:
    curl -i http://127.0.0.1:$port/ready
    curl -i 'http://127.0.0.1:$port/ready?verbose'
    curl -i http://127.0.0.1:$port/ready/file-service
    curl -i http://127.0.0.1:$port/live

  Ctrl-C stops readyd and the stack.

EOF

"$BIN" serve &
READYD_PID=$!
rc=0
wait "$READYD_PID" || rc=$?
READYD_PID=
exit "$rc"
