/* LAB(locks) begin bcache-miss */
/*
 * Miss path: a buffer for the block with a reference taken (not yet read), or NULL
 * when every buffer is in use. Everything happens under the cache's one lock: look
 * for the block again (another hart may have loaded it since lookup() let go of the
 * lock), then move the CLOCK hand to an unused buffer and give it the new identity.
 *
 * TODO (lab, part 2): with several buckets, the block's bucket and the victim's
 * bucket differ. Decide which lock serialises misses, which bucket locks a miss
 * takes and in what order, and make sure two harts missing on the same block still
 * end up with one buffer for it.
 */
static struct buf *load(struct bcache *c, uint32_t dev, uint64_t blockno)
{
    struct bcache_bucket *bk = &c->buckets[0];
    acquire(&bk->lock);
    struct buf *b = find(bk, dev, blockno);
    if (b) {
        b->refcnt++;
        b->referenced = 1;
        bk->hits++;
        release(&bk->lock);
        return b;
    }
    for (int step = 0; step < 2 * c->nbuf; step++) {
        b = c->bufs[c->hand];
        c->hand = c->hand + 1 == c->nbuf ? 0 : c->hand + 1;
        c->hand_steps++;
        if (b->refcnt > 0)
            continue;
        if (step < c->nbuf && b->referenced) {
            b->referenced = 0; /* used since the hand last passed: a second chance */
            continue;
        }
        if (b->dev != BCACHE_NODEV) {
            bk->evictions++;
            trace_event(TRACE_BCACHE_EVICT, (uintptr_t)&bk->lock, b->blockno);
        }
        trace_event(TRACE_BCACHE_MISS, (uintptr_t)&bk->lock, blockno);
        b->dev = dev;
        b->blockno = blockno;
        b->valid = 0;
        b->refcnt = 1;
        b->referenced = 1;
        bk->misses++;
        release(&bk->lock);
        return b;
    }
    release(&bk->lock);
    return NULL;
}
/* LAB(locks) end bcache-miss */
