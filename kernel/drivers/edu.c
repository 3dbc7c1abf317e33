/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The edu device's registers (BAR0, from QEMU's docs/specs/edu.rst): 0x00 identification
 * (0xRRrr00ed: major, minor), 0x04 liveness check (reads back the bitwise inverse of what was
 * written), 0x80 DMA source address, 0x88 destination, 0x90 count, 0x98 command (bit 0 start and
 * busy, bit 1 direction: 1 = from the device buffer to RAM, bit 2 interrupt on completion), 0x24
 * interrupt status, 0x60 interrupt raise (the bits written are set in the status and the device
 * signals), 0x64 interrupt acknowledge (the bits written are cleared). The
 * registers from 0x80 take 4- or 8-byte accesses; 8-byte ones are used so that both halves of an
 * address change together. The buffer is at device address 0x40000.
 */
#include <moat/internal/lib.h>
#include <moat/platform.h>

#include "arch/cpu.h"
#include "drivers/edu.h"
#include "kernel.h"
#include "mm/mm.h"

#define EDU_REG_ID       0x00
#define EDU_REG_LIVENESS 0x04
#define EDU_REG_IRQ_STATUS 0x24
#define EDU_REG_IRQ_RAISE  0x60
#define EDU_REG_IRQ_ACK    0x64
#define EDU_REG_DMA_SRC  0x80
#define EDU_REG_DMA_DST  0x88
#define EDU_REG_DMA_CNT  0x90
#define EDU_REG_DMA_CMD  0x98
#define  EDU_CMD_START   0x1u
#define  EDU_CMD_TO_RAM  0x2u
#define EDU_BUFFER_ADDR  0x40000u
#define EDU_ID_MAGIC     0xed

static uint64_t last_dma_ns[EDU_MAX_DEVICES];

static bool edu_alive(struct edu_dev *e)
{
	const uint32_t probe = 0x5a0f3c96u;

	moat_plat_mmio_write32(e->regs + EDU_REG_LIVENESS, probe);
	return moat_plat_mmio_read32(e->regs + EDU_REG_LIVENESS) == ~probe;
}

static bool probe_one(const struct pci_dev *d, struct edu_dev *e)
{
	struct pci_bar bar;
	uint16_t cmd;

	if (!pci_bar_read(d, 0, &bar) || bar.is_io || !bar.base) {
		kprintf("edu %s: BAR0 is not an assigned memory BAR: device ignored\n", d->name);
		return false;
	}
	e->pci = d;
	e->bar_phys = bar.base;
	e->bar_size = bar.size;
	e->regs = (volatile uint8_t *)kernel_map_mmio(bar.base, bar.size);
	if (!e->regs) {
		kprintf("edu %s: BAR0 0x%llx (%llu bytes) cannot be mapped: device ignored\n", d->name,
			(unsigned long long)bar.base, (unsigned long long)bar.size);
		return false;
	}
	/* Memory decoding for the registers, bus mastering for its DMA (firmware leaves it off). */
	cmd = pci_dev_read16(d, PCI_COMMAND);
	pci_dev_write16(d, PCI_COMMAND, (uint16_t)(cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER));
	if (!(pci_dev_read16(d, PCI_COMMAND) & PCI_COMMAND_MASTER)) {
		kprintf("edu %s: bus mastering does not stay enabled: device ignored\n", d->name);
		return false;
	}
	e->version = moat_plat_mmio_read32(e->regs + EDU_REG_ID);
	if ((e->version & 0xff) != EDU_ID_MAGIC || !edu_alive(e)) {
		kprintf("edu %s: does not answer (identification 0x%08x): device ignored\n", d->name, e->version);
		return false;
	}
	e->has_msi = pci_msi_find(d, &e->msi);
	/* No interrupt left over from an earlier user: status clear, MSI off. */
	if (e->has_msi)
		pci_msi_disable(&e->msi);
	edu_irq_ack(e, edu_irq_status(e));
	return true;
}

