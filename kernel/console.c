/*
 * Description: the console (see console.h).
 */
#include "kernel/console.h"

#include "arch/riscv/sbi.h"
#include "drivers/uart.h"
#include "kernel/cpu.h"
#include "kernel/spinlock.h"
#include "lib/printf.h"

/*
 * console_lock protects the output device: one hart writes one whole line at a time.
 * It is a leaf lock: nothing else is acquired while holding it. It is initialised
 * statically (not registered for lockstat) so that kprintf works before anything else.
 */
static struct spinlock console_lock = SPINLOCK_STATIC_TICKET("console", LOCK_CLASS_CONSOLE);
static volatile int use_uart;
static volatile int panic_mode;

static void device_putc(char c)
{
    if (use_uart)
        uart_putc(c);
    else
        sbi_console_putchar(c);
}

static void write_line(const char *s, int len)
{
    if (panic_mode) {
        for (int i = 0; i < len; i++)
            device_putc(s[i]);
        return;
    }
    acquire(&console_lock);
    for (int i = 0; i < len; i++)
        device_putc(s[i]);
    release(&console_lock);
}

/* Called with interrupts off (push_off), so this hart's buffer is ours alone. */
static void line_putc(void *ctx, char c)
{
    struct cpu *cpu = ctx;
    cpu->line[cpu->line_len++] = c;
    if (c == '\n' || cpu->line_len == CPU_LINE_MAX) {
        write_line(cpu->line, cpu->line_len);
        cpu->line_len = 0;
    }
}

void vkprintf(const char *fmt, va_list ap)
{
    push_off();
    vformat(line_putc, mycpu(), fmt, ap);
    pop_off();
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vkprintf(fmt, ap);
    va_end(ap);
}

void console_flush(void)
{
    push_off();
    struct cpu *cpu = mycpu();
    write_line(cpu->line, cpu->line_len);
    cpu->line_len = 0;
    pop_off();
}

void console_use_uart(void) { use_uart = 1; }

void console_panic_mode(void) { panic_mode = 1; }
