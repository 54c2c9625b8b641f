/*
 * Description: the physical page allocator (interface in pmem.h).
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

/* LAB(locks) begin pmem-lists */
/*
 * The free lists. A free page holds the links in its first words, so the lists cost
 * no memory. Each CPU has its own list; a CPU frees onto and allocates from its own
 * list, and only when that is empty does it touch another's.
 *
 * A list is kept in chunks of up to PMEM_BATCH pages, so that taking many pages off it
 * is as cheap as taking one: a partial chunk (`part`) where pages come and go one at
 * a time, and a stack of full chunks (`full`, linked by their first page's `chunk`).
 * A free that finds the partial chunk full stacks it and starts a new one; an
 * allocation that finds it empty unstacks a full one. A thief takes one whole chunk:
 * a full one if there is one, else the partial one. Every step therefore does a fixed
 * amount of work whatever the memory size: a steal unlinks one chunk, never walks a
 * list. (A steal that walked half the victim's list took milliseconds at 2 GiB, with
 * interrupts off on every hart waiting for that lock.)
 *
 * The fast path takes no lock. The partial chunk is one word: the address of its first
 * page, plus the room left in it (PMEM_BATCH minus its pages) in the low bits that a
 * 4096-aligned address leaves free; PART_EMPTY when it has no page. Each page in it
 * remembers, in its first word `rest`, what that word was before the page was put in:
 * so a push stores the old word in the page and a pop puts the page's `rest` back.
 * Only its own CPU puts pages into the chunk or takes single pages out, with interrupts
 * off so that the thread stays on that CPU (the one whose struct cpu tp points at); the
 * one thing another CPU ever does to the word is take the whole chunk, swapping in
 * PART_EMPTY. So the owner reads the word with LR, computes the new one, and stores it
 * with SC: if a thief took the chunk meanwhile, the SC fails and the owner takes its
 * slow path. (SC fails on any write since the LR, not only on a changed value: no ABA.)
 * Under the list's lock no thief can touch the word, so there plain loads and stores do.
 *
 * Locks: pmem.cpuN protects CPU N's stack of full chunks and its steal counters, and
 * whoever puts a whole chunk into N's `part` or takes one out holds it too; so a
 * thief holding it sees each of N's pages either on the stack or in `part`. pmem.steal
 * makes thieves take turns: a thief holds it from its first look at a list until the
 * chunk it took sits on its own list. Lock order: pmem.steal, then one pmem.cpuN at a
 * time; nobody ever holds two list locks, and pmem.steal is never taken holding a list
 * lock, so no cycle can form. pmem locks are leaves: no other lock is taken while one
 * is held, so callers may hold any lock (kernel/lockorder.h checks all this).
 *
 * NULL means empty. pmem_alloc returns NULL only from steal(), after a second look
 * at every list under its lock, pmem.steal held all along. Holding pmem.steal, no
 * page changes list: only a thief moves pages between lists, there is one thief at a
 * time, and a CPU moves a chunk between its own stack and `part` only holding its
 * lock, so no chunk is ever "in flight" where a look could miss it. A page free when
 * that last look began therefore stays on its list until its own CPU hands it out;
 * finding every list empty proves that all such pages were handed out. (A page freed
 * while the look runs may be missed: that free ran concurrently with the call.)
 */
struct pmem_page {
    uintptr_t rest;          /* the partial-chunk word for the pages behind this one */
    struct pmem_page *chunk; /* in a stacked full chunk's first page: the next one */
};

#define PART_ROOM 0x7ffUL /* the room-left bits of `part` (what one andi can mask) */
#define PART_EMPTY ((uintptr_t)PMEM_BATCH) /* no first page, room for a whole chunk */
_Static_assert(PMEM_BATCH <= PART_ROOM, "a chunk's room fits in PART_ROOM");

struct pmem_cpu {
    uintptr_t part;           /* first page | room left; first, so LR/SC need no offset */
    uint64_t allocs, frees;   /* written by this CPU only, interrupts off */
    struct spinlock lock;     /* pmem.cpuN: the stack below, and whole-chunk moves */
    struct pmem_page *full;   /* stack of nfull chunks of PMEM_BATCH pages */
    uint64_t nfull;           /* read unlocked too (a hint) */
    uint64_t steals, stolen, robbed;
    char name[16];               /* "pmem.cpuN" */
} __attribute__((aligned(256))); /* lines of its own: no false sharing between CPUs */

