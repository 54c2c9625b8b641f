/*
 * Description: the monitor's `stress <pmem|bufcache> <seconds>`: one pinned thread
 * per online hart hammers a subsystem while the monitor prints its counters once a
 * second, so a student can watch the locks work.
 *  - pmem: each thread allocates a burst of pages, stamps each, checks the stamps
 *    and frees them. Every page comes from and goes back to its own hart's list, so
 *    the spins stay 0: the point of per-CPU lists.
 *  - bufcache: each thread reads random blocks of disk 0 through the kernel's cache
 *    (bread and brelse, never a write), over more blocks than the cache holds: hits,
 *    misses, evictions and the spins on the bucket and eviction locks.
 * Ctrl-C (monitor_interrupted) or the end of the time sets `stop`; the threads see
 * it at their next round and the monitor joins them.
 */
#include "arch/riscv/timer.h"
#include "drivers/virtio_blk.h"
#include "fs/bufcache.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/monitor.h"
#include "kernel/monitor_cmds.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/pmem.h"

#define STRESS_BURST 32               /* pages a pmem thread holds at once */
#define STRESS_SPAN (4 * BCACHE_NBUF) /* blocks the bufcache threads read */
#define STRESS_MAX_SECONDS 3600

/*
 * One per thread, each on its own cache line. A counter is written by its own
 * thread only and read by the monitor, both with relaxed atomics: a reading may be
 * a round behind, never torn.
 */
struct stress_worker {
    uint64_t ops;    /* pages allocated and freed, or blocks read */
    uint64_t errors; /* wrong stamps, wrong blocks, failed reads */
} __attribute__((aligned(64)));

static struct stress_worker workers[NCPU];
static int stop; /* set by the monitor thread, polled by the workers */

/* What one line reports: totals since the start, the line prints the difference. */
struct stress_counts {
    uint64_t ops[NCPU], errors;
    uint64_t a, b, c, spins; /* pmem: allocs, steals, stolen; bufcache: hits, misses, evictions */
};

static int stopping(void) { return __atomic_load_n(&stop, __ATOMIC_RELAXED); }

static void add(uint64_t *counter, uint64_t n)
{
    __atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED); /* one writer: no RMW needed */
}

static void pmem_worker(void *arg)
{
    struct stress_worker *w = arg;
    uint64_t *pages[STRESS_BURST];
    uint64_t stamp = (uint64_t)(w - workers) << 48; /* unique to this thread */
    while (!stopping()) {
        int n = 0;
        for (; n < STRESS_BURST && (pages[n] = pmem_alloc()) != 0; n++)
            *pages[n] = stamp + n;
        for (int i = 0; i < n; i++) {
            if (*pages[i] != stamp + i) /* someone else wrote to a page we hold */
                add(&w->errors, 1);
            pmem_free(pages[i]);
        }
        add(&w->ops, n);
        stamp += STRESS_BURST;
    }
}

static void bcache_worker(void *arg)
{
    struct stress_worker *w = arg;
    uint64_t span = virtio_blk_capacity(0) < STRESS_SPAN ? virtio_blk_capacity(0) : STRESS_SPAN;
    uint64_t x = 0x9E3779B97F4A7C15ul * (uint64_t)(w - workers + 1); /* xorshift64 state */
    while (!stopping()) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t blockno = x % span;
        struct buf *b;
        if (bread(&bcache, 0, blockno, &b) != 0) {
            add(&w->errors, 1);
            return; /* the driver printed why; one line is enough */
        }
        if (b->blockno != blockno || b->dev != 0)
            add(&w->errors, 1);
        brelse(b);
        add(&w->ops, 1);
    }
}

