/*
 * Description: spinlocks, interrupt-off nesting and lock statistics (see spinlock.h).
 */
#include "kernel/spinlock.h"

#include "arch/riscv/csr.h"
#include "arch/riscv/timer.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/trace.h"
#include "lib/string.h"

/*
 * The registry of all locks, for lockstat. Lock order: a lock's own spinlock_init()
 * takes only registry_lock; lockstat_* hold registry_lock and read the counters of
 * other locks without taking them (the numbers may be a moment old, never torn:
 * 64-bit aligned loads are atomic on RV64). So registry_lock is a leaf: nothing is
 * acquired while holding it, and it cannot take part in a deadlock.
 */
static struct spinlock registry_lock = {
    .name = "lockstat", .class = LOCK_CLASS_LOCKSTAT, .cpu = -1, .last_cpu = -1};
static struct spinlock *registry;

/* A spin longer than this many timebase ticks is a stuck lock; 0 = no limit. */
static uint64_t stuck_limit_ticks;

void spinlock_set_stuck_limit(uint64_t ms)
{
    stuck_limit_ticks = ms * (timer_timebase_hz() / 1000);
}

void spinlock_set_class(struct spinlock *lk, enum lock_class class) { lk->class = class; }

void spinlock_init(struct spinlock *lk, const char *name)
{
    lk->locked = 0;
    lk->name = name;
    lk->class = LOCK_CLASS_DEFAULT;
    lk->cpu = -1;
    lk->pc = 0;
    lk->acquires = 0;
    lk->spins = 0;
    lk->contentions = 0;
    lk->bounces = 0;
    lk->last_cpu = -1;
    acquire(&registry_lock);
    lk->next_registered = registry;
    registry = lk;
    release(&registry_lock);
}

int holding(struct spinlock *lk) { return lk->locked && lk->cpu == cpuid(); }

#ifdef LOCK_CHECKS
/* Panics if taking lk now would break the lock order (lockorder.h). */
static void check_order(struct spinlock *lk, uintptr_t caller)
{
    struct cpu *c = mycpu();
    for (int i = 0; i < c->nheld; i++) {
        struct spinlock *h = c->held[i];
        if (!lock_order_allows(h->class, lk->class))
            panic("lock order: cpu %d takes '%s' (class %s) while holding '%s' (class %s), "
                  "called from %p",
                  c->id, lk->name, lock_class_name(lk->class), h->name, lock_class_name(h->class),
                  (void *)caller);
    }
    if (c->nheld == CPU_HELD_MAX)
        panic("acquire: cpu %d holds %d spinlocks; taking '%s' (called from %p)", c->id, c->nheld,
              lk->name, (void *)caller);
}

static void note_held(struct spinlock *lk) { mycpu()->held[mycpu()->nheld++] = lk; }

static void note_released(struct spinlock *lk)
{
    struct cpu *c = mycpu();
    for (int i = c->nheld - 1; i >= 0; i--) {
        if (c->held[i] == lk) {
            c->held[i] = c->held[--c->nheld];
            return;
        }
    }
}
#else
static void check_order(struct spinlock *lk, uintptr_t caller) { (void)lk, (void)caller; }
static void note_held(struct spinlock *lk) { (void)lk; }
static void note_released(struct spinlock *lk) { (void)lk; }
#endif

/* A spin has lasted past the limit: say who holds the lock and where it was taken. */
static void report_stuck(struct spinlock *lk, uint64_t waited, uintptr_t caller)
{
    int holder = lk->cpu;
    panic("stuck lock '%s': cpu %d spun %lu ms (called from %p); held by cpu %d (hart %ld), "
          "taken at %p",
          lk->name, cpuid(), waited / (timer_timebase_hz() / 1000), (void *)caller, holder,
          holder >= 0 ? (long)cpus[holder].hartid : -1L, (void *)lk->pc);
}

/*
 * The contended path, kept out of line so that the uncontended acquire stays a few
 * instructions long (its registers and the stuck-lock clock cost nothing until a
 * first attempt fails). Returns the number of failed attempts (spins).
 */
__attribute__((noinline, cold)) static uint64_t spin_until_acquired(struct spinlock *lk,
                                                                    uintptr_t caller)
{
    uint64_t spins = 1, start = rdtime();
    trace_event(TRACE_LOCK_REQ, (uintptr_t)lk, 0); /* only here: uncontended, asked = got */
    for (;;) {
        /* Spin on a plain load: it stays in this hart's cache until the lock is freed. */
        while (lk->locked) {
            if (panic_in_progress())
                panic_halt_this_hart();
            if (stuck_limit_ticks && rdtime() - start > stuck_limit_ticks)
                report_stuck(lk, rdtime() - start, caller);
        }
        if (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) == 0)
            return spins;
        spins++;
    }
}

/* push_off and pop_off, inlined into acquire and release (the hottest path there is). */
static inline __attribute__((always_inline)) void interrupts_push(void)
{
    int old = intr_get();
    intr_off();
    struct cpu *c = mycpu();
    if (c->noff == 0)
        c->intena = old;
    c->noff++;
}

static inline __attribute__((always_inline)) void interrupts_pop(void)
{
    struct cpu *c = mycpu();
    if (intr_get())
        panic("pop_off: interrupts are on (cpu %d)", c->id);
    if (c->noff < 1)
        panic("pop_off: not pushed (cpu %d)", c->id);
    if (--c->noff == 0 && c->intena)
        intr_on();
}

