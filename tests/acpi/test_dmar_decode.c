/* SPDX-License-Identifier: BSD-2-Clause */
/* The DMAR raw decoder: header, every structure type, every scope type, iterators, corpus tables. */
#include "test_dmar_builder.h"

#include <dirent.h>

/*
 * A DMAR shaped like QEMU's for `-machine q35 -device intel-iommu,intremap=on`: HAW field 38 (39 bits),
 * flags INTR_REMAP, one unit at 0xfed90000 on segment 0; here with the devices listed one by one
 * (00:01.0, 00:02.0) instead of INCLUDE_PCI_ALL, and the IOAPIC (id 0) on the pseudo bus 0xff at 00.0.
 */
static size_t build_qemu(struct tb *t)
{
	tb_init(t, 38, MOAT_DMAR_FLAG_INTR_REMAP);
	tb_drhd(t, 0, 0, 0, 0xfed90000);
	tb_scope_path(t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x01u, 0u);
	tb_scope_path(t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	tb_scope_path(t, MOAT_DMAR_SCOPE_IOAPIC, 0, 0xff, 1, 0x00u, 0u);
	tb_end(t);
	return tb_finish(t);
}

static void qemu_dmar_decodes_field_by_field(void **state)
{
	(void)state;
	struct tb t;
	size_t len = build_qemu(&t);
	struct moat_dmar_info info;
	struct moat_dmar_iter it;
	struct moat_dmar_struct s;
	struct moat_dmar_scope_iter sit;
	struct moat_dmar_scope sc;
	struct moat_diag d = { 0 };

	assert_int_equal(len, 48 + 16 + 3 * 8);
	assert_int_equal(moat_dmar_open(t.b, len, &info, &it, &d), MOAT_OK);
	assert_string_equal(info.header.signature, "DMAR");
	assert_int_equal(info.header.length, len);
	assert_true(info.header.checksum_valid);
	assert_string_equal(info.header.oem_id, "MOATTS");
	assert_int_equal(info.haw, 38);
	assert_int_equal(info.address_width, 39);
	assert_int_equal(info.flags, MOAT_DMAR_FLAG_INTR_REMAP);

	assert_int_equal(moat_dmar_next(&it, &s, &d), MOAT_OK);
	assert_int_equal(s.type, MOAT_DMAR_TYPE_DRHD);
	assert_true(s.known);
	assert_int_equal(s.offset, 48);
	assert_int_equal(s.length, 40);
	assert_int_equal(s.drhd.flags, 0);
	assert_int_equal(s.drhd.size, 0);
	assert_int_equal(s.drhd.segment, 0);
	assert_int_equal(s.drhd.register_base, 0xfed90000);
	assert_int_equal(s.scopes_offset, 16);

	static const uint8_t want[][4] = { { 1, 0, 0x01, 0 }, { 1, 0, 0x02, 0 }, { 3, 0xff, 0x00, 0 } };
	moat_dmar_scopes(&s, &sit);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(moat_dmar_scope_next(&sit, &sc, &d), MOAT_OK);
		assert_int_equal(sc.type, want[i][0]);
		assert_int_equal(sc.length, 8);
		assert_int_equal(sc.enumeration_id, 0);
		assert_int_equal(sc.start_bus, want[i][1]);
		assert_int_equal(sc.path_count, 1);
		assert_int_equal(sc.path[0], want[i][2]);
		assert_int_equal(sc.path[1], want[i][3]);
		assert_int_equal(sc.offset, 48 + 16 + 8 * i);
	}
	assert_int_equal(moat_dmar_scope_next(&sit, &sc, &d), MOAT_END);
	assert_int_equal(moat_dmar_scope_next(&sit, &sc, &d), MOAT_END);
	assert_int_equal(moat_dmar_next(&it, &s, &d), MOAT_END);
	assert_int_equal(moat_dmar_next(&it, &s, &d), MOAT_END);
	assert_int_equal(moat_dmar_check(t.b, len, &d), MOAT_OK);
}

