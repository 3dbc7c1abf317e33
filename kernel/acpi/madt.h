/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The MADT (signature "APIC"): where the interrupt controllers are. The kernel takes from it the
 * local APIC address, the processors (their APIC ids), the I/O APICs (id, register address, first
 * GSI) and the interrupt source overrides (an ISA IRQ wired to another GSI, with its polarity and
 * trigger mode).
 */
#ifndef KERNEL_ACPI_MADT_H
#define KERNEL_ACPI_MADT_H

#include <stdbool.h>
#include <stdint.h>

#define MADT_MAX_CPUS      64
#define MADT_MAX_IOAPICS   8
#define MADT_MAX_OVERRIDES 16

struct madt_cpu {
	uint32_t apic_id;
	uint32_t uid;          /* ACPI processor UID */
	bool x2apic_entry;     /* from a processor local x2APIC structure */
};

struct madt_ioapic {
	uint8_t id;
	uint32_t address;      /* physical address of its registers */
	uint32_t gsi_base;     /* the GSI of its pin 0 */
};

/* An ISA IRQ the firmware wired to another GSI or with another polarity or trigger mode. */
struct madt_override {
	uint8_t bus;           /* 0: ISA */
	uint8_t source;        /* the ISA IRQ */
	uint32_t gsi;
	uint16_t flags;        /* MPS INTI flags: polarity in bits 1:0, trigger mode in bits 3:2 */
};

struct madt {
	bool present;
	uint64_t lapic_address;    /* the 32-bit field, or the 64-bit address override when one is given */
	bool pcat_compat;          /* the machine has the two 8259 PICs as well */
	struct madt_cpu cpus[MADT_MAX_CPUS];         /* enabled (or online-capable) processors */
	unsigned cpu_count;
	struct madt_ioapic ioapics[MADT_MAX_IOAPICS];
	unsigned ioapic_count;
	struct madt_override overrides[MADT_MAX_OVERRIDES];
	unsigned override_count;
	unsigned skipped;          /* entries dropped: malformed, or beyond the arrays */
};

struct firmware;

/*
 * madt_read() - find the MADT through @fw's RSDP and fill @out. Each entry's length is checked (at
 * least its type's size, inside the table); a bad entry ends the walk and is reported, entries that
 * do not fit the arrays are counted in @out->skipped. False (and @out->present false) when there is
 * no usable MADT.
 */
bool madt_read(const struct firmware *fw, struct madt *out);

/*
 * madt_isa_gsi() - the GSI ISA IRQ @irq reaches, and its MPS INTI flags (0 when there is no
 * override: identity, bus defaults).
 */
uint32_t madt_isa_gsi(const struct madt *m, uint8_t irq, uint16_t *flags);

#endif
