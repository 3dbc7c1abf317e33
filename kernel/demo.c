/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The narrated demo, for someone who has never heard of an IOMMU: what the machine has (memory,
 * devices, IOMMU units and what they cover), then a device's DMA shown byte by byte, with the IOMMU
 * off, as it is after every boot.
 */
#include <moat/internal/lib.h>

#include "demo.h"
#include "drivers/iommu_regs.h"
#include "kernel.h"
#include "mm/mm.h"
#include "scenarios/scenario.h"

#define FOUR_GIB (1ull << 32)
#define SHOW_BYTES 16

static void heading(const char *title)
{
	kprintf("\n== %s ==\n\n", title);
}

static void show_bytes(const char *label, const uint8_t *p)
{
	kprintf("    %-30s", label);
	for (unsigned i = 0; i < SHOW_BYTES; i++)
		kprintf(" %02x", p[i]);
	kputs(" ...\n");
}

static const char *edu_or_class(const struct pci_dev *d)
{
	if (d->vendor == EDU_VENDOR_ID && d->device == EDU_DEVICE_ID)
		return "edu: QEMU's teaching device, a small DMA engine";
	return pci_class_name(d->class_code);
}

static void tell_memory(const struct kernel_system *sys)
{
	const struct kernel_mem_region *map;
	const struct kernel_range *ranges;
	unsigned n;
	char a[32];

	heading("1. Memory");
	kputs("The firmware hands the kernel a map of the physical address space. In plain words:\n\n");
	map = kernel_memory_map(&n);
	for (unsigned i = 0; i < n; i++) {
		kprintf("  0x%010llx-0x%010llx  %-10s %s\n", (unsigned long long)map[i].base,
			(unsigned long long)(map[i].base + map[i].length - 1), ksize_str(map[i].length, a, sizeof(a)),
			memmap_type_words(map[i].type));
	}
	kprintf("\n  That is %s of RAM", ksize_str(memmap_ram_bytes(), a, sizeof(a)));
	if (memmap_ram_bytes_above(FOUR_GIB))
		kprintf(", %s of it above the 4 GiB line", ksize_str(memmap_ram_bytes_above(FOUR_GIB), a, sizeof(a)));
	kputs(".\n  The gaps between regions hold device registers, not memory.\n\n");
	kputs("  The kernel keeps some of that RAM for itself: memory no device should ever be able to write.\n\n");
	ranges = kernel_protected_ranges(&n);
	for (unsigned i = 0; i < n; i++)
		kprintf("  0x%010llx-0x%010llx  %-10s %s\n", (unsigned long long)ranges[i].base,
			(unsigned long long)(ranges[i].base + ranges[i].size - 1),
			ksize_str(ranges[i].size, a, sizeof(a)), ranges[i].what);
	(void)sys;
}

static void tell_devices(const struct kernel_system *sys)
{
	heading("2. Devices");
	kprintf("The PCI bus holds %u device function(s), found by reading the configuration space the\n"
		"firmware's MCFG table points to:\n\n", sys->pci_count);
	for (unsigned i = 0; i < sys->pci_count; i++)
		kprintf("  %-8s %04x:%04x  %s\n", sys->pci[i].name, sys->pci[i].vendor, sys->pci[i].device,
			edu_or_class(&sys->pci[i]));
	kputs("\nAny device that can master the bus reads and writes memory on its own, by DMA (direct memory\n"
	      "access): the CPU is not asked. That is how disks and network cards move data quickly, and how a\n"
	      "faulty or hostile device could read secrets or overwrite the kernel.\n");
}

