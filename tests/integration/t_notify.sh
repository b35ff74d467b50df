#!/usr/bin/env bash
# systemd notify protocol (README: Using it with systemd; issue 3 item 2).
# The test plays systemd's part: it binds a datagram socket
# (notify_listen.py), sets NOTIFY_SOCKET and WATCHDOG_USEC=1000000 (1 s)
# and starts readyd serve. READY=1 arrives once, when the HTTP port already
# accepts connections; STATUS= says "N/M checks pass" and follows a failing
# backend; WATCHDOG=1 arrives at least every second (>= 3 in 3 s);
# STOPPING=1 arrives on SIGTERM. Without WATCHDOG_USEC no WATCHDOG=1 is sent.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"
command -v python3 >/dev/null || {
	fail "python3 is installed (needed to play systemd's part)"
	exit 1
}

LISTENER_PID=
stop_listener() {
	if [[ -n $LISTENER_PID ]]; then
		kill -TERM "$LISTENER_PID" 2>/dev/null
		wait "$LISTENER_PID" 2>/dev/null
		LISTENER_PID=
	fi
}
on_exit stop_listener

# start_notified CONFIG WATCHDOG_USEC|"": a listener on a fresh socket, then
# readyd serve with NOTIFY_SOCKET (and WATCHDOG_USEC) set. Sets NOTES (the
# listener's output), T_START, READYD_PID, READYD_URL, READYD_LOG.
RUN_N=0
start_notified() {
	local conf=$1 wd=$2 port sock i
	RUN_N=$((RUN_N + 1))
	sock=$T_CONF/notify-$RUN_N.sock # not below $T_ART: no sockets there
	NOTES=$T_ART/notify-$RUN_N.txt
	: >"$NOTES"
	port=$(free_port)
	python3 "$IT_HERE/notify_listen.py" "$sock" "$NOTES" "$port" &
	LISTENER_PID=$!
	wait_for "grep -q LISTENING '$NOTES'" 5 || {
		fail "notify_listen.py binds its socket"
		return 1
	}
	READYD_N=$((READYD_N + 1))
	READYD_LOG=$T_ART/readyd-$READYD_N.log
	READYD_URL=http://127.0.0.1:$port
	T_START=$(now)
	if [[ -n $wd ]]; then
		NOTIFY_SOCKET=$sock WATCHDOG_USEC=$wd \
			"$READYD" serve -c "$conf" --listen "127.0.0.1:$port" \
			>"$READYD_LOG" 2>&1 </dev/null &
	else
		env -u WATCHDOG_USEC -u WATCHDOG_PID NOTIFY_SOCKET="$sock" \
			"$READYD" serve -c "$conf" --listen "127.0.0.1:$port" \
			>"$READYD_LOG" 2>&1 </dev/null &
	fi
	READYD_PID=$!
	echo "$READYD_PID" >>"$IT_WORK/pids"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$READYD_PID" 2>/dev/null || {
			fail "readyd serve under NOTIFY_SOCKET keeps running" "$(tail -n 20 "$READYD_LOG")"
			READYD_PID=
			return 1
		}
		[[ $(http_status "$READYD_URL/live") == 200 ]] && return 0
		sleep 0.1
	done
	fail "readyd serve under NOTIFY_SOCKET answers /live within 10 s" "$(tail -n 20 "$READYD_LOG")"
	return 1
}

# first_at PATTERN: the time (unix) of the first line matching the ERE.
first_at() { awk -v p="$1" '{ l = $0; sub(/^[^ ]* /, "", l) } l ~ p { print $1; exit }' "$NOTES"; }
count_of() { awk -v p="$1" '{ l = $0; sub(/^[^ ]* /, "", l) } l ~ p { n++ } END { print n + 0 }' "$NOTES"; }
show_notes() { tail -n 30 "$NOTES"; }

