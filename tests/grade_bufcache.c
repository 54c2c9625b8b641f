/*
 * Description: the locks lab's grading suites for the buffer cache (fs/bufcache.c) and
 * the lock order, run by tools/grade.py over a fresh copy of the test disk
 * (tools/mkdisk.py: pattern 0 in every block); each suite is one check with points
 * (docs/lab-locks.md).
 *  - grade_bcache: correctness. An eviction storm from every hart with every byte of
 *    every block checked (and blocks written before it read back after it), every
 *    hart reading the same blocks (one buffer per block, ever: each block loaded
 *    once), and a pinned block that survives a storm in the same buffer.
 *  - grade_bcache_hits: every hart re-reads blocks of its own (bcache_disjoint_hart),
 *    all harts starting each round together:
 *    no hit takes a lock of the cache other than bucket locks, and the bucket locks
 *    are contended fewer than HIT_CONTENTION_BAR times.
 *  - grade_lockorder: a mixed load (misses across buckets, pins, page allocation and
 *    steals on every hart) under the Debug build's lock-order checker, which panics on
 *    a lock taken against kernel/lockorder.h or two locks of one class held together.
 * Each suite uses caches of its own (names g*), never the kernel's. Blocks used:
 *   1024..1279 disjoint hits, 1536..1663 the same blocks, 2048..2095 the storm,
 *   2500 the pinned block, 3072..3135 written blocks (hart c: 3072 + 8c ..),
 *   2304..2431 the mixed load.
 */
#include "fs/bufcache.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "lib/string.h"
#include "mm/pmem.h"
#include "tests/disk_pattern.h"
#include "tests/grade.h"
#include "tests/ktest.h"

#define STORM_NBUF 16
#define STORM_FIRST 2048
#define STORM_COUNT (3 * STORM_NBUF)
#define STORM_ROUNDS 3
#define WRITE_FIRST 3072
#define WRITE_PER_HART 4
#define SAME_FIRST 1536
#define SAME_COUNT 128 /* fresh blocks, each asked for by every hart at once */
#define SAME_PASSES 3  /* reads of each block by each hart */
#define SAME_NBUF 512  /* room for every block; long bucket lists, slow lookups */
#define PINNED_BLOCK 2500
#define HITS_NBUF 64
#define HITS_FIRST 1024
#define HITS_PER_HART 8
#define HITS_ROUNDS 1000
#define HITS_PASSES 4 /* over a hart's blocks per round */
/*
 * Contended bucket-lock acquires allowed while every hart hits its own blocks (the
 * lab's bar). Measured at 4 harts on a 2-core host busy with other work (load average
 * near 40), 128,000 hits (256,000 acquires): the one-lock starter 2,078 and 3,250; the
 * bucketed cache 0, always (no two harts share a bucket).
 */
#define HIT_CONTENTION_BAR 500
#define MIXED_NBUF 8
#define MIXED_FIRST 2304
#define MIXED_COUNT 128
#define MIXED_OPS 400

static struct bcache gstorm, gsame, ghits, gmixed;
static uint8_t expect[NCPU][BSIZE]; /* per hart: pinned threads never share */

static int have_disk(void)
{
    if (virtio_blk_count() == 0) {
        ktest_fail(__FILE__, __LINE__, "no disk: grade.py attaches a copy of build/disk.img");
        return 0;
    }
    return 1;
}

static int ready(struct bcache *c, const char *name, int nbuf)
{
    if (!have_disk())
        return 0;
    if (!c->nbuf && bcache_init(c, name, nbuf) != 0) {
        ktest_fail(__FILE__, __LINE__, "bcache_init(%s, %d) failed", name, nbuf);
        return 0;
    }
    return 1;
}

/* Reads block into a buffer and checks every byte against `pattern`; 0 on any failure. */
static struct buf *read_checked(struct bcache *c, uint64_t block, uint32_t pattern)
{
    struct buf *b;
    int err = bread(c, 0, block, &b);
    if (err) {
        ktest_fail(__FILE__, __LINE__, "cpu %d: bread(%s, block %lu) returned %d", cpuid(), c->name,
                   block, err);
        return 0;
    }
    uint8_t *want = expect[cpuid()];
    disk_pattern_fill(want, block, pattern);
    if (b->blockno != block || memcmp(b->data, want, BSIZE) != 0) {
        int k = 0;
        while (k < BSIZE && b->data[k] == want[k])
            k++;
        ktest_fail(__FILE__, __LINE__,
                   "cpu %d: block %lu (pattern %u) read wrong: buffer of block %lu, byte %d is "
                   "0x%02x, not 0x%02x",
                   cpuid(), block, pattern, b->blockno, k, k < BSIZE ? b->data[k] : 0,
                   k < BSIZE ? want[k] : 0);
    }
    return b;
}

/* ---- grade_bcache: correctness ---- */

