/*
 * Description: the pmem benchmarks (see bench_pmem.h and bench.h for the output).
 *
 * bench_pmem runs each workload on every online hart at once, first over the per-CPU
 * lists, then over the single-lock baseline, ROUNDS times; tools/bench.py takes the
 * median. Alternating in one boot keeps the comparison fair on a noisy host.
 *  - pairs: each hart does PAIRS rounds of alloc, write one word, free. This is the
 *    shape of xv6's lock lab kalloctest test1 (2 processes x 100,000 sbrk rounds), so
 *    the 2-hart run's spins per acquire can be set beside the lab's numbers.
 *  - bursts: each hart allocates BURST pages, writes one word in each, frees them all.
 *  - steal: every pmem page starts on CPU 0's list; each other hart allocates
 *    STEAL_PAGES pages then frees them: every page a thief gets is stolen, in batches.
 *    (The baseline has no lists to steal from; it runs the same loop for comparison.)
 * The pairs workload also runs over the `lock` calibration below: its rate is the
 * best any allocator taking one lock per call can reach on this machine.
 * Before every per-CPU run the pages are dealt out evenly over the lists, so that
 * pairs and bursts work on each hart's own list only: their spins, contentions and
 * bounces should be 0.
 *
 * bench_pmem_instr counts instructions per alloc+free pair with rdinstret on the
 * calling hart: the best of INSTR_RUNS runs (a run a timer tick lands in counts the
 * interrupt handler too). Two calibration rows go with it: `null`, the same loop over
 * empty functions (the loop's own cost), and `lock`, functions that only take and drop
 * a spinlock (what kernel/spinlock.c costs per call, which no allocator with a lock
 * per call can go below).
 *
 * bench_pmem_drain is the steal-heavy case: one hart drains every page while the
 * others allocate and free single pages (see its section below).
 */
#include "tests/bench_pmem.h"

#include "arch/riscv/csr.h"
#include "arch/riscv/timer.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/spinlock.h"
#include "kernel/trace.h"
#include "mm/pmem.h"
#include "tests/ktest.h"
#include "tests/pmem_baseline.h"

#ifndef PMEM_POISON
#define PMEM_POISON 0
#endif

#define ROUNDS 9
#define PAIRS 100000      /* per hart and run, as kalloctest's N */
#define BURST 64          /* pages held at once per hart */
#define BURST_ROUNDS 1500 /* per hart and run: 96,000 pairs */
#define STEAL_PAGES 2048  /* per thief and run */
#define POOL_PAGES 12288  /* the baseline's pool (48 MiB): enough for every workload */
#define INSTR_PAIRS 1000
#define INSTR_RUNS 20

/*
 * Calibration "allocators", for scale: `null` returns one static page and frees
 * nothing (the cost of the loop and the calls); `lock` takes and drops a spinlock of
 * its own hart per call and nothing else, so no allocator with a lock per call can be
 * cheaper or scale better than it.
 */
static char null_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
/* One per hart, never shared, each on cache lines of its own (as pmem's are). */
static struct calibration_lock {
    struct spinlock lock;
} __attribute__((aligned(64))) calibration_locks[NCPU];

/* Naked: no stack frame (a C function gets one, -fno-omit-frame-pointer), as the
 * allocators' fast paths have none, so that this row is the loop and the calls alone. */
__attribute__((naked, noinline)) static void *null_alloc(void)
{
    __asm__("lla a0, null_page\n"
            "ret");
}

__attribute__((naked, noinline)) static void null_free(void *pa)
{
    (void)pa;
    __asm__("ret");
}

static void null_lock_counts(struct lock_counts *out) { *out = (struct lock_counts){0}; }

__attribute__((noinline)) static void *lock_alloc(void)
{
    struct spinlock *lk = &calibration_locks[cpuid()].lock; /* a pinned thread: stays put */
    acquire(lk);
    release(lk);
    return null_page;
}

__attribute__((noinline)) static void lock_free(void *pa)
{
    (void)pa;
    struct spinlock *lk = &calibration_locks[cpuid()].lock;
    acquire(lk);
    release(lk);
}

