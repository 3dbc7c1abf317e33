/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DMA API over a system with a counting unit: permissions by direction, offsets, masks,
 * protected memory, lifetime checks, one invalidation per strict unmap, the deferred queue (no
 * reuse before the invalidation, full-queue and time-bound flushes, the window), scatter-gather,
 * IOVAs already mapped, units that cache not-present entries, out of memory and bounded memory,
 * the limit of mappings kept from several CPUs, records through long churn, and a large buffer
 * where small ones were.
 */
#define _GNU_SOURCE
#include "dma_test.h"

#include <sched.h>
#include <time.h>

static void map_gives_the_direction_and_keeps_the_offset(void **state)
{
	(void)state;
	struct fix f;
	uint64_t iova, phys;
	unsigned prot;
	static const enum moat_dma_dir dirs[] = { MOAT_DMA_TO_DEVICE, MOAT_DMA_FROM_DEVICE, MOAT_DMA_BIDIRECTIONAL };

	fix_up(&f, NULL);
	for (unsigned i = 0; i < 3; i++) {
		/* 100 bytes straddling a page boundary: two whole pages */
		assert_int_equal(moat_dma_map(&f.dma, 0x10000fc0, 100, dirs[i], 0, &iova, NULL), MOAT_OK);
		assert_int_equal(iova & 0xfff, 0xfc0);
		assert_true(translates(&f, iova, &phys, &prot));
		assert_int_equal(phys, 0x10000fc0);
		assert_int_equal(prot, dir_prot(dirs[i]));
		assert_true(translates(&f, iova + 100, &phys, NULL));
		assert_int_equal(phys, 0x10000fc0 + 100);
		/* the whole first page is reachable, nothing past the second */
		assert_true(translates(&f, iova & ~0xfffull, &phys, NULL));
		assert_int_equal(phys, 0x10000000);
		assert_false(translates(&f, (iova & ~0xfffull) + 0x2000, NULL, NULL));
		unsigned before = f.nu.inval_calls;
		assert_int_equal(moat_dma_unmap(&f.dma, iova, 100, dirs[i], NULL), MOAT_OK);
		assert_int_equal(f.nu.inval_calls - before, 1);
		assert_false(translates(&f, iova, NULL, NULL));
		assert_false(translates(&f, iova + 100, NULL, NULL));
	}
	fix_down(&f);
}

