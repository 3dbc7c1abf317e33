/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the multiboot1 loader tells the kernel (Multiboot Specification 0.6.96, section 3.3), copied
 * out of the loader's memory first thing, before the kernel allocates anything.
 */
#ifndef KERNEL_MULTIBOOT_H
#define KERNEL_MULTIBOOT_H

#include <stdbool.h>
#include <stdint.h>

#define MULTIBOOT_LOADER_MAGIC 0x2BADB002u
#define MULTIBOOT_MMAP_MAX 128
#define MULTIBOOT_CMDLINE_MAX 1024

struct multiboot_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;   /* 1 RAM, 2 reserved, 3 ACPI reclaimable, 4 ACPI NVS, 5 bad (as the BIOS E820) */
};

struct multiboot_boot {
	uint32_t flags;
	bool have_mmap;                  /* flags bit 6: a full memory map */
	bool have_meminfo;               /* flags bit 0: mem_lower/mem_upper only */
	uint32_t mem_lower_kib, mem_upper_kib;
	unsigned mmap_count;
	bool mmap_truncated;             /* more entries than MULTIBOOT_MMAP_MAX */
	struct multiboot_mmap_entry mmap[MULTIBOOT_MMAP_MAX];
	char cmdline[MULTIBOOT_CMDLINE_MAX]; /* "" when none was given */
};

/*
 * multiboot_copy() - check @magic and copy what @info_phys describes into @out. Returns false (with
 * a message printed) when the kernel was not started by a multiboot loader.
 */
bool multiboot_copy(uint32_t magic, uint32_t info_phys, struct multiboot_boot *out);

#endif
