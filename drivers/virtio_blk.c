/*
 * Description: the virtio block driver (see virtio_blk.h; the transport and ring
 * layout are in virtio.h).
 *
 * One request is a chain of three descriptors: a 16-byte header the device reads
 * (type, sector), the data block (the device reads it for a write, writes it for a
 * read) and one status byte the device writes. The chain's head descriptor index
 * names the request: reqs[head] holds its header, status byte and done flag, so up
 * to QUEUE_SIZE / 3 requests (21) are in flight at once.
 *
 * Life of a request: the caller takes three free descriptors (sleeping while there
 * are none), fills them, publishes the head in the available ring, notifies the
 * device and sleeps on its request. The device's interrupt lands on some hart, whose
 * handler walks the used ring from where it last stopped, marks each finished
 * request done and wakes its thread; that thread frees the descriptors.
 *
 * Ring memory is a static, page-aligned array (two pages per disk), not pmem pages:
 * the legacy interface needs the descriptor table, available ring and used ring in
 * one physically contiguous area, and pmem hands out single pages. Disks are few and
 * found once at boot, so the 8 KiB per possible disk is spent in BSS.
 */
#include "drivers/virtio_blk.h"

#include "arch/riscv/plic.h"
#include "drivers/virtio.h"
#include "kernel/console.h"
#include "kernel/machine.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "lib/printf.h"

#define QUEUE_SIZE 64 /* descriptors: at most 21 three-descriptor requests in flight */
#define PAGE 4096
#define STR_(x) #x
#define STR(x) STR_(x)
#define SECTORS_PER_BLOCK (VIRTIO_BLK_BSIZE / VIRTIO_BLK_SECTOR_SIZE)

/* Feature bits of the block device (virtio spec 5.2.3) */
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_FLUSH 9

/* Status byte values */
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define STATUS_NONE 0xff /* not a device value: what the byte holds until it answers */

/* The legacy layout with QueueAlign = PAGE: the used ring starts on the next page. */
struct virtio_blk_ring {
    struct virtq_desc desc[QUEUE_SIZE];
    VIRTQ_AVAIL(QUEUE_SIZE) avail;
    _Alignas(PAGE) VIRTQ_USED(QUEUE_SIZE) used;
} __attribute__((aligned(PAGE)));

struct virtio_blk_req {
    struct { /* what the device reads first */
        uint32_t type;
        uint32_t reserved;
        uint64_t sector;
    } hdr;
    volatile uint8_t status; /* written by the device, by DMA */
    int done;                /* set by the interrupt handler */
};

struct virtio_blk {
    /*
     * lock protects the ring (descriptors, available ring, last_used), the free
     * descriptor list and reqs[]. The interrupt handler takes it too; acquire()
     * turns interrupts off, so a hart holding it never takes the interrupt itself.
     * It also protects in_flight and stats.
     * Lock order: lock -> (inside sleep/wakeup) thread lock -> run-queue lock, the
     * condition-lock order of sched.c. No other driver or cache lock is taken here.
     */
    struct spinlock lock;
    uintptr_t base;
    int version; /* 1 legacy, 2 modern */
    uint32_t irq;
    uint64_t capacity; /* in blocks */
    int readonly, has_flush;
    char name[16];
    struct virtio_blk_ring *ring;
    uint16_t last_used;        /* used->idx up to which completions were handled */
    uint16_t free[QUEUE_SIZE]; /* stack of free descriptor indices */
    int nfree;
    int in_flight;
    struct virtio_blk_stats stats;
    struct virtio_blk_req reqs[QUEUE_SIZE]; /* by head descriptor */
};

static struct virtio_blk_ring rings[VIRTIO_BLK_MAX_DISKS];
static struct virtio_blk disks[VIRTIO_BLK_MAX_DISKS];
static int ndisks;

/*
 * fence iorw,iorw orders every earlier memory and device (MMIO) access before every
 * later one. The device is another agent reading our memory: without the fence the
 * hart (or compiler) may let it see avail->idx before the descriptors it covers, or
 * the notify write before avail->idx; and on the way back we could read a used entry
 * older than the used->idx that announced it.
 */
static inline void io_fence(void) { __asm__ volatile("fence iorw, iorw" ::: "memory"); }

static uint32_t rd(struct virtio_blk *d, uint32_t off)
{
    return *(volatile uint32_t *)(d->base + off);
}
static void wr(struct virtio_blk *d, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(d->base + off) = v;
}

/* Gives up on a device: reset it (it forgets our ring, whose memory the next disk
 * may get), then mark it FAILED. */
