# SPDX-License-Identifier: BSD-2-Clause
# User commands:
#   make run     the demo: the reference kernel on QEMU, protected by Moat (IOMMU=intel|amd)
#   make test    every test: unit, corpus, fuzzers, freestanding build, QEMU scenarios
#   make bench   the benchmarks; writes bench/results.json
# Builds live in build/: gcc/ and clang/ (host, sanitizers on), bench/ (optimized), kernel/.

CMAKE_GEN := -G Ninja
JOBS ?= $(shell nproc)
IOMMU ?= intel

.PHONY: all deps build build-gcc build-clang test bench run kernel clean

all: build

deps:
	@scripts/deps.sh

build-gcc: deps
	@cmake -S . -B build/gcc $(CMAKE_GEN) -DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++ \
		-DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build/gcc -j $(JOBS)

build-clang: deps
	@cmake -S . -B build/clang $(CMAKE_GEN) -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build build/clang -j $(JOBS)

build: build-gcc build-clang

# gcc build: unit and corpus tests; clang build: the same plus fuzzers and the QEMU scenarios.
test: build
	@ctest --test-dir build/gcc --output-on-failure -j $(JOBS) -LE 'fuzz|qemu'
	@ctest --test-dir build/clang --output-on-failure -j $(JOBS)

bench: deps
	@cmake -S . -B build/bench $(CMAKE_GEN) -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release \
		-DMOAT_SANITIZE=OFF -DMOAT_FUZZ=OFF >/dev/null
	@cmake --build build/bench -j $(JOBS) --target run-bench

run: deps
	@scripts/run-demo $(IOMMU)

clean:
	rm -rf build
