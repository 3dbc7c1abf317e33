// SPDX-License-Identifier: BSD-2-Clause
// moat/config.h declares no function: its values are checked, and used the way headers use them.
#include <moat/config.h>

#include "cxx_check.h"

struct cxx_aligned {
	char c;
	MOAT_ALIGNAS(MOAT_CACHE_LINE) char line;
};

static_assert(alignof(cxx_aligned) == MOAT_CACHE_LINE, "MOAT_ALIGNAS aligns in C++ too");

int cxx_config(void)
{
	int failures = 0;

	CXX_CHECK(failures, MOAT_MAX_CPUS >= 1 && MOAT_LOCK_SIZE >= 8);
	CXX_CHECK(failures, MOAT_HW_TIMEOUT_NS > 0);
	return failures;
}
