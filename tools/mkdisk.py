#!/usr/bin/env python3
"""Description: make the hartos test disk: a raw image whose every block says what it is.

Block layout (block size B, 1024 by default = drivers/virtio_blk.h VIRTIO_BLK_BSIZE):
    bytes 0..7    the block number, little-endian
    bytes 8..11   CRC-32 (zlib's, as Ethernet and PNG) of bytes 12..B-1, little-endian
    bytes 12..B-1 pseudo-random bytes, a function of (block number, pattern id)

A fresh image holds pattern 0 everywhere. A test that writes a block writes the same
layout with another pattern id (the kernel computes it in tests/test_virtio.c) and
prints `DISKWRITE dev=0 block=<n> pattern=<id>` on the console, so that
tools/checkdisk.py can tell after the run what every block must hold.

The pseudo-random bytes are splitmix64 words, little-endian, cut at the block's end:
    state = block ^ (pattern << 40)
    next: state += 0x9E3779B97F4A7C15; z = state
          z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9; z = (z ^ z >> 27) * 0x94D049BB133111EB
          return z ^ z >> 31            (all arithmetic mod 2^64)

Usage: mkdisk.py -o disk.img [--size 4M] [--block-size 1024]
Only the standard library; any python3 >= 3.6.
"""

import argparse
import os
import struct
import sys
import zlib

MASK = (1 << 64) - 1
DEFAULT_BLOCK_SIZE = 1024


def pattern_bytes(block: int, pattern: int, n: int) -> bytes:
    """The n pseudo-random bytes that follow the header of `block` in `pattern`."""
    state = (block ^ (pattern << 40)) & MASK
    words = []
    for _ in range((n + 7) // 8):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        words.append(z ^ (z >> 31))
    return struct.pack("<%dQ" % len(words), *words)[:n]


def block_content(block: int, pattern: int, block_size: int = DEFAULT_BLOCK_SIZE) -> bytes:
    """The whole block: header (number, CRC) and body."""
    body = pattern_bytes(block, pattern, block_size - 12)
    return struct.pack("<QI", block, zlib.crc32(body) & 0xFFFFFFFF) + body


def parse_size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().rstrip("B").rstrip("I")
    suffix = t[-1] if t and t[-1] in units else ""
    number = t[:-1] if suffix else t
    if not number.isdigit():
        raise ValueError("cannot read size %r (use e.g. 4M, 512K or 1048576)" % text)
    return int(number) * units[suffix]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Make the hartos test disk image.")
    ap.add_argument("-o", "--output", required=True, help="image file to write")
    ap.add_argument("--size", default="4M", help="image size (default 4M)")
    ap.add_argument("--block-size", type=int, default=DEFAULT_BLOCK_SIZE,
                    help="bytes per block (default %d)" % DEFAULT_BLOCK_SIZE)
    args = ap.parse_args(argv)
    try:
        size = parse_size(args.size)
    except ValueError as e:
        ap.error(str(e))
    bs = args.block_size
    if bs < 512 or bs % 512 or size == 0 or size % bs:
        ap.error("the size must be a non-zero multiple of the block size, and the block "
                 "size a multiple of 512 (got size %d, block size %d)" % (size, bs))
    tmp = args.output + ".tmp"
    with open(tmp, "wb") as f:
        for block in range(size // bs):
            f.write(block_content(block, 0, bs))
    os.replace(tmp, args.output)  # never leave a half-written image under the real name
    return 0


if __name__ == "__main__":
    sys.exit(main())
