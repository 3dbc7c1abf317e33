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
 *    Lint1Pass; 48882 section 5.2.2.2, "IVHD Device Entries"): the five pass bits say which
 *    interrupt kinds pass without remapping, which the IOMMU looks at only with DTE.IV = 1; they
 *    are copied into every entry when the host turns interrupt remapping on (moat_setup_irq()),
 *    until then IV = 0 and they mean nothing. SysMgt says how the IOMMU treats device-initiated
 *    system-management messages, which Moat target-aborts for every device (DTE.SysMgt = 00b),
 *    the strictest value: a firmware setting can only allow more. Likewise the extended entries'
 *    settings (ATS) do not apply: Moat never enables device IOTLBs (DTE.I = 0; the auditor reports an
 *    entry with I = 1).
 *  - Interrupt remapping (moat_setup_irq()) gives every device-table entry IV = 1, blocking
 *    (IntCtl 00b) until a device's first interrupt gives it a table; the IOMMU's own event
 *    interrupt is an MSI of its PCI function (MOAT_UNIT_F_FAULT_MSI), which the host programs.
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

/* ---- interrupt remapping ---- */

static void amdvi_irq_message(struct moat_irq *irq, const struct moat_irq_dest *dest)
{
	if (irq->src.kind == MOAT_IRQ_IOAPIC)
		irq->ioapic_rte = moat_amdvi_irq_ioapic_rte(irq->index, dest);
	else
		moat_amdvi_irq_msi(irq->index, &irq->msi);
}

static moat_status amdvi_op_irq_alloc(struct moat_unit *u, struct moat_irq *irq, const struct moat_irq_dest *dest,
				      struct moat_diag *diag)
{
	uint16_t devid;
	uint32_t index;
	moat_status st = moat_amdvi_irq_alloc(amd_of(u), &irq->src, irq->count, dest, &devid, &index, diag);

	if (st != MOAT_OK)
		return st;
	irq->index = index;
	irq->table_rid = devid;
	amdvi_irq_message(irq, dest);
	return MOAT_OK;
}

static moat_status amdvi_op_irq_set(struct moat_unit *u, struct moat_irq *irq, unsigned sub,
				    const struct moat_irq_dest *dest, struct moat_diag *diag)
{
	return moat_amdvi_irq_set(amd_of(u), irq->table_rid, irq->index + sub, dest, diag);
}

