#!/usr/bin/env python3
"""Description: check the hartos test disk after QEMU has exited.

The kernel's disk tests (tests/test_virtio.c) announce on the console every block they
wrote, once the write succeeded:
    DISKINFO dev=0 bsize=1024 blocks=4096           (optional: geometry the kernel saw)
    DISKWRITE dev=0 block=<n> pattern=<id>
The image started as tools/mkdisk.py made it (pattern 0 in every block). This tool
reads the console log and the image and checks, block by block:
  - a block the log says was written holds exactly block_content(n, id) (the last
    DISKWRITE for a block wins);
  - every other block still holds pattern 0: nothing else changed, nothing was lost.
Lines for other disks (dev != 0) are ignored: the image is disk 0.

Usage: checkdisk.py --image run.disk.img --log run.log [--block-size N] [--expect-writes]
Exit status: 0 all blocks as expected, 1 a difference (the first ones are listed),
2 bad command line or unreadable files.
"""

import argparse
import os
import re
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkdisk  # noqa: E402  (the one definition of the block contents)

MAX_REPORTED = 20
_WRITE_RE = re.compile(r"DISKWRITE(?:\s+dev=(\d+))?\s+block=(\d+)\s+pattern=(\d+)\s*$")
_INFO_RE = re.compile(r"DISKINFO(?:\s+dev=(\d+))?\s+bsize=(\d+)\s+blocks=(\d+)\s*$")


def read_log(path):
    """(writes {block: pattern}, bsize or None, blocks or None) from the console log."""
    writes, bsize, blocks = {}, None, None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.replace("\r", "").rstrip("\n")
            m = _WRITE_RE.search(line)
            if m and int(m.group(1) or 0) == 0:
                writes[int(m.group(2))] = int(m.group(3))
                continue
            m = _INFO_RE.search(line)
            if m and int(m.group(1) or 0) == 0:
                bsize, blocks = int(m.group(2)), int(m.group(3))
    return writes, bsize, blocks


def describe(data: bytes, block: int, bsize: int) -> str:
    """What a wrong block looks like: another block's content, a bad checksum, ..."""
    if len(data) < 12:
        return "a short block"
    number, crc = struct.unpack_from("<QI", data)
    if zlib.crc32(data[12:]) & 0xFFFFFFFF != crc:
        if data == bytes(len(data)):
            return "all zeros"
        return "a header for block %d whose checksum does not match the contents" % number
    if number != block:
        return "a valid copy of block %d (a misdirected write?)" % number
    for pattern in range(0, 64):
        if data == mkdisk.block_content(block, pattern, bsize):
            return "pattern %d" % pattern
    return "a valid header and checksum, but an unknown pattern"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Verify a hartos test disk after a run.")
    ap.add_argument("--image", required=True, help="the run's copy of the disk image")
    ap.add_argument("--log", required=True, help="the run's console log")
    ap.add_argument("--block-size", type=int, default=None,
                    help="bytes per block (default: the log's DISKINFO line, else %d)"
                    % mkdisk.DEFAULT_BLOCK_SIZE)
    ap.add_argument("--expect-writes", action="store_true",
                    help="fail if the log declares no written block (the tests did not run)")
    args = ap.parse_args(argv)

    try:
        writes, log_bsize, log_blocks = read_log(args.log)
        with open(args.image, "rb") as f:
            image = f.read()
    except OSError as e:
        print("checkdisk: %s" % e)
        return 2
    bsize = args.block_size or log_bsize or mkdisk.DEFAULT_BLOCK_SIZE
    if log_bsize and log_bsize != bsize:
        print("checkdisk: FAIL: the kernel used %d-byte blocks, --block-size says %d"
              % (log_bsize, bsize))
        return 1
    if len(image) % bsize:
        print("checkdisk: FAIL: image size %d is not a multiple of the block size %d"
              % (len(image), bsize))
        return 1
    nblocks = len(image) // bsize
    problems = []
    if log_blocks is not None and log_blocks != nblocks:
        problems.append("the kernel saw %d blocks, the image has %d" % (log_blocks, nblocks))
    for block in sorted(b for b in writes if b >= nblocks):
        problems.append("block %d: the log says it was written, but the image has only "
                        "%d blocks" % (block, nblocks))
    if args.expect_writes and not writes:
        problems.append("the log declares no written block (DISKWRITE lines): did the "
                        "disk tests run?")

    bad = 0
    for block in range(nblocks):
        pattern = writes.get(block, 0)
        data = image[block * bsize:(block + 1) * bsize]
        if data == mkdisk.block_content(block, pattern, bsize):
            continue
        bad += 1
        if bad <= MAX_REPORTED:
            want = ("pattern %d (written by the test)" % pattern if block in writes
                    else "pattern 0 (never written)")
            problems.append("block %d: expected %s, found %s"
                            % (block, want, describe(data, block, bsize)))
    if bad > MAX_REPORTED:
        problems.append("... %d more wrong blocks" % (bad - MAX_REPORTED))

    if problems:
        print("checkdisk: FAIL: %s (%d blocks of %d bytes, %d written by the tests, "
              "%d wrong)" % (args.image, nblocks, bsize, len(writes), bad))
        for p in problems:
            print("  %s" % p)
        return 1
    print("checkdisk: ok: %d blocks of %d bytes; %d written by the tests hold what was "
          "written, the other %d their original pattern"
          % (nblocks, bsize, len(writes), nblocks - len(writes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
