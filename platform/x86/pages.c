/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Page frames for Moat: a bitmap over one pool of RAM reserved by the kernel at boot (recorded in the
 * kernel's protected ranges as "Moat page pool"). Identity-mapped, so virtual = physical.
 */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "x86_platform.h"

#define WORD_BITS 64u

static uint64_t pool_base;
static uint32_t pool_pages;
static uint64_t bitmap[X86_PLAT_POOL_MAX_PAGES / WORD_BITS];
static uint32_t next_hint;
static struct x86_plat_pool_stats stats;
static struct moat_lock pool_lock;

void x86_plat_pool_init(uint64_t phys, uint64_t size)
{
	uint64_t pages = size / MOAT_PAGE_SIZE;

	moat_plat_lock_init(&pool_lock);
	pool_base = phys;
	pool_pages = (uint32_t)MOAT_MIN(pages, (uint64_t)X86_PLAT_POOL_MAX_PAGES);
	moat_memset(bitmap, 0, sizeof(bitmap));
	next_hint = 0;
	moat_memset(&stats, 0, sizeof(stats));
	stats.base = phys;
	stats.size = (uint64_t)pool_pages * MOAT_PAGE_SIZE;
	stats.pages_total = pool_pages;
}

void x86_plat_pool_stats(struct x86_plat_pool_stats *out)
{
	moat_plat_lock_acquire(&pool_lock);
	*out = stats;
	moat_plat_lock_release(&pool_lock);
}

static bool page_used(uint32_t i)
{
	return (bitmap[i / WORD_BITS] >> (i % WORD_BITS)) & 1u;
}

static void page_mark(uint32_t i, bool used)
{
	if (used)
		bitmap[i / WORD_BITS] |= 1ull << (i % WORD_BITS);
	else
		bitmap[i / WORD_BITS] &= ~(1ull << (i % WORD_BITS));
}

void *moat_plat_page_alloc(uint64_t *phys)
{
	uint32_t found = UINT32_MAX;
	void *virt;

	moat_plat_lock_acquire(&pool_lock);
	for (uint32_t k = 0; k < pool_pages; k++) {
		uint32_t i = (next_hint + k) % pool_pages;

		if (!page_used(i)) {
			found = i;
			break;
		}
	}
	if (found == UINT32_MAX) {
		stats.alloc_failures++;
		moat_plat_lock_release(&pool_lock);
		return NULL;
	}
	page_mark(found, true);
	next_hint = (found + 1) % pool_pages;
	stats.allocs++;
	stats.pages_used++;
	stats.pages_peak = MOAT_MAX(stats.pages_peak, stats.pages_used);
	moat_plat_lock_release(&pool_lock);

	*phys = pool_base + (uint64_t)found * MOAT_PAGE_SIZE;
	virt = (void *)(uintptr_t)*phys;
	moat_memset(virt, 0, MOAT_PAGE_SIZE);
	return virt;
}

/* Index of the pool page at @phys, or UINT32_MAX when @phys is not the start of a pool page. */
static uint32_t page_index(uint64_t phys)
{
	if (phys < pool_base || (phys - pool_base) % MOAT_PAGE_SIZE)
		return UINT32_MAX;
	if ((phys - pool_base) / MOAT_PAGE_SIZE >= pool_pages)
		return UINT32_MAX;
	return (uint32_t)((phys - pool_base) / MOAT_PAGE_SIZE);
}

void moat_plat_page_free(void *virt, uint64_t phys)
{
	uint32_t i = page_index(phys);

	moat_plat_lock_acquire(&pool_lock);
	if (i == UINT32_MAX || virt != (void *)(uintptr_t)phys || !page_used(i)) {
		stats.bad_frees++;
		moat_plat_lock_release(&pool_lock);
		kprintf("moat platform: page free of %p / 0x%llx refused: not a pool page in use\n", virt,
			(unsigned long long)phys);
		return;
	}
	page_mark(i, false);
	stats.frees++;
	stats.pages_used--;
	moat_plat_lock_release(&pool_lock);
}

void *moat_plat_phys_to_virt(uint64_t phys)
{
	uint32_t i = page_index(phys & ~(uint64_t)(MOAT_PAGE_SIZE - 1));
	bool used;

	if (i == UINT32_MAX)
		return NULL;
	moat_plat_lock_acquire(&pool_lock);
	used = page_used(i);
	moat_plat_lock_release(&pool_lock);
	return used ? (void *)(uintptr_t)phys : NULL;
}
