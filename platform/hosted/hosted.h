/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hosted platform: Moat's platform functions implemented in user space, for unit tests,
 * fuzzers, benchmarks and the command-line tools.
 *
 * Physical memory is simulated: pages come from one arena whose "physical" addresses start at
 * MOAT_HOSTED_PHYS_BASE, far from any virtual address, so that a mix-up of the two shows at once.
 * Registers are simulated by device models registered with moat_hosted_mmio_add().
 * Test controls (failure injection, counters) are process-wide and reset by moat_hosted_reset().
 * A device model that acts while Moat runs (a DMA-capable device, tests/support/hostile.h) registers
 * a hook with moat_hosted_set_hook(): the platform calls it at the points listed there.
 */
#ifndef MOAT_HOSTED_H
#define MOAT_HOSTED_H

#include <stdbool.h>
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

/* ---- simulated memory, as a device model sees it ---- */

/* Bytes of the arena handed out so far (pages live, freed or reserved lie below it). */
uint64_t moat_hosted_arena_used(void);

/* Whether @phys lies in a page moat_plat_page_alloc() returned and moat_plat_page_free() did not take
 * back yet. Any thread, no lock. */
bool moat_hosted_page_live(uint64_t phys);

/*
 * One page of the arena for a device model's own use (memory a device owns, such as the buffers a
 * driver gave it): zeroed, never returned by moat_plat_page_alloc(), never freed, and not counted in
 * struct moat_hosted_stats. Returns its virtual address with *@phys set, or NULL (arena full).
 */
void *moat_hosted_reserve_page(uint64_t *phys);

/* Points at which a device working concurrently with Moat may act (the hook's @point). */
enum moat_hosted_point {
	MOAT_HOSTED_PAGE_ALLOC = 1,   /* moat_plat_page_alloc() called (no page yet: @phys 0, @virt NULL) */
	MOAT_HOSTED_PAGE_GIVEN,       /* the page it is about to return, zeroed already (@phys, @virt) */
	MOAT_HOSTED_PAGE_FREE,        /* moat_plat_page_free() called, before the page is taken back */
	MOAT_HOSTED_MMIO_WRITE,       /* a register write, before it reaches the simulated device (@phys: the
					 register's physical address, @value: what is written) */
	MOAT_HOSTED_MMIO_READ,        /* a register read, before it reaches the simulated device */
};

/*
 * The hook: called at every point above, on the calling thread, outside the platform's own locks but
 * possibly inside Moat's locked sections. It must not call into Moat; it may read and write simulated
 * memory (moat_plat_phys_to_virt()) and use the functions of this header except
 * moat_hosted_set_hook(). @value is the register value for MOAT_HOSTED_MMIO_WRITE, else 0.
 */
typedef void (*moat_hosted_hook_fn)(void *ctx, enum moat_hosted_point point, uint64_t phys, void *virt,
				    uint64_t value);

/*
 * Install @fn (NULL: none, the default) with @ctx. Off, the points cost one load each. Not for use
 * while other threads call the platform.
 */
void moat_hosted_set_hook(moat_hosted_hook_fn fn, void *ctx);

#endif
