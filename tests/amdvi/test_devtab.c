/* SPDX-License-Identifier: BSD-2-Clause */
/* The device table: every entry valid, attach and detach bits, aliases, invalidations, bad input. */
#include <dirent.h>

#include "amdvi_test.h"

#include <moat/ivrs.h>

#define ROOT_A 0x7f000123000ull
#define ROOT_B 0x7f000456000ull

/* The entry an attach must produce, from the layout of section 2.2.2.1. */
static uint64_t attached_q0(uint64_t root, unsigned levels)
{
	return DTE_V | DTE_TV | DTE_MODE(levels) | root | DTE_IR | DTE_IW;
}

static void every_entry_is_valid_and_blocking_after_enable(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);

	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	assert_int_equal(check_all_entries(s, NULL, 0), 0x180);
	/* and the IOMMU blocks every described device */
	static const uint16_t ids[] = { 0x0000, 0x0010, 0x0018, 0x00a0, 0x00f0, 0x0100, 0x0107, 0x017f };
	for (unsigned i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_int_equal(sim_amdvi_request(s, ids[i], NULL), SIM_REQ_BLOCKED);
	unit_teardown(&u, s);
}

static void attach_writes_the_spec_layout_and_invalidates(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);
	uint64_t used[2];

	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	/* the IOMMU caches the blocking entry ... */
	assert_int_equal(sim_amdvi_request(s, 0x10, NULL), SIM_REQ_BLOCKED);
	unsigned mark = s->ncmds;
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 0x1234, ROOT_A, 4, &diag), MOAT_OK);

	const uint64_t *e = sim_amdvi_dte(s, 0x10);
	assert_int_equal(e[0], attached_q0(ROOT_A, 4));
	assert_int_equal(e[1], 0x1234);
	assert_int_equal(e[2], 0);
	assert_int_equal(e[3], 0);
	const uint16_t att[] = { 0x10 };
	check_all_entries(s, att, 1);
	/* INVALIDATE_DEVTAB_ENTRY(0x10), INVALIDATE_IOMMU_PAGES(0x1234, all, PDE), COMPLETION_WAIT */
	assert_int_equal(s->ncmds - mark, 3);
	assert_int_equal(s->cmds[mark][0], (2ull << 60) | 0x10);
	assert_int_equal(s->cmds[mark][1], 0);
	assert_int_equal(s->cmds[mark + 1][0], (3ull << 60) | (0x1234ull << 32));
	assert_int_equal(s->cmds[mark + 1][1], 0x7ffffffffffff000ull | 1 | 2);
	assert_int_equal(s->cmds[mark + 2][0] >> 60, 1);
	/* ... and sees the new entry because it was invalidated */
	assert_int_equal(sim_amdvi_request(s, 0x10, used), SIM_REQ_TRANSLATED);
	assert_int_equal(used[1] & 0xffff, 0x1234);

	struct moat_amdvi_dte d;
	assert_int_equal(moat_amdvi_dte_get(&u, 0x10, &d), MOAT_OK);
	assert_true(d.valid && d.translated && d.read && d.write);
	assert_int_equal(d.levels, 4);
	assert_int_equal(d.did, 0x1234);
	assert_int_equal(d.root_phys, ROOT_A);
	assert_int_equal(d.raw[0], attached_q0(ROOT_A, 4));
	/* every level count the unit walks is accepted and encoded in Mode */
	for (unsigned l = 1; l <= 6; l++) {
		assert_int_equal(moat_amdvi_attach(&u, 0x18, 7, ROOT_B, l, &diag), MOAT_OK);
		assert_int_equal(sim_amdvi_dte(s, 0x18)[0], attached_q0(ROOT_B, l));
	}
	assert_int_equal(s->illegal_cmds, 0);
	unit_teardown(&u, s);
}

