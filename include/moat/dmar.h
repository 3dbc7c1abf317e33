/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DMAR (DMA Remapping Reporting table, Intel VT-d): the raw decoder.
 *
 * Iterators over the table's bytes, exactly as written: the header, then each remapping structure in
 * table order, then each device scope of a structure. Layouts: Intel VT-d specification rev 4.1 / 5.0,
 * chapter 8 "BIOS Considerations" (section numbers are given beside each definition).
 *
 * The iterators check what they need to stay inside the table: every length is checked against its
 * container before it is used, so no input makes them read outside the buffer or loop forever (each
 * step advances by a length of at least 4 bytes, or stops). They do not judge values: a DRHD with
 * register base 0 is returned as it is. moat_dmar_check() walks everything and applies the value
 * rules as well; moat_acpi_describe_dmar() (moat/acpi.h) builds the vendor-neutral description.
 *
 * Errors: MOAT_ERR_TRUNCATED when something runs past the end of its container (the table, or the
 * structure holding a device scope), MOAT_ERR_MALFORMED for an impossible value (a length below the
 * minimum for its type, an odd scope length, ...), MOAT_ERR_CHECKSUM (moat_dmar_check() only). The
 * struct moat_diag names table "DMAR", the byte offset in the table of the offending field and the
 * problem. After an error, calling the same iterator again returns the same error: it does not move.
 */
#ifndef MOAT_DMAR_H
#define MOAT_DMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <moat/acpi.h>
#include <moat/diag.h>
#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The DMAR header: the ACPI header, Host Address Width, Flags, 10 reserved bytes (section 8.1). */
#define MOAT_DMAR_HEADER_SIZE 48u
#define MOAT_DMAR_OFF_HAW     36u  /* Host Address Width field: the width in bits minus 1 */
#define MOAT_DMAR_OFF_FLAGS   37u

/* DMAR flags (section 8.1) */
#define MOAT_DMAR_FLAG_INTR_REMAP               0x01u /* interrupt remapping supported */
#define MOAT_DMAR_FLAG_X2APIC_OPT_OUT           0x02u /* firmware asks the OS not to enable x2APIC mode */
#define MOAT_DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN 0x04u /* firmware DMA protection handed over to the OS */

/* Remapping structure types (section 8.2); other values are reserved and skipped by their length. */
#define MOAT_DMAR_TYPE_DRHD 0u /* DMA Remapping Hardware Unit Definition (8.3) */
#define MOAT_DMAR_TYPE_RMRR 1u /* Reserved Memory Region Reporting (8.4) */
#define MOAT_DMAR_TYPE_ATSR 2u /* Root Port ATS Capability Reporting (8.5) */
#define MOAT_DMAR_TYPE_RHSA 3u /* Remapping Hardware Static Affinity (8.6) */
#define MOAT_DMAR_TYPE_ANDD 4u /* ACPI Name-space Device Declaration (8.7) */
#define MOAT_DMAR_TYPE_SATC 5u /* SoC Integrated Address Translation Cache Reporting (8.8) */
#define MOAT_DMAR_TYPE_SIDP 6u /* SoC Integrated Device Property Reporting (8.9) */

/* Smallest valid length of each structure (its fixed part; the device scopes follow it). */
#define MOAT_DMAR_DRHD_MIN 16u
#define MOAT_DMAR_RMRR_MIN 24u
#define MOAT_DMAR_ATSR_MIN 8u
#define MOAT_DMAR_RHSA_MIN 20u
#define MOAT_DMAR_ANDD_MIN 9u  /* 8 bytes, then the object name: at least its terminating NUL */
#define MOAT_DMAR_SATC_MIN 8u
#define MOAT_DMAR_SIDP_MIN 8u
#define MOAT_DMAR_STRUCT_MIN 4u /* type and length: all a reserved type needs */

/* Structure flags */
#define MOAT_DMAR_DRHD_INCLUDE_PCI_ALL 0x01u /* DRHD (8.3): the unit translates every device of its segment
					       that no other DRHD of the segment lists */
#define MOAT_DMAR_DRHD_SIZE_MASK       0x0fu /* DRHD byte 5 (VT-d 4.x, 8.3): register set is 2^N 4 KiB pages */
#define MOAT_DMAR_ATSR_ALL_PORTS       0x01u /* ATSR (8.5): every root port of the segment supports ATS */
#define MOAT_DMAR_SATC_ATC_REQUIRED    0x01u /* SATC (8.8): the devices need their ATC enabled to work */

