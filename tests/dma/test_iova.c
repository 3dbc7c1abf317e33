/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The IOVA allocator: limits, alignment (an aligned block is found wherever it is), exhaustion and
 * merging, reservations, the per-CPU caches (and that they honour the limit), out of memory,
 * bounded metadata, searches that stay logarithmic in a pattern that makes a first-fit search
 * linear, and a randomized run against a reference bitmap of the space (the highest fit, and no
 * space only when there is none).
 */
#define _GNU_SOURCE
#include "test.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <hosted.h>
#include <moat/iova.h>

static struct moat_iova *new_iova(uint64_t base, uint64_t last, bool no_cache)
{
	struct moat_iova *a = aligned_alloc(_Alignof(struct moat_iova), sizeof(*a));
	struct moat_iova_config cfg = { .base_pfn = base, .last_pfn = last, .no_cache = no_cache };

	assert_non_null(a);
	memset(a, 0, sizeof(*a));
	assert_int_equal(moat_iova_init(a, &cfg, NULL), MOAT_OK);
	return a;
}

static void free_iova(struct moat_iova *a)
{
	moat_iova_fini(a);
	free(a);
}

static void init_checks_its_arguments(void **state)
{
	(void)state;
	struct moat_iova a;
	struct moat_iova_config cfg = { .base_pfn = 0, .last_pfn = 10 };

	assert_int_equal(moat_iova_init(&a, &cfg, NULL), MOAT_ERR_INVALID_ARG);
	cfg = (struct moat_iova_config){ .base_pfn = 11, .last_pfn = 10 };
	assert_int_equal(moat_iova_init(&a, &cfg, NULL), MOAT_ERR_INVALID_ARG);
	cfg = (struct moat_iova_config){ .base_pfn = 1, .last_pfn = 10, .mag_size = 5000 };
	assert_int_equal(moat_iova_init(&a, &cfg, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_iova_init(NULL, &cfg, NULL), MOAT_ERR_INVALID_ARG);
}

static void allocations_stay_below_the_limit_and_take_the_top(void **state)
{
	(void)state;
	struct moat_iova *a = new_iova(0x100, 0xfffff, true);
	uint64_t pfn;

	/* up to 32 frames, the next power of two is held, aligned: 3 takes 4 */
	assert_int_equal(moat_iova_alloc(a, 3, 0xfffff, false, &pfn), MOAT_OK);
	assert_int_equal(pfn, 0xfffff - 3);
	assert_int_equal(moat_iova_alloc(a, 1, 0x1000, false, &pfn), MOAT_OK);
	assert_int_equal(pfn, 0x1000);
	assert_int_equal(moat_iova_alloc(a, 5, 0x1000, false, &pfn), MOAT_OK);
	assert_int_equal(pfn, 0x1000 - 8);
	/* larger sizes are taken as they are, from the top */
	assert_int_equal(moat_iova_alloc(a, 33, 0x1000, false, &pfn), MOAT_OK);
	assert_int_equal(pfn, 0x1000 - 8 - 33);
	/* and freed as allocated: the 4 frames of the 3 come back */
	assert_int_equal(moat_iova_free(a, 0xfffff - 3, 3), MOAT_OK);
	assert_int_equal(moat_iova_alloc(a, 4, 0xfffff, false, &pfn), MOAT_OK);
	assert_int_equal(pfn, 0xfffff - 3);
	/* below the space: refused */
	assert_int_equal(moat_iova_alloc(a, 1, 0xff, false, &pfn), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_iova_alloc(a, 0, 0x1000, false, &pfn), MOAT_ERR_INVALID_ARG);
	free_iova(a);
}

static void aligned_requests_are_size_aligned(void **state)
{
	(void)state;
	struct moat_iova *a = new_iova(1, 0xfffff, true);
	uint64_t pfn;

	for (uint64_t n = 1; n <= 300; n += 7) {
		assert_int_equal(moat_iova_alloc(a, n, 0xfffff, true, &pfn), MOAT_OK);
		uint64_t p2 = 1;
		while (p2 < n)
			p2 <<= 1;
		assert_int_equal(pfn % p2, 0);
	}
	/* power-of-two sizes are aligned without asking */
	assert_int_equal(moat_iova_alloc(a, 16, 0xfffff, false, &pfn), MOAT_OK);
	assert_int_equal(pfn % 16, 0);
	free_iova(a);
}

/* A power-of-two request finds an aligned block wherever it lies, even when it is the only one
 * and no free range is longer than it. */
static void power_of_two_requests_find_an_aligned_block_anywhere(void **state)
{
	(void)state;
	struct moat_iova *a = new_iova(1, 4096, true);
	struct moat_iova_stats st;
	uint64_t pfn[4096], x;

	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(moat_iova_alloc(a, 1, 4096, false, &pfn[i]), MOAT_OK);
	/* free frames: 1000..1007 (aligned 8), 2001..2015 (15 frames: aligned 8 at 2008), and
	 * 3001..3007 (7 frames): in 1-frame steps, so the tree holds them merged */
	for (unsigned i = 0; i < 4096; i++) {
		const uint64_t p = pfn[i];

		if ((p >= 1000 && p <= 1007) || (p >= 2001 && p <= 2015) || (p >= 3001 && p <= 3007))
			assert_int_equal(moat_iova_free(a, p, 1), MOAT_OK);
	}
	moat_iova_stats(a, &st);
	assert_int_equal(st.free_ranges, 3);
	assert_int_equal(moat_iova_alloc(a, 8, 4096, false, &x), MOAT_OK);
	assert_int_equal(x, 2008);
	assert_int_equal(moat_iova_alloc(a, 8, 4096, false, &x), MOAT_OK);
	assert_int_equal(x, 1000);
	assert_int_equal(moat_iova_alloc(a, 8, 4096, false, &x), MOAT_ERR_NO_SPACE);
	/* 4 aligned: 3004..3007 is the only one left, below a limit too */
	assert_int_equal(moat_iova_alloc(a, 4, 3500, false, &x), MOAT_OK);
	assert_int_equal(x, 3004);
	free_iova(a);
}

/* Reserved frames are never handed out; reserving what is partly allocated takes the free part. */
static void reserved_frames_are_never_handed_out(void **state)
{
	(void)state;
	struct moat_iova *a = new_iova(16, 16 + 255, true);
	struct moat_iova_stats st;
	uint64_t x, got = 0;

	assert_int_equal(moat_iova_alloc(a, 1, 271, false, &x), MOAT_OK);
	assert_int_equal(x, 271);
	assert_int_equal(moat_iova_reserve(a, 100, 10), MOAT_OK);
	assert_int_equal(moat_iova_reserve(a, 265, 7), MOAT_OK);   /* 271 is allocated already */
	assert_int_equal(moat_iova_reserve(a, 102, 3), MOAT_OK);   /* nothing free there: no change */
	moat_iova_stats(a, &st);
	assert_int_equal(st.free_pages, 256 - 1 - 10 - 6);
	assert_int_equal(st.free_ranges, 2);
	while (moat_iova_alloc(a, 1, 271, false, &x) == MOAT_OK) {
		assert_true(x < 100 || (x >= 110 && x < 265));
		got++;
	}
	assert_int_equal(got, 256 - 1 - 10 - 6);
	assert_int_equal(moat_iova_reserve(a, 8, 10), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_iova_reserve(a, 270, 3), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_iova_reserve(a, 20, 0), MOAT_ERR_INVALID_ARG);
	free_iova(a);
}

/*
 * Many long-lived allocations under a 32-bit limit, then traffic with that limit: a first-fit
 * search from a cached position walks all of them; here every search looks at O(log n) nodes.
 */
static void searches_stay_logarithmic_under_many_live_allocations(void **state)
{
	(void)state;
	const uint64_t limit32 = 0xfffff;   /* the last frame below 4 GiB */
	struct moat_iova *a = new_iova(0x100, (1ull << 36) - 1, true);
	struct moat_iova_stats st0, st;
	uint64_t x, y;
	unsigned long height_bound;

	/* 60000 live single frames below the limit, with holes between them */
	for (unsigned i = 0; i < 120000; i++)
		assert_int_equal(moat_iova_alloc(a, 1, limit32, false, &x), MOAT_OK);
	for (uint64_t p = limit32 - 120000 + 1; p <= limit32; p += 2)
		assert_int_equal(moat_iova_free(a, p, 1), MOAT_OK);
	moat_iova_stats(a, &st0);
	assert_true(st0.free_ranges >= 60000);
	height_bound = 2 * 18 + 4;   /* an AVL tree of 2^17 nodes is at most 1.44 * 17 high; two paths */
	for (unsigned i = 0; i < 2000; i++) {
		const uint64_t n = 1ull << (i % 6);

		assert_int_equal(moat_iova_alloc(a, n, limit32, false, &x), MOAT_OK);
		assert_true(x + n - 1 <= limit32);
		assert_int_equal(moat_iova_alloc(a, 3, i % 2 ? limit32 : (1ull << 36) - 1, true, &y), MOAT_OK);
		assert_int_equal(moat_iova_free(a, x, n), MOAT_OK);
		assert_int_equal(moat_iova_free(a, y, 3), MOAT_OK);
	}
	moat_iova_stats(a, &st);
	assert_int_equal(st.tree_searches - st0.tree_searches, 4000);
	if ((st.tree_steps - st0.tree_steps) / 4000 > height_bound)
		fail_msg("%llu nodes per search", (unsigned long long)((st.tree_steps - st0.tree_steps) / 4000));
	/* two frames: no hole holds them, the first fit is below the whole run of holes */
	assert_int_equal(moat_iova_alloc(a, 2, limit32, false, &x), MOAT_OK);
	assert_true(x + 1 < limit32 - 120000 + 1);
	free_iova(a);
}

static void exhaustion_merging_and_bad_frees(void **state)
{
	(void)state;
	struct moat_iova *a = new_iova(10, 73, true);   /* 64 frames */
	struct moat_iova_stats st;
	uint64_t pfn[64], x;

	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(moat_iova_alloc(a, 1, 73, false, &pfn[i]), MOAT_OK);
	assert_int_equal(moat_iova_alloc(a, 1, 73, false, &x), MOAT_ERR_NO_SPACE);
	moat_iova_stats(a, &st);
	assert_int_equal(st.free_pages, 0);
	assert_int_equal(st.free_ranges, 0);
	/* free every other one: 32 ranges, no 2-frame fit */
	for (unsigned i = 0; i < 64; i += 2)
		assert_int_equal(moat_iova_free(a, pfn[i], 1), MOAT_OK);
	moat_iova_stats(a, &st);
	assert_int_equal(st.free_ranges, 32);
	assert_int_equal(moat_iova_alloc(a, 2, 73, false, &x), MOAT_ERR_NO_SPACE);
	/* double free and out-of-range frees change nothing */
	assert_int_equal(moat_iova_free(a, pfn[0], 1), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_iova_free(a, pfn[1], 2), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_iova_free(a, 5, 1), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_iova_free(a, 73, 2), MOAT_ERR_INVALID_ARG);
	moat_iova_stats(a, &st);
	assert_int_equal(st.free_pages, 32);
	/* the rest merges back into one range */
	for (unsigned i = 1; i < 64; i += 2)
		assert_int_equal(moat_iova_free(a, pfn[i], 1), MOAT_OK);
	moat_iova_stats(a, &st);
	assert_int_equal(st.free_ranges, 1);
	assert_int_equal(st.free_pages, 64);
	/* 64 would be aligned to 64 (none fits); 63 is taken from the top of the one range */
	assert_int_equal(moat_iova_alloc(a, 64, 73, false, &x), MOAT_ERR_NO_SPACE);
	assert_int_equal(moat_iova_alloc(a, 63, 73, false, &x), MOAT_OK);
	assert_int_equal(x, 11);
	free_iova(a);
}

/* The caches are per CPU: tests that expect a freed range back pin themselves to one CPU. */
static void stay_on_this_cpu(cpu_set_t *was)
{
	cpu_set_t here;

	assert_int_equal(sched_getaffinity(0, sizeof(*was), was), 0);
	CPU_ZERO(&here);
	CPU_SET(sched_getcpu(), &here);
	assert_int_equal(sched_setaffinity(0, sizeof(here), &here), 0);
}

static void caches_serve_again_and_honour_the_limit(void **state)
{
	(void)state;
	struct moat_iova *a = new_iova(0x10, 0xfffff, false);
	struct moat_iova_stats st;
	uint64_t pfn, again;
	cpu_set_t was;

	stay_on_this_cpu(&was);

	/* a miss takes a block of 8 frames (one cache line of page-table entries): the top 4 are
	 * handed out, the bottom 4 cached */
	assert_int_equal(moat_iova_alloc(a, 4, 0xfffff, false, &pfn), MOAT_OK);
	assert_true(pfn > 0x10000);
	assert_int_equal(pfn % 8, 4);
	moat_iova_stats(a, &st);
	assert_int_equal(st.cached_ranges, 1);
	assert_int_equal(moat_iova_free(a, pfn, 4), MOAT_OK);
	assert_int_equal(moat_iova_alloc(a, 4, 0xfffff, false, &again), MOAT_OK);
	assert_int_equal(again, pfn);
	assert_int_equal(moat_iova_free(a, again, 4), MOAT_OK);
	/* a device with a small mask does not get the cached frame above its limit */
	assert_int_equal(moat_iova_alloc(a, 4, 0x1000, false, &again), MOAT_OK);
	assert_true(again + 3 <= 0x1000);
	assert_int_equal(sched_setaffinity(0, sizeof(was), &was), 0);
	moat_iova_stats(a, &st);
	assert_true(st.cache_hits >= 1);
	assert_true(st.cache_misses >= 2);
	/* the high block's two halves, and the low block's other half */
	assert_int_equal(st.cached_ranges, 3);
	assert_true(st.cache_capacity > 0);
	/* metadata is bounded: caches are made up front, nodes grow with ranges only */
	assert_true(st.metadata_bytes <= 64 * 4096 + (st.cache_capacity * 8 + 4096 * 4));
	free_iova(a);
}

/* Frees of a cached size fill the CPU's lock-free slots first, then its magazines; allocations
 * take them back from both, and none is handed out twice. */
static void slots_then_magazines(void **state)
{
	(void)state;
	enum { N = MOAT_IOVA_SLOTS + 5 };
	struct moat_iova *a = new_iova(0x10, 0xfffff, false);
	struct moat_iova_stats st;
	uint64_t pfn[N], got[N], rest;
	cpu_set_t was;

	stay_on_this_cpu(&was);
	/* top-down, as from the tree: misses take blocks of 8 frames, the rest of a block is cached */
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(moat_iova_alloc(a, 2, 0xfffff, false, &pfn[i]), MOAT_OK);
		if (i)
			assert_int_equal(pfn[i], pfn[i - 1] - 2);
	}
	moat_iova_stats(a, &st);
	rest = st.cached_ranges;
	assert_int_equal(rest, (4 - N % 4) % 4);
	for (unsigned i = 0; i < N; i++)
		assert_int_equal(moat_iova_free(a, pfn[i], 2), MOAT_OK);
	moat_iova_stats(a, &st);
	assert_int_equal(st.cached_ranges, rest + N);
	assert_true(st.cache_capacity >= (uint64_t)MOAT_MAX_CPUS * MOAT_IOVA_SLOTS * MOAT_IOVA_CLASSES);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(moat_iova_alloc(a, 2, 0xfffff, false, &got[i]), MOAT_OK);
		for (unsigned j = 0; j < i; j++)
			assert_true(got[j] != got[i]);
		bool known = false;
		for (unsigned j = 0; j < N; j++)
			known |= got[i] == pfn[j];
		assert_true(known);
	}
	assert_int_equal(sched_setaffinity(0, sizeof(was), &was), 0);
	moat_iova_stats(a, &st);
	assert_int_equal(st.cached_ranges, rest);
	assert_true(st.cache_hits >= N);
	free_iova(a);
}

