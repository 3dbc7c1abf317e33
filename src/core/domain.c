/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Domains: their tables (through the engine, in the system's format), the protection check on
 * every map, strict invalidation on every unmap, and devices attached through their units.
 */
#include "core_internal.h"

#define DEV_FMT "%04x:%02x:%02x.%x"
#define DEV_ARGS(seg, rid) (unsigned)(seg), (unsigned)MOAT_RID_BUS(rid), (unsigned)MOAT_RID_DEV(rid), \
	(unsigned)MOAT_RID_FN(rid)

static bool id_in_use(const struct moat_system *sys, uint32_t id)
{
	for (const struct moat_domain *d = sys->domains; d; d = d->next)
		if (d->id == id)
			return true;
	return false;
}

moat_status moat_domain_create(struct moat_system *sys, struct moat_domain *dom)
{
	struct moat_pt_ops ops;
	moat_status st;
	uint32_t id;

	if (!core_sys_ok(sys) || !dom)
		return MOAT_ERR_INVALID_ARG;
	core_lock(sys);
	for (struct moat_domain *d = sys->domains; d; d = d->next) {
		if (d == dom) {
			core_unlock(sys);
			return MOAT_ERR_STATE;
		}
	}
	for (id = sys->cfg.domain_id_min; id_in_use(sys, id); id++) {
		if (id == sys->cfg.domain_id_max) {
			core_unlock(sys);
			return MOAT_ERR_NO_SPACE;
		}
	}
	moat_memset(dom, 0, sizeof(*dom));
	dom->sys = sys;
	dom->id = id;
	ops = core_pt_ops(dom);
	st = moat_pt_init(&dom->pt, &sys->cfg.pt, &ops);
	if (st == MOAT_OK) {
		dom->magic = CORE_DOM_MAGIC;
		dom->next = sys->domains;
		sys->domains = dom;
		sys->domain_count++;
	} else {
		dom->sys = NULL;
	}
	core_settle(sys, NULL);
	core_unlock(sys);
	return st;
}

moat_status moat_domain_destroy(struct moat_domain *dom)
{
	struct moat_system *sys;
	struct moat_domain **pp;
	bool was_host;
	moat_status st;

	if (!core_dom_ok(dom))
		return MOAT_ERR_INVALID_ARG;
	sys = dom->sys;
	core_lock(sys);
	if (dom->devices) {
		core_unlock(sys);
		return MOAT_ERR_BUSY;
	}
	for (pp = &sys->domains; *pp && *pp != dom; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = dom->next;
	sys->domain_count--;
	dom->magic = 0;
	was_host = sys->host == dom;
	if (was_host)
		sys->host = NULL;
	dom->host = false;
	st = core_invalidate(sys, dom, 0, 0, true, NULL);
	if (st == MOAT_OK)
		moat_pt_destroy(&dom->pt);
	else
		moat_log(MOAT_LOG_ERROR, "domain %u: invalidation failed (%s); its %llu table pages are kept",
			 (unsigned)dom->id, moat_status_str(st), (unsigned long long)dom->pt.table_pages);
	if (was_host) {
		track_clear_all(sys, TK_PUNCHED);
		track_clear_all(sys, TK_RESTORE);
	}
	core_settle(sys, NULL);
	core_unlock(sys);
	return st;
}

/* The refusal of a map or unmap of a domain a DMA instance serves (include/moat/dma.h). */
static moat_status dma_served(const struct moat_domain *dom, const char *what, uint64_t iova, uint64_t size,
			      struct moat_diag *diag)
{
	return moat_diag_set(diag, MOAT_ERR_BUSY, NULL, 0,
			     "domain %u: %s iova 0x%llx size 0x%llx refused: a DMA instance serves the domain "
			     "(moat_dma_fini() first)",
			     (unsigned)dom->id, what, (unsigned long long)iova, (unsigned long long)size);
}

moat_status moat_domain_map(struct moat_domain *dom, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot,
			    struct moat_diag *diag)
{
	struct moat_protect_hit hit;
	struct moat_diag local;
	struct moat_system *sys;
	moat_status st;

	if (!diag)
		diag = &local;
	if (!core_dom_ok(dom))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "not a live domain");
	if ((iova | phys | size) & CORE_PAGE_MASK)
		return moat_diag_set(diag, MOAT_ERR_ALIGNMENT, NULL, 0,
				     "map iova 0x%llx phys 0x%llx size 0x%llx: not 4 KiB multiples",
				     (unsigned long long)iova, (unsigned long long)phys, (unsigned long long)size);
	if (!size || phys + (size - 1) < phys || phys + (size - 1) >= CORE_PHYS_LIMIT)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "map phys 0x%llx size 0x%llx: empty, wrapping or past 2^52",
				     (unsigned long long)phys, (unsigned long long)size);
	if (dom->host && iova != phys)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "host domain %u maps addresses to themselves only (iova 0x%llx, phys 0x%llx)",
				     (unsigned)dom->id, (unsigned long long)iova, (unsigned long long)phys);
	sys = dom->sys;
	core_lock(sys);
	if (core_dom_dma_served(dom)) {
		st = dma_served(dom, "map", iova, size, diag);
		goto out;
	}
	/* The check runs again after the pool grew (core_host_retry()): it may have taken a page. */
	for (unsigned tries = 0;;) {
		st = core_prot_check(sys, phys, phys + (size - 1), &hit);
		if (st != MOAT_OK) {
			moat_diag_set(diag, st, NULL, 0,
				      "domain %u: map iova 0x%llx -> phys [0x%llx, 0x%llx] refused: touches protected "
				      "[0x%llx, 0x%llx] (%s)",
				      (unsigned)dom->id, (unsigned long long)iova, (unsigned long long)phys,
				      (unsigned long long)(phys + (size - 1)), (unsigned long long)hit.base,
				      (unsigned long long)(hit.base + (hit.size - 1)), hit.label);
			moat_log(MOAT_LOG_WARN, "%s", diag->msg);
			goto out;
		}
		st = MOAT_ERR_NOT_FOUND;
		if (size == MOAT_PAGE_SIZE)
			st = moat_pt_map_page(&dom->pt, NULL, iova, phys, prot);
		if (st == MOAT_ERR_NOT_FOUND)
			st = moat_pt_map(&dom->pt, iova, phys, size, prot);
		if (!core_host_retry(sys, dom, st, &tries))
			break;
	}
	if (st != MOAT_OK) {
		moat_diag_set(diag, st, NULL, 0, "domain %u: map iova 0x%llx -> phys 0x%llx size 0x%llx: %s",
			      (unsigned)dom->id, (unsigned long long)iova, (unsigned long long)phys,
			      (unsigned long long)size, moat_status_text(st));
		goto out;
	}
	if (core_any_unit_flag(sys, MOAT_UNIT_F_INVAL_ON_MAP))
		st = core_invalidate(sys, dom, iova, size, false, diag);
