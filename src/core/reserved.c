/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reserved regions (DMAR RMRR, IVRS IVMD): memory firmware says some devices keep using. Each is
 * identity-mapped only into the domain of a device it names, never over protected memory.
 */
#include "core_internal.h"

#define UNDO_MAX 64u

static const char *region_kind_str(enum moat_region_kind k)
{
	switch (k) {
	case MOAT_REGION_RMRR:
		return "RMRR";
	case MOAT_REGION_IVMD_ALL:
		return "IVMD (all devices)";
	case MOAT_REGION_IVMD_SELECT:
		return "IVMD (one device)";
	case MOAT_REGION_IVMD_RANGE:
		return "IVMD (device range)";
	}
	return "region";
}

static const char *region_table(enum moat_region_kind k)
{
	return k == MOAT_REGION_RMRR ? "DMAR" : "IVRS";
}

static bool region_devsets_valid(const struct moat_sysdesc *desc, const struct moat_region_desc *r)
{
	uint32_t n = MOAT_MIN(desc->devsets_count, desc->devsets_cap);

	return r->devset_first <= n && r->devset_count <= n - r->devset_first;
}

bool moat_region_names(const struct moat_sysdesc *desc, const struct moat_region_desc *r, uint16_t segment,
		       uint16_t rid)
{
	if (!desc || !r || r->segment != segment)
		return false;
	if (r->kind == MOAT_REGION_IVMD_ALL)
		return true;
	if (!region_devsets_valid(desc, r))
		return false;
	for (uint32_t i = 0; i < r->devset_count; i++)
		if (moat_devset_names(&desc->devsets[r->devset_first + i], segment, rid))
			return true;
	return false;
}

static unsigned region_prot(const struct moat_region_desc *r)
{
	unsigned prot = 0;

	if (r->kind == MOAT_REGION_RMRR || (r->flags & MOAT_REGION_EXCLUSION))
		return MOAT_PT_RW;
	if (r->flags & MOAT_REGION_READ)
		prot |= MOAT_PT_READ;
	if (r->flags & MOAT_REGION_WRITE)
		prot |= MOAT_PT_WRITE;
	return prot;
}

struct undo {
	uint64_t iova[UNDO_MAX], size[UNDO_MAX];
	unsigned n;
};

static void undo_maps(struct moat_domain *dom, struct undo *u)
{
	struct moat_pt_gather g;

	moat_pt_gather_init(&g);
	for (unsigned i = u->n; i-- > 0;)
		moat_pt_unmap(&dom->pt, u->iova[i], u->size[i], &g);
	core_gather_finish(dom->sys, dom, &g, NULL);
}

/* Check region @r for @dom: protected memory, address limits, conflicting maps. */
static moat_status region_check(struct moat_domain *dom, const struct moat_region_desc *r, uint16_t segment,
				uint16_t rid, struct moat_diag *diag)
{
	struct moat_system *sys = dom->sys;
	struct moat_protect_hit hit;
	uint64_t first = r->base & ~CORE_PAGE_MASK, last = r->limit | CORE_PAGE_MASK;

	if (core_prot_check(sys, first, last, &hit) != MOAT_OK) {
		moat_diag_set(diag, MOAT_ERR_PROTECTED, region_table(r->kind), r->src_offset,
			      "%s [0x%llx, 0x%llx] for device %04x:%02x:%02x.%x overlaps protected [0x%llx, 0x%llx] "
			      "(%s): refused",
			      region_kind_str(r->kind), (unsigned long long)r->base, (unsigned long long)r->limit,
			      (unsigned)segment, (unsigned)MOAT_RID_BUS(rid), (unsigned)MOAT_RID_DEV(rid),
			      (unsigned)MOAT_RID_FN(rid), (unsigned long long)hit.base,
			      (unsigned long long)(hit.base + (hit.size - 1)), hit.label);
		moat_log(MOAT_LOG_ERROR, "%s+0x%x: %s", region_table(r->kind), (unsigned)r->src_offset, diag->msg);
		return MOAT_ERR_PROTECTED;
	}
	if (last >= CORE_PHYS_LIMIT || last > dom->pt.iova_last)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, region_table(r->kind), r->src_offset,
				     "%s [0x%llx, 0x%llx] lies beyond what domain %u can map",
				     region_kind_str(r->kind), (unsigned long long)r->base,
				     (unsigned long long)r->limit, (unsigned)dom->id);
	for (uint64_t p = first; p <= last;) {
		uint64_t out = 0, leaf = MOAT_PAGE_SIZE;
		moat_status st = moat_pt_translate(&dom->pt, p, &out, NULL, &leaf);

		if (st == MOAT_OK && out != p)
			return moat_diag_set(diag, MOAT_ERR_OVERLAP, region_table(r->kind), r->src_offset,
					     "%s [0x%llx, 0x%llx]: iova 0x%llx of domain %u already maps phys 0x%llx",
					     region_kind_str(r->kind), (unsigned long long)r->base,
					     (unsigned long long)r->limit, (unsigned long long)p, (unsigned)dom->id,
					     (unsigned long long)out);
		if (st != MOAT_OK && st != MOAT_ERR_NOT_FOUND)
			return moat_diag_set(diag, st, NULL, 0, "domain %u: reading iova 0x%llx: %s", (unsigned)dom->id,
					     (unsigned long long)p, moat_status_text(st));
		if (st == MOAT_OK)
			leaf = leaf - (p & (leaf - 1));
		if (last - p < leaf)
			break;
		p += leaf;
	}
	return MOAT_OK;
}

