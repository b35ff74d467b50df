#!/usr/bin/env bash
# The tcp kind: a plain connect to host:port. A real listener passes, a
# closed port fails with reason refused, a real Redis port passes;
# `readyd once` against both; /ready with tcp checks. With watch (the
# default) the listener going away is seen at once (the kept connection
# closes), not at the next 30 s interval.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

LISTENER_PID=
on_exit '[[ -n $LISTENER_PID ]] && kill "$LISTENER_PID" 2>/dev/null; wait "$LISTENER_PID" 2>/dev/null'

# A listener that accepts and holds every connection until it is killed.
start_listener() {
	local portfile=$T_ART/listener.port
	rm -f -- "$portfile"
	python3 - "$portfile" <<'PY' &
import os, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
PY
	LISTENER_PID=$!
	wait_for "[[ -s '$portfile' ]]" 10 || return 1
	LISTENER_PORT=$(cat "$portfile")
}

start_listener || { fail "python3 listener started"; exit 1; }
ok "listener on 127.0.0.1:$LISTENER_PORT"
CLOSED_PORT=$(free_port)

conf=$T_CONF/tcp.conf
write_config_header "$conf"
cat >>"$conf" <<CONF

[check web]
kind = tcp
host = 127.0.0.1
port = $LISTENER_PORT
interval = 30s

[check closed]
kind = tcp
host = localhost
port = $CLOSED_PORT

[check redis-port]
kind = tcp
host = \${REDIS_HOST}
port = \${REDIS_PORT}

[group app]
checks = web redis-port
CONF

# ---- readyd once against the open and the closed port
run_cmd once-open "$READYD" once -c "$conf" web redis-port
assert_eq "$RC" 0 "readyd once web redis-port: exit 0" "$OUT$ERR"
run_cmd once-closed "$READYD" once -c "$conf" closed
assert_eq "$RC" 1 "readyd once closed: exit 1" "$OUT$ERR"
assert_contains "$OUT$ERR" "refused" "readyd once closed: says refused"
run_cmd once-json "$READYD" once --json -c "$conf" web closed
assert_eq "$(jq -r .checks.web.kind <<<"$OUT")" tcp "once --json: web is kind tcp"
assert_eq "$(jq -r .checks.closed.reason <<<"$OUT")" refused "once --json: closed reason refused"
assert_eq "$(jq -r .checks.web.target <<<"$OUT")" "127.0.0.1:$LISTENER_PORT" \
	"once --json: web target is host:port"

# ---- readyd serve: /ready with tcp checks
start_readyd "$conf" || exit 1
wait_check web pass "" 15
wait_check redis-port pass "" 15
wait_check closed fail refused 15
assert_contains "$(field closed output)" "Connection refused" "closed: output says Connection refused"
assert_eq "$(field closed target)" "localhost:$CLOSED_PORT" "closed: target localhost:PORT"
http_req "$READYD_URL/ready"
assert_eq "$HTTP_STATUS/$(jq -r .status <<<"$HTTP_BODY")" 200/warn "/ready with a closed tcp port in no group: 200, status warn"
assert_eq "$(http_status "$READYD_URL/ready/app")" 200 "/ready/app (web, redis-port): 200"
assert_eq "$(http_status "$READYD_URL/ready/web")" 200 "/ready/web: 200"
assert_eq "$(http_status "$READYD_URL/ready?exclude=closed")" 200 "/ready?exclude=closed: 200"
assert_contains "$(http_body "$READYD_URL/metrics")" 'check="web"' "/metrics lists the tcp check"

# ---- the listener goes away: the watched connection closes
t0=$(now)
kill "$LISTENER_PID" 2>/dev/null
wait "$LISTENER_PID" 2>/dev/null
LISTENER_PID=
wait_check web fail refused 10
check "fle $(elapsed "$t0") 10" "web: fails long before its 30 s interval (watch)"
assert_eq "$(http_status "$READYD_URL/ready/app")" 503 "/ready/app without the listener: 503"
wait_check redis-port pass "" 5
stop_readyd

# ---- configuration: a port is required, credentials are refused
bad=$T_CONF/tcp-bad.conf
write_config_header "$bad"
printf '\n[check x]\nkind = tcp\nhost = 127.0.0.1\nuser = app\n' >>"$bad"
run_cmd config-bad "$READYD" config -c "$bad"
assert_eq "$RC" 78 "tcp without port, with user: exit 78" "$ERR"
assert_contains "$ERR" "[check x] port: missing (accepted: 1-65535)" "tcp: port is required"
assert_contains "$ERR" 'user = "app": not used by kind tcp' "tcp: user is not used by kind tcp"
