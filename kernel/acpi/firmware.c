/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Finding the ACPI tables the kernel needs. RSDP search areas: ACPI 6.5, section 5.2.5.1 (the first
 * KiB of the EBDA, whose segment is the 16-bit word at 0x40E, then 0xE0000-0xFFFFF). MCFG layout:
 * PCI Firmware spec 3.2, section 4.1.2 (36-byte header, 8 reserved bytes, then 16-byte allocation
 * entries: base address (8), segment (2), start bus (1), end bus (1), 4 reserved).
 */
#include <moat/internal/lib.h>

#include "acpi/firmware.h"
#include "kernel.h"
#include "mm/mm.h"

#define BDA_EBDA_SEGMENT 0x40e
#define EBDA_SEARCH_LEN  1024
#define BIOS_AREA_BASE   0xe0000
#define BIOS_AREA_LEN    0x20000

#define MCFG_ENTRIES_OFFSET 44u
#define MCFG_ENTRY_SIZE     16u

static const void *map_phys(void *ctx, uint64_t phys, size_t len)
{
	(void)ctx;
	return kernel_map_firmware(phys, len);
}

static bool search(struct firmware *fw, uint64_t base, size_t len)
{
	size_t off;
	const void *win = kernel_map_firmware(base, len);

	if (!win || moat_acpi_find_rsdp(win, len, &off, &fw->rsdp, NULL) != MOAT_OK)
		return false;
	fw->rsdp_phys = base + off;
	return true;
}

bool firmware_find_rsdp(struct firmware *fw)
{
	const uint8_t *bda = kernel_map_firmware(BDA_EBDA_SEGMENT, 2);
	uint64_t ebda = bda ? (uint64_t)moat_le16(bda) << 4 : 0;

	fw->mem.map = map_phys;
	fw->mem.ctx = NULL;
	fw->have_rsdp = (ebda >= 0x80000 && ebda < 0xa0000 && search(fw, ebda, EBDA_SEARCH_LEN)) ||
			search(fw, BIOS_AREA_BASE, BIOS_AREA_LEN);
	return fw->have_rsdp;
}

bool firmware_read_mcfg(struct firmware *fw)
{
	const void *t;
	const uint8_t *p;
	uint32_t len;
	struct moat_diag diag = { 0 };
	char msg[200];
	moat_status st;

	fw->ecam_count = 0;
	fw->have_mcfg = false;
	if (!fw->have_rsdp)
		return false;
	st = moat_acpi_find_table(&fw->mem, &fw->rsdp, "MCFG", 0, &t, &len, &diag);
	if (st != MOAT_OK) {
		kprintf("MCFG: %s%s%s\n", moat_status_text(st), st == MOAT_ERR_NOT_FOUND ? "" : ": ",
			st == MOAT_ERR_NOT_FOUND ? "" : moat_diag_format(&diag, msg, sizeof(msg)));
		return false;
	}
	p = t;
	if (len < MCFG_ENTRIES_OFFSET) {
		kprintf("MCFG: %u bytes, shorter than its %u-byte header: ignored\n", len, MCFG_ENTRIES_OFFSET);
		return false;
	}
	if ((len - MCFG_ENTRIES_OFFSET) % MCFG_ENTRY_SIZE)
		kprintf("MCFG+0x%x: %u trailing bytes are not a whole allocation entry: ignored\n",
			len - (len - MCFG_ENTRIES_OFFSET) % MCFG_ENTRY_SIZE, (len - MCFG_ENTRIES_OFFSET) % MCFG_ENTRY_SIZE);
	for (uint32_t off = MCFG_ENTRIES_OFFSET; off + MCFG_ENTRY_SIZE <= len; off += MCFG_ENTRY_SIZE) {
		struct ecam_window w = {
			.base = moat_le64(p + off),
			.segment = moat_le16(p + off + 8),
			.start_bus = p[off + 10],
			.end_bus = p[off + 11],
		};

		if (w.start_bus > w.end_bus || !w.base || (w.base & ((1ull << 20) - 1))) {
			kprintf("MCFG+0x%x: entry with base 0x%llx, buses %u-%u is impossible: skipped\n", off,
				(unsigned long long)w.base, w.start_bus, w.end_bus);
			continue;
		}
		if (fw->ecam_count == PCI_MAX_WINDOWS) {
			kprintf("MCFG+0x%x: more than %u entries: the rest skipped\n", off, PCI_MAX_WINDOWS);
			break;
		}
		fw->ecam[fw->ecam_count++] = w;
	}
	fw->have_mcfg = fw->ecam_count > 0;
	return fw->have_mcfg;
}

