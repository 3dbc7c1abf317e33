/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The host protection policy over memory maps of every shape, and its upkeep afterwards, on every
 * page-table configuration: memory above the input width is unreachable (reported, never mapped),
 * and the leaves and tables a build takes are compared with what the largest leaves the
 * configuration holds would take (t_ideal(), computed apart from the engine).
 */
#include "host_ref.h"

#define T1 (1ull << 40)
#define ARENA_RAM { MOAT_HOSTED_PHYS_BASE, MOAT_HOSTED_ARENA_BYTES, MOAT_MEM_RAM }

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Whether the simulated arena, where every page Moat uses comes from, is within the host domain's
 * reach: tests of Moat's pages inside the host's RAM need it (44 bits or more). */
static bool arena_reachable(void)
{
	return t_reach(MOAT_HOSTED_PHYS_BASE + MOAT_HOSTED_ARENA_BYTES - 1);
}

#define SKIP_UNLESS_ARENA_REACHABLE()                                                              \
	do {                                                                                       \
		if (!arena_reachable())                                                            \
			t_skip("the simulated arena (0x%llx, where Moat's pages come from) lies past the "  \
			       "%u-bit input width: no Moat page is ever in the host domain's reach",      \
			       (unsigned long long)MOAT_HOSTED_PHYS_BASE, t_iova_bits());           \
	} while (0)

struct host_fixture {
	struct moat_system *sys;
	struct moat_domain dom;
	struct moat_host_report rep;
};

static moat_status sum_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	(void)iova;
	(void)phys;
	(void)prot;
	*(uint64_t *)ctx += size;
	return MOAT_OK;
}

/* The report's mapped bytes are what the live tables map (the report is not a walk of its own). */
static void check_report_matches_tables(struct host_fixture *f)
{
	const struct moat_pt_walk_ops ops = { .leaf = sum_leaf };
	uint64_t sum = 0;

	assert_int_equal(moat_pt_walk(&f->dom.pt, &ops, &sum), MOAT_OK);
	assert_int_equal(f->rep.mapped_bytes, sum);
	assert_int_equal(f->rep.table_pages, f->dom.pt.table_pages);
}

/* The report's RAM and unreachable bytes are the reference's, and the rest adds up. */
static void check_report_matches_reference(struct host_fixture *f, const struct moat_mem_range *map, size_t n)
{
	uint64_t all, reachable;

	t_ram_bytes(map, n, &all, &reachable);
	assert_int_equal(f->rep.ram_bytes, all);
	assert_int_equal(f->rep.unreachable_bytes, all - reachable);
	assert_int_equal(f->rep.protected_bytes, f->rep.ram_bytes - f->rep.unreachable_bytes - f->rep.mapped_bytes);
}

/* A host domain without Moat-owned pages in its RAM maps exactly the reference's RAM minus the
 * registry, with the largest leaves and the tables they need, and no more. */
static void check_ideal(struct host_fixture *f, unsigned sizes, const struct moat_mem_range *map, size_t n)
{
	uint64_t want[3], tables;
	struct ivset exp = { 0 };
	struct t_walk w;

	ref_expected(f->sys, map, n, MOAT_MIN(t_iova_last(), (1ull << 52) - 1), &exp);
	t_ideal(&exp, sizes, want, &tables);
	t_walk_take(&f->dom, &w);
	for (unsigned k = 0; k < 3; k++)
		if (w.by_size[k] != want[k])
			fail_msg("%s: %llu leaves of size class %u, the largest leaves take %llu", t_pt().name,
				 (unsigned long long)w.by_size[k], k, (unsigned long long)want[k]);
	assert_int_equal(f->dom.pt.table_pages, tables);
	t_walk_free(&w);
	ivs_free(&exp);
}

static void host_build(struct host_fixture *f, unsigned sizes, const struct moat_mem_range *map, size_t n)
{
	struct moat_diag diag;
	moat_status st;

	f->sys = t_system(sizes);
	assert_int_equal(moat_domain_create(f->sys, &f->dom), MOAT_OK);
	st = moat_protect_host(&f->dom, map, n, &f->rep, &diag);
	if (st != MOAT_OK)
		fprintf(stderr, "protect_host: %s: %s\n", moat_status_str(st), diag.msg);
	assert_int_equal(st, MOAT_OK);
	assert_true(f->dom.host);
	check_report_matches_tables(f);
}

/* RAM of the arena the tests have used, and 256 MiB more: where the platform's next pages come from
 * (its free list, then the bump pointer), in fewer leaves than ARENA_RAM. */
static struct moat_mem_range arena_in_use(void)
{
	return (struct moat_mem_range){ MOAT_HOSTED_PHYS_BASE, moat_hosted_arena_used() + 0x10000000, MOAT_MEM_RAM };
}

/* No page of the pool of trusted pages is mapped in the host domain (the pool is linked through its
 * pages: next virtual and physical address first). */
