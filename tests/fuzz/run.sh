#!/usr/bin/env bash
# Run each libFuzzer target for a bounded time.
#   tests/fuzz/run.sh BINDIR SECONDS TARGET...
# BINDIR holds fuzz_TARGET binaries. Seeds come from tests/fuzz/corpus/
# TARGET and tests/fuzz/regress/TARGET (read only); what the fuzzer adds
# goes to BINDIR/corpus/TARGET, crashes to BINDIR/artifacts/TARGET/.
# Prints per target the executions, executions per second and coverage
# (cov: edges, ft: features), then "N passed, N failed"; exits 1 when a
# target crashed, leaked, timed out or ran out of memory.
set -uo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/../.."

bindir=$1 secs=$2
shift 2
passed=0 failed=0
failures=()
for t in "$@"; do
	bin=$bindir/fuzz_$t
	work=$bindir/corpus/$t
	art=$bindir/artifacts/$t
	log=$bindir/$t.log
	mkdir -p "$work" "$art"
	seeds=(tests/fuzz/corpus/"$t")
	[[ -d tests/fuzz/regress/$t ]] && seeds+=(tests/fuzz/regress/"$t")
	dict=()
	[[ -f tests/fuzz/$t.dict ]] && dict=(-dict=tests/fuzz/"$t".dict)
	echo "== fuzz $t: ${secs}s"
	# stdin from /dev/null: a configuration naming /dev/stdin must not
	# wait for a terminal.
	"$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=25 \
		-max_len=8192 -artifact_prefix="$art/" "${dict[@]}" \
		"$work" "${seeds[@]}" </dev/null >"$log" 2>&1
	rc=$?
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
	[[ -n $done_line ]] ||
		done_line=$(grep -E '^#[0-9]+[[:space:]]' "$log" | tail -1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")
	corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$done_line")
	printf 'fuzz %-9s %s: %s execs, %s exec/s, cov: %s ft: %s corp: %s\n' \
		"$t" "$([[ $rc == 0 ]] && echo ok || echo FAILED)" \
		"${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
	if [[ $rc == 0 ]]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$t")
		echo "---- $log (last 60 lines)"
		tail -n 60 "$log"
		echo "---- artifacts in $art:"
		ls -l "$art"
	fi
done
((failed)) && echo "fuzz: failed: ${failures[*]} (add each crash to tests/fuzz/regress/TARGET/)"
echo "$passed passed, $failed failed"
((failed == 0))
