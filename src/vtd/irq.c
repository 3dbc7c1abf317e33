/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupt remapping (chapter 5): the interrupt remapping table, its entries and their
 * invalidation, and the fault event interrupt.
 *
 * Entry writes follow the rules of section 9.10 for an entry the hardware may read at any time:
 * every field that decides where an interrupt goes (P, destination, vector, modes) is in the low
 * quadword, the source check (SID, SQ, SVT) in the high one. So an entry is made present by
 * writing the high quadword while it is not present and then the low one; a change of
 * destination is one 64-bit store of the low quadword; an entry is freed by clearing the low
 * quadword first. The unit never reads a present entry that is half old, half new.
 *
 * Moat keeps its own record of each entry (allocated, and the source check it must carry) in
 * pages apart from the table: the auditor compares the live table with it, and an entry is
 * reused only after its invalidation completed.
 */
#include "vtd_internal.h"

MOAT_STATIC_ASSERT(MOAT_VTD_IR_PER_PAGE == VTD_IRTE_PER_PAGE, "entries per page");

#define REC_ALLOCATED 0x80000000u
#define REC_CHECK 0x000fffffu

static volatile uint64_t *irte(const struct moat_vtd_unit *u, uint32_t index)
{
	return (volatile uint64_t *)u->ir_page[index / VTD_IRTE_PER_PAGE] + (index % VTD_IRTE_PER_PAGE) * 2;
}

static uint32_t *rec(const struct moat_vtd_unit *u, uint32_t index)
{
	return &u->ir_rec[index / MOAT_VTD_IR_REC_PER_PAGE][index % MOAT_VTD_IR_REC_PER_PAGE];
}

