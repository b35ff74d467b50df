#!/usr/bin/env bash
# Secrets never leave the process: a run with failures of every kind
# (wrong passwords given literally, through password_file and VAR_FILE;
# refused; rejected; wrong admin console passwords in admin_password and
# admin_password_file), every output readyd produces is kept and searched
# for every password the tests used. Also: details = none hides the error
# text, argv holds no secret.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

pw_lit=$(new_secret litpw)
pw_file=$(new_secret filepw)
pw_env=$(new_secret envpw)
pw_redis=$(new_secret redispw)
pw_typo=$(new_secret typopw)
pw_admin=$(new_secret adminpw)
pw_admin_file=$(new_secret adminfilepw)
printf '%s\n' "$pw_admin_file" >"$T_CONF/admin-pw"
printf '%s\n' "$pw_file" >"$T_CONF/pw-file"
printf '%s\n' "$pw_env" >"$T_CONF/pw-env"
export READYD_IT_PGPW_FILE=$T_CONF/pw-env
unset READYD_IT_PGPW
closed=$(free_port)

# A Redis of its own with AUTH renamed away: it answers AUTH with "ERR
# unknown command 'AUTH', with args beginning with: '<password>'".
pw_noauthcmd=$(new_secret noauthcmdpw)
rport=$(free_port)
rdir=$T_CONF/redis-noauthcmd
mkdir -p "$rdir"
printf '%s\n' "bind 127.0.0.1" "port $rport" "dir $rdir" 'save ""' \
	"appendonly no" 'rename-command AUTH ""' >"$rdir/redis.conf"
setsid redis-server "$rdir/redis.conf" </dev/null >"$T_ART/redis-noauthcmd.log" 2>&1 &
rpid=$!
on_exit "kill $rpid 2>/dev/null; wait $rpid 2>/dev/null"
check "wait_for 'redis-cli -p $rport PING 2>/dev/null | grep -q PONG' 10" \
	"a Redis with AUTH renamed away runs (port $rport)"

conf=$T_CONF/secrets.conf
write_std_config "$conf"
cat >>"$conf" <<EOF

[check pg-lit]
kind = postgres
host = \${POSTGRES_HOST}
port = \${POSTGRES_PORT}
dbname = \${POSTGRES_DB}
user = \${POSTGRES_USER}
password = $pw_lit

[check pg-file]
kind = postgres
host = \${POSTGRES_HOST}
port = \${POSTGRES_PORT}
dbname = \${POSTGRES_DB}
user = \${POSTGRES_USER}
password_file = $T_CONF/pw-file

[check pgb-env]
kind = pgbouncer
host = \${DB_HOST}
port = \${DB_PORT}
dbname = \${DB_NAME}
user = \${DB_USER}
password = \${READYD_IT_PGPW}
options = -c statement_timeout=0

[check pgb-nodb]
kind = pgbouncer
host = \${DB_HOST}
port = \${DB_PORT}
dbname = nodb
user = \${DB_USER}
password = \${DB_PASSWORD}
options = -c statement_timeout=0

[check redis-wrong]
kind = redis
host = \${REDIS_HOST}
port = \${REDIS_PORT}
password = $pw_redis
db = 3

[check redis-noauthcmd]
kind = redis
host = 127.0.0.1
port = $rport
password = $pw_noauthcmd
db = 0

[check pg-closed]
kind = postgres
host = 127.0.0.1
port = $closed
dbname = \${POSTGRES_DB}
user = \${POSTGRES_USER}
password = \${POSTGRES_PASSWORD}

[check redis-closed]
kind = redis
host = 127.0.0.1
port = $closed
password = \${REDIS_PASSWORD}
db = 0

[check pgb-admin-lit]
kind = pgbouncer
host = \${DB_HOST}
port = \${DB_PORT}
dbname = \${DB_NAME}
user = \${DB_USER}
password = \${DB_PASSWORD}
admin_user = \${DB_USER}
admin_password = $pw_admin

