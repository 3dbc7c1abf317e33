/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Intel VT-d second-stage paging entries: VT-d spec rev 4.1 / 5.0, section 9.8 (Second-Stage Paging
 * Entries; "second-level" in rev 3.x) and section 3.7 (Second-Stage Translation).
 *
 * Every level (SS-PML5E, SS-PML4E, SS-PDPE, SS-PDE, SS-PTE) has the same permission bits; an entry
 * with neither R nor W is not present. The access allowed to a page is the AND over all levels, so
 * links carry R|W and the leaf alone decides. PS in an SS-PDPE (level 3) or SS-PDE (level 2) makes
 * it a 1 GiB or 2 MiB leaf; PS is reserved in SS-PML5E/SS-PML4E and ignored in an SS-PTE. The
 * address field is bits 51:12 (up to the host address width); in a superpage the address bits
 * below the page size are reserved (zero).
 */
#include "pt_format.h"

#include <moat/internal/lib.h>

#define VTD_R    MOAT_BIT(0)            /* read */
#define VTD_W    MOAT_BIT(1)            /* write */
#define VTD_PS   MOAT_BIT(7)            /* page size: leaf at level 2 or 3 */
#define VTD_ADDR MOAT_GENMASK(51, 12)   /* next table or page frame */

static uint64_t vtd_prot_bits(unsigned prot)
{
	return ((prot & MOAT_PT_READ) ? VTD_R : 0) | ((prot & MOAT_PT_WRITE) ? VTD_W : 0);
}

static uint64_t vtd_leaf_bits(unsigned level, unsigned prot)
{
	return vtd_prot_bits(prot) | (level > 1 ? VTD_PS : 0);
}

static uint64_t vtd_table_bits(unsigned level)
{
	(void)level;
	return VTD_R | VTD_W;
}

static enum pt_kind vtd_decode(uint64_t e, unsigned level, uint64_t *addr, unsigned *prot)
{
	if (e == 0)
		return PT_EMPTY;
	if (!(e & (VTD_R | VTD_W)))
		return PT_BAD;  /* not present, yet not clear */
	*addr = e & VTD_ADDR;
	*prot = ((e & VTD_R) ? MOAT_PT_READ : 0u) | ((e & VTD_W) ? MOAT_PT_WRITE : 0u);
	if (level == 1)
		return PT_LEAF;
	if (!(e & VTD_PS))
		return PT_TABLE;
	if (level > 3)
		return PT_BAD;  /* PS is reserved above the SS-PDPE */
	if (*addr & ((1ull << (12 + 9 * (level - 1))) - 1))
		return PT_BAD;  /* reserved address bits of a superpage set */
	return PT_LEAF;
}

const struct moat_pt_format_desc moat_pt_format_vtd_sl = {
	.name = "VT-d second-stage",
	.min_levels = 3,
	.max_levels = 5,
	.leaf_levels = (1u << 1) | (1u << 2) | (1u << 3),
	.addr_mask = VTD_ADDR,
	.leaf_bits = vtd_leaf_bits,
	.table_bits = vtd_table_bits,
	.decode = vtd_decode,
};
