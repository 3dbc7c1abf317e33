/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Intel VT-d behind the core: probing and negotiating through the VT-d driver (moat/vtd.h), the
 * page-table configuration the units agree on, and the unit operations (moat/internal/unit.h)
 * that carry the core's requests to the driver. struct moat_unit.priv points at the struct
 * moat_setup_unit that holds both the core's unit and the driver's.
 */
#include <moat/vtd.h>

#include "setup_internal.h"

/* The most VT-d units one negotiation takes (the driver wants an array of pointers). */
#define VTD_NEGOTIATE_MAX 64u

static struct moat_setup_unit *su_of(struct moat_unit *u)
{
	return u->priv;
}

static struct moat_vtd_unit *vtd_of(struct moat_unit *u)
{
	return &su_of(u)->hw.vtd;
}

/* ---- unit operations ---- */

/* Record whether the driver left a present context entry for @rid (after any attach or detach,
 * whatever it returned): the auditor's reference for which requesters Moat attached. */
static void vtd_note(struct moat_setup_unit *su, uint16_t rid)
{
	struct moat_vtd_context ce;

	moat_setupi_note(su, rid, moat_vtd_context_get(&su->hw.vtd, rid, &ce) == MOAT_OK);
}

static moat_status vtd_op_attach(struct moat_unit *u, uint16_t rid, const struct moat_domain *dom,
				 struct moat_diag *diag)
{
	struct moat_setup_unit *su = su_of(u);
	/* A context table for a new bus comes from the unit's page source: trusted before it is linked. */
	moat_status st = moat_vtd_attach(&su->hw.vtd, rid, dom->id, dom->pt.root_phys, dom->pt.cfg.levels,
					 MOAT_VTD_TT_UNTRANSLATED, diag);

	vtd_note(su, rid);
	return st;
}

static moat_status vtd_op_detach(struct moat_unit *u, uint16_t rid, struct moat_diag *diag)
{
	moat_status st = moat_vtd_detach(vtd_of(u), rid, diag);

	vtd_note(su_of(u), rid);
	return st;
}

static moat_status vtd_op_lookup(struct moat_unit *u, uint16_t rid, struct moat_unit_dev *out)
{
	struct moat_vtd_context ce;
	moat_status st = moat_vtd_context_get(vtd_of(u), rid, &ce);

	if (st != MOAT_OK)
		return st;
	out->rid = rid;
	out->domain_id = ce.did;
	out->root_phys = ce.root_phys;
	return MOAT_OK;
}

/*
 * Page-selective invalidation (what moat_vtd_invalidate() picks for a range) is issued without the
 * invalidation hint, so it drops the paging-structure entries that translate the range as well:
 * enough when tables were unlinked or a superpage split inside it (@tables_changed).
 */
static moat_status vtd_op_invalidate(struct moat_unit *u, const struct moat_domain *dom, uint64_t iova,
				     uint64_t size, bool tables_changed, struct moat_diag *diag)
{
	(void)tables_changed;
	return moat_vtd_invalidate(vtd_of(u), dom->id, iova, size, diag);
}

static moat_status vtd_op_flush_all(struct moat_unit *u, struct moat_diag *diag)
{
	struct moat_vtd_unit *v = vtd_of(u);
	moat_status st;

	if (!v->enabled)
		return MOAT_OK;
	st = moat_vtd_flush_context(v, MOAT_VTD_GRAN_GLOBAL, 0, 0, 0, diag);
	if (st == MOAT_OK)
		st = moat_vtd_flush_iotlb(v, MOAT_VTD_GRAN_GLOBAL, 0, 0, 0, diag);
	return st;
}

/* ---- the hardware's view (the auditor's view() operation) ---- */

struct vtd_view {
	struct moat_setup_unit *su;
	const struct moat_unit_view_fns *fns;
	void *ctx;
};

static moat_status vtd_view_root_entry(void *ctx, unsigned bus, const uint64_t raw[2], uint64_t ctp,
				       uint64_t expected, bool ours)
{
	const struct vtd_view *w = ctx;
	const struct moat_unit_table t = {
		.level = 1,
		.index = bus,
		.phys = ctp,
		.expected = expected,
		.pointer = { raw[0], raw[1] },
		.ours = ours,
		.name = "context table",
	};

	return w->fns->table(w->ctx, &t);
}

