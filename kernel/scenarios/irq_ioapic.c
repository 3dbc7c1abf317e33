/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * irq_ioapic: the I/O APIC as an interrupt source. Each edu device, its MSI off, signals on INTx,
 * which the chipset wires to some I/O APIC pin. Without an AML interpreter the kernel cannot read
 * the routing (_PRT), so it finds the pin: every pin no ISA IRQ uses is given a vector of its own
 * (level-triggered, active low, as PCI interrupts are), the device raises, and the one vector that
 * comes names the pin. Then, on that pin alone: a raise arrives exactly once (the handler
 * acknowledges the device before the end of interrupt, so the level is gone and the I/O APIC does
 * not send again) and the entry's remote IRR is clear afterwards; masked, a raise brings nothing;
 * unmasked again after the acknowledge, nothing either. No IOMMU translates (Moat is down).
 */
#include <moat/internal/lib.h>
#include <moat/platform.h>

#include "drivers/ioapic.h"
#include "scenarios/scenario.h"

#define MAX_CANDIDATES 32

struct pins {
	uint32_t gsi[MAX_CANDIDATES];
	int vector[MAX_CANDIDATES];
	unsigned count;
};

/* Runs before the end of interrupt: quieten every edu device so the level drops. */
static void ack_all(unsigned vector, void *ctx)
{
	struct kernel_system *sys = ctx;

	(void)vector;
	for (unsigned i = 0; i < sys->edu_count; i++)
		edu_irq_ack(&sys->edu[i], edu_irq_status(&sys->edu[i]));
}

/* The pins no ISA IRQ reaches (ISA IRQs are identity-mapped to GSIs 0-15 unless overridden). */
static void find_candidates(const struct madt *madt, struct pins *p)
{
	p->count = 0;
	for (unsigned i = 0; i < ioapic_count(); i++) {
		const struct ioapic *io = ioapic_get(i);

		for (unsigned pin = 0; pin < io->pins && p->count < MAX_CANDIDATES; pin++) {
			uint32_t gsi = io->gsi_base + pin;
			bool isa = false;

			for (uint8_t irq = 0; irq < 16; irq++)
				isa |= madt_isa_gsi(madt, irq, NULL) == gsi;
			if (!isa)
				p->gsi[p->count++] = gsi;
		}
	}
}

/* "0, 16-23": the candidates as runs. */
static const char *gsi_list(const struct pins *p, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < p->count && used + 1 < size;) {
		unsigned j = i;

		while (j + 1 < p->count && p->gsi[j + 1] == p->gsi[j] + 1)
			j++;
		if (j > i)
			used += (size_t)moat_snprintf(buf + used, size - used, "%s%u-%u", i ? ", " : "", p->gsi[i],
						      p->gsi[j]);
		else
			used += (size_t)moat_snprintf(buf + used, size - used, "%s%u", i ? ", " : "", p->gsi[i]);
		i = j + 1;
	}
	return buf;
}

static bool program(struct pins *p, unsigned k, bool masked)
{
	uint64_t rte;

	return ioapic_rte_compat(irq_cpu_apic_id(0), (uint8_t)p->vector[k], true, true, masked, &rte) &&
	       ioapic_rte_write(p->gsi[k], rte);
}

/* Let interrupts in until something comes or IRQ_WAIT_NS passed, then IRQ_SETTLE_NS more. */
static unsigned watch(const struct irq_tally *before, char *came, size_t size)
{
	uint64_t start = moat_plat_time_ns();

	while (!irq_tally_since(before, came, size) && moat_plat_time_ns() - start < IRQ_WAIT_NS)
		irq_open(IRQ_SETTLE_NS / 2);
	irq_open(IRQ_SETTLE_NS);
	return irq_tally_since(before, came, size);
}

static enum scenario_verdict one_device(struct edu_dev *dev, struct pins *p, struct scenario_result *r)
{
	const char *name = dev->pci->name;
	struct irq_tally before;
	char came[200];
	unsigned n, hits = 0, k = 0;
	uint64_t rte;

