# shellcheck shell=bash
# shellcheck disable=SC2034 # variables for the test files
# lib.sh: helpers for the integration tests; sourced by each t_*.sh, which
# run.sh runs as its own bash process with these in the environment:
#   READYD       the readyd binary (absolute path)
#   IT_WORK      the run's scratch directory
#   STACK_DIR    the stack (tests/stack/stack.sh start); its env is loaded
#   IT_RESULTS   file collecting "ok - ..." / "not ok - ..." lines
#   IT_ARTIFACTS every output, log and HTTP body goes below it (run.sh
#                greps it for secrets at the end; configs live elsewhere)
#   IT_SECRETS   file with one secret per line (register_secret adds)
#
# A test file: `source "$(dirname "$0")/lib.sh"`, then assertions (ok,
# fail, expect, assert_eq, ...). It must leave the stack as it found it
# (all servers running and thawed, pgbouncer default); on_exit helps.
set -uo pipefail

: "${READYD:?run me through tests/integration/run.sh}"
: "${IT_WORK:?}" "${STACK_DIR:?}" "${IT_RESULTS:?}" "${IT_ARTIFACTS:?}" "${IT_SECRETS:?}"

IT_HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
STACK=$(cd -- "$IT_HERE/../stack" && pwd)/stack.sh
T_NAME=$(basename -- "$0" .sh)
T_ART=$IT_ARTIFACTS/$T_NAME # outputs: scanned for secrets
T_CONF=$IT_WORK/conf/$T_NAME # configs: hold secrets, not scanned
mkdir -p "$T_ART" "$T_CONF"
# shellcheck disable=SC1091
source "$STACK_DIR/env"

T_PASSED=0
T_FAILED=0

# ---------------------------------------------------------------- results

ok() {
	T_PASSED=$((T_PASSED + 1))
	echo "ok - $T_NAME: $*" | tee -a "$IT_RESULTS"
}

# fail MSG [DETAIL...]: a failed assertion; DETAIL lines are printed
# indented (not counted).
fail() {
	T_FAILED=$((T_FAILED + 1))
	echo "not ok - $T_NAME: $1" | tee -a "$IT_RESULTS"
	shift
	local d
	for d in "$@"; do
		printf '%s\n' "$d" | sed 's/^/#   /'
	done
}

# check COND MSG [DETAIL...]: ok when the shell command string COND
# succeeds, else fail.
check() {
	local cond=$1 msg=$2
	shift 2
	if eval "$cond"; then
		ok "$msg"
	else
		fail "$msg" "$@"
	fi
}

# expect MSG CMD...: ok when CMD succeeds.
expect() {
	local msg=$1
	shift
	if "$@"; then ok "$msg"; else fail "$msg" "command failed: $*"; fi
}

assert_eq() { # ACTUAL EXPECTED MSG
	if [[ $1 == "$2" ]]; then
		ok "$3"
	else
		fail "$3" "expected: $2" "got:      $1"
	fi
}

assert_match() { # ACTUAL REGEX MSG
	if [[ $1 =~ $2 ]]; then
		ok "$3"
	else
		fail "$3" "expected to match: $2" "got: $1"
	fi
}

assert_contains() { # HAYSTACK NEEDLE MSG
	if [[ $1 == *"$2"* ]]; then
		ok "$3"
	else
		fail "$3" "expected to contain: $2" "got: $(head -c 2000 <<<"$1")"
	fi
}

assert_not_contains() { # HAYSTACK NEEDLE MSG
	if [[ $1 != *"$2"* ]]; then
		ok "$3"
	else
		fail "$3" "unexpectedly contains: $2"
	fi
}

# A random password that the secret sweep of run.sh looks for.
new_secret() {
	local s
	s=$1$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 16)
	echo "$s" >>"$IT_SECRETS"
	echo "$s"
}

# ---------------------------------------------------------------- cleanup

T_ON_EXIT=()
on_exit() { T_ON_EXIT+=("$*"); }

READYD_PID=
READYD_URL=
READYD_LOG=

