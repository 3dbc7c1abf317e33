/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile IVRS tables: real tables cut at every byte, every structure's length corrupted, device
 * entries running past their IVHD, broken ranges, impossible values. Each case asserts the status
 * and the diag offset, and that a failed description describes nothing. The buffers handed to the
 * decoder are exactly as long as the case says, so the sanitizers see any read past them.
 */
#include "test_ivrs_builder.h"

static const char *const tables[] = {
	"lenovo-yoga-slim-7-14apu8-83aa",          /* 10h/11h/40h, IVMD 21h, unknown 0x51, ACPI HID */
	"asus-zenbook-s-16-um5606wa-um5606wa",     /* integer UID, IVMD 21h x2 */
	"mechrevo-wujie14xa",                      /* IVMD 22h x5 */
	"supermicro-h8dgu",                        /* revision 1, selects, alias range */
	"asus-rog-zenith-ii-extreme-alpha",        /* 4 IOMMUs as 10h and 11h */
	"acer-aspire-a315-42g",                    /* ACPI HID without UID at the table's end */
};

#define TMAX 4096

struct table {
	uint8_t bytes[TMAX];
	size_t len;
	uint32_t bounds[64]; /* offsets of the structures, then the table's end */
	unsigned nbounds;
};

static void load(struct table *t, const char *name)
{
	struct moat_ivrs_info info;
	struct moat_ivrs_iter it;
	struct moat_ivrs_struct s;

	t->len = ivrs_load(name, t->bytes, sizeof(t->bytes));
	t->nbounds = 0;
	assert_int_equal(moat_ivrs_open(t->bytes, t->len, &info, &it, NULL), MOAT_OK);
	while (moat_ivrs_next(&it, &s, NULL) == MOAT_OK)
		t->bounds[t->nbounds++] = s.offset;
	t->bounds[t->nbounds++] = (uint32_t)t->len;
	assert_int_equal(moat_ivrs_check(t->bytes, t->len, NULL), MOAT_OK);
}

/* check() and describe() on exactly @len bytes copied from @p: same status and offset; counts zero. */
static moat_status run(const uint8_t *p, size_t len, struct moat_diag *d)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct moat_unit_desc units[16];
	struct moat_devset devsets[64];
	struct moat_region_desc regions[16];
	struct moat_special_desc specials[32];
	struct moat_sysdesc desc = {
		.units = units, .units_cap = 16, .devsets = devsets, .devsets_cap = 64,
		.regions = regions, .regions_cap = 16, .specials = specials, .specials_cap = 32,
	};
	struct moat_diag d2 = { 0 };
	moat_status st, st2;

	memcpy(copy, p, len);
	memset(d, 0, sizeof(*d));
	st = moat_ivrs_check(copy, len, d);
	st2 = moat_acpi_describe_ivrs(copy, len, &desc, &d2);
	free(copy);

	assert_int_equal(st2, st);
	if (st != MOAT_OK) {
		assert_int_equal(d->status, st);
		assert_string_equal(d->table, "IVRS");
		assert_true(d->msg[0] != '\0');
		assert_true(d->offset == 0 || d->offset < len);
		assert_int_equal(d2.offset, d->offset);
		assert_int_equal(desc.units_count, 0);
		assert_int_equal(desc.devsets_count + desc.regions_count + desc.specials_count, 0);
		assert_int_equal(desc.vendor, MOAT_VENDOR_NONE);
	}
	return st;
}

static void expect(const uint8_t *p, size_t len, moat_status want, uint32_t offset)
{
	struct moat_diag d;
	moat_status st = run(p, len, &d);

	if (st != want || (want != MOAT_OK && d.offset != offset)) {
		char msg[256];
		fail_msg("want %s at 0x%x, got %s: %s", moat_status_str(want), offset, moat_status_str(st),
			 moat_diag_format(&d, msg, sizeof(msg)));
	}
}

