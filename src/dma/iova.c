/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The IOVA allocator (include/moat/iova.h): an AVL tree of free frame ranges, each node keeping
 * the longest free range and the highest frame of its subtree, and per-CPU magazines for the
 * power-of-two sizes up to MOAT_IOVA_CACHED_MAX pages.
 */
#include <moat/iova.h>
#include <moat/internal/lib.h>

#define IOVA_MAGIC 0x69766f61u   /* "ivoa" */
#define PAGE 4096u
#define MAG_MAX 1024u

struct moat_iova_node {
	uint64_t lo, hi;        /* free frames lo..hi */
	uint64_t maxlen;        /* longest range in the subtree */
	uint64_t last;          /* highest frame in the subtree */
	struct moat_iova_node *l, *r;
	int32_t h;
};

struct moat_iova_mag {
	struct moat_iova_mag *next;
	uint32_t count;
	uint32_t pad;
	uint64_t pfn[];
};

/* A page the allocator holds: linked through its first 16 bytes. */
struct held {
	void *next;
	uint64_t self_phys;
};

/* ---- pages ---- */

static void *plat_alloc(void *ctx, uint64_t *phys)
{
	(void)ctx;
	return moat_plat_page_alloc(phys);
}

static void plat_free(void *ctx, void *virt, uint64_t phys)
{
	(void)ctx;
	moat_plat_page_free(virt, phys);
}

/* A page kept until fini; its usable bytes start after the link. */
static uint8_t *hold_page(struct moat_iova *a)
{
	uint64_t phys = 0;
	struct held *h = a->src.alloc(a->src.ctx, &phys);

	if (!h)
		return NULL;
	h->next = a->pages;
	h->self_phys = phys;
	a->pages = h;
	a->pages_held++;
	return (uint8_t *)h + sizeof(struct held);
}

static void release_pages(struct moat_iova *a)
{
	while (a->pages) {
		struct held *h = a->pages;

		a->pages = h->next;
		a->src.free(a->src.ctx, h, h->self_phys);
	}
	a->pages_held = 0;
}

/* A node from the spare list, refilled a page at a time. */
static bool spare_ensure(struct moat_iova *a, unsigned n)
{
	unsigned have = 0;

	for (struct moat_iova_node *s = a->spare_nodes; s && have < n; s = s->l)
		have++;
	while (have < n) {
		uint8_t *p = hold_page(a);
		const unsigned per = (PAGE - sizeof(struct held)) / sizeof(struct moat_iova_node);

		if (!p)
			return false;
		for (unsigned i = 0; i < per; i++) {
			struct moat_iova_node *x = (struct moat_iova_node *)(void *)(p + i * sizeof(*x));

			x->l = a->spare_nodes;
			a->spare_nodes = x;
		}
		have += per;
	}
	return true;
}

static struct moat_iova_node *node_get(struct moat_iova *a, uint64_t lo, uint64_t hi)
{
	struct moat_iova_node *x = a->spare_nodes;

	a->spare_nodes = x->l;
	x->lo = lo;
	x->hi = hi;
	x->l = x->r = NULL;
	return x;
}

static void node_put(struct moat_iova *a, struct moat_iova_node *x)
{
	x->l = a->spare_nodes;
	a->spare_nodes = x;
}

/* ---- AVL tree of free ranges, keyed by lo ---- */

static int32_t ht(const struct moat_iova_node *n)
{
	return n ? n->h : 0;
}

static void upd(struct moat_iova_node *n)
{
	uint64_t m = n->hi - n->lo + 1;

	if (n->l && n->l->maxlen > m)
		m = n->l->maxlen;
	if (n->r && n->r->maxlen > m)
		m = n->r->maxlen;
	n->maxlen = m;
	n->last = n->r ? n->r->last : n->hi;
	n->h = 1 + MOAT_MAX(ht(n->l), ht(n->r));
}

static struct moat_iova_node *rot_right(struct moat_iova_node *y)
{
	struct moat_iova_node *x = y->l;

	y->l = x->r;
	x->r = y;
	upd(y);
	upd(x);
	return x;
}

static struct moat_iova_node *rot_left(struct moat_iova_node *x)
{
	struct moat_iova_node *y = x->r;

	x->r = y->l;
	y->l = x;
	upd(x);
	upd(y);
	return y;
}

static struct moat_iova_node *balance(struct moat_iova_node *n)
{
	int32_t bf;

