/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Out of memory at every allocation point of a map and of the host policy: the operation fails
 * with MOAT_ERR_NO_MEMORY (or succeeds when only an optional page was refused), the tables are
 * as before, nothing leaks, and the auditor finds nothing wrong.
 */
#include "host_ref.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* RAM includes the simulated arena, so Moat's own pages must be kept out of the host domain. */
/* The protection count lock-free DMA maps read is even again once every writer ended, however
 * deeply writers nested and whichever allocation failed (src/core/core_internal.h). */
static void assert_seq_quiet(const struct moat_system *sys)
{
	assert_int_equal(sys->prot_write_depth, 0);
	assert_int_equal(__atomic_load_n(&sys->prot_seq, __ATOMIC_RELAXED) & 1, 0);
}

static const struct moat_mem_range host_map[] = {
	{ 0, 0x80000000, MOAT_MEM_RAM },
	{ MOAT_HOSTED_PHYS_BASE, MOAT_HOSTED_ARENA_BYTES, MOAT_MEM_RAM },
};

struct leaf_list {
	uint64_t v[4 * 256];
	unsigned n;
};

static moat_status list_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	struct leaf_list *l = ctx;

	assert_true(l->n + 4 <= N(l->v));
	l->v[l->n++] = iova;
	l->v[l->n++] = phys;
	l->v[l->n++] = size;
	l->v[l->n++] = prot;
	return MOAT_OK;
}

static void list_take(struct moat_domain *d, struct leaf_list *l)
{
	const struct moat_pt_walk_ops w = { .leaf = list_leaf };

	l->n = 0;
	assert_int_equal(moat_pt_walk(&d->pt, &w, l), MOAT_OK);
}

/*
 * A map of 4 pages across the middle of the IOVA space, or 512 GiB where the space is wider: new
 * tables on both sides of every boundary down to 2 MiB (512 GiB, 1 GiB and 2 MiB with 4 levels),
 * beside a first map at 0 (2 MiB, or a quarter of a narrower space).
 */
