#!/usr/bin/env python3
"""notify_listen.py SOCKET OUT [HTTP_PORT]: play systemd's side of sd_notify.

Binds an AF_UNIX datagram socket at SOCKET and appends every line of every
datagram to OUT as "UNIXTIME LINE" (flushed at once). When HTTP_PORT is
given, a READY=1 line is followed by a line "UNIXTIME HTTP-CONNECT ok" or
"... HTTP-CONNECT fail: ERROR": a TCP connect to 127.0.0.1:HTTP_PORT made
the moment READY=1 arrived (READY=1 must mean the HTTP socket is bound).
Writes "UNIXTIME LISTENING" once bound. Runs until SIGTERM or 120 s.
Used by t_notify.sh.
"""
import os
import signal
import socket
import sys
import time


def main():
    path, out = sys.argv[1], sys.argv[2]
    port = int(sys.argv[3]) if len(sys.argv) > 3 else None
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.5)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    deadline = time.monotonic() + 120
    with open(out, "a", buffering=1) as f:
        f.write("%.3f LISTENING\n" % time.time())
        try:
            while time.monotonic() < deadline:
                try:
                    data = s.recv(65536)
                except socket.timeout:
                    continue
                t = time.time()
                for line in data.decode("utf-8", "replace").split("\n"):
                    if not line:
                        continue
                    f.write("%.3f %s\n" % (t, line))
                    if line == "READY=1" and port is not None:
                        try:
                            c = socket.create_connection(("127.0.0.1", port), timeout=1)
                            c.close()
                            f.write("%.3f HTTP-CONNECT ok\n" % time.time())
                        except OSError as e:
                            f.write("%.3f HTTP-CONNECT fail: %s\n" % (time.time(), e))
        finally:
            s.close()
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


if __name__ == "__main__":
    main()
