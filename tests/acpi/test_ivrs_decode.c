/* SPDX-License-Identifier: BSD-2-Clause */
/* The raw IVRS decoder on hand-made tables: every structure and device entry type, field by field. */
#include "test_ivrs_builder.h"

struct walk {
	struct moat_ivrs_info info;
	struct moat_ivrs_iter it, first;
	struct moat_diag diag;
};

static void open_ok(struct walk *w, const void *buf, size_t len)
{
	memset(w, 0, sizeof(*w));
	assert_int_equal(moat_ivrs_open(buf, len, &w->info, &w->it, &w->diag), MOAT_OK);
	w->first = w->it;
}

static void next_ok(struct walk *w, struct moat_ivrs_struct *s)
{
	assert_int_equal(moat_ivrs_next(&w->it, s, &w->diag), MOAT_OK);
}

static void entry_ok(struct moat_ivhd_iter *eit, struct moat_ivhd_entry *e)
{
	struct moat_diag d;
	assert_int_equal(moat_ivrs_entry_next(eit, e, &d), MOAT_OK);
}

static void qemu_ivrs_decodes_one_ivhd_with_selects_and_an_ioapic(void **state)
{
	(void)state;
	struct ivrs_builder b;
	size_t len = ivrs_build_qemu(&b);
	struct walk w;
	struct moat_ivrs_struct s;
	struct moat_ivhd_iter eit;
	struct moat_ivhd_entry e;
	static const uint16_t rids[] = { 0x0000, 0x0008, 0x0010, 0x00f8, 0x00fa, 0x00fb };

	open_ok(&w, b.buf, len);
	assert_string_equal(w.info.header.signature, "IVRS");
	assert_int_equal(w.info.header.length, len);
	assert_int_equal(w.info.header.revision, 1);
	assert_true(w.info.header.checksum_valid);
	assert_int_equal(MOAT_IVINFO_PA_SIZE(w.info.ivinfo), 40);
	assert_true(w.info.ivinfo & MOAT_IVINFO_EFR_SUP);

	next_ok(&w, &s);
	assert_int_equal(s.kind, MOAT_IVRS_KIND_IVHD);
	assert_int_equal(s.type, 0x10);
	assert_int_equal(s.flags, 0xd1);
	assert_int_equal(s.offset, 48);
	assert_int_equal(s.length, 24 + 6 * 4 + 8);
	assert_int_equal(s.device_id, 0x0008);
	assert_int_equal(s.capability_offset, 0x40);
	assert_int_equal(s.base_address, 0xfed80000ull);
	assert_int_equal(s.segment, 0);
	assert_int_equal(s.feature, 4);
	assert_int_equal(s.efr, 0);
	assert_int_equal(s.entries_offset, 48 + 24);

	moat_ivrs_entries_begin(&w.it, &s, &eit);
	for (unsigned i = 0; i < ARRAY_SIZE(rids); i++) {
		entry_ok(&eit, &e);
		assert_int_equal(e.type, MOAT_IVHD_ENTRY_SELECT);
		assert_int_equal(e.device_id, rids[i]);
		assert_int_equal(e.length, 4);
		assert_int_equal(e.offset, 72 + 4 * i);
		assert_true(e.known);
	}
	entry_ok(&eit, &e);
	assert_int_equal(e.type, MOAT_IVHD_ENTRY_SPECIAL);
	assert_int_equal(e.length, 8);
	assert_int_equal(e.handle, 0);
	assert_int_equal(e.source_id, 0x00a0);
	assert_int_equal(e.variety, MOAT_IVHD_SPECIAL_IOAPIC);
	assert_int_equal(moat_ivrs_entry_next(&eit, &e, NULL), MOAT_END);
	assert_int_equal(moat_ivrs_next(&w.it, &s, NULL), MOAT_END);
	assert_int_equal(moat_ivrs_next(&w.it, &s, NULL), MOAT_END);
	assert_int_equal(moat_ivrs_check(b.buf, len, NULL), MOAT_OK);
}

