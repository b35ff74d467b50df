#!/usr/bin/env bash
# run.sh READYD_BIN: the detection benchmark of readyd (issue 4, item 6).
#
# Starts its own throwaway stack (tests/stack/stack.sh) and runs readyd with
# its BUILT-IN DEFAULT configuration (no -c; interval 30s, timeout 10s,
# retries 3, start_interval 5s, fast_interval 1s, rise 1, watch yes,
# pgbouncer depends_on postgres), listening on a free loopback port, then
# measures:
#   1. start-up: launch of readyd to the first HTTP 200 on /ready;
#   2. /ready and /live latency (curl time_total, one connection per
#      request) with all backends up, and again while PostgreSQL is frozen
#      (SIGSTOP) and its checks keep failing with hung attempts in flight;
#   3. the detection table: for postgres, pgbouncer and redis, each faulted
#      with kill -9, a graceful stop and SIGSTOP: fault -> /ready 503 and
#      restart/thaw -> /ready 200 (stable for BENCH_STABLE s), polling
#      /ready every 50 ms; for postgres also fault -> /ready/user-service
#      503; for SIGSTOP also readyd's first hung attempt -> /ready 503. Each
#      row is printed next to docker compose's own semantics. For postgres,
#      the PgBouncer path is also checked for real after the restart (psql
#      through PgBouncer every 250 ms, as the services connect) to see when
#      it really serves and how long /ready said 200 while it did not;
#   4. readyd's peak RSS (VmHWM) and VmRSS at the end of the run.
# The table goes to stdout (progress to stderr); the raw samples, the poll
# trace and readyd's log go to a results directory whose path is printed.
# Exit status: 0 when the benchmark ran (whatever the figures), 1 on a
# harness error (stack, readyd start-up, a fault command failing), 64 on a
# usage error, 130/143 when interrupted. Cleans up readyd, the stack and its
# scratch directory on every exit.
#
# Environment:
#   BENCH_TRIALS=3            trials per case
#   BENCH_CASES="..."         cases, SERVER:FAULT with SERVER postgres,
#                             pgbouncer or redis and FAULT kill, stop or
#                             sigstop; default: all nine. "none": skip.
#   BENCH_STARTUP_RUNS=5      start-up runs
#   BENCH_LATENCY_N=200       requests per latency measurement (0: skip)
#   BENCH_FROZEN_LATENCY=1    0 skips the latency run with PostgreSQL frozen
#   BENCH_DELAY_MAX=5         random wait (s) before a kill/stop fault
#   BENCH_FREEZE_DELAY_MAX=30 random wait (s) before a SIGSTOP fault: one
#                             whole probe interval, so that the freeze lands
#                             at a uniformly random point of the 30 s cycle
#   BENCH_HOLD=2              seconds a fault is held after /ready said 503
#   BENCH_STABLE=3            /ready must stay 200 this long to count as back
#   BENCH_STABLE_PG=20        the same for the postgres cases: PgBouncer may
#                             refuse logins for server_login_retry (15 s)
#                             after PostgreSQL is back
#   BENCH_CAP=180             cap (s) of every wait; a miss is recorded
#   BENCH_OUT=DIR             results directory (default: a new
#                             /tmp/readyd-bench-results.XXXXXX)
set -uo pipefail
export LC_ALL=C # EPOCHREALTIME with a '.'

BIN=${1:-}
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$HERE/../.." && pwd)

usage_die() {
	echo "run.sh: $*" >&2
	sed -n '2,44p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 64
}

[[ -n $BIN ]] || usage_die "missing READYD_BIN"
[[ -x $BIN ]] || usage_die "$BIN: not an executable (run make first)"

int_env() { # NAME DEFAULT: a non-negative integer from the environment
	local v=${!1:-$2}
	[[ $v =~ ^[0-9]+$ ]] || usage_die "$1='$v': not a non-negative integer"
	echo "$v"
}
TRIALS=$(int_env BENCH_TRIALS 3) || exit 64
STARTUP_RUNS=$(int_env BENCH_STARTUP_RUNS 5) || exit 64
LAT_N=$(int_env BENCH_LATENCY_N 200) || exit 64
FROZEN_LAT=$(int_env BENCH_FROZEN_LATENCY 1) || exit 64
DELAY_MAX=$(int_env BENCH_DELAY_MAX 5) || exit 64
FREEZE_DELAY_MAX=$(int_env BENCH_FREEZE_DELAY_MAX 30) || exit 64
HOLD=$(int_env BENCH_HOLD 2) || exit 64
STABLE=$(int_env BENCH_STABLE 3) || exit 64
STABLE_PG=$(int_env BENCH_STABLE_PG 20) || exit 64
CAP=$(int_env BENCH_CAP 180) || exit 64
((TRIALS >= 1)) || usage_die "BENCH_TRIALS must be at least 1"
((CAP >= 10)) || usage_die "BENCH_CAP must be at least 10"

ALL_CASES="postgres:kill postgres:stop postgres:sigstop pgbouncer:kill pgbouncer:stop pgbouncer:sigstop redis:kill redis:stop redis:sigstop"
CASES=()
for c in ${BENCH_CASES:-$ALL_CASES}; do
	[[ $c == none ]] && continue
	c=${c/:freeze/:sigstop}
	[[ $c =~ ^(postgres|pgbouncer|redis):(kill|stop|sigstop)$ ]] ||
		usage_die "BENCH_CASES: bad case '$c' (SERVER:FAULT, e.g. postgres:kill redis:stop)"
	CASES+=("$c")
done

for tool in curl awk timeout setpriv find stat mkfifo; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "run.sh: missing tool: $tool (make deps)" >&2
		exit 1
	}
done

# ---------------------------------------------------------------- set-up

T_START=${EPOCHREALTIME/./}
W=$(mktemp -d /tmp/readyd-bench.XXXXXX) || {
	echo "run.sh: mktemp failed" >&2
	exit 1
}
chmod 755 "$W" # user postgres runs the servers below it
STACK_DIR=$W/stack
if [[ -n ${BENCH_OUT:-} ]]; then
	R=$BENCH_OUT
	mkdir -p -- "$R" || {
		rm -rf -- "$W"
		echo "run.sh: cannot create $R" >&2
		exit 1
	}
else
	R=$(mktemp -d /tmp/readyd-bench-results.XXXXXX) || {
		rm -rf -- "$W"
		echo "run.sh: mktemp failed" >&2
		exit 1
	}
