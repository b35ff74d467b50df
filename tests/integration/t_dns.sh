#!/usr/bin/env bash
# shellcheck disable=SC2016 # ${VAR} for readyd to expand, $1/$@ for sh -c
# Name lookups through evdns (src/resolve.c) against a fake nameserver on
# loopback (fake_dns.py). readyd runs in a private mount namespace
# (unshare -m) where a temporary resolv.conf, "nameserver 127.0.0.1:PORT",
# is bound over /etc/resolv.conf; the machine's own file is never changed.
# 1. A name with an A record (AAAA: NOERROR, no answer, as a real server
#    sends): a redis check by that name passes, as fast as by address, and
#    readyd asks only A; one whose AAAA query is dropped passes within its
#    1 s timeout; one whose A answer comes 0.6 s late (after an empty AAAA
#    answer: evdns' skew used to fail the lookup) passes; a name with only
#    an AAAA record is asked A, then AAAA, and reaches the connect step.
# 2. NXDOMAIN: that check fails with reason dns, its output names the host;
#    the other checks stay pass.
# 3. A nameserver that never answers: the deadline (timeout 1s) fires
#    during the lookup: fail, reason dns, "lookup of HOST: no answer within
#    Nms"; /live (worst of 20 under 0.5 s) and /ready (503) answer at once.
# 4. SIGTERM while a lookup hangs: readyd exits 0 promptly (the cancelled
#    lookup's deferred callback runs before the evdns base is freed).
#    Again under valgrind (not for an ASan build): the use-after-free is a
#    read inside libevent, which ASan does not see.
# 5. readyd check --url with a hung host name, --timeout 1s: exit 1 after
#    about 1 s with one line; with a resolvable name: exit 0. Under valgrind
#    too: no error, no leak (a cancelled lookup left unrun leaks).
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

for tool in unshare mount python3; do
	command -v "$tool" >/dev/null || {
		fail "$tool is installed (unshare, mount: util-linux, mount)"
		exit 1
	}
done

ZONE=readyd-test.internal
OK_NAME=redis.$ZONE
NX_NAME=nx.$ZONE
HUNG_NAME=hung.$ZONE
V4_NAME=v4only.$ZONE # A answered, AAAA dropped
SLOW_NAME=slowa.$ZONE # A answered 0.6 s late, AAAA empty at once
V6_NAME=v6only.$ZONE  # AAAA ::1, A empty
LIMIT=0.5 # seconds, the worst of 20 /live

DNS_PID=
stop_dns() {
	if [[ -n $DNS_PID ]]; then
		kill -TERM "$DNS_PID" 2>/dev/null
		wait "$DNS_PID" 2>/dev/null
		DNS_PID=
	fi
}
on_exit stop_dns

# The fake nameserver, on a UDP port the kernel picks (stack.sh free-port
# probes TCP only); it logs every query to DNS_LOG.
DNS_LOG=$T_ART/fake-dns.log
: >"$DNS_LOG"
python3 "$IT_HERE/fake_dns.py" "$DNS_LOG" "$OK_NAME=127.0.0.1" "hang:$HUNG_NAME" \
	"hang6:$V4_NAME=127.0.0.1" "slowa:$SLOW_NAME=127.0.0.1:0.6" "v6:$V6_NAME=::1" &
DNS_PID=$!
if ! wait_for "grep -q ' LISTENING ' '$DNS_LOG'" 5; then
	fail "fake_dns.py binds its UDP port" "$(cat "$DNS_LOG")"
	exit 1
fi
DNS_PORT=$(awk '$2 == "LISTENING" { print $3; exit }' "$DNS_LOG")

# queries NAME TYPE: how many queries for NAME (any case) of TYPE arrived.
queries() {
	awk -v n="${1,,}" -v t="$2" '$2 == "QUERY" && tolower($3) == n && $4 == t { c++ }
		END { print c + 0 }' "$DNS_LOG"
}

RESOLV=$T_CONF/resolv.conf
printf '# written by tests/integration (%s)\nnameserver 127.0.0.1:%s\n' \
	"$T_NAME" "$DNS_PORT" >"$RESOLV"
host_resolv=$(cksum </etc/resolv.conf 2>&1)

# NS_WRAP CMD...: CMD in a private mount namespace that sees $RESOLV as
# /etc/resolv.conf (private propagation: the bind stays inside). unshare
# (no --fork) and sh exec: CMD keeps the PID.
NS_WRAP=(unshare -m --propagation private sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh "$RESOLV")
READYD_WRAP=("${NS_WRAP[@]}")

