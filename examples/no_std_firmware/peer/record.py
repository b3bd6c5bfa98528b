#!/usr/bin/env python3
"""Records the scripted peer the firmware talks to, from a real zlib-based client.

The peer is Python's `websockets` client in its sans-IO form (ClientProtocol), which
compresses with zlib: nothing in it comes from sansws. This script

1. drives that client through a session (handshake offering permessage-deflate, text and
   binary messages, one of them fragmented, a ping, a close) and writes every byte it sends to
   `client.bin`, and what it sent, message by message, to `messages.bin`;
2. runs the firmware's scenario on the host (`cargo run`), which feeds `client.bin` to a
   sansws server and captures the server's output;
3. feeds that output back to the same client, which must accept the 101 response, decode
   every echo (inflating with zlib) into exactly what it sent, see its ping answered and the
   close handshake completed; only then is the output written to `server.bin`, the bytes the
   firmware compares its own output with.

`--check` does steps 1-3 without writing anything and fails if any file would change.

Determinism: the client's key and mask keys come from a seeded generator (patched into
`secrets.token_bytes`), so a rerun with the same websockets and zlib versions writes the same
files. The server's output is deterministic (no randomness on the server side; miniz_oxide is
pinned by the example's Cargo.lock), which is why the firmware checks it byte for byte.

Run from anywhere, with the venv made by scripts/setup-test-peers.sh:
    .venv/bin/python examples/no_std_firmware/peer/record.py [--check]
"""

import base64
import hashlib
import random
import secrets
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import websockets
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import enable_client_permessage_deflate
from websockets.frames import Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

# What the client sends after the handshake, in order. Kinds as in messages.bin:
# T text, B binary, P ping, C close (2-byte code, then the reason).
TEXT_SHORT = "Hello from a zlib client"
TEXT_UTF8 = "Grüße, 世界! Ünïcödé across fragments ✓ " * 24
BINARY = bytes(range(256)) * 8
TEXT_FRAGMENTS = ["sensor=", "21.5C;" * 60, "end"]
PING = b"firmware?"
CLOSE_CODE, CLOSE_REASON = 1000, "done"


def seeded_token_bytes(seed):
    rng = random.Random(seed)
    return lambda n=32: rng.randbytes(n)


def expected_response(key):
    """The 101 response this server is configured to give: RFC 6455 §4.2.2 headers, computed
    here (SHA-1 and base64 from Python), and the plain permessage-deflate answer (the client's
    bare client_max_window_bits offer needs no value: the server takes any window)."""
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n"
        "Sec-WebSocket-Extensions: permessage-deflate\r\n"
        "\r\n"
    ).encode()


def record(k, payload):
    return k + struct.pack(">I", len(payload)) + payload


def client_session():
    """Runs the client up to its close; returns (client, bytes sent, messages.bin, 101)."""
    secrets.token_bytes = seeded_token_bytes(6455)
    client = ClientProtocol(
        parse_uri("ws://device.local/echo"),
        extensions=enable_client_permessage_deflate(None),
    )
    client.send_request(client.connect())
    response = expected_response(client.key)
    # The client checks the accept key and the extension answer itself.
    client.receive_data(response)
    events = client.events_received()
    assert client.state is State.OPEN, (client.handshake_exc, events)
    assert [e.name for e in client.extensions] == ["permessage-deflate"], client.extensions

    messages = b""
    client.send_text(TEXT_SHORT.encode())
    messages += record(b"T", TEXT_SHORT.encode())
    client.send_text(TEXT_UTF8.encode())
    messages += record(b"T", TEXT_UTF8.encode())
    client.send_binary(BINARY)
    messages += record(b"B", BINARY)
    first, *middle, last = [f.encode() for f in TEXT_FRAGMENTS]
    client.send_text(first, fin=False)
    for fragment in middle:
        client.send_continuation(fragment, fin=False)
    client.send_continuation(last, fin=True)
    messages += record(b"T", first + b"".join(middle) + last)
    client.send_ping(PING)
    messages += record(b"P", PING)
    client.send_close(CLOSE_CODE, CLOSE_REASON)
    messages += record(b"C", struct.pack(">H", CLOSE_CODE) + CLOSE_REASON.encode())

    sent = b"".join(client.data_to_send())
    assert sent.startswith(b"GET /echo HTTP/1.1\r\n"), sent[:40]
    return client, sent, messages, response


def server_output():
    """The sansws server's output for the client.bin now on disk, from the host build."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "server.bin"
        subprocess.run(
            ["cargo", "run", "--quiet", "--release", "--", "--record", str(out)],
            cwd=EXAMPLE,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return out.read_bytes()


def verify(client, output, response, messages):
    """Feeds the server's output to the client; fails unless it is a correct echo session."""
    assert output.startswith(response), "the server's 101 response differs from the expected"
    client.receive_data(output[len(response):])
    # The server closes the TCP connection after the close handshake.
    client.receive_eof()
    assert client.parser_exc is None, client.parser_exc
    events = client.events_received()

    received = []
    partial = None
    for frame in events:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            assert partial is None
            partial = [frame.opcode, frame.data]
        elif frame.opcode is Opcode.CONT:
            partial[1] += frame.data
        elif frame.opcode is Opcode.PONG:
            received.append(record(b"P", frame.data))
        elif frame.opcode is Opcode.CLOSE:
            # RFC 6455 §5.5.1: the reply echoes the status code; the reason is the server's.
            received.append(record(b"C", bytes(frame.data[:2]) + CLOSE_REASON.encode()))
        else:
            raise AssertionError(f"unexpected frame {frame}")
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT) and frame.fin:
            kind = b"T" if partial[0] is Opcode.TEXT else b"B"
            if kind == b"T":
                partial[1].decode("utf-8")
            received.append(record(kind, bytes(partial[1])))
            partial = None
    # Echoes, the pong and the close reply come back in the order they were sent.
    assert b"".join(received) == messages, "the echoes differ from what the client sent"
    assert client.state is State.CLOSED, client.state
    assert client.close_code == CLOSE_CODE, client.close_code
    return len(events)


def differing(files):
    return [name for name, data in files.items() if (HERE / name).read_bytes() != data]


def main():
    check = "--check" in sys.argv[1:]
    client, sent, messages, response = client_session()
    files = {"client.bin": sent, "messages.bin": messages}
    changed = differing(files) if check else []
    if not check:
        for name, data in files.items():
            (HERE / name).write_bytes(data)
    # The server reads the client.bin now on disk (compiled in).
    output = server_output()
    frames = verify(client, output, response, messages)
    if check:
        changed += differing({"server.bin": output})
        if changed:
            sys.exit(f"record.py --check: would change {', '.join(changed)}")
        done = "committed files unchanged"
    else:
        (HERE / "server.bin").write_bytes(output)
        done = "wrote client.bin, messages.bin, server.bin"
    print(
        f"websockets {websockets.__version__}: sent {len(sent)} bytes; the server's "
        f"{len(output)} bytes decoded into {frames} frames, every echo as sent; {done}"
    )


if __name__ == "__main__":
    main()
