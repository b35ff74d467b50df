#!/usr/bin/env bash
# stack.sh: a throwaway PostgreSQL + PgBouncer + Redis stack on loopback,
# for `make run` and the integration tests.
#
#   stack.sh start DIR [--redis-password PW]   start all three on free ports
#   stack.sh stop DIR [SERVER]                 graceful stop (all, or one)
#   stack.sh start-server DIR SERVER           start one again, same port
#   stack.sh kill DIR SERVER                   SIGKILL, wait until gone
#   stack.sh freeze DIR SERVER                 SIGSTOP (postgres: with children)
#   stack.sh thaw DIR SERVER                   SIGCONT
#   stack.sh pgbouncer-strict DIR              restart pgbouncer without
#                                              `options` in ignore_startup_parameters
#   stack.sh pgbouncer-default DIR             and back
#   stack.sh pgbouncer-set DIR [KEY=VALUE...]   restart pgbouncer with these
#                                              [pgbouncer] settings changed
#                                              (none: as shipped)
#   stack.sh redis-databases DIR N             restart redis with `databases N`
#   stack.sh restore DIR                       back to the state `start` left:
#                                              all running, thawed, defaults
#   stack.sh status DIR                        one line per server
#   stack.sh wait DIR [SERVER]                 wait until serving
#   stack.sh free-port                         print a free loopback TCP port
#
# SERVER is postgres, pgbouncer or redis. `start` writes DIR/env: shell
# `export` lines with POSTGRES_*, DB_*, REDIS_* for readyd's default config,
# and STACK_* for scripts. DIR must be new, empty or a previous stack.
# Servers run in their own session with stdio on log files in DIR and no
# inherited descriptors; PostgreSQL and PgBouncer run as user postgres.
# PgBouncer and Redis run from config/pgbouncer.ini and config/redis.conf
# as shipped, with only listen address, ports, paths and the test variants
# above rewritten (a setting the rewrite expects but does not find fails
# `start`). The admin console takes the first shipped admin_users with
# POSTGRES_PASSWORD, and DB_USER. STACK_CONFIG_DIR overrides config/.
set -euo pipefail

