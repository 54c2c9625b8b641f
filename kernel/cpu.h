/*
 * Description: per-hart state. Hardware hart ids (from the device tree, possibly
 * sparse, boot hart chosen by lottery) map to dense logical CPU ids 0..ncpu-1; the
 * boot hart is always CPU 0. tp points at the hart's struct cpu for the life of the
 * hart, as Linux's tp points at the running task: per-hart data is then one load away.
 *  - mycpu(), cpuid(): this hart's struct cpu (tp itself) / logical id; call with
 *    interrupts off (or accept that the answer may be stale once a thread can migrate)
 *  - cpus_online(): how many harts are running the kernel
 *  - cpus_alloc_stacks(n): boot hart only, before pmem_init: carves the stacks of
 *    logical CPUs 1..n-1 (n capped at NCPU); returns how many CPUs have a stack
 */
#pragma once

#include <stdint.h>

#include "arch/riscv/context.h"
#include "arch/riscv/csr.h"

#define CPU_LINE_MAX 256 /* console line buffer per hart (console.c) */
#define CPU_HELD_MAX 8   /* spinlocks one hart may hold at once (lock order checks) */
/*
 * sizeof(struct cpu) is 1 << CPU_SHIFT and every struct cpu starts a cache line of its
 * own, so one hart's push_off count never shares a line with another hart's console
 * buffer; spinlock words rely on the alignment too (spinlock.h). A field that makes the
 * struct outgrow it: raise CPU_SHIFT.
 */
#define CPU_SHIFT 9

struct thread;
struct spinlock;
struct pmem_cpu;

struct cpu {
    uint64_t hartid;     /* hardware hart id */
    int id;              /* logical id, index into cpus[] */
    volatile int online; /* set by the hart itself once it runs in the kernel */
    /*
     * push_off() state, one 32-bit word so that push is a single add: noff is the
     * nesting depth; intena is SSTATUS_SIE if interrupts were on before the outermost
     * push_off(), else 0. Only this hart touches it, with interrupts off.
     */
    union {
        struct {
            uint16_t intena;
            uint16_t noff;
        };
        uint32_t irq;
    };
    int nheld;
    struct spinlock *held[CPU_HELD_MAX]; /* Debug: spinlocks held, in acquire order */
    volatile uint64_t ticks;             /* timer interrupts taken */
    struct thread *thread;               /* running thread, or NULL (scheduler / boot code) */
    struct context sched_context;        /* the scheduler loop, while a thread runs */
    struct pmem_cpu *pmem;               /* this CPU's free page list (mm/pmem.c) */
    char line[CPU_LINE_MAX];             /* this hart's unfinished console line */
    int line_len;
} __attribute__((aligned(1 << CPU_SHIFT)));

_Static_assert(sizeof(struct cpu) == 1 << CPU_SHIFT, "struct cpu outgrew CPU_SHIFT: raise it");

extern struct cpu cpus[NCPU];
extern int ncpu; /* harts the kernel brings online, <= NCPU */

static inline struct cpu *mycpu(void) { return (struct cpu *)r_tp(); }
static inline int cpuid(void) { return mycpu()->id; }
int cpus_online(void);
int cpus_alloc_stacks(int n);
