/*
 * Description: a deliberate ABBA deadlock, for the debugging chapter
 * (docs/09-debugging.md) and the CTest tests gdb_deadlock*. Two threads, deadlock_a
 * and deadlock_b, each take one lock and then the other one in the opposite order;
 * a handshake makes sure both hold their first lock before either asks for its
 * second, so the deadlock happens on every run, not one in a thousand.
 *  - suite hang_deadlock: with sleeplocks. Works on any number of harts (at 1 hart
 *    both threads sleep, the hart stays free). Once both sleep, the test prints
 *    "deadlock: ... both asleep" and joins them, which never returns; the ktest
 *    watchdog ends the boot after ktest.timeout= seconds.
 *  - suite hang_deadlock_spin: with spinlocks, so it needs 2 harts (at 1 hart the
 *    first thread would spin with interrupts off and the other could never run: it
 *    skips). Each hart spins with interrupts off forever; at 2 harts nothing else
 *    runs, not even the watchdog: the silent hang that only gdb can look into.
 *    The stuck-lock detector (lock.stuck_ms=, default 10 s) turns it into a panic;
 *    boot with lock.stuck_ms=0 to keep it hanging.
 * Both run only when named (hang_*), and once per boot at most (their locks are
 * registered for lockstat when the test starts).
 */
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/sleeplock.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "tests/ktest.h"

/* One thread's plan: take `first`, tell the other, wait for it, then take `second`. */
struct abba {
    const char *name;            /* the thread's name, for the console lines */
    int *ready_me, *ready_other; /* the handshake flags */
    void *first, *second;        /* struct sleeplock * or struct spinlock * */
};

static int ready_a, ready_b;

/* --- With sleeplocks: any number of harts. */

static struct sleeplock sleep_a, sleep_b;

static void sleeplock_abba(void *arg)
{
    struct abba *p = arg;
    struct sleeplock *first = p->first, *second = p->second;
    acquiresleep(first);
    __atomic_store_n(p->ready_me, 1, __ATOMIC_RELEASE);
    /* Yield rather than spin: at 1 hart the other thread needs this hart to get going. */
    while (!__atomic_load_n(p->ready_other, __ATOMIC_ACQUIRE))
        thread_yield();
    kprintf("deadlock: %s holds %s and now takes %s\n", p->name, first->name, second->name);
    acquiresleep(second); /* never returns: the other thread holds it and waits for ours */
    releasesleep(second);
    releasesleep(first);
}

static int asleep_on(struct thread *t, void *chan)
{
    return __atomic_load_n(&t->state, __ATOMIC_ACQUIRE) == THREAD_SLEEPING && t->chan == chan;
}

KTEST(hang_deadlock, abba_with_sleeplocks)
{
    static struct abba a = {"deadlock_a", &ready_a, &ready_b, &sleep_a, &sleep_b};
    static struct abba b = {"deadlock_b", &ready_b, &ready_a, &sleep_b, &sleep_a};
    sleeplock_init(&sleep_a, "deadlock.A");
    sleeplock_init(&sleep_b, "deadlock.B");
    struct thread *ta = thread_create("deadlock_a", sleeplock_abba, &a, 0);
    struct thread *tb = thread_create("deadlock_b", sleeplock_abba, &b, 1 % ncpu);
    KASSERT_TRUE(ta && tb);
    /* Tell the reader (and tools/gdb_commands_test.py) once the cycle is closed. */
    while (!asleep_on(ta, &sleep_b) || !asleep_on(tb, &sleep_a))
        thread_yield();
    kprintf("deadlock: deadlock_a and deadlock_b are both asleep, each waiting for the "
            "lock the other holds\n");
    thread_join(ta); /* never returns */
    thread_join(tb);
}

/* --- With spinlocks: two harts, each spinning with interrupts off. */

static struct spinlock spin_a, spin_b;

static void spinlock_abba(void *arg)
{
    struct abba *p = arg;
    struct spinlock *first = p->first, *second = p->second;
    acquire(first);
    __atomic_store_n(p->ready_me, 1, __ATOMIC_RELEASE);
    /* Interrupts are off (we hold a spinlock): the other thread is on another hart. */
    while (!__atomic_load_n(p->ready_other, __ATOMIC_ACQUIRE))
        ;
    kprintf("deadlock: %s holds %s and now takes %s\n", p->name, first->name, second->name);
    acquire(second); /* spins forever: the other hart holds it and spins on ours */
    release(second);
    release(first);
}

KTEST(hang_deadlock_spin, abba_with_spinlocks)
{
    static struct abba a = {"deadlock_a", &ready_a, &ready_b, &spin_a, &spin_b};
    static struct abba b = {"deadlock_b", &ready_b, &ready_a, &spin_b, &spin_a};
    if (ncpu < 2) {
        ktest_skip("a spinlock deadlock between two threads needs 2 harts");
        return;
    }
    spinlock_init(&spin_a, "deadlock.A");
    spinlock_init(&spin_b, "deadlock.B");
    struct thread *ta = thread_create("deadlock_a", spinlock_abba, &a, 0);
    struct thread *tb = thread_create("deadlock_b", spinlock_abba, &b, 1);
    KASSERT_TRUE(ta && tb);
    thread_join(ta); /* never returns; nothing on harts 0 and 1 runs again */
    thread_join(tb);
}
