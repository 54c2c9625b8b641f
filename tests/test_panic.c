/*
 * Description: suites that must end in a panic. Each panic_* suite runs only when
 * named (ktest=panic_spinlock_recursive); the host runner then expects QEMU to exit
 * with status 2 (POWER_EXIT_PANIC) and the console to show a "panic:" line with the
 * words given at registration. If the kernel does not panic, the test fails instead,
 * so a missing check cannot pass quietly.
 *  - panic_spinlock_recursive: acquiring a lock this hart holds -> "already held"
 *  - panic_spinlock_release: releasing a lock nobody holds -> "not held"
 *  - panic_exception: a load from address 0x10 (no RAM or device there) -> the trap
 *    handler panics naming "load access fault"
 *  - panic_other_hart: a panic on CPU 1 while CPU 0 waits in thread_join: the
 *    secondary hart must still print its panic and power the machine off (needs
 *    two harts or more)
 */
#include <stdint.h>

#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "tests/ktest.h"

KTEST(panic_spinlock_recursive, acquire_twice_on_one_hart)
{
    static struct spinlock lk; /* registered for lockstat: must outlive the test */
    spinlock_init(&lk, "test.recursive");
    acquire(&lk);
    /* Spinning here would wait for ourselves forever; the lock panics instead. */
    acquire(&lk);
    ktest_fail(__FILE__, __LINE__, "a second acquire on the same hart did not panic");
}

KTEST(panic_spinlock_release, release_without_acquire)
{
    static struct spinlock lk;
    spinlock_init(&lk, "test.not_held");
    release(&lk);
    ktest_fail(__FILE__, __LINE__, "releasing a free lock did not panic");
}

KTEST(panic_exception, load_from_unmapped_address)
{
    /* Physical address 0x10 is neither RAM nor a device on QEMU virt, and the kernel runs
     * without paging: the load is a load access fault (scause 5). The address goes
     * through a volatile variable because GCC turns a visible bad dereference into a
     * trap instruction of its own, and that would test the compiler, not the kernel.
     * It is not NULL because a sanitizer build (HARTOS_UBSAN) reports a NULL load
     * before the hardware ever sees it. */
    volatile uintptr_t address = 0x10;
    uint64_t value = *(volatile uint64_t *)address;
    ktest_fail(__FILE__, __LINE__, "the load from 0x10 returned 0x%lx instead of faulting", value);
}

static void panic_on_cpu1(void *arg)
{
    (void)arg;
    if (cpuid() == 1) /* pinned by ktest_on_each_hart, so this is stable */
        panic("test: deliberate panic on cpu %d", cpuid());
}

KTEST(panic_other_hart, panic_on_secondary_hart)
{
    if (ncpu < 2) {
        ktest_fail(__FILE__, __LINE__, "needs at least 2 harts, has %d", ncpu);
        return;
    }
    ktest_on_each_hart(panic_on_cpu1, 0);
    ktest_fail(__FILE__, __LINE__, "the panic on cpu 1 did not stop the machine");
}
