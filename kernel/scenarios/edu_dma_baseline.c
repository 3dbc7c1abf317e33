/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * edu_dma_baseline: with no IOMMU translating, each edu device copies an ordinary RAM page into its
 * buffer and back out to another page, and the data arrives intact. This is the reference the
 * protection scenarios compare against: the device, the driver and the kernel's memory all work.
 * The pages are the lowest free ones, within reach of the device's default 28-bit DMA mask.
 */
#include <moat/internal/lib.h>

#include "drivers/iommu_regs.h"
#include "mm/mm.h"
#include "scenarios/scenario.h"

#define LOW_LIMIT (1ull << 32)

enum scenario_verdict scenario_edu_dma_baseline(struct kernel_system *sys, struct scenario_result *r)
{
	const struct fw_iommu_table *t = firmware_iommu(&sys->fw);
	enum scenario_verdict v = SCENARIO_PASS;

	if (!sys->edu_count)
		return scenario_skip(r, "no edu device (QEMU: -device edu)");
	/* The baseline means something only while no unit translates. */
	for (uint32_t u = 0; t && u < MOAT_MIN(t->desc.units_count, t->desc.units_cap); u++) {
		struct iommu_regs_info info;

		if (iommu_regs_probe(&t->desc.units[u], &info) && info.translation_on)
			return scenario_skip(r, "IOMMU unit %u already translates: no untranslated baseline", u);
	}
	for (unsigned i = 0; i < sys->edu_count && v == SCENARIO_PASS; i++) {
		uint8_t *src = kpage_alloc(0, LOW_LIMIT, false);
		uint8_t *dst = kpage_alloc(0, LOW_LIMIT, false);

		if (!src || !dst)
			v = scenario_fail(r, "no free RAM page below 4 GiB for the DMA buffers");
		else
			v = dma_round_trip(&sys->edu[i], src, dst, 0x1000u + i, r);
		kpage_free(src);
		kpage_free(dst);
	}
	return v;
}
