/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading the text that `acpidump` prints: one block per table,
 *
 *     DMAR @ 0x0000000079B2E000
 *         0000: 44 4D 41 52 A8 00 00 00 01 BE 49 4E 54 45 4C 20  DMAR......INTEL
 *         ...
 *
 * A block starts at a header line (any line that is neither blank nor a data line; its name is the
 * text before " @") and ends at a blank line, the next header line or the end of the text. A data
 * line is an offset of 4 to 8 hex digits and a colon, then up to 16 bytes as two hex digits separated
 * by single blanks; two blanks in a row (or the 16th byte) end the bytes, and what follows (the ASCII
 * column) is ignored, whatever it looks like. Data lines before any header form a block without a
 * name. Every offset must continue where the previous line ended: a block whose offsets jump or go
 * back is broken, reported on stderr and skipped. The table's signature is taken from its bytes.
 *
 * The text is hostile input: it is read only inside [text, text + len), NUL bytes are ordinary
 * characters, and the memory held is one buffer for the current block, never larger than the text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define BYTES_PER_LINE_MAX 16
#define OFFSET_DIGITS_MIN 4
#define OFFSET_DIGITS_MAX 8
#define NAME_MAX_SHOWN 32

struct line {
	const char *p;
	size_t len;      /* without the newline and a trailing CR */
	unsigned number; /* 1-based, for messages */
};

