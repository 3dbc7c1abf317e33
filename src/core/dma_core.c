/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The core's support of the DMA API (include/moat/internal/dma_core.h): page-table edits of a
 * served domain without a lock through the engine's page path (disjoint ranges at once), the rest
 * under the system lock, protection checks without the system lock, and counted invalidations.
 */
#include <moat/internal/dma_core.h>

#include "core_internal.h"

/* ---- the engine ops of a served domain ---- */

static void *wrap_alloc(void *cookie, uint64_t *phys)
{
	struct moat_dma_core *c = cookie;

	/* Pages come from the core's supply, which needs the system lock. Only operations under
	 * that lock get here (the page path never allocates); refuse anything else (nothing changed:
	 * the engine is all or nothing). */
	if (!c->sys_locked)
		return NULL;
	return c->own.alloc(c->own.cookie, phys);
}

/* Only ever called with the system lock held: pages go back after an invalidation, or unused from
 * an operation that could allocate (so held the lock). */
static void wrap_free(void *cookie, void *virt, uint64_t phys)
{
	struct moat_dma_core *c = cookie;

	c->own.free(c->own.cookie, virt, phys);
}

bool core_dom_dma_served(const struct moat_domain *dom)
{
	return dom->pt.ops.alloc == wrap_alloc;
}

moat_status moat_dma_core_attach(struct moat_dma_core *c, struct moat_domain *dom, struct moat_diag *diag)
{
	struct moat_system *sys;
	moat_status st = MOAT_OK;

	if (!c || !core_dom_ok(dom) || dom->host)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: needs a live domain other than the host's");
	sys = dom->sys;
	core_lock(sys);
	if (core_dom_dma_served(dom)) {
		st = moat_diag_set(diag, MOAT_ERR_BUSY, NULL, 0, "dma: domain %u is already served by a DMA instance",
				   (unsigned)dom->id);
	} else {
		moat_memset(c, 0, sizeof(*c));
		c->dom = dom;
		c->own = dom->pt.ops;
		c->inval_on_map = core_any_unit_flag(sys, MOAT_UNIT_F_INVAL_ON_MAP);
		dom->pt.ops = moat_pt_platform_ops();   /* phys_to_virt and the flushes, as core_pt_ops() */
		dom->pt.ops.alloc = wrap_alloc;
		dom->pt.ops.free = wrap_free;
		dom->pt.ops.cookie = c;
		/* IOVAs come and go in the same ranges: keep the tables they need between maps */
		dom->pt.keep_tables = true;
		/* maps and unmaps of disjoint IOVA ranges run at once, without a lock */
		dom->pt.concurrent = true;
	}
	core_unlock(sys);
	return st;
}

void moat_dma_core_detach(struct moat_dma_core *c)
{
	struct moat_system *sys;

	if (!c || !core_dom_ok(c->dom) || c->dom->pt.ops.cookie != c)
		return;
	sys = c->dom->sys;
	core_lock(sys);
	c->dom->pt.ops = c->own;
	c->dom->pt.concurrent = false;
	core_unlock(sys);
	c->dom = NULL;
}

/* Take the system lock for one call (*@locked: whether that call holds it; c->sys_locked is read
 * only under the lock, by the allocation callback). */
static void lock_sys(struct moat_dma_core *c, bool *locked)
{
	if (*locked)
		return;
	core_lock(c->dom->sys);
	c->sys_locked = true;
	*locked = true;
}

static void unlock_sys(struct moat_dma_core *c, bool *locked)
{
	if (!*locked)
		return;
	c->sys_locked = false;
	core_settle(c->dom->sys, NULL);
	core_unlock(c->dom->sys);
	*locked = false;
}

/* ---- protection without the lock ---- */

