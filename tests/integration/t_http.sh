#!/usr/bin/env bash
# HTTP clients that misbehave must not hurt /live (DESIGN.md invariant 1):
# 1. 300 idle connections: /live stays fast; the server closes them after
#    its 5 s timeout and readyd's descriptors return to where they were.
# 2. Slow clients trickling one header line every second (evhttp restarts
#    its timeout on every byte): closed after the 20 s connection lifetime;
#    /live stays fast meanwhile.
# 3. Out of descriptors (prlimit --nofile=40, max_clients = 1000 so that
#    accept() hits EMFILE, 60 idle clients): the listener pauses (one
#    warning a second), readyd burns no CPU, and /live answers again once
#    the clients are gone.
# 4. Descriptors kept for the probes (prlimit --nofile=100, the automatic
#    max_clients: 100 - 64 - 4 x 5 checks = 16): 150 idle clients, held
#    over many probe intervals while the real backends serve, leave every
#    check pass (no failed attempt at all), the pause is logged once an
#    episode, /live answers 200 (once the queue reaches it) and right after.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

LIMIT=0.5 # seconds, the worst /live

conf=$T_CONF/http.conf
write_config_header "$conf"
cat >>"$conf" <<EOF

[check closed]
kind = redis
host = 127.0.0.1
port = $(free_port)
EOF

# clients PORT N MODE SECONDS: N connections; MODE idle sends nothing,
# slow sends a request line, then a header line every second. Prints, at
# the end, how many the server closed and the time of the last close.
clients() {
	python3 - "$@" <<'PY'
import socket, sys, time
port, n, mode, dur = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
socks = []
for _ in range(n):
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError:
        break
if mode == "slow":
    for s in socks:
        s.sendall(b"GET /live HTTP/1.1\r\n")
t0, closed = time.time(), {}
while time.time() - t0 < dur and len(closed) < len(socks):
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            if mode == "slow":
                s.sendall(b"X-Slow: 1\r\n")
            s.settimeout(0.001)
            try:
                if s.recv(4096) == b"":
                    closed[i] = time.time() - t0
            except socket.timeout:
                pass
        except OSError:
            closed[i] = time.time() - t0
    time.sleep(1 if mode == "slow" else 0.2)
print(len(socks), len(closed), "%.1f" % max(closed.values(), default=-1))
PY
}

