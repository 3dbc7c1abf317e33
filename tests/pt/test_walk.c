/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The walk an auditor relies on: IOVA order, stopping, and robustness against corrupted entries
 * (links to unknown addresses, links back up the tree, encodings the engine never writes), which
 * are reported and never followed; translate, map and unmap refuse to work through them.
 * Also the platform-backed ops on the hosted platform.
 */
#include "pt_test.h"

#include "hosted.h"

#define G (1ull << 30)
#define M2 (1ull << 21)
#define K4 (1ull << 12)

struct bad_rec {
	uint64_t iova, raw;
	unsigned level;
};

struct wctx {
	struct t_leaves leaves;
	struct bad_rec bad[16];
	unsigned nbad;
	unsigned stop_after;  /* stop after this many leaves (0: never) */
};

static moat_status c_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	struct wctx *w = ctx;

	t_leaves_leaf(&w->leaves, iova, phys, size, prot);
	return w->stop_after && w->leaves.n == w->stop_after ? MOAT_END : MOAT_OK;
}

static moat_status c_table(void *ctx, uint64_t phys, const void *virt, unsigned level, uint64_t iova)
{
	struct wctx *w = ctx;

	return t_leaves_table(&w->leaves, phys, virt, level, iova);
}

static moat_status c_bad(void *ctx, uint64_t iova, unsigned level, uint64_t raw)
{
	struct wctx *w = ctx;

	if (w->nbad < 16)
		w->bad[w->nbad] = (struct bad_rec){ iova, raw, level };
	w->nbad++;
	return MOAT_OK;
}

static const struct moat_pt_walk_ops cops = { .table = c_table, .leaf = c_leaf, .bad_entry = c_bad };

static void walk(const struct moat_pt *pt, struct wctx *w)
{
	t_leaves_free(&w->leaves);
	memset(w, 0, sizeof(*w));
	assert_int_equal(moat_pt_walk(pt, &cops, w), MOAT_OK);
}

static void walk_reports_leaves_in_iova_order_and_can_stop(void **state)
{
	(void)state;
	struct moat_pt pt;
	struct tpages tp;
	struct wctx w = { 0 };
	moat_status st;

	t_setup(&pt, &tp, 64, MOAT_PT_VTD_SL, 4, T_ALL_SIZES, true);
	assert_int_equal(moat_pt_map(&pt, 5 * G, 5 * G, G, MOAT_PT_READ), MOAT_OK);
	assert_int_equal(moat_pt_map(&pt, 3 * M2, 0x123000, 2 * K4, MOAT_PT_WRITE), MOAT_OK);
	assert_int_equal(moat_pt_map(&pt, 4 * G, 0, M2, MOAT_PT_RW), MOAT_OK);
	walk(&pt, &w);
	assert_int_equal(w.leaves.n, 4);
	assert_int_equal(w.nbad, 0);
	assert_int_equal(w.leaves.tables, moat_pt_table_pages(&pt));
	for (size_t i = 1; i < w.leaves.n; i++)
		assert_true(w.leaves.v[i].iova > w.leaves.v[i - 1].iova);
	assert_int_equal(w.leaves.v[0].iova, 3 * M2);
	assert_int_equal(w.leaves.v[0].phys, 0x123000);
	assert_int_equal(w.leaves.v[0].prot, MOAT_PT_WRITE);
	assert_int_equal(w.leaves.v[2].size, T_2M);
	assert_int_equal(w.leaves.v[3].size, T_1G);
	assert_int_equal(w.leaves.v[3].prot, MOAT_PT_READ);

	t_leaves_free(&w.leaves);
	memset(&w, 0, sizeof(w));
	w.stop_after = 2;
	st = moat_pt_walk(&pt, &cops, &w);
	assert_int_equal(st, MOAT_END);
	assert_int_equal(w.leaves.n, 2);
	t_leaves_free(&w.leaves);

	assert_int_equal(moat_pt_walk(NULL, &cops, &w), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_pt_walk(&pt, NULL, &w), MOAT_ERR_INVALID_ARG);
	t_teardown(&pt, &tp);
}

