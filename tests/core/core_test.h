/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers of the core tests: a "null unit" that records what the core asks of it, system set-up,
 * interval sets (to compare the live tables with what a policy should have produced), and walks.
 */
#ifndef MOAT_CORE_TEST_H
#define MOAT_CORE_TEST_H

#include "test.h"

#include <stdbool.h>

#include <hosted.h>
#include <moat/internal/unit.h>
#include <moat/moat.h>

#include "hostile.h"

#ifndef MOAT_MIN
#define MOAT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MOAT_MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

#define K4 0x1000ull
#define M2 0x200000ull
#define G1 0x40000000ull
#define ALL_SIZES (MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M | MOAT_PT_PAGE_1G)

/* ---- the null unit ---- */

#define NU_MAX_DEVS 64
#define NU_LOG 64

struct nu_inval {
	uint32_t domain_id;
	uint64_t iova, size;
	bool tables_changed;
	uint64_t pages_freed;      /* hosted pages_freed when the call came */
};

struct null_unit {
	struct moat_unit unit;
	struct moat_unit_dev devs[NU_MAX_DEVS];
	unsigned ndev;
	unsigned attach_calls, detach_calls, inval_calls, flush_calls;
	unsigned inval_done;       /* invalidations that succeeded (what the hostile device sees) */
	struct nu_inval log[NU_LOG];
	moat_status fail_inval;    /* returned by invalidate when not MOAT_OK */
	moat_status fail_attach;
};

static inline struct null_unit *nu_of(struct moat_unit *u)
{
	return (struct null_unit *)u->priv;
}

static inline int nu_find(struct null_unit *nu, uint16_t rid)
{
	for (unsigned i = 0; i < nu->ndev; i++)
		if (nu->devs[i].rid == rid)
			return (int)i;
	return -1;
}

static inline moat_status nu_attach(struct moat_unit *u, uint16_t rid, const struct moat_domain *dom,
				    struct moat_diag *diag)
{
	struct null_unit *nu = nu_of(u);
	int i = nu_find(nu, rid);

	(void)diag;
	nu->attach_calls++;
	if (nu->fail_attach != MOAT_OK)
		return nu->fail_attach;
	if (i < 0) {
		if (nu->ndev == NU_MAX_DEVS)
			return MOAT_ERR_NO_SPACE;
		i = (int)nu->ndev++;
	}
	nu->devs[i] = (struct moat_unit_dev){ rid, dom->id, dom->pt.root_phys };
	return MOAT_OK;
}

static inline moat_status nu_detach(struct moat_unit *u, uint16_t rid, struct moat_diag *diag)
{
	struct null_unit *nu = nu_of(u);
	int i = nu_find(nu, rid);

	(void)diag;
	nu->detach_calls++;
	if (i < 0)
		return MOAT_ERR_NOT_FOUND;
	nu->devs[i] = nu->devs[--nu->ndev];
	return MOAT_OK;
}

static inline moat_status nu_lookup(struct moat_unit *u, uint16_t rid, struct moat_unit_dev *out)
{
	struct null_unit *nu = nu_of(u);
	int i = nu_find(nu, rid);

	if (i < 0)
		return MOAT_ERR_NOT_FOUND;
	*out = nu->devs[i];
	return MOAT_OK;
}

static inline moat_status nu_invalidate(struct moat_unit *u, const struct moat_domain *dom, uint64_t iova,
					uint64_t size, bool tables_changed, struct moat_diag *diag)
{
	struct null_unit *nu = nu_of(u);

	(void)diag;
	if (nu->inval_calls < NU_LOG)
		nu->log[nu->inval_calls] = (struct nu_inval){ dom->id, iova, size, tables_changed,
							      moat_hosted_stats().pages_freed };
	nu->inval_calls++;
	if (nu->fail_inval == MOAT_OK)
		nu->inval_done++;
	return nu->fail_inval;
}

static inline moat_status nu_flush_all(struct moat_unit *u, struct moat_diag *diag)
{
	(void)diag;
	nu_of(u)->flush_calls++;
	return MOAT_OK;
}