nfds() { find "/proc/$READYD_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# ---------------------------------------------- 1: idle connections
start_readyd "$conf" || exit 1
wait_check closed fail refused 10
sleep 1
fd0=$(nfds)
clients "${READYD_URL##*:}" 300 idle 12 >"$T_ART/idle.out" &
cpid=$!
sleep 1
w=$(worst_time "$READYD_URL/live" 10 0.1)
check "fle $w $LIMIT" "300 idle connections: /live answers fast (worst of 10: ${w}s)"
wait "$cpid"
read -r opened nclosed last <"$T_ART/idle.out"
assert_eq "$opened/$nclosed" 300/300 "300 idle connections: all closed by readyd ($(cat "$T_ART/idle.out"))"
check "fle 4 $last && fle $last 10" "idle connections: closed after the 5 s timeout (last at ${last}s)"
sleep 1.5 # references dropped at the next heartbeat
fd1=$(nfds)
check "((fd1 <= fd0 + 2))" "idle connections: readyd's descriptors back to $fd1 (before: $fd0)"

# ---------------------------------------------- 2: slow clients
clients "${READYD_URL##*:}" 20 slow 40 >"$T_ART/slow.out" &
cpid=$!
sleep 8 # past evhttp's 5 s timeout: only the lifetime ends them
w=$(worst_time "$READYD_URL/live" 10 0.1)
check "fle $w $LIMIT" "20 slow clients: /live answers fast (worst of 10: ${w}s)"
wait "$cpid"
read -r opened nclosed last <"$T_ART/slow.out"
assert_eq "$opened/$nclosed" 20/20 "slow clients: all closed by readyd ($(cat "$T_ART/slow.out"))"
check "fle 15 $last && fle $last 25" "slow clients: closed at the 20 s connection lifetime (last at ${last}s)"
sleep 1.5
fd2=$(nfds)
check "((fd2 <= fd0 + 2))" "slow clients: readyd's descriptors back to $fd2 (before: $fd0)"
assert_eq "$(http_status "$READYD_URL/live")" 200 "after the slow clients: /live 200"
stop_readyd

# ---------------------------------------------- 3: out of descriptors
conf3=$T_CONF/http-emfile.conf
sed 's/^details = local$/details = local\nmax_clients = 1000/' "$conf" >"$conf3"
READYD_WRAP=(prlimit --nofile=40:40)
start_readyd "$conf3" || exit 1
READYD_WRAP=()
wait_check closed fail refused 10
clients "${READYD_URL##*:}" 60 idle 3 >"$T_ART/emfile.out" &
cpid=$!
sleep 0.5
read -r -a st0 <"/proc/$READYD_PID/stat"
sleep 2
read -r -a st1 <"/proc/$READYD_PID/stat"
# utime + stime (fields 14, 15), clock ticks (100 a second)
ticks=$(((st1[13] + st1[14]) - (st0[13] + st0[14])))
check "((ticks <= 30))" "out of descriptors: readyd idles (CPU ${ticks} ticks in 2 s; a spinning accept would take ~200)"
wait "$cpid"
n=$(grep -c "paus" "$READYD_LOG")
check "((n >= 1 && n <= 10))" "out of descriptors: the listener pause is logged ($n lines, at most one a second)" \
	"$(tail -n 5 "$READYD_LOG")"
if wait_for "[[ \$(http_status '$READYD_URL/live') == 200 ]]" 10; then
	ok "out of descriptors: /live 200 again once the clients are gone"
else
	fail "out of descriptors: /live 200 again within 10 s" "$(tail -n 5 "$READYD_LOG")"
fi
stop_readyd

# ---------------------------------------------- 4: descriptors kept for probes
conf4=$T_CONF/http-reserve.conf
write_std_config "$conf4"
READYD_WRAP=(prlimit --nofile=100:100)
start_readyd "$conf4" || exit 1
READYD_WRAP=()
assert_contains "$(head -n 3 "$READYD_LOG")" "(max_clients 16)" "prlimit 100, 5 checks: automatic max_clients 16 (100 - 64 - 4 x 5)"
wait_all_pass 20 || exit 1
fails0=$(http_body "$READYD_URL/metrics" | awk '/^readyd_check_failures_total/ { s += $2 } END { print s + 0 }')
clients "${READYD_URL##*:}" 150 idle 12 >"$T_ART/reserve.out" &
cpid=$!
sleep 1
nf=$(nfds)
check "((nf < 100))" "150 idle clients: readyd holds $nf descriptors, fewer than its limit of 100"
# every probe interval (1 s) needs new sockets: sample the states
states=
for ((i = 0; i < 8; i++)); do
	sleep 1
	states+=$(awk '{ print $1 }' <(curl -s --max-time 30 "$READYD_URL/ready" |
		jq -r '[.checks[].status] | join(",")'))" "
done
live_t0=$(now)
live=$(http_status "$READYD_URL/live" --max-time 30)
live_s=$(elapsed "$live_t0")
wait "$cpid"
echo "# states while flooded: $states; /live after ${live_s}s"
check "[[ '$states' != *fail* && '$states' != *starting* ]]" \
	"150 idle clients: every check stays pass (samples: $states)"
assert_eq "$live" 200 "150 idle clients: /live 200 (after ${live_s}s in the queue)"
fails1=$(http_body "$READYD_URL/metrics" | awk '/^readyd_check_failures_total/ { s += $2 } END { print s + 0 }')
assert_eq "$fails1" "$fails0" "150 idle clients: no failed probe attempt at all (failures_total $fails0 -> $fails1)"
check "! grep -q 'Too many open files' '$READYD_LOG'" "150 idle clients: no probe ran out of descriptors" \
	"$(grep 'Too many' "$READYD_LOG" | head -n 3)"
n=$(grep -c 'max_clients): pausing' "$READYD_LOG")
check "((n >= 1 && n <= 20))" "150 idle clients: the max_clients pause is logged once an episode ($n lines)"
assert_eq "$(http_status "$READYD_URL/live")" 200 "after the idle clients: /live 200"
assert_eq "$(http_status "$READYD_URL/ready")" 200 "after the idle clients: /ready 200"
stop_readyd
