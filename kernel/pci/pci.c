/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ECAM configuration access (PCI Express Base spec, section 7.2.2: the function's 4 KiB at
 * base + bus << 20 + device << 15 + function << 12, the MCFG base naming bus 0; PCI Firmware spec
 * 3.2, section 4.1.2) and enumeration.
 */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"
#include "pci/pci.h"

struct window {
	struct ecam_window w;
	volatile uint8_t *virt;      /* mapping of bus start_bus; bus b is at virt + (b - start) << 20 */
	uint64_t visited[4];         /* buses already scanned by pci_enumerate() */
};

static struct window windows[PCI_MAX_WINDOWS];
static unsigned window_count;

unsigned pci_init(const struct ecam_window *w, unsigned count)
{
	window_count = 0;
	for (unsigned i = 0; i < count && window_count < PCI_MAX_WINDOWS; i++) {
		uint64_t first = w[i].base + ((uint64_t)w[i].start_bus << 20);
		uint64_t size = ((uint64_t)w[i].end_bus - w[i].start_bus + 1) << 20;
		volatile void *v = kernel_map_mmio(first, size);

		if (!v) {
			kprintf("pci: cannot map ECAM 0x%llx-0x%llx of segment %u: window ignored\n",
				(unsigned long long)first, (unsigned long long)(first + size - 1), w[i].segment);
			continue;
		}
		windows[window_count].w = w[i];
		windows[window_count].virt = v;
		moat_memset(windows[window_count].visited, 0, sizeof(windows[window_count].visited));
		window_count++;
	}
	return window_count;
}

static struct window *window_of(uint16_t seg, uint8_t bus)
{
	for (unsigned i = 0; i < window_count; i++) {
		if (windows[i].w.segment == seg && bus >= windows[i].w.start_bus && bus <= windows[i].w.end_bus)
			return &windows[i];
	}
	return NULL;
}

static volatile uint8_t *cfg_addr(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	struct window *w = window_of(seg, bus);

	if (!w || dev > 31 || fn > 7 || off > 0xfff)
		return NULL;
	return w->virt + ((uint64_t)(bus - w->w.start_bus) << 20) + ((uint64_t)dev << 15) + ((uint64_t)fn << 12) +
	       off;
}

uint32_t pci_read32(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	volatile uint8_t *p = cfg_addr(seg, bus, dev, fn, off & ~3u);

	return p ? *(volatile uint32_t *)p : PCI_NONE;
}

uint16_t pci_read16(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	volatile uint8_t *p = cfg_addr(seg, bus, dev, fn, off & ~1u);

	return p ? *(volatile uint16_t *)p : 0xffff;
}

uint8_t pci_read8(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
	volatile uint8_t *p = cfg_addr(seg, bus, dev, fn, off);

	return p ? *p : 0xff;
}

void pci_write32(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
	volatile uint8_t *p = cfg_addr(seg, bus, dev, fn, off & ~3u);

	if (p)
		*(volatile uint32_t *)p = v;
}

void pci_write16(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint16_t v)
{
	volatile uint8_t *p = cfg_addr(seg, bus, dev, fn, off & ~1u);

	if (p)
		*(volatile uint16_t *)p = v;
}

uint32_t pci_dev_read32(const struct pci_dev *d, uint16_t off)
{
	return pci_read32(d->segment, d->bus, d->dev, d->fn, off);
}

uint16_t pci_dev_read16(const struct pci_dev *d, uint16_t off)
{
	return pci_read16(d->segment, d->bus, d->dev, d->fn, off);
}

uint8_t pci_dev_read8(const struct pci_dev *d, uint16_t off)
{
	return pci_read8(d->segment, d->bus, d->dev, d->fn, off);
}

void pci_dev_write32(const struct pci_dev *d, uint16_t off, uint32_t v)
{
	pci_write32(d->segment, d->bus, d->dev, d->fn, off, v);
}

void pci_dev_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
	pci_write16(d->segment, d->bus, d->dev, d->fn, off, v);
}

uint32_t pci_cfg_read32(void *ctx, uint16_t segment, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset)
{
	(void)ctx;
	return pci_read32(segment, bus, dev, fn, offset);
}

/* ---- Enumeration ---- */

struct scan {
	struct pci_dev *out;
	unsigned cap;
	unsigned count;
};

static bool visited(struct window *w, uint8_t bus)
{
	return (w->visited[bus / 64] >> (bus % 64)) & 1u;
}

static void mark_visited(struct window *w, uint8_t bus)
{
	w->visited[bus / 64] |= 1ull << (bus % 64);
}

