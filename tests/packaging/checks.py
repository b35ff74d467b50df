#!/usr/bin/env python3
"""Checks of the packaging files that need parsing (YAML, Dockerfile, dpkg).

    checks.py NAME [ARG...]

Each check prints what is wrong, one line per problem, and exits 1; it is
silent and exits 0 when all is well. run.sh calls one check per assertion.
Runs from the repository root. Needs python3 and python3-yaml.
"""

import os
import re
import shlex
import subprocess
import sys

import yaml

ROOT = os.getcwd()


class Problems:
    def __init__(self):
        self.items = []

    def add(self, msg):
        self.items.append(msg)

    def expect(self, cond, msg):
        if not cond:
            self.add(msg)
        return cond

    def finish(self):
        for m in self.items:
            print(m)
        return 1 if self.items else 0


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


# ------------------------------------------------------------ daemon defaults


def default_port():
    """The port of [daemon] listen in config/readyd.conf (the built-in
    default), e.g. listen = ${READYD_LISTEN:-0.0.0.0:8080} -> 8080."""
    m = re.search(r"^\s*listen\s*=\s*(.+?)\s*$", read("config/readyd.conf"), re.M)
    if not m:
        raise SystemExit("config/readyd.conf: no listen line")
    val = m.group(1)
    d = re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-(.*)\}", val)
    if d:
        val = d.group(1)
    p = re.search(r":(\d+)$", val)
    if not p:
        raise SystemExit(f"config/readyd.conf: cannot read a port from listen = {val}")
    return int(p.group(1))


def makefile_var(name):
    text = read("Makefile").replace("\\\n", " ")
    m = re.search(rf"^{name}\s*[:?]?=\s*(.*)$", text, re.M)
    return m.group(1).split() if m else None


# ------------------------------------------------------------ Dockerfile


def dockerfile_stages(path="docker/Dockerfile"):
    """[(from_line, [instructions])], continuation lines joined, comments
    dropped."""
    lines = []
    cur = ""
    for raw in read(path).splitlines():
        s = raw.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if s.startswith("#"):
            continue  # a comment inside a continued instruction
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        lines.append(cur.strip())
        cur = ""
    if cur.strip():
        lines.append(cur.strip())
    stages = []
    for ln in lines:
        if re.match(r"(?i)^FROM\s", ln):
            stages.append((ln, []))
        elif stages:
            stages[-1][1].append(ln)
    return stages


def apt_installs(instructions):
    """Packages named by `apt-get install` in RUN instructions."""
    pkgs = []
    for ins in instructions:
        if not re.match(r"(?i)^RUN\s", ins):
            continue
        for seg in re.split(r"&&|\|\||;|\|", ins[4:]):
            words = seg.split()
            for i, w in enumerate(words):
                if w == "install" and i > 0 and words[i - 1] in ("apt-get", "apt"):
                    for p in words[i + 1 :]:
                        if p.startswith("-"):
                            continue
                        pkgs.append(re.split(r"[=:]", p)[0])
                    break
    return pkgs


def stage_by_alias(stages, alias):
    for st in stages:
        if re.search(rf"(?i)\sAS\s+{alias}\s*$", st[0]):
            return st
    return None


# ------------------------------------------------------------ dpkg


def dpkg_status():
    """Installed packages: name -> fields (Depends, Pre-Depends, Provides,
    Priority, Essential)."""
    pkgs = {}
    provides = {}
    with open("/var/lib/dpkg/status", encoding="utf-8", errors="replace") as f:
        blocks = f.read().split("\n\n")
    for b in blocks:
        fields = {}
        key = None
        for line in b.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, _, val = line.partition(":")
                fields[key] = val.strip()
        name = fields.get("Package")
        if not name or "installed" not in fields.get("Status", "").split():
            continue
        pkgs[name] = fields
        for p in split_relations(fields.get("Provides", "")):
            for alt in p:
                provides.setdefault(alt, set()).add(name)
    return pkgs, provides


def split_relations(text):
    """'a (>= 1) | b, c:any' -> [['a', 'b'], ['c']]"""
    out = []
    for part in text.split(","):
        alts = []
        for alt in part.split("|"):
            alt = re.sub(r"\(.*?\)|\[.*?\]|<.*?>", "", alt).strip()
            if alt:
                alts.append(alt.split(":")[0])
        if alts:
            out.append(alts)
    return out


def dep_closure(roots, pkgs, provides):
    """Every installed package apt would bring in with roots (Depends and
    Pre-Depends, recursively; of alternatives, those installed here)."""
    seen = set()
    todo = list(roots)
    while todo:
        p = todo.pop()
        names = {p} if p in pkgs else provides.get(p, set())
        for n in names:
            if n in seen:
                continue
            seen.add(n)
            f = pkgs[n]
            for rel in split_relations(f.get("Depends", "")) + split_relations(
                f.get("Pre-Depends", "")
            ):
                todo.extend(rel)
    return seen


