/*
 * Description: suites `bufcache` and `fault_bufcache`: the bucketed buffer cache
 * (fs/bufcache.c) under stress on every hart, over the test disk of tools/mkdisk.py
 * (every block holds its number, a CRC-32 of the rest and pseudo-random bytes of a
 * pattern id; pattern 0 is the fresh image). The same stress code also drives the
 * single-lock baseline (tests/bcache_baseline.c), through struct bcache_ops.
 *
 * The tests use their own small caches (test_nbuf buffers: 32, or 4 per hart with more
 * than 8 harts), not the kernel's, so that working sets larger than the cache are
 * cheap. Blocks each test touches (the map keeps clear of tests/test_virtio.c, which
 * stays below 1024):
 *    1024..1535  disjoint hit sets, chosen per hart by bucket
 *    1536..1551  every hart reads the same blocks
 *    2048..3071  eviction storms (read only): 3 or 4 times test_nbuf blocks
 *    3072..3583  concurrent writers: hart c writes 3072 + wc .. + w - 1, w = 16 for up
 *                to 32 harts, 512 / ncpu above, announced as
 *                `DISKWRITE dev=0 block=<n> pattern=<id>` for tools/checkdisk.py
 *    3584, 3585  fault_bufcache: tests/bufcache_fault.blkdebug fails one read of
 *                3584 and one write of 3585 (once each); that run writes only 3585
 * Every test needs a writable disk on virtio-mmio-bus.0 and is skipped without one.
 */
#include "arch/riscv/timer.h"
#include "fs/bufcache.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/sched.h"
#include "kernel/thread.h"
#include "lib/string.h"
#include "tests/bcache_baseline.h"
#include "tests/disk_pattern.h"
#include "tests/ktest.h"

#define TEST_NBUF_MIN 32
#define TEST_NBUF_MAX (4 * NCPU > TEST_NBUF_MIN ? 4 * NCPU : TEST_NBUF_MIN)
#define MIN_BLOCKS 4096
#define DISJOINT_FIRST 1024
#define DISJOINT_MAX 6 /* blocks per hart in the disjoint sets, when the cache holds them */
#define SAME_FIRST 1536
#define SAME_COUNT 8
#define STORM_FIRST 2048
#define WRITE_FIRST 3072
#define WRITE_LAST 3583
#define FAULT_READ_BLOCK 3584
#define FAULT_WRITE_BLOCK 3585

static struct bcache tcache;             /* the cache under test */
static struct bcache_baseline tbaseline; /* the baseline, for the same stress */
static uint8_t scratch[NCPU][BSIZE];     /* per hart: pinned threads never share */

/* Does data hold `block` in `pattern`? Quietly. */
static int holds(const uint8_t *data, uint64_t block, uint32_t pattern)
{
    uint8_t *want = scratch[cpuid()];
    disk_pattern_fill(want, block, pattern);
    return memcmp(data, want, BSIZE) == 0;
}

/* Does data hold `block` in `pattern`? Reports what is wrong; returns 1 if all is well. */
static int block_ok(const uint8_t *data, uint64_t block, uint32_t pattern)
{
    uint64_t number = 0;
    for (int k = 7; k >= 0; k--)
        number = number << 8 | data[k];
    if (number != block) {
        ktest_fail(__FILE__, __LINE__, "buffer for block %lu holds block %lu", block, number);
        return 0;
    }
    if (!holds(data, block, pattern)) {
        ktest_fail(__FILE__, __LINE__, "block %lu does not hold pattern %u", block, pattern);
        return 0;
    }
    return 1;
}

/* ---- Invariants, walked under the locks ---- */

/*
 * Every buffer is in exactly one bucket, the right one, and no block is in two
 * buffers. evict_lock first (no identity can change while we hold it: only the
 * evictor changes one), then each bucket lock in turn: the cache's own lock order.
 * With `idle`, also every refcnt is 0 and every sleeplock free.
 */
