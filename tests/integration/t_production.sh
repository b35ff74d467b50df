#!/usr/bin/env bash
# [daemon] profile = production (issue 11):
# 1. A redis check without a password is a configuration error: readyd
#    config and serve exit 78, the message names file, line, key and what
#    is accepted; the built-in config with READYD_PROFILE=production and an
#    empty REDIS_PASSWORD too.
# 2. A Redis whose default user needs no password (requirepass "") while
#    readyd logs in as an ACL user with a password: warn, reason insecure
#    (a second connection's PING without AUTH got PONG); requirepass set
#    again: pass. In development, no such check.
# 3. PostgreSQL trusting host logins (pg_hba.conf `host ... trust`): the
#    postgres check warns, reason insecure (a login without a password over
#    TCP got in); scram-sha-256 again: pass. The pgbouncer check is not
#    asked.
# 4. Frozen servers in production: an attempt whose second connection hangs
#    too times out (reason timeout) and both connections are released
#    (run under ASan by make test-asan); thawed: pass.
# 5. The login without a password gets no answer (a proxy in front of the
#    real PostgreSQL holds the connection that names readyd-insecure-check,
#    like an ident server that never answers) while the check's own login
#    and query succeed: the attempt passes at 3/4 of its timeout instead
#    of timing out, the skip is logged once over several attempts, and
#    each abandoned login is closed.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

ACL_USER=readyd-prod
ACL_PW=$(new_secret aclpw)
HBA=$STACK_DIR/pg/pg_hba.conf
HBA_SAVED=$T_CONF/pg_hba.conf.saved

pgsql() { # SQL as the superuser, over the socket
	timeout 20 setpriv --reuid=postgres --regid=postgres --init-groups -- \
		psql -X -q -w -At -h "$STACK_PG_SOCKET_DIR" -p "$POSTGRES_PORT" \
		-U "$STACK_PG_SUPERUSER" -d postgres -c "$1"
}
# production FILE: [daemon] profile = production in the config FILE.
production() { sed -i 's/^details = local$/details = local\nprofile = production/' "$1"; }
undo() {
	rcli_acl CONFIG SET requirepass "${REDIS_PASSWORD:-}" >/dev/null 2>&1
	rcli ACL DELUSER "$ACL_USER" >/dev/null 2>&1
	if [[ -e $HBA_SAVED ]]; then
		cat "$HBA_SAVED" >"$HBA"
		rm -f "$HBA_SAVED"
		pgsql 'SELECT pg_reload_conf()' >/dev/null 2>&1
	fi
}
on_exit undo

# ------------------------------------------- 1: redis without a password
echo "# profile = production: redis checks without a password"
conf=$T_CONF/prod-nopw.conf
write_std_config "$conf"
production "$conf"
sed -i '/^password = ${REDIS_PASSWORD:-}$/d' "$conf"
pline=$(grep -n '^profile = production$' "$conf" | cut -d: -f1)
cline=$(grep -n '^\[check redis-cache\]$' "$conf" | cut -d: -f1)
run_cmd prod-config "$READYD" config -c "$conf"
assert_eq "$RC" 78 "production, redis without password: readyd config exits 78"
assert_contains "$ERR" "$conf:$cline: [check redis-cache] password: missing, required by profile = production at line $pline (accepted: a non-empty password or password_file)" \
	"production: the error names file, line, key and what is accepted"
assert_eq "$(grep -c 'required by profile = production' <<<"$ERR")" 3 "production: one error per redis check"
run_cmd prod-serve "$READYD" serve -c "$conf" --listen "127.0.0.1:$(free_port)"
assert_eq "$RC" 78 "production, redis without password: readyd serve exits 78"
run_cmd prod-builtin env READYD_PROFILE=production REDIS_PASSWORD= "$READYD" config
assert_eq "$RC" 78 "READYD_PROFILE=production, REDIS_PASSWORD empty: the built-in config is refused (78)"
assert_contains "$ERR" 'password = "${REDIS_PASSWORD:-}": empty, required by profile = production' \
	"built-in config in production: the empty password is named"
run_cmd prod-builtin-ok env READYD_PROFILE=production "$READYD" config
assert_eq "$RC" 0 "READYD_PROFILE=production with REDIS_PASSWORD: valid"
assert_contains "$OUT" "profile = production" "readyd config prints profile = production"