/* Frames in the caches (of any CPU, and the depot) come back when the tree has no fit. */
static void cached_frames_are_found_when_the_tree_runs_out(void **state)
{
	(void)state;
	struct moat_iova *a = new_iova(1, 4096, false);
	struct moat_iova_stats st;
	uint64_t pfn[4096], x;

	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(moat_iova_alloc(a, 1, 4096, false, &pfn[i]), MOAT_OK);
	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(moat_iova_free(a, pfn[i], 1), MOAT_OK);
	moat_iova_stats(a, &st);
	assert_true(st.cached_ranges > 0);
	assert_true(st.cached_ranges <= st.cache_capacity);
	/* 2048 frames at once: only with every cached frame back in the tree */
	assert_int_equal(moat_iova_alloc(a, 2048, 4096, false, &x), MOAT_OK);
	assert_int_equal(x, 2048);   /* a power of two: aligned */
	moat_iova_stats(a, &st);
	assert_int_equal(st.cached_ranges, 0);
	assert_int_equal(st.free_pages, 2048);
	free_iova(a);
}

static void *fail_alloc(void *ctx, uint64_t *phys)
{
	int *left = ctx;

	if (*left == 0)
		return NULL;
	(*left)--;
	return moat_plat_page_alloc(phys);
}

static void plat_free(void *ctx, void *virt, uint64_t phys)
{
	(void)ctx;
	moat_plat_page_free(virt, phys);
}

