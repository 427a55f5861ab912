#!/usr/bin/python3
"""Writes the 16-bit PNG fixtures in tests/fixtures/ with known sample values (a minimal PNG
writer on zlib, so the bytes do not depend on an imaging library's version).

    /usr/bin/python3 tests/reference/image_fixtures.py
"""
import os
import struct
import zlib

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> samples per pixel


def png16(name, rows, color_type):
    """rows: one list of 16-bit samples per row, interleaved."""
    width = len(rows[0]) // CHANNELS[color_type]
    raw = b"".join(b"\x00" + struct.pack(">%dH" % len(r), *r) for r in rows)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, len(rows), 16, color_type, 0, 0, 0)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


png16("gray16_4x3.png", [[0, 1, 256, 65535], [1000, 30000, 40000, 50000], [12345, 54321, 7, 65534]], 0)
png16("rgb16_2x2.png", [[0, 100, 65535, 65535, 200, 0], [32768, 300, 12, 1, 400, 60000]], 2)
png16("gray_alpha16_2x1.png", [[1000, 65535, 60000, 0]], 4)
