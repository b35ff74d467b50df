#!/usr/bin/env bash
# Agreement test (issue 8, point 9): does readyd's verdict agree with what
# the data model's real clients experience at the same moment?
#
# readyd runs the shipped config/readyd.conf with one change: interval 10s
# instead of 30s (timeout 10s, retries 3, fast_interval 1s as shipped; 10s
# is the least interval the shipped timeout allows). Every fault below is
# the same fault at either interval: only the time readyd needs before its
# next scheduled look shrinks, which keeps the run near 6 minutes instead of
# 15. For each fault: inject it, wait until readyd has settled, run the
# clients (tests/agree/probe.py: Django ORM through PgBouncer with the
# services' `options`, django-redis on db 0, channels_redis on db 1,
# Celery/kombu on db 2; 5 s hard timeout per operation), compare each
# group's verdict with /ready/GROUP and all of them with /ready; undo the
# fault, settle, compare again. The clients are the ground truth:
#   FALSE GREEN  readyd 200 while the group's clients fail
#   FALSE RED    readyd 503 while they all work
# Every disagreement fails the test; the table is printed at the end.
#
# Faults (each undone before the next): graceful stop, kill -9 and SIGSTOP
# of PostgreSQL (all its processes), PgBouncer and Redis; PostgreSQL's
# postmaster alone frozen (pooled server connections keep serving); a new
# password for the role (new logins fail, PgBouncer's pooled connections
# serve); max_connections reached (a holder keeps taking every free slot);
# default_transaction_read_only = on (ALTER SYSTEM + reload); PgBouncer's
# pool full (default_pool_size transactions held open: clients queue);
# PgBouncer refusing `options` (stack.sh pgbouncer-strict); Redis at
# maxmemory with noeviction (-OOM); a failed BGSAVE with
# stop-writes-on-bgsave-error (-MISCONF; dump.rdb made a directory: Redis
# runs as root here and `dir`/`dbfilename` are protected configs); REPLICAOF
# a dead port (-READONLY); min-replicas-to-write 1 without replicas
# (-NOREPLICAS). Before the faults that rely on PgBouncer's pooled server
# connections, 8 concurrent transactions make sure the pool holds some, as a
# running service's pool does.
#
# Settled: every check of the faulted backend finished an attempt after the
# fault (in the recovered phase: those not `pass`; a check failed with
# reason `dependency` counts as looked at), none is between a first
# failure and its confirmation (pass with consecutive_failures > 0), and
# the HTTP codes and check states stayed the same for 1.5 s; at most
# SETTLE_MAX (30 s = interval + 5 % jitter + timeout + retries re-checks +
# margin), after which the row is judged anyway and marked "unsettled".
#
# run.sh runs this file only when named (run.sh build/readyd t_agree) or
# with IT_AGREE=1: readyd has known disagreements (issue 8) until they are
# fixed. The file may take up to IT_FILE_TIMEOUT below.
# IT_FILE_TIMEOUT=600
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

T_BEGIN=$(now)
PY=/usr/bin/python3 # Debian's interpreter: the clients are Debian packages
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
AGREE_DIR=$(cd -- "$IT_HERE/../agree" && pwd)
SHIPPED=$(cd -- "$IT_HERE/../../config" && pwd)
INTERVAL=10s
SETTLE_MAX=30
STABLE_S=1.5
CLIENT_TIMEOUT=5
SVC_GROUPS=(user-service ticket-service communication-service file-service)
PG_CHECKS=(postgres pgbouncer)
REDIS_ALL=(redis-cache redis-channels redis-celery)

redis_cmd() {
	REDISCLI_AUTH=$REDIS_PASSWORD timeout 10 redis-cli --no-auth-warning \
		-h "$REDIS_HOST" -p "$REDIS_PORT" "$@"
}
pg_super() {
	timeout 20 psql -X -q -At -v ON_ERROR_STOP=1 -h "$STACK_PG_SOCKET_DIR" \
		-p "$POSTGRES_PORT" -U "$STACK_PG_SUPERUSER" -d postgres "$@"
}
PROBE=("$PY" "$AGREE_DIR/probe.py")

