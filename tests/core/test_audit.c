/* SPDX-License-Identifier: BSD-2-Clause */
/* The auditor finds violations planted straight into the live tables, and none on clean systems. */
#include "core_test.h"

/* Entry bits, both formats: the address in bits 51:12. VT-d second stage (VT-d spec 4.1, section
 * 9.8): R bit 0, W bit 1, PS bit 7 (a superpage). AMD-Vi v1 (48882 section 2.2.3): PR bit 0, Next
 * Level bits 11:9 (0 in a page), IR bit 61, IW bit 62. */
#define E_ADDR 0x000ffffffffff000ull
#define VTD_R 1ull
#define VTD_W 2ull
#define VTD_PS (1ull << 7)
#define AMD_PR 1ull
#define AMD_NL_SHIFT 9
#define AMD_IR (1ull << 61)
#define AMD_IW (1ull << 62)

static bool amd(void)
{
	return t_pt().format == MOAT_PT_AMD_V1;
}

/* A leaf at @level mapping @addr with @prot (MOAT_PT_READ/WRITE), in the configuration's format. */
static uint64_t e_leaf(unsigned level, uint64_t addr, unsigned prot)
{
	if (amd())
		return addr | AMD_PR | (prot & MOAT_PT_READ ? AMD_IR : 0) | (prot & MOAT_PT_WRITE ? AMD_IW : 0);
	return addr | (prot & MOAT_PT_READ ? VTD_R : 0) | (prot & MOAT_PT_WRITE ? VTD_W : 0) | (level > 1 ? VTD_PS : 0);
}

/* A link at @level to a table at @addr. */
static uint64_t e_link(unsigned level, uint64_t addr)
{
	if (amd())
		return addr | AMD_PR | AMD_IR | AMD_IW | ((uint64_t)(level - 1) << AMD_NL_SHIFT);
	return addr | VTD_R | VTD_W;
}

/* The entry at @level on the path of @iova; the tables above it must exist. */
static uint64_t *t_entry(struct moat_domain *d, uint64_t iova, unsigned level)
{
	uint64_t *tbl = d->pt.root;

	for (unsigned l = d->pt.cfg.levels; l > level; l--) {
		uint64_t e = tbl[(iova >> (12 + 9 * (l - 1))) & 511];

		tbl = moat_plat_phys_to_virt(e & E_ADDR);
		assert_non_null(tbl);
	}
	return &tbl[(iova >> (12 + 9 * (level - 1))) & 511];
}

static uint64_t table_phys_of(struct moat_domain *d, uint64_t iova, unsigned level)
{
	uint64_t *above = t_entry(d, iova, level + 1);

	return *above & E_ADDR;
}

static const struct moat_audit_violation *find_kind(const struct moat_audit_report *r, enum moat_audit_kind k,
						    uint64_t iova)
{
	for (unsigned i = 0; i < r->count; i++)
		if (r->v[i].kind == k && r->v[i].iova == iova)
			return &r->v[i];
	return NULL;
}

static void clean_systems_have_no_violations(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_audit_report r;
	struct moat_domain a, b;

	assert_int_equal(moat_audit(sys, &r), 0);
	assert_int_equal(r.domains, 0);
	assert_int_equal(moat_domain_create(sys, &a), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &b), MOAT_OK);
	/* 256 MiB, or half the IOVA space of a narrow configuration */
	const uint64_t big = MOAT_MIN(0x10000000ull, t_iova_span() / 2), far = MOAT_MIN(G1, t_iova_span() / 2);

	assert_int_equal(moat_protect_add(sys, 0x30000000, 0x10000, "secret", NULL), MOAT_OK);
	assert_int_equal(moat_domain_map(&a, 0, 0x20000000, big, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_domain_map(&b, far, 0x30010000, 0x3000, MOAT_PT_READ, NULL), MOAT_OK);
	assert_int_equal(moat_audit(sys, &r), 0);
	assert_int_equal(r.status, MOAT_OK);
	assert_int_equal(r.domains, 2);
	assert_int_equal(r.mapped_bytes, big + 0x3000);
	assert_int_equal(r.tables, a.pt.table_pages + b.pt.table_pages);
	assert_int_equal(moat_audit(NULL, &r), UINT64_MAX);
	assert_int_equal(r.status, MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_domain_destroy(&a), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&b), MOAT_OK);
	t_system_free(sys);
}

/*
 * Entries planted in the live tables: leaves into the registry, at their own table, at a driver
 * page; an entry neither clear nor present; with a level 2 (every configuration but 1-level
 * AMD-Vi), a link to a page that is no table and a 2 MiB leaf over a table page.
 */
