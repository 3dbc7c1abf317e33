/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A PCI function's message-signalled interrupts: MSI (one capability, one address, one data value)
 * and MSI-X (a table of address/data/mask entries in a BAR). The helpers write the address and data
 * they are given, as they are: a compatibility-format message from msi_compat() (arch/apic.h), or
 * a remappable one an interrupt remapping unit defines.
 */
#ifndef KERNEL_PCI_MSI_H
#define KERNEL_PCI_MSI_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/status.h>

#include "pci/pci.h"

#define PCI_CAP_ID_MSI  0x05
#define PCI_CAP_ID_MSIX 0x11
#define PCI_COMMAND_INTX_DISABLE 0x0400

/* The MSI capability of a function (PCI Local Bus spec 3.0, section 6.8.1). */
struct pci_msi {
	const struct pci_dev *dev;
	uint8_t cap;            /* offset of the capability */
	bool is64;              /* 64-bit message address */
	bool maskable;          /* per-vector mask and pending bits */
	unsigned vectors;       /* how many it can ask for (multiple message capable) */
};

/* pci_msi_find() - @d's MSI capability in @out; false when it has none. */
bool pci_msi_find(const struct pci_dev *d, struct pci_msi *out);

/*
 * pci_msi_program() - write @address and @data to the capability, with MSI disabled (a function
 * with MSI enabled may send at any moment, and the halves of the message are written one at a
 * time). Returns MOAT_OK; MOAT_ERR_BUSY when MSI is enabled (nothing written; pci_msi_disable()
 * first); MOAT_ERR_INVALID_ARG when @address needs 64 bits and the capability has 32, or @data
 * does not fit its 16 bits.
 */
moat_status pci_msi_program(const struct pci_msi *m, uint64_t address, uint32_t data);

/* pci_msi_read() - the address and data the capability holds. */
void pci_msi_read(const struct pci_msi *m, uint64_t *address, uint32_t *data);

/*
 * pci_msi_enable() - one vector, MSI enabled, INTx disabled in the command register (a function
 * with MSI enabled must not use INTx; setting the bit also keeps a function that falls back to INTx
 * quiet). pci_msi_disable() - MSI disabled, INTx enabled again.
 */
void pci_msi_enable(const struct pci_msi *m);
void pci_msi_disable(const struct pci_msi *m);
bool pci_msi_enabled(const struct pci_msi *m);

/* The MSI-X capability of a function (PCI Local Bus spec 3.0, section 6.8.2). */
struct pci_msix {
	const struct pci_dev *dev;
	uint8_t cap;
	unsigned entries;             /* table size */
	uint8_t table_bar;
	uint32_t table_offset;
	volatile uint8_t *table;      /* the table, mapped uncached */
	volatile uint8_t *pba;        /* the pending bit array, mapped uncached */
};

/*
 * pci_msix_find() - @d's MSI-X capability in @out, its table and pending bit array mapped (memory
 * decoding enabled). False when it has none or either cannot be reached (printed).
 */
bool pci_msix_find(const struct pci_dev *d, struct pci_msix *out);

/*
 * pci_msix_program() - write @address and @data to table entry @entry, the entry masked while it
 * changes and left masked (pci_msix_mask() unmasks it). MOAT_ERR_INVALID_ARG when @entry is past
 * the table.
 */
moat_status pci_msix_program(const struct pci_msix *m, unsigned entry, uint64_t address, uint32_t data);

/* pci_msix_read() - the address and data entry @entry holds (zeros past the table). */
void pci_msix_read(const struct pci_msix *m, unsigned entry, uint64_t *address, uint32_t *data);

/* pci_msix_mask() - set or clear entry @entry's mask bit. MOAT_ERR_INVALID_ARG past the table. */
moat_status pci_msix_mask(const struct pci_msix *m, unsigned entry, bool masked);

/* pci_msix_pending() - entry @entry's pending bit: a message held back by its mask (false past the table). */
bool pci_msix_pending(const struct pci_msix *m, unsigned entry);

/*
 * pci_msix_enable() - MSI-X on (every entry as programmed), INTx disabled; pci_msix_disable() -
 * off, INTx enabled again.
 */
void pci_msix_enable(const struct pci_msix *m);
void pci_msix_disable(const struct pci_msix *m);

#endif
