/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * MSI and MSI-X. MSI capability (PCI Local Bus spec 3.0, section 6.8.1): message control at 2 (bit 0
 * enable, bits 3:1 multiple message capable, 6:4 multiple message enable, bit 7 64-bit address, bit
 * 8 per-vector masking), the address at 4, then either the upper address at 8 and the data at 12
 * (64-bit) or the data at 8; the mask bits follow the data (at 16 or 12). MSI-X capability (section
 * 6.8.2): message control at 2 (table size - 1 in bits 10:0, function mask bit 14, enable bit 15),
 * table offset and BIR at 4 (BIR in bits 2:0), pending bit array offset and BIR at 8; each table
 * entry is 16 bytes: address low, address high, data, vector control (mask in bit 0); the pending
 * bit array has one bit per entry, in qwords.
 */
#include <moat/internal/lib.h>
#include <moat/platform.h>

#include "kernel.h"
#include "mm/mm.h"
#include "pci/msi.h"

#define MSI_CTRL          2
#define  MSI_CTRL_ENABLE  0x0001u
#define  MSI_CTRL_MMC(c)  (((c) >> 1) & 7u)
#define  MSI_CTRL_MME     0x0070u
#define  MSI_CTRL_64      0x0080u
#define  MSI_CTRL_MASKABLE 0x0100u
#define MSI_ADDR_LO       4
#define MSI_ADDR_HI       8
#define MSI_DATA_32       8
#define MSI_DATA_64       12

#define MSIX_CTRL         2
#define  MSIX_CTRL_SIZE(c) (((c) & 0x7ffu) + 1)
#define  MSIX_CTRL_FMASK  0x4000u
#define  MSIX_CTRL_ENABLE 0x8000u
#define MSIX_TABLE        4
#define MSIX_PBA          8
#define  MSIX_BIR(v)      ((v) & 7u)
#define  MSIX_OFFSET(v)   ((v) & ~7u)
#define MSIX_ENTRY_SIZE   16u
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 4
#define MSIX_ENTRY_DATA    8
#define MSIX_ENTRY_CTRL    12
#define  MSIX_ENTRY_MASKED 0x1u

static uint16_t ctrl(const struct pci_msi *m)
{
	return pci_dev_read16(m->dev, (uint16_t)(m->cap + MSI_CTRL));
}

bool pci_msi_find(const struct pci_dev *d, struct pci_msi *out)
{
	uint8_t cap = pci_find_cap(d, PCI_CAP_ID_MSI);
	uint16_t c;

	moat_memset(out, 0, sizeof(*out));
	if (!cap)
		return false;
	out->dev = d;
	out->cap = cap;
	c = pci_dev_read16(d, (uint16_t)(cap + MSI_CTRL));
	out->is64 = c & MSI_CTRL_64;
	out->maskable = c & MSI_CTRL_MASKABLE;
	out->vectors = 1u << MOAT_MIN(MSI_CTRL_MMC(c), 5u);
	return true;
}

bool pci_msi_enabled(const struct pci_msi *m)
{
	return ctrl(m) & MSI_CTRL_ENABLE;
}

moat_status pci_msi_program(const struct pci_msi *m, uint64_t address, uint32_t data)
{
	if (pci_msi_enabled(m))
		return MOAT_ERR_BUSY;
	if ((!m->is64 && address >> 32) || data > 0xffffu || (address & 3u))
		return MOAT_ERR_INVALID_ARG;
	pci_dev_write32(m->dev, (uint16_t)(m->cap + MSI_ADDR_LO), (uint32_t)address);
	if (m->is64) {
		pci_dev_write32(m->dev, (uint16_t)(m->cap + MSI_ADDR_HI), (uint32_t)(address >> 32));
		pci_dev_write16(m->dev, (uint16_t)(m->cap + MSI_DATA_64), (uint16_t)data);
	} else {
		pci_dev_write16(m->dev, (uint16_t)(m->cap + MSI_DATA_32), (uint16_t)data);
	}
	return MOAT_OK;
}

void pci_msi_read(const struct pci_msi *m, uint64_t *address, uint32_t *data)
{
	*address = pci_dev_read32(m->dev, (uint16_t)(m->cap + MSI_ADDR_LO));
	if (m->is64) {
		*address |= (uint64_t)pci_dev_read32(m->dev, (uint16_t)(m->cap + MSI_ADDR_HI)) << 32;
		*data = pci_dev_read16(m->dev, (uint16_t)(m->cap + MSI_DATA_64));
	} else {
		*data = pci_dev_read16(m->dev, (uint16_t)(m->cap + MSI_DATA_32));
	}
}

static void intx(const struct pci_dev *d, bool on)
{
	uint16_t cmd = pci_dev_read16(d, PCI_COMMAND);

	cmd = on ? (uint16_t)(cmd & ~PCI_COMMAND_INTX_DISABLE) : (uint16_t)(cmd | PCI_COMMAND_INTX_DISABLE);
	pci_dev_write16(d, PCI_COMMAND, cmd);
}

void pci_msi_enable(const struct pci_msi *m)
{
	intx(m->dev, false);
	/* Multiple message enable 0: one vector. */
	pci_dev_write16(m->dev, (uint16_t)(m->cap + MSI_CTRL), (uint16_t)((ctrl(m) & ~MSI_CTRL_MME) | MSI_CTRL_ENABLE));
}

void pci_msi_disable(const struct pci_msi *m)
{
	pci_dev_write16(m->dev, (uint16_t)(m->cap + MSI_CTRL), (uint16_t)(ctrl(m) & ~MSI_CTRL_ENABLE));
	intx(m->dev, true);
}