	edu_msi_off(dev);
	for (unsigned i = 0; i < p->count; i++)
		program(p, i, false);
	irq_tally_take(&before);
	irq_open(IRQ_SETTLE_NS);
	if (irq_tally_since(&before, came, sizeof(came)))
		return scenario_fail(r, "before edu %s raised anything, the unmasked pins brought: %s", name, came);
	edu_irq_raise(dev, EDU_IRQ_FACTORIAL);
	n = watch(&before, came, sizeof(came));
	for (unsigned i = 0; i < p->count; i++) {
		ioapic_mask(p->gsi[i], true);
		if (irq_count(0, (unsigned)p->vector[i]) != before.n[0][p->vector[i]]) {
			hits++;
			k = i;
		}
	}
	if (hits != 1 || n != 1)
		return scenario_fail(r, "edu %s raised INTx once; of %u candidate pins, arrived: %s", name, p->count,
				     came);
	scenario_note("edu %s: INTx arrived once on GSI %u (vector 0x%02x, level, active low)", name, p->gsi[k],
		      p->vector[k]);
	if (!ioapic_rte_read(p->gsi[k], &rte) || (rte & IOAPIC_RTE_REMOTE_IRR))
		return scenario_fail(r, "GSI %u: remote IRR still set after the end of interrupt (entry 0x%016llx)",
				     p->gsi[k], (unsigned long long)rte);

	/* That pin alone. */
	program(p, k, false);
	irq_tally_take(&before);
	edu_irq_raise(dev, EDU_IRQ_FACTORIAL);
	n = watch(&before, came, sizeof(came));
	if (n != 1 || irq_count(0, (unsigned)p->vector[k]) != before.n[0][p->vector[k]] + 1)
		return scenario_fail(r, "edu %s raised again on GSI %u alone; arrived: %s", name, p->gsi[k], came);
	if (edu_irq_status(dev))
		return scenario_fail(r, "edu %s: status 0x%x after the handler acknowledged it", name,
				     edu_irq_status(dev));

	/* Masked: nothing, while the level stands; unmasked after the acknowledge: still nothing. */
	ioapic_mask(p->gsi[k], true);
	irq_tally_take(&before);
	edu_irq_raise(dev, EDU_IRQ_FACTORIAL);
	irq_open(IRQ_SETTLE_NS);
	if (irq_tally_since(&before, came, sizeof(came)))
		return scenario_fail(r, "GSI %u masked, a raise of edu %s still brought: %s", p->gsi[k], name, came);
	edu_irq_ack(dev, EDU_IRQ_FACTORIAL);
	ioapic_mask(p->gsi[k], false);
	irq_open(IRQ_SETTLE_NS);
	ioapic_mask(p->gsi[k], true);
	if (irq_tally_since(&before, came, sizeof(came)))
		return scenario_fail(r, "GSI %u unmasked after edu %s was acknowledged: %s arrived", p->gsi[k], name,
				     came);
	scenario_note("edu %s: again once on GSI %u alone, remote IRR clear after the end of interrupt; masked: "
		      "nothing", name, p->gsi[k]);
	return SCENARIO_PASS;
}

enum scenario_verdict scenario_irq_ioapic(struct kernel_system *sys, struct scenario_result *r)
{
	enum scenario_verdict v = SCENARIO_PASS;
	struct pins p;

	if (!irq_ready())
		return scenario_skip(r, "no local APIC: the kernel takes no interrupts");
	if (!ioapic_count())
		return scenario_skip(r, "no I/O APIC (the MADT lists none)");
	if (!sys->edu_count)
		return scenario_skip(r, "no edu device (QEMU: -device edu)");
	find_candidates(&sys->fw.madt, &p);
	if (!p.count)
		return scenario_skip(r, "every I/O APIC pin is an ISA IRQ's: no pin left for PCI INTx");
	for (unsigned i = 0; i < p.count; i++) {
		p.vector[i] = irq_vector_alloc();
		if (p.vector[i] < 0) {
			p.count = i;
			v = scenario_fail(r, "no free vector for GSI %u", p.gsi[i]);
			break;
		}
		irq_set_handler((unsigned)p.vector[i], ack_all, sys);
	}
	if (v == SCENARIO_PASS) {
		char list[120];

		scenario_note("I/O APIC pins no ISA IRQ uses, each given a vector: GSIs %s",
			      gsi_list(&p, list, sizeof(list)));
	}
	for (unsigned i = 0; i < sys->edu_count && v == SCENARIO_PASS; i++)
		v = one_device(&sys->edu[i], &p, r);
	for (unsigned i = 0; i < p.count; i++) {
		ioapic_mask(p.gsi[i], true);
		irq_vector_free((unsigned)p.vector[i]);
	}
	for (unsigned i = 0; i < sys->edu_count; i++)
		edu_irq_ack(&sys->edu[i], edu_irq_status(&sys->edu[i]));
	return v;
}
