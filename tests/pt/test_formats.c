/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Both formats over the width matrix (VT-d 3, 4, 5 levels; AMD 1 to 6): boundaries of the address
 * space, superpage choice, splitting, freeing, and the raw bits of every entry kind checked against
 * the layouts of the specifications.
 */
#include "pt_test.h"

/* Below 2^52, 1 GiB aligned: keeps every superpage candidate aligned. */
#define PHYS_OFF (0x5ull << 30)

static void release(struct moat_pt *pt, struct moat_pt_gather *g)
{
	moat_pt_gather_release(pt, g);
	assert_int_equal(g->freed_pages, 0);
	assert_null(g->pages);
}

static void first_and_last_page_of_every_width(void **state)
{
	(void)state;
	for (unsigned c = 0; c < T_MATRIX_N; c++) {
		const struct t_cfg *m = &t_matrix[c];
		const uint64_t last = t_iova_last(m->levels), p0 = 0x123456000ull, p1 = 0x000ffffffffff000ull;
		struct moat_pt pt;
		struct tpages tp;
		struct moat_pt_gather g;
		unsigned level = 0;

		t_setup(&pt, &tp, 256, m->format, m->levels, T_ALL_SIZES, true);
		assert_int_equal(pt.iova_bits, t_iova_bits(m->levels));
		assert_int_equal(pt.iova_last, last);
		assert_int_equal(moat_pt_map(&pt, 0, p0, T_4K, MOAT_PT_RW), MOAT_OK);
		assert_int_equal(moat_pt_map(&pt, last - 4095, p1, T_4K, MOAT_PT_READ), MOAT_OK);

		assert_translates(&pt, 0, p0, MOAT_PT_RW, T_4K);
		assert_translates(&pt, 0xfff, p0 + 0xfff, MOAT_PT_RW, T_4K);
		assert_translates(&pt, last, p1 + 0xfff, MOAT_PT_READ, T_4K);
		assert_translates(&pt, last - 4095, p1, MOAT_PT_READ, T_4K);
		assert_unmapped(&pt, T_4K);
		assert_unmapped(&pt, last - 8191);
		if (last != ~0ull) {
			assert_int_equal(moat_pt_translate(&pt, last + 1, NULL, NULL, NULL), MOAT_ERR_INVALID_ARG);
			assert_int_equal(moat_pt_map(&pt, last + 1, 0, T_4K, MOAT_PT_RW), MOAT_ERR_INVALID_ARG);
		}
		/* One page past the end, or wrapping around 2^64. */
		assert_int_equal(moat_pt_map(&pt, last - 8191, 0, 2 * T_4K, MOAT_PT_RW), MOAT_ERR_OVERLAP);
		assert_int_equal(moat_pt_map(&pt, last - 4095, 0, 2 * T_4K, MOAT_PT_RW), MOAT_ERR_INVALID_ARG);

		assert_int_equal(t_raw_leaf(&pt, &tp, 0, &level), t_leaf_entry(m->format, 1, p0, MOAT_PT_RW));
		assert_int_equal(level, 1);
		assert_int_equal(t_raw_leaf(&pt, &tp, last, &level), t_leaf_entry(m->format, 1, p1, MOAT_PT_READ));
		assert_int_equal(level, 1);
		/* Separate paths of levels - 1 tables below the root, except when the root is level 1. */
		assert_int_equal(moat_pt_table_pages(&pt), m->levels == 1 ? 1 : 1 + 2 * (m->levels - 1));
		assert_int_equal(tp.live, moat_pt_table_pages(&pt));

		moat_pt_gather_init(&g);
		assert_int_equal(moat_pt_unmap(&pt, 0, T_4K, &g), MOAT_OK);
		assert_int_equal(moat_pt_unmap(&pt, last - 4095, T_4K, &g), MOAT_OK);
		assert_int_equal(moat_pt_table_pages(&pt), 1);
		assert_int_equal(g.freed_pages, m->levels == 1 ? 0 : 2 * (m->levels - 1));
		assert_int_equal(g.iova_first, 0);
		assert_int_equal(g.iova_last, last);
		assert_int_equal(g.unmapped, 2 * T_4K);
		assert_int_equal(tp.live, 1 + g.freed_pages);
		release(&pt, &g);
		assert_int_equal(tp.live, 1);
		assert_unmapped(&pt, 0);
		assert_unmapped(&pt, last);
		t_teardown(&pt, &tp);
	}
}