static void t_pool_each_unmapped(struct host_fixture *f)
{
	uint64_t n = 0, phys = f->sys->pool_phys;

	for (const uint64_t *p = f->sys->pool; p; n++) {
		assert_false(t_mapped_identity(&f->dom, phys));
		phys = p[1];
		p = (const uint64_t *)(uintptr_t)p[0];
	}
	assert_int_equal(n, f->sys->pool_count);
}

static void host_teardown(struct host_fixture *f)
{
	assert_int_equal(moat_domain_destroy(&f->dom), MOAT_OK);
	t_system_free(f->sys);
}

static void small_map_with_unaligned_protected_ranges(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = {
		{ 0, 0x9f000, MOAT_MEM_RAM },
		{ 0x9f000, 0x61000, MOAT_MEM_RESERVED },
		{ 0x100000, 0x7f00000, MOAT_MEM_RAM },
	};
	struct host_fixture f;

	f.sys = t_system(ALL_SIZES);
	assert_int_equal(moat_protect_add(f.sys, 0x123456, 0x222222, "hv-text", NULL), MOAT_OK);
	assert_int_equal(moat_protect_add(f.sys, 0x3ffffff, 2, "straddle", NULL), MOAT_OK);
	assert_int_equal(moat_domain_create(f.sys, &f.dom), MOAT_OK);
	assert_int_equal(moat_protect_host(&f.dom, map, N(map), &f.rep, NULL), MOAT_OK);
	check_host(f.sys, &f.dom, map, N(map));
	check_report_matches_tables(&f);
	check_report_matches_reference(&f, map, N(map));
	check_ideal(&f, ALL_SIZES, map, N(map));
	assert_int_equal(f.rep.ram_bytes, 0x9f000 + 0x7f00000);
	if (t_reach(0x7ffffff)) {   /* all of it (1-level AMD-Vi reaches 2 MiB) */
		assert_int_equal(f.rep.unreachable_bytes, 0);
		assert_int_equal(f.rep.protected_bytes, (0x346000 - 0x123000) + 0x2000);
		assert_int_equal(f.rep.mapped_bytes, f.rep.ram_bytes - f.rep.protected_bytes);
	}
	expect_identity(&f.dom, 0x122000, true);
	expect_identity(&f.dom, 0x123000, false);
	expect_identity(&f.dom, 0x345000, false);
	expect_identity(&f.dom, 0x346000, true);
	expect_identity(&f.dom, 0x3fff000, false);
	expect_identity(&f.dom, 0x4000000, false);
	expect_identity(&f.dom, 0x4001000, true);
	host_teardown(&f);
}

static void four_gib_with_a_pci_hole_uses_superpages(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = {
		{ 0, 0x9fc00, MOAT_MEM_RAM },            /* ends inside a page */
		{ 0x9fc00, 0x400, MOAT_MEM_RESERVED },
		{ 0xf0000, 0x10000, MOAT_MEM_RESERVED },
		{ 0x100000, 0xbfee0000, MOAT_MEM_RAM },
		{ 0xbffe0000, 0x20000, MOAT_MEM_ACPI_RECLAIM },
		{ 0xfec00000, 0x1000, MOAT_MEM_RESERVED },
		{ 0x100000000ull, 0x40000000, MOAT_MEM_RAM },
	};
	struct host_fixture f;
	struct t_walk w;

	host_build(&f, ALL_SIZES, map, N(map));
	check_host(f.sys, &f.dom, map, N(map));
	check_report_matches_reference(&f, map, N(map));
	check_ideal(&f, ALL_SIZES, map, N(map));
	expect_identity(&f.dom, 0x9f000, false);   /* the partial page */
	expect_identity(&f.dom, 0x9e000, true);
	expect_identity(&f.dom, 0xc0000000, false);
	expect_identity(&f.dom, 0x140000000ull - K4, true);
	t_walk_take(&f.dom, &w);
	if (t_leaf_ok(G1) && t_reach(0x140000000ull - 1)) {
		assert_int_equal(w.by_size[2], 2);          /* [1G, 2G) and [4G, 5G) */
		assert_true(w.by_size[1] >= 500);
		assert_true(f.dom.pt.table_pages <= 4 + t_levels());
	}
	assert_int_equal(f.rep.table_pages, f.dom.pt.table_pages);
	t_walk_free(&w);
	host_teardown(&f);
}

