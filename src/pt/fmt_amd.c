/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AMD-Vi v1 I/O page-table entries: AMD I/O Virtualization Technology (IOMMU) Specification, 48882,
 * section 2.2.3 (I/O Page Tables for Host Translations), the PDE and PTE formats.
 *
 * PR (bit 0) makes an entry present. Next Level (bits 11:9) says what the address (bits 51:12)
 * points to: in a PDE the level of the next table, in a PTE 0 (a page whose size is that of the
 * level: 4 KiB at level 1, 2 MiB at level 2, 1 GiB at level 3) or 7 (a page size encoded in the
 * address bits, which the engine never writes). IR (bit 61) and IW (bit 62) are the read and write
 * permissions, checked at every level, so links carry both and the leaf alone decides.
 * Links always point one level down (level skipping is allowed by the hardware but never written,
 * and reported as corrupt by decode so an auditor sees every level).
 */
#include "pt_format.h"

#include <moat/internal/lib.h>

#define AMD_PR          MOAT_BIT(0)            /* present */
#define AMD_NL_SHIFT    9                      /* next level */
#define AMD_NL_MASK     MOAT_GENMASK(11, 9)
#define AMD_ADDR        MOAT_GENMASK(51, 12)   /* next table or page frame */
#define AMD_IR          MOAT_BIT(61)           /* read permission */
#define AMD_IW          MOAT_BIT(62)           /* write permission */

static uint64_t amd_leaf_bits(unsigned level, unsigned prot)
{
	(void)level;  /* next level 0: a page of the level's size */
	return AMD_PR | ((prot & MOAT_PT_READ) ? AMD_IR : 0) | ((prot & MOAT_PT_WRITE) ? AMD_IW : 0);
}

static uint64_t amd_table_bits(unsigned level)
{
	return AMD_PR | AMD_IR | AMD_IW | ((uint64_t)(level - 1) << AMD_NL_SHIFT);
}

static enum pt_kind amd_decode(uint64_t e, unsigned level, uint64_t *addr, unsigned *prot)
{
	unsigned next;

	if (e == 0)
		return PT_EMPTY;
	if (!(e & AMD_PR))
		return PT_BAD;  /* not present, yet not clear */
	next = (unsigned)((e & AMD_NL_MASK) >> AMD_NL_SHIFT);
	*addr = e & AMD_ADDR;
	*prot = ((e & AMD_IR) ? MOAT_PT_READ : 0u) | ((e & AMD_IW) ? MOAT_PT_WRITE : 0u);
	if (next == 0) {
		if (level > 3)
			return PT_BAD;  /* a page larger than 1 GiB: never written */
		if (*addr & ((1ull << (12 + 9 * (level - 1))) - 1))
			return PT_BAD;  /* superpage address not aligned to its size */
		return PT_LEAF;
	}
	if (level > 1 && next == level - 1)
		return PT_TABLE;
	return PT_BAD;  /* level skip, next level 7 page sizes, or a level that does not exist */
}

const struct moat_pt_format_desc moat_pt_format_amd_v1 = {
	.name = "AMD-Vi v1",
	.min_levels = 1,
	.max_levels = 6,
	.leaf_levels = (1u << 1) | (1u << 2) | (1u << 3),
	.addr_mask = AMD_ADDR,
	.leaf_bits = amd_leaf_bits,
	.table_bits = amd_table_bits,
	.decode = amd_decode,
};
