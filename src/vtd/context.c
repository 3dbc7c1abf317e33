/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Legacy-mode root and context tables (sections 9.1 and 9.3) and device routing.
 *
 * The root table has one 128-bit entry per bus pointing at that bus's context table; a context
 * table has one 128-bit entry per device:function. Tables are allocated on demand and kept until
 * the unit is released. A requester id without a present context entry is blocked: default deny.
 * On a unit whose walks do not snoop caches (ECAP.C = 0), every line written is flushed.
 */
#include "vtd_internal.h"

static void table_free(const struct moat_vtd_unit *u, uint64_t **virt, uint64_t *phys)
{
	if (*virt)
		moat_pages_free(&u->pages, *virt, *phys);
	*virt = NULL;
	*phys = 0;
}

/* A fresh page is zero in the CPU's cache; flush it whole so a non-coherent walker sees zeros. */
static uint64_t *table_alloc(const struct moat_vtd_unit *u, uint64_t *phys)
{
	uint64_t *t = moat_pages_alloc(&u->pages, phys);

	if (t)
		moat_vtdi_flush_range(u, t, MOAT_PAGE_SIZE);
	return t;
}

moat_status moat_vtdi_tables_init(struct moat_vtd_unit *u)
{
	if (u->root)
		return MOAT_OK;
	u->root = table_alloc(u, &u->root_phys);
	return u->root ? MOAT_OK : MOAT_ERR_NO_MEMORY;
}

void moat_vtdi_tables_free(struct moat_vtd_unit *u)
{
	for (unsigned bus = 0; bus < VTD_ENTRIES_PER_TABLE; bus++)
		table_free(u, &u->ctx[bus], &u->ctx_phys[bus]);
	table_free(u, &u->root, &u->root_phys);
}

uint64_t *moat_vtdi_context_entry(const struct moat_vtd_unit *u, uint16_t rid)
{
	uint64_t *t = u->ctx[MOAT_RID_BUS(rid)];

	return t ? &t[(rid & 0xff) * 2] : NULL;
}

/* The context table of @bus, allocated and linked from the root table if needed. */
static moat_status context_table(struct moat_vtd_unit *u, uint8_t bus)
{
	moat_status st = moat_vtdi_tables_init(u);

	if (st != MOAT_OK || u->ctx[bus])
		return st;
	u->ctx[bus] = table_alloc(u, &u->ctx_phys[bus]);
	if (!u->ctx[bus])
		return MOAT_ERR_NO_MEMORY;

	volatile uint64_t *re = &u->root[bus * 2];
	re[1] = 0;
	re[0] = (u->ctx_phys[bus] & VTD_RE_LO_CTP) | VTD_RE_LO_P;
	moat_vtdi_flush_range(u, (const void *)(uintptr_t)re, VTD_ENTRY_SIZE);
	return MOAT_OK;
}

/* Device-selective context-cache invalidation, then a domain-selective IOTLB one. */
static moat_status invalidate_device(struct moat_vtd_unit *u, uint16_t cc_did, uint16_t rid, uint16_t iotlb_did,
				     struct moat_diag *diag)
{
	moat_status st = moat_vtdi_flush_write_buffer(u, diag);

	if (st == MOAT_OK)
		st = moat_vtdi_context_inval(u, MOAT_VTD_GRAN_DEVICE, cc_did, rid, 0, false, diag);
	if (st == MOAT_OK)
		st = moat_vtdi_iotlb_inval(u, MOAT_VTD_GRAN_DOMAIN, iotlb_did, 0, 0, false, diag);
	return st;
}

/* Clear a present entry: P first (the low quadword), so the hardware never sees a half-written one. */
static void entry_clear(const struct moat_vtd_unit *u, volatile uint64_t *ce)
{
	ce[0] = 0;
	ce[1] = 0;
	moat_vtdi_flush_range(u, (const void *)(uintptr_t)ce, VTD_ENTRY_SIZE);
}

