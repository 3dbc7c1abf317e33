/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The reference kernel: boot, find the machine (memory, ACPI, PCI, IOMMUs, edu devices), then run
 * the scenarios (all, or those named by `scenario=NAME[,NAME...]`) or the narrated demo (`demo`),
 * and leave QEMU with 0 when nothing failed, 1 otherwise.
 */
#include <moat/internal/lib.h>

#include "acpi/firmware.h"
#include "arch/apic.h"
#include "arch/irq.h"
#include "arch/trap.h"
#include "demo.h"
#include "drivers/ioapic.h"
#include "kernel.h"
#include "mm/mm.h"
#include "multiboot.h"
#include "scenarios/scenario.h"
#include "system.h"
#include "x86_platform.h"

#define MOAT_POOL_BYTES     (16ull << 20)
#define MOAT_POOL_MIN_BYTES (1ull << 20)
#define FOUR_GIB            (1ull << 32)

extern char __kernel_start[], __kernel_end[];

static struct multiboot_boot boot;
static struct kernel_system sys;

struct options {
	bool demo;
	bool debug;
	const char *scenarios;     /* NULL: all */
	char scenario_buf[256];
};

void kernel_main(uint32_t magic, uint32_t info);

static void parse_cmdline(const char *cmdline, struct options *o)
{
	const char *p = cmdline;
	bool first = true;

	moat_memset(o, 0, sizeof(*o));
	while (*p) {
		const char *end;
		size_t len;
		char tok[256];

		while (*p == ' ')
			p++;
		for (end = p; *end && *end != ' '; end++)
			;
		len = (size_t)(end - p);
		if (!len)
			break;
		len = MOAT_MIN(len, sizeof(tok) - 1);
		moat_memcpy(tok, p, len);
		tok[len] = '\0';
		if (kstr_eq(tok, "demo")) {
			o->demo = true;
		} else if (kstr_eq(tok, "moat_debug")) {
			o->debug = true;
		} else if (kstr_starts_with(tok, "scenario=")) {
			size_t have = moat_strlen(o->scenario_buf);

			/* Several scenario= words add up. */
			moat_snprintf(o->scenario_buf + have, sizeof(o->scenario_buf) - have, "%s%s", have ? "," : "",
				      tok + 9);
			o->scenarios = o->scenario_buf;
		} else if (!first) {
			/* The first word is the kernel's own path (what the loader puts first). */
			kprintf("command line: '%s' not understood (known: demo, scenario=NAME[,NAME...], moat_debug)\n",
				tok);
		}
		first = false;
		p = end;
	}
}

