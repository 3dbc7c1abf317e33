/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Driver for QEMU's `edu` PCI device (1234:11e8): the kernel's DMA engine for testing an IOMMU.
 *
 * The device has a 4 KiB buffer at device address 0x40000 and copies between it and an address on
 * the PCI bus (an IOVA when an IOMMU translates, a physical address otherwise). Each transfer takes
 * about 100 ms of QEMU's virtual clock. Addresses are masked by the device's dma_mask property
 * (28 bits unless QEMU is given -device edu,dma_mask=...): the guest cannot read that mask.
 *
 * The buffer is not visible through BAR0 (reads there return all ones, writes are dropped): to see
 * what a DMA brought into the device, DMA it out again to a page the CPU can read.
 *
 * Interrupts: the device raises one when the CPU writes bits to its raise register (or a DMA asked
 * for one finishes); the bits stay set in its status register until acknowledged. With MSI enabled
 * every raise sends the message once; without, INTx (pin A) stays asserted while any status bit is
 * set. Its MSI capability has one vector, a 64-bit address and no masking.
 *
 * QEMU 7.2's model refuses a transfer that reaches the buffer's last byte (its range check treats the
 * end as exclusive twice, QEMU issue 1254) and does so by aborting QEMU, not by failing the DMA. So one
 * transfer moves at most EDU_DMA_MAX bytes, and the driver refuses anything that would reach the last
 * byte, on every QEMU version.
 */
#ifndef KERNEL_EDU_H
#define KERNEL_EDU_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/status.h>

#include "pci/msi.h"
#include "pci/pci.h"

#define EDU_VENDOR_ID 0x1234
#define EDU_DEVICE_ID 0x11e8
#define EDU_BUFFER_SIZE 4096u
#define EDU_DMA_MAX (EDU_BUFFER_SIZE - 1u)   /* buffer offset + length never exceed this */
#define EDU_MAX_DEVICES 8
/* Addresses an edu device reaches with its default dma_mask (28 bits): below 256 MiB. */
#define EDU_DEFAULT_REACH (1ull << 28)

/* Bound on one transfer: 20 times what QEMU's timer takes. */
#define EDU_DMA_TIMEOUT_NS 2000000000ull

struct edu_dev {
	const struct pci_dev *pci;
	volatile uint8_t *regs;       /* BAR0, mapped uncached */
	uint64_t bar_phys;
	uint64_t bar_size;
	uint32_t version;             /* identification register: major << 24 | minor << 16 | 0xed */
	unsigned index;               /* 0, 1, ... in enumeration order */
	bool has_msi;
	struct pci_msi msi;           /* its MSI capability (when has_msi) */
};

/* Interrupt status bits: a raise by the CPU may set any; the device itself sets these two. */
#define EDU_IRQ_FACTORIAL 0x001u
#define EDU_IRQ_DMA       0x100u

/*
 * edu_probe_all() - find every edu device among @devs, map its BAR0, enable memory decoding and bus
 * mastering, and check that it answers (identification and liveness registers). Fills up to @cap
 * entries of @out; returns how many work. Problems are printed.
 */
unsigned edu_probe_all(const struct pci_dev *devs, unsigned ndevs, struct edu_dev *out, unsigned cap);

/*
 * edu_dma_to_device() - copy @len bytes (1..EDU_DMA_MAX) from bus address @iova into the device buffer
 * (from its start), and wait for the device to finish, at most EDU_DMA_TIMEOUT_NS.
 * edu_dma_from_device() - copy @len bytes from the start of the device buffer to bus address @iova.
 * Both return MOAT_OK when the device reports the transfer done; MOAT_ERR_INVALID_ARG for a bad
 * length; MOAT_ERR_BUSY when an earlier transfer is still running (nothing started);
 * MOAT_ERR_TIMEOUT when the device did not finish in time. "Done" says nothing about whether an
 * IOMMU let the access through: check the data.
 */
moat_status edu_dma_to_device(struct edu_dev *dev, uint64_t iova, uint32_t len);
moat_status edu_dma_from_device(struct edu_dev *dev, uint64_t iova, uint32_t len);

/* The same with an offset inside the device buffer (@buf_offset + @len <= EDU_DMA_MAX) and a timeout. */
enum edu_dir {
	EDU_TO_DEVICE,     /* RAM -> device buffer (the device reads memory) */
	EDU_FROM_DEVICE,   /* device buffer -> RAM (the device writes memory) */
};
moat_status edu_dma(struct edu_dev *dev, enum edu_dir dir, uint64_t iova, uint32_t buf_offset, uint32_t len,
		    uint64_t timeout_ns);

/*
 * edu_msi_on() - program the device's MSI with @address and @data (as given: compatibility format
 * or remappable) and enable it (INTx off). MSI is disabled while the message changes. Returns
 * MOAT_OK; MOAT_ERR_UNSUPPORTED when the device has no MSI capability; the errors of
 * pci_msi_program() (MOAT_ERR_INVALID_ARG for a message the capability cannot hold).
 * edu_msi_off() - MSI disabled: the device signals on INTx again.
 */
moat_status edu_msi_on(struct edu_dev *dev, uint64_t address, uint32_t data);
void edu_msi_off(struct edu_dev *dev);

/*
 * edu_irq_raise() - the device sets @bits in its interrupt status and signals (an MSI, or INTx).
 * edu_irq_status() - its interrupt status bits.
 * edu_irq_ack() - clear @bits; without MSI, INTx is deasserted once no bit is left.
 */
void edu_irq_raise(struct edu_dev *dev, uint32_t bits);
uint32_t edu_irq_status(struct edu_dev *dev);
void edu_irq_ack(struct edu_dev *dev, uint32_t bits);

/* Wall time the last completed transfer of @dev took, in nanoseconds. */
uint64_t edu_last_dma_ns(const struct edu_dev *dev);

#endif