/* Whether a registry range overlaps [first, last]: core_prot_find() with atomic loads. */
static bool registry_hit_unlocked(const struct moat_system *sys, uint64_t first, uint64_t last)
{
	const unsigned n = __atomic_load_n(&sys->prot_count, __ATOMIC_RELAXED);
	unsigned lo = 0, hi = n;

	if (n > MOAT_MAX_PROTECTED)
		return true;   /* torn: let the locked check decide */
	while (lo < hi) {
		const unsigned mid = lo + (hi - lo) / 2;

		if (__atomic_load_n(&sys->prot_maxend[mid], __ATOMIC_RELAXED) < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (unsigned i = lo; i < n; i++) {
		const uint64_t base = __atomic_load_n(&sys->prot[i].base, __ATOMIC_RELAXED);
		const uint64_t size = __atomic_load_n(&sys->prot[i].size, __ATOMIC_RELAXED);

		if (base > last)
			break;
		if (size && base + (size - 1) >= first)
			return true;
	}
	return false;
}

uint32_t moat_dma_core_check(const struct moat_dma_core *c, moat_dma_core_run_fn run, const void *ctx, unsigned n)
{
	const struct moat_system *sys;
	uint32_t s;

	if (!c || !c->dom || !run)
		return MOAT_DMA_CORE_RECHECK;
	sys = c->dom->sys;
	s = __atomic_load_n(&sys->prot_seq, __ATOMIC_ACQUIRE);
	if (s & 1)
		return MOAT_DMA_CORE_RECHECK;
	for (unsigned k = 0; k < n; k++) {
		uint64_t phys, pages, last;

		run(ctx, k, &phys, &pages);
		last = phys + (pages << CORE_PAGE_SHIFT) - 1;
		if (registry_hit_unlocked(sys, phys, last) ||
		    track_owned_unlocked(sys, phys >> CORE_PAGE_SHIFT, last >> CORE_PAGE_SHIFT))
			return MOAT_DMA_CORE_RECHECK;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&sys->prot_seq, __ATOMIC_RELAXED) == s ? s : MOAT_DMA_CORE_RECHECK;
}

/* The check under the system lock, naming what is hit. */
static moat_status check_locked(struct moat_dma_core *c, uint64_t iova, moat_dma_core_run_fn run, const void *ctx,
				unsigned n, struct moat_diag *diag)
{
	struct moat_system *sys = c->dom->sys;
	struct moat_protect_hit hit;
	struct moat_diag local;

	if (!diag)
		diag = &local;
	for (unsigned k = 0; k < n; k++) {
		uint64_t phys, pages, last;

		run(ctx, k, &phys, &pages);
		last = phys + (pages << CORE_PAGE_SHIFT) - 1;
		if (core_prot_check(sys, phys, last, &hit) != MOAT_OK) {
			moat_diag_set(diag, MOAT_ERR_PROTECTED, NULL, 0,
				      "domain %u: DMA map iova 0x%llx -> phys [0x%llx, 0x%llx] refused: touches "
				      "protected [0x%llx, 0x%llx] (%s)",
				      (unsigned)c->dom->id, (unsigned long long)iova, (unsigned long long)phys,
				      (unsigned long long)last, (unsigned long long)hit.base,
				      (unsigned long long)(hit.base + (hit.size - 1)), hit.label);
			moat_log(MOAT_LOG_WARN, "%s", diag->msg);
			return MOAT_ERR_PROTECTED;
		}
		iova += pages << CORE_PAGE_SHIFT;
	}
	return MOAT_OK;
}

/* ---- edits ---- */

/*
 * Map one run: through the existing tables without a lock (the page path), else (a table is
 * missing, or 512 pages or more, which may take a 2 MiB leaf) by the full map under the system
 * lock, which may take pages and is the one operation at a time the engine allows beside the page
 * path (struct moat_pt concurrent).
 */
static moat_status map_run(struct moat_dma_core *c, struct moat_pt_cursor *cur, uint64_t iova, uint64_t phys,
			   uint64_t pages, unsigned prot, bool *locked)
{
	struct moat_pt *pt = &c->dom->pt;
	moat_status st = MOAT_ERR_NOT_FOUND;

	if (pages == 1)
		st = moat_pt_map_page(pt, cur, iova, phys, prot);
	else if (pages < 512)
		st = moat_pt_map_pages(pt, cur, iova, phys, pages, prot);
	if (st == MOAT_ERR_NOT_FOUND) {
		lock_sys(c, locked);
		st = moat_pt_map(pt, iova, phys, pages << CORE_PAGE_SHIFT, prot);
	}
	return st;
}

/* Remove what a map wrote at [iova, iova + pages) and invalidate it (a device may have cached it). */
static void undo_map(struct moat_dma_core *c, uint64_t iova, uint64_t pages)
{
	struct moat_pt_gather g;

	if (!pages)
		return;
	moat_pt_gather_init(&g);
	if (moat_pt_unmap(&c->dom->pt, iova, pages << CORE_PAGE_SHIFT, &g) != MOAT_OK) {
		moat_log(MOAT_LOG_ERROR, "domain %u: undoing a DMA map at iova 0x%llx failed", (unsigned)c->dom->id,
			 (unsigned long long)iova);
		return;
	}
	core_gather_finish(c->dom->sys, c->dom, &g, NULL);
	__atomic_fetch_add(&c->invalidations, 1, __ATOMIC_RELAXED);
}

moat_status moat_dma_core_map(struct moat_dma_core *c, struct moat_pt_cursor *cur, uint64_t iova,
			      moat_dma_core_run_fn run, const void *ctx, unsigned n, unsigned prot, uint32_t checked,
			      moat_dma_core_publish_fn publish, void *pctx, struct moat_diag *diag)
{
	const bool unlocked_check = !(checked & 1);
	struct moat_system *sys;
	uint64_t at = iova;
	bool locked = false;
	moat_status st = MOAT_OK;

	if (!c || !c->dom || !run || !n)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "dma: map without a domain or runs");
	sys = c->dom->sys;
	if (!unlocked_check) {
		lock_sys(c, &locked);
		st = check_locked(c, iova, run, ctx, n, diag);
		if (st != MOAT_OK)
			goto out;
	}
	for (unsigned k = 0; k < n; k++) {
		uint64_t phys, pages;

		run(ctx, k, &phys, &pages);
		st = map_run(c, cur, at, phys, pages, prot, &locked);
		if (st != MOAT_OK) {
			moat_diag_set(diag, st, NULL, 0,
				      "domain %u: DMA map iova 0x%llx -> phys 0x%llx, %llu page(s): %s",
				      (unsigned)c->dom->id, (unsigned long long)at, (unsigned long long)phys,
				      (unsigned long long)pages, moat_status_text(st));
			break;
		}
		at += pages << CORE_PAGE_SHIFT;
	}
	if (st == MOAT_OK && publish && !publish(pctx)) {
		st = moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, 0, "domain %u: DMA map iova 0x%llx: not recorded",
				   (unsigned)c->dom->id, (unsigned long long)iova);
	}
	if (st == MOAT_OK && unlocked_check) {
		/* Did a writer change what is protected since the check? (Under the lock the count is
		 * stable; without it, a full barrier orders the entries written before the read: the
		 * publication's read-modify-write, or a fence.) */
		if (!locked && publish)
			moat_fence_after_rmw();
		else if (!locked)
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&sys->prot_seq, __ATOMIC_RELAXED) != checked) {
			lock_sys(c, &locked);
			st = check_locked(c, iova, run, ctx, n, diag);
		}
	}
	if (st == MOAT_OK && c->inval_on_map) {
		lock_sys(c, &locked);
		st = core_invalidate(sys, c->dom, iova, at - iova, false, diag);
		__atomic_fetch_add(&c->invalidations, 1, __ATOMIC_RELAXED);
	}
	if (st != MOAT_OK && at > iova) {
		lock_sys(c, &locked);
		undo_map(c, iova, (at - iova) >> CORE_PAGE_SHIFT);
	}