/* Plant @raw at @level on the path of @iova; check walk, translate, map and unmap; restore. */
static void check_corrupt(struct moat_pt *pt, struct tpages *tp, uint64_t iova, unsigned level, uint64_t raw)
{
	uint64_t *e = t_entry_ptr(pt, tp, iova, level);
	const uint64_t saved = *e, slot = iova & ~((1ull << (12 + 9 * (level - 1))) - 1);
	struct wctx w = { 0 };
	struct moat_pt_gather g;
	struct t_snap before, after;

	*e = raw;
	walk(pt, &w);
	assert_int_equal(w.nbad, 1);
	assert_int_equal(w.bad[0].iova, slot);
	assert_int_equal(w.bad[0].level, level);
	assert_int_equal(w.bad[0].raw, raw);
	/* Leaves elsewhere are still reported. */
	assert_true(w.leaves.n >= 1);
	t_leaves_free(&w.leaves);

	assert_int_equal(moat_pt_translate(pt, iova, NULL, NULL, NULL), MOAT_ERR_MALFORMED);
	t_snap_take(pt, &before);
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap(pt, iova, K4, &g), MOAT_ERR_MALFORMED);
	assert_int_equal(moat_pt_unmap_present(pt, iova, K4, &g, NULL), MOAT_ERR_MALFORMED);
	assert_int_equal(g.unmapped, 0);
	t_snap_take(pt, &after);
	assert_true(t_snap_equal(&before, &after));
	t_snap_free(&after);
	t_snap_free(&before);
	*e = saved;
}

static void corrupt_entries_are_reported_not_followed(void **state)
{
	(void)state;
	for (unsigned f = 0; f < 2; f++) {
		const enum moat_pt_format fmt = f ? MOAT_PT_AMD_V1 : MOAT_PT_VTD_SL;
		const uint64_t a = 3 * G + 5 * M2 + 7 * K4;  /* mapped with 4 KiB pages */
		struct moat_pt pt;
		struct tpages tp;
		uint64_t unknown = 0x1234000ull, root = 0;
		struct wctx w = { 0 };

		t_setup(&pt, &tp, 64, fmt, 4, T_ALL_SIZES, true);
		assert_int_equal(moat_pt_map(&pt, a, 0x5000000, 16 * K4, MOAT_PT_RW), MOAT_OK);
		assert_int_equal(moat_pt_map(&pt, 1ull << 40, 1ull << 40, G, MOAT_PT_RW), MOAT_OK);
		root = pt.root_phys;

		/* A link to a physical address that is no table page, at levels 2, 3 and 4. */
		for (unsigned l = 2; l <= 4; l++)
			check_corrupt(&pt, &tp, a, l, t_table_entry(fmt, l, unknown));
		/* A link back to the root (a cycle). */
		check_corrupt(&pt, &tp, a, 2, t_table_entry(fmt, 2, root));
		check_corrupt(&pt, &tp, a, 4, t_table_entry(fmt, 4, root));
		/* Not present, but not clear. */
		check_corrupt(&pt, &tp, a, 1,
			      fmt == MOAT_PT_VTD_SL ? (0x5007000ull | (1ull << 2)) : (0x5007000ull | T_AMD_IR));
		if (fmt == MOAT_PT_VTD_SL) {
			/* PS where it is reserved (level 4), and a 2 MiB leaf with address bits below 2 MiB. */
			check_corrupt(&pt, &tp, a, 4, 0x8000000000ull | T_VTD_R | T_VTD_PS);
			check_corrupt(&pt, &tp, a, 2, 0x40001000ull | T_VTD_R | T_VTD_PS);
		} else {
			/* Next level 7 (encoded page sizes), a level skip, a leaf at level 4. */
			check_corrupt(&pt, &tp, a, 2, 0x40000000ull | T_AMD_PR | T_AMD_IR | T_AMD_NL(7));
			check_corrupt(&pt, &tp, a, 4, root | T_AMD_PR | T_AMD_IR | T_AMD_NL(2));
			check_corrupt(&pt, &tp, a, 4, T_AMD_PR | T_AMD_IR);
		}

		/* A map across a corrupted link is refused too, and changes nothing. */
		{
			uint64_t *e = t_entry_ptr(&pt, &tp, a, 2), saved = *e;

			*e = t_table_entry(fmt, 2, unknown);
			assert_int_equal(moat_pt_map(&pt, a + 64 * K4, 0, K4, MOAT_PT_RW), MOAT_ERR_MALFORMED);
			*e = saved;
		}
		walk(&pt, &w);
		assert_int_equal(w.nbad, 0);
		assert_int_equal(w.leaves.n, 17);
		t_leaves_free(&w.leaves);
		t_teardown(&pt, &tp);
	}
}

