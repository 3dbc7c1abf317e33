// SPDX-License-Identifier: BSD-2-Clause
#include <moat/amdvi.h>

#include "cxx_check.h"

int cxx_amdvi(void)
{
	struct moat_devset ds = {};
	struct moat_unit_desc unit = {};
	struct moat_sysdesc desc = {};
	uint32_t idx = 99;
	int failures = 0;

	ds.first = 0x100;
	ds.last = 0x1ff;
	ds.alias = 0x100;
	unit.vendor = MOAT_VENDOR_AMDVI;
	unit.devset_count = 1;
	desc.units = &unit;
	desc.units_cap = desc.units_count = 1;
	desc.devsets = &ds;
	desc.devsets_cap = desc.devsets_count = 1;
	CXX_CHECK(failures, moat_amdvi_routes(&desc, 0, 0x180, &idx) == MOAT_OK && idx == 0);
	CXX_CHECK(failures, moat_amdvi_routes(&desc, 0, 0x200, &idx) == MOAT_ERR_NOT_FOUND);
	CXX_CHECK(failures, moat_amdvi_routes(nullptr, 0, 0x180, &idx) == MOAT_ERR_INVALID_ARG);
	return failures;
}
