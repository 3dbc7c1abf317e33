/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Linux IOVA allocator's algorithm (see iova_rbtree.h), as the baseline of bench_iova. The
 * red-black tree is the textbook one (insertion and deletion with recoloring and rotations, empty
 * children as black leaves).
 */
#define _GNU_SOURCE
#include "iova_rbtree.h"

#include <moat/platform.h>

#include <stdlib.h>
#include <string.h>

#define LX_NODES_PER_CHUNK 1023u

struct lx_chunk {
	struct lx_chunk *next;
	struct lx_node n[LX_NODES_PER_CHUNK];
};

/* ---------------------------------------------------------------------------------------------
 * Red-black tree
 * ------------------------------------------------------------------------------------------- */

static struct lx_node *rb_prev(struct lx_node *n)
{
	if (n->left) {
		for (n = n->left; n->right; n = n->right)
			;
		return n;
	}
	while (n->parent && n == n->parent->left)
		n = n->parent;
	return n->parent;
}

static struct lx_node *rb_next(struct lx_node *n)
{
	if (n->right) {
		for (n = n->right; n->left; n = n->left)
			;
		return n;
	}
	while (n->parent && n == n->parent->right)
		n = n->parent;
	return n->parent;
}

static void rb_replace_child(struct lx_iova *d, struct lx_node *old, struct lx_node *new)
{
	if (!old->parent)
		d->root = new;
	else if (old == old->parent->left)
		old->parent->left = new;
	else
		old->parent->right = new;
	if (new)
		new->parent = old->parent;
}

/* Rotate @x down to the left (its right child takes its place). */
static void rb_rotate_left(struct lx_iova *d, struct lx_node *x)
{
	struct lx_node *y = x->right;

	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	rb_replace_child(d, x, y);
	y->left = x;
	x->parent = y;
}

static void rb_rotate_right(struct lx_iova *d, struct lx_node *x)
{
	struct lx_node *y = x->left;

	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	rb_replace_child(d, x, y);
	y->right = x;
	x->parent = y;
}

static bool rb_is_red(const struct lx_node *n)
{
	return n && n->red;
}

/* Link @z as a red leaf under @parent (on the left when @left), then restore the balance. */
static void rb_insert(struct lx_iova *d, struct lx_node *z, struct lx_node *parent, bool left)
{
	z->left = z->right = NULL;
	z->parent = parent;
	z->red = true;
	if (!parent)
		d->root = z;
	else if (left)
		parent->left = z;
	else
		parent->right = z;

	while (rb_is_red(z->parent)) {
		struct lx_node *p = z->parent, *g = p->parent;
		bool p_left = p == g->left;
		struct lx_node *uncle = p_left ? g->right : g->left;

		if (rb_is_red(uncle)) {
			p->red = false;
			uncle->red = false;
			g->red = true;
			z = g;
			continue;
		}
		if (p_left) {
			if (z == p->right) {
				rb_rotate_left(d, p);
				p = z;
			}
			rb_rotate_right(d, g);
		} else {
			if (z == p->left) {
				rb_rotate_right(d, p);
				p = z;
			}
			rb_rotate_left(d, g);
		}
		p->red = false;
		g->red = true;
		break;
	}
	d->root->red = false;
}

/* After a black node was taken out above @x (possibly empty), child of @xp: restore the balance. */
static void rb_erase_fixup(struct lx_iova *d, struct lx_node *x, struct lx_node *xp)
{
	while (x != d->root && !rb_is_red(x)) {
		if (x == xp->left) {
			struct lx_node *w = xp->right;

			if (w->red) {
				w->red = false;
				xp->red = true;
				rb_rotate_left(d, xp);
				w = xp->right;
			}
			if (!rb_is_red(w->left) && !rb_is_red(w->right)) {
				w->red = true;
				x = xp;
				xp = x->parent;
				continue;
			}
			if (!rb_is_red(w->right)) {
				w->left->red = false;
				w->red = true;
				rb_rotate_right(d, w);
				w = xp->right;
			}
			w->red = xp->red;
			xp->red = false;
			w->right->red = false;
			rb_rotate_left(d, xp);
		} else {
			struct lx_node *w = xp->left;

			if (w->red) {
				w->red = false;
				xp->red = true;
				rb_rotate_right(d, xp);
				w = xp->left;
			}
			if (!rb_is_red(w->left) && !rb_is_red(w->right)) {
				w->red = true;
				x = xp;
				xp = x->parent;
				continue;
			}
			if (!rb_is_red(w->left)) {
				w->right->red = false;
				w->red = true;
				rb_rotate_left(d, w);
				w = xp->left;
			}
			w->red = xp->red;
			xp->red = false;
			w->left->red = false;
			rb_rotate_right(d, xp);
		}
		x = d->root;
		break;
	}
	if (x)
		x->red = false;
}