static void sixty_four_gib_with_holes_and_unaligned_entries(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = {
		{ 0x1000, 0xbffff000, MOAT_MEM_RAM },
		{ 0x100000000ull, 0xf00000000ull, MOAT_MEM_RAM },             /* to 64 GiB */
		{ 0x500001000ull, 0x201000, MOAT_MEM_ACPI_NVS },             /* unaligned hole */
		{ 0x7ffffff00ull, 0x300, MOAT_MEM_UNUSABLE },                /* sub-page hole */
		{ 0xa00000800ull, 0x10000, MOAT_MEM_RESERVED },
		{ 0xc00000000ull, 0x40000000, MOAT_MEM_PERSISTENT },         /* pmem is not RAM */
	};
	struct host_fixture f;

	f.sys = t_system(ALL_SIZES);
	assert_int_equal(moat_protect_add(f.sys, 0x3ffff0000ull, 0x20000, "across-1G", NULL), MOAT_OK);
	assert_int_equal(moat_protect_add(f.sys, 0x800000000ull, 0x1000, "one-page", NULL), MOAT_OK);
	assert_int_equal(moat_domain_create(f.sys, &f.dom), MOAT_OK);
	assert_int_equal(moat_protect_host(&f.dom, map, N(map), &f.rep, NULL), MOAT_OK);
	check_host(f.sys, &f.dom, map, N(map));
	check_report_matches_reference(&f, map, N(map));
	check_ideal(&f, ALL_SIZES, map, N(map));
	expect_identity(&f.dom, 0x7fffff000ull, false);
	expect_identity(&f.dom, 0x800000000ull, false);
	expect_identity(&f.dom, 0x800001000ull, true);
	expect_identity(&f.dom, 0xc00000000ull, false);
	expect_identity(&f.dom, 0xfffffffffull & ~(K4 - 1), true);
	host_teardown(&f);
}

static void one_tib_with_gib_pages_takes_a_handful_of_tables(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = { { 0, T1, MOAT_MEM_RAM } };
	struct host_fixture f;
	struct t_walk w;

	host_build(&f, ALL_SIZES, map, N(map));
	check_ideal(&f, ALL_SIZES, map, N(map));
	check_report_matches_reference(&f, map, N(map));
	if (t_levels() == 4 && t_leaf_ok(G1)) {
		assert_int_equal(f.dom.pt.table_pages, 3);    /* root + two level-3 tables */
		t_walk_take(&f.dom, &w);
		assert_int_equal(w.by_size[2], 1024);
		assert_int_equal(w.leaves, 1024);
		t_walk_free(&w);
	}
	check_host(f.sys, &f.dom, map, N(map));
	host_teardown(&f);
}

static void one_tib_with_holes_and_2m_pages_only(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = {
		{ 0, T1, MOAT_MEM_RAM },
		{ 0xc0000000, 0x40000000, MOAT_MEM_RESERVED },               /* PCI hole */
		{ 0x8000123000ull, 0x5000, MOAT_MEM_RESERVED },              /* 4 KiB granular hole */
		{ 0xf000000000ull, 0x400000000ull, MOAT_MEM_UNUSABLE },      /* 16 GiB hole */
	};
	struct host_fixture f;
	struct t_walk w;

	f.sys = t_system(MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M);
	assert_int_equal(moat_protect_add(f.sys, 0x2000000100ull, 0x1000, "odd", NULL), MOAT_OK);
	assert_int_equal(moat_domain_create(f.sys, &f.dom), MOAT_OK);
	assert_int_equal(moat_protect_host(&f.dom, map, N(map), &f.rep, NULL), MOAT_OK);
	check_ideal(&f, MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M, map, N(map));
	check_report_matches_reference(&f, map, N(map));
	t_walk_take(&f.dom, &w);
	assert_int_equal(w.by_size[2], 0);
	if (t_levels() >= 4 && t_leaf_ok(M2)) {
		/* about 1 + 2 + 1024 pages, less the 1 + 16 GiB of holes, plus two 4 KiB tables for the splits */
		assert_true(f.dom.pt.table_pages <= 1027 + 4 + (t_levels() - 4));
		assert_true(f.dom.pt.table_pages >= 1000);
		assert_true(w.by_size[1] > 500000);
		assert_true(w.by_size[0] < 2 * 512);
	}
	t_walk_free(&w);
	check_host(f.sys, &f.dom, map, N(map));
	host_teardown(&f);
}

