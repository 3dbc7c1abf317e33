/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The local APIC in xAPIC mode (registers in memory; x2APIC is not used: QEMU's software emulation
 * has none), and the compatibility-format interrupt message every interrupt source sends to it.
 */
#ifndef KERNEL_ARCH_APIC_H
#define KERNEL_ARCH_APIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lapic_info {
	uint64_t phys;          /* register base */
	const char *source;     /* where the base came from: "MADT", "MADT override", "IA32_APIC_BASE" */
	uint32_t id;            /* APIC id of the boot CPU (ID register bits 31:24) */
	uint8_t version;
	unsigned lvt_entries;
	bool was_disabled;      /* IA32_APIC_BASE's global enable was clear and had to be set */
	uint64_t timer_hz;      /* measured rate of the timer at divide-by-1; 0 when it did not count */
};

/*
 * lapic_init() - the boot CPU's local APIC: base from @madt_address (0: from IA32_APIC_BASE),
 * checked against IA32_APIC_BASE (which must point at it: the kernel does not move it), globally
 * enabled, software-enabled with spurious vector @spurious_vector (low 4 bits set), task priority
 * 0, LINT0 masked (the 8259 virtual wire), the error register cleared, the timer stopped and
 * measured against the kernel's clock. False with @problem set when there is no usable local APIC
 * (CPUID says none, the base cannot be mapped, x2APIC mode is on, the MADT and the MSR disagree).
 */
bool lapic_init(uint64_t madt_address, const char *madt_source, uint8_t spurious_vector, char *problem,
		size_t size);

const struct lapic_info *lapic_info(void);

/* The running CPU's APIC id. */
uint32_t lapic_id(void);

/* End of interrupt for the highest-priority vector in service. */
void lapic_eoi(void);

/* True when @vector's bit is set in the in-service register: an interrupt of it is being handled. */
bool lapic_in_service(uint8_t vector);

/*
 * lapic_timer_oneshot() - the timer fires @vector once after about @ns nanoseconds (at least one
 * tick, at most the counter's range); lapic_timer_stop() cancels it. Without a measured rate
 * (timer_hz 0) nothing is armed and false is returned.
 */
bool lapic_timer_oneshot(uint8_t vector, uint64_t ns);
void lapic_timer_stop(void);

/* ---- Compatibility-format interrupt messages (Intel SDM vol. 3A, section 11.11) ---- */

#define MSI_ADDRESS_BASE 0xfee00000ull
#define MSI_ADDRESS_RANGE 0x100000ull   /* 0xFEE00000-0xFEEFFFFF: writes here are interrupt messages */

enum msi_delivery {
	MSI_DELIVERY_FIXED = 0,
	MSI_DELIVERY_LOWEST = 1,
	MSI_DELIVERY_NMI = 4,
};

/* An interrupt message: the address and data a source writes (MSI, MSI-X, an IOAPIC's message). */
struct msi_msg {
	uint64_t address;
	uint32_t data;
};

/*
 * msi_compat() - the compatibility-format message for @vector, fixed or lowest-priority delivery,
 * to APIC id @dest in physical destination mode, edge-triggered: address 0xFEE00000 | dest << 12,
 * data vector | delivery mode << 8. @dest above 255 does not fit the format: false.
 */
bool msi_compat(uint32_t dest, uint8_t vector, enum msi_delivery mode, struct msi_msg *out);

#endif