def slim_base(pkgs, provides):
    """What debian:bookworm-slim holds: a debootstrap minbase, i.e. the
    Essential and Priority: required packages plus apt, with their
    dependencies."""
    roots = [
        n
        for n, f in pkgs.items()
        if f.get("Priority") == "required" or f.get("Essential") == "yes"
    ]
    roots.append("apt")
    return dep_closure(roots, pkgs, provides)


def owner_of(path):
    """The package shipping path; merged /usr means a library may be
    registered under /lib or /usr/lib, or under its real name."""
    cands = [path, os.path.realpath(path)]
    for c in list(cands):
        if c.startswith("/usr/"):
            cands.append(c[4:])
        else:
            cands.append("/usr" + c)
    for c in cands:
        r = subprocess.run(
            ["dpkg-query", "-S", c], capture_output=True, text=True
        )
        if r.returncode == 0:
            for line in r.stdout.splitlines():
                pkg, _, p = line.partition(": ")
                if p.strip() == c and not pkg.startswith("diversion"):
                    return pkg.split(":")[0].split(",")[0].strip()
    return None


def ldd_paths(binary):
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"ldd {binary}: {r.stderr.strip() or r.stdout.strip()}")
    libs = {}
    missing = []
    for line in r.stdout.splitlines():
        line = line.strip()
        m = re.match(r"(\S+)\s+=>\s+not found", line)
        if m:
            missing.append(m.group(1))
            continue
        m = re.match(r"(\S+)\s+=>\s+(/\S+)", line) or re.match(r"((/\S+))\s+\(", line)
        if m:
            libs[os.path.basename(m.group(1))] = m.group(2)
    return libs, missing


def needed(binary):
    r = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", r.stdout)


# ------------------------------------------------------------ checks


def check_runtime_libs(binary):
    """Every library ldd lists is in the runtime image: shipped by a package
    the runtime stage installs (or one of its dependencies) or by the slim
    base; the libraries the binary names itself (DT_NEEDED) come from a
    package the stage names or from the base, not by accident."""
    pr = Problems()
    stages = dockerfile_stages()
    runtime = apt_installs(stages[-1][1])
    pr.expect(runtime, "docker/Dockerfile: the runtime stage installs no package")
    pkgs, provides = dpkg_status()
    base = slim_base(pkgs, provides)
    closure = dep_closure(runtime, pkgs, provides)
    libs, missing = ldd_paths(binary)
    for m in missing:
        pr.add(f"ldd {binary}: {m} not found")
    direct = set(needed(binary))
    for soname, path in sorted(libs.items()):
        if not (path.startswith(("/lib", "/usr/lib"))):
            continue
        pkg = owner_of(path)
        if pkg is None:
            pr.add(f"{soname} ({path}): no package owns it (dpkg -S)")
            continue
        if soname in direct:
            ok = pkg in runtime or pkg in base
            pr.expect(
                ok,
                f"{soname} ({path}) is in {pkg}: add {pkg} to the runtime "
                "stage's apt-get install in docker/Dockerfile",
            )
        else:
            pr.expect(
                pkg in closure or pkg in base,
                f"{soname} ({path}) is in {pkg}, which neither the runtime "
                "stage's packages nor bookworm-slim bring: add it",
            )
    return pr.finish()


def check_runtime_minimal(binary):
    """The runtime stage installs only packages that ship a library the
    binary loads: no compiler, no -dev package, no strays."""
    pr = Problems()
    runtime = apt_installs(dockerfile_stages()[-1][1])
    libs, _ = ldd_paths(binary)
    owners = {owner_of(p) for p in libs.values()}
    pkgs, provides = dpkg_status()
    base = slim_base(pkgs, provides)
    for p in runtime:
        if p.endswith("-dev") or p in ("gcc", "make", "pkg-config", "cc"):
            pr.add(f"docker/Dockerfile: runtime stage installs build tool {p}")
        elif p not in owners:
            # A base package may be named ahead of its use (libsystemd0 is
            # in the slim base already): harmless, it costs nothing.
            pr.expect(
                p in base,
                f"docker/Dockerfile: runtime stage installs {p}, which ships "
                "no library of the binary",
            )
    return pr.finish()