run_cmd ns-resolv "${NS_WRAP[@]}" cat /etc/resolv.conf
assert_eq "$OUT" "$(cat "$RESOLV")" "the namespace sees the test resolv.conf (nameserver 127.0.0.1:$DNS_PORT)"
[[ $OUT == "$(cat "$RESOLV")" ]] || exit 1
assert_eq "$(cksum </etc/resolv.conf 2>&1)" "$host_resolv" "the machine's /etc/resolv.conf is unchanged"

# redis_check NAME HOST [KEY=VALUE...]
redis_check() {
	local name=$1 host=$2 kv
	shift 2
	printf '\n[check %s]\nkind = redis\nhost = %s\nport = ${REDIS_PORT}\npassword = ${REDIS_PASSWORD:-}\ndb = 0\n' \
		"$name" "$host"
	for kv in "$@"; do printf '%s\n' "${kv/=/ = }"; done
}

# write_dns_config FILE: the header, interval 2s, fast_interval 250ms.
write_dns_config() {
	write_config_header "$1"
	sed -i 's/^interval = .*/interval = 2s/' "$1"
	printf 'fast_interval = 250ms\n' >>"$1"
}

# readyd_is_own: READYD_PID is readyd itself (not unshare or sh).
# (Under a chroot, a process in a new mount namespace may show its exe
# with the chroot's own path in front: compare the end.)
readyd_is_own() {
	local exe
	exe=$(readlink "/proc/$READYD_PID/exe" 2>/dev/null)
	check "[[ '$exe' == *'$READYD' ]]" \
		"$1: the tracked PID $READYD_PID is readyd's own ($exe)"
}

# ------------------------------------------- 1, 2: an answer, NXDOMAIN
conf=$T_CONF/nx.conf
write_dns_config "$conf"
{
	redis_check redis-ip '${REDIS_HOST}'
	redis_check redis-dns "$OK_NAME"
	redis_check redis-nx "$NX_NAME"
	redis_check redis-v4 "$V4_NAME"
	redis_check redis-slow "$SLOW_NAME"
	redis_check redis-v6 "$V6_NAME" required=no
} >>"$conf"
start_readyd "$conf" || exit 1
readyd_is_own "nxdomain run"
wait_check redis-dns pass "" 10
wait_check redis-slow pass "" 10
lat=$(field redis-slow latency_ms)
check "[[ '$lat' =~ ^[0-9.]+$ ]] && fle 550 '$lat' && fle '$lat' 990" \
	"redis-slow: an A answer 0.6 s late is waited for (latency_ms $lat), not 'nameserver failure'" "$(check_json redis-slow)"
sleep 2.5 # another interval: still pass, never a dns failure
assert_eq "$(field redis-slow status)/$(field redis-slow consecutive_failures)" pass/0 \
	"redis-slow: stays pass an interval later (no failed attempt)"
wait_check redis-v6 fail "" 10
j=$(check_json redis-v6)
check "[[ \$(jq -r .reason <<<'$j') != dns ]] && jq -r .output <<<'$j' | grep -q '::1'" \
	"redis-v6: an AAAA-only name resolves to ::1 after the empty A answer (reason $(jq -r .reason <<<"$j"), not dns)" "$j"
check "[[ \$(queries '$V6_NAME' A) -ge 1 && \$(queries '$V6_NAME' AAAA) -ge 1 ]]" \
	"$V6_NAME: A asked first, then AAAA" "$(grep -i v6only "$DNS_LOG" | tail -n 6)"
# A lost AAAA answer costs nothing: AAAA is asked only when A has none.
wait_check redis-v4 pass "" 10
lat=$(field redis-v4 latency_ms)
check "[[ '$lat' =~ ^[0-9.]+$ ]] && fle '$lat' 900" \
	"redis-v4: a lost AAAA answer costs well under the 1 s timeout (latency_ms $lat)" "$(check_json redis-v4)"
wait_check redis-nx fail dns 10
since_ip=$(field redis-ip since)
since_dns=$(field redis-dns since)
check "[[ \$(queries '$OK_NAME' A) -ge 1 ]]" \
	"$OK_NAME: looked up through the fake nameserver (A queries: $(queries "$OK_NAME" A))" \
	"$(tail -n 20 "$DNS_LOG")"
check "[[ \$(queries '$OK_NAME' AAAA) -eq 0 ]]" \
	"$OK_NAME: AAAA not asked when A answers (A first; AAAA only for a name without A)" "$(tail -n 20 "$DNS_LOG")"
