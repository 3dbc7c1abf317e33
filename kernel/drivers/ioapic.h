/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * I/O APICs, from the MADT: each pin is a GSI (gsi_base + pin) whose redirection entry says which
 * message the I/O APIC sends when the pin asserts. The helpers write the 64-bit entry they are given,
 * as it is: a compatibility-format entry from ioapic_rte_compat(), or a remappable one an interrupt
 * remapping unit defines (its handle in place of the destination and the format bit set).
 */
#ifndef KERNEL_DRIVERS_IOAPIC_H
#define KERNEL_DRIVERS_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "acpi/madt.h"

/* Redirection entry bits (82093AA I/O APIC datasheet, section 3.2.4). */
#define IOAPIC_RTE_VECTOR        0xffull
#define IOAPIC_RTE_DELIVERY(m)   ((uint64_t)(m) << 8)   /* 0 fixed, 1 lowest priority, 4 NMI, 7 ExtINT */
#define IOAPIC_RTE_DEST_LOGICAL  (1ull << 11)
#define IOAPIC_RTE_PENDING       (1ull << 12)           /* delivery status, read only */
#define IOAPIC_RTE_ACTIVE_LOW    (1ull << 13)
#define IOAPIC_RTE_REMOTE_IRR    (1ull << 14)           /* read only */
#define IOAPIC_RTE_LEVEL         (1ull << 15)
#define IOAPIC_RTE_MASKED        (1ull << 16)
#define IOAPIC_RTE_DEST_SHIFT    56
#define IOAPIC_RTE_READ_ONLY     (IOAPIC_RTE_PENDING | IOAPIC_RTE_REMOTE_IRR)

struct ioapic {
	uint8_t id;                /* the MADT's id */
	uint8_t hw_id;             /* what its ID register says */
	uint8_t version;
	uint32_t gsi_base;
	unsigned pins;             /* redirection entries */
	uint64_t phys;
	volatile uint8_t *regs;
};

#define IOAPIC_MAX MADT_MAX_IOAPICS

/*
 * ioapic_init_all() - map every I/O APIC the MADT lists, read its id, version and number of pins,
 * and mask every pin. Problems are printed and the I/O APIC left out. Returns how many work.
 */
unsigned ioapic_init_all(const struct madt *madt);

unsigned ioapic_count(void);
const struct ioapic *ioapic_get(unsigned index);

/* ioapic_for_gsi() - the I/O APIC whose pins cover @gsi (and the pin in *@pin), or NULL. */
const struct ioapic *ioapic_for_gsi(uint32_t gsi, unsigned *pin);

/*
 * ioapic_rte_compat() - a compatibility-format entry: @vector, fixed delivery, physical destination
 * APIC id @dest (bits 63:56), level- or edge-triggered, active low or high, masked or not. @dest
 * above 255 does not fit: false.
 */
bool ioapic_rte_compat(uint32_t dest, uint8_t vector, bool level, bool active_low, bool masked, uint64_t *rte);

/*
 * ioapic_rte_write() - write @rte to the entry of @gsi: the pin is masked while its two halves
 * change, and takes @rte's mask bit at the end (the read-only bits are ignored). False when no
 * I/O APIC has @gsi.
 * ioapic_rte_read() - the entry of @gsi, or false.
 * ioapic_mask() - set or clear the mask bit of @gsi's entry, nothing else.
 */
bool ioapic_rte_write(uint32_t gsi, uint64_t rte);
bool ioapic_rte_read(uint32_t gsi, uint64_t *rte);
bool ioapic_mask(uint32_t gsi, bool masked);

#endif
