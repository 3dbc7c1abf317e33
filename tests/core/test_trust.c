/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Pages a device of the host identity domain can write, from the moment the platform hands them out
 * until Moat takes them out of that domain, must never be trusted: a table page the host domain
 * gets (from the pool Moat keeps, or fresh when the pool runs dry) holds only what Moat wrote. The
 * hostile device of tests/support/hostile.h writes plausible second-stage entries into every page
 * it reaches as the platform hands it out; each test ends with the hardware's view (the device,
 * through the null unit, translating through the root the core gave attach()) reaching nothing
 * protected and no page Moat holds, and with the audit clean.
 */
#include "core_test.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DEV MOAT_RID(0, 2, 0)
#define ARENA_RAM { MOAT_HOSTED_PHYS_BASE, MOAT_HOSTED_ARENA_BYTES, MOAT_MEM_RAM }
#define RMRR_RW (MOAT_REGION_UNITY | MOAT_REGION_READ | MOAT_REGION_WRITE)
#define SECRET_FILL 0x5c   /* bits 0 and 1 clear: reads as empty entries in every format */

struct tfix {
	struct moat_system *sys;
	struct null_unit nu;
	struct moat_domain host;
	uint64_t secret;            /* a protected page of arena memory (the hypervisor's) */
	unsigned char *secret_virt;
};

/* A system with a null unit and a protected page in the arena; the device starts, writing
 * second-stage entries as pages are handed out (and nowhere else). */
static void tfix_up(struct tfix *f)
{
	memset(f, 0, sizeof(*f));
	f->sys = t_system(ALL_SIZES);
	nu_init(&f->nu, 0, -1);
	assert_int_equal(moat_system_add_unit(f->sys, &f->nu.unit), MOAT_OK);
	f->secret_virt = moat_hosted_reserve_page(&f->secret);
	assert_non_null(f->secret_virt);
	memset(f->secret_virt, SECRET_FILL, MOAT_PAGE_SIZE);
	assert_int_equal(moat_protect_add(f->sys, f->secret, MOAT_PAGE_SIZE, "hv-secret", NULL), MOAT_OK);
	assert_int_equal(moat_domain_create(f->sys, &f->host), MOAT_OK);
	hostile_start();
	hostile_set_content(HOSTILE_VTD_SL);
	hostile_set_rate(0);
}

static void tfix_down(struct tfix *f)
{
	hostile_stop();
	assert_int_equal(moat_domain_detach(f->sys, 0, DEV, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&f->host), MOAT_OK);
	t_system_free(f->sys);
}

/* Nothing wrote into the protected page (Moat following a planted link would). */
static void check_secret_untouched(const struct tfix *f)
{
	for (unsigned i = 0; i < MOAT_PAGE_SIZE; i++)
		if (f->secret_virt[i] != SECRET_FILL)
			fail_msg("the protected page 0x%llx was written at +0x%x (0x%02x): Moat followed an entry it "
				 "did not write", (unsigned long long)f->secret, i, f->secret_virt[i]);
}

/* The end of every test: the hardware's view, then the audit. */
static void check_out_of_reach(struct tfix *f)
{
	unsigned violations = hostile_check(f->sys);

	if (violations)
		fail_msg("the hostile device reaches %u protected or Moat-held pages (seed 0x%llx)", violations,
			 (unsigned long long)hostile_seed());
	assert_audit_clean(f->sys);
}

static void expect_ok(moat_status st, const char *what)
{
	if (st != MOAT_OK)
		fail_msg("%s: %s (a table page held entries Moat did not write)", what, moat_status_str(st));
}

/* What a host-domain map put in place: exactly [@base, @base + @size) to itself, nothing beside it. */
static void check_maps_only(struct moat_domain *host, uint64_t base, uint64_t size)
{
	for (uint64_t a = base - 2 * K4; a < base + size + 2 * K4; a += K4) {
		uint64_t phys = 0;
		moat_status st = moat_domain_translate(host, a, &phys, NULL, NULL);

		if (a >= base && a < base + size) {
			if (st != MOAT_OK || phys != a)
				fail_msg("0x%llx: not mapped to itself (%s, 0x%llx)", (unsigned long long)a,
					 moat_status_str(st), (unsigned long long)phys);
		} else if (st != MOAT_ERR_NOT_FOUND) {
			fail_msg("0x%llx, next to what was mapped, translates (%s, to 0x%llx): an entry Moat did not "
				 "write is live", (unsigned long long)a, moat_status_str(st), (unsigned long long)phys);
		}
	}
}

/*
 * Path: the pool of pages kept for the host domain's own tables is refilled from platform pages the
 * host domain still maps (the device writes into them then), punched later, and handed out as new
 * tables. A later identity map into the host domain (hot-added RAM, an RMRR) must find them empty.
 */