	upd(n);
	bf = ht(n->l) - ht(n->r);
	if (bf > 1) {
		if (ht(n->l->l) < ht(n->l->r))
			n->l = rot_left(n->l);
		return rot_right(n);
	}
	if (bf < -1) {
		if (ht(n->r->r) < ht(n->r->l))
			n->r = rot_right(n->r);
		return rot_left(n);
	}
	return n;
}

static struct moat_iova_node *insert(struct moat_iova_node *n, struct moat_iova_node *x)
{
	if (!n) {
		x->l = x->r = NULL;
		upd(x);
		return x;
	}
	if (x->lo < n->lo)
		n->l = insert(n->l, x);
	else
		n->r = insert(n->r, x);
	return balance(n);
}

static struct moat_iova_node *remove_min(struct moat_iova_node *n, struct moat_iova_node **min)
{
	if (!n->l) {
		*min = n;
		return n->r;
	}
	n->l = remove_min(n->l, min);
	return balance(n);
}

/* Unlink the node whose range starts at @lo (it must exist); it is returned in *@out. */
static struct moat_iova_node *remove(struct moat_iova_node *n, uint64_t lo, struct moat_iova_node **out)
{
	struct moat_iova_node *m, *r;

	if (!n)
		return NULL;
	if (lo < n->lo) {
		n->l = remove(n->l, lo, out);
	} else if (lo > n->lo) {
		n->r = remove(n->r, lo, out);
	} else {
		*out = n;
		if (!n->l)
			return n->r;
		if (!n->r)
			return n->l;
		r = remove_min(n->r, &m);
		m->l = n->l;
		m->r = r;
		return balance(m);
	}
	return balance(n);
}

/* The free range with the highest lo <= @pfn, or NULL. */
static struct moat_iova_node *pred(struct moat_iova_node *n, uint64_t pfn)
{
	struct moat_iova_node *best = NULL;

	while (n) {
		if (n->lo <= pfn) {
			best = n;
			n = n->r;
		} else {
			n = n->l;
		}
	}
	return best;
}

/* The free range with the lowest lo > @pfn, or NULL. */
static struct moat_iova_node *succ(struct moat_iova_node *n, uint64_t pfn)
{
	struct moat_iova_node *best = NULL;

	while (n) {
		if (n->lo > pfn) {
			best = n;
			n = n->l;
		} else {
			n = n->r;
		}
	}
	return best;
}

/* ---- the search ---- */

struct want {
	uint64_t np, align, limit, need;   /* need: np + align - 1, a length that fits at any alignment */
	uint64_t at;
};

/* @n can hold the request at its highest aligned place at or below the limit: where, in w->at. */
static bool node_fits(const struct moat_iova_node *n, struct want *w)
{
	const uint64_t top = MOAT_MIN(n->hi, w->limit);
	uint64_t a;

	if (top < n->lo || top - n->lo + 1 < w->np)
		return false;
	a = (top - w->np + 1) & ~(w->align - 1);
	if (a < n->lo)
		return false;
	w->at = a;
	return true;
}

/* A subtree entirely at or below the limit: its highest range of at least need frames (which fits
 * whatever the alignment). One descent. */
static struct moat_iova_node *fit_below(struct moat_iova_node *n, struct want *w)
{
	while (n && n->maxlen >= w->need) {
		if (n->r && n->r->maxlen >= w->need)
			n = n->r;
		else if (n->hi - n->lo + 1 >= w->need)
			return node_fits(n, w) ? n : NULL;
		else
			n = n->l;
	}
	return NULL;
}

/*
 * The highest fit in @n's subtree. Along the path of the limit, each node is tried exactly and the
 * subtrees wholly below the limit with fit_below(): O(height).
 */
static struct moat_iova_node *fit(struct moat_iova_node *n, struct want *w)
{
	struct moat_iova_node *r;

	while (n && n->maxlen >= w->np) {
		if (n->last <= w->limit) {
			r = fit_below(n, w);
			if (r)
				return r;
			/* no range of need frames: an exact fit on the right spine is still worth a look */
			for (r = n; r; r = r->r)
				if (node_fits(r, w))
					return r;
			return NULL;
		}
		if (n->lo > w->limit) {
			n = n->l;
			continue;
		}
		r = fit(n->r, w);
		if (r)
			return r;
		if (node_fits(n, w))
			return n;
		return fit_below(n->l, w);
	}
	return NULL;
}