static void unsorted_overlapping_and_out_of_range_entries(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = {
		{ 0x200000000ull, 0x100000000ull, MOAT_MEM_RAM },
		{ 0x80000000, 0x10000, 6 },                                  /* unknown type denies */
		{ 0, 0x100000000ull, MOAT_MEM_RAM },
		{ 0x40000000, 0x80000000, MOAT_MEM_RAM },                    /* RAM inside RAM */
		{ 0x250000000ull, 0x100000000ull, MOAT_MEM_RAM },            /* overlaps the first */
		{ 0x10000000, 0x1234, MOAT_MEM_RESERVED },                   /* reserved inside RAM wins */
		{ 0x300000000ull, 0, MOAT_MEM_RAM },                          /* empty */
		{ (1ull << 48) - 0x40000000, 0x80000000, MOAT_MEM_RAM },     /* half above 48 bits */
		{ 1ull << 60, UINT64_MAX, MOAT_MEM_RAM },                    /* runs past 2^64 */
		{ 0xfff, 0x2002, MOAT_MEM_RAM },                              /* inside RAM anyway */
	};
	struct host_fixture f;

	host_build(&f, ALL_SIZES, map, N(map));
	check_host(f.sys, &f.dom, map, N(map));
	check_report_matches_reference(&f, map, N(map));
	check_ideal(&f, ALL_SIZES, map, N(map));
	expect_identity(&f.dom, 0x80000000, false);
	expect_identity(&f.dom, 0x80010000, true);
	expect_identity(&f.dom, 0x10001000, false);
	expect_identity(&f.dom, 0x10002000, true);
	expect_identity(&f.dom, 0x34ffff000ull, true);
	expect_identity(&f.dom, 0x350000000ull, false);
	expect_identity(&f.dom, (1ull << 48) - K4, true);
	expect_identity(&f.dom, (1ull << 48), true);
	if (t_iova_bits() == 48)   /* the half above 48 bits, and what runs past 2^64 */
		assert_int_equal(f.rep.unreachable_bytes, 0x40000000 + (UINT64_MAX - (1ull << 60) + 1));
	host_teardown(&f);
}