static struct pmem_cpu pmem_cpus[NCPU];
static int nlists;                 /* min(machine.nharts, NCPU), set once by pmem_init */
static struct spinlock steal_lock; /* pmem.steal: one thief at a time (see above) */

/* Pages on c's list, read without its lock: a hint, exact only while nobody moves any. */
static uint64_t list_pages(struct pmem_cpu *c)
{
    return __atomic_load_n(&c->nfull, __ATOMIC_RELAXED) * PMEM_BATCH + PMEM_BATCH -
           (__atomic_load_n(&c->part, __ATOMIC_RELAXED) & PART_ROOM);
}

/* The first page of the chunk a partial-chunk word holds (NULL for PART_EMPTY). */
static inline __attribute__((always_inline)) struct pmem_page *part_first(uintptr_t part)
{
    return (struct pmem_page *)(part & ~PART_ROOM);
}

/* Makes `word` (a partial-chunk word) c's partial chunk. Holding c's lock, with c's
 * old partial chunk empty or just stacked. */
static void set_part(struct pmem_cpu *c, uintptr_t word)
{
    __atomic_store_n(&c->part, word, __ATOMIC_RELAXED);
}

/*
 * This hart's list, with interrupts turned off in the same asm (so that tp is read only
 * once the thread can no longer move to another hart): one load from this hart's
 * struct cpu. *sstatus gets sstatus as it was, for intr_restore().
 */
static inline __attribute__((always_inline)) struct pmem_cpu *this_list(uint64_t *sstatus)
{
    struct pmem_cpu *c;
    __asm__ volatile("csrrci %0, sstatus, %2\n\tld %1, %3(tp)"
                     : "=&r"(*sstatus), "=r"(c)
                     : "i"(SSTATUS_SIE), "i"(__builtin_offsetof(struct cpu, pmem))
                     : "memory");
    return c;
}

/*
 * The lock-free steps, each one LR/SC attempt that leaves through its label when the
 * chunk is empty (pop) or full (push), or when the SC fails because a thief took the
 * chunk since the LR. No retry: the caller's slow path takes the list's lock, under
 * which plain loads and stores do. That also keeps progress independent of the
 * hardware: a load or store between LR and SC makes these "unconstrained" LR/SC
 * sequences, which the ISA does not promise will ever succeed; should an SC keep
 * failing, every call takes the lock, and nothing else changes.
 *
 * part_pop: takes the first page of this CPU's partial chunk c->part; the word becomes
 * the page's `rest`. Interrupts off.
 */
static inline __attribute__((always_inline)) struct pmem_page *part_pop(struct pmem_cpu *c)
{
    uintptr_t seen, rest;
    struct pmem_page *p;
    __asm__ volatile goto("lr.d %0, (%3)\n"
                          "   andi %1, %0, %4\n" /* the first page, NULL if empty */
                          "   beqz %1, %l[none]\n"
                          "   ld %2, 0(%1)\n" /* its rest */
                          "   sc.d %0, %2, (%3)\n"
                          "   bnez %0, %l[none]"
                          : "=&r"(seen), "=&r"(p), "=&r"(rest)
                          : "r"(&c->part), "i"(~PART_ROOM)
                          : "memory"
                          : none);
    if (!p) /* the asm left if it was NULL: saying so saves callers a check */
        __builtin_unreachable();
    return p;
none:
    return 0;
}

/*
 * part_push: puts p on this CPU's partial chunk c->part, the word as it was becoming
 * p's `rest`: the new word is p with one page less room. sc.d.rl makes the store of
 * `rest` visible before the word that publishes p (a thief reads it). Returns 0 if it
 * did not (full, or a thief was faster). Interrupts off.
 */
static inline __attribute__((always_inline)) int part_push(struct pmem_cpu *c, struct pmem_page *p)
{
    uintptr_t seen, word;
    __asm__ volatile goto("lr.d %0, (%2)\n"
                          "   andi %1, %0, %4\n" /* room left */
                          "   beqz %1, %l[full]\n"
                          "   sd %0, 0(%3)\n" /* p->rest */
                          "   addi %1, %1, -1\n"
                          "   or %1, %1, %3\n"
                          "   sc.d.rl %0, %1, (%2)\n"
                          "   bnez %0, %l[full]"
                          : "=&r"(seen), "=&r"(word)
                          : "r"(&c->part), "r"(p), "i"(PART_ROOM)
                          : "memory"
                          : full);
    return 1;
full:
    return 0;
}

