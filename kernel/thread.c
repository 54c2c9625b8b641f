/*
 * Description: kernel threads: the thread table, create, exit, join, yield (see
 * thread.h). Scheduling itself is in sched.c.
 *
 * Exit and join meet under join_lock, so that a joiner cannot miss the exit:
 * the exiting thread takes join_lock, wakes joiners, then marks itself ZOMBIE under
 * its own lock and switches away; the joiner, holding join_lock, checks for ZOMBIE
 * under the thread's lock and otherwise sleeps on the thread with join_lock.
 * Lock order: join_lock -> thread lock (and on, as in sched.c). Seeing ZOMBIE under
 * the thread's lock also proves the thread is off its stack: it held that lock until
 * the scheduler had switched away from it. So the joiner may free the stack.
 */
#include "kernel/thread.h"

#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/pmem.h"

#define STACK_CANARY 0x5354414b43414e59UL /* "STAKCANY" */

struct thread threads[NTHREAD];
static struct spinlock join_lock;
static int slots_used; /* highest slot ever taken + 1; only grows (atomics) */

int thread_slots_used(void) { return __atomic_load_n(&slots_used, __ATOMIC_ACQUIRE); }

/* Raises slots_used to cover slot i; before the thread can run, so wakeup sees it. */
static void note_slot_used(int i)
{
    int seen = __atomic_load_n(&slots_used, __ATOMIC_RELAXED);
    while (seen < i + 1 && !__atomic_compare_exchange_n(&slots_used, &seen, i + 1, 0,
                                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
}

void threads_init(void)
{
    spinlock_init(&join_lock, "thread.join");
    for (int i = 0; i < NTHREAD; i++) {
        snprintf(threads[i].lock_name, sizeof(threads[i].lock_name), "thread.%d", i);
        spinlock_init(&threads[i].lock, threads[i].lock_name);
        spinlock_set_class(&threads[i].lock, LOCK_CLASS_THREAD);
    }
}

struct thread *thread_current(void)
{
    push_off();
    struct thread *t = mycpu()->thread;
    pop_off();
    return t;
}

const char *thread_state_name(enum thread_state state)
{
    static const char *const names[] = {"unused", "runnable", "running", "sleeping", "zombie"};
    return state <= THREAD_ZOMBIE ? names[state] : "?";
}

void thread_check_canary(struct thread *t)
{
    if (t->stack[0] != STACK_CANARY)
        panic("stack overflow in thread '%s' (stack page %p, canary %p)", t->name, (void *)t->stack,
              (void *)t->stack[0]);
}

/*
 * A new thread's first switch lands here (its context.ra), still holding its own lock
 * from the scheduler. Release it, as every switch-in does, then run the thread body.
 */
static void thread_start(void)
{
    struct thread *t = thread_current();
    release(&t->lock);
    t->fn(t->arg);
    thread_exit(0);
}

struct thread *thread_create(const char *name, void (*fn)(void *arg), void *arg, int cpu)
{
    if (cpu != THREAD_ANY_CPU && (cpu < 0 || cpu >= ncpu || !cpus[cpu].online))
        panic("thread_create: '%s' pinned to cpu %d, which is not online", name, cpu);
    uint64_t *stack = pmem_alloc();
    if (!stack)
        return NULL;
    for (int i = 0; i < NTHREAD; i++) {
        struct thread *t = &threads[i];
        acquire(&t->lock);
        if (t->state != THREAD_UNUSED) {
            release(&t->lock);
            continue;
        }
        strlcpy(t->name, name, sizeof(t->name));
        t->fn = fn;
        t->arg = arg;
        t->pinned_cpu = cpu;
        t->cpu = -1;
        t->chan = NULL;
        t->exit_value = 0;
        t->switches = 0;
        t->stack = stack;
        stack[0] = STACK_CANARY;
        note_slot_used(i);
        memset(&t->context, 0, sizeof(t->context));
        t->context.ra = (uintptr_t)thread_start;
        t->context.sp = (uintptr_t)stack + PAGE_SIZE;
        sched_make_runnable(t);
        release(&t->lock);
        return t;
    }
    pmem_free(stack);
    return NULL;
}

void thread_exit(long value)
{
    struct thread *t = thread_current();
    if (!t)
        panic("thread_exit: called outside a thread");
    acquire(&join_lock);
    t->exit_value = value;
    wakeup(t);
    acquire(&t->lock);
    t->state = THREAD_ZOMBIE;
    release(&join_lock);
    sched_switch_out();
    panic("thread_exit: zombie '%s' was scheduled again", t->name);
}

long thread_join(struct thread *t)
{
    if (t == thread_current())
        panic("thread_join: thread '%s' joins itself", t->name);
    acquire(&join_lock);
    for (;;) {
        acquire(&t->lock);
        if (t->state == THREAD_UNUSED)
            panic("thread_join: thread slot %p is not in use (joined twice?)", (void *)t);
        if (t->state == THREAD_ZOMBIE) {
            long value = t->exit_value;
            pmem_free(t->stack);
            t->stack = NULL;
            t->state = THREAD_UNUSED;
            release(&t->lock);
            release(&join_lock);
            return value;
        }
        release(&t->lock);
        sleep(t, &join_lock);
    }
}

void thread_yield(void)
{
    struct thread *t = thread_current();
    if (!t)
        panic("thread_yield: called outside a thread");
    acquire(&t->lock);
    t->state = THREAD_RUNNABLE;
    sched_switch_out();
    release(&t->lock);
}

void thread_dump(void)
{
    kprintf("%-16s %-9s %4s %4s %10s  %s\n", "thread", "state", "cpu", "pin", "switches",
            "sleeps on");
    for (int i = 0; i < NTHREAD; i++) {
        struct thread *t = &threads[i];
        /* Unlocked: this also runs from the watchdog while threads may be stuck. */
        if (t->state == THREAD_UNUSED)
            continue;
        if (t->state == THREAD_SLEEPING) /* the channel: symbolise it with hartos.sym */
            kprintf("%-16s %-9s %4d %4d %10lu  %p\n", t->name, thread_state_name(t->state), t->cpu,
                    t->pinned_cpu, t->switches, t->chan);
        else
            kprintf("%-16s %-9s %4d %4d %10lu\n", t->name, thread_state_name(t->state), t->cpu,
                    t->pinned_cpu, t->switches);
    }
    for (int i = 0; i < ncpu; i++) {
        struct thread *t = cpus[i].thread;
        kprintf("cpu %d (hart %lu): %s\n", i, cpus[i].hartid, t ? t->name : "(idle)");
    }
}
