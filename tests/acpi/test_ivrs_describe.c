/* SPDX-License-Identifier: BSD-2-Clause */
/* moat_acpi_describe_ivrs(): units, devsets, regions and specials from hand-made and real IVRS tables. */
#include "test_ivrs_builder.h"

#include <dirent.h>

#define CAP 256

struct out {
	struct moat_sysdesc d;
	struct moat_unit_desc units[CAP];
	struct moat_devset devsets[CAP];
	struct moat_region_desc regions[CAP];
	struct moat_special_desc specials[CAP];
	struct moat_ats_desc ats[4];
};

static void out_init(struct out *o)
{
	memset(o, 0, sizeof(*o));
	o->d = (struct moat_sysdesc){
		.units = o->units, .units_cap = CAP, .devsets = o->devsets, .devsets_cap = CAP,
		.regions = o->regions, .regions_cap = CAP, .specials = o->specials, .specials_cap = CAP,
		.ats = o->ats, .ats_cap = 4,
	};
}

static moat_status describe(struct out *o, const void *t, size_t len, struct moat_diag *d)
{
	out_init(o);
	return moat_acpi_describe_ivrs(t, len, &o->d, d);
}

static void devset_is(const struct moat_devset *ds, uint16_t seg, uint16_t first, uint16_t last, uint16_t alias,
		      uint8_t flags, uint8_t setting, uint32_t ext)
{
	assert_int_equal(ds->segment, seg);
	assert_int_equal(ds->first, first);
	assert_int_equal(ds->last, last);
	assert_int_equal(ds->alias, alias);
	assert_int_equal(ds->flags, flags);
	assert_int_equal(ds->amd_setting, setting);
	assert_int_equal(ds->amd_ext_setting, ext);
}

static void qemu_ivrs_gives_one_unit_its_devices_and_the_ioapic(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct out *o = malloc(sizeof(*o));
	size_t len = ivrs_build_qemu(&b);
	static const uint16_t rids[] = { 0x0000, 0x0008, 0x0010, 0x00f8, 0x00fa, 0x00fb };

	assert_int_equal(describe(o, b.buf, len, NULL), MOAT_OK);
	assert_int_equal(o->d.vendor, MOAT_VENDOR_AMDVI);
	assert_int_equal(o->d.address_width, 40);
	assert_int_equal(o->d.ivinfo, (1u << 0) | (40u << 8));
	assert_int_equal(o->d.flags, MOAT_SYS_INTR_REMAP);
	assert_int_equal(o->d.skipped, 0);
	assert_int_equal(o->d.units_count, 1);
	assert_int_equal(o->d.regions_count, 0);
	assert_int_equal(o->d.ats_count, 0);

	const struct moat_unit_desc *u = &o->units[0];
	assert_int_equal(u->vendor, MOAT_VENDOR_AMDVI);
	assert_int_equal(u->register_base, 0xfed80000ull);
	assert_int_equal(u->register_size, 0x4000);
	assert_int_equal(u->segment, 0);
	assert_int_equal(u->flags, 0);
	assert_int_equal(u->ivhd_type, 0x10);
	assert_int_equal(u->ivhd_flags, 0xd1);
	assert_int_equal(u->iommu_rid, 0x0008);
	assert_int_equal(u->capability_offset, 0x40);
	assert_int_equal(u->ivhd_feature, 4);
	assert_int_equal(u->src_offset, 48);
	assert_int_equal(u->devset_first, 0);
	/* one devset per select entry, and one for the IOAPIC's requester id */
	assert_int_equal(u->devset_count, ARRAY_SIZE(rids) + 1);
	assert_int_equal(o->d.devsets_count, ARRAY_SIZE(rids) + 1);
	for (unsigned i = 0; i < ARRAY_SIZE(rids); i++) {
		devset_is(&o->devsets[i], 0, rids[i], rids[i], rids[i], 0, 0, 0);
		assert_int_equal(o->devsets[i].src_offset, 72 + 4 * i);
	}
	devset_is(&o->devsets[6], 0, 0xa0, 0xa0, 0xa0, 0, 0, 0);

	assert_int_equal(o->d.specials_count, 1);
	assert_int_equal(o->specials[0].kind, MOAT_SPECIAL_IOAPIC);
	assert_int_equal(o->specials[0].id, 0);
	assert_int_equal(o->specials[0].rid, MOAT_RID(0, 0x14, 0));
	assert_int_equal(o->specials[0].resolved, 1);
	assert_int_equal(o->specials[0].unit, 0);
	assert_int_equal(o->specials[0].src_offset, 72 + 24);
	free(o);
}

