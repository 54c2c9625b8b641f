/*
 * Description: the virtio block driver: disks on virtio-mmio slots found in the
 * device tree, legacy (version 1) or modern (version 2) interface. Requests from
 * any number of threads and harts are in flight at once on one virtqueue; the
 * caller sleeps until the device's interrupt says its request is done.
 *
 * Disks are numbered 0..virtio_blk_count()-1 in order of their slot address, so
 * disk 0 is the one on QEMU's virtio-mmio-bus.0. Every transfer is one block of
 * VIRTIO_BLK_BSIZE bytes; block n is sectors [n*BSIZE/512, (n+1)*BSIZE/512).
 *  - virtio_blk_init: once, on the boot hart, after plic_init and after the
 *    scheduler is set up; finds and starts every disk. Returns how many; with none,
 *    prints one line saying disk tests will be skipped.
 *  - virtio_blk_read / virtio_blk_write(dev, blockno, buf): one block; buf is
 *    VIRTIO_BLK_BSIZE bytes of RAM (the device reads or writes it directly)
 *  - virtio_blk_flush(dev): everything written so far is on stable storage
 *  - virtio_blk_capacity(dev): size in blocks; virtio_blk_readonly(dev): 0 or 1;
 *    virtio_blk_version(dev): which interface the device shows
 *  - virtio_blk_request(dev, type, blockno, buf): any request type; the three
 *    above are wrappers. (Tests use it to send a type the device does not know.)
 *  - virtio_blk_stats(dev, &st, reset): request counters, for tests and the bench
 * Every call that does I/O returns 0 or a negative VIRTIO_BLK_E* code, and may
 * sleep: call it from a thread, holding no spinlock. An error from the device, a
 * block beyond the end or a write to a read-only disk prints one line naming the
 * disk and block; the driver stays usable.
 */
#pragma once

#include <stdint.h>

#define VIRTIO_BLK_BSIZE 1024 /* bytes per block: 2 sectors, the buffer cache's unit */
#define VIRTIO_BLK_SECTOR_SIZE 512
#define VIRTIO_BLK_MAX_DISKS 4

/* Request types (virtio spec 5.2.6) */
#define VIRTIO_BLK_T_IN 0  /* read */
#define VIRTIO_BLK_T_OUT 1 /* write */
#define VIRTIO_BLK_T_FLUSH 4

/* Errors: negative, with the values of the matching Linux errno names. */
#define VIRTIO_BLK_EIO (-5)      /* the device reported an I/O error */
#define VIRTIO_BLK_ENODEV (-19)  /* no such disk */
#define VIRTIO_BLK_EROFS (-30)   /* write to a read-only disk */
#define VIRTIO_BLK_ERANGE (-34)  /* block beyond the end of the disk */
#define VIRTIO_BLK_EUNSUPP (-95) /* the device does not support the request */

/* What a disk has done since boot (or the last reset); for tests and the bench. */
struct virtio_blk_stats {
    uint64_t requests;   /* handed to the device */
    uint64_t errors;     /* calls that returned an error, of any kind */
    uint64_t desc_waits; /* times a request slept because all descriptors were in use */
    int max_in_flight;   /* most requests the device held at once */
};

int virtio_blk_init(void);
int virtio_blk_count(void);
int virtio_blk_read(int dev, uint64_t blockno, void *buf);
int virtio_blk_write(int dev, uint64_t blockno, const void *buf);
int virtio_blk_flush(int dev);
int virtio_blk_request(int dev, uint32_t type, uint64_t blockno, void *buf);
uint64_t virtio_blk_capacity(int dev); /* 0 if there is no such disk */
int virtio_blk_readonly(int dev);
int virtio_blk_version(int dev); /* 1 legacy, 2 modern interface; 0 if no such disk */
const char *virtio_blk_strerror(int err);
/* Copies the counters of disk dev into *st (0, or VIRTIO_BLK_ENODEV); then zeroes
 * them if reset is set. */
int virtio_blk_stats(int dev, struct virtio_blk_stats *st, int reset);
