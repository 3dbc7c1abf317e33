/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reading IOMMU identification registers.
 * VT-d (Intel VT-d spec 4.1, section 11.4): VER_REG 0x00 (bits 7:4 major, 3:0 minor), CAP_REG 0x08,
 * ECAP_REG 0x10, GSTS_REG 0x1C (bit 31 TES: translation enabled).
 * AMD-Vi (AMD I/O Virtualization Technology spec 3.x, sections 3.7.1 and 3.4): the IOMMU is a PCI
 * function with a capability of ID 0Fh and capability type 3h (bits 18:16 of its header), whose next
 * two dwords hold the register base (low dword bits 31:14, bit 0 enable; high dword); in the registers,
 * 0x18 is the control register (bit 0 IommuEn) and 0x30 the extended feature register.
 */
#include <moat/internal/lib.h>
#include <moat/platform.h>

#include "drivers/iommu_regs.h"
#include "mm/mm.h"
#include "pci/pci.h"

#define VTD_VER   0x00
#define VTD_CAP   0x08
#define VTD_ECAP  0x10
#define VTD_GSTS  0x1c
#define  VTD_GSTS_TES (1u << 31)

#define AMD_CAP_ID        0x0f
#define AMD_CAP_TYPE      3u
#define AMD_CAP_BASE_LO   4
#define AMD_CAP_BASE_HI   8
#define AMD_CONTROL       0x18
#define  AMD_CONTROL_EN   1u
#define AMD_EFR           0x30

static bool probe_vtd(const struct moat_unit_desc *u, struct iommu_regs_info *info)
{
	volatile uint8_t *r = moat_plat_mmio_map(u->register_base, u->register_size);
	uint32_t ver, gsts;
	uint64_t cap, ecap;

	if (!r) {
		moat_snprintf(info->problem, sizeof(info->problem), "registers at 0x%llx cannot be mapped",
			      (unsigned long long)u->register_base);
		return false;
	}
	ver = moat_plat_mmio_read32(r + VTD_VER);
	cap = moat_plat_mmio_read64(r + VTD_CAP);
	ecap = moat_plat_mmio_read64(r + VTD_ECAP);
	gsts = moat_plat_mmio_read32(r + VTD_GSTS);
	if (ver == 0xffffffffu || (ver & 0xf0) == 0 || cap == 0 || cap == ~0ull) {
		moat_snprintf(info->problem, sizeof(info->problem),
			      "no VT-d registers answer at 0x%llx (VER 0x%x, CAP 0x%llx)",
			      (unsigned long long)u->register_base, ver, (unsigned long long)cap);
		return false;
	}
	info->translation_on = gsts & VTD_GSTS_TES;
	moat_snprintf(info->summary, sizeof(info->summary), "VT-d %u.%u, CAP 0x%llx, ECAP 0x%llx, translation %s",
		      (ver >> 4) & 0xf, ver & 0xf, (unsigned long long)cap, (unsigned long long)ecap,
		      info->translation_on ? "on" : "off");
	return true;
}

static bool probe_amdvi(const struct moat_unit_desc *u, struct iommu_regs_info *info)
{
	struct pci_dev d = {
		.segment = u->segment,
		.bus = MOAT_RID_BUS(u->iommu_rid),
		.dev = MOAT_RID_DEV(u->iommu_rid),
		.fn = MOAT_RID_FN(u->iommu_rid),
	};
	uint16_t off = u->capability_offset;
	uint32_t hdr, lo, hi;
	uint64_t base, efr, control;
	volatile uint8_t *r;

	if (pci_dev_read16(&d, PCI_VENDOR_ID) == 0xffff) {
		moat_snprintf(info->problem, sizeof(info->problem), "no PCI function at the IOMMU's id %02x:%02x.%u",
			      d.bus, d.dev, d.fn);
		return false;
	}
	hdr = pci_dev_read32(&d, off);
	if (off < 0x40 || off > 0xf4 || (hdr & 0xff) != AMD_CAP_ID || ((hdr >> 16) & 7u) != AMD_CAP_TYPE) {
		moat_snprintf(info->problem, sizeof(info->problem),
			      "PCI %02x:%02x.%u has no IOMMU capability at 0x%x (header 0x%08x)", d.bus, d.dev, d.fn,
			      off, hdr);
		return false;
	}
	lo = pci_dev_read32(&d, (uint16_t)(off + AMD_CAP_BASE_LO));
	hi = pci_dev_read32(&d, (uint16_t)(off + AMD_CAP_BASE_HI));
	base = (uint64_t)hi << 32 | (lo & 0xffffc000u);
	if (base != u->register_base) {
		moat_snprintf(info->problem, sizeof(info->problem),
			      "the IVHD says registers at 0x%llx, the PCI capability says 0x%llx",
			      (unsigned long long)u->register_base, (unsigned long long)base);
		return false;
	}
	r = moat_plat_mmio_map(u->register_base, u->register_size);
	if (!r) {
		moat_snprintf(info->problem, sizeof(info->problem), "registers at 0x%llx cannot be mapped",
			      (unsigned long long)u->register_base);
		return false;
	}
	control = moat_plat_mmio_read64(r + AMD_CONTROL);
	efr = moat_plat_mmio_read64(r + AMD_EFR);
	if (control == ~0ull || efr == ~0ull) {
		moat_snprintf(info->problem, sizeof(info->problem), "no AMD-Vi registers answer at 0x%llx",
			      (unsigned long long)u->register_base);
		return false;
	}
	info->translation_on = control & AMD_CONTROL_EN;
	moat_snprintf(info->summary, sizeof(info->summary),
		      "AMD-Vi, PCI capability at 0x%x agrees on the base, EFR 0x%llx, translation %s", off,
		      (unsigned long long)efr, info->translation_on ? "on" : "off");
	return true;
}

bool iommu_regs_probe(const struct moat_unit_desc *u, struct iommu_regs_info *info)
{
	moat_memset(info, 0, sizeof(*info));
	switch (u->vendor) {
	case MOAT_VENDOR_VTD:
		info->answered = probe_vtd(u, info);
		break;
	case MOAT_VENDOR_AMDVI:
		info->answered = probe_amdvi(u, info);
		break;
	default:
		moat_snprintf(info->problem, sizeof(info->problem), "unknown IOMMU vendor %d", (int)u->vendor);
		break;
	}
	return info->answered;
}