static void an_empty_map_maps_nothing_and_state_is_checked(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = { { 0, 0x100000, MOAT_MEM_RAM } };
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_domain a, b;
	struct t_walk w;

	assert_int_equal(moat_domain_create(sys, &a), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &b), MOAT_OK);
	assert_int_equal(moat_domain_map(&b, 0, 0, K4, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_protect_host(&b, map, 1, NULL, NULL), MOAT_ERR_STATE);   /* not empty */
	assert_false(b.host);
	assert_int_equal(moat_protect_host(&a, NULL, 1, NULL, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_protect_host(&a, NULL, 0, NULL, NULL), MOAT_OK);
	t_walk_take(&a, &w);
	assert_int_equal(w.leaves, 0);
	t_walk_free(&w);
	assert_int_equal(moat_domain_unmap(&b, 0, K4, NULL), MOAT_OK);
	assert_int_equal(moat_protect_host(&b, map, 1, NULL, NULL), MOAT_ERR_STATE);   /* a already is */
	assert_int_equal(moat_domain_destroy(&a), MOAT_OK);
	assert_int_equal(moat_protect_host(&b, map, 1, NULL, NULL), MOAT_OK);
	check_host(sys, &b, map, 1);
	assert_int_equal(moat_domain_destroy(&b), MOAT_OK);
	t_system_free(sys);
}

static void tables_built_inside_ram_end_up_unmapped(void **state)
{
	(void)state;
	/* the simulated physical arena, where every table page comes from, is RAM too */
	const struct moat_mem_range map[] = { { 0, 0x80000000, MOAT_MEM_RAM }, ARENA_RAM };
	struct host_fixture f;

	SKIP_UNLESS_ARENA_REACHABLE();
	/* 4 KiB leaves need more table pages than the pool holds: the rest come from RAM the build
	 * maps, and settling takes them out */
	for (unsigned s = 0; s < 3; s++) {
		host_build(&f, s == 0 ? MOAT_PT_PAGE_4K : s == 1 ? (MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M) : ALL_SIZES, map,
			   N(map));
		if (s == 0)
			assert_true(f.rep.settle_passes >= 1);
		assert_true(f.rep.protected_bytes >= f.dom.pt.table_pages * K4);
		assert_false(t_mapped_identity(&f.dom, f.dom.pt.root_phys));
		check_host(f.sys, &f.dom, map, N(map));
		host_teardown(&f);
	}
}

static void later_moat_pages_leave_the_host_domain_and_come_back(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = { { 0, 0x80000000, MOAT_MEM_RAM }, ARENA_RAM };
	struct host_fixture f;
	struct moat_domain d;
	struct t_walk before, after;
	uint64_t phys = 0;
	void *page;

	SKIP_UNLESS_ARENA_REACHABLE();
	host_build(&f, ALL_SIZES, map, N(map));
	t_walk_take(&f.dom, &before);

	/* another domain's tables, spread over several GiB of IOVA */
	assert_int_equal(moat_domain_create(f.sys, &d), MOAT_OK);
	assert_false(t_mapped_identity(&f.dom, d.pt.root_phys));
	for (uint64_t i = 0; i < 16; i++)
		assert_int_equal(moat_domain_map(&d, i * G1 + 0x5000, 0x10000000 + i * K4, K4, MOAT_PT_RW, NULL),
				 MOAT_OK);
	check_host(f.sys, &f.dom, map, N(map));

	/* a driver page */
	page = moat_page_alloc(f.sys, &phys);
	assert_non_null(page);
	assert_false(t_mapped_identity(&f.dom, phys));
	assert_int_equal(moat_domain_map(&f.dom, phys, phys, K4, MOAT_PT_RW, NULL), MOAT_ERR_PROTECTED);
	assert_int_equal(moat_domain_map(&f.dom, 0x100000000ull, 0x100000000ull + K4, K4, MOAT_PT_RW, NULL),
			 MOAT_ERR_INVALID_ARG);   /* identity only */
	moat_page_free(f.sys, page, phys);
	assert_true(t_mapped_identity(&f.dom, phys));

	/* everything given back is mapped back, except the pool Moat keeps */
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	check_host(f.sys, &f.dom, map, N(map));
	t_walk_take(&f.dom, &after);
	assert_true(ivs_bytes(&after.mapped) + (MOAT_HOST_POOL + 8) * K4 >= ivs_bytes(&before.mapped));
	t_walk_free(&before);
	t_walk_free(&after);
	host_teardown(&f);
}

/*
 * A protection added over mapped host memory punches a page out of the largest leaf that held it
 * (1 GiB, or 2 MiB or 4 KiB where those are the largest the configuration holds); one over memory
 * another domain maps is refused, naming that domain's IOVA.
 */
static void protecting_mapped_memory_punches_the_host_and_refuses_others(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = { { 0, 0x100000000ull, MOAT_MEM_RAM } };
	const uint64_t leaf = t_leaf_max();
	/* the second largest leaf, a page past its middle; [0x90000000, 4G) or the space's top half */
	const uint64_t hit = leaf + leaf / 2 + (leaf > K4 ? K4 : 0), hit_page = hit & ~(K4 - 1);
	const uint64_t busy = t_reach(0xffffffff) ? 0x90000000 : t_iova_span() / 2;
	const uint64_t bsz = MOAT_MIN(M2, t_iova_span() / 4), mid = busy + bsz / 2;   /* d maps [busy, +bsz) */
	const uint64_t d_iova = MOAT_MIN(0x7000000ull, t_iova_span() - bsz);
	struct host_fixture f;
	struct moat_domain d;
	struct null_unit nu;
	struct moat_diag diag;
	char name[32];
	uint64_t sz = 0;

	host_build(&f, ALL_SIZES, map, N(map));
	nu_init(&nu, 0, -1);
	assert_int_equal(moat_system_add_unit(f.sys, &nu.unit), MOAT_OK);
	assert_int_equal(moat_domain_attach(&f.dom, 0, 0x18, NULL), MOAT_OK);   /* a host device */
	nu.inval_calls = 0;
	assert_int_equal(moat_domain_translate(&f.dom, leaf, NULL, NULL, &sz), MOAT_OK);
	assert_int_equal(sz, leaf);
	assert_int_equal(moat_protect_add(f.sys, hit + 0x234, 0x10, "late", NULL), MOAT_OK);
	assert_false(t_mapped_identity(&f.dom, hit_page));
	assert_true(t_mapped_identity(&f.dom, hit_page - K4));
	assert_true(t_mapped_identity(&f.dom, hit_page + K4));
	assert_true(nu.inval_calls >= 1);
	assert_int_equal(nu.log[0].domain_id, f.dom.id);
	assert_int_equal(nu.log[0].tables_changed, leaf > K4);
	check_host(f.sys, &f.dom, map, N(map));

	/* another domain maps memory about to be protected: refused, nothing changes */
	assert_int_equal(moat_domain_create(f.sys, &d), MOAT_OK);
	assert_int_equal(moat_domain_map(&d, d_iova, busy, bsz, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_protect_add(f.sys, mid, 0x1000, "busy", &diag), MOAT_ERR_OVERLAP);
	assert_non_null(strstr(diag.msg, "domain 2"));
	snprintf(name, sizeof(name), "0x%llx", (unsigned long long)(d_iova + bsz / 2));
	assert_non_null(strstr(diag.msg, name));
	assert_int_equal(moat_protect_count(f.sys), 1);
	assert_true(t_mapped_identity(&f.dom, mid));
	/* above the host domain's reach */
	assert_int_equal(moat_protect_add(f.sys, 1ull << 50, K4, "far", NULL), MOAT_OK);
	assert_int_equal(moat_protect_remove(f.sys, 1ull << 50, K4), MOAT_OK);
	assert_int_equal(moat_domain_unmap(&d, d_iova, bsz, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	assert_int_equal(moat_protect_add(f.sys, mid, 0x1000, "now-free", NULL), MOAT_OK);
	assert_false(t_mapped_identity(&f.dom, mid));
	check_host(f.sys, &f.dom, map, N(map));
	assert_int_equal(moat_domain_detach(f.sys, 0, 0x18, NULL), MOAT_OK);
	host_teardown(&f);
}

static void a_second_host_domain_after_the_first_is_gone(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = { { 0, 0x40000000, MOAT_MEM_RAM }, ARENA_RAM };
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_domain h1, h2, d;

	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &h1), MOAT_OK);
	assert_int_equal(moat_protect_host(&h1, map, N(map), NULL, NULL), MOAT_OK);
	check_host(sys, &h1, map, N(map));
	assert_int_equal(moat_domain_destroy(&h1), MOAT_OK);
	/* no host domain: pages come and go without upkeep */
	const uint64_t far = MOAT_MIN(5 * G1, t_iova_span() / 2);

	assert_int_equal(moat_domain_map(&d, far, 0x1000000, K4, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &h2), MOAT_OK);
	assert_int_equal(moat_protect_host(&h2, map, N(map), NULL, NULL), MOAT_OK);
	check_host(sys, &h2, map, N(map));
	assert_int_equal(moat_domain_unmap(&d, far, K4, NULL), MOAT_OK);
	check_host(sys, &h2, map, N(map));
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&h2), MOAT_OK);
	t_system_free(sys);
}