/* VT-d spec 9.3: TT 00b translates through SLPTPTR; 01b does so and also serves device-TLB
 * translation requests; 10b passes requests through untranslated; 11b is reserved. */
static moat_status vtd_view_context_entry(void *ctx, uint16_t rid, const struct moat_vtd_context *ce)
{
	const struct vtd_view *w = ctx;
	struct moat_unit_entry e = {
		.rid = rid,
		.kind = MOAT_UNIT_TRANSLATED,
		.domain_id = ce->did,
		.root_phys = ce->root_phys,
		.levels = ce->levels,
		.raw_count = 2,
		.raw = { ce->raw[0], ce->raw[1] },
	};

	switch (ce->tt) {
	case 0:
		break;
	case 1:
		e.flags |= MOAT_UNIT_E_ATS;
		e.note = "TT=1: device-TLB translation requests";
		break;
	case 2:
		e.kind = MOAT_UNIT_PASSTHROUGH;
		e.note = "TT=2: pass-through";
		break;
	default:
		e.kind = MOAT_UNIT_OTHER;
		e.note = "TT=3: reserved translation type";
		break;
	}
	if (moat_setupi_attached(w->su, rid))
		e.flags |= MOAT_UNIT_E_ATTACHED;
	return w->fns->entry(w->ctx, &e);
}

/*
 * What the unit reads, from its registers: GSTS (translation on?) and RTADDR. With translation on,
 * the root table RTADDR names (not followed unless it is the driver's), each context table a root
 * entry names (read only when it is the one the driver allocated for that bus), each present
 * context entry. With translation off the unit reads no table at all.
 */
static moat_status vtd_op_view(struct moat_unit *u, const struct moat_unit_view_fns *fns, void *ctx)
{
	struct moat_setup_unit *su = su_of(u);
	const struct moat_vtd_unit *v = &su->hw.vtd;
	const struct moat_vtd_hw_fns hw_fns = { vtd_view_root_entry, vtd_view_context_entry };
	struct vtd_view w = { su, fns, ctx };
	struct moat_unit_state state;
	struct moat_vtd_hw hw;
	moat_status st = moat_vtd_hw_state(v, &hw);

	if (st != MOAT_OK)
		return st;
	state = (struct moat_unit_state){
		.reg_base = v->reg_phys,
		.reg_size = v->reg_size,
		.translating = hw.translating,
		.expected_on = v->enabled,
		.status = hw.gsts,
	};
	st = fns->state(ctx, &state);
	if (st != MOAT_OK || !hw.translating)
		return st;
	const struct moat_unit_table root = {
		.level = 0,
		.phys = hw.root_phys,
		.expected = v->root ? v->root_phys : 0,
		.pointer = { hw.rtaddr, 0 },
		.ours = hw.root_ours,
		.name = "root table",
	};
	st = fns->table(ctx, &root);
	if (st == MOAT_OK)
		st = moat_vtd_hw_walk(v, &hw, &hw_fns, &w);
	return st;
}

static moat_status vtd_op_fault_poll(struct moat_unit *u, struct moat_fault *out, unsigned max,
				     struct moat_fault_poll *res)
{
	return moat_vtd_fault_poll(vtd_of(u), out, max, res);
}

/* ---- interrupt remapping ---- */

static void vtd_irq_message(struct moat_irq *irq, const struct moat_irq_dest *dest)
{
	if (irq->src.kind == MOAT_IRQ_IOAPIC)
		irq->ioapic_rte = moat_vtd_irq_ioapic_rte(irq->index, dest->vector, dest);
	else
		moat_vtd_irq_msi(irq->index, &irq->msi);
}

static moat_status vtd_op_irq_alloc(struct moat_unit *u, struct moat_irq *irq, const struct moat_irq_dest *dest,
				    struct moat_diag *diag)
{
	uint32_t index;
	moat_status st = moat_vtd_irq_alloc(vtd_of(u), &irq->src, irq->count, dest, &index, diag);

	if (st != MOAT_OK)
		return st;
	irq->index = index;
	irq->table_rid = 0;
	vtd_irq_message(irq, dest);
	return MOAT_OK;
}

static moat_status vtd_op_irq_set(struct moat_unit *u, struct moat_irq *irq, unsigned sub,
				  const struct moat_irq_dest *dest, struct moat_diag *diag)
{
	moat_status st = moat_vtd_irq_set(vtd_of(u), irq->index + sub, dest, diag);

	/* An IOAPIC's redirection entry repeats the vector (it matches EOIs against it). */
	if (st == MOAT_OK && irq->src.kind == MOAT_IRQ_IOAPIC)
		vtd_irq_message(irq, dest);
	return st;
}

