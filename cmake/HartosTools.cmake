# Description: find the host tools the hartos targets and tests run: QEMU, the OpenSBI
# firmware, gdb-multiarch, dtc and python3. A missing tool stops the configure step with the
# Debian package that provides it (tools/setup.sh installs them all).
#
# Cache variables (cmake -D NAME=VALUE, or ccmake):
#   HARTOS_QEMU, HARTOS_GDB   the programs found
#   HARTOS_BIOS               QEMU -bios: Debian's OpenSBI fw_jump.bin, or `default`
#                             (the OpenSBI build that ships with QEMU)
#   HARTOS_SMP, HARTOS_MEM    harts and memory for `ninja run` / `ninja qemu-gdb`
#   HARTOS_QEMU_EXTRA         more QEMU arguments for run / qemu-gdb (e.g. "-d int")
#   KERNEL_ARGS               kernel command line for run / qemu-gdb (e.g. "ktest=all")

function(hartos_require_program var program package)
  find_program(${var} ${program})
  if(NOT ${var})
    message(FATAL_ERROR "hartos: ${program} not found. Install it with: "
                        "apt-get install ${package}   (or run tools/setup.sh)")
  endif()
endfunction()

hartos_require_program(HARTOS_QEMU qemu-system-riscv64 qemu-system-misc)
hartos_require_program(HARTOS_GDB gdb-multiarch gdb-multiarch)
# dtc builds the odd device trees of the bad-input sweep (tools/badinput_test.py).
hartos_require_program(HARTOS_DTC dtc device-tree-compiler)

# Host tools need only the standard library, so any python3 >= 3.9 does. Prefer the
# distribution's (the one tools/setup.sh installs) over a shim earlier on PATH (pyenv):
# it does not depend on the caller's shell setup, and it sees Debian's python3-* modules.
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3 CACHE FILEPATH "python3 for the host tools")
endif()
find_package(Python3 3.9 COMPONENTS Interpreter)
if(NOT Python3_Interpreter_FOUND)
  message(FATAL_ERROR "hartos: python3 (>= 3.9) not found. Install it with: "
                      "apt-get install python3   (or run tools/setup.sh)")
endif()

# Firmware. Debian's fw_jump.bin always jumps to 0x80200000, where the kernel is linked.
# Without the opensbi package QEMU's own copy (`-bios default`, fw_dynamic) works too.
set(HARTOS_OPENSBI_FW_JUMP /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin)
if(EXISTS ${HARTOS_OPENSBI_FW_JUMP})
  set(hartos_default_bios ${HARTOS_OPENSBI_FW_JUMP})
else()
  set(hartos_default_bios default)
endif()
set(HARTOS_BIOS ${hartos_default_bios} CACHE STRING
    "OpenSBI firmware for QEMU -bios: a file, or 'default' for the one QEMU ships")
if(HARTOS_BIOS STREQUAL "default")
  # QEMU looks for its firmware next to its data files; Debian ships it with QEMU.
  get_filename_component(hartos_qemu_prefix ${HARTOS_QEMU} DIRECTORY)
  find_file(HARTOS_QEMU_FW_DYNAMIC opensbi-riscv64-generic-fw_dynamic.bin
            HINTS ${hartos_qemu_prefix}/../share/qemu /usr/share/qemu
            NO_CMAKE_FIND_ROOT_PATH)
  if(NOT HARTOS_QEMU_FW_DYNAMIC)
    message(FATAL_ERROR "hartos: no OpenSBI firmware: neither ${HARTOS_OPENSBI_FW_JUMP} "
                        "nor QEMU's opensbi-riscv64-generic-fw_dynamic.bin. "
                        "Install it with: apt-get install opensbi   (or run tools/setup.sh)")
  endif()
elseif(NOT EXISTS ${HARTOS_BIOS})
  message(FATAL_ERROR "hartos: HARTOS_BIOS=${HARTOS_BIOS} does not exist. "
                      "Install it with: apt-get install opensbi, or pass -DHARTOS_BIOS=default")
endif()

set(HARTOS_SMP 4 CACHE STRING "harts (QEMU -smp) for ninja run / qemu-gdb")
set(HARTOS_MEM 128M CACHE STRING "memory (QEMU -m) for ninja run / qemu-gdb")
set(HARTOS_QEMU_EXTRA "" CACHE STRING "more QEMU arguments for ninja run / qemu-gdb")
set(KERNEL_ARGS "" CACHE STRING "kernel command line (QEMU -append) for ninja run / qemu-gdb")

message(STATUS "hartos: QEMU ${HARTOS_QEMU}, firmware ${HARTOS_BIOS}, gdb ${HARTOS_GDB}, "
               "python ${Python3_EXECUTABLE}")
