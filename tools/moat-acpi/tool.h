/* SPDX-License-Identifier: BSD-2-Clause */
/* moat-acpi internals: the output writer and the per-table printers. */
#ifndef MOAT_ACPI_TOOL_H
#define MOAT_ACPI_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <moat/diag.h>

/*
 * A streaming JSON writer that places commas itself. Keys and values alternate inside objects:
 *     json_obj_begin(j); json_key(j, "length"); json_uint(j, 48); json_obj_end(j);
 * Strings are escaped (control and non-ASCII bytes as \u00XX, so binary OEM bytes stay valid JSON).
 */
struct json {
	FILE *f;
	int depth;
	bool need_comma[64];
	bool after_key;
};

void json_init(struct json *j, FILE *f);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_uint(struct json *j, uint64_t v);
void json_bool(struct json *j, bool v);
/* @len bytes of @s, trailing NULs removed. */
void json_strn(struct json *j, const char *s, size_t len);
void json_str(struct json *j, const char *s);

/* Where a printer writes: JSON into @json when @json_mode, else text into @text. */
struct tool_out {
	bool json_mode;
	struct json *json;
	FILE *text;
	const char *source;  /* the file name, for the text header */
};

/*
 * Per-table printers. Each decodes the table in @buf (@len bytes: exactly the table as found, its
 * length field may disagree), prints it to @o (one JSON object for the "tables" array, or text),
 * and returns 0 when the table is well formed or 1 when it is not, with @diag filled (the caller
 * prints the message on stderr). A malformed table is still printed as far as it decodes.
 */
int tool_print_dmar(const uint8_t *buf, size_t len, struct tool_out *o, struct moat_diag *diag);
int tool_print_ivrs(const uint8_t *buf, size_t len, struct tool_out *o, struct moat_diag *diag);

/*
 * acpidump text: calls @fn for every table in @text (the "NAME @ 0xADDR" blocks of hex lines)
 * whose signature is DMAR or IVRS, with the table's bytes. Returns the number of tables found, or -1
 * when the text is not acpidump output (no block at all); @fn returning non-zero stops the walk.
 * *@broken receives the number of DMAR or IVRS blocks that could not be read back (offsets that jump
 * or go back): those are reported on stderr and skipped.
 */
typedef int (*acpidump_table_fn)(void *ctx, const char sig[4], const uint8_t *bytes, size_t len);
int acpidump_parse(const char *text, size_t len, acpidump_table_fn fn, void *ctx, unsigned *broken);

#endif
