/*
 * Description: suite `spinlock`: mutual exclusion and the lock statistics the course
 * measures with.
 *  - a shared counter under one lock, incremented by every hart at once, comes out
 *    exact; under contention (more than one hart) the lock's `spins` counter moves
 *  - one lock per hart, each touched by its own hart only: `spins` stays exactly 0,
 *    so a spin really means another hart held the lock
 *  - `acquires` counts exactly; lockstat_reset zeroes both counters; lockstat_foreach
 *    lists a lock once spinlock_init registered it
 *  - contentions and bounces count exactly (one hart at a time: bounces are the moves
 *    between harts); a ticket lock serves waiting harts in the order they arrived
 *  - push_off/pop_off nest and give back the interrupt state from before the first
 *    push_off; acquire keeps interrupts off until release; holding() is per hart
 * Every lock here is static: spinlock_init links it into lockstat's registry for good,
 * so it must outlive the test, and it is initialised only once per boot (a second
 * spinlock_init would link it into the registry twice).
 */
#include "arch/riscv/csr.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "tests/ktest.h"

/* Initialises lk the first time only; see the file comment. */
static void init_once(struct spinlock *lk, const char *name)
{
    if (!lk->name)
        spinlock_init(lk, name);
}

/* --- One lock, every hart: the counter is exact and contention is counted. */

#define INCREMENTS 20000 /* per hart and round */
#define MAX_CONTENTION_ROUNDS 50

static struct spinlock shared_lock;
static uint64_t shared_counter;  /* protected by shared_lock */
static int inside_shared;        /* harts inside the critical section; protected by shared_lock */
static int overlaps;             /* times a hart found another one inside; atomic */
static int interrupts_on_inside; /* times a holder saw interrupts enabled; atomic */

static void increment_shared(void *arg)
{
    (void)arg;
    for (int i = 0; i < INCREMENTS; i++) {
        acquire(&shared_lock);
        if (inside_shared++ != 0)
            __atomic_fetch_add(&overlaps, 1, __ATOMIC_RELAXED);
        if (intr_get())
            __atomic_fetch_add(&interrupts_on_inside, 1, __ATOMIC_RELAXED);
        /* A plain read-modify-write: without the lock, increments would get lost. */
        shared_counter = shared_counter + 1;
        inside_shared--;
        release(&shared_lock);
    }
}

KTEST(spinlock, shared_counter_exact_on_every_hart)
{
    init_once(&shared_lock, "test.shared");
    shared_counter = 0;
    overlaps = interrupts_on_inside = 0;
    uint64_t acquires_before = shared_lock.acquires;
    ktest_on_each_hart(increment_shared, 0);
    KEXPECT_EQ(shared_counter, (uint64_t)ncpu * INCREMENTS);
    KEXPECT_EQ(overlaps, 0);
    KEXPECT_EQ(interrupts_on_inside, 0);
    KEXPECT_EQ(shared_lock.acquires - acquires_before, (uint64_t)ncpu * INCREMENTS);
    KEXPECT_EQ(spinlock_holder(&shared_lock), -1);
}

KTEST(spinlock, contention_moves_spins)
{
    init_once(&shared_lock, "test.shared");
    uint64_t spins_before = shared_lock.spins, acquires_before = shared_lock.acquires;
    uint64_t contentions_before = shared_lock.contentions, bounces_before = shared_lock.bounces;
    shared_counter = 0;
    /* With one hart nobody else can hold the lock, so not a single spin may show. With
     * several, one round nearly always collides, but harts are host threads and a
     * 2-core host may run them one after the other: retry a bounded number of rounds. */
    int rounds = 0;
    do {
        ktest_on_each_hart(increment_shared, 0);
        rounds++;
    } while (ncpu > 1 && shared_lock.spins == spins_before && rounds < MAX_CONTENTION_ROUNDS);
    /* A KTAP diagnostic line: how hard the harts fought, for the curious reader. */
    kprintf("    # %lu spins in %lu acquires over %d round(s) on %d hart(s)\n",
            shared_lock.spins - spins_before, shared_lock.acquires - acquires_before, rounds, ncpu);
    if (ncpu > 1)
        KEXPECT_GT(shared_lock.spins - spins_before, 0);
    else
        KEXPECT_EQ(shared_lock.spins - spins_before, 0);
    KEXPECT_EQ(shared_counter, (uint64_t)rounds * ncpu * INCREMENTS);
    KEXPECT_EQ(shared_lock.acquires - acquires_before, (uint64_t)rounds * ncpu * INCREMENTS);
    /* Every contended acquire failed at least one swap; a spin means a contention. */
    uint64_t contentions = shared_lock.contentions - contentions_before;
    uint64_t spins = shared_lock.spins - spins_before;
    KEXPECT_LE(contentions, spins);
    KEXPECT_EQ(contentions == 0, spins == 0);
    KEXPECT_LE(shared_lock.bounces - bounces_before, shared_lock.acquires - acquires_before);
    if (ncpu == 1) /* one hart: the line never moves after its first acquire here */
        KEXPECT_LE(shared_lock.bounces - bounces_before, 1);
}

