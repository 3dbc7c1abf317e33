/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AMD-Vi behind the core: probing and negotiating through the AMD-Vi driver (moat/amdvi.h), the
 * page-table configuration the units agree on (AMD v1 format), and the unit operations
 * (moat/internal/unit.h) that carry the core's requests to the driver. struct moat_unit.priv
 * points at the struct moat_setup_unit that holds both the core's unit and the driver's.
 *
 * Choices made here, and why:
 *  - Every unit gets a device table of 65536 entries (2 MiB), whatever the IVRS names: a device id
 *    beyond a smaller table has no entry, and what the IOMMU does with it is up to the model
 *    (QEMU's does not check the table size and reads whatever memory follows the table). With the
 *    full table every possible device id has a valid, blocking entry.
 *  - New mappings are invalidated too (MOAT_UNIT_F_INVAL_ON_MAP): an AMD-Vi unit may cache
 *    not-present entries, which it says in the NpCache bit of its PCI capability header, and
 *    neither the IVRS nor the registers carry that bit. Invalidating after a map is always right.
 *  - The IVHD device entries' setting byte (INITPass, EIntPass, NMIPass, SysMgt, Lint0Pass,
 *    Lint1Pass; 48882 section 5.2.2.2, "IVHD Device Entries") is not copied into the device
 *    table. None of it concerns DMA to memory: the five pass bits say which interrupt kinds pass
 *    through the interrupt-remapping table, which the IOMMU consults only with DTE.IV = 1, and
 *    Moat leaves IV = 0; SysMgt says how the IOMMU treats device-initiated system-management
 *    messages, which Moat target-aborts for every device (DTE.SysMgt = 00b), the strictest value:
 *    a firmware setting can only allow more. Likewise the extended entries' settings (ATS) do
 *    not apply: Moat never enables device IOTLBs (DTE.I = 0; the auditor reports an entry with I = 1).
 *  - IVMD regions are handled by the core like RMRRs (moat_reserved_map() maps them, identity,
 *    only for the devices they name); the exclusion-range registers stay disabled (the driver
 *    clears them at enable), so no device bypasses translation.
 */
#include <moat/amdvi.h>

#include "setup_internal.h"

/* The most AMD-Vi units one negotiation takes (the driver wants an array of pointers). */
#define AMDVI_NEGOTIATE_MAX 64u
/* Device-table entries every unit gets: one for every device id a request can carry. */
#define AMDVI_GLUE_DEVTAB_ENTRIES 65536u
/* The most levels a device-table entry's Mode can give (7 is reserved). */
#define AMDVI_GLUE_LEVELS_MAX 6u

static struct moat_setup_unit *su_of(struct moat_unit *u)
{
	return u->priv;
}

static struct moat_amdvi_unit *amd_of(struct moat_unit *u)
{
	return &su_of(u)->hw.amdvi;
}

/* ---- unit operations ---- */

/* Record whether device-table entry @id translates now. */
static void amdvi_note_one(struct moat_setup_unit *su, uint32_t id)
{
	struct moat_amdvi_dte e;

	moat_setupi_note(su, (uint16_t)id,
			 moat_amdvi_dte_get(&su->hw.amdvi, id, &e) == MOAT_OK && e.valid && e.translated);
}

/* After any attach or detach of @rid, whatever it returned: record which entries of its alias
 * group (the alias's own and every member's, as moat_amdvi_attach() writes them) translate. The
 * auditor's reference for which entries Moat attached. */
static void amdvi_note(struct moat_setup_unit *su, uint16_t rid)
{
	const struct moat_amdvi_unit *a = &su->hw.amdvi;
	const uint16_t alias = moat_amdvi_device_id(a, rid);

	if (alias < a->dt_entries)
		amdvi_note_one(su, alias);
	for (uint32_t i = 0; i < a->alias_count; i++) {
		if (a->aliases[i].alias != alias)
			continue;
		for (uint32_t id = a->aliases[i].first; id <= a->aliases[i].last && id < a->dt_entries; id++)
			amdvi_note_one(su, id);
	}
}

static moat_status amdvi_op_attach(struct moat_unit *u, uint16_t rid, const struct moat_domain *dom,
				   struct moat_diag *diag)
{
	struct moat_setup_unit *su = su_of(u);
	/* A device table allocated by an attach before enable comes from the unit's page source. */
	moat_status st = moat_amdvi_attach(&su->hw.amdvi, rid, dom->id, dom->pt.root_phys, dom->pt.cfg.levels, diag);

	amdvi_note(su, rid);
	return st;
}

static moat_status amdvi_op_detach(struct moat_unit *u, uint16_t rid, struct moat_diag *diag)
{
	moat_status st = moat_amdvi_detach(amd_of(u), rid, diag);

	amdvi_note(su_of(u), rid);
	return st;
}

