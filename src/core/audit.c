/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The auditor: proves the protection on the live tables. Each domain's tables are walked as the
 * IOMMU would read them (links are followed only into pages Moat owns as page tables, so a link
 * anywhere else shows up as corrupt); each leaf's output range is checked against the registry
 * (binary search) and the Moat-owned pages (range query). Devices come from the units' own
 * tables, so a device left pointing at tables of no domain is found too.
 */
#include "core_internal.h"

struct audit {
	struct moat_system *sys;
	struct moat_audit_report *r;
	const struct moat_domain *dom;
};

static void report(struct audit *a, const struct moat_audit_violation *v)
{
	struct moat_audit_report *r = a->r;

	if (r->count < MOAT_AUDIT_MAX)
		r->v[r->count++] = *v;
	r->violations++;
}

static void set_what(struct moat_audit_violation *v, const char *s)
{
	unsigned i = 0;

	for (; s[i] && i < sizeof(v->what) - 1; i++)
		v->what[i] = s[i];
	v->what[i] = '\0';
}

static struct moat_audit_violation leaf_violation(const struct audit *a, enum moat_audit_kind kind, uint64_t iova,
						  uint64_t phys, uint64_t size)
{
	struct moat_audit_violation v;

	moat_memset(&v, 0, sizeof(v));
	v.kind = kind;
	v.domain_id = a->dom ? a->dom->id : 0;
	v.iova = iova;
	v.phys = phys;
	v.size = size;
	return v;
}

static moat_status audit_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	struct audit *a = ctx;
	const struct moat_system *sys = a->sys;
	const uint64_t last = phys + (size - 1);
	int i = core_prot_find(sys, phys, last);
	uint64_t pfn;

	(void)prot;
	a->r->leaves++;
	a->r->mapped_bytes += size;
	for (unsigned j = i < 0 ? sys->prot_count : (unsigned)i; j < sys->prot_count && sys->prot[j].base <= last; j++) {
		struct moat_audit_violation v;

		if (core_prot_last(&sys->prot[j]) < phys)
			continue;
		v = leaf_violation(a, MOAT_AUDIT_PROTECTED, iova, phys, size);
		v.hit_base = sys->prot[j].base;
		v.hit_size = sys->prot[j].size;
		set_what(&v, sys->prot[j].label);
		report(a, &v);
	}
	if (track_next(sys, TK_TABLE, TK_KINDS, phys >> CORE_PAGE_SHIFT, last >> CORE_PAGE_SHIFT, &pfn)) {
		struct moat_audit_violation v = leaf_violation(a, MOAT_AUDIT_TABLE, iova, phys, size);

		v.hit_base = pfn << CORE_PAGE_SHIFT;
		v.hit_size = MOAT_PAGE_SIZE;
		set_what(&v, "page table");
		report(a, &v);
	}
	if (track_next(sys, TK_OWNED, TK_TABLE, phys >> CORE_PAGE_SHIFT, last >> CORE_PAGE_SHIFT, &pfn)) {
		struct moat_audit_violation v = leaf_violation(a, MOAT_AUDIT_OWNED, iova, phys, size);

		v.hit_base = pfn << CORE_PAGE_SHIFT;
		v.hit_size = MOAT_PAGE_SIZE;
		set_what(&v, "moat-owned");
		report(a, &v);
	}
	return MOAT_OK;
}

static moat_status audit_table(void *ctx, uint64_t phys, const void *virt, unsigned level, uint64_t iova)
{
	struct audit *a = ctx;
	const uint64_t pfn = phys >> CORE_PAGE_SHIFT;

	(void)virt;
	a->r->tables++;
	if (!track_test(a->sys, pfn, TK_OWNED) || !track_test(a->sys, pfn, TK_TABLE)) {
		struct moat_audit_violation v = leaf_violation(a, MOAT_AUDIT_UNTRACKED_TABLE, iova, phys, MOAT_PAGE_SIZE);

		v.level = level;
		v.hit_base = phys;
		v.hit_size = MOAT_PAGE_SIZE;
		set_what(&v, "table page not Moat-owned");
		report(a, &v);
	}
	return MOAT_OK;
}

static moat_status audit_bad(void *ctx, uint64_t iova, unsigned level, uint64_t raw)
{
	struct audit *a = ctx;
	const unsigned shift = 12u + 9u * (level - 1u);
	struct moat_audit_violation v =
		leaf_violation(a, MOAT_AUDIT_CORRUPT, iova, raw, shift < 64 ? 1ull << shift : 0);

	v.level = level;
	v.hit_base = raw;
	set_what(&v, "corrupt entry");
	report(a, &v);
	return MOAT_OK;
}