/* ---- MSI-X ---- */

/* @bytes at the offset and BIR of the capability dword at @reg, mapped; NULL (printed) when not inside a BAR. */
static volatile uint8_t *map_in_bar(const struct pci_dev *d, uint8_t cap, unsigned reg, uint64_t bytes,
				    const char *what)
{
	uint32_t t = pci_dev_read32(d, (uint16_t)(cap + reg));
	unsigned bir = MSIX_BIR(t);
	uint64_t offset = MSIX_OFFSET(t);
	struct pci_bar bar;
	volatile uint8_t *p;

	if (!pci_bar_read(d, bir, &bar) || bar.is_io || !bar.base || offset > bar.size || bytes > bar.size - offset) {
		kprintf("%s: MSI-X %s (BAR%u + 0x%llx, %llu bytes) is not inside an assigned memory BAR\n", d->name,
			what, bir, (unsigned long long)offset, (unsigned long long)bytes);
		return NULL;
	}
	p = kernel_map_mmio(bar.base + offset, bytes);
	if (!p)
		kprintf("%s: MSI-X %s at 0x%llx cannot be mapped\n", d->name, what,
			(unsigned long long)(bar.base + offset));
	return p;
}

bool pci_msix_find(const struct pci_dev *d, struct pci_msix *out)
{
	uint8_t cap = pci_find_cap(d, PCI_CAP_ID_MSIX);
	uint32_t t;

	moat_memset(out, 0, sizeof(*out));
	if (!cap)
		return false;
	out->dev = d;
	out->cap = cap;
	out->entries = MSIX_CTRL_SIZE(pci_dev_read16(d, (uint16_t)(cap + MSIX_CTRL)));
	t = pci_dev_read32(d, (uint16_t)(cap + MSIX_TABLE));
	out->table_bar = (uint8_t)MSIX_BIR(t);
	out->table_offset = MSIX_OFFSET(t);
	out->table = map_in_bar(d, cap, MSIX_TABLE, (uint64_t)out->entries * MSIX_ENTRY_SIZE, "table");
	out->pba = map_in_bar(d, cap, MSIX_PBA, ((uint64_t)out->entries + 63) / 64 * 8, "pending bit array");
	if (!out->table || !out->pba)
		return false;
	pci_dev_write16(d, PCI_COMMAND, (uint16_t)(pci_dev_read16(d, PCI_COMMAND) | PCI_COMMAND_MEMORY));
	return true;
}

static volatile uint8_t *entry_at(const struct pci_msix *m, unsigned entry)
{
	return m->table + (uint64_t)entry * MSIX_ENTRY_SIZE;
}

moat_status pci_msix_mask(const struct pci_msix *m, unsigned entry, bool masked)
{
	volatile uint8_t *e;
	uint32_t c;

	if (entry >= m->entries)
		return MOAT_ERR_INVALID_ARG;
	e = entry_at(m, entry);
	c = moat_plat_mmio_read32(e + MSIX_ENTRY_CTRL);
	moat_plat_mmio_write32(e + MSIX_ENTRY_CTRL, masked ? c | MSIX_ENTRY_MASKED : c & ~MSIX_ENTRY_MASKED);
	return MOAT_OK;
}

void pci_msix_read(const struct pci_msix *m, unsigned entry, uint64_t *address, uint32_t *data)
{
	volatile uint8_t *e;

	*address = 0;
	*data = 0;
	if (entry >= m->entries)
		return;
	e = entry_at(m, entry);
	*address = (uint64_t)moat_plat_mmio_read32(e + MSIX_ENTRY_ADDR_HI) << 32 |
		   moat_plat_mmio_read32(e + MSIX_ENTRY_ADDR_LO);
	*data = moat_plat_mmio_read32(e + MSIX_ENTRY_DATA);
}

bool pci_msix_pending(const struct pci_msix *m, unsigned entry)
{
	if (entry >= m->entries)
		return false;
	return (moat_plat_mmio_read64(m->pba + 8u * (entry / 64)) >> (entry % 64)) & 1u;
}

moat_status pci_msix_program(const struct pci_msix *m, unsigned entry, uint64_t address, uint32_t data)
{
	volatile uint8_t *e;

	if (entry >= m->entries || (address & 3u))
		return MOAT_ERR_INVALID_ARG;
	e = entry_at(m, entry);
	pci_msix_mask(m, entry, true);
	moat_plat_mmio_write32(e + MSIX_ENTRY_ADDR_LO, (uint32_t)address);
	moat_plat_mmio_write32(e + MSIX_ENTRY_ADDR_HI, (uint32_t)(address >> 32));
	moat_plat_mmio_write32(e + MSIX_ENTRY_DATA, data);
	return MOAT_OK;
}

void pci_msix_enable(const struct pci_msix *m)
{
	uint16_t c = pci_dev_read16(m->dev, (uint16_t)(m->cap + MSIX_CTRL));

	intx(m->dev, false);
	pci_dev_write16(m->dev, (uint16_t)(m->cap + MSIX_CTRL), (uint16_t)((c & ~MSIX_CTRL_FMASK) | MSIX_CTRL_ENABLE));
}

void pci_msix_disable(const struct pci_msix *m)
{
	uint16_t c = pci_dev_read16(m->dev, (uint16_t)(m->cap + MSIX_CTRL));

	pci_dev_write16(m->dev, (uint16_t)(m->cap + MSIX_CTRL), (uint16_t)(c & ~MSIX_CTRL_ENABLE));
	intx(m->dev, true);
}
