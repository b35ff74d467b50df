#!/usr/bin/env bash
# Network faults, injected with iptables inside a private network namespace
# (unshare -n: only its own loopback; the machine's firewall and addresses
# are never touched). This file re-executes itself in that namespace,
# starts a second stack there (PostgreSQL, PgBouncer, Redis on the
# namespace's 127.0.0.1) and readyd with short timings: interval 3s,
# timeout 2s, retries 2, fast_interval 1s. A frozen or partitioned backend
# drops nothing, so it is seen only at the next scheduled probe: detection
# takes up to interval + timeout + (retries - 1) re-checks of 2 x 1 s.
# 1. Blackhole of Redis' port mid-session (DROP both ways: the watched
#    connections go silent, new ones hang): the three redis checks fail
#    with reason timeout, PostgreSQL and PgBouncer stay pass; healed, all
#    pass again.
# 2. Reset storm on PgBouncer's port (every new connection answered with a
#    TCP RST; the established ones keep working): pgbouncer fails with
#    reason refused; the others stay pass; lifted, pass again.
# 3. Partition of all three backends that heals: every check fails
#    timeout, /ready says 503 at once; healed, /ready 200 again.
# 4. A port that accepts and never answers (postgres, pgbouncer and redis
#    checks against it): fail with reason timeout after about the timeout.
# Each: detection time printed and bounded, /live under 100 ms (worst of
# 10), recovery time printed and bounded, readyd's descriptors back to the
# baseline.
# shellcheck source=tests/integration/lib.sh

# Into a network namespace of our own (same PID: unshare without --fork).
if [[ -z ${IT_NETNS_INSIDE:-} ]]; then
	export IT_NETNS_INSIDE=1
	exec unshare -n -- bash "$0" "$@"
fi

source "$(dirname -- "$0")/lib.sh"

for tool in ip iptables python3; do
	command -v "$tool" >/dev/null || {
		fail "$tool is installed (make deps)"
		exit 1
	}
done
if ! ip link set lo up; then
	fail "loopback up in the test's network namespace"
	exit 1
fi

LIVE_LIMIT=0.100 # seconds, worst of 10 /live
# interval*1.05 (jitter) + timeout + (retries-1) * (fast_interval + 1 s
# re-check deadline) = 3.15 + 2 + 2, plus 2 s for a loaded machine.
DETECT_LIMIT=9.2
# a probe in flight at healing may hang until its deadline (2 s), the next
# one follows fast_interval (1 s) later; plus 2 s for a loaded machine.
RECOVER_LIMIT=5

# The namespace's own stack; the one of run.sh is in the other namespace.
NS_STACK=$IT_WORK/netns-stack
: >"$T_ART/stack.log"
rules_flush() { iptables -F INPUT 2>>"$T_ART/stack.log"; }
on_exit "\"$STACK\" stop '$NS_STACK' >>'$T_ART/stack.log' 2>&1"
on_exit rules_flush
if ! "$STACK" start "$NS_STACK" >>"$T_ART/stack.log" 2>&1; then
	fail "a stack starts inside the network namespace" "$(tail -n 20 "$T_ART/stack.log")"
	exit 1
fi
STACK_DIR=$NS_STACK
# shellcheck disable=SC1091
source "$STACK_DIR/env"
printf '%s\n' "$POSTGRES_PASSWORD" "$REDIS_PASSWORD" >>"$IT_SECRETS"
ok "a stack of its own in a private network namespace (postgres $POSTGRES_PORT, pgbouncer $DB_PORT, redis $REDIS_PORT)"

conf=$T_CONF/netns.conf
write_std_config "$conf"
sed -i -e 's/^interval = 1s$/interval = 3s/' -e 's/^timeout = 1s$/timeout = 2s/' \
	-e 's/^start_interval = 1s$/start_interval = 1s\nfast_interval = 1s/' "$conf"
