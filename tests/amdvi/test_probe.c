/* SPDX-License-Identifier: BSD-2-Clause */
/* Probing a unit: features from the EFR, device-table sizing, aliases, negotiation, routing. */
#include "amdvi_test.h"

static void probe_decodes_a_qemu_like_unit(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);
	const struct moat_amdvi_caps *c = &u.caps;

	assert_int_equal(c->efr, EFR_QEMU);
	assert_int_equal(c->levels_max, 6);
	assert_int_equal(c->levels_mask, 0x7e);           /* 1 .. 6 levels */
	assert_int_equal(c->levels, 4);
	assert_int_equal(c->address_width, 48);
	assert_true(c->ia);
	assert_true(c->gt);
	assert_true(c->ppr);
	assert_true(c->pref);
	assert_true(c->ga);
	assert_true(c->he);
	assert_false(c->nx);
	assert_false(c->pc);
	assert_false(c->xt);
	assert_false(c->us);
	assert_int_equal(c->gats, 2);
	assert_false(c->coherent);                         /* no Coherent flag in the IVHD */
	assert_true(c->iotlb);
	assert_int_equal(u.iommu_rid, 0x0008);
	assert_int_equal(u.capability_offset, 0x40);
	assert_int_equal(u.ivhd_type, 0x10);
	assert_int_equal(u.efr_mmio, EFR_QEMU);
	assert_int_equal(u.efr_ivhd, 0);
	assert_int_equal(u.timeout_ns, TEST_TIMEOUT_NS);
	/* highest id 0x107 (behind the alias): 0x108 entries, three pages of 128 */
	assert_int_equal(u.dt_described, 0x108);
	assert_int_equal(u.dt_entries, 0x180);
	assert_int_equal(u.alias_count, 1);
	assert_int_equal(u.aliases[0].first, 0x100);
	assert_int_equal(u.aliases[0].last, 0x107);
	assert_int_equal(u.aliases[0].alias, 0xf0);
	assert_int_equal(u.dt_phys, 0);                    /* nothing allocated yet */
	/* probing writes nothing */
	assert_int_equal(s->nlog, 0);
	unit_teardown(&u, s);
}

static void probe_decodes_efr_variants(void **state)
{
	(void)state;
	static const struct {
		uint8_t ivhd_type;
		uint64_t mmio, image;
		uint32_t feature10;       /* IVHD 10h feature reporting field */
		uint64_t efr;             /* the EFR the unit uses */
		uint8_t levels_max;
		bool ia, gt, nx, pc, xt, us, he;
		uint8_t gats, pas_max;
	} cases[] = {
		{ 0x10, EFR_QEMU_NO_IA, 0, 0, EFR_QEMU_NO_IA, 6, false, true, false, false, false, false, true, 2, 0 },
		{ 0x10, EFR_HATS0_IA, 0, 0, EFR_HATS0_IA, 4, true, false, false, false, false, false, false, 0, 0 },
		{ 0x10, EFR_HATS1, 0, 0, EFR_HATS1, 5, false, false, false, false, false, false, false, 0, 0 },
		{ 0x10, EFR_MANY, 0, 0, EFR_MANY, 5, true, true, true, true, true, true, true, 3, 15 },
		/* no EFR register: the 10h feature field (IA bit 5, HATS 31:30 = 1, NX bit 1) stands in */
		{ 0x10, EFR_ZERO, 0, 0x40000022u, 0x448ull, 5, true, false, true, false, false, false, false, 0, 0 },
		/* 11h: register and image agree */
		{ 0x11, EFR_QEMU, EFR_QEMU, 0, EFR_QEMU, 6, true, true, false, false, false, false, true, 2, 0 },
		/* 11h: the image lacks IA, so the unit does not use it */
		{ 0x11, EFR_QEMU, EFR_QEMU_NO_IA, 0, EFR_QEMU_NO_IA, 6, false, true, false, false, false, false, true, 2, 0 },
		/* 40h: the image says HATS 0: the smaller size field wins */
		{ 0x40, EFR_QEMU, EFR_HATS0_IA, 0, EFR_HATS0_IA, 4, true, false, false, false, false, false, false, 0, 0 },
		/* 11h without a register: the image is taken */
		{ 0x11, EFR_ZERO, EFR_MANY, 0, EFR_MANY, 5, true, true, true, true, true, true, true, 3, 15 },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct moat_amdvi_unit u;
		struct test_desc t;

		td_qemu_like(&t, cases[i].ivhd_type, cases[i].image);
		t.units[0].ivhd_feature = cases[i].feature10;
		struct sim_amdvi *s = unit_setup_desc(&u, &t, 0, cases[i].mmio);
		const struct moat_amdvi_caps *c = &u.caps;

		if (c->efr != cases[i].efr)
			fail_msg("case %u: efr 0x%llx", i, (unsigned long long)c->efr);
		assert_int_equal(c->levels_max, cases[i].levels_max);
		assert_int_equal(c->levels_mask, ((1u << (cases[i].levels_max + 1)) - 2));
		assert_int_equal(c->ia, cases[i].ia);
		assert_int_equal(c->gt, cases[i].gt);
		assert_int_equal(c->nx, cases[i].nx);
		assert_int_equal(c->pc, cases[i].pc);
		assert_int_equal(c->xt, cases[i].xt);
		assert_int_equal(c->us, cases[i].us);
		assert_int_equal(c->he, cases[i].he);
		assert_int_equal(c->gats, cases[i].gats);
		assert_int_equal(c->pas_max, cases[i].pas_max);
		assert_int_equal(u.efr_ivhd, cases[i].ivhd_type == 0x10 ? 0 : cases[i].image);
		unit_teardown(&u, s);
	}
}

