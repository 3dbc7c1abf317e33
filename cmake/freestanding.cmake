# SPDX-License-Identifier: BSD-2-Clause
# Build the core library freestanding, the way a kernel would: -ffreestanding, no libc headers
# (-nostdinc, then only the compiler's own include directory: stddef.h, stdint.h, stdarg.h,
# stdbool.h, limits.h), kernel code-model flags, no sanitizers.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
                OUTPUT_VARIABLE MOAT_CC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE)
add_library(moat_freestanding STATIC ${MOAT_CORE_SOURCES})
target_include_directories(moat_freestanding PRIVATE ${MOAT_INCLUDE_DIR})
target_compile_options(moat_freestanding PRIVATE
  -ffreestanding -nostdinc -isystem ${MOAT_CC_INCLUDE}
  -fno-pic -mno-red-zone -mno-sse -mno-mmx -mno-80387 -mcmodel=kernel -fno-stack-protector
  -fno-sanitize=all -O2)
