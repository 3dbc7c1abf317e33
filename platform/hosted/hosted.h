/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hosted platform: Moat's platform functions implemented in user space, for unit tests,
 * fuzzers, benchmarks and the command-line tools.
 *
 * Physical memory is simulated: pages come from one arena whose "physical" addresses start at
 * MOAT_HOSTED_PHYS_BASE, far from any virtual address, so that a mix-up of the two shows at once.
 * Registers are simulated by device models registered with moat_hosted_mmio_add().
 * Test controls (failure injection, counters) are process-wide and reset by moat_hosted_reset().
 */
#ifndef MOAT_HOSTED_H
#define MOAT_HOSTED_H

#include <stddef.h>
#include <stdint.h>

#include <moat/platform.h>

#define MOAT_HOSTED_PHYS_BASE 0x7f000000000ull

/* Size of the simulated physical arena; pages beyond it make moat_plat_page_alloc() fail. */
#define MOAT_HOSTED_ARENA_BYTES (4ull << 30)

/* Counters of platform calls since the last reset (for tests and benchmarks). */
struct moat_hosted_stats {
	uint64_t pages_allocated;   /* successful moat_plat_page_alloc() */
	uint64_t pages_freed;
	uint64_t pages_live;        /* allocated - freed */
	uint64_t alloc_failures;    /* injected or arena exhausted */
	uint64_t cache_line_flushes;
	uint64_t wmbs;
};

/* Reset counters and failure injection; keep the arena (pages still allocated stay allocated). */
void moat_hosted_reset(void);

/* Copy of the current counters. */
struct moat_hosted_stats moat_hosted_stats(void);

/*
 * Fail the @n-th moat_plat_page_alloc() from now (1 = the next one), and every one after it if
 * @sticky. n = 0 turns failure injection off.
 */
void moat_hosted_fail_alloc_at(uint64_t n, int sticky);

/* Log messages at or below @level reach stderr (default MOAT_LOG_WARN). */
void moat_hosted_set_log_level(enum moat_log_level level);

/*
 * Call @fn(@ctx) at every moat_plat_wmb() from now on (NULL: stop). Moat orders the stores the
 * hardware may observe with a write barrier between them, so a hook sees every state a device
 * or IOMMU could read in between (e.g. a table entry written in two halves). Not reset by
 * moat_hosted_reset().
 */
void moat_hosted_set_wmb_hook(void (*fn)(void *ctx), void *ctx);

/* Simulated register block: read/write callbacks for accesses inside [phys, phys + size). */
struct moat_hosted_mmio_ops {
	uint64_t (*read)(void *ctx, uint64_t offset, unsigned width);
	void (*write)(void *ctx, uint64_t offset, unsigned width, uint64_t value);
};

/*
 * Register a simulated device; moat_plat_mmio_map() of a range inside it then succeeds and the
 * moat_plat_mmio_* accessors call @ops. Returns 0, or -1 when the table of devices is full.
 */
int moat_hosted_mmio_add(uint64_t phys, size_t size, const struct moat_hosted_mmio_ops *ops, void *ctx);
void moat_hosted_mmio_remove(uint64_t phys);

#endif