static void probe_reads_ivhd_flags(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;

	td_qemu_like(&t, 0x10, 0);
	t.units[0].ivhd_flags = IVHDF_COHERENT;
	struct sim_amdvi *s = unit_setup_desc(&u, &t, 0, EFR_QEMU);
	assert_true(u.caps.coherent);
	assert_false(u.caps.iotlb);
	unit_teardown(&u, s);
}

/* Every bad input returns a status and leaves the unit storage as it was. */
static void probe_rejects_bad_input_and_touches_nothing(void **state)
{
	(void)state;
	struct moat_amdvi_unit u, before;
	struct test_desc t;
	struct moat_diag diag;
	struct sim_amdvi *s = sim_amdvi_new(SIM_BASE, EFR_QEMU);

	memset(&u, 0x5a, sizeof(u));
	memcpy(&before, &u, sizeof(u));   /* padding too: compared byte for byte */
	td_qemu_like(&t, 0x10, 0);
#define PROBE(u) moat_amdvi_probe((u), &t.units[0], t.devsets, t.sys.devsets_count, &diag)
	assert_int_equal(PROBE(NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_probe(&u, NULL, t.devsets, 5, &diag), MOAT_ERR_INVALID_ARG);
	t.units[0].vendor = MOAT_VENDOR_VTD;
	assert_int_equal(PROBE(&u), MOAT_ERR_INVALID_ARG);
	t.units[0].vendor = MOAT_VENDOR_AMDVI;
	t.units[0].register_base = 0;
	assert_int_equal(PROBE(&u), MOAT_ERR_INVALID_ARG);
	t.units[0].register_base = SIM_BASE + 0x1000;     /* not 16 KiB aligned */
	assert_int_equal(PROBE(&u), MOAT_ERR_INVALID_ARG);
	assert_non_null(strstr(diag.msg, "16 KiB"));
	t.units[0].register_base = 0xfed00000ull;         /* nothing there */
	assert_int_equal(PROBE(&u), MOAT_ERR_HARDWARE);
	t.units[0].register_base = SIM_BASE;
	t.units[0].devset_count = 200;                    /* beyond the description's devsets */
	assert_int_equal(PROBE(&u), MOAT_ERR_MALFORMED);
	t.units[0].devset_count = 5;
	assert_int_equal(moat_amdvi_probe(&u, &t.units[0], NULL, 5, &diag), MOAT_ERR_MALFORMED);
	/* registers reading all ones */
	s->control = ~0ull;
	s->efr = ~0ull;
	assert_int_equal(PROBE(&u), MOAT_ERR_HARDWARE);
	assert_int_equal(diag.offset, 0x18);
	s->control = 0;
	/* reserved HATS */
	s->efr = EFR_HATS3;
	assert_int_equal(PROBE(&u), MOAT_ERR_HARDWARE);
	assert_non_null(strstr(diag.msg, "HATS"));
	assert_int_equal(diag.offset, 0x30);
	s->efr = EFR_QEMU;
	/* too many alias ranges */
	td_init(&t);
	td_unit(&t, SIM_BASE, 0x10, 0, 2, 0);
	for (unsigned i = 0; i <= MOAT_AMDVI_MAX_ALIASES; i++)
		td_devset(&t, (uint16_t)(0x100 + i), (uint16_t)(0x100 + i), 0xf0, MOAT_DEVSET_ALIASED);
	assert_int_equal(PROBE(&u), MOAT_ERR_NO_SPACE);
	assert_memory_equal(&u, &before, sizeof(u));
	assert_int_equal(s->nlog, 0);
	sim_amdvi_free(s);
#undef PROBE
}

/* The device table covers the highest id the description names, aliases and the IOMMU included. */
static void devtab_size_follows_the_highest_described_id(void **state)
{
	(void)state;
	static const struct {
		uint16_t first, last, alias;
		uint8_t flags;
		uint16_t iommu_rid;
		uint32_t unit_flags;
		uint32_t described, entries;
	} cases[] = {
		{ 0x0000, 0x00ff, 0x0000, 0, 0x0002, 0, 0x100, 0x100 },
		{ 0x0000, 0x007f, 0x0000, 0, 0x0002, 0, 0x80, 0x80 },           /* exactly one page */
		{ 0x0080, 0x0080, 0x0080, 0, 0x0002, 0, 0x81, 0x100 },          /* one over: two pages */
		{ 0x0020, 0x0021, 0x1234, MOAT_DEVSET_ALIASED, 0x0002, 0, 0x1235, 0x1280 }, /* the alias is highest */
		{ 0x0010, 0x0010, 0x0010, 0, 0x0300, 0, 0x301, 0x380 },         /* the IOMMU's own id is highest */
		{ 0x0010, 0x0010, 0x0010, 0, 0x0002, MOAT_UNIT_AMD_ALL, 0x10000, 0x10000 },
		{ 0xff00, 0xffff, 0xff00, 0, 0x0002, 0, 0x10000, 0x10000 },
		{ 0x0000, 0x0000, 0x0000, 0, 0x0000, 0, 0x2, 0x80 },            /* one page at least */
		{ 0x9000, 0x9000, 0x9000, MOAT_DEVSET_UNRESOLVED, 0x0002, 0, 0x3, 0x80 }, /* unresolved: ignored */
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct moat_amdvi_unit u;
		struct test_desc t;

		td_init(&t);
		td_unit(&t, SIM_BASE, 0x11, 0, cases[i].iommu_rid, EFR_QEMU);
		t.units[0].flags = cases[i].unit_flags;
		td_devset(&t, 0x0001, 0x0001, 0x0001, 0);
		td_devset(&t, cases[i].first, cases[i].last, cases[i].alias, cases[i].flags);
		struct sim_amdvi *s = unit_setup_desc(&u, &t, 0, EFR_QEMU);

		if (u.dt_described != cases[i].described || u.dt_entries != cases[i].entries)
			fail_msg("case %u: described 0x%x entries 0x%x", i, u.dt_described, u.dt_entries);
		assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
		assert_int_equal(sim_amdvi_dte_count(s), cases[i].entries);
		assert_int_equal(s->devtab & 0x1ff, cases[i].entries / 128 - 1);
		assert_int_equal(check_all_entries(s, NULL, 0), cases[i].entries);
		unit_teardown(&u, s);
	}
}

static void devtab_can_be_made_larger_before_it_exists(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);

	assert_int_equal(moat_amdvi_set_devtab_entries(&u, 65537, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(u.dt_entries, 0x180);
	assert_int_equal(moat_amdvi_set_devtab_entries(&u, 10, &diag), MOAT_OK);   /* never shrinks */
	assert_int_equal(u.dt_entries, 0x180);
	assert_int_equal(moat_amdvi_set_devtab_entries(&u, 65536, &diag), MOAT_OK);
	assert_int_equal(u.dt_entries, 65536);
	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	assert_int_equal(s->devtab & 0x1ff, 0x1ff);
	assert_int_equal(check_all_entries(s, NULL, 0), 65536);
	assert_int_equal(moat_amdvi_set_devtab_entries(&u, 65536, &diag), MOAT_ERR_STATE);
	unit_teardown(&u, s);
	assert_int_equal(moat_amdvi_set_devtab_entries(&u, 10, NULL), MOAT_ERR_STATE);   /* unprobed */
}

static void device_id_follows_the_alias_entries(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);

	assert_int_equal(moat_amdvi_device_id(&u, 0x0010), 0x0010);
	assert_int_equal(moat_amdvi_device_id(&u, 0x0100), 0x00f0);
	assert_int_equal(moat_amdvi_device_id(&u, 0x0107), 0x00f0);
	assert_int_equal(moat_amdvi_device_id(&u, 0x0108), 0x0108);
	assert_int_equal(moat_amdvi_device_id(NULL, 0x0100), 0x0100);
	unit_teardown(&u, s);
}

static void negotiate_takes_what_every_unit_has(void **state)
{
	(void)state;
	struct moat_amdvi_unit u[3];
	struct test_desc t;
	struct sim_amdvi *s[3];
	static const uint64_t efrs[3] = { EFR_QEMU, EFR_MANY, EFR_HATS0_IA };
	struct moat_amdvi_caps c;
	struct moat_diag diag;

	td_init(&t);
	for (unsigned i = 0; i < 3; i++) {
		td_unit(&t, SIM_BASE + i * 0x4000ull, 0x10, i == 1 ? 0 : IVHDF_COHERENT, (uint16_t)(2 + i), 0);
		td_devset(&t, (uint16_t)(0x10 * (i + 1)), (uint16_t)(0x10 * (i + 1)), (uint16_t)(0x10 * (i + 1)), 0);
	}
	for (unsigned i = 0; i < 3; i++)
		s[i] = unit_setup_desc(&u[i], &t, i, efrs[i]);
	struct moat_amdvi_unit *const all[3] = { &u[0], &u[1], &u[2] };

	assert_int_equal(moat_amdvi_negotiate(all, 3, 48, &c, &diag), MOAT_OK);
	assert_int_equal(c.levels_max, 4);
	assert_int_equal(c.levels_mask, 0x1e);
	assert_int_equal(c.levels, 4);
	assert_int_equal(c.address_width, 48);
	assert_true(c.ia);
	assert_false(c.gt);                /* the HATS0 unit lacks it */
	assert_false(c.coherent);          /* unit 1 is not coherent */
	assert_int_equal(c.efr, 0);
	assert_int_equal(moat_amdvi_negotiate(all, 3, 39, &c, &diag), MOAT_OK);
	assert_int_equal(c.levels, 3);
	assert_int_equal(c.address_width, 39);
	assert_int_equal(moat_amdvi_negotiate(all, 3, 64, &c, &diag), MOAT_OK);
	assert_int_equal(c.levels, 4);     /* nothing covers 64 bits: the most every unit walks */
	assert_int_equal(moat_amdvi_negotiate(all, 2, 64, &c, &diag), MOAT_OK);
	assert_int_equal(c.levels, 5);
	assert_int_equal(c.address_width, 57);
	assert_int_equal(moat_amdvi_negotiate(all, 1, 64, &c, &diag), MOAT_OK);
	assert_int_equal(c.levels, 6);
	assert_int_equal(c.address_width, 64);
	assert_int_equal(moat_amdvi_negotiate(NULL, 3, 48, &c, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_negotiate(all, 0, 48, &c, &diag), MOAT_ERR_INVALID_ARG);
	for (unsigned i = 0; i < 3; i++)
		unit_teardown(&u[i], s[i]);
	assert_int_equal(moat_amdvi_negotiate(all, 3, 48, &c, &diag), MOAT_ERR_INVALID_ARG);   /* unprobed */
}

static void routes_find_the_unit_of_a_device(void **state)
{
	(void)state;
	struct test_desc t;
	uint32_t idx = 99;

	td_init(&t);
	td_unit(&t, SIM_BASE, 0x10, 0, 0x02, 0);
	td_devset(&t, 0x0010, 0x0017, 0x0010, 0);
	td_devset(&t, 0x0300, 0x0301, 0x0280, MOAT_DEVSET_ALIASED);
	td_unit(&t, SIM_BASE2, 0x10, 0, 0x42, 0);
	t.units[1].flags = MOAT_UNIT_AMD_ALL | MOAT_UNIT_INCLUDE_ALL;
	td_devset(&t, 0x0400, 0x0400, 0x0400, 0);

	assert_int_equal(moat_amdvi_routes(&t.sys, 0, 0x0013, &idx), MOAT_OK);
	assert_int_equal(idx, 0);
	assert_int_equal(moat_amdvi_routes(&t.sys, 0, 0x0280, &idx), MOAT_OK);   /* an alias target */
	assert_int_equal(idx, 0);
	assert_int_equal(moat_amdvi_routes(&t.sys, 0, 0x0400, &idx), MOAT_OK);
	assert_int_equal(idx, 1);
	assert_int_equal(moat_amdvi_routes(&t.sys, 0, 0x0999, &idx), MOAT_OK);   /* "all" unit */
	assert_int_equal(idx, 1);
	assert_int_equal(moat_amdvi_routes(&t.sys, 1, 0x0013, &idx), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_amdvi_routes(NULL, 0, 0x0013, &idx), MOAT_ERR_INVALID_ARG);
	t.units[0].devset_first = 300;
	assert_int_equal(moat_amdvi_routes(&t.sys, 0, 0x0013, &idx), MOAT_ERR_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(probe_decodes_a_qemu_like_unit),
		cmocka_unit_test(probe_decodes_efr_variants),
		cmocka_unit_test(probe_reads_ivhd_flags),
		cmocka_unit_test(probe_rejects_bad_input_and_touches_nothing),
		cmocka_unit_test(devtab_size_follows_the_highest_described_id),
		cmocka_unit_test(devtab_can_be_made_larger_before_it_exists),
		cmocka_unit_test(device_id_follows_the_alias_entries),
		cmocka_unit_test(negotiate_takes_what_every_unit_has),
		cmocka_unit_test(routes_find_the_unit_of_a_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