PG_BIN=${PG_BIN:-}
if [[ -z $PG_BIN ]]; then
	for d in /usr/lib/postgresql/*/bin; do
		[[ -x $d/postgres ]] && PG_BIN=$d
	done
fi
PG_USER=postgres # OS user for postgres and pgbouncer
APP_USER=app
APP_DB=hdms_db
WAIT_SECS=${STACK_WAIT_SECS:-30}
SERVERS=(postgres pgbouncer redis)
# The shipped configuration PgBouncer and Redis run from.
SHIPPED_DIR=${STACK_CONFIG_DIR:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)/config}

die() {
	echo "stack.sh: $*" >&2
	exit 1
}
note() { echo "stack.sh: $*" >&2; }

# ---------------------------------------------------------------- processes

# The fields of /proc/PID/stat after "(comm)": state ppid pgrp ...
proc_fields() {
	local line
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	echo "${line##*) }"
}

# True while PID exists and is not a zombie (PID 1 reaps lazily here).
pid_alive() {
	local f
	[[ -n ${1:-} ]] || return 1
	f=$(proc_fields "$1") || return 1
	[[ ${f%% *} != Z && ${f%% *} != X ]]
}

# PID and its descendants (one per line), non-zombies only. PostgreSQL's
# children call setsid(), so a process group does not reach them.
proc_tree() {
	local f line rest pid st ppid
	local -A kids=()
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue
		pid=${line%% *}
		rest=${line##*) }
		read -r st ppid _ <<<"$rest"
		[[ $st == Z || $st == X ]] && continue
		kids[$ppid]+="$pid "
	done
	local queue=("$1") out=() p
	pid_alive "$1" || return 0
	while ((${#queue[@]})); do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		out+=("$p")
		# shellcheck disable=SC2206
		queue+=(${kids[$p]:-})
	done
	printf '%s\n' "${out[@]}"
}

# True while any of the PIDs given is alive (not a zombie).
any_alive() {
	local p
	for p in "$@"; do
		pid_alive "$p" && return 0
	done
	return 1
}

comm_of() {
	local c
	{ read -r c <"/proc/$1/comm"; } 2>/dev/null || return 1
	echo "$c"
}

server_comm() {
	case $1 in
	postgres) echo postgres ;;
	pgbouncer) echo pgbouncer ;;
	redis) echo redis-server ;;
	esac
}

# The recorded PID of SERVER if that process is alive and is ours (the
# leader of its own process group, with the expected command name).
server_pid() {
	local srv=$1 pid f
	pid=$(cat "$DIR/run/$srv.pid" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	pid_alive "$pid" || return 1
	[[ $(comm_of "$pid") == "$(server_comm "$srv")"* ]] || return 1
	f=$(proc_fields "$pid") || return 1
	# shellcheck disable=SC2086
	set -- $f
	[[ $3 == "$pid" ]] || return 1 # our session leader
	echo "$pid"
}

server_frozen() {
	local pid f
	pid=$(server_pid "$1") || return 1
	f=$(proc_fields "$pid") || return 1
	[[ ${f%% *} == T ]]
}

# spawn LOG CMD...: run CMD detached (new session, stdin /dev/null, stdout
# and stderr appended to LOG, every other descriptor closed), cwd DIR.
# Sets SPAWN_PID.
spawn() {
	local log=$1
	shift
	(
		cd "$DIR"
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			[[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)) &&
				eval "exec $fd>&-" 2>/dev/null
		done
		exec setsid "$@" </dev/null >>"$log" 2>&1
	) &
	SPAWN_PID=$!
	disown "$SPAWN_PID" 2>/dev/null || true
}

as_pg() {
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME="$DIR" \
		setpriv --reuid="$PG_USER" --regid="$PG_USER" --init-groups -- "$@"
}

# wait_gone SECS PID...: until none of PIDs is alive.
wait_gone() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		any_alive "$@" || return 0
		sleep 0.1
	done
	return 1
}

# Remove pid/lock files a killed server leaves behind (the process is gone
# or a zombie, but PostgreSQL and PgBouncer would take it as alive).
clean_stale() {
	case $1 in
	postgres)
		rm -f "$DIR/pg/postmaster.pid" "$DIR/.s.PGSQL.$POSTGRES_PORT.lock" \
			"$DIR/.s.PGSQL.$POSTGRES_PORT"
		;;
	pgbouncer) rm -f "$DIR/pgbouncer.pid" ;;
	redis) rm -f "$DIR/redis.pid" ;;
	esac
	rm -f "$DIR/run/$1.pid"
}

# ---------------------------------------------------------------- ports

used_ports() {
	if command -v ss >/dev/null 2>&1; then
		ss -Htan 2>/dev/null | awk '{ sub(/.*:/, "", $4); print $4 }'
		return 0
	fi
	# /proc/net/tcp: local_address is HEXIP:HEXPORT (awk reads in blocks;
	# bash's read goes byte by byte on /proc files).
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '
		function hex(h,   i, n) {
			n = 0
			for (i = 1; i <= length(h); i++)
				n = n * 16 + index("0123456789ABCDEF", toupper(substr(h, i, 1))) - 1
			return n
		}
		NR > 0 && $2 ~ /:[0-9A-Fa-f]+$/ { sub(/.*:/, "", $2); print hex($2) }'
	return 0
}

TAKEN=" "
# A TCP port on 127.0.0.1 that no socket uses, outside the ephemeral range
# (so outgoing connections cannot take it meanwhile). The start of each
# server retries on "address in use" as well.
free_port() {
	local used p i
	used=" $(used_ports | sort -un | tr '\n' ' ') "
	for ((i = 0; i < 500; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		[[ $used == *" $p "* || $TAKEN == *" $p "* ]] && continue
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			continue
		fi
		TAKEN+="$p "
		echo "$p"
		return 0
	done
	die "no free port found"
}

# ---------------------------------------------------------------- shipped files

# PgBouncer and Redis run from the shipped config/pgbouncer.ini and
# config/redis.conf, with only what a loopback test machine needs
# rewritten (see write_pgbouncer_conf, write_redis_conf), so the tests run
# what ships.
shipped_file() {
	local f=$SHIPPED_DIR/$1
	[[ -r $f ]] || die "$f: missing (the shipped configuration the stack runs)"
	echo "$f"
}

# The awk part of conf_get and conf_rewrite. STYLE ini ("key = value" in
# [sections], PgBouncer; keys are "section.key") or redis ("key value");
# SPECS are KEY (get) or KEY VALUE pairs (rewrite). Lines starting with ;
# or # are comments. Every KEY must be set on exactly one line, else it
# names the KEYs and exits 1.
# shellcheck disable=SC2016 # awk, not shell
CONF_AWK='
function key_of(line,   k) {
	if (line ~ /^[ \t]*([;#]|$)/)
		return ""
	if (style == "ini") {
		if (line ~ /^[ \t]*\[/) {
			sect = line
			sub(/^[ \t]*\[[ \t]*/, "", sect)
			sub(/[ \t]*\].*$/, "", sect)
			return ""
		}
		if (line !~ /=/)
			return ""
		k = line
		sub(/^[ \t]+/, "", k)
		sub(/[ \t]*=.*$/, "", k)
		return sect "." k
	}
	k = line
	sub(/^[ \t]+/, "", k)
	sub(/[ \t].*$/, "", k)
	return tolower(k)
}
function value_of(line) {
	if (style == "ini")
		sub(/^[^=]*=[ \t]*/, "", line)
	else
		sub(/^[ \t]*[^ \t]+[ \t]*/, "", line)
	sub(/[ \t\r]+$/, "", line)
	return line
}
BEGIN {
	n = 0
	step = (mode == "get") ? 1 : 2
	for (i = 2; i < ARGC; i += step) {
		n++
		key[n] = ARGV[i]
		want[ARGV[i]] = 1
		if (mode != "get")
			repl[ARGV[i]] = ARGV[i + 1]
		seen[ARGV[i]] = 0
	}
	for (i = 2; i < ARGC; i++)
		delete ARGV[i]
	ARGC = 2
	sect = ""
}
{
	k = key_of($0)
	if (k == "" || !(k in want)) {
		if (mode != "get")
			print
		next
	}
	seen[k]++
	if (mode == "get") {
		got[k] = value_of($0)
		next
	}
	name = k
	sub(/^[^.]*\./, "", name) # the section is not part of the line
	print name (style == "ini" ? " = " : " ") repl[k]
}
END {
	bad = 0
	for (i = 1; i <= n; i++) {
		if (seen[key[i]] != 1) {
			what = key[i]
			if (style == "ini") {
				s = what
				sub(/\..*$/, "", s)
				sub(/^[^.]*\./, "", what)
				what = "\"" what " = ...\" line in [" s "]"
			} else
				what = "\"" what " ...\" line"
			printf "stack.sh: %s: expected exactly one %s, found %d\n",
				src, what, seen[key[i]] > "/dev/stderr"
			bad = 1
		}
	}
	if (bad)
		exit 1
	if (mode == "get")
		for (i = 1; i <= n; i++)
			print got[key[i]]
}'

