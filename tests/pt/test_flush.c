/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cache flushes for non-coherent walkers: per operation every written line of a live table is
 * flushed exactly once, a new table is flushed completely while nothing links to it yet (so the
 * IOMMU never follows a link into stale memory), and flush_done() comes once, after the last
 * flush. A coherent instance never flushes.
 */
#include "pt_test.h"

#define G (1ull << 30)
#define M2 (1ull << 21)
#define K4 (1ull << 12)

struct fcheck {
	struct t_snap before;   /* live pages before the operation */
	uint64_t order_errors;  /* a new page flushed while some entry already linked it */
	uint64_t misaligned;
	enum moat_pt_format format;
};

static bool page_of(const struct tpages *tp, const void *p, uint64_t *phys)
{
	uintptr_t page = (uintptr_t)p & ~(uintptr_t)4095;

	for (unsigned s = 0; s < tp->next; s++) {
		if (tp->virt[s] && (uintptr_t)tp->virt[s] == page) {
			*phys = TP_PHYS_BASE + (uint64_t)s * 4096;
			return true;
		}
	}
	return false;
}

/* Is @phys the target of a present entry in any page the allocator has given out? */
static bool linked(const struct tpages *tp, enum moat_pt_format f, uint64_t phys)
{
	for (unsigned s = 0; s < tp->next; s++) {
		const uint64_t *e = tp->virt[s];

		for (unsigned i = 0; e && i < 512; i++)
			if (t_present(f, e[i]) && (e[i] & T_ADDR) == phys)
				return true;
	}
	return false;
}

static void on_flush(struct tpages *tp, const void *line)
{
	struct fcheck *fc = tp->hook_ctx;
	uint64_t phys;

	if ((uintptr_t)line & 63)
		fc->misaligned++;
	if (page_of(tp, line, &phys) && !t_snap_find(&fc->before, phys) && linked(tp, fc->format, phys))
		fc->order_errors++;
}

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct tp_flush_rec *)a)->line;
	uintptr_t y = (uintptr_t)((const struct tp_flush_rec *)b)->line;

	return x < y ? -1 : x > y;
}

static bool flushed(const struct tpages *tp, const void *line)
{
	struct tp_flush_rec key = { line, 0 };

	return bsearch(&key, tp->flog, tp->nflog, sizeof(*tp->flog), ptr_cmp) != NULL;
}

static bool in_gather(const struct moat_pt_gather *g, const void *line)
{
	uintptr_t page = (uintptr_t)line & ~(uintptr_t)4095;

	for (const uint64_t *p = g->pages; p; p = (const uint64_t *)(uintptr_t)p[0])
		if ((uintptr_t)p == page)
			return true;
	return false;
}

enum fop { F_MAP, F_UNMAP, F_UNMAP_PRESENT };

/*
 * Run one operation with flush checking; returns the number of lines flushed. The caller's tables
 * may hold anything.
 */
static uint64_t checked_op(struct moat_pt *pt, struct tpages *tp, enum fop kind, uint64_t iova, uint64_t phys,
			   uint64_t size)
{
	struct fcheck fc = { .format = pt->cfg.format };
	struct t_snap after;
	struct moat_pt_gather g;
	uint64_t unmapped, n;
	moat_status st;

	t_snap_take(pt, &fc.before);
	tp_flush_reset(tp);
	tp->on_flush = on_flush;
	tp->hook_ctx = &fc;
	moat_pt_gather_init(&g);
	if (kind == F_MAP)
		st = moat_pt_map(pt, iova, phys, size, MOAT_PT_RW);
	else if (kind == F_UNMAP)
		st = moat_pt_unmap(pt, iova, size, &g);
	else
		st = moat_pt_unmap_present(pt, iova, size, &g, &unmapped);
	tp->on_flush = NULL;
	assert_int_equal(st, MOAT_OK);

	assert_int_equal(fc.order_errors, 0);
	assert_int_equal(fc.misaligned, 0);
	assert_true(tp->nflog > 0);
	assert_int_equal(tp->flush_dones, 1);
	assert_int_equal(tp->flushes_at_done, tp->flushes);

	/* No line twice. */
	qsort(tp->flog, tp->nflog, sizeof(*tp->flog), ptr_cmp);
	for (size_t i = 1; i < tp->nflog; i++)
		assert_ptr_not_equal(tp->flog[i].line, tp->flog[i - 1].line);

	/* Every changed line of a table that stays live was flushed; every line of a new table. */
	t_snap_take(pt, &after);
	for (size_t p = 0; p < after.n; p++) {
		const struct t_page *old = t_snap_find(&fc.before, after.pages[p].phys);
		const uint64_t *virt = tp_p2v(tp, after.pages[p].phys);

		for (unsigned l = 0; l < 64; l++) {
			bool changed = !old || memcmp(&old->e[l * 8], &after.pages[p].e[l * 8], 64) != 0;

			if (changed && !flushed(tp, virt + l * 8)) {
				fprintf(stderr, "line %u of %s table 0x%llx written, not flushed\n", l,
					old ? "a" : "a new", (unsigned long long)after.pages[p].phys);
				fail();
			}
		}
	}
	/* Lines flushed belong to live tables or to tables just unlinked. */
	for (size_t i = 0; i < tp->nflog; i++) {
		uint64_t page_phys = 0;

		assert_true(page_of(tp, tp->flog[i].line, &page_phys));
		assert_true(t_snap_find(&after, page_phys) || in_gather(&g, tp->flog[i].line));
	}
	n = tp->nflog;
	moat_pt_gather_release(pt, &g);
	t_snap_free(&after);
	t_snap_free(&fc.before);
	return n;
}

