/*
 * Description: the physical page allocator (interface in pmem.h).
 *
 * A free page holds the link to the next free page in its first 8 bytes, so the
 * lists cost no memory. Each CPU has its own list; a CPU frees onto and allocates
 * from its own list, and only when that is empty does it touch another CPU's:
 * it steals half of the first non-empty list it finds, going round from its
 * neighbour, so that a CPU that keeps allocating comes back rarely. Finding the middle
 * of a singly linked list means walking to it, under the victim's lock: the price of
 * a list that costs no memory, paid once per batch.
 *
 * Locks: pmem.cpuN protects CPU N's list, its length and its counters. Nobody
 * ever holds two pmem locks: a thief takes the victim's lock, unlinks a batch,
 * releases it, and only then takes its own lock to push the batch. In between the
 * batch is on no list and belongs to the thief alone. pmem locks are leaves: no
 * other lock is taken while one is held, so callers may hold any lock.
 *
 * Safety: one bit per page says "allocated". The bitmap covers every page from the
 * lowest to the highest usable address and is carved from the start of the lowest
 * usable range at init (it needs 1 bit per 4 KiB: one page per 128 MiB). Pages of one
 * bitmap word may sit on different CPUs' lists, so bits change with atomic AMOs
 * (amoor/amoand), not under a list lock. A free finds the bit already clear for a
 * double free, and for an address in a hole between ranges (never allocated).
 */
#include "mm/pmem.h"

#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/machine.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "kernel/trace.h"
#include "lib/printf.h"

#ifndef PMEM_POISON
#define PMEM_POISON 0
#endif

struct pmem_page {
    struct pmem_page *next;
};

struct pmem_cpu {
    struct spinlock lock; /* protects free, nfree and the counters */
    struct pmem_page *free;
    uint64_t nfree;
    uint64_t allocs, frees, steals, stolen, robbed;
} __attribute__((aligned(64))); /* cache lines of its own: no false sharing between CPUs */

static struct pmem_cpu pmem_cpus[NCPU];
static int nlists;                /* min(machine.nharts, NCPU), set once by pmem_init */
static char lock_names[NCPU][16]; /* "pmem.cpuN", written by pmem_init */

/* What pmem manages; written once by pmem_init, read-only afterwards. */
static struct pmem_map {
    uint64_t *bitmap; /* at the lowest usable address; bit n: page bitmap + n pages */
    uintptr_t start;  /* first page after the bitmap */
    uintptr_t end;    /* end of the highest usable range */
} map;

static int in_usable_range(uintptr_t a)
{
    for (int i = 0; i < machine.nusable; i++)
        if (a >= machine.usable[i].base && a < machine.usable[i].base + machine.usable[i].size)
            return a >= map.start;
    return 0;
}

/* Sets (or clears) the page's bit; returns what it was. */
static int bit_set(uintptr_t a, int allocated)
{
    uint64_t n = (a - (uintptr_t)map.bitmap) / PAGE_SIZE, bit = 1UL << (n % 64);
    uint64_t *word = &map.bitmap[n / 64];
    uint64_t old = allocated ? __atomic_fetch_or(word, bit, __ATOMIC_RELAXED)
                             : __atomic_fetch_and(word, ~bit, __ATOMIC_RELAXED);
    return (old & bit) != 0;
}

#if PMEM_POISON
static void fill(void *pa, uint64_t offset, uint8_t byte)
{
    uint64_t *w = (uint64_t *)pa, word = 0x0101010101010101UL * byte;
    for (uint64_t i = offset / 8; i < PAGE_SIZE / 8; i++)
        w[i] = word;
}

/* A free page must still be all PMEM_POISON_FREE past its link: if not, someone
 * wrote to it after freeing it. */
static void check_poison(void *pa)
{
    uint64_t *w = (uint64_t *)pa, word = 0x0101010101010101UL * PMEM_POISON_FREE;
    for (uint64_t i = 1; i < PAGE_SIZE / 8; i++)
        if (w[i] != word)
            panic("pmem_alloc: page %p was written after it was freed (offset %lu holds 0x%lx)", pa,
                  i * 8, w[i]);
}
#endif

/*
 * Locks the current CPU's list and returns it. The CPU id is read while interrupts may
 * still be on, so the thread may move to another hart before acquire() turns them
 * off; it therefore checks the id again holding the lock (interrupts off now) and, if
 * it moved, retries on its new CPU. This keeps the rule "interrupts stay off while the
 * CPU id is in use" without a push_off/pop_off pair of its own, which would cost
 * about 70 more instructions per alloc+free pair (a quarter more; see ninja bench).
 */
