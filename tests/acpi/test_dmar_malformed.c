/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hostile DMARs: truncated at every byte, corrupted lengths at every structure and scope, bad
 * checksums, impossible values. Each case checks the status, the diag (table "DMAR" and the offset
 * of the offending field), and that a failed describe leaves the description's counts at zero.
 */
#include "test_dmar_builder.h"

/* Tables chosen for their variety: ANDD and namespace scopes; RHSA, ATSR and two-element paths;
 * SATC, SIDP and DRHD size bytes; a 0..0 RMRR; a large server table with bridges and nine RMRRs. */
static const char *const corpus[] = {
	"acer-aspire-e5-571", "depo-super-server-f84e17", "samsung-960qha", "hp-compaq-6730b",
	"hp-proliant-dl380e-gen8",
};

#define CAP 256

struct descbuf {
	struct moat_sysdesc desc;
	struct moat_unit_desc units[CAP];
	struct moat_devset devsets[CAP];
	struct moat_region_desc regions[CAP];
	struct moat_special_desc specials[CAP];
	struct moat_ats_desc ats[CAP];
};

/* Describe @b (@len bytes); on failure the counts must be zero and the diag like moat_dmar_check()'s. */
static moat_status describe(const uint8_t *b, size_t len, struct moat_diag *d)
{
	static struct descbuf db;
	db.desc = (struct moat_sysdesc){
		.units = db.units, .units_cap = CAP, .devsets = db.devsets, .devsets_cap = CAP,
		.regions = db.regions, .regions_cap = CAP, .specials = db.specials, .specials_cap = CAP,
		.ats = db.ats, .ats_cap = CAP,
		/* leftovers from an earlier call, which a failed describe must clear */
		.units_count = 7, .devsets_count = 7, .regions_count = 7, .specials_count = 7, .ats_count = 7,
		.skipped = 7,
	};
	moat_status st = moat_acpi_describe_dmar(b, len, &db.desc, NULL, NULL, d);
	if (st != MOAT_OK) {
		assert_int_equal(db.desc.units_count, 0);
		assert_int_equal(db.desc.devsets_count, 0);
		assert_int_equal(db.desc.regions_count, 0);
		assert_int_equal(db.desc.specials_count, 0);
		assert_int_equal(db.desc.ats_count, 0);
		assert_int_equal(db.desc.skipped, 0);
	}
	return st;
}

/* moat_dmar_check() and moat_acpi_describe_dmar() agree on status and offset; returns the status. */
static moat_status check_both(const uint8_t *b, size_t len, struct moat_diag *d)
{
	struct moat_diag d2 = { 0 };
	moat_status st = moat_dmar_check(b, len, d);
	moat_status st2 = describe(b, len, &d2);
	assert_int_equal(st, st2);
	if (st != MOAT_OK) {
		assert_int_equal(d->status, st);
		assert_string_equal(d->table, "DMAR");
		assert_int_equal(d2.offset, d->offset);
		assert_true(d->msg[0] != '\0');
	}
	return st;
}

/* Structure offsets and lengths of a good table. */
struct layout {
	unsigned n;
	uint32_t off[128];
	uint16_t type[128], length[128], scopes[128];
};

static void layout_of(const uint8_t *b, size_t len, struct layout *l)
{
	struct moat_dmar_info info;
	struct moat_dmar_iter it;
	struct moat_dmar_struct s;

	l->n = 0;
	assert_int_equal(moat_dmar_open(b, len, &info, &it, NULL), MOAT_OK);
	while (moat_dmar_next(&it, &s, NULL) == MOAT_OK) {
		assert_true(l->n < 128);
		l->off[l->n] = s.offset;
		l->type[l->n] = s.type;
		l->length[l->n] = s.length;
		l->scopes[l->n] = s.scopes_offset;
		l->n++;
	}
}

/* A buffer cut short with the original length field: TRUNCATED, pointing inside what there is. */
static void truncation_keeping_the_length_field_is_truncated(void **state)
{
	(void)state;
	for (unsigned c = 0; c < sizeof(corpus) / sizeof(corpus[0]); c++) {
		size_t len;
		uint8_t *full = tb_load_corpus(corpus[c], &len);
		for (size_t n = 1; n < len; n++) {
			struct moat_diag d = { 0 };
			uint8_t *b = tb_dup(full, n);
			moat_status st = check_both(b, n, &d);
			assert_int_equal(st, MOAT_ERR_TRUNCATED);
			assert_true(d.offset < n);
			assert_int_equal(d.offset, n < 8 ? 0 : 4);
			free(b);
		}
		free(full);
	}
}

