/* SPDX-License-Identifier: BSD-2-Clause */
/* Reserved regions: mapped only for the devices they name, never over protected memory. */
#include "core_test.h"

/*
 * Where the regions lie: from 0x70000000, 16 MiB apart, a 4 MiB one at +240 MiB, when the IOVA
 * space reaches that far (identity maps: the IOVA is the address); lower down in a 1 GiB space
 * (2-level AMD-Vi), and 128 KiB apart with a 256 KiB one in a 2 MiB space (1 level).
 */
static uint64_t R0, STEP, BIG, BIG_SIZE;

static void layout(void)
{
	if (t_iova_span() > 2 * G1) {
		R0 = 0x70000000, STEP = 0x1000000, BIG = R0 + 0xf000000, BIG_SIZE = 0x400000;
	} else if (t_iova_span() > M2) {
		R0 = 0x20000000, STEP = 0x1000000, BIG = R0 + 0xf000000, BIG_SIZE = 0x400000;
	} else {
		R0 = 0x100000, STEP = 0x20000, BIG = R0 + 0x80000, BIG_SIZE = 0x40000;
	}
}

#define R1 (R0 + STEP)
#define R2 (R0 + 2 * STEP)
#define LOG (BIG + BIG_SIZE / 2 + 0x10)   /* a protected range inside the big region */

/* "0x..." of @a, for messages. */
static const char *hex(char *buf, uint64_t a)
{
	sprintf(buf, "0x%llx", (unsigned long long)a);
	return buf;
}

#define DEV_A MOAT_RID(0, 2, 0)
#define DEV_B MOAT_RID(0, 0x1d, 0)
#define DEV_C MOAT_RID(3, 0, 0)

struct rfix {
	struct moat_region_desc regions[4];
	struct moat_devset devsets[3];
	struct moat_sysdesc desc;
	struct moat_system sys;
	struct null_unit nu;
};

static void rfix_init(struct rfix *f)
{
	struct moat_system_config cfg = t_config(ALL_SIZES);

	layout();
	memset(f, 0, sizeof(*f));
	f->devsets[0] = (struct moat_devset){ .segment = 0, .first = DEV_A, .last = DEV_A, .src_offset = 0x60 };
	f->devsets[1] = (struct moat_devset){ .segment = 0, .first = DEV_B, .last = DEV_B, .src_offset = 0x90 };
	f->devsets[2] = (struct moat_devset){ .segment = 0, .first = DEV_C, .last = DEV_C, .src_offset = 0xb0 };
	f->regions[0] = (struct moat_region_desc){ MOAT_REGION_RMRR, 0,
						   MOAT_REGION_UNITY | MOAT_REGION_READ | MOAT_REGION_WRITE,
						   R0, R0 + 0xffff, 0, 1, 0x48 };
	f->regions[1] = (struct moat_region_desc){ MOAT_REGION_RMRR, 0,
						   MOAT_REGION_UNITY | MOAT_REGION_READ | MOAT_REGION_WRITE,
						   R1, R1 + 0x1fff, 1, 1, 0x78 };
	/* an IVMD-style read-only region for C, not page aligned */
	f->regions[2] = (struct moat_region_desc){ MOAT_REGION_IVMD_SELECT, 0, MOAT_REGION_UNITY | MOAT_REGION_READ,
						   R2 + 0x800, R2 + 0x17ff, 2, 1, 0xa0 };
	f->desc.regions = f->regions;
	f->desc.regions_cap = 4;
	f->desc.regions_count = 3;
	f->desc.devsets = f->devsets;
	f->desc.devsets_cap = f->desc.devsets_count = 3;
	cfg.desc = &f->desc;
	assert_int_equal(moat_system_init(&f->sys, &cfg), MOAT_OK);
	nu_init(&f->nu, 0, -1);
	assert_int_equal(moat_system_add_unit(&f->sys, &f->nu.unit), MOAT_OK);
	hostile_watch(&f->sys, &nu_hostile_ops);
}

static void rfix_fini(struct rfix *f)
{
	hostile_unwatch(&f->sys);
	assert_int_equal(moat_system_fini(&f->sys), MOAT_OK);
}

static bool identity(struct moat_domain *d, uint64_t a, unsigned *prot)
{
	uint64_t p = 0;

	return moat_domain_translate(d, a, &p, prot, NULL) == MOAT_OK && p == a;
}