# ---------------------------------------------------------------- prerequisites

if ! "$PY" -c 'import django, django_redis, channels, channels_redis, celery, kombu, psycopg2' \
	>"$T_ART/imports.err" 2>&1; then
	fail "$PY imports the data model's clients (make deps: python3-django ...)" \
		"$(cat "$T_ART/imports.err")"
	exit 1
fi
ok "$PY imports django, django_redis, channels_redis, celery, kombu, psycopg2"

# The groups the clients model are the shipped ones.
shipped_groups=$(sed -n 's/^\[group \(.*\)\]$/\1/p' "$SHIPPED/readyd.conf" | tr '\n' ' ')
assert_eq "$shipped_groups" "${SVC_GROUPS[*]} " "the shipped config's groups are the data model's services"

# The shipped configuration, interval 10s.
conf=$T_CONF/agree.conf
sed 's/^interval = 30s$/interval = '"$INTERVAL"'/' "$SHIPPED/readyd.conf" >"$conf"
changed=$(diff "$SHIPPED/readyd.conf" "$conf" | grep -c '^>')
assert_eq "$changed" 1 "test config: the shipped readyd.conf with only interval = $INTERVAL"
for kv in 'timeout = 10s' 'retries = 3'; do
	check "grep -qxF '$kv' '$conf'" "shipped [defaults] $kv (SETTLE_MAX assumes it)"
done

# ---------------------------------------------------------------- cleanup

HOLD_PID=
POSTMASTER=
MISCONF_SAVED=$STACK_DIR/dump.rdb.agree-saved
OLD_MAXMEMORY=
OLD_MINREPLICAS=
WRONG_PW=$(new_secret agreeWrong)
# At exit (also on SIGTERM, when run.sh's timeout SIGKILLs the file 10 s
# later: quick things first): release, thaw, reset the settings faults
# change (the password before the restore, which logs in with it), then
# restore the stack.
undo_all() {
	local srv
	clients_stop
	[[ -n $HOLD_PID ]] && release_holder
	[[ -n $POSTMASTER ]] && kill -CONT "$POSTMASTER" 2>/dev/null
	for srv in postgres pgbouncer redis; do
		"$STACK" thaw "$STACK_DIR" "$srv" >/dev/null 2>&1
	done
	PGCONNECT_TIMEOUT=3 pg_super \
		-c "ALTER ROLE \"$POSTGRES_USER\" PASSWORD '$POSTGRES_PASSWORD'" \
		-c "ALTER SYSTEM RESET default_transaction_read_only" \
		-c "SELECT pg_reload_conf()" >/dev/null 2>&1
	redis_cmd REPLICAOF NO ONE >/dev/null 2>&1
	[[ -n $OLD_MAXMEMORY ]] && redis_cmd CONFIG SET maxmemory "$OLD_MAXMEMORY" >/dev/null 2>&1
	[[ -n $OLD_MINREPLICAS ]] &&
		redis_cmd CONFIG SET min-replicas-to-write "$OLD_MINREPLICAS" >/dev/null 2>&1
	misconf_undo >/dev/null 2>&1
	"$STACK" restore "$STACK_DIR" >>"$T_ART/stack.log" 2>&1
	return 0
}
on_exit undo_all

# ---------------------------------------------------------------- readyd's view

