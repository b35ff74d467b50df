#!/usr/bin/env python3
"""chaos.py WORK STACK_SH: the chaos soak driver (started by run.sh, which
made WORK with the stack in WORK/stack, its env exported, readyd at
WORK/readyd and the default configuration at WORK/readyd.conf).

Starts readyd, lets it warm up, then until SOAK_MINUTES are over injects
one fault at a time from this menu, each item once in a random order, then
again (seed printed; SOAK_SEED replays the same choices), holds it a random
while, undoes it:

  kill9 postmaster | pgbouncer | redis   SIGKILL of the server process
  pg-all-kill9                          SIGKILL of every PostgreSQL process
  stop postgres | pgbouncer | redis     graceful stop
  freeze postgres | pgbouncer | redis   SIGSTOP (with children), then SIGCONT
  blackhole postgres|pgbouncer|redis    iptables DROP both ways (only inside
                                        run.sh's network namespace)
  wrong-password postgres | redis       ALTER ROLE / CONFIG SET requirepass
                                        to a wrong one, then back
  redis-oom                             CONFIG SET maxmemory 1, then back
  pgbouncer-reload                      SIGHUP to PgBouncer
  readyd-hup-valid                      config rewritten (same text), SIGHUP
  readyd-hup-invalid                    config broken, SIGHUP, then restored
                                        and SIGHUP again

Meanwhile a separate process asks /live every 50 ms, a thread polls /ready
(every 250 ms), /ready/GROUP and /readyd/CHECK and /metrics (every second,
in turn), another samples readyd's RSS, descriptors and heap in use
(readyd_heap_bytes in /metrics: what is allocated and not freed) every 15 s.

Invariants (each violation is printed at once and fails the soak):
  - readyd never exits until the end and then exits 0 on SIGTERM;
  - /live always answers 200 within 100 ms, not counting the time readyd
    or the sampler waited for a CPU (/proc/PID/schedstat: this machine is
    shared; raw figures and each slow answer are printed);
  - /ready and /ready/NAME answer 200 or 503 with valid JSON, /metrics 200;
  - after each fault is undone every check passes again (and /ready says
    200) within the fault's recovery bound (README: Testing under attack);
  - at the end (median of the last 5 samples), the heap in use within
    10 % + 2 MiB of the median of the first 5 samples after warm-up, and
    descriptors within 2 of the values after warm-up: a leak shows there.
    RSS is printed and held to a looser +50 % + 8 MiB: ASan's allocator
    keeps a quarantine and its high mark per size class, so RSS climbs for
    minutes after warm-up without a leak (a 30-minute run went 45.6 to
    57.4 MB with a flat heap);
  - no sanitizer report in readyd's output, no password in it either.
"""
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

WORK, STACK = sys.argv[1], sys.argv[2]
SD = os.path.join(WORK, "stack")
MINUTES = float(os.environ.get("SOAK_MINUTES") or 10)
SEED = int(os.environ.get("SOAK_SEED") or (time.time_ns() // 1000) % 1000000007)
BLACKHOLE = os.environ.get("SOAK_BLACKHOLE") == "1"
E = os.environ
CHECKS = ["postgres", "pgbouncer", "redis-cache", "redis-channels", "redis-celery"]
GROUPS = ["user-service", "ticket-service", "communication-service", "file-service"]
LIVE_LIMIT = 0.100
# Recovery bounds (seconds from the undo, the server serving again, to
# every check pass): one attempt in flight may run to its timeout (10 s),
# the next follows fast_interval (1 s) later, PgBouncer refuses logins for
# server_login_retry (1 s) after PostgreSQL is back; 3 s of margin for
# ASan and a shared machine. A healed blackhole adds TCP's retransmission
# backoff of the connections caught in it (PgBouncer's to PostgreSQL).
RECOVER = 15.0
RECOVER_BLACKHOLE = 45.0
PORTS = {"postgres": E["POSTGRES_PORT"], "pgbouncer": E["DB_PORT"], "redis": E["REDIS_PORT"]}

T0 = time.time()
violations = []
lock = threading.Lock()
stop_evt = threading.Event()


def log(msg):
    print("[%7.1f] %s" % (time.time() - T0, msg), flush=True)


def violate(msg):
    with lock:
        violations.append("[%.1f] %s" % (time.time() - T0, msg))
    log("VIOLATION: " + msg)


def sh(*cmd, check=True, timeout=60, env=None):
    r = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, env=env, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode, r.stdout[-500:]))
    return r.stdout


