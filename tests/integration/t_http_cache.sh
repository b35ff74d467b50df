#!/usr/bin/env bash
# The rendered-body cache (src/http_cache.c) is never stale: /ready,
# /ready/GROUP, /ready/CHECK, /ready?verbose and /metrics are rendered once
# per change and copied after that, so once any answer shows a change,
# every other answer asked after it must show it too. Each URL is asked
# twice first (the second answer a copy), then one change at a time: a
# check's state (Redis stopped: pass -> fail, and the group's verdict with
# it), its reason and output (refused -> auth: Redis back with a password
# readyd does not send), back to pass, and a reload (SIGHUP) that renames a
# group and moves a check: the new configuration's bodies at once, never
# the old ones (the new scheduler's generation goes on after the old
# one's, and the cache is cleared).
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

conf=$T_CONF/cache.conf
write_config_header "$conf.head" # the same listen address on reload
write_cache_config() { # GROUP CHECKS...: two Redis checks, one group
	local g=$1
	shift
	cp "$conf.head" "$conf.new"
	cat >>"$conf.new" <<EOF

[check cache-a]
kind = redis
host = \${REDIS_HOST}
port = \${REDIS_PORT}
password = \${REDIS_PASSWORD:-}
db = 0
retries = 1

[check cache-b]
kind = redis
host = \${REDIS_HOST}
port = \${REDIS_PORT}
password = \${REDIS_PASSWORD:-}
db = 1
retries = 1

[group $g]
checks = $*
EOF
	mv -f "$conf.new" "$conf"
}
write_cache_config grp cache-a
start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1

URLS=(/ready /ready/grp /ready/cache-a /ready/cache-b "/ready?verbose" /metrics)
warm() { # ask every URL twice: the second answer comes from the cache
	local u
	for u in "${URLS[@]}"; do
		http_status "$READYD_URL$u" >/dev/null
		http_status "$READYD_URL$u" >/dev/null
	done
}
# state_of BODY CHECK: the check's status in a health+json body
state_of() { jq -r --arg c "$2" '.checks[$c].status // "absent"' <<<"$1"; }
# up_of CHECK: readyd_check_up of CHECK in /metrics
up_of() { http_body "$READYD_URL/metrics" | awk -v p="readyd_check_up{check=\"$1\"," 'index($0, p) == 1 { print $NF; exit }'; }

# all_show WHAT STATE READY_CODE GROUP_CODE: every URL agrees with the
# change that /ready/cache-a just showed.
all_show() {
	local what=$1 st=$2 rc=$3 gc=$4 up b v
	up=$([[ $st == pass ]] && echo 1 || echo 0)
	http_req "$READYD_URL/ready"
	b=$HTTP_BODY
	assert_eq "$HTTP_STATUS $(state_of "$b" cache-a)" "$rc $st" "$what: /ready (cached before) shows cache-a $st ($rc)" "$b"
	http_req "$READYD_URL/ready/grp"
	assert_eq "$HTTP_STATUS $(state_of "$HTTP_BODY" cache-a)" "$gc $st" "$what: /ready/grp, the group's verdict, follows ($gc)" "$HTTP_BODY"
	http_req "$READYD_URL/ready?verbose"
	v=$(grep -c "^\[$([[ $st == pass ]] && echo + || echo -)\]cache-a" <<<"$HTTP_BODY")
	assert_eq "$v" 1 "$what: /ready?verbose lists cache-a as $st" "$HTTP_BODY"
	assert_eq "$(up_of cache-a)" "$up" "$what: /metrics readyd_check_up{check=\"cache-a\"} $up"
}

warm
echo "# 1. state: Redis stopped"
stack stop "$STACK_DIR" redis
wait_check cache-a fail refused 15
all_show "state pass -> fail" fail 503 503
check "http_body '$READYD_URL/metrics' | grep -q '^readyd_ready{group=\"grp\"} 0$'" \
	"state pass -> fail: /metrics readyd_ready{group=\"grp\"} 0"
r1=$(http_body "$READYD_URL/ready/cache-a" | jq -r .output)

echo "# 2. reason and output: Redis back with a password readyd does not send"
warm
stack start-server "$STACK_DIR" redis
redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ${REDIS_PASSWORD:+-a "$REDIS_PASSWORD"} --no-auth-warning \
	CONFIG SET requirepass "cache-test-$$" >/dev/null
wait_check cache-a fail auth 15
http_req "$READYD_URL/ready"
assert_eq "$(jq -r '.checks["cache-a"].reason' <<<"$HTTP_BODY")" auth "reason refused -> auth: /ready (cached before) shows auth" "$HTTP_BODY"
r2=$(jq -r '.checks["cache-a"].output' <<<"$HTTP_BODY")
check "[[ '$r1' != '$r2' && -n '$r2' ]]" "reason refused -> auth: /ready shows the new output" "before: $r1; after: $r2"
http_req "$READYD_URL/ready?verbose"
check "grep -q '^\[-\]cache-a.*auth' <<<\"\$HTTP_BODY\"" "reason refused -> auth: /ready?verbose says auth" "$HTTP_BODY"
check "http_body '$READYD_URL/metrics' | grep -q '^readyd_check_failures_total{check=\"cache-a\",kind=\"redis\",reason=\"auth\"} [1-9]'" \
	"reason refused -> auth: /metrics counts the auth failures"

echo "# 3. back to pass"
warm
redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" -a "cache-test-$$" --no-auth-warning \
	CONFIG SET requirepass "${REDIS_PASSWORD:-}" >/dev/null
wait_check cache-a pass "" 15
all_show "state fail -> pass" pass 200 200

echo "# 4. reload: group grp renamed grp2, cache-b in it instead of cache-a"
warm
write_cache_config grp2 cache-b
kill -HUP "$READYD_PID"
ok=no
for ((i = 0; i < 100; i++)); do
	[[ $(http_status "$READYD_URL/ready/grp2") == 200 ]] && ok=yes && break
	sleep 0.1
done
assert_eq "$ok" yes "reload: /ready/grp2 answers 200"
assert_eq "$(http_status "$READYD_URL/ready/grp")" 404 "reload: /ready/grp (cached before) is gone: 404"
http_req "$READYD_URL/ready/grp2"
assert_eq "$(jq -c '.checks | keys' <<<"$HTTP_BODY")" '["cache-b"]' "reload: /ready/grp2 lists cache-b only" "$HTTP_BODY"
m=$(http_body "$READYD_URL/metrics")
check "grep -q '^readyd_ready{group=\"grp2\"} 1$' <<<\"\$m\" && ! grep -q 'group=\"grp\"' <<<\"\$m\"" \
	"reload: /metrics (cached before) has group grp2, not grp" "$(grep readyd_ready <<<"$m")"
assert_eq "$(http_status "$READYD_URL/ready")" 200 "reload: /ready 200"

stop_readyd