static moat_status tree_alloc(struct moat_iova *a, struct want *w, uint64_t *pfn)
{
	struct moat_iova_node *n, *out = NULL;
	uint64_t lo, hi;

	if (!spare_ensure(a, 1))
		return MOAT_ERR_NO_MEMORY;
	n = fit(a->root, w);
	if (!n)
		return MOAT_ERR_NO_SPACE;
	lo = n->lo;
	hi = n->hi;
	a->root = remove(a->root, lo, &out);
	a->free_ranges--;
	if (w->at > lo) {
		out->lo = lo;
		out->hi = w->at - 1;
		a->root = insert(a->root, out);
		a->free_ranges++;
		out = NULL;
	}
	if (w->at + w->np - 1 < hi) {
		struct moat_iova_node *x = out ? out : node_get(a, 0, 0);

		x->lo = w->at + w->np;
		x->hi = hi;
		a->root = insert(a->root, x);
		a->free_ranges++;
		out = NULL;
	}
	if (out)
		node_put(a, out);
	a->free_pages -= w->np;
	*pfn = w->at;
	return MOAT_OK;
}

static moat_status tree_free(struct moat_iova *a, uint64_t pfn, uint64_t np)
{
	const uint64_t last = pfn + np - 1;
	struct moat_iova_node *p, *s, *x = NULL, *out;
	uint64_t lo = pfn, hi = last;

	p = pred(a->root, pfn);
	s = succ(a->root, pfn);
	if ((p && p->hi >= pfn) || (s && s->lo <= last))
		return MOAT_ERR_INVALID_ARG;
	if (!(p && p->hi + 1 == pfn) && !(s && s->lo == last + 1) && !spare_ensure(a, 1))
		return MOAT_ERR_NO_MEMORY;
	if (p && p->hi + 1 == pfn) {
		lo = p->lo;
		a->root = remove(a->root, p->lo, &x);
		a->free_ranges--;
	}
	if (s && s->lo == last + 1) {
		hi = s->hi;
		a->root = remove(a->root, s->lo, &out);
		a->free_ranges--;
		if (x)
			node_put(a, out);
		else
			x = out;
	}
	if (!x)
		x = node_get(a, 0, 0);
	x->lo = lo;
	x->hi = hi;
	a->root = insert(a->root, x);
	a->free_ranges++;
	a->free_pages += np;
	return MOAT_OK;
}

/* ---- magazines ---- */

static int size_class(uint64_t np)
{
	for (unsigned c = 0; c < MOAT_IOVA_CLASSES; c++)
		if (np == (1ull << c))
			return (int)c;
	return -1;
}

static size_t mag_bytes(const struct moat_iova *a)
{
	return sizeof(struct moat_iova_mag) + (size_t)a->cfg.mag_size * sizeof(uint64_t);
}

/* Carve @count magazines from held pages into a list. */
static bool mags_make(struct moat_iova *a, unsigned count, struct moat_iova_mag **list)
{
	const size_t sz = (mag_bytes(a) + 7u) & ~(size_t)7u;
	const unsigned per = (unsigned)((PAGE - sizeof(struct held)) / sz);
	unsigned made = 0;

	while (made < count) {
		uint8_t *p = hold_page(a);

		if (!p)
			return false;
		for (unsigned i = 0; i < per && made < count; i++, made++) {
			struct moat_iova_mag *m = (struct moat_iova_mag *)(void *)(p + i * sz);

			m->count = 0;
			m->next = *list;
			*list = m;
		}
	}
	return true;
}

/* ---- public ---- */

