/*
 * Description: the boot sequence. kmain runs on the boot hart (chosen by OpenSBI's
 * lottery, not necessarily hart 0); secondary_main runs on every other hart once
 * kmain starts it with SBI HSM. This is the only file that knows every subsystem.
 */
#include "arch/riscv/csr.h"
#include "arch/riscv/plic.h"
#include "arch/riscv/sbi.h"
#include "arch/riscv/timer.h"
#include "arch/riscv/trap.h"
#include "drivers/uart.h"
#include "drivers/virtio_blk.h"
#include "fs/bufcache.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/machine.h"
#include "kernel/monitor.h"
#include "kernel/power.h"
#include "kernel/sched.h"
#include "kernel/thread.h"
#include "kernel/trace.h"
#include "mm/pmem.h"
#include "tests/bench.h"
#include "tests/ktest.h"

/* Generous: under TCG on a busy host a hart's thread can wait a second for a core. */
#define HART_START_TIMEOUT_US 5000000

extern char _secondary_start[];

/* Every hart that is up runs this: traps, timer, device interrupts, then it is counted online. */
static void hart_init(void)
{
    trap_init_hart();
    timer_init_hart();
    plic_init_hart();
    __atomic_store_n(&mycpu()->online, 1, __ATOMIC_RELEASE);
}

/*
 * Logical ids: the boot hart is CPU 0; the others follow in device tree order.
 * Harts beyond NCPU (or beyond the stacks cpus_alloc_stacks could carve) stay stopped. Each started
 * hart gets its logical id as the "opaque" argument of hart_start, which arrives in its a1
 * (entry.S). Harts start one at a time: a hart that the device tree lists but that never comes
 * online (it does not exist, or OpenSBI cannot start it) gives its id to the next
 * one, so logical ids stay dense and ncpu counts only harts that run.
 */
static void start_secondary_harts(uint64_t boot_hartid, int stacks)
{
    ncpu = 1;
    cpus[0].hartid = boot_hartid;
    for (int i = 0; i < machine.nharts; i++) {
        uint64_t hartid = machine.hartids[i];
        if (hartid == boot_hartid)
            continue;
        if (ncpu == stacks) {
            kprintf("hartos: hart %lu left stopped: this kernel was built for NCPU=%d harts\n",
                    hartid, NCPU);
            continue;
        }
        int id = ncpu;
        cpus[id].hartid = hartid;
        cpus[id].id = id;
        __sync_synchronize(); /* cpus[id] is visible before the hart can run (entry.S) */
        struct sbiret r = sbi_hart_start(hartid, (uintptr_t)_secondary_start, id);
        if (r.error != SBI_SUCCESS) {
            kprintf("hartos: error: could not start hart %lu: %s\n", hartid,
                    sbi_error_name(r.error));
            continue;
        }
        uint64_t deadline = timer_now_us() + HART_START_TIMEOUT_US;
        while (!__atomic_load_n(&cpus[id].online, __ATOMIC_ACQUIRE) && timer_now_us() < deadline)
            ;
        if (cpus[id].online) {
            ncpu++;
            continue;
        }
        /* Give the id to the next hart; should this one still turn up, it parks. */
        kprintf("hartos: error: hart %lu did not come online within %d ms; going on without it\n",
                hartid, HART_START_TIMEOUT_US / 1000);
        __atomic_store_n(&cpus[id].hartid, (uint64_t)-1, __ATOMIC_RELEASE);
    }
}

void secondary_main(uint64_t hartid, uint64_t id)
{
    if (__atomic_load_n(&cpus[id].hartid, __ATOMIC_ACQUIRE) != hartid) {
        /* Too late: kmain gave up on this hart and its id went to another. */
        for (;;)
            wfi();
    }
    hart_init();
    sched_run_hart();
}

void kmain(uint64_t hartid, void *dtb)
{
    cpus[0].hartid = hartid; /* kprintf needs mycpu() to be valid */

    /* 1. Read the device tree; the console is still SBI's. A tree the kernel cannot
     * run on has been reported by now: power off, through the finisher if it was found. */
    if (machine_init(dtb, hartid) != 0) {
        power_init(machine.finisher.base);
        power_off(POWER_EXIT_BAD_MACHINE);
    }
    /*    Memory per hart (stacks, trace rings), carved for the harts the tree lists
     *    before pmem takes the rest (and before trace=1 can turn tracing on). */
    int stacks = cpus_alloc_stacks(machine.nharts);
    trace_init(stacks);
    /* 2. Console on the UART, power off through the test finisher. */
    if (machine.uart.base) {
        uart_init(machine.uart.base);
        console_use_uart();
    } else {
        kprintf("hartos: no ns16550a UART in the device tree; staying on the SBI console\n");
    }
    if (machine.finisher.base)
        power_init(machine.finisher.base);
    else
        kprintf("hartos: no sifive,test0 in the device tree: power off cannot report failure\n");
    kprintf("\nhartos: booting on hart %lu, device tree at %p\n", hartid, dtb);
    machine_print();
    /* 3. Kernel command line, and the time base everything measures in. */
    cmdline_parse(machine.bootargs);
    timer_init(machine.timebase_hz, machine.has_sstc);
    uint64_t stuck_ms = 10000; /* a spin this long is reported as a stuck lock */
    if (cmdline_get_u64("lock.stuck_ms", &stuck_ms) < 0)
        stuck_ms = 10000;
    spinlock_set_stuck_limit(stuck_ms);
    /* 4. Physical pages, then threads and run queues, before any hart can schedule. */
    pmem_init();
    sched_init();
    threads_init();
    /* 5. Traps, the timer and the PLIC (which context is whose) on this hart. */
    plic_init();
    hart_init();
    intr_on();
    /* 6. Every other hart; each ends in its scheduler loop. */
    start_secondary_harts(hartid, stacks);
    kprintf("hartos: %d of %d harts online (NCPU=%d)\n", cpus_online(), machine.nharts, NCPU);
    /* 7. Disks (their requests sleep, so after the scheduler), then the buffer cache. */
    virtio_blk_init();
    bcache_init(&bcache, "bcache", BCACHE_NBUF);

    /* 8. The first thread: the test or bench runner if the command line asks for
     *    one, otherwise the interactive monitor on the console. */
    size_t len;
    const char *suites = cmdline_get("ktest", &len);
    size_t bench_len;
    const char *benchmarks = cmdline_get("bench", &bench_len);
    if (suites)
        ktest_start_runner(suites, len);
    else if (benchmarks)
        bench_start_runner(benchmarks, bench_len);
    else
        monitor_start();
    sched_run_hart();
}
