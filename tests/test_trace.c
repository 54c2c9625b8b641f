/*
 * Description: suite `trace`: the per-hart trace rings (kernel/trace.c).
 *  - with trace=1 on the command line, tracing is on and every hart recorded its boot
 *  - off, nothing records: no ring moves while every hart takes locks, allocates pages
 *    and yields
 *  - a full ring keeps its newest events, oldest first, and counts the ones it dropped
 *  - a short stress on every hart: each hart recorded, its times never go back, and its
 *    acquires and releases of each test lock alternate and are all there; then the
 *    rings are dumped, and the host checks the dump and converts it (tools/trace.py
 *    check, the CTest test trace@smp2.check)
 *  - what an event site costs: instructions per acquire+release pair with tracing off
 *    and on. Reported, not asserted; exact only on one hart under -icount shift=0
 *    (the CTest test trace_cost, and `ninja trace-pmem`)
 */
#include "arch/riscv/csr.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "kernel/trace.h"
#include "mm/pmem.h"
#include "tests/ktest.h"

#define STRESS_ROUNDS 300 /* per hart: ~12 events each, well inside one ring */
#define COST_PAIRS 1000
#define COST_RUNS 20

/* Static and initialised once: lockstat keeps pointers to registered locks. */
static struct spinlock shared_lock;
static struct hart_lock {
    struct spinlock lock;
} __attribute__((aligned(64))) own_locks[NCPU];

static void init_locks(void)
{
    if (shared_lock.name)
        return;
    spinlock_init(&shared_lock, "trace.shared");
    for (int i = 0; i < NCPU; i++)
        spinlock_init(&own_locks[i].lock, "trace.own");
}

/* Every hart: a lock all harts share, one of its own, a page, now and then a yield. */
static void stress(void *arg)
{
    (void)arg;
    struct spinlock *own = &own_locks[cpuid()].lock; /* pinned: stays valid */
    for (int r = 0; r < STRESS_ROUNDS; r++) {
        acquire(&shared_lock);
        acquire(own);
        release(own);
        release(&shared_lock);
        void *p = pmem_alloc();
        if (p)
            pmem_free(p);
        if (r % 100 == 99)
            thread_yield();
    }
}

/* A hart that read the switch just before it went off may still write one event:
 * give it time, so that the rings stand still while a test reads them. */
static void settle(void) { sleep_ticks(2); }

KTEST(trace, boot_traced_with_trace_1)
{
    uint64_t on = 0;
    if (cmdline_get_u64("trace", &on) != 0 || !on) {
        ktest_skip("no trace=1 on the kernel command line");
        return;
    }
    KEXPECT_TRUE(trace_switch.enabled);
    for (int cpu = 0; cpu < ncpu; cpu++) {
        struct trace_ring_info info;
        KASSERT_EQ(trace_ring_info(cpu, &info), 0);
        KEXPECT_GT(info.recorded, 0); /* every scheduler loop takes run-queue locks */
    }
}

KTEST(trace, off_records_nothing)
{
    init_locks();
    trace_stop();
    settle();
    uint64_t head[NCPU];
    for (int cpu = 0; cpu < ncpu; cpu++) {
        struct trace_ring_info info;
        trace_ring_info(cpu, &info);
        head[cpu] = info.head;
    }
    ktest_on_each_hart(stress, 0);
    for (int cpu = 0; cpu < ncpu; cpu++) {
        struct trace_ring_info info;
        trace_ring_info(cpu, &info);
        KEXPECT_EQ(info.head, head[cpu]);
    }
    KEXPECT_EQ(trace_ring_info(NCPU, &(struct trace_ring_info){0}), -1);
}

