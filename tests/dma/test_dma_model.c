/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Randomized runs of the DMA API against a reference model, with fixed seeds (printed on failure):
 * maps and scatter-gather maps of sub-page and multi-page buffers with DMA masks and directions,
 * unmaps, lifetime errors, protected memory and flushes. After every call the live tables are
 * compared with the model through moat_domain_translate(): a mapping translates, page by page, to
 * its buffer with its direction's permissions; an unmapped IOVA does not translate. The counting
 * unit checks the invalidations: strict, exactly one per unmap call and none otherwise; deferred,
 * an IOVA is never handed out again before an invalidation completed after its unmap.
 * On every page-table configuration; in an IOVA space of fewer than 4096 pages (1-level AMD-Vi: 256)
 * with at most 6 live mappings of buffers up to 3 pages and a queue of 4, so the space never runs
 * out. The default configuration runs 15000 calls a seed, the others 5000.
 */
#include "dma_test.h"

#define LIVE_MAX 256
#define SG_MAX_ELEMS 4
#define PROT_BASE 0x30000000ull
#define PROT_SIZE 0x10000ull

struct mmap {
	uint64_t iova;
	enum moat_dma_dir dir;
	bool sg;
	unsigned n;                           /* elements (1 for a plain map) */
	struct moat_dma_sg el[SG_MAX_ELEMS];  /* a plain map is its element 0 */
};

/* IOVA page ranges unmapped since the last invalidation (deferred). */
struct pending {
	uint64_t first[LIVE_MAX * 2], pages[LIVE_MAX * 2];
	unsigned n;
};

struct run {
	struct fix f;
	unsigned seed, op;
	enum moat_dma_policy policy;
	struct mmap m[LIVE_MAX];
	unsigned n;
	struct pending pend;
	unsigned inval_seen;
	uint64_t maps, unmaps;
};

static uint64_t rnd(uint64_t n)
{
	return ((uint64_t)rand() << 31 ^ (uint64_t)rand()) % n;
}

static uint64_t pages_of(uint64_t phys, uint64_t len)
{
	return ((phys + len - 1) >> 12) - (phys >> 12) + 1;
}

static uint64_t total_pages(const struct mmap *x)
{
	uint64_t p = 0;

	for (unsigned k = 0; k < x->n; k++)
		p += pages_of(x->el[k].phys, x->el[k].len);
	return p;
}

/* Every page of @x translates to its buffer with @x's permissions, the offsets included. */
static void check_mapped(struct run *r, const struct mmap *x)
{
	uint64_t page = x->iova & ~0xfffull;

	for (unsigned k = 0; k < x->n; k++) {
		const uint64_t at = x->sg ? moat_dma_sg_iova(x->el, k, x->iova) : x->iova;
		const uint64_t np = pages_of(x->el[k].phys, x->el[k].len);
		uint64_t phys;
		unsigned prot;

		if ((at & 0xfff) != (x->el[k].phys & 0xfff) || (at & ~0xfffull) != page)
			fail_msg("seed %u op %u: element %u at IOVA 0x%llx, expected page 0x%llx offset 0x%llx", r->seed,
				 r->op, k, (unsigned long long)at, (unsigned long long)page,
				 (unsigned long long)(x->el[k].phys & 0xfff));
		for (uint64_t p = 0; p < np; p++) {
			if (!translates(&r->f, page + p * 0x1000, &phys, &prot) ||
			    phys != (x->el[k].phys & ~0xfffull) + p * 0x1000 || prot != dir_prot(x->dir))
				fail_msg("seed %u op %u: IOVA 0x%llx does not translate to 0x%llx with prot %u", r->seed,
					 r->op, (unsigned long long)(page + p * 0x1000),
					 (unsigned long long)((x->el[k].phys & ~0xfffull) + p * 0x1000), dir_prot(x->dir));
		}
		if (!translates(&r->f, at + x->el[k].len - 1, &phys, NULL) || phys != x->el[k].phys + x->el[k].len - 1)
			fail_msg("seed %u op %u: last byte of element %u does not translate", r->seed, r->op, k);
		page += np * 0x1000;
	}
	/* nothing right after the mapping belongs to it: either unmapped or another live mapping */
}

