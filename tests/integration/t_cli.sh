#!/usr/bin/env bash
# The command line: readyd check / once / wait / config, exit codes and
# output shapes (DESIGN.md "Command line").
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

good=$T_CONF/good.conf
write_std_config "$good"
bad=$T_CONF/bad.conf
bad_pw=$(new_secret wrongcli)
write_std_config "$bad"
cat >>"$bad" <<EOF

[check redis-bad]
kind = redis
host = \${REDIS_HOST}
port = \${REDIS_PORT}
password = $bad_pw
db = 0

[group good-group]
checks = postgres redis-cache

# in a group: /ready needs it (a check in no group would only warn)
[group bad-group]
checks = redis-bad
EOF

# one_line NAME: stdout+stderr of the last run_cmd are one short line.
one_line() {
	local all n
	all=$(cat "$T_ART/$1.out" "$T_ART/$1.err")
	n=$(grep -c . <<<"$all")
	check "[[ $n == 1 && \${#all} -le 200 ]]" "$1: prints one short line ($n lines, ${#all} chars)" "$all"
}

# ---------------------------------------------------------------- check
start_readyd "$good" || exit 1
wait_all_pass 15

run_cmd check-ready "$READYD" check --url "$READYD_URL/ready" --timeout 2s
assert_eq "$RC" 0 "check --url /ready (ready): exit 0"
one_line check-ready
run_cmd check-live "$READYD" check --url "$READYD_URL/live" --timeout 2s
assert_eq "$RC" 0 "check --url /live: exit 0"
run_cmd check-group "$READYD" check --url "$READYD_URL/ready/file-service" --timeout 2s
assert_eq "$RC" 0 "check --url /ready/file-service: exit 0"
run_cmd check-404 "$READYD" check --url "$READYD_URL/ready/no-such" --timeout 2s
assert_eq "$RC" 1 "check --url /ready/no-such (404): exit 1"
one_line check-404

port=$(free_port)
t0=$(now)
run_cmd check-nothing "$READYD" check --url "http://127.0.0.1:$port/ready" --timeout 2s
assert_eq "$RC" 1 "check: nothing listens: exit 1"
one_line check-nothing
check "fle $(elapsed "$t0") 3" "check: nothing listens: answers within the timeout"

# A server that accepts but never answers: the timeout holds.
stack freeze "$STACK_DIR" pgbouncer
t0=$(now)
run_cmd check-hang "$READYD" check --url "http://127.0.0.1:$DB_PORT/ready" --timeout 1s
e=$(elapsed "$t0")
stack thaw "$STACK_DIR" pgbouncer
assert_eq "$RC" 1 "check: silent server: exit 1"
one_line check-hang
check "fle 0.8 $e && fle $e 3" "check --timeout 1s: gives up after about 1 s (took $e s)"

run_cmd check-usage "$READYD" check --timeout not-a-duration --url "$READYD_URL/ready"
assert_eq "$RC" 1 "check with a bad argument: exit 1 (check exits only 0 or 1)"
run_cmd check-usage2 "$READYD" check --no-such-flag
assert_eq "$RC" 1 "check with an unknown flag: exit 1 (check exits only 0 or 1)"

stop_readyd

# IPv6: a daemon on [::], checked by URL and through READYD_LISTEN as a
# container sets it (the client must strip the literal's brackets).
p6=$(free_port)
"$READYD" serve -c "$good" --listen "[::]:$p6" >"$T_ART/readyd-v6.log" 2>&1 </dev/null &
v6=$!
echo "$v6" >>"$IT_WORK/pids"
if wait_for "[[ \$(http_status 'http://[::1]:$p6/ready') == 200 ]]" 15; then
	run_cmd check-v6 "$READYD" check --url "http://[::1]:$p6/live" --timeout 2s
	assert_eq "$RC" 0 "check --url http://[::1]:PORT/live: exit 0"
	one_line check-v6
	run_cmd check-v6-env env READYD_LISTEN="[::]:$p6" "$READYD" check --timeout 2s
	assert_eq "$RC" 0 "check with READYD_LISTEN=[::]:PORT: exit 0"
	grep -q "HTTP 200" "$T_ART/check-v6-env.out"
	assert_eq "$?" 0 "check with READYD_LISTEN=[::]:PORT: says HTTP 200"
	# As a compose healthcheck runs it: READYD_LISTEN and nothing else,
	# the built-in config (whose checks want credentials) found by itself.
	run_cmd check-v6-bare env -i PATH="$PATH" READYD_LISTEN="[::]:$p6" "$READYD" check --timeout 2s
	assert_eq "$RC" 0 "check, built-in config, only READYD_LISTEN=[::]:PORT in the environment: exit 0" "$OUT"
	v6conf=$T_CONF/v6.conf
	write_std_config "$v6conf"
	sed -i "s/^listen = .*/listen = [::]:$p6/" "$v6conf"
	run_cmd check-v6-conf env -i PATH="$PATH" "$READYD" check -c "$v6conf" --timeout 2s
	assert_eq "$RC" 0 "check -c FILE with listen = [::]:PORT: asked on [::1], exit 0" "$OUT"
