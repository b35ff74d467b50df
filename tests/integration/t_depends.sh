#!/usr/bin/env bash
# shellcheck disable=SC2016 # ${VAR} for readyd to expand, $N for awk
# Dependencies (README: Fast detection; issue 4 item 2). The pgbouncer
# check has `depends_on = postgres`:
# - an auth failure of the dependency (wrong password in the postgres
#   check) does not propagate: pgbouncer stays pass;
# - a depends_on cycle (or an unknown name) is a configuration error:
#   `readyd config` and `readyd serve` exit 78 naming it;
# - PostgreSQL stopped: pgbouncer is reported fail at once with reason
#   `dependency` and an output naming postgres, /ready/user-service
#   (pgbouncer + redis-cache) answers 503 while redis-cache stays pass;
#   PostgreSQL started: pgbouncer's own probing takes over at once and both
#   pass again.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

# write_dep_config FILE POSTGRES_PASSWORD_EXPR (written as is: readyd
# expands ${VAR})
write_dep_config() {
	write_config_header "$1"
	sed -i 's/^interval = .*/interval = 2s/' "$1"
	printf 'fast_interval = 200ms\n' >>"$1"
	cat >>"$1" <<EOF

[check postgres]
kind = postgres
host = \${POSTGRES_HOST}
port = \${POSTGRES_PORT}
dbname = \${POSTGRES_DB}
user = \${POSTGRES_USER}
password = $2

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
host = \${REDIS_HOST}
port = \${REDIS_PORT}
password = \${REDIS_PASSWORD:-}
db = 0

[group user-service]
checks = pgbouncer redis-cache
EOF
}

# ------------------------------------- auth failure does not propagate
wrong=$(new_secret wrongpw)
conf=$T_CONF/auth.conf
write_dep_config "$conf" "$wrong"
run_cmd config-auth "$READYD" config -c "$conf"
assert_eq "$RC" 0 "depends_on = postgres: the configuration is valid" "$ERR"
start_readyd "$conf" || exit 1
wait_check postgres fail auth 10
wait_check pgbouncer pass "" 10
sleep 1.5 # several failed postgres attempts (fast_interval 200ms)
j=$(check_json pgbouncer)
assert_eq "$(jq -r .status <<<"$j")" pass "postgres failing with auth: pgbouncer stays pass" "$j"
assert_eq "$(jq -r .reason <<<"$j")" null "postgres failing with auth: pgbouncer has no reason (not dependency)" "$j"
assert_eq "$(http_status "$READYD_URL/ready/user-service")" 200 \
	"postgres failing with auth: /ready/user-service (pgbouncer redis-cache) 200"
# postgres is in no group: no service needs it, so /ready warns (200).
http_req "$READYD_URL/ready"
assert_eq "$HTTP_STATUS" 200 "postgres (in no group) failing with auth: /ready 200"
assert_eq "$(jq -r .status <<<"$HTTP_BODY")" warn "postgres failing with auth: /ready status warn" "$HTTP_BODY"
assert_eq "$(jq -r .checks.postgres.status <<<"$HTTP_BODY")" warn "postgres failing with auth: its own status warn in /ready" "$HTTP_BODY"
assert_eq "$(jq -r .checks.pgbouncer.status <<<"$HTTP_BODY")" pass "postgres failing with auth: pgbouncer pass in /ready"
http_req "$READYD_URL/ready?verbose"
assert_contains "$HTTP_BODY" "[!]postgres failed: auth (in no group: warn)" "postgres failing with auth: ?verbose flags it"
assert_contains "$HTTP_BODY" $'\nready (warn)' "postgres failing with auth: ?verbose ends 'ready (warn)'"
http_req "$READYD_URL/ready/postgres"
assert_eq "$HTTP_STATUS" 503 "postgres failing with auth: /ready/postgres (asked by name) 503"
assert_eq "$(jq -r .checks.postgres.status <<<"$HTTP_BODY")" fail "postgres failing with auth: /ready/postgres says fail"
m=$(http_body "$READYD_URL/metrics")
assert_contains "$m" $'\nreadyd_ready_all 1\n' "postgres failing with auth: readyd_ready_all 1"
assert_contains "$m" $'\nreadyd_warn_all 1\n' "postgres failing with auth: readyd_warn_all 1"
assert_contains "$m" 'readyd_warn{group="user-service"} 0' "postgres failing with auth: readyd_warn{user-service} 0"
assert_contains "$m" 'readyd_check_state{check="postgres",kind="postgres",state="fail"} 1' "postgres failing with auth: its state gauge stays fail"
run_cmd check-warn "$READYD" check --url "$READYD_URL/ready"
assert_eq "$RC" 0 "postgres failing with auth: readyd check exits 0 (warn is ready)" "$OUT"
run_cmd once-warn "$READYD" once -c "$conf"
assert_eq "$RC" 0 "postgres failing with auth: readyd once exits 0 (warn)" "$OUT" "$ERR"
assert_contains "$OUT" "ready (warn)" "postgres failing with auth: readyd once says 'ready (warn)'"
run_cmd once-warn-named "$READYD" once -c "$conf" postgres
assert_eq "$RC" 1 "postgres failing with auth: readyd once postgres exits 1" "$OUT" "$ERR"
stop_readyd

