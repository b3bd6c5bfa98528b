"""Compresses messages as a zlib-based permessage-deflate peer does: raw deflate with a
2^WBITS-byte window, a sync flush per message with its trailing 00 00 ff ff removed
(RFC 7692 §7.2.1), one compressor for all messages (context takeover) or one per message.

stdin: first line "WBITS LEVEL MEMLEVEL TAKEOVER" (TAKEOVER 1 or 0), then one message per
line in hex. stdout: one compressed message per line, in hex.
"""
import sys
import zlib

lines = sys.stdin.read().split("\n")
wbits, level, memlevel, takeover = (int(x) for x in lines[0].split())


def compressor():
    return zlib.compressobj(level, zlib.DEFLATED, -wbits, memlevel)


messages = lines[1:]
if messages and messages[-1] == "":
    messages.pop()  # the newline that ends the input
c = compressor()
out = []
for line in messages:
    if not takeover:
        c = compressor()
    data = c.compress(bytes.fromhex(line)) + c.flush(zlib.Z_SYNC_FLUSH)
    assert data.endswith(b"\x00\x00\xff\xff")
    out.append(data[:-4].hex())
sys.stdout.write("\n".join(out) + "\n")
