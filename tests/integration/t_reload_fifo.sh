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
