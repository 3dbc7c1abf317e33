/* SPDX-License-Identifier: BSD-2-Clause */
/* Common ACPI code: checksums, table headers, the RSDP search and the RSDT/XSDT walk. */
#include "test.h"

#include <moat/acpi.h>

/* ------------------------------------------------------------------------------------------------
 * Building tables
 * ---------------------------------------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Make byte @at of the @len bytes at @p such that they sum to zero. */
static void fix_sum(uint8_t *p, size_t len, size_t at)
{
	p[at] = 0;
	p[at] = (uint8_t)(0x100 - moat_acpi_checksum(p, len));
}

/* A table header with @sig and @len in @p (len bytes, zeroed past the header), checksum fixed. */
static void make_table(uint8_t *p, const char *sig, uint32_t len)
{
	memset(p, 0, len);
	memcpy(p, sig, 4);
	put32(p + 4, len);
	p[8] = 1;
	memcpy(p + 10, "MOATOE", 6);
	memcpy(p + 16, "MOATTBL1", 8);
	put32(p + 24, 7);
	memcpy(p + 28, "MOAT", 4);
	put32(p + 32, 0x20250101);
	fix_sum(p, len, 9);
}

/* An RSDP at @p: revision 0 (20 bytes) or 2 (36 bytes), both checksums right. */
static void make_rsdp(uint8_t *p, uint8_t revision, uint32_t rsdt, uint64_t xsdt)
{
	memset(p, 0, revision >= 2 ? 36 : 20);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "MOAT\0\0", 6);
	p[15] = revision;
	put32(p + 16, rsdt);
	fix_sum(p, 20, 8);
	if (revision >= 2) {
		put32(p + 20, 36);
		put64(p + 24, xsdt);
		fix_sum(p, 36, 32);
	}
}

/* ------------------------------------------------------------------------------------------------
 * A fake physical memory: a few regions, each its own heap block so that any read outside a region
 * is an AddressSanitizer report.
 * ---------------------------------------------------------------------------------------------- */

#define MEM_REGIONS 16

struct fake_mem {
	struct {
		uint64_t phys;
		uint8_t *bytes;
		size_t len;
	} r[MEM_REGIONS];
	unsigned n;
	unsigned map_calls;
};

static const void *fake_map(void *ctx, uint64_t phys, size_t len)
{
	struct fake_mem *m = ctx;

	m->map_calls++;
	for (unsigned i = 0; i < m->n; i++)
		if (phys >= m->r[i].phys && len <= m->r[i].len && phys - m->r[i].phys <= m->r[i].len - len)
			return m->r[i].bytes + (phys - m->r[i].phys);
	return NULL;
}

/* Add a region of @len bytes at @phys; returns its bytes (zeroed). */
static uint8_t *mem_add(struct fake_mem *m, uint64_t phys, size_t len)
{
	assert_true(m->n < MEM_REGIONS);
	m->r[m->n].phys = phys;
	m->r[m->n].len = len;
	m->r[m->n].bytes = calloc(1, len ? len : 1);
	assert_non_null(m->r[m->n].bytes);
	return m->r[m->n++].bytes;
}

/* Add a table with @sig of @len bytes at @phys. */
static uint8_t *mem_table(struct fake_mem *m, uint64_t phys, const char *sig, uint32_t len)
{
	uint8_t *p = mem_add(m, phys, len);
	make_table(p, sig, len);
	return p;
}

/* Add a root table ("RSDT" with 4-byte or "XSDT" with 8-byte entries) listing @addrs. */
static uint8_t *mem_root(struct fake_mem *m, uint64_t phys, const char *sig, const uint64_t *addrs, unsigned n)
{
	unsigned esz = !memcmp(sig, "XSDT", 4) ? 8 : 4;
	uint32_t len = 36 + n * esz;
	uint8_t *p = mem_add(m, phys, len);

	make_table(p, sig, len);
	for (unsigned i = 0; i < n; i++) {
		if (esz == 8)
			put64(p + 36 + 8 * i, addrs[i]);
		else
			put32(p + 36 + 4 * i, (uint32_t)addrs[i]);
	}
	fix_sum(p, len, 9);
	return p;
}

static void mem_free(struct fake_mem *m)
{
	for (unsigned i = 0; i < m->n; i++)
		free(m->r[i].bytes);
	m->n = 0;
}