/* The entry the IOMMU uses for @rid (its alias's, when it has one) translates: its domain. */
static moat_status amdvi_op_lookup(struct moat_unit *u, uint16_t rid, struct moat_unit_dev *out)
{
	const struct moat_amdvi_unit *a = amd_of(u);
	struct moat_amdvi_dte e;
	moat_status st = moat_amdvi_dte_get(a, moat_amdvi_device_id(a, rid), &e);

	if (st != MOAT_OK)
		return st;
	if (!e.valid || !e.translated || !e.levels)
		return MOAT_ERR_NOT_FOUND;
	out->rid = rid;
	out->domain_id = e.did;
	out->root_phys = e.root_phys;
	return MOAT_OK;
}

/* The PDE bit drops cached directory entries too: what an unlink or a superpage split needs. */
static moat_status amdvi_op_invalidate(struct moat_unit *u, const struct moat_domain *dom, uint64_t iova,
				       uint64_t size, bool tables_changed, struct moat_diag *diag)
{
	return moat_amdvi_invalidate(amd_of(u), dom->id, iova, size, tables_changed, diag);
}

static moat_status amdvi_op_flush_all(struct moat_unit *u, struct moat_diag *diag)
{
	struct moat_amdvi_unit *a = amd_of(u);

	if (!a->enabled)
		return MOAT_OK;
	return moat_amdvi_inval_all(a, diag);
}

/* ---- the hardware's view (the auditor's view() operation) ---- */

struct amdvi_view {
	struct moat_setup_unit *su;
	const struct moat_unit_view_fns *fns;
	void *ctx;
};

static moat_status amdvi_view_page(void *ctx, uint32_t index, uint64_t phys, bool readable)
{
	const struct amdvi_view *w = ctx;
	const struct moat_amdvi_unit *a = &w->su->hw.amdvi;
	const struct moat_unit_table t = {
		.level = 0,
		.index = index,
		.phys = phys,
		.expected = a->dt_phys + (uint64_t)index * MOAT_PAGE_SIZE,
		.pointer = { a->dt_phys, 0 },
		.ours = readable,
		.name = "device table",
	};

	return w->fns->table(w->ctx, &t);
}

/*
 * 48882 section 2.2.2.1: V = 0 means no checks at all (DMA untranslated); V = 1 with TV = 0 uses
 * IR/IW alone (untranslated when either is set, blocked otherwise); TV = 1 with Mode 0 passes
 * DMA untranslated under IR/IW; Mode 1..6 walks that many levels from the root; Mode 7 is
 * reserved. I enables the device IOTLB (ATS).
 */
static moat_status amdvi_view_entry(void *ctx, uint32_t devid, const struct moat_amdvi_dte *d)
{
	const struct amdvi_view *w = ctx;
	struct moat_unit_entry e = {
		.rid = (uint16_t)devid,
		.kind = MOAT_UNIT_TRANSLATED,
		.domain_id = d->did,
		.root_phys = d->root_phys,
		.levels = d->levels,
		.raw_count = 4,
		.raw = { d->raw[0], d->raw[1], d->raw[2], d->raw[3] },
	};

	if (!d->valid) {
		e.kind = MOAT_UNIT_PASSTHROUGH;
		e.note = "V=0: no checks at all";
	} else if (!d->translated) {
		e.kind = d->read || d->write ? MOAT_UNIT_PASSTHROUGH : MOAT_UNIT_BLOCKED;
		e.note = d->read || d->write ? "TV=0 with IR/IW: untranslated" : NULL;
	} else if (d->levels == 0) {
		e.kind = d->read || d->write ? MOAT_UNIT_PASSTHROUGH : MOAT_UNIT_BLOCKED;
		e.note = d->read || d->write ? "Mode 0: untranslated" : NULL;
	} else if (d->levels > AMDVI_GLUE_LEVELS_MAX) {
		e.kind = MOAT_UNIT_OTHER;
		e.note = "Mode 7: reserved";
	}
	if (e.kind != MOAT_UNIT_TRANSLATED) {
		e.root_phys = 0;
		e.levels = 0;
	}
	if (d->iotlb) {
		e.flags |= MOAT_UNIT_E_ATS;
		if (!e.note)
			e.note = "I=1: device IOTLB";
	}
	if (moat_setupi_attached(w->su, (uint16_t)devid))
		e.flags |= MOAT_UNIT_E_ATTACHED;
	return w->fns->entry(w->ctx, &e);
}