# ------------------------------------ 2: a Redis that answers without one
echo "# production: a Redis that answers without a password"
rcli ACL SETUSER "$ACL_USER" reset on ">$ACL_PW" '~*' '&*' +@all >/dev/null
conf=$T_CONF/prod.conf
write_config_header "$conf"
production "$conf"
cat >>"$conf" <<EOF

[check redis-prod]
kind = redis
host = \${REDIS_HOST}
port = \${REDIS_PORT}
user = $ACL_USER
password = $ACL_PW
db = 0
expect_save = 900 1 300 10 60 10000
EOF
start_readyd "$conf" || exit 1
wait_check redis-prod pass "" 15
assert_eq "$(field redis-prod findings)" null "requirepass set: no insecure finding"
assert_eq "$(rcli CONFIG SET requirepass "")" OK 'CONFIG SET requirepass "" (the default user needs no password)'
assert_eq "$(timeout 5 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" PING)" PONG "PING without AUTH: PONG"
wait_check redis-prod warn insecure 15
assert_contains "$(field redis-prod output)" "PING without a password answered PONG" \
	"insecure: output says an unauthenticated PING was answered"
assert_eq "$(field redis-prod 'findings[0].key')" auth "insecure: finding key auth"
# with drift too: the pipeline's finding first, the insecure one second, in
# every attempt (whichever connection answers first)
OLD_SAVE=$(rcli_acl CONFIG GET save | sed -n 2p)
on_exit "rcli_acl CONFIG SET save '$OLD_SAVE' >/dev/null 2>&1"
assert_eq "$(rcli_acl CONFIG SET save "")" OK 'CONFIG SET save ""'
wait_check redis-prod warn drift 15
order=
for i in 1 2 3 4 5 6; do
	order+="$(http_body "$READYD_URL/ready/redis-prod" | jq -r '.checks["redis-prod"].findings | map(.reason) | join(",")') "
	sleep 0.5
done
assert_eq "$order" "drift,insecure drift,insecure drift,insecure drift,insecure drift,insecure drift,insecure " \
	"drift and insecure: the same order in every attempt"
assert_eq "$(rcli_acl CONFIG SET save "$OLD_SAVE")" OK "save points back"
wait_check redis-prod warn insecure 15
assert_eq "$(http_status "$READYD_URL/ready")" 200 "insecure: /ready stays 200"
assert_eq "$(rcli_acl CONFIG SET requirepass "$REDIS_PASSWORD")" OK "requirepass back"
wait_check redis-prod pass "" 15
stop_readyd

# development (the default): no unauthenticated PING, no insecure finding
sed -i '/^profile = production$/d' "$conf"
rcli_acl CONFIG SET requirepass "" >/dev/null
start_readyd "$conf" || exit 1
wait_check redis-prod pass "" 15
sleep 2
assert_eq "$(field redis-prod status)" pass "development: a Redis without requirepass is no finding"
rcli_acl CONFIG SET requirepass "$REDIS_PASSWORD" >/dev/null
stop_readyd

# ------------------------------------------ 3: PostgreSQL trusting host logins
echo "# production: PostgreSQL lets a TCP login in without a password"
conf=$T_CONF/prod-pg.conf
write_std_config "$conf"
production "$conf"
start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1
assert_eq "$(field postgres findings)" null "scram-sha-256: no insecure finding"
out=$(PGPASSWORD= PGPASSFILE=/dev/null/none PGCONNECT_TIMEOUT=5 timeout 10 psql -X -w -At \
	-h "$POSTGRES_HOST" -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c 'SELECT 1' 2>&1)
assert_contains "$out" "no password supplied" "psql without a password over TCP: refused ($out)"
cp "$HBA" "$HBA_SAVED"
{ echo "host all all 127.0.0.1/32 trust"; cat "$HBA_SAVED"; } >"$HBA"
assert_eq "$(pgsql 'SELECT pg_reload_conf()')" t "pg_hba.conf: host trust, reloaded"
out=$(PGPASSWORD= PGPASSFILE=/dev/null/none PGCONNECT_TIMEOUT=5 timeout 10 psql -X -w -At \
	-h "$POSTGRES_HOST" -p "$POSTGRES_PORT" -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c 'SELECT 1' 2>&1)
assert_eq "$out" 1 "psql without a password over TCP: in"
wait_check postgres warn insecure 15
assert_contains "$(field postgres output)" "a login as $POSTGRES_USER without a password over the network" \
	"insecure: output names the user and says no password"