static int fail(struct virtio_blk *d, const char *why)
{
    wr(d, VIRTIO_MMIO_STATUS, 0);
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FAILED);
    kprintf("%s: not used: %s\n", d->name, why);
    return -1;
}

/* Accepts the features hartos knows, refuses every other one. */
static int negotiate(struct virtio_blk *d)
{
    uint64_t offered = 0, wanted = 1ull << VIRTIO_BLK_F_RO | 1ull << VIRTIO_BLK_F_FLUSH;
    int words = d->version == 2 ? 2 : 1; /* legacy devices have 32 feature bits */
    if (d->version == 2)
        wanted |= 1ull << VIRTIO_F_VERSION_1;
    for (int w = 0; w < words; w++) {
        wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, w);
        offered |= (uint64_t)rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << (32 * w);
    }
    uint64_t accepted = offered & wanted;
    if (d->version == 2 && !(accepted & (1ull << VIRTIO_F_VERSION_1)))
        return fail(d, "modern interface without VIRTIO_F_VERSION_1");
    for (int w = 0; w < words; w++) {
        wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, w);
        wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(accepted >> (32 * w)));
    }
    d->readonly = (accepted >> VIRTIO_BLK_F_RO) & 1;
    d->has_flush = (accepted >> VIRTIO_BLK_F_FLUSH) & 1;
    if (d->version == 1) /* legacy has no FEATURES_OK handshake */
        return 0;
    wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_FEATURES_OK);
    if (!(rd(d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK))
        return fail(d, "device refused our feature set");
    return 0;
}

/* Capacity in sectors: a 64-bit field read as two 32-bit halves. On a modern device
 * the generation counter tells if it changed in between; then read again. */
static uint64_t read_capacity(struct virtio_blk *d)
{
    uint32_t gen, lo, hi;
    do {
        gen = d->version == 2 ? rd(d, VIRTIO_MMIO_CONFIG_GENERATION) : 0;
        lo = rd(d, VIRTIO_MMIO_CONFIG);
        hi = rd(d, VIRTIO_MMIO_CONFIG + 4);
    } while (d->version == 2 && gen != rd(d, VIRTIO_MMIO_CONFIG_GENERATION));
    return (uint64_t)hi << 32 | lo;
}

static int setup_queue(struct virtio_blk *d)
{
    wr(d, VIRTIO_MMIO_QUEUE_SEL, 0);
    /* The ring layout is fixed at QUEUE_SIZE (legacy devices compute it from the size). */
    if (rd(d, VIRTIO_MMIO_QUEUE_NUM_MAX) < QUEUE_SIZE)
        return fail(d, "queue 0 is smaller than " STR(QUEUE_SIZE) " descriptors");
    if (rd(d, d->version == 2 ? VIRTIO_MMIO_QUEUE_READY : VIRTIO_MMIO_QUEUE_PFN) != 0)
        return fail(d, "queue 0 already in use");
    wr(d, VIRTIO_MMIO_QUEUE_NUM, QUEUE_SIZE);
    uintptr_t r = (uintptr_t)d->ring;
    if (d->version == 1) {
        /* Legacy: the device computes the avail and used rings from the start page. */
        wr(d, VIRTIO_MMIO_QUEUE_ALIGN, PAGE);
        wr(d, VIRTIO_MMIO_QUEUE_PFN, r / PAGE);
    } else {
        uintptr_t avail = (uintptr_t)&d->ring->avail, used = (uintptr_t)&d->ring->used;
        wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r);
        wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(r >> 32));
        wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
        wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
        wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
        wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
        wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
    }
    for (int i = 0; i < QUEUE_SIZE; i++)
        d->free[d->nfree++] = i;
    return 0;
}

/* The interrupt handler: runs on whichever hart claimed the interrupt. */
static void virtio_blk_intr(void *arg)
{
    struct virtio_blk *d = arg;
    acquire(&d->lock);
    /* Acknowledge first: a completion that lands after this raises a new interrupt,
     * and one that landed before is in the used ring we are about to walk. */
    wr(d, VIRTIO_MMIO_INTERRUPT_ACK,
       rd(d, VIRTIO_MMIO_INTERRUPT_STATUS) & (VIRTIO_INT_USED_RING | VIRTIO_INT_CONFIG));
    io_fence(); /* read used->idx only after the acknowledge */
    while (d->last_used != d->ring->used.idx) {
        io_fence(); /* the entry is valid only once idx says so: read it after idx */
        uint32_t id = d->ring->used.ring[d->last_used % QUEUE_SIZE].id;
        d->last_used++;
        if (id >= QUEUE_SIZE || d->reqs[id].done) {
            kprintf("%s: device returned descriptor %u, which is not in flight\n", d->name, id);
            continue;
        }
        d->reqs[id].done = 1;
        wakeup(&d->reqs[id]);
    }
    release(&d->lock);
}