static void check_unmapped(struct run *r, uint64_t first_page, uint64_t pages)
{
	for (uint64_t p = 0; p < pages; p++)
		if (translates(&r->f, first_page + p * 0x1000, NULL, NULL))
			fail_msg("seed %u op %u: unmapped IOVA 0x%llx still translates", r->seed, r->op,
				 (unsigned long long)(first_page + p * 0x1000));
}

/* Deferred bookkeeping after each call: an invalidation covered everything unmapped before it. */
static void note_invalidations(struct run *r, unsigned allowed)
{
	const unsigned got = r->f.nu.inval_calls - r->inval_seen;

	if (got > allowed)
		fail_msg("seed %u op %u: %u invalidations in one call, at most %u expected", r->seed, r->op, got,
			 allowed);
	if (got)
		r->pend.n = 0;
	r->inval_seen = r->f.nu.inval_calls;
}

static void check_not_pending(struct run *r, const struct mmap *x)
{
	const uint64_t first = x->iova >> 12, np = total_pages(x);

	for (unsigned i = 0; i < r->pend.n; i++)
		if (first < r->pend.first[i] + r->pend.pages[i] && r->pend.first[i] < first + np)
			fail_msg("seed %u op %u: IOVA 0x%llx handed out again before an invalidation covered its unmap",
				 r->seed, r->op, (unsigned long long)x->iova);
}

/* A narrow IOVA space: few, small mappings. */
static bool small_space(void)
{
	return t_dma_pages() < 4096;
}

static unsigned live_max(void)
{
	return small_space() ? 6 : LIVE_MAX;
}

static void random_buffer(struct moat_dma_sg *e, uint64_t region)
{
	e->phys = region + rnd(4096) * 0x1000 + rnd(4096);
	e->len = 1 + rnd(rnd(4) || small_space() ? 0x2000 : 0x9000);
}

static void op_map(struct run *r)
{
	static const uint64_t masks[] = { 0, 0xffffffff, 0x3fffffff, 0xfffffffff, 0xfffffff };
	struct mmap *x = &r->m[r->n];
	const uint64_t mask = masks[rnd(5)];
	const bool protected_hit = rnd(20) == 0;
	moat_status st;

	x->sg = rnd(3) == 0;
	x->n = x->sg ? 1 + (unsigned)rnd(SG_MAX_ELEMS) : 1;
	x->dir = (enum moat_dma_dir)(1 + rnd(3));
	for (unsigned k = 0; k < x->n; k++)
		random_buffer(&x->el[k], 0x80000000ull + k * 0x10000000ull);
	if (protected_hit)
		x->el[x->n - 1].phys = PROT_BASE + rnd(PROT_SIZE);
	x->iova = 0x5a5a;
	st = x->sg ? moat_dma_map_sg(&r->f.dma, x->el, x->n, x->dir, mask, &x->iova, NULL)
		   : moat_dma_map(&r->f.dma, x->el[0].phys, x->el[0].len, x->dir, mask, &x->iova, NULL);
	if (protected_hit) {
		if (st != MOAT_ERR_PROTECTED || x->iova != 0x5a5a)
			fail_msg("seed %u op %u: a map of protected memory gave %s", r->seed, r->op, moat_status_str(st));
		note_invalidations(r, 0);
		return;
	}
	if (st != MOAT_OK)
		fail_msg("seed %u op %u: map (%u element(s), mask 0x%llx) failed: %s", r->seed, r->op, x->n,
			 (unsigned long long)mask, moat_status_str(st));
	if (mask && (x->iova & ~0xfffull) + total_pages(x) * 0x1000 - 1 > mask)
		fail_msg("seed %u op %u: IOVA 0x%llx + %llu pages passes the mask 0x%llx", r->seed, r->op,
			 (unsigned long long)x->iova, (unsigned long long)total_pages(x), (unsigned long long)mask);
	note_invalidations(r, 0);
	check_not_pending(r, x);
	check_mapped(r, x);
	r->n++;
	r->maps++;
}

