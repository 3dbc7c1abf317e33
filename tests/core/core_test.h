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
#define NU_MAX_PLANTED 8

struct nu_inval {
	uint32_t domain_id;
	uint64_t iova, size;
	bool tables_changed;
	uint64_t pages_freed;      /* hosted pages_freed when the call came */
	uint64_t pool_count;       /* trusted pages the system's pool held then (with log_pool) */
};

#define NU_IRQ_RECS 16

struct null_unit {
	struct moat_unit unit;
	struct moat_unit_dev devs[NU_MAX_DEVS];
	unsigned ndev;
	unsigned attach_calls, detach_calls, inval_calls, flush_calls;
	unsigned inval_done;       /* invalidations that succeeded (what the hostile device sees) */
	struct nu_inval log[NU_LOG];
	moat_status fail_inval;    /* returned by invalidate when not MOAT_OK */
	moat_status fail_attach;
	/* log the pool's size too: only for callers that invalidate with the system lock held (the
	 * DMA layer's unmaps do not) */
	bool log_pool;
	/* The hardware view beyond devs[] (each of which reads as a translated, attached entry with the
	 * system's levels): the state (nu_init: translation on, as expected, no registers), and tables
	 * and entries a test plants. */
	struct moat_unit_state state;
	struct moat_unit_table tables[NU_MAX_PLANTED];
	unsigned ntables;
	struct moat_unit_entry planted[NU_MAX_PLANTED];
	unsigned nplanted;
	/* interrupt remapping: indexes handed out in order, records walk_irqs() reports */
	unsigned irq_alloc_calls, irq_set_calls, irq_free_calls, fault_irq_calls;
	uint32_t irq_next;
	moat_status fail_irq;      /* returned by irq_alloc, irq_set, irq_free when not MOAT_OK */
	struct moat_irq last_irq;  /* as the core passed it to the last irq_alloc */
	struct moat_irq_dest last_dest;
	const struct moat_irq_dest *fault_dest;
	struct moat_unit_irq irq_recs[NU_IRQ_RECS];
	unsigned nirq_recs;
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
							      moat_hosted_stats().pages_freed,
							      nu->log_pool ? u->sys->pool_count : 0 };
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

static inline moat_status nu_view(struct moat_unit *u, const struct moat_unit_view_fns *fns, void *ctx)
{
	struct null_unit *nu = nu_of(u);
	moat_status st = fns->state(ctx, &nu->state);

	for (unsigned i = 0; i < nu->ntables && st == MOAT_OK; i++)
		st = fns->table(ctx, &nu->tables[i]);
	for (unsigned i = 0; i < nu->ndev && st == MOAT_OK; i++) {
		const struct moat_unit_entry e = {
			.rid = nu->devs[i].rid,
			.kind = MOAT_UNIT_TRANSLATED,
			.flags = MOAT_UNIT_E_ATTACHED,
			.domain_id = nu->devs[i].domain_id,
			.root_phys = nu->devs[i].root_phys,
			.levels = u->sys->cfg.pt.levels,
		};

		st = fns->entry(ctx, &e);
	}
	for (unsigned i = 0; i < nu->nplanted && st == MOAT_OK; i++)
		st = fns->entry(ctx, &nu->planted[i]);
	return st;
}

/* Interrupt remapping, trivially: index i gets data i; an IOAPIC's entry keeps trigger and polarity
 * where the redirection entry has them (bits 15 and 13). */
static inline moat_status nu_irq_alloc(struct moat_unit *u, struct moat_irq *irq, const struct moat_irq_dest *dest,
				       struct moat_diag *diag)
{
	struct null_unit *nu = nu_of(u);

	(void)diag;
	nu->irq_alloc_calls++;
	nu->last_irq = *irq;
	nu->last_dest = *dest;
	if (nu->fail_irq != MOAT_OK)
		return nu->fail_irq;
	irq->index = nu->irq_next;
	nu->irq_next += irq->count;
	irq->msi.address = 0xfee00000u;
	irq->msi.data = irq->index;
	if (irq->src.kind == MOAT_IRQ_IOAPIC)
		irq->ioapic_rte = irq->index | ((uint64_t)dest->level << 15) | ((uint64_t)dest->active_low << 13);
	return MOAT_OK;
}

