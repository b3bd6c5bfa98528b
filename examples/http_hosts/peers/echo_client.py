"""A Python `websockets` client (permessage-deflate on zlib) for the echo servers here.

  echo_client.py URL [--cafile CA.pem] [--protocols a,b]

Offers permessage-deflate (websockets' default) and the given subprotocols, sends text and
binary messages from empty to 1 MiB, compressible and not, and checks each echo. For wss://
the server's certificate is checked against CA.pem (the system's CAs without it) and the
host name. Prints, one per line:

  OPEN <Sec-WebSocket-Extensions answer>|<subprotocol>
  ECHOED <number of messages>
  CLOSED <close code>

and exits 0 only if every echo matched (each within 60 s). A certificate the client refuses prints
`TLSERROR <reason>` and exits 3.
"""
import argparse
import random
import ssl
import sys

from websockets.sync.client import connect


def messages():
    rng = random.Random(7)
    words = ["alpha", "beta", "γάμμα", "δέλτα", "€", "𝄞", '{"id":', '"name":', "true,", "null"]
    for size in [0, 1, 100, 5000, 70000, 300000, 1 << 20]:
        text = " ".join(rng.choice(words) for _ in range(size // 4 + 1))
        yield text[:size]
        yield rng.randbytes(min(size, 65536))
        yield (b"0123456789abcdef" * (size // 16 + 1))[:size]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--cafile")
    parser.add_argument("--protocols", default="")
    args = parser.parse_args()
    context = None
    if args.url.startswith("wss://"):
        context = ssl.create_default_context(cafile=args.cafile)
    protocols = [p for p in args.protocols.split(",") if p] or None
    try:
        ws = connect(args.url, ssl=context, subprotocols=protocols, max_size=None,
                     ping_interval=None, open_timeout=30)
    except ssl.SSLCertVerificationError as e:
        print("TLSERROR", e.verify_message, flush=True)
        sys.exit(3)
    with ws:
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        print(f"OPEN {extensions}|{ws.subprotocol or ''}", flush=True)
        n = 0
        for m in messages():
            ws.send(m)
            try:
                # A bound against a hang, not a timing check: echoes come in milliseconds.
                back = ws.recv(timeout=60)
            except TimeoutError:
                print("NO ECHO", type(m).__name__, len(m), file=sys.stderr)
                sys.exit(1)
            if back != m:
                print("MISMATCH", type(m).__name__, len(m), len(back), file=sys.stderr)
                sys.exit(1)
            n += 1
        print("ECHOED", n, flush=True)
    print("CLOSED", ws.close_code, flush=True)


if __name__ == "__main__":
    main()