#define DIAG_IS(d, st, tbl, off)                                                                              \
	do {                                                                                                  \
		assert_int_equal((d).status, (st));                                                           \
		assert_string_equal((d).table, (tbl));                                                        \
		assert_int_equal((d).offset, (off));                                                          \
		assert_true((d).msg[0] != '\0');                                                              \
	} while (0)

/* ------------------------------------------------------------------------------------------------
 * Checksum and header
 * ---------------------------------------------------------------------------------------------- */

static void checksum_sums_bytes_mod_256(void **state)
{
	(void)state;
	const uint8_t b[] = { 0x80, 0x80, 0x01, 0xff, 0x10 };
	assert_int_equal(moat_acpi_checksum(b, 0), 0);
	assert_int_equal(moat_acpi_checksum(b, 2), 0);
	assert_int_equal(moat_acpi_checksum(b, 3), 1);
	assert_int_equal(moat_acpi_checksum(b, 4), 0);
	assert_int_equal(moat_acpi_checksum(b, 5), 0x10);
	uint8_t t[64];
	make_table(t, "TEST", sizeof(t));
	assert_int_equal(moat_acpi_checksum(t, sizeof(t)), 0);
}

static void header_decodes_fields_and_trims_trailing_nuls(void **state)
{
	(void)state;
	uint8_t t[40];
	struct moat_acpi_header h;
	struct moat_diag d = { 0 };

	make_table(t, "DMAR", sizeof(t));
	memcpy(t + 10, "AB\0\0\0\0", 6);
	memcpy(t + 16, "\x01\x02 X\0\0\0\0", 8); /* binary bytes stay as they are */
	fix_sum(t, sizeof(t), 9);
	assert_int_equal(moat_acpi_header_decode(t, sizeof(t), &h, &d), MOAT_OK);
	assert_string_equal(h.signature, "DMAR");
	assert_int_equal(h.length, 40);
	assert_int_equal(h.revision, 1);
	assert_true(h.checksum_valid);
	assert_int_equal(h.checksum, t[9]);
	assert_string_equal(h.oem_id, "AB");
	assert_string_equal(h.oem_table_id, "\x01\x02 X");
	assert_int_equal(h.oem_revision, 7);
	assert_string_equal(h.creator_id, "MOAT");
	assert_int_equal(h.creator_revision, 0x20250101);

	/* A bad checksum is reported, not refused. */
	t[39] ^= 1;
	assert_int_equal(moat_acpi_header_decode(t, sizeof(t), &h, &d), MOAT_OK);
	assert_false(h.checksum_valid);
	/* Bytes past the length field are not summed. */
	t[39] ^= 1;
	uint8_t longer[48];
	memcpy(longer, t, sizeof(t));
	memset(longer + 40, 0x55, 8);
	assert_int_equal(moat_acpi_header_decode(longer, sizeof(longer), &h, &d), MOAT_OK);
	assert_true(h.checksum_valid);
	assert_int_equal(h.length, 40);
}

static void header_of_short_buffer_is_truncated(void **state)
{
	(void)state;
	uint8_t t[36];
	struct moat_acpi_header h;
	struct moat_diag d = { 0 };

	make_table(t, "IVRS", sizeof(t));
	memset(&h, 0xa5, sizeof(h));
	assert_int_equal(moat_acpi_header_decode(t, 35, &h, &d), MOAT_ERR_TRUNCATED);
	DIAG_IS(d, MOAT_ERR_TRUNCATED, "IVRS", 0);
	assert_int_equal(h.length, 0xa5a5a5a5); /* untouched on error */
	assert_int_equal(moat_acpi_header_decode(t, 0, &h, NULL), MOAT_ERR_TRUNCATED);
	assert_int_equal(moat_acpi_header_decode(t, 36, &h, NULL), MOAT_OK);
}

static void header_length_below_36_is_malformed(void **state)
{
	(void)state;
	uint8_t t[64];
	struct moat_acpi_header h;
	struct moat_diag d = { 0 };

	make_table(t, "DMAR", sizeof(t));
	put32(t + 4, 35);
	assert_int_equal(moat_acpi_header_decode(t, sizeof(t), &h, &d), MOAT_ERR_MALFORMED);
	DIAG_IS(d, MOAT_ERR_MALFORMED, "DMAR", 4);
	put32(t + 4, 0);
	assert_int_equal(moat_acpi_header_decode(t, sizeof(t), &h, &d), MOAT_ERR_MALFORMED);
}

