# Description: which kernel test suites `ninja test` boots, and on how many harts.
# One line per suite; each becomes one <suite>@smp<N> test per hart count. Options (MEM,
# TIMEOUT, DISK, BLKDEBUG, APPEND, EXPECT_PANIC, QEMU_EXTRA, NAME): see hartos_add_ktest
# in cmake/HartosTesting.cmake.

hartos_add_ktest(SUITE boot     SMP 1 2 4)
# The smallest and largest memory the kernel is meant for: the device tree decides.
hartos_add_ktest(SUITE boot SMP 2 MEM 64M NAME boot_64M)
hartos_add_ktest(SUITE boot SMP 2 MEM 2G NAME boot_2G)
hartos_add_ktest(SUITE lib      SMP 1 2 4)
hartos_add_ktest(SUITE spinlock SMP 1 2 4 8)
hartos_add_ktest(SUITE sched    SMP 1 2 4 8)

# A test that never ends (tests/test_sched.c): the in-kernel watchdog must fail it after
# ktest.timeout= seconds and list what every hart runs, long before the host timeout.
hartos_add_ktest(SUITE hang_watchdog SMP 2 APPEND "ktest.timeout=2" TIMEOUT 30)
set_tests_properties(hang_watchdog@smp2 PROPERTIES PASS_REGULAR_EXPRESSION
  "watchdog: hang_watchdog.spins_forever still running after 2 s.*cpu 0 \\(hart [0-9]+\\): ktest")

# Kernel invariants that must panic (tests/test_panic.c): each suite runs only when named,
# and passes only if QEMU stops with a non-zero status after a `panic:` line matching
# the pattern (a CMake string: no semicolons in it).
# The first two are checks of Debug builds only (LOCK_CHECKS, kernel/spinlock.h).
if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  hartos_add_ktest(SUITE panic_spinlock_recursive SMP 1 EXPECT_PANIC "acquire: lock .* already held")
  hartos_add_ktest(SUITE panic_spinlock_release   SMP 1 EXPECT_PANIC "release: lock .* not held")
endif()
hartos_add_ktest(SUITE panic_exception          SMP 1 EXPECT_PANIC "load access fault")
hartos_add_ktest(SUITE panic_other_hart         SMP 2 EXPECT_PANIC "deliberate panic on cpu 1")
hartos_add_ktest(SUITE panic_sleeplock_release  SMP 2 EXPECT_PANIC "releasesleep: .* does not hold it")

# The sanitizer build (-DHARTOS_UBSAN=ON, which CI also runs) reports undefined
# behaviour with kind, place and values, then panics (kernel/ubsan.c).
if(HARTOS_UBSAN)
  hartos_add_ktest(SUITE panic_ubsan SMP 1
                   EXPECT_PANIC "ubsan: signed integer overflow at .*tests/test_ubsan.c:[0-9]+")
endif()

# Lock order and stuck locks (tests/test_lockcheck.c, kernel/lockorder.h).
hartos_add_ktest(SUITE lockorder SMP 1 4)
if(CMAKE_BUILD_TYPE STREQUAL "Debug") # the order is checked in Debug builds only
  hartos_add_ktest(SUITE panic_lock_order_bcache SMP 1
                   EXPECT_PANIC "lock order: cpu 0 takes 'test.evict' .class bcache.evict. while holding 'test.bucket' .class bcache.bucket.")
  hartos_add_ktest(SUITE panic_lock_order_pmem SMP 1
                   EXPECT_PANIC "lock order: cpu 0 takes 'test.pmem.b' .class pmem. while holding 'test.pmem.a'")
endif()
hartos_add_ktest(SUITE panic_stuck_lock SMP 2 APPEND "lock.stuck_ms=300"
                 EXPECT_PANIC "stuck lock 'test.stuck': cpu 0 spun [0-9]+ ms .called from 0x[0-9a-f]+.. held by cpu 1 .hart [0-9]+., taken at 0x[0-9a-f]+")

# ---- Disk: drivers/virtio_blk.c (tests/test_virtio.c) ----
# The test disk: 4 MiB of 1 KiB blocks from tools/mkdisk.py, each holding its number, a
# CRC-32 and a known pattern. It is made at build time; every boot gets a fresh copy.
set(HARTOS_DISK ${CMAKE_BINARY_DIR}/disk.img)
add_custom_command(OUTPUT ${HARTOS_DISK}
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/mkdisk.py -o ${HARTOS_DISK} --size 4M
  DEPENDS ${CMAKE_SOURCE_DIR}/tools/mkdisk.py
  COMMENT "Making the test disk image disk.img (tools/mkdisk.py)")