static void ranges_crossing_2m_boundaries_use_2m_leaves(void **state)
{
	(void)state;
	for (unsigned c = 0; c < T_MATRIX_N; c++) {
		const struct t_cfg *m = &t_matrix[c];
		const uint64_t iova = T_2M - 2 * T_4K, size = 2 * T_4K + 2 * T_2M + 3 * T_4K;
		const uint64_t delta = PHYS_OFF + 3 * T_2M;
		struct moat_pt pt;
		struct tpages tp;
		struct t_leaves l;

		if (m->levels < 2)
			continue;
		t_setup(&pt, &tp, 4096, m->format, m->levels, T_ALL_SIZES, true);
		assert_int_equal(moat_pt_map(&pt, iova, iova + delta, size, MOAT_PT_RW), MOAT_OK);
		assert_unmapped(&pt, iova - T_4K);
		assert_translates(&pt, iova, iova + delta, MOAT_PT_RW, T_4K);
		assert_translates(&pt, T_2M - T_4K, T_2M - T_4K + delta, MOAT_PT_RW, T_4K);
		assert_translates(&pt, T_2M, T_2M + delta, MOAT_PT_RW, T_2M);
		assert_translates(&pt, 2 * T_2M - 1, 2 * T_2M - 1 + delta, MOAT_PT_RW, T_2M);
		assert_translates(&pt, 2 * T_2M, 2 * T_2M + delta, MOAT_PT_RW, T_2M);
		assert_translates(&pt, 3 * T_2M, 3 * T_2M + delta, MOAT_PT_RW, T_4K);
		assert_translates(&pt, 3 * T_2M + 2 * T_4K, 3 * T_2M + 2 * T_4K + delta, MOAT_PT_RW, T_4K);
		assert_unmapped(&pt, 3 * T_2M + 3 * T_4K);
		t_leaves_take(&pt, &l);
		assert_int_equal(l.by_size[0], 5);
		assert_int_equal(l.by_size[1], 2);
		assert_int_equal(l.by_size[2], 0);
		assert_int_equal(l.bad, 0);
		/* Root, one table per level down to level 2, two level-1 tables for the 4K ends. */
		assert_int_equal(moat_pt_table_pages(&pt), 1 + (m->levels - 2) + 2);
		assert_int_equal(l.tables, moat_pt_table_pages(&pt));
		t_leaves_free(&l);

		/* The same range with the output misaligned by 4 KiB: 4 KiB leaves only. */
		assert_int_equal(moat_pt_map(&pt, T_1G / 2 + iova, T_1G / 2 + iova + delta + T_4K, size,
					     MOAT_PT_READ), MOAT_OK);
		assert_translates(&pt, T_1G / 2 + T_2M, T_1G / 2 + T_2M + delta + T_4K, MOAT_PT_READ, T_4K);
		t_leaves_take(&pt, &l);
		assert_int_equal(l.by_size[0], 5 + size / T_4K);
		assert_int_equal(l.by_size[1], 2);
		t_leaves_free(&l);
		t_teardown(&pt, &tp);

		/* 4 KiB pages only: no superpage whatever the alignment. */
		t_setup(&pt, &tp, 4096, m->format, m->levels, MOAT_PT_PAGE_4K, true);
		assert_int_equal(moat_pt_map(&pt, iova, iova + delta, size, MOAT_PT_RW), MOAT_OK);
		assert_translates(&pt, T_2M, T_2M + delta, MOAT_PT_RW, T_4K);
		t_leaves_take(&pt, &l);
		assert_int_equal(l.by_size[0], size / T_4K);
		assert_int_equal(l.by_size[1], 0);
		assert_int_equal(moat_pt_table_pages(&pt), 1 + (m->levels - 2) + 4);
		t_leaves_free(&l);
		t_teardown(&pt, &tp);
	}
}