/* Holding c's lock (or before other harts run): p onto c's list, stacking a full
 * partial chunk first. */
static void push_page(struct pmem_cpu *c, struct pmem_page *p)
{
    uintptr_t word = c->part;
    if ((word & PART_ROOM) == 0) { /* full: stack it, start an empty one */
        struct pmem_page *chunk = part_first(word);
        chunk->chunk = c->full;
        c->full = chunk;
        c->nfull++;
        word = PART_EMPTY;
    }
    p->rest = word;
    set_part(c, (uintptr_t)p | ((word & PART_ROOM) - 1));
}

/* Holding c's lock, c this hart's list: a page off it, or NULL if it is empty. */
static struct pmem_page *pop_page(struct pmem_cpu *c)
{
    struct pmem_page *p = part_first(c->part);
    if (!p && c->full) { /* the partial chunk is empty: unstack a full one */
        p = c->full;
        c->full = p->chunk;
        c->nfull--;
    }
    if (p) {
        set_part(c, p->rest);
        c->allocs++;
    }
    return p;
}

/* Unlinks one chunk from victim v (holding its lock): a full one if it has one, else
 * the partial one. Returns its page count (0 if v is empty) and its first page. */
static uint64_t unlink_chunk(struct pmem_cpu *v, struct pmem_page **first)
{
    uint64_t n = PMEM_BATCH;
    if ((*first = v->full) != 0) {
        v->full = v->full->chunk;
        v->nfull--;
    } else { /* v's CPU may be in its lock-free path: take the word whole, in one swap */
        uintptr_t part;
        __asm__ volatile("amoswap.d.aq %0, %2, (%1)"
                         : "=r"(part)
                         : "r"(&v->part), "r"(PART_EMPTY)
                         : "memory");
        n = PMEM_BATCH - (part & PART_ROOM);
        *first = part_first(part);
    }
    v->robbed += n;
    return n;
}

/* The thread moved to another hart between reading its CPU id and taking that CPU's
 * lock (interrupts were still on): lets go of c and tries again where it runs now. */
__attribute__((noinline, cold)) static struct pmem_cpu *relock_my_list(struct pmem_cpu *c)
{
    do {
        release(&c->lock);
        c = &pmem_cpus[cpuid()];
        acquire(&c->lock);
    } while (c != &pmem_cpus[cpuid()]);
    return c;
}

/*
 * Locks the current CPU's list and returns it. The CPU id is read while interrupts may
 * still be on, so the thread may move to another hart before acquire() turns them
 * off; it therefore checks the id again holding the lock (interrupts off now). This
 * keeps the rule "interrupts stay off while the CPU id is in use" without a
 * push_off/pop_off pair of its own.
 */
static struct pmem_cpu *lock_my_list(void)
{
    struct pmem_cpu *c = &pmem_cpus[cpuid()];
    acquire(&c->lock);
    if (__builtin_expect(c != &pmem_cpus[cpuid()], 0))
        c = relock_my_list(c);
    return c;
}

/*
 * This CPU's list was empty: takes one chunk from another CPU, going round from the
 * next CPU, keeps its first page for the caller and makes the rest this CPU's
 * partial chunk. A first round skips lists that look empty without touching their
 * locks; a second round looks at every list under its lock, and only then may the
 * answer be NULL (see "NULL means empty" above). Called holding no pmem lock.
 * Lock order: pmem.steal, then one list lock at a time (never two: no cycle).
 */
__attribute__((noinline)) static struct pmem_page *steal(void)
{
    acquire(&steal_lock); /* also keeps interrupts off, so `me` stays this hart's */
    int me = cpuid();
    struct pmem_cpu *c = &pmem_cpus[me];
    struct pmem_page *p = 0;
    for (int round = 0; round < 2 && !p; round++) {
        for (int i = 0; i < nlists && !p; i++) {
            struct pmem_cpu *v = &pmem_cpus[(me + i) % nlists];
            if (round == 0 && list_pages(v) == 0)
                continue;
            acquire(&v->lock);
            if (v == c) { /* the thread may have moved here since its list was empty */
                p = pop_page(c);
                release(&c->lock);
                continue;
            }
            uint64_t n = unlink_chunk(v, &p);
            release(&v->lock);
            if (!p)
                continue;
            trace_event(TRACE_PMEM_STEAL, (uintptr_t)((me + i) % nlists), n);
            /* This list was empty when we looked at it, and only this hart (interrupts
             * off) could have freed onto it since: the chunk becomes its partial one. */
            acquire(&c->lock);
            if (list_pages(c))
                panic("pmem: cpu %d's list filled up during its own steal", me);
            set_part(c, p->rest);
            c->allocs++;
            c->steals++;
            c->stolen += n;
            release(&c->lock);
        }
    }
    release(&steal_lock);
    return p;
}

