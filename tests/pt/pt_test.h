/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared test support of the page-table tests: a private page allocator per test (cookie-based, so tests
 * are independent of each other and of the hosted platform), failure injection, flush recording,
 * snapshots of the live tables, and the entry layouts of both formats written from the specs
 * (independent of the engine's own definitions).
 */
#ifndef MOAT_PT_TEST_H
#define MOAT_PT_TEST_H

#include "test.h"

#include <stdbool.h>

#include <moat/pt.h>

/* ---- entry layouts, from the specifications ---- */

/* VT-d rev 4.1 section 9.8: R bit 0, W bit 1, PS bit 7 (2 MiB / 1 GiB leaves), address 51:12. */
#define T_VTD_R   (1ull << 0)
#define T_VTD_W   (1ull << 1)
#define T_VTD_PS  (1ull << 7)
/* AMD 48882 section 2.2.3: PR bit 0, Next Level 11:9, address 51:12, IR bit 61, IW bit 62. */
#define T_AMD_PR  (1ull << 0)
#define T_AMD_NL(n) ((uint64_t)(n) << 9)
#define T_AMD_IR  (1ull << 61)
#define T_AMD_IW  (1ull << 62)
#define T_ADDR    0x000ffffffffff000ull

#define T_4K (1ull << 12)
#define T_2M (1ull << 21)
#define T_1G (1ull << 30)
#define T_ALL_SIZES (MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M | MOAT_PT_PAGE_1G)

/* The entry a leaf at @level with @prot must hold, per the spec. */
static inline uint64_t t_leaf_entry(enum moat_pt_format f, unsigned level, uint64_t phys, unsigned prot)
{
	if (f == MOAT_PT_VTD_SL)
		return phys | ((prot & MOAT_PT_READ) ? T_VTD_R : 0) | ((prot & MOAT_PT_WRITE) ? T_VTD_W : 0) |
		       (level > 1 ? T_VTD_PS : 0);
	return phys | T_AMD_PR | ((prot & MOAT_PT_READ) ? T_AMD_IR : 0) | ((prot & MOAT_PT_WRITE) ? T_AMD_IW : 0);
}

/* The entry a link at @level to a table at @level - 1 must hold. */
static inline uint64_t t_table_entry(enum moat_pt_format f, unsigned level, uint64_t phys)
{
	if (f == MOAT_PT_VTD_SL)
		return phys | T_VTD_R | T_VTD_W;
	return phys | T_AMD_PR | T_AMD_IR | T_AMD_IW | T_AMD_NL(level - 1);
}

static inline bool t_is_leaf(enum moat_pt_format f, unsigned level, uint64_t e)
{
	if (level == 1)
		return true;
	if (f == MOAT_PT_VTD_SL)
		return (e & T_VTD_PS) != 0;
	return ((e >> 9) & 7) == 0;
}

static inline bool t_present(enum moat_pt_format f, uint64_t e)
{
	return f == MOAT_PT_VTD_SL ? (e & (T_VTD_R | T_VTD_W)) != 0 : (e & T_AMD_PR) != 0;
}

/* ---- a private allocator ---- */

#define TP_PHYS_BASE 0x40000000000ull  /* "physical" addresses of table pages: 4 TiB up */

struct tp_flush_rec {
	const void *line;
	uint64_t seq;
};

struct tpages {
	void **virt;              /* by slot; NULL when free */
	void **spare;             /* by slot: memory kept for reuse when recycling */
	bool recycle;             /* keep freed pages for reuse (fast) instead of giving them to libc */
	unsigned cap, next;
	unsigned *free_slots, nfree;
	uint64_t live, allocs, frees, alloc_calls;
	uint64_t fail_at;         /* fail the fail_at-th alloc call from the arming (1 = next); 0 off */
	bool fail_sticky;
	/* flushes */
	uint64_t flushes, flush_dones;
	uint64_t flushes_at_done; /* flush count when flush_done() was last called */
	struct tp_flush_rec *flog;
	size_t nflog, capflog;
	void (*on_flush)(struct tpages *tp, const void *line);  /* optional test hook */
	void *hook_ctx;
};

static inline void *tp_alloc(void *cookie, uint64_t *phys)
{
	struct tpages *tp = cookie;
	unsigned slot;
	void *p;

	tp->alloc_calls++;
	if (tp->fail_at) {
		if (tp->fail_at > 1) {
			tp->fail_at--;
		} else {
			if (!tp->fail_sticky)
				tp->fail_at = 0;
			return NULL;
		}
	}
	if (tp->nfree)
		slot = tp->free_slots[--tp->nfree];
	else if (tp->next < tp->cap)
		slot = tp->next++;
	else
		return NULL;
	p = tp->spare[slot];
	tp->spare[slot] = NULL;
	if (!p)
		p = aligned_alloc(4096, 4096);
	if (!p)
		return NULL;
	memset(p, 0, 4096);
	tp->virt[slot] = p;
	tp->live++;
	tp->allocs++;
	*phys = TP_PHYS_BASE + (uint64_t)slot * 4096;
	return p;
}

static inline unsigned tp_slot(const struct tpages *tp, uint64_t phys, bool *ok)
{
	uint64_t s = (phys - TP_PHYS_BASE) / 4096;

	*ok = phys >= TP_PHYS_BASE && (phys & 4095) == 0 && s < tp->next && tp->virt[s];
	return (unsigned)s;
}

static inline void tp_free(void *cookie, void *virt, uint64_t phys)
{
	struct tpages *tp = cookie;
	bool ok;
	unsigned slot = tp_slot(tp, phys, &ok);

	if (!ok || tp->virt[slot] != virt) {
		fprintf(stderr, "tp_free of a page not allocated: %p 0x%llx\n", virt, (unsigned long long)phys);
		abort();
	}
	memset(virt, 0xa5, 4096);
	if (tp->recycle)
		tp->spare[slot] = virt;
	else
		free(virt);
	tp->virt[slot] = NULL;
	tp->free_slots[tp->nfree++] = slot;
	tp->live--;
	tp->frees++;
}

static inline void *tp_p2v(void *cookie, uint64_t phys)
{
	struct tpages *tp = cookie;
	bool ok;
	unsigned slot = tp_slot(tp, phys, &ok);

	return ok ? tp->virt[slot] : NULL;
}

static inline void tp_flush_line(void *cookie, const void *virt)
{
	struct tpages *tp = cookie;

	if (tp->nflog == tp->capflog) {
		tp->capflog = tp->capflog ? 2 * tp->capflog : 1024;
		tp->flog = realloc(tp->flog, tp->capflog * sizeof(*tp->flog));
		if (!tp->flog)
			abort();
	}
	tp->flog[tp->nflog++] = (struct tp_flush_rec){ virt, tp->flushes };
	tp->flushes++;
	if (tp->on_flush)
		tp->on_flush(tp, virt);
}

static inline void tp_flush_done(void *cookie)
{
	struct tpages *tp = cookie;

	tp->flush_dones++;
	tp->flushes_at_done = tp->flushes;
}

static inline void tp_init(struct tpages *tp, unsigned cap)
{
	memset(tp, 0, sizeof(*tp));
	tp->cap = cap;
	tp->virt = calloc(cap, sizeof(*tp->virt));
	tp->spare = calloc(cap, sizeof(*tp->spare));
	tp->free_slots = calloc(cap, sizeof(*tp->free_slots));
	if (!tp->virt || !tp->spare || !tp->free_slots)
		abort();
}

static inline void tp_fini(struct tpages *tp)
{
	for (unsigned i = 0; i < tp->next; i++) {
		free(tp->virt[i]);
		free(tp->spare[i]);
	}
	free(tp->virt);
	free(tp->spare);
	free(tp->free_slots);
	free(tp->flog);
	memset(tp, 0, sizeof(*tp));
}

static inline struct moat_pt_ops tp_ops(struct tpages *tp)
{
	struct moat_pt_ops ops = {
		.alloc = tp_alloc,
		.free = tp_free,
		.phys_to_virt = tp_p2v,
		.flush_line = tp_flush_line,
		.flush_done = tp_flush_done,
		.cookie = tp,
	};
	return ops;
}

static inline void tp_flush_reset(struct tpages *tp)
{
	tp->nflog = 0;
	tp->flushes = 0;
	tp->flush_dones = 0;
	tp->flushes_at_done = 0;
}

/* ---- configurations ---- */

struct t_cfg {
	enum moat_pt_format format;
	unsigned levels;
};

/* The width matrix: VT-d 3, 4, 5 levels; AMD 1 to 6. */
static const struct t_cfg t_matrix[] = {
	{ MOAT_PT_VTD_SL, 3 }, { MOAT_PT_VTD_SL, 4 }, { MOAT_PT_VTD_SL, 5 },
	{ MOAT_PT_AMD_V1, 1 }, { MOAT_PT_AMD_V1, 2 }, { MOAT_PT_AMD_V1, 3 },
	{ MOAT_PT_AMD_V1, 4 }, { MOAT_PT_AMD_V1, 5 }, { MOAT_PT_AMD_V1, 6 },
};
#define T_MATRIX_N (sizeof(t_matrix) / sizeof(t_matrix[0]))

static inline const char *t_fmt_name(enum moat_pt_format f)
{
	return f == MOAT_PT_VTD_SL ? "vtd" : "amd";
}

static inline unsigned t_iova_bits(unsigned levels)
{
	unsigned b = 12 + 9 * levels;
	return b > 64 ? 64 : b;
}

static inline uint64_t t_iova_last(unsigned levels)
{
	unsigned b = t_iova_bits(levels);
	return b == 64 ? ~0ull : (1ull << b) - 1;
}

/* Set up @pt on @tp (cap pages) with @sizes and @coherent; fails the test on error. */
static inline void t_setup(struct moat_pt *pt, struct tpages *tp, unsigned cap, enum moat_pt_format f,
			   unsigned levels, unsigned sizes, bool coherent)
{
	struct moat_pt_config cfg = { .format = f, .levels = levels, .page_sizes = sizes, .coherent = coherent };
	struct moat_pt_ops ops;

	tp_init(tp, cap);
	ops = tp_ops(tp);
	assert_int_equal(moat_pt_init(pt, &cfg, &ops), MOAT_OK);
}

static inline void t_teardown(struct moat_pt *pt, struct tpages *tp)
{
	moat_pt_destroy(pt);
	assert_int_equal(tp->live, 0);
	tp_fini(tp);
}

/* ---- raw access ---- */

/* The entry translating @iova, following links the spec's way; its level in *level. Returns 0 when
 * an empty entry ends the path. */
static inline uint64_t t_raw_leaf(const struct moat_pt *pt, struct tpages *tp, uint64_t iova, unsigned *level)
{
	const uint64_t *tbl = pt->root;

	for (unsigned l = pt->cfg.levels; l >= 1; l--) {
		uint64_t e = tbl[(iova >> (12 + 9 * (l - 1))) & 511];

		*level = l;
		if (!t_present(pt->cfg.format, e) || t_is_leaf(pt->cfg.format, l, e))
			return e;
		tbl = tp_p2v(tp, e & T_ADDR);
		if (!tbl)
			return e;
	}
	return 0;
}

/* Pointer to the entry at @level on the path of @iova (the table at that level must exist). */
static inline uint64_t *t_entry_ptr(const struct moat_pt *pt, struct tpages *tp, uint64_t iova,
				    unsigned level)
{
	uint64_t *tbl = pt->root;

	for (unsigned l = pt->cfg.levels; l > level; l--) {
		uint64_t e = tbl[(iova >> (12 + 9 * (l - 1))) & 511];
		tbl = tp_p2v(tp, e & T_ADDR);
		assert_non_null(tbl);
	}
	return &tbl[(iova >> (12 + 9 * (level - 1))) & 511];
}

/* ---- snapshots of the live tables ---- */

struct t_page {
	uint64_t phys;
	unsigned level;
	uint64_t e[512];
};

struct t_snap {
	struct t_page *pages;
	size_t n, cap;
	size_t bad;
};

static inline moat_status t_snap_table(void *ctx, uint64_t phys, const void *virt, unsigned level,
				       uint64_t iova)
{
	struct t_snap *s = ctx;

	(void)iova;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->pages = realloc(s->pages, s->cap * sizeof(*s->pages));
		if (!s->pages)
			abort();
	}
	s->pages[s->n].phys = phys;
	s->pages[s->n].level = level;
	memcpy(s->pages[s->n].e, virt, 4096);
	s->n++;
	return MOAT_OK;
}