static void ranges_crossing_1g_boundaries_use_1g_leaves(void **state)
{
	(void)state;
	for (unsigned c = 0; c < T_MATRIX_N; c++) {
		const struct t_cfg *m = &t_matrix[c];
		const uint64_t iova = T_1G - 2 * T_4K, size = 2 * T_4K + T_1G + T_2M + T_4K, delta = 7 * T_1G;
		struct moat_pt pt;
		struct tpages tp;
		struct t_leaves l;
		unsigned level = 0;

		if (m->levels < 3)
			continue;
		t_setup(&pt, &tp, 256, m->format, m->levels, T_ALL_SIZES, true);
		assert_int_equal(moat_pt_map(&pt, iova, iova + delta, size, MOAT_PT_WRITE), MOAT_OK);
		assert_translates(&pt, T_1G - T_4K, T_1G - T_4K + delta, MOAT_PT_WRITE, T_4K);
		assert_translates(&pt, T_1G, T_1G + delta, MOAT_PT_WRITE, T_1G);
		assert_translates(&pt, 2 * T_1G - 1, 2 * T_1G - 1 + delta, MOAT_PT_WRITE, T_1G);
		assert_translates(&pt, 2 * T_1G, 2 * T_1G + delta, MOAT_PT_WRITE, T_2M);
		assert_translates(&pt, 2 * T_1G + T_2M, 2 * T_1G + T_2M + delta, MOAT_PT_WRITE, T_4K);
		assert_unmapped(&pt, 2 * T_1G + T_2M + T_4K);
		assert_int_equal(t_raw_leaf(&pt, &tp, T_1G + 12345, &level),
				 t_leaf_entry(m->format, 3, T_1G + delta, MOAT_PT_WRITE));
		assert_int_equal(level, 3);
		t_leaves_take(&pt, &l);
		assert_int_equal(l.by_size[0], 3);
		assert_int_equal(l.by_size[1], 1);
		assert_int_equal(l.by_size[2], 1);
		/* Root, one table per level down to level 3, two level-2 and two level-1 tables. */
		assert_int_equal(moat_pt_table_pages(&pt), 1 + (m->levels - 3) + 2 + 2);
		t_leaves_free(&l);
		t_teardown(&pt, &tp);

		/* Without 1 GiB pages the middle is 512 2 MiB leaves. */
		t_setup(&pt, &tp, 256, m->format, m->levels, MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M, true);
		assert_int_equal(moat_pt_map(&pt, iova, iova + delta, size, MOAT_PT_WRITE), MOAT_OK);
		assert_translates(&pt, T_1G, T_1G + delta, MOAT_PT_WRITE, T_2M);
		t_leaves_take(&pt, &l);
		assert_int_equal(l.by_size[0], 3);
		assert_int_equal(l.by_size[1], 513);
		assert_int_equal(l.by_size[2], 0);
		assert_int_equal(moat_pt_table_pages(&pt), 1 + (m->levels - 3) + 3 + 2);
		t_leaves_free(&l);
		t_teardown(&pt, &tp);
	}
}

static void identity_map_of_1tib_takes_a_handful_of_pages(void **state)
{
	(void)state;
	for (unsigned c = 0; c < T_MATRIX_N; c++) {
		const struct t_cfg *m = &t_matrix[c];
		const uint64_t tib = 1ull << 40;
		struct moat_pt pt;
		struct tpages tp;
		struct t_leaves l;
		struct moat_pt_gather g;

		if (m->levels < 4)
			continue;
		t_setup(&pt, &tp, 64, m->format, m->levels, T_ALL_SIZES, true);
		assert_int_equal(moat_pt_map(&pt, 0, 0, tib, MOAT_PT_RW), MOAT_OK);
		/* Root, one table per level down to level 4, two level-3 tables of 512 1 GiB leaves. */
		assert_int_equal(moat_pt_table_pages(&pt), 1 + (m->levels - 4) + 2);
		assert_translates(&pt, tib - 1, tib - 1, MOAT_PT_RW, T_1G);
		assert_unmapped(&pt, tib);
		t_leaves_take(&pt, &l);
		assert_int_equal(l.by_size[2], 1024);
		assert_int_equal(l.n, 1024);
		t_leaves_free(&l);
		moat_pt_gather_init(&g);
		assert_int_equal(moat_pt_unmap(&pt, 0, tib, &g), MOAT_OK);
		assert_int_equal(moat_pt_table_pages(&pt), 1);
		assert_int_equal(g.unmapped, tib);
		release(&pt, &g);
		t_teardown(&pt, &tp);
	}
}