# conf_get STYLE FILE KEY: the value of KEY (set exactly once) in FILE.
conf_get() {
	local style=$1 src=$2 out
	shift 2
	out=$(awk -v mode=get -v style="$style" -v src="$src" "$CONF_AWK" \
		"$src" "$@") || die "$src: a setting the stack relies on is missing or repeated"
	echo "$out"
}

# conf_rewrite STYLE SRC DST KEY VALUE...: DST is SRC with the value of
# each KEY replaced and every other line verbatim. A KEY not set exactly
# once in SRC fails loudly: a renamed or removed setting breaks the stack
# rather than letting the tests silently diverge from what ships.
conf_rewrite() {
	local style=$1 src=$2 dst=$3
	shift 3
	awk -v mode=rewrite -v style="$style" -v src="$src" "$CONF_AWK" \
		"$src" "$@" >"$dst.tmp" || {
		rm -f "$dst.tmp"
		die "$src: cannot rewrite it for the test stack (see above)"
	}
	mv "$dst.tmp" "$dst"
}

# The shipped value of Redis' `databases` (what `restore` returns to).
shipped_redis_databases() {
	local n
	n=$(conf_get redis "$(shipped_file redis.conf)" databases)
	[[ $n =~ ^[0-9]+$ ]] || die "config/redis.conf: databases '$n' is not a number"
	echo "$n"
}