static inline moat_status nu_walk(struct moat_unit *u, moat_unit_dev_fn fn, void *ctx)
{
	struct null_unit *nu = nu_of(u);

	for (unsigned i = 0; i < nu->ndev; i++) {
		moat_status st = fn(ctx, &nu->devs[i]);

		if (st != MOAT_OK)
			return st;
	}
	return MOAT_OK;
}

static const struct moat_unit_ops nu_ops = {
	.attach = nu_attach,
	.detach = nu_detach,
	.lookup = nu_lookup,
	.invalidate = nu_invalidate,
	.flush_all = nu_flush_all,
	.walk_devices = nu_walk,
};

/* A null unit for every device of @segment (or for its description entry @desc_index >= 0). */
static inline void nu_init(struct null_unit *nu, uint16_t segment, int32_t desc_index)
{
	memset(nu, 0, sizeof(*nu));
	nu->unit.ops = &nu_ops;
	nu->unit.priv = nu;
	nu->unit.segment = segment;
	nu->unit.desc_index = desc_index;
	nu->unit.flags = desc_index < 0 ? MOAT_UNIT_F_ALL : 0;
}

/* The null unit as hardware for the hostile device (tests/support/hostile.h): a device translates
 * through the root the core gave attach(), in the system's format, until detach(). */
static inline bool nu_hostile_grants(struct moat_unit *u, hostile_grant_fn fn, void *ctx)
{
	struct null_unit *nu;

	if (u->ops != &nu_ops || !u->sys)
		return false;
	nu = nu_of(u);
	for (unsigned i = 0; i < nu->ndev && i < NU_MAX_DEVS; i++) {
		const struct hostile_grant g = { .rid = nu->devs[i].rid, .perm = MOAT_PT_READ | MOAT_PT_WRITE,
						 .root = nu->devs[i].root_phys, .format = u->sys->cfg.pt.format,
						 .levels = u->sys->cfg.pt.levels };

		fn(ctx, &g);
	}
	return true;
}

static inline uint64_t nu_hostile_epoch(struct moat_unit *u)
{
	return (uint64_t)nu_of(u)->inval_done + nu_of(u)->flush_calls;
}

static const struct hostile_unit_ops nu_hostile_ops = { nu_hostile_grants, nu_hostile_epoch };

/* ---- systems ---- */

static inline struct moat_system_config t_config(unsigned sizes)
{
	struct moat_system_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.pt.format = MOAT_PT_VTD_SL;
	cfg.pt.levels = 4;
	cfg.pt.page_sizes = sizes;
	cfg.pt.coherent = true;
	return cfg;
}

static inline struct moat_system *t_system(unsigned sizes)
{
	struct moat_system *sys = calloc(1, sizeof(*sys));
	struct moat_system_config cfg = t_config(sizes);

	assert_non_null(sys);
	assert_int_equal(moat_system_init(sys, &cfg), MOAT_OK);
	hostile_watch(sys, &nu_hostile_ops);
	return sys;
}

static inline void t_system_free(struct moat_system *sys)
{
	assert_int_equal(hostile_check(sys), 0);   /* what the hostile device left behind, if it is on */
	hostile_unwatch(sys);
	assert_int_equal(moat_system_fini(sys), MOAT_OK);
	free(sys);
}

/* ---- interval sets: sorted, disjoint, merged inclusive ranges ---- */

struct iv {
	uint64_t first, last;
};

struct ivset {
	struct iv *v;
	size_t n, cap;
};

