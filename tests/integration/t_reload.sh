#!/usr/bin/env bash
# SIGHUP reload (README: Command line -> Signals; issue 3 item 3).
# A valid new configuration adds a check, removes one, changes one and
# keeps one unchanged: the added check appears, the removed one is gone
# (JSON, /ready/NAME, /metrics), the unchanged one keeps its `since` and
# counters, the changed one starts afresh. An invalid configuration
# (unknown key) is rejected with the same error text `readyd config -c`
# prints, the old configuration keeps serving, and readyd still exits 0 on
# SIGTERM.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

conf=$T_CONF/reload.conf # the file readyd serves; rewritten in place

conf_header() { # the [daemon] and [defaults] of every version
	cat <<'EOF'
# written by tests/integration (t_reload)
[daemon]
details = local

[defaults]
interval = 2s
timeout = 1s
retries = 2
start_interval = 1s
fast_interval = 200ms
EOF
}
redis_check() { # NAME DB
	cat <<EOF

[check $1]
kind = redis
host = \${REDIS_HOST}
port = \${REDIS_PORT}
password = \${REDIS_PASSWORD:-}
db = $2
EOF
}
pg_check() { # NAME KIND PREFIX (POSTGRES or DB)
	cat <<EOF

[check $1]
kind = $2
host = \${$3_HOST}
port = \${$3_PORT}
dbname = \${$3_$([[ $3 == DB ]] && echo NAME || echo DB)}
user = \${$3_USER}
password = \${$3_PASSWORD}
EOF
}

# metric NAME CHECK: the value of NAME{check="CHECK",...} in /metrics
# (empty when absent).
metric() {
	http_body "$READYD_URL/metrics" |
		awk -v p="$1{check=\"$2\"," 'index($0, p) == 1 { print $NF; exit }'
}

# Version A: redis-cache (kept), redis-x on db 1 (changed later), postgres
# (removed later).
{
	conf_header
	redis_check redis-cache 0
	redis_check redis-x 1
	pg_check postgres postgres POSTGRES
	printf '\n[group grp]\nchecks = redis-cache postgres\n'
} >"$conf"
run_cmd config-a "$READYD" config -c "$conf"
assert_eq "$RC" 0 "version A is valid (readyd config exits 0)" "$ERR"

start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1

# Give redis-cache and redis-x a history (pass -> fail -> pass), so that a
# reset (transitions back to 0 or 1) cannot pass for "kept".
echo "# stopping redis for a while"
stack stop "$STACK_DIR" redis
wait_check redis-cache fail "" 10
wait_check redis-x fail "" 10
stack start-server "$STACK_DIR" redis
wait_check redis-cache pass "" 15
wait_check redis-x pass "" 15
sleep 1.2 # a reset check would get a later `since` (1 s resolution)

since_keep=$(field redis-cache since)
tr_keep=$(metric readyd_check_transitions_total redis-cache)
n_keep=$(metric readyd_check_duration_seconds_count redis-cache)
fail_keep=$(http_body "$READYD_URL/metrics" |
	awk 'index($0, "readyd_check_failures_total{check=\"redis-cache\",") == 1 { s += $NF } END { print s + 0 }')
tr_x=$(metric readyd_check_transitions_total redis-x)
echo "# before reload: redis-cache since=$since_keep transitions=$tr_keep attempts=$n_keep failures=$fail_keep; redis-x transitions=$tr_x"
check "[[ '$tr_keep' =~ ^[0-9]+$ ]] && ((tr_keep >= 3))" \
	"before reload: redis-cache has transitions_total >= 3 ($tr_keep)"
check "[[ '$fail_keep' =~ ^[0-9]+$ ]] && ((fail_keep >= 2))" \
	"before reload: redis-cache has failures_total >= 2 ($fail_keep)"

# Version B: redis-cache unchanged, redis-x moves to db 2, postgres goes,
# pgbouncer comes.
{
	conf_header
	redis_check redis-cache 0
	redis_check redis-x 2
	pg_check pgbouncer pgbouncer DB
	printf 'options = -c statement_timeout=0\n'
	printf '\n[group grp]\nchecks = redis-cache pgbouncer\n'
} >"$conf.new"
mv -f "$conf.new" "$conf"
run_cmd config-b "$READYD" config -c "$conf"
assert_eq "$RC" 0 "version B is valid (readyd config exits 0)" "$ERR"

