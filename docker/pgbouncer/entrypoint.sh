#!/bin/sh
# pgbouncer-entrypoint: start PgBouncer from the shipped pgbouncer.ini
# (mounted read-only at /etc/pgbouncer/pgbouncer.ini) with the data model's
# environment applied:
#   PGBOUNCER_POOL_SIZE   default_pool_size, checked to be within 25-50
#   DB_USER, DB_PASSWORD  the services' login, written to the auth_file
#   PGBOUNCER_USER        admin_users (default postgres) and, with
#   PGBOUNCER_PASSWORD    (default POSTGRES_PASSWORD), its auth_file line
# Every password may come from VAR_FILE instead (compose secrets). Without
# DB_USER, a userlist.txt mounted at /etc/pgbouncer/userlist.txt is used
# as is (e.g. one holding SCRAM verifiers).
# The effective files live in /run/pgbouncer (mode 0700, user postgres);
# nothing is written to the image.
set -eu

CONF=/etc/pgbouncer/pgbouncer.ini
RUN=/run/pgbouncer

die() {
	echo "pgbouncer-entrypoint: $*" >&2
	exit 1
}

# file_env VAR [DEFAULT]: VAR, else the content of the file VAR_FILE names,
# else DEFAULT. Both VAR and VAR_FILE set is an error (as in the postgres
# image).
file_env() {
	eval "fe_val=\${$1:-}"
	eval "fe_file=\${$1_FILE:-}"
	if [ -n "$fe_val" ] && [ -n "$fe_file" ]; then
		die "both $1 and $1_FILE are set; set one"
	fi
	if [ -n "$fe_file" ]; then
		fe_val=$(cat -- "$fe_file") || die "$1_FILE: cannot read $fe_file"
	fi
	[ -n "$fe_val" ] || fe_val=${2:-}
	eval "$1=\$fe_val"
}

# userlist_line USER PASSWORD: one auth_file line; a double quote inside a
# field is written twice.
userlist_line() {
	printf '"%s" "%s"\n' "$(printf '%s' "$1" | sed 's/"/""/g')" \
		"$(printf '%s' "$2" | sed 's/"/""/g')"
}

[ -r "$CONF" ] || die "$CONF: missing (mount config/pgbouncer.ini there)"

pool=${PGBOUNCER_POOL_SIZE:-25}
case $pool in
'' | *[!0-9]*) die "PGBOUNCER_POOL_SIZE = \"$pool\": not a number (accepted: 25-50)" ;;
esac
if [ "$pool" -lt 25 ] || [ "$pool" -gt 50 ]; then
	die "PGBOUNCER_POOL_SIZE = $pool: out of range (accepted: 25-50)"
fi

admin=${PGBOUNCER_USER:-postgres}
case $admin in
'' | *[!A-Za-z0-9_.-]*) die "PGBOUNCER_USER = \"$admin\": accepted: letters, digits, _ . -" ;;
esac

umask 077
auth="$RUN/userlist.txt"
if [ -n "${DB_USER:-}" ]; then
	file_env DB_PASSWORD
	[ -n "$DB_PASSWORD" ] || die "DB_PASSWORD (or DB_PASSWORD_FILE) is required with DB_USER"
	file_env POSTGRES_PASSWORD
	file_env PGBOUNCER_PASSWORD "$POSTGRES_PASSWORD"
	{
		userlist_line "$DB_USER" "$DB_PASSWORD"
		if [ "$admin" != "$DB_USER" ] && [ -n "$PGBOUNCER_PASSWORD" ]; then
			userlist_line "$admin" "$PGBOUNCER_PASSWORD"
		fi
	} >"$auth.tmp"
	mv -f "$auth.tmp" "$auth"
elif [ -r /etc/pgbouncer/userlist.txt ]; then
	auth=/etc/pgbouncer/userlist.txt
else
	die "set DB_USER and DB_PASSWORD, or mount a userlist.txt at /etc/pgbouncer/userlist.txt"
fi

# Only the lines the environment decides are replaced; the rest is the
# shipped file verbatim.
sed -e "s|^default_pool_size = .*|default_pool_size = $pool|" \
	-e "s|^admin_users = .*|admin_users = $admin|" \
	-e "s|^auth_file = .*|auth_file = $auth|" \
	"$CONF" >"$RUN/pgbouncer.ini.tmp"
mv -f "$RUN/pgbouncer.ini.tmp" "$RUN/pgbouncer.ini"

exec pgbouncer "$RUN/pgbouncer.ini"