static void check_cache(struct bcache *c, int idle)
{
    static struct {
        uint32_t dev;
        uint64_t blockno;
    } seen[512];
    static struct spinlock seen_lock = {.name = "test.bufcache.seen", .cpu = -1};
    int n = 0, misplaced = 0, busy = 0;
    acquire(&seen_lock);
    acquire(&c->evict_lock);
    for (int i = 0; i < BCACHE_NBUCKET; i++) {
        struct list_node *p;
        acquire(&c->buckets[i].lock);
        list_for_each(p, &c->buckets[i].list) {
            struct buf *b = list_entry(p, struct buf, link);
            misplaced += bcache_bucket_of(b->dev, b->blockno) != i;
            busy += idle && (b->refcnt != 0 || b->lock.locked);
            if (n < c->nbuf && n < 512) {
                seen[n].dev = b->dev;
                seen[n].blockno = b->blockno;
            }
            n++;
        }
        release(&c->buckets[i].lock);
    }
    release(&c->evict_lock);
    int dups = 0;
    int m = n < c->nbuf ? n : c->nbuf;
    m = m < 512 ? m : 512;
    for (int i = 0; i < m; i++)
        for (int j = i + 1; j < m; j++)
            dups += seen[i].dev == seen[j].dev && seen[i].blockno == seen[j].blockno;
    release(&seen_lock);
    KEXPECT_EQ(n, c->nbuf);
    KEXPECT_EQ(misplaced, 0);
    KEXPECT_EQ(dups, 0);
    KEXPECT_EQ(busy, 0);
}

static int have_disk(void)
{
    if (virtio_blk_count() == 0) {
        ktest_skip("no disk");
        return 0;
    }
    return 1;
}

/* The caches are created once per boot (their locks are registered for good). */
/* Sizes that follow the hart count, so that every hart has buffers and blocks of its own. */
static int test_nbuf(void) { return 4 * ncpu > TEST_NBUF_MIN ? 4 * ncpu : TEST_NBUF_MIN; }
static int disjoint_per_hart(void)
{
    return test_nbuf() / ncpu < DISJOINT_MAX ? test_nbuf() / ncpu : DISJOINT_MAX;
}
static uint64_t storm_count(void) { return 3 * (uint64_t)test_nbuf(); }
static uint64_t write_per_hart(void)
{
    uint64_t room = (WRITE_LAST + 1 - WRITE_FIRST) / (uint64_t)ncpu;
    return room < 16 ? room : 16;
}

static int setup(void)
{
    if (!have_disk())
        return 0;
    if (!tcache.nbuf && bcache_init(&tcache, "tbcache", test_nbuf()) != 0)
        return 0;
    if (!tbaseline.nbuf && bcache_baseline_init(&tbaseline, "tbaseline", test_nbuf()) != 0)
        return 0;
    return 1;
}

KTEST(bufcache, init_and_disk)
{
    if (!setup())
        return;
    KEXPECT_EQ(tcache.nbuf, test_nbuf());
    KEXPECT_GE(virtio_blk_capacity(0), MIN_BLOCKS);
    KEXPECT_FALSE(virtio_blk_readonly(0));
    /* Buckets on separate cache lines, so harts on different buckets share none. */
    KEXPECT_EQ((uintptr_t)&tcache.buckets[1] % 64, 0);
    KEXPECT_EQ(sizeof(tcache.buckets[0]) % 64, 0);
    check_cache(&tcache, 1);
}

/* kmain sets up the kernel's own cache after the disks, disk or no disk. */
KTEST(bufcache, kernel_cache_initialised_at_boot)
{
    KEXPECT_EQ(bcache.nbuf, BCACHE_NBUF);
    KEXPECT_STREQ(bcache.buckets[0].lock.name, "bcache.bucket0");
    KEXPECT_STREQ(bcache.evict_lock.name, "bcache.evict");
    check_cache(&bcache, 1);
}

KTEST(bufcache, read_returns_the_block_locked)
{
    if (!setup())
        return;
    struct buf *b;
    KASSERT_EQ(bread(&tcache, 0, DISJOINT_FIRST, &b), 0);
    KEXPECT_TRUE(holdingsleep(&b->lock));
    KEXPECT_EQ(b->refcnt, 1);
    block_ok(b->data, DISJOINT_FIRST, 0);
    brelse(b);
    struct bcache_stats before, after;
    bcache_stats_get(&tcache, &before);
    KASSERT_EQ(bread(&tcache, 0, DISJOINT_FIRST, &b), 0); /* now a hit */
    bcache_stats_get(&tcache, &after);
    KEXPECT_EQ(after.hits - before.hits, 1);
    KEXPECT_EQ(after.misses - before.misses, 0);
    KEXPECT_EQ(after.evict_acquires - before.evict_acquires, 0);
    brelse(b);
    check_cache(&tcache, 1);
}

/* ---- Stress workers: one per hart, driving either cache through its ops ---- */