else
	fail "readyd on [::] answers /ready 200 on [::1] within 15 s" "$(tail -n 5 "$T_ART/readyd-v6.log")"
fi
kill -TERM "$v6"
wait "$v6"
assert_eq "$?" 0 "readyd on [::]: exits 0 on SIGTERM"

# ---------------------------------------------------------------- check finds its daemon
# As serve finds its config: -c FILE, $READYD_CONFIG, then [daemon] listen
# with ${READYD_LISTEN} expanded, in an environment without the checks'
# credentials (which would make loading the whole config fail).
pc=$(free_port)
envconf=$T_CONF/listen-env.conf
write_std_config "$envconf"
sed -i 's/^listen = .*/listen = ${READYD_LISTEN}/' "$envconf"
READYD_LISTEN="0.0.0.0:$pc" "$READYD" serve -c "$envconf" >"$T_ART/readyd-listen-env.log" 2>&1 </dev/null &
lpid=$!
echo "$lpid" >>"$IT_WORK/pids"
if wait_for "[[ \$(http_status 'http://127.0.0.1:$pc/ready') == 200 ]]" 15; then
	bare=(env -i PATH="$PATH")
	run_cmd config-bare "${bare[@]}" READYD_LISTEN="0.0.0.0:$pc" "$READYD" config -c "$envconf"
	assert_eq "$RC" 78 "config -c FILE without the credentials: exit 78 (so check must not load it all)"
	run_cmd check-conf "${bare[@]}" READYD_LISTEN="0.0.0.0:$pc" "$READYD" check -c "$envconf" --timeout 2s
	assert_eq "$RC" 0 "check -c FILE (listen = \${READYD_LISTEN}, 0.0.0.0:PORT, no credentials): exit 0" "$OUT"
	assert_eq "$OUT" "ready: HTTP 200" "check -c FILE: says ready: HTTP 200"
	one_line check-conf
	run_cmd check-confenv "${bare[@]}" READYD_LISTEN="0.0.0.0:$pc" READYD_CONFIG="$envconf" "$READYD" check --timeout 2s
	assert_eq "$RC" 0 "check with READYD_CONFIG=FILE: exit 0" "$OUT"
	litconf=$T_CONF/listen-literal.conf
	write_std_config "$litconf"
	sed -i "s/^listen = .*/listen = 0.0.0.0:$pc/" "$litconf"
	run_cmd check-literal "${bare[@]}" "$READYD" check -c "$litconf" --timeout 2s
	assert_eq "$RC" 0 "check -c FILE (listen = 0.0.0.0:PORT, empty environment): asked on 127.0.0.1, exit 0" "$OUT"
	run_cmd check-literal-env "${bare[@]}" READYD_CONFIG="$litconf" READYD_LISTEN="127.0.0.1:1" "$READYD" check --timeout 2s
	assert_eq "$RC" 0 "check: the config's listen wins over READYD_LISTEN" "$OUT"
	# listen that does not expand here: READYD_LISTEN, as before configs
	unsetconf=$T_CONF/listen-unset.conf
	write_std_config "$unsetconf"
	sed -i 's/^listen = .*/listen = ${READYD_IT_SURELY_UNSET}/' "$unsetconf"
	run_cmd check-fallback "${bare[@]}" READYD_LISTEN="127.0.0.1:$pc" "$READYD" check -c "$unsetconf" --timeout 2s
	assert_eq "$RC" 0 "check -c FILE whose listen does not expand: falls back to READYD_LISTEN, exit 0" "$OUT"
	run_cmd check-url-wins "${bare[@]}" "$READYD" check -c "$litconf" --url "http://127.0.0.1:$(free_port)/ready" --timeout 2s
	assert_eq "$RC" 1 "check --url wins over -c FILE (nothing listens at the URL): exit 1" "$OUT"
	run_cmd check-missing-conf "$READYD" check -c "$T_CONF/no-such.conf" --timeout 2s
	assert_eq "$RC" 1 "check -c MISSING: exit 1"
	assert_contains "$OUT" "no-such.conf" "check -c MISSING: names the file"
	one_line check-missing-conf
