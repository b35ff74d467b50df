#!/usr/bin/env bash
# shellcheck disable=SC2016 # ${VAR} for readyd to expand, $N for awk
# Fast re-checks and rise (README: Fast detection; issue 4 item 3), and
# /metrics through `promtool check metrics` while checks fail.
# 1. rise: two checks of the same Redis, fast_interval 300ms, `rise = 3`
#    and `rise = 1`. After a failure, with Redis back, the rise-1 check
#    passes with its first success; the rise-3 check stays fail (showing 0
#    consecutive failures) for about 2 x fast_interval more and passes
#    after exactly 3 successes.
# 2. fast re-checks, watch = no, interval 4s: after Redis stops, no probe
#    runs before the next scheduled one (the first failure is seen only
#    ~interval after the last probe), but from then on failures follow
#    every fast_interval (300ms) up to retries (3) and on while failed.
#    A compose-like check (fast_interval = interval, retries 2) of the same
#    Redis takes a whole interval from its first failure to fail, as
#    compose does.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

SAMPLER_PID=
stop_sampler() {
	if [[ -n $SAMPLER_PID ]]; then
		kill "$SAMPLER_PID" 2>/dev/null
		wait "$SAMPLER_PID" 2>/dev/null
		SAMPLER_PID=
	fi
}
on_exit stop_sampler

# start_sampler FILE: in the background, every ~50 ms, one line per check
# "UNIXTIME CHECK STATUS CONSECUTIVE_FAILURES" from /ready.
start_sampler() {
	local out=$1
	: >"$out"
	(
		while :; do
			b=$(curl -s --max-time 1 "$READYD_URL/ready" 2>/dev/null)
			t=$(date +%s.%N)
			jq -r --arg t "$t" '.checks | to_entries[] |
				"\($t) \(.key) \(.value.status) \(.value.consecutive_failures)"' \
				<<<"$b" 2>/dev/null
			sleep 0.05
		done >>"$out"
	) &
	SAMPLER_PID=$!
}

# first_sample FILE CHECK AWK_COND [AFTER]: the time of the first sample of
# CHECK (at or after AFTER) where AWK_COND holds ($3 status, $4 failures).
first_sample() {
	awk -v c="$2" -v a="${4:-0}" "\$2 == c && \$1 >= a && ($3) { print \$1; exit }" "$1"
}
diff_t() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# successes CHECK: attempts minus failed attempts so far, from /metrics.
successes() {
	http_body "$READYD_URL/metrics" | awk -v c="$1" '
		index($0, "readyd_check_duration_seconds_count{check=\"" c "\",") == 1 { n += $NF }
		index($0, "readyd_check_failures_total{check=\"" c "\",") == 1 { f += $NF }
		END { print n - f }'
}

# promtool_ok WHAT: /metrics passes `promtool check metrics`.
PROM_N=0
promtool_ok() {
	PROM_N=$((PROM_N + 1))
	local f=$T_ART/metrics-$PROM_N.txt out rc=0
	curl -s --max-time 5 "$READYD_URL/metrics" >"$f"
	out=$(promtool check metrics <"$f" 2>&1) || rc=$?
	if ((rc == 0)) && [[ -s $f ]]; then
		ok "$1: /metrics passes promtool check metrics"
	else
		fail "$1: /metrics passes promtool check metrics (exit $rc)" "$out"
	fi
}

redis_check() { # NAME [KEY=VALUE...]
	local name=$1 kv
	shift
	printf '\n[check %s]\nkind = redis\nhost = ${REDIS_HOST}\nport = ${REDIS_PORT}\npassword = ${REDIS_PASSWORD:-}\ndb = 0\n' "$name"
	for kv in "$@"; do printf '%s\n' "${kv/=/ = }"; done
}

have_promtool=yes
command -v promtool >/dev/null || {
	have_promtool=no
	fail "promtool is installed (Debian package prometheus)"
}

# ------------------------------------------------------------------ rise
conf=$T_CONF/rise.conf
write_config_header "$conf"
sed -i 's/^interval = .*/interval = 2s/' "$conf"
printf 'fast_interval = 300ms\n' >>"$conf"
{
	redis_check rise3 rise=3
	redis_check rise1 rise=1
} >>"$conf"
start_readyd "$conf" || exit 1
wait_all_pass 10 || exit 1
[[ $have_promtool == yes ]] && promtool_ok "all pass"

