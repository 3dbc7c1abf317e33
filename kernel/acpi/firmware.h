/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The firmware's ACPI tables, as the kernel uses them: the RSDP, the MCFG (ECAM windows, parsed
 * here) and the IOMMU descriptions (DMAR, IVRS) turned into Moat system descriptions by the library.
 */
#ifndef KERNEL_ACPI_FIRMWARE_H
#define KERNEL_ACPI_FIRMWARE_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/acpi.h>
#include <moat/diag.h>

#include "acpi/madt.h"
#include "pci/pci.h"

#define FW_MAX_UNITS    16
#define FW_MAX_DEVSETS  512
#define FW_MAX_REGIONS  64
#define FW_MAX_SPECIALS 64
#define FW_MAX_ATS      16

/* One IOMMU table (DMAR or IVRS) and what the library made of it. */
struct fw_iommu_table {
	bool present;            /* the table was found (and passed moat_acpi_find_table()'s checks) */
	moat_status find_status; /* MOAT_OK, MOAT_ERR_NOT_FOUND, or why the table was refused */
	const void *table;
	uint32_t length;
	moat_status status;      /* of moat_acpi_describe_dmar() / _ivrs() */
	struct moat_diag diag;
	struct moat_sysdesc desc;
	struct moat_unit_desc units[FW_MAX_UNITS];
	struct moat_devset devsets[FW_MAX_DEVSETS];
	struct moat_region_desc regions[FW_MAX_REGIONS];
	struct moat_special_desc specials[FW_MAX_SPECIALS];
	struct moat_ats_desc ats[FW_MAX_ATS];
};

struct firmware {
	bool have_rsdp;
	uint64_t rsdp_phys;
	struct moat_acpi_rsdp rsdp;
	struct moat_acpi_mem mem;      /* identity access to physical memory for the library */

	bool have_mcfg;
	struct ecam_window ecam[PCI_MAX_WINDOWS];
	unsigned ecam_count;

	struct fw_iommu_table dmar;
	struct fw_iommu_table ivrs;

	struct madt madt;              /* interrupt controllers (madt_read()) */
};

/* firmware_find_rsdp() - search the EBDA's first KiB, then 0xE0000-0xFFFFF. */
bool firmware_find_rsdp(struct firmware *fw);

/*
 * firmware_read_mcfg() - find the MCFG and fill fw->ecam. Each allocation entry is checked (whole
 * entries inside the table, start bus <= end bus, base aligned to 1 MiB); a bad entry is reported
 * and skipped. False when there is no usable MCFG.
 */
bool firmware_read_mcfg(struct firmware *fw);

/*
 * firmware_describe_iommus() - find the DMAR and the IVRS and describe them with the library (the
 * DMAR with pci_cfg_read32() to resolve paths through bridges: PCI must be set up first).
 */
void firmware_describe_iommus(struct firmware *fw);

/* The description of the machine's IOMMUs: the DMAR's, else the IVRS's, else NULL. */
const struct fw_iommu_table *firmware_iommu(const struct firmware *fw);

/* Print the units, their device scopes, reserved regions and special devices (indented by @indent). */
void firmware_print_iommu(const struct fw_iommu_table *t, const char *indent);

/* Render one devset: "00:02.0", "buses 01-02 (below bridge)", "unresolved path", ... */
const char *firmware_devset_str(const struct moat_devset *s, char *buf, unsigned size);

/*
 * firmware_unit_covering() - the index of the unit whose scope includes requester id @rid of
 * @segment (a unit naming it explicitly first, then an INCLUDE_PCI_ALL unit or an IVHD "all"
 * entry of that segment), or -1. When @devset is not NULL it gets the matching devset (NULL when the
 * match came from an all-devices unit).
 */
int firmware_unit_covering(const struct fw_iommu_table *t, uint16_t segment, uint16_t rid,
			   const struct moat_devset **devset);

const char *firmware_vendor_name(enum moat_vendor v);

#endif
