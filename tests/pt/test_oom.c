/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Out of memory at every allocation point: each operation is run with an allocator that fails its
 * N-th call, for N = 1, 2, ... until the operation no longer needs that many pages. After every
 * failure the live tables must be bit-for-bit what they were (all table pages, snapshotted by a
 * walk), the page counts unchanged, nothing leaked, the gather untouched; then the operation
 * succeeds. (AMD with one level allocates nothing after init: its root is the only table.)
 */
#include "pt_test.h"

enum op_kind { OP_MAP, OP_UNMAP, OP_UNMAP_PRESENT };

struct oop {
	enum op_kind kind;
	uint64_t iova, phys, size;
	unsigned prot;
	int pages;          /* pages the operation needs, or -1 when it depends on the configuration */
	unsigned min_levels;
	unsigned need_sizes;
	const char *what;
};

static moat_status run_op(struct moat_pt *pt, const struct oop *o, struct moat_pt_gather *g)
{
	uint64_t unmapped;

	switch (o->kind) {
	case OP_MAP:
		return moat_pt_map(pt, o->iova, o->phys, o->size, o->prot);
	case OP_UNMAP:
		return moat_pt_unmap(pt, o->iova, o->size, g);
	case OP_UNMAP_PRESENT:
		return moat_pt_unmap_present(pt, o->iova, o->size, g, &unmapped);
	}
	return MOAT_ERR_INVALID_ARG;
}

/* Run @o failing the k-th allocation for every k it reaches; return the pages it needed. */
static unsigned fails_cleanly_at_every_allocation(struct moat_pt *pt, struct tpages *tp, const struct oop *o)
{
	struct t_snap before, after;
	const uint64_t pages = moat_pt_table_pages(pt), live = tp->live;
	static const struct moat_pt_gather empty;   /* static: its padding is zero too, as the gather's */

	t_snap_take(pt, &before);
	for (unsigned k = 1;; k++) {
		struct moat_pt_gather g;
		const uint64_t calls = tp->alloc_calls;
		moat_status st;

		moat_pt_gather_init(&g);
		tp->fail_at = k;
		tp->fail_sticky = false;
		st = run_op(pt, o, &g);
		tp->fail_at = 0;
		if (st == MOAT_ERR_NO_MEMORY) {
			assert_int_equal(tp->alloc_calls - calls, k);
			assert_int_equal(moat_pt_table_pages(pt), pages);
			assert_int_equal(tp->live, live);
			assert_memory_equal(&g, &empty, sizeof(g));
			t_snap_take(pt, &after);
			if (!t_snap_equal(&before, &after)) {
				fprintf(stderr, "%s: tables changed after a failure at allocation %u\n", o->what, k);
				fail();
			}
			t_snap_free(&after);
			continue;
		}
		if (st != MOAT_OK)
			fprintf(stderr, "%s: %s\n", o->what, moat_status_str(st));
		assert_int_equal(st, MOAT_OK);
		/* Exactly the pages counted were allocated, and all of them used or gathered. */
		assert_int_equal(tp->alloc_calls - calls, k - 1);
		assert_int_equal(tp->live, moat_pt_table_pages(pt) + g.freed_pages);
		moat_pt_gather_release(pt, &g);
		t_snap_free(&before);
		return k - 1;
	}
}

#define G (1ull << 30)
#define M2 (1ull << 21)
#define K4 (1ull << 12)

/* Run in order on tables already holding 1 GiB at 2 GiB (then 4 GiB..6 GiB) and 12 KiB at 8 MiB. */
static const struct oop oom_ops[] = {
	{ OP_MAP, 16 * M2 - 2 * K4, 0x9000000000ull + K4, M2 + 4 * K4, MOAT_PT_RW, -1, 2, 0,
	  "4K pages across 2M boundaries next to existing tables" },
	{ OP_MAP, 64 * M2 - K4, 0x9000000000ull - K4, 2 * M2 + 2 * K4, MOAT_PT_READ, 2, 2, MOAT_PT_PAGE_2M,
	  "2M leaves with 4K ends in an existing level-2 table" },
	{ OP_MAP, 8 * G - K4, 0x9000000000ull - K4, K4 + G + M2 + K4, MOAT_PT_RW, -1, 3, MOAT_PT_PAGE_2M,
	  "a new subtree across a 1G boundary" },
	{ OP_MAP, 16 * G + 3 * K4, 0x9000000000ull + 5 * K4, 40 * M2, MOAT_PT_WRITE, -1, 3, 0,
	  "a new subtree of 4K pages only (misaligned)" },
	{ OP_UNMAP, 2 * G + 0x12345000ull, 0, K4, 0, 2, 3, MOAT_PT_PAGE_1G, "split a 1G page at one 4K page" },
	{ OP_UNMAP, 5 * G - K4, 0, 3 * K4, 0, 4, 3, MOAT_PT_PAGE_1G, "split two 1G pages at their common edge" },
	{ OP_UNMAP_PRESENT, 2 * G + G / 2 - 5 * K4, 0, G, 0, -1, 3, MOAT_PT_PAGE_2M,
	  "unmap with holes ending inside superpages" },
	{ OP_MAP, 8 * M2 + 16 * K4, 0x1000, K4, MOAT_PT_RW, 0, 2, 0, "a page in an existing level-1 table" },
};

