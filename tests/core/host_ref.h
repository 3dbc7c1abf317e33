/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A reference for the host policy, written independently of the core: the RAM of a memory map by
 * sorted boundaries, and checks of a host identity domain against it (full walk and boundary
 * pages).
 */
#ifndef MOAT_HOST_REF_H
#define MOAT_HOST_REF_H

#include "core_test.h"

static inline int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static inline bool ref_last(const struct moat_mem_range *e, uint64_t *last)
{
	if (!e->length)
		return false;
	*last = e->base + (e->length - 1);
	if (*last < e->base)
		*last = UINT64_MAX;
	return true;
}

/* Whole pages of RAM, below or at @limit: RAM where a type-1 entry covers and no other does. */
static inline void ref_ram(const struct moat_mem_range *map, size_t n, uint64_t limit, struct ivset *out)
{
	uint64_t *pts = malloc((2 * n + 1) * sizeof(*pts));
	struct ivset raw = { 0 };
	size_t np = 0;

	assert_non_null(pts);
	pts[np++] = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t l;

		if (!ref_last(&map[i], &l))
			continue;
		pts[np++] = map[i].base;
		if (l != UINT64_MAX)
			pts[np++] = l + 1;
	}
	qsort(pts, np, sizeof(*pts), u64_cmp);
	for (size_t i = 0; i < np; i++) {
		uint64_t s = pts[i], e;
		bool ram = false, deny = false;

		if (i && pts[i] == pts[i - 1])
			continue;
		e = UINT64_MAX;
		for (size_t j = i + 1; j < np; j++) {
			if (pts[j] != s) {
				e = pts[j] - 1;
				break;
			}
		}
		for (size_t k = 0; k < n; k++) {
			uint64_t l;

			if (!ref_last(&map[k], &l) || map[k].base > s || l < s)
				continue;
			if (map[k].type == MOAT_MEM_RAM)
				ram = true;
			else
				deny = true;
		}
		if (ram && !deny)
			ivs_add(&raw, s, e);
	}
	ivs_normalize(&raw);
	for (size_t i = 0; i < raw.n; i++) {
		uint64_t f = raw.v[i].first, l = raw.v[i].last;

		if (f % K4) {
			if (f > UINT64_MAX - K4)
				continue;
			f = (f / K4 + 1) * K4;
		}
		if ((l + 1) % K4) {
			if (l < K4)
				continue;
			l = (l / K4) * K4 - 1;
		}
		if (f > l || f > limit)
			continue;
		ivs_add(out, f, MOAT_MIN(l, limit));
	}
	ivs_free(&raw);
	free(pts);
}

/* The expected identity map: RAM minus the registry (rounded out). */
static inline void ref_expected(struct moat_system *sys, const struct moat_mem_range *map, size_t n, uint64_t limit,
				struct ivset *out)
{
	struct ivset ram = { 0 }, prot = { 0 };
	unsigned np = moat_protect_count(sys);

	ref_ram(map, n, limit, &ram);
	for (unsigned i = 0; i < np; i++) {
		struct moat_protected p;

		assert_int_equal(moat_protect_get(sys, i, &p), MOAT_OK);
		ivs_add(&prot, p.base, p.base + (p.size - 1));
	}
	ivs_normalize(&prot);
	ivs_subtract(&ram, &prot, out);
	ivs_free(&ram);
	ivs_free(&prot);
}

static inline bool t_mapped_identity(struct moat_domain *d, uint64_t a)
{
	uint64_t p = 0;
	unsigned prot = 0;
	moat_status st = moat_domain_translate(d, a, &p, &prot, NULL);

	if (st == MOAT_ERR_NOT_FOUND || st == MOAT_ERR_INVALID_ARG)
		return false;
	assert_int_equal(st, MOAT_OK);
	assert_int_equal(p, a);
	assert_int_equal(prot, MOAT_PT_RW);
	return true;
}

/* Whether the host domain can map address @a at all: below the input width and 2^52. */
static inline bool t_reach(uint64_t a)
{
	return a <= MOAT_MIN(t_iova_last(), (1ull << 52) - 1);
}

/* Page @a is identity-mapped exactly when @want and reachable (memory above the width never is). */
static inline void expect_identity(struct moat_domain *d, uint64_t a, bool want)
{
	if (t_mapped_identity(d, a) != (want && t_reach(a))) {
		fprintf(stderr, "page 0x%llx on %s: mapped %d, expected %d\n", (unsigned long long)a, t_pt().name,
			!(want && t_reach(a)), want && t_reach(a));
		fail();
	}
}

/*
 * What an identity map of @exp with the largest leaves takes, computed apart from the engine:
 * @by_size[0..2] the 4 KiB, 2 MiB and 1 GiB leaves (each the largest size of @sizes, and of what
 * the configuration's levels hold, that is aligned and fits), and *@tables the table pages (the
 * root, and below it every table on the path of a leaf down to the leaf's level).
 */
