/*
 * Description: ktest, the in-kernel test framework.
 *
 *   KTEST(suite, name) { ... }   defines a test; the linker collects every test in
 *                                the .ktest section, so no list has to be kept.
 *   KEXPECT_EQ(a, b) ...         checks; on failure prints file:line, the expression
 *                                and both values, marks the test failed, continues
 *   KASSERT_EQ(a, b) ...         the same, but returns from the current function
 *   ktest_skip("why")            marks the test skipped (e.g. no disk attached)
 *   ktest_on_each_hart(fn, arg)  runs fn(arg) in one pinned thread per online hart,
 *                                all at once, and joins them
 *
 * Checks may run on any hart at the same time: failures are counted atomically.
 * Output is KTAP version 1: one subtest per suite. The kernel command line picks the
 * suites (ktest=all, ktest=boot,lib). Suites named panic_* (expected to panic),
 * hang_* (expected to hang) and fault_* (need a special QEMU setup) only run when
 * named; the host runner checks what they must show.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct ktest {
    const char *suite;
    const char *name;
    void (*fn)(void);
    int line; /* tests of a suite run in the order they are written (a suite is one file) */
};

#define KTEST(suite, name)                                                                         \
    static void ktest_fn_##suite##_##name(void);                                                   \
    __attribute__((used, section(".ktest"),                                                        \
                   aligned(8))) static const struct ktest ktest_##suite##_##name = {               \
        #suite, #name, ktest_fn_##suite##_##name, __LINE__};                                       \
    static void ktest_fn_##suite##_##name(void)

/* Records a failed check; called by the macros below. */
void ktest_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ktest_skip(const char *reason);
int ktest_failed(void); /* has the running test failed so far */
void ktest_on_each_hart(void (*fn)(void *arg), void *arg);

/* Runs the selected suites; returns the power-off status (POWER_EXIT_*). May be
 * called again (the monitor's `test` command), from a thread pinned to CPU 0. The
 * first call starts the per-test watchdog (limit: ktest.timeout= seconds, default
 * 30), which reports a test that overruns and powers off. */
int ktest_main(const char *selection, size_t len);
/* Starts ktest_main in a thread pinned to CPU 0; powers off when the suites are done. */
void ktest_start_runner(const char *selection, size_t len);

#define KTEST_CHECK_OP_(a, op, b, on_fail)                                                         \
    do {                                                                                           \
        int64_t ka_ = (int64_t)(a), kb_ = (int64_t)(b);                                            \
        if (!(ka_ op kb_)) {                                                                       \
            ktest_fail(__FILE__, __LINE__, "expected %s %s %s, got %ld vs %ld (0x%lx vs 0x%lx)",   \
                       #a, #op, #b, ka_, kb_, ka_, kb_);                                           \
            on_fail;                                                                               \
        }                                                                                          \
    } while (0)

#define KTEST_CHECK_STR_(a, b, on_fail)                                                            \
    do {                                                                                           \
        const char *ka_ = (a), *kb_ = (b);                                                         \
        if (strcmp(ka_, kb_) != 0) {                                                               \
            ktest_fail(__FILE__, __LINE__, "expected %s == %s, got \"%s\" vs \"%s\"", #a, #b, ka_, \
                       kb_);                                                                       \
            on_fail;                                                                               \
        }                                                                                          \
    } while (0)

#define KEXPECT_EQ(a, b) KTEST_CHECK_OP_(a, ==, b, (void)0)
#define KEXPECT_NE(a, b) KTEST_CHECK_OP_(a, !=, b, (void)0)
#define KEXPECT_LT(a, b) KTEST_CHECK_OP_(a, <, b, (void)0)
#define KEXPECT_LE(a, b) KTEST_CHECK_OP_(a, <=, b, (void)0)
#define KEXPECT_GT(a, b) KTEST_CHECK_OP_(a, >, b, (void)0)
#define KEXPECT_GE(a, b) KTEST_CHECK_OP_(a, >=, b, (void)0)
#define KEXPECT_TRUE(c) KTEST_CHECK_OP_(!!(c), ==, 1, (void)0)
#define KEXPECT_FALSE(c) KTEST_CHECK_OP_(!!(c), ==, 0, (void)0)
#define KEXPECT_STREQ(a, b) KTEST_CHECK_STR_(a, b, (void)0)

#define KASSERT_EQ(a, b) KTEST_CHECK_OP_(a, ==, b, return )
#define KASSERT_NE(a, b) KTEST_CHECK_OP_(a, !=, b, return )
#define KASSERT_LT(a, b) KTEST_CHECK_OP_(a, <, b, return )
#define KASSERT_LE(a, b) KTEST_CHECK_OP_(a, <=, b, return )
#define KASSERT_GT(a, b) KTEST_CHECK_OP_(a, >, b, return )
#define KASSERT_GE(a, b) KTEST_CHECK_OP_(a, >=, b, return )
#define KASSERT_TRUE(c) KTEST_CHECK_OP_(!!(c), ==, 1, return )
#define KASSERT_FALSE(c) KTEST_CHECK_OP_(!!(c), ==, 0, return )
#define KASSERT_STREQ(a, b) KTEST_CHECK_STR_(a, b, return )
