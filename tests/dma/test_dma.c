/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DMA API over a system with a null unit: permissions by direction, offsets, masks, protected
 * memory, lifetime checks, one invalidation per strict unmap, the deferred queue (no reuse before
 * the invalidation, full-queue and time-bound flushes, the window), scatter-gather, a randomized
 * run against a reference model, and threads.
 */
#define _POSIX_C_SOURCE 200809L
#include "../core/core_test.h"

#include <pthread.h>
#include <time.h>

#include <moat/dma.h>

struct fix {
	struct moat_system *sys;
	struct null_unit nu;
	struct moat_domain dom;
	struct moat_dma dma;
};

static void fix_up(struct fix *f, const struct moat_dma_config *cfg)
{
	f->sys = t_system(ALL_SIZES);
	nu_init(&f->nu, 0, -1);
	assert_int_equal(moat_system_add_unit(f->sys, &f->nu.unit), MOAT_OK);
	assert_int_equal(moat_domain_create(f->sys, &f->dom), MOAT_OK);
	assert_int_equal(moat_domain_attach(&f->dom, 0, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_dma_init(&f->dma, &f->dom, cfg, NULL), MOAT_OK);
}

static void fix_down(struct fix *f)
{
	assert_int_equal(moat_dma_fini(&f->dma), MOAT_OK);
	assert_int_equal(moat_domain_detach(f->sys, 0, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&f->dom), MOAT_OK);
	t_system_free(f->sys);
}

static bool translates(struct fix *f, uint64_t iova, uint64_t *phys, unsigned *prot)
{
	return moat_domain_translate(&f->dom, iova, phys, prot, NULL) == MOAT_OK;
}

static void map_gives_the_direction_and_keeps_the_offset(void **state)
{
	(void)state;
	struct fix f;
	uint64_t iova, phys;
	unsigned prot;
	static const struct { enum moat_dma_dir dir; unsigned prot; } d[] = {
		{ MOAT_DMA_TO_DEVICE, MOAT_PT_READ }, { MOAT_DMA_FROM_DEVICE, MOAT_PT_WRITE },
		{ MOAT_DMA_BIDIRECTIONAL, MOAT_PT_RW },
	};

	fix_up(&f, NULL);
	for (unsigned i = 0; i < 3; i++) {
		/* 100 bytes straddling a page boundary: two whole pages */
		assert_int_equal(moat_dma_map(&f.dma, 0x10000fc0, 100, d[i].dir, 0, &iova, NULL), MOAT_OK);
		assert_int_equal(iova & 0xfff, 0xfc0);
		assert_true(translates(&f, iova, &phys, &prot));
		assert_int_equal(phys, 0x10000fc0);
		assert_int_equal(prot, d[i].prot);
		assert_true(translates(&f, iova + 100, &phys, NULL));
		assert_int_equal(phys, 0x10000fc0 + 100);
		assert_false(translates(&f, (iova & ~0xfffull) + 0x2000, NULL, NULL));
		unsigned before = f.nu.inval_calls;
		assert_int_equal(moat_dma_unmap(&f.dma, iova, 100, d[i].dir, NULL), MOAT_OK);
		assert_int_equal(f.nu.inval_calls - before, 1);
		assert_false(translates(&f, iova, NULL, NULL));
	}
	fix_down(&f);
}

static void masks_and_bad_arguments(void **state)
{
	(void)state;
	struct fix f;
	struct moat_diag diag;
	uint64_t iova;

	fix_up(&f, NULL);
	for (unsigned i = 0; i < 50; i++) {
		assert_int_equal(moat_dma_map(&f.dma, 0x20000000 + i * 0x3000, 0x2800, MOAT_DMA_TO_DEVICE, 0xffffffff,
					      &iova, NULL), MOAT_OK);
		assert_true(iova + 0x2800 - 1 <= 0xffffffffull);
	}
	assert_int_equal(moat_dma_map(&f.dma, 0x20000000, 0x1000, MOAT_DMA_TO_DEVICE, 0xffff, &iova, &diag),
			 MOAT_ERR_INVALID_ARG);
	assert_non_null(strstr(diag.msg, "mask"));
	assert_int_equal(moat_dma_map(&f.dma, 0x20000000, 0, MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_map(&f.dma, 0x20000000, 8, 7, 0, &iova, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_map(&f.dma, (1ull << 52) - 4, 8, MOAT_DMA_TO_DEVICE, 0, &iova, NULL),
			 MOAT_ERR_INVALID_ARG);
	fix_down(&f);
}

static void protected_memory_is_refused_and_nothing_changes(void **state)
{
	(void)state;
	struct fix f;
	struct moat_diag diag;
	struct moat_dma_stats st;
	uint64_t iova = 0x1234;

	fix_up(&f, NULL);
	assert_int_equal(moat_protect_add(f.sys, 0x30000000, 0x10000, "hv-data", NULL), MOAT_OK);
	assert_int_equal(moat_dma_map(&f.dma, 0x3000f000, 0x2000, MOAT_DMA_FROM_DEVICE, 0, &iova, &diag),
			 MOAT_ERR_PROTECTED);
	assert_non_null(strstr(diag.msg, "hv-data"));
	assert_int_equal(iova, 0x1234);
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.live, 0);
	assert_int_equal(st.maps, 0);
	fix_down(&f);
}

static void lifetime_errors_change_nothing(void **state)
{
	(void)state;
	struct fix f;
	struct moat_diag diag;
	uint64_t iova;

	fix_up(&f, NULL);
	assert_int_equal(moat_dma_map(&f.dma, 0x40000010, 0x3000, MOAT_DMA_FROM_DEVICE, 0, &iova, NULL), MOAT_OK);
	/* unknown IOVA */
	assert_int_equal(moat_dma_unmap(&f.dma, iova + 0x1000, 0x1000, MOAT_DMA_FROM_DEVICE, &diag), MOAT_ERR_NOT_FOUND);
	assert_non_null(strstr(diag.msg, "no live mapping"));
	/* wrong size, wrong direction */
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_FROM_DEVICE, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x3000, MOAT_DMA_TO_DEVICE, &diag), MOAT_ERR_INVALID_ARG);
	assert_non_null(strstr(diag.msg, "direction"));
	assert_true(translates(&f, iova, NULL, NULL));
	assert_true(translates(&f, iova + 0x2fff, NULL, NULL));
	unsigned before = f.nu.inval_calls;
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x3000, MOAT_DMA_FROM_DEVICE, NULL), MOAT_OK);
	assert_int_equal(f.nu.inval_calls - before, 1);
	/* double unmap */
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x3000, MOAT_DMA_FROM_DEVICE, &diag), MOAT_ERR_NOT_FOUND);
	assert_int_equal(f.nu.inval_calls - before, 1);
	fix_down(&f);
}

