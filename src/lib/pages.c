/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The one place that takes pages from the platform (include/moat/pages.h). Inside a system only
 * the core's page supply (src/core/pages.c) calls it with the platform as source; everything else
 * gets its pages from the core.
 */
#include <moat/internal/lib.h>
#include <moat/pages.h>

#define PAGES_PHYS_LIMIT (1ull << 52)

void *moat_pages_alloc(const struct moat_pages *src, uint64_t *phys)
{
	void *virt;

	if (src && src->alloc)
		return src->alloc(src->ctx, phys);
	virt = moat_plat_page_alloc(phys);
	if (virt && ((*phys & (MOAT_PAGE_SIZE - 1)) || *phys >= PAGES_PHYS_LIMIT ||
		     ((uintptr_t)virt & (MOAT_PAGE_SIZE - 1)))) {
		moat_log(MOAT_LOG_ERROR, "platform page at 0x%llx is unaligned or above 2^52; not used",
			 (unsigned long long)*phys);
		moat_plat_page_free(virt, *phys);
		return NULL;
	}
	return virt;
}

void moat_pages_free(const struct moat_pages *src, void *virt, uint64_t phys)
{
	if (src && src->free)
		src->free(src->ctx, virt, phys);
	else
		moat_plat_page_free(virt, phys);
}
