/*
 * Description: one run queue per hart, the scheduler loop, sleep and wakeup.
 *
 * Where a thread runs (the placement rule):
 *  - a pinned thread only ever goes onto its own hart's queue;
 *  - an unpinned thread goes, when created, onto the queue with the fewest waiting
 *    threads;
 *    after a time slice or a wakeup, back onto the queue of the hart it last ran on
 *    (its cache is still warm there);
 *  - a hart whose queue is empty steals one unpinned thread from the other queues,
 *    round-robin from its neighbour (the same idea as pmem's stealing).
 *
 * Locks and their order (each arrow means "may acquire while holding"):
 *    condition lock (passed to sleep) -> thread lock -> run-queue lock
 * A thread's lock is held across the switch from the thread to the scheduler (and
 * back): it is taken by the thread before the switch and released by the scheduler
 * after it, so no other hart can run or wake a thread whose registers are still
 * being saved. Nobody holds two thread locks or two run-queue locks at once, and a
 * run-queue lock is never held while taking a thread lock (the scheduler pops a
 * thread, releases the queue, then locks the thread), so no cycle can form.
 */
#include "kernel/sched.h"

#include "arch/riscv/csr.h"
#include "arch/riscv/sbi.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "kernel/trace.h"

struct runq {
    struct spinlock lock; /* protects threads and n */
    struct list_node threads;
    int n;
};

static struct runq runqs[NCPU];
static const char *const runq_names[] = {"runq.cpu0",  "runq.cpu1",  "runq.cpu2",  "runq.cpu3",
                                         "runq.cpu4",  "runq.cpu5",  "runq.cpu6",  "runq.cpu7",
                                         "runq.cpu8",  "runq.cpu9",  "runq.cpu10", "runq.cpu11",
                                         "runq.cpu12", "runq.cpu13", "runq.cpu14", "runq.cpu15"};
_Static_assert(NCPU <= sizeof(runq_names) / sizeof(runq_names[0]), "name the extra run queues");

/* sleep_ticks: tick_count counts hart 0's timer ticks; sleepers wait on it. */
static struct spinlock tick_lock;
static uint64_t tick_count;

void sched_init(void)
{
    for (int i = 0; i < NCPU; i++) {
        spinlock_init(&runqs[i].lock, runq_names[i]);
        spinlock_set_class(&runqs[i].lock, LOCK_CLASS_RUNQ);
        list_init(&runqs[i].threads);
    }
    spinlock_init(&tick_lock, "ticks");
}

static int least_loaded_cpu(void)
{
    int best = 0;
    for (int i = 1; i < ncpu; i++)
        if (runqs[i].n < runqs[best].n) /* unlocked reads: a hint is enough */
            best = i;
    return best;
}

/* Called with t->lock held. */
void sched_make_runnable(struct thread *t)
{
    int cpu = t->pinned_cpu;
    if (cpu == THREAD_ANY_CPU)
        cpu = t->cpu >= 0 ? t->cpu : least_loaded_cpu();
    t->state = THREAD_RUNNABLE;
    struct runq *q = &runqs[cpu];
    acquire(&q->lock);
    list_push_back(&q->threads, &t->runq_link);
    q->n++;
    release(&q->lock);
    /* A hart asleep in wfi would only notice at its next tick: wake it now. */
    if (cpu != cpuid() && cpus[cpu].online)
        sbi_send_ipi_mask(1, cpus[cpu].hartid);
}

/* Pops the first thread of queue `cpu` that this hart may run, or NULL. */
static struct thread *runq_take(int cpu, int only_unpinned)
{
    struct runq *q = &runqs[cpu];
    struct thread *found = NULL;
    acquire(&q->lock);
    struct list_node *n;
    list_for_each(n, &q->threads) {
        struct thread *t = list_entry(n, struct thread, runq_link);
        if (!only_unpinned || t->pinned_cpu == THREAD_ANY_CPU) {
            list_remove(n);
            q->n--;
            found = t;
            break;
        }
    }
    release(&q->lock);
    return found;
}

static struct thread *pick_next(int self)
{
    struct thread *t = runq_take(self, 0);
    for (int i = 1; !t && i < ncpu; i++)
        t = runq_take((self + i) % ncpu, 1);
    return t;
}

