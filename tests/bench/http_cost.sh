#!/usr/bin/env bash
# http_cost.sh READYD_BIN: server CPU per HTTP request, side by side in one
# run (issue 12): nginx answering a fixed `return 200` (1 worker, no access
# log) as the floor, readyd's /live, /ready, /ready/user-service, /metrics,
# each driven by wrk (1 thread, 32 connections, BENCH_HTTP_SECS s), rounds
# interleaved (BENCH_HTTP_ROUNDS) so that this machine's noise cancels out.
# CPU is the server's utime+stime from /proc/PID/stat over each run.
# Prints ratios first (readyd vs nginx, /ready vs /live), then the figures.
# Starts its own stack (tests/stack/stack.sh) and cleans up on exit.
# BENCH_HTTP_TSV=FILE also writes "path req_per_s cpu_us_per_req" medians
# there (tests/bench/cost.sh, make bench, reads them). BENCH_HTTP_BASE=BIN
# runs a second readyd (a baseline build) in the same rounds: its /live,
# /ready and /metrics are printed as base-live, base-ready, base-metrics.
set -euo pipefail
BIN=$(readlink -f "${1:?usage: http_cost.sh READYD_BIN}")
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
STACK=$HERE/../stack/stack.sh
SECS=${BENCH_HTTP_SECS:-5}
ROUNDS=${BENCH_HTTP_ROUNDS:-3}
for t in wrk nginx; do
	command -v "$t" >/dev/null || { echo "http_cost.sh: $t missing (make deps)" >&2; exit 1; }
done
W=$(mktemp -d /tmp/readyd-httpcost.XXXXXX)
chmod 755 "$W"
RPID= NPID= BPID=
BASE=${BENCH_HTTP_BASE:+$(readlink -f "$BENCH_HTTP_BASE")}
cleanup() {
	[[ -n $RPID ]] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
	[[ -n $BPID ]] && kill "$BPID" 2>/dev/null && wait "$BPID" 2>/dev/null
	[[ -n $NPID ]] && kill "$NPID" 2>/dev/null
	"$STACK" stop "$W/stack" >/dev/null 2>&1 || true
	rm -rf -- "$W"
}
trap cleanup EXIT
"$STACK" start "$W/stack" >"$W/stack.log" 2>&1
# shellcheck disable=SC1091
. "$W/stack/env"
RPORT=$("$STACK" free-port)
NPORT=$("$STACK" free-port)
"$BIN" serve --listen "127.0.0.1:$RPORT" >"$W/readyd.log" 2>&1 &
RPID=$!
for _ in $(seq 100); do
	[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RPORT/ready") == 200 ]] && break
	sleep 0.1
done
if [[ -n $BASE ]]; then
	BPORT=$("$STACK" free-port)
	"$BASE" serve --listen "127.0.0.1:$BPORT" >"$W/base.log" 2>&1 &
	BPID=$!
	for _ in $(seq 100); do
		[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BPORT/ready") == 200 ]] && break
		sleep 0.1
	done
fi
mkdir -p "$W/nginx"
cat >"$W/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $W/nginx/nginx.pid;
error_log $W/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $W/nginx;
	server { listen 127.0.0.1:$NPORT; location / { return 200 "ok\n"; } }
}
NGX
nginx -c "$W/nginx/nginx.conf" -p "$W/nginx" &
NPID=$!
sleep 0.5
NWORKER=$(pgrep -P "$NPID" | head -n 1)
[[ -n $NWORKER ]] || { echo "http_cost.sh: nginx did not start" >&2; cat "$W/nginx/error.log" >&2; exit 1; }
TCK=$(getconf CLK_TCK)
cpu() { awk -v t="$TCK" '{ print ($14 + $15) / t }' "/proc/$1/stat"; }

# run NAME PID URL: append "NAME req/s us_per_req" to $W/runs
run() {
	local name=$1 pid=$2 url=$3 c0 c1 out rps reqs
	c0=$(cpu "$pid")
	out=$(wrk -t1 -c32 -d"${SECS}s" "$url" 2>&1)
	c1=$(cpu "$pid")
	reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
	rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
	awk -v n="$name" -v r="$rps" -v q="$reqs" -v a="$c0" -v b="$c1" \
		'BEGIN { printf "%s %.0f %.2f\n", n, r, (b - a) * 1e6 / (q > 0 ? q : 1) }' >>"$W/runs"
}
: >"$W/runs"
R=http://127.0.0.1:$RPORT
for ((i = 1; i <= ROUNDS; i++)); do
	echo "http_cost: round $i of $ROUNDS" >&2
	run nginx "$NWORKER" "http://127.0.0.1:$NPORT/"
	run live "$RPID" "$R/live"
	run ready "$RPID" "$R/ready"
	run ready-group "$RPID" "$R/ready/user-service"
	run metrics "$RPID" "$R/metrics"
	if [[ -n $BASE ]]; then
		run base-live "$BPID" "http://127.0.0.1:$BPORT/live"
		run base-ready "$BPID" "http://127.0.0.1:$BPORT/ready"
		run base-metrics "$BPID" "http://127.0.0.1:$BPORT/metrics"
	fi
done
med() { # NAME COLUMN
	awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$W/runs" | sort -g |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
n_us=$(med nginx 3)
l_us=$(med live 3)
echo
echo "### HTTP cost, server CPU per request (median of $ROUNDS interleaved rounds, wrk -t1 -c32 -d${SECS}s)"
echo
echo "| ratio | value |"
echo "|---|---|"
for p in live ready ready-group metrics; do
	awk -v p="$p" -v a="$(med "$p" 3)" -v n="$n_us" 'BEGIN { printf "| readyd %s vs nginx (CPU per request) | %.2f× |\n", p, a / n }'
done
for p in ready ready-group metrics; do
	awk -v p="$p" -v a="$(med "$p" 3)" -v l="$l_us" 'BEGIN { printf "| %s vs /live (CPU per request) | %.2f× |\n", p, a / l }'
done
echo
echo "| server, path | req/s | CPU µs per request |"
echo "|---|---|---|"
PATHS="nginx live ready ready-group metrics"
[[ -n $BASE ]] && PATHS+=" base-live base-ready base-metrics"
for p in $PATHS; do
	echo "| $p | $(med "$p" 2) | $(med "$p" 3) |"
done
if [[ -n ${BENCH_HTTP_TSV:-} ]]; then
	for p in $PATHS; do
		printf '%s\t%s\t%s\n' "$p" "$(med "$p" 2)" "$(med "$p" 3)"
	done >"$BENCH_HTTP_TSV"
fi
echo
echo "machine: $(nproc) CPUs, $(uname -r); $(date -u +%Y-%m-%dT%H:%M:%SZ); nginx $(nginx -v 2>&1 | sed 's/.*\///'); $("$BIN" --version 2>&1 | head -n 1)"