static void masks_and_bad_arguments(void **state)
{
	(void)state;
	struct fix f;
	struct moat_diag diag;
	uint64_t iova;
	static const uint64_t masks[] = { 0xffffffff, 0xfffffff, 0xffffff, 0xfffffffff, 0x3fffffff };

	fix_up(&f, NULL);
	for (unsigned i = 0; i < 50; i++) {
		const uint64_t mask = masks[i % 5];

		assert_int_equal(moat_dma_map(&f.dma, 0x20000000 + i * 0x3000, 0x2800, MOAT_DMA_TO_DEVICE, mask, &iova, NULL),
				 MOAT_OK);
		assert_true(iova + 0x2800 - 1 <= mask);
		assert_true(iova >= 0x100000);
	}
	/* a mask whose last page is not whole: that page is not used */
	assert_int_equal(moat_dma_map(&f.dma, 0x20000000, 0x1000, MOAT_DMA_TO_DEVICE, 0x7fff7ff, &iova, NULL), MOAT_OK);
	assert_true(iova + 0xfff <= 0x7fff7ff);
	assert_int_equal(moat_dma_map(&f.dma, 0x20000000, 0x1000, MOAT_DMA_TO_DEVICE, 0xffff, &iova, &diag),
			 MOAT_ERR_INVALID_ARG);
	assert_non_null(strstr(diag.msg, "mask"));
	assert_int_equal(moat_dma_map(&f.dma, 0x20000000, 0, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_map(&f.dma, 0x20000000, 8, 7, 0, &iova, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_map(&f.dma, 0x20000000, 8, 0, 0, &iova, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_map(&f.dma, (1ull << 52) - 4, 8, MOAT_DMA_TO_DEVICE, 0, &iova, NULL),
			 MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_map(&f.dma, UINT64_MAX - 4, 8, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_map(&f.dma, 0x20000000, 8, MOAT_DMA_TO_DEVICE, 0, NULL, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_map(NULL, 0x20000000, 8, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_ERR_INVALID_ARG);
	/* more than 2^20 pages in one mapping */
	assert_int_equal(moat_dma_map(&f.dma, 0x100000000ull, (1ull << 32) + 0x1000, MOAT_DMA_TO_DEVICE, 0, &iova, &diag),
			 MOAT_ERR_INVALID_ARG);
	/* a mask too small for the size: no space */
	assert_int_equal(moat_dma_map(&f.dma, 0x20000000, 0x101000, MOAT_DMA_TO_DEVICE, 0x1fffff, &iova, &diag),
			 MOAT_ERR_NO_SPACE);
	fix_down(&f);
}

static void protected_memory_is_refused_and_nothing_changes(void **state)
{
	(void)state;
	struct moat_dma_config cfg = { .policy = MOAT_DMA_STRICT, .no_cache = true };
	struct fix f;
	struct moat_diag diag;
	struct moat_dma_stats st0, st;
	struct t_walk w;
	uint64_t iova = 0x1234;
	const struct moat_dma_sg sg[2] = { { 0x31000000, 0x1000 }, { 0x3000ff00, 0x200 } };

	fix_up(&f, &cfg);
	assert_int_equal(moat_protect_add(f.sys, 0x30000000, 0x10000, "hv-data", NULL), MOAT_OK);
	moat_dma_stats(&f.dma, &st0);
	assert_int_equal(moat_dma_map(&f.dma, 0x3000f000, 0x2000, MOAT_DMA_FROM_DEVICE, 0, &iova, &diag),
			 MOAT_ERR_PROTECTED);
	assert_non_null(strstr(diag.msg, "hv-data"));
	assert_int_equal(iova, 0x1234);
	/* a list with one protected element: nothing of it is mapped */
	assert_int_equal(moat_dma_map_sg(&f.dma, sg, 2, MOAT_DMA_TO_DEVICE, 0, &iova, &diag), MOAT_ERR_PROTECTED);
	assert_int_equal(iova, 0x1234);
	/* Moat-owned pages: the domain's own root table */
	assert_int_equal(moat_dma_map(&f.dma, f.dom.pt.root_phys + 8, 8, MOAT_DMA_TO_DEVICE, 0, &iova, &diag),
			 MOAT_ERR_PROTECTED);
	assert_non_null(strstr(diag.msg, "moat"));
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.maps, 0);
	assert_int_equal(st.iova.free_pages, st0.iova.free_pages);
	t_walk_take(&f.dom, &w);
	assert_int_equal(w.leaves, 0);
	t_walk_free(&w);
	/* the IOVA space still serves */
	assert_int_equal(moat_dma_map(&f.dma, 0x30010000, 0x1000, MOAT_DMA_FROM_DEVICE, 0, &iova, NULL), MOAT_OK);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_FROM_DEVICE, NULL), MOAT_OK);
	assert_audit_clean(f.sys);
	fix_down(&f);
}

/* Protecting memory a DMA mapping reaches is refused; once unmapped it can be protected, and then
 * it cannot be mapped. */
static void protection_and_live_mappings_exclude_each_other(void **state)
{
	(void)state;
	struct fix f;
	uint64_t iova;

	fix_up(&f, NULL);
	assert_int_equal(moat_dma_map(&f.dma, 0x38000000, 0x3000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
	assert_int_equal(moat_protect_add(f.sys, 0x38001000, 0x1000, "late", NULL), MOAT_ERR_OVERLAP);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x3000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	assert_int_equal(moat_protect_add(f.sys, 0x38001000, 0x1000, "late", NULL), MOAT_OK);
	assert_int_equal(moat_dma_map(&f.dma, 0x38000000, 0x3000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_ERR_PROTECTED);
	assert_int_equal(moat_protect_remove(f.sys, 0x38001000, 0x1000), MOAT_OK);
	assert_int_equal(moat_dma_map(&f.dma, 0x38000000, 0x3000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x3000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	fix_down(&f);
}

static void lifetime_errors_change_nothing(void **state)
{
	(void)state;
	struct fix f;
	struct moat_diag diag;
	char name[32];
	uint64_t iova;

	fix_up(&f, NULL);
	assert_int_equal(moat_dma_map(&f.dma, 0x40000010, 0x3000, MOAT_DMA_FROM_DEVICE, 0, &iova, NULL), MOAT_OK);
	unsigned before = f.nu.inval_calls;
	/* unknown IOVA: named in the message */
	assert_int_equal(moat_dma_unmap(&f.dma, iova + 0x1000, 0x1000, MOAT_DMA_FROM_DEVICE, &diag), MOAT_ERR_NOT_FOUND);
	snprintf(name, sizeof(name), "0x%llx", (unsigned long long)(iova + 0x1000));
	assert_non_null(strstr(diag.msg, name));
	assert_non_null(strstr(diag.msg, "no live mapping"));
	/* wrong size, wrong direction */
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_FROM_DEVICE, &diag), MOAT_ERR_INVALID_ARG);
	snprintf(name, sizeof(name), "0x%llx", (unsigned long long)iova);
	assert_non_null(strstr(diag.msg, name));
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x3000, MOAT_DMA_TO_DEVICE, &diag), MOAT_ERR_INVALID_ARG);
	assert_non_null(strstr(diag.msg, "direction"));
	/* a list unmap of a single mapping */
	const struct moat_dma_sg one = { 0x40000010, 0x3000 };
	assert_int_equal(moat_dma_unmap_sg(&f.dma, iova, &one, 1, MOAT_DMA_FROM_DEVICE, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(f.nu.inval_calls, before);
	assert_true(translates(&f, iova, NULL, NULL));
	assert_true(translates(&f, iova + 0x2fff, NULL, NULL));
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x3000, MOAT_DMA_FROM_DEVICE, NULL), MOAT_OK);
	assert_int_equal(f.nu.inval_calls - before, 1);
	/* double unmap */
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x3000, MOAT_DMA_FROM_DEVICE, &diag), MOAT_ERR_NOT_FOUND);
	assert_non_null(strstr(diag.msg, name));
	assert_int_equal(f.nu.inval_calls - before, 1);
	/* an IOVA never handed out, and a bad direction */
	assert_int_equal(moat_dma_unmap(&f.dma, 0x5000, 0x1000, MOAT_DMA_FROM_DEVICE, &diag), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x3000, 0, &diag), MOAT_ERR_INVALID_ARG);
	struct moat_dma_stats st;
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.maps, 1);
	assert_int_equal(st.unmaps, 1);
	assert_int_equal(st.invalidations, 1);
	fix_down(&f);
}

