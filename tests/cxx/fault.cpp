// SPDX-License-Identifier: BSD-2-Clause
#include <moat/fault.h>

#include "cxx_check.h"

int cxx_fault(void)
{
	int failures = 0;

	CXX_CHECK(failures, std::strcmp(moat_fault_class_str(MOAT_FAULT_BAD_ADDRESS), "bad address") == 0);
	CXX_CHECK(failures, moat_fault_class_str(static_cast<enum moat_fault_class>(42)) != nullptr);
	return failures;
}
