/*
 * Description: benchmarks of the spinlock itself (kernel/spinlock.h) for `ninja bench`;
 * tools/bench_lock.py turns their lines into tables.
 *  - lock_instr: instructions per uncontended acquire+release pair of each lock kind,
 *    and of the same loop with no lock (kind=null), best of a few runs. Exact only on
 *    one hart under -icount shift=0, where rdinstret counts guest instructions.
 *  - lock_fair: every hart takes one shared lock over and over for FAIR_MS, first a
 *    test-and-set lock, then a ticket lock: acquisitions per hart, the most acquires
 *    by other harts while one hart waited (a ticket lock bounds it by harts - 1), the
 *    longest wait, contentions and bounces of each. Counts in a time window, so they vary from run
 *    to run; the spread between harts is the figure.
 *  - lock_bounces: bounces per operation of each design beside its single-lock
 *    baseline, every hart working for BOUNCE_MS: pmem (alloc+free pairs) and, with a
 *    disk, the buffer cache (every hart reading blocks of its own, all hits). Per
 *    operation, not per acquire: a design may take no lock at all on its common path.
 * Lines: BENCH bench=lock what=<instr|fair|bounces> key=value ...
 */
#include "tests/bench_lock.h"

#include "arch/riscv/csr.h"
#include "arch/riscv/timer.h"
#include "fs/bufcache.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/spinlock.h"
#include "lib/string.h"
#include "mm/pmem.h"
#include "tests/bcache_baseline.h"
#include "tests/ktest.h"
#include "tests/pmem_baseline.h"

#define INSTR_PAIRS 1000
#define INSTR_RUNS 5
#define FAIR_MS 2000    /* how long every hart takes the shared lock over and over */
#define FAIR_INSIDE 50  /* loop turns inside the critical section */
#define BOUNCE_MS 500   /* how long every hart works on each design */
#define BOUNCE_BLOCKS 8 /* blocks per hart for the cache */

static struct spinlock tas_lock, ticket_lock;

static void init_locks(void)
{
    if (!tas_lock.name) { /* once: lockstat keeps pointers to them */
        spinlock_init(&tas_lock, "bench.tas");
        spinlock_init_fair(&ticket_lock, "bench.ticket");
    }
}

/* Fewest instructions for INSTR_PAIRS pairs on lk (none at all for lk == 0). */
static uint64_t best_pairs(struct spinlock *lk)
{
    uint64_t best = UINT64_MAX;
    for (int run = 0; run < INSTR_RUNS; run++) {
        uint64_t i0 = rdinstret();
        for (int i = 0; i < INSTR_PAIRS; i++) {
            if (lk) {
                acquire(lk);
                release(lk);
            }
            __asm__ volatile("" ::: "memory"); /* keeps the empty loop a loop */
        }
        uint64_t n = rdinstret() - i0;
        best = n < best ? n : best;
    }
    return best;
}

int bench_lock_instr(void)
{
    init_locks();
    struct {
        const char *kind;
        struct spinlock *lk;
    } kinds[] = {{"null", 0}, {"tas", &tas_lock}, {"ticket", &ticket_lock}};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
        kprintf("BENCH bench=lock what=instr kind=%s harts=%d debug=%d pairs=%d instret=%lu\n",
                kinds[k].kind, ncpu, LOCK_CHECKS_ON, INSTR_PAIRS, best_pairs(kinds[k].lk));
    return 0;
}

/* Every worker waits here until all ncpu have arrived, so that they really overlap. */
static void start_line(int *arrived)
{
    __atomic_fetch_add(arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(arrived, __ATOMIC_ACQUIRE) < ncpu)
        ;
}

/* --- Fairness: one lock, every hart. */

static struct fair_run {
    struct spinlock *lk;
    int arrived;            /* atomic: harts at the start line */
    uint64_t end_us;        /* set before the workers start */
    uint64_t total;         /* under lk */
    uint64_t taken[NCPU];   /* under lk: acquisitions per hart */
    volatile uint64_t sink; /* the critical section's work */
} fair;

static void fair_worker(void *arg)
{
    (void)arg;
    int me = cpuid(); /* pinned by ktest_on_each_hart */
    start_line(&fair.arrived);
    for (;;) {
        acquire(fair.lk);
        fair.total++;
        fair.taken[me]++;
        for (int i = 0; i < FAIR_INSIDE; i++)
            fair.sink++;
        release(fair.lk);
        if (timer_now_us() >= fair.end_us)
            return;
    }
}

static void zero_counts(struct spinlock *lk)
{
    lk->acquires = lk->spins = lk->contentions = lk->bounces = 0;
    lk->wait_total = lk->wait_max = lk->hold_total = lk->hold_max = lk->overtaken_max = 0;
}

int bench_lock_fair(void)
{
    init_locks();
    struct spinlock *locks[] = {&tas_lock, &ticket_lock};
    for (int k = 0; k < 2; k++) {
        memset(&fair, 0, sizeof(fair));
        fair.lk = locks[k];
        fair.end_us = timer_now_us() + FAIR_MS * 1000; /* the start line costs little */
        zero_counts(fair.lk);
        ktest_on_each_hart(fair_worker, 0);
        uint64_t lo = UINT64_MAX, hi = 0;
        kprintf("BENCH bench=lock what=fair kind=%s harts=%d total=%lu taken=",
                spinlock_kind_name(fair.lk), ncpu, fair.total);
        for (int c = 0; c < ncpu; c++) {
            kprintf(c ? ",%lu" : "%lu", fair.taken[c]);
            lo = fair.taken[c] < lo ? fair.taken[c] : lo;
            hi = fair.taken[c] > hi ? fair.taken[c] : hi;
        }
        kprintf(" min=%lu max=%lu overtaken_max=%lu contentions=%lu bounces=%lu wait_max_us=%lu "
                "wait_total_us=%lu\n",
                lo, hi, fair.lk->overtaken_max, fair.lk->contentions, fair.lk->bounces,
                fair.lk->wait_max * 1000000 / timer_timebase_hz(),
                fair.lk->wait_total * 1000000 / timer_timebase_hz());
    }
    return 0;
}

