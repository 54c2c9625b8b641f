/*
 * Description: the monitor's commands (see monitor_cmds.h), one small function each,
 * and the table `help` prints. Like kmain, the monitor sits above every subsystem:
 * it only calls their public interfaces and printers, and runs the test and bench
 * runners in place (tests/ktest.h, tests/bench.h) instead of in a boot of their own.
 */
#include "kernel/monitor_cmds.h"

#include "drivers/virtio_blk.h"
#include "fs/bufcache.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/machine.h"
#include "kernel/power.h"
#include "kernel/spinlock.h"
#include "kernel/thread.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/pmem.h"
#include "tests/bench.h"
#include "tests/ktest.h"

#define DUMP_BYTES_PER_LINE 16

static void cmd_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    kprintf("commands (Ctrl-C stops stress; Up/Down recall earlier lines):\n");
    for (int i = 0; i < monitor_ncmds; i++) {
        char usage[40];
        snprintf(usage, sizeof(usage), "%s %s", monitor_cmds[i].name, monitor_cmds[i].args);
        kprintf("  %-33s %s\n", usage, monitor_cmds[i].help);
    }
}

static void cmd_harts(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    kprintf("%d of %d harts online (NCPU=%d)\n", cpus_online(), machine.nharts, NCPU);
    kprintf("%-4s %5s %-6s %10s  %s\n", "cpu", "hart", "online", "ticks", "running");
    for (int i = 0; i < ncpu; i++) {
        /* Unlocked, as in thread_dump: a snapshot that may be a moment old. */
        struct thread *t = cpus[i].thread;
        kprintf("%-4d %5lu %-6s %10lu  %s\n", i, cpus[i].hartid, cpus[i].online ? "yes" : "no",
                cpus[i].ticks, t ? t->name : "(idle)");
    }
}

static void cmd_threads(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    thread_dump();
}

static void cmd_mem(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pmem_stats_print();
    size_t free = pmem_free_pages();
    kprintf("free: %lu pages (%lu KiB) on %d lists\n", free, free * (PAGE_SIZE / 1024),
            pmem_ncpu());
}

static void cmd_lockstat(int argc, char **argv)
{
    if (argc == 1) {
        lockstat_print();
    } else if (strcmp(argv[1], "reset") == 0) {
        lockstat_reset();
        kprintf("lockstat: every lock's counters are 0 again\n");
    } else {
        kprintf("lockstat: bad argument '%s': expected 'reset' or nothing\n", argv[1]);
    }
}

static void cmd_bcache(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (virtio_blk_count() == 0)
        kprintf("no disk attached: the cache stays empty\n");
    else
        kprintf("disk 0: %lu blocks of %d bytes\n", virtio_blk_capacity(0), BSIZE);
    bcache_stats_print(&bcache);
}

/* ktest_main prints the KTAP report, or one error line for an unknown suite. */
static void cmd_test(int argc, char **argv)
{
    (void)argc;
    ktest_main(argv[1], strlen(argv[1]));
}

static void cmd_bench(int argc, char **argv)
{
    (void)argc;
    bench_main(argv[1], strlen(argv[1]));
}

/* One line of a hex dump: offset, 16 bytes in hex, the same as text. */
static void dump_line(const uint8_t *p, int offset)
{
    char line[16 + 3 * DUMP_BYTES_PER_LINE + DUMP_BYTES_PER_LINE + 8];
    int n = snprintf(line, sizeof(line), "%04x ", offset);
    for (int i = 0; i < DUMP_BYTES_PER_LINE; i++)
        n += snprintf(line + n, sizeof(line) - n, " %02x", p[i]);
    n += snprintf(line + n, sizeof(line) - n, "  |");
    for (int i = 0; i < DUMP_BYTES_PER_LINE; i++)
        line[n++] = p[i] >= ' ' && p[i] < 0x7f ? (char)p[i] : '.';
    line[n] = 0;
    kprintf("%s|\n", line); /* one kprintf: a line is written whole */
}

static void cmd_read(int argc, char **argv)
{
    (void)argc;
    uint64_t blockno;
    if (virtio_blk_count() == 0) {
        kprintf("read: no disk attached\n");
        return;
    }
    if (monitor_arg_u64("read", argv[1], 0, virtio_blk_capacity(0) - 1, &blockno) != 0)
        return;
    struct buf *b;
    int err = bread(&bcache, 0, blockno, &b);
    if (err) {
        kprintf("read: block %lu: %s\n", blockno,
                err == BCACHE_ENOBUFS ? "every buffer is in use" : virtio_blk_strerror(err));
        return;
    }
    kprintf("disk 0 block %lu:\n", blockno);
    for (int off = 0; off < BSIZE; off += DUMP_BYTES_PER_LINE)
        dump_line(b->data + off, off);
    brelse(b);
}

static void cmd_poweroff(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    kprintf("hartos: powering off\n");
    power_off(POWER_EXIT_OK);
}

const struct monitor_cmd monitor_cmds[] = {
    {"help", "", "this list", 0, 0, cmd_help},
    {"harts", "", "online harts, their ticks, what each runs", 0, 0, cmd_harts},
    {"threads", "", "every thread: state, hart, switches", 0, 0, cmd_threads},
    {"mem", "", "page allocator statistics per CPU", 0, 0, cmd_mem},
    {"lockstat", "[reset]", "acquires, spins, contentions, bounces of every lock (or zero them)", 0,
     1, cmd_lockstat},
    {"bcache", "", "buffer cache statistics, buffers per bucket", 0, 0, cmd_bcache},
    {"test", "<suite|all>", "run ktest suites here (e.g. test lib,sched)", 1, 1, cmd_test},
    {"stress", "<pmem|bufcache> <seconds>", "stress threads on every hart, counters each second", 2,
     2, monitor_stress},
    {"bench", "<name>", "run a benchmark here (e.g. bench pmem_instr)", 1, 1, cmd_bench},
    {"read", "<block>", "hex dump of a block of disk 0, through the cache", 1, 1, cmd_read},
    {"poweroff", "", "power off (QEMU exits with status 0)", 0, 0, cmd_poweroff},
};
const int monitor_ncmds = sizeof(monitor_cmds) / sizeof(monitor_cmds[0]);
