/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The IOVA allocator (include/moat/iova.h): an AVL tree of free frame ranges, each node keeping
 * the longest free range, the largest aligned power-of-two block and the highest frame of its
 * subtree, and per-CPU magazines for the power-of-two sizes up to MOAT_IOVA_CACHED_MAX pages.
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
	uint8_t maxorder;       /* largest k: a range of the subtree holds 2^k frames aligned to 2^k */
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

/* A page kept until fini; its usable bytes start after the link. */
static uint8_t *hold_page(struct moat_iova *a)
{
	uint64_t phys = 0;
	struct held *h = moat_pages_alloc(&a->src, &phys);

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
		moat_pages_free(&a->src, h, h->self_phys);
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

/* Floor of log2(@v), @v > 0. */
static unsigned log2_floor(uint64_t v)
{
	return 63u - (unsigned)__builtin_clzll(v);
}

/* The largest k such that [lo, hi] holds an aligned block of 2^k frames: k or k - 1 for the
 * largest power of two 2^k not above the length (a block of half that always fits). */
static uint8_t range_order(uint64_t lo, uint64_t hi)
{
	const unsigned k = log2_floor(hi - lo + 1);
	const uint64_t a = (lo + (1ull << k) - 1) & ~((1ull << k) - 1);

	return (uint8_t)(a >= lo && a + ((1ull << k) - 1) <= hi ? k : k - 1);
}

static void upd(struct moat_iova_node *n)
{
	uint64_t m = n->hi - n->lo + 1;
	uint8_t o = range_order(n->lo, n->hi);

	if (n->l && n->l->maxlen > m)
		m = n->l->maxlen;
	if (n->r && n->r->maxlen > m)
		m = n->r->maxlen;
	if (n->l && n->l->maxorder > o)
		o = n->l->maxorder;
	if (n->r && n->r->maxorder > o)
		o = n->r->maxorder;
	n->maxlen = m;
	n->maxorder = o;
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

/* The free ranges with the highest lo <= @pfn and the lowest lo > @pfn (or NULL), in one descent. */
static void neighbours(struct moat_iova_node *n, uint64_t pfn, struct moat_iova_node **p, struct moat_iova_node **s)
{
	*p = *s = NULL;
	while (n) {
		if (n->lo <= pfn) {
			*p = n;
			n = n->r;
		} else {
			*s = n;
			n = n->l;
		}
	}
}

/* ---- the search ---- */

struct want {
	uint64_t np, align, limit;
	uint64_t need;     /* np + align - 1: a range this long holds the request at any alignment */
	unsigned order;    /* log2(align) */
	uint64_t at;
	uint64_t steps;    /* nodes looked at */
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

/*
 * Whether @n's subtree has a range that holds the request wherever it lies below the limit: long
 * enough for any alignment, or holding a whole aligned block of the alignment's size. For
 * unaligned requests and power-of-two sizes this is exact; for other aligned sizes a range that
 * fits only at one aligned place may be passed over.
 */
static bool sub_ok(const struct moat_iova_node *n, const struct want *w)
{
	return n && (n->maxlen >= w->need || (w->align > 1 && n->maxorder >= w->order));
}

/* A subtree entirely at or below the limit: its highest fitting range (one descent). */
static struct moat_iova_node *fit_below(struct moat_iova_node *n, struct want *w)
{
	while (sub_ok(n, w)) {
		w->steps++;
		if (sub_ok(n->r, w))
			n = n->r;
		else if (node_fits(n, w))
			return n;
		else
			n = n->l;
	}
	return NULL;
}

/*
 * The highest fit in @n's subtree. Along the path of the limit each node is tried exactly, and the
 * subtrees wholly below the limit with fit_below(), which succeeds whenever it is entered with
 * sub_ok(): O(height).
 */
static struct moat_iova_node *fit(struct moat_iova_node *n, struct want *w)
{
	struct moat_iova_node *r;

	while (n && n->maxlen >= w->np) {
		w->steps++;
		if (n->last <= w->limit)
			return fit_below(n, w);
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

/*
 * The node starting at @key changed its range in place without passing a neighbour (the key order
 * holds): recompute the aggregates on its path. No rotation: the shape did not change.
 */
static void refresh(struct moat_iova *a, uint64_t key)
{
	struct moat_iova_node *path[96];   /* an AVL tree this high would need over 2^64 nodes */
	struct moat_iova_node *n = a->root;
	unsigned d = 0;

	while (n && d < 96) {
		path[d++] = n;
		if (key == n->lo)
			break;
		n = key < n->lo ? n->l : n->r;
	}
	while (d)
		upd(path[--d]);
}

static moat_status tree_alloc(struct moat_iova *a, struct want *w, uint64_t *pfn)
{
	struct moat_iova_node *n, *out = NULL;
	uint64_t lo, hi, end;

	if (!spare_ensure(a, 1))
		return MOAT_ERR_NO_MEMORY;
	n = fit(a->root, w);
	a->steps += w->steps;
	a->searches++;
	if (!n)
		return MOAT_ERR_NO_SPACE;
	lo = n->lo;
	hi = n->hi;
	end = w->at + w->np - 1;
	if (w->at == lo && end == hi) {
		a->root = remove(a->root, lo, &out);
		a->free_ranges--;
		node_put(a, out);
	} else if (w->at == lo) {
		n->lo = end + 1;            /* still above the node before it */
		refresh(a, n->lo);
	} else {
		n->hi = w->at - 1;          /* the usual case: taken from the top */
		refresh(a, lo);
		if (end < hi) {
			a->root = insert(a->root, node_get(a, end + 1, hi));
			a->free_ranges++;
		}
	}
	a->free_pages -= w->np;
	*pfn = w->at;
	return MOAT_OK;
}

static moat_status tree_free(struct moat_iova *a, uint64_t pfn, uint64_t np)
{
	const uint64_t last = pfn + np - 1;
	struct moat_iova_node *p, *s, *out;
	bool join_p, join_s;

	neighbours(a->root, pfn, &p, &s);
	if ((p && p->hi >= pfn) || (s && s->lo <= last))
		return MOAT_ERR_INVALID_ARG;
	join_p = p && p->hi + 1 == pfn;
	join_s = s && s->lo == last + 1;
	if (!join_p && !join_s && !spare_ensure(a, 1))
		return MOAT_ERR_NO_MEMORY;
	if (join_p && join_s) {
		const uint64_t hi = s->hi;

		a->root = remove(a->root, s->lo, &out);
		a->free_ranges--;
		node_put(a, out);
		p->hi = hi;
		refresh(a, p->lo);
	} else if (join_p) {
		p->hi = last;
		refresh(a, p->lo);
	} else if (join_s) {
		s->lo = pfn;                /* still above the node before it */
		refresh(a, pfn);
	} else {
		a->root = insert(a->root, node_get(a, pfn, last));
		a->free_ranges++;
	}
	a->free_pages += np;
	return MOAT_OK;
}

/* Take whatever of [pfn, last] is free out of the tree. */
static moat_status tree_reserve(struct moat_iova *a, uint64_t pfn, uint64_t last)
{
	struct moat_iova_node *p, *out = NULL;

	while ((p = pred(a->root, last)) && p->hi >= pfn) {
		const uint64_t lo = p->lo, hi = p->hi;

		if (lo < pfn && hi > last && !spare_ensure(a, 1))
			return MOAT_ERR_NO_MEMORY;
		a->root = remove(a->root, lo, &out);
		a->free_ranges--;
		a->free_pages -= MOAT_MIN(hi, last) - MOAT_MAX(lo, pfn) + 1;
		if (lo < pfn) {
			out->lo = lo;
			out->hi = pfn - 1;
			a->root = insert(a->root, out);
			a->free_ranges++;
			out = NULL;
		}
		if (hi > last) {
			struct moat_iova_node *x = out ? out : node_get(a, 0, 0);

			x->lo = last + 1;
			x->hi = hi;
			a->root = insert(a->root, x);
			a->free_ranges++;
			out = NULL;
		}
		if (out)
			node_put(a, out);
	}
	return MOAT_OK;
}

/* ---- magazines ---- */

/* Frames whose last-level page-table entries (8 bytes each) fill one cache line. */
#define LINE_FRAMES ((uint64_t)MOAT_CACHE_LINE / 8u)
#define LINE_ORDER ((unsigned)__builtin_ctzll(LINE_FRAMES))

/* The cache class of a (rounded) size: log2 for the power-of-two sizes the caches hold, else -1. */
static int size_class(uint64_t np)
{
	MOAT_STATIC_ASSERT(MOAT_IOVA_CACHED_MAX == 1u << (MOAT_IOVA_CLASSES - 1), "one class per power of two");
	return np <= MOAT_IOVA_CACHED_MAX && !(np & (np - 1)) ? __builtin_ctzll(np) : -1;
}

/* Sizes up to MOAT_IOVA_CACHED_MAX frames are taken as the next power of two (size-aligned). */
static uint64_t round_small(uint64_t np)
{
	return np > 1 && np <= MOAT_IOVA_CACHED_MAX ? 1ull << (64 - __builtin_clzll(np - 1)) : np;
}

static size_t mag_bytes(const struct moat_iova *a)
{
	return sizeof(struct moat_iova_mag) + (size_t)a->cfg.mag_size * sizeof(uint64_t);
}

/* Carve @count magazines from held pages into a list. */
static bool mags_make(struct moat_iova *a, unsigned count, struct moat_iova_mag **list)
{
	/* whole cache lines each: magazines of different CPUs share no line */
	const size_t sz = (mag_bytes(a) + MOAT_CACHE_LINE - 1) & ~(size_t)(MOAT_CACHE_LINE - 1);
	const unsigned per = (unsigned)((PAGE - MOAT_CACHE_LINE) / sz);
	unsigned made = 0;

	MOAT_STATIC_ASSERT(sizeof(struct held) <= MOAT_CACHE_LINE, "the page link fits in the first line");
	while (made < count) {
		uint8_t *p = hold_page(a);

		if (!p)
			return false;
		p += MOAT_CACHE_LINE - sizeof(struct held);   /* to the page's second line */
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

moat_status moat_iova_init(struct moat_iova *a, const struct moat_iova_config *cfg, const struct moat_pages *src)
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
		a->src = *src;   /* else zero: the platform */
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

/* Return one cached range to the tree (the tree lock held). */
static void range_drain(struct moat_iova *a, uint64_t pfn, uint64_t np)
{
	if (tree_free(a, pfn, np) != MOAT_OK) {
		/* No node for it: the frames stay allocated (lost to the space, not unsafe). */
		moat_log(MOAT_LOG_WARN, "iova: %llu frames at 0x%llx not returned (no memory)", (unsigned long long)np,
			 (unsigned long long)pfn);
	}
}

/* Return a full magazine's frames to the tree (the tree lock held). */
static void mag_drain(struct moat_iova *a, struct moat_iova_mag *m, uint64_t np)
{
	while (m->count) {
		m->count--;
		range_drain(a, m->pfn[m->count], np);
	}
}

/* Every cached frame back to the tree (the tree has no fit, but frames may sit in the caches of
 * other CPUs). Lock order as in moat_iova_alloc(): a CPU's lock, then the tree's. */
static void caches_drain(struct moat_iova *a)
{
	for (unsigned c = 0; c < MOAT_MAX_CPUS; c++) {
		struct moat_iova_cpu *cpu = &a->cpu[c];

		moat_plat_lock_acquire(&cpu->lock);
		moat_plat_lock_acquire(&a->lock);
		for (unsigned k = 0; k < MOAT_IOVA_CLASSES; k++) {
			for (unsigned i = 0; i < MOAT_IOVA_SLOTS; i++) {
				uint64_t pfn = __atomic_load_n(&cpu->slot[k][i], __ATOMIC_RELAXED);

				if (pfn && (pfn = __atomic_exchange_n(&cpu->slot[k][i], 0, __ATOMIC_ACQUIRE)) != 0)
					range_drain(a, pfn, 1ull << k);
			}
			mag_drain(a, cpu->loaded[k], 1ull << k);
			mag_drain(a, cpu->spare[k], 1ull << k);
		}
		moat_plat_lock_release(&a->lock);
		moat_plat_lock_release(&cpu->lock);
	}
	moat_plat_lock_acquire(&a->lock);
	for (unsigned k = 0; k < MOAT_IOVA_CLASSES; k++) {
		while (a->depot[k]) {
			struct moat_iova_mag *m = a->depot[k];

			__atomic_store_n(&a->depot[k], m->next, __ATOMIC_RELAXED);
			a->depot_count[k]--;
			mag_drain(a, m, 1ull << k);
			m->next = a->empty_mags;
			a->empty_mags = m;
		}
	}
	moat_plat_lock_release(&a->lock);
}

/* A full magazine from the depot for @cpu's empty loaded one (@cpu locked). Out of line: rare. */
static __attribute__((noinline)) struct moat_iova_mag *depot_take(struct moat_iova *a, struct moat_iova_cpu *cpu,
								   unsigned c)
{
	struct moat_iova_mag *m = cpu->loaded[c];

	moat_plat_lock_acquire(&a->lock);
	if (a->depot[c]) {   /* the caller's peek, rechecked */
		struct moat_iova_mag *full = a->depot[c];

		__atomic_store_n(&a->depot[c], full->next, __ATOMIC_RELAXED);
		a->depot_count[c]--;
		m->next = a->empty_mags;
		a->empty_mags = m;
		cpu->loaded[c] = full;
		m = full;
	}
	moat_plat_lock_release(&a->lock);
	return m;
}

/* Take a range of class @c below @limit_pfn from @cpu's slots: one compare-and-swap, no lock. */
static inline bool slot_take(struct moat_iova_cpu *cpu, unsigned c, uint64_t npages, uint64_t limit_pfn, uint64_t *pfn)
{
	for (unsigned i = 0; i < MOAT_IOVA_SLOTS; i++) {
		uint64_t v = __atomic_load_n(&cpu->slot[c][i], __ATOMIC_RELAXED);

		if (v && v + npages - 1 <= limit_pfn &&
		    __atomic_compare_exchange_n(&cpu->slot[c][i], &v, 0, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			/* a plain increment could race a thread on the same CPU number: counts may slip */
			__atomic_store_n(&cpu->slot_hits, __atomic_load_n(&cpu->slot_hits, __ATOMIC_RELAXED) + 1,
					 __ATOMIC_RELAXED);
			*pfn = v;
			return true;
		}
	}
	return false;
}

/* Put a range of class @c into an empty slot of @cpu: one compare-and-swap, no lock. */
static inline bool slot_put(struct moat_iova_cpu *cpu, unsigned c, uint64_t pfn)
{
	for (unsigned i = 0; i < MOAT_IOVA_SLOTS; i++) {
		uint64_t empty = 0;

		if (!__atomic_load_n(&cpu->slot[c][i], __ATOMIC_RELAXED) &&
		    __atomic_compare_exchange_n(&cpu->slot[c][i], &empty, pfn, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

/* Pop a cached range of class @c below @limit_pfn for this CPU: the fast path, no tree. */
static inline bool cache_pop(struct moat_iova *a, unsigned c, uint64_t npages, uint64_t limit_pfn, uint64_t *pfn)
{
	struct moat_iova_cpu *cpu = &a->cpu[moat_plat_cpu_id() % MOAT_MAX_CPUS];
	struct moat_iova_mag *m;
	bool hit = false;

	if (slot_take(cpu, c, npages, limit_pfn, pfn))
		return true;
	moat_plat_lock_acquire(&cpu->lock);
	m = cpu->loaded[c];
	if (__builtin_expect(!m->count, 0)) {
		if (cpu->spare[c]->count) {
			cpu->loaded[c] = cpu->spare[c];
			cpu->spare[c] = m;
			m = cpu->loaded[c];
		} else if (__atomic_load_n(&a->depot[c], __ATOMIC_RELAXED)) {
			m = depot_take(a, cpu, c);
		}
	}
	if (m->count && m->pfn[m->count - 1] + npages - 1 <= limit_pfn) {
		*pfn = m->pfn[--m->count];
		hit = true;
		cpu->hits++;
	} else {
		cpu->misses++;
	}
	moat_plat_lock_release(&cpu->lock);
	return hit;
}

/* The tree: a first search, and one more after the caches gave their ranges back. */
static __attribute__((noinline)) moat_status alloc_slow(struct moat_iova *a, uint64_t npages, uint64_t limit_pfn,
							 bool aligned, uint64_t *pfn)
{
	struct want w;
	moat_status st;

	w.np = npages;
	w.align = aligned || !(npages & (npages - 1)) ? pow2_up(npages) : 1;
	w.order = log2_floor(w.align);
	w.need = npages + w.align - 1;
	w.limit = MOAT_MIN(limit_pfn, a->cfg.last_pfn);
	w.at = 0;
	w.steps = 0;
	moat_plat_lock_acquire(&a->lock);
	st = tree_alloc(a, &w, pfn);
	moat_plat_lock_release(&a->lock);
	if (st == MOAT_ERR_NO_SPACE && !a->cfg.no_cache) {
		caches_drain(a);
		w.steps = 0;
		moat_plat_lock_acquire(&a->lock);
		st = tree_alloc(a, &w, pfn);
		moat_plat_lock_release(&a->lock);
	}
	return st;
}

/*
 * A miss of a size below LINE_FRAMES: a whole aligned block of LINE_FRAMES frames from the tree,
 * whose top range is handed out and the rest kept in this CPU's loaded magazine (ascending, so the
 * next allocations come top-down as from the tree), or given back when it has no room. The
 * last-level page-table entries of a block fill one cache line, so two CPUs taking ranges this way
 * never write the same line of entries. False when no block fits below @limit_pfn.
 */
static __attribute__((noinline)) bool alloc_line(struct moat_iova *a, unsigned c, uint64_t npages, uint64_t limit_pfn,
						 uint64_t *pfn)
{
	struct moat_iova_cpu *cpu = &a->cpu[moat_plat_cpu_id() % MOAT_MAX_CPUS];
	struct want w = { .np = LINE_FRAMES, .align = LINE_FRAMES, .order = LINE_ORDER, .need = 2 * LINE_FRAMES - 1,
			  .limit = MOAT_MIN(limit_pfn, a->cfg.last_pfn) };
	uint64_t block, k;
	struct moat_iova_mag *m;

	moat_plat_lock_acquire(&a->lock);
	if (tree_alloc(a, &w, &block) != MOAT_OK) {
		moat_plat_lock_release(&a->lock);
		return false;
	}
	moat_plat_lock_release(&a->lock);
	*pfn = block + LINE_FRAMES - npages;
	moat_plat_lock_acquire(&cpu->lock);
	m = cpu->loaded[c];
	for (k = block; k < *pfn && m->count < a->cfg.mag_size; k += npages)
		m->pfn[m->count++] = k;
	moat_plat_lock_release(&cpu->lock);
	if (k < *pfn) {
		moat_plat_lock_acquire(&a->lock);
		range_drain(a, k, *pfn - k);
		moat_plat_lock_release(&a->lock);
	}
	return true;
}

moat_status moat_iova_alloc(struct moat_iova *a, uint64_t npages, uint64_t limit_pfn, bool aligned, uint64_t *pfn)
{
	int c;

	if (!args_ok(a, npages) || !pfn || limit_pfn < a->cfg.base_pfn)
		return MOAT_ERR_INVALID_ARG;
	npages = round_small(npages);
	c = a->cfg.no_cache ? -1 : size_class(npages);
	if (c >= 0) {
		if (cache_pop(a, (unsigned)c, npages, limit_pfn, pfn))
			return MOAT_OK;
		if (npages < LINE_FRAMES && alloc_line(a, (unsigned)c, npages, limit_pfn, pfn))
			return MOAT_OK;
		aligned = true;   /* what a cache holds must be size-aligned when it comes back */
	}
	return alloc_slow(a, npages, limit_pfn, aligned, pfn);
}

/* @cpu's loaded and spare magazines of class @c are both full (@cpu locked): the spare goes to the
 * depot (or, the depot full, the loaded one back to the tree); returns the magazine to push on. */
static __attribute__((noinline)) struct moat_iova_mag *depot_give(struct moat_iova *a, struct moat_iova_cpu *cpu,
								   unsigned c, uint64_t npages)
{
	struct moat_iova_mag *m = cpu->loaded[c];

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
	return m;
}

static inline void cache_push(struct moat_iova *a, unsigned c, uint64_t pfn, uint64_t npages)
{
	struct moat_iova_cpu *cpu = &a->cpu[moat_plat_cpu_id() % MOAT_MAX_CPUS];
	struct moat_iova_mag *m;

	if (slot_put(cpu, c, pfn))
		return;
	moat_plat_lock_acquire(&cpu->lock);
	m = cpu->loaded[c];
	if (__builtin_expect(m->count == a->cfg.mag_size, 0)) {
		if (cpu->spare[c]->count < a->cfg.mag_size) {
			cpu->loaded[c] = cpu->spare[c];
			cpu->spare[c] = m;
			m = cpu->loaded[c];
		} else {
			m = depot_give(a, cpu, c, npages);
		}
	}
	m->pfn[m->count++] = pfn;
	moat_plat_lock_release(&cpu->lock);
}

static __attribute__((noinline)) moat_status free_slow(struct moat_iova *a, uint64_t pfn, uint64_t npages)
{
	moat_status st;

	moat_plat_lock_acquire(&a->lock);
	st = tree_free(a, pfn, npages);
	moat_plat_lock_release(&a->lock);
	return st;
}

moat_status moat_iova_free(struct moat_iova *a, uint64_t pfn, uint64_t npages)
{
	int c;

	if (!args_ok(a, npages))
		return MOAT_ERR_INVALID_ARG;
	npages = round_small(npages);
	if (pfn < a->cfg.base_pfn || pfn > a->cfg.last_pfn || a->cfg.last_pfn - pfn < npages - 1)
		return MOAT_ERR_INVALID_ARG;
	c = a->cfg.no_cache ? -1 : size_class(npages);
	if (c >= 0 && !(pfn & (npages - 1))) {
		cache_push(a, (unsigned)c, pfn, npages);
		return MOAT_OK;
	}
	return free_slow(a, pfn, npages);
}

moat_status moat_iova_reserve(struct moat_iova *a, uint64_t pfn, uint64_t npages)
{
	moat_status st;

	if (!args_ok(a, npages) || pfn < a->cfg.base_pfn || pfn > a->cfg.last_pfn ||
	    a->cfg.last_pfn - pfn < npages - 1)
		return MOAT_ERR_INVALID_ARG;
	moat_plat_lock_acquire(&a->lock);
	st = tree_reserve(a, pfn, pfn + npages - 1);
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
		{
			cached += a->cpu[c].loaded[k]->count + a->cpu[c].spare[k]->count;
			for (unsigned i = 0; i < MOAT_IOVA_SLOTS; i++)
				cached += __atomic_load_n(&a->cpu[c].slot[k][i], __ATOMIC_RELAXED) != 0;
		}
		st->cache_hits += a->cpu[c].hits + __atomic_load_n(&a->cpu[c].slot_hits, __ATOMIC_RELAXED);
		st->cache_misses += a->cpu[c].misses;
		moat_plat_lock_release(&a->cpu[c].lock);
	}
	moat_plat_lock_acquire(&a->lock);
	for (unsigned k = 0; k < MOAT_IOVA_CLASSES; k++)
		cached += (uint64_t)a->depot_count[k] * a->cfg.mag_size;
	st->free_pages = a->free_pages;
	st->free_ranges = a->free_ranges;
	st->cached_ranges = cached;
	st->cache_capacity = a->cfg.no_cache ? 0 :
			     (((uint64_t)MOAT_MAX_CPUS * 2u + a->cfg.depot_mags) * a->cfg.mag_size +
				      (uint64_t)MOAT_MAX_CPUS * MOAT_IOVA_SLOTS) * MOAT_IOVA_CLASSES;
	st->metadata_bytes = a->pages_held * PAGE;
	st->tree_steps = a->steps;
	st->tree_searches = a->searches;
	moat_plat_lock_release(&a->lock);
}
