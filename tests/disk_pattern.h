/*
 * Description: the test disk's known pattern, computed in the kernel exactly as
 * tools/mkdisk.py writes it and tools/checkdisk.py checks it. A block holds, in
 * VIRTIO_BLK_BSIZE bytes: its own number (bytes 0-7, little-endian), a CRC-32 of
 * bytes 12.. (bytes 8-11), and splitmix64 bytes seeded from (block, pattern) after that.
 * Pattern 0 is what a fresh image holds; tests write other patterns and announce them.
 *  - disk_pattern_fill(buf, block, pattern): the block's content
 *  - disk_pattern_crc32(p, n): the checksum (reflected CRC-32, as zlib's)
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

void disk_pattern_fill(uint8_t *buf, uint64_t block, uint32_t pattern);
uint32_t disk_pattern_crc32(const uint8_t *p, size_t n);
