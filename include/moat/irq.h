/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupt remapping: no device can forge an interrupt.
 *
 * Without remapping, an interrupt is a memory write to 0xFEExxxxx whose address and data name the
 * destination CPU and the vector: any device able to write there (and with DMA, every device can
 * try) injects any vector into any CPU. With remapping on, the IOMMU treats such a write as a
 * request naming an entry of a table Moat owns: the entry says where the interrupt goes, and it
 * is delivered only when the entry is present and the request comes from the device the entry
 * was allocated for (VT-d: the requester id is checked against the entry; AMD-Vi: every device
 * has a table of its own). Everything else is blocked, and the IOMMU reports it as a fault
 * (moat_fault_poll(), is_interrupt set). Default deny: once bring-up turned remapping on
 * (moat_setup_irq() in moat/setup.h), a device without allocated entries has no interrupt at
 * all, and compatibility-format interrupts (the old, unremapped format) are blocked unless the
 * host asked otherwise.
 *
 * The host allocates an entry for each interrupt source (an MSI or MSI-X vector of a PCI
 * function, an IOAPIC pin, an HPET timer) with the destination it wants, programs the message
 * (address and data) or redirection entry Moat gives back into the device, and from then on
 * changes the destination or vector through Moat (moat_irq_set_dest()): the device's message
 * never changes. The same calls work on both vendors; the handle says nothing vendor-specific
 * except the message the host copies into the device.
 *
 * Worked example: the MSI of QEMU's edu device (PCI 1234:11e8, MSI capability at 0x40, 64-bit)
 * on the bootstrap processor, vector 0x40, then moved to APIC id 1 and freed. The kernel's own
 * PCI accessors are pci_read16() and friends; `edu` is the device's requester id.
 *
 *	static struct moat_irq edu_irq;      // caller storage, as long as the interrupt lives
 *	struct moat_irq_source src = { .kind = MOAT_IRQ_PCI, .segment = 0, .rid = edu };
 *	struct moat_irq_dest dest = { .apic_id = bsp_apic_id, .vector = 0x40,
 *				      .delivery = MOAT_IRQ_DM_FIXED };
 *	struct moat_diag diag;
 *
 *	if (moat_irq_alloc(&ms.sys, &src, 1, &dest, &edu_irq, &diag) != MOAT_OK)
 *		panic("edu MSI: %s", diag.msg);
 *	uint16_t ctl = pci_read16(edu, 0x40 + 2);                     // message control
 *	pci_write32(edu, 0x40 + 4, (uint32_t)edu_irq.msi.address);     // address, low
 *	pci_write32(edu, 0x40 + 8, (uint32_t)(edu_irq.msi.address >> 32)); // high (ctl bit 7: 64-bit)
 *	pci_write16(edu, 0x40 + 12, (uint16_t)edu_irq.msi.data);       // data
 *	pci_write16(edu, 0x40 + 2, (uint16_t)((ctl & ~0x70u) | 1u));   // one vector (MME 0), enable
 *	...                                                             // edu interrupts: vector 0x40
 *	dest.apic_id = 1;
 *	moat_irq_set_dest(&edu_irq, 0, &dest, &diag);                  // now on APIC 1; edu untouched
 *	...
 *	pci_write16(edu, 0x40 + 2, (uint16_t)(ctl & ~1u));             // MSI off at the device first
 *	moat_irq_free(&edu_irq, &diag);                                // then the entry
 *
 * A device with several MSI vectors (multi-message MSI) gets a block of 2^k entries with one
 * message: program MME = k in the capability and the device adds the vector number to the data,
 * as the PCI specification says; vector i of the block is delivered as dest->vector + i until
 * moat_irq_set_dest(irq, i, ...) says otherwise. MSI-X: one moat_irq_alloc() of count 1 per
 * table entry, each with its own message written into its MSI-X table entry. An IOAPIC pin:
 * kind MOAT_IRQ_IOAPIC with the IOAPIC's id (as the MADT gives it) and ioapic_rte written into
 * its redirection entry (low dword at register 0x10 + 2 * pin, high dword at 0x11 + 2 * pin; mask
 * it while writing). An HPET timer in FSB mode: kind MOAT_IRQ_HPET with the HPET's number,
 * msi.address into Tn_FSB_INT_ADDR and msi.data into Tn_FSB_INT_VAL.
 *
 * On AMD-Vi the message data is the entry's index in the device's own table; QEMU's model reads
 * data bits 10:8 as a delivery mode, so only indexes below 512 work there: bring-up's default
 * table of 512 entries per device keeps every index below that.
 *
 * Concurrency: every function takes the system lock (moat/moat.h). A handle must not be used by
 * two callers at once (the caller owns it). Every check is made before anything is written: an
 * error on bad input changes nothing, neither the tables nor the handle.
 */
#ifndef MOAT_IRQ_H
#define MOAT_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/diag.h>
#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

struct moat_system;
struct moat_unit;

