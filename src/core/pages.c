/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where Moat's pages come from, and keeping them out of the host identity domain.
 *
 * Every page the core, the engine or a driver gets passes through here and is marked Moat-owned
 * before it is used. With a host identity domain in place (which maps all host RAM, and so the
 * pages the platform hands out):
 *  - a page for another domain's tables or for a driver is unmapped from the host domain, and the
 *    host domain's translation of it invalidated, before it is returned ("punched");
 *  - a page for the host domain's own tables cannot be punched while the engine is changing that
 *    same domain, so it comes from a pool of pages punched earlier; when the pool is empty it is
 *    marked pending and punched at the end of the operation (core_settle());
 *  - a punched page given back to the platform is mapped back into the host domain at the end of
 *    the operation (unless the registry protects it by then).
 */
#include "core_internal.h"

#define SETTLE_MAX_PASSES 32u

/* ---- punching ---- */

/* Unmap page @phys from the host domain into @g if the host maps it to itself. */
static moat_status punch_page(struct moat_system *sys, uint64_t phys, struct moat_pt_gather *g, bool *punched)
{
	struct moat_domain *host = sys->host;
	uint64_t out = 0;
	moat_status st;

	*punched = false;
	if (!host || phys > host->pt.iova_last)
		return MOAT_OK;
	st = moat_pt_translate(&host->pt, phys, &out, NULL, NULL);
	if (st == MOAT_ERR_NOT_FOUND)
		return MOAT_OK;
	if (st != MOAT_OK)
		return st;
	if (out != phys)
		return MOAT_OK;
	st = moat_pt_unmap_present(&host->pt, phys, MOAT_PAGE_SIZE, g, NULL);
	if (st == MOAT_OK) {
		*punched = true;
		sys->host_page_delta--;
	}
	return st;
}

/* Punch one page now, invalidating before returning. */
static moat_status punch_now(struct moat_system *sys, uint64_t phys)
{
	struct moat_pt_gather g;
	bool punched;
	moat_status st;

	moat_pt_gather_init(&g);
	st = punch_page(sys, phys, &g, &punched);
	if (st != MOAT_OK || !punched)
		return st;
	track_set(sys, phys >> CORE_PAGE_SHIFT, TK_BIT(TK_PUNCHED));
	return core_gather_finish(sys, sys->host, &g, NULL);
}

/* ---- allocation ---- */

static void *plat_page(uint64_t *phys)
{
	void *virt = moat_plat_page_alloc(phys);

	if (virt && ((*phys & CORE_PAGE_MASK) || *phys >= CORE_PHYS_LIMIT)) {
		moat_log(MOAT_LOG_ERROR, "platform page at 0x%llx is unaligned or above 2^52; not used",
			 (unsigned long long)*phys);
		moat_plat_page_free(virt, *phys);
		return NULL;
	}
	return virt;
}

void *core_page_alloc(struct moat_system *sys, uint64_t *phys, unsigned extra)
{
	uint64_t p;
	void *virt = plat_page(&p);

	if (!virt)
		return NULL;
	if (track_mark(sys, p >> CORE_PAGE_SHIFT, TK_BIT(TK_OWNED) | extra) != MOAT_OK) {
		moat_plat_page_free(virt, p);
		return NULL;
	}
	if (punch_now(sys, p) != MOAT_OK) {
		core_page_free(sys, virt, p);
		return NULL;
	}
	/* Zero again now that no device of the host domain can reach the page: a DMA between the
	 * platform's zeroing and the punch above must not leave content behind. */
	moat_memset(virt, 0, MOAT_PAGE_SIZE);
	*phys = p;
	return virt;
}

/* A page for the host domain's own tables: from the pool, else pending until the next settle. */
static void *host_page_alloc(struct moat_system *sys, uint64_t *phys)
{
	uint64_t p;
	void *virt;

	if (sys->pool_count) {
		sys->pool_count--;
		*phys = sys->pool_phys[sys->pool_count];
		track_set(sys, *phys >> CORE_PAGE_SHIFT, TK_BIT(TK_TABLE));
		return sys->pool_virt[sys->pool_count];
	}
	virt = plat_page(&p);
	if (!virt)
		return NULL;
	if (track_mark(sys, p >> CORE_PAGE_SHIFT, TK_BIT(TK_OWNED) | TK_BIT(TK_TABLE) | TK_BIT(TK_PENDING)) !=
	    MOAT_OK) {
		moat_plat_page_free(virt, p);
		return NULL;
	}
	*phys = p;
	return virt;
}

void core_page_free(struct moat_system *sys, void *virt, uint64_t phys)
{
	uint64_t pfn = phys >> CORE_PAGE_SHIFT;
	bool punched = track_test(sys, pfn, TK_PUNCHED);

	track_clear(sys, pfn, TK_BIT(TK_OWNED) | TK_BIT(TK_TABLE) | TK_BIT(TK_PENDING) | TK_BIT(TK_PUNCHED));
	if (punched && sys->host)
		track_set(sys, pfn, TK_BIT(TK_RESTORE));
	moat_plat_page_free(virt, phys);
}