static void real_tables_cut_at_every_byte_report_truncation(void **state)
{
	(void)state;
	struct table *t = malloc(sizeof(*t));
	uint8_t *patched = malloc(TMAX);

	for (unsigned i = 0; i < ARRAY_SIZE(tables); i++) {
		load(t, tables[i]);
		for (size_t cut = 0; cut < t->len; cut++) {
			/* The length field still says the whole table. */
			expect(t->bytes, cut, MOAT_ERR_TRUNCATED, cut < MOAT_ACPI_HEADER_SIZE ? 0 : 4);
			if (cut < MOAT_ACPI_HEADER_SIZE)
				continue;
			/* The length field says the cut, the checksum fits. */
			memcpy(patched, t->bytes, cut);
			ivrs_set_length(patched, cut);
			if (cut < MOAT_IVRS_HEADER_SIZE) {
				expect(patched, cut, MOAT_ERR_MALFORMED, 4);
				continue;
			}
			unsigned k = 0;
			while (k + 1 < t->nbounds && t->bounds[k + 1] <= cut)
				k++;
			if (t->bounds[k] == cut)
				expect(patched, cut, MOAT_OK, 0);    /* cut between structures */
			else
				expect(patched, cut, MOAT_ERR_TRUNCATED, t->bounds[k]);
		}
	}
	free(t);
	free(patched);
}

static void corrupt_structure_lengths_at_every_structure(void **state)
{
	(void)state;
	struct table *t = malloc(sizeof(*t));
	uint8_t *p = malloc(TMAX);

	for (unsigned i = 0; i < ARRAY_SIZE(tables); i++) {
		load(t, tables[i]);
		for (unsigned k = 0; k + 1 < t->nbounds; k++) {
			uint32_t o = t->bounds[k];
			uint8_t type = t->bytes[o];
			uint16_t bad[5] = { 0, 3, 0, (uint16_t)(t->len - o + 1), 0xffff };
			moat_status want[5] = { MOAT_ERR_MALFORMED, MOAT_ERR_MALFORMED, MOAT_ERR_MALFORMED,
						MOAT_ERR_TRUNCATED, MOAT_ERR_TRUNCATED };
			uint32_t at[5] = { o + 2, o + 2, o + 2, o, o };
			unsigned n = 5;

			if (type == 0x10)
				bad[2] = 23;
			else if (type == 0x11 || type == 0x40)
				bad[2] = 39;
			else if (type >= 0x20 && type <= 0x22)
				bad[2] = 31;
			else
				bad[2] = 2;
			for (unsigned c = 0; c < n; c++) {
				memcpy(p, t->bytes, t->len);
				ivrs_set16(p + o + 2, bad[c]);
				ivrs_fix_checksum(p, t->len);
				expect(p, t->len, want[c], at[c]);
			}
		}
	}
	free(t);
	free(p);
}

/* For each IVHD of the real tables: the offset of its last device entry (walked on the good table). */
static unsigned ivhds_of(const struct table *t, uint32_t *off, uint32_t *last, unsigned max)
{
	struct moat_ivrs_info info;
	struct moat_ivrs_iter it;
	struct moat_ivrs_struct s;
	unsigned n = 0;

	assert_int_equal(moat_ivrs_open(t->bytes, t->len, &info, &it, NULL), MOAT_OK);
	while (moat_ivrs_next(&it, &s, NULL) == MOAT_OK) {
		struct moat_ivhd_iter eit;
		struct moat_ivhd_entry e;
		if (s.kind != MOAT_IVRS_KIND_IVHD)
			continue;
		assert_true(n < max);
		off[n] = s.offset;
		last[n] = 0;
		moat_ivrs_entries_begin(&it, &s, &eit);
		while (moat_ivrs_entry_next(&eit, &e, NULL) == MOAT_OK)
			last[n] = e.offset;
		assert_true(last[n] != 0);
		n++;
	}
	return n;
}

static void entries_running_past_their_ivhd_at_every_ivhd(void **state)
{
	(void)state;
	struct table *t = malloc(sizeof(*t));
	uint8_t *p = malloc(TMAX);
	uint32_t off[16], last[16];

	for (unsigned i = 0; i < ARRAY_SIZE(tables); i++) {
		load(t, tables[i]);
		unsigned n = ivhds_of(t, off, last, 16);
		for (unsigned k = 0; k < n; k++) {
			uint16_t len = ivrs_get16(t->bytes + off[k] + 2);
			for (unsigned cut = 1; cut <= 3; cut++) {
				memcpy(p, t->bytes, t->len);
				ivrs_set16(p + off[k] + 2, (uint16_t)(len - cut));
				ivrs_fix_checksum(p, t->len);
				expect(p, t->len, MOAT_ERR_TRUNCATED, last[k]);
			}
		}
	}
	free(t);
	free(p);
}