/* 8 IOMMUs on 4 segments, each described as 10h and again as 11h or 40h, with 10h blocks that differ. */
static size_t build_server(struct ivrs_builder *b)
{
	ivrs_begin(b, 2, 0x00203041);
	for (unsigned i = 0; i < 8; i++) {
		uint16_t seg = (uint16_t)(i / 2), rid = (uint16_t)MOAT_RID(0x40 * (i % 2), 0, 2);
		uint64_t base = 0xe0000000ull + 0x80000ull * i;

		ivrs_ivhd(b, 0x10, 0xb0, rid, 0x40, base, seg, (uint16_t)i, 0, 0);
		ivrs_entry4(b, MOAT_IVHD_ENTRY_SELECT, 0x7777, 0); /* only in the old block */
		ivrs_ivhd(b, i % 3 ? 0x40 : 0x11, 0x30, rid, 0x40, base, seg, (uint16_t)i, 0x00040200,
			  i == 5 ? MOAT_EFR_PC_SUP : 0);
		ivrs_entry4(b, MOAT_IVHD_ENTRY_RANGE_START, (uint16_t)(rid + 1), 0);
		ivrs_entry4(b, MOAT_IVHD_ENTRY_RANGE_END, (uint16_t)(rid | 0x3fff), 0);
		ivrs_entry_special(b, 0xd7, (uint8_t)(0x80 + i), (uint16_t)(rid + 0xa0), MOAT_IVHD_SPECIAL_IOAPIC);
	}
	return ivrs_finish(b);
}

static void server_with_8_iommus_in_two_types_gives_8_units_of_the_highest_type(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct out *o = malloc(sizeof(*o));
	size_t len = build_server(&b);

	assert_int_equal(describe(o, b.buf, len, NULL), MOAT_OK);
	assert_int_equal(o->d.units_count, 8);
	assert_int_equal(o->d.devsets_count, 16);
	assert_int_equal(o->d.specials_count, 8);
	assert_int_equal(o->d.address_width, 48);
	for (unsigned i = 0; i < 8; i++) {
		const struct moat_unit_desc *u = &o->units[i];
		uint16_t rid = (uint16_t)MOAT_RID(0x40 * (i % 2), 0, 2);

		assert_int_equal(u->ivhd_type, i % 3 ? 0x40 : 0x11);
		assert_int_equal(u->segment, i / 2);
		assert_int_equal(u->iommu_rid, rid);
		assert_int_equal(u->iommu_info, i);
		assert_int_equal(u->register_base, 0xe0000000ull + 0x80000ull * i);
		assert_int_equal(u->register_size, i == 5 ? 0x80000 : 0x4000);
		assert_int_equal(u->ivhd_feature, 0x00040200);
		assert_int_equal(u->devset_first, 2 * i);
		assert_int_equal(u->devset_count, 2);
		devset_is(&o->devsets[2 * i], (uint16_t)(i / 2), (uint16_t)(rid + 1), (uint16_t)(rid | 0x3fff),
			  (uint16_t)(rid + 1), 0, 0, 0);
		uint16_t ioapic = (uint16_t)(rid + 0xa0);
		devset_is(&o->devsets[2 * i + 1], (uint16_t)(i / 2), ioapic, ioapic, ioapic, 0, 0xd7, 0);
		assert_int_equal(o->specials[i].unit, i);
		assert_int_equal(o->specials[i].segment, i / 2);
		assert_int_equal(o->specials[i].id, 0x80 + i);
	}
	free(o);
}

