/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ACPI discovery: finding tables and describing the IOMMUs they declare.
 *
 * Everything here is a pure function over bytes the caller hands in: no hardware access, no
 * allocation, no global state. Tables are hostile input: every length and offset is checked against
 * the buffer before use, and a problem is returned as a status with a struct moat_diag naming the
 * table, the byte offset and what is wrong.
 *
 * Two layers:
 *  - raw decoders (moat/dmar.h, moat/ivrs.h): iterate a table's structures exactly as written;
 *    used by the moat-acpi tool and by the builders below;
 *  - the system description (struct moat_sysdesc, below): the vendor-neutral view the core uses:
 *    IOMMU units and the devices each one translates, reserved memory regions and the devices that
 *    need them, and special devices (IOAPIC, HPET, ACPI namespace devices).
 */
#ifndef MOAT_ACPI_H
#define MOAT_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <moat/diag.h>
#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Table headers, checksums, RSDP, RSDT/XSDT
 * ------------------------------------------------------------------------------------------- */

#define MOAT_ACPI_HEADER_SIZE 36u

/* The common 36-byte header of every System Description Table, decoded. Strings are NUL-terminated
 * copies of the fixed-size fields with trailing NULs removed (binary bytes are kept as they are). */
struct moat_acpi_header {
	char signature[5];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	bool checksum_valid;       /* all `length` bytes sum to zero (mod 256) */
	char oem_id[7];
	char oem_table_id[9];
	uint32_t oem_revision;
	char creator_id[5];
	uint32_t creator_revision;
};

/* moat_acpi_checksum() - sum of @len bytes mod 256 (a valid table gives 0). */
uint8_t moat_acpi_checksum(const void *buf, size_t len);

/*
 * moat_acpi_header_decode() - decode and check the header of the table in @buf (@len bytes available).
 * Returns MOAT_OK; MOAT_ERR_TRUNCATED when @len < 36 or the length field exceeds @len;
 * MOAT_ERR_MALFORMED when the length field is below 36. A bad checksum is not an error here: it is
 * reported in checksum_valid (callers decide; moat-acpi reports it, the builders refuse it).
 */
moat_status moat_acpi_header_decode(const void *buf, size_t len, struct moat_acpi_header *out,
				    struct moat_diag *diag);

/* The Root System Description Pointer, decoded (ACPI 6.5, section 5.2.5.3). */
struct moat_acpi_rsdp {
	uint8_t revision;          /* 0: ACPI 1.0 (RSDT only); 2 or more: XSDT fields valid */
	char oem_id[7];
	uint32_t rsdt_address;
	uint32_t length;           /* revision >= 2 only */
	uint64_t xsdt_address;     /* revision >= 2 only */
};

/*
 * moat_acpi_find_rsdp() - search @len bytes at @window (e.g. the BIOS area 0xE0000-0xFFFFF, mapped)
 * for "RSD PTR " on 16-byte boundaries (offsets relative to @window). A candidate whose checksum
 * (and, for revision >= 2, extended checksum) fails is skipped. Returns MOAT_OK with *@offset and
 * *@out filled, or MOAT_ERR_NOT_FOUND.
 */
moat_status moat_acpi_find_rsdp(const void *window, size_t len, size_t *offset, struct moat_acpi_rsdp *out,
				struct moat_diag *diag);

/*
 * How the walker reads physical memory: map(ctx, phys, len) returns a pointer to @len readable
 * bytes at physical @phys, or NULL if that memory cannot be read. Mappings are never released by
 * the walker (identity-mapped hosts return (void *)phys).
 */
struct moat_acpi_mem {
	const void *(*map)(void *ctx, uint64_t phys, size_t len);
	void *ctx;
};

/*
 * moat_acpi_find_table() - find the @instance-th (0-based) table with signature @sig through the
 * XSDT (revision >= 2 with a non-zero XSDT address) or else the RSDT of @rsdp. The root table's
 * signature, length and checksum are checked; so are the found table's length and checksum.
 * On MOAT_OK, *@table and *@length give the table. Returns MOAT_ERR_NOT_FOUND when there is no such
 * table, MOAT_ERR_TRUNCATED / MOAT_ERR_MALFORMED / MOAT_ERR_CHECKSUM for a bad root table or a bad
 * found table, MOAT_ERR_INVALID_ARG for NULL arguments.
 */
