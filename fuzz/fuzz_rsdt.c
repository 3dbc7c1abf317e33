/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the RSDP search and the RSDT/XSDT walk over a fake physical memory built from
 * the input (layout in fuzz_rsdt.h). Besides the sanitizers, every result is checked against the
 * contract of moat/acpi.h; a violation traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <moat/acpi.h>

#include "fuzz_common.h"
#include "fuzz_rsdt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct image {
	uint8_t *p;
	size_t len;
	unsigned map_calls;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Offset in the image of [phys, phys + len), or -1 when it is not all inside one view of it. */
static long image_offset(const struct image *im, uint64_t phys, uint64_t len)
{
	const uint64_t bases[2] = { FUZZ_RSDT_IMAGE_BASE, FUZZ_RSDT_IMAGE_BASE_HI };

	for (int i = 0; i < 2; i++)
		if (phys >= bases[i] && len <= im->len && phys - bases[i] <= im->len - len)
			return (long)(phys - bases[i]);
	return -1;
}

static const void *image_map(void *ctx, uint64_t phys, size_t len)
{
	struct image *im = ctx;
	long off = image_offset(im, phys, len);

	im->map_calls++;
	return off < 0 ? NULL : im->p + off;
}

/* Make the table at @phys sum to zero, if its header and length are inside the image. */
static void fix_table(struct image *im, uint64_t phys)
{
	long off = image_offset(im, phys, MOAT_ACPI_HEADER_SIZE);
	uint32_t len;

	if (off < 0)
		return;
	len = le32(im->p + off + 4);
	if (len < MOAT_ACPI_HEADER_SIZE || image_offset(im, phys, len) < 0)
		return;
	im->p[off + 9] = 0;
	im->p[off + 9] = (uint8_t)(0x100 - moat_acpi_checksum(im->p + off, len));
}

static void fix_sums(struct image *im, const struct moat_acpi_rsdp *r, unsigned flags)
{
	bool x = r->revision >= 2 && r->xsdt_address != 0;
	uint64_t root = x ? r->xsdt_address : r->rsdt_address;
	unsigned esz = x ? 8 : 4;
	long off = image_offset(im, root, MOAT_ACPI_HEADER_SIZE);
	uint32_t len;

	if (off < 0)
		return;
	len = le32(im->p + off + 4);
	if (len < MOAT_ACPI_HEADER_SIZE || image_offset(im, root, len) < 0)
		return;
	if (flags & FUZZ_RSDT_FIX_TABLES)
		for (uint32_t e = MOAT_ACPI_HEADER_SIZE; e + esz <= len; e += esz)
			fix_table(im, esz == 8 ? le64(im->p + off + e) : le32(im->p + off + e));
	if (flags & FUZZ_RSDT_FIX_ROOT)
		fix_table(im, root);
}

/* One lookup, its result checked. Returns the status. */
static moat_status lookup(struct image *im, const struct moat_acpi_rsdp *r, const char *sig, unsigned inst)
{
	struct moat_acpi_mem mem = { image_map, im };
	struct moat_diag d;
	const void *t = NULL;
	uint32_t len = 0;
	moat_status st;

	memset(&d, 0, sizeof(d));
	im->map_calls = 0;
	st = moat_acpi_find_table(&mem, r, sig, inst, &t, &len, &d);
	/* Bounded: the root table twice, one header per entry, the found table once. */
	CHECK(im->map_calls <= 3 + im->len / 4);
	if (st != MOAT_OK) {
		CHECK(st == MOAT_ERR_NOT_FOUND || st == MOAT_ERR_MALFORMED || st == MOAT_ERR_CHECKSUM ||
		      st == MOAT_ERR_TRUNCATED);
		CHECK(d.status == st);
		CHECK(memchr(d.msg, 0, sizeof(d.msg)) != NULL);
		CHECK(t == NULL && len == 0);
		return st;
	}
	const uint8_t *p = t;
	CHECK(p >= im->p && len >= MOAT_ACPI_HEADER_SIZE && len <= im->len);
	CHECK((size_t)(p - im->p) <= im->len - len);
	CHECK(memcmp(p, sig, 4) == 0);
	CHECK(le32(p + 4) == len);
	CHECK(moat_acpi_checksum(p, len) == 0);

	struct moat_acpi_header h;
	CHECK(moat_acpi_header_decode(p, len, &h, NULL) == MOAT_OK);
	CHECK(h.checksum_valid && h.length == len);
	return st;
}

static void lookups(struct image *im, const struct moat_acpi_rsdp *r, unsigned select)
{
	static const char *const extra[8] = { "FACP", "SSDT", "APIC", "XSDT", "RSDT", "DMAR", "IVRS", "MCFG" };
	const char *sigs[3] = { "DMAR", "IVRS", extra[(select >> 2) & 7] };

	for (int s = 0; s < 3; s++) {
		for (unsigned i = 0; i <= (select & 3u); i++) {
			moat_status st = lookup(im, r, sigs[s], i);
			/* Nothing after a table that is not there, nor after a broken root table. */
			if (st == MOAT_ERR_NOT_FOUND)
				CHECK(lookup(im, r, sigs[s], i + 1) == MOAT_ERR_NOT_FOUND);
			if (st != MOAT_OK)
				break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image im = { 0 };
	struct moat_acpi_rsdp direct, found;
	struct moat_diag d;
	size_t off = 0;
	moat_status st;

	if (size < FUZZ_RSDT_HEADER_SIZE)
		return 0;
	im.len = size - FUZZ_RSDT_HEADER_SIZE;
	/* Its own heap block, exactly as large as the image: any read past it is a report. */
	im.p = malloc(im.len ? im.len : 1);
	if (!im.p)
		return 0;
	memcpy(im.p, data + FUZZ_RSDT_HEADER_SIZE, im.len);

	memset(&direct, 0, sizeof(direct));
	direct.revision = data[FUZZ_RSDT_OFF_REVISION];
	direct.rsdt_address = le32(data + FUZZ_RSDT_OFF_RSDT);
	direct.xsdt_address = le64(data + FUZZ_RSDT_OFF_XSDT);
	direct.length = direct.revision >= 2 ? 36 : 0;
	fix_sums(&im, &direct, data[FUZZ_RSDT_OFF_FLAGS]);

	memset(&d, 0, sizeof(d));
	st = moat_acpi_find_rsdp(im.p, im.len, &off, &found, &d);
	if (st == MOAT_OK) {
		const uint8_t *p = im.p + off;
		CHECK(off % 16 == 0 && off + 20 <= im.len);
		CHECK(memcmp(p, "RSD PTR ", 8) == 0 && moat_acpi_checksum(p, 20) == 0);
		CHECK(found.revision == p[15] && found.rsdt_address == le32(p + 16));
		if (found.revision >= 2) {
			CHECK(found.length >= 36 && found.length <= im.len - off);
			CHECK(moat_acpi_checksum(p, found.length) == 0);
			CHECK(found.xsdt_address == le64(p + 24));
		}
		lookups(&im, &found, data[FUZZ_RSDT_OFF_SELECT]);
	} else {
		CHECK(st == MOAT_ERR_NOT_FOUND && d.status == st);
		CHECK(d.offset == 0 || (d.offset % 16 == 0 && d.offset + 20 <= im.len));
	}
	lookups(&im, &direct, data[FUZZ_RSDT_OFF_SELECT]);

	struct moat_acpi_header h;
	if (moat_acpi_header_decode(im.p, im.len, &h, NULL) == MOAT_OK)
		CHECK(h.length >= 36 && h.length <= im.len);
	free(im.p);
	return 0;
}
