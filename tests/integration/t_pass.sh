#!/usr/bin/env bash
# All five checks pass: /ready, JSON body, groups, HEAD, 405, 404,
# ?verbose, ?exclude, /live, /metrics.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

conf=$T_CONF/std.conf
write_std_config "$conf"
start_readyd "$conf" || exit 1
wait_all_pass 15

# ---- /ready JSON
http_req "$READYD_URL/ready"
assert_eq "$HTTP_STATUS" 200 "GET /ready: 200"
assert_match "$(header Content-Type)" '^application/health\+json' \
	"GET /ready: Content-Type application/health+json"
check "jq -e . >/dev/null <<<\"\$HTTP_BODY\"" "GET /ready: body is JSON" "$HTTP_BODY"
assert_eq "$(jq -r .status <<<"$HTTP_BODY")" pass "/ready: top-level status pass"
assert_eq "$(jq -r '.checks | keys | sort | join(" ")' <<<"$HTTP_BODY")" \
	"pgbouncer postgres redis-cache redis-celery redis-channels" \
	"/ready: lists the five checks"
for c in "${STD_CHECKS[@]}"; do
	j=$(jq -c --arg c "$c" '.checks[$c]' <<<"$HTTP_BODY")
	assert_eq "$(jq -r .status <<<"$j")" pass "$c: status pass"
	kind=redis
	[[ $c == postgres || $c == pgbouncer ]] && kind=$c
	assert_eq "$(jq -r .kind <<<"$j")" "$kind" "$c: kind $kind"
	assert_eq "$(jq -r .required <<<"$j")" true "$c: required true"
	assert_eq "$(jq -r '.consecutive_failures' <<<"$j")" 0 "$c: consecutive_failures 0"
	check "jq -e '(.latency_ms | type) == \"number\" and .latency_ms >= 0' >/dev/null <<<'$j'" \
		"$c: latency_ms is a number" "$j"
	check "jq -e '(.last_check | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\\\\.[0-9]+)?Z$\")) and (.since | test(\"^[0-9]{4}-\"))' >/dev/null <<<'$j'" \
		"$c: last_check and since are RFC 3339 UTC" "$j"
	check "jq -e '(.target | type) == \"string\" and (.target | length) > 0' >/dev/null <<<'$j'" \
		"$c: has a target" "$j"
done
t=$(jq -r '.checks["redis-celery"].target' <<<"$HTTP_BODY")
assert_contains "$t" "$REDIS_PORT" "redis-celery: target names the port"
assert_match "$t" '/2$' "redis-celery: target names db 2 (host:port/2)"
t=$(jq -r '.checks.pgbouncer.target' <<<"$HTTP_BODY")
assert_contains "$t" "$DB_PORT" "pgbouncer: target names PgBouncer's port"

assert_eq "$(http_status "$READYD_URL/readyz")" 200 "GET /readyz: 200"

# ---- groups and single checks
for g in "${STD_GROUPS[@]}"; do
	http_req "$READYD_URL/ready/$g"
	assert_eq "$HTTP_STATUS" 200 "GET /ready/$g: 200"
done
http_req "$READYD_URL/ready/file-service"
assert_eq "$(jq -r '.checks | keys | sort | join(" ")' <<<"$HTTP_BODY" 2>/dev/null)" \
	"pgbouncer redis-cache redis-celery" "/ready/file-service: lists its three checks"
for c in "${STD_CHECKS[@]}"; do
	assert_eq "$(http_status "$READYD_URL/ready/$c")" 200 "GET /ready/$c: 200"
done
assert_eq "$(http_status "$READYD_URL/ready/no-such-thing")" 404 "GET /ready/no-such-thing: 404"

# ---- HEAD: same status and headers, no body
for p in /ready /ready/file-service /live /readyz; do
	http_req -I "$READYD_URL$p"
	assert_eq "$HTTP_STATUS" 200 "HEAD $p: 200"
	assert_eq "$HTTP_SIZE" 0 "HEAD $p: no body"
done
http_req -I "$READYD_URL/ready"
assert_match "$(header Content-Type)" '^application/health\+json' "HEAD /ready: Content-Type as GET"
# curl -I stops after the headers; a raw request shows a body sent anyway.
# shellcheck disable=SC2016 # $1 is the inner shell's
raw=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1;
	printf "HEAD /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3;
	cat <&3' _ "${READYD_URL##*:}" 2>/dev/null | tr -d '\r')