static inline moat_status t_snap_bad(void *ctx, uint64_t iova, unsigned level, uint64_t raw)
{
	struct t_snap *s = ctx;

	(void)iova;
	(void)level;
	(void)raw;
	s->bad++;
	return MOAT_OK;
}

static inline int t_page_cmp(const void *a, const void *b)
{
	const struct t_page *x = a, *y = b;

	return x->phys < y->phys ? -1 : x->phys > y->phys;
}

/* Every live table page, sorted by physical address. */
static inline void t_snap_take(const struct moat_pt *pt, struct t_snap *s)
{
	const struct moat_pt_walk_ops w = { .table = t_snap_table, .bad_entry = t_snap_bad };

	memset(s, 0, sizeof(*s));
	assert_int_equal(moat_pt_walk(pt, &w, s), MOAT_OK);
	qsort(s->pages, s->n, sizeof(*s->pages), t_page_cmp);
}

static inline bool t_snap_equal(const struct t_snap *a, const struct t_snap *b)
{
	if (a->n != b->n || a->bad != b->bad)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->pages[i].phys != b->pages[i].phys || memcmp(a->pages[i].e, b->pages[i].e, 4096))
			return false;
	return true;
}

static inline const struct t_page *t_snap_find(const struct t_snap *s, uint64_t phys)
{
	struct t_page key;

	key.phys = phys;
	return bsearch(&key, s->pages, s->n, sizeof(*s->pages), t_page_cmp);
}