static void lock_lock_counts(struct lock_counts *out)
{
    *out = (struct lock_counts){0};
    for (int i = 0; i < NCPU; i++) {
        out->acquires += calibration_locks[i].lock.acquires;
        out->spins += calibration_locks[i].lock.spins;
        out->contentions += calibration_locks[i].lock.contentions;
        out->bounces += calibration_locks[i].lock.bounces;
    }
}

static const struct pmem_ops null_ops = {"null", null_alloc, null_free, null_lock_counts};
static const struct pmem_ops lock_ops = {"lock", lock_alloc, lock_free, lock_lock_counts};

static void init_calibration(void)
{
    if (!calibration_locks[0].lock.name) /* once: lockstat keeps pointers to them */
        for (int i = 0; i < NCPU; i++)
            spinlock_init(&calibration_locks[i].lock, "bench.calibration");
}

enum workload { PAIRS_RUN, BURSTS_RUN, STEAL_RUN };
static const char *const workload_names[] = {"pairs", "bursts", "steal"};

struct run {
    const struct pmem_ops *ops;
    enum workload w;
    int start_arrived, failed;
    uint64_t t0[NCPU], t1[NCPU], pairs[NCPU];
};

/* Every hart waits until all have arrived, so that the timed loops overlap. */
static void start_together(struct run *r)
{
    __atomic_add_fetch(&r->start_arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&r->start_arrived, __ATOMIC_ACQUIRE) < ncpu)
        ;
}

static uint64_t pairs_loop(const struct pmem_ops *ops)
{
    for (int i = 0; i < PAIRS; i++) {
        volatile int *p = ops->alloc();
        if (!p)
            return i;
        p[1] = 1; /* kalloctest's *(int *)(a + 4) = 1 */
        ops->free((void *)p);
    }
    return PAIRS;
}

static uint64_t bursts_loop(const struct pmem_ops *ops)
{
    void *held[BURST];
    for (int r = 0; r < BURST_ROUNDS; r++) {
        for (int i = 0; i < BURST; i++) {
            held[i] = ops->alloc();
            if (!held[i])
                return (uint64_t)r * BURST;
            *(volatile int *)held[i] = i;
        }
        for (int i = 0; i < BURST; i++)
            ops->free(held[i]);
    }
    return (uint64_t)BURST_ROUNDS * BURST;
}

/* Chains the pages through their first word: STEAL_PAGES pointers would not fit a stack. */
static uint64_t steal_loop(const struct pmem_ops *ops)
{
    if (cpuid() == 0)
        return 0; /* CPU 0 holds the pages; the others take them */
    void *chain = 0;
    uint64_t n = 0;
    for (; n < STEAL_PAGES; n++) {
        void **p = ops->alloc();
        if (!p)
            break;
        *p = chain;
        chain = p;
    }
    while (chain) {
        void *next = *(void **)chain;
        ops->free(chain);
        chain = next;
    }
    return n;
}

static void worker(void *arg)
{
    struct run *r = arg;
    int me = cpuid(); /* pinned by ktest_on_each_hart */
    start_together(r);
    uint64_t t0 = rdtime(), n;
    switch (r->w) {
    case PAIRS_RUN:
        n = pairs_loop(r->ops);
        break;
    case BURSTS_RUN:
        n = bursts_loop(r->ops);
        break;
    default:
        n = steal_loop(r->ops);
        break;
    }
    r->t1[me] = rdtime();
    r->t0[me] = t0;
    r->pairs[me] = n;
    uint64_t wanted = r->w == PAIRS_RUN    ? PAIRS
                      : r->w == BURSTS_RUN ? (uint64_t)BURST_ROUNDS * BURST
                      : me                 ? STEAL_PAGES
                                           : 0;
    if (n != wanted)
        __atomic_store_n(&r->failed, 1, __ATOMIC_RELAXED);
}

/* All pmem pages onto one list per hart, evenly, in runs of consecutive pages (as
 * pmem_init deals them, so that harts do not share bitmap cache lines); or all onto
 * CPU 0's. The pages are chained through their first word meanwhile. */