/*
 * A table cut short and made consistent (length field = the bytes left, checksum fixed): under the
 * 48-byte header MALFORMED at the length field; cut exactly between structures, OK with the
 * structures before the cut; cut inside a structure, TRUNCATED at that structure (its length field,
 * or its start when not even its 4-byte header is left).
 */
static void truncation_with_patched_length_fails_or_ends_between_structures(void **state)
{
	(void)state;
	for (unsigned c = 0; c < sizeof(corpus) / sizeof(corpus[0]); c++) {
		size_t len;
		struct layout l;
		uint8_t *full = tb_load_corpus(corpus[c], &len);
		layout_of(full, len, &l);
		for (size_t n = 10; n < len; n++) {
			struct moat_diag d = { 0 };
			uint8_t *b = tb_dup(full, n);
			tb_put32(b, 4, (uint32_t)n);
			tb_fix_checksum(b, n);
			moat_status st = check_both(b, n, &d);
			if (n < MOAT_DMAR_HEADER_SIZE) {
				assert_diag(st, d, MOAT_ERR_MALFORMED, 4);
				free(b);
				continue;
			}
			/* the structure the cut falls in, if any */
			unsigned k = 0, whole = 0;
			while (k < l.n && l.off[k] + l.length[k] <= n)
				k++;
			whole = k;
			if (n == MOAT_DMAR_HEADER_SIZE || (k > 0 && l.off[k - 1] + l.length[k - 1] == n)) {
				assert_int_equal(st, MOAT_OK);
				struct moat_dmar_info info;
				struct moat_dmar_iter it;
				struct moat_dmar_struct s;
				unsigned seen = 0;
				assert_int_equal(moat_dmar_open(b, n, &info, &it, NULL), MOAT_OK);
				while (moat_dmar_next(&it, &s, NULL) == MOAT_OK)
					seen++;
				assert_int_equal(seen, whole);
			} else if (n - l.off[k] < 4) {
				assert_diag(st, d, MOAT_ERR_TRUNCATED, l.off[k]);
			} else {
				assert_diag(st, d, MOAT_ERR_TRUNCATED, l.off[k] + 2);
			}
			assert_true(d.offset < n);
			free(b);
		}
		free(full);
	}
}

/* Patch a 16-bit structure length at every structure of the corpus tables. */
static void corrupted_structure_lengths_are_caught_at_their_field(void **state)
{
	(void)state;
	for (unsigned c = 0; c < sizeof(corpus) / sizeof(corpus[0]); c++) {
		size_t len;
		struct layout l;
		uint8_t *full = tb_load_corpus(corpus[c], &len);
		uint8_t *b = tb_dup(full, len);
		layout_of(full, len, &l);
		for (unsigned k = 0; k < l.n; k++) {
			uint32_t at = l.off[k] + 2;
			uint16_t min = l.scopes[k] < l.length[k] ? l.scopes[k] : 0;
			struct {
				unsigned value;
				moat_status want;
			} cases[] = {
				{ 0, MOAT_ERR_MALFORMED },
				{ 1, MOAT_ERR_MALFORMED },
				{ 3, MOAT_ERR_MALFORMED },
				{ (unsigned)(len - l.off[k] + 1), MOAT_ERR_TRUNCATED }, /* one byte past the end */
				{ 0xffff, MOAT_ERR_TRUNCATED },
				/* below the fixed part of the type (when the structure has scopes after it) */
				{ min ? min - 1u : 0u, MOAT_ERR_MALFORMED },
			};
			for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
				struct moat_diag d = { 0 };
				memcpy(b, full, len);
				tb_put16(b, at, cases[i].value);
				tb_fix_checksum(b, len);
				assert_diag(check_both(b, len, &d), d, cases[i].want, at);
			}
			/* two bytes short: the structure's last scope now runs past it */
			if (l.scopes[k] < l.length[k]) {
				struct moat_diag d = { 0 };
				struct moat_dmar_scope_iter sit;
				struct moat_dmar_scope sc, last = { 0 };
				struct moat_dmar_struct s = { .type = l.type[k], .length = l.length[k],
							      .offset = l.off[k], .raw = full + l.off[k],
							      .scopes_offset = l.scopes[k] };
				moat_dmar_scopes(&s, &sit);
				while (moat_dmar_scope_next(&sit, &sc, NULL) == MOAT_OK)
					last = sc;
				memcpy(b, full, len);
				tb_put16(b, at, l.length[k] - 2u);
				tb_fix_checksum(b, len);
				assert_diag(check_both(b, len, &d), d, MOAT_ERR_TRUNCATED, last.offset + 1);
			}
		}
		free(b);
		free(full);
	}
}

