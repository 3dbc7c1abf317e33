/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A minimal NVMe controller driver: the admin queue pair and one command (Identify), enough for the
 * controller to send an interrupt through MSI-X entry 0 (the admin completion queue's vector). The
 * kernel uses it as its MSI-X source (QEMU: -device nvme,serial=NAME; no drive is needed); it
 * reads and writes no storage.
 */
#ifndef KERNEL_DRIVERS_NVME_H
#define KERNEL_DRIVERS_NVME_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/status.h>

#include "pci/msi.h"
#include "pci/pci.h"

#define NVME_CLASS 0x010802u           /* mass storage, non-volatile memory, NVM Express */
#define NVME_QUEUE_ENTRIES 2u          /* admin queues: the smallest size allowed */

struct nvme_dev {
	const struct pci_dev *pci;
	volatile uint8_t *regs;            /* BAR0 */
	uint64_t bar_phys;
	unsigned doorbell_stride;          /* bytes between doorbells */
	uint64_t ready_timeout_ns;         /* CAP.TO */
	struct pci_msix msix;
	uint8_t *sq, *cq, *data;           /* admin submission and completion queues, Identify buffer */
	unsigned sq_tail, cq_head;
	bool phase;                        /* phase tag a new completion carries */
	uint16_t next_cid;                 /* command id of the next (or the pending) command */
	bool pending;                      /* a command was submitted and not reaped */
	bool enabled;
};

/* nvme_find() - the first NVMe controller among @devs with an MSI-X capability, or NULL. */
const struct pci_dev *nvme_find(const struct pci_dev *devs, unsigned ndevs);

/*
 * nvme_start() - take controller @d: BAR0 mapped, MSI-X table found, every entry masked, entry 0
 * programmed with @msi_address and @msi_data (as given; left masked: pci_msix_mask() unmasks it),
 * MSI-X enabled, memory decoding and bus mastering on, the controller reset and enabled with an
 * admin queue pair in three pages of ordinary RAM below 4 GiB. MSI-X is on before the controller
 * is enabled: the admin completion queue takes its vector then (QEMU's model marks the vector in
 * use only if MSI-X is enabled when the queue is created, and otherwise never signals it).
 * Returns MOAT_OK; MOAT_ERR_NOT_FOUND (no usable BAR0 or MSI-X table); MOAT_ERR_INVALID_ARG (the
 * message cannot be programmed); MOAT_ERR_NO_MEMORY (no pages); MOAT_ERR_TIMEOUT (the controller
 * did not become ready in the time CAP.TO gives); MOAT_ERR_STATE (it reports a fatal status).
 * Call nvme_stop() whatever it returns.
 */
moat_status nvme_start(struct nvme_dev *n, const struct pci_dev *d, uint64_t msi_address, uint32_t msi_data);

/*
 * nvme_identify_submit() - queue an Identify Controller command and ring the doorbell; its
 * completion (and the interrupt) follow. nvme_identify_reap() - wait at most @timeout_ns for the
 * completion, consume it and tell the controller. Submit returns MOAT_OK, MOAT_ERR_BUSY (a command
 * is pending) or MOAT_ERR_STATE (not started); reap returns MOAT_OK when the command completed with
 * success status, MOAT_ERR_HARDWARE when with another status or another command id,
 * MOAT_ERR_TIMEOUT, MOAT_ERR_STATE (nothing pending).
 */
moat_status nvme_identify_submit(struct nvme_dev *n);
moat_status nvme_identify_reap(struct nvme_dev *n, uint64_t timeout_ns);

/* nvme_stop() - MSI-X off, the controller disabled (no more DMA), its pages freed. */
void nvme_stop(struct nvme_dev *n);

#endif
