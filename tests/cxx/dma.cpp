// SPDX-License-Identifier: BSD-2-Clause
#include <moat/dma.h>

#include "cxx_check.h"

static struct moat_dma dma;   // static: aligned as declared, and zero (never initialized)

int cxx_dma(void)
{
	const struct moat_dma_sg sg[2] = { { 0x10000100, 0x1000 }, { 0x20000040, 0x10 } };
	struct moat_dma_stats st;
	uint64_t iova = 0;
	int failures = 0;

	CXX_CHECK(failures, alignof(struct moat_dma) == MOAT_CACHE_LINE);
	// the first element spans two pages, so the second starts two pages on
	CXX_CHECK(failures, moat_dma_sg_iova(sg, 1, 0x5000100) == 0x5002040);
	CXX_CHECK(failures, moat_dma_map(&dma, 0x10000000, 0x1000, MOAT_DMA_TO_DEVICE, 0, &iova, nullptr) ==
				    MOAT_ERR_INVALID_ARG);
	moat_dma_stats(&dma, &st);
	CXX_CHECK(failures, st.maps == 0 && st.live == 0);
	return failures;
}