else
	fail "readyd serve with listen = \${READYD_LISTEN} answers 200 within 15 s" "$(tail -n 5 "$T_ART/readyd-listen-env.log")"
fi
kill -TERM "$lpid"
wait "$lpid"

# ---------------------------------------------------------------- check --wait
# A daemon that comes up later (an init container, a deploy script).
pw=$(free_port)
t0=$(now)
"$READYD" check --url "http://127.0.0.1:$pw/ready" --timeout 1s --wait 30s \
	>"$T_ART/check-wait-late.out" 2>"$T_ART/check-wait-late.err" </dev/null &
cpid=$!
sleep 2
check "kill -0 $cpid 2>/dev/null" "check --wait 30s: still waiting while nothing listens"
"$READYD" serve -c "$good" --listen "127.0.0.1:$pw" >"$T_ART/readyd-wait-late.log" 2>&1 </dev/null &
wpid=$!
echo "$wpid" >>"$IT_WORK/pids"
rc=0
for ((i = 0; i < 250; i++)); do
	kill -0 "$cpid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$cpid" 2>/dev/null; then
	kill -TERM "$cpid"
	rc=timeout
fi
wait "$cpid" || rc=$?
e=$(elapsed "$t0")
assert_eq "$rc" 0 "check --wait 30s: exit 0 once the daemon is up and ready (after $e s)"
check "fle $e 25" "check --wait 30s: returns once ready, not at the deadline (took $e s)"
assert_match "$(cat "$T_ART/check-wait-late.out")" '^ready: HTTP 200 \(after [0-9.]+ s, [0-9]+ attempts\)$' \
	"check --wait: one line, ready, with the time and the attempts"
one_line check-wait-late
kill -TERM "$wpid"
wait "$wpid"

# Each attempt bounded by --timeout, the whole by --wait.
stack freeze "$STACK_DIR" pgbouncer
t0=$(now)
run_cmd check-wait-hang "$READYD" check --url "http://127.0.0.1:$DB_PORT/ready" --timeout 1s --wait 3500ms
e=$(elapsed "$t0")
stack thaw "$STACK_DIR" pgbouncer
assert_eq "$RC" 1 "check --wait 3500ms --timeout 1s, silent server: exit 1"
check "fle 3.3 $e && fle $e 5.5" "check --wait 3500ms: gives up at the deadline (took $e s)"
n=$(sed -n 's/.*, \([0-9]*\) attempts)$/\1/p' <<<"$OUT")
check "[[ -n \$n ]] && (( n >= 3 ))" "check --wait --timeout 1s: several attempts, each bounded by the timeout ($n)" "$OUT"
one_line check-wait-hang
run_cmd check-wait-bad "$READYD" check --wait soon --url "http://127.0.0.1:$pw/ready"
assert_eq "$RC" 1 "check --wait with a bad duration: exit 1"
one_line check-wait-bad

start_readyd "$bad" || exit 1
wait_check redis-bad fail auth 15
run_cmd check-notready "$READYD" check --url "$READYD_URL/ready" --timeout 2s
assert_eq "$RC" 1 "check --url /ready (not ready, 503): exit 1"
one_line check-notready
run_cmd check-goodgroup "$READYD" check --url "$READYD_URL/ready/good-group" --timeout 2s
assert_eq "$RC" 0 "check --url /ready/good-group: exit 0"
t0=$(now)
run_cmd check-wait-503 "$READYD" check --url "$READYD_URL/ready" --timeout 2s --wait 3s
e=$(elapsed "$t0")
assert_eq "$RC" 1 "check --wait 3s (503 throughout): exit 1"
check "fle 2.8 $e && fle $e 5" "check --wait 3s (503): gives up after about 3 s (took $e s)"
assert_match "$OUT" '^not ready: HTTP 503: redis-bad=auth \(after [0-9.]+ s, [0-9]+ attempts\)$' \
	"check --wait (503): names the failing check, the time and the attempts"