static void multi_segment_units_and_rmrr_keep_their_segments(void **state)
{
	(void)state;
	struct tb t;
	struct moat_dmar_info info;
	struct moat_dmar_iter it;
	struct moat_dmar_struct s;

	tb_init(&t, 45, MOAT_DMAR_FLAG_INTR_REMAP);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfbffc000);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_IOAPIC, 8, 0, 1, 0x05u, 4u);
	tb_end(&t);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 1, 0xc7ffc000);
	tb_end(&t);
	tb_rmrr(&t, 1, 0x7d000000, 0x7d0fffff);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0x80, 1, 0x1du, 0u);
	tb_end(&t);
	size_t len = tb_finish(&t);

	assert_int_equal(moat_dmar_check(t.b, len, NULL), MOAT_OK);
	assert_int_equal(moat_dmar_open(t.b, len, &info, &it, NULL), MOAT_OK);
	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	assert_int_equal(s.drhd.segment, 0);
	assert_int_equal(s.drhd.register_base, 0xfbffc000);
	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	assert_int_equal(s.type, MOAT_DMAR_TYPE_DRHD);
	assert_int_equal(s.drhd.segment, 1);
	assert_int_equal(s.length, 16);
	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	assert_int_equal(s.type, MOAT_DMAR_TYPE_RMRR);
	assert_int_equal(s.rmrr.segment, 1);
	assert_int_equal(s.rmrr.base, 0x7d000000);
	assert_int_equal(s.rmrr.limit, 0x7d0fffff);
	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_END);
}

static void every_structure_type_decodes(void **state)
{
	(void)state;
	struct tb t;
	struct moat_dmar_info info;
	struct moat_dmar_iter it;
	struct moat_dmar_struct s;
	struct moat_dmar_scope_iter sit;
	struct moat_dmar_scope sc;
	size_t sidp_scope;

	tb_init(&t, 38, MOAT_DMAR_FLAG_INTR_REMAP | MOAT_DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN);
	tb_drhd(&t, 0, 4, 0, 0xfc800000); /* VT-d 4.x size byte: 2^4 pages */
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	tb_end(&t);
	tb_rmrr(&t, 0, 0x9d800000, 0x9fffffff);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	tb_end(&t);
	tb_atsr(&t, MOAT_DMAR_ATSR_ALL_PORTS, 0);
	tb_end(&t);
	tb_rhsa(&t, 0xfc800000, 3);
	tb_end(&t);
	tb_andd(&t, 1, "\\_SB.PCI0.I2C0", 6);
	tb_end(&t);
	tb_satc(&t, MOAT_DMAR_SATC_ATC_REQUIRED, 0);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x0bu, 0u);
	tb_end(&t);
	tb_sidp(&t, 0);
	sidp_scope = tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	tb_scope_flags(&t, sidp_scope, 0x1f);
	tb_end(&t);
	tb_begin(&t, 9); /* a reserved type: 12 bytes of whatever */
	tb_u32(&t, 0xdeadbeef);
	tb_u32(&t, 0x01020304);
	tb_end(&t);
	size_t len = tb_finish(&t);

	assert_int_equal(moat_dmar_check(t.b, len, NULL), MOAT_OK);
	assert_int_equal(moat_dmar_open(t.b, len, &info, &it, NULL), MOAT_OK);
	assert_int_equal(info.flags, 5);

	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	assert_int_equal(s.drhd.size, 4);
	assert_int_equal(s.drhd.register_base, 0xfc800000);

	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	assert_int_equal(s.type, MOAT_DMAR_TYPE_RMRR);
	assert_int_equal(s.scopes_offset, 24);
	assert_int_equal(s.length, 32);

	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	assert_int_equal(s.type, MOAT_DMAR_TYPE_ATSR);
	assert_int_equal(s.atsr.flags, MOAT_DMAR_ATSR_ALL_PORTS);
	assert_int_equal(s.atsr.segment, 0);
	assert_int_equal(s.length, 8);
	moat_dmar_scopes(&s, &sit);
	assert_int_equal(moat_dmar_scope_next(&sit, &sc, NULL), MOAT_END);

	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	assert_int_equal(s.type, MOAT_DMAR_TYPE_RHSA);
	assert_int_equal(s.rhsa.register_base, 0xfc800000);
	assert_int_equal(s.rhsa.proximity_domain, 3);
	moat_dmar_scopes(&s, &sit);
	assert_int_equal(moat_dmar_scope_next(&sit, &sc, NULL), MOAT_END);

	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	assert_int_equal(s.type, MOAT_DMAR_TYPE_ANDD);
	assert_int_equal(s.andd.device_number, 1);
	/* the length comes from the structure, not the string: 8 + 15 (name and NUL) + 6 padding */
	assert_int_equal(s.length, 8 + 15 + 6);
	assert_int_equal(s.andd.name_len, 14);
	assert_int_equal(s.andd.field_len, 21);
	assert_memory_equal(s.andd.name, "\\_SB.PCI0.I2C0", 14);

	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	assert_int_equal(s.type, MOAT_DMAR_TYPE_SATC);
	assert_int_equal(s.satc.flags, MOAT_DMAR_SATC_ATC_REQUIRED);
	moat_dmar_scopes(&s, &sit);
	assert_int_equal(moat_dmar_scope_next(&sit, &sc, NULL), MOAT_OK);
	assert_int_equal(sc.path[0], 0x0b);

	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	assert_int_equal(s.type, MOAT_DMAR_TYPE_SIDP);
	assert_int_equal(s.sidp.segment, 0);
	moat_dmar_scopes(&s, &sit);
	assert_int_equal(moat_dmar_scope_next(&sit, &sc, NULL), MOAT_OK);
	assert_int_equal(sc.flags, 0x1f);

	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	assert_false(s.known);
	assert_int_equal(s.type, 9);
	assert_int_equal(s.length, 12);
	assert_null(moat_dmar_type_name(s.type));
	moat_dmar_scopes(&s, &sit);
	assert_int_equal(moat_dmar_scope_next(&sit, &sc, NULL), MOAT_END);

	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_END);
}

