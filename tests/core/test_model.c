/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Model-based randomized test: a million random maps, unmaps (whole or part of a mapping, or
 * ranges with holes), protections added and removed, against a plain reference model (an interval
 * list per domain, a list of protected ranges, the host's RAM). Every operation's status is
 * predicted by the model; random addresses are translated after each one; full walks are compared
 * with the model and the auditor is run periodically. Fixed seeds; a failure prints the seed, the
 * operation index and the operation.
 *
 * On every page-table configuration: IOVAs come from [0, 64 GiB) or the whole space of a narrower
 * one (sizes that do not fit it are not drawn), the host's RAM is what it can reach; the default
 * configuration (4-level VT-d) runs the million operations, the others a fifth of them each.
 */
#include "core_test.h"

#define SEEDS 4
#define OPS_PER_SEED 250000u
#define OPS_PER_SEED_OTHER (OPS_PER_SEED / 5)   /* configurations other than the default */
#define WINDOW (64ull << 30)          /* physical addresses used: [0, 64 GiB); IOVAs too when they fit */
#define NDOM 3
#define MAX_IV 64
#define MAX_PROT 48
#define COMPARE_EVERY 10000u
#define AUDIT_EVERY 50000u

struct miv {
	uint64_t iova, phys, size;
	unsigned prot;
};

struct mdom {
	struct moat_domain d;
	struct miv v[MAX_IV + 8];
	unsigned n;
};

struct mprot {
	uint64_t first, last;    /* rounded out, inclusive */
	uint64_t base, size;     /* as given */
};

struct model {
	uint64_t seed, op, rng;
	char what[160];
	struct moat_system *sys;
	struct mdom dom[NDOM];
	struct moat_domain host;
	struct ivset ram;        /* host RAM */
	struct ivset gone;       /* ever protected: punched out of the host domain for good */
	struct mprot prot[MAX_PROT];
	unsigned nprot;
};

static struct model M;

/* IOVAs used: [0, IW). */
static uint64_t IW;

#define CHECK(c)                                                                                           \
	do {                                                                                               \
		if (!(c)) {                                                                                \
			fprintf(stderr, "model: seed %llu op %llu (%s): check failed: %s\n",               \
				(unsigned long long)M.seed, (unsigned long long)M.op, M.what, #c);        \
			fail();                                                                            \
		}                                                                                          \
	} while (0)

static uint64_t rnd(void)
{
	uint64_t z = (M.rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* ---- model queries ---- */

static bool overlaps(uint64_t a, uint64_t asz, uint64_t b, uint64_t bsz)
{
	return a < b + bsz && b < a + asz;
}

static bool model_phys_protected(uint64_t phys, uint64_t size)
{
	for (unsigned i = 0; i < M.nprot; i++)
		if (phys <= M.prot[i].last && phys + size - 1 >= M.prot[i].first)
			return true;
	return false;
}

static bool model_iova_used(const struct mdom *m, uint64_t iova, uint64_t size)
{
	for (unsigned i = 0; i < m->n; i++)
		if (overlaps(iova, size, m->v[i].iova, m->v[i].size))
			return true;
	return false;
}

static uint64_t model_covered(const struct mdom *m, uint64_t iova, uint64_t size)
{
	uint64_t c = 0;

	for (unsigned i = 0; i < m->n; i++) {
		uint64_t s = MOAT_MAX(iova, m->v[i].iova), e = MOAT_MIN(iova + size, m->v[i].iova + m->v[i].size);

		if (s < e)
			c += e - s;
	}
	return c;
}

static void model_remove(struct mdom *m, uint64_t iova, uint64_t size)
{
	const uint64_t end = iova + size;

	for (unsigned i = 0; i < m->n;) {
		struct miv v = m->v[i];
		const uint64_t ve = v.iova + v.size;

		if (!overlaps(iova, size, v.iova, v.size)) {
			i++;
			continue;
		}
		m->v[i] = m->v[--m->n];
		if (v.iova < iova)
			m->v[m->n++] = (struct miv){ v.iova, v.phys, iova - v.iova, v.prot };
		if (ve > end)
			m->v[m->n++] = (struct miv){ end, v.phys + (end - v.iova), ve - end, v.prot };
		/* the pieces were appended past i; they do not overlap the range, so the scan goes on */
	}
}

static const struct miv *model_lookup(const struct mdom *m, uint64_t iova)
{
	for (unsigned i = 0; i < m->n; i++)
		if (iova >= m->v[i].iova && iova < m->v[i].iova + m->v[i].size)
			return &m->v[i];
	return NULL;
}

/* ---- operations ---- */

static void op_map(void)
{
	struct mdom *m = &M.dom[below(NDOM)];
	uint64_t r = below(100), align, size, iova, phys;
	unsigned prot = (unsigned)(1 + below(3));
	moat_status want, got;

	/* 2 MiB sizes where the space holds 16 of the largest, 1 GiB ones where it holds 4 */
	if (r >= 95 && IW < 4 * G1)
		r = 70;
	if (r >= 70 && IW < 16 * 4 * M2)
		r = 0;
	if (r < 70) {
		align = K4;
		size = (1 + below(16)) * K4;
	} else if (r < 95) {
		align = below(4) ? M2 : K4;
		size = (1 + below(4)) * M2;
	} else {
		align = G1;
		size = G1;
	}
	iova = below(IW / align) * align;
	phys = below(WINDOW / align) * align;
	if (iova + size > IW)
		iova = IW - size;
	if (phys + size > WINDOW)
		phys = WINDOW - size;
	snprintf(M.what, sizeof(M.what), "map dom %u iova 0x%llx phys 0x%llx size 0x%llx prot %u", m->d.id,
		 (unsigned long long)iova, (unsigned long long)phys, (unsigned long long)size, prot);
	if (model_phys_protected(phys, size))
		want = MOAT_ERR_PROTECTED;
	else if (model_iova_used(m, iova, size))
		want = MOAT_ERR_OVERLAP;
	else
		want = MOAT_OK;
	if (want == MOAT_OK && m->n >= MAX_IV)
		return;
	got = moat_domain_map(&m->d, iova, phys, size, prot, NULL);
	CHECK(got == want);
	if (got == MOAT_OK)
		m->v[m->n++] = (struct miv){ iova, phys, size, prot };
}

static void op_unmap(void)
{
	struct mdom *m = &M.dom[below(NDOM)];
	uint64_t iova, size;
	moat_status want, got;

	if (m->n && below(10) < 7) {
		const struct miv *v = &m->v[below(m->n)];
		uint64_t pages = v->size / K4, first = below(2) ? 0 : below(pages);

		iova = v->iova + first * K4;
		size = (below(2) ? pages - first : 1 + below(pages - first)) * K4;
	} else {
		iova = below(IW / K4) * K4;
		size = (1 + below(8)) * (below(4) ? K4 : M2);
		size = MOAT_MIN(size, IW);   /* (a macro: its arguments evaluated twice) */
		if (iova + size > IW)
			iova = IW - size;
	}
	snprintf(M.what, sizeof(M.what), "unmap dom %u iova 0x%llx size 0x%llx", m->d.id, (unsigned long long)iova,
		 (unsigned long long)size);
	want = model_covered(m, iova, size) == size ? MOAT_OK : MOAT_ERR_NOT_FOUND;
	if (want == MOAT_OK && m->n > MAX_IV)
		return;
	got = moat_domain_unmap(&m->d, iova, size, NULL);
	CHECK(got == want);
	if (got == MOAT_OK)
		model_remove(m, iova, size);
}

static void op_protect(void)
{
	uint64_t base = below(WINDOW - M2), size = 1 + (below(4) ? below(0x10000) : below(M2));
	uint64_t first = base & ~(K4 - 1), last = (base + size - 1) | (K4 - 1);
	moat_status want = MOAT_OK, got;

	if (M.nprot == MAX_PROT)
		return;
	/* the host's RAM counts double: protected ranges there end up in the host's RAM too */
	if (below(3) == 0) {
		base = below(8ull << 30);
		first = base & ~(K4 - 1);
		last = (base + size - 1) | (K4 - 1);
	}
	snprintf(M.what, sizeof(M.what), "protect 0x%llx size 0x%llx", (unsigned long long)base,
		 (unsigned long long)size);
	for (unsigned d = 0; d < NDOM; d++)
		for (unsigned i = 0; i < M.dom[d].n; i++)
			if (M.dom[d].v[i].phys <= last && M.dom[d].v[i].phys + M.dom[d].v[i].size - 1 >= first)
				want = MOAT_ERR_OVERLAP;
	got = moat_protect_add(M.sys, base, size, "model", NULL);
	CHECK(got == want);
	if (got == MOAT_OK) {
		M.prot[M.nprot++] = (struct mprot){ first, last, base, size };
		ivs_add(&M.gone, first, last);
		ivs_normalize(&M.gone);
	}
}

static void op_unprotect(void)
{
	unsigned i;

	if (!M.nprot)
		return;
	i = (unsigned)below(M.nprot);
	snprintf(M.what, sizeof(M.what), "unprotect 0x%llx size 0x%llx", (unsigned long long)M.prot[i].base,
		 (unsigned long long)M.prot[i].size);
	CHECK(moat_protect_remove(M.sys, M.prot[i].base, M.prot[i].size) == MOAT_OK);
	M.prot[i] = M.prot[--M.nprot];
}

static void op_query(void)
{
	uint64_t base = below(WINDOW - M2), size = 1 + below(M2);
	moat_status want = model_phys_protected(base & ~(K4 - 1), ((base + size - 1) | (K4 - 1)) - (base & ~(K4 - 1)) + 1)
				   ? MOAT_ERR_PROTECTED
				   : MOAT_OK;

	snprintf(M.what, sizeof(M.what), "check 0x%llx size 0x%llx", (unsigned long long)base, (unsigned long long)size);
	CHECK(moat_protect_check(M.sys, base, size, NULL) == want);
}

/* ---- checks ---- */

static void check_translate(void)
{
	unsigned which = (unsigned)below(NDOM + 1);
	uint64_t phys = 0, a;
	unsigned prot = 0;
	moat_status st;

	if (which == NDOM) {
		bool want;

		a = below(8ull << 30);
		want = ivs_contains(&M.ram, a) && !ivs_contains(&M.gone, a);
		st = moat_domain_translate(&M.host, a, &phys, &prot, NULL);
		CHECK((st == MOAT_OK) == want);
		CHECK(st != MOAT_OK || (phys == a && prot == MOAT_PT_RW));
		return;
	}
	struct mdom *m = &M.dom[which];
	const struct miv *v;

	if (m->n && below(2)) {
		const struct miv *pick = &m->v[below(m->n)];

		a = pick->iova + below(pick->size);
	} else {
		a = below(IW);
	}
	v = model_lookup(m, a);
	st = moat_domain_translate(&m->d, a, &phys, &prot, NULL);
	if (!v) {
		CHECK(st == MOAT_ERR_NOT_FOUND);
		return;
	}
	CHECK(st == MOAT_OK);
	CHECK(phys == v->phys + (a - v->iova));
	CHECK(prot == v->prot);
}

struct run {
	uint64_t iova, phys, size;
	unsigned prot;
};

struct runs {
	struct run v[4096];
	unsigned n;
};

static void runs_add(struct runs *r, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	struct run *l = r->n ? &r->v[r->n - 1] : NULL;

	if (l && l->iova + l->size == iova && l->phys + l->size == phys && l->prot == prot) {
		l->size += size;
		return;
	}
	CHECK(r->n < 4096);
	r->v[r->n++] = (struct run){ iova, phys, size, prot };
}

static moat_status runs_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	runs_add(ctx, iova, phys, size, prot);
	return MOAT_OK;
}

static int miv_cmp(const void *a, const void *b)
{
	const struct miv *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

static struct runs walked, modelled;

static void compare_all(void)
{
	const struct moat_pt_walk_ops w = { .leaf = runs_leaf };

	snprintf(M.what, sizeof(M.what), "full comparison");
	for (unsigned d = 0; d < NDOM; d++) {
		struct mdom *m = &M.dom[d];
		struct miv sorted[MAX_IV + 8];

		walked.n = modelled.n = 0;
		CHECK(moat_pt_walk(&m->d.pt, &w, &walked) == MOAT_OK);
		memcpy(sorted, m->v, m->n * sizeof(sorted[0]));
		qsort(sorted, m->n, sizeof(sorted[0]), miv_cmp);
		for (unsigned i = 0; i < m->n; i++)
			runs_add(&modelled, sorted[i].iova, sorted[i].phys, sorted[i].size, sorted[i].prot);
		CHECK(walked.n == modelled.n);
		for (unsigned i = 0; i < walked.n; i++) {
			CHECK(walked.v[i].iova == modelled.v[i].iova);
			CHECK(walked.v[i].phys == modelled.v[i].phys);
			CHECK(walked.v[i].size == modelled.v[i].size);
			CHECK(walked.v[i].prot == modelled.v[i].prot);
		}
	}
	/* the host: RAM less everything ever protected */
	struct t_walk hw;
	struct ivset want = { 0 };

	t_walk_take(&M.host, &hw);
	ivs_subtract(&M.ram, &M.gone, &want);
	CHECK(hw.mapped.n == want.n);
	CHECK(memcmp(hw.mapped.v, want.v, want.n * sizeof(want.v[0])) == 0);
	t_walk_free(&hw);
	ivs_free(&want);
}

static void run_seed(uint64_t seed)
{
	const struct moat_mem_range map[] = {
		{ 0, 2ull << 30, MOAT_MEM_RAM },
		{ 4ull << 30, 2ull << 30, MOAT_MEM_RAM },
	};

	const uint64_t reach = t_iova_last();   /* the host reaches its RAM up to its input width */
	const uint64_t ops = t_pt_default() ? OPS_PER_SEED : OPS_PER_SEED_OTHER;

	memset(&M, 0, sizeof(M));
	M.seed = seed;
	M.rng = seed;
	IW = MOAT_MIN(WINDOW, t_iova_span());
	M.sys = t_system(ALL_SIZES);
	for (unsigned d = 0; d < NDOM; d++)
		assert_int_equal(moat_domain_create(M.sys, &M.dom[d].d), MOAT_OK);
	assert_int_equal(moat_domain_create(M.sys, &M.host), MOAT_OK);
	assert_int_equal(moat_protect_host(&M.host, map, 2, NULL, NULL), MOAT_OK);
	ivs_add(&M.ram, 0, MOAT_MIN((2ull << 30) - 1, reach));
	if (reach >= 4ull << 30)
		ivs_add(&M.ram, 4ull << 30, MOAT_MIN((6ull << 30) - 1, reach));

	for (M.op = 0; M.op < ops; M.op++) {
		uint64_t r = below(1000);

		/* Adding a protection walks every domain: a few of them go a long way. */
		if (r < 475)
			op_map();
		else if (r < 910)
			op_unmap();
		else if (r < 912)
			op_protect();
		else if (r < 914)
			op_unprotect();
		else
			op_query();
		check_translate();
		if (M.op % COMPARE_EVERY == COMPARE_EVERY - 1)
			compare_all();
		if (M.op % AUDIT_EVERY == AUDIT_EVERY - 1)
			assert_audit_clean(M.sys);
	}
	compare_all();
	assert_audit_clean(M.sys);
	for (unsigned d = 0; d < NDOM; d++)
		assert_int_equal(moat_domain_destroy(&M.dom[d].d), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&M.host), MOAT_OK);
	t_system_free(M.sys);
	ivs_free(&M.ram);
	ivs_free(&M.gone);
}

static void random_operations_match_the_model(void **state)
{
	(void)state;
	static const uint64_t seeds[SEEDS] = { 1, 0x5eed, 0xdeadbeef, 20240607 };

	for (unsigned i = 0; i < SEEDS; i++)
		run_seed(seeds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_operations_match_the_model),
	};

	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
