/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the input is a DMAR table. Runs the raw iterators (moat/dmar.h), the checker,
 * and moat_acpi_describe_dmar() twice: with arrays large enough for any input and with tiny ones (so
 * the NO_SPACE paths run), with a PCI configuration reader whose answers come from the input bytes
 * (so scope paths through bridges resolve, or not). Results are checked against the contracts of
 * the headers; a violation traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <moat/acpi.h>
#include <moat/dmar.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct cfg_ctx {
	const uint8_t *data;
	size_t size;
};

/* A PCI configuration space made of the input: the dword at a hash of the address. */
static uint32_t fake_cfg_read(void *ctx, uint16_t segment, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset)
{
	const struct cfg_ctx *c = ctx;
	uint32_t h, v = 0;

	CHECK(offset % 4 == 0 && offset < 4096 && dev < 32 && fn < 8);
	if (c->size == 0)
		return 0xffffffffu;
	h = (uint32_t)segment * 65599u;
	h ^= ((uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8) ^ offset;
	h *= 2654435761u;
	for (unsigned i = 0; i < 4; i++)
		v |= (uint32_t)c->data[(h + i) % c->size] << (8 * i);
	/* Make bridges common enough to walk multi-level paths. */
	if (offset == 0x0c && (v & 0x3) == 0)
		v = (v & ~0x007f0000u) | 0x00010000u;
	return v;
}

/* Read every byte of [p, p + n): a range outside the input is an AddressSanitizer report. */
static unsigned touch(const uint8_t *p, size_t n)
{
	unsigned s = 0;

	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

static int inside(const uint8_t *base, size_t size, const uint8_t *p, size_t n)
{
	return p >= base && n <= size && (size_t)(p - base) <= size - n;
}

static void walk_raw(const uint8_t *data, size_t size)
{
	struct moat_dmar_info info;
	struct moat_dmar_iter it;
	struct moat_dmar_struct s;
	struct moat_diag d, d2;
	moat_status st;
	unsigned steps = 0;
	volatile unsigned sink = 0;

	memset(&d, 0, sizeof(d));
	st = moat_dmar_open(data, size, &info, &it, &d);
	if (st != MOAT_OK) {
		CHECK(d.status == st);
		return;
	}
	CHECK(info.header.length >= MOAT_DMAR_HEADER_SIZE && info.header.length <= size);
	CHECK(info.address_width == info.haw + 1u);
	while ((st = moat_dmar_next(&it, &s, &d)) == MOAT_OK) {
		struct moat_dmar_scope_iter sit;
		struct moat_dmar_scope sc;
		unsigned scope_steps = 0;

		/* Each structure is at least 4 bytes: no more steps than that allows. */
		CHECK(++steps <= size / MOAT_DMAR_STRUCT_MIN + 1);
		CHECK(s.length >= MOAT_DMAR_STRUCT_MIN && s.offset >= MOAT_DMAR_HEADER_SIZE);
		CHECK(s.raw == data + s.offset && inside(data, info.header.length, s.raw, s.length));
		CHECK(s.scopes_offset <= s.length);
		sink += touch(s.raw, s.length);
		(void)moat_dmar_type_name(s.type);
		if (s.known && s.type == MOAT_DMAR_TYPE_ANDD) {
			CHECK(inside(data, size, (const uint8_t *)s.andd.name, s.andd.field_len));
			CHECK(s.andd.name_len <= s.andd.field_len);
		}
		moat_dmar_scopes(&s, &sit);
		while ((st = moat_dmar_scope_next(&sit, &sc, &d)) == MOAT_OK) {
			CHECK(++scope_steps <= s.length / 2u + 1);
			CHECK(sc.path_count >= 1 && sc.length == 6u + 2u * sc.path_count);
			CHECK(sc.offset >= s.offset + s.scopes_offset);
			CHECK(sc.offset + sc.length <= s.offset + s.length);
			CHECK(inside(data, size, sc.path, 2u * sc.path_count));
			sink += touch(sc.path, 2u * sc.path_count);
			(void)moat_dmar_scope_type_name(sc.type);
		}
		if (st != MOAT_END) {
			CHECK(d.status == st);
			/* An iterator that failed stays where it is. */
			memset(&d2, 0, sizeof(d2));
			CHECK(moat_dmar_scope_next(&sit, &sc, &d2) == st && d2.offset == d.offset);
		}
	}
	if (st != MOAT_END) {
		CHECK(d.status == st);
		memset(&d2, 0, sizeof(d2));
		CHECK(moat_dmar_next(&it, &s, &d2) == st && d2.offset == d.offset);
	}
	(void)sink;
}

static struct fuzz_desc large_arrays, small_arrays;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_ctx cfg = { data, size };
	struct moat_diag d, dc;
	struct moat_sysdesc large, small;
	moat_status st_large, st_small, st_check;

	/* A copy of exactly the input's size on the heap: reads past it are reported. */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	walk_raw(buf, size);

	memset(&dc, 0, sizeof(dc));
	st_check = moat_dmar_check(buf, size, &dc);
	CHECK(st_check == MOAT_OK || dc.status == st_check);

	/* No table of this size needs more than these (each devset comes from at least 4 bytes). */
	large = fuzz_sysdesc(&large_arrays, (uint32_t)(size / 16 + 1), (uint32_t)(size / 4 + 1),
			     (uint32_t)(size / 24 + 1), (uint32_t)(size / 8 + 1), (uint32_t)(size / 8 + 1));
	memset(&d, 0, sizeof(d));
	st_large = moat_acpi_describe_dmar(buf, size, &large, fake_cfg_read, &cfg, &d);
	fuzz_check_desc(&large, st_large, &d, MOAT_VENDOR_VTD);
	/* The builder accepts exactly the tables the checker accepts. */
	if (st_check != MOAT_OK)
		CHECK(st_large == st_check && d.offset == dc.offset);
	else
		CHECK(st_large == MOAT_OK || st_large == MOAT_ERR_NO_SPACE);

	small = fuzz_sysdesc(&small_arrays, 1, 2, 1, 1, 1);
	memset(&d, 0, sizeof(d));
	st_small = moat_acpi_describe_dmar(buf, size, &small, fake_cfg_read, &cfg, &d);
	fuzz_check_desc(&small, st_small, &d, MOAT_VENDOR_VTD);
	fuzz_check_small(&large, st_large, &small, st_small);

	/* Without a configuration reader, deeper paths stay unresolved but the table is the same. */
	small = fuzz_sysdesc(&small_arrays, FUZZ_UNITS, FUZZ_DEVSETS, FUZZ_REGIONS, FUZZ_SPECIALS, FUZZ_ATS);
	memset(&d, 0, sizeof(d));
	st_small = moat_acpi_describe_dmar(buf, size, &small, NULL, NULL, &d);
	fuzz_check_desc(&small, st_small, &d, MOAT_VENDOR_VTD);
	if (st_large == MOAT_OK)
		CHECK(st_small == MOAT_OK && small.units_count == large.units_count &&
		      small.devsets_count == large.devsets_count);

	struct moat_acpi_header h;
	if (moat_acpi_header_decode(buf, size, &h, NULL) == MOAT_OK)
		CHECK(h.length >= MOAT_ACPI_HEADER_SIZE && h.length <= size && h.checksum_valid ==
		      (moat_acpi_checksum(buf, h.length) == 0));
	free(buf);
	return 0;
}
