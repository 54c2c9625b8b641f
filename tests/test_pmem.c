/*
 * Description: suite `pmem`: the per-CPU page allocator (mm/pmem.c).
 *  - allocating every page then freeing every page gives back exactly the count
 *  - new pages carry PMEM_POISON_ALLOC, freed ones PMEM_POISON_FREE (poisoning builds)
 *  - every hart allocates and frees in random bursts, stamping its id into every word
 *    of each page and checking the stamp before the free: a page handed to two harts
 *    at once shows up as a foreign stamp
 *  - the same with only a few hundred pages to go round, so that harts steal from each
 *    other all the time while the victims allocate and free
 *  - the steal path: with every page on CPU 0's list, the other harts must steal, in
 *    batches of at most PMEM_BATCH pages; every page and every counter is accounted for
 *  - one steal from a list of full batches moves exactly PMEM_BATCH pages
 *  - exhaustion: every hart at once sees NULL, and allocation works again after frees
 *  - NULL means empty: harts drain every list at once, stealing from each other, and
 *    none gets NULL while pmem_free_pages() still counts a page
 *  - while every hart works on its own list, no pmem lock is ever contended or moves
 *    to another hart (contentions and bounces)
 *  - the single-lock baseline (tests/pmem_baseline.c) survives the same burst stress
 * Tests of per-list behaviour ask pmem_ncpu() at run time: with one list (the lab's
 * starter) there is nothing to steal, and every hart shares the one lock.
 * Every test ends by checking the accounting the counters promise (pmem.h): per CPU,
 * the list changed by frees - allocs + stolen - robbed, and stolen == robbed overall.
 * The stress test takes its seed from `seed=` on the command line, or the clock, and
 * prints it. Suites panic_pmem_double_free and panic_pmem_foreign must panic.
 */
#include "arch/riscv/csr.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/machine.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "mm/pmem.h"
#include "tests/ktest.h"
#include "tests/pmem_baseline.h"

/* --- Helpers: counters, chains of held pages, a barrier, random numbers. */

struct snapshot {
    struct pmem_stats cpu[NCPU];
    size_t free_pages;
};

static void snapshot(struct snapshot *s)
{
    for (int i = 0; i < pmem_ncpu(); i++)
        pmem_stats(i, &s->cpu[i]);
    s->free_pages = pmem_free_pages();
}

/* The accounting promised in pmem.h, between two quiet moments. */
static void check_accounting(const struct snapshot *a, const struct snapshot *b)
{
    uint64_t stolen = 0, robbed = 0, listed = 0;
    for (int i = 0; i < pmem_ncpu(); i++) {
        const struct pmem_stats *x = &a->cpu[i], *y = &b->cpu[i];
        int64_t moved = (int64_t)(y->frees - x->frees) - (int64_t)(y->allocs - x->allocs) +
                        (int64_t)(y->stolen - x->stolen) - (int64_t)(y->robbed - x->robbed);
        KEXPECT_EQ((int64_t)(y->free_pages - x->free_pages), moved);
        stolen += y->stolen - x->stolen;
        robbed += y->robbed - x->robbed;
        listed += y->free_pages;
    }
    KEXPECT_EQ(stolen, robbed);
    KEXPECT_EQ(listed, b->free_pages);
}

/* Held pages are chained through their first word (a test holds thousands of them). */
static void chain_push(void **chain, void *page)
{
    *(void **)page = *chain;
    *chain = page;
}

static void *chain_pop(void **chain)
{
    void *page = *chain;
    if (page)
        *chain = *(void **)page;
    return page;
}

static size_t chain_free(void **chain)
{
    size_t n = 0;
    for (void *p; (p = chain_pop(chain)) != 0; n++)
        pmem_free(p);
    return n;
}

/* All harts wait here until `n` have arrived; reusable (a generation counter). */
struct barrier {
    int n;
    int arrived, generation;
};

static void barrier_wait(struct barrier *b)
{
    int gen = __atomic_load_n(&b->generation, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == b->n) {
        __atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&b->generation, gen + 1, __ATOMIC_RELEASE);
    } else {
        while (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) == gen)
            ;
    }
}

