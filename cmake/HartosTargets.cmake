# Description: the developer targets around hartos.elf.
#   ninja run       boot hartos in QEMU on this terminal (quit: Ctrl-A then X)
#   ninja qemu-gdb  the same, paused at the first instruction, waiting for gdb
#   ninja gdb       gdb-multiarch attached to a running `ninja qemu-gdb` (build/gdbinit)
# The gdb port depends on the user id, so two users on one machine do not clash.

separate_arguments(hartos_qemu_extra UNIX_COMMAND "${HARTOS_QEMU_EXTRA}")
# run and qemu-gdb boot with a fresh copy of the test disk (tools/mkdisk.py), so the
# monitor's `read` and `stress bufcache` have a disk; the pristine image stays as it is.
set(hartos_run_disk ${CMAKE_BINARY_DIR}/run-disk.img)
set(hartos_qemu_cmdline
  ${HARTOS_QEMU} -machine virt -bios ${HARTOS_BIOS} -kernel $<TARGET_FILE:hartos.elf>
  -smp ${HARTOS_SMP} -m ${HARTOS_MEM} -nographic
  -global virtio-mmio.force-legacy=false
  -drive file=${hartos_run_disk},if=none,format=raw,id=hd0
  -device virtio-blk-device,drive=hd0,bus=virtio-mmio-bus.0
  ${hartos_qemu_extra})
set(hartos_copy_run_disk ${CMAKE_COMMAND} -E copy ${CMAKE_BINARY_DIR}/disk.img ${hartos_run_disk})
if(NOT KERNEL_ARGS STREQUAL "")
  list(APPEND hartos_qemu_cmdline -append "${KERNEL_ARGS}")
endif()

if(NOT DEFINED HARTOS_GDB_PORT)
  execute_process(COMMAND id -u OUTPUT_VARIABLE hartos_uid OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE hartos_id_failed)
  if(hartos_id_failed OR NOT hartos_uid MATCHES "^[0-9]+$")
    set(hartos_uid 0)
  endif()
  math(EXPR hartos_port "26000 + ${hartos_uid} % 4000")
  set(HARTOS_GDB_PORT ${hartos_port} CACHE STRING
      "TCP port of QEMU's gdb server for qemu-gdb / gdb (default: 26000 + uid % 4000)")
endif()

add_custom_target(run
  COMMAND ${hartos_copy_run_disk}
  COMMAND ${CMAKE_COMMAND} -E echo "hartos: quit QEMU with Ctrl-A then X"
  COMMAND ${hartos_qemu_cmdline}
  USES_TERMINAL VERBATIM
  COMMENT "Booting hartos.elf on ${HARTOS_SMP} harts, ${HARTOS_MEM}")
add_dependencies(run hartos.elf disk_image)

add_custom_target(qemu-gdb
  COMMAND ${hartos_copy_run_disk}
  COMMAND ${CMAKE_COMMAND} -E echo
          "hartos: QEMU is paused and waits for gdb on port ${HARTOS_GDB_PORT}."
  COMMAND ${CMAKE_COMMAND} -E echo
          "hartos: attach from another terminal: ninja -C ${CMAKE_BINARY_DIR} gdb"
  COMMAND ${CMAKE_COMMAND} -E echo
          "hartos: (OpenSBI runs first: break kmain, then continue). Quit QEMU with Ctrl-A then X"
  COMMAND ${hartos_qemu_cmdline} -S -gdb tcp::${HARTOS_GDB_PORT}
  USES_TERMINAL VERBATIM
  COMMENT "Booting hartos.elf paused, gdb server on port ${HARTOS_GDB_PORT}")
add_dependencies(qemu-gdb hartos.elf disk_image)

set(HARTOS_ELF_PATH ${CMAKE_BINARY_DIR}/hartos.elf)
configure_file(${CMAKE_SOURCE_DIR}/tools/gdbinit.in ${CMAKE_BINARY_DIR}/gdbinit @ONLY)

add_custom_target(gdb
  COMMAND ${HARTOS_GDB} -q -x ${CMAKE_BINARY_DIR}/gdbinit
  USES_TERMINAL VERBATIM
  COMMENT "gdb-multiarch attaching to localhost:${HARTOS_GDB_PORT} (start ninja qemu-gdb first)")
add_dependencies(gdb hartos.elf)
