// SPDX-License-Identifier: BSD-2-Clause
#include <moat/moat.h>

#include "cxx_check.h"

static struct moat_system sys;

int cxx_moat(void)
{
	struct moat_system_config cfg = {};
	struct moat_domain dom;
	uint64_t phys = 0, leaf = 0;
	unsigned prot = 0;
	int failures = 0;

	cfg.pt.format = MOAT_PT_VTD_SL;
	cfg.pt.levels = 4;
	cfg.pt.page_sizes = MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M;
	cfg.pt.coherent = true;
	if (moat_system_init(&sys, &cfg) != MOAT_OK || moat_domain_create(&sys, &dom) != MOAT_OK)
		return 1;
	CXX_CHECK(failures, moat_domain_map(&dom, 0x200000, 0x40000000, 0x200000, MOAT_PT_READ, nullptr) == MOAT_OK);
	CXX_CHECK(failures, moat_domain_translate(&dom, 0x201234, &phys, &prot, &leaf) == MOAT_OK);
	CXX_CHECK(failures, phys == 0x40001234 && prot == MOAT_PT_READ && leaf == 0x200000);
	CXX_CHECK(failures, moat_domain_map(&dom, 0, dom.pt.root_phys, 0x1000, MOAT_PT_RW, nullptr) ==
				    MOAT_ERR_PROTECTED);
	CXX_CHECK(failures, moat_domain_unmap(&dom, 0x200000, 0x200000, nullptr) == MOAT_OK);
	CXX_CHECK(failures, std::strcmp(moat_audit_kind_str(MOAT_AUDIT_TABLE), "unknown violation") != 0);
	CXX_CHECK(failures, moat_domain_destroy(&dom) == MOAT_OK);
	CXX_CHECK(failures, moat_system_fini(&sys) == MOAT_OK);
	return failures;
}