/* Patch the 8-bit length of every device scope of the corpus tables. */
static void corrupted_scope_lengths_are_caught_at_their_field(void **state)
{
	(void)state;
	unsigned scopes = 0;
	for (unsigned c = 0; c < sizeof(corpus) / sizeof(corpus[0]); c++) {
		size_t len;
		struct moat_dmar_info info;
		struct moat_dmar_iter it;
		struct moat_dmar_struct s;
		uint8_t *full = tb_load_corpus(corpus[c], &len);
		uint8_t *b = tb_dup(full, len);
		assert_int_equal(moat_dmar_open(full, len, &info, &it, NULL), MOAT_OK);
		while (moat_dmar_next(&it, &s, NULL) == MOAT_OK) {
			struct moat_dmar_scope_iter sit;
			struct moat_dmar_scope sc;
			moat_dmar_scopes(&s, &sit);
			while (moat_dmar_scope_next(&sit, &sc, NULL) == MOAT_OK) {
				uint32_t at = sc.offset + 1;
				uint32_t left = s.offset + s.length - sc.offset;
				struct {
					unsigned value;
					moat_status want;
				} cases[] = {
					{ 0, MOAT_ERR_MALFORMED }, { 1, MOAT_ERR_MALFORMED }, { 5, MOAT_ERR_MALFORMED },
					{ 6, MOAT_ERR_MALFORMED }, /* 6 + 2n with n = 0: no path */
					{ 7, MOAT_ERR_MALFORMED }, { 9, MOAT_ERR_MALFORMED }, { 255, MOAT_ERR_MALFORMED },
					{ (left + 2) & ~1u, MOAT_ERR_TRUNCATED }, /* even, runs past the structure */
				};
				for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
					struct moat_diag d = { 0 };
					if (cases[i].value > 255)
						continue;
					memcpy(b, full, len);
					b[at] = (uint8_t)cases[i].value;
					tb_fix_checksum(b, len);
					assert_diag(check_both(b, len, &d), d, cases[i].want, at);
				}
				scopes++;
			}
		}
		free(b);
		free(full);
	}
	assert_true(scopes > 100);
}

static void bad_checksum_is_refused_by_check_and_describe(void **state)
{
	(void)state;
	for (unsigned c = 0; c < sizeof(corpus) / sizeof(corpus[0]); c++) {
		size_t len;
		struct moat_diag d = { 0 };
		uint8_t *b = tb_load_corpus(corpus[c], &len);
		b[9] ^= 0x01;
		assert_diag(check_both(b, len, &d), d, MOAT_ERR_CHECKSUM, 9);
		b[9] ^= 0x01;
		b[len - 1] ^= 0x80; /* a byte anywhere */
		assert_diag(check_both(b, len, &d), d, MOAT_ERR_CHECKSUM, 9);
		free(b);
	}
}

static void header_problems_point_at_their_field(void **state)
{
	(void)state;
	struct tb t;
	struct moat_diag d;

	tb_init(&t, 38, 0);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
	size_t len = tb_finish(&t);

	uint8_t *b = tb_dup(t.b, len);
	tb_put32(b, 4, 47);
	tb_fix_checksum(b, 47);
	assert_diag(check_both(b, len, &d), d, MOAT_ERR_MALFORMED, 4); /* below the 48-byte header */
	tb_put32(b, 4, 20);
	assert_diag(check_both(b, len, &d), d, MOAT_ERR_MALFORMED, 4);
	memcpy(b, t.b, len);
	memcpy(b, "DMAX", 4);
	tb_fix_checksum(b, len);
	assert_diag(check_both(b, len, &d), d, MOAT_ERR_MALFORMED, 0);
	memcpy(b, t.b, len);
	assert_diag(check_both(b, 7, &d), d, MOAT_ERR_TRUNCATED, 0);
	assert_diag(check_both(b, len - 1, &d), d, MOAT_ERR_TRUNCATED, 4);
	assert_int_equal(check_both(b, len, &d), MOAT_OK);
	free(b);
}

