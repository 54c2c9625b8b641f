/*
 * The free list, as xv6's kalloc.c keeps it: one list of free pages under one lock. A
 * free page holds the link to the next one in its first 8 bytes, so the list costs no
 * memory.
 *
 * TODO(locks lab): give every CPU its own free list under its own lock, named
 * pmem.cpu0, pmem.cpu1, ..., so that harts that allocate and free on their own lists
 * never wait for each other; a CPU whose list is empty takes pages from another's.
 * Keep the five functions below (the rest of this file calls them) and the counters
 * (pmem_stats reports them). The rules are in docs/lab-locks.md: no critical section
 * may move more than PMEM_BATCH pages, and pmem_alloc returns NULL only when no page
 * is free anywhere. Write the lock order next to the code that takes two locks.
 */
struct pmem_page {
    struct pmem_page *next;
};

struct pmem_cpu {
    struct spinlock lock; /* "pmem": protects everything below */
    struct pmem_page *free;
    uint64_t nfree;
    uint64_t allocs, frees, steals, stolen, robbed;
};

static struct pmem_cpu pmem_cpus[1];
static int nlists; /* how many free lists there are */

/* Pages on c's list; read without its lock (pmem_stats, pmem_free_pages). */
static uint64_t list_pages(struct pmem_cpu *c)
{
    return __atomic_load_n(&c->nfree, __ATOMIC_RELAXED);
}

/* A page off the free list, counted in allocs; NULL if the list is empty. */
static struct pmem_page *take_page(void)
{
    struct pmem_cpu *c = &pmem_cpus[0];
    acquire(&c->lock);
    struct pmem_page *p = c->free;
    if (p) {
        c->free = p->next;
        c->nfree--;
        c->allocs++;
    }
    release(&c->lock);
    return p;
}

/* Puts p on the free list, counted in frees. */
static void give_page(struct pmem_page *p)
{
    struct pmem_cpu *c = &pmem_cpus[0];
    acquire(&c->lock);
    p->next = c->free;
    c->free = p;
    c->nfree++;
    c->frees++;
    release(&c->lock);
}

/* Once, from pmem_init, before deal_page. */
static void lists_init(void)
{
    nlists = 1;
    spinlock_init(&pmem_cpus[0].lock, "pmem");
    spinlock_set_class(&pmem_cpus[0].lock, LOCK_CLASS_PMEM); /* kernel/lockorder.h */
}

/* pmem_init hands page number n of total here, before other harts run (no locks). */
static void deal_page(struct pmem_page *p, uint64_t n, uint64_t total)
{
    (void)n, (void)total;
    struct pmem_cpu *c = &pmem_cpus[0];
    p->next = c->free;
    c->free = p;
    c->nfree++;
}
