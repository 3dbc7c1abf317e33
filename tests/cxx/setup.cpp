// SPDX-License-Identifier: BSD-2-Clause
#include <moat/setup.h>

#include "cxx_check.h"

static struct moat_setup s;
static struct moat_setup_unit units[1];

int cxx_setup(void)
{
	struct moat_sysdesc desc = {};
	struct moat_diag diag;
	char line[64];
	int failures = 0;

	// a description without units brings nothing up
	CXX_CHECK(failures, moat_setup_init(&s, units, 1, &desc, 0, &diag) == MOAT_ERR_INVALID_ARG);
	CXX_CHECK(failures, moat_setup_unit_describe(&s, 0, line, sizeof(line)) == -1);
	return failures;
}
