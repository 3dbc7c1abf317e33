/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The identity map (virtual = physical), 4-level paging (Intel SDM vol. 3, section 5.5): the boot
 * code maps the first 4 GiB with 2 MiB pages; this file maps the rest of memory from the memory map,
 * makes the MMIO holes uncached (PCD | PWT with the power-on PAT: UC), and maps register ranges on
 * demand, splitting a 2 MiB page into 4 KiB pages when a range shares it with memory.
 */
#include <moat/internal/lib.h>

#include "arch/cpu.h"
#include "boot/boot.h"
#include "kernel.h"
#include "mm/mm.h"

#define PTE_P     0x001ull
#define PTE_W     0x002ull
#define PTE_PWT   0x008ull
#define PTE_PCD   0x010ull
#define PTE_PS    0x080ull
#define PTE_ADDR  0x000ffffffffff000ull
#define PTE_LARGE_ADDR 0x000fffffffe00000ull
#define PTE_CACHE (PTE_PWT | PTE_PCD)

#define ENTRIES 512
#define CANONICAL_LIMIT (1ull << 47)   /* identity map: lower half of a 48-bit address space */

static unsigned phys_bits;
static bool changed;

unsigned paging_phys_bits(void)
{
	if (!phys_bits) {
		uint32_t a, b, c, d;

		cpuid(0x80000000, 0, &a, &b, &c, &d);
		if (a >= 0x80000008) {
			cpuid(0x80000008, 0, &a, &b, &c, &d);
			phys_bits = a & 0xff;
		}
		if (phys_bits < 32 || phys_bits > 52)
			phys_bits = 36;
	}
	return phys_bits;
}

static uint64_t *table_of(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & PTE_ADDR);
}

static uint64_t *new_table(void)
{
	uint64_t phys;

	/* Below 4 GiB: already mapped by the boot tables, so it can be filled at once. */
	if (!frames_take(&phys, PAGE_SIZE, PAGE_SIZE, 0, BOOT_IDENTITY_LIMIT, false))
		return NULL;
	moat_memset(kphys_to_virt(phys), 0, PAGE_SIZE);
	kernel_protect_add(phys, PAGE_SIZE, "page tables");
	return kphys_to_virt(phys);
}

/* The next-level table an entry points to, created when absent. */
static uint64_t *descend(uint64_t *entry)
{
	uint64_t *t;

	if (*entry & PTE_P)
		return (*entry & PTE_PS) ? NULL : table_of(*entry);
	t = new_table();
	if (t)
		*entry = kvirt_to_phys(t) | PTE_P | PTE_W;
	return t;
}

static uint64_t leaf_flags(enum paging_cache cache)
{
	return PTE_P | PTE_W | (cache == PAGING_UNCACHED ? PTE_CACHE : 0);
}

static void set_entry(uint64_t *e, uint64_t value)
{
	if (*e != value) {
		*e = value;
		changed = true;
	}
}

/* Map the part [lo, hi) of the 2 MiB chunk at @chunk, whose page-directory entry is @pde. */
static bool map_in_chunk(uint64_t *pde, uint64_t chunk, uint64_t lo, uint64_t hi, enum paging_cache cache,
			 bool keep_existing)
{
	uint64_t flags = leaf_flags(cache);
	uint64_t *pt;

	if ((*pde & PTE_P) && keep_existing && (*pde & PTE_PS))
		return true;
	if (lo == chunk && hi == chunk + LARGE_PAGE_SIZE && !(*pde & PTE_P)) {
		set_entry(pde, chunk | flags | PTE_PS);
		return true;
	}
	if ((*pde & PTE_P) && (*pde & PTE_PS)) {
		uint64_t old = *pde;

		if ((old & PTE_CACHE) == (flags & PTE_CACHE))
			return true;
		if (lo == chunk && hi == chunk + LARGE_PAGE_SIZE) {
			set_entry(pde, chunk | flags | PTE_PS);
			return true;
		}
		/* Split: 512 small pages with the large page's attributes, then change the range. */
		pt = new_table();
		if (!pt)
			return false;
		for (unsigned i = 0; i < ENTRIES; i++)
			pt[i] = ((old & PTE_LARGE_ADDR) + i * PAGE_SIZE) | (old & (PTE_P | PTE_W | PTE_CACHE));
		set_entry(pde, kvirt_to_phys(pt) | PTE_P | PTE_W);
	} else {
		pt = descend(pde);
		if (!pt)
			return false;
	}
	for (uint64_t a = lo & ~(PAGE_SIZE - 1); a < hi; a += PAGE_SIZE) {
		uint64_t *pte = &pt[(a >> 12) & (ENTRIES - 1)];

		if (keep_existing && (*pte & PTE_P))
			continue;
		set_entry(pte, a | flags);
	}
	return true;
}