static void scatter_gather_is_one_range_and_one_invalidation(void **state)
{
	(void)state;
	struct fix f;
	const struct moat_dma_sg sg[3] = { { 0x50000100, 0x200 }, { 0x50100000, 0x2000 }, { 0x50300ff0, 0x20 } };
	uint64_t iova, phys;

	fix_up(&f, NULL);
	assert_int_equal(moat_dma_map_sg(&f.dma, sg, 3, MOAT_DMA_TO_DEVICE, 0xffffffff, &iova, NULL), MOAT_OK);
	for (unsigned k = 0; k < 3; k++) {
		uint64_t at = moat_dma_sg_iova(sg, k, iova);

		assert_true(translates(&f, at, &phys, NULL));
		assert_int_equal(phys, sg[k].phys);
		assert_true(translates(&f, at + sg[k].len - 1, &phys, NULL));
		assert_int_equal(phys, sg[k].phys + sg[k].len - 1);
	}
	assert_int_equal(moat_dma_sg_iova(sg, 2, iova) >> 12, (iova >> 12) + 1 + 2);
	/* a plain unmap of a list is refused */
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x4000, MOAT_DMA_TO_DEVICE, NULL), MOAT_ERR_INVALID_ARG);
	unsigned before = f.nu.inval_calls;
	assert_int_equal(moat_dma_unmap_sg(&f.dma, iova, sg, 3, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	assert_int_equal(f.nu.inval_calls - before, 1);
	for (unsigned k = 0; k < 3; k++)
		assert_false(translates(&f, moat_dma_sg_iova(sg, k, iova), NULL, NULL));
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
	assert_true(st.queued < 8);
	assert_int_equal(moat_dma_flush(&f.dma, NULL), MOAT_OK);
	moat_dma_stats(&f.dma, &st);
	assert_int_equal(st.queued, 0);
	fix_down(&f);
}

static void deferred_flushes_on_the_time_bound_and_reports_the_window(void **state)
{
	(void)state;
	struct moat_dma_config cfg = { .policy = MOAT_DMA_DEFERRED, .fq_timeout_ns = 2000000 };
	struct moat_dma_stats st;
	struct timespec ts = { 0, 5000000 };
	struct fix f;
	uint64_t iova;

	fix_up(&f, &cfg);
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
	assert_int_equal(moat_dma_unmap(&f.dma, iova, 0x1000, MOAT_DMA_TO_DEVICE, NULL), MOAT_OK);
	fix_down(&f);
}

static void init_checks_its_arguments(void **state)
{
	(void)state;
	struct fix f;
	struct moat_dma other;
	struct moat_dma_config cfg = { .policy = 9 };

	fix_up(&f, NULL);
	assert_int_equal(moat_dma_init(&other, &f.dom, &cfg, NULL), MOAT_ERR_INVALID_ARG);
	cfg = (struct moat_dma_config){ .policy = MOAT_DMA_DEFERRED, .fq_entries = 100000 };
	assert_int_equal(moat_dma_init(&other, &f.dom, &cfg, NULL), MOAT_ERR_INVALID_ARG);
	cfg = (struct moat_dma_config){ .policy = MOAT_DMA_STRICT, .iova_base = 0x1000, .iova_last = 0x10fff0 };
	assert_int_equal(moat_dma_init(&other, &f.dom, &cfg, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dma_init(NULL, &f.dom, NULL, NULL), MOAT_ERR_INVALID_ARG);
	fix_down(&f);
}

/* ---- randomized, against a model ---- */

struct mlive {
	uint64_t iova, phys, len;
	enum moat_dma_dir dir;
	bool sg;
	struct moat_dma_sg list[3];
	unsigned n;
};

static void check_model(struct fix *f, const struct mlive *m, unsigned n, unsigned seed, unsigned op)
{
	for (unsigned i = 0; i < n; i++) {
		for (unsigned k = 0; k < (m[i].sg ? m[i].n : 1); k++) {
			uint64_t at = m[i].sg ? moat_dma_sg_iova(m[i].list, k, m[i].iova) : m[i].iova;
			uint64_t want = m[i].sg ? m[i].list[k].phys : m[i].phys, len = m[i].sg ? m[i].list[k].len : m[i].len;
			uint64_t phys;

			if (!translates(f, at, &phys, NULL) || phys != want ||
			    !translates(f, at + len - 1, &phys, NULL) || phys != want + len - 1)
				fail_msg("seed %u op %u: mapping %u element %u does not translate", seed, op, i, k);
		}
	}
}

static void random_run_matches_a_model(void **state)
{
	(void)state;
	for (unsigned policy = MOAT_DMA_STRICT; policy <= MOAT_DMA_DEFERRED; policy++) {
		struct moat_dma_config cfg = { .policy = policy, .fq_entries = 16, .fq_timeout_ns = 60000000000ull };
		static struct mlive m[512];
		unsigned n = 0, seed = 777 + policy;
		struct fix f;

		fix_up(&f, &cfg);
		srand(seed);
		for (unsigned op = 0; op < 20000; op++) {
			unsigned r = (unsigned)rand() % 10;

			if (n && (r < 4 || n == 512)) {
				unsigned i = (unsigned)rand() % n;
				moat_status st = m[i].sg ? moat_dma_unmap_sg(&f.dma, m[i].iova, m[i].list, m[i].n, m[i].dir, NULL)
							 : moat_dma_unmap(&f.dma, m[i].iova, m[i].len, m[i].dir, NULL);
				uint64_t gone = m[i].iova;

				if (st != MOAT_OK)
					fail_msg("seed %u op %u: unmap %s", seed, op, moat_status_str(st));
				m[i] = m[--n];
				if (translates(&f, gone, NULL, NULL) && policy == MOAT_DMA_STRICT) {
					/* another live mapping may have taken that IOVA only after the invalidation */
					bool reused = false;
					for (unsigned j = 0; j < n; j++)
						reused |= (m[j].iova & ~0xfffull) == (gone & ~0xfffull);
					if (!reused)
						fail_msg("seed %u op %u: 0x%llx still translates", seed, op,
							 (unsigned long long)gone);
				}
			} else if (r < 5 && n) {
				/* a lifetime error: nothing may change */
				unsigned i = (unsigned)rand() % n;
				moat_status st = m[i].sg ? moat_dma_unmap(&f.dma, m[i].iova, 0x1000, m[i].dir, NULL)
							 : moat_dma_unmap(&f.dma, m[i].iova, m[i].len + 0x1000, m[i].dir, NULL);

				if (st == MOAT_OK)
					fail_msg("seed %u op %u: a wrong unmap was accepted", seed, op);
			} else if (r < 7) {
				struct mlive *x = &m[n];

				x->sg = true;
				x->n = 1 + (unsigned)rand() % 3;
				x->dir = (enum moat_dma_dir)(1 + rand() % 3);
				for (unsigned k = 0; k < x->n; k++)
					x->list[k] = (struct moat_dma_sg){ 0x70000000ull + (uint64_t)(rand() % 4096) * 0x1000 +
									   (uint64_t)(rand() % 4096),
									   1 + (uint64_t)(rand() % 0x5000) };
				if (moat_dma_map_sg(&f.dma, x->list, x->n, x->dir, rand() % 2 ? 0xffffffff : 0, &x->iova,
						    NULL) != MOAT_OK)
					fail_msg("seed %u op %u: map_sg failed", seed, op);
				n++;
			} else {
				struct mlive *x = &m[n];
				uint64_t mask = rand() % 2 ? 0xffffffffull : 0;

				x->sg = false;
				x->dir = (enum moat_dma_dir)(1 + rand() % 3);
				x->phys = 0x80000000ull + (uint64_t)(rand() % 65536) * 0x1000 + (uint64_t)(rand() % 4096);
				x->len = 1 + (uint64_t)(rand() % 0x9000);
				if (moat_dma_map(&f.dma, x->phys, x->len, x->dir, mask, &x->iova, NULL) != MOAT_OK)
					fail_msg("seed %u op %u: map failed", seed, op);
				if (mask && x->iova + x->len - 1 > mask)
					fail_msg("seed %u op %u: IOVA past the mask", seed, op);
				n++;
			}
			if (op % 1000 == 0)
				check_model(&f, m, n, seed, op);
		}
		check_model(&f, m, n, seed, 20000);
		struct moat_dma_stats st;
		moat_dma_stats(&f.dma, &st);
		assert_int_equal(st.live, n);
		fix_down(&f);
	}
}

/* ---- threads ---- */

struct worker {
	struct moat_dma *dma;
	struct moat_domain *dom;
	uint64_t phys_base;
	unsigned ops;
	int failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t iova[16], phys[16];
	unsigned n = 0;

	for (unsigned i = 0; i < w->ops; i++) {
		if (n == 16 || (n && i % 3 == 0)) {
			n--;
			if (moat_dma_unmap(w->dma, iova[n], 0x1000, MOAT_DMA_BIDIRECTIONAL, NULL) != MOAT_OK)
				w->failures++;
		} else {
			uint64_t p = w->phys_base + (uint64_t)(i % 64) * 0x1000, got = 0;

			if (moat_dma_map(w->dma, p, 0x1000, MOAT_DMA_BIDIRECTIONAL, 0, &iova[n], NULL) != MOAT_OK) {
				w->failures++;
				continue;
			}
			if (moat_domain_translate(w->dom, iova[n], &got, NULL, NULL) != MOAT_OK || got != p)
				w->failures++;
			phys[n++] = p;
		}
	}
	while (n--)
		if (moat_dma_unmap(w->dma, iova[n], 0x1000, MOAT_DMA_BIDIRECTIONAL, NULL) != MOAT_OK)
			w->failures++;
	(void)phys;
	return NULL;
}

static void threads_map_and_unmap_at_once(void **state)
{
	(void)state;
	for (unsigned policy = MOAT_DMA_STRICT; policy <= MOAT_DMA_DEFERRED; policy++) {
		struct moat_dma_config cfg = { .policy = policy };
		struct fix f;
		struct moat_domain dom2;
		struct moat_dma dma2;
		struct worker w[4];
		pthread_t t[4];
		struct moat_dma_stats st;

		fix_up(&f, &cfg);
		assert_int_equal(moat_domain_create(f.sys, &dom2), MOAT_OK);
		assert_int_equal(moat_dma_init(&dma2, &dom2, &cfg, NULL), MOAT_OK);
		for (unsigned i = 0; i < 4; i++) {
			w[i] = (struct worker){ i < 3 ? &f.dma : &dma2, i < 3 ? &f.dom : &dom2, 0x90000000ull + i * 0x1000000,
						3000, 0 };
			assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
		}
		for (unsigned i = 0; i < 4; i++) {
			pthread_join(t[i], NULL);
			assert_int_equal(w[i].failures, 0);
		}
		moat_dma_stats(&f.dma, &st);
		assert_int_equal(st.live, 0);
		assert_int_equal(st.maps, st.unmaps);
		assert_int_equal(moat_dma_fini(&dma2), MOAT_OK);
		assert_int_equal(moat_domain_destroy(&dom2), MOAT_OK);
		fix_down(&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(map_gives_the_direction_and_keeps_the_offset),
		cmocka_unit_test(masks_and_bad_arguments),
		cmocka_unit_test(protected_memory_is_refused_and_nothing_changes),
		cmocka_unit_test(lifetime_errors_change_nothing),
		cmocka_unit_test(scatter_gather_is_one_range_and_one_invalidation),
		cmocka_unit_test(deferred_never_reuses_an_iova_before_its_invalidation),
		cmocka_unit_test(deferred_flushes_on_the_time_bound_and_reports_the_window),
		cmocka_unit_test(init_checks_its_arguments),
		cmocka_unit_test(random_run_matches_a_model),
		cmocka_unit_test(threads_map_and_unmap_at_once),
	};

#ifdef MOAT_DMA_THREADS_ONLY
	/* the ThreadSanitizer build (tests/dma/CMakeLists.txt) runs the threads */
	cmocka_set_test_filter("threads_*");
#endif
	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