/* --- One lock per hart: no sharing, so no spins at all. */

static struct spinlock own_locks[NCPU];
static uint64_t own_counters[NCPU]; /* own_counters[i] protected by own_locks[i] */

static void increment_own(void *arg)
{
    (void)arg;
    int me = cpuid(); /* stable: ktest_on_each_hart pins each thread to its hart */
    for (int i = 0; i < INCREMENTS; i++) {
        acquire(&own_locks[me]);
        own_counters[me]++;
        release(&own_locks[me]);
    }
}

KTEST(spinlock, private_locks_never_spin)
{
    static char names[NCPU][16]; /* registered locks keep their name: not on the stack */
    static uint64_t spins_before[NCPU], acquires_before[NCPU], contentions_before[NCPU];
    static uint64_t bounces_before[NCPU], moves[NCPU]; /* NCPU each: off the one-page stack */
    for (int i = 0; i < ncpu; i++) {
        snprintf(names[i], sizeof(names[i]), "test.own%d", i);
        init_once(&own_locks[i], names[i]);
        own_counters[i] = 0;
        spins_before[i] = own_locks[i].spins;
        acquires_before[i] = own_locks[i].acquires;
        contentions_before[i] = own_locks[i].contentions;
        bounces_before[i] = own_locks[i].bounces;
        /* A free test-and-set lock's word names its last holder: one bounce if not i. */
        moves[i] = spinlock_named_cpu(own_locks[i].locked) != i;
    }
    ktest_on_each_hart(increment_own, 0);
    for (int i = 0; i < ncpu; i++) {
        KEXPECT_EQ(own_counters[i], INCREMENTS);
        KEXPECT_EQ(own_locks[i].acquires - acquires_before[i], INCREMENTS);
        /* A holder runs with interrupts off, so not even a thread on the same hart
         * can be waiting: any spin here would be a counting bug. */
        KEXPECT_EQ(own_locks[i].spins - spins_before[i], 0);
        KEXPECT_EQ(own_locks[i].contentions - contentions_before[i], 0);
        /* The line moves to hart i once (if it was elsewhere), then stays. */
        KEXPECT_EQ(own_locks[i].bounces - bounces_before[i], moves[i]);
    }
}

/* --- Counting, resetting and listing, on this hart alone. */

static struct spinlock counted_lock;

KTEST(spinlock, acquires_counts_exactly)
{
    init_once(&counted_lock, "test.counted");
    uint64_t acquires = counted_lock.acquires, spins = counted_lock.spins;
    for (int i = 0; i < 37; i++) {
        acquire(&counted_lock);
        release(&counted_lock);
    }
    KEXPECT_EQ(counted_lock.acquires - acquires, 37);
    KEXPECT_EQ(counted_lock.spins - spins, 0); /* nobody else ever takes it */
}

KTEST(spinlock, lockstat_reset_zeroes_counters)
{
    init_once(&counted_lock, "test.counted");
    init_once(&shared_lock, "test.shared");
    acquire(&counted_lock);
    release(&counted_lock);
    KASSERT_GT(counted_lock.acquires, 0);
    KASSERT_GT(shared_lock.acquires, 0); /* from the tests above */
    /* Only locks nobody else takes are checked: the kernel's own locks may be
     * acquired again on other harts right after the reset. */
    lockstat_reset();
    KEXPECT_EQ(counted_lock.acquires, 0);
    KEXPECT_EQ(counted_lock.spins, 0);
    KEXPECT_EQ(shared_lock.acquires, 0);
    KEXPECT_EQ(shared_lock.spins, 0);
    for (int i = 0; i < ncpu; i++)
        if (own_locks[i].name)
            KEXPECT_EQ(own_locks[i].acquires, 0);
    /* Counting starts again from zero. */
    acquire(&counted_lock);
    release(&counted_lock);
    KEXPECT_EQ(counted_lock.acquires, 1);
    /* The reset touches only counters: the lock itself still works and is free. */
    KEXPECT_EQ(spinlock_holder(&counted_lock), -1);
    KEXPECT_STREQ(counted_lock.name, "test.counted");
}

struct find_lock {
    const struct spinlock *wanted;
    int seen;    /* times the wanted lock was visited */
    int visited; /* locks visited in all */
    int unnamed; /* locks without a name */
};

