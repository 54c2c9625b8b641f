/*
 * Description: the ns16550a UART (QEMU virt's serial port): polled output, and
 * input by interrupt into a ring buffer.
 *  - uart_init(base): program the UART found at `base` in the device tree
 *  - uart_putc: write one byte, waiting while the transmit holding register is full
 *  - uart_rx_start(irq): from now on every received byte raises PLIC source irq
 *    (the device tree's machine.uart.irq) and lands in the receive ring. Once, from
 *    a thread or boot code, after plic_init. 0, or -1 if irq cannot be registered.
 *  - uart_getc: the next received byte; sleeps until there is one (call it from a
 *    thread, holding no spinlock)
 *  - uart_trygetc: the next received byte, or -1 at once if none is waiting
 * Bytes that arrive while the ring is full are dropped: a reader that
 * falls behind loses typing, the kernel never blocks in the interrupt handler.
 */
#pragma once

#include <stdint.h>

void uart_init(uintptr_t base);
void uart_putc(char c);
int uart_rx_start(uint32_t irq);
int uart_getc(void);
int uart_trygetc(void);