static uint64_t next_random(uint64_t *state) /* xorshift64: enough for test patterns */
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* The seed=... option, or the clock; printed so that a failing run can be repeated. */
static uint64_t stress_seed(void)
{
    uint64_t seed;
    if (cmdline_get_u64("seed", &seed) != 0)
        seed = rdtime();
    kprintf("    # seed=%lu (repeat with seed=%lu on the kernel command line)\n", seed, seed);
    return seed;
}

/* Takes every page on this CPU and frees them here: afterwards all sit on one list. */
static size_t gather_on_this_cpu(void)
{
    void *chain = 0;
    for (void *p; (p = pmem_alloc()) != 0;)
        chain_push(&chain, p);
    return chain_free(&chain);
}

static int is_page_of_ram(void *p)
{
    return (uintptr_t)p % PAGE_SIZE == 0 && machine_is_ram((uintptr_t)p, PAGE_SIZE);
}

/* --- Conservation. */

KTEST(pmem, alloc_all_then_free_all_conserves_pages)
{
    static struct snapshot before, after; /* 64 per-CPU rows: too big for a one-page stack */
    snapshot(&before);
    size_t n0 = before.free_pages, n = 0, bad = 0;
    KASSERT_GT(n0, 0);
    void *chain = 0;
    for (void *p; (p = pmem_alloc()) != 0; n++) {
        bad += !is_page_of_ram(p);
        chain_push(&chain, p);
    }
    KEXPECT_EQ(n, n0);
    KEXPECT_EQ(bad, 0);
    KEXPECT_EQ(pmem_free_pages(), 0);
    KEXPECT_TRUE(pmem_alloc() == 0); /* still empty: NULL, not a panic */
    KEXPECT_EQ(chain_free(&chain), n);
    KEXPECT_EQ(pmem_free_pages(), n0);
    snapshot(&after);
    check_accounting(&before, &after);
    /* CPU 0 emptied every other list by stealing, at most PMEM_BATCH pages at a time:
     * all of each list's full batches, then what was left, if anything. */
    uint64_t steals = after.cpu[0].steals - before.cpu[0].steals;
    uint64_t stolen = after.cpu[0].stolen - before.cpu[0].stolen, others = 0, most = 0;
    for (int i = 1; i < pmem_ncpu(); i++) {
        others += before.cpu[i].free_pages;
        most += before.cpu[i].free_pages / PMEM_BATCH + 1;
    }
    kprintf("    # %lu pages; cpu 0 stole %lu times, %lu pages\n", n, steals, stolen);
    KEXPECT_EQ(stolen, others);
    KEXPECT_LE(stolen, steals * PMEM_BATCH);
    KEXPECT_LE(steals, most);
}

KTEST(pmem, pages_are_poisoned)
{
#if PMEM_POISON
    uint8_t *p = pmem_alloc();
    KASSERT_TRUE(p != 0);
    size_t wrong = 0;
    for (int i = 0; i < PAGE_SIZE; i++)
        wrong += p[i] != PMEM_POISON_ALLOC;
    KEXPECT_EQ(wrong, 0);
    pmem_free(p);
    /* Peeking at a freed page is what a use after free does; here it is on purpose, and
     * safe: the page sits on this CPU's list and nothing else runs here. */
    for (int i = PMEM_LINK_BYTES; i < PAGE_SIZE; i++) /* not the free-list links */
        wrong += p[i] != PMEM_POISON_FREE;
    KEXPECT_EQ(wrong, 0);
#else
    ktest_skip("built without HARTOS_POISON");
#endif
}

/* --- Every hart at once, in bursts, with stamps. */

#define BURST_ROUNDS 200
#define BURST_MAX 48

struct burst_args {
    const struct pmem_ops *ops; /* the same stress drives pmem and the baseline */
    int rounds;
    int pass_on; /* hand each checked burst to the next hart, which frees it */
    uint64_t seed;
    struct barrier start, done;
    void *mailbox[NCPU]; /* chains of checked pages waiting for hart i to free them */
};

static uint64_t stamp_of(int cpu, int round)
{
    return 0x5354000000000000UL | (uint64_t)cpu << 32 | round;
}

