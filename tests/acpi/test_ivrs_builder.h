/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hand-made IVRS tables for the tests, built byte by byte: a header, then IVHDs with their device
 * entries, IVMDs and structures of any type. ivrs_finish() sets every length and the checksum.
 * Also: loading corpus tables, and patching a table's length or bytes with the checksum fixed.
 */
#ifndef TEST_IVRS_BUILDER_H
#define TEST_IVRS_BUILDER_H

#include "test.h"

#include <moat/acpi.h>
#include <moat/ivrs.h>

#define IVRS_BUILDER_MAX 8192

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

struct ivrs_builder {
	uint8_t buf[IVRS_BUILDER_MAX];
	size_t len;
	size_t ivhd;            /* offset of the IVHD being filled, 0 when none */
};

static inline void ivrs_put(struct ivrs_builder *b, uint64_t v, unsigned n)
{
	assert_true(b->len + n <= sizeof(b->buf));
	for (unsigned i = 0; i < n; i++)
		b->buf[b->len++] = (uint8_t)(v >> (8 * i));
}

static inline void ivrs_put_bytes(struct ivrs_builder *b, const void *p, size_t n)
{
	assert_true(b->len + n <= sizeof(b->buf));
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static inline uint16_t ivrs_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t ivrs_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void ivrs_set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void ivrs_set32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Set the checksum byte so that @len bytes sum to zero. */
static inline void ivrs_fix_checksum(uint8_t *t, size_t len)
{
	uint8_t sum = 0;

	t[9] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + t[i]);
	t[9] = (uint8_t)(0x100 - sum);
}

/* Set the length field to @len and fix the checksum. */
static inline void ivrs_set_length(uint8_t *t, size_t len)
{
	ivrs_set32(t + 4, (uint32_t)len);
	ivrs_fix_checksum(t, len);
}

static inline void ivrs_close_ivhd(struct ivrs_builder *b)
{
	if (b->ivhd) {
		ivrs_set16(b->buf + b->ivhd + 2, (uint16_t)(b->len - b->ivhd));
		b->ivhd = 0;
	}
}

static inline void ivrs_begin(struct ivrs_builder *b, uint8_t revision, uint32_t ivinfo)
{
	memset(b, 0, sizeof(*b));
	ivrs_put_bytes(b, "IVRS", 4);
	ivrs_put(b, 0, 4);              /* length, set at the end */
	ivrs_put(b, revision, 1);
	ivrs_put(b, 0, 1);              /* checksum */
	ivrs_put_bytes(b, "MOATTS", 6);
	ivrs_put_bytes(b, "IVRSTEST", 8);
	ivrs_put(b, 1, 4);
	ivrs_put_bytes(b, "MOAT", 4);
	ivrs_put(b, 1, 4);
	ivrs_put(b, ivinfo, 4);
	ivrs_put(b, 0, 8);
}

/* Start an IVHD; entries follow until the next structure. Returns its offset. */
static inline size_t ivrs_ivhd(struct ivrs_builder *b, uint8_t type, uint8_t flags, uint16_t devid, uint16_t cap,
			       uint64_t base, uint16_t segment, uint16_t info, uint32_t feature, uint64_t efr)
{
	size_t off;

	ivrs_close_ivhd(b);
	off = b->len;
	ivrs_put(b, type, 1);
	ivrs_put(b, flags, 1);
	ivrs_put(b, 0, 2);
	ivrs_put(b, devid, 2);
	ivrs_put(b, cap, 2);
	ivrs_put(b, base, 8);
	ivrs_put(b, segment, 2);
	ivrs_put(b, info, 2);
	ivrs_put(b, feature, 4);
	if (type != MOAT_IVRS_TYPE_IVHD10) {
		ivrs_put(b, efr, 8);
		ivrs_put(b, 0, 8);
	}
	b->ivhd = off;
	return off;
}

static inline size_t ivrs_entry4(struct ivrs_builder *b, uint8_t type, uint16_t devid, uint8_t setting)
{
	size_t off = b->len;

	ivrs_put(b, type, 1);
	ivrs_put(b, devid, 2);
	ivrs_put(b, setting, 1);
	return off;
}

static inline size_t ivrs_entry_alias(struct ivrs_builder *b, uint8_t type, uint16_t devid, uint8_t setting,
				      uint16_t alias)
{
	size_t off = ivrs_entry4(b, type, devid, setting);

	ivrs_put(b, 0, 1);
	ivrs_put(b, alias, 2);
	ivrs_put(b, 0, 1);
	return off;
}