static inline void t_snap_free(struct t_snap *s)
{
	free(s->pages);
	memset(s, 0, sizeof(*s));
}

/* ---- leaves, as a walk reports them ---- */

struct t_leaf {
	uint64_t iova, phys, size;
	unsigned prot;
};

struct t_leaves {
	struct t_leaf *v;
	size_t n, cap;
	size_t tables, bad;
	size_t by_size[3];  /* 4K, 2M, 1G */
};

static inline moat_status t_leaves_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	struct t_leaves *l = ctx;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			abort();
	}
	l->v[l->n++] = (struct t_leaf){ iova, phys, size, prot };
	l->by_size[size == T_4K ? 0 : size == T_2M ? 1 : 2]++;
	return MOAT_OK;
}

static inline moat_status t_leaves_table(void *ctx, uint64_t phys, const void *virt, unsigned level,
					 uint64_t iova)
{
	struct t_leaves *l = ctx;

	(void)phys;
	(void)virt;
	(void)level;
	(void)iova;
	l->tables++;
	return MOAT_OK;
}

static inline moat_status t_leaves_bad(void *ctx, uint64_t iova, unsigned level, uint64_t raw)
{
	struct t_leaves *l = ctx;

	(void)iova;
	(void)level;
	(void)raw;
	l->bad++;
	return MOAT_OK;
}