/* Frees a chain another hart checked and passed on; its pages must still be whole. */
static void free_passed_on(struct burst_args *a, void *chain)
{
    for (uint64_t *p; (p = chain_pop(&chain)) != 0;) {
        if (p[1] >> 48 != stamp_of(0, 0) >> 48 || p[PAGE_SIZE / 8 - 1] != p[1])
            ktest_fail(__FILE__, __LINE__, "cpu %d: passed-on page %p was changed: 0x%lx 0x%lx",
                       cpuid(), (void *)p, p[1], p[PAGE_SIZE / 8 - 1]);
        a->ops->free(p);
    }
}

static void burst_worker(void *arg)
{
    struct burst_args *a = arg;
    int me = cpuid(); /* stable: ktest_on_each_hart pins the thread */
    uint64_t rng = a->seed ^ (0x9e3779b97f4a7c15UL * (me + 1));
    barrier_wait(&a->start);
    for (int round = 0; round < a->rounds; round++) {
        int n = 1 + next_random(&rng) % BURST_MAX;
        uint64_t stamp = stamp_of(me, round);
        void *chain = 0;
        for (int i = 0; i < n; i++) {
            uint64_t *p = a->ops->alloc();
            /* With little memory, every page may be in other harts' hands for a
             * moment: NULL is right then. Retry. */
            for (int tries = 0; !p && tries < 1000; tries++) {
                thread_yield();
                p = a->ops->alloc();
            }
            if (!p) {
                ktest_fail(__FILE__, __LINE__, "cpu %d: out of memory after %d pages", me, i);
                break;
            }
            for (int w = 1; w < PAGE_SIZE / 8; w++) /* word 0 becomes the chain link */
                p[w] = stamp;
            chain_push(&chain, p);
        }
        void *checked = 0;
        for (uint64_t *p; (p = chain_pop(&chain)) != 0;) {
            for (int w = 1; w < PAGE_SIZE / 8; w++)
                if (p[w] != stamp) {
                    ktest_fail(__FILE__, __LINE__,
                               "cpu %d: page %p word %d is 0x%lx, not this hart's 0x%lx", me,
                               (void *)p, w, p[w], stamp);
                    break;
                }
            if (a->pass_on)
                chain_push(&checked, p);
            else
                a->ops->free(p);
        }
        if (a->pass_on) {
            /* Pages move on: allocated on this hart, freed on the next, so lists drain
             * and refill unevenly and harts must steal. A burst the next hart has not
             * collected yet comes back here and is freed here. */
            void *mine = __atomic_exchange_n(&a->mailbox[me], 0, __ATOMIC_ACQ_REL);
            free_passed_on(a, mine);
            void *old =
                __atomic_exchange_n(&a->mailbox[(me + 1) % ncpu], checked, __ATOMIC_ACQ_REL);
            free_passed_on(a, old);
        }
    }
    if (a->pass_on) {
        barrier_wait(&a->done); /* nobody passes anything on any more */
        free_passed_on(a, __atomic_exchange_n(&a->mailbox[me], 0, __ATOMIC_ACQ_REL));
    }
}

KTEST(pmem, stress_bursts_on_every_hart)
{
    static struct burst_args args;
    static struct snapshot before, after; /* 64 per-CPU rows: too big for a one-page stack */
    args = (struct burst_args){.ops = &pmem_ops_percpu,
                               .rounds = BURST_ROUNDS,
                               .seed = stress_seed(),
                               .start = {.n = ncpu}};
    snapshot(&before);
    ktest_on_each_hart(burst_worker, &args);
    snapshot(&after);
    KEXPECT_EQ(after.free_pages, before.free_pages);
    check_accounting(&before, &after);
}

/* The same with only a few pages to go round, all on CPU 0's list at the start, and
 * every checked burst passed on to the next hart to free: the harts run dry again and
 * again and steal from each other while the victims allocate and free, and the
 * stamps still never meet. */
