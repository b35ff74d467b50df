#!/usr/bin/env bash
# Redis against the data model (issue 11): the checks pass, but warn when
# the live server differs from what they expect.
# 1. expect_save / expect_databases as the data model says: the stack's
#    Redis (config/redis.conf) matches, all pass, no findings.
# 2. CONFIG SET save "": warn, reason drift, naming save with the live and
#    expected values (?verbose, JSON findings, /metrics); /ready stays 200.
#    Back to pass when the save points are back.
# 3. `databases 2`: redis-celery (db 2) fails (rejected), the others warn
#    drift naming databases; back to 16: pass.
# 4. A failed background save with stop-writes-on-bgsave-error no (Redis
#    keeps taking writes): warn, reason persistence, naming
#    rdb_last_bgsave_status; a good BGSAVE: pass.
# 5. CONFIG denied by ACL for readyd's user: pass, one log line for all
#    the attempts; INFO still read.
# The production profile: t_production.sh.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

SAVE_MODEL="900 1 300 10 60 10000"
ACL_USER=readyd-persist
ACL_PW=$(new_secret aclpw)

info_field() { rcli INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; }

OLD_SAVE=$(rcli CONFIG GET save | sed -n 2p)
DUMP_SAVED=$STACK_DIR/dump.rdb.persist-saved
undo_redis() {
	rcli CONFIG SET save "$OLD_SAVE" >/dev/null 2>&1
	rcli CONFIG SET stop-writes-on-bgsave-error yes >/dev/null 2>&1
	[[ -d $STACK_DIR/dump.rdb ]] && rmdir "$STACK_DIR/dump.rdb"
	[[ -e $DUMP_SAVED ]] && mv "$DUMP_SAVED" "$STACK_DIR/dump.rdb"
	rcli ACL DELUSER "$ACL_USER" >/dev/null 2>&1
}
on_exit undo_redis

# bad_bgsave: a BGSAVE that fails: dump.rdb a directory, the save cannot
# rename its temp file (Redis runs as root here, and dir/dbfilename are
# protected configs).
bad_bgsave() {
	[[ -e $STACK_DIR/dump.rdb ]] && mv "$STACK_DIR/dump.rdb" "$DUMP_SAVED"
	mkdir "$STACK_DIR/dump.rdb"
	rcli BGSAVE >/dev/null
}
# good_bgsave: dump.rdb back, and a BGSAVE that succeeds (waited for).
good_bgsave() {
	rmdir "$STACK_DIR/dump.rdb"
	[[ -e $DUMP_SAVED ]] && mv "$DUMP_SAVED" "$STACK_DIR/dump.rdb"
	rcli BGSAVE >/dev/null
	wait_for "[[ \$(info_field rdb_last_bgsave_status) == ok ]]" 15
}
assert_eq "$OLD_SAVE" "$SAVE_MODEL" "the stack's Redis has the data model's save points"

# write_expect_config FILE: the standard checks, the Redis ones with the
# data model's expectations.
write_expect_config() {
	write_std_config "$1"
	sed -i "s/^db = \\([0-9]\\)\$/db = \\1\\nexpect_save = $SAVE_MODEL\\nexpect_databases = 3/" "$1"
}

# ------------------------------------------------------------- 1: as the model
conf=$T_CONF/expect.conf
write_expect_config "$conf"
assert_eq "$(grep -c '^expect_databases = 3$' "$conf")" 3 "config: 3 redis checks expect 3 databases"
start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1
for c in "${REDIS_CHECKS[@]}"; do
	assert_eq "$(field "$c" findings)" null "$c: no findings while Redis is as the model"
done

# ---------------------------------------------------------------- 2: save ""
echo '# redis: CONFIG SET save ""'
assert_eq "$(rcli CONFIG SET save "")" OK 'CONFIG SET save ""'
wait_checks warn drift 15 "${REDIS_CHECKS[@]}"
want="save is \"\" (no snapshots), expected \"$SAVE_MODEL\""
assert_eq "$(field redis-cache output)" "$want" "drift: output names save, live and expected values"
assert_eq "$(field redis-cache 'findings[0].key')" save "drift: JSON finding key save"
assert_eq "$(field redis-cache 'findings[0].reason')" drift "drift: JSON finding reason drift"
assert_eq "$(http_status "$READYD_URL/ready")" 200 "drift: /ready stays 200 (a warn serves)"
assert_eq "$(http_body "$READYD_URL/ready" | jq -r .status)" warn "drift: top-level status warn"
assert_contains "$(http_body "$READYD_URL/ready?verbose")" "[!]redis-cache warn: drift: $want" \
	"drift: ?verbose line"
