#!/usr/bin/env bash
# systemd.sh DEB STACK_DIR [READYD_BIN]: the Debian package, then `make
# install PREFIX=/usr` of READYD_BIN, under a real systemd.
#
# Boots Debian 12 with systemd 252 as PID 1 in systemd-nspawn, sharing the
# host's network (so the test stack on the host's loopback is reachable),
# installs DEB there with apt, fills /etc/readyd/readyd.env from the
# stack's STACK_DIR/env and asserts what the unit promises: enabled by the
# package, `active (running)` only after READY=1, STATUS=, /ready 200, the
# watchdog, reload with a good and a bad configuration, the drain on stop,
# the live sandbox exposure and a journal free of EPERM and SIGSYS.
#
# How it boots on these machines: their PID 1 is not systemd, so nspawn
# cannot register a scope over D-Bus: --register=no --keep-unit. There is
# no machined, so commands run through nsenter into the container's PID 1.
# The root (systemd, dbus, curl and the package's libraries on top of
# lib.sh's debootstrap base) is cached in $CACHE. Needs root.
set -uo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/deploy/lib.sh
source "$HERE/lib.sh"

DEB=$(realpath -- "${1:?usage: systemd.sh DEB STACK_DIR}")
STACK=${2:?usage: systemd.sh DEB STACK_DIR}
BIN=${3:-}
[[ -z $BIN ]] || BIN=$(realpath -- "$BIN")
SRC=$(cd -- "$HERE/../.." && pwd)
[[ $(id -u) == 0 ]] || die "systemd.sh needs root (systemd-nspawn)"
MAX_EXPOSURE=1.5
DRAIN=3

# ---------------------------------------------------------------- the root

# The package's runtime libraries, from its Depends (dpkg-shlibdeps), go
# into the cached root; the root is rebuilt when that list changes.
pkgs="systemd systemd-sysv dbus curl $(dpkg-deb -f "$DEB" Depends |
	tr ',' '\n' | sed 's/[( ].*//; s/^ *//' | grep -v '^\$' | sort | tr '\n' ' ')"
key=$(echo "$pkgs" | sha256sum | cut -c1-12)
SD_TAR=$CACHE/bookworm-systemd-$key.tar.zst

systemd_tarball() {
	base_tarball || return 1
	(
		flock 9
		[[ -s $SD_TAR ]] && exit 0
		t=$(mktemp -d "$CACHE/sdroot.XXXXXX")
		echo "deploy: making the systemd root ($pkgs) once: $SD_TAR"
		zstd -dc "$BASE_TAR" | tar -C "$t" -x
		# shellcheck disable=SC2086 # a list of package names
		in_chroot "$t" sh -ec "apt-get update -qq
			apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
			apt-get clean" || {
			rm -rf --one-file-system "$t"
			exit 1
		}
		rm -f "$t/etc/resolv.conf"
		: >"$t/etc/machine-id"
		tar -C "$t" --numeric-owner -c . | zstd -q -T0 -f -o "$SD_TAR.tmp"
		mv "$SD_TAR.tmp" "$SD_TAR"
		# roots for other package lists
		find "$CACHE" -maxdepth 1 -name 'bookworm-systemd-*.tar.zst' ! -name "${SD_TAR##*/}" -delete
		rm -rf --one-file-system "$t"
	) 9>"$CACHE/sdroot.lock"
}

W=$(mktemp -d "$CACHE/systemd-run.XXXXXX") || exit 1
R=$W/root
NSPAWN_PID=
MACHINE=readyd-$(basename "$W" | tr -dc 'A-Za-z0-9' | tail -c 7)

cleanup() {
	if [[ -n $NSPAWN_PID ]]; then
		in_root systemctl poweroff >/dev/null 2>&1
		for _ in $(seq 50); do
			kill -0 "$NSPAWN_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$NSPAWN_PID" 2>/dev/null
		wait "$NSPAWN_PID" 2>/dev/null
		# never delete a root a container still runs in
		kill -0 "$NSPAWN_PID" 2>/dev/null && return
	fi
	[[ -n ${BLOCKER:-} ]] && kill "$BLOCKER" 2>/dev/null
	rm -rf --one-file-system "$W"
}
trap cleanup EXIT

