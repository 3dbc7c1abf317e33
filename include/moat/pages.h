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

#ifdef __cplusplus
extern "C" {
#endif

struct moat_pages {
	/* One zeroed 4 KiB page, 4 KiB aligned and below 2^52 physically, its physical address in
	 * *@phys; NULL when none is left. */
	void *(*alloc)(void *ctx, uint64_t *phys);
	/* Take back a page alloc() gave, as the pair it returned, once no hardware uses it. */
	void (*free)(void *ctx, void *virt, uint64_t phys);
	void *ctx;
};

/*
 * moat_pages_alloc() - a page from @src (NULL, or alloc NULL: the platform). A platform page that
 * is not 4 KiB aligned or not below 2^52 is given back, logged, and NULL returned.
 */
void *moat_pages_alloc(const struct moat_pages *src, uint64_t *phys);

/* moat_pages_free() - give @virt/@phys back to @src (NULL, or free NULL: the platform). */
void moat_pages_free(const struct moat_pages *src, void *virt, uint64_t phys);

#ifdef __cplusplus
}
#endif

#endif