/* Requester id every device of a bus is seen by the IOMMU with, or PCI_NO_ALIAS. */
#define PCI_NO_ALIAS 0xffffffffu

static void scan_bus(struct scan *s, struct window *w, uint8_t bus, uint32_t alias);

/*
 * The requester id the devices below bridge @d reach the IOMMU with, when they do not use their own
 * (PCI Express to PCI/PCI-X Bridge spec 1.0, section 2.3; PCI Express Base spec, 2.2.6.2): a bus
 * below a PCIe-to-PCI/PCI-X bridge is conventional, and the bridge takes over its devices'
 * transactions with its secondary bus number and device/function 0; a conventional PCI-to-PCI
 * bridge (no PCI Express capability) forwards them with its own id. A bus below a root port or a
 * switch port is PCI Express: every device keeps its own id. An alias from further up wins.
 */
static uint32_t bridge_alias(const struct pci_dev *d, uint32_t inherited)
{
	uint8_t cap;

	if (inherited != PCI_NO_ALIAS)
		return inherited;
	cap = pci_find_cap(d, PCI_CAP_ID_EXP);
	if (!cap)
		return d->rid;
	if (((pci_dev_read16(d, (uint16_t)(cap + PCI_EXP_FLAGS)) >> 4) & 0xf) == PCI_EXP_TYPE_PCI_BRIDGE)
		return (uint32_t)d->secondary_bus << 8;
	return PCI_NO_ALIAS;
}

static void add_function(struct scan *s, struct window *w, uint8_t bus, uint8_t dev, uint8_t fn, uint32_t alias)
{
	uint16_t seg = w->w.segment;
	uint32_t id = pci_read32(seg, bus, dev, fn, PCI_VENDOR_ID);
	uint32_t cr = pci_read32(seg, bus, dev, fn, PCI_CLASS_REV);
	struct pci_dev d = {
		.segment = seg,
		.bus = bus,
		.dev = dev,
		.fn = fn,
		.vendor = (uint16_t)id,
		.device = (uint16_t)(id >> 16),
		.class_code = cr >> 8,
		.revision = (uint8_t)cr,
		.header_type = pci_read8(seg, bus, dev, fn, PCI_HEADER_TYPE) & 0x7f,
		.rid = (uint16_t)(bus << 8 | dev << 3 | fn),
	};

	d.dma_rid = alias != PCI_NO_ALIAS ? (uint16_t)alias : d.rid;

	if (seg)
		moat_snprintf(d.name, sizeof(d.name), "%04x:%02x:%02x.%u", seg, bus, dev, fn);
	else
		moat_snprintf(d.name, sizeof(d.name), "%02x:%02x.%u", bus, dev, fn);
	if (d.header_type == PCI_HEADER_BRIDGE) {
		d.secondary_bus = pci_read8(seg, bus, dev, fn, PCI_SECONDARY_BUS);
		d.subordinate_bus = pci_read8(seg, bus, dev, fn, PCI_SUBORDINATE_BUS);
	}
	if (s->count < s->cap)
		s->out[s->count] = d;
	s->count++;
	/* A configured bridge leads to a higher bus inside the same window. */
	if (d.header_type == PCI_HEADER_BRIDGE && d.secondary_bus > bus && d.secondary_bus <= w->w.end_bus)
		scan_bus(s, w, d.secondary_bus, bridge_alias(&d, alias));
}