static void host_pool_pages_prefilled_by_a_host_device_map_nothing(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = { { 0, G1, MOAT_MEM_RAM }, ARENA_RAM };
	const uint64_t hot = 64 * G1 + K4, rmrr = 96 * G1 + K4;
	struct moat_devset devset = { .segment = 0, .first = DEV, .last = DEV, .alias = DEV };
	struct moat_region_desc region = { MOAT_REGION_RMRR, 0, RMRR_RW, rmrr, rmrr + 2 * K4 - 1, 0, 1, 0x48 };
	struct moat_sysdesc desc = { 0 };
	moat_status hot_st, rmrr_st;
	struct tfix f;

	desc.regions = &region;
	desc.regions_cap = desc.regions_count = 1;
	desc.devsets = &devset;
	desc.devsets_cap = desc.devsets_count = 1;
	tfix_up(&f);
	assert_int_equal(moat_protect_host(&f.host, map, N(map), NULL, NULL), MOAT_OK);
	assert_int_equal(moat_domain_attach(&f.host, 0, DEV, NULL), MOAT_OK);

	/* Punching a page out of a 1 GiB host leaf takes two pool pages; the pool is refilled with
	 * pages the device reaches as they are handed out. */
	assert_int_equal(moat_protect_add(f.sys, 0x20001000, K4, "late", NULL), MOAT_OK);

	/* hot-added RAM and an RMRR, in 4 KiB pages: new tables, from the pool */
	hot_st = moat_domain_map(&f.host, hot, hot, 3 * K4, MOAT_PT_RW, NULL);
	rmrr_st = moat_reserved_map(&f.host, &desc, 0, DEV, NULL);

	check_out_of_reach(&f);
	check_secret_untouched(&f);
	expect_ok(hot_st, "hot-added RAM");
	expect_ok(rmrr_st, "the RMRR");
	check_maps_only(&f.host, hot, 3 * K4);
	check_maps_only(&f.host, rmrr, 2 * K4);
	tfix_down(&f);
}

/*
 * Path: with the pool empty, fresh platform pages, still identity-mapped in the host domain, become
 * the host domain's new tables in the same operation. Here one moat_reserved_map() needs more table
 * pages than the pool holds: RMRRs in eight separate GiB, each in 4 KiB pages.
 */
static void fresh_host_tables_of_an_operation_are_never_prefilled_by_a_host_device(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = { { 0, G1, MOAT_MEM_RAM }, ARENA_RAM };
	struct moat_devset devset = { .segment = 0, .first = DEV, .last = DEV, .alias = DEV };
	struct moat_region_desc regions[8];
	struct moat_sysdesc desc = { 0 };
	moat_status st;
	struct tfix f;

	/* 3 * 2 MiB + 3 * 4 KiB into each GiB: entry 3 of each new table (a planted link to protected
	 * memory in the device's pattern) */
	for (unsigned i = 0; i < N(regions); i++)
		regions[i] = (struct moat_region_desc){ MOAT_REGION_RMRR, 0, RMRR_RW, (128 + i) * G1 + 3 * M2 + 3 * K4,
							(128 + i) * G1 + 3 * M2 + 4 * K4 - 1, 0, 1, 0x48 + 0x20 * i };
	desc.regions = regions;
	desc.regions_cap = desc.regions_count = N(regions);
	desc.devsets = &devset;
	desc.devsets_cap = desc.devsets_count = 1;
	tfix_up(&f);
	assert_int_equal(moat_protect_host(&f.host, map, N(map), NULL, NULL), MOAT_OK);
	assert_int_equal(moat_domain_attach(&f.host, 0, DEV, NULL), MOAT_OK);

	st = moat_reserved_map(&f.host, &desc, 0, DEV, NULL);

	check_out_of_reach(&f);
	check_secret_untouched(&f);
	expect_ok(st, "eight RMRRs");
	for (unsigned i = 0; i < N(regions); i++)
		check_maps_only(&f.host, regions[i].base, K4);
	tfix_down(&f);
}

/*
 * Path: moat_protect_host() with a device already attached and several RAM runs needs more table
 * pages than the pool holds; the rest are fresh platform pages in RAM the build has mapped already
 * (the arena run comes first). The host domain must end up mapping RAM and nothing protected.
 */
static void protect_host_with_a_device_attached_builds_only_clean_tables(void **state)
{
	(void)state;
	struct moat_mem_range map[1 + 8];
	struct moat_host_report rep;
	struct moat_diag diag;
	moat_status st;
	struct tfix f;

	map[0] = (struct moat_mem_range)ARENA_RAM;
	/* runs above the arena, each in its own GiB, 4 KiB-aligned: two new tables each */
	for (unsigned i = 1; i < N(map); i++)
		map[i] = (struct moat_mem_range){ (8200 + i) * G1 + 3 * M2 + 3 * K4, 2 * K4, MOAT_MEM_RAM };
	tfix_up(&f);
	assert_int_equal(moat_domain_attach(&f.host, 0, DEV, NULL), MOAT_OK);   /* before the build */

	st = moat_protect_host(&f.host, map, N(map), &rep, &diag);
	if (st != MOAT_OK)
		fail_msg("moat_protect_host: %s: %s", moat_status_str(st), diag.msg);
	assert_true(rep.table_pages > MOAT_HOST_POOL);

	check_out_of_reach(&f);
	check_secret_untouched(&f);
	for (unsigned i = 1; i < N(map); i++)
		check_maps_only(&f.host, map[i].base, map[i].length);
	tfix_down(&f);
}

/* One test per run when a name is given (each is its own CTest entry: a crash stays its own). */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_pool_pages_prefilled_by_a_host_device_map_nothing),
		cmocka_unit_test(fresh_host_tables_of_an_operation_are_never_prefilled_by_a_host_device),
		cmocka_unit_test(protect_host_with_a_device_attached_builds_only_clean_tables),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