static void ivmd_regions_get_kind_flags_limit_and_devices(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct out *o = malloc(sizeof(*o));

	ivrs_begin(&b, 2, 0x00203041);
	ivrs_ivhd(&b, 0x10, 0, 2, 0x40, 0xfd200000, 0, 0, 0, 0);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_ALL, 0, 0);
	const uint8_t rw = MOAT_IVMD_F_UNITY | MOAT_IVMD_F_IR | MOAT_IVMD_F_IW;
	size_t a = ivrs_ivmd(&b, 0x20, rw, 0x1234, 0x5678, 0xa0000, 0x20000);
	size_t s1 = ivrs_ivmd(&b, 0x21, MOAT_IVMD_F_EXCLUSION, 0x0200, 0, 0x34772000, 1);
	size_t r = ivrs_ivmd(&b, 0x22, MOAT_IVMD_F_UNITY | MOAT_IVMD_F_IR | 0xf0, 0x0100, 0x01ff, 0x100000000ull,
			     0x200000);
	size_t len = ivrs_finish(&b);

	assert_int_equal(describe(o, b.buf, len, NULL), MOAT_OK);
	assert_int_equal(o->d.regions_count, 3);
	assert_int_equal(o->units[0].flags, MOAT_UNIT_AMD_ALL | MOAT_UNIT_INCLUDE_ALL);
	assert_int_equal(o->units[0].devset_count, 0);
	assert_int_equal(o->d.flags, 0); /* no IOAPIC entry: nothing says interrupts can be remapped */

	assert_int_equal(o->regions[0].kind, MOAT_REGION_IVMD_ALL);
	assert_int_equal(o->regions[0].flags, MOAT_REGION_UNITY | MOAT_REGION_READ | MOAT_REGION_WRITE);
	assert_int_equal(o->regions[0].base, 0xa0000);
	assert_int_equal(o->regions[0].limit, 0xbffff);
	assert_int_equal(o->regions[0].devset_count, 0);
	assert_int_equal(o->regions[0].src_offset, a);

	assert_int_equal(o->regions[1].kind, MOAT_REGION_IVMD_SELECT);
	assert_int_equal(o->regions[1].flags, MOAT_REGION_EXCLUSION);
	assert_int_equal(o->regions[1].base, 0x34772000);
	assert_int_equal(o->regions[1].limit, 0x34772000);
	assert_int_equal(o->regions[1].devset_count, 1);
	assert_int_equal(o->regions[1].src_offset, s1);
	devset_is(&o->devsets[o->regions[1].devset_first], 0, 0x0200, 0x0200, 0x0200, 0, 0, 0);

	assert_int_equal(o->regions[2].kind, MOAT_REGION_IVMD_RANGE);
	assert_int_equal(o->regions[2].flags, MOAT_REGION_UNITY | MOAT_REGION_READ);
	assert_int_equal(o->regions[2].base, 0x100000000ull);
	assert_int_equal(o->regions[2].limit, 0x1001fffffull);
	assert_int_equal(o->regions[2].devset_count, 1);
	assert_int_equal(o->regions[2].src_offset, r);
	devset_is(&o->devsets[o->regions[2].devset_first], 0, 0x0100, 0x01ff, 0x0100, 0, 0, 0);
	free(o);
}

static void alias_and_extended_entries_become_devsets(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct out *o = malloc(sizeof(*o));

	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x40, 0x30, 2, 0x40, 0xfd200000, 3, 0, 0, 0);
	ivrs_entry_alias(&b, MOAT_IVHD_ENTRY_ALIAS_SELECT, 0x0300, 0x01, 0x00a4);
	size_t ar = ivrs_entry_alias(&b, MOAT_IVHD_ENTRY_ALIAS_RANGE, 0x0100, 0x02, 0x00a5);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_PAD4, 0, 0);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_END, 0x01ff, 0);
	ivrs_entry_ext(&b, MOAT_IVHD_ENTRY_EXT_SELECT, 0x0400, 0x04, MOAT_IVHD_EXT_ATS_DISABLED);
	ivrs_entry_ext(&b, MOAT_IVHD_ENTRY_EXT_RANGE, 0x0500, 0x40, 0x12345678);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_END, 0x05ff, 0);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_START, 0x0600, 0x80);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_END, 0x0600, 0);
	size_t len = ivrs_finish(&b);

	assert_int_equal(describe(o, b.buf, len, NULL), MOAT_OK);
	assert_int_equal(o->d.devsets_count, 5);
	assert_int_equal(o->units[0].segment, 3);
	devset_is(&o->devsets[0], 3, 0x0300, 0x0300, 0x00a4, MOAT_DEVSET_ALIASED, 0x01, 0);
	devset_is(&o->devsets[1], 3, 0x0100, 0x01ff, 0x00a5, MOAT_DEVSET_ALIASED, 0x02, 0);
	assert_int_equal(o->devsets[1].src_offset, ar);
	devset_is(&o->devsets[2], 3, 0x0400, 0x0400, 0x0400, 0, 0x04, MOAT_IVHD_EXT_ATS_DISABLED);
	devset_is(&o->devsets[3], 3, 0x0500, 0x05ff, 0x0500, 0, 0x40, 0x12345678);
	devset_is(&o->devsets[4], 3, 0x0600, 0x0600, 0x0600, 0, 0x80, 0);
	free(o);
}