void acquire(struct spinlock *lk)
{
    uintptr_t caller = (uintptr_t)__builtin_return_address(0);
    interrupts_push(); /* an interrupt handler on this hart must not try to take lk */
    if (holding(lk))
        panic("acquire: lock '%s' already held by this hart (cpu %d)", lk->name, cpuid());
    check_order(lk, caller);

    /*
     * amoswap.w.aq writes 1 and returns the old value in one atomic step; "aq"
     * (acquire) keeps the critical section's loads and stores from moving above it.
     * Each failed attempt is one spin.
     */
    uint64_t spins = 0;
    if (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0)
        spins = spin_until_acquired(lk, caller);
    int me = cpuid();
    lk->cpu = me;
    lk->pc = caller;
    lk->acquires++;
    lk->spins += spins;
    lk->contentions += spins != 0;
    if (lk->last_cpu != me) {
        lk->bounces += lk->last_cpu >= 0;
        lk->last_cpu = me;
    }
    note_held(lk);
    trace_event(TRACE_LOCK_ACQ, (uintptr_t)lk, spins); /* after taking it: holds never overlap */
}

void release(struct spinlock *lk)
{
    if (!holding(lk))
        panic("release: lock '%s' not held by this hart (cpu %d, holder %d)", lk->name, cpuid(),
              lk->cpu);
    note_released(lk);
    trace_event(TRACE_LOCK_REL, (uintptr_t)lk, 0); /* before letting go, for the same reason */
    lk->cpu = -1;
    lk->pc = 0;
    /* Store-release: the critical section's writes are visible before the lock is free. */
    __atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
    interrupts_pop();
}

void push_off(void) { interrupts_push(); }

void pop_off(void) { interrupts_pop(); }

void lockstat_foreach(void (*fn)(struct spinlock *lk, void *arg), void *arg)
{
    acquire(&registry_lock);
    for (struct spinlock *lk = registry; lk; lk = lk->next_registered)
        fn(lk, arg);
    release(&registry_lock);
}

#define LOCKSTAT_MAX 128

/*
 * One printed row: every lock of one name, added up. The cache's 64 buffers each have a
 * lock named bcache.buf; a student wants to see them as one line, not 64.
 */
struct lock_row {
    const char *name;
    uint64_t acquires, spins, contentions, bounces;
    int nlocks;
};

struct lock_table {
    struct lock_row rows[LOCKSTAT_MAX];
    int n, dropped;
};

/* Does a rank above b in lockstat: more spins, or as many and more acquires? */
static int busier(const struct lock_row *a, const struct lock_row *b)
{
    return a->spins != b->spins ? a->spins > b->spins : a->acquires > b->acquires;
}

/*
 * Adds lk to the row of its name (a new row for a new name). Idle locks are left out.
 * When the table is full, a new name takes the place of the least busy row if it is
 * busier, so what drops out is the least busy.
 */
static void collect(struct spinlock *lk, void *arg)
{
    struct lock_table *t = arg;
    if (!lk->acquires)
        return;
    int i = 0;
    while (i < t->n && strcmp(t->rows[i].name, lk->name) != 0)
        i++;
    if (i == LOCKSTAT_MAX) {
        struct lock_row mine = {.name = lk->name,
                                .acquires = lk->acquires,
                                .spins = lk->spins,
                                .contentions = lk->contentions,
                                .bounces = lk->bounces};
        int least = 0;
        for (int k = 1; k < LOCKSTAT_MAX; k++)
            if (busier(&t->rows[least], &t->rows[k]))
                least = k;
        if (!busier(&mine, &t->rows[least])) {
            t->dropped++;
            return;
        }
        t->dropped += t->rows[least].nlocks;
        t->rows[least] = (struct lock_row){.name = lk->name};
        i = least;
    } else if (i == t->n) {
        t->rows[t->n++] = (struct lock_row){.name = lk->name};
    }
    t->rows[i].acquires += lk->acquires;
    t->rows[i].spins += lk->spins;
    t->rows[i].contentions += lk->contentions;
    t->rows[i].bounces += lk->bounces;
    t->rows[i].nlocks++;
}

void lockstat_print(void)
{
    static struct lock_table table; /* too big for a stack; callers are serialised below */
    static struct spinlock print_lock = {.name = "lockstat.print", .cpu = -1, .last_cpu = -1};
    acquire(&print_lock);
    table.n = table.dropped = 0;
    lockstat_foreach(collect, &table);
    for (int i = 1; i < table.n; i++) { /* insertion sort, busiest first */
        struct lock_row r = table.rows[i];
        int j = i;
        for (; j > 0 && busier(&r, &table.rows[j - 1]); j--)
            table.rows[j] = table.rows[j - 1];
        table.rows[j] = r;
    }
    kprintf("%-20s %12s %12s %12s %12s\n", "lock", "acquires", "spins", "contentions", "bounces");
    for (int i = 0; i < table.n; i++) {
        struct lock_row *r = &table.rows[i];
        kprintf("%-20s %12lu %12lu %12lu %12lu", r->name, r->acquires, r->spins, r->contentions,
                r->bounces);
        if (r->nlocks > 1)
            kprintf("   (%d locks of this name)", r->nlocks);
        kprintf("\n");
    }
    if (table.dropped)
        kprintf("(%d more locks not shown)\n", table.dropped);
    release(&print_lock);
}

static void reset_one(struct spinlock *lk, void *arg)
{
    (void)arg;
    /* Racy with a concurrent acquire of lk by design: reset is for quiet moments. */
    lk->acquires = 0;
    lk->spins = 0;
    lk->contentions = 0;
    lk->bounces = 0;
}

void lockstat_reset(void) { lockstat_foreach(reset_one, 0); }
