#!/usr/bin/env bash
# run.sh DEB READYD_BIN: the deployment proven by the real programs (make
# test-deploy).
#
#   package    DEB is lintian-clean (errors and warnings) and holds what the
#              unit and the operator need
#   systemd    systemd.sh: DEB installed with apt under systemd 252 as PID 1
#              in systemd-nspawn, then purged and READYD_BIN installed with
#              make install PREFIX=/usr
#   container  container.sh: docker/Dockerfile built and run with podman
#
# One test stack (tests/stack/stack.sh: PostgreSQL, PgBouncer, Redis on the
# host's loopback) serves both. Each assertion prints "ok NAME" or
# "FAIL NAME"; the last lines are the time taken and "N passed, N failed".
# Needs root, systemd-container, podman, runc, debootstrap, lintian (make
# test-deploy installs them). Slow parts are cached in
# /var/tmp/readyd-deploy (READYD_DEPLOY_CACHE): the first run takes a few
# minutes more.
set -uo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
# shellcheck source=tests/deploy/lib.sh
source "$HERE/lib.sh"

DEB=$(realpath -- "${1:?usage: run.sh DEB READYD_BIN}")
BIN=$(realpath -- "${2:?usage: run.sh DEB READYD_BIN}")
[[ $(id -u) == 0 ]] || die "make test-deploy needs root (systemd-nspawn, podman)"
t0=$SECONDS
TOTAL_P=0
TOTAL_F=0

STACK=$(mktemp -d /tmp/readyd-deploy-stack.XXXXXX) || exit 1
W=$(mktemp -d /tmp/readyd-deploy.XXXXXX) || exit 1
cleanup() {
	"$ROOT/tests/stack/stack.sh" stop "$STACK" >/dev/null 2>&1
	rm -rf -- "$STACK" "$W"
}
trap cleanup EXIT

# ---------------------------------------------------------------- package

echo "== package ($(basename "$DEB"))"
lintian_clean() {
	local out rc
	out=$(lintian --fail-on error,warning --display-info "$DEB" 2>&1)
	rc=$?
	echo "info: lintian $(lintian --version | awk '{print $2}'): $(grep -cE '^[EW]: ' <<<"$out") errors and warnings, $(grep -cE '^[IN]: ' <<<"$out") info or notes"
	grep -E '^[EWIN]: ' <<<"$out" | sed 's/^/info:   /'
	grep -E '^[EW]: ' <<<"$out"
	((rc == 0))
}
assert deb-lintian-clean lintian_clean

deb_contents() {
	local bad=0 x=$W/deb
	dpkg-deb -R "$DEB" "$x" || return 1
	want() {
		"$@" || {
			echo "not true: $*"
			bad=1
		}
	}
	want grep -qx /etc/readyd/readyd.conf "$x/DEBIAN/conffiles"
	want grep -qx /etc/readyd/readyd.env "$x/DEBIAN/conffiles"
	want test "$(stat -c %a "$x/etc/readyd/readyd.env")" = 600
	want grep -qx 'ExecStart=/usr/bin/readyd serve -c /etc/readyd/readyd.conf' \
		"$x/lib/systemd/system/readyd.service"
	want test -x "$x/usr/bin/readyd"
	want test -f "$x/usr/share/man/man8/readyd.8.gz"
	want grep -q 'deb-systemd-helper enable .readyd.service' "$x/DEBIAN/postinst"
	local dep
	dep=$(dpkg-deb -f "$DEB" Depends)
	for p in libpq5 libhiredis0.14 libevent-2.1-7 libinih1 libjansson4 libsystemd0 procps; do
		want grep -qw "$p" <<<"$dep"
	done
	echo "info: Depends: $dep"
	echo "info: conffiles: $(tr '\n' ' ' <"$x/DEBIAN/conffiles")"
	return $bad
}
assert deb-contents deb_contents
TOTAL_P=$PASSED
TOTAL_F=$FAILED

# ---------------------------------------------------------------- the rest

"$ROOT/tests/stack/stack.sh" start "$STACK" >"$W/stack.log" 2>&1 || {
	tail -n 20 "$W/stack.log"
	die "the test stack did not start"
}

part() {
	local name=$1 line
	shift
	local t=$SECONDS
	"$@" 2>&1 | tee "$W/$name.log"
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$W/$name.log" | tail -n 1)
	if [[ -z $line ]]; then
		echo "FAIL $name (ended without a summary after $((SECONDS - t)) s)"
		TOTAL_F=$((TOTAL_F + 1))
		return
	fi
	read -r _ p _ f _ <<<"$line"
	TOTAL_P=$((TOTAL_P + p))
	TOTAL_F=$((TOTAL_F + f))
}
part systemd "$HERE/systemd.sh" "$DEB" "$STACK" "$BIN"
part container "$HERE/container.sh" "$STACK"

echo "test-deploy took $((SECONDS - t0)) s"
echo "$TOTAL_P passed, $TOTAL_F failed"
((TOTAL_F == 0))