/* Host address width: 12..64 bits (the field is the width minus one). */
static void host_address_width_outside_12_to_64_is_malformed(void **state)
{
	(void)state;
	static const struct {
		unsigned field;
		moat_status want;
	} cases[] = { { 0, MOAT_ERR_MALFORMED }, { 10, MOAT_ERR_MALFORMED }, { 11, MOAT_OK },
		      { 38, MOAT_OK },           { 63, MOAT_OK },           { 64, MOAT_ERR_MALFORMED },
		      { 255, MOAT_ERR_MALFORMED } };
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tb t;
		struct moat_diag d = { 0 };
		tb_init(&t, cases[i].field, 0);
		tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
		size_t len = tb_finish(&t);
		moat_status st = check_both(t.b, len, &d);
		if (cases[i].want == MOAT_OK)
			assert_int_equal(st, MOAT_OK);
		else
			assert_diag(st, d, cases[i].want, 36);
	}
}

static moat_status one_drhd(unsigned flags, unsigned size, uint64_t base, struct moat_diag *d)
{
	struct tb t;
	tb_init(&t, 38, 0);
	tb_drhd(&t, flags, size, 0, base);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	size_t len = tb_finish(&t);
	return check_both(t.b, len, d);
}

static void drhd_base_zero_or_unaligned_is_malformed(void **state)
{
	(void)state;
	struct moat_diag d;

	assert_diag(one_drhd(0, 0, 0, &d), d, MOAT_ERR_MALFORMED, 48 + 8);
	assert_string_equal(d.msg, "DRHD register base is 0");
	assert_diag(one_drhd(0, 0, 0xfed90800, &d), d, MOAT_ERR_MALFORMED, 48 + 8);
	assert_diag(one_drhd(0, 0, 0xfed90001, &d), d, MOAT_ERR_MALFORMED, 48 + 8);
	/* 2^15 pages from 4 KiB below the top of memory wrap */
	assert_diag(one_drhd(0, 15, 0xfffffffffffff000ull, &d), d, MOAT_ERR_MALFORMED, 48 + 5);
	assert_int_equal(one_drhd(0, 0, 0xfffffffffffff000ull, &d), MOAT_OK);
	assert_int_equal(one_drhd(0, 4, 0xfc800000, &d), MOAT_OK);
}

static void second_include_all_unit_of_a_segment_is_malformed(void **state)
{
	(void)state;
	struct tb t;
	struct moat_diag d;

	tb_init(&t, 38, 0);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
	tb_end(&t);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 1, 0xfed91000); /* another segment: fine */
	tb_end(&t);
	size_t second = tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed92000);
	tb_end(&t);
	size_t len = tb_finish(&t);
	assert_diag(check_both(t.b, len, &d), d, MOAT_ERR_MALFORMED, second + 4);
}

static void rmrr_limit_below_base_is_malformed(void **state)
{
	(void)state;
	struct tb t;
	struct moat_diag d;

	tb_init(&t, 38, 0);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
	tb_end(&t);
	size_t rmrr = tb_rmrr(&t, 0, 0x2000, 0x1000);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x14u, 0u);
	size_t len = tb_finish(&t);
	assert_diag(check_both(t.b, len, &d), d, MOAT_ERR_MALFORMED, rmrr + 16);
	assert_string_equal(d.msg, "RMRR limit 0x1000 below base 0x2000");
}

static void rmrr_base_not_4k_aligned_is_malformed(void **state)
{
	(void)state;
	struct tb t;
	struct moat_diag d;

	tb_init(&t, 38, 0);
	size_t rmrr = tb_rmrr(&t, 0, 0x9d800800, 0x9fffffff);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	size_t len = tb_finish(&t);
	assert_diag(check_both(t.b, len, &d), d, MOAT_ERR_MALFORMED, rmrr + 8);
}

