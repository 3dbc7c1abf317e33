/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Argument checks and error statuses of every function, overlap detection, strict and tolerant
 * unmap, and the gather's record: each refused call leaves the tables bit-for-bit as they were.
 */
#include "pt_test.h"

#define G (1ull << 30)
#define M2 (1ull << 21)
#define K4 (1ull << 12)

static void init_rejects_bad_configurations(void **state)
{
	(void)state;
	static const struct moat_pt_config bad[] = {
		{ 0, 4, T_ALL_SIZES, true },
		{ 3, 4, T_ALL_SIZES, true },
		{ MOAT_PT_VTD_SL, 2, T_ALL_SIZES, true },
		{ MOAT_PT_VTD_SL, 6, T_ALL_SIZES, true },
		{ MOAT_PT_AMD_V1, 0, T_ALL_SIZES, true },
		{ MOAT_PT_AMD_V1, 7, T_ALL_SIZES, true },
		{ MOAT_PT_VTD_SL, 4, 0, true },
		{ MOAT_PT_VTD_SL, 4, MOAT_PT_PAGE_2M, true },
		{ MOAT_PT_VTD_SL, 4, MOAT_PT_PAGE_4K | MOAT_PT_PAGE_1G, true },
		{ MOAT_PT_VTD_SL, 4, T_ALL_SIZES | 8, true },
	};
	struct tpages tp;
	struct moat_pt pt;
	struct moat_pt_ops ops;
	struct moat_pt_config good = { MOAT_PT_AMD_V1, 2, T_ALL_SIZES, false };

	tp_init(&tp, 16);
	ops = tp_ops(&tp);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(moat_pt_init(&pt, &bad[i], &ops), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_pt_init(NULL, &good, &ops), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_pt_init(&pt, NULL, &ops), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_pt_init(&pt, &good, NULL), MOAT_ERR_INVALID_ARG);
	ops.flush_line = NULL;
	assert_int_equal(moat_pt_init(&pt, &good, &ops), MOAT_ERR_INVALID_ARG);
	good.coherent = true;  /* flush ops are optional when coherent */
	assert_int_equal(moat_pt_init(&pt, &good, &ops), MOAT_OK);
	/* 1 GiB pages cannot exist with 2 levels: ignored, not an error. */
	assert_int_equal(pt.leaf_levels, (1u << 1) | (1u << 2));
	moat_pt_destroy(&pt);
	ops.phys_to_virt = NULL;
	assert_int_equal(moat_pt_init(&pt, &good, &ops), MOAT_ERR_INVALID_ARG);
	assert_int_equal(tp.live, 0);
	assert_int_equal(tp.allocs, 1);
	tp_fini(&tp);
}

static void *unaligned_alloc(void *cookie, uint64_t *phys)
{
	void *p = tp_alloc(cookie, phys);

	*phys += 8;
	return p;
}

static void free_unaligned(void *cookie, void *virt, uint64_t phys)
{
	tp_free(cookie, virt, phys & ~4095ull);
}

static void init_refuses_pages_the_format_cannot_hold(void **state)
{
	(void)state;
	struct tpages tp;
	struct moat_pt pt;
	struct moat_pt_ops ops;
	struct moat_pt_config cfg = { MOAT_PT_VTD_SL, 3, T_ALL_SIZES, true };

	tp_init(&tp, 16);
	ops = tp_ops(&tp);
	ops.alloc = unaligned_alloc;
	ops.free = free_unaligned;
	assert_int_equal(moat_pt_init(&pt, &cfg, &ops), MOAT_ERR_UNSUPPORTED);
	assert_int_equal(tp.live, 0);
	tp_fini(&tp);
}

