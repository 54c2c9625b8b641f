/*
 * Description: spinlocks with contention counters.
 *  - spinlock_init(lk, name): every lock has a name and is registered for lockstat;
 *    call it once per lock, and only for locks that live forever (static, or in a
 *    long-lived struct): the registry keeps a pointer to it
 *  - acquire / release: interrupts stay off on this hart while it holds any spinlock
 *    (push_off/pop_off nest), so an interrupt handler on the same hart can never spin
 *    on a lock its own hart holds
 *  - holding: does this hart hold lk (call with interrupts off)
 *  - lockstat_print / lockstat_reset: all registered locks sorted by spins (locks that
 *    share a name, such as the 64 bcache.buf, add up into one row)
 * Panics: acquiring a lock this hart already holds, releasing one it does not hold;
 * in Debug builds also acquiring against the lock order (lockorder.h), and a spin
 * that lasts longer than the stuck limit (a deadlock becomes a report, not a hang).
 *
 * What is counted: `acquires` is the number of successful acquires; `spins` is the
 * number of failed test-and-set attempts before them (xv6's lock lab counts the same
 * thing); `contentions` counts the acquires that found the lock taken (spins > 0);
 * `bounces` counts the acquires made on a different hart from the previous holder
 * (the lock's cache line had to move). All are updated while the lock is held, so
 * they need no atomics.
 */
#pragma once

#include <stdint.h>

#include "kernel/lockorder.h"

struct spinlock {
    volatile uint32_t locked;
    const char *name;
    enum lock_class class; /* its place in the lock order (lockorder.h) */
    int cpu;               /* logical id of the holder, -1 when free */
    uintptr_t pc;          /* where the holder called acquire() (for debugging) */
    uint64_t acquires;
    uint64_t spins;
    uint64_t contentions; /* acquires that found the lock taken */
    uint64_t bounces;     /* acquires on a different hart from the previous holder */
    int last_cpu;         /* logical id of the previous holder, -1 before the first acquire */
    struct spinlock *next_registered; /* lockstat's list, under the registry lock */
};

void spinlock_init(struct spinlock *lk, const char *name);
/* Puts lk in a lock class other than LOCK_CLASS_DEFAULT (see lockorder.h). */
void spinlock_set_class(struct spinlock *lk, enum lock_class class);
/* From now on a spin longer than ms milliseconds is reported as a stuck lock and
 * panics (0: never); the kernel command line's lock.stuck_ms= sets it. */
void spinlock_set_stuck_limit(uint64_t ms);
void acquire(struct spinlock *lk);
void release(struct spinlock *lk);
int holding(struct spinlock *lk);

void push_off(void);
void pop_off(void);

void lockstat_print(void);
void lockstat_reset(void);
/* Visits every registered lock (under the registry lock); for tests and printers. */
void lockstat_foreach(void (*fn)(struct spinlock *lk, void *arg), void *arg);