fi
SAMPLES=$R/samples.tsv
TRACE=$R/trace.tsv
OBS=$R/observations.txt
RLOG=$W/readyd.log
STACKLOG=$W/stack.log
: >"$TRACE"
: >"$OBS"
: >"$STACKLOG"
printf 'section\tcase\ttrial\tmetric\tvalue\tunit\tnote\n' >"$SAMPLES"

# A private copy: a rebuild during the run must not change the binary.
mkdir -p "$W/bin"
cp -- "$BIN" "$W/bin/readyd" || {
	rm -rf -- "$W"
	echo "run.sh: cannot copy $BIN" >&2
	exit 1
}
READYD=$W/bin/readyd
# The same for the stack: a snapshot of tests/stack and the config/ it
# reads, laid out as in the repository, so that an edit of stack.sh during
# the run cannot mix two versions on one stack.
mkdir -p "$W/tree/tests"
if ! cp -a -- "$REPO/tests/stack" "$W/tree/tests/" || ! cp -a -- "$REPO/config" "$W/tree/"; then
	rm -rf -- "$W"
	echo "run.sh: cannot copy tests/stack and config" >&2
	exit 1
fi
STACK=$W/tree/tests/stack/stack.sh
# Which readyd: the binary's digest and age, and the source tree it stands
# for as far as git can tell (a build does not record its commit).
READYD_ID="binary $(sha256sum "$READYD" | cut -c1-12), built $(date -u -r "$BIN" +%FT%TZ)"
if command -v git >/dev/null 2>&1 && git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
	READYD_ID+=", source at $(git -C "$REPO" rev-parse --short HEAD)"
	git -C "$REPO" diff --quiet HEAD -- src include Makefile 2>/dev/null ||
		READYD_ID+=" with uncommitted changes in src/, include/ or Makefile"
fi
STACK_VERSION="tests/stack and config/ as found at the start"
if command -v git >/dev/null 2>&1 && git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1; then
	if git -C "$REPO" diff --quiet HEAD -- tests/stack config 2>/dev/null; then
		STACK_VERSION+=" (= commit $(git -C "$REPO" rev-parse --short HEAD))"
	else
		STACK_VERSION+=" (with uncommitted changes on top of $(git -C "$REPO" rev-parse --short HEAD))"
	fi
fi

# nap SECS: sleep without a fork (read with a timeout on a silent fifo).
mkfifo "$W/nap"
exec {NAP_FD}<>"$W/nap"
nap() { read -r -t "$1" -u "$NAP_FD" _ || true; }

declare -A PIDS=() # background processes we started and have not reaped
STACK_UP=no
REPORT_STATE=none # pending once there are figures: then a report is printed on any exit
declare -A LAT=() # latency label -> "n median p99 max min answers"
declare -A RES=() # "case metric" -> values (seconds) or "T" (a miss), space-separated
HARNESS_ERRORS=0
CLEANED=no

pid_alive() { # PID: exists and is not a zombie
	local line st
	[[ -n ${1:-} ]] || return 1
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	st=${line##*) }
	st=${st%% *}
	[[ $st != Z && $st != X ]]
}

# stop_pid PID [SECS]: SIGTERM, SIGKILL after SECS (default 10), reap.
stop_pid() {
	local pid=$1 secs=${2:-10} i
	[[ -n $pid ]] || return 0
	if pid_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < secs * 10; i++)); do
			pid_alive "$pid" || break
			nap 0.1
		done
		pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	unset "PIDS[$pid]"
	return 0
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
	local p
	[[ $CLEANED == yes ]] && return 0
	CLEANED=yes
	if [[ $REPORT_STATE == pending ]]; then
		REPORT_STATE=partial
		T_END=${EPOCHREALTIME/./}
		say "printing the figures gathered so far"
		finish_memory
		print_report
	fi
	for p in "${!PIDS[@]}"; do
		stop_pid "$p" 5
	done
	if [[ $STACK_UP == yes ]]; then
		"$STACK" stop "$STACK_DIR" >>"$STACKLOG" 2>&1 ||
			echo "run.sh: stopping the stack failed (see $STACKLOG)" >&2
	fi
	[[ -f $RLOG ]] && cp -- "$RLOG" "$R/readyd.log" 2>/dev/null
	[[ -f $STACKLOG ]] && cp -- "$STACKLOG" "$R/stack.log" 2>/dev/null
	exec {NAP_FD}<&- 2>/dev/null
	rm -rf -- "$W"
}
trap cleanup EXIT
trap 'echo "run.sh: interrupted; partial samples in $R" >&2; ABORT_REASON=interrupted; exit 130' INT
trap 'echo "run.sh: terminated; partial samples in $R" >&2; ABORT_REASON=terminated; exit 143' TERM

now_s() { # seconds since the start, for progress lines
	local t=${EPOCHREALTIME/./}
	printf '%d' $(((t - T_START) / 1000000))
}
say() { printf 'bench [%4ss]: %s\n' "$(now_s)" "$*" >&2; }
harness_error() {
	HARNESS_ERRORS=$((HARNESS_ERRORS + 1))
	say "HARNESS ERROR: $*"
	echo "harness error: $*" >>"$OBS"
}
ABORT_REASON=
fatal() {
	harness_error "$*"
	ABORT_REASON=$*
	say "aborting"
	exit 1
}

us2s() { # MICROSECONDS -> seconds with 3 decimals (signed)
	local v=$1 sign=
	((v < 0)) && {
		sign=-
		v=$((-v))
	}
	printf '%s%d.%03d' "$sign" $((v / 1000000)) $(((v % 1000000) / 1000))
}

