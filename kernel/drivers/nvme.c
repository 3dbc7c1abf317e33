/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * NVMe admin queue pair (NVM Express Base Specification 2.0). Controller properties in BAR0: CAP at
 * 0x00 (MQES in bits 15:0, TO in bits 31:24 in 500 ms units, DSTRD in bits 35:32: doorbells
 * 4 << DSTRD bytes apart), CC at 0x14 (EN bit 0, I/O queue entry sizes IOSQES bits 19:16 and IOCQES
 * bits 23:20 as powers of two), CSTS at 0x1C (RDY bit 0, CFS bit 1), AQA at 0x24 (admin submission
 * queue size - 1 in bits 11:0, completion queue size - 1 in bits 27:16), ASQ at 0x28, ACQ at 0x30,
 * doorbells from 0x1000 (queue y's submission tail at 2y strides, its completion head at 2y + 1).
 * Initialization: CC.EN cleared and CSTS.RDY seen clear, the admin queues set, CC.EN set and
 * CSTS.RDY seen set. A submission entry is 64 bytes (dword 0: opcode bits 7:0, command id bits
 * 31:16; PRP entry 1 at byte 24; dword 10 at byte 40); a completion entry 16 bytes (dword 3: command
 * id bits 15:0, phase tag bit 16, status bits 31:17). Identify is admin opcode 06h; CNS 01h in
 * dword 10 returns the controller's 4 KiB data structure. The admin completion queue signals on
 * interrupt vector 0 (MSI-X entry 0).
 */
#include <moat/internal/lib.h>
#include <moat/platform.h>

#include "arch/cpu.h"
#include "drivers/nvme.h"
#include "kernel.h"
#include "mm/mm.h"

#define NVME_CAP  0x00
#define  CAP_TO(c)     (((c) >> 24) & 0xffu)
#define  CAP_DSTRD(c)  (((c) >> 32) & 0xfu)
#define NVME_CC   0x14
#define  CC_EN         0x1u
#define  CC_IOSQES_64  (6u << 16)
#define  CC_IOCQES_16  (4u << 20)
#define NVME_CSTS 0x1c
#define  CSTS_RDY      0x1u
#define  CSTS_CFS      0x2u
#define NVME_AQA  0x24
#define NVME_ASQ  0x28
#define NVME_ACQ  0x30
#define NVME_DOORBELLS 0x1000

#define SQE_SIZE 64u
#define CQE_SIZE 16u
#define OPC_IDENTIFY 0x06u
#define CNS_CONTROLLER 0x01u
#define CQE_PHASE 0x10000u
#define CQE_STATUS(dw3) ((dw3) >> 17)

#define FOUR_GIB (1ull << 32)
#define TO_UNIT_NS 500000000ull

const struct pci_dev *nvme_find(const struct pci_dev *devs, unsigned ndevs)
{
	for (unsigned i = 0; i < ndevs; i++) {
		if (devs[i].class_code == NVME_CLASS && devs[i].header_type == 0 &&
		    pci_find_cap(&devs[i], PCI_CAP_ID_MSIX))
			return &devs[i];
	}
	return NULL;
}

static bool wait_ready(struct nvme_dev *n, bool ready)
{
	uint64_t start = moat_plat_time_ns();

	for (;;) {
		uint32_t csts = moat_plat_mmio_read32(n->regs + NVME_CSTS);

		if (csts != 0xffffffffu && (csts & CSTS_RDY) == (ready ? CSTS_RDY : 0))
			return true;
		if (moat_plat_time_ns() - start > n->ready_timeout_ns)
			return false;
		cpu_pause();
	}
}

static void free_pages(struct nvme_dev *n)
{
	kpage_free(n->sq);
	kpage_free(n->cq);
	kpage_free(n->data);
	n->sq = n->cq = n->data = NULL;
}

moat_status nvme_start(struct nvme_dev *n, const struct pci_dev *d, uint64_t msi_address, uint32_t msi_data)
{
	struct pci_bar bar;
	uint64_t cap;

	moat_memset(n, 0, sizeof(*n));
	n->pci = d;
	if (!pci_bar_read(d, 0, &bar) || bar.is_io || !bar.base || bar.size < 0x2000)
		return MOAT_ERR_NOT_FOUND;
	n->bar_phys = bar.base;
	n->regs = kernel_map_mmio(bar.base, bar.size);
	if (!n->regs || !pci_msix_find(d, &n->msix))
		return MOAT_ERR_NOT_FOUND;
	pci_msix_disable(&n->msix);
	for (unsigned e = 0; e < n->msix.entries; e++)
		pci_msix_mask(&n->msix, e, true);
	if (pci_msix_program(&n->msix, 0, msi_address, msi_data) != MOAT_OK)
		return MOAT_ERR_INVALID_ARG;
	pci_msix_enable(&n->msix);
	pci_dev_write16(d, PCI_COMMAND,
			(uint16_t)(pci_dev_read16(d, PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));

	cap = moat_plat_mmio_read64(n->regs + NVME_CAP);
	n->doorbell_stride = 4u << CAP_DSTRD(cap);
	n->ready_timeout_ns = MOAT_MAX(CAP_TO(cap), 1u) * TO_UNIT_NS;
	/* The firmware may have used the controller: reset it first. */
	moat_plat_mmio_write32(n->regs + NVME_CC, 0);
	if (!wait_ready(n, false))
		return MOAT_ERR_TIMEOUT;

	n->sq = kpage_alloc(0, FOUR_GIB, false);
	n->cq = kpage_alloc(0, FOUR_GIB, false);
	n->data = kpage_alloc(0, FOUR_GIB, false);
	if (!n->sq || !n->cq || !n->data) {
		free_pages(n);
		return MOAT_ERR_NO_MEMORY;
	}
	moat_plat_mmio_write32(n->regs + NVME_AQA, (NVME_QUEUE_ENTRIES - 1) << 16 | (NVME_QUEUE_ENTRIES - 1));
	moat_plat_mmio_write64(n->regs + NVME_ASQ, kvirt_to_phys(n->sq));
	moat_plat_mmio_write64(n->regs + NVME_ACQ, kvirt_to_phys(n->cq));
	moat_plat_mb();
	moat_plat_mmio_write32(n->regs + NVME_CC, CC_EN | CC_IOSQES_64 | CC_IOCQES_16);
	if (!wait_ready(n, true)) {
		nvme_stop(n);
		return MOAT_ERR_TIMEOUT;
	}
	if (moat_plat_mmio_read32(n->regs + NVME_CSTS) & CSTS_CFS) {
		nvme_stop(n);
		return MOAT_ERR_STATE;
	}
	n->phase = true;
	n->enabled = true;
	return MOAT_OK;
}

static volatile uint8_t *doorbell(struct nvme_dev *n, unsigned index)
{
	return n->regs + NVME_DOORBELLS + (uint64_t)index * n->doorbell_stride;
}

static volatile uint32_t *cqe_dw3(struct nvme_dev *n)
{
	return (volatile uint32_t *)(n->cq + n->cq_head * CQE_SIZE + 12);
}

moat_status nvme_identify_submit(struct nvme_dev *n)
{
	uint8_t *sqe = n->sq + n->sq_tail * SQE_SIZE;
	uint32_t dw0 = OPC_IDENTIFY | (uint32_t)n->next_cid << 16;
	uint64_t prp = kvirt_to_phys(n->data);
	uint32_t cns = CNS_CONTROLLER;

	if (!n->enabled)
		return MOAT_ERR_STATE;
	/* Two entries hold one command (a full queue is one entry short of its size). */
	if (n->pending)
		return MOAT_ERR_BUSY;
	moat_memset(sqe, 0, SQE_SIZE);
	moat_memcpy(sqe, &dw0, sizeof(dw0));
	moat_memcpy(sqe + 24, &prp, sizeof(prp));
	moat_memcpy(sqe + 40, &cns, sizeof(cns));
	n->sq_tail = (n->sq_tail + 1) % NVME_QUEUE_ENTRIES;
	n->pending = true;
	moat_plat_mb();
	moat_plat_mmio_write32(doorbell(n, 0), n->sq_tail);
	return MOAT_OK;
}

moat_status nvme_identify_reap(struct nvme_dev *n, uint64_t timeout_ns)
{
	uint64_t start = moat_plat_time_ns();
	uint32_t dw3;

	if (!n->enabled || !n->pending)
		return MOAT_ERR_STATE;
	while (((dw3 = *cqe_dw3(n)) & CQE_PHASE) != (n->phase ? CQE_PHASE : 0)) {
		if (moat_plat_time_ns() - start > timeout_ns)
			return MOAT_ERR_TIMEOUT;
		cpu_pause();
	}
	moat_plat_mb();
	n->cq_head = (n->cq_head + 1) % NVME_QUEUE_ENTRIES;
	if (!n->cq_head)
		n->phase = !n->phase;
	moat_plat_mmio_write32(doorbell(n, 1), n->cq_head);
	n->pending = false;
	if ((dw3 & 0xffffu) != n->next_cid++ || CQE_STATUS(dw3))
		return MOAT_ERR_HARDWARE;
	return MOAT_OK;
}

void nvme_stop(struct nvme_dev *n)
{
	if (n->msix.table)
		pci_msix_disable(&n->msix);
	if (n->regs) {
		moat_plat_mmio_write32(n->regs + NVME_CC, 0);
		wait_ready(n, false);
	}
	n->enabled = false;
	free_pages(n);
}