def stack(*args):
    return sh(STACK, args[0], SD, *args[1:], timeout=120)


def free_port():
    return int(sh(STACK, "free-port").strip())


# ---------------------------------------------------------------- HTTP

def http(path, timeout=3.0):
    """GET path; returns (status, body bytes, seconds); status 0 on error."""
    t0 = time.time()
    try:
        s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        s.close()
    except OSError:
        return 0, b"", time.time() - t0
    head, _, body = buf.partition(b"\r\n\r\n")
    try:
        st = int(head[9:12])
    except ValueError:
        st = -1
    return st, body, time.time() - t0


SAMPLER = r"""
import socket, sys, time
port, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w", buffering=1) as f:
    while True:
        t0 = time.time()
        st = 0
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=3)
            s.sendall(b"GET /live HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")
            buf = b""
            while True:
                d = s.recv(4096)
                if not d:
                    break
                buf += d
            s.close()
            st = int(buf[9:12]) if buf.startswith(b"HTTP/1.1 ") else -1
        except (OSError, ValueError):
            st = 0
        f.write("%.6f %.6f %d\n" % (t0, time.time() - t0, st))
        time.sleep(0.05)
"""

# ---------------------------------------------------------------- readyd

def readyd_alive():
    return READYD.poll() is None


def proc_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()


