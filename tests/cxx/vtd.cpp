// SPDX-License-Identifier: BSD-2-Clause
#include <moat/vtd.h>

#include "cxx_check.h"

int cxx_vtd(void)
{
	struct moat_unit_desc unit[2] = {};
	struct moat_devset ds = {};
	struct moat_sysdesc desc = {};
	uint32_t idx = 99;
	int failures = 0;

	ds.first = ds.last = ds.alias = MOAT_RID(0, 2, 0);
	unit[0].vendor = unit[1].vendor = MOAT_VENDOR_VTD;
	unit[0].devset_count = 1;
	unit[1].flags = MOAT_UNIT_INCLUDE_ALL;
	unit[1].devset_first = 1;
	desc.units = unit;
	desc.units_cap = desc.units_count = 2;
	desc.devsets = &ds;
	desc.devsets_cap = desc.devsets_count = 1;
	CXX_CHECK(failures, moat_vtd_routes(&desc, 0, MOAT_RID(0, 2, 0), &idx) == MOAT_OK && idx == 0);
	CXX_CHECK(failures, moat_vtd_routes(&desc, 0, MOAT_RID(0, 3, 0), &idx) == MOAT_OK && idx == 1);
	return failures;
}