/* Reset, negotiate, set up queue 0, go. Returns 0 or -1 (after one line). */
static int start(struct virtio_blk *d)
{
    wr(d, VIRTIO_MMIO_STATUS, 0); /* reset */
    while (d->version == 2 && rd(d, VIRTIO_MMIO_STATUS) != 0)
        ;
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    if (d->version == 1)
        wr(d, VIRTIO_MMIO_GUEST_PAGE_SIZE, PAGE); /* the unit of QueuePFN */
    if (negotiate(d) != 0 || setup_queue(d) != 0)
        return -1;
    d->capacity = read_capacity(d) / SECTORS_PER_BLOCK;
    if (plic_register(d->irq, virtio_blk_intr, d) != 0)
        return fail(d, "cannot register its interrupt with the PLIC");
    /* Only now: a disk that failed above leaves its slot to the next one, and a lock
     * must be registered (for lockstat) once. No interrupt comes before DRIVER_OK. */
    spinlock_init(&d->lock, d->name);
    wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
    kprintf("%s: %lu blocks of %d bytes (%lu KiB), %s interface, irq %u, %s%s\n", d->name,
            d->capacity, VIRTIO_BLK_BSIZE, d->capacity * VIRTIO_BLK_BSIZE / 1024,
            d->version == 2 ? "modern" : "legacy", d->irq, d->readonly ? "read-only" : "read-write",
            d->has_flush ? ", flush" : "");
    return 0;
}