moat_status moat_vtd_attach(struct moat_vtd_unit *u, uint32_t rid, uint32_t did, uint64_t root_phys,
			    unsigned levels, enum moat_vtd_tt tt, struct moat_diag *diag)
{
	moat_status st;

	if (!moat_vtdi_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d attach: unit not probed");
	if (rid > 0xffff)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d attach: requester id 0x%x out of range",
				     (unsigned)rid);
	if (did < u->caps.did_min || did >= (1u << u->caps.domain_bits))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, VTD_CAP_REG,
				     "VT-d unit 0x%llx: domain id %u outside %u..%u (CAP.ND%s)",
				     (unsigned long long)u->reg_phys, (unsigned)did, (unsigned)u->caps.did_min,
				     (1u << u->caps.domain_bits) - 1, u->caps.caching_mode ? ", 0 reserved by CAP.CM" : "");
	if (levels < VTD_LEVELS_MIN || levels > VTD_LEVELS_MAX || !(u->caps.levels_mask & MOAT_VTD_LEVEL_BIT(levels)))
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, VTD_CAP_REG,
				     "VT-d unit 0x%llx: %u-level tables not supported (CAP.SAGAW 0x%x)",
				     (unsigned long long)u->reg_phys, levels, (unsigned)VTD_GET(VTD_CAP_SAGAW, u->cap));
	if (!root_phys)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d attach: no page-table root");
	if (root_phys & ~VTD_CE_LO_SLPTPTR)
		return moat_diag_set(diag, MOAT_ERR_ALIGNMENT, NULL, 0, "VT-d attach: page-table root 0x%llx not 4 KiB aligned",
				     (unsigned long long)root_phys);
	if (tt != MOAT_VTD_TT_UNTRANSLATED)
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, 0, "VT-d attach: translation type %u not allowed",
				     (unsigned)tt);

	st = context_table(u, MOAT_RID_BUS(rid));
	if (st != MOAT_OK)
		return moat_diag_set(diag, st, NULL, 0, "VT-d unit 0x%llx: no page for a context table",
				     (unsigned long long)u->reg_phys);

	volatile uint64_t *ce = moat_vtdi_context_entry(u, (uint16_t)rid);
	uint64_t lo = (root_phys & VTD_CE_LO_SLPTPTR) | VTD_PREP(VTD_CE_LO_TT, VTD_TT_UNTRANSLATED) | VTD_CE_LO_P;
	uint64_t hi = VTD_PREP(VTD_CE_HI_AW, VTD_AW_OF_LEVELS(levels)) | VTD_PREP(VTD_CE_HI_DID, did);
	uint64_t old_lo = ce[0], old_hi = ce[1];

	if (old_lo == lo && old_hi == hi)
		return MOAT_OK;
	if (old_lo & VTD_CE_LO_P) {
		/* Present to present: take the old entry down and invalidate it before the new one. */
		entry_clear(u, ce);
		if (u->enabled) {
			uint16_t old_did = (uint16_t)VTD_GET(VTD_CE_HI_DID, old_hi);
			st = invalidate_device(u, old_did, (uint16_t)rid, old_did, diag);
			if (st != MOAT_OK)
				return st;
		}
	}

	/* High quadword first, the low one with P last; both share one cache line. */
	ce[1] = hi;
	ce[0] = lo;
	moat_vtdi_flush_range(u, (const void *)(uintptr_t)ce, VTD_ENTRY_SIZE);
	if (!u->enabled)
		return MOAT_OK;
	/*
	 * Section 6.1: under caching mode the hardware may have cached the not-present entry, tagged
	 * with domain id 0; invalidate that, and the new domain's IOTLB. Without caching mode nothing
	 * not-present is cached; a device-selective invalidation is issued anyway (it costs one
	 * descriptor and covers a stale entry of the same domain).
	 */
	if (u->caps.caching_mode)
		return invalidate_device(u, 0, (uint16_t)rid, (uint16_t)did, diag);
	st = moat_vtdi_flush_write_buffer(u, diag);
	if (st == MOAT_OK)
		st = moat_vtdi_context_inval(u, MOAT_VTD_GRAN_DEVICE, did, rid, 0, false, diag);
	return st;
}

