/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Copy the multiboot information (Multiboot Specification 0.6.96, section 3.3). The information
 * structure and what it points to lie in memory the kernel will later hand out, so everything is
 * copied before anything is allocated. Offsets in the structure: flags 0, mem_lower 4, mem_upper 8,
 * cmdline 16, mmap_length 44, mmap_addr 48. A memory-map entry is a 32-bit size (not counting
 * itself), then base (64 bits), length (64 bits) and type (32 bits).
 */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "multiboot.h"

#define MBI_FLAG_MEMINFO 0x001u
#define MBI_FLAG_CMDLINE 0x004u
#define MBI_FLAG_MMAP    0x040u

#define MBI_OFF_FLAGS       0
#define MBI_OFF_MEM_LOWER   4
#define MBI_OFF_MEM_UPPER   8
#define MBI_OFF_CMDLINE     16
#define MBI_OFF_MMAP_LENGTH 44
#define MBI_OFF_MMAP_ADDR   48

#define MMAP_ENTRY_MIN 20u   /* base, length, type: the size field's smallest valid value */

static const uint8_t *phys_ptr(uint32_t phys)
{
	return (const uint8_t *)(uintptr_t)phys;
}

static void copy_mmap(const uint8_t *mbi, struct multiboot_boot *out)
{
	uint32_t len = moat_le32(mbi + MBI_OFF_MMAP_LENGTH);
	uint32_t addr = moat_le32(mbi + MBI_OFF_MMAP_ADDR);
	uint32_t off = 0;

	while (off + 4 <= len) {
		const uint8_t *e = phys_ptr(addr + off);
		uint32_t size = moat_le32(e);

		if (size < MMAP_ENTRY_MIN || size > len - off - 4) {
			kprintf("multiboot: memory map entry at +%u has size %u: map cut there\n", off, size);
			break;
		}
		if (out->mmap_count == MULTIBOOT_MMAP_MAX) {
			out->mmap_truncated = true;
			break;
		}
		out->mmap[out->mmap_count++] = (struct multiboot_mmap_entry){
			.base = moat_le64(e + 4),
			.length = moat_le64(e + 12),
			.type = moat_le32(e + 20),
		};
		off += size + 4;
	}
}

bool multiboot_copy(uint32_t magic, uint32_t info_phys, struct multiboot_boot *out)
{
	const uint8_t *mbi = phys_ptr(info_phys);

	moat_memset(out, 0, sizeof(*out));
	if (magic != MULTIBOOT_LOADER_MAGIC) {
		kprintf("multiboot: loader magic 0x%x, expected 0x%x: not started by a multiboot loader\n", magic,
			MULTIBOOT_LOADER_MAGIC);
		return false;
	}
	out->flags = moat_le32(mbi + MBI_OFF_FLAGS);
	if (out->flags & MBI_FLAG_MEMINFO) {
		out->have_meminfo = true;
		out->mem_lower_kib = moat_le32(mbi + MBI_OFF_MEM_LOWER);
		out->mem_upper_kib = moat_le32(mbi + MBI_OFF_MEM_UPPER);
	}
	if (out->flags & MBI_FLAG_MMAP) {
		out->have_mmap = true;
		copy_mmap(mbi, out);
	}
	if (out->flags & MBI_FLAG_CMDLINE) {
		const char *s = (const char *)phys_ptr(moat_le32(mbi + MBI_OFF_CMDLINE));
		size_t n = moat_strnlen(s, sizeof(out->cmdline) - 1);

		moat_memcpy(out->cmdline, s, n);
		out->cmdline[n] = '\0';
	}
	return true;
}
