/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Scenarios: one check each of what the kernel and Moat do on this machine, reported as exactly one
 * line, `PASS name`, `FAIL name: reason` or `SKIP name: reason` (the reason on one line), and at the
 * end `N passed, N failed, N skipped`. A scenario adapts to what the machine has: one that needs a
 * device the machine lacks says SKIP and why. Details go on lines before the result, indented by two
 * spaces (scenario_note()).
 *
 * To add one: a file kernel/scenarios/<name>.c defining the function, and a line in table.c.
 */
#ifndef KERNEL_SCENARIO_H
#define KERNEL_SCENARIO_H

#include "system.h"

enum scenario_verdict {
	SCENARIO_PASS,
	SCENARIO_FAIL,
	SCENARIO_SKIP,
};

struct scenario_result {
	char reason[200];
};

struct scenario {
	const char *name;
	const char *what;   /* one line: what it checks */
	enum scenario_verdict (*run)(struct kernel_system *sys, struct scenario_result *r);
};

/* The table (table.c), in the order `run all` uses. */
extern const struct scenario kernel_scenarios[];
extern const unsigned kernel_scenario_count;

/* Set the reason and return the verdict: `return scenario_fail(r, "edu %s: ...", name);` */
enum scenario_verdict scenario_fail(struct scenario_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum scenario_verdict scenario_skip(struct scenario_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A detail line, printed indented under the running scenario. */
void scenario_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * scenarios_run() - run the scenarios named in @names (comma-separated; NULL or "" for all of them),
 * print one result line each and the summary line. An unknown name is a FAIL line. Returns the
 * number of failures.
 */
unsigned scenarios_run(struct kernel_system *sys, const char *names);

/* ---- Helpers shared by the DMA scenarios (scenarios/dma_util.c) ---- */

/* Bytes of a 4 KiB page one edu transfer moves (the device's limit, see drivers/edu.h). */
#define DMA_TEST_LEN EDU_DMA_MAX

/* Fill @len bytes at @p with a pattern that depends on @seed and on each byte's position. */
void pattern_fill(uint8_t *p, size_t len, uint32_t seed);

/*
 * Compare @len bytes; returns the number of differing bytes and, when there is one, the offset of the
 * first in *@first (and the two bytes there in *@got / *@want).
 */
size_t bytes_compare(const uint8_t *got, const uint8_t *want, size_t len, size_t *first, uint8_t *got_byte,
		     uint8_t *want_byte);

/*
 * dma_round_trip() - with @dev: pattern into @src, DMA of DMA_TEST_LEN bytes @src -> device buffer,
 * then device buffer -> @dst (first filled with a different pattern), then compare @dst with @src byte
 * by byte, and check that the rest of @dst kept its filler (the device wrote no further). @src and @dst
 * are identity-mapped pages whose physical addresses the device uses. Returns SCENARIO_PASS, or
 * SCENARIO_FAIL with the reason in @r.
 */
enum scenario_verdict dma_round_trip(struct edu_dev *dev, uint8_t *src, uint8_t *dst, uint32_t seed,
				     struct scenario_result *r);

/*
 * dma_check_copy() - @dst (a page filled by pattern_fill(~@seed) before the device wrote DMA_TEST_LEN
 * bytes to it) holds @src's first DMA_TEST_LEN bytes and its own filler after them. Returns
 * SCENARIO_PASS, or SCENARIO_FAIL with a reason naming @who and the pages.
 */
enum scenario_verdict dma_check_copy(const char *who, const uint8_t *dst, const uint8_t *src, uint32_t seed,
				     struct scenario_result *r);

/* The scenario functions (one file each). */
enum scenario_verdict scenario_discovery(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_edu_dma_baseline(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_edu_dma_high(struct kernel_system *sys, struct scenario_result *r);

#endif