assert_contains "$(http_body "$READYD_URL/metrics")" \
	'readyd_check_finding{check="redis-cache",kind="redis",reason="drift",key="save"} 1' "drift: /metrics finding"
assert_eq "$(rcli CONFIG SET save "$SAVE_MODEL")" OK "CONFIG SET save back"
wait_checks pass "" 15 "${REDIS_CHECKS[@]}"
assert_not_contains "$(http_body "$READYD_URL/metrics")" 'readyd_check_finding{check="redis-cache"' \
	"save back: no finding in /metrics"

# ----------------------------------------------------------- 3: databases 2
echo "# redis: databases 2"
stack redis-databases "$STACK_DIR" 2
wait_check redis-celery fail rejected 20
wait_checks warn drift 20 redis-cache redis-channels
assert_eq "$(field redis-cache output)" "databases is 2, expected at least 3" \
	"databases: output names databases, live and expected"
stack redis-databases "$STACK_DIR" 16
wait_checks pass "" 20 "${REDIS_CHECKS[@]}"

# ------------------------------------------------ 4: a failed background save
echo "# redis: a failed background save, stop-writes-on-bgsave-error no"
rcli CONFIG SET stop-writes-on-bgsave-error no >/dev/null
wait_for "[[ \$(info_field rdb_bgsave_in_progress) == 0 ]]" 10
bad_bgsave
wait_for "[[ \$(info_field rdb_last_bgsave_status) == err ]]" 10
assert_eq "$(info_field rdb_last_bgsave_status)" err "INFO persistence: rdb_last_bgsave_status:err"
assert_eq "$(rcli SET readyd-test:persist 1)" OK "Redis still takes writes"
wait_checks warn persistence 15 "${REDIS_CHECKS[@]}"
assert_contains "$(field redis-cache output)" "rdb_last_bgsave_status is err" \
	"persistence: output names rdb_last_bgsave_status"
assert_eq "$(field redis-cache 'findings[0].key')" rdb_last_bgsave_status "persistence: finding key"
assert_eq "$(http_status "$READYD_URL/ready")" 200 "persistence: /ready stays 200"
good_bgsave
assert_eq "$(info_field rdb_last_bgsave_status)" ok "fixed: rdb_last_bgsave_status:ok"
wait_checks pass "" 15 "${REDIS_CHECKS[@]}"
rcli CONFIG SET stop-writes-on-bgsave-error yes >/dev/null
rcli DEL readyd-test:persist >/dev/null
stop_readyd

# ------------------------------------------------------ 5: CONFIG denied by ACL
echo "# redis: CONFIG denied by ACL for readyd's user"
assert_eq "$(rcli ACL SETUSER "$ACL_USER" reset on ">$ACL_PW" '~*' '&*' +@all -config)" OK \
	"ACL SETUSER $ACL_USER without CONFIG"
out=$(rcli_acl CONFIG GET save 2>&1)
assert_contains "$out" NOPERM "CONFIG GET as $ACL_USER: NOPERM ($out)"
conf=$T_CONF/acl.conf
write_config_header "$conf"
cat >>"$conf" <<EOF

[check redis-acl]
kind = redis
host = \${REDIS_HOST}
port = \${REDIS_PORT}
user = $ACL_USER
password = $ACL_PW
db = 0
expect_save = $SAVE_MODEL
expect_databases = 3
EOF
start_readyd "$conf" || exit 1
wait_check redis-acl pass "" 15
sleep 4 # several attempts, 1 s apart
n=$(grep -c "CONFIG GET save refused" "$READYD_LOG")
assert_eq "$n" 1 "the refused CONFIG is logged once over several attempts" "$(cat "$READYD_LOG")"
assert_contains "$(grep "refused" "$READYD_LOG")" "check redis-acl: CONFIG GET save refused: NOPERM" \
	"the log line names the check, the command and the refusal"
assert_eq "$(grep -c "CONFIG GET databases refused" "$READYD_LOG")" 0 \
	"CONFIG GET databases: same key (config), not logged again"
assert_eq "$(field redis-acl status)" pass "ACL-denied CONFIG: still pass"
# INFO is still read: a failed save shows
rcli CONFIG SET stop-writes-on-bgsave-error no >/dev/null
bad_bgsave
wait_check redis-acl warn persistence 15
good_bgsave
wait_check redis-acl pass "" 15
rcli CONFIG SET stop-writes-on-bgsave-error yes >/dev/null
stop_readyd