def check_build_deps():
    """The build stage installs the -dev package of every pkg-config module
    the Makefile links (PKGS), so `make` in the image finds them all."""
    pr = Problems()
    st = stage_by_alias(dockerfile_stages(), "build")
    if not pr.expect(st is not None, "docker/Dockerfile: no stage `AS build`"):
        return pr.finish()
    build = set(apt_installs(st[1]))
    for tool in ("gcc", "make", "pkg-config"):
        pr.expect(tool in build, f"docker/Dockerfile: build stage lacks {tool}")
    mods = makefile_var("PKGS")
    if not pr.expect(mods, "Makefile: no PKGS"):
        return pr.finish()
    for mod in mods:
        r = subprocess.run(
            ["pkg-config", "--variable=pcfiledir", mod], capture_output=True, text=True
        )
        if r.returncode != 0:
            pr.add(f"pkg-config {mod}: not found here (make deps)")
            continue
        pc = os.path.join(r.stdout.strip(), mod + ".pc")
        pkg = owner_of(pc)
        if pr.expect(pkg, f"{pc}: no package owns it"):
            pr.expect(
                pkg in build,
                f"Makefile links {mod} ({pkg}): add {pkg} to the build stage",
            )
    return pr.finish()


def check_dockerfile():
    """The image's contract: multi-stage bookworm -> bookworm-slim, non-root,
    the daemon's port, healthcheck and entry point, and a .dockerignore that
    admits what it copies."""
    pr = Problems()
    stages = dockerfile_stages()
    if not pr.expect(len(stages) >= 2, "docker/Dockerfile: not multi-stage"):
        return pr.finish()
    pr.expect(
        re.match(r"(?i)FROM\s+debian:bookworm(\s|$)", stages[0][0]),
        f"docker/Dockerfile: build stage is not debian:bookworm: {stages[0][0]}",
    )
    pr.expect(
        re.match(r"(?i)FROM\s+debian:bookworm-slim(\s|$)", stages[-1][0]),
        f"docker/Dockerfile: runtime stage is not debian:bookworm-slim: {stages[-1][0]}",
    )
    ins = stages[-1][1]

    def one(kw):
        v = [i for i in ins if re.match(rf"(?i)^{kw}\s", i)]
        return v[-1][len(kw) :].strip() if v else None

    user = one("USER")
    pr.expect(
        user and user.split(":")[0] not in ("root", "0"),
        f"docker/Dockerfile: runtime USER is {user!r}, not a non-root user",
    )
    port = default_port()
    pr.expect(
        one("EXPOSE") == str(port),
        f"docker/Dockerfile: EXPOSE {one('EXPOSE')}, the daemon listens on {port}",
    )
    hc = one("HEALTHCHECK") or ""
    pr.expect(
        re.search(r'CMD\s+\[\s*"readyd"\s*,\s*"check"\s*\]', hc),
        f"docker/Dockerfile: HEALTHCHECK is not CMD [\"readyd\", \"check\"]: {hc}",
    )
    for flag in ("--interval=30s", "--timeout=10s", "--retries=3"):
        pr.expect(flag in hc, f"docker/Dockerfile: HEALTHCHECK lacks {flag}")
    pr.expect(
        re.fullmatch(r'\[\s*"readyd"\s*\]', one("ENTRYPOINT") or ""),
        "docker/Dockerfile: ENTRYPOINT is not [\"readyd\"]",
    )
    copies = [i for i in ins if re.match(r"(?i)^COPY\s", i)]
    pr.expect(
        any("/usr/local/bin/readyd" in c and "--from=" in c for c in copies),
        "docker/Dockerfile: the binary is not copied to /usr/local/bin/readyd",
    )
    pr.expect(
        any(c.split()[-1] == "/etc/readyd/readyd.conf" for c in copies),
        "docker/Dockerfile: config/readyd.conf is not copied to /etc/readyd/readyd.conf",
    )
    # Podman and buildah drop HEALTHCHECK in their default OCI format: the
    # header must say how to build with them.
    header = read("docker/Dockerfile").split("FROM", 1)[0]
    for tool in ("podman build", "buildah"):
        pr.expect(
            re.search(rf"{tool}.*--format docker", header),
            f"docker/Dockerfile: the header does not show {tool} with --format docker",
        )
    # useradd warns for a --system UID above SYS_UID_MAX (999) unless -K
    # raises it for the call; groupadd likewise for GIDs.
    for st in stages:
        for i in st[1]:
            for cmd, opt, lim in (("useradd", "--uid", "SYS_UID_MAX"), ("groupadd", "--gid", "SYS_GID_MAX")):
                for m in re.finditer(rf"{cmd}\b([^&;|]*)", i):
                    args = m.group(1)
                    n = re.search(rf"{opt}[= ](\d+)", args)
                    if "--system" in args and n and int(n.group(1)) > 999:
                        k = re.search(rf"-K\s+{lim}=(\d+)", args)
                        pr.expect(
                            k and int(k.group(1)) >= int(n.group(1)),
                            f"docker/Dockerfile: {cmd} --system {opt} {n.group(1)} without -K {lim}={n.group(1)} (warns)",
                        )
    # Every COPY source from the context must pass .dockerignore.
    ignore = [
        l.strip() for l in read(".dockerignore").splitlines()
        if l.strip() and not l.strip().startswith("#")
    ]
    allow = [l[1:].rstrip("/") for l in ignore if l.startswith("!")]
    everything = "*" in ignore
    for st in stages:
        for c in st[1]:
            if not re.match(r"(?i)^COPY\s", c) or "--from=" in c:
                continue
            for src in shlex.split(c)[1:-1]:
                if src.startswith("--"):
                    continue
                src = src.rstrip("/")
                ok = not everything or any(
                    src == a or src.startswith(a + "/") for a in allow
                )
                pr.expect(ok, f".dockerignore excludes {src}, which docker/Dockerfile copies")
                pr.expect(
                    os.path.exists(os.path.join(ROOT, src)),
                    f"docker/Dockerfile copies {src}, which does not exist",
                )
    for secretish in (".env", "docker/.env"):
        pr.expect(
            everything and secretish not in allow,
            f".dockerignore would send {secretish} to the daemon",
        )
    return pr.finish()


