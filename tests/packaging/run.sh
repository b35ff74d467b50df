#!/usr/bin/env bash
# run.sh [READYD_BIN]: tests of what ships around the daemon: the systemd
# unit, the Docker image and compose stack, the stack's configuration files,
# the Kubernetes manifests, the Prometheus rules, the man page, make install
# and the Debian packaging's version. (The package and image built and run
# for real: tests/deploy, make test-deploy.)
#
# READYD_BIN defaults to build/readyd (the libraries it loads are checked
# against the image's package list). Each assertion prints "ok NAME" or
# "FAIL NAME" with the reasons; the last line is "N passed, N failed" and
# the exit status is non-zero when any failed.
#
# Needs (Debian 12): docker-compose, prometheus (promtool), systemd
# (systemd-analyze), man-db, groff-base, python3, python3-yaml, binutils
# (readelf), pkg-config, dpkg, make; no Docker engine.
set -uo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ -n ${1:-} ]]; then
	BIN=$1
	[[ $BIN == /* ]] || BIN=$PWD/$BIN
else
	BIN=$ROOT/build/readyd
fi
cd "$ROOT" || exit 1

MAX_EXPOSURE=1.5
PASSED=0
FAILED=0
WORK=$(mktemp -d /tmp/readyd-pkg.XXXXXX) || exit 1
trap 'rm -rf -- "$WORK"' EXIT

# assert NAME CMD...: CMD's exit status decides; its output explains a
# failure. Lines starting with "info: " are shown on success too.
assert() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if ((rc == 0)); then
		PASSED=$((PASSED + 1))
		echo "ok   $name"
		grep '^info: ' <<<"$out" | sed 's/^info: /     /'
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $name"
		# shellcheck disable=SC2001 # indent every line
		[[ -n $out ]] && sed 's/^/     /' <<<"$out"
	fi
}

need() {
	local tool=$1 pkg=$2
	command -v "$tool" >/dev/null 2>&1 && return 0
	echo "$tool not found: apt-get install $pkg (make deps)"
	return 1
}

have_bin() {
	[[ -x $BIN ]] && return 0
	echo "$BIN: not an executable (run make first)"
	return 1
}

py() {
	need python3 python3 || return 1
	python3 -c 'import yaml' 2>/dev/null || {
		echo "python3 cannot import yaml: apt-get install python3-yaml"
		return 1
	}
	python3 tests/packaging/checks.py "$@"
}

# ---------------------------------------------------------------- compose

# docker-compose v1 is Debian 12's; it validates offline. The empty
# --env-file keeps a developer's docker/.env out of the verdict: the file
# must be valid with no .env at all.
compose_config() {
	need docker-compose docker-compose || return 1
	local err
	: >"$WORK/empty.env"
	err=$(docker-compose --env-file "$WORK/empty.env" "$@" config -q 2>&1 >/dev/null)
	local rc=$?
	[[ -n $err ]] && echo "$err"
	((rc == 0)) && [[ -z $err ]]
}

assert compose-config compose_config -f docker/compose.yaml
assert compose-config-secrets compose_config -f docker/compose.yaml \
	-f docker/compose.secrets.yaml
assert compose-stack py compose
assert pgbouncer-entrypoint-syntax sh -n docker/pgbouncer/entrypoint.sh

# ---------------------------------------------------------------- image

assert dockerfile py dockerfile
assert dockerfile-build-deps py build-deps
runtime_libs() { have_bin && need ldd libc-bin && need readelf binutils && py runtime-libs "$BIN"; }
runtime_minimal() { have_bin && need ldd libc-bin && py runtime-minimal "$BIN"; }
assert dockerfile-runtime-libs runtime_libs
assert dockerfile-runtime-minimal runtime_minimal

# ---------------------------------------------------------------- config

assert stack-config-files py stack-files
assert env-example py env-example
assert kubernetes-manifest py k8s
assert kubernetes-init-container-gating py k8s-gating
assert kubernetes-secret-keys-readme-manifest py k8s-secret-keys
assert default-port-everywhere py ports

# ---------------------------------------------------------------- systemd

systemd_exposure() {
	need systemd-analyze systemd || return 1
	local out level
	out=$(systemd-analyze security --offline=true --no-pager \
		systemd/readyd.service 2>&1)
	level=$(sed -n 's/.*Overall exposure level for [^:]*: *\([0-9.]*\).*/\1/p' \
		<<<"$out" | tail -n 1)
	if [[ -z $level ]]; then
		echo "no \"Overall exposure level\" line in:"
		tail -n 5 <<<"$out"
		return 1
	fi
	echo "info: overall exposure level $level (at most $MAX_EXPOSURE)"
	awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l <= m) }'
}

systemd_unit() {
	local u=systemd/readyd.service bad=0 prefix
	prefix=$(sed -n 's/^PREFIX *?*= *//p' Makefile | head -n 1)
	want() {
		grep -qE "$1" "$u" || {
			echo "$u: no line matching $1"
			bad=1
		}
	}
	want '^Type=notify$'
	want "^ExecStart=${prefix:-/usr/local}/bin/readyd serve -c /etc/readyd/readyd.conf\$"
	# shellcheck disable=SC2016 # $MAINPID is systemd's, not ours
	want '^ExecReload=/bin/kill -HUP \$MAINPID$'
	want '^WatchdogSec=30s$'
	want '^Restart=on-failure$'
	want '^EnvironmentFile=-/etc/readyd/readyd.env$'
	want '^DynamicUser=yes$'
	# The probes must reach the network and the socket must bind.
	want '^RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX$'
	if grep -qE '^(PrivateNetwork=yes|IPAddressDeny=(any|0\.0\.0\.0/0))' "$u"; then
		echo "$u: cuts readyd off the network"
		bad=1
	fi
	return $bad
}

