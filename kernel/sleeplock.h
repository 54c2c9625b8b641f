/*
 * Description: sleeplocks, for long holds (a buffer during disk I/O). A thread that
 * finds the lock taken sleeps instead of spinning, and the holder may itself sleep.
 * Only threads may use them (not interrupt handlers, not the boot code).
 *  - sleeplock_init(lk, name), acquiresleep, releasesleep, holdingsleep
 * Panics: releasing a sleeplock the calling thread does not hold.
 */
#pragma once

#include "kernel/spinlock.h"

struct thread;

struct sleeplock {
    int locked;
    int waiters;        /* threads asleep in acquiresleep: release wakes only if any */
    struct spinlock lk; /* protects locked, waiters and holder */
    const char *name;
    struct thread *holder; /* NULL when free */
};

void sleeplock_init(struct sleeplock *lk, const char *name);
void acquiresleep(struct sleeplock *lk);
void releasesleep(struct sleeplock *lk);
int holdingsleep(struct sleeplock *lk);