declare -A CODE STATUS REASON CF COUNT BASE
# snap: readyd's answers now: CODE[all] (/ready) and CODE[GROUP]
# (/ready/GROUP), per check STATUS, REASON, CF (consecutive_failures) and
# COUNT (attempts finished: readyd_check_duration_seconds_count).
# The counts first: a state read later is at least as new as they are.
snap() {
	local g c st rs cf n j
	while read -r c n; do
		[[ -n $c ]] && COUNT[$c]=$n
	done < <(curl -s --max-time 5 "$READYD_URL/metrics" 2>/dev/null |
		sed -n 's/^readyd_check_duration_seconds_count{check="\([^"]*\)"[^}]*} \([0-9]*\)$/\1 \2/p')
	j=$(curl -s --max-time 5 "$READYD_URL/ready" 2>/dev/null)
	while read -r c st rs cf; do
		[[ -n $c ]] || continue
		STATUS[$c]=$st
		REASON[$c]=$rs
		CF[$c]=$cf
	done < <(jq -r '.checks | to_entries[] |
		"\(.key) \(.value.status) \(.value.reason // "-") \(.value.consecutive_failures // 0)"' \
		<<<"$j" 2>/dev/null)
	# the five codes with one curl (000: no answer)
	local args=(-o /dev/null "$READYD_URL/ready") codes=()
	for g in "${SVC_GROUPS[@]}"; do args+=(-o /dev/null "$READYD_URL/ready/$g"); done
	mapfile -t codes < <(curl -s -w '%{http_code}\n' --max-time 5 "${args[@]}" 2>/dev/null)
	CODE[all]=${codes[0]:-000}
	for ((n = 0; n < ${#SVC_GROUPS[@]}; n++)); do
		CODE[${SVC_GROUPS[n]}]=${codes[n + 1]:-000}
	done
}

snap_key() {
	local k="${CODE[all]}" g c
	for g in "${SVC_GROUPS[@]}"; do k+=" ${CODE[$g]}"; done
	for c in "${STD_CHECKS[@]}"; do k+=" ${STATUS[$c]:-?}"; done
	echo "$k"
}

checks_line() { # one line: each check's status (reason)
	local c out=
	for c in "${STD_CHECKS[@]}"; do
		out+="$c=${STATUS[$c]:-?}"
		[[ ${REASON[$c]:-"-"} != - ]] && out+="(${REASON[$c]})"
		out+=" "
	done
	echo "${out% }"
}

# mark_base: the attempt counts now (after an injection or undo).
mark_base() {
	local c
	sleep 0.2 # an attempt in flight at the fault finishes first
	snap
	for c in "${STD_CHECKS[@]}"; do BASE[$c]=${COUNT[$c]:-0}; done
}

# settle PHASE T0 CHECK...: see the header. Sets SETTLE_NOTE.
settle() {
	local phase=$1 t0=$2 c key last="" since looked mid
	shift 2
	since=$(now)
	while :; do
		snap
		looked=yes
		for c in "$@"; do
			[[ $phase == recovered && ${STATUS[$c]:-} == pass ]] && continue
			# shown failed because a check it depends on failed
			[[ ${STATUS[$c]:-} == fail && ${REASON[$c]:-} == dependency ]] && continue
			((${COUNT[$c]:-0} > ${BASE[$c]:-0})) || looked=no
		done
		mid=no
		for c in "${STD_CHECKS[@]}"; do
			[[ ${STATUS[$c]:-} == pass && ${CF[$c]:-0} -gt 0 ]] && mid=yes
		done
		key=$(snap_key)
		if [[ $key != "$last" ]]; then
			last=$key
			since=$(now)
		fi
		if [[ $looked == yes && $mid == no ]] &&
			fle "$STABLE_S" "$(elapsed "$since")"; then
			SETTLE_NOTE="settled $(elapsed "$t0")s"
			return 0
		fi
		if fle "$SETTLE_MAX" "$(elapsed "$t0")"; then
			SETTLE_NOTE="UNSETTLED ${SETTLE_MAX}s (looked=$looked confirming=$mid)"
			return 1
		fi
		sleep 0.2
	done
}

# ---------------------------------------------------------------- judging

ROWS=()      # the table
DISAGREE=()  # one line per disagreement
N_JUDGED=0
CLIENT_N=0

# The clients: one `probe.py serve` for the whole run (Python and the
# clients' modules load once; each operation still forks a fresh process
# with fresh connections). clients_run prints its verdict lines.
# (bash unsets CLIENTS and CLIENTS_PID once the coprocess has ended: keep
# copies.)
CLIENTS_IN=
CLIENTS_OUT=
CLIENTS_SERVE_PID=
clients_start() {
	coproc CLIENTS { exec "$PY" "$AGREE_DIR/probe.py" serve 2>>"$T_ART/clients.err"; }
	# shellcheck disable=SC2153 # set by coproc
	CLIENTS_SERVE_PID=$CLIENTS_PID
	CLIENTS_OUT=${CLIENTS[0]}
	CLIENTS_IN=${CLIENTS[1]}
	local line=
	read -r -t 60 line <&"$CLIENTS_OUT"
	[[ $line == ready ]]
}
clients_stop() {
	[[ -n $CLIENTS_SERVE_PID ]] || return 0
	local pid=$CLIENTS_SERVE_PID
	CLIENTS_SERVE_PID=
	eval "exec $CLIENTS_IN>&-" 2>/dev/null # EOF: it leaves
	wait_for "! kill -0 $pid 2>/dev/null" 5 || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
clients_run() {
	local line
	echo "run --timeout $CLIENT_TIMEOUT" >&"$CLIENTS_IN"
	while read -r -t $((CLIENT_TIMEOUT * 4)) line <&"$CLIENTS_OUT"; do
		[[ $line == end ]] && return 0
		printf '%s\n' "$line"
	done
	echo "probe.py serve did not answer within $((CLIENT_TIMEOUT * 4)) s" >&2
	return 1
}

# judge FAULT PHASE: readyd now, the clients, readyd again; one table row.
judge() {
	local fault=$1 phase=$2 g out line verdict detail all=works row cells=() bad=()
	local -A V D A
	snap
	for g in "${SVC_GROUPS[@]}"; do A[$g]=${CODE[$g]}; done
	A[all]=${CODE[all]}
	local before_checks
	before_checks=$(checks_line)
	CLIENT_N=$((CLIENT_N + 1))
	out=$T_ART/clients-$CLIENT_N.txt
	clients_run >"$out"
	for g in "${SVC_GROUPS[@]}"; do
		line=$(grep -m1 "^$g	" "$out")
		verdict=$(cut -f2 <<<"$line")
		detail=$(cut -f3 <<<"$line")
		[[ $verdict == works || $verdict == fails ]] || {
			verdict=fails
			detail="probe.py gave no verdict (see clients-$CLIENT_N.err)"
		}
		V[$g]=$verdict
		D[$g]=$detail
		[[ $verdict == works ]] || all=fails
	done
	snap # after the clients: shown when readyd changed meanwhile
	for g in "${SVC_GROUPS[@]}" all; do
		local v=${V[$g]:-$all} c mark=
		if [[ $v == fails && ${A[$g]} == 200 ]]; then
			mark="FALSE GREEN"
		elif [[ $v == works && ${A[$g]} == 503 ]]; then
			mark="FALSE RED"
		elif [[ $v == works && ${A[$g]} != 200 ]] ||
			[[ $v == fails && ${A[$g]} != 503 ]]; then
			mark="WRONG ANSWER" # neither 200 nor 503
		fi
		c="$v ${A[$g]}${mark:+ $mark}"
		[[ ${CODE[$g]} != "${A[$g]}" ]] && c+=" (then ${CODE[$g]})"
		cells+=("$c")
		if [[ -n $mark ]]; then
			local name=$g
			[[ $g == all ]] && name=/ready || name=/ready/$g
			bad+=("$name $mark")
			DISAGREE+=("$fault/$phase: $name $mark: clients $v, readyd ${A[$g]}; readyd checks: $before_checks; clients: $(
				if [[ $g != all ]]; then
					printf '%s' "${D[$g]:0:200}"
				elif [[ $all == works ]]; then
					printf 'every group works'
				else
					for x in "${SVC_GROUPS[@]}"; do
						[[ ${V[$x]} == fails ]] && printf '%s: %s. ' "$x" "${D[$x]:0:160}"
					done
				fi)")
		fi
	done
	row=$(printf '%-26s %-9s' "$fault" "$phase")
	for c in "${cells[@]}"; do row+=$(printf ' | %-23s' "$c"); done
	row+=" | $SETTLE_NOTE"
	ROWS+=("$row")
	N_JUDGED=$((N_JUDGED + 1))
	{
		echo "== $fault/$phase ($SETTLE_NOTE)"
		echo "readyd: /ready ${A[all]}; $(for g in "${SVC_GROUPS[@]}"; do printf '%s %s; ' "$g" "${A[$g]}"; done)"
		echo "readyd checks: $before_checks"
		cat "$out"
	} >>"$T_ART/judgements.log"
	if ((${#bad[@]} == 0)); then
		ok "$fault/$phase: clients and readyd agree (clients $(for g in "${SVC_GROUPS[@]}"; do printf '%s ' "${V[$g]}"; done)/ready ${A[all]}; $SETTLE_NOTE)"
	else
		fail "$fault/$phase: clients and readyd agree" "${bad[@]}" \
			"readyd checks: $before_checks"
	fi
}

# ---------------------------------------------------------------- faults

release_holder() {
	kill -TERM "$HOLD_PID" 2>/dev/null
	wait "$HOLD_PID" 2>/dev/null
	HOLD_PID=
}

# start_holder NAME ARGS...: probe.py NAME ARGS in the background, until it
# prints "holding N" (15 s at most).
start_holder() {
	local name=$1 f=$T_ART/$1.out
	shift
	"$PY" "$AGREE_DIR/probe.py" "$name" "$@" >"$f" 2>&1 &
	HOLD_PID=$!
	echo "$HOLD_PID" >>"$T_ART/holder-pids"
	if ! wait_for "grep -q '^holding' '$f'" 15; then
		fail "$name: holds its connections within 15 s" "$(tail -n 5 "$f")"
		return 1
	fi
	echo "# $name: $(head -n 1 "$f")"
}

bgsave_status() { redis_cmd INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; }
misconf_inject() {
	# dump.rdb becomes a directory: BGSAVE cannot rename its temp file
	# onto it (Redis runs as root here, so permissions would not stop it).
	[[ -e $STACK_DIR/dump.rdb ]] && mv "$STACK_DIR/dump.rdb" "$MISCONF_SAVED"
	mkdir -p "$STACK_DIR/dump.rdb/agree"
	wait_for "[[ \$(bgsave_status rdb_bgsave_in_progress) == 0 ]]" 10
	redis_cmd BGSAVE >/dev/null
	wait_for "[[ \$(bgsave_status rdb_last_bgsave_status) == err ]]" 10
}
misconf_undo() {
	[[ -d $STACK_DIR/dump.rdb ]] || return 0
	rm -rf "$STACK_DIR/dump.rdb"
	[[ -e $MISCONF_SAVED ]] && mv "$MISCONF_SAVED" "$STACK_DIR/dump.rdb"
	wait_for "[[ \$(bgsave_status rdb_bgsave_in_progress) == 0 ]]" 10
	redis_cmd BGSAVE >/dev/null
	wait_for "[[ \$(bgsave_status rdb_last_bgsave_status) == ok ]]" 10
}

POOL_SIZE=$(sed -n 's/^default_pool_size *= *\([0-9]*\).*/\1/p' "$SHIPPED/pgbouncer.ini")

# FAULTS: name | the backend's checks (what must have been probed since)
FAULTS=(
	"postgres-stop|pg"
	"postgres-kill|pg"
	"postgres-freeze|pg"
	"postmaster-freeze|pg"
	"postgres-wrong-password|pg"
	"postgres-max-connections|pg"
	"postgres-read-only|pg"
	"pgbouncer-stop|pgb"
	"pgbouncer-kill|pgb"
	"pgbouncer-freeze|pgb"
	"pgbouncer-pool-full|pgb"
	"pgbouncer-strict|pgb"
	"redis-stop|redis"
	"redis-kill|redis"
	"redis-freeze|redis"
	"redis-oom|redis"
	"redis-misconf|redis"
	"redis-readonly|redis"
	"redis-noreplicas|redis"
)
if [[ -n ${AGREE_FAULTS:-} ]]; then # a subset, for development
	sel=()
	for f in "${FAULTS[@]}"; do
		[[ " $AGREE_FAULTS " == *" ${f%%|*} "* ]] && sel+=("$f")
	done
	FAULTS=("${sel[@]}")
fi

inject() {
	case $1 in
	postgres-stop) stack stop "$STACK_DIR" postgres ;;
	postgres-kill) stack kill "$STACK_DIR" postgres ;;
	postgres-freeze) stack freeze "$STACK_DIR" postgres ;;
	postmaster-freeze)
		POSTMASTER=$(cat "$STACK_DIR/run/postgres.pid")
		kill -STOP "$POSTMASTER"
		;;
	postgres-wrong-password)
		pg_super -c "ALTER ROLE \"$POSTGRES_USER\" PASSWORD '$WRONG_PW'" >/dev/null
		;;
	postgres-max-connections) start_holder hold-pg ;;
	postgres-read-only)
		pg_super -c "ALTER SYSTEM SET default_transaction_read_only = on" \
			-c "SELECT pg_reload_conf()" >/dev/null
		;;
	pgbouncer-stop) stack stop "$STACK_DIR" pgbouncer ;;
	pgbouncer-kill) stack kill "$STACK_DIR" pgbouncer ;;
	pgbouncer-freeze) stack freeze "$STACK_DIR" pgbouncer ;;
	pgbouncer-pool-full) start_holder hold-pool "$POOL_SIZE" ;;
	pgbouncer-strict) stack pgbouncer-strict "$STACK_DIR" ;;
	redis-stop) stack stop "$STACK_DIR" redis ;;
	redis-kill) stack kill "$STACK_DIR" redis ;;
	redis-freeze) stack freeze "$STACK_DIR" redis ;;
	redis-oom)
		OLD_MAXMEMORY=$(redis_cmd CONFIG GET maxmemory | sed -n 2p)
		redis_cmd CONFIG SET maxmemory 1 >/dev/null
		;;
	redis-misconf) misconf_inject ;;
	redis-readonly)
		redis_cmd CONFIG SET replica-read-only yes >/dev/null
		redis_cmd REPLICAOF 127.0.0.1 "$(free_port)" >/dev/null
		;;
	redis-noreplicas) # no replica: every write gets -NOREPLICAS
		OLD_MINREPLICAS=$(redis_cmd CONFIG GET min-replicas-to-write | sed -n 2p)
		redis_cmd CONFIG SET min-replicas-to-write 1 >/dev/null
		;;
	esac
}