static void header_length_past_buffer_is_truncated(void **state)
{
	(void)state;
	uint8_t t[64];
	struct moat_acpi_header h;
	struct moat_diag d = { 0 };

	make_table(t, "DMAR", sizeof(t));
	assert_int_equal(moat_acpi_header_decode(t, 63, &h, &d), MOAT_ERR_TRUNCATED);
	DIAG_IS(d, MOAT_ERR_TRUNCATED, "DMAR", 4);
	put32(t + 4, 0xffffffffu);
	assert_int_equal(moat_acpi_header_decode(t, sizeof(t), &h, &d), MOAT_ERR_TRUNCATED);
	assert_int_equal(d.offset, 4);
}

static void header_with_binary_signature_names_no_table(void **state)
{
	(void)state;
	uint8_t t[36];
	struct moat_diag d = { 0 };
	struct moat_acpi_header h;

	make_table(t, "\x01\x02\x03\x04", sizeof(t));
	put32(t + 4, 8);
	assert_int_equal(moat_acpi_header_decode(t, sizeof(t), &h, &d), MOAT_ERR_MALFORMED);
	DIAG_IS(d, MOAT_ERR_MALFORMED, "", 4);
	assert_int_equal(moat_acpi_header_decode(NULL, 36, &h, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_acpi_header_decode(t, 36, NULL, &d), MOAT_ERR_INVALID_ARG);
}

/* ------------------------------------------------------------------------------------------------
 * RSDP search
 * ---------------------------------------------------------------------------------------------- */

/* A heap window of exactly @len bytes filled with a pattern that is not a signature. */
static uint8_t *window(size_t len)
{
	uint8_t *w = malloc(len ? len : 1);
	assert_non_null(w);
	for (size_t i = 0; i < len; i++)
		w[i] = (uint8_t)(i * 7 + 3);
	return w;
}

static void rsdp_revision_0_found_on_16_byte_boundary(void **state)
{
	(void)state;
	uint8_t *w = window(256);
	struct moat_acpi_rsdp r;
	size_t off = 99;

	make_rsdp(w + 0x40, 0, 0x7fe1234, 0);
	assert_int_equal(moat_acpi_find_rsdp(w, 256, &off, &r, NULL), MOAT_OK);
	assert_int_equal(off, 0x40);
	assert_int_equal(r.revision, 0);
	assert_int_equal(r.rsdt_address, 0x7fe1234);
	assert_int_equal(r.length, 0);
	assert_int_equal(r.xsdt_address, 0);
	assert_string_equal(r.oem_id, "MOAT");
	free(w);
}

static void rsdp_revision_2_gives_xsdt(void **state)
{
	(void)state;
	uint8_t *w = window(256);
	struct moat_acpi_rsdp r;
	size_t off;

	make_rsdp(w + 0x30, 2, 0x1000, 0x123456789000ull);
	assert_int_equal(moat_acpi_find_rsdp(w, 256, &off, &r, NULL), MOAT_OK);
	assert_int_equal(off, 0x30);
	assert_int_equal(r.revision, 2);
	assert_int_equal(r.rsdt_address, 0x1000);
	assert_int_equal(r.length, 36);
	assert_int_equal(r.xsdt_address, 0x123456789000ull);
	free(w);
}

static void rsdp_with_bad_checksum_is_skipped(void **state)
{
	(void)state;
	uint8_t *w = window(256);
	struct moat_acpi_rsdp r;
	struct moat_diag d = { 0 };
	size_t off;

	make_rsdp(w + 0x10, 0, 0x1111, 0);
	w[0x10 + 16] ^= 0x40; /* RSDT address changed, checksum not */
	make_rsdp(w + 0x60, 0, 0x2222, 0);
	assert_int_equal(moat_acpi_find_rsdp(w, 256, &off, &r, &d), MOAT_OK);
	assert_int_equal(off, 0x60);
	assert_int_equal(r.rsdt_address, 0x2222);

	/* Only the bad one: not found, and the diag points at it. */
	memset(w + 0x60, 0, 20);
	assert_int_equal(moat_acpi_find_rsdp(w, 256, &off, &r, &d), MOAT_ERR_NOT_FOUND);
	DIAG_IS(d, MOAT_ERR_NOT_FOUND, "RSDP", 0x10);
	assert_non_null(strstr(d.msg, "checksum"));
	free(w);
}

static void rsdp_with_bad_extended_checksum_is_skipped(void **state)
{
	(void)state;
	uint8_t *w = window(256);
	struct moat_acpi_rsdp r;
	struct moat_diag d = { 0 };
	size_t off;

	make_rsdp(w + 0x20, 2, 0x1111, 0x5000);
	w[0x20 + 24] ^= 0x01; /* XSDT address changed: the 20-byte checksum still holds */
	assert_int_equal(moat_acpi_checksum(w + 0x20, 20), 0);
	make_rsdp(w + 0x80, 2, 0x2222, 0x6000);
	assert_int_equal(moat_acpi_find_rsdp(w, 256, &off, &r, &d), MOAT_OK);
	assert_int_equal(off, 0x80);
	assert_int_equal(r.xsdt_address, 0x6000);

	memset(w + 0x80, 0, 36);
	assert_int_equal(moat_acpi_find_rsdp(w, 256, &off, &r, &d), MOAT_ERR_NOT_FOUND);
	DIAG_IS(d, MOAT_ERR_NOT_FOUND, "RSDP", 0x20);
	assert_non_null(strstr(d.msg, "extended checksum"));
	free(w);
}

static void rsdp_revision_2_length_checked(void **state)
{
	(void)state;
	uint8_t *w = window(128);
	struct moat_acpi_rsdp r;
	struct moat_diag d = { 0 };
	size_t off;

	/* Length below 36, checksums made to hold anyway. */
	make_rsdp(w + 0x00, 2, 0x1111, 0x5000);
	put32(w + 20, 20);
	fix_sum(w, 36, 32);
	assert_int_equal(moat_acpi_find_rsdp(w, 128, &off, &r, &d), MOAT_ERR_NOT_FOUND);
	DIAG_IS(d, MOAT_ERR_NOT_FOUND, "RSDP", 0);
	assert_non_null(strstr(d.msg, "below 36"));

	/* Length running past the window. */
	make_rsdp(w + 0x00, 2, 0x1111, 0x5000);
	put32(w + 20, 129);
	fix_sum(w, 36, 32);
	assert_int_equal(moat_acpi_find_rsdp(w, 128, &off, &r, &d), MOAT_ERR_NOT_FOUND);
	assert_non_null(strstr(d.msg, "past the window"));

	/* A longer structure (future revisions) is fine when its bytes sum to zero. */
	make_rsdp(w + 0x00, 3, 0x1111, 0x5000);
	put32(w + 20, 48);
	memset(w + 36, 0, 12);
	w[40] = 0x33;
	fix_sum(w, 48, 32);
	assert_int_equal(moat_acpi_find_rsdp(w, 128, &off, &r, &d), MOAT_OK);
	assert_int_equal(r.revision, 3);
	assert_int_equal(r.length, 48);
	free(w);
}

static void rsdp_found_at_last_possible_offset(void **state)
{
	(void)state;
	struct moat_acpi_rsdp r;
	size_t off;

	/* Revision 0 needs 20 bytes: in a 100-byte window the last candidate is at 80. */
	uint8_t *w = window(100);
	make_rsdp(w + 80, 0, 0xabc, 0);
	assert_int_equal(moat_acpi_find_rsdp(w, 100, &off, &r, NULL), MOAT_OK);
	assert_int_equal(off, 80);
	assert_int_equal(moat_acpi_find_rsdp(w, 99, &off, &r, NULL), MOAT_ERR_NOT_FOUND);
	free(w);

	/* Revision 2 needs its 36 bytes inside the window. */
	w = window(0x60 + 36);
	make_rsdp(w + 0x60, 2, 0xabc, 0xdef000);
	assert_int_equal(moat_acpi_find_rsdp(w, 0x60 + 36, &off, &r, NULL), MOAT_OK);
	assert_int_equal(off, 0x60);
	assert_int_equal(r.xsdt_address, 0xdef000);
	assert_int_equal(moat_acpi_find_rsdp(w, 0x60 + 35, &off, &r, NULL), MOAT_ERR_NOT_FOUND);
	free(w);
}

static void rsdp_window_not_multiple_of_16(void **state)
{
	(void)state;
	struct moat_acpi_rsdp r;
	size_t off;
	struct moat_diag d = { 0 };

	/* 0x35 bytes: candidates at 0x00, 0x10, 0x20 (0x20 + 20 = 0x34 fits), not 0x30. */
	uint8_t *w = window(0x35);
	make_rsdp(w + 0x20, 0, 0x77, 0);
	assert_int_equal(moat_acpi_find_rsdp(w, 0x35, &off, &r, &d), MOAT_OK);
	assert_int_equal(off, 0x20);
	memset(w + 0x20, 0, 20);
	memcpy(w + 0x30, "RSD PTR ", 5); /* only 5 bytes left: never compared */
	assert_int_equal(moat_acpi_find_rsdp(w, 0x35, &off, &r, &d), MOAT_ERR_NOT_FOUND);
	free(w);

	/* Windows shorter than an RSDP. */
	w = window(19);
	assert_int_equal(moat_acpi_find_rsdp(w, 19, &off, &r, &d), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_acpi_find_rsdp(w, 0, &off, &r, &d), MOAT_ERR_NOT_FOUND);
	free(w);
}

static void rsdp_not_found_off_boundary_or_absent(void **state)
{
	(void)state;
	uint8_t *w = window(512);
	struct moat_acpi_rsdp r;
	struct moat_diag d = { 0 };
	size_t off = 1234;

	assert_int_equal(moat_acpi_find_rsdp(w, 512, &off, &r, &d), MOAT_ERR_NOT_FOUND);
	DIAG_IS(d, MOAT_ERR_NOT_FOUND, "RSDP", 0);
	assert_int_equal(off, 1234);
	/* A valid RSDP that is not on a 16-byte boundary is not one. */
	make_rsdp(w + 0x48, 0, 0x1234, 0);
	assert_int_equal(moat_acpi_find_rsdp(w, 512, &off, &r, &d), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_acpi_find_rsdp(NULL, 512, &off, &r, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_acpi_find_rsdp(w, 512, &off, NULL, &d), MOAT_ERR_INVALID_ARG);
	free(w);
}

/* ------------------------------------------------------------------------------------------------
 * RSDT / XSDT walk
 * ---------------------------------------------------------------------------------------------- */

/*
 * A small machine: RSDT at 0x1000 and XSDT at 0x2004 (so the XSDT entries sit at 0x2028, on no
 * 8-byte boundary, and its bytes at an odd host address) listing FACP, DMAR, SSDT, SSDT, IVRS.
 */
struct machine {
	struct fake_mem m;
	struct moat_acpi_mem mem;
	struct moat_acpi_rsdp rsdp;
	uint8_t *rsdt, *xsdt, *dmar, *ssdt2;
};

#define PHYS_RSDT  0x1000u
#define PHYS_XSDT  0x2004u
#define PHYS_FACP  0x3000u
#define PHYS_DMAR  0x4000u
#define PHYS_SSDT1 0x5000u
#define PHYS_SSDT2 0x6000u
#define PHYS_IVRS  0x100007000ull /* above 4 GiB: the XSDT reaches it, the RSDT cannot */

static void machine_init(struct machine *mc, uint8_t revision)
{
	const uint64_t addrs[] = { PHYS_FACP, PHYS_DMAR, PHYS_SSDT1, PHYS_SSDT2, PHYS_IVRS };

	memset(mc, 0, sizeof(*mc));
	mc->mem = (struct moat_acpi_mem){ fake_map, &mc->m };
	mc->rsdt = mem_root(&mc->m, PHYS_RSDT, "RSDT", addrs, 4);
	/* An XSDT whose bytes sit at an odd host address. */
	uint8_t *x = mem_add(&mc->m, PHYS_XSDT - 1, 1 + 36 + 5 * 8);
	mc->xsdt = x + 1;
	make_table(mc->xsdt, "XSDT", 36 + 5 * 8);
	for (unsigned i = 0; i < 5; i++)
		put64(mc->xsdt + 36 + 8 * i, addrs[i]);
	fix_sum(mc->xsdt, 36 + 5 * 8, 9);
	mem_table(&mc->m, PHYS_FACP, "FACP", 244);
	mc->dmar = mem_table(&mc->m, PHYS_DMAR, "DMAR", 80);
	mem_table(&mc->m, PHYS_SSDT1, "SSDT", 100);
	mc->ssdt2 = mem_table(&mc->m, PHYS_SSDT2, "SSDT", 200);
	mem_table(&mc->m, PHYS_IVRS, "IVRS", 48);
	mc->rsdp = (struct moat_acpi_rsdp){ .revision = revision, .rsdt_address = PHYS_RSDT };
	if (revision >= 2) {
		mc->rsdp.length = 36;
		mc->rsdp.xsdt_address = PHYS_XSDT;
	}
}

static void machine_fini(struct machine *mc)
{
	mem_free(&mc->m);
}

static void find_table_through_rsdt(void **state)
{
	(void)state;
	struct machine mc;
	const void *t;
	uint32_t len;
	struct moat_diag d = { 0 };

	machine_init(&mc, 0);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_OK);
	assert_ptr_equal(t, mc.dmar);
	assert_int_equal(len, 80);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "FACP", 0, &t, &len, &d), MOAT_OK);
	assert_int_equal(len, 244);
	/* The RSDT lists only 4 entries: no IVRS through it. */
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "IVRS", 0, &t, &len, &d), MOAT_ERR_NOT_FOUND);
	DIAG_IS(d, MOAT_ERR_NOT_FOUND, "RSDT", 0);
	/* Revision 2 without an XSDT address uses the RSDT too. */
	mc.rsdp.revision = 2;
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "IVRS", 0, &t, &len, &d), MOAT_ERR_NOT_FOUND);
	assert_string_equal(d.table, "RSDT");
	machine_fini(&mc);
}

