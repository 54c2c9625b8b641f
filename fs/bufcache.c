/* LAB(locks) begin bcache-design */
/*
 * Description: the buffer cache (interface in bufcache.h): nbuf buffers in
 * BCACHE_NBUCKET hash buckets with one lock each, and a CLOCK hand for eviction.
 *
 * The locks, and what each one protects:
 *  - bucket lock: the bucket's list, the refcnt of every buffer in that list, and
 *    the bucket's counters. A hit and a brelse take exactly this one lock.
 *  - evict_lock: the CLOCK hand, and the right to change a buffer's identity
 *    (dev, blockno). Taken only on a miss; it serialises misses.
 *  - a buffer's sleeplock: its data and valid flag, from bread to brelse.
 * A buffer with refcnt 0 that is in no bucket belongs to the evictor alone.
 *
 * Lock order: evict_lock, then one bucket lock at a time. No code takes evict_lock
 * while holding a bucket lock, and nobody holds two bucket locks at once: the
 * evictor unlinks its victim under the victim's bucket lock and releases it before
 * it takes the new bucket's lock (between the two the victim is in no bucket, with
 * refcnt 1, so nobody else can see it). With at most one spinlock from each level
 * held, in that order, no cycle of waiting harts can form. Sleeplocks are taken
 * only with no spinlock held (acquiresleep may sleep).
 *
 * Why the miss path looks the block up again under evict_lock: two harts that miss
 * on the same block both queue on evict_lock. Without the second look the later one
 * would load the block into a second buffer, and writes to one copy would be lost in
 * the other. With it, the later one finds the buffer the first one inserted.
 *
 * Eviction is CLOCK, an approximation of LRU that needs no list updated on the hit
 * path: a hit sets the buffer's `referenced` bit; the hand, moving over the buffer
 * array under evict_lock, skips buffers in use, clears a set bit and moves on
 * (a second chance), and evicts the first unused buffer whose bit is clear. Every
 * step finds the victim, clears a bit that a hit set, or passes a buffer in use (no
 * more of those than there are holders), so a miss costs O(1) amortised whatever
 * nbuf is. The hand gives up after two sweeps (the second one
 * ignores the bits): then every buffer was in use, and bread returns BCACHE_ENOBUFS.
 */
/* LAB(locks) end bcache-design */
/*
 * Errors: a failed read leaves the buffer invalid, so the next bread of that block
 * tries the disk again. A failed write marks the buffer invalid too: its data is not
 * what the disk holds, and the cache must never claim the disk has data it does not.
 */
#include "fs/bufcache.h"

#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/trace.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/pmem.h"

struct bcache bcache;

#define BCACHE_MAX_NBUF (PAGE_SIZE / (int)sizeof(struct buf *)) /* the table is one page */

static struct bcache_bucket *bucket(struct bcache *c, uint32_t dev, uint64_t blockno)
{
    return &c->buckets[bcache_bucket_of(dev, blockno)];
}

/* The only place the cache talks to the disk. 0 or the driver's negative error. */
static int disk_io(struct buf *b, int write)
{
    if (write)
        return virtio_blk_write((int)b->dev, b->blockno, b->data);
    return virtio_blk_read((int)b->dev, b->blockno, b->data);
}

/*
 * Memory: one pmem page holds the table of buffer pointers; each further page holds
 * PER_PAGE buffers, their data blocks first (page-aligned, as the device likes) and
 * their headers after them. Returns how many of the nbuf buffers it could make.
 */
#define PER_PAGE ((int)(PAGE_SIZE / (BSIZE + sizeof(struct buf))))

static int alloc_buffers(struct buf **table, int nbuf)
{
    for (int i = 0; i < nbuf; i += PER_PAGE) {
        uint8_t *page = pmem_alloc();
        if (!page)
            return i;
        for (int j = 0; j < PER_PAGE && i + j < nbuf; j++) {
            table[i + j] = (struct buf *)(page + PER_PAGE * BSIZE) + j;
            table[i + j]->data = page + j * BSIZE;
        }
    }
    return nbuf;
}

