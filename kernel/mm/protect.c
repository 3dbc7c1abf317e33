/* SPDX-License-Identifier: BSD-2-Clause */
/* The ranges of physical memory the kernel itself uses (see kernel_protected_ranges()). */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"

#define PROTECTED_MAX 64

static struct kernel_range ranges[PROTECTED_MAX];
static unsigned range_count;

void kernel_protect_add(uint64_t base, uint64_t size, const char *what)
{
	unsigned i;

	if (!size)
		return;
	for (i = 0; i < range_count; i++) {
		struct kernel_range *r = &ranges[i];

		if (r->what != what)
			continue;
		if (r->base + r->size == base) {
			r->size += size;
			/* The grown range may now touch the next one of the same kind. */
			if (i + 1 < range_count && ranges[i + 1].what == what &&
			    ranges[i + 1].base == r->base + r->size) {
				r->size += ranges[i + 1].size;
				for (unsigned j = i + 1; j + 1 < range_count; j++)
					ranges[j] = ranges[j + 1];
				range_count--;
			}
			return;
		}
		if (base + size == r->base) {
			r->base = base;
			r->size += size;
			return;
		}
	}
	if (range_count == PROTECTED_MAX)
		kernel_fatal("more than %u protected ranges: raise PROTECTED_MAX", PROTECTED_MAX);
	for (i = range_count; i > 0 && ranges[i - 1].base > base; i--)
		ranges[i] = ranges[i - 1];
	ranges[i] = (struct kernel_range){ base, size, what };
	range_count++;
}

const struct kernel_range *kernel_protected_ranges(unsigned *count)
{
	*count = range_count;
	return ranges;
}

bool kernel_range_is_protected(uint64_t base, uint64_t size)
{
	for (unsigned i = 0; i < range_count; i++) {
		if (base < ranges[i].base + ranges[i].size && ranges[i].base < base + size)
			return true;
	}
	return false;
}
