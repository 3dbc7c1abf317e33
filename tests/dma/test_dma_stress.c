/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Threads on the DMA API: four threads mapping, checking and unmapping at once on one and on two
 * domains, in both policies, with a fifth thread flushing and reading statistics; threads racing
 * to unmap one mapping; threads sharing one page-path cursor of the page-table engine; and maps
 * racing moat_protect_add(). Runs in the sanitizer builds, and the threads again under
 * ThreadSanitizer (dma.tsan_stress, tests/dma/CMakeLists.txt).
 */
#define _POSIX_C_SOURCE 200809L
#include "dma_test.h"

#include <pthread.h>
#include <sched.h>

struct worker {
	struct moat_dma *dma;
	struct moat_domain *dom;
	uint64_t phys_base;
	unsigned seed, ops;
	int failures;
	uint64_t maps;
	unsigned live_max;   /* at most 32; fewer in a narrow IOVA space */
	uint64_t len_max;    /* bytes of a buffer, at most */
};

struct live {
	uint64_t iova, phys, len;
	enum moat_dma_dir dir;
	bool sg;
	struct moat_dma_sg el[2];
};

static unsigned next(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static bool check_translation(struct worker *w, uint64_t iova, uint64_t want, unsigned prot_want)
{
	uint64_t got = 0;
	unsigned prot = 0;

	return moat_domain_translate(w->dom, iova, &got, &prot, NULL) == MOAT_OK && got == want && prot == prot_want;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct live l[32];
	unsigned n = 0, s = w->seed;
	static const uint64_t masks[] = { 0, 0xffffffff, 0x3fffffff };

	for (unsigned i = 0; i < w->ops; i++) {
		if (n == w->live_max || (n && next(&s) % 2)) {
			const unsigned k = next(&s) % n;
			moat_status st = l[k].sg ? moat_dma_unmap_sg(w->dma, l[k].iova, l[k].el, 2, l[k].dir, NULL)
						 : moat_dma_unmap(w->dma, l[k].iova, l[k].len, l[k].dir, NULL);

			if (st != MOAT_OK)
				w->failures++;
			l[k] = l[--n];
			continue;
		}
		struct live *x = &l[n];
		const uint64_t mask = masks[next(&s) % 3];

		x->dir = (enum moat_dma_dir)(1 + next(&s) % 3);
		x->phys = w->phys_base + (uint64_t)(next(&s) % 256) * 0x1000 + next(&s) % 0x1000;
		x->len = 1 + next(&s) % w->len_max;
		x->sg = next(&s) % 4 == 0;
		if (x->sg) {
			x->el[0] = (struct moat_dma_sg){ x->phys, x->len };
			x->el[1] = (struct moat_dma_sg){ w->phys_base + 0x200000, 0x1800 };
			if (moat_dma_map_sg(w->dma, x->el, 2, x->dir, mask, &x->iova, NULL) != MOAT_OK) {
				w->failures++;
				continue;
			}
		} else if (moat_dma_map(w->dma, x->phys, x->len, x->dir, mask, &x->iova, NULL) != MOAT_OK) {
			w->failures++;
			continue;
		}
		if (mask && x->iova + x->len - 1 > mask)
			w->failures++;
		if (!check_translation(w, x->iova, x->phys, dir_prot(x->dir)) ||
		    !check_translation(w, x->iova + x->len - 1, x->phys + x->len - 1, dir_prot(x->dir)))
			w->failures++;
		w->maps++;
		n++;
	}
	while (n--) {
		moat_status st = l[n].sg ? moat_dma_unmap_sg(w->dma, l[n].iova, l[n].el, 2, l[n].dir, NULL)
					 : moat_dma_unmap(w->dma, l[n].iova, l[n].len, l[n].dir, NULL);

		if (st != MOAT_OK)
			w->failures++;
	}
	return NULL;
}

struct flusher {
	struct moat_dma *dma[2];
	volatile int stop;
	unsigned rounds;
};

static void *flush_work(void *arg)
{
	struct flusher *fl = arg;

	while (!__atomic_load_n(&fl->stop, __ATOMIC_ACQUIRE)) {
		struct moat_dma_stats st;

		for (unsigned k = 0; k < 2; k++) {
			moat_dma_flush(fl->dma[k], NULL);
			moat_dma_stats(fl->dma[k], &st);
		}
		__atomic_add_fetch(&fl->rounds, 1, __ATOMIC_RELEASE);   /* read by the main thread */
	}
	return NULL;
}

static void threads_map_and_unmap_at_once(void **state)
{
	(void)state;
	for (unsigned policy = MOAT_DMA_STRICT; policy <= MOAT_DMA_DEFERRED; policy++) {
		/* a narrow IOVA space (1-level AMD-Vi: 256 pages) holds 3 small mappings a thread and
		 * a short queue */
		const bool small = t_dma_pages() < 4096;
		struct moat_dma_config cfg = { .policy = policy, .fq_entries = small ? 8 : 64 };
		struct fix f;
		struct moat_domain dom2;
		struct moat_dma dma2;
		struct worker w[4];
		struct flusher fl = { { NULL, NULL }, 0, 0 };
		pthread_t t[4], tf;
		struct moat_dma_stats st[2];
		uint64_t maps = 0;
		unsigned inval0;

		fix_up(&f, &cfg);
		assert_int_equal(moat_domain_create(f.sys, &dom2), MOAT_OK);
		assert_int_equal(moat_domain_attach(&dom2, 0, 0x20, NULL), MOAT_OK);
		memset(&dma2, 0, sizeof(dma2));
		assert_int_equal(moat_dma_init(&dma2, &dom2, &cfg, NULL), MOAT_OK);
		inval0 = f.nu.inval_calls;
		/* the flusher first, running before the workers start (a fast build may otherwise end
		 * the work before it is scheduled) */
		fl.dma[0] = &f.dma;
		fl.dma[1] = &dma2;
		assert_int_equal(pthread_create(&tf, NULL, flush_work, &fl), 0);
		while (!__atomic_load_n(&fl.rounds, __ATOMIC_ACQUIRE))
			sched_yield();
		/* threads 0-2 share the first domain, thread 3 has the second */
		for (unsigned i = 0; i < 4; i++) {
			w[i] = (struct worker){ i < 3 ? &f.dma : &dma2, i < 3 ? &f.dom : &dom2,
						0x90000000ull + i * 0x1000000, 1000 + i, 10000, 0, 0,
						small ? 3 : 32, small ? 0x2000 : 0x4000 };
			assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
		}
		for (unsigned i = 0; i < 4; i++) {
			pthread_join(t[i], NULL);
			assert_int_equal(w[i].failures, 0);
			maps += w[i].maps;
		}
		__atomic_store_n(&fl.stop, 1, __ATOMIC_RELEASE);
		pthread_join(tf, NULL);
		assert_true(fl.rounds > 0);
		moat_dma_stats(&f.dma, &st[0]);
		moat_dma_stats(&dma2, &st[1]);
		assert_int_equal(st[0].maps + st[1].maps, maps);
		/* what the statistics count is what the unit saw */
		assert_int_equal(f.nu.inval_calls - inval0, st[0].invalidations + st[1].invalidations);
		for (unsigned k = 0; k < 2; k++) {
			assert_int_equal(st[k].live, 0);
			assert_int_equal(st[k].maps, st[k].unmaps);
			if (policy == MOAT_DMA_STRICT)
				assert_int_equal(st[k].invalidations, st[k].unmaps);
		}
		assert_audit_clean(f.sys);
		assert_int_equal(moat_dma_fini(&dma2), MOAT_OK);
		assert_int_equal(moat_domain_detach(f.sys, 0, 0x20, NULL), MOAT_OK);
		assert_int_equal(moat_domain_destroy(&dom2), MOAT_OK);
		fix_down(&f);
	}
}

/* Unmaps of one mapping racing each other: exactly one ends it, the others find nothing. */
#define RACERS 3u

struct unmapper {
	struct moat_dma *dma;
	pthread_barrier_t *start, *done;
	uint64_t iova;             /* set before each round */
	unsigned rounds, ok, not_found, other;
};

static void *unmap_race(void *arg)
{
	struct unmapper *u = arg;

	for (unsigned r = 0; r < u->rounds; r++) {
		moat_status st;

		pthread_barrier_wait(u->start);
		st = moat_dma_unmap(u->dma, __atomic_load_n(&u->iova, __ATOMIC_RELAXED), 0x800, MOAT_DMA_TO_DEVICE, NULL);
		if (st == MOAT_OK)
			u->ok++;
		else if (st == MOAT_ERR_NOT_FOUND)
			u->not_found++;
		else
			u->other++;
		pthread_barrier_wait(u->done);
	}
	return NULL;
}

static void unmaps_racing_on_one_mapping_end_it_once(void **state)
{
	(void)state;
	for (unsigned policy = MOAT_DMA_STRICT; policy <= MOAT_DMA_DEFERRED; policy++) {
		struct moat_dma_config cfg = { .policy = policy };
		const unsigned rounds = 300;
		pthread_barrier_t start, done;
		struct unmapper u[RACERS];
		pthread_t t[RACERS];
		struct moat_dma_stats st;
		unsigned ok = 0, not_found = 0;
		struct fix f;

		fix_up(&f, &cfg);
		pthread_barrier_init(&start, NULL, RACERS + 1);
		pthread_barrier_init(&done, NULL, RACERS + 1);
		for (unsigned i = 0; i < RACERS; i++) {
			u[i] = (struct unmapper){ &f.dma, &start, &done, 0, rounds, 0, 0, 0 };
			assert_int_equal(pthread_create(&t[i], NULL, unmap_race, &u[i]), 0);
		}
		for (unsigned r = 0; r < rounds; r++) {
			uint64_t iova;

			assert_int_equal(moat_dma_map(&f.dma, 0x91000000 + (r % 64) * 0x1000 + 0x100, 0x800,
						      MOAT_DMA_TO_DEVICE, 0, &iova, NULL), MOAT_OK);
			for (unsigned i = 0; i < RACERS; i++)
				__atomic_store_n(&u[i].iova, iova, __ATOMIC_RELAXED);
			pthread_barrier_wait(&start);
			pthread_barrier_wait(&done);
			assert_false(translates(&f, iova, NULL, NULL));
		}
		for (unsigned i = 0; i < RACERS; i++) {
			pthread_join(t[i], NULL);
			assert_int_equal(u[i].other, 0);
			ok += u[i].ok;
			not_found += u[i].not_found;
		}
		assert_int_equal(ok, rounds);
		assert_int_equal(not_found, rounds * (RACERS - 1));
		moat_dma_stats(&f.dma, &st);
		assert_int_equal(st.live, 0);
		assert_int_equal(st.unmaps, rounds);
		if (policy == MOAT_DMA_STRICT)
			assert_int_equal(st.invalidations, rounds);
		pthread_barrier_destroy(&start);
		pthread_barrier_destroy(&done);
		assert_audit_clean(f.sys);
		fix_down(&f);
	}
}

/*
 * The page-table engine's page path with one cursor shared by threads (as threads on one CPU
 * share the DMA layer's per-CPU cursor): each maps and unmaps pages of its own 2 MiB, checking
 * each one, so a cursor read half-written (one thread's table under another's address) would
 * put an entry in the wrong table.
 */
struct cursor_user {
	struct moat_pt *pt;
	struct moat_pt_cursor *cur;
	uint64_t base;
	unsigned failures;
};

static void *use_cursor(void *arg)
{
	struct cursor_user *c = arg;

	for (unsigned i = 0; i < 20000; i++) {
		const uint64_t iova = c->base + (uint64_t)(i % 512) * 0x1000, phys = 0x40000000 + (i % 512) * 0x1000;
		struct moat_pt_gather g;
		uint64_t got = 0;

		moat_pt_gather_init(&g);
		if (moat_pt_map_page(c->pt, c->cur, iova, phys, MOAT_PT_READ) != MOAT_OK ||
		    moat_pt_translate(c->pt, iova, &got, NULL, NULL) != MOAT_OK || got != phys ||
		    moat_pt_unmap_page(c->pt, c->cur, iova, &g) != MOAT_OK || g.unmapped != 0x1000)
			c->failures++;
	}
	return NULL;
}

static void threads_sharing_a_cursor_use_the_right_tables(void **state)
{
	(void)state;
	struct moat_pt_config cfg = { .format = MOAT_PT_VTD_SL, .levels = 4, .page_sizes = MOAT_PT_PAGE_4K,
				      .coherent = true };
	struct moat_pt_ops ops = moat_pt_platform_ops();
	struct moat_pt_cursor cur = { 0 };
	struct cursor_user c[4];
	pthread_t t[4];
	struct moat_pt pt;

	assert_int_equal(moat_pt_init(&pt, &cfg, &ops), MOAT_OK);
	pt.keep_tables = true;
	pt.concurrent = true;
	/* the tables of four 2 MiB ranges, linked before the threads start */
	for (unsigned i = 0; i < 4; i++) {
		struct moat_pt_gather g;

		moat_pt_gather_init(&g);
		assert_int_equal(moat_pt_map(&pt, (i + 1) * 0x200000ull, 0x1000, 0x1000, MOAT_PT_RW), MOAT_OK);
		assert_int_equal(moat_pt_unmap(&pt, (i + 1) * 0x200000ull, 0x1000, &g), MOAT_OK);
		moat_pt_gather_release(&pt, &g);
	}
	for (unsigned i = 0; i < 4; i++) {
		c[i] = (struct cursor_user){ &pt, &cur, (i + 1) * 0x200000ull, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, use_cursor, &c[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(c[i].failures, 0);
	}
	moat_pt_destroy(&pt);
}

#ifndef MOAT_DMA_TSAN
/*
 * Maps racing moat_protect_add() of the pages they map: a page is never protected while a map of
 * it that succeeded is live, and once moat_protect_add() returned no map of the page succeeds.
 * (The core's walk of the tables reads entries the DMA layer writes without the system lock,
 * which ThreadSanitizer would report: not in the TSan build.)
 */
#define RACE_PAGES 64u

struct racer {
	struct moat_dma *dma;
	struct moat_system *sys;
	uint64_t base;
	unsigned protected_upto;   /* pages [0, protected_upto) are protected (atomic) */
	int stop, late_maps, protected_while_mapped;
	uint64_t maps, refused;
};

static void *race_maps(void *arg)
{
	struct racer *r = arg;
	unsigned k = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		const unsigned done = __atomic_load_n(&r->protected_upto, __ATOMIC_ACQUIRE);
		uint64_t iova;
		moat_status st;

		k = (k + 1) % RACE_PAGES;
		st = moat_dma_map(r->dma, r->base + k * 0x1000 + 8, 64, MOAT_DMA_FROM_DEVICE, 0, &iova, NULL);
		if (st == MOAT_OK) {
			if (k < done)
				r->late_maps++;
			if (moat_protect_check(r->sys, r->base + k * 0x1000, 0x1000, NULL) != MOAT_OK)
				r->protected_while_mapped++;
			__atomic_fetch_add(&r->maps, 1, __ATOMIC_RELAXED);
			moat_dma_unmap(r->dma, iova, 64, MOAT_DMA_FROM_DEVICE, NULL);
		} else if (st == MOAT_ERR_PROTECTED) {
			__atomic_fetch_add(&r->refused, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static void maps_racing_a_protection_never_win_after_it(void **state)
{
	(void)state;
	struct fix f;
	struct racer r = { .base = 0xa0000000ull };
	pthread_t t;
	unsigned overlaps = 0;

	fix_up(&f, NULL);
	r.dma = &f.dma;
	r.sys = f.sys;
	assert_int_equal(pthread_create(&t, NULL, race_maps, &r), 0);
	while (__atomic_load_n(&r.maps, __ATOMIC_RELAXED) < 100)
		sched_yield();
	for (unsigned k = 0; k < RACE_PAGES; k++) {
		moat_status st;

		while ((st = moat_protect_add(f.sys, r.base + k * 0x1000, 0x1000, "race", NULL)) == MOAT_ERR_OVERLAP)
			overlaps++;
		assert_int_equal(st, MOAT_OK);
		__atomic_store_n(&r.protected_upto, k + 1, __ATOMIC_RELEASE);
	}
	/* every page refused at least once */
	while (__atomic_load_n(&r.refused, __ATOMIC_RELAXED) < 2 * RACE_PAGES)
		sched_yield();
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_int_equal(r.late_maps, 0);
	assert_int_equal(r.protected_while_mapped, 0);
	assert_true(r.refused > 0);
	assert_audit_clean(f.sys);
	fix_down(&f);
	(void)overlaps;   /* how often a protection met a live map: timing */
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(threads_map_and_unmap_at_once),
		cmocka_unit_test(unmaps_racing_on_one_mapping_end_it_once),
		cmocka_unit_test(threads_sharing_a_cursor_use_the_right_tables),
#ifndef MOAT_DMA_TSAN
		cmocka_unit_test(maps_racing_a_protection_never_win_after_it),
#endif
	};

	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