conf=$T_CONF/std.conf
write_std_config "$conf"
nchecks=${#STD_CHECKS[@]}

# --------------------------------------------- with WATCHDOG_USEC = 1 s
start_notified "$conf" 1000000 || exit 1

if wait_for "grep -q ' READY=1\$' '$NOTES'" 5; then
	t=$(awk -v a="$T_START" -v b="$(first_at '^READY=1$')" 'BEGIN { printf "%.3f", b - a }')
	ok "READY=1 arrives ($t s after start)"
	check "fle $t 3" "READY=1 arrives promptly (${t} s <= 3 s)"
else
	fail "READY=1 arrives within 5 s" "$(show_notes)" "$(tail -n 5 "$READYD_LOG")"
fi
wait_for "grep -q 'HTTP-CONNECT' '$NOTES'" 3
assert_eq "$(awk '$2 == "HTTP-CONNECT" { $1 = ""; sub(/^ /, ""); print; exit }' "$NOTES")" \
	"HTTP-CONNECT ok" "at READY=1 the HTTP port already accepts connections"

wait_all_pass 15
if wait_for "grep -qE ' STATUS=$nchecks/$nchecks checks pass' '$NOTES'" 5; then
	ok "STATUS=$nchecks/$nchecks checks pass arrives once all pass"
else
	fail "STATUS=$nchecks/$nchecks checks pass arrives within 5 s of all passing" "$(grep STATUS= "$NOTES")"
fi
check "grep -q ' STATUS=[0-9]*/[0-9]* checks pass' '$NOTES'" \
	"STATUS= lines have the form 'N/M checks pass'" "$(grep STATUS= "$NOTES")"

# Watchdog: count over a 3 s window, and the largest gap.
sleep 0.2
w0=$(now)
sleep 3
w1=$(now)
n=$(awk -v a="$w0" -v b="$w1" '$2 == "WATCHDOG=1" && $1 >= a && $1 <= b { n++ } END { print n + 0 }' "$NOTES")
check "((n >= 3))" "WATCHDOG=1 arrives periodically: $n in 3 s (>= 3)" "$(show_notes)"
gap=$(awk -v a="$T_START" '$2 == "WATCHDOG=1" { if (p) { g = $1 - p; if (g > m) m = g }; p = $1 } END { printf "%.3f", m }' "$NOTES")
check "fle $gap 1.0" "WATCHDOG=1 never more than WatchdogSec (1 s) apart (largest gap $gap s)"

# STATUS follows a failing backend.
# status_since T: the STATUS= lines received at or after unix time T.
status_since() { awk -v a="$1" '$1 >= a && $2 ~ /^STATUS=/' "$NOTES"; }
echo "# stopping redis"
ts=$(date +%s.%N)
stack stop "$STACK_DIR" redis
wait_check redis-cache fail "" 10
pat="STATUS=$((nchecks - 3))/$nchecks checks pass"
if wait_for "status_since $ts | grep -qF ' $pat'" 5; then
	ok "redis stopped: '$pat' arrives"
	l=$(status_since "$ts" | grep -F " $pat" | tail -n 1)
	assert_contains "$l" redis-cache "redis stopped: STATUS names a failing check"
	assert_contains "$l" refused "redis stopped: STATUS gives the reason"
else
	fail "redis stopped: '$pat' arrives within 5 s" "$(status_since "$ts")"
fi
stack start-server "$STACK_DIR" redis
wait_all_pass 15
if wait_for "[[ \$(grep ' STATUS=' '$NOTES' | tail -n 1) == *' STATUS=$nchecks/$nchecks checks pass'* ]]" 5; then
	ok "redis back: the last STATUS is $nchecks/$nchecks checks pass again"
else
	fail "redis back: the last STATUS is $nchecks/$nchecks checks pass" "$(grep STATUS= "$NOTES" | tail -n 3)"
fi
assert_eq "$(count_of '^READY=1$')" 1 "READY=1 was sent exactly once"
# One summary line: "N/M checks pass[; not passing: a=reason, b, ...]".
bad=$(awk '$2 ~ /^STATUS=[0-9]/ { l = $0; if (gsub(/not passing:/, "", l) > 1) print }' "$NOTES")
assert_eq "$bad" "" "every STATUS= summary says 'not passing:' at most once"

# STOPPING=1 on SIGTERM.
stop_readyd
wait_for "grep -q ' STOPPING=1\$' '$NOTES'" 3
check "grep -q ' STOPPING=1\$' '$NOTES'" "STOPPING=1 arrives on SIGTERM" "$(show_notes)"
stop_listener

# -------------------------------------------- without WATCHDOG_USEC
start_notified "$conf" "" || exit 1
wait_for "grep -q ' READY=1\$' '$NOTES'" 5
check "grep -q ' READY=1\$' '$NOTES'" "no watchdog: READY=1 still arrives" "$(show_notes)"
sleep 2
assert_eq "$(count_of '^WATCHDOG=1$')" 0 "no WATCHDOG_USEC: no WATCHDOG=1 is sent"
stop_readyd
stop_listener
