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

static inline void intr_on(void) { csr_set(sstatus, SSTATUS_SIE); }
static inline void intr_off(void) { csr_clear(sstatus, SSTATUS_SIE); }
static inline int intr_get(void) { return (csr_read(sstatus) & SSTATUS_SIE) != 0; }

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

static inline void wfi(void) { __asm__ volatile("wfi"); }
