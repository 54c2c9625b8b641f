/*
 * Description: the comparison baseline for mm/pmem.c: xv6's original page allocator
 * (kalloc.c), one free list under one lock, over its own pool of pages borrowed from
 * pmem. Used only by tests and the bench.
 *  - pmem_baseline_setup(npages): borrows npages from pmem; returns how many it got
 *  - pmem_baseline_teardown: gives the pool back to pmem; returns the number of pool
 *    pages that were not free (0 unless a caller still holds some: they stay lost)
 *  - pmem_baseline_alloc / _free / _free_pages: as pmem_alloc, pmem_free,
 *    pmem_free_pages; a free outside the pool's address span or unaligned panics
 *
 * And what lets one stress or bench loop drive either allocator: `struct pmem_ops`.
 *  - pmem_ops_percpu: mm/pmem.c; pmem_ops_baseline: this file
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

size_t pmem_baseline_setup(size_t npages);
size_t pmem_baseline_teardown(void);
void *pmem_baseline_alloc(void);
void pmem_baseline_free(void *pa);
size_t pmem_baseline_free_pages(void);

/* An allocator's lock counters, summed over its locks (kernel/spinlock.h). */
struct lock_counts {
    uint64_t acquires, spins, contentions, bounces;
};

struct pmem_ops {
    const char *name;
    void *(*alloc)(void);
    void (*free)(void *pa);
    void (*lock_counts)(struct lock_counts *out);
};

extern const struct pmem_ops pmem_ops_percpu, pmem_ops_baseline;