static inline void ivs_add(struct ivset *s, uint64_t first, uint64_t last)
{
	if (s->n && s->v[s->n - 1].last != UINT64_MAX && s->v[s->n - 1].last + 1 == first) {
		s->v[s->n - 1].last = last;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	s->v[s->n++] = (struct iv){ first, last };
}

static inline int iv_cmp(const void *a, const void *b)
{
	const struct iv *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* Sort and merge overlapping or adjacent ranges. */
static inline void ivs_normalize(struct ivset *s)
{
	size_t o = 0;

	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(*s->v), iv_cmp);
	for (size_t i = 0; i < s->n; i++) {
		if (o && (s->v[o - 1].last == UINT64_MAX || s->v[i].first <= s->v[o - 1].last + 1)) {
			if (s->v[i].last > s->v[o - 1].last)
				s->v[o - 1].last = s->v[i].last;
		} else {
			s->v[o++] = s->v[i];
		}
	}
	s->n = o;
}

/* @a minus @b (both normalized) into @out (empty on entry). */
static inline void ivs_subtract(const struct ivset *a, const struct ivset *b, struct ivset *out)
{
	size_t j = 0;

	for (size_t i = 0; i < a->n; i++) {
		uint64_t c = a->v[i].first, l = a->v[i].last;
		bool done = false;

		while (j < b->n && b->v[j].last < c)
			j++;
		for (size_t k = j; k < b->n && b->v[k].first <= l && !done; k++) {
			if (b->v[k].first > c)
				ivs_add(out, c, b->v[k].first - 1);
			if (b->v[k].last >= l)
				done = true;
			else
				c = MOAT_MAX(c, b->v[k].last + 1);
		}
		if (!done)
			ivs_add(out, c, l);
	}
}

static inline bool ivs_contains(const struct ivset *s, uint64_t x)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].last < x)
			lo = mid + 1;
		else if (s->v[mid].first > x)
			hi = mid;
		else
			return true;
	}
	return false;
}

static inline uint64_t ivs_bytes(const struct ivset *s)
{
	uint64_t b = 0;

	for (size_t i = 0; i < s->n; i++)
		b += s->v[i].last - s->v[i].first + 1;
	return b;
}

static inline void ivs_free(struct ivset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- walks ---- */

struct t_walk {
	struct ivset mapped;       /* iova ranges (merged) */
	bool identity;             /* every leaf so far maps iova == phys */
	bool all_rw;
	uint64_t leaves, tables, bad, by_size[3];
};

static inline moat_status t_walk_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	struct t_walk *w = ctx;

	if (iova != phys)
		w->identity = false;
	if (prot != MOAT_PT_RW)
		w->all_rw = false;
	ivs_add(&w->mapped, iova, iova + (size - 1));
	w->leaves++;
	w->by_size[size == K4 ? 0 : size == M2 ? 1 : 2]++;
	return MOAT_OK;
}

static inline moat_status t_walk_table(void *ctx, uint64_t phys, const void *virt, unsigned level, uint64_t iova)
{
	struct t_walk *w = ctx;

	(void)phys;
	(void)virt;
	(void)level;
	(void)iova;
	w->tables++;
	return MOAT_OK;
}

static inline moat_status t_walk_bad(void *ctx, uint64_t iova, unsigned level, uint64_t raw)
{
	struct t_walk *w = ctx;

	(void)iova;
	(void)level;
	(void)raw;
	w->bad++;
	return MOAT_OK;
}

static inline void t_walk_take(const struct moat_domain *dom, struct t_walk *w)
{
	const struct moat_pt_walk_ops ops = { .table = t_walk_table, .leaf = t_walk_leaf, .bad_entry = t_walk_bad };

	memset(w, 0, sizeof(*w));
	w->identity = true;
	w->all_rw = true;
	assert_int_equal(moat_pt_walk(&dom->pt, &ops, w), MOAT_OK);
}

static inline void t_walk_free(struct t_walk *w)
{
	ivs_free(&w->mapped);
}

/* Zero violations, printing them otherwise. */
static inline void assert_audit_clean(struct moat_system *sys)
{
	struct moat_audit_report *r = calloc(1, sizeof(*r));
	uint64_t n;

	assert_non_null(r);
	n = moat_audit(sys, r);
	for (unsigned i = 0; i < r->count; i++) {
		char line[256];

		moat_audit_format(&r->v[i], line, sizeof(line));
		fprintf(stderr, "violation: %s\n", line);
	}
	assert_int_equal(r->status, MOAT_OK);
	assert_int_equal(n, 0);
	free(r);
	/* and the hardware's view: nothing protected within the hostile device's reach */
	assert_int_equal(hostile_check(sys), 0);
}

#endif