one_line check-wait-503
stop_readyd

# ---------------------------------------------------------------- once
run_cmd once-good "$READYD" once -c "$good"
assert_eq "$RC" 0 "once (all pass): exit 0"
for c in "${STD_CHECKS[@]}"; do
	check "grep -q -- '$c' <<<\"\$OUT\"" "once: output names $c" "$OUT"
done
run_cmd once-good-json "$READYD" once -c "$good" --json
assert_eq "$RC" 0 "once --json (all pass): exit 0"
assert_eq "$(jq -r .status <<<"$OUT" 2>/dev/null)" pass "once --json: status pass"
assert_eq "$(jq -r '[.checks[] | .status] | unique | join(",")' <<<"$OUT" 2>/dev/null)" pass \
	"once --json: every check pass"
assert_eq "$(jq -r '.checks | length' <<<"$OUT" 2>/dev/null)" 5 "once --json: five checks"

run_cmd once-bad "$READYD" once -c "$bad"
assert_eq "$RC" 1 "once (one fails): exit 1"
check "grep -q 'redis-bad' <<<\"\$OUT\$ERR\"" "once: names the failing check" "$OUT" "$ERR"
run_cmd once-bad-json "$READYD" once -c "$bad" --json
assert_eq "$RC" 1 "once --json (one fails): exit 1"
assert_eq "$(jq -r .status <<<"$OUT" 2>/dev/null)" fail "once --json: status fail"
assert_eq "$(jq -r '.checks["redis-bad"].reason' <<<"$OUT" 2>/dev/null)" auth \
	"once --json: redis-bad reason auth"
run_cmd once-names "$READYD" once -c "$bad" postgres redis-cache
assert_eq "$RC" 0 "once NAME NAME (passing checks only): exit 0"
run_cmd once-names-json "$READYD" once -c "$bad" --json postgres
assert_eq "$(jq -r '.checks | keys | join(" ")' <<<"$OUT" 2>/dev/null)" postgres \
	"once --json postgres: only that check"
run_cmd once-group "$READYD" once -c "$bad" good-group
assert_eq "$RC" 0 "once GROUP (passing group): exit 0"
run_cmd once-badname "$READYD" once -c "$bad" redis-bad
assert_eq "$RC" 1 "once NAME (failing check): exit 1"
run_cmd once-unknown "$READYD" once -c "$good" no-such-check
check "[[ $RC == 64 || $RC == 78 ]]" "once with an unknown NAME: usage/config error (got $RC)" "$ERR"
assert_contains "$ERR" no-such-check "once with an unknown NAME: the error names it"

# ---------------------------------------------------------------- wait
t0=$(now)
run_cmd wait-good "$READYD" wait -c "$good" --timeout 10s
assert_eq "$RC" 0 "wait (all pass): exit 0"
check "fle $(elapsed "$t0") 3" "wait (all pass): returns at once"
t0=$(now)
run_cmd wait-bad "$READYD" wait -c "$bad" --timeout 2s
e=$(elapsed "$t0")
assert_eq "$RC" 1 "wait (one never passes) --timeout 2s: exit 1"
check "fle 1.8 $e && fle $e 5" "wait --timeout 2s: gives up after about 2 s (took $e s)"
run_cmd wait-names "$READYD" wait -c "$bad" --timeout 5s postgres good-group
assert_eq "$RC" 0 "wait NAME GROUP (passing): exit 0"

# wait for a server that comes up later (compose depends_on).
stack stop "$STACK_DIR" redis
"$READYD" wait -c "$good" --timeout 20s redis-cache >"$T_ART/wait-late.out" 2>&1 </dev/null &
wpid=$!
t0=$(now)
sleep 2
check "kill -0 $wpid 2>/dev/null" "wait: still waiting while redis is down"
stack start-server "$STACK_DIR" redis
rc=0
for ((i = 0; i < 150; i++)); do
	kill -0 "$wpid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$wpid" 2>/dev/null; then
	kill -TERM "$wpid"
	rc=timeout
fi
wait "$wpid" || rc=$?
e=$(elapsed "$t0")
assert_eq "$rc" 0 "wait: exit 0 once redis came up (after $e s)"