static void find_table_through_xsdt_with_unaligned_entries(void **state)
{
	(void)state;
	struct machine mc;
	const void *t;
	uint32_t len;
	struct moat_diag d = { 0 };

	machine_init(&mc, 2);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "IVRS", 0, &t, &len, &d), MOAT_OK);
	assert_int_equal(len, 48);
	assert_memory_equal(t, "IVRS", 4);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_OK);
	assert_ptr_equal(t, mc.dmar);
	/* The XSDT wins over the RSDT: break the RSDT, nothing changes. */
	mc.rsdt[0] = 'X';
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_OK);
	/* ... and a revision 0 RSDP never looks at the XSDT. */
	mc.rsdp.revision = 0;
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_MALFORMED);
	DIAG_IS(d, MOAT_ERR_MALFORMED, "RSDT", 0);
	machine_fini(&mc);
}

static void find_table_nth_instance(void **state)
{
	(void)state;
	struct machine mc;
	const void *t;
	uint32_t len;
	struct moat_diag d = { 0 };

	machine_init(&mc, 2);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "SSDT", 0, &t, &len, &d), MOAT_OK);
	assert_int_equal(len, 100);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "SSDT", 1, &t, &len, &d), MOAT_OK);
	assert_ptr_equal(t, mc.ssdt2);
	assert_int_equal(len, 200);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "SSDT", 2, &t, &len, &d), MOAT_ERR_NOT_FOUND);
	DIAG_IS(d, MOAT_ERR_NOT_FOUND, "XSDT", 0);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 1, &t, &len, &d), MOAT_ERR_NOT_FOUND);
	machine_fini(&mc);
}

