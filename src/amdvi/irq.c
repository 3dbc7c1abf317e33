/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupt remapping (section 2.2.5): a table per device id the IOMMU sees (an alias group
 * shares its alias's), the interrupt fields of every device-table entry, their invalidation, and
 * the event-log interrupt.
 *
 * Default deny: once remapping is on, every device-table entry has IV = 1. A device without a
 * table has IntCtl = 00b: its fixed and arbitrated interrupts are target-aborted (with IV = 0 they
 * would pass unmapped, which is what QEMU's model and the hardware do with an all-zero quadword
 * 2). NMI, INIT, ExtInt, LINT0 and LINT1 pass only where the IVHD setting says so. A device's
 * first interrupt gives it a table (one trusted page) and IntCtl = 10b; its last one takes the
 * table away again.
 *
 * Entry writes: a basic (32-bit) entry is one store. A GA-mode (128-bit) entry is made present
 * with the high quadword first and the low one (RemapEn) last, freed low quadword first, and
 * changed with one store when only one quadword changes; when both do, RemapEn is cleared first,
 * so the IOMMU never reads a mix of the old and the new entry.
 */
#include "amdvi_internal.h"

static unsigned log2u(uint32_t v)
{
	unsigned n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

static volatile uint32_t *irte32(const struct moat_amdvi_irt *t, uint32_t i)
{
	return (volatile uint32_t *)t->virt + i;
}

static volatile uint64_t *irte128(const struct moat_amdvi_irt *t, uint32_t i)
{
	return (volatile uint64_t *)t->virt + 2 * (size_t)i;
}

static bool map_test(const struct moat_amdvi_irt *t, uint32_t i)
{
	return (t->map[i / 64] >> (i % 64)) & 1;
}

static void map_set(struct moat_amdvi_irt *t, uint32_t i, bool on)
{
	if (on)
		t->map[i / 64] |= 1ull << (i % 64);
	else
		t->map[i / 64] &= ~(1ull << (i % 64));
}

static struct moat_amdvi_irt *irt_find(const struct moat_amdvi_unit *u, uint16_t devid)
{
	for (uint32_t i = 0; i < u->ir_tables; i++)
		if (u->irt[i].devid == devid)
			return (struct moat_amdvi_irt *)&u->irt[i];
	return NULL;
}

const struct moat_amdvi_irt *moat_amdvi_irt_of(const struct moat_amdvi_unit *u, uint16_t devid)
{
	return moat_amdvii_probed(u) ? irt_find(u, devid) : NULL;
}

/* ---- on and off ---- */

/* The DTE pass bits of an IVHD setting byte (48882 section 5.2.2.2, IVHD device entries). */
static uint64_t pass_bits(uint8_t setting)
{
	uint64_t q = 0;

	if (setting & MOAT_IVHD_DTE_INIT_PASS)
		q |= AMDVI_DTE2_INIT_PASS;
	if (setting & MOAT_IVHD_DTE_EINT_PASS)
		q |= AMDVI_DTE2_EINT_PASS;
	if (setting & MOAT_IVHD_DTE_NMI_PASS)
		q |= AMDVI_DTE2_NMI_PASS;
	if (setting & MOAT_IVHD_DTE_LINT0_PASS)
		q |= AMDVI_DTE2_LINT0_PASS;
	if (setting & MOAT_IVHD_DTE_LINT1_PASS)
		q |= AMDVI_DTE2_LINT1_PASS;
	return q;
}

static void dte2_or(const struct moat_amdvi_unit *u, uint32_t id, uint64_t bits)
{
	if (id < u->dt_entries)
		moat_amdvii_dte(u, id)[2] |= bits;
}

/* Quadword 2 of every entry: @base, plus the pass bits @desc gives each id (when @desc). */
static void all_dte2(const struct moat_amdvi_unit *u, uint64_t base, const struct moat_unit_desc *desc,
		     const struct moat_devset *devsets)
{
	for (uint32_t id = 0; id < u->dt_entries; id++)
		moat_amdvii_dte(u, id)[2] = base;
	for (uint32_t k = 0; desc && k < desc->devset_count; k++) {
		const struct moat_devset *ds = &devsets[desc->devset_first + k];
		uint64_t bits = pass_bits(ds->amd_setting);

		if (!bits || (ds->flags & MOAT_DEVSET_UNRESOLVED))
			continue;
		for (uint32_t id = MOAT_MIN(ds->first, ds->last); id <= MOAT_MAX(ds->first, ds->last); id++)
			dte2_or(u, id, bits);
		if (ds->flags & MOAT_DEVSET_ALIASED)
			dte2_or(u, ds->alias, bits);
	}
	for (uint32_t p = 0; p < u->dt_entries / AMDVI_DTE_PER_PAGE; p++)
		moat_amdvii_flush_range(u, u->dt_page[p], MOAT_PAGE_SIZE);
}

void moat_amdvii_ir_free(struct moat_amdvi_unit *u)
{
	for (uint32_t i = 0; i < u->ir_tables; i++)
		moat_pages_free(&u->pages, u->irt[i].virt, u->irt[i].phys);
	moat_memset(u->irt, 0, sizeof(u->irt));
	u->ir_tables = 0;
}

static void control_set(struct moat_amdvi_unit *u, uint64_t bits, bool on)
{
	uint64_t ctrl = moat_amdvii_read(u, AMDVI_CONTROL_REG);
	uint64_t want = on ? ctrl | bits : ctrl & ~bits;

	if (want != ctrl)
		moat_amdvii_write(u, AMDVI_CONTROL_REG, want);
}

moat_status moat_amdvi_ir_enable(struct moat_amdvi_unit *u, const struct moat_unit_desc *desc,
				 const struct moat_devset *devsets, uint32_t ndevsets, uint32_t entries, bool ga,
				 bool x2apic, struct moat_diag *diag)
{
	uint32_t max = (ga || x2apic) ? MOAT_AMDVI_IRT_MAX_ENTRIES_GA : MOAT_AMDVI_IRT_MAX_ENTRIES;
	moat_status st;

	if (!moat_amdvii_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "AMD-Vi interrupt remapping: unit not probed");
	if (!u->enabled || u->ir_enabled)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, AMDVI_CONTROL_REG,
				     "AMD-Vi unit 0x%llx: interrupt remapping needs the IOMMU on and remapping off",
				     (unsigned long long)u->reg_phys);
	if (!desc || desc->devset_first > ndevsets || desc->devset_count > ndevsets - desc->devset_first ||
	    (desc->devset_count && !devsets))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "AMD-Vi interrupt remapping: no description, or its devsets lie outside the array");
	if (entries < 1 || entries > max || (entries & (entries - 1)))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "AMD-Vi: %u entries per interrupt table: a power of two up to %u (one page)",
				     (unsigned)entries, (unsigned)max);
	if ((ga || x2apic) && !u->caps.ga)
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, AMDVI_EFR_REG,
				     "AMD-Vi unit 0x%llx: 128-bit interrupt entries need EFR.GASup", (unsigned long long)u->reg_phys);
	if (x2apic && !u->caps.xt)
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, AMDVI_EFR_REG,
				     "AMD-Vi unit 0x%llx: x2APIC destinations need EFR.XTSup", (unsigned long long)u->reg_phys);

	/* The entry format first (no entry has a table yet), then every device-table entry. */
	control_set(u, AMDVI_CTRL_GA_EN, ga || x2apic);
	control_set(u, AMDVI_CTRL_XT_EN, x2apic);
	all_dte2(u,
		 AMDVI_DTE2_IV | AMDVI_PREP(AMDVI_DTE2_INT_CTL, AMDVI_INTCTL_ABORT) |
			 ((desc->flags & MOAT_UNIT_AMD_ALL) ? pass_bits(desc->amd_all_setting) : 0),
		 desc, devsets);
	st = moat_amdvii_queue_inval_all(u, diag);
	if (st == MOAT_OK)
		st = moat_amdvii_cmd_sync(u, diag);
	if (st != MOAT_OK) {
		all_dte2(u, 0, NULL, NULL);
		control_set(u, AMDVI_CTRL_GA_EN | AMDVI_CTRL_XT_EN, false);
		if (moat_amdvii_queue_inval_all(u, NULL) == MOAT_OK)
			moat_amdvii_cmd_sync(u, NULL);
		return st;
	}
	u->ir_enabled = true;
	u->ir_ga = ga || x2apic;
	u->ir_x2apic = x2apic;
	u->ir_entries = entries;
	return MOAT_OK;
}