/* Links are followed only into pages Moat owns as page tables. */
static void *audit_phys_to_virt(void *cookie, uint64_t phys)
{
	const struct moat_system *sys = cookie;

	if ((phys & CORE_PAGE_MASK) || !track_test(sys, phys >> CORE_PAGE_SHIFT, TK_TABLE))
		return NULL;
	return moat_plat_phys_to_virt(phys);
}

/* ---- devices and reserved regions ---- */

struct dev_walk {
	struct audit *a;
	const struct moat_unit *u;
};

/* The first page of region [first, last] @dom maps to itself, if any. */
static bool region_mapped(const struct moat_domain *dom, uint64_t first, uint64_t last, uint64_t *at)
{
	if (first > dom->pt.iova_last)
		return false;
	last = MOAT_MIN(last, dom->pt.iova_last);
	for (uint64_t p = first;;) {
		uint64_t out = 0, leaf = MOAT_PAGE_SIZE;

		if (moat_pt_translate(&dom->pt, p, &out, NULL, &leaf) == MOAT_OK) {
			if (out == p) {
				*at = p;
				return true;
			}
			leaf -= p & (leaf - 1);
		} else {
			leaf = MOAT_PAGE_SIZE;
		}
		if (last - p < leaf)
			return false;
		p += leaf;
	}
}

static moat_status audit_device(void *ctx, const struct moat_unit_dev *dev)
{
	struct dev_walk *w = ctx;
	struct audit *a = w->a;
	const struct moat_sysdesc *desc = a->sys->cfg.desc;
	struct moat_domain *d = core_domain_by_root(a->sys, dev->root_phys);
	uint32_t nreg;

	a->r->devices++;
	if (!d) {
		struct moat_audit_violation v;

		moat_memset(&v, 0, sizeof(v));
		v.kind = MOAT_AUDIT_UNKNOWN_ROOT;
		v.phys = dev->root_phys;
		v.segment = w->u->segment;
		v.rid = dev->rid;
		v.domain_id = dev->domain_id;
		set_what(&v, "tables of no domain");
		report(a, &v);
		return MOAT_OK;
	}
	if (d->host || !desc || !desc->regions)
		return MOAT_OK;
	nreg = MOAT_MIN(desc->regions_count, desc->regions_cap);
	for (uint32_t i = 0; i < nreg; i++) {
		const struct moat_region_desc *r = &desc->regions[i];
		struct moat_audit_violation v;
		uint64_t at;

		if (r->limit < r->base || moat_region_names(desc, r, w->u->segment, dev->rid))
			continue;
		if (!region_mapped(d, r->base & ~CORE_PAGE_MASK, r->limit | CORE_PAGE_MASK, &at))
			continue;
		moat_memset(&v, 0, sizeof(v));
		v.kind = MOAT_AUDIT_RESERVED;
		v.domain_id = d->id;
		v.iova = at;
		v.phys = at;
		v.size = MOAT_PAGE_SIZE;
		v.hit_base = r->base;
		v.hit_size = r->limit - r->base + 1;
		v.segment = w->u->segment;
		v.rid = dev->rid;
		v.region = i;
		moat_snprintf(v.what, sizeof(v.what), "%s+0x%x", r->kind == MOAT_REGION_RMRR ? "RMRR DMAR" : "IVMD IVRS",
			      (unsigned)r->src_offset);
		report(a, &v);
	}
	return MOAT_OK;
}

uint64_t moat_audit(struct moat_system *sys, struct moat_audit_report *r)
{
	const struct moat_pt_walk_ops w = { .table = audit_table, .leaf = audit_leaf, .bad_entry = audit_bad };
	struct audit a;

	if (!r)
		return UINT64_MAX;
	moat_memset(r, 0, sizeof(*r));
	if (!core_sys_ok(sys)) {
		r->status = MOAT_ERR_INVALID_ARG;
		r->violations = UINT64_MAX;
		return UINT64_MAX;
	}
	a.sys = sys;
	a.r = r;
	core_lock(sys);
	for (const struct moat_domain *d = sys->domains; d; d = d->next) {
		struct moat_pt view = d->pt;
		moat_status st;

		a.dom = d;
		view.ops.phys_to_virt = audit_phys_to_virt;
		view.ops.cookie = sys;
		r->domains++;
		st = moat_pt_walk(&view, &w, &a);
		if (st != MOAT_OK && r->status == MOAT_OK)
			r->status = st;
	}
	a.dom = NULL;
	for (struct moat_unit *u = sys->units; u; u = u->next) {
		struct dev_walk dw = { &a, u };
		bool entered;

		if (!u->ops->walk_devices)
			continue;
		entered = core_unit_enter(u);
		u->ops->walk_devices(u, audit_device, &dw);
		core_unit_exit(u, entered);
	}
	core_audit_irq(sys, r);
	core_unlock(sys);
	return r->violations;
}

