/*
 * Description: S-mode traps. trapvec.S saves the registers into a struct trap_frame
 * and calls trap_handler(), which dispatches interrupts (timer, IPI, external) and
 * panics on any exception: the kernel itself never expects one.
 *  - trap_init_hart: point stvec at the vector and enable this hart's interrupt
 *    sources (sie); sstatus.SIE stays as it is
 */
#pragma once

#include <stdint.h>

struct trap_frame {
    uint64_t regs[32]; /* x0..x31 as they were at the trap (x0 slot unused) */
    uint64_t sepc;     /* where the trap happened */
    uint64_t sstatus;
    uint64_t scause;
    uint64_t stval; /* faulting address or instruction, depending on the cause */
};

void trap_init_hart(void);
void trap_handler(struct trap_frame *frame);
const char *trap_cause_name(uint64_t scause);