/* ---- engine ops of a domain ---- */

static void *dom_pt_alloc(void *cookie, uint64_t *phys)
{
	struct moat_domain *dom = cookie;

	if (dom == dom->sys->host)
		return host_page_alloc(dom->sys, phys);
	return core_page_alloc(dom->sys, phys, TK_BIT(TK_TABLE));
}

static void dom_pt_free(void *cookie, void *virt, uint64_t phys)
{
	struct moat_domain *dom = cookie;

	core_page_free(dom->sys, virt, phys);
}

struct moat_pt_ops core_pt_ops(struct moat_domain *dom)
{
	struct moat_pt_ops ops = moat_pt_platform_ops();   /* phys_to_virt and the flushes */

	ops.alloc = dom_pt_alloc;
	ops.free = dom_pt_free;
	ops.cookie = dom;
	return ops;
}

/* ---- settling the host domain ---- */

/* Punch every pending page, batched into one invalidation. */
static moat_status settle_pending(struct moat_system *sys)
{
	struct moat_pt_gather g;
	uint64_t from = 0, pfn;
	moat_status st = MOAT_OK, fst;
	bool any = false;

	moat_pt_gather_init(&g);
	while (sys->track.pending && track_next(sys, TK_PENDING, TK_KINDS, from, CORE_PFN_LIMIT - 1, &pfn)) {
		bool punched;

		track_clear(sys, pfn, TK_BIT(TK_PENDING));
		st = punch_page(sys, pfn << CORE_PAGE_SHIFT, &g, &punched);
		if (st != MOAT_OK) {
			track_set(sys, pfn, TK_BIT(TK_PENDING));
			break;
		}
		if (punched) {
			track_set(sys, pfn, TK_BIT(TK_PUNCHED));
			any = true;
		}
		from = pfn + 1;
	}
	if (any || g.freed_pages) {
		fst = core_gather_finish(sys, sys->host, &g, NULL);
		if (st == MOAT_OK)
			st = fst;
	}
	return st;
}

/* Map freed punched pages back into the host domain. */
static moat_status settle_restore(struct moat_system *sys)
{
	struct moat_domain *host = sys->host;
	uint64_t from = 0, pfn, lo = UINT64_MAX, hi = 0;
	moat_status st = MOAT_OK;

	while (sys->track.restore && track_next(sys, TK_RESTORE, TK_KINDS, from, CORE_PFN_LIMIT - 1, &pfn)) {
		uint64_t phys = pfn << CORE_PAGE_SHIFT;
		moat_status mst;

		track_clear(sys, pfn, TK_BIT(TK_RESTORE));
		from = pfn + 1;
		if (phys > host->pt.iova_last || core_prot_find(sys, phys, phys + CORE_PAGE_MASK) >= 0)
			continue;
		mst = moat_pt_map(&host->pt, phys, phys, MOAT_PAGE_SIZE, MOAT_PT_RW);
		if (mst == MOAT_OK) {
			sys->host_page_delta++;
			lo = MOAT_MIN(lo, phys);
			hi = MOAT_MAX(hi, phys + CORE_PAGE_MASK);
		} else if (mst != MOAT_ERR_OVERLAP) {
			/* Left out of the host domain: the safe side. */
			moat_log(MOAT_LOG_WARN, "page 0x%llx not mapped back into the host domain: %s",
				 (unsigned long long)phys, moat_status_str(mst));
			st = mst;
		}
	}
	if (lo <= hi && core_any_unit_flag(sys, MOAT_UNIT_F_INVAL_ON_MAP))
		core_invalidate(sys, host, lo, hi - lo + 1, false, NULL);
	return st;
}

/* Add pages to the pool (marked pending: the next pass punches them). False when none came. */
static bool pool_refill(struct moat_system *sys)
{
	bool added = false;

	while (sys->pool_count < MOAT_HOST_POOL) {
		uint64_t p;
		void *virt = plat_page(&p);

		if (!virt)
			break;
		/* With a host domain the page may be mapped there: the next pass punches it. */
		if (track_mark(sys, p >> CORE_PAGE_SHIFT, TK_BIT(TK_OWNED) | (sys->host ? TK_BIT(TK_PENDING) : 0)) !=
		    MOAT_OK) {
			moat_plat_page_free(virt, p);
			break;
		}
		sys->pool_virt[sys->pool_count] = virt;
		sys->pool_phys[sys->pool_count] = p;
		sys->pool_count++;
		added = true;
	}
	return added;
}

moat_status core_settle(struct moat_system *sys, unsigned *passes)
{
	return core_settle_opt(sys, passes, true);
}

