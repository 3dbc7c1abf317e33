// SPDX-License-Identifier: BSD-2-Clause
#include <moat/ivrs.h>

#include "cxx_check.h"

int cxx_ivrs(void)
{
	const uint8_t eisa[8] = { 0x41, 0xd0, 0x0a, 0x03, 0, 0, 0, 0 };   // compressed "PNP0A03"
	const uint8_t text[8] = { 'A', 'M', 'D', 'I', '0', '0', '2', '0' };
	char out[17];
	int failures = 0;

	moat_ivhd_acpi_id(eisa, out);
	CXX_CHECK(failures, std::strcmp(out, "PNP0A03") == 0);
	moat_ivhd_acpi_id(text, out);
	CXX_CHECK(failures, std::strcmp(out, "AMDI0020") == 0);
	return failures;
}
