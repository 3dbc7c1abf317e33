// SPDX-License-Identifier: BSD-2-Clause
#include <moat/dmar.h>

#include "cxx_check.h"

int cxx_dmar(void)
{
	unsigned char t[48] = { 'D', 'M', 'A', 'R', 48, 0, 0, 0, 1 };
	struct moat_diag diag;
	int failures = 0;

	t[36] = 38;   // host address width - 1
	t[9] = (unsigned char)(0x100 - moat_acpi_checksum(t, sizeof(t)));
	CXX_CHECK(failures, moat_dmar_check(t, sizeof(t), &diag) == MOAT_OK);
	CXX_CHECK(failures, std::strcmp(moat_dmar_type_name(1), "RMRR") == 0);
	CXX_CHECK(failures, std::strcmp(moat_dmar_scope_type_name(2), "bridge") == 0);
	return failures;
}