# The PgBouncer admin console user: the first of the shipped admin_users.
pgb_admin_user() {
	local u
	u=$(conf_get ini "$(shipped_file pgbouncer.ini)" pgbouncer.admin_users)
	u=${u%%,*}
	u=${u//[[:space:]]/}
	[[ -n $u ]] || die "config/pgbouncer.ini: admin_users is empty"
	echo "$u"
}

# ---------------------------------------------------------------- config

load_env() {
	[[ -f $DIR/env ]] || die "$DIR: no stack here (no env file)"
	# shellcheck disable=SC1091
	source "$DIR/env"
	PGB_ADMIN=
	PGB_SET=
	# shellcheck disable=SC1091
	source "$DIR/run/state"
	# (a stack started before the state recorded it: the application user)
	PGB_ADMIN=${PGB_ADMIN:-$APP_USER}
}

save_state() {
	{
		echo "PGB_MODE=$PGB_MODE"
		echo "REDIS_DATABASES=$REDIS_DATABASES"
		printf 'PGB_ADMIN=%q\n' "$PGB_ADMIN" # admin console user
		printf 'PGB_SET=%q\n' "${PGB_SET:-}" # pgbouncer-set KEY=VALUE...
	} >"$DIR/run/state"
}

write_env() {
	local f=$DIR/env.tmp
	{
		echo "# generated by tests/stack/stack.sh; source it"
		printf "export %s='%s'\n" \
			STACK_DIR "$DIR" \
			STACK_PG_BIN "$PG_BIN" \
			STACK_PG_SOCKET_DIR "$DIR" \
			STACK_PG_SUPERUSER postgres \
			POSTGRES_HOST 127.0.0.1 \
			POSTGRES_PORT "$POSTGRES_PORT" \
			POSTGRES_DB "$APP_DB" \
			POSTGRES_USER "$APP_USER" \
			POSTGRES_PASSWORD "$POSTGRES_PASSWORD" \
			PG_MAJOR "$(pg_major)" \
			DB_HOST 127.0.0.1 \
			DB_PORT "$DB_PORT" \
			DB_NAME "$APP_DB" \
			DB_USER "$APP_USER" \
			DB_PASSWORD "$POSTGRES_PASSWORD" \
			REDIS_HOST 127.0.0.1 \
			REDIS_PORT "$REDIS_PORT" \
			REDIS_PASSWORD "$REDIS_PASSWORD"
	} >"$f"
	mv "$f" "$DIR/env"
}

# The major version of the stack's PostgreSQL (what readyd's default
# config expects through PG_MAJOR: Debian 12 has 15, the data model 16).
pg_major() {
	local v
	v=$("$PG_BIN/postgres" --version) || die "cannot run $PG_BIN/postgres --version"
	v=${v##* }
	echo "${v%%.*}"
}

write_pg_conf() {
	local conf=$DIR/pg/postgresql.conf
	sed -i '/^# readyd-stack begin/,$d' "$conf"
	cat >>"$conf" <<EOF
# readyd-stack begin
listen_addresses = '127.0.0.1'
port = $POSTGRES_PORT
unix_socket_directories = '$DIR'
max_connections = 50
superuser_reserved_connections = 3
shared_buffers = 16MB
fsync = off
synchronous_commit = off
full_page_writes = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

# PgBouncer: config/pgbouncer.ini with only the loopback test machine's
# differences rewritten:
#   [databases] APP_DB   host= and port= of this stack's PostgreSQL
#                        (dbname= and anything else on the line as shipped)
#   listen_addr          127.0.0.1 (shipped: *, every interface)
#   listen_port          a free port (shipped: 6432)
#   auth_file            DIR/userlist.txt (shipped: /etc/pgbouncer/...)
#   admin_users          the shipped list plus the application user, whose
#                        credentials (DB_USER/DB_PASSWORD in DIR/env) tests
#                        use on the admin console (SHOW POOLS)
#   ignore_startup_parameters   only in pgbouncer-strict mode: the shipped
#                        list without `options` (a deliberate test variant)
# Everything else is as shipped: pool_mode, default_pool_size,
# max_client_conn, auth_type, server_login_retry, the startup parameters,
# unix_socket_dir (empty: TCP only) and logfile/pidfile (empty: log to
# stderr, which goes to DIR/pgbouncer.log; no pid file, the stack tracks
# the PID itself). The auth_file holds the application user and, as
# docker/pgbouncer/entrypoint.sh writes it by default, the first shipped
# admin user with POSTGRES_PASSWORD; the stack's own "serving" check logs
# in to the admin console as that user.
write_pgbouncer_conf() {
	local src db ignore item found=no admin admins
	local -a items kept args
	src=$(shipped_file pgbouncer.ini)
	db=$(conf_get ini "$src" "databases.$APP_DB")
	[[ $db =~ (^|[[:space:]])host=[^[:space:]]+ && $db =~ (^|[[:space:]])port=[^[:space:]]+ ]] ||
		die "$src: [databases] $APP_DB = $db: expected host=... port=..."
	db=$(sed -E -e "s/(^|[[:space:]])host=[^[:space:]]+/\1host=127.0.0.1/" \
		-e "s/(^|[[:space:]])port=[^[:space:]]+/\1port=$POSTGRES_PORT/" <<<"$db")
	args=(
		"databases.$APP_DB" "$db"
		pgbouncer.listen_addr 127.0.0.1
		pgbouncer.listen_port "$DB_PORT"
		pgbouncer.auth_file "$DIR/userlist.txt"
	)
	if [[ $PGB_MODE == strict ]]; then
		ignore=$(conf_get ini "$src" pgbouncer.ignore_startup_parameters)
		IFS=, read -ra items <<<"$ignore"
		kept=()
		for item in "${items[@]}"; do
			item=${item//[[:space:]]/}
			if [[ $item == options ]]; then
				found=yes
			elif [[ -n $item ]]; then
				kept+=("$item")
			fi
		done
		[[ $found == yes ]] ||
			die "$src: ignore_startup_parameters = $ignore: no 'options' for pgbouncer-strict to remove"
		args+=(pgbouncer.ignore_startup_parameters "$(IFS=,; echo "${kept[*]}")")
	fi
	local kv
	for kv in ${PGB_SET:-}; do
		args+=("pgbouncer.${kv%%=*}" "${kv#*=}")
	done
	admin=$(pgb_admin_user)
	PGB_ADMIN=$admin
	save_state
	admins=$(conf_get ini "$src" pgbouncer.admin_users)
	if [[ ,${admins//[[:space:]]/}, != *",$APP_USER,"* ]]; then
		args+=(pgbouncer.admin_users "$admins,$APP_USER")
	fi
	{
		printf '"%s" "%s"\n' "$APP_USER" "$POSTGRES_PASSWORD"
		if [[ $admin != "$APP_USER" ]]; then
			printf '"%s" "%s"\n' "$admin" "$POSTGRES_PASSWORD"
		fi
	} >"$DIR/userlist.txt"
	chmod 600 "$DIR/userlist.txt"
	conf_rewrite ini "$src" "$DIR/pgbouncer.ini" "${args[@]}"
	chown "$PG_USER:" "$DIR/userlist.txt" "$DIR/pgbouncer.ini"
}

# Redis: config/redis.conf with only the loopback test machine's
# differences rewritten:
#   bind       127.0.0.1 (shipped: every interface)
#   port       a free port (shipped: 6379)
#   dir        DIR (shipped: /data, the container volume)
#   databases  the shipped value, or N after `redis-databases N` (a
#              deliberate test variant)
#   requirepass  appended when the stack has a Redis password (production
#              feeds it on stdin; the shipped file must not set it)
# Everything else is as shipped, persistence included (the save directives
# and the AOF cost next to nothing on an empty data set); daemonize no,
# pidfile "" and logfile "" (stdout, which goes to DIR/redis.log) already
# suit a supervised process.
write_redis_conf() {
	local src dst=$DIR/redis.conf
	src=$(shipped_file redis.conf)
	if grep -qiE '^[[:space:]]*requirepass([[:space:]]|$)' "$src"; then
		die "$src: sets requirepass (the password comes from the environment)"
	fi
	conf_rewrite redis "$src" "$dst.new" \
		bind 127.0.0.1 \
		port "$REDIS_PORT" \
		dir "\"$DIR\"" \
		databases "$REDIS_DATABASES"
	if [[ -n $REDIS_PASSWORD ]]; then
		printf 'requirepass "%s"\n' "$REDIS_PASSWORD" >>"$dst.new"
	fi
	chmod 600 "$dst.new"
	mv "$dst.new" "$dst"
}

gen_password() {
	local p
	p=$(head -c 64 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
	echo "$1$p"
}

# ---------------------------------------------------------------- health

pg_super() {
	psql -X -q -h "$DIR" -p "$POSTGRES_PORT" -U postgres -d postgres \
		-v ON_ERROR_STOP=1 "$@"
}

serving_once() {
	case $1 in
	postgres-up)
		# Any login works (the application role may not exist yet).
		pg_isready -q -h 127.0.0.1 -p "$POSTGRES_PORT" -t 2 &&
			PGCONNECT_TIMEOUT=3 timeout 5 psql -X -w -At -h "$DIR" \
				-p "$POSTGRES_PORT" -U postgres -d postgres \
				-c 'select 1' >/dev/null 2>&1
		;;
	postgres)
		pg_isready -q -h 127.0.0.1 -p "$POSTGRES_PORT" -t 2 &&
			[[ $(PGPASSWORD=$POSTGRES_PASSWORD PGCONNECT_TIMEOUT=3 \
				timeout 5 psql -X -w -At -h 127.0.0.1 \
				-p "$POSTGRES_PORT" -U "$APP_USER" -d "$APP_DB" \
				-c 'select 1' 2>/dev/null) == 1 ]]
		;;
	pgbouncer)
		# The admin console answers without PostgreSQL.
		PGPASSWORD=$POSTGRES_PASSWORD PGCONNECT_TIMEOUT=3 timeout 5 \
			psql -X -w -At -h 127.0.0.1 -p "$DB_PORT" -U "$PGB_ADMIN" \
			-d pgbouncer -c 'SHOW VERSION' >/dev/null 2>&1
		;;
	pgbouncer-db)
		# A query through the pooler, with the application's options.
		[[ $(PGPASSWORD=$POSTGRES_PASSWORD PGCONNECT_TIMEOUT=3 \
			PGOPTIONS='-c statement_timeout=0' timeout 5 \
			psql -X -w -At -h 127.0.0.1 -p "$DB_PORT" \
			-U "$APP_USER" -d "$APP_DB" -c 'select 1' 2>/dev/null) == 1 ]]
		;;
	redis)
		[[ $(REDISCLI_AUTH=$REDIS_PASSWORD timeout 5 redis-cli \
			--no-auth-warning -h 127.0.0.1 -p "$REDIS_PORT" ping \
			2>/dev/null) == PONG ]]
		;;
	esac
}

server_log() {
	case $1 in
	postgres | postgres-up) echo "$DIR/postgres.log" ;;
	pgbouncer | pgbouncer-db) echo "$DIR/pgbouncer.log" ;;
	redis) echo "$DIR/redis.log" ;;
	esac
}