static void planted_leaves_and_corrupt_entries_are_reported(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_audit_report r;
	const struct moat_audit_violation *v;
	struct moat_domain d;
	const bool two = t_levels() >= 2;         /* a level-2 table exists */
	const uint64_t sp = 4 * M2;                /* where the 2 MiB leaf goes: the first GiB, anywhere */
	uint64_t l1, drv_phys = 0;
	char line[256];
	void *drv;

	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	assert_int_equal(moat_protect_add(sys, 0x30000000, 0x10000, "secret", NULL), MOAT_OK);
	assert_int_equal(moat_domain_map(&d, 0, 0x20000000, K4, MOAT_PT_RW, NULL), MOAT_OK);
	if (two)
		assert_int_equal(moat_domain_map(&d, sp, 0x20000000, M2, MOAT_PT_RW, NULL), MOAT_OK);
	drv = moat_page_alloc(sys, &drv_phys);
	assert_non_null(drv);
	l1 = t_levels() > 1 ? table_phys_of(&d, 0, 1) : d.pt.root_phys;

	*t_entry(&d, 0x5000, 1) = e_leaf(1, 0x30004000, MOAT_PT_RW);   /* into the registry */
	*t_entry(&d, 0x6000, 1) = e_leaf(1, l1, MOAT_PT_READ);         /* at its own table */
	*t_entry(&d, 0x7000, 1) = e_leaf(1, drv_phys, MOAT_PT_WRITE);  /* at a driver page */
	*t_entry(&d, 0x8000, 1) = 0x1000;                              /* not present, yet not clear */
	if (two)
		*t_entry(&d, 2 * M2, 2) = e_link(2, 0x5000);           /* a link to a page that is no table */

	assert_int_equal(moat_audit(sys, &r), two ? 5 : 4);
	assert_int_equal(r.count, two ? 5 : 4);
	assert_int_equal(r.status, MOAT_OK);

	v = find_kind(&r, MOAT_AUDIT_PROTECTED, 0x5000);
	assert_non_null(v);
	assert_int_equal(v->domain_id, d.id);
	assert_int_equal(v->phys, 0x30004000);
	assert_int_equal(v->size, K4);
	assert_int_equal(v->hit_base, 0x30000000);
	assert_int_equal(v->hit_size, 0x10000);
	assert_string_equal(v->what, "secret");
	moat_audit_format(v, line, sizeof(line));
	assert_string_equal(line, "domain 1: iova 0x5000 -> phys 0x30004000 (4 KiB) maps protected memory: secret "
				  "[0x30000000, 0x3000ffff]");

	v = find_kind(&r, MOAT_AUDIT_TABLE, 0x6000);
	assert_non_null(v);
	assert_int_equal(v->phys, l1);
	assert_int_equal(v->hit_base, l1);
	moat_audit_format(v, line, sizeof(line));
	assert_non_null(strstr(line, "maps a page table"));

	v = find_kind(&r, MOAT_AUDIT_OWNED, 0x7000);
	assert_non_null(v);
	assert_int_equal(v->hit_base, drv_phys);

	v = find_kind(&r, MOAT_AUDIT_CORRUPT, 0x8000);
	assert_non_null(v);
	assert_int_equal(v->level, 1);
	assert_int_equal(v->phys, 0x1000);
	moat_audit_format(v, line, sizeof(line));
	assert_string_equal(line, "domain 1: corrupt entry 0x0000000000001000 at level 1 for iova 0x8000");

	if (two) {
		v = find_kind(&r, MOAT_AUDIT_CORRUPT, 2 * M2);
		assert_non_null(v);
		assert_int_equal(v->level, 2);
		assert_int_equal(v->size, M2);

		/* a superpage that covers a table page somewhere inside it */
		*t_entry(&d, sp, 2) = e_leaf(2, l1 & ~(M2 - 1), MOAT_PT_RW);
		assert_true(moat_audit(sys, &r) >= 6);   /* other Moat pages in that 2 MiB may count too */
		v = find_kind(&r, MOAT_AUDIT_TABLE, sp);
		assert_non_null(v);
		assert_int_equal(v->size, M2);
		assert_true(v->hit_base >= (l1 & ~(M2 - 1)) && v->hit_base < (l1 & ~(M2 - 1)) + M2);
		*t_entry(&d, sp, 2) = e_leaf(2, 0x20000000, MOAT_PT_RW);
		*t_entry(&d, 2 * M2, 2) = 0;
	}

	*t_entry(&d, 0x5000, 1) = 0;
	*t_entry(&d, 0x6000, 1) = 0;
	*t_entry(&d, 0x7000, 1) = 0;
	*t_entry(&d, 0x8000, 1) = 0;
	assert_audit_clean(sys);
	moat_page_free(sys, drv, drv_phys);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	t_system_free(sys);
}

