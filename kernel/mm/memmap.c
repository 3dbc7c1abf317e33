/* SPDX-License-Identifier: BSD-2-Clause */
/* The firmware memory map, kept e820-style (base, length, type), sorted by base. */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"

#define MEMMAP_MAX MULTIBOOT_MMAP_MAX

static struct kernel_mem_region regions[MEMMAP_MAX];
static unsigned region_count;

static void add_region(uint64_t base, uint64_t length, uint32_t type)
{
	unsigned i;

	if (!length || region_count == MEMMAP_MAX)
		return;
	if (base + length < base)
		length = 0 - base; /* clip a region that wraps at the top of the address space */
	/* Insertion sort: the maps are short. */
	for (i = region_count; i > 0 && regions[i - 1].base > base; i--)
		regions[i] = regions[i - 1];
	regions[i] = (struct kernel_mem_region){ base, length, type };
	region_count++;
}

bool memmap_init(const struct multiboot_boot *mb)
{
	region_count = 0;
	if (mb->have_mmap) {
		for (unsigned i = 0; i < mb->mmap_count; i++)
			add_region(mb->mmap[i].base, mb->mmap[i].length, mb->mmap[i].type);
		if (mb->mmap_truncated)
			kprintf("memory map: more than %u regions, the rest ignored\n", MULTIBOOT_MMAP_MAX);
	} else if (mb->have_meminfo) {
		/* Only the two classic sizes: conventional memory and memory from 1 MiB up. */
		add_region(0, (uint64_t)mb->mem_lower_kib << 10, MEM_RAM);
		add_region(1ull << 20, (uint64_t)mb->mem_upper_kib << 10, MEM_RAM);
	}
	return region_count > 0;
}

const struct kernel_mem_region *kernel_memory_map(unsigned *count)
{
	*count = region_count;
	return regions;
}

const char *memmap_type_name(uint32_t type)
{
	switch (type) {
	case MEM_RAM:
		return "RAM";
	case MEM_RESERVED:
		return "reserved";
	case MEM_ACPI:
		return "ACPI tables";
	case MEM_NVS:
		return "ACPI NVS";
	case MEM_BAD:
		return "bad memory";
	default:
		return "unknown type";
	}
}

const char *memmap_type_words(uint32_t type)
{
	switch (type) {
	case MEM_RAM:
		return "ordinary memory, free for the kernel to use";
	case MEM_RESERVED:
		return "kept by the firmware or the chipset (off limits)";
	case MEM_ACPI:
		return "the firmware's description tables (ACPI)";
	case MEM_NVS:
		return "firmware memory that must be preserved (ACPI NVS)";
	case MEM_BAD:
		return "memory reported as faulty";
	default:
		return "a type this kernel does not know (left alone)";
	}
}

uint64_t memmap_ram_bytes(void)
{
	return memmap_ram_bytes_above(0);
}

uint64_t memmap_ram_bytes_above(uint64_t addr)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < region_count; i++) {
		uint64_t b = regions[i].base, e = b + regions[i].length;

		if (regions[i].type != MEM_RAM || e <= addr)
			continue;
		total += e - MOAT_MAX(b, addr);
	}
	return total;
}

uint64_t memmap_ram_end(void)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < region_count; i++) {
		if (regions[i].type == MEM_RAM)
			end = MOAT_MAX(end, regions[i].base + regions[i].length);
	}
	return end;
}

bool memmap_overlaps(uint64_t base, uint64_t size, uint32_t type_mask)
{
	for (unsigned i = 0; i < region_count; i++) {
		const struct kernel_mem_region *r = &regions[i];

		if (r->type >= 32 || !(type_mask & MEM_MASK(r->type)))
			continue;
		if (base < r->base + r->length && r->base < base + size)
			return true;
	}
	return false;
}

bool memmap_contains(uint64_t base, uint64_t size, uint32_t type)
{
	for (unsigned i = 0; i < region_count; i++) {
		const struct kernel_mem_region *r = &regions[i];

		if (r->type == type && base >= r->base && base + size <= r->base + r->length && base + size >= base)
			return true;
	}
	return false;
}
