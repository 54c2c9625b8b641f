/*
 * Description: the ns16550a UART (QEMU virt's serial port), output only for now.
 *  - uart_init(base): program the UART found at `base` in the device tree
 *  - uart_putc: write one byte, waiting while the transmit holding register is full
 */
#pragma once

#include <stdint.h>

void uart_init(uintptr_t base);
void uart_putc(char c);