static void detach_puts_the_blocking_entry_back(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);

	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_amdvi_attach(&u, 0x18, 42, ROOT_A, 3, &diag), MOAT_OK);
	assert_int_equal(sim_amdvi_request(s, 0x18, NULL), SIM_REQ_TRANSLATED);
	unsigned mark = s->ncmds;
	assert_int_equal(moat_amdvi_detach(&u, 0x18, &diag), MOAT_OK);
	const uint64_t *e = sim_amdvi_dte(s, 0x18);
	assert_int_equal(e[0], DTE_V);
	assert_int_equal(e[1], 0);
	check_all_entries(s, NULL, 0);
	assert_int_equal(s->ncmds - mark, 3);
	assert_int_equal(s->cmds[mark][0], (2ull << 60) | 0x18);
	assert_int_equal(s->cmds[mark + 1][0], (3ull << 60) | (42ull << 32));
	assert_int_equal(s->cmds[mark + 1][1], 0x7ffffffffffff003ull);
	assert_int_equal(s->cmds[mark + 2][0] >> 60, 1);
	assert_int_equal(sim_amdvi_request(s, 0x18, NULL), SIM_REQ_BLOCKED);
	/* detaching again: nothing to detach, nothing sent */
	mark = s->ncmds;
	assert_int_equal(moat_amdvi_detach(&u, 0x18, &diag), MOAT_ERR_NOT_FOUND);
	assert_int_equal(s->ncmds, mark);
	unit_teardown(&u, s);
}

/* The new domain is invalidated, and the one the device leaves too (an IOMMU that tags cached
 * translations by device keeps them across the entry change otherwise). */
static void replacing_a_domain_ends_in_the_new_one_and_invalidates_the_old(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);
	uint64_t used[2];

	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 5, ROOT_A, 4, NULL), MOAT_OK);
	assert_int_equal(sim_amdvi_request(s, 0x10, used), SIM_REQ_TRANSLATED);
	unsigned mark = s->ncmds;
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 7, ROOT_B, 3, NULL), MOAT_OK);
	assert_int_equal(sim_amdvi_dte(s, 0x10)[0], attached_q0(ROOT_B, 3));
	assert_int_equal(sim_amdvi_dte(s, 0x10)[1], 7);
	assert_int_equal(sim_amdvi_request(s, 0x10, used), SIM_REQ_TRANSLATED);
	assert_int_equal(used[0], attached_q0(ROOT_B, 3));
	assert_int_equal(used[1], 7);
	assert_int_equal(s->cmds[mark][0], (2ull << 60) | 0x10);
	assert_int_equal(s->cmds[mark + 1][0], (3ull << 60) | (7ull << 32));
	assert_int_equal(s->cmds[mark + 2][0], (3ull << 60) | (5ull << 32));
	assert_int_equal(s->cmds[mark + 2][1], 0x7ffffffffffff000ull | 3);   /* whole domain, S and PDE */
	assert_int_equal(sim_amdvi_count_cmds(s, 3, mark), 2);
	/* the same attach again changes nothing in the table, and invalidates that domain only */
	uint64_t before[4];
	memcpy(before, sim_amdvi_dte(s, 0x10), sizeof(before));
	mark = s->ncmds;
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 7, ROOT_B, 3, NULL), MOAT_OK);
	assert_memory_equal(before, sim_amdvi_dte(s, 0x10), sizeof(before));
	assert_int_equal(sim_amdvi_count_cmds(s, 3, mark), 1);
	unit_teardown(&u, s);
}

/* 0x100..0x107 are seen by the IOMMU as 0xf0: the alias's entry is the one that matters. */
static void aliased_devices_attach_through_the_alias_entry(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);
	uint16_t group[9];

	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	assert_int_equal(sim_amdvi_request(s, 0xf0, NULL), SIM_REQ_BLOCKED);
	unsigned mark = s->ncmds;
	assert_int_equal(moat_amdvi_attach(&u, 0x103, 9, ROOT_A, 4, &diag), MOAT_OK);
	/* the alias's entry and the own entry of every member of the group */
	group[0] = 0xf0;
	for (unsigned i = 0; i < 8; i++)
		group[i + 1] = (uint16_t)(0x100 + i);
	for (unsigned i = 0; i < 9; i++) {
		assert_int_equal(sim_amdvi_dte(s, group[i])[0], attached_q0(ROOT_A, 4));
		assert_int_equal(sim_amdvi_dte(s, group[i])[1], 9);
	}
	check_all_entries(s, group, 9);
	/* the alias's entry invalidated first, then every member's, then the domain */
	assert_int_equal(s->cmds[mark][0], (2ull << 60) | 0xf0);
	assert_int_equal(sim_amdvi_count_cmds(s, 2, mark), 9);
	assert_int_equal(sim_amdvi_count_cmds(s, 3, mark), 1);
	assert_int_equal(sim_amdvi_request(s, 0xf0, NULL), SIM_REQ_TRANSLATED);

	/* detaching another member blocks the whole group */
	mark = s->ncmds;
	assert_int_equal(moat_amdvi_detach(&u, 0x106, &diag), MOAT_OK);
	check_all_entries(s, NULL, 0);
	assert_int_equal(sim_amdvi_count_cmds(s, 2, mark), 9);
	assert_int_equal(sim_amdvi_request(s, 0xf0, NULL), SIM_REQ_BLOCKED);
	/* attaching the alias id itself moves the group too */
	assert_int_equal(moat_amdvi_attach(&u, 0xf0, 11, ROOT_B, 4, &diag), MOAT_OK);
	assert_int_equal(sim_amdvi_dte(s, 0x107)[1], 11);
	assert_int_equal(moat_amdvi_detach(&u, 0xf0, &diag), MOAT_OK);
	check_all_entries(s, NULL, 0);
	unit_teardown(&u, s);
}

