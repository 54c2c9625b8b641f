/*
 * Description: spinlocks with contention counters, in two kinds.
 *  - spinlock_init(lk, name): a test-and-set lock. Cheapest when nobody else wants it;
 *    no fairness: under contention whichever hart's swap lands first wins.
 *  - spinlock_init_fair(lk, name): a ticket lock. Harts get the lock in the order they
 *    asked for it; costs a call more than test-and-set. The catch: the lock goes to one
 *    particular waiter, and if that hart is not running (a QEMU hart is a host thread;
 *    with more harts than host cores it often is not), nobody gets it. Measured on a
 *    loaded 2-core host at 4 harts, the virtio device lock as a ticket lock made
 *    ktest=virtio ~8x slower, the eviction lock made the eviction storm time out, the
 *    run queues made ktest=sched several times slower; so those stay test-and-set and
 *    the console and lockstat's registry are fair (docs/03-spinlocks.md, Fairness).
 *    Both register the lock for lockstat: call once per lock, and only for locks that
 *    live forever (static, or in a long-lived struct): the registry keeps a pointer.
 *  - acquire / release: interrupts stay off on this hart while it holds any spinlock
 *    (push_off/pop_off nest), so an interrupt handler on the same hart can never spin
 *    on a lock its own hart holds. A test-and-set waiter spins a little, then halts in
 *    wfi until the release kicks it with an IPI: a hart that spins for long keeps a
 *    host core busy that the holder may need (spinlock.c, "Halting waiters").
 *  - holding: does this hart hold lk (call with interrupts off)
 *  - lockstat_print / lockstat_reset: all registered locks sorted by contention (locks
 *    that share a name, such as the 64 bcache.buf, add up into one row)
 * Panics in Debug builds (LOCK_CHECKS): acquiring a lock this hart already holds,
 * releasing one it does not hold, acquiring against the lock order (lockorder.h),
 * pop_off with interrupts on or nothing pushed. Release builds keep only what costs
 * nothing on the fast path: a recursive acquire of a ticket lock panics; a recursive
 * test-and-set acquire spins until the stuck limit (if set) reports the lock as held by
 * this very hart; a release by a non-holder frees the lock without a word. A spin that
 * lasts longer than the stuck limit panics in every build (a deadlock becomes a report).
 *
 * What is counted, per lock, while holding it (so no atomics are needed):
 *  - acquires: successful acquires
 *  - contentions: acquires that found the lock taken
 *  - spins: test-and-set: failed swaps before the successful one (xv6's lock lab counts
 *    the same); ticket: holders served before this hart's turn came
 *  - bounces: acquires on a different hart from the previous holder: each means the
 *    lock's cache line had to move between harts, the cost that grows with the harts
 *  - wait_total / wait_max: timebase ticks from the first failed try to the acquire
 *  - overtaken_max: the most acquires by other harts while one hart waited (fairness:
 *    a ticket lock keeps it below the number of harts, test-and-set does not)
 *  - hold_total / hold_max: ticks from acquire to release, Debug builds only (two
 *    reads of the clock would double the cost of the uncontended pair); 0 in Release
 * Everything that only contention needs is in the out-of-line slow path, so the
 * uncontended acquire+release stays ~25 instructions, interrupts included (the bench
 * kernel's `bench=lock_instr` measures it, reported by `ninja bench`).
 */
#pragma once

#include <stdint.h>

#include "arch/riscv/csr.h"
#include "kernel/cpu.h"
#include "kernel/lockorder.h"
#include "kernel/trace.h"

#ifdef LOCK_CHECKS
#define LOCK_CHECKS_ON 1
#else
#define LOCK_CHECKS_ON 0
#endif

enum spinlock_kind {
    SPINLOCK_TAS,    /* test-and-set */
    SPINLOCK_TICKET, /* fair: first come, first served */
};

/* A ticket lock's `locked`: bit 0 set for good, see struct spinlock. */
#define SPINLOCK_TICKET_WORD 1u
/* A test-and-set `locked`'s bit 31, set only while bit 0 is: a waiter may be halted, and
 * the release must kick the harts in `halted` (spinlock.c, "Halting waiters"). The
 * sign bit, so that the release tests it with one branch (bltz). */
#define SPINLOCK_KICK 0x80000000u
/* A test-and-set `locked` names its last holder by the address of the holder's struct
 * cpu shifted right by this much: one instruction from tp. Every struct cpu is aligned
 * to 1 << CPU_SHIFT, so the shifted address leaves bit 0 clear; the linker script puts
 * cpus[] below 2^39, so it leaves SPINLOCK_KICK clear too. */