/* With no device, the build leaves the pool to the first attach, which fills it before the device
 * translates; with a device attached first, the build's tables come from a pool owned before any RAM
 * was mapped. Both end with the host's tables out of the host domain, a full pool of pages the
 * host domain does not map, and the audit clean. */
static void the_pool_is_full_before_a_device_uses_the_host_domain(void **state)
{
	(void)state;
	const struct moat_mem_range all[] = { { 0, 0x80000000, MOAT_MEM_RAM }, ARENA_RAM };
	const struct moat_mem_range part[] = { { 0, 0x10000000, MOAT_MEM_RAM }, arena_in_use() };

	/* with 4 KiB leaves only (over less RAM: every leaf is a page to check), the build needs far
	 * more table pages than the pool holds */
	for (unsigned k = 0; k < 4; k++) {
		const unsigned early = k & 1;
		const struct moat_mem_range *map = k < 2 ? all : part;
		struct null_unit nu;
		struct host_fixture f;

		f.sys = t_system(k < 2 ? ALL_SIZES : MOAT_PT_PAGE_4K);
		nu_init(&nu, 0, -1);
		assert_int_equal(moat_system_add_unit(f.sys, &nu.unit), MOAT_OK);
		assert_int_equal(moat_domain_create(f.sys, &f.dom), MOAT_OK);
		if (early)
			assert_int_equal(moat_domain_attach(&f.dom, 0, 0x10, NULL), MOAT_OK);
		assert_int_equal(moat_protect_host(&f.dom, map, 2, &f.rep, NULL), MOAT_OK);
		check_report_matches_tables(&f);
		check_host(f.sys, &f.dom, map, 2);
		assert_false(t_mapped_identity(&f.dom, f.dom.pt.root_phys));
		if (!early)
			assert_int_equal(moat_domain_attach(&f.dom, 0, 0x10, NULL), MOAT_OK);
		assert_true(f.sys->pool_count >= MOAT_HOST_POOL);
		assert_int_equal(f.sys->track.pending, 0);
		t_pool_each_unmapped(&f);
		assert_int_equal(moat_domain_detach(f.sys, 0, 0x10, NULL), MOAT_OK);
		host_teardown(&f);
	}
}

/*
 * While a device uses the host domain, every new page is trusted before use however many are
 * needed: a guest domain whose tables take far more than the pool holds, and hot-added RAM mapped
 * into the host domain with 4 KiB leaves (its own tables from the pool only, grown on the way).
 */
static void pages_keep_coming_while_a_device_uses_the_host_domain(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = { { 0, 0x10000000, MOAT_MEM_RAM }, arena_in_use() };
	const struct moat_mem_range more[] = { map[0], map[1], { 0x100000000ull, 0x4000000, MOAT_MEM_RAM } };
	struct null_unit nu;
	struct host_fixture f;
	struct moat_domain guest;

	SKIP_UNLESS_ARENA_REACHABLE();
	f.sys = t_system(MOAT_PT_PAGE_4K);
	nu_init(&nu, 0, -1);
	assert_int_equal(moat_system_add_unit(f.sys, &nu.unit), MOAT_OK);
	assert_int_equal(moat_domain_create(f.sys, &f.dom), MOAT_OK);
	assert_int_equal(moat_protect_host(&f.dom, map, N(map), &f.rep, NULL), MOAT_OK);
	assert_int_equal(moat_domain_attach(&f.dom, 0, 0x10, NULL), MOAT_OK);
	/* 64 scattered 2 MiB runs: a level-1 table each, and more above */
	assert_int_equal(moat_domain_create(f.sys, &guest), MOAT_OK);
	for (uint64_t i = 0; i < 64; i++)
		assert_int_equal(moat_domain_map(&guest, i * G1, 0x10000000 + i * M2, M2, MOAT_PT_RW, NULL), MOAT_OK);
	assert_true(guest.pt.table_pages > 2 * MOAT_HOST_POOL);
	/* and 128 MiB in one call: 64 level-1 tables at once */
	assert_int_equal(moat_domain_map(&guest, 512 * G1, 0x20000000, 0x8000000, MOAT_PT_RW, NULL), MOAT_OK);
	check_host(f.sys, &f.dom, map, N(map));
	/* 64 MiB of new RAM: 32 level-1 tables of the host domain, at once */
	assert_int_equal(moat_domain_map(&f.dom, 0x100000000ull, 0x100000000ull, 0x4000000, MOAT_PT_RW, NULL),
			 MOAT_OK);
	check_host(f.sys, &f.dom, more, N(more));
	assert_true(f.sys->pool_count >= MOAT_HOST_POOL);
	assert_int_equal(moat_domain_destroy(&guest), MOAT_OK);
	check_host(f.sys, &f.dom, more, N(more));
	assert_int_equal(moat_domain_detach(f.sys, 0, 0x10, NULL), MOAT_OK);
	host_teardown(&f);
}

