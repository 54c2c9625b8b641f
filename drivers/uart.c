/*
 * Description: ns16550a UART driver, polled output and interrupt-driven input (see
 * uart.h). Register offsets are the 16550's: byte-wide registers at consecutive
 * addresses (reg-shift 0 on virt).
 *
 * Input: with the "received data available" interrupt enabled, the UART asks the
 * PLIC for attention while its receive FIFO holds a byte. uart_intr (on whichever
 * hart claims the interrupt) moves every waiting byte into rx.ring and wakes the
 * readers; they sleep on &rx in uart_getc until the ring is not empty.
 */
#include "drivers/uart.h"

#include "arch/riscv/plic.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"

#define UART_RBR 0 /* receive buffer register (read) */
#define UART_THR 0 /* transmit holding register (write) */
#define UART_IER 1 /* interrupt enable */
#define UART_FCR 2 /* FIFO control */
#define UART_LCR 3 /* line control */
#define UART_LSR 5 /* line status */

#define LCR_8N1 0x03
#define FCR_ENABLE_CLEAR 0x07 /* enable FIFOs and clear both; interrupt at 1 byte */
#define IER_RX_AVAILABLE 0x01 /* interrupt while received data is available */
#define LSR_DATA_READY (1 << 0)
#define LSR_THR_EMPTY (1 << 5)

#define UART_RX_RING 256 /* a power of two: the counters below wrap cleanly */

struct uart_rx {
    /*
     * lock protects ring, r and w. The interrupt handler takes it (with
     * interrupts off, as every spinlock holder runs) and takes nothing else but
     * the thread locks inside wakeup(); readers sleep with it.
     */
    struct spinlock lock;
    char ring[UART_RX_RING];
    uint32_t r, w; /* bytes read / written since start; w - r are waiting */
};

static volatile uint8_t *uart;
static struct uart_rx rx;

void uart_init(uintptr_t base)
{
    uart = (volatile uint8_t *)base;
    uart[UART_IER] = 0x00; /* no interrupts until uart_rx_start */
    uart[UART_LCR] = LCR_8N1;
    uart[UART_FCR] = FCR_ENABLE_CLEAR;
}

void uart_putc(char c)
{
    while (!(uart[UART_LSR] & LSR_THR_EMPTY))
        ;
    uart[UART_THR] = (uint8_t)c;
}

/* PLIC handler, interrupts off. Draining the FIFO is what lowers the interrupt line. */
static void uart_intr(void *arg)
{
    (void)arg;
    acquire(&rx.lock);
    while (uart[UART_LSR] & LSR_DATA_READY) {
        char c = (char)uart[UART_RBR];
        if (rx.w - rx.r < UART_RX_RING) /* if full, the byte is dropped (see uart.h) */
            rx.ring[rx.w++ % UART_RX_RING] = c;
    }
    wakeup(&rx);
    release(&rx.lock);
}

int uart_rx_start(uint32_t irq)
{
    if (!uart)
        return -1;
    spinlock_init(&rx.lock, "uart.rx");
    if (plic_register(irq, uart_intr, 0) != 0)
        return -1;
    uart[UART_IER] = IER_RX_AVAILABLE; /* after the handler is in place */
    return 0;
}

/* Called with rx.lock held and the ring not empty. */
static int take(void) { return (unsigned char)rx.ring[rx.r++ % UART_RX_RING]; }

int uart_getc(void)
{
    acquire(&rx.lock);
    while (rx.r == rx.w)
        sleep(&rx, &rx.lock);
    int c = take();
    release(&rx.lock);
    return c;
}

int uart_trygetc(void)
{
    acquire(&rx.lock);
    int c = rx.r == rx.w ? -1 : take();
    release(&rx.lock);
    return c;
}
