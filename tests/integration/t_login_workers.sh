#!/usr/bin/env bash
# PostgreSQL login steps on worker threads (docs/design.md, invariant 1):
# the SCRAM logins through PgBouncer run their key derivation there, and
# /metrics says so. An attempt whose deadline passes while its login step
# is on a worker fails as a timeout; its connection is closed when the
# step comes back: no descriptor and no PgBouncer client is left behind.
# The good checks next to such attempts pass, /live answers at once, and
# readyd stops cleanly with steps in flight.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

SHORT=(3 6 9 11 13 15 17 19)
conf=$T_CONF/workers.conf
write_config_header "$conf"
{
	check_section pgbouncer pgb-ok
	check_section postgres postgres
	# Deadlines around a SCRAM login's (PgBouncer derives a key from the
	# plain password in its auth_file, then readyd does: about 8 ms each
	# here): many end while readyd's step is on a worker.
	for ms in "${SHORT[@]}"; do
		check_section pgbouncer "pgb-${ms}ms" "interval = 100ms" \
			"start_interval = 100ms" "timeout = ${ms}ms" "retries = 1" \
			"watch = no"
	done
} >>"$conf"

start_readyd "$conf" || exit 1
wait_check pgb-ok pass "" 15
wait_check postgres pass "" 15

metric() { http_body "$READYD_URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
# readyd's TCP connections to PgBouncer, from the kernel's socket table
pgb_conns() {
	ss -Htnp state established "( dport = :$DB_PORT )" 2>/dev/null |
		grep -c "pid=$READYD_PID,"
}

workers=$(metric readyd_login_workers)
check "[[ -n '$workers' ]] && (( workers >= 1 ))" \
	"readyd_login_workers $workers >= 1"
steps0=$(metric readyd_login_steps_total)

# Attempts cut short, until more steps were abandoned than there are
# checks (at least 5 s, at most 30 s): connections, descriptors and /live
nchecks=$((${#SHORT[@]} + 2))
max_conns=0 max_fds=0 worst_live=0 abandoned=0
fds0=$(find /proc/"$READYD_PID"/fd -mindepth 1 | wc -l)
t0=$(now)
while fle "$(elapsed "$t0")" 30; do
	c=$(pgb_conns)
	((c > max_conns)) && max_conns=$c
	f=$(find /proc/"$READYD_PID"/fd -mindepth 1 2>/dev/null | wc -l)
	((f > max_fds)) && max_fds=$f
	t=$(curl -s -o /dev/null -w '%{time_total}' --max-time 5 "$READYD_URL/live")
	awk -v t="$t" -v w="$worst_live" 'BEGIN { exit !(t > w) }' && worst_live=$t
	abandoned=$(metric readyd_login_steps_abandoned_total)
	((${abandoned:-0} > 2 * nchecks)) && fle 5 "$(elapsed "$t0")" && break
	sleep 0.2
done
secs=$(elapsed "$t0")
steps1=$(metric readyd_login_steps_total)
check "[[ -n '$steps1' ]] && (( steps1 > steps0 + 20 ))" \
	"readyd_login_steps_total grows with the logins ($steps0 -> $steps1)"
check "[[ -n '$abandoned' ]] && (( abandoned >= 1 ))" \
	"readyd_login_steps_abandoned_total $abandoned after $secs s: deadlines passed while a step was on a worker"
# each check: one attempt (plus, for pgb-ok, its watched connection), and
# abandoned ones until their step comes back (a few at a time)
check "(( max_conns <= 2 * nchecks + 4 ))" \
	"connections to PgBouncer stay bounded: at most $max_conns (limit $((2 * nchecks + 4)))"
check "(( max_fds <= fds0 + 2 * nchecks + 4 ))" \
	"descriptors stay bounded: at most $max_fds (from $fds0)"
check "fle '$worst_live' 1" "/live answered within 1 s throughout (worst ${worst_live} s)"

http_req "$READYD_URL/ready/pgb-3ms"
assert_eq "$HTTP_STATUS" 503 "pgb-3ms: 503"
assert_eq "$(field pgb-3ms reason)" timeout "pgb-3ms: reason timeout"
assert_eq "$(field pgb-ok status)" pass "pgb-ok: still pass beside them"
assert_eq "$(field postgres status)" pass "postgres: still pass beside them"

# The abandoned connections are closed: no more connections than checks
# (PgBouncer would keep a client stuck in its login for
# client_login_timeout, 60 s: had readyd left them open, there would be
# one per abandoned step, more than the checks).
check "(( abandoned > nchecks ))" \
	"more abandoned steps ($abandoned) than checks ($nchecks): a leak would show"
c=$(pgb_conns)
check "(( c <= nchecks ))" "then: $c connections to PgBouncer (at most one per check)"

# stopping with steps in flight: exits 0 (and, under ASan, leaks nothing)
stop_readyd