int bcache_init(struct bcache *c, const char *name, int nbuf)
{
    _Static_assert(BSIZE + sizeof(struct buf) <= PAGE_SIZE, "a buffer must fit in a page");
    if (c->nbuf)
        panic("bcache_init: cache '%s' initialised twice", c->name);
    if (nbuf < 1 || nbuf > BCACHE_MAX_NBUF)
        panic("bcache_init: cache '%s': nbuf %d not in 1..%d", name, nbuf, BCACHE_MAX_NBUF);
    struct buf **table = pmem_alloc();
    int made = table ? alloc_buffers(table, nbuf) : 0;
    if (made < nbuf) {
        for (int i = 0; i < made; i += PER_PAGE)
            pmem_free(table[i]->data); /* the first data block starts its page */
        if (table)
            pmem_free(table);
        kprintf("bcache %s: error: no memory for %d buffers\n", name, nbuf);
        return BCACHE_ENOMEM;
    }
    /* Only now register locks: a failed init must leave no lock behind in lockstat. */
    strlcpy(c->name, name, sizeof(c->name));
    for (int i = 0; i < BCACHE_NBUCKET; i++) {
        struct bcache_bucket *bk = &c->buckets[i];
        snprintf(bk->lockname, sizeof(bk->lockname), "%s.bucket%d", c->name, i);
        spinlock_init(&bk->lock, bk->lockname);
        spinlock_set_class(&bk->lock, LOCK_CLASS_BCACHE_BUCKET); /* kernel/lockorder.h */
        list_init(&bk->list);
        bk->hits = bk->misses = bk->evictions = 0;
    }
    snprintf(c->evict_lockname, sizeof(c->evict_lockname), "%s.evict", c->name);
    spinlock_init(&c->evict_lock, c->evict_lockname);
    spinlock_set_class(&c->evict_lock, LOCK_CLASS_BCACHE_EVICT);
    snprintf(c->buf_lockname, sizeof(c->buf_lockname), "%s.buf", c->name);
    c->hand = 0;
    c->hand_steps = 0;
    c->bufs = table;
    /* Every buffer starts in a bucket, under a block no one asks for: the hand then
     * treats never-used buffers like any other. */
    for (int i = 0; i < nbuf; i++) {
        struct buf *b = table[i];
        b->dev = BCACHE_NODEV;
        b->blockno = (uint64_t)i;
        b->refcnt = b->referenced = b->valid = 0;
        b->cache = c;
        sleeplock_init(&b->lock, c->buf_lockname);
        list_push_back(&bucket(c, b->dev, b->blockno)->list, &b->link);
    }
    c->nbuf = nbuf;
    return 0;
}

/* The buffer holding the block in bucket bk, or NULL. The caller holds bk's lock. */
static struct buf *find(struct bcache_bucket *bk, uint32_t dev, uint64_t blockno)
{
    struct list_node *n;
    list_for_each(n, &bk->list) {
        struct buf *b = list_entry(n, struct buf, link);
        if (b->dev == dev && b->blockno == blockno)
            return b;
    }
    return NULL;
}

/* Hit path: takes a reference to the buffer holding the block, or returns NULL. */
static struct buf *lookup(struct bcache *c, uint32_t dev, uint64_t blockno)
{
    struct bcache_bucket *bk = bucket(c, dev, blockno);
    acquire(&bk->lock);
    struct buf *b = find(bk, dev, blockno);
    if (b) {
        b->refcnt++;
        __atomic_store_n(&b->referenced, 1, __ATOMIC_RELAXED);
        bk->hits++;
    }
    release(&bk->lock);
    return b;
}

/* LAB(locks) begin bcache-miss */
/*
 * The CLOCK hand: finds a buffer nobody uses, takes it out of its bucket and returns
 * it with refcnt 1 (owned by the caller), or NULL after two sweeps. The caller holds
 * evict_lock, so no identity changes under the hand. refcnt is read without the
 * bucket lock as a hint only; it is checked again under the lock before the unlink.
 */
static struct buf *clock_evict(struct bcache *c)
{
    for (int step = 0; step < 2 * c->nbuf; step++) {
        struct buf *b = c->bufs[c->hand];
        c->hand = c->hand + 1 == c->nbuf ? 0 : c->hand + 1;
        c->hand_steps++;
        if (__atomic_load_n(&b->refcnt, __ATOMIC_RELAXED) > 0)
            continue;
        if (step < c->nbuf && __atomic_exchange_n(&b->referenced, 0, __ATOMIC_RELAXED))
            continue; /* used since the hand last passed: a second chance */
        struct bcache_bucket *bk = bucket(c, b->dev, b->blockno);
        acquire(&bk->lock);
        if (b->refcnt == 0) {
            list_remove(&b->link);
            b->refcnt = 1;
            bk->evictions += b->dev != BCACHE_NODEV;
            if (b->dev != BCACHE_NODEV)
                trace_event(TRACE_BCACHE_EVICT, (uintptr_t)&c->evict_lock, b->blockno);
            release(&bk->lock);
            return b;
        }
        release(&bk->lock); /* a hit took it after our hint */
    }
    return NULL;
}

