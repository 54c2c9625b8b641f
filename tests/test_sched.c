/*
 * Description: suite `sched`: threads, the per-hart scheduler, preemption,
 * sleep/wakeup across harts, join values and sleeplocks, and that all of it gives
 * back every thread slot and stack page. Also hang_watchdog and
 * panic_sleeplock_release, which only run when named (the host runner checks them).
 */
#include "arch/riscv/csr.h"
#include "arch/riscv/timer.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/sched.h"
#include "kernel/sleeplock.h"
#include "kernel/thread.h"
#include "mm/pmem.h"
#include "tests/ktest.h"

static size_t pages_at_start;
static int threads_at_start;

static int threads_in_use(void)
{
    int n = 0;
    for (int i = 0; i < NTHREAD; i++)
        n += __atomic_load_n(&threads[i].state, __ATOMIC_RELAXED) != THREAD_UNUSED;
    return n;
}

KTEST(sched, record_starting_point)
{
    pages_at_start = pmem_free_pages();
    threads_at_start = threads_in_use();
    KEXPECT_GE(threads_at_start, 2); /* the runner and its watchdog */
}

/* --- More threads than harts, one shared counter under a lock. */

#define COUNTER_ROUNDS 20000
static struct spinlock counter_lock;
static uint64_t counter;

static void count_up(void *arg)
{
    (void)arg;
    for (int i = 0; i < COUNTER_ROUNDS; i++) {
        acquire(&counter_lock);
        counter++;
        release(&counter_lock);
    }
}

KTEST(sched, shared_counter_exact_with_more_threads_than_harts)
{
    static int initialised;
    if (!initialised++)
        spinlock_init(&counter_lock, "test.counter");
    int n = 3 * ncpu + 1;
    static struct thread *t[3 * NCPU + 1]; /* NCPU-sized: off the one-page stack */
    counter = 0;
    for (int i = 0; i < n; i++)
        KASSERT_TRUE((t[i] = thread_create("counter", count_up, 0, THREAD_ANY_CPU)) != 0);
    for (int i = 0; i < n; i++)
        thread_join(t[i]);
    KEXPECT_EQ(counter, (uint64_t)n * COUNTER_ROUNDS);
}

/* --- join returns the value given to thread_exit. */

static void exit_with(void *arg) { thread_exit((long)(uintptr_t)arg * 7 + 1); }

KTEST(sched, join_returns_exit_value)
{
    struct thread *t[8];
    for (int i = 0; i < 8; i++)
        KASSERT_TRUE((t[i] = thread_create("exit", exit_with, (void *)(uintptr_t)i, i % ncpu)) !=
                     0);
    for (int i = 0; i < 8; i++)
        KEXPECT_EQ(thread_join(t[i]), i * 7 + 1);
}

/* --- Ping-pong: two threads on different harts take turns through sleep/wakeup. */

#define PINGPONG_ROUNDS 2000
static struct spinlock turn_lock;
static int turn; /* whose turn: 0 or 1 */
static int out_of_turn;

static void ping_pong(void *arg)
{
    int me = (int)(uintptr_t)arg;
    for (int i = 0; i < PINGPONG_ROUNDS; i++) {
        acquire(&turn_lock);
        while (turn != me)
            sleep(&turn, &turn_lock);
        if (turn != me)
            out_of_turn++;
        turn = !me;
        wakeup(&turn);
        release(&turn_lock);
    }
}

KTEST(sched, sleep_wakeup_ping_pong_across_harts)
{
    static int initialised;
    if (!initialised++)
        spinlock_init(&turn_lock, "test.turn");
    turn = 0;
    out_of_turn = 0;
    int other = ncpu > 1 ? 1 : 0;
    struct thread *a = thread_create("ping", ping_pong, (void *)0, 0);
    struct thread *b = thread_create("pong", ping_pong, (void *)1, other);
    KASSERT_TRUE(a && b);
    thread_join(a);
    thread_join(b);
    KEXPECT_EQ(out_of_turn, 0);
    KEXPECT_EQ(turn, 0); /* an even number of handovers */
}

/* --- Preemption: a thread that never yields does not starve another on its hart. */

static volatile int released_spinner;

static void spin_until_released(void *arg)
{
    (void)arg;
    while (!released_spinner)
        ; /* no yield, no sleep: only the timer can take the hart away */
}

static void release_spinner(void *arg)
{
    (void)arg;
    released_spinner = 1;
}

KTEST(sched, spinning_thread_is_preempted)
{
    int cpu = ncpu - 1;
    released_spinner = 0;
    struct thread *spinner = thread_create("spinner", spin_until_released, 0, cpu);
    KASSERT_TRUE(spinner != 0);
    thread_yield(); /* give the spinner a chance to start first */
    struct thread *releaser = thread_create("releaser", release_spinner, 0, cpu);
    KASSERT_TRUE(releaser != 0);
    thread_join(releaser);
    thread_join(spinner);
    KEXPECT_EQ(released_spinner, 1);
}

/* --- Sleeplocks: mutual exclusion while the holder sleeps. */

static struct sleeplock test_sleeplock;
static int holders_inside;
static int overlaps;