static void out_of_node_memory_fails_cleanly(void **state)
{
	(void)state;
	struct moat_iova a;
	int left = 1;
	struct moat_pages src = { fail_alloc, plat_free, &left, NULL };
	struct moat_iova_config cfg = { .base_pfn = 1, .last_pfn = 100000, .no_cache = true };
	struct moat_iova_stats st;
	uint64_t pfn[200], live0 = moat_hosted_stats().pages_live;
	unsigned n = 0;
	moat_status s = MOAT_OK;

	assert_int_equal(moat_iova_init(&a, &cfg, &src), MOAT_OK);
	/* one page of nodes: free every other frame until a node is needed and none comes */
	for (unsigned i = 0; i < 200; i++)
		assert_int_equal(moat_iova_alloc(&a, 1, 100000, false, &pfn[i]), MOAT_OK);
	for (n = 0; n < 200 && s == MOAT_OK; n += 2)
		s = moat_iova_free(&a, pfn[n], 1);
	assert_int_equal(s, MOAT_ERR_NO_MEMORY);
	moat_iova_stats(&a, &st);
	assert_int_equal(st.free_pages, 100000 - 200 + (n - 2) / 2);
	/* nothing changed by the failed free: its frame is still allocated and can be freed later */
	left = 1;
	assert_int_equal(moat_iova_free(&a, pfn[n - 2], 1), MOAT_OK);
	moat_iova_fini(&a);
	assert_int_equal(moat_hosted_stats().pages_live, live0);
	(void)cfg;
}