# The container's systemd: the child of the nspawn process.
pid1() { pgrep -P "$NSPAWN_PID" -x systemd | head -n 1; }

# in_root CMD...: CMD inside, as root, in all the container's namespaces.
in_root() {
	local p
	p=$(pid1) || return 1
	[[ -n $p ]] || return 1
	nsenter -t "$p" -m -u -i -n -p -C --root --wd=/ env -i \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM=dumb SYSTEMD_COLORS=0 SYSTEMD_PAGER= \
		DEBIAN_FRONTEND=noninteractive "$@"
}

prop() { in_root systemctl show -P "$1" readyd; }

boot() {
	systemd_tarball || return 1
	mkdir -p "$R"
	zstd -dc "$SD_TAR" | tar -C "$R" -x || return 1
	cp -L /etc/resolv.conf "$R/etc/resolv.conf"
	echo "$MACHINE" >"$R/etc/hostname"
	cp "$DEB" "$R/root/"
	setsid systemd-nspawn -b -D "$R" --register=no --keep-unit \
		--machine="$MACHINE" >"$W/console.log" 2>&1 </dev/null &
	NSPAWN_PID=$!
	local st=
	for _ in $(seq 120); do
		st=$(in_root systemctl is-system-running --wait 2>/dev/null) && break
		[[ $st == degraded ]] && break
		sleep 0.5
	done
	[[ $st == running || $st == degraded ]] || {
		tail -n 20 "$W/console.log"
		return 1
	}
	echo "info: $(in_root systemctl --version | head -n 1) booted as PID 1 ($st)"
	[[ $st == running ]] || in_root systemctl --failed --no-legend
	return 0
}

# ---------------------------------------------------------------- helpers

# shellcheck source=/dev/null # written by tests/stack/stack.sh start
source "$STACK/env"
# readyd's port, held by a listener of ours from now until the
# not-active-without-ready test has shown that readyd cannot start while it
# is taken (a port merely found free could be taken by another program on
# this busy machine in between).
python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$W/port" &
BLOCKER=$!
until_true 10 test -s "$W/port" || die "no port"
PORT=$(cat "$W/port")
URL=http://127.0.0.1:$PORT

code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL$1"; }
is_code() { [[ $(code "$1") == "$2" ]]; }

journal() { in_root journalctl -u readyd --no-pager -o cat "$@"; }

# The stack's credentials and addresses, as readyd.env lines.
write_env() {
	local v
	{
		echo "# written by tests/deploy/systemd.sh"
		for v in POSTGRES_HOST POSTGRES_PORT POSTGRES_DB POSTGRES_USER \
			POSTGRES_PASSWORD DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD \
			REDIS_HOST REDIS_PORT REDIS_PASSWORD; do
			printf '%s=%s\n' "$v" "${!v}"
		done
	} >"$R/etc/readyd/readyd.env"
	# The port in readyd.conf itself, where `readyd check` finds it too
	# (a shell on the host does not see the unit's readyd.env).
	sed -i "s/^listen = .*/listen = 127.0.0.1:$PORT/" "$R/etc/readyd/readyd.conf"
}

# ---------------------------------------------------------------- tests

echo "== systemd (Debian 12 in systemd-nspawn)"
t0=$SECONDS
# Not under assert: the boot sets NSPAWN_PID, which a subshell would lose.
boot >"$W/boot.out" 2>&1
booted() { cat "$W/boot.out"; [[ -n $(pid1) ]]; }
assert systemd-boots booted
if [[ -z $(pid1) ]]; then
	echo "systemd: $PASSED passed, $FAILED failed"
	exit 1
fi

apt_install() {
	in_root apt-get install -y -q "/root/$(basename "$DEB")" >"$W/apt.log" 2>&1 || {
		tail -n 20 "$W/apt.log"
		return 1
	}
	echo "info: apt-get install ./$(basename "$DEB"): ok"
}
assert deb-installs-with-apt apt_install