lat_ip=$(field redis-ip latency_ms)
lat_dns=$(field redis-dns latency_ms)
check "[[ '$lat_dns' =~ ^[0-9.]+$ ]] && fle '$lat_dns' 500" \
	"redis-dns: the lookup adds no wait for the empty AAAA (latency_ms $lat_dns, by address $lat_ip)" \
	"$(check_json redis-dns)"
out=$(field redis-nx output)
assert_contains "$out" "$NX_NAME" "redis-nx: output names the host"
assert_contains "$out" "lookup of $NX_NAME" "redis-nx: output is 'lookup of HOST: ...'"
check "[[ \$(queries '$NX_NAME' A) -ge 1 ]]" "$NX_NAME: the nameserver was asked (and said NXDOMAIN)" \
	"$(tail -n 20 "$DNS_LOG")"
sleep 2.5 # a whole interval more: several NXDOMAIN answers
assert_eq "$(field redis-nx status)/$(field redis-nx reason)" fail/dns "redis-nx: still fail (dns) an interval later"
for c in redis-ip redis-dns redis-v4 redis-slow; do
	assert_eq "$(field "$c" status)" pass "nxdomain: $c stays pass"
done
assert_eq "$(field redis-ip since)" "$since_ip" "nxdomain: redis-ip never left pass (since unchanged)"
assert_eq "$(field redis-dns since)" "$since_dns" "nxdomain: redis-dns never left pass (since unchanged)"
http_req "$READYD_URL/ready?verbose"
assert_eq "$HTTP_STATUS" 503 "nxdomain: /ready?verbose 503"
check "grep -qxF '[-]redis-nx failed: dns' <<<\"\$HTTP_BODY\"" \
	"nxdomain: ?verbose has '[-]redis-nx failed: dns'" "$HTTP_BODY"
assert_eq "$(http_status "$READYD_URL/ready?exclude=redis-nx")" 200 "nxdomain: /ready?exclude=redis-nx 200"
stop_readyd

# ------------------------------------------- 3, 5: a nameserver that hangs
conf=$T_CONF/hung.conf
write_dns_config "$conf"
{
	redis_check redis-ip '${REDIS_HOST}'
	redis_check redis-dns "$OK_NAME"
	redis_check redis-hung "$HUNG_NAME"
} >>"$conf"
hung0=$(queries "$HUNG_NAME" A)
start_readyd "$conf" || exit 1
readyd_is_own "hung run"
wait_check redis-dns pass "" 10
wait_check redis-hung fail dns 10
check "[[ \$(queries '$HUNG_NAME' A) -gt $hung0 ]]" "$HUNG_NAME: the nameserver got the queries (and dropped them)" \
	"$(tail -n 20 "$DNS_LOG")"
j=$(check_json redis-hung)
assert_match "$(jq -r .output <<<"$j")" "^lookup of ${HUNG_NAME//./\\.}: no answer within [0-9]+ms\$" \
	"redis-hung: output 'lookup of $HUNG_NAME: no answer within Nms'"
lat=$(jq -r .latency_ms <<<"$j")
check "[[ '$lat' =~ ^[0-9.]+$ ]] && fle 900 '$lat' && fle '$lat' 2000" \
	"redis-hung: the failed attempt took about the timeout (1 s): latency_ms $lat" "$j"

w=$(worst_time "$READYD_URL/live" 20)
check "fle $w $LIMIT" "hung lookup: /live answers fast (worst of 20: ${w}s < ${LIMIT}s)"
assert_eq "$(http_status "$READYD_URL/live")" 200 "hung lookup: /live 200"
w=$(worst_time "$READYD_URL/ready" 5)
check "fle $w $LIMIT" "hung lookup: /ready answers fast (worst of 5: ${w}s < ${LIMIT}s)"
http_req "$READYD_URL/ready"
assert_eq "$HTTP_STATUS" 503 "hung lookup: /ready 503"
assert_eq "$(jq -r '.checks["redis-hung"].reason' <<<"$HTTP_BODY" 2>/dev/null)" dns "hung lookup: /ready says redis-hung dns"
for c in redis-ip redis-dns; do
	assert_eq "$(field "$c" status)" pass "hung lookup: $c stays pass"
done
assert_eq "$(http_status "$READYD_URL/ready?exclude=redis-hung")" 200 "hung lookup: /ready?exclude=redis-hung 200"
sleep 2.5 # keeps failing attempt after attempt, nothing piles up
j=$(check_json redis-hung)
check "[[ \$(jq -r .status <<<'$j') == fail && \$(jq -r .reason <<<'$j') == dns && \$(jq -r .consecutive_failures <<<'$j') -ge 3 ]]" \
	"redis-hung: keeps probing, each attempt failing dns (consecutive_failures >= 3)" "$j"