static void tell_iommu(const struct kernel_system *sys)
{
	const struct fw_iommu_table *t = firmware_iommu(&sys->fw);
	const struct moat_sysdesc *d;

	heading("3. The IOMMU");
	kputs("An IOMMU sits between the devices and memory. Once programmed, it translates every address a\n"
	      "device uses, through tables the kernel writes, so each device reaches only the pages it was given,\n"
	      "the way the CPU's MMU confines a program. The firmware says where the IOMMUs are and which devices\n"
	      "each one handles.\n\n");
	if (!t) {
		kputs("  This machine's firmware describes no IOMMU (no DMAR or IVRS table).\n");
		return;
	}
	if (t->status != MOAT_OK) {
		char msg[200];

		kprintf("  The firmware's %s table could not be read: %s\n", t == &sys->fw.dmar ? "DMAR" : "IVRS",
			moat_diag_format(&t->diag, msg, sizeof(msg)));
		return;
	}
	d = &t->desc;
	kprintf("  The firmware's %s table describes %u %s unit(s):\n\n", t == &sys->fw.dmar ? "DMAR" : "IVRS",
		d->units_count, firmware_vendor_name(d->vendor));
	for (uint32_t u = 0; u < MOAT_MIN(d->units_count, d->units_cap); u++) {
		struct iommu_regs_info info;

		iommu_regs_probe(&d->units[u], &info);
		kprintf("  unit %u, registers at 0x%llx: %s\n", u, (unsigned long long)d->units[u].register_base,
			info.answered ? info.summary : info.problem);
	}
	kputs("\n  Who is handled by which unit:\n");
	for (unsigned i = 0; i < sys->pci_count; i++) {
		const struct pci_dev *p = &sys->pci[i];
		int u = firmware_unit_covering(t, p->segment, p->rid, NULL);

		if (u >= 0)
			kprintf("    %-8s %-48s unit %d\n", p->name, edu_or_class(p), u);
		else
			kprintf("    %-8s %-48s no unit\n", p->name, edu_or_class(p));
	}
	for (uint32_t i = 0; i < MOAT_MIN(d->specials_count, d->specials_cap); i++) {
		const struct moat_special_desc *s = &d->specials[i];

		kprintf("    %s %u (interrupt source)%*s unit %u\n",
			s->kind == MOAT_SPECIAL_IOAPIC ? "I/O APIC" : s->kind == MOAT_SPECIAL_HPET ? "HPET" : "ACPI dev",
			s->id, 33, "", s->unit);
	}
}

/* A page round trip through @dev, narrated. Returns false if it did not work. */
static bool show_round_trip(struct edu_dev *dev)
{
	uint8_t *src = kpage_alloc(0, FOUR_GIB, false), *dst = kpage_alloc(0, FOUR_GIB, false);
	size_t first = 0, diff;
	uint8_t got = 0, want = 0;
	char label[64];
	bool ok = false;

	if (!src || !dst) {
		kputs("  (no free page for the demonstration)\n");
		goto out;
	}
	pattern_fill(src, MOAT_PAGE_SIZE, 0xd3c0u);
	pattern_fill(dst, MOAT_PAGE_SIZE, 0x0u);
	kprintf("  The kernel fills a page at 0x%llx with a pattern, and another at 0x%llx with something else.\n"
		"  Then it asks edu %s to copy the first page into its own buffer, and its buffer into the\n"
		"  second page. Only physical addresses are handed to the device.\n\n",
		(unsigned long long)kvirt_to_phys(src), (unsigned long long)kvirt_to_phys(dst), dev->pci->name);
	moat_snprintf(label, sizeof(label), "page 0x%llx holds:", (unsigned long long)kvirt_to_phys(src));
	show_bytes(label, src);
	moat_snprintf(label, sizeof(label), "page 0x%llx holds:", (unsigned long long)kvirt_to_phys(dst));
	show_bytes(label, dst);
	if (edu_dma_to_device(dev, kvirt_to_phys(src), DMA_TEST_LEN) != MOAT_OK) {
		kputs("  The device did not finish its read in time.\n");
		goto out;
	}
	kprintf("    the device read %u bytes in %llu ms\n", DMA_TEST_LEN,
		(unsigned long long)(edu_last_dma_ns(dev) / 1000000));
	if (edu_dma_from_device(dev, kvirt_to_phys(dst), DMA_TEST_LEN) != MOAT_OK) {
		kputs("  The device did not finish its write in time.\n");
		goto out;
	}
	kprintf("    the device wrote %u bytes in %llu ms\n", DMA_TEST_LEN,
		(unsigned long long)(edu_last_dma_ns(dev) / 1000000));
	moat_snprintf(label, sizeof(label), "page 0x%llx now holds:", (unsigned long long)kvirt_to_phys(dst));
	show_bytes(label, dst);
	diff = bytes_compare(dst, src, DMA_TEST_LEN, &first, &got, &want);
	if (diff) {
		kprintf("\n  %zu bytes differ (the first at offset %zu): the DMA did not work.\n", diff, first);
		goto out;
	}
	kprintf("\n  All %u bytes arrived intact (the most the device moves at once).\n", DMA_TEST_LEN);
	ok = true;
out:
	kpage_free(src);
	kpage_free(dst);
	return ok;
}

