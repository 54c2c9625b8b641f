/*
 * Description: the buffer cache benchmark: the bucketed cache (fs/bufcache.c) against
 * the single-lock baseline (tests/bcache_baseline.c), side by side in the same boot.
 *  - bench_bufcache(): runs every workload on 1, 2 and 4 harts (those that are
 *    online) and prints one `BENCH bufcache ...` line per measurement plus a table.
 *    Needs the test disk (tools/mkdisk.py image, >= 4096 blocks, read only here);
 *    returns 0, or -1 if there is no disk or no memory for the caches.
 * Timed figures: never asserted, only printed (see DESIGN.md, Benchmarks).
 */
#pragma once

int bench_bufcache(void);
int bench_bufcache_trace(void); /* bench=bufcache_trace: traced runs, dumped (kernel/trace.h) */