/* What raises the interrupt. */
enum moat_irq_kind {
	MOAT_IRQ_PCI = 1,        /* an MSI or MSI-X of a PCI function: rid is the requester id its
				    messages carry (its own, or the alias a bridge gives it) */
	MOAT_IRQ_PCI_BUSES = 2,  /* devices behind a PCIe-to-PCI(-X) bridge, whose messages may carry
				    any requester id of the buses below it: rid's bus to bus_last
				    (rid: the bridge's secondary bus, device 0, function 0) */
	MOAT_IRQ_IOAPIC = 3,     /* an IOAPIC pin: id is the IOAPIC id (MADT) */
	MOAT_IRQ_HPET = 4,       /* an HPET timer in FSB mode: id is the HPET number (its table's) */
};

struct moat_irq_source {
	enum moat_irq_kind kind;
	uint16_t segment;        /* PCI segment (IOAPIC, HPET: found in the description) */
	uint16_t rid;            /* PCI, PCI_BUSES: as above; IOAPIC, HPET: filled in by Moat from the
				    DMAR device scope or IVRS special entry */
	uint8_t bus_last;        /* PCI_BUSES: the last bus below the bridge (subordinate bus) */
	uint8_t id;              /* IOAPIC, HPET */
};

/* Delivery modes (the APIC's encoding). */
#define MOAT_IRQ_DM_FIXED  0u
#define MOAT_IRQ_DM_LOWEST 1u    /* lowest priority among the destination set */
#define MOAT_IRQ_DM_SMI    2u    /* VT-d only; vector must be 0 */
#define MOAT_IRQ_DM_NMI    4u    /* VT-d only; vector must be 0 */
#define MOAT_IRQ_DM_INIT   5u    /* VT-d only; vector must be 0 */
#define MOAT_IRQ_DM_EXTINT 7u    /* VT-d only */

/* Where an interrupt goes. */
struct moat_irq_dest {
	uint32_t apic_id;        /* physical: the APIC id; logical: the logical destination. Above 255
				    only with x2APIC destinations (bring-up's MOAT_SETUP_IRQ_X2APIC) */
	uint8_t vector;          /* FIXED, LOWEST, EXTINT: 16..255; others: 0 */
	uint8_t delivery;        /* MOAT_IRQ_DM_* */
	bool logical;            /* logical destination mode (else physical) */
	bool level;              /* IOAPIC: level-triggered (else edge; messages are always edge) */
	bool active_low;         /* IOAPIC: polarity */
};

/* The most vectors of one multi-message MSI block. */
#define MOAT_IRQ_MAX_BLOCK 32u

/* An MSI message: what a device writes to raise the interrupt. */
struct moat_msi_msg {
	uint64_t address;        /* 0xFEExxxxx; the high half is 0 */
	uint32_t data;           /* below 0x10000: fits a 16-bit MSI data register */
};

/*
 * One allocated interrupt (or block). Caller storage; fields are read-only for the caller, valid
 * from moat_irq_alloc() to moat_irq_free().
 */
struct moat_irq {
	struct moat_irq_source src;  /* as given, rid filled in for IOAPIC and HPET */
	uint32_t count;              /* entries of the block: 1, or a power of two up to 32 */
	uint32_t index;              /* first entry (VT-d: the handle in the unit's table; AMD-Vi: the
					offset in the device's table) */
	uint16_t table_rid;          /* AMD-Vi: the device id whose table holds it (an alias group's
					id); VT-d: 0 (one table per unit) */
	struct moat_msi_msg msi;     /* PCI, PCI_BUSES, HPET: the message to program */
	uint64_t ioapic_rte;         /* IOAPIC: the redirection entry to program (mask bit clear) */
	/* private */
	struct moat_unit *unit;
	uint32_t magic;
};

/*
 * moat_irq_alloc() - allocate @count remapped interrupts for @src, entry i delivering @dest with
 * vector dest->vector + i, and fill @irq (caller storage, which must not hold a live handle) with
 * what the host programs into the device. The unit that routes the device (for IOAPIC and HPET:
 * the unit whose DMAR scope or IVRS special entry names it, with the requester id given there)
 * writes the entries, each one checking that the request comes from @src, and invalidates its
 * interrupt-entry cache before this returns.
 * Needs remapping on (moat_setup_irq()), @count 1 or a power of two up to MOAT_IRQ_MAX_BLOCK (a
 * multi-message MSI block: consecutive entries, aligned to @count; PCI kinds only), a valid
 * @dest (vector 16..255 for fixed, lowest-priority and ExtINT, with room for @count vectors; 0
 * for SMI, NMI and INIT; an APIC id above 255 only with x2APIC destinations).
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, uninitialized system, bad @src, @count or @dest);
 * MOAT_ERR_STATE (@irq holds a live handle, or remapping is off on that unit);
 * MOAT_ERR_NOT_FOUND (no unit routes the device, or no description entry names the IOAPIC or
 * HPET); MOAT_ERR_UNSUPPORTED (a delivery mode or destination the unit cannot remap: AMD-Vi
 * remaps fixed and lowest-priority interrupts only; the unit has no remapping); MOAT_ERR_NO_SPACE
 * (no free aligned run of @count entries; AMD-Vi: no table slot for another device, or an IOAPIC
 * entry past index 255); MOAT_ERR_NO_MEMORY (AMD-Vi: no page for the device's table);
 * MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (the invalidation did not complete: the entries are not
 * present again and @irq is no handle; entries whose second invalidation fails too are never handed
 * out again). @diag says which.
 */
