/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The auditor's interrupt-remapping checks (moat_audit(), MOAT_AUDIT_IRQ_* kinds): what each
 * unit's live interrupt tables and device-table entries hold, against Moat's own records
 * (walk_irqs() of internal/unit.h), and every leaf of every domain against the pages of those
 * tables. Units whose remapping is off report nothing, so a host that never turned remapping on
 * audits as before.
 */
#include "core_internal.h"

struct irq_audit {
	struct moat_system *sys;
	struct moat_audit_report *r;
	const struct moat_unit *u;
	const struct moat_domain *dom;
	/* the leaf being checked against the table pages */
	uint64_t iova, phys, size;
};

static void irq_report(struct moat_audit_report *r, const struct moat_audit_violation *v)
{
	if (r->count < MOAT_AUDIT_MAX)
		r->v[r->count++] = *v;
	r->violations++;
}

static void irq_what(struct moat_audit_violation *v, const char *s)
{
	unsigned i = 0;

	for (; s[i] && i < sizeof(v->what) - 1; i++)
		v->what[i] = s[i];
	v->what[i] = '\0';
}

static void report_rec(struct irq_audit *a, enum moat_audit_kind kind, const struct moat_unit_irq *rec)
{
	struct moat_audit_violation v;

	moat_memset(&v, 0, sizeof(v));
	v.kind = kind;
	v.segment = a->u->segment;
	v.rid = rec->rid;
	v.iova = rec->index;
	v.phys = rec->raw[0];
	v.hit_base = rec->phys;
	v.hit_size = rec->owner;
	irq_what(&v, core_audit_irq_kind_str(kind));
	irq_report(a->r, &v);
}

/* One record of a unit: which rule it breaks, if any. */
static moat_status audit_rec(void *ctx, const struct moat_unit_irq *rec)
{
	struct irq_audit *a = ctx;

	switch (rec->kind) {
	case MOAT_UNIT_IRQ_STATE:
		if (!rec->as_set)
			report_rec(a, MOAT_AUDIT_IRQ_OFF, rec);
		break;
	case MOAT_UNIT_IRQ_ENTRY:
		if (!rec->present)
			break;
		if (!rec->allocated)
			report_rec(a, MOAT_AUDIT_IRQ_UNALLOCATED, rec);
		else if (!rec->verified)
			report_rec(a, MOAT_AUDIT_IRQ_UNVERIFIED, rec);
		else if (!rec->source_ok)
			report_rec(a, MOAT_AUDIT_IRQ_WRONG_SOURCE, rec);
		break;
	case MOAT_UNIT_IRQ_DEVICE:
		if (!rec->remapped)
			report_rec(a, MOAT_AUDIT_IRQ_PASSTHROUGH, rec);
		else if (rec->forwards)
			report_rec(a, MOAT_AUDIT_IRQ_FORWARD, rec);
		else if (!rec->table_ok)
			report_rec(a, MOAT_AUDIT_IRQ_WRONG_SOURCE, rec);
		break;
	case MOAT_UNIT_IRQ_PAGE:
		break;
	}
	return MOAT_OK;
}

/* ---- leaves that reach an interrupt table ---- */

static moat_status count_page(void *ctx, const struct moat_unit_irq *rec)
{
	if (rec->kind == MOAT_UNIT_IRQ_PAGE)
		(*(uint64_t *)ctx)++;
	return MOAT_OK;
}

static moat_status check_page(void *ctx, const struct moat_unit_irq *rec)
{
	struct irq_audit *a = ctx;
	struct moat_audit_violation v;

	if (rec->kind != MOAT_UNIT_IRQ_PAGE || rec->phys + MOAT_PAGE_SIZE <= a->phys ||
	    rec->phys > a->phys + (a->size - 1))
		return MOAT_OK;
	moat_memset(&v, 0, sizeof(v));
	v.kind = MOAT_AUDIT_IRQ_TABLE_MAPPED;
	v.domain_id = a->dom->id;
	v.iova = a->iova;
	v.phys = a->phys;
	v.size = a->size;
	v.hit_base = rec->phys;
	v.hit_size = MOAT_PAGE_SIZE;
	v.segment = a->u->segment;
	irq_what(&v, "interrupt table");
	irq_report(a->r, &v);
	return MOAT_OK;
}

static moat_status leaf_check(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	struct irq_audit *a = ctx;

	(void)prot;
	a->iova = iova;
	a->phys = phys;
	a->size = size;
	for (struct moat_unit *u = a->sys->units; u; u = u->next) {
		bool entered;

		if (!u->ops->walk_irqs)
			continue;
		a->u = u;
		entered = core_unit_enter(u);
		u->ops->walk_irqs(u, MOAT_UNIT_IRQ_WALK_PAGES, check_page, a);
		core_unit_exit(u, entered);
	}
	return MOAT_OK;
}

static moat_status table_ignore(void *ctx, uint64_t phys, const void *virt, unsigned level, uint64_t iova)
{
	(void)ctx;
	(void)phys;
	(void)virt;
	(void)level;
	(void)iova;
	return MOAT_OK;
}

static moat_status bad_ignore(void *ctx, uint64_t iova, unsigned level, uint64_t raw)
{
	(void)ctx;
	(void)iova;
	(void)level;
	(void)raw;
	return MOAT_OK;
}

