#!/usr/bin/env python3
"""accept_cost.py PORT PID N [ROUNDS]: readyd's CPU to accept N idle
connections at once (issue 12: http_reap scanned every connection per
accept, quadratic in N).

Each round opens N TCP connections to 127.0.0.1:PORT as fast as the kernel
takes them, waits until readyd (PID) holds N more descriptors, and reads its
utime+stime (/proc/PID/stat) before and after; then closes them and waits
for the descriptors to come back. Prints one line per round:
"round=K n=N held=H cpu_ms=X wall_ms=Y" (H: connections
readyd held at the end, less than N when it closed some idle for 5 s) and a last line "median_cpu_ms=X".
Needs a descriptor limit above N for itself and for readyd.
"""
import os
import resource
import socket
import sys
import time

TCK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / TCK


def nfds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_fds(pid, want, cmp, cap_s=60):
    end = time.monotonic() + cap_s
    while time.monotonic() < end:
        if cmp(nfds(pid), want):
            return True
        time.sleep(0.005)
    return False


def main():
    port, pid, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1024), hard))
    cpus = []
    for k in range(1, rounds + 1):
        base = nfds(pid)
        c0 = cpu_s(pid)
        t0 = time.monotonic()
        socks = []
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.connect(("127.0.0.1", port))
            socks.append(s)
        # all accepted, or (a slow machine: readyd closes a connection
        # idle for 5 s) no new one for 200 ms
        held, still = nfds(pid), time.monotonic()
        while held < base + n and time.monotonic() - still < 0.2:
            time.sleep(0.005)
            now = nfds(pid)
            if now > held:
                held, still = now, time.monotonic()
        t1 = time.monotonic()
        c1 = cpu_s(pid)
        cpu_ms = (c1 - c0) * 1000
        cpus.append(cpu_ms)
        print(f"round={k} n={n} held={held - base} cpu_ms={cpu_ms:.0f} "
              f"wall_ms={(t1 - t0) * 1000:.0f}", flush=True)
        for s in socks:
            s.close()
        # readyd reaps at its next beat (1 s) or accept
        # (attempts in flight make the count move: a tenth of slack)
        wait_fds(pid, base + 8 + base // 10, lambda a, b: a <= b, cap_s=30)
        time.sleep(1.2)
    cpus.sort()
    print(f"median_cpu_ms={cpus[len(cpus) // 2]:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