check "grep -qx 'interval = 3s' '$conf' && grep -qx 'timeout = 2s' '$conf' && grep -qx 'fast_interval = 1s' '$conf'" \
	"config with interval 3s, timeout 2s, fast_interval 1s written"

nfds() { find "/proc/$READYD_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
# fds_min: the fewest descriptors of 6 samples over 1.5 s (a probe in
# flight holds one more for a moment).
fds_min() {
	local i n m=999999
	for ((i = 0; i < 6; i++)); do
		n=$(nfds)
		((n < m)) && m=$n
		sleep 0.25
	done
	echo "$m"
}

# blackhole PORT...: drop every packet to or from PORT (both directions of
# established connections too).
blackhole() {
	local p
	for p in "$@"; do
		iptables -A INPUT -p tcp --dport "$p" -j DROP &&
			iptables -A INPUT -p tcp --sport "$p" -j DROP || return 1
	done
}
# reset_storm PORT: every new connection (SYN) to PORT gets a TCP RST.
reset_storm() {
	iptables -A INPUT -p tcp --dport "$1" --tcp-flags SYN,ACK,FIN,RST SYN \
		-j REJECT --reject-with tcp-reset
}

# live_fast WHAT: /live worst of 10 under the limit.
live_fast() {
	local w
	w=$(worst_time "$READYD_URL/live" 10 0.05)
	check "fle $w $LIVE_LIMIT" "$1: /live answers fast (worst of 10: ${w}s)"
}

# wait_fail_all REASON TIMEOUT CHECK...: every CHECK fail with REASON
# within TIMEOUT (one /ready per poll, every 0.1 s); sets WAITED to the
# seconds it took (all of them).
wait_fail_all() {
	local reason=$1 secs=$2 t0 names
	shift 2
	names=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
	t0=$(now)
	while :; do
		# a failing check no group needs reads "warn" in /ready
		if curl -s --max-time 2 "$READYD_URL/ready" 2>/dev/null | tee -a "$T_ART/http-bodies.log" |
			jq -e --argjson n "$names" --arg r "$reason" \
				'[.checks[$n[]] | select((.status == "fail" or .status == "warn") and .reason == $r)] | length == ($n | length)' \
				>/dev/null 2>&1; then
			WAITED=$(elapsed "$t0")
			return 0
		fi
		WAITED=$(elapsed "$t0")
		fle "$secs" "$WAITED" && return 1
		sleep 0.1
	done
}

report() { echo "# $*" | tee -a "$T_ART/times.txt"; }

start_readyd "$conf" || exit 1
wait_all_pass 20 || exit 1
sleep 2 # the watched connections are open
fd0=$(fds_min)
echo "# baseline: readyd holds $fd0 descriptors"

# ---------------------------------------------- 1: blackhole mid-session
t0=$(now)
expect "blackhole of redis port $REDIS_PORT (iptables DROP both ways)" blackhole "$REDIS_PORT"
if wait_fail_all timeout 20 "${REDIS_CHECKS[@]}"; then
	d=$(elapsed "$t0")
	report "blackhole redis: detected (all 3 redis checks fail, timeout) after ${d}s"
	check "fle $d $DETECT_LIMIT" "blackhole: redis checks fail (timeout) within ${DETECT_LIMIT}s (${d}s)"
else
	fail "blackhole: redis checks fail with reason timeout within 20 s" "$(ready_json)"
fi
for c in postgres pgbouncer; do
	assert_eq "$(field "$c" status)" pass "blackhole of redis: $c stays pass"
done
live_fast "blackhole of redis"
assert_eq "$(http_status "$READYD_URL/ready")" 503 "blackhole of redis: /ready 503"
rules_flush
t0=$(now)
if wait_for "[[ \$(http_status '$READYD_URL/ready') == 200 ]]" 20; then
	d=$(elapsed "$t0")
	report "blackhole redis: healed -> /ready 200 after ${d}s"
	check "fle $d $RECOVER_LIMIT" "blackhole healed: /ready 200 within ${RECOVER_LIMIT}s (${d}s)"
else
	fail "blackhole healed: /ready 200 within 20 s" "$(http_body "$READYD_URL/ready?verbose")"
fi
sleep 3.5 # a scheduled probe replaces the silent watched connections
fd1=$(fds_min)
check "((fd1 <= fd0))" "blackhole healed: descriptors back to $fd1 (baseline $fd0)" "$(ls -l "/proc/$READYD_PID/fd")"

# ---------------------------------------------- 2: reset storm
t0=$(now)
expect "reset storm on pgbouncer port $DB_PORT (RST to every SYN)" reset_storm "$DB_PORT"
if wait_fail_all refused 20 pgbouncer; then
	d=$(elapsed "$t0")
	report "reset storm pgbouncer: detected (fail, refused) after ${d}s"
	check "fle $d $DETECT_LIMIT" "reset storm: pgbouncer fails (refused) within ${DETECT_LIMIT}s (${d}s)"
else
	fail "reset storm: pgbouncer fails with reason refused within 20 s" "$(check_json pgbouncer)"
fi
for c in postgres "${REDIS_CHECKS[@]}"; do
	assert_eq "$(field "$c" status)" pass "reset storm on pgbouncer: $c stays pass"
done
live_fast "reset storm on pgbouncer"
sleep 2 # several refused re-checks: no descriptor may stay behind
fdr=$(fds_min)
check "((fdr <= fd0))" "reset storm: refused attempts leave no descriptor ($fdr, baseline $fd0)"
rules_flush
t0=$(now)
if wait_for "[[ \$(http_status '$READYD_URL/ready') == 200 ]]" 20; then
	d=$(elapsed "$t0")
	report "reset storm pgbouncer: lifted -> /ready 200 after ${d}s"
	check "fle $d $RECOVER_LIMIT" "reset storm lifted: /ready 200 within ${RECOVER_LIMIT}s (${d}s)"
else
	fail "reset storm lifted: /ready 200 within 20 s" "$(http_body "$READYD_URL/ready?verbose")"
fi
fd2=$(fds_min)
check "((fd2 <= fd0))" "reset storm lifted: descriptors back to $fd2 (baseline $fd0)"

# ---------------------------------------------- 3: partition that heals
t0=$(now)
expect "partition: all backend ports blackholed" blackhole "$POSTGRES_PORT" "$DB_PORT" "$REDIS_PORT"
if wait_fail_all timeout 20 "${STD_CHECKS[@]}"; then
	d=$(elapsed "$t0")
	report "partition: detected (all 5 checks fail, timeout) after ${d}s"
	check "fle $d $DETECT_LIMIT" "partition: every check fails (timeout) within ${DETECT_LIMIT}s (${d}s)"
else
	fail "partition: every check fails with reason timeout within 20 s" "$(ready_json)"
fi
live_fast "partition"
m=$(median_time "$READYD_URL/ready" 7)
check "fle $m $LIVE_LIMIT" "partition: /ready answers fast (median of 7: ${m}s)"
assert_eq "$(http_status "$READYD_URL/ready")" 503 "partition: /ready 503"
sleep 3 # partitioned a while longer: attempts keep timing out, none piles up
fdp=$(nfds)
check "((fdp <= fd0 + ${#STD_CHECKS[@]}))" "partition: at most one attempt in flight per check ($fdp descriptors, baseline $fd0)"
rules_flush
t0=$(now)
if wait_for "[[ \$(http_status '$READYD_URL/ready') == 200 ]]" 20; then
	d=$(elapsed "$t0")
	report "partition: healed -> /ready 200 after ${d}s"
	check "fle $d $RECOVER_LIMIT" "partition healed: /ready 200 within ${RECOVER_LIMIT}s (${d}s)"
else
	fail "partition healed: /ready 200 within 20 s" "$(http_body "$READYD_URL/ready?verbose")"
fi
sleep 3.5
fd3=$(fds_min)
check "((fd3 <= fd0))" "partition healed: descriptors back to $fd3 (baseline $fd0)" "$(ls -l "/proc/$READYD_PID/fd")"
stop_readyd

# ---------------------------------------------- 4: accepts, never answers
HANG_LOG=$T_ART/hang-listener.log
: >"$HANG_LOG"
python3 - "$HANG_LOG" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
with open(sys.argv[1], "w") as f:
    print("LISTENING", s.getsockname()[1], file=f, flush=True)
    held = []
    while True:
        c, _ = s.accept()  # accept and hold: never a byte back
        held.append(c)
        print("ACCEPTED", len(held), file=f, flush=True)
PY
HANG_PID=$!
on_exit "kill $HANG_PID 2>/dev/null"
if ! wait_for "grep -q LISTENING '$HANG_LOG'" 5; then
	fail "the silent listener binds a port"
	exit 1
fi
HANG_PORT=$(awk '$1 == "LISTENING" { print $2 }' "$HANG_LOG")
hconf=$T_CONF/hang.conf
write_std_config "$hconf"
sed -i -e 's/^interval = 1s$/interval = 3s/' -e 's/^timeout = 1s$/timeout = 2s/' "$hconf"
cat >>"$hconf" <<EOF

[check pg-silent]
kind = postgres
host = 127.0.0.1
port = $HANG_PORT
dbname = \${POSTGRES_DB}
user = \${POSTGRES_USER}
password = \${POSTGRES_PASSWORD}

[check pgb-silent]
kind = pgbouncer
host = 127.0.0.1
port = $HANG_PORT
dbname = \${DB_NAME}
user = \${DB_USER}
password = \${DB_PASSWORD}

[check redis-silent]
kind = redis
host = 127.0.0.1
port = $HANG_PORT
password = \${REDIS_PASSWORD}
EOF
silent=(pg-silent pgb-silent redis-silent)
t0=$(now)
start_readyd "$hconf" || exit 1
if wait_fail_all timeout 20 "${silent[@]}"; then
	report "silent port: 3 checks fail (timeout) ${WAITED}s after start"
	ok "silent port: postgres, pgbouncer and redis checks fail with reason timeout (${WAITED}s after start)"
else
	fail "silent port: checks fail with reason timeout within 20 s" "$(ready_json)"
fi
# The re-check that confirmed the failure had the 1 s fast deadline; the
# probes while failed get the whole timeout (2 s).
for c in "${silent[@]}"; do
	wait_for "((\$(field '$c' consecutive_failures) >= 3))" 10
	lat=$(field "$c" latency_ms)
	check "fle 1900 '$lat' && fle '$lat' 2600" "silent port: $c's attempts while failed take the 2 s timeout (latency_ms $lat)" "$(check_json "$c")"
done
for c in "${STD_CHECKS[@]}"; do
	assert_eq "$(field "$c" status)" pass "silent port: $c stays pass"
done
live_fast "silent port"
n=$(grep -c ACCEPTED "$HANG_LOG")
check "((n >= 3))" "silent port: the listener accepted readyd's connections ($n)"
# Each check has at most one attempt in flight (2 s of every 3 s: the
# timeout, then fast_interval), so a window's minimum moves by up to one
# descriptor a check with the phase; a leak would grow round after round.
sleep 1
fh0=$(fds_min)
sleep 6 # two more rounds of hung attempts
fh1=$(fds_min)
sleep 6 # and two more
fh2=$(fds_min)
check "((fh1 <= fh0 + ${#silent[@]} && fh2 <= fh0 + ${#silent[@]}))" \
	"silent port: hung attempts do not accumulate descriptors ($fh0 -> $fh1 -> $fh2; at most one attempt in flight per check)"
kill "$HANG_PID" 2>/dev/null
wait "$HANG_PID" 2>/dev/null
stop_readyd
echo "# times:"
sed 's/^/#   /' "$T_ART/times.txt"