static void write_own(void *arg)
{
    (void)arg;
    int c = cpuid();
    for (int i = 0; i < WRITE_PER_HART; i++) {
        uint64_t block = WRITE_FIRST + 8 * (uint64_t)c + i;
        struct buf *b = read_checked(&gstorm, block, 0);
        if (!b)
            return;
        disk_pattern_fill(b->data, block, 1 + c);
        int err = bwrite(b);
        if (err)
            ktest_fail(__FILE__, __LINE__, "cpu %d: bwrite(block %lu) returned %d", c, block, err);
        brelse(b);
    }
}

static void read_own_writes(void *arg)
{
    (void)arg;
    int c = cpuid();
    for (int i = 0; i < WRITE_PER_HART; i++) {
        struct buf *b = read_checked(&gstorm, WRITE_FIRST + 8 * (uint64_t)c + i, 1 + c);
        if (b)
            brelse(b);
    }
}

/* Every hart walks the storm's blocks, three times the cache's size, from its own start. */
static void storm(void *arg)
{
    int rounds = *(int *)arg, c = cpuid();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < STORM_COUNT; i++) {
            struct buf *b = read_checked(&gstorm, STORM_FIRST + (i + 7 * c) % STORM_COUNT, 0);
            if (!b)
                return;
            brelse(b);
        }
}

KTEST(grade_bcache, an_eviction_storm_keeps_every_byte)
{
    if (!ready(&gstorm, "gstorm", STORM_NBUF))
        return;
    ktest_on_each_hart(write_own, 0);
    struct bcache_stats before, after;
    bcache_stats_get(&gstorm, &before);
    int rounds = STORM_ROUNDS;
    ktest_on_each_hart(storm, &rounds);
    bcache_stats_get(&gstorm, &after);
    kprintf("    # storm: %lu reads, %lu misses, %lu evictions\n",
            (uint64_t)ncpu * rounds * STORM_COUNT, after.misses - before.misses,
            after.evictions - before.evictions);
    KEXPECT_GE(after.evictions - before.evictions, STORM_COUNT - STORM_NBUF);
    ktest_on_each_hart(read_own_writes, 0); /* evicted by now: read back from the disk */
}

static struct buf *same_buf[SAME_COUNT]; /* the one buffer each block must be in */

/* Block after block, every hart asks for a fresh block at the same moment: its first
 * reads are misses on every hart together. */
static void read_same(void *arg)
{
    (void)arg;
    for (int k = 0; k < SAME_COUNT; k++) {
        grade_barrier();
        for (int pass = 0; pass < SAME_PASSES; pass++) {
            struct buf *b = read_checked(&gsame, SAME_FIRST + k, 0);
            if (!b)
                continue; /* no return: the others wait at the barrier */
            struct buf *first = 0;
            if (!__atomic_compare_exchange_n(&same_buf[k], &first, b, 0, __ATOMIC_RELAXED,
                                             __ATOMIC_RELAXED) &&
                first != b)
                ktest_fail(__FILE__, __LINE__, "block %lu is in two buffers, %p and %p",
                           (uint64_t)SAME_FIRST + k, (void *)first, (void *)b);
            brelse(b);
        }
    }
}

KTEST(grade_bcache, every_hart_reads_the_same_blocks_from_one_buffer_each)
{
    if (!ready(&gsame, "gsame", SAME_NBUF))
        return;
    struct bcache_stats before, after;
    bcache_stats_get(&gsame, &before);
    ktest_on_each_hart(read_same, 0);
    bcache_stats_get(&gsame, &after);
    /* The cache has a buffer for every block, so nothing is evicted: each block is
     * loaded once, ever, however many harts missed on it together. */
    uint64_t blocks = SAME_COUNT;
    kprintf("    # %d harts read %lu blocks %d times each: %lu misses, %lu evictions\n", ncpu,
            blocks, SAME_PASSES, after.misses - before.misses, after.evictions - before.evictions);
    KEXPECT_EQ(after.misses - before.misses, blocks);
    KEXPECT_EQ(after.evictions - before.evictions, 0);
    KEXPECT_EQ(after.hits - before.hits, (uint64_t)ncpu * SAME_PASSES * blocks - blocks);
}

KTEST(grade_bcache, a_pinned_block_survives_a_storm)
{
    if (!ready(&gstorm, "gstorm", STORM_NBUF))
        return;
    struct buf *b = read_checked(&gstorm, PINNED_BLOCK, 0);
    if (!b)
        return;
    bpin(b);
    brelse(b);
    int rounds = 2;
    ktest_on_each_hart(storm, &rounds);
    struct bcache_stats before, after;
    bcache_stats_get(&gstorm, &before);
    struct buf *again = read_checked(&gstorm, PINNED_BLOCK, 0);
    bcache_stats_get(&gstorm, &after);
    if (!again)
        return;
    KEXPECT_EQ(after.misses - before.misses, 0); /* a hit: still cached */
    KEXPECT_EQ((uintptr_t)again, (uintptr_t)b);  /* in the buffer it was pinned in */
    bunpin(again);
    brelse(again);
}

/* ---- grade_bcache_hits: hits on disjoint blocks ---- */