static inline void t_ideal(const struct ivset *exp, unsigned sizes, uint64_t by_size[3], uint64_t *tables)
{
	static const uint64_t size[3] = { K4, M2, G1 };
	static const unsigned bit[3] = { MOAT_PT_PAGE_4K, MOAT_PT_PAGE_2M, MOAT_PT_PAGE_1G };
	const unsigned levels = t_levels();
	uint64_t last_region[MOAT_PT_MAX_LEVELS + 1];

	by_size[0] = by_size[1] = by_size[2] = 0;
	*tables = 1;
	for (unsigned l = 0; l <= MOAT_PT_MAX_LEVELS; l++)
		last_region[l] = UINT64_MAX;
	for (size_t i = 0; i < exp->n; i++) {
		for (uint64_t a = exp->v[i].first; a <= exp->v[i].last;) {
			int k = 2;

			while (k > 0 && (!(sizes & bit[k]) || !t_leaf_ok(size[k]) || (a & (size[k] - 1)) ||
					 exp->v[i].last - a < size[k] - 1))
				k--;
			by_size[k]++;
			/* a leaf of level k + 1 sits in a table of that level, below the root */
			for (unsigned l = (unsigned)k + 1; l < levels; l++) {
				const uint64_t region = a >> (12 + 9 * l);

				if (region != last_region[l]) {
					last_region[l] = region;
					(*tables)++;
				}
			}
			if (exp->v[i].last - a < size[k])
				break;
			a += size[k];
		}
	}
}

/* The reference's RAM, in bytes: all of it, and what the host domain can reach. */
static inline void t_ram_bytes(const struct moat_mem_range *map, size_t n, uint64_t *all, uint64_t *reachable)
{
	struct ivset a = { 0 }, r = { 0 };

	ref_ram(map, n, UINT64_MAX, &a);
	ref_ram(map, n, MOAT_MIN(t_iova_last(), (1ull << 52) - 1), &r);
	*all = ivs_bytes(&a);
	*reachable = ivs_bytes(&r);
	ivs_free(&a);
	ivs_free(&r);
}

static inline bool t_page_owned(struct moat_system *sys, uint64_t a)
{
	struct moat_protect_hit hit;

	return moat_protect_check(sys, a, K4, &hit) == MOAT_ERR_PROTECTED && hit.owned;
}

/* One boundary page: mapped exactly when expected (and, where owned pages may sit, not owned). */
static inline void t_check_page(struct moat_system *sys, struct moat_domain *d, const struct ivset *exp, uint64_t a)
{
	bool want = ivs_contains(exp, a) && !t_page_owned(sys, a);

	if (t_mapped_identity(d, a) != want) {
		fprintf(stderr, "page 0x%llx: mapped %d, expected %d\n", (unsigned long long)a, !want, want);
		fail();
	}
}

/*
 * Check host domain @d against the memory map: the full walk equals the expected set, except
 * pages Moat owns (which must be out); every boundary page of RAM and protected ranges; no audit
 * violation.
 */
static inline void check_host(struct moat_system *sys, struct moat_domain *d, const struct moat_mem_range *map,
			      size_t n)
{
	struct ivset exp = { 0 }, missing = { 0 }, extra = { 0 };
	uint64_t limit = MOAT_MIN(d->pt.iova_last, (1ull << 52) - 1);
	unsigned np = moat_protect_count(sys);
	struct t_walk w;

	ref_expected(sys, map, n, limit, &exp);
	t_walk_take(d, &w);
	assert_true(w.identity);
	assert_true(w.all_rw);
	assert_int_equal(w.bad, 0);
	ivs_subtract(&w.mapped, &exp, &extra);
	if (extra.n)
		fprintf(stderr, "mapped but not expected: [0x%llx, 0x%llx]\n", (unsigned long long)extra.v[0].first,
			(unsigned long long)extra.v[0].last);
	assert_int_equal(extra.n, 0);
	ivs_subtract(&exp, &w.mapped, &missing);
	for (size_t i = 0; i < missing.n; i++) {
		assert_true(missing.v[i].last - missing.v[i].first < (64ull << 20));  /* owned pages only */
		for (uint64_t a = missing.v[i].first; a < missing.v[i].last; a += K4) {
			if (!t_page_owned(sys, a))
				fprintf(stderr, "expected page 0x%llx is neither mapped nor Moat-owned\n",
					(unsigned long long)a);
			assert_true(t_page_owned(sys, a));
		}
	}
	for (size_t i = 0; i < exp.n; i++) {
		uint64_t f = exp.v[i].first, l = exp.v[i].last & ~(K4 - 1);

		t_check_page(sys, d, &exp, f);
		t_check_page(sys, d, &exp, l);
		if (f)
			t_check_page(sys, d, &exp, f - K4);
		if (l + K4 <= limit)
			t_check_page(sys, d, &exp, l + K4);
	}
	for (unsigned i = 0; i < np; i++) {
		struct moat_protected p;

		assert_int_equal(moat_protect_get(sys, i, &p), MOAT_OK);
		if (p.base > limit)
			continue;
		assert_false(t_mapped_identity(d, p.base));
		if (p.base + p.size - K4 <= limit)
			assert_false(t_mapped_identity(d, p.base + p.size - K4));
		if (p.base)
			t_check_page(sys, d, &exp, p.base - K4);
		if (p.base + p.size <= limit)
			t_check_page(sys, d, &exp, p.base + p.size);
	}
	assert_audit_clean(sys);
	t_walk_free(&w);
	ivs_free(&exp);
	ivs_free(&missing);
	ivs_free(&extra);
}

#endif
