/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The auditor: proves the protection on the live tables. Each domain's tables are walked as the
 * IOMMU would read them (links are followed only into pages Moat owns as page tables, so a link
 * anywhere else shows up as corrupt); each leaf's output range is checked against the registry
 * (binary search) and the Moat-owned pages (range query). Devices come from the units' hardware
 * view (the view() operation): from the root pointers the units are programmed with, every
 * structure page they walk and every entry that is not default deny, held against what Moat
 * writes. The units never follow a pointer into memory that is not their own structure; the
 * auditor also checks that those structures are Moat-owned.
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

/* ---- the units' hardware view: devices and reserved regions ---- */

struct hw_walk {
	struct audit *a;
	const struct moat_unit *u;
	unsigned index;          /* the unit's position in the system */
	uint64_t base;           /* its register base, from its state */
};

static struct moat_audit_violation hw_violation(const struct hw_walk *w, enum moat_audit_kind kind)
{
	struct moat_audit_violation v;

	moat_memset(&v, 0, sizeof(v));
	v.kind = kind;
	v.unit = w->index;
	v.unit_base = w->base;
	v.segment = w->u->segment;
	return v;
}

static void set_raw(struct moat_audit_violation *v, const uint64_t *raw, unsigned n)
{
	n = MOAT_MIN(n, (unsigned)MOAT_ARRAY_SIZE(v->raw));
	for (unsigned i = 0; i < n; i++)
		v->raw[i] = raw[i];
	v->raw_count = n;
}

/* Whether registry ranges cover every byte of [@first, @last]. */
static bool registry_covers(const struct moat_system *sys, uint64_t first, uint64_t last)
{
	for (uint64_t p = first;;) {
		int i = core_prot_find(sys, p, p);
		uint64_t end;

		if (i < 0)
			return false;
		end = core_prot_last(&sys->prot[i]);
		if (end >= last)
			return true;
		p = end + 1;
	}
}

static moat_status hw_state(void *ctx, const struct moat_unit_state *s)
{
	struct hw_walk *w = ctx;
	struct moat_audit_violation v;

	w->base = s->reg_base;
	if (s->expected_on && !s->translating) {
		v = hw_violation(w, MOAT_AUDIT_UNIT_OFF);
		set_raw(&v, &s->status, 1);
		set_what(&v, "translation off");
		report(w->a, &v);
	}
	if (s->reg_size && (s->reg_base + (s->reg_size - 1) < s->reg_base ||
			    !registry_covers(w->a->sys, s->reg_base, s->reg_base + (s->reg_size - 1)))) {
		v = hw_violation(w, MOAT_AUDIT_REGISTERS);
		v.hit_base = s->reg_base;
		v.hit_size = s->reg_size;
		set_what(&v, "unit registers");
		report(w->a, &v);
	}
	return MOAT_OK;
}

/* A structure the unit walks must be the driver's, for its place, and Moat-owned. */
static moat_status hw_table(void *ctx, const struct moat_unit_table *t)
{
	struct hw_walk *w = ctx;
	struct moat_audit_violation v;
	enum moat_audit_kind kind;

	w->a->r->unit_tables++;
	if (!t->ours)
		kind = t->level == 0 ? MOAT_AUDIT_ROOT_POINTER : MOAT_AUDIT_FOREIGN_TABLE;
	else if ((t->phys & CORE_PAGE_MASK) || t->phys >= CORE_PHYS_LIMIT ||
		 !track_test(w->a->sys, t->phys >> CORE_PAGE_SHIFT, TK_OWNED))
		kind = MOAT_AUDIT_FOREIGN_TABLE;
	else
		return MOAT_OK;
	v = hw_violation(w, kind);
	v.phys = t->phys;
	v.hit_base = t->expected;
	v.hit_size = MOAT_PAGE_SIZE;
	v.level = t->level;
	v.index = t->index;
	set_raw(&v, t->pointer, t->level == 0 ? 1 : 2);
	set_what(&v, t->name ? t->name : "table");
	report(w->a, &v);
	return MOAT_OK;
}

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

/* Every reserved region mapped to itself in @d that does not name device @rid. */
static void check_regions(struct hw_walk *w, const struct moat_domain *d, uint16_t rid)
{
	const struct moat_sysdesc *desc = w->a->sys->cfg.desc;
	uint32_t nreg;

	if (d->host || !desc || !desc->regions)
		return;
	nreg = MOAT_MIN(desc->regions_count, desc->regions_cap);
	for (uint32_t i = 0; i < nreg; i++) {
		const struct moat_region_desc *r = &desc->regions[i];
		struct moat_audit_violation v;
		uint64_t at;

		if (r->limit < r->base || moat_region_names(desc, r, w->u->segment, rid))
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
		v.rid = rid;
		v.region = i;
		moat_snprintf(v.what, sizeof(v.what), "%s+0x%x", r->kind == MOAT_REGION_RMRR ? "RMRR DMAR" : "IVMD IVRS",
			      (unsigned)r->src_offset);
		report(w->a, &v);
	}
}

