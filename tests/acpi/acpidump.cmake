# SPDX-License-Identifier: BSD-2-Clause
# moat-acpi on acpidump text: the checked-in data/acpidump_*.txt, corpus tables among other tables,
# and hostile text made at test time in the build tree (see acpidump_check.py).
if(TARGET moat-acpi)
  add_test(NAME acpi.acpidump
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/acpidump_check.py $<TARGET_FILE:moat-acpi>
                   ${CMAKE_CURRENT_LIST_DIR}/data ${MOAT_CORPUS_DIR} ${CMAKE_CURRENT_BINARY_DIR}/acpidump)
  set_tests_properties(acpi.acpidump PROPERTIES LABELS "unit;acpi" TIMEOUT 120)
endif()