def compose():
    return yaml.safe_load(read("docker/compose.yaml"))


def as_map(env):
    if isinstance(env, list):
        out = {}
        for e in env:
            k, _, v = str(e).partition("=")
            out[k] = v if "=" in str(e) else None
        return out
    return env or {}


def depends(svc):
    d = svc.get("depends_on") or {}
    if isinstance(d, list):
        return {k: "service_started" for k in d}
    return {k: (v or {}).get("condition", "service_started") for k, v in d.items()}


def check_compose():
    """docker/compose.yaml is the data model's stack, service for service,
    with the healthchecks and gating the design needs."""
    pr = Problems()
    c = compose()
    s = c.get("services", {})
    for name in ("postgres", "pgbouncer", "redis", "readyd"):
        pr.expect(name in s, f"compose: no service {name}")
    if pr.items:
        return pr.finish()

    def hc_timing(name, start=False):
        hc = s[name].get("healthcheck") or {}
        for k, v in (("interval", "30s"), ("timeout", "10s"), ("retries", 3)):
            pr.expect(hc.get(k) == v, f"compose: {name} healthcheck {k} is {hc.get(k)!r}, not {v}")
        return hc

    pg = s["postgres"]
    pr.expect(pg.get("image") == "postgres:16", "compose: postgres image is not postgres:16")
    pr.expect(
        "postgres_data:/var/lib/postgresql/data" in (pg.get("volumes") or []),
        "compose: postgres lacks the volume postgres_data:/var/lib/postgresql/data",
    )
    for k in ("POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"):
        pr.expect(k in as_map(pg.get("environment")), f"compose: postgres lacks {k}")
    pr.expect("pg_isready" in str(hc_timing("postgres").get("test")), "compose: postgres healthcheck is not pg_isready")

    pb = s["pgbouncer"]
    pr.expect(
        depends(pb).get("postgres") == "service_healthy",
        "compose: pgbouncer does not depend on postgres being service_healthy",
    )
    pr.expect("PGBOUNCER_POOL_SIZE" in as_map(pb.get("environment")), "compose: pgbouncer lacks PGBOUNCER_POOL_SIZE")
    pr.expect(
        any("config/pgbouncer.ini" in str(v) for v in pb.get("volumes") or []),
        "compose: pgbouncer does not mount config/pgbouncer.ini",
    )
    pr.expect("6432" in str(hc_timing("pgbouncer").get("test")), "compose: pgbouncer healthcheck does not probe 6432")

    rd = s["redis"]
    pr.expect(rd.get("image") == "redis:7", "compose: redis image is not redis:7")
    pr.expect("redis_data:/data" in (rd.get("volumes") or []), "compose: redis lacks redis_data:/data")
    pr.expect("REDIS_PASSWORD" in as_map(rd.get("environment")), "compose: redis lacks REDIS_PASSWORD")
    pr.expect(
        any("config/redis.conf" in str(v) for v in rd.get("volumes") or []),
        "compose: redis does not mount config/redis.conf",
    )
    test = " ".join(map(str, hc_timing("redis").get("test") or []))
    pr.expect("PONG" in test, "compose: redis healthcheck does not require PONG (ping exits 0 on NOAUTH)")
    pr.expect(
        "REDISCLI_AUTH" in test or " -a " in test or "AUTH" in test,
        "compose: redis healthcheck does not authenticate",
    )

    ry = s["readyd"]
    hc = hc_timing("readyd")
    pr.expect(hc.get("test") == ["CMD", "readyd", "check"], "compose: readyd healthcheck is not [CMD, readyd, check]")
    pr.expect(hc.get("start_period") == "10s", "compose: readyd healthcheck start_period is not 10s")
    b = ry.get("build") or {}
    pr.expect(
        isinstance(b, dict) and b.get("context") == ".." and b.get("dockerfile") == "docker/Dockerfile",
        "compose: readyd is not built from .. with docker/Dockerfile",
    )
    for dep in ("postgres", "pgbouncer", "redis"):
        pr.expect(
            depends(ry).get(dep) == "service_started",
            f"compose: readyd does not depend on {dep} being service_started",
        )
    gated = [n for n, v in s.items() if depends(v).get("readyd") == "service_healthy"]
    pr.expect(gated, "compose: no service gates on readyd: condition: service_healthy")

    # No literal secrets: password variables are passed through or *_FILE.
    for n, v in s.items():
        for k, val in as_map(v.get("environment")).items():
            if k.endswith("PASSWORD") and val not in (None, ""):
                pr.expect(
                    re.fullmatch(r"\$\{[A-Z_]+(:?-)?\}", str(val)),
                    f"compose: {n} sets {k} to a literal value",
                )
    for v in ("postgres_data", "redis_data"):
        pr.expect(v in (c.get("volumes") or {}), f"compose: volume {v} is not declared")

    # The start_interval override for Engine 25+ applies to readyd.
    ov = yaml.safe_load(read("docker/compose.engine25.yaml"))
    si = (((ov or {}).get("services") or {}).get("readyd") or {}).get("healthcheck") or {}
    pr.expect(si.get("start_interval") == "1s", "docker/compose.engine25.yaml: readyd start_interval is not 1s")
    return pr.finish()