static void find_table_missing_table_not_found(void **state)
{
	(void)state;
	struct machine mc;
	const void *t = (const void *)1;
	uint32_t len = 77;
	struct moat_diag d = { 0 };

	machine_init(&mc, 2);
	mc.m.map_calls = 0;
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "APIC", 0, &t, &len, &d), MOAT_ERR_NOT_FOUND);
	DIAG_IS(d, MOAT_ERR_NOT_FOUND, "XSDT", 0);
	assert_non_null(strstr(d.msg, "APIC"));
	assert_ptr_equal(t, (const void *)1);
	assert_int_equal(len, 77);
	/* Bounded: the root twice (header, whole), then each of the 5 entries' headers once. */
	assert_int_equal(mc.m.map_calls, 2 + 5);
	machine_fini(&mc);
}

static void find_table_root_with_bad_checksum(void **state)
{
	(void)state;
	struct machine mc;
	const void *t;
	uint32_t len;
	struct moat_diag d = { 0 };

	machine_init(&mc, 2);
	mc.xsdt[20] ^= 0x10;
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_CHECKSUM);
	DIAG_IS(d, MOAT_ERR_CHECKSUM, "XSDT", 9);
	mc.rsdp.revision = 0;
	mc.rsdt[30] ^= 0x01;
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_CHECKSUM);
	DIAG_IS(d, MOAT_ERR_CHECKSUM, "RSDT", 9);
	machine_fini(&mc);
}

