/* SPDX-License-Identifier: BSD-2-Clause */
/* The scenarios, in the order a full run takes them. */
#include <moat/internal/lib.h>

#include "scenarios/scenario.h"

const struct scenario kernel_scenarios[] = {
	{ "discovery", "the IOMMU units the firmware describes exist, and every edu device is in a unit's scope",
	  scenario_discovery },
	{ "edu_dma_baseline", "with no IOMMU translating, edu DMA to and from an ordinary RAM page round-trips",
	  scenario_edu_dma_baseline },
	{ "edu_dma_high", "the same round trip through pages above 4 GiB, when the machine and the device allow it",
	  scenario_edu_dma_high },
};

const unsigned kernel_scenario_count = MOAT_ARRAY_SIZE(kernel_scenarios);