moat_status moat_amdvi_ir_disable(struct moat_amdvi_unit *u, struct moat_diag *diag)
{
	moat_status st;

	if (!moat_amdvii_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "AMD-Vi interrupt remapping: unit not probed");
	if (!u->ir_enabled)
		return MOAT_OK;
	all_dte2(u, 0, NULL, NULL);
	control_set(u, AMDVI_CTRL_GA_EN | AMDVI_CTRL_XT_EN, false);
	st = moat_amdvii_queue_inval_all(u, diag);
	if (st == MOAT_OK)
		st = moat_amdvii_cmd_sync(u, diag);
	if (st != MOAT_OK)
		return st;
	moat_amdvii_ir_free(u);
	u->ir_enabled = u->ir_ga = u->ir_x2apic = false;
	return MOAT_OK;
}

bool moat_amdvi_ir_live(const struct moat_amdvi_unit *u)
{
	uint64_t ctrl;

	if (!moat_amdvii_probed(u) || !u->ir_enabled)
		return false;
	ctrl = moat_amdvii_read(u, AMDVI_CONTROL_REG);
	return (ctrl & AMDVI_CTRL_IOMMU_EN) && !!(ctrl & AMDVI_CTRL_GA_EN) == u->ir_ga &&
	       !!(ctrl & AMDVI_CTRL_XT_EN) == u->ir_x2apic;
}

