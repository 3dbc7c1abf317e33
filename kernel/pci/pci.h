/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PCI Express configuration space through ECAM (the MCFG's windows) and enumeration of the devices
 * behind every host bridge the MCFG covers.
 */
#ifndef KERNEL_PCI_H
#define KERNEL_PCI_H

#include <stdbool.h>
#include <stdint.h>

/* One MCFG allocation: ECAM for buses start_bus..end_bus of @segment; @base is the address of bus 0. */
struct ecam_window {
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus;
	uint8_t end_bus;
};

#define PCI_MAX_WINDOWS 16
#define PCI_MAX_DEVICES 256

#define PCI_NONE 0xffffffffu

/* Configuration header offsets (PCI Local Bus spec 3.0, section 6.1; bridges: PCI-to-PCI Bridge spec 1.2) */
#define PCI_VENDOR_ID   0x00
#define PCI_DEVICE_ID   0x02
#define PCI_COMMAND     0x04
#define  PCI_COMMAND_IO     0x0001
#define  PCI_COMMAND_MEMORY 0x0002
#define  PCI_COMMAND_MASTER 0x0004
#define PCI_STATUS      0x06
#define PCI_CLASS_REV   0x08
#define PCI_HEADER_TYPE 0x0e
#define  PCI_HEADER_MULTIFUNCTION 0x80
#define  PCI_HEADER_BRIDGE 0x01
#define PCI_BAR0        0x10
#define PCI_CAP_PTR     0x34
#define PCI_SECONDARY_BUS   0x19
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_CAP_ID_EXP  0x10          /* PCI Express capability (PCIe Base spec 7.5.3) */
#define  PCI_EXP_FLAGS  0x02          /* capabilities register: device/port type in bits 7:4 */
#define  PCI_EXP_TYPE_PCI_BRIDGE 0x7  /* PCI Express to PCI/PCI-X bridge */

struct pci_dev {
	uint16_t segment;
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint32_t class_code;     /* base class << 16 | subclass << 8 | programming interface */
	uint8_t revision;
	uint8_t header_type;     /* without the multi-function bit */
	uint8_t secondary_bus, subordinate_bus;  /* bridges only */
	uint16_t rid;            /* requester id: bus << 8 | dev << 3 | fn */
	uint16_t dma_rid;        /* the requester id its DMA reaches the IOMMU with: rid, or the alias a
				    bridge above it substitutes (see pci_enumerate()) */
	char name[16];           /* "0000:00:02.0", or "00:02.0" in segment 0 */
};

/*
 * pci_init() - use the @count ECAM windows at @w (from the MCFG). Each window is mapped uncached.
 * Returns the number of windows in use (a window that cannot be mapped is reported and dropped).
 */
unsigned pci_init(const struct ecam_window *w, unsigned count);

/* Configuration reads and writes: PCI_NONE (or all ones) when no window covers the device. */
uint32_t pci_read32(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
uint16_t pci_read16(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
uint8_t pci_read8(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
void pci_write32(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v);
void pci_write16(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint16_t v);

/* The same for a found device. */
uint32_t pci_dev_read32(const struct pci_dev *d, uint16_t off);
uint16_t pci_dev_read16(const struct pci_dev *d, uint16_t off);
uint8_t pci_dev_read8(const struct pci_dev *d, uint16_t off);
void pci_dev_write32(const struct pci_dev *d, uint16_t off, uint32_t v);
void pci_dev_write16(const struct pci_dev *d, uint16_t off, uint16_t v);

/*
 * pci_cfg_read32() - a moat_pci_cfg_read32_fn (moat/acpi.h): the dword at @offset (rounded down to
 * 4) of segment:bus:dev.fn, or 0xffffffff when no window covers it or no device answers. @ctx unused.
 */
uint32_t pci_cfg_read32(void *ctx, uint16_t segment, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset);

/*
 * pci_enumerate() - find every function under every window: from each window's first bus, through
 * bridges, then any other bus of the window that has devices (further host bridges). Fills up to
 * @cap devices in @out in the order found; returns how many were found (may exceed @cap).
 * Each device's dma_rid says which requester id an IOMMU sees its DMA with: below a PCIe-to-PCI
 * bridge, the bridge's secondary bus with device/function 0; below a conventional PCI-to-PCI
 * bridge, the bridge's own id; else its own. Attach that id to a domain, not rid.
 */
unsigned pci_enumerate(struct pci_dev *out, unsigned cap);

/* A memory BAR: address and size (sized by writing all ones with decoding off). */
struct pci_bar {
	uint64_t base;
	uint64_t size;
	bool is_io;
	bool is_64;
	bool prefetchable;
};

/* pci_bar_read() - BAR @index (0..5) of @d; false when the device has no such BAR. */
bool pci_bar_read(const struct pci_dev *d, unsigned index, struct pci_bar *bar);

/* A short name for a class code ("host bridge", "PCI bridge", "SATA controller", ...). */
const char *pci_class_name(uint32_t class_code);

/* pci_find_cap() - offset of capability @id in @d's capability list, or 0 when absent. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id);

#endif
