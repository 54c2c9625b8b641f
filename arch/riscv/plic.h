/*
 * Description: the platform-level interrupt controller (PLIC), which routes device
 * interrupts (UART, virtio) to harts. Found through the device tree (machine.plic).
 *  - plic_init: once, on the boot hart, before the other harts start: learns from
 *    the device tree which PLIC context is each hart's S-mode context
 *  - plic_init_hart: on every hart, in its hart_init: threshold 0, and every source
 *    registered so far enabled for this hart
 *  - plic_register(irq, handler, arg): from now on handler(arg) runs (on whichever
 *    hart claims the interrupt, with interrupts off) each time source irq raises
 *    it. Returns 0, or -1 if irq is out of range or already taken.
 *  - plic_handle_irq: from the trap handler on a supervisor external interrupt:
 *    claims, dispatches and completes every pending source
 *
 * Memory map (offsets from machine.plic.base; a context is one hart in one mode):
 *   0x000000 + 4*irq               priority of source irq (0 = never delivered)
 *   0x002000 + 0x80*ctx + 4*(irq/32) enable bits of context ctx
 *   0x200000 + 0x1000*ctx          priority threshold of context ctx
 *   0x200004 + 0x1000*ctx          claim (read) / complete (write) of context ctx
 */
#pragma once

#include <stdint.h>

typedef void (*plic_handler)(void *arg);

void plic_init(void);
void plic_init_hart(void);
int plic_register(uint32_t irq, plic_handler handler, void *arg);
void plic_handle_irq(void);