out:
	core_settle(sys, NULL);
	core_unlock(sys);
	return st;
}

/* Unmap into @g: one 4 KiB page through the fast path when the domain keeps its tables (else
 * emptied tables must go, which moat_pt_unmap() does). */
static moat_status dom_unmap(struct moat_domain *dom, uint64_t iova, uint64_t size, struct moat_pt_gather *g)
{
	moat_status st = MOAT_ERR_NOT_FOUND;

	if (size == MOAT_PAGE_SIZE && dom->pt.keep_tables)
		st = moat_pt_unmap_page(&dom->pt, NULL, iova, g);
	if (st == MOAT_ERR_NOT_FOUND)
		st = moat_pt_unmap(&dom->pt, iova, size, g);
	return st;
}

moat_status moat_domain_unmap(struct moat_domain *dom, uint64_t iova, uint64_t size, struct moat_diag *diag)
{
	struct moat_pt_gather g;
	struct moat_system *sys;
	moat_status st;

	if (!core_dom_ok(dom))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "not a live domain");
	sys = dom->sys;
	core_lock(sys);
	if (core_dom_dma_served(dom)) {
		st = dma_served(dom, "unmap", iova, size, diag);
		goto out;
	}
	moat_pt_gather_init(&g);
	for (unsigned tries = 0;;) {
		st = dom_unmap(dom, iova, size, &g);   /* a split of the live host domain: trusted pages */
		if (!core_host_retry(sys, dom, st, &tries))
			break;
	}
	if (st != MOAT_OK) {
		moat_diag_set(diag, st, NULL, 0, "domain %u: unmap iova 0x%llx size 0x%llx: %s", (unsigned)dom->id,
			      (unsigned long long)iova, (unsigned long long)size, moat_status_text(st));
	} else {
		st = core_gather_finish(sys, dom, &g, diag);
	}
