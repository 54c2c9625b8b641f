# Description: `ninja bench`: the benchmarks, run on a kernel built for measuring.
#
# The kernel of this build tree may poison pages (Debug, HARTOS_POISON=ON), which costs
# thousands of instructions per page; the figures would measure memset. So `bench`
# configures and builds a second kernel in ${CMAKE_BINARY_DIR}/bench/kernel (Release,
# HARTOS_POISON=OFF, no lock trace hooks (HARTOS_TRACE=OFF), same NCPU and sources),
# then tools/bench.py boots it at 1, 2
# and 4 harts (`bench=pmem`) and once under -icount (`bench=pmem_instr`), prints Markdown tables
# and writes CSV files, a PNG plot (gnuplot) and the console logs to ${CMAKE_BINARY_DIR}/bench.
# When tests/ktests.cmake defines the test disk (target disk_image), the disk benchmarks
# (`bench=bufcache,virtio`) run too, on a copy of it; a benchmark with a reporter of its
# own (tools/bench_<name>.py, e.g. bufcache) gets its rows, the others print as they are.
# A third kernel in ${CMAKE_BINARY_DIR}/bench/kernel-debug (Debug, the same options otherwise)
# gives the instruction counts of a Debug build, printed beside the Release ones.
# Nothing here is part of `ninja test`: timings are reported, never asserted.
#
# Cache variables: HARTOS_GNUPLOT (found here), HARTOS_BENCH_SMP (hart counts, "1,2,4").

find_program(HARTOS_GNUPLOT gnuplot)
if(NOT HARTOS_GNUPLOT)
  message(STATUS "hartos: gnuplot not found: `ninja bench` will skip its plot "
                 "(apt-get install gnuplot-nox)")
endif()
set(HARTOS_BENCH_SMP "1,2,4" CACHE STRING "hart counts `ninja bench` boots, comma-separated")

set(hartos_bench_dir ${CMAKE_BINARY_DIR}/bench)
set(hartos_bench_kernel_dir ${hartos_bench_dir}/kernel)
set(hartos_bench_debug_dir ${hartos_bench_dir}/kernel-debug)
if(HARTOS_GNUPLOT)
  set(hartos_gnuplot_arg ${HARTOS_GNUPLOT})
else()
  set(hartos_gnuplot_arg "")
endif()
set(hartos_bench_disk "")
if(TARGET disk_image AND HARTOS_DISK)
  set(hartos_bench_disk ${HARTOS_DISK})
endif()

# What both measured kernels are configured with; each adds its build type.
set(hartos_bench_options -G ${CMAKE_GENERATOR} -DCMAKE_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
    -DHARTOS_POISON=OFF -DHARTOS_TRACE=OFF -DNCPU=${NCPU}
    -DHARTOS_QEMU=${HARTOS_QEMU} -DHARTOS_BIOS=${HARTOS_BIOS}
    -DPython3_EXECUTABLE=${Python3_EXECUTABLE})

add_custom_target(bench
  COMMAND ${CMAKE_COMMAND} -S ${CMAKE_SOURCE_DIR} -B ${hartos_bench_kernel_dir}
          -DCMAKE_BUILD_TYPE=Release ${hartos_bench_options}
  COMMAND ${CMAKE_COMMAND} --build ${hartos_bench_kernel_dir} --target hartos.elf
  COMMAND ${CMAKE_COMMAND} -S ${CMAKE_SOURCE_DIR} -B ${hartos_bench_debug_dir}
          -DCMAKE_BUILD_TYPE=Debug ${hartos_bench_options}
  COMMAND ${CMAKE_COMMAND} --build ${hartos_bench_debug_dir} --target hartos.elf
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/bench.py
          --qemu ${HARTOS_QEMU} --bios ${HARTOS_BIOS}
          --kernel ${hartos_bench_kernel_dir}/hartos.elf
          --debug-kernel ${hartos_bench_debug_dir}/hartos.elf
          --smp ${HARTOS_BENCH_SMP} --out ${hartos_bench_dir}
          --gnuplot "${hartos_gnuplot_arg}" --disk "${hartos_bench_disk}"
  USES_TERMINAL VERBATIM
  COMMENT "Benchmarks: Release kernel without poisoning in ${hartos_bench_kernel_dir}, then tools/bench.py")
if(hartos_bench_disk)
  add_dependencies(bench disk_image)
endif()
