/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DMA API and its IOVA allocator, CPU cost only, on the hosted platform, side by side with the
 * algorithm of the Linux IOVA allocator (iova_rbtree.h) in the same run:
 *
 *   W2  map+unmap pairs of 4 KiB, pairs of mixed sizes (4 to 64 KiB), and rings of 256, 1024 and
 *       4096 mappings in flight (map a new one, unmap the oldest):
 *         dma/...   Moat: moat_dma_map()/moat_dma_unmap(), strict, on a domain of a system with one
 *                   unit whose invalidation only counts; baseline: the Linux allocator's fast path
 *                   plus the same page-table work (moat_pt_map()/moat_pt_unmap() on a struct moat_pt
 *                   of the same configuration, under a lock) and one counted invalidation per unmap;
 *         iova/...  allocator only: moat_iova_alloc()/moat_iova_free() against the Linux
 *                   allocator's alloc_iova_fast/free_iova_fast.
 *   W3  the 4 KiB pairs and the ring of 1024 from two threads on one domain (one allocator): ns per
 *       pair per thread (the slower thread). Both allocators pick their per-CPU caches with
 *       moat_plat_cpu_id() (the threads are pinned to two CPUs when there are two).
 *   W4  invalidations per 1000 unmaps, strict (exactly 1000: a check) and deferred, and the longest
 *       stale window the deferred policy measured.
 *   Pathological: the 32-bit space filled with long-lived 1-page mappings with 1-page holes, then
 *       a device's cycle: 64 pages below 4 GiB (fits only at the bottom), 128 pages below 4 GiB
 *       (fits nowhere), 128 pages anywhere (the DMA layer's fallback), both freed. The Linux walk
 *       visits every range below 4 GiB for the failed request: the free below 4 GiB at the end of
 *       each cycle clears its 32-bit hint.
 *
 * Every run checks what it measures (bench_fail() on a wrong result): every IOVA inside its mask,
 * the expected failures and places in the pathological pattern, the Linux tree's invariants, and in
 * --quick mode a translation right after every map and none after its unmap, through the domain
 * (Moat) or the page table (baseline).
 *
 * Usage: bench_iova [--quick] [--json FILE]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <moat/dma.h>
#include <moat/internal/unit.h>
#include <moat/iova.h>
#include <moat/moat.h>
#include <moat/pt.h>

#include "bench.h"
#include "hosted.h"
#include "iova_rbtree.h"

#define PAGE 4096ull
#define PAGE_SHIFT 12
#define MASK32 0xffffffffull
#define MASK39 0x7fffffffffull
#define DMA32_PFN (1ull << 20)          /* the first frame at or above 4 GiB */
#define SPACE_BASE_PFN 256ull           /* IOVAs from 1 MiB, as the DMA layer's default */
#define SPACE_LAST_PFN ((1ull << 36) - 1)  /* 48-bit input addresses (4-level tables) */
#define BUF_BASE 0x100000000ull         /* buffers: RAM above 4 GiB */
#define BUF_PAGES 65536ull
#define MIXED_SIZES 4096u

static bool quick;

/* Zeroed memory on a cache-line boundary, as a kernel places such objects (static, or a slab
 * aligned to the line): what each side keeps on a line of its own stays there. */
static void *zalloc_lines(size_t size)
{
	void *p = aligned_alloc(MOAT_CACHE_LINE, (size + MOAT_CACHE_LINE - 1) / MOAT_CACHE_LINE * MOAT_CACHE_LINE);

	if (p)
		memset(p, 0, size);
	return p;
}

/* ---------------------------------------------------------------------------------------------
 * A unit that only counts its invalidations (the hardware round trip is not measured here)
 * ------------------------------------------------------------------------------------------- */

#define CU_DEVS 4

struct count_unit {
	struct moat_unit unit;
	struct moat_unit_dev dev[CU_DEVS];
	unsigned ndev;
	uint64_t invalidations;   /* atomic */
};

static struct count_unit *cu_of(struct moat_unit *u)
{
	return u->priv;
}

static int cu_find(struct count_unit *cu, uint16_t rid)
{
	for (unsigned i = 0; i < cu->ndev; i++)
		if (cu->dev[i].rid == rid)
			return (int)i;
	return -1;
}

static moat_status cu_attach(struct moat_unit *u, uint16_t rid, const struct moat_domain *dom,
			     struct moat_diag *diag)
{
	struct count_unit *cu = cu_of(u);
	int i = cu_find(cu, rid);

	(void)diag;
	if (i < 0) {
		if (cu->ndev == CU_DEVS)
			return MOAT_ERR_NO_SPACE;
		i = (int)cu->ndev++;
	}
	cu->dev[i] = (struct moat_unit_dev){ rid, dom->id, dom->pt.root_phys };
	return MOAT_OK;
}

static moat_status cu_detach(struct moat_unit *u, uint16_t rid, struct moat_diag *diag)
{
	struct count_unit *cu = cu_of(u);
	int i = cu_find(cu, rid);

	(void)diag;
	if (i < 0)
		return MOAT_ERR_NOT_FOUND;
	cu->dev[i] = cu->dev[--cu->ndev];
	return MOAT_OK;
}

static moat_status cu_lookup(struct moat_unit *u, uint16_t rid, struct moat_unit_dev *out)
{
	struct count_unit *cu = cu_of(u);
	int i = cu_find(cu, rid);

	if (i < 0)
		return MOAT_ERR_NOT_FOUND;
	*out = cu->dev[i];
	return MOAT_OK;
}

static moat_status cu_invalidate(struct moat_unit *u, const struct moat_domain *dom, uint64_t iova, uint64_t size,
				 bool tables_changed, struct moat_diag *diag)
{
	(void)dom;
	(void)iova;
	(void)size;
	(void)tables_changed;
	(void)diag;
	__atomic_fetch_add(&cu_of(u)->invalidations, 1, __ATOMIC_RELAXED);
	return MOAT_OK;
}

static const struct moat_unit_ops cu_ops = {
	.attach = cu_attach,
	.detach = cu_detach,
	.lookup = cu_lookup,
	.invalidate = cu_invalidate,
};

static uint64_t cu_count(struct count_unit *cu)
{
	return __atomic_load_n(&cu->invalidations, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------------------------------------
 * Moat: a system, one counting unit, a domain with one device, the DMA API over it
 * ------------------------------------------------------------------------------------------- */

static struct moat_pt_config pt_config(void)
{
	return (struct moat_pt_config){ .format = MOAT_PT_VTD_SL, .levels = 4,
					.page_sizes = MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M | MOAT_PT_PAGE_1G,
					.coherent = true };
}

/* One domain with one device, served by the DMA API. */
struct mdom {
	struct moat_domain dom;
	struct moat_dma dma;
	uint16_t rid;
};

struct mfix {
	struct moat_system sys;
	struct count_unit cu;
	struct mdom d[2];
	unsigned ndom;
};

static struct mfix *mfix_new(enum moat_dma_policy policy, unsigned ndom)
{
	struct mfix *f = zalloc_lines(sizeof(*f));
	struct moat_system_config cfg = { .pt = pt_config() };
	struct moat_dma_config dcfg = { .policy = policy };
	struct moat_diag diag;
	moat_status st;

	if (!f)
		bench_fail("out of memory");
	if ((st = moat_system_init(&f->sys, &cfg)) != MOAT_OK)
		bench_fail("moat_system_init: %s", moat_status_text(st));
	f->cu.unit.ops = &cu_ops;
	f->cu.unit.priv = &f->cu;
	f->cu.unit.desc_index = -1;
	f->cu.unit.flags = MOAT_UNIT_F_ALL;
	if ((st = moat_system_add_unit(&f->sys, &f->cu.unit)) != MOAT_OK)
		bench_fail("moat_system_add_unit: %s", moat_status_text(st));
	f->ndom = ndom;
	for (unsigned i = 0; i < ndom; i++) {
		struct mdom *m = &f->d[i];

		m->rid = (uint16_t)(0x10 + 8 * i);
		if ((st = moat_domain_create(&f->sys, &m->dom)) != MOAT_OK)
			bench_fail("moat_domain_create: %s", moat_status_text(st));
		if ((st = moat_domain_attach(&m->dom, 0, m->rid, NULL)) != MOAT_OK)
			bench_fail("moat_domain_attach: %s", moat_status_text(st));
		memset(&diag, 0, sizeof(diag));
		if ((st = moat_dma_init(&m->dma, &m->dom, &dcfg, &diag)) != MOAT_OK)
			bench_fail("moat_dma_init: %s", moat_status_text(st));
	}
	return f;
}

static void mfix_free(struct mfix *f)
{
	struct moat_dma_stats ds;
	moat_status st;

	for (unsigned i = 0; i < f->ndom; i++) {
		struct mdom *m = &f->d[i];

		moat_dma_stats(&m->dma, &ds);
		if (ds.live)
			bench_fail("moat: %llu mappings left live", (unsigned long long)ds.live);
		if ((st = moat_dma_fini(&m->dma)) != MOAT_OK)
			bench_fail("moat_dma_fini: %s", moat_status_text(st));
		if ((st = moat_domain_detach(&f->sys, 0, m->rid, NULL)) != MOAT_OK)
			bench_fail("moat_domain_detach: %s", moat_status_text(st));
		if ((st = moat_domain_destroy(&m->dom)) != MOAT_OK)
			bench_fail("moat_domain_destroy: %s", moat_status_text(st));
	}
	if ((st = moat_system_fini(&f->sys)) != MOAT_OK)
		bench_fail("moat_system_fini: %s", moat_status_text(st));
	free(f);
}

/* ---------------------------------------------------------------------------------------------
 * The baseline: the Linux allocator, the same page tables, one counted invalidation per unmap
 * ------------------------------------------------------------------------------------------- */

/* The IOMMU unit: its invalidation queue lock, and a count of what was submitted. */
struct bunit {
	struct moat_lock lock;
	uint64_t invalidations;    /* atomic */
};

/* One domain: its own allocator and tables (as a Linux iova_domain and its page table). */
struct bdom {
	struct lx_iova lx;
	struct moat_pt pt;
	struct moat_lock pt_lock;   /* the tables are not locked by the engine */
	struct bunit *unit;
};

struct bfix {
	struct bunit unit;
	struct bdom d[2];
	unsigned ndom;
};

/* The invalidation the baseline issues per unmap: submitted under the unit's lock, as every driver
 * of a queued-invalidation IOMMU does (Moat's run under its system lock), and only counted. */
static void __attribute__((noinline)) base_invalidate(struct bdom *b, uint64_t iova, uint64_t size)
{
	moat_plat_lock_acquire(&b->unit->lock);
	__asm__ __volatile__("" : : "r"(iova), "r"(size) : "memory");
	__atomic_fetch_add(&b->unit->invalidations, 1, __ATOMIC_RELAXED);
	moat_plat_lock_release(&b->unit->lock);
}

static struct bfix *bfix_new(unsigned ncpus, unsigned ndom)
{
	struct bfix *f = zalloc_lines(sizeof(*f));
	struct moat_pt_config cfg = pt_config();
	struct moat_pt_ops ops = moat_pt_platform_ops();
	moat_status st;

	if (!f)
		bench_fail("out of memory");
	moat_plat_lock_init(&f->unit.lock);
	f->ndom = ndom;
	for (unsigned i = 0; i < ndom; i++) {
		struct bdom *b = &f->d[i];

		if (lx_iova_init(&b->lx, SPACE_BASE_PFN, ncpus) != 0)
			bench_fail("linux allocator: init failed");
		if ((st = moat_pt_init(&b->pt, &cfg, &ops)) != MOAT_OK)
			bench_fail("moat_pt_init: %s", moat_status_text(st));
		b->pt.keep_tables = true;   /* as the DMA domain's tables */
		moat_plat_lock_init(&b->pt_lock);
		b->unit = &f->unit;
	}
	return f;
}

static void bfix_free(struct bfix *f)
{
	for (unsigned i = 0; i < f->ndom; i++) {
		struct bdom *b = &f->d[i];

		if (lx_iova_check(&b->lx) < 0)
			bench_fail("linux allocator: the red-black tree is broken");
		moat_pt_destroy(&b->pt);
		lx_iova_fini(&b->lx);
		moat_plat_lock_fini(&b->pt_lock);
	}
	moat_plat_lock_fini(&f->unit.lock);
	free(f);
}

/* ---------------------------------------------------------------------------------------------
 * Allocator-only fixtures
 * ------------------------------------------------------------------------------------------- */

static struct moat_iova *miova_new(void)
{
	struct moat_iova *a = zalloc_lines(sizeof(*a));
	struct moat_iova_config cfg = { .base_pfn = SPACE_BASE_PFN, .last_pfn = SPACE_LAST_PFN };
	moat_status st;

	if (!a)
		bench_fail("out of memory");
	if ((st = moat_iova_init(a, &cfg, NULL)) != MOAT_OK)
		bench_fail("moat_iova_init: %s", moat_status_text(st));
	return a;
}

static void miova_free(struct moat_iova *a)
{
	moat_iova_fini(a);
	free(a);
}

static struct lx_iova *lxa_new(unsigned ncpus)
{
	struct lx_iova *d = zalloc_lines(sizeof(*d));

	if (!d || lx_iova_init(d, SPACE_BASE_PFN, ncpus) != 0)
		bench_fail("linux allocator: init failed");
	return d;
}

static void lxa_free(struct lx_iova *d)
{
	if (lx_iova_check(d) < 0)
		bench_fail("linux allocator: the red-black tree is broken");
	lx_iova_fini(d);
	free(d);
}

/* ---------------------------------------------------------------------------------------------
 * Workloads: one loop per pattern, compiled once per implementation
 * ------------------------------------------------------------------------------------------- */

enum kind { K_MOAT_DMA, K_BASE_DMA, K_MOAT_IOVA, K_BASE_IOVA };
enum pattern { P_PAIR, P_MIXED, P_RING };

static const char *const kind_name[] = { "moat dma", "linux+pt", "moat iova", "linux iova" };

/* Lengths of the mixed pattern: 4 to 64 KiB in 4 KiB steps, the same sequence for everyone. */
static uint64_t mixed_len[MIXED_SIZES];

static void mixed_init(void)
{
	uint64_t x = 0x2545f4914f6cdd1dull;

	for (unsigned i = 0; i < MIXED_SIZES; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		mixed_len[i] = (1 + x % 16) * PAGE;
	}
}

struct wl {
	enum kind kind;
	enum pattern pattern;
	void *obj;                  /* struct mfix, struct bfix, struct moat_iova or struct lx_iova */
	uint64_t mask;
	unsigned ring;              /* mappings in flight (a power of two) */
	uint64_t ops;               /* pairs per repetition */
	uint64_t buf0;              /* this thread's first buffer page */
	bool verify;                /* translate after every map and unmap */
	/* results of the last repetition */
	uint64_t max_end;           /* highest IOVA byte handed out */
	uint64_t *ring_iova, *ring_len;
	uint64_t elapsed_ns;
	uint64_t translations;
};

static uint64_t buf_phys(const struct wl *w, uint64_t i)
{
	return BUF_BASE + ((w->buf0 + i) % BUF_PAGES) * PAGE;
}

static void verify_mapped(struct wl *w, uint64_t iova, uint64_t phys, bool mapped)
{
	uint64_t got = 0;
	moat_status st;

	if (w->kind == K_MOAT_DMA)
		st = moat_domain_translate(&((struct mdom *)w->obj)->dom, iova, &got, NULL, NULL);
	else if (w->kind == K_BASE_DMA)
		st = moat_pt_translate(&((struct bdom *)w->obj)->pt, iova, &got, NULL, NULL);
	else
		return;
	w->translations++;
	if (mapped && (st != MOAT_OK || got != phys))
		bench_fail("%s: IOVA 0x%llx does not translate to 0x%llx right after its map (%s, 0x%llx)",
			   kind_name[w->kind], (unsigned long long)iova, (unsigned long long)phys,
			   moat_status_text(st), (unsigned long long)got);
	if (!mapped && st != MOAT_ERR_NOT_FOUND)
		bench_fail("%s: IOVA 0x%llx still translates after its unmap (%s)", kind_name[w->kind],
			   (unsigned long long)iova, moat_status_text(st));
}

static inline __attribute__((always_inline)) uint64_t op_map(enum kind k, struct wl *w, uint64_t phys, uint64_t len)
{
	const uint64_t npages = len >> PAGE_SHIFT;
	uint64_t iova = 0, pfn = 0;
	moat_status st = MOAT_OK;

	switch (k) {
	case K_MOAT_DMA:
		st = moat_dma_map(&((struct mdom *)w->obj)->dma, phys, len, MOAT_DMA_BIDIRECTIONAL, w->mask, &iova,
				  NULL);
		break;
	case K_BASE_DMA: {
		struct bdom *b = w->obj;

		if (!lx_alloc_iova_fast(&b->lx, npages, w->mask >> PAGE_SHIFT, true, &pfn)) {
			st = MOAT_ERR_NO_SPACE;
			break;
		}
		iova = pfn << PAGE_SHIFT;
		moat_plat_lock_acquire(&b->pt_lock);
		st = moat_pt_map(&b->pt, iova, phys, len, MOAT_PT_RW);
		moat_plat_lock_release(&b->pt_lock);
		break;
	}
	case K_MOAT_IOVA:
		st = moat_iova_alloc(w->obj, npages, w->mask >> PAGE_SHIFT, false, &pfn);
		iova = pfn << PAGE_SHIFT;
		break;
	case K_BASE_IOVA:
		if (!lx_alloc_iova_fast(w->obj, npages, w->mask >> PAGE_SHIFT, true, &pfn))
			st = MOAT_ERR_NO_SPACE;
		iova = pfn << PAGE_SHIFT;
		break;
	}
	if (__builtin_expect(st != MOAT_OK, 0))
		bench_fail("%s: map of %llu bytes: %s", kind_name[k], (unsigned long long)len, moat_status_text(st));
	if (iova + len - 1 > w->max_end)
		w->max_end = iova + len - 1;
	if (__builtin_expect(w->verify, 0))
		verify_mapped(w, iova, phys, true);
	return iova;
}

static inline __attribute__((always_inline)) void op_unmap(enum kind k, struct wl *w, uint64_t iova, uint64_t len)
{
	const uint64_t npages = len >> PAGE_SHIFT;
	moat_status st = MOAT_OK;

	switch (k) {
	case K_MOAT_DMA:
		st = moat_dma_unmap(&((struct mdom *)w->obj)->dma, iova, len, MOAT_DMA_BIDIRECTIONAL, NULL);
		break;
	case K_BASE_DMA: {
		struct bdom *b = w->obj;
		struct moat_pt_gather g;

		moat_pt_gather_init(&g);
		moat_plat_lock_acquire(&b->pt_lock);
		st = moat_pt_unmap(&b->pt, iova, len, &g);
		moat_plat_lock_release(&b->pt_lock);
		base_invalidate(b, iova, len);
		if (g.freed_pages) {
			moat_plat_lock_acquire(&b->pt_lock);
			moat_pt_gather_release(&b->pt, &g);
			moat_plat_lock_release(&b->pt_lock);
		}
		lx_free_iova_fast(&b->lx, iova >> PAGE_SHIFT, npages);
		break;
	}
	case K_MOAT_IOVA:
		st = moat_iova_free(w->obj, iova >> PAGE_SHIFT, npages);
		break;
	case K_BASE_IOVA:
		lx_free_iova_fast(w->obj, iova >> PAGE_SHIFT, npages);
		break;
	}
	if (__builtin_expect(st != MOAT_OK, 0))
		bench_fail("%s: unmap of 0x%llx: %s", kind_name[k], (unsigned long long)iova, moat_status_text(st));
	if (__builtin_expect(w->verify, 0))
		verify_mapped(w, iova, 0, false);
}

/* Fill the ring (untimed), run the pattern (timed), empty the ring (untimed). */
static inline __attribute__((always_inline)) void run_pattern(enum kind k, struct wl *w)
{
	const uint64_t n = w->ops;
	uint64_t t0, t1;

	w->max_end = 0;
	if (w->pattern == P_RING)
		for (unsigned s = 0; s < w->ring; s++)
			w->ring_iova[s] = op_map(k, w, buf_phys(w, s), w->ring_len[s] = PAGE);
	t0 = bench_now_ns();
	switch (w->pattern) {
	case P_PAIR:
		for (uint64_t i = 0; i < n; i++)
			op_unmap(k, w, op_map(k, w, buf_phys(w, i), PAGE), PAGE);
		break;
	case P_MIXED:
		for (uint64_t i = 0; i < n; i++) {
			const uint64_t len = mixed_len[i % MIXED_SIZES];

			op_unmap(k, w, op_map(k, w, buf_phys(w, i * 16), len), len);
		}
		break;
	case P_RING:
		for (uint64_t i = 0; i < n; i++) {
			const unsigned s = (unsigned)(i & (w->ring - 1));

			op_unmap(k, w, w->ring_iova[s], PAGE);
			w->ring_iova[s] = op_map(k, w, buf_phys(w, w->ring + i), PAGE);
		}
		break;
	}
	t1 = bench_now_ns();
	if (w->pattern == P_RING)
		for (unsigned s = 0; s < w->ring; s++)
			op_unmap(k, w, w->ring_iova[s], PAGE);
	w->elapsed_ns = t1 - t0;
}

static void __attribute__((noinline)) run_moat_dma(struct wl *w)
{
	run_pattern(K_MOAT_DMA, w);
}

static void __attribute__((noinline)) run_base_dma(struct wl *w)
{
	run_pattern(K_BASE_DMA, w);
}

static void __attribute__((noinline)) run_moat_iova(struct wl *w)
{
	run_pattern(K_MOAT_IOVA, w);
}

static void __attribute__((noinline)) run_base_iova(struct wl *w)
{
	run_pattern(K_BASE_IOVA, w);
}

static void wl_run_once(struct wl *w)
{
	static void (*const fn[])(struct wl *) = { run_moat_dma, run_base_dma, run_moat_iova, run_base_iova };

	fn[w->kind](w);
	if (w->max_end > w->mask)
		bench_fail("%s: IOVA byte 0x%llx outside the mask 0x%llx", kind_name[w->kind],
			   (unsigned long long)w->max_end, (unsigned long long)w->mask);
}

/* ---- one thread ---- */

static double wl_run(void *ctx)
{
	struct wl *w = ctx;

	wl_run_once(w);
	return (double)w->elapsed_ns;
}

/* ---- two threads on one domain / allocator ---- */

#define THREADS 2

struct thr {
	struct wl w;
	pthread_barrier_t *bar;
	int cpu_pin;   /* -1: not pinned */
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;

	if (t->cpu_pin >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(t->cpu_pin, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	pthread_barrier_wait(t->bar);
	wl_run_once(&t->w);
	return NULL;
}

struct wl2 {
	struct wl proto;
	void *obj[THREADS];   /* each thread's domain or allocator (the same one, or one each) */
	int pin[THREADS];
	uint64_t slowest_ns;
};

static double wl2_run(void *ctx)
{
	struct wl2 *m = ctx;
	struct thr t[THREADS];
	pthread_t id[THREADS];
	pthread_barrier_t bar;

	pthread_barrier_init(&bar, NULL, THREADS);
	for (unsigned i = 0; i < THREADS; i++) {
		t[i].w = m->proto;
		t[i].w.obj = m->obj[i];
		t[i].w.buf0 = i * (BUF_PAGES / THREADS);
		t[i].bar = &bar;
		t[i].cpu_pin = m->pin[i];
		if (m->proto.pattern == P_RING) {
			t[i].w.ring_iova = calloc(m->proto.ring, sizeof(uint64_t));
			t[i].w.ring_len = calloc(m->proto.ring, sizeof(uint64_t));
			if (!t[i].w.ring_iova || !t[i].w.ring_len)
				bench_fail("out of memory");
		}
		if (pthread_create(&id[i], NULL, thr_main, &t[i]) != 0)
			bench_fail("pthread_create failed");
	}
	m->slowest_ns = 0;
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(id[i], NULL);
		if (t[i].w.elapsed_ns > m->slowest_ns)
			m->slowest_ns = t[i].w.elapsed_ns;
		free(t[i].w.ring_iova);
		free(t[i].w.ring_len);
	}
	pthread_barrier_destroy(&bar);
	return (double)m->slowest_ns;
}

/* Two CPUs this process may run on, for pinning the two threads (-1 when there are fewer). */
static void pick_cpus(int pin[THREADS])
{
	cpu_set_t set;
	unsigned n = 0;

	for (unsigned i = 0; i < THREADS; i++)
		pin[i] = -1;
	if (sched_getaffinity(0, sizeof(set), &set) != 0 || CPU_COUNT(&set) < THREADS)
		return;
	for (int c = 0; c < CPU_SETSIZE && n < THREADS; c++)
		if (CPU_ISSET(c, &set))
			pin[n++] = c;
}

/* ---------------------------------------------------------------------------------------------
 * Measuring one workload on all four implementations
 * ------------------------------------------------------------------------------------------- */

struct spec {
	const char *name;
	enum pattern pattern;
	unsigned ring;
	uint64_t mask;
	uint64_t ops, ops_quick;
	bool pair_target;   /* 4 KiB pairs: at most the baseline's cached fast path */
	bool ns_target;     /* under 100 ns per pair */
};

/* One implementation's side of a workload: its fixture and how one repetition runs. */
struct meas {
	enum kind kind;
	const struct spec *s;
	unsigned threads;
	struct mfix *mf;
	struct bfix *bf;
	struct moat_iova *ma;
	struct lx_iova *la;
	struct wl w;
	struct wl2 m;
	uint64_t inval0;
};

static double meas_run(void *ctx)
{
	struct meas *x = ctx;

	return x->threads == 1 ? wl_run(&x->w) : wl2_run(&x->m);
}

/* A fresh fixture of @kind for @s; @threads 1 or 2, on @ndom domains (DMA kinds: 1, or 2 with two
 * threads, one domain each). */
static void meas_start(struct meas *x, enum kind kind, const struct spec *s, unsigned threads, unsigned ndom)
{
	void *obj[THREADS] = { NULL, NULL };

	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->s = s;
	x->threads = threads;
	x->w = (struct wl){ .kind = kind, .pattern = s->pattern, .mask = s->mask, .ring = s->ring,
			    .ops = quick ? s->ops_quick : s->ops, .verify = quick };
	switch (kind) {
	case K_MOAT_DMA:
		x->mf = mfix_new(MOAT_DMA_STRICT, ndom);
		obj[0] = &x->mf->d[0];
		obj[1] = &x->mf->d[ndom - 1];
		x->inval0 = cu_count(&x->mf->cu);
		break;
	case K_BASE_DMA:
		x->bf = bfix_new(threads, ndom);
		obj[0] = &x->bf->d[0];
		obj[1] = &x->bf->d[ndom - 1];
		break;
	case K_MOAT_IOVA:
		obj[0] = obj[1] = x->ma = miova_new();
		break;
	case K_BASE_IOVA:
		obj[0] = obj[1] = x->la = lxa_new(threads);
		break;
	}
	x->w.obj = obj[0];
	if (threads == 1 && s->pattern == P_RING) {
		x->w.ring_iova = calloc(s->ring, sizeof(uint64_t));
		x->w.ring_len = calloc(s->ring, sizeof(uint64_t));
		if (!x->w.ring_iova || !x->w.ring_len)
			bench_fail("out of memory");
	}
	if (threads == 2) {
		x->m = (struct wl2){ .proto = x->w, .obj = { obj[0], obj[1] } };
		pick_cpus(x->m.pin);
	}
}

/* Check what the runs did (strict: one invalidation per unmap, for Moat and the baseline alike)
 * and free the fixture; returns ns per pair of the fastest run. */
static double meas_end(struct meas *x, const struct bench_sample *smp)
{
	const struct spec *s = x->s;

	if (x->kind == K_MOAT_DMA || x->kind == K_BASE_DMA) {
		const uint64_t unmaps = (uint64_t)smp->runs * x->threads * (x->w.ops + (s->pattern == P_RING ? s->ring : 0));
		const uint64_t inval1 = x->mf ? cu_count(&x->mf->cu)
					      : __atomic_load_n(&x->bf->unit.invalidations, __ATOMIC_RELAXED);

		if (inval1 - x->inval0 != unmaps)
			bench_fail("%s %s: %llu invalidations for %llu unmaps", kind_name[x->kind], s->name,
				   (unsigned long long)(inval1 - x->inval0), (unsigned long long)unmaps);
	}
	free(x->w.ring_iova);
	free(x->w.ring_len);
	if (x->mf)
		mfix_free(x->mf);
	if (x->bf)
		bfix_free(x->bf);
	if (x->ma)
		miova_free(x->ma);
	if (x->la)
		lxa_free(x->la);
	return smp->min / (double)x->w.ops;
}

/* Moat and the baseline on one workload, their repetitions taken in turns. */
static void workload(struct bench_results *rs, const struct bench_table *t, const struct spec *s, unsigned threads,
		     bool dma, unsigned ndom)
{
	const enum kind km = dma ? K_MOAT_DMA : K_MOAT_IOVA, kb = dma ? K_BASE_DMA : K_BASE_IOVA;
	struct bench_sample sm, sb;
	struct meas xm, xb;
	char name[BENCH_NAME_MAX];
	struct bench_result *r;
	double m, b;

	meas_start(&xb, kb, s, threads, ndom);
	meas_start(&xm, km, s, threads, ndom);
	bench_repeat2(meas_run, &xb, meas_run, &xm, quick ? 1 : 5, quick ? 1 : (threads == 1 ? 400 : 200),
		      quick ? 0 : 3e8, &sb, &sm);
	b = meas_end(&xb, &sb);
	m = meas_end(&xm, &sm);
	snprintf(name, sizeof(name), "%s/%s%s/%uT%s", dma ? "dma/strict" : "iova", s->name,
		 s->mask == MASK32 ? "/mask32" : "/mask39", threads, ndom == 2 ? "_2dom" : "");
	r = bench_result_new(rs, name, "ns", m);
	bench_baseline(r, "linux", b);
	if (s->pair_target && ndom == 1)
		bench_target(r, "moat/linux<=1", m / b, true, 1.0);
	if (s->ns_target && dma && threads == 1)
		bench_target(r, "ns<100", m, true, 100.0);
	bench_info(r, "ops", (double)xm.w.ops);
	bench_info(r, "runs", sm.runs);
	bench_info(r, "threads", threads);
	bench_info(r, "domains", ndom);
	if (s->pattern == P_RING)
		bench_info(r, "in_flight", s->ring);
	bench_table_row(t, r);
}

/* ---------------------------------------------------------------------------------------------
 * W4: invalidations per 1000 unmaps, and the deferred stale window
 * ------------------------------------------------------------------------------------------- */

struct w4 {
	uint64_t unmap_calls, sg_calls, invalidations, unit_invalidations, flushes, max_window_ns, queued_after;
	double ns_per_pair;
};

/* A ring of 1024 single pages, and every 16th pair a scatter-gather list of four elements. */
static void w4_run(enum moat_dma_policy policy, uint64_t pairs, struct w4 *out)
{
	struct mfix *f = mfix_new(policy, 1);
	struct wl w = { .kind = K_MOAT_DMA, .obj = &f->d[0], .mask = MASK32, .verify = quick };
	enum { RING = 1024 };
	uint64_t *ring = calloc(RING, sizeof(uint64_t));
	struct moat_dma_stats s0, s1;
	uint64_t u0, t0, t1;
	moat_status st;

	if (!ring)
		bench_fail("out of memory");
	for (unsigned s = 0; s < RING; s++)
		ring[s] = op_map(K_MOAT_DMA, &w, buf_phys(&w, s), PAGE);
	moat_dma_stats(&f->d[0].dma, &s0);
	u0 = cu_count(&f->cu);
	memset(out, 0, sizeof(*out));
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < pairs; i++) {
		const unsigned s = (unsigned)(i & (RING - 1));

		op_unmap(K_MOAT_DMA, &w, ring[s], PAGE);
		ring[s] = op_map(K_MOAT_DMA, &w, buf_phys(&w, RING + i), PAGE);
		out->unmap_calls++;
		if (i % 16 == 15) {
			const struct moat_dma_sg sg[4] = {
				{ buf_phys(&w, i) + 0x200, 0x1e00 }, { buf_phys(&w, i + 7), PAGE },
				{ buf_phys(&w, i + 9), 3 * PAGE }, { buf_phys(&w, i + 20), 0x800 },
			};
			uint64_t iova;

			st = moat_dma_map_sg(&f->d[0].dma, sg, 4, MOAT_DMA_TO_DEVICE, MASK32, &iova, NULL);
			if (st != MOAT_OK)
				bench_fail("moat: map_sg: %s", moat_status_text(st));
			if (iova > MASK32)
				bench_fail("moat: map_sg: IOVA 0x%llx outside the mask", (unsigned long long)iova);
			for (unsigned k = 0; quick && k < 4; k++) {
				uint64_t phys = 0;

				st = moat_domain_translate(&f->d[0].dom, moat_dma_sg_iova(sg, k, iova), &phys, NULL, NULL);
				if (st != MOAT_OK || phys != sg[k].phys)
					bench_fail("moat: map_sg: element %u does not translate", k);
			}
			if ((st = moat_dma_unmap_sg(&f->d[0].dma, iova, sg, 4, MOAT_DMA_TO_DEVICE, NULL)) != MOAT_OK)
				bench_fail("moat: unmap_sg: %s", moat_status_text(st));
			if (quick && moat_domain_translate(&f->d[0].dom, iova, NULL, NULL, NULL) != MOAT_ERR_NOT_FOUND)
				bench_fail("moat: unmap_sg: IOVA 0x%llx still translates", (unsigned long long)iova);
			out->unmap_calls++;
			out->sg_calls++;
		}
	}
	t1 = bench_now_ns();
	moat_dma_stats(&f->d[0].dma, &s1);
	out->invalidations = s1.invalidations - s0.invalidations;
	out->unit_invalidations = cu_count(&f->cu) - u0;
	out->flushes = s1.flushes - s0.flushes;
	out->max_window_ns = s1.max_window_ns;
	out->queued_after = s1.queued;
	out->ns_per_pair = (double)(t1 - t0) / (double)out->unmap_calls;
	if (s1.unmaps - s0.unmaps != out->unmap_calls)
		bench_fail("moat: the stats count %llu unmaps for %llu calls",
			   (unsigned long long)(s1.unmaps - s0.unmaps), (unsigned long long)out->unmap_calls);
	if (out->invalidations != out->unit_invalidations)
		bench_fail("moat: the stats count %llu invalidations, the unit saw %llu",
			   (unsigned long long)out->invalidations, (unsigned long long)out->unit_invalidations);
	if (w.max_end > MASK32)
		bench_fail("moat: IOVA byte 0x%llx outside the 32-bit mask", (unsigned long long)w.max_end);
	for (unsigned s = 0; s < RING; s++)
		op_unmap(K_MOAT_DMA, &w, ring[s], PAGE);
	free(ring);
	mfix_free(f);
}

static void w4(struct bench_results *rs, const struct bench_table *t)
{
	const uint64_t pairs = quick ? 2000 : 200000;
	struct w4 s, d;
	struct bench_result *r;
	double per1000;

	w4_run(MOAT_DMA_STRICT, pairs, &s);
	per1000 = 1000.0 * (double)s.invalidations / (double)s.unmap_calls;
	if (s.invalidations != s.unmap_calls)
		bench_fail("strict: %llu invalidations for %llu unmap calls (%llu of them scatter-gather)",
			   (unsigned long long)s.invalidations, (unsigned long long)s.unmap_calls,
			   (unsigned long long)s.sg_calls);
	r = bench_result_new(rs, "dma/strict/inval_per_1000_unmaps", "count", per1000);
	bench_skip(r, "linux", "a count of Moat's own calls");
	bench_target(r, "inval/unmap==1", (double)s.invalidations / (double)s.unmap_calls, true, 1.0);
	bench_info(r, "unmap_calls", (double)s.unmap_calls);
	bench_info(r, "sg_calls", (double)s.sg_calls);
	bench_info(r, "invalidations", (double)s.invalidations);
	bench_info(r, "ns_per_pair", s.ns_per_pair);
	bench_table_row(t, r);

	w4_run(MOAT_DMA_DEFERRED, pairs, &d);
	per1000 = 1000.0 * (double)d.invalidations / (double)d.unmap_calls;
	r = bench_result_new(rs, "dma/deferred/inval_per_1000_unmaps", "count", per1000);
	bench_skip(r, "linux", "a count of Moat's own calls");
	bench_info(r, "unmap_calls", (double)d.unmap_calls);
	bench_info(r, "sg_calls", (double)d.sg_calls);
	bench_info(r, "invalidations", (double)d.invalidations);
	bench_info(r, "flushes", (double)d.flushes);
	bench_info(r, "fq_entries", MOAT_DMA_FQ_DEFAULT);
	bench_info(r, "ns_per_pair", d.ns_per_pair);
	bench_info(r, "queued_at_end", (double)d.queued_after);
	bench_table_row(t, r);
	if (d.invalidations >= d.unmap_calls)
		bench_fail("deferred: %llu invalidations for %llu unmap calls: nothing was batched",
			   (unsigned long long)d.invalidations, (unsigned long long)d.unmap_calls);

	r = bench_result_new(rs, "dma/deferred/max_window", "ns", (double)d.max_window_ns);
	bench_skip(r, "linux", "a measurement of Moat's own queue");
	bench_target(r, "window<=10ms", (double)d.max_window_ns, true, (double)MOAT_DMA_TIMEOUT_DEFAULT_NS);
	bench_info(r, "fq_timeout_ns", (double)MOAT_DMA_TIMEOUT_DEFAULT_NS);
	bench_table_row(t, r);
}

/* ---------------------------------------------------------------------------------------------
 * Pathological: a full 32-bit space with small holes
 * ------------------------------------------------------------------------------------------- */

struct patho {
	uint64_t dense;       /* long-lived 1-page mappings' span: [DMA32_PFN - dense, DMA32_PFN) */
	uint64_t start;       /* the first frame: a free gap of 128 pages at [start, start + 128) */
	uint64_t cycles;      /* per repetition */
	struct moat_iova *ma;
	struct lx_iova *la;
	uint64_t walk_steps;  /* Linux: nodes visited in the last repetition */
};

static void patho_fill(struct patho *p, bool moat)
{
	const uint64_t top = DMA32_PFN - 1;
	uint64_t pfn;
	moat_status st;

	/* Long-lived single pages, handed out top-down from 4 GiB... */
	for (uint64_t k = 0; k < p->dense; k++) {
		if (moat)
			st = moat_iova_alloc(p->ma, 1, top, false, &pfn);
		else
			st = lx_alloc_iova_fast(p->la, 1, top, false, &pfn) ? MOAT_OK : MOAT_ERR_NO_SPACE;
		if (st != MOAT_OK || pfn != top - k)
			bench_fail("%s: pathological set-up: page %llu at 0x%llx (%s)", moat ? "moat" : "linux",
				   (unsigned long long)k, (unsigned long long)pfn, moat_status_text(st));
	}
	/* ...then every other one given back: 1-page holes all over the 32-bit space. */
	for (uint64_t k = 1; k < p->dense; k += 2) {
		pfn = DMA32_PFN - p->dense + k;
		if (moat) {
			if ((st = moat_iova_free(p->ma, pfn, 1)) != MOAT_OK)
				bench_fail("moat: pathological set-up: free: %s", moat_status_text(st));
		} else {
			lx_free_iova_fast(p->la, pfn, 1);
		}
	}
}

/* One cycle; checks every result. */
static inline __attribute__((always_inline)) void patho_cycle(struct patho *p, bool moat)
{
	const uint64_t lim32 = DMA32_PFN - 1, lim64 = SPACE_LAST_PFN;
	uint64_t p64 = 0, p128 = 0, x = 0;
	bool ok64, fail128, ok128;

	if (moat) {
		ok64 = moat_iova_alloc(p->ma, 64, lim32, true, &p64) == MOAT_OK;
		fail128 = moat_iova_alloc(p->ma, 128, lim32, true, &x) == MOAT_ERR_NO_SPACE;
		ok128 = moat_iova_alloc(p->ma, 128, lim64, true, &p128) == MOAT_OK;
	} else {
		ok64 = lx_alloc_iova_fast(p->la, 64, lim32, false, &p64);
		fail128 = !lx_alloc_iova_fast(p->la, 128, lim32, false, &x);
		ok128 = lx_alloc_iova_fast(p->la, 128, lim64, true, &p128);
	}
	if (__builtin_expect(!ok64 || !fail128 || !ok128 || p64 < p->start || p64 + 64 > p->start + 128 || p64 % 64 ||
				     p128 < DMA32_PFN || p128 + 127 > lim64 || p128 % 128,
			     0))
		bench_fail("%s: pathological cycle: 64 pages %s at 0x%llx, 128 below 4 GiB %s, 128 %s at 0x%llx",
			   moat ? "moat" : "linux", ok64 ? "ok" : "failed", (unsigned long long)p64,
			   fail128 ? "refused" : "given", ok128 ? "ok" : "failed", (unsigned long long)p128);
	if (moat) {
		if (moat_iova_free(p->ma, p128, 128) != MOAT_OK || moat_iova_free(p->ma, p64, 64) != MOAT_OK)
			bench_fail("moat: pathological cycle: free failed");
	} else {
		lx_free_iova_fast(p->la, p128, 128);
		lx_free_iova_fast(p->la, p64, 64);
	}
}

static double patho_run_moat(void *ctx)
{
	struct patho *p = ctx;
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < p->cycles; i++)
		patho_cycle(p, true);
	return (double)(bench_now_ns() - t0);
}

static double patho_run_linux(void *ctx)
{
	struct patho *p = ctx;
	struct lx_stats s0, s1;
	uint64_t t0, t1;

	lx_iova_stats(p->la, &s0);
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < p->cycles; i++)
		patho_cycle(p, false);
	t1 = bench_now_ns();
	lx_iova_stats(p->la, &s1);
	p->walk_steps = s1.walk_steps - s0.walk_steps;
	return (double)(t1 - t0);
}

static void pathological(struct bench_results *rs, const struct bench_table *t)
{
	/* Full: the whole 32-bit space above 1.5 MiB; quick: its top 64 MiB. */
	const uint64_t dense = quick ? (1ull << 14) : DMA32_PFN - 512;
	struct patho pm = { .dense = dense, .start = DMA32_PFN - dense - 128, .cycles = quick ? 20 : 4000 };
	struct patho pl = pm;
	struct moat_iova_config cfg = { .base_pfn = pm.start, .last_pfn = SPACE_LAST_PFN };
	struct moat_iova_stats ms;
	struct lx_stats ls;
	struct bench_sample sm, sl;
	struct bench_result *r;
	int64_t nodes;
	moat_status st;
	double m, b;

	pm.ma = calloc(1, sizeof(*pm.ma));
	pl.la = calloc(1, sizeof(*pl.la));
	if (!pm.ma || !pl.la)
		bench_fail("out of memory");
	if ((st = moat_iova_init(pm.ma, &cfg, NULL)) != MOAT_OK)
		bench_fail("moat_iova_init: %s", moat_status_text(st));
	if (lx_iova_init(pl.la, pl.start, 1) != 0)
		bench_fail("linux allocator: init failed");
	patho_fill(&pm, true);
	patho_fill(&pl, false);
	nodes = lx_iova_check(pl.la);
	if (nodes < (int64_t)(dense / 2))
		bench_fail("linux allocator: %lld ranges after the set-up (at least %llu expected), or a broken tree",
			   (long long)nodes, (unsigned long long)(dense / 2));

	pl.cycles = quick ? 10 : 20;
	sl = bench_repeat(patho_run_linux, &pl, quick ? 1 : 3, quick ? 1 : 50, quick ? 0 : 3e8);
	sm = bench_repeat(patho_run_moat, &pm, quick ? 1 : 5, quick ? 1 : 200, quick ? 0 : 2e8);
	m = sm.min / (double)pm.cycles;
	b = sl.min / (double)pl.cycles;
	moat_iova_stats(pm.ma, &ms);
	lx_iova_stats(pl.la, &ls);
	if (lx_iova_check(pl.la) != nodes)
		bench_fail("linux allocator: the tree changed size over the cycles, or broke");

	r = bench_result_new(rs, "iova/pathological/32bit_full_holes/cycle", "ns", m);
	bench_baseline(r, "linux", b);
	bench_target(r, "moat/linux<=0.1", m / b, true, 0.1);
	bench_info(r, "long_lived", (double)(dense / 2));
	bench_info(r, "linux_ranges", (double)nodes);
	bench_info(r, "linux_walk_per_cycle", (double)pl.walk_steps / (double)pl.cycles);
	bench_info(r, "moat_free_ranges", (double)ms.free_ranges);
	bench_info(r, "moat_metadata_bytes", (double)ms.metadata_bytes);
	bench_info(r, "cycles", (double)pm.cycles);
	bench_info(r, "runs", sm.runs);
	bench_info(r, "runs_linux", sl.runs);
	bench_table_row(t, r);

	moat_iova_fini(pm.ma);
	lx_iova_fini(pl.la);
	free(pm.ma);
	free(pl.la);
}

/* ---------------------------------------------------------------------------------------------
 * Main
 * ------------------------------------------------------------------------------------------- */

static const struct spec specs[] = {
	{ "4K_pair", P_PAIR, 0, MASK32, 200000, 300, true, true },
	{ "mixed_4-64K", P_MIXED, 0, MASK39, 100000, 300, false, false },
	{ "ring256", P_RING, 256, MASK32, 200000, 300, false, false },
	{ "ring1024", P_RING, 1024, MASK32, 200000, 300, false, false },
	{ "ring4096", P_RING, 4096, MASK32, 200000, 300, false, false },
};

static void *no_op(void *arg)
{
	return arg;
}

/*
 * glibc skips the atomic operations of its locks while a process has only ever had one thread, so
 * one-thread rows would measure locks that cost nothing, as on no multi-CPU system: a thread is
 * started (and joined) before any measurement, and every lock then costs what it costs on SMP.
 */
static void become_multithreaded(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, no_op, NULL) != 0 || pthread_join(t, NULL) != 0)
		bench_fail("cannot start a thread");
}