static void scatter_gather_is_one_range_and_one_invalidation(void **state)
{
	(void)state;
	struct fix f;
	const struct moat_dma_sg sg[3] = { { 0x50000100, 0x200 }, { 0x50100000, 0x2000 }, { 0x50300ff0, 0x20 } };
	uint64_t iova, phys;
	unsigned prot;

	fix_up(&f, NULL);
	assert_int_equal(moat_dma_map_sg(&f.dma, sg, 3, MOAT_DMA_TO_DEVICE, 0xffffffff, &iova, NULL), MOAT_OK);
	assert_int_equal(iova & 0xfff, 0x100);
	for (unsigned k = 0; k < 3; k++) {
		uint64_t at = moat_dma_sg_iova(sg, k, iova);

		assert_true(translates(&f, at, &phys, &prot));
		assert_int_equal(phys, sg[k].phys);
		assert_int_equal(prot, MOAT_PT_READ);
		assert_true(translates(&f, at + sg[k].len - 1, &phys, NULL));
		assert_int_equal(phys, sg[k].phys + sg[k].len - 1);
	}
	/* 1 + 2 + 2 pages, back to back, nothing after */
	assert_int_equal(moat_dma_sg_iova(sg, 2, iova) >> 12, (iova >> 12) + 1 + 2);
	assert_false(translates(&f, (iova & ~0xfffull) + 5 * 0x1000, NULL, NULL));
	/* a plain unmap of a list is refused; so is a list that differs */
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x5000, MOAT_DMA_TO_DEVICE, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_unmap_sg(&f.dma, iova, sg, 2, MOAT_DMA_TO_DEVICE, NULL), MOAT_ERR_INVALID_ARG);
	unsigned before = f.nu.inval_calls;
	assert_int_equal(moat_dma_unmap_sg(&f.dma, iova, sg, 3, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	assert_int_equal(f.nu.inval_calls - before, 1);
	for (unsigned k = 0; k < 3; k++)
		assert_false(translates(&f, moat_dma_sg_iova(sg, k, iova), NULL, NULL));
	assert_int_equal(moat_dma_unmap_sg(&f.dma, iova, sg, 3, MOAT_DMA_TO_DEVICE, NULL), MOAT_ERR_NOT_FOUND);
	/* bad lists */
	assert_int_equal(moat_dma_map_sg(&f.dma, sg, 0, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_map_sg(&f.dma, NULL, 1, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_ERR_INVALID_ARG);
	const struct moat_dma_sg empty[2] = { { 0x50000000, 0x10 }, { 0x50001000, 0 } };
	assert_int_equal(moat_dma_map_sg(&f.dma, empty, 2, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_ERR_INVALID_ARG);
	fix_down(&f);
}

/* Large buffers may be mapped with 2 MiB leaves; the unmap takes them out whole. */
static void large_buffers_map_and_unmap_whole(void **state)
{
	(void)state;
	struct fix f;
	uint64_t iova, phys, leaf = 0;

	if (!t_leaf_ok(M2))
		t_skip("a 1-level table has no 2 MiB leaves, and its IOVA space (1 MiB to 2 MiB) no 4 MiB range");
	fix_up(&f, NULL);
	assert_int_equal(moat_dma_map(&f.dma, 0x80000000, 0x400000, MOAT_DMA_BIDIRECTIONAL, 0xffffffff, &iova, NULL),
			 MOAT_OK);
	assert_int_equal(iova & 0x3fffff, 0);   /* 1024 pages: size-aligned */
	assert_int_equal(moat_domain_translate(&f.dom, iova + 0x234567, &phys, NULL, &leaf), MOAT_OK);
	assert_int_equal(phys, 0x80234567);
	assert_int_equal(leaf, 0x200000);
	unsigned before = f.nu.inval_calls;
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x400000, MOAT_DMA_BIDIRECTIONAL, NULL), MOAT_OK);
	assert_int_equal(f.nu.inval_calls - before, 1);
	assert_false(translates(&f, iova + 0x234567, NULL, NULL));
	fix_down(&f);
}

/* Deferred: entries go at once, invalidations are batched, an IOVA comes back only after one. */
static void deferred_never_reuses_an_iova_before_its_invalidation(void **state)
{
	(void)state;
	struct moat_dma_config cfg = { .policy = MOAT_DMA_DEFERRED, .fq_entries = 8, .fq_timeout_ns = 60000000000ull };
	struct moat_dma_stats st;
	struct fix f;
	uint64_t pending[64];
	unsigned npending = 0, inval_seen;

	fix_up(&f, &cfg);
	inval_seen = f.nu.inval_calls;
	for (unsigned i = 0; i < 1000; i++) {
		uint64_t iova;

		assert_int_equal(moat_dma_map(&f.dma, 0x60000000 + (i % 7) * 0x1000, 0x1000, MOAT_DMA_BIDIRECTIONAL, 0,
					      &iova, NULL), MOAT_OK);
		if (f.nu.inval_calls != inval_seen) {
			npending = 0;   /* an invalidation covered everything queued */
			inval_seen = f.nu.inval_calls;
		}
		for (unsigned k = 0; k < npending; k++)
			if (pending[k] == iova)
				fail_msg("map %u: IOVA 0x%llx handed out again before its invalidation", i,
					 (unsigned long long)iova);
		assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_BIDIRECTIONAL, NULL), MOAT_OK);
		assert_false(translates(&f, iova, NULL, NULL));   /* the entry is gone at once */
		if (f.nu.inval_calls != inval_seen) {
			/* the queue was full: one invalidation, covering all eight */
			assert_int_equal(f.nu.inval_calls - inval_seen, 1);
			assert_int_equal(npending, 7);
			npending = 0;
			inval_seen = f.nu.inval_calls;
		} else {
			pending[npending++] = iova;
		}
		assert_true(npending < 8);
	}
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.unmaps, 1000);
	assert_int_equal(st.invalidations, 1000 / 8);
	assert_int_equal(st.flushes, 1000 / 8);
	assert_int_equal(st.queued, 0);
	/* the explicit flush empties the queue with one invalidation */
	uint64_t iova;
	assert_int_equal(moat_dma_map(&f.dma, 0x60000000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	unsigned before = f.nu.inval_calls;
	assert_int_equal(moat_dma_flush(&f.dma, NULL), MOAT_OK);
	assert_int_equal(f.nu.inval_calls - before, 1);
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.queued, 0);
	assert_int_equal(moat_dma_flush(&f.dma, NULL), MOAT_OK);
	assert_int_equal(f.nu.inval_calls - before, 1);   /* nothing queued: nothing to invalidate */
	fix_down(&f);
}