KTEST(trace, full_ring_keeps_newest)
{
    const uint64_t extra = 100, cap = TRACE_RING_EVENTS - 1, n = cap + extra;
    /* Interrupts off: no tick, no switch; this hart's ring holds our marks alone. */
    push_off();
    int me = cpuid();
    trace_start();
    for (uint64_t i = 0; i < n; i++)
        trace_event(TRACE_MARK, 0x7e57, i);
    trace_stop();
    pop_off();
    struct trace_ring_info info;
    KASSERT_EQ(trace_ring_info(me, &info), 0);
    KEXPECT_EQ(info.recorded, n);
    KEXPECT_EQ(info.kept, cap);
    KEXPECT_EQ(info.dropped, extra);
    uint64_t wrong = 0, backwards = 0, last = 0;
    for (uint64_t i = 0; i < info.kept; i++) {
        struct trace_event e;
        KASSERT_EQ(trace_ring_get(me, i, &e), 0);
        wrong += e.kind != TRACE_MARK || e.obj != 0x7e57 || e.arg != extra + i || e.hart != me;
        backwards += e.time < last;
        last = e.time;
    }
    KEXPECT_EQ(wrong, 0);
    KEXPECT_EQ(backwards, 0);
    struct trace_event e;
    KEXPECT_EQ(trace_ring_get(me, info.kept, &e), -1);
}

/* Checks cpu's ring after the stress: times in order, each test lock taken
 * STRESS_ROUNDS times and released in between. Returns the problems found. */
static uint64_t check_ring(int cpu)
{
    struct trace_ring_info info;
    trace_ring_info(cpu, &info);
    KEXPECT_GT(info.kept, 0);
    KEXPECT_EQ(info.dropped, 0);
    uintptr_t locks[2] = {(uintptr_t)&shared_lock, (uintptr_t)&own_locks[cpu].lock};
    int held[2] = {0, 0};
    uint64_t acquired[2] = {0, 0}, problems = 0, last = 0;
    for (uint64_t i = 0; i < info.kept; i++) {
        struct trace_event e;
        trace_ring_get(cpu, i, &e);
        problems += e.time < last || e.hart != cpu;
        last = e.time;
        for (int k = 0; k < 2; k++) {
            if (e.obj != locks[k] || (e.kind != TRACE_LOCK_ACQ && e.kind != TRACE_LOCK_REL))
                continue;
            int acq = e.kind == TRACE_LOCK_ACQ;
            problems += held[k] == acq; /* acquired twice, or released while not held */
            held[k] = acq;
            acquired[k] += acq;
        }
    }
    KEXPECT_EQ(acquired[0], STRESS_ROUNDS);
    KEXPECT_EQ(acquired[1], STRESS_ROUNDS);
    KEXPECT_EQ(held[0] + held[1], 0);
    return problems;
}

KTEST(trace, stress_then_dump)
{
    init_locks();
    trace_start();
    ktest_on_each_hart(stress, 0);
    trace_stop();
    settle();
    for (int cpu = 0; cpu < ncpu; cpu++)
        KEXPECT_EQ(check_ring(cpu), 0);
    trace_dump("ktest");
    struct trace_ring_info info;
    trace_ring_info(0, &info);
    KEXPECT_EQ(info.recorded, 0); /* the dump consumed what it printed */
}

/* Fewest instructions for COST_PAIRS acquire+release pairs of one uncontended lock. */
static uint64_t best_pairs(void)
{
    static struct spinlock lk;
    if (!lk.name)
        spinlock_init(&lk, "trace.cost");
    uint64_t best = UINT64_MAX;
    for (int run = 0; run < COST_RUNS; run++) {
        uint64_t i0 = rdinstret();
        for (int i = 0; i < COST_PAIRS; i++) {
            acquire(&lk);
            release(&lk);
        }
        uint64_t n = rdinstret() - i0;
        best = n < best ? n : best;
    }
    return best;
}

KTEST(trace, cost_per_lock_pair)
{
    trace_stop();
    uint64_t off = best_pairs();
    trace_start();
    uint64_t on = best_pairs();
    trace_stop();
    /* Tenths, as the kernel prints no floating point. */
    off = off * 10 / COST_PAIRS, on = on * 10 / COST_PAIRS;
    kprintf("    # trace cost: %lu.%lu instructions per acquire+release pair with tracing off, "
            "%lu.%lu with it on (best of %d runs of %d; exact only on one hart under -icount)\n",
            off / 10, off % 10, on / 10, on % 10, COST_RUNS, COST_PAIRS);
}