/* The partial chunk was empty, or a thief took it as we looked: under the list's lock,
 * a full chunk of its own, else one stolen. */
__attribute__((noinline)) static struct pmem_page *take_page_slow(void)
{
    struct pmem_cpu *c = lock_my_list();
    struct pmem_page *p = pop_page(c);
    release(&c->lock);
    return p ? p : steal();
}

/* A page off this CPU's list, counted in allocs; NULL only if no list has one. The
 * common case takes a page from the partial chunk and no lock. */
static inline __attribute__((always_inline)) struct pmem_page *take_page(void)
{
    uint64_t sstatus;
    struct pmem_cpu *c = this_list(&sstatus);
    struct pmem_page *p = part_pop(c);
    if (p)
        c->allocs++;
    intr_restore(sstatus); /* all of it: only SIE changed since, so only SIE comes back */
    return p ? p : take_page_slow();
}

/* The partial chunk was full, or a thief took it as we looked: under the list's lock. */
__attribute__((noinline)) static void give_page_slow(struct pmem_page *p)
{
    struct pmem_cpu *c = lock_my_list();
    push_page(c, p);
    c->frees++;
    release(&c->lock);
}

/* Puts p on this CPU's list, counted in frees. */
static inline __attribute__((always_inline)) void give_page(struct pmem_page *p)
{
    uint64_t sstatus;
    struct pmem_cpu *c = this_list(&sstatus);
    int done = part_push(c, p);
    if (done)
        c->frees++;
    intr_restore(sstatus); /* as in take_page */
    if (!done)
        give_page_slow(p);
}

static void lists_init(void)
{
    nlists = machine.nharts < NCPU ? machine.nharts : NCPU;
    if (nlists < 1)
        nlists = 1;
    spinlock_init(&steal_lock, "pmem.steal");
    spinlock_set_class(&steal_lock, LOCK_CLASS_PMEM_STEAL);
    for (int i = 0; i < NCPU; i++) {
        pmem_cpus[i].part = PART_EMPTY;
        cpus[i].pmem = &pmem_cpus[i];
    }
    for (int i = 0; i < nlists; i++) {
        struct pmem_cpu *c = &pmem_cpus[i];
        snprintf(c->name, sizeof(c->name), "pmem.cpu%d", i);
        spinlock_init(&c->lock, c->name);
        spinlock_set_class(&c->lock, LOCK_CLASS_PMEM);
    }
}

/*
 * pmem_init hands page number n of total here, before other harts run (no locks).
 * One contiguous run per list, not one page each in turn: then two harts' pages rarely
 * share a word of the bitmap, or the cache line that holds it, which both would write
 * to at every alloc and free.
 */
static void deal_page(struct pmem_page *p, uint64_t n, uint64_t total)
{
    uint64_t share = (total + nlists - 1) / nlists;
    push_page(&pmem_cpus[n / share], p);
}
/* LAB(locks) end pmem-lists */

_Static_assert(sizeof(struct pmem_page) <= PMEM_LINK_BYTES, "links fit in PMEM_LINK_BYTES");

/* What pmem manages; written once by pmem_init, read-only afterwards. In small data
 * (kernel.ld), so that each read of a field is one load from gp. */
static struct pmem_map {
    uint64_t *bitmap; /* at the lowest usable address; bit n: page number first_page + n */
    uintptr_t words;  /* bitmap - first_page / 64 words: page a's word is words[a >> 18] */
    uintptr_t start;  /* first page after the bitmap */
    uintptr_t span;   /* end of the highest usable range - start: one compare checks both ends */
} map __attribute__((section(".sdata.pmem_map")));

static int in_usable_range(uintptr_t a)
{
    for (int i = 0; i < machine.nusable; i++)
        if (a >= machine.usable[i].base && a < machine.usable[i].base + machine.usable[i].size)
            return a >= map.start;
    return 0;
}

/* Is a a page-aligned address from map.start to the end of the highest usable range?
 * (Holes between ranges pass: their bits are never set, which pmem_free finds.) One
 * unsigned compare checks both ends. */