static moat_status do_unmap(struct run *r, const struct mmap *x)
{
	return x->sg ? moat_dma_unmap_sg(&r->f.dma, x->iova, x->el, x->n, x->dir, NULL)
		     : moat_dma_unmap(&r->f.dma, x->iova, x->el[0].len, x->dir, NULL);
}

static void op_unmap(struct run *r)
{
	const unsigned i = (unsigned)rnd(r->n);
	const struct mmap x = r->m[i];
	const unsigned before = r->f.nu.inval_calls;
	moat_status st = do_unmap(r, &x);

	if (st != MOAT_OK)
		fail_msg("seed %u op %u: unmap of IOVA 0x%llx failed: %s", r->seed, r->op, (unsigned long long)x.iova,
			 moat_status_str(st));
	if (r->policy == MOAT_DMA_STRICT && r->f.nu.inval_calls - before != 1)
		fail_msg("seed %u op %u: strict unmap made %u invalidations", r->seed, r->op, r->f.nu.inval_calls - before);
	check_unmapped(r, x.iova & ~0xfffull, total_pages(&x));
	r->m[i] = r->m[--r->n];
	r->unmaps++;
	if (r->policy == MOAT_DMA_DEFERRED) {
		note_invalidations(r, 1);
		if (r->f.nu.inval_calls == before) {
			r->pend.first[r->pend.n] = x.iova >> 12;
			r->pend.pages[r->pend.n] = total_pages(&x);
			r->pend.n++;
		}
	} else {
		r->inval_seen = r->f.nu.inval_calls;
	}
	/* the same unmap again: refused, nothing changes */
	if (rnd(4) == 0) {
		if (do_unmap(r, &x) != MOAT_ERR_NOT_FOUND)
			fail_msg("seed %u op %u: a double unmap was not refused", r->seed, r->op);
		note_invalidations(r, 0);
	}
}

/* A wrong unmap of a live mapping: refused, nothing changes. */
static void op_wrong_unmap(struct run *r)
{
	const unsigned i = (unsigned)rnd(r->n);
	const struct mmap *x = &r->m[i];
	moat_status st, want = MOAT_ERR_INVALID_ARG;

	switch (rnd(4)) {
	case 0:   /* wrong length */
		st = x->sg ? moat_dma_unmap(&r->f.dma, x->iova, 0x1000 * total_pages(x), x->dir, NULL)
			   : moat_dma_unmap(&r->f.dma, x->iova, x->el[0].len + 0x1000, x->dir, NULL);
		break;
	case 1:   /* wrong direction */
		st = x->sg ? moat_dma_unmap_sg(&r->f.dma, x->iova, x->el, x->n, (enum moat_dma_dir)(x->dir % 3 + 1), NULL)
			   : moat_dma_unmap(&r->f.dma, x->iova, x->el[0].len, (enum moat_dma_dir)(x->dir % 3 + 1), NULL);
		break;
	case 2:   /* an IOVA inside it, not its start: a later page, or another offset in the page */
		if (total_pages(x) > 1) {
			want = MOAT_ERR_NOT_FOUND;
			st = moat_dma_unmap(&r->f.dma, (x->iova & ~0xfffull) + 0x1000, 0x1000, x->dir, NULL);
		} else {
			st = moat_dma_unmap(&r->f.dma, x->iova ^ 0x10, x->el[0].len, x->dir, NULL);
		}
		break;
	default:  /* a list unmap of a plain map, or the other way round */
		st = x->sg ? moat_dma_unmap(&r->f.dma, x->iova, x->el[0].len, x->dir, NULL)
			   : moat_dma_unmap_sg(&r->f.dma, x->iova, x->el, 1, x->dir, NULL);
		break;
	}
	if (st == MOAT_OK || (want == MOAT_ERR_INVALID_ARG && st != want))
		fail_msg("seed %u op %u: a wrong unmap of IOVA 0x%llx gave %s", r->seed, r->op,
			 (unsigned long long)x->iova, moat_status_str(st));
	note_invalidations(r, 0);
	check_mapped(r, x);
}

