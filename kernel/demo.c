/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The narrated demo, for someone who has never heard of an IOMMU: what the machine has (memory,
 * devices, IOMMU units), a device's DMA before any protection, then Moat taking over (what it
 * protects and how, what that costs in table memory), five attacks shown being blocked with the
 * IOMMU's own record of each (by the memory alone where the IOMMU writes no records: QEMU 7.2's
 * AMD-Vi model), and the auditor's verdict on the live tables. The same on VT-d and AMD-Vi.
 */
#include <moat/internal/lib.h>

#include "demo.h"
#include "drivers/iommu_regs.h"
#include "kernel.h"
#include "mm/mm.h"
#include "moat_host.h"
#include "scenarios/scenario.h"

#define FOUR_GIB (1ull << 32)
#define SHOW_BYTES 16
#define SECRET_TEXT "TOP SECRET: the host's private key. "

static struct kmoat demo_moat;
static uint8_t demo_canary[MOAT_PAGE_SIZE] __attribute__((aligned(MOAT_PAGE_SIZE)));

static void heading(const char *title)
{
	kprintf("\n== %s ==\n\n", title);
}

static void show_bytes(const char *label, const uint8_t *p)
{
	kprintf("    %-30s", label);
	for (unsigned i = 0; i < SHOW_BYTES; i++)
		kprintf(" %02x", p[i]);
	kputs("  \"");
	for (unsigned i = 0; i < SHOW_BYTES; i++)
		kprintf("%c", p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
	kputs("\"\n");
}

/* @text at @indent spaces, wrapped after ", " so that lines stay within 100 columns. */
static void print_wrapped(unsigned indent, const char *text)
{
	const unsigned width = 100;
	unsigned col = indent;
	const char *p = text;

	kprintf("%*s", (int)indent, "");
	while (*p) {
		const char *end = p;
		unsigned len;

		while (*end && !(end[0] == ',' && end[1] == ' '))
			end++;
		if (*end)
			end++;              /* the comma stays with its piece */
		len = (unsigned)(end - p);
		if (col > indent && col + 1 + len > width) {
			kprintf("\n%*s", (int)indent + 2, "");
			col = indent + 2;
		} else if (col > indent) {
			kputs(" ");
			col++;
		}
		kprintf("%.*s", (int)len, p);
		col += len;
		p = *end ? end + 1 : end;   /* the space after the comma */
	}
	kputs("\n");
}

static const char *edu_or_class(const struct pci_dev *d)
{
	if (d->vendor == EDU_VENDOR_ID && d->device == EDU_DEVICE_ID)
		return "edu: QEMU's teaching device, a small DMA engine";
	return pci_class_name(d->class_code);
}

/* ---- 1. the machine ---- */

static void tell_memory(void)
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
	kputs("An IOMMU sits between the devices and memory. Once switched on, it translates every address a\n"
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

		if (iommu_regs_probe(&d->units[u], &info))
			kprintf("  unit %u, registers at 0x%llx: it answers there, translation %s\n", u,
				(unsigned long long)d->units[u].register_base, info.translation_on ? "on" : "off");
		else
			kprintf("  unit %u, registers at 0x%llx: %s\n", u, (unsigned long long)d->units[u].register_base,
				info.problem);
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
}

/* ---- 4. before Moat ---- */

/* A page round trip through @dev, narrated. Returns false if it did not work. */
static bool show_round_trip(struct edu_dev *dev)
{
	uint8_t *src = low_page(), *dst = low_page();
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
	if (edu_dma_to_device(dev, kvirt_to_phys(src), DMA_TEST_LEN) != MOAT_OK ||
	    edu_dma_from_device(dev, kvirt_to_phys(dst), DMA_TEST_LEN) != MOAT_OK) {
		kputs("  The device did not finish in time.\n");
		goto out;
	}
	moat_snprintf(label, sizeof(label), "page 0x%llx now holds:", (unsigned long long)kvirt_to_phys(dst));
	show_bytes(label, dst);
	diff = bytes_compare(dst, src, DMA_TEST_LEN, &first, &got, &want);
	if (diff) {
		kprintf("\n  %zu bytes differ (the first at offset %zu): the DMA did not work.\n", diff, first);
		goto out;
	}
	kprintf("\n  All %u bytes arrived intact (about 0.1 s per transfer: QEMU's device is slow on purpose).\n",
		DMA_TEST_LEN);
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
	uint8_t *dst = low_page();
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

/* ---- 5. Moat takes over ---- */

static const char *page_sizes_words(unsigned sizes)
{
	if (sizes & MOAT_PT_PAGE_1G)
		return "4 KiB, 2 MiB and 1 GiB";
	if (sizes & MOAT_PT_PAGE_2M)
		return "4 KiB and 2 MiB";
	return "4 KiB";
}

struct demo {
	struct kernel_system *sys;
	struct kmoat *m;
	uint8_t *secret;
	uint8_t *scratch;
	unsigned blocked, attacks;
};

static bool take_over(struct demo *d)
{
	struct kmoat *m = d->m;
	struct moat_diag diag = { 0 };
	const struct moat_host_report *rep = &m->host_report;
	struct moat_protected p;
	char msg[400], a[32], b[32], c[32];

	heading("5. Moat takes over");
	if (kmoat_up(m, d->sys, &diag) != MOAT_OK) {
		kprintf("  Moat could not take over: %s\n", moat_diag_format(&diag, msg, sizeof(msg)));
		return false;
	}
	kprintf("  Moat read the firmware's description and asked each unit what it can do:\n\n");
	for (unsigned i = 0; i < m->ms.caps.units; i++) {
		moat_setup_unit_describe(&m->ms, i, msg, sizeof(msg));
		print_wrapped(4, msg);
	}
	kprintf("\n  It settled on what every unit supports: translation tables %u levels deep, enough for\n"
		"  %u-bit addresses (%s), with pages of %s.\n%s"
		"  Translation is now on. From this moment a device reaches nothing at all until Moat gives it a\n"
		"  \"domain\": a set of tables that says which pages it may use.\n\n",
		m->ms.caps.levels, m->ms.caps.address_width,
		m->ms.caps.address_width >= 64 ? "16 EiB"
					       : ksize_str(1ull << m->ms.caps.address_width, a, sizeof(a)),
		page_sizes_words(m->ms.caps.page_sizes),
		m->ms.caps.coherent ? "  The units read the tables coherently with the CPU caches.\n"
				    : "  The units do not look into the CPU caches, so Moat writes every table line it\n"
				      "  changes back to memory before the IOMMU may read it.\n");
	if (!m->records_faults)
		kprintf("  The kernel also checked whether the IOMMU records blocked accesses (a device without a\n"
			"  domain read a page):\n  %s.\n"
			"  So below, the memory itself shows what each attack achieved.\n\n",
			m->records_note ? m->records_note : "it keeps no fault records");

	/* What no device may reach. */
	d->secret = low_page();
	d->scratch = low_page();
	if (!d->secret || !d->scratch) {
		kputs("  (no free page for the demonstration)\n");
		return false;
	}
	for (unsigned i = 0; i < MOAT_PAGE_SIZE; i++)
		d->secret[i] = (uint8_t)SECRET_TEXT[i % (sizeof(SECRET_TEXT) - 1)];
	pattern_fill(demo_canary, MOAT_PAGE_SIZE, 0xca7a77u);
	if (moat_protect_add(&m->ms.sys, kvirt_to_phys(d->secret), MOAT_PAGE_SIZE, "planted secret", &diag) != MOAT_OK ||
	    kmoat_protect_host(m, &diag) != MOAT_OK) {
		kprintf("  Protecting the host failed: %s\n", moat_diag_format(&diag, msg, sizeof(msg)));
		return false;
	}
	kputs("  Memory no device may ever reach (the protection registry):\n\n");
	for (unsigned i = 0; moat_protect_get(&m->ms.sys, i, &p) == MOAT_OK; i++)
		kprintf("    0x%010llx-0x%010llx  %-10s %s\n", (unsigned long long)p.base,
			(unsigned long long)(p.base + p.size - 1), ksize_str(p.size, a, sizeof(a)), p.label);
	kprintf("    and Moat's own pages, %llu of them: the IOMMU's %s,\n"
		"    and every translation table (Moat guards the tables that guard memory).\n\n",
		(unsigned long long)moat_owned_pages(&m->ms.sys),
		m->ms.caps.vendor == MOAT_VENDOR_AMDVI ? "device table, command buffer and event log"
						       : "root and context tables and its command queue");
	kprintf("  Everything else is the host's: one \"host domain\" maps all other RAM to itself,\n"
		"  %s of %s. Large pages keep that cheap: %llu table pages (%s of tables)\n"
		"  for all of it.\n",
		ksize_str(rep->mapped_bytes, a, sizeof(a)), ksize_str(rep->ram_bytes, b, sizeof(b)),
		(unsigned long long)rep->table_pages, ksize_str(rep->table_pages * MOAT_PAGE_SIZE, c, sizeof(c)));
	for (unsigned i = 0; i < d->sys->edu_count; i++) {
		if (kmoat_attach(m, &m->host, d->sys->edu[i].pci, &diag) != MOAT_OK) {
			kprintf("  Attaching edu %s failed: %s\n", d->sys->edu[i].pci->name,
				moat_diag_format(&diag, msg, sizeof(msg)));
			return false;
		}
	}
	kprintf("  The %u edu device(s) join the host domain: they keep working on ordinary memory.\n\n"
		"  In all, Moat holds %s of memory for its tables and queues.\n", d->sys->edu_count,
		ksize_str(moat_owned_pages(&m->ms.sys) * MOAT_PAGE_SIZE, a, sizeof(a)));
	return true;
}

/* ---- 6. the attacks ---- */

/*
 * What the IOMMU recorded, in words. Returns how many records there were; *@match (may be NULL)
 * gets how many name @dev and @addr's page. Says so when there was none, unless @quiet.
 */
static unsigned tell_faults(struct demo *d, const struct edu_dev *dev, uint64_t addr, bool quiet, unsigned *match)
{
	struct moat_fault f[4];
	struct moat_fault_poll res;
	unsigned dummy;

	if (!match)
		match = &dummy;
	*match = 0;
	if (moat_fault_poll(&d->m->ms.sys, f, MOAT_ARRAY_SIZE(f), &res) != MOAT_OK)
		return 0;
	if (!res.count) {
		if (!quiet && d->m->records_faults)
			kputs("    The IOMMU left no record of it.\n");
		else if (!quiet)
			kputs("    The IOMMU wrote no record of it (this one writes none): the memory itself tells.\n");
		return 0;
	}
	for (unsigned i = 0; i < res.count; i++) {
		const char *why;

		kprintf("    The IOMMU's record: device %02x:%02x.%x, %s at 0x%llx.\n", MOAT_RID_BUS(f[i].rid),
			MOAT_RID_DEV(f[i].rid), MOAT_RID_FN(f[i].rid), f[i].is_write ? "a write" : "a read",
			(unsigned long long)f[i].address);
		kprintf("    Its reason (code %u): %s.\n", f[i].reason, f[i].reason_text);
		switch (f[i].fault_class) {
		case MOAT_FAULT_BAD_ADDRESS:
			why = "the device has a domain, and that page is not in it";
			break;
		case MOAT_FAULT_BAD_DEVICE:
			why = "the device has no domain at all";
			break;
		case MOAT_FAULT_INVALID_USE:
			why = "the tables themselves are wrong (a software bug)";
			break;
		default:
			why = "a reason this version of Moat does not know";
			break;
		}
		if (f[i].domain_id >= 0)
			kprintf("    Moat's reading: %s (domain %d): \"%s\".\n", moat_fault_class_str(f[i].fault_class),
				(int)f[i].domain_id, why);
		else
			kprintf("    Moat's reading: %s: \"%s\".\n", moat_fault_class_str(f[i].fault_class), why);
		if (f[i].rid == dev->pci->dma_rid && (f[i].address >> 12) == (addr >> 12))
			(*match)++;
	}
	return res.count;
}

/* The attack's outcome: blocked when the memory is as it was and, where the IOMMU keeps fault
 * records, it recorded this very access. */
static void verdict(struct demo *d, bool unchanged, unsigned recorded)
{
	bool blocked = unchanged && (recorded || !d->m->records_faults);

	d->attacks++;
	if (blocked) {
		d->blocked++;
		kputs("    Blocked.\n");
	} else if (!unchanged) {
		kputs("    NOT BLOCKED: Moat failed to protect this memory.\n");
	} else {
		kputs("    The memory is intact, but the IOMMU did not record this access: something is off.\n");
	}
}

static void attack_read_secret(struct demo *d, struct edu_dev *dev)
{
	uint64_t sp = kvirt_to_phys(d->secret);
	unsigned rec = 0;
	bool zeros = true;

	kprintf("\n  Attack 1: edu %s tries to read the secret page at 0x%llx.\n\n", dev->pci->name,
		(unsigned long long)sp);
	show_bytes("the CPU sees:", d->secret);
	pattern_fill(d->scratch, MOAT_PAGE_SIZE, 1u);
	if (edu_dma(dev, EDU_TO_DEVICE, sp, 0, 64, EDU_DMA_TIMEOUT_NS) != MOAT_OK) {
		verdict(d, false, 0);
		return;
	}
	tell_faults(d, dev, sp, false, &rec);
	/* What the device got, written out to a page it may write. */
	if (edu_dma(dev, EDU_FROM_DEVICE, kvirt_to_phys(d->scratch), 0, 64, EDU_DMA_TIMEOUT_NS) != MOAT_OK) {
		verdict(d, false, 0);
		return;
	}
	show_bytes("the device fetched:", d->scratch);
	for (unsigned i = 0; i < 64; i++)
		zeros &= d->scratch[i] == 0;
	if (zeros)
		kputs("    Only zeros: the secret never left memory.\n");
	verdict(d, zeros, rec);
}

static void attack_write_kernel(struct demo *d, struct edu_dev *dev)
{
	static uint8_t before[MOAT_PAGE_SIZE];
	uint64_t kp = kvirt_to_phys(demo_canary);
	unsigned rec = 0;
	bool same;

	kprintf("\n  Attack 2: edu %s tries to overwrite a page of the kernel at 0x%llx with %u bytes.\n\n",
		dev->pci->name, (unsigned long long)kp, DMA_TEST_LEN);
	moat_memcpy(before, demo_canary, MOAT_PAGE_SIZE);
	show_bytes("the kernel page holds:", demo_canary);
	if (edu_dma_from_device(dev, kp, DMA_TEST_LEN) != MOAT_OK) {
		verdict(d, false, 0);
		return;
	}
	tell_faults(d, dev, kp, false, &rec);
	show_bytes("and afterwards:", demo_canary);
	same = !moat_memcmp(before, demo_canary, MOAT_PAGE_SIZE);
	if (same)
		kputs("    Not one byte changed.\n");
	verdict(d, same, rec);
}

/* Fill @p with a line of text, repeated. */
static void fill_text(uint8_t *p, const char *text)
{
	size_t len = moat_strlen(text);

	for (unsigned i = 0; i < MOAT_PAGE_SIZE; i++)
		p[i] = (uint8_t)text[i % len];
}

/* @dev copies 64 bytes from @from to @to (bus addresses); true when no fault was recorded. */
static bool copy64(struct demo *d, struct edu_dev *dev, uint64_t from, uint64_t to)
{
	return edu_dma(dev, EDU_TO_DEVICE, from, 0, 64, EDU_DMA_TIMEOUT_NS) == MOAT_OK &&
	       edu_dma(dev, EDU_FROM_DEVICE, to, 0, 64, EDU_DMA_TIMEOUT_NS) == MOAT_OK &&
	       !tell_faults(d, dev, from, true, NULL);
}

static bool page_is(const uint8_t *p, uint32_t seed)
{
	static uint8_t want[MOAT_PAGE_SIZE];

	pattern_fill(want, MOAT_PAGE_SIZE, seed);
	return !moat_memcmp(want, p, MOAT_PAGE_SIZE);
}

/* Two devices, each in a domain of its own: one attacks the other's buffer. */
static void attack_neighbour(struct demo *d)
{
	static struct moat_domain da, db;
	struct kmoat *m = d->m;
	struct edu_dev *a = &d->sys->edu[0], *b = &d->sys->edu[1];
	uint8_t *buf = low_page();
	struct moat_diag diag = { 0 };
	unsigned rec = 0;
	char label[64];
	bool same;

	kprintf("\n  Attack 3: two devices, each given a domain of its own, as a hypervisor gives each guest\n"
		"  its own devices. edu %s gets one page of its own at 0x%llx; edu %s gets nothing but its\n"
		"  domain, and tries to write into edu %s's page.\n\n", a->pci->name,
		(unsigned long long)(buf ? kvirt_to_phys(buf) : 0), b->pci->name, a->pci->name);
	if (!buf || kmoat_domain(m, &da, &diag) != MOAT_OK || kmoat_domain(m, &db, &diag) != MOAT_OK ||
	    moat_domain_map(&da, kvirt_to_phys(buf), kvirt_to_phys(buf), MOAT_PAGE_SIZE, MOAT_PT_RW, &diag) != MOAT_OK ||
	    kmoat_attach(m, &da, a->pci, &diag) != MOAT_OK || kmoat_attach(m, &db, b->pci, &diag) != MOAT_OK) {
		kputs("    (the domains could not be set up)\n");
		verdict(d, false, 0);
		kpage_free(buf);
		return;
	}
	pattern_fill(buf, MOAT_PAGE_SIZE, 0xbeefu);
	moat_snprintf(label, sizeof(label), "edu %s's page holds:", a->pci->name);
	show_bytes(label, buf);
	if (edu_dma_from_device(b, kvirt_to_phys(buf), DMA_TEST_LEN) != MOAT_OK) {
		verdict(d, false, 0);
		kpage_free(buf);
		return;
	}
	tell_faults(d, b, kvirt_to_phys(buf), false, &rec);
	show_bytes("and afterwards:", buf);
	same = page_is(buf, 0xbeefu);
	if (same)
		kprintf("    edu %s's page is untouched: each device lives in its own world.\n", a->pci->name);
	verdict(d, same, rec);
	kpage_free(buf);
}

/* A device given to a guest: guest-physical addresses, translated to where the guest really is. */
static void attack_from_guest(struct demo *d, struct edu_dev *dev)
{
	static struct moat_domain g;
	struct kmoat *m = d->m;
	struct moat_diag diag = { 0 };
	uint64_t hpa = 0, outside;
	/* A host page whose address, taken as a guest address, lies beyond the guest's 2 MiB. */
	uint8_t *victim = kpage_alloc(2ull << 20, EDU_DEFAULT_REACH, false), *src, *dst;
	unsigned rec = 0;
	char label[64];
	bool landed, same;

	kprintf("\n  Attack 4: edu %s is given to a virtual machine. The guest believes its memory starts at\n"
		"  address 0; really the host put it elsewhere. Moat's guest domain maps the guest's addresses to\n"
		"  the host's, just as the processor's own tables (EPT) do for the guest's programs.\n\n",
		dev->pci->name);
	if (!victim || !frames_take(&hpa, 2ull << 20, 2ull << 20, 0, UINT64_MAX, true)) {
		kputs("    (no memory for the guest)\n");
		verdict(d, false, 0);
		kpage_free(victim);
		return;
	}
	if (kmoat_domain(m, &g, &diag) != MOAT_OK ||
	    moat_domain_map(&g, 0, hpa, 2ull << 20, MOAT_PT_RW, &diag) != MOAT_OK ||
	    kmoat_attach(m, &g, dev->pci, &diag) != MOAT_OK) {
		kputs("    (the guest's domain could not be set up)\n");
		verdict(d, false, 0);
		goto out;
	}
	kprintf("    guest memory 0x0-0x1fffff is host memory 0x%llx-0x%llx\n", (unsigned long long)hpa,
		(unsigned long long)(hpa + (2ull << 20) - 1));
	/* The guest's own DMA: its device copies guest page 0x3000 to guest page 0x5000. */
	src = kphys_to_virt(hpa + 0x3000);
	dst = kphys_to_virt(hpa + 0x5000);
	fill_text(src, "Hello from inside the guest! ");
	moat_memset(dst, 0, MOAT_PAGE_SIZE);
	kputs("    The guest's device copies guest address 0x3000 to guest address 0x5000:\n");
	landed = copy64(d, dev, 0x3000, 0x5000) && !moat_memcmp(src, dst, 64);
	moat_snprintf(label, sizeof(label), "host 0x%llx now holds:", (unsigned long long)(hpa + 0x5000));
	show_bytes(label, dst);
	if (landed)
		kputs("    The data landed in the guest's memory, where the host put it.\n");
	/* Then it reaches for host memory outside the guest. */
	outside = kvirt_to_phys(victim);
	pattern_fill(victim, MOAT_PAGE_SIZE, 0xfeedu);
	kprintf("\n    Then the device, under the guest's control, aims at address 0x%llx: outside the guest's\n"
		"    memory, where the host keeps a page of its own.\n\n", (unsigned long long)outside);
	if (edu_dma_from_device(dev, outside, DMA_TEST_LEN) != MOAT_OK) {
		verdict(d, false, 0);
		goto out;
	}
	tell_faults(d, dev, outside, false, &rec);
	same = page_is(victim, 0xfeedu);
	if (same)
		kputs("    The host's page is untouched: the guest reaches its own memory and nothing else.\n");
	verdict(d, same && landed, rec);
out:
	frames_give(hpa, 2ull << 20);
	kpage_free(victim);
}

/* Map, use, unmap, use again: the IOMMU's cached translation must be gone. */
static void attack_stale(struct demo *d, struct edu_dev *dev)
{
	static struct moat_domain s;
	const uint64_t iova = 0x0a000000ull;      /* a bus address unlike the buffer's physical one */
	struct kmoat *m = d->m;
	struct moat_diag diag = { 0 };
	uint8_t *page = low_page(), *text = low_page();
	unsigned rec = 0;
	bool landed, same;

	kputs("\n  Attack 5: a device keeps using a buffer after the kernel took it back. An IOMMU remembers\n"
	      "  recent translations, so taking a page out of the tables is not enough: the IOMMU must be told\n"
	      "  to forget it, and Moat waits until it has before it returns.\n\n");
	if (!page || !text || kmoat_domain(m, &s, &diag) != MOAT_OK ||
	    moat_domain_map(&s, iova, kvirt_to_phys(page), MOAT_PAGE_SIZE, MOAT_PT_RW, &diag) != MOAT_OK ||
	    moat_domain_map(&s, iova + MOAT_PAGE_SIZE, kvirt_to_phys(text), MOAT_PAGE_SIZE, MOAT_PT_READ,
			    &diag) != MOAT_OK ||
	    kmoat_attach(m, &s, dev->pci, &diag) != MOAT_OK) {
		kputs("    (the domain could not be set up)\n");
		verdict(d, false, 0);
		goto out;
	}
	fill_text(text, "data for the device's buffer ");
	landed = copy64(d, dev, iova + MOAT_PAGE_SIZE, iova) && !moat_memcmp(page, text, 64);
	kprintf("    edu %s writes through bus address 0x%llx: it %s the buffer at 0x%llx (and the IOMMU\n"
		"    now remembers that translation).\n", dev->pci->name, (unsigned long long)iova,
		landed ? "lands in" : "DID NOT reach", (unsigned long long)kvirt_to_phys(page));
	if (moat_domain_unmap(&s, iova, MOAT_PAGE_SIZE, &diag) != MOAT_OK) {
		kputs("    (the unmap failed)\n");
		verdict(d, false, 0);
		goto out;
	}
	pattern_fill(page, MOAT_PAGE_SIZE, 0x5ca1eu);
	kputs("    The kernel takes the buffer back (unmap) and reuses it for something else.\n"
	      "    The device writes through the old address again:\n\n");
	edu_dma_from_device(dev, iova, DMA_TEST_LEN);
	tell_faults(d, dev, iova, false, &rec);
	same = page_is(page, 0x5ca1eu);
	if (same)
		kputs("    The reused page is untouched: the old translation was really forgotten.\n");
	verdict(d, same && landed, rec);
out:
	kpage_free(page);
	kpage_free(text);
}

/* ---- 7. the auditor ---- */

static bool audit(struct demo *d)
{
	static struct moat_audit_report rep;
	uint64_t n = moat_audit(&d->m->ms.sys, &rep);
	char line[200], a[32];

	heading("7. The auditor");
	kputs("  Finally Moat's auditor reads the live tables, entry by entry, as the IOMMU would, and checks\n"
	      "  every mapping against the registry, Moat's own pages and every table page.\n\n");
	kprintf("  It walked %llu domain(s), %llu table pages and %llu mappings covering %s, and %llu device(s).\n",
		(unsigned long long)rep.domains, (unsigned long long)rep.tables, (unsigned long long)rep.leaves,
		ksize_str(rep.mapped_bytes, a, sizeof(a)), (unsigned long long)rep.devices);
	for (unsigned i = 0; i < rep.count; i++) {
		moat_audit_format(&rep.v[i], line, sizeof(line));
		kprintf("  violation: %s\n", line);
	}
	if (rep.status == MOAT_OK && !n)
		kputs("  Verdict: 0 violations. No device can reach protected memory.\n");
	else
		kprintf("  Verdict: %llu violation(s).\n", (unsigned long long)n);
	return rep.status == MOAT_OK && !n;
}

unsigned demo_run(struct kernel_system *sys)
{
	struct demo d = { .sys = sys, .m = &demo_moat };
	const struct fw_iommu_table *t = firmware_iommu(&sys->fw);
	char problem[200] = "";
	bool ok = true, clean = false, up = false;

	kputs("\n"
	      "Moat demo: who can write into this computer's memory?\n"
	      "======================================================\n");
	tell_memory();
	tell_devices(sys);
	tell_iommu(sys);

	heading("4. A DMA, unchecked");
	if (!sys->edu_count) {
		kputs("  This machine has no edu device, so there is no DMA to show (QEMU: -device edu).\n");
	} else {
		kputs(t ? "  The IOMMU is still switched off, as after every boot: devices reach memory directly.\n\n"
			: "  With no IOMMU, devices always reach memory directly.\n\n");
		ok = show_round_trip(&sys->edu[0]) && show_unchecked_read(&sys->edu[sys->edu_count - 1]);
	}

	if (!t || !sys->edu_count) {
		heading("5. Moat");
		kputs("  Without an IOMMU, or without a device to show, there is nothing for Moat to do here.\n");
	} else {
		up = true;
		if (!take_over(&d)) {
			ok = false;
		} else {
			struct edu_dev *first = &sys->edu[0];

			heading("6. Attacks");
			kputs("  Now the devices misbehave, on purpose. Each attempt is made exactly as before Moat;\n"
			      "  only the IOMMU's tables differ.\n");
			attack_read_secret(&d, first);
			attack_write_kernel(&d, first);
			if (sys->edu_count >= 2)
				attack_neighbour(&d);
			else
				kputs("\n  Attack 3 needs two edu devices (QEMU: -device edu -device edu): skipped.\n");
			attack_from_guest(&d, first);
			attack_stale(&d, first);
			clean = audit(&d);
			ok = ok && clean && d.blocked == d.attacks;
		}
	}
	if (up && kmoat_down(&demo_moat, problem, sizeof(problem)) != MOAT_OK) {
		kprintf("\n  Taking Moat down failed: %s\n", problem);
		ok = false;
	}

	heading("Summary");
	kprintf("  Devices: %u PCI function(s), %u of them edu DMA engine(s).\n", sys->pci_count, sys->edu_count);
	if (d.attacks)
		kprintf("  Attacks: %u of %u blocked, %s.\n", d.blocked, d.attacks,
			d.m->records_faults ? "each with the IOMMU's record of who tried what, where"
					    : "each shown by the memory itself (the IOMMU wrote no records)");
	if (up && d.attacks)
		kprintf("  Auditor: %s\n", clean ? "0 violations on the live tables." : "violations found (see above).");
	kprintf("  Overall: %s\n\nDemo finished.\n",
		ok ? "as expected." : "something did not work as expected (see above).");
	return ok ? 0 : 1;
}