static void only_the_first_violations_are_kept_but_all_counted(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_audit_report r;
	struct moat_domain d;

	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	assert_int_equal(moat_domain_map(&d, 0, 0x20000000, K4, MOAT_PT_RW, NULL), MOAT_OK);
	assert_int_equal(moat_protect_add(sys, 0x30000000, 0x100000, "secret", NULL), MOAT_OK);
	for (unsigned i = 1; i < 101; i++)
		*t_entry(&d, i * K4, 1) = e_leaf(1, 0x30000000 + i * K4, MOAT_PT_READ);
	assert_int_equal(moat_audit(sys, &r), 100);
	assert_int_equal(r.count, MOAT_AUDIT_MAX);
	for (unsigned i = 0; i < r.count; i++)
		assert_int_equal(r.v[i].iova, (i + 1) * K4);   /* walk order: IOVA order */
	for (unsigned i = 1; i < 101; i++)
		*t_entry(&d, i * K4, 1) = 0;
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	t_system_free(sys);
}

static void devices_on_unknown_tables_are_reported(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	struct moat_audit_report r;
	struct null_unit nu;
	struct moat_domain d;
	char line[256];

	nu_init(&nu, 3, -1);
	assert_int_equal(moat_system_add_unit(sys, &nu.unit), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	assert_int_equal(moat_domain_attach(&d, 3, MOAT_RID(1, 0, 0), NULL), MOAT_OK);
	assert_int_equal(moat_audit(sys, &r), 0);
	assert_int_equal(r.devices, 1);
	/* the hardware entry of a second device points somewhere else */
	nu.devs[nu.ndev++] = (struct moat_unit_dev){ MOAT_RID(2, 1, 3), 42, 0xdead000 };
	assert_int_equal(moat_audit(sys, &r), 1);
	assert_int_equal(r.v[0].kind, MOAT_AUDIT_UNKNOWN_ROOT);
	assert_int_equal(r.v[0].rid, MOAT_RID(2, 1, 3));
	assert_int_equal(r.v[0].phys, 0xdead000);
	moat_audit_format(&r.v[0], line, sizeof(line));
	assert_string_equal(line, "device 0003:02:01.3 (domain id 42) translates through root 0xdead000 of no domain");
	nu.ndev--;
	assert_int_equal(moat_domain_detach(sys, 3, MOAT_RID(1, 0, 0), NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	t_system_free(sys);
}

/* The violation of @kind among those kept for requester @rid, or NULL. */
static const struct moat_audit_violation *find_dev(const struct moat_audit_report *r, enum moat_audit_kind k,
						   uint16_t rid)
{
	for (unsigned i = 0; i < r->count; i++)
		if (r->v[i].kind == k && r->v[i].rid == rid)
			return &r->v[i];
	return NULL;
}

static struct moat_unit_entry planted(uint16_t rid, enum moat_unit_xlate kind, uint32_t flags, uint32_t did,
				      uint64_t root, unsigned levels)
{
	return (struct moat_unit_entry){ .rid = rid, .kind = kind, .flags = flags, .domain_id = did, .root_phys = root,
					 .levels = levels, .raw_count = 2, .raw = { 0x1111, 0x2222 } };
}

static void unit_entries_are_held_against_what_moat_writes(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	const struct moat_audit_violation *v;
	struct moat_audit_report r;
	struct null_unit nu;
	struct moat_domain d;
	char line[256];

	nu_init(&nu, 0, -1);
	assert_int_equal(moat_system_add_unit(sys, &nu.unit), MOAT_OK);
	assert_int_equal(moat_domain_create(sys, &d), MOAT_OK);
	assert_int_equal(moat_domain_attach(&d, 0, MOAT_RID(0, 1, 0), NULL), MOAT_OK);
	/* a blocking entry as Moat writes it is no device and no violation */
	nu.planted[nu.nplanted++] = planted(MOAT_RID(0, 9, 0), MOAT_UNIT_BLOCKED, 0, 0, 0, 0);
	assert_int_equal(moat_audit(sys, &r), 0);
	assert_int_equal(r.devices, 1);

	nu.planted[nu.nplanted++] = planted(0x10, MOAT_UNIT_PASSTHROUGH, 0, 3, 0, 0);
	nu.planted[nu.nplanted++] = planted(0x11, MOAT_UNIT_OTHER, 0, 0, 0, 0);
	const unsigned levels = t_levels(), wrong_levels = levels == 3 ? 4 : 3;

	nu.planted[nu.nplanted++] = planted(0x12, MOAT_UNIT_TRANSLATED, 0, d.id, d.pt.root_phys, levels);
	nu.planted[nu.nplanted++] = planted(0x13, MOAT_UNIT_TRANSLATED, MOAT_UNIT_E_ATTACHED, d.id + 1, d.pt.root_phys,
					    levels);
	nu.planted[nu.nplanted++] = planted(0x14, MOAT_UNIT_TRANSLATED, MOAT_UNIT_E_ATTACHED, d.id, d.pt.root_phys,
					    wrong_levels);
	nu.planted[nu.nplanted++] = planted(0x15, MOAT_UNIT_BLOCKED, MOAT_UNIT_E_ATS, 0, 0, 0);
	nu.planted[nu.nplanted++] = planted(0x16, MOAT_UNIT_BLOCKED, 0, 12, 0, 0);
	assert_int_equal(moat_audit(sys, &r), 7);
	assert_int_equal(r.status, MOAT_OK);
	assert_int_equal(r.devices, 1 + 5);

	v = find_dev(&r, MOAT_AUDIT_TRANSLATION, 0x10);
	assert_non_null(v);
	assert_int_equal(v->domain_id, 3);
	assert_string_equal(v->what, "pass-through");
	moat_audit_format(v, line, sizeof(line));
	assert_string_equal(line, "unit 0 (0x0): device 0000:00:02.0 entry 0x0000000000001111 0000000000002222 lets DMA "
				  "past translation (pass-through)");
	v = find_dev(&r, MOAT_AUDIT_TRANSLATION, 0x11);
	assert_non_null(v);
	assert_string_equal(v->what, "unknown translation type");
	v = find_dev(&r, MOAT_AUDIT_UNATTACHED, 0x12);
	assert_non_null(v);
	assert_int_equal(v->phys, d.pt.root_phys);
	v = find_dev(&r, MOAT_AUDIT_DOMAIN_ID, 0x13);
	assert_non_null(v);
	assert_int_equal(v->domain_id, d.id + 1);
	assert_int_equal(v->expected, d.id);
	v = find_dev(&r, MOAT_AUDIT_LEVELS, 0x14);
	assert_non_null(v);
	assert_int_equal(v->level, wrong_levels);
	assert_int_equal(v->expected, levels);
	v = find_dev(&r, MOAT_AUDIT_ATS, 0x15);
	assert_non_null(v);
	moat_audit_format(v, line, sizeof(line));
	assert_non_null(strstr(line, "allows device-TLB translation requests (ATS)"));
	v = find_dev(&r, MOAT_AUDIT_DOMAIN_ID, 0x16);
	assert_non_null(v);
	assert_int_equal(v->level, 0);
	assert_int_equal(v->expected, 0);

	nu.nplanted = 0;
	assert_audit_clean(sys);
	assert_int_equal(moat_domain_detach(sys, 0, MOAT_RID(0, 1, 0), NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&d), MOAT_OK);
	t_system_free(sys);
}

static void unit_state_structures_and_registers_are_checked(void **state)
{
	(void)state;
	struct moat_system *sys = t_system(ALL_SIZES);
	const struct moat_audit_violation *v;
	struct moat_audit_report r;
	struct null_unit nu[2];
	uint64_t drv_phys = 0;
	char line[256];
	void *drv;

	nu_init(&nu[0], 0, -1);
	nu_init(&nu[1], 1, -1);
	assert_int_equal(moat_system_add_unit(sys, &nu[0].unit), MOAT_OK);
	assert_int_equal(moat_system_add_unit(sys, &nu[1].unit), MOAT_OK);
	drv = moat_page_alloc(sys, &drv_phys);
	assert_non_null(drv);
	/* unit 1: registers in the registry, a root table Moat owns, translation on */
	nu[1].state.reg_base = 0xfed90000;
	nu[1].state.reg_size = 0x1000;
	assert_int_equal(moat_protect_add(sys, 0xfed90000, 0x1000, "regs", NULL), MOAT_OK);
	nu[1].tables[nu[1].ntables++] = (struct moat_unit_table){ .level = 0, .phys = drv_phys, .expected = drv_phys,
								  .ours = true, .name = "root table" };
	assert_int_equal(moat_audit(sys, &r), 0);
	assert_int_equal(r.unit_tables, 1);

	/* translation off; a root pointer elsewhere; a context table not the driver's; one not owned */
	nu[1].state.translating = false;
	nu[1].state.status = 0x40000000;
	nu[1].tables[nu[1].ntables++] = (struct moat_unit_table){ .level = 0, .phys = 0x5000, .expected = drv_phys,
								  .pointer = { 0x5000 }, .name = "root table" };
	nu[1].tables[nu[1].ntables++] = (struct moat_unit_table){ .level = 1, .index = 4, .phys = 0x6000,
								  .pointer = { 0x6001, 0 }, .name = "context table" };
	nu[1].tables[nu[1].ntables++] = (struct moat_unit_table){ .level = 1, .index = 5, .phys = 0x7000,
								  .expected = 0x7000, .pointer = { 0x7001, 0 },
								  .ours = true, .name = "context table" };
	assert_int_equal(moat_audit(sys, &r), 4);
	assert_int_equal(r.unit_tables, 4);
	v = &r.v[0];
	assert_int_equal(v->kind, MOAT_AUDIT_UNIT_OFF);
	assert_int_equal(v->unit, 1);
	assert_int_equal(v->unit_base, 0xfed90000);
	moat_audit_format(v, line, sizeof(line));
	assert_string_equal(line, "unit 1 (0xfed90000): translation is off (status 0x40000000) although the driver turned "
				  "it on: DMA bypasses every table");
	v = &r.v[1];
	assert_int_equal(v->kind, MOAT_AUDIT_ROOT_POINTER);
	assert_int_equal(v->phys, 0x5000);
	assert_int_equal(v->hit_base, drv_phys);
	v = &r.v[2];
	assert_int_equal(v->kind, MOAT_AUDIT_FOREIGN_TABLE);
	assert_int_equal(v->index, 4);
	moat_audit_format(v, line, sizeof(line));
	assert_string_equal(line, "unit 1 (0xfed90000): root entry 4 (0x0000000000006001) names context table 0x6000, "
				  "not a Moat-owned one of this unit (the driver's: 0x0): not followed");
	v = &r.v[3];
	assert_int_equal(v->kind, MOAT_AUDIT_FOREIGN_TABLE);   /* the driver's, but not Moat-owned */
	assert_int_equal(v->index, 5);
	assert_int_equal(v->phys, 0x7000);

	/* registers that are not (all) in the registry */
	nu[1].state.translating = true;
	nu[1].ntables = 1;
	nu[1].state.reg_size = 0x2000;
	assert_int_equal(moat_audit(sys, &r), 1);
	assert_int_equal(r.v[0].kind, MOAT_AUDIT_REGISTERS);
	assert_int_equal(r.v[0].hit_base, 0xfed90000);
	assert_int_equal(r.v[0].hit_size, 0x2000);
	assert_int_equal(moat_protect_add(sys, 0xfed91000, 0x1000, "regs 2", NULL), MOAT_OK);
	assert_audit_clean(sys);
	/* unit 0 never said it turned translation on: off is no violation */
	nu[0].state.expected_on = false;
	nu[0].state.translating = false;
	assert_audit_clean(sys);
	moat_page_free(sys, drv, drv_phys);
	t_system_free(sys);
}

static void every_kind_has_a_name_and_a_line(void **state)
{
	(void)state;
	struct moat_audit_violation v;
	char line[256];

	for (int k = MOAT_AUDIT_PROTECTED; k <= MOAT_AUDIT_REGISTERS; k++) {
		assert_string_not_equal(moat_audit_kind_str((enum moat_audit_kind)k), "unknown violation");
		memset(&v, 0, sizeof(v));
		v.kind = (enum moat_audit_kind)k;
		v.level = 1;
		moat_audit_format(&v, line, sizeof(line));
		assert_null(strstr(line, "unknown violation kind"));
	}
	assert_string_equal(moat_audit_kind_str((enum moat_audit_kind)99), "unknown violation");
	v.kind = (enum moat_audit_kind)99;
	moat_audit_format(&v, line, sizeof(line));
	assert_string_equal(line, "unknown violation kind 99");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_systems_have_no_violations),
		cmocka_unit_test(planted_leaves_and_corrupt_entries_are_reported),
		cmocka_unit_test(only_the_first_violations_are_kept_but_all_counted),
		cmocka_unit_test(devices_on_unknown_tables_are_reported),
		cmocka_unit_test(unit_entries_are_held_against_what_moat_writes),
		cmocka_unit_test(unit_state_structures_and_registers_are_checked),
		cmocka_unit_test(every_kind_has_a_name_and_a_line),
	};

	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