static void find_table_root_with_bad_signature(void **state)
{
	(void)state;
	struct machine mc;
	const void *t;
	uint32_t len;
	struct moat_diag d = { 0 };

	machine_init(&mc, 2);
	memcpy(mc.xsdt, "RSDT", 4); /* an RSDT where the XSDT should be */
	fix_sum(mc.xsdt, 36 + 5 * 8, 9);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_MALFORMED);
	DIAG_IS(d, MOAT_ERR_MALFORMED, "XSDT", 0);
	machine_fini(&mc);
}

static void find_table_root_with_bad_length(void **state)
{
	(void)state;
	struct machine mc;
	const void *t;
	uint32_t len;
	struct moat_diag d = { 0 };

	machine_init(&mc, 2);
	/* 36 + 5 * 8 - 4: the last entry is half there. */
	put32(mc.xsdt + 4, 36 + 5 * 8 - 4);
	fix_sum(mc.xsdt, 36 + 5 * 8 - 4, 9);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_MALFORMED);
	DIAG_IS(d, MOAT_ERR_MALFORMED, "XSDT", 4);
	/* Below the header. */
	put32(mc.xsdt + 4, 20);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_MALFORMED);
	DIAG_IS(d, MOAT_ERR_MALFORMED, "XSDT", 4);
	/* Past the readable memory. */
	put32(mc.xsdt + 4, 36 + 6 * 8);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_MALFORMED);
	DIAG_IS(d, MOAT_ERR_MALFORMED, "XSDT", 4);
	/* RSDT: 4-byte entries, 36 + 4n. */
	mc.rsdp.revision = 0;
	put32(mc.rsdt + 4, 36 + 3 * 4 + 2);
	fix_sum(mc.rsdt, 36 + 3 * 4 + 2, 9);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_MALFORMED);
	DIAG_IS(d, MOAT_ERR_MALFORMED, "RSDT", 4);
	machine_fini(&mc);
}

