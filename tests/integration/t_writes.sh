#!/usr/bin/env bash
# Write-path truth: a server that answers PING / SELECT but refuses the
# applications' writes is not ready.
# 1. Redis at maxmemory with noeviction (-OOM on SET, PING still PONG):
#    the redis checks fail with reason unwritable, the server's text as
#    output; back to pass when maxmemory is lifted.
# 2. Redis as a replica of a master that is down (-READONLY): unwritable;
#    REPLICAOF NO ONE: pass.
# 3. Redis with a failed background save and stop-writes-on-bgsave-error
#    (-MISCONF, on PING too): unwritable, not protocol.
# 4. PostgreSQL with default_transaction_read_only = on: postgres and
#    pgbouncer fail with reason unwritable; off again: pass.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

rcli() {
	REDISCLI_AUTH=${REDIS_PASSWORD:-} timeout 10 redis-cli --no-auth-warning \
		-h "$REDIS_HOST" -p "$REDIS_PORT" "$@"
}
pgsql() { # SQL as the superuser, over the socket
	timeout 20 setpriv --reuid=postgres --regid=postgres --init-groups -- \
		psql -X -q -w -At -h "$STACK_PG_SOCKET_DIR" -p "$POSTGRES_PORT" \
		-U "$STACK_PG_SUPERUSER" -d postgres -c "$1"
}
OLD_SAVE=$(rcli CONFIG GET save | sed -n 2p)
undo_redis() {
	rcli CONFIG SET maxmemory 0 >/dev/null 2>&1
	rcli REPLICAOF NO ONE >/dev/null 2>&1
	# the next files' redis checks expect the shipped save points
	rcli CONFIG SET save "$OLD_SAVE" >/dev/null 2>&1
}
on_exit undo_redis
on_exit "pgsql 'ALTER SYSTEM RESET default_transaction_read_only' >/dev/null 2>&1; pgsql 'SELECT pg_reload_conf()' >/dev/null 2>&1"

conf=$T_CONF/std.conf
write_std_config "$conf"
start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1
REDIS_CHECKS=(redis-cache redis-channels redis-celery)

# --------------------------------------------------------------- 1: OOM
echo "# redis: maxmemory reached, noeviction"
rcli SET readyd-test:ballast "$(head -c 65536 /dev/zero | tr '\0' x)" >/dev/null
used=$(rcli INFO memory | awk -F: '/^used_memory:/ { print $2 + 0 }')
rcli CONFIG SET maxmemory-policy noeviction >/dev/null
rcli CONFIG SET maxmemory $((used / 2)) >/dev/null
out=$(rcli SET readyd-test:probe 1 2>&1)
assert_contains "$out" OOM "redis refuses a write with -OOM (redis-cli: $out)"
assert_eq "$(rcli PING)" PONG "redis still answers PING with PONG"
for c in "${REDIS_CHECKS[@]}"; do
	wait_check "$c" fail unwritable 15
done
assert_contains "$(field redis-cache output)" "SET: OOM" "redis-cache: output is the server's -OOM text"
assert_eq "$(http_status "$READYD_URL/ready/user-service")" 503 "OOM: /ready/user-service 503"
for c in postgres pgbouncer; do
	assert_eq "$(field "$c" status)" pass "OOM: $c stays pass"
done
rcli CONFIG SET maxmemory 0 >/dev/null
rcli DEL readyd-test:ballast >/dev/null
for c in "${REDIS_CHECKS[@]}"; do
	wait_check "$c" pass "" 15
done

# ----------------------------------------------------------- 2: READONLY
echo "# redis: a replica (read-only) of a master that is down"
dead=$(free_port)
rcli REPLICAOF 127.0.0.1 "$dead" >/dev/null
out=$(rcli SET readyd-test:probe 1 2>&1)
assert_contains "$out" READONLY "a replica refuses writes with -READONLY ($out)"
for c in "${REDIS_CHECKS[@]}"; do
	wait_check "$c" fail "" 15
done
reason=$(field redis-cache reason)
check "[[ '$reason' == unwritable || '$reason' == starting ]]" \
	"READONLY: redis-cache fails as unwritable (or starting: MASTERDOWN on PING) - reason $reason" "$(check_json redis-cache)"
rcli REPLICAOF NO ONE >/dev/null
for c in "${REDIS_CHECKS[@]}"; do
	wait_check "$c" pass "" 15
done

# ------------------------------------------------------------ 3: MISCONF
echo "# redis: a failed background save, stop-writes-on-bgsave-error yes"
# Redis runs as root here, which writes anywhere, and CONFIG SET dir is a
# protected config: make its directory immutable (ext4) for a moment.
command -v chattr >/dev/null || { fail "chattr is installed (e2fsprogs)"; exit 1; }
rcli CONFIG SET stop-writes-on-bgsave-error yes >/dev/null
rcli CONFIG SET save "900 1" >/dev/null
on_exit "chattr -i '$STACK_DIR' 2>/dev/null"
if chattr +i "$STACK_DIR" 2>"$T_ART/chattr.err"; then
	rcli BGSAVE >/dev/null 2>&1
	wait_for "rcli INFO persistence | grep -q 'rdb_last_bgsave_status:err'" 10
	chattr -i "$STACK_DIR"
	out=$(rcli SET readyd-test:probe 1 2>&1)
	assert_contains "$out" MISCONF "redis refuses writes with -MISCONF ($out)"
	for c in "${REDIS_CHECKS[@]}"; do
		wait_check "$c" fail unwritable 15
	done
	assert_contains "$(field redis-cache output)" MISCONF "MISCONF: output has the server's text"
	rcli BGSAVE >/dev/null 2>&1
	wait_for "rcli INFO persistence | grep -q 'rdb_last_bgsave_status:ok'" 15
	for c in "${REDIS_CHECKS[@]}"; do
		wait_check "$c" pass "" 15
	done
else
	fail "chattr +i on the stack directory works" "$(cat "$T_ART/chattr.err")"
fi

# --------------------------------------------------- 4: PostgreSQL read-only
echo "# postgres: default_transaction_read_only = on"
pgsql "ALTER SYSTEM SET default_transaction_read_only = on" >/dev/null
pgsql "SELECT pg_reload_conf()" >/dev/null
# new sessions (readyd's fresh logins, PgBouncer's new server connections)
# read the setting; drop PgBouncer's pooled ones so they reconnect
pgsql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '$DB_USER' AND pid <> pg_backend_pid()" >/dev/null
wait_check postgres fail unwritable 20
assert_contains "$(field postgres output)" "read" "postgres: output says read-only"
wait_check pgbouncer fail unwritable 20
for c in "${REDIS_CHECKS[@]}"; do
	assert_eq "$(field "$c" status)" pass "read-only postgres: $c stays pass"
done
assert_eq "$(http_status "$READYD_URL/ready/user-service")" 503 "read-only postgres: /ready/user-service 503"
pgsql "ALTER SYSTEM RESET default_transaction_read_only" >/dev/null
pgsql "SELECT pg_reload_conf()" >/dev/null
pgsql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '$DB_USER' AND pid <> pg_backend_pid()" >/dev/null
wait_check postgres pass "" 20
wait_check pgbouncer pass "" 20
wait_all_pass 20
stop_readyd