static void every_allocation_point_fails_cleanly(void **state)
{
	(void)state;
	static const struct {
		enum moat_pt_format f;
		unsigned levels, sizes;
	} cfgs[] = {
		{ MOAT_PT_VTD_SL, 3, T_ALL_SIZES },
		{ MOAT_PT_VTD_SL, 4, T_ALL_SIZES },
		{ MOAT_PT_VTD_SL, 5, MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M },
		{ MOAT_PT_AMD_V1, 2, T_ALL_SIZES },
		{ MOAT_PT_AMD_V1, 3, T_ALL_SIZES },
		{ MOAT_PT_AMD_V1, 6, T_ALL_SIZES },
		{ MOAT_PT_AMD_V1, 4, MOAT_PT_PAGE_4K },
	};

	for (unsigned c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
		struct moat_pt pt;
		struct tpages tp;
		unsigned sizes = cfgs[c].sizes;
		unsigned ran = 0;

		if (cfgs[c].levels < 3)
			sizes &= ~MOAT_PT_PAGE_1G;
		if (cfgs[c].levels < 2)
			sizes &= ~MOAT_PT_PAGE_2M;
		t_setup(&pt, &tp, 8192, cfgs[c].f, cfgs[c].levels, cfgs[c].sizes, true);
		tp.recycle = true;
		if (cfgs[c].levels >= 3 && (sizes & MOAT_PT_PAGE_2M)) {
			assert_int_equal(moat_pt_map(&pt, 2 * G, 0x8000000000ull, G, MOAT_PT_RW), MOAT_OK);
			assert_int_equal(moat_pt_map(&pt, 4 * G, 0x8040000000ull, 2 * G, MOAT_PT_RW), MOAT_OK);
		}
		if (cfgs[c].levels >= 2)
			assert_int_equal(moat_pt_map(&pt, 8 * M2, 0x123000, 3 * K4, MOAT_PT_RW), MOAT_OK);
		for (unsigned i = 0; i < sizeof(oom_ops) / sizeof(oom_ops[0]); i++) {
			const struct oop *o = &oom_ops[i];
			unsigned needed;

			if (cfgs[c].levels < o->min_levels || (o->need_sizes & ~sizes))
				continue;
			needed = fails_cleanly_at_every_allocation(&pt, &tp, o);
			if (o->pages >= 0)
				assert_int_equal(needed, (unsigned)o->pages);
			else
				assert_true(needed > 0);
			ran++;
		}
		assert_true(ran >= 2);
		t_teardown(&pt, &tp);
	}
}

static void init_without_memory_fails_and_leaks_nothing(void **state)
{
	(void)state;
	struct tpages tp;
	struct moat_pt pt;
	struct moat_pt_config cfg = { MOAT_PT_VTD_SL, 4, T_ALL_SIZES, false };
	struct moat_pt_ops ops;

	tp_init(&tp, 16);
	ops = tp_ops(&tp);
	tp.fail_at = 1;
	assert_int_equal(moat_pt_init(&pt, &cfg, &ops), MOAT_ERR_NO_MEMORY);
	assert_int_equal(tp.live, 0);
	assert_int_equal(tp.flushes, 0);
	assert_int_equal(moat_pt_init(&pt, &cfg, &ops), MOAT_OK);
	moat_pt_destroy(&pt);
	assert_int_equal(tp.live, 0);
	tp_fini(&tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_allocation_point_fails_cleanly),
		cmocka_unit_test(init_without_memory_fails_and_leaks_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
