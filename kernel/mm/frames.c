/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Free physical memory as a sorted list of ranges [base, end): taking a block carves it out of a
 * range (splitting it when the block is in the middle), giving it back merges it with its neighbours.
 */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"

#define FREE_RANGES_MAX 128
#define LOW_MEMORY_END (1ull << 20)   /* BIOS data, EBDA, option ROMs: never handed out */

struct free_range {
	uint64_t base;
	uint64_t end;
};

static struct free_range ranges[FREE_RANGES_MAX];
static unsigned range_count;

extern char __kernel_start[], __kernel_end[];

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static bool insert_at(unsigned i, uint64_t base, uint64_t end)
{
	if (range_count == FREE_RANGES_MAX)
		return false;
	for (unsigned j = range_count; j > i; j--)
		ranges[j] = ranges[j - 1];
	ranges[i] = (struct free_range){ base, end };
	range_count++;
	return true;
}

static void remove_at(unsigned i)
{
	for (unsigned j = i; j + 1 < range_count; j++)
		ranges[j] = ranges[j + 1];
	range_count--;
}

/* Remove [base, end) from whatever free ranges it overlaps. */
static void carve(uint64_t base, uint64_t end)
{
	for (unsigned i = 0; i < range_count; i++) {
		struct free_range *r = &ranges[i];

		if (end <= r->base || r->end <= base)
			continue;
		if (base <= r->base && r->end <= end) {
			remove_at(i--);
		} else if (base <= r->base) {
			r->base = end;
		} else if (r->end <= end) {
			r->end = base;
		} else {
			uint64_t old_end = r->end;

			r->end = base;
			if (!insert_at(i + 1, end, old_end))
				kernel_fatal("free memory too fragmented (%u ranges)", FREE_RANGES_MAX);
			i++;
		}
	}
}

void frames_give(uint64_t phys, uint64_t size)
{
	uint64_t end = phys + size;
	unsigned i;

	for (i = 0; i < range_count && ranges[i].base < phys; i++)
		;
	if (i > 0 && ranges[i - 1].end == phys) {
		ranges[i - 1].end = end;
		if (i < range_count && ranges[i].base == end) {
			ranges[i - 1].end = ranges[i].end;
			remove_at(i);
		}
		return;
	}
	if (i < range_count && ranges[i].base == end) {
		ranges[i].base = phys;
		return;
	}
	if (!insert_at(i, phys, end))
		kprintf("frames: %llu bytes at 0x%llx lost: free list full\n", (unsigned long long)size,
			(unsigned long long)phys);
}

void frames_init(void)
{
	const struct kernel_mem_region *map;
	unsigned count;

	range_count = 0;
	map = kernel_memory_map(&count);
	for (unsigned i = 0; i < count; i++) {
		uint64_t base = align_up(MOAT_MAX(map[i].base, LOW_MEMORY_END), PAGE_SIZE);
		uint64_t end = align_down(map[i].base + map[i].length, PAGE_SIZE);

		if (map[i].type == MEM_RAM && base < end)
			frames_give(base, end - base);
	}
	/* Firmware maps may overlap: whatever any other region claims is not free. */
	for (unsigned i = 0; i < count; i++) {
		if (map[i].type != MEM_RAM)
			carve(align_down(map[i].base, PAGE_SIZE), align_up(map[i].base + map[i].length, PAGE_SIZE));
	}
	carve((uint64_t)(uintptr_t)__kernel_start, align_up((uint64_t)(uintptr_t)__kernel_end, PAGE_SIZE));
}

bool frames_take(uint64_t *phys, uint64_t size, uint64_t align, uint64_t min, uint64_t max, bool from_top)
{
	if (!size || (size & (PAGE_SIZE - 1)) || align < PAGE_SIZE || (align & (align - 1)))
		return false;
	for (unsigned k = 0; k < range_count; k++) {
		unsigned i = from_top ? range_count - 1 - k : k;
		uint64_t lo = MOAT_MAX(ranges[i].base, min), hi = MOAT_MIN(ranges[i].end, max), at;

		if (hi <= lo || hi - lo < size)
			continue;
		at = from_top ? align_down(hi - size, align) : align_up(lo, align);
		if (at < lo || at + size > hi || at + size < at)
			continue;
		carve(at, at + size);
		*phys = at;
		return true;
	}
	return false;
}

uint64_t frames_free_bytes(void)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < range_count; i++)
		total += ranges[i].end - ranges[i].base;
	return total;
}

void *kpage_alloc(uint64_t min, uint64_t max, bool from_top)
{
	uint64_t phys;

	if (!frames_take(&phys, PAGE_SIZE, PAGE_SIZE, min, max, from_top))
		return NULL;
	moat_memset(kphys_to_virt(phys), 0, PAGE_SIZE);
	return kphys_to_virt(phys);
}

void kpage_free(void *page)
{
	if (page)
		frames_give(kvirt_to_phys(page), PAGE_SIZE);
}