moat_status moat_acpi_find_table(const struct moat_acpi_mem *mem, const struct moat_acpi_rsdp *rsdp,
				 const char sig[4], unsigned instance, const void **table, uint32_t *length,
				 struct moat_diag *diag);

/* ---------------------------------------------------------------------------------------------
 * The system description
 * ------------------------------------------------------------------------------------------- */

enum moat_vendor {
	MOAT_VENDOR_NONE = 0,
	MOAT_VENDOR_VTD = 1,    /* Intel VT-d, from the DMAR */
	MOAT_VENDOR_AMDVI = 2,  /* AMD-Vi, from the IVRS */
};

/* A PCI requester id: bus << 8 | device << 3 | function. */
#define MOAT_RID(bus, dev, fn) ((uint16_t)(((bus) << 8) | ((dev) << 3) | (fn)))
#define MOAT_RID_BUS(rid) ((uint8_t)((rid) >> 8))
#define MOAT_RID_DEV(rid) ((uint8_t)(((rid) >> 3) & 0x1f))
#define MOAT_RID_FN(rid) ((uint8_t)((rid) & 7))

/* struct moat_devset flags */
#define MOAT_DEVSET_BRIDGE     0x01u /* DMAR bridge scope: ids below the bridge (secondary..subordinate) */
#define MOAT_DEVSET_ALIASED    0x02u /* the IOMMU sees these devices as `alias` (IVHD alias entries) */
#define MOAT_DEVSET_UNRESOLVED 0x04u /* a scope path that could not be resolved (device absent, or
					multi-level path and no config-read callback): first/last
					are not meaningful and no device matches it */

/*
 * A set of PCI requester ids within one segment: first..last inclusive. One DMAR device scope or
 * one IVHD device entry (or range) becomes one devset; a DMAR bridge scope becomes two: the bridge
 * itself, and the buses below it (MOAT_DEVSET_BRIDGE). A DMAR ACPI namespace-device scope becomes
 * a devset too (such a device does DMA with the requester id of its path) as well as a special.
 */
struct moat_devset {
	uint16_t segment;
	uint16_t first;
	uint16_t last;
	uint16_t alias;          /* requester id the IOMMU sees; == the device's own id unless ALIASED */
	uint8_t flags;           /* MOAT_DEVSET_* */
	uint8_t amd_setting;     /* IVHD DTE setting byte (INITPass, EIntPass, NMIPass, SysMgt, Lint0/1) */
	uint32_t amd_ext_setting;/* IVHD extended entries' setting (ATS disallowed, ...) */
	uint32_t src_offset;     /* byte offset of the scope or entry in its table */
};

/* struct moat_unit_desc flags */
#define MOAT_UNIT_INCLUDE_ALL 0x01u /* translates every device of its segment not named by another unit */
#define MOAT_UNIT_AMD_ALL     0x02u /* AMD: an IVHD "all" entry (type 1) was given */

/* One IOMMU (a DRHD, or the IVHD of the highest type describing that IOMMU). */
struct moat_unit_desc {
	enum moat_vendor vendor;
	uint16_t segment;
	uint32_t flags;            /* MOAT_UNIT_* */
	uint64_t register_base;
	uint32_t register_size;    /* bytes of register space (VT-d 4.x DRHD size field, else 4096; AMD 16 KiB) */
	uint32_t devset_first;     /* index of this unit's first devset in the description */
	uint32_t devset_count;
	uint32_t src_offset;       /* byte offset of the DRHD / IVHD in its table */
	/* VT-d */
	uint8_t drhd_flags;
	bool has_proximity;        /* an RHSA names this unit's register base */
	uint32_t proximity_domain; /* its ACPI proximity domain (NUMA node), when has_proximity */
	/* AMD-Vi */
	uint8_t ivhd_type;         /* 0x10, 0x11 or 0x40 */
	uint8_t ivhd_flags;
	uint16_t iommu_rid;        /* the IOMMU's own requester id */
	uint16_t capability_offset;
	uint16_t iommu_info;
	uint32_t ivhd_feature;     /* type 10h: IOMMU feature reporting; 11h/40h: IOMMU attributes */
	uint8_t amd_all_setting;   /* the DTE setting byte of an IVHD "all" entry (MOAT_UNIT_AMD_ALL) */
	uint64_t efr;              /* 11h/40h: extended feature register image */
};