stack stop "$STACK_DIR" redis
wait_check rise3 fail refused 10
wait_check rise1 fail refused 10
[[ $have_promtool == yes ]] && promtool_ok "redis stopped (checks fail)"
http_body "$READYD_URL/metrics" >"$T_ART/metrics-failing.txt"
check "grep -q '^readyd_check_failures_total{check=\"rise3\",kind=\"redis\",reason=\"refused\"} [1-9]' '$T_ART/metrics-failing.txt'" \
	"redis stopped: /metrics counts refused failures of rise3"
check "grep -q '^readyd_check_up{check=\"rise3\",.*} 0\$' '$T_ART/metrics-failing.txt'" \
	"redis stopped: /metrics readyd_check_up of rise3 is 0"

s0=$(successes rise3)
samples=$T_ART/samples-rise.txt
start_sampler "$samples"
sleep 0.3
t_back0=$(now)
stack start-server "$STACK_DIR" redis
t_back=$(now)
wait_check rise3 pass "" 10
s1=$(successes rise3)
sleep 0.3
stop_sampler

t1=$(first_sample "$samples" rise1 '$3 == "pass"' "$t_back0")
ts=$(first_sample "$samples" rise3 '$3 == "fail" && $4 == 0' "$t_back0")
tp=$(first_sample "$samples" rise3 '$3 == "pass"' "$t_back0")
echo "# redis back at +$(diff_t "$t_back0" "$t_back") s; rise1 pass at +$(diff_t "$t_back0" "${t1:-0}"); rise3 first success seen at +$(diff_t "$t_back0" "${ts:-0}"), pass at +$(diff_t "$t_back0" "${tp:-0}")"
if [[ -n $t1 && -n $ts && -n $tp ]]; then
	g=$(diff_t "$ts" "$tp")
	check "fle 0.4 $g" \
		"rise = 3: after its first success the check stays fail ${g} s (>= 0.4 s, ~2 x fast_interval)"
	check "fle $g 3" "rise = 3: then passes within 3 s of the first success (${g} s)"
	d=$(diff_t "$t1" "$tp")
	check "fle 0.4 $d" "rise = 1 passes ${d} s before rise = 3 (>= 0.4 s)"
	d=$(diff_t "$t_back" "$tp")
	check "fle $d 3" "rise = 3: pass within 3 s of redis serving again (${d} s)"
else
	fail "rise: the sampler saw rise1 pass, rise3 fail with 0 failures, then rise3 pass" \
		"rise1 pass: ${t1:-never}; rise3 fail/0: ${ts:-never}; rise3 pass: ${tp:-never}" \
		"$(awk '$2 == "rise3"' "$samples" | tail -n 15)"
fi
assert_eq "$((s1 - s0))" 3 "rise = 3: exactly 3 successful attempts brought it back (from /metrics)"
stop_readyd

# -------------------------------------------------------- fast re-checks
conf=$T_CONF/fast.conf
write_config_header "$conf"
sed -i 's/^interval = .*/interval = 4s/; s/^start_interval = .*/start_interval = 4s/; s/^retries = .*/retries = 3/' "$conf"
printf 'watch = no\n' >>"$conf"
{
	redis_check fast fast_interval=300ms
	redis_check compose fast_interval=4s retries=2
} >>"$conf"
start_readyd "$conf" || exit 1
wait_all_pass 10 || exit 1

# attempts CHECK: the duration histogram's _count.
attempts() {
	http_body "$READYD_URL/metrics" |
		awk -v p="readyd_check_duration_seconds_count{check=\"$1\"," 'index($0, p) == 1 { print $NF; exit }'
}
# Stop Redis right after a scheduled probe of `fast`. t_lo: when the last
# request that still saw the old count was sent; the probe ended after it
# (a loaded machine may answer that request late: t_probe, when the new
# count was seen, can be a second after the probe itself).
n0=$(attempts fast)
t_lo=$(now) t_probe=
for ((i = 0; i < 400; i++)); do
	t_req=$(now)
	if [[ $(attempts fast) != "$n0" ]]; then
		t_probe=$(now)
		break
	fi
	t_lo=$t_req
	sleep 0.02
done
if [[ -n $t_probe ]]; then
	ok "fast: a scheduled probe ran ($n0 -> $(attempts fast) attempts)"
