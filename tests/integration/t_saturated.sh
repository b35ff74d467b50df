#!/usr/bin/env bash
# Saturation: PostgreSQL out of connection slots (53300) -> postgres check
# fails with reason saturated; PgBouncer at max_client_conn -> pgbouncer
# check fails with reason saturated; with watch = no and with the default
# watch = yes. Released, all pass again.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

HOLD=$T_CONF/hold
PIDS=$T_CONF/holder-pids # every psql started, one PID a line
GRAB=$T_CONF/grabbing # the grabber runs while this exists
mkfifo "$HOLD"
exec 3<>"$HOLD" # keeps the sessions' stdin open until release
: >"$PIDS"
GRABBER=

release() {
	local pid i alive
	rm -f "$GRAB"
	[[ -n $GRABBER ]] && wait "$GRABBER" 2>/dev/null
	GRABBER=
	exec 3>&- # the sessions read EOF and leave
	for ((i = 0; i < 50; i++)); do
		alive=
		while read -r pid; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done <"$PIDS"
		[[ -z $alive ]] && break
		sleep 0.1
	done
	while read -r pid; do kill -TERM "$pid" 2>/dev/null; done <"$PIDS"
	: >"$PIDS"
	exec 3<>"$HOLD"
}
on_exit release

# hold PORT N [PGOPTIONS]: N more idle psql sessions as the application
# user (those that cannot log in exit at once).
hold() {
	local port=$1 n=$2 opts=${3:-} i
	for ((i = 0; i < n; i++)); do
		PGPASSWORD=$POSTGRES_PASSWORD PGOPTIONS=$opts PGCONNECT_TIMEOUT=5 \
			psql -X -q -w -h 127.0.0.1 -p "$port" -U "$POSTGRES_USER" \
			-d "$POSTGRES_DB" <"$HOLD" >/dev/null 2>&1 3>&- &
		echo $! >>"$PIDS"
	done
}

# grab PORT [PGOPTIONS]: in the background, try one more session every
# 0.1 s, so that a slot freed by readyd's own probe is taken back at once.
grab() {
	touch "$GRAB"
	(
		while [[ -f $GRAB ]]; do
			hold "$1" 1 "${2:-}"
			sleep 0.1
		done
	) &
	GRABBER=$!
}

# try_login PORT [PGOPTIONS]: prints the error of a fresh login + SELECT 1.
try_login() {
	PGPASSWORD=$POSTGRES_PASSWORD PGOPTIONS=${2:-} PGCONNECT_TIMEOUT=3 timeout 5 \
		psql -X -q -w -At -h 127.0.0.1 -p "$1" -U "$POSTGRES_USER" \
		-d "$POSTGRES_DB" -c 'select 1' 2>&1 3>&-
}

# fill PORT REGEX MAX [PGOPTIONS]: add sessions until a fresh login fails
# with an error matching REGEX. Returns 1 if MAX sessions were not enough.
fill() {
	local port=$1 re=$2 max=$3 opts=${4:-} out n=0
	while ((n < max)); do
		hold "$port" 5 "$opts"
		n=$((n + 5))
		sleep 0.3
		out=$(try_login "$port" "$opts")
		[[ $out =~ $re ]] && return 0
	done
	return 1
}

conf=$T_CONF/std.conf
write_std_config "$conf"
cat >>"$conf" <<'EOF2'

[check pgb-nowatch]
kind = pgbouncer
host = ${DB_HOST}
port = ${DB_PORT}
dbname = ${DB_NAME}
user = ${DB_USER}
password = ${DB_PASSWORD}
options = -c statement_timeout=0
watch = no

[check pg-nowatch]
kind = postgres
host = ${POSTGRES_HOST}
port = ${POSTGRES_PORT}
dbname = ${POSTGRES_DB}
user = ${POSTGRES_USER}
password = ${POSTGRES_PASSWORD}
watch = no
EOF2
start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1

# ---- PostgreSQL: every slot taken (max_connections 50, 3 reserved)
if fill "$POSTGRES_PORT" 'too many clients|remaining connection slots' 80; then
	grab "$POSTGRES_PORT"
	ok "PostgreSQL saturated: $(try_login "$POSTGRES_PORT" | head -n 1)"
	wait_check pg-nowatch fail saturated 15
	# watch = yes (the default) must not make a difference: readyd must
	# not free its own slot right before it tries a new login.
	wait_check postgres fail saturated 15
	assert_contains "$(field postgres output)" 53300 "postgres: output has SQLSTATE 53300"
	assert_eq "$(http_status "$READYD_URL/ready/postgres")" 503 "saturated postgres: /ready/postgres 503"
	# A readyd started now never sees a passing login.
	stop_readyd
	start_readyd "$conf" || exit 1
	wait_check pg-nowatch fail saturated 15
	wait_check postgres fail saturated 15
	release
	wait_check postgres pass "" 15
	wait_check pg-nowatch pass "" 15
else
	fail "PostgreSQL saturated (80 sessions did not fill it)" "$(try_login "$POSTGRES_PORT")"
	release
fi

# ---- PgBouncer: max_client_conn (100) reached
opts='-c statement_timeout=0'
if fill "$DB_PORT" max_client_conn 110 "$opts"; then
	grab "$DB_PORT" "$opts"
	ok "PgBouncer saturated: $(try_login "$DB_PORT" "$opts" | head -n 1)"
	wait_check pgb-nowatch fail saturated 15
	# watch = yes (the default) must not make a difference.
	wait_check pgbouncer fail saturated 15
	assert_contains "$(field pgbouncer output)" max_client_conn "pgbouncer: output names max_client_conn"
	assert_eq "$(field postgres status)" pass "saturated pgbouncer: postgres stays pass"
	assert_eq "$(http_status "$READYD_URL/ready/user-service")" 503 \
		"saturated pgbouncer: /ready/user-service 503"
	release
	wait_check pgbouncer pass "" 15
	wait_check pgb-nowatch pass "" 15
else
	fail "PgBouncer saturated (110 clients did not fill it)" "$(try_login "$DB_PORT" "$opts")"
	release
fi
wait_all_pass 20
stop_readyd