/* Device scope types (section 8.3.1); 0 and 6..255 are reserved and skipped by their length. */
#define MOAT_DMAR_SCOPE_ENDPOINT  1u /* PCI endpoint device */
#define MOAT_DMAR_SCOPE_BRIDGE    2u /* PCI-PCI bridge: the bridge and every device below it */
#define MOAT_DMAR_SCOPE_IOAPIC    3u /* I/O APIC (enumeration id: its IOAPIC id) */
#define MOAT_DMAR_SCOPE_HPET      4u /* MSI-capable HPET (enumeration id: its HPET number) */
#define MOAT_DMAR_SCOPE_NAMESPACE 5u /* ACPI name-space device (enumeration id: its ANDD device number) */

/* A device scope: 6 bytes, then a path of at least one (device, function) pair (section 8.3.1). */
#define MOAT_DMAR_SCOPE_HDR 6u
#define MOAT_DMAR_SCOPE_MIN 8u

/* The decoded header. */
struct moat_dmar_info {
	struct moat_acpi_header header; /* signature, length, checksum_valid, OEM fields */
	uint8_t haw;                    /* Host Address Width field as written (width - 1) */
	unsigned address_width;         /* haw + 1: the host physical address width in bits */
	uint8_t flags;                  /* MOAT_DMAR_FLAG_* (other bits reserved, kept as written) */
};

/* Walks the structures of one table. Treat as opaque; set up by moat_dmar_open(). */
struct moat_dmar_iter {
	const uint8_t *table;
	uint32_t length;  /* the table's length field (checked against the buffer) */
	uint32_t offset;  /* the next structure */
};

/* One remapping structure, decoded. Which member of the union is valid depends on `type`. */
struct moat_dmar_struct {
	uint16_t type;          /* MOAT_DMAR_TYPE_*, or a reserved value */
	uint16_t length;        /* bytes, scopes included */
	uint32_t offset;        /* of the structure in the table */
	bool known;             /* type is one of MOAT_DMAR_TYPE_* (else only type/length/offset are set) */
	const uint8_t *raw;     /* the structure's `length` bytes inside the table */
	uint16_t scopes_offset; /* offset of the first device scope inside the structure; == length when
				   the type has no scopes */
	union {
		struct {
			uint8_t flags;          /* MOAT_DMAR_DRHD_INCLUDE_PCI_ALL */
			uint8_t size;           /* byte 5 as written; register set = 4 KiB << (size & 0xf) */
			uint16_t segment;
			uint64_t register_base;
		} drhd;
		struct {
			uint16_t segment;
			uint64_t base;
			uint64_t limit;         /* inclusive: the last byte of the region */
		} rmrr;
		struct {
			uint8_t flags;          /* MOAT_DMAR_ATSR_ALL_PORTS */
			uint16_t segment;
		} atsr;
		struct {
			uint64_t register_base; /* the DRHD this affinity is for */
			uint32_t proximity_domain;
		} rhsa;
		struct {
			uint8_t device_number;  /* matched by the enumeration id of a namespace scope */
			const char *name;       /* the object name bytes inside the table, NOT NUL-terminated */
			uint16_t name_len;      /* bytes of the name before its NUL (or to the structure's end) */
			uint16_t field_len;     /* bytes of the name field: length - 8 (may pad past the NUL) */
		} andd;
		struct {
			uint8_t flags;          /* MOAT_DMAR_SATC_ATC_REQUIRED */
			uint16_t segment;
		} satc;
		struct {
			uint16_t segment;
		} sidp;
	};
};

/* One device scope, decoded (section 8.3.1). */
struct moat_dmar_scope {
	uint8_t type;            /* MOAT_DMAR_SCOPE_*, or a reserved value */
	uint8_t length;          /* 6 + 2 * path_count */
	uint8_t flags;           /* byte 2: scope flags (defined for SIDP scopes, 8.9), reserved elsewhere */
	uint8_t enumeration_id;
	uint8_t start_bus;
	uint8_t path_count;      /* number of (device, function) pairs, >= 1 */
	const uint8_t *path;     /* path[2 * i] device, path[2 * i + 1] function, inside the table */
	uint32_t offset;         /* of the scope in the table */
};