static void ivmd_types_20h_21h_22h_decode_their_devices_and_memory(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct walk w;
	struct moat_ivrs_struct s;
	struct moat_ivhd_iter eit;
	struct moat_ivhd_entry e;

	ivrs_begin(&b, 2, 0x00203041);
	ivrs_ivmd(&b, MOAT_IVRS_TYPE_IVMD_ALL, MOAT_IVMD_F_UNITY | MOAT_IVMD_F_IR | MOAT_IVMD_F_IW, 0, 0,
		  0xa0000, 0x20000);
	ivrs_ivmd(&b, MOAT_IVRS_TYPE_IVMD_SELECT, MOAT_IVMD_F_EXCLUSION, 0x0200, 0, 0x34772000, 0x28000);
	ivrs_ivmd(&b, MOAT_IVRS_TYPE_IVMD_RANGE, MOAT_IVMD_F_UNITY | MOAT_IVMD_F_IR, 0x0100, 0x01ff,
		  0xfffffffffffff000ull, 0x1000);
	size_t len = ivrs_finish(&b);

	open_ok(&w, b.buf, len);
	next_ok(&w, &s);
	assert_int_equal(s.kind, MOAT_IVRS_KIND_IVMD);
	assert_int_equal(s.type, 0x20);
	assert_int_equal(s.flags, 7);
	assert_int_equal(s.start, 0xa0000);
	assert_int_equal(s.mem_length, 0x20000);
	moat_ivrs_entries_begin(&w.it, &s, &eit);
	assert_int_equal(moat_ivrs_entry_next(&eit, &e, NULL), MOAT_END);
	next_ok(&w, &s);
	assert_int_equal(s.type, 0x21);
	assert_int_equal(s.flags, MOAT_IVMD_F_EXCLUSION);
	assert_int_equal(s.device_id, 0x0200);
	assert_int_equal(s.start, 0x34772000);
	assert_int_equal(s.mem_length, 0x28000);
	next_ok(&w, &s);
	assert_int_equal(s.type, 0x22);
	assert_int_equal(s.device_id, 0x0100);
	assert_int_equal(s.aux_data, 0x01ff);
	assert_int_equal(s.start, 0xfffffffffffff000ull); /* the last page of the 64-bit space fits */
	assert_int_equal(s.offset, 48 + 64);
	assert_int_equal(moat_ivrs_next(&w.it, &s, NULL), MOAT_END);
	assert_int_equal(moat_ivrs_check(b.buf, len, NULL), MOAT_OK);
}

static void alias_entries_give_the_alias_and_ranges_their_start(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct walk w;
	struct moat_ivrs_struct s;
	struct moat_ivhd_iter eit;
	struct moat_ivhd_entry e;

	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x11, 0x30, 0x0002, 0x40, 0xfd200000, 0, 0, 0, 0);
	ivrs_entry_alias(&b, MOAT_IVHD_ENTRY_ALIAS_SELECT, 0x0300, 0x01, 0x00a4);
	ivrs_entry_alias(&b, MOAT_IVHD_ENTRY_ALIAS_RANGE, 0x0100, 0x02, 0x00a5);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_END, 0x01ff, 0);
	size_t len = ivrs_finish(&b);

	open_ok(&w, b.buf, len);
	next_ok(&w, &s);
	assert_int_equal(s.entries_offset, 48 + 40);
	moat_ivrs_entries_begin(&w.it, &s, &eit);
	entry_ok(&eit, &e);
	assert_int_equal(e.type, 66);
	assert_int_equal(e.length, 8);
	assert_int_equal(e.device_id, 0x0300);
	assert_int_equal(e.alias_id, 0x00a4);
	assert_int_equal(e.setting, 1);
	entry_ok(&eit, &e);
	assert_int_equal(e.type, 67);
	assert_int_equal(e.alias_id, 0x00a5);
	entry_ok(&eit, &e);
	assert_int_equal(e.type, MOAT_IVHD_ENTRY_RANGE_END);
	assert_int_equal(e.device_id, 0x01ff);
	assert_int_equal(e.range.start_type, 67);
	assert_int_equal(e.range.first, 0x0100);
	assert_int_equal(e.range.alias_id, 0x00a5);
	assert_int_equal(e.range.setting, 2);
	assert_int_equal(e.range.start_offset, 48 + 40 + 8);
	assert_int_equal(moat_ivrs_entry_next(&eit, &e, NULL), MOAT_END);
	assert_int_equal(moat_ivrs_check(b.buf, len, NULL), MOAT_OK);
}

