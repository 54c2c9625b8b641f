# Description: lock-event tracing (kernel/trace.c, tools/trace.py, docs/10-tracing.md).
#
#   ninja trace-pmem       pmem at 4 harts: the single-lock baseline and the per-CPU lists
#   ninja trace-bufcache   the buffer cache at 4 harts: single lock and hash buckets
# Each boots a kernel built for measuring (Release, no poisoning, bigger trace rings) in
# ${CMAKE_BINARY_DIR}/trace/kernel with bench=pmem_trace or bench=bufcache_trace, and
# tools/trace.py writes one Chrome trace-event JSON file (open it in ui.perfetto.dev)
# and one PNG timeline per run, plus the two side by side (pmem.png, bufcache.png), into
# ${CMAKE_BINARY_DIR}/trace. trace-pmem also prints what tracing costs per lock
# acquire+release pair, off and on (one hart, -icount shift=0).
#
# Tests: trace@smp2 boots the `trace` suite with trace=1; trace@smp2.check then checks
# its dump and the JSON made from it (tools/trace.py check); trace_cost runs the suite on
# one hart under -icount, where its cost line (in build/logs/trace_cost.log) is exact;
# trace_tool runs the checker on made-up broken dumps.
#
# HARTOS_TRACE (on by default) compiles the lock hooks into acquire() and release()
# (kernel/trace.h trace_lock); the `ninja bench` kernel is built without them, so its
# lock fast path pays nothing for tracing; the trace-* kernel is built with them.
#
# Cache variables: HARTOS_TRACE_EVENTS (events per hart ring in this build's kernel),
# HARTOS_TRACE_BENCH_EVENTS (the same for the trace-* kernel).

set(HARTOS_TRACE_EVENTS 16384 CACHE STRING "events in each hart's trace ring (a power of two)")
set(HARTOS_TRACE_BENCH_EVENTS 32768 CACHE STRING "events per hart ring in the trace-* kernel")
target_compile_definitions(hartos.elf PRIVATE TRACE_RING_EVENTS=${HARTOS_TRACE_EVENTS}
  $<$<BOOL:${HARTOS_TRACE}>:HARTOS_TRACE=1>)
if(NOT HARTOS_TRACE)
  message(STATUS "hartos: HARTOS_TRACE=OFF: no lock trace hooks, so no trace tests or trace-* targets")
  return()
endif()

# --- Tests.
hartos_add_ktest(SUITE trace SMP 2 APPEND "trace=1")
set_tests_properties(trace@smp2 PROPERTIES FIXTURES_SETUP trace@smp2.ran)
add_test(NAME trace@smp2.check
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/trace.py check
          ${HARTOS_LOG_DIR}/trace@smp2.log.trace --harts 2 --out ${HARTOS_LOG_DIR})
set_tests_properties(trace@smp2.check PROPERTIES FIXTURES_REQUIRED trace@smp2.ran
  LABELS "host;trace" TIMEOUT 60)
hartos_add_ktest(SUITE trace SMP 1 NAME trace_cost QEMU_EXTRA "-icount shift=0")
# The checker itself, on made-up dumps: each broken one must be caught.
add_test(NAME trace_tool COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/trace.py selftest)
set_tests_properties(trace_tool PROPERTIES LABELS "host;trace" TIMEOUT 60)

# --- ninja trace-pmem / trace-bufcache.
set(hartos_trace_dir ${CMAKE_BINARY_DIR}/trace)
set(hartos_trace_kernel_dir ${hartos_trace_dir}/kernel)
set(hartos_trace_gnuplot "")
if(HARTOS_GNUPLOT) # found by cmake/HartosBench.cmake
  set(hartos_trace_gnuplot ${HARTOS_GNUPLOT})
endif()
add_custom_target(trace-kernel
  COMMAND ${CMAKE_COMMAND} -S ${CMAKE_SOURCE_DIR} -B ${hartos_trace_kernel_dir}
          -G ${CMAKE_GENERATOR} -DCMAKE_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
          -DCMAKE_BUILD_TYPE=Release -DHARTOS_POISON=OFF -DNCPU=${NCPU}
          -DHARTOS_TRACE_EVENTS=${HARTOS_TRACE_BENCH_EVENTS} -DHARTOS_TRACE=ON
          -DHARTOS_QEMU=${HARTOS_QEMU} -DHARTOS_BIOS=${HARTOS_BIOS}
          -DPython3_EXECUTABLE=${Python3_EXECUTABLE}
  COMMAND ${CMAKE_COMMAND} --build ${hartos_trace_kernel_dir} --target hartos.elf
  USES_TERMINAL VERBATIM
  COMMENT "Trace kernel: Release, no poisoning, ${HARTOS_TRACE_BENCH_EVENTS}-event rings")

set(hartos_trace_run ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/trace.py run
  --qemu ${HARTOS_QEMU} --bios ${HARTOS_BIOS} --kernel ${hartos_trace_kernel_dir}/hartos.elf
  --symbols ${hartos_trace_kernel_dir}/hartos.sym --smp 4 --out ${hartos_trace_dir}
  --gnuplot "${hartos_trace_gnuplot}")
add_custom_target(trace-pmem
  COMMAND ${hartos_trace_run} --bench pmem_trace --compare pmem=pmem-baseline,pmem-percpu --cost
  USES_TERMINAL VERBATIM
  COMMENT "Tracing pmem at 4 harts: JSON and PNG in ${hartos_trace_dir}")
add_dependencies(trace-pmem trace-kernel)
add_custom_target(trace-bufcache
  COMMAND ${hartos_trace_run} --bench bufcache_trace --disk ${HARTOS_DISK}
          --compare bufcache=bufcache-single-lock,bufcache-bucketed
          --compare bufcache-miss=bufcache-single-lock-miss,bufcache-bucketed-miss
  USES_TERMINAL VERBATIM
  COMMENT "Tracing the buffer cache at 4 harts: JSON and PNG in ${hartos_trace_dir}")
add_dependencies(trace-bufcache trace-kernel disk_image)
