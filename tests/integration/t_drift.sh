#!/usr/bin/env bash
# PgBouncer's admin console (issue 11): drift and pool pressure.
#  - As shipped, the stack matches the data model: pass, gauges in /metrics.
#  - PgBouncer restarted with pool_mode = session: pgbouncer warn, reason
#    drift, naming pool_mode (output, findings, ?verbose, /metrics, the
#    status page); /ready stays 200 with status warn. Back: pass.
#  - A pool of one server connection kept busy by three clients running
#    short transactions back to back (they queue, and are served): warn,
#    reason saturated, cl_waiting and maxwait in the output; /ready 200.
#  - The same pool held by one long transaction (pg_sleep) with another
#    client waiting: readyd's own query queues past fail_maxwait: fail,
#    reason saturated (503), not timeout. The clients gone: pass again.
#  - default_pool_size = 50 on a PostgreSQL with max_connections 50 (3
#    reserved): warn drift naming max_connections.
#  - A postgres check expecting a newer major than the server's: warn drift
#    naming server_version.
#  - A refused admin login is logged once, skipped; the check passes.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

PIDS=$T_CONF/clients # psql clients started, one PID a line
: >"$PIDS"
release() {
	local pid
	while read -r pid; do kill -TERM "$pid" 2>/dev/null; done <"$PIDS"
	while read -r pid; do wait "$pid" 2>/dev/null; done <"$PIDS"
	: >"$PIDS"
}
on_exit release

# client SQL: one psql through PgBouncer as the application, in the
# background (its PID recorded).
client() {
	PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=5 \
		psql -X -q -w -At -h 127.0.0.1 -p "$DB_PORT" -U "$DB_USER" \
		-d "$DB_NAME" -c "$1" >/dev/null 2>&1 </dev/null &
	echo $! >>"$PIDS"
}

# drift_config FILE [EXTRA KEY LINES]: one pgbouncer check with the admin
# console and the data model's expectations (the listen port is the
# stack's: it runs on a free port).
drift_config() {
	local f=$1
	shift
	write_config_header "$f"
	sed -i -e 's/^interval = .*/interval = 2s/' -e 's/^timeout = .*/timeout = 2s/' "$f"
	cat >>"$f" <<'EOF'

[check pgbouncer]
kind = pgbouncer
host = ${DB_HOST}
port = ${DB_PORT}
dbname = ${DB_NAME}
user = ${DB_USER}
password = ${DB_PASSWORD}
options = -c statement_timeout=0
admin_user = ${DB_USER}
admin_password = ${DB_PASSWORD}
EOF
	printf '%s\n' "$@" >>"$f"
}

# ---- drift
conf=$T_CONF/drift.conf
drift_config "$conf" "expect_pool_mode = transaction" "expect_pool_size = 25-50" \
	"expect_max_client_conn = 100" 'expect_listen_port = ${DB_PORT}' \
	'expect_version = ${PG_MAJOR}'
newer=$((PG_MAJOR + 1))
cat >>"$conf" <<EOF

[check pg-newer]
kind = postgres
host = \${POSTGRES_HOST}
port = \${POSTGRES_PORT}
dbname = \${POSTGRES_DB}
user = \${POSTGRES_USER}
password = \${POSTGRES_PASSWORD}
expect_version = $newer
EOF
start_readyd "$conf" || exit 1
wait_check pgbouncer pass "" 15 || exit 1
wait_check pg-newer warn drift 15
assert_match "$(field pg-newer output)" "^PostgreSQL $PG_MAJOR \\(server_version_num ${PG_MAJOR}[0-9]{4}\\) is older than the expected $newer\$" \
	"server_version: output names the live and the expected major"
assert_eq "$(field pg-newer 'findings[0].key')" server_version "server_version: findings[0].key"
m=$(http_body "$READYD_URL/metrics")
assert_contains "$m" 'readyd_pgbouncer_cl_waiting{check="pgbouncer",kind="pgbouncer"} 0' \
	"as shipped: /metrics has the cl_waiting gauge (0)"
assert_contains "$m" 'readyd_pgbouncer_maxwait_seconds{check="pgbouncer",kind="pgbouncer"} 0' \
	"as shipped: /metrics has the maxwait gauge (0)"
assert_not_contains "$m" 'readyd_check_finding{check="pgbouncer"' "as shipped: no finding for pgbouncer"

echo "# pool_mode = session"
stack pgbouncer-set "$STACK_DIR" pool_mode=session
wait_check pgbouncer warn drift 15
out=$(field pgbouncer output)
assert_eq "$out" "pool_mode is session (expected transaction)" "drift: output names pool_mode, live and expected values"
assert_eq "$(field pgbouncer 'findings[0].key')" pool_mode "drift: findings[0].key is pool_mode"
assert_eq "$(field pgbouncer 'findings | length')" 1 "drift: one finding (pool size, max_client_conn, listen_port match)"
http_req "$READYD_URL/ready"
assert_eq "$HTTP_STATUS" 200 "drift: /ready still 200 (warn is ready)"
assert_eq "$(jq -r .status <<<"$HTTP_BODY")" warn "drift: /ready top-level status warn"
http_req "$READYD_URL/ready?verbose"
check "grep -qxF '[!]pgbouncer warn: drift: pool_mode is session (expected transaction)' <<<\"\$HTTP_BODY\"" \
	"drift: ?verbose has '[!]pgbouncer warn: drift: ...'" "$HTTP_BODY"
m=$(http_body "$READYD_URL/metrics")
assert_contains "$m" 'readyd_check_finding{check="pgbouncer",kind="pgbouncer",reason="drift",key="pool_mode"} 1' \
	"drift: /metrics readyd_check_finding names pool_mode"
