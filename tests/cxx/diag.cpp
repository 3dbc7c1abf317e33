// SPDX-License-Identifier: BSD-2-Clause
#include <moat/diag.h>

#include "cxx_check.h"

int cxx_diag(void)
{
	struct moat_diag d = {};
	char buf[MOAT_DIAG_MSG_MAX + 16];
	int failures = 0;

	d.status = MOAT_ERR_MALFORMED;
	std::strcpy(d.table, "DMAR");
	d.offset = 0x48;
	std::strcpy(d.msg, "RMRR limit below base");
	CXX_CHECK(failures, std::strcmp(moat_diag_format(&d, buf, sizeof(buf)), "DMAR+0x48: RMRR limit below base") == 0);
	return failures;
}
