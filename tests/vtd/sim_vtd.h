/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A simulated VT-d remapping unit for the hosted platform.
 *
 * It models the register file as the specification describes it, written independently of the
 * driver's register header (its own offsets and bit numbers): VER/CAP/ECAP as configured,
 * GCMD/GSTS command semantics, the root table pointer, register-based context-cache and IOTLB
 * invalidation, the invalidation queue (descriptors read from simulated memory through
 * moat_plat_phys_to_virt() when the tail is written; wait descriptors write their status),
 * fault recording registers (a test injects records), FSTS and PMEN. Every register write is
 * logged, and rule violations are counted, so tests can check order and discipline.
 * Failure knobs: status bits that never change, stuck invalidation registers, a queue that never
 * runs, a delay before GCMD takes effect, a queue error or time-out on a chosen descriptor.
 *
 * Interrupt remapping (chapter 5): IRTA latched by SIRTP, IRE and CFI, interrupt-entry-cache
 * invalidation descriptors (global and index-selective), and an interrupt entry cache: an entry
 * once read is used until an invalidation drops it, so a test sees a missing invalidation.
 * sim_vtd_msi() resolves an interrupt message as the hardware would, with every check of section
 * 5.1 (format, handle, table size, present, reserved fields, source-id verification) and the
 * fault it records (reasons 20h-26h).
 *
 * The unit is hardware for the hostile device of tests/support/hostile.h: while translation is on,
 * the requesters its live tables (latched root table pointer, root and context entries) let
 * through, and the invalidations it carried out.
 */
#ifndef MOAT_TEST_SIM_VTD_H
#define MOAT_TEST_SIM_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <moat/acpi.h>

#define SIM_NFR_MAX 32
#define SIM_LOG_MAX 8192
#define SIM_DESC_MAX 8192

/* Register offsets, section 10.4 (kept apart from the driver's header on purpose). */
enum {
	SIM_VER = 0x00, SIM_CAP = 0x08, SIM_ECAP = 0x10, SIM_GCMD = 0x18, SIM_GSTS = 0x1c,
	SIM_RTADDR = 0x20, SIM_CCMD = 0x28, SIM_FSTS = 0x34, SIM_FECTL = 0x38, SIM_FEDATA = 0x3c,
	SIM_FEADDR = 0x40, SIM_FEUADDR = 0x44, SIM_PMEN = 0x64, SIM_IQH = 0x80, SIM_IQT = 0x88,
	SIM_IQA = 0x90, SIM_ICS = 0x9c, SIM_IQERCD = 0xb0, SIM_IRTA = 0xb8,
};

/* GCMD / GSTS bits */
#define SIM_TE (1u << 31)
#define SIM_SRTP (1u << 30)
#define SIM_SFL (1u << 29)
#define SIM_EAFL (1u << 28)
#define SIM_WBF (1u << 27)
#define SIM_QIE (1u << 26)
#define SIM_IRE (1u << 25)
#define SIM_SIRTP (1u << 24)
#define SIM_CFI (1u << 23)
#define SIM_ONE_SHOT (SIM_SRTP | SIM_SFL | SIM_WBF | SIM_SIRTP)

/* FSTS bits */
#define SIM_PFO (1u << 0)
#define SIM_PPF (1u << 1)
#define SIM_IQE (1u << 4)
#define SIM_ICE (1u << 5)
#define SIM_ITE (1u << 6)

struct sim_write {
	uint32_t off;
	uint32_t width;
	uint64_t value;
	uint32_t gsts;      /* GSTS when the write arrived */
};

struct sim_vtd {
	uint64_t base;
	uint32_t size;
	uint32_t ver;
	uint64_t cap, ecap;
	uint32_t iro, fro, nfr;     /* byte offsets and record count, decoded by the simulator */

	uint32_t gsts;
	uint64_t rtaddr, rtaddr_latched;
	uint64_t ccmd, iva, iotlb;
	uint32_t fsts;              /* PFO, IQE, ICE, ITE; PPF and FRI are computed on read */
	uint32_t fectl, fedata, feaddr, feuaddr;
	uint32_t pmen;
	uint64_t iqh, iqt, iqa;
	uint32_t ics;
	uint64_t iqercd, irta, irta_latched;
	uint64_t frcd[SIM_NFR_MAX][2];
	unsigned frcd_next;