struct block {
	char name[NAME_MAX_SHOWN + 1]; /* printable copy of the header's name, "" if none */
	unsigned first_line;
	bool open;       /* a header or a data line started it */
	bool broken;
	bool has_data;
	uint8_t *bytes;
	size_t n, cap;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool line_is_blank(const struct line *l)
{
	for (size_t i = 0; i < l->len; i++)
		if (!blank(l->p[i]))
			return false;
	return true;
}

/*
 * Parse @l as a data line: its offset into *@offset and its bytes into @out (at most 16).
 * Returns the number of bytes, or -1 when the line is not a data line.
 */
static int parse_data_line(const struct line *l, uint32_t *offset, uint8_t out[BYTES_PER_LINE_MAX])
{
	size_t i = 0, digits = 0;
	uint32_t off = 0;
	int n = 0;

	while (i < l->len && blank(l->p[i]))
		i++;
	while (i < l->len && hexval(l->p[i]) >= 0 && digits < OFFSET_DIGITS_MAX + 1) {
		off = off << 4 | (uint32_t)hexval(l->p[i]);
		i++;
		digits++;
	}
	if (digits < OFFSET_DIGITS_MIN || digits > OFFSET_DIGITS_MAX || i >= l->len || l->p[i] != ':')
		return -1;
	i++;
	*offset = off;
	/* The first byte follows the colon after some blanks. */
	if (i >= l->len || !blank(l->p[i]))
		return 0;
	while (i < l->len && blank(l->p[i]))
		i++;
	while (n < BYTES_PER_LINE_MAX && i + 2 <= l->len) {
		int hi = hexval(l->p[i]), lo = hexval(l->p[i + 1]);
		if (hi < 0 || lo < 0 || (i + 2 < l->len && !blank(l->p[i + 2])))
			break;
		out[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
		/* One blank separates bytes; two or more (or the end) lead to the ASCII column. */
		if (i >= l->len || i + 1 >= l->len || blank(l->p[i + 1]))
			break;
		i++;
	}
	return n;
}

static void block_name(struct block *b, const struct line *l)
{
	size_t i = 0, n = 0;

	while (i < l->len && blank(l->p[i]))
		i++;
	for (; i < l->len && n < NAME_MAX_SHOWN; i++) {
		char c = l->p[i];
		if (c == '@' || (blank(c) && i + 1 < l->len && l->p[i + 1] == '@'))
			break;
		b->name[n++] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	while (n > 0 && blank(b->name[n - 1]))
		n--;
	b->name[n] = '\0';
}

static void block_start(struct block *b, const struct line *l, bool header)
{
	b->open = true;
	b->broken = false;
	b->has_data = false;
	b->n = 0;
	b->first_line = l->number;
	b->name[0] = '\0';
	if (header)
		block_name(b, l);
}

static void block_broken(struct block *b, const struct line *l, const char *problem, uint32_t off)
{
	fprintf(stderr, "moat-acpi: acpidump text line %u: block \"%s\" (from line %u): %s at offset 0x%lx, "
		"0x%zx bytes read; block skipped\n", l->number, b->name[0] ? b->name : "(no name)", b->first_line,
		problem, (unsigned long)off, b->n);
	b->broken = true;
}

/* Append @n bytes; false when memory runs out (the block is then reported broken). */
static bool block_append(struct block *b, const uint8_t *src, size_t n)
{
	if (b->cap - b->n < n) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->n < n)
			cap *= 2;
		uint8_t *nb = realloc(b->bytes, cap);
		if (!nb)
			return false;
		b->bytes = nb;
		b->cap = cap;
	}
	memcpy(b->bytes + b->n, src, n);
	b->n += n;
	return true;
}

static bool is_iommu_sig(const void *p)
{
	return !memcmp(p, "DMAR", 4) || !memcmp(p, "IVRS", 4);
}

/* Hand a finished block to @fn if it holds a DMAR or IVRS. Returns fn's value (0 when not called). */
static int block_end(struct block *b, acpidump_table_fn fn, void *ctx, int *found, unsigned *broken)
{
	int rc = 0;

	if (!b->open)
		return 0;
	b->open = false;
	if (b->broken) {
		/* A DMAR or IVRS that cannot be read back is a malformed table for the exit status. */
		if ((b->n >= 4 && is_iommu_sig(b->bytes)) || (strlen(b->name) >= 4 && is_iommu_sig(b->name)))
			(*broken)++;
		return 0;
	}
	if (!b->has_data)
		return 0;
	if (b->n >= 4 && is_iommu_sig(b->bytes)) {
		(*found)++;
		rc = fn(ctx, (const char *)b->bytes, b->bytes, b->n);
	} else if (strlen(b->name) >= 4 && is_iommu_sig(b->name)) {
		fprintf(stderr, "moat-acpi: acpidump text line %u: block \"%s\" holds no %.4s table "
			"(%zu bytes)%s\n", b->first_line, b->name, b->name, b->n,
			b->n >= 4 ? "" : ", too short for a signature");
	}
	return rc;
}

int acpidump_parse(const char *text, size_t len, acpidump_table_fn fn, void *ctx, unsigned *broken)
{
	struct block b = { 0 };
	bool any_block = false;

	*broken = 0;
	int found = 0, stop = 0;
	unsigned number = 0;
	size_t pos = 0;

	while (pos < len && !stop) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		struct line l = { text + pos, end - pos, ++number };
		uint8_t bytes[BYTES_PER_LINE_MAX];
		uint32_t off;
		int n;

		pos = nl ? end + 1 : len;
		if (l.len > 0 && l.p[l.len - 1] == '\r')
			l.len--;
		if (line_is_blank(&l)) {
			stop = block_end(&b, fn, ctx, &found, broken);
			continue;
		}
		n = parse_data_line(&l, &off, bytes);
		if (n < 0) {
			stop = block_end(&b, fn, ctx, &found, broken);
			block_start(&b, &l, true);
			continue;
		}
		any_block = true;
		if (!b.open)
			block_start(&b, &l, false);
		if (b.broken)
			continue;
		b.has_data = true;
		if (off != b.n) {
			block_broken(&b, &l, off < b.n ? "offsets go back" : "offsets jump ahead", off);
			continue;
		}
		if (!block_append(&b, bytes, (size_t)n))
			block_broken(&b, &l, "out of memory", off);
	}
	if (!stop)
		block_end(&b, fn, ctx, &found, broken);
	free(b.bytes);
	return any_block ? found : -1;
}
