/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Physical memory: the firmware's memory map, the frames the kernel hands out, the identity page
 * tables, and the list of ranges the kernel itself uses (what a protection policy must keep every
 * device away from).
 *
 * Addresses are physical; the kernel maps all RAM and the MMIO it uses at virtual = physical.
 */
#ifndef KERNEL_MM_H
#define KERNEL_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "multiboot.h"

#define PAGE_SIZE 4096ull
#define LARGE_PAGE_SIZE (2ull << 20)

/* ---- The memory map (e820 types, as the BIOS and multiboot report them) ---- */

#define MEM_RAM      1u
#define MEM_RESERVED 2u
#define MEM_ACPI     3u  /* ACPI tables, reclaimable once read */
#define MEM_NVS      4u  /* ACPI non-volatile storage */
#define MEM_BAD      5u

struct kernel_mem_region {
	uint64_t base;
	uint64_t length;
	uint32_t type;   /* MEM_*, or another value the firmware used */
};

/* memmap_init() - the map from the loader, sorted by base, empty entries dropped. False if none. */
bool memmap_init(const struct multiboot_boot *mb);

/* kernel_memory_map() - the map, sorted by base; *@count gets the number of regions. */
const struct kernel_mem_region *kernel_memory_map(unsigned *count);

/* A short name ("RAM", "reserved", "ACPI tables", ...) and plain words for one type. */
const char *memmap_type_name(uint32_t type);
const char *memmap_type_words(uint32_t type);

uint64_t memmap_ram_bytes(void);          /* total of the RAM regions */
uint64_t memmap_ram_end(void);            /* end (exclusive) of the highest RAM region */
uint64_t memmap_ram_bytes_above(uint64_t addr);

/* True if [base, base + size) overlaps a region whose type bit (1u << type) is in @type_mask. */
bool memmap_overlaps(uint64_t base, uint64_t size, uint32_t type_mask);
#define MEM_MASK(type) (1u << (type))

/* True if [base, base + size) lies entirely inside one region of type @type. */
bool memmap_contains(uint64_t base, uint64_t size, uint32_t type);
#define MEM_MASK_MEMORY (MEM_MASK(MEM_RAM) | MEM_MASK(MEM_ACPI) | MEM_MASK(MEM_NVS))

/* ---- Ranges the kernel itself uses ---- */

struct kernel_range {
	uint64_t base;
	uint64_t size;
	const char *what;  /* "kernel image", "page tables", "Moat page pool", ... */
};

/*
 * kernel_protect_add() - remember that the kernel uses [base, base + size) for @what (a string that
 * lives forever). Adjacent ranges with the same @what are merged.
 */
void kernel_protect_add(uint64_t base, uint64_t size, const char *what);

/*
 * kernel_protected_ranges() - every range the kernel uses: its image (code, data, .bss with the
 * stacks and the boot page tables), the page tables it added, and the page pool given to Moat. No
 * device should ever be able to write these. Sorted by base; *@count gets the number.
 */
const struct kernel_range *kernel_protected_ranges(unsigned *count);

/* True if [base, base + size) overlaps any protected range. */
bool kernel_range_is_protected(uint64_t base, uint64_t size);

/* ---- Frames: free RAM above 1 MiB, outside the kernel image ---- */

/* frames_init() - the free RAM of the memory map, minus the first MiB and the kernel image. */
void frames_init(void);

/*
 * frames_take() - take @size bytes (multiple of 4 KiB) aligned to @align (a power of two, at least
 * 4 KiB) inside [@min, @max), the lowest such range, or the highest when @from_top. False if none.
 */
bool frames_take(uint64_t *phys, uint64_t size, uint64_t align, uint64_t min, uint64_t max, bool from_top);

/* frames_give() - give back a range taken by frames_take(). */
void frames_give(uint64_t phys, uint64_t size);

uint64_t frames_free_bytes(void);

/*
 * kpage_alloc() - one zeroed 4 KiB page of ordinary RAM in [@min, @max) (lowest first, or highest
 * when @from_top), mapped at virtual = physical. Returns NULL when none is free. For buffers that
 * devices read and write; not recorded as protected.
 */
void *kpage_alloc(uint64_t min, uint64_t max, bool from_top);
void kpage_free(void *page);

static inline uint64_t kvirt_to_phys(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static inline void *kphys_to_virt(uint64_t phys)
{
	return (void *)(uintptr_t)phys;
}

/* ---- Page tables (identity map) ---- */

enum paging_cache {
	PAGING_WRITE_BACK,
	PAGING_UNCACHED,
};

/*
 * paging_init() - extend the boot identity map to all memory the map reports (above 4 GiB too) and
 * make the holes below 4 GiB (MMIO) uncached. Needs memmap_init() and frames_init().
 */
void paging_init(void);

/*
 * paging_map() - identity-map [phys, phys + size) with @cache. With @keep_existing, pages already
 * mapped keep their mapping. False when the range is beyond the CPU's physical address width or a
 * page table could not be allocated.
 */
bool paging_map(uint64_t phys, uint64_t size, enum paging_cache cache, bool keep_existing);

/* The CPU's physical address width in bits (CPUID 0x80000008). */
unsigned paging_phys_bits(void);

/*
 * kernel_map_mmio() - registers at [phys, phys + size), mapped uncached. NULL when the range is
 * empty, wraps, lies beyond the physical address width, or overlaps memory the map calls RAM.
 */
volatile void *kernel_map_mmio(uint64_t phys, uint64_t size);

/* kernel_map_firmware() - firmware data (ACPI tables): mapped if it was not; NULL if impossible. */
const void *kernel_map_firmware(uint64_t phys, uint64_t size);

#endif
