/*
 * Description: the kernel's lock order, written down once and checked at run time
 * (in Debug builds, where LOCK_CHECKS is defined).
 *
 * Every spinlock belongs to a class; a class has a rank. A hart may acquire a lock
 * only if its rank is higher than the rank of every lock the hart already holds, so
 * every hart takes locks in the same order and no cycle (no deadlock) can form.
 * Locks of the DEFAULT class (condition locks: drivers, sleeplock guards, tests) are
 * not ordered among themselves, only against the ranked classes. Two locks of one
 * ranked class are never held together.
 *
 *   DEFAULT < BCACHE_EVICT < BCACHE_BUCKET < THREAD < RUNQ < PMEM_STEAL < PMEM < LOCKSTAT
 *   < CONSOLE
 *
 *  - bufcache: the eviction lock, then one bucket lock at a time (fs/bufcache.c)
 *  - sleep/wakeup: a condition lock, then a thread's lock, then a run queue
 *    (kernel/sched.c)
 *  - pmem: one free-list lock at a time, taken last but for output, after the
 *    allocator's PMEM_STEAL lock if it has one (mm/pmem.c); thread_join frees a
 *    stack under the thread's lock
 *  - the console and the lock registry are leaves: nothing is taken after them
 */
#pragma once

enum lock_class {
    LOCK_CLASS_DEFAULT,
    LOCK_CLASS_BCACHE_EVICT,
    LOCK_CLASS_BCACHE_BUCKET,
    LOCK_CLASS_THREAD,
    LOCK_CLASS_RUNQ,
    LOCK_CLASS_PMEM_STEAL,
    LOCK_CLASS_PMEM,
    LOCK_CLASS_LOCKSTAT,
    LOCK_CLASS_CONSOLE,
    LOCK_CLASS_COUNT
};

const char *lock_class_name(enum lock_class class);
/* May a hart holding a lock of class `held` acquire one of class `next`? */
int lock_order_allows(enum lock_class held, enum lock_class next);
