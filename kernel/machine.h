/*
 * Description: what the device tree says about the machine, decoded once at boot.
 * Nothing here is hard-coded: memory, harts, timebase and devices all come from the
 * DTB that OpenSBI passes in a1.
 *  - machine_init(dtb, boot_hartid): fill `machine`; returns 0, or -1 after printing one line
 *    naming what is missing or malformed
 *  - machine.usable[]: RAM minus the kernel image, the DTB itself and every reserved
 *    range (memreserve block and /reserved-memory); page-aligned; what pmem manages
 */
#pragma once

#include <stdint.h>

#define MACHINE_MAX_HARTS 256 /* harts read from the DT; only NCPU of them are started */
#define MACHINE_MAX_RANGES 16
#define MACHINE_MAX_VIRTIO 8

struct mem_range {
    uint64_t base;
    uint64_t size;
};

struct mmio_device {
    uint64_t base;
    uint64_t size;
    uint32_t irq; /* PLIC interrupt number, 0 if none */
};

struct machine {
    uint64_t dtb_base, dtb_size;
    uint64_t timebase_hz;
    int has_sstc; /* the boot hart's ISA string lists the Sstc extension */

    uint64_t hartids[MACHINE_MAX_HARTS]; /* enabled harts, in device tree order */
    int nharts;

    struct mem_range memory[MACHINE_MAX_RANGES];
    int nmemory;
    struct mem_range reserved[MACHINE_MAX_RANGES]; /* includes kernel image and DTB */
    int nreserved;
    struct mem_range usable[MACHINE_MAX_RANGES];
    int nusable;

    struct mmio_device uart;
    struct mmio_device plic;
    uint32_t plic_ndev;
    struct mmio_device finisher; /* sifive,test0: power off with a status */
    struct mmio_device virtio[MACHINE_MAX_VIRTIO];
    int nvirtio;

    const char *bootargs; /* /chosen/bootargs, "" if none */
};

extern struct machine machine;

int machine_init(const void *dtb, uint64_t boot_hartid);
void machine_print(void);
/* Is [addr, addr+len) inside one RAM range? (For code that follows raw pointers.) */
int machine_is_ram(uint64_t addr, uint64_t len);
/*
 * Takes bytes (rounded up to pages) off the top of the largest usable range and returns
 * them, or NULL if no range is that large. For per-hart memory sized at boot (stacks,
 * trace rings); only before pmem_init, which hands out what is left.
 */
void *machine_carve(uint64_t bytes);
/* Total bytes in machine.usable[]. */
uint64_t machine_usable_bytes(void);