/* ---- entries ---- */

static moat_status check_dest(const struct moat_amdvi_unit *u, const struct moat_irq_dest *dest, struct moat_diag *diag)
{
	if (dest->delivery != MOAT_IRQ_DM_FIXED && dest->delivery != MOAT_IRQ_DM_LOWEST)
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, 0,
				     "AMD-Vi: delivery mode %u is not remapped (NMI, INIT and ExtInt pass by the IVHD setting; "
				     "SMI is not delivered)", (unsigned)dest->delivery);
	if (dest->apic_id > 0xff && !u->ir_x2apic)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, AMDVI_CONTROL_REG,
				     "AMD-Vi unit 0x%llx: APIC id 0x%x needs x2APIC destinations (Control.XTEn)",
				     (unsigned long long)u->reg_phys, (unsigned)dest->apic_id);
	return MOAT_OK;
}

/* Entry @vector for @dest: a basic entry in *@lo (hi 0), or the two quadwords of a GA entry. */
static void irte_of(const struct moat_amdvi_unit *u, const struct moat_irq_dest *dest, unsigned vector, uint64_t *lo,
		    uint64_t *hi)
{
	uint64_t common = AMDVI_IRTE_REMAP_EN | AMDVI_PREP(AMDVI_IRTE_INT_TYPE, dest->delivery) |
			  (dest->logical ? AMDVI_IRTE_DM : 0);

	if (!u->ir_ga) {
		*lo = common | AMDVI_PREP(AMDVI_IRTE_DEST, dest->apic_id) | AMDVI_PREP(AMDVI_IRTE_VECTOR, vector);
		*hi = 0;
		return;
	}
	*lo = common | AMDVI_PREP(AMDVI_IRTE_GA_LO_DEST, dest->apic_id & 0xffffff);
	*hi = AMDVI_PREP(AMDVI_IRTE_GA_HI_VECTOR, vector) | AMDVI_PREP(AMDVI_IRTE_GA_HI_DEST, dest->apic_id >> 24);
}

static void entry_flush(const struct moat_amdvi_unit *u, const struct moat_amdvi_irt *t, uint32_t i)
{
	if (u->ir_ga)
		moat_amdvii_flush_range(u, irte128(t, i), 16);
	else
		moat_amdvii_flush_range(u, irte32(t, i), 4);
}

/* A free entry made present: GA high quadword first, then the word with RemapEn. */
static void entry_write_new(const struct moat_amdvi_unit *u, const struct moat_amdvi_irt *t, uint32_t i, uint64_t lo,
			    uint64_t hi)
{
	if (!u->ir_ga) {
		*irte32(t, i) = (uint32_t)lo;
		entry_flush(u, t, i);
		return;
	}
	irte128(t, i)[0] = 0;
	irte128(t, i)[1] = hi;
	entry_flush(u, t, i);
	irte128(t, i)[0] = lo;
	entry_flush(u, t, i);
}

