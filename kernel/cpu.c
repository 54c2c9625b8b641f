/*
 * Description: per-hart state and the boot stacks (see cpu.h).
 */
#include "kernel/cpu.h"

struct cpu cpus[NCPU];
int ncpu;

/* One boot stack per hart; entry.S points sp at the top of cpu_stacks[id]. */
__attribute__((aligned(16))) char cpu_stacks[NCPU][KSTACK_SIZE];

int cpus_online(void)
{
    int n = 0;
    for (int i = 0; i < ncpu; i++)
        n += cpus[i].online;
    return n;
}
