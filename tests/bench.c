/*
 * Description: the benchmark runner (see bench.h): finds each name of the `bench=`
 * selection in the table below and runs it in a thread pinned to the boot hart.
 */
#include "tests/bench.h"

#include "kernel/console.h"
#include "kernel/power.h"
#include "kernel/thread.h"
#include "lib/string.h"
#include "tests/bench_bufcache.h"
#include "tests/bench_lock.h"
#include "tests/bench_pmem.h"
#include "tests/bench_virtio.h"

static const struct {
    const char *name;
    int (*run)(void); /* 0, or -1 after printing why */
} benchmarks[] = {
    {"pmem", bench_pmem},
    {"pmem_instr", bench_pmem_instr},
    {"pmem_drain", bench_pmem_drain},
    {"bufcache", bench_bufcache},
    {"virtio", bench_virtio},
    {"lock_instr", bench_lock_instr},         /* one hart, -icount */
    {"lock_fair", bench_lock_fair},           /* 8 harts */
    {"lock_bounces", bench_lock_bounces},     /* with the disk boot */
    {"pmem_trace", bench_pmem_trace},         /* tools/trace.py: ninja trace-pmem */
    {"bufcache_trace", bench_bufcache_trace}, /* tools/trace.py: ninja trace-bufcache */
};
#define NBENCH (sizeof(benchmarks) / sizeof(benchmarks[0]))

int bench_main(const char *sel, size_t len)
{
    int failed = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && sel[j] != ',')
            j++;
        size_t k = 0;
        while (k < NBENCH && !(strlen(benchmarks[k].name) == j - i &&
                               strncmp(benchmarks[k].name, sel + i, j - i) == 0))
            k++;
        if (k == NBENCH) {
            kprintf("hartos: error: unknown benchmark '%.*s'; known:", (int)(j - i), sel + i);
            for (k = 0; k < NBENCH; k++)
                kprintf(" %s", benchmarks[k].name);
            kprintf("\n");
            failed = 1;
        } else {
            kprintf("BENCH-START bench=%s\n", benchmarks[k].name);
            failed |= benchmarks[k].run() != 0;
            kprintf("BENCH-END bench=%s\n", benchmarks[k].name);
        }
        i = j + 1;
    }
    return failed ? POWER_EXIT_TEST_FAILED : POWER_EXIT_OK;
}

struct runner_args {
    const char *sel;
    size_t len;
};

static void runner(void *arg)
{
    struct runner_args *a = arg;
    power_off(bench_main(a->sel, a->len));
}

void bench_start_runner(const char *sel, size_t len)
{
    static struct runner_args args;
    args = (struct runner_args){sel, len};
    /* Pinned to the boot hart, like the test runner: cpuid() stays put. */
    if (!thread_create("bench", runner, &args, 0)) {
        kprintf("hartos: error: cannot create the benchmark thread\n");
        power_off(POWER_EXIT_TEST_FAILED);
    }
}
