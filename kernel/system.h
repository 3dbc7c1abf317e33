/* SPDX-License-Identifier: BSD-2-Clause */
/* Everything the kernel found at boot, handed to the scenarios and the demo. */
#ifndef KERNEL_SYSTEM_H
#define KERNEL_SYSTEM_H

#include "acpi/firmware.h"
#include "drivers/edu.h"
#include "pci/pci.h"

struct kernel_system {
	struct firmware fw;
	struct pci_dev pci[PCI_MAX_DEVICES];
	unsigned pci_count;               /* devices in pci[] (enumeration may have found more) */
	struct edu_dev edu[EDU_MAX_DEVICES];
	unsigned edu_count;
	uint64_t moat_pool_base, moat_pool_size;
};

#endif