/* @dev reads the first bytes of the kernel's code: nothing stops it. */
static bool show_unchecked_read(struct edu_dev *dev)
{
	extern char __kernel_start[];
	uint8_t *dst = kpage_alloc(0, FOUR_GIB, false);
	uint64_t code = (uint64_t)(uintptr_t)__kernel_start;
	bool ok = false;

	if (!dst)
		return false;
	kprintf("\n  Nothing checked those accesses: the device could have used any address. Here edu %s reads\n"
		"  the first bytes of the kernel's own code, at 0x%llx, which no device has any business reading:\n\n",
		dev->pci->name, (unsigned long long)code);
	if (edu_dma(dev, EDU_TO_DEVICE, code, 0, SHOW_BYTES, EDU_DMA_TIMEOUT_NS) == MOAT_OK &&
	    edu_dma(dev, EDU_FROM_DEVICE, kvirt_to_phys(dst), 0, SHOW_BYTES, EDU_DMA_TIMEOUT_NS) == MOAT_OK) {
		show_bytes("the CPU sees:", (const uint8_t *)__kernel_start);
		show_bytes("the device fetched:", dst);
		ok = !moat_memcmp(dst, __kernel_start, SHOW_BYTES);
		kputs(ok ? "\n  The same bytes. A device could as easily have written there.\n"
			 : "\n  The device fetched something else.\n");
	} else {
		kputs("  The device did not finish in time.\n");
	}
	kpage_free(dst);
	return ok;
}

unsigned demo_run(struct kernel_system *sys)
{
	unsigned regions, kept;
	bool ok = true;

	kputs("\n"
	      "Moat demo: who can write into this computer's memory?\n"
	      "======================================================\n");
	tell_memory(sys);
	tell_devices(sys);
	tell_iommu(sys);

	heading("4. A DMA, unchecked");
	if (!sys->edu_count) {
		kputs("  This machine has no edu device, so there is no DMA to show (QEMU: -device edu).\n");
	} else {
		const struct fw_iommu_table *t = firmware_iommu(&sys->fw);

		kputs(t ? "  The IOMMU is still switched off, as after every boot: devices reach memory directly.\n\n"
			: "  With no IOMMU, devices always reach memory directly.\n\n");
		ok = show_round_trip(&sys->edu[0]);
		if (ok)
			ok = show_unchecked_read(&sys->edu[sys->edu_count - 1]);
	}
	heading("Summary");
	kernel_memory_map(&regions);
	kernel_protected_ranges(&kept);
	kprintf("  Memory: %u region(s) in the firmware's map; %u range(s) the kernel must keep to itself.\n",
		regions, kept);
	kprintf("  Devices: %u PCI function(s), %u of them edu DMA engine(s).\n", sys->pci_count, sys->edu_count);
	kprintf("  IOMMU: %s.\n", firmware_iommu(&sys->fw) ? "described by the firmware, switched off"
							  : "none");
	kprintf("  DMA: %s\n\nDemo finished.\n",
		!sys->edu_count ? "nothing to show." : ok ? "worked, unchecked, wherever the device pointed."
							  : "did not work as expected (see above).");
	return ok ? 0 : 1;
}
