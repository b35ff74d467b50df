#!/usr/bin/env bash
# Each server stopped in turn: its checks fail with reason refused, the
# groups that need it answer 503 with Retry-After, unrelated checks stay
# pass, /live stays 200; started again, everything recovers.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"

conf=$T_CONF/std.conf
write_std_config "$conf"
start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1

# since_of CHECK: the check's "since" (changes on every transition).
since_of() { field "$1" since; }

for srv in postgres pgbouncer redis; do
	case $srv in
	postgres)
		down=(postgres)
		unrelated=("${REDIS_CHECKS[@]}")
		;;
	pgbouncer)
		down=(pgbouncer)
		unrelated=(postgres "${REDIS_CHECKS[@]}")
		;;
	redis)
		down=("${REDIS_CHECKS[@]}")
		unrelated=(postgres pgbouncer)
		;;
	esac
	declare -A since=()
	for c in "${unrelated[@]}"; do since[$c]=$(since_of "$c"); done

	echo "# stopping $srv"
	stack stop "$STACK_DIR" "$srv"
	for c in "${down[@]}"; do
		wait_check "$c" fail refused 15
		check "[[ \$(field '$c' output) != null && -n \$(field '$c' output) ]]" "$c: output (error text) shown to a loopback client" \
			"$(check_json "$c")"
		assert_eq "$(field "$c" required)" true "$c: required still true"
		check "[[ \$(field '$c' consecutive_failures) -ge 2 ]]" \
			"$c: consecutive_failures >= retries" "$(check_json "$c")"
	done
	if [[ $srv == postgres ]]; then
		# PgBouncer cannot log in to PostgreSQL either; the reason depends
		# on PgBouncer's state (timeout, then server_login_retry).
		wait_check pgbouncer fail "" 20
		echo "# pgbouncer with postgres down: $(check_json pgbouncer)"
	fi

	http_req "$READYD_URL/ready"
	assert_eq "$HTTP_STATUS" 503 "$srv down: GET /ready 503"
	assert_match "$(header Retry-After)" '^[0-9]+$' "$srv down: 503 has Retry-After (seconds)"
	assert_eq "$(jq -r .status <<<"$HTTP_BODY" 2>/dev/null)" fail "$srv down: top-level status fail"
	http_req -I "$READYD_URL/ready"
	assert_eq "$HTTP_STATUS" 503 "$srv down: HEAD /ready 503"
	assert_eq "$HTTP_SIZE" 0 "$srv down: HEAD /ready no body"
	assert_eq "$(http_status "$READYD_URL/readyz")" 503 "$srv down: /readyz 503"

	# Groups: which need the stopped server (postgres: through pgbouncer).
	for g in "${STD_GROUPS[@]}"; do
		http_req "$READYD_URL/ready/$g"
		assert_eq "$HTTP_STATUS" 503 "$srv down: /ready/$g 503"
		assert_match "$(header Retry-After)" '^[0-9]+$' "$srv down: /ready/$g has Retry-After"
	done
	for c in "${down[@]}"; do
		assert_eq "$(http_status "$READYD_URL/ready/$c")" 503 "$srv down: /ready/$c 503"
	done
	for c in "${unrelated[@]}"; do
		assert_eq "$(field "$c" status)" pass "$srv down: $c stays pass"
		assert_eq "$(since_of "$c")" "${since[$c]}" "$srv down: $c never left pass (since unchanged)"
		assert_eq "$(http_status "$READYD_URL/ready/$c")" 200 "$srv down: /ready/$c 200"
	done

	# ?verbose
	http_req "$READYD_URL/ready?verbose"
	assert_eq "$HTTP_STATUS" 503 "$srv down: ?verbose 503"
	for c in "${down[@]}"; do
		l="[-]$c failed: refused"
		# postgres is in no group of the std config: only a warning
		[[ $c == postgres ]] && l="[!]$c failed: refused (in no group: warn)"
		check "grep -qxF '$l' <<<\"\$HTTP_BODY\"" \
			"$srv down: ?verbose has '$l'" "$HTTP_BODY"
	done
	for c in "${unrelated[@]}"; do
		check "grep -qxF '[+]$c ok' <<<\"\$HTTP_BODY\"" "$srv down: ?verbose has '[+]$c ok'" "$HTTP_BODY"
	done
	assert_eq "$(tail -n 1 <<<"$HTTP_BODY")" "not ready" "$srv down: ?verbose last line 'not ready'"

	# ?exclude: leaving the failed checks out makes it ready again.
	q=
	failed_now=("${down[@]}")
	[[ $srv == postgres ]] && failed_now+=(pgbouncer)
	for c in "${failed_now[@]}"; do q+="exclude=$c&"; done
	assert_eq "$(http_status "$READYD_URL/ready?${q%&}")" 200 "$srv down: /ready?${q%&} 200"
	if [[ $srv == redis ]]; then
		assert_eq "$(http_status "$READYD_URL/ready/user-service?exclude=redis-cache")" 200 \
			"redis down: /ready/user-service?exclude=redis-cache 200"
	fi

	# Liveness never depends on a backend.
	assert_eq "$(http_status "$READYD_URL/live")" 200 "$srv down: /live 200"

	echo "# starting $srv again"
	stack start-server "$STACK_DIR" "$srv"
	for c in "${down[@]}"; do
		# PgBouncer may refuse for server_login_retry (1 s, as shipped) more.
		wait_check "$c" pass "" 30
	done
	wait_all_pass 30
	assert_eq "$(http_status "$READYD_URL/ready/file-service")" 200 "$srv back: /ready/file-service 200"
	unset since
done

# A check that never passed: readyd started while Redis is down.
stop_readyd
stack stop "$STACK_DIR" redis
start_readyd "$conf" || exit 1
for c in "${REDIS_CHECKS[@]}"; do
	wait_check "$c" fail refused 15
done
assert_eq "$(http_status "$READYD_URL/ready")" 503 "never-passed redis: /ready 503"
stack start-server "$STACK_DIR" redis
wait_all_pass 20
stop_readyd
