/*
 * Description: decode the device tree into struct machine (see machine.h).
 */
#include "kernel/machine.h"

#include "kernel/console.h"
#include "lib/fdt.h"
#include "lib/string.h"

#define PAGE_SIZE 4096

struct machine machine;

static int is_disabled(const struct fdt *fdt, int node)
{
    const char *status = fdt_prop(fdt, node, "status", 0);
    return status && strcmp(status, "okay") != 0 && strcmp(status, "ok") != 0;
}

/* Appends [base, base+size) to a range array; returns -1 if it is full. */
static int add_range(struct mem_range *ranges, int *n, uint64_t base, uint64_t size)
{
    if (*n == MACHINE_MAX_RANGES)
        return -1;
    ranges[(*n)++] = (struct mem_range){base, size};
    return 0;
}

/* Removes [base, base+size) from every range in `ranges`, splitting where needed. */
static void subtract_range(struct mem_range *ranges, int *n, uint64_t base, uint64_t size)
{
    uint64_t end = base + size;
    for (int i = 0; i < *n; i++) {
        uint64_t rbase = ranges[i].base, rend = rbase + ranges[i].size;
        if (end <= rbase || base >= rend)
            continue;
        /* What is left below and above the hole. */
        uint64_t low = base > rbase ? base - rbase : 0;
        uint64_t high = end < rend ? rend - end : 0;
        if (low) {
            ranges[i].size = low;
            if (high)
                add_range(ranges, n, end, high);
        } else if (high) {
            ranges[i] = (struct mem_range){end, high};
        } else {
            ranges[i--] = ranges[--(*n)];
        }
    }
}

static void read_cpus(const struct fdt *fdt, uint64_t boot_hartid)
{
    int cpus = fdt_path(fdt, "/cpus");
    uint32_t tb;
    if (cpus >= 0 && fdt_prop_u32(fdt, cpus, "timebase-frequency", &tb) == 0)
        machine.timebase_hz = tb;
    int ac, sc;
    fdt_bus_cells(fdt, cpus, &ac, &sc);
    for (int cpu = cpus >= 0 ? fdt_first_child(fdt, cpus) : -1; cpu >= 0;
         cpu = fdt_next_sibling(fdt, cpu)) {
        const char *type = fdt_prop(fdt, cpu, "device_type", 0);
        uint64_t hartid, unused;
        if (!type || strcmp(type, "cpu") != 0 || is_disabled(fdt, cpu) ||
            fdt_reg(fdt, cpu, ac, 0, 0, &hartid, &unused) != 0)
            continue;
        if (machine.timebase_hz == 0 && fdt_prop_u32(fdt, cpu, "timebase-frequency", &tb) == 0)
            machine.timebase_hz = tb;
        if (hartid == boot_hartid) {
            /* Sstc shows up as "_sstc" in the ISA string. */
            int len;
            const char *isa = fdt_prop(fdt, cpu, "riscv,isa", &len);
            for (int i = 0; isa && i + 5 <= len; i++)
                if (strncmp(isa + i, "_sstc", 5) == 0)
                    machine.has_sstc = 1;
        }
        if (machine.nharts < MACHINE_MAX_HARTS)
            machine.hartids[machine.nharts++] = hartid;
        else
            kprintf("hartos: hart %lu not used: the device tree lists more than %d harts\n", hartid,
                    MACHINE_MAX_HARTS);
    }
}

static void read_device(const struct fdt *fdt, int node, int ac, int sc)
{
    struct mmio_device dev = {0, 0, 0};
    if (fdt_reg(fdt, node, ac, sc, 0, &dev.base, &dev.size) != 0)
        return;
    fdt_prop_u32(fdt, node, "interrupts", &dev.irq);
    if (fdt_is_compatible(fdt, node, "ns16550a")) {
        if (!machine.uart.base)
            machine.uart = dev;
    } else if (fdt_is_compatible(fdt, node, "riscv,plic0") ||
               fdt_is_compatible(fdt, node, "sifive,plic-1.0.0")) {
        machine.plic = dev;
        fdt_prop_u32(fdt, node, "riscv,ndev", &machine.plic_ndev);
    } else if (fdt_is_compatible(fdt, node, "sifive,test0")) {
        machine.finisher = dev;
    } else if (fdt_is_compatible(fdt, node, "virtio,mmio")) {
        if (machine.nvirtio < MACHINE_MAX_VIRTIO)
            machine.virtio[machine.nvirtio++] = dev;
    }
}

/* One depth-first pass over the tree for memory, reserved memory and devices. */
static void read_nodes(const struct fdt *fdt)
{
    enum { MAX_DEPTH = 16 };
    int parent[MAX_DEPTH] = {0};
    int reserved_memory = fdt_path(fdt, "/reserved-memory");
    int depth = 0;
    for (int node = fdt_next_node(fdt, 0, &depth); node >= 0 && depth > 0;
         node = fdt_next_node(fdt, node, &depth)) {
        if (depth >= MAX_DEPTH)
            continue;
        parent[depth] = node;
        if (is_disabled(fdt, node))
            continue;
        int ac, sc;
        fdt_bus_cells(fdt, parent[depth - 1], &ac, &sc);
        const char *type = fdt_prop(fdt, node, "device_type", 0);
        uint64_t base, size;
        if (type && strcmp(type, "memory") == 0) {
            for (int i = 0; fdt_reg(fdt, node, ac, sc, i, &base, &size) == 0; i++)
                add_range(machine.memory, &machine.nmemory, base, size);
        } else if (depth == 2 && parent[1] == reserved_memory) {
            for (int i = 0; fdt_reg(fdt, node, ac, sc, i, &base, &size) == 0; i++)
                add_range(machine.reserved, &machine.nreserved, base, size);
        } else {
            read_device(fdt, node, ac, sc);
        }
    }
}