static void map_rejects_bad_arguments_and_changes_nothing(void **state)
{
	(void)state;
	for (unsigned c = 0; c < T_MATRIX_N; c++) {
		const struct t_cfg *m = &t_matrix[c];
		const uint64_t last = t_iova_last(m->levels);
		struct moat_pt pt;
		struct tpages tp;
		struct t_snap before, after;

		t_setup(&pt, &tp, 64, m->format, m->levels, T_ALL_SIZES, true);
		assert_int_equal(moat_pt_map(&pt, 16 * K4, 0x100000, 4 * K4, MOAT_PT_RW), MOAT_OK);
		t_snap_take(&pt, &before);

		assert_int_equal(moat_pt_map(NULL, 0, 0, K4, MOAT_PT_RW), MOAT_ERR_INVALID_ARG);
		assert_int_equal(moat_pt_map(&pt, 0, 0, 0, MOAT_PT_RW), MOAT_ERR_INVALID_ARG);
		assert_int_equal(moat_pt_map(&pt, 0x800, 0, K4, MOAT_PT_RW), MOAT_ERR_ALIGNMENT);
		assert_int_equal(moat_pt_map(&pt, 0, 0x10, K4, MOAT_PT_RW), MOAT_ERR_ALIGNMENT);
		assert_int_equal(moat_pt_map(&pt, 0, 0, K4 + 1, MOAT_PT_RW), MOAT_ERR_ALIGNMENT);
		assert_int_equal(moat_pt_map(&pt, 0, 0, K4, 0), MOAT_ERR_INVALID_ARG);
		assert_int_equal(moat_pt_map(&pt, 0, 0, K4, 4), MOAT_ERR_INVALID_ARG);
		assert_int_equal(moat_pt_map(&pt, 0, 0, K4, MOAT_PT_RW | 8), MOAT_ERR_INVALID_ARG);
		/* Past the input width, or wrapping around 2^64. */
		assert_int_equal(moat_pt_map(&pt, last - K4 + 1, 0, 2 * K4, MOAT_PT_RW), MOAT_ERR_INVALID_ARG);
		assert_int_equal(moat_pt_map(&pt, last - 3 * K4 + 1, 0, ~0ull - 4095, MOAT_PT_RW),
				 MOAT_ERR_INVALID_ARG);
		/* Output past 2^52 (the address field ends at bit 51), or wrapping. */
		assert_int_equal(moat_pt_map(&pt, 0, (1ull << 52) - K4, 2 * K4, MOAT_PT_RW), MOAT_ERR_INVALID_ARG);
		assert_int_equal(moat_pt_map(&pt, 0, 1ull << 52, K4, MOAT_PT_RW), MOAT_ERR_INVALID_ARG);
		assert_int_equal(moat_pt_map(&pt, 0, ~0ull - K4 + 1, 2 * K4, MOAT_PT_RW), MOAT_ERR_INVALID_ARG);
		/* Overlaps: inside, covering, at either end. */
		assert_int_equal(moat_pt_map(&pt, 17 * K4, 0, K4, MOAT_PT_RW), MOAT_ERR_OVERLAP);
		assert_int_equal(moat_pt_map(&pt, 0, 0, 64 * K4, MOAT_PT_RW), MOAT_ERR_OVERLAP);
		assert_int_equal(moat_pt_map(&pt, 15 * K4, 0, 2 * K4, MOAT_PT_RW), MOAT_ERR_OVERLAP);
		assert_int_equal(moat_pt_map(&pt, 19 * K4, 0, 2 * K4, MOAT_PT_RW), MOAT_ERR_OVERLAP);
		if (m->levels >= 2) {
			/* A range that would be a 2 MiB leaf where a table holds pages. */
			assert_int_equal(moat_pt_map(&pt, 0, 0, M2, MOAT_PT_RW), MOAT_ERR_OVERLAP);
		}
		t_snap_take(&pt, &after);
		assert_true(t_snap_equal(&before, &after));
		assert_int_equal(tp.live, moat_pt_table_pages(&pt));
		t_snap_free(&after);
		t_snap_free(&before);
		assert_int_equal(moat_pt_map(&pt, 20 * K4, 0x100000, K4, MOAT_PT_RW), MOAT_OK);
		t_teardown(&pt, &tp);
	}
}

