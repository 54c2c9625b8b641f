/*
 * Description: the buffer cache benchmark (see bench_bufcache.h). Each measurement
 * runs one workload on h harts (worker threads pinned to CPUs 0..h-1, released together
 * at a set time) against one cache, and prints one line for tools/bench_bufcache.py:
 *   BENCH bench=bufcache cache=<bucketed|single-lock> workload=<w> round=<r> nbuf=<n>
 *         harts=<h> ops=<per hart, comma-separated> us=<wall time> hits=<n> misses=<n>
 *         acquires=<n> spins=<n> hand_steps=<n> errors=<n>
 * Integers only; acquires and spins are the cache's spinlocks (bucket and eviction
 * locks, or the baseline's one lock), not the buffers' sleeplocks. The workloads:
 *   hit     every hart re-reads its own 6 blocks, chosen so that no two harts' blocks
 *           share a bucket: the bucketed cache's best case, the baseline's worst
 *   miss    every hart reads random blocks of a set 4x the cache: most reads evict and
 *           go to the disk; at nbuf 64 and 512, to show that a miss costs the same
 *           whatever nbuf is (CLOCK's hand steps per miss stay constant)
 *   test0   shaped like the xv6 lock lab's bcachetest test0: every hart re-reads its
 *           own run of 10 consecutive blocks, 65,000 bread/brelse in all; the lab's
 *           "tot" is the spins figure
 * Both caches run in the same boot, alternating, ROUNDS times, so that medians and
 * ratios hold on a noisy host. Nothing here is asserted: timings are not test results.
 */
#include "tests/bench_bufcache.h"

#include "arch/riscv/timer.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/thread.h"
#include "kernel/trace.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "tests/bcache_baseline.h"

#define HIT_NBUF 64
#define HIT_BLOCKS 6
#define HIT_MS 100
#define MISS_MS 150
#define MISS_FIRST 2048 /* the miss sets are 2048.. 2048 + 4 * nbuf - 1 (<= 4095) */
#define TEST0_BLOCKS 10
#define TEST0_OPS 65000
#define START_DELAY_US 20000 /* time for every worker to reach its start line */
#define ROUNDS 5

static struct bcache bucketed64, bucketed512;
static struct bcache_baseline single64, single512;

struct run {
    struct bcache_ops ops;
    const char *workload;
    int round, nbuf, nharts;
    uint64_t blocks[NCPU][TEST0_BLOCKS]; /* hit, test0: each hart's own blocks */
    int nblocks;
    uint64_t first, count;     /* miss: the random set */
    uint64_t start_us, end_us; /* end_us 0: run ops_per_hart operations */
    uint64_t ops_per_hart;
    uint64_t done[NCPU], finish_us[NCPU], errors[NCPU];
};

static struct run run; /* one at a time; too big for a thread's one-page stack */
static int traced;     /* measure() traces its workers (bench=bufcache_trace) */

static void worker(void *arg)
{
    struct run *r = arg;
    int c = cpuid(); /* pinned: stays valid */
    uint64_t n = 0, errors = 0, x = 0x9e3779b97f4a7c15ull * (uint64_t)(c + 1);
    while (timer_now_us() < r->start_us)
        ;
    for (;; n++) {
        if (r->end_us ? (n & 31) == 0 && timer_now_us() >= r->end_us : n >= r->ops_per_hart)
            break;
        uint64_t block;
        if (r->count) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            block = r->first + x % r->count;
        } else {
            block = r->blocks[c][n % (uint64_t)r->nblocks];
        }
        void *h;
        uint8_t *data;
        if (r->ops.bread(r->ops.cache, 0, block, &h, &data) == 0)
            r->ops.brelse(h);
        else
            errors++;
    }
    r->done[c] = n;
    r->errors[c] = errors;
    r->finish_us[c] = timer_now_us();
}

/* Runs `run` as set up on its nharts harts; prints its BENCH line if `report`. */
static void measure(int report)
{
    struct run *r = &run;
    struct bcache_ops_stats a, b;
    struct thread *t[NCPU];
    memset(r->done, 0, sizeof(r->done));
    r->ops.stats(r->ops.cache, &a);
    r->start_us = timer_now_us() + START_DELAY_US;
    if (r->end_us)
        r->end_us += r->start_us;
    if (traced)
        trace_start(); /* each run forgets the one before: a dump shows the last */
    for (int c = 0; c < r->nharts; c++)
        t[c] = thread_create("bench.bcache", worker, r, c);
    for (int c = 0; c < r->nharts; c++)
        if (t[c])
            thread_join(t[c]);
    if (traced)
        trace_stop();
    r->ops.stats(r->ops.cache, &b);
    uint64_t errors = 0, last = r->start_us;
    for (int c = 0; c < r->nharts; c++) {
        errors += r->errors[c];
        last = r->finish_us[c] > last ? r->finish_us[c] : last;
    }
    if (!report)
        return;
    char list[NCPU * 21 + 1];
    size_t len = 0;
    for (int c = 0; c < r->nharts; c++)
        len += snprintf(list + len, sizeof(list) - len, "%s%lu", c ? "," : "", r->done[c]);
    kprintf("BENCH bench=bufcache cache=%s workload=%s round=%d nbuf=%d harts=%d ops=%s us=%lu "
            "hits=%lu misses=%lu acquires=%lu spins=%lu hand_steps=%lu errors=%lu\n",
            r->ops.kind, r->workload, r->round, r->nbuf, r->nharts, list, last - r->start_us,
            b.hits - a.hits, b.misses - a.misses, b.acquires - a.acquires, b.spins - a.spins,
            b.hand_steps - a.hand_steps, errors);
    if (errors || !t[r->nharts - 1])
        kprintf("bench bufcache: error: %lu failed reads or a missing worker thread\n", errors);
}

