"""Decompresses permessage-deflate messages with zlib, enforcing the window strictly.

zlib checks distances against its window only for references that reach behind the output
of the current call, so output is taken one byte per call: then every reference longer than
one byte is checked against the 2^WBITS-byte window ("invalid distance too far back").

stdin: first line WBITS, then one message per line as COMPRESSED_HEX:EXPECTED_HEX, all from
one connection (context takeover: one decompressor for all). Exit 0 if every message
inflates to its expected bytes; otherwise print why and exit 1.
"""
import sys
import zlib

lines = sys.stdin.read().split("\n")
wbits = int(lines[0])
d = zlib.decompressobj(-wbits)
for n, line in enumerate(l for l in lines[1:] if l):
    comp, expected = line.split(":")
    data = bytes.fromhex(comp) + b"\x00\x00\xff\xff"
    got = bytearray()
    try:
        # Input in small slices, so that the unconsumed tail zlib hands back (a copy) stays
        # short; the window check depends only on the output being taken one byte at a time.
        for start in range(0, len(data), 64):
            piece = data[start:start + 64]
            while True:
                chunk = d.decompress(piece, 1)
                got += chunk
                piece = d.unconsumed_tail
                if not chunk and not piece:
                    break
    except zlib.error as e:
        print("message %d: %s" % (n, e))
        sys.exit(1)
    if got != bytes.fromhex(expected):
        print("message %d: wrong content (%d bytes, expected %d)" % (n, len(got), len(expected) // 2))
        sys.exit(1)
print("ok")