enum moat_region_kind {
	MOAT_REGION_RMRR = 1,        /* DMAR reserved memory region */
	MOAT_REGION_IVMD_ALL = 2,    /* IVMD 20h: every device */
	MOAT_REGION_IVMD_SELECT = 3, /* IVMD 21h: one device */
	MOAT_REGION_IVMD_RANGE = 4,  /* IVMD 22h: a range of devices */
};

/* struct moat_region_desc flags (IVMD flags keep their table values; RMRR gets UNITY|READ|WRITE) */
#define MOAT_REGION_UNITY     0x01u
#define MOAT_REGION_READ      0x02u
#define MOAT_REGION_WRITE     0x04u
#define MOAT_REGION_EXCLUSION 0x08u

/* A memory region some devices must keep reaching (firmware DMA: USB legacy, graphics, ...). */
struct moat_region_desc {
	enum moat_region_kind kind;
	uint16_t segment;
	uint32_t flags;            /* MOAT_REGION_* */
	uint64_t base;
	uint64_t limit;            /* inclusive last byte */
	uint32_t devset_first;     /* the devices that need it (none for IVMD_ALL: every device) */
	uint32_t devset_count;
	uint32_t src_offset;
};

enum moat_special_kind {
	MOAT_SPECIAL_IOAPIC = 1,
	MOAT_SPECIAL_HPET = 2,
	MOAT_SPECIAL_ACPI_NS = 3,   /* DMAR namespace-device scope + ANDD, or IVHD ACPI HID entry */
};

/* A device that is not a plain PCI function but issues requests with a requester id. */
struct moat_special_desc {
	enum moat_special_kind kind;
	uint16_t segment;
	uint16_t rid;              /* requester id it uses (DMAR: start bus + path; IVHD: device id) */
	uint8_t id;                /* IOAPIC id, HPET number, or ACPI enumeration id (DMAR ANDD) */
	uint8_t resolved;          /* 1 if rid is known */
	uint32_t unit;             /* index of the unit that remaps it */
	char name[64];             /* ACPI object name (ANDD) or HID (IVHD), NUL-terminated, may be "" */
	char uid[32];              /* IVHD ACPI HID entry UID (an integer UID in decimal), or "" */
	uint32_t src_offset;
};

enum moat_ats_kind {
	MOAT_ATS_ATSR = 1,  /* root ports that support ATS (flags bit 0: ALL_PORTS) */
	MOAT_ATS_SATC = 2,  /* SoC integrated devices with an address translation cache */
};

struct moat_ats_desc {
	enum moat_ats_kind kind;
	uint16_t segment;
	uint8_t flags;
	uint32_t devset_first;
	uint32_t devset_count;
	uint32_t src_offset;
};

/* struct moat_sysdesc flags */
#define MOAT_SYS_INTR_REMAP     0x01u /* DMAR INTR_REMAP, or IVHD/IVinfo says interrupt remapping is supported */
#define MOAT_SYS_X2APIC_OPT_OUT 0x02u /* DMAR: firmware asks the OS not to enable x2APIC mode */
#define MOAT_SYS_DMA_CTRL_OPT_IN 0x04u /* DMAR: firmware DMA protection handed over; keep it on */

/*
 * The vendor-neutral description. The caller provides every array and sets its capacity
 * (`*_cap`); the builders fill them and set the counts. When an array is too small a builder keeps
 * counting (the counts then give the sizes needed), writes nothing past the capacity and returns
 * MOAT_ERR_NO_SPACE at the end. Indexes (devset_first, unit) refer into these arrays.
 */
struct moat_sysdesc {
	enum moat_vendor vendor;
	uint8_t address_width;     /* DMAR: host address width (field + 1); IVRS: IVinfo physical address size */
	uint32_t flags;            /* MOAT_SYS_* */
	uint32_t ivinfo;           /* IVRS IVinfo field, raw */
	uint32_t skipped;          /* unknown structures or entries skipped by their length */

