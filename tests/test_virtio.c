/*
 * Description: suites `virtio` and `fault_virtio`: the virtio block driver against the
 * test disk that tools/mkdisk.py makes (layout there: every block holds its number,
 * a CRC-32 of the rest, and pseudo-random bytes of a pattern id; pattern 0 is the
 * fresh image). disk_pattern_fill() (tests/disk_pattern.c) computes the same bytes.
 *
 * Every block a test writes is announced on the console as
 *   DISKWRITE dev=0 block=<n> pattern=<id>
 * after the write succeeded; tools/checkdisk.py reads these lines after power-off and
 * checks that those blocks hold what was written and every other block its pattern 0.
 * Each test uses its own blocks (see the map below), so the suites can run in one boot.
 *
 * `virtio` needs a writable disk on virtio-mmio-bus.0 and skips every test without one;
 * readonly_disk_refuses_writes wants a read-only second disk on virtio-mmio-bus.1.
 * `fault_virtio` runs only when named: the host boots it with the disk behind QEMU's
 * blkdebug driver (tests/virtio_fault.blkdebug), which fails every read of FAULT_BLOCK.
 */
#include "drivers/virtio_blk.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/thread.h"
#include "lib/string.h"
#include "mm/pmem.h"
#include "tests/disk_pattern.h"
#include "tests/ktest.h"

#define BSIZE VIRTIO_BLK_BSIZE
/* Which blocks each test touches (the image has at least MIN_BLOCKS). */
#define MIN_BLOCKS 1024
#define READ_FIRST 0 /* read_known_blocks: 0..READ_COUNT-1 and the last block */
#define READ_COUNT 128
#define WRITE_FIRST 128 /* write_then_read_back: pattern 1 */
#define WRITE_COUNT 8
#define HART_FIRST 256    /* every_hart_writes: hart c writes HART_FIRST + c * hart_count().. */
#define HART_COUNT_MAX 32 /* ...hart_count() blocks with pattern 2 + c, below CROWD_FIRST */
#define CROWD_FIRST 512   /* more_requests_than_descriptors: thread i reads CROWD_FIRST + 16i.. */
#define CROWD_THREADS 32
#define CROWD_COUNT 16
#define FAULT_BLOCK 100 /* tests/virtio_fault.blkdebug fails reads of sector 200 = 2 * 100 */

/* Blocks per hart in every_hart_writes_distinct_blocks: 32, fewer with more than 8 harts. */
static uint64_t hart_count(void)
{
    uint64_t room = (CROWD_FIRST - HART_FIRST) / (uint64_t)ncpu;
    return room < HART_COUNT_MAX ? room : HART_COUNT_MAX;
}

static uint8_t bufs[NCPU][2][BSIZE]; /* one pair per hart: per-hart threads never share */

/* Checks a block read from the disk: its header first (names the kind of damage),
 * then every byte against `pattern`. `scratch` is BSIZE bytes. */
static void expect_block(const uint8_t *buf, uint64_t block, uint32_t pattern, uint8_t *scratch)
{
    uint64_t number = 0;
    uint32_t crc = 0;
    for (int k = 7; k >= 0; k--)
        number = number << 8 | buf[k];
    for (int k = 3; k >= 0; k--)
        crc = crc << 8 | buf[8 + k];
    KEXPECT_EQ(number, block);
    KEXPECT_EQ(crc, disk_pattern_crc32(buf + 12, BSIZE - 12));
    disk_pattern_fill(scratch, block, pattern);
    if (memcmp(buf, scratch, BSIZE) != 0)
        ktest_fail(__FILE__, __LINE__, "block %lu does not hold pattern %u", block, pattern);
}

/* Writes `block` with `pattern` and tells the host checker. */
static int write_pattern(uint64_t block, uint32_t pattern, uint8_t *buf)
{
    disk_pattern_fill(buf, block, pattern);
    int err = virtio_blk_write(0, block, buf);
    if (err == 0)
        kprintf("DISKWRITE dev=0 block=%lu pattern=%u\n", block, pattern);
    return err;
}

static int have_disk(void)
{
    if (virtio_blk_count() == 0) {
        ktest_skip("no virtio block device");
        return 0;
    }
    return 1;
}

KTEST(virtio, disk_attached)
{
    if (!have_disk())
        return;
    kprintf("DISKINFO dev=0 bsize=%d blocks=%lu\n", BSIZE, virtio_blk_capacity(0));
    KEXPECT_GE(virtio_blk_capacity(0), MIN_BLOCKS);
    KEXPECT_FALSE(virtio_blk_readonly(0));
    KEXPECT_TRUE(virtio_blk_version(0) == 1 || virtio_blk_version(0) == 2);
    KEXPECT_EQ(virtio_blk_capacity(virtio_blk_count()), 0); /* no such disk */
    KEXPECT_EQ(virtio_blk_read(virtio_blk_count(), 0, bufs[0][0]), VIRTIO_BLK_ENODEV);
}