/*
 * The pool is full after the build (a device is attached) even when the pages that refill it lie
 * in RAM the host maps with superpages: punching each splits a superpage, whose new tables come
 * from the pool again. The platform's free list is arranged (LIFO): on top, pages of one 2 MiB
 * region for the pool the build takes its tables from; under them, pages each alone in a 2 MiB
 * region the test holds (RAM the host maps, not Moat's): the refills.
 */
static void the_pool_stays_full_when_refills_split_host_superpages(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = { { 0, 0x80000000, MOAT_MEM_RAM }, ARENA_RAM };
	enum { HELD = 48 * 512, REGIONS = MOAT_HOSTED_ARENA_BYTES / M2, LONE = 3 * MOAT_HOST_POOL };
	static void *held[HELD];
	static uint64_t held_phys[HELD];
	static uint16_t in_region[REGIONS];
	struct host_fixture f;
	struct null_unit nu;
	unsigned lone = 0;

	SKIP_UNLESS_ARENA_REACHABLE();
	if (!t_leaf_ok(M2))
		t_skip("without 2 MiB leaves the host maps the arena in 4 KiB pages: no punch splits anything");
	f.sys = t_system(ALL_SIZES);
	nu_init(&nu, 0, -1);
	assert_int_equal(moat_system_add_unit(f.sys, &nu.unit), MOAT_OK);
	assert_int_equal(moat_domain_create(f.sys, &f.dom), MOAT_OK);
	assert_int_equal(moat_domain_attach(&f.dom, 0, 0x10, NULL), MOAT_OK);
	/* enough pages that many 2 MiB regions are the test's alone; of each such region but the first
	 * one page is freed, to be allocated alone in its region */
	memset(in_region, 0, sizeof(in_region));
	for (unsigned i = 0; i < HELD; i++) {
		held[i] = moat_plat_page_alloc(&held_phys[i]);
		assert_non_null(held[i]);
		hostile_ignore_page(held_phys[i]);   /* the test's, not Moat's */
		in_region[(held_phys[i] - MOAT_HOSTED_PHYS_BASE) / M2]++;
	}
	int64_t pool_region = -1;
	for (unsigned i = 0; i < HELD && lone < LONE; i++) {
		const int64_t r = (int64_t)((held_phys[i] - MOAT_HOSTED_PHYS_BASE) / M2);

		if (in_region[r] != 512)
			continue;
		if (pool_region < 0)
			pool_region = r;   /* kept whole: the pool's first pages */
		else if ((held_phys[i] & (M2 - 1)) == M2 / 2 && r != pool_region) {
			moat_plat_page_free(held[i], held_phys[i]);
			held[i] = NULL;
			lone++;
		}
	}
	assert_true(lone >= 2 * MOAT_HOST_POOL);
	/* on top of the free list: pages of one region for the pool the build takes its tables from */
	for (unsigned i = 0, n = 0; i < HELD && n < MOAT_HOST_POOL; i++) {
		if (held[i] && (int64_t)((held_phys[i] - MOAT_HOSTED_PHYS_BASE) / M2) == pool_region) {
			moat_plat_page_free(held[i], held_phys[i]);
			held[i] = NULL;
			n++;
		}
	}
	assert_int_equal(moat_protect_host(&f.dom, map, N(map), &f.rep, NULL), MOAT_OK);
	assert_true(f.sys->pool_count >= MOAT_HOST_POOL);
	t_pool_each_unmapped(&f);
	check_host(f.sys, &f.dom, map, N(map));
	assert_int_equal(moat_domain_detach(f.sys, 0, 0x10, NULL), MOAT_OK);
	host_teardown(&f);
	for (unsigned i = 0; i < HELD; i++)
		if (held[i])
			moat_plat_page_free(held[i], held_phys[i]);
}

/* A run of consecutive pages for a driver (moat_unit_pages() alloc_run), taken while a device uses
 * the host domain: consecutive, aligned, zeroed, out of the host domain; nothing else kept. */
struct run_call {
	uint32_t n;
	uint64_t align, phys;
	void *virt[64];
	moat_status st;
};