# sample SECTION CASE TRIAL METRIC VALUE UNIT [NOTE]
sample() {
	local note=${7:-}
	note=${note//$'\t'/ }
	note=${note//$'\n'/; }
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$note" >>"$SAMPLES"
}

stack_cmd() { # stack.sh CMD... with its output in the stack log, bounded
	echo "---- $(date -u +%H:%M:%S.%N) stack.sh $*" >>"$STACKLOG"
	timeout -k 5 120 "$STACK" "$@" >>"$STACKLOG" 2>&1
}

# ---------------------------------------------------------------- readyd

# launch_readyd PORT LOG: readyd serve with the built-in configuration, no
# inherited descriptors beyond stdio. Sets LAUNCHED_PID.
launch_readyd() {
	local port=$1 log=$2
	(
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			[[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)) &&
				eval "exec $fd>&-" 2>/dev/null
		done
		unset READYD_CONFIG
		export READYD_LISTEN=127.0.0.1:$port
		exec "$READYD" serve </dev/null >>"$log" 2>&1
	) &
	LAUNCHED_PID=$!
	PIDS[$LAUNCHED_PID]=1
}

http_code() { # URL: the status code, 000 when no answer within 2 s
	curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null
	return 0
}

# verbose_summary URL: the failing lines of /ready?verbose, on one line.
verbose_summary() {
	local body
	body=$(curl -s --max-time 2 "$1/ready?verbose" 2>/dev/null)
	body=$(grep -v '^\[+\]' <<<"$body" | tr '\n' ';' | sed 's/;$//; s/;/; /g')
	echo "${body:-(no answer)}"
}

# ---------------------------------------------------------------- stats

# stats FILE: "n median p99 max min" of the numbers in FILE (one per line).
stats() {
	sort -g "$1" | awk '
		{ a[++n] = $1 }
		END {
			if (n == 0) { print "0 - - - -"; exit }
			m = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			r = int(0.99 * n); if (r < 0.99 * n) r++; if (r < 1) r = 1
			print n, m, a[r], a[n], a[1]
		}'
}

# ================================================================ report

fmt() { # VALUE: 2 decimals, or as is
	[[ $1 =~ ^-?[0-9.]+$ ]] && awk -v v="$1" 'BEGIN { printf "%.2f", v }' || echo "$1"
}

# summary VALUES [MISS]: "n median worst" of seconds, "T" counting as a
# miss; worst is MISS (default ">CAP") when any trial missed.
summary() {
	local vals=$1 miss=${2:->$CAP} f=$W/sum.txt misses=0 v s s_n s_med s_max
	: >"$f"
	for v in $vals; do
		if [[ $v == T ]]; then misses=$((misses + 1)); else echo "$v" >>"$f"; fi
	done
	read -r s_n s_med _ s_max _ <<<"$(stats "$f")"
	s=$((s_n + misses))
	if ((misses)); then
		echo "$s $s_med $miss ($misses missed)"
	else
		echo "$s $s_med $s_max"
	fi
}

ratio() { # COMPOSE_WORST READYD_WORST
	awk -v c="$1" -v r="$2" 'BEGIN {
		if (r !~ /^[0-9.]+$/) { print "—"; exit }
		if (r + 0 < 0.05) r = 0.05
		x = c / r
		printf (x >= 10 ? "%.0f×" : "%.1f×"), x }'
}

goal_mark() { # WORST LIMIT
	awk -v w="$1" -v g="$2" 'BEGIN {
		if (w == "-") { print "—"; exit }
		if (w !~ /^[0-9.]+$/) { print "missed"; exit }
		print (w + 0 <= g + 0 ? "met" : "missed") }'
}

fault_label() {
	case $1 in
	kill) echo "kill -9" ;;
	stop) echo "graceful stop" ;;
	sigstop) echo "SIGSTOP" ;;
	esac
}

# det_row LABEL VALUES COMPOSE_RANGE COMPOSE_WORST GOAL
det_row() {
	local label=$1 vals=$2 crange=$3 cworst=$4 goal=$5 n med worst
	read -r n med worst <<<"$(summary "$vals")"
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$n" "$(fmt "$med")" \
		"$(fmt "$worst")" "$crange" "$(ratio "$cworst" "$worst")" \
		"≤ $goal s: $(goal_mark "$worst" "$goal")"
}