static inline __attribute__((always_inline)) int in_page_span(uintptr_t a)
{
    uintptr_t off = a - map.start;
    return off < map.span && off % PAGE_SIZE == 0;
}

/*
 * Page a's (in_page_span) word of the bitmap, and its bit there. The bitmap starts at a
 * page number that is a multiple of 64, so the bit is bit a / 4096 % 64 of its word,
 * and the word is found from the address alone: words + a / (64 pages) words.
 */
static inline __attribute__((always_inline)) uint64_t *bit_word(uintptr_t a)
{
    return (uint64_t *)(map.words + a / (64 * PAGE_SIZE) * sizeof(uint64_t));
}
static inline __attribute__((always_inline)) uint64_t bit_of(uintptr_t a)
{
    return 1UL << (a / PAGE_SIZE % 64);
}

/* Sets page a's bit (allocated); returns whether it was set already. */
static inline __attribute__((always_inline)) int bit_set(uintptr_t a)
{
    return (__atomic_fetch_or(bit_word(a), bit_of(a), __ATOMIC_RELAXED) & bit_of(a)) != 0;
}

/* Flips page a's bit; returns whether it was set (allocated) before. */
static inline __attribute__((always_inline)) int bit_flip(uintptr_t a)
{
    return (__atomic_fetch_xor(bit_word(a), bit_of(a), __ATOMIC_RELAXED) & bit_of(a)) != 0;
}

#if PMEM_POISON
static void fill(void *pa, uint64_t offset, uint8_t byte)
{
    uint64_t *w = (uint64_t *)pa, word = 0x0101010101010101UL * byte;
    for (uint64_t i = offset / 8; i < PAGE_SIZE / 8; i++)
        w[i] = word;
}

/* A free page must still be all PMEM_POISON_FREE past its links: if not, someone
 * wrote to it after freeing it. */
static void check_poison(void *pa)
{
    uint64_t *w = (uint64_t *)pa, word = 0x0101010101010101UL * PMEM_POISON_FREE;
    for (uint64_t i = PMEM_LINK_BYTES / 8; i < PAGE_SIZE / 8; i++)
        if (w[i] != word)
            panic("pmem_alloc: page %p was written after it was freed (offset %lu holds 0x%lx)", pa,
                  i * 8, w[i]);
}

__attribute__((noreturn, noinline, cold)) static void list_corrupted(void *p)
{
    panic("pmem_alloc: a free list is corrupted: page %p is %s", p,
          in_page_span((uintptr_t)p) ? "marked allocated" : "not a managed page");
}
#endif

/*
 * Marks p allocated and returns it. A page on a list passed pmem_free's checks; only a
 * write to a free page (a use after free) can make a list point elsewhere, or put a
 * page on it twice. So only the debugging build (with poisoning, which is there to
 * catch such writes) checks that p is a page-aligned address in pmem's range and that
 * its bit was clear; Linux, too, checks every page it takes from its per-CPU lists
 * only when built for debugging.
 */
static inline __attribute__((always_inline)) void *hand_out(struct pmem_page *p)
{
    uintptr_t a = (uintptr_t)p;
#if PMEM_POISON
    if (!in_page_span(a) || bit_set(a))
        list_corrupted(p);
    check_poison(p);
    fill(p, 0, PMEM_POISON_ALLOC);
#else
    bit_set(a);
#endif
    return p;
}

void *pmem_alloc(void)
{
    struct pmem_page *p = take_page();
    return p ? hand_out(p) : NULL;
}

/*
 * pmem_free found pa bad. Who called pmem_free is read from the frame chain rather
 * than passed in, so that pmem_free's fast path does not copy its return address: this
 * function's frame holds pmem_free's frame pointer (fp - 16), and that frame holds
 * pmem_free's return address (fp - 8), as print_backtrace() reads them.
 */
__attribute__((noreturn, noinline, cold)) static void bad_free(void *pa)
{
    uintptr_t free_fp = ((uintptr_t *)r_fp())[-2];
    void *caller = ((void **)free_fp)[-1];
    uintptr_t a = (uintptr_t)pa;
    if (a % PAGE_SIZE)
        panic("pmem_free: %p is not page-aligned (caller %p)", pa, caller);
    if (in_usable_range(a))
        panic("pmem_free: double free of page %p (caller %p)", pa, caller);
    panic("pmem_free: %p is not a page pmem manages (caller %p)", pa, caller);
}

