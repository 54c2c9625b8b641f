/*
 * Description: the PLIC (see plic.h).
 *
 * Which context belongs to which hart is in the device tree: the PLIC node's
 * interrupts-extended lists, for context 0, 1, 2, ..., a pair <phandle cause> where
 * phandle names a hart's local interrupt controller (a child of its /cpus/cpu@N
 * node) and cause is 11 (M-mode external interrupt) or 9 (S-mode external). On
 * QEMU virt this gives context 2h+1 for hart h; hartos reads it instead of
 * assuming, because hart ids may be sparse and other boards order contexts
 * differently.
 *
 * Each registered source is enabled on one hart only, chosen when it registers:
 * logical CPU irq mod n, where n is the number of harts whose contexts are set up
 * by then (every hart, for the disks, which register after the harts are up). Were it
 * enabled on every hart, the PLIC would offer each interrupt to all of them: every
 * hart would wake from wfi, trap and race to claim, and all but one would read 0:
 * at 64 harts, 63 wasted traps (each claim an MMIO access, which QEMU serialises)
 * per disk completion. Spreading by irq puts different devices on different harts.
 */
#include "arch/riscv/plic.h"

#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/machine.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "lib/fdt.h"

#define PLIC_MAX_IRQ 1024 /* the PLIC spec's limit; riscv,ndev tells the real number */
#define PLIC_PRIORITY(irq) (0x000000 + 4 * (irq))
#define PLIC_ENABLE(ctx, irq) (0x002000 + 0x80 * (ctx) + 4 * ((irq) / 32))
#define PLIC_THRESHOLD(ctx) (0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx) (0x200004 + 0x1000 * (ctx))
#define CAUSE_S_EXTERNAL 9

struct plic_source {
    plic_handler handler;
    void *arg;
    int cpu; /* the one logical CPU it interrupts */
};

/*
 * plic_lock protects sources[] and the enable bits while plic_register and
 * plic_init_hart change them (they run on different harts at boot). The interrupt
 * path reads sources[irq] without it: an entry is written once, before its source
 * is enabled, and the enable write is ordered after it by release().
 */
static struct spinlock plic_lock;
static struct plic_source sources[PLIC_MAX_IRQ];
static int smode_ctx[MACHINE_MAX_HARTS]; /* per machine.hartids[] index; -1 = none */
static int ctx_of_cpu[NCPU];             /* per logical CPU, once plic_init_hart ran */
static uint64_t ready_mask;              /* bit c: CPU c ran plic_init_hart */
_Static_assert(NCPU <= 64, "ready_mask has one bit per CPU");

static volatile uint32_t *plic_reg(uint64_t off)
{
    return (volatile uint32_t *)(machine.plic.base + off);
}

/* The hart id whose interrupt controller has this phandle, or -1. */
static int64_t hart_of_intc(const struct fdt *fdt, uint32_t phandle)
{
    int cpus = fdt_path(fdt, "/cpus");
    int ac, sc;
    fdt_bus_cells(fdt, cpus, &ac, &sc);
    for (int cpu = cpus >= 0 ? fdt_first_child(fdt, cpus) : -1; cpu >= 0;
         cpu = fdt_next_sibling(fdt, cpu)) {
        for (int ic = fdt_first_child(fdt, cpu); ic >= 0; ic = fdt_next_sibling(fdt, ic)) {
            uint32_t ph;
            uint64_t hartid, unused;
            if (fdt_prop_u32(fdt, ic, "phandle", &ph) == 0 && ph == phandle &&
                fdt_reg(fdt, cpu, ac, 0, 0, &hartid, &unused) == 0)
                return (int64_t)hartid;
        }
    }
    return -1;
}

/* Fills smode_ctx[] from the PLIC node's interrupts-extended; returns contexts found. */
static int read_contexts(void)
{
    struct fdt fdt;
    const char *why;
    if (fdt_open(&fdt, (const void *)machine.dtb_base, &why) != 0)
        return 0;
    int depth = 0, found = 0;
    for (int node = fdt_next_node(&fdt, 0, &depth); node >= 0 && depth > 0;
         node = fdt_next_node(&fdt, node, &depth)) {
        if (!fdt_is_compatible(&fdt, node, "riscv,plic0") &&
            !fdt_is_compatible(&fdt, node, "sifive,plic-1.0.0"))
            continue;
        int len;
        const uint32_t *ie = fdt_prop(&fdt, node, "interrupts-extended", &len);
        /* Each entry is <phandle cause>: the cpu interrupt controllers have
         * #interrupt-cells = 1. */
        for (int ctx = 0; ie && ctx < len / 8; ctx++) {
            if (fdt_cells(&ie[2 * ctx + 1], 1) != CAUSE_S_EXTERNAL)
                continue;
            int64_t hartid = hart_of_intc(&fdt, (uint32_t)fdt_cells(&ie[2 * ctx], 1));
            for (int i = 0; i < machine.nharts; i++)
                if (hartid >= 0 && machine.hartids[i] == (uint64_t)hartid) {
                    smode_ctx[i] = ctx;
                    found++;
                }
        }
        break;
    }
    return found;
}

