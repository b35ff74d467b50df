#!/usr/bin/env bash
# run.sh READYD_BIN: the chaos soak (make soak; not part of make test).
#
# readyd (built with ASan/UBSan/LSan by `make soak`) runs the default
# configuration (config/readyd.conf, copied to a file so that SIGHUP can
# reload it) against a throwaway stack (tests/stack/stack.sh) for
# SOAK_MINUTES (default 10) while tests/soak/chaos.py injects random faults
# from a fixed menu at random times (seed printed; SOAK_SEED replays) and
# polls /live, /ready, /ready/GROUP and /metrics throughout. See chaos.py
# for the menu and the invariants; the last lines are its summary and
# "soak: PASS" or "soak: FAIL".
#
# As root, everything runs in a private network namespace (unshare -n),
# where iptables can blackhole a backend's port without touching the
# machine's firewall; without one, the blackhole item is skipped (said so).
# SOAK_KEEP=1 keeps the scratch directory (readyd's log, samples).
set -uo pipefail

BIN=${1:?usage: run.sh READYD_BIN}
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
STACK=$ROOT/tests/stack/stack.sh
BIN=$(cd -- "$(dirname -- "$BIN")" && pwd)/$(basename -- "$BIN")
[[ -x $BIN ]] || {
	echo "soak: $BIN: not an executable" >&2
	exit 2
}

if [[ -z ${SOAK_NETNS_INSIDE:-} ]]; then
	if [[ $(id -u) == 0 ]] && command -v iptables >/dev/null && unshare -n true 2>/dev/null; then
		export SOAK_NETNS_INSIDE=1
		exec unshare -n -- bash "$0" "$@"
	fi
	export SOAK_NETNS_INSIDE=0
	echo "soak: not in a network namespace of our own (needs root, unshare, iptables): the blackhole item is skipped"
fi
if [[ $SOAK_NETNS_INSIDE == 1 ]]; then
	ip link set lo up || {
		echo "soak: cannot bring up lo in the namespace" >&2
		exit 2
	}
	export SOAK_BLACKHOLE=1
else
	export SOAK_BLACKHOLE=0
fi

WORK=$(mktemp -d /tmp/readyd-soak.XXXXXX) || exit 2
chmod 755 "$WORK"
cleanup() {
	"$STACK" stop "$WORK/stack" >>"$WORK/stack.log" 2>&1
	if [[ $SOAK_NETNS_INSIDE == 1 ]]; then iptables -F INPUT 2>/dev/null; fi
	if [[ ${SOAK_KEEP:-0} == 1 ]]; then
		echo "soak: kept $WORK"
	else
		rm -rf -- "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cp -- "$BIN" "$WORK/readyd"
cp -- "$ROOT/config/readyd.conf" "$WORK/readyd.conf"
if ! "$STACK" start "$WORK/stack" >>"$WORK/stack.log" 2>&1; then
	echo "soak: the stack did not start" >&2
	tail -n 20 "$WORK/stack.log" >&2
	exit 2
fi
set -a
# shellcheck disable=SC1091
source "$WORK/stack/env"
set +a
# The quarantine (freed memory ASan holds back to catch a use after free)
# is capped at 16 MiB instead of 256: RSS then reaches its plateau during
# the warm-up, and its growth afterwards means a leak.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:exitcode=86:quarantine_size_mb=16
export UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1:exitcode=87
python3 "$HERE/chaos.py" "$WORK" "$STACK"
