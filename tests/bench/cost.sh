#!/usr/bin/env bash
# cost.sh READYD_BIN: what readyd costs, next to its peers, measured in one
# run (issue 12; `make bench`). Prints ratios first, then the figures with
# the machine, date and versions, as markdown.
#
#   1. HTTP: server CPU per request of readyd's /live, /ready,
#      /ready/user-service and /metrics next to nginx answering a fixed
#      `return 200` (1 worker): tests/bench/http_cost.sh, its rounds
#      interleaved.
#   2. Probes: readyd's CPU per attempt for each kind (postgres, pgbouncer,
#      redis, tcp): BENCH_PROBE_CHECKS checks of one kind every
#      BENCH_PROBE_INTERVAL, heartbeat off, for BENCH_PROBE_SECS; CPU from
#      /proc/PID/stat (utime+stime), attempts from /metrics
#      (readyd_check_duration_seconds_count); next to compose's own cycle
#      (pg_isready x2 + redis-cli ping x3, one process each; CPU of the
#      children from getrusage: tests/bench/compose_cycle.py). Kinds and the
#      compose cycle alternate within each of BENCH_PROBE_ROUNDS rounds;
#      medians are printed.
#   3. Backend amplification: readyd with the default five checks (all
#      probed at start-up, then interval 1h and heartbeat 0, so that no
#      scheduled probe falls in the window) answers BENCH_AMP_REQUESTS
#      (10,000) requests to /ready, /ready/GROUP, /ready/CHECK and
#      /ready?verbose; Redis total_connections_received and
#      total_commands_processed, PgBouncer SHOW STATS (hdms_db
#      total_xact_count, total_query_count) and PostgreSQL pg_stat_database
#      (hdms_db xact_commit+xact_rollback, sessions) are read before and
#      after (12 s after, PostgreSQL flushing its statistics within 10 s);
#      readyd's attempts in the window (from /metrics) account for what the
#      probes did; the rest, less this script's own reads, must be 0.
#   4. Accepting BENCH_ACCEPT_N (5,000) idle connections at once: readyd's
#      CPU (tests/bench/accept_cost.py), one tcp check, 3 rounds.
#
# Environment: BENCH_HTTP_SECS (5), BENCH_HTTP_ROUNDS (3) as http_cost.sh;
# BENCH_PROBE_CHECKS (10), BENCH_PROBE_INTERVAL (250ms), BENCH_PROBE_SECS
# (8), BENCH_PROBE_ROUNDS (3), BENCH_COMPOSE_CYCLES (20),
# BENCH_AMP_REQUESTS (10000); BENCH_ACCEPT_N (5000); BENCH_PARTS="http
# probe amp accept" (any subset).
# Starts its own stacks (tests/stack/stack.sh) and cleans up on exit.
# Exit: 0 when it ran (1 also when amplification is not 0), 1 on a harness
# error.
set -uo pipefail
export LC_ALL=C
BIN=$(readlink -f "${1:?usage: cost.sh READYD_BIN}")
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd -- "$HERE/../.." && pwd)
STACK=$REPO/tests/stack/stack.sh
N_CHECKS=${BENCH_PROBE_CHECKS:-10}
IVL=${BENCH_PROBE_INTERVAL:-250ms}
PSECS=${BENCH_PROBE_SECS:-8}
PROUNDS=${BENCH_PROBE_ROUNDS:-3}
CYCLES=${BENCH_COMPOSE_CYCLES:-20}
AMP_N=${BENCH_AMP_REQUESTS:-10000}
ACCEPT_N=${BENCH_ACCEPT_N:-5000}
PARTS=${BENCH_PARTS:-http probe amp accept}
for t in wrk nginx curl psql pg_isready redis-cli python3 awk; do
	command -v "$t" >/dev/null || {
		echo "cost.sh: $t missing (make deps)" >&2
		exit 1
	}