static void acpi_hid_entries_become_namespace_specials(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct out *o = malloc(sizeof(*o));
	static const uint8_t zero[8];
	static const uint8_t uid_int[2] = { 0x01, 0x00 };
	static const char long_uid[] = "\\_SB.PCI0.GP17.XHC0.RHUB.PRT1.LONGER";

	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x40, 0x30, 2, 0x40, 0xfd200000, 0, 0, 0, 0);
	ivrs_entry_hid(&b, 0x00a5, 0x40, "AMDI0020", zero, MOAT_IVHD_UID_STRING, "\\_SB.FUR0", 9);
	size_t i2 = ivrs_entry_hid(&b, 0x0060, 0x40, "MSFT0201", zero, MOAT_IVHD_UID_INTEGER, uid_int, 2);
	ivrs_entry_hid(&b, 0x0061, 0, "AMDI0041", zero, MOAT_IVHD_UID_STRING, long_uid, sizeof(long_uid) - 1);
	ivrs_entry_special(&b, 0, 0, 0x00a0, MOAT_IVHD_SPECIAL_HPET);
	size_t len = ivrs_finish(&b);

	assert_int_equal(describe(o, b.buf, len, NULL), MOAT_OK);
	assert_int_equal(o->d.specials_count, 4);
	assert_int_equal(o->specials[0].kind, MOAT_SPECIAL_ACPI_NS);
	assert_string_equal(o->specials[0].name, "AMDI0020");
	assert_string_equal(o->specials[0].uid, "\\_SB.FUR0");
	assert_int_equal(o->specials[0].rid, 0x00a5);
	assert_int_equal(o->specials[1].kind, MOAT_SPECIAL_ACPI_NS);
	assert_string_equal(o->specials[1].name, "MSFT0201");
	assert_string_equal(o->specials[1].uid, "1");
	assert_int_equal(o->specials[1].rid, 0x0060);
	assert_int_equal(o->specials[1].src_offset, i2);
	assert_int_equal(strlen(o->specials[2].uid), sizeof(o->specials[2].uid) - 1); /* cut to fit */
	assert_int_equal(o->specials[3].kind, MOAT_SPECIAL_HPET);
	assert_int_equal(o->d.flags, 0); /* an HPET alone does not make interrupt remapping usable */
	assert_int_equal(o->d.devsets_count, 4);
	devset_is(&o->devsets[1], 0, 0x0060, 0x0060, 0x0060, 0, 0x40, 0);
	free(o);
}

static void unknown_structures_entries_and_varieties_are_counted_as_skipped(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct out *o = malloc(sizeof(*o));

	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x10, 0, 2, 0x40, 0xfd200000, 0, 0, 0, 0);
	ivrs_entry4(&b, 5, 0, 0);                                     /* unknown 4-byte entry */
	ivrs_entry_ext(&b, 65, 0, 0, 0);                              /* unknown 8-byte entry */
	ivrs_entry_special(&b, 0, 9, 0x00a0, 3);                      /* unknown variety */
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_PAD4, 0, 0);                  /* pads are not unknown */
	ivrs_entry_ext(&b, MOAT_IVHD_ENTRY_PAD8, 0, 0, 0);
	ivrs_raw_struct(&b, 0x51, 32);
	ivrs_raw_struct(&b, 0x12, 8);
	ivrs_ivhd(&b, 0x10, 0, 2, 0x40, 0xfd200000, 0, 0, 0, 0);    /* same IOMMU again: ignored */
	ivrs_entry4(&b, 6, 0, 0);
	size_t len = ivrs_finish(&b);

	assert_int_equal(describe(o, b.buf, len, NULL), MOAT_OK);
	assert_int_equal(o->d.skipped, 5);
	assert_int_equal(o->d.units_count, 1);
	assert_int_equal(o->d.specials_count, 0);
	assert_int_equal(o->d.devsets_count, 0);
	free(o);
}