KTEST(virtio, read_known_blocks)
{
    if (!have_disk())
        return;
    for (uint64_t b = READ_FIRST; b < READ_FIRST + READ_COUNT && !ktest_failed(); b++) {
        KASSERT_EQ(virtio_blk_read(0, b, bufs[0][0]), 0);
        expect_block(bufs[0][0], b, 0, bufs[0][1]);
    }
    uint64_t last = virtio_blk_capacity(0) - 1;
    KASSERT_EQ(virtio_blk_read(0, last, bufs[0][0]), 0);
    expect_block(bufs[0][0], last, 0, bufs[0][1]);
}

KTEST(virtio, write_then_read_back)
{
    if (!have_disk())
        return;
    for (uint64_t b = WRITE_FIRST; b < WRITE_FIRST + WRITE_COUNT; b++)
        KASSERT_EQ(write_pattern(b, 1, bufs[0][0]), 0);
    KEXPECT_EQ(virtio_blk_flush(0), 0);
    for (uint64_t b = WRITE_FIRST; b < WRITE_FIRST + WRITE_COUNT; b++) {
        memset(bufs[0][0], 0, BSIZE);
        KASSERT_EQ(virtio_blk_read(0, b, bufs[0][0]), 0);
        expect_block(bufs[0][0], b, 1, bufs[0][1]);
    }
    /* The neighbours are untouched. */
    KASSERT_EQ(virtio_blk_read(0, WRITE_FIRST - 1, bufs[0][0]), 0);
    expect_block(bufs[0][0], WRITE_FIRST - 1, 0, bufs[0][1]);
    KASSERT_EQ(virtio_blk_read(0, WRITE_FIRST + WRITE_COUNT, bufs[0][0]), 0);
    expect_block(bufs[0][0], WRITE_FIRST + WRITE_COUNT, 0, bufs[0][1]);
}

/* One per hart, all at once: write this hart's blocks, then read them all back. */
static void hart_writer(void *arg)
{
    (void)arg;
    int c = cpuid(); /* the thread is pinned: the id stays valid */
    uint64_t first = HART_FIRST + (uint64_t)c * hart_count();
    for (uint64_t b = first; b < first + hart_count(); b++)
        KASSERT_EQ(write_pattern(b, 2 + c, bufs[c][0]), 0);
    for (uint64_t b = first; b < first + hart_count(); b++) {
        KASSERT_EQ(virtio_blk_read(0, b, bufs[c][0]), 0);
        expect_block(bufs[c][0], b, 2 + c, bufs[c][1]);
    }
}

KTEST(virtio, every_hart_writes_distinct_blocks)
{
    if (!have_disk())
        return;
    KASSERT_LE(HART_FIRST + ncpu * hart_count(), CROWD_FIRST);
    ktest_on_each_hart(hart_writer, 0);
    KEXPECT_EQ(virtio_blk_flush(0), 0);
    /* Seen from one hart, every other hart's blocks are there too. */
    for (int c = 0; c < ncpu; c++) {
        uint64_t b = HART_FIRST + (uint64_t)c * hart_count() + hart_count() - 1;
        KASSERT_EQ(virtio_blk_read(0, b, bufs[0][0]), 0);
        expect_block(bufs[0][0], b, 2 + c, bufs[0][1]);
    }
}

struct crowd_member {
    int index;
    uint8_t *page; /* two BSIZE buffers */
};

static void crowd_reader(void *arg)
{
    struct crowd_member *m = arg;
    uint64_t first = CROWD_FIRST + (uint64_t)m->index * CROWD_COUNT;
    for (uint64_t b = first; b < first + CROWD_COUNT; b++) {
        KASSERT_EQ(virtio_blk_read(0, b, m->page), 0);
        expect_block(m->page, b, 0, m->page + BSIZE);
    }
}

/* More readers than the queue has room for (21 requests): some must wait for
 * descriptors, and every one still gets its own data. */
KTEST(virtio, more_requests_than_descriptors)
{
    if (!have_disk())
        return;
    _Static_assert(2 * BSIZE <= PAGE_SIZE, "a reader's two buffers share a page");
    static struct crowd_member crowd[CROWD_THREADS];
    struct thread *threads[CROWD_THREADS] = {0};
    struct virtio_blk_stats st;
    virtio_blk_stats(0, &st, 1);
    for (int i = 0; i < CROWD_THREADS; i++) {
        crowd[i] = (struct crowd_member){i, pmem_alloc()};
        if (crowd[i].page)
            threads[i] = thread_create("vblk.crowd", crowd_reader, &crowd[i], THREAD_ANY_CPU);
        KEXPECT_NE(threads[i], 0);
    }
    for (int i = 0; i < CROWD_THREADS; i++) {
        if (threads[i])
            thread_join(threads[i]);
        if (crowd[i].page)
            pmem_free(crowd[i].page);
    }
    KEXPECT_EQ(virtio_blk_stats(0, &st, 0), 0);
    KEXPECT_EQ(st.errors, 0);
    KEXPECT_LE(st.max_in_flight, 21); /* 64 descriptors, 3 per request */
    kprintf("    # %lu requests, at most %d in flight, %lu waited for descriptors\n", st.requests,
            st.max_in_flight, st.desc_waits);
}