static void regions_are_mapped_only_for_the_devices_they_name(void **state)
{
	(void)state;
	struct moat_audit_report r;
	struct moat_domain da, db, dc;
	struct rfix f;
	unsigned prot = 0;
	char line[256];

	rfix_init(&f);
	assert_true(moat_region_names(&f.desc, &f.regions[0], 0, DEV_A));
	assert_false(moat_region_names(&f.desc, &f.regions[0], 0, DEV_B));
	assert_false(moat_region_names(&f.desc, &f.regions[0], 1, DEV_A));
	assert_int_equal(moat_domain_create(&f.sys, &da), MOAT_OK);
	assert_int_equal(moat_domain_create(&f.sys, &db), MOAT_OK);
	assert_int_equal(moat_domain_create(&f.sys, &dc), MOAT_OK);

	assert_int_equal(moat_reserved_map(&da, NULL, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_reserved_map(&db, &f.desc, 0, DEV_B, NULL), MOAT_OK);
	assert_int_equal(moat_reserved_map(&dc, NULL, 0, DEV_C, NULL), MOAT_OK);
	assert_true(identity(&da, R0, &prot));
	assert_int_equal(prot, MOAT_PT_RW);
	assert_true(identity(&da, R0 + 0xf000, NULL));
	assert_false(identity(&da, R0 + 0x10000, NULL));
	assert_false(identity(&da, R1, NULL));
	assert_true(identity(&db, R1 + 0x1000, NULL));
	assert_false(identity(&db, R0, NULL));
	assert_true(identity(&dc, R2, &prot));   /* rounded out */
	assert_int_equal(prot, MOAT_PT_READ);
	assert_true(identity(&dc, R2 + 0x1000, NULL));
	assert_false(identity(&dc, R2 + 0x2000, NULL));
	/* again: already there, nothing new */
	assert_int_equal(moat_reserved_map(&da, NULL, 0, DEV_A, NULL), MOAT_OK);
	/* a device no region names */
	assert_int_equal(moat_reserved_map(&da, NULL, 0, MOAT_RID(9, 0, 0), NULL), MOAT_OK);

	assert_int_equal(moat_domain_attach(&da, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_attach(&db, 0, DEV_B, NULL), MOAT_OK);
	assert_int_equal(moat_audit(&f.sys, &r), 0);

	/* B joins A's domain: A's region is now reachable by a device it does not name */
	assert_int_equal(moat_domain_attach(&da, 0, DEV_B, NULL), MOAT_OK);
	assert_int_equal(moat_audit(&f.sys, &r), 1);
	assert_int_equal(r.v[0].kind, MOAT_AUDIT_RESERVED);
	assert_int_equal(r.v[0].domain_id, da.id);
	assert_int_equal(r.v[0].rid, DEV_B);
	assert_int_equal(r.v[0].region, 0);
	assert_int_equal(r.v[0].iova, R0);
	assert_int_equal(r.v[0].hit_base, R0);
	assert_int_equal(r.v[0].hit_size, 0x10000);
	moat_audit_format(&r.v[0], line, sizeof(line));
	char want[256];
	snprintf(want, sizeof(want), "domain 1: reserved region 0 (RMRR DMAR+0x48) [0x%llx, 0x%llx] mapped at iova "
		 "0x%llx, but it does not name attached device 0000:00:1d.0", (unsigned long long)R0,
		 (unsigned long long)R0 + 0xffff, (unsigned long long)R0);
	assert_string_equal(line, want);

	assert_int_equal(moat_domain_detach(&f.sys, 0, DEV_B, NULL), MOAT_OK);
	assert_int_equal(moat_domain_detach(&f.sys, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_audit(&f.sys, &r), 0);
	assert_int_equal(moat_domain_destroy(&da), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&db), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&dc), MOAT_OK);
	rfix_fini(&f);
}

static void a_region_over_protected_memory_is_refused_loudly(void **state)
{
	(void)state;
	struct moat_domain d;
	struct moat_diag diag;
	struct rfix f;
	uint64_t phys = 0;
	void *page;

	rfix_init(&f);
	/* A is named by two regions; the second one touches protected memory: nothing is mapped */
	char a[32], b[32], want[96];

	f.regions[3] = (struct moat_region_desc){ MOAT_REGION_RMRR, 0, MOAT_REGION_UNITY | MOAT_REGION_READ |
							 MOAT_REGION_WRITE, BIG, BIG + BIG_SIZE - 1, 0, 1, 0x1c8 };
	f.desc.regions_count = 4;
	assert_int_equal(moat_protect_add(&f.sys, LOG, 0x20, "hv-log", NULL), MOAT_OK);
	assert_int_equal(moat_domain_create(&f.sys, &d), MOAT_OK);
	assert_int_equal(moat_reserved_map(&d, NULL, 0, DEV_A, &diag), MOAT_ERR_PROTECTED);
	assert_int_equal(diag.status, MOAT_ERR_PROTECTED);
	assert_string_equal(diag.table, "DMAR");
	assert_int_equal(diag.offset, 0x1c8);
	snprintf(want, sizeof(want), "RMRR [%s, %s]", hex(a, BIG), hex(b, BIG + BIG_SIZE - 1));
	assert_non_null(strstr(diag.msg, want));
	snprintf(want, sizeof(want), "[%s, %s] (hv-log)", hex(a, LOG & ~0xfffull), hex(b, LOG | 0xfff));
	assert_non_null(strstr(diag.msg, want));
	assert_false(identity(&d, R0, NULL));
	assert_false(identity(&d, BIG, NULL));
	assert_int_equal(moat_domain_memory(&d), K4);
	assert_int_equal(moat_protect_remove(&f.sys, LOG, 0x20), MOAT_OK);

	/* Moat's own page inside a region */
	page = moat_page_alloc(&f.sys, &phys);
	assert_non_null(page);
	f.regions[3].base = phys - 0x10000;
	f.regions[3].limit = phys + 0xffff;
	assert_int_equal(moat_reserved_map(&d, NULL, 0, DEV_A, &diag), MOAT_ERR_PROTECTED);
	assert_non_null(strstr(diag.msg, "(moat"));
	moat_page_free(&f.sys, page, phys);

	f.regions[3].base = BIG;
	f.regions[3].limit = BIG + BIG_SIZE - 1;
	assert_int_equal(moat_reserved_map(&d, NULL, 0, DEV_A, NULL), MOAT_OK);
	assert_true(identity(&d, R0, NULL));
	assert_true(identity(&d, BIG + BIG_SIZE - K4, NULL));
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	rfix_fini(&f);
}

static void bad_regions_and_conflicts_change_nothing(void **state)
{
	(void)state;
	struct moat_domain d;
	struct moat_diag diag;
	struct rfix f;

	rfix_init(&f);
	assert_int_equal(moat_domain_create(&f.sys, &d), MOAT_OK);
	/* region 0's first page already maps elsewhere */
	char a[32];

	assert_int_equal(moat_domain_map(&d, R0 + 0x4000, 0x10000000, K4, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_reserved_map(&d, NULL, 0, DEV_A, &diag), MOAT_ERR_OVERLAP);
	assert_non_null(strstr(diag.msg, hex(a, R0 + 0x4000)));
	assert_false(identity(&d, R0, NULL));
	assert_int_equal(moat_domain_unmap(&d, R0 + 0x4000, K4, NULL), MOAT_OK);
	/* part already identity-mapped is kept */
	assert_int_equal(moat_domain_map(&d, R0 + 0x4000, R0 + 0x4000, K4, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_reserved_map(&d, NULL, 0, DEV_A, NULL), MOAT_OK);
	assert_true(identity(&d, R0, NULL));
	assert_true(identity(&d, R0 + 0xf000, NULL));
	/* limit below base */
	f.regions[1].limit = f.regions[1].base - 1;
	assert_int_equal(moat_reserved_map(&d, NULL, 0, DEV_B, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(diag.offset, 0x78);
	f.regions[1].limit = R1 + 0x1fff;
	f.regions[1].devset_count = 7;
	assert_int_equal(moat_reserved_map(&d, NULL, 0, DEV_B, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_reserved_map(NULL, NULL, 0, DEV_B, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	rfix_fini(&f);
}

static void the_host_domain_is_shared_by_design(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = { { 0, 0x40000000, MOAT_MEM_RAM } };
	struct moat_audit_report r;
	struct moat_domain h;
	struct rfix f;

	rfix_init(&f);
	assert_int_equal(moat_domain_create(&f.sys, &h), MOAT_OK);
	assert_int_equal(moat_protect_host(&h, map, 1, NULL, NULL), MOAT_OK);
	assert_int_equal(moat_reserved_map(&h, NULL, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_reserved_map(&h, NULL, 0, DEV_B, NULL), MOAT_OK);
	assert_int_equal(moat_domain_attach(&h, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_attach(&h, 0, DEV_B, NULL), MOAT_OK);
	assert_int_equal(moat_audit(&f.sys, &r), 0);
	assert_int_equal(r.devices, 2);
	assert_int_equal(moat_domain_detach(&f.sys, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_detach(&f.sys, 0, DEV_B, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&h), MOAT_OK);
	rfix_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(regions_are_mapped_only_for_the_devices_they_name),
		cmocka_unit_test(a_region_over_protected_memory_is_refused_loudly),
		cmocka_unit_test(bad_regions_and_conflicts_change_nothing),
		cmocka_unit_test(the_host_domain_is_shared_by_design),
	};

	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