/* ---- formatting ---- */

const char *moat_audit_kind_str(enum moat_audit_kind kind)
{
	switch (kind) {
	case MOAT_AUDIT_PROTECTED:
		return "maps protected memory";
	case MOAT_AUDIT_OWNED:
		return "maps Moat-owned memory";
	case MOAT_AUDIT_TABLE:
		return "maps a page table";
	case MOAT_AUDIT_CORRUPT:
		return "corrupt entry";
	case MOAT_AUDIT_RESERVED:
		return "reserved region mapped for a device it does not name";
	case MOAT_AUDIT_UNTRACKED_TABLE:
		return "table page not Moat-owned";
	case MOAT_AUDIT_UNKNOWN_ROOT:
		return "device translates through unknown tables";
	default:
		break;
	}
	return core_audit_irq_kind_str(kind) ? core_audit_irq_kind_str(kind) : "unknown violation";
}

static const char *size_str(uint64_t size, char *buf, size_t n)
{
	if (size && !(size & ((1ull << 30) - 1)))
		moat_snprintf(buf, n, "%llu GiB", (unsigned long long)(size >> 30));
	else if (size && !(size & ((1ull << 20) - 1)))
		moat_snprintf(buf, n, "%llu MiB", (unsigned long long)(size >> 20));
	else if (size && !(size & 1023))
		moat_snprintf(buf, n, "%llu KiB", (unsigned long long)(size >> 10));
	else
		moat_snprintf(buf, n, "0x%llx bytes", (unsigned long long)size);
	return buf;
}

int moat_audit_format(const struct moat_audit_violation *v, char *buf, size_t size)
{
	char sz[32];

	if (!v)
		return moat_snprintf(buf, size, "(no violation)");
	switch (v->kind) {
	case MOAT_AUDIT_PROTECTED:
	case MOAT_AUDIT_OWNED:
	case MOAT_AUDIT_TABLE:
		return moat_snprintf(buf, size, "domain %u: iova 0x%llx -> phys 0x%llx (%s) %s: %s [0x%llx, 0x%llx]",
				     (unsigned)v->domain_id, (unsigned long long)v->iova, (unsigned long long)v->phys,
				     size_str(v->size, sz, sizeof(sz)), moat_audit_kind_str(v->kind), v->what,
				     (unsigned long long)v->hit_base,
				     (unsigned long long)(v->hit_base + (v->hit_size - 1)));
	case MOAT_AUDIT_CORRUPT:
		return moat_snprintf(buf, size, "domain %u: corrupt entry 0x%016llx at level %u for iova 0x%llx",
				     (unsigned)v->domain_id, (unsigned long long)v->phys, v->level,
				     (unsigned long long)v->iova);
	case MOAT_AUDIT_RESERVED:
		return moat_snprintf(buf, size,
				     "domain %u: reserved region %u (%s) [0x%llx, 0x%llx] mapped at iova 0x%llx, "
				     "but it does not name attached device %04x:%02x:%02x.%x",
				     (unsigned)v->domain_id, (unsigned)v->region, v->what,
				     (unsigned long long)v->hit_base,
				     (unsigned long long)(v->hit_base + (v->hit_size - 1)), (unsigned long long)v->iova,
				     (unsigned)v->segment, (unsigned)MOAT_RID_BUS(v->rid), (unsigned)MOAT_RID_DEV(v->rid),
				     (unsigned)MOAT_RID_FN(v->rid));
	case MOAT_AUDIT_UNTRACKED_TABLE:
		return moat_snprintf(buf, size, "domain %u: table page 0x%llx (level %u, iova 0x%llx) is not Moat-owned",
				     (unsigned)v->domain_id, (unsigned long long)v->phys, v->level,
				     (unsigned long long)v->iova);
	case MOAT_AUDIT_UNKNOWN_ROOT:
		return moat_snprintf(buf, size,
				     "device %04x:%02x:%02x.%x (domain id %u) translates through root 0x%llx of no domain",
				     (unsigned)v->segment, (unsigned)MOAT_RID_BUS(v->rid), (unsigned)MOAT_RID_DEV(v->rid),
				     (unsigned)MOAT_RID_FN(v->rid), (unsigned)v->domain_id, (unsigned long long)v->phys);
	default:
		break;
	}
	if (core_audit_irq_kind_str(v->kind))
		return core_audit_irq_format(v, buf, size);
	return moat_snprintf(buf, size, "unknown violation kind %u", (unsigned)v->kind);
}