/* Map the pages of [first, last] not yet mapped, recording each map in @u. */
static moat_status region_map(struct moat_domain *dom, uint64_t first, uint64_t last, unsigned prot,
			      struct undo *u)
{
	uint64_t p = first, run = UINT64_MAX;

	for (;;) {
		bool end = p > last || p < first;
		bool mapped = !end && moat_pt_translate(&dom->pt, p, NULL, NULL, NULL) == MOAT_OK;

		if ((end || mapped) && run != UINT64_MAX) {
			moat_status st;

			if (u->n == UNDO_MAX)
				return MOAT_ERR_NO_SPACE;
			for (unsigned tries = 0;;) {
				st = moat_pt_map(&dom->pt, run, run, p - run, prot);
				if (!core_host_retry(dom->sys, dom, st, &tries))
					break;
				/* the pool grew and may have taken a page of the run */
				if (core_prot_check(dom->sys, run, p - 1, NULL) != MOAT_OK)
					return MOAT_ERR_PROTECTED;
			}
			if (st != MOAT_OK)
				return st;
			u->iova[u->n] = run;
			u->size[u->n] = p - run;
			u->n++;
			run = UINT64_MAX;
		}
		if (end)
			return MOAT_OK;
		if (!mapped && run == UINT64_MAX)
			run = p;
		p += MOAT_PAGE_SIZE;
	}
}

moat_status moat_reserved_map(struct moat_domain *dom, const struct moat_sysdesc *desc, uint16_t segment,
			      uint16_t rid, struct moat_diag *diag)
{
	struct moat_diag local;
	struct moat_system *sys;
	struct undo u;
	uint32_t nreg;
	moat_status st = MOAT_OK;

	if (!diag)
		diag = &local;
	if (!core_dom_ok(dom))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "not a live domain");
	sys = dom->sys;
	if (!desc)
		desc = sys->cfg.desc;
	if (!desc || (desc->regions_count && !desc->regions))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "no system description");
	nreg = MOAT_MIN(desc->regions_count, desc->regions_cap);
	core_lock(sys);
	if (core_dom_dma_served(dom))
		st = moat_diag_set(diag, MOAT_ERR_BUSY, NULL, 0,
				   "domain %u: reserved regions refused: a DMA instance serves the domain (map them "
				   "before moat_dma_init())", (unsigned)dom->id);
	for (uint32_t i = 0; i < nreg && st == MOAT_OK; i++) {
		const struct moat_region_desc *r = &desc->regions[i];

		if (r->limit < r->base || (r->kind != MOAT_REGION_IVMD_ALL && !region_devsets_valid(desc, r))) {
			st = moat_diag_set(diag, MOAT_ERR_INVALID_ARG, region_table(r->kind), r->src_offset,
					   "%s %u: limit below base, or devices outside the description",
					   region_kind_str(r->kind), (unsigned)i);
			break;
		}
		if (moat_region_names(desc, r, segment, rid) && region_prot(r))
			st = region_check(dom, r, segment, rid, diag);
	}
	u.n = 0;
	for (uint32_t i = 0; i < nreg && st == MOAT_OK; i++) {
		const struct moat_region_desc *r = &desc->regions[i];

		if (!moat_region_names(desc, r, segment, rid) || !region_prot(r))
			continue;
		st = region_map(dom, r->base & ~CORE_PAGE_MASK, r->limit | CORE_PAGE_MASK, region_prot(r), &u);
		if (st != MOAT_OK) {
			moat_diag_set(diag, st, region_table(r->kind), r->src_offset, "%s [0x%llx, 0x%llx] into domain %u: %s",
				      region_kind_str(r->kind), (unsigned long long)r->base, (unsigned long long)r->limit,
				      (unsigned)dom->id, moat_status_text(st));
			undo_maps(dom, &u);
		}
	}
	if (st == MOAT_OK && u.n && core_any_unit_flag(sys, MOAT_UNIT_F_INVAL_ON_MAP))
		for (unsigned i = 0; i < u.n; i++)
			core_invalidate(sys, dom, u.iova[i], u.size[i], false, NULL);
	core_settle(sys, NULL);
	core_unlock(sys);
	return st;
}
