/*
 * Description: access to RISC-V control and status registers (CSRs) from C, and the
 * bit positions hartos uses. Everything here runs in S-mode.
 */
#pragma once

#include <stdint.h>

#define csr_read(csr)                                                                              \
    ({                                                                                             \
        uint64_t __v;                                                                              \
        __asm__ volatile("csrr %0, " #csr : "=r"(__v));                                            \
        __v;                                                                                       \
    })
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" ::"rK"((uint64_t)(val)))
#define csr_set(csr, bits) __asm__ volatile("csrs " #csr ", %0" ::"rK"((uint64_t)(bits)))
#define csr_clear(csr, bits) __asm__ volatile("csrc " #csr ", %0" ::"rK"((uint64_t)(bits)))

/* sstatus */
#define SSTATUS_SIE (1UL << 1)  /* S-mode interrupts enabled */
#define SSTATUS_SPIE (1UL << 5) /* SIE before the last trap */
#define SSTATUS_SPP (1UL << 8)  /* trap came from S-mode */

/* sie / sip: which interrupt sources are enabled / pending */
#define SIE_SSIE (1UL << 1) /* software (IPI) */
#define SIE_STIE (1UL << 5) /* timer */
#define SIE_SEIE (1UL << 9) /* external (PLIC) */

/* scause: the top bit says interrupt, the rest is the code */
#define SCAUSE_INTERRUPT (1UL << 63)
#define IRQ_S_SOFT 1
#define IRQ_S_TIMER 5
#define IRQ_S_EXT 9

static inline uint64_t r_tp(void)
{
    uint64_t x;
    __asm__ volatile("mv %0, tp" : "=r"(x));
    return x;
}

static inline uint64_t r_fp(void)
{
    uint64_t x;
    __asm__ volatile("mv %0, s0" : "=r"(x));
    return x;
}

/*
 * Interrupt enable and disable are compiler barriers too ("memory"): without it the
 * compiler may move a load or store of shared data across them, out of the region
 * that interrupts off was meant to protect.
 */
static inline void intr_on(void)
{
    __asm__ volatile("csrsi sstatus, %0" ::"i"(SSTATUS_SIE) : "memory");
}
static inline void intr_off(void)
{
    __asm__ volatile("csrci sstatus, %0" ::"i"(SSTATUS_SIE) : "memory");
}
static inline int intr_get(void) { return (csr_read(sstatus) & SSTATUS_SIE) != 0; }
/* Turns interrupts off and returns sstatus from before, in one instruction (csrrci). */
static inline uint64_t intr_save_off(void)
{
    uint64_t old;
    __asm__ volatile("csrrci %0, sstatus, %1" : "=r"(old) : "i"(SSTATUS_SIE) : "memory");
    return old;
}
/* Sets the sstatus bits in sie_bits: SSTATUS_SIE turns interrupts on, 0 does nothing. */
static inline void intr_restore(uint64_t sie_bits)
{
    __asm__ volatile("csrs sstatus, %0" ::"r"(sie_bits) : "memory");
}

/* Time since boot in timebase ticks (10 MHz on QEMU virt). */
static inline uint64_t rdtime(void)
{
    uint64_t x;
    __asm__ volatile("rdtime %0" : "=r"(x));
    return x;
}
static inline uint64_t rdcycle(void)
{
    uint64_t x;
    __asm__ volatile("rdcycle %0" : "=r"(x));
    return x;
}
static inline uint64_t rdinstret(void)
{
    uint64_t x;
    __asm__ volatile("rdinstret %0" : "=r"(x));
    return x;
}

/* "memory": a wait for an interrupt is where shared data may change under us. */
static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }
