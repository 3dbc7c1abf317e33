# SPDX-License-Identifier: BSD-2-Clause
# IVRS: moat-acpi against iasl on every real table of the corpus, and on malformed tables.
if(TARGET moat-acpi)
  set(IVRS_CHECK ${CMAKE_CURRENT_LIST_DIR}/corpus_ivrs.py)
  add_test(NAME acpi.corpus_ivrs
           COMMAND ${Python3_EXECUTABLE} ${IVRS_CHECK} $<TARGET_FILE:moat-acpi> ${MOAT_CORPUS_DIR})
  add_test(NAME acpi.tool_ivrs_malformed_names_the_offset
           COMMAND ${Python3_EXECUTABLE} ${IVRS_CHECK} --malformed $<TARGET_FILE:moat-acpi>
                   ${CMAKE_CURRENT_LIST_DIR}/data/ivrs_range_end_without_start.dat "IVRS+0x54")
  add_test(NAME acpi.tool_ivrs_bad_checksum_is_malformed
           COMMAND ${Python3_EXECUTABLE} ${IVRS_CHECK} --malformed $<TARGET_FILE:moat-acpi>
                   ${CMAKE_CURRENT_LIST_DIR}/data/ivrs_bad_checksum.dat "IVRS+0x9")
  set_tests_properties(acpi.corpus_ivrs acpi.tool_ivrs_malformed_names_the_offset
                       acpi.tool_ivrs_bad_checksum_is_malformed PROPERTIES LABELS "unit;acpi" TIMEOUT 300)
endif()
