#!/usr/bin/env bash
# Credentials and names the servers refuse: wrong password -> auth
# (postgres, pgbouncer, redis), unknown user -> auth, Redis password
# missing (NOAUTH) -> auth, unknown database -> rejected (postgres,
# pgbouncer). The good checks next to them pass.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

[[ -n $REDIS_PASSWORD ]] || {
	fail "the stack's Redis has a password (needed for NOAUTH/WRONGPASS)"
	exit 1
}
bad_pg=$(new_secret wrongpg)
bad_redis=$(new_secret wrongredis)

conf=$T_CONF/auth.conf
write_config_header "$conf"
cat >>"$conf" <<EOF

[check pg-ok]
kind = postgres
host = \${POSTGRES_HOST}
port = \${POSTGRES_PORT}
dbname = \${POSTGRES_DB}
user = \${POSTGRES_USER}
password = \${POSTGRES_PASSWORD}

[check pg-badpw]
kind = postgres
host = \${POSTGRES_HOST}
port = \${POSTGRES_PORT}
dbname = \${POSTGRES_DB}
user = \${POSTGRES_USER}
password = $bad_pg

[check pg-nouser]
kind = postgres
host = \${POSTGRES_HOST}
port = \${POSTGRES_PORT}
dbname = \${POSTGRES_DB}
user = nobody_here
password = $bad_pg

[check pg-nodb]
kind = postgres
host = \${POSTGRES_HOST}
port = \${POSTGRES_PORT}
dbname = no_such_db
user = \${POSTGRES_USER}
password = \${POSTGRES_PASSWORD}

[check pgb-ok]
kind = pgbouncer
host = \${DB_HOST}
port = \${DB_PORT}
dbname = \${DB_NAME}
user = \${DB_USER}
password = \${DB_PASSWORD}
options = -c statement_timeout=0

[check pgb-badpw]
kind = pgbouncer
host = \${DB_HOST}
port = \${DB_PORT}
dbname = \${DB_NAME}
user = \${DB_USER}
password = $bad_pg
options = -c statement_timeout=0

[check pgb-nodb]
kind = pgbouncer
host = \${DB_HOST}
port = \${DB_PORT}
dbname = no_such_db
user = \${DB_USER}
password = \${DB_PASSWORD}
options = -c statement_timeout=0

[check redis-ok]
kind = redis
host = \${REDIS_HOST}
port = \${REDIS_PORT}
password = \${REDIS_PASSWORD}
db = 2

[check redis-badpw]
kind = redis
host = \${REDIS_HOST}
port = \${REDIS_PORT}
password = $bad_redis
db = 0

[check redis-nopw]
kind = redis
host = \${REDIS_HOST}
port = \${REDIS_PORT}
db = 0

[group good]
checks = pg-ok pgb-ok redis-ok

[group mixed]
checks = pgb-ok redis-badpw
EOF

start_readyd "$conf" || exit 1

for c in pg-ok pgb-ok redis-ok; do
	wait_check "$c" pass "" 15
done
for c in pg-badpw pg-nouser pgb-badpw redis-badpw redis-nopw; do
	wait_check "$c" fail auth 15
done
for c in pg-nodb pgb-nodb; do
	wait_check "$c" fail rejected 15
done

# The error text (loopback client, details = local) says what happened.
out() { field "$1" output; }
assert_contains "$(out pg-badpw)" 28P01 "pg-badpw: output has SQLSTATE 28P01"
assert_contains "$(out pg-nodb)" 3D000 "pg-nodb: output has SQLSTATE 3D000"
assert_contains "$(out pgb-nodb)" "no such database" "pgb-nodb: output says 'no such database'"
assert_contains "$(out pgb-badpw)" "authentication failed" "pgb-badpw: output says authentication failed"
assert_contains "$(out redis-badpw)" WRONGPASS "redis-badpw: output has WRONGPASS"
assert_contains "$(out redis-nopw)" NOAUTH "redis-nopw: output has NOAUTH"

assert_eq "$(http_status "$READYD_URL/ready/good")" 200 "/ready/good (all good checks): 200"
http_req "$READYD_URL/ready/mixed"
assert_eq "$HTTP_STATUS" 503 "/ready/mixed: 503"
assert_match "$(header Retry-After)" '^[0-9]+$' "/ready/mixed: Retry-After"
assert_eq "$(http_status "$READYD_URL/ready")" 503 "/ready: 503"

# The failing checks in no group only warn; redis-badpw (group mixed)
# makes /ready fail.
http_req "$READYD_URL/ready?verbose"
for l in '[!]pg-badpw failed: auth (in no group: warn)' \
	'[!]pgb-badpw failed: auth (in no group: warn)' \
	'[-]redis-badpw failed: auth' '[!]redis-nopw failed: auth (in no group: warn)' \
	'[!]pg-nodb failed: rejected (in no group: warn)' \
	'[!]pgb-nodb failed: rejected (in no group: warn)' '[+]pg-ok ok' 'not ready'; do
	check "grep -qxF -- '$l' <<<\"\$HTTP_BODY\"" "?verbose has '$l'" "$HTTP_BODY"
done

# readyd once agrees with the daemon.
run_cmd once-json "$READYD" once -c "$conf" --json
assert_eq "$RC" 1 "readyd once --json: exit 1 (some fail)"
assert_eq "$(jq -r '.checks["pg-badpw"].reason' <<<"$OUT" 2>/dev/null)" auth "once --json: pg-badpw auth"
assert_eq "$(jq -r '.checks["redis-nopw"].reason' <<<"$OUT" 2>/dev/null)" auth "once --json: redis-nopw auth"
assert_eq "$(jq -r '.checks["pgb-nodb"].reason' <<<"$OUT" 2>/dev/null)" rejected "once --json: pgb-nodb rejected"
assert_eq "$(jq -r '.checks["pg-ok"].status' <<<"$OUT" 2>/dev/null)" pass "once --json: pg-ok pass"

stop_readyd