/*
 * What the IOMMU reads, from its registers: Control (IommuEn) and the Device Table Base. With
 * the IOMMU on, the table the register names (read only when it is exactly the driver's, base and
 * size), each of its pages, and every entry that is not the blocking one (V = 1, all else 0), each
 * read once. With IommuEn off the IOMMU reads no table.
 */
static moat_status amdvi_op_view(struct moat_unit *u, const struct moat_unit_view_fns *fns, void *ctx)
{
	struct moat_setup_unit *su = su_of(u);
	const struct moat_amdvi_unit *a = &su->hw.amdvi;
	const struct moat_amdvi_hw_fns hw_fns = { amdvi_view_page, amdvi_view_entry };
	struct amdvi_view w = { su, fns, ctx };
	struct moat_unit_state state;
	struct moat_amdvi_hw hw;
	moat_status st = moat_amdvi_hw_state(a, &hw);

	if (st != MOAT_OK)
		return st;
	state = (struct moat_unit_state){
		.reg_base = a->reg_phys,
		.reg_size = a->reg_size,
		.translating = hw.translating,
		.expected_on = a->enabled,
		.status = hw.control,
	};
	st = fns->state(ctx, &state);
	if (st != MOAT_OK || !hw.translating)
		return st;
	if (!hw.table_ours) {
		const struct moat_unit_table t = {
			.level = 0,
			.phys = hw.table_phys,
			.expected = a->dt_phys,
			.pointer = { hw.devtab, 0 },
			.ours = false,
			.name = "device table",
		};

		return fns->table(ctx, &t);
	}
	return moat_amdvi_hw_walk(a, &hw, &hw_fns, &w);
}

static moat_status amdvi_op_fault_poll(struct moat_unit *u, struct moat_fault *out, unsigned max,
				       struct moat_fault_poll *res)
{
	return moat_amdvi_event_poll(amd_of(u), out, max, res);
}

static const struct moat_unit_ops amdvi_ops = {
	.attach = amdvi_op_attach,
	.detach = amdvi_op_detach,
	.lookup = amdvi_op_lookup,
	.invalidate = amdvi_op_invalidate,
	.flush_all = amdvi_op_flush_all,
	.view = amdvi_op_view,
	.fault_poll = amdvi_op_fault_poll,
};

/* ---- bring-up ---- */

static moat_status amdvi_probe(struct moat_setup_unit *su, const struct moat_unit_desc *desc,
			       struct moat_diag *diag)
{
	const struct moat_sysdesc *sd = su->setup->desc;
	moat_status st;

	st = moat_amdvi_probe(&su->hw.amdvi, desc, sd->devsets, sd->devsets_count, diag);
	if (st != MOAT_OK)
		return st;
	st = moat_amdvi_set_devtab_entries(&su->hw.amdvi, AMDVI_GLUE_DEVTAB_ENTRIES, diag);
	if (st != MOAT_OK)
		moat_amdvi_release(&su->hw.amdvi);
	return st;
}

/* Leaf sizes a table of @levels levels can hold (AMD v1: level 2 entries map 2 MiB, level 3 1 GiB). */
static unsigned amdvi_page_sizes(unsigned levels)
{
	unsigned sizes = MOAT_PT_PAGE_4K;

	if (levels >= 2)
		sizes |= MOAT_PT_PAGE_2M;
	if (levels >= 3)
		sizes |= MOAT_PT_PAGE_1G;
	return sizes;
}

static moat_status amdvi_negotiate(struct moat_setup *s, unsigned address_width, struct moat_system_config *cfg,
				   struct moat_diag *diag)
{
	struct moat_amdvi_unit *units[AMDVI_NEGOTIATE_MAX];
	struct moat_amdvi_caps c;
	moat_status st;

	if (s->count > AMDVI_NEGOTIATE_MAX)
		return moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, 0, "%u AMD-Vi units: bring-up takes at most %u",
				     s->count, AMDVI_NEGOTIATE_MAX);
	for (unsigned i = 0; i < s->count; i++)
		units[i] = &s->units[i].hw.amdvi;
	st = moat_amdvi_negotiate(units, s->count, address_width ? address_width : 64, &c, diag);
	if (st != MOAT_OK)
		return st;

	moat_memset(cfg, 0, sizeof(*cfg));
	cfg->pt.format = MOAT_PT_AMD_V1;
	cfg->pt.levels = c.levels;
	/* Large pages (a directory entry with Next Level 0) are part of the v1 format on every unit. */
	cfg->pt.page_sizes = amdvi_page_sizes(c.levels);
	cfg->pt.coherent = c.coherent;
	/* Domain id 0 marks the blocking entries and is never handed out. */
	cfg->domain_id_min = MOAT_AMDVI_DID_MIN;
	cfg->domain_id_max = MOAT_AMDVI_DID_MAX;

	s->caps.vendor = MOAT_VENDOR_AMDVI;
	s->caps.units = s->count;
	s->caps.levels = c.levels;
	s->caps.address_width = c.address_width;
	s->caps.page_sizes = cfg->pt.page_sizes;
	s->caps.coherent = c.coherent;
	s->caps.caching_mode = true;
	s->caps.queued_invalidation = true;
	s->caps.domain_id_min = cfg->domain_id_min;
	s->caps.domain_id_max = cfg->domain_id_max;
	/* One ring slot always stays empty: head == tail means no event. */
	s->caps.fault_records = MOAT_AMDVI_RING_ENTRIES - 1;
	return MOAT_OK;
}

