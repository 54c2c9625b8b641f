/*
 * Description: power off (see power.h).
 */
#include "kernel/power.h"

#include "arch/riscv/csr.h"
#include "arch/riscv/sbi.h"
#include "kernel/console.h"

#define FINISHER_PASS 0x5555
#define FINISHER_FAIL 0x3333 /* exit code goes in bits 16.. */

static volatile uint32_t *finisher;

void power_init(uintptr_t finisher_base) { finisher = (volatile uint32_t *)finisher_base; }

void power_off(int status)
{
    console_flush();
    if (finisher)
        *finisher =
            status == POWER_EXIT_OK ? FINISHER_PASS : (FINISHER_FAIL | (uint32_t)status << 16);
    sbi_shutdown();
    for (;;)
        wfi();
}
