/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * irq_msix: MSI-X, with an NVMe controller as the source (edu has no MSI-X). With no IOMMU
 * translating, the controller's MSI-X entry 0 is programmed with the compatibility-format message
 * for a vector of its own; an Identify command's completion then arrives once on that vector, and
 * the data it returned names the controller (its PCI vendor id). With the entry masked, the next
 * completion sends nothing and leaves the entry's pending bit set; unmasking it delivers the held
 * message, once. SKIP without an NVMe controller (QEMU: -device nvme,serial=NAME).
 */
#include <moat/internal/lib.h>

#include "drivers/iommu_regs.h"
#include "drivers/nvme.h"
#include "scenarios/scenario.h"

#define NVME_TIMEOUT_NS 1000000000ull

static struct nvme_dev nvme;

static enum scenario_verdict run(struct nvme_dev *n, unsigned vector, const struct msi_msg *msg,
				 struct scenario_result *r)
{
	const char *name = n->pci->name;
	struct irq_tally before;
	char came[160];
	uint64_t address;
	uint32_t seen, data;
	uint16_t vid;
	moat_status st;

	pci_msix_read(&n->msix, 0, &address, &data);
	if (address != msg->address || data != msg->data)
		return scenario_fail(r, "nvme %s: MSI-X entry 0 reads back as 0x%llx/0x%04x, 0x%llx/0x%04x was written",
				     name, (unsigned long long)address, data, (unsigned long long)msg->address,
				     msg->data);
	pci_msix_mask(&n->msix, 0, false);

	irq_tally_take(&before);
	seen = irq_count(0, vector);
	st = nvme_identify_submit(n);
	if (st == MOAT_OK && !irq_wait(vector, seen, IRQ_WAIT_NS)) {
		irq_tally_since(&before, came, sizeof(came));
		return scenario_fail(r, "nvme %s: the completion's MSI-X message (0x%llx/0x%04x) did not arrive as "
				     "vector 0x%02x (arrived: %s)", name, (unsigned long long)msg->address, msg->data,
				     vector, came);
	}
	if (st == MOAT_OK)
		st = nvme_identify_reap(n, NVME_TIMEOUT_NS);
	if (st != MOAT_OK)
		return scenario_fail(r, "nvme %s: Identify: %s", name, moat_status_str(st));
	irq_open(IRQ_SETTLE_NS);
	if (irq_tally_since(&before, came, sizeof(came)) != 1)
		return scenario_fail(r, "nvme %s: one completion, but arrived: %s", name, came);
	moat_memcpy(&vid, n->data, sizeof(vid));
	if (vid != n->pci->vendor)
		return scenario_fail(r, "nvme %s: Identify returned vendor id 0x%04x, the function's is 0x%04x", name,
				     vid, n->pci->vendor);
	scenario_note("nvme %s: MSI-X entry 0 (of %u, table in BAR%u + 0x%x) = 0x%llx/0x%04x: the Identify completion "
		      "arrived once as vector 0x%02x (vendor id 0x%04x in its data)", name, n->msix.entries,
		      n->msix.table_bar, n->msix.table_offset, (unsigned long long)msg->address, msg->data, vector,
		      vid);

	/* Masked: held back, pending; unmasked: sent. */
	pci_msix_mask(&n->msix, 0, true);
	irq_tally_take(&before);
	st = nvme_identify_submit(n);
	if (st == MOAT_OK)
		st = nvme_identify_reap(n, NVME_TIMEOUT_NS);
	if (st != MOAT_OK)
		return scenario_fail(r, "nvme %s: Identify with entry 0 masked: %s", name, moat_status_str(st));
	irq_open(IRQ_SETTLE_NS);
	if (irq_tally_since(&before, came, sizeof(came)))
		return scenario_fail(r, "nvme %s: entry 0 masked, yet arrived: %s", name, came);
	if (!pci_msix_pending(&n->msix, 0))
		return scenario_fail(r, "nvme %s: entry 0 masked through a completion, its pending bit is clear", name);
	seen = irq_count(0, vector);
	pci_msix_mask(&n->msix, 0, false);
	if (!irq_wait(vector, seen, IRQ_WAIT_NS))
		return scenario_fail(r, "nvme %s: unmasking entry 0 with its pending bit set sent nothing", name);
	irq_open(IRQ_SETTLE_NS);
	if (irq_tally_since(&before, came, sizeof(came)) != 1 || pci_msix_pending(&n->msix, 0))
		return scenario_fail(r, "nvme %s: after the unmask, arrived %s (pending bit %u)", name, came,
				     pci_msix_pending(&n->msix, 0));
	scenario_note("nvme %s: entry 0 masked: the next completion sent nothing and set its pending bit; unmasked: "
		      "delivered once, pending bit clear", name);
	return SCENARIO_PASS;
}

enum scenario_verdict scenario_irq_msix(struct kernel_system *sys, struct scenario_result *r)
{
	const struct fw_iommu_table *t = firmware_iommu(&sys->fw);
	const struct pci_dev *d;
	enum scenario_verdict v;
	struct msi_msg msg;
	moat_status st;
	int vector;

	if (!irq_ready())
		return scenario_skip(r, "no local APIC: the kernel takes no interrupts");
	d = nvme_find(sys->pci, sys->pci_count);
	if (!d)
		return scenario_skip(r, "no NVMe controller with MSI-X (QEMU: -device nvme,serial=NAME)");
	for (uint32_t u = 0; t && u < MOAT_MIN(t->desc.units_count, t->desc.units_cap); u++) {
		struct iommu_regs_info info;

		if (iommu_regs_probe(&t->desc.units[u], &info) && info.translation_on)
			return scenario_skip(r, "IOMMU unit %u already translates: no untranslated baseline", u);
	}
	vector = irq_vector_alloc();
	if (vector < 0)
		return scenario_fail(r, "no free vector");
	if (!msi_compat(irq_cpu_apic_id(0), (uint8_t)vector, MSI_DELIVERY_FIXED, &msg)) {
		v = scenario_fail(r, "the boot CPU's APIC id %u does not fit a compatibility-format message",
				  irq_cpu_apic_id(0));
	} else if ((st = nvme_start(&nvme, d, msg.address, msg.data)) != MOAT_OK) {
		v = scenario_fail(r, "nvme %s: starting the controller: %s", d->name, moat_status_str(st));
	} else {
		v = run(&nvme, (unsigned)vector, &msg, r);
	}
	nvme_stop(&nvme);
	irq_vector_free((unsigned)vector);
	return v;
}