static void look_for(struct spinlock *lk, void *arg)
{
    struct find_lock *f = arg;
    f->visited++;
    f->seen += lk == f->wanted;
    f->unnamed += lk->name == 0;
}

KTEST(spinlock, lockstat_foreach_lists_initialised_lock)
{
    static struct spinlock listed_lock;
    /* Run again in the same boot (the monitor's `test`), the lock is the first run's. */
    int first_run = listed_lock.name == 0;
    struct find_lock f = {&listed_lock, 0, 0, 0};
    lockstat_foreach(look_for, &f);
    KEXPECT_EQ(f.seen, first_run ? 0 : 1); /* not registered before spinlock_init */
    int before = f.visited;

    init_once(&listed_lock, "test.listed");
    f = (struct find_lock){&listed_lock, 0, 0, 0};
    lockstat_foreach(look_for, &f);
    KEXPECT_EQ(f.seen, 1); /* exactly once */
    KEXPECT_EQ(f.unnamed, 0);
    /* One more than before on the first run, at least; other harts may register locks. */
    KEXPECT_GE(f.visited, before + first_run);
    KEXPECT_STREQ(listed_lock.name, "test.listed");
}

/* --- Interrupt state: push_off/pop_off and acquire/release. */

KTEST(spinlock, push_off_pop_off_nest_and_restore)
{
    /* The runner thread is pinned to CPU 0, so mycpu() stays the same hart here. */
    int was_on = intr_get();
    struct cpu *c = mycpu();
    int noff = c->noff;
    for (int start_on = 1; start_on >= 0; start_on--) {
        if (start_on)
            intr_on();
        else
            intr_off();
        push_off();
        KEXPECT_FALSE(intr_get());
        KEXPECT_EQ(c->noff, noff + 1);
        push_off();
        KEXPECT_EQ(c->noff, noff + 2);
        pop_off();
        /* The inner pop_off must not turn interrupts back on: the outer push is open. */
        KEXPECT_FALSE(intr_get());
        KEXPECT_EQ(c->noff, noff + 1);
        pop_off();
        /* The outermost pop_off gives back the state from before the first push_off. */
        KEXPECT_EQ(intr_get(), start_on);
        KEXPECT_EQ(c->noff, noff);
    }
    if (was_on)
        intr_on();
    else
        intr_off();
}

KTEST(spinlock, acquire_keeps_interrupts_off_until_release)
{
    static struct spinlock a, b;
    init_once(&a, "test.irq.a");
    init_once(&b, "test.irq.b");
    int was_on = intr_get();
    intr_on();
    acquire(&a);
    KEXPECT_FALSE(intr_get());
    acquire(&b);
    release(&b);
    KEXPECT_FALSE(intr_get()); /* still holding a */
    release(&a);
    KEXPECT_TRUE(intr_get());
    if (!was_on)
        intr_off();
}

KTEST(spinlock, holding_true_inside_false_outside)
{
    static struct spinlock lk;
    init_once(&lk, "test.holding");
    /* holding() is called with interrupts off, as spinlock.h asks. */
    push_off();
    KEXPECT_FALSE(holding(&lk));
    pop_off();
    acquire(&lk);
    KEXPECT_TRUE(holding(&lk));
    KEXPECT_EQ(spinlock_holder(&lk), cpuid());
    release(&lk);
    push_off();
    KEXPECT_FALSE(holding(&lk));
    pop_off();
    KEXPECT_EQ(spinlock_holder(&lk), -1);
}

/* Another hart holds the lock until told to let go. */
static struct spinlock remote_lock;
static volatile int remote_holds, remote_may_release;

static void hold_until_told(void *arg)
{
    (void)arg;
    acquire(&remote_lock);
    __atomic_store_n(&remote_holds, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&remote_may_release, __ATOMIC_ACQUIRE))
        ; /* interrupts are off while holding: spin, the test hart answers quickly */
    release(&remote_lock);
}

KTEST(spinlock, holding_is_false_for_another_harts_lock)
{
    if (ncpu < 2) {
        ktest_skip("needs a second hart");
        return;
    }
    init_once(&remote_lock, "test.remote");
    remote_holds = remote_may_release = 0;
    struct thread *t = thread_create("holder", hold_until_told, 0, 1);
    KASSERT_TRUE(t != 0);
    while (!__atomic_load_n(&remote_holds, __ATOMIC_ACQUIRE))
        thread_yield();
    push_off();
    KEXPECT_EQ(spinlock_holder(&remote_lock), 1); /* the lock is taken by CPU 1... */
    KEXPECT_FALSE(holding(&remote_lock));         /* ...so this hart does not hold it */
    pop_off();
    __atomic_store_n(&remote_may_release, 1, __ATOMIC_RELEASE);
    thread_join(t);
    KEXPECT_EQ(spinlock_holder(&remote_lock), -1);
}