static void attach_before_enable_writes_the_table_only(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_amdvi_dte d;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);

	assert_int_equal(moat_amdvi_dte_get(&u, 0x10, &d), MOAT_OK);   /* before the table exists */
	assert_true(d.valid);
	assert_false(d.translated);
	assert_int_equal(d.raw[0], DTE_V);
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 3, ROOT_A, 4, NULL), MOAT_OK);
	assert_int_equal(s->nlog, 0);
	assert_int_equal(s->ncmds, 0);
	assert_int_not_equal(u.dt_phys, 0);
	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	const uint16_t att[] = { 0x10 };
	check_all_entries(s, att, 1);
	assert_int_equal(sim_amdvi_request(s, 0x10, NULL), SIM_REQ_TRANSLATED);
	/* detach before enable after a disable: table only again */
	assert_int_equal(moat_amdvi_disable(&u, NULL), MOAT_OK);
	unsigned mark = s->ncmds;
	assert_int_equal(moat_amdvi_detach(&u, 0x10, NULL), MOAT_OK);
	assert_int_equal(s->ncmds, mark);
	check_all_entries(s, NULL, 0);
	unit_teardown(&u, s);
}

/* Every bad argument returns a status and changes nothing: table, registers, commands. */
static void bad_arguments_change_nothing(void **state)
{
	(void)state;
	struct moat_amdvi_unit u, unprobed;
	struct test_desc t;
	struct moat_diag diag;
	struct moat_amdvi_dte d;

	td_qemu_like(&t, 0x10, 0);
	struct sim_amdvi *s = unit_setup_desc(&u, &t, 0, EFR_HATS0_IA);   /* at most 4 levels */
	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_amdvi_attach(&u, 0x18, 2, ROOT_A, 4, NULL), MOAT_OK);

	size_t bytes = 0x180 * 32;
	uint8_t *table = malloc(bytes);
	memcpy(table, sim_amdvi_dte(s, 0), bytes);
	unsigned nlog = s->nlog, ncmds = s->ncmds;
	struct moat_amdvi_unit copy;

	memcpy(&copy, &u, sizeof(u));   /* padding too: compared byte for byte */

	assert_int_equal(moat_amdvi_attach(&u, 0x180, 2, ROOT_A, 4, &diag), MOAT_ERR_INVALID_ARG);  /* beyond the table */
	assert_non_null(strstr(diag.msg, "beyond the device table"));
	assert_int_equal(moat_amdvi_attach(&u, 0x10000, 2, ROOT_A, 4, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 0, ROOT_A, 4, &diag), MOAT_ERR_INVALID_ARG);    /* did 0 */
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 0x10000, ROOT_A, 4, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 2, ROOT_A, 0, &diag), MOAT_ERR_UNSUPPORTED);
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 2, ROOT_A, 5, &diag), MOAT_ERR_UNSUPPORTED);   /* HATS 0 */
	assert_non_null(strstr(diag.msg, "HATS"));
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 2, ROOT_A, 7, &diag), MOAT_ERR_UNSUPPORTED);
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 2, 0, 4, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 2, ROOT_A + 8, 4, &diag), MOAT_ERR_ALIGNMENT);
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 2, 1ull << 52, 4, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_detach(&u, 0x180, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_detach(&u, 0x10, &diag), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_amdvi_dte_get(&u, 0x180, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_dte_get(&u, 0x10, NULL), MOAT_ERR_INVALID_ARG);
	memset(&unprobed, 0, sizeof(unprobed));
	assert_int_equal(moat_amdvi_attach(&unprobed, 0x10, 2, ROOT_A, 4, &diag), MOAT_ERR_STATE);
	assert_int_equal(moat_amdvi_attach(NULL, 0x10, 2, ROOT_A, 4, &diag), MOAT_ERR_STATE);
	assert_int_equal(moat_amdvi_detach(&unprobed, 0x10, &diag), MOAT_ERR_STATE);
	assert_int_equal(moat_amdvi_dte_get(&unprobed, 0x10, &d), MOAT_ERR_STATE);

	assert_memory_equal(table, sim_amdvi_dte(s, 0), bytes);
	assert_int_equal(s->nlog, nlog);
	assert_int_equal(s->ncmds, ncmds);
	assert_memory_equal(&copy, &u, sizeof(u));
	free(table);
	unit_teardown(&u, s);
}