out:
	core_settle(sys, NULL);
	core_unlock(sys);
	return st;
}

moat_status moat_domain_translate(struct moat_domain *dom, uint64_t iova, uint64_t *phys, unsigned *prot,
				  uint64_t *leaf_size)
{
	moat_status st;

	if (!core_dom_ok(dom))
		return MOAT_ERR_INVALID_ARG;
	core_lock(dom->sys);
	st = moat_pt_translate(&dom->pt, iova, phys, prot, leaf_size);
	core_unlock(dom->sys);
	return st;
}

uint64_t moat_domain_memory(const struct moat_domain *dom)
{
	return core_dom_ok(dom) ? dom->pt.table_pages * MOAT_PAGE_SIZE : 0;
}

/* ---- devices ---- */

moat_status moat_domain_attach(struct moat_domain *dom, uint16_t segment, uint16_t rid, struct moat_diag *diag)
{
	struct moat_domain *old = NULL;
	struct moat_unit_dev cur;
	struct moat_system *sys;
	struct moat_unit *u;
	bool entered;
	moat_status st;

	if (!core_dom_ok(dom))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "not a live domain");
	sys = dom->sys;
	core_lock(sys);
	/* Before a device can use the host domain, nothing of Moat's may be left in it and the pool
	 * must be full (moat_protect_host() leaves both to the first attach): from then on its own
	 * table pages are trusted pages only. */
	if (dom->host) {
		st = core_settle(sys, NULL);
		if (st == MOAT_OK && (sys->track.pending || !core_pool_full(sys)))
			st = MOAT_ERR_NO_MEMORY;
		if (st != MOAT_OK) {
			moat_diag_set(diag, st, NULL, 0,
				      "device " DEV_FMT " not attached to host domain %u: Moat's pages could not all be "
				      "taken out of it (%s)", DEV_ARGS(segment, rid), (unsigned)dom->id, moat_status_str(st));
			goto out;
		}
	}
	u = moat_unit_route(sys, segment, rid);
	if (!u) {
		st = moat_diag_set(diag, MOAT_ERR_NOT_FOUND, NULL, 0, "no IOMMU unit translates device " DEV_FMT,
				   DEV_ARGS(segment, rid));
		goto out;
	}
	entered = core_unit_enter(u);
	/* before the device's entry exists: invalidations of @dom reach this unit from now on */
	core_unit_note(u, dom);
	if (u->ops->lookup(u, rid, &cur) == MOAT_OK)
		old = core_domain_by_root(sys, cur.root_phys);
	st = old == dom ? MOAT_OK : u->ops->attach(u, rid, dom, diag);
	core_unit_exit(u, entered);
	if (st == MOAT_OK && old != dom) {
		if (old && old->devices)
			old->devices--;
		dom->devices++;
	}
out:
	core_settle(sys, NULL);
	core_unlock(sys);
	return st;
}

moat_status moat_domain_detach(struct moat_system *sys, uint16_t segment, uint16_t rid, struct moat_diag *diag)
{
	struct moat_unit_dev cur;
	struct moat_domain *d;
	struct moat_unit *u;
	bool entered;
	moat_status st;

	if (!core_sys_ok(sys))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "not an initialized system");
	core_lock(sys);
	u = moat_unit_route(sys, segment, rid);
	if (!u) {
		st = moat_diag_set(diag, MOAT_ERR_NOT_FOUND, NULL, 0, "no IOMMU unit translates device " DEV_FMT,
				   DEV_ARGS(segment, rid));
		goto out;
	}
	entered = core_unit_enter(u);
	if (u->ops->lookup(u, rid, &cur) != MOAT_OK) {
		core_unit_exit(u, entered);
		st = moat_diag_set(diag, MOAT_ERR_NOT_FOUND, NULL, 0, "device " DEV_FMT " is not attached",
				   DEV_ARGS(segment, rid));
		goto out;
	}
	st = u->ops->detach(u, rid, diag);
	core_unit_exit(u, entered);
	if (st == MOAT_OK) {
		d = core_domain_by_root(sys, cur.root_phys);
		if (d && d->devices)
			d->devices--;
	}
out:
	core_settle(sys, NULL);
	core_unlock(sys);
	return st;
}