kill -HUP "$READYD_PID"
t0=$(now)
if wait_for "[[ \$(field pgbouncer kind) == pgbouncer ]]" 10; then
	ok "SIGHUP: the added check (pgbouncer) appears in /ready after $(elapsed "$t0") s"
else
	fail "SIGHUP: the added check (pgbouncer) appears in /ready within 10 s" \
		"$(ready_json)" "$(tail -n 5 "$READYD_LOG")"
fi
j=$(ready_json)
assert_eq "$(jq -r '.checks | has("postgres")' <<<"$j")" false "SIGHUP: the removed check (postgres) is gone from /ready" "$j"
assert_eq "$(jq -r '.checks | keys | join(" ")' <<<"$j")" "pgbouncer redis-cache redis-x" \
	"SIGHUP: /ready lists exactly the new checks"
assert_eq "$(http_status "$READYD_URL/ready/postgres")" 404 "SIGHUP: /ready/postgres now 404"
m=$(http_body "$READYD_URL/metrics")
assert_not_contains "$m" 'check="postgres"' "SIGHUP: /metrics no longer has the removed check"
assert_contains "$m" 'readyd_check_up{check="pgbouncer",' "SIGHUP: /metrics has the added check"

# The unchanged check kept its state.
j=$(check_json redis-cache)
assert_eq "$(jq -r .status <<<"$j")" pass "unchanged check: still pass" "$j"
assert_eq "$(jq -r .since <<<"$j")" "$since_keep" "unchanged check: since kept ($since_keep)"
assert_eq "$(metric readyd_check_transitions_total redis-cache)" "$tr_keep" \
	"unchanged check: readyd_check_transitions_total kept ($tr_keep)"
f=$(http_body "$READYD_URL/metrics" |
	awk 'index($0, "readyd_check_failures_total{check=\"redis-cache\",") == 1 { s += $NF } END { print s + 0 }')
assert_eq "$f" "$fail_keep" "unchanged check: readyd_check_failures_total kept ($fail_keep)"
n=$(metric readyd_check_duration_seconds_count redis-cache)
check "[[ '$n' =~ ^[0-9]+$ ]] && ((n >= n_keep))" \
	"unchanged check: attempt count kept (histogram _count $n >= $n_keep)"

# The changed check (db 1 -> 2) starts afresh.
wait_check redis-x pass "" 10
assert_match "$(field redis-x target)" '/2$' "changed check: probes db 2 now"
tx=$(metric readyd_check_transitions_total redis-x)
check "[[ '$tx' =~ ^[0-9]+$ ]] && ((tx <= 1 && tx < tr_x))" \
	"changed check: state reset (transitions_total $tx, was $tr_x)"

wait_check pgbouncer pass "" 15
assert_eq "$(http_status "$READYD_URL/ready/grp")" 200 "SIGHUP: group grp (redis-cache pgbouncer) 200"
assert_eq "$(http_status "$READYD_URL/ready")" 200 "SIGHUP: /ready 200"
assert_eq "$(http_status "$READYD_URL/live")" 200 "SIGHUP: /live 200"

# ------------------------------------------------ an invalid configuration
cp -f "$conf" "$T_CONF/reload-b.conf"
{
	conf_header
	redis_check redis-cache 0
	printf 'tiemout = 1s\n' # unknown key: did you mean "timeout"?
	redis_check redis-x 2
	pg_check pgbouncer pgbouncer DB
	printf 'options = -c statement_timeout=0\n'
	redis_check bogus 3
	printf '\n[group grp]\nchecks = redis-cache pgbouncer\n'
} >"$conf.new"
mv -f "$conf.new" "$conf"
run_cmd config-bad "$READYD" config -c "$conf"
assert_eq "$RC" 78 "invalid config: readyd config exits 78"
assert_contains "$ERR" "tiemout" "invalid config: readyd config names the unknown key"
mapfile -t errs < <(grep -v '^[[:space:]]*$' <<<"$ERR" | sed 's/^readyd: //')
check "((\${#errs[@]} >= 1))" "invalid config: readyd config printed an error line"