static void setup_desc(struct fw_iommu_table *t)
{
	t->desc = (struct moat_sysdesc){
		.units = t->units,
		.units_cap = FW_MAX_UNITS,
		.devsets = t->devsets,
		.devsets_cap = FW_MAX_DEVSETS,
		.regions = t->regions,
		.regions_cap = FW_MAX_REGIONS,
		.specials = t->specials,
		.specials_cap = FW_MAX_SPECIALS,
		.ats = t->ats,
		.ats_cap = FW_MAX_ATS,
	};
}

static void find_iommu_table(struct firmware *fw, struct fw_iommu_table *t, const char *sig)
{
	const void *table;
	uint32_t len;

	moat_memset(&t->diag, 0, sizeof(t->diag));
	setup_desc(t);
	t->present = false;
	t->find_status = fw->have_rsdp ? moat_acpi_find_table(&fw->mem, &fw->rsdp, sig, 0, &table, &len, &t->diag)
				       : MOAT_ERR_NOT_FOUND;
	if (t->find_status != MOAT_OK)
		return;
	t->present = true;
	t->table = table;
	t->length = len;
}

void firmware_describe_iommus(struct firmware *fw)
{
	struct fw_iommu_table *d = &fw->dmar, *i = &fw->ivrs;

	find_iommu_table(fw, d, "DMAR");
	if (d->present)
		d->status = moat_acpi_describe_dmar(d->table, d->length, &d->desc, pci_cfg_read32, NULL, &d->diag);
	find_iommu_table(fw, i, "IVRS");
	if (i->present)
		i->status = moat_acpi_describe_ivrs(i->table, i->length, &i->desc, &i->diag);
}

const struct fw_iommu_table *firmware_iommu(const struct firmware *fw)
{
	if (fw->dmar.present)
		return &fw->dmar;
	if (fw->ivrs.present)
		return &fw->ivrs;
	return NULL;
}

const char *firmware_vendor_name(enum moat_vendor v)
{
	switch (v) {
	case MOAT_VENDOR_VTD:
		return "Intel VT-d";
	case MOAT_VENDOR_AMDVI:
		return "AMD-Vi";
	default:
		return "no IOMMU";
	}
}

static const char *rid_str(uint16_t seg, uint16_t rid, char *buf, unsigned size)
{
	if (seg)
		moat_snprintf(buf, size, "%04x:%02x:%02x.%u", seg, MOAT_RID_BUS(rid), MOAT_RID_DEV(rid), MOAT_RID_FN(rid));
	else
		moat_snprintf(buf, size, "%02x:%02x.%u", MOAT_RID_BUS(rid), MOAT_RID_DEV(rid), MOAT_RID_FN(rid));
	return buf;
}

const char *firmware_devset_str(const struct moat_devset *s, char *buf, unsigned size)
{
	char a[16], b[16];

	if (s->flags & MOAT_DEVSET_UNRESOLVED)
		moat_snprintf(buf, size, "%s (path not resolved: device absent)",
			      (s->flags & MOAT_DEVSET_BRIDGE) ? "buses below a bridge" : "a device");
	else if (s->flags & MOAT_DEVSET_BRIDGE)
		moat_snprintf(buf, size, "buses %02x-%02x (below a bridge)", MOAT_RID_BUS(s->first), MOAT_RID_BUS(s->last));
	else if (s->first == s->last)
		moat_snprintf(buf, size, "%s", rid_str(s->segment, s->first, a, sizeof(a)));
	else
		moat_snprintf(buf, size, "%s to %s", rid_str(s->segment, s->first, a, sizeof(a)),
			      rid_str(s->segment, s->last, b, sizeof(b)));
	if ((s->flags & MOAT_DEVSET_ALIASED) && s->alias != s->first) {
		size_t n = moat_strlen(buf);

		moat_snprintf(buf + n, size - n, " (seen as %s)", rid_str(s->segment, s->alias, a, sizeof(a)));
	}
	return buf;
}