static void *deal[NCPU];

static void free_dealt(void *arg)
{
    (void)arg;
    for (void *p = deal[cpuid()], *next; p; p = next) {
        next = *(void **)p;
        pmem_free(p);
    }
    deal[cpuid()] = 0;
}

static void spread_pages(int onto_cpu0_only)
{
    size_t n = pmem_free_pages(), i = 0;
    for (void *p; (p = pmem_alloc()) != 0; i++) {
        int k = onto_cpu0_only || i >= n ? 0 : (int)(i * ncpu / n);
        *(void **)p = deal[k];
        deal[k] = p;
    }
    /* A few pages stay out on CPU 0's list for the worker threads' stacks. */
    for (int i = 0; i < 2 * ncpu && deal[0]; i++) {
        void *p = deal[0];
        deal[0] = *(void **)p;
        pmem_free(p);
    }
    if (onto_cpu0_only)
        free_dealt(0); /* on CPU 0, the runner's hart */
    else
        ktest_on_each_hart(free_dealt, 0);
}

static void steal_counts(uint64_t *steals, uint64_t *stolen)
{
    struct pmem_stats s;
    *steals = *stolen = 0;
    for (int cpu = 0; pmem_stats(cpu, &s) == 0; cpu++) {
        *steals += s.steals;
        *stolen += s.stolen;
    }
}

static void print_list(const char *key, const uint64_t *v)
{
    kprintf(" %s=", key);
    for (int i = 0; i < ncpu; i++)
        kprintf(i ? ",%lu" : "%lu", v[i]);
}

static int measure(const struct pmem_ops *ops, enum workload w, int round)
{
    static struct run r; /* shared with the workers; too big for a stack */
    if (ops == &pmem_ops_percpu)
        spread_pages(w == STEAL_RUN);
    r = (struct run){.ops = ops, .w = w};
    struct lock_counts l0, l1;
    uint64_t steals0, stolen0, steals1, stolen1;
    ops->lock_counts(&l0);
    steal_counts(&steals0, &stolen0);
    ktest_on_each_hart(worker, &r);
    ops->lock_counts(&l1);
    steal_counts(&steals1, &stolen1);
    if (ops != &pmem_ops_percpu)
        steals1 = steals0, stolen1 = stolen0; /* CPU 0's stack allocations meanwhile */
    uint64_t start = r.t0[0], end = r.t1[0];
    for (int i = 1; i < ncpu; i++) {
        start = r.t0[i] < start ? r.t0[i] : start;
        end = r.t1[i] > end ? r.t1[i] : end;
    }
    static uint64_t ticks[NCPU]; /* off the one-page stack */
    for (int i = 0; i < ncpu; i++)
        ticks[i] = r.t1[i] - r.t0[i];
    kprintf("BENCH bench=pmem alloc=%s workload=%s round=%d harts=%d poison=%d timebase=%lu",
            ops->name, workload_names[w], round, ncpu, PMEM_POISON, timer_timebase_hz());
    print_list("pairs", r.pairs);
    print_list("ticks", ticks);
    kprintf(" wall=%lu acquires=%lu spins=%lu contentions=%lu bounces=%lu steals=%lu stolen=%lu\n",
            end - start, l1.acquires - l0.acquires, l1.spins - l0.spins,
            l1.contentions - l0.contentions, l1.bounces - l0.bounces, steals1 - steals0,
            stolen1 - stolen0);
    if (r.failed)
        kprintf("hartos: error: bench pmem/%s/%s: an allocation failed\n", ops->name,
                workload_names[w]);
    return r.failed ? -1 : 0;
}

