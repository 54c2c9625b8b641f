/*
 * Description: the ktest runner: selects suites from the command line, runs their
 * tests in link order and prints KTAP version 1 (see ktest.h).
 */
#include "tests/ktest.h"

#include <stdarg.h>

#include "kernel/console.h"
#include "kernel/power.h"
#include "kernel/xcall.h"
#include "lib/printf.h"
#include "lib/string.h"

extern const struct ktest ktest_start[], ktest_end[];

#define MAX_SUITES 32
#define MAX_TESTS_PER_SUITE 64

static int failures;          /* failed checks in the running test, any hart */
static const char *skip_reason;

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

void ktest_on_each_hart(void (*fn)(void *arg), void *arg) { xcall_all(fn, arg); }

/* The distinct suite names, in link order. */
static int list_suites(const char **names)
{
    int n = 0;
    for (const struct ktest *t = ktest_start; t < ktest_end; t++) {
        int seen = 0;
        for (int i = 0; i < n && !seen; i++)
            seen = strcmp(names[i], t->suite) == 0;
        if (!seen && n < MAX_SUITES)
            names[n++] = t->suite;
    }
    return n;
}

/* Is `suite` named in the comma-separated selection? "all" names every non-panic suite. */
static int selected(const char *suite, const char *sel, size_t len)
{
    size_t slen = strlen(suite);
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && sel[j] != ',')
            j++;
        if (j - i == 3 && strncmp(sel + i, "all", 3) == 0 && strncmp(suite, "panic_", 6) != 0)
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
        if (strcmp(t->suite, suite) != 0 || ntests == MAX_TESTS_PER_SUITE)
            continue;
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
        t->fn();
        index++;
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

int ktest_main(const char *sel, size_t len)
{
    const char *names[MAX_SUITES];
    int n = list_suites(names);
    if (!selection_valid(sel, len, names, n))
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
