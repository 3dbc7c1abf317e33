// SPDX-License-Identifier: BSD-2-Clause
#include <moat/acpi.h>

#include "cxx_check.h"

int cxx_acpi(void)
{
	unsigned char t[MOAT_ACPI_HEADER_SIZE] = { 'D', 'M', 'A', 'R', MOAT_ACPI_HEADER_SIZE, 0, 0, 0, 1 };
	struct moat_acpi_header h;
	struct moat_devset ds = {};
	struct moat_diag diag;
	int failures = 0;

	t[9] = (unsigned char)(0x100 - moat_acpi_checksum(t, sizeof(t)));
	CXX_CHECK(failures, moat_acpi_checksum(t, sizeof(t)) == 0);
	CXX_CHECK(failures, moat_acpi_header_decode(t, sizeof(t), &h, &diag) == MOAT_OK);
	CXX_CHECK(failures, std::strcmp(h.signature, "DMAR") == 0 && h.length == sizeof(t) && h.checksum_valid);
	CXX_CHECK(failures, moat_acpi_header_decode(t, 20, &h, &diag) == MOAT_ERR_TRUNCATED);
	CXX_CHECK(failures, MOAT_RID_DEV(MOAT_RID(3, 0x1f, 7)) == 0x1f);
	ds.first = 0x10;
	ds.last = 0x17;
	ds.alias = 0xf0;
	ds.flags = MOAT_DEVSET_ALIASED;
	CXX_CHECK(failures, moat_devset_names(&ds, 0, 0xf0) && moat_devset_names(&ds, 0, 0x12));
	CXX_CHECK(failures, !moat_devset_names(&ds, 1, 0x12));
	return failures;
}
