"""Writes the seed corpora under fuzz/corpus/: RFC 6455 §5.7 frames, RFC 7692 §7.2.3 frames,
browser-shaped handshake requests, an nginx-style 101 response, extension headers.
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
print("corpus written under", os.path.join(here, "corpus"))