struct stress {
    struct bcache_ops ops;
    uint64_t blocks[NCPU][DISJOINT_MAX]; /* disjoint: each hart's own blocks */
    uint64_t first, count;               /* shared or storm set */
    int rounds;
    uint64_t until_us; /* timed storms: stop then (0: use rounds) */
    uint64_t reads[NCPU], errors[NCPU];
};

static void read_check(struct stress *s, uint64_t block)
{
    int c = cpuid();
    void *h;
    uint8_t *data;
    int err = s->ops.bread(s->ops.cache, 0, block, &h, &data);
    if (err) {
        if (s->errors[c]++ == 0)
            ktest_fail(__FILE__, __LINE__, "%s: bread(%lu) = %d", s->ops.kind, block, err);
        return;
    }
    s->reads[c]++;
    block_ok(data, block, 0);
    s->ops.brelse(h);
}

static void read_own_blocks(void *arg)
{
    struct stress *s = arg;
    for (int r = 0; r < s->rounds; r++)
        for (int i = 0; i < disjoint_per_hart(); i++)
            read_check(s, s->blocks[cpuid()][i]);
}

static void read_shared_blocks(void *arg)
{
    struct stress *s = arg;
    for (int r = 0; r < s->rounds; r++)
        for (uint64_t i = 0; i < s->count; i++)
            read_check(s, s->first + (i + (uint64_t)cpuid()) % s->count);
}

/* Random blocks of the storm set (xorshift, a different sequence per hart). */
static void read_random_blocks(void *arg)
{
    struct stress *s = arg;
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(cpuid() + 1);
    for (int r = 0; s->until_us ? timer_now_us() < s->until_us : r < s->rounds; r++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        read_check(s, s->first + x % s->count);
        if (ktest_failed())
            return;
    }
}

static uint64_t total(const uint64_t *per_hart)
{
    uint64_t n = 0;
    for (int c = 0; c < ncpu; c++)
        n += per_hart[c];
    return n;
}

/* Hart c gets blocks no other hart reads, in buckets no other hart uses (but Lab mode's one). */
static void pick_disjoint(struct stress *s)
{
    for (int c = 0; c < ncpu; c++) {
        int k = 0;
        for (uint64_t b = DISJOINT_FIRST; k < disjoint_per_hart(); b++)
            if (bcache_disjoint_hart(DISJOINT_FIRST, disjoint_per_hart(), ncpu, b) == c)
                s->blocks[c][k++] = b;
    }
}

static struct stress stress; /* one test at a time; too big for a thread's stack */

KTEST(bufcache, disjoint_hits_take_one_bucket_lock_and_never_spin)
{
    if (!setup())
        return;
    KASSERT_LE(ncpu * disjoint_per_hart(), tcache.nbuf); /* the sets fit in the cache */
    memset(&stress, 0, sizeof(stress));
    stress.ops = bcache_ops_bucketed(&tcache);
    pick_disjoint(&stress);
    stress.rounds = 1;
    ktest_on_each_hart(read_own_blocks, &stress); /* load them: misses */
    struct bcache_stats before, after;
    bcache_stats_get(&tcache, &before);
    stress.rounds = 300;
    ktest_on_each_hart(read_own_blocks, &stress); /* only hits now */
    bcache_stats_get(&tcache, &after);
    uint64_t reads = (uint64_t)ncpu * disjoint_per_hart() * (300 + 1);
    KEXPECT_EQ(total(stress.reads), reads);
    KEXPECT_EQ(after.misses - before.misses, 0);
    KEXPECT_EQ(after.hits - before.hits, reads - (uint64_t)ncpu * disjoint_per_hart());
    KEXPECT_EQ(after.evict_acquires - before.evict_acquires, 0); /* no global lock on a hit */
    uint64_t spins = after.bucket_spins - before.bucket_spins;
    kprintf("    # %lu hits by %d harts: %lu bucket-lock spins\n", after.hits - before.hits, ncpu,
            spins);
    if (ncpu <= BCACHE_NBUCKET)
        KEXPECT_EQ(spins, 0); /* no shared bucket (more harts than buckets must share) */
    /* A hit and its brelse take exactly one bucket lock each. */
    KEXPECT_EQ(after.bucket_acquires - before.bucket_acquires, 2 * (after.hits - before.hits));
    check_cache(&tcache, 1);
}

