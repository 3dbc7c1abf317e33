// SPDX-License-Identifier: BSD-2-Clause
#include <moat/iova.h>

#include "cxx_check.h"

static struct moat_iova a;   // static: aligned as declared

int cxx_iova(void)
{
	struct moat_iova_config cfg = {};
	uint64_t pfn = 0;
	int failures = 0;

	cfg.base_pfn = 0x100;
	cfg.last_pfn = 0x1ff;
	CXX_CHECK(failures, moat_iova_init(&a, &cfg, nullptr) == MOAT_OK);
	CXX_CHECK(failures, moat_iova_alloc(&a, 4, 0x1ff, true, &pfn) == MOAT_OK);
	CXX_CHECK(failures, pfn >= 0x100 && pfn + 3 <= 0x1ff && pfn % 4 == 0);
	CXX_CHECK(failures, moat_iova_free(&a, pfn, 4) == MOAT_OK);
	moat_iova_fini(&a);
	return failures;
}