[check pgb-admin-file]
kind = pgbouncer
host = \${DB_HOST}
port = \${DB_PORT}
dbname = \${DB_NAME}
user = \${DB_USER}
password = \${DB_PASSWORD}
admin_user = \${DB_USER}
admin_password_file = $T_CONF/admin-pw
EOF
failing=(pg-lit pg-file pgb-env pgb-nodb redis-wrong redis-noauthcmd pg-closed
	redis-closed)

start_readyd "$conf" || exit 1
for c in pg-lit pg-file pgb-env redis-wrong; do wait_check "$c" fail auth 15; done
wait_check pgb-nodb fail rejected 15
wait_check pg-closed fail refused 15
wait_check redis-closed fail refused 15
wait_check redis-noauthcmd fail protocol 15
j=$(check_json redis-noauthcmd)
assert_eq "$(jq -r .output <<<"$j")" "AUTH: ERR unknown command 'AUTH'" \
	"redis-noauthcmd: the output stops before the arguments Redis quotes" "$j"
wait_check postgres pass "" 5
# a refused admin console login is skipped (logged once), never a failure
for c in pgb-admin-lit pgb-admin-file; do
	wait_check "$c" pass "" 10
	check "grep -q 'check $c: admin console (user app, database pgbouncer): login refused' '$READYD_LOG'" \
		"$c: the refused admin login is logged" "$(tail -n 5 "$READYD_LOG")"
done

# argv holds nothing secret (the environment does, by design).
cmdline=$(tr '\0' ' ' <"/proc/$READYD_PID/cmdline")
echo "$cmdline" >"$T_ART/cmdline.txt"
check "! grep -qF -f '$IT_SECRETS' '$T_ART/cmdline.txt'" "argv of readyd serve holds no password"

# Every page, every way.
for p in /ready /readyz /ready?verbose /ready/file-service /ready/file-service?verbose \
	/metrics /live /livez /status / /nope /ready/nope; do
	http_body "$READYD_URL$p" >/dev/null
done
for c in "${STD_CHECKS[@]}" "${failing[@]}"; do
	http_body "$READYD_URL/ready/$c" >/dev/null
	http_body "$READYD_URL/ready/$c?verbose" >/dev/null
done
http_req -X POST "$READYD_URL/ready"
http_req -I "$READYD_URL/ready"
sleep 2 # a few more failed attempts in the log
stop_readyd

run_cmd once "$READYD" once -c "$conf"
run_cmd once-json "$READYD" once -c "$conf" --json
run_cmd wait "$READYD" wait -c "$conf" --timeout 1s
run_cmd config "$READYD" config -c "$conf"
assert_eq "$RC" 0 "config of the secrets config: exit 0"
assert_eq "$(grep -c 'password' <<<"$OUT")" "$(grep -c 'password' "$conf")" \
	"config prints a (masked) line for every password key"

# Config errors in a section holding a password, and in the key itself.
bad=$T_CONF/bad.conf
write_std_config "$bad"
printf '\n[check x]\nkind = postgres\nhost = 127.0.0.1\ndbname = d\nuser = u\npassword = %s\nport = 0\n' \
	"$pw_lit" >>"$bad"
run_cmd config-bad-port "$READYD" config -c "$bad"
assert_eq "$RC" 78 "config error next to a password: exit 78"
write_std_config "$bad"
printf '\n[check x]\nkind = postgres\nhost = 127.0.0.1\nport = 1\ndbname = d\nuser = u\npasswrod = %s\n' \
	"$pw_typo" >>"$bad"