static struct pmem_cpu *lock_my_list(void)
{
    for (;;) {
        struct pmem_cpu *c = &pmem_cpus[PMEM_ONE_LIST ? 0 : cpuid()];
        acquire(&c->lock);
        if (PMEM_ONE_LIST || c == &pmem_cpus[cpuid()])
            return c;
        release(&c->lock);
    }
}

/*
 * Takes about half of another CPU's pages, going round from the next CPU. The first
 * page goes to the caller, the rest onto this CPU's list. Returns NULL if every list
 * is empty. Called holding no pmem lock; the rare path, kept out of pmem_alloc's way.
 */
__attribute__((noinline)) static struct pmem_page *steal(void)
{
    push_off(); /* `me` must stay this hart's from the victim's lock to our own */
    int me = cpuid();
    struct pmem_page *first = NULL;
    for (int i = 1; i < nlists && !first; i++) {
        struct pmem_cpu *v = &pmem_cpus[(me + i) % nlists];
        /* An unlocked peek skips empty lists without touching their locks; the
         * count is checked again under the lock. */
        if (__atomic_load_n(&v->nfree, __ATOMIC_RELAXED) == 0)
            continue;
        acquire(&v->lock);
        uint64_t n = (v->nfree + 1) / 2;
        struct pmem_page *last = v->free;
        for (uint64_t k = 1; k < n; k++)
            last = last->next;
        if (n) {
            first = v->free;
            v->free = last->next;
            v->nfree -= n;
            v->robbed += n;
        }
        release(&v->lock);
        if (!first)
            continue;
        trace_event(TRACE_PMEM_STEAL, (uintptr_t)((me + i) % nlists), n);
        /* The batch is on no list now: ours alone. Push all but the first page. */
        struct pmem_cpu *c = &pmem_cpus[me];
        acquire(&c->lock);
        if (n > 1) {
            last->next = c->free;
            c->free = first->next;
            c->nfree += n - 1;
        }
        c->allocs++;
        c->steals++;
        c->stolen += n;
        release(&c->lock);
    }
    pop_off();
    return first;
}

void *pmem_alloc(void)
{
    struct pmem_cpu *c = lock_my_list();
    struct pmem_page *p = c->free;
    if (p) {
        c->free = p->next;
        c->nfree--;
        c->allocs++;
    }
    release(&c->lock);
    if (!p && !(p = steal()))
        return NULL;
    uintptr_t a = (uintptr_t)p;
    if (a % PAGE_SIZE || a < map.start || a >= map.end || bit_set(a, 1))
        panic("pmem_alloc: a free list is corrupted: page %p is %s", (void *)p,
              a % PAGE_SIZE || a < map.start || a >= map.end ? "not a managed page"
                                                             : "marked allocated");
#if PMEM_POISON
    check_poison(p);
    fill(p, 0, PMEM_POISON_ALLOC);
#endif
    return p;
}

void pmem_free(void *pa)
{
    uintptr_t a = (uintptr_t)pa;
    void *caller = __builtin_return_address(0);
    if (a % PAGE_SIZE)
        panic("pmem_free: %p is not page-aligned (caller %p)", pa, caller);
    if (a < map.start || a >= map.end)
        panic("pmem_free: %p is not a page pmem manages (caller %p)", pa, caller);
    /* Clear the bit before the page is on a list: once it is, another CPU may take it. */
    if (!bit_set(a, 0)) {
        if (in_usable_range(a))
            panic("pmem_free: double free of page %p (caller %p)", pa, caller);
        panic("pmem_free: %p is not a page pmem manages (caller %p)", pa, caller);
    }
#if PMEM_POISON
    fill(pa, sizeof(struct pmem_page), PMEM_POISON_FREE);
#endif
    struct pmem_page *p = pa;
    struct pmem_cpu *c = lock_my_list();
    p->next = c->free;
    c->free = p;
    c->nfree++;
    c->frees++;
    release(&c->lock);
}

size_t pmem_free_pages(void)
{
    /* Unlocked: each count is one aligned 64-bit load. A batch in flight between two
     * lists is on neither, so the sum is exact only while nobody allocates or frees. */
    size_t n = 0;
    for (int i = 0; i < nlists; i++)
        n += __atomic_load_n(&pmem_cpus[i].nfree, __ATOMIC_RELAXED);
    return n;
}

int pmem_ncpu(void) { return nlists; }