undo() {
	case $1 in
	postgres-stop | postgres-kill) stack start-server "$STACK_DIR" postgres ;;
	postgres-freeze) stack thaw "$STACK_DIR" postgres ;;
	postmaster-freeze)
		kill -CONT "$POSTMASTER"
		POSTMASTER=
		;;
	postgres-wrong-password)
		pg_super -c "ALTER ROLE \"$POSTGRES_USER\" PASSWORD '$POSTGRES_PASSWORD'" >/dev/null
		;;
	postgres-max-connections | pgbouncer-pool-full) release_holder ;;
	postgres-read-only)
		pg_super -c "ALTER SYSTEM RESET default_transaction_read_only" \
			-c "SELECT pg_reload_conf()" >/dev/null
		;;
	pgbouncer-stop | pgbouncer-kill) stack start-server "$STACK_DIR" pgbouncer ;;
	pgbouncer-freeze) stack thaw "$STACK_DIR" pgbouncer ;;
	pgbouncer-strict) stack pgbouncer-default "$STACK_DIR" ;;
	redis-stop | redis-kill) stack start-server "$STACK_DIR" redis ;;
	redis-freeze) stack thaw "$STACK_DIR" redis ;;
	redis-oom)
		redis_cmd CONFIG SET maxmemory "${OLD_MAXMEMORY:-0}" >/dev/null
		OLD_MAXMEMORY=
		;;
	redis-misconf) misconf_undo ;;
	redis-readonly) redis_cmd REPLICAOF NO ONE >/dev/null ;;
	redis-noreplicas)
		redis_cmd CONFIG SET min-replicas-to-write "${OLD_MINREPLICAS:-0}" >/dev/null
		OLD_MINREPLICAS=
		;;
	esac
}