KTEST(bufcache, every_hart_reads_the_same_blocks)
{
    if (!setup())
        return;
    memset(&stress, 0, sizeof(stress));
    stress.ops = bcache_ops_bucketed(&tcache);
    stress.first = SAME_FIRST;
    stress.count = SAME_COUNT;
    stress.rounds = 100;
    struct bcache_stats before, after;
    bcache_stats_get(&tcache, &before);
    ktest_on_each_hart(read_shared_blocks, &stress);
    bcache_stats_get(&tcache, &after);
    uint64_t reads = (uint64_t)ncpu * SAME_COUNT * 100;
    KEXPECT_EQ(total(stress.reads), reads);
    /* Each block loaded once, however many harts missed on it at the same time: the
     * re-check under the eviction lock found the buffer another hart had just loaded. */
    KEXPECT_EQ(after.misses - before.misses, SAME_COUNT);
    KEXPECT_EQ(after.hits - before.hits, reads - SAME_COUNT);
    check_cache(&tcache, 1);
}

/* A thread that checks the cache's invariants over and over while a storm runs. */
static volatile int checker_stop;
static void checker(void *arg)
{
    while (!checker_stop && !ktest_failed()) {
        check_cache(arg, 0);
        thread_yield();
    }
}

static void storm(struct bcache_ops ops, uint64_t count, int rounds, uint64_t seconds)
{
    memset(&stress, 0, sizeof(stress));
    stress.ops = ops;
    stress.first = STORM_FIRST;
    stress.count = count;
    stress.rounds = rounds;
    stress.until_us = seconds ? timer_now_us() + seconds * 1000000 : 0;
    ktest_on_each_hart(read_random_blocks, &stress);
    KEXPECT_EQ(total(stress.errors), 0);
}

KTEST(bufcache, eviction_storm_every_read_checked)
{
    if (!setup())
        return;
    struct bcache_stats before, after;
    bcache_stats_get(&tcache, &before);
    checker_stop = 0;
    struct thread *t = thread_create("bc.checker", checker, &tcache, THREAD_ANY_CPU);
    KASSERT_TRUE(t != 0);
    storm(bcache_ops_bucketed(&tcache), storm_count(), 1500, 0);
    checker_stop = 1;
    thread_join(t);
    bcache_stats_get(&tcache, &after);
    KEXPECT_EQ(total(stress.reads), (uint64_t)ncpu * 1500);
    KEXPECT_GT(after.evictions - before.evictions, 0);
    KEXPECT_EQ(after.hits + after.misses - before.hits - before.misses, total(stress.reads));
    /* O(1) amortised, whatever nbuf: each hand step evicts (one per miss), clears a
     * bit a hit or load set, or passes a buffer in use (at most ncpu per miss). */
    uint64_t misses = after.misses - before.misses, hits = after.hits - before.hits;
    KEXPECT_LE(after.hand_steps - before.hand_steps,
               misses + (hits + misses + (uint64_t)test_nbuf()) + (uint64_t)ncpu * misses);
    check_cache(&tcache, 1);
}

KTEST(bufcache, baseline_passes_the_same_stress)
{
    if (!setup())
        return;
    storm(bcache_ops_baseline(&tbaseline), storm_count(), 500, 0);
    KEXPECT_EQ(total(stress.reads), (uint64_t)ncpu * 500);
    memset(&stress, 0, sizeof(stress));
    stress.ops = bcache_ops_baseline(&tbaseline);
    stress.first = SAME_FIRST;
    stress.count = SAME_COUNT;
    stress.rounds = 20;
    ktest_on_each_hart(read_shared_blocks, &stress);
    KEXPECT_EQ(total(stress.reads), (uint64_t)ncpu * SAME_COUNT * 20);
}

/* ---- Writers ---- */

static uint32_t write_pattern(int c, int round)
{
    return 0x100 + 16 * (uint32_t)c + (uint32_t)round;
}

static void write_own_blocks(void *arg)
{
    (void)arg;
    int c = cpuid();
    for (int round = 0; round < 2; round++)
        for (uint64_t i = 0; i < write_per_hart(); i++) {
            uint64_t block = WRITE_FIRST + (uint64_t)c * write_per_hart() + i;
            struct buf *b;
            KASSERT_EQ(bread(&tcache, 0, block, &b), 0);
            uint32_t was = round ? write_pattern(c, round - 1) : 0;
            /* Run again in the same boot (the monitor's `test`), the suite finds the
             * first run's last pattern instead of the fresh disk's. */
            if (round == 0 && holds(b->data, block, write_pattern(c, 1)))
                was = write_pattern(c, 1);
            block_ok(b->data, block, was);
            disk_pattern_fill(b->data, block, write_pattern(c, round));
            int err = bwrite(b);
            KEXPECT_EQ(err, 0);
            KEXPECT_TRUE(b->valid);
            brelse(b);
            if (err == 0)
                kprintf("DISKWRITE dev=0 block=%lu pattern=%u\n", block, write_pattern(c, round));
        }
}