static moat_status two_rmrrs(uint64_t b1, uint64_t l1, unsigned seg2, uint64_t b2, uint64_t l2, size_t *second,
			     struct moat_diag *d)
{
	struct tb t;
	tb_init(&t, 38, 0);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
	tb_end(&t);
	tb_rmrr(&t, 0, b1, l1);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x1au, 0u);
	tb_end(&t);
	*second = tb_rmrr(&t, seg2, b2, l2);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x1du, 0u);
	tb_end(&t);
	size_t len = tb_finish(&t);
	return check_both(t.b, len, d);
}

/* Overlap rule: identical ranges may repeat (one region for several devices); different ranges may
 * not intersect, whether partly or one inside the other. */
static void overlapping_rmrrs_with_different_ranges_are_malformed(void **state)
{
	(void)state;
	struct moat_diag d;
	size_t second;

	assert_int_equal(two_rmrrs(0x7d000000, 0x7d0fffff, 0, 0x7d000000, 0x7d0fffff, &second, &d), MOAT_OK);
	assert_int_equal(two_rmrrs(0x7d000000, 0x7d0fffff, 0, 0x7d100000, 0x7d1fffff, &second, &d), MOAT_OK);
	assert_int_equal(two_rmrrs(0, 0, 0, 0x1000, 0x1fff, &second, &d), MOAT_OK); /* the 0..0 placeholder */
	assert_diag(two_rmrrs(0x7d000000, 0x7d0fffff, 0, 0x7d080000, 0x7d17ffff, &second, &d), d, MOAT_ERR_MALFORMED,
		    second + 8);
	assert_diag(two_rmrrs(0x7d080000, 0x7d17ffff, 0, 0x7d000000, 0x7d0fffff, &second, &d), d, MOAT_ERR_MALFORMED,
		    second + 8);
	assert_diag(two_rmrrs(0x7d000000, 0x7d0fffff, 0, 0x7d001000, 0x7d001fff, &second, &d), d, MOAT_ERR_MALFORMED,
		    second + 8);
	assert_diag(two_rmrrs(0x7d000000, 0x7d0fffff, 1, 0x7d0ff000, 0x7d1fffff, &second, &d), d, MOAT_ERR_MALFORMED,
		    second + 8);
}

static void scope_path_device_or_function_out_of_range_is_malformed(void **state)
{
	(void)state;
	struct tb t;
	struct moat_diag d;

	tb_init(&t, 38, 0);
	tb_drhd(&t, 0, 0, 0, 0xfed90000);
	size_t sc = tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 2, 0x1cu, 0u, 32u, 0u);
	size_t len = tb_finish(&t);
	assert_diag(check_both(t.b, len, &d), d, MOAT_ERR_MALFORMED, sc + 8);

	tb_init(&t, 38, 0);
	tb_drhd(&t, 0, 0, 0, 0xfed90000);
	sc = tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x1cu, 8u);
	len = tb_finish(&t);
	assert_diag(check_both(t.b, len, &d), d, MOAT_ERR_MALFORMED, sc + 7);
}

static void leftover_bytes_too_small_for_a_header_are_truncated(void **state)
{
	(void)state;
	struct tb t;
	struct moat_diag d;

	/* 3 bytes after the last structure */
	tb_init(&t, 38, 0);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
	tb_end(&t);
	size_t tail = t.len;
	tb_u8(&t, 0);
	tb_u8(&t, 0);
	tb_u8(&t, 0);
	size_t len = tb_finish(&t);
	assert_diag(check_both(t.b, len, &d), d, MOAT_ERR_TRUNCATED, tail);

	/* 1 byte after the last scope of a structure */
	tb_init(&t, 38, 0);
	tb_drhd(&t, 0, 0, 0, 0xfed90000);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	tail = t.len;
	tb_u8(&t, 1);
	len = tb_finish(&t);
	assert_diag(check_both(t.b, len, &d), d, MOAT_ERR_TRUNCATED, tail);
}