assert_eq "$(field redis-dns status)" pass "hung lookup: redis-dns still pass (the same nameserver answers it)"

# 5: readyd check, through evdns too.
port=${READYD_URL##*:}
run_cmd check-name "${NS_WRAP[@]}" "$READYD" check --url "http://$OK_NAME:$port/live" --timeout 2s
assert_eq "$RC" 0 "check --url http://$OK_NAME:PORT/live: exit 0"
t0=$(now)
run_cmd check-hung "${NS_WRAP[@]}" "$READYD" check --url "http://$HUNG_NAME:$port/ready" --timeout 1s
e=$(elapsed "$t0")
assert_eq "$RC" 1 "check --url http://$HUNG_NAME:PORT/ready --timeout 1s: exit 1"
check "fle 0.8 $e && fle $e 3" "check --url with a hung name: gives up after about 1 s (took $e s)"
all=$(cat "$T_ART/check-hung.out" "$T_ART/check-hung.err")
n=$(grep -c . <<<"$all")
check "[[ $n == 1 && \${#all} -le 200 ]]" "check --url with a hung name: prints one short line ($n lines, ${#all} chars)" "$all"
assert_contains "$all" "$HUNG_NAME" "check --url with a hung name: the line names the host"
stop_readyd

# ------------------------------------------- 4: SIGTERM while a lookup hangs
# A long timeout keeps the first lookup in flight for 5 s.
conf=$T_CONF/term.conf
write_dns_config "$conf"
sed -i 's/^interval = .*/interval = 10s/; s/^timeout = .*/timeout = 5s/' "$conf"
redis_check redis-hung "$HUNG_NAME" >>"$conf"

# term_during_lookup LABEL: start readyd (READYD_WRAP), SIGTERM it while
# its lookup of HUNG_NAME hangs; stop_readyd asserts exit 0. Sets TERM_S
# (seconds from SIGTERM to exit).
term_during_lookup() {
	local label=$1 n0 t0
	n0=$(queries "$HUNG_NAME" A)
	TERM_S=
	start_readyd "$conf" || return 1
	[[ $label == valgrind* ]] || readyd_is_own "$label"
	if wait_for "[[ \$(queries '$HUNG_NAME' A) -gt $n0 ]]" 10; then
		ok "$label: the lookup of $HUNG_NAME is in flight"
	else
		fail "$label: the lookup of $HUNG_NAME is in flight within 10 s" "$(tail -n 20 "$DNS_LOG")"
	fi
	sleep 0.3
	assert_eq "$(field redis-hung status)" starting "$label: redis-hung has no result yet (the lookup hangs)"
	t0=$(now)
	stop_readyd
	TERM_S=$(elapsed "$t0")
}

term_during_lookup "SIGTERM run"
check "[[ -n '$TERM_S' ]] && fle '$TERM_S' 2" "SIGTERM while a lookup hangs: exits within 2 s (took $TERM_S s)"

# The use-after-free this guards against is a read inside libevent, which
# ASan does not instrument: valgrind sees it (exit 99, "Invalid read" in
# the log). readyd check's cancelled lookup would leak instead (LSan in the
# ASan build, valgrind here). Not for an ASan build (no valgrind on it).
VG=(valgrind -q --leak-check=full --show-leak-kinds=all
	--errors-for-leak-kinds=all --error-exitcode=99)
if grep -qa __asan_init "$READYD"; then
	echo "# an ASan build: no valgrind pass"
elif ! command -v valgrind >/dev/null; then
	fail "valgrind is installed (Debian package valgrind)"
else
	READYD_WRAP=("${NS_WRAP[@]}" "${VG[@]}")
	term_during_lookup "valgrind: SIGTERM run"
	check "! grep -q 'Invalid \\(read\\|write\\|free\\)' '$READYD_LOG'" \
		"valgrind: SIGTERM while a lookup hangs: no invalid access" "$(grep -A 12 Invalid "$READYD_LOG" | head -n 30)"
	READYD_WRAP=("${NS_WRAP[@]}")
	run_cmd check-hung-vg "${NS_WRAP[@]}" "${VG[@]}" "$READYD" check --url "http://$HUNG_NAME:1/ready" --timeout 1s
	check "[[ \$RC == 1 ]]" "valgrind: check --url with a hung name: exit 1, no error or leak (got $RC; 99: valgrind)" \
		"$(head -n 30 "$T_ART/check-hung-vg.err")"
fi

assert_eq "$(cksum </etc/resolv.conf 2>&1)" "$host_resolv" "the machine's /etc/resolv.conf is still unchanged"