/* Every ACPI HID entry of the real tables with a UID length that runs past its IVHD. */
static void acpi_hid_uid_running_past_its_ivhd(void **state)
{
	(void)state;
	struct table *t = malloc(sizeof(*t));
	uint8_t *p = malloc(TMAX);
	unsigned hids = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(tables); i++) {
		struct moat_ivrs_info info;
		struct moat_ivrs_iter it;
		struct moat_ivrs_struct s;

		load(t, tables[i]);
		assert_int_equal(moat_ivrs_open(t->bytes, t->len, &info, &it, NULL), MOAT_OK);
		while (moat_ivrs_next(&it, &s, NULL) == MOAT_OK) {
			struct moat_ivhd_iter eit;
			struct moat_ivhd_entry e;
			moat_ivrs_entries_begin(&it, &s, &eit);
			while (moat_ivrs_entry_next(&eit, &e, NULL) == MOAT_OK) {
				if (e.type != MOAT_IVHD_ENTRY_ACPI_HID)
					continue;
				memcpy(p, t->bytes, t->len);
				p[e.offset + 21] = 255;
				ivrs_fix_checksum(p, t->len);
				expect(p, t->len, MOAT_ERR_TRUNCATED, e.offset);
				hids++;
			}
		}
	}
	assert_true(hids >= 5);
	free(t);
	free(p);
}

/* Range starts turned into selects leave their end alone, range ends turned into selects their start. */
static void broken_ranges_in_real_tables(void **state)
{
	(void)state;
	struct table *t = malloc(sizeof(*t));
	uint8_t *p = malloc(TMAX);
	unsigned ranges = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(tables); i++) {
		struct moat_ivrs_info info;
		struct moat_ivrs_iter it;
		struct moat_ivrs_struct s;

		load(t, tables[i]);
		assert_int_equal(moat_ivrs_open(t->bytes, t->len, &info, &it, NULL), MOAT_OK);
		while (moat_ivrs_next(&it, &s, NULL) == MOAT_OK) {
			struct moat_ivhd_iter eit;
			struct moat_ivhd_entry e;
			moat_ivrs_entries_begin(&it, &s, &eit);
			while (moat_ivrs_entry_next(&eit, &e, NULL) == MOAT_OK) {
				if (e.type != MOAT_IVHD_ENTRY_RANGE_END)
					continue;
				/* the end becomes a select: the start is left open */
				memcpy(p, t->bytes, t->len);
				p[e.offset] = MOAT_IVHD_ENTRY_SELECT;
				ivrs_fix_checksum(p, t->len);
				expect(p, t->len, MOAT_ERR_MALFORMED, e.range.start_offset);
				/* a 4-byte start becomes a select: the end has no start */
				if (e.range.start_type == MOAT_IVHD_ENTRY_RANGE_START) {
					memcpy(p, t->bytes, t->len);
					p[e.range.start_offset] = MOAT_IVHD_ENTRY_SELECT;
					ivrs_fix_checksum(p, t->len);
					expect(p, t->len, MOAT_ERR_MALFORMED, e.offset);
				}
				/* the end below the start */
				if (e.range.first > 0) {
					memcpy(p, t->bytes, t->len);
					ivrs_set16(p + e.offset + 1, (uint16_t)(e.range.first - 1));
					ivrs_fix_checksum(p, t->len);
					expect(p, t->len, MOAT_ERR_MALFORMED, e.offset);
				}
				ranges++;
			}
		}
	}
	assert_true(ranges >= 20);
	free(t);
	free(p);
}

