// SPDX-License-Identifier: BSD-2-Clause
#include <moat/status.h>

#include "cxx_check.h"

int cxx_status(void)
{
	int failures = 0;

	CXX_CHECK(failures, std::strcmp(moat_status_str(MOAT_ERR_BUSY), "MOAT_ERR_BUSY") == 0);
	CXX_CHECK(failures, std::strcmp(moat_status_str(static_cast<moat_status>(MOAT_STATUS_COUNT)),
					"MOAT_STATUS_UNKNOWN") == 0);
	CXX_CHECK(failures, moat_status_text(MOAT_OK)[0] != '\0');
	return failures;
}