static moat_status vtd_op_irq_free(struct moat_unit *u, struct moat_irq *irq, struct moat_diag *diag)
{
	return moat_vtd_irq_free(vtd_of(u), irq->index, irq->count, diag);
}

static moat_status vtd_irq_pages(const struct moat_vtd_unit *v, moat_unit_irq_fn fn, void *ctx)
{
	struct moat_unit_irq r;
	moat_status st = MOAT_OK;

	moat_memset(&r, 0, sizeof(r));
	r.kind = MOAT_UNIT_IRQ_PAGE;
	for (uint32_t i = 0; i < MOAT_MAX(v->ir_entries / MOAT_VTD_IR_PER_PAGE, 1u) && st == MOAT_OK; i++) {
		r.phys = v->ir_phys + (uint64_t)i * MOAT_PAGE_SIZE;
		st = fn(ctx, &r);
	}
	for (unsigned i = 0; i < MOAT_VTD_IR_REC_PAGES && st == MOAT_OK; i++) {
		if (!v->ir_rec[i])
			continue;
		r.phys = v->ir_rec_phys[i];
		st = fn(ctx, &r);
	}
	return st;
}

/* The unit's remapping and every entry that is present or allocated, against Moat's records. */
static moat_status vtd_irq_entries(const struct moat_vtd_unit *v, moat_unit_irq_fn fn, void *ctx)
{
	struct moat_unit_irq r;
	moat_status st;

	moat_memset(&r, 0, sizeof(r));
	r.kind = MOAT_UNIT_IRQ_STATE;
	r.as_set = moat_vtd_ir_live(v);
	st = fn(ctx, &r);
	for (uint32_t i = 0; i < v->ir_entries && st == MOAT_OK; i++) {
		struct moat_vtd_irte e;

		if (moat_vtd_irte_get(v, i, &e) != MOAT_OK)
			break;
		if (!e.present && !e.allocated)
			continue;
		moat_memset(&r, 0, sizeof(r));
		r.kind = MOAT_UNIT_IRQ_ENTRY;
		r.rid = e.sid;
		r.owner = (uint16_t)e.check;
		r.index = i;
		r.raw[0] = e.lo;
		r.raw[1] = e.hi;
		r.phys = v->ir_phys + (uint64_t)i * 16;
		r.present = e.present;
		r.allocated = e.allocated;
		r.verified = e.svt == MOAT_VTD_SVT_SID || e.svt == MOAT_VTD_SVT_BUS;
		r.source_ok = e.allocated && e.check_live == e.check;
		st = fn(ctx, &r);
	}
	return st;
}

static moat_status vtd_op_walk_irqs(struct moat_unit *u, unsigned what, moat_unit_irq_fn fn, void *ctx)
{
	const struct moat_vtd_unit *v = vtd_of(u);
	moat_status st = MOAT_OK;

	if (!v->ir_phys)
		return MOAT_OK;
	if (what & MOAT_UNIT_IRQ_WALK_PAGES)
		st = vtd_irq_pages(v, fn, ctx);
	if (st == MOAT_OK && (what & MOAT_UNIT_IRQ_WALK_ENTRIES) && v->ir_enabled)
		st = vtd_irq_entries(v, fn, ctx);
	return st;
}

static moat_status vtd_op_fault_irq(struct moat_unit *u, const struct moat_irq_dest *dest,
				    struct moat_fault_irq_msi *msi, struct moat_diag *diag)
{
	(void)msi;
	return moat_vtd_fault_irq(vtd_of(u), dest, diag);
}

static const struct moat_unit_ops vtd_ops = {
	.attach = vtd_op_attach,
	.detach = vtd_op_detach,
	.lookup = vtd_op_lookup,
	.invalidate = vtd_op_invalidate,
	.flush_all = vtd_op_flush_all,
	.view = vtd_op_view,
	.fault_poll = vtd_op_fault_poll,
	.irq_alloc = vtd_op_irq_alloc,
	.irq_set = vtd_op_irq_set,
	.irq_free = vtd_op_irq_free,
	.walk_irqs = vtd_op_walk_irqs,
	.fault_irq = vtd_op_fault_irq,
};

/* ---- bring-up ---- */

