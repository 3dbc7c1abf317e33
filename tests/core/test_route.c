/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Routing: one rule for the core (moat_unit_route()), both drivers (moat_vtd_routes(),
 * moat_amdvi_routes()) and reserved regions (moat_region_names()): device ranges, aliased sets
 * (the alias names the set), unresolved sets (they name nobody) and include-all units, on either
 * vendor; devices attach through the core by any id the rule routes, the alias included.
 */
#include "core_test.h"

#include <moat/amdvi.h>
#include <moat/vtd.h>

#define ALIAS 0x00f0u        /* what the IOMMU sees of 01:00.0-01:00.7 */
#define NONE UINT32_MAX

struct rdesc {
	struct moat_unit_desc units[3];
	struct moat_devset devsets[4];
	struct moat_region_desc regions[3];
	struct moat_sysdesc desc;
};

/*
 * Unit 0 (segment 0): 00:02.0-00:02.7, 01:00.0-01:00.7 seen as ALIAS, and a set that could not be
 * resolved (it claims 00:05.0). Unit 1 (segment 0): nothing (include-all when @all1). Unit 2
 * (segment 1): includes all, and names 02:00.0. Regions (below 2 MiB: inside every configuration's
 * IOVA space): one for the aliased set, one for the unresolved set, one for the range.
 */
static void rdesc_init(struct rdesc *r, enum moat_vendor v, bool all1)
{
	const uint32_t all = v == MOAT_VENDOR_AMDVI ? MOAT_UNIT_AMD_ALL | MOAT_UNIT_INCLUDE_ALL : MOAT_UNIT_INCLUDE_ALL;
	const enum moat_region_kind kind = v == MOAT_VENDOR_AMDVI ? MOAT_REGION_IVMD_SELECT : MOAT_REGION_RMRR;
	const uint32_t rflags = MOAT_REGION_UNITY | MOAT_REGION_READ | MOAT_REGION_WRITE;

	memset(r, 0, sizeof(*r));
	r->devsets[0] = (struct moat_devset){ .segment = 0, .first = 0x10, .last = 0x17, .alias = 0x10 };
	r->devsets[1] = (struct moat_devset){ .segment = 0, .first = 0x100, .last = 0x107, .alias = ALIAS,
					      .flags = MOAT_DEVSET_ALIASED };
	r->devsets[2] = (struct moat_devset){ .segment = 0, .first = 0x28, .last = 0x28, .alias = 0x28,
					      .flags = MOAT_DEVSET_UNRESOLVED };
	r->devsets[3] = (struct moat_devset){ .segment = 1, .first = 0x200, .last = 0x200, .alias = 0x200 };
	r->units[0] = (struct moat_unit_desc){ .vendor = v, .segment = 0, .devset_first = 0, .devset_count = 3 };
	r->units[1] = (struct moat_unit_desc){ .vendor = v, .segment = 0, .flags = all1 ? all : 0, .devset_first = 3 };
	r->units[2] = (struct moat_unit_desc){ .vendor = v, .segment = 1, .flags = all, .devset_first = 3,
					       .devset_count = 1 };
	r->regions[0] = (struct moat_region_desc){ kind, 0, rflags, 0x100000, 0x100fff, 1, 1, 0x40 };
	r->regions[1] = (struct moat_region_desc){ kind, 0, rflags, 0x140000, 0x140fff, 2, 1, 0x60 };
	r->regions[2] = (struct moat_region_desc){ kind, 0, rflags, 0x180000, 0x180fff, 0, 1, 0x80 };
	r->desc = (struct moat_sysdesc){ .vendor = v, .units = r->units, .units_cap = 3, .units_count = 3,
					 .devsets = r->devsets, .devsets_cap = 4, .devsets_count = 4,
					 .regions = r->regions, .regions_cap = 3, .regions_count = 3 };
}

struct rcase {
	uint16_t segment, rid;
	uint32_t unit;           /* description index of the unit, or NONE */
	bool region[3];          /* which regions name the device */
};

static moat_status driver_routes(const struct moat_sysdesc *d, uint16_t segment, uint16_t rid, uint32_t *unit)
{
	return d->vendor == MOAT_VENDOR_AMDVI ? moat_amdvi_routes(d, segment, rid, unit)
					      : moat_vtd_routes(d, segment, rid, unit);
}

