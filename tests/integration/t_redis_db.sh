#!/usr/bin/env bash
# A Redis with fewer logical databases than the checks use (`databases 2`):
# db 0 and 1 pass, db 2 fails with reason rejected ("DB index is out of
# range"), the groups follow. Back to 16 databases, all pass.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

conf=$T_CONF/std.conf
write_std_config "$conf"
start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1

echo "# redis with databases 2"
stack redis-databases "$STACK_DIR" 2
wait_check redis-celery fail rejected 15
assert_contains "$(field redis-celery output)" "out of range" \
	"redis-celery: output says the DB index is out of range"
for c in redis-cache redis-channels postgres pgbouncer; do
	wait_check "$c" pass "" 15
done
assert_eq "$(http_status "$READYD_URL/ready/file-service")" 503 "/ready/file-service (db 2): 503"
assert_eq "$(http_status "$READYD_URL/ready/communication-service")" 200 "/ready/communication-service (db 1): 200"
assert_eq "$(http_status "$READYD_URL/ready/user-service")" 200 "/ready/user-service (db 0): 200"
assert_eq "$(http_status "$READYD_URL/ready")" 503 "/ready: 503"
assert_eq "$(http_status "$READYD_URL/ready?exclude=redis-celery")" 200 "/ready?exclude=redis-celery: 200"

run_cmd once "$READYD" once -c "$conf" redis-celery
assert_eq "$RC" 1 "readyd once redis-celery: exit 1"
run_cmd once-cache "$READYD" once -c "$conf" redis-cache redis-channels
assert_eq "$RC" 0 "readyd once redis-cache redis-channels: exit 0"

echo "# redis with databases 16"
stack redis-databases "$STACK_DIR" 16
wait_check redis-celery pass "" 20
wait_all_pass 20
stop_readyd
