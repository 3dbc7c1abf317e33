/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hostile device of tests/support/hostile.h, checked against the null unit: it reaches what the
 * host domain maps and nothing Moat took out, it writes into pages as the platform hands them out
 * while it reaches them, what an invalidation has not covered yet stays within its reach, and a
 * page Moat zeroes after taking it out keeps nothing of what it wrote.
 */
#include "core_test.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define DEV MOAT_RID(0, 2, 0)
#define OTHER MOAT_RID(0, 3, 0)

struct hfix {
	struct moat_system *sys;
	struct null_unit nu;
	struct moat_domain host;
	struct moat_domain guest;
};

#define SPLIT 0x300000ull        /* a 4 KiB table of the host domain exists here */
#define GUEST_PHYS 0x50000000ull /* what the guest domain maps: not host RAM */

/*
 * A host domain over low RAM and the arena, a guest domain with a device, and (@attach) the
 * hostile device in the host domain. Everything that takes table pages for the host domain happens
 * before the device is there: these tests check the device model, not how Moat refills its pool.
 */
static void hfix_up(struct hfix *f, bool attach)
{
	uint64_t phys[8];
	void *virt[8];
	const struct moat_mem_range map[] = {
		{ 0, G1, MOAT_MEM_RAM },
		{ MOAT_HOSTED_PHYS_BASE, MOAT_HOSTED_ARENA_BYTES, MOAT_MEM_RAM },
	};

	memset(f, 0, sizeof(*f));
	f->sys = t_system(ALL_SIZES);
	nu_init(&f->nu, 0, -1);
	assert_int_equal(moat_system_add_unit(f->sys, &f->nu.unit), MOAT_OK);
	assert_int_equal(moat_domain_create(f->sys, &f->host), MOAT_OK);
	assert_int_equal(moat_protect_host(&f->host, map, N(map), NULL, NULL), MOAT_OK);
	/* pages Moat will take again come from the platform's free list, in split regions */
	for (unsigned i = 0; i < N(phys); i++)
		assert_non_null(virt[i] = moat_page_alloc(f->sys, &phys[i]));
	for (unsigned i = N(phys); i-- > 0;)
		moat_page_free(f->sys, virt[i], phys[i]);
	assert_int_equal(moat_domain_unmap(&f->host, SPLIT + 2 * K4, K4, NULL), MOAT_OK);
	assert_int_equal(moat_domain_create(f->sys, &f->guest), MOAT_OK);
	assert_int_equal(moat_domain_map(&f->guest, 0x100000, GUEST_PHYS, K4, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_domain_attach(&f->guest, 0, OTHER, NULL), MOAT_OK);
	if (attach)
		assert_int_equal(moat_domain_attach(&f->host, 0, DEV, NULL), MOAT_OK);
	hostile_start();
	hostile_set_rate(0);
}

static void hfix_down(struct hfix *f, bool attached)
{
	hostile_stop();
	if (attached)
		assert_int_equal(moat_domain_detach(f->sys, 0, DEV, NULL), MOAT_OK);
	assert_int_equal(moat_domain_detach(f->sys, 0, OTHER, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&f->guest), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&f->host), MOAT_OK);
	t_system_free(f->sys);
}

static void the_device_reaches_what_the_host_domain_maps_once_attached(void **state)
{
	(void)state;
	struct hfix f;
	unsigned perm = 0;

	hfix_up(&f, false);
	/* no device in the host domain yet: no reach, nothing written */
	assert_false(hostile_reaches(0x100000, NULL));
	assert_int_equal(hostile_check(f.sys), 0);
	assert_int_equal(moat_domain_attach(&f.host, 0, DEV, NULL), MOAT_OK);
	assert_true(hostile_reaches(0x100000, &perm));
	assert_int_equal(perm, MOAT_PT_RW);
	assert_false(hostile_reaches(f.host.pt.root_phys, NULL));   /* Moat's own */
	assert_false(hostile_reaches(2 * G1, NULL));                  /* not RAM */
	assert_int_equal(hostile_check(f.sys), 0);
	hfix_down(&f, true);
}