run_cmd config-typo "$READYD" config -c "$bad"
assert_eq "$RC" 78 "config with a misspelled password key: exit 78"
run_cmd serve-typo "$READYD" serve -c "$bad" --listen "127.0.0.1:$(free_port)"
assert_eq "$RC" 78 "serve with a misspelled password key: exit 78"
write_std_config "$bad"
printf '\n[check x]\nkind = pgbouncer\nhost = 127.0.0.1\ndbname = d\nuser = u\npassword = p\nadmin_user = a\nadmin_password = %s\nadmin_password_file = %s\n' \
	"$pw_admin" "$T_CONF/admin-pw" >>"$bad"
run_cmd config-admin-both "$READYD" config -c "$bad"
assert_eq "$RC" 78 "config with admin_password and admin_password_file: exit 78"
assert_contains "$ERR" "admin_password_file" "admin_password and admin_password_file: the error names the key"
write_std_config "$bad"
printf '\n[check x]\nkind = pgbouncer\nhost = 127.0.0.1\ndbname = d\nuser = u\npassword = p\nadmin_pasword = %s\n' \
	"$pw_admin" >>"$bad"
run_cmd config-admin-typo "$READYD" config -c "$bad"
assert_eq "$RC" 78 "config with a misspelled admin_password key: exit 78"

# details = none: no error text at all, even for loopback clients.
none=$T_CONF/none.conf
sed 's/^details = local$/details = none/' "$conf" >"$none"
check "grep -qx 'details = none' '$none'" "details = none config written"
start_readyd "$none" || exit 1
wait_check redis-wrong fail auth 15
j=$(check_json redis-wrong)
assert_eq "$(jq -r '.output // "absent"' <<<"$j")" absent "details = none: no output field" "$j"
# asked for by name: its own line (in /ready, in no group, it only warns)
http_req "$READYD_URL/ready/redis-wrong?verbose"
check "grep -qxF '[-]redis-wrong failed: auth' <<<\"\$HTTP_BODY\"" \
	"details = none: ?verbose line is just the reason" "$HTTP_BODY"
check "! grep -q 'WRONGPASS' <<<\"\$HTTP_BODY\"" "details = none: ?verbose has no error text"
stop_readyd

# Passwords from *_FILE only (the postgres/redis image convention): after
# start-up, readyd's environment holds the paths, never a password; its
# argv none either; and readyd starts no child process that could inherit
# anything (it never forks: probes are sockets in its own event loop).
printf '%s\n' "$POSTGRES_PASSWORD" >"$T_CONF/pg-pw"
printf '%s\n' "$REDIS_PASSWORD" >"$T_CONF/redis-pw"
fconf=$T_CONF/file-secrets.conf
write_std_config "$fconf"
READYD_WRAP=(env -u POSTGRES_PASSWORD -u DB_PASSWORD -u REDIS_PASSWORD
	-u READYD_IT_PGPW_FILE POSTGRES_PASSWORD_FILE="$T_CONF/pg-pw"
	DB_PASSWORD_FILE="$T_CONF/pg-pw" REDIS_PASSWORD_FILE="$T_CONF/redis-pw")
start_readyd "$fconf" || exit 1
READYD_WRAP=()
wait_all_pass 15
tr '\0' '\n' <"/proc/$READYD_PID/environ" >"$T_CONF/environ.txt"
check "grep -q '^POSTGRES_PASSWORD_FILE=' '$T_CONF/environ.txt' && ! grep -q '^POSTGRES_PASSWORD=' '$T_CONF/environ.txt'" \
	"*_FILE run: readyd was given only the file paths"
check "! grep -qF -f '$IT_SECRETS' '$T_CONF/environ.txt'" \
	"*_FILE run: /proc/PID/environ of readyd holds no password after start-up"
tr '\0' ' ' <"/proc/$READYD_PID/cmdline" >"$T_ART/cmdline-file.txt"
check "! grep -qF -f '$IT_SECRETS' '$T_ART/cmdline-file.txt'" \
	"*_FILE run: /proc/PID/cmdline of readyd holds no password"
