/*
 * Description: per-hart state and the boot stacks (see cpu.h).
 */
#include "kernel/cpu.h"

struct cpu cpus[NCPU];
int ncpu;

/* entry.S looks a late-arriving hart up in cpus[] by hart id. */
_Static_assert(__builtin_offsetof(struct cpu, hartid) == 0, "entry.S reads hartid at offset 0");
const uint64_t cpu_struct_size = sizeof(struct cpu);

/* One boot stack per hart; entry.S points sp at the top of cpu_stacks[id]. */
__attribute__((aligned(16))) char cpu_stacks[NCPU][KSTACK_SIZE];

int cpus_online(void)
{
    int n = 0;
    for (int i = 0; i < ncpu; i++)
        n += cpus[i].online;
    return n;
}
