#!/usr/bin/env bash
# scale.sh READYD_BIN: readyd with many checks (issue 12, item 3; `make
# bench-scale`, part of `make bench`).
#
# BENCH_SCALE_CHECKS (500) checks against one throwaway stack: one in
# BENCH_SCALE_PGB_EVERY (2) a PgBouncer check (the stack's PostgreSQL
# behind it; 4: the stack's own shape, a database beside Redis 0, 1 and 2),
# the others Redis (db 0-15 in turn), at
# interval 5s, timeout 5s, heartbeat 2s (the default), watch yes; limits
# raised for it: the descriptor limit (BENCH_SCALE_NOFILE, 20000) of the
# stack and readyd, PgBouncer's max_client_conn (2000), Redis maxclients
# (4096), readyd's max_clients (6000). Once every check passes (and
# BENCH_SCALE_SETTLE s more, for the jittered schedule to spread), three
# windows of BENCH_SCALE_SECS (30) each:
#   A. probes only;
#   B. probes and wrk on /ready at a rate a fleet of probers could send:
#      BENCH_SCALE_CONNS (10) connections, each waiting 10 ms between
#      requests (wrk's Lua delay()), i.e. up to ~1,000 requests/s;
#   C. probes and wrk on /ready flat out (-c32): the worst case.
# For each: readyd's CPU in % of one core (utime+stime over the window),
# the scheduling lag p50/p99/max bucket from readyd_sched_lag_seconds
# (bucket deltas over the window, interpolated as Prometheus'
# histogram_quantile() does), attempts and failed attempts (/metrics), and
# for B and C wrk's /ready p50/p99 latency and req/s. Then readyd's RSS
# (VmRSS, RssAnon) next to a readyd with the default five checks, per check.
# Each window also shows how long readyd waited for a CPU while it was
# runnable (/proc/PID/schedstat): on a shared machine that, not readyd's
# own work, makes most of the lag.
# BENCH_SCALE_NICE (0) runs readyd at that nice value (-10: ahead of the
# other loads of a shared machine, to see readyd's own lag and latency).
# BENCH_SCALE_PERF (unset): a file for `perf record -g` of readyd's loop
# thread during half of window B (where /ready's CPU goes).
# BENCH_SCALE_BUSY (5) s after the windows: how long readyd's loop runs
# between two polls (strace -ttt -T of epoll_wait alone, on the loop
# thread: the gap from one epoll_wait's return to the next call), probes
# only. A PgBouncer login's SCRAM key derivation runs inside one
# PQconnectPoll() call: on the loop it showed as a stretch of several ms,
# about one per login; on the login workers (readyd_login_workers > 0) it
# should not show. 0: not measured.
# Prints markdown. Starts its own stack; cleans up on exit. Exit 0 when it
# ran, 1 on a harness error.
set -uo pipefail
export LC_ALL=C
BIN=$(readlink -f "${1:?usage: scale.sh READYD_BIN}")
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$HERE/../.." && pwd)
STACK=$REPO/tests/stack/stack.sh
NCHECKS=${BENCH_SCALE_CHECKS:-500}
EVERY=${BENCH_SCALE_PGB_EVERY:-2}
NPGB=$((NCHECKS / EVERY))
SECS=${BENCH_SCALE_SECS:-30}
SETTLE=${BENCH_SCALE_SETTLE:-10}
CONNS=${BENCH_SCALE_CONNS:-10}
NOFILE=${BENCH_SCALE_NOFILE:-20000}
NICE=${BENCH_SCALE_NICE:-0}
BUSY=${BENCH_SCALE_BUSY:-5}
for t in wrk curl python3 awk prlimit strace timeout; do
	command -v "$t" >/dev/null || {
		echo "scale.sh: $t missing (make deps)" >&2
		exit 1
	}
