"""Writes the seed corpora under fuzz/corpus/: RFC 6455 §5.7 frames, RFC 7692 §7.2.3 frames,
browser-shaped handshake requests, an nginx-style 101 response, extension headers, and the
differential target's frames and compressed messages (some compressed by Python's zlib).
Run from anywhere: python3 fuzz/make_corpus.py"""
import os

here = os.path.dirname(os.path.abspath(__file__))

def put(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

masked_hello = bytes([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
frames = {
    "unmasked_hello": bytes([0x81, 0x05]) + b"Hello",
    "masked_hello": masked_hello,
    "fragmented": bytes([0x01, 0x03]) + b"Hel" + bytes([0x80, 0x02]) + b"lo",
    "ping_pong": bytes([0x89, 0x05]) + b"Hello" + bytes([0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]),
    "binary_256": bytes([0x82, 0x7e, 0x01, 0x00]) + bytes(256),
    "close_1000": bytes([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xe8 ^ 2]),
    "invalid_utf8": bytes([0x81, 0x84, 0, 0, 0, 0, 0xce, 0xba, 0xed, 0xa0]),
    "len64": bytes([0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0]) + b"abcd",
}
# The fuzz input for frame_decoder is (flags, cuts, bytes) through `arbitrary`; raw frames
# still make good seeds since libFuzzer mutates from them.
for name, data in frames.items():
    put("frame_decoder", name, b"\x00\x00" + data)
    put("connection_ops", name, b"\x01" + data)

chromium = ("GET /chat HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nPragma: no-cache\r\n"
            "Cache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36\r\n"
            "Upgrade: websocket\r\nOrigin: https://example.com\r\nSec-WebSocket-Version: 13\r\n"
            "Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")
firefox = ("GET /chat HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 Firefox/121.0\r\n"
           "Accept: */*\r\nSec-WebSocket-Version: 13\r\nOrigin: https://example.com\r\n"
           "Sec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n")
put("handshake_request", "chromium", b"\x07" + chromium.encode() + masked_hello)
put("handshake_request", "firefox", b"\x03" + firefox.encode())
put("handshake_request", "plain_get", b"\x01GET / HTTP/1.1\r\nHost: x\r\n\r\n")
nginx = ("HTTP/1.1 101 Switching Protocols\r\nServer: nginx/1.24.0\r\nDate: Tue, 24 Nov 2026 10:00:00 GMT\r\n"
         "Connection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
         "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12\r\n\r\n")
put("handshake_response", "nginx_101", b"\x05" + nginx.encode() + bytes([0x81, 0x02]) + b"hi")
put("handshake_response", "redirect", b"\x02HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n")
for i, h in enumerate([
    "permessage-deflate; client_max_window_bits",
    "permessage-deflate; server_max_window_bits=10; client_no_context_takeover, permessage-deflate",
    'x-foo; a="quoted value", permessage-deflate; server_no_context_takeover',
    "permessage-deflate; client_max_window_bits=8; server_max_window_bits=15",
]):
    put("extension_header", "header%d" % i, bytes(16) + h.encode())
for name, data in {
    "hello": bytes([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
    "stored": bytes([0x00, 0x05, 0x00, 0xfa, 0xff]) + b"Hello" + b"\x00",
    "hello_twice": bytes([0xf2, 0x00, 0x11, 0x00, 0x00]),
}.items():
    put("inflate", name, b"\x00\x01\x01" + data)
put("round_trip", "empty", b"")
put("round_trip", "some", bytes(range(64)))

# differential: byte 0 flags (1 deflate mode, 2 small limits, 4 stream mode, 8
# client_no_context_takeover), frame limit - 125 and message limit (u16 LE each, used with
# flag 2), four chunk sizes - 1, then client frames (frames mode) or message records
# (deflate mode: tag, u16 LE length, data; tag bits 0-1: 0 compressed, 1 plain, 2 ping;
# bit 2 text, bit 3 fin).
import struct
import zlib

def masked(b0, payload, key=(0x37, 0xfa, 0x21, 0x3d)):
    n = len(payload)
    if n < 126:
        head = bytes([b0, 0x80 | n])
    elif n < 65536:
        head = bytes([b0, 0x80 | 126]) + struct.pack(">H", n)
    else:
        head = bytes([b0, 0x80 | 127]) + struct.pack(">Q", n)
    return head + bytes(key) + bytes(b ^ key[i % 4] for i, b in enumerate(payload))

def diff_setup(flags, frame_limit=0, message_limit=0, cuts=(255, 255, 255, 255)):
    return bytes([flags]) + struct.pack("<HH", frame_limit, message_limit) + bytes(cuts)

diff_frames = {
    "hello": masked(0x81, b"Hello"),
    "fragmented_ping_between": masked(0x01, b"Hel") + masked(0x89, b"ping") + masked(0x80, b"lo"),
    "binary_256": masked(0x82, bytes(range(256))),
    "binary_len64": masked(0x82, b"x" * 65536)[:14] + b"abcd",
    "pong_close": masked(0x8a, b"pong") + masked(0x88, struct.pack(">H", 1000) + b"bye"),
    "close_empty": masked(0x88, b""),
    "close_bad_code": masked(0x88, struct.pack(">H", 1005)),
    "close_1014": masked(0x88, struct.pack(">H", 1014) + b"gateway"),
    "text_invalid_utf8": masked(0x81, bytes([0xce, 0xba, 0xed, 0xa0, 0x80])),
    "text_utf8_split": masked(0x01, "κόσ".encode()[:3]) + masked(0x80, "κόσ".encode()[3:]),
    "unmasked": bytes([0x81, 0x05]) + b"Hello",
    "reserved_opcode": masked(0x83, b""),
    "rsv1": masked(0xc1, b"Hello"),
    "continuation_first": masked(0x80, b"x"),
    "ping_fragmented": masked(0x09, b"x"),
}
for name, wire in diff_frames.items():
    put("differential", "frames_" + name, diff_setup(0) + wire)
put("differential", "frames_bytewise", diff_setup(4, cuts=(0, 1, 2, 3)) + diff_frames["fragmented_ping_between"])
put("differential", "frames_limits", diff_setup(2, frame_limit=3, message_limit=200) + masked(0x02, b"a" * 100) + masked(0x80, b"b" * 120))

def record(kind, text, fin, data):
    return bytes([kind | (4 if text else 0) | (8 if fin else 0)]) + struct.pack("<H", len(data)) + data

def sync_compress(messages):
    """Raw DEFLATE with context takeover, each message sync-flushed and its tail removed
    (RFC 7692 §7.2.1), as a real zlib sender writes them."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = []
    for m in messages:
        data = c.compress(m) + c.flush(zlib.Z_SYNC_FLUSH)
        assert data.endswith(b"\x00\x00\xff\xff")
        out.append(data[:-4])
    return out

hello = bytes([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
diff_deflate = {
    # RFC 7692 §7.2.3.1-7.2.3.6.
    "hello": record(0, True, True, hello),
    "hello_fragmented": record(0, True, False, hello[:3]) + record(0, True, True, hello[3:]),
    "hello_twice": record(0, True, True, hello) + record(0, True, True, bytes([0xf2, 0x00, 0x11, 0x00, 0x00])),
    "stored": record(0, True, True, bytes([0x00, 0x05, 0x00, 0xfa, 0xff]) + b"Hello" + b"\x00"),
    "bfinal": record(0, True, True, bytes([0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00])),
    "two_blocks": record(0, True, True, bytes([0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00])),
    "empty_fragment": record(0, False, True, b"\x00"),
    # Plain and compressed messages mixed, a ping between fragments.
    "mixed": record(1, True, True, b"plain") + record(0, False, False, hello[:2]) + record(2, False, True, b"ping")
             + record(0, False, True, hello[2:]),
}
chat = [b"The quick brown fox jumps over the lazy dog. " * 3, b"The lazy dog sleeps. The quick brown fox jumps again.",
        "κόσμε κόσμε κόσμε".encode()]
diff_deflate["context_takeover"] = b"".join(record(0, True, True, m) for m in sync_compress(chat))
for name, records in diff_deflate.items():
    put("differential", "deflate_" + name, diff_setup(1) + records)
put("differential", "deflate_no_context_takeover", diff_setup(1 | 8) + diff_deflate["hello_twice"])
put("differential", "deflate_stream_bytewise", diff_setup(1 | 4, cuts=(0, 2, 1, 6)) + diff_deflate["context_takeover"])
put("differential", "deflate_limit", diff_setup(1 | 2, frame_limit=100, message_limit=64) + diff_deflate["context_takeover"])
print("corpus written under", os.path.join(here, "corpus"))