KTEST(bufcache, concurrent_writers_on_distinct_blocks)
{
    if (!setup())
        return;
    KASSERT_GE(write_per_hart(), 1);
    ktest_on_each_hart(write_own_blocks, 0); /* ncpu * 16 blocks: evictions meanwhile */
    KEXPECT_EQ(virtio_blk_flush(0), 0);
    /* Write-through: the disk itself holds the data, whatever the cache holds. */
    static uint8_t direct[BSIZE];
    for (int c = 0; c < ncpu; c++)
        for (uint64_t i = 0; i < write_per_hart(); i++) {
            uint64_t block = WRITE_FIRST + (uint64_t)c * write_per_hart() + i;
            KASSERT_EQ(virtio_blk_read(0, block, direct), 0);
            KASSERT_TRUE(block_ok(direct, block, write_pattern(c, 1)));
            struct buf *b;
            KASSERT_EQ(bread(&tcache, 0, block, &b), 0);
            block_ok(b->data, block, write_pattern(c, 1));
            brelse(b);
        }
    /* Untouched neighbours. */
    KASSERT_EQ(virtio_blk_read(0, WRITE_FIRST - 1, direct), 0);
    block_ok(direct, WRITE_FIRST - 1, 0);
    check_cache(&tcache, 1);
}

/* ---- Limits and pins ---- */

KTEST(bufcache, all_buffers_in_use_is_an_error_not_a_wrong_buffer)
{
    if (!setup())
        return;
    static struct buf *held[TEST_NBUF_MAX];
    int nbuf = tcache.nbuf;
    for (int i = 0; i < nbuf; i++)
        KASSERT_EQ(bread(&tcache, 0, STORM_FIRST + (uint64_t)i, &held[i]), 0);
    struct buf *b = 0;
    KEXPECT_EQ(bread(&tcache, 0, STORM_FIRST + nbuf, &b), BCACHE_ENOBUFS);
    KEXPECT_TRUE(b == 0);
    /* A block already held is still a hit (its sleeplock is ours: read another). */
    for (int i = 0; i < nbuf; i++)
        brelse(held[i]);
    KASSERT_EQ(bread(&tcache, 0, STORM_FIRST + nbuf, &b), 0);
    block_ok(b->data, STORM_FIRST + nbuf, 0);
    brelse(b);
    check_cache(&tcache, 1);
}

/* Holds every buffer of tcache until a bread on another thread waits, then lets go. */
static volatile int holder_has_all;
static void hold_every_buffer(void *arg)
{
    struct buf **held = arg;
    for (int i = 0; i < tcache.nbuf; i++)
        KASSERT_EQ(bread(&tcache, 0, STORM_FIRST + (uint64_t)i, &held[i]), 0);
    holder_has_all = 1;
    while (__atomic_load_n(&tcache.free_waiters, __ATOMIC_RELAXED) == 0)
        sleep_ticks(1);
    for (int i = 0; i < tcache.nbuf; i++)
        brelse(held[i]);
}

KTEST(bufcache, all_buffers_held_by_another_thread_means_wait)
{
    if (!setup())
        return;
    static struct buf *held[TEST_NBUF_MAX];
    holder_has_all = 0;
    struct thread *t = thread_create("bc.holder", hold_every_buffer, held, THREAD_ANY_CPU);
    KASSERT_TRUE(t != 0);
    while (!holder_has_all && !ktest_failed())
        sleep_ticks(1);
    uint64_t waits = tcache.free_waits;
    struct buf *b = 0;
    int err = bread(&tcache, 0, STORM_FIRST + (uint64_t)tcache.nbuf, &b); /* sleeps */
    KEXPECT_EQ(err, 0);
    if (err == 0) {
        block_ok(b->data, STORM_FIRST + (uint64_t)tcache.nbuf, 0);
        brelse(b);
    }
    thread_join(t);
    KEXPECT_GE(tcache.free_waits - waits, 1);
    check_cache(&tcache, 1);
}