static void every_scope_type_and_reserved_types_decode(void **state)
{
	(void)state;
	static const uint8_t types[] = { 1, 2, 3, 4, 5, 0, 6, 0xff };
	struct tb t;
	struct moat_dmar_info info;
	struct moat_dmar_iter it;
	struct moat_dmar_struct s;
	struct moat_dmar_scope_iter sit;
	struct moat_dmar_scope sc;

	tb_init(&t, 38, 0);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed91000);
	for (unsigned i = 0; i < sizeof(types); i++)
		tb_scope_path(&t, types[i], i, 0xf0, 1, 0x1fu, i % 8);
	tb_end(&t);
	size_t len = tb_finish(&t);

	assert_int_equal(moat_dmar_check(t.b, len, NULL), MOAT_OK);
	assert_int_equal(moat_dmar_open(t.b, len, &info, &it, NULL), MOAT_OK);
	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	moat_dmar_scopes(&s, &sit);
	for (unsigned i = 0; i < sizeof(types); i++) {
		assert_int_equal(moat_dmar_scope_next(&sit, &sc, NULL), MOAT_OK);
		assert_int_equal(sc.type, types[i]);
		assert_int_equal(sc.enumeration_id, i);
		assert_int_equal(sc.start_bus, 0xf0);
		assert_int_equal(sc.path[1], i % 8);
		if (types[i] >= 1 && types[i] <= 5)
			assert_non_null(moat_dmar_scope_type_name(sc.type));
		else
			assert_null(moat_dmar_scope_type_name(sc.type));
	}
	assert_int_equal(moat_dmar_scope_next(&sit, &sc, NULL), MOAT_END);
}

static void multi_element_path_gives_every_pair(void **state)
{
	(void)state;
	struct tb t;
	struct moat_dmar_info info;
	struct moat_dmar_iter it;
	struct moat_dmar_struct s;
	struct moat_dmar_scope_iter sit;
	struct moat_dmar_scope sc;

	tb_init(&t, 38, 0);
	tb_drhd(&t, 0, 0, 0, 0xfed90000);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 3, 0x1cu, 0u, 0x00u, 0u, 0x03u, 1u);
	tb_end(&t);
	size_t len = tb_finish(&t);

	assert_int_equal(moat_dmar_open(t.b, len, &info, &it, NULL), MOAT_OK);
	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	moat_dmar_scopes(&s, &sit);
	assert_int_equal(moat_dmar_scope_next(&sit, &sc, NULL), MOAT_OK);
	assert_int_equal(sc.length, 12);
	assert_int_equal(sc.path_count, 3);
	assert_memory_equal(sc.path, ((const uint8_t[]){ 0x1c, 0, 0, 0, 3, 1 }), 6);
}

static void flags_without_intr_remap_are_kept(void **state)
{
	(void)state;
	struct tb t;
	struct moat_dmar_info info;
	struct moat_dmar_iter it;

	tb_init(&t, 38, MOAT_DMAR_FLAG_X2APIC_OPT_OUT | MOAT_DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
	size_t len = tb_finish(&t);
	assert_int_equal(moat_dmar_check(t.b, len, NULL), MOAT_OK);
	assert_int_equal(moat_dmar_open(t.b, len, &info, &it, NULL), MOAT_OK);
	assert_int_equal(info.flags, 6);
	assert_false(info.flags & MOAT_DMAR_FLAG_INTR_REMAP);
}

static void bad_checksum_is_reported_by_open_not_refused(void **state)
{
	(void)state;
	struct tb t;
	struct moat_dmar_info info;
	struct moat_dmar_iter it;
	size_t len = build_qemu(&t);

	t.b[9] ^= 0x40;
	assert_int_equal(moat_dmar_open(t.b, len, &info, &it, NULL), MOAT_OK);
	assert_false(info.header.checksum_valid);
}

static void bytes_past_the_length_field_are_ignored(void **state)
{
	(void)state;
	struct tb t;
	struct moat_dmar_info info;
	struct moat_dmar_iter it;
	struct moat_dmar_struct s;
	size_t len = build_qemu(&t);

	memset(t.b + len, 0xee, 64); /* garbage after the table, inside the buffer */
	assert_int_equal(moat_dmar_check(t.b, len + 64, NULL), MOAT_OK);
	assert_int_equal(moat_dmar_open(t.b, len + 64, &info, &it, NULL), MOAT_OK);
	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_END);
}