/* RemapEn off: the word that holds it, one store. */
static void entry_clear_low(const struct moat_amdvi_unit *u, const struct moat_amdvi_irt *t, uint32_t i)
{
	if (u->ir_ga)
		irte128(t, i)[0] = 0;
	else
		*irte32(t, i) = 0;
	entry_flush(u, t, i);
}

static void entry_clear_high(const struct moat_amdvi_unit *u, const struct moat_amdvi_irt *t, uint32_t i)
{
	if (u->ir_ga) {
		irte128(t, i)[1] = 0;
		entry_flush(u, t, i);
	}
}

/* Table @t has no entry left: the group blocks again, and the page goes back once invalidated. */
static void table_release(struct moat_amdvi_unit *u, struct moat_amdvi_irt *t)
{
	uint16_t devid = t->devid;

	moat_amdvii_group_set_irq(u, devid, AMDVI_DTE2_IV | AMDVI_PREP(AMDVI_DTE2_INT_CTL, AMDVI_INTCTL_ABORT));
	if (moat_amdvii_group_inval_irq(u, devid, true, true, NULL) != MOAT_OK) {
		/* The IOMMU may still read it: keep it (every entry is off, so it blocks too). */
		moat_log(MOAT_LOG_WARN, "AMD-Vi unit 0x%llx: interrupt table of device id 0x%x kept: its invalidation failed",
			 (unsigned long long)u->reg_phys, (unsigned)devid);
		return;
	}
	moat_pages_free(&u->pages, t->virt, t->phys);
	*t = u->irt[--u->ir_tables];
	moat_memset(&u->irt[u->ir_tables], 0, sizeof(u->irt[0]));
}

moat_status moat_amdvi_irq_alloc(struct moat_amdvi_unit *u, const struct moat_irq_source *src, unsigned count,
				 const struct moat_irq_dest *dest, uint16_t *devid, uint32_t *index,
				 struct moat_diag *diag)
{
	struct moat_amdvi_irt *t;
	uint32_t limit, first = UINT32_MAX;
	uint16_t id;
	bool fresh = false;
	moat_status st;

	if (!moat_amdvii_probed(u) || !u->ir_enabled)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "AMD-Vi: interrupt remapping is off");
	if (!src || !dest || !devid || !index || count < 1 || count > MOAT_IRQ_MAX_BLOCK || (count & (count - 1)) ||
	    (unsigned)dest->vector + count - 1 > 255)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "AMD-Vi: bad interrupt allocation (%u entries)",
				     count);
	st = check_dest(u, dest, diag);
	if (st != MOAT_OK)
		return st;
	id = moat_amdvi_device_id(u, src->rid);
	if (src->rid >= u->dt_entries || id >= u->dt_entries)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, AMDVI_DEVTAB_BASE_REG,
				     "AMD-Vi: device id 0x%x (requester 0x%x) beyond the device table", (unsigned)id,
				     (unsigned)src->rid);
	/* An IOAPIC's redirection entry carries the offset in its 8-bit vector field. */
	limit = src->kind == MOAT_IRQ_IOAPIC ? MOAT_MIN(u->ir_entries, 256u) : u->ir_entries;

	t = irt_find(u, id);
	if (!t) {
		if (u->ir_tables == MOAT_AMDVI_MAX_IRT)
			return moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, 0,
					     "AMD-Vi unit 0x%llx: %u devices have interrupt tables already (MOAT_AMDVI_MAX_IRT)",
					     (unsigned long long)u->reg_phys, (unsigned)MOAT_AMDVI_MAX_IRT);
		t = &u->irt[u->ir_tables];
		moat_memset(t, 0, sizeof(*t));
		/* Before any write: taking a page may invalidate this unit. */
		t->virt = moat_pages_alloc(&u->pages, &t->phys);
		if (!t->virt)
			return moat_diag_set(diag, MOAT_ERR_NO_MEMORY, NULL, 0,
					     "AMD-Vi unit 0x%llx: no page for the interrupt table of device id 0x%x",
					     (unsigned long long)u->reg_phys, (unsigned)id);
		moat_amdvii_flush_range(u, t->virt, MOAT_PAGE_SIZE);
		t->devid = id;
		fresh = true;
	}
	for (uint32_t i = 0; i + count <= limit && first == UINT32_MAX; i += count) {
		bool free = true;

		for (unsigned k = 0; k < count && free; k++)
			free = !map_test(t, i + k);
		if (free)
			first = i;
	}
	if (first == UINT32_MAX) {
		if (fresh)
			moat_pages_free(&u->pages, t->virt, t->phys);
		return moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, 0,
				     "AMD-Vi unit 0x%llx: no free block of %u entries in the interrupt table of device id 0x%x "
				     "(%u of %u used)", (unsigned long long)u->reg_phys, count, (unsigned)id, (unsigned)t->used,
				     (unsigned)limit);
	}

	for (unsigned k = 0; k < count; k++) {
		uint64_t lo, hi;

		irte_of(u, dest, dest->vector + k, &lo, &hi);
		entry_write_new(u, t, first + k, lo, hi);
		map_set(t, first + k, true);
	}
	t->used += count;
	if (fresh) {
		u->ir_tables++;
		moat_amdvii_group_set_irq(u, id,
					  AMDVI_DTE2_IV | AMDVI_PREP(AMDVI_DTE2_INT_TAB_LEN, log2u(u->ir_entries)) |
						  (t->phys & AMDVI_DTE2_INT_ROOT) |
						  AMDVI_PREP(AMDVI_DTE2_INT_CTL, AMDVI_INTCTL_REMAP));
	}
	st = moat_amdvii_group_inval_irq(u, id, fresh, true, diag);
	if (st != MOAT_OK) {
		for (unsigned k = 0; k < count; k++) {
			entry_clear_low(u, t, first + k);
			entry_clear_high(u, t, first + k);
		}
		/* Free again only once the IOMMU is known to have dropped them. */
		if (moat_amdvii_group_inval_irq(u, id, false, true, NULL) == MOAT_OK) {
			for (unsigned k = 0; k < count; k++)
				map_set(t, first + k, false);
			t->used -= count;
			if (!t->used)
				table_release(u, t);
		}
		return st;
	}
	*devid = id;
	*index = first;
	return MOAT_OK;
}