# print_report: the tables on stdout and in R/report.md.
print_report() {
	{
		echo
		echo "## readyd detection benchmark"
		echo
		if [[ $REPORT_STATE == partial ]]; then
			echo "**Partial: the run stopped early (${ABORT_REASON:-unexpected exit}); the rows show the trials that finished.**"
			echo
		fi
		echo "- readyd: $("$READYD" --version 2>/dev/null | head -n 1) ($READYD_ID), built-in configuration ($CONF_SUMMARY)"
		echo "- stack: $("$STACK_PG_BIN/postgres" --version 2>/dev/null), $(pgbouncer --version 2>/dev/null | head -n 1) (server_login_retry = $PGB_RETRY), $(redis-server --version 2>/dev/null | awk '{ print $1, $2, $3 }'); loopback; $STACK_VERSION"
		echo "- machine: $(uname -sr), $(nproc) CPUs; $(date -u +%FT%TZ)"
		echo "- trials per case: $TRIALS; /ready polled every 50 ms; random wait before a fault: 0–$DELAY_MAX s (kill, stop), 0–$FREEZE_DELAY_MAX s (SIGSTOP); fault held $HOLD s after the 503; \"back\" = /ready 200 for $STABLE s ($STABLE_PG s in the postgres cases)"
		echo "- wall time: $(us2s $((T_END - T_START))) s"
		echo
		echo "### Start-up (launch → first /ready 200)"
		echo
		read -r n med p99 max min <<<"$(stats "$STARTUP_FILE")"
		echo "| runs | median s | worst s | best s |"
		echo "|---|---|---|---|"
		echo "| $n$( ((STARTUP_MISSES)) && echo " (+$STARTUP_MISSES missed 30 s)") | $(fmt "$med") | $(fmt "$max") | $(fmt "$min") |"
		echo
		if ((LAT_N > 0)); then
			echo "### HTTP latency (curl time_total, a new connection per request)"
			echo
			echo "| request | backends | n | median ms | p99 ms | max ms | answers |"
			echo "|---|---|---|---|---|---|---|"
			for l in ready-up live-up ready-frozen live-frozen; do
				[[ -n ${LAT[$l]:-} ]] || continue
				read -r n med p99 max min codes <<<"${LAT[$l]}"
				case $l in
				*-up) b="all up" ;;
				*) b="PostgreSQL frozen" ;;
				esac
				echo "| /${l%%-*} | $b | $n | $(fmt "$med") | $(fmt "$p99") | $(fmt "$max") | $codes |"
			done
			[[ -n ${FROZEN_NOTE:-} ]] && echo && echo "Frozen run: $FROZEN_NOTE."
			echo
		fi
		echo "### Memory"
		echo
		echo "readyd at the end of the run: VmHWM (peak RSS) $HWM kB, VmRSS $RSS kB."
		echo
		if ((${#CASES[@]})); then
			echo "### Detection: fault → /ready 503"
			echo
			echo "Compose: a probe every interval (30 s), unhealthy after retries (3) consecutive failures;"
			echo "refused: 60–90 s; a hang also waits the timeout each attempt: 90–120 s."
			echo
			echo "| case | n | median s | worst s | compose s | compose worst / readyd worst | goal (issue 4) |"
			echo "|---|---|---|---|---|---|---|"
			for case in "${CASES[@]}"; do
				srv=${case%%:*}
				fault=${case##*:}
				if [[ $fault == sigstop ]]; then
					det_row "$srv $(fault_label "$fault")" "${RES["$case detect"]:-}" "90–120" 120 11
					det_row "↳ $srv first hung attempt → 503" "${RES["$case hang"]:-}" "90" 90 11
				else
					det_row "$srv $(fault_label "$fault")" "${RES["$case detect"]:-}" "60–90" 90 5
				fi
				if [[ $srv == postgres ]]; then
					det_row "↳ postgres $(fault_label "$fault"): /ready/user-service" \
						"${RES["$case detect_user"]:-}" "90–120 ¹" 120 5
				fi
			done
			echo
			echo "Goal for SIGSTOP (issue 4): \"within one timeout plus the re-check time after the first attempt that hangs\" = 10 s + 1 s;"
			echo "the first hung attempt is the first moment a socket of the frozen server holds bytes it has not read (a probe"
			echo "of readyd, or PgBouncer's query on its behalf; seen in /proc/net/tcp). From the fault, that attempt comes only"
			echo "with the next scheduled probe (0–30 s later): nothing drops, so the watch cannot see a freeze."
			echo
			echo "¹ compose has no dependencies: user-service's PgBouncer check sees PostgreSQL's loss only through PgBouncer,"
			echo "whose query waits for the server (PITFALLS: up to query_wait_timeout), i.e. each attempt hangs until the timeout."
			echo
			echo "### Recovery: restart / thaw → /ready 200 (stable $STABLE s; postgres: $STABLE_PG s)"
			echo
			echo "Compose: the next probe, up to one interval: 0–30 s. \"serving\" = stack.sh start-server returned"
			echo "(its own client logged in); \"restart\" = the server was launched."
			echo
			echo "| case | n | from restart/thaw: median s | worst s | from serving: median s | worst s | compose s | compose worst / readyd worst | flaps | goal (issue 4) |"
			echo "|---|---|---|---|---|---|---|---|---|---|"
			for case in "${CASES[@]}"; do
				srv=${case%%:*}
				fault=${case##*:}
				read -r n med worst <<<"$(summary "${RES["$case recover"]:-}")"
				if [[ $fault == sigstop ]]; then
					smed="—"
					sworst="—"
					gw=$worst
				else
					read -r _ smed sworst <<<"$(summary "${RES["$case serving"]:-}")"
					gw=$sworst
				fi
				fl=$(awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }' <<<"${RES["$case flaps"]:-0}")
				printf '| %s | %s | %s | %s | %s | %s | 0–30 | %s | %s | %s |\n' \
					"$srv $(fault_label "$fault") → $( [[ $fault == sigstop ]] && echo thaw || echo restart)" \
					"$n" "$(fmt "$med")" "$(fmt "$worst")" "$(fmt "$smed")" "$(fmt "$sworst")" \
					"$(ratio 30 "$gw")" "$fl" "≤ 3 s: $(goal_mark "$gw" 3)"
			done
			echo
			echo "The ratio and the goal use \"from serving\" for restarts, \"from thaw\" for SIGSTOP. For the postgres rows,"
			echo "/ready's 200 may come before the PgBouncer path really serves: see the next table."
			echo
			pg_rows=0
			for case in "${CASES[@]}"; do
				[[ $case == postgres:* ]] && pg_rows=1
			done
			if ((pg_rows)); then
				echo "### The PgBouncer path after PostgreSQL is back"
				echo
				echo "After PostgreSQL was down, PgBouncer may refuse logins (\"server login has been failing\") for up to"
				echo "server_login_retry ($PGB_RETRY s here) once PostgreSQL is back. A login + SELECT 1 through PgBouncer (psql, the services'"
				echo "options) every 250 ms from the moment PostgreSQL serves again shows when the path really serves, and how long"
				echo "/ready said 200 meanwhile. Seconds from PostgreSQL serving again (stack.sh start-server returned / thaw)."
				echo
				echo "| case | n | psql through PgBouncer OK for good: median s | worst s | /ready 200 for good: median s | worst s | /ready 200 while that psql failed: median s | worst s | flaps |"
				echo "|---|---|---|---|---|---|---|---|---|"
				for case in "${CASES[@]}"; do
					[[ $case == postgres:* ]] || continue
					fault=${case##*:}
					read -r n tmed tworst <<<"$(summary "${RES["$case truth_ok"]:-}" "not in the window")"
					if [[ $fault == sigstop ]]; then
						read -r _ rmed rworst <<<"$(summary "${RES["$case recover"]:-}")"
					else
						read -r _ rmed rworst <<<"$(summary "${RES["$case serving"]:-}")"
					fi
					read -r _ fmed fworst <<<"$(summary "${RES["$case false200"]:-}")"
					fl=$(awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }' <<<"${RES["$case flaps"]:-0}")
					printf '| postgres %s → %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(fault_label "$fault")" \
						"$([[ $fault == sigstop ]] && echo thaw || echo restart)" "$n" \
						"$(fmt "$tmed")" "$(fmt "$tworst")" "$(fmt "$rmed")" "$(fmt "$rworst")" \
						"$(fmt "$fmed")" "$(fmt "$fworst")" "$fl"
				done
				echo
			fi
		fi
		if [[ -s $OBS ]]; then
			echo "### Observations"
			echo
			echo '```'
			cat "$OBS"
			echo '```'
			echo
		fi
		echo "Raw samples: $SAMPLES"
		echo "Poll trace (t_us /ready /ready/user-service): $TRACE; readyd log: $R/readyd.log; stack log: $R/stack.log"
	} | tee "$R/report.md"
}


# ================================================================ memory

# finish_memory: readyd's VmHWM and VmRSS (n/a when it is gone), then stop
# it; and the log lines that are not readyd's own "TIMESTAMP readyd:
# LEVEL:" lines (for instance a library printing to stderr).
HWM=n/a
RSS=n/a
finish_memory() {
	local odd
	if pid_alive "$RPID"; then
		HWM=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$RPID/status")
		RSS=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$RPID/status")
		sample memory - - VmHWM "$HWM" kB
		sample memory - - VmRSS "$RSS" kB
		stop_pid "$RPID" 10
	fi
	odd=$(grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z readyd: ' "$RLOG")
	if ((odd > 0)); then
		{
			echo "readyd's log has $odd line(s) without readyd's prefix, e.g.:"
			grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z readyd: ' "$RLOG" | sort | uniq -c |
				sort -rn | head -n 5 | sed 's/^/    /'
		} >>"$OBS"
	fi
}


# ================================================================ stack

say "readyd $("$READYD" --version 2>/dev/null | head -n 1) ($READYD_ID); results in $R"
say "starting the stack in $STACK_DIR"
STACK_UP=yes
stack_cmd start "$STACK_DIR" || {
	tail -n 30 "$STACKLOG" >&2
	fatal "stack.sh start failed (log: $R/stack.log)"
}
# shellcheck disable=SC1091
source "$STACK_DIR/env"
unset READYD_CONFIG
[[ -e /etc/readyd/readyd.conf ]] &&
	fatal "/etc/readyd/readyd.conf exists: readyd would read it instead of its built-in default"

# The effective timings of the built-in configuration, as readyd sees them.
CONFIG_TXT=$(READYD_LISTEN=127.0.0.1:1 timeout 10 "$READYD" config 2>&1) ||
	fatal "readyd config failed: $CONFIG_TXT"
grep -q '^# effective configuration from (built-in)' <<<"$CONFIG_TXT" ||
	fatal "readyd does not use its built-in configuration: $(head -n 1 <<<"$CONFIG_TXT")"
printf '%s\n' "$CONFIG_TXT" | grep -v -i 'password' >"$R/config.txt"
config_values() { # KEY: the distinct values of KEY over all checks
	awk -v k="$1" '$1 == k && $2 == "=" { sub(/^[^=]*= */, ""); v[$0] = 1 }
		END { s = ""; for (x in v) s = s (s == "" ? "" : ",") x; print s }' <<<"$CONFIG_TXT"
}
CONF_SUMMARY=""
for k in interval timeout retries start_period start_interval fast_interval rise watch; do
	CONF_SUMMARY+="$k $(config_values "$k"), "
done
PGB_DEPS=$(awk '/^\[check pgbouncer\]/ { f = 1; next } /^\[/ { f = 0 }
	f && $1 == "depends_on" { sub(/^[^=]*= */, ""); print }' <<<"$CONFIG_TXT")
CONF_SUMMARY+="pgbouncer depends_on ${PGB_DEPS:-(none)}"
say "config (built-in): $CONF_SUMMARY"
# PgBouncer's server_login_retry as the stack runs it: it bounds how long
# PgBouncer refuses logins after PostgreSQL is back.
PGB_RETRY=$(awk -F= '/^[ \t]*server_login_retry[ \t]*=/ { gsub(/[ \t]/, "", $2); v = $2 }
	END { print (v == "" ? "15 (default)" : v) }' "$STACK_DIR/pgbouncer.ini" 2>/dev/null)
say "stack: $STACK_VERSION; PgBouncer server_login_retry = $PGB_RETRY"

# ================================================================ start-up

STARTUP_FILE=$W/startup.txt
: >"$STARTUP_FILE"
STARTUP_MISSES=0
for ((i = 1; i <= STARTUP_RUNS; i++)); do
	port=$("$STACK" free-port) || fatal "no free port"
	log=$W/readyd-startup-$i.log
	t0=${EPOCHREALTIME/./}
	launch_readyd "$port" "$log"
	pid=$LAUNCHED_PID
	got=
	while :; do
		c=$(http_code "http://127.0.0.1:$port/ready")
		t=${EPOCHREALTIME/./}
		if [[ $c == 200 ]]; then
			got=$((t - t0))
			break
		fi
		if ! pid_alive "$pid"; then
			cat "$log" >&2
			fatal "readyd exited during start-up run $i"
		fi
		((t - t0 > 30000000)) && break
		nap 0.01
	done
	if [[ -n $got ]]; then
		us2s "$got" >>"$STARTUP_FILE"
		echo >>"$STARTUP_FILE"
		sample startup - "$i" launch_to_ready_200 "$(us2s "$got")" s
		say "start-up run $i: /ready 200 after $(us2s "$got") s"
	else
		STARTUP_MISSES=$((STARTUP_MISSES + 1))
		sample startup - "$i" launch_to_ready_200 timeout s \
			"$(verbose_summary "http://127.0.0.1:$port")"
		say "start-up run $i: no /ready 200 within 30 s"
		echo "start-up run $i: no 200 within 30 s; log: $(tail -n 10 "$log")" >>"$OBS"
	fi
	grep -q 'config (built-in)' "$log" ||
		fatal "readyd did not report its built-in configuration: $(head -n 3 "$log")"
	stop_pid "$pid" 10
	cat "$log" >>"$RLOG"
done

# ================================================================ the daemon

PORT=$("$STACK" free-port) || fatal "no free port"
URL=http://127.0.0.1:$PORT
launch_readyd "$PORT" "$RLOG"
RPID=$LAUNCHED_PID
for ((i = 0; i < CAP * 10; i++)); do
	[[ $(http_code "$URL/ready") == 200 ]] && break
	pid_alive "$RPID" || fatal "readyd exited: $(tail -n 10 "$RLOG")"
	nap 0.1
done
[[ $(http_code "$URL/ready") == 200 ]] ||
	fatal "readyd never answered /ready 200: $(verbose_summary "$URL")"
say "readyd (pid $RPID) ready on $URL"
REPORT_STATE=pending

check_readyd() {
	pid_alive "$RPID" && return 0
	echo "readyd died; last log lines:" >>"$OBS"
	tail -n 8 "$RLOG" | sed "s/^/    /" >>"$OBS"
	fatal "readyd (pid $RPID) died during the benchmark; its last log line: $(tail -n 1 "$RLOG")"
}

# ================================================================ latency

# latency LABEL URL N: N sequential curls, one connection each.
latency() {
	local label=$1 url=$2 n=$3 i f=$W/lat-$1.txt codes line
	: >"$f"
	codes=$W/lat-$1.codes
	: >"$codes"
	for ((i = 1; i <= n; i++)); do
		line=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 5 "$url" 2>/dev/null)
		echo "${line%% *}" >>"$codes"
		awk -v t="${line##* }" 'BEGIN { printf "%.3f\n", t * 1000 }' >>"$f"
		sample latency "$label" "$i" time_total "$(tail -n 1 "$f")" ms "HTTP ${line%% *}"
	done
	LAT[$label]="$(stats "$f") $(sort "$codes" | uniq -c | awk '{ printf "%s%s×%s", (NR > 1 ? " " : ""), $2, $1 }')"
	say "latency $label: n median p99 max min = $(stats "$f") ms"
}

if ((LAT_N > 0)); then
	latency ready-up "$URL/ready" "$LAT_N"
	latency live-up "$URL/live" "$LAT_N"
	if ((FROZEN_LAT)); then
		say "freezing postgres for the latency run (waiting for /ready 503: hung attempts in flight)"
		t0=${EPOCHREALTIME/./}
		stack_cmd freeze "$STACK_DIR" postgres || fatal "stack.sh freeze postgres failed"
		got=
		for ((i = 0; i < CAP * 10; i++)); do
			if [[ $(http_code "$URL/ready") == 503 ]]; then
				got=$((${EPOCHREALTIME/./} - t0))
				break
			fi
			nap 0.1
		done
		FROZEN_NOTE="postgres frozen $(us2s "$((${EPOCHREALTIME/./} - t0))") s;"
		if [[ -n $got ]]; then
			FROZEN_NOTE+=" /ready 503 after $(us2s "$got") s: $(verbose_summary "$URL")"
		else
			FROZEN_NOTE+=" /ready never 503 within $CAP s"
			echo "latency run: /ready not 503 within $CAP s of freezing postgres" >>"$OBS"
		fi
		sample latency frozen - freeze_to_ready_503 "${got:+$(us2s "$got")}" s "$FROZEN_NOTE"
		latency ready-frozen "$URL/ready" "$LAT_N"
		latency live-frozen "$URL/live" "$LAT_N"
		stack_cmd thaw "$STACK_DIR" postgres || fatal "stack.sh thaw postgres failed"
		for ((i = 0; i < CAP * 10; i++)); do
			[[ $(http_code "$URL/ready") == 200 ]] && break
			nap 0.1
		done
		[[ $(http_code "$URL/ready") == 200 ]] || {
			echo "after the frozen latency run: no /ready 200 within $CAP s of the thaw: $(verbose_summary "$URL")" >>"$OBS"
			stack_cmd restore "$STACK_DIR" || fatal "stack.sh restore failed"
		}
	fi
	check_readyd
fi

# ================================================================ detection

# The poller: every 50 ms, "t_us ready_code user_service_code" into TRACE.
# It stops when its stop file appears, when this script is gone, or after
# 3 hours.
MAIN_PID=$$
poller() {
	local t el c end
	end=$((${EPOCHREALTIME/./} + 3 * 3600 * 1000000))
	while [[ ! -e $W/poller.stop ]] && kill -0 "$MAIN_PID" 2>/dev/null; do
		t=${EPOCHREALTIME/./}
		((t > end)) && break
		c=$(curl -s -o /dev/null -o /dev/null -w '%{http_code} ' --max-time 2 \
			"$URL/ready" "$URL/ready/user-service" 2>/dev/null)
		c=${c% }
		[[ $c == *" "* ]] || c="${c:-000} 000"
		echo "$t $c" >>"$TRACE"
		el=$((${EPOCHREALTIME/./} - t))
		((el < 50000)) && nap "$(printf '0.%06d' $((50000 - el)))"
	done
}

# The hang monitor for a SIGSTOP trial: the first moment a TCP socket of
# the frozen server holds bytes it has not read, or a connection it has not
# accepted, i.e. the first attempt that hangs (only readyd talks to the
# stack during the trials: directly, or through PgBouncer to PostgreSQL).
# Writes t_us to FILE. Polls /proc/net/tcp every 50 ms, up to CAP s. A
# socket already hung at the first scan is marked "first" (the attempt
# began between the freeze and the scan).
hang_monitor() {
	local port=$1 file=$2 hex t end first=first r
	hex=$(printf '%04X' "$port")
	end=$((${EPOCHREALTIME/./} + CAP * 1000000))
	while [[ ! -e $W/monitor.stop ]] && kill -0 "$MAIN_PID" 2>/dev/null; do
		t=${EPOCHREALTIME/./}
		((t > end)) && break
		r=$(awk -v hp="$hex" 'FNR > 1 {
				split($2, l, ":"); split($5, q, ":")
				if (l[2] == hp && q[2] != "00000000") { print "hung"; exit }
			}' /proc/net/tcp 2>/dev/null)
		if [[ $r == hung ]]; then
			echo "$t $first" >"$file.tmp" && mv "$file.tmp" "$file"
			return 0
		fi
		first=
		nap 0.05
	done
}

# trace_wait FIELD CODE SINCE_US CAP_S: set TW to the time (us) of the
# first trace sample at or after SINCE_US whose FIELD (2 = /ready, 3 =
# /ready/user-service) is CODE; 1 on timeout, 2 when the poller died, 3
# when readyd died (callers run check_alive). Reads from TRACE_OFF. Not to be run in $(),
# so that a signal's trap runs at once.
trace_wait() {
	local f=$1 code=$2 since=$3 cap=$4 deadline r
	TW=
	deadline=$((since + cap * 1000000))
	while :; do
		r=$(tail -c +"$TRACE_OFF" "$TRACE" | awk -v f="$f" -v c="$code" -v s="$since" \
			'NF == 3 && $1 >= s && $f == c { print $1; exit }')
		if [[ -n $r ]]; then
			TW=$r
			return 0
		fi
		((${EPOCHREALTIME/./} > deadline)) && return 1
		pid_alive "$POLLER_PID" || return 2
		pid_alive "$RPID" || return 3
		nap 0.05
	done
}

# trace_first_not FIELD CODE FROM_US TO_US: the first sample in (FROM, TO]
# whose FIELD is not CODE.
trace_first_not() {
	tail -c +"$TRACE_OFF" "$TRACE" | awk -v f="$1" -v c="$2" -v a="$3" -v b="$4" \
		'NF == 3 && $1 > a && $1 <= b && $f != c { print $1, $f; exit }'
}

# stable_200 SINCE_US DEADLINE_US WINDOW_S: the first /ready 200 at or
# after SINCE that stays 200 for WINDOW_S; sets STABLE_T and FLAPS (503s
# seen after a 200 meanwhile, with FLAP_NOTE). Returns 1 on timeout.
stable_200() {
	local since=$1 deadline=$2 win=$3 cand bad
	FLAPS=0
	FLAP_NOTE=
	while :; do
		trace_wait 2 200 "$since" $(((deadline - since) / 1000000)) || return 1
		cand=$TW
		while ((${EPOCHREALTIME/./} < cand + win * 1000000 + 100000)); do
			nap 0.1
		done
		bad=$(trace_first_not 2 200 "$cand" $((cand + win * 1000000)))
		if [[ -z $bad ]]; then
			STABLE_T=$cand
			return 0
		fi
		FLAPS=$((FLAPS + 1))
		FLAP_NOTE+="200 at +$(us2s $((cand - T_REC))) s then ${bad#* } at +$(us2s $((${bad%% *} - T_REC))) s; "
		since=${bad%% *}
		((since < deadline)) || return 1
	done
}

# The truth prober (postgres cases, after the restart): every 250 ms, a
# login and SELECT 1 through PgBouncer with the services' options, as
# "t_us ok|fail" lines in FILE. Stops on its stop file, when this script is
# gone, or after CAP s.
truth_prober() {
	local file=$1 t end r el
	end=$((${EPOCHREALTIME/./} + CAP * 1000000))
	while [[ ! -e $W/truth.stop ]] && kill -0 "$MAIN_PID" 2>/dev/null; do
		t=${EPOCHREALTIME/./}
		((t > end)) && break
		r=fail
		if [[ $(PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=2 \
			PGOPTIONS='-c statement_timeout=0' timeout 3 psql -X -w -At \
			-h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -d "$DB_NAME" \
			-c 'select 1' 2>/dev/null </dev/null) == 1 ]]; then
			r=ok
		fi
		echo "$t $r" >>"$file"
		el=$((${EPOCHREALTIME/./} - t))
		((el < 250000)) && nap "$(printf '0.%06d' $((250000 - el)))"
	done
}

# truth_metrics FILE TO_US: "OK_AT FALSE_US FIRST_FALSE" where OK_AT is the
# first psql success after which none failed up to TO ("none" if the last
# failed), FALSE_US the time /ready answered 200 while the latest psql
# through PgBouncer had failed, FIRST_FALSE the first such sample ("-").
truth_metrics() {
	tail -c +"$TRACE_OFF" "$TRACE" | awk -v to="$2" '
		FNR == NR { if ($1 <= to) { n++; tt[n] = $1; ts[n] = $2 }; next }
		NF == 3 && n > 0 && $1 >= tt[1] && $1 <= to {
			while (j < n && tt[j + 1] <= $1) j++
			if (pf) { d = $1 - pt; f += (d > 200000 ? 200000 : d) }
			pf = ($2 == 200 && ts[j] == "fail"); pt = $1
			if (pf && first == "") first = $1
		}
		END {
			ok = "none"
			for (i = n; i >= 1 && ts[i] == "ok"; i--) ok = tt[i]
			printf "%s %d %s\n", ok, f, (first == "" ? "-" : first)
		}' "$1" -
}

check_alive() {
	check_readyd
	pid_alive "$POLLER_PID" || fatal "the /ready poller died"
}

port_of() {
	case $1 in
	postgres) echo "$POSTGRES_PORT" ;;
	pgbouncer) echo "$DB_PORT" ;;
	redis) echo "$REDIS_PORT" ;;
	esac
}

rand_ms() { # MAX_S: a random number of milliseconds in [0, MAX_S s]
	echo $((((RANDOM << 15) | RANDOM) % ($1 * 1000 + 1)))
}

# restore_and_wait WHY: put the stack back and wait for /ready 200.
restore_and_wait() {
	echo "restoring the stack ($1)" >>"$OBS"
	stack_cmd restore "$STACK_DIR" || harness_error "stack.sh restore failed ($1)"
	local i
	for ((i = 0; i < CAP * 10; i++)); do
		[[ $(http_code "$URL/ready") == 200 ]] && return 0
		pid_alive "$RPID" || check_readyd
		nap 0.1
	done
	echo "after restore ($1): no /ready 200 within $CAP s: $(verbose_summary "$URL")" >>"$OBS"
	return 1
}

add() { RES["$1 $2"]+="$3 "; }

observe() { # CASE TRIAL WHAT: exact observations for a miss
	{
		echo "== $1 trial $2: $3"
		echo "at $(date -u +%FT%T.%3NZ); /ready?verbose:"
		curl -s --max-time 2 "$URL/ready?verbose" 2>/dev/null | sed 's/^/    /'
		echo "stack: $("$STACK" status "$STACK_DIR" 2>&1 | tr '\n' ';')"
		echo "last readyd log lines:"
		tail -n 15 "$RLOG" | sed 's/^/    /'
	} >>"$OBS"
}

# trial CASE N
trial() {
	local case=$1 n=$2 srv=${1%%:*} fault=${1##*:} t0 delay maxd t_fault t_done
	local t503 tgrp hang hangv note rec serv cmd win rc to ok_at false_us first_false
	local cap_us=$((CAP * 1000000))

	# 1. all ready
	TRACE_OFF=$(($(stat -c %s "$TRACE") + 1))
	t0=${EPOCHREALTIME/./}
	if ! trace_wait 2 200 "$t0" "$CAP"; then
		check_alive
		observe "$case" "$n" "not ready before the trial"
		restore_and_wait "$case trial $n: not ready before it" || {
			harness_error "$case trial $n: /ready not 200 before the trial; skipped"
			return 0
		}
	fi
	# 2. a random point of the probe cycle
	maxd=$DELAY_MAX
	[[ $fault == sigstop ]] && maxd=$FREEZE_DELAY_MAX
	delay=$(rand_ms "$maxd")
	sample detection "$case" "$n" random_delay "$(us2s $((delay * 1000)))" s
	nap "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	[[ $(http_code "$URL/ready") == 200 ]] ||
		echo "$case trial $n: /ready not 200 right before the fault: $(verbose_summary "$URL")" >>"$OBS"

	# 3. the fault
	TRACE_OFF=$(($(stat -c %s "$TRACE") + 1))
	rm -f "$W/monitor.stop" "$W/hang"
	case $fault in
	kill) cmd="kill" ;;
	stop) cmd="stop" ;;
	sigstop) cmd=freeze ;;
	esac
	t_fault=${EPOCHREALTIME/./}
	stack_cmd "$cmd" "$STACK_DIR" "$srv" || {
		harness_error "$case trial $n: stack.sh $cmd $srv failed"
		restore_and_wait "$case trial $n: fault command failed"
		return 0
	}
	t_done=${EPOCHREALTIME/./}
	sample detection "$case" "$n" fault_command "$(us2s $((t_done - t_fault)))" s "stack.sh $cmd $srv"
	MON_PID=
	if [[ $fault == sigstop ]]; then
		hang_monitor "$(port_of "$srv")" "$W/hang" &
		MON_PID=$!
		PIDS[$MON_PID]=1
	fi

	# 4. detection
	t503=
	if trace_wait 2 503 "$t_fault" "$CAP"; then
		t503=$TW
		add "$case" detect "$(us2s $((t503 - t_fault)))"
		note=$(verbose_summary "$URL")
		sample detection "$case" "$n" fault_to_ready_503 "$(us2s $((t503 - t_fault)))" s "$note"
		say "$case #$n: /ready 503 after $(us2s $((t503 - t_fault))) s ($note)"
	else
		check_alive
		add "$case" detect T
		sample detection "$case" "$n" fault_to_ready_503 timeout s
		observe "$case" "$n" "no /ready 503 within $CAP s of the fault"
		say "$case #$n: no /ready 503 within $CAP s"
	fi
	if [[ $srv == postgres ]]; then
		if trace_wait 3 503 "$t_fault" "$CAP"; then
			tgrp=$TW
			add "$case" detect_user "$(us2s $((tgrp - t_fault)))"
			sample detection "$case" "$n" fault_to_user_service_503 "$(us2s $((tgrp - t_fault)))" s
		else
			check_alive
			add "$case" detect_user T
			sample detection "$case" "$n" fault_to_user_service_503 timeout s
			observe "$case" "$n" "no /ready/user-service 503 within $CAP s of the fault"
		fi
	fi
	if [[ $fault == sigstop ]]; then
		touch "$W/monitor.stop"
		stop_pid "$MON_PID" 5
		if [[ -s $W/hang ]]; then
			read -r hang hangv <"$W/hang"
			[[ $hangv == first ]] && hang=$t_done
			sample detection "$case" "$n" fault_to_first_hung_attempt "$(us2s $((hang - t_fault)))" s "${hangv:+hung at the first scan}"
			if [[ -n $t503 ]] && ((t503 >= hang)); then
				add "$case" hang "$(us2s $((t503 - hang)))"
				sample detection "$case" "$n" first_hung_attempt_to_ready_503 "$(us2s $((t503 - hang)))" s
			fi
		else
			sample detection "$case" "$n" fault_to_first_hung_attempt none s "no hung readyd connection seen"
		fi
	fi

	# 5. hold the fault a little
	nap "$HOLD"
	sample detection "$case" "$n" held_state info - "$(verbose_summary "$URL")"

	# 6. restart / thaw
	TRACE_OFF=$(($(stat -c %s "$TRACE") + 1))
	case $fault in
	kill | stop) cmd=start-server ;;
	sigstop) cmd=thaw ;;
	esac
	T_REC=${EPOCHREALTIME/./}
	stack_cmd "$cmd" "$STACK_DIR" "$srv" || {
		harness_error "$case trial $n: stack.sh $cmd $srv failed"
		restore_and_wait "$case trial $n: recovery command failed"
		return 0
	}
	serv=${EPOCHREALTIME/./}
	sample detection "$case" "$n" recovery_command "$(us2s $((serv - T_REC)))" s "stack.sh $cmd $srv (returns once it serves)"
	win=$STABLE
	TRUTH_PID=
	if [[ $srv == postgres ]]; then
		win=$STABLE_PG
		rm -f "$W/truth.stop"
		: >"$W/truth"
		truth_prober "$W/truth" &
		TRUTH_PID=$!
		PIDS[$TRUTH_PID]=1
	fi
	stable_200 "$T_REC" $((T_REC + cap_us)) "$win"
	rc=$?
	if [[ -n $TRUTH_PID ]]; then
		touch "$W/truth.stop"
		stop_pid "$TRUTH_PID" 5
		if ((rc == 0)); then
			to=$((STABLE_T + win * 1000000))
		else
			to=${EPOCHREALTIME/./}
		fi
		read -r ok_at false_us first_false <<<"$(truth_metrics "$W/truth" "$to")"
		if [[ $ok_at == none ]]; then
			add "$case" truth_ok T
			sample detection "$case" "$n" serving_to_pgbouncer_path_ok none s "psql through PgBouncer still failing at the end of the window"
		else
			add "$case" truth_ok "$(us2s $((ok_at - serv)))"
			sample detection "$case" "$n" serving_to_pgbouncer_path_ok "$(us2s $((ok_at - serv)))" s "psql through PgBouncer, every 250 ms"
		fi
		add "$case" false200 "$(us2s "$false_us")"
		sample detection "$case" "$n" ready_200_while_pgbouncer_path_failed "$(us2s "$false_us")" s \
			"$([[ $first_false != - ]] && echo "first at +$(us2s $((first_false - serv))) s after serving")"
		if ((false_us > 0)); then
			local okd=never
			[[ $ok_at != none ]] && okd="+$(us2s $((ok_at - serv))) s"
			echo "$case trial $n: /ready answered 200 for $(us2s "$false_us") s in all while a login + SELECT 1 through PgBouncer failed (first at +$(us2s $((first_false - serv))) s after PostgreSQL served again; psql OK for good at $okd)" >>"$OBS"
		fi
	fi
	if ((rc == 0)); then
		rec=$((STABLE_T - T_REC))
		add "$case" recover "$(us2s "$rec")"
		sample detection "$case" "$n" recovery_to_ready_200 "$(us2s "$rec")" s "${FLAP_NOTE:+flaps: $FLAP_NOTE}"
		if [[ $fault != sigstop ]]; then
			add "$case" serving "$(us2s $((STABLE_T - serv)))"
			sample detection "$case" "$n" serving_to_ready_200 "$(us2s $((STABLE_T - serv)))" s
		fi
		add "$case" flaps "$FLAPS"
		((FLAPS)) && echo "$case trial $n: /ready flapped after the recovery: $FLAP_NOTE" >>"$OBS"
		say "$case #$n: /ready 200 after $(us2s "$rec") s from $cmd (stack.sh $cmd took $(us2s $((serv - T_REC))) s)${FLAP_NOTE:+; flaps: $FLAP_NOTE}"
	else
		check_alive
		add "$case" recover T
		[[ $fault != sigstop ]] && add "$case" serving T
		add "$case" flaps "$FLAPS"
		sample detection "$case" "$n" recovery_to_ready_200 timeout s "${FLAP_NOTE:+flaps: $FLAP_NOTE}"
		observe "$case" "$n" "no stable /ready 200 within $CAP s of stack.sh $cmd"
		say "$case #$n: no stable /ready 200 within $CAP s of $cmd"
		restore_and_wait "$case trial $n: no recovery"
	fi
	check_readyd
}

if ((${#CASES[@]})); then
	rm -f "$W/poller.stop"
	poller &
	POLLER_PID=$!
	PIDS[$POLLER_PID]=1
	TRACE_OFF=1
	for case in "${CASES[@]}"; do
		for ((n = 1; n <= TRIALS; n++)); do
			say "---- $case, trial $n of $TRIALS"
			trial "$case" "$n"
		done
	done
	touch "$W/poller.stop"
	stop_pid "$POLLER_PID" 5
fi

finish_memory
T_END=${EPOCHREALTIME/./}
REPORT_STATE="done"
print_report

if ((HARNESS_ERRORS)); then
	say "$HARNESS_ERRORS harness error(s); see $OBS"
	exit 1
fi
exit 0
