/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The host protection policy: one identity domain over all RAM of the memory map, minus protected
 * memory, built from maximal runs so the engine can use its largest pages.
 *
 * The memory map is read by a sweep over the boundaries of its entries: at each point the set of
 * entries covering it is constant up to the next boundary, so a stretch is RAM when a RAM entry
 * covers it and no other entry does. Adjacent RAM stretches (from different entries) join into one
 * run. The sweep needs no sorting and no memory (O(n) per boundary, O(n^2) in all).
 */
#include "core_internal.h"

struct sweep {
	const struct moat_mem_range *map;
	size_t n;
	uint64_t x;      /* next point to classify */
	bool done;
};

static bool entry_last(const struct moat_mem_range *e, uint64_t *last)
{
	if (!e->length)
		return false;
	*last = e->base + (e->length - 1);
	if (*last < e->base)
		*last = UINT64_MAX;   /* runs past 2^64: ends there */
	return true;
}

/* The next maximal RAM run [*first, *last] at or after the sweep point; false when none is left. */
static bool next_ram_run(struct sweep *sw, uint64_t *first, uint64_t *last)
{
	bool in_run = false;

	while (!sw->done) {
		const uint64_t x = sw->x;
		uint64_t next = UINT64_MAX, seg_last;
		bool ram = false, deny = false, has_next = false;

		for (size_t i = 0; i < sw->n; i++) {
			const struct moat_mem_range *e = &sw->map[i];
			uint64_t el, cand;

			if (!entry_last(e, &el))
				continue;
			if (e->base <= x && x <= el) {
				if (e->type == MOAT_MEM_RAM)
					ram = true;
				else
					deny = true;
				if (el == UINT64_MAX)
					continue;
				cand = el + 1;
			} else if (e->base > x) {
				cand = e->base;
			} else {
				continue;
			}
			if (cand <= next) {
				next = cand;
				has_next = true;
			}
		}
		seg_last = has_next ? next - 1 : UINT64_MAX;
		if (has_next)
			sw->x = next;
		else
			sw->done = true;
		if (ram && !deny) {
			if (!in_run)
				*first = x;
			in_run = true;
			*last = seg_last;
		} else if (in_run) {
			return true;
		}
	}
	return in_run;
}

struct build {
	struct moat_system *sys;
	struct moat_domain *dom;
	uint64_t lo, hi;         /* extent of what was mapped (for undoing), lo > hi when nothing */
	uint64_t mapped;         /* bytes mapped */
};

/* Identity-map the page-aligned run [@first, @last] except protected memory. */
static moat_status map_run(struct build *b, uint64_t first, uint64_t last)
{
	struct moat_system *sys = b->sys;
	uint64_t c = first;
	unsigned tries = 0;

	for (;;) {
		int i = core_prot_find(sys, c, last);
		uint64_t bs = 0, bl = 0, pfn, search_last = last;
		bool block = false;
		moat_status st;

		if (i >= 0) {
			bs = MOAT_MAX(sys->prot[i].base, c);
			bl = MOAT_MIN(core_prot_last(&sys->prot[i]), last);
			block = true;
			search_last = bs > c ? bs - 1 : c;
		}
		if ((!block || bs > c) &&
		    track_next(sys, TK_OWNED, TK_KINDS, c >> CORE_PAGE_SHIFT, search_last >> CORE_PAGE_SHIFT, &pfn)) {
			bs = pfn << CORE_PAGE_SHIFT;
			bl = bs + CORE_PAGE_MASK;
			block = true;
			/* RAM the host would map: it goes back into the domain when Moat gives it back. */
			track_set(sys, pfn, TK_BIT(TK_PUNCHED));
		}
		if (!block || bs > c) {
			uint64_t gap_last = block ? bs - 1 : last;

			/* The domain was empty and the runs are disjoint: nothing to check for overlap. */
			st = moat_pt_map_unused(&b->dom->pt, c, c, gap_last - c + 1, MOAT_PT_RW);
			/* A device uses the domain: trusted table pages only. The pool grew; the pages it
			 * took may lie ahead in this run, so the gap is looked for again. */
			if (core_host_retry(sys, b->dom, st, &tries))
				continue;
			if (st != MOAT_OK)
				return st;
			tries = 0;
			b->lo = MOAT_MIN(b->lo, c);
			b->hi = MOAT_MAX(b->hi, gap_last);
			b->mapped += gap_last - c + 1;
		}
		if (!block || bl >= last)
			return MOAT_OK;
		c = bl + 1;
	}
}

static moat_status first_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	(void)ctx;
	(void)iova;
	(void)phys;
	(void)size;
	(void)prot;
	return MOAT_END;
}

/* Whether @pt maps nothing. Never mapped is empty; the engine frees emptied tables and writes
 * zero for absent entries: a lone all-zero root is empty without decoding it; else it is walked. */
