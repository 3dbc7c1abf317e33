/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel's use of Moat: bring-up from the firmware's description, the kernel's own memory
 * registered as protected, the host identity domain over the memory map, devices attached by the
 * requester id their DMA carries, fault polling with explanations, and tear-down. Every scenario
 * and the demo go through these few functions; docs/integrating.md walks through them.
 *
 * One instance at a time is enough for the kernel (each scenario brings Moat up and takes it down
 * again); the library itself keeps no global state.
 */
#ifndef KERNEL_MOAT_HOST_H
#define KERNEL_MOAT_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/moat.h>
#include <moat/setup.h>

#include "system.h"

#define KMOAT_MAX_DOMAINS 16
#define KMOAT_MAX_ATTACHED 32
#define KMOAT_MAP_MAX 128

struct kmoat {
	struct moat_setup ms;                           /* bring-up and the core system (ms.sys) */
	struct moat_setup_unit units[FW_MAX_UNITS];
	bool up;
	struct moat_domain *domains[KMOAT_MAX_DOMAINS]; /* every domain created through kmoat_domain() */
	unsigned ndomains;
	struct kmoat_attached {
		uint16_t segment, rid;
	} attached[KMOAT_MAX_ATTACHED];
	unsigned nattached;
	struct moat_domain host;                        /* the host identity domain (kmoat_protect_host()) */
	bool host_live;
	struct moat_host_report host_report;
	struct moat_mem_range map[KMOAT_MAP_MAX];       /* the memory map as Moat takes it */
	unsigned map_count;
	/* Whether a blocked access leaves a fault record the scenarios can check (see kmoat_up()):
	 * when false, blocked accesses are judged by the data alone, and records_note says why. */
	bool records_faults;
	unsigned fault_records;                         /* records the kernel counts on: 0 when none are written */
	const char *records_note;
	unsigned stale_faults;                          /* records found pending at bring-up (dropped) */
	uint32_t pool_used_before;                      /* platform pool pages in use before bring-up */
};

/*
 * kmoat_up() - bring Moat up on the machine @sys describes: every IOMMU unit probed, negotiated and
 * translating (every device blocked), and the kernel's own memory (kernel_protected_ranges())
 * registered as protected. Pending fault records are read out and dropped.
 * Fault records: VT-d units record blocked accesses (architectural, and QEMU's model does), so the
 * scenarios require the records. QEMU 7.2's AMD-Vi model never writes its event log (a defect of
 * the model), so on AMD-Vi the first bring-up of a boot measures it: an edu device, which has no
 * domain yet, reads a page, and the poll shows whether the unit recorded it. Where it did not,
 * m->records_faults is false, m->fault_records 0, and m->records_note says why.
 * Returns MOAT_OK; MOAT_ERR_NOT_FOUND (the firmware describes no IOMMU); the errors of
 * moat_setup_init() (MOAT_ERR_UNSUPPORTED for a vendor bring-up cannot drive), moat_setup_enable(),
 * moat_protect_add(), with @diag. On error Moat is down again.
 */
moat_status kmoat_up(struct kmoat *m, struct kernel_system *sys, struct moat_diag *diag);

/*
 * kmoat_down() - detach every device attached through kmoat_attach(), destroy every domain of
 * kmoat_domain(), take Moat down (translation off) and check that every page Moat took from the
 * platform came back. Returns MOAT_OK, or the first error with @problem (@size bytes) saying what.
 */
moat_status kmoat_down(struct kmoat *m, char *problem, unsigned size);

/* kmoat_domain() - moat_domain_create() of @dom, remembered for tear-down and fault explanation. */
moat_status kmoat_domain(struct kmoat *m, struct moat_domain *dom, struct moat_diag *diag);

/*
 * kmoat_attach() - make @d's DMA translate through @dom: the reserved regions that name it mapped
 * first (moat_reserved_map()), then moat_domain_attach() of the requester id its DMA carries
 * (d->dma_rid). Remembered for tear-down.
 */
moat_status kmoat_attach(struct kmoat *m, struct moat_domain *dom, const struct pci_dev *d,
			 struct moat_diag *diag);

/*
 * kmoat_protect_host() - the host identity domain (m->host): every page of RAM in the memory map
 * identity-mapped except protected memory (moat_protect_host()), report in m->host_report.
 */
moat_status kmoat_protect_host(struct kmoat *m, struct moat_diag *diag);

/* kmoat_domain_by_id() - the domain of kmoat_domain() or the host domain with id @id, or NULL. */
struct moat_domain *kmoat_domain_by_id(struct kmoat *m, int32_t id);

/*
 * kmoat_fault_line() - @f as one readable line, with what its domain maps around the address
 * (moat_setup_fault_format() and moat_setup_fault_near()).
 */
void kmoat_fault_line(struct kmoat *m, const struct moat_fault *f, char *buf, unsigned size);

/* kmoat_label() - a protected range's label from a kernel range description: the words before " (". */
const char *kmoat_label(const char *what, char *buf, unsigned size);

#endif