body_after_headers=$(awk 'f { print } /^$/ { f = 1 }' <<<"$raw")
assert_eq "$body_after_headers" "" "HEAD /ready (raw HTTP/1.1): nothing after the headers"

# ---- other methods: 405 with Allow
for m in POST PUT DELETE PATCH OPTIONS PROPFIND FOO; do
	http_req -X "$m" "$READYD_URL/ready"
	assert_eq "$HTTP_STATUS" 405 "$m /ready: 405"
	assert_match "$(header Allow)" '^GET, ?HEAD$' "$m /ready: Allow: GET, HEAD"
done
http_req -X POST "$READYD_URL/live"
assert_eq "$HTTP_STATUS" 405 "POST /live: 405"

# ---- other paths: 404
for p in /nope /readyfoo /ready/file-service/extra /live/x; do # / is the status page (t_status)
	assert_eq "$(http_status "$READYD_URL$p")" 404 "GET $p: 404"
done
# an encoded NUL must not cut a path or a name short
for p in /metrics%00x /ready/postgres%00junk '/ready?exclude=postgres%00x'; do
	assert_eq "$(http_status "$READYD_URL$p")" 400 "GET $p: 400"
done

# ---- ?verbose
http_req "$READYD_URL/ready?verbose"
assert_eq "$HTTP_STATUS" 200 "GET /ready?verbose: 200"
assert_match "$(header Content-Type)" '^text/plain' "?verbose: text/plain"
expected=$'[+]postgres ok\n[+]pgbouncer ok\n[+]redis-cache ok\n[+]redis-channels ok\n[+]redis-celery ok\nready'
assert_eq "$HTTP_BODY" "$expected" "?verbose: one [+]NAME ok line per check, then ready"
http_req "$READYD_URL/ready/communication-service?verbose"
assert_eq "$HTTP_BODY" $'[+]pgbouncer ok\n[+]redis-cache ok\n[+]redis-channels ok\nready' \
	"/ready/communication-service?verbose: its checks only"
http_req "$READYD_URL/ready/postgres?verbose"
assert_eq "$HTTP_BODY" $'[+]postgres ok\nready' "/ready/postgres?verbose"

# ---- ?exclude
http_req "$READYD_URL/ready?exclude=postgres"
assert_eq "$HTTP_STATUS" 200 "?exclude=postgres: 200"
assert_eq "$(jq -r '.checks | keys | sort | join(" ")' <<<"$HTTP_BODY" 2>/dev/null)" \
	"pgbouncer redis-cache redis-celery redis-channels" "?exclude=postgres: postgres left out"
http_req "$READYD_URL/ready?verbose&exclude=redis-cache&exclude=redis-celery"
assert_eq "$HTTP_BODY" $'[+]postgres ok\n[+]pgbouncer ok\n[+]redis-channels ok\nready' \
	"?verbose&exclude=A&exclude=B: both left out"
http_req "$READYD_URL/ready/file-service?exclude=redis-celery&verbose"
assert_eq "$HTTP_BODY" $'[+]pgbouncer ok\n[+]redis-cache ok\nready' \
	"/ready/file-service?exclude=redis-celery&verbose"

# ---- liveness
http_req "$READYD_URL/live"
assert_eq "$HTTP_STATUS" 200 "GET /live: 200"
assert_eq "$(tr -d '\n' <<<"$HTTP_BODY")" ok "GET /live: body ok"
assert_eq "$(http_status "$READYD_URL/livez")" 200 "GET /livez: 200"

