/*
 * Description: the test disk's pattern (see disk_pattern.h), shared by the virtio and
 * buffer cache suites.
 */
#include "tests/disk_pattern.h"

#include "drivers/virtio_blk.h"

static uint32_t crc_table[256];

uint32_t disk_pattern_crc32(const uint8_t *p, size_t n)
{
    if (!crc_table[1]) { /* harts racing to fill it write the same values: harmless */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = (c >> 1) ^ (0xedb88320 & -(c & 1)); /* reflected CRC-32, as zlib */
            crc_table[i] = c;
        }
    }
    uint32_t c = 0xffffffff;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return ~c;
}

void disk_pattern_fill(uint8_t *buf, uint64_t block, uint32_t pattern)
{
    uint64_t state = block ^ ((uint64_t)pattern << 40);
    for (size_t i = 12; i < VIRTIO_BLK_BSIZE; i += 8) {
        uint64_t z = (state += 0x9e3779b97f4a7c15); /* splitmix64, as mkdisk.py */
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
        z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
        z ^= z >> 31;
        for (size_t k = 0; k < 8 && i + k < VIRTIO_BLK_BSIZE; k++)
            buf[i + k] = (uint8_t)(z >> (8 * k));
    }
    uint32_t crc = disk_pattern_crc32(buf + 12, VIRTIO_BLK_BSIZE - 12);
    for (int k = 0; k < 8; k++)
        buf[k] = (uint8_t)(block >> (8 * k));
    for (int k = 0; k < 4; k++)
        buf[8 + k] = (uint8_t)(crc >> (8 * k));
}