enabled() {
	local e
	e=$(in_root systemctl is-enabled readyd)
	echo "info: systemctl is-enabled readyd: $e"
	[[ $e == enabled ]]
}
assert deb-enables-unit enabled

# Freshly installed, readyd.env is the template: the package started the
# unit, which stops at once on the missing credentials with exit 78 (no
# restart loop) and says which.
fresh_install() {
	local st rc n
	until_true 10 bash -c "[[ \$(systemctl show -P ActiveState readyd 2>/dev/null) != activating ]]" ||
		true
	st=$(prop ActiveState)
	rc=$(prop ExecMainStatus)
	n=$(prop NRestarts)
	echo "info: before readyd.env is filled in: $st, exit status $rc, $n restarts"
	journal | grep -m2 'readyd: ' | sed 's/^/info:   /'
	[[ $st == failed && $rc == 78 && $n == 0 ]] || return 1
	[[ $(in_root stat -c %a /etc/readyd/readyd.env) == 600 ]] || {
		echo "/etc/readyd/readyd.env is not 0600"
		return 1
	}
}
assert unconfigured-unit-fails-cleanly fresh_install

in_root systemctl reset-failed readyd
write_env
# A drain, so that `systemctl stop` shows it.
sed -i "s/^\[daemon\]\$/[daemon]\ndrain = ${DRAIN}s/" "$R/etc/readyd/readyd.conf"

# While the port is taken (by BLOCKER), readyd cannot bind, never sends
# READY=1, and the unit must never be `active`.
not_active_before_ready() {
	local seen=" " st
	kill -0 "$BLOCKER" || return 1
	in_root systemctl start --no-block readyd
	for _ in $(seq 25); do
		st=$(prop ActiveState)
		[[ $seen == *" $st "* ]] || seen+="$st "
		sleep 0.2
	done
	in_root systemctl stop readyd
	in_root systemctl reset-failed readyd 2>/dev/null
	echo "info: port taken: states seen over 5 s:${seen% }"
	journal | grep -m1 -i 'address already in use' | sed 's/^/info:   /'
	[[ $seen != *" active "* ]]
}
assert not-active-without-ready not_active_before_ready
kill "$BLOCKER" 2>/dev/null
wait "$BLOCKER" 2>/dev/null
BLOCKER=

# `systemctl start` returns when READY=1 came: the socket is bound by then.
active_after_ready() {
	local t=$SECONDS st sub live
	in_root systemctl start readyd || return 1
	live=$(code /live)
	st=$(prop ActiveState)
	sub=$(prop SubState)
	echo "info: Type=$(prop Type); right after systemctl start: $st ($sub), /live $live"
	[[ $st == active && $sub == running && $live == 200 ]] && ((SECONDS - t < 10))
}
assert active-after-ready active_after_ready

assert ready-200 until_true 20 is_code /ready 200

# SCRAM login steps run on worker threads, nicer than the loop by 5
# (src/pgpoll.c): the sandbox lets readyd start them and lower their
# priority (SystemCallFilter= gives setpriority back).
login_workers() {
	local pid workers nices loop n
	workers=$(curl -s --max-time 2 "$URL/metrics" |
		awk '$1 == "readyd_login_workers" { print $2 }')
	pid=$(prop MainPID)
	# field 19 of /proc/PID/task/TID/stat is the nice value: 17th after
	# the command name (which may hold spaces)
	nices=$(in_root sh -c "for t in /proc/$pid/task/*; do sed 's/^.*) //' \$t/stat | cut -d' ' -f17; done")
	loop=$(in_root sed 's/^.*) //' "/proc/$pid/stat" | cut -d' ' -f17)
	echo "info: readyd_login_workers $workers; nice of the loop $loop, of each thread: $(tr '\n' ' ' <<<"$nices")"
	[[ -n $workers && -n $loop ]] && ((workers >= 1)) || return 1
	n=$(grep -c . <<<"$nices")
	((n == workers + 1)) || return 1
	# the loop once, each worker at the loop's + 5
	[[ $(grep -cx -- "$loop" <<<"$nices") == 1 &&
		$(grep -cx -- "$((loop + 5))" <<<"$nices") == "$workers" ]]
}
assert login-workers-behind-the-loop login_workers

