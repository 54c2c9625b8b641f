/*
 * Description: one run queue per hart, the scheduler loop, sleep and wakeup.
 *
 * Where a thread runs (the placement rule):
 *  - a pinned thread only ever goes onto its own hart's queue;
 *  - an unpinned thread goes, when created, onto the queue with the fewest waiting
 *    threads;
 *    after a time slice or a wakeup, back onto the queue of the hart it last ran on
 *    (its cache is still warm there), unless that hart is busy and another is idle:
 *    then onto the idle hart's queue, so it runs now instead of after the busy
 *    hart's time slice (up to a tick, 10 ms);
 *  - a hart whose queue is empty steals one unpinned thread from the other queues,
 *    round-robin from its neighbour (the same idea as pmem's stealing); it reads each
 *    queue's count first and locks only queues that have threads.
 *
 * Idle harts: a hart with nothing to run sets its bit in idle_mask and sleeps in
 * wfi. A thread put on an idle hart's queue comes with an IPI to that hart only; a
 * busy hart gets none (it looks at its queue when its thread yields, sleeps or its
 * tick ends the slice), which saves an SBI call and a trap per wakeup.
 * Why no IPI is lost: the idle hart sets its bit, then (with interrupts off) checks
 * its queue, then waits; the waker adds the thread under the queue lock, then reads
 * the mask. Both sides put a full fence between their write and their read, so at
 * least one sees the other: the hart finds the thread, or the waker sees the bit and
 * the IPI stays pending in sip, which ends wfi even with interrupts off.
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
#include "arch/riscv/timer.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "kernel/trace.h"
#include "lib/printf.h"

/* Cache-line aligned: harts working on their own queues share no line. */
struct runq {
    struct spinlock lock; /* protects threads and n */
    struct list_node threads;
    int n; /* threads on the queue; read unlocked as a hint by stealers and placement */
    char name[16];
} __attribute__((aligned(64)));

static struct runq runqs[NCPU];
static uint64_t idle_mask; /* bit c: hart c is (about to be) asleep in wfi; atomics only */
_Static_assert(NCPU <= 64, "idle_mask has one bit per CPU");

/* sleep_ticks: tick_count counts hart 0's timer ticks; sleepers wait on it. */
static struct spinlock tick_lock;
static uint64_t tick_count;

