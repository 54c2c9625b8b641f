# Description: which kernel test suites `ninja test` boots, and on how many harts.
# One line per suite; see hartos_add_ktest in cmake/HartosTesting.cmake for the options
# (MEM, TIMEOUT, DISK, APPEND, EXPECT_PANIC, NAME). Each line becomes <suite>@smp<N> tests.

hartos_add_ktest(SUITE boot     SMP 1 2 4)
hartos_add_ktest(SUITE lib      SMP 1 2 4)
hartos_add_ktest(SUITE spinlock SMP 1 2 4)
