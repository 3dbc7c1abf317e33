/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hardware's view of a unit, for the auditor: the root table as RTADDR names it (section
 * 10.4.6), its root entries (9.1) and the context entries (9.3) of the context tables they name,
 * read through the physical addresses stored in them. Read-only: nothing here writes the unit or
 * its tables. A pointer is followed only into a page the driver allocated for that very place;
 * any other pointer is handed to the caller and left alone (fail closed: report, do not follow).
 */
#include "vtd_internal.h"

moat_status moat_vtd_hw_state(const struct moat_vtd_unit *u, struct moat_vtd_hw *out)
{
	if (!moat_vtdi_probed(u))
		return MOAT_ERR_STATE;
	if (!out)
		return MOAT_ERR_INVALID_ARG;
	moat_memset(out, 0, sizeof(*out));
	out->rtaddr = moat_vtdi_read64(u, VTD_RTADDR_REG);
	out->gsts = moat_vtdi_read32(u, VTD_GSTS_REG);
	out->root_phys = out->rtaddr & VTD_RTADDR_RTA;
	out->translating = (out->gsts & VTD_GSTS_TES) != 0;
	/* Legacy mode only: under TTM 01 the same table would be read as scalable-mode entries. */
	out->root_ours = u->root && out->root_phys == u->root_phys && VTD_GET(VTD_RTADDR_TTM, out->rtaddr) == 0 &&
			 moat_plat_phys_to_virt(out->root_phys) != NULL;
	return MOAT_OK;
}

static void context_decode(uint64_t lo, uint64_t hi, struct moat_vtd_context *ce)
{
	ce->raw[0] = lo;
	ce->raw[1] = hi;
	ce->did = (uint16_t)VTD_GET(VTD_CE_HI_DID, hi);
	ce->levels = (uint8_t)(VTD_GET(VTD_CE_HI_AW, hi) + 2);
	ce->tt = (uint8_t)VTD_GET(VTD_CE_LO_TT, lo);
	ce->root_phys = lo & VTD_CE_LO_SLPTPTR;
}

/* The present entries of the context table of @bus at @t. */
static moat_status walk_context(unsigned bus, const volatile uint64_t *t, const struct moat_vtd_hw_fns *fns,
				void *ctx)
{
	for (unsigned devfn = 0; devfn < VTD_ENTRIES_PER_TABLE; devfn++) {
		uint64_t lo = t[devfn * 2], hi = t[devfn * 2 + 1];
		struct moat_vtd_context ce;
		moat_status st;

		if (!(lo & VTD_CE_LO_P))
			continue;
		context_decode(lo, hi, &ce);
		st = fns->context_entry(ctx, (uint16_t)(bus << 8 | devfn), &ce);
		if (st != MOAT_OK)
			return st;
	}
	return MOAT_OK;
}

moat_status moat_vtd_hw_walk(const struct moat_vtd_unit *u, const struct moat_vtd_hw *hw,
			     const struct moat_vtd_hw_fns *fns, void *ctx)
{
	const volatile uint64_t *root;

	if (!moat_vtdi_probed(u))
		return MOAT_ERR_STATE;
	if (!hw || !fns || !fns->root_entry || !fns->context_entry)
		return MOAT_ERR_INVALID_ARG;
	if (!hw->root_ours || !(root = moat_plat_phys_to_virt(hw->root_phys)))
		return MOAT_OK;
	for (unsigned bus = 0; bus < VTD_ENTRIES_PER_TABLE; bus++) {
		const uint64_t raw[2] = { root[bus * 2], root[bus * 2 + 1] };
		const uint64_t ctp = raw[0] & VTD_RE_LO_CTP;
		const uint64_t expected = u->ctx[bus] ? u->ctx_phys[bus] : 0;
		const volatile uint64_t *t = NULL;
		moat_status st;

		if (!(raw[0] & VTD_RE_LO_P))
			continue;
		if (expected && ctp == expected)
			t = moat_plat_phys_to_virt(ctp);
		st = fns->root_entry(ctx, bus, raw, ctp, expected, t != NULL);
		if (st == MOAT_OK && t)
			st = walk_context(bus, t, fns, ctx);
		if (st != MOAT_OK)
			return st;
	}
	return MOAT_OK;
}
