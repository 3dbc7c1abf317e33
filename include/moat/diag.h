/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Diagnostics: what went wrong and where. Functions that parse firmware tables or check arguments
 * take an optional `struct moat_diag *` (NULL is allowed) and fill it when they fail, so a host can
 * print a message naming the table, the byte offset and the problem.
 */
#ifndef MOAT_DIAG_H
#define MOAT_DIAG_H

#include <stdint.h>

#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MOAT_DIAG_MSG_MAX 160

struct moat_diag {
	moat_status status;           /* the status the failing function returned */
	char table[5];                /* ACPI signature ("DMAR", "IVRS", ...) or "" if not a table */
	uint32_t offset;              /* byte offset in that table of the offending field */
	char msg[MOAT_DIAG_MSG_MAX];  /* human-readable problem, NUL-terminated, no newline */
};

/*
 * moat_diag_format() - render @d as "DMAR+0x48: <msg>" (or just the message when there is no
 * table) into @buf of @size bytes, always NUL-terminated. Returns @buf.
 */
char *moat_diag_format(const struct moat_diag *d, char *buf, unsigned size);

#ifdef __cplusplus
}
#endif

#endif