static void hold_and_sleep(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5; i++) {
        acquiresleep(&test_sleeplock);
        if (!holdingsleep(&test_sleeplock) ||
            __atomic_fetch_add(&holders_inside, 1, __ATOMIC_RELAXED))
            __atomic_fetch_add(&overlaps, 1, __ATOMIC_RELAXED);
        sleep_ticks(1); /* hold the lock across a sleep */
        __atomic_fetch_sub(&holders_inside, 1, __ATOMIC_RELAXED);
        releasesleep(&test_sleeplock);
    }
}

KTEST(sched, sleeplock_excludes_while_holder_sleeps)
{
    static int initialised;
    if (!initialised++)
        sleeplock_init(&test_sleeplock, "test.sleeplock");
    overlaps = 0;
    holders_inside = 0;
    ktest_on_each_hart(hold_and_sleep, 0);
    KEXPECT_EQ(overlaps, 0);
    KEXPECT_FALSE(holdingsleep(&test_sleeplock));
}

/* --- Wakeup latency: the woken thread's last hart is busy and another is idle.
 * A waker pinned to the sleeper's last hart wakes it and then keeps that hart busy.
 * Left on the busy hart's queue, the sleeper would wait for the waker's time slice to
 * end (up to a tick); placed on an idle hart, it runs at once. The figures are
 * printed (a measurement, not a check: the host's load decides them); the checks are
 * that every wakeup arrives and the sleeper runs. */

#define LATENCY_ROUNDS 20
static struct spinlock latency_lock;
static int latency_woken;            /* under latency_lock */
static volatile uint64_t latency_t0; /* rdtime() at the wakeup */
static volatile uint64_t latency_t1; /* rdtime() when the sleeper runs again */
static volatile int latency_ran_on;  /* the hart it ran on */

static void latency_sleeper(void *arg)
{
    (void)arg;
    acquire(&latency_lock);
    while (!latency_woken)
        sleep(&latency_woken, &latency_lock);
    release(&latency_lock);
    latency_t1 = rdtime();
    latency_ran_on = cpuid();
}

static void latency_busy_waker(void *arg)
{
    (void)arg;
    acquire(&latency_lock);
    latency_woken = 1;
    latency_t0 = rdtime();
    wakeup(&latency_woken);
    release(&latency_lock);
    uint64_t limit = rdtime() + timer_timebase_hz() / 5; /* 200 ms at most */
    while (!latency_t1 && rdtime() < limit)
        ; /* interrupts on: the tick may preempt it, as it would any busy thread */
}

KTEST(sched, wakeup_latency_when_last_hart_is_busy)
{
    if (ncpu < 2) {
        ktest_skip("needs a second hart to be idle");
        return;
    }
    static int initialised;
    if (!initialised++)
        spinlock_init(&latency_lock, "test.latency");
    uint64_t us[LATENCY_ROUNDS];
    int moved = 0;
    for (int r = 0; r < LATENCY_ROUNDS; r++) {
        latency_woken = 0;
        latency_t1 = 0;
        struct thread *s = thread_create("lat.sleeper", latency_sleeper, 0, THREAD_ANY_CPU);
        KASSERT_TRUE(s != 0);
        while (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != THREAD_SLEEPING)
            thread_yield();
        int last = s->cpu; /* asleep: it stays this until the wakeup */
        struct thread *w = thread_create("lat.waker", latency_busy_waker, 0, last);
        KASSERT_TRUE(w != 0);
        thread_join(w);
        thread_join(s);
        KEXPECT_NE(latency_t1, 0);
        us[r] = (latency_t1 - latency_t0) * 1000000 / timer_timebase_hz();
        moved += latency_ran_on != last;
    }
    for (int i = 1; i < LATENCY_ROUNDS; i++) /* sort, for the median */
        for (int j = i; j > 0 && us[j - 1] > us[j]; j--) {
            uint64_t x = us[j];
            us[j] = us[j - 1];
            us[j - 1] = x;
        }
    kprintf("    # wakeup to running, last hart busy: median %lu us, min %lu, max %lu; "
            "%d of %d ran on another hart\n",
            us[LATENCY_ROUNDS / 2], us[0], us[LATENCY_ROUNDS - 1], moved, LATENCY_ROUNDS);
}

/* --- Every test above joined what it created: nothing leaked. Keep this test last. */

KTEST(sched, no_thread_or_stack_page_leaked)
{
    KEXPECT_EQ(threads_in_use(), threads_at_start);
    KEXPECT_EQ(pmem_free_pages(), pages_at_start);
}

/* --- Only when named: a test that hangs, for the host runner to see the watchdog. */

KTEST(hang_watchdog, spins_forever)
{
    for (;;)
        ;
}

static void release_not_held(void *arg) { releasesleep(arg); }

KTEST(panic_sleeplock_release, release_by_non_holder)
{
    static struct sleeplock lk;
    sleeplock_init(&lk, "test.not_held");
    struct thread *t = thread_create("releaser", release_not_held, &lk, THREAD_ANY_CPU);
    if (t)
        thread_join(t);
    ktest_fail(__FILE__, __LINE__, "releasesleep by a non-holder did not panic");
}
