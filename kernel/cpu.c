/*
 * Description: per-hart state and the boot stacks (see cpu.h).
 *
 * Memory per hart is sized by the machine, not by NCPU: the boot hart's stack is in
 * BSS (it runs before anything can be allocated); every other hart's stack is carved
 * at boot for the harts the device tree lists, so a 64-hart kernel on a 2-hart machine
 * spends two stacks, not 64. cpus[] itself stays a static table: kprintf needs mycpu()
 * before any memory can be carved.
 */
#include "kernel/cpu.h"

#include "kernel/console.h"
#include "kernel/machine.h"

struct cpu cpus[NCPU];
int ncpu;

/* entry.S looks a late-arriving hart up in cpus[] by hart id. */
_Static_assert(__builtin_offsetof(struct cpu, hartid) == 0, "entry.S reads hartid at offset 0");
const uint64_t cpu_struct_size = sizeof(struct cpu);

/* The boot hart's stack; entry.S points sp at its top before kmain. */
__attribute__((aligned(16))) char boot_stack[KSTACK_SIZE];
/* Top of each other hart's stack, by logical id; entry.S loads sp from here. */
uintptr_t cpu_stack_top[NCPU];

int cpus_alloc_stacks(int n)
{
    if (n > NCPU)
        n = NCPU;
    char *mem = n > 1 ? machine_carve((uint64_t)(n - 1) * KSTACK_SIZE) : 0;
    if (n > 1 && !mem) {
        kprintf("hartos: error: no memory for %d hart stacks; starting the boot hart only\n",
                n - 1);
        return 1;
    }
    for (int i = 1; i < n; i++)
        cpu_stack_top[i] = (uintptr_t)(mem + (uint64_t)i * KSTACK_SIZE); /* stacks grow down */
    return n;
}

int cpus_online(void)
{
    int n = 0;
    for (int i = 0; i < ncpu; i++)
        n += cpus[i].online;
    return n;
}