static void extended_entries_give_their_extended_setting(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct walk w;
	struct moat_ivrs_struct s;
	struct moat_ivhd_iter eit;
	struct moat_ivhd_entry e;

	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x40, 0x30, 0x0002, 0x40, 0xfd200000, 0, 0, 0, 0);
	ivrs_entry_ext(&b, MOAT_IVHD_ENTRY_EXT_SELECT, 0x0400, 0, MOAT_IVHD_EXT_ATS_DISABLED);
	ivrs_entry_ext(&b, MOAT_IVHD_ENTRY_EXT_RANGE, 0x0500, 0x40, 0x12345678);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_END, 0x05ff, 0);
	size_t len = ivrs_finish(&b);

	open_ok(&w, b.buf, len);
	next_ok(&w, &s);
	moat_ivrs_entries_begin(&w.it, &s, &eit);
	entry_ok(&eit, &e);
	assert_int_equal(e.type, 70);
	assert_int_equal(e.length, 8);
	assert_int_equal(e.ext_setting, MOAT_IVHD_EXT_ATS_DISABLED);
	entry_ok(&eit, &e);
	assert_int_equal(e.type, 71);
	assert_int_equal(e.ext_setting, 0x12345678);
	entry_ok(&eit, &e);
	assert_int_equal(e.range.start_type, 71);
	assert_int_equal(e.range.ext_setting, 0x12345678);
	assert_int_equal(e.range.setting, 0x40);
	assert_int_equal(e.range.first, 0x0500);
	assert_int_equal(e.device_id, 0x05ff);
	assert_int_equal(moat_ivrs_entry_next(&eit, &e, NULL), MOAT_END);
}