static void run_put(void *ctx, uint32_t i, void *virt)
{
	((struct run_call *)ctx)->virt[i] = virt;
}

static moat_status run_take(struct moat_unit *u, void *ctx)
{
	struct run_call *c = ctx;
	const struct moat_pages src = moat_unit_pages(u);

	c->st = moat_pages_alloc_run(&src, c->n, c->align, run_put, c, &c->phys);
	return c->st;
}

static moat_status run_give(struct moat_unit *u, void *ctx)
{
	struct run_call *c = ctx;
	const struct moat_pages src = moat_unit_pages(u);

	for (uint32_t i = 0; i < c->n; i++)
		moat_pages_free(&src, c->virt[i], c->phys + i * K4);
	return MOAT_OK;
}

static void a_run_of_pages_is_trusted_before_a_driver_gets_it(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = { { 0, 0x10000000, MOAT_MEM_RAM }, arena_in_use() };
	struct run_call c = { .n = 64, .align = 64 * K4 };
	struct null_unit nu;
	struct host_fixture f;
	uint64_t owned;

	SKIP_UNLESS_ARENA_REACHABLE();
	f.sys = t_system(ALL_SIZES);
	nu_init(&nu, 0, -1);
	assert_int_equal(moat_system_add_unit(f.sys, &nu.unit), MOAT_OK);
	assert_int_equal(moat_domain_create(f.sys, &f.dom), MOAT_OK);
	assert_int_equal(moat_protect_host(&f.dom, map, N(map), &f.rep, NULL), MOAT_OK);
	assert_int_equal(moat_domain_attach(&f.dom, 0, 0x10, NULL), MOAT_OK);
	owned = moat_owned_pages(f.sys);
	assert_int_equal(moat_unit_call(&nu.unit, run_take, &c), MOAT_OK);
	assert_int_equal(c.phys % c.align, 0);
	for (uint32_t i = 0; i < c.n; i++) {
		const unsigned char *b = c.virt[i];

		assert_ptr_equal(c.virt[i], moat_plat_phys_to_virt(c.phys + i * K4));
		assert_false(t_mapped_identity(&f.dom, c.phys + i * K4));
		assert_int_equal(moat_protect_check(f.sys, c.phys + i * K4, K4, NULL), MOAT_ERR_PROTECTED);
		for (unsigned k = 0; k < K4; k++)
			assert_int_equal(b[k], 0);
	}
	/* the run and what the search needed (bookkeeping, a table or two), nothing else */
	assert_true(moat_owned_pages(f.sys) >= owned + c.n && moat_owned_pages(f.sys) <= owned + c.n + 8);
	assert_int_equal(f.sys->track.pending, 0);
	check_host(f.sys, &f.dom, map, N(map));
	assert_int_equal(moat_unit_call(&nu.unit, run_give, &c), MOAT_OK);
	for (uint32_t i = 0; i < c.n; i++)
		assert_true(t_mapped_identity(&f.dom, c.phys + i * K4));   /* back in the host domain */
	check_host(f.sys, &f.dom, map, N(map));
	/* a run the platform cannot give: nothing kept */
	c.n = 8;
	c.align = 1ull << 40;
	owned = moat_owned_pages(f.sys);
	assert_int_equal(moat_unit_call(&nu.unit, run_take, &c), MOAT_ERR_NO_MEMORY);
	assert_true(moat_owned_pages(f.sys) <= owned + 8);
	assert_int_equal(f.sys->track.pending, 0);
	check_host(f.sys, &f.dom, map, N(map));
	assert_int_equal(moat_domain_detach(f.sys, 0, 0x10, NULL), MOAT_OK);
	host_teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(small_map_with_unaligned_protected_ranges),
		cmocka_unit_test(four_gib_with_a_pci_hole_uses_superpages),
		cmocka_unit_test(sixty_four_gib_with_holes_and_unaligned_entries),
		cmocka_unit_test(one_tib_with_gib_pages_takes_a_handful_of_tables),
		cmocka_unit_test(one_tib_with_holes_and_2m_pages_only),
		cmocka_unit_test(unsorted_overlapping_and_out_of_range_entries),
		cmocka_unit_test(an_empty_map_maps_nothing_and_state_is_checked),
		cmocka_unit_test(tables_built_inside_ram_end_up_unmapped),
		cmocka_unit_test(later_moat_pages_leave_the_host_domain_and_come_back),
		cmocka_unit_test(protecting_mapped_memory_punches_the_host_and_refuses_others),
		cmocka_unit_test(a_second_host_domain_after_the_first_is_gone),
		cmocka_unit_test(the_pool_is_full_before_a_device_uses_the_host_domain),
		cmocka_unit_test(pages_keep_coming_while_a_device_uses_the_host_domain),
		cmocka_unit_test(a_run_of_pages_is_trusted_before_a_driver_gets_it),
		cmocka_unit_test(the_pool_stays_full_when_refills_split_host_superpages),
	};

	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