static bool pt_empty(const struct moat_pt *pt)
{
	const struct moat_pt_walk_ops any_leaf = { .leaf = first_leaf };
	const uint64_t *root = pt->root;
	uint64_t any = 0;

	if (!pt->used)
		return true;
	if (pt->table_pages > 1)
		return false;
	for (unsigned i = 0; i < MOAT_PAGE_SIZE / sizeof(uint64_t); i++)
		any |= root[i];
	return !any || moat_pt_walk(pt, &any_leaf, NULL) == MOAT_OK;
}

static void build_undo(struct build *b)
{
	struct moat_system *sys = b->sys;
	struct moat_pt_gather g;

	if (b->lo <= b->hi) {
		moat_pt_gather_init(&g);
		if (moat_pt_unmap_present(&b->dom->pt, b->lo, b->hi - b->lo + 1, &g, NULL) != MOAT_OK)
			moat_log(MOAT_LOG_ERROR, "host domain %u: undoing a failed build failed", (unsigned)b->dom->id);
		core_gather_finish(sys, b->dom, &g, NULL);
	}
	sys->host = NULL;
	b->dom->host = false;
	track_clear_all(sys, TK_PUNCHED);
	track_clear_all(sys, TK_RESTORE);
	core_settle(sys, NULL);
}

moat_status moat_protect_host(struct moat_domain *dom, const struct moat_mem_range *map, size_t n,
			      struct moat_host_report *report, struct moat_diag *diag)
{
	struct moat_host_report rep;
	struct sweep sw = { map, n, 0, false };
	struct build b;
	struct moat_system *sys;
	uint64_t first, last, limit;
	int64_t delta;
	bool live;
	moat_status st = MOAT_OK;

	if (!core_dom_ok(dom) || (!map && n))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "protect_host: bad arguments");
	sys = dom->sys;
	core_lock(sys);
	if (sys->host) {
		st = moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "the system already has host domain %u",
				   (unsigned)sys->host->id);
		goto out;
	}
	if (!pt_empty(&dom->pt)) {
		st = moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "domain %u is not empty", (unsigned)dom->id);
		goto out;
	}
	moat_memset(&rep, 0, sizeof(rep));
	b = (struct build){ sys, dom, UINT64_MAX, 0, 0 };
	delta = sys->host_page_delta;
	/*
	 * Table pages for the build. With a device already translating through the domain, they are
	 * trusted pages from the pool, filled here while no host domain exists (so no run maps them)
	 * and grown on the way when a run needs more. With none, no device can use the domain before
	 * this call returns, so new table pages are simply taken out at the end, and the pool is
	 * filled by the attach that makes the domain live (moat_domain_attach()).
	 */
	live = dom->devices != 0;
	if (live)
		core_pool_prefill(sys);
	sys->host = dom;
	dom->host = true;
	limit = MOAT_MIN(dom->pt.iova_last, CORE_PHYS_LIMIT - 1);

	while (next_ram_run(&sw, &first, &last)) {
		/* Whole pages only: the first page starting in the run, the last one ending in it. */
		if (first > UINT64_MAX - CORE_PAGE_MASK)
			continue;
		first = (first + CORE_PAGE_MASK) & ~CORE_PAGE_MASK;
		if ((last & CORE_PAGE_MASK) != CORE_PAGE_MASK) {
			if (last < MOAT_PAGE_SIZE)
				continue;
			last = (last & ~CORE_PAGE_MASK) - 1;
		}
		if (first > last)
			continue;
		rep.ram_bytes += last - first + 1;
		if (first > limit) {
			rep.unreachable_bytes += last - first + 1;
			continue;
		}
		if (last > limit) {
			rep.unreachable_bytes += last - limit;
			last = limit;
		}
		st = map_run(&b, first, last);
		if (st != MOAT_OK) {
			moat_diag_set(diag, st, NULL, 0, "host domain %u: mapping RAM at 0x%llx: %s", (unsigned)dom->id,
				      (unsigned long long)first, moat_status_text(st));
			build_undo(&b);
			goto out;
		}
	}
	st = core_settle_opt(sys, &rep.settle_passes, live);
	if (st != MOAT_OK) {
		moat_diag_set(diag, st, NULL, 0, "host domain %u: taking Moat pages out: %s", (unsigned)dom->id,
			      moat_status_text(st));
		build_undo(&b);
		goto out;
	}
	/* What the runs mapped, less the Moat pages settling took out (or plus those it put back). */
	rep.mapped_bytes = b.mapped + (uint64_t)(sys->host_page_delta - delta) * MOAT_PAGE_SIZE;
	rep.protected_bytes = rep.ram_bytes - rep.unreachable_bytes - rep.mapped_bytes;
	rep.table_pages = dom->pt.table_pages;
	if (report)
		*report = rep;
out:
	core_unlock(sys);
	return st;
}
