/*
 * Description: the virtio block benchmark: sequential read throughput of disk 0 with
 * one request in flight against many.
 *  - bench_virtio(): reads the first BENCH_VIRTIO_BLOCKS blocks in order with k
 *    reader threads on CPU 0 for k = 1, 2, 4, 8, 16 (thread j reads blocks j, j+k,
 *    j+2k, ..., so the disk sees the blocks in order with about k requests
 *    outstanding), and
 *    prints one line per k:
 *      BENCH virtio inflight=<k> harts=<n> interface=<legacy|modern> blocks=<n> us=<n>
 *            blocks_per_s=<n> max_in_flight=<n> desc_waits=<n>
 *    Returns 0, or -1 if there is no disk, it is too small, or a read failed.
 * Timed figures: never asserted, only printed (see DESIGN.md, Benchmarks).
 */
#pragma once

#define BENCH_VIRTIO_BLOCKS 4096

int bench_virtio(void);