static void deferred_flushes_on_the_time_bound_and_reports_the_window(void **state)
{
	(void)state;
	struct moat_dma_config cfg = { .policy = MOAT_DMA_DEFERRED, .fq_timeout_ns = 2000000 };
	struct moat_dma_stats st;
	struct timespec ts = { 0, 5000000 };
	struct fix f;
	uint64_t iova, iova2;

	fix_up(&f, &cfg);
	/* a map after the bound flushes */
	assert_int_equal(moat_dma_map(&f.dma, 0x61000000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.invalidations, 0);
	assert_int_equal(st.queued, 1);
	nanosleep(&ts, NULL);
	assert_int_equal(moat_dma_map(&f.dma, 0x61000000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.invalidations, 1);
	assert_int_equal(st.queued, 0);
	assert_true(st.max_window_ns >= 2000000);
	/* an unmap after the bound flushes too (its own entry with the old one) */
	assert_int_equal(moat_dma_map(&f.dma, 0x61001000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &iova2, NULL), MOAT_OK);
	assert_int_equal(moat_dma_unmap(&f.dma, iova2, 0x1000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	nanosleep(&ts, NULL);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.invalidations, 2);
	assert_int_equal(st.queued, 0);
	assert_true(st.max_window_ns >= 5000000);
	assert_true(st.max_window_ns < 60000000000ull);
	fix_down(&f);
}

static void init_checks_its_arguments(void **state)
{
	(void)state;
	struct fix f;
	struct moat_dma other;
	struct moat_diag diag;
	struct moat_dma_config cfg = { .policy = 9 };

	memset(&other, 0, sizeof(other));
	fix_up(&f, NULL);
	assert_int_equal(moat_dma_init(&other, &f.dom, &cfg, NULL), MOAT_ERR_INVALID_ARG);
	cfg = (struct moat_dma_config){ .policy = MOAT_DMA_DEFERRED, .fq_entries = 100000 };
	assert_int_equal(moat_dma_init(&other, &f.dom, &cfg, NULL), MOAT_ERR_INVALID_ARG);
	cfg = (struct moat_dma_config){ .policy = MOAT_DMA_STRICT, .iova_base = 0x1000, .iova_last = 0x10fff0 };
	assert_int_equal(moat_dma_init(&other, &f.dom, &cfg, NULL), MOAT_ERR_INVALID_ARG);
	cfg = (struct moat_dma_config){ .policy = MOAT_DMA_STRICT, .iova_base = 0x1000, .iova_last = 1ull << 60 };
	assert_int_equal(moat_dma_init(&other, &f.dom, &cfg, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_init(NULL, &f.dom, NULL, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_init(&other, NULL, NULL, NULL), MOAT_ERR_INVALID_ARG);
	/* one struct moat_dma per domain */
	assert_int_equal(moat_dma_init(&other, &f.dom, NULL, &diag), MOAT_ERR_BUSY);
	assert_non_null(strstr(diag.msg, "already"));
	/* not the host identity domain */
	struct moat_domain host;
	const struct moat_mem_range ram = { 0x100000000ull, 0x1000000, MOAT_MEM_RAM };
	assert_int_equal(moat_domain_create(f.sys, &host), MOAT_OK);
	assert_int_equal(moat_protect_host(&host, &ram, 1, NULL, NULL), MOAT_OK);
	assert_int_equal(moat_dma_init(&other, &host, NULL, NULL), MOAT_ERR_INVALID_ARG);
	/* calls on a struct that was never set up */
	memset(&other, 0, sizeof(other));
	uint64_t iova;
	assert_int_equal(moat_dma_map(&other, 0x1000, 1, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_unmap(&other, 0x1000, 1, MOAT_DMA_TO_DEVICE, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_flush(&other, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_fini(&other), MOAT_ERR_INVALID_ARG);
	/* the served domain still works, with the host domain beside it */
	assert_int_equal(moat_dma_map(&f.dma, 0x100000000ull, 0x1000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	assert_audit_clean(f.sys);
	assert_int_equal(moat_domain_destroy(&host), MOAT_OK);
	fix_down(&f);
}

/* moat_dma_init() on a live instance, for its own domain or another one, is refused and changes
 * nothing: its mappings still unmap, and the domain can be torn down. */
static void init_of_a_live_instance_changes_nothing(void **state)
{
	(void)state;
	struct moat_dma_config cfg = { .policy = MOAT_DMA_DEFERRED };
	struct moat_dma_stats st0, st;
	struct moat_domain other;
	struct moat_diag diag;
	uint64_t iova, phys = 0;
	struct fix f;

	fix_up(&f, NULL);
	assert_int_equal(moat_domain_create(f.sys, &other), MOAT_OK);
	assert_int_equal(moat_dma_map(&f.dma, 0x42000000, 0x3000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
	moat_dma_stats(&f.dma, &st0);
	assert_int_equal(moat_dma_init(&f.dma, &f.dom, NULL, &diag), MOAT_ERR_BUSY);
	assert_non_null(strstr(diag.msg, "live"));
	assert_int_equal(moat_dma_init(&f.dma, &f.dom, &cfg, NULL), MOAT_ERR_BUSY);
	assert_int_equal(moat_dma_init(&f.dma, &other, NULL, &diag), MOAT_ERR_BUSY);
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.live, 1);
	assert_int_equal(st.maps, st0.maps);
	assert_int_equal(st.record_bytes, st0.record_bytes);
	/* the other domain is still the core's */
	assert_int_equal(moat_domain_map(&other, 0x100000, 0x42000000, 0x1000, MOAT_PT_READ, NULL), MOAT_OK);
	assert_int_equal(moat_domain_unmap(&other, 0x100000, 0x1000, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&other), MOAT_OK);
	/* the instance still serves */
	assert_true(translates(&f, iova, &phys, NULL));
	assert_int_equal(phys, 0x42000000);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x3000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	assert_false(translates(&f, iova, NULL, NULL));
	assert_audit_clean(f.sys);
	fix_down(&f);
}

/* The core's own map and unmap (and reserved-region maps) are refused on a domain a DMA instance
 * serves: its tables are edited without the system lock. Nothing changes; after moat_dma_fini()
 * they work again. */
static void the_core_does_not_edit_a_served_domain(void **state)
{
	(void)state;
	struct moat_region_desc region = { MOAT_REGION_RMRR, 0, MOAT_REGION_UNITY | MOAT_REGION_READ | MOAT_REGION_WRITE,
					   0x43000, 0x43fff, 0, 1, 0x48 };
	struct moat_devset dev = { .segment = 0, .first = 0x10, .last = 0x10, .alias = 0x10 };
	struct moat_sysdesc desc;
	struct moat_diag diag;
	struct t_walk w;
	uint64_t iova, phys = 0;
	struct fix f;

	memset(&desc, 0, sizeof(desc));
	desc.regions = &region;
	desc.regions_cap = desc.regions_count = 1;
	desc.devsets = &dev;
	desc.devsets_cap = desc.devsets_count = 1;
	fix_up(&f, NULL);
	assert_int_equal(moat_dma_map(&f.dma, 0x42000000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
	assert_int_equal(moat_domain_map(&f.dom, 0x20000, 0x43000, 0x1000, MOAT_PT_RW, &diag), MOAT_ERR_BUSY);
	assert_int_equal(diag.status, MOAT_ERR_BUSY);
	assert_non_null(strstr(diag.msg, "DMA"));
	assert_int_equal(moat_domain_unmap(&f.dom, iova & ~0xfffull, 0x1000, &diag), MOAT_ERR_BUSY);
	assert_non_null(strstr(diag.msg, "DMA"));
	assert_int_equal(moat_reserved_map(&f.dom, &desc, 0, 0x10, &diag), MOAT_ERR_BUSY);
	/* nothing changed: the DMA mapping alone is there, and it still unmaps */
	t_walk_take(&f.dom, &w);
	assert_int_equal(w.leaves, 1);
	t_walk_free(&w);
	assert_true(translates(&f, iova, &phys, NULL));
	assert_int_equal(phys, 0x42000000);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	assert_int_equal(moat_dma_fini(&f.dma), MOAT_OK);
	/* the core's again */
	assert_int_equal(moat_domain_map(&f.dom, 0x20000, 0x42000000, 0x1000, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_domain_unmap(&f.dom, 0x20000, 0x1000, NULL), MOAT_OK);
	assert_int_equal(moat_reserved_map(&f.dom, &desc, 0, 0x10, NULL), MOAT_OK);
	assert_true(translates(&f, 0x43000, &phys, NULL));
	assert_int_equal(moat_domain_unmap(&f.dom, 0x43000, 0x1000, NULL), MOAT_OK);
	assert_int_equal(moat_dma_init(&f.dma, &f.dom, NULL, NULL), MOAT_OK);
	fix_down(&f);
}

/* IOVAs the domain mapped before moat_dma_init() (reserved regions) are never handed out. */
static void iovas_the_domain_maps_already_are_never_handed_out(void **state)
{
	(void)state;
	/* [1 MiB, 32 MiB), or to the top of a narrower space; 1 MiB reserved at its top (a quarter of
	 * a narrow one), 3 pages in the middle */
	const uint64_t end = MOAT_MIN(0x2000000ull, t_iova_span()), top = MOAT_MIN(0x100000ull, (end - 0x100000) / 4);
	const uint64_t mid = (0x100000 + (end - 0x100000) / 2) & ~0xfffull;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct null_unit nu;
	struct moat_domain dom;
	struct moat_dma dma;
	struct moat_dma_config cfg = { .policy = MOAT_DMA_STRICT, .iova_base = 0x100000, .iova_last = end - 1,
				       .no_cache = true };
	uint64_t iova, phys;

	nu_init(&nu, 0, -1);
	assert_int_equal(moat_system_add_unit(sys, &nu.unit), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &dom), MOAT_OK);
	/* an identity-mapped region at the top of the space and one in the middle */
	assert_int_equal(moat_domain_map(&dom, end - top, end - top, top, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_domain_map(&dom, mid, mid, 0x3000, MOAT_PT_READ, NULL), MOAT_OK);
	memset(&dma, 0, sizeof(dma));
	assert_int_equal(moat_dma_init(&dma, &dom, &cfg, NULL), MOAT_OK);
	/* fill the whole space: every page but the reserved ones */
	unsigned n = 0;
	while (moat_dma_map(&dma, 0x90000000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL) == MOAT_OK) {
		assert_true(iova < end - top);
		assert_true(iova < mid || iova >= mid + 0x3000);
		n++;
	}
	assert_int_equal(n, (end - 0x100000 - top - 0x3000) / 0x1000);
	/* the regions still translate to themselves */
	assert_int_equal(moat_domain_translate(&dom, end - top + 0x12345 % top, &phys, NULL, NULL), MOAT_OK);
	assert_int_equal(phys, end - top + 0x12345 % top);
	assert_int_equal(moat_dma_fini(&dma), MOAT_OK);
	assert_int_equal(moat_domain_translate(&dom, mid + 0x1000, &phys, NULL, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	t_system_free(sys);
}

/* A unit that caches not-present entries is invalidated after every map too. */
static void a_unit_caching_not_present_entries_is_invalidated_after_a_map(void **state)
{
	(void)state;
	struct fix f;
	uint64_t iova;

	fix_up_unit(&f, NULL, MOAT_UNIT_F_INVAL_ON_MAP);
	unsigned before = f.nu.inval_calls;
	assert_int_equal(moat_dma_map(&f.dma, 0x62000000, 0x2000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
	assert_int_equal(f.nu.inval_calls - before, 1);
	assert_int_equal(f.nu.log[f.nu.inval_calls - 1].iova, iova & ~0xfffull);
	assert_int_equal(f.nu.log[f.nu.inval_calls - 1].size, 0x2000);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x2000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	assert_int_equal(f.nu.inval_calls - before, 2);
	/* a failing invalidation undoes the map */
	f.nu.fail_inval = MOAT_ERR_TIMEOUT;
	assert_int_equal(moat_dma_map(&f.dma, 0x62000000, 0x2000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_ERR_TIMEOUT);
	f.nu.fail_inval = MOAT_OK;
	struct moat_dma_stats st;
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.live, 0);
	assert_int_equal(moat_dma_map(&f.dma, 0x62000000, 0x2000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x2000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	fix_down(&f);
}

/* A strict unmap whose invalidation fails: reported, and the IOVA is never handed out again. */
static void a_failed_invalidation_keeps_the_iova_out_of_use(void **state)
{
	(void)state;
	struct moat_dma_config cfg = { .policy = MOAT_DMA_STRICT, .iova_base = 0x100000, .iova_last = 0x103fff,
				       .no_cache = true };
	struct fix f;
	uint64_t iova, again;

	fix_up(&f, &cfg);
	assert_int_equal(moat_dma_map(&f.dma, 0x63000000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
	f.nu.fail_inval = MOAT_ERR_TIMEOUT;
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_TO_DEVICE, NULL), MOAT_ERR_TIMEOUT);
	f.nu.fail_inval = MOAT_OK;
	assert_false(translates(&f, iova, NULL, NULL));
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(moat_dma_map(&f.dma, 0x63000000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &again, NULL), MOAT_OK);
		assert_int_not_equal(again, iova);
	}
	assert_int_equal(moat_dma_map(&f.dma, 0x63000000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &again, NULL), MOAT_ERR_NO_SPACE);
	fix_down(&f);
}

/* Deferred: a flush whose invalidation fails keeps the queue; the next flush invalidates the whole
 * domain before the IOVAs come back. */
static void a_failed_flush_keeps_the_queue_until_an_invalidation_succeeds(void **state)
{
	(void)state;
	struct moat_dma_config cfg = { .policy = MOAT_DMA_DEFERRED, .fq_entries = 4, .fq_timeout_ns = 60000000000ull };
	struct moat_dma_stats st;
	struct fix f;
	uint64_t iova[3], x;

	fix_up(&f, &cfg);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(moat_dma_map(&f.dma, 0x68000000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &iova[i], NULL), MOAT_OK);
		assert_int_equal(moat_dma_unmap(&f.dma, iova[i], 0x1000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	}
	f.nu.fail_inval = MOAT_ERR_HARDWARE;
	assert_int_equal(moat_dma_flush(&f.dma, NULL), MOAT_ERR_HARDWARE);
	f.nu.fail_inval = MOAT_OK;
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.queued, 3);
	for (unsigned i = 0; i < 20; i++) {
		assert_int_equal(moat_dma_map(&f.dma, 0x68000000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &x, NULL), MOAT_OK);
		for (unsigned k = 0; k < 3; k++)
			assert_int_not_equal(x, iova[k]);
	}
	unsigned before = f.nu.inval_calls;
	assert_int_equal(moat_dma_flush(&f.dma, NULL), MOAT_OK);
	assert_int_equal(f.nu.inval_calls - before, 1);
	assert_int_equal(f.nu.log[f.nu.inval_calls - 1].size, 0);   /* the whole domain */
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.queued, 0);
	fix_down(&f);
}

/* Out of memory: in init at every allocation, and in a map that needs a table page. */
static void out_of_memory_fails_cleanly(void **state)
{
	(void)state;
	for (unsigned policy = MOAT_DMA_STRICT; policy <= MOAT_DMA_DEFERRED; policy++) {
		struct moat_dma_config cfg = { .policy = policy, .no_cache = true };
		struct fix f;
		struct t_walk w;
		moat_status st = MOAT_ERR_NO_MEMORY;

		fix_up(&f, &cfg);
		assert_int_equal(moat_dma_fini(&f.dma), MOAT_OK);
		for (uint64_t at = 1; st != MOAT_OK; at++) {
			/* pages the pool holds are the system's, whatever happened to init */
			const uint64_t live = moat_hosted_stats().pages_live - f.sys->pool_count;

			moat_hosted_fail_alloc_at(at, 1);
			st = moat_dma_init(&f.dma, &f.dom, &cfg, NULL);
			moat_hosted_fail_alloc_at(0, 0);
			if (st != MOAT_OK) {
				assert_int_equal(st, MOAT_ERR_NO_MEMORY);
				assert_int_equal(moat_hosted_stats().pages_live - f.sys->pool_count, live);
			}
			assert_true(at < 1000);
		}
		/* the first map into a new part of the space needs table pages: none come (with one
		 * level there is no table below the root: the map needs no page, and succeeds) */
		uint64_t iova = 0x77, phys;
		struct moat_dma_stats st0, st1;
		struct t_taken *taken = t_pool_take_all(f.sys);
		moat_dma_stats(&f.dma, &st0);
		moat_hosted_fail_alloc_at(1, 1);
		st = moat_dma_map(&f.dma, 0x64000000, 0x1000, MOAT_DMA_FROM_DEVICE, 0, &iova, NULL);
		moat_hosted_fail_alloc_at(0, 0);
		t_pool_give_back(f.sys, taken);
		if (t_levels() == 1) {
			assert_int_equal(st, MOAT_OK);
			assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_FROM_DEVICE, NULL), MOAT_OK);
			assert_int_equal(moat_dma_flush(&f.dma, NULL), MOAT_OK);   /* deferred: the IOVA back */
			moat_dma_stats(&f.dma, &st0);
			iova = 0x77;
		} else {
			assert_int_equal(st, MOAT_ERR_NO_MEMORY);
		}
		assert_int_equal(iova, 0x77);
		moat_dma_stats(&f.dma, &st1);
		assert_int_equal(st1.live, 0);
		assert_int_equal(st1.iova.free_pages, st0.iova.free_pages);
		t_walk_take(&f.dom, &w);
		assert_int_equal(w.leaves, 0);
		t_walk_free(&w);
		assert_int_equal(moat_dma_map(&f.dma, 0x64000000, 0x1000, MOAT_DMA_FROM_DEVICE, 0, &iova, NULL), MOAT_OK);
		assert_true(translates(&f, iova, &phys, NULL));
		assert_int_equal(phys, 0x64000000);
		moat_dma_stats(&f.dma, &st1);
		assert_true(st1.locked_maps >= (t_levels() > 1));
		assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_FROM_DEVICE, NULL), MOAT_OK);
		assert_audit_clean(f.sys);
		fix_down(&f);
	}
}

/* Run on CPU @cpu (false when this process may not). */
static bool run_on(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 && sched_getcpu() == cpu;
}

/* Memory does not grow with traffic: records and queue are made at init, tables are kept. A ring of
 * 64 live mappings of 1 to 8 pages and at most 1000 mappings; in a space of fewer than 8000 pages
 * (1-level AMD-Vi: 256), a quarter of its pages, a quarter of that live and a queue as short. */
static void memory_is_bounded_and_reported(void **state)
{
	(void)state;
	const bool small = t_dma_pages() < 8000;
	const unsigned maxm = small ? (unsigned)(t_dma_pages() / 4) : 1000;
	const unsigned ring = small ? maxm / 4 : 64;
	struct moat_dma_config cfg = { .policy = MOAT_DMA_DEFERRED, .max_mappings = maxm, .fq_entries = small ? ring : 0 };
	struct moat_dma_stats st0, st;
	struct fix f;
	uint64_t iova[64], tables = 0;
	uint32_t slots = 512;

	/* on one CPU: each CPU's IOVA cache has ranges of its own, whose first maps may need tables */
	cpu_set_t was;

	assert_int_equal(sched_getaffinity(0, sizeof(was), &was), 0);
	assert_true(run_on(sched_getcpu()));
	while (slots < 2 * maxm)
		slots <<= 1;
	fix_up(&f, &cfg);
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < 20000; i++) {
			const unsigned k = i % ring;

			if (round || i >= ring)
				assert_int_equal(moat_dma_unmap(&f.dma, iova[k], 0x1000u << (k % 4), MOAT_DMA_TO_DEVICE, NULL),
						 MOAT_OK);
			assert_int_equal(moat_dma_map(&f.dma, 0x65000000 + k * 0x10000, 0x1000u << (k % 4),
						      MOAT_DMA_TO_DEVICE, 0xffffffff, &iova[k], NULL), MOAT_OK);
		}
		if (!round) {
			moat_dma_stats(&f.dma, &st0);
			/* two slots a mapping (2048 for 1000) of 16 bytes, two pages of pointers, one queue page */
			assert_int_equal(st0.record_bytes, (slots * 16 / 4096 + 2 + 1) * 4096u);
			assert_true(st0.iova.metadata_bytes > 0);
			assert_true(st0.iova.cached_ranges <= st0.iova.cache_capacity);
			tables = moat_domain_memory(&f.dom);
		}
	}
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.record_bytes, st0.record_bytes);
	assert_int_equal(st.iova.metadata_bytes, st0.iova.metadata_bytes);
	assert_int_equal(moat_domain_memory(&f.dom), tables);
	assert_int_equal(st.live, ring);
	/* the configured maximum of mappings */
	unsigned n = ring;
	uint64_t x;
	while (moat_dma_map(&f.dma, 0x66000000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &x, NULL) == MOAT_OK)
		n++;
	assert_int_equal(n, maxm);
	fix_down(&f);
	assert_int_equal(sched_setaffinity(0, sizeof(was), &was), 0);
}

/*
 * max_mappings holds exactly when maps come from several CPUs (each CPU takes its share of the
 * limit in batches; a CPU whose share and the pool are empty takes from the others' shares), and
 * every mapping ended on any CPU can be made again.
 */
static void the_limit_holds_across_cpus(void **state)
{
	(void)state;
	struct moat_dma_config cfg = { .policy = MOAT_DMA_STRICT, .max_mappings = 100 };
	struct moat_dma_stats st;
	uint64_t iova[101];
	unsigned n = 0, cpus[2], ncpu = 0;
	cpu_set_t was;
	struct fix f;

	assert_int_equal(sched_getaffinity(0, sizeof(was), &was), 0);
	for (unsigned c = 0; c < CPU_SETSIZE && ncpu < 2; c++)
		if (CPU_ISSET(c, &was))
			cpus[ncpu++] = c;
	if (ncpu < 2)
		cpus[1] = cpus[0];
	fix_up(&f, &cfg);
	for (unsigned round = 0; round < 3; round++) {
		/* 60 from the first CPU, the rest from the second (or the same one) */
		assert_true(run_on((int)cpus[round % 2]));
		for (n = 0; n < 60; n++)
			assert_int_equal(moat_dma_map(&f.dma, 0x70000000 + n * 0x1000, 0x1000, MOAT_DMA_TO_DEVICE, 0,
						      &iova[n], NULL), MOAT_OK);
		assert_true(run_on((int)cpus[(round + 1) % 2]));
		while (n < 101 && moat_dma_map(&f.dma, 0x70000000 + n * 0x1000, 0x1000, MOAT_DMA_TO_DEVICE, 0,
					       &iova[n], NULL) == MOAT_OK)
			n++;
		assert_int_equal(n, 100);
		moat_dma_stats(&f.dma, &st);
		assert_int_equal(st.live, 100);
		assert_int_equal(st.maps, 100 * (round + 1));
		/* all ended from one CPU: the credits collect there and flow back */
		for (unsigned k = 0; k < n; k++)
			assert_int_equal(moat_dma_unmap(&f.dma, iova[k], 0x1000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
		moat_dma_stats(&f.dma, &st);
		assert_int_equal(st.live, 0);
		assert_int_equal(st.unmaps, 100 * (round + 1));
	}
	assert_int_equal(sched_setaffinity(0, sizeof(was), &was), 0);
	fix_down(&f);
}

/*
 * Records are never moved and ended ones stay as markers: through long churn of many IOVAs (a
 * ring of live mappings of mixed sizes), searches stay short, every live mapping is found, and an
 * ended or unknown one is refused.
 */
static void records_stay_close_to_home_through_churn(void **state)
{
	(void)state;
	struct moat_dma_config cfg = { .policy = MOAT_DMA_STRICT, .max_mappings = 2048 };
	enum { RING = 1500 };
	static uint64_t iova[RING], len[RING];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct fix f;

	if (t_dma_pages() < RING * 40)
		t_skip("the ring's %u live mappings of up to 40 pages need more than the %llu pages of the IOVA space",
		       (unsigned)RING, (unsigned long long)t_dma_pages());
	fix_up(&f, &cfg);
	for (unsigned i = 0; i < 200000; i++) {
		const unsigned k = i % RING;

		if (i >= RING)
			assert_int_equal(moat_dma_unmap(&f.dma, iova[k], len[k], MOAT_DMA_BIDIRECTIONAL, NULL), MOAT_OK);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		len[k] = 0x1000 * (1 + x % 40);
		assert_int_equal(moat_dma_map(&f.dma, 0x80000000 + (x % 4096) * 0x1000, len[k], MOAT_DMA_BIDIRECTIONAL, 0,
					      &iova[k], NULL), MOAT_OK);
	}
	/* 4096 slots holding at most 2048: an insert finds a free slot close to its home */
	assert_true(f.dma.rec_reach < 64);
	for (unsigned k = 0; k < RING; k++) {
		assert_int_equal(moat_dma_unmap(&f.dma, iova[k], len[k], MOAT_DMA_BIDIRECTIONAL, NULL), MOAT_OK);
		assert_int_equal(moat_dma_unmap(&f.dma, iova[k], len[k], MOAT_DMA_BIDIRECTIONAL, NULL),
				 MOAT_ERR_NOT_FOUND);
	}
	assert_int_equal(moat_dma_unmap(&f.dma, ((f.dma.cfg.iova_base + f.dma.cfg.iova_last) / 2) & ~0xfffull, 0x1000,
				       MOAT_DMA_BIDIRECTIONAL, NULL), MOAT_ERR_NOT_FOUND);
	fix_down(&f);
}

/*
 * A 2 MiB buffer gets IOVAs where 4 KiB ones were mapped before (the domain kept that range's
 * table): it is mapped in that table, page by page.
 */
static void a_large_buffer_maps_where_small_ones_were(void **state)
{
	(void)state;
	/* one 2 MiB range of IOVAs: both maps must use it */
	struct moat_dma_config cfg = { .policy = MOAT_DMA_STRICT, .iova_base = 0x200000, .iova_last = 0x3fffff };
	uint64_t iova, phys = 0;
	struct fix f;

	if (t_iova_span() < 0x400000)
		t_skip("the IOVA space (%u bits) has no 2 MiB range above its first 2 MiB", t_iova_bits());
	fix_up(&f, &cfg);
	assert_int_equal(moat_dma_map(&f.dma, 0x40001000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	assert_int_equal(moat_dma_map(&f.dma, 0x40200000, 0x200000, MOAT_DMA_FROM_DEVICE, 0, &iova, NULL), MOAT_OK);
	assert_int_equal(iova, 0x200000);
	assert_true(translates(&f, 0x3fffff, &phys, NULL));
	assert_int_equal(phys, 0x403fffff);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x200000, MOAT_DMA_FROM_DEVICE, NULL), MOAT_OK);
	assert_false(translates(&f, 0x200000, NULL, NULL));
	fix_down(&f);
}

/*
 * The default IOVA space of a 5-level VT-d or a 5- or 6-level AMD-Vi domain reaches 2^56 (past the
 * 2^52 physical limit): a buffer mapped at its top unmaps like any other, and the device loses it.
 */
static void mappings_at_the_top_of_a_wide_iova_space_unmap(void **state)
{
	(void)state;
	static const struct { enum moat_pt_format format; unsigned levels; } wide[] = {
		{ MOAT_PT_VTD_SL, 5 }, { MOAT_PT_AMD_V1, 5 }, { MOAT_PT_AMD_V1, 6 },
	};

	for (unsigned i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
		struct moat_system_config cfg = t_config(ALL_SIZES);
		const struct moat_dma_sg sg[2] = { { 0x52000000, 0x1000 }, { 0x52400800, 0x800 } };
		struct moat_system sys;
		struct null_unit nu;
		struct moat_domain dom;
		static struct moat_dma dma;
		struct moat_diag diag;
		uint64_t iova, phys = 0;

		cfg.pt.format = wide[i].format;
		cfg.pt.levels = wide[i].levels;
		assert_int_equal(moat_system_init(&sys, &cfg), MOAT_OK);
		nu_init(&nu, 0, -1);
		assert_int_equal(moat_system_add_unit(&sys, &nu.unit), MOAT_OK);
		assert_int_equal(moat_domain_create(&sys, &dom), MOAT_OK);
		assert_int_equal(moat_domain_attach(&dom, 0, 0x10, NULL), MOAT_OK);
		assert_int_equal(moat_dma_init(&dma, &dom, NULL, NULL), MOAT_OK);
		assert_int_equal(moat_dma_map(&dma, 0x51000040, 0x2000, MOAT_DMA_BIDIRECTIONAL, 0, &iova, NULL), MOAT_OK);
		assert_true(iova >= 1ull << 52);   /* the highest fit: near 2^56 */
		assert_true(translates_in(&dom, iova, &phys));
		assert_int_equal(phys, 0x51000040);
		assert_int_equal(moat_dma_unmap(&dma, iova, 0x2000, MOAT_DMA_BIDIRECTIONAL, &diag), MOAT_OK);
		assert_false(translates_in(&dom, iova, NULL));
		/* a list there too */
		assert_int_equal(moat_dma_map_sg(&dma, sg, 2, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
		assert_true(iova >= 1ull << 52);
		assert_int_equal(moat_dma_unmap_sg(&dma, iova, sg, 2, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
		assert_false(translates_in(&dom, moat_dma_sg_iova(sg, 1, iova), NULL));
		/* past the IOVA space: a bad argument, not a mapping that might exist */
		assert_int_equal(moat_dma_unmap(&dma, 1ull << 56, 0x1000, MOAT_DMA_TO_DEVICE, &diag), MOAT_ERR_INVALID_ARG);
		assert_int_equal(moat_dma_unmap(&dma, (1ull << 56) - 0x1000, 0x2000, MOAT_DMA_TO_DEVICE, NULL),
				 MOAT_ERR_INVALID_ARG);
		assert_int_equal(moat_dma_unmap_sg(&dma, 1ull << 56, sg, 2, MOAT_DMA_TO_DEVICE, NULL), MOAT_ERR_INVALID_ARG);
		assert_int_equal(moat_dma_fini(&dma), MOAT_OK);
		assert_int_equal(moat_domain_detach(&sys, 0, 0x10, NULL), MOAT_OK);
		assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
		assert_int_equal(moat_system_fini(&sys), MOAT_OK);
	}
}

/* moat_dma_fini() ends every live mapping and the queue under one invalidation. */
static void fini_unmaps_everything_at_once(void **state)
{
	(void)state;
	struct moat_dma_config cfg = { .policy = MOAT_DMA_DEFERRED };
	struct fix f;
	uint64_t iova[10];

	fix_up(&f, &cfg);
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(moat_dma_map(&f.dma, 0x67000000 + i * 0x1000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &iova[i], NULL),
				 MOAT_OK);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(moat_dma_unmap(&f.dma, iova[i], 0x1000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	unsigned before = f.nu.inval_calls;
	assert_int_equal(moat_dma_fini(&f.dma), MOAT_OK);
	assert_int_equal(f.nu.inval_calls - before, 1);
	for (unsigned i = 0; i < 10; i++)
		assert_false(translates(&f, iova[i], NULL, NULL));
	/* the domain is the core's again */
	assert_int_equal(moat_domain_map(&f.dom, 0x10000, 0x67000000, 0x1000, MOAT_PT_READ, NULL), MOAT_OK);
	assert_int_equal(moat_domain_unmap(&f.dom, 0x10000, 0x1000, NULL), MOAT_OK);
	assert_int_equal(moat_dma_init(&f.dma, &f.dom, NULL, NULL), MOAT_OK);
	fix_down(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(map_gives_the_direction_and_keeps_the_offset),
		cmocka_unit_test(masks_and_bad_arguments),
		cmocka_unit_test(protected_memory_is_refused_and_nothing_changes),
		cmocka_unit_test(protection_and_live_mappings_exclude_each_other),
		cmocka_unit_test(lifetime_errors_change_nothing),
		cmocka_unit_test(scatter_gather_is_one_range_and_one_invalidation),
		cmocka_unit_test(large_buffers_map_and_unmap_whole),
		cmocka_unit_test(deferred_never_reuses_an_iova_before_its_invalidation),
		cmocka_unit_test(deferred_flushes_on_the_time_bound_and_reports_the_window),
		cmocka_unit_test(init_checks_its_arguments),
		cmocka_unit_test(init_of_a_live_instance_changes_nothing),
		cmocka_unit_test(the_core_does_not_edit_a_served_domain),
		cmocka_unit_test(iovas_the_domain_maps_already_are_never_handed_out),
		cmocka_unit_test(a_unit_caching_not_present_entries_is_invalidated_after_a_map),
		cmocka_unit_test(a_failed_invalidation_keeps_the_iova_out_of_use),
		cmocka_unit_test(a_failed_flush_keeps_the_queue_until_an_invalidation_succeeds),
		cmocka_unit_test(out_of_memory_fails_cleanly),
		cmocka_unit_test(memory_is_bounded_and_reported),
		cmocka_unit_test(fini_unmaps_everything_at_once),
		cmocka_unit_test(mappings_at_the_top_of_a_wide_iova_space_unmap),
		cmocka_unit_test(the_limit_holds_across_cpus),
		cmocka_unit_test(records_stay_close_to_home_through_churn),
		cmocka_unit_test(a_large_buffer_maps_where_small_ones_were),
	};

	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