# Faults that rely on PgBouncer's pooled server connections: make sure the
# pool holds some, as a running service's pool does.
needs_warm() {
	case $1 in
	postmaster-freeze | postgres-wrong-password | postgres-max-connections) return 0 ;;
	esac
	return 1
}

# ---------------------------------------------------------------- run

run_cmd setup "${PROBE[@]}" setup
if ((RC != 0)); then
	fail "probe.py setup (the test table, through PgBouncer)" "$OUT" "$ERR"
	exit 1
fi
if ! clients_start; then
	fail "probe.py serve starts" "$(tail -n 20 "$T_ART/clients.err")"
	exit 1
fi
start_readyd "$conf" || exit 1
wait_all_pass 30 || exit 1

mark_base
SETTLE_NOTE="settled (start)"
settle recovered "$(now)" "${STD_CHECKS[@]}"
judge none baseline

for entry in "${FAULTS[@]}"; do
	fault=${entry%%|*}
	case ${entry#*|} in
	pg) watch=("${PG_CHECKS[@]}") ;;
	pgb) watch=(pgbouncer) ;;
	redis) watch=("${REDIS_ALL[@]}") ;;
	esac
	if needs_warm "$fault"; then
		run_cmd "warm-$fault" "${PROBE[@]}" warm 8
		((RC == 0)) || fail "$fault: warm PgBouncer's pool first" "$OUT" "$ERR"
	fi
	echo "# $fault: inject"
	t0=$(now)
	if ! inject "$fault"; then
		fail "$fault: injected"
		undo "$fault"
		continue
	fi
	mark_base
	settle fault "$t0" "${watch[@]}"
	judge "$fault" fault
	echo "# $fault: undo"
	t0=$(now)
	if ! undo "$fault"; then
		fail "$fault: undone"
	fi
	mark_base
	settle recovered "$t0" "${watch[@]}"
	judge "$fault" recovered
