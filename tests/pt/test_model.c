/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Model-based randomized test: over a dozen configurations, more than a million random map and
 * unmap operations are checked against a reference model (an interval map IOVA -> phys, prot).
 * After every operation the status is compared with the model's prediction and a few addresses
 * around the operation are translated; every few thousand operations a full walk of the live tables
 * is compared with the whole model, and the table-page accounting with the allocator's.
 *
 * Most operations hit a small "hot" window (16 MiB across a 1 GiB boundary) with many collisions;
 * some map and unmap 2 MiB and 1 GiB aligned ranges over a larger window, so superpages are made,
 * split by small unmaps, and torn down. Seeds are fixed; a failure prints the seed, the
 * configuration and the operation index.
 */
#include "pt_test.h"

/* ---- the reference model ---- */

struct iv {
	uint64_t s, e;  /* inclusive */
	uint64_t phys;
	unsigned prot;
};

struct model {
	struct iv *v;
	size_t n, cap;
};

/* Index of the first interval ending at or after @a. */
static size_t m_lower(const struct model *m, uint64_t a)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->v[mid].e < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t m_mapped(const struct model *m, uint64_t s, uint64_t e)
{
	uint64_t bytes = 0;

	for (size_t i = m_lower(m, s); i < m->n && m->v[i].s <= e; i++)
		bytes += (m->v[i].e < e ? m->v[i].e : e) - (m->v[i].s > s ? m->v[i].s : s) + 1;
	return bytes;
}

static const struct iv *m_find(const struct model *m, uint64_t a)
{
	size_t i = m_lower(m, a);

	return i < m->n && m->v[i].s <= a ? &m->v[i] : NULL;
}

static void m_reserve(struct model *m, size_t extra)
{
	if (m->n + extra > m->cap) {
		m->cap = (m->n + extra) * 2;
		m->v = realloc(m->v, m->cap * sizeof(*m->v));
		if (!m->v)
			abort();
	}
}

static void m_insert(struct model *m, uint64_t s, uint64_t e, uint64_t phys, unsigned prot)
{
	size_t i = m_lower(m, s);

	m_reserve(m, 1);
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = (struct iv){ s, e, phys, prot };
	m->n++;
}

static void m_remove(struct model *m, uint64_t s, uint64_t e)
{
	size_t i = m_lower(m, s), j;

	if (i == m->n || m->v[i].s > e)
		return;
	m_reserve(m, 1);
	/* An interval sticking out on both sides becomes two. */
	if (m->v[i].s < s && m->v[i].e > e) {
		struct iv right = m->v[i];

		right.phys += e + 1 - right.s;
		right.s = e + 1;
		m->v[i].e = s - 1;
		memmove(&m->v[i + 2], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
		m->v[i + 1] = right;
		m->n++;
		return;
	}
	if (m->v[i].s < s) {
		m->v[i].e = s - 1;
		i++;
	}
	for (j = i; j < m->n && m->v[j].e <= e; j++)
		;
	if (j < m->n && m->v[j].s <= e) {
		m->v[j].phys += e + 1 - m->v[j].s;
		m->v[j].s = e + 1;
	}
	memmove(&m->v[i], &m->v[j], (m->n - j) * sizeof(*m->v));
	m->n -= j - i;
}

/* ---- runs: maximal stretches of contiguous IOVA and phys with one prot ---- */

struct runs {
	struct iv *v;
	size_t n, cap;
};

static void runs_add(struct runs *r, uint64_t s, uint64_t e, uint64_t phys, unsigned prot)
{
	if (r->n) {
		struct iv *l = &r->v[r->n - 1];

		if (l->e + 1 == s && l->prot == prot && l->phys + (l->e - l->s) + 1 == phys) {
			l->e = e;
			return;
		}
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		r->v = realloc(r->v, r->cap * sizeof(*r->v));
		if (!r->v)
			abort();
	}
	r->v[r->n++] = (struct iv){ s, e, phys, prot };
}

struct walk_ctx {
	struct runs runs;
	uint64_t by_size[3];
	uint64_t tables, bad, empty_tables, bad_sizes;
	unsigned page_sizes;
	uint64_t root_phys;
};

static moat_status w_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	struct walk_ctx *w = ctx;
	unsigned bit = size == T_4K ? MOAT_PT_PAGE_4K :
		       size == T_2M ? MOAT_PT_PAGE_2M :
		       size == T_1G ? MOAT_PT_PAGE_1G : 0;

	if (!(bit & w->page_sizes))
		w->bad_sizes++;
	w->by_size[size == T_4K ? 0 : size == T_2M ? 1 : 2]++;
	runs_add(&w->runs, iova, iova + size - 1, phys, prot);
	return MOAT_OK;
}

