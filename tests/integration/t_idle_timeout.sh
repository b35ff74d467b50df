#!/usr/bin/env bash
# A server that closes idle clients (Redis `timeout 1`) closes every watched
# connection: readyd probes at once each time, and that is no news. The
# checks stay pass with no failure, the drops are counted in /metrics, and
# the log has no line about them (debug level only).
# 1. heartbeat 5s, longer than the server's idle timeout: the server closes
#    the watched connection between heartbeats; no alarm.
# 2. the default heartbeat (2s), racing the server's close (Redis closes a
#    client idle for more than 1 s, checked about every 100 ms): whether a
#    heartbeat or the close comes first, no failure, no alarm.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

redis() {
	REDISCLI_AUTH=${REDIS_PASSWORD:-} redis-cli -h "$REDIS_HOST" \
		-p "$REDIS_PORT" --no-auth-warning "$@"
}
on_exit "REDISCLI_AUTH=\${REDIS_PASSWORD:-} redis-cli -h $REDIS_HOST -p $REDIS_PORT --no-auth-warning CONFIG SET timeout 0 >/dev/null 2>&1"

metric() { # NAME CHECK
	http_body "$READYD_URL/metrics" |
		awk -v p="$1{check=\"$2\"," 'index($0, p) == 1 { print $NF; exit }'
}

conf=$T_CONF/idle.conf
write_config_header "$conf"
cat >>"$conf" <<'CONF'
watch = yes
heartbeat = 5s
interval = 30s
timeout = 2s
fast_interval = 200ms

[check redis-cache]
kind = redis
host = ${REDIS_HOST}
port = ${REDIS_PORT}
password = ${REDIS_PASSWORD:-}
CONF
# the [defaults] of the header come first; ours override them
sed -i 's/^interval = 1s$//; s/^timeout = 1s$//' "$conf"
start_readyd "$conf" || exit 1
wait_check redis-cache pass "" 10 || exit 1

assert_eq "$(redis CONFIG SET timeout 1)" OK "redis: CONFIG SET timeout 1"
sleep 5
assert_eq "$(field redis-cache status)" pass "idle timeout: redis-cache stays pass"
assert_eq "$(field redis-cache consecutive_failures)" 0 "idle timeout: no failure counted"
fails=$(http_body "$READYD_URL/metrics" | awk '/^readyd_check_failures_total\{check="redis-cache"/ { s += $NF } END { print s + 0 }')
assert_eq "$fails" 0 "idle timeout: readyd_check_failures_total is 0 for every reason"
d=$(metric readyd_check_watch_drops_total redis-cache)
expect "idle timeout: the closed watched connections are counted (drops=$d >= 1)" fle 1 "${d:-0}"
assert_eq "$(http_status "$READYD_URL/ready")" 200 "idle timeout: /ready 200"
assert_not_contains "$(cat "$READYD_LOG")" "connection closed" \
	"idle timeout: the drops are not logged at the default level"
stop_readyd

echo "# the default heartbeat (2s) against the server's idle timeout (1s)"
assert_eq "$(redis CONFIG SET timeout 0)" OK "redis: CONFIG SET timeout 0"
sed -i 's/^heartbeat = 5s$//' "$conf"
start_readyd "$conf" || exit 1
wait_check redis-cache pass "" 10 || exit 1
assert_eq "$(redis CONFIG SET timeout 1)" OK "redis: CONFIG SET timeout 1"
sleep 8
assert_eq "$(field redis-cache status)" pass "heartbeat 2s: redis-cache stays pass"
fails=$(http_body "$READYD_URL/metrics" | awk '/^readyd_check_failures_total\{check="redis-cache"/ { s += $NF } END { print s + 0 }')
assert_eq "$fails" 0 "heartbeat 2s: readyd_check_failures_total is 0 for every reason"
assert_eq "$(http_status "$READYD_URL/ready")" 200 "heartbeat 2s: /ready 200"
stop_readyd
