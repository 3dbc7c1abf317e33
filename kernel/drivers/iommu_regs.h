/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A read-only look at an IOMMU unit's registers, to check that the unit the firmware describes is
 * really there and whether it translates. Writes nothing.
 */
#ifndef KERNEL_IOMMU_REGS_H
#define KERNEL_IOMMU_REGS_H

#include <stdbool.h>

#include <moat/acpi.h>

struct iommu_regs_info {
	bool answered;          /* the registers (and, on AMD-Vi, the PCI capability) look like an IOMMU */
	bool translation_on;    /* VT-d GSTS.TES, or AMD-Vi control register IommuEn */
	char summary[160];      /* what was read, e.g. "VT-d 1.0, CAP 0x..., ECAP 0x..., translation off" */
	char problem[160];      /* when !answered: what is wrong */
};

/* iommu_regs_probe() - read @u's registers. Returns info->answered. */
bool iommu_regs_probe(const struct moat_unit_desc *u, struct iommu_regs_info *info);

#endif