/* Walks the device scopes of one structure. Treat as opaque; set up by moat_dmar_scopes(). */
struct moat_dmar_scope_iter {
	const uint8_t *raw;      /* the structure's bytes */
	uint32_t base;           /* the structure's offset in the table */
	uint32_t pos;            /* next scope, relative to raw */
	uint32_t end;            /* the structure's length */
};

/*
 * moat_dmar_open() - decode the header of the DMAR in @buf (@len bytes available; bytes past the
 * table's length field are ignored) into *@info and point *@it at the first structure.
 * A bad checksum is not an error here: it is reported in info->header.checksum_valid.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG when @buf, @info or @it is NULL; MOAT_ERR_TRUNCATED when @len
 * is too small for the length field or the length field exceeds @len; MOAT_ERR_MALFORMED when the
 * signature is not "DMAR" or the length field is below the 48-byte DMAR header. On error *@info and
 * *@it are unchanged.
 */
moat_status moat_dmar_open(const void *buf, size_t len, struct moat_dmar_info *info, struct moat_dmar_iter *it,
			   struct moat_diag *diag);

/*
 * moat_dmar_next() - decode the next remapping structure into *@s. A structure of a reserved type is
 * returned with known = false, to be skipped (its length was checked).
 * Returns MOAT_OK; MOAT_END after the last structure; MOAT_ERR_TRUNCATED when fewer than 4 bytes
 * remain for a structure header or the structure's length runs past the table; MOAT_ERR_MALFORMED when
 * the length is below the minimum for the type (MOAT_DMAR_*_MIN); MOAT_ERR_INVALID_ARG for NULL
 * arguments. The device scopes are not checked here (moat_dmar_scope_next() does).
 */
moat_status moat_dmar_next(struct moat_dmar_iter *it, struct moat_dmar_struct *s, struct moat_diag *diag);

/*
 * moat_dmar_scopes() - set *@sit to walk the device scopes of @s (as returned by moat_dmar_next()).
 * Structures without scopes (RHSA, ANDD, reserved types) give an iterator that is at its end.
 */
void moat_dmar_scopes(const struct moat_dmar_struct *s, struct moat_dmar_scope_iter *sit);

/*
 * moat_dmar_scope_next() - decode the next device scope into *@sc. A scope of a reserved type is
 * returned as it is (its length was checked), to be skipped.
 * Returns MOAT_OK; MOAT_END after the last scope; MOAT_ERR_TRUNCATED when fewer than 2 bytes remain in
 * the structure for a scope header or the scope's length runs past its structure; MOAT_ERR_MALFORMED
 * when the scope length is below 8 or odd (it must be 6 + 2n, n >= 1); MOAT_ERR_INVALID_ARG for NULL
 * arguments.
 */
moat_status moat_dmar_scope_next(struct moat_dmar_scope_iter *sit, struct moat_dmar_scope *sc,
				 struct moat_diag *diag);

/*
 * moat_dmar_check() - check the whole table in @buf (@len bytes): the header, every structure, every
 * device scope, and the value rules below. Returns the first problem found: the header first, then
 * the checksum, then the structures in table order.
 *  - checksum: all bytes of the table sum to 0 mod 256, else MOAT_ERR_CHECKSUM (offset 9);
 *  - Host Address Width: the width (field + 1) is 12..64 bits, else MOAT_ERR_MALFORMED;
 *  - DRHD: register base not 0 and 4 KiB aligned; the register set (4 KiB << size) does not wrap past
 *    the top of the address space; at most one INCLUDE_PCI_ALL unit per segment;
 *  - RMRR: base 4 KiB aligned; limit >= base; two RMRRs whose ranges intersect have the same range
 *    (firmware repeats one region for several devices; a partial overlap is an error);
 *  - every device scope path element: device 0..31, function 0..7.
 * Returns MOAT_OK, MOAT_ERR_TRUNCATED, MOAT_ERR_MALFORMED, MOAT_ERR_CHECKSUM, or MOAT_ERR_INVALID_ARG
 * when @buf is NULL; @diag names the offset of the offending field.
 */
moat_status moat_dmar_check(const void *buf, size_t len, struct moat_diag *diag);

/* moat_dmar_type_name() - "DRHD", "RMRR", ... for a structure type, or NULL for a reserved type. */
const char *moat_dmar_type_name(uint16_t type);

/* moat_dmar_scope_type_name() - "endpoint", "bridge", "IOAPIC", "HPET", "namespace", or NULL. */
const char *moat_dmar_scope_type_name(uint8_t type);

#ifdef __cplusplus
}
#endif

#endif