static struct moat_audit_violation entry_violation(const struct hw_walk *w, enum moat_audit_kind kind,
						   const struct moat_unit_entry *e)
{
	struct moat_audit_violation v = hw_violation(w, kind);

	v.rid = e->rid;
	v.domain_id = e->domain_id;
	if (e->kind == MOAT_UNIT_TRANSLATED) {
		v.phys = e->root_phys;
		v.level = e->levels;
	}
	set_raw(&v, e->raw, e->raw_count);
	if (e->note)
		set_what(&v, e->note);
	return v;
}

/*
 * One live entry. Moat writes two kinds only: blocking entries (domain id 0, nothing enabled) and
 * translated entries of attached requesters, through their domain's tables, with its id and its
 * levels, without device TLBs. Everything else is reported.
 */
static moat_status hw_entry(void *ctx, const struct moat_unit_entry *e)
{
	struct hw_walk *w = ctx;
	struct audit *a = w->a;
	struct moat_audit_violation v;
	struct moat_domain *d;

	if (e->flags & MOAT_UNIT_E_ATS) {
		v = entry_violation(w, MOAT_AUDIT_ATS, e);
		report(a, &v);
	}
	if (e->kind == MOAT_UNIT_BLOCKED) {
		if (e->domain_id) {
			v = entry_violation(w, MOAT_AUDIT_DOMAIN_ID, e);
			report(a, &v);
		}
		return MOAT_OK;
	}
	a->r->devices++;
	if (e->kind != MOAT_UNIT_TRANSLATED) {
		v = entry_violation(w, MOAT_AUDIT_TRANSLATION, e);
		if (!e->note)
			set_what(&v, e->kind == MOAT_UNIT_PASSTHROUGH ? "pass-through" : "unknown translation type");
		report(a, &v);
		return MOAT_OK;
	}
	if (!(e->flags & MOAT_UNIT_E_ATTACHED)) {
		v = entry_violation(w, MOAT_AUDIT_UNATTACHED, e);
		report(a, &v);
		return MOAT_OK;
	}
	d = core_domain_by_root(a->sys, e->root_phys);
	if (!d) {
		v = entry_violation(w, MOAT_AUDIT_UNKNOWN_ROOT, e);
		set_what(&v, "tables of no domain");
		report(a, &v);
		return MOAT_OK;
	}
	if (d->id != e->domain_id) {
		v = entry_violation(w, MOAT_AUDIT_DOMAIN_ID, e);
		v.expected = d->id;
		report(a, &v);
	}
	if (d->pt.cfg.levels != e->levels) {
		v = entry_violation(w, MOAT_AUDIT_LEVELS, e);
		v.expected = d->pt.cfg.levels;
		report(a, &v);
	}
	check_regions(w, d, e->rid);
	return MOAT_OK;
}

static const struct moat_unit_view_fns hw_fns = { .state = hw_state, .table = hw_table, .entry = hw_entry };

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
		struct hw_walk hw = { &a, u, u->index, 0 };
		moat_status st;
		bool entered;

		if (!u->ops->view)
			continue;
		entered = core_unit_enter(u);
		st = u->ops->view(u, &hw_fns, &hw);
		core_unit_exit(u, entered);
		if (st != MOAT_OK && r->status == MOAT_OK)
			r->status = st;
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
	case MOAT_AUDIT_ROOT_POINTER:
		return "unit's root pointer names a table the driver did not allocate";
	case MOAT_AUDIT_FOREIGN_TABLE:
		return "unit walks a table that is not Moat's";
	case MOAT_AUDIT_UNIT_OFF:
		return "unit's translation is off";
	case MOAT_AUDIT_TRANSLATION:
		return "entry lets DMA past translation";
	case MOAT_AUDIT_ATS:
		return "entry allows device-TLB translation requests";
	case MOAT_AUDIT_UNATTACHED:
		return "entry translates for a device attached to no domain";
	case MOAT_AUDIT_DOMAIN_ID:
		return "entry carries the wrong domain id";
	case MOAT_AUDIT_LEVELS:
		return "entry gives the wrong number of levels";
	case MOAT_AUDIT_REGISTERS:
		return "unit's registers are not protected";
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

