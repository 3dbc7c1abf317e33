/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DMAR tables built byte by byte for the tests, and helpers to load corpus tables.
 *
 *     struct tb t;
 *     tb_init(&t, 38, MOAT_DMAR_FLAG_INTR_REMAP);          // HAW field, flags
 *     tb_drhd(&t, 0, 0, 0, 0xfed90000);                    // opens a structure
 *     tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02, 0);  // a whole scope
 *     tb_end(&t);                                          // closes the DRHD: its length is set
 *     size_t len = tb_finish(&t);                          // table length and checksum
 *
 * Structures and scopes nest; tb_end() patches the length of the innermost open one. Every write is
 * bounded by TB_MAX (a test that overflows it fails).
 */
#ifndef MOAT_TEST_DMAR_BUILDER_H
#define MOAT_TEST_DMAR_BUILDER_H

#include "test.h"

#include <moat/acpi.h>
#include <moat/dmar.h>

#define TB_MAX 8192
#define TB_DEPTH 8

struct tb {
	uint8_t b[TB_MAX];
	size_t len;
	size_t open[TB_DEPTH];     /* offsets of the open structures and scopes */
	bool open_scope[TB_DEPTH]; /* a scope (1-byte length at +1) or a structure (2-byte length at +2) */
	int depth;
};

static inline void tb_u8(struct tb *t, unsigned v)
{
	assert_true(t->len < TB_MAX);
	t->b[t->len++] = (uint8_t)v;
}

static inline void tb_u16(struct tb *t, unsigned v)
{
	tb_u8(t, v & 0xff);
	tb_u8(t, (v >> 8) & 0xff);
}

static inline void tb_u32(struct tb *t, uint32_t v)
{
	tb_u16(t, v & 0xffff);
	tb_u16(t, v >> 16);
}

static inline void tb_u64(struct tb *t, uint64_t v)
{
	tb_u32(t, (uint32_t)v);
	tb_u32(t, (uint32_t)(v >> 32));
}

static inline void tb_bytes(struct tb *t, const void *p, size_t n)
{
	const uint8_t *s = p;
	for (size_t i = 0; i < n; i++)
		tb_u8(t, s[i]);
}

static inline void tb_put16(uint8_t *b, size_t off, unsigned v)
{
	b[off] = (uint8_t)v;
	b[off + 1] = (uint8_t)(v >> 8);
}

static inline void tb_put32(uint8_t *b, size_t off, uint32_t v)
{
	tb_put16(b, off, v & 0xffff);
	tb_put16(b, off + 2, v >> 16);
}

static inline void tb_put64(uint8_t *b, size_t off, uint64_t v)
{
	tb_put32(b, off, (uint32_t)v);
	tb_put32(b, off + 4, (uint32_t)(v >> 32));
}

/* Make the @len bytes at @b sum to zero through the checksum byte (offset 9). */
static inline void tb_fix_checksum(uint8_t *b, size_t len)
{
	uint8_t sum = 0;
	b[9] = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	b[9] = (uint8_t)(0x100 - sum);
}

/* The 48-byte DMAR header (VT-d spec section 8.1): ACPI header, HAW field, flags, 10 reserved. */
static inline void tb_init(struct tb *t, unsigned haw_field, unsigned flags)
{
	memset(t, 0, sizeof(*t));
	tb_bytes(t, "DMAR", 4);
	tb_u32(t, 0);
	tb_u8(t, 1);
	tb_u8(t, 0);
	tb_bytes(t, "MOATTS", 6);
	tb_bytes(t, "TESTDMAR", 8);
	tb_u32(t, 1);
	tb_bytes(t, "MOAT", 4);
	tb_u32(t, 1);
	tb_u8(t, haw_field);
	tb_u8(t, flags);
	for (int i = 0; i < 10; i++)
		tb_u8(t, 0);
}

/* Open a structure of @type (its length is set by tb_end()); returns its offset. */
static inline size_t tb_begin(struct tb *t, unsigned type)
{
	size_t off = t->len;
	assert_true(t->depth < TB_DEPTH);
	t->open[t->depth] = off;
	t->open_scope[t->depth++] = false;
	tb_u16(t, type);
	tb_u16(t, 0);
	return off;
}

/* Open a device scope (section 8.3.1); add its path with tb_path(), close it with tb_end(). */
static inline size_t tb_scope(struct tb *t, unsigned type, unsigned enum_id, unsigned bus)
{
	size_t off = t->len;
	assert_true(t->depth < TB_DEPTH);
	t->open[t->depth] = off;
	t->open_scope[t->depth++] = true;
	tb_u8(t, type);
	tb_u8(t, 0);
	tb_u8(t, 0);
	tb_u8(t, 0);
	tb_u8(t, enum_id);
	tb_u8(t, bus);
	return off;
}

static inline void tb_path(struct tb *t, unsigned dev, unsigned fn)
{
	tb_u8(t, dev);
	tb_u8(t, fn);
}

