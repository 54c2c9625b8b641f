# Description: the locks lab (docs/lab-locks.md).
#   ninja grade         the lab's checks with points (tools/grade.py), in every tree
#   ninja lab-locks     the starter repository, build/lab-locks/ (tools/mklab.py; only in
#                       the solution tree, where the tool is)
#   ninja lab-selftest  proof that the grader can fail: grades the starter, the solution
#                       and every mutant of lab/locks/mutants/ (tools/lab_selftest.py)

add_custom_target(grade
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/grade.py
          --qemu ${HARTOS_QEMU} --bios ${HARTOS_BIOS} --kernel $<TARGET_FILE:hartos.elf>
          --disk ${CMAKE_BINARY_DIR}/disk.img --logs ${CMAKE_BINARY_DIR}/grade
  DEPENDS hartos.elf disk_image
  USES_TERMINAL VERBATIM
  COMMENT "Grading the locks lab (tools/grade.py)")

if(EXISTS ${CMAKE_SOURCE_DIR}/tools/mklab.py)
  add_custom_target(lab-locks
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/mklab.py
            --out ${CMAKE_BINARY_DIR}/lab-locks
    USES_TERMINAL VERBATIM
    COMMENT "Writing the locks lab's starter repository to ${CMAKE_BINARY_DIR}/lab-locks")
  add_custom_target(lab-selftest
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/lab_selftest.py
            ${CMAKE_BINARY_DIR}/lab-selftest
    USES_TERMINAL VERBATIM
    COMMENT "Grading the starter, the solution and every mutant (tools/lab_selftest.py)")
endif()