static void a_walk_over_garbage_is_bounded(void **state)
{
	(void)state;
	struct moat_pt pt;
	struct tpages tp;
	struct wctx w = { 0 };
	uint64_t *l2, *l1, x = 88172645463325252ull, l1_phys, l2_phys;
	struct moat_pt_gather g;

	/* Fill every entry of a level-2 and a level-1 table with pseudo-random values, some of them
	 * links to the tables on the path: the walk must end and report without crashing. */
	t_setup(&pt, &tp, 64, MOAT_PT_AMD_V1, 3, T_ALL_SIZES, true);
	assert_int_equal(moat_pt_map(&pt, 0, 0, K4, MOAT_PT_RW), MOAT_OK);
	l2 = t_entry_ptr(&pt, &tp, 0, 2);
	l1 = t_entry_ptr(&pt, &tp, 0, 1);
	l1_phys = l2[0] & T_ADDR;
	l2_phys = ((uint64_t *)pt.root)[0] & T_ADDR;
	for (unsigned i = 0; i < 512; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		l1[i] = x;
		if (i % 3 == 0)
			l1[i] = (x & ~T_ADDR & ~(7ull << 9)) | (i % 2 ? l1_phys : l2_phys) | T_AMD_PR |
				T_AMD_NL(i % 4);
	}
	for (unsigned i = 1; i < 512; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		l2[i] = (x & ~T_ADDR & ~(7ull << 9)) | (i % 2 ? l1_phys : l2_phys) | T_AMD_PR | T_AMD_NL(1);
	}
	walk(&pt, &w);
	assert_true(w.nbad > 0);
	assert_true(w.leaves.n + w.nbad >= 512);
	/* Each level-2 link to the level-1 table is followed once per entry: bounded by 512 * 512. */
	assert_true(w.leaves.tables <= 2 + 512);
	t_leaves_free(&w.leaves);
	/* The engine's own operations refuse to work through it. */
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap_present(&pt, 0, G, &g, NULL), MOAT_ERR_MALFORMED);
	assert_int_equal(moat_pt_map(&pt, 0, 0, G, MOAT_PT_RW), MOAT_ERR_OVERLAP);
	assert_int_equal(g.freed_pages, 0);
	/* Destroy skips links back up the path and unknown addresses: nothing freed twice. */
	t_teardown(&pt, &tp);
}

static void platform_ops_use_the_hosted_platform(void **state)
{
	(void)state;
	struct moat_pt_ops ops = moat_pt_platform_ops();
	struct moat_pt_config cfg = { MOAT_PT_VTD_SL, 4, T_ALL_SIZES, false };
	struct moat_pt pt;
	struct moat_pt_gather g;
	struct moat_hosted_stats s0, s1;

	moat_hosted_reset();
	s0 = moat_hosted_stats();
	assert_int_equal(moat_pt_init(&pt, &cfg, &ops), MOAT_OK);
	assert_int_equal(moat_pt_map(&pt, G - K4, G - K4, 2 * K4, MOAT_PT_RW), MOAT_OK);
	s1 = moat_hosted_stats();
	assert_int_equal(s1.pages_live - s0.pages_live, moat_pt_table_pages(&pt));
	assert_int_equal(moat_pt_table_pages(&pt), 1 + 1 + 2 + 2);
	assert_true(s1.cache_line_flushes >= 64 * 6);
	assert_int_equal(s1.wmbs, 2);
	assert_translates(&pt, G, G, MOAT_PT_RW, T_4K);
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap(&pt, G - K4, 2 * K4, &g), MOAT_OK);
	moat_pt_gather_release(&pt, &g);
	moat_pt_destroy(&pt);
	s1 = moat_hosted_stats();
	assert_int_equal(s1.pages_live, s0.pages_live);

	/* Coherent: no flush, no barrier. */
	moat_hosted_reset();
	cfg.coherent = true;
	assert_int_equal(moat_pt_init(&pt, &cfg, &ops), MOAT_OK);
	assert_int_equal(moat_pt_map(&pt, 0, 0, G, MOAT_PT_RW), MOAT_OK);
	moat_pt_destroy(&pt);
	s1 = moat_hosted_stats();
	assert_int_equal(s1.cache_line_flushes, 0);
	assert_int_equal(s1.wmbs, 0);
	assert_int_equal(s1.pages_live, s0.pages_live);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walk_reports_leaves_in_iova_order_and_can_stop),
		cmocka_unit_test(corrupt_entries_are_reported_not_followed),
		cmocka_unit_test(a_walk_over_garbage_is_bounded),
		cmocka_unit_test(platform_ops_use_the_hosted_platform),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
