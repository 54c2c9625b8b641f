/*
 * Description: the physical page allocator: 4 KiB pages of all usable RAM (the
 * device tree's memory minus the kernel, the DTB and reserved ranges), kept on
 * pmem_ncpu() free lists, each with its own lock (mm/pmem.c says how).
 *  - pmem_init: once, on the boot hart, after machine_init and before any other hart
 *    runs; the page bitmap takes the first pages of the lowest usable range
 *  - pmem_alloc: a free page, or NULL only when no page is free anywhere (a page freed
 *    while the call runs may be missed); never panics; later frees make allocation
 *    work again
 *  - pmem_free: give a page back; a double free, an unaligned address or one outside
 *    the managed pages panics naming the address and the caller
 *  - pmem_free_pages: pages on all free lists (exact only while nobody allocates or frees)
 *  - pmem_stats(cpu, &s) / pmem_stats_print: the per-list counters below
 * No critical section moves more than PMEM_BATCH pages, whatever the memory size.
 * With PMEM_POISON (CMake option HARTOS_POISON, on in debug builds) a freed page is
 * filled with PMEM_POISON_FREE (except its first PMEM_LINK_BYTES, the free-list links),
 * a new page with PMEM_POISON_ALLOC, and pmem_alloc panics if a free page was written to
 * or a list points outside the managed pages.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096

#define PMEM_BATCH 64          /* most pages one critical section moves between lists */
#define PMEM_LINK_BYTES 16     /* a free page's first bytes hold the allocator's links */
#define PMEM_POISON_FREE 0x6b  /* byte in a freed page (Linux's POISON_FREE) */
#define PMEM_POISON_ALLOC 0x5a /* byte in a new page: "you forgot to initialise" */

void pmem_init(void);
void *pmem_alloc(void);
void pmem_free(void *pa);
size_t pmem_free_pages(void);

/*
 * One CPU's counters since boot. At a quiet moment (no steal running) each
 * CPU's list changed by exactly frees - allocs + stolen - robbed, and the stolen and
 * robbed counts of all CPUs add up to the same number.
 */
struct pmem_stats {
    uint64_t allocs;      /* pages handed out on this CPU (stolen ones included) */
    uint64_t frees;       /* pages given back on this CPU */
    uint64_t steals;      /* times this CPU found its list empty and took a batch */
    uint64_t stolen;      /* pages it took in those batches */
    uint64_t robbed;      /* pages other CPUs stole from its list */
    uint64_t free_pages;  /* pages on its list now */
    uint64_t acquires;    /* of its list's lock (pmem.cpuN), by any CPU */
    uint64_t spins;       /* failed tries on that lock: 0 unless another CPU stole */
    uint64_t contentions; /* acquires that found it taken: 0 unless another CPU stole */
    uint64_t bounces;     /* acquires on another hart than the one before: 0 likewise */
};

/* Fills *out for CPU cpu (0 <= cpu < pmem_ncpu()); returns 0, or -1 for another cpu. */
int pmem_stats(int cpu, struct pmem_stats *out);
/* How many free lists there are (min(machine.nharts, NCPU), or 1 for a single list). */
int pmem_ncpu(void);
void pmem_stats_print(void);
