/*
 * Description: suite `sched`: threads, the per-hart scheduler, preemption,
 * sleep/wakeup across harts, join values and sleeplocks, and that all of it gives
 * back every thread slot and stack page. Also hang_watchdog and
 * panic_sleeplock_release, which only run when named (the host runner checks them).
 */
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
    struct thread *t[3 * NCPU + 1];
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
