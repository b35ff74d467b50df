#!/usr/bin/env python3
"""delay_proxy.py OUT LISTEN_PORT TARGET_PORT DELAY CTL [HOLD]: a TCP proxy
on 127.0.0.1 that holds every chunk the server sends for DELAY seconds (a
slow but answering backend, e.g. PgBouncer queueing clients under load).

Writes "LISTENING PORT" to OUT once bound. While the file CTL exists, the
next new connection is reset at once (a transient error) and CTL is
removed. With HOLD, a connection whose client has sent HOLD (e.g. a libpq
application_name in its startup packet) is cut from the server and never
answered again: a login that hangs (writes "HELD" to OUT), until the client
closes it ("CLOSED"). Runs until SIGTERM or 600 s.
"""
import asyncio
import os
import signal
import socket
import struct
import sys


async def pump(reader, writer, delay, state=None):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            if state is None or not state["held"]:
                writer.close()
        except OSError:
            pass


async def pump_client(cr, cw, sw, hold, log, state):
    """The client's side: forwarded until it has sent hold, then only read."""
    seen = b""
    held = False
    try:
        while True:
            data = await cr.read(65536)
            if not data:
                break
            if held:
                continue
            seen = (seen + data)[-4096:]
            if hold and hold in seen:
                held = True
                state["held"] = True  # the client stays open, unanswered
                log("HELD")
                sw.close()  # the server never hears the rest, nor answers
                continue
            sw.write(data)
            await sw.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        if held:
            log("CLOSED")
            cw.close()
        try:
            sw.close()
        except OSError:
            pass


async def main():
    out, lport, tport, delay, ctl = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    hold = sys.argv[6].encode() if len(sys.argv) > 6 else b""
    outf = open(out, "a", buffering=1)

    def log(line):
        outf.write(line + "\n")

    async def handle(cr, cw):
        if os.path.exists(ctl):
            os.unlink(ctl)
            sock = cw.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            cw.close()
            return
        try:
            sr, sw = await asyncio.open_connection("127.0.0.1", tport)
        except OSError:
            cw.close()
            return
        state = {"held": False}
        await asyncio.gather(pump_client(cr, cw, sw, hold, log, state), pump(sr, cw, delay, state))

    server = await asyncio.start_server(handle, "127.0.0.1", lport)
    log("LISTENING %d" % lport)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    try:
        await asyncio.wait_for(stop, 600)
    except asyncio.TimeoutError:
        pass
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