static void find_table_root_unreadable_or_absent(void **state)
{
	(void)state;
	struct machine mc;
	const void *t;
	uint32_t len;
	struct moat_diag d = { 0 };

	machine_init(&mc, 2);
	mc.rsdp.xsdt_address = 0x9990000;
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_MALFORMED);
	DIAG_IS(d, MOAT_ERR_MALFORMED, "RSDP", 24);
	mc.rsdp.revision = 0;
	mc.rsdp.rsdt_address = 0;
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_MALFORMED);
	DIAG_IS(d, MOAT_ERR_MALFORMED, "RSDP", 16);
	machine_fini(&mc);
}

static void find_table_entry_pointing_to_unreadable_memory(void **state)
{
	(void)state;
	struct machine mc;
	const void *t;
	uint32_t len;
	struct moat_diag d = { 0 };

	machine_init(&mc, 2);
	put64(mc.xsdt + 36 + 8 * 2, 0xdead0000ull); /* entry 2, before the SSDTs and IVRS */
	fix_sum(mc.xsdt, 36 + 5 * 8, 9);
	/* A table listed before the broken entry is still found. */
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_OK);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "IVRS", 0, &t, &len, &d), MOAT_ERR_MALFORMED);
	DIAG_IS(d, MOAT_ERR_MALFORMED, "XSDT", 36 + 8 * 2);
	assert_non_null(strstr(d.msg, "entry 2"));
	assert_non_null(strstr(d.msg, "0xdead0000"));
	machine_fini(&mc);
}

static void find_table_skips_empty_entries(void **state)
{
	(void)state;
	struct machine mc;
	const void *t;
	uint32_t len;

	machine_init(&mc, 2);
	put64(mc.xsdt + 36, 0); /* FACP slot emptied */
	fix_sum(mc.xsdt, 36 + 5 * 8, 9);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "IVRS", 0, &t, &len, NULL), MOAT_OK);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "FACP", 0, &t, &len, NULL), MOAT_ERR_NOT_FOUND);
	machine_fini(&mc);
}