show_log() {
	local log
	log=$(server_log "$1")
	echo "---- last lines of $log" >&2
	tail -n 40 "$log" >&2 2>/dev/null || true
	echo "----" >&2
}

# wait_serving SERVER [PID]: until SERVER answers, at most WAIT_SECS.
# Returns 2 (without waiting further) when PID died first.
wait_serving() {
	local what=$1 pid=${2:-} t0=$SECONDS
	while ((SECONDS - t0 < WAIT_SECS)); do
		serving_once "$what" && return 0
		if [[ -n $pid ]] && ! pid_alive "$pid"; then
			return 2
		fi
		sleep 0.2
	done
	return 1
}

# ---------------------------------------------------------------- servers

launch() {
	local srv=$1
	clean_stale "$srv"
	mkdir -p "$DIR/run"
	case $srv in
	postgres)
		spawn "$DIR/postgres.log" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
			HOME="$DIR" setpriv --reuid="$PG_USER" --regid="$PG_USER" \
			--init-groups -- "$PG_BIN/postgres" -D "$DIR/pg"
		;;
	pgbouncer)
		spawn "$DIR/pgbouncer.log" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
			HOME="$DIR" setpriv --reuid="$PG_USER" --regid="$PG_USER" \
			--init-groups -- pgbouncer "$DIR/pgbouncer.ini"
		;;
	redis)
		spawn "$DIR/redis.log" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
			HOME="$DIR" redis-server "$DIR/redis.conf"
		;;
	esac
	echo "$SPAWN_PID" >"$DIR/run/$srv.pid"
}

