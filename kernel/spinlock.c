/*
 * Description: spinlocks, interrupt-off nesting and lock statistics (see spinlock.h).
 */
#include "kernel/spinlock.h"

#include "arch/riscv/csr.h"
#include "arch/riscv/sbi.h"
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
 * acquired while holding it, and it cannot take part in a deadlock. Every hart that
 * creates a lock or prints lockstat takes it: a ticket lock, so none waits forever.
 */
static struct spinlock registry_lock = SPINLOCK_STATIC_TICKET("lockstat", LOCK_CLASS_LOCKSTAT);
static struct spinlock *registry;

/* A spin longer than this many timebase ticks is a stuck lock; 0 = no limit. */
static uint64_t stuck_limit_ticks;

void spinlock_set_stuck_limit(uint64_t ms)
{
    stuck_limit_ticks = ms * (timer_timebase_hz() / 1000);
}

void spinlock_set_class(struct spinlock *lk, enum lock_class class) { lk->class = class; }

static void init_kind(struct spinlock *lk, const char *name, enum spinlock_kind kind)
{
    int me = cpuid();
    *lk = (struct spinlock){.name = name, .kind = kind, .class = LOCK_CLASS_DEFAULT, .cpu = -1};
    /* The lock's line starts out on this hart: the first acquire elsewhere is a bounce. */
    lk->locked = kind == SPINLOCK_TAS ? spinlock_name_cpu(mycpu()) : SPINLOCK_TICKET_WORD;
    lk->last = me;
    acquire(&registry_lock);
    lk->next_registered = registry;
    registry = lk;
    release(&registry_lock);
}

void spinlock_init(struct spinlock *lk, const char *name) { init_kind(lk, name, SPINLOCK_TAS); }

void spinlock_init_fair(struct spinlock *lk, const char *name)
{
    init_kind(lk, name, SPINLOCK_TICKET);
}

const char *spinlock_kind_name(const struct spinlock *lk)
{
    return lk->kind == SPINLOCK_TICKET ? "ticket" : "tas";
}

/*
 * A ticket lock, and a test-and-set lock in Debug builds, keep their holder in lk->cpu:
 * written by the holder only, after it got the lock and before it lets go, so the
 * answer is exact. A test-and-set lock in Release keeps it in the lock word only, which
 * the new holder stamps a few instructions after taking the lock: for that moment the
 * word still names the previous holder, so holding() may say yes to the hart that just
 * let go (it never says no to the holder).
 */
int spinlock_holder(struct spinlock *lk)
{
#ifndef LOCK_CHECKS
    if (lk->kind == SPINLOCK_TAS) {
        uint32_t w = lk->locked;
        return w & 1 ? spinlock_named_cpu(w) : -1;
    }
#endif
    return lk->cpu;
}

int holding(struct spinlock *lk) { return spinlock_holder(lk) == cpuid(); }

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
#endif

static void panic_recursive(struct spinlock *lk)
{
    panic("acquire: lock '%s' already held by this hart (cpu %d)", lk->name, cpuid());
}

/* One turn of a wait loop: give up if the kernel panics, report a stuck lock. */
static void spin_check(struct spinlock *lk, uint64_t start, uintptr_t caller)
{
    if (panic_in_progress())
        panic_halt_this_hart();
    /* The clock is read only when there is a limit: under QEMU each read is slow. */
    if (!stuck_limit_ticks || rdtime() - start <= stuck_limit_ticks)
        return;
    uint64_t waited = rdtime() - start;
    int holder = spinlock_holder(lk);
    panic("stuck lock '%s': cpu %d spun %lu ms (called from %p); held by cpu %d (hart %ld), "
          "taken at %p%s",
          lk->name, cpuid(), waited / (timer_timebase_hz() / 1000), (void *)caller, holder,
          holder >= 0 ? (long)cpus[holder].hartid : -1L, (void *)lk->pc,
          holder == cpuid() ? " (this hart: a recursive acquire?)" : "");
}

/* The wait is over and the lock is ours: book it. seen: acquires when the wait began. */
static void note_wait(struct spinlock *lk, uint64_t start, uint64_t spins, uint64_t seen)
{
    uint64_t waited = rdtime() - start, overtaken = lk->acquires - seen;
    if (overtaken > lk->overtaken_max)
        lk->overtaken_max = overtaken;
    lk->contentions++;
    lk->spins += spins;
    lk->wait_total += waited;
    if (waited > lk->wait_max)
        lk->wait_max = waited;
}