static void acpi_hid_entries_take_their_length_from_the_uid(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct walk w;
	struct moat_ivrs_struct s;
	struct moat_ivhd_iter eit;
	struct moat_ivhd_entry e;
	static const uint8_t zero[8];
	static const uint8_t eisa_pnp0a03[8] = { 0x41, 0xd0, 0x0a, 0x03 };
	static const uint8_t uid_int2[2] = { 0x02, 0x01 };
	static const uint8_t uid_int8[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	char buf[64], id[17];

	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x40, 0x30, 0x0002, 0x40, 0xfd200000, 0, 0, 0, 0);
	ivrs_entry_hid(&b, 0x00a5, 0x40, "AMDI0020", zero, MOAT_IVHD_UID_STRING, "\\_SB.FUR0", 9);
	ivrs_entry_hid(&b, 0x0060, 0x40, "MSFT0201", eisa_pnp0a03, MOAT_IVHD_UID_INTEGER, uid_int2, 2);
	ivrs_entry_hid(&b, 0x0061, 0, "AMDI0041", zero, MOAT_IVHD_UID_INTEGER, uid_int8, 8);
	ivrs_entry_hid(&b, 0x0062, 0, "PNP0D40\0", zero, MOAT_IVHD_UID_NONE, NULL, 0);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_SELECT, 0x0063, 0);
	size_t len = ivrs_finish(&b);

	open_ok(&w, b.buf, len);
	next_ok(&w, &s);
	moat_ivrs_entries_begin(&w.it, &s, &eit);

	entry_ok(&eit, &e);
	assert_int_equal(e.type, MOAT_IVHD_ENTRY_ACPI_HID);
	assert_int_equal(e.length, 22 + 9);
	assert_int_equal(e.device_id, 0x00a5);
	assert_int_equal(e.uid_format, MOAT_IVHD_UID_STRING);
	assert_int_equal(e.uid_length, 9);
	assert_memory_equal(e.uid, "\\_SB.FUR0", 9);
	moat_ivhd_acpi_id(e.hid, id);
	assert_string_equal(id, "AMDI0020");
	moat_ivhd_acpi_id(e.cid, id);
	assert_string_equal(id, "");
	assert_int_equal(moat_ivhd_uid_string(&e, buf, sizeof(buf)), 9);
	assert_string_equal(buf, "\\_SB.FUR0");
	assert_int_equal(moat_ivhd_uid_string(&e, buf, 4), 9); /* cut, still NUL-terminated */
	assert_string_equal(buf, "\\_S");

	entry_ok(&eit, &e);
	assert_int_equal(e.length, 22 + 2);
	assert_int_equal(e.offset, 48 + 40 + 31);
	moat_ivhd_acpi_id(e.cid, id);
	assert_string_equal(id, "PNP0A03");
	moat_ivhd_uid_string(&e, buf, sizeof(buf));
	assert_string_equal(buf, "258");

	entry_ok(&eit, &e);
	assert_int_equal(e.length, 22 + 8);
	moat_ivhd_uid_string(&e, buf, sizeof(buf));
	assert_string_equal(buf, "18446744073709551615");

	entry_ok(&eit, &e);
	assert_int_equal(e.length, 22);
	assert_null(e.uid);
	moat_ivhd_acpi_id(e.hid, id);
	assert_string_equal(id, "PNP0D40");
	assert_int_equal(moat_ivhd_uid_string(&e, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	entry_ok(&eit, &e); /* the select behind the variable-length entries is where it should be */
	assert_int_equal(e.type, MOAT_IVHD_ENTRY_SELECT);
	assert_int_equal(e.device_id, 0x0063);
	assert_int_equal(moat_ivrs_entry_next(&eit, &e, NULL), MOAT_END);
	assert_int_equal(moat_ivrs_check(b.buf, len, NULL), MOAT_OK);
}

static void pad_and_unknown_entries_are_skipped_by_their_type_class(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct walk w;
	struct moat_ivrs_struct s;
	struct moat_ivhd_iter eit;
	struct moat_ivhd_entry e;
	static const struct {
		uint8_t type;
		unsigned length;
		bool known;
	} cases[] = { { 0, 4, true }, { 5, 4, false }, { 63, 4, false }, { 64, 8, true }, { 65, 8, false },
		      { 73, 8, false }, { 0x80, 16, false }, { 0xbf, 16, false }, { 0xc0, 32, false },
		      { 0xf1, 32, false }, { 0xff, 32, false } };

	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x10, 0, 0x0002, 0x40, 0xfd200000, 0, 0, 0, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		ivrs_entry4(&b, cases[i].type, (uint16_t)(0x100 + i), 0);
		for (unsigned k = 4; k < cases[i].length; k++)
			ivrs_put(&b, 0xee, 1);
		ivrs_entry4(&b, MOAT_IVHD_ENTRY_SELECT, (uint16_t)i, 0);
	}
	size_t len = ivrs_finish(&b);

	open_ok(&w, b.buf, len);
	next_ok(&w, &s);
	moat_ivrs_entries_begin(&w.it, &s, &eit);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		entry_ok(&eit, &e);
		assert_int_equal(e.type, cases[i].type);
		assert_int_equal(e.length, cases[i].length);
		assert_int_equal(e.known, cases[i].known);
		assert_int_equal(e.device_id, 0x100 + i);
		entry_ok(&eit, &e);
		assert_int_equal(e.type, MOAT_IVHD_ENTRY_SELECT);
		assert_int_equal(e.device_id, i);
	}
	assert_int_equal(moat_ivrs_entry_next(&eit, &e, NULL), MOAT_END);
	assert_int_equal(moat_ivrs_check(b.buf, len, NULL), MOAT_OK);
}

