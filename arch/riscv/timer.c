/*
 * Description: timer ticks (see timer.h).
 */
#include "arch/riscv/timer.h"

#include "arch/riscv/csr.h"
#include "arch/riscv/sbi.h"
#include "kernel/cpu.h"

static uint64_t timebase;
static uint64_t interval; /* timebase ticks between timer interrupts */
static int use_sstc;

void timer_init(uint64_t timebase_hz, int has_sstc)
{
    timebase = timebase_hz;
    interval = timebase_hz / TICK_HZ;
    use_sstc = has_sstc;
}

static void set_next(void)
{
    uint64_t when = rdtime() + interval;
    if (use_sstc)
        __asm__ volatile("csrw 0x14d, %0" ::"r"(when)); /* stimecmp; also clears STIP */
    else
        sbi_set_timer(when);
}

void timer_init_hart(void) { set_next(); }

void timer_stop_hart(void)
{
    if (use_sstc)
        __asm__ volatile("csrw 0x14d, %0" ::"r"(~0ull)); /* never: also clears STIP */
    else
        sbi_set_timer(~0ull);
}

void timer_interrupt(void)
{
    mycpu()->ticks++;
    set_next();
}

uint64_t timer_now_us(void) { return rdtime() * 1000000 / timebase; }

uint64_t timer_timebase_hz(void) { return timebase; }
