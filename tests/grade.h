/*
 * Description: what the locks lab's grading suites (tests/grade_*.c, run by
 * tools/grade.py) share: lock figures summed over a family of locks.
 *  - grade_locks(prefix, skip, &out): acquires and contentions (acquires that found the
 *    lock taken) summed over every registered lock whose name starts with prefix, but
 *    not with any of the NULL-terminated skip prefixes. Counters only grow, so the
 *    grader subtracts a reading taken before a workload from one taken after it.
 *  - grade_barrier(): called by each of the threads of one ktest_on_each_hart, returns
 *    in each once all have called it (they spin: each runs pinned on a hart of its own).
 * The grader judges on these counts, never on time: they mean the same on a busy host.
 */
#pragma once

#include <stdint.h>

struct grade_locks {
    uint64_t locks, acquires, contentions;
};

void grade_locks(const char *prefix, const char *const *skip, struct grade_locks *out);

void grade_barrier(void);
