/*
 * Description: in-kernel benchmarks, selected with `bench=` on the kernel command line
 * (the way `ktest=` selects test suites) and run by tools/bench.py (`ninja bench`).
 *  - bench_start_runner(sel, len): runs bench_main in a thread pinned to CPU 0 and
 *    powers off with its status when it is done
 *  - bench_main(sel, len): runs the named benchmarks (comma-separated); returns
 *    POWER_EXIT_OK, or POWER_EXIT_TEST_FAILED for an unknown name or a failed run
 *
 * Benchmarks:
 *  - pmem: per-CPU lists (mm/pmem.c) against the single-lock baseline
 *    (tests/pmem_baseline.c), same workloads, same boot, alternating, several rounds
 *  - pmem_instr: instructions per alloc+free pair from rdinstret; meant for one hart
 *    under `-icount shift=0`, where the count is exact and repeatable
 *  - bufcache: the bucketed cache against the single-lock one (tests/bench_bufcache.h)
 *  - virtio: blocks per second with 1 to 16 requests in flight (tests/bench_virtio.h)
 *  - pmem_trace, bufcache_trace: short traced runs of both designs, dumped for
 *    tools/trace.py (`ninja trace-pmem`, `ninja trace-bufcache`; kernel/trace.h)
 *
 * Output: one line per measurement, machine-readable, for tools/bench.py:
 *   BENCH bench=<name> key=value ...    (or BENCH <name> key=value ...)
 * Values are integers (the kernel has no floating point); lists are comma-separated,
 * one entry per hart. Times are in ticks of the `timebase` the line gives, or in
 * microseconds (`us=`).
 * Nothing here asserts a time: the numbers are reported, never judged.
 */
#pragma once

#include <stddef.h>

int bench_main(const char *selection, size_t len);
void bench_start_runner(const char *selection, size_t len);
