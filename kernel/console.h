/*
 * Description: the kernel console: formatted output that never mixes lines.
 *  - kprintf: printf to the console. Each hart collects characters in its own line
 *    buffer (struct cpu) and writes a whole line at a time under the console lock,
 *    so lines from different harts never interleave within a line.
 *  - console_flush: write out this hart's unfinished line (a prompt, say)
 *  - console_use_uart: switch from the early SBI console to the ns16550 UART
 *  - console_panic_mode: from now on write straight through, taking no lock (the
 *    panicking hart may itself hold the console lock)
 */
#pragma once

#include <stdarg.h>

void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vkprintf(const char *fmt, va_list ap);
void console_flush(void);
void console_use_uart(void);
void console_panic_mode(void);