static uint64_t own_blocks[NCPU][HITS_PER_HART];

static void hit_own(void *arg)
{
    int rounds = *(int *)arg, c = cpuid();
    for (int r = 0; r < rounds; r++) {
        /* Every round starts on every hart at once: the harts of a busy host still
         * overlap, so a lock they share is contended whatever the host does. */
        grade_barrier();
        for (int i = 0; i < HITS_PASSES * HITS_PER_HART; i++) {
            struct buf *b;
            uint64_t block = own_blocks[c][i % HITS_PER_HART];
            if (bread(&ghits, 0, block, &b) != 0) /* no return: the others wait */
                ktest_fail(__FILE__, __LINE__, "cpu %d: bread(block %lu) failed", c, block);
            else
                brelse(b);
        }
    }
}

KTEST(grade_bcache_hits, hits_on_disjoint_blocks_take_no_global_lock)
{
    if (!ready(&ghits, "ghits", HITS_NBUF))
        return;
    KASSERT_LE(ncpu * HITS_PER_HART, HITS_NBUF);
    for (int c = 0; c < ncpu; c++) {
        int k = 0;
        for (uint64_t b = HITS_FIRST; k < HITS_PER_HART && b < HITS_FIRST + 256; b++)
            if (bcache_disjoint_hart(HITS_FIRST, HITS_PER_HART, ncpu, b) == c)
                own_blocks[c][k++] = b;
        KASSERT_EQ(k, HITS_PER_HART);
    }
    int rounds = 1;
    ktest_on_each_hart(hit_own, &rounds); /* load them: the only misses */
    static const char *const not_global[] = {"ghits.bucket", "ghits.buf", 0};
    struct grade_locks buckets0, buckets1, global0, global1;
    struct bcache_stats before, after;
    bcache_stats_get(&ghits, &before);
    grade_locks("ghits.bucket", 0, &buckets0);
    grade_locks("ghits.", not_global, &global0);
    rounds = HITS_ROUNDS;
    ktest_on_each_hart(hit_own, &rounds);
    grade_locks("ghits.", not_global, &global1);
    grade_locks("ghits.bucket", 0, &buckets1);
    bcache_stats_get(&ghits, &after);
    uint64_t hits = (uint64_t)ncpu * HITS_ROUNDS * HITS_PASSES * HITS_PER_HART;
    uint64_t contentions = buckets1.contentions - buckets0.contentions;
    kprintf("    # %lu hits by %d harts: %lu bucket locks: %lu acquires, %lu contended (bar %d); "
            "other cache locks: %lu acquires\n",
            hits, ncpu, buckets1.locks, buckets1.acquires - buckets0.acquires, contentions,
            HIT_CONTENTION_BAR, global1.acquires - global0.acquires);
    KEXPECT_EQ(after.misses - before.misses, 0);
    KEXPECT_EQ(after.hits - before.hits, hits);
    KEXPECT_EQ(global1.acquires - global0.acquires, 0); /* no global lock on a hit */
    KEXPECT_LT(contentions, HIT_CONTENTION_BAR);
}

/* ---- grade_lockorder: the lock-order checker through a mixed load ---- */

KTEST(grade_lockorder, the_lock_order_checker_is_on)
{
#ifndef LOCK_CHECKS
    ktest_fail(__FILE__, __LINE__,
               "this kernel has no lock-order checks: grade a Debug build (the default)");
#endif
}

static void mixed(void *arg)
{
    (void)arg;
    int c = cpuid();
    uint64_t x = 0x9e3779b97f4a7c15UL * (uint64_t)(c + 1);
    void *pages[8] = {0};
    for (int i = 0; i < MIXED_OPS; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        struct buf *b = read_checked(&gmixed, MIXED_FIRST + (x >> 33) % MIXED_COUNT, 0);
        if (!b)
            return;
        if (i % 16 == 0) {
            bpin(b);
            bunpin(b);
        }
        brelse(b);
        /* Pages pass from hart to hart: a page allocated here is freed here later, but
         * hart 0 now and then takes far more than its share, so others must steal. */
        int k = i % 8;
        if (pages[k])
            pmem_free(pages[k]);
        pages[k] = pmem_alloc();
        if (c == 0 && i % 100 == 0) {
            void *chain = 0, *p;
            for (int n = 0; n < 4096 && (p = pmem_alloc()) != 0; n++) {
                *(void **)p = chain;
                chain = p;
            }
            while (chain) {
                p = chain;
                chain = *(void **)p;
                pmem_free(p);
            }
        }
    }
    for (int k = 0; k < 8; k++)
        if (pages[k])
            pmem_free(pages[k]);
}

KTEST(grade_lockorder, a_mixed_load_keeps_the_lock_order)
{
    if (!ready(&gmixed, "gmixed", MIXED_NBUF))
        return;
    size_t n0 = pmem_free_pages();
    ktest_on_each_hart(mixed, 0);
    KEXPECT_EQ(pmem_free_pages(), n0);
}