static void identity_map_of_1tib_with_2m_pages_takes_1027_pages(void **state)
{
	(void)state;
	const uint64_t tib = 1ull << 40;
	struct moat_pt pt;
	struct tpages tp;
	struct moat_pt_gather g;

	t_setup(&pt, &tp, 2048, MOAT_PT_VTD_SL, 4, MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M, true);
	assert_int_equal(moat_pt_map(&pt, 0, 0, tib, MOAT_PT_RW), MOAT_OK);
	assert_int_equal(moat_pt_table_pages(&pt), 1 + 2 + 1024);
	assert_int_equal(tp.live, 1027);
	assert_translates(&pt, tib - T_2M, tib - T_2M, MOAT_PT_RW, T_2M);
	assert_translates(&pt, 0x123456789ull, 0x123456789ull, MOAT_PT_RW, T_2M);
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap(&pt, 0, tib, &g), MOAT_OK);
	assert_int_equal(moat_pt_table_pages(&pt), 1);
	assert_int_equal(g.freed_pages, 1026);
	release(&pt, &g);
	assert_int_equal(tp.live, 1);
	t_teardown(&pt, &tp);
}

static void splitting_a_1g_page_keeps_the_rest_mapped(void **state)
{
	(void)state;
	for (unsigned c = 0; c < T_MATRIX_N; c++) {
		const struct t_cfg *m = &t_matrix[c];
		const uint64_t base = 3 * T_1G, delta = PHYS_OFF, hole = base + 0x12345000ull;
		const uint64_t blk = hole & ~(T_2M - 1);
		const unsigned prot = c % 2 ? MOAT_PT_READ : MOAT_PT_RW;
		struct moat_pt pt;
		struct tpages tp;
		struct moat_pt_gather g;
		struct t_leaves l;
		uint64_t before;
		unsigned level = 0;

		if (m->levels < 3)
			continue;
		t_setup(&pt, &tp, 256, m->format, m->levels, T_ALL_SIZES, true);
		assert_int_equal(moat_pt_map(&pt, base, base + delta, T_1G, prot), MOAT_OK);
		before = moat_pt_table_pages(&pt);
		assert_translates(&pt, hole, hole + delta, prot, T_1G);

		moat_pt_gather_init(&g);
		assert_int_equal(moat_pt_unmap(&pt, hole, T_4K, &g), MOAT_OK);
		assert_int_equal(g.unmapped, T_4K);
		assert_int_equal(g.iova_first, hole);
		assert_int_equal(g.iova_last, hole + T_4K - 1);
		assert_int_equal(g.freed_pages, 0);
		assert_true(g.tables_changed);
		/* A level-2 table of 2 MiB leaves, one of them split into a level-1 table. */
		assert_int_equal(moat_pt_table_pages(&pt), before + 2);

		assert_unmapped(&pt, hole);
		assert_unmapped(&pt, hole + T_4K - 1);
		assert_translates(&pt, hole - T_4K, hole - T_4K + delta, prot, T_4K);
		assert_translates(&pt, hole + T_4K, hole + T_4K + delta, prot, T_4K);
		assert_translates(&pt, blk, blk + delta, prot, T_4K);
		assert_translates(&pt, blk + T_2M - T_4K, blk + T_2M - T_4K + delta, prot, T_4K);
		assert_translates(&pt, blk - 1, blk - 1 + delta, prot, T_2M);
		assert_translates(&pt, blk + T_2M, blk + T_2M + delta, prot, T_2M);
		assert_translates(&pt, base, base + delta, prot, T_2M);
		assert_translates(&pt, base + T_1G - 1, base + T_1G - 1 + delta, prot, T_2M);
		assert_unmapped(&pt, base - T_4K);
		assert_unmapped(&pt, base + T_1G);

		/* Raw: the level-3 entry now links a table; leaves carry the same permission bits. */
		assert_int_equal(t_raw_leaf(&pt, &tp, base, &level), t_leaf_entry(m->format, 2, base + delta, prot));
		assert_int_equal(level, 2);
		assert_int_equal(t_raw_leaf(&pt, &tp, hole + T_4K, &level),
				 t_leaf_entry(m->format, 1, hole + T_4K + delta, prot));
		assert_int_equal(level, 1);
		assert_int_equal(t_raw_leaf(&pt, &tp, hole, &level), 0);
		t_leaves_take(&pt, &l);
		assert_int_equal(l.by_size[0], 511);
		assert_int_equal(l.by_size[1], 511);
		assert_int_equal(l.by_size[2], 0);
		t_leaves_free(&l);

		/* The hole can be mapped again; then the whole 1 GiB unmapped in one go. */
		assert_int_equal(moat_pt_map(&pt, hole, 0x777000, T_4K, MOAT_PT_WRITE), MOAT_OK);
		assert_translates(&pt, hole, 0x777000, MOAT_PT_WRITE, T_4K);
		assert_int_equal(moat_pt_unmap(&pt, base, T_1G, &g), MOAT_OK);
		assert_int_equal(g.unmapped, T_1G + T_4K);
		assert_int_equal(moat_pt_table_pages(&pt), 1);
		release(&pt, &g);
		assert_int_equal(tp.live, 1);
		t_teardown(&pt, &tp);
	}
}

