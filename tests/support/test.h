/* SPDX-License-Identifier: BSD-2-Clause */
/* Common includes for cmocka tests. */
#ifndef MOAT_TEST_H
#define MOAT_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hostile.h"

/*
 * Every test starts with the hostile device (hostile.h) forgetting the systems and hardware an
 * earlier test registered: a test that failed half-way never unregistered them, and they point
 * into its dead stack frame.
 */
static inline int t_test_begin(void **state)
{
	(void)state;
	hostile_forget();
	return 0;
}

static inline int t_run_group_tests(const char *name, const struct CMUnitTest *tests, size_t n,
				    CMFixtureFunction group_setup, CMFixtureFunction group_teardown)
{
	struct CMUnitTest *copy = calloc(n ? n : 1, sizeof(*copy));
	int failed;

	if (!copy)
		return 1;
	for (size_t i = 0; i < n; i++) {
		copy[i] = tests[i];
		if (!copy[i].setup_func)
			copy[i].setup_func = t_test_begin;
	}
	failed = _cmocka_run_group_tests(name, copy, n, group_setup, group_teardown);
	free(copy);
	return failed;
}

#undef cmocka_run_group_tests
#define cmocka_run_group_tests(group_tests, group_setup, group_teardown)                                    \
	t_run_group_tests(#group_tests, group_tests, sizeof(group_tests) / sizeof((group_tests)[0]), group_setup, \
			  group_teardown)

#endif