#define DEV_FMT "%04x:%02x:%02x.%x"
#define DEV_ARGS(v) (unsigned)(v)->segment, (unsigned)MOAT_RID_BUS((v)->rid), (unsigned)MOAT_RID_DEV((v)->rid), \
	(unsigned)MOAT_RID_FN((v)->rid)

/* "unit 0 (0xfed90000): device 0000:00:02.0 entry 0x... ...: " for the entry kinds. */
static int entry_prefix(const struct moat_audit_violation *v, char *buf, size_t size)
{
	return moat_snprintf(buf, size, "unit %u (0x%llx): device " DEV_FMT " entry 0x%016llx %016llx", v->unit,
			     (unsigned long long)v->unit_base, DEV_ARGS(v), (unsigned long long)v->raw[0],
			     (unsigned long long)(v->raw_count > 1 ? v->raw[1] : 0));
}

static int format_unit(const struct moat_audit_violation *v, char *buf, size_t size)
{
	char pre[128];

	switch (v->kind) {
	case MOAT_AUDIT_ROOT_POINTER:
		if (v->phys == v->hit_base)
			return moat_snprintf(buf, size,
					     "unit %u (0x%llx): %s pointer 0x%llx names the driver's table in a mode or size "
					     "the driver did not program: not followed", v->unit,
					     (unsigned long long)v->unit_base, v->what, (unsigned long long)v->raw[0]);
		return moat_snprintf(buf, size,
				     "unit %u (0x%llx): %s pointer 0x%llx names 0x%llx, not the driver's table 0x%llx: "
				     "not followed", v->unit, (unsigned long long)v->unit_base, v->what,
				     (unsigned long long)v->raw[0], (unsigned long long)v->phys,
				     (unsigned long long)v->hit_base);
	case MOAT_AUDIT_FOREIGN_TABLE:
		if (v->level == 0)
			return moat_snprintf(buf, size, "unit %u (0x%llx): %s page %u at 0x%llx is not Moat-owned", v->unit,
					     (unsigned long long)v->unit_base, v->what, (unsigned)v->index,
					     (unsigned long long)v->phys);
		return moat_snprintf(buf, size,
				     "unit %u (0x%llx): root entry %u (0x%016llx) names %s 0x%llx, not a Moat-owned one of "
				     "this unit (the driver's: 0x%llx): not followed", v->unit,
				     (unsigned long long)v->unit_base, (unsigned)v->index, (unsigned long long)v->raw[0],
				     v->what, (unsigned long long)v->phys, (unsigned long long)v->hit_base);
	case MOAT_AUDIT_UNIT_OFF:
		return moat_snprintf(buf, size,
				     "unit %u (0x%llx): translation is off (status 0x%llx) although the driver turned it "
				     "on: DMA bypasses every table", v->unit, (unsigned long long)v->unit_base,
				     (unsigned long long)v->raw[0]);
	case MOAT_AUDIT_REGISTERS:
		return moat_snprintf(buf, size,
				     "unit %u (0x%llx): registers [0x%llx, 0x%llx] are not in the protection registry: a "
				     "domain could map them", v->unit, (unsigned long long)v->unit_base,
				     (unsigned long long)v->hit_base,
				     (unsigned long long)(v->hit_base + (v->hit_size - 1)));
	default:
		break;
	}
	entry_prefix(v, pre, sizeof(pre));
	switch (v->kind) {
	case MOAT_AUDIT_TRANSLATION:
		return moat_snprintf(buf, size, "%s lets DMA past translation (%s)", pre, v->what);
	case MOAT_AUDIT_ATS:
		return moat_snprintf(buf, size, "%s allows device-TLB translation requests (%s)", pre,
				     v->what[0] ? v->what : "ATS");
	case MOAT_AUDIT_UNATTACHED:
		return moat_snprintf(buf, size, "%s translates (domain id %u, root 0x%llx) for a device attached to no "
				     "domain", pre, (unsigned)v->domain_id, (unsigned long long)v->phys);
	case MOAT_AUDIT_DOMAIN_ID:
		if (v->level == 0)
			return moat_snprintf(buf, size, "%s blocks but carries domain id %u (blocking entries carry 0)",
					     pre, (unsigned)v->domain_id);
		return moat_snprintf(buf, size, "%s carries domain id %u but points at the tables of domain %u: its "
				     "invalidations miss it", pre, (unsigned)v->domain_id, (unsigned)v->expected);
	case MOAT_AUDIT_LEVELS:
		return moat_snprintf(buf, size, "%s gives %u levels, its domain's tables (root 0x%llx) have %u", pre,
				     v->level, (unsigned long long)v->phys, (unsigned)v->expected);
	default:
		break;
	}
	return moat_snprintf(buf, size, "unknown violation kind %u", (unsigned)v->kind);
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
	return format_unit(v, buf, size);
}
