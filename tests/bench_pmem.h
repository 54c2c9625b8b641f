/*
 * Description: the pmem benchmarks run by tests/bench.c (`bench=pmem`, `bench=pmem_instr`).
 *  - bench_pmem: per-CPU lists against the single-lock baseline, on every online hart
 *  - bench_pmem_instr: instructions per alloc+free pair on the calling hart
 *  - bench_pmem_drain: one hart drains every page while the others take single pages
 * Each returns 0, or -1 after printing why the run is not valid.
 */
#pragma once

int bench_pmem(void);
int bench_pmem_instr(void);
int bench_pmem_drain(void); /* bench=pmem_drain: steal-heavy drain, call times (ninja bench) */
int bench_pmem_trace(void); /* bench=pmem_trace: traced runs, dumped (kernel/trace.h) */