done
ulimit -n "$NOFILE" 2>/dev/null || {
	echo "scale.sh: cannot raise the descriptor limit to $NOFILE" >&2
	exit 1
}
W=$(mktemp -d /tmp/readyd-scale.XXXXXX)
chmod 755 "$W"
RPID=
STACK_UP=
cleanup() {
	[[ -n $RPID ]] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
	[[ -n $STACK_UP ]] && "$STACK" stop "$W/stack" >/dev/null 2>&1
	rm -rf -- "$W"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
say() { echo "scale: $*" >&2; }
die() {
	echo "scale.sh: $*" >&2
	exit 1
}
TCK=$(getconf CLK_TCK)
cpu() { awk -v t="$TCK" '{ sub(/^.*\) /, ""); print ($12 + $13) / t }' "/proc/$1/stat"; }
status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
T0=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# The shipped configuration with the limits raised for many clients.
mkdir -p "$W/config"
cp "$REPO/config/pgbouncer.ini" "$REPO/config/redis.conf" "$W/config/"
sed -i 's/^max_client_conn = .*/max_client_conn = 2000/' "$W/config/pgbouncer.ini"
grep -q '^max_client_conn = 2000$' "$W/config/pgbouncer.ini" || die "config/pgbouncer.ini: no max_client_conn line"
echo "maxclients 4096" >>"$W/config/redis.conf"
say "starting a stack (max_client_conn 2000, maxclients 4096, nofile $NOFILE)"
STACK_CONFIG_DIR=$W/config "$STACK" start "$W/stack" >"$W/stack.log" 2>&1 || {
	tail -n 20 "$W/stack.log" >&2
	die "stack.sh start failed"
}
STACK_UP=1
# shellcheck disable=SC1091
. "$W/stack/env"
PGBPID=$(cat "$W/stack/run/pgbouncer.pid") || die "no PgBouncer pid"

start_readyd() { # CONF: sets RPID, URL; waits for /ready 200 (up to 120 s)
	local port i
	port=$("$STACK" free-port)
	nice -n "$NICE" prlimit --nofile="$NOFILE:$NOFILE" "$BIN" serve -c "$1" --listen "127.0.0.1:$port" >>"$W/readyd.log" 2>&1 &
	RPID=$!
	URL=http://127.0.0.1:$port
	for ((i = 0; i < 1200; i++)); do
		[[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/ready") == 200 ]] && return 0
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$W/readyd.log" >&2
	curl -s "$URL/ready?verbose" | grep -v '^\[+\]' | head -n 20 >&2
	die "readyd did not answer /ready 200 with $1"
}
stop_readyd() {
	kill "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
	RPID=
}

# The default five checks first: the baseline RSS.
start_readyd "$REPO/config/readyd.conf"
sleep 3
RSS5=$(status_kb "$RPID" VmRSS)
ANON5=$(status_kb "$RPID" RssAnon)
stop_readyd

conf=$W/scale.conf
{
	printf '[daemon]\ndetails = all\nmax_clients = 6000\n\n[defaults]\ninterval = 5s\ntimeout = 5s\nstart_interval = 5s\n\n'
	for ((i = 1; i <= NCHECKS; i++)); do
		if ((i % EVERY)); then
			printf '[check redis%d]\nkind = redis\nhost = %s\nport = %s\npassword = ${REDIS_PASSWORD:-}\ndb = %d\n\n' \
				"$i" "$REDIS_HOST" "$REDIS_PORT" $((i % 16))
		else
			printf '[check pgbouncer%d]\nkind = pgbouncer\nhost = %s\nport = %s\ndbname = %s\nuser = %s\npassword = ${DB_PASSWORD}\noptions = -c statement_timeout=0\n\n' \
				"$i" "$DB_HOST" "$DB_PORT" "$DB_NAME" "$DB_USER"
		fi
	done
} >"$conf"
say "readyd with $NCHECKS checks"
start_readyd "$conf"
say "all $NCHECKS pass; settling ${SETTLE}s"
sleep "$SETTLE"

# metrics FILE: /metrics into FILE
# (whole: it has the lag histogram's count and the process's figures that
# follow the checks' and end it; tried 5 times)
metrics() {
	local i
	for ((i = 0; i < 5; i++)); do
		curl -s --max-time 20 "$URL/metrics" >"$1" &&
			grep -q '^readyd_sched_lag_seconds_count ' "$1" &&
			grep -q '^readyd_heap_bytes ' "$1" && return 0
		say "an incomplete /metrics ($(wc -c <"$1") bytes); again"
		sleep 0.5
	done
	die "no complete /metrics in 5 tries"
}
# lag_quantiles BEFORE AFTER: "p50 p99 count" in ms from the bucket deltas
lag_quantiles() {
	awk '
		FNR == 1 { f++ }
		/^readyd_sched_lag_seconds_bucket\{le="/ {
			le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
			if (f == 1) b0[le] = $NF; else { b1[le] = $NF; order[++n] = le }
		}
		END {
			total = b1["+Inf"] - b0["+Inf"]
			if (total <= 0) { print "nan nan 0"; exit }
			split("0.5 0.99", qs, " ")
			for (k = 1; k <= 2; k++) {
				rank = qs[k] * total; prev_le = 0; prev_c = 0; r = "nan"
				for (i = 1; i <= n; i++) {
					le = order[i]; c = b1[le] - b0[le]
					if (c >= rank) {
						if (le == "+Inf") { r = "> " prev_le * 1000; break }
						r = sprintf("%.2f", (prev_le + (le - prev_le) * (c > prev_c ? (rank - prev_c) / (c - prev_c) : 1)) * 1000)
						break
					}
					prev_le = le; prev_c = c
				}
				printf "%s ", r
			}
			print total
		}' "$1" "$2"
}
lag_max_bucket() { # BEFORE AFTER: the highest bucket that grew ("le" in ms)
	awk '
		FNR == 1 { f++ }
		/^readyd_sched_lag_seconds_bucket\{le="/ {
			le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
			if (f == 1) b0[le] = $NF; else { d = $NF - b0[le]; if (d > last) { top = le; last = d } }
		}
		END { print (top == "+Inf" ? "> 5000" : "≤ " top * 1000) }' "$1" "$2"
}
att() { awk '/^readyd_check_duration_seconds_count\{/ { n += $NF } /^readyd_check_failures_total\{/ { f += $NF } END { print n + 0, f + 0 }' "$1"; }

cat >"$W/delay.lua" <<'LUA'
function delay()
	return 10
end
LUA

# window NAME WRK_ARGS...: one measured window; appends a row to rows.tsv
window() {
	local name=$1 c0 c1 l0 l1 b0 b1 a0 f0 a1 f1 q wpid=
	shift
	metrics "$W/m0"
	c0=$(cpu "$RPID")
	l0=$(cpu "$RPID/task/$RPID")
	b0=$(cpu "$PGBPID")
	read -r _ q0 _ <"/proc/$RPID/schedstat"
	if (($#)); then
		wrk "$@" --latency -d"${SECS}s" "$URL/ready" >"$W/wrk-$name.out" 2>&1 &
		wpid=$!
		if [[ $name == B && -n ${BENCH_SCALE_PERF:-} ]]; then
			perf record -q -g -t "$RPID" -o "$BENCH_SCALE_PERF" -- sleep "$((SECS / 2))" >/dev/null 2>&1
		fi
		wait "$wpid"
	else
		sleep "$SECS"
	fi
	c1=$(cpu "$RPID")
	l1=$(cpu "$RPID/task/$RPID")
	b1=$(cpu "$PGBPID")
	read -r _ q1 _ <"/proc/$RPID/schedstat"
	metrics "$W/m1"
	read -r a0 f0 <<<"$(att "$W/m0")"
	read -r a1 f1 <<<"$(att "$W/m1")"
	q=$(lag_quantiles "$W/m0" "$W/m1")
	local rps="-" p50="-" p99="-"
	if [[ -n $wpid ]]; then
		rps=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$W/wrk-$name.out")
		p50=$(awk '$1 == "50%" { print $2 }' "$W/wrk-$name.out")
		p99=$(awk '$1 == "99%" { print $2 }' "$W/wrk-$name.out")
	fi
	printf '%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" \
		"$(awk -v a="$c0" -v b="$c1" -v la="$l0" -v lb="$l1" -v s="$SECS" 'BEGIN { printf "%.1f (loop %.1f)", (b - a) * 100 / s, (lb - la) * 100 / s }')" \
		"$q" "$(lag_max_bucket "$W/m0" "$W/m1")" $((a1 - a0)) $((f1 - f0)) "$rps" "$p50" "$p99" \
		"$(awk -v a="$c0" -v b="$c1" -v n=$((a1 - a0)) 'BEGIN { printf "%.2f", n ? (b - a) * 1000 / n : 0 }')" \
		"$(awk -v a="$q0" -v b="$q1" -v s="$SECS" 'BEGIN { printf "%.1f", (b - a) / 1e7 / s }')" \
		"$(awk -v a="$b0" -v b="$b1" -v s="$SECS" 'BEGIN { printf "%.1f", (b - a) * 100 / s }')" >>"$W/rows.tsv"
}
: >"$W/rows.tsv"
say "window A: probes only, ${SECS}s"
window A
say "window B: probes + wrk on /ready, $CONNS connections, 10 ms between requests, ${SECS}s"
window B -t1 -c"$CONNS" -s "$W/delay.lua"
say "window C: probes + wrk on /ready flat out (-c32), ${SECS}s"
window C -t1 -c32
BUSYLINE=
if ((BUSY > 0)); then
	say "loop stretches: strace of epoll_wait, probes only, ${BUSY}s"
	timeout -s INT "$BUSY" strace -q -ttt -T -e trace=epoll_wait -p "$RPID" -o "$W/busy.strace" 2>/dev/null
	# stretches between polls in ms: "n n_per_s p50 p99 max n_ge3 n_ge3_per_s busy_pct p50_ge3"
	BUSYLINE=$(awk '
		/epoll_wait\(/ && / <[0-9.]+>$/ {
			ts = $1; d = $NF; gsub(/[<>]/, "", d)
			if (have && ts >= end) printf "%.3f\n", (ts - end) * 1000
			end = ts + d; have = 1
		}' "$W/busy.strace" | sort -n | awk -v secs="$BUSY" '
		{ v[++n] = $1; tot += $1; if ($1 >= 3) l[++k] = $1 }
		END {
			if (n == 0) { print "0 0 nan nan nan 0 0 0 nan"; exit }
			i99 = int(n * 0.99) + 1; if (i99 > n) i99 = n
			printf "%d %.0f %.3f %.2f %.2f %d %.1f %.1f %s\n", n, n / secs, v[int(n * 0.5) + 1], v[i99], v[n], k + 0, k / secs, tot / 10 / secs, k ? sprintf("%.2f", l[int(k * 0.5) + 1]) : "nan"
		}')
fi
RSS=$(status_kb "$RPID" VmRSS)
ANON=$(status_kb "$RPID" RssAnon)
FDS=$(find "/proc/$RPID/fd" -mindepth 1 2>/dev/null | wc -l)
metrics "$W/m2"
read -r _ FEND <<<"$(att "$W/m2")"
WORKERS=$(awk '$1 == "readyd_login_workers" { print $2 }' "$W/m2")
stop_readyd

echo "## readyd with $NCHECKS checks (make bench-scale)"
echo
echo "$((NCHECKS - NPGB)) Redis and $NPGB PgBouncer checks (PostgreSQL behind PgBouncer), interval 5s, timeout 5s, heartbeat 2s, watch yes; ${SECS}s a window; readyd at nice $NICE."
echo
echo "| window | readyd CPU, % of one core (its loop thread's) | readyd's loop waiting for a CPU, % of the window | sched lag p50 / p99 (ms) | busiest lag bucket (ms) | timers fired | attempts (failed) | readyd CPU ms per attempt (all work / attempts) | /ready req/s | /ready p50 / p99 | PgBouncer CPU, % of one core |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
while IFS=$'\t' read -r name cpu_pct q maxb a f rps p50 p99 per wait pgb; do
	read -r l50 l99 lc <<<"$q"
	case $name in
	A) label="A. probes only" ;;
	B) label="B. + wrk /ready, $CONNS conns × 10 ms delay" ;;
	C) label="C. + wrk /ready flat out (32 conns)" ;;
	esac
	echo "| $label | $cpu_pct | $wait | $l50 / $l99 | $maxb | $lc | $a ($f) | $per | $rps | $p50 / $p99 | $pgb |"
done <"$W/rows.tsv"
echo
awk -v r="$RSS" -v a="$ANON" -v r5="$RSS5" -v a5="$ANON5" -v n="$NCHECKS" -v fds="$FDS" 'BEGIN {
	printf "Memory: VmRSS %.1f MB with %d checks (RssAnon, its own memory: %.1f MB) against %.1f MB (%.1f MB) with the default five: %.1f kB RSS per check (%.1f kB of its own memory). Descriptors open: %d.\n",
		r / 1024, n, a / 1024, r5 / 1024, a5 / 1024, (r - r5) / (n - 5), (a - a5) / (n - 5), fds }'
echo
if [[ -n $BUSYLINE ]]; then
	read -r bn bnps b50 b99 bmax bk bkps bpct bk50 <<<"$BUSYLINE"
	echo "Loop stretches (strace of epoll_wait, ${BUSY}s, probes only; $NPGB PgBouncer logins every 5 s = $((NPGB / 5)) a second): $bn stretches between two polls ($bnps a second), p50 $b50 ms, p99 $b99 ms, longest $bmax ms; $bk of 3 ms or more ($bkps a second, median $bk50 ms); the loop ran $bpct % of the time. Wall time, so a stretch includes readyd's waits for a CPU; strace stops readyd at every system call, which lengthens stretches with many. Login workers: $WORKERS."
	echo
fi
echo "Failed attempts since start-up at the end: $FEND."
echo
echo "Machine: $(nproc) CPUs, Linux $(uname -r); from $T0 to $(date -u +%Y-%m-%dT%H:%M:%SZ); load average $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end. $("$BIN" --version 2>&1 | head -n 1) ($(sha256sum "$BIN" | cut -c1-12)$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null | sed 's/^/, source at /'))."