/* Randomized: allocations and frees of random sizes, limits and alignment against a bitmap. */
static void random_run_matches_a_bitmap(void **state)
{
	(void)state;
	const uint64_t base = 64, last = 64 + 8191;
	for (unsigned cache = 0; cache < 2; cache++) {
		struct moat_iova *a = new_iova(base, last, !cache);
		unsigned char *used = calloc(last + 1, 1);
		struct { uint64_t pfn, n, eff; } live[4096];
		unsigned nlive = 0, seed = 12345 + cache;

		srand(seed);
		for (unsigned op = 0; op < 200000; op++) {
			if (nlive && (rand() % 2 || nlive == 4096)) {
				unsigned i = (unsigned)rand() % nlive;

				if (moat_iova_free(a, live[i].pfn, live[i].n) != MOAT_OK)
					fail_msg("seed %u op %u: free failed", seed, op);
				for (uint64_t p = live[i].pfn; p < live[i].pfn + live[i].eff; p++)
					used[p] = 0;
				live[i] = live[--nlive];
			} else {
				static const uint64_t sizes[] = { 1, 1, 2, 4, 3, 8, 5, 16, 32, 7, 64, 100 };
				uint64_t n = sizes[rand() % 12], limit = rand() % 4 ? last : base + (uint64_t)(rand() % 4096);
				bool al = rand() % 3 == 0;
				uint64_t pfn, want = UINT64_MAX, eff = n;
				moat_status st = moat_iova_alloc(a, n, limit, al, &pfn);
				bool exact;

				/* up to 32 frames the allocator holds the next power of two */
				while (n <= 32 && (eff & (eff - 1)))
					eff++;
				/* without caches, an unaligned or power-of-two request gets the highest fit */
				exact = !cache && (!al || (eff & (eff - 1)) == 0) && op % 8 == 0;
				if (exact && limit >= base + eff - 1) {
					const uint64_t p2 = (eff & (eff - 1)) == 0 ? eff : 1;
					uint64_t run = 0;

					for (uint64_t p = limit; p >= base && want == UINT64_MAX; p--) {
						run = used[p] ? 0 : run + 1;
						if (run >= eff && p % p2 == 0)
							want = p;
					}
				}
				if (exact && st == MOAT_ERR_NO_SPACE && want != UINT64_MAX)
					fail_msg("seed %u op %u: no space for %llu frames below 0x%llx, but 0x%llx fits", seed, op,
						 (unsigned long long)n, (unsigned long long)limit, (unsigned long long)want);
				if (st == MOAT_ERR_NO_SPACE || st == MOAT_ERR_INVALID_ARG)
					continue;
				if (exact && pfn != want)
					fail_msg("seed %u op %u: %llu frames at 0x%llx, the highest fit is 0x%llx", seed, op,
						 (unsigned long long)n, (unsigned long long)pfn, (unsigned long long)want);
				if (st != MOAT_OK)
					fail_msg("seed %u op %u: alloc %s", seed, op, moat_status_str(st));
				if (pfn < base || pfn + eff - 1 > limit)
					fail_msg("seed %u op %u: %llu frames at 0x%llx outside [0x%llx, 0x%llx]", seed, op,
						 (unsigned long long)n, (unsigned long long)pfn, (unsigned long long)base,
						 (unsigned long long)limit);
				if ((al || (eff & (eff - 1)) == 0) && eff > 1) {
					uint64_t p2 = 1;
					while (p2 < eff)
						p2 <<= 1;
					if (pfn % p2)
						fail_msg("seed %u op %u: 0x%llx not aligned to %llu", seed, op,
							 (unsigned long long)pfn, (unsigned long long)p2);
				}
				for (uint64_t p = pfn; p < pfn + eff; p++) {
					if (used[p])
						fail_msg("seed %u op %u: frame 0x%llx handed out twice", seed, op,
							 (unsigned long long)p);
					used[p] = 1;
				}
				live[nlive].pfn = pfn;
				live[nlive].n = n;
				live[nlive].eff = eff;
				nlive++;
			}
		}
		if (!cache) {
			struct moat_iova_stats st;
			uint64_t used_pages = 0;

			for (uint64_t p = base; p <= last; p++)
				used_pages += used[p];
			moat_iova_stats(a, &st);
			assert_int_equal(st.free_pages, last - base + 1 - used_pages);
		}
		free(used);
		free_iova(a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_checks_its_arguments),
		cmocka_unit_test(allocations_stay_below_the_limit_and_take_the_top),
		cmocka_unit_test(aligned_requests_are_size_aligned),
		cmocka_unit_test(power_of_two_requests_find_an_aligned_block_anywhere),
		cmocka_unit_test(reserved_frames_are_never_handed_out),
		cmocka_unit_test(searches_stay_logarithmic_under_many_live_allocations),
		cmocka_unit_test(exhaustion_merging_and_bad_frees),
		cmocka_unit_test(caches_serve_again_and_honour_the_limit),
		cmocka_unit_test(slots_then_magazines),
		cmocka_unit_test(cached_frames_are_found_when_the_tree_runs_out),
		cmocka_unit_test(out_of_node_memory_fails_cleanly),
		cmocka_unit_test(random_run_matches_a_bitmap),
	};

	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