/* Real IVRS tables: each unit's table covers what the firmware describes, every entry valid. */
static void corpus_units_get_a_complete_valid_table(void **state)
{
	(void)state;
	char dir[512];
	DIR *dp;
	struct dirent *de;
	unsigned tables = 0, units = 0;

	snprintf(dir, sizeof(dir), "%s/ivrs", MOAT_CORPUS_DIR);
	dp = opendir(dir);
	if (!dp)
		skip();
	while ((de = readdir(dp))) {
		size_t n = strlen(de->d_name);
		if (n < 9 || strcmp(de->d_name + n - 9, ".ivrs.dat"))
			continue;
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		static uint8_t buf[1 << 16];
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);

		static struct moat_unit_desc ud[32];
		static struct moat_devset ds[4096];
		static struct moat_special_desc sp[256];
		static struct moat_region_desc rg[256];
		struct moat_sysdesc sys = { .units = ud, .units_cap = 32, .devsets = ds, .devsets_cap = 4096,
					    .specials = sp, .specials_cap = 256, .regions = rg, .regions_cap = 256 };
		if (moat_acpi_describe_ivrs(buf, len, &sys, NULL) != MOAT_OK)
			continue;   /* broken tables are the parser tests' business */
		tables++;
		for (uint32_t i = 0; i < sys.units_count; i++) {
			struct moat_amdvi_unit u;
			struct sim_amdvi *s = sim_amdvi_new(ud[i].register_base, EFR_QEMU);
			struct moat_diag diag;

			if (moat_amdvi_probe(&u, &ud[i], ds, sys.devsets_count, &diag) != MOAT_OK)
				fail_msg("%s unit %u: %s", de->d_name, i, diag.msg);
			u.timeout_ns = TEST_TIMEOUT_NS;
			/* the highest id named by the unit's devsets is inside the table */
			uint32_t high = ud[i].iommu_rid;
			for (uint32_t k = 0; k < ud[i].devset_count; k++) {
				const struct moat_devset *d = &ds[ud[i].devset_first + k];
				high = d->last > high ? d->last : high;
				high = d->alias > high ? d->alias : high;
			}
			if (ud[i].flags & MOAT_UNIT_AMD_ALL)
				high = 0xffff;
			assert_true(u.dt_entries > high);
			assert_true(u.dt_entries - high <= 128);
			assert_int_equal(moat_amdvi_enable(&u, &diag), MOAT_OK);
			assert_int_equal(check_all_entries(s, NULL, 0), u.dt_entries);
			units++;
			unit_teardown(&u, s);
		}
	}
	closedir(dp);
	assert_true(tables >= 30);
	assert_true(units >= tables);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_entry_is_valid_and_blocking_after_enable),
		cmocka_unit_test(attach_writes_the_spec_layout_and_invalidates),
		cmocka_unit_test(detach_puts_the_blocking_entry_back),
		cmocka_unit_test(replacing_a_domain_ends_in_the_new_one_and_invalidates_the_old),
		cmocka_unit_test(aliased_devices_attach_through_the_alias_entry),
		cmocka_unit_test(attach_before_enable_writes_the_table_only),
		cmocka_unit_test(bad_arguments_change_nothing),
		cmocka_unit_test(corpus_units_get_a_complete_valid_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
