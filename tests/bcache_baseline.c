/*
 * Description: xv6's single-lock buffer cache, kept as the baseline the bucketed cache
 * is measured against (see bcache_baseline.h). Deliberately as in xv6's bio.c: every
 * bread and brelse takes the one cache lock, a hit scans the whole list, and a miss
 * scans it again from the least recently released end. Lock order: cache lock alone;
 * the sleeplock is taken after the cache lock is released.
 */
#include "tests/bcache_baseline.h"

#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/trace.h"
#include "lib/string.h"
#include "mm/pmem.h"

int bcache_baseline_init(struct bcache_baseline *c, const char *name, int nbuf)
{
    if (c->nbuf)
        panic("bcache_baseline_init: cache '%s' initialised twice", c->name);
    strlcpy(c->name, name, sizeof(c->name));
    spinlock_init(&c->lock, c->name);
    list_init(&c->lru);
    /* Headers and data from pmem pages, never freed: the cache lives forever. */
    uint8_t *hdr = 0, *data = 0;
    size_t hdr_off = PAGE_SIZE, data_off = PAGE_SIZE;
    for (int i = 0; i < nbuf; i++) {
        if (hdr_off + sizeof(struct bcache_baseline_buf) > PAGE_SIZE)
            hdr = pmem_alloc(), hdr_off = 0;
        if (data_off + BSIZE > PAGE_SIZE)
            data = pmem_alloc(), data_off = 0;
        if (!hdr || !data) {
            kprintf("bcache %s: error: no memory for %d buffers\n", name, nbuf);
            return BCACHE_ENOMEM;
        }
        struct bcache_baseline_buf *b = (struct bcache_baseline_buf *)(hdr + hdr_off);
        hdr_off += sizeof(*b);
        b->data = data + data_off;
        data_off += BSIZE;
        b->dev = BCACHE_NODEV;
        b->blockno = (uint64_t)i;
        b->refcnt = b->valid = 0;
        b->cache = c;
        sleeplock_init(&b->lock, "baseline.buf");
        list_push_back(&c->lru, &b->lru);
        c->nbuf++;
    }
    return 0;
}

int bcache_baseline_bread(struct bcache_baseline *c, uint32_t dev, uint64_t blockno,
                          struct bcache_baseline_buf **out)
{
    struct bcache_baseline_buf *b = 0;
    struct list_node *n;
    acquire(&c->lock);
    list_for_each(n, &c->lru) {
        struct bcache_baseline_buf *x = list_entry(n, struct bcache_baseline_buf, lru);
        if (x->dev == dev && x->blockno == blockno) {
            b = x;
            c->hits++;
            break;
        }
    }
    /* Miss: recycle the least recently released unused buffer (from the back). */
    for (n = c->lru.prev; !b && n != &c->lru; n = n->prev) {
        struct bcache_baseline_buf *x = list_entry(n, struct bcache_baseline_buf, lru);
        if (x->refcnt == 0) {
            b = x;
            c->misses++;
            c->evictions += b->dev != BCACHE_NODEV;
            if (b->dev != BCACHE_NODEV) /* as fs/bufcache.c, against the one lock */
                trace_event(TRACE_BCACHE_EVICT, (uintptr_t)&c->lock, b->blockno);
            trace_event(TRACE_BCACHE_MISS, (uintptr_t)&c->lock, blockno);
            b->dev = dev;
            b->blockno = blockno;
            b->valid = 0;
        }
    }
    if (!b) {
        release(&c->lock);
        kprintf("bcache %s: error: no free buffer for block %lu: all %d in use\n", c->name, blockno,
                c->nbuf);
        return BCACHE_ENOBUFS;
    }
    b->refcnt++;
    release(&c->lock);
    acquiresleep(&b->lock);
    if (!b->valid) {
        int err = virtio_blk_read((int)dev, blockno, b->data);
        if (err < 0) {
            bcache_baseline_brelse(b);
            return err;
        }
        b->valid = 1;
    }
    *out = b;
    return 0;
}

int bcache_baseline_bwrite(struct bcache_baseline_buf *b)
{
    int err = virtio_blk_write((int)b->dev, b->blockno, b->data);
    b->valid = err == 0;
    return err;
}

void bcache_baseline_brelse(struct bcache_baseline_buf *b)
{
    struct bcache_baseline *c = b->cache;
    releasesleep(&b->lock);
    acquire(&c->lock);
    if (--b->refcnt == 0) {
        /* Most recently released goes to the front. */
        list_remove(&b->lru);
        list_push_front(&c->lru, &b->lru);
    }
    release(&c->lock);
}

/* --- The two caches behind one set of ops. */

static int ops_bread(void *c, uint32_t dev, uint64_t blockno, void **h, uint8_t **data)
{
    struct buf *b;
    int err = bread(c, dev, blockno, &b);
    if (err == 0)
        *h = b, *data = b->data;
    return err;
}
static int ops_bwrite(void *h) { return bwrite(h); }
static void ops_brelse(void *h) { brelse(h); }
static void ops_stats(void *cache, struct bcache_ops_stats *out)
{
    struct bcache_stats s;
    bcache_stats_get(cache, &s);
    *out = (struct bcache_ops_stats){s.hits, s.misses, s.bucket_acquires + s.evict_acquires,
                                     s.bucket_spins + s.evict_spins, s.hand_steps};
}

struct bcache_ops bcache_ops_bucketed(struct bcache *c)
{
    return (struct bcache_ops){"bucketed", c, ops_bread, ops_bwrite, ops_brelse, ops_stats};
}

static int base_bread(void *c, uint32_t dev, uint64_t blockno, void **h, uint8_t **data)
{
    struct bcache_baseline_buf *b;
    int err = bcache_baseline_bread(c, dev, blockno, &b);
    if (err == 0)
        *h = b, *data = b->data;
    return err;
}
static int base_bwrite(void *h) { return bcache_baseline_bwrite(h); }
static void base_brelse(void *h) { bcache_baseline_brelse(h); }
static void base_stats(void *cache, struct bcache_ops_stats *out)
{
    struct bcache_baseline *c = cache;
    *out = (struct bcache_ops_stats){c->hits, c->misses, c->lock.acquires, c->lock.spins, 0};
}

struct bcache_ops bcache_ops_baseline(struct bcache_baseline *c)
{
    return (struct bcache_ops){"single-lock", c, base_bread, base_bwrite, base_brelse, base_stats};
}