void pmem_free(void *pa)
{
    /* Clear the bit before the page is on a list: once it is, another CPU may take it.
     * An xor flips it: it must have been set. Clear means a double free, or an address
     * in a hole between ranges; what the xor did then does not matter, as bad_free panics. */
    uintptr_t a = (uintptr_t)pa;
    if (__builtin_expect(!in_page_span(a) || !bit_flip(a), 0))
        bad_free(pa);
#if PMEM_POISON
    fill(pa, PMEM_LINK_BYTES, PMEM_POISON_FREE);
#endif
    give_page(pa);
}

size_t pmem_free_pages(void)
{
    /* Unlocked: each count is one aligned 64-bit load, so the sum is exact only while
     * nobody allocates or frees. */
    size_t n = 0;
    for (int i = 0; i < nlists; i++)
        n += list_pages(&pmem_cpus[i]);
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
        .free_pages = list_pages(c),
        .acquires = __atomic_load_n(&c->lock.acquires, __ATOMIC_RELAXED),
        .spins = __atomic_load_n(&c->lock.spins, __ATOMIC_RELAXED),
        .contentions = __atomic_load_n(&c->lock.contentions, __ATOMIC_RELAXED),
        .bounces = __atomic_load_n(&c->lock.bounces, __ATOMIC_RELAXED),
    };
    return 0;
}

void pmem_stats_print(void)
{
    kprintf("%-5s %10s %10s %8s %8s %8s %10s %12s %10s %11s %10s\n", "cpu", "allocs", "frees",
            "steals", "stolen", "robbed", "free", "acquires", "spins", "contentions", "bounces");
    for (int i = 0; i < nlists; i++) {
        struct pmem_stats s;
        pmem_stats(i, &s);
        kprintf("%-5d %10lu %10lu %8lu %8lu %8lu %10lu %12lu %10lu %11lu %10lu\n", i, s.allocs,
                s.frees, s.steals, s.stolen, s.robbed, s.free_pages, s.acquires, s.spins,
                s.contentions, s.bounces);
    }
}

/* The bitmap comes first, from the lowest usable range: it is needed before any page
 * can be handed out, and the start of RAM is where a reader of the memory map looks. */
static void carve_bitmap(void)
{
    int lowest = 0;
    uintptr_t end = 0;
    for (int i = 0; i < machine.nusable; i++) {
        struct mem_range r = machine.usable[i];
        if (r.base < machine.usable[lowest].base)
            lowest = i;
        if (r.base + r.size > end)
            end = r.base + r.size;
    }
    uintptr_t base = machine.usable[lowest].base;
    uint64_t first_page = base / PAGE_SIZE / 64 * 64; /* bit 0 starts a word */
    uint64_t bytes = (end / PAGE_SIZE - first_page + 63) / 64 * 8;
    uint64_t size = (bytes + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
    if (size >= machine.usable[lowest].size)
        panic("pmem_init: the lowest usable range %p (%lu bytes) cannot hold the %lu-byte "
              "page bitmap",
              (void *)base, machine.usable[lowest].size, size);
    map.bitmap = (uint64_t *)base;
    for (uint64_t i = 0; i < size / 8; i++)
        map.bitmap[i] = 0; /* 0 = not allocated: every page starts on a free list */
    map.words = base - first_page / 64 * sizeof(uint64_t);
    map.start = base + size;
    map.span = end - map.start;
}

void pmem_init(void)
{
    if (machine.nusable == 0)
        panic("pmem_init: the device tree left no usable memory");
    lists_init();
    carve_bitmap();
    uint64_t total = (machine_usable_bytes() - (map.start - (uintptr_t)map.bitmap)) / PAGE_SIZE;
    uint64_t n = 0;
    for (int i = 0; i < machine.nusable; i++) {
        struct mem_range r = machine.usable[i];
        for (uintptr_t a = r.base; a < r.base + r.size; a += PAGE_SIZE) {
            if (a >= (uintptr_t)map.bitmap && a < map.start)
                continue; /* the bitmap */
#if PMEM_POISON
            fill((void *)a, PMEM_LINK_BYTES, PMEM_POISON_FREE);
#endif
            deal_page((struct pmem_page *)a, n++, total);
        }
    }
    kprintf("pmem: %lu pages (%lu MiB) on %d lists; bitmap %lu KiB at %p; poisoning %s\n", n,
            n * PAGE_SIZE >> 20, nlists, (map.start - (uintptr_t)map.bitmap) >> 10,
            (void *)map.bitmap, PMEM_POISON ? "on" : "off");
}