assert_contains "$m" 'readyd_check_state{check="pgbouncer",kind="pgbouncer",state="warn"} 1' \
	"drift: /metrics readyd_check_state warn 1"
assert_contains "$m" 'readyd_check_up{check="pgbouncer",kind="pgbouncer",required="true"} 1' \
	"drift: /metrics readyd_check_up 1"
page=$(http_body "$READYD_URL/status")
assert_contains "$page" '<tr class="warn" data-check="pgbouncer" data-state="warn">' "drift: status page shows a warn row"
assert_contains "$page" 'pool_mode is session' "drift: status page shows the finding"
check "grep -q 'check pgbouncer: pass -> warn: drift: pool_mode is session' '$READYD_LOG'" \
	"drift: the change is logged" "$(tail -n 5 "$READYD_LOG")"

echo "# back to the shipped pgbouncer.ini"
stack pgbouncer-set "$STACK_DIR"
wait_check pgbouncer pass "" 15
assert_eq "$(field pgbouncer findings)" null "back: no findings"

echo "# default_pool_size = 50: more than max_connections 50 - 3 reserved"
stack pgbouncer-set "$STACK_DIR" default_pool_size=50
wait_check pgbouncer warn drift 15
out=$(field pgbouncer output)
assert_match "$out" "^the pools of hdms_db on 127.0.0.1:$POSTGRES_PORT may open 50 server connections; max_connections 50 - 3 reserved leaves 47\$" \
	"max_connections: output names the pools and the room"
assert_eq "$(field pgbouncer 'findings[0].key')" max_connections "max_connections: findings[0].key"
stack pgbouncer-set "$STACK_DIR"
wait_check pgbouncer pass "" 15

stop_readyd

# ---- pool pressure
echo "# default_pool_size = 1, three clients running short transactions"
stack pgbouncer-set "$STACK_DIR" default_pool_size=1
conf=$T_CONF/saturated.conf
# heartbeat 0: a heartbeat queued behind the clients may time out and
# count a failure for a moment; the scheduled attempts are under test
drift_config "$conf" "warn_cl_waiting = 1" "warn_maxwait = 1s" "fail_maxwait = 3s"
sed -i -e 's/^interval = .*/interval = 5s/' -e 's/^timeout = .*/timeout = 5s/' "$conf"
printf 'heartbeat = 0\n' >>"$conf"
start_readyd "$conf" || exit 1
wait_check pgbouncer pass "" 15 || exit 1
# busy CLIENT: a psql session running 0.3 s transactions back to back
busy() {
	local i
	for ((i = 0; i < 200; i++)); do echo "SELECT pg_sleep(0.3);"; done |
		PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=5 \
			psql -X -q -w -At -h 127.0.0.1 -p "$DB_PORT" -U "$DB_USER" \
			-d "$DB_NAME" >/dev/null 2>&1 &
	echo $! >>"$PIDS"
}
busy
busy
busy
wait_check pgbouncer warn saturated 15
out=$(field pgbouncer output)
assert_match "$out" '^pool hdms_db is exhausted: cl_waiting=[1-9][0-9]* maxwait=[0-9.]+s \(sv_active=1, sv_idle=0\)' \
	"saturated (served): output has cl_waiting and maxwait"
assert_eq "$(field pgbouncer 'findings[0].key')" pool "saturated (served): findings[0].key is pool"
http_req "$READYD_URL/ready"
assert_eq "$HTTP_STATUS" 200 "saturated (served): /ready still 200 (warn)"
m=$(http_body "$READYD_URL/metrics")
check "grep -Eq '^readyd_pgbouncer_cl_waiting\\{check=\"pgbouncer\",kind=\"pgbouncer\"\\} [1-9]' <<<\"\$m\"" \
	"saturated: /metrics cl_waiting gauge >= 1" "$(grep pgbouncer_ <<<"$m")"
assert_contains "$m" 'readyd_check_finding{check="pgbouncer",kind="pgbouncer",reason="saturated",key="pool"} 1' \
	"saturated: /metrics readyd_check_finding saturated"
release

echo "# one transaction holds the pool, a client waits behind it"
client "BEGIN; SELECT pg_sleep(120)"
sleep 0.5
client "SELECT 1"
wait_check pgbouncer fail saturated 20
out=$(field pgbouncer output)
# (readyd's own query waited fail_maxwait, or a client already had)
assert_match "$out" "^pool hdms_db is exhausted: cl_waiting=[1-9][0-9]* maxwait=[0-9.]+s .*readyd's own query (waited [0-9.]+s|queued too)" \
	"saturated (held): output has cl_waiting, maxwait and readyd's own wait"
http_req "$READYD_URL/ready"
assert_eq "$HTTP_STATUS" 503 "saturated (held): /ready 503"
echo "# the clients leave"
release
wait_check pgbouncer pass "" 15
assert_eq "$(field pgbouncer findings)" null "released: no findings"
stop_readyd

# ---- an admin login refused: logged once, skipped
stack pgbouncer-set "$STACK_DIR"
conf=$T_CONF/refused.conf
drift_config "$conf" "expect_pool_mode = transaction"
sed -i 's/^admin_password = .*/admin_password = not-the-password/' "$conf"
start_readyd "$conf" || exit 1
wait_check pgbouncer pass "" 15
sleep 5 # a few attempts
n=$(grep -c 'check pgbouncer: admin console (user app, database pgbouncer): login refused' "$READYD_LOG")
assert_eq "$n" 1 "refused admin login: logged once over several attempts"
assert_eq "$(field pgbouncer status)" pass "refused admin login: the check still passes"
assert_not_contains "$(cat "$READYD_LOG")" not-the-password "refused admin login: the password is not logged"
stop_readyd