static void unmapping_both_ends_of_superpages_splits_each(void **state)
{
	(void)state;
	struct moat_pt pt;
	struct tpages tp;
	struct moat_pt_gather g;
	/* Two 1 GiB leaves; unmap from 4 KiB before the end of the first to 8 KiB into the second. */
	const uint64_t base = 2 * T_1G, s = base + T_1G - T_4K, len = 3 * T_4K;

	t_setup(&pt, &tp, 256, MOAT_PT_AMD_V1, 4, T_ALL_SIZES, true);
	assert_int_equal(moat_pt_map(&pt, base, base, 2 * T_1G, MOAT_PT_RW), MOAT_OK);
	assert_int_equal(moat_pt_table_pages(&pt), 2);
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap(&pt, s, len, &g), MOAT_OK);
	assert_int_equal(moat_pt_table_pages(&pt), 2 + 4);
	assert_unmapped(&pt, s);
	assert_unmapped(&pt, s + 2 * T_4K);
	assert_translates(&pt, s - T_4K, s - T_4K, MOAT_PT_RW, T_4K);
	assert_translates(&pt, s + len, s + len, MOAT_PT_RW, T_4K);
	assert_translates(&pt, base, base, MOAT_PT_RW, T_2M);
	assert_translates(&pt, base + 2 * T_1G - 1, base + 2 * T_1G - 1, MOAT_PT_RW, T_2M);
	release(&pt, &g);
	t_teardown(&pt, &tp);
}

/* Check the links on the path of @iova: each holds exactly the spec's non-leaf bits. */
static void check_links(const struct moat_pt *pt, struct tpages *tp, uint64_t iova, unsigned leaf_level)
{
	const uint64_t *tbl = pt->root;

	for (unsigned l = pt->cfg.levels; l > leaf_level; l--) {
		uint64_t e = tbl[(iova >> (12 + 9 * (l - 1))) & 511];

		assert_int_equal(e, t_table_entry(pt->cfg.format, l, e & T_ADDR));
		tbl = tp_p2v(tp, e & T_ADDR);
		assert_non_null(tbl);
	}
}