KTEST(bufcache, pinned_block_survives_a_storm)
{
    if (!setup())
        return;
    struct buf *b;
    KASSERT_EQ(bread(&tcache, 0, SAME_FIRST, &b), 0);
    bpin(b);
    struct buf *pinned = b;
    brelse(b);
    storm(bcache_ops_bucketed(&tcache), storm_count(), 200, 0);
    struct bcache_stats before, after;
    bcache_stats_get(&tcache, &before);
    KASSERT_EQ(bread(&tcache, 0, SAME_FIRST, &b), 0);
    bcache_stats_get(&tcache, &after);
    KEXPECT_TRUE(b == pinned);
    KEXPECT_EQ(after.misses - before.misses, 0);
    bunpin(b);
    brelse(b);
    check_cache(&tcache, 1);
}

KTEST(bufcache, eviction_storm_for_seconds_never_deadlocks)
{
    if (!setup())
        return;
    checker_stop = 0;
    struct thread *t = thread_create("bc.checker", checker, &tcache, THREAD_ANY_CPU);
    KASSERT_TRUE(t != 0);
    storm(bcache_ops_bucketed(&tcache), 4 * (uint64_t)test_nbuf(), 0, 3); /* the watchdog is 30 s */
    checker_stop = 1;
    thread_join(t);
    KEXPECT_GT(total(stress.reads), 0);
    check_cache(&tcache, 1);
}

/* Keep last: the suite leaves every buffer of both caches released. */
KTEST(bufcache, every_buffer_released_and_unlocked)
{
    if (!setup())
        return;
    check_cache(&tcache, 1);
    int busy = 0;
    struct list_node *p;
    acquire(&tbaseline.lock);
    list_for_each(p, &tbaseline.lru) {
        struct bcache_baseline_buf *b = list_entry(p, struct bcache_baseline_buf, lru);
        busy += b->refcnt != 0 || b->lock.locked;
    }
    release(&tbaseline.lock);
    KEXPECT_EQ(busy, 0);
    bcache_stats_print(&tcache);
}

/* ---- fault_bufcache: run only when named, with tests/bufcache_fault.blkdebug ---- */

KTEST(fault_bufcache, read_error_reaches_caller_and_is_retried)
{
    if (!setup())
        return;
    struct buf *b = 0;
    int err = bread(&tcache, 0, FAULT_READ_BLOCK, &b);
    if (err == 0)
        brelse(b); /* no error injected: the run lacks its blkdebug setup */
    KASSERT_EQ(err, VIRTIO_BLK_EIO);
    check_cache(&tcache, 1);
    /* The failed buffer stays cached but invalid: the next bread is a hit that goes
     * to the disk again (the rule fails only once), and gets the right data. */
    struct bcache_stats before, after;
    bcache_stats_get(&tcache, &before);
    KASSERT_EQ(bread(&tcache, 0, FAULT_READ_BLOCK, &b), 0);
    bcache_stats_get(&tcache, &after);
    KEXPECT_EQ(after.hits - before.hits, 1);
    block_ok(b->data, FAULT_READ_BLOCK, 0);
    brelse(b);
}

KTEST(fault_bufcache, write_error_reaches_caller_and_leaves_buffer_invalid)
{
    if (!setup())
        return;
    struct buf *b;
    KASSERT_EQ(bread(&tcache, 0, FAULT_WRITE_BLOCK, &b), 0);
    disk_pattern_fill(b->data, FAULT_WRITE_BLOCK, 0x77);
    int err = bwrite(b);
    KEXPECT_FALSE(b->valid); /* the cache does not claim what the disk does not have */
    brelse(b);
    if (err == 0) /* no error injected: the run lacks its blkdebug setup */
        kprintf("DISKWRITE dev=0 block=%d pattern=%u\n", FAULT_WRITE_BLOCK, 0x77);
    KASSERT_EQ(err, VIRTIO_BLK_EIO);
    /* The next bread reads the disk again: the old contents. */
    KASSERT_EQ(bread(&tcache, 0, FAULT_WRITE_BLOCK, &b), 0);
    block_ok(b->data, FAULT_WRITE_BLOCK, 0);
    /* A retried write succeeds (the rule fails once) and makes the buffer valid. */
    disk_pattern_fill(b->data, FAULT_WRITE_BLOCK, 0x78);
    KEXPECT_EQ(bwrite(b), 0);
    KEXPECT_TRUE(b->valid);
    brelse(b);
    kprintf("DISKWRITE dev=0 block=%d pattern=%u\n", FAULT_WRITE_BLOCK, 0x78);
    check_cache(&tcache, 1);
}
