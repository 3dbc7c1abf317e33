# SPDX-License-Identifier: BSD-2-Clause
# Moat as plain sources, for hosts that build it with their own kernel's flags:
#   include(path/to/moat/cmake/moat-sources.cmake)
#   add_library(moat STATIC ${MOAT_CORE_SOURCES})
#   target_include_directories(moat PUBLIC ${MOAT_INCLUDE_DIR})
# The host also links its implementation of include/moat/platform.h.
get_filename_component(MOAT_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(MOAT_INCLUDE_DIR "${MOAT_ROOT}/include")
file(GLOB MOAT_CORE_SOURCES CONFIGURE_DEPENDS
     "${MOAT_ROOT}/src/lib/*.c"
     "${MOAT_ROOT}/src/acpi/*.c"
     "${MOAT_ROOT}/src/pt/*.c"
     "${MOAT_ROOT}/src/core/*.c"
     "${MOAT_ROOT}/src/vtd/*.c"
     "${MOAT_ROOT}/src/amdvi/*.c"
     "${MOAT_ROOT}/src/dma/*.c"
     "${MOAT_ROOT}/src/setup/*.c")
list(SORT MOAT_CORE_SOURCES)