/* --- Bounces per design: lock counters summed over the locks whose name starts so. */

struct lock_sum {
    const char *prefix;
    uint64_t acquires, contentions, bounces;
};

static void sum_named(struct spinlock *lk, void *arg)
{
    struct lock_sum *s = arg;
    if (strncmp(lk->name, s->prefix, strlen(s->prefix)) != 0)
        return;
    s->acquires += lk->acquires;
    s->contentions += lk->contentions;
    s->bounces += lk->bounces;
}

static struct lock_sum sum_locks(const char *prefix)
{
    struct lock_sum s = {.prefix = prefix};
    lockstat_foreach(sum_named, &s);
    return s;
}

static uint64_t ops_done; /* operations (alloc+free pairs, reads) of the current run */

static void print_bounces(const char *design, const char *variant, const char *prefix,
                          struct lock_sum a, struct lock_sum b)
{
    kprintf("BENCH bench=lock what=bounces design=%s variant=%s locks=%s* harts=%d ops=%lu "
            "acquires=%lu contentions=%lu bounces=%lu\n",
            design, variant, prefix, ncpu, ops_done, b.acquires - a.acquires,
            b.contentions - a.contentions, b.bounces - a.bounces);
}

static const struct pmem_ops *pmem_design;
static int arrived;
static uint64_t bounce_end_us; /* when the workers stop */

/* Harts are host threads: a run long enough for the host to interleave them. */
static void start_bounce_run(void)
{
    arrived = 0;
    ops_done = 0;
    bounce_end_us = timer_now_us() + BOUNCE_MS * 1000;
}

static void pmem_pairs(void *arg)
{
    (void)arg;
    start_line(&arrived);
    uint64_t i;
    for (i = 0; (i & 63) || timer_now_us() < bounce_end_us; i++) {
        void *p = pmem_design->alloc();
        if (p)
            pmem_design->free(p);
    }
    __atomic_fetch_add(&ops_done, i, __ATOMIC_RELAXED);
}

static void bounce_pmem(const struct pmem_ops *ops, const char *variant, const char *prefix)
{
    pmem_design = ops;
    struct lock_sum a = sum_locks(prefix);
    start_bounce_run();
    ktest_on_each_hart(pmem_pairs, 0);
    print_bounces("pmem", variant, prefix, a, sum_locks(prefix));
}

static struct bcache_ops cache_design;

static void cache_reads(void *arg)
{
    (void)arg;
    int me = cpuid();
    uint64_t mine[BOUNCE_BLOCKS]; /* this hart's own blocks, in buckets of its own */
    for (uint64_t b = 2048, k = 0; k < BOUNCE_BLOCKS; b++)
        if (bcache_disjoint_hart(2048, BOUNCE_BLOCKS, ncpu, b) == me)
            mine[k++] = b;
    start_line(&arrived);
    uint64_t i;
    for (i = 0; (i & 63) || timer_now_us() < bounce_end_us; i++) {
        void *h;
        uint8_t *data;
        if (cache_design.bread(cache_design.cache, 0, mine[i % BOUNCE_BLOCKS], &h, &data) == 0)
            cache_design.brelse(h);
    }
    __atomic_fetch_add(&ops_done, i, __ATOMIC_RELAXED);
}

static void bounce_cache(struct bcache_ops ops, const char *variant, const char *prefix)
{
    cache_design = ops;
    start_bounce_run();
    ktest_on_each_hart(cache_reads, 0); /* loads the blocks: from now on all hits */
    struct lock_sum a = sum_locks(prefix);
    start_bounce_run();
    ktest_on_each_hart(cache_reads, 0);
    print_bounces("bufcache", variant, prefix, a, sum_locks(prefix));
}

int bench_lock_bounces(void)
{
    size_t pages = (size_t)ncpu * 64;
    if (pmem_baseline_setup(pages) != pages) {
        kprintf("hartos: error: bench lock_bounces: no %lu pages for the baseline pool\n",
                (unsigned long)pages);
        pmem_baseline_teardown();
        return -1;
    }
    bounce_pmem(&pmem_ops_percpu, "per-cpu", "pmem.cpu");
    bounce_pmem(&pmem_ops_baseline, "baseline", "pmem.baseline");
    pmem_baseline_teardown();
    static struct bcache bucketed;
    static struct bcache_baseline single;
    if (!bucketed.nbuf && (bcache_init(&bucketed, "bounce", 64) != 0 ||
                           bcache_baseline_init(&single, "bounce.single", 64) != 0)) {
        kprintf("bench lock_bounces: no disk: the buffer cache rows are left out\n");
        return 0;
    }
    bounce_cache(bcache_ops_bucketed(&bucketed), "bucketed", "bounce.bucket");
    bounce_cache(bcache_ops_baseline(&single), "baseline", "bounce.single");
    return 0;
}