add_custom_target(disk_image ALL DEPENDS ${HARTOS_DISK})
# `ninja test` alone builds nothing: like the `build` test, this one makes the image
# first for every test that boots with it (fixture hartos_disk).
add_test(NAME disk_image COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target disk_image)
set_tests_properties(disk_image PROPERTIES FIXTURES_SETUP hartos_disk LABELS host)

# hartos_disk_test(<test> [WRITES]): <test> boots with DISK; afterwards <test>.checkdisk
# runs tools/checkdisk.py on the copy it left in build/logs: blocks the log announced
# (DISKWRITE lines) hold what was written, every other block its original pattern.
# WRITES: the run must have announced at least one written block.
function(hartos_disk_test test)
  set(writes)
  if(ARGV1 STREQUAL "WRITES")
    set(writes --expect-writes)
  endif()
  set_tests_properties(${test} PROPERTIES FIXTURES_REQUIRED "hartos_elf;hartos_disk"
    FIXTURES_SETUP ${test}.ran)
  add_test(NAME ${test}.checkdisk COMMAND ${Python3_EXECUTABLE}
    ${CMAKE_SOURCE_DIR}/tools/checkdisk.py --image ${HARTOS_LOG_DIR}/${test}.disk.img
    --log ${HARTOS_LOG_DIR}/${test}.log ${writes})
  set_tests_properties(${test}.checkdisk PROPERTIES FIXTURES_REQUIRED ${test}.ran
    LABELS "host;disk" TIMEOUT 60)
endfunction()

# A second disk for readonly_disk_refuses_writes: the pristine image, read-only, on bus 1.
set(HARTOS_RO_DISK "-drive file=${HARTOS_DISK},if=none,format=raw,id=ro0,readonly=on -device virtio-blk-device,drive=ro0,bus=virtio-mmio-bus.1")
hartos_add_ktest(SUITE virtio SMP 1 2 4 8 DISK ${HARTOS_DISK} QEMU_EXTRA ${HARTOS_RO_DISK})
hartos_add_ktest(SUITE virtio SMP 1 2 4 DISK ${HARTOS_DISK} DISK_LEGACY NAME virtio_legacy
                 QEMU_EXTRA ${HARTOS_RO_DISK})
foreach(smp 1 2 4)
  hartos_disk_test(virtio@smp${smp} WRITES)
  hartos_disk_test(virtio_legacy@smp${smp} WRITES)
endforeach()
hartos_disk_test(virtio@smp8 WRITES)
# No disk attached: every disk test must report itself skipped.
hartos_add_ktest(SUITE virtio SMP 2 NAME virtio_nodisk)
# QEMU's blkdebug fails every read of block 100; nothing may be written.
hartos_add_ktest(SUITE fault_virtio SMP 1 4 DISK ${HARTOS_DISK}
                 BLKDEBUG ${CMAKE_SOURCE_DIR}/tests/virtio_fault.blkdebug)
hartos_add_ktest(SUITE fault_virtio SMP 2 DISK ${HARTOS_DISK} DISK_LEGACY NAME fault_virtio_legacy
                 BLKDEBUG ${CMAKE_SOURCE_DIR}/tests/virtio_fault.blkdebug)
foreach(test fault_virtio@smp1 fault_virtio@smp4 fault_virtio_legacy)
  hartos_disk_test(${test})
endforeach()

# ---- Page allocator: mm/pmem.c (tests/test_pmem.c) ----
hartos_add_ktest(SUITE pmem SMP 1 2 3 4 8)
# A double free (second free on another hart) and the free of a page pmem does not manage.
hartos_add_ktest(SUITE panic_pmem_double_free SMP 2 EXPECT_PANIC "pmem_free: double free of page")
hartos_add_ktest(SUITE panic_pmem_foreign     SMP 2 EXPECT_PANIC "pmem_free: .* is not a page pmem manages")
# With poisoning (Debug), a page taken from a list is checked: untouched since its free,
# and a page pmem manages (a use after free can overwrite a free page's link).
if(HARTOS_POISON)
  hartos_add_ktest(SUITE panic_pmem_use_after_free SMP 1
                   EXPECT_PANIC "pmem_alloc: page .* was written after it was freed .offset 24 holds 0x2a.")
  hartos_add_ktest(SUITE panic_pmem_list_corrupted SMP 1
                   EXPECT_PANIC "pmem_alloc: a free list is corrupted: page .* is not a managed page")
endif()