static void map_runs_out_at_every_allocation(bool with_host, bool sticky)
{
	const uint64_t mid = MOAT_MIN(512ull << 30, t_iova_span() / 2), iova = mid - 0x2000;
	const uint64_t first = MOAT_MIN(M2, t_iova_span() / 4);
	uint64_t live0 = moat_hosted_stats().pages_live, tables_before, tables_after, sizes[3];
	unsigned ok_after_failure = 0, failed = 0;
	struct ivset before_set = { 0 }, after_set = { 0 };

	/* the tables the second map adds, counted apart from the engine */
	ivs_add(&before_set, 0, first - 1);
	ivs_add(&after_set, 0, first - 1);
	ivs_add(&after_set, iova, iova + 0x3fff);
	t_ideal(&before_set, ALL_SIZES, sizes, &tables_before);
	t_ideal(&after_set, ALL_SIZES, sizes, &tables_after);
	ivs_free(&before_set);
	ivs_free(&after_set);

	for (uint64_t k = 1;; k++) {
		struct moat_system *sys = t_system(ALL_SIZES);
		struct moat_domain host, d;
		struct leaf_list before, after;
		struct t_taken *taken;
		struct t_walk hb, ha;
		uint64_t tables, failures;
		moat_status st;

		if (with_host) {
			assert_int_equal(moat_domain_create(sys, &host), MOAT_OK);
			assert_int_equal(moat_protect_host(&host, host_map, N(host_map), NULL, NULL), MOAT_OK);
		}
		assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
		assert_int_equal(moat_domain_map(&d, 0, 0x10000000, first, MOAT_PT_RW, NULL), MOAT_OK);
		list_take(&d, &before);
		tables = d.pt.table_pages;
		if (with_host)
			t_walk_take(&host, &hb);
		taken = t_pool_take_all(sys);   /* the map's pages come from the platform */

		moat_hosted_reset();
		moat_hosted_fail_alloc_at(k, sticky);
		st = moat_domain_map(&d, iova, 0x20000000, 0x4000, MOAT_PT_RW, NULL);
		failures = moat_hosted_stats().alloc_failures;
		moat_hosted_fail_alloc_at(0, 0);
		assert_seq_quiet(sys);

		if (st == MOAT_OK) {
			assert_int_equal(moat_domain_translate(&d, iova + 0x3000, NULL, NULL, NULL), MOAT_OK);
			ok_after_failure += failures != 0;
		} else {
			if (st != MOAT_ERR_NO_MEMORY)
				fprintf(stderr, "k %llu: %s\n", (unsigned long long)k, moat_status_str(st));
			assert_int_equal(st, MOAT_ERR_NO_MEMORY);
			failed++;
			list_take(&d, &after);
			assert_int_equal(after.n, before.n);
			assert_memory_equal(after.v, before.v, before.n * sizeof(before.v[0]));
			assert_int_equal(d.pt.table_pages, tables);
		}
		if (with_host) {
			struct ivset gone = { 0 }, grown = { 0 };

			/* the host domain only lost pages Moat owns now, and gained nothing */
			t_walk_take(&host, &ha);
			ivs_subtract(&ha.mapped, &hb.mapped, &grown);
			assert_int_equal(grown.n, 0);
			ivs_subtract(&hb.mapped, &ha.mapped, &gone);
			for (size_t i = 0; i < gone.n; i++)
				for (uint64_t a = gone.v[i].first; a < gone.v[i].last; a += K4)
					assert_true(t_page_owned(sys, a));
			ivs_free(&gone);
			ivs_free(&grown);
			t_walk_free(&ha);
			t_walk_free(&hb);
			check_host(sys, &host, host_map, N(host_map));
		}
		assert_audit_clean(sys);
		t_pool_give_back(sys, taken);
		if (st != MOAT_OK)
			assert_int_equal(moat_domain_map(&d, iova, 0x20000000, 0x4000, MOAT_PT_RW, NULL), MOAT_OK);
		assert_audit_clean(sys);
		assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
		if (with_host)
			assert_int_equal(moat_domain_destroy(&host), MOAT_OK);
		t_system_free(sys);
		assert_int_equal(moat_hosted_stats().pages_live, live0);
		if (!failures)
			break;   /* the k-th allocation never came: every point was tried */
	}
	/* sticky: every new table was an allocation refused in turn (4 levels: two new level-2 and
	 * level-1 tables, one level-3 table); once: the pool's refill fails only when the platform gives
	 * it nothing at all, else it takes what comes after the failure */
	assert_true(failed >= (sticky || tables_after == tables_before ? tables_after - tables_before : 1u));
	if (t_pt_default())
		assert_int_equal(tables_after - tables_before, 5);
	(void)ok_after_failure;
}

static void map_fails_cleanly_at_every_allocation_without_host(void **state)
{
	(void)state;
	map_runs_out_at_every_allocation(false, false);
	map_runs_out_at_every_allocation(false, true);
}

static void map_fails_cleanly_at_every_allocation_with_host(void **state)
{
	(void)state;
	map_runs_out_at_every_allocation(true, false);
	map_runs_out_at_every_allocation(true, true);
}