unsigned edu_probe_all(const struct pci_dev *devs, unsigned ndevs, struct edu_dev *out, unsigned cap)
{
	unsigned n = 0;

	cap = MOAT_MIN(cap, (unsigned)EDU_MAX_DEVICES);
	for (unsigned i = 0; i < ndevs; i++) {
		if (devs[i].vendor != EDU_VENDOR_ID || devs[i].device != EDU_DEVICE_ID)
			continue;
		if (n == cap) {
			kprintf("edu %s: more than %u edu devices: ignored\n", devs[i].name, cap);
			continue;
		}
		moat_memset(&out[n], 0, sizeof(out[n]));
		if (probe_one(&devs[i], &out[n])) {
			out[n].index = n;
			n++;
		}
	}
	return n;
}

static bool busy(struct edu_dev *dev)
{
	return moat_plat_mmio_read64(dev->regs + EDU_REG_DMA_CMD) & EDU_CMD_START;
}

static bool wait_idle(struct edu_dev *dev, uint64_t timeout_ns)
{
	uint64_t start = moat_plat_time_ns();

	while (busy(dev)) {
		if (moat_plat_time_ns() - start > timeout_ns)
			return false;
		cpu_pause();
	}
	return true;
}

moat_status edu_dma(struct edu_dev *dev, enum edu_dir dir, uint64_t iova, uint32_t buf_offset, uint32_t len,
		    uint64_t timeout_ns)
{
	uint64_t start, dev_addr = EDU_BUFFER_ADDR + buf_offset;

	/* Out of range, QEMU's model stops the whole machine (see edu.h): never ask for that. */
	if (!len || len > EDU_DMA_MAX || buf_offset > EDU_DMA_MAX - len)
		return MOAT_ERR_INVALID_ARG;
	if (busy(dev))
		return MOAT_ERR_BUSY;
	moat_plat_mmio_write64(dev->regs + EDU_REG_DMA_SRC, dir == EDU_TO_DEVICE ? iova : dev_addr);
	moat_plat_mmio_write64(dev->regs + EDU_REG_DMA_DST, dir == EDU_TO_DEVICE ? dev_addr : iova);
	moat_plat_mmio_write64(dev->regs + EDU_REG_DMA_CNT, len);
	/* Whatever the CPU wrote to the page must be in memory before the device reads it. */
	moat_plat_mb();
	start = moat_plat_time_ns();
	moat_plat_mmio_write64(dev->regs + EDU_REG_DMA_CMD,
			       EDU_CMD_START | (dir == EDU_FROM_DEVICE ? EDU_CMD_TO_RAM : 0));
	if (!wait_idle(dev, timeout_ns))
		return MOAT_ERR_TIMEOUT;
	moat_plat_mb();
	if (dev->index < EDU_MAX_DEVICES)
		last_dma_ns[dev->index] = moat_plat_time_ns() - start;
	return MOAT_OK;
}

moat_status edu_dma_to_device(struct edu_dev *dev, uint64_t iova, uint32_t len)
{
	return edu_dma(dev, EDU_TO_DEVICE, iova, 0, len, EDU_DMA_TIMEOUT_NS);
}

moat_status edu_dma_from_device(struct edu_dev *dev, uint64_t iova, uint32_t len)
{
	return edu_dma(dev, EDU_FROM_DEVICE, iova, 0, len, EDU_DMA_TIMEOUT_NS);
}

moat_status edu_msi_on(struct edu_dev *dev, uint64_t address, uint32_t data)
{
	moat_status st;

	if (!dev->has_msi)
		return MOAT_ERR_UNSUPPORTED;
	pci_msi_disable(&dev->msi);
	st = pci_msi_program(&dev->msi, address, data);
	if (st != MOAT_OK)
		return st;
	pci_msi_enable(&dev->msi);
	return MOAT_OK;
}

void edu_msi_off(struct edu_dev *dev)
{
	if (dev->has_msi)
		pci_msi_disable(&dev->msi);
}

void edu_irq_raise(struct edu_dev *dev, uint32_t bits)
{
	moat_plat_mmio_write32(dev->regs + EDU_REG_IRQ_RAISE, bits);
}

uint32_t edu_irq_status(struct edu_dev *dev)
{
	return moat_plat_mmio_read32(dev->regs + EDU_REG_IRQ_STATUS);
}

void edu_irq_ack(struct edu_dev *dev, uint32_t bits)
{
	moat_plat_mmio_write32(dev->regs + EDU_REG_IRQ_ACK, bits);
}

uint64_t edu_last_dma_ns(const struct edu_dev *dev)
{
	return dev->index < EDU_MAX_DEVICES ? last_dma_ns[dev->index] : 0;
}