port_of() {
	case $1 in
	postgres) echo "$POSTGRES_PORT" ;;
	pgbouncer) echo "$DB_PORT" ;;
	redis) echo "$REDIS_PORT" ;;
	esac
}

# start_server SERVER: launch and wait until it serves. Returns 3 when the
# port was taken meanwhile (the caller may pick another).
start_server() {
	local srv=$1 pid rc=0
	if server_pid "$srv" >/dev/null; then
		note "$srv already running"
		return 0
	fi
	: >>"$(server_log "$srv")"
	[[ $srv == redis ]] || chown "$PG_USER:" "$(server_log "$srv")"
	local logsize
	logsize=$(stat -c %s "$(server_log "$srv")")
	launch "$srv"
	pid=$SPAWN_PID
	local what=$srv
	[[ $srv == postgres ]] && what=postgres-up
	wait_serving "$what" "$pid" || rc=$?
	if ((rc == 0)); then
		return 0
	fi
	if tail -c +"$((logsize + 1))" "$(server_log "$srv")" 2>/dev/null |
		grep -qiE 'address already in use|could not bind|Address in use'; then
		stop_pid "$srv" "$pid" KILL
		return 3
	fi
	if ((rc == 2)); then
		note "$srv exited during start-up (port $(port_of "$srv"))"
	else
		note "$srv did not serve within ${WAIT_SECS}s (port $(port_of "$srv"))"
	fi
	show_log "$srv"
	stop_pid "$srv" "$pid" KILL
	return 1
}

# stop_pid SERVER PID SIG: thaw the server and its children, send SIG to
# the server, wait for all of them; SIGKILL after 20 s.
stop_pid() {
	local srv=$1 pid=$2 sig=$3 procs
	mapfile -t procs < <(proc_tree "$pid")
	((${#procs[@]})) || {
		clean_stale "$srv"
		return 0
	}
	kill -CONT "${procs[@]}" 2>/dev/null || true
	kill -s "$sig" "$pid" 2>/dev/null || true
	if ! wait_gone 20 "${procs[@]}"; then
		note "$srv (pid $pid) ignored SIG$sig for 20s: SIGKILL"
		kill_tree "$pid"
		wait_gone 10 "${procs[@]}" || die "$srv (pid $pid) does not die"
	fi
	clean_stale "$srv"
}

# SIGKILL PID and its descendants: stop it first so that it forks no more,
# then collect the children while they are still its children.
kill_tree() {
	local procs
	kill -STOP "$1" 2>/dev/null || true
	mapfile -t procs < <(proc_tree "$1")
	((${#procs[@]})) && kill -KILL "${procs[@]}" 2>/dev/null
	return 0
}

stop_server() {
	local srv=$1 pid sig
	pid=$(server_pid "$srv") || {
		clean_stale "$srv"
		return 0
	}
	case $srv in
	postgres) sig=INT ;; # fast shutdown: do not wait for clients
	pgbouncer) sig=TERM ;; # immediate shutdown
	redis) sig=TERM ;;
	esac
	stop_pid "$srv" "$pid" "$sig"
}

kill_server() {
	local srv=$1 pid procs
	pid=$(server_pid "$srv") || die "$srv is not running"
	kill -STOP "$pid" 2>/dev/null || true
	mapfile -t procs < <(proc_tree "$pid")
	kill_tree "$pid"
	wait_gone 10 "${procs[@]}" || die "$srv (pid $pid) still alive after SIGKILL"
	clean_stale "$srv"
}

# SIGSTOP the server, then its children (it forks no more meanwhile).
freeze_server() {
	local srv=$1 pid procs i p st f
	pid=$(server_pid "$srv") || die "$srv is not running"
	kill -STOP "$pid"
	mapfile -t procs < <(proc_tree "$pid")
	kill -STOP "${procs[@]}" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		st=T
		for p in "${procs[@]}"; do
			f=$(proc_fields "$p") || continue
			[[ ${f%% *} == T ]] || st=R
		done
		[[ $st == T ]] && return 0
		sleep 0.1
	done
	die "$srv (pid $pid) did not stop"
}

# SIGCONT the children, then the server.
thaw_server() {
	local srv=$1 pid procs
	pid=$(server_pid "$srv") || die "$srv is not running"
	mapfile -t procs < <(proc_tree "$pid")
	kill -CONT "${procs[@]:1}" 2>/dev/null || true
	kill -CONT "$pid"
}

# restart SERVER on the same port (after its config changed).
restart_server() {
	stop_server "$1"
	start_server "$1" || die "could not start $1 again on port $(port_of "$1")"
}

# ---------------------------------------------------------------- commands

check_server_name() {
	case ${1:-} in
	postgres | pgbouncer | redis) ;;
	*) die "unknown server '${1:-}' (postgres, pgbouncer or redis)" ;;
	esac
}