moat_status moat_irq_alloc(struct moat_system *sys, const struct moat_irq_source *src, unsigned count,
			   const struct moat_irq_dest *dest, struct moat_irq *irq, struct moat_diag *diag);

/*
 * moat_irq_set_dest() - deliver entry @sub (0 to count - 1) of @irq to @dest from now on
 * (affinity change, another vector): the entry is rewritten so that the IOMMU reads either the
 * old or the new entry, never a mix, and its cache entry is invalidated before this returns. The
 * device's message does not change. Same @dest rules as moat_irq_alloc() (IOAPIC: level and
 * active_low must stay as allocated, the redirection entry depends on them).
 * AMD-Vi 128-bit entries (x2APIC or MOAT_SETUP_IRQ_WIDE): a change of both the vector and the
 * low 24 destination bits cannot be one store; the entry then passes through "not remapped"
 * (an interrupt arriving in that window is blocked and reported, never delivered wrongly).
 * Returns MOAT_OK (also when nothing changes); MOAT_ERR_INVALID_ARG (NULL, not a live handle,
 * @sub out of range, bad @dest); MOAT_ERR_UNSUPPORTED (as in moat_irq_alloc());
 * MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (the entry is written, its invalidation did not complete).
 */
moat_status moat_irq_set_dest(struct moat_irq *irq, unsigned sub, const struct moat_irq_dest *dest,
			      struct moat_diag *diag);

/*
 * moat_irq_free() - take every entry of @irq out of the table (not present: the device's message
 * is blocked from then on), invalidate them, and only then make them free for reuse. Turn the
 * interrupt off at the device first. On AMD-Vi the device's last entry takes its table away: its
 * device-table entry blocks again.
 * Returns MOAT_OK (@irq is then no handle); MOAT_ERR_INVALID_ARG (NULL or not a live handle);
 * MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (the entries no longer deliver but their invalidation did
 * not complete: they are not reused and @irq stays live; call again to retry).
 */
moat_status moat_irq_free(struct moat_irq *irq, struct moat_diag *diag);

/* ---------------------------------------------------------------------------------------------
 * Fault and event interrupts
 * ------------------------------------------------------------------------------------------- */

/*
 * What the host must program for a unit whose interrupt is an MSI of its own PCI function
 * (AMD-Vi): the message into that function's MSI capability, then MSI enable there.
 */
struct moat_fault_irq_msi {
	uint16_t segment;
	uint16_t rid;                /* the IOMMU's PCI function */
	struct moat_msi_msg msg;
};

/*
 * moat_fault_irq_enable() - raise @dest's interrupt when a unit records a fault or event, instead
 * of (or besides) polling; the handler calls moat_fault_poll(), which also re-arms the interrupt.
 * The IOMMU's own interrupts do not pass through its remapping tables (VT-d: interrupts the
 * remapping hardware generates are not remapped; AMD-Vi: its MSI is the IOMMU function's own and
 * is not remapped either), so they are programmed with the destination itself; a device writing
 * the same message is still blocked, since with remapping on and compatibility format off (the
 * default) no unremapped message of a device is delivered. VT-d units are programmed here (fault event data, address
 * and upper address registers, then the mask cleared); for each AMD-Vi unit @out gets the MSI
 * the host writes into the IOMMU function's capability (Moat sets EventIntEn). @out may hold @max
 * entries; *@count gets how many it needs. Polling keeps working.
 * Needs a fixed or lowest-priority @dest, vector 16..255; APIC id above 255 only on VT-d units
 * with x2APIC destinations.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, bad @dest); MOAT_ERR_NO_SPACE (@max too small:
 * nothing was changed, *@count says how many); MOAT_ERR_UNSUPPORTED (a unit cannot reach that
 * destination); a unit's error (@diag), the units before it keep their interrupt.
 */
moat_status moat_fault_irq_enable(struct moat_system *sys, const struct moat_irq_dest *dest,
				  struct moat_fault_irq_msi *out, unsigned max, unsigned *count,
				  struct moat_diag *diag);

/*
 * moat_fault_irq_disable() - no more fault interrupts (VT-d: the fault event mask set; AMD-Vi:
 * EventIntEn cleared; disable the IOMMU function's MSI too). Polling keeps working.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (not an initialized system); the first unit's error (every
 * unit is still asked).
 */
moat_status moat_fault_irq_disable(struct moat_system *sys, struct moat_diag *diag);

#ifdef __cplusplus
}
#endif

#endif