#define SPINLOCK_HOLDER_SHIFT 8
_Static_assert(SPINLOCK_HOLDER_SHIFT < CPU_SHIFT, "bit 0 of a holder's name is clear");

struct spinlock {
    /*
     * Test-and-set: bit 0 is set while the lock is held; the other bits name the last
     * holder's CPU (spinlock_name_cpu()). One swap both takes the lock and
     * tells whether the line comes from another hart. A ticket lock keeps this word at
     * SPINLOCK_TICKET_WORD: the test-and-set attempt finds it "taken" and the slow path
     * hands over to the ticket code, so acquire() needs no test of the kind. Bit 31 is
     * SPINLOCK_KICK.
     */
    volatile uint32_t locked;
    volatile uint32_t next;  /* ticket: the next ticket to hand out */
    volatile uint32_t owner; /* ticket: the ticket being served */
    uint64_t halted;         /* test-and-set: bit c: CPU c waits in wfi for a kick */
    uint8_t kind;            /* enum spinlock_kind */
    enum lock_class class;   /* its place in the lock order (lockorder.h) */
    const char *name;
    int cpu;      /* holder, -1 when free: ticket locks always, test-and-set in Debug only */
    int last;     /* ticket: logical id of the last holder (test-and-set keeps it in locked) */
    uintptr_t pc; /* Debug: where the holder called acquire() */
    uint64_t acquires, spins, contentions, bounces;
    uint64_t wait_total, wait_max;    /* timebase ticks */
    uint64_t overtaken_max;           /* most acquires by other harts during one wait */
    uint64_t hold_total, hold_max;    /* timebase ticks, Debug only */
    uint64_t hold_start;              /* Debug: when the holder took it */
    struct spinlock *next_registered; /* lockstat's list, under the registry lock */
};

/* Statically initialised locks that are not registered (console, lockstat's own). */
#define SPINLOCK_STATIC_TICKET(nm, cls)                                                            \
    {                                                                                              \
        .locked = SPINLOCK_TICKET_WORD, .kind = SPINLOCK_TICKET, .class = (cls), .name = (nm),     \
        .cpu = -1, .last = -1                                                                      \
    }

void spinlock_init(struct spinlock *lk, const char *name);
void spinlock_init_fair(struct spinlock *lk, const char *name);
/* Puts lk in a lock class other than LOCK_CLASS_DEFAULT (see lockorder.h). */
void spinlock_set_class(struct spinlock *lk, enum lock_class class);
/* From now on a spin longer than ms milliseconds is reported as a stuck lock and
 * panics (0: never); the kernel command line's lock.stuck_ms= sets it. */
void spinlock_set_stuck_limit(uint64_t ms);
int holding(struct spinlock *lk);
/* Logical id of the hart holding lk, or -1 (a moment old unless called by the holder). */
int spinlock_holder(struct spinlock *lk);
/* The name of CPU c in a test-and-set lock word (see SPINLOCK_HOLDER_SHIFT), and back:
 * the logical id of the CPU a lock word names, bit 0 and SPINLOCK_KICK ignored. */
static inline uint64_t spinlock_name_cpu(const struct cpu *c)
{
    return (uintptr_t)c >> SPINLOCK_HOLDER_SHIFT; /* below 2^31: no truncation needed */
}
static inline int spinlock_named_cpu(uint32_t word)
{
    uintptr_t c = (uintptr_t)(word & ~(SPINLOCK_KICK | 1u)) << SPINLOCK_HOLDER_SHIFT;
    return (int)((struct cpu *)c - cpus);
}
const char *spinlock_kind_name(const struct spinlock *lk);

void push_off(void);
void pop_off(void);

void lockstat_print(void);
void lockstat_reset(void);
/* Visits every registered lock (under the registry lock); for tests and printers. */
void lockstat_foreach(void (*fn)(struct spinlock *lk, void *arg), void *arg);

/* ---- The fast path, inline; everything else is in spinlock.c. ---- */

/* The contended, the moved and the ticket acquire (spinlock.c); off = this hart's, and
 * caller is where acquire() was called (0: the slow path's own return address). */
void spinlock_acquire_slow(struct spinlock *lk, uint64_t old, uint64_t off, uintptr_t caller);
void spinlock_release_ticket(struct spinlock *lk);
void spinlock_kick(struct spinlock *lk); /* IPIs the harts halted on lk (spinlock.c) */

