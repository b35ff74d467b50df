#!/usr/bin/env python3
"""http_requests.py PORT N PATH...: N GET requests to 127.0.0.1:PORT on one
keep-alive connection, cycling through PATHs. Prints "requests=N
codes=CODE:COUNT,...". Exit 1 when a request fails outright."""
import collections
import http.client
import sys


def main():
    port, n, paths = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    codes = collections.Counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for i in range(n):
        path = paths[i % len(paths)]
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException):
            # readyd closes a connection after 20 s: open another
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
        codes[r.status] += 1
    print(f"requests={n} codes=" +
          ",".join(f"{c}:{k}" for c, k in sorted(codes.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
