/*
 * Description: the per-hart timer tick. The time CSR counts at the device tree's
 * timebase-frequency; each hart asks for an interrupt TICK_HZ times a second, with
 * the Sstc stimecmp CSR where the CPU has it (no trip to M-mode) or SBI TIME.
 *  - timer_init(timebase_hz, has_sstc): once, on the boot hart
 *  - timer_init_hart: arm this hart's first tick
 *  - timer_stop_hart: no more ticks on this hart until timer_init_hart arms one
 *    again (an idle hart that has nothing to time, sched.c)
 *  - timer_interrupt: from trap_handler; counts the tick and arms the next
 *  - timer_now_us: microseconds since boot; timer_timebase_hz: the time CSR's rate
 */
#pragma once

#include <stdint.h>

#define TICK_HZ 100

void timer_init(uint64_t timebase_hz, int has_sstc);
void timer_init_hart(void);
void timer_stop_hart(void);
void timer_interrupt(void);
uint64_t timer_now_us(void);
uint64_t timer_timebase_hz(void);