moat_status core_settle_opt(struct moat_system *sys, unsigned *passes, bool refill)
{
	moat_status st = MOAT_OK;
	unsigned pass;

	if (sys->in_settle)
		return MOAT_OK;
	sys->in_settle = true;
	for (pass = 0; pass < SETTLE_MAX_PASSES; pass++) {
		if (!sys->host) {
			if (sys->track.pending)
				track_clear_all(sys, TK_PENDING);
			if (sys->track.restore)
				track_clear_all(sys, TK_RESTORE);
			break;
		}
		if (!sys->track.pending && !sys->track.restore) {
			/* Refilled pages are punched in the next pass, and a punch that splits a host
			 * superpage takes its tables from the pool again (deep tables: several): refill
			 * until it stays full, within the pass bound. */
			if (!refill || sys->pool_count == MOAT_HOST_POOL || !pool_refill(sys))
				break;
		}
		if (sys->track.pending && (st = settle_pending(sys)) != MOAT_OK)
			break;
		if (sys->track.restore)
			settle_restore(sys);
	}
	if (passes)
		*passes = pass;
	if (st == MOAT_OK && sys->track.pending) {
		st = MOAT_ERR_STATE;
		moat_log(MOAT_LOG_ERROR, "%llu Moat-owned pages still mapped in the host domain after %u passes",
			 (unsigned long long)sys->track.pending, pass);
	} else if (st != MOAT_OK) {
		moat_log(MOAT_LOG_ERROR, "taking Moat-owned pages out of the host domain failed: %s",
			 moat_status_str(st));
	}
	sys->in_settle = false;
	return st;
}

bool core_pool_prefill(struct moat_system *sys)
{
	if (sys->host || sys->pool_count == MOAT_HOST_POOL)
		return sys->pool_count > 0;
	return pool_refill(sys);
}

void core_pool_drain(struct moat_system *sys)
{
	while (sys->pool_count) {
		sys->pool_count--;
		core_page_free(sys, sys->pool_virt[sys->pool_count], sys->pool_phys[sys->pool_count]);
	}
}

/* ---- public page functions ---- */

void *moat_page_alloc(struct moat_system *sys, uint64_t *phys)
{
	void *virt;

	if (!core_sys_ok(sys) || !phys)
		return NULL;
	core_lock(sys);
	virt = core_page_alloc(sys, phys, 0);
	core_settle(sys, NULL);
	core_unlock(sys);
	return virt;
}

void moat_page_free(struct moat_system *sys, void *virt, uint64_t phys)
{
	if (!core_sys_ok(sys) || !virt)
		return;
	core_lock(sys);
	core_page_free(sys, virt, phys);
	core_settle(sys, NULL);
	core_unlock(sys);
}

moat_status moat_page_adopt(struct moat_system *sys, uint64_t phys)
{
	moat_status st;

	if (!core_sys_ok(sys))
		return MOAT_ERR_INVALID_ARG;
	if (phys & CORE_PAGE_MASK)
		return MOAT_ERR_ALIGNMENT;
	if (phys >= CORE_PHYS_LIMIT)
		return MOAT_ERR_INVALID_ARG;
	core_lock(sys);
	if (track_test(sys, phys >> CORE_PAGE_SHIFT, TK_OWNED)) {
		st = MOAT_ERR_OVERLAP;
	} else {
		st = track_mark(sys, phys >> CORE_PAGE_SHIFT, TK_BIT(TK_OWNED));
		if (st == MOAT_OK && punch_now(sys, phys) != MOAT_OK)
			track_set(sys, phys >> CORE_PAGE_SHIFT, TK_BIT(TK_PENDING));
		core_settle(sys, NULL);
	}
	core_unlock(sys);
	return st;
}

void *moat_unit_page_alloc(struct moat_unit *u, uint64_t *phys)
{
	if (!u || !core_sys_ok(u->sys) || !phys)
		return NULL;
	return core_page_alloc(u->sys, phys, 0);
}

void moat_unit_page_free(struct moat_unit *u, void *virt, uint64_t phys)
{
	if (!u || !core_sys_ok(u->sys) || !virt)
		return;
	core_page_free(u->sys, virt, phys);
}

moat_status moat_unit_page_adopt(struct moat_unit *u, uint64_t phys)
{
	if (!u || !core_sys_ok(u->sys))
		return MOAT_ERR_INVALID_ARG;
	if (phys & CORE_PAGE_MASK)
		return MOAT_ERR_ALIGNMENT;
	if (phys >= CORE_PHYS_LIMIT)
		return MOAT_ERR_INVALID_ARG;
	if (track_test(u->sys, phys >> CORE_PAGE_SHIFT, TK_OWNED))
		return MOAT_ERR_OVERLAP;
	/* pending: the settling at the end of the operation takes it out of the host domain */
	return track_mark(u->sys, phys >> CORE_PAGE_SHIFT, TK_BIT(TK_OWNED) | TK_BIT(TK_PENDING));
}

uint64_t moat_owned_pages(const struct moat_system *sys)
{
	return core_sys_ok(sys) ? sys->track.owned : 0;
}
