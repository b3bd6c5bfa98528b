"""A test peer built on Python's `websockets` (its own permessage-deflate on zlib).

  websockets_peer.py server PORT PARAMS      echo server on 127.0.0.1:PORT; prints READY, then
                                            EXT and its Sec-WebSocket-Extensions answer for
                                            each connection
  websockets_peer.py client URL PARAMS N SEED sends N random messages, checks the echoes

PARAMS is JSON: null for no compression, or an object with any of server_no_context_takeover,
client_no_context_takeover, server_max_window_bits, client_max_window_bits (an int, or true
for the bare client parameter). The client prints the negotiated Sec-WebSocket-Extensions
header and exits 0 only if every echo matched.
"""
import json
import random
import sys

from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.sync.client import connect
from websockets.sync.server import serve


def factories(params, side):
    if params is None:
        return None
    cls = ServerPerMessageDeflateFactory if side == "server" else ClientPerMessageDeflateFactory
    return [cls(**params)]


def run_server(port, params):
    def echo(ws):
        print("EXT", ws.response.headers.get("Sec-WebSocket-Extensions", ""), flush=True)
        for message in ws:
            ws.send(message)

    with serve(echo, "127.0.0.1", port, compression=None, extensions=factories(params, "server"),
               max_size=None, ping_interval=None) as server:
        print("READY", flush=True)
        server.serve_forever()


def messages(n, seed):
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "δέλτα", "€", "𝄞", "{\"id\":", "\"name\":", "true,", "null"]
    for i in range(n):
        size = rng.choice([0, 1, 10, 100, 1000, 20000, 70000, 300000])
        if i % 2 == 0:
            yield " ".join(rng.choice(words) for _ in range(size // 5 + 1))[:size] if size else ""
        elif i % 3 == 0:
            yield bytes(rng.getrandbits(8) for _ in range(min(size, 5000)))
        else:
            yield (b"0123456789abcdef" * (size // 16 + 1))[:size]


def run_client(url, params, n, seed):
    with connect(url, compression=None, extensions=factories(params, "client"), max_size=None,
                 ping_interval=None) as ws:
        header = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        for m in messages(n, seed):
            ws.send(m)
            back = ws.recv()
            if back != m:
                print("MISMATCH", type(m).__name__, len(m), len(back), file=sys.stderr)
                sys.exit(1)
        print("OK", n, header, flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    params = json.loads(sys.argv[3])
    if mode == "server":
        run_server(int(sys.argv[2]), params)
    else:
        run_client(sys.argv[2], params, int(sys.argv[4]), int(sys.argv[5]))