	/* failure knobs */
	uint32_t stuck;             /* GSTS bits that never follow their command */
	bool ccmd_stuck, iotlb_stuck, iq_stuck;
	unsigned gsts_delay;        /* GSTS reads before a command's status appears */
	unsigned iqe_at;            /* the n-th descriptor fetched from now raises IQE (1 = next) */
	bool ite_next;              /* the next wait descriptor raises ITE */

	uint32_t pending_gsts;
	unsigned pending_reads;
	bool pending;

	/* what happened */
	struct sim_write log[SIM_LOG_MAX];
	unsigned nlog;
	uint64_t desc[SIM_DESC_MAX][2];  /* descriptors executed from the queue, in order */
	unsigned ndesc;
	unsigned iq_wraps;
	unsigned gcmd_violations;        /* GCMD writes that were not (GSTS & 0x96FFFFFF) +/- one bit */
	unsigned reg_inval_while_qi;     /* CCMD / IOTLB register invalidation with QIES set */
	unsigned bad_access;             /* accesses of a wrong width or to unknown registers */
	unsigned faults_dropped;
	unsigned gsts_reads;
	unsigned iec_global, iec_index;  /* interrupt-entry-cache invalidations executed */
	/* interrupt entry cache, one slot per index (65536) */
	struct sim_iec {
		bool valid;
		uint64_t lo, hi;
	} *iec;
	uint64_t inval_done;             /* context-cache, IOTLB and device-TLB invalidations carried out */
};

/* What the unit does with an interrupt message (sim_vtd_msi()). */
struct sim_vtd_irq {
	bool delivered;
	bool remapped;              /* through an entry (else compatibility format, or remapping off) */
	unsigned reason;            /* blocked: the fault reason (20h-26h) */
	uint32_t index;             /* remapped: the entry */
	uint8_t vector;
	uint32_t dest;              /* APIC id (xAPIC: 8 bits, x2APIC with EIME: 32) */
	bool logical, level, rh;
	uint8_t delivery;
	bool cached;                /* the entry came from the interrupt entry cache */
};

/*
 * Resolve an interrupt request: @addr / @data written by requester @rid (the source id of the
 * request). Fills @out and returns out->delivered. A blocked remappable request records a fault
 * (FI[63:48] = index, reason, source id) unless the entry has FPD.
 */
bool sim_vtd_msi(struct sim_vtd *s, uint16_t rid, uint64_t addr, uint32_t data, struct sim_vtd_irq *out);

/* The message an IOAPIC sends for redirection entry @rte (remappable or compatibility format),
 * resolved as sim_vtd_msi() with the IOAPIC's source id @rid. */
bool sim_vtd_ioapic(struct sim_vtd *s, uint16_t rid, uint64_t rte, struct sim_vtd_irq *out);

/* Allocate a unit at @base with @cap / @ecap, PMEN off, and register it with the hosted platform. */
struct sim_vtd *sim_vtd_new(uint64_t base, uint64_t cap, uint64_t ecap);
void sim_vtd_free(struct sim_vtd *s);

/* A unit description as the ACPI layer would give it. */
struct moat_unit_desc sim_vtd_desc(const struct sim_vtd *s, uint16_t segment);

/*
 * Record a fault as the hardware would: into the next record if it is free, else set PFO and
 * drop it; nothing is recorded while PFO is set. @lo / @hi are the record (F is set here).
 * Returns true when recorded.
 */
bool sim_vtd_inject_fault(struct sim_vtd *s, uint64_t lo, uint64_t hi);

/* Index of the first logged write to @off at or after @from, or -1. */
int sim_vtd_find_write(const struct sim_vtd *s, uint32_t off, unsigned from);
/* Number of logged writes to @off. */
unsigned sim_vtd_count_writes(const struct sim_vtd *s, uint32_t off);

#endif
