/*
 * Description: the buffer cache: copies of disk blocks in memory, so that a block
 * read twice is read from the disk once, and one place where a block's users queue
 * up. Each cache is a `struct bcache` of nbuf buffers split over BCACHE_NBUCKET hash
 * buckets, one lock per bucket; the kernel has one, `bcache`, over disk 0's driver
 * (tests and the bench build their own).
 *  - bcache_init(c, name, nbuf): once per cache, which must live forever (its locks
 *    are registered for lockstat); buffer memory comes from pmem. 0, or
 *    BCACHE_ENOMEM if pmem has too few pages.
 *  - bread(c, dev, blockno, &b): 0 and a buffer holding the block, locked (its
 *    sleeplock) for the caller alone; or a negative error: the driver's
 *    VIRTIO_BLK_E* code if the read failed, BCACHE_ENOBUFS if every buffer is in use.
 *  - bwrite(b): writes b's data to disk now (write-through); the caller holds b.
 *    0 or the driver's error; after an error b is no longer valid (see bufcache.c).
 *  - brelse(b): the caller is done with b; never touch b afterwards.
 *  - bpin(b) / bunpin(b): keep b's block cached (not evicted) between brelse and a
 *    later bread, e.g. for a log that must write it back later. Pin while holding b.
 *  - bcache_stats_get / bcache_stats_print: hits, misses, evictions, lock figures.
 * Rules for callers: hold at most a few buffers at once; release every buffer you
 * read. Block (dev, blockno) is cached in at most one buffer at any time.
 */
#pragma once

#include <stdint.h>

#include "drivers/virtio_blk.h"
#include "kernel/sleeplock.h"
#include "kernel/spinlock.h"
#include "lib/list.h"

#define BSIZE VIRTIO_BLK_BSIZE
/* LAB(locks) begin bcache-nbucket */
#define BCACHE_NBUCKET 13 /* a prime, so block numbers in strides spread over all buckets */
/* LAB(locks) end bcache-nbucket */
#define BCACHE_NBUF 64           /* buffers in the kernel's cache */
#define BCACHE_NODEV 0xffffffffu /* dev of a buffer that never held a block */
#define BCACHE_NAME_MAX 24

#define BCACHE_ENOMEM (-12)
#define BCACHE_ENOBUFS (-105) /* every buffer is in use (Linux's errno value) */

struct bcache;

struct buf {
    /* Identity: changed only by the evictor, while it owns the buffer (see bufcache.c). */
    uint32_t dev;
    uint64_t blockno;
    int refcnt;            /* users (bread..brelse) + pins; under its bucket's lock */
    int referenced;        /* CLOCK bit: set on every hit, cleared by the hand */
    int valid;             /* data holds the block's contents; under the sleeplock */
    struct list_node link; /* in its bucket's list; under the bucket's lock */
    struct sleeplock lock; /* held by the user between bread and brelse */
    struct bcache *cache;
    uint8_t *data;              /* BSIZE bytes */
} __attribute__((aligned(64))); /* harts using different buffers share no cache line */

/* Cache-line aligned, so harts working on different buckets never share a line. */
struct bcache_bucket {
    struct spinlock lock;             /* protects list, the refcnt of its buffers, the counters */
    struct list_node list;            /* buffers whose block hashes here */
    uint64_t hits, misses, evictions; /* misses: blocks loaded here; evictions: taken from here */
    char lockname[BCACHE_NAME_MAX + 8];
} __attribute__((aligned(64)));

struct bcache {
    struct bcache_bucket buckets[BCACHE_NBUCKET];
    struct spinlock evict_lock; /* serialises misses; protects hand and hand_steps */
    int hand;                   /* CLOCK hand: index of the next buffer to look at */
    uint64_t hand_steps;        /* buffers the hand has passed, over all misses */
    int nbuf;
    struct buf **bufs; /* nbuf buffers (a table in one page) */
    char name[BCACHE_NAME_MAX];
    char evict_lockname[BCACHE_NAME_MAX + 8];
    char buf_lockname[BCACHE_NAME_MAX + 8]; /* every buffer's sleeplock */
};

struct bcache_stats {
    uint64_t hits, misses, evictions, hand_steps;
    uint64_t bucket_acquires, bucket_spins; /* summed over the buckets */
    uint64_t evict_acquires, evict_spins;
};

extern struct bcache bcache; /* the kernel's cache */

int bcache_init(struct bcache *c, const char *name, int nbuf);
int bread(struct bcache *c, uint32_t dev, uint64_t blockno, struct buf **out);
int bwrite(struct buf *b);
void brelse(struct buf *b);
void bpin(struct buf *b);
void bunpin(struct buf *b);
void bcache_stats_get(struct bcache *c, struct bcache_stats *s);
void bcache_stats_print(struct bcache *c);

/* The bucket of a block (dev mixed in); public for tests that choose blocks by bucket. */
static inline int bcache_bucket_of(uint32_t dev, uint64_t blockno)
{
    return (int)((blockno + (uint64_t)dev * 7) % BCACHE_NBUCKET);
}

/*
 * For tests and benchmarks that give each of nharts harts its own blocks of disk 0, from
 * block `first` on: the hart block b goes to. Hart c gets the blocks of buckets c,
 * c + nharts, ..., so no two harts share a bucket lock. With one bucket (the lab's
 * starter) they cannot help sharing it; hart c then gets the c-th run of per_hart blocks.
 */
static inline int bcache_disjoint_hart(uint64_t first, int per_hart, int nharts, uint64_t b)
{
    if (BCACHE_NBUCKET == 1)
        return (int)((b - first) / (uint64_t)per_hart);
    return bcache_bucket_of(0, b) % nharts;
}