/*
 * The ticket lock (why not MCS: each waiter spinning on a node of its own would spare
 * the line bouncing between waiters, but needs a node per hart per lock held; for a
 * teaching kernel's handful of global locks and a few dozen harts, the two counters
 * are the fair lock one can read in a minute). A hart takes the next ticket with one
 * atomic add and waits until `owner`, which only the holder advances, shows its
 * number: harts are served in the order they took tickets.
 */
static void acquire_ticket(struct spinlock *lk, int me, uintptr_t caller)
{
    if (lk->cpu == me) /* exact: only the holder writes cpu */
        panic_recursive(lk);
    uint32_t ticket = __atomic_fetch_add(&lk->next, 1, __ATOMIC_RELAXED); /* amoadd.w */
    uint32_t ahead = ticket - lk->owner;     /* holders to serve before this hart */
    uint64_t start = 0, seen = lk->acquires; /* read racily: an aligned load is never torn */
    if (ahead) {
        start = rdtime();
        trace_lock(TRACE_LOCK_REQ, lk, 0);
        while (lk->owner != ticket)
            spin_check(lk, start, caller);
    }
    /* Acquire: the critical section's loads and stores stay below the load that saw
     * this hart's turn (the release that ended the last hold is ordered before it). */
    __asm__ volatile("fence r, rw" ::: "memory");
    lk->cpu = me;
    if (ahead)
        note_wait(lk, start, ahead, seen);
    if (lk->last != me) {
        lk->bounces += lk->last >= 0; /* a static lock's first acquire moves nothing */
        lk->last = me;
    }
}

/*
 * Halting waiters. Under QEMU each hart is a host thread. With more harts than host
 * cores, a waiter that spins keeps a host core busy that the lock's holder may need:
 * when the host has put the holder's thread aside, the spinners keep it aside, and a
 * hold of microseconds lasts milliseconds, while every other hart that wants the lock
 * piles up behind it (lock-holder preemption: in `stress bufcache` on 2 host cores,
 * spinning waiters made the eviction lock's average hold 110 us at 8 harts, against
 * 3 us at 2, and cut the reads per second to a quarter).
 * Virtual machines on real hosts meet the same problem, and this is the answer Linux
 * gives its guests (paravirtual spinlocks): spin a little, since most holds are short,
 * then halt until the holder kicks. wfi is the halt (QEMU parks a hart in wfi, and
 * its host thread sleeps); an IPI is the kick.
 *
 * The handshake, on the lock word and `halted` (all sequentially consistent atomics):
 *  - the waiter sets its bit in `halted`, then sets SPINLOCK_KICK in the word, but
 *    only while bit 0 is set (compare-and-swap), then waits in wfi;
 *  - the release swaps the word; if the old word had KICK, it takes `halted` (swap
 *    with 0) and sends an IPI to every hart in it.
 * Why no kick is lost: the waiter saw the lock held with KICK set, so the swap that
 * frees it comes later in the word's order and returns KICK; the waiter's bit went
 * into `halted` before that, so the release finds it there, unless an earlier kick
 * took it, and that kick sent the IPI. An IPI that comes before the wfi stays pending
 * in sip and ends the wfi at once.
 * What ends the wfi: sie is narrowed to the IPI and the timer for it (interrupts are
 * off in sstatus, as for every waiter: none is taken). A pending device interrupt
 * would end every wfi at once and turn the halt back into a spin; it waits, as it
 * would for a spinner. The tick does end it, so the loop looks at the clock at least
 * once a tick and still reports a stuck lock (spin_check); once the tick is pending,
 * the rest of that wait is a plain spin. The IPI is cleared after the wfi: whatever
 * sent it (this kick, an old one, the scheduler waking an idle hart, a panic) only
 * had to end a wfi, and the wait loop checks for a panic itself.
 * Every halted waiter is kicked, not one: they are at most ncpu - 1, and one that
 * loses the lock to a spinner spins and halts again. Ticket locks do not halt: the
 * lock goes to one particular waiter, which would need a kick of its own, and they
 * are the console's and lockstat's, whose waits are short.
 */
#define SPIN_BEFORE_HALT 128 /* wait-loop turns: tens of us under QEMU, many short holds */