assert systemd-exposure systemd_exposure
assert systemd-unit systemd_unit

# ---------------------------------------------------------------- prometheus

promtool_rules() {
	need promtool prometheus || return 1
	promtool check rules config/prometheus/readyd-rules.yml
}
assert prometheus-rules promtool_rules

# ---------------------------------------------------------------- man page

man_warnings() {
	need man man-db || return 1
	need groff groff-base || return 1
	local err
	err=$(MANWIDTH=80 man --warnings -l docs/readyd.8 2>&1 >/dev/null)
	local rc=$?
	[[ -n $err ]] && echo "$err"
	((rc == 0)) && [[ -z $err ]]
}
assert man-page-renders man_warnings
assert man-page-complete py man-keys

# ---------------------------------------------------------------- install

# make install into a scratch DESTDIR, from the build directory of BIN so
# that nothing is rebuilt elsewhere.
make_install() {
	have_bin || return 1
	need make make || return 1
	local dest=$WORK/destdir prefix bad=0
	prefix=$(sed -n 's/^PREFIX *?*= *//p' Makefile | head -n 1)
	make -s install DESTDIR="$dest" BUILD="$(dirname -- "$BIN")" || return 1
	[[ -x $dest$prefix/bin/readyd ]] || {
		echo "no executable $prefix/bin/readyd"
		bad=1
	}
	cmp -s "$BIN" "$dest$prefix/bin/readyd" || {
		echo "$prefix/bin/readyd differs from $BIN"
		bad=1
	}
	cmp -s docs/readyd.8 "$dest$prefix/share/man/man8/readyd.8" || {
		echo "$prefix/share/man/man8/readyd.8 missing or not docs/readyd.8"
		bad=1
	}
	return $bad
}
assert make-install make_install

# make install PREFIX=/usr as a distribution would: the unit lands in
# systemd's unit directory with ExecStart at the installed binary;
# readyd.conf and readyd.env (0600) are installed once and never
# overwritten; make uninstall removes what install put outside /etc.
make_install_prefix_usr() {
	have_bin || return 1
	need make make || return 1
	need pkg-config pkg-config || return 1
	local dest=$WORK/usr-destdir bad=0 unitdir unit b
	b=$(dirname -- "$BIN")
	unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null)
	unitdir=${unitdir:-/usr/lib/systemd/system}
	unit=$dest$unitdir/readyd.service
	make -s install PREFIX=/usr DESTDIR="$dest" BUILD="$b" >/dev/null || return 1
	[[ -x $dest/usr/bin/readyd ]] || {
		echo "no /usr/bin/readyd"
		bad=1
	}
	if [[ -f $unit ]]; then
		grep -qx 'ExecStart=/usr/bin/readyd serve -c /etc/readyd/readyd.conf' "$unit" || {
			echo "$unitdir/readyd.service: $(grep '^ExecStart=' "$unit")"
			bad=1
		}
		echo "info: $unitdir/readyd.service: $(grep '^ExecStart=' "$unit")"
		# the installed unit is the shipped one but for ExecStart
		[[ $(diff systemd/readyd.service "$unit" | grep -c '^[<>]') == 2 ]] || {
			echo "the installed unit differs from systemd/readyd.service in more than ExecStart"
			bad=1
		}
	else
		echo "no unit in $unitdir"
		bad=1
	fi
	cmp -s config/readyd.conf "$dest/etc/readyd/readyd.conf" || {
		echo "/etc/readyd/readyd.conf missing or not config/readyd.conf"
		bad=1
	}
	cmp -s config/env.example "$dest/etc/readyd/readyd.env" || {
		echo "/etc/readyd/readyd.env missing or not config/env.example"
		bad=1
	}
	[[ $(stat -c %a "$dest/etc/readyd/readyd.env" 2>/dev/null) == 600 ]] || {
		echo "/etc/readyd/readyd.env is not 0600"
		bad=1
	}
	# An operator's files survive a second install.
	echo "# edited" >>"$dest/etc/readyd/readyd.conf"
	echo "DB_USER=edited" >>"$dest/etc/readyd/readyd.env"
	make -s install PREFIX=/usr DESTDIR="$dest" BUILD="$b" >/dev/null || return 1
	if ! grep -qx '# edited' "$dest/etc/readyd/readyd.conf" ||
		! grep -qx 'DB_USER=edited' "$dest/etc/readyd/readyd.env"; then
		echo "a second make install overwrote /etc/readyd"
		bad=1
	fi
	make -s uninstall PREFIX=/usr DESTDIR="$dest" BUILD="$b" >/dev/null || return 1
	local left
	left=$(cd "$dest" && find . ! -type d ! -path './etc/readyd/*')
	[[ -z $left ]] || {
		echo "left after make uninstall: $left"
		bad=1
	}
	[[ -f $dest/etc/readyd/readyd.env ]] || {
		echo "make uninstall removed the operator's /etc/readyd/readyd.env"
		bad=1
	}
	return $bad
}
assert make-install-prefix-usr make_install_prefix_usr

deb_version() {
	need dpkg-parsechangelog dpkg-dev || return 1
	local v m
	v=$(dpkg-parsechangelog -l config/debian/changelog -S Version)
	m=$(sed -n 's/^VERSION *:= *//p' Makefile)
	echo "info: config/debian/changelog $v, Makefile $m"
	[[ $v == "$m" ]]
}
assert deb-changelog-version deb_version

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