static void maps_overlapping_superpages_are_refused(void **state)
{
	(void)state;
	struct moat_pt pt;
	struct tpages tp;
	struct t_snap before, after;

	t_setup(&pt, &tp, 64, MOAT_PT_VTD_SL, 3, T_ALL_SIZES, true);
	assert_int_equal(moat_pt_map(&pt, G, 0, G, MOAT_PT_RW), MOAT_OK);
	assert_int_equal(moat_pt_map(&pt, 4 * G + M2, 0, M2, MOAT_PT_RW), MOAT_OK);
	t_snap_take(&pt, &before);
	assert_int_equal(moat_pt_map(&pt, G + 5 * K4, 0, K4, MOAT_PT_RW), MOAT_ERR_OVERLAP);
	assert_int_equal(moat_pt_map(&pt, 2 * G - K4, 0, 2 * K4, MOAT_PT_RW), MOAT_ERR_OVERLAP);
	assert_int_equal(moat_pt_map(&pt, 0, 0, 4 * G, MOAT_PT_RW), MOAT_ERR_OVERLAP);
	assert_int_equal(moat_pt_map(&pt, 4 * G + 2 * M2 - K4, 0, K4, MOAT_PT_RW), MOAT_ERR_OVERLAP);
	assert_int_equal(moat_pt_map(&pt, 4 * G, 0, G, MOAT_PT_RW), MOAT_ERR_OVERLAP);
	t_snap_take(&pt, &after);
	assert_true(t_snap_equal(&before, &after));
	t_snap_free(&after);
	t_snap_free(&before);
	/* Right next to them is fine. */
	assert_int_equal(moat_pt_map(&pt, 2 * G, 0, K4, MOAT_PT_RW), MOAT_OK);
	assert_int_equal(moat_pt_map(&pt, 4 * G + 2 * M2, 0, K4, MOAT_PT_RW), MOAT_OK);
	assert_int_equal(moat_pt_map(&pt, G - K4, 0, K4, MOAT_PT_RW), MOAT_OK);
	t_teardown(&pt, &tp);
}