static void scan_bus(struct scan *s, struct window *w, uint8_t bus, uint32_t alias)
{
	uint16_t seg = w->w.segment;

	if (visited(w, bus))
		return;
	mark_visited(w, bus);
	for (uint8_t dev = 0; dev < 32; dev++) {
		unsigned fns;

		if (pci_read16(seg, bus, dev, 0, PCI_VENDOR_ID) == 0xffff)
			continue;
		fns = (pci_read8(seg, bus, dev, 0, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION) ? 8 : 1;
		for (uint8_t fn = 0; fn < fns; fn++) {
			if (pci_read16(seg, bus, dev, fn, PCI_VENDOR_ID) != 0xffff)
				add_function(s, w, bus, dev, fn, alias);
		}
	}
}

static bool bus_has_devices(struct window *w, uint8_t bus)
{
	for (uint8_t dev = 0; dev < 32; dev++) {
		if (pci_read16(w->w.segment, bus, dev, 0, PCI_VENDOR_ID) != 0xffff)
			return true;
	}
	return false;
}

unsigned pci_enumerate(struct pci_dev *out, unsigned cap)
{
	struct scan s = { out, cap, 0 };

	for (unsigned i = 0; i < window_count; i++) {
		struct window *w = &windows[i];

		moat_memset(w->visited, 0, sizeof(w->visited));
		scan_bus(&s, w, w->w.start_bus, PCI_NO_ALIAS);
		/* Buses no bridge leads to but that answer: the roots of further host bridges. */
		for (unsigned bus = w->w.start_bus; bus <= w->w.end_bus; bus++) {
			if (!visited(w, (uint8_t)bus) && bus_has_devices(w, (uint8_t)bus))
				scan_bus(&s, w, (uint8_t)bus, PCI_NO_ALIAS);
		}
	}
	return s.count;
}

bool pci_bar_read(const struct pci_dev *d, unsigned index, struct pci_bar *bar)
{
	uint16_t off = (uint16_t)(PCI_BAR0 + 4 * index);
	unsigned max = d->header_type == PCI_HEADER_BRIDGE ? 2 : 6;
	uint32_t lo, hi = 0, size_lo, size_hi = 0xffffffffu;
	uint16_t cmd;

	moat_memset(bar, 0, sizeof(*bar));
	if (index >= max || d->header_type > PCI_HEADER_BRIDGE)
		return false;
	lo = pci_dev_read32(d, off);
	bar->is_io = lo & 1u;
	bar->is_64 = !bar->is_io && ((lo >> 1) & 3u) == 2u;
	bar->prefetchable = !bar->is_io && (lo & 8u);
	if (bar->is_64 && index + 1 >= max)
		return false;
	if (bar->is_64)
		hi = pci_dev_read32(d, (uint16_t)(off + 4));

	/* Size: all ones with decoding off, read back, restore (PCI Local Bus spec 3.0, 6.2.5.1). */
	cmd = pci_dev_read16(d, PCI_COMMAND);
	pci_dev_write16(d, PCI_COMMAND, (uint16_t)(cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY)));
	pci_dev_write32(d, off, 0xffffffffu);
	size_lo = pci_dev_read32(d, off);
	pci_dev_write32(d, off, lo);
	if (bar->is_64) {
		pci_dev_write32(d, (uint16_t)(off + 4), 0xffffffffu);
		size_hi = pci_dev_read32(d, (uint16_t)(off + 4));
		pci_dev_write32(d, (uint16_t)(off + 4), hi);
	}
	pci_dev_write16(d, PCI_COMMAND, cmd);

	if (bar->is_io) {
		uint32_t mask = size_lo & ~3u;

		bar->base = lo & ~3u;
		bar->size = mask ? (uint64_t)((~mask & 0xffffu) + 1) : 0;
	} else {
		uint64_t mask = ((uint64_t)size_hi << 32 | (size_lo & ~0xfu));

		if (!bar->is_64)
			mask |= 0xffffffff00000000ull;
		bar->base = ((uint64_t)hi << 32) | (lo & ~0xfu);
		bar->size = mask ? ~mask + 1 : 0;
	}
	return bar->size != 0;
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id)
{
	uint8_t off;

	if (!(pci_dev_read16(d, PCI_STATUS) & 0x10))   /* capabilities list present */
		return 0;
	off = pci_dev_read8(d, PCI_CAP_PTR) & 0xfc;
	/* At most 48 capabilities fit in the 192 bytes after the header: a loop bound. */
	for (unsigned n = 0; off >= 0x40 && n < 48; n++) {
		if (pci_dev_read8(d, off) == id)
			return off;
		off = pci_dev_read8(d, (uint16_t)(off + 1)) & 0xfc;
	}
	return 0;
}

const char *pci_class_name(uint32_t class_code)
{
	uint8_t base = (uint8_t)(class_code >> 16), sub = (uint8_t)(class_code >> 8);

	switch (base) {
	case 0x00:
		return "unclassified device";
	case 0x01:
		return sub == 0x06 ? "SATA controller" : sub == 0x08 ? "NVMe controller" : "storage controller";
	case 0x02:
		return "network controller";
	case 0x03:
		return "display controller";
	case 0x04:
		return "multimedia controller";
	case 0x05:
		return "memory controller";
	case 0x06:
		switch (sub) {
		case 0x00:
			return "host bridge";
		case 0x01:
			return "ISA bridge";
		case 0x04:
			return "PCI bridge";
		default:
			return "bridge";
		}
	case 0x07:
		return "communication controller";
	case 0x08:
		return sub == 0x06 ? "IOMMU" : "system peripheral";
	case 0x0c:
		return sub == 0x03 ? "USB controller" : sub == 0x05 ? "SMBus controller" : "serial bus controller";
	case 0xff:
		return "vendor-specific device";
	default:
		return "device";
	}
}