KTEST(virtio, block_beyond_capacity_fails)
{
    if (!have_disk())
        return;
    uint64_t cap = virtio_blk_capacity(0);
    KEXPECT_EQ(virtio_blk_read(0, cap, bufs[0][0]), VIRTIO_BLK_ERANGE);
    KEXPECT_EQ(virtio_blk_read(0, UINT64_MAX, bufs[0][0]), VIRTIO_BLK_ERANGE);
    disk_pattern_fill(bufs[0][0], cap, 9);
    KEXPECT_EQ(virtio_blk_write(0, cap + 1, bufs[0][0]), VIRTIO_BLK_ERANGE);
    /* ...and the driver goes on working. */
    KASSERT_EQ(virtio_blk_read(0, 1, bufs[0][0]), 0);
    expect_block(bufs[0][0], 1, 0, bufs[0][1]);
}

KTEST(virtio, unsupported_request_fails)
{
    if (!have_disk())
        return;
    /* 100 is no request type of the virtio spec: the device answers UNSUPP. */
    KEXPECT_EQ(virtio_blk_request(0, 100, 2, bufs[0][0]), VIRTIO_BLK_EUNSUPP);
    KASSERT_EQ(virtio_blk_read(0, 2, bufs[0][0]), 0);
    expect_block(bufs[0][0], 2, 0, bufs[0][1]);
}

/* The registrations attach a second disk, the pristine image with readonly=on, on
 * virtio-mmio-bus.1: the device offers VIRTIO_BLK_F_RO. */
KTEST(virtio, readonly_disk_refuses_writes)
{
    if (virtio_blk_count() < 2) {
        ktest_skip("no second (read-only) disk");
        return;
    }
    KASSERT_TRUE(virtio_blk_readonly(1));
    disk_pattern_fill(bufs[0][0], 3, 7);
    KEXPECT_EQ(virtio_blk_write(1, 3, bufs[0][0]), VIRTIO_BLK_EROFS);
    KASSERT_EQ(virtio_blk_read(1, 3, bufs[0][0]), 0);
    expect_block(bufs[0][0], 3, 0, bufs[0][1]);
    /* Both disks work side by side; each has its own interrupt. */
    KASSERT_EQ(virtio_blk_read(0, 3, bufs[0][0]), 0);
    expect_block(bufs[0][0], 3, 0, bufs[0][1]);
}

KTEST(virtio, strerror_names_every_error)
{
    KEXPECT_STREQ(virtio_blk_strerror(0), "success");
    KEXPECT_STREQ(virtio_blk_strerror(VIRTIO_BLK_ERANGE), "block beyond the end of the disk");
    KEXPECT_STREQ(virtio_blk_strerror(12345), "unknown error");
    int errs[] = {VIRTIO_BLK_EIO, VIRTIO_BLK_ENODEV, VIRTIO_BLK_EROFS, VIRTIO_BLK_EUNSUPP};
    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
        KEXPECT_NE(strcmp(virtio_blk_strerror(errs[i]), "unknown error"), 0);
}

/* ---- fault_virtio: QEMU's blkdebug fails every read of FAULT_BLOCK with EIO ---- */

KTEST(fault_virtio, injected_error_reaches_the_caller)
{
    if (!have_disk())
        return;
    KEXPECT_EQ(virtio_blk_read(0, FAULT_BLOCK, bufs[0][0]), VIRTIO_BLK_EIO);
    KEXPECT_EQ(virtio_blk_read(0, FAULT_BLOCK, bufs[0][0]), VIRTIO_BLK_EIO); /* every time */
}

/* Every other block around FAULT_BLOCK: QEMU merges requests for adjacent blocks that
 * are in the ring together into one read, and a merged read over the bad sector fails
 * for every request in it, so harts must not read FAULT_BLOCK's neighbours meanwhile. */
static void fault_reader(void *arg)
{
    (void)arg;
    int c = cpuid();
    for (uint64_t b = FAULT_BLOCK - 8; b <= FAULT_BLOCK + 8; b += 2) {
        int err = virtio_blk_read(0, b, bufs[c][0]);
        if (b == FAULT_BLOCK) {
            KEXPECT_EQ(err, VIRTIO_BLK_EIO);
        } else {
            KEXPECT_EQ(err, 0);
            if (err == 0)
                expect_block(bufs[c][0], b, 0, bufs[c][1]);
        }
    }
}

KTEST(fault_virtio, other_blocks_read_fine_on_every_hart)
{
    if (!have_disk())
        return;
    for (uint64_t b = 0; b < 2 * FAULT_BLOCK; b++) {
        if (b == FAULT_BLOCK)
            continue;
        KASSERT_EQ(virtio_blk_read(0, b, bufs[0][0]), 0);
        expect_block(bufs[0][0], b, 0, bufs[0][1]);
    }
    ktest_on_each_hart(fault_reader, 0);
}