int bench_pmem(void)
{
    size_t got = pmem_baseline_setup(POOL_PAGES);
    if (got < POOL_PAGES) {
        kprintf("hartos: error: bench pmem: the baseline pool got %lu of %d pages; "
                "give QEMU more memory\n",
                got, POOL_PAGES);
        pmem_baseline_teardown();
        return -1;
    }
    init_calibration();
    int failed = 0;
    for (int round = 0; round < ROUNDS; round++)
        for (enum workload w = PAIRS_RUN; w <= STEAL_RUN; w++) {
            if (w == STEAL_RUN && ncpu < 2)
                continue; /* nobody to steal */
            if (w == PAIRS_RUN)
                failed |= measure(&lock_ops, w, round);
            failed |= measure(&pmem_ops_percpu, w, round);
            failed |= measure(&pmem_ops_baseline, w, round);
        }
    pmem_stats_print();
    if (pmem_baseline_teardown() != 0) {
        kprintf("hartos: error: bench pmem: baseline pages not given back\n");
        failed = 1;
    }
    return failed ? -1 : 0;
}

/* --- Instructions per pair. */

static uint64_t best_instret(const struct pmem_ops *ops)
{
    uint64_t best = UINT64_MAX;
    for (int run = 0; run < INSTR_RUNS; run++) {
        uint64_t i0 = rdinstret();
        for (int i = 0; i < INSTR_PAIRS; i++)
            ops->free(ops->alloc());
        uint64_t n = rdinstret() - i0;
        best = n < best ? n : best;
    }
    return best;
}

int bench_pmem_instr(void)
{
    if (pmem_baseline_setup(64) < 64) {
        kprintf("hartos: error: bench pmem_instr: no pages for the baseline pool\n");
        pmem_baseline_teardown();
        return -1;
    }
    init_calibration();
    const struct pmem_ops *all[] = {&null_ops, &lock_ops, &pmem_ops_percpu, &pmem_ops_baseline};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        kprintf("BENCH bench=pmem_instr alloc=%s workload=pairs harts=%d poison=%d pairs=%d "
                "instret=%lu\n",
                all[i]->name, ncpu, PMEM_POISON, INSTR_PAIRS, best_instret(all[i]));
    return pmem_baseline_teardown() == 0 ? 0 : -1;
}

/* --- bench=pmem_drain (ninja bench boots it at 4 harts and 2 GiB, under -icount):
 * steal-heavy. CPU 0 allocates every free page, page by page, then frees them all,
 * DRAIN_ROUNDS times, while every other hart allocates and frees single pages. At each
 * of CPU 0's NULLs, `missed` counts the pages it did not get: the others hold at most
 * one each, so anything more would be a NULL while pages were free. The same workload
 * then runs over the single-lock baseline, on a pool of (almost) every page.
 * Each hart times every call with rdtime: no pmem lock is held longer than the longest
 * call that took it. With every hart busy that time also counts the turns QEMU gives
 * the other harts (or the host its other work), so a last `solo` run lets CPU 0 drain
 * alone while the others sleep: under -icount shift=0 time is then its own
 * instructions (1 ns each), except when a timer tick wakes some hart's handler; the
 * longest `quiet` call (no tick anywhere meanwhile) is the most work any pmem critical
 * section on its path did, whatever the memory size. */

#define DRAIN_ROUNDS 3
#define DRAIN_SLOW_US 20 /* calls longer than this are counted */

static struct drain_run {
    const struct pmem_ops *ops;
    int solo; /* only CPU 0 works */
    int arrived, go, stop;
    uint64_t slow_ticks;          /* DRAIN_SLOW_US in timebase ticks */
    uint64_t pages, held, missed; /* CPU 0: free at the start, its last drain, the most missed */
    uint64_t calls[NCPU], slow[NCPU]; /* per hart: calls, calls over DRAIN_SLOW_US */
    uint64_t longest[NCPU], nulls[NCPU];
    uint64_t quiet[NCPU]; /* the longest call while no hart took a timer tick */
} drain;

/* One call's time goes into this hart's figures. */
/* Timer interrupts taken so far by all harts (each one is a turn of some handler). */
static uint64_t all_ticks(void)
{
    uint64_t n = 0;
    for (int i = 0; i < ncpu; i++)
        n += cpus[i].ticks;
    return n;
}

/* One call's time goes into this hart's figures; `quiet` ones saw no timer tick on any
 * hart (no handler ran between its instructions). */