static void host_policy_runs_out_at_every_allocation(unsigned sizes, bool sticky)
{
	uint64_t live0 = moat_hosted_stats().pages_live;
	unsigned failed = 0;

	for (uint64_t k = 1;; k++) {
		struct moat_system *sys = t_system(sizes);
		struct moat_domain other, host;
		struct moat_host_report rep;
		struct t_taken *taken;
		struct t_walk w;
		uint64_t failures;
		moat_status st;

		/* another domain with tables, all in RAM the host domain would map */
		assert_int_equal(moat_domain_create(sys, &other), MOAT_OK);
		assert_int_equal(moat_domain_map(&other, MOAT_MIN(5 * G1, t_iova_span() / 2), 0x1000000, K4, MOAT_PT_RW,
						 NULL), MOAT_OK);
		assert_int_equal(moat_domain_create(sys, &host), MOAT_OK);
		taken = t_pool_take_all(sys);   /* the build's pages come from the platform */

		moat_hosted_reset();
		moat_hosted_fail_alloc_at(k, sticky);
		st = moat_protect_host(&host, host_map, N(host_map), &rep, NULL);
		failures = moat_hosted_stats().alloc_failures;
		moat_hosted_fail_alloc_at(0, 0);
		assert_seq_quiet(sys);

		if (st != MOAT_OK) {
			assert_int_equal(st, MOAT_ERR_NO_MEMORY);
			failed++;
			assert_false(host.host);
			assert_int_equal(host.pt.table_pages, 1);
			t_walk_take(&host, &w);
			assert_int_equal(w.leaves, 0);
			t_walk_free(&w);
			assert_audit_clean(sys);
			assert_int_equal(moat_protect_host(&host, host_map, N(host_map), &rep, NULL), MOAT_OK);
		}
		check_host(sys, &host, host_map, N(host_map));
		t_pool_give_back(sys, taken);
		check_host(sys, &host, host_map, N(host_map));
		assert_int_equal(moat_domain_destroy(&other), MOAT_OK);
		check_host(sys, &host, host_map, N(host_map));
		assert_int_equal(moat_domain_destroy(&host), MOAT_OK);
		t_system_free(sys);
		assert_int_equal(moat_hosted_stats().pages_live, live0);
		if (!failures)
			break;
	}
	/* every table below the root was an allocation that failed once; 4 levels: 3 failures or more */
	struct ivset ram = { 0 };
	uint64_t by_size[3], tables;

	ref_ram(host_map, N(host_map), MOAT_MIN(t_iova_last(), (1ull << 52) - 1), &ram);
	t_ideal(&ram, sizes, by_size, &tables);
	ivs_free(&ram);
	assert_true(failed >= tables - 1);
	if (t_pt_default())
		assert_true(failed >= 3);
}

static void host_policy_fails_cleanly_at_every_allocation(void **state)
{
	(void)state;
	host_policy_runs_out_at_every_allocation(ALL_SIZES, false);
	host_policy_runs_out_at_every_allocation(ALL_SIZES, true);
	host_policy_runs_out_at_every_allocation(MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M, true);
}

static void domain_create_and_protect_add_fail_cleanly(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_domain host, d;
	uint64_t owned;

	assert_int_equal(moat_domain_create(sys, &host), MOAT_OK);
	assert_int_equal(moat_protect_host(&host, host_map, N(host_map), NULL, NULL), MOAT_OK);
	/* moat_protect_host() on a domain without devices leaves the pool to the next operation */
	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	owned = moat_owned_pages(sys);
	moat_hosted_fail_alloc_at(1, 1);
	/* domains take the pool's pages; with the pool empty and the platform out, creation fails */
	struct moat_domain extra[2 * MOAT_HOST_POOL];
	unsigned n = 0;
	moat_status st = MOAT_OK;

	while (n < N(extra) && (st = moat_domain_create(sys, &extra[n])) == MOAT_OK)
		n++;
	assert_int_equal(st, MOAT_ERR_NO_MEMORY);
	assert_true(n > 0 && n < N(extra));
	assert_int_equal(sys->pool_count, 0);
	/* their root tables go back to the pool; splitting host superpages comes from it: it works out
	 * of memory too */
	while (n)
		assert_int_equal(moat_domain_destroy(&extra[--n]), MOAT_OK);
	assert_true(sys->pool_count > 0);
	assert_int_equal(moat_protect_add(sys, 0x40001000, K4, "late", NULL), MOAT_OK);
	moat_hosted_fail_alloc_at(0, 0);
	assert_seq_quiet(sys);
	assert_true(moat_owned_pages(sys) <= owned);
	check_host(sys, &host, host_map, N(host_map));
	assert_int_equal(moat_domain_destroy(&host), MOAT_OK);
	t_system_free(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(map_fails_cleanly_at_every_allocation_without_host),
		cmocka_unit_test(map_fails_cleanly_at_every_allocation_with_host),
		cmocka_unit_test(host_policy_fails_cleanly_at_every_allocation),
		cmocka_unit_test(domain_create_and_protect_add_fail_cleanly),
	};

	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
