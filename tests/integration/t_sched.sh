#!/usr/bin/env bash
# Scheduling semantics (DESIGN.md, docker compose compatible): the first
# probe runs at start-up; `starting` until the first success; failures
# inside start_period do not count; `retries` failures make `fail`;
# required = no never fails /ready; durations in ms.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

closed=$(free_port) # nothing listens there

conf=$T_CONF/sched.conf
write_config_header "$conf"
cat >>"$conf" <<EOF

[check slow-first]
kind = redis
host = \${REDIS_HOST}
port = \${REDIS_PORT}
password = \${REDIS_PASSWORD}
db = 0
interval = 30s
start_interval = 30s
timeout = 500ms

[check in-start-period]
kind = redis
host = 127.0.0.1
port = $closed
db = 0
start_period = 60s

[check many-retries]
kind = redis
host = 127.0.0.1
port = $closed
db = 0
retries = 5

[check optional]
kind = postgres
host = 127.0.0.1
port = $closed
dbname = \${POSTGRES_DB}
user = \${POSTGRES_USER}
password = \${POSTGRES_PASSWORD}
required = no

[group required-only]
checks = slow-first optional
EOF

t0=$(now)
start_readyd "$conf" || exit 1

# The first probe runs at start-up, not one (30 s) interval later.
wait_check slow-first pass "" 3

# many-retries (start_interval 1 s, retries 5): after ~2.5 s at most
# three attempts failed, so it is still starting; later it fails.
sleep_to() { # sleep until T seconds after t0
	local d
	d=$(awk -v a="$t0" -v b="$(now)" -v t="$1" 'BEGIN { d = t - (b - a); print (d > 0 ? d : 0) }')
	sleep "$d"
}
sleep_to 2.5
j=$(check_json many-retries)
assert_eq "$(jq -r .status <<<"$j")" starting "retries 5: still starting after 2.5 s" "$j"
check "[[ \$(jq -r .consecutive_failures <<<'$j') -ge 1 ]]" \
	"retries 5: failures are counted meanwhile" "$j"
wait_check many-retries fail refused 15
check "[[ \$(field many-retries consecutive_failures) -ge 5 ]]" \
	"retries 5: failed after at least 5 failures" "$(check_json many-retries)"

# start_period: failures do not count, the check stays starting.
j=$(check_json in-start-period)
assert_eq "$(jq -r .status <<<"$j")" starting "start_period 60s: still starting after failures" "$j"

# required = no: shown, failing, never fails /ready.
wait_check optional fail refused 15
assert_eq "$(field optional required)" false "optional: required false"
assert_eq "$(http_status "$READYD_URL/ready/required-only")" 200 \
	"a group with a failing optional check: 200"
assert_eq "$(http_status "$READYD_URL/ready?exclude=in-start-period&exclude=many-retries")" 200 \
	"/ready with only slow-first (pass) and optional (fail) left: 200"

# starting is not ready (asked for by name: /ready needs no check in no
# group).
assert_eq "$(http_status "$READYD_URL/ready/in-start-period")" 503 "/ready/in-start-period (starting): 503"
http_req "$READYD_URL/ready/in-start-period?verbose"
check "grep -q '^\\[-\\]in-start-period' <<<\"\$HTTP_BODY\"" \
	"?verbose: a starting check is listed with [-]" "$HTTP_BODY"
assert_eq "$(tail -n 1 <<<"$HTTP_BODY")" "not ready" "?verbose: not ready"

# The scheduling lag (timer fired vs due) is a histogram in /metrics: every
# probe timer so far counted, cumulative buckets ending at the count.
m=$(http_body "$READYD_URL/metrics")
lag=$(awk '
	/^readyd_sched_lag_seconds_bucket\{le="/ { if ($NF < prev) bad = 1; prev = $NF; last = $NF; nb++ }
	/^readyd_sched_lag_seconds_count / { n = $NF }
	/^readyd_sched_lag_seconds_sum / { s = $NF }
	END { printf "%d %d %d %s %s", nb, bad, n, last, s }' <<<"$m")
read -r lag_nb lag_bad lag_n lag_inf lag_sum <<<"$lag"
check "[[ $lag_nb -eq 11 && $lag_bad -eq 0 && $lag_n -ge 5 && $lag_inf -eq $lag_n ]]" \
	"/metrics: readyd_sched_lag_seconds has 11 cumulative buckets, +Inf = count ($lag_n timers fired)" \
	"$(grep readyd_sched_lag <<<"$m")"
check "awk -v s='$lag_sum' 'BEGIN { exit !(s >= 0) }'" "/metrics: readyd_sched_lag_seconds_sum is a number ($lag_sum)"

stop_readyd

# Many checks: 300 optional ones (closed port, refused) and one required
# failing check after them; /ready and its group see every one.
conf=$T_CONF/many.conf
write_config_header "$conf"
{
	for ((i = 1; i <= 300; i++)); do
		printf '[check opt%d]\nkind = redis\nhost = 127.0.0.1\nport = %s\nrequired = no\n' "$i" "$closed"
	done
	printf '[check last]\nkind = redis\nhost = 127.0.0.1\nport = %s\n' "$closed"
	printf '[group all]\nchecks ='
	for ((i = 1; i <= 300; i++)); do printf ' opt%d' "$i"; done
	printf ' last\n'
} >>"$conf"
start_readyd "$conf" || exit 1
wait_check last fail refused 15
assert_eq "$(http_status "$READYD_URL/ready")" 503 "301 checks, the 301st required and failing: /ready 503"
assert_eq "$(http_status "$READYD_URL/ready/all")" 503 "a group of 301 checks, the last failing: 503"
assert_eq "$(http_body "$READYD_URL/ready" | jq '.checks | length')" 301 "/ready lists all 301 checks"
assert_eq "$(http_status "$READYD_URL/ready?exclude=last")" 200 "301 checks, the failing required one excluded: 200"
stop_readyd