static void halt_until_kicked(struct spinlock *lk, int me)
{
    uint64_t bit = 1ull << me;
    __atomic_fetch_or(&lk->halted, bit, __ATOMIC_SEQ_CST);
    uint32_t w = __atomic_load_n(&lk->locked, __ATOMIC_SEQ_CST);
    while ((w & 1) && !(w & SPINLOCK_KICK) &&
           !__atomic_compare_exchange_n(&lk->locked, &w, w | SPINLOCK_KICK, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
        ; /* the word changed under us (another waiter, a new holder): look again */
    if (w & 1) { /* held, KICK set: its release kicks us */
        uint64_t sie = csr_read(sie);
        csr_write(sie, SIE_SSIE | (sie & SIE_STIE)); /* the IPI always: it is the kick */
        wfi();
        csr_write(sie, sie);
        csr_clear(sip, SIE_SSIE);
    }
    __atomic_fetch_and(&lk->halted, ~bit, __ATOMIC_RELAXED);
}

void spinlock_kick(struct spinlock *lk)
{
    uint64_t mask = __atomic_exchange_n(&lk->halted, 0, __ATOMIC_SEQ_CST);
    for (int c = 0; mask; c++, mask >>= 1)
        if (mask & 1)
            sbi_send_ipi_mask(1, cpus[c].hartid);
}

/*
 * Out of line, so the uncontended acquire stays a few instructions long. Here when the
 * swap's old word was not exactly this hart's free word: the lock was taken (spin
 * until a swap finds it free), or it was last held on another hart (a bounce), or it
 * is a ticket lock.
 */
__attribute__((noinline)) void spinlock_acquire_slow(struct spinlock *lk, uint64_t old,
                                                     uint64_t off, uintptr_t caller)
{
    if (!caller)
        caller = (uintptr_t)__builtin_return_address(0);
    if (lk->kind == SPINLOCK_TICKET) {
        acquire_ticket(lk, cpuid(), caller);
        return;
    }
    if (old & 1) {
        uint64_t spins = 1, start = rdtime(), seen = lk->acquires;
        trace_lock(TRACE_LOCK_REQ, lk, 0); /* only here: uncontended, asked = got */
        for (;;) {
            /* Spin on a plain load: it stays in this hart's cache until the lock is freed;
             * after SPIN_BEFORE_HALT turns, halt until the holder lets go. */
            for (unsigned turns = 1; lk->locked & 1; turns++) {
                spin_check(lk, start, caller);
                if (turns % SPIN_BEFORE_HALT == 0)
                    halt_until_kicked(lk, cpuid());
            }
            old = spinlock_test_and_set(lk);
            if (!(old & 1))
                break;
            spins++;
        }
        note_wait(lk, start, spins, seen);
    }
    if (old != off) {
        /*
         * The last holder was another hart: count the bounce and put this hart's name
         * in the word. An atomic xor, not a store: a waiter may set SPINLOCK_KICK at any
         * moment, and old (a free word: no bit 0, no KICK) differs from off in the name only.
         */
        lk->bounces++;
        __atomic_fetch_xor(&lk->locked, (uint32_t)(old ^ off), __ATOMIC_RELAXED);
    }
}

__attribute__((noinline)) void spinlock_release_ticket(struct spinlock *lk)
{
    lk->cpu = -1;
    /* The same ordering as spinlock_unlock (spinlock.h), for the owner counter. */
    __asm__ volatile("fence iorw, ow\n\tsw %1, %0"
                     : "=m"(lk->owner)
                     : "r"(lk->owner + 1)
                     : "memory");
    spinlock_pop(mycpu());
}

#ifdef LOCK_CHECKS
void acquire(struct spinlock *lk)
{
    uintptr_t caller = (uintptr_t)__builtin_return_address(0);
    uint64_t off;
    spinlock_push(&off); /* an interrupt handler on this hart must not try to take lk */
    if (holding(lk))
        panic_recursive(lk);
    check_order(lk, caller);
    spinlock_take(lk, off, caller);
    lk->cpu = cpuid();
    lk->pc = caller;
    lk->hold_start = rdtime();
    note_held(lk);
}

void release(struct spinlock *lk)
{
    if (!holding(lk))
        panic("release: lock '%s' not held by this hart (cpu %d, holder %d)", lk->name, cpuid(),
              spinlock_holder(lk));
    note_released(lk);
    uint64_t held = rdtime() - lk->hold_start;
    lk->hold_total += held;
    if (held > lk->hold_max)
        lk->hold_max = held;
    trace_lock(TRACE_LOCK_REL, lk, 0); /* before letting go, for the same reason */
    lk->pc = 0;
    if (lk->kind == SPINLOCK_TICKET) {
        spinlock_release_ticket(lk); /* clears cpu */
        return;
    }
    lk->cpu = -1;
    struct cpu *c = mycpu(); /* interrupts are off: this stays this hart's */
    spinlock_unlock(lk, spinlock_name_cpu(c));
    spinlock_pop(c);
}
#endif

void push_off(void)
{
    uint64_t off;
    spinlock_push(&off);
}

void pop_off(void)
{
    struct cpu *c = mycpu();
#ifdef LOCK_CHECKS
    if (intr_get())
        panic("pop_off: interrupts are on (cpu %d)", c->id);
    if (c->noff < 1)
        panic("pop_off: not pushed (cpu %d)", c->id);
#endif
    spinlock_pop(c);
}

void lockstat_foreach(void (*fn)(struct spinlock *lk, void *arg), void *arg)
{
    acquire(&registry_lock);
    for (struct spinlock *lk = registry; lk; lk = lk->next_registered)
        fn(lk, arg);
    release(&registry_lock);
}

#define LOCKSTAT_MAX 128

/*
 * One printed row: every lock of one name, added up (maxima are the largest). The
 * cache's 64 buffers each have a lock named bcache.buf; a student wants one line.
 */
struct lock_row {
    const char *name, *kind;
    uint64_t acquires, contentions, spins, bounces;
    uint64_t wait_total, wait_max, hold_total, hold_max;
    int nlocks;
};

struct lock_table {
    struct lock_row rows[LOCKSTAT_MAX];
    int n, dropped;
};

/* Does a rank above b in lockstat: more contentions, then more spins, then acquires? */
static int busier(const struct lock_row *a, const struct lock_row *b)
{
    if (a->contentions != b->contentions)
        return a->contentions > b->contentions;
    return a->spins != b->spins ? a->spins > b->spins : a->acquires > b->acquires;
}

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static void add_lock(struct lock_row *r, const struct spinlock *lk)
{
    r->acquires += lk->acquires;
    r->contentions += lk->contentions;
    r->spins += lk->spins;
    r->bounces += lk->bounces;
    r->wait_total += lk->wait_total;
    r->wait_max = max_u64(r->wait_max, lk->wait_max);
    r->hold_total += lk->hold_total;
    r->hold_max = max_u64(r->hold_max, lk->hold_max);
    r->nlocks++;
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
        struct lock_row mine = {.name = lk->name};
        add_lock(&mine, lk);
        int least = 0;
        for (int k = 1; k < LOCKSTAT_MAX; k++)
            if (busier(&t->rows[least], &t->rows[k]))
                least = k;
        if (!busier(&mine, &t->rows[least])) {
            t->dropped++;
            return;
        }
        t->dropped += t->rows[least].nlocks;
        i = least;
        t->rows[i] = (struct lock_row){.name = lk->name};
    } else if (i == t->n) {
        t->rows[t->n++] = (struct lock_row){.name = lk->name};
    }
    /* Locks of one name may differ in kind (a test's own lock): the row says "mixed". */
    const char *kind = spinlock_kind_name(lk);
    t->rows[i].kind = !t->rows[i].kind || strcmp(t->rows[i].kind, kind) == 0 ? kind : "mixed";
    add_lock(&t->rows[i], lk);
}

static uint64_t ticks_to_us(uint64_t ticks) { return ticks * 1000000 / timer_timebase_hz(); }

void lockstat_print(void)
{
    static struct lock_table table; /* too big for a stack; callers are serialised below */
    static struct spinlock print_lock =
        SPINLOCK_STATIC_TICKET("lockstat.print", LOCK_CLASS_DEFAULT);
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
    kprintf("%-18s %-6s %10s %11s %10s %9s %10s %8s %10s %8s\n", "lock", "kind", "acquires",
            "contentions", "spins", "bounces", "wait-us", "max", "hold-us", "max");
    for (int i = 0; i < table.n; i++) {
        struct lock_row *r = &table.rows[i];
        kprintf("%-18s %-6s %10lu %11lu %10lu %9lu %10lu %8lu", r->name, r->kind, r->acquires,
                r->contentions, r->spins, r->bounces, ticks_to_us(r->wait_total),
                ticks_to_us(r->wait_max));
#ifdef LOCK_CHECKS
        kprintf(" %10lu %8lu", ticks_to_us(r->hold_total), ticks_to_us(r->hold_max));
#else
        kprintf(" %10s %8s", "-", "-");
#endif
        if (r->nlocks > 1)
            kprintf("   (%d locks of this name)", r->nlocks);
        kprintf("\n");
    }
    if (table.dropped)
        kprintf("(%d more locks not shown)\n", table.dropped);
#ifndef LOCK_CHECKS
    kprintf("(hold times are measured in Debug builds only: two clock reads per hold would "
            "double the cost of an uncontended lock)\n");
#endif
    release(&print_lock);
}

static void reset_one(struct spinlock *lk, void *arg)
{
    (void)arg;
    /* Racy with a concurrent acquire of lk by design: reset is for quiet moments. */
    lk->acquires = lk->spins = lk->contentions = lk->bounces = 0;
    lk->wait_total = lk->wait_max = lk->hold_total = lk->hold_max = lk->overtaken_max = 0;
}

void lockstat_reset(void) { lockstat_foreach(reset_one, 0); }
