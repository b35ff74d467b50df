#!/usr/bin/env bash
# run.sh READYD_BIN [TEST...]: integration tests of readyd against real
# servers. Starts one throwaway stack (tests/stack/stack.sh), runs every
# tests/integration/t_*.sh (or the TESTs named, e.g. t_pass), restores the
# stack between test files, stops it at the end, even on failure or Ctrl-C.
# The last line is "N passed, N failed"; the exit status is non-zero when
# any assertion failed or none ran.
#
# Environment: IT_KEEP=1 keeps the scratch directory (logs, bodies);
# IT_FILE_TIMEOUT (default 300) bounds each test file in seconds (a file
# may ask for more with a line "# IT_FILE_TIMEOUT=N"); IT_AGREE=0 leaves
# t_agree (the agreement test with the applications' real clients, about
# 6 minutes) out of a run of all files (make test-asan does: it judges
# behaviour, which the plain run has already judged).
set -uo pipefail

BIN=${1:?usage: run.sh READYD_BIN [TEST...]}
shift
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
STACK=$(cd -- "$HERE/../stack" && pwd)/stack.sh

die() {
	echo "run.sh: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

[[ -x $BIN ]] || die "$BIN: not an executable (run make first)"
for tool in curl jq timeout awk setpriv; do
	command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool (make deps; apt-get install jq)"
done

IT_WORK=$(mktemp -d /tmp/readyd-it.XXXXXX) || die "mktemp failed"
chmod 755 "$IT_WORK"
STACK_DIR=$IT_WORK/stack
IT_RESULTS=$IT_WORK/results
IT_ARTIFACTS=$IT_WORK/artifacts
IT_SECRETS=$IT_WORK/secrets
mkdir -p "$IT_ARTIFACTS" "$IT_WORK/conf" "$IT_WORK/bin"
# A private copy: a rebuild during the run must not change the binary.
cp -- "$BIN" "$IT_WORK/bin/readyd" || { rm -rf -- "$IT_WORK"; die "cannot copy $BIN"; }
READYD=$IT_WORK/bin/readyd
: >"$IT_RESULTS"
: >"$IT_SECRETS"
: >"$IT_WORK/pids"
export READYD IT_WORK STACK_DIR IT_RESULTS IT_ARTIFACTS IT_SECRETS
# A sanitizer report must not pass for "exit 1, not ready".
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:exitcode=87

# Kill the readyd processes that test files started and left (by PID,
# only if it still is a readyd).
reap_readyd() {
	local pid exe
	while read -r pid; do
		[[ $pid =~ ^[0-9]+$ ]] || continue
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
		[[ $exe == "$READYD" ]] || continue
		echo "run.sh: killing leftover readyd $pid" >&2
		kill -KILL "$pid" 2>/dev/null || true
	done <"$IT_WORK/pids"
	: >"$IT_WORK/pids"
}

CLEANED=no
cleanup() {
	[[ $CLEANED == yes ]] && return 0
	CLEANED=yes
	reap_readyd
	"$STACK" stop "$STACK_DIR" >&2 || echo "run.sh: stopping the stack failed" >&2
	if [[ ${IT_KEEP:-0} == 1 ]]; then
		echo "run.sh: kept $IT_WORK" >&2
	else
		rm -rf -- "$IT_WORK"
	fi
}
TPID=
on_signal() {
	trap - INT TERM
	echo "run.sh: interrupted" >&2
	if [[ -n $TPID ]]; then
		# timeout passes the signal on to the test file, which cleans up.
		kill -TERM "$TPID" 2>/dev/null
		wait "$TPID" 2>/dev/null
	fi
	local p f
	p=$(count ok)
	f=$(($(count 'not ok') + 1))
	cleanup
	echo "$p passed, $f failed"
	exit 130
}
trap cleanup EXIT
trap on_signal INT TERM

count() { grep -c "^$1 - " "$IT_RESULTS" 2>/dev/null || true; }

if ! "$STACK" start "$STACK_DIR"; then
	cleanup
	die "the stack did not start"
fi
# shellcheck disable=SC1091
source "$STACK_DIR/env"
printf '%s\n' "$POSTGRES_PASSWORD" "$REDIS_PASSWORD" >>"$IT_SECRETS"

tests=()
if (($#)); then
	for t in "$@"; do
		t=${t%.sh}
		t=${t##*/}
		[[ -f $HERE/$t.sh ]] || die "no test $t"
		tests+=("$HERE/$t.sh")
	done
else
	for t in "$HERE"/t_*.sh; do
		[[ -f $t ]] || continue
		if [[ $(basename "$t") == t_agree.sh && ${IT_AGREE:-1} == 0 ]]; then
			echo "run.sh: t_agree not run (IT_AGREE=0)" >&2
			continue
		fi
		tests+=("$t")
	done
fi

restore_ok=yes
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	echo "== $name"
	t0=$SECONDS
	rc=0
	ftimeout=${IT_FILE_TIMEOUT:-300}
	own=$(sed -n 's/^# IT_FILE_TIMEOUT=\([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)
	[[ -n $own ]] && ((own > ftimeout)) && ftimeout=$own
	# In the background so that a signal to run.sh reaches on_signal at
	# once (timeout puts the test in its own process group).
	timeout -k 10 "$ftimeout" bash "$t" </dev/null &
	TPID=$!
	wait "$TPID" || rc=$?
	TPID=
	if ((rc == 124 || rc == 137)); then
		echo "not ok - $name: finished within $ftimeout s" | tee -a "$IT_RESULTS"
	elif ((rc != 0)); then
		echo "not ok - $name: test file exited with status $rc" | tee -a "$IT_RESULTS"
	fi
	echo "== $name: $((SECONDS - t0)) s"
	reap_readyd
	# Each file should leave the stack as it found it; make sure.
	if ! "$STACK" restore "$STACK_DIR"; then
		echo "not ok - $name: stack restored afterwards" | tee -a "$IT_RESULTS"
		restore_ok=no
		break
	fi
done

ran=$(($(count ok) + $(count 'not ok')))

# No secret may appear in anything readyd printed, logged or served.
if [[ $restore_ok == yes ]] && ((ran > 0)); then
	leaks=
	while read -r s; do
		[[ -n $s ]] || continue
		f=$(grep -rlF -- "$s" "$IT_ARTIFACTS" 2>/dev/null | head -n 5)
		[[ -n $f ]] && leaks+="${s:0:3}... in: $(echo "$f" | sed "s|$IT_ARTIFACTS/||" | tr '\n' ' ')"$'\n'
	done <"$IT_SECRETS"
	nfiles=$(find "$IT_ARTIFACTS" -type f | wc -l)
	if [[ -z $leaks ]]; then
		echo "ok - run: no password in any of $nfiles outputs, logs and bodies" | tee -a "$IT_RESULTS"
	else
		echo "not ok - run: no password in any of $nfiles outputs, logs and bodies" | tee -a "$IT_RESULTS"
		printf '%s' "$leaks" | sed 's/^/#   /'
	fi
fi

if ((ran > 0)); then
	f=$(grep -rlE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: (Address|Undefined)' \
		"$IT_ARTIFACTS" 2>/dev/null | head -n 5)
	if [[ -z $f ]]; then
		echo "ok - run: no sanitizer report in any output" | tee -a "$IT_RESULTS"
	else
		echo "not ok - run: no sanitizer report in any output" | tee -a "$IT_RESULTS"
		for x in $f; do
			echo "#   $x:"
			grep -E -A 12 'ERROR: |runtime error:' "$x" | head -n 40 | sed 's/^/#     /'
		done
	fi
fi

passed=$(count ok)
failed=$(count 'not ok')
if ((failed > 0)); then
	# The scratch directory goes away: show the logs of the failed files.
	# shellcheck disable=SC2013 # test names are single words
	for t in $(grep '^not ok - ' "$IT_RESULTS" | sed 's/^not ok - \([^:]*\):.*/\1/' | sort -u); do
		for log in "$IT_ARTIFACTS/$t"/readyd-*.log; do
			[[ -f $log ]] || continue
			echo "---- last lines of $t/$(basename "$log")"
			tail -n 25 "$log"
		done
	done
	echo
	echo "Failed:"
	grep '^not ok - ' "$IT_RESULTS"
fi
cleanup
trap - EXIT INT TERM
if ((ran == 0)); then
	echo "run.sh: no test ran" >&2
	echo "0 passed, 0 failed"
	exit 1
fi
echo "$passed passed, $failed failed"
((failed == 0))