static void find_table_found_table_checked(void **state)
{
	(void)state;
	struct machine mc;
	const void *t = NULL;
	uint32_t len = 0;
	struct moat_diag d = { 0 };

	machine_init(&mc, 2);
	/* Bad checksum. */
	mc.dmar[50] ^= 0x01;
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_CHECKSUM);
	DIAG_IS(d, MOAT_ERR_CHECKSUM, "DMAR", 9);
	assert_null(t);
	/* Length below the header. */
	put32(mc.dmar + 4, 30);
	fix_sum(mc.dmar, 30, 9);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_MALFORMED);
	DIAG_IS(d, MOAT_ERR_MALFORMED, "DMAR", 4);
	/* Length past the readable memory: the entry is named. */
	put32(mc.dmar + 4, 81);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_MALFORMED);
	DIAG_IS(d, MOAT_ERR_MALFORMED, "XSDT", 36 + 8 * 1);
	assert_non_null(strstr(d.msg, "entry 1"));
	assert_null(t);
	assert_int_equal(len, 0);
	/* Only the found table is checked: a broken first SSDT does not hide the second. */
	machine_fini(&mc);
	machine_init(&mc, 2);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "SSDT", 0, &t, &len, &d), MOAT_OK);
	((uint8_t *)(uintptr_t)t)[40] ^= 0xff;
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "SSDT", 0, &t, &len, &d), MOAT_ERR_CHECKSUM);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "SSDT", 1, &t, &len, &d), MOAT_OK);
	assert_ptr_equal(t, mc.ssdt2);
	machine_fini(&mc);
}

static void find_table_null_arguments(void **state)
{
	(void)state;
	struct machine mc;
	const void *t;
	uint32_t len;
	struct moat_diag d = { 0 };
	struct moat_acpi_mem nomap = { NULL, NULL };

	machine_init(&mc, 2);
	assert_int_equal(moat_acpi_find_table(NULL, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_acpi_find_table(&nomap, &mc.rsdp, "DMAR", 0, &t, &len, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_acpi_find_table(&mc.mem, NULL, "DMAR", 0, &t, &len, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, NULL, 0, &t, &len, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, NULL, &len, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &mc.rsdp, "DMAR", 0, &t, NULL, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(d.status, MOAT_ERR_INVALID_ARG);
	machine_fini(&mc);
}

static void find_rsdp_then_table_end_to_end(void **state)
{
	(void)state;
	/* The BIOS area holds the RSDP; the walk goes from there. */
	struct machine mc;
	struct moat_acpi_rsdp r;
	uint8_t *bios;
	size_t off;
	const void *t;
	uint32_t len;

	machine_init(&mc, 2);
	bios = mem_add(&mc.m, 0xe0000, 0x20000);
	make_rsdp(bios + 0x1f0a0, 2, PHYS_RSDT, PHYS_XSDT);
	assert_int_equal(moat_acpi_find_rsdp(bios, 0x20000, &off, &r, NULL), MOAT_OK);
	assert_int_equal(off, 0x1f0a0);
	assert_int_equal(moat_acpi_find_table(&mc.mem, &r, "IVRS", 0, &t, &len, NULL), MOAT_OK);
	assert_int_equal(len, 48);
	machine_fini(&mc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checksum_sums_bytes_mod_256),
		cmocka_unit_test(header_decodes_fields_and_trims_trailing_nuls),
		cmocka_unit_test(header_of_short_buffer_is_truncated),
		cmocka_unit_test(header_length_below_36_is_malformed),
		cmocka_unit_test(header_length_past_buffer_is_truncated),
		cmocka_unit_test(header_with_binary_signature_names_no_table),
		cmocka_unit_test(rsdp_revision_0_found_on_16_byte_boundary),
		cmocka_unit_test(rsdp_revision_2_gives_xsdt),
		cmocka_unit_test(rsdp_with_bad_checksum_is_skipped),
		cmocka_unit_test(rsdp_with_bad_extended_checksum_is_skipped),
		cmocka_unit_test(rsdp_revision_2_length_checked),
		cmocka_unit_test(rsdp_found_at_last_possible_offset),
		cmocka_unit_test(rsdp_window_not_multiple_of_16),
		cmocka_unit_test(rsdp_not_found_off_boundary_or_absent),
		cmocka_unit_test(find_table_through_rsdt),
		cmocka_unit_test(find_table_through_xsdt_with_unaligned_entries),
		cmocka_unit_test(find_table_nth_instance),
		cmocka_unit_test(find_table_missing_table_not_found),
		cmocka_unit_test(find_table_root_with_bad_checksum),
		cmocka_unit_test(find_table_root_with_bad_signature),
		cmocka_unit_test(find_table_root_with_bad_length),
		cmocka_unit_test(find_table_root_unreadable_or_absent),
		cmocka_unit_test(find_table_entry_pointing_to_unreadable_memory),
		cmocka_unit_test(find_table_skips_empty_entries),
		cmocka_unit_test(find_table_found_table_checked),
		cmocka_unit_test(find_table_null_arguments),
		cmocka_unit_test(find_rsdp_then_table_end_to_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