KTEST(pmem, stress_bursts_with_little_memory)
{
    static struct burst_args args;
    static struct snapshot before, after; /* 64 per-CPU rows: too big for a one-page stack */
    /* Held at once per hart: its burst and one passed on to it; a little spare; a stack. */
    size_t pool = (size_t)ncpu * (2 * BURST_MAX + BURST_MAX / 4 + 1);
    void *aside = 0;
    size_t n0 = gather_on_this_cpu();
    for (size_t i = 0; i + pool < n0; i++)
        chain_push(&aside, pmem_alloc());
    args = (struct burst_args){.ops = &pmem_ops_percpu,
                               .rounds = BURST_ROUNDS,
                               .pass_on = 1,
                               .seed = stress_seed(),
                               .start = {.n = ncpu},
                               .done = {.n = ncpu}};
    snapshot(&before);
    ktest_on_each_hart(burst_worker, &args);
    snapshot(&after);
    KEXPECT_EQ(after.free_pages, before.free_pages);
    check_accounting(&before, &after);
    uint64_t steals = 0;
    for (int i = 0; i < pmem_ncpu(); i++)
        steals += after.cpu[i].steals - before.cpu[i].steals;
    kprintf("    # %lu pages shared by %d harts: %lu steals\n", before.free_pages, ncpu, steals);
    if (pmem_ncpu() > 1) /* one list: nobody to steal from */
        KEXPECT_GT(steals, 0);
    chain_free(&aside);
    KEXPECT_EQ(pmem_free_pages(), n0);
}

/* The baseline the bench compares against must be right too: same stress, fewer rounds
 * (it poisons with a byte loop). */
KTEST(pmem, baseline_survives_the_same_stress)
{
    static struct burst_args args;
    size_t pages = pmem_free_pages(), pool = (size_t)ncpu * BURST_MAX;
    KASSERT_EQ(pmem_baseline_setup(pool), pool);
    args = (struct burst_args){.ops = &pmem_ops_baseline,
                               .rounds = BURST_ROUNDS / 4,
                               .seed = stress_seed(),
                               .start = {.n = ncpu}};
    ktest_on_each_hart(burst_worker, &args);
    KEXPECT_EQ(pmem_baseline_free_pages(), pool);
    KEXPECT_EQ(pmem_baseline_teardown(), 0);
    KEXPECT_EQ(pmem_free_pages(), pages);
}

/* --- The steal path: everything on CPU 0, the others must steal. */

#define STEAL_PAGES 512 /* per hart */

struct steal_args {
    struct barrier start, allocated;
};

static void steal_worker(void *arg)
{
    struct steal_args *a = arg;
    int me = cpuid();
    void *chain = 0;
    barrier_wait(&a->start); /* every worker's stack is allocated by now */
    for (int i = 0; me != 0 && i < STEAL_PAGES; i++) {
        uint64_t *p = pmem_alloc();
        if (!p) {
            ktest_fail(__FILE__, __LINE__, "cpu %d: out of memory after %d pages", me, i);
            break;
        }
        p[1] = stamp_of(me, i);
        chain_push(&chain, p);
    }
    barrier_wait(&a->allocated); /* all hold their pages at once */
    for (uint64_t *p; (p = chain_pop(&chain)) != 0;) {
        if (p[1] >> 32 != stamp_of(me, 0) >> 32)
            ktest_fail(__FILE__, __LINE__, "cpu %d: page %p carries stamp 0x%lx", me, (void *)p,
                       p[1]);
        pmem_free(p);
    }
}

KTEST(pmem, steal_path_moves_batches_and_accounts_every_page)
{
    if (pmem_ncpu() < 2) {
        ktest_skip("one free list: nothing to steal");
        return;
    }
    static struct steal_args args;
    static struct snapshot before, after; /* 64 per-CPU rows: too big for a one-page stack */
    size_t n0 = gather_on_this_cpu();
    snapshot(&before);
    KEXPECT_EQ(before.cpu[0].free_pages, n0);
    KASSERT_GE(n0, (size_t)ncpu * STEAL_PAGES);
    args = (struct steal_args){.start = {.n = ncpu}, .allocated = {.n = ncpu}};
    ktest_on_each_hart(steal_worker, &args);
    snapshot(&after);
    KEXPECT_EQ(after.free_pages, n0);
    check_accounting(&before, &after);
    for (int i = 1; i < ncpu; i++) {
        const struct pmem_stats *x = &before.cpu[i], *y = &after.cpu[i];
        kprintf("    # cpu %d: %lu steals took %lu pages; %lu pages robbed from it\n", i,
                y->steals - x->steals, y->stolen - x->stolen, y->robbed - x->robbed);
        KEXPECT_EQ(y->allocs - x->allocs, STEAL_PAGES);
        KEXPECT_EQ(y->frees - x->frees, STEAL_PAGES);
        KEXPECT_GE(y->steals - x->steals, 1);
        /* Before any free, every page a thief allocated came from a batch it stole;
         * no batch is larger than PMEM_BATCH, and batches are not single pages. */
        KEXPECT_GE(y->stolen - x->stolen, STEAL_PAGES);
        KEXPECT_LE(y->stolen - x->stolen, PMEM_BATCH * (y->steals - x->steals));
        KEXPECT_LE(8 * (y->steals - x->steals), STEAL_PAGES);
    }
}