static inline void t_leaves_take(const struct moat_pt *pt, struct t_leaves *l)
{
	const struct moat_pt_walk_ops w = {
		.table = t_leaves_table, .leaf = t_leaves_leaf, .bad_entry = t_leaves_bad,
	};

	memset(l, 0, sizeof(*l));
	assert_int_equal(moat_pt_walk(pt, &w, l), MOAT_OK);
}

static inline void t_leaves_free(struct t_leaves *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Translate @iova and check it maps to @phys with @prot through a leaf of @size. */
#define assert_translates(pt, iova, phys_, prot_, size_)                                                \
	do {                                                                                            \
		uint64_t tp_ph_ = 0, tp_sz_ = 0;                                                        \
		unsigned tp_pr_ = 0;                                                                    \
		assert_int_equal(moat_pt_translate((pt), (iova), &tp_ph_, &tp_pr_, &tp_sz_), MOAT_OK);   \
		assert_int_equal(tp_ph_, (phys_));                                                      \
		assert_int_equal(tp_pr_, (prot_));                                                      \
		assert_int_equal(tp_sz_, (size_));                                                      \
	} while (0)

#define assert_unmapped(pt, iova) \
	assert_int_equal(moat_pt_translate((pt), (iova), NULL, NULL, NULL), MOAT_ERR_NOT_FOUND)

#endif
