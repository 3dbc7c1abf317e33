/* SPDX-License-Identifier: BSD-2-Clause */
/* Domains: map, unmap, translate, protection on map, invalidation, devices, systems apart. */
#include "core_test.h"

/* An IOVA in a part of the space no other map of a test uses: 1 GiB up, or half-way up a space of
 * a GiB or less (2-level AMD-Vi: 1 GiB, 1 level: 2 MiB). */
static uint64_t far_iova(void)
{
	return t_iova_span() > 2 * G1 ? G1 : t_iova_span() / 2;
}

static void assert_maps(struct moat_domain *d, uint64_t iova, uint64_t phys, uint64_t leaf)
{
	uint64_t p = 0, sz = 0;
	unsigned prot = 0;

	assert_int_equal(moat_domain_translate(d, iova, &p, &prot, &sz), MOAT_OK);
	assert_int_equal(p, phys);
	assert_int_equal(sz, leaf);
}

/* The largest leaves the configuration has: 2 MiB where a level 2 exists, 1 GiB where a level 3 does. */
static void maps_translates_and_unmaps_with_largest_pages(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_domain d;
	uint64_t live0 = moat_hosted_stats().pages_live;
	const unsigned levels = t_levels();

	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	assert_int_equal(moat_domain_memory(&d), 4096);
	assert_int_equal(moat_domain_map(&d, 0x1000, 0x5000, 0x2000, MOAT_PT_RW, NULL), MOAT_OK);
	if (t_leaf_ok(M2))
		assert_int_equal(moat_domain_map(&d, 4 * M2, 8 * M2, 2 * M2, MOAT_PT_READ, NULL), MOAT_OK);
	if (t_leaf_ok(G1))
		assert_int_equal(moat_domain_map(&d, 4 * G1, 2 * G1, G1, MOAT_PT_RW, NULL), MOAT_OK);
	assert_maps(&d, 0x1000, 0x5000, K4);
	assert_maps(&d, 0x2fff, 0x6fff, K4);
	if (t_leaf_ok(M2))
		assert_maps(&d, 5 * M2 + 0x1234, 9 * M2 + 0x1234, M2);
	if (t_leaf_ok(G1))
		assert_maps(&d, 4 * G1 + 77, 2 * G1 + 77, G1);
	assert_int_equal(moat_domain_translate(&d, 0, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	/* the root and one table a level below it on the path of the low pages (the larger leaves sit
	 * in tables of that path: the low GiB's level-2 table, the low 512 GiB's level-3 one) */
	assert_int_equal(moat_domain_memory(&d), levels * 4096);

	assert_int_equal(moat_domain_unmap(&d, 0x1000, 0x2000, NULL), MOAT_OK);
	assert_int_equal(moat_domain_translate(&d, 0x1000, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	/* the level-1 table went (with 1 level, it is the root, which stays) */
	assert_int_equal(moat_domain_memory(&d), MOAT_MAX(levels - 1, 1u) * 4096);
	assert_int_equal(moat_domain_unmap(&d, 0x1000, 0x1000, NULL), MOAT_ERR_NOT_FOUND);
	if (t_leaf_ok(G1))
		assert_int_equal(moat_domain_unmap(&d, 4 * G1, G1, NULL), MOAT_OK);
	if (t_leaf_ok(M2))
		assert_int_equal(moat_domain_unmap(&d, 4 * M2, 2 * M2, NULL), MOAT_OK);
	assert_int_equal(moat_domain_memory(&d), 4096);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	t_system_free(sys);
	assert_int_equal(moat_hosted_stats().pages_live, live0);
}

static void bad_arguments_get_statuses(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_domain d, dead;
	struct moat_diag diag;

	memset(&dead, 0, sizeof(dead));
	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	assert_int_equal(moat_domain_map(&d, 0x1001, 0, K4, MOAT_PT_RW, &diag), MOAT_ERR_ALIGNMENT);
	assert_int_equal(diag.status, MOAT_ERR_ALIGNMENT);
	assert_int_equal(moat_domain_map(&d, 0, 0, 0, MOAT_PT_RW, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_domain_map(&d, 0, 1ull << 52, K4, MOAT_PT_RW, NULL), MOAT_ERR_INVALID_ARG);
	if (t_iova_bits() < 64)   /* past the input width */
		assert_int_equal(moat_domain_map(&d, t_iova_last() + 1, 0, K4, MOAT_PT_RW, NULL), MOAT_ERR_INVALID_ARG);
	/* across the top of the space (a 64-bit space: wrapping) */
	assert_int_equal(moat_domain_map(&d, t_iova_last() - K4 + 1, 0, 2 * K4, MOAT_PT_RW, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_domain_map(&d, 0, 0, K4, 0, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_domain_map(&dead, 0, 0, K4, MOAT_PT_RW, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_domain_map(NULL, 0, 0, K4, MOAT_PT_RW, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_domain_unmap(&dead, 0, K4, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_domain_translate(&dead, 0, NULL, NULL, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_domain_destroy(&dead), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_domain_create(NULL, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_domain_create(sys, &d), MOAT_ERR_STATE);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d), MOAT_ERR_INVALID_ARG);
	t_system_free(sys);
}

static void system_config_is_checked(void **state)
{
	(void)state;
	struct moat_system sys;
	struct moat_system_config cfg = t_config(ALL_SIZES);

	cfg.pt.format = MOAT_PT_VTD_SL;
	cfg.pt.levels = 2;  /* VT-d has 3 to 5 */
	assert_int_equal(moat_system_init(&sys, &cfg), MOAT_ERR_INVALID_ARG);
	cfg.pt.format = MOAT_PT_AMD_V1;
	cfg.pt.levels = 7;  /* AMD-Vi has 1 to 6 */
	assert_int_equal(moat_system_init(&sys, &cfg), MOAT_ERR_INVALID_ARG);
	cfg.pt.levels = 0;
	assert_int_equal(moat_system_init(&sys, &cfg), MOAT_ERR_INVALID_ARG);
	cfg = t_config(MOAT_PT_PAGE_4K | MOAT_PT_PAGE_1G);
	assert_int_equal(moat_system_init(&sys, &cfg), MOAT_ERR_INVALID_ARG);
	cfg = t_config(ALL_SIZES);
	cfg.pt.format = (enum moat_pt_format)7;
	assert_int_equal(moat_system_init(&sys, &cfg), MOAT_ERR_INVALID_ARG);
	cfg = t_config(ALL_SIZES);
	cfg.domain_id_min = 5;
	cfg.domain_id_max = 4;
	assert_int_equal(moat_system_init(&sys, &cfg), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_system_init(NULL, &cfg), MOAT_ERR_INVALID_ARG);
	cfg = t_config(MOAT_PT_PAGE_4K);
	cfg.pt.format = MOAT_PT_AMD_V1;
	cfg.pt.levels = 6;
	assert_int_equal(moat_system_init(&sys, &cfg), MOAT_OK);
	assert_int_equal(moat_system_fini(&sys), MOAT_OK);
	assert_int_equal(moat_system_fini(&sys), MOAT_ERR_INVALID_ARG);
}

static void overlapping_map_is_refused_and_changes_nothing(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_domain d;
	struct moat_diag diag;
	uint64_t mem;

	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	assert_int_equal(moat_domain_map(&d, 0, 0x100000, 0x2000, MOAT_PT_RW, NULL), MOAT_OK);
	mem = moat_domain_memory(&d);
	assert_int_equal(moat_domain_map(&d, 0x1000, 0x900000, 0x2000, MOAT_PT_RW, &diag), MOAT_ERR_OVERLAP);
	assert_int_equal(diag.status, MOAT_ERR_OVERLAP);
	assert_maps(&d, 0x1000, 0x101000, K4);
	assert_int_equal(moat_domain_translate(&d, 0x2000, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_domain_memory(&d), mem);
	assert_int_equal(moat_domain_unmap(&d, 0, 0x2000, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	t_system_free(sys);
}

static void protected_map_is_refused_naming_the_range(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_domain a, b;
	struct moat_diag diag;
	struct moat_protect_hit hit;

	assert_int_equal(moat_domain_create(sys, &a), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &b), MOAT_OK);
	assert_int_equal(moat_protect_add(sys, 0x10001234, 0x3000, "hv-image", NULL), MOAT_OK);
	/* rounded out: [0x10001000, 0x10004fff] */
	assert_int_equal(moat_domain_map(&a, 0, 0x10004000, K4, MOAT_PT_RW, &diag), MOAT_ERR_PROTECTED);
	assert_non_null(strstr(diag.msg, "hv-image"));
	assert_non_null(strstr(diag.msg, "0x10001000"));
	assert_int_equal(moat_domain_map(&a, 0, 0x10000000, G1, MOAT_PT_RW, NULL), MOAT_ERR_PROTECTED);
	assert_int_equal(moat_domain_map(&a, 0, 0x10000000, K4, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_domain_map(&a, K4, 0x10005000, K4, MOAT_PT_RW, NULL), MOAT_OK);
	/* Moat's own memory: the other domain's root table */
	assert_int_equal(moat_domain_map(&a, 2 * K4, b.pt.root_phys, K4, MOAT_PT_RW, &diag), MOAT_ERR_PROTECTED);
	assert_non_null(strstr(diag.msg, "moat page table"));
	assert_int_equal(moat_protect_check(sys, b.pt.root_phys, 1, &hit), MOAT_ERR_PROTECTED);
	assert_true(hit.owned);
	assert_int_equal(hit.base, b.pt.root_phys);
	assert_int_equal(moat_domain_translate(&a, 2 * K4, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	assert_audit_clean(sys);
	assert_int_equal(moat_domain_destroy(&a), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&b), MOAT_OK);
	t_system_free(sys);
}

static void unmap_invalidates_once_with_its_range_before_release(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	const uint64_t far = far_iova() + 0x4000;
	struct null_unit nu;
	struct moat_domain d;
	unsigned calls;
	uint64_t freed0, pool0;

	nu_init(&nu, 0, -1);
	assert_int_equal(moat_system_add_unit(sys, &nu.unit), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	assert_int_equal(moat_domain_attach(&d, 0, 0x10, NULL), MOAT_OK);   /* the unit may cache d */
	nu.log_pool = true;
	assert_int_equal(moat_domain_map(&d, far, 0x800000, 0x4000, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(nu.inval_calls, 0);

	freed0 = moat_hosted_stats().pages_freed;
	pool0 = sys->pool_count;
	assert_int_equal(moat_domain_unmap(&d, far, 0x4000, NULL), MOAT_OK);
	assert_int_equal(nu.inval_calls, 1);
	assert_int_equal(nu.log[0].domain_id, d.id);
	assert_int_equal(nu.log[0].iova, far);
	assert_int_equal(nu.log[0].size, 0x4000);
	/* the emptied tables below the root were still in use when the unit invalidated; then they went
	 * to the pool of trusted pages or back to the platform */
	assert_int_equal(nu.log[0].tables_changed, t_levels() > 1);
	assert_int_equal(nu.log[0].pages_freed, freed0);
	assert_int_equal(nu.log[0].pool_count, pool0);
	assert_int_equal(moat_hosted_stats().pages_freed - freed0 + (sys->pool_count - pool0), t_levels() - 1);
	calls = 1;

	/* part of a superpage: split, one invalidation of just that page */
	if (t_leaf_ok(M2)) {
		assert_int_equal(moat_domain_map(&d, 2 * M2, 4 * M2, M2, MOAT_PT_RW, NULL), MOAT_OK);
		assert_int_equal(moat_domain_unmap(&d, 2 * M2 + 0x3000, K4, NULL), MOAT_OK);
		assert_int_equal(nu.inval_calls, ++calls);
		assert_int_equal(nu.log[1].iova, 2 * M2 + 0x3000);
		assert_int_equal(nu.log[1].size, K4);
		assert_true(nu.log[1].tables_changed);
		assert_maps(&d, 2 * M2 + 0x2000, 4 * M2 + 0x2000, K4);
		assert_int_equal(moat_domain_translate(&d, 2 * M2 + 0x3000, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
		/* a failed unmap invalidates nothing */
		assert_int_equal(moat_domain_unmap(&d, 2 * M2 + 0x3000, K4, NULL), MOAT_ERR_NOT_FOUND);
		assert_int_equal(nu.inval_calls, calls);
	}
	assert_int_equal(moat_domain_unmap(&d, far, K4, NULL), MOAT_ERR_NOT_FOUND);
	assert_int_equal(nu.inval_calls, calls);
	assert_int_equal(moat_domain_detach(sys, 0, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	assert_int_equal(nu.inval_calls, calls + 1);   /* the whole domain, before its tables go */
	assert_int_equal(nu.log[calls].size, 0);
	t_system_free(sys);
}

static void failed_invalidation_keeps_the_table_pages(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct null_unit nu;
	struct moat_domain d;
	uint64_t freed0, owned0;

	nu_init(&nu, 0, -1);
	assert_int_equal(moat_system_add_unit(sys, &nu.unit), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	assert_int_equal(moat_domain_attach(&d, 0, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_domain_map(&d, far_iova(), 0x800000, K4, MOAT_PT_RW, NULL), MOAT_OK);
	owned0 = moat_owned_pages(sys);
	freed0 = moat_hosted_stats().pages_freed;
	nu.fail_inval = MOAT_ERR_TIMEOUT;
	assert_int_equal(moat_domain_unmap(&d, far_iova(), K4, NULL), MOAT_ERR_TIMEOUT);
	assert_int_equal(moat_domain_translate(&d, far_iova(), NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_hosted_stats().pages_freed, freed0);
	assert_int_equal(moat_owned_pages(sys), owned0);  /* still protected */
	nu.fail_inval = MOAT_OK;
	assert_audit_clean(sys);
	assert_int_equal(moat_domain_detach(sys, 0, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	t_system_free(sys);
}

static void caching_mode_units_are_invalidated_after_maps(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct null_unit nu;
	struct moat_domain d;

	nu_init(&nu, 0, -1);
	nu.unit.flags |= MOAT_UNIT_F_INVAL_ON_MAP;
	assert_int_equal(moat_system_add_unit(sys, &nu.unit), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	assert_int_equal(moat_domain_attach(&d, 0, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_domain_map(&d, 0x7000, 0x9000, 0x3000, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(nu.inval_calls, 1);
	assert_int_equal(nu.log[0].iova, 0x7000);
	assert_int_equal(nu.log[0].size, 0x3000);
	assert_false(nu.log[0].tables_changed);
	assert_int_equal(moat_domain_unmap(&d, 0x7000, 0x3000, NULL), MOAT_OK);
	assert_int_equal(moat_domain_detach(sys, 0, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	t_system_free(sys);
}

/*
 * Only a unit a device of the domain was attached through can cache the domain's translations:
 * the others are not invalidated for it. Once attached through a unit, the domain is invalidated
 * there for good (a detached device may have left entries behind until its unit flushed them).
 */
static void only_units_that_saw_the_domain_are_invalidated(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct null_unit a, b;
	struct moat_domain d;

	nu_init(&a, 0, -1);
	nu_init(&b, 1, -1);
	assert_int_equal(moat_system_add_unit(sys, &a.unit), MOAT_OK);
	assert_int_equal(moat_system_add_unit(sys, &b.unit), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	/* no device: nothing can have cached it */
	assert_int_equal(moat_domain_map(&d, far_iova(), 0x800000, K4, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_domain_unmap(&d, far_iova(), K4, NULL), MOAT_OK);
	assert_int_equal(a.inval_calls + b.inval_calls, 0);
	/* a device behind unit a */
	assert_int_equal(moat_domain_attach(&d, 0, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_domain_map(&d, far_iova(), 0x800000, K4, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_domain_unmap(&d, far_iova(), K4, NULL), MOAT_OK);
	assert_int_equal(a.inval_calls, 1);
	assert_int_equal(b.inval_calls, 0);
	/* and one behind unit b: both, also after it left */
	assert_int_equal(moat_domain_attach(&d, 1, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_domain_detach(sys, 1, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_domain_map(&d, far_iova(), 0x800000, K4, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_domain_unmap(&d, far_iova(), K4, NULL), MOAT_OK);
	assert_int_equal(a.inval_calls, 2);
	assert_int_equal(b.inval_calls, 1);
	assert_int_equal(b.log[0].domain_id, d.id);
	assert_int_equal(moat_domain_detach(sys, 0, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	assert_int_equal(a.inval_calls, 3);
	assert_int_equal(b.inval_calls, 2);
	t_system_free(sys);
}

static void devices_attach_move_and_detach_through_their_unit(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct null_unit nu;
	struct moat_domain a, b;
	struct moat_unit_dev dev;
	struct moat_diag diag;

	nu_init(&nu, 0, -1);
	assert_int_equal(moat_system_add_unit(sys, &nu.unit), MOAT_OK);
	assert_int_equal(moat_system_add_unit(sys, &nu.unit), MOAT_ERR_STATE);
	assert_int_equal(moat_domain_create(sys, &a), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &b), MOAT_OK);
	assert_int_not_equal(a.id, b.id);

	assert_int_equal(moat_domain_attach(&a, 0, MOAT_RID(0, 3, 0), NULL), MOAT_OK);
	assert_int_equal(nu.attach_calls, 1);
	assert_int_equal(a.devices, 1);
	assert_int_equal(nu_lookup(&nu.unit, MOAT_RID(0, 3, 0), &dev), MOAT_OK);
	assert_int_equal(dev.root_phys, a.pt.root_phys);
	assert_int_equal(dev.domain_id, a.id);
	assert_int_equal(moat_domain_attach(&a, 0, MOAT_RID(0, 3, 0), NULL), MOAT_OK);
	assert_int_equal(nu.attach_calls, 1);   /* already there */

	assert_int_equal(moat_domain_attach(&b, 0, MOAT_RID(0, 3, 0), NULL), MOAT_OK);
	assert_int_equal(a.devices, 0);
	assert_int_equal(b.devices, 1);
	assert_int_equal(moat_domain_destroy(&b), MOAT_ERR_BUSY);
	assert_int_equal(moat_domain_translate(&b, 0, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);  /* still alive */

	assert_int_equal(moat_domain_attach(&a, 1, MOAT_RID(0, 3, 0), &diag), MOAT_ERR_NOT_FOUND);
	assert_non_null(strstr(diag.msg, "0001:00:03.0"));
	nu.fail_attach = MOAT_ERR_HARDWARE;
	assert_int_equal(moat_domain_attach(&a, 0, MOAT_RID(0, 4, 0), NULL), MOAT_ERR_HARDWARE);
	assert_int_equal(a.devices, 0);
	nu.fail_attach = MOAT_OK;

	assert_int_equal(moat_domain_detach(sys, 0, MOAT_RID(0, 3, 0), NULL), MOAT_OK);
	assert_int_equal(b.devices, 0);
	assert_int_equal(nu.ndev, 0);
	assert_int_equal(moat_domain_detach(sys, 0, MOAT_RID(0, 3, 0), NULL), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_domain_destroy(&b), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&a), MOAT_OK);
	t_system_free(sys);
}

/* A unit of one system cannot join another: refused, and the first system keeps invalidating
 * every unit it had (the list is not cut after the unit). */
static void a_unit_of_another_system_is_refused(void **state)
{
	(void)state;
	struct moat_system *a = t_system(ALL_SIZES), *b = t_system(ALL_SIZES);
	struct null_unit u0, u1, u2;
	struct moat_domain d, db;

	nu_init(&u0, 0, -1);
	nu_init(&u1, 1, -1);
	nu_init(&u2, 2, -1);
	assert_int_equal(moat_system_add_unit(a, &u0.unit), MOAT_OK);
	assert_int_equal(moat_system_add_unit(a, &u1.unit), MOAT_OK);
	assert_int_equal(moat_system_add_unit(a, &u2.unit), MOAT_OK);
	assert_int_equal(moat_system_add_unit(b, &u1.unit), MOAT_ERR_STATE);
	assert_int_equal(moat_system_add_unit(b, &u0.unit), MOAT_ERR_STATE);
	assert_ptr_equal(u1.unit.sys, a);
	/* b has no unit: no device of any segment routes there */
	assert_null(moat_unit_route(b, 1, 0x10));
	assert_int_equal(moat_domain_create(b, &db), MOAT_OK);
	assert_int_equal(moat_domain_attach(&db, 1, 0x10, NULL), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_domain_destroy(&db), MOAT_OK);
	/* a still routes to, and invalidates, all three */
	assert_int_equal(moat_domain_create(a, &d), MOAT_OK);
	for (uint16_t seg = 0; seg < 3; seg++)
		assert_int_equal(moat_domain_attach(&d, seg, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_domain_map(&d, 0x100000, 0x800000, K4, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_domain_unmap(&d, 0x100000, K4, NULL), MOAT_OK);
	assert_int_equal(u0.inval_calls, 1);
	assert_int_equal(u1.inval_calls, 1);
	assert_int_equal(u2.inval_calls, 1);
	for (uint16_t seg = 0; seg < 3; seg++)
		assert_int_equal(moat_domain_detach(a, seg, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	t_system_free(a);
	/* a unit whose system ended may join another */
	assert_null(u1.unit.sys);
	assert_int_equal(moat_system_add_unit(b, &u1.unit), MOAT_OK);
	assert_ptr_equal(moat_unit_route(b, 1, 0x10), &u1.unit);
	t_system_free(b);
}

static void devices_route_by_the_description_scopes(void **state)
{
	(void)state;
	struct moat_unit_desc units[2];
	struct moat_devset devsets[3];
	struct moat_sysdesc desc;
	struct moat_system sys;
	struct moat_system_config cfg = t_config(ALL_SIZES);
	struct null_unit u0, u1;
	struct moat_domain d;

	memset(units, 0, sizeof(units));
	memset(devsets, 0, sizeof(devsets));
	memset(&desc, 0, sizeof(desc));
	devsets[0] = (struct moat_devset){ .segment = 0, .first = MOAT_RID(0, 2, 0), .last = MOAT_RID(0, 2, 7) };
	devsets[1] = (struct moat_devset){ .segment = 0, .first = MOAT_RID(0, 5, 0), .last = MOAT_RID(0, 5, 0),
					   .flags = MOAT_DEVSET_UNRESOLVED };
	units[0] = (struct moat_unit_desc){ .vendor = MOAT_VENDOR_VTD, .devset_first = 0, .devset_count = 2 };
	units[1] = (struct moat_unit_desc){ .vendor = MOAT_VENDOR_VTD, .flags = MOAT_UNIT_INCLUDE_ALL,
					    .devset_first = 2, .devset_count = 0 };
	desc.units = units;
	desc.units_cap = desc.units_count = 2;
	desc.devsets = devsets;
	desc.devsets_cap = 3;
	desc.devsets_count = 2;
	cfg.desc = &desc;
	assert_int_equal(moat_system_init(&sys, &cfg), MOAT_OK);
	nu_init(&u0, 0, 0);
	nu_init(&u1, 0, 1);
	assert_int_equal(moat_system_add_unit(&sys, &u1.unit), MOAT_OK);
	assert_int_equal(moat_system_add_unit(&sys, &u0.unit), MOAT_OK);
	assert_ptr_equal(moat_unit_route(&sys, 0, MOAT_RID(0, 2, 5)), &u0.unit);
	assert_ptr_equal(moat_unit_route(&sys, 0, MOAT_RID(0, 5, 0)), &u1.unit);  /* unresolved scope */
	assert_ptr_equal(moat_unit_route(&sys, 0, MOAT_RID(3, 0, 0)), &u1.unit);
	assert_null(moat_unit_route(&sys, 2, MOAT_RID(0, 2, 5)));

	assert_int_equal(moat_domain_create(&sys, &d), MOAT_OK);
	assert_int_equal(moat_domain_attach(&d, 0, MOAT_RID(0, 2, 1), NULL), MOAT_OK);
	assert_int_equal(moat_domain_attach(&d, 0, MOAT_RID(0, 9, 0), NULL), MOAT_OK);
	assert_int_equal(u0.ndev, 1);
	assert_int_equal(u1.ndev, 1);
	assert_int_equal(d.devices, 2);
	assert_int_equal(moat_domain_detach(&sys, 0, MOAT_RID(0, 2, 1), NULL), MOAT_OK);
	assert_int_equal(moat_domain_detach(&sys, 0, MOAT_RID(0, 9, 0), NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);

	/* a unit naming an entry the description does not have */
	struct null_unit bad;
	nu_init(&bad, 0, 5);
	assert_int_equal(moat_system_add_unit(&sys, &bad.unit), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_system_fini(&sys), MOAT_OK);
}

static void domain_ids_are_reused_and_bounded(void **state)
{
	(void)state;
	struct moat_system sys;
	struct moat_system_config cfg = t_config(ALL_SIZES);
	struct moat_domain d[4];

	cfg.domain_id_min = 7;
	cfg.domain_id_max = 9;
	assert_int_equal(moat_system_init(&sys, &cfg), MOAT_OK);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(moat_domain_create(&sys, &d[i]), MOAT_OK);
		assert_int_equal(d[i].id, 7 + i);
	}
	assert_int_equal(moat_domain_create(&sys, &d[3]), MOAT_ERR_NO_SPACE);
	assert_int_equal(moat_system_fini(&sys), MOAT_ERR_BUSY);
	assert_int_equal(moat_domain_destroy(&d[1]), MOAT_OK);
	assert_int_equal(moat_domain_create(&sys, &d[3]), MOAT_OK);
	assert_int_equal(d[3].id, 8);
	assert_int_equal(moat_domain_destroy(&d[0]), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d[2]), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d[3]), MOAT_OK);
	assert_int_equal(moat_system_fini(&sys), MOAT_OK);
}

struct unit_pages_ctx {
	void *virt;
	uint64_t phys;
	bool zero;
};

static moat_status take_unit_page(struct moat_unit *u, void *ctx)
{
	struct unit_pages_ctx *c = ctx;
	const struct moat_pages src = moat_unit_pages(u);
	const unsigned char *b;

	c->virt = moat_pages_alloc(&src, &c->phys);
	if (!c->virt)
		return MOAT_ERR_NO_MEMORY;
	b = c->virt;
	c->zero = true;
	for (unsigned i = 0; i < K4; i++)
		c->zero = c->zero && !b[i];
	return MOAT_OK;
}

static moat_status give_unit_page(struct moat_unit *u, void *ctx)
{
	struct unit_pages_ctx *c = ctx;
	const struct moat_pages src = moat_unit_pages(u);

	moat_pages_free(&src, c->virt, c->phys);
	return MOAT_OK;
}

static void driver_pages_are_moat_owned(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_domain d;
	uint64_t phys = 0, owned0;
	void *page;

	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	owned0 = moat_owned_pages(sys);
	page = moat_page_alloc(sys, &phys);
	assert_non_null(page);
	assert_true(moat_owned_pages(sys) >= owned0);   /* from the pool (owned already), or a new one */
	owned0 = moat_owned_pages(sys);
	assert_int_equal(moat_protect_check(sys, phys, K4, NULL), MOAT_ERR_PROTECTED);
	assert_int_equal(moat_domain_map(&d, 0, phys, K4, MOAT_PT_READ, NULL), MOAT_ERR_PROTECTED);
	moat_page_free(sys, page, phys);
	assert_int_equal(moat_owned_pages(sys), owned0 - 1);   /* back to the platform */
	assert_int_equal(moat_protect_check(sys, phys, K4, NULL), MOAT_OK);

	/* pages from elsewhere */
	assert_int_equal(moat_page_adopt(sys, 0x123456000ull), MOAT_OK);
	assert_int_equal(moat_page_adopt(sys, 0x123456000ull), MOAT_ERR_OVERLAP);
	assert_int_equal(moat_page_adopt(sys, 0x123456001ull), MOAT_ERR_ALIGNMENT);
	assert_int_equal(moat_page_adopt(sys, 1ull << 52), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_page_adopt(sys, (1ull << 52) - K4), MOAT_OK);   /* the highest frame */
	assert_int_equal(moat_protect_check(sys, 0x123455000ull, 3 * K4, NULL), MOAT_ERR_PROTECTED);
	assert_int_equal(moat_protect_check(sys, 0x123457000ull, 1ull << 40, NULL), MOAT_OK);
	assert_int_equal(moat_protect_check(sys, 0, (1ull << 52), NULL), MOAT_ERR_PROTECTED);
	assert_int_equal(moat_domain_map(&d, 0, (1ull << 52) - M2, M2, MOAT_PT_RW, NULL), MOAT_ERR_PROTECTED);

	/* a driver's pages, through its unit: only inside an operation of it */
	struct null_unit nu;
	struct unit_pages_ctx upc = { 0 };

	nu_init(&nu, 0, -1);
	assert_int_equal(moat_unit_call(&nu.unit, take_unit_page, &upc), MOAT_ERR_INVALID_ARG);   /* no system */
	assert_int_equal(moat_system_add_unit(sys, &nu.unit), MOAT_OK);
	assert_int_equal(moat_unit_call(NULL, take_unit_page, &upc), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_unit_call(&nu.unit, NULL, &upc), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_unit_call(&nu.unit, take_unit_page, &upc), MOAT_OK);
	assert_non_null(upc.virt);
	assert_true(upc.zero);
	assert_int_equal(moat_protect_check(sys, upc.phys, K4, NULL), MOAT_ERR_PROTECTED);
	assert_int_equal(moat_domain_map(&d, 0, upc.phys, K4, MOAT_PT_READ, NULL), MOAT_ERR_PROTECTED);
	assert_int_equal(moat_unit_call(&nu.unit, give_unit_page, &upc), MOAT_OK);
	assert_int_equal(moat_protect_check(sys, upc.phys, K4, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	t_system_free(sys);
}

static void two_systems_share_no_state(void **state)
{
	(void)state;
	struct moat_system *a = t_system(ALL_SIZES), *b = t_system(MOAT_PT_PAGE_4K);
	struct moat_domain da, db;
	uint64_t live0;

	assert_int_equal(moat_domain_create(a, &da), MOAT_OK);
	assert_int_equal(moat_domain_create(b, &db), MOAT_OK);
	assert_int_equal(da.id, db.id);
	assert_int_equal(moat_protect_add(a, 0x40000000, 0x1000, "a-only", NULL), MOAT_OK);
	assert_int_equal(moat_protect_count(a), 1);
	assert_int_equal(moat_protect_count(b), 0);
	assert_int_equal(moat_domain_map(&db, 0, 0x40000000, K4, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_domain_map(&da, 0, 0x40000000, K4, MOAT_PT_RW, NULL), MOAT_ERR_PROTECTED);
	/* each system's own pages are its own */
	assert_int_equal(moat_protect_check(a, da.pt.root_phys, K4, NULL), MOAT_ERR_PROTECTED);
	assert_int_equal(moat_protect_check(b, da.pt.root_phys, K4, NULL), MOAT_OK);
	assert_int_equal(moat_protect_check(b, db.pt.root_phys, K4, NULL), MOAT_ERR_PROTECTED);
	assert_int_equal(moat_domain_map(&da, 0, M2, M2, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_domain_memory(&db), t_path_tables() * 4096);
	assert_int_equal(moat_domain_translate(&db, K4, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);   /* da maps it */

	live0 = moat_hosted_stats().pages_live;
	assert_int_equal(moat_domain_destroy(&da), MOAT_OK);
	t_system_free(a);
	assert_true(moat_hosted_stats().pages_live < live0);
	assert_int_equal(moat_domain_translate(&db, 0, NULL, NULL, NULL), MOAT_OK);
	assert_audit_clean(b);
	assert_int_equal(moat_domain_unmap(&db, 0, K4, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&db), MOAT_OK);
	t_system_free(b);
}

#include <pthread.h>

static moat_status two_faults(struct moat_unit *u, struct moat_fault *out, unsigned max, struct moat_fault_poll *res)
{
	unsigned pending = 2;

	memset(res, 0, sizeof(*res));
	for (unsigned i = 0; i < pending && i < max; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].segment = u->segment;
		out[i].rid = (uint16_t)(0x100 + i);
		res->count++;
	}
	res->remaining = pending - res->count;
	res->overflows = 1;
	res->overflow_total = 5;
	return MOAT_OK;
}

static void faults_are_polled_from_every_unit(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_unit_ops ops = nu_ops;
	struct null_unit a, b;
	struct moat_fault f[3];
	struct moat_fault_poll res;

	ops.fault_poll = two_faults;
	nu_init(&a, 0, -1);
	nu_init(&b, 1, -1);
	a.unit.ops = &ops;
	b.unit.ops = &ops;
	assert_int_equal(moat_system_add_unit(sys, &a.unit), MOAT_OK);
	assert_int_equal(moat_system_add_unit(sys, &b.unit), MOAT_OK);
	assert_int_equal(moat_fault_poll(sys, f, 3, &res), MOAT_OK);
	assert_int_equal(res.count, 3);
	assert_int_equal(res.remaining, 1);
	assert_int_equal(res.overflows, 2);
	assert_int_equal(res.overflow_total, 10);
	assert_int_equal(f[0].segment, 0);
	assert_int_equal(f[2].segment, 1);
	assert_int_equal(f[2].rid, 0x100);
	assert_int_equal(moat_fault_poll(sys, NULL, 1, &res), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_flush_all(sys, NULL), MOAT_OK);
	assert_int_equal(a.flush_calls, 1);
	assert_int_equal(b.flush_calls, 1);
	t_system_free(sys);
}

struct hammer {
	struct moat_domain *d;
	uint64_t base;
	int failures;
};

/* 64 places a thread maps at: 2 MiB apart (separate level-1 tables), closer in a narrow space. */
static uint64_t hammer_stride(void)
{
	return MOAT_MIN(M2, t_iova_span() / 256);
}

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;

	for (unsigned i = 0; i < 3000; i++) {
		uint64_t iova = h->base + (uint64_t)(i % 64) * hammer_stride();

		if (moat_domain_map(h->d, iova, 0x10000000 + (i % 7) * K4, K4, MOAT_PT_RW, NULL) != MOAT_OK ||
		    moat_domain_unmap(h->d, iova, K4, NULL) != MOAT_OK)
			h->failures++;
	}
	return NULL;
}

static void concurrent_callers_are_serialized(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_domain a, b;
	const uint64_t hi = MOAT_MIN(4 * G1, t_iova_span() / 2), hi2 = MOAT_MIN(8 * G1, t_iova_span() / 2);
	struct hammer h[4] = { { &a, 0, 0 }, { &a, hi, 0 }, { &b, 0, 0 }, { &b, hi2, 0 } };
	pthread_t t[4];

	assert_int_equal(moat_domain_create(sys, &a), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &b), MOAT_OK);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer_run, &h[i]), 0);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(moat_protect_add(sys, 0x20000000 + i * K4, K4, "racing", NULL), MOAT_OK);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(h[i].failures, 0);
	}
	assert_int_equal(moat_domain_memory(&a), K4);
	assert_int_equal(moat_domain_memory(&b), K4);
	assert_audit_clean(sys);
	assert_int_equal(moat_domain_destroy(&a), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&b), MOAT_OK);
	t_system_free(sys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(maps_translates_and_unmaps_with_largest_pages),
		cmocka_unit_test(bad_arguments_get_statuses),
		cmocka_unit_test(system_config_is_checked),
		cmocka_unit_test(overlapping_map_is_refused_and_changes_nothing),
		cmocka_unit_test(protected_map_is_refused_naming_the_range),
		cmocka_unit_test(unmap_invalidates_once_with_its_range_before_release),
		cmocka_unit_test(failed_invalidation_keeps_the_table_pages),
		cmocka_unit_test(caching_mode_units_are_invalidated_after_maps),
		cmocka_unit_test(only_units_that_saw_the_domain_are_invalidated),
		cmocka_unit_test(devices_attach_move_and_detach_through_their_unit),
		cmocka_unit_test(a_unit_of_another_system_is_refused),
		cmocka_unit_test(devices_route_by_the_description_scopes),
		cmocka_unit_test(domain_ids_are_reused_and_bounded),
		cmocka_unit_test(driver_pages_are_moat_owned),
		cmocka_unit_test(two_systems_share_no_state),
		cmocka_unit_test(concurrent_callers_are_serialized),
		cmocka_unit_test(faults_are_polled_from_every_unit),
	};

	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
