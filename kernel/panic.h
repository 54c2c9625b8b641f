/*
 * Description: stopping the machine when a kernel invariant breaks.
 *  - panic(fmt, ...): prints "panic: <message>" naming the hart, a frame-pointer
 *    backtrace, stops every other hart with an IPI and powers off with failure
 *    status POWER_EXIT_PANIC. Only for kernel bugs; errors from outside (a bad
 *    command line, a disk error) are returned, never panicked on.
 *  - panic_in_progress / panic_halt_this_hart: other harts check these where they
 *    may spin for long with interrupts off (spinlock.c)
 */
#pragma once

#include <stdint.h>

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
int panic_in_progress(void);
__attribute__((noreturn)) void panic_halt_this_hart(void);
void print_backtrace(uintptr_t fp);
