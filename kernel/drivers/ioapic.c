/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * I/O APIC registers (82093AA I/O APIC datasheet, section 3): an index register IOREGSEL at offset
 * 0x00 and a data window IOWIN at 0x10. Indirect registers: 0x00 id (bits 27:24), 0x01 version
 * (version in bits 7:0, the highest redirection entry in bits 23:16), 0x10 + 2n and 0x11 + 2n the low
 * and high dwords of redirection entry n.
 */
#include <moat/internal/lib.h>

#include "drivers/ioapic.h"
#include "kernel.h"
#include "mm/mm.h"

#define IOREGSEL 0x00
#define IOWIN    0x10
#define IOAPIC_REG_ID      0x00
#define IOAPIC_REG_VERSION 0x01
#define IOAPIC_REG_RTE(n)  (0x10u + 2u * (n))
#define IOAPIC_MMIO_SIZE   0x1000ull

static struct ioapic ioapics[IOAPIC_MAX];
static unsigned count;

static uint32_t reg_read(const struct ioapic *io, unsigned reg)
{
	*(volatile uint32_t *)(io->regs + IOREGSEL) = reg;
	return *(volatile uint32_t *)(io->regs + IOWIN);
}

static void reg_write(const struct ioapic *io, unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(io->regs + IOREGSEL) = reg;
	*(volatile uint32_t *)(io->regs + IOWIN) = v;
}

unsigned ioapic_init_all(const struct madt *madt)
{
	count = 0;
	for (unsigned i = 0; madt && i < madt->ioapic_count && count < IOAPIC_MAX; i++) {
		const struct madt_ioapic *m = &madt->ioapics[i];
		struct ioapic *io = &ioapics[count];
		uint32_t ver;

		moat_memset(io, 0, sizeof(*io));
		io->id = m->id;
		io->gsi_base = m->gsi_base;
		io->phys = m->address;
		io->regs = kernel_map_mmio(m->address, IOAPIC_MMIO_SIZE);
		if (!io->regs) {
			kprintf("I/O APIC %u: registers at 0x%x cannot be mapped: left out\n", m->id, m->address);
			continue;
		}
		ver = reg_read(io, IOAPIC_REG_VERSION);
		if (ver == 0xffffffffu) {
			kprintf("I/O APIC %u at 0x%x does not answer: left out\n", m->id, m->address);
			continue;
		}
		io->hw_id = (uint8_t)((reg_read(io, IOAPIC_REG_ID) >> 24) & 0xfu);
		io->version = (uint8_t)ver;
		io->pins = ((ver >> 16) & 0xffu) + 1;
		for (unsigned pin = 0; pin < io->pins; pin++)
			reg_write(io, IOAPIC_REG_RTE(pin), (uint32_t)IOAPIC_RTE_MASKED);
		count++;
	}
	return count;
}

unsigned ioapic_count(void)
{
	return count;
}

const struct ioapic *ioapic_get(unsigned index)
{
	return index < count ? &ioapics[index] : NULL;
}

const struct ioapic *ioapic_for_gsi(uint32_t gsi, unsigned *pin)
{
	for (unsigned i = 0; i < count; i++) {
		if (gsi >= ioapics[i].gsi_base && gsi - ioapics[i].gsi_base < ioapics[i].pins) {
			if (pin)
				*pin = gsi - ioapics[i].gsi_base;
			return &ioapics[i];
		}
	}
	return NULL;
}

bool ioapic_rte_compat(uint32_t dest, uint8_t vector, bool level, bool active_low, bool masked, uint64_t *rte)
{
	if (dest > 0xff)
		return false;
	*rte = (uint64_t)vector | IOAPIC_RTE_DELIVERY(0) | (uint64_t)dest << IOAPIC_RTE_DEST_SHIFT |
	       (level ? IOAPIC_RTE_LEVEL : 0) | (active_low ? IOAPIC_RTE_ACTIVE_LOW : 0) |
	       (masked ? IOAPIC_RTE_MASKED : 0);
	return true;
}

bool ioapic_rte_write(uint32_t gsi, uint64_t rte)
{
	unsigned pin;
	const struct ioapic *io = ioapic_for_gsi(gsi, &pin);
	uint32_t lo = (uint32_t)(rte & ~IOAPIC_RTE_READ_ONLY);

	if (!io)
		return false;
	/* Masked while the halves disagree: the pin never sends half the old and half the new entry. */
	reg_write(io, IOAPIC_REG_RTE(pin), lo | (uint32_t)IOAPIC_RTE_MASKED);
	reg_write(io, IOAPIC_REG_RTE(pin) + 1, (uint32_t)(rte >> 32));
	reg_write(io, IOAPIC_REG_RTE(pin), lo);
	return true;
}

bool ioapic_rte_read(uint32_t gsi, uint64_t *rte)
{
	unsigned pin;
	const struct ioapic *io = ioapic_for_gsi(gsi, &pin);

	if (!io)
		return false;
	*rte = (uint64_t)reg_read(io, IOAPIC_REG_RTE(pin) + 1) << 32 | reg_read(io, IOAPIC_REG_RTE(pin));
	return true;
}

bool ioapic_mask(uint32_t gsi, bool masked)
{
	unsigned pin;
	const struct ioapic *io = ioapic_for_gsi(gsi, &pin);
	uint32_t lo;

	if (!io)
		return false;
	lo = reg_read(io, IOAPIC_REG_RTE(pin)) & ~(uint32_t)IOAPIC_RTE_READ_ONLY & ~(uint32_t)IOAPIC_RTE_MASKED;
	reg_write(io, IOAPIC_REG_RTE(pin), masked ? lo | (uint32_t)IOAPIC_RTE_MASKED : lo);
	return true;
}