lines_before=$(wc -l <"$READYD_LOG")
kill -HUP "$READYD_PID"
for e in "${errs[@]}"; do
	if wait_for "tail -n +$((lines_before + 1)) '$READYD_LOG' | grep -qF -- \"\$e\"" 5; then
		ok "invalid reload: the log has the same error as readyd config: $e"
	else
		fail "invalid reload: the log has the same error as readyd config: $e" \
			"$(tail -n +$((lines_before + 1)) "$READYD_LOG")"
	fi
done
sleep 1 # a wrongly applied configuration would show by now
j=$(ready_json)
assert_eq "$(jq -r '.checks | keys | join(" ")' <<<"$j")" "pgbouncer redis-cache redis-x" \
	"invalid reload: the old checks keep serving (no 'bogus')" "$j"
assert_eq "$(jq -r '.checks["redis-cache"].since' <<<"$j")" "$since_keep" \
	"invalid reload: redis-cache still keeps its since"
assert_eq "$(http_status "$READYD_URL/ready")" 200 "invalid reload: /ready still 200"
assert_eq "$(http_status "$READYD_URL/ready/grp")" 200 "invalid reload: /ready/grp still 200"
assert_eq "$(http_status "$READYD_URL/ready/bogus")" 404 "invalid reload: /ready/bogus 404"
# Still probing: the last_check of the old checks moves on.
lc=$(field redis-x last_check)
if wait_for "[[ \$(field redis-x last_check) != '$lc' ]]" 5; then
	ok "invalid reload: the old checks are still probed"
else
	fail "invalid reload: the old checks are still probed (last_check moves)" "$(check_json redis-x)"
fi
check "kill -0 $READYD_PID" "invalid reload: readyd still running"

stop_readyd

# A SIGHUP that arrives while readyd still loads its configuration (here:
# the file is a FIFO nobody has written yet, which start-up may read)
# neither kills it nor is lost: it reloads once the loop runs.
fifo=$T_ART/hup.fifo
mkfifo "$fifo"
hport=$(free_port)
cat >"$T_CONF/hup.conf" <<EOF2
[daemon]
listen = 127.0.0.1:$hport
[check closed]
kind = redis
host = 127.0.0.1
port = $(free_port)
EOF2
"$READYD" serve -c "$fifo" >"$T_ART/hup.log" 2>&1 </dev/null &
hpid=$!
echo "$hpid" >>"$IT_WORK/pids"
sleep 0.3 # readyd is blocked opening the FIFO
kill -HUP "$hpid"
sleep 0.2
# Start-up reads the FIFO (before the loop runs, a pipe is fine: -c
# <(...)); the reload, on the loop, takes regular files only: a regular
# copy replaces the FIFO before readyd sees the end of the FIFO's text.
cp "$T_CONF/hup.conf" "$T_CONF/hup.conf.reg"
timeout 5 python3 -c '
import os, sys
conf, fifo, reg = sys.argv[1:4]
with open(fifo, "w") as f:
    f.write(open(conf).read())
    f.flush()
    os.rename(reg, fifo)
' "$T_CONF/hup.conf" "$fifo" "$T_CONF/hup.conf.reg"
if wait_for "grep -q 'reload: 1 checks' '$T_ART/hup.log'" 5; then
	ok "SIGHUP during start-up: reloaded once the loop ran"
else
	fail "SIGHUP during start-up: reloaded once the loop ran" "$(cat "$T_ART/hup.log")"
fi
check "kill -0 $hpid" "SIGHUP during start-up: readyd still running" "$(cat "$T_ART/hup.log")"
assert_eq "$(http_status "http://127.0.0.1:$hport/live")" 200 "SIGHUP during start-up: /live 200"
kill -TERM "$hpid"
wait "$hpid"
assert_eq "$?" 0 "SIGHUP during start-up: exits 0 on SIGTERM"
