#!/usr/bin/env bash
# container.sh STACK_DIR: docker/Dockerfile built and run with podman.
#
# Builds the image with `podman build --format docker` (the OCI format
# drops HEALTHCHECK) from base images debian:bookworm and
# debian:bookworm-slim made here from lib.sh's debootstrap root (no image
# registry is reachable), runs it --read-only --cap-drop ALL --security-opt
# no-new-privileges on the host's network against the test stack of
# STACK_DIR and asserts: UID 10001, /ready 200, `podman healthcheck run`
# healthy, unhealthy once Redis stops, healthy again once it is back, no
# compiler in the image; prints the image's size. Periodic health checks
# need a host systemd, which these machines lack: the test runs them.
#
# podman's store lives in $CACHE/podman (base images and build layers stay
# between runs). Needs root.
set -uo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
# shellcheck source=tests/deploy/lib.sh
source "$HERE/lib.sh"

STACK=${1:?usage: container.sh STACK_DIR}
[[ $(id -u) == 0 ]] || die "container.sh needs root (podman)"
IMAGE=localhost/readyd:deploy-test
W=$(mktemp -d "$CACHE/container-run.XXXXXX") || exit 1
NAME=readyd-deploy-$(basename "$W" | tr -dc 'A-Za-z0-9' | tail -c 6)

pm() {
	CONTAINERS_CONF=$HERE/containers.conf podman \
		--root "$CACHE/podman/root" --runroot /run/readyd-deploy-podman "$@"
}

cleanup() {
	pm rm -f -t 0 "$NAME" >/dev/null 2>&1
	"$ROOT/tests/stack/stack.sh" start-server "$STACK" redis >/dev/null 2>&1
	rm -rf --one-file-system "$W"
}
trap cleanup EXIT

# debian:bookworm and debian:bookworm-slim as Docker's official images are
# made (debuerreotype): the debootstrap root with their apt.conf.d snippets
# (no package caches, compressed lists, no translations), slim also trimmed
# of docs, man pages and locales. Without docker-clean each `apt-get
# install` layer would keep 74 MB of pkgcache.bin and srcpkgcache.bin.
# BASE_REV labels the images: a change here makes them again.
BASE_REV=2
base_current() {
	local i
	for i in debian:bookworm debian:bookworm-slim; do
		[[ $(pm image inspect --format '{{index .Config.Labels "readyd.deploy.base"}}' "$i" 2>/dev/null) == "$BASE_REV" ]] ||
			return 1
	done
}
base_images() {
	base_current && return 0
	base_tarball || return 1
	(
		flock 9
		base_current && exit 0
		local b=$W/base
		mkdir -p "$b"
		zstd -dc "$BASE_TAR" | tar -C "$b" -x
		local d=$b/etc/apt/apt.conf.d
		printf '%s\n' 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };' \
			'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };' \
			'Dir::Cache::pkgcache "";' 'Dir::Cache::srcpkgcache "";' >"$d/docker-clean"
		echo 'Acquire::GzipIndexes "true";' >"$d/docker-gzip-indexes"
		echo 'Acquire::Languages "none";' >"$d/docker-no-languages"
		echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$d/docker-autoremove-suggests"
		rm -f "$b/var/cache/apt/"*.bin
		tar -C "$b" -c . | pm import --change "LABEL readyd.deploy.base=$BASE_REV" - debian:bookworm >/dev/null || exit 1
		cat >"$b/etc/dpkg/dpkg.cfg.d/docker" <<'EOT'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOT
		find "$b/usr/share/doc" -mindepth 2 ! -type d ! -name copyright -delete
		find "$b/usr/share/doc" -mindepth 2 -type d -empty -delete
		rm -rf "$b/usr/share/man/"* "$b/usr/share/info/"*
		find "$b/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
		tar -C "$b" -c . | pm import --change "LABEL readyd.deploy.base=$BASE_REV" - debian:bookworm-slim >/dev/null || exit 1
		rm -rf --one-file-system "$b"
	) 9>"$CACHE/podman-base.lock"
}

echo "== container (podman $(podman --version | awk '{print $3}'), docker/Dockerfile)"
t0=$SECONDS

build() {
	local t=$SECONDS
	base_images || return 1
	local old
	old=$(pm image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null)
	(cd "$ROOT" && pm build --pull=never --network host --format docker \
		-f docker/Dockerfile -t "$IMAGE" .) >"$W/build.log" 2>&1 || {
		tail -n 30 "$W/build.log"
		return 1
	}
	echo "info: podman build --format docker: $((SECONDS - t)) s"
	# The image this build replaced (its build layers stay as the cache).
	if [[ -n $old && $old != $(pm image inspect --format '{{.Id}}' "$IMAGE") ]]; then
		pm rmi "$old" >/dev/null 2>&1
	fi
	if grep -iE 'warning|not supported' "$W/build.log" | grep -v '^#'; then
		echo "the build warned (above)"
		return 1
	fi
}
assert image-builds-without-warnings build

keeps_healthcheck() {
	local hc
	hc=$(pm image inspect --format '{{json .Config.Healthcheck}}' "$IMAGE")
	echo "info: HEALTHCHECK in the image: $hc"
	grep -q '"readyd","check"' <<<"${hc// /}"
}
assert image-keeps-healthcheck keeps_healthcheck