def rss_kb():
    with open("/proc/%d/status" % READYD.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def heap_bytes():
    st, body, _ = http("/metrics")
    if st != 200:
        return -1
    m = re.search(rb"^readyd_heap_bytes (\d+)", body, re.M)
    return int(m.group(1)) if m else -1


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else -1


def nfds():
    return len(os.listdir("/proc/%d/fd" % READYD.pid))


def fds_min():
    m = 1 << 30
    for _ in range(6):
        m = min(m, nfds())
        time.sleep(0.25)
    return m


def children(pid):
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            st = proc_stat(int(d))
        except OSError:
            continue
        if st[0] in ("Z", "X"):
            continue
        kids.setdefault(int(st[1]), []).append(int(d))
    out, q = [], [pid]
    while q:
        p = q.pop()
        out.append(p)
        q.extend(kids.get(p, []))
    return out


def server_pid(srv):
    for line in stack("status").splitlines():
        p = line.split()
        if p and p[0] == srv and p[1] in ("running", "frozen"):
            return int(p[2].split("=")[1])
    raise RuntimeError("%s not running" % srv)


def alive_pid(pid):
    try:
        return proc_stat(pid)[0] not in ("Z", "X")
    except OSError:
        return False

# ---------------------------------------------------------------- pollers

state = {}          # check -> status last seen
transitions = []    # (t, check, old, new)
ready_503 = []      # times /ready said 503


def poller():
    i = 0
    while not stop_evt.is_set():
        st, body, secs = http("/ready")
        if not readyd_alive():
            return
        if st not in (200, 503):
            violate("/ready answered %s (%.3fs)" % (st, secs))
        else:
            try:
                j = json.loads(body)
                for c in CHECKS:
                    new = j["checks"][c]["status"]
                    old = state.get(c)
                    if old is not None and old != new:
                        with lock:
                            transitions.append((time.time() - T0, c, old, new))
                    state[c] = new
                # warn: a failing check no group needs; still HTTP 200
                if (st == 200) != (j["status"] in ("pass", "warn")):
                    violate("/ready %d with status %s" % (st, j["status"]))
                if st == 503:
                    ready_503.append(time.time())
            except (ValueError, KeyError) as e:
                violate("/ready body not the expected JSON (%s): %r" % (e, body[:200]))
        if i % 4 == 0:
            names = GROUPS + CHECKS
            name = names[(i // 4) % len(names)]
            st, body, secs = http("/ready/" + name)
            if st not in (200, 503):
                violate("/ready/%s answered %s" % (name, st))
            else:
                try:
                    json.loads(body)
                except ValueError:
                    violate("/ready/%s: body not JSON: %r" % (name, body[:200]))
            st, body, secs = http("/metrics")
            if st != 200 or b"readyd_ready_all" not in body:
                violate("/metrics answered %s (%d bytes)" % (st, len(body)))
        i += 1
        stop_evt.wait(0.25)


series = []  # (t, rss_kb, fds, heap bytes)


def sampler():
    while not stop_evt.is_set():
        if not readyd_alive():
            return
        try:
            series.append((time.time() - T0, rss_kb(), fds_min(), heap_bytes()))
        except OSError:
            pass
        stop_evt.wait(15)


sched = []  # (t, readyd on-CPU ns, readyd runqueue-wait ns, same for the /live sampler)


def schedstat(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        run, wait, _ = f.read().split()
    return int(run), int(wait)


def sched_sampler(live_pid):
    """Every 10 ms, how long readyd and the /live sampler have run and have
    waited for a CPU (/proc/PID/schedstat): a slow /live while readyd
    waited for a CPU is this shared machine's doing, not readyd's."""
    while not stop_evt.is_set():
        try:
            sched.append((time.time(),) + schedstat(READYD.pid) + schedstat(live_pid))
        except (OSError, ValueError):
            return
        time.sleep(0.01)


def sched_window(t0, t1):
    """(readyd ran, readyd waited, sampler waited) in seconds over [t0, t1]."""
    before = [e for e in sched if e[0] <= t0]
    after = [e for e in sched if e[0] >= t1]
    if not before or not after:
        return None
    a, b = before[-1], after[0]
    return (b[1] - a[1]) / 1e9, (b[2] - a[2]) / 1e9, (b[4] - a[4]) / 1e9


def live_stats(t0, t1):
    worst, n, bad, slow = 0.0, 0, 0, 0
    try:
        with open(LIVE_FILE) as f:
            for line in f:
                p = line.split()
                if len(p) != 3:
                    continue
                ts, lat, st = float(p[0]), float(p[1]), int(p[2])
                if not t0 <= ts <= t1:
                    continue
                n += 1
                worst = max(worst, lat)
                bad += st != 200
                slow += lat > LIVE_LIMIT
    except OSError:
        pass
    return worst, n, bad, slow

# ---------------------------------------------------------------- faults

def iptables(op, port):
    for rule in (["--dport", port], ["--sport", port]):
        sh("iptables", op, "INPUT", "-p", "tcp", *rule, "-j", "DROP")


def psql_super(sql):
    sh("psql", "-X", "-q", "-h", SD, "-p", E["POSTGRES_PORT"], "-U", "postgres", "-d", "postgres",
       "-v", "ON_ERROR_STOP=1", "-c", sql)


def redis_cli(password, *args):
    return sh("redis-cli", "-h", "127.0.0.1", "-p", E["REDIS_PORT"], "--no-auth-warning",
              "-a", password, *args)


WRONG = "soak-wrong-%d" % SEED


class Fault:
    def __init__(self, name, apply, undo, hold=(2, 20), bound=RECOVER):
        self.name, self.apply, self.undo, self.hold, self.bound = name, apply, undo, hold, bound


def kill_postmaster():
    pid = server_pid("postgres")
    tree = children(pid)
    os.kill(pid, signal.SIGKILL)
    return tree


def start_after(srv, tree):
    deadline = time.time() + 20
    while any(alive_pid(p) for p in tree) and time.time() < deadline:
        time.sleep(0.1)
    stack("start-server", srv)


def hup_readyd(text):
    with open(CONF + ".new", "w") as f:
        f.write(text)
    os.replace(CONF + ".new", CONF)
    os.kill(READYD.pid, signal.SIGHUP)


def menu():
    m = []
    held = {}

    def k9(srv):
        if srv == "postgres":
            return Fault("kill9 postmaster", lambda: held.__setitem__("tree", kill_postmaster()),
                         lambda: start_after("postgres", held["tree"]))
        return Fault("kill9 " + srv, lambda: stack("kill", srv), lambda: stack("start-server", srv))

    for srv in ("postgres", "pgbouncer", "redis"):
        m.append(k9(srv))
        m.append(Fault("stop " + srv, lambda s=srv: stack("stop", s), lambda s=srv: stack("start-server", s)))
        m.append(Fault("freeze " + srv, lambda s=srv: stack("freeze", s), lambda s=srv: stack("thaw", s),
                       hold=(2, 35)))
        if BLACKHOLE:
            m.append(Fault("blackhole " + srv, lambda s=srv: iptables("-A", PORTS[s]),
                           lambda s=srv: iptables("-D", PORTS[s]), hold=(2, 25), bound=RECOVER_BLACKHOLE))
    m.append(Fault("pg-all-kill9", lambda: stack("kill", "postgres"), lambda: stack("start-server", "postgres")))
    m.append(Fault("wrong-password postgres",
                   lambda: psql_super("ALTER ROLE %s PASSWORD '%s'" % (E["POSTGRES_USER"], WRONG)),
                   lambda: psql_super("ALTER ROLE %s PASSWORD '%s'" % (E["POSTGRES_USER"], E["POSTGRES_PASSWORD"])),
                   hold=(5, 40)))
    m.append(Fault("wrong-password redis",
                   lambda: redis_cli(E["REDIS_PASSWORD"], "CONFIG", "SET", "requirepass", WRONG),
                   lambda: redis_cli(WRONG, "CONFIG", "SET", "requirepass", E["REDIS_PASSWORD"]),
                   hold=(5, 40)))

    def oom():
        held["maxmemory"] = redis_cli(E["REDIS_PASSWORD"], "CONFIG", "GET", "maxmemory").split()[-1]
        redis_cli(E["REDIS_PASSWORD"], "CONFIG", "SET", "maxmemory", "1")
        # a write now fails with OOM: the fault is real
        out = redis_cli(E["REDIS_PASSWORD"], "SET", "soak-oom", "x")
        if "OOM" not in out:
            log("  note: SET under maxmemory 1 answered %r" % out.strip())

    m.append(Fault("redis-oom", oom,
                   lambda: redis_cli(E["REDIS_PASSWORD"], "CONFIG", "SET", "maxmemory", held["maxmemory"]),
                   hold=(5, 30)))
    m.append(Fault("pgbouncer-reload", lambda: os.kill(server_pid("pgbouncer"), signal.SIGHUP),
                   lambda: None, hold=(1, 5)))
    m.append(Fault("readyd-hup-valid", lambda: hup_readyd(CONF_TEXT), lambda: None, hold=(1, 5)))
    m.append(Fault("readyd-hup-invalid",
                   lambda: hup_readyd(CONF_TEXT + "\n[check broken]\nkind = nope\nport = 99999\n"),
                   lambda: hup_readyd(CONF_TEXT), hold=(2, 10)))
    return m


def all_pass():
    st, body, _ = http("/ready")
    if st != 200:
        return False
    try:
        j = json.loads(body)
        return all(j["checks"][c]["status"] == "pass" for c in CHECKS)
    except (ValueError, KeyError):
        return False


def wait_all_pass(secs):
    t0 = time.time()
    while time.time() - t0 < secs:
        if all_pass():
            return time.time() - t0
        if not readyd_alive():
            return None
        time.sleep(0.1)
    return None

# ---------------------------------------------------------------- main

def main():
    global PORT, READYD, LIVE_FILE, CONF, CONF_TEXT
    rng = random.Random(SEED)
    log("soak: seed %d (SOAK_SEED=%d replays the choices), %.1f minutes, blackhole %s"
        % (SEED, SEED, MINUTES, "on (network namespace)" if BLACKHOLE else
           "SKIPPED (not in a network namespace of our own)"))
    CONF = os.path.join(WORK, "readyd.conf")
    with open(CONF) as f:
        CONF_TEXT = f.read()
    PORT = free_port()
    LIVE_FILE = os.path.join(WORK, "live.txt")
    rlog = open(os.path.join(WORK, "readyd.log"), "w")
    READYD = subprocess.Popen([os.path.join(WORK, "readyd"), "serve", "-c", CONF,
                               "--listen", "127.0.0.1:%d" % PORT],
                              stdout=rlog, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    for _ in range(300):
        if http("/live")[0] == 200 or not readyd_alive():
            break
        time.sleep(0.1)
    if http("/live")[0] != 200:
        violate("readyd did not answer /live within 30 s")
        return finish(None)
    w = wait_all_pass(60)
    if w is None:
        violate("all checks pass within 60 s of start-up")
        return finish(None)
    log("readyd %d up on 127.0.0.1:%d, all pass after %.1fs" % (READYD.pid, PORT, w))
    live = subprocess.Popen([sys.executable, "-c", SAMPLER, str(PORT), LIVE_FILE])
    threads = [threading.Thread(target=poller, daemon=True), threading.Thread(target=sampler, daemon=True),
               threading.Thread(target=sched_sampler, args=(live.pid,), daemon=True)]
    for t in threads:
        t.start()

    end = T0 + MINUTES * 60
    warm = 60.0  # the first attempts and connections are made by then
    time.sleep(max(0.0, warm - (time.time() - T0)))
    warm_ref = (time.time() - T0, rss_kb(), fds_min())
    log("warm-up done: RSS %d kB, %d descriptors" % (warm_ref[1], warm_ref[2]))

    faults = menu()
    log("menu: %s" % ", ".join(f.name for f in faults))
    done = []  # (name, applied_at, hold, detected_after or None, recovery or None)
    deck = []
    try:
        while time.time() < end - 60:
            time.sleep(rng.uniform(2, 8))
            if not deck:  # every item once in a random order, then again
                deck = faults[:]
                rng.shuffle(deck)
            f = deck.pop()
            hold = rng.uniform(*f.hold)
            if time.time() + hold > end - 45:
                hold = max(1.0, end - 45 - time.time())
            n503 = len(ready_503)
            t_apply = time.time()
            log("fault %d: %s, held %.1fs" % (len(done) + 1, f.name, hold))
            try:
                f.apply()
            except Exception as e:  # a harness error, not readyd's
                violate("applying %s failed: %s" % (f.name, e))
                break
            time.sleep(hold)
            detected = next((t - t_apply for t in ready_503[n503:]), None)
            try:
                f.undo()
            except Exception as e:
                violate("undoing %s failed: %s" % (f.name, e))
                break
            rec = wait_all_pass(f.bound + 30)
            if rec is None:
                violate("after %s: not every check passes within %.0f s of the undo: %s"
                        % (f.name, f.bound + 30, http("/ready?verbose")[1].decode(errors="replace")))
                break
            if rec > f.bound:
                violate("after %s: every check passes %.1fs after the undo (bound %.0fs)" % (f.name, rec, f.bound))
            log("  undone; /ready 503 %s; all pass %.2fs after the undo" %
                ("%.1fs after the fault" % detected if detected is not None else "not seen", rec))
            done.append((f.name, t_apply - T0, hold, detected, rec))
            if not readyd_alive():
                violate("readyd exited (status %s)" % READYD.poll())
                break
    finally:
        # leave the stack whole whatever happened
        if BLACKHOLE:
            subprocess.run(["iptables", "-F", "INPUT"])
    # the end: settle, then the final samples
    rest = max(0.0, end - time.time())
    time.sleep(min(rest, 45))
    final = (time.time() - T0, rss_kb() if readyd_alive() else -1, fds_min() if readyd_alive() else -1)
    stop_evt.set()
    for t in threads:
        t.join(10)
    live.terminate()
    live.wait()
    return finish(done, warm_ref, final)


def finish(done, warm_ref=None, final=None):
    rc = None
    if READYD is not None:
        if readyd_alive():
            READYD.send_signal(signal.SIGTERM)
            try:
                rc = READYD.wait(60)
            except subprocess.TimeoutExpired:
                violate("readyd did not exit within 60 s of SIGTERM")
                READYD.kill()
                rc = READYD.wait()
        else:
            rc = READYD.poll()
            violate("readyd exited during the soak (status %s)" % rc)
        if rc != 0:
            violate("readyd exit status %s at the end (0 expected; 86 = ASan/LSan, 87 = UBSan)" % rc)
    with open(os.path.join(WORK, "readyd.log"), errors="replace") as f:
        text = f.read()
    san = re.findall(r"(ERROR: \w+Sanitizer.*|SUMMARY: \w+Sanitizer.*|runtime error:.*)", text)
    if san:
        violate("sanitizer report in readyd's output: %s" % "; ".join(san[:5]))
    for k in ("POSTGRES_PASSWORD", "REDIS_PASSWORD"):
        if E.get(k) and E[k] in text:
            violate("readyd's log holds %s" % k)

    print()
    print("==== soak summary (seed %d, %.1f minutes)" % (SEED, (time.time() - T0) / 60))
    if done:
        kinds = {}
        for name, at, hold, det, rec in done:
            kinds.setdefault(name, []).append((det, rec))
        print("faults injected: %d" % len(done))
        print("  %-26s %5s %-22s %s" % ("fault", "n", "/ready 503 after (s)", "all pass after undo (s), worst"))
        for name in sorted(kinds):
            v = kinds[name]
            dets = [d for d, _ in v if d is not None]
            recs = [r for _, r in v]
            print("  %-26s %5d %-22s %.2f" % (name, len(v),
                                              "%d/%d, worst %.1f" % (len(dets), len(v), max(dets)) if dets else "0/%d" % len(v),
                                              max(recs)))
        worst = max(done, key=lambda d: d[4])
        print("worst recovery: %.2fs after %s (fault at %.0fs)" % (worst[4], worst[0], worst[1]))
    print("transitions seen on /ready: %d (%s)" % (len(transitions), ", ".join(
        "%s %d" % (c, sum(1 for t in transitions if t[1] == c)) for c in CHECKS)))
    worst, n, bad, slow = live_stats(T0, time.time())
    print("/live: %d requests, worst %.1f ms, over %d ms: %d, not 200: %d" % (n, worst * 1000, LIVE_LIMIT * 1000, slow, bad))
    try:
        with open(LIVE_FILE) as f:
            rows = sorted((float(p[1]), float(p[0]) - T0) for p in (l.split() for l in f) if len(p) == 3)
        print("/live slowest 5 (ms at s): " + " ".join("%.1f@%.0f" % (lat * 1000, at) for lat, at in rows[-5:][::-1]))
    except (OSError, ValueError):
        pass
    if n == 0:
        violate("no /live sample")
    # Each slow answer: how much of it readyd (or the sampler) spent
    # waiting for a CPU that this shared machine gave to something else.
    # What remains is readyd's own delay: it must stay under the limit.
    own_worst, own_slow, unknown = 0.0, 0, 0
    try:
        with open(LIVE_FILE) as f:
            rows = [(float(p[0]), float(p[1]), int(p[2])) for p in (l.split() for l in f) if len(p) == 3]
    except (OSError, ValueError):
        rows = []
    for ts, lat, st in rows:
        if st != 200:
            continue
        if lat <= LIVE_LIMIT:
            own_worst = max(own_worst, lat)
            continue
        w = sched_window(ts, ts + lat)
        if w is None:
            unknown += 1
            own = lat
        else:
            own = lat - max(w[1], w[2])
        own_worst = max(own_worst, own)
        own_slow += own > LIVE_LIMIT
        print("  /live %.1f ms at %.0fs: readyd ran %.1f ms and waited for a CPU %.1f ms, the sampler waited %.1f ms: "
              "%.1f ms not explained by the machine" % ((lat * 1000, ts - T0) + tuple(x * 1000 for x in (w or (-1, -1, -1))) + (own * 1000,)))
    print("/live, readyd's own delay (latency minus the longer CPU wait of readyd or the sampler): worst %.1f ms, over %d ms: %d"
          % (own_worst * 1000, LIVE_LIMIT * 1000, own_slow))
    if bad:
        violate("/live: %d answers not 200" % bad)
    if own_slow:
        violate("/live: %d answers over %d ms not explained by waiting for a CPU (worst %.1f ms)"
                % (own_slow, LIVE_LIMIT * 1000, own_worst * 1000))
    if series:
        print("RSS kB series (t s: kB): " + " ".join("%d:%d" % (t, r) for t, r, _, _ in series))
        print("fd series (t s: n):      " + " ".join("%d:%d" % (t, n) for t, _, n, _ in series))
        print("heap kB series (t s: kB): " + " ".join("%d:%d" % (t, h // 1024) for t, _, _, h in series))
    if warm_ref and final:
        print("RSS: %d kB after warm-up (%.0fs), %d kB at the end (%.0fs); descriptors: %d -> %d"
              % (warm_ref[1], warm_ref[0], final[1], final[0], warm_ref[2], final[2]))
        if final[1] > warm_ref[1] * 1.50 + 8192:
            violate("RSS grew from %d kB to %d kB (limit: +50 %% + 8 MiB)" % (warm_ref[1], final[1]))
        after = [h for t, _, _, h in series if t >= warm_ref[0] and h >= 0]
        if len(after) < 10:
            violate("heap: %d samples after warm-up, too few to compare" % len(after))
        else:
            first, last = median(after[:5]), median(after[-5:])
            pts = [(t, h) for t, _, _, h in series if t >= warm_ref[0] and h >= 0]
            mt = sum(t for t, _ in pts) / len(pts)
            mh = sum(h for _, h in pts) / len(pts)
            den = sum((t - mt) ** 2 for t, _ in pts) or 1.0
            slope = sum((t - mt) * (h - mh) for t, h in pts) / den * 60 / 1024
            print("heap in use: %d kB after warm-up, %d kB at the end (medians of 5 samples); trend %+.1f kB/min"
                  % (first // 1024, last // 1024, slope))
            if last > first * 1.10 + 2 * 1048576:
                violate("heap in use grew from %d kB to %d kB (limit: +10 %% + 2 MiB)"
                        % (first // 1024, last // 1024))
        if final[2] > warm_ref[2] + 2:
            violate("descriptors grew from %d to %d" % (warm_ref[2], final[2]))
    print("readyd exit status: %s; sanitizer reports: %d" % (rc, len(san)))
    print("violations: %d" % len(violations))
    for v in violations:
        print("  " + v)
    print("soak: %s" % ("PASS" if not violations else "FAIL"))
    return 0 if not violations else 1


PORT = READYD = LIVE_FILE = CONF = CONF_TEXT = None
if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        stop_evt.set()
        if READYD is not None and readyd_alive():
            READYD.kill()
        sys.exit(130)
