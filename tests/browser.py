"""Headless Chromium for the browser tests: Debian's ``/usr/bin/chromium`` run once per
call, with a fresh profile and a time limit, and its PNG screenshots decoded with the
standard library (zlib and struct)."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
WIDTH, HEIGHT = 1280, 900
RUN_TIMEOUT = 60.0


def chromium(*args: str, profile: Path) -> str:
    """Run headless Chromium once with a fresh profile; its standard output."""
    done = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    return done.stdout


# ---------------------------------------------------------------------------------------------
# PNG, decoded with zlib and struct
# ---------------------------------------------------------------------------------------------


def decode_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """Width, height, unfiltered rows and bytes per pixel of an 8-bit RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, bpp = 8, b"", 0, 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8, "expected 8 bits per sample"
            assert colour in (2, 6), "expected RGB or RGBA"
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    at = 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1 : at + 1 + stride])
        at += 1 + stride
        if kind == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((left + previous[x]) >> 1)) & 255
        elif kind == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b, c = previous[x], previous[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        previous = line
    return width, height, rows, bpp


def assert_painted(png: bytes, *, width: int = WIDTH, height: int = HEIGHT) -> None:
    """The screenshot has the window's size and more than a handful of colours."""
    w, h, rows, bpp = decode_png(png)
    assert (w, h) == (width, height)
    colours = set()
    for row in rows[:: max(1, h // 120)]:
        colours.update(row[i : i + 3] for i in range(0, len(row), bpp * 3))
    assert len(colours) > 20, f"the page looks blank ({len(colours)} colours)"