static void null_arguments_are_refused(void **state)
{
	(void)state;
	struct tb t;
	struct moat_dmar_info info;
	struct moat_dmar_iter it = { 0 };
	struct moat_dmar_struct s;
	struct moat_dmar_scope sc;
	struct moat_diag d;
	size_t len = build_qemu(&t);

	assert_int_equal(moat_dmar_open(NULL, len, &info, &it, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dmar_open(t.b, len, NULL, &it, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dmar_open(t.b, len, &info, NULL, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dmar_next(NULL, &s, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dmar_next(&it, &s, &d), MOAT_ERR_INVALID_ARG); /* never opened */
	assert_int_equal(moat_dmar_scope_next(NULL, &sc, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_dmar_check(NULL, 0, &d), MOAT_ERR_INVALID_ARG);
}

static void type_names(void **state)
{
	(void)state;
	assert_string_equal(moat_dmar_type_name(MOAT_DMAR_TYPE_DRHD), "DRHD");
	assert_string_equal(moat_dmar_type_name(MOAT_DMAR_TYPE_SIDP), "SIDP");
	assert_null(moat_dmar_type_name(7));
	assert_null(moat_dmar_type_name(0xffff));
	assert_string_equal(moat_dmar_scope_type_name(MOAT_DMAR_SCOPE_NAMESPACE), "namespace");
	assert_null(moat_dmar_scope_type_name(0));
}

/*
 * Every corpus table passes moat_dmar_check(); the iterators see as many structures and scopes as a
 * plain walk of the bytes, and the walk ends exactly at the table's length.
 */
static void every_corpus_table_passes_the_check(void **state)
{
	(void)state;
	char dir[512];
	DIR *dp;
	struct dirent *e;
	unsigned tables = 0;

	snprintf(dir, sizeof(dir), "%s/dmar", MOAT_CORPUS_DIR);
	dp = opendir(dir);
	assert_non_null(dp);
	while ((e = readdir(dp))) {
		size_t n = strlen(e->d_name), len;
		char path[1024];
		struct moat_diag d = { 0 };
		struct moat_dmar_info info;
		struct moat_dmar_iter it;
		struct moat_dmar_struct s;
		uint32_t end = MOAT_DMAR_HEADER_SIZE;

		if (n < 4 || strcmp(e->d_name + n - 4, ".dat"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		uint8_t *b = tb_load(path, &len);
		moat_status st = moat_dmar_check(b, len, &d);
		if (st != MOAT_OK)
			fail_msg("%s: %s at 0x%x: %s", e->d_name, moat_status_str(st), (unsigned)d.offset, d.msg);
		assert_int_equal(moat_dmar_open(b, len, &info, &it, NULL), MOAT_OK);
		assert_true(info.header.checksum_valid);
		while ((st = moat_dmar_next(&it, &s, NULL)) == MOAT_OK) {
			struct moat_dmar_scope_iter sit;
			struct moat_dmar_scope sc;
			uint32_t send = s.offset + s.scopes_offset;
			assert_int_equal(s.offset, end);
			moat_dmar_scopes(&s, &sit);
			while (moat_dmar_scope_next(&sit, &sc, NULL) == MOAT_OK) {
				assert_int_equal(sc.offset, send);
				send += sc.length;
			}
			assert_int_equal(send, s.offset + s.length);
			end += s.length;
		}
		assert_int_equal(st, MOAT_END);
		assert_int_equal(end, info.header.length);
		free(b);
		tables++;
	}
	closedir(dp);
	assert_int_equal(tables, 70);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_dmar_decodes_field_by_field),
		cmocka_unit_test(multi_segment_units_and_rmrr_keep_their_segments),
		cmocka_unit_test(every_structure_type_decodes),
		cmocka_unit_test(every_scope_type_and_reserved_types_decode),
		cmocka_unit_test(multi_element_path_gives_every_pair),
		cmocka_unit_test(flags_without_intr_remap_are_kept),
		cmocka_unit_test(bad_checksum_is_reported_by_open_not_refused),
		cmocka_unit_test(bytes_past_the_length_field_are_ignored),
		cmocka_unit_test(null_arguments_are_refused),
		cmocka_unit_test(type_names),
		cmocka_unit_test(every_corpus_table_passes_the_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