moat_status moat_amdvi_irq_set(struct moat_amdvi_unit *u, uint16_t devid, uint32_t index,
			       const struct moat_irq_dest *dest, struct moat_diag *diag)
{
	struct moat_amdvi_irt *t;
	uint64_t lo, hi;
	moat_status st;

	if (!moat_amdvii_probed(u) || !u->ir_enabled)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "AMD-Vi: interrupt remapping is off");
	t = irt_find(u, devid);
	if (!dest || !t || index >= u->ir_entries || !map_test(t, index))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "AMD-Vi: entry %u of device id 0x%x is not allocated", (unsigned)index, (unsigned)devid);
	st = check_dest(u, dest, diag);
	if (st != MOAT_OK)
		return st;
	irte_of(u, dest, dest->vector, &lo, &hi);
	if (!u->ir_ga) {
		if (*irte32(t, index) == (uint32_t)lo)
			return MOAT_OK;
		*irte32(t, index) = (uint32_t)lo;
		entry_flush(u, t, index);
	} else {
		volatile uint64_t *e = irte128(t, index);
		bool lo_changes = e[0] != lo, hi_changes = e[1] != hi;

		if (!lo_changes && !hi_changes)
			return MOAT_OK;
		if (lo_changes && hi_changes) {
			/* Two stores: never a mix, so not remapped in between. */
			e[0] = lo & ~AMDVI_IRTE_REMAP_EN;
			entry_flush(u, t, index);
		}
		if (hi_changes) {
			e[1] = hi;
			entry_flush(u, t, index);
		}
		e[0] = lo;
		entry_flush(u, t, index);
	}
	return moat_amdvii_group_inval_irq(u, devid, false, true, diag);
}

moat_status moat_amdvi_irq_free(struct moat_amdvi_unit *u, uint16_t devid, uint32_t index, unsigned count,
				struct moat_diag *diag)
{
	struct moat_amdvi_irt *t;
	moat_status st;

