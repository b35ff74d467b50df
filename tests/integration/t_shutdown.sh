#!/usr/bin/env bash
# Signals during shutdown (issue 8 point 8): a SIGHUP that arrives after
# SIGTERM does nothing.
# 1. No drain: SIGTERM, then SIGHUP 0-20 ms later, many times over: readyd
#    exits 0, never logs a reload after "shutting down" (it used to reload
#    into the freed scheduler and configuration: a heap use-after-free
#    under ASan, which run.sh's sanitizer sweep reports).
# 2. With a drain: SIGHUP during the drain is ignored (logged), /ready stays
#    503 and readyd exits 0 at the end of the drain.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

conf=$T_CONF/std.conf
write_std_config "$conf"

# ---------------------------------------------- 1: SIGHUP right after SIGTERM
bad=0 reloads=0 exits=
for delay in 0 0 0.001 0.002 0.003 0.005 0.008 0.01 0.015 0.02 0 0.001 0.004; do
	start_readyd "$conf" || exit 1
	sleep 0.3 # probes in flight: more to tear down
	kill -TERM "$READYD_PID"
	[[ $delay == 0 ]] || sleep "$delay"
	kill -HUP "$READYD_PID" 2>/dev/null
	rc=0
	timeout 10 tail --pid="$READYD_PID" -f /dev/null
	wait "$READYD_PID" || rc=$?
	READYD_PID=
	exits+="$rc "
	((rc == 0)) || bad=$((bad + 1))
	if awk '/shutting down/ { s = 1 } s && /reload/ { f = 1 } END { exit !f }' "$READYD_LOG"; then
		reloads=$((reloads + 1))
		echo "# reloaded during shutdown (delay $delay): $READYD_LOG"
	fi
done
assert_eq "$bad" 0 "SIGHUP 0-20 ms after SIGTERM: readyd exits 0 every time (exits: $exits)"
assert_eq "$reloads" 0 "SIGHUP after SIGTERM: never reloads during shutdown"

# ---------------------------------------------- 2: SIGHUP during the drain
dconf=$T_CONF/drain.conf
write_std_config "$dconf"
sed -i 's/^details = local$/details = local\ndrain = 2s/' "$dconf"
start_readyd "$dconf" || exit 1
wait_all_pass 20
kill -TERM "$READYD_PID"
sleep 0.5
kill -HUP "$READYD_PID"
sleep 0.3
assert_eq "$(http_status "$READYD_URL/ready")" 503 "SIGHUP during the drain: /ready still 503"
assert_eq "$(http_status "$READYD_URL/live")" 200 "SIGHUP during the drain: /live still 200"
rc=0
timeout 10 tail --pid="$READYD_PID" -f /dev/null
wait "$READYD_PID" || rc=$?
READYD_PID=
assert_eq "$rc" 0 "SIGHUP during the drain: readyd exits 0 at the end of the drain"
check "! grep -q 'reload:' '$READYD_LOG'" "SIGHUP during the drain: no reload" "$(tail -n 5 "$READYD_LOG")"
assert_contains "$(cat "$READYD_LOG")" "SIGHUP ignored" "SIGHUP during the drain: logged as ignored"

# ---------------------------------------------- 3: no core file
# readyd holds passwords: killed by a signal that dumps core (SIGABRT
# here: ASan builds catch SIGSEGV, and background jobs ignore SIGQUIT),
# with RLIMIT_CORE unlimited
# and core_pattern "core", it leaves none.
coredir=$T_CONF/crash-cwd
mkdir -p "$coredir"
if [[ $(cat /proc/sys/kernel/core_pattern) != core* ]]; then
	fail "core_pattern is 'core' (this test needs it)" "$(cat /proc/sys/kernel/core_pattern)"
fi
# shellcheck disable=SC2016 # for the inner shell
READYD_WRAP=(bash -c 'ulimit -c unlimited && cd "$0" && exec "$@"' "$coredir")
start_readyd "$conf" || exit 1
READYD_WRAP=()
lim=$(awk '/^Max core file size/ { print $5 "/" $6 }' "/proc/$READYD_PID/limits")
assert_eq "$lim" 0/0 "core file size limit 0 (soft/hard) once started"
kill -ABRT "$READYD_PID"
wait "$READYD_PID" 2>/dev/null
READYD_PID=
sleep 0.5
assert_eq "$(find "$coredir" -mindepth 1 -name 'core*' | wc -l)" 0 "killed by SIGABRT with ulimit -c unlimited: no core file"