/* --- Bounces are counted per move of the lock between harts, for both kinds. */

static void take_once(void *arg)
{
    acquire(arg);
    release(arg);
}

/* Takes lk once on hart cpu, in a thread pinned there. */
static void take_on(struct spinlock *lk, int cpu)
{
    struct thread *t = thread_create("taker", take_once, lk, cpu);
    KASSERT_TRUE(t != 0);
    thread_join(t);
}

static void check_bounces(struct spinlock *lk)
{
    int me = cpuid(); /* the test runner is pinned */
    take_on(lk, me);  /* whoever held it before, now this hart did */
    uint64_t b0 = lk->bounces, c0 = lk->contentions;
    for (int i = 0; i < 3; i++) /* stays here: no bounce */
        take_once(lk);
    KEXPECT_EQ(lk->bounces - b0, 0);
    if (ncpu > 1) {
        int other = me == 0 ? 1 : 0;
        take_on(lk, other); /* moves there: one */
        take_on(lk, other); /* stays: none */
        take_once(lk);      /* comes back: one */
        KEXPECT_EQ(lk->bounces - b0, 2);
    }
    KEXPECT_EQ(lk->contentions - c0, 0); /* one hart at a time: never found taken */
}

KTEST(spinlock, bounces_count_moves_between_harts)
{
    static struct spinlock tas, ticket;
    if (!tas.name) {
        spinlock_init(&tas, "test.bounce.tas");
        spinlock_init_fair(&ticket, "test.bounce.ticket");
    }
    check_bounces(&tas);
    check_bounces(&ticket);
}

/* --- A ticket lock serves harts in the order they asked. */

static struct spinlock queue_lock;
static int served[NCPU], nserved;    /* under queue_lock */
static volatile int may_queue[NCPU]; /* set by the test: hart k may ask for the lock */

static void wait_in_line(void *arg)
{
    (void)arg;
    int me = cpuid(); /* pinned */
    while (!__atomic_load_n(&may_queue[me], __ATOMIC_ACQUIRE))
        ;
    acquire(&queue_lock);
    served[nserved++] = me;
    release(&queue_lock);
}

KTEST(spinlock, ticket_lock_serves_in_arrival_order)
{
    if (ncpu < 3) {
        ktest_skip("needs two waiting harts");
        return;
    }
    if (!queue_lock.name)
        spinlock_init_fair(&queue_lock, "test.ticket.queue");
    int me = cpuid(), waiters = 0, order[NCPU];
    struct thread *t[NCPU];
    nserved = 0;
    /* Harts queue from the highest id down, so the arrival order differs from both the
     * hart order and the order the threads were made in. */
    for (int cpu = ncpu - 1; cpu >= 0; cpu--) {
        if (cpu == me)
            continue;
        may_queue[cpu] = 0;
        order[waiters] = cpu;
        t[waiters] = thread_create("in-line", wait_in_line, 0, cpu);
        KASSERT_TRUE(t[waiters] != 0);
        waiters++;
    }
    take_once(&queue_lock); /* this hart held it last: the bounces below are exact */
    uint64_t c0 = queue_lock.contentions, s0 = queue_lock.spins, b0 = queue_lock.bounces;
    acquire(&queue_lock);
    for (int k = 0; k < waiters; k++) { /* the next one only once this one has a ticket */
        uint32_t next = queue_lock.next;
        __atomic_store_n(&may_queue[order[k]], 1, __ATOMIC_RELEASE);
        while (__atomic_load_n(&queue_lock.next, __ATOMIC_ACQUIRE) == next)
            ;
    }
    release(&queue_lock);
    for (int k = 0; k < waiters; k++)
        thread_join(t[k]);
    KEXPECT_EQ(nserved, waiters);
    for (int k = 0; k < waiters; k++)
        KEXPECT_EQ(served[k], order[k]);
    /* Each waiter found it taken; the k-th had k + 1 holders ahead of it (spins). */
    KEXPECT_EQ(queue_lock.contentions - c0, (uint64_t)waiters);
    KEXPECT_EQ(queue_lock.spins - s0, (uint64_t)waiters * (waiters + 1) / 2);
    KEXPECT_EQ(queue_lock.bounces - b0, (uint64_t)waiters); /* every hand-over moves it */
    /* The k-th in line saw k others served first, never more: the fairness bound. */
    KEXPECT_EQ(queue_lock.overtaken_max, (uint64_t)waiters - 1);
}
