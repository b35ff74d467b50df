# shellcheck shell=bash
# lib.sh: shared by the tests/deploy scripts (sourced, not run).
#
# CACHE (READYD_DEPLOY_CACHE, default /var/tmp/readyd-deploy) keeps what
# costs minutes and changes never: a Debian 12 minbase root made with
# debootstrap from this machine's apt mirror, the systemd root made from it,
# and podman's image store (base images and build layers).

CACHE=${READYD_DEPLOY_CACHE:-/var/tmp/readyd-deploy}
BASE_TAR=$CACHE/bookworm-minbase.tar.zst
mkdir -p "$CACHE"
PASSED=${PASSED:-0}
FAILED=${FAILED:-0}

note() { echo "     $*"; }
die() {
	echo "deploy: $*" >&2
	exit 1
}

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
	return 0
}

# until_true SECONDS CMD...: retry CMD every 0.2 s until it succeeds (0) or
# SECONDS pass (1).
until_true() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		((SECONDS >= end)) && return 1
		sleep 0.2
	done
}

# The URI this machine's apt uses for the bookworm suite (one-line .list
# files and deb822 .sources).
apt_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] || continue
		awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			if ($(i + 1) == "bookworm") { print $i; exit } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		awk 'BEGIN { RS = "" } { t = "\n" $0 "\n" }
			t ~ /\nEnabled:[ \t]*no/ || t !~ /\nTypes:[^\n]*[ \t]deb[ \t\n]/ { next }
			t ~ /\nSuites:[^\n]*[ \t]bookworm[ \t\n]/ && match(t, /\nURIs:[ \t]*[^ \t\n]+/) {
				u = substr(t, RSTART, RLENGTH); sub(/^\nURIs:[ \t]*/, "", u); print u; exit }' "$f"
	done
}

# copy_apt_config ROOT: this machine's apt sources, the keyrings they name
# and the apt.conf.d snippets made only of Acquire:: lines (proxies,
# Check-Valid-Until of a snapshot mirror).
copy_apt_config() {
	local r=$1 f k
	rm -f "$r/etc/apt/sources.list" "$r"/etc/apt/sources.list.d/*
	[[ -s /etc/apt/sources.list ]] && cp /etc/apt/sources.list "$r/etc/apt/"
	for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		cp "$f" "$r/etc/apt/sources.list.d/"
		# shellcheck disable=SC2013 # key paths hold no spaces
		for k in $(grep -hoiE 'signed-by[:=][[:space:]]*/[^] [:space:]]+' "$f" | sed 's|^[^/]*||'); do
			[[ -f $k && ! -e $r$k ]] && install -D -m 644 "$k" "$r$k"
		done
	done
	for f in /etc/apt/apt.conf.d/*; do
		[[ -f $f ]] || continue
		awk '/^[ \t]*(\/\/|#|$)/ { next } /^Acquire::/ { a = 1; next } { bad = 1 }
			END { exit !(a && !bad) }' "$f" && cp "$f" "$r/etc/apt/apt.conf.d/"
	done
	return 0
}

# in_chroot ROOT CMD...: CMD in ROOT with /proc, /sys and /dev mounted in a
# private mount namespace (nothing stays mounted), package scripts not
# allowed to start services.
in_chroot() {
	local r=$1
	shift
	printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
	chmod 755 "$r/usr/sbin/policy-rc.d"
	cp -L /etc/resolv.conf "$r/etc/resolv.conf"
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare --mount --propagation private --fork sh -ec '
		r=$1; shift
		mount -t proc proc "$r/proc"; mount -t sysfs sys "$r/sys"
		mount --rbind /dev "$r/dev"
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' \
		in_chroot "$r" "$@"
	local rc=$?
	rm -f "$r/usr/sbin/policy-rc.d"
	return $rc
}

# base_tarball: make BASE_TAR once (debootstrap --variant=minbase, about two
# minutes), under a lock so that parallel runs build it once.
base_tarball() {
	mkdir -p "$CACHE"
	(
		flock 9
		[[ -s $BASE_TAR ]] && exit 0
		local m t
		m=$(apt_mirror | head -n 1)
		[[ -n $m ]] || die "no bookworm source in this machine's apt sources"
		t=$(mktemp -d "$CACHE/base.XXXXXX")
		echo "deploy: debootstrap --variant=minbase bookworm $m (once; cached in $BASE_TAR)"
		if ! unshare --mount --propagation private debootstrap --variant=minbase \
			bookworm "$t/root" "$m" >"$t/debootstrap.log" 2>&1; then
			tail -n 20 "$t/debootstrap.log" >&2
			rm -rf --one-file-system "$t"
			exit 1
		fi
		copy_apt_config "$t/root"
		printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
			>"$t/root/etc/hosts"
		rm -rf "$t/root/var/lib/apt/lists/"* "$t/root/var/cache/apt/archives/"*.deb
		rm -f "$t/root/etc/resolv.conf"
		tar -C "$t/root" --numeric-owner -c . | zstd -q -T0 -f -o "$BASE_TAR.tmp"
		mv "$BASE_TAR.tmp" "$BASE_TAR"
		rm -rf --one-file-system "$t"
	) 9>"$CACHE/base.lock"
}
