/* SPDX-License-Identifier: BSD-2-Clause */
/* The freestanding formatter, diagnostics and status names. */
#include "test.h"

#include <moat/internal/lib.h>

static void formats_like_libc(void **state)
{
	(void)state;
	char a[128], b[128];
	struct {
		const char *fmt;
		long long v;
	} cases[] = {
		{ "%d", -42 }, { "%5d|", 42 }, { "%-5d|", 42 }, { "%05d", -42 }, { "%x", 0xbeef },
		{ "%08X", 0xbeef }, { "%lld", -9000000000ll }, { "%llx", 0x1234567890abcll },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strstr(cases[i].fmt, "ll")) {
			moat_snprintf(a, sizeof(a), cases[i].fmt, cases[i].v);
			snprintf(b, sizeof(b), cases[i].fmt, cases[i].v);
		} else {
			moat_snprintf(a, sizeof(a), cases[i].fmt, (int)cases[i].v);
			snprintf(b, sizeof(b), cases[i].fmt, (int)cases[i].v);
		}
		assert_string_equal(a, b);
	}
	moat_snprintf(a, sizeof(a), "%s|%-6s|%6s|%.2s|%c|%%|%zu|%lu", "x", "ab", "cd", "hello", 'q', (size_t)7,
		      123456789ul);
	assert_string_equal(a, "x|ab    |    cd|he|q|%|7|123456789");
}

static void truncates_and_reports_full_length(void **state)
{
	(void)state;
	char buf[8];
	int n = moat_snprintf(buf, sizeof(buf), "0123456789%s", "abc");
	assert_int_equal(n, 13);
	assert_string_equal(buf, "0123456");
	assert_int_equal(moat_snprintf(NULL, 0, "%d", 12345), 5);
}

static void diag_names_table_and_offset(void **state)
{
	(void)state;
	struct moat_diag d;
	char out[256];
	moat_status st = moat_diag_set(&d, MOAT_ERR_TRUNCATED, "DMAR", 0x48, "DRHD length %u runs past %u", 64u, 72u);
	assert_int_equal(st, MOAT_ERR_TRUNCATED);
	assert_int_equal(d.status, MOAT_ERR_TRUNCATED);
	assert_int_equal(d.offset, 0x48);
	assert_string_equal(moat_diag_format(&d, out, sizeof(out)), "DMAR+0x48: DRHD length 64 runs past 72");
	assert_int_equal(moat_diag_set(NULL, MOAT_ERR_MALFORMED, "IVRS", 0, "x"), MOAT_ERR_MALFORMED);
}

static void every_status_has_a_name(void **state)
{
	(void)state;
	for (int s = 0; s < MOAT_STATUS_COUNT; s++) {
		assert_string_not_equal(moat_status_str((moat_status)s), "MOAT_STATUS_UNKNOWN");
		assert_string_not_equal(moat_status_text((moat_status)s), "unknown status");
	}
	assert_string_equal(moat_status_str((moat_status)MOAT_STATUS_COUNT), "MOAT_STATUS_UNKNOWN");
	assert_string_equal(moat_status_str(MOAT_ERR_CHECKSUM), "MOAT_ERR_CHECKSUM");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(formats_like_libc),
		cmocka_unit_test(truncates_and_reports_full_length),
		cmocka_unit_test(diag_names_table_and_offset),
		cmocka_unit_test(every_status_has_a_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