moat_status moat_iova_init(struct moat_iova *a, const struct moat_iova_config *cfg, const struct moat_iova_pages *src)
{
	struct moat_iova_node *n;

	if (!a || !cfg || !cfg->base_pfn || cfg->base_pfn > cfg->last_pfn || cfg->mag_size > MAG_MAX)
		return MOAT_ERR_INVALID_ARG;
	moat_memset(a, 0, sizeof(*a));
	a->cfg = *cfg;
	if (!a->cfg.mag_size)
		a->cfg.mag_size = MOAT_IOVA_MAG_DEFAULT;
	if (!a->cfg.depot_mags)
		a->cfg.depot_mags = MOAT_IOVA_DEPOT_DEFAULT;
	if (src)
		a->src = *src;
	else
		a->src = (struct moat_iova_pages){ plat_alloc, plat_free, NULL };
	if (!spare_ensure(a, 1))
		goto nomem;
	if (!a->cfg.no_cache) {
		/* every magazine at once, densely packed: two per CPU and class, and the depot's */
		if (!mags_make(a, (MOAT_MAX_CPUS * 2u + a->cfg.depot_mags) * MOAT_IOVA_CLASSES, &a->empty_mags))
			goto nomem;
		for (unsigned c = 0; c < MOAT_MAX_CPUS; c++) {
			for (unsigned k = 0; k < MOAT_IOVA_CLASSES; k++) {
				a->cpu[c].loaded[k] = a->empty_mags;
				a->empty_mags = a->empty_mags->next;
				a->cpu[c].spare[k] = a->empty_mags;
				a->empty_mags = a->empty_mags->next;
			}
		}
	}
	n = node_get(a, cfg->base_pfn, cfg->last_pfn);
	a->root = insert(NULL, n);
	a->free_ranges = 1;
	a->free_pages = cfg->last_pfn - cfg->base_pfn + 1;
	moat_plat_lock_init(&a->lock);
	for (unsigned c = 0; c < MOAT_MAX_CPUS; c++)
		moat_plat_lock_init(&a->cpu[c].lock);
	a->magic = IOVA_MAGIC;
	return MOAT_OK;
nomem:
	release_pages(a);
	return MOAT_ERR_NO_MEMORY;
}

void moat_iova_fini(struct moat_iova *a)
{
	if (!a || a->magic != IOVA_MAGIC)
		return;
	a->magic = 0;
	moat_plat_lock_fini(&a->lock);
	for (unsigned c = 0; c < MOAT_MAX_CPUS; c++)
		moat_plat_lock_fini(&a->cpu[c].lock);
	release_pages(a);
}

static bool args_ok(const struct moat_iova *a, uint64_t np)
{
	return a && a->magic == IOVA_MAGIC && np && np <= (1ull << 32);
}