static void unknown_structure_0x51_is_skipped_by_its_length(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct walk w;
	struct moat_ivrs_struct s;

	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x10, 0, 0x0002, 0x40, 0xfd200000, 0, 0, 0, 0);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_ALL, 0, 0);
	ivrs_raw_struct(&b, 0x51, 32);
	ivrs_raw_struct(&b, 0x30, 4);
	ivrs_ivmd(&b, 0x21, MOAT_IVMD_F_UNITY, 0x10, 0, 0x1000, 0x1000);
	size_t len = ivrs_finish(&b);

	open_ok(&w, b.buf, len);
	next_ok(&w, &s);
	assert_int_equal(s.kind, MOAT_IVRS_KIND_IVHD);
	next_ok(&w, &s);
	assert_int_equal(s.kind, MOAT_IVRS_KIND_UNKNOWN);
	assert_int_equal(s.type, 0x51);
	assert_int_equal(s.length, 32);
	assert_int_equal(s.offset, 48 + 28);
	next_ok(&w, &s);
	assert_int_equal(s.kind, MOAT_IVRS_KIND_UNKNOWN);
	assert_int_equal(s.length, 4);
	next_ok(&w, &s);
	assert_int_equal(s.kind, MOAT_IVRS_KIND_IVMD);
	assert_int_equal(s.offset, 48 + 28 + 36);
	assert_int_equal(moat_ivrs_next(&w.it, &s, NULL), MOAT_END);
	assert_int_equal(moat_ivrs_check(b.buf, len, NULL), MOAT_OK);
}

static void highest_ivhd_type_of_each_iommu_is_preferred(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct walk w;
	struct moat_ivrs_struct s;
	/* One IOMMU as 10h, 40h, 11h; one as 10h only; the same device id on segment 1 as 11h. */
	static const struct {
		uint8_t type;
		uint16_t devid, seg;
		bool preferred;
	} cases[] = { { 0x10, 2, 0, false }, { 0x40, 2, 0, true }, { 0x11, 2, 0, false },
		      { 0x10, 0x42, 0, true }, { 0x11, 2, 1, true }, { 0x11, 2, 1, false } };

	ivrs_begin(&b, 2, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++)
		ivrs_ivhd(&b, cases[i].type, 0, cases[i].devid, 0x40, 0xfd200000 + 0x80000 * i, cases[i].seg, 0, 0,
			  0);
	ivrs_ivmd(&b, 0x20, MOAT_IVMD_F_UNITY, 0, 0, 0x1000, 0x1000);
	size_t len = ivrs_finish(&b);

	open_ok(&w, b.buf, len);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		next_ok(&w, &s);
		assert_int_equal(s.type, cases[i].type);
		assert_int_equal(moat_ivrs_ivhd_preferred(&w.first, &s), cases[i].preferred);
	}
	next_ok(&w, &s);
	assert_false(moat_ivrs_ivhd_preferred(&w.first, &s)); /* an IVMD is no IVHD */
}

static void register_size_grows_with_performance_counters(void **state)
{
	(void)state;
	struct moat_ivrs_struct s = { .kind = MOAT_IVRS_KIND_IVHD, .type = 0x10 };

	assert_int_equal(moat_ivrs_register_size(&s), 0x4000);
	s.feature = 0x80048f6e; /* corpus: 4 counters in 2 banks */
	assert_int_equal(moat_ivrs_register_size(&s), 0x80000);
	s.feature = 4u << 13;   /* counters but no bank */
	assert_int_equal(moat_ivrs_register_size(&s), 0x4000);
	s.type = 0x11;
	s.feature = 0x80048f6e; /* the 11h attributes do not decide: the EFR does */
	assert_int_equal(moat_ivrs_register_size(&s), 0x4000);
	s.efr = MOAT_EFR_PC_SUP;
	assert_int_equal(moat_ivrs_register_size(&s), 0x80000);
	s.type = 0x40;
	assert_int_equal(moat_ivrs_register_size(&s), 0x80000);
}

static void acpi_ids_come_as_strings_eisa_ids_or_hex(void **state)
{
	(void)state;
	static const uint8_t str[8] = { 'A', 'M', 'D', 'I', '0', '0', '2', '0' };
	static const uint8_t shortstr[8] = { 'P', 'N', 'P', '0', 'D', '4', '0', 0 };
	static const uint8_t eisa[8] = { 0x41, 0xd0, 0x0c, 0x31 };  /* PNP0C31 */
	static const uint8_t other[8] = { 1, 2, 3, 4, 5, 6, 7, 0x88 };
	static const uint8_t zero[8];
	char id[17];

	moat_ivhd_acpi_id(str, id);
	assert_string_equal(id, "AMDI0020");
	moat_ivhd_acpi_id(shortstr, id);
	assert_string_equal(id, "PNP0D40");
	moat_ivhd_acpi_id(eisa, id);
	assert_string_equal(id, "PNP0C31");
	moat_ivhd_acpi_id(other, id);
	assert_string_equal(id, "8807060504030201");
	moat_ivhd_acpi_id(zero, id);
	assert_string_equal(id, "");
}

