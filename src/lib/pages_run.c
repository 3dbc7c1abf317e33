/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A run of pages at consecutive physical addresses from a source that gives one page at a time
 * (moat_pages_alloc_run() in include/moat/pages.h): for structures the hardware indexes as one
 * block (AMD-Vi device table, VT-d interrupt remapping table).
 *
 * Pages held while searching form a list sorted by physical address, linked through a node at
 * the start of each page (its virtual address is the node's). Nothing else is needed: no
 * allocation, no state outside the pages themselves. The pages come from the source already
 * trusted (no device can write them), so linking through them is safe; a page that ends up in
 * the run is zeroed again before it is handed over.
 */
#include <moat/internal/lib.h>
#include <moat/pages.h>

struct held {
	struct held *prev, *next;
	uint64_t phys;
};

struct held_list {
	struct held *first, *last;
};

static void held_insert(struct held_list *l, struct held *h)
{
	struct held *at = l->first;

	/* Allocators mostly hand out ascending or descending addresses: try both ends first. */
	if (l->last && l->last->phys < h->phys)
		at = NULL;
	else
		while (at && at->phys < h->phys)
			at = at->next;
	h->next = at;
	h->prev = at ? at->prev : l->last;
	if (h->prev)
		h->prev->next = h;
	else
		l->first = h;
	if (at)
		at->prev = h;
	else
		l->last = h;
}

static void held_free_all(const struct moat_pages *src, struct held_list *l)
{
	while (l->first) {
		struct held *h = l->first;

		l->first = h->next;
		moat_pages_free(src, h, h->phys);
	}
	l->last = NULL;
}

/* Within the neighbours lo..hi (consecutive pages), the first page where an aligned run of @n
 * starts, or NULL. */
static struct held *aligned_start(struct held *lo, const struct held *hi, uint32_t n, uint64_t align)
{
	for (struct held *p = lo; p; p = p->next) {
		if (hi->phys - p->phys < (uint64_t)(n - 1) * MOAT_PAGE_SIZE)
			return NULL;
		if (!(p->phys & (align - 1)))
			return p;
		if (p == hi)
			return NULL;
	}
	return NULL;
}

moat_status moat_pages_alloc_run(const struct moat_pages *src, uint32_t n, uint64_t align, moat_pages_run_fn put,
				 void *ctx, uint64_t *phys)
{
	struct held_list l = { NULL, NULL };
	uint64_t limit;

	if (!n || !put || !phys || (align & (align - 1)) || (align && align < MOAT_PAGE_SIZE))
		return MOAT_ERR_INVALID_ARG;
	if (src && src->alloc_run)
		return src->alloc_run(src->ctx, n, align, put, ctx, phys);
	if (!align)
		align = MOAT_PAGE_SIZE;
	/* A run of n + align / page - 1 neighbours always holds an aligned run of n: allow for that, up
	 * to an alignment of the run's own size. */
	limit = 2ull * n + MOAT_MIN(align / MOAT_PAGE_SIZE, (uint64_t)n) - 1 + 1024;
	for (uint64_t tries = 0; tries < limit; tries++) {
		uint64_t p;
		struct held *h = moat_pages_alloc(src, &p);

		if (!h)
			break;
		h->phys = p;
		held_insert(&l, h);

		struct held *lo = h, *hi = h;
		uint64_t run = 1;
		while (lo->prev && lo->prev->phys + MOAT_PAGE_SIZE == lo->phys) {
			lo = lo->prev;
			run++;
		}
		while (hi->next && hi->phys + MOAT_PAGE_SIZE == hi->next->phys) {
			hi = hi->next;
			run++;
		}
		if (run < n)
			continue;
		struct held *first = aligned_start(lo, hi, n, align);
		if (!first)
			continue;

		/* Take n pages from first, unlink them, give the rest back. */
		struct held *q = first, *before = first->prev;
		*phys = first->phys;
		for (uint32_t i = 0; i < n; i++) {
			struct held *next = q->next;

			moat_memset(q, 0, sizeof(*q));
			put(ctx, i, q);
			q = next;
		}
		if (before)
			before->next = q;
		else
			l.first = q;
		if (q)
			q->prev = before;
		else
			l.last = before;
		held_free_all(src, &l);
		return MOAT_OK;
	}
	held_free_all(src, &l);
	return MOAT_ERR_NO_MEMORY;
}