/* One steal from a list of full batches moves exactly one batch: the bound, seen. */
static struct snapshot one_steal_before, one_steal_after;
static void *one_steal_page;

static void alloc_one_on_cpu1(void *arg)
{
    (void)arg;
    if (cpuid() != 1)
        return;
    snapshot(&one_steal_before);
    one_steal_page = pmem_alloc();
    snapshot(&one_steal_after);
}

KTEST(pmem, one_steal_moves_one_batch)
{
    if (pmem_ncpu() < 2) {
        ktest_skip("one free list: nothing to steal");
        return;
    }
    size_t n0 = gather_on_this_cpu();
    KASSERT_GE(n0, 4 * PMEM_BATCH);
    /* Every page is on this CPU's list; thread stacks come from it and go back to it
     * (thread_join runs here), so CPU 1's list stays empty until the steal. */
    ktest_on_each_hart(alloc_one_on_cpu1, 0);
    const struct pmem_stats *x = &one_steal_before.cpu[1], *y = &one_steal_after.cpu[1];
    KASSERT_TRUE(one_steal_page != 0);
    KEXPECT_EQ(x->free_pages, 0);
    KEXPECT_EQ(y->steals - x->steals, 1);
    KEXPECT_EQ(y->stolen - x->stolen, PMEM_BATCH);
    KEXPECT_EQ(y->free_pages, PMEM_BATCH - 1);
    pmem_free(one_steal_page);
    KEXPECT_EQ(pmem_free_pages(), n0);
}

/* --- Exhaustion on every hart at once, then recovery. */

struct exhaust_args {
    struct barrier b;
    size_t held[NCPU];
    int null_again[NCPU], recovered[NCPU];
};

static void exhaust_worker(void *arg)
{
    struct exhaust_args *a = arg;
    int me = cpuid();
    void *chain = 0;
    barrier_wait(&a->b); /* every worker's stack is allocated by now */
    for (void *p; (p = pmem_alloc()) != 0; a->held[me]++)
        chain_push(&chain, p);
    barrier_wait(&a->b); /* every hart has seen NULL, and nobody frees yet */
    void *p = pmem_alloc();
    a->null_again[me] = p == 0;
    if (p)
        chain_push(&chain, p);
    barrier_wait(&a->b);
    for (size_t i = 0; i < a->held[me] / 2; i++)
        pmem_free(chain_pop(&chain));
    barrier_wait(&a->b);
    p = pmem_alloc();
    a->recovered[me] = p != 0;
    if (p)
        chain_push(&chain, p);
    chain_free(&chain);
}

KTEST(pmem, exhaustion_returns_null_on_every_hart_and_recovers)
{
    static struct exhaust_args args;
    static struct snapshot before, after; /* 64 per-CPU rows: too big for a one-page stack */
    args = (struct exhaust_args){.b = {.n = ncpu}};
    snapshot(&before);
    ktest_on_each_hart(exhaust_worker, &args);
    snapshot(&after);
    size_t held = 0;
    for (int i = 0; i < ncpu; i++) {
        held += args.held[i];
        KEXPECT_EQ(args.null_again[i], 1);
        KEXPECT_EQ(args.recovered[i], 1);
    }
    /* Everything but the worker threads' stacks was handed out. */
    KEXPECT_LE(held, before.free_pages);
    KEXPECT_LE(before.free_pages - held, (size_t)ncpu);
    KEXPECT_EQ(after.free_pages, before.free_pages);
    check_accounting(&before, &after);
}

/* --- NULL means empty: every hart drains at once, stealing from each other. */

#define DRAIN_ROUNDS 40
#define DRAIN_POOL (4 * PMEM_BATCH) /* pages per hart: small, so lists run dry often */

struct drain_args {
    struct barrier b;
    size_t nulls[NCPU];    /* NULLs seen, one per round */
    size_t spurious[NCPU]; /* of them, NULLs while pmem_free_pages() still counted pages */
    size_t left[NCPU];     /* the largest such count */
};