static unsigned log2u(uint32_t v)
{
	unsigned n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

/* ---- the table ---- */

static void ir_page_put(void *ctx, uint32_t i, void *virt)
{
	struct moat_vtd_unit *u = ctx;

	u->ir_page[i] = virt;
}

static void ir_pages_free(struct moat_vtd_unit *u)
{
	uint32_t pages = u->ir_entries / VTD_IRTE_PER_PAGE;

	if (u->ir_phys)
		for (uint32_t i = 0; i < MOAT_MAX(pages, 1u); i++)
			moat_pages_free(&u->pages, u->ir_page[i], u->ir_phys + (uint64_t)i * MOAT_PAGE_SIZE);
	for (unsigned i = 0; i < MOAT_VTD_IR_REC_PAGES; i++)
		if (u->ir_rec[i])
			moat_pages_free(&u->pages, u->ir_rec[i], u->ir_rec_phys[i]);
	moat_memset(u->ir_page, 0, sizeof(u->ir_page));
	moat_memset(u->ir_rec, 0, sizeof(u->ir_rec));
	moat_memset(u->ir_rec_phys, 0, sizeof(u->ir_rec_phys));
	u->ir_phys = 0;
	u->ir_entries = 0;
	u->ir_used = 0;
}

void moat_vtdi_ir_free(struct moat_vtd_unit *u)
{
	ir_pages_free(u);
}

/* Pages are allocated before any register is written: taking a page may invalidate the unit. */
static moat_status ir_pages_alloc(struct moat_vtd_unit *u, uint32_t entries, struct moat_diag *diag)
{
	uint32_t pages = MOAT_MAX(entries / VTD_IRTE_PER_PAGE, 1u);
	uint32_t recs = (entries + MOAT_VTD_IR_REC_PER_PAGE - 1) / MOAT_VTD_IR_REC_PER_PAGE;

	/* A table larger than a page must be aligned to its size (IRTA). */
	if (moat_pages_alloc_run(&u->pages, pages, (uint64_t)pages * MOAT_PAGE_SIZE, ir_page_put, u, &u->ir_phys) !=
	    MOAT_OK)
		return moat_diag_set(diag, MOAT_ERR_NO_MEMORY, NULL, VTD_IRTA_REG,
				     "VT-d unit 0x%llx: no %u physically contiguous pages aligned to their size for a "
				     "%u-entry interrupt remapping table", (unsigned long long)u->reg_phys, (unsigned)pages,
				     (unsigned)entries);
	u->ir_entries = entries;
	for (uint32_t i = 0; i < recs; i++) {
		u->ir_rec[i] = moat_pages_alloc(&u->pages, &u->ir_rec_phys[i]);
		if (!u->ir_rec[i]) {
			ir_pages_free(u);
			return moat_diag_set(diag, MOAT_ERR_NO_MEMORY, NULL, 0,
					     "VT-d unit 0x%llx: no page for the records of the interrupt remapping table",
					     (unsigned long long)u->reg_phys);
		}
	}
	moat_vtdi_flush_range(u, (const void *)u->ir_page[0], MOAT_PAGE_SIZE);
	for (uint32_t i = 1; i < pages; i++)
		moat_vtdi_flush_range(u, (const void *)u->ir_page[i], MOAT_PAGE_SIZE);
	return MOAT_OK;
}

static moat_status gcmd_if(struct moat_vtd_unit *u, uint32_t bit, bool on, struct moat_diag *diag)
{
	bool is_on = (moat_vtdi_read32(u, VTD_GSTS_REG) & bit) != 0;

	return is_on == on ? MOAT_OK : moat_vtdi_gcmd(u, bit, on, diag);
}

moat_status moat_vtd_ir_enable(struct moat_vtd_unit *u, uint32_t entries, bool eim, bool cfi, struct moat_diag *diag)
{
	moat_status st;

	if (!moat_vtdi_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d interrupt remapping: unit not probed");
	if (!u->enabled || u->ir_enabled)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0,
				     "VT-d unit 0x%llx: interrupt remapping needs translation on and remapping off",
				     (unsigned long long)u->reg_phys);
	if (!u->caps.ir || !u->qi_enabled)
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, VTD_ECAP_REG,
				     "VT-d unit 0x%llx: no interrupt remapping (ECAP.IR %u, queued invalidation %s)",
				     (unsigned long long)u->reg_phys, (unsigned)u->caps.ir, u->qi_enabled ? "on" : "off");
	if (eim && !u->caps.eim)
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, VTD_ECAP_REG,
				     "VT-d unit 0x%llx: x2APIC destinations asked, ECAP.EIM is 0", (unsigned long long)u->reg_phys);
	if (entries < 2 || entries > MOAT_VTD_IR_MAX_ENTRIES || (entries & (entries - 1)))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, VTD_IRTA_REG,
				     "VT-d: %u interrupt remapping entries: a power of two from 2 to 65536", (unsigned)entries);
	if (u->ir_phys && u->ir_entries != entries)
		ir_pages_free(u);
	if (!u->ir_phys) {
		st = ir_pages_alloc(u, entries, diag);
		if (st != MOAT_OK)
			return st;
	}

	/* Section 5.1 order: table pointer latched, cache invalidated, format choice, then enable. */
	moat_vtdi_write64(u, VTD_IRTA_REG, (u->ir_phys & VTD_IRTA_IRTA) | (eim ? VTD_IRTA_EIME : 0) |
					   VTD_PREP(VTD_IRTA_S, log2u(entries) - 1));
	st = moat_vtdi_gcmd(u, (uint32_t)VTD_GCMD_SIRTP, true, diag);
	if (st == MOAT_OK)
		st = moat_vtd_flush_iec(u, diag);
	if (st == MOAT_OK)
		st = gcmd_if(u, (uint32_t)VTD_GCMD_CFI, cfi, diag);
	if (st == MOAT_OK)
		st = gcmd_if(u, (uint32_t)VTD_GCMD_IRE, true, diag);
	if (st != MOAT_OK) {
		gcmd_if(u, (uint32_t)VTD_GCMD_IRE, false, NULL);
		return st;
	}
	u->ir_enabled = true;
	u->ir_eim = eim;
	u->ir_cfi = cfi;
	return MOAT_OK;
}