static void strict_unmap_refuses_holes_and_changes_nothing(void **state)
{
	(void)state;
	struct moat_pt pt;
	struct tpages tp;
	struct moat_pt_gather g;
	static const struct moat_pt_gather empty;   /* static: its padding is zero too, as the gather's */
	struct t_snap before, after;

	t_setup(&pt, &tp, 64, MOAT_PT_AMD_V1, 4, T_ALL_SIZES, true);
	assert_int_equal(moat_pt_map(&pt, G, G, G, MOAT_PT_RW), MOAT_OK);
	assert_int_equal(moat_pt_map(&pt, 8 * K4, 0, 2 * K4, MOAT_PT_RW), MOAT_OK);
	assert_int_equal(moat_pt_map(&pt, 11 * K4, 0, K4, MOAT_PT_RW), MOAT_OK);
	t_snap_take(&pt, &before);
	moat_pt_gather_init(&g);

	assert_int_equal(moat_pt_unmap(&pt, 8 * K4, 4 * K4, &g), MOAT_ERR_NOT_FOUND);  /* hole at 10 */
	assert_int_equal(moat_pt_unmap(&pt, 7 * K4, 2 * K4, &g), MOAT_ERR_NOT_FOUND);  /* starts before */
	assert_int_equal(moat_pt_unmap(&pt, 100 * K4, K4, &g), MOAT_ERR_NOT_FOUND);    /* nothing there */
	assert_int_equal(moat_pt_unmap(&pt, 2 * G - K4, 2 * K4, &g), MOAT_ERR_NOT_FOUND);  /* past a 1G leaf */
	assert_int_equal(moat_pt_unmap(&pt, 0, 0, &g), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_pt_unmap(&pt, 0x10, K4, &g), MOAT_ERR_ALIGNMENT);
	assert_int_equal(moat_pt_unmap(&pt, 0, K4 + 8, &g), MOAT_ERR_ALIGNMENT);
	assert_int_equal(moat_pt_unmap(&pt, 8 * K4, K4, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_pt_unmap(NULL, 8 * K4, K4, &g), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_pt_unmap(&pt, pt.iova_last - K4 + 1, 2 * K4, &g), MOAT_ERR_INVALID_ARG);
	assert_memory_equal(&g, &empty, sizeof(g));
	t_snap_take(&pt, &after);
	assert_true(t_snap_equal(&before, &after));
	t_snap_free(&after);
	t_snap_free(&before);
	t_teardown(&pt, &tp);
}

static void unmap_present_clears_what_is_there_and_reports_it(void **state)
{
	(void)state;
	struct moat_pt pt;
	struct tpages tp;
	struct moat_pt_gather g;
	uint64_t unmapped = 1;

	t_setup(&pt, &tp, 64, MOAT_PT_AMD_V1, 4, T_ALL_SIZES, true);
	assert_int_equal(moat_pt_map(&pt, G, G, G, MOAT_PT_RW), MOAT_OK);
	assert_int_equal(moat_pt_map(&pt, 8 * K4, 0, 2 * K4, MOAT_PT_RW), MOAT_OK);
	assert_int_equal(moat_pt_map(&pt, 11 * K4, 0, K4, MOAT_PT_RW), MOAT_OK);
	moat_pt_gather_init(&g);

	/* Nothing there: not an error, nothing recorded. */
	assert_int_equal(moat_pt_unmap_present(&pt, 100 * K4, 4 * K4, &g, &unmapped), MOAT_OK);
	assert_int_equal(unmapped, 0);
	assert_int_equal(g.unmapped, 0);
	assert_false(g.tables_changed);

	/* Holes at 10 and after 11; the tables of the first 1 GiB empty and are gathered. */
	assert_int_equal(moat_pt_unmap_present(&pt, 0, 64 * K4, &g, &unmapped), MOAT_OK);
	assert_int_equal(unmapped, 3 * K4);
	assert_int_equal(g.unmapped, 3 * K4);
	assert_int_equal(g.iova_first, 0);
	assert_int_equal(g.iova_last, 64 * K4 - 1);
	assert_int_equal(g.freed_pages, 2);  /* the level-1 and level-2 tables of the first 1 GiB */
	assert_true(g.tables_changed);

	/* Across the end of the 1 GiB leaf: splits it, unmaps the part inside. */
	assert_int_equal(moat_pt_unmap_present(&pt, 2 * G - 3 * K4, G, &g, &unmapped), MOAT_OK);
	assert_int_equal(unmapped, 3 * K4);
	assert_int_equal(g.unmapped, 6 * K4);
	assert_int_equal(g.iova_first, 0);
	assert_int_equal(g.iova_last, 3 * G - 3 * K4 - 1);
	assert_translates(&pt, 2 * G - 4 * K4, 2 * G - 4 * K4, MOAT_PT_RW, T_4K);
	assert_unmapped(&pt, 2 * G - 3 * K4);
	assert_int_equal(tp.live, moat_pt_table_pages(&pt) + g.freed_pages);
	moat_pt_gather_release(&pt, &g);
	assert_int_equal(tp.live, moat_pt_table_pages(&pt));
	assert_int_equal(moat_pt_unmap_present(&pt, 0, 4 * G, &g, NULL), MOAT_OK);
	assert_int_equal(moat_pt_table_pages(&pt), 1);
	moat_pt_gather_release(&pt, &g);
	t_teardown(&pt, &tp);
}

static void leaf_only_unmaps_leave_paging_structures_alone(void **state)
{
	(void)state;
	struct moat_pt pt;
	struct tpages tp;
	struct moat_pt_gather g;

	t_setup(&pt, &tp, 64, MOAT_PT_VTD_SL, 4, T_ALL_SIZES, true);
	assert_int_equal(moat_pt_map(&pt, 0, 0, 4 * K4, MOAT_PT_RW), MOAT_OK);
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap(&pt, K4, K4, &g), MOAT_OK);
	assert_false(g.tables_changed);
	assert_int_equal(g.freed_pages, 0);
	assert_null(g.pages);
	assert_int_equal(moat_pt_unmap(&pt, 0, K4, &g), MOAT_OK);
	assert_int_equal(moat_pt_unmap(&pt, 2 * K4, 2 * K4, &g), MOAT_OK);
	assert_true(g.tables_changed);
	assert_int_equal(g.freed_pages, 3);
	assert_int_equal(g.unmapped, 4 * K4);
	assert_non_null(g.pages);
	moat_pt_gather_release(&pt, &g);
	assert_int_equal(g.freed_pages, 0);
	assert_int_equal(tp.live, 1);
	t_teardown(&pt, &tp);
}

