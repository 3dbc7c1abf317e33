# SPDX-License-Identifier: BSD-2-Clause
# Runs one libFuzzer target for a CTest test:
#   cmake -DFUZZER=exe -DSEEDS=dir -DWORK=dir -DMODE=fuzz|replay [-DSECONDS=n -DMAX_LEN=n] -P run_fuzzer.cmake
# fuzz:   WORK is made afresh and filled with a copy of SEEDS; the fuzzer runs there for SECONDS with a
#         fixed seed, so the seed directory never grows. WORK is removed when the run passes and kept
#         (with any crash input) when it fails.
# replay: every seed runs once.
# Fails on a non-zero exit of the fuzzer or any sanitizer or libFuzzer error report in its output.
foreach(v FUZZER SEEDS WORK MODE)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_fuzzer.cmake: ${v} not set")
  endif()
endforeach()

file(GLOB seeds LIST_DIRECTORIES false ${SEEDS}/*)
list(LENGTH seeds nseeds)
if(nseeds EQUAL 0)
  message(FATAL_ERROR "no seeds in ${SEEDS}: build the moat_fuzz_seeds target")
endif()

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(log ${WORK}.log)

if(MODE STREQUAL "fuzz")
  file(MAKE_DIRECTORY ${WORK}/corpus)
  file(COPY ${seeds} DESTINATION ${WORK}/corpus)
  set(args -seed=1 -max_total_time=${SECONDS} -max_len=${MAX_LEN} -timeout=10 -rss_limit_mb=2048
           -artifact_prefix=${WORK}/ -print_final_stats=1 ${WORK}/corpus)
elseif(MODE STREQUAL "replay")
  set(args -timeout=10 -rss_limit_mb=2048 -artifact_prefix=${WORK}/ ${seeds})
else()
  message(FATAL_ERROR "run_fuzzer.cmake: MODE must be fuzz or replay")
endif()

string(TIMESTAMP t0 "%s")
execute_process(COMMAND ${FUZZER} ${args}
                WORKING_DIRECTORY ${WORK}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(TIMESTAMP t1 "%s")
math(EXPR secs "${t1} - ${t0}")
file(WRITE ${log} "${out}")

set(bad "")
if(NOT rc EQUAL 0)
  set(bad "exit status ${rc}")
elseif(out MATCHES "(ERROR: [A-Za-z]+Sanitizer|runtime error:|ERROR: libFuzzer|==ERROR:|SUMMARY: [A-Za-z]+Sanitizer)")
  set(bad "sanitizer report: ${CMAKE_MATCH_1}")
endif()

if(bad)
  string(LENGTH "${out}" n)
  if(n GREATER 6000)
    math(EXPR from "${n} - 6000")
    string(SUBSTRING "${out}" ${from} -1 out)
  endif()
  message("${out}")
  message(FATAL_ERROR "${FUZZER}: ${bad} after ${secs} s (full log ${log}, inputs in ${WORK})")
endif()

if(MODE STREQUAL "fuzz")
  string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" runs "${out}")
  string(REGEX MATCHALL "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[^ ]+" covs "${out}")
  list(POP_BACK covs cov)
  message("${FUZZER}: ${nseeds} seeds, ${secs} s, ${runs}, last ${cov}")
  file(REMOVE_RECURSE ${WORK})
else()
  message("${FUZZER}: ${nseeds} seeds replayed in ${secs} s")
  file(REMOVE_RECURSE ${WORK})
endif()