/* Miss path: a buffer for the block with a reference taken (not yet read), or NULL. */
static struct buf *load(struct bcache *c, uint32_t dev, uint64_t blockno)
{
    acquire(&c->evict_lock);
    struct buf *b = lookup(c, dev, blockno); /* loaded by another hart meanwhile? */
    if (!b && (b = clock_evict(c)) != NULL) {
        trace_event(TRACE_BCACHE_MISS, (uintptr_t)&c->evict_lock, blockno);
        /* Owned by us and in no bucket: nobody else can see these writes yet. */
        b->dev = dev;
        b->blockno = blockno;
        b->valid = 0;
        __atomic_store_n(&b->referenced, 1, __ATOMIC_RELAXED);
        struct bcache_bucket *bk = bucket(c, dev, blockno);
        acquire(&bk->lock);
        list_push_front(&bk->list, &b->link);
        bk->misses++;
        release(&bk->lock);
    }
    release(&c->evict_lock);
    return b;
}
/* LAB(locks) end bcache-miss */

int bread(struct bcache *c, uint32_t dev, uint64_t blockno, struct buf **out)
{
    struct buf *b = lookup(c, dev, blockno);
    if (!b && !(b = load(c, dev, blockno))) {
        kprintf("bcache %s: error: no free buffer for block %lu of disk %u: all %d in use\n",
                c->name, blockno, dev, c->nbuf);
        return BCACHE_ENOBUFS;
    }
    acquiresleep(&b->lock);
    if (!b->valid) {
        int err = disk_io(b, 0);
        if (err < 0) {
            brelse(b); /* still invalid: the next bread tries the disk again */
            return err;
        }
        b->valid = 1;
    }
    *out = b;
    return 0;
}

int bwrite(struct buf *b)
{
    if (!holdingsleep(&b->lock))
        panic("bwrite: block %lu of cache '%s' not locked by the caller", b->blockno,
              b->cache->name);
    int err = disk_io(b, 1);
    b->valid = err == 0; /* after a failed write, data is not what the disk has */
    return err;
}

/*
 * Adds delta to b's refcnt under its bucket's lock. The caller holds a reference (or
 * a pin), so b's identity, and with it its bucket, cannot change meanwhile.
 */
static void ref_add(struct buf *b, int delta, const char *who)
{
    struct bcache_bucket *bk = bucket(b->cache, b->dev, b->blockno);
    acquire(&bk->lock);
    if (b->refcnt + delta < 0)
        panic("%s: block %lu of cache '%s' has refcnt %d", who, b->blockno, b->cache->name,
              b->refcnt);
    b->refcnt += delta;
    release(&bk->lock);
}

/* Sleeplock first: once refcnt is 0 the evictor may take b, so it must be unlocked. */
void brelse(struct buf *b)
{
    releasesleep(&b->lock); /* panics if the caller does not hold b */
    ref_add(b, -1, "brelse");
}

void bpin(struct buf *b) { ref_add(b, 1, "bpin"); }
void bunpin(struct buf *b) { ref_add(b, -1, "bunpin"); }

/* Sums the counters without taking locks: figures may be a moment old, never torn. */
void bcache_stats_get(struct bcache *c, struct bcache_stats *s)
{
    *s = (struct bcache_stats){0};
    for (int i = 0; i < BCACHE_NBUCKET; i++) {
        struct bcache_bucket *bk = &c->buckets[i];
        s->hits += bk->hits;
        s->misses += bk->misses;
        s->evictions += bk->evictions;
        s->bucket_acquires += bk->lock.acquires;
        s->bucket_spins += bk->lock.spins;
    }
    s->hand_steps = c->hand_steps;
    s->evict_acquires = c->evict_lock.acquires;
    s->evict_spins = c->evict_lock.spins;
}

/* One line for the cache, one per bucket (buffers in it now, counters, its lock). */
void bcache_stats_print(struct bcache *c)
{
    struct bcache_stats s;
    bcache_stats_get(c, &s);
    kprintf("bcache %s: %d buffers, %lu hits, %lu misses, %lu evictions, %lu hand steps; "
            "%s: %lu acquires, %lu spins\n",
            c->name, c->nbuf, s.hits, s.misses, s.evictions, s.hand_steps, c->evict_lockname,
            s.evict_acquires, s.evict_spins);
    kprintf("  bucket  bufs       hits     misses  evictions   acquires      spins\n");
    for (int i = 0; i < BCACHE_NBUCKET; i++) {
        struct bcache_bucket *bk = &c->buckets[i];
        int n = 0;
        struct list_node *p;
        acquire(&bk->lock);
        list_for_each(p, &bk->list)
            n++;
        release(&bk->lock);
        kprintf("  %6d %5d %10lu %10lu %10lu %10lu %10lu\n", i, n, bk->hits, bk->misses,
                bk->evictions, bk->lock.acquires, bk->lock.spins);
    }
}
