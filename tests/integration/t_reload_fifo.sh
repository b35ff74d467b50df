#!/usr/bin/env bash
# shellcheck disable=SC2016 # ${VAR} for readyd to expand
# Reading files on reload never blocks the loop (issue 8 point 8): the
# configuration file, a password_file and a VAR_FILE replaced by a FIFO
# (with no writer, open() would wait forever) make the reload fail with
# "not a regular file" naming the file, while readyd keeps serving /live
# at once and keeps the old configuration (its checks stay pass).
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

LIMIT=0.5 # seconds, the worst /live

pwfile=$T_CONF/pg.pw
varfile=$T_CONF/pg-var.pw
printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
printf '%s\n' "$POSTGRES_PASSWORD" >"$varfile"
conf=$T_CONF/fifo.conf
write_config_header "$conf"
cat >>"$conf" <<EOF

[check pg-file]
kind = postgres
host = \${POSTGRES_HOST}
port = \${POSTGRES_PORT}
dbname = \${POSTGRES_DB}
user = \${POSTGRES_USER}
password_file = $pwfile

[check pg-var]
kind = postgres
host = \${POSTGRES_HOST}
port = \${POSTGRES_PORT}
dbname = \${POSTGRES_DB}
user = \${POSTGRES_USER}
password = \${READYD_T_PGPW}
EOF
unset READYD_T_PGPW
export READYD_T_PGPW_FILE=$varfile

start_readyd "$conf" || exit 1
wait_all_pass 20 || exit 1

# reload_with_fifo WHAT FILE: replace FILE by a FIFO, SIGHUP, assert
# readyd stays responsive and rejects the reload naming FILE; restore.
reload_with_fifo() {
	local what=$1 file=$2 n0 w
	mv -f "$file" "$file.orig"
	mkfifo -m 600 "$file"
	n0=$(wc -l <"$READYD_LOG")
	kill -HUP "$READYD_PID"
	sleep 0.3
	w=$(worst_time "$READYD_URL/live" 10 0.05)
	check "fle $w $LIMIT" "$what is a FIFO: /live answers during the reload (worst of 10: ${w}s)"
	if wait_for "tail -n +$((n0 + 1)) '$READYD_LOG' | grep -q 'configuration rejected'" 5; then
		ok "$what is a FIFO: the reload is rejected"
	else
		fail "$what is a FIFO: the reload is rejected within 5 s" "$(tail -n 5 "$READYD_LOG")"
	fi
	assert_contains "$(tail -n +$((n0 + 1)) "$READYD_LOG")" "not a regular file" \
		"$what is a FIFO: the error says 'not a regular file'"
	assert_contains "$(tail -n +$((n0 + 1)) "$READYD_LOG")" "$(basename "$file")" \
		"$what is a FIFO: the error names the file"
	assert_eq "$(http_status "$READYD_URL/ready")" 200 "$what is a FIFO: the old configuration keeps serving (/ready 200)"
	assert_eq "$(field pg-file status)/$(field pg-var status)" pass/pass "$what is a FIFO: the checks stay pass"
	rm -f "$file"
	mv -f "$file.orig" "$file"
}

reload_with_fifo password_file "$pwfile"
reload_with_fifo READYD_T_PGPW_FILE "$varfile"
reload_with_fifo "the configuration file" "$conf"

# Regular files again: the reload works.
n0=$(wc -l <"$READYD_LOG")
kill -HUP "$READYD_PID"
if wait_for "tail -n +$((n0 + 1)) '$READYD_LOG' | grep -q 'reload: 2 checks'" 5; then
	ok "regular files again: the reload succeeds"
else
	fail "regular files again: the reload succeeds within 5 s" "$(tail -n 5 "$READYD_LOG")"
fi
assert_eq "$(http_status "$READYD_URL/live")" 200 "after the reloads: /live 200"
stop_readyd
