/* LAB(locks) begin bcache-nbucket */
/*
 * TODO (lab, part 2): one bucket, so one lock, <name>.bucket0, serves every lookup, hit
 * and brelse: every hart that reads a block queues on it. Spread the blocks over more
 * buckets (a prime number of them: block numbers often come in strides) once the miss
 * path in fs/bufcache.c can work with several.
 */
#define BCACHE_NBUCKET 1
/* LAB(locks) end bcache-nbucket */