int pmem_stats(int cpu, struct pmem_stats *out)
{
    if (cpu < 0 || cpu >= nlists)
        return -1;
    /* Unlocked, like lockstat: each number may be a moment old, none is torn. */
    struct pmem_cpu *c = &pmem_cpus[cpu];
    *out = (struct pmem_stats){
        .allocs = __atomic_load_n(&c->allocs, __ATOMIC_RELAXED),
        .frees = __atomic_load_n(&c->frees, __ATOMIC_RELAXED),
        .steals = __atomic_load_n(&c->steals, __ATOMIC_RELAXED),
        .stolen = __atomic_load_n(&c->stolen, __ATOMIC_RELAXED),
        .robbed = __atomic_load_n(&c->robbed, __ATOMIC_RELAXED),
        .free_pages = __atomic_load_n(&c->nfree, __ATOMIC_RELAXED),
        .acquires = __atomic_load_n(&c->lock.acquires, __ATOMIC_RELAXED),
        .spins = __atomic_load_n(&c->lock.spins, __ATOMIC_RELAXED),
    };
    return 0;
}

void pmem_stats_print(void)
{
    kprintf("%-5s %10s %10s %8s %8s %8s %10s %12s %10s\n", "cpu", "allocs", "frees", "steals",
            "stolen", "robbed", "free", "acquires", "spins");
    for (int i = 0; i < nlists; i++) {
        struct pmem_stats s;
        pmem_stats(i, &s);
        kprintf("%-5d %10lu %10lu %8lu %8lu %8lu %10lu %12lu %10lu\n", i, s.allocs, s.frees,
                s.steals, s.stolen, s.robbed, s.free_pages, s.acquires, s.spins);
    }
}

/* The bitmap comes first, from the lowest usable range: it is needed before any page
 * can be handed out, and the start of RAM is where a reader of the memory map looks. */
static void carve_bitmap(void)
{
    int lowest = 0;
    map.end = 0;
    for (int i = 0; i < machine.nusable; i++) {
        struct mem_range r = machine.usable[i];
        if (r.base < machine.usable[lowest].base)
            lowest = i;
        if (r.base + r.size > map.end)
            map.end = r.base + r.size;
    }
    uintptr_t base = machine.usable[lowest].base;
    uint64_t pages = (map.end - base) / PAGE_SIZE;
    uint64_t bytes = (pages + 63) / 64 * 8;
    uint64_t size = (bytes + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
    if (size >= machine.usable[lowest].size)
        panic("pmem_init: the lowest usable range %p (%lu bytes) cannot hold the %lu-byte "
              "page bitmap",
              (void *)base, machine.usable[lowest].size, size);
    map.bitmap = (uint64_t *)base;
    for (uint64_t i = 0; i < size / 8; i++)
        map.bitmap[i] = 0; /* 0 = not allocated: every page starts on a free list */
    map.start = base + size;
}

void pmem_init(void)
{
    if (machine.nusable == 0)
        panic("pmem_init: the device tree left no usable memory");
    nlists = machine.nharts < NCPU ? machine.nharts : NCPU;
    if (nlists < 1 || PMEM_ONE_LIST)
        nlists = 1;
    for (int i = 0; i < nlists; i++) {
        snprintf(lock_names[i], sizeof(lock_names[i]), "pmem.cpu%d", i);
        spinlock_init(&pmem_cpus[i].lock, lock_names[i]);
        spinlock_set_class(&pmem_cpus[i].lock, LOCK_CLASS_PMEM); /* kernel/lockorder.h */
    }
    carve_bitmap();
    /*
     * Deal the pages out in one contiguous run per list, as the harts that will use
     * them are not running yet (so no lock is needed either). Contiguous, not one page
     * each in turn: then two harts' pages rarely share a word of the bitmap, or the
     * cache line that holds it, which both would write to at every alloc and free.
     */
    uint64_t total = (machine_usable_bytes() - (map.start - (uintptr_t)map.bitmap)) / PAGE_SIZE;
    uint64_t share = (total + nlists - 1) / nlists, n = 0;
    for (int i = 0; i < machine.nusable; i++) {
        struct mem_range r = machine.usable[i];
        for (uintptr_t a = r.base; a < r.base + r.size; a += PAGE_SIZE) {
            if (a >= (uintptr_t)map.bitmap && a < map.start)
                continue; /* the bitmap */
            struct pmem_cpu *c = &pmem_cpus[n++ / share];
            struct pmem_page *p = (struct pmem_page *)a;
#if PMEM_POISON
            fill(p, sizeof(*p), PMEM_POISON_FREE);
#endif
            p->next = c->free;
            c->free = p;
            c->nfree++;
        }
    }
    kprintf("pmem: %lu pages (%lu MiB) on %d lists; bitmap %lu KiB at %p; poisoning %s%s\n", n,
            n * PAGE_SIZE >> 20, nlists, (map.start - (uintptr_t)map.bitmap) >> 10,
            (void *)map.bitmap, PMEM_POISON ? "on" : "off",
            PMEM_ONE_LIST ? "; Lab mode: one list, one lock" : "");
}
