/*
 * Description: kernel threads. Each has its own stack (one page from pmem), a name,
 * and is either pinned to one hart or free to run on any (THREAD_ANY_CPU); where an
 * unpinned thread runs is the rule in sched.c.
 *  - threads_init: once, on the boot hart
 *  - thread_create(name, fn, arg, cpu): a new runnable thread that calls fn(arg);
 *    NULL if the thread table is full or there is no page for a stack
 *  - thread_exit(value): ends the calling thread; returning from fn is exit(0)
 *  - thread_join(t): waits for t to exit, frees it, returns its exit value. Every
 *    thread must be joined exactly once, or its slot and stack stay used.
 *  - thread_yield: give the hart to the next runnable thread
 *  - thread_current: the calling thread, NULL on a hart's scheduler/boot stack
 *  - thread_dump: one line per thread (name, state, hart, switches); for the
 *    test watchdog and the monitor
 * A stack canary at the bottom of each stack is checked at every switch; an
 * overflow panics naming the thread.
 */
#pragma once

#include <stdint.h>

#include "arch/riscv/context.h"
#include "kernel/spinlock.h"
#include "lib/list.h"

#define THREAD_ANY_CPU (-1)
/* Room for four threads per hart (a test's stress threads and the ones it joins meanwhile)
 * plus the runner, watchdog and monitor; wakeup() looks only at slots ever used. */
#define NTHREAD (4 * NCPU + 8)
#define THREAD_NAME_MAX 16

enum thread_state {
    THREAD_UNUSED,
    THREAD_RUNNABLE,
    THREAD_RUNNING,
    THREAD_SLEEPING,
    THREAD_ZOMBIE
};

struct thread {
    struct spinlock lock; /* protects state, chan, cpu and the run-queue link */
    enum thread_state state;
    void *chan;                 /* what it sleeps on, when SLEEPING */
    int pinned_cpu;             /* THREAD_ANY_CPU, or the only hart it may run on */
    int cpu;                    /* hart it runs on, or last ran on */
    struct list_node runq_link; /* on a run queue while RUNNABLE (sched.c) */
    struct context context;
    int intena;      /* interrupt state of the thread across a switch */
    uint64_t *stack; /* one page; stack[0] holds the canary */
    void (*fn)(void *arg);
    void *arg;
    long exit_value;
    uint64_t switches;       /* times it was switched in */
    uint64_t runnable_since; /* rdtime() when it last became RUNNABLE */
    uint64_t last_wait;      /* timebase ticks from RUNNABLE to running, the last time */
    char name[THREAD_NAME_MAX];
    char lock_name[12]; /* "thread.N": tells the slots apart in lockstat */
};

extern struct thread threads[NTHREAD];

void threads_init(void);
struct thread *thread_create(const char *name, void (*fn)(void *arg), void *arg, int cpu);
__attribute__((noreturn)) void thread_exit(long value);
long thread_join(struct thread *t);
void thread_yield(void);
struct thread *thread_current(void);
void thread_dump(void);
/* Slots 0..n-1 are the only ones that ever held a thread (n only grows). */
int thread_slots_used(void);
const char *thread_state_name(enum thread_state state);

/* For sched.c: panics naming the thread if its stack overflowed into the canary. */
void thread_check_canary(struct thread *t);