# ---- Buffer cache: fs/bufcache.c (tests/test_bufcache.c) ----
# Stress on every hart over the test disk; the writers' blocks are checked after the run.
hartos_add_ktest(SUITE bufcache SMP 1 2 3 4 8 DISK ${HARTOS_DISK} TIMEOUT 120)
hartos_add_ktest(SUITE bufcache SMP 2 DISK ${HARTOS_DISK} DISK_LEGACY NAME bufcache_legacy
                 TIMEOUT 120)
foreach(test bufcache@smp1 bufcache@smp2 bufcache@smp3 bufcache@smp4 bufcache@smp8 bufcache_legacy)
  hartos_disk_test(${test} WRITES)
endforeach()
hartos_add_ktest(SUITE bufcache SMP 2 NAME bufcache_nodisk)
# blkdebug fails the first read of block 3584 and the first write of block 3585 (once each):
# the error must reach bread's/bwrite's caller, and the retry must go to the disk.
hartos_add_ktest(SUITE fault_bufcache SMP 1 4 DISK ${HARTOS_DISK}
                 BLKDEBUG ${CMAKE_SOURCE_DIR}/tests/bufcache_fault.blkdebug)
foreach(smp 1 4)
  hartos_disk_test(fault_bufcache@smp${smp} WRITES)
endforeach()

# ---- The monitor: kernel/monitor*.c, typed at over a pseudo-terminal (tools/monitor_test.py) ----
# Boots with no ktest= (so the monitor starts) and a fresh copy of the test disk, runs
# every command like a user would and ends with `poweroff`, which must exit QEMU with 0.
foreach(smp 1 4)
  add_test(NAME monitor@smp${smp}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/monitor_test.py
      --qemu ${HARTOS_QEMU} --bios ${HARTOS_BIOS} --kernel $<TARGET_FILE:hartos.elf>
      --smp ${smp} --disk ${HARTOS_DISK} --timeout 180
      --log ${HARTOS_LOG_DIR}/monitor@smp${smp}.log)
  set_tests_properties(monitor@smp${smp} PROPERTIES FIXTURES_REQUIRED "hartos_elf;hartos_disk"
    LABELS "host;monitor" TIMEOUT 210)
endforeach()

# ---- Many harts: label `big`, left out of `ninja test` (see CMAKE_CTEST_ARGUMENTS in
# cmake/HartosTesting.cmake) because 64 harts of TCG on a small host take minutes;
# `cd build && ctest -L big --output-on-failure` runs them (CI does). ----
foreach(smp 16 64)
  # A test may take minutes at 64 harts: ktest.timeout raises the in-kernel watchdog's limit.
  # With 64 harts on a 2-core host one hart can lose a test-and-set lock to the others for
  # more than the stuck-lock report's default 10 s without anything being stuck.
  # 256 MiB: pmem's tests want 512 pages per hart besides the 384 KiB trace ring each.
  hartos_add_ktest(SUITE boot,spinlock,sched,pmem SMP ${smp} NAME many_harts@smp${smp} MEM 256M
                   APPEND "ktest.timeout=300 lock.stuck_ms=120000" TIMEOUT 900)
  hartos_add_ktest(SUITE virtio,bufcache SMP ${smp} DISK ${HARTOS_DISK} NAME many_harts_disk@smp${smp}
                   QEMU_EXTRA ${HARTOS_RO_DISK} APPEND "ktest.timeout=300 lock.stuck_ms=120000" TIMEOUT 900)
  hartos_disk_test(many_harts_disk@smp${smp} WRITES)
  # The monitor at this many harts: `stress pmem` and `stress bufcache` run on every
  # hart, without an error (tools/monitor_session.py types the commands).
  add_test(NAME monitor_stress@smp${smp}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/monitor_session.py
      --qemu ${HARTOS_QEMU} --bios ${HARTOS_BIOS} --kernel $<TARGET_FILE:hartos.elf>
      --smp ${smp} --disk ${HARTOS_DISK} --log ${HARTOS_LOG_DIR}/monitor_stress@smp${smp}.log
      --expect "^${smp} of ${smp} harts online"
      --expect "stress pmem on ${smp} hart.s. for 5 s"
      --expect "stress: done after 5 s, 0 errors"
      --expect "stress bufcache on ${smp} hart.s. for 3 s"
      --expect "stress: done after 3 s, 0 errors"
      harts "stress pmem 5" "stress bufcache 3")
  set_tests_properties(monitor_stress@smp${smp} PROPERTIES
    FIXTURES_REQUIRED "hartos_elf;hartos_disk" TIMEOUT 600)
  foreach(test many_harts@smp${smp} many_harts_disk@smp${smp} many_harts_disk@smp${smp}.checkdisk
               monitor_stress@smp${smp})
    set_property(TEST ${test} APPEND PROPERTY LABELS big)
  endforeach()
endforeach()