static inline size_t ivrs_entry_ext(struct ivrs_builder *b, uint8_t type, uint16_t devid, uint8_t setting,
				    uint32_t ext)
{
	size_t off = ivrs_entry4(b, type, devid, setting);

	ivrs_put(b, ext, 4);
	return off;
}

static inline size_t ivrs_entry_special(struct ivrs_builder *b, uint8_t setting, uint8_t handle, uint16_t source,
					uint8_t variety)
{
	size_t off = ivrs_entry4(b, MOAT_IVHD_ENTRY_SPECIAL, 0, setting);

	ivrs_put(b, handle, 1);
	ivrs_put(b, source, 2);
	ivrs_put(b, variety, 1);
	return off;
}

/* ACPI HID entry; @hid and @cid are 8 raw bytes each. */
static inline size_t ivrs_entry_hid(struct ivrs_builder *b, uint16_t devid, uint8_t setting, const void *hid,
				    const void *cid, uint8_t uid_format, const void *uid, uint8_t uid_len)
{
	size_t off = ivrs_entry4(b, MOAT_IVHD_ENTRY_ACPI_HID, devid, setting);

	ivrs_put_bytes(b, hid, 8);
	ivrs_put_bytes(b, cid, 8);
	ivrs_put(b, uid_format, 1);
	ivrs_put(b, uid_len, 1);
	if (uid_len)
		ivrs_put_bytes(b, uid, uid_len);
	return off;
}

static inline size_t ivrs_ivmd(struct ivrs_builder *b, uint8_t type, uint8_t flags, uint16_t devid, uint16_t aux,
			       uint64_t start, uint64_t length)
{
	size_t off;

	ivrs_close_ivhd(b);
	off = b->len;
	ivrs_put(b, type, 1);
	ivrs_put(b, flags, 1);
	ivrs_put(b, MOAT_IVMD_SIZE, 2);
	ivrs_put(b, devid, 2);
	ivrs_put(b, aux, 2);
	ivrs_put(b, 0, 8);
	ivrs_put(b, start, 8);
	ivrs_put(b, length, 8);
	return off;
}

/* A structure of any type: the 4-byte header and @length - 4 bytes of 0xa5. */
static inline size_t ivrs_raw_struct(struct ivrs_builder *b, uint8_t type, uint16_t length)
{
	size_t off;

	ivrs_close_ivhd(b);
	off = b->len;
	ivrs_put(b, type, 1);
	ivrs_put(b, 0, 1);
	ivrs_put(b, length, 2);
	for (unsigned i = 4; i < length; i++)
		ivrs_put(b, 0xa5, 1);
	return off;
}

/* Close the open IVHD, set the table length and the checksum. Returns the length. */
static inline size_t ivrs_finish(struct ivrs_builder *b)
{
	ivrs_close_ivhd(b);
	ivrs_set_length(b->buf, b->len);
	return b->len;
}

/* QEMU's own IVRS (qemu 7.2, q35 with amd-iommu and an edu device): revision 1, one IVHD 10h. */
static inline size_t ivrs_build_qemu(struct ivrs_builder *b)
{
	ivrs_begin(b, 1, (1u << 0) | (40u << 8));
	ivrs_ivhd(b, MOAT_IVRS_TYPE_IVHD10, 0xd1, 0x0008, 0x40, 0xfed80000ull, 0, 0, 0x4, 0);
	ivrs_entry4(b, MOAT_IVHD_ENTRY_SELECT, MOAT_RID(0, 0, 0), 0);
	ivrs_entry4(b, MOAT_IVHD_ENTRY_SELECT, MOAT_RID(0, 1, 0), 0);
	ivrs_entry4(b, MOAT_IVHD_ENTRY_SELECT, MOAT_RID(0, 2, 0), 0);
	ivrs_entry4(b, MOAT_IVHD_ENTRY_SELECT, MOAT_RID(0, 0x1f, 0), 0);
	ivrs_entry4(b, MOAT_IVHD_ENTRY_SELECT, MOAT_RID(0, 0x1f, 2), 0);
	ivrs_entry4(b, MOAT_IVHD_ENTRY_SELECT, MOAT_RID(0, 0x1f, 3), 0);
	ivrs_entry_special(b, 0, 0, MOAT_RID(0, 0x14, 0), MOAT_IVHD_SPECIAL_IOAPIC);
	return ivrs_finish(b);
}

/* A corpus table, read whole into @buf. Returns its length (fails the test if it cannot). */
static inline size_t ivrs_load(const char *name, uint8_t *buf, size_t size)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/ivrs/%s.ivrs.dat", MOAT_CORPUS_DIR, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	n = fread(buf, 1, size, f);
	fclose(f);
	assert_true(n > 0 && n < size);
	return n;
}

#endif