def resolve_port(container, port):
    if isinstance(port, int):
        return port
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def check_k8s(path="config/kubernetes/readyd.yaml"):
    """The Kubernetes manifest agrees with the daemon: probes on /ready and
    /live, on the port the daemon listens on by default."""
    pr = Problems()
    docs = [d for d in yaml.safe_load_all(read(path)) if d]
    deps = [d for d in docs if d.get("kind") == "Deployment"]
    svcs = [d for d in docs if d.get("kind") == "Service"]
    if not pr.expect(deps, f"{path}: no Deployment") or not pr.expect(svcs, f"{path}: no Service"):
        return pr.finish()
    port = default_port()
    tpl = deps[0]["spec"]["template"]
    pod = tpl["spec"]
    cs = [c for c in pod.get("containers", []) if "readyd" in str(c.get("image", ""))]
    if not pr.expect(cs, f"{path}: no container runs the readyd image"):
        return pr.finish()
    c = cs[0]
    ports = [p.get("containerPort") for p in c.get("ports") or []]
    pr.expect(ports == [port], f"{path}: containerPort {ports}, the daemon listens on {port}")
    for probe, want in (("readinessProbe", "/ready"), ("livenessProbe", "/live")):
        g = (c.get(probe) or {}).get("httpGet") or {}
        pr.expect(g.get("path") == want, f"{path}: {probe} path is {g.get('path')!r}, not {want}")
        pr.expect(
            resolve_port(c, g.get("port")) == port,
            f"{path}: {probe} port {g.get('port')!r} is not the daemon's {port}",
        )
    env = {e["name"]: e for e in c.get("env") or []}
    if "READYD_LISTEN" in env:
        v = str(env["READYD_LISTEN"].get("value", ""))
        pr.expect(v.endswith(f":{port}"), f"{path}: READYD_LISTEN {v} disagrees with port {port}")
    for k in ("POSTGRES_PASSWORD", "DB_PASSWORD", "REDIS_PASSWORD"):
        ref = ((env.get(k) or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
        pr.expect(ref.get("name") == "readyd-secrets", f"{path}: {k} does not come from Secret readyd-secrets")
    res = c.get("resources") or {}
    for part, key in (("requests", "memory"), ("requests", "cpu"), ("limits", "memory")):
        pr.expect((res.get(part) or {}).get(key), f"{path}: resources.{part}.{key} is not set")
    sc = c.get("securityContext") or {}
    psc = pod.get("securityContext") or {}
    pr.expect(sc.get("runAsNonRoot") or psc.get("runAsNonRoot"), f"{path}: runAsNonRoot is not set")
    pr.expect(sc.get("readOnlyRootFilesystem") is True, f"{path}: readOnlyRootFilesystem is not true")
    pr.expect(sc.get("allowPrivilegeEscalation") is False, f"{path}: allowPrivilegeEscalation is not false")
    pr.expect("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), f"{path}: capabilities do not drop ALL")
    labels = tpl["metadata"].get("labels") or {}
    # Two replicas and a PodDisruptionBudget: the services' init containers
    # need one readyd to answer through a rollout or a node drain.
    replicas = deps[0]["spec"].get("replicas", 1)
    pr.expect(replicas >= 2, f"{path}: readyd runs {replicas} replica(s), not at least 2")
    pdbs = [d for d in docs if d.get("kind") == "PodDisruptionBudget"]
    if pr.expect(pdbs, f"{path}: no PodDisruptionBudget"):
        pdb = pdbs[0]
        pr.expect(pdb.get("apiVersion") == "policy/v1", f"{path}: PodDisruptionBudget is not policy/v1")
        psel = ((pdb.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        pr.expect(
            psel and all(labels.get(k) == v for k, v in psel.items()),
            f"{path}: PodDisruptionBudget selector does not match the readyd pods",
        )
        spec = pdb.get("spec") or {}
        if "minAvailable" in spec:
            ma = spec["minAvailable"]
            pr.expect(
                isinstance(ma, int) and 1 <= ma < replicas,
                f"{path}: PodDisruptionBudget minAvailable {ma} must be 1..replicas-1",
            )
        else:
            pr.expect(spec.get("maxUnavailable") == 1, f"{path}: PodDisruptionBudget allows more than one readyd down")
    svc = svcs[0]["spec"]
    sel = svc.get("selector") or {}
    pr.expect(sel and all(labels.get(k) == v for k, v in sel.items()), f"{path}: Service selector does not match the pods")
    sp = svc.get("ports") or [{}]
    pr.expect(
        resolve_port(c, sp[0].get("targetPort", sp[0].get("port"))) == port,
        f"{path}: Service targetPort does not reach the daemon's port {port}",
    )
    return pr.finish()


def k8s_docs():
    """Every document of every config/kubernetes/*.yaml, as (path, doc)."""
    out = []
    d = os.path.join(ROOT, "config/kubernetes")
    for f in sorted(os.listdir(d)):
        if f.endswith((".yaml", ".yml")):
            path = f"config/kubernetes/{f}"
            out += [(path, x) for x in yaml.safe_load_all(read(path)) if x]
    return out


def config_groups():
    return re.findall(r"^\[group\s+([A-Za-z0-9_.-]+)\]", read("config/readyd.conf"), re.M)


def check_k8s_gating(path="config/kubernetes/user-service.yaml"):
    """The example application Deployment waits for its group's verdict
    with an init container running the readyd image's `readyd check --url
    http://readyd:PORT/ready/GROUP --wait DUR`, against the readyd Service."""
    pr = Problems()
    docs = k8s_docs()
    svcs = [d for p, d in docs if d.get("kind") == "Service" and d["metadata"]["name"] == "readyd"]
    if not pr.expect(svcs, "config/kubernetes: no Service named readyd"):
        return pr.finish()
    sport = (svcs[0]["spec"].get("ports") or [{}])[0].get("port")
    apps = [d for p, d in docs if p == path and d.get("kind") == "Deployment"]
    if not pr.expect(apps, f"{path}: no Deployment"):
        return pr.finish()
    app = apps[0]
    name = app["metadata"]["name"]
    pr.expect(name in config_groups(), f"{path}: {name} is not a group of config/readyd.conf")
    pod = app["spec"]["template"]["spec"]
    inits = [c for c in pod.get("initContainers") or [] if "readyd" in str(c.get("image", ""))]
    if not pr.expect(inits, f"{path}: no init container runs the readyd image"):
        return pr.finish()
    c = inits[0]
    argv = [str(a) for a in (c.get("command") or []) + (c.get("args") or [])]
    if argv and argv[0] in ("readyd", "/usr/local/bin/readyd"):
        argv = argv[1:]  # the image's ENTRYPOINT is ["readyd"]
    want = ["check", "--url", f"http://readyd:{sport}/ready/{name}", "--wait", "300s"]
    pr.expect(argv == want, f"{path}: init container runs readyd {' '.join(argv)}, expected readyd {' '.join(want)}")
    sc = c.get("securityContext") or {}
    pr.expect(sc.get("readOnlyRootFilesystem") is True, f"{path}: init container: readOnlyRootFilesystem is not true")
    pr.expect(sc.get("allowPrivilegeEscalation") is False, f"{path}: init container: allowPrivilegeEscalation is not false")
    pr.expect(sc.get("runAsNonRoot") is True, f"{path}: init container: runAsNonRoot is not true")
    pr.expect("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), f"{path}: init container: capabilities do not drop ALL")
    pr.expect(pod.get("containers"), f"{path}: no application container")
    return pr.finish()


def secret_commands(text):
    """{secret name: [keys]} of every `kubectl create secret generic NAME
    --from-literal=KEY=...` in text (continuation lines and leading '#'
    comment marks handled)."""
    lines = [re.sub(r"^\s*#\s?", "", l) for l in text.splitlines()]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    out = {}
    for m in re.finditer(r"kubectl create secret generic\s+(\S+)([^\n]*)", joined):
        out.setdefault(m.group(1), []).extend(re.findall(r"--from-literal=([^=\s]+)=", m.group(2)))
    return out


def check_k8s_secret_keys():
    """README's `kubectl create secret` command, the one in the manifest's
    header and the keys the manifests read agree: a copied command gives
    pods that start."""
    pr = Problems()
    used = {}
    for p, d in k8s_docs():
        for m in re.finditer(r"secretKeyRef': \{'name': '([^']+)', 'key': '([^']+)'", str(d)):
            used.setdefault(m.group(1), set()).add(m.group(2))
    readme = read("README.md")
    sec = re.search(r"^## [^\n]*Kubernetes[^\n]*\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    sources = {"README.md (Kubernetes)": sec.group(1) if sec else ""}
    for p in sorted({p for p, _ in k8s_docs()}):
        sources[p] = "\n".join(l for l in read(p).splitlines() if l.startswith("#"))
    pr.expect(used, "config/kubernetes: no secretKeyRef")
    pr.expect(secret_commands(sources["README.md (Kubernetes)"]), "README.md: no kubectl create secret command in the Kubernetes section")
    for src, text in sources.items():
        for name, keys in secret_commands(text).items():
            if not pr.expect(name in used, f"{src}: creates Secret {name}, which no manifest reads"):
                continue
            pr.expect(len(keys) == len(set(keys)), f"{src}: a key twice in {keys}")
            pr.expect(
                set(keys) == used[name],
                f"{src}: Secret {name} keys {sorted(set(keys))}, the manifests read {sorted(used[name])}",
            )
    return pr.finish()


def check_ports():
    """The daemon's default port is the one docker, compose and systemd
    users are told about."""
    pr = Problems()
    port = default_port()
    s = compose()["services"]["readyd"]
    published = [str(p) for p in s.get("ports") or []]
    pr.expect(
        any(p.endswith(f":{port}") for p in published),
        f"compose: readyd does not publish container port {port}: {published}",
    )
    lst = as_map(s.get("environment")).get("READYD_LISTEN")
    pr.expect(lst is None or str(lst).rstrip("}").endswith(f":{port}"), f"compose: READYD_LISTEN {lst} is not port {port}")
    env = read("config/env.example")
    pr.expect(
        re.search(rf"^READYD_LISTEN=\S*:{port}$", env, re.M),
        f"config/env.example: READYD_LISTEN is not on port {port}",
    )
    return pr.finish()


def check_man_keys():
    """docs/readyd.8 documents every configuration key and every reason the
    daemon knows (from src/config.c and src/probe.c)."""
    pr = Problems()
    man = read("docs/readyd.8")
    text = re.sub(r"\\-", "-", man)
    keys = re.findall(r'\[CONFIG_KEY_[A-Z_]+\]\s*=\s*\{\s*\.name\s*=\s*"([a-z_]+)"', read("src/config.c"))
    pr.expect(keys, "src/config.c: no key table found")
    for k in keys:
        pr.expect(
            re.search(rf"^\.B[IR]?\s+{re.escape(k)}\b", text, re.M),
            f"docs/readyd.8: configuration key {k} is not documented",
        )
    reasons = re.findall(r'\[PROBE_[A-Z_]+\]\s*=\s*"([a-z]+)"', read("src/probe.c"))
    for r in reasons:
        if r in ("ok", "pass"):
            continue
        pr.expect(
            re.search(rf"^\.B\s+{r}\s*$", text, re.M),
            f"docs/readyd.8: reason {r} is not documented",
        )
    for sec in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "CONFIGURATION",
                "HTTP API", "REASONS", "EXIT STATUS", "SIGNALS", "FILES", "ENVIRONMENT", "SEE ALSO"):
        pr.expect(re.search(rf'^\.SH "?{sec}"?\s*$', man, re.M), f"docs/readyd.8: no section {sec}")
    return pr.finish()


def check_stack_files():
    """config/pgbouncer.ini and config/redis.conf say what the data model
    says, one setting per line, so tests can rewrite ports and paths."""
    pr = Problems()

    def settings(path, sep):
        out = {}
        for ln in read(path).splitlines():
            s = ln.strip()
            if not s or s[0] in "#;[":
                continue
            pr.expect(not s.startswith(("%include", "include ")), f"{path}: includes another file: {s}")
            k, v = (s.split(sep, 1) + [""])[:2] if sep else (s.split(None, 1) + [""])[:2]
            out.setdefault(k.strip(), []).append(v.strip())
        return out

    pb = settings("config/pgbouncer.ini", "=")
    want = {
        "listen_port": "6432",
        "pool_mode": "transaction",
        "max_client_conn": "100",
        "auth_type": "scram-sha-256",
        "admin_users": "postgres",
    }
    for k, v in want.items():
        pr.expect(pb.get(k) == [v], f"config/pgbouncer.ini: {k} is {pb.get(k)}, not [{v}]")
    for k in ("auth_file", "logfile", "pidfile", "listen_addr", "default_pool_size"):
        pr.expect(len(pb.get(k, [])) == 1, f"config/pgbouncer.ini: {k} is not set exactly once")
    size = (pb.get("default_pool_size") or ["0"])[0]
    pr.expect(size.isdigit() and 25 <= int(size) <= 50, f"config/pgbouncer.ini: default_pool_size {size} not in 25-50")
    isp = (pb.get("ignore_startup_parameters") or [""])[0].split(",")
    for p in ("extra_float_digits", "options"):
        pr.expect(p in [x.strip() for x in isp], f"config/pgbouncer.ini: ignore_startup_parameters lacks {p}")
    pr.expect(
        re.search(r"^hdms_db\s*=\s*host=\S+ port=5432 dbname=hdms_db\s*$", read("config/pgbouncer.ini"), re.M),
        "config/pgbouncer.ini: [databases] hdms_db is not host=... port=5432 dbname=hdms_db",
    )

    rc = settings("config/redis.conf", None)
    pr.expect(rc.get("port") == ["6379"], f"config/redis.conf: port is {rc.get('port')}")
    pr.expect(rc.get("dir") == ["/data"], f"config/redis.conf: dir is {rc.get('dir')}")
    pr.expect(
        rc.get("save") == ["900 1", "300 10", "60 10000"],
        f"config/redis.conf: save directives are {rc.get('save')}",
    )
    dbs = (rc.get("databases") or ["16"])[0]
    pr.expect(dbs.isdigit() and int(dbs) >= 3, f"config/redis.conf: databases {dbs} < 3 (db 0-2 are used)")
    pr.expect("requirepass" not in rc, "config/redis.conf: requirepass is set in the file (it comes from the environment)")
    for k in ("pidfile", "logfile", "bind"):
        pr.expect(len(rc.get(k, [])) == 1, f"config/redis.conf: {k} is not set exactly once")

    ul = read("config/userlist.txt.example")
    pr.expect(
        not re.search(r'^"', ul, re.M),
        "config/userlist.txt.example: has an active user line (keep examples commented)",
    )
    return pr.finish()


def check_env_example():
    """config/env.example lists every variable of the data model's schema
    (and readyd's) with its default."""
    pr = Problems()
    env = {}
    for ln in read("config/env.example").splitlines():
        m = re.match(r"^([A-Z_][A-Z0-9_]*)=(.*)$", ln)
        if m:
            pr.expect(m.group(1) not in env, f"config/env.example: {m.group(1)} twice")
            env[m.group(1)] = m.group(2)
    want = {
        "POSTGRES_DB": "hdms_db",
        "POSTGRES_USER": "",
        "POSTGRES_PASSWORD": "",
        "PGBOUNCER_POOL_SIZE": "25",
        "PGBOUNCER_USER": "postgres",
        "PGBOUNCER_PASSWORD": "",
        "REDIS_PASSWORD": "",
        "DB_NAME": "hdms_db",
        "DB_USER": "",
        "DB_PASSWORD": "",
        "DB_HOST": "pgbouncer",
        "DB_PORT": "6432",
        "DB_CONNECT_TIMEOUT": "20",
        "READYD_LISTEN": f"0.0.0.0:{default_port()}",
    }
    for k, v in want.items():
        if pr.expect(k in env, f"config/env.example: {k} is missing"):
            pr.expect(env[k] == v, f"config/env.example: {k}={env[k]}, expected {k}={v}")
    # Every ${VAR} readyd.conf reads can be set from the example.
    conf = "\n".join(
        l for l in read("config/readyd.conf").splitlines() if not l.lstrip().startswith(("#", ";"))
    )
    for var in set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", conf)):
        pr.expect(var in env, f"config/env.example: {var} (read by config/readyd.conf) is missing")
    return pr.finish()


CHECKS = {
    "runtime-libs": check_runtime_libs,
    "runtime-minimal": check_runtime_minimal,
    "build-deps": check_build_deps,
    "dockerfile": check_dockerfile,
    "compose": check_compose,
    "k8s": check_k8s,
    "k8s-gating": check_k8s_gating,
    "k8s-secret-keys": check_k8s_secret_keys,
    "ports": check_ports,
    "man-keys": check_man_keys,
    "stack-files": check_stack_files,
    "env-example": check_env_example,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in CHECKS:
        sys.exit("usage: checks.py " + "|".join(CHECKS) + " [ARG...]")
    sys.exit(CHECKS[sys.argv[1]](*sys.argv[2:]))
