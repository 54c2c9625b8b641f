# Description: which kernel test suites `ninja test` boots, and on how many harts.
# One line per suite; each becomes one <suite>@smp<N> test per hart count. Options (MEM,
# TIMEOUT, DISK, BLKDEBUG, APPEND, EXPECT_PANIC, QEMU_EXTRA, NAME): see hartos_add_ktest
# in cmake/HartosTesting.cmake.

hartos_add_ktest(SUITE boot     SMP 1 2 4)
hartos_add_ktest(SUITE lib      SMP 1 2 4)
hartos_add_ktest(SUITE spinlock SMP 1 2 4)

# Kernel invariants that must panic (tests/test_panic.c): each suite runs only when named,
# and passes only if QEMU stops with a non-zero status after a `panic:` line matching
# the pattern (a CMake string: no semicolons in it).
hartos_add_ktest(SUITE panic_spinlock_recursive SMP 1 EXPECT_PANIC "acquire: lock .* already held")
hartos_add_ktest(SUITE panic_spinlock_release   SMP 1 EXPECT_PANIC "release: lock .* not held")
hartos_add_ktest(SUITE panic_exception          SMP 1 EXPECT_PANIC "load access fault")
hartos_add_ktest(SUITE panic_other_hart         SMP 2 EXPECT_PANIC "deliberate panic on cpu 1")