out:
	if (locked) {
		c->locked_maps++;
		unlock_sys(c, &locked);
	}
	return st;
}

moat_status moat_dma_core_unmap(struct moat_dma_core *c, struct moat_pt_cursor *cur, uint64_t iova, uint64_t pages,
				struct moat_pt_gather *g)
{
	struct moat_pt *pt = &c->dom->pt;
	moat_status st = MOAT_ERR_NOT_FOUND;
	bool locked = false;

	if (pages == 1)
		st = moat_pt_unmap_page(pt, cur, iova, g);
	else if (pages < 512)
		st = moat_pt_unmap_pages(pt, cur, iova, pages, g);
	if (st == MOAT_ERR_NOT_FOUND) {
		/* not 4 KiB leaves in existing tables (a larger leaf, or an error): the full unmap,
		 * one at a time beside the page path, under the system lock (it may split a leaf) */
		lock_sys(c, &locked);
		st = moat_pt_unmap(pt, iova, pages << CORE_PAGE_SHIFT, g);
		unlock_sys(c, &locked);
	}
	return st;
}

moat_status moat_dma_core_invalidate(struct moat_dma_core *c, struct moat_pt_gather *g, bool count,
				     struct moat_diag *diag)
{
	struct moat_system *sys = c->dom->sys;
	const bool pages = g->freed_pages != 0;
	moat_status st;

	if (count)
		__atomic_fetch_add(&c->invalidations, 1, __ATOMIC_RELAXED);
	if (!pages && !g->tables_changed)   /* leaves only (every strict unmap of the page path) */
		return core_gather_finish_leaves(sys, c->dom, g, diag);
	/* c->sys_locked stays false: nothing here allocates; the gather's pages go back through the
	 * free callback, which needs no flag. */
	core_lock(sys);
	st = core_gather_finish(sys, c->dom, g, diag);
	if (pages)
		core_settle(sys, NULL);
	core_unlock(sys);
	return st;
}

void moat_dma_core_counts(const struct moat_dma_core *c, uint64_t *invalidations, uint64_t *locked_maps)
{
	struct moat_system *sys = c->dom->sys;

	core_lock(sys);
	if (invalidations)
		*invalidations = __atomic_load_n(&c->invalidations, __ATOMIC_RELAXED);
	if (locked_maps)
		*locked_maps = c->locked_maps;
	core_unlock(sys);
}
