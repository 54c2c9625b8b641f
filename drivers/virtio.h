/*
 * Description: the virtio-mmio transport and split virtqueue layout, as the virtio
 * 1.2 specification defines them (sections 2.7 and 4.2). Only what hartos uses.
 *
 * Memory map of one virtio-mmio slot (32-bit registers, little-endian):
 *   0x000 MagicValue "virt"   0x004 Version (1 legacy, 2 modern)   0x008 DeviceID
 *   0x010 DeviceFeatures      0x014 DeviceFeaturesSel (which 32-bit word)
 *   0x020 DriverFeatures      0x024 DriverFeaturesSel
 *   0x028 GuestPageSize (legacy only)
 *   0x030 QueueSel   0x034 QueueNumMax   0x038 QueueNum
 *   0x03c QueueAlign (legacy)  0x040 QueuePFN (legacy)  0x044 QueueReady (modern)
 *   0x050 QueueNotify   0x060 InterruptStatus   0x064 InterruptACK   0x070 Status
 *   0x080/0x084 QueueDesc, 0x090/0x094 QueueDriver (avail), 0x0a0/0x0a4 QueueDevice (used)
 *   0x0fc ConfigGeneration (modern)   0x100.. device-specific configuration
 *
 * A split virtqueue of N entries is three arrays the driver and the device share:
 * the descriptor table (buffers), the available ring (driver -> device: heads of
 * descriptor chains ready to be processed) and the used ring (device -> driver:
 * heads of chains it has finished). The legacy interface wants all three in one
 * physically contiguous area, with the used ring at the next QueueAlign boundary.
 */
#pragma once

#include <stdint.h>

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt", little-endian */

#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_GUEST_PAGE_SIZE 0x028
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_ALIGN 0x03c
#define VIRTIO_MMIO_QUEUE_PFN 0x040
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_DEV_BLOCK 2

/* Status register: the driver sets these bits in order while it brings a device up. */
#define VIRTIO_STATUS_ACKNOWLEDGE 1 /* the guest noticed the device */
#define VIRTIO_STATUS_DRIVER 2      /* ...and has a driver for it */
#define VIRTIO_STATUS_DRIVER_OK 4   /* the driver is ready: the device may start */
#define VIRTIO_STATUS_FEATURES_OK 8 /* (modern) feature negotiation is complete */
#define VIRTIO_STATUS_FAILED 128    /* the driver gave up on the device */

#define VIRTIO_F_VERSION_1 32 /* feature bit: the device speaks virtio 1.x (modern) */

/* InterruptStatus bits */
#define VIRTIO_INT_USED_RING 1 /* the device has put something in a used ring */
#define VIRTIO_INT_CONFIG 2    /* the configuration space changed */

/* A descriptor: one buffer in guest-physical memory, possibly chained to the next. */
struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
#define VIRTQ_DESC_F_NEXT 1  /* the chain continues in `next` */
#define VIRTQ_DESC_F_WRITE 2 /* the device writes this buffer (otherwise it reads it) */

/* Driver -> device. idx counts every entry ever added (it wraps at 2^16). */
#define VIRTQ_AVAIL(n)                                                                             \
    struct {                                                                                       \
        uint16_t flags;                                                                            \
        volatile uint16_t idx;                                                                     \
        uint16_t ring[n];                                                                          \
        uint16_t used_event; /* only with VIRTIO_F_EVENT_IDX, which hartos refuses */              \
    }

struct virtq_used_elem {
    uint32_t id;  /* head of the finished descriptor chain */
    uint32_t len; /* bytes the device wrote into the chain */
};

/* Device -> driver. The device writes idx after the entries it covers. */
#define VIRTQ_USED(n)                                                                              \
    struct {                                                                                       \
        volatile uint16_t flags;                                                                   \
        volatile uint16_t idx;                                                                     \
        volatile struct virtq_used_elem ring[n];                                                   \
        uint16_t avail_event;                                                                      \
    }