static int init_caches(void)
{
    if (!bucketed64.nbuf && bcache_init(&bucketed64, "bench64", HIT_NBUF) != 0)
        return -1;
    if (!bucketed512.nbuf && bcache_init(&bucketed512, "bench512", 512) != 0)
        return -1;
    if (!single64.nbuf && bcache_baseline_init(&single64, "bench.single64", HIT_NBUF) != 0)
        return -1;
    if (!single512.nbuf && bcache_baseline_init(&single512, "bench.single512", 512) != 0)
        return -1;
    return 0;
}

static void hit(struct bcache_ops ops, int nharts, int round)
{
    memset(&run, 0, sizeof(run));
    run = (struct run){.ops = ops,
                       .workload = "hit",
                       .round = round,
                       .nbuf = HIT_NBUF,
                       .nharts = nharts,
                       .nblocks = HIT_BLOCKS,
                       .ops_per_hart = HIT_BLOCKS};
    for (int c = 0; c < nharts; c++) /* hart c: blocks in buckets c, c + nharts, ... */
        for (uint64_t b = 1024, k = 0; k < HIT_BLOCKS; b++)
            if (bcache_disjoint_hart(1024, HIT_BLOCKS, nharts, b) == c)
                run.blocks[c][k++] = b;
    measure(0); /* load every block once: from now on only hits */
    run.ops_per_hart = 0;
    run.end_us = HIT_MS * 1000;
    measure(1);
}

/* Random reads of a set 4x the cache. A first unmeasured run fills the cache, so the
 * measured one sees the steady state: a miss evicts. */
static void miss(struct bcache_ops ops, int nbuf, int nharts, int round)
{
    memset(&run, 0, sizeof(run));
    run = (struct run){.ops = ops,
                       .workload = "miss",
                       .round = round,
                       .nbuf = nbuf,
                       .nharts = nharts,
                       .first = MISS_FIRST,
                       .count = 4 * (uint64_t)nbuf,
                       .ops_per_hart = 2 * (uint64_t)nbuf / (uint64_t)nharts};
    measure(0);
    run.ops_per_hart = 0;
    run.end_us = MISS_MS * 1000;
    measure(1);
}

static void test0(struct bcache_ops ops, int nharts, int round)
{
    memset(&run, 0, sizeof(run));
    run = (struct run){.ops = ops,
                       .workload = "test0",
                       .round = round,
                       .nbuf = HIT_NBUF,
                       .nharts = nharts,
                       .nblocks = TEST0_BLOCKS,
                       .ops_per_hart = TEST0_OPS / nharts};
    for (int c = 0; c < nharts; c++)
        for (int k = 0; k < TEST0_BLOCKS; k++)
            run.blocks[c][k] = 1536 + 32 * (uint64_t)c + (uint64_t)k;
    measure(1);
}

int bench_bufcache(void)
{
    if (virtio_blk_count() == 0 || virtio_blk_capacity(0) < MISS_FIRST + 4 * 512) {
        kprintf("bench bufcache: skipped: needs the test disk (4096 blocks) on disk 0\n");
        return -1;
    }
    if (init_caches() != 0)
        return -1;
    struct bcache_ops caches[2][2] = {
        {bcache_ops_bucketed(&bucketed64), bcache_ops_baseline(&single64)},
        {bcache_ops_bucketed(&bucketed512), bcache_ops_baseline(&single512)}};
    static const int harts[] = {1, 2, 4};
    int most = ncpu < 4 ? ncpu : 4;
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < 3 && harts[i] <= ncpu; i++)
            for (int k = 0; k < 2; k++)
                hit(caches[0][k], harts[i], round);
        for (int i = 0; i < 3 && harts[i] <= ncpu; i++)
            for (int k = 0; k < 2; k++)
                miss(caches[0][k], HIT_NBUF, harts[i], round);
        for (int k = 0; k < 2; k++) {
            miss(caches[1][k], 512, 1, round);
            miss(caches[1][k], 512, most, round);
        }
        for (int k = 0; k < 2; k++)
            test0(caches[0][k], most, round);
    }
    return 0;
}

/* --- bench=bufcache_trace: hit and miss on both caches at up to 4 harts, traced; each
 * run's last events are dumped for tools/trace.py. */
int bench_bufcache_trace(void)
{
    if (virtio_blk_count() == 0 || virtio_blk_capacity(0) < MISS_FIRST + 4 * 512) {
        kprintf("bench bufcache_trace: skipped: needs the test disk (4096 blocks) on disk 0\n");
        return -1;
    }
    if (init_caches() != 0)
        return -1;
    struct bcache_ops caches[2] = {bcache_ops_bucketed(&bucketed64),
                                   bcache_ops_baseline(&single64)};
    static const char *const labels[2][2] = {
        {"bufcache-bucketed", "bufcache-single-lock"},
        {"bufcache-bucketed-miss", "bufcache-single-lock-miss"}};
    int most = ncpu < 4 ? ncpu : 4;
    traced = 1;
    for (int k = 0; k < 2; k++) {
        hit(caches[k], most, 0);
        trace_dump(labels[0][k]);
    }
    for (int k = 0; k < 2; k++) {
        miss(caches[k], HIT_NBUF, most, 0);
        trace_dump(labels[1][k]);
    }
    traced = 0;
    return 0;
}
