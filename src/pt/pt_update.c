/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Map and unmap: the operations that change tables.
 *
 * Each runs in three phases, so that it either completes or changes nothing:
 *  1. survey: read the tables over the range, find overlaps (map), holes (strict unmap) and corrupt
 *     entries, and count the table pages the change will need: for a map, the tables of every new
 *     subtree, computed from the range alone (a 1 TiB map into empty tables costs a few steps);
 *     for an unmap, one page per superpage split, and more for each split below it;
 *  2. allocate exactly that many pages into a pool linked through the pages themselves;
 *     a failure gives them all back and returns with the tables untouched;
 *  3. apply: write the entries, taking pages from the pool; this cannot fail.
 *
 * Phase 3 visits each table at most once per operation, over one contiguous run of its entries
 * (the range is contiguous), which gives the flush rules for non-coherent walkers directly:
 *  - a table that already existed is flushed at the end of its visit over the lines it wrote, each
 *    line once;
 *  - a new table ("fresh": not linked yet) is built completely, its own new children linked into it
 *    first, then flushed whole (the allocator's zeroes included) and only then linked.
 * Runs of leaves are filled by one loop per table with the entry template computed once, so the
 * cost per entry is a store and an add.
 */
#include <moat/internal/lib.h>
#include <moat/pt.h>

#include "pt_format.h"

struct pt_op {
	struct moat_pt *pt;
	const struct moat_pt_format_desc *fmt;
	bool flush;          /* non-coherent walker */
	bool flushed;        /* something was flushed: flush_done() at the end */
	uint64_t need;       /* pages phase 3 will take from the pool */
	uint64_t table_bits[MOAT_PT_MAX_LEVELS + 1];

	/* map */
	bool unused;         /* the caller vouches that whole leaf slots of the range are zero */
	uint64_t delta;      /* phys - iova, modulo 2^64 */
	unsigned leaf_ok;    /* bit L: this map may put a leaf at level L (size allowed, delta aligned) */
	uint64_t leaf_bits[MOAT_PT_MAX_LEVELS + 1];
	uint64_t full_cost[MOAT_PT_MAX_LEVELS + 1];  /* pages of a new, fully covered table at level L */

	/* unmap */
	uint64_t present;    /* bytes mapped in the range */
	struct moat_pt_gather *g;

	/* survey: physical address of the table visited at each level (to refuse links back up) */
	uint64_t path[MOAT_PT_MAX_LEVELS + 1];

	/* the pool of pages for phase 3 */
	uint64_t *pool;
	uint64_t pool_phys;
};

/* Lines written in one table during one visit. */
struct pt_dirty {
	unsigned lo, hi;
};

#define DIRTY_NONE ((struct pt_dirty){ PT_ENTRIES, 0 })

static inline void dirty_mark(struct pt_dirty *d, unsigned first, unsigned last)
{
	d->lo = MOAT_MIN(d->lo, first);
	d->hi = MOAT_MAX(d->hi, last);
}

static void flush_entries(struct pt_op *op, const uint64_t *tbl, unsigned first, unsigned last)
{
	const struct moat_pt_ops *ops = &op->pt->ops;

	for (unsigned l = first / PT_LINE_ENTRIES; l <= last / PT_LINE_ENTRIES; l++)
		ops->flush_line(ops->cookie, tbl + l * PT_LINE_ENTRIES);
	op->flushed = true;
}

/* End of a visit to a table that was already linked: flush what was written in it. */
static void flush_dirty(struct pt_op *op, const uint64_t *tbl, struct pt_dirty d)
{
	if (op->flush && d.lo <= d.hi)
		flush_entries(op, tbl, d.lo, d.hi);
}

static void op_finish(struct pt_op *op)
{
	if (op->flushed)
		op->pt->ops.flush_done(op->pt->ops.cookie);
}

/* ---- page lists linked through the pages (pool and gather) ---- */

static void list_push(uint64_t **head, uint64_t *head_phys, uint64_t *page, uint64_t phys)
{
	/* Two page-aligned addresses: both read as not-present entries in either format. */
	page[0] = (uint64_t)(uintptr_t)*head;
	page[1] = *head_phys;
	*head = page;
	*head_phys = phys;
}

static uint64_t *list_pop(uint64_t **head, uint64_t *head_phys, uint64_t *phys)
{
	uint64_t *page = *head;

	*phys = *head_phys;
	*head = (uint64_t *)(uintptr_t)page[0];
	*head_phys = page[1];
	page[0] = 0;
	page[1] = 0;
	return page;
}

static void pool_release(struct pt_op *op)
{
	while (op->pool) {
		uint64_t phys;
		uint64_t *page = list_pop(&op->pool, &op->pool_phys, &phys);

		op->pt->ops.free(op->pt->ops.cookie, page, phys);
	}
}

static moat_status pool_fill(struct pt_op *op)
{
	const struct moat_pt_ops *ops = &op->pt->ops;

	op->pt->pages_wanted = op->need;
	for (uint64_t n = 0; n < op->need; n++) {
		uint64_t phys = 0;
		uint64_t *page = ops->alloc(ops->cookie, &phys);

		if (!page) {
			pool_release(op);
			return MOAT_ERR_NO_MEMORY;
		}
		if ((phys & (MOAT_PAGE_SIZE - 1)) || (phys & ~op->fmt->addr_mask) ||
		    ((uintptr_t)page & (MOAT_PAGE_SIZE - 1))) {
			ops->free(ops->cookie, page, phys);
			pool_release(op);
			return MOAT_ERR_UNSUPPORTED;
		}
		list_push(&op->pool, &op->pool_phys, page, phys);
	}
	return MOAT_OK;
}

/* A zeroed table page from the pool; the survey counted it. */
static uint64_t *pool_take(struct pt_op *op, uint64_t *phys)
{
	op->pt->table_pages++;
	return list_pop(&op->pool, &op->pool_phys, phys);
}

static void gather_page(struct pt_op *op, uint64_t *tbl, uint64_t phys)
{
	list_push((uint64_t **)&op->g->pages, &op->g->pages_phys, tbl, phys);
	op->g->freed_pages++;
	op->pt->table_pages--;
}

/* The arrays are left as they are: each entry is written before it is read (table_bits here,
 * leaf_bits and full_cost by map for every level, path on the way down). */
static void op_init(struct pt_op *op, struct moat_pt *pt)
{
	op->flushed = false;
	op->need = 0;
	op->unused = false;
	op->delta = 0;
	op->leaf_ok = 0;
	op->present = 0;
	op->g = NULL;
	op->pool = NULL;
	op->pool_phys = 0;
	op->pt = pt;
	op->fmt = pt->fmt;
	op->flush = !pt->cfg.coherent;
	for (unsigned l = 2; l <= pt->cfg.levels; l++)
		op->table_bits[l] = pt->fmt->table_bits(l);
}

/* The table a survey may follow from @level, or NULL for a link phys_to_virt() does not know or
 * one back to a table on the path (a cycle: corruption). */
static const uint64_t *survey_child(struct pt_op *op, unsigned level, uint64_t addr)
{
	for (unsigned l = level; l <= op->pt->cfg.levels; l++)
		if (op->path[l] == addr)
			return NULL;
	return pt_virt(op->pt, addr);
}

/* Common argument checks of map and unmap: the IOVA range, returned inclusive in *last. */
static moat_status check_range(const struct moat_pt *pt, uint64_t iova, uint64_t size, uint64_t *last)
{
	if (size == 0)
		return MOAT_ERR_INVALID_ARG;
	if ((iova | size) & (MOAT_PAGE_SIZE - 1))
		return MOAT_ERR_ALIGNMENT;
	*last = iova + (size - 1);
	if (*last < iova || *last > pt->iova_last)
		return MOAT_ERR_INVALID_ARG;
	return MOAT_OK;
}

/* ---- map ---- */

/* Pages for a new table at @level holding [s, e] (inside its span), and the tables below it. */
static uint64_t count_new(const struct pt_op *op, unsigned level, uint64_t s, uint64_t e)
{
	const uint64_t mask = pt_entry_size(level) - 1;
	const unsigned first = pt_index(s, level), last = pt_index(e, level);
	bool head_partial, tail_partial;
	uint64_t pages = 1, full;

	if (level == 1)
		return 1;
	head_partial = (s & mask) != 0 || (first == last && (e & mask) != mask);
	tail_partial = first != last && (e & mask) != mask;
	full = last - first + 1u - head_partial - tail_partial;
	if (head_partial)
		pages += count_new(op, level - 1, s, MOAT_MIN(e, s | mask));
	if (tail_partial)
		pages += count_new(op, level - 1, e & ~mask, e);
	if (!(op->leaf_ok & (1u << level)))
		pages += full * op->full_cost[level - 1];
	return pages;
}

/* Phase 1 of map over [s, e] in table @tbl at @level. */
static moat_status map_survey(struct pt_op *op, const uint64_t *tbl, uint64_t tbl_phys, unsigned level,
			      uint64_t s, uint64_t e)
{
	const uint64_t mask = pt_entry_size(level) - 1;
	const bool leaf = op->leaf_ok & (1u << level);
	const unsigned last = pt_index(e, level);
	/* Entries from the first aligned one up to (not including) full_end are covered in full. */
	const unsigned full_end = (e & mask) == mask ? last + 1 : last;
	uint64_t eb = s & ~mask;

	op->path[level] = tbl_phys;
	for (unsigned i = pt_index(s, level); i <= last; i++, eb += mask + 1) {
		if (leaf && eb >= s && i < full_end) {
			/* A run of whole leaves: absent entries take one; one pass, no branch per entry
			 * when all are absent. A table present (one an unmap kept: keep_tables) keeps
			 * its place and takes smaller leaves; a leaf present is an overlap. */
			uint64_t any = 0;

			for (unsigned k = i; !op->unused && k < full_end; k++)
				any |= tbl[k];
			for (unsigned k = i; any && k < full_end; k++) {
				const uint64_t kb = eb + (uint64_t)(k - i) * (mask + 1);
				uint64_t addr = 0;
				unsigned prot;
				const uint64_t *child;
				moat_status st;

				if (!tbl[k])
					continue;
				if (op->fmt->decode(tbl[k], level, &addr, &prot) != PT_TABLE)
					return MOAT_ERR_OVERLAP;
				child = survey_child(op, level, addr);
				if (!child)
					return MOAT_ERR_MALFORMED;
				st = map_survey(op, child, addr, level - 1, kb, kb + mask);
				if (st != MOAT_OK)
					return st;
			}
			eb += (uint64_t)(full_end - 1 - i) * (mask + 1);
			i = full_end - 1;
			continue;
		}

		const uint64_t v = tbl[i], cs = MOAT_MAX(s, eb), ce = MOAT_MIN(e, eb + mask);
		uint64_t addr = 0;
		unsigned prot;
		const uint64_t *child;
		moat_status st;
		if (!v) {
			op->need += count_new(op, level - 1, cs, ce);
			continue;
		}
		switch (op->fmt->decode(v, level, &addr, &prot)) {
		case PT_LEAF:
			return MOAT_ERR_OVERLAP;
		case PT_TABLE:
			child = survey_child(op, level, addr);
			if (!child)
				return MOAT_ERR_MALFORMED;
			st = map_survey(op, child, addr, level - 1, cs, ce);
			if (st != MOAT_OK)
				return st;
			break;
		default:
			return MOAT_ERR_MALFORMED;
		}
	}
	return MOAT_OK;
}

/*
 * Phase 3 of map over [s, e] in table @tbl at @level. @fresh: @tbl is new and not linked yet (every
 * entry in the range is zero, and the caller flushes it whole).
 */
static void map_fill(struct pt_op *op, uint64_t *tbl, unsigned level, uint64_t s, uint64_t e, bool fresh)
{
	const uint64_t esz = pt_entry_size(level), mask = esz - 1;
	const bool leaf = op->leaf_ok & (1u << level);
	const unsigned last = pt_index(e, level);
	/* Entries from the first aligned one up to (not including) full_end are covered in full. */
	const unsigned full_end = (e & mask) == mask ? last + 1 : last;
	struct pt_dirty dirty = DIRTY_NONE;
	unsigned i = pt_index(s, level);
	uint64_t eb = s & ~mask;

	while (i <= last) {
		if (leaf && eb >= s && i < full_end) {
			/* A run of leaves: one template, one store per entry; a table the survey found
			 * in the run takes smaller leaves in place. */
			const unsigned n = full_end - i;
			uint64_t v = op->leaf_bits[level] | (eb + op->delta), any = 0;

			for (unsigned k = i; !fresh && !op->unused && k < full_end; k++)
				any |= tbl[k];
			if (!any) {
				for (unsigned k = i; k < full_end; k++, v += esz)
					tbl[k] = v;
			}
			for (unsigned k = i; any && k < full_end; k++, v += esz) {
				uint64_t addr = 0;
				unsigned prot;

				if (!tbl[k]) {
					tbl[k] = v;
					continue;
				}
				op->fmt->decode(tbl[k], level, &addr, &prot);
				map_fill(op, pt_virt(op->pt, addr), level - 1, eb + (uint64_t)(k - i) * esz,
					 eb + (uint64_t)(k - i + 1) * esz - 1, false);
			}
			dirty_mark(&dirty, i, full_end - 1);
			i = full_end;
			eb += (uint64_t)n * esz;
			continue;
		}

		const uint64_t cs = MOAT_MAX(s, eb), ce = MOAT_MIN(e, eb + mask);
		uint64_t phys, addr = 0;
		unsigned prot;
		uint64_t *child;

		if (!tbl[i]) {
			child = pool_take(op, &phys);
			map_fill(op, child, level - 1, cs, ce, true);
			if (op->flush)
				flush_entries(op, child, 0, PT_ENTRIES - 1);
			/* release: a page-path walker on another CPU (struct moat_pt concurrent)
			 * sees the table's entries written */
			__atomic_store_n(&tbl[i], op->table_bits[level] | phys, __ATOMIC_RELEASE);
			dirty_mark(&dirty, i, i);
		} else {
			/* The survey found a table here whose address phys_to_virt() knows. */
			op->fmt->decode(tbl[i], level, &addr, &prot);
			child = pt_virt(op->pt, addr);
			map_fill(op, child, level - 1, cs, ce, false);
		}
		i++;
		eb += esz;
	}
	if (!fresh)
		flush_dirty(op, tbl, dirty);
}

/* A map succeeded: the tables may hold leaves. No store when set (the line stays shared between
 * CPUs); atomic, as page-path maps may run at once (struct moat_pt concurrent). */
static void mark_used(struct moat_pt *pt)
{
	if (!__atomic_load_n(&pt->used, __ATOMIC_RELAXED))
		__atomic_store_n(&pt->used, true, __ATOMIC_RELAXED);
}

static moat_status map_common(struct moat_pt *pt, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot,
			      bool unused)
{
	const unsigned top = pt ? pt->cfg.levels : 0;
	struct pt_op op;
	uint64_t last;
	moat_status st;

	if (!pt || !pt->root)
		return MOAT_ERR_INVALID_ARG;
	__atomic_store_n(&pt->leaf.key, 0, __ATOMIC_RELAXED);   /* may add tables */
	st = check_range(pt, iova, size, &last);
	if (st != MOAT_OK)
		return st;
	if (phys & (MOAT_PAGE_SIZE - 1))
		return MOAT_ERR_ALIGNMENT;
	if (prot == 0 || (prot & ~MOAT_PT_RW))
		return MOAT_ERR_INVALID_ARG;
	if (phys + (size - 1) < phys || ((phys + (size - 1)) & ~pt->fmt->addr_mask & ~0xfffull))
		return MOAT_ERR_INVALID_ARG;

	op_init(&op, pt);
	op.unused = unused;
	op.delta = phys - iova;
	for (unsigned l = 1; l <= top; l++) {
		if ((pt->leaf_levels & (1u << l)) && !(op.delta & (pt_entry_size(l) - 1)))
			op.leaf_ok |= 1u << l;
		op.leaf_bits[l] = pt->fmt->leaf_bits(l, prot);
		op.full_cost[l] = 1;
		if (l > 1 && !(op.leaf_ok & (1u << l)))
			op.full_cost[l] += PT_ENTRIES * op.full_cost[l - 1];
	}

	st = map_survey(&op, pt->root, pt->root_phys, top, iova, last);
	if (st == MOAT_OK)
		st = pool_fill(&op);
	if (st != MOAT_OK)
		return st;
	map_fill(&op, pt->root, top, iova, last, false);
	mark_used(pt);
	pool_release(&op);  /* empty unless the survey over-counted */
	op_finish(&op);
	return MOAT_OK;
}

/* ---- one 4 KiB page, through existing tables ---- */

/* The cursor a page-path call uses: the caller's on an instance that keeps its tables, else the
 * instance's own unless calls run at once; NULL for none. */
static struct moat_pt_cursor *cursor_of(struct moat_pt *pt, struct moat_pt_cursor *cur)
{
	if (cur)
		return pt->keep_tables ? cur : NULL;
	return pt->concurrent ? NULL : &pt->leaf;
}

/* The table @cur remembers for 2 MiB frame @key - 1, or NULL (another, or being written). */
static uint64_t *cursor_get(const struct moat_pt_cursor *cur, uint64_t key)
{
	const uint64_t seq = __atomic_load_n(&cur->seq, __ATOMIC_ACQUIRE);
	const uint64_t k = __atomic_load_n(&cur->key, __ATOMIC_RELAXED);
	uint64_t *tbl = __atomic_load_n(&cur->tbl, __ATOMIC_RELAXED);

	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if ((seq & 1) || k != key || __atomic_load_n(&cur->seq, __ATOMIC_RELAXED) != seq)
		return NULL;
	return tbl;
}

/* Remember @tbl for @key in @cur, unless another call is writing it. */
static void cursor_set(struct moat_pt_cursor *cur, uint64_t *tbl, uint64_t key)
{
	uint64_t seq = __atomic_load_n(&cur->seq, __ATOMIC_RELAXED);

	if ((seq & 1) ||
	    !__atomic_compare_exchange_n(&cur->seq, &seq, seq + 1, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&cur->tbl, tbl, __ATOMIC_RELAXED);
	__atomic_store_n(&cur->key, key, __ATOMIC_RELAXED);
	__atomic_store_n(&cur->seq, seq + 2, __ATOMIC_RELEASE);
}

/* The level-1 entry of @iova when every table on the way exists, else NULL. */
static uint64_t *leaf4k_slot(struct moat_pt *pt, struct moat_pt_cursor *cur, uint64_t iova)
{
	const uint64_t key = (iova >> 21) + 1;   /* the 2 MiB a last-level table covers */
	uint64_t *tbl = cur ? cursor_get(cur, key) : NULL;

	if (tbl)
		return &tbl[pt_index(iova, 1)];
	tbl = pt->root;

	for (unsigned level = pt->cfg.levels; level > 1; level--) {
		/* acquire: a table linked by another CPU is read after its zeroed entries */
		const uint64_t v = __atomic_load_n(&tbl[pt_index(iova, level)], __ATOMIC_ACQUIRE);
		uint64_t addr = 0;
		unsigned prot;

		if (!v || pt->fmt->decode(v, level, &addr, &prot) != PT_TABLE)
			return NULL;
		tbl = pt_virt(pt, addr);
		if (!tbl)
			return NULL;
	}
	if (cur)
		cursor_set(cur, tbl, key);
	return &tbl[pt_index(iova, 1)];
}

#define PT_4K_SHIFT 12   /* 4 KiB pages */

/* Flush the lines of the @n entries written from @e on, inside one table (non-coherent walkers). */
static void flush_run(struct moat_pt *pt, const uint64_t *e, uint64_t iova, uint64_t n)
{
	const unsigned first = pt_index(iova, 1);
	const uint64_t *tbl = e - first;

	if (pt->cfg.coherent)
		return;
	for (unsigned l = first / PT_LINE_ENTRIES; l <= (first + (unsigned)n - 1) / PT_LINE_ENTRIES; l++)
		pt->ops.flush_line(pt->ops.cookie, tbl + l * PT_LINE_ENTRIES);
}

MOAT_STATIC_ASSERT(MOAT_PT_PAGES_MAX <= 512, "page runs span at most two last-level tables");

/* Add the unmapped range [@iova, @last] to @g. */
static void gather_range(struct moat_pt_gather *g, uint64_t iova, uint64_t last)
{
	if (!g->unmapped) {
		g->iova_first = iova;
		g->iova_last = last;
	} else {
		g->iova_first = MOAT_MIN(g->iova_first, iova);
		g->iova_last = MOAT_MAX(g->iova_last, last);
	}
	g->unmapped += last - iova + 1;
}

/*
 * The last-level entries of the @n pages from @iova (n <= MOAT_PT_PAGES_MAX: at most two tables):
 * run k is @len[k] entries from @e[k]. Returns the number of runs, 0 when a table is missing.
 */
static unsigned page_runs(struct moat_pt *pt, struct moat_pt_cursor *cur, uint64_t iova, uint64_t n, uint64_t *e[2],
			  uint64_t len[2])
{
	unsigned runs = 0;

	cur = cursor_of(pt, cur);
	for (uint64_t k = 0; k < n; k += len[runs++]) {
		const uint64_t at = iova + (k << PT_4K_SHIFT);
		const uint64_t room = 512 - ((at >> PT_4K_SHIFT) & 511);

		e[runs] = leaf4k_slot(pt, cur, at);
		if (!e[runs])
			return 0;
		len[runs] = MOAT_MIN(n - k, room);
	}
	return runs;
}

moat_status moat_pt_map_pages(struct moat_pt *pt, struct moat_pt_cursor *cur, uint64_t iova, uint64_t phys, uint64_t n,
			      unsigned prot)
{
	uint64_t *e[2], len[2], last, bits, done = 0;
	unsigned runs;
	moat_status st;

	if (!pt || !pt->root || !n || n > MOAT_PT_PAGES_MAX)
		return MOAT_ERR_INVALID_ARG;
	st = check_range(pt, iova, n << PT_4K_SHIFT, &last);
	if (st != MOAT_OK)
		return st;
	if (phys & (MOAT_PAGE_SIZE - 1))
		return MOAT_ERR_ALIGNMENT;
	if (prot == 0 || (prot & ~MOAT_PT_RW) || ((phys + ((n - 1) << PT_4K_SHIFT)) & ~pt->fmt->addr_mask & ~0xfffull) ||
	    phys + ((n - 1) << PT_4K_SHIFT) < phys)
		return MOAT_ERR_INVALID_ARG;
	runs = page_runs(pt, cur, iova, n, e, len);
	if (!runs)
		return MOAT_ERR_NOT_FOUND;
	for (unsigned r = 0; r < runs; r++)   /* every slot first: all or nothing */
		for (uint64_t j = 0; j < len[r]; j++)
			if (e[r][j])
				return MOAT_ERR_OVERLAP;
	bits = pt->fmt->leaf_bits(1, prot);
	for (unsigned r = 0; r < runs; r++) {
		for (uint64_t j = 0; j < len[r]; j++)
			e[r][j] = bits | (phys + ((done + j) << PT_4K_SHIFT));
		flush_run(pt, e[r], iova + (done << PT_4K_SHIFT), len[r]);
		done += len[r];
	}
	mark_used(pt);
	if (!pt->cfg.coherent)
		pt->ops.flush_done(pt->ops.cookie);
	return MOAT_OK;
}

moat_status moat_pt_unmap_pages(struct moat_pt *pt, struct moat_pt_cursor *cur, uint64_t iova, uint64_t n,
				struct moat_pt_gather *g)
{
	uint64_t *e[2], len[2], last, done = 0;
	unsigned runs;
	moat_status st;

	if (!pt || !pt->root || !g || !n || n > MOAT_PT_PAGES_MAX)
		return MOAT_ERR_INVALID_ARG;
	st = check_range(pt, iova, n << PT_4K_SHIFT, &last);
	if (st != MOAT_OK)
		return st;
	runs = page_runs(pt, cur, iova, n, e, len);
	if (!runs)
		return MOAT_ERR_NOT_FOUND;
	for (unsigned r = 0; r < runs; r++) {   /* every page a 4 KiB leaf first: all or nothing */
		for (uint64_t j = 0; j < len[r]; j++) {
			uint64_t addr = 0;
			unsigned prot;

			if (!e[r][j] || pt->fmt->decode(e[r][j], 1, &addr, &prot) != PT_LEAF)
				return MOAT_ERR_NOT_FOUND;
		}
	}
	for (unsigned r = 0; r < runs; r++) {
		for (uint64_t j = 0; j < len[r]; j++)
			e[r][j] = 0;
		flush_run(pt, e[r], iova + (done << PT_4K_SHIFT), len[r]);
		done += len[r];
	}
	if (!pt->cfg.coherent)
		pt->ops.flush_done(pt->ops.cookie);
	gather_range(g, iova, last);
	return MOAT_OK;
}

/* One page: the same as moat_pt_map_pages() with n = 1, in one pass. */
moat_status moat_pt_map_page(struct moat_pt *pt, struct moat_pt_cursor *cur, uint64_t iova, uint64_t phys,
			     unsigned prot)
{
	uint64_t *e, last;
	moat_status st;

	if (!pt || !pt->root)
		return MOAT_ERR_INVALID_ARG;
	st = check_range(pt, iova, MOAT_PAGE_SIZE, &last);
	if (st != MOAT_OK)
		return st;
	if (phys & (MOAT_PAGE_SIZE - 1))
		return MOAT_ERR_ALIGNMENT;
	if (prot == 0 || (prot & ~MOAT_PT_RW) || (phys & ~pt->fmt->addr_mask & ~0xfffull))
		return MOAT_ERR_INVALID_ARG;
	e = leaf4k_slot(pt, cursor_of(pt, cur), iova);
	if (!e)
		return MOAT_ERR_NOT_FOUND;
	if (*e)
		return MOAT_ERR_OVERLAP;
	*e = pt->fmt->leaf_bits(1, prot) | phys;
	mark_used(pt);
	if (!pt->cfg.coherent) {
		flush_run(pt, e, iova, 1);
		pt->ops.flush_done(pt->ops.cookie);
	}
	return MOAT_OK;
}

moat_status moat_pt_unmap_page(struct moat_pt *pt, struct moat_pt_cursor *cur, uint64_t iova, struct moat_pt_gather *g)
{
	uint64_t *e, last, addr = 0;
	unsigned prot;
	moat_status st;

	if (!pt || !pt->root || !g)
		return MOAT_ERR_INVALID_ARG;
	st = check_range(pt, iova, MOAT_PAGE_SIZE, &last);
	if (st != MOAT_OK)
		return st;
	e = leaf4k_slot(pt, cursor_of(pt, cur), iova);
	if (!e || !*e || pt->fmt->decode(*e, 1, &addr, &prot) != PT_LEAF)
		return MOAT_ERR_NOT_FOUND;
	*e = 0;
	if (!pt->cfg.coherent) {
		flush_run(pt, e, iova, 1);
		pt->ops.flush_done(pt->ops.cookie);
	}
	gather_range(g, iova, last);
	return MOAT_OK;
}

moat_status moat_pt_map(struct moat_pt *pt, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	return map_common(pt, iova, phys, size, prot, false);
}

moat_status moat_pt_map_unused(struct moat_pt *pt, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	return map_common(pt, iova, phys, size, prot, true);
}

/* ---- unmap ---- */

/* Pages to split a leaf at @level whose part [s, e] is unmapped: a table one level down, and a
 * split below it for each of its entries [s, e] covers only in part (at most the two ends). */
static uint64_t count_split(unsigned level, uint64_t s, uint64_t e)
{
	const unsigned cl = level - 1;
	const uint64_t mask = pt_entry_size(cl) - 1;
	uint64_t pages = 1;

	if (cl == 1)
		return 1;
	if ((s & mask) != 0 || ((s | mask) >= e && (e & mask) != mask)) {
		pages += count_split(cl, s, MOAT_MIN(e, s | mask));
		if ((s | mask) >= e)
			return pages;
		s = (s | mask) + 1;
	}
	if ((e & mask) != mask && (e & ~mask) >= s)
		pages += count_split(cl, e & ~mask, e);
	return pages;
}

/* Phase 1 of unmap over [s, e] in @tbl at @level: bytes mapped, pages for splits, corruption. */
static moat_status unmap_survey(struct pt_op *op, const uint64_t *tbl, uint64_t tbl_phys, unsigned level,
				uint64_t s, uint64_t e)
{
	const uint64_t mask = pt_entry_size(level) - 1;
	const unsigned last = pt_index(e, level);
	uint64_t eb = s & ~mask;

	op->path[level] = tbl_phys;
	for (unsigned i = pt_index(s, level); i <= last; i++, eb += mask + 1) {
		const uint64_t v = tbl[i], cs = MOAT_MAX(s, eb), ce = MOAT_MIN(e, eb + mask);
		uint64_t addr = 0;
		unsigned prot;
		const uint64_t *child;
		moat_status st;

		if (!v)
			continue;
		switch (op->fmt->decode(v, level, &addr, &prot)) {
		case PT_LEAF:
			op->present += ce - cs + 1;
			if (cs != eb || ce != eb + mask)
				op->need += count_split(level, cs, ce);
			break;
		case PT_TABLE:
			child = survey_child(op, level, addr);
			if (!child)
				return MOAT_ERR_MALFORMED;
			st = unmap_survey(op, child, addr, level - 1, cs, ce);
			if (st != MOAT_OK)
				return st;
			break;
		default:
			return MOAT_ERR_MALFORMED;
		}
	}
	return MOAT_OK;
}

/* Gather a whole subtree the unmap covers: the tables below first, then @tbl itself. */
static void gather_subtree(struct pt_op *op, uint64_t *tbl, uint64_t phys, unsigned level)
{
	for (unsigned i = 0; level > 1 && i < PT_ENTRIES; i++) {
		uint64_t addr = 0;
		unsigned prot;

		if (tbl[i] && op->fmt->decode(tbl[i], level, &addr, &prot) == PT_TABLE)
			gather_subtree(op, pt_virt(op->pt, addr), addr, level - 1);
	}
	gather_page(op, tbl, phys);
}

static bool table_empty(const uint64_t *tbl)
{
	uint64_t any = 0;

	for (unsigned i = 0; i < PT_ENTRIES; i++)
		any |= tbl[i];
	return any == 0;
}

/*
 * Phase 3 of unmap over [s, e] in @tbl at @level. @fresh: @tbl is the new table of a split, not
 * linked yet (the caller flushes it whole); it keeps at least one entry.
 */
static void unmap_clear(struct pt_op *op, uint64_t *tbl, unsigned level, uint64_t s, uint64_t e, bool fresh)
{
	const uint64_t esz = pt_entry_size(level), mask = esz - 1;
	const unsigned last = pt_index(e, level);
	struct pt_dirty dirty = DIRTY_NONE;
	uint64_t eb = s & ~mask;

	for (unsigned i = pt_index(s, level); i <= last; i++, eb += esz) {
		const uint64_t v = tbl[i], cs = MOAT_MAX(s, eb), ce = MOAT_MIN(e, eb + mask);
		const bool full = cs == eb && ce == eb + mask;
		uint64_t addr = 0, phys;
		unsigned prot = 0;
		uint64_t *child;

		if (!v)
			continue;
		if (op->fmt->decode(v, level, &addr, &prot) == PT_LEAF) {
			if (!full) {
				/* Split: a table of the next smaller leaves with the same output and
				 * permissions, the hole cleared in it, then linked in place of the leaf. */
				const uint64_t csz = pt_entry_size(level - 1);
				uint64_t leafv = op->fmt->leaf_bits(level - 1, prot) | addr;

				child = pool_take(op, &phys);
				for (unsigned k = 0; k < PT_ENTRIES; k++, leafv += csz)
					child[k] = leafv;
				unmap_clear(op, child, level - 1, cs, ce, true);
				if (op->flush)
					flush_entries(op, child, 0, PT_ENTRIES - 1);
				__atomic_store_n(&tbl[i], op->table_bits[level] | phys, __ATOMIC_RELEASE);
				op->g->tables_changed = true;
			} else {
				tbl[i] = 0;
			}
			dirty_mark(&dirty, i, i);
			continue;
		}
		/* A table; the survey checked phys_to_virt() knows it. */
		child = pt_virt(op->pt, addr);
		if (full && !op->pt->keep_tables) {
			gather_subtree(op, child, addr, level - 1);
		} else {
			unmap_clear(op, child, level - 1, cs, ce, false);
			if (op->pt->keep_tables || !table_empty(child))
				continue;
			gather_page(op, child, addr);
		}
		__atomic_store_n(&tbl[i], 0, __ATOMIC_RELAXED);
		op->g->tables_changed = true;
		dirty_mark(&dirty, i, i);
	}
	if (!fresh)
		flush_dirty(op, tbl, dirty);
}

static moat_status pt_unmap(struct moat_pt *pt, uint64_t iova, uint64_t size, struct moat_pt_gather *g,
			    bool strict, uint64_t *unmapped)
{
	struct pt_op op;
	uint64_t last;
	moat_status st;

	if (unmapped)
		*unmapped = 0;
	if (!pt || !pt->root || !g)
		return MOAT_ERR_INVALID_ARG;
	__atomic_store_n(&pt->leaf.key, 0, __ATOMIC_RELAXED);   /* may split leaves and free tables */
	st = check_range(pt, iova, size, &last);
	if (st != MOAT_OK)
		return st;

	op_init(&op, pt);
	op.g = g;
	st = unmap_survey(&op, pt->root, pt->root_phys, pt->cfg.levels, iova, last);
	if (st != MOAT_OK)
		return st;
	if (strict && op.present != size)
		return MOAT_ERR_NOT_FOUND;
	if (op.present == 0)
		return MOAT_OK;
	st = pool_fill(&op);
	if (st != MOAT_OK)
		return st;

	unmap_clear(&op, pt->root, pt->cfg.levels, iova, last, false);
	pool_release(&op);
	op_finish(&op);

	if (g->unmapped == 0 || iova < g->iova_first)
		g->iova_first = iova;
	if (g->unmapped == 0 || last > g->iova_last)
		g->iova_last = last;
	g->unmapped += op.present;
	if (unmapped)
		*unmapped = op.present;
	return MOAT_OK;
}

moat_status moat_pt_unmap(struct moat_pt *pt, uint64_t iova, uint64_t size, struct moat_pt_gather *g)
{
	return pt_unmap(pt, iova, size, g, true, NULL);
}

moat_status moat_pt_unmap_present(struct moat_pt *pt, uint64_t iova, uint64_t size, struct moat_pt_gather *g,
				  uint64_t *unmapped)
{
	return pt_unmap(pt, iova, size, g, false, unmapped);
}
