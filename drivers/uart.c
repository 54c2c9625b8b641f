/*
 * Description: ns16550a UART driver, polled output (see uart.h). Register offsets
 * are the 16550's: byte-wide registers at consecutive addresses (reg-shift 0 on virt).
 */
#include "drivers/uart.h"

#define UART_THR 0 /* transmit holding register (write) */
#define UART_IER 1 /* interrupt enable */
#define UART_FCR 2 /* FIFO control */
#define UART_LCR 3 /* line control */
#define UART_LSR 5 /* line status */

#define LCR_8N1 0x03
#define FCR_ENABLE_CLEAR 0x07 /* enable FIFOs and clear both */
#define LSR_THR_EMPTY (1 << 5)

static volatile uint8_t *uart;

void uart_init(uintptr_t base)
{
    uart = (volatile uint8_t *)base;
    uart[UART_IER] = 0x00; /* no interrupts until a driver wants them */
    uart[UART_LCR] = LCR_8N1;
    uart[UART_FCR] = FCR_ENABLE_CLEAR;
}

void uart_putc(char c)
{
    while (!(uart[UART_LSR] & LSR_THR_EMPTY))
        ;
    uart[UART_THR] = (uint8_t)c;
}
