/*
 * Description: the lock-order checker and the stuck-lock detector.
 *  - suite `lockorder`: the documented order (kernel/lockorder.h) is what the table
 *    says, and the kernel's own locks carry the classes the order talks about
 *  - panic_lock_order_bcache, panic_lock_order_pmem: acquiring against the order
 *    panics naming both locks and their classes (only in Debug builds, where
 *    LOCK_CHECKS is on; the host runner checks the panic line)
 *  - panic_stuck_lock: a lock that is never released is reported as stuck, naming
 *    the holder, instead of hanging (run with lock.stuck_ms= set low)
 */
#include "fs/bufcache.h"
#include "kernel/cpu.h"
#include "kernel/lockorder.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "lib/string.h"
#include "tests/ktest.h"

KTEST(lockorder, table_matches_the_documented_order)
{
    static const enum lock_class order[] = {
        LOCK_CLASS_DEFAULT, LOCK_CLASS_BCACHE_EVICT, LOCK_CLASS_BCACHE_BUCKET,
        LOCK_CLASS_THREAD,  LOCK_CLASS_RUNQ,         LOCK_CLASS_PMEM_STEAL,
        LOCK_CLASS_PMEM,    LOCK_CLASS_LOCKSTAT,     LOCK_CLASS_CONSOLE};
    int n = sizeof(order) / sizeof(order[0]);
    KASSERT_EQ(n, LOCK_CLASS_COUNT);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            int expected = i < j || (i == 0 && j == 0);
            KEXPECT_EQ(lock_order_allows(order[i], order[j]), expected);
        }
    }
    /* The two rules the course is about, spelled out. */
    KEXPECT_TRUE(lock_order_allows(LOCK_CLASS_BCACHE_EVICT, LOCK_CLASS_BCACHE_BUCKET));
    KEXPECT_FALSE(lock_order_allows(LOCK_CLASS_BCACHE_BUCKET, LOCK_CLASS_BCACHE_EVICT));
    KEXPECT_FALSE(lock_order_allows(LOCK_CLASS_BCACHE_BUCKET, LOCK_CLASS_BCACHE_BUCKET));
    KEXPECT_FALSE(lock_order_allows(LOCK_CLASS_PMEM, LOCK_CLASS_PMEM));
}

struct class_check {
    const char *prefix;
    enum lock_class class;
    int optional; /* this kernel may have no such lock */
    int seen, wrong;
};

#define NCHECKS 7

/* A lock is judged by the check with the longest prefix of its name (pmem.steal is
 * not one of the pmem list locks, which are pmem.cpuN, or just pmem with one list). */
static void check_class(struct spinlock *lk, void *arg)
{
    struct class_check *checks = arg, *best = 0;
    for (int i = 0; i < NCHECKS; i++)
        if (strncmp(lk->name, checks[i].prefix, strlen(checks[i].prefix)) == 0 &&
            (!best || strlen(checks[i].prefix) > strlen(best->prefix)))
            best = &checks[i];
    if (best) {
        best->seen++;
        best->wrong += lk->class != best->class;
    }
}

KTEST(lockorder, kernel_locks_carry_their_classes)
{
    struct class_check checks[NCHECKS] = {
        {"pmem", LOCK_CLASS_PMEM, 0, 0, 0},
        {"pmem.steal", LOCK_CLASS_PMEM_STEAL, 1, 0, 0},
        {"pmem.baseline", LOCK_CLASS_DEFAULT, 1, 0, 0}, /* tests/pmem_baseline.c */
        {"runq.cpu", LOCK_CLASS_RUNQ, 0, 0, 0},
        {"thread.1", LOCK_CLASS_THREAD, 0, 0, 0},
        /* not thread.join */ {"bcache.bucket", LOCK_CLASS_BCACHE_BUCKET, 0, 0, 0},
        {"bcache.evict", LOCK_CLASS_BCACHE_EVICT, 0, 0, 0},
    };
    lockstat_foreach(check_class, checks);
    for (size_t i = 0; i < NCHECKS; i++) {
        if (!checks[i].optional)
            KEXPECT_GT(checks[i].seen, 0);
        KEXPECT_EQ(checks[i].wrong, 0);
    }
}

#ifndef LOCK_CHECKS
#define REQUIRE_LOCK_CHECKS()                                                                      \
    ktest_fail(__FILE__, __LINE__, "lock order checks are off in this build (Debug only)")
#else
#define REQUIRE_LOCK_CHECKS() (void)0
#endif

KTEST(panic_lock_order_bcache, bucket_then_evict)
{
    static struct spinlock bucket, evict;
    spinlock_init(&bucket, "test.bucket");
    spinlock_set_class(&bucket, LOCK_CLASS_BCACHE_BUCKET);
    spinlock_init(&evict, "test.evict");
    spinlock_set_class(&evict, LOCK_CLASS_BCACHE_EVICT);
    REQUIRE_LOCK_CHECKS();
    acquire(&bucket);
    acquire(&evict); /* wrong: the eviction lock comes first */
    release(&evict);
    release(&bucket);
    ktest_fail(__FILE__, __LINE__, "taking the eviction lock under a bucket lock did not panic");
}

KTEST(panic_lock_order_pmem, two_pmem_lists)
{
    static struct spinlock a, b;
    spinlock_init(&a, "test.pmem.a");
    spinlock_set_class(&a, LOCK_CLASS_PMEM);
    spinlock_init(&b, "test.pmem.b");
    spinlock_set_class(&b, LOCK_CLASS_PMEM);
    REQUIRE_LOCK_CHECKS();
    acquire(&a);
    acquire(&b); /* wrong: a steal never holds two per-CPU lists */
    release(&b);
    release(&a);
    ktest_fail(__FILE__, __LINE__, "holding two pmem locks did not panic");
}

static struct spinlock stuck;
static volatile int stuck_taken;

static void take_and_keep(void *arg)
{
    (void)arg;
    acquire(&stuck);
    stuck_taken = 1;
    for (;;)
        ; /* never released; interrupts are off while a spinlock is held */
}

KTEST(panic_stuck_lock, never_released)
{
    spinlock_init(&stuck, "test.stuck");
    if (ncpu < 2) {
        ktest_fail(__FILE__, __LINE__, "needs two harts");
        return;
    }
    thread_create("keeper", take_and_keep, 0, 1);
    while (!stuck_taken)
        thread_yield();
    acquire(&stuck); /* spins until the stuck-lock limit, then panics */
    ktest_fail(__FILE__, __LINE__, "acquired a lock that is never released");
}