static void rb_erase(struct lx_iova *d, struct lx_node *z)
{
	struct lx_node *x, *xp;
	bool removed_red = z->red;

	if (!z->left || !z->right) {
		x = z->left ? z->left : z->right;
		xp = z->parent;
		rb_replace_child(d, z, x);
	} else {
		struct lx_node *y = z->right;

		while (y->left)
			y = y->left;
		removed_red = y->red;
		x = y->right;
		if (y->parent == z) {
			xp = y;
		} else {
			xp = y->parent;
			rb_replace_child(d, y, y->right);
			y->right = z->right;
			y->right->parent = y;
		}
		rb_replace_child(d, z, y);
		y->left = z->left;
		y->left->parent = y;
		y->red = z->red;
	}
	if (!removed_red)
		rb_erase_fixup(d, x, xp);
}

/* ---------------------------------------------------------------------------------------------
 * Nodes
 * ------------------------------------------------------------------------------------------- */

static struct lx_node *node_get(struct lx_iova *d)
{
	struct lx_node *n = d->spare;

	if (!n) {
		struct lx_chunk *c = malloc(sizeof(*c));

		if (!c)
			return NULL;
		c->next = d->chunks;
		d->chunks = c;
		/* Hand the nodes out in address order. */
		for (unsigned i = LX_NODES_PER_CHUNK; i-- > 0;) {
			c->n[i].parent = d->spare;
			d->spare = &c->n[i];
		}
		n = d->spare;
	}
	d->spare = n->parent;
	return n;
}

static void node_put(struct lx_iova *d, struct lx_node *n)
{
	n->parent = d->spare;
	d->spare = n;
}

/* ---------------------------------------------------------------------------------------------
 * The tree allocator
 * ------------------------------------------------------------------------------------------- */

