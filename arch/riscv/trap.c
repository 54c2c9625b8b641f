/*
 * Description: trap dispatch (see trap.h).
 */
#include "arch/riscv/trap.h"

#include "arch/riscv/csr.h"
#include "arch/riscv/plic.h"
#include "arch/riscv/timer.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/sched.h"

extern char trap_vector[];

void trap_init_hart(void)
{
    csr_write(stvec, (uintptr_t)trap_vector); /* direct mode: low bits 0 */
    csr_set(sie, SIE_SSIE | SIE_STIE | SIE_SEIE);
}

const char *trap_cause_name(uint64_t scause)
{
    static const char *const exceptions[] = {"instruction address misaligned",
                                             "instruction access fault",
                                             "illegal instruction",
                                             "breakpoint",
                                             "load address misaligned",
                                             "load access fault",
                                             "store/AMO address misaligned",
                                             "store/AMO access fault",
                                             "environment call from U-mode",
                                             "environment call from S-mode",
                                             "reserved (10)",
                                             "reserved (11)",
                                             "instruction page fault",
                                             "load page fault",
                                             "reserved (14)",
                                             "store/AMO page fault"};
    if (scause & SCAUSE_INTERRUPT)
        return "interrupt";
    if (scause < sizeof(exceptions) / sizeof(exceptions[0]))
        return exceptions[scause];
    return "unknown exception";
}

static void dump_registers(const struct trap_frame *f)
{
    static const char *const names[32] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
                                          "s0",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
                                          "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
                                          "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
    for (int i = 1; i < 32; i += 4) {
        for (int j = i; j < i + 4 && j < 32; j++)
            kprintf("%4s=%016lx ", names[j], f->regs[j]);
        kprintf("\n");
    }
}

void trap_handler(struct trap_frame *f)
{
    if (f->scause & SCAUSE_INTERRUPT) {
        switch (f->scause & ~SCAUSE_INTERRUPT) {
        case IRQ_S_TIMER:
            timer_interrupt();
            sched_tick(); /* may switch to another thread and come back later */
            return;
        case IRQ_S_SOFT:
            csr_clear(sip, SIE_SSIE); /* acknowledge the IPI */
            if (panic_in_progress())
                panic_halt_this_hart();
            return; /* the IPI only had to wake the hart from wfi (sched.c) */
        case IRQ_S_EXT:
            plic_handle_irq(); /* a device: the PLIC says which */
            return;
        default:
            panic("unexpected interrupt %lu on cpu %d", f->scause & ~SCAUSE_INTERRUPT, cpuid());
        }
    }
    if (panic_in_progress()) /* a fault inside panic: say so once and stop */
        panic("%s at sepc=%p while panicking", trap_cause_name(f->scause), (void *)f->sepc);
    kprintf("trap: %s (scause %lu) at sepc=%p stval=%p on cpu %d\n", trap_cause_name(f->scause),
            f->scause, (void *)f->sepc, (void *)f->stval, cpuid());
    dump_registers(f);
    print_backtrace(f->regs[8]);
    panic("unexpected exception: %s at sepc=%p stval=%p", trap_cause_name(f->scause),
          (void *)f->sepc, (void *)f->stval);
}
