/*
 * Description: suite `boot`: every hart came online, and what the kernel learnt from
 * the device tree matches the QEMU flags of this run (the host runner passes them as
 * test.smp= and test.mem=) and keeps the kernel, the DTB and reserved memory out of
 * the usable ranges.
 */
#include "arch/riscv/csr.h"
#include "arch/riscv/timer.h"
#include "kernel/cmdline.h"
#include "kernel/cpu.h"
#include "kernel/machine.h"
#include "kernel/thread.h"
#include "tests/ktest.h"

KTEST(boot, every_hart_online)
{
    uint64_t smp;
    KEXPECT_EQ(cpus_online(), ncpu);
    if (cmdline_get_u64("test.smp", &smp) == 0) {
        KEXPECT_EQ(machine.nharts, smp);
        KEXPECT_EQ(ncpu, smp < NCPU ? smp : NCPU);
    }
}

KTEST(boot, logical_ids_dense_and_distinct)
{
    KEXPECT_EQ(cpuid(), 0); /* the runner runs on the boot hart */
    for (int i = 0; i < ncpu; i++) {
        KEXPECT_EQ(cpus[i].id, i);
        for (int j = i + 1; j < ncpu; j++)
            KEXPECT_NE(cpus[i].hartid, cpus[j].hartid);
    }
}

static void record_identity(void *arg)
{
    uint64_t *seen = arg;
    __atomic_store_n(&seen[cpuid()], mycpu()->hartid + 1, __ATOMIC_RELAXED);
}

KTEST(boot, each_hart_runs_code)
{
    static uint64_t seen[NCPU]; /* NCPU entries: kept off the one-page stack */
    for (int i = 0; i < ncpu; i++)
        seen[i] = 0;
    ktest_on_each_hart(record_identity, seen);
    for (int i = 0; i < ncpu; i++)
        KEXPECT_EQ(seen[i], cpus[i].hartid + 1);
}

/* Busy on its hart until that hart's timer has ticked twice (idle harts stop ticking:
 * sched.c), or 10 s have passed: on a loaded host QEMU may deliver a tick late. */
static void wait_for_own_ticks(void *arg)
{
    uint64_t *ticked = arg;
    push_off();
    struct cpu *c = mycpu(); /* pinned: stays this hart */
    pop_off();
    uint64_t start = c->ticks, deadline = timer_now_us() + 10 * 1000000;
    while (c->ticks < start + 2 && timer_now_us() < deadline)
        ;
    ticked[c->id] = c->ticks - start;
}

KTEST(boot, timer_ticks_on_every_hart)
{
    static uint64_t ticked[NCPU];
    ktest_on_each_hart(wait_for_own_ticks, ticked);
    for (int i = 0; i < ncpu; i++)
        KEXPECT_GE(ticked[i], 2);
}

KTEST(boot, memory_matches_qemu_flag)
{
    uint64_t mem_mb, total = 0;
    for (int i = 0; i < machine.nmemory; i++)
        total += machine.memory[i].size;
    if (cmdline_get_u64("test.mem", &mem_mb) == 0)
        KEXPECT_EQ(total, mem_mb << 20);
    KEXPECT_GT(machine.timebase_hz, 0);
    KEXPECT_GT(machine_usable_bytes(), 0);
    KEXPECT_LT(machine_usable_bytes(), total);
}

static int overlaps(struct mem_range a, uint64_t base, uint64_t size)
{
    return a.base < base + size && base < a.base + a.size;
}

KTEST(boot, usable_excludes_kernel_dtb_and_reserved)
{
    extern char kernel_start[], kernel_end[];
    uint64_t kbase = (uintptr_t)kernel_start, ksize = (uintptr_t)kernel_end - kbase;
    KEXPECT_GT(machine.dtb_size, 0);
    for (int i = 0; i < machine.nusable; i++) {
        struct mem_range u = machine.usable[i];
        KEXPECT_EQ(u.base % 4096, 0);
        KEXPECT_EQ(u.size % 4096, 0);
        KEXPECT_FALSE(overlaps(u, kbase, ksize));
        KEXPECT_FALSE(overlaps(u, machine.dtb_base, machine.dtb_size));
        for (int r = 0; r < machine.nreserved; r++)
            KEXPECT_FALSE(overlaps(u, machine.reserved[r].base, machine.reserved[r].size));
        /* ...and lies inside RAM. */
        int inside = 0;
        for (int m = 0; m < machine.nmemory; m++)
            inside |= u.base >= machine.memory[m].base &&
                      u.base + u.size <= machine.memory[m].base + machine.memory[m].size;
        KEXPECT_TRUE(inside);
    }
}

KTEST(boot, opensbi_reservation_seen)
{
    /* OpenSBI protects its own image at the start of RAM with PMP and lists it under
     * /reserved-memory; touching it from S-mode faults. */
    int found = 0;
    for (int r = 0; r < machine.nreserved; r++)
        found |= machine.reserved[r].base == machine.memory[0].base;
    KEXPECT_TRUE(found);
}

KTEST(boot, devices_found)
{
    KEXPECT_NE(machine.uart.base, 0);
    KEXPECT_NE(machine.plic.base, 0);
    KEXPECT_GT(machine.plic_ndev, 0);
    KEXPECT_NE(machine.finisher.base, 0);
    KEXPECT_EQ(machine.nvirtio, 8); /* QEMU virt always has eight virtio-mmio slots */
    for (int i = 0; i < machine.nvirtio; i++)
        KEXPECT_NE(machine.virtio[i].irq, 0);
}