static void amdvi_wrap(struct moat_setup_unit *su, const struct moat_unit_desc *desc)
{
	moat_memset(&su->unit, 0, sizeof(su->unit));
	su->unit.ops = &amdvi_ops;
	su->unit.priv = su;
	su->unit.segment = desc->segment;
	su->unit.desc_index = (int32_t)su->desc_index;
	su->unit.flags = MOAT_UNIT_F_INVAL_ON_MAP;
	/* Device table, command buffer, semaphore and event log: trusted pages of the core. */
	su->hw.amdvi.pages = moat_unit_pages(&su->unit);
}

static moat_status amdvi_enable(struct moat_setup_unit *su, struct moat_diag *diag)
{
	return moat_amdvi_enable(&su->hw.amdvi, diag);
}

static moat_status amdvi_disable(struct moat_setup_unit *su, struct moat_diag *diag)
{
	return moat_amdvi_disable(&su->hw.amdvi, diag);
}

static moat_status amdvi_release(struct moat_setup_unit *su)
{
	return moat_amdvi_release(&su->hw.amdvi);
}

/* The pages moat_amdvi_pages() lists, in its order, read from the unit's fields (no array needed). */
static moat_status amdvi_each_page(const struct moat_setup_unit *su, setup_page_fn fn, void *ctx)
{
	const struct moat_amdvi_unit *a = &su->hw.amdvi;
	moat_status st = MOAT_OK;

	if (a->dt_phys)
		for (uint32_t p = 0; p < a->dt_entries / MOAT_AMDVI_DTE_PER_PAGE && st == MOAT_OK; p++)
			st = fn(ctx, a->dt_phys + (uint64_t)p * MOAT_PAGE_SIZE);
	if (st == MOAT_OK && a->cmd)
		st = fn(ctx, a->cmd_phys);
	if (st == MOAT_OK && a->sem)
		st = fn(ctx, a->sem_phys);
	if (st == MOAT_OK && a->evt)
		st = fn(ctx, a->evt_phys);
	return st;
}

static int amdvi_describe(const struct moat_setup_unit *su, char *buf, size_t size)
{
	const struct moat_amdvi_unit *a = &su->hw.amdvi;
	const struct moat_setup_caps *sc = &su->setup->caps;

	return moat_snprintf(buf, size,
			     "AMD-Vi unit at 0x%llx (IVHD %02xh; PCI %02x:%02x.%x): %u-level tables (%u-bit addresses), "
			     "%s, %u device-table entries (all valid), %u-entry command buffer and event log, %s, %s, "
			     "new mappings invalidated too",
			     (unsigned long long)a->reg_phys, (unsigned)a->ivhd_type, MOAT_RID_BUS(a->iommu_rid),
			     MOAT_RID_DEV(a->iommu_rid), MOAT_RID_FN(a->iommu_rid), sc->levels, sc->address_width,
			     moat_setupi_page_sizes_words(sc->page_sizes), (unsigned)a->dt_entries, MOAT_AMDVI_RING_ENTRIES,
			     a->caps.ia ? "INVALIDATE_IOMMU_ALL" : "no INVALIDATE_IOMMU_ALL (entry by entry)",
			     a->caps.coherent ? "walks snoop CPU caches" : "walks do not snoop CPU caches (tables are flushed)");
}

static void amdvi_registers(const struct moat_setup_unit *su, uint64_t *base, uint64_t *size)
{
	*base = su->hw.amdvi.reg_phys;
	*size = su->hw.amdvi.reg_size;
}

const struct setup_vendor moat_setupi_amdvi = {
	.vendor = MOAT_VENDOR_AMDVI,
	.name = "AMD-Vi",
	.probe = amdvi_probe,
	.negotiate = amdvi_negotiate,
	.wrap = amdvi_wrap,
	.enable = amdvi_enable,
	.disable = amdvi_disable,
	.release = amdvi_release,
	.each_page = amdvi_each_page,
	.describe = amdvi_describe,
	.registers = amdvi_registers,
};