static void run_one(unsigned seed, enum moat_dma_policy policy, unsigned ops)
{
	struct moat_dma_config cfg = { .policy = policy, .fq_entries = small_space() ? 4 : 16,
				       .fq_timeout_ns = 600000000000ull };
	struct run *r = aligned_alloc(_Alignof(struct run), sizeof(*r));
	struct moat_dma_stats st;

	assert_non_null(r);
	memset(r, 0, sizeof(*r));
	r->seed = seed;
	r->policy = policy;
	fix_up(&r->f, &cfg);
	assert_int_equal(moat_protect_add(r->f.sys, PROT_BASE, PROT_SIZE, "model", NULL), MOAT_OK);
	r->inval_seen = r->f.nu.inval_calls;
	srand(seed);
	for (r->op = 0; r->op < ops; r->op++) {
		const unsigned c = (unsigned)rnd(20);

		if (r->n && (c < 8 || r->n == live_max())) {
			op_unmap(r);
		} else if (r->n && c < 10) {
			op_wrong_unmap(r);
		} else if (c == 10 && policy == MOAT_DMA_DEFERRED) {
			if (moat_dma_flush(&r->f.dma, NULL) != MOAT_OK)
				fail_msg("seed %u op %u: flush failed", seed, r->op);
			note_invalidations(r, 1);
			if (r->pend.n)
				fail_msg("seed %u op %u: a flush with unmaps queued made no invalidation", seed, r->op);
		} else {
			op_map(r);
		}
		if (r->op % 512 == 0)
			for (unsigned i = 0; i < r->n; i++)
				check_mapped(r, &r->m[i]);
	}
	for (unsigned i = 0; i < r->n; i++)
		check_mapped(r, &r->m[i]);
	moat_dma_stats(&r->f.dma, &st);
	if (st.live != r->n || st.maps != r->maps || st.unmaps != r->unmaps)
		fail_msg("seed %u: stats say %llu live, %llu maps, %llu unmaps; the model %u, %llu, %llu", seed,
			 (unsigned long long)st.live, (unsigned long long)st.maps, (unsigned long long)st.unmaps, r->n,
			 (unsigned long long)r->maps, (unsigned long long)r->unmaps);
	if (policy == MOAT_DMA_STRICT && st.invalidations != r->unmaps)
		fail_msg("seed %u: %llu invalidations for %llu unmaps", seed, (unsigned long long)st.invalidations,
			 (unsigned long long)r->unmaps);
	assert_audit_clean(r->f.sys);
	fix_down(&r->f);
	free(r);
}

static void strict_runs_match_the_model(void **state)
{
	(void)state;
	static const unsigned seeds[] = { 1, 777, 20240607 };

	for (unsigned i = 0; i < 3; i++)
		run_one(seeds[i], MOAT_DMA_STRICT, t_pt_default() ? 15000 : 5000);
}

static void deferred_runs_match_the_model(void **state)
{
	(void)state;
	static const unsigned seeds[] = { 2, 778, 31415926 };

	for (unsigned i = 0; i < 3; i++)
		run_one(seeds[i], MOAT_DMA_DEFERRED, t_pt_default() ? 15000 : 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strict_runs_match_the_model),
		cmocka_unit_test(deferred_runs_match_the_model),
	};

	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