static moat_status vtd_probe(struct moat_setup_unit *su, const struct moat_unit_desc *desc, struct moat_diag *diag)
{
	return moat_vtd_probe(&su->hw.vtd, desc, diag);
}

static moat_status vtd_negotiate(struct moat_setup *s, unsigned address_width, struct moat_system_config *cfg,
				 struct moat_diag *diag)
{
	struct moat_vtd_unit *units[VTD_NEGOTIATE_MAX];
	struct moat_vtd_caps c;
	unsigned sizes = MOAT_PT_PAGE_4K;
	moat_status st;

	if (s->count > VTD_NEGOTIATE_MAX)
		return moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, 0, "%u VT-d units: bring-up takes at most %u",
				     s->count, VTD_NEGOTIATE_MAX);
	for (unsigned i = 0; i < s->count; i++)
		units[i] = &s->units[i].hw.vtd;
	st = moat_vtd_negotiate(units, s->count, address_width ? address_width : 64, &c, diag);
	if (st != MOAT_OK)
		return st;

	if (c.superpages & MOAT_VTD_SP_2M) {
		sizes |= MOAT_PT_PAGE_2M;
		if (c.superpages & MOAT_VTD_SP_1G)
			sizes |= MOAT_PT_PAGE_1G;
	}
	moat_memset(cfg, 0, sizeof(*cfg));
	cfg->pt.format = MOAT_PT_VTD_SL;
	cfg->pt.levels = c.levels;
	cfg->pt.page_sizes = sizes;
	cfg->pt.coherent = c.coherent;
	/* Domain id 0 is never handed out: under caching mode it tags not-present entries. */
	cfg->domain_id_min = MOAT_MAX(1u, (unsigned)c.did_min);
	cfg->domain_id_max = (uint32_t)((1ull << c.domain_bits) - 1);

	s->caps.vendor = MOAT_VENDOR_VTD;
	s->caps.units = s->count;
	s->caps.levels = c.levels;
	s->caps.address_width = c.address_width;
	s->caps.page_sizes = sizes;
	s->caps.coherent = c.coherent;
	s->caps.caching_mode = c.caching_mode;
	s->caps.queued_invalidation = c.qi;
	s->caps.domain_id_min = cfg->domain_id_min;
	s->caps.domain_id_max = cfg->domain_id_max;
	s->caps.fault_records = c.fault_records;
	return MOAT_OK;
}

static void vtd_wrap(struct moat_setup_unit *su, const struct moat_unit_desc *desc)
{
	moat_memset(&su->unit, 0, sizeof(su->unit));
	su->unit.ops = &vtd_ops;
	su->unit.priv = su;
	su->unit.segment = desc->segment;
	su->unit.desc_index = (int32_t)su->desc_index;
	/* Caching mode: not-present entries may be cached, so a new mapping must be invalidated. */
	su->unit.flags = su->hw.vtd.caps.caching_mode ? MOAT_UNIT_F_INVAL_ON_MAP : 0;
	/* Root and context tables, the queue and its status word: trusted pages of the core. */
	su->hw.vtd.pages = moat_unit_pages(&su->unit);
}

static moat_status vtd_enable(struct moat_setup_unit *su, struct moat_diag *diag)
{
	return moat_vtd_enable(&su->hw.vtd, diag);
}

static moat_status vtd_disable(struct moat_setup_unit *su, struct moat_diag *diag)
{
	return moat_vtd_disable(&su->hw.vtd, diag);
}

static moat_status vtd_release(struct moat_setup_unit *su)
{
	return moat_vtd_release(&su->hw.vtd);
}

/* The pages moat_vtd_pages() lists, read from the unit's fields one by one (no array needed). */
static moat_status vtd_each_page(const struct moat_setup_unit *su, setup_page_fn fn, void *ctx)
{
	const struct moat_vtd_unit *v = &su->hw.vtd;
	moat_status st = MOAT_OK;

	if (v->root)
		st = fn(ctx, v->root_phys);
	for (unsigned bus = 0; bus < 256 && st == MOAT_OK; bus++)
		if (v->ctx[bus])
			st = fn(ctx, v->ctx_phys[bus]);
	if (st == MOAT_OK && v->iq)
		st = fn(ctx, v->iq_phys);
	if (st == MOAT_OK && v->wait_status)
		st = fn(ctx, v->wait_status_phys);
	for (uint32_t i = 0; v->ir_phys && i < MOAT_MAX(v->ir_entries / MOAT_VTD_IR_PER_PAGE, 1u) && st == MOAT_OK; i++)
		st = fn(ctx, v->ir_phys + (uint64_t)i * MOAT_PAGE_SIZE);
	for (unsigned i = 0; i < MOAT_VTD_IR_REC_PAGES && st == MOAT_OK; i++)
		if (v->ir_rec[i])
			st = fn(ctx, v->ir_rec_phys[i]);
	return st;
}