moat_status moat_vtd_detach(struct moat_vtd_unit *u, uint32_t rid, struct moat_diag *diag)
{
	if (!moat_vtdi_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d detach: unit not probed");
	if (rid > 0xffff)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d detach: requester id 0x%x out of range",
				     (unsigned)rid);

	volatile uint64_t *ce = moat_vtdi_context_entry(u, (uint16_t)rid);
	if (!ce || !(ce[0] & VTD_CE_LO_P))
		return moat_diag_set(diag, MOAT_ERR_NOT_FOUND, NULL, 0, "VT-d unit 0x%llx: %02x:%02x.%x is not attached",
				     (unsigned long long)u->reg_phys, MOAT_RID_BUS(rid), MOAT_RID_DEV(rid),
				     MOAT_RID_FN(rid));

	uint16_t did = (uint16_t)VTD_GET(VTD_CE_HI_DID, ce[1]);
	entry_clear(u, ce);
	if (!u->enabled)
		return MOAT_OK;
	return invalidate_device(u, did, (uint16_t)rid, did, diag);
}

moat_status moat_vtd_context_get(const struct moat_vtd_unit *u, uint32_t rid, struct moat_vtd_context *out)
{
	if (!moat_vtdi_probed(u))
		return MOAT_ERR_STATE;
	if (!out || rid > 0xffff)
		return MOAT_ERR_INVALID_ARG;

	const volatile uint64_t *ce = moat_vtdi_context_entry(u, (uint16_t)rid);
	if (!ce || !(ce[0] & VTD_CE_LO_P))
		return MOAT_ERR_NOT_FOUND;
	out->raw[0] = ce[0];
	out->raw[1] = ce[1];
	out->did = (uint16_t)VTD_GET(VTD_CE_HI_DID, out->raw[1]);
	out->levels = (uint8_t)(VTD_GET(VTD_CE_HI_AW, out->raw[1]) + 2);
	out->tt = (uint8_t)VTD_GET(VTD_CE_LO_TT, out->raw[0]);
	out->root_phys = out->raw[0] & VTD_CE_LO_SLPTPTR;
	return MOAT_OK;
}

moat_status moat_vtd_pages(const struct moat_vtd_unit *u, uint64_t *phys, unsigned max, unsigned *count)
{
	unsigned n = 0;

	if (!moat_vtdi_probed(u))
		return MOAT_ERR_STATE;
	if (!count || (max && !phys))
		return MOAT_ERR_INVALID_ARG;
	if (u->root)
		moat_list_add64(u->root_phys, phys, max, &n);
	for (unsigned bus = 0; bus < VTD_ENTRIES_PER_TABLE; bus++)
		if (u->ctx[bus])
			moat_list_add64(u->ctx_phys[bus], phys, max, &n);
	if (u->iq)
		moat_list_add64(u->iq_phys, phys, max, &n);
	if (u->wait_status)
		moat_list_add64(u->wait_status_phys, phys, max, &n);
	if (u->ir_phys)
		for (uint32_t i = 0; i < MOAT_MAX(u->ir_entries / VTD_IRTE_PER_PAGE, 1u); i++)
			moat_list_add64(u->ir_phys + (uint64_t)i * MOAT_PAGE_SIZE, phys, max, &n);
	for (unsigned i = 0; i < MOAT_VTD_IR_REC_PAGES; i++)
		if (u->ir_rec[i])
			moat_list_add64(u->ir_rec_phys[i], phys, max, &n);
	*count = n;
	return n <= max ? MOAT_OK : MOAT_ERR_NO_SPACE;
}

/* ---- routing ---- */

moat_status moat_vtd_routes(const struct moat_sysdesc *desc, uint16_t segment, uint16_t rid, uint32_t *unit_index)
{
	/* Explicit device scopes first: they take a device away from an INCLUDE_PCI_ALL unit. */
	return moat_sysdesc_route(desc, MOAT_VENDOR_VTD, segment, rid, unit_index);
}