int main(int argc, char **argv)
{
	static const struct bench_column cols[] = { { "linux", BENCH_RIVAL } };
	const struct bench_table table = { cols, 1, stdout };
	struct bench_results rs = { 0 };
	const char *json = NULL;
	unsigned missed;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			quick = true;
		} else if (!strcmp(argv[i], "--json") && i + 1 < argc) {
			json = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--quick] [--json FILE]\n", argv[0]);
			return 2;
		}
	}
	become_multithreaded();
	mixed_init();
	printf("bench_iova: DMA map/unmap and IOVA allocation, ns of CPU per pair (per pair per thread for 2T)%s\n",
	       quick ? " (quick: one repetition, every mapping translated)" : "");
	bench_table_header(&table);

	/* W2: one thread; the DMA API with its page tables, then the allocators alone. */
	for (unsigned i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		workload(&rs, &table, &specs[i], 1, true, 1);
	for (unsigned i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		workload(&rs, &table, &specs[i], 1, false, 1);
	/* W3: two threads, one domain: the 4 KiB pairs and the ring of 1024; then the DMA API with a
	 * domain per thread (one system, one unit). */
	for (unsigned dma = 2; dma-- > 0;) {
		workload(&rs, &table, &specs[0], 2, dma, 1);
		workload(&rs, &table, &specs[3], 2, dma, 1);
	}
	workload(&rs, &table, &specs[0], 2, true, 2);
	workload(&rs, &table, &specs[3], 2, true, 2);
	/* W4 */
	w4(&rs, &table);
	/* Pathological */
	pathological(&rs, &table);

	missed = bench_targets_missed(&rs);
	printf("\n");
	bench_print_skipped(stdout, &rs);
	printf("b/moat: the baseline (Linux IOVA algorithm; for dma/ rows with the same page tables and a counted\n"
	       "invalidation) over Moat: how many times faster Moat is. %u target(s) missed.\n",
	       missed);
	if (json && bench_write_json(json, &rs) != 0) {
		perror(json);
		bench_results_free(&rs);
		return 2;
	}
	bench_results_free(&rs);
	return 0;
}