/*
 * push_off: interrupts off and tp read in one asm (so that tp is read only once this
 * thread can no longer move to another hart), then one add to the irq word: noff + 1,
 * and intena gets SSTATUS_SIE if interrupts were on. They can have been on only at the
 * outermost push (pushes keep them off), where intena is 0. Returns this hart's struct
 * cpu; *off is its name in lock words (spinlock_name_cpu).
 */
static inline __attribute__((always_inline)) struct cpu *spinlock_push(uint64_t *off)
{
    uint64_t sstatus;
    struct cpu *c;
    __asm__ volatile("csrrci %0, sstatus, %2\n\tmv %1, tp"
                     : "=&r"(sstatus), "=r"(c)
                     : "i"(SSTATUS_SIE)
                     : "memory");
    *off = spinlock_name_cpu(c);
    c->irq += (1u << 16) + (uint32_t)(sstatus & SSTATUS_SIE);
    return c;
}

/* pop_off: the outermost pop clears intena and turns interrupts on if they were. */
static inline __attribute__((always_inline)) void spinlock_pop(struct cpu *c)
{
    /* Signed 64-bit arithmetic: the word is below 2^31, and no extension is needed. */
    long irq = (long)(int32_t)c->irq - (1L << 16);
    if (irq < (1L << 16)) { /* noff is 0 now: irq is intena alone */
        c->irq = 0;
        intr_restore((uint64_t)irq);
    } else {
        c->irq = (uint32_t)irq;
    }
}

/*
 * amoor.w.aq sets bit 0 and returns the old word in one atomic step; "aq" (acquire)
 * keeps the critical section's loads and stores from moving above it. The old word is
 * exactly `off` when the lock was free and this hart held it last: the one case that
 * needs nothing else. Taken, last held elsewhere, or a ticket lock: the slow path.
 */
static inline __attribute__((always_inline)) uint64_t spinlock_test_and_set(struct spinlock *lk)
{
    uint64_t old;
    __asm__ volatile("amoor.w.aq %0, %2, %1" : "=r"(old), "+A"(lk->locked) : "r"(1) : "memory");
    return old;
}

static inline __attribute__((always_inline)) void spinlock_take(struct spinlock *lk, uint64_t off,
                                                                uintptr_t caller)
{
    uint64_t old = spinlock_test_and_set(lk);
    if (__builtin_expect(old != off, 0))
        spinlock_acquire_slow(lk, old, off, caller);
    lk->acquires++;
    trace_lock(TRACE_LOCK_ACQ, lk, 0); /* after taking it: holds never overlap */
}

/*
 * Lets go of a test-and-set lock, keeping this hart's name in the word for the next
 * bounce check. The fence is written out rather than left to __atomic_store_n's release:
 * GCC 12 emits `fence iorw,ow` for a release store, newer GCC `fence rw,w`, which does
 * not order device (MMIO) accesses. A driver's register writes inside the critical
 * section must reach the device before the next holder can write its own.
 * A swap, not a store: the old word tells whether a waiter set SPINLOCK_KICK and waits
 * in wfi for us. ".aq" keeps spinlock_kick's read of `halted` after the swap.
 */
static inline __attribute__((always_inline)) void spinlock_unlock(struct spinlock *lk, uint64_t off)
{
    int64_t old; /* amoswap.w sign-extends the word: SPINLOCK_KICK makes it negative */
    __asm__ volatile("fence iorw, ow\n\tamoswap.w.aq %0, %2, %1"
                     : "=r"(old), "+A"(lk->locked)
                     : "r"(off)
                     : "memory");
    if (__builtin_expect(old < 0, 0))
        spinlock_kick(lk);
}

#ifdef LOCK_CHECKS
/* Debug builds: real functions with every check, and a frame of their own for gdb. */
void acquire(struct spinlock *lk);
void release(struct spinlock *lk);
#else
static inline __attribute__((always_inline)) void acquire(struct spinlock *lk)
{
    uint64_t off;
    spinlock_push(&off); /* an interrupt handler on this hart must not try to take lk */
    spinlock_take(lk, off, 0);
}

static inline __attribute__((always_inline)) void release(struct spinlock *lk)
{
    trace_lock(TRACE_LOCK_REL, lk, 0); /* before letting go, for the same reason */
    if (lk->kind != SPINLOCK_TAS) {
        spinlock_release_ticket(lk);
        return;
    }
    struct cpu *c = mycpu(); /* interrupts are off: this stays this hart's */
    spinlock_unlock(lk, spinlock_name_cpu(c));
    spinlock_pop(c);
}
#endif
