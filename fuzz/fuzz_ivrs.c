/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the input is an IVRS table. Runs the raw iterators (moat/ivrs.h) and their
 * helpers, the checker, and moat_acpi_describe_ivrs() with arrays large enough for any input and
 * with tiny ones (so the NO_SPACE paths run). Results are checked against the contracts of the
 * headers; a violation traps.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <moat/acpi.h>
#include <moat/ivrs.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const uint8_t *base, size_t size, const uint8_t *p, size_t n)
{
	return p >= base && n <= size && (size_t)(p - base) <= size - n;
}

static void check_entry(const uint8_t *data, size_t size, const struct moat_ivhd_entry *e,
			const struct moat_ivrs_struct *s)
{
	char id[17], uid[300];
	volatile unsigned sink = 0;

	CHECK(e->length >= 4 && e->offset >= s->entries_offset && e->offset + e->length <= s->offset + s->length);
	CHECK(inside(data, size, data + e->offset, e->length));
	if (e->type != MOAT_IVHD_ENTRY_ACPI_HID)
		return;
	moat_ivhd_acpi_id(e->hid, id);
	CHECK(memchr(id, 0, sizeof(id)) != NULL);
	moat_ivhd_acpi_id(e->cid, id);
	CHECK(memchr(id, 0, sizeof(id)) != NULL);
	if (e->uid_length) {
		CHECK(e->uid && inside(data, size, e->uid, e->uid_length));
		for (unsigned i = 0; i < e->uid_length; i++)
			sink += e->uid[i];
	}
	/* The UID string: its full length whatever the buffer, truncated and terminated in small ones. */
	size_t full = moat_ivhd_uid_string(e, uid, sizeof(uid));
	CHECK(full < sizeof(uid) && strlen(uid) == full);
	char small[4];
	memset(small, 'x', sizeof(small));
	CHECK(moat_ivhd_uid_string(e, small, sizeof(small)) == full);
	CHECK(memchr(small, 0, sizeof(small)) != NULL && strncmp(small, uid, sizeof(small) - 1) == 0);
	CHECK(moat_ivhd_uid_string(e, small, 0) == full);
	(void)sink;
}

static void walk_raw(const uint8_t *data, size_t size)
{
	struct moat_ivrs_info info;
	struct moat_ivrs_iter it, first;
	struct moat_ivrs_struct s;
	struct moat_diag d;
	moat_status st;
	unsigned steps = 0;

	memset(&d, 0, sizeof(d));
	st = moat_ivrs_open(data, size, &info, &it, &d);
	if (st != MOAT_OK)
		CHECK(d.status == st);
	if (st == MOAT_ERR_INVALID_ARG)
		return;
	/* Even after a header problem the iterator walks what the buffer holds. */
	first = it;
	for (;;) {
		memset(&d, 0, sizeof(d));
		memset(&s, 0, sizeof(s));
		st = moat_ivrs_next(&it, &s, &d);
		if (st == MOAT_END)
			break;
		CHECK(++steps <= size / MOAT_IVRS_STRUCT_HEADER_SIZE + 1);
		if (st != MOAT_OK) {
			CHECK(st == MOAT_ERR_TRUNCATED || st == MOAT_ERR_MALFORMED);
			CHECK(d.status == st);
			/* A length problem ends the walk; after a value problem it goes on. */
			if (st == MOAT_ERR_TRUNCATED)
				CHECK(moat_ivrs_next(&it, &s, NULL) == MOAT_END);
			continue;
		}
		CHECK(s.offset >= MOAT_IVRS_HEADER_SIZE && inside(data, size, data + s.offset, s.length));
		if (s.kind != MOAT_IVRS_KIND_IVHD)
			continue;
		(void)moat_ivrs_ivhd_preferred(&first, &s);
		uint32_t rs = moat_ivrs_register_size(&s);
		CHECK(rs == MOAT_AMDVI_MMIO_SIZE || rs == MOAT_AMDVI_MMIO_SIZE_PC);

		struct moat_ivhd_iter eit;
		struct moat_ivhd_entry e;
		unsigned entry_steps = 0;
		moat_ivrs_entries_begin(&it, &s, &eit);
		for (;;) {
			memset(&e, 0, sizeof(e));
			moat_status est = moat_ivrs_entry_next(&eit, &e, &d);
			if (est == MOAT_END)
				break;
			CHECK(++entry_steps <= s.length / 4u + 1);
			if (est == MOAT_ERR_TRUNCATED) {
				CHECK(moat_ivrs_entry_next(&eit, &e, NULL) == MOAT_END);
				break;
			}
			CHECK(est == MOAT_OK || est == MOAT_ERR_MALFORMED);
			/* A range start left open is found at the end of the IVHD: no entry then. */
			if (est == MOAT_OK || e.length != 0)
				check_entry(data, size, &e, &s);
		}
	}
}

static struct fuzz_desc large_arrays, small_arrays;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
	st_check = moat_ivrs_check(buf, size, &dc);
	CHECK(st_check == MOAT_OK || dc.status == st_check);

	/* No table of this size needs more than these (each devset comes from at least 4 bytes). */
	large = fuzz_sysdesc(&large_arrays, (uint32_t)(size / 24 + 1), (uint32_t)(size / 4 + 1),
			     (uint32_t)(size / 32 + 1), (uint32_t)(size / 8 + 1), (uint32_t)(size / 4 + 1));
	memset(&d, 0, sizeof(d));
	st_large = moat_acpi_describe_ivrs(buf, size, &large, &d);
	fuzz_check_desc(&large, st_large, &d, MOAT_VENDOR_AMDVI);
	/* The builder accepts exactly the tables the checker accepts. */
	if (st_check != MOAT_OK)
		CHECK(st_large == st_check && d.offset == dc.offset);
	else
		CHECK(st_large == MOAT_OK || st_large == MOAT_ERR_NO_SPACE);

	small = fuzz_sysdesc(&small_arrays, 1, 2, 1, 1, 1);
	memset(&d, 0, sizeof(d));
	st_small = moat_acpi_describe_ivrs(buf, size, &small, &d);
	fuzz_check_desc(&small, st_small, &d, MOAT_VENDOR_AMDVI);
	fuzz_check_small(&large, st_large, &small, st_small);

	free(buf);
	return 0;
}