static void translate_checks_its_arguments(void **state)
{
	(void)state;
	struct moat_pt pt;
	struct tpages tp;
	uint64_t phys = 0;

	t_setup(&pt, &tp, 64, MOAT_PT_VTD_SL, 3, T_ALL_SIZES, true);
	assert_int_equal(moat_pt_translate(NULL, 0, &phys, NULL, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_pt_translate(&pt, 1ull << 39, &phys, NULL, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_pt_translate(&pt, (1ull << 39) - 1, &phys, NULL, NULL), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_pt_table_pages(NULL), 0);
	assert_int_equal(moat_pt_table_pages(&pt), 1);
	t_teardown(&pt, &tp);
}

/* moat_pt_map_unused() builds what moat_pt_map() builds for disjoint ranges, checks the same
 * arguments, and still refuses overlaps it can see (slots the range covers only in part). */
static void map_unused_builds_what_map_builds(void **state)
{
	(void)state;
	static const uint64_t runs[][2] = {
		{ 0, 0x9f000 }, { 0x100000, 0x1134000 }, { 0x3579000, 3 * G - 0x3579000 - 0x100000 },
		{ 4 * G, 2 * G + 5 * K4 },
	};
	struct tpages tp[2];
	struct moat_pt pt[2];
	struct t_leaves l[2];

	for (unsigned k = 0; k < 2; k++) {
		t_setup(&pt[k], &tp[k], 64, MOAT_PT_VTD_SL, 4, T_ALL_SIZES, true);
		assert_false(pt[k].used);
		for (unsigned i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
			assert_int_equal((k ? moat_pt_map_unused : moat_pt_map)(&pt[k], runs[i][0], runs[i][0],
										 runs[i][1], MOAT_PT_RW),
					 MOAT_OK);
		assert_true(pt[k].used);
		t_leaves_take(&pt[k], &l[k]);
	}
	assert_int_equal(l[0].n, l[1].n);
	assert_int_equal(l[0].tables, l[1].tables);
	assert_int_equal(pt[0].table_pages, pt[1].table_pages);
	assert_memory_equal(l[0].v, l[1].v, l[0].n * sizeof(l[0].v[0]));
	assert_true(l[1].by_size[2] >= 2);

	/* the same argument checks */
	assert_int_equal(moat_pt_map_unused(&pt[1], 8 * G, 8 * G, 0, MOAT_PT_RW), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_pt_map_unused(&pt[1], 8 * G + 8, 8 * G, K4, MOAT_PT_RW), MOAT_ERR_ALIGNMENT);
	assert_int_equal(moat_pt_map_unused(&pt[1], 8 * G, 8 * G, K4, 0), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_pt_map_unused(NULL, 8 * G, 8 * G, K4, MOAT_PT_RW), MOAT_ERR_INVALID_ARG);
	/* a 4 KiB page inside a 2 MiB leaf covers that slot in part: read and refused */
	assert_int_equal(moat_pt_map_unused(&pt[1], 0x201000, 0x201000, K4, MOAT_PT_RW), MOAT_ERR_OVERLAP);
	/* a range ending inside a 1 GiB leaf goes down to it and is refused */
	assert_int_equal(moat_pt_map_unused(&pt[1], 6 * G - M2, 6 * G - M2, 2 * M2, MOAT_PT_RW),
			 MOAT_ERR_OVERLAP);
	for (unsigned k = 0; k < 2; k++) {
		t_leaves_free(&l[k]);
		t_teardown(&pt[k], &tp[k]);
	}
}

/* The one-page fast path works through existing tables only and says NOT_FOUND otherwise; with
 * keep_tables, unmaps leave emptied tables linked. */
static void page_fast_path_and_kept_tables(void **state)
{
	(void)state;
	struct tpages tp;
	struct moat_pt pt;
	struct moat_pt_gather g;
	uint64_t phys = 0, pages;
	unsigned prot = 0;

	t_setup(&pt, &tp, 64, MOAT_PT_VTD_SL, 4, T_ALL_SIZES, false);
	assert_int_equal(moat_pt_map_page(&pt, NULL, 0x5000, 0x9000, MOAT_PT_READ), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_pt_map(&pt, 0x1000, 0x1000, K4, MOAT_PT_RW), MOAT_OK);
	tp_flush_reset(&tp);
	assert_int_equal(moat_pt_map_page(&pt, NULL, 0x5000, 0x9000, MOAT_PT_READ), MOAT_OK);
	assert_true(tp.flushes >= 1);   /* the written line, on a non-coherent walker */
	assert_int_equal(moat_pt_translate(&pt, 0x5123, &phys, &prot, NULL), MOAT_OK);
	assert_int_equal(phys, 0x9123);
	assert_int_equal(prot, MOAT_PT_READ);
	assert_int_equal(moat_pt_map_page(&pt, NULL, 0x5000, 0xa000, MOAT_PT_READ), MOAT_ERR_OVERLAP);
	assert_int_equal(moat_pt_map_page(&pt, NULL, 0x5008, 0xa000, MOAT_PT_READ), MOAT_ERR_ALIGNMENT);
	assert_int_equal(moat_pt_map_page(&pt, NULL, 0x6000, 0xa000, 0), MOAT_ERR_INVALID_ARG);
	/* a superpage is not a 4 KiB leaf: the fast unmap declines, the full one splits */
	assert_int_equal(moat_pt_map(&pt, 2 * M2, 2 * M2, M2, MOAT_PT_RW), MOAT_OK);
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap_page(&pt, NULL, 2 * M2, &g), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_pt_unmap_page(&pt, NULL, 0x7000, &g), MOAT_ERR_NOT_FOUND);
	assert_int_equal(g.unmapped, 0);
	assert_int_equal(moat_pt_unmap_page(&pt, NULL, 0x5000, &g), MOAT_OK);
	assert_int_equal(g.unmapped, K4);
	assert_int_equal(g.iova_first, 0x5000);
	assert_int_equal(g.iova_last, 0x5fff);
	assert_int_equal(moat_pt_translate(&pt, 0x5000, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	moat_pt_gather_release(&pt, &g);
	/* kept tables: unmapping the last page leaves its tables */
	pt.keep_tables = true;
	pages = pt.table_pages;
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap(&pt, 0x1000, K4, &g), MOAT_OK);
	assert_int_equal(pt.table_pages, pages);
	assert_int_equal(g.freed_pages, 0);
	moat_pt_gather_release(&pt, &g);
	pt.keep_tables = false;
	t_teardown(&pt, &tp);
}

/* The one-page path remembers the last table it used; an unmap that frees that table makes it
 * forget: it never writes into a table no longer linked, nor into one a superpage replaced. */
static void page_fast_path_forgets_tables_that_go(void **state)
{
	(void)state;
	struct tpages tp;
	struct moat_pt pt;
	struct moat_pt_gather g;
	const uint64_t base = 4 * M2;
	uint64_t phys = 0, size = 0, pages;

	t_setup(&pt, &tp, 64, MOAT_PT_VTD_SL, 4, T_ALL_SIZES, true);
	assert_int_equal(moat_pt_map(&pt, base + 0x1000, 0x1000, K4, MOAT_PT_RW), MOAT_OK);
	assert_int_equal(moat_pt_map_page(&pt, NULL, base + 0x2000, 0x2000, MOAT_PT_RW), MOAT_OK);
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap(&pt, base + 0x1000, 2 * K4, &g), MOAT_OK);
	assert_true(g.freed_pages >= 1);   /* the last-level table went */
	moat_pt_gather_release(&pt, &g);
	assert_int_equal(moat_pt_map_page(&pt, NULL, base + 0x2000, 0x2000, MOAT_PT_RW), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_pt_translate(&pt, base + 0x2000, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);

	/* an emptied table kept linked stays under a map that could take a superpage (it takes 4 KiB
	 * leaves in it: nothing was mapped there), and the page path goes on using it */
	pt.keep_tables = true;
	assert_int_equal(moat_pt_map(&pt, base + 0x1000, 0x1000, K4, MOAT_PT_RW), MOAT_OK);
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap(&pt, base + 0x1000, K4, &g), MOAT_OK);
	moat_pt_gather_release(&pt, &g);
	pages = pt.table_pages;
	assert_int_equal(moat_pt_map(&pt, base, 0x40000000, M2, MOAT_PT_READ), MOAT_OK);
	assert_int_equal(pt.table_pages, pages);
	assert_int_equal(moat_pt_translate(&pt, base + M2 - 1, &phys, NULL, &size), MOAT_OK);
	assert_int_equal(phys, 0x40000000 + M2 - 1);
	assert_int_equal(size, K4);
	assert_int_equal(moat_pt_map(&pt, base + M2 - K4, 0x1000, K4, MOAT_PT_RW), MOAT_ERR_OVERLAP);
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap(&pt, base, M2, &g), MOAT_OK);
	assert_int_equal(g.freed_pages, 0);
	moat_pt_gather_release(&pt, &g);
	pt.keep_tables = false;
	assert_int_equal(moat_pt_map_page(&pt, NULL, base + 0x2000, 0x2000, MOAT_PT_RW), MOAT_OK);
	/* the table freed by a full unmap, then a superpage in its place */
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap(&pt, base + 0x2000, K4, &g), MOAT_OK);
	assert_true(g.freed_pages >= 1);
	moat_pt_gather_release(&pt, &g);
	assert_int_equal(moat_pt_map(&pt, base, 0x40000000, M2, MOAT_PT_READ), MOAT_OK);
	assert_int_equal(moat_pt_map_page(&pt, NULL, base + 0x2000, 0x2000, MOAT_PT_RW), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_pt_translate(&pt, base + 0x2000, &phys, NULL, &size), MOAT_OK);
	assert_int_equal(phys, 0x40002000);
	assert_int_equal(size, M2);
	t_teardown(&pt, &tp);
}