static moat_status w_table(void *ctx, uint64_t phys, const void *virt, unsigned level, uint64_t iova)
{
	struct walk_ctx *w = ctx;
	const uint64_t *e = virt;
	uint64_t any = 0;

	(void)level;
	(void)iova;
	for (unsigned i = 0; i < 512; i++)
		any |= e[i];
	if (!any && phys != w->root_phys)
		w->empty_tables++;
	w->tables++;
	return MOAT_OK;
}

static moat_status w_bad(void *ctx, uint64_t iova, unsigned level, uint64_t raw)
{
	struct walk_ctx *w = ctx;

	(void)iova;
	(void)level;
	(void)raw;
	w->bad++;
	return MOAT_OK;
}

/* ---- the run ---- */

struct mcfg {
	enum moat_pt_format format;
	unsigned levels;
	unsigned sizes;
	uint64_t base;      /* window */
	uint64_t size;
	unsigned ops;
	uint64_t seed;
};

struct run {
	const struct mcfg *c;
	struct moat_pt pt;
	struct tpages tp;
	struct model m;
	uint64_t rng;
	unsigned op;
	uint64_t hot_base, hot_size;
	/* what the run exercised */
	uint64_t maps_ok, maps_overlap, unmaps_ok, unmaps_not_found, splits, leaves_2m, leaves_1g;
	char what[160];
};

