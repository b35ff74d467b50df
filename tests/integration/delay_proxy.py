#!/usr/bin/env python3
"""delay_proxy.py OUT LISTEN_PORT TARGET_PORT DELAY CTL: a TCP proxy on
127.0.0.1 that holds every chunk the server sends for DELAY seconds (a slow
but answering backend, e.g. PgBouncer queueing clients under load).

Writes "LISTENING PORT" to OUT once bound. While the file CTL exists, the
next new connection is reset at once (a transient error) and CTL is
removed. Runs until SIGTERM or 600 s.
"""
import asyncio
import os
import signal
import socket
import struct
import sys


async def pump(reader, writer, delay):
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
            writer.close()
        except OSError:
            pass


async def main():
    out, lport, tport, delay, ctl = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]

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
        await asyncio.gather(pump(cr, sw, 0), pump(sr, cw, delay))

    server = await asyncio.start_server(handle, "127.0.0.1", lport)
    with open(out, "a", buffering=1) as f:
        f.write("LISTENING %d\n" % lport)
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
