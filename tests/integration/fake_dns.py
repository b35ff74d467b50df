#!/usr/bin/env python3
"""fake_dns.py OUT RULE...: a tiny UDP nameserver on 127.0.0.1 for t_dns.sh.

Binds 127.0.0.1 on an ephemeral UDP port (the kernel picks a free one) and
writes "UNIXTIME LISTENING PORT" to OUT, then one line per query:
"UNIXTIME QUERY NAME TYPE ACTION" (NAME as sent, TYPE A/AAAA/number,
ACTION answer/nodata/nxdomain/drop). Lines are flushed at once.

RULEs (names compare case-insensitively, with or without a trailing dot):
  NAME=IPV4    A: one answer IPV4 (TTL 5); AAAA and any other type:
               NOERROR with no answer and the zone's SOA in the authority
               section (what a real server sends for a name that only has
               an A record)
  hang:NAME    read every query for NAME and never answer
  hang6:NAME=IPV4  as NAME=IPV4 for A, but never answer AAAA
  slowa:NAME=IPV4:SECS  as NAME=IPV4, but the A answer leaves SECS seconds
               after the query (AAAA's empty answer at once: a missed cache
               on a short-TTL record)
  v6:NAME=IPV6 AAAA: one answer IPV6; A and any other type: NOERROR with no
               answer (a name that only has an IPv6 address)
Any other name: NXDOMAIN (with the SOA when it is inside the zone).

The question is echoed byte for byte: evdns randomizes the case of the
name it sends (0x20) and drops answers whose question differs. Runs until
SIGTERM or 300 s.
"""
import signal
import socket
import struct
import sys
import time

ZONE = "readyd-test.internal"
TYPES = {1: "A", 28: "AAAA", 6: "SOA", 255: "ANY"}


def encode_name(name):
    out = b""
    for label in name.strip(".").split("."):
        out += bytes([len(label)]) + label.encode("ascii")
    return out + b"\0"


def soa_record():
    rdata = (
        encode_name("ns." + ZONE)
        + encode_name("hostmaster." + ZONE)
        + struct.pack("!IIIII", 1, 3600, 600, 86400, 5)
    )
    return encode_name(ZONE) + struct.pack("!HHIH", 6, 1, 5, len(rdata)) + rdata


def parse_question(pkt):
    """(id, flags, qname, qtype, question bytes) or None."""
    if len(pkt) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", pkt[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    i, labels = 12, []
    while True:
        if i >= len(pkt):
            return None
        n = pkt[i]
        i += 1
        if n == 0:
            break
        if n & 0xC0 or i + n > len(pkt):
            return None
        labels.append(pkt[i:i + n].decode("ascii", "replace"))
        i += n
    if i + 4 > len(pkt):
        return None
    qtype = struct.unpack("!H", pkt[i:i + 2])[0]
    return qid, flags, ".".join(labels), qtype, pkt[12:i + 4]


def in_zone(name):
    return name == ZONE or name.endswith("." + ZONE)


def main():
    out = sys.argv[1]
    addrs, hang, hang6, slow, v6 = {}, set(), set(), {}, {}
    for rule in sys.argv[2:]:
        if rule.startswith("hang:"):
            hang.add(rule[5:].lower().rstrip("."))
            continue
        if rule.startswith("slowa:"):
            name, rest = rule[6:].split("=", 1)
            ip, secs = rest.rsplit(":", 1)
            name = name.lower().rstrip(".")
            addrs[name] = socket.inet_aton(ip)
            slow[name] = float(secs)
            continue
        if rule.startswith("v6:"):
            name, ip = rule[3:].split("=", 1)
            v6[name.lower().rstrip(".")] = socket.inet_pton(socket.AF_INET6, ip)
            continue
        six = rule.startswith("hang6:")
        if six:
            rule = rule[6:]
        name, ip = rule.split("=", 1)
        name = name.lower().rstrip(".")
        addrs[name] = socket.inet_aton(ip)
        if six:
            hang6.add(name)

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.05)
    later = []  # (due, reply, peer, log line)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    deadline = time.monotonic() + 300
    with open(out, "a", buffering=1) as f:
        f.write("%.3f LISTENING %d\n" % (time.time(), s.getsockname()[1]))
        while time.monotonic() < deadline:
            now = time.monotonic()
            for item in [x for x in later if x[0] <= now]:
                later.remove(item)
                s.sendto(item[1], item[2])
                f.write("%.3f %s\n" % (time.time(), item[3]))
            try:
                pkt, peer = s.recvfrom(4096)
            except socket.timeout:
                continue
            q = parse_question(pkt)
            if q is None:
                continue
            qid, qflags, qname, qtype, question = q
            key = qname.lower().rstrip(".")
            tname = TYPES.get(qtype, str(qtype))
            if key in hang or (key in hang6 and qtype == 28):
                f.write("%.3f QUERY %s %s drop\n" % (time.time(), qname, tname))
                continue
            answers, auth = [], []
            delay = 0.0
            if key in v6:
                rcode = 0
                if qtype == 28:
                    answers.append(struct.pack("!HHHIH", 0xC00C, 28, 1, 5, 16) + v6[key])
                    action = "answer"
                else:
                    auth.append(soa_record())
                    action = "nodata"
            elif key in addrs:
                rcode = 0
                if qtype == 1:
                    # the name: a pointer to the question (offset 12)
                    answers.append(struct.pack("!HHHIH", 0xC00C, 1, 1, 5, 4) + addrs[key])
                    action = "answer"
                    delay = slow.get(key, 0.0)
                else:
                    auth.append(soa_record())
                    action = "nodata"
            else:
                rcode = 3
                action = "nxdomain"
                if in_zone(key):
                    auth.append(soa_record())
            # QR, the query's opcode and RD, AA, RA, RCODE
            flags = 0x8000 | (qflags & 0x7900) | 0x0400 | 0x0080 | rcode
            reply = struct.pack("!HHHHHH", qid, flags, 1, len(answers), len(auth), 0)
            reply += question + b"".join(answers) + b"".join(auth)
            line = "QUERY %s %s %s" % (qname, tname, action)
            if delay > 0:
                later.append((time.monotonic() + delay, reply, peer, line + "-late"))
                f.write("%.3f %s\n" % (time.time(), line.replace(action, "held")))
                continue
            s.sendto(reply, peer)
            f.write("%.3f %s\n" % (time.time(), line))


if __name__ == "__main__":
    main()