kids=$(cat /proc/"$READYD_PID"/task/*/children 2>/dev/null | tr -d ' \n')
assert_eq "${kids:-none}" none "readyd serve has no child process (nothing inherits its environment)"
for p in /ready?verbose /metrics /ready/file-service?verbose; do
	http_req "$READYD_URL$p"
done
stop_readyd

# Core dumps: a core of readyd would hold every password in clear. With
# core dumps allowed by its parent (RLIMIT_CORE unlimited) and the
# kernel's core_pattern a plain file name, a readyd killed by SIGSEGV must
# leave no core file. A control process (sleep) in the same directory
# shows that a core would be written.
pattern=$(cat /proc/sys/kernel/core_pattern)
if [[ $pattern == \|* || $pattern == */* ]]; then
	# a pipe (systemd-coredump, apport) or an absolute path: the file
	# cannot be looked for here; fall back to the limit readyd runs with.
	core_mode="limit"
else
	core_mode="file"
fi
cdir=$T_CONF/cores
mkdir -p "$cdir"
if [[ $core_mode == file ]]; then
	(cd "$cdir" && exec prlimit --core=unlimited:unlimited sleep 30) &
	cpid=$!
	sleep 0.3
	kill -SEGV "$cpid"
	wait "$cpid" 2>/dev/null
	if wait_for "[[ -n \$(find '$cdir' -type f -name 'core*') ]]" 5; then
		ok "core dumps: control process (sleep, RLIMIT_CORE unlimited) leaves a core (core_pattern '$pattern')"
	else
		core_mode="limit"
		echo "# core dumps: the control left no core (core_pattern '$pattern'): checking the limit only"
	fi
	rm -f "$cdir"/core*
fi
# shellcheck disable=SC2016 # $1 and $@ are for sh -c
# (an ASan build would catch the SIGSEGV itself and print a report: let
# the kernel have it, as it does for a plain build)
READYD_WRAP=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
	sh -c 'cd "$1" && shift && exec prlimit --core=unlimited:unlimited "$@"' sh "$cdir")
start_readyd "$conf" || exit 1
READYD_WRAP=()
wait_check postgres pass "" 10
core_limit=$(awk '/^Max core file size/ { print $5 }' "/proc/$READYD_PID/limits")
echo "# core dumps: readyd started with RLIMIT_CORE unlimited runs with soft limit '$core_limit'"
kill -SEGV "$READYD_PID"
wait "$READYD_PID" 2>/dev/null
READYD_PID=
if [[ $core_mode == file ]]; then
	sleep 1
	cores=$(find "$cdir" -type f -name 'core*' -printf '%f (%s bytes) ')
	leaked=$(find "$cdir" -type f -name 'core*' -exec grep -laF -f "$IT_SECRETS" {} + | wc -l)
	[[ -n $cores ]] && cores+="; holding a password in clear: $leaked of them"
	check "[[ -z '$cores' ]]" "core dumps: readyd killed by SIGSEGV leaves no core (its memory holds the passwords)" \
		"found: $cores" "readyd keeps the RLIMIT_CORE it inherits (soft: $core_limit) and stays dumpable:" \
		"setrlimit(RLIMIT_CORE, 0) or prctl(PR_SET_DUMPABLE, 0) at start-up would prevent it"
	rm -f "$cdir"/core*
else
	check "[[ '$core_limit' == 0 ]]" "core dumps: readyd runs with RLIMIT_CORE 0 even when its parent allows cores (got '$core_limit')"
fi

# Now search everything produced so far, by this and the earlier tests.
n=$(find "$IT_ARTIFACTS" -type f | wc -l)
while read -r s; do
	[[ -n $s ]] || continue
	hits=$(grep -rlF -- "$s" "$IT_ARTIFACTS" 2>/dev/null | sed "s|$IT_ARTIFACTS/||" | head -n 5)
	check "[[ -z '$hits' ]]" "password ${s:0:6}... appears in none of $n outputs" "found in: $hits"
done <"$IT_SECRETS"
