/*
 * Description: the ktest runner: selects suites from the command line, runs their
 * tests in link order and prints KTAP version 1 (see ktest.h).
 */
#include "tests/ktest.h"

#include <stdarg.h>

#include "arch/riscv/timer.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/power.h"
#include "kernel/sched.h"
#include "kernel/thread.h"
#include "lib/printf.h"
#include "lib/string.h"

extern const struct ktest ktest_start[], ktest_end[];

/* Room for the registry's names; one more is a panic that says which to raise, never a
 * suite or test left out without a word. */
#define MAX_SUITES 64
#define MAX_TESTS_PER_SUITE 64
#define DEFAULT_TIMEOUT_S 30
#define SLOW_TEST_MS 1000

/* Suites with these prefixes run only when named: they panic, hang, need a setup, or
 * grade the locks lab (tools/grade.py). */
static const char *const manual_prefixes[] = {"panic_", "hang_", "fault_", "grade_"};

static int failures; /* failed checks in the running test, any hart */
static const char *skip_reason;

/* What the watchdog watches: the running test and when it must be done by. */
static struct {
    const struct ktest *test;
    int index, suite_number;
    uint64_t deadline_us, timeout_s;
} running;

void ktest_fail(const char *file, int line, const char *fmt, ...)
{
    __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kprintf("    # %s:%d: %s\n", file, line, msg);
}

void ktest_skip(const char *reason) { skip_reason = reason; }

int ktest_failed(void) { return __atomic_load_n(&failures, __ATOMIC_RELAXED) != 0; }

void ktest_on_each_hart(void (*fn)(void *arg), void *arg)
{
    struct thread *workers[NCPU] = {0};
    for (int cpu = 0; cpu < ncpu; cpu++) {
        char name[THREAD_NAME_MAX]; /* thread_create copies it */
        snprintf(name, sizeof(name), "ktest/%d", cpu);
        workers[cpu] = thread_create(name, fn, arg, cpu);
        if (!workers[cpu])
            ktest_fail(__FILE__, __LINE__, "no thread for cpu %d (table full or no memory)", cpu);
    }
    for (int cpu = 0; cpu < ncpu; cpu++)
        if (workers[cpu])
            thread_join(workers[cpu]);
}

static int is_manual(const char *suite)
{
    for (size_t i = 0; i < sizeof(manual_prefixes) / sizeof(manual_prefixes[0]); i++)
        if (strncmp(suite, manual_prefixes[i], strlen(manual_prefixes[i])) == 0)
            return 1;
    return 0;
}

/* The distinct suite names, in link order. */
static int list_suites(const char **names)
{
    int n = 0;
    for (const struct ktest *t = ktest_start; t < ktest_end; t++) {
        int seen = 0;
        for (int i = 0; i < n && !seen; i++)
            seen = strcmp(names[i], t->suite) == 0;
        if (!seen && n == MAX_SUITES)
            panic("ktest: more than MAX_SUITES (%d) suites: raise it in tests/ktest.c", MAX_SUITES);
        if (!seen)
            names[n++] = t->suite;
    }
    return n;
}

/* Is `suite` named in the comma-separated selection? "all" names every non-manual suite. */
static int selected(const char *suite, const char *sel, size_t len)
{
    size_t slen = strlen(suite);
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && sel[j] != ',')
            j++;
        if (j - i == 3 && strncmp(sel + i, "all", 3) == 0 && !is_manual(suite))
            return 1;
        if (j - i == slen && strncmp(sel + i, suite, slen) == 0)
            return 1;
        i = j + 1;
    }
    return 0;
}

/* Checks that every word of the selection names a suite; prints the known ones if not. */
static int selection_valid(const char *sel, size_t len, const char **names, int n)
{
    int ok = 1;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && sel[j] != ',')
            j++;
        int known = (j - i == 3 && strncmp(sel + i, "all", 3) == 0);
        for (int k = 0; k < n && !known; k++)
            known = strlen(names[k]) == j - i && strncmp(names[k], sel + i, j - i) == 0;
        if (!known) {
            kprintf("hartos: error: unknown test suite '%.*s'; known suites: all", (int)(j - i),
                    sel + i);
            for (int k = 0; k < n; k++)
                kprintf(", %s", names[k]);
            kprintf("\n");
            ok = 0;
        }
        i = j + 1;
    }
    return ok;
}