# ---------------------------------------------------------------- config
run_cmd config-good "$READYD" config -c "$good"
assert_eq "$RC" 0 "config (valid): exit 0"
assert_contains "$OUT" "$REDIS_PORT" "config: prints the effective values (\${REDIS_PORT} expanded)"
assert_contains "$OUT" "password" "config: lists the password keys"
assert_not_contains "$OUT$ERR" "$POSTGRES_PASSWORD" "config: the PostgreSQL password is masked"
assert_not_contains "$OUT$ERR" "$REDIS_PASSWORD" "config: the Redis password is masked"
run_cmd config-bad-pw "$READYD" config -c "$bad"
assert_eq "$RC" 0 "config (valid, literal password): exit 0"
assert_not_contains "$OUT$ERR" "$bad_pw" "config: a literal password is masked"

# bad_config NAME LINE_CONTENT EXPECT...: a config whose last line is bad;
# config exits 78 naming FILE:LINE and each EXPECT.
bad_config() {
	local name=$1 line=$2 f n e
	shift 2
	f=$T_CONF/$name.conf
	write_std_config "$f"
	printf '\n%s\n' "$line" >>"$f"
	n=$(wc -l <"$f")
	run_cmd "config-$name" "$READYD" config -c "$f"
	assert_eq "$RC" 78 "config $name: exit 78"
	assert_contains "$ERR" "$f:$n" "config $name: the error names $(basename "$f"):$n"
	for e in "$@"; do
		assert_contains "$ERR" "$e" "config $name: the error mentions '$e'"
	done
}
bad_config port $'[check pg2]\nkind = postgres\nhost = 127.0.0.1\ndbname = x\nuser = u\npassword = p\nport = 99999' port 99999
bad_config redisdb $'[check r2]\nkind = redis\nhost = 127.0.0.1\nport = 6379\ndb = 16' db 16
bad_config typo $'[check r3]\nkind = redis\nhost = 127.0.0.1\nport = 6379\nhots = x' hots "did you mean"
bad_config unsetvar $'[check r4]\nkind = redis\nhost = ${READYD_IT_SURELY_UNSET}' READYD_IT_SURELY_UNSET
bad_config timing $'[check r5]\nkind = redis\nhost = 127.0.0.1\nport = 6379\ninterval = 1s\ntimeout = 5s' timeout
bad_config group $'[group g2]\nchecks = postgres no-such-check' no-such-check
bad_config section '[chek x]' chek
bad_config dbname $'[check pg3]\nkind = postgres\nhost = 127.0.0.1\nport = 5432\nuser = u\npassword = p\ndbname = bad-name!' dbname

run_cmd config-missing "$READYD" config -c "$T_CONF/does-not-exist.conf"
check "[[ $RC != 0 ]]" "config of a missing file: fails (got $RC)" "$ERR"
assert_contains "$ERR" does-not-exist.conf "config of a missing file: names it"

# $READYD_CONFIG when there is no -c.
run_cmd config-env env READYD_CONFIG="$good" "$READYD" config
assert_eq "$RC" 0 "READYD_CONFIG=good readyd config: exit 0"
assert_contains "$OUT" "$DB_PORT" "READYD_CONFIG=good readyd config: that file's values"
run_cmd config-env-bad env READYD_CONFIG="$T_CONF/typo.conf" "$READYD" config
assert_eq "$RC" 78 "READYD_CONFIG=invalid readyd config: exit 78"

f=$T_CONF/typo.conf
run_cmd serve-badconf "$READYD" serve -c "$f" --listen "127.0.0.1:$(free_port)"
assert_eq "$RC" 78 "serve with an invalid config: exit 78"
run_cmd once-badconf "$READYD" once -c "$f"
assert_eq "$RC" 78 "once with an invalid config: exit 78"

# ---------------------------------------------------------------- usage
run_cmd usage-cmd "$READYD" frobnicate
assert_eq "$RC" 64 "unknown subcommand: exit 64"
run_cmd usage-flag "$READYD" once --no-such-flag -c "$good"
assert_eq "$RC" 64 "unknown flag: exit 64"
run_cmd version "$READYD" --version
assert_eq "$RC" 0 "--version: exit 0"
assert_match "$OUT" '^readyd [0-9]+\.[0-9]+' "--version: prints 'readyd X.Y...'"
run_cmd help "$READYD" --help
assert_eq "$RC" 0 "--help: exit 0"
assert_contains "$OUT$ERR" "readyd check" "--help: lists the subcommands"