/* Every party gives the case's answer; @nu[i] is the core's unit of description entry i. */
static void check_case(struct rdesc *r, struct moat_system *sys, struct null_unit *nu, const struct rcase *c)
{
	const char *vendor = r->desc.vendor == MOAT_VENDOR_AMDVI ? "AMD-Vi" : "VT-d";
	struct moat_unit *core = moat_unit_route(sys, c->segment, c->rid);
	uint32_t drv = 99, neutral = 99;
	moat_status st = driver_routes(&r->desc, c->segment, c->rid, &drv);
	moat_status sn = moat_sysdesc_route(&r->desc, MOAT_VENDOR_NONE, c->segment, c->rid, &neutral);

	if (c->unit == NONE) {
		if (st != MOAT_ERR_NOT_FOUND || sn != MOAT_ERR_NOT_FOUND || core)
			fail_msg("%s %04x:%04x: routed (driver %d/%u, description %d/%u, core %p), expected no unit",
				 vendor, c->segment, c->rid, st, drv, sn, neutral, (void *)core);
	} else if (st != MOAT_OK || drv != c->unit || sn != MOAT_OK || neutral != c->unit ||
		   core != &nu[c->unit].unit) {
		fail_msg("%s %04x:%04x: driver %d/%u, description %d/%u, core %p; expected unit %u (%p)", vendor,
			 c->segment, c->rid, st, drv, sn, neutral, (void *)core, c->unit, (void *)&nu[c->unit].unit);
	}
	for (unsigned k = 0; k < 3; k++)
		if (moat_region_names(&r->desc, &r->regions[k], c->segment, c->rid) != c->region[k])
			fail_msg("%s %04x:%04x: region %u names it: %d, expected %d", vendor, c->segment, c->rid, k,
				 !c->region[k], c->region[k]);
}

static void routing_is_one_rule_for_core_drivers_and_regions(void **state)
{
	(void)state;
	static const struct rcase without_all[] = {
		{ 0, 0x10, 0, { false, false, true } },        /* a range */
		{ 0, 0x17, 0, { false, false, true } },
		{ 0, 0x18, NONE, { false } },                   /* past it, and no include-all unit */
		{ 0, 0x103, 0, { true, false, false } },       /* in the aliased set */
		{ 0, ALIAS, 0, { true, false, false } },       /* the alias itself */
		{ 0, 0x108, NONE, { false } },
		{ 0, 0x28, NONE, { false } },                   /* an unresolved set names nobody */
		{ 1, 0x200, 2, { false } },                     /* named on segment 1 */
		{ 1, 0x10, 2, { false } },                      /* same id, other segment: its include-all */
		{ 1, ALIAS, 2, { false } },
		{ 2, 0x10, NONE, { false } },                   /* no unit on segment 2 */
	};
	static const struct rcase with_all[] = {
		{ 0, 0x18, 1, { false } },                      /* now the include-all unit's */
		{ 0, 0x28, 1, { false } },
		{ 0, 0x108, 1, { false } },
		{ 0, 0x12, 0, { false, false, true } },        /* named sets still win */
		{ 0, ALIAS, 0, { true, false, false } },
	};
	static const enum moat_vendor vendors[] = { MOAT_VENDOR_VTD, MOAT_VENDOR_AMDVI };

	for (unsigned v = 0; v < 2; v++) {
		for (unsigned all1 = 0; all1 < 2; all1++) {
			struct moat_system_config cfg = t_config(ALL_SIZES);
			struct moat_system *sys = calloc(1, sizeof(*sys));
			struct null_unit nu[3];
			struct rdesc r;

			assert_non_null(sys);
			rdesc_init(&r, vendors[v], all1);
			cfg.desc = &r.desc;
			assert_int_equal(moat_system_init(sys, &cfg), MOAT_OK);
			/* added out of description order: routing does not depend on it */
			for (int i = 2; i >= 0; i--) {
				nu_init(&nu[i], r.units[i].segment, i);
				assert_int_equal(moat_system_add_unit(sys, &nu[i].unit), MOAT_OK);
			}
			if (all1)
				for (unsigned i = 0; i < sizeof(with_all) / sizeof(with_all[0]); i++)
					check_case(&r, sys, nu, &with_all[i]);
			else
				for (unsigned i = 0; i < sizeof(without_all) / sizeof(without_all[0]); i++)
					check_case(&r, sys, nu, &without_all[i]);
			assert_int_equal(moat_system_fini(sys), MOAT_OK);
			free(sys);
		}
	}
}