static void short_andd_and_reserved_type_lengths_are_malformed(void **state)
{
	(void)state;
	struct tb t;
	struct moat_diag d;

	tb_init(&t, 38, 0);
	size_t andd = tb_begin(&t, MOAT_DMAR_TYPE_ANDD);
	tb_u32(&t, 0x01000000); /* reserved, device number 1, and no name at all */
	size_t len = tb_finish(&t);
	assert_diag(check_both(t.b, len, &d), d, MOAT_ERR_MALFORMED, andd + 2);

	tb_init(&t, 38, 0);
	size_t rhsa = tb_begin(&t, MOAT_DMAR_TYPE_RHSA);
	tb_u32(&t, 0);
	tb_u64(&t, 0xfed90000); /* the proximity domain is missing */
	len = tb_finish(&t);
	assert_diag(check_both(t.b, len, &d), d, MOAT_ERR_MALFORMED, rhsa + 2);
}

/* An iterator that failed stays where it failed: calling it again gives the same error. */
static void iterator_repeats_its_error(void **state)
{
	(void)state;
	struct tb t;
	struct moat_dmar_info info;
	struct moat_dmar_iter it;
	struct moat_dmar_struct s;
	struct moat_diag d1 = { 0 }, d2 = { 0 };

	tb_init(&t, 38, 0);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
	tb_end(&t);
	size_t bad = tb_begin(&t, MOAT_DMAR_TYPE_RMRR);
	tb_end(&t);
	size_t len = tb_finish(&t);
	assert_int_equal(moat_dmar_open(t.b, len, &info, &it, NULL), MOAT_OK);
	assert_int_equal(moat_dmar_next(&it, &s, NULL), MOAT_OK);
	assert_diag(moat_dmar_next(&it, &s, &d1), d1, MOAT_ERR_MALFORMED, bad + 2);
	assert_diag(moat_dmar_next(&it, &s, &d2), d2, MOAT_ERR_MALFORMED, bad + 2);
	assert_string_equal(d1.msg, d2.msg);
}

/*
 * Random corruption of real tables (fixed seed, checksum fixed after each change): only documented
 * statuses come back, the diag offset lies inside the table, and the sanitizers stay quiet.
 */
static void random_corruption_gives_only_documented_statuses(void **state)
{
	(void)state;
	uint32_t seed = 0x2545f491u;
	unsigned failures = 0;
	for (unsigned c = 0; c < sizeof(corpus) / sizeof(corpus[0]); c++) {
		size_t len;
		uint8_t *full = tb_load_corpus(corpus[c], &len);
		uint8_t *b = tb_dup(full, len);
		for (unsigned round = 0; round < 3000; round++) {
			struct moat_diag d = { 0 };
			memcpy(b, full, len);
			for (unsigned k = 0; k < 1 + round % 4; k++) {
				seed = seed * 1664525u + 1013904223u;
				size_t at = 36 + (seed >> 8) % (len - 36);
				b[at] = (uint8_t)(seed >> 24);
			}
			tb_fix_checksum(b, len);
			moat_status st = check_both(b, len, &d);
			assert_true(st == MOAT_OK || st == MOAT_ERR_TRUNCATED || st == MOAT_ERR_MALFORMED);
			if (st != MOAT_OK) {
				assert_true(d.offset < len);
				failures++;
			}
		}
		free(b);
		free(full);
	}
	assert_true(failures > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(truncation_keeping_the_length_field_is_truncated),
		cmocka_unit_test(truncation_with_patched_length_fails_or_ends_between_structures),
		cmocka_unit_test(corrupted_structure_lengths_are_caught_at_their_field),
		cmocka_unit_test(corrupted_scope_lengths_are_caught_at_their_field),
		cmocka_unit_test(bad_checksum_is_refused_by_check_and_describe),
		cmocka_unit_test(header_problems_point_at_their_field),
		cmocka_unit_test(host_address_width_outside_12_to_64_is_malformed),
		cmocka_unit_test(drhd_base_zero_or_unaligned_is_malformed),
		cmocka_unit_test(second_include_all_unit_of_a_segment_is_malformed),
		cmocka_unit_test(rmrr_limit_below_base_is_malformed),
		cmocka_unit_test(rmrr_base_not_4k_aligned_is_malformed),
		cmocka_unit_test(overlapping_rmrrs_with_different_ranges_are_malformed),
		cmocka_unit_test(scope_path_device_or_function_out_of_range_is_malformed),
		cmocka_unit_test(leftover_bytes_too_small_for_a_header_are_truncated),
		cmocka_unit_test(short_andd_and_reserved_type_lengths_are_malformed),
		cmocka_unit_test(iterator_repeats_its_error),
		cmocka_unit_test(random_corruption_gives_only_documented_statuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
