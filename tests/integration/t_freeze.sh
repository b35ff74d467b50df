#!/usr/bin/env bash
# Each server frozen (SIGSTOP) in turn: its checks fail with reason timeout
# after about the configured timeout (1 s), while /live and /ready keep
# answering at once (median under 100 ms); thawed, everything recovers.
# readyd also stops promptly on SIGTERM while a backend is frozen.
# shellcheck source=tests/integration/lib.sh
source "$(dirname -- "$0")/lib.sh"

on_exit "$STACK restore $STACK_DIR >>$T_ART/stack.log 2>&1"
LIMIT=0.100 # seconds, median of 7

conf=$T_CONF/std.conf
write_std_config "$conf"
start_readyd "$conf" || exit 1
wait_all_pass 15 || exit 1

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

	echo "# freezing $srv"
	t0=$(now)
	stack freeze "$STACK_DIR" "$srv"
	for c in "${down[@]}"; do
		wait_check "$c" fail timeout 15
		lat=$(field "$c" latency_ms)
		check "fle 0.9 \$(awk -v l='$lat' 'BEGIN { print l / 1000 }') && fle '$lat' 2000" \
			"$c: the failed attempt took about the timeout (1 s): latency_ms $lat" \
			"$(check_json "$c")"
	done
	echo "# $srv frozen: checks failed after $(elapsed "$t0") s"
	# /ready needs pgbouncer, not postgres (in no group): a whole frozen
	# server stops PgBouncer's pooled connections too.
	[[ $srv == postgres ]] && wait_check pgbouncer fail "" 15

	m=$(median_time "$READYD_URL/live" 7)
	check "fle $m $LIMIT" "$srv frozen: /live answers fast (median ${m}s < ${LIMIT}s)"
	m=$(median_time "$READYD_URL/ready" 7)
	check "fle $m $LIMIT" "$srv frozen: /ready answers fast (median ${m}s < ${LIMIT}s)"
	m=$(median_time "$READYD_URL/ready/file-service?verbose" 7)
	check "fle $m $LIMIT" "$srv frozen: /ready/file-service?verbose fast (median ${m}s)"
	assert_eq "$(http_status "$READYD_URL/live")" 200 "$srv frozen: /live 200"
	http_req "$READYD_URL/ready"
	assert_eq "$HTTP_STATUS" 503 "$srv frozen: /ready 503"
	assert_match "$(header Retry-After)" '^[0-9]+$' "$srv frozen: Retry-After"
	for c in "${unrelated[@]}"; do
		assert_eq "$(field "$c" status)" pass "$srv frozen: $c stays pass"
	done
	http_req "$READYD_URL/ready?verbose"
	for c in "${down[@]}"; do
		l="[-]$c failed: timeout"
		# postgres is in no group of the std config: only a warning
		[[ $c == postgres ]] && l="[!]$c failed: timeout (in no group: warn)"
		check "grep -qxF '$l' <<<\"\$HTTP_BODY\"" \
			"$srv frozen: ?verbose has '$l'" "$HTTP_BODY"
	done

	# Still failing a few timeouts later: no attempt piles up or hangs.
	sleep 3.5
	for c in "${down[@]}"; do
		j=$(check_json "$c")
		check "[[ \$(jq -r .status <<<'$j') == fail && \$(jq -r .consecutive_failures <<<'$j') -ge 3 ]]" \
			"$c: keeps probing while frozen (consecutive_failures >= 3)" "$j"
	done

	echo "# thawing $srv"
	stack thaw "$STACK_DIR" "$srv"
	for c in "${down[@]}"; do
		wait_check "$c" pass "" 30
	done
	wait_all_pass 30
done

# SIGTERM while PostgreSQL and Redis are frozen: readyd must not wait on them.
stack freeze "$STACK_DIR" postgres
stack freeze "$STACK_DIR" redis
sleep 1.5
t0=$(now)
stop_readyd
check "fle $(elapsed "$t0") 2" "SIGTERM with frozen backends: exits within 2 s"
stack thaw "$STACK_DIR" redis
stack thaw "$STACK_DIR" postgres