static void snapshot(int bufcache, struct stress_counts *s)
{
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < ncpu; i++) {
        s->ops[i] = __atomic_load_n(&workers[i].ops, __ATOMIC_RELAXED);
        s->errors += __atomic_load_n(&workers[i].errors, __ATOMIC_RELAXED);
    }
    if (bufcache) {
        struct bcache_stats st;
        bcache_stats_get(&bcache, &st);
        s->a = st.hits;
        s->b = st.misses;
        s->c = st.evictions;
        s->spins = st.bucket_spins + st.evict_spins;
        return;
    }
    for (int i = 0; i < pmem_ncpu(); i++) {
        struct pmem_stats st;
        pmem_stats(i, &st);
        s->a += st.allocs;
        s->b += st.steals;
        s->c += st.stolen;
        s->spins += st.spins;
    }
}

/* One line: what happened in the last second. Interrupts stay off while it is put
 * together, so no other thread on this hart can print into the middle of it. */
static void report(int bufcache, uint64_t sec, struct stress_counts *then,
                   struct stress_counts *now)
{
    uint64_t total = 0;
    for (int i = 0; i < ncpu; i++)
        total += now->ops[i] - then->ops[i];
    push_off();
    kprintf("%3lus %9lu %s (", sec, total, bufcache ? "reads" : "pages");
    for (int i = 0; i < ncpu; i++)
        kprintf("%s%lu", i ? " " : "", now->ops[i] - then->ops[i]);
    kprintf(") %s %lu %s %lu %s %lu spins %lu errors %lu\n", bufcache ? "hits" : "allocs",
            now->a - then->a, bufcache ? "misses" : "steals", now->b - then->b,
            bufcache ? "evictions" : "stolen", now->c - then->c, now->spins - then->spins,
            now->errors);
    pop_off();
}

void monitor_stress(int argc, char **argv)
{
    (void)argc;
    int bufcache = strcmp(argv[1], "bufcache") == 0;
    uint64_t seconds;
    if (!bufcache && strcmp(argv[1], "pmem") != 0) {
        kprintf("stress: bad argument '%s': expected pmem or bufcache\n", argv[1]);
        return;
    }
    if (monitor_arg_u64("stress", argv[2], 1, STRESS_MAX_SECONDS, &seconds) != 0)
        return;
    if (bufcache && virtio_blk_count() == 0) {
        kprintf("stress: bufcache needs a disk, and none is attached\n");
        return;
    }

    memset(workers, 0, sizeof(workers));
    __atomic_store_n(&stop, 0, __ATOMIC_RELAXED);
    static struct thread *threads[NCPU];
    memset(threads, 0, sizeof(threads));
    for (int cpu = 0; cpu < ncpu; cpu++) {
        char name[THREAD_NAME_MAX];
        snprintf(name, sizeof(name), "stress/%d", cpu);
        threads[cpu] =
            thread_create(name, bufcache ? bcache_worker : pmem_worker, &workers[cpu], cpu);
        if (!threads[cpu])
            kprintf("stress: no thread for cpu %d (table full or no memory)\n", cpu);
    }
    kprintf("stress %s on %d hart(s) for %lu s; Ctrl-C stops it. Per second: total (per cpu)\n",
            argv[1], ncpu, seconds);

    /* Seconds by the clock, not by counting ticks: a hart that the host does not run
     * for a while misses ticks, and the lines would come late. */
    static struct stress_counts then, now; /* NCPU counters each: not on the stack */
    snapshot(bufcache, &then);
    uint64_t start = timer_now_us(), sec = 0;
    while (sec < seconds) {
        while (timer_now_us() - start < (sec + 1) * 1000000 && !monitor_interrupted())
            sleep_ticks(1);
        if (monitor_interrupted())
            break;
        snapshot(bufcache, &now);
        report(bufcache, ++sec, &then, &now);
        then = now;
    }

    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (int cpu = 0; cpu < ncpu; cpu++)
        if (threads[cpu])
            thread_join(threads[cpu]);
    snapshot(bufcache, &now);
    kprintf("stress: %s after %lu s, %lu errors\n",
            monitor_interrupted() ? "stopped by Ctrl-C" : "done", sec, now.errors);
}
