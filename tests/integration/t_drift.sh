#!/usr/bin/env bash
# PgBouncer's admin console (issue 11): drift and pool pressure.
#  - As shipped, the stack matches the data model: pass, gauges in /metrics.
#  - PgBouncer restarted with pool_mode = session: pgbouncer warn, reason
#    drift, naming pool_mode (output, findings, ?verbose, /metrics, the
#    status page); /ready stays 200 with status warn. Back: pass.
#  - A pool of one server connection held by a transaction (pg_sleep) with
#    another client waiting: warn, reason saturated, cl_waiting and maxwait
#    in the output; past fail_maxwait: fail saturated (503); the clients
#    gone: pass again.
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
	"expect_max_client_conn = 100" 'expect_listen_port = ${DB_PORT}'
start_readyd "$conf" || exit 1
wait_check pgbouncer pass "" 15 || exit 1
m=$(http_body "$READYD_URL/metrics")
assert_contains "$m" 'readyd_pgbouncer_cl_waiting{check="pgbouncer",kind="pgbouncer"} 0' \
	"as shipped: /metrics has the cl_waiting gauge (0)"
assert_contains "$m" 'readyd_pgbouncer_maxwait_seconds{check="pgbouncer",kind="pgbouncer"} 0' \
	"as shipped: /metrics has the maxwait gauge (0)"
assert_not_contains "$m" 'readyd_check_finding{' "as shipped: no finding"

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
stop_readyd

# ---- pool pressure
echo "# default_pool_size = 1, one transaction holding it, one client waiting"
stack pgbouncer-set "$STACK_DIR" default_pool_size=1
conf=$T_CONF/saturated.conf
drift_config "$conf" "warn_cl_waiting = 1" "warn_maxwait = 1s" "fail_maxwait = 12s"
start_readyd "$conf" || exit 1
wait_check pgbouncer pass "" 15 || exit 1
client "BEGIN; SELECT pg_sleep(120)"
sleep 0.5
client "SELECT 1"
t0=$(now)
wait_check pgbouncer warn saturated 10
out=$(field pgbouncer output)
assert_match "$out" '^pool hdms_db is exhausted: cl_waiting=[1-9][0-9]* maxwait=[0-9.]+s' \
	"saturated: output has cl_waiting and maxwait"
assert_eq "$(field pgbouncer 'findings[0].key')" pool "saturated: findings[0].key is pool"
http_req "$READYD_URL/ready"
assert_eq "$HTTP_STATUS" 200 "saturated (warn): /ready still 200"
m=$(http_body "$READYD_URL/metrics")
check "grep -Eq '^readyd_pgbouncer_cl_waiting\\{check=\"pgbouncer\",kind=\"pgbouncer\"\\} [1-9]' <<<\"\$m\"" \
	"saturated: /metrics cl_waiting gauge >= 1" "$(grep pgbouncer_ <<<"$m")"
assert_contains "$m" 'readyd_check_finding{check="pgbouncer",kind="pgbouncer",reason="saturated",key="pool"} 1' \
	"saturated: /metrics readyd_check_finding saturated"
echo "# the oldest wait passes fail_maxwait (12s)"
wait_check pgbouncer fail saturated 30
out=$(field pgbouncer output)
assert_match "$out" 'cl_waiting=[1-9][0-9]* maxwait=(1[2-9]|[2-9][0-9])\.[0-9]s' \
	"saturated (fail): output has cl_waiting and a maxwait past 12s"
http_req "$READYD_URL/ready"
assert_eq "$HTTP_STATUS" 503 "saturated (fail): /ready 503"
echo "# the clients leave"
release
wait_check pgbouncer pass "" 15
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