/* Runs one suite as a KTAP subtest; returns the number of failed tests. */
static int run_suite(const char *suite, int number)
{
    /* The compiler may emit a file's tests in any order: sort them by line. */
    const struct ktest *tests[MAX_TESTS_PER_SUITE];
    int ntests = 0, nfailed = 0, index = 0;
    for (const struct ktest *t = ktest_start; t < ktest_end; t++) {
        if (strcmp(t->suite, suite) != 0)
            continue;
        if (ntests == MAX_TESTS_PER_SUITE)
            panic("ktest: suite %s has more than MAX_TESTS_PER_SUITE (%d) tests: raise it in "
                  "tests/ktest.c",
                  suite, MAX_TESTS_PER_SUITE);
        int i = ntests++;
        for (; i > 0 && tests[i - 1]->line > t->line; i--)
            tests[i] = tests[i - 1];
        tests[i] = t;
    }
    kprintf("    KTAP version 1\n    # Subtest: %s\n    1..%d\n", suite, ntests);
    for (int i = 0; i < ntests; i++) {
        const struct ktest *t = tests[i];
        failures = 0;
        skip_reason = 0;
        index++;
        running.index = index;
        running.suite_number = number;
        running.deadline_us = timer_now_us() + running.timeout_s * 1000000;
        __atomic_store_n(&running.test, t, __ATOMIC_RELEASE);
        uint64_t start_us = timer_now_us();
        t->fn();
        __atomic_store_n(&running.test, NULL, __ATOMIC_RELEASE);
        uint64_t ms = (timer_now_us() - start_us) / 1000;
        if (ms >= SLOW_TEST_MS) /* worth knowing when a suite gets slow */
            kprintf("    # %s took %lu ms\n", t->name, ms);
        if (failures) {
            nfailed++;
            kprintf("    not ok %d %s\n", index, t->name);
        } else if (skip_reason) {
            kprintf("    ok %d %s # SKIP %s\n", index, t->name, skip_reason);
        } else {
            kprintf("    ok %d %s\n", index, t->name);
        }
    }
    kprintf("%sok %d %s\n", nfailed ? "not " : "", number, suite);
    return nfailed;
}

/*
 * The watchdog: a test that runs past its limit is reported as failed, with what
 * every hart is running, and the machine powers off instead of hanging. A test
 * cannot be killed safely (it may hold locks), so the run ends here; the plan then
 * does not match and the host runner reports the missing results too.
 */
static void watchdog(void *arg)
{
    (void)arg;
    for (;;) {
        sleep_ticks(TICK_HZ / 10);
        const struct ktest *t = __atomic_load_n(&running.test, __ATOMIC_ACQUIRE);
        if (!t || timer_now_us() < running.deadline_us)
            continue;
        kprintf("    # watchdog: %s.%s still running after %lu s; every hart:\n", t->suite, t->name,
                running.timeout_s);
        thread_dump();
        kprintf("    not ok %d %s # TIMEOUT\nnot ok %d %s\n", running.index, t->name,
                running.suite_number, t->suite);
        power_off(POWER_EXIT_TEST_FAILED);
    }
}

struct runner_args {
    const char *sel;
    size_t len;
};

static void runner(void *arg)
{
    struct runner_args *a = arg;
    power_off(ktest_main(a->sel, a->len));
}

void ktest_start_runner(const char *sel, size_t len)
{
    static struct runner_args args;
    args = (struct runner_args){sel, len};
    /* The runner is pinned to the boot hart so that tests see a stable cpuid(). */
    if (!thread_create("ktest", runner, &args, 0)) {
        kprintf("hartos: error: cannot create the test runner thread\n");
        power_off(POWER_EXIT_TEST_FAILED);
    }
}

/* One watchdog per boot, started by the first ktest_main (the runner's, or the
 * monitor's `test` command, which may run suites many times). 0, or -1 if there
 * is no thread for it. Only ktest_main calls it, from one thread at a time. */
static int start_watchdog(void)
{
    static int started;
    if (started)
        return 0;
    uint64_t timeout = DEFAULT_TIMEOUT_S;
    if (cmdline_get_u64("ktest.timeout", &timeout) < 0 || timeout == 0)
        timeout = DEFAULT_TIMEOUT_S;
    running.timeout_s = timeout;
    if (!thread_create("ktest.watchdog", watchdog, 0, THREAD_ANY_CPU)) {
        kprintf("hartos: error: cannot create the test watchdog thread\n");
        return -1;
    }
    started = 1;
    return 0;
}

int ktest_main(const char *sel, size_t len)
{
    const char *names[MAX_SUITES];
    int n = list_suites(names);
    if (!selection_valid(sel, len, names, n) || start_watchdog() != 0)
        return POWER_EXIT_TEST_FAILED;
    int nselected = 0, nfailed = 0;
    for (int i = 0; i < n; i++)
        nselected += selected(names[i], sel, len);
    kprintf("KTAP version 1\n1..%d\n", nselected);
    for (int i = 0, number = 0; i < n; i++)
        if (selected(names[i], sel, len))
            nfailed += run_suite(names[i], ++number) != 0;
    kprintf("# ktest: %d of %d suites passed\n", nselected - nfailed, nselected);
    return nfailed ? POWER_EXIT_TEST_FAILED : POWER_EXIT_OK;
}
