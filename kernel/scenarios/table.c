/* SPDX-License-Identifier: BSD-2-Clause */
/* The scenarios, in the order a full run takes them. */
#include <moat/internal/lib.h>

#include "scenarios/scenario.h"

const struct scenario kernel_scenarios[] = {
	{ "discovery", "the IOMMU units the firmware describes exist, and every edu device is in a unit's scope",
	  scenario_discovery, false },
	{ "edu_dma_baseline", "with no IOMMU translating, edu DMA to and from an ordinary RAM page round-trips",
	  scenario_edu_dma_baseline, false },
	{ "edu_dma_high", "the same round trip through pages above 4 GiB, when the machine and the device allow it",
	  scenario_edu_dma_high, false },
	{ "irq_baseline", "with no IOMMU translating, each edu device's MSI (compatibility format) reaches the boot "
	  "CPU with the vector it was given, once", scenario_irq_baseline, false },
	{ "irq_ioapic", "with no IOMMU translating, each edu device's INTx reaches the boot CPU through an I/O APIC "
	  "pin, once per raise, and not while the pin is masked", scenario_irq_ioapic, false },
	{ "irq_msix", "with no IOMMU translating, an NVMe controller's MSI-X entry delivers its completion with the "
	  "vector given, holds it back while masked and sends it when unmasked", scenario_irq_msix, false },
	{ "host_protection", "Moat protects the host: the kernel, Moat's pages and a secret are out of every device's "
	  "reach, all other RAM is in it; the auditor agrees", scenario_host_protection, false },
	{ "device_isolation", "each edu device in its own domain reaches its own buffers and nobody else's",
	  scenario_device_isolation, false },
	{ "guest_assignment", "a device assigned to a guest uses guest-physical addresses and reaches only the guest's "
	  "memory", scenario_guest_assignment, false },
	{ "stale_translation", "an unmapped page is unreachable at once, although the IOMMU caches translations",
	  scenario_stale_translation, false },
	{ "dma_api", "moat_dma_map/unmap drive a device: strict unmaps block at once, deferred ones never reuse an "
	  "IOVA early", scenario_dma_api, false },
	{ "fault_flood", "more faults than fault records: the overflow is reported and recording resumes",
	  scenario_fault_flood, false },
	{ "default_deny", "a device given no domain reaches nothing, and the fault says it has no domain",
	  scenario_default_deny, false },
	/* Run only when named. */
	{ "irq_probe", "measured, not judged: what interrupts a device whose DMA the IOMMU blocks can still raise "
	  "(needs an edu device with dma_mask=0xffffffff or wider)", scenario_irq_probe, true },
};

const unsigned kernel_scenario_count = MOAT_ARRAY_SIZE(kernel_scenarios);
