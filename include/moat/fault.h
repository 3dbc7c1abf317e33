/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DMA and interrupt-remapping faults, decoded the same way for every IOMMU vendor.
 *
 * A vendor driver reads its hardware's fault records (VT-d fault recording registers, AMD-Vi
 * event log) into struct moat_fault. The vendor's own reason code is kept, with a text and a
 * vendor-neutral class that says whose mistake the fault most likely is.
 */
#ifndef MOAT_FAULT_H
#define MOAT_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/acpi.h>

#ifdef __cplusplus
extern "C" {
#endif

enum moat_fault_class {
	MOAT_FAULT_UNKNOWN = 0,       /* a code this version does not know */
	MOAT_FAULT_BAD_ADDRESS = 1,   /* a device with a domain used an address, or an access, that its
					 domain does not map: the device (or its driver) is at fault */
	MOAT_FAULT_BAD_DEVICE = 2,    /* a device that has no domain, or issued a kind of request it
					 is not allowed to issue (translation requests, bad interrupts) */
	MOAT_FAULT_INVALID_USE = 3,   /* the tables or registers are programmed wrongly, or unreadable:
					 a software bug or memory corruption, never the device's doing */
};

struct moat_fault {
	enum moat_vendor vendor;
	uint16_t segment;
	uint16_t rid;                 /* requester id: bus << 8 | dev << 3 | fn */
	uint64_t address;             /* faulting address (VT-d: page granular); 0 for interrupt faults */
	bool is_write;                /* write request (VT-d type bit 1 clear) */
	bool is_atomic;               /* AtomicOp request (needs read and write permission) */
	bool is_interrupt;            /* an interrupt-remapping fault: see interrupt_index */
	bool pasid_present;
	uint32_t pasid;               /* valid when pasid_present */
	uint16_t interrupt_index;     /* valid when is_interrupt */
	uint16_t reason;              /* the vendor's reason code, as reported */
	const char *reason_text;      /* static text for the code; never NULL */
	enum moat_fault_class fault_class;
	int32_t domain_id;            /* domain the device was attached to when polled; -1 if none */
};

/* What one poll found, besides the records themselves. */
struct moat_fault_poll {
	unsigned count;               /* records written to the caller's array */
	unsigned remaining;           /* records still pending because the array was full */
	uint32_t overflows;           /* overflow conditions seen (and cleared) by this poll: when
					 non-zero, faults were lost because every record was full */
	uint64_t overflow_total;      /* overflows seen on this unit since it was probed */
};

/* moat_fault_class_str() - the name of a class, e.g. "bad address". Never NULL. */
const char *moat_fault_class_str(enum moat_fault_class c);

#ifdef __cplusplus
}
#endif

#endif
