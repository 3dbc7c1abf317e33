// SPDX-License-Identifier: BSD-2-Clause
// moat/version.h declares no function: its numbers and its string must agree.
#include <moat/version.h>

#include "cxx_check.h"

int cxx_version(void)
{
	char s[32];
	int failures = 0;

	std::snprintf(s, sizeof(s), "%d.%d.%d", MOAT_VERSION_MAJOR, MOAT_VERSION_MINOR, MOAT_VERSION_PATCH);
	CXX_CHECK(failures, std::strcmp(s, MOAT_VERSION_STRING) == 0);
	CXX_CHECK(failures, MOAT_VERSION >> 16 == MOAT_VERSION_MAJOR && (MOAT_VERSION & 0xff) == MOAT_VERSION_PATCH);
	return failures;
}