done

stop_readyd
clients_stop

# ---------------------------------------------------------------- report

{
	echo
	echo "Agreement table: clients' verdict and readyd's answer per group and for /ready"
	echo "(readyd: shipped config, interval $INTERVAL; clients: ${CLIENT_TIMEOUT}s hard timeout per operation)"
	hdr=$(printf '%-26s %-9s' fault phase)
	for g in "${SVC_GROUPS[@]}" /ready; do hdr+=$(printf ' | %-23s' "$g"); done
	echo "$hdr | settle"
	printf '%s\n' "${ROWS[@]}"
	echo
	if ((${#DISAGREE[@]} == 0)); then
		echo "No disagreement: 0 false green, 0 false red."
	else
		echo "Disagreements (${#DISAGREE[@]}): $(printf '%s\n' "${DISAGREE[@]}" | grep -c 'FALSE GREEN') false green," \
			"$(printf '%s\n' "${DISAGREE[@]}" | grep -c 'FALSE RED') false red," \
			"$(printf '%s\n' "${DISAGREE[@]}" | grep -c 'WRONG ANSWER') wrong answers"
		printf '  %s\n' "${DISAGREE[@]}"
	fi
	echo "t_agree: $N_JUDGED comparisons in $(elapsed "$T_BEGIN") s"
} | tee "$T_ART/table.txt"