/* ---- interrupt remapping bring-up ---- */

#define VTD_IRQ_DEFAULT_ENTRIES 256u   /* one page */

static uint32_t vtd_irq_entries_of(const struct moat_setup_irq_config *cfg)
{
	return cfg->entries ? cfg->entries : VTD_IRQ_DEFAULT_ENTRIES;
}

static moat_status vtd_irq_check(const struct moat_setup_unit *su, const struct moat_setup_irq_config *cfg,
				 struct moat_diag *diag)
{
	const struct moat_vtd_unit *v = &su->hw.vtd;
	uint32_t n = vtd_irq_entries_of(cfg);

	if (!v->caps.ir || !v->qi_enabled)
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, 0,
				     "VT-d unit 0x%llx cannot remap interrupts (ECAP.IR %u, queued invalidation %s)",
				     (unsigned long long)v->reg_phys, (unsigned)v->caps.ir, v->qi_enabled ? "on" : "off");
	if ((cfg->flags & MOAT_SETUP_IRQ_X2APIC) && !v->caps.eim)
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, 0,
				     "VT-d unit 0x%llx: x2APIC destinations asked, ECAP.EIM is 0", (unsigned long long)v->reg_phys);
	if (n < 2 || n > MOAT_VTD_IR_MAX_ENTRIES || (n & (n - 1)))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "interrupt remapping: %u table entries: a power of two from 2 to 65536", (unsigned)n);
	return MOAT_OK;
}

static moat_status vtd_irq_enable(struct moat_setup_unit *su, const struct moat_setup_irq_config *cfg,
				  struct moat_diag *diag)
{
	return moat_vtd_ir_enable(&su->hw.vtd, vtd_irq_entries_of(cfg), (cfg->flags & MOAT_SETUP_IRQ_X2APIC) != 0,
				  (cfg->flags & MOAT_SETUP_IRQ_ALLOW_COMPAT) != 0, diag);
}

static moat_status vtd_irq_disable(struct moat_setup_unit *su, struct moat_diag *diag)
{
	return moat_vtd_ir_disable(&su->hw.vtd, diag);
}

static int vtd_describe(const struct moat_setup_unit *su, char *buf, size_t size)
{
	const struct moat_vtd_unit *v = &su->hw.vtd;
	const struct moat_setup_caps *sc = &su->setup->caps;

	return moat_snprintf(buf, size,
			     "VT-d %u.%u unit at 0x%llx: %u-level tables (%u-bit addresses), %s, %u fault record%s, "
			     "%s invalidation, %s%s",
			     (unsigned)(v->caps.version >> 4), (unsigned)(v->caps.version & 0xf),
			     (unsigned long long)v->reg_phys, sc->levels, sc->address_width, moat_setupi_page_sizes_words(sc->page_sizes),
			     (unsigned)v->caps.fault_records, v->caps.fault_records == 1 ? "" : "s",
			     v->caps.qi ? "queued" : "register",
			     v->caps.coherent ? "walks snoop CPU caches" : "walks do not snoop CPU caches (tables are flushed)",
			     v->caps.caching_mode ? ", caching mode (new mappings are invalidated too)" : "");
}

static void vtd_registers(const struct moat_setup_unit *su, uint64_t *base, uint64_t *size)
{
	*base = su->hw.vtd.reg_phys;
	*size = su->hw.vtd.reg_size;
}

const struct setup_vendor moat_setupi_vtd = {
	.vendor = MOAT_VENDOR_VTD,
	.name = "VT-d",
	.probe = vtd_probe,
	.negotiate = vtd_negotiate,
	.wrap = vtd_wrap,
	.enable = vtd_enable,
	.disable = vtd_disable,
	.release = vtd_release,
	.each_page = vtd_each_page,
	.describe = vtd_describe,
	.registers = vtd_registers,
	.irq_check = vtd_irq_check,
	.irq_enable = vtd_irq_enable,
	.irq_disable = vtd_irq_disable,
};