image_size() {
	local b
	b=$(pm image inspect --format '{{.Size}}' "$IMAGE") || return 1
	echo "info: image size $((b / 1000000)) MB ($b bytes); debian:bookworm-slim base: $(($(pm image inspect --format '{{.Size}}' debian:bookworm-slim) / 1000000)) MB"
}
assert image-size image_size

no_compiler() {
	local found
	# shellcheck disable=SC2016 # expanded in the image's sh
	found=$(pm run --rm --network none --entrypoint /bin/sh "$IMAGE" -c '
		for c in cc gcc c++ g++ cpp clang tcc as ld make; do
			command -v "$c"; done
		dpkg-query -W -f "\${Package}\n" | grep -E "^(gcc|g\+\+|cpp|clang|binutils|libc6-dev|make)(-[0-9.]+)?$"
		true')
	[[ -z $found ]] || {
		echo "in the image: $found"
		return 1
	}
	echo "info: no cc, gcc, clang, as, ld or make; no gcc, binutils or libc6-dev package"
}
assert image-has-no-compiler no_compiler

# ---------------------------------------------------------------- running

# shellcheck source=/dev/null # written by tests/stack/stack.sh start
source "$STACK/env"
PORT=$("$ROOT/tests/stack/stack.sh" free-port)
URL=http://127.0.0.1:$PORT
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL$1"; }
is_code() { [[ $(code "$1") == "$2" ]]; }

for v in POSTGRES_HOST POSTGRES_PORT POSTGRES_DB POSTGRES_USER POSTGRES_PASSWORD \
	DB_HOST DB_PORT DB_NAME DB_USER DB_PASSWORD REDIS_HOST REDIS_PORT REDIS_PASSWORD; do
	printf '%s=%s\n' "$v" "${!v}"
done >"$W/env"
echo "READYD_LISTEN=127.0.0.1:$PORT" >>"$W/env"

run_hardened() {
	pm run -d --name "$NAME" --network host --read-only --cap-drop ALL \
		--security-opt no-new-privileges --env-file "$W/env" "$IMAGE" >"$W/run.log" 2>&1 || {
		cat "$W/run.log"
		return 1
	}
	echo "info: podman run -d --read-only --cap-drop ALL --security-opt no-new-privileges --network host"
	until_true 20 is_code /ready 200 || {
		echo "/ready: $(code /ready)"
		pm logs "$NAME" | tail -n 10
		return 1
	}
}
assert container-runs-hardened run_hardened

uid() {
	local pid u nnp caps
	pid=$(pm inspect --format '{{.State.Pid}}' "$NAME") || return 1
	u=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
	nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$pid/status")
	caps=$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")
	echo "info: readyd runs as UID $u, NoNewPrivs $nnp, CapEff $caps"
	[[ $u == 10001 && $nnp == 1 && $caps == 0000000000000000 ]]
}
assert container-uid-10001 uid

assert container-ready-200 is_code /ready 200

# health STATUS: `podman healthcheck run` and the container's recorded
# health status both say STATUS.
health_is() {
	local out rc st
	out=$(pm healthcheck run "$NAME" 2>&1)
	rc=$?
	st=$(pm inspect --format '{{.State.Health.Status}} (failing streak {{.State.Health.FailingStreak}})' "$NAME")
	echo "info: podman healthcheck run: exit $rc${out:+ ($out)}; health status $st"
	st=${st%% *}
	[[ $st == "$1" ]]
}
assert healthcheck-healthy health_is healthy

unhealthy_without_redis() {
	"$ROOT/tests/stack/stack.sh" stop "$STACK" redis >/dev/null 2>&1 || return 1
	until_true 30 is_code /ready 503 || return 1
	echo "info: Redis stopped: /ready 503"
	# Failures inside the image's --start-period=10s do not count (docker's
	# rule, podman's too): wait until the container is older than that.
	local started
	started=$(pm inspect --format '{{.State.StartedAt.Unix}}' "$NAME")
	while (($(date +%s) - started < 11)); do sleep 0.5; done
	# retries=3: unhealthy after three failed runs in a row
	health_is healthy >/dev/null
	health_is healthy >/dev/null
	health_is unhealthy
}
assert healthcheck-unhealthy-after-redis-stops unhealthy_without_redis

healthy_again() {
	"$ROOT/tests/stack/stack.sh" start-server "$STACK" redis >/dev/null 2>&1 || return 1
	until_true 30 is_code /ready 200 || return 1
	echo "info: Redis back: /ready 200"
	health_is healthy
}
assert healthcheck-healthy-after-redis-returns healthy_again

still_read_only() {
	local ro
	ro=$(pm inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$NAME")
	echo "info: ReadonlyRootfs $ro, state $(pm inspect --format '{{.State.Status}}' "$NAME")"
	[[ $ro == true ]] && [[ $(pm inspect --format '{{.State.Status}}' "$NAME") == running ]]
}
assert container-read-only-still-running still_read_only

echo "container: $PASSED passed, $FAILED failed ($((SECONDS - t0)) s)"
((FAILED == 0))
