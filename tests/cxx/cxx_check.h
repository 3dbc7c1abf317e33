// SPDX-License-Identifier: BSD-2-Clause
// The check every C++ translation unit of this directory counts its failures with. Included after
// the one public header a unit tests, so that header is compiled alone.
#ifndef MOAT_CXX_CHECK_H
#define MOAT_CXX_CHECK_H

#include <cstdio>
#include <cstring>

#define CXX_CHECK(failures, cond)                                                                  \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
			(failures)++;                                                              \
		}                                                                                  \
	} while (0)

#endif
