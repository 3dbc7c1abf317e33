# SPDX-License-Identifier: BSD-2-Clause
# Merge the JSON arrays the benchmarks wrote into RESULTS_DIR (one file each, "[", one workload
# object per line, "]", as bench.c writes them) into one array in OUTPUT, in the order of the file
# names. The text is handled as plain strings (never as CMake lists, whose brackets and semicolons
# would mangle JSON), and the result is checked to parse.
# Usage: cmake -DRESULTS_DIR=dir -DOUTPUT=file -P merge_results.cmake
file(GLOB parts ${RESULTS_DIR}/*.json)
list(SORT parts)
set(body "")
foreach(part ${parts})
  file(READ ${part} text)
  string(JSON count ERROR_VARIABLE err LENGTH "${text}")
  if(err)
    message(FATAL_ERROR "${part}: not a JSON array: ${err}")
  endif()
  if(count EQUAL 0)
    continue()
  endif()
  string(REGEX REPLACE "^[ \t\r\n]*\\[[ \t\r\n]*" "" text "${text}")
  string(REGEX REPLACE "[ \t\r\n]*\\][ \t\r\n]*$" "" text "${text}")
  if(body STREQUAL "")
    set(body "${text}")
  else()
    string(APPEND body ",\n  ${text}")
  endif()
endforeach()
set(merged "[\n  ${body}\n]\n")
string(JSON n ERROR_VARIABLE err LENGTH "${merged}")
if(err OR n EQUAL 0)
  message(FATAL_ERROR "no benchmark results merged from ${RESULTS_DIR} ${err}")
endif()
file(WRITE ${OUTPUT} "${merged}")
message(STATUS "${n} workload(s) written to ${OUTPUT}")
