#!/usr/bin/env bash
# SIGTERM drain (README: Command line -> Signals; issue 3 item 3). With
# `[daemon] drain = 2s`, SIGTERM makes /ready (and /ready/GROUP,
# /ready/CHECK) answer 503 at once while /live stays 200 for the drain;
# then readyd exits 0 about 2 s after the signal. A second SIGTERM during a
# (long) drain ends it early. Without drain, SIGTERM exits at once.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

# write_drain_config FILE DRAIN
write_drain_config() {
	write_std_config "$1"
	# [daemon] comes first in the file: add the key right after it.
	sed -i "s/^\\[daemon\\]\$/[daemon]\\ndrain = $2/" "$1"
	sed -i 's/^interval = 1s$/interval = 2s/' "$1"
}

# sigterm_and_watch SECS: SIGTERM readyd, then sample /ready, /ready/GROUP
# and /live every ~0.1 s until readyd exits (at most SECS). Sets EXIT_AT
# (seconds after the signal, empty if still running), EXIT_RC and the
# file $T_ART/samples-N (lines "T READY GROUP LIVE").
SAMPLES_N=0
sigterm_and_watch() {
	local secs=$1 t0 t r g l
	SAMPLES_N=$((SAMPLES_N + 1))
	SAMPLES=$T_ART/samples-$SAMPLES_N
	: >"$SAMPLES"
	EXIT_AT=
	EXIT_RC=
	t0=$(now)
	kill -TERM "$READYD_PID"
	while :; do
		r=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$READYD_URL/ready")
		g=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$READYD_URL/ready/user-service")
		l=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$READYD_URL/live")
		t=$(elapsed "$t0")
		if ! kill -0 "$READYD_PID" 2>/dev/null; then
			EXIT_AT=$t
			break
		fi
		echo "$t $r $g $l" >>"$SAMPLES"
		fle "$secs" "$t" && break
		sleep 0.1
	done
	if [[ -n $EXIT_AT ]]; then
		wait "$READYD_PID"
		EXIT_RC=$?
		READYD_PID=
	fi
}

# ------------------------------------------------------------ drain = 2s
conf=$T_CONF/drain2.conf
write_drain_config "$conf" 2s
run_cmd config "$READYD" config -c "$conf"
assert_eq "$RC" 0 "drain = 2s: the configuration is valid" "$ERR"
assert_match "$OUT" 'drain *= *2s|drain *= *2000ms' "readyd config prints drain = 2s"

start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1
assert_eq "$(http_status "$READYD_URL/ready/user-service")" 200 "before SIGTERM: /ready/user-service 200"

sigterm_and_watch 8
echo "# samples (t ready group live):"
sed 's/^/#   /' "$SAMPLES"
first=$(head -n 1 "$SAMPLES")
check "[[ -n '$first' ]] && fle \$(cut -d' ' -f1 <<<'$first') 0.8" \
	"drain: a sample was taken within 0.8 s of SIGTERM" "$first"
read -r t r g l <<<"$first"
assert_eq "${r:-}" 503 "drain: /ready 503 at once (first sample, t=${t:-?} s)"
assert_eq "${g:-}" 503 "drain: /ready/user-service 503 at once"
assert_eq "${l:-}" 200 "drain: /live 200 at once"
# Every sample during the drain: /ready 503, /live 200. Once the drain
# (2 s) is over, readyd closes its listener and exits; a slow exit (an
# ASan build checks for leaks first) leaves a moment where nothing
# answers (000), which is no drain failure. /ready never says 200.
bad=$(awk '$1 < 1.9 && ($2 != 503 || $3 != 503 || $4 != 200)' "$SAMPLES")
assert_eq "$bad" "" "drain: every sample of the drain had /ready 503, group 503, /live 200"
bad=$(awk '$2 == 200 || $3 == 200 || ($4 != 200 && $4 != "000")' "$SAMPLES")
assert_eq "$bad" "" "drain: no sample until exit had /ready 200, and /live was 200 until the listener closed"
last_t=$(tail -n 1 "$SAMPLES" | cut -d' ' -f1)
check "fle 1.5 '$last_t'" "drain: /live still answered 200 at t=$last_t s (>= 1.5 s)"
check "[[ -n '$EXIT_AT' ]] && fle 1.8 '$EXIT_AT' && fle '$EXIT_AT' 4.5" \
	"drain: readyd exited between 1.8 s and 4.5 s after SIGTERM (at ${EXIT_AT:-never} s)" \
	"$(tail -n 5 "$READYD_LOG")"
assert_eq "$EXIT_RC" 0 "drain: exit status 0"
assert_eq "$(http_status "$READYD_URL/live")" 000 "drain over: nothing listens any more"

# ------------------------------------------ drain = 10s, second SIGTERM
conf=$T_CONF/drain10.conf
write_drain_config "$conf" 10s
start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1
kill -TERM "$READYD_PID"
sleep 1
assert_eq "$(http_status "$READYD_URL/ready")" 503 "long drain: /ready 503 after 1 s"
assert_eq "$(http_status "$READYD_URL/live")" 200 "long drain: /live 200 after 1 s"
check "kill -0 $READYD_PID" "long drain: still running 1 s after the first SIGTERM"
sigterm_and_watch 5
check "[[ -n '$EXIT_AT' ]] && fle '$EXIT_AT' 2" \
	"long drain: a second SIGTERM ends it early (exit ${EXIT_AT:-not within 5} s after it; drain was 10 s)" \
	"$(tail -n 5 "$READYD_LOG")"
assert_eq "$EXIT_RC" 0 "long drain: exit status 0 after the second SIGTERM"

# ------------------------------------------------ no drain: exits at once
conf=$T_CONF/nodrain.conf
write_std_config "$conf"
start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1
sigterm_and_watch 5
check "[[ -n '$EXIT_AT' ]] && fle '$EXIT_AT' 1.5" \
	"drain 0s (default): readyd exits at once (${EXIT_AT:-not within 5} s)"
assert_eq "$EXIT_RC" 0 "drain 0s: exit status 0"
