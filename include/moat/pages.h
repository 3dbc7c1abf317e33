/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A source of 4 KiB pages: what a part of Moat that can run without a system (the page-table
 * engine, the IOVA allocator, the vendor drivers) takes its pages from.
 *
 * Inside a system every page comes from the core (moat/moat.h, "Moat-owned pages"): before the
 * core hands a page out, no device can reach it (it is out of every domain, and the invalidation
 * that took it out completed) and it has been zeroed since. Bring-up gives the drivers such a
 * source (moat_unit_pages() in moat/internal/unit.h); the DMA API gives one to its allocator.
 * A zeroed struct moat_pages stands for the platform itself (moat_plat_page_alloc()): right for
 * code used on its own, where the host knows no device can reach the pages (tests, tools).
 */
#ifndef MOAT_PAGES_H
#define MOAT_PAGES_H

#include <stdint.h>

#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Receives page @i (0-based, in physical order) of a run from moat_pages_alloc_run(). */
typedef void (*moat_pages_run_fn)(void *ctx, uint32_t i, void *virt);

struct moat_pages {
	/* One zeroed 4 KiB page, 4 KiB aligned and below 2^52 physically, its physical address in
	 * *@phys; NULL when none is left. */
	void *(*alloc)(void *ctx, uint64_t *phys);
	/* Take back a page alloc() gave, as the pair it returned, once no hardware uses it. */
	void (*free)(void *ctx, void *virt, uint64_t phys);
	void *ctx;
	/* Optional: what moat_pages_alloc_run() promises, done by the source itself (the core looks
	 * for the run among pages before it trusts them, so its own tables cannot cut runs short);
	 * NULL: the run is looked for among pages of alloc(). Pages of a run go back through free(). */
	moat_status (*alloc_run)(void *ctx, uint32_t n, uint64_t align, moat_pages_run_fn put, void *put_ctx,
				 uint64_t *phys);
};

/*
 * moat_pages_alloc() - a page from @src (NULL, or alloc NULL: the platform). A platform page that
 * is not 4 KiB aligned or not below 2^52 is given back, logged, and NULL returned.
 */
void *moat_pages_alloc(const struct moat_pages *src, uint64_t *phys);

/* moat_pages_free() - give @virt/@phys back to @src (NULL, or free NULL: the platform). */
void moat_pages_free(const struct moat_pages *src, void *virt, uint64_t phys);

/*
 * moat_pages_alloc_run() - @n pages of @src at consecutive physical addresses, the first aligned
 * to @align bytes (0: a page; else a power of two of at least 4 KiB), for a structure the hardware
 * indexes as one block. @put(@ctx, i, virt) receives each page in order (their virtual addresses
 * need not be consecutive); *@phys the physical address of the first. The pages are zeroed. Every
 * page received and not used is given back; at most 2 * @n + min(@align / 4 KiB, @n) - 1 + 1024
 * pages are asked for (a source handing pages out in address order needs n plus the alignment, so
 * an alignment beyond the run's size may not be found). Free the run page by page with
 * moat_pages_free().
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (@n 0, NULL @put or @phys, @align not a power of two of at
 * least 4 KiB); MOAT_ERR_NO_MEMORY (no such run: nothing is kept).
 */
moat_status moat_pages_alloc_run(const struct moat_pages *src, uint32_t n, uint64_t align, moat_pages_run_fn put,
				 void *ctx, uint64_t *phys);

#ifdef __cplusplus
}
#endif

#endif
