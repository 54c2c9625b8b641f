/*
 * Description: the kernel monitor: a command line on the console, so a student can
 * look at the harts, the allocator and the cache of a running kernel (`ninja run`).
 * kmain starts it when the kernel command line asks for no tests or benchmarks.
 *  - monitor_start: turns on console input (the UART's receive interrupt) and
 *    starts the `monitor` thread, pinned to CPU 0 like the test runner: tests run
 *    in place by `test` expect cpuid() == 0. Without a UART it says so and returns.
 *  - monitor_interrupted: has Ctrl-C been typed since the running command began?
 *    A long command (stress) polls it and stops early. Call it from the monitor
 *    thread only: it consumes what was typed, and drops all but Ctrl-C.
 * The commands are a table in monitor_cmds.c; `help` lists them.
 */
#pragma once

void monitor_start(void);
int monitor_interrupted(void);
