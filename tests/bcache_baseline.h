/*
 * Description: the comparison baseline for fs/bufcache.c: xv6's original buffer cache
 * (bio.c), one lock over everything and one LRU list ordered by release time, over the
 * same driver and with the same interface shape. Used only by tests and the bench.
 *  - bcache_baseline_init(c, name, nbuf): once per cache (which must live forever)
 *  - bcache_baseline_bread / _bwrite / _brelse: as bread, bwrite, brelse in bufcache.h
 *
 * And what lets one stress loop drive either cache: `struct bcache_ops`, a cache
 * seen as a context pointer and three functions working on opaque buffer handles.
 *  - bcache_ops_bucketed(c) / bcache_ops_baseline(c): the ops of one cache
 */
#pragma once

#include <stdint.h>

#include "fs/bufcache.h"

struct bcache_baseline;

struct bcache_baseline_buf {
    uint32_t dev;
    uint64_t blockno;
    int refcnt;           /* under the cache lock */
    int valid;            /* under the sleeplock */
    struct list_node lru; /* under the cache lock */
    struct sleeplock lock;
    struct bcache_baseline *cache;
    uint8_t *data;
};

struct bcache_baseline {
    struct spinlock lock; /* protects lru, every refcnt and identity, the counters */
    struct list_node lru; /* every buffer; front = most recently released */
    uint64_t hits, misses, evictions;
    int nbuf;
    char name[BCACHE_NAME_MAX];
};

int bcache_baseline_init(struct bcache_baseline *c, const char *name, int nbuf);
int bcache_baseline_bread(struct bcache_baseline *c, uint32_t dev, uint64_t blockno,
                          struct bcache_baseline_buf **out);
int bcache_baseline_bwrite(struct bcache_baseline_buf *b);
void bcache_baseline_brelse(struct bcache_baseline_buf *b);

struct bcache_ops_stats {
    uint64_t hits, misses, acquires, spins, hand_steps; /* hand_steps: bucketed only */
};

struct bcache_ops {
    const char *kind; /* "bucketed" or "single-lock" */
    void *cache;
    /* 0 and *handle, *data set, or a negative error (as bread) */
    int (*bread)(void *cache, uint32_t dev, uint64_t blockno, void **handle, uint8_t **data);
    int (*bwrite)(void *handle);
    void (*brelse)(void *handle);
    /* the cache's counters; lock figures summed over its spinlocks (not sleeplocks) */
    void (*stats)(void *cache, struct bcache_ops_stats *s);
};

struct bcache_ops bcache_ops_bucketed(struct bcache *c);
struct bcache_ops bcache_ops_baseline(struct bcache_baseline *c);
