/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hardware's view of an IOMMU, for the auditor: the device table as the Device Table Base
 * register names it (48882 section 3.4.1) and its entries (section 2.2.2.1), read through the
 * physical addresses the register holds. Read-only. The table is read only when the register names
 * exactly the table the driver allocated (base and size); each entry is read once.
 */
#include "amdvi_internal.h"

moat_status moat_amdvi_hw_state(const struct moat_amdvi_unit *u, struct moat_amdvi_hw *out)
{
	if (!moat_amdvii_probed(u))
		return MOAT_ERR_STATE;
	if (!out)
		return MOAT_ERR_INVALID_ARG;
	moat_memset(out, 0, sizeof(*out));
	out->devtab = moat_amdvii_read(u, AMDVI_DEVTAB_BASE_REG);
	out->control = moat_amdvii_read(u, AMDVI_CONTROL_REG);
	out->table_phys = out->devtab & AMDVI_DEVTAB_BASE;
	out->table_pages = (uint32_t)AMDVI_GET(AMDVI_DEVTAB_SIZE, out->devtab) + 1;
	out->translating = (out->control & AMDVI_CTRL_IOMMU_EN) != 0;
	out->table_ours = u->dt_phys && out->table_phys == u->dt_phys &&
			  out->table_pages == u->dt_entries / AMDVI_DTE_PER_PAGE;
	return MOAT_OK;
}

void moat_amdvi_dte_decode(const uint64_t raw[4], struct moat_amdvi_dte *out)
{
	moat_memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < 4; i++)
		out->raw[i] = raw[i];
	out->valid = (raw[0] & AMDVI_DTE0_V) != 0;
	out->translated = (raw[0] & AMDVI_DTE0_TV) != 0;
	out->read = (raw[0] & AMDVI_DTE0_IR) != 0;
	out->write = (raw[0] & AMDVI_DTE0_IW) != 0;
	out->levels = (uint8_t)AMDVI_GET(AMDVI_DTE0_MODE, raw[0]);
	out->root_phys = raw[0] & AMDVI_DTE0_PT_ROOT;
	out->did = (uint16_t)AMDVI_GET(AMDVI_DTE1_DOMAIN_ID, raw[1]);
	out->iotlb = (raw[1] & AMDVI_DTE1_I) != 0;
}

/* The entries of one page of the table, but the blocking ones. */
static moat_status walk_page(uint32_t first, const volatile uint64_t *t, const struct moat_amdvi_hw_fns *fns,
			     void *ctx)
{
	for (uint32_t i = 0; i < AMDVI_DTE_PER_PAGE; i++) {
		const volatile uint64_t *e = t + i * (AMDVI_DTE_SIZE / 8);
		const uint64_t raw[4] = { e[0], e[1], e[2], e[3] };
		struct moat_amdvi_dte d;
		moat_status st;

		if (raw[0] == AMDVI_DTE0_V && !raw[1] && !raw[2] && !raw[3])
			continue;
		moat_amdvi_dte_decode(raw, &d);
		st = fns->entry(ctx, first + i, &d);
		if (st != MOAT_OK)
			return st;
	}
	return MOAT_OK;
}

moat_status moat_amdvi_hw_walk(const struct moat_amdvi_unit *u, const struct moat_amdvi_hw *hw,
			       const struct moat_amdvi_hw_fns *fns, void *ctx)
{
	if (!moat_amdvii_probed(u))
		return MOAT_ERR_STATE;
	if (!hw || !fns || !fns->page || !fns->entry)
		return MOAT_ERR_INVALID_ARG;
	if (!hw->table_ours)
		return MOAT_OK;
	for (uint32_t p = 0; p < hw->table_pages; p++) {
		const uint64_t phys = hw->table_phys + (uint64_t)p * MOAT_PAGE_SIZE;
		const volatile uint64_t *t = moat_plat_phys_to_virt(phys);
		moat_status st = fns->page(ctx, p, phys, t != NULL);

		if (st == MOAT_OK && t)
			st = walk_page(p * AMDVI_DTE_PER_PAGE, t, fns, ctx);
		if (st != MOAT_OK)
			return st;
	}
	return MOAT_OK;
}