static uint64_t pow2_up(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* Return a full magazine's frames to the tree (the tree lock held). */
static void mag_drain(struct moat_iova *a, struct moat_iova_mag *m, uint64_t np)
{
	while (m->count) {
		m->count--;
		if (tree_free(a, m->pfn[m->count], np) != MOAT_OK) {
			/* No node for it: the frames stay allocated (lost to the space, not unsafe). */
			moat_log(MOAT_LOG_WARN, "iova: %llu frames at 0x%llx not returned (no memory)",
				 (unsigned long long)np, (unsigned long long)m->pfn[m->count]);
		}
	}
}

moat_status moat_iova_alloc(struct moat_iova *a, uint64_t npages, uint64_t limit_pfn, bool aligned, uint64_t *pfn)
{
	struct want w;
	int c;
	moat_status st;

	if (!args_ok(a, npages) || !pfn || limit_pfn < a->cfg.base_pfn)
		return MOAT_ERR_INVALID_ARG;
	c = a->cfg.no_cache ? -1 : size_class(npages);
	if (c >= 0) {
		struct moat_iova_cpu *cpu = &a->cpu[moat_plat_cpu_id() % MOAT_MAX_CPUS];
		struct moat_iova_mag *m;
		bool hit = false;

		moat_plat_lock_acquire(&cpu->lock);
		m = cpu->loaded[c];
		if (!m->count && cpu->spare[c]->count) {
			cpu->loaded[c] = cpu->spare[c];
			cpu->spare[c] = m;
			m = cpu->loaded[c];
		}
		if (!m->count && __atomic_load_n(&a->depot[c], __ATOMIC_RELAXED)) {
			/* a full magazine from the depot for the empty spare (the peek above is rechecked) */
			moat_plat_lock_acquire(&a->lock);
			if (a->depot[c]) {
				struct moat_iova_mag *full = a->depot[c];

				__atomic_store_n(&a->depot[c], full->next, __ATOMIC_RELAXED);
				a->depot_count[c]--;
				m->next = a->empty_mags;
				a->empty_mags = m;
				cpu->loaded[c] = full;
				m = full;
			}
			moat_plat_lock_release(&a->lock);
		}
		if (m->count && m->pfn[m->count - 1] + npages - 1 <= limit_pfn) {
			*pfn = m->pfn[--m->count];
			hit = true;
		}
		moat_plat_lock_release(&cpu->lock);
		if (hit) {
			__atomic_fetch_add(&a->hits, 1, __ATOMIC_RELAXED);
			return MOAT_OK;
		}
		__atomic_fetch_add(&a->misses, 1, __ATOMIC_RELAXED);
		aligned = true;
	}
	w.np = npages;
	w.align = aligned || !(npages & (npages - 1)) ? pow2_up(npages) : 1;
	w.need = npages + w.align - 1;
	w.limit = MOAT_MIN(limit_pfn, a->cfg.last_pfn);
	w.at = 0;
	moat_plat_lock_acquire(&a->lock);
	st = tree_alloc(a, &w, pfn);
	moat_plat_lock_release(&a->lock);
	return st;
}

moat_status moat_iova_free(struct moat_iova *a, uint64_t pfn, uint64_t npages)
{
	moat_status st;
	int c;

	if (!args_ok(a, npages) || pfn < a->cfg.base_pfn || pfn > a->cfg.last_pfn ||
	    a->cfg.last_pfn - pfn < npages - 1)
		return MOAT_ERR_INVALID_ARG;
	c = a->cfg.no_cache ? -1 : size_class(npages);
	if (c >= 0 && !(pfn & (npages - 1))) {
		struct moat_iova_cpu *cpu = &a->cpu[moat_plat_cpu_id() % MOAT_MAX_CPUS];
		struct moat_iova_mag *m;

		moat_plat_lock_acquire(&cpu->lock);
		m = cpu->loaded[c];
		if (m->count == a->cfg.mag_size && cpu->spare[c]->count < a->cfg.mag_size) {
			cpu->loaded[c] = cpu->spare[c];
			cpu->spare[c] = m;
			m = cpu->loaded[c];
		}
		if (m->count == a->cfg.mag_size) {
			/* both full: the spare goes to the depot (or back to the tree), loaded becomes spare */
			moat_plat_lock_acquire(&a->lock);
			if (a->depot_count[c] < a->cfg.depot_mags && a->empty_mags) {
				struct moat_iova_mag *e = a->empty_mags;

				a->empty_mags = e->next;
				cpu->spare[c]->next = a->depot[c];
				__atomic_store_n(&a->depot[c], cpu->spare[c], __ATOMIC_RELAXED);
				a->depot_count[c]++;
				cpu->spare[c] = m;
				cpu->loaded[c] = e;
				m = e;
			} else {
				mag_drain(a, m, npages);
			}
			moat_plat_lock_release(&a->lock);
		}
		m->pfn[m->count++] = pfn;
		moat_plat_lock_release(&cpu->lock);
		return MOAT_OK;
	}
	moat_plat_lock_acquire(&a->lock);
	st = tree_free(a, pfn, npages);
	moat_plat_lock_release(&a->lock);
	return st;
}

void moat_iova_stats(struct moat_iova *a, struct moat_iova_stats *st)
{
	uint64_t cached = 0;

	moat_memset(st, 0, sizeof(*st));
	if (!a || a->magic != IOVA_MAGIC)
		return;
	for (unsigned c = 0; !a->cfg.no_cache && c < MOAT_MAX_CPUS; c++) {
		moat_plat_lock_acquire(&a->cpu[c].lock);
		for (unsigned k = 0; k < MOAT_IOVA_CLASSES; k++)
			cached += a->cpu[c].loaded[k]->count + a->cpu[c].spare[k]->count;
		moat_plat_lock_release(&a->cpu[c].lock);
	}
	moat_plat_lock_acquire(&a->lock);
	for (unsigned k = 0; k < MOAT_IOVA_CLASSES; k++)
		cached += (uint64_t)a->depot_count[k] * a->cfg.mag_size;
	st->free_pages = a->free_pages;
	st->free_ranges = a->free_ranges;
	st->cached_ranges = cached;
	st->cache_capacity = a->cfg.no_cache ? 0 :
			     ((uint64_t)MOAT_MAX_CPUS * 2u + a->cfg.depot_mags) * MOAT_IOVA_CLASSES * a->cfg.mag_size;
	st->metadata_bytes = a->pages_held * PAGE;
	st->cache_hits = __atomic_load_n(&a->hits, __ATOMIC_RELAXED);
	st->cache_misses = __atomic_load_n(&a->misses, __ATOMIC_RELAXED);
	moat_plat_lock_release(&a->lock);
}
