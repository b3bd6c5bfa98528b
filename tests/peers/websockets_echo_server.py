"""An echo server on Python's `websockets` (asyncio), with its default settings, for
scripts/idle_memory.py: the figure a Python operator gets without tuning anything.

  websockets_echo_server.py PORT     serves ws://127.0.0.1:PORT, echoes every message

Defaults are kept on purpose, permessage-deflate included (websockets answers a client's offer
with 12-bit windows both ways and zlib memLevel 5). Only `max_size` is raised, from 1 MiB to
64 MiB, so the 8 MiB messages of the probe's second mode are accepted.
"""

import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def main(port):
    async with serve(echo, "127.0.0.1", port, max_size=64 << 20) as server:
        print("READY", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