static void pages_moat_takes_out_and_zeroes_keep_nothing_of_the_device(void **state)
{
	(void)state;
	struct hfix f;
	uint64_t phys[4];
	void *virt[4];

	hfix_up(&f, true);
	hostile_set_content(HOSTILE_GARBAGE);
	for (unsigned i = 0; i < N(phys); i++) {
		virt[i] = moat_page_alloc(f.sys, &phys[i]);
		assert_non_null(virt[i]);
		assert_false(hostile_left_behind(phys[i]));    /* zeroed once out of the host domain */
		assert_false(hostile_reaches(phys[i], NULL));
	}
	assert_int_equal(hostile_check(f.sys), 0);
	for (unsigned i = 0; i < N(phys); i++)
		moat_page_free(f.sys, virt[i], phys[i]);
	assert_int_equal(hostile_check(f.sys), 0);
	hfix_down(&f, true);
}

static void a_page_used_as_the_device_left_it_is_found(void **state)
{
	(void)state;
	struct hfix f;
	uint64_t phys;
	void *virt;

	hfix_up(&f, true);
	hostile_set_content(HOSTILE_VTD_SL);
	/* a page straight from the platform, never taken out of the host domain: what Moat must not do */
	virt = moat_plat_page_alloc(&phys);
	assert_non_null(virt);
	assert_true(hostile_wrote(phys));
	assert_true(hostile_left_behind(phys));
	assert_true(hostile_reaches(phys, NULL));
	assert_true(hostile_check(f.sys) >= 1);   /* within reach (and not in use: no leftover reported) */
	hostile_ignore_page(phys);
	assert_int_equal(hostile_check(f.sys), 0);
	moat_plat_page_free(virt, phys);
	hfix_down(&f, true);
}

static void what_no_invalidation_covered_stays_within_reach(void **state)
{
	(void)state;
	const uint64_t a = SPLIT;
	struct hfix f;

	hfix_up(&f, true);
	assert_true(hostile_reaches(a, NULL));
	/* the unit fails to invalidate: the page leaves the tables but not the device's reach */
	f.nu.fail_inval = MOAT_ERR_TIMEOUT;
	assert_int_equal(moat_domain_unmap(&f.host, a, K4, NULL), MOAT_ERR_TIMEOUT);
	f.nu.fail_inval = MOAT_OK;
	assert_int_equal(moat_domain_translate(&f.host, a, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	assert_true(hostile_reaches(a, NULL));
	assert_true(hostile_reaches(a + K4, NULL));
	/* the next invalidation that completes drops it */
	assert_int_equal(moat_flush_all(f.sys, NULL), MOAT_OK);
	assert_false(hostile_reaches(a, NULL));
	assert_true(hostile_reaches(a + K4, NULL));
	assert_int_equal(hostile_check(f.sys), 0);
	hfix_down(&f, true);
}

static void another_domains_devices_are_not_the_device(void **state)
{
	(void)state;
	struct hfix f;
	uint32_t rids[4];

	hfix_up(&f, true);
	assert_int_equal(hostile_requesters(&f.nu.unit, rids, N(rids)), 2);
	assert_false(hostile_reaches(GUEST_PHYS, NULL));   /* only the guest's device reaches it */
	assert_true(hostile_reaches(0x100000, NULL));      /* through the host domain */
	assert_int_equal(hostile_check(f.sys), 0);
	hfix_down(&f, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_device_reaches_what_the_host_domain_maps_once_attached),
		cmocka_unit_test(pages_moat_takes_out_and_zeroes_keep_nothing_of_the_device),
		cmocka_unit_test(a_page_used_as_the_device_left_it_is_found),
		cmocka_unit_test(what_no_invalidation_covered_stays_within_reach),
		cmocka_unit_test(another_domains_devices_are_not_the_device),
	};

	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