static void drain_note(int me, uint64_t t0, uint64_t ticks0)
{
    uint64_t t = rdtime() - t0;
    drain.calls[me]++;
    drain.slow[me] += t > drain.slow_ticks;
    drain.longest[me] = t > drain.longest[me] ? t : drain.longest[me];
    if (all_ticks() == ticks0)
        drain.quiet[me] = t > drain.quiet[me] ? t : drain.quiet[me];
}

static void drain_worker(void *arg)
{
    (void)arg;
    int me = cpuid(); /* pinned by ktest_on_each_hart */
    const struct pmem_ops *ops = drain.ops;
    __atomic_add_fetch(&drain.arrived, 1, __ATOMIC_ACQ_REL);
    while (__atomic_load_n(&drain.arrived, __ATOMIC_ACQUIRE) < ncpu)
        ;          /* every worker is up, its stack allocated, and nobody holds a page */
    if (me == 0) { /* count the pages, then let everyone go */
        drain.pages = ops == &pmem_ops_percpu ? pmem_free_pages() : pmem_baseline_free_pages();
        __atomic_store_n(&drain.go, 1, __ATOMIC_RELEASE);
    }
    while (!__atomic_load_n(&drain.go, __ATOMIC_ACQUIRE))
        ;
    if (me != 0) {
        while (!drain.solo && !__atomic_load_n(&drain.stop, __ATOMIC_RELAXED)) {
            uint64_t k0 = all_ticks(), t0 = rdtime();
            volatile int *p = ops->alloc();
            drain_note(me, t0, k0);
            if (!p) {
                drain.nulls[me]++; /* CPU 0 holds every page: expected, try again */
                continue;
            }
            p[1] = 1;
            k0 = all_ticks(), t0 = rdtime();
            ops->free((void *)p);
            drain_note(me, t0, k0);
        }
        return;
    }
    for (int round = 0; round < DRAIN_ROUNDS; round++) {
        void *chain = 0;
        uint64_t n = 0;
        for (;; n++) {
            uint64_t k0 = all_ticks(), t0 = rdtime();
            void **p = ops->alloc();
            drain_note(me, t0, k0);
            if (!p)
                break;
            *p = chain;
            chain = p;
        }
        drain.nulls[me]++;
        drain.held = n;
        uint64_t missed = drain.pages > n ? drain.pages - n : 0;
        drain.missed = missed > drain.missed ? missed : drain.missed;
        while (chain) {
            void *next = *(void **)chain;
            uint64_t k0 = all_ticks(), t0 = rdtime();
            ops->free(chain);
            drain_note(me, t0, k0);
            chain = next;
        }
    }
    __atomic_store_n(&drain.stop, 1, __ATOMIC_RELAXED);
}

static int drain_measure(const struct pmem_ops *ops, int solo)
{
    struct lock_counts l0, l1;
    if (ops == &pmem_ops_percpu)
        spread_pages(0); /* as at boot: every list holds its share, CPU 0 must steal */
    drain = (struct drain_run){
        .ops = ops, .solo = solo, .slow_ticks = DRAIN_SLOW_US * timer_timebase_hz() / 1000000};
    ops->lock_counts(&l0);
    ktest_on_each_hart(drain_worker, 0);
    ops->lock_counts(&l1);
    uint64_t longest = 0, over = 0, calls = 0, quiet = 0;
    for (int i = 0; i < ncpu; i++) {
        quiet = drain.quiet[i] > quiet ? drain.quiet[i] : quiet;
        longest = drain.longest[i] > longest ? drain.longest[i] : longest;
        over += drain.slow[i];
        calls += drain.calls[i];
    }
    uint64_t ns = 1000000000 / timer_timebase_hz();
    kprintf("BENCH bench=pmem_drain alloc=%s solo=%d harts=%d poison=%d pages=%lu rounds=%d "
            "held=%lu "
            "missed=%lu nulls0=%lu calls=%lu longest_ns=%lu longest0_ns=%lu over_%dus=%lu "
            "quiet_ns=%lu acquires=%lu contentions=%lu bounces=%lu\n",
            ops->name, solo, ncpu, PMEM_POISON, drain.pages, DRAIN_ROUNDS, drain.held, drain.missed,
            drain.nulls[0], calls, longest * ns, drain.longest[0] * ns, DRAIN_SLOW_US, over,
            quiet * ns, l1.acquires - l0.acquires, l1.contentions - l0.contentions,
            l1.bounces - l0.bounces);
    return drain.missed < (uint64_t)(solo ? 1 : ncpu) ? 0 : -1;
}