	struct moat_unit_desc *units;
	uint32_t units_cap, units_count;
	struct moat_devset *devsets;
	uint32_t devsets_cap, devsets_count;
	struct moat_region_desc *regions;
	uint32_t regions_cap, regions_count;
	struct moat_special_desc *specials;
	uint32_t specials_cap, specials_count;
	struct moat_ats_desc *ats;
	uint32_t ats_cap, ats_count;
};

/* ---------------------------------------------------------------------------------------------
 * Routing by the description: the one rule the core (moat_unit_route()), the drivers
 * (moat_vtd_routes(), moat_amdvi_routes()) and reserved regions (moat_region_names()) follow
 * ------------------------------------------------------------------------------------------- */

/*
 * moat_devset_names() - whether device set @ds names requester id @rid of @segment: the set is
 * resolved (no MOAT_DEVSET_UNRESOLVED), of @segment, and @rid lies in [first, last], or the set is
 * MOAT_DEVSET_ALIASED and @rid is its alias (the id the IOMMU sees for those devices: requests
 * with it are theirs). Pure function; false for NULL @ds.
 */
bool moat_devset_names(const struct moat_devset *ds, uint16_t segment, uint16_t rid);

/*
 * moat_unit_desc_includes_all() - whether unit @ud translates every device of its segment that no
 * other unit's device sets name (MOAT_UNIT_INCLUDE_ALL, or an IVHD "all" entry: MOAT_UNIT_AMD_ALL).
 * False for NULL.
 */
bool moat_unit_desc_includes_all(const struct moat_unit_desc *ud);

/*
 * moat_sysdesc_unit_names() - whether a device set of unit @unit of @desc names @rid of @segment
 * (moat_devset_names(); the unit must be of @segment).
 * Returns MOAT_OK (named); MOAT_ERR_NOT_FOUND; MOAT_ERR_INVALID_ARG (NULL @desc or units, @unit
 * past units_count); MOAT_ERR_MALFORMED (the unit, of @segment, has devsets outside desc->devsets).
 */
moat_status moat_sysdesc_unit_names(const struct moat_sysdesc *desc, uint32_t unit, uint16_t segment,
				    uint16_t rid);

/*
 * moat_sysdesc_route() - the unit of @desc (of @vendor; MOAT_VENDOR_NONE: any) that translates
 * @rid of @segment: the first whose device sets name it (moat_sysdesc_unit_names()), else the
 * first of that segment that includes all (moat_unit_desc_includes_all()). *@unit_index is an
 * index into desc->units.
 * Returns MOAT_OK; MOAT_ERR_NOT_FOUND; MOAT_ERR_INVALID_ARG (NULL); MOAT_ERR_MALFORMED (a unit of
 * @vendor and @segment has devsets outside desc->devsets).
 */
moat_status moat_sysdesc_route(const struct moat_sysdesc *desc, enum moat_vendor vendor, uint16_t segment,
			       uint16_t rid, uint32_t *unit_index);

/*
 * Reading PCI configuration space, to resolve DMAR scope paths through bridges: returns the 32-bit
 * dword at @offset (4-aligned) of segment:bus:dev.fn, or 0xffffffff when no device answers. NULL is
 * allowed: then single-element paths are taken as they are and deeper paths are UNRESOLVED.
 */
typedef uint32_t (*moat_pci_cfg_read32_fn)(void *ctx, uint16_t segment, uint8_t bus, uint8_t dev, uint8_t fn,
					   uint16_t offset);

/*
 * moat_acpi_describe_dmar() / moat_acpi_describe_ivrs() - check the whole table and fill @desc
 * (whose arrays and capacities the caller set; counts are reset first).
 * Returns MOAT_OK, MOAT_ERR_NO_SPACE (see struct moat_sysdesc), or the first error of the table
 * (MOAT_ERR_TRUNCATED, MOAT_ERR_MALFORMED, MOAT_ERR_CHECKSUM) with @diag naming the offset; on a
 * table error the counts are reset to zero, so a failed table describes nothing.
 */
moat_status moat_acpi_describe_dmar(const void *table, size_t len, struct moat_sysdesc *desc,
				    moat_pci_cfg_read32_fn cfg_read, void *cfg_ctx, struct moat_diag *diag);
moat_status moat_acpi_describe_ivrs(const void *table, size_t len, struct moat_sysdesc *desc,
				    struct moat_diag *diag);

#ifdef __cplusplus
}
#endif

#endif