static void drain_worker(void *arg)
{
    struct drain_args *a = arg;
    int me = cpuid();
    for (int round = 0; round < DRAIN_ROUNDS; round++) {
        void *chain = 0;
        barrier_wait(&a->b); /* every worker's stack is allocated, nobody frees now */
        for (void *p; (p = pmem_alloc()) != 0;)
            chain_push(&chain, p);
        /* Nobody frees until everyone has seen NULL, so the free count only falls: a
         * page it counts now was free, on a list or between two, at our NULL. */
        size_t left = pmem_free_pages();
        a->nulls[me]++;
        if (left) {
            a->spurious[me]++;
            a->left[me] = left > a->left[me] ? left : a->left[me];
        }
        barrier_wait(&a->b);
        chain_free(&chain); /* onto this hart's list: the next round steals them back */
    }
}

KTEST(pmem, drain_on_every_hart_sees_null_only_when_empty)
{
    static struct drain_args args;
    static struct snapshot before, after; /* 64 per-CPU rows: too big for a one-page stack */
    args = (struct drain_args){.b = {.n = ncpu}};
    size_t n0 = gather_on_this_cpu(), pool = (size_t)ncpu * DRAIN_POOL;
    void *aside = 0;
    for (size_t i = 0; i + pool < n0; i++)
        chain_push(&aside, pmem_alloc());
    snapshot(&before);
    ktest_on_each_hart(drain_worker, &args);
    snapshot(&after);
    for (int i = 0; i < ncpu; i++) {
        kprintf("    # cpu %d: %lu NULLs, %lu while pages were free (up to %lu)\n", i,
                args.nulls[i], args.spurious[i], args.left[i]);
        KEXPECT_EQ(args.nulls[i], DRAIN_ROUNDS);
        KEXPECT_EQ(args.spurious[i], 0);
    }
    KEXPECT_EQ(after.free_pages, before.free_pages);
    check_accounting(&before, &after);
    chain_free(&aside);
    KEXPECT_EQ(pmem_free_pages(), n0);
}

/* --- Private lists: no spins, no contentions, no bounces. */

#define PRIVATE_ROUNDS 20000

struct spread_args {
    void *chain[NCPU];
};

static void free_my_share(void *arg)
{
    struct spread_args *a = arg;
    chain_free(&a->chain[cpuid()]);
}

static void private_worker(void *arg)
{
    (void)arg;
    void *chain = 0;
    for (int i = 0; i < PRIVATE_ROUNDS; i++) {
        void *p = pmem_alloc();
        if (!p) {
            ktest_fail(__FILE__, __LINE__, "cpu %d: out of memory", cpuid());
            return;
        }
        if (i % 64 < 16)
            chain_push(&chain, p); /* bursts of 16 held pages, now and then */
        else
            pmem_free(p);
        if (i % 64 == 16)
            chain_free(&chain);
    }
    chain_free(&chain);
}

KTEST(pmem, own_lists_never_spin)
{
    /* Deal every page out evenly first: earlier tests may have left them on one list. */
    static struct spread_args spread;
    size_t n = pmem_free_pages(), i = 0;
    for (void *p; (p = pmem_alloc()) != 0; i++)
        chain_push(&spread.chain[i < n ? i * ncpu / n : 0], p);
    for (int i = 0; i < 2 * ncpu; i++)
        pmem_free(chain_pop(&spread.chain[0])); /* stacks for the threads below */
    ktest_on_each_hart(free_my_share, &spread);

    static struct snapshot before, after; /* 64 per-CPU rows: too big for a one-page stack */
    snapshot(&before);
    ktest_on_each_hart(private_worker, 0);
    snapshot(&after);
    /* Every hart allocated from its own list (with one list, all harts share it). */
    int harts_per_list = pmem_ncpu() == 1 ? ncpu : 1;
    for (int i = 0; i < pmem_ncpu(); i++) {
        uint64_t spins = after.cpu[i].spins - before.cpu[i].spins;
        uint64_t contentions = after.cpu[i].contentions - before.cpu[i].contentions;
        uint64_t bounces = after.cpu[i].bounces - before.cpu[i].bounces;
        uint64_t allocs = after.cpu[i].allocs - before.cpu[i].allocs;
        KEXPECT_GE(allocs, (uint64_t)PRIVATE_ROUNDS * harts_per_list);
        kprintf("    # list %d: %lu allocs, %lu lock acquires; %lu spins, %lu contentions, "
                "%lu bounces while %d hart(s) used it\n",
                i, allocs, after.cpu[i].acquires - before.cpu[i].acquires, spins, contentions,
                bounces, harts_per_list);
        if (pmem_ncpu() > 1) { /* one list spins (or not) as the host schedules the harts */
            KEXPECT_EQ(spins, 0);
            KEXPECT_EQ(contentions, 0);
            KEXPECT_EQ(bounces, 0);
            /* The common path takes no lock: only a whole chunk moving does, and the
             * partial chunk here swings by 16 pages at most between two such moves. */
            KEXPECT_LE(8 * (after.cpu[i].acquires - before.cpu[i].acquires), allocs);
        }
        KEXPECT_EQ(after.cpu[i].steals - before.cpu[i].steals, 0);
    }
    KEXPECT_EQ(after.free_pages, before.free_pages);
    check_accounting(&before, &after);
    pmem_stats_print();
}