/* A device of an aliased set attaches through the core by the alias the IOMMU sees, and the
 * reserved region of its set is mapped for it; on either vendor. */
static void devices_attach_by_the_alias_requester_id(void **state)
{
	(void)state;
	static const enum moat_vendor vendors[] = { MOAT_VENDOR_VTD, MOAT_VENDOR_AMDVI };

	for (unsigned v = 0; v < 2; v++) {
		struct moat_system_config cfg = t_config(ALL_SIZES);
		struct moat_system *sys = calloc(1, sizeof(*sys));
		struct moat_audit_report rep;
		struct null_unit nu[3];
		struct moat_domain d;
		struct moat_diag diag;
		uint64_t phys = 0;
		struct rdesc r;

		assert_non_null(sys);
		rdesc_init(&r, vendors[v], false);
		cfg.desc = &r.desc;
		assert_int_equal(moat_system_init(sys, &cfg), MOAT_OK);
		for (int i = 0; i < 3; i++) {
			nu_init(&nu[i], r.units[i].segment, i);
			assert_int_equal(moat_system_add_unit(sys, &nu[i].unit), MOAT_OK);
		}
		assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
		assert_int_equal(moat_reserved_map(&d, NULL, 0, ALIAS, &diag), MOAT_OK);
		assert_int_equal(moat_domain_translate(&d, 0x100000, &phys, NULL, NULL), MOAT_OK);
		assert_int_equal(phys, 0x100000);
		assert_int_equal(moat_domain_translate(&d, 0x180000, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
		assert_int_equal(moat_domain_attach(&d, 0, ALIAS, &diag), MOAT_OK);
		assert_int_equal(nu[0].ndev, 1);
		assert_int_equal(nu[0].devs[0].rid, ALIAS);
		assert_int_equal(nu[0].devs[0].root_phys, d.pt.root_phys);
		assert_int_equal(d.devices, 1);
		/* the region names the device attached: no violation */
		assert_int_equal(moat_audit(sys, &rep), 0);
		/* an id the rule routes nowhere is refused, naming it */
		assert_int_equal(moat_domain_attach(&d, 0, 0x28, &diag), MOAT_ERR_NOT_FOUND);
		assert_non_null(strstr(diag.msg, "0000:00:05.0"));
		assert_int_equal(moat_domain_detach(sys, 0, ALIAS, NULL), MOAT_OK);
		assert_int_equal(nu[0].ndev, 0);
		assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
		assert_int_equal(moat_system_fini(sys), MOAT_OK);
		free(sys);
	}
}

static void device_sets_name_by_range_and_alias_only_when_resolved(void **state)
{
	(void)state;
	struct moat_devset ds = { .segment = 3, .first = 0x40, .last = 0x47, .alias = 0x40 };

	assert_true(moat_devset_names(&ds, 3, 0x40));
	assert_true(moat_devset_names(&ds, 3, 0x47));
	assert_false(moat_devset_names(&ds, 3, 0x48));
	assert_false(moat_devset_names(&ds, 0, 0x40));   /* another segment */
	ds.alias = 0x90;                                /* an alias without ALIASED means nothing */
	assert_false(moat_devset_names(&ds, 3, 0x90));
	ds.flags = MOAT_DEVSET_ALIASED;
	assert_true(moat_devset_names(&ds, 3, 0x90));
	assert_true(moat_devset_names(&ds, 3, 0x41));
	assert_false(moat_devset_names(&ds, 2, 0x90));
	ds.flags |= MOAT_DEVSET_UNRESOLVED;
	assert_false(moat_devset_names(&ds, 3, 0x41));
	assert_false(moat_devset_names(&ds, 3, 0x90));
	assert_false(moat_devset_names(NULL, 3, 0x41));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(device_sets_name_by_range_and_alias_only_when_resolved),
		cmocka_unit_test(routing_is_one_rule_for_core_drivers_and_regions),
		cmocka_unit_test(devices_attach_by_the_alias_requester_id),
	};

	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