static moat_status amdvi_op_irq_free(struct moat_unit *u, struct moat_irq *irq, struct moat_diag *diag)
{
	return moat_amdvi_irq_free(amd_of(u), irq->table_rid, irq->index, irq->count, diag);
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

/*
 * Every device-table entry's interrupt fields: IV, whether IntCtl lets interrupts pass unmapped,
 * and whether it blocks or remaps through the table Moat made for the device id the IOMMU sees
 * for it (its alias), with that table's length.
 */
static moat_status amdvi_irq_devices(const struct moat_amdvi_unit *a, moat_unit_irq_fn fn, void *ctx)
{
	for (uint32_t id = 0; id < a->dt_entries; id++) {
		struct moat_amdvi_dte e;
		struct moat_unit_irq r;
		const struct moat_amdvi_irt *t;
		moat_status st;

		if (moat_amdvi_dte_get(a, id, &e) != MOAT_OK)
			break;
		t = moat_amdvi_irt_of(a, moat_amdvi_device_id(a, (uint16_t)id));
		moat_memset(&r, 0, sizeof(r));
		r.kind = MOAT_UNIT_IRQ_DEVICE;
		r.rid = (uint16_t)id;
		r.raw[0] = e.raw[2];
		r.remapped = e.iv;
		r.forwards = e.int_ctl == 1 || e.int_ctl == 3;
		r.table_ok = e.int_ctl == 0 ||
			     (e.int_ctl == 2 && t && t->phys == e.int_root && e.int_tab_len == log2u(a->ir_entries));
		st = fn(ctx, &r);
		if (st != MOAT_OK)
			return st;
	}
	return MOAT_OK;
}

/* Every entry of every table that is present or allocated; a table belongs to one device id. */
static moat_status amdvi_irq_entries(const struct moat_amdvi_unit *a, moat_unit_irq_fn fn, void *ctx)
{
	for (uint32_t k = 0; k < a->ir_tables; k++) {
		const struct moat_amdvi_irt *t = &a->irt[k];

		for (uint32_t i = 0; i < a->ir_entries; i++) {
			struct moat_amdvi_irte e;
			struct moat_unit_irq r;
			moat_status st;

			if (moat_amdvi_irte_get(a, t, i, &e) != MOAT_OK || (!e.present && !e.allocated))
				continue;
			moat_memset(&r, 0, sizeof(r));
			r.kind = MOAT_UNIT_IRQ_ENTRY;
			r.rid = t->devid;
			r.owner = t->devid;
			r.index = i;
			r.raw[0] = e.lo;
			r.raw[1] = e.hi;
			r.phys = t->phys + (uint64_t)i * (a->ir_ga ? 16 : 4);
			r.present = e.present;
			r.allocated = e.allocated;
			r.verified = true;
			r.source_ok = true;
			st = fn(ctx, &r);
			if (st != MOAT_OK)
				return st;
		}
	}
	return MOAT_OK;
}

static moat_status amdvi_op_walk_irqs(struct moat_unit *u, unsigned what, moat_unit_irq_fn fn, void *ctx)
{
	const struct moat_amdvi_unit *a = amd_of(u);
	struct moat_unit_irq r;
	moat_status st = MOAT_OK;

	if (!a->ir_enabled)
		return MOAT_OK;
	moat_memset(&r, 0, sizeof(r));
	r.kind = MOAT_UNIT_IRQ_PAGE;
	for (uint32_t k = 0; (what & MOAT_UNIT_IRQ_WALK_PAGES) && k < a->ir_tables && st == MOAT_OK; k++) {
		r.phys = a->irt[k].phys;
		st = fn(ctx, &r);
	}
	if (st != MOAT_OK || !(what & MOAT_UNIT_IRQ_WALK_ENTRIES))
		return st;
	r.kind = MOAT_UNIT_IRQ_STATE;
	r.phys = 0;
	r.as_set = moat_amdvi_ir_live(a);
	st = fn(ctx, &r);
	if (st == MOAT_OK)
		st = amdvi_irq_devices(a, fn, ctx);
	if (st == MOAT_OK)
		st = amdvi_irq_entries(a, fn, ctx);
	return st;
}

/* The IOMMU's event interrupt is an MSI of its own PCI function: the host programs it. */
static moat_status amdvi_op_fault_irq(struct moat_unit *u, const struct moat_irq_dest *dest,
				      struct moat_fault_irq_msi *msi, struct moat_diag *diag)
{
	struct moat_amdvi_unit *a = amd_of(u);
	struct moat_msi_msg m;
	moat_status st;

	if (!dest)
		return moat_amdvi_event_irq(a, NULL, NULL, diag);
	st = moat_amdvi_event_irq(a, dest, &m, diag);
	if (st == MOAT_OK && msi) {
		msi->segment = a->segment;
		msi->rid = a->iommu_rid;
		msi->msg = m;
	}
	return st;
}

static const struct moat_unit_ops amdvi_ops = {
	.attach = amdvi_op_attach,
	.detach = amdvi_op_detach,
	.lookup = amdvi_op_lookup,
	.invalidate = amdvi_op_invalidate,
	.flush_all = amdvi_op_flush_all,
	.view = amdvi_op_view,
	.fault_poll = amdvi_op_fault_poll,
	.irq_alloc = amdvi_op_irq_alloc,
	.irq_set = amdvi_op_irq_set,
	.irq_free = amdvi_op_irq_free,
	.walk_irqs = amdvi_op_walk_irqs,
	.fault_irq = amdvi_op_fault_irq,
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
	su->unit.flags = MOAT_UNIT_F_INVAL_ON_MAP | MOAT_UNIT_F_FAULT_MSI;
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
	for (uint32_t k = 0; k < a->ir_tables && st == MOAT_OK; k++)
		st = fn(ctx, a->irt[k].phys);
	return st;
}

/* ---- interrupt remapping bring-up ---- */

/*
 * Entries of each device's table by default: 512 basic entries keep every message's offset below
 * 512 (QEMU's model reads MSI data bits 10:8 as a delivery mode, so only offsets 0-511 remap
 * there); a GA-mode table is one page of 256.
 */
#define AMDVI_IRQ_DEFAULT_ENTRIES 512u

static bool amdvi_irq_ga(const struct moat_setup_irq_config *cfg)
{
	return (cfg->flags & (MOAT_SETUP_IRQ_X2APIC | MOAT_SETUP_IRQ_WIDE)) != 0;
}

static uint32_t amdvi_irq_entries_of(const struct moat_setup_irq_config *cfg)
{
	if (cfg->device_entries)
		return cfg->device_entries;
	return amdvi_irq_ga(cfg) ? MOAT_AMDVI_IRT_MAX_ENTRIES_GA : AMDVI_IRQ_DEFAULT_ENTRIES;
}

static moat_status amdvi_irq_check(const struct moat_setup_unit *su, const struct moat_setup_irq_config *cfg,
				   struct moat_diag *diag)
{
	const struct moat_amdvi_unit *a = &su->hw.amdvi;
	uint32_t n = amdvi_irq_entries_of(cfg);
	uint32_t max = amdvi_irq_ga(cfg) ? MOAT_AMDVI_IRT_MAX_ENTRIES_GA : MOAT_AMDVI_IRT_MAX_ENTRIES;

	if (amdvi_irq_ga(cfg) && !a->caps.ga)
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, 0,
				     "AMD-Vi unit 0x%llx: 128-bit interrupt entries need EFR.GASup", (unsigned long long)a->reg_phys);
	if ((cfg->flags & MOAT_SETUP_IRQ_X2APIC) && !a->caps.xt)
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, 0,
				     "AMD-Vi unit 0x%llx: x2APIC destinations need EFR.XTSup", (unsigned long long)a->reg_phys);
	if (n < 1 || n > max || (n & (n - 1)))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "interrupt remapping: %u entries per device table: a power of two up to %u", (unsigned)n,
				     (unsigned)max);
	return MOAT_OK;
}

static moat_status amdvi_irq_enable(struct moat_setup_unit *su, const struct moat_setup_irq_config *cfg,
				    struct moat_diag *diag)
{
	const struct moat_sysdesc *sd = su->setup->desc;

	return moat_amdvi_ir_enable(&su->hw.amdvi, &sd->units[su->desc_index], sd->devsets, sd->devsets_count,
				    amdvi_irq_entries_of(cfg), amdvi_irq_ga(cfg), (cfg->flags & MOAT_SETUP_IRQ_X2APIC) != 0,
				    diag);
}

static moat_status amdvi_irq_disable(struct moat_setup_unit *su, struct moat_diag *diag)
{
	return moat_amdvi_ir_disable(&su->hw.amdvi, diag);
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
	.irq_check = amdvi_irq_check,
	.irq_enable = amdvi_irq_enable,
	.irq_disable = amdvi_irq_disable,
};