/* Close the innermost open structure or scope. */
static inline void tb_end(struct tb *t)
{
	assert_true(t->depth > 0);
	size_t off = t->open[--t->depth];
	size_t n = t->len - off;
	if (t->open_scope[t->depth]) {
		assert_true(n <= 0xff);
		t->b[off + 1] = (uint8_t)n;
	} else {
		assert_true(n <= 0xffff);
		tb_put16(t->b, off + 2, (unsigned)n);
	}
}

/* A whole scope: @n (device, function) pairs follow as unsigned arguments. Returns its offset. */
static inline size_t tb_scope_path(struct tb *t, unsigned type, unsigned enum_id, unsigned bus, unsigned n, ...)
{
	va_list ap;
	size_t off = tb_scope(t, type, enum_id, bus);
	va_start(ap, n);
	for (unsigned i = 0; i < n; i++) {
		unsigned dev = va_arg(ap, unsigned);
		unsigned fn = va_arg(ap, unsigned);
		tb_path(t, dev, fn);
	}
	va_end(ap);
	tb_end(t);
	return off;
}

/* Set the byte-2 flags of the scope at @off (SIDP scope flags). */
static inline void tb_scope_flags(struct tb *t, size_t off, unsigned flags)
{
	t->b[off + 2] = (uint8_t)flags;
}

/* Close everything still open, set the table length and the checksum; returns the length. */
static inline size_t tb_finish(struct tb *t)
{
	while (t->depth > 0)
		tb_end(t);
	tb_put32(t->b, 4, (uint32_t)t->len);
	tb_fix_checksum(t->b, t->len);
	return t->len;
}

/* Structures (VT-d spec sections 8.3 to 8.9): each opens the structure and returns its offset. */
static inline size_t tb_drhd(struct tb *t, unsigned flags, unsigned size, unsigned seg, uint64_t base)
{
	size_t off = tb_begin(t, MOAT_DMAR_TYPE_DRHD);
	tb_u8(t, flags);
	tb_u8(t, size);
	tb_u16(t, seg);
	tb_u64(t, base);
	return off;
}

static inline size_t tb_rmrr(struct tb *t, unsigned seg, uint64_t base, uint64_t limit)
{
	size_t off = tb_begin(t, MOAT_DMAR_TYPE_RMRR);
	tb_u16(t, 0);
	tb_u16(t, seg);
	tb_u64(t, base);
	tb_u64(t, limit);
	return off;
}

static inline size_t tb_atsr(struct tb *t, unsigned flags, unsigned seg)
{
	size_t off = tb_begin(t, MOAT_DMAR_TYPE_ATSR);
	tb_u8(t, flags);
	tb_u8(t, 0);
	tb_u16(t, seg);
	return off;
}

static inline size_t tb_rhsa(struct tb *t, uint64_t base, uint32_t domain)
{
	size_t off = tb_begin(t, MOAT_DMAR_TYPE_RHSA);
	tb_u32(t, 0);
	tb_u64(t, base);
	tb_u32(t, domain);
	return off;
}

/* An ANDD: the name with its NUL, then @pad more zero bytes (firmware pads past the NUL). */
static inline size_t tb_andd(struct tb *t, unsigned number, const char *name, unsigned pad)
{
	size_t off = tb_begin(t, MOAT_DMAR_TYPE_ANDD);
	tb_u8(t, 0);
	tb_u8(t, 0);
	tb_u8(t, 0);
	tb_u8(t, number);
	tb_bytes(t, name, strlen(name) + 1);
	for (unsigned i = 0; i < pad; i++)
		tb_u8(t, 0);
	return off;
}

static inline size_t tb_satc(struct tb *t, unsigned flags, unsigned seg)
{
	size_t off = tb_begin(t, MOAT_DMAR_TYPE_SATC);
	tb_u8(t, flags);
	tb_u8(t, 0);
	tb_u16(t, seg);
	return off;
}

static inline size_t tb_sidp(struct tb *t, unsigned seg)
{
	size_t off = tb_begin(t, MOAT_DMAR_TYPE_SIDP);
	tb_u16(t, 0);
	tb_u16(t, seg);
	return off;
}

/* A copy of @n bytes in a buffer of exactly @n bytes, so the sanitizer sees any read past it. */
static inline uint8_t *tb_dup(const void *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);
	assert_non_null(c);
	if (n)
		memcpy(c, p, n);
	return c;
}

/* Load a corpus table (MOAT_CORPUS_DIR/dmar/NAME.dmar.dat) into an exactly-sized buffer. */
static inline uint8_t *tb_load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t tmp[1 << 16];
	size_t n;
	if (!f)
		fail_msg("cannot open %s", path);
	n = fread(tmp, 1, sizeof(tmp), f);
	fclose(f);
	assert_true(n > 0 && n < sizeof(tmp));
	*len = n;
	return tb_dup(tmp, n);
}

static inline uint8_t *tb_load_corpus(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/dmar/%s.dmar.dat", MOAT_CORPUS_DIR, name);
	return tb_load(path, len);
}

/* Assert a failure status and where it points. */
#define assert_diag(st, d, want, off)                                 \
	do {                                                          \
		assert_int_equal((st), (want));                       \
		assert_int_equal((d).status, (want));                 \
		assert_string_equal((d).table, "DMAR");               \
		assert_int_equal((d).offset, (off));                  \
	} while (0)

#endif
