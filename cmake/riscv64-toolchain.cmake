# Description: CMake toolchain file for the freestanding riscv64 kernel build.
# Debian's gcc-riscv64-linux-gnu is a Linux-targeting compiler; with -ffreestanding
# and -nostdlib it builds bare-metal code just as well, and it is one apt-get away.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv64)

set(HARTOS_CROSS_PREFIX "riscv64-linux-gnu-" CACHE STRING "prefix of the cross toolchain")
find_program(HARTOS_CROSS_GCC ${HARTOS_CROSS_PREFIX}gcc)
if(NOT HARTOS_CROSS_GCC)
  message(FATAL_ERROR "hartos: ${HARTOS_CROSS_PREFIX}gcc not found. "
                      "Install it with: apt-get install gcc-riscv64-linux-gnu (or run tools/setup.sh)")
endif()
set(CMAKE_C_COMPILER ${HARTOS_CROSS_GCC})
set(CMAKE_ASM_COMPILER ${HARTOS_CROSS_GCC})
set(CMAKE_OBJDUMP ${HARTOS_CROSS_PREFIX}objdump)
set(CMAKE_NM ${HARTOS_CROSS_PREFIX}nm)

# There is no C library to link a test program against.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
