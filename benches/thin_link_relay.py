#!/usr/bin/env python3
"""A TCP relay that behaves like a thin link: a one-way delay and a rate limit per direction.

    thin_link_relay.py LISTEN_PORT TARGET [DELAY_MS] [RATE_BYTES_PER_S]

Listens on 127.0.0.1:LISTEN_PORT and forwards every connection to 127.0.0.1:TARGET (a port), or
to the unix socket TARGET when it is a path (then with no delay and no rate: the bench lets the
unprivileged SSH user reach the Docker socket this way, without changing its permissions). Each
chunk read from one side is delivered to the other no earlier than DELAY_MS after it arrived and
no faster than RATE bytes per second (a serialising link: chunks queue behind each other, like a
256 kbit/s line with its buffer). Used by benches/thin_link.sh in place of `tc netem`, which this
machine's kernel lacks (CONFIG_NET_SCH_NETEM is not set). Only loopback addresses are used.
"""

import asyncio
import sys
import time


async def pump(reader, writer, delay, rate):
    queue = asyncio.Queue()

    async def read_side():
        while True:
            data = await reader.read(4096)
            queue.put_nowait((time.monotonic(), data))
            if not data:
                return

    async def write_side():
        link_free = 0.0  # when the link has sent everything queued so far
        while True:
            arrived, data = await queue.get()
            if not data:
                try:
                    writer.write_eof()
                except OSError:
                    pass
                return
            start = max(arrived, link_free)
            link_free = start + len(data) / rate
            wait = max(link_free, arrived + delay) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    await asyncio.gather(read_side(), write_side(), return_exceptions=True)
    writer.close()


async def main():
    listen, target = int(sys.argv[1]), sys.argv[2]
    delay = (float(sys.argv[3]) if len(sys.argv) > 3 else 50.0) / 1000.0
    rate = float(sys.argv[4]) if len(sys.argv) > 4 else 32000.0
    if target.startswith("/"):
        delay, rate = 0.0, 1e12

    async def on_client(c_reader, c_writer):
        try:
            if target.startswith("/"):
                s_reader, s_writer = await asyncio.open_unix_connection(target)
            else:
                s_reader, s_writer = await asyncio.open_connection("127.0.0.1", int(target))
            await asyncio.gather(
                pump(c_reader, s_writer, delay, rate),
                pump(s_reader, c_writer, delay, rate),
                return_exceptions=True,
            )
        except OSError:
            c_writer.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
