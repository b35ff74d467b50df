#!/usr/bin/env bash
# config/readyd.conf is identical to the built-in default (issue 3 item 5):
# `readyd config` without -c (the built-in copy) and `readyd config -c
# config/readyd.conf` print the same effective configuration, apart from
# the first line ("# effective configuration from ..."). Once with the
# stack's environment, once with only the required variables set, so that
# every ${VAR:-default} default is compared as well.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

shipped=$(cd -- "$IT_HERE/../.." && pwd)/config/readyd.conf

# Without -c and READYD_CONFIG, readyd reads /etc/readyd/readyd.conf when
# it exists; only otherwise the built-in copy.
if [[ -e /etc/readyd/readyd.conf ]]; then
	fail "no /etc/readyd/readyd.conf on this machine (readyd would read it instead of the built-in default)"
	exit 1
fi
check "[[ -r '$shipped' ]]" "config/readyd.conf is readable" "$shipped"

# compare NAME ENV...: `readyd config` (built-in) against `readyd config -c
# config/readyd.conf`, both run under `env ENV...`.
compare() {
	local name=$1 builtin shipped_out
	shift
	run_cmd "$name-builtin" env -u READYD_CONFIG "$@" "$READYD" config
	assert_eq "$RC" 0 "$name: readyd config (built-in): exit 0"
	[[ $RC == 0 ]] || echo "# $ERR"
	builtin=$OUT
	assert_eq "$(head -n 1 <<<"$builtin")" "# effective configuration from (built-in)" \
		"$name: without -c, the built-in default is used"
	run_cmd "$name-shipped" env -u READYD_CONFIG "$@" "$READYD" config -c "$shipped"
	assert_eq "$RC" 0 "$name: readyd config -c config/readyd.conf: exit 0"
	[[ $RC == 0 ]] || echo "# $ERR"
	shipped_out=$OUT
	assert_eq "$(head -n 1 <<<"$shipped_out")" "# effective configuration from $shipped" \
		"$name: with -c, config/readyd.conf is used"
	if [[ $(tail -n +2 <<<"$builtin") == "$(tail -n +2 <<<"$shipped_out")" ]]; then
		ok "$name: config/readyd.conf and the built-in default are identical ($(wc -l <<<"$builtin") lines)"
	else
		fail "$name: config/readyd.conf and the built-in default are identical (rebuild? edited one only?)" \
			"$(diff <(tail -n +2 <<<"$builtin") <(tail -n +2 <<<"$shipped_out") | head -n 40)"
	fi
	BUILTIN_OUT=$builtin
}

# ---- the stack's environment (the values readyd's default config reads)
compare stack
assert_contains "$BUILTIN_OUT" "port = $DB_PORT" "stack: the stack's DB_PORT is expanded"
assert_contains "$BUILTIN_OUT" "port = $REDIS_PORT" "stack: the stack's REDIS_PORT is expanded"
for c in "${STD_CHECKS[@]}"; do
	assert_contains "$BUILTIN_OUT" "[check $c]" "stack: the built-in default has check $c"
done
for g in "${STD_GROUPS[@]}"; do
	assert_contains "$BUILTIN_OUT" "[group $g]" "stack: the built-in default has group $g"
done

# ---- only the required variables: every default applies
pg_pw=$(new_secret defpg)
db_pw=$(new_secret defdb)
compare required -i PATH="$PATH" ${ASAN_OPTIONS:+"ASAN_OPTIONS=$ASAN_OPTIONS"} \
	${UBSAN_OPTIONS:+"UBSAN_OPTIONS=$UBSAN_OPTIONS"} POSTGRES_USER=hdms POSTGRES_PASSWORD="$pg_pw" \
	DB_USER=hdms DB_PASSWORD="$db_pw"
for want in "listen = 0.0.0.0:8080" "host = postgres" "host = pgbouncer" \
	"host = redis" "port = 5432" "port = 6432" "port = 6379" "dbname = hdms_db"; do
	assert_contains "$BUILTIN_OUT" "$want" "required only: the default '$want'"
done