/* --- Expected panics (run only when named; the host runner checks the message). */

static void *freed_page;
static int first_free_done;

/* CPU 0 frees the page, then the last CPU frees it again. Both run in threads that
 * already exist, so no thread stack can be carved from the page in between. */
static void free_twice_on_two_harts(void *arg)
{
    (void)arg;
    if (cpuid() == 0) {
        pmem_free(freed_page);
        __atomic_store_n(&first_free_done, 1, __ATOMIC_RELEASE);
    }
    if (cpuid() == ncpu - 1) {
        while (!__atomic_load_n(&first_free_done, __ATOMIC_ACQUIRE))
            ;
        pmem_free(freed_page);
    }
}

KTEST(panic_pmem_double_free, second_free_on_another_hart)
{
    freed_page = pmem_alloc();
    KASSERT_TRUE(freed_page != 0);
    /* The state bit is global, so the second free is caught on any hart. */
    ktest_on_each_hart(free_twice_on_two_harts, 0);
    ktest_fail(__FILE__, __LINE__, "a double free of %p did not panic", freed_page);
}

KTEST(panic_pmem_foreign, free_a_page_of_the_device_tree)
{
    /* RAM, page-aligned, and between two usable ranges (or beside them): not pmem's. */
    void *dtb_page = (void *)(machine.dtb_base & ~(uint64_t)(PAGE_SIZE - 1));
    pmem_free(dtb_page);
    ktest_fail(__FILE__, __LINE__, "freeing the device tree page %p did not panic", dtb_page);
}

/*
 * Poisoning builds only (tests/ktests.cmake): the checks of a page taken from a list.
 * freed_page_interrupts_off() allocates a page and frees it again, and leaves interrupts
 * off (the test pops them): nothing else runs on this hart meanwhile, so the next
 * allocation here takes that page back, whatever the test wrote into it.
 */
static uintptr_t *freed_page_interrupts_off(void)
{
    push_off();
    uintptr_t *page = pmem_alloc();
    if (!page)
        panic("test_pmem: no page to free and write to");
    pmem_free(page);
    return page;
}

KTEST(panic_pmem_use_after_free, write_to_a_freed_page)
{
    uintptr_t *page = freed_page_interrupts_off();
    page[PMEM_LINK_BYTES / 8 + 1] = 42; /* past the links: a use after free */
    pmem_alloc();
    pop_off();
    ktest_fail(__FILE__, __LINE__, "a write to freed page %p went unnoticed", page);
}

KTEST(panic_pmem_list_corrupted, overwrite_a_free_pages_link)
{
    uintptr_t *page = freed_page_interrupts_off();
    /* The first link word, as a stray write would leave it: "then one page, in the middle
     * of this one" (the low bits count pages in mm/pmem.c's lists). */
    uintptr_t half = (uintptr_t)page + PAGE_SIZE / 2;
    page[0] = half | 1;
    pmem_alloc(); /* the page itself */
    void *wild = pmem_alloc();
    pop_off();
    ktest_fail(__FILE__, __LINE__, "a list that pointed at %p handed out %p", (void *)half, wild);
}
