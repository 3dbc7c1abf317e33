/* SPDX-License-Identifier: BSD-2-Clause */
/* What arrived between two moments, and an edu device's MSI raised and waited for. */
#include <moat/internal/lib.h>
#include <moat/platform.h>

#include "arch/apic.h"
#include "arch/irq.h"
#include "scenarios/scenario.h"

void irq_tally_take(struct irq_tally *t)
{
	for (unsigned cpu = 0; cpu < IRQ_MAX_CPUS; cpu++)
		for (unsigned v = 0; v < 256; v++)
			t->n[cpu][v] = irq_count(cpu, v);
}

unsigned irq_tally_since(const struct irq_tally *before, char *desc, size_t size)
{
	unsigned total = 0;
	size_t used = 0;

	if (size)
		desc[0] = '\0';
	for (unsigned cpu = 0; cpu < IRQ_MAX_CPUS; cpu++) {
		for (unsigned v = 0; v < 256; v++) {
			uint32_t n = irq_count(cpu, v) - before->n[cpu][v];

			/* The wait's own wake-up timer is not news. */
			if (!n || v == IRQ_VECTOR_TIMER)
				continue;
			total += n;
			if (used + 1 < size)
				used += (size_t)moat_snprintf(desc + used, size - used,
							      "%svector 0x%02x on CPU %u (%u)", used ? ", " : "",
							      v, cpu, n);
			used = MOAT_MIN(used, size ? size - 1 : 0);
		}
	}
	if (!total && size)
		moat_snprintf(desc, size, "nothing");
	return total;
}

bool irq_edu_msi(struct edu_dev *dev, uint8_t vector, struct msi_msg *msg)
{
	return msi_compat(irq_cpu_apic_id(0), vector, MSI_DELIVERY_FIXED, msg) &&
	       edu_msi_on(dev, msg->address, msg->data) == MOAT_OK;
}

enum irq_outcome irq_raise_and_watch(struct edu_dev *dev, unsigned vector, struct irq_tally *before,
				     uint64_t *latency_ns)
{
	uint32_t seen = irq_count(0, vector);
	uint64_t start;
	bool came;

	irq_tally_take(before);
	start = moat_plat_time_ns();
	edu_irq_raise(dev, EDU_IRQ_FACTORIAL);
	came = irq_wait(vector, seen, IRQ_WAIT_NS);
	if (latency_ns)
		*latency_ns = moat_plat_time_ns() - start;
	/* Let a second copy show itself, if the source sent one. */
	irq_open(IRQ_SETTLE_NS);
	return came ? IRQ_CAME : IRQ_NOTHING;
}
