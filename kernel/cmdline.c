/*
 * Description: kernel command line parsing (see cmdline.h).
 */
#include "kernel/cmdline.h"

#include "kernel/console.h"
#include "kernel/trace.h"
#include "lib/string.h"

/* Every key the kernel understands, and what it does. */
static const struct {
    const char *key;
    const char *help;
} known_keys[] = {
    {"ktest", "run test suites and power off: ktest=all or ktest=boot,lib"},
    {"test.smp", "hart count the host runner asked QEMU for (checked by the boot suite)"},
    {"test.mem", "memory in MiB the host runner asked QEMU for (checked by the boot suite)"},
    {"ktest.timeout", "seconds a single test may run before the watchdog fails it (30)"},
    {"seed", "seed for the stress tests' random numbers"},
    {"lock.stuck_ms", "a spin longer than this is reported as a stuck lock (10000; 0 = off)"},
    {"bench", "run benchmarks and power off: bench=pmem (tools/bench.py reads the output)"},
    {"trace", "trace=1: record lock events from boot on (docs/10-tracing.md)"},
};
#define NKEYS (sizeof(known_keys) / sizeof(known_keys[0]))

#define MAX_WORDS 16

static struct {
    const char *key, *value;
    size_t key_len, value_len;
} words[MAX_WORDS];
static int nwords;

static int is_known(const char *key, size_t len)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strlen(known_keys[i].key) == len && strncmp(known_keys[i].key, key, len) == 0)
            return 1;
    return 0;
}

static void print_known_keys(void)
{
    for (size_t i = 0; i < NKEYS; i++)
        kprintf("hartos:   %-14s %s\n", known_keys[i].key, known_keys[i].help);
}

int cmdline_parse(const char *args)
{
    int bad = 0;
    nwords = 0;
    while (*args) {
        while (*args == ' ')
            args++;
        size_t len = 0;
        while (args[len] && args[len] != ' ')
            len++;
        if (len == 0)
            break;
        const char *eq = strchr(args, '=');
        size_t key_len = (eq && eq < args + len) ? (size_t)(eq - args) : len;
        if (key_len == len || !is_known(args, key_len)) {
            kprintf("hartos: error: kernel command line: unknown option '%.*s' (ignored); "
                    "known options:\n",
                    (int)len, args);
            bad++;
            print_known_keys();
        } else if (nwords == MAX_WORDS) {
            kprintf("hartos: error: kernel command line: more than %d options\n", MAX_WORDS);
            return bad + 1;
        } else {
            words[nwords].key = args;
            words[nwords].key_len = key_len;
            words[nwords].value = args + key_len + 1;
            words[nwords].value_len = len - key_len - 1;
            nwords++;
        }
        args += len;
    }
    uint64_t trace = 0; /* here, not later: then the rest of the boot is traced too */
    if (cmdline_get_u64("trace", &trace) == 0 && trace)
        trace_start();
    return bad;
}

const char *cmdline_get(const char *key, size_t *len)
{
    /* The last occurrence wins, as on Linux. */
    for (int i = nwords - 1; i >= 0; i--) {
        if (words[i].key_len == strlen(key) && strncmp(words[i].key, key, words[i].key_len) == 0) {
            *len = words[i].value_len;
            return words[i].value;
        }
    }
    return NULL;
}

int cmdline_get_u64(const char *key, uint64_t *out)
{
    size_t len;
    const char *value = cmdline_get(key, &len);
    if (!value)
        return 1;
    if (strtou64(value, len, 0, out) != 0) {
        kprintf("hartos: error: kernel command line: %s='%.*s' is not a number\n", key, (int)len,
                value);
        return -1;
    }
    return 0;
}
