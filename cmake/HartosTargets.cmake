# Description: the developer targets around hartos.elf.
#   ninja run       boot hartos in QEMU on this terminal (quit: Ctrl-A then X)
#   ninja qemu-gdb  the same, paused at the first instruction, waiting for gdb
#   ninja gdb       gdb-multiarch attached to a running `ninja qemu-gdb` (build/gdbinit)
# The gdb port depends on the user id, so two users on one machine do not clash.

separate_arguments(hartos_qemu_extra UNIX_COMMAND "${HARTOS_QEMU_EXTRA}")
set(hartos_qemu_cmdline
  ${HARTOS_QEMU} -machine virt -bios ${HARTOS_BIOS} -kernel $<TARGET_FILE:hartos.elf>
  -smp ${HARTOS_SMP} -m ${HARTOS_MEM} -nographic ${hartos_qemu_extra})
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
  COMMAND ${CMAKE_COMMAND} -E echo "hartos: quit QEMU with Ctrl-A then X"
  COMMAND ${hartos_qemu_cmdline}
  USES_TERMINAL VERBATIM
  COMMENT "Booting hartos.elf on ${HARTOS_SMP} harts, ${HARTOS_MEM}")
add_dependencies(run hartos.elf)

add_custom_target(qemu-gdb
  COMMAND ${CMAKE_COMMAND} -E echo
          "hartos: QEMU is paused and waits for gdb on port ${HARTOS_GDB_PORT}."
  COMMAND ${CMAKE_COMMAND} -E echo
          "hartos: attach from another terminal: ninja -C ${CMAKE_BINARY_DIR} gdb"
  COMMAND ${CMAKE_COMMAND} -E echo
          "hartos: (OpenSBI runs first: break kmain, then continue). Quit QEMU with Ctrl-A then X"
  COMMAND ${hartos_qemu_cmdline} -S -gdb tcp::${HARTOS_GDB_PORT}
  USES_TERMINAL VERBATIM
  COMMENT "Booting hartos.elf paused, gdb server on port ${HARTOS_GDB_PORT}")
add_dependencies(qemu-gdb hartos.elf)

set(HARTOS_ELF_PATH ${CMAKE_BINARY_DIR}/hartos.elf)
configure_file(${CMAKE_SOURCE_DIR}/tools/gdbinit.in ${CMAKE_BINARY_DIR}/gdbinit @ONLY)

add_custom_target(gdb
  COMMAND ${HARTOS_GDB} -q -x ${CMAKE_BINARY_DIR}/gdbinit
  USES_TERMINAL VERBATIM
  COMMENT "gdb-multiarch attaching to localhost:${HARTOS_GDB_PORT} (start ninja qemu-gdb first)")
add_dependencies(gdb hartos.elf)
