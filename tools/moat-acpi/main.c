/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * moat-acpi: decode and check DMAR (Intel VT-d) and IVRS (AMD-Vi) ACPI tables.
 * Usage and exit codes: see usage() below and docs/moat-acpi.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <moat/version.h>

#include "tool.h"

#define EXIT_MALFORMED 1
#define EXIT_USAGE 2

/* Files larger than this are refused (no ACPI table or acpidump of one machine comes close). */
#define MAX_INPUT (64u << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moat-acpi [--json] [--check] [FILE...]\n"
		"Decode and check the IOMMU tables of ACPI: DMAR (Intel VT-d) and IVRS (AMD-Vi).\n"
		"\n"
		"  FILE       a raw table (a .dat file, or /sys/firmware/acpi/tables/DMAR), or the text\n"
		"             output of acpidump (every DMAR and IVRS in it is decoded).\n"
		"             Without FILE: /sys/firmware/acpi/tables/DMAR and IVRS of this machine.\n"
		"  --json     print one JSON object {\"tables\": [...]} instead of text\n"
		"  --check    print nothing but problems; the exit status tells\n"
		"  --help     this text\n"
		"  --version  the version\n"
		"\n"
		"Exit status: 0 every table well formed, 1 some table malformed (the message on stderr\n"
		"names the table, the byte offset and the problem), 2 usage or I/O error.\n");
}

struct run {
	struct tool_out out;
	bool check_only;
	int status;        /* worst exit status so far */
	const char *file;  /* current input, for messages */
	unsigned tables;   /* tables decoded */
};

static void worse(struct run *r, int st)
{
	if (st > r->status)
		r->status = st;
}

static int decode_table(void *ctx, const char sig[4], const uint8_t *bytes, size_t len)
{
	struct run *r = ctx;
	struct moat_diag diag = { 0 };
	int rc;

	r->out.source = r->file;
	if (!memcmp(sig, "DMAR", 4))
		rc = tool_print_dmar(bytes, len, &r->out, &diag);
	else
		rc = tool_print_ivrs(bytes, len, &r->out, &diag);
	r->tables++;
	if (rc) {
		char msg[256];
		fprintf(stderr, "moat-acpi: %s: %s\n", r->file, moat_diag_format(&diag, msg, sizeof(msg)));
		worse(r, EXIT_MALFORMED);
	}
	return 0;
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "moat-acpi: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			if (cap >= MAX_INPUT) {
				fprintf(stderr, "moat-acpi: %s: larger than %u MiB, not an ACPI table\n", path,
					MAX_INPUT >> 20);
				free(buf);
				buf = NULL;
				break;
			}
			cap *= 2;
			uint8_t *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				fprintf(stderr, "moat-acpi: %s: read error\n", path);
				free(buf);
				buf = NULL;
			}
			break;
		}
	}
	fclose(f);
	*len = n;
	return buf;
}

static void do_file(struct run *r, const char *path, bool missing_ok)
{
	size_t len;
	uint8_t *buf;

	if (missing_ok) {
		FILE *f = fopen(path, "rb");
		if (!f && errno == ENOENT)
			return;
		if (f)
			fclose(f);
	}
	buf = read_file(path, &len);
	r->file = path;
	if (!buf) {
		worse(r, EXIT_USAGE);
		return;
	}
	/* acpidump text may start with "DMAR @ 0x...": that is text, not a raw table. */
	bool raw = len >= 4 && (!memcmp(buf, "DMAR", 4) || !memcmp(buf, "IVRS", 4)) &&
		   !(len >= 7 && !memcmp(buf + 4, " @ ", 3));
	if (raw) {
		decode_table(r, (const char *)buf, buf, len);
	} else {
		unsigned broken = 0;
		int n = acpidump_parse((const char *)buf, len, decode_table, r, &broken);
		if (broken)
			worse(r, EXIT_MALFORMED);
		if (n < 0) {
			fprintf(stderr, "moat-acpi: %s: neither a DMAR or IVRS table nor acpidump output\n", path);
			worse(r, EXIT_USAGE);
		} else if (n == 0 && !broken) {
			fprintf(stderr, "moat-acpi: %s: acpidump output without a DMAR or IVRS table\n", path);
		}
	}
	free(buf);
}

int main(int argc, char **argv)
{
	struct json json;
	struct run r = { 0 };
	int nfiles = 0;
	bool opts_done = false;

	json_init(&json, stdout);
	r.out = (struct tool_out){ .json_mode = false, .json = &json, .text = stdout };
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (opts_done || a[0] != '-' || !strcmp(a, "-")) {
			nfiles++;
			continue;
		}
		if (!strcmp(a, "--json")) {
			r.out.json_mode = true;
		} else if (!strcmp(a, "--check")) {
			r.check_only = true;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("moat-acpi %s\n", MOAT_VERSION_STRING);
			return 0;
		} else if (!strcmp(a, "--")) {
			opts_done = true;
		} else {
			fprintf(stderr, "moat-acpi: unknown option '%s'\n", a);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (r.check_only) {
		/* Decode as usual, into nothing: only the messages and the exit status remain. */
		FILE *null = fopen("/dev/null", "w");
		if (!null) {
			fprintf(stderr, "moat-acpi: cannot open /dev/null: %s\n", strerror(errno));
			return EXIT_USAGE;
		}
		json_init(&json, null);
		r.out = (struct tool_out){ .json_mode = false, .json = &json, .text = null };
	}
	if (r.out.json_mode) {
		json_obj_begin(&json);
		json_key(&json, "tables");
		json_arr_begin(&json);
	}
	opts_done = false;
	if (nfiles == 0) {
		do_file(&r, "/sys/firmware/acpi/tables/DMAR", true);
		do_file(&r, "/sys/firmware/acpi/tables/IVRS", true);
		if (r.tables == 0 && r.status == 0) {
			fprintf(stderr, "moat-acpi: this machine has no DMAR or IVRS in /sys/firmware/acpi/tables "
					"(no IOMMU, IOMMU off in firmware, or not readable: try as root)\n");
			r.status = EXIT_USAGE;
		}
	} else {
		for (int i = 1; i < argc; i++) {
			const char *a = argv[i];
			if (!opts_done && a[0] == '-' && strcmp(a, "-")) {
				if (!strcmp(a, "--"))
					opts_done = true;
				continue;
			}
			do_file(&r, !strcmp(a, "-") ? "/dev/stdin" : a, false);
		}
	}
	if (r.out.json_mode) {
		json_arr_end(&json);
		json_obj_end(&json);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "moat-acpi: cannot write output: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	return r.status;
}
