#!/usr/bin/env bash
# Connection watch (README: Fast detection; issue 4 item 1). With
# `watch = yes`, interval 30s, fast_interval 200ms, retries 2: an idle
# watched connection raises no alarm, and an idle watched PgBouncer client
# holds no server connection (SHOW POOLS: sv_active 0); when Redis is
# killed (SIGKILL) or stopped, or PgBouncer killed, the checks fail within
# a few seconds although the next scheduled probe is ~30 s away (only the
# watch can explain it), and readyd_check_watch_drops_total counts the
# drops. With `watch = no` and
# the same timings, a killed Redis is NOT noticed within those seconds
# (the next probe is the scheduled one, as in compose).
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

SEEN_WITHIN=5 # seconds: "a few seconds", far below the 30 s interval

# write_watch_config FILE yes|no
write_watch_config() {
	write_config_header "$1"
	sed -i 's/^interval = .*/interval = 30s/; s/^start_interval = .*/start_interval = 30s/' "$1"
	printf 'fast_interval = 200ms\nwatch = %s\n' "$2" >>"$1"
	local db
	for db in 0 1 2; do
		cat >>"$1" <<EOF

[check ${REDIS_CHECKS[db]}]
kind = redis
host = \${REDIS_HOST}
port = \${REDIS_PORT}
password = \${REDIS_PASSWORD:-}
db = $db
EOF
	done
	cat >>"$1" <<EOF

[check pgbouncer]
kind = pgbouncer
host = \${DB_HOST}
port = \${DB_PORT}
dbname = \${DB_NAME}
user = \${DB_USER}
password = \${DB_PASSWORD}
options = -c statement_timeout=0
EOF
}

# show_pools: PgBouncer's SHOW POOLS (CSV) from its admin console, as the
# application user (DB_USER) or else as the first admin_users entry of the
# stack's pgbouncer.ini with POSTGRES_PASSWORD (the stack's conventions).
show_pools() {
	local u pw out admin
	admin=$(awk '/^[[:space:]]*admin_users[[:space:]]*=/ {
		sub(/^[^=]*=[[:space:]]*/, ""); split($0, a, /[[:space:],]+/); print a[1]; exit }' \
		"$STACK_DIR/pgbouncer.ini" 2>/dev/null)
	for u in "$DB_USER" ${admin:+"$admin"}; do
		pw=$DB_PASSWORD
		[[ $u == "$DB_USER" ]] || pw=$POSTGRES_PASSWORD
		if out=$(PGPASSWORD=$pw PGCONNECT_TIMEOUT=5 timeout 10 psql -X -w -q --csv \
			-h "$DB_HOST" -p "$DB_PORT" -U "$u" -d pgbouncer -c 'SHOW POOLS' \
			2>>"$T_ART/psql.err"); then
			echo "$out"
			return 0
		fi
	done
	return 1
}

# pool COLUMN: a column of SHOW POOLS for the application's database/user.
pool() {
	show_pools | awk -F, -v col="$1" -v db="$DB_NAME" -v u="$DB_USER" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i; next }
		$1 == db && $2 == u && k { print $k; exit }'
}

# drops CHECK: readyd_check_watch_drops_total of CHECK (empty if absent).
drops() {
	http_body "$READYD_URL/metrics" |
		awk -v p="readyd_check_watch_drops_total{check=\"$1\"," 'index($0, p) == 1 { print $NF; exit }'
}

# attempts CHECK: probe attempts so far (the duration histogram's _count).
attempts() {
	http_body "$READYD_URL/metrics" |
		awk -v p="readyd_check_duration_seconds_count{check=\"$1\"," 'index($0, p) == 1 { print $NF; exit }'
}

# ------------------------------------------------------------ watch = yes
conf=$T_CONF/watch-yes.conf
write_watch_config "$conf" yes
start_readyd "$conf" || exit 1
wait_all_pass 10 || exit 1
sleep 1.5 # the watched connections sit idle
for c in "${REDIS_CHECKS[@]}" pgbouncer; do
	assert_eq "$(drops "$c")" 0 "watch: $c idle watched connection, no drop counted"
	assert_eq "$(attempts "$c")" 1 "watch: $c probed once (interval 30 s), no spurious re-probe"
done
# PgBouncer in transaction pooling: the idle watched client holds no
# server connection.
cl=$(pool cl_active)
sv=$(pool sv_active)
check "[[ '$cl' =~ ^[0-9]+$ ]] && ((cl >= 1))" \
	"watch: PgBouncer has readyd's idle watched client (cl_active $cl)" "$(cat "$T_ART/psql.err" 2>/dev/null)"