else
	fail "fast: a scheduled probe within 8 s (interval 4 s)" "$(check_json fast)"
	exit 1
fi
samples=$T_ART/samples-fast.txt
start_sampler "$samples"
stack stop "$STACK_DIR" redis
t_stop=$(now)
echo "# redis stopped $(diff_t "$t_probe" "$t_stop") s after a probe of fast"
wait_check fast fail refused 10
wait_check compose fail refused 15
# While failed: fast keeps probing every fast_interval.
cf1=$(field fast consecutive_failures)
sleep 1.5
cf2=$(field fast consecutive_failures)
check "((cf2 - cf1 >= 2))" "fast: while fail, probed every fast_interval (consecutive_failures $cf1 -> $cf2 in 1.5 s)"
[[ $have_promtool == yes ]] && promtool_ok "fast re-checks failing"
stop_sampler

f1=$(first_sample "$samples" fast '$4 >= 1')
f2=$(first_sample "$samples" fast '$4 >= 2')
f3=$(first_sample "$samples" fast '$4 >= 3')
ff=$(first_sample "$samples" fast '$3 == "fail"')
echo "# fast: probe at 0, stop at +$(diff_t "$t_probe" "$t_stop"), failures 1/2/3 at +$(diff_t "$t_probe" "${f1:-0}")/+$(diff_t "$t_probe" "${f2:-0}")/+$(diff_t "$t_probe" "${f3:-0}"), fail at +$(diff_t "$t_probe" "${ff:-0}")"
if [[ -n $f1 && -n $f3 && -n $ff ]]; then
	d=$(diff_t "$t_probe" "$f1")
	dlo=$(diff_t "$t_lo" "$f1")
	# The attempt count in /metrics may be up to 1 s old (per-attempt
	# figures refresh a cached body at most once a second): t_lo may
	# come up to 1 s after the probe. The next one is 3.8-4.2 s after it.
	check "fle 2.3 $dlo && fle $d 6" \
		"fast: the first failure is seen only at the next scheduled probe (${dlo}-${d} s after the last, interval 4 s)"
	d=$(diff_t "$f1" "$f3")
	check "fle $d 1.8" "fast: from the first failure, retries (3) reached within ${d} s (2 x fast_interval = 0.6 s; compose: 8 s)"
	d=$(diff_t "$f1" "$ff")
	check "fle $d 1.8" "fast: status fail ${d} s after the first failure"
	assert_eq "$(awk '$2 == "fast" && $3 == "fail" { print $4; exit }' "$samples")" 3 \
		"fast: turned fail with consecutive_failures = retries = 3"
	# Before the scheduled probe nothing was seen (watch = no).
	bad=$(awk -v a="$t_stop" -v b="$f1" '$2 == "fast" && $1 >= a && $1 < b && ($3 != "pass" || $4 != 0)' "$samples")
	assert_eq "$bad" "" "fast: pass with 0 failures from the stop until the scheduled probe"
else
	fail "fast: the sampler saw failures 1, 3 and fail" "$(awk '$2 == "fast"' "$samples" | tail -n 20)"
fi

c1=$(first_sample "$samples" compose '$4 >= 1')
cf=$(first_sample "$samples" compose '$3 == "fail"')
echo "# compose: first failure at +$(diff_t "$t_stop" "${c1:-0}") after the stop, fail at +$(diff_t "$t_stop" "${cf:-0}")"
if [[ -n $c1 && -n $cf ]]; then
	d=$(diff_t "$c1" "$cf")
	check "fle 3.5 $d && fle $d 6" \
		"compose-like (fast_interval = interval = 4s, retries 2): fail one interval after the first failure (${d} s)"
	bad=$(awk -v a="$c1" -v b="$cf" '$2 == "compose" && $1 >= a && $1 < b && $4 != 1' "$samples")
	assert_eq "$bad" "" "compose-like: consecutive_failures stays 1 until the second scheduled attempt"
else
	fail "compose-like: the sampler saw a failure, then fail" "$(awk '$2 == "compose"' "$samples" | tail -n 20)"
fi

t0=$(now)
stack start-server "$STACK_DIR" redis
wait_check fast pass "" 3
echo "# fast pass $(elapsed "$t0") s after start-server"
wait_check compose pass "" 10
stop_readyd