void sched_init(void)
{
    for (int i = 0; i < NCPU; i++) {
        snprintf(runqs[i].name, sizeof(runqs[i].name), "runq.cpu%d", i);
        spinlock_init(&runqs[i].lock, runqs[i].name);
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

/* An idle hart to run an unpinned thread whose last hart is `cpu`: `cpu` itself if it
 * is idle or no hart is, else the first idle hart after it. */
static int placement(int cpu)
{
    uint64_t idle = __atomic_load_n(&idle_mask, __ATOMIC_RELAXED);
    if (!idle || (idle >> cpu & 1))
        return cpu;
    for (int i = 1; i < ncpu; i++)
        if (idle >> ((cpu + i) % ncpu) & 1)
            return (cpu + i) % ncpu;
    return cpu;
}

/* Called with t->lock held. */
void sched_make_runnable(struct thread *t)
{
    int cpu = t->pinned_cpu;
    if (cpu == THREAD_ANY_CPU)
        cpu = t->cpu >= 0 ? placement(t->cpu) : least_loaded_cpu();
    t->state = THREAD_RUNNABLE;
    t->runnable_since = rdtime();
    struct runq *q = &runqs[cpu];
    acquire(&q->lock);
    list_push_back(&q->threads, &t->runq_link);
    __atomic_store_n(&q->n, q->n + 1, __ATOMIC_RELAXED);
    release(&q->lock);
    /* A hart asleep in wfi would only notice at its next tick: wake it now. The fence
     * orders the push above before the read of its idle bit (see the top). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (cpu != cpuid() && (__atomic_load_n(&idle_mask, __ATOMIC_RELAXED) >> cpu & 1))
        sbi_send_ipi_mask(1, cpus[cpu].hartid);
}

/* Pops the first thread of queue `cpu` that this hart may run, or NULL. */
static struct thread *runq_take(int cpu, int only_unpinned)
{
    struct runq *q = &runqs[cpu];
    struct thread *found = NULL;
    if (__atomic_load_n(&q->n, __ATOMIC_RELAXED) == 0)
        return NULL; /* a hint: a thread added just now is found at the next look */
    acquire(&q->lock);
    struct list_node *n;
    list_for_each(n, &q->threads) {
        struct thread *t = list_entry(n, struct thread, runq_link);
        if (!only_unpinned || t->pinned_cpu == THREAD_ANY_CPU) {
            list_remove(n);
            __atomic_store_n(&q->n, q->n - 1, __ATOMIC_RELAXED);
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

/*
 * An idle hart waits for an interrupt with its tick stopped (but CPU 0, whose tick
 * keeps the time sleep_ticks counts): 63 idle harts ticking 100 times a second
 * would keep a small host busy waking them for nothing. Nothing is lost: work comes
 * to an idle hart with an IPI (placement, above) or as its device interrupt, and a
 * thread left on a busy hart's queue runs there when that hart's tick ends its
 * thread's slice, or is taken by a hart that steals before it goes idle.
 */
static void idle_wait(int self)
{
    if (self != 0)
        timer_stop_hart();
    wfi();
    if (self != 0)
        timer_init_hart();
}

void sched_run_hart(void)
{
    struct cpu *c = mycpu();
    for (;;) {
        intr_on(); /* let pending interrupts (wakeups, ticks) in between threads */
        struct thread *t = pick_next(c->id);
        if (!t) {
            /* Sleep until an interrupt. Interrupts off from the check to wfi, and the
             * idle bit set before the check: a thread placed here meanwhile is either
             * seen by the check or comes with an IPI (see the top of the file). */
            intr_off();
            __atomic_fetch_or(&idle_mask, 1ull << c->id, __ATOMIC_SEQ_CST);
            if (__atomic_load_n(&runqs[c->id].n, __ATOMIC_SEQ_CST) == 0)
                idle_wait(c->id);
            __atomic_fetch_and(&idle_mask, ~(1ull << c->id), __ATOMIC_RELAXED);
            continue;
        }
        acquire(&t->lock);
        if (t->state != THREAD_RUNNABLE)
            panic("scheduler: thread '%s' on a run queue in state %s", t->name,
                  thread_state_name(t->state));
        t->state = THREAD_RUNNING;
        t->cpu = c->id;
        t->switches++;
        t->last_wait = rdtime() - t->runnable_since;
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
    __atomic_store_n(&t->chan, chan, __ATOMIC_RELAXED);
    __atomic_store_n(&t->state, THREAD_SLEEPING, __ATOMIC_RELAXED);
    release(lk);
    sched_switch_out();
    __atomic_store_n(&t->chan, NULL, __ATOMIC_RELAXED);
    release(&t->lock);
    acquire(lk);
}

/* Makes t runnable if it sleeps on chan. Takes t's lock; see wakeup for the rule. */
static void wake_if_sleeping_on(struct thread *t, void *chan)
{
    acquire(&t->lock);
    if (t->state == THREAD_SLEEPING && t->chan == chan)
        sched_make_runnable(t);
    release(&t->lock);
}

/*
 * Looks at state and chan without the thread's lock and locks only the threads that
 * sleep on chan. Safe because every sleeper that matters to this caller went to sleep
 * holding the lock the caller holds now, and stored chan and SLEEPING before it let
 * go of that lock: the caller's acquire of it makes both stores visible. A thread that
 * reads differently is not asleep on chan under this lock (a stale value can only
 * belong to a sleep that another lock orders, whose waker is someone else). The
 * thread's lock is still taken before the change, to wait until it is off its hart.
 * Only slots up to the highest one ever used are looked at.
 */
void wakeup(void *chan)
{
    struct thread *self = thread_current();
    int n = thread_slots_used();
    for (int i = 0; i < n; i++) {
        struct thread *t = &threads[i];
        if (t == self || __atomic_load_n(&t->state, __ATOMIC_RELAXED) != THREAD_SLEEPING ||
            __atomic_load_n(&t->chan, __ATOMIC_RELAXED) != chan)
            continue;
        wake_if_sleeping_on(t, chan);
    }
}

void wakeup_thread(struct thread *t, void *chan)
{
    if (t)
        wake_if_sleeping_on(t, chan);
}

void sleep_ticks(uint64_t n)
{
    acquire(&tick_lock);
    uint64_t start = tick_count;
    while (tick_count - start < n)
        sleep(&tick_count, &tick_lock);
    release(&tick_lock);
}
