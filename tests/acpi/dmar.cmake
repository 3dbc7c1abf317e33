# SPDX-License-Identifier: BSD-2-Clause
# DMAR tests beyond the cmocka ones (test_dmar_*.c): the corpus against ACPICA's disassembly, and
# the moat-acpi tool on malformed tables.
if(TARGET moat-acpi)
  add_test(NAME acpi.corpus_dmar
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/corpus_dmar.py
                   $<TARGET_FILE:moat-acpi> ${MOAT_CORPUS_DIR})
  set_tests_properties(acpi.corpus_dmar PROPERTIES LABELS "unit;acpi" TIMEOUT 300)

  add_test(NAME acpi.tool_dmar_malformed
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/dmar_tool.py
                   $<TARGET_FILE:moat-acpi> ${MOAT_CORPUS_DIR} ${CMAKE_CURRENT_BINARY_DIR}/dmar_tool)
  set_tests_properties(acpi.tool_dmar_malformed PROPERTIES LABELS "unit;acpi" TIMEOUT 120)
endif()