_t_exit() {
	local rc=$? i
	trap - EXIT INT TERM
	if [[ -n $READYD_PID ]] && kill -0 "$READYD_PID" 2>/dev/null; then
		kill -TERM "$READYD_PID" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			kill -0 "$READYD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$READYD_PID" 2>/dev/null
		wait "$READYD_PID" 2>/dev/null
	fi
	for ((i = ${#T_ON_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${T_ON_EXIT[i]}" || true
	done
	if ((T_PASSED + T_FAILED == 0)); then
		echo "not ok - $T_NAME: no assertion ran" | tee -a "$IT_RESULTS"
		exit 1
	fi
	exit "$rc"
}
trap _t_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- polling

# wait_for CMD TIMEOUT_SECS: poll the shell command string CMD every 0.2 s
# until it succeeds (0) or TIMEOUT_SECS passed (1).
wait_for() {
	local cmd=$1 secs=$2 t0
	t0=$(date +%s.%N)
	while :; do
		eval "$cmd" && return 0
		if awk -v a="$t0" -v b="$(date +%s.%N)" -v s="$secs" \
			'BEGIN { exit !(b - a >= s) }'; then
			return 1
		fi
		sleep 0.2
	done
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }
# float comparison: fle A B  (A <= B)
fle() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# ---------------------------------------------------------------- commands

# run_cmd NAME CMD...: run CMD with stdout/stderr in $T_ART/NAME.{out,err};
# sets RC, OUT, ERR. Bounded to 60 s.
run_cmd() {
	local name=$1
	shift
	RC=0
	timeout -k 5 60 "$@" >"$T_ART/$name.out" 2>"$T_ART/$name.err" </dev/null || RC=$?
	OUT=$(cat "$T_ART/$name.out")
	ERR=$(cat "$T_ART/$name.err")
}

# ---------------------------------------------------------------- configs

free_port() { "$STACK" free-port; }

# write_config_header FILE: [daemon] and short [defaults]. Checks and
# groups are appended by the caller. Values use ${VAR} from the stack env.
write_config_header() {
	cat >"$1" <<EOF
# written by tests/integration ($T_NAME)
[daemon]
listen = 127.0.0.1:$(free_port)
details = local

[defaults]
interval = 1s
timeout = 1s
retries = 2
start_period = 0s
start_interval = 1s
EOF
}

# The shipped configuration's checks and groups, short timings.
write_std_config() {
	write_config_header "$1"
	cat >>"$1" <<'EOF'

[check postgres]
kind = postgres
host = ${POSTGRES_HOST}
port = ${POSTGRES_PORT}
dbname = ${POSTGRES_DB}
user = ${POSTGRES_USER}
password = ${POSTGRES_PASSWORD}

[check pgbouncer]
kind = pgbouncer
host = ${DB_HOST}
port = ${DB_PORT}
dbname = ${DB_NAME}
user = ${DB_USER}
password = ${DB_PASSWORD}
options = -c statement_timeout=0

[check redis-cache]
kind = redis
host = ${REDIS_HOST}
port = ${REDIS_PORT}
password = ${REDIS_PASSWORD:-}
db = 0

[check redis-channels]
kind = redis
host = ${REDIS_HOST}
port = ${REDIS_PORT}
password = ${REDIS_PASSWORD:-}
db = 1

[check redis-celery]
kind = redis
host = ${REDIS_HOST}
port = ${REDIS_PORT}
password = ${REDIS_PASSWORD:-}
db = 2

[group user-service]
checks = pgbouncer redis-cache

[group ticket-service]
checks = pgbouncer redis-cache

[group communication-service]
checks = pgbouncer redis-cache redis-channels

[group file-service]
checks = pgbouncer redis-cache redis-celery
EOF
}

# check_section KIND NAME [LINE...]: a [check NAME] section of KIND
# (postgres, pgbouncer or redis db 0) against this stack, as the shipped
# configuration writes it, then each LINE (key = value) of the caller.
# shellcheck disable=SC2016 # ${...} is readyd's config expansion
check_section() {
	local kind=$1 name=$2
	shift 2
	printf '\n[check %s]\nkind = %s\n' "$name" "$kind"
	case $kind in
	postgres)
		printf '%s\n' 'host = ${POSTGRES_HOST}' 'port = ${POSTGRES_PORT}' \
			'dbname = ${POSTGRES_DB}' 'user = ${POSTGRES_USER}' \
			'password = ${POSTGRES_PASSWORD}'
		;;
	pgbouncer)
		printf '%s\n' 'host = ${DB_HOST}' 'port = ${DB_PORT}' \
			'dbname = ${DB_NAME}' 'user = ${DB_USER}' \
			'password = ${DB_PASSWORD}' 'options = -c statement_timeout=0'
		;;
	redis)
		printf '%s\n' 'host = ${REDIS_HOST}' 'port = ${REDIS_PORT}' \
			'password = ${REDIS_PASSWORD:-}' 'db = 0'
		;;
	esac
	(($#)) && printf '%s\n' "$@"
	return 0
}

STD_CHECKS=(postgres pgbouncer redis-cache redis-channels redis-celery)
STD_GROUPS=(user-service ticket-service communication-service file-service)
REDIS_CHECKS=(redis-cache redis-channels redis-celery)

# ---------------------------------------------------------------- readyd

READYD_N=0
# An optional command prefix for start_readyd (t_dns.sh: a private mount
# namespace); it must exec readyd, so that READYD_PID is readyd's own.
READYD_WRAP=()

# start_readyd CONFIG [ARGS...]: readyd serve in the background on a free
# loopback port; waits (10 s) for /live. Sets READYD_PID, READYD_URL,
# READYD_LOG. Returns 1 (after a fail) when it does not come up.
start_readyd() {
	local conf=$1 port i
	shift
	READYD_N=$((READYD_N + 1))
	port=$(free_port)
	READYD_LOG=$T_ART/readyd-$READYD_N.log
	READYD_URL=http://127.0.0.1:$port
	"${READYD_WRAP[@]}" "$READYD" serve -c "$conf" --listen "127.0.0.1:$port" "$@" \
		>"$READYD_LOG" 2>&1 </dev/null &
	READYD_PID=$!
	echo "$READYD_PID" >>"$IT_WORK/pids"
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$READYD_PID" 2>/dev/null; then
			wait "$READYD_PID"
			fail "readyd serve started (exited with $?)" \
				"$(tail -n 20 "$READYD_LOG")"
			READYD_PID=
			return 1
		fi
		[[ $(http_status "$READYD_URL/live") == 200 ]] && return 0
		sleep 0.1
	done
	fail "readyd serve answers /live within 10 s" "$(tail -n 20 "$READYD_LOG")"
	return 1
}

# stop_readyd: SIGTERM; asserts exit within 10 s with status 0.
stop_readyd() {
	local i rc t0
	[[ -n $READYD_PID ]] || return 0
	t0=$(now)
	kill -TERM "$READYD_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$READYD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$READYD_PID" 2>/dev/null; then
		kill -KILL "$READYD_PID" 2>/dev/null
		wait "$READYD_PID" 2>/dev/null
		fail "readyd exits within 10 s of SIGTERM" "$(tail -n 20 "$READYD_LOG")"
		READYD_PID=
		return 1
	fi
	wait "$READYD_PID"
	rc=$?
	READYD_PID=
	if ((rc == 0)); then
		ok "readyd exits 0 on SIGTERM (after $(elapsed "$t0") s)"
	else
		fail "readyd exits 0 on SIGTERM (got $rc)" "$(tail -n 20 "$READYD_LOG")"
	fi
}

# ---------------------------------------------------------------- HTTP

# http_status URL [CURL ARGS...]: the status code (000 when no answer).
# Headers and body are appended to an artifact (the secrets sweep).
http_status() {
	local url=$1
	shift
	curl -s -D "$T_ART/.status-$BASHPID.h" -o "$T_ART/.status-$BASHPID.b" -w '%{http_code}' \
		--max-time 5 "$@" "$url" 2>/dev/null
	cat "$T_ART/.status-$BASHPID.h" "$T_ART/.status-$BASHPID.b" >>"$T_ART/http-status.log" 2>/dev/null
	rm -f "$T_ART/.status-$BASHPID.h" "$T_ART/.status-$BASHPID.b"
	return 0
}

# http_body URL [CURL ARGS...]: the body (also appended to an artifact).
http_body() {
	local url=$1
	shift
	curl -s --max-time 5 "$@" "$url" 2>/dev/null | tee -a "$T_ART/http-bodies.log"
	echo >>"$T_ART/http-bodies.log"
	return 0
}

# http_req [CURL ARGS...] URL: full exchange; sets HTTP_STATUS,
# HTTP_HEADERS (raw, CR removed), HTTP_BODY, HTTP_SIZE (bytes of body).
HTTP_N=0
http_req() {
	HTTP_N=$((HTTP_N + 1))
	local h=$T_ART/http-$HTTP_N.headers b=$T_ART/http-$HTTP_N.body w
	w=$(curl -s --max-time 5 -D "$h" -o "$b" -w '%{http_code} %{size_download}' "$@" 2>/dev/null)
	HTTP_STATUS=${w%% *}
	HTTP_SIZE=${w##* }
	HTTP_HEADERS=$(tr -d '\r' <"$h" 2>/dev/null)
	HTTP_BODY=$(cat "$b" 2>/dev/null)
}

# header NAME: the value of a header of the last http_req (case-insensitive).
header() {
	awk -v n="${1,,}" -F': *' \
		'{ k = tolower($1) } k == n { sub(/^[^:]*: */, ""); print; exit }' \
		<<<"$HTTP_HEADERS"
}

# ready_json: the /ready body.
ready_json() { http_body "$READYD_URL/ready"; }

# field CHECK KEY: one field of one check in /ready/CHECK (jq -r; "null"
# if none). Asked for by name, the check shows its own status: in /ready a
# failing check no group needs shows "warn".
field() {
	http_body "$READYD_URL/ready/$1" | jq -r --arg c "$1" ".checks[\$c].$2" 2>/dev/null
}

check_json() { # CHECK: the check's object from /ready/CHECK, compact
	http_body "$READYD_URL/ready/$1" | jq -c --arg c "$1" '.checks[$c]' 2>/dev/null
}

# wait_check CHECK STATUS [REASON] [TIMEOUT]: assert that the check reaches
# STATUS (and REASON when not empty) within TIMEOUT (default 15 s).
wait_check() {
	local c=$1 st=$2 reason=${3:-} secs=${4:-15} cond t0
	cond="[[ \$(field '$c' status) == '$st' ]]"
	[[ -n $reason ]] && cond+=" && [[ \$(field '$c' reason) == '$reason' ]]"
	t0=$(now)
	if wait_for "$cond" "$secs"; then
		ok "$c: $st${reason:+ ($reason)} (after $(elapsed "$t0") s)"
		return 0
	fi
	fail "$c: $st${reason:+ ($reason)} within $secs s" "last: $(check_json "$c")"
	return 1
}

# wait_checks STATUS REASON TIMEOUT CHECK...: wait_check each CHECK in
# turn (one assertion each).
wait_checks() {
	local st=$1 reason=$2 secs=$3 c
	shift 3
	for c in "$@"; do wait_check "$c" "$st" "$reason" "$secs"; done
}

# wait_all_pass [TIMEOUT]: every check pass and /ready 200.
wait_all_pass() {
	local secs=${1:-30} t0
	t0=$(now)
	if wait_for "[[ \$(http_status '$READYD_URL/ready') == 200 ]]" "$secs"; then
		ok "/ready 200 (all pass) after $(elapsed "$t0") s"
		return 0
	fi
	fail "/ready 200 (all pass) within $secs s" "$(http_body "$READYD_URL/ready?verbose")"
	return 1
}

# sorted_times URL N [GAP]: N curl total times (seconds), sorted, GAP
# seconds apart (default 0); a failed request counts as 9.999.
sorted_times() {
	local url=$1 n=$2 gap=${3:-0} i
	for ((i = 0; i < n; i++)); do
		curl -s -o /dev/null --max-time 5 -w '%{time_total}\n' "$url" 2>/dev/null ||
			echo 9.999
		[[ $gap == 0 ]] || sleep "$gap"
	done | sort -n
}

# median_time URL N: the median of N curl total times (seconds).
median_time() {
	sorted_times "$1" "$2" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

# worst_time URL N [GAP]: the worst of N curl total times (seconds).
worst_time() { sorted_times "$@" | tail -n 1; }

# ---------------------------------------------------------------- stack

# rcli ARGS...: redis-cli to the stack's Redis as its default user.
rcli() {
	REDISCLI_AUTH=${REDIS_PASSWORD:-} timeout 10 redis-cli --no-auth-warning \
		-h "$REDIS_HOST" -p "$REDIS_PORT" "$@"
}

# rcli_acl ARGS...: the same as the test's ACL user ($ACL_USER, $ACL_PW):
# works whatever requirepass says.
rcli_acl() {
	REDISCLI_AUTH=$ACL_PW timeout 10 redis-cli --no-auth-warning --user "$ACL_USER" \
		-h "$REDIS_HOST" -p "$REDIS_PORT" "$@"
}

stack() { "$STACK" "$@" >>"$T_ART/stack.log" 2>&1; }