int virtio_blk_init(void)
{
    /* Slots in address order, so disk 0 is the first bus slot whatever the DT order. */
    int order[MACHINE_MAX_VIRTIO];
    for (int i = 0; i < machine.nvirtio; i++) {
        int j = i;
        for (; j > 0 && machine.virtio[order[j - 1]].base > machine.virtio[i].base; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (int k = 0; k < machine.nvirtio && ndisks < VIRTIO_BLK_MAX_DISKS; k++) {
        const struct mmio_device *slot = &machine.virtio[order[k]];
        volatile uint32_t *regs = (volatile uint32_t *)slot->base;
        /* An empty slot answers with device id 0; other devices are not ours. */
        if (regs[VIRTIO_MMIO_MAGIC_VALUE / 4] != VIRTIO_MMIO_MAGIC ||
            regs[VIRTIO_MMIO_DEVICE_ID / 4] != VIRTIO_DEV_BLOCK)
            continue;
        struct virtio_blk *d = &disks[ndisks];
        *d = (struct virtio_blk){.base = slot->base, .irq = slot->irq, .ring = &rings[ndisks]};
        d->version = (int)regs[VIRTIO_MMIO_VERSION / 4];
        snprintf(d->name, sizeof(d->name), "virtio_blk%d", ndisks);
        if (d->version != 1 && d->version != 2) {
            kprintf("%s: not used: unknown virtio-mmio version %d at %p\n", d->name, d->version,
                    (void *)d->base);
            continue;
        }
        if (start(d) == 0)
            ndisks++;
    }
    if (ndisks == 0)
        kprintf("hartos: no virtio block device; disk tests will be skipped\n");
    return ndisks;
}

int virtio_blk_count(void) { return ndisks; }

static struct virtio_blk *disk(int dev) { return dev >= 0 && dev < ndisks ? &disks[dev] : 0; }

uint64_t virtio_blk_capacity(int dev) { return disk(dev) ? disk(dev)->capacity : 0; }
int virtio_blk_readonly(int dev) { return disk(dev) ? disk(dev)->readonly : 0; }

int virtio_blk_version(int dev) { return disk(dev) ? disk(dev)->version : 0; }

/* Puts the request in the ring, waits for the device; returns its status byte. */
static uint8_t submit(struct virtio_blk *d, uint32_t type, uint64_t blockno, void *buf)
{
    int n = buf ? 3 : 2; /* a flush has no data */
    acquire(&d->lock);
    if (d->nfree < n)
        d->stats.desc_waits++;
    while (d->nfree < n)
        sleep(&d->nfree, &d->lock); /* woken when a finished request frees its chain */
    uint16_t idx[3];
    for (int i = 0; i < n; i++)
        idx[i] = d->free[--d->nfree];
    struct virtio_blk_req *r = &d->reqs[idx[0]];
    r->hdr.type = type;
    r->hdr.reserved = 0;
    r->hdr.sector = blockno * SECTORS_PER_BLOCK;
    r->status = STATUS_NONE;
    r->done = 0;
    struct virtq_desc *desc = d->ring->desc;
    desc[idx[0]] =
        (struct virtq_desc){(uintptr_t)&r->hdr, sizeof(r->hdr), VIRTQ_DESC_F_NEXT, idx[1]};
    if (buf)
        desc[idx[1]] = (struct virtq_desc){
            (uintptr_t)buf, VIRTIO_BLK_BSIZE,
            VIRTQ_DESC_F_NEXT | (type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE), idx[2]};
    desc[idx[n - 1]] = (struct virtq_desc){(uintptr_t)&r->status, 1, VIRTQ_DESC_F_WRITE, 0};
    d->ring->avail.ring[d->ring->avail.idx % QUEUE_SIZE] = idx[0];
    io_fence(); /* descriptors and ring entry before the index that publishes them */
    d->ring->avail.idx++;
    io_fence(); /* the new index before the notify that makes the device look at it */
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    d->stats.requests++;
    if (++d->in_flight > d->stats.max_in_flight)
        d->stats.max_in_flight = d->in_flight;
    while (!r->done)
        sleep(r, &d->lock); /* virtio_blk_intr sets done and wakes us */
    uint8_t status = r->status;
    d->in_flight--;
    for (int i = 0; i < n; i++)
        d->free[d->nfree++] = idx[i];
    wakeup(&d->nfree);
    release(&d->lock);
    return status;
}

/* The one line an error prints: disk, what, which block, why. */
static void report(struct virtio_blk *d, uint32_t type, uint64_t blockno, int err)
{
    const char *what = type == VIRTIO_BLK_T_IN      ? "read"
                       : type == VIRTIO_BLK_T_OUT   ? "write"
                       : type == VIRTIO_BLK_T_FLUSH ? "flush"
                                                    : 0;
    if (what)
        kprintf("%s: %s of block %lu failed: %s\n", d->name, what, blockno,
                virtio_blk_strerror(err));
    else
        kprintf("%s: request type %u on block %lu failed: %s\n", d->name, type, blockno,
                virtio_blk_strerror(err));
}

int virtio_blk_request(int dev, uint32_t type, uint64_t blockno, void *buf)
{
    struct virtio_blk *d = disk(dev);
    if (!d)
        return VIRTIO_BLK_ENODEV;
    int err = 0;
    if (type == VIRTIO_BLK_T_FLUSH && !d->has_flush)
        return 0; /* without the FLUSH feature the device has no write cache to flush */
    if (type != VIRTIO_BLK_T_FLUSH && blockno >= d->capacity)
        err = VIRTIO_BLK_ERANGE; /* checked here: the device would only say IOERR */
    else if (type == VIRTIO_BLK_T_OUT && d->readonly)
        err = VIRTIO_BLK_EROFS;
    else {
        uint8_t status = submit(d, type, blockno, type == VIRTIO_BLK_T_FLUSH ? 0 : buf);
        if (status == VIRTIO_BLK_S_UNSUPP)
            err = VIRTIO_BLK_EUNSUPP;
        else if (status != VIRTIO_BLK_S_OK)
            err = VIRTIO_BLK_EIO; /* IOERR, or a value the spec does not define */
    }
    if (err) {
        acquire(&d->lock);
        d->stats.errors++;
        release(&d->lock);
        report(d, type, blockno, err);
    }
    return err;
}

int virtio_blk_read(int dev, uint64_t blockno, void *buf)
{
    return virtio_blk_request(dev, VIRTIO_BLK_T_IN, blockno, buf);
}

int virtio_blk_write(int dev, uint64_t blockno, const void *buf)
{
    /* The device only reads buf; the cast is for the shared request path. */
    return virtio_blk_request(dev, VIRTIO_BLK_T_OUT, blockno, (void *)buf);
}

int virtio_blk_flush(int dev) { return virtio_blk_request(dev, VIRTIO_BLK_T_FLUSH, 0, 0); }

int virtio_blk_stats(int dev, struct virtio_blk_stats *st, int reset)
{
    struct virtio_blk *d = disk(dev);
    if (!d)
        return VIRTIO_BLK_ENODEV;
    acquire(&d->lock);
    *st = d->stats;
    if (reset)
        d->stats = (struct virtio_blk_stats){0};
    release(&d->lock);
    return 0;
}

const char *virtio_blk_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case VIRTIO_BLK_EIO:
        return "I/O error reported by the device";
    case VIRTIO_BLK_ENODEV:
        return "no such disk";
    case VIRTIO_BLK_EROFS:
        return "the disk is read-only";
    case VIRTIO_BLK_ERANGE:
        return "block beyond the end of the disk";
    case VIRTIO_BLK_EUNSUPP:
        return "request not supported by the device";
    default:
        return "unknown error";
    }
}