# An operator's shell on the host: `readyd check` with no argument finds
# the daemon through /etc/readyd/readyd.conf.
check_no_args() {
	local out rc
	out=$(in_root readyd check 2>&1)
	rc=$?
	echo "info: readyd check (no arguments): exit $rc: $out"
	[[ $rc == 0 ]]
}
assert check-without-arguments check_no_args

status_line() {
	local s
	until_true 10 bash -c "[[ -n \$(nsenter -t $(pid1) -m -p systemctl show -P StatusText readyd) ]]"
	s=$(in_root systemctl status readyd --no-pager | grep -m1 'Status: ')
	echo "info: systemctl status:${s}"
	[[ -n $s ]]
}
assert systemctl-status-shows-STATUS status_line

watchdog() {
	local pid n new t=$SECONDS
	pid=$(prop MainPID)
	n=$(prop NRestarts)
	in_root systemctl kill --kill-who=main --signal=SIGSTOP readyd || return 1
	echo "info: SIGSTOP to readyd (pid $pid), WatchdogSec=$(prop WatchdogUSec)"
	until_true 150 bash -c "p=\$(nsenter -t $(pid1) -m -p systemctl show -P MainPID readyd)
		[[ \$p != 0 && \$p != $pid ]] && [[ \$(nsenter -t $(pid1) -m -p systemctl show -P ActiveState readyd) == active ]]" || {
		echo "not restarted after 150 s"
		journal | tail -n 5
		return 1
	}
	new=$(prop MainPID)
	echo "info: killed by the watchdog and restarted after $((SECONDS - t)) s: pid $pid -> $new, NRestarts $n -> $(prop NRestarts)"
	journal | grep -m1 -i 'watchdog timeout' | sed 's/^/info:   /'
	journal | grep -qi 'watchdog timeout' || return 1
	until_true 30 is_code /ready 200 || {
		echo "/ready after the restart: $(curl -s --max-time 2 "$URL/ready?verbose")"
		journal | tail -n 8
		return 1
	}
}
assert watchdog-restarts-stopped-readyd watchdog

cp "$R/etc/readyd/readyd.conf" "$W/readyd.conf.orig"
reload_good() {
	local pid
	pid=$(prop MainPID)
	printf '\n[group deploy-test]\nchecks = redis-celery\n' >>"$R/etc/readyd/readyd.conf"
	is_code /ready/deploy-test 404 || return 1
	in_root systemctl reload readyd || return 1
	until_true 10 is_code /ready/deploy-test 200 || {
		echo "/ready/deploy-test is $(code /ready/deploy-test) after the reload"
		return 1
	}
	[[ $(prop MainPID) == "$pid" && $(prop ActiveState) == active ]] || return 1
	echo "info: new group answers 200 after systemctl reload, same pid $pid"
}
assert reload-good-config reload_good

reload_bad() {
	local pid since
	pid=$(prop MainPID)
	since=$(in_root date '+%Y-%m-%d %H:%M:%S')
	sed -i 's/^\[daemon\]$/[daemon]\ntiemout = 5s/' "$R/etc/readyd/readyd.conf"
	in_root systemctl reload readyd || return 1
	sleep 1
	journal --since "$since" | grep -i 'tiemout' | sed 's/^/info:   /'
	[[ $(prop MainPID) == "$pid" && $(prop ActiveState) == active ]] || return 1
	is_code /ready 200 && is_code /ready/deploy-test 200 || return 1
	journal --since "$since" | grep -qi 'tiemout' || {
		echo "the journal does not name the bad key"
		return 1
	}
	echo "info: bad configuration rejected, the running one kept (pid $pid, /ready 200)"
}
assert reload-bad-config-keeps-running reload_bad
cp "$W/readyd.conf.orig" "$R/etc/readyd/readyd.conf"
in_root systemctl reload readyd