done
W=$(mktemp -d /tmp/readyd-cost.XXXXXX)
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
say() { echo "cost: $*" >&2; }
die() {
	echo "cost.sh: $*" >&2
	exit 1
}
TCK=$(getconf CLK_TCK)
cpu() { awk -v t="$TCK" '{ sub(/^.*\) /, ""); print ($12 + $13) / t }' "/proc/$1/stat"; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# ---------------------------------------------------------------- 1. HTTP
HTTP_OUT=
if [[ " $PARTS " == *" http "* ]]; then
	say "HTTP: http_cost.sh (nginx, /live, /ready, /ready/GROUP, /metrics)"
	BENCH_HTTP_TSV=$W/http.tsv "$HERE/http_cost.sh" "$BIN" >"$W/http.out" ||
		die "http_cost.sh failed"
	HTTP_OUT=$W/http.tsv
fi

# -------------------------------------------------------- the probe stack
if [[ " $PARTS " == *" probe "* || " $PARTS " == *" amp "* ]]; then
	say "starting a stack"
	"$STACK" start "$W/stack" >"$W/stack.log" 2>&1 || {
		tail -n 20 "$W/stack.log" >&2
		die "stack.sh start failed"
	}
	STACK_UP=1
	# shellcheck disable=SC1091
	. "$W/stack/env"
fi

# check_block KIND NAME: one [check] section against the stack
check_block() {
	case $1 in
	postgres)
		printf '[check %s]\nkind = postgres\nhost = %s\nport = %s\ndbname = %s\nuser = %s\npassword = ${POSTGRES_PASSWORD}\n\n' \
			"$2" "$POSTGRES_HOST" "$POSTGRES_PORT" "$POSTGRES_DB" "$POSTGRES_USER"
		;;
	pgbouncer)
		printf '[check %s]\nkind = pgbouncer\nhost = %s\nport = %s\ndbname = %s\nuser = %s\npassword = ${DB_PASSWORD}\noptions = -c statement_timeout=0\n\n' \
			"$2" "$DB_HOST" "$DB_PORT" "$DB_NAME" "$DB_USER"
		;;
	redis)
		printf '[check %s]\nkind = redis\nhost = %s\nport = %s\npassword = ${REDIS_PASSWORD:-}\ndb = 0\n\n' \
			"$2" "$REDIS_HOST" "$REDIS_PORT"
		;;
	tcp)
		printf '[check %s]\nkind = tcp\nhost = %s\nport = %s\n\n' \
			"$2" "$REDIS_HOST" "$REDIS_PORT"
		;;
	esac
}