/* Runs of pages through existing tables: across a table boundary, all or nothing, each written
 * line flushed once on a non-coherent walker. */
static void page_runs_all_or_nothing(void **state)
{
	(void)state;
	struct tpages tp;
	struct moat_pt pt;
	struct moat_pt_gather g;
	const uint64_t base = 6 * M2 - 8 * K4;   /* 8 pages below a 2 MiB boundary, 8 above */
	uint64_t phys = 0;
	unsigned prot = 0;

	t_setup(&pt, &tp, 64, MOAT_PT_VTD_SL, 4, T_ALL_SIZES, false);
	assert_int_equal(moat_pt_map(&pt, base - K4, 0x1000, K4, MOAT_PT_RW), MOAT_OK);
	/* the second table is missing: nothing written */
	assert_int_equal(moat_pt_map_pages(&pt, NULL, base, 0x100000, 16, MOAT_PT_READ), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_pt_translate(&pt, base, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_pt_map(&pt, 6 * M2 + 15 * K4, 0x2000, K4, MOAT_PT_RW), MOAT_OK);
	/* the last page is taken: nothing written */
	assert_int_equal(moat_pt_map_pages(&pt, NULL, base, 0x100000, 24, MOAT_PT_READ), MOAT_ERR_OVERLAP);
	assert_int_equal(moat_pt_translate(&pt, base, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	tp_flush_reset(&tp);
	assert_int_equal(moat_pt_map_pages(&pt, NULL, base, 0x100000, 16, MOAT_PT_READ), MOAT_OK);
	assert_int_equal(tp.flushes, 2);   /* one line of 8 entries in each table */
	assert_int_equal(tp.flush_dones, 1);
	for (uint64_t k = 0; k < 16; k++) {
		assert_int_equal(moat_pt_translate(&pt, base + k * K4 + 5, &phys, &prot, NULL), MOAT_OK);
		assert_int_equal(phys, 0x100000 + k * K4 + 5);
		assert_int_equal(prot, MOAT_PT_READ);
	}
	/* an unmap reaching a page that is not mapped changes nothing */
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_unmap_pages(&pt, NULL, base + 4 * K4, 16, &g), MOAT_ERR_NOT_FOUND);
	assert_int_equal(g.unmapped, 0);
	assert_int_equal(moat_pt_translate(&pt, base + 4 * K4, NULL, NULL, NULL), MOAT_OK);
	assert_int_equal(moat_pt_unmap_pages(&pt, NULL, base, 16, &g), MOAT_OK);
	assert_int_equal(g.unmapped, 16 * K4);
	assert_int_equal(g.iova_first, base);
	assert_int_equal(g.iova_last, base + 16 * K4 - 1);
	assert_int_equal(g.freed_pages, 0);
	for (uint64_t k = 0; k < 16; k++)
		assert_int_equal(moat_pt_translate(&pt, base + k * K4, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	moat_pt_gather_release(&pt, &g);
	assert_int_equal(moat_pt_map_pages(&pt, NULL, base, 0x100000, 0, MOAT_PT_READ), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_pt_map_pages(&pt, NULL, base, 0x100000, MOAT_PT_PAGES_MAX + 1, MOAT_PT_READ),
			 MOAT_ERR_INVALID_ARG);
	t_teardown(&pt, &tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_rejects_bad_configurations),
		cmocka_unit_test(init_refuses_pages_the_format_cannot_hold),
		cmocka_unit_test(map_rejects_bad_arguments_and_changes_nothing),
		cmocka_unit_test(maps_overlapping_superpages_are_refused),
		cmocka_unit_test(strict_unmap_refuses_holes_and_changes_nothing),
		cmocka_unit_test(unmap_present_clears_what_is_there_and_reports_it),
		cmocka_unit_test(leaf_only_unmaps_leave_paging_structures_alone),
		cmocka_unit_test(translate_checks_its_arguments),
		cmocka_unit_test(map_unused_builds_what_map_builds),
		cmocka_unit_test(page_fast_path_and_kept_tables),
		cmocka_unit_test(page_fast_path_forgets_tables_that_go),
		cmocka_unit_test(page_runs_all_or_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
