// SPDX-License-Identifier: BSD-2-Clause
#include <moat/pages.h>

#include "cxx_check.h"

static void put_page(void *ctx, uint32_t i, void *virt)
{
	static_cast<void **>(ctx)[i] = virt;
}

int cxx_pages(void)
{
	void *run[2] = { nullptr, nullptr };
	uint64_t phys = 0;
	int failures = 0;
	void *page = moat_pages_alloc(nullptr, &phys);   // the platform

	CXX_CHECK(failures, page != nullptr && phys % 4096 == 0);
	moat_pages_free(nullptr, page, phys);
	CXX_CHECK(failures, moat_pages_alloc_run(nullptr, 0, 0, put_page, run, &phys) == MOAT_ERR_INVALID_ARG);
	CXX_CHECK(failures, moat_pages_alloc_run(nullptr, 2, 8192, put_page, run, &phys) == MOAT_OK);
	CXX_CHECK(failures, phys % 8192 == 0 && run[0] && run[1]);
	moat_pages_free(nullptr, run[0], phys);
	moat_pages_free(nullptr, run[1], phys + 4096);
	return failures;
}
