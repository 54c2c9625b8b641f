# Description: the hartos tests, run by CTest (`ninja -C build test`, or `ctest` in build/).
#
#   hartos_add_ktest(SUITE <suites> SMP <n...> [MEM <size>] [TIMEOUT <s>] [DISK <img>]
#                    [DISK_LEGACY] [BLKDEBUG <rules>] [APPEND <kernel args>]
#                    [EXPECT_PANIC <regex>] [QEMU_EXTRA <args>] [NAME <name>])
# registers one boot per hart count, named <suites>@smp<N> (or NAME, NAME@smp<N> when
# several hart counts are given). Each boot runs tools/ktest_runner.py with
# `ktest=<suites>` on the kernel command line and keeps its console in build/logs/<name>.log.
# DISK attaches a fresh copy of the image (build/logs/<name>.disk.img, kept for host-side
# checks after the run); BLKDEBUG puts QEMU's error-injection driver under it.
# The registrations themselves live in tests/ktests.cmake.
#
# CMake's built-in `test` target does not build anything, so the first test, `build`,
# builds hartos.elf, and every test that boots the kernel requires it (a CTest fixture):
# `ninja test` and `ctest -R boot` both test the kernel as it is in the source tree.

enable_testing()

# Options the `test` target gives ctest: show the runner's report of a failing test, run
# as many boots in parallel as the machine has cores, and leave out the slow `big` label
# (16 and 64 harts, tests/ktests.cmake), which `ctest -L big` runs.
cmake_host_system_information(RESULT hartos_ncores QUERY NUMBER_OF_LOGICAL_CORES)
if(NOT hartos_ncores GREATER 0)
  set(hartos_ncores 2)
endif()
set(CMAKE_CTEST_ARGUMENTS --output-on-failure -j${hartos_ncores} -LE big)

set(HARTOS_LOG_DIR ${CMAKE_BINARY_DIR}/logs)
set(HARTOS_KTEST_TIMEOUT 60 CACHE STRING "default seconds before a test boot is killed")

add_test(NAME build
  COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target hartos.elf)
set_tests_properties(build PROPERTIES FIXTURES_SETUP hartos_elf LABELS host)