set_dir() {
	[[ -n ${1:-} ]] || die "missing DIR"
	DIR=$(realpath -m -- "$1")
}

init_postgres() {
	mkdir -p "$DIR/pg"
	chown "$PG_USER:" "$DIR/pg"
	chmod 700 "$DIR/pg"
	# initdb must not inherit descriptors either; it runs in the foreground.
	(cd "$DIR" && as_pg "$PG_BIN/initdb" -D "$DIR/pg" -U postgres \
		--auth-local=trust --auth-host=scram-sha-256 -E UTF8 \
		--locale=C --no-sync --no-instructions) \
		>"$DIR/initdb.log" 2>&1 </dev/null ||
		{
			cat "$DIR/initdb.log" >&2
			die "initdb failed"
		}
}

start_with_port_retry() {
	local srv=$1 tries rc
	for ((tries = 0; tries < 5; tries++)); do
		rc=0
		start_server "$srv" || rc=$?
		((rc == 0)) && return 0
		((rc == 3)) || return 1
		note "$srv: port $(port_of "$srv") taken meanwhile; picking another"
		case $srv in
		postgres)
			POSTGRES_PORT=$(free_port)
			write_pg_conf
			;;
		pgbouncer)
			DB_PORT=$(free_port)
			write_pgbouncer_conf
			;;
		redis)
			REDIS_PORT=$(free_port)
			write_redis_conf
			;;
		esac
	done
	return 1
}