static inline moat_status nu_irq_set(struct moat_unit *u, struct moat_irq *irq, unsigned sub,
				     const struct moat_irq_dest *dest, struct moat_diag *diag)
{
	struct null_unit *nu = nu_of(u);

	(void)irq;
	(void)sub;
	(void)diag;
	nu->irq_set_calls++;
	nu->last_dest = *dest;
	return nu->fail_irq;
}

static inline moat_status nu_irq_free(struct moat_unit *u, struct moat_irq *irq, struct moat_diag *diag)
{
	(void)irq;
	(void)diag;
	nu_of(u)->irq_free_calls++;
	return nu_of(u)->fail_irq;
}

static inline moat_status nu_walk_irqs(struct moat_unit *u, unsigned what, moat_unit_irq_fn fn, void *ctx)
{
	struct null_unit *nu = nu_of(u);

	for (unsigned i = 0; i < nu->nirq_recs; i++) {
		bool page = nu->irq_recs[i].kind == MOAT_UNIT_IRQ_PAGE;
		moat_status st;

		if (!(what & (page ? MOAT_UNIT_IRQ_WALK_PAGES : MOAT_UNIT_IRQ_WALK_ENTRIES)))
			continue;
		st = fn(ctx, &nu->irq_recs[i]);
		if (st != MOAT_OK)
			return st;
	}
	return MOAT_OK;
}

static inline moat_status nu_fault_irq(struct moat_unit *u, const struct moat_irq_dest *dest,
				       struct moat_fault_irq_msi *msi, struct moat_diag *diag)
{
	struct null_unit *nu = nu_of(u);

	(void)diag;
	nu->fault_irq_calls++;
	nu->fault_dest = dest;
	if (dest && (u->flags & MOAT_UNIT_F_FAULT_MSI)) {
		msi->segment = u->segment;
		msi->rid = 0x0008;
		msi->msg.address = 0xfee00000u | ((uint64_t)(dest->apic_id & 0xff) << 12);
		msi->msg.data = dest->vector;
	}
	return MOAT_OK;
}

static const struct moat_unit_ops nu_ops = {
	.attach = nu_attach,
	.detach = nu_detach,
	.lookup = nu_lookup,
	.invalidate = nu_invalidate,
	.flush_all = nu_flush_all,
	.view = nu_view,
	.irq_alloc = nu_irq_alloc,
	.irq_set = nu_irq_set,
	.irq_free = nu_irq_free,
	.walk_irqs = nu_walk_irqs,
	.fault_irq = nu_fault_irq,
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
	nu->state.translating = true;
	nu->state.expected_on = true;
}

/* ---- the page-table configuration under test ----
 *
 * The core and DMA tests run once per format and depth (tests/CMakeLists.txt registers each one as
 * area.test@CFG): the environment variable MOAT_TEST_PT names it, "vtd:3" to "vtd:5" or "amd:1" to
 * "amd:6"; unset, the tests run on 4-level VT-d. Tests adapt to the configuration's input width and
 * leaf sizes; one that cannot apply at all says why in a cmocka skip (t_skip()).
 */

struct t_pt {
	enum moat_pt_format format;
	unsigned levels;
	char name[8];              /* "vtd4", "amd1", ... */
};