static void header_problems_name_offset_0_or_4(void **state)
{
	(void)state;
	struct ivrs_builder b;
	struct moat_ivrs_info info;
	struct moat_ivrs_iter it;
	struct moat_ivrs_struct s;
	struct moat_diag d;
	size_t len = ivrs_build_qemu(&b);

	assert_int_equal(moat_ivrs_open(b.buf, 35, &info, &it, &d), MOAT_ERR_TRUNCATED);
	assert_int_equal(d.offset, 0);
	assert_string_equal(d.table, "IVRS");
	assert_int_equal(moat_ivrs_next(&it, &s, NULL), MOAT_END);

	assert_int_equal(moat_ivrs_open(b.buf, len - 1, &info, &it, &d), MOAT_ERR_TRUNCATED);
	assert_int_equal(d.offset, 4);
	assert_int_equal(info.header.length, len);
	assert_false(info.header.checksum_valid);
	/* What the buffer holds still walks, up to the cut structure. */
	assert_int_equal(moat_ivrs_next(&it, &s, NULL), MOAT_ERR_TRUNCATED);
	assert_int_equal(moat_ivrs_next(&it, &s, NULL), MOAT_END);

	ivrs_set_length(b.buf, 40);
	assert_int_equal(moat_ivrs_open(b.buf, len, &info, &it, &d), MOAT_ERR_MALFORMED);
	assert_int_equal(d.offset, 4);
	assert_int_equal(moat_ivrs_next(&it, &s, NULL), MOAT_END);
	assert_int_equal(moat_ivrs_check(b.buf, len, &d), MOAT_ERR_MALFORMED);

	ivrs_build_qemu(&b);
	memcpy(b.buf, "DMAR", 4);
	ivrs_fix_checksum(b.buf, len);
	assert_int_equal(moat_ivrs_open(b.buf, len, &info, &it, &d), MOAT_ERR_MALFORMED);
	assert_int_equal(d.offset, 0);

	assert_int_equal(moat_ivrs_open(NULL, len, &info, &it, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_ivrs_open(b.buf, len, NULL, &it, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_ivrs_check(NULL, 0, &d), MOAT_ERR_INVALID_ARG);
}

static void bytes_past_the_length_field_are_ignored(void **state)
{
	(void)state;
	struct ivrs_builder b;
	size_t len = ivrs_build_qemu(&b);

	memset(b.buf + len, 0xff, 64); /* a sysfs file or dump may hold more than the table */
	assert_int_equal(moat_ivrs_check(b.buf, len + 64, NULL), MOAT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_ivrs_decodes_one_ivhd_with_selects_and_an_ioapic),
		cmocka_unit_test(ivmd_types_20h_21h_22h_decode_their_devices_and_memory),
		cmocka_unit_test(alias_entries_give_the_alias_and_ranges_their_start),
		cmocka_unit_test(extended_entries_give_their_extended_setting),
		cmocka_unit_test(acpi_hid_entries_take_their_length_from_the_uid),
		cmocka_unit_test(pad_and_unknown_entries_are_skipped_by_their_type_class),
		cmocka_unit_test(unknown_structure_0x51_is_skipped_by_its_length),
		cmocka_unit_test(highest_ivhd_type_of_each_iommu_is_preferred),
		cmocka_unit_test(register_size_grows_with_performance_counters),
		cmocka_unit_test(acpi_ids_come_as_strings_eisa_ids_or_hex),
		cmocka_unit_test(header_problems_name_offset_0_or_4),
		cmocka_unit_test(bytes_past_the_length_field_are_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