moat_status moat_vtd_ir_disable(struct moat_vtd_unit *u, struct moat_diag *diag)
{
	moat_status st;

	if (!moat_vtdi_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d interrupt remapping: unit not probed");
	if (!u->ir_enabled)
		return MOAT_OK;
	st = gcmd_if(u, (uint32_t)VTD_GCMD_IRE, false, diag);
	if (st == MOAT_OK && u->ir_cfi)
		st = gcmd_if(u, (uint32_t)VTD_GCMD_CFI, false, diag);
	if (st != MOAT_OK)
		return st;
	u->ir_enabled = false;
	u->ir_cfi = false;
	return MOAT_OK;
}

/* ---- entries ---- */

static bool index_allocated(const struct moat_vtd_unit *u, uint32_t index)
{
	return index < u->ir_entries && (*rec(u, index) & REC_ALLOCATED);
}

/* The low quadword delivering @dest (present), with trigger mode @level. */
static moat_status irte_lo(const struct moat_vtd_unit *u, const struct moat_irq_dest *dest, unsigned vector, bool level,
			   uint64_t *lo, struct moat_diag *diag)
{
	uint64_t dst;

	if (dest->apic_id > 0xff && !u->ir_eim)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, VTD_IRTA_REG,
				     "VT-d unit 0x%llx: APIC id 0x%x needs x2APIC destinations (IRTA.EIME is 0)",
				     (unsigned long long)u->reg_phys, (unsigned)dest->apic_id);
	dst = u->ir_eim ? VTD_PREP(VTD_IRTE_LO_DST, dest->apic_id) : VTD_PREP(VTD_IRTE_LO_DST_XAPIC, dest->apic_id);
	*lo = VTD_IRTE_LO_P | (dest->logical ? VTD_IRTE_LO_DM : 0) |
	      (dest->delivery == MOAT_IRQ_DM_LOWEST ? VTD_IRTE_LO_RH : 0) | (level ? VTD_IRTE_LO_TM : 0) |
	      VTD_PREP(VTD_IRTE_LO_DLM, dest->delivery) | VTD_PREP(VTD_IRTE_LO_V, vector) | dst;
	return MOAT_OK;
}

/* The source check of @src: SVT, SQ and SID as the high quadword holds them. */
static uint64_t irte_hi(const struct moat_irq_source *src)
{
	MOAT_STATIC_ASSERT(VTD_SVT_SID == MOAT_VTD_SVT_SID && VTD_SVT_BUS == MOAT_VTD_SVT_BUS, "SVT values");
	if (src->kind == MOAT_IRQ_PCI_BUSES)
		return VTD_PREP(VTD_IRTE_HI_SVT, VTD_SVT_BUS) |
		       VTD_PREP(VTD_IRTE_HI_SID, (unsigned)MOAT_RID_BUS(src->rid) << 8 | src->bus_last);
	return VTD_PREP(VTD_IRTE_HI_SVT, VTD_SVT_SID) | VTD_PREP(VTD_IRTE_HI_SQ, 0) | VTD_PREP(VTD_IRTE_HI_SID, src->rid);
}

static void entry_flush(const struct moat_vtd_unit *u, uint32_t index)
{
	moat_vtdi_flush_range(u, (const void *)(uintptr_t)irte(u, index), VTD_ENTRY_SIZE);
}

/* Invalidate the 2^im entries from @index (aligned): by index when ECAP.MHMV allows, else all. */
static moat_status iec_block(struct moat_vtd_unit *u, uint32_t index, unsigned im, struct moat_diag *diag)
{
	if (im > VTD_GET(VTD_ECAP_MHMV, u->ecap))
		return moat_vtd_flush_iec(u, diag);
	return moat_vtd_flush_iec_index(u, index, im, diag);
}

moat_status moat_vtd_irq_alloc(struct moat_vtd_unit *u, const struct moat_irq_source *src, unsigned count,
			       const struct moat_irq_dest *dest, uint32_t *index, struct moat_diag *diag)
{
	uint64_t lo[MOAT_IRQ_MAX_BLOCK], hi;
	bool level;
	uint32_t first = UINT32_MAX;
	moat_status st;

	if (!moat_vtdi_probed(u) || !u->ir_enabled)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d: interrupt remapping is off");
	if (!src || !dest || !index || count < 1 || count > MOAT_IRQ_MAX_BLOCK || (count & (count - 1)) ||
	    (unsigned)dest->vector + count - 1 > 255)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d: bad interrupt allocation (%u entries)",
				     count);
	level = src->kind == MOAT_IRQ_IOAPIC && dest->level;
	for (unsigned i = 0; i < count; i++) {
		st = irte_lo(u, dest, dest->vector + i, level, &lo[i], diag);
		if (st != MOAT_OK)
			return st;
	}
	hi = irte_hi(src);

	/* The first free block, aligned to its size (a multi-message device adds its vector number
	 * to the subhandle). */
	for (uint32_t i = 0; i + count <= u->ir_entries && first == UINT32_MAX; i += count) {
		bool free = true;

		for (unsigned k = 0; k < count && free; k++)
			free = !(*rec(u, i + k) & REC_ALLOCATED);
		if (free)
			first = i;
	}
	if (first == UINT32_MAX)
		return moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, VTD_IRTA_REG,
				     "VT-d unit 0x%llx: no free block of %u interrupt remapping entries (%u of %u used)",
				     (unsigned long long)u->reg_phys, count, (unsigned)u->ir_used, (unsigned)u->ir_entries);

	for (unsigned k = 0; k < count; k++) {
		volatile uint64_t *e = irte(u, first + k);

		/* Not present while its source check is written; present with one store after. */
		e[0] = 0;
		e[1] = hi;
		entry_flush(u, first + k);
		e[0] = lo[k];
		entry_flush(u, first + k);
		*rec(u, first + k) = REC_ALLOCATED | (uint32_t)(hi & REC_CHECK);
	}
	st = iec_block(u, first, log2u(count), diag);
	if (st != MOAT_OK) {
		for (unsigned k = 0; k < count; k++) {
			volatile uint64_t *e = irte(u, first + k);

			e[0] = 0;
			entry_flush(u, first + k);
			e[1] = 0;
			entry_flush(u, first + k);
		}
		/* The entries are not present now; what the unit cached of them is unknown, so they stay
		 * recorded as allocated only if the retry fails too. */
		if (iec_block(u, first, log2u(count), NULL) == MOAT_OK)
			for (unsigned k = 0; k < count; k++)
				*rec(u, first + k) = 0;
		else
			u->ir_used += count;
		return st;
	}
	u->ir_used += count;
	*index = first;
	return MOAT_OK;
}