static inline struct t_pt t_pt(void)
{
	const char *e = getenv("MOAT_TEST_PT");
	struct t_pt p = { MOAT_PT_VTD_SL, 4, "vtd4" };
	unsigned levels = 0;
	char fmt[4] = "";

	if (e && *e) {
		if (sscanf(e, "%3[a-z]:%u", fmt, &levels) != 2 ||
		    !((!strcmp(fmt, "vtd") && levels >= 3 && levels <= 5) ||
		      (!strcmp(fmt, "amd") && levels >= 1 && levels <= 6))) {
			fprintf(stderr, "MOAT_TEST_PT=%s: expected vtd:3..5 or amd:1..6\n", e);
			exit(2);
		}
		p.format = !strcmp(fmt, "vtd") ? MOAT_PT_VTD_SL : MOAT_PT_AMD_V1;
		p.levels = levels;
		snprintf(p.name, sizeof(p.name), "%s%u", fmt, levels);
	}
	return p;
}

/* The configuration the tests were written on first, which runs the heavy tests at full length. */
static inline bool t_pt_default(void)
{
	const struct t_pt p = t_pt();

	return p.format == MOAT_PT_VTD_SL && p.levels == 4;
}

static inline unsigned t_levels(void)
{
	return t_pt().levels;
}

/* Input-address width of a domain: 12 + 9 bits a level, at most 64. */
static inline unsigned t_iova_bits(void)
{
	return MOAT_MIN(64u, 12u + 9u * t_levels());
}

/* The highest IOVA a domain translates. */
static inline uint64_t t_iova_last(void)
{
	return t_iova_bits() == 64 ? UINT64_MAX : (1ull << t_iova_bits()) - 1;
}

/* The IOVA space's size, saturated at 2^63 (a 64-bit space). */
static inline uint64_t t_iova_span(void)
{
	return t_iova_bits() >= 64 ? 1ull << 63 : 1ull << t_iova_bits();
}

/* Whether a table of this configuration can hold leaves of @size (4 KiB, 2 MiB, 1 GiB), when the
 * system allows every size: a leaf lives at a level below the root or at it (AMD 1 level: 4 KiB
 * only; 2 levels: no 1 GiB). */
static inline bool t_leaf_ok(uint64_t size)
{
	const unsigned need = size == K4 ? 1 : size == M2 ? 2 : 3;

	return t_levels() >= need;
}

/* The largest leaf the configuration holds. */
static inline uint64_t t_leaf_max(void)
{
	return t_leaf_ok(G1) ? G1 : t_leaf_ok(M2) ? M2 : K4;
}

/* Tables on the path of a single 4 KiB leaf in an empty domain, the root included. */
static inline unsigned t_path_tables(void)
{
	return t_levels();
}

/* A cmocka skip that says why the test cannot apply to this configuration. */
#define t_skip(...)                                                                                \
	do {                                                                                       \
		fprintf(stderr, "skipped on %s: ", t_pt().name);                                   \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fprintf(stderr, "\n");                                                             \
		skip();                                                                            \
	} while (0)
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
	const struct t_pt p = t_pt();
	struct moat_system_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.pt.format = p.format;
	cfg.pt.levels = p.levels;
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

/* ---- running out of memory ---- */

/*
 * Pages taken from a system so that its pool of trusted pages is empty and the next page an
 * operation needs comes from the platform (tests of running out of memory). t_pool_take_all()
 * takes them with the platform failing; t_pool_give_back() frees them.
 */
#define T_TAKEN_MAX 4096
struct t_taken {
	void *virt[T_TAKEN_MAX];
	uint64_t phys[T_TAKEN_MAX];
	unsigned n;
};

static inline struct t_taken *t_pool_take_all(struct moat_system *sys)
{
	struct t_taken *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	moat_hosted_fail_alloc_at(1, 1);
	while (t->n < T_TAKEN_MAX) {
		void *v = moat_page_alloc(sys, &t->phys[t->n]);

		if (!v)
			break;
		t->virt[t->n++] = v;
	}
	moat_hosted_fail_alloc_at(0, 0);
	assert_true(t->n < T_TAKEN_MAX);
	assert_int_equal(sys->pool_count, 0);
	return t;
}

static inline void t_pool_give_back(struct moat_system *sys, struct t_taken *t)
{
	while (t->n) {
		t->n--;
		moat_page_free(sys, t->virt[t->n], t->phys[t->n]);
	}
	free(t);
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
