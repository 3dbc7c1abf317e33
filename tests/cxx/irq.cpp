// SPDX-License-Identifier: BSD-2-Clause
#include <moat/irq.h>

#include "cxx_check.h"

int cxx_irq(void)
{
	struct moat_irq_source src = {};
	struct moat_irq_dest dest = {};
	struct moat_irq irq = {};
	int failures = 0;

	dest.vector = 0x40;
	CXX_CHECK(failures, moat_irq_alloc(nullptr, &src, 1, &dest, &irq, nullptr) == MOAT_ERR_INVALID_ARG);
	CXX_CHECK(failures, moat_irq_free(nullptr, nullptr) == MOAT_ERR_INVALID_ARG);
	CXX_CHECK(failures, moat_fault_irq_disable(nullptr, nullptr) == MOAT_ERR_INVALID_ARG);
	return failures;
}
