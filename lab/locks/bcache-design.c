/* LAB(locks) begin bcache-design */
/*
 * Description: the buffer cache (interface in bufcache.h), the lab's starting point:
 * nbuf buffers and a CLOCK hand, all under one lock.
 *
 * The locks, and what each one protects:
 *  - the lock of the only bucket (<name>.bucket0): the bucket's list, every
 *    buffer's refcnt and identity (dev, blockno), the CLOCK hand and the counters.
 *    Every bread, brelse, bpin and bunpin takes it, on every hart.
 *  - evict_lock (<name>.evict): initialised and listed by lockstat, but not used yet.
 *  - a buffer's sleeplock: its data and valid flag, from bread to brelse.
 *
 * Eviction is CLOCK, an approximation of LRU that needs no list updated on the hit
 * path: a hit sets the buffer's `referenced` bit; the hand, moving over the buffer
 * array, skips buffers in use, clears a set bit and moves on (a second chance), and
 * recycles the first unused buffer whose bit is clear. After two sweeps (the second
 * ignores the bits) every buffer was in use: load() returns NULL, and bread() says
 * what happens then.
 *
 * TODO (lab, part 2): one lock means every hart's hits queue behind every other
 * hart's hits and misses. Give each hash bucket its own lock, so that a hit takes
 * only its bucket's lock, and make misses work across buckets without deadlock.
 * Write down here which lock protects what, the order in which they are taken, and
 * why that order cannot deadlock.
 */
/* LAB(locks) end bcache-design */