moat_status moat_vtd_irq_set(struct moat_vtd_unit *u, uint32_t index, const struct moat_irq_dest *dest,
			     struct moat_diag *diag)
{
	volatile uint64_t *e;
	uint64_t lo;
	moat_status st;

	if (!moat_vtdi_probed(u) || !u->ir_enabled)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d: interrupt remapping is off");
	if (!dest || !index_allocated(u, index))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d: interrupt entry %u is not allocated",
				     (unsigned)index);
	e = irte(u, index);
	st = irte_lo(u, dest, dest->vector, (e[0] & VTD_IRTE_LO_TM) != 0, &lo, diag);
	if (st != MOAT_OK)
		return st;
	if (e[0] == lo)
		return MOAT_OK;
	/* Everything that changes is in the low quadword: one 64-bit store. */
	e[0] = lo;
	entry_flush(u, index);
	return moat_vtd_flush_iec_index(u, index, 0, diag);
}

moat_status moat_vtd_irq_free(struct moat_vtd_unit *u, uint32_t index, unsigned count, struct moat_diag *diag)
{
	moat_status st;

	if (!moat_vtdi_probed(u) || !u->ir_phys)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d: no interrupt remapping table");
	if (count < 1 || count > MOAT_IRQ_MAX_BLOCK || (count & (count - 1)) || (index & (count - 1)))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d: bad interrupt block %u + %u",
				     (unsigned)index, count);
	for (unsigned k = 0; k < count; k++)
		if (!index_allocated(u, index + k))
			return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d: interrupt entry %u is not allocated",
					     (unsigned)(index + k));
	for (unsigned k = 0; k < count; k++) {
		irte(u, index + k)[0] = 0;
		entry_flush(u, index + k);
	}
	/* While remapping is off nothing reads the table (enable invalidates everything). */
	if (u->ir_enabled) {
		st = iec_block(u, index, log2u(count), diag);
		if (st != MOAT_OK)
			return st;
	}
	for (unsigned k = 0; k < count; k++) {
		irte(u, index + k)[1] = 0;
		entry_flush(u, index + k);
		*rec(u, index + k) = 0;
	}
	u->ir_used -= count;
	return MOAT_OK;
}

void moat_vtd_irq_msi(uint32_t index, struct moat_msi_msg *msg)
{
	msg->address = VTD_MSI_ADDR_BASE | VTD_PREP(VTD_MSI_ADDR_HANDLE, index & 0x7fff) | VTD_MSI_ADDR_REMAP |
		       VTD_MSI_ADDR_SHV | ((index & 0x8000) ? VTD_MSI_ADDR_HANDLE15 : 0);
	msg->data = 0;
}

