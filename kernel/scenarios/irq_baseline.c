/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * irq_baseline: with no IOMMU translating, each edu device's MSI, programmed in compatibility format
 * with a vector of its own to the boot CPU, arrives once per raise, on that vector and that CPU, and
 * nothing else arrives; the device's status shows the raise until it is acknowledged; with MSI
 * disabled again (its INTx pin is masked at the I/O APIC) a raise brings nothing. This is what the
 * interrupt remapping scenarios compare against.
 */
#include <moat/internal/lib.h>

#include "drivers/iommu_regs.h"
#include "scenarios/scenario.h"

static enum scenario_verdict one_device(struct edu_dev *dev, unsigned vector, struct scenario_result *r)
{
	const char *name = dev->pci->name;
	struct irq_tally before;
	struct msi_msg msg;
	uint64_t address, latency;
	uint32_t data, status;
	char came[160];
	unsigned n;

	if (!irq_edu_msi(dev, (uint8_t)vector, &msg))
		return scenario_fail(r, "edu %s: MSI cannot be programmed for vector 0x%02x", name, vector);
	pci_msi_read(&dev->msi, &address, &data);
	if (address != msg.address || data != msg.data)
		return scenario_fail(r, "edu %s: MSI reads back as 0x%llx/0x%04x, 0x%llx/0x%04x was written", name,
				     (unsigned long long)address, data, (unsigned long long)msg.address, msg.data);
	if (irq_raise_and_watch(dev, vector, &before, &latency) != IRQ_CAME) {
		irq_tally_since(&before, came, sizeof(came));
		return scenario_fail(r, "edu %s: its MSI (0x%llx/0x%04x) did not arrive as vector 0x%02x within "
				     "%llu ms (arrived: %s)", name, (unsigned long long)msg.address, msg.data, vector,
				     (unsigned long long)(IRQ_WAIT_NS / 1000000), came);
	}
	n = irq_tally_since(&before, came, sizeof(came));
	if (n != 1 || irq_count(0, vector) != before.n[0][vector] + 1)
		return scenario_fail(r, "edu %s: one raise, but arrived: %s", name, came);
	status = edu_irq_status(dev);
	if (status != EDU_IRQ_FACTORIAL)
		return scenario_fail(r, "edu %s: interrupt status 0x%x after the raise, 0x%x expected", name, status,
				     EDU_IRQ_FACTORIAL);
	edu_irq_ack(dev, EDU_IRQ_FACTORIAL);
	if ((status = edu_irq_status(dev)) != 0)
		return scenario_fail(r, "edu %s: interrupt status 0x%x after the acknowledge", name, status);
	scenario_note("edu %s: MSI 0x%llx/0x%04x arrived once as vector 0x%02x on CPU 0 (APIC id %u), %llu us after "
		      "the raise; status 0x%x until acknowledged", name, (unsigned long long)msg.address, msg.data,
		      vector, irq_cpu_apic_id(0), (unsigned long long)(latency / 1000), EDU_IRQ_FACTORIAL);

	/* MSI off: the device signals on INTx, whose I/O APIC pin is masked. */
	edu_msi_off(dev);
	irq_tally_take(&before);
	edu_irq_raise(dev, EDU_IRQ_FACTORIAL);
	irq_open(IRQ_SETTLE_NS);
	edu_irq_ack(dev, EDU_IRQ_FACTORIAL);
	if (irq_tally_since(&before, came, sizeof(came)))
		return scenario_fail(r, "edu %s: with MSI disabled a raise still brought %s", name, came);
	return SCENARIO_PASS;
}

enum scenario_verdict scenario_irq_baseline(struct kernel_system *sys, struct scenario_result *r)
{
	const struct fw_iommu_table *t = firmware_iommu(&sys->fw);
	enum scenario_verdict v = SCENARIO_PASS;
	int vectors[EDU_MAX_DEVICES];
	unsigned i;

	if (!irq_ready())
		return scenario_skip(r, "no local APIC: the kernel takes no interrupts");
	if (!sys->edu_count)
		return scenario_skip(r, "no edu device (QEMU: -device edu)");
	for (i = 0; i < sys->edu_count; i++) {
		if (!sys->edu[i].has_msi)
			return scenario_skip(r, "edu %s has no MSI capability", sys->edu[i].pci->name);
	}
	for (uint32_t u = 0; t && u < MOAT_MIN(t->desc.units_count, t->desc.units_cap); u++) {
		struct iommu_regs_info info;

		if (iommu_regs_probe(&t->desc.units[u], &info) && info.translation_on)
			return scenario_skip(r, "IOMMU unit %u already translates: no untranslated baseline", u);
	}
	/* Every device holds its own vector at the same time: none may arrive on another's. */
	for (i = 0; i < sys->edu_count; i++)
		vectors[i] = irq_vector_alloc();
	for (i = 0; i < sys->edu_count && v == SCENARIO_PASS; i++) {
		if (vectors[i] < 0)
			v = scenario_fail(r, "no free vector for edu %s", sys->edu[i].pci->name);
		else
			v = one_device(&sys->edu[i], (unsigned)vectors[i], r);
		edu_msi_off(&sys->edu[i]);
		edu_irq_ack(&sys->edu[i], edu_irq_status(&sys->edu[i]));
	}
	for (i = 0; i < sys->edu_count; i++) {
		if (vectors[i] >= 0)
			irq_vector_free((unsigned)vectors[i]);
	}
	return v;
}