void sched_run_hart(void)
{
    struct cpu *c = mycpu();
    for (;;) {
        intr_on(); /* let pending interrupts (wakeups, ticks) in between threads */
        struct thread *t = pick_next(c->id);
        if (!t) {
            /* Sleep until an interrupt; checking with interrupts off means an IPI
             * from sched_make_runnable cannot slip in between the check and wfi.
             * Only this hart's queue is checked: a thread to steal from another
             * queue is found at the next tick at the latest (10 ms). */
            intr_off();
            if (list_empty(&runqs[c->id].threads))
                wfi();
            continue;
        }
        acquire(&t->lock);
        if (t->state != THREAD_RUNNABLE)
            panic("scheduler: thread '%s' on a run queue in state %s", t->name,
                  thread_state_name(t->state));
        t->state = THREAD_RUNNING;
        t->cpu = c->id;
        t->switches++;
        c->thread = t;
        trace_event(TRACE_SWITCH, (uintptr_t)t, 1);
        context_switch(&c->sched_context, &t->context);
        /* Back from the thread: it yielded, slept or exited, and holds its lock. */
        trace_event(TRACE_SWITCH, (uintptr_t)t, 0);
        c->thread = NULL;
        thread_check_canary(t);
        if (t->state == THREAD_RUNNABLE)
            sched_make_runnable(t);
        release(&t->lock);
    }
}

void sched_switch_out(void)
{
    struct cpu *c = mycpu();
    struct thread *t = c->thread;
    if (!holding(&t->lock))
        panic("sched: thread '%s' does not hold its own lock", t->name);
    if (c->noff != 1)
        panic("sched: thread '%s' holds %d locks besides its own", t->name, c->noff - 1);
    if (t->state == THREAD_RUNNING)
        panic("sched: thread '%s' is still marked running", t->name);
    if (intr_get())
        panic("sched: interrupts on in thread '%s'", t->name);
    thread_check_canary(t);
    /* intena belongs to the thread, not the hart: it may come back elsewhere. */
    int intena = c->intena;
    context_switch(&t->context, &c->sched_context);
    mycpu()->intena = intena;
}

void sched_tick(void)
{
    if (cpuid() == 0) {
        acquire(&tick_lock);
        tick_count++;
        wakeup(&tick_count);
        release(&tick_lock);
    }
    if (mycpu()->thread)
        thread_yield(); /* preemption: every tick ends the time slice */
}

/*
 * Why no wakeup is lost: the sleeper takes its own lock and marks itself SLEEPING on
 * chan before it lets go of lk, and keeps its lock until the scheduler has switched
 * away from it. A waker must hold lk to change the condition, so it either runs
 * entirely before the sleeper checked the condition (and the sleeper sees the
 * change), or it finds the sleeper already marked SLEEPING on chan; taking the
 * sleeper's lock in wakeup() then waits until the sleeper is off the hart.
 * lk must not be a thread's lock.
 */
void sleep(void *chan, struct spinlock *lk)
{
    struct thread *t = thread_current();
    if (!t)
        panic("sleep: called outside a thread (chan %p)", chan);
    acquire(&t->lock);
    t->chan = chan;
    t->state = THREAD_SLEEPING;
    release(lk);
    sched_switch_out();
    t->chan = NULL;
    release(&t->lock);
    acquire(lk);
}

void wakeup(void *chan)
{
    struct thread *self = thread_current();
    for (int i = 0; i < NTHREAD; i++) {
        struct thread *t = &threads[i];
        /* Skipping threads that are not asleep without taking their lock is safe:
         * every sleeper that matters to this caller went to sleep holding the lock
         * the caller holds now, and marked itself SLEEPING before releasing it. */
        if (t == self || __atomic_load_n(&t->state, __ATOMIC_RELAXED) != THREAD_SLEEPING)
            continue;
        acquire(&t->lock);
        if (t->state == THREAD_SLEEPING && t->chan == chan)
            sched_make_runnable(t);
        release(&t->lock);
    }
}

void sleep_ticks(uint64_t n)
{
    acquire(&tick_lock);
    uint64_t start = tick_count;
    while (tick_count - start < n)
        sleep(&tick_count, &tick_lock);
    release(&tick_lock);
}
