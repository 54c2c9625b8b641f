/*
 * Description: the spinlock benchmarks (tests/bench_lock.c): lock_instr, lock_fair,
 * lock_bounces. Each returns 0, or -1 after printing why.
 */
#pragma once

int bench_lock_instr(void);
int bench_lock_fair(void);
int bench_lock_bounces(void);