function(hartos_add_ktest)
  cmake_parse_arguments(KT "DISK_LEGACY"
    "SUITE;MEM;TIMEOUT;DISK;BLKDEBUG;APPEND;EXPECT_PANIC;QEMU_EXTRA;NAME" "SMP" ${ARGN})
  if(NOT KT_SUITE OR NOT KT_SMP)
    message(FATAL_ERROR "hartos_add_ktest: SUITE and SMP are required")
  endif()
  if(KT_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "hartos_add_ktest(${KT_SUITE}): unknown arguments ${KT_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT KT_MEM)
    set(KT_MEM 128M)
  endif()
  if(NOT KT_TIMEOUT)
    set(KT_TIMEOUT ${HARTOS_KTEST_TIMEOUT})
  endif()
  list(LENGTH KT_SMP nsmp)
  string(STRIP "ktest=${KT_SUITE} ${KT_APPEND}" append)

  foreach(smp IN LISTS KT_SMP)
    if(KT_NAME AND nsmp EQUAL 1)
      set(name ${KT_NAME})
    elseif(KT_NAME)
      set(name ${KT_NAME}@smp${smp})
    else()
      set(name ${KT_SUITE}@smp${smp})
    endif()
    set(cmd ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/ktest_runner.py
      --qemu ${HARTOS_QEMU} --bios ${HARTOS_BIOS} --kernel $<TARGET_FILE:hartos.elf>
      --smp ${smp} --mem ${KT_MEM} --timeout ${KT_TIMEOUT}
      --append "${append}"
      --log ${HARTOS_LOG_DIR}/${name}.log --name ${name})
    if(KT_DISK)
      list(APPEND cmd --disk ${KT_DISK})
    endif()
    if(KT_BLKDEBUG)
      list(APPEND cmd --blkdebug ${KT_BLKDEBUG})
    endif()
    if(KT_DISK_LEGACY)
      list(APPEND cmd --disk-legacy)
    endif()
    if(KT_EXPECT_PANIC)
      list(APPEND cmd --expect-panic ${KT_EXPECT_PANIC})
    endif()
    if(KT_QEMU_EXTRA)
      list(APPEND cmd --extra-qemu ${KT_QEMU_EXTRA})
    endif()
    add_test(NAME ${name} COMMAND ${cmd})
    # CTest's own timeout is a backstop: the runner stops QEMU first and says why.
    math(EXPR ctest_timeout "${KT_TIMEOUT} + 30")
    set_tests_properties(${name} PROPERTIES FIXTURES_REQUIRED hartos_elf
      TIMEOUT ${ctest_timeout} LABELS "ktest;${KT_SUITE}")
  endforeach()
endfunction()

# Host-side tests that need no kernel: the runner's KTAP parser on fake consoles.
add_test(NAME ktest_parser
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/test_ktest_runner.py)
set_tests_properties(ktest_parser PROPERTIES LABELS host TIMEOUT 60)

# gdb can attach, stop on the boot hart and on a secondary hart, and sees every hart.
add_test(NAME gdb_attach
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/gdb_test.py
    --qemu ${HARTOS_QEMU} --bios ${HARTOS_BIOS} --gdb ${HARTOS_GDB}
    --kernel $<TARGET_FILE:hartos.elf> --smp 4 --timeout 60
    --log ${HARTOS_LOG_DIR}/gdb_attach.log)
set_tests_properties(gdb_attach PROPERTIES FIXTURES_REQUIRED hartos_elf LABELS host
  TIMEOUT 90)

include(${CMAKE_SOURCE_DIR}/tests/ktests.cmake)

# Every file and function the docs name still exists (tools/check_docs.py).
add_test(NAME docs_check
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/check_docs.py --root ${CMAKE_SOURCE_DIR})
set_tests_properties(docs_check PROPERTIES LABELS host TIMEOUT 30)

# Every transcript and code excerpt in docs/ and README.md still matches the tree
# (tools/docs_transcripts.py): each fenced block's marker names the command, monitor
# session, gdb session or source file it comes from; QEMU runs are cached per build in
# build/docs-cache. `ninja docs-update` rewrites drifted blocks in place.
# The drift check's own rules, on made-up pages (no QEMU).
add_test(NAME docs_selftest
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/test_docs_transcripts.py)
set_tests_properties(docs_selftest PROPERTIES LABELS host TIMEOUT 30)
# In a generated lab starter (no tools/mklab.py) the pages still show the finished
# kernel's output, which a student's kernel matches only once the lab is done: there the
# check is left out (`ninja docs-update` is still there to compare by hand). The pages
# show the default build (Debug, poisoning and trace hooks on, no UBSan, NCPU 64): a
# build configured otherwise prints other disassembly and backtraces, so it skips the check.
if(CMAKE_BUILD_TYPE STREQUAL "Debug" AND HARTOS_POISON AND HARTOS_TRACE AND NOT HARTOS_UBSAN
   AND NCPU EQUAL 64 AND HARTOS_EXTRA_SOURCES STREQUAL "")
  set(hartos_docs_build ON)
else()
  set(hartos_docs_build OFF)
  message(STATUS "hartos: not the docs' default build, so ctest has no docs_transcripts test")
endif()
if(EXISTS ${CMAKE_SOURCE_DIR}/tools/mklab.py AND hartos_docs_build)
  add_test(NAME docs_transcripts
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/docs_transcripts.py
      --root ${CMAKE_SOURCE_DIR} --build ${CMAKE_BINARY_DIR} --jobs ${hartos_ncores})
  # The pages run `ctest -R '^boot@'` themselves: after those tests, never beside them.
  set_tests_properties(docs_transcripts PROPERTIES FIXTURES_REQUIRED "hartos_elf;hartos_disk"
    DEPENDS "boot@smp1;boot@smp2;boot@smp4" LABELS host TIMEOUT 300)
endif()
# `ninja docs-bench` runs `ninja bench` and saves what it printed in docs/results/bench.txt,
# where the chapters' bench tables come from (<!-- saved: ... --> blocks). `docs-update`
# runs it first, so one command brings every page in line with the tree.
add_custom_target(docs-bench
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/docs_transcripts.py
    --root ${CMAKE_SOURCE_DIR} --build ${CMAKE_BINARY_DIR} --keep-going --save docs/results/bench.txt
    --shown "ninja -C build bench" -- ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target bench
  USES_TERMINAL
  COMMENT "Running the benchmarks and saving their tables for the docs")
# `ninja docs-soak`: a short soak (2 boots at 1 and 2 harts), saved for chapter 8.
add_custom_target(docs-soak
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/docs_transcripts.py
    --root ${CMAKE_SOURCE_DIR} --build ${CMAKE_BINARY_DIR} --keep-going --save docs/results/soak.txt
    --shown "python3 tools/soak.py --build build --runs 2 --smp 1,2"
    -- ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/soak.py --build ${CMAKE_BINARY_DIR}
       --runs 2 --smp 1,2
  DEPENDS hartos.elf disk_image
  USES_TERMINAL
  COMMENT "A short soak run, saved for the docs")
# `ninja docs-grade`: the starter's grade, shown in the lab handout. Generates the starter
# (tools/mklab.py), builds it in its own tree and runs its grader, as a student would.
# The starter is meant to lose points, so the grader's exit status is not an error here;
# a starter that fails to build is.
if(EXISTS ${CMAKE_SOURCE_DIR}/tools/mklab.py)
  set(hartos_starter ${CMAKE_BINARY_DIR}/docs-starter)
  add_custom_target(docs-grade
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/docs_transcripts.py
      --root ${CMAKE_SOURCE_DIR} --build ${CMAKE_BINARY_DIR} --keep-going --save docs/results/grade-starter.txt
      --shown "ninja -C build grade, in the starter tree" --
      sh -c "${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/mklab.py --out ${hartos_starter} >/dev/null && ${CMAKE_COMMAND} -S ${hartos_starter} -B ${hartos_starter}/build -G Ninja -DHARTOS_QEMU=${HARTOS_QEMU} -DHARTOS_BIOS=${HARTOS_BIOS} -DPython3_EXECUTABLE=${Python3_EXECUTABLE} >/dev/null && ${CMAKE_COMMAND} --build ${hartos_starter}/build --target hartos.elf disk_image >/dev/null && { ${Python3_EXECUTABLE} ${hartos_starter}/tools/grade.py --qemu ${HARTOS_QEMU} --bios ${HARTOS_BIOS} --kernel ${hartos_starter}/build/hartos.elf --disk ${hartos_starter}/build/disk.img --logs ${hartos_starter}/build/grade || true; }"
    USES_TERMINAL VERBATIM
    COMMENT "Grading a freshly generated starter, saved for the lab handout")
  set(hartos_docs_grade COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target docs-grade)
else()
  set(hartos_docs_grade "")
endif()
add_custom_target(docs-update
  COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target docs-bench
  COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target docs-soak
  ${hartos_docs_grade}
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/docs_transcripts.py
    --root ${CMAKE_SOURCE_DIR} --build ${CMAKE_BINARY_DIR} --jobs ${hartos_ncores} --update -v
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/check_docs.py --root ${CMAKE_SOURCE_DIR}
  DEPENDS hartos.elf disk_image
  USES_TERMINAL
  COMMENT "Rewriting the docs' transcripts from real runs of the current tree")

# Bad input from outside (kernel command line values, device tree oddities): one clear
# line each and no crash (tools/badinput_test.py).
add_test(NAME bad_input
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/badinput_test.py
    --qemu ${HARTOS_QEMU} --bios ${HARTOS_BIOS} --kernel $<TARGET_FILE:hartos.elf>
    --dtc ${HARTOS_DTC} --ncpu ${NCPU} --log ${HARTOS_LOG_DIR}/bad_input)
set_tests_properties(bad_input PROPERTIES FIXTURES_REQUIRED hartos_elf LABELS host TIMEOUT 300)

# `ninja soak`: the whole suite HARTOS_SOAK_RUNS times at 1, 2, 3 and 4 harts with random
# stress seeds (tools/soak.py); failing logs stay in build/soak/ with their seed.
set(HARTOS_SOAK_RUNS 20 CACHE STRING "boots per hart count in `ninja soak`")
add_custom_target(soak
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/soak.py --build ${CMAKE_BINARY_DIR}
          --runs ${HARTOS_SOAK_RUNS} --smp 1,2,3,4
  DEPENDS hartos.elf disk_image
  USES_TERMINAL
  COMMENT "Soak: the whole suite many times with random seeds")

# The gdb commands of tools/gdb/hartos.py, on a live kernel (tools/gdb_commands_test.py).
# gdb_commands: stops in the middle of the pmem stress and again in hang_watchdog, and checks
# every command against the console and against plain gdb expressions. gdb_deadlock(_spin):
# stops in the ABBA deadlocks of tests/test_deadlock.c (suites hang_deadlock*, which only run
# when named) and checks that hartos-locks and hartos-bt show the cycle.
function(hartos_gdb_test scenario name)
  foreach(smp IN LISTS ARGN)
    add_test(NAME ${name}@smp${smp}
      COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/gdb_commands_test.py
        --qemu ${HARTOS_QEMU} --bios ${HARTOS_BIOS} --gdb ${HARTOS_GDB}
        --kernel $<TARGET_FILE:hartos.elf> --gdbinit ${CMAKE_BINARY_DIR}/gdbinit
        --source ${CMAKE_SOURCE_DIR}/tests/test_deadlock.c --scenario ${scenario}
        --smp ${smp} --timeout 150 --log ${HARTOS_LOG_DIR}/${name}@smp${smp}.log
        --name ${name}@smp${smp})
    set_tests_properties(${name}@smp${smp} PROPERTIES FIXTURES_REQUIRED hartos_elf
      LABELS "host;gdb" TIMEOUT 180)
  endforeach()
endfunction()
hartos_gdb_test(stress gdb_commands 1 3 4)
hartos_gdb_test(deadlock gdb_deadlock 1 4)
if(CMAKE_BUILD_TYPE STREQUAL "Debug") # where a spinlock was taken: recorded in Debug only
  hartos_gdb_test(deadlock_spin gdb_deadlock_spin 2)
endif()
# Without gdb, the ktest watchdog must catch the sleeplock deadlock and list both threads asleep.
hartos_add_ktest(SUITE hang_deadlock SMP 2 APPEND "ktest.timeout=2" TIMEOUT 30)
set_tests_properties(hang_deadlock@smp2 PROPERTIES PASS_REGULAR_EXPRESSION
  "watchdog: hang_deadlock.abba_with_sleeplocks still running after 2 s.*deadlock_a +sleeping.*deadlock_b +sleeping")