static uint64_t rnd(struct run *r)
{
	/* xorshift64* */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_below(struct run *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

#define CHECK(r, cond)                                                                                   \
	do {                                                                                             \
		if (!(cond)) {                                                                           \
			fprintf(stderr, "model test: seed %llu, %s %u levels sizes 0x%x, op %u (%s): %s\n", \
				(unsigned long long)(r)->c->seed, t_fmt_name((r)->c->format), (r)->c->levels, \
				(r)->c->sizes, (r)->op, (r)->what, #cond);                               \
			fail();                                                                          \
		}                                                                                        \
	} while (0)

static void probe(struct run *r, uint64_t a)
{
	const struct iv *iv;
	uint64_t phys = 0, sz = 0;
	unsigned prot = 0;
	moat_status st;

	if (a < r->c->base || a - r->c->base >= r->c->size)
		return;
	iv = m_find(&r->m, a);
	st = moat_pt_translate(&r->pt, a, &phys, &prot, &sz);
	if (!iv) {
		CHECK(r, st == MOAT_ERR_NOT_FOUND);
		return;
	}
	CHECK(r, st == MOAT_OK);
	CHECK(r, phys == iv->phys + (a - iv->s));
	CHECK(r, prot == iv->prot);
	CHECK(r, (sz == T_4K && (r->c->sizes & MOAT_PT_PAGE_4K)) ||
			 (sz == T_2M && (r->c->sizes & MOAT_PT_PAGE_2M)) ||
			 (sz == T_1G && (r->c->sizes & MOAT_PT_PAGE_1G)));
	if (sz > T_4K) {
		/* A superpage maps its whole span contiguously. */
		uint64_t ls = a & ~(sz - 1), le = ls + sz - 1;
		const struct iv *a0 = m_find(&r->m, ls), *a1 = m_find(&r->m, le);

		CHECK(r, a0 && a1);
		CHECK(r, a0->phys + (ls - a0->s) == phys - (a - ls));
		CHECK(r, a1->phys + (le - a1->s) == phys - (a - ls) + sz - 1);
	}
}

static void full_check(struct run *r)
{
	const struct moat_pt_walk_ops w = { .table = w_table, .leaf = w_leaf, .bad_entry = w_bad };
	struct walk_ctx ctx = { .page_sizes = r->c->sizes, .root_phys = r->pt.root_phys };
	struct runs model_runs = { 0 };

	CHECK(r, moat_pt_walk(&r->pt, &w, &ctx) == MOAT_OK);
	for (size_t i = 0; i < r->m.n; i++)
		runs_add(&model_runs, r->m.v[i].s, r->m.v[i].e, r->m.v[i].phys, r->m.v[i].prot);
	CHECK(r, ctx.bad == 0);
	CHECK(r, ctx.bad_sizes == 0);
	CHECK(r, ctx.empty_tables == 0);
	CHECK(r, ctx.tables == moat_pt_table_pages(&r->pt));
	CHECK(r, r->tp.live == moat_pt_table_pages(&r->pt));
	CHECK(r, ctx.runs.n == model_runs.n);
	r->leaves_2m += ctx.by_size[1];
	r->leaves_1g += ctx.by_size[2];
	for (size_t i = 0; i < model_runs.n; i++) {
		CHECK(r, ctx.runs.v[i].s == model_runs.v[i].s);
		CHECK(r, ctx.runs.v[i].e == model_runs.v[i].e);
		CHECK(r, ctx.runs.v[i].phys == model_runs.v[i].phys);
		CHECK(r, ctx.runs.v[i].prot == model_runs.v[i].prot);
	}
	free(ctx.runs.v);
	free(model_runs.v);
}

/* Physical address for a map at @iova: the same offset within 1 GiB, 2 MiB, or neither. */
static uint64_t pick_phys(struct run *r, uint64_t iova, bool aligned)
{
	uint64_t delta = 0x3c0000000ull * (1 + rnd_below(r, 3));  /* 1 GiB aligned */
	unsigned k = (unsigned)rnd_below(r, 4);

	if (!aligned && k == 2)
		delta += T_2M * (1 + rnd_below(r, 511));
	else if (!aligned && k == 3)
		delta += T_4K * (1 + rnd_below(r, 4095));
	return (iova + delta) & 0xffffffffffffull;
}

static void do_map(struct run *r, uint64_t iova, uint64_t size, bool aligned)
{
	const uint64_t e = iova + size - 1;
	const uint64_t phys = pick_phys(r, iova, aligned);
	const unsigned prot = 1 + (unsigned)rnd_below(r, 3);
	const bool overlap = m_mapped(&r->m, iova, e) != 0;
	moat_status st;

	snprintf(r->what, sizeof(r->what), "map 0x%llx+0x%llx -> 0x%llx prot %u", (unsigned long long)iova,
		 (unsigned long long)size, (unsigned long long)phys, prot);
	st = moat_pt_map(&r->pt, iova, phys, size, prot);
	CHECK(r, st == (overlap ? MOAT_ERR_OVERLAP : MOAT_OK));
	r->maps_ok += !overlap;
	r->maps_overlap += overlap;
	if (!overlap)
		m_insert(&r->m, iova, e, phys, prot);
}

static void do_unmap(struct run *r, uint64_t iova, uint64_t size, bool strict)
{
	const uint64_t e = iova + size - 1, present = m_mapped(&r->m, iova, e);
	struct moat_pt_gather g;
	uint64_t unmapped = ~0ull;
	const uint64_t pages_before = moat_pt_table_pages(&r->pt);
	moat_status st;

	snprintf(r->what, sizeof(r->what), "%s 0x%llx+0x%llx", strict ? "unmap" : "unmap_present",
		 (unsigned long long)iova, (unsigned long long)size);
	moat_pt_gather_init(&g);
	if (strict) {
		st = moat_pt_unmap(&r->pt, iova, size, &g);
		CHECK(r, st == (present == size ? MOAT_OK : MOAT_ERR_NOT_FOUND));
		CHECK(r, g.unmapped == (st == MOAT_OK ? size : 0));
	} else {
		st = moat_pt_unmap_present(&r->pt, iova, size, &g, &unmapped);
		CHECK(r, st == MOAT_OK);
		CHECK(r, unmapped == present);
		CHECK(r, g.unmapped == present);
	}
	r->unmaps_ok += st == MOAT_OK;
	r->unmaps_not_found += st == MOAT_ERR_NOT_FOUND;
	r->splits += moat_pt_table_pages(&r->pt) + g.freed_pages > pages_before;
	if (g.unmapped) {
		CHECK(r, g.iova_first == iova && g.iova_last == e);
		m_remove(&r->m, iova, e);
	}
	CHECK(r, r->tp.live == moat_pt_table_pages(&r->pt) + g.freed_pages);
	moat_pt_gather_release(&r->pt, &g);
}

static void one_op(struct run *r)
{
	const unsigned k = (unsigned)rnd_below(r, 1000);
	const bool big_ok = r->c->sizes != MOAT_PT_PAGE_4K;
	uint64_t iova, size, npages;

	if (k < 880) {
		/* Small, in the hot window: mostly a few pages, sometimes across 2 MiB boundaries. */
		npages = rnd_below(r, 16) == 0 ? 1 + rnd_below(r, 1100) : 1 + rnd_below(r, 48);
		npages = npages > r->hot_size / T_4K ? r->hot_size / T_4K : npages;
		iova = r->hot_base + T_4K * rnd_below(r, r->hot_size / T_4K - npages + 1);
		size = npages * T_4K;
		if (k < 440)
			do_map(r, iova, size, false);
		else
			do_unmap(r, iova, size, k < 660);
	} else if (k < 970 || !big_ok) {
		/* 2 MiB aligned runs in the hot window, sometimes ragged by a page at either end. */
		uint64_t blocks = r->hot_size / T_2M, n = 1 + rnd_below(r, blocks < 3 ? blocks : 3);

		if (blocks == 0)
			return;
		iova = r->hot_base + T_2M * rnd_below(r, blocks - n + 1);
		size = n * T_2M;
		if (rnd_below(r, 4) == 0 && iova > r->hot_base) {
			iova -= T_4K;
			size += T_4K;
		}
		if (k < 940)
			do_map(r, iova, size, rnd_below(r, 4) != 0);
		else
			do_unmap(r, iova, size, k < 950);
	} else {
		/* Large: 1 GiB aligned in the whole window (at most 1 GiB + 2 MiB). */
		uint64_t gbs = r->c->size / T_1G;

		if (gbs == 0) {
			iova = r->c->base;
			size = r->c->size;
		} else {
			iova = r->c->base + T_1G * rnd_below(r, gbs);
			size = T_1G;
			if (iova + T_1G + T_2M - r->c->base <= r->c->size && rnd_below(r, 2))
				size += T_2M;
		}
		if (k < 985)
			do_map(r, iova, size, rnd_below(r, 8) != 0);
		else
			do_unmap(r, iova, size, k < 990);
	}
	probe(r, iova - T_4K);
	probe(r, iova);
	probe(r, iova + T_4K * rnd_below(r, size / T_4K) + rnd_below(r, T_4K));
	probe(r, iova + size - 1);
	probe(r, iova + size);
}

static void run_config(const struct mcfg *c)
{
	struct run r;
	struct moat_pt_gather g;
	uint64_t unmapped;

	memset(&r, 0, sizeof(r));
	r.c = c;
	r.rng = c->seed * 0x9e3779b97f4a7c15ull + 1;
	/* The hot window: 16 MiB around the window's middle (a 1 GiB boundary for 4 GiB windows). */
	r.hot_size = c->size < (16ull << 20) ? c->size : 16ull << 20;
	r.hot_base = c->base + c->size / 2 - r.hot_size / 2;
	t_setup(&r.pt, &r.tp, 1 << 16, c->format, c->levels, c->sizes, true);
	r.tp.recycle = true;

	for (r.op = 0; r.op < c->ops; r.op++) {
		one_op(&r);
		if (r.op % 4096 == 4095)
			full_check(&r);
	}
	full_check(&r);
	fprintf(stderr,
		"%s %u levels sizes 0x%x: %u ops; maps %llu ok, %llu overlap; unmaps %llu ok, %llu not found, "
		"%llu splitting; superpages seen in walks: %llu 2M, %llu 1G\n",
		t_fmt_name(c->format), c->levels, c->sizes, c->ops, (unsigned long long)r.maps_ok,
		(unsigned long long)r.maps_overlap, (unsigned long long)r.unmaps_ok,
		(unsigned long long)r.unmaps_not_found, (unsigned long long)r.splits,
		(unsigned long long)r.leaves_2m, (unsigned long long)r.leaves_1g);
	/* The run must have exercised what it is for. */
	CHECK(&r, r.maps_ok > c->ops / 20 && r.maps_overlap > c->ops / 20);
	CHECK(&r, r.unmaps_ok > c->ops / 20 && r.unmaps_not_found > c->ops / 20);
	if (r.pt.leaf_levels & (1u << 2))
		CHECK(&r, r.leaves_2m > 0 && r.splits > 0);
	if (r.pt.leaf_levels & (1u << 3))
		CHECK(&r, r.leaves_1g > 0);

	snprintf(r.what, sizeof(r.what), "final unmap of the window");
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap_present(&r.pt, c->base, c->size, &g, &unmapped), MOAT_OK);
	CHECK(&r, unmapped == m_mapped(&r.m, c->base, c->base + c->size - 1));
	CHECK(&r, moat_pt_table_pages(&r.pt) == 1);
	moat_pt_gather_release(&r.pt, &g);
	CHECK(&r, r.tp.live == 1);
	t_teardown(&r.pt, &r.tp);
	free(r.m.v);
}

#define G4 (4ull << 30)
#define ALL T_ALL_SIZES
#define S4K2M (MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M)

static const struct mcfg configs[] = {
	/* VT-d: window at the top of the 39-bit space, in the middle of 48 bits, at the top of 57. */
	{ MOAT_PT_VTD_SL, 3, ALL, (1ull << 39) - G4, G4, 100000, 1 },
	{ MOAT_PT_VTD_SL, 4, ALL, (1ull << 47) - G4 / 2, G4, 100000, 2 },
	{ MOAT_PT_VTD_SL, 4, S4K2M, 0, G4, 80000, 3 },
	{ MOAT_PT_VTD_SL, 5, ALL, (1ull << 57) - G4, G4, 100000, 4 },
	{ MOAT_PT_VTD_SL, 3, MOAT_PT_PAGE_4K, 1ull << 38, G4, 60000, 5 },
	/* AMD: the whole space for 1 and 2 levels; 6 levels at the very top of 2^64. */
	{ MOAT_PT_AMD_V1, 1, MOAT_PT_PAGE_4K, 0, T_2M, 60000, 6 },
	{ MOAT_PT_AMD_V1, 2, ALL, 0, T_1G, 100000, 7 },
	{ MOAT_PT_AMD_V1, 3, ALL, 0, G4, 100000, 8 },
	{ MOAT_PT_AMD_V1, 4, S4K2M, (1ull << 48) - G4, G4, 80000, 9 },
	{ MOAT_PT_AMD_V1, 5, ALL, (1ull << 56) - G4 / 2, G4, 100000, 10 },
	{ MOAT_PT_AMD_V1, 6, ALL, 0ull - G4, G4, 120000, 11 },
};

static void random_operations_match_the_model(void **state)
{
	unsigned long total = 0;

	(void)state;
	for (unsigned i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		run_config(&configs[i]);
		total += configs[i].ops;
	}
	assert_true(total >= 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_operations_match_the_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