bool paging_map(uint64_t phys, uint64_t size, enum paging_cache cache, bool keep_existing)
{
	uint64_t *pml4 = table_of(read_cr3());
	uint64_t end = phys + size;
	bool ok = true;

	if (!size)
		return true;
	if (end < phys || end > CANONICAL_LIMIT || end > (1ull << paging_phys_bits()))
		return false;
	changed = false;
	for (uint64_t chunk = phys & ~(LARGE_PAGE_SIZE - 1); chunk < end && ok; chunk += LARGE_PAGE_SIZE) {
		uint64_t *pdpt = descend(&pml4[(chunk >> 39) & (ENTRIES - 1)]);
		uint64_t *pd = pdpt ? descend(&pdpt[(chunk >> 30) & (ENTRIES - 1)]) : NULL;

		if (!pd) {
			ok = false;
			break;
		}
		ok = map_in_chunk(&pd[(chunk >> 21) & (ENTRIES - 1)], chunk, MOAT_MAX(phys, chunk),
				  MOAT_MIN(end, chunk + LARGE_PAGE_SIZE), cache, keep_existing);
	}
	if (changed)
		write_cr3(read_cr3());
	return ok;
}

void paging_init(void)
{
	const struct kernel_mem_region *map;
	unsigned count;

	/* Holes below 4 GiB (2 MiB chunks with no memory in them) hold registers: uncached. */
	for (uint64_t chunk = 0; chunk < BOOT_IDENTITY_LIMIT; chunk += LARGE_PAGE_SIZE) {
		if (!memmap_overlaps(chunk, LARGE_PAGE_SIZE, MEM_MASK_MEMORY))
			paging_map(chunk, LARGE_PAGE_SIZE, PAGING_UNCACHED, false);
	}
	/* Memory above 4 GiB: write-back. */
	map = kernel_memory_map(&count);
	for (unsigned i = 0; i < count; i++) {
		uint64_t base = map[i].base, end = map[i].base + map[i].length;

		if (!(MEM_MASK_MEMORY & MEM_MASK(map[i].type < 32 ? map[i].type : 31)) || end <= BOOT_IDENTITY_LIMIT)
			continue;
		base = MOAT_MAX(base, BOOT_IDENTITY_LIMIT);
		if (!paging_map(base, end - base, PAGING_WRITE_BACK, true))
			kprintf("paging: cannot map memory 0x%llx-0x%llx (CPU physical address width %u bits)\n",
				(unsigned long long)base, (unsigned long long)end - 1, paging_phys_bits());
	}
}

volatile void *kernel_map_mmio(uint64_t phys, uint64_t size)
{
	if (!size || phys + size < phys)
		return NULL;
	if (memmap_overlaps(phys, size, MEM_MASK(MEM_RAM)))
		return NULL;
	if (!paging_map(phys, size, PAGING_UNCACHED, false))
		return NULL;
	return (volatile void *)(uintptr_t)phys;
}

const void *kernel_map_firmware(uint64_t phys, uint64_t size)
{
	if (!size || phys + size < phys)
		return NULL;
	if (!paging_map(phys, size, PAGING_WRITE_BACK, true))
		return NULL;
	return (const void *)(uintptr_t)phys;
}