	if (!moat_amdvii_probed(u) || !u->ir_enabled)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "AMD-Vi: interrupt remapping is off");
	t = irt_find(u, devid);
	if (!t || count < 1 || count > MOAT_IRQ_MAX_BLOCK || (count & (count - 1)) || (index & (count - 1)) ||
	    index + count > u->ir_entries)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "AMD-Vi: bad interrupt block %u + %u of device id 0x%x", (unsigned)index, count,
				     (unsigned)devid);
	for (unsigned k = 0; k < count; k++)
		if (!map_test(t, index + k))
			return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
					     "AMD-Vi: entry %u of device id 0x%x is not allocated", (unsigned)(index + k),
					     (unsigned)devid);
	for (unsigned k = 0; k < count; k++)
		entry_clear_low(u, t, index + k);
	st = moat_amdvii_group_inval_irq(u, devid, false, true, diag);
	if (st != MOAT_OK)
		return st;
	for (unsigned k = 0; k < count; k++) {
		entry_clear_high(u, t, index + k);
		map_set(t, index + k, false);
	}
	t->used -= count;
	if (!t->used)
		table_release(u, t);
	return MOAT_OK;
}

void moat_amdvi_irq_msi(uint32_t index, struct moat_msi_msg *msg)
{
	msg->address = AMDVI_MSI_ADDR_BASE;
	msg->data = (uint32_t)AMDVI_PREP(AMDVI_MSI_DATA_OFFSET, index);
}

uint64_t moat_amdvi_irq_ioapic_rte(uint32_t index, const struct moat_irq_dest *dest)
{
	/* 82093AA redirection entry: vector 7:0, delivery mode 10:8 (000b fixed: remapped), polarity
	 * 13, trigger 15, mask 16, destination 63:56 (unused when remapped). */
	return (index & 0xff) | (dest->active_low ? MOAT_BIT(13) : 0) | (dest->level ? MOAT_BIT(15) : 0);
}

moat_status moat_amdvi_irte_get(const struct moat_amdvi_unit *u, const struct moat_amdvi_irt *t, uint32_t index,
				struct moat_amdvi_irte *out)
{
	if (!moat_amdvii_probed(u) || !t || !out || index >= u->ir_entries)
		return MOAT_ERR_INVALID_ARG;
	if (u->ir_ga) {
		out->lo = irte128(t, index)[0];
		out->hi = irte128(t, index)[1];
	} else {
		out->lo = *irte32(t, index);
		out->hi = 0;
	}
	out->present = (out->lo & AMDVI_IRTE_REMAP_EN) != 0;
	out->allocated = map_test(t, index);
	return MOAT_OK;
}

/* ---- the event-log interrupt ---- */

moat_status moat_amdvi_event_irq(struct moat_amdvi_unit *u, const struct moat_irq_dest *dest, struct moat_msi_msg *msg,
				 struct moat_diag *diag)
{
	if (!moat_amdvii_probed(u) || !u->enabled)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, AMDVI_CONTROL_REG, "AMD-Vi event interrupt: unit not enabled");
	if (!dest) {
		control_set(u, AMDVI_CTRL_EVENT_INT_EN, false);
		u->event_irq = false;
		return MOAT_OK;
	}
	if (!msg || (dest->delivery != MOAT_IRQ_DM_FIXED && dest->delivery != MOAT_IRQ_DM_LOWEST))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "AMD-Vi event interrupt: fixed or lowest-priority delivery only");
	if (dest->apic_id > 0xff)
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, 0,
				     "AMD-Vi unit 0x%llx: the IOMMU's MSI carries 8 destination bits, APIC id 0x%x asked",
				     (unsigned long long)u->reg_phys, (unsigned)dest->apic_id);
	/* Compatibility-format MSI: destination 19:12, RH 3, DM 2; data: vector, delivery mode 10:8. */
	msg->address = AMDVI_MSI_ADDR_BASE | (uint64_t)(dest->apic_id & 0xff) << 12 |
		       (dest->delivery == MOAT_IRQ_DM_LOWEST ? MOAT_BIT(3) : 0) | (dest->logical ? MOAT_BIT(2) : 0);
	msg->data = (uint32_t)dest->vector | (uint32_t)dest->delivery << 8;
	moat_amdvii_write(u, AMDVI_STATUS_REG, AMDVI_STS_EVENT_LOG_INT);
	control_set(u, AMDVI_CTRL_EVENT_INT_EN, true);
	u->event_irq = true;
	return MOAT_OK;
}