void plic_init(void)
{
    spinlock_init(&plic_lock, "plic");
    for (int i = 0; i < MACHINE_MAX_HARTS; i++)
        smode_ctx[i] = -1;
    if (!machine.plic.base) {
        kprintf("hartos: no PLIC in the device tree: devices will not interrupt\n");
        return;
    }
    if (read_contexts() == 0) {
        /* No usable interrupts-extended: QEMU virt's layout (M-mode context 2h,
         * S-mode context 2h+1 for hart id h) is the best guess. */
        kprintf("hartos: PLIC contexts not in the device tree; assuming 2*hartid+1\n");
        for (int i = 0; i < machine.nharts; i++)
            smode_ctx[i] = 2 * (int)machine.hartids[i] + 1;
    }
}

/* Enables or disables source irq for context ctx. Called with plic_lock held. */
static void set_enable(int ctx, uint32_t irq, int on)
{
    volatile uint32_t *word = plic_reg(PLIC_ENABLE(ctx, irq));
    if (on)
        *word |= 1u << (irq % 32);
    else
        *word &= ~(1u << (irq % 32));
}

void plic_init_hart(void)
{
    if (!plic_lock.name)
        panic("plic_init_hart on hart %lu before plic_init", mycpu()->hartid);
    if (!machine.plic.base)
        return;
    int ctx = -1;
    for (int i = 0; i < machine.nharts; i++)
        if (machine.hartids[i] == mycpu()->hartid)
            ctx = smode_ctx[i];
    if (ctx < 0) {
        kprintf("hartos: PLIC has no S-mode context for hart %lu\n", mycpu()->hartid);
        return;
    }
    acquire(&plic_lock);
    ctx_of_cpu[cpuid()] = ctx;
    for (uint32_t irq = 1; irq <= machine.plic_ndev && irq < PLIC_MAX_IRQ; irq++)
        set_enable(ctx, irq, sources[irq].handler != 0 && sources[irq].cpu == cpuid());
    *plic_reg(PLIC_THRESHOLD(ctx)) = 0; /* let every priority > 0 through */
    ready_mask |= 1ul << cpuid();
    release(&plic_lock);
}

int plic_register(uint32_t irq, plic_handler handler, void *arg)
{
    if (!machine.plic.base || irq == 0 || irq > machine.plic_ndev || irq >= PLIC_MAX_IRQ)
        return -1;
    acquire(&plic_lock);
    if (sources[irq].handler) {
        release(&plic_lock);
        return -1;
    }
    /* The (irq mod n)-th of the n ready CPUs; CPU 0 (the boot hart) is always ready. */
    int nready = 0, cpu = 0;
    for (int c = 0; c < NCPU; c++)
        nready += (ready_mask >> c) & 1;
    int k = nready ? (int)(irq % nready) : 0;
    for (int c = 0; c < NCPU; c++)
        if ((ready_mask & (1ul << c)) && k-- == 0) {
            cpu = c;
            break;
        }
    sources[irq] = (struct plic_source){handler, arg, cpu};
    *plic_reg(PLIC_PRIORITY(irq)) = 1; /* all sources are equal: 1 is the lowest that is on */
    if (ready_mask & (1ul << cpu))
        set_enable(ctx_of_cpu[cpu], irq, 1);
    release(&plic_lock);
    return 0;
}

void plic_handle_irq(void)
{
    int ctx = ctx_of_cpu[cpuid()];
    uint32_t irq;
    /* A claim returns the highest-priority pending source and clears its pending bit;
     * 0 means nothing (left), e.g. another hart claimed it first. */
    while ((irq = *plic_reg(PLIC_CLAIM(ctx))) != 0) {
        if (irq < PLIC_MAX_IRQ && sources[irq].handler)
            sources[irq].handler(sources[irq].arg);
        else
            kprintf("hartos: PLIC: interrupt %u has no handler\n", irq);
        /* Completing lets the source raise its interrupt again. */
        *plic_reg(PLIC_CLAIM(ctx)) = irq;
    }
}
