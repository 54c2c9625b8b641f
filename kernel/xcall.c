/*
 * Description: cross-calls (see xcall.h). Each hart has one slot; the caller fills
 * the slot, then wakes the hart with an IPI. Handshake per slot: the caller writes fn
 * and arg, then sets `pending` with release order; the target reads `pending` with
 * acquire order (so it sees fn and arg), runs fn, and clears `pending` (release), which
 * the caller waits for.
 */
#include "kernel/xcall.h"

#include "arch/riscv/csr.h"
#include "arch/riscv/sbi.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"

struct xcall_slot {
    void (*fn)(void *arg);
    void *arg;
    int pending;
};

static struct xcall_slot slots[NCPU];
static int busy;

static int run_pending(struct xcall_slot *slot)
{
    if (!__atomic_load_n(&slot->pending, __ATOMIC_ACQUIRE))
        return 0;
    slot->fn(slot->arg);
    __atomic_store_n(&slot->pending, 0, __ATOMIC_RELEASE);
    return 1;
}

void xcall_all(void (*fn)(void *arg), void *arg)
{
    if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
        panic("xcall_all: another cross-call is in progress");
    int self = cpuid();
    for (int i = 0; i < ncpu; i++) {
        if (i == self || !cpus[i].online)
            continue;
        slots[i].fn = fn;
        slots[i].arg = arg;
        __atomic_store_n(&slots[i].pending, 1, __ATOMIC_RELEASE);
        sbi_send_ipi_mask(1, cpus[i].hartid);
    }
    fn(arg);
    for (int i = 0; i < ncpu; i++)
        while (__atomic_load_n(&slots[i].pending, __ATOMIC_ACQUIRE))
            ;
    __atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

void xcall_idle(void)
{
    struct xcall_slot *slot = &slots[cpuid()];
    for (;;) {
        /*
         * Check and sleep with interrupts off: an IPI that arrives between the check
         * and wfi stays pending, and wfi returns at once for a pending interrupt that
         * sie enables, even while sstatus.SIE is 0. intr_on() then takes it.
         */
        intr_off();
        if (!__atomic_load_n(&slot->pending, __ATOMIC_ACQUIRE))
            wfi();
        intr_on();
        run_pending(slot);
    }
}
