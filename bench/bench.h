/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small benchmark framework for Moat's benchmarks (bench/): monotonic timing, repetitions
 * summarized by their minimum and median, and results kept per workload, printed as a human table
 * and written as the JSON array of bench/results.json:
 *
 *   {"name":..., "unit":..., "moat":X, "baseline":{"NAME":Y,...}, "ratio":{"NAME":X/Y,...},
 *    "targets":[{"name":..., "value":V, "limit":L, "at_most":B, "pass":B}, ...], "skipped":{...},
 *    "info":{...}}
 *
 * "name", "unit", "moat" and "baseline" are the benchmark contract (bench/README.md); "ratio" adds
 * every ratio ready to read (always moat divided by the baseline: below 1 Moat is faster or
 * smaller), then the targets, the baselines not run (with the reason) and details.
 *
 * The framework is for host tools: it uses libc and keeps its state in the caller's objects.
 */
#ifndef MOAT_BENCH_H
#define MOAT_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The monotonic clock, in nanoseconds. */
uint64_t bench_now_ns(void);

/* Repetitions of one measurement, in the unit the run function returns. */
struct bench_sample {
	double min, median, max;
	unsigned runs;
};

/*
 * One repetition: does its untimed setup, times its work (bench_now_ns()) and its untimed teardown
 * and checks, and returns the timed part in nanoseconds. A run that finds a wrong result ends the
 * program (bench_fail()) rather than return.
 */
typedef double (*bench_run_fn)(void *ctx);

/*
 * bench_repeat() - call @run at least @min_runs and at most @max_runs times, stopping after
 * @min_runs once the timed parts add up to @budget_ns, and summarize the timed parts.
 */
struct bench_sample bench_repeat(bench_run_fn run, void *ctx, unsigned min_runs, unsigned max_runs,
				 double budget_ns);

/*
 * bench_repeat2() - bench_repeat() of two runs taken in turns (@run_a, then @run_b, each
 * repetition), so a change of the machine's state during the measurement (another load, the
 * placement of virtual CPUs) reaches both alike; @budget_ns counts both. Summaries in *@a, *@b.
 */
void bench_repeat2(bench_run_fn run_a, void *ctx_a, bench_run_fn run_b, void *ctx_b, unsigned min_runs,
		   unsigned max_runs, double budget_ns, struct bench_sample *a, struct bench_sample *b);

/* Print "bench: wrong result: MESSAGE" and exit with status 1: a benchmark never reports a wrong build. */
_Noreturn void bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* bench_check() - bench_fail() with @what unless @ok. */
void bench_check(bool ok, const char *what);

#define BENCH_NAME_MAX   96
#define BENCH_KEY_MAX    32
#define BENCH_BASELINES  4
#define BENCH_TARGETS    4
#define BENCH_INFO       12
#define BENCH_SKIPPED    4

/* How a baseline's column reads in the human table (JSON always has moat / baseline). */
enum bench_kind {
	BENCH_FLOOR,      /* a lower bound: the table shows moat / baseline ("x floor") */
	BENCH_RIVAL,      /* another way to do it: the table shows baseline / moat ("Nx" faster, smaller) */
};

struct bench_target {
	char name[BENCH_KEY_MAX];  /* e.g. "within_1.5x_floor" */
	double value, limit;
	bool at_most;              /* pass when value <= limit (else value >= limit) */
	bool pass;
};

struct bench_result {
	char name[BENCH_NAME_MAX];
	char unit[8];
	double moat;
	unsigned nbase, ntarget, ninfo, nskip;
	struct {
		char name[BENCH_KEY_MAX];
		double value;
	} base[BENCH_BASELINES];
	struct bench_target target[BENCH_TARGETS];
	struct {
		char name[BENCH_KEY_MAX];
		double value;
	} info[BENCH_INFO];
	struct {
		char name[BENCH_KEY_MAX];
		char why[64];
	} skip[BENCH_SKIPPED];
};

/* The columns of a human table: the baselines a suite reports, in order. */
struct bench_column {
	const char *name;
	enum bench_kind kind;
};

struct bench_table {
	const struct bench_column *cols;
	unsigned ncols;
	FILE *out;
};

/* A growing list of results (caller storage, zero-initialized). */
struct bench_results {
	struct bench_result *r;
	unsigned n, cap;
};

/* bench_result_new() - a new result named @name in @unit with Moat's value @moat (exits when out of memory). */
struct bench_result *bench_result_new(struct bench_results *rs, const char *name, const char *unit, double moat);

/* bench_baseline() - record baseline @name's value (must be > 0) for @r. */
void bench_baseline(struct bench_result *r, const char *name, double value);

/* bench_skip() - record that baseline @name was not run for @r, and why. */
void bench_skip(struct bench_result *r, const char *name, const char *why);

/* bench_info() - record a detail of @r (runs, counts, sizes) for the JSON file. */
void bench_info(struct bench_result *r, const char *name, double value);

/*
 * bench_target() - record target @name of @r: @value compared with @limit (at most when @at_most,
 * else at least). Returns whether it passed.
 */
bool bench_target(struct bench_result *r, const char *name, double value, bool at_most, double limit);

/* bench_baseline_value() - baseline @name of @r, or 0 when it was not measured. */
double bench_baseline_value(const struct bench_result *r, const char *name);

/* bench_table_header() / bench_table_row() - the human table, one row per result as it comes. */
void bench_table_header(const struct bench_table *t);
void bench_table_row(const struct bench_table *t, const struct bench_result *r);

/* bench_print_skipped() - one line for each different reason a baseline was not run. */
void bench_print_skipped(FILE *out, const struct bench_results *rs);

/* bench_targets_missed() - the number of targets of @rs that did not pass. */
unsigned bench_targets_missed(const struct bench_results *rs);

/* bench_write_json() - write @rs to @path as a JSON array, one object per line. Returns 0 or -1 (errno). */
int bench_write_json(const char *path, const struct bench_results *rs);

/* bench_results_free() - release @rs's storage. */
void bench_results_free(struct bench_results *rs);

#endif