# ---- metrics
http_req "$READYD_URL/metrics"
assert_eq "$HTTP_STATUS" 200 "GET /metrics: 200"
if [[ $HTTP_STATUS == 200 ]]; then
	assert_match "$(header Content-Type)" '^text/plain' "/metrics: text/plain (Prometheus)"
	sample='^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+]?([0-9.]+([eE][-+]?[0-9]+)?|NaN|Inf)( [0-9]+)?$'
	check "grep -qE '$sample' <<<\"\$HTTP_BODY\"" \
		"/metrics: has Prometheus samples" "$(head -c 500 <<<"$HTTP_BODY")"
	assert_contains "$HTTP_BODY" 'redis-celery' "/metrics: mentions the checks"
	# the process's own figures, read per request (not from the cache)
	metric() { awk -v n="$1" '$1 == n { print $2 }' <<<"$HTTP_BODY"; }
	fds=$(metric process_open_fds)
	real=$(($(ls /proc/"$READYD_PID"/fd | wc -l)))
	check "[[ -n '$fds' ]] && (( fds >= real - 3 && fds <= real + 3 ))" \
		"/metrics: process_open_fds $fds matches /proc/PID/fd ($real)"
	rss=$(metric process_resident_memory_bytes)
	real=$(awk '/^VmRSS:/ { print $2 * 1024 }' /proc/"$READYD_PID"/status)
	check "[[ -n '$rss' ]] && awk -v a='$rss' -v b='$real' 'BEGIN { exit !(a > b / 2 && a < b * 2) }'" \
		"/metrics: process_resident_memory_bytes $rss near VmRSS ($real)"
	heap=$(metric readyd_heap_bytes)
	check "[[ -n '$heap' ]] && awk -v h='$heap' -v r='$rss' 'BEGIN { exit !(h > 10000 && h < r * 4) }'" \
		"/metrics: readyd_heap_bytes $heap is a plausible heap"
	cpu1=$(metric process_cpu_seconds_total)
	start=$(metric process_start_time_seconds)
	check "[[ -n '$start' ]] && awk -v s='$start' -v n=\"\$(date +%s)\" 'BEGIN { exit !(s > n - 600 && s <= n + 1) }'" \
		"/metrics: process_start_time_seconds $start is this run's"
	# PostgreSQL login steps (SCRAM) run on worker threads: as many
	# threads as /metrics says, and the logins so far went through them
	workers=$(metric readyd_login_workers)
	threads=$(awk '/^Threads:/ { print $2 }' /proc/"$READYD_PID"/status)
	check "[[ -n '$workers' ]] && (( workers >= 1 && threads == workers + 1 ))" \
		"/metrics: readyd_login_workers $workers, and readyd has as many threads beside the loop ($threads in all)"
	steps=$(metric readyd_login_steps_total)
	check "[[ -n '$steps' ]] && (( steps >= 2 ))" \
		"/metrics: readyd_login_steps_total $steps: the SCRAM logins' steps ran on them"
	for ((i = 0; i < 200; i++)); do curl -s -o /dev/null "$READYD_URL/metrics"; done
	http_req "$READYD_URL/metrics"
	cpu2=$(metric process_cpu_seconds_total)
	check "awk -v a='$cpu1' -v b='$cpu2' 'BEGIN { exit !(b > a) }'" \
		"/metrics: process_cpu_seconds_total grows over 200 requests ($cpu1 -> $cpu2), served past the body cache"
	start2=$(metric process_start_time_seconds)
	assert_eq "$start2" "$start" "/metrics: process_start_time_seconds is the same 200 requests later (read once)"
fi

# ---- an HTTP request never does I/O to a backend
redis_conns() {
	REDISCLI_AUTH=$REDIS_PASSWORD redis-cli --no-auth-warning -h 127.0.0.1 \
		-p "$REDIS_PORT" info stats | tr -d '\r' |
		awk -F: '$1 == "total_connections_received" { print $2 }'
}
before=$(redis_conns)
t0=$(now)
for ((i = 0; i < 100; i++)); do
	curl -s -o /dev/null --max-time 5 "$READYD_URL/ready" \
		"$READYD_URL/ready/file-service?verbose" "$READYD_URL/ready/redis-celery"
done
secs=$(elapsed "$t0")
after=$(redis_conns)
# Probes alone: 3 Redis checks, one attempt a second each (+ slack).
limit=$(awk -v s="$secs" 'BEGIN { printf "%d", 3 * (s + 2) + 3 }')
check "[[ -n '$before' && -n '$after' ]] && (( after - before <= limit ))" \
	"300 HTTP requests in ${secs}s: Redis saw $((after - before)) new connections (<= $limit, probes only)"

# ---- the checks keep passing (interval 1 s): no flapping
sleep 2.5
j=$(ready_json)
assert_eq "$(jq -r '[.checks[] | .status] | unique | join(",")' <<<"$j")" pass \
	"after 2.5 s more: still all pass"

stop_readyd