assert_eq "$sv" 0 "watch: the idle watched PgBouncer client holds no server connection (sv_active)"

for how in kill stop; do
	declare -A d0=()
	for c in "${REDIS_CHECKS[@]}"; do d0[$c]=$(drops "$c"); done
	echo "# redis: $how"
	t0=$(now)
	stack "$how" "$STACK_DIR" redis
	for c in "${REDIS_CHECKS[@]}"; do
		if wait_for "[[ \$(field '$c' status) == fail ]]" "$SEEN_WITHIN"; then
			ok "watch, redis $how: $c fail after $(elapsed "$t0") s (interval is 30 s)"
		else
			fail "watch, redis $how: $c fail within $SEEN_WITHIN s (interval is 30 s)" "$(check_json "$c")"
		fi
		assert_eq "$(field "$c" reason)" refused "watch, redis $how: $c reason refused (a probe decided)"
		d=$(drops "$c")
		check "[[ '$d' =~ ^[0-9]+$ ]] && ((d > ${d0[$c]:-0}))" \
			"watch, redis $how: readyd_check_watch_drops_total{check=\"$c\"} went up (${d0[$c]} -> $d)"
	done
	assert_eq "$(http_status "$READYD_URL/ready")" 503 "watch, redis $how: /ready 503"
	t0=$(now)
	stack start-server "$STACK_DIR" redis
	# While failed, probes run every fast_interval: recovery is quick too.
	for c in "${REDIS_CHECKS[@]}"; do
		if wait_for "[[ \$(field '$c' status) == pass ]]" "$SEEN_WITHIN"; then
			ok "watch, redis back after $how: $c pass after $(elapsed "$t0") s"
		else
			fail "watch, redis back after $how: $c pass within $SEEN_WITHIN s" "$(check_json "$c")"
		fi
	done
	unset d0
done

# PgBouncer killed: the watch notices too.
echo "# pgbouncer: kill"
pd0=$(drops pgbouncer)
t0=$(now)
stack kill "$STACK_DIR" pgbouncer
if wait_for "[[ \$(field pgbouncer status) == fail ]]" "$SEEN_WITHIN"; then
	ok "watch, pgbouncer kill: pgbouncer fail after $(elapsed "$t0") s (interval is 30 s)"
else
	fail "watch, pgbouncer kill: pgbouncer fail within $SEEN_WITHIN s (interval is 30 s)" "$(check_json pgbouncer)"
fi
d=$(drops pgbouncer)
check "[[ '$d' =~ ^[0-9]+$ ]] && ((d > pd0))" \
	"watch, pgbouncer kill: readyd_check_watch_drops_total{check=\"pgbouncer\"} went up ($pd0 -> $d)"
for c in "${REDIS_CHECKS[@]}"; do
	assert_eq "$(field "$c" status)" pass "watch, pgbouncer kill: $c stays pass"
done
t0=$(now)
stack start-server "$STACK_DIR" pgbouncer
if wait_for "[[ \$(field pgbouncer status) == pass ]]" "$SEEN_WITHIN"; then
	ok "watch, pgbouncer back: pass after $(elapsed "$t0") s"
else
	fail "watch, pgbouncer back: pass within $SEEN_WITHIN s" "$(check_json pgbouncer)"
fi
stop_readyd

# ------------------------------------------------------------- watch = no
conf=$T_CONF/watch-no.conf
write_watch_config "$conf" no
start_readyd "$conf" || exit 1
wait_all_pass 10 || exit 1
sleep 0.5
echo "# redis: kill (watch = no)"
t0=$(now)
stack kill "$STACK_DIR" redis
sleep "$SEEN_WITHIN"
for c in "${REDIS_CHECKS[@]}"; do
	j=$(check_json "$c")
	assert_eq "$(jq -r .status <<<"$j")" pass \
		"watch = no: $c still pass $(elapsed "$t0") s after the kill (next probe is the scheduled one)" "$j"
	assert_eq "$(jq -r .consecutive_failures <<<"$j")" 0 "watch = no: $c no attempt failed yet" "$j"
	assert_eq "$(drops "$c")" 0 "watch = no: $c no watch drop counted"
done
assert_eq "$(http_status "$READYD_URL/ready")" 200 "watch = no: /ready still 200 $SEEN_WITHIN s after the kill"
stack start-server "$STACK_DIR" redis
stop_readyd