# ------------------------------------------------------------ cycles
cyc=$T_CONF/cycle.conf
write_dep_config "$cyc" '${POSTGRES_PASSWORD}'
sed -i 's/^depends_on = postgres$/depends_on = redis-cache/' "$cyc"
# redis-cache -> pgbouncer -> redis-cache
sed -i '/^\[check redis-cache\]$/a depends_on = pgbouncer' "$cyc"
run_cmd config-cycle "$READYD" config -c "$cyc"
assert_eq "$RC" 78 "a depends_on cycle: readyd config exits 78" "$OUT" "$ERR"
assert_match "$ERR" '[Cc]ycle' "a depends_on cycle: the error says cycle" "$ERR"
assert_match "$ERR" 'pgbouncer' "a depends_on cycle: the error names pgbouncer"
assert_match "$ERR" 'redis-cache' "a depends_on cycle: the error names redis-cache"
echo "# cycle error: $ERR"
run_cmd serve-cycle timeout 10 "$READYD" serve -c "$cyc" --listen "127.0.0.1:$(free_port)"
assert_eq "$RC" 78 "a depends_on cycle: readyd serve exits 78" "$ERR"

self=$T_CONF/self.conf
write_dep_config "$self" '${POSTGRES_PASSWORD}'
sed -i 's/^depends_on = postgres$/depends_on = pgbouncer/' "$self"
run_cmd config-self "$READYD" config -c "$self"
assert_eq "$RC" 78 "depends_on itself: readyd config exits 78" "$ERR"
assert_contains "$ERR" pgbouncer "depends_on itself: the error names the check"

unknown=$T_CONF/unknown.conf
write_dep_config "$unknown" '${POSTGRES_PASSWORD}'
sed -i 's/^depends_on = postgres$/depends_on = postgress/' "$unknown"
run_cmd config-unknown "$READYD" config -c "$unknown"
assert_eq "$RC" 78 "depends_on an unknown check: readyd config exits 78" "$ERR"
assert_contains "$ERR" postgress "depends_on an unknown check: the error names it"

# ------------------------------------------------ PostgreSQL stopped
conf=$T_CONF/dep.conf
write_dep_config "$conf" '${POSTGRES_PASSWORD}'
start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1

echo "# stopping postgres"
stack stop "$STACK_DIR" postgres
wait_check postgres fail "" 10
t0=$(now)
if wait_for "[[ \$(field pgbouncer reason) == dependency ]]" 1; then
	ok "postgres down: pgbouncer reason dependency at once ($(elapsed "$t0") s after postgres showed fail)"
else
	fail "postgres down: pgbouncer reason dependency within 1 s of postgres failing" "$(check_json pgbouncer)"
fi
j=$(check_json pgbouncer)
assert_eq "$(jq -r .status <<<"$j")" fail "postgres down: pgbouncer status fail" "$j"
assert_eq "$(jq -r .reason <<<"$j")" dependency "postgres down: pgbouncer reason dependency" "$j"
assert_contains "$(jq -r .output <<<"$j")" postgres "postgres down: pgbouncer output names postgres"
echo "# pgbouncer: $j"
assert_eq "$(http_status "$READYD_URL/ready/user-service")" 503 "postgres down: /ready/user-service 503"
assert_eq "$(http_status "$READYD_URL/ready/pgbouncer")" 503 "postgres down: /ready/pgbouncer 503"
assert_eq "$(field redis-cache status)" pass "postgres down: redis-cache stays pass"
http_req "$READYD_URL/ready?verbose"
check "grep -qxF '[-]pgbouncer failed: dependency' <<<\"\$HTTP_BODY\"" \
	"postgres down: ?verbose has '[-]pgbouncer failed: dependency'" "$HTTP_BODY"
sleep 2 # still dependency while postgres stays down (not replaced by a probe result)
assert_eq "$(field pgbouncer reason)" dependency "postgres down 2 s later: pgbouncer still reason dependency"

echo "# starting postgres"
stack start-server "$STACK_DIR" postgres
wait_check postgres pass "" 15
t0=$(now)
# pgbouncer's own probing takes over at once (it may then fail on its own
# for PgBouncer's server_login_retry, 15 s).
if wait_for "[[ \$(field pgbouncer reason) != dependency ]]" 2; then
	ok "postgres back: pgbouncer no longer reason dependency after $(elapsed "$t0") s ($(field pgbouncer status))"
else
	fail "postgres back: pgbouncer no longer reason dependency within 2 s" "$(check_json pgbouncer)"
fi
wait_check pgbouncer pass "" 30
wait_all_pass 10
assert_eq "$(http_status "$READYD_URL/ready/user-service")" 200 "postgres back: /ready/user-service 200"
stop_readyd