uint64_t moat_vtd_irq_ioapic_rte(uint32_t index, uint8_t vector, const struct moat_irq_dest *dest)
{
	return VTD_PREP(VTD_RTE_VECTOR, vector) | ((index & 0x8000) ? VTD_RTE_HANDLE15 : 0) |
	       (dest->active_low ? VTD_RTE_POLARITY : 0) | (dest->level ? VTD_RTE_TRIGGER : 0) | VTD_RTE_REMAP |
	       VTD_PREP(VTD_RTE_HANDLE, index & 0x7fff);
}

moat_status moat_vtd_irte_get(const struct moat_vtd_unit *u, uint32_t index, struct moat_vtd_irte *out)
{
	const volatile uint64_t *e;

	if (!moat_vtdi_probed(u) || !u->ir_phys)
		return MOAT_ERR_STATE;
	if (!out || index >= u->ir_entries)
		return MOAT_ERR_INVALID_ARG;
	e = irte(u, index);
	out->lo = e[0];
	out->hi = e[1];
	out->present = (out->lo & VTD_IRTE_LO_P) != 0;
	out->sid = (uint16_t)VTD_GET(VTD_IRTE_HI_SID, out->hi);
	out->sq = (uint8_t)VTD_GET(VTD_IRTE_HI_SQ, out->hi);
	out->svt = (uint8_t)VTD_GET(VTD_IRTE_HI_SVT, out->hi);
	out->check_live = (uint32_t)(out->hi & VTD_IRTE_HI_CHECK);
	out->allocated = (*rec(u, index) & REC_ALLOCATED) != 0;
	out->check = *rec(u, index) & REC_CHECK;
	return MOAT_OK;
}

bool moat_vtd_ir_live(const struct moat_vtd_unit *u)
{
	uint32_t gsts;

	if (!moat_vtdi_probed(u) || !u->ir_enabled)
		return false;
	gsts = moat_vtdi_read32(u, VTD_GSTS_REG);
	return (gsts & VTD_GSTS_IRES) && !!(gsts & VTD_GSTS_CFIS) == u->ir_cfi &&
	       moat_vtdi_read64(u, VTD_IRTA_REG) == ((u->ir_phys & VTD_IRTA_IRTA) | (u->ir_eim ? VTD_IRTA_EIME : 0) |
						      VTD_PREP(VTD_IRTA_S, log2u(u->ir_entries) - 1));
}

/* ---- the fault event interrupt ---- */

moat_status moat_vtd_fault_irq(struct moat_vtd_unit *u, const struct moat_irq_dest *dest, struct moat_diag *diag)
{
	if (!moat_vtdi_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d fault interrupt: unit not probed");
	if (!dest) {
		moat_vtdi_write32(u, VTD_FECTL_REG, (uint32_t)VTD_FECTL_IM);
		u->fault_irq = false;
		return MOAT_OK;
	}
	if (dest->delivery != MOAT_IRQ_DM_FIXED && dest->delivery != MOAT_IRQ_DM_LOWEST)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, VTD_FEDATA_REG,
				     "VT-d fault interrupt: delivery mode %u (fixed or lowest priority only)",
				     (unsigned)dest->delivery);
	if (dest->apic_id > 0xff && !u->caps.eim)
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, VTD_FEUADDR_REG,
				     "VT-d unit 0x%llx: APIC id 0x%x for the fault interrupt needs ECAP.EIM",
				     (unsigned long long)u->reg_phys, (unsigned)dest->apic_id);
	/* Masked while the message changes, unmasked last. */
	moat_vtdi_write32(u, VTD_FECTL_REG, (uint32_t)VTD_FECTL_IM);
	moat_vtdi_write32(u, VTD_FEDATA_REG,
			  (uint32_t)(VTD_PREP(VTD_FEDATA_VECTOR, dest->vector) | VTD_PREP(VTD_FEDATA_DLM, dest->delivery)));
	moat_vtdi_write32(u, VTD_FEADDR_REG,
			  (uint32_t)(VTD_MSI_ADDR_BASE | VTD_PREP(VTD_FEADDR_DEST, dest->apic_id & 0xff) |
				     (dest->delivery == MOAT_IRQ_DM_LOWEST ? VTD_FEADDR_RH : 0) |
				     (dest->logical ? VTD_FEADDR_DM : 0)));
	if (u->caps.eim)
		moat_vtdi_write32(u, VTD_FEUADDR_REG, (uint32_t)VTD_PREP(VTD_FEUADDR_DEST_HI, dest->apic_id >> 8));
	moat_vtdi_write32(u, VTD_FECTL_REG, 0);
	u->fault_irq = true;
	return MOAT_OK;
}