static void range_problems_in_hand_made_tables(void **state)
{
	(void)state;
	struct ivrs_builder b;
	size_t e, s1, len;

	/* an end without start */
	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x10, 0, 2, 0x40, 0xfd200000, 0, 0, 0, 0);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_SELECT, 0x10, 0);
	e = ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_END, 0x20, 0);
	len = ivrs_finish(&b);
	expect(b.buf, len, MOAT_ERR_MALFORMED, e);

	/* a start the IVHD ends before its end, though the next IVHD has one */
	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x10, 0, 2, 0x40, 0xfd200000, 0, 0, 0, 0);
	s1 = ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_START, 0x10, 0);
	ivrs_ivhd(&b, 0x10, 0, 0x42, 0x40, 0xfd300000, 0, 0, 0, 0);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_END, 0x20, 0);
	len = ivrs_finish(&b);
	expect(b.buf, len, MOAT_ERR_MALFORMED, s1);

	/* two starts */
	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x11, 0, 2, 0x40, 0xfd200000, 0, 0, 0, 0);
	s1 = ivrs_entry_alias(&b, MOAT_IVHD_ENTRY_ALIAS_RANGE, 0x10, 0, 0xa5);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_START, 0x18, 0);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_END, 0x20, 0);
	len = ivrs_finish(&b);
	expect(b.buf, len, MOAT_ERR_MALFORMED, s1);

	/* pads may come between a start and its end, a special entry may not */
	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x40, 0, 2, 0x40, 0xfd200000, 0, 0, 0, 0);
	ivrs_entry_ext(&b, MOAT_IVHD_ENTRY_EXT_RANGE, 0x10, 0, 0);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_PAD4, 0, 0);
	ivrs_entry_ext(&b, MOAT_IVHD_ENTRY_PAD8, 0, 0, 0);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_END, 0x20, 0);
	s1 = ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_START, 0x30, 0);
	ivrs_entry_special(&b, 0, 1, 0xa0, 1);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_END, 0x40, 0);
	len = ivrs_finish(&b);
	expect(b.buf, len, MOAT_ERR_MALFORMED, s1);

	/* a one-device range (end == start) is fine */
	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x10, 0, 2, 0x40, 0xfd200000, 0, 0, 0, 0);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_START, 0x10, 0);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_RANGE_END, 0x10, 0);
	len = ivrs_finish(&b);
	expect(b.buf, len, MOAT_OK, 0);
}

static void impossible_ivhd_and_ivmd_values(void **state)
{
	(void)state;
	struct ivrs_builder b;
	size_t o, len;

	ivrs_begin(&b, 2, 0);
	o = ivrs_ivhd(&b, 0x10, 0, 2, 0x40, 0, 0, 0, 0, 0);
	ivrs_entry4(&b, MOAT_IVHD_ENTRY_ALL, 0, 0);
	len = ivrs_finish(&b);
	expect(b.buf, len, MOAT_ERR_MALFORMED, o + 8);

	ivrs_begin(&b, 2, 0);
	ivrs_ivhd(&b, 0x10, 0, 2, 0x40, 0xfd200000, 0, 0, 0, 0);
	o = ivrs_ivhd(&b, 0x40, 0, 2, 0x40, 0xfd201000, 0, 0, 0, 0);
	len = ivrs_finish(&b);
	expect(b.buf, len, MOAT_ERR_MALFORMED, o + 8);

	static const struct {
		uint8_t type;
		uint16_t dev, aux;
		uint64_t start, length;
		uint32_t at;
	} ivmd[] = {
		{ 0x21, 0x10, 0, 0x1000, 0, 24 },                        /* length 0 */
		{ 0x20, 0, 0, 0xfffffffffffff000ull, 0x2000, 24 },       /* beyond 2^64 */
		{ 0x20, 0, 0, 0x1000, 0xffffffffffffffffull, 24 },
		{ 0x21, 0x10, 0, 0x1800, 0x1000, 16 },                   /* not 4 KiB aligned */
		{ 0x22, 0x20, 0x1f, 0x1000, 0x1000, 6 },                 /* last device below first */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(ivmd); i++) {
		ivrs_begin(&b, 2, 0);
		ivrs_ivhd(&b, 0x10, 0, 2, 0x40, 0xfd200000, 0, 0, 0, 0);
		o = ivrs_ivmd(&b, ivmd[i].type, MOAT_IVMD_F_UNITY, ivmd[i].dev, ivmd[i].aux, ivmd[i].start,
			      ivmd[i].length);
		len = ivrs_finish(&b);
		expect(b.buf, len, MOAT_ERR_MALFORMED, o + ivmd[i].at);
	}

	/* ACPI HID entries: unknown UID format, integer UIDs of 0 and 9 bytes */
	static const uint8_t zero[8];
	static const uint8_t nine[9] = { 1 };
	static const struct {
		uint8_t fmt, len;
		uint32_t at;
	} hid[] = { { 3, 0, 20 }, { 1, 0, 21 }, { 1, 9, 21 } };
	for (unsigned i = 0; i < ARRAY_SIZE(hid); i++) {
		ivrs_begin(&b, 2, 0);
		ivrs_ivhd(&b, 0x40, 0, 2, 0x40, 0xfd200000, 0, 0, 0, 0);
		o = ivrs_entry_hid(&b, 0xa5, 0, "AMDI0020", zero, hid[i].fmt, nine, hid[i].len);
		len = ivrs_finish(&b);
		expect(b.buf, len, MOAT_ERR_MALFORMED, o + hid[i].at);
	}
}