static void small_arrays_give_no_space_with_the_counts_needed(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct out *o = malloc(sizeof(*o)), *full = malloc(sizeof(*full));
	size_t len = build_server(&b);
	struct moat_diag diag;

	assert_int_equal(describe(full, b.buf, len, NULL), MOAT_OK);

	/* Each array in turn one element too small, the others large enough; sentinels must survive. */
	for (int which = 0; which < 4; which++) {
		out_init(o);
		memset(o->units, 0xab, sizeof(o->units));
		memset(o->devsets, 0xab, sizeof(o->devsets));
		memset(o->specials, 0xab, sizeof(o->specials));
		uint32_t *cap = which == 0 ? &o->d.units_cap : which == 1 ? &o->d.devsets_cap :
							  which == 2 ? &o->d.specials_cap : &o->d.regions_cap;
		uint32_t need = which == 0 ? 8 : which == 1 ? 16 : which == 2 ? 8 : 0;
		*cap = need ? need - 1 : 0;
		moat_status st = moat_acpi_describe_ivrs(b.buf, len, &o->d, &diag);
		assert_int_equal(st, need ? MOAT_ERR_NO_SPACE : MOAT_OK);
		if (need)
			assert_int_equal(diag.status, MOAT_ERR_NO_SPACE);
		assert_int_equal(o->d.units_count, 8);
		assert_int_equal(o->d.devsets_count, 16);
		assert_int_equal(o->d.specials_count, 8);
		if (which == 0)
			assert_int_equal(o->units[7].register_base, 0xababababababababull);
		if (which == 1)
			assert_int_equal(o->devsets[15].first, 0xabab);
		if (which == 2)
			assert_int_equal(o->specials[7].rid, 0xabab);
		/* What fits is what a large enough description holds. */
		for (uint32_t i = 0; i < o->d.units_cap && i < 8; i++) {
			assert_int_equal(o->units[i].register_base, full->units[i].register_base);
			assert_int_equal(o->units[i].devset_first, full->units[i].devset_first);
			assert_int_equal(o->units[i].devset_count, full->units[i].devset_count);
		}
		for (uint32_t i = 0; i < o->d.devsets_cap && i < 16; i++) {
			assert_int_equal(o->devsets[i].first, full->devsets[i].first);
			assert_int_equal(o->devsets[i].last, full->devsets[i].last);
		}
	}

	/* Counting only: no arrays at all. */
	memset(o, 0, sizeof(*o));
	assert_int_equal(moat_acpi_describe_ivrs(b.buf, len, &o->d, NULL), MOAT_ERR_NO_SPACE);
	assert_int_equal(o->d.units_count, 8);
	assert_int_equal(o->d.devsets_count, 16);
	assert_int_equal(o->d.regions_count, 0);
	assert_int_equal(o->d.specials_count, 8);
	free(o);
	free(full);
}

