/*
 * Description: the virtio block benchmark (see bench_virtio.h). The readers are all
 * pinned to CPU 0, so the figure measures requests in flight, not threads spread over
 * harts (the completion interrupt still lands on whichever hart claims it). The time
 * is taken from before the first reader is created to after the last one is joined;
 * a first, unreported run warms QEMU's host page cache.
 * The driver's own counters (virtio_blk_stats) say how many requests really were in
 * flight at once: with k readers at most min(k, 21), since a request takes 3 of the
 * queue's 64 descriptors.
 */
#include "tests/bench_virtio.h"

#include "arch/riscv/timer.h"
#include "drivers/virtio_blk.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/thread.h"
#include "mm/pmem.h"

#define MAX_READERS 16

struct reader {
    int index, nreaders;
    uint8_t *buf; /* one page; the first VIRTIO_BLK_BSIZE bytes are used */
    uint64_t errors;
};

static void reader(void *arg)
{
    struct reader *r = arg;
    for (uint64_t b = r->index; b < BENCH_VIRTIO_BLOCKS; b += r->nreaders)
        if (virtio_blk_read(0, b, r->buf) != 0)
            r->errors++;
}

/* One measurement with k readers; returns the number of failed reads (or -1). */
static long measure(int k, const char *interface, int report)
{
    static struct reader readers[MAX_READERS];
    struct thread *t[MAX_READERS] = {0};
    struct virtio_blk_stats st;
    long errors = 0;
    for (int i = 0; i < k; i++)
        if (!(readers[i] = (struct reader){i, k, pmem_alloc(), 0}).buf)
            errors = -1;
    virtio_blk_stats(0, &st, 1);
    uint64_t start = timer_now_us();
    for (int i = 0; i < k && errors == 0; i++)
        if (!(t[i] = thread_create("bench.vblk", reader, &readers[i], 0)))
            errors = -1;
    for (int i = 0; i < k; i++)
        if (t[i])
            thread_join(t[i]);
    uint64_t us = timer_now_us() - start;
    virtio_blk_stats(0, &st, 0);
    for (int i = 0; i < k; i++) {
        if (errors >= 0)
            errors += (long)readers[i].errors;
        if (readers[i].buf)
            pmem_free(readers[i].buf);
    }
    if (errors != 0 || !report)
        return errors;
    kprintf("BENCH virtio inflight=%d harts=%d interface=%s blocks=%d us=%lu blocks_per_s=%lu "
            "max_in_flight=%d desc_waits=%lu\n",
            k, ncpu, interface, BENCH_VIRTIO_BLOCKS, us,
            us ? (uint64_t)BENCH_VIRTIO_BLOCKS * 1000000 / us : 0, st.max_in_flight, st.desc_waits);
    return 0;
}

int bench_virtio(void)
{
    if (virtio_blk_count() == 0 || virtio_blk_capacity(0) < BENCH_VIRTIO_BLOCKS) {
        kprintf("bench virtio: skipped: needs a disk of %d blocks on disk 0\n",
                BENCH_VIRTIO_BLOCKS);
        return -1;
    }
    const char *interface = virtio_blk_version(0) == 2 ? "modern" : "legacy";
    measure(1, interface, 0); /* warm-up */
    for (int k = 1; k <= MAX_READERS; k *= 2) {
        long errors = measure(k, interface, 1);
        if (errors != 0) {
            kprintf("bench virtio: error: %ld failed reads, or no thread or page for a "
                    "reader\n",
                    errors < 0 ? 0 : errors);
            return -1;
        }
    }
    return 0;
}