static void bytes_too_few_for_a_structure_header_after_the_last(void **state)
{
	(void)state;
	struct ivrs_builder b;

	for (unsigned extra = 1; extra <= 3; extra++) {
		ivrs_build_qemu(&b);
		size_t end = b.len;
		ivrs_put(&b, 0x10, extra);
		size_t len = ivrs_finish(&b);
		expect(b.buf, len, MOAT_ERR_TRUNCATED, end);
	}
}

static void bad_checksum_comes_after_structure_problems(void **state)
{
	(void)state;
	struct table *t = malloc(sizeof(*t));

	for (unsigned i = 0; i < ARRAY_SIZE(tables); i++) {
		load(t, tables[i]);
		t->bytes[9] = (uint8_t)(t->bytes[9] + 1);
		expect(t->bytes, t->len, MOAT_ERR_CHECKSUM, 9);
		/* with a structure problem as well, the structure problem is the one reported */
		ivrs_set16(t->bytes + t->bounds[0] + 2, 0);
		expect(t->bytes, t->len, MOAT_ERR_MALFORMED, t->bounds[0] + 2);
	}
	free(t);
}

/* Any single byte of a real table set to 0x00, 0xff or flipped: a documented status, never a crash. */
static void every_byte_of_real_tables_mutated(void **state)
{
	(void)state;
	struct table *t = malloc(sizeof(*t));
	uint8_t *p = malloc(TMAX);
	unsigned counts[MOAT_STATUS_COUNT] = { 0 };

	for (unsigned i = 0; i < ARRAY_SIZE(tables); i++) {
		load(t, tables[i]);
		for (size_t at = 0; at < t->len; at++) {
			const uint8_t values[3] = { 0x00, 0xff, (uint8_t)(t->bytes[at] ^ 0x80) };
			for (unsigned v = 0; v < 3; v++) {
				struct moat_diag d;
				memcpy(p, t->bytes, t->len);
				p[at] = values[v];
				size_t sum_len = ivrs_get32(p + 4) <= t->len ? ivrs_get32(p + 4) : t->len;
				if (at != 9)
					ivrs_fix_checksum(p, sum_len);
				moat_status st = run(p, t->len, &d);
				assert_true(st == MOAT_OK || st == MOAT_ERR_TRUNCATED ||
					    st == MOAT_ERR_MALFORMED || st == MOAT_ERR_CHECKSUM);
				counts[st]++;
			}
		}
	}
	/* The sweep reaches every kind of answer. */
	assert_true(counts[MOAT_OK] > 0);
	assert_true(counts[MOAT_ERR_TRUNCATED] > 0);
	assert_true(counts[MOAT_ERR_MALFORMED] > 0);
	assert_true(counts[MOAT_ERR_CHECKSUM] > 0);
	free(t);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(real_tables_cut_at_every_byte_report_truncation),
		cmocka_unit_test(corrupt_structure_lengths_at_every_structure),
		cmocka_unit_test(entries_running_past_their_ivhd_at_every_ivhd),
		cmocka_unit_test(acpi_hid_uid_running_past_its_ivhd),
		cmocka_unit_test(broken_ranges_in_real_tables),
		cmocka_unit_test(range_problems_in_hand_made_tables),
		cmocka_unit_test(impossible_ivhd_and_ivmd_values),
		cmocka_unit_test(bytes_too_few_for_a_structure_header_after_the_last),
		cmocka_unit_test(bad_checksum_comes_after_structure_problems),
		cmocka_unit_test(every_byte_of_real_tables_mutated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