static void permissions_are_encoded_in_the_spec_bits(void **state)
{
	(void)state;
	static const unsigned prots[] = { MOAT_PT_READ, MOAT_PT_WRITE, MOAT_PT_RW };

	for (unsigned c = 0; c < T_MATRIX_N; c++) {
		const struct t_cfg *m = &t_matrix[c];
		struct moat_pt pt;
		struct tpages tp;

		t_setup(&pt, &tp, 256, m->format, m->levels, T_ALL_SIZES, true);
		for (unsigned p = 0; p < 3; p++) {
			const unsigned prot = prots[p];
			const uint64_t phys = 0x000ab00000000000ull + p * T_1G;
			unsigned level = 0;
			uint64_t iova = p * 8 * T_4K;

			/* 4 KiB leaf */
			assert_int_equal(moat_pt_map(&pt, iova, phys, T_4K, prot), MOAT_OK);
			assert_int_equal(t_raw_leaf(&pt, &tp, iova, &level), t_leaf_entry(m->format, 1, phys, prot));
			assert_int_equal(level, 1);
			check_links(&pt, &tp, iova, 1);
			assert_translates(&pt, iova + 5, phys + 5, prot, T_4K);
			if (m->levels >= 2) {
				/* 2 MiB leaf */
				iova = T_2M * (4 + p);
				assert_int_equal(moat_pt_map(&pt, iova, phys, T_2M, prot), MOAT_OK);
				assert_int_equal(t_raw_leaf(&pt, &tp, iova, &level),
						 t_leaf_entry(m->format, 2, phys, prot));
				assert_int_equal(level, 2);
				check_links(&pt, &tp, iova, 2);
				assert_translates(&pt, iova + T_2M - 1, phys + T_2M - 1, prot, T_2M);
			}
			if (m->levels >= 3) {
				/* 1 GiB leaf */
				iova = T_1G * (4 + p);
				assert_int_equal(moat_pt_map(&pt, iova, phys, T_1G, prot), MOAT_OK);
				assert_int_equal(t_raw_leaf(&pt, &tp, iova, &level),
						 t_leaf_entry(m->format, 3, phys, prot));
				assert_int_equal(level, 3);
				check_links(&pt, &tp, iova, 3);
				assert_translates(&pt, iova + T_1G - 1, phys + T_1G - 1, prot, T_1G);
			}
		}
		t_teardown(&pt, &tp);
	}
}

static void unmapping_everything_frees_every_table(void **state)
{
	(void)state;
	for (unsigned c = 0; c < T_MATRIX_N; c++) {
		const struct t_cfg *m = &t_matrix[c];
		const uint64_t last = t_iova_last(m->levels);
		struct {
			uint64_t iova, size;
		} r[8];
		unsigned n = 0;
		struct moat_pt pt;
		struct tpages tp;
		struct moat_pt_gather g;

		/* Scattered ranges over the whole space: near 0, the middle, and the end. */
		r[n].iova = T_4K, r[n++].size = 5 * T_4K;
		r[n].iova = 64 * T_4K, r[n++].size = T_4K;
		r[n].iova = (last >> 1) + 1 - 3 * T_4K, r[n++].size = 6 * T_4K;
		r[n].iova = last - 7 * T_4K - 4095, r[n++].size = 3 * T_4K;
		if (m->levels >= 3) {
			r[n].iova = 2 * T_1G - T_2M - T_4K, r[n++].size = 2 * T_2M + 2 * T_4K;
			r[n].iova = 4 * T_1G, r[n++].size = T_1G + T_4K;
		}
		t_setup(&pt, &tp, 256, m->format, m->levels, T_ALL_SIZES, true);
		for (unsigned i = 0; i < n; i++)
			assert_int_equal(moat_pt_map(&pt, r[i].iova, r[i].iova & 0xffffffffffffull, r[i].size,
						     MOAT_PT_RW), MOAT_OK);
		assert_true(moat_pt_table_pages(&pt) > 1 || m->levels == 1);
		moat_pt_gather_init(&g);
		for (unsigned i = 0; i < n; i++)
			assert_int_equal(moat_pt_unmap(&pt, r[i].iova, r[i].size, &g), MOAT_OK);
		assert_int_equal(moat_pt_table_pages(&pt), 1);
		assert_int_equal(tp.live, 1 + g.freed_pages);
		assert_int_equal(g.tables_changed, m->levels > 1);
		release(&pt, &g);
		assert_int_equal(tp.live, 1);
		for (unsigned i = 0; i < 512; i++)
			assert_int_equal(((const uint64_t *)pt.root)[i], 0);
		t_teardown(&pt, &tp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_and_last_page_of_every_width),
		cmocka_unit_test(ranges_crossing_2m_boundaries_use_2m_leaves),
		cmocka_unit_test(ranges_crossing_1g_boundaries_use_1g_leaves),
		cmocka_unit_test(identity_map_of_1tib_takes_a_handful_of_pages),
		cmocka_unit_test(identity_map_of_1tib_with_2m_pages_takes_1027_pages),
		cmocka_unit_test(splitting_a_1g_page_keeps_the_rest_mapped),
		cmocka_unit_test(unmapping_both_ends_of_superpages_splits_each),
		cmocka_unit_test(permissions_are_encoded_in_the_spec_bits),
		cmocka_unit_test(unmapping_everything_frees_every_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
