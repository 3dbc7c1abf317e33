// SPDX-License-Identifier: BSD-2-Clause
#include <moat/platform.h>

#include "cxx_check.h"

int cxx_platform(void)
{
	struct moat_lock lock;
	uint64_t phys = 1, t0 = moat_plat_time_ns();
	void *page = moat_plat_page_alloc(&phys);
	int failures = 0;

	CXX_CHECK(failures, alignof(struct moat_lock) >= 8);
	CXX_CHECK(failures, page && phys % 4096 == 0 && moat_plat_phys_to_virt(phys) == page);
	if (page)
		moat_plat_page_free(page, phys);
	moat_plat_lock_init(&lock);
	moat_plat_lock_acquire(&lock);
	moat_plat_lock_release(&lock);
	moat_plat_lock_fini(&lock);
	CXX_CHECK(failures, moat_plat_time_ns() >= t0);
	CXX_CHECK(failures, moat_plat_cpu_id() < MOAT_MAX_CPUS);
	return failures;
}