# start_readyd CONF: readyd on a free port; sets RPID and URL
start_readyd() {
	local port i
	port=$("$STACK" free-port)
	"$BIN" serve -c "$1" --listen "127.0.0.1:$port" >>"$W/readyd.log" 2>&1 &
	RPID=$!
	URL=http://127.0.0.1:$port
	for ((i = 0; i < 200; i++)); do
		[[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/ready") == 200 ]] && return 0
		kill -0 "$RPID" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 20 "$W/readyd.log" >&2
	die "readyd did not answer /ready 200 with $1"
}

stop_readyd() {
	kill "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
	RPID=
}

# attempts: "finished_attempts failed_attempts" from /metrics
attempts() {
	curl -s "$URL/metrics" | awk '
		/^readyd_check_duration_seconds_count\{/ { n += $NF }
		/^readyd_check_failures_total\{/ { f += $NF }
		END { printf "%d %d\n", n, f }'
}

# ------------------------------------------------------- 2. probe cost
# probe_run KIND: append "KIND attempts cpu_s failures" to $W/probe.tsv
probe_run() {
	local kind=$1 conf=$W/probe-$1.conf i a0 f0 a1 f1 c0 c1
	{
		printf '[daemon]\ndetails = all\n\n[defaults]\ninterval = %s\nstart_interval = %s\ntimeout = %s\nheartbeat = 0\n\n' "$IVL" "$IVL" "$IVL"
		for ((i = 1; i <= N_CHECKS; i++)); do check_block "$kind" "$kind$i"; done
	} >"$conf"
	start_readyd "$conf"
	sleep 1 # past start-up
	read -r a0 f0 <<<"$(attempts)"
	c0=$(cpu "$RPID")
	sleep "$PSECS"
	c1=$(cpu "$RPID")
	read -r a1 f1 <<<"$(attempts)"
	stop_readyd
	printf '%s\t%d\t%s\t%d\n' "$kind" $((a1 - a0)) "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" $((f1 - f0)) >>"$W/probe.tsv"
}

KINDS="postgres pgbouncer redis tcp"
if [[ " $PARTS " == *" probe "* ]]; then
	: >"$W/probe.tsv"
	: >"$W/compose.txt"
	for ((r = 1; r <= PROUNDS; r++)); do
		for k in $KINDS; do
			say "probe cost: round $r of $PROUNDS, $N_CHECKS $k checks every $IVL for ${PSECS}s"
			probe_run "$k"
		done
		say "probe cost: round $r of $PROUNDS, compose cycle x $CYCLES"
		python3 "$HERE/compose_cycle.py" "$CYCLES" >>"$W/compose.txt" || die "compose_cycle.py failed"
	done
fi

# ------------------------------------------------- 3. amplification
redis_stat() { # total_connections_received total_commands_processed
	REDISCLI_AUTH=${REDIS_PASSWORD:-} redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" info stats |
		tr -d '\r' | awk -F: '
			$1 == "total_connections_received" { c = $2 }
			$1 == "total_commands_processed" { q = $2 }
			END { print c, q }'
}
pgb_stat() { # hdms_db total_xact_count total_query_count
	PGPASSWORD=$DB_PASSWORD psql -X -w -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" \
		-d pgbouncer -A -F'|' -c 'SHOW STATS' 2>/dev/null | awk -F'|' -v db="$DB_NAME" '
			NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
			$1 == db { print $col["total_xact_count"], $col["total_query_count"] }'
}
pg_stat() { # hdms_db xact_commit+xact_rollback sessions
	psql -X -w -h "$STACK_PG_SOCKET_DIR" -p "$POSTGRES_PORT" -U "$STACK_PG_SUPERUSER" -d postgres \
		-At -F' ' -c "SELECT xact_commit + xact_rollback, sessions FROM pg_stat_database WHERE datname = '$POSTGRES_DB'" 2>/dev/null
}
AMP_FAIL=0
if [[ " $PARTS " == *" amp "* ]]; then
	conf=$W/amp.conf
	sed -e 's/^interval = .*/interval = 1h\nheartbeat = 0/' \
		-e 's/^start_interval = .*/start_interval = 1h/' "$REPO/config/readyd.conf" >"$conf"
	grep -q '^heartbeat = 0$' "$conf" || die "config/readyd.conf: no 'interval =' line in [defaults]"
	start_readyd "$conf"
	say "amplification: waiting 12 s for PostgreSQL's statistics of the start-up probes"
	sleep 12
	read -r A0 _ <<<"$(attempts)"
	# what one read of INFO costs Redis: two reads back to back
	read -r RCa RQa <<<"$(redis_stat)"
	read -r RC0 RQ0 <<<"$(redis_stat)"
	OWN_RC=$((RC0 - RCa))
	OWN_RQ=$((RQ0 - RQa))
	read -r BX0 BQ0 <<<"$(pgb_stat)"
	read -r PX0 PS0 <<<"$(pg_stat)"
	say "amplification: $AMP_N requests"
	AMP_CODES=$(python3 "$HERE/http_requests.py" "${URL##*:}" "$AMP_N" /ready /ready/user-service \
		/ready/file-service /ready/pgbouncer '/ready?verbose' /ready/redis-celery) || die "http_requests.py failed"
	say "amplification: waiting 12 s for PostgreSQL's statistics"
	sleep 12
	read -r A1 _ <<<"$(attempts)"
	read -r RC1 RQ1 <<<"$(redis_stat)"
	read -r BX1 BQ1 <<<"$(pgb_stat)"
	read -r PX1 PS1 <<<"$(pg_stat)"
	stop_readyd
	[[ -n ${RC1:-} && -n ${BX1:-} && -n ${PX1:-} ]] || die "amplification: a backend counter could not be read"
	# this script's own reads: what one redis_stat cost Redis (measured
	# above); SHOW STATS goes to PgBouncer's admin console and the
	# pg_stat_database read to the postgres database: neither is hdms_db
	D_ATT=$((A1 - A0))
	D_RC=$((RC1 - RC0 - OWN_RC))
	D_RQ=$((RQ1 - RQ0 - OWN_RQ))
	D_BX=$((BX1 - BX0))
	D_BQ=$((BQ1 - BQ0))
	D_PX=$((PX1 - PX0))
	D_PS=$((PS1 - PS0))
	for v in $D_ATT $D_RC $D_RQ $D_BX $D_BQ $D_PX $D_PS; do ((v == 0)) || AMP_FAIL=1; done
fi

# ------------------------------------------------------------ 4. accept
if [[ " $PARTS " == *" accept "* ]]; then
	conf=$W/accept.conf
	printf '[daemon]\nmax_clients = %d\n\n[check t]\nkind = tcp\nhost = 127.0.0.1\nport = %s\ninterval = 1h\n' \
		$((ACCEPT_N + 1000)) "$("$STACK" free-port)" >"$conf"
	ulimit -n $((ACCEPT_N * 2 + 1000)) 2>/dev/null || die "cannot raise the descriptor limit for $ACCEPT_N connections"
	port=$("$STACK" free-port)
	"$BIN" serve -c "$conf" --listen "127.0.0.1:$port" >>"$W/readyd.log" 2>&1 &
	RPID=$!
	URL=http://127.0.0.1:$port
	for ((i = 0; i < 100; i++)); do
		[[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/live") == 200 ]] && break
		sleep 0.1
	done
	say "accept: $ACCEPT_N idle connections at once, 3 rounds"
	ACC=$(python3 "$HERE/accept_cost.py" "$port" "$RPID" "$ACCEPT_N" 3) || die "accept_cost.py failed"
	stop_readyd
fi

# ---------------------------------------------------------------- report
med() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "nan" }'; }
range() { sort -g | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "%s–%s", a, b }'; }
http_us() { awk -v p="$1" '$1 == p { print $3 }' "$HTTP_OUT"; }
http_rps() { awk -v p="$1" '$1 == p { print $2 }' "$HTTP_OUT"; }
ms_per_attempt() { awk -v k="$1" '$1 == k && $2 > 0 { printf "%.3f\n", $3 * 1000 / $2 }' "$W/probe.tsv"; }
compose_field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$W/compose.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "nan") printf "%.2f×", a / b; else print "n/a" }'; }

echo "## readyd's cost next to its peers (make bench)"
echo
echo "### Ratios"
echo
echo "| ratio | value |"
echo "|---|---|"
if [[ -n $HTTP_OUT ]]; then
	n=$(http_us nginx)
	l=$(http_us live)
	for p in live ready ready-group metrics; do
		echo "| readyd \`/${p/ready-group/ready/user-service}\` vs nginx \`return 200\`, server CPU per request | $(ratio "$(http_us "$p")" "$n") |"
	done
	for p in ready ready-group metrics; do
		echo "| \`/${p/ready-group/ready/user-service}\` vs \`/live\`, CPU per request | $(ratio "$(http_us "$p")" "$l") |"
	done
fi
if [[ " $PARTS " == *" probe "* ]]; then
	for k in $KINDS; do
		eval "M_$k=$(ms_per_attempt "$k" | med)"
	done
	C_CYCLE=$(compose_field cycle_ms | med)
	C_PG=$(compose_field pg_isready_ms | med)
	C_RC=$(compose_field redis_cli_ms | med)
	R_CYCLE=$(awk -v a="$M_postgres" -v b="$M_pgbouncer" -v c="$M_redis" 'BEGIN { printf "%.3f", a + b + 3 * c }')
	echo "| readyd's cycle of the default checks (postgres + pgbouncer + 3 redis attempts) vs compose's (2 pg_isready + 3 redis-cli processes), CPU | $(ratio "$R_CYCLE" "$C_CYCLE") |"
	echo "| a postgres attempt (login, SCRAM, query) vs one pg_isready (no login) | $(ratio "$M_postgres" "$C_PG") |"
	echo "| a pgbouncer attempt vs one pg_isready | $(ratio "$M_pgbouncer" "$C_PG") |"
	echo "| a redis attempt (connect, PING/SELECT) vs one redis-cli ping | $(ratio "$M_redis" "$C_RC") |"
fi
if [[ " $PARTS " == *" amp "* ]]; then
	echo "| backend work caused by $AMP_N /ready requests, beyond readyd's own probes | $([[ $AMP_FAIL == 0 ]] && echo "**0** (every counter)" || echo "**NOT 0**: see below") |"
fi
echo
echo "### Figures"
if [[ -n $HTTP_OUT ]]; then
	echo
	echo "HTTP, median of ${BENCH_HTTP_ROUNDS:-3} interleaved rounds of \`wrk -t1 -c32 -d${BENCH_HTTP_SECS:-5}s\`, server CPU (utime+stime) per request:"
	echo
	echo "| server, path | req/s | CPU µs per request |"
	echo "|---|---|---|"
	for p in nginx live ready ready-group metrics; do
		echo "| $p | $(http_rps "$p") | $(http_us "$p") |"
	done
fi
if [[ " $PARTS " == *" probe "* ]]; then
	echo
	echo "Probes: $N_CHECKS checks of one kind, interval $IVL, heartbeat 0, watch yes (each attempt a fresh login replacing the watched connection), ${PSECS} s a run, $PROUNDS rounds; readyd's CPU (utime+stime) per finished attempt:"
	echo
	echo "| kind | CPU ms per attempt, median (range) | attempts a run | failed |"
	echo "|---|---|---|---|"
	for k in $KINDS; do
		v=M_$k
		echo "| $k | ${!v} ($(ms_per_attempt "$k" | range)) | $(awk -v k="$k" '$1 == k { print $2 }' "$W/probe.tsv" | med) | $(awk -v k="$k" '$1 == k { s += $4 } END { print s + 0 }' "$W/probe.tsv") |"
	done
	echo
	echo "| cycle | CPU ms per cycle |"
	echo "|---|---|"
	echo "| readyd: postgres + pgbouncer + 3 × redis attempts | $R_CYCLE |"
	echo "| compose: 2 × pg_isready + 3 × redis-cli ping (processes; the docker exec around each is not counted), median of $PROUNDS × $CYCLES cycles | $C_CYCLE (pg_isready $C_PG, redis-cli $C_RC each; failures: $(compose_field failures | awk "{ s += \$1 } END { print s + 0 }")) |"
fi
if [[ " $PARTS " == *" amp "* ]]; then
	echo
	echo "Backend amplification: $AMP_N requests ($AMP_CODES) to /ready, /ready/user-service, /ready/file-service, /ready/pgbouncer, /ready?verbose, /ready/redis-celery; the default five checks, probed at start-up, then no probe due in the window (interval 1h, heartbeat 0). Deltas from before the requests to 12 s after them, less this script's own reads (one read of Redis INFO costs it $OWN_RC connection and $OWN_RQ commands, measured by two reads back to back):"
	echo
	echo "| counter | delta | readyd's probes account for | beyond them |"
	echo "|---|---|---|---|"
	echo "| readyd attempts finished (/metrics) | $D_ATT | $D_ATT | 0 |"
	echo "| Redis total_connections_received | $D_RC | 0 | $D_RC |"
	echo "| Redis total_commands_processed | $D_RQ | 0 | $D_RQ |"
	echo "| PgBouncer SHOW STATS hdms_db total_xact_count | $D_BX | 0 | $D_BX |"
	echo "| PgBouncer SHOW STATS hdms_db total_query_count | $D_BQ | 0 | $D_BQ |"
	echo "| PostgreSQL pg_stat_database hdms_db xact_commit+xact_rollback | $D_PX | 0 | $D_PX |"
	echo "| PostgreSQL pg_stat_database hdms_db sessions | $D_PS | 0 | $D_PS |"
fi
if [[ " $PARTS " == *" accept "* ]]; then
	echo
	echo "Accepting $ACCEPT_N idle connections at once (tests/bench/accept_cost.py, one tcp check): readyd's CPU per round: $(grep -o ' cpu_ms=[0-9]*' <<<"$ACC" | cut -d= -f2 | paste -sd' ') ms (median $(sed -n 's/^median_cpu_ms=//p' <<<"$ACC") ms, $(awk -v n="$ACCEPT_N" '/^median_cpu_ms=/ { split($0, a, "="); printf "%.1f", a[2] * 1000 / n }' <<<"$ACC") µs a connection); wall $(grep -o 'wall_ms=[0-9]*' <<<"$ACC" | cut -d= -f2 | paste -sd' ') ms; held $(grep -o 'held=[0-9]*' <<<"$ACC" | cut -d= -f2 | paste -sd' ') (below $ACCEPT_N: readyd closed some idle for 5 s meanwhile)."
fi
echo
echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r); from $T0 to $(date -u +%Y-%m-%dT%H:%M:%SZ); load average $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end."
echo "Versions: $("$BIN" --version 2>&1 | head -n 1) ($(sha256sum "$BIN" | cut -c1-12)$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null | sed 's/^/, source at /')); nginx $(nginx -v 2>&1 | sed 's/.*\///'); $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2); PostgreSQL $(psql --version | awk '{ print $3 }'); $(pgbouncer --version 2>/dev/null | head -n 1); Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'); libpq $(pkg-config --modversion libpq), hiredis $(pkg-config --modversion hiredis), libevent $(pkg-config --modversion libevent), OpenSSL $(openssl version | awk '{ print $2 }')."
exit $AMP_FAIL
