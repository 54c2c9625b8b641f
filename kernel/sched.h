/*
 * Description: the per-hart scheduler and sleep/wakeup.
 *  - sched_init: once, on the boot hart, before any thread exists
 *  - sched_run_hart: the scheduler loop every hart ends in; never returns
 *  - sched_tick: from the timer interrupt; preempts the running thread at the end
 *    of its time slice
 *  - sleep(chan, lk): the caller holds lk (which protects the condition it waits
 *    for); sleep releases lk, sleeps until wakeup(chan), and re-acquires lk before
 *    returning. No wakeup is lost: see the rule in sched.c.
 *  - wakeup(chan): makes every thread sleeping on chan runnable. Call it holding the
 *    lock that protects the condition (the one the sleepers passed to sleep). Safe
 *    from interrupt handlers.
 *  - wakeup_thread(t, chan): wakeup(chan) for one thread the caller knows (e.g. the
 *    one waiting for a finished request): O(1) instead of a walk over the threads.
 *    Same rule: hold the condition's lock; t may be NULL (nobody waits yet)
 *  - sleep_ticks(n): sleeps for n timer ticks (TICK_HZ per second)
 */
#pragma once

#include <stdint.h>

struct spinlock;

void sched_init(void);
__attribute__((noreturn)) void sched_run_hart(void);
void sched_tick(void);
void sleep(void *chan, struct spinlock *lk);
void wakeup(void *chan);
struct thread;
void wakeup_thread(struct thread *t, void *chan);
void sleep_ticks(uint64_t n);

/* For thread.c; both are called with t->lock held. */
void sched_make_runnable(struct thread *t); /* state = RUNNABLE, onto a run queue */
void sched_switch_out(void); /* the running thread gives up the hart (state already set) */
