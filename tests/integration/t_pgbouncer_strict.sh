#!/usr/bin/env bash
# PgBouncer without `options` in ignore_startup_parameters (the 1.18
# default): the pgbouncer check, which sends the services' options, is
# rejected with a hint naming ignore_startup_parameters; a check without
# options still passes; back to the default, it passes again.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

conf=$T_CONF/strict.conf
write_std_config "$conf"
cat >>"$conf" <<'EOF2'

[check pgb-noopts]
kind = pgbouncer
host = ${DB_HOST}
port = ${DB_PORT}
dbname = ${DB_NAME}
user = ${DB_USER}
password = ${DB_PASSWORD}
EOF2
start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1

echo "# pgbouncer-strict"
stack pgbouncer-strict "$STACK_DIR"
wait_check pgbouncer fail rejected 15
out=$(field pgbouncer output)
assert_contains "$out" ignore_startup_parameters "pgbouncer: output names ignore_startup_parameters"
assert_contains "$out" "options" "pgbouncer: output names the options parameter"
wait_check pgb-noopts pass "" 15
for c in postgres "${REDIS_CHECKS[@]}"; do
	assert_eq "$(field "$c" status)" pass "strict pgbouncer: $c stays pass"
done
http_req "$READYD_URL/ready/user-service"
assert_eq "$HTTP_STATUS" 503 "strict pgbouncer: /ready/user-service 503"
http_req "$READYD_URL/ready?verbose"
check "grep -qxF '[-]pgbouncer failed: rejected' <<<\"\$HTTP_BODY\"" \
	"?verbose has '[-]pgbouncer failed: rejected'" "$HTTP_BODY"

# Stays rejected (no flapping between reasons) over a few intervals.
sleep 2.5
assert_eq "$(field pgbouncer reason)" rejected "pgbouncer: still rejected 2.5 s later"

echo "# pgbouncer-default"
stack pgbouncer-default "$STACK_DIR"
wait_check pgbouncer pass "" 20
wait_all_pass 20
stop_readyd