static void run_sequence(enum moat_pt_format f, unsigned levels)
{
	struct moat_pt pt;
	struct tpages tp;

	t_setup(&pt, &tp, 1024, f, levels, T_ALL_SIZES, false);
	/* The root was flushed whole at init, then one barrier. */
	assert_int_equal(tp.flushes, 64);
	assert_int_equal(tp.flush_dones, 1);

	/* A new subtree across a 2 MiB boundary: every new table whole, plus the root's line. */
	assert_int_equal(checked_op(&pt, &tp, F_MAP, 2 * M2 - 2 * K4, 0x9000000000ull, 4 * K4),
			 64 * (levels - 1 + 1) + 1);
	/* 16 pages into the existing level-1 table at entries 3..18: lines 0, 1 and 2, nothing else. */
	assert_int_equal(checked_op(&pt, &tp, F_MAP, 2 * M2 + 3 * K4, 0x9100000000ull, 16 * K4), 3);
	/* 512 pages filling a new level-1 table: 64 lines, plus one line of its parent. */
	assert_int_equal(checked_op(&pt, &tp, F_MAP, 5 * M2, 0x9200000000ull + K4, M2), 64 + 1);
	/* 2 MiB leaves with 4 KiB ends in an existing level-2 table. */
	checked_op(&pt, &tp, F_MAP, 8 * M2 - K4, 0x9300000000ull - K4, 4 * M2 + 2 * K4);
	/* 1 GiB leaves and a new subtree next to them. */
	checked_op(&pt, &tp, F_MAP, 2 * G - K4, 0x9400000000ull - K4, 2 * G + M2 + 2 * K4);
	/* Splitting: a 1 GiB page losing one 4 KiB page, two 1 GiB pages losing their common edge. */
	checked_op(&pt, &tp, F_UNMAP, 2 * G + 0x12345000ull, 0, K4);
	checked_op(&pt, &tp, F_UNMAP, 3 * G - K4, 0, 2 * K4);
	/* Unmaps that empty tables, and one over holes. */
	checked_op(&pt, &tp, F_UNMAP, 5 * M2, 0, M2);
	checked_op(&pt, &tp, F_UNMAP_PRESENT, 0, 0, 16 * M2);
	checked_op(&pt, &tp, F_UNMAP, 2 * G - K4, 0, K4);
	checked_op(&pt, &tp, F_UNMAP_PRESENT, G, 0, 4 * G);
	assert_int_equal(moat_pt_table_pages(&pt), 1);
	t_teardown(&pt, &tp);
}

static void noncoherent_writes_flush_each_line_once_new_tables_first(void **state)
{
	(void)state;
	run_sequence(MOAT_PT_VTD_SL, 3);
	run_sequence(MOAT_PT_VTD_SL, 4);
	run_sequence(MOAT_PT_VTD_SL, 5);
	run_sequence(MOAT_PT_AMD_V1, 3);
	run_sequence(MOAT_PT_AMD_V1, 6);
}

static void coherent_walkers_are_never_flushed(void **state)
{
	(void)state;
	struct moat_pt pt;
	struct tpages tp;
	struct moat_pt_gather g;

	t_setup(&pt, &tp, 1024, MOAT_PT_AMD_V1, 4, T_ALL_SIZES, true);
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_map(&pt, 2 * M2 - K4, 0x9000000000ull - K4, 2 * G, MOAT_PT_RW), MOAT_OK);
	assert_int_equal(moat_pt_unmap(&pt, G + 0x12345000ull, K4, &g), MOAT_OK);
	assert_int_equal(moat_pt_unmap_present(&pt, 0, 4 * G, &g, NULL), MOAT_OK);
	moat_pt_gather_release(&pt, &g);
	assert_int_equal(tp.flushes, 0);
	assert_int_equal(tp.flush_dones, 0);
	t_teardown(&pt, &tp);
}

static void failed_operations_flush_nothing(void **state)
{
	(void)state;
	struct moat_pt pt;
	struct tpages tp;
	struct moat_pt_gather g;

	t_setup(&pt, &tp, 1024, MOAT_PT_VTD_SL, 4, T_ALL_SIZES, false);
	assert_int_equal(moat_pt_map(&pt, G, 0, G, MOAT_PT_RW), MOAT_OK);
	tp_flush_reset(&tp);
	moat_pt_gather_init(&g);
	assert_int_equal(moat_pt_map(&pt, G + M2, 0, K4, MOAT_PT_RW), MOAT_ERR_OVERLAP);
	assert_int_equal(moat_pt_unmap(&pt, 2 * G - K4, 2 * K4, &g), MOAT_ERR_NOT_FOUND);
	tp.fail_at = 1;
	assert_int_equal(moat_pt_unmap(&pt, G + K4, K4, &g), MOAT_ERR_NO_MEMORY);
	tp.fail_at = 1;
	assert_int_equal(moat_pt_map(&pt, 4 * G, 0, K4, MOAT_PT_RW), MOAT_ERR_NO_MEMORY);
	assert_int_equal(tp.flushes, 0);
	assert_int_equal(tp.flush_dones, 0);
	t_teardown(&pt, &tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(noncoherent_writes_flush_each_line_once_new_tables_first),
		cmocka_unit_test(coherent_walkers_are_never_flushed),
		cmocka_unit_test(failed_operations_flush_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