static unsigned fls64(uint64_t x)
{
	return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

/* The lowest node whose first frame is at or above @pfn (the anchor when no range is). */
static struct lx_node *node_at_or_above(struct lx_iova *d, uint64_t pfn)
{
	struct lx_node *n = d->root, *best = &d->anchor;

	while (n) {
		if (n->pfn_lo >= pfn) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

/* The range holding frame @pfn, or NULL. */
static struct lx_node *node_find(struct lx_iova *d, uint64_t pfn)
{
	struct lx_node *n = d->root;

	while (n) {
		if (pfn < n->pfn_lo)
			n = n->left;
		else if (pfn > n->pfn_hi)
			n = n->right;
		else
			return n;
	}
	return NULL;
}

/* Search and insert, tree lock held. @end: the first frame past the limit. */
static bool tree_alloc_locked(struct lx_iova *d, uint64_t size, uint64_t end, bool aligned, uint64_t *pfn)
{
	const uint64_t mask = aligned ? ~0ull << fls64(size - 1) : ~0ull;
	const bool low32 = end <= d->dma32_pfn;
	uint64_t high = end, low = d->start_pfn, cand, second_from;
	struct lx_node *cur, *above, *n;

	if (low32 && size >= d->max32_alloc_size)
		goto fail;
	cur = low32 ? d->cached32 : d->cached;
	second_from = cur->pfn_hi;
	for (;;) {
		/* Down from @cur: the gap under each node, until the candidate clears the node below. */
		do {
			if (cur->pfn_lo < high)
				high = cur->pfn_lo;
			cand = (high - size) & mask;
			above = cur;
			cur = rb_prev(cur);
			d->st.walk_steps++;
		} while (cur && cand <= cur->pfn_hi && cand >= low);
		if (high >= size && cand >= low)
			break;
		/* Nothing under the cached node: once more over the frames between it and the limit. */
		if (low == d->start_pfn && second_from < end) {
			high = end;
			low = second_from + 1;
			cur = node_at_or_above(d, end);
			continue;
		}
		d->max32_alloc_size = size;
		goto fail;
	}

	n = node_get(d);
	if (!n)
		goto fail;
	n->pfn_lo = cand;
	n->pfn_hi = cand + size - 1;
	/* @n lies between @cur (the predecessor of @above, if any) and @above. */
	if (above->left)
		rb_insert(d, n, cur, false);
	else
		rb_insert(d, n, above, true);
	if (n->pfn_hi < d->dma32_pfn)
		d->cached32 = n;
	else
		d->cached = n;
	d->st.nodes++;
	d->st.tree_allocs++;
	*pfn = cand;
	return true;
fail:
	d->st.tree_failures++;
	return false;
}

/* Take @n out of the tree, moving the cached nodes and clearing the hint as a free does. */
static void tree_remove_locked(struct lx_iova *d, struct lx_node *n)
{
	if (n == d->cached32 || (n->pfn_hi < d->dma32_pfn && n->pfn_lo >= d->cached32->pfn_lo))
		d->cached32 = rb_next(n);
	if (n->pfn_lo < d->dma32_pfn)
		d->max32_alloc_size = d->dma32_pfn;
	if (n->pfn_lo >= d->cached->pfn_lo)
		d->cached = rb_next(n);
	rb_erase(d, n);
	node_put(d, n);
	d->st.nodes--;
	d->st.tree_frees++;
}

bool lx_alloc_iova(struct lx_iova *d, uint64_t size, uint64_t limit_pfn, bool aligned, uint64_t *pfn)
{
	bool ok;

	if (!size || limit_pfn == UINT64_MAX)
		return false;
	moat_plat_lock_acquire(&d->lock);
	ok = tree_alloc_locked(d, size, limit_pfn + 1, aligned, pfn);
	moat_plat_lock_release(&d->lock);
	return ok;
}

bool lx_free_iova(struct lx_iova *d, uint64_t pfn)
{
	struct lx_node *n;

	moat_plat_lock_acquire(&d->lock);
	n = node_find(d, pfn);
	if (n && n != &d->anchor)
		tree_remove_locked(d, n);
	moat_plat_lock_release(&d->lock);
	return n && n != &d->anchor;
}

/* ---------------------------------------------------------------------------------------------
 * Per-CPU range caches
 * ------------------------------------------------------------------------------------------- */

static struct lx_mag *mag_new(void)
{
	struct lx_mag *m = malloc(sizeof(*m));

	if (m)
		m->size = 0;
	return m;
}

/* Every range of @m back to the tree, under one hold of the tree lock. */
static void mag_to_tree(struct lx_iova *d, struct lx_mag *m)
{
	moat_plat_lock_acquire(&d->lock);
	for (unsigned i = 0; i < m->size; i++) {
		struct lx_node *n = node_find(d, m->pfns[i]);

		if (n && n != &d->anchor)
			tree_remove_locked(d, n);
	}
	moat_plat_lock_release(&d->lock);
	m->size = 0;
}

/* Pop the newest frame of @m whose range fits (first frame at most @max_lo). */
static bool mag_pop(struct lx_mag *m, uint64_t max_lo, uint64_t *pfn)
{
	unsigned i = m->size;

	while (i > 0 && m->pfns[i - 1] > max_lo)
		i--;
	if (!i)
		return false;
	*pfn = m->pfns[i - 1];
	m->pfns[i - 1] = m->pfns[--m->size];
	return true;
}

static bool rcache_get(struct lx_iova *d, unsigned cpu, unsigned cls, uint64_t max_lo, uint64_t *pfn)
{
	struct lx_rcache *rc = &d->rcache[cls];
	struct lx_cpu_cache *cc = &rc->cpu[cpu];
	bool have = false, got = false;

	moat_plat_lock_acquire(&cc->lock);
	if (cc->loaded->size) {
		have = true;
	} else if (cc->prev->size) {
		struct lx_mag *t = cc->loaded;

		cc->loaded = cc->prev;
		cc->prev = t;
		have = true;
	} else {
		moat_plat_lock_acquire(&rc->lock);
		if (rc->depot_size) {
			free(cc->loaded);
			cc->loaded = rc->depot[--rc->depot_size];
			have = true;
		}
		moat_plat_lock_release(&rc->lock);
	}
	if (have)
		got = mag_pop(cc->loaded, max_lo, pfn);
	if (got)
		cc->hits++;
	else
		cc->misses++;
	moat_plat_lock_release(&cc->lock);
	return got;
}

static bool rcache_put(struct lx_iova *d, unsigned cpu, unsigned cls, uint64_t pfn)
{
	struct lx_rcache *rc = &d->rcache[cls];
	struct lx_cpu_cache *cc = &rc->cpu[cpu];
	struct lx_mag *spill = NULL;
	bool put = true;

	moat_plat_lock_acquire(&cc->lock);
	if (cc->loaded->size == LX_MAG_SIZE) {
		if (cc->prev->size < LX_MAG_SIZE) {
			struct lx_mag *t = cc->loaded;

			cc->loaded = cc->prev;
			cc->prev = t;
		} else {
			struct lx_mag *m = mag_new();

			if (m) {
				moat_plat_lock_acquire(&rc->lock);
				if (rc->depot_size < LX_DEPOT_MAGS)
					rc->depot[rc->depot_size++] = cc->loaded;
				else
					spill = cc->loaded;
				moat_plat_lock_release(&rc->lock);
				cc->loaded = m;
			} else {
				put = false;
			}
		}
	}
	if (put)
		cc->loaded->pfns[cc->loaded->size++] = pfn;
	moat_plat_lock_release(&cc->lock);
	if (spill) {
		mag_to_tree(d, spill);
		free(spill);
	}
	return put;
}

/* Every cached range back to the tree: the magazines of every CPU, then the depots. */
static void rcache_flush(struct lx_iova *d)
{
	for (unsigned c = 0; c < LX_CLASSES; c++) {
		struct lx_rcache *rc = &d->rcache[c];

		for (unsigned cpu = 0; cpu < d->ncpus; cpu++) {
			struct lx_cpu_cache *cc = &rc->cpu[cpu];

			moat_plat_lock_acquire(&cc->lock);
			mag_to_tree(d, cc->loaded);
			mag_to_tree(d, cc->prev);
			moat_plat_lock_release(&cc->lock);
		}
		moat_plat_lock_acquire(&rc->lock);
		while (rc->depot_size) {
			struct lx_mag *m = rc->depot[--rc->depot_size];

			mag_to_tree(d, m);
			free(m);
		}
		moat_plat_lock_release(&rc->lock);
	}
}

/* The cached size of a request: under 32 pages, the next power of two. */
static uint64_t fast_size(uint64_t size)
{
	if (size < (1ull << (LX_CLASSES - 1)))
		return size <= 1 ? 1 : 1ull << fls64(size - 1);
	return size;
}

/* The class of a (rounded) size, or LX_CLASSES when it has none. */
static unsigned size_class(uint64_t size)
{
	unsigned order = size <= 1 ? 0 : fls64(size - 1);

	return order < LX_CLASSES ? order : LX_CLASSES;
}

/* The current CPU's caches (the per-CPU data of the original). */
static unsigned this_cpu(const struct lx_iova *d)
{
	unsigned cpu = moat_plat_cpu_id();

	return cpu < d->ncpus ? cpu : cpu % d->ncpus;
}

bool lx_alloc_iova_fast(struct lx_iova *d, uint64_t size, uint64_t limit_pfn, bool flush_rcache, uint64_t *pfn)
{
	const unsigned cpu = this_cpu(d);
	unsigned cls;

	if (!size)
		return false;
	size = fast_size(size);
	cls = size_class(size);
	if (cls < LX_CLASSES && limit_pfn + 1 >= size && rcache_get(d, cpu, cls, limit_pfn + 1 - size, pfn))
		return true;
	for (;;) {
		if (lx_alloc_iova(d, size, limit_pfn, true, pfn))
			return true;
		if (!flush_rcache)
			return false;
		flush_rcache = false;
		rcache_flush(d);
	}
}

void lx_free_iova_fast(struct lx_iova *d, uint64_t pfn, uint64_t size)
{
	unsigned cls = size_class(fast_size(size));

	if (cls < LX_CLASSES && rcache_put(d, this_cpu(d), cls, pfn))
		return;
	lx_free_iova(d, pfn);
}

/* ---------------------------------------------------------------------------------------------
 * Set-up, counters, invariants
 * ------------------------------------------------------------------------------------------- */

int lx_iova_init(struct lx_iova *d, uint64_t start_pfn, unsigned ncpus)
{
	memset(d, 0, sizeof(*d));
	if (!start_pfn || !ncpus || ncpus > LX_MAX_CPUS)
		return -1;
	moat_plat_lock_init(&d->lock);
	d->start_pfn = start_pfn;
	d->dma32_pfn = 1ull << (32 - 12);
	d->max32_alloc_size = d->dma32_pfn;
	d->anchor.pfn_lo = d->anchor.pfn_hi = UINT64_MAX;
	d->root = &d->anchor;
	d->cached = d->cached32 = &d->anchor;
	d->ncpus = ncpus;
	for (unsigned c = 0; c < LX_CLASSES; c++) {
		struct lx_rcache *rc = &d->rcache[c];

		moat_plat_lock_init(&rc->lock);
		for (unsigned cpu = 0; cpu < ncpus; cpu++) {
			moat_plat_lock_init(&rc->cpu[cpu].lock);
			rc->cpu[cpu].loaded = mag_new();
			rc->cpu[cpu].prev = mag_new();
			if (!rc->cpu[cpu].loaded || !rc->cpu[cpu].prev) {
				d->ncpus = cpu + 1;
				lx_iova_fini(d);
				return -1;
			}
		}
	}
	return 0;
}

void lx_iova_fini(struct lx_iova *d)
{
	for (unsigned c = 0; c < LX_CLASSES; c++) {
		struct lx_rcache *rc = &d->rcache[c];

		for (unsigned cpu = 0; cpu < d->ncpus; cpu++) {
			free(rc->cpu[cpu].loaded);
			free(rc->cpu[cpu].prev);
			moat_plat_lock_fini(&rc->cpu[cpu].lock);
		}
		while (rc->depot_size)
			free(rc->depot[--rc->depot_size]);
		moat_plat_lock_fini(&rc->lock);
	}
	while (d->chunks) {
		struct lx_chunk *c = d->chunks;

		d->chunks = c->next;
		free(c);
	}
	moat_plat_lock_fini(&d->lock);
	memset(d, 0, sizeof(*d));
}

void lx_iova_stats(struct lx_iova *d, struct lx_stats *out)
{
	*out = d->st;
	for (unsigned c = 0; c < LX_CLASSES; c++) {
		for (unsigned cpu = 0; cpu < d->ncpus; cpu++) {
			out->cache_hits += d->rcache[c].cpu[cpu].hits;
			out->cache_misses += d->rcache[c].cpu[cpu].misses;
		}
	}
}

/* Black height of the subtree at @n, or -1 when an invariant fails; counts nodes into *@count. */
static int check_subtree(const struct lx_node *n, const struct lx_node *parent, int64_t *count)
{
	int l, r;

	if (!n)
		return 1;
	if (n->parent != parent || n->pfn_lo > n->pfn_hi)
		return -1;
	if (n->red && (rb_is_red(n->left) || rb_is_red(n->right)))
		return -1;
	if ((n->left && n->left->pfn_hi >= n->pfn_lo) || (n->right && n->right->pfn_lo <= n->pfn_hi))
		return -1;
	l = check_subtree(n->left, n, count);
	r = check_subtree(n->right, n, count);
	if (l < 0 || r < 0 || l != r)
		return -1;
	(*count)++;
	return l + !n->red;
}

int64_t lx_iova_check(struct lx_iova *d)
{
	int64_t count = 0;
	struct lx_node *n, *prev = NULL;

	moat_plat_lock_acquire(&d->lock);
	if (d->root->red || check_subtree(d->root, NULL, &count) < 0)
		count = -1;
	/* In order: ascending and disjoint, ending at the anchor. */
	for (n = d->root; count >= 0 && n->left; n = n->left)
		;
	for (; count >= 0 && n; prev = n, n = rb_next(n))
		if (prev && prev->pfn_hi >= n->pfn_lo)
			count = -1;
	if (count >= 0 && (prev != &d->anchor || (uint64_t)count != d->st.nodes + 1))
		count = -1;
	moat_plat_lock_release(&d->lock);
	return count < 0 ? -1 : count - 1;
}