int firmware_unit_covering(const struct fw_iommu_table *t, uint16_t segment, uint16_t rid,
			   const struct moat_devset **devset)
{
	const struct moat_sysdesc *d = &t->desc;
	uint32_t units = MOAT_MIN(d->units_count, d->units_cap);

	if (devset)
		*devset = NULL;
	for (uint32_t u = 0; u < units; u++) {
		const struct moat_unit_desc *unit = &d->units[u];

		for (uint32_t k = 0; k < unit->devset_count; k++) {
			uint32_t idx = unit->devset_first + k;
			const struct moat_devset *s;

			if (idx >= MOAT_MIN(d->devsets_count, d->devsets_cap))
				break;
			s = &d->devsets[idx];
			if (s->segment == segment && !(s->flags & MOAT_DEVSET_UNRESOLVED) && s->first <= rid &&
			    rid <= s->last) {
				if (devset)
					*devset = s;
				return (int)u;
			}
		}
	}
	for (uint32_t u = 0; u < units; u++) {
		if (d->units[u].segment == segment && (d->units[u].flags & (MOAT_UNIT_INCLUDE_ALL | MOAT_UNIT_AMD_ALL)))
			return (int)u;
	}
	return -1;
}

static const char *special_kind(enum moat_special_kind k)
{
	switch (k) {
	case MOAT_SPECIAL_IOAPIC:
		return "I/O APIC";
	case MOAT_SPECIAL_HPET:
		return "HPET";
	case MOAT_SPECIAL_ACPI_NS:
		return "ACPI device";
	default:
		return "special device";
	}
}

void firmware_print_iommu(const struct fw_iommu_table *t, const char *indent)
{
	const struct moat_sysdesc *d = &t->desc;
	uint32_t units = MOAT_MIN(d->units_count, d->units_cap);
	uint32_t devsets = MOAT_MIN(d->devsets_count, d->devsets_cap);
	char buf[96];

	for (uint32_t u = 0; u < units; u++) {
		const struct moat_unit_desc *unit = &d->units[u];

		kprintf("%sunit %u: %s, segment %u, registers at 0x%llx (%u KiB)%s\n", indent, u,
			unit->vendor == MOAT_VENDOR_VTD ? "VT-d DRHD" : "AMD-Vi IVHD", unit->segment,
			(unsigned long long)unit->register_base, unit->register_size / 1024,
			(unit->flags & MOAT_UNIT_INCLUDE_ALL) ? ", every device not named by another unit" :
			(unit->flags & MOAT_UNIT_AMD_ALL) ? ", every device (IVHD all entry)" : "");
		if (unit->vendor == MOAT_VENDOR_AMDVI)
			kprintf("%s  IVHD type 0x%02x, the IOMMU itself is PCI %s, capability at 0x%x\n", indent,
				unit->ivhd_type, rid_str(unit->segment, unit->iommu_rid, buf, sizeof(buf)),
				unit->capability_offset);
		for (uint32_t k = 0; k < unit->devset_count && unit->devset_first + k < devsets; k++)
			kprintf("%s  translates %s\n", indent,
				firmware_devset_str(&d->devsets[unit->devset_first + k], buf, sizeof(buf)));
	}
	for (uint32_t i = 0; i < MOAT_MIN(d->specials_count, d->specials_cap); i++) {
		const struct moat_special_desc *s = &d->specials[i];

		kprintf("%s%s %u%s%s: requester id %s, remapped by unit %u\n", indent, special_kind(s->kind), s->id,
			s->name[0] ? " " : "", s->name,
			s->resolved ? rid_str(s->segment, s->rid, buf, sizeof(buf)) : "unknown", s->unit);
	}
	for (uint32_t i = 0; i < MOAT_MIN(d->regions_count, d->regions_cap); i++) {
		const struct moat_region_desc *r = &d->regions[i];

		kprintf("%sreserved region 0x%llx-0x%llx for %u device set(s)%s\n", indent, (unsigned long long)r->base,
			(unsigned long long)r->limit, r->devset_count,
			r->kind == MOAT_REGION_IVMD_ALL ? " (every device)" : "");
	}
}
