/*
 * Description: the single-lock page allocator, as in xv6's kalloc.c (see
 * pmem_baseline.h). Every hart pushes and pops on one list under one lock: the
 * contention that mm/pmem.c's per-CPU lists remove. Kept deliberately plain: no
 * per-page state, no statistics beyond the lock's own counters.
 */
#include "tests/pmem_baseline.h"

#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "lib/string.h"
#include "mm/pmem.h"

#ifndef PMEM_POISON
#define PMEM_POISON 0
#endif

struct run {
    struct run *next;
};

/* The pool; lock protects freelist and nfree. lo/hi/npool change only in setup and
 * teardown, which the caller runs while nobody else uses the pool. */
static struct pmem_baseline {
    struct spinlock lock;
    struct run *freelist;
    size_t nfree;
    size_t npool;
    uintptr_t lo, hi; /* lowest and highest page of the pool */
} pool;

size_t pmem_baseline_setup(size_t npages)
{
    if (!pool.lock.name)
        spinlock_init(&pool.lock, "pmem.baseline"); /* once: lockstat keeps the pointer */
    pool.lo = UINTPTR_MAX;
    pool.hi = 0;
    size_t n = 0;
    for (; n < npages; n++) {
        void *pa = pmem_alloc();
        if (!pa)
            break;
        if ((uintptr_t)pa < pool.lo)
            pool.lo = (uintptr_t)pa;
        if ((uintptr_t)pa > pool.hi)
            pool.hi = (uintptr_t)pa;
        pool.npool++; /* before the free: pmem_baseline_free checks lo..hi */
        pmem_baseline_free(pa);
    }
    return n;
}

size_t pmem_baseline_teardown(void)
{
    size_t n = 0;
    for (void *pa; (pa = pmem_baseline_alloc()) != 0; n++)
        pmem_free(pa);
    size_t missing = pool.npool - n;
    pool.npool = 0;
    return missing;
}

void *pmem_baseline_alloc(void)
{
    acquire(&pool.lock);
    struct run *r = pool.freelist;
    if (r) {
        pool.freelist = r->next;
        pool.nfree--;
    }
    release(&pool.lock);
    if (r && PMEM_POISON)
        memset(r, PMEM_POISON_ALLOC, PAGE_SIZE);
    return r;
}

void pmem_baseline_free(void *pa)
{
    if ((uintptr_t)pa % PAGE_SIZE || (uintptr_t)pa < pool.lo || (uintptr_t)pa > pool.hi)
        panic("pmem_baseline_free: %p is not a pool page (caller %p)", pa,
              __builtin_return_address(0));
    if (PMEM_POISON)
        memset(pa, PMEM_POISON_FREE, PAGE_SIZE);
    struct run *r = pa;
    acquire(&pool.lock);
    r->next = pool.freelist;
    pool.freelist = r;
    pool.nfree++;
    release(&pool.lock);
}

size_t pmem_baseline_free_pages(void) { return __atomic_load_n(&pool.nfree, __ATOMIC_RELAXED); }

static void percpu_lock_counts(struct lock_counts *out)
{
    *out = (struct lock_counts){0};
    struct pmem_stats s;
    for (int cpu = 0; pmem_stats(cpu, &s) == 0; cpu++) {
        out->acquires += s.acquires;
        out->spins += s.spins;
        out->contentions += s.contentions;
        out->bounces += s.bounces;
    }
}

static void baseline_lock_counts(struct lock_counts *out)
{
    *out = (struct lock_counts){
        .acquires = __atomic_load_n(&pool.lock.acquires, __ATOMIC_RELAXED),
        .spins = __atomic_load_n(&pool.lock.spins, __ATOMIC_RELAXED),
        .contentions = __atomic_load_n(&pool.lock.contentions, __ATOMIC_RELAXED),
        .bounces = __atomic_load_n(&pool.lock.bounces, __ATOMIC_RELAXED),
    };
}

const struct pmem_ops pmem_ops_percpu = {"percpu", pmem_alloc, pmem_free, percpu_lock_counts};
const struct pmem_ops pmem_ops_baseline = {"baseline", pmem_baseline_alloc, pmem_baseline_free,
                                           baseline_lock_counts};
