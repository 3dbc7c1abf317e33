// SPDX-License-Identifier: BSD-2-Clause
#include <moat/pt.h>

#include "cxx_check.h"

int cxx_pt(void)
{
	const struct moat_pt_ops ops = moat_pt_platform_ops();
	struct moat_pt_config cfg = {};
	struct moat_pt_gather g;
	struct moat_pt pt;
	uint64_t phys = 0;
	int failures = 0;

	cfg.format = MOAT_PT_AMD_V1;
	cfg.levels = 3;
	cfg.page_sizes = MOAT_PT_PAGE_4K;
	cfg.coherent = true;
	if (moat_pt_init(&pt, &cfg, &ops) != MOAT_OK)
		return 1;
	CXX_CHECK(failures, pt.iova_last == (1ull << 39) - 1);
	CXX_CHECK(failures, moat_pt_map(&pt, 0x3000, 0x9000, 0x1000, MOAT_PT_RW) == MOAT_OK);
	CXX_CHECK(failures, moat_pt_translate(&pt, 0x3010, &phys, nullptr, nullptr) == MOAT_OK && phys == 0x9010);
	moat_pt_gather_init(&g);
	CXX_CHECK(failures, moat_pt_unmap(&pt, 0x3000, 0x1000, &g) == MOAT_OK);
	moat_pt_gather_release(&pt, &g);
	moat_pt_destroy(&pt);
	return failures;
}