assert_eq "$(field postgres 'findings[0].key')" auth "insecure: finding key auth"
assert_eq "$(field pgbouncer status)" pass "the pgbouncer check is not asked"
for c in redis-cache redis-channels redis-celery; do
	assert_eq "$(field "$c" status)" pass "$c: requirepass set, pass"
done
assert_eq "$(http_status "$READYD_URL/ready")" 200 "insecure: /ready stays 200"
cat "$HBA_SAVED" >"$HBA"
rm -f "$HBA_SAVED"
assert_eq "$(pgsql 'SELECT pg_reload_conf()')" t "pg_hba.conf: back to scram-sha-256"
wait_check postgres pass "" 15
stop_readyd

# ------------------------------------------------- 4: frozen, in production
echo "# production: a frozen server times out with both connections pending"
on_exit "$STACK thaw $STACK_DIR redis >>$T_ART/stack.log 2>&1; $STACK thaw $STACK_DIR postgres >>$T_ART/stack.log 2>&1"
conf=$T_CONF/prod-frozen.conf
write_std_config "$conf"
production "$conf"
start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1
stack freeze "$STACK_DIR" redis
wait_checks fail timeout 20 "${REDIS_CHECKS[@]}"
stack thaw "$STACK_DIR" redis
wait_checks pass "" 20 "${REDIS_CHECKS[@]}"
stack freeze "$STACK_DIR" postgres
wait_check postgres fail timeout 20
stack thaw "$STACK_DIR" postgres
wait_check postgres pass "" 30
wait_all_pass 30
stop_readyd

# ------------------------- 5: the login without a password gets no answer
echo "# production: the login without a password hangs; the check passes"
PPORT=$(free_port)
PLOG=$T_ART/hold-proxy.log
: >"$PLOG"
python3 "$IT_HERE/delay_proxy.py" "$PLOG" "$PPORT" "$POSTGRES_PORT" 0 "$T_CONF/hold-reset" \
	readyd-insecure-check </dev/null >>"$T_ART/hold-proxy.err" 2>&1 &
HOLD_PID=$!
on_exit "kill $HOLD_PID 2>/dev/null; wait $HOLD_PID 2>/dev/null"
wait_for "grep -q LISTENING '$PLOG'" 10 || { fail "delay_proxy.py listens" "$(cat "$PLOG")"; exit 1; }
conf=$T_CONF/prod-held.conf
write_config_header "$conf"
production "$conf"
cat >>"$conf" <<EOF

[check postgres-held]
kind = postgres
host = 127.0.0.1
port = $PPORT
dbname = \${POSTGRES_DB}
user = \${POSTGRES_USER}
password = \${POSTGRES_PASSWORD}
interval = 5s
timeout = 4s
watch = no
EOF
start_readyd "$conf" || exit 1
wait_check postgres-held pass "" 15 || exit 1
lat=$(field postgres-held latency_ms)
check "fle 2900 $lat && fle $lat 3900" \
	"held login: the attempt passes at 3/4 of its 4 s timeout, not at the deadline (latency_ms $lat)"
wait_for "[[ \$(grep -c '^HELD' '$PLOG') -ge 3 ]]" 30
held=$(grep -c '^HELD' "$PLOG")
check "[[ $held -ge 3 ]]" "held login: three attempts, each login without a password held ($held)"
wait_for "[[ \$(grep -c '^CLOSED' '$PLOG') -ge $held ]]" 10
check "[[ \$(grep -c '^CLOSED' '$PLOG') -ge $held ]]" \
	"held login: readyd closed each abandoned login ($(grep -c '^CLOSED' "$PLOG") of $held)"
assert_eq "$(field postgres-held status)" pass "held login: still pass after $held attempts"
assert_eq "$(field postgres-held consecutive_failures)" 0 "held login: no failed attempt"
fails=$(http_body "$READYD_URL/metrics" | grep '^readyd_check_failures_total{check="postgres-held"' |
	awk '{ s += $NF } END { print s + 0 }')
assert_eq "$fails" 0 "held login: readyd_check_failures_total of the check is 0 (no timeout)"
skips=$(grep -c "check postgres-held: the login as $POSTGRES_USER without a password (127.0.0.1 port $PPORT) had no answer within 3000ms (3/4 of the timeout): its check is skipped, the check passes (logged once)" "$READYD_LOG")
assert_eq "$skips" 1 "held login: the skip is logged once over $held attempts"
assert_eq "$(http_status "$READYD_URL/ready")" 200 "held login: /ready 200"
stop_readyd
