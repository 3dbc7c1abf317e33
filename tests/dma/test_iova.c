/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The IOVA allocator: limits, alignment, exhaustion and merging, the per-CPU caches (and that they
 * honour the limit), out of memory, bounded metadata, and a randomized run against a reference
 * bitmap of the space.
 */
#include "test.h"

#include <stdlib.h>
#include <string.h>

#include <hosted.h>
#include <moat/iova.h>

static struct moat_iova *new_iova(uint64_t base, uint64_t last, bool no_cache)
{
	struct moat_iova *a = calloc(1, sizeof(*a));
	struct moat_iova_config cfg = { .base_pfn = base, .last_pfn = last, .no_cache = no_cache };

	assert_non_null(a);
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

	assert_int_equal(moat_iova_alloc(a, 3, 0xfffff, false, &pfn), MOAT_OK);
	assert_int_equal(pfn, 0xfffff - 2);
	assert_int_equal(moat_iova_alloc(a, 1, 0x1000, false, &pfn), MOAT_OK);
	assert_int_equal(pfn, 0x1000);
	assert_int_equal(moat_iova_alloc(a, 5, 0x1000, false, &pfn), MOAT_OK);
	assert_int_equal(pfn, 0x1000 - 5);
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

static void caches_serve_again_and_honour_the_limit(void **state)
{
	(void)state;
	struct moat_iova *a = new_iova(0x10, 0xfffff, false);
	struct moat_iova_stats st;
	uint64_t pfn, again;

	assert_int_equal(moat_iova_alloc(a, 4, 0xfffff, false, &pfn), MOAT_OK);
	assert_true(pfn > 0x10000);
	assert_int_equal(moat_iova_free(a, pfn, 4), MOAT_OK);
	assert_int_equal(moat_iova_alloc(a, 4, 0xfffff, false, &again), MOAT_OK);
	assert_int_equal(again, pfn);
	assert_int_equal(moat_iova_free(a, again, 4), MOAT_OK);
	/* a device with a small mask does not get the cached frame above its limit */
	assert_int_equal(moat_iova_alloc(a, 4, 0x1000, false, &again), MOAT_OK);
	assert_true(again + 3 <= 0x1000);
	moat_iova_stats(a, &st);
	assert_true(st.cache_hits >= 1);
	assert_true(st.cache_misses >= 2);
	assert_int_equal(st.cached_ranges, 1);
	assert_true(st.cache_capacity > 0);
	/* metadata is bounded: caches are made up front, nodes grow with ranges only */
	assert_true(st.metadata_bytes <= 64 * 4096 + (st.cache_capacity * 8 + 4096 * 4));
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
	struct moat_iova_pages src = { fail_alloc, plat_free, &left };
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
		struct { uint64_t pfn, n; } live[4096];
		unsigned nlive = 0, seed = 12345 + cache;

		srand(seed);
		for (unsigned op = 0; op < 200000; op++) {
			if (nlive && (rand() % 2 || nlive == 4096)) {
				unsigned i = (unsigned)rand() % nlive;

				if (moat_iova_free(a, live[i].pfn, live[i].n) != MOAT_OK)
					fail_msg("seed %u op %u: free failed", seed, op);
				for (uint64_t p = live[i].pfn; p < live[i].pfn + live[i].n; p++)
					used[p] = 0;
				live[i] = live[--nlive];
			} else {
				static const uint64_t sizes[] = { 1, 1, 2, 4, 3, 8, 5, 16, 32, 7, 64, 100 };
				uint64_t n = sizes[rand() % 12], limit = rand() % 4 ? last : base + (uint64_t)(rand() % 4096);
				bool al = rand() % 3 == 0;
				uint64_t pfn;
				moat_status st = moat_iova_alloc(a, n, limit, al, &pfn);

				if (st == MOAT_ERR_NO_SPACE || st == MOAT_ERR_INVALID_ARG)
					continue;
				if (st != MOAT_OK)
					fail_msg("seed %u op %u: alloc %s", seed, op, moat_status_str(st));
				if (pfn < base || pfn + n - 1 > limit)
					fail_msg("seed %u op %u: %llu frames at 0x%llx outside [0x%llx, 0x%llx]", seed, op,
						 (unsigned long long)n, (unsigned long long)pfn, (unsigned long long)base,
						 (unsigned long long)limit);
				if ((al || (n & (n - 1)) == 0) && n > 1) {
					uint64_t p2 = 1;
					while (p2 < n)
						p2 <<= 1;
					if (pfn % p2)
						fail_msg("seed %u op %u: 0x%llx not aligned to %llu", seed, op,
							 (unsigned long long)pfn, (unsigned long long)p2);
				}
				for (uint64_t p = pfn; p < pfn + n; p++) {
					if (used[p])
						fail_msg("seed %u op %u: frame 0x%llx handed out twice", seed, op,
							 (unsigned long long)p);
					used[p] = 1;
				}
				live[nlive].pfn = pfn;
				live[nlive].n = n;
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
		cmocka_unit_test(exhaustion_merging_and_bad_frees),
		cmocka_unit_test(caches_serve_again_and_honour_the_limit),
		cmocka_unit_test(out_of_node_memory_fails_cleanly),
		cmocka_unit_test(random_run_matches_a_bitmap),
	};

	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