int bench_pmem_drain(void)
{
    if (ncpu < 2) {
        kprintf("hartos: error: bench pmem_drain: needs 2 harts or more\n");
        return -1;
    }
    int failed = drain_measure(&pmem_ops_percpu, 0);
    /* The baseline's pool: every page but a few for thread stacks. */
    size_t want = pmem_free_pages() - 4 * (size_t)ncpu;
    if (pmem_baseline_setup(want) < want) {
        kprintf("hartos: error: bench pmem_drain: no pages for the baseline pool\n");
        pmem_baseline_teardown();
        return -1;
    }
    failed |= drain_measure(&pmem_ops_baseline, 0);
    failed |= pmem_baseline_teardown() != 0;
    lockstat_reset(); /* lockstat's hold times (Debug builds) of the solo run alone */
    failed |= drain_measure(&pmem_ops_percpu, 1);
    pmem_stats_print();
    lockstat_print();
    return failed ? -1 : 0;
}

/* --- bench=pmem_trace (ninja trace-pmem): each allocator traced under the pairs
 * workload on every hart, then dumped for tools/trace.py. Timed, not counted: every
 * hart stops at the same moment, so the newest events (what a ring keeps) cover the
 * same stretch of time on every hart. Then the steal workload, traced the same way. */

#define TRACE_MS 40

static struct traced_run {
    const struct pmem_ops *ops;
    uint64_t start, stop; /* rdtime */
    int failed;
} traced;

static void traced_pairs(void *arg)
{
    struct traced_run *t = arg;
    while (rdtime() < t->start) /* every worker is up: they start together */
        ;
    while (rdtime() < t->stop) {
        volatile int *p = t->ops->alloc();
        if (!p) {
            __atomic_store_n(&t->failed, 1, __ATOMIC_RELAXED);
            return;
        }
        p[1] = 1;
        t->ops->free((void *)p);
    }
}

static void traced_steal(void *arg)
{
    struct traced_run *t = arg;
    if (cpuid() != 0 && steal_loop(t->ops) != STEAL_PAGES)
        __atomic_store_n(&t->failed, 1, __ATOMIC_RELAXED);
}

static int trace_run(const struct pmem_ops *ops, void (*fn)(void *), const char *label)
{
    uint64_t ms = timer_timebase_hz() / 1000;
    traced = (struct traced_run){ops, rdtime() + 20 * ms, rdtime() + (20 + TRACE_MS) * ms, 0};
    trace_start();
    ktest_on_each_hart(fn, &traced);
    trace_dump(label);
    if (traced.failed)
        kprintf("hartos: error: bench pmem_trace: %s: an allocation failed\n", label);
    return traced.failed ? -1 : 0;
}

int bench_pmem_trace(void)
{
    if (pmem_baseline_setup(POOL_PAGES) < POOL_PAGES) {
        kprintf("hartos: error: bench pmem_trace: no pages for the baseline pool\n");
        pmem_baseline_teardown();
        return -1;
    }
    int failed = trace_run(&pmem_ops_percpu, traced_pairs, "pmem-percpu");
    failed |= trace_run(&pmem_ops_baseline, traced_pairs, "pmem-baseline");
    if (ncpu > 1) {
        spread_pages(1); /* every page on CPU 0's list: the others must steal */
        failed |= trace_run(&pmem_ops_percpu, traced_steal, "pmem-percpu-steal");
    }
    return pmem_baseline_teardown() == 0 && !failed ? 0 : -1;
}