/* As the main walk: links are followed only into pages Moat owns as page tables. */
static void *irq_phys_to_virt(void *cookie, uint64_t phys)
{
	const struct moat_system *sys = cookie;

	if ((phys & CORE_PAGE_MASK) || !track_test(sys, phys >> CORE_PAGE_SHIFT, TK_TABLE))
		return NULL;
	return moat_plat_phys_to_virt(phys);
}

void core_audit_irq(struct moat_system *sys, struct moat_audit_report *r)
{
	const struct moat_pt_walk_ops w = { .table = table_ignore, .leaf = leaf_check, .bad_entry = bad_ignore };
	struct irq_audit a = { sys, r, NULL, NULL, 0, 0, 0 };
	uint64_t pages = 0;

	for (struct moat_unit *u = sys->units; u; u = u->next) {
		bool entered;
		moat_status st;

		if (!u->ops->walk_irqs)
			continue;
		a.u = u;
		entered = core_unit_enter(u);
		st = u->ops->walk_irqs(u, MOAT_UNIT_IRQ_WALK_ENTRIES | MOAT_UNIT_IRQ_WALK_PAGES, audit_rec, &a);
		if (st == MOAT_OK)
			st = u->ops->walk_irqs(u, MOAT_UNIT_IRQ_WALK_PAGES, count_page, &pages);
		core_unit_exit(u, entered);
		if (st != MOAT_OK && r->status == MOAT_OK)
			r->status = st;
	}
	if (!pages)
		return;
	for (const struct moat_domain *d = sys->domains; d; d = d->next) {
		struct moat_pt view = d->pt;
		moat_status st;

		a.dom = d;
		view.ops.phys_to_virt = irq_phys_to_virt;
		view.ops.cookie = sys;
		st = moat_pt_walk(&view, &w, &a);
		if (st != MOAT_OK && r->status == MOAT_OK)
			r->status = st;
	}
}

/* ---- words ---- */

const char *core_audit_irq_kind_str(enum moat_audit_kind kind)
{
	switch (kind) {
	case MOAT_AUDIT_IRQ_UNALLOCATED:
		return "interrupt entry Moat did not allocate";
	case MOAT_AUDIT_IRQ_UNVERIFIED:
		return "interrupt entry checks no requester";
	case MOAT_AUDIT_IRQ_WRONG_SOURCE:
		return "interrupt entry of another device";
	case MOAT_AUDIT_IRQ_PASSTHROUGH:
		return "interrupts pass unremapped";
	case MOAT_AUDIT_IRQ_FORWARD:
		return "interrupts forwarded unmapped";
	case MOAT_AUDIT_IRQ_TABLE_MAPPED:
		return "maps an interrupt table";
	case MOAT_AUDIT_IRQ_OFF:
		return "interrupt remapping not as set";
	default:
		break;
	}
	return NULL;
}

#define RID_FMT "%02x:%02x.%x"
#define RID_ARGS(r) (unsigned)MOAT_RID_BUS(r), (unsigned)MOAT_RID_DEV(r), (unsigned)MOAT_RID_FN(r)

int core_audit_irq_format(const struct moat_audit_violation *v, char *buf, size_t size)
{
	const char *k = core_audit_irq_kind_str(v->kind);

	switch (v->kind) {
	case MOAT_AUDIT_IRQ_UNALLOCATED:
	case MOAT_AUDIT_IRQ_UNVERIFIED:
	case MOAT_AUDIT_IRQ_WRONG_SOURCE:
		/* A table entry has an address; a device-table entry's fields do not. */
		if (!v->hit_base)
			break;
		if (v->kind == MOAT_AUDIT_IRQ_UNALLOCATED)
			return moat_snprintf(buf, size, "segment %04x: %s: entry %llu at 0x%llx (0x%016llx) checks " RID_FMT,
					     (unsigned)v->segment, k, (unsigned long long)v->iova,
					     (unsigned long long)v->hit_base, (unsigned long long)v->phys, RID_ARGS(v->rid));
		return moat_snprintf(buf, size,
				     "segment %04x: %s: entry %llu at 0x%llx (0x%016llx) checks " RID_FMT
				     ", allocated for " RID_FMT,
				     (unsigned)v->segment, k, (unsigned long long)v->iova, (unsigned long long)v->hit_base,
				     (unsigned long long)v->phys, RID_ARGS(v->rid), RID_ARGS(v->hit_size));
	case MOAT_AUDIT_IRQ_PASSTHROUGH:
	case MOAT_AUDIT_IRQ_FORWARD:
		break;
	case MOAT_AUDIT_IRQ_TABLE_MAPPED:
		return moat_snprintf(buf, size, "domain %u: iova 0x%llx -> phys 0x%llx (0x%llx bytes) %s (page 0x%llx)",
				     (unsigned)v->domain_id, (unsigned long long)v->iova, (unsigned long long)v->phys,
				     (unsigned long long)v->size, k, (unsigned long long)v->hit_base);
	case MOAT_AUDIT_IRQ_OFF:
		return moat_snprintf(buf, size,
				     "segment %04x: a unit's %s (off, another table, or compatibility format not asked for)",
				     (unsigned)v->segment, k);
	default:
		return -1;
	}
	return moat_snprintf(buf, size, "device %04x:" RID_FMT ": %s (device-table interrupt fields 0x%016llx)",
			     (unsigned)v->segment, RID_ARGS(v->rid), k, (unsigned long long)v->phys);
}
