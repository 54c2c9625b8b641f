/*
 * Description: panic (see panic.h).
 */
#include "kernel/panic.h"

#include <stdarg.h>

#include "arch/riscv/csr.h"
#include "arch/riscv/sbi.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/machine.h"
#include "kernel/power.h"

static volatile int panicking; /* 0, or 1 + the logical id of the panicking hart */

int panic_in_progress(void) { return panicking != 0; }

void panic_halt_this_hart(void)
{
    intr_off();
    for (;;)
        wfi();
}

/*
 * Walks the frame-pointer chain (the kernel is built with -fno-omit-frame-pointer):
 * on RISC-V, fp points just above the saved return address (fp-8) and the caller's
 * fp (fp-16). Addresses print as hex; tools/ symbolise them with hartos.sym.
 */
void print_backtrace(uintptr_t fp)
{
    extern char kernel_start[], kernel_end[];
    for (int depth = 0; depth < 16; depth++) {
        if (fp & 7 || !machine_is_ram(fp - 16, 16))
            break;
        uintptr_t ra = ((uintptr_t *)fp)[-1];
        uintptr_t caller_fp = ((uintptr_t *)fp)[-2];
        /* The outermost frame (a thread's first function, or kmain) was entered with
         * fp = 0 and a return address that is no real call site: stop before it. */
        if (caller_fp == 0 || ra < (uintptr_t)kernel_start || ra >= (uintptr_t)kernel_end)
            break;
        kprintf("  #%d %p\n", depth, (void *)ra);
        fp = caller_fp;
    }
}

void panic(const char *fmt, ...)
{
    intr_off();
    /* Only the first panicking hart reports; another one just stops. A fault while
     * panicking (a bad frame pointer in the backtrace, say) powers off at once. */
    int expected = 0;
    if (!__atomic_compare_exchange_n(&panicking, &expected, cpuid() + 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        if (expected == cpuid() + 1)
            power_off(POWER_EXIT_PANIC);
        panic_halt_this_hart();
    }
    console_panic_mode();

    /* Stop every other hart: each takes the IPI and halts (trap.c), or sees `panicking`
     * while spinning on a lock. */
    for (int i = 0; i < ncpu; i++)
        if (i != cpuid() && cpus[i].online)
            sbi_send_ipi_mask(1, cpus[i].hartid);

    console_flush(); /* whatever this hart had half-written */
    kprintf("\npanic: ");
    va_list ap;
    va_start(ap, fmt);
    vkprintf(fmt, ap);
    va_end(ap);
    kprintf(" [hart %lu, cpu %d]\nbacktrace:\n", mycpu()->hartid, cpuid());
    print_backtrace(r_fp());
    power_off(POWER_EXIT_PANIC);
}