static uint64_t page_align_up(uint64_t v)
{
	return (v + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

static void setup_memory(void)
{
	uint64_t image = (uint64_t)(uintptr_t)__kernel_start;
	uint64_t image_end = page_align_up((uint64_t)(uintptr_t)__kernel_end);
	uint64_t pool = 0, size;

	if (!memmap_init(&boot))
		kernel_fatal("the loader gave no memory map");
	frames_init();
	kernel_protect_add(image, image_end - image, "kernel image (code, data, stacks, boot page tables)");
	paging_init();

	/* The pool Moat's pages come from: contiguous, below 4 GiB, as large as memory allows. It is
	 * ordinary RAM, not protected: the host domain maps it like the rest, and Moat takes each page
	 * it uses out of every domain (and zeroes it) before it trusts it. */
	for (size = MOAT_POOL_BYTES; size >= MOAT_POOL_MIN_BYTES; size /= 2) {
		if (frames_take(&pool, size, LARGE_PAGE_SIZE, 0, FOUR_GIB, false))
			break;
	}
	if (size < MOAT_POOL_MIN_BYTES)
		kernel_fatal("no %llu MiB of free memory below 4 GiB for Moat's page pool",
			     (unsigned long long)(MOAT_POOL_MIN_BYTES >> 20));
	x86_plat_pool_init(pool, size);
	sys.moat_pool_base = pool;
	sys.moat_pool_size = size;
}

static void print_memory(void)
{
	const struct kernel_mem_region *map;
	const struct kernel_range *ranges;
	unsigned n;
	char s[32];

	map = kernel_memory_map(&n);
	kprintf("memory map (%u regions):\n", n);
	for (unsigned i = 0; i < n; i++)
		kprintf("  0x%016llx-0x%016llx  %-12s %s\n", (unsigned long long)map[i].base,
			(unsigned long long)(map[i].base + map[i].length - 1), memmap_type_name(map[i].type),
			ksize_str(map[i].length, s, sizeof(s)));
	kprintf("  RAM: %s", ksize_str(memmap_ram_bytes(), s, sizeof(s)));
	kprintf(", of which %s above 4 GiB\n", ksize_str(memmap_ram_bytes_above(FOUR_GIB), s, sizeof(s)));
	ranges = kernel_protected_ranges(&n);
	kprintf("memory the kernel uses:\n");
	for (unsigned i = 0; i < n; i++)
		kprintf("  0x%016llx-0x%016llx  %s\n", (unsigned long long)ranges[i].base,
			(unsigned long long)(ranges[i].base + ranges[i].size - 1), ranges[i].what);
}

static void discover(void)
{
	struct firmware *fw = &sys.fw;

	if (!firmware_find_rsdp(fw))
		kprintf("ACPI: no RSDP in the EBDA or 0xE0000-0xFFFFF\n");
	if (firmware_read_mcfg(fw))
		pci_init(fw->ecam, fw->ecam_count);
	else
		kprintf("PCI: no usable MCFG: no PCI Express configuration space, no devices\n");
	firmware_describe_iommus(fw);
	madt_read(fw, &fw->madt);
	sys.pci_count = pci_enumerate(sys.pci, PCI_MAX_DEVICES);
	if (sys.pci_count > PCI_MAX_DEVICES) {
		kprintf("PCI: %u functions found, only the first %u kept\n", sys.pci_count, PCI_MAX_DEVICES);
		sys.pci_count = PCI_MAX_DEVICES;
	}
	sys.edu_count = edu_probe_all(sys.pci, sys.pci_count, sys.edu, EDU_MAX_DEVICES);
}

/* Interrupts: the local APIC, the I/O APICs, the PICs masked; device interrupts then work. */
static void setup_interrupts(void)
{
	if (irq_init(&sys.fw.madt))
		ioapic_init_all(&sys.fw.madt);
}

static void print_interrupts(void)
{
	const struct madt *m = &sys.fw.madt;
	const struct lapic_info *l = lapic_info();

	if (m->present)
		kprintf("MADT: local APIC at 0x%llx, %u CPU(s), %u I/O APIC(s), %u source override(s)%s%s\n",
			(unsigned long long)m->lapic_address, m->cpu_count, m->ioapic_count, m->override_count,
			m->pcat_compat ? ", 8259 PICs present" : "", m->skipped ? ", some entries dropped" : "");
	if (!irq_ready())
		return;
	kprintf("interrupts: local APIC id %u at 0x%llx (from the %s), version 0x%02x, %u LVT entries, timer at "
		"%llu MHz%s; 8259 PICs masked\n", l->id, (unsigned long long)l->phys, l->source, l->version,
		l->lvt_entries, (unsigned long long)(l->timer_hz / 1000000),
		l->was_disabled ? "; it was disabled and is now enabled" : "");
	for (unsigned i = 0; i < ioapic_count(); i++) {
		const struct ioapic *io = ioapic_get(i);

		kprintf("interrupts: I/O APIC %u at 0x%llx, version 0x%02x, GSIs %u-%u, every pin masked\n", io->id,
			(unsigned long long)io->phys, io->version, io->gsi_base, io->gsi_base + io->pins - 1);
	}
	for (unsigned i = 0; i < m->override_count; i++)
		kprintf("  ISA IRQ %u -> GSI %u (flags 0x%x)\n", m->overrides[i].source, m->overrides[i].gsi,
			m->overrides[i].flags);
}

static void print_iommu_table(const struct fw_iommu_table *t, const char *sig)
{
	char msg[200];

	if (!t->present) {
		if (t->find_status != MOAT_ERR_NOT_FOUND)
			kprintf("%s: refused: %s\n", sig, moat_diag_format(&t->diag, msg, sizeof(msg)));
		return;
	}
	if (t->status != MOAT_OK) {
		kprintf("%s: %u bytes, not described: %s (%s)\n", sig, t->length, moat_status_str(t->status),
			moat_diag_format(&t->diag, msg, sizeof(msg)));
		return;
	}
	kprintf("%s: %u bytes, %s, address width %u bits, %u unit(s):\n", sig, t->length,
		firmware_vendor_name(t->desc.vendor), t->desc.address_width, t->desc.units_count);
	firmware_print_iommu(t, "  ");
}

static void print_machine(void)
{
	const struct firmware *fw = &sys.fw;

	print_memory();
	kprintf("clock: TSC at %llu.%03llu MHz\n", (unsigned long long)(x86_plat_tsc_hz() / 1000000),
		(unsigned long long)(x86_plat_tsc_hz() / 1000 % 1000));
	if (fw->have_rsdp)
		kprintf("ACPI: RSDP at 0x%llx, revision %u, RSDT 0x%x, XSDT 0x%llx\n", (unsigned long long)fw->rsdp_phys,
			fw->rsdp.revision, fw->rsdp.rsdt_address,
			(unsigned long long)(fw->rsdp.revision >= 2 ? fw->rsdp.xsdt_address : 0));
	for (unsigned i = 0; i < fw->ecam_count; i++)
		kprintf("MCFG: segment %u, buses %02x-%02x, ECAM at 0x%llx\n", fw->ecam[i].segment, fw->ecam[i].start_bus,
			fw->ecam[i].end_bus, (unsigned long long)fw->ecam[i].base);
	print_interrupts();
	print_iommu_table(&fw->dmar, "DMAR");
	print_iommu_table(&fw->ivrs, "IVRS");
	if (!fw->dmar.present && !fw->ivrs.present)
		kprintf("IOMMU: the firmware describes none (no DMAR, no IVRS)\n");
	kprintf("PCI: %u function(s):\n", sys.pci_count);
	for (unsigned i = 0; i < sys.pci_count; i++) {
		const struct pci_dev *d = &sys.pci[i];

		kprintf("  %s %04x:%04x %s", d->name, d->vendor, d->device,
			d->vendor == EDU_VENDOR_ID && d->device == EDU_DEVICE_ID ? "edu DMA test device"
										 : pci_class_name(d->class_code));
		if (d->header_type == PCI_HEADER_BRIDGE)
			kprintf(" (buses %02x-%02x)", d->secondary_bus, d->subordinate_bus);
		kputs("\n");
	}
	for (unsigned i = 0; i < sys.edu_count; i++) {
		const struct edu_dev *e = &sys.edu[i];

		kprintf("edu %s: BAR0 0x%llx (%llu KiB), version %u.%u, memory decoding and bus mastering on",
			e->pci->name, (unsigned long long)e->bar_phys, (unsigned long long)(e->bar_size >> 10),
			e->version >> 24, (e->version >> 16) & 0xff);
		if (e->has_msi)
			kprintf(", MSI capability at 0x%x (%s-bit%s)", e->msi.cap, e->msi.is64 ? "64" : "32",
				e->msi.maskable ? ", maskable" : "");
		kputs("\n");
	}
}

void kernel_main(uint32_t magic, uint32_t info)
{
	struct options opt;

	console_init();
	trap_init();
	kputs("\nMoat reference kernel (x86_64)\n");
	if (!multiboot_copy(magic, info, &boot))
		kernel_fatal("not started by a multiboot loader");
	parse_cmdline(boot.cmdline, &opt);
	/* The demo speaks for itself: Moat's own information messages would interrupt it. */
	x86_plat_set_log_level(opt.debug ? MOAT_LOG_DEBUG : opt.demo ? MOAT_LOG_WARN : MOAT_LOG_INFO);
	setup_memory();
	x86_plat_clock_init();
	discover();
	setup_interrupts();

	if (opt.demo)
		kernel_exit(demo_run(&sys));
	kprintf("command line: %s\n", boot.cmdline[0] ? boot.cmdline : "(none)");
	print_machine();
	kputs("\n");
	kernel_exit(scenarios_run(&sys, opt.scenarios) ? 1 : 0);
}