static void compute_usable(void)
{
    extern char kernel_start[], kernel_end[];
    uint64_t base, size;
    add_range(machine.reserved, &machine.nreserved, (uintptr_t)kernel_start,
              (uintptr_t)kernel_end - (uintptr_t)kernel_start);
    add_range(machine.reserved, &machine.nreserved, machine.dtb_base, machine.dtb_size);
    for (int i = 0; i < machine.nmemory; i++)
        add_range(machine.usable, &machine.nusable, machine.memory[i].base, machine.memory[i].size);
    for (int i = 0; i < machine.nreserved; i++)
        subtract_range(machine.usable, &machine.nusable, machine.reserved[i].base,
                       machine.reserved[i].size);
    /* pmem hands out whole pages: shrink every range inwards to page boundaries. */
    for (int i = 0; i < machine.nusable; i++) {
        base = (machine.usable[i].base + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
        uint64_t end =
            (machine.usable[i].base + machine.usable[i].size) & ~(uint64_t)(PAGE_SIZE - 1);
        size = end > base ? end - base : 0;
        machine.usable[i] = (struct mem_range){base, size};
        if (size == 0)
            machine.usable[i--] = machine.usable[--machine.nusable];
    }
}

int machine_init(const void *dtb, uint64_t boot_hartid)
{
    struct fdt fdt;
    const char *why;
    if (fdt_open(&fdt, dtb, &why) != 0) {
        kprintf("hartos: error: device tree at %p: %s\n", dtb, why);
        return -1;
    }
    machine.dtb_base = (uintptr_t)dtb;
    machine.dtb_size = fdt.totalsize;
    uint64_t base, size;
    for (int i = 0; fdt_memreserve(&fdt, i, &base, &size) == 0; i++)
        add_range(machine.reserved, &machine.nreserved, base, size);
    read_cpus(&fdt, boot_hartid);
    read_nodes(&fdt);
    int chosen = fdt_path(&fdt, "/chosen");
    machine.bootargs = chosen >= 0 ? fdt_prop(&fdt, chosen, "bootargs", 0) : 0;
    if (!machine.bootargs)
        machine.bootargs = "";

    if (machine.nmemory == 0) {
        kprintf("hartos: error: device tree has no memory node (device_type = \"memory\")\n");
        return -1;
    }
    if (machine.nharts == 0 || machine.timebase_hz == 0) {
        kprintf("hartos: error: device tree has no /cpus with harts and timebase-frequency\n");
        return -1;
    }
    int boot_listed = 0;
    for (int i = 0; i < machine.nharts; i++)
        boot_listed |= machine.hartids[i] == boot_hartid;
    if (!boot_listed) {
        kprintf("hartos: error: boot hart %lu is not listed under /cpus\n", boot_hartid);
        return -1;
    }
    extern char kernel_start[], kernel_end[];
    if (!machine_is_ram((uintptr_t)kernel_start, (uintptr_t)kernel_end - (uintptr_t)kernel_start)) {
        kprintf("hartos: error: the device tree's memory does not hold the kernel image "
                "%p..%p; is its memory node too small?\n",
                kernel_start, kernel_end);
        return -1;
    }
    compute_usable();
    if (machine.nusable == 0) {
        kprintf("hartos: error: no usable memory left after the kernel, DTB and reserved ranges\n");
        return -1;
    }
    return 0;
}

uint64_t machine_usable_bytes(void)
{
    uint64_t total = 0;
    for (int i = 0; i < machine.nusable; i++)
        total += machine.usable[i].size;
    return total;
}

void *machine_carve(uint64_t bytes)
{
    bytes = (bytes + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    int best = -1;
    for (int i = 0; i < machine.nusable; i++)
        if (machine.usable[i].size >= bytes &&
            (best < 0 || machine.usable[i].size > machine.usable[best].size))
            best = i;
    if (best < 0)
        return 0;
    machine.usable[best].size -= bytes; /* off the top: the range stays page-aligned */
    return (void *)(uintptr_t)(machine.usable[best].base + machine.usable[best].size);
}

int machine_is_ram(uint64_t addr, uint64_t len)
{
    for (int i = 0; i < machine.nmemory; i++)
        if (addr >= machine.memory[i].base && len <= machine.memory[i].size &&
            addr - machine.memory[i].base <= machine.memory[i].size - len)
            return 1; /* written so that nothing can overflow */
    return 0;
}

void machine_print(void)
{
    kprintf("hartos: %d hart(s) in device tree, timebase %lu Hz%s\n", machine.nharts,
            machine.timebase_hz, machine.has_sstc ? ", Sstc" : "");
    for (int i = 0; i < machine.nmemory; i++)
        kprintf("hartos: memory   %p..%p\n", (void *)machine.memory[i].base,
                (void *)(machine.memory[i].base + machine.memory[i].size));
    for (int i = 0; i < machine.nreserved; i++)
        kprintf("hartos: reserved %p..%p\n", (void *)machine.reserved[i].base,
                (void *)(machine.reserved[i].base + machine.reserved[i].size));
    kprintf("hartos: usable   %lu KiB in %d range(s)\n", machine_usable_bytes() / 1024,
            machine.nusable);
}