cmd_start() {
	set_dir "$1"
	shift
	local redis_pw_set=no
	REDIS_PASSWORD=
	while (($#)); do
		case $1 in
		--redis-password)
			(($# >= 2)) || die "--redis-password needs a value"
			REDIS_PASSWORD=$2
			redis_pw_set=yes
			shift 2
			;;
		--redis-password=*)
			REDIS_PASSWORD=${1#*=}
			redis_pw_set=yes
			shift
			;;
		*) die "start: unknown argument '$1'" ;;
		esac
	done
	[[ -x $PG_BIN/postgres ]] || die "PostgreSQL server not found (PG_BIN=$PG_BIN)"
	command -v pgbouncer >/dev/null || die "pgbouncer not found"
	command -v redis-server >/dev/null || die "redis-server not found"
	id "$PG_USER" >/dev/null 2>&1 || die "no OS user $PG_USER"

	if [[ -e $DIR ]]; then
		if [[ -f $DIR/.readyd-stack ]]; then
			note "$DIR holds a previous stack: stopping and wiping it"
			cmd_stop "$DIR"
			find "$DIR" -mindepth 1 -delete
		elif [[ -n $(ls -A "$DIR") ]]; then
			die "$DIR is not empty and not a stack directory"
		fi
	fi
	mkdir -p "$DIR"
	touch "$DIR/.readyd-stack"
	# The unix socket path must fit in sun_path (108 bytes).
	((${#DIR} < 80)) || die "$DIR: path too long for a unix socket"
	mkdir -p "$DIR/run"
	chown "$PG_USER:" "$DIR"
	chmod 750 "$DIR"
	setpriv --reuid="$PG_USER" --regid="$PG_USER" --init-groups -- \
		test -w "$DIR" ||
		die "$DIR: user $PG_USER cannot write here (a parent directory not searchable?)"

	# On any failure from here on (die, or set -e in a function, which an
	# ERR trap would not see): stop what was started.
	trap 'if (($? != 0)); then
		note "start failed; stopping what was started"
		cmd_stop "$DIR" || true
	fi' EXIT
	[[ $redis_pw_set == yes ]] || REDIS_PASSWORD=$(gen_password r)
	POSTGRES_PASSWORD=$(gen_password p)
	POSTGRES_PORT=$(free_port)
	DB_PORT=$(free_port)
	REDIS_PORT=$(free_port)
	PGB_MODE=default
	PGB_SET=
	REDIS_DATABASES=$(shipped_redis_databases)
	PGB_ADMIN=$(pgb_admin_user)
	save_state
	write_env

	init_postgres
	write_pg_conf
	start_with_port_retry postgres || false
	pg_super -c "CREATE ROLE $APP_USER LOGIN PASSWORD '$POSTGRES_PASSWORD'" \
		-c "CREATE DATABASE $APP_DB OWNER $APP_USER" >/dev/null
	wait_serving postgres || {
		show_log postgres
		false
	}

	write_pgbouncer_conf
	start_with_port_retry pgbouncer || false
	wait_serving pgbouncer-db || {
		note "a query through pgbouncer failed"
		show_log pgbouncer
		false
	}

	write_redis_conf
	start_with_port_retry redis || false

	write_env
	trap - EXIT
	echo "stack.sh: up in $DIR: postgres 127.0.0.1:$POSTGRES_PORT," \
		"pgbouncer 127.0.0.1:$DB_PORT, redis 127.0.0.1:$REDIS_PORT" \
		"(source $DIR/env)" >&2
}

cmd_stop() {
	set_dir "$1"
	local srv=${2:-} s
	if [[ -n $srv ]]; then
		check_server_name "$srv"
		load_env
		stop_server "$srv"
		return 0
	fi
	# Everything: idempotent, also for a half-started or frozen stack.
	[[ -d $DIR/run ]] || return 0
	if [[ -f $DIR/env ]]; then
		# shellcheck disable=SC1091
		source "$DIR/env"
	fi
	POSTGRES_PORT=${POSTGRES_PORT:-0}
	for s in pgbouncer redis postgres; do
		stop_server "$s" || true
	done
}

cmd_status() {
	local s pid state
	for s in "${SERVERS[@]}"; do
		if pid=$(server_pid "$s"); then
			state=running
			server_frozen "$s" && state=frozen
		else
			state=stopped
			pid=-
		fi
		echo "$s $state pid=$pid port=$(port_of "$s")"
	done
	echo "pgbouncer-mode $PGB_MODE"
	echo "redis-databases $REDIS_DATABASES"
}

cmd_restore() {
	local s
	for s in "${SERVERS[@]}"; do
		if server_pid "$s" >/dev/null; then
			thaw_server "$s"
		fi
	done
	if [[ $PGB_MODE != default || -n ${PGB_SET:-} ]]; then
		PGB_MODE=default
		PGB_SET=
		save_state
		write_pgbouncer_conf
		stop_server pgbouncer
	fi
	local dbs
	dbs=$(shipped_redis_databases)
	if [[ $REDIS_DATABASES != "$dbs" ]]; then
		REDIS_DATABASES=$dbs
		save_state
		write_redis_conf
		stop_server redis
	fi
	for s in "${SERVERS[@]}"; do
		server_pid "$s" >/dev/null || start_server "$s" ||
			die "could not start $s again"
	done
	for s in postgres pgbouncer-db redis; do
		wait_serving "$s" || {
			show_log "$s"
			die "$s does not serve after restore"
		}
	done
}

usage() {
	sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 64
}

main() {
	local cmd=${1:-}
	(($#)) && shift
	case $cmd in
	start)
		(($# >= 1)) || usage
		cmd_start "$@"
		;;
	stop)
		(($# >= 1)) || usage
		cmd_stop "$@"
		;;
	start-server | kill | freeze | thaw)
		(($# == 2)) || usage
		set_dir "$1"
		check_server_name "$2"
		load_env
		case $cmd in
		start-server)
			start_server "$2" ||
				die "could not start $2 on port $(port_of "$2")"
			;;
		kill) kill_server "$2" ;;
		freeze) freeze_server "$2" ;;
		thaw) thaw_server "$2" ;;
		esac
		;;
	pgbouncer-strict | pgbouncer-default)
		(($# == 1)) || usage
		set_dir "$1"
		load_env
		PGB_MODE=${cmd#pgbouncer-}
		save_state
		write_pgbouncer_conf
		restart_server pgbouncer
		;;
	pgbouncer-set)
		(($# >= 1)) || usage
		set_dir "$1"
		shift
		load_env
		local kv
		for kv in "$@"; do
			[[ $kv =~ ^[a-z_]+=[A-Za-z0-9_.-]+$ ]] ||
				die "pgbouncer-set: bad setting '$kv' (accepted: key=value, no spaces)"
		done
		PGB_SET="$*"
		save_state
		write_pgbouncer_conf
		restart_server pgbouncer
		;;
	redis-databases)
		(($# == 2)) || usage
		if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < 1)); then
			die "bad database count '$2'"
		fi
		set_dir "$1"
		load_env
		REDIS_DATABASES=$2
		save_state
		write_redis_conf
		restart_server redis
		;;
	restore)
		(($# == 1)) || usage
		set_dir "$1"
		load_env
		cmd_restore
		;;
	status)
		(($# == 1)) || usage
		set_dir "$1"
		load_env
		cmd_status
		;;
	wait)
		(($# >= 1)) || usage
		set_dir "$1"
		load_env
		local s list
		if (($# >= 2)); then
			check_server_name "$2"
			list=("$2")
		else
			list=(postgres pgbouncer-db redis)
		fi
		for s in "${list[@]}"; do
			wait_serving "$s" || {
				show_log "$s"
				die "$s does not serve"
			}
		done
		;;
	free-port) free_port ;;
	-h | --help | help | "") usage ;;
	*) die "unknown command '$cmd' (try --help)" ;;
	esac
}

main "$@"