static void failed_describe_leaves_counts_zero(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct out *o = malloc(sizeof(*o));
	struct moat_diag diag;
	size_t len = build_server(&b);

	b.buf[9] ^= 1;
	out_init(o);
	o->d.units_count = o->d.devsets_count = o->d.regions_count = o->d.specials_count = 99;
	o->d.skipped = 7;
	o->d.flags = 0xff;
	assert_int_equal(moat_acpi_describe_ivrs(b.buf, len, &o->d, &diag), MOAT_ERR_CHECKSUM);
	assert_int_equal(diag.offset, 9);
	assert_int_equal(o->d.units_count, 0);
	assert_int_equal(o->d.devsets_count, 0);
	assert_int_equal(o->d.regions_count, 0);
	assert_int_equal(o->d.specials_count, 0);
	assert_int_equal(o->d.skipped, 0);
	assert_int_equal(o->d.flags, 0);
	assert_int_equal(o->d.vendor, MOAT_VENDOR_NONE);

	assert_int_equal(moat_acpi_describe_ivrs(b.buf, len, NULL, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_acpi_describe_ivrs(NULL, len, &o->d, &diag), MOAT_ERR_INVALID_ARG);
	o->d.units = NULL;
	assert_int_equal(moat_acpi_describe_ivrs(b.buf, len, &o->d, &diag), MOAT_ERR_INVALID_ARG);
	free(o);
}

/* Every real table: one unit per distinct IOMMU, of the highest type; IVMDs and skips counted. */
static void every_corpus_table_describes_one_unit_per_iommu(void **state)
{
	(void)state;
	char dir[512];
	DIR *dp;
	struct dirent *de;
	unsigned tables = 0;
	static uint8_t buf[65536];
	struct out *o = malloc(sizeof(*o));

	snprintf(dir, sizeof(dir), "%s/ivrs", MOAT_CORPUS_DIR);
	dp = opendir(dir);
	assert_non_null(dp);
	while ((de = readdir(dp))) {
		char name[256];
		size_t n = strlen(de->d_name);
		if (n < 10 || strcmp(de->d_name + n - 9, ".ivrs.dat"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int)(n - 9), de->d_name);
		size_t len = ivrs_load(name, buf, sizeof(buf));
		struct moat_diag diag = { 0 };
		assert_int_equal(describe(o, buf, len, &diag), MOAT_OK);

		/* The expectation, from a plain walk: distinct IOMMUs and the highest type of each. */
		struct moat_ivrs_info info;
		struct moat_ivrs_iter it, first;
		struct moat_ivrs_struct s, seen[64];
		unsigned nseen = 0, ivmds = 0, unknown = 0, ioapics = 0;
		assert_int_equal(moat_ivrs_open(buf, len, &info, &it, NULL), MOAT_OK);
		first = it;
		while (moat_ivrs_next(&it, &s, NULL) == MOAT_OK) {
			if (s.kind == MOAT_IVRS_KIND_IVMD)
				ivmds++;
			if (s.kind == MOAT_IVRS_KIND_UNKNOWN)
				unknown++;
			if (s.kind != MOAT_IVRS_KIND_IVHD)
				continue;
			unsigned k;
			for (k = 0; k < nseen; k++)
				if (seen[k].device_id == s.device_id && seen[k].segment == s.segment)
					break;
			if (k == nseen) {
				assert_true(nseen < 64);
				seen[nseen++] = s;
			} else if (s.type > seen[k].type) {
				seen[k] = s;
			}
		}
		for (unsigned k = 0; k < nseen; k++) {
			struct moat_ivhd_iter eit;
			struct moat_ivhd_entry e;
			moat_ivrs_entries_begin(&first, &seen[k], &eit);
			while (moat_ivrs_entry_next(&eit, &e, NULL) == MOAT_OK)
				ioapics += e.type == MOAT_IVHD_ENTRY_SPECIAL &&
					   e.variety == MOAT_IVHD_SPECIAL_IOAPIC;
		}
		assert_int_equal(o->d.units_count, nseen);
		assert_int_equal(o->d.regions_count, ivmds);
		assert_int_equal(o->d.skipped, unknown);
		assert_int_equal(o->d.address_width, MOAT_IVINFO_PA_SIZE(info.ivinfo));
		assert_true(o->d.address_width == 40 || o->d.address_width == 48 || o->d.address_width == 52);
		assert_int_equal(o->d.flags, ioapics ? MOAT_SYS_INTR_REMAP : 0);
		for (unsigned k = 0; k < nseen; k++) {
			unsigned u;
			for (u = 0; u < o->d.units_count; u++)
				if (o->units[u].iommu_rid == seen[k].device_id &&
				    o->units[u].segment == seen[k].segment)
					break;
			assert_true(u < o->d.units_count);
			assert_int_equal(o->units[u].ivhd_type, seen[k].type);
			assert_int_equal(o->units[u].src_offset, seen[k].offset);
			assert_int_equal(o->units[u].register_base, seen[k].base_address);
			assert_true(o->units[u].devset_count > 0);
		}
		tables++;
	}
	closedir(dp);
	assert_true(tables >= 40);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_ivrs_gives_one_unit_its_devices_and_the_ioapic),
		cmocka_unit_test(server_with_8_iommus_in_two_types_gives_8_units_of_the_highest_type),
		cmocka_unit_test(ivmd_regions_get_kind_flags_limit_and_devices),
		cmocka_unit_test(alias_and_extended_entries_become_devsets),
		cmocka_unit_test(acpi_hid_entries_become_namespace_specials),
		cmocka_unit_test(unknown_structures_entries_and_varieties_are_counted_as_skipped),
		cmocka_unit_test(small_arrays_give_no_space_with_the_counts_needed),
		cmocka_unit_test(failed_describe_leaves_counts_zero),
		cmocka_unit_test(every_corpus_table_describes_one_unit_per_iommu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