stop_drain() {
	local t0s seen=0 ready live st
	t0s=$(date +%s.%N)
	in_root systemctl stop --no-block readyd
	for _ in $(seq 40); do
		st=$(prop ActiveState)
		[[ $st == deactivating ]] || break
		ready=$(code /ready)
		live=$(code /live)
		[[ $ready == 503 && $live == 200 ]] && seen=1
		sleep 0.2
	done
	until_true 30 bash -c "[[ \$(nsenter -t $(pid1) -m -p systemctl show -P ActiveState readyd) == inactive ]]"
	local dt
	dt=$(awk -v a="$t0s" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	echo "info: stop took $dt s (drain ${DRAIN}s); during it /ready 503 and /live 200: $([[ $seen == 1 ]] && echo yes || echo no); Result=$(prop Result), exit $(prop ExecMainStatus)"
	[[ $seen == 1 && $(prop Result) == success && $(prop ExecMainStatus) == 0 ]] &&
		awk -v d="$dt" -v m="$DRAIN" 'BEGIN { exit !(d >= m) }'
}
assert stop-drains stop_drain

exposure() {
	local out level
	in_root systemctl start readyd || return 1
	out=$(in_root systemd-analyze security readyd --no-pager 2>&1)
	level=$(sed -n 's/.*Overall exposure level for [^:]*: *\([0-9.]*\).*/\1/p' <<<"$out" | tail -n 1)
	[[ -n $level ]] || {
		tail -n 5 <<<"$out"
		return 1
	}
	echo "info: systemd-analyze security readyd (live): overall exposure level $level (at most $MAX_EXPOSURE)"
	awk -v l="$level" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(l <= m) }'
}
assert systemd-exposure-live exposure

clean_journal() {
	local bad
	bad=$(in_root journalctl --no-pager -o cat |
		grep -Ei 'EPERM|Operation not permitted|SIGSYS|Bad system call|status=31/SYS' |
		grep -i readyd)
	echo "info: $(journal | wc -l) journal lines of readyd, none with EPERM or SIGSYS"
	[[ -z $bad ]] || {
		echo "$bad"
		return 1
	}
}
assert journal-no-eperm-sigsys clean_journal

purge() {
	in_root systemctl stop readyd
	in_root apt-get purge -y -q readyd >"$W/purge.log" 2>&1 || {
		tail -n 20 "$W/purge.log"
		return 1
	}
	in_root test ! -e /usr/bin/readyd -a ! -e /lib/systemd/system/readyd.service \
		-a ! -e /etc/readyd/readyd.env -a ! -e /etc/systemd/system/multi-user.target.wants/readyd.service || {
		echo "left after apt-get purge: $(in_root ls /usr/bin/readyd /lib/systemd/system/readyd.service /etc/readyd 2>&1)"
		return 1
	}
	echo "info: apt-get purge readyd: binary, unit, enablement and /etc/readyd gone"
}
assert deb-purge purge

# `make install PREFIX=/usr` into the container's root, as on a host
# without the package: the unit it installs must start.
make_install_starts() {
	[[ -n $BIN ]] || {
		echo "no READYD_BIN given"
		return 1
	}
	make -s -C "$SRC" install PREFIX=/usr DESTDIR="$R" BUILD="$(dirname -- "$BIN")" >"$W/install.log" 2>&1 || {
		cat "$W/install.log"
		return 1
	}
	write_env
	in_root systemctl daemon-reload
	in_root systemctl start readyd || {
		journal | tail -n 5
		return 1
	}
	echo "info: make install PREFIX=/usr: $(in_root systemctl show -P ExecStart readyd | grep -o 'path=[^ ;]*'), $(prop ActiveState) ($(prop SubState))"
	until_true 20 is_code /ready 200 || return 1
	echo "info: /ready 200"
	in_root systemctl stop readyd
	make -s -C "$SRC" uninstall PREFIX=/usr DESTDIR="$R" BUILD="$(dirname -- "$BIN")" >/dev/null 2>&1
}
assert make-install-prefix-usr-unit-starts make_install_starts

echo "systemd: $PASSED passed, $FAILED failed ($((SECONDS - t0)) s)"
((FAILED == 0))
