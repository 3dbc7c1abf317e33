/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IVRS, the AMD I/O Virtualization Reporting Structure: raw decoder.
 *
 * The table as the firmware wrote it, walked with iterators over its bytes: no allocation, no
 * copies, nothing trusted. Layouts come from the AMD I/O Virtualization Technology (IOMMU)
 * Specification, publication 48882 (rev 3.x), section 5.2 "IVRS": the IVRS header and its IVinfo
 * field, the I/O Virtualization Hardware Definition blocks (IVHD, types 10h, 11h, 40h) with their
 * device entries ("IVHD device entry type codes"), and the I/O Virtualization Memory Definition
 * blocks (IVMD, types 20h, 21h, 22h). Sections cited below are of that publication.
 *
 * Layout:
 *   0   ACPI header (36 bytes)
 *   36  IVinfo (4)          40  reserved (8)
 *   48  structures, each starting with type (1), flags (1), length (2, the whole structure)
 *
 * Walking a table:
 *
 *     struct moat_ivrs_info info;
 *     struct moat_ivrs_iter it;
 *     struct moat_ivrs_struct s;
 *     moat_status st = moat_ivrs_open(buf, len, &info, &it, &diag);
 *     while (st == MOAT_OK && (st = moat_ivrs_next(&it, &s, &diag)) == MOAT_OK) {
 *             if (s.kind == MOAT_IVRS_KIND_IVHD) {
 *                     struct moat_ivhd_iter eit;
 *                     struct moat_ivhd_entry e;
 *                     moat_ivrs_entries_begin(&it, &s, &eit);
 *                     while ((st = moat_ivrs_entry_next(&eit, &e, &diag)) == MOAT_OK)
 *                             use(&e);
 *                     if (st == MOAT_END)
 *                             st = MOAT_OK;
 *             }
 *     }
 *     (MOAT_END ends the walk; anything else is the table's first problem.)
 *
 * moat_ivrs_check() does exactly this and also verifies the checksum; moat_acpi_describe_ivrs()
 * (moat/acpi.h) builds the vendor-neutral description from the same walk.
 */
#ifndef MOAT_IVRS_H
#define MOAT_IVRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <moat/acpi.h>
#include <moat/diag.h>
#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Sizes and type codes
 * ------------------------------------------------------------------------------------------- */

#define MOAT_IVRS_HEADER_SIZE        48u /* ACPI header, IVinfo, 8 reserved bytes */
#define MOAT_IVRS_STRUCT_HEADER_SIZE 4u  /* type, flags, length: common to every structure */
#define MOAT_IVHD10_HEADER_SIZE      24u /* IVHD type 10h, before its device entries */
#define MOAT_IVHD11_HEADER_SIZE      40u /* IVHD types 11h and 40h, before their device entries */
#define MOAT_IVMD_SIZE               32u
#define MOAT_IVHD_HID_FIXED_SIZE     22u /* ACPI HID entry without its UID */

/* Structure types (section 5.2: IVHD and IVMD block types) */
#define MOAT_IVRS_TYPE_IVHD10      0x10u /* fixed format, IOMMU feature reporting field */
#define MOAT_IVRS_TYPE_IVHD11      0x11u /* fixed format, IOMMU attributes and EFR image */
#define MOAT_IVRS_TYPE_IVHD40      0x40u /* mixed format: as 11h, plus ACPI HID device entries */
#define MOAT_IVRS_TYPE_IVMD_ALL    0x20u /* memory block for every device */
#define MOAT_IVRS_TYPE_IVMD_SELECT 0x21u /* for the device named by device id */
#define MOAT_IVRS_TYPE_IVMD_RANGE  0x22u /* for device id .. aux data (the last device id) */

/* IVinfo, the 32-bit field at table offset 36 (section 5.2, IVRS header) */
#define MOAT_IVINFO_EFR_SUP       0x00000001u /* IVHD 11h/40h carry an EFR image */
#define MOAT_IVINFO_DMA_REMAP     0x00000002u /* firmware reports DMA remapping (pre-boot DMA protection) */
#define MOAT_IVINFO_GVA_SIZE(v)   (((v) >> 5) & 0x7u)    /* guest virtual address size code (2: 48 bits) */
#define MOAT_IVINFO_PA_SIZE(v)    (((v) >> 8) & 0x7fu)   /* physical address size, bits */
#define MOAT_IVINFO_VA_SIZE(v)    (((v) >> 15) & 0x7fu)  /* virtual address size, bits */
#define MOAT_IVINFO_HT_ATS_RESV   0x00400000u /* HyperTransport ATS reserved address range in use */

/* IVHD flags, structure byte 1 (section 5.2, IVHD; bits 6-7 only in type 10h) */
#define MOAT_IVHD_F_HT_TUN_EN   0x01u
#define MOAT_IVHD_F_PASS_PW     0x02u
#define MOAT_IVHD_F_RES_PASS_PW 0x04u
#define MOAT_IVHD_F_ISOC        0x08u
#define MOAT_IVHD_F_IOTLB_SUP   0x10u
#define MOAT_IVHD_F_COHERENT    0x20u
#define MOAT_IVHD_F_PREF_SUP    0x40u
#define MOAT_IVHD_F_PPR_SUP     0x80u

/* IVHD IOMMU info, structure offset 18 */
#define MOAT_IVHD_INFO_MSI_NUM(v) ((v) & 0x1fu)
#define MOAT_IVHD_INFO_UNIT_ID(v) (((v) >> 8) & 0x1fu)

/* IVHD 10h IOMMU feature reporting, structure offset 20 */
#define MOAT_IVHD_FEAT_XT_SUP         0x00000001u
#define MOAT_IVHD_FEAT_NX_SUP         0x00000002u
#define MOAT_IVHD_FEAT_GT_SUP         0x00000004u
#define MOAT_IVHD_FEAT_GLX_SUP(v)     (((v) >> 3) & 0x3u)
#define MOAT_IVHD_FEAT_IA_SUP         0x00000020u
#define MOAT_IVHD_FEAT_GA_SUP         0x00000040u
#define MOAT_IVHD_FEAT_HE_SUP         0x00000080u
#define MOAT_IVHD_FEAT_PAS_MAX(v)     (((v) >> 8) & 0x1fu)
#define MOAT_IVHD_FEAT_PN_COUNTERS(v) (((v) >> 13) & 0xfu)  /* also in the 11h/40h attributes */
#define MOAT_IVHD_FEAT_PN_BANKS(v)    (((v) >> 17) & 0x3fu) /* also in the 11h/40h attributes */
#define MOAT_IVHD_FEAT_MSI_NUM_PPR(v) (((v) >> 23) & 0x1fu) /* also in the 11h/40h attributes */
#define MOAT_IVHD_FEAT_GATS(v)        (((v) >> 28) & 0x3u)
#define MOAT_IVHD_FEAT_HATS(v)        (((v) >> 30) & 0x3u)

/* Extended Feature Register image (IVHD 11h/40h offset 24; the register at MMIO offset 30h) */
#define MOAT_EFR_PREF_SUP      (1ull << 0)
#define MOAT_EFR_PPR_SUP       (1ull << 1)
#define MOAT_EFR_XT_SUP        (1ull << 2)
#define MOAT_EFR_NX_SUP        (1ull << 3)
#define MOAT_EFR_GT_SUP        (1ull << 4)
#define MOAT_EFR_IA_SUP        (1ull << 6)
#define MOAT_EFR_GA_SUP        (1ull << 7)
#define MOAT_EFR_HE_SUP        (1ull << 8)
#define MOAT_EFR_PC_SUP        (1ull << 9)
#define MOAT_EFR_HATS(v)       ((unsigned)(((v) >> 10) & 0x3u))
#define MOAT_EFR_GATS(v)       ((unsigned)(((v) >> 12) & 0x3u))
#define MOAT_EFR_GLX_SUP(v)    ((unsigned)(((v) >> 14) & 0x3u))
#define MOAT_EFR_PAS_MAX(v)    ((unsigned)(((v) >> 32) & 0x1fu))
#define MOAT_EFR_US_SUP        (1ull << 37)
#define MOAT_EFR_DEV_TBL_SEG(v) ((unsigned)(((v) >> 38) & 0x3u))
#define MOAT_EFR_GIO_SUP       (1ull << 48)
#define MOAT_EFR_HA_SUP        (1ull << 49)
#define MOAT_EFR_HD_SUP        (1ull << 52)

/*
 * Register space of one IOMMU (chapter 3, MMIO registers): 16 KiB; 512 KiB when it has performance
 * counters, whose banks sit from MMIO offset 4_0000h.
 */
#define MOAT_AMDVI_MMIO_SIZE    0x4000u
#define MOAT_AMDVI_MMIO_SIZE_PC 0x80000u

/* IVHD device entry types (section 5.2, table "IVHD device entry type codes") */
#define MOAT_IVHD_ENTRY_PAD4         0u   /* reserved 4-byte entry: padding */
#define MOAT_IVHD_ENTRY_ALL          1u   /* every device id */
#define MOAT_IVHD_ENTRY_SELECT       2u   /* one device id */
#define MOAT_IVHD_ENTRY_RANGE_START  3u   /* first device id of a range, ended by a type 4 */
#define MOAT_IVHD_ENTRY_RANGE_END    4u   /* last device id of the open range */
#define MOAT_IVHD_ENTRY_PAD8         64u  /* reserved 8-byte entry: padding */
#define MOAT_IVHD_ENTRY_ALIAS_SELECT 66u  /* one device id, seen by the IOMMU as alias_id */
#define MOAT_IVHD_ENTRY_ALIAS_RANGE  67u  /* range start whose devices are seen as alias_id */
#define MOAT_IVHD_ENTRY_EXT_SELECT   70u  /* one device id, with an extended setting */
#define MOAT_IVHD_ENTRY_EXT_RANGE    71u  /* range start with an extended setting */
#define MOAT_IVHD_ENTRY_SPECIAL      72u  /* IOAPIC or HPET and the device id it uses */
#define MOAT_IVHD_ENTRY_ACPI_HID     240u /* ACPI namespace device: HID, CID, UID (variable length) */

/* DTE setting byte of a device entry (byte 3) */
#define MOAT_IVHD_DTE_INIT_PASS  0x01u
#define MOAT_IVHD_DTE_EINT_PASS  0x02u
#define MOAT_IVHD_DTE_NMI_PASS   0x04u
#define MOAT_IVHD_DTE_SYS_MGT(v) (((v) >> 4) & 0x3u)
#define MOAT_IVHD_DTE_LINT0_PASS 0x40u
#define MOAT_IVHD_DTE_LINT1_PASS 0x80u

/* Extended setting of entries 70 and 71 */
#define MOAT_IVHD_EXT_ATS_DISABLED 0x80000000u

/* Special entry (72) variety */
#define MOAT_IVHD_SPECIAL_IOAPIC 1u
#define MOAT_IVHD_SPECIAL_HPET   2u

/* ACPI HID entry (240) UID format */
#define MOAT_IVHD_UID_NONE    0u
#define MOAT_IVHD_UID_INTEGER 1u /* little-endian integer of uid_length bytes (1 to 8) */
#define MOAT_IVHD_UID_STRING  2u /* uid_length characters */

/* IVMD flags (structure byte 1) */
#define MOAT_IVMD_F_UNITY     0x01u /* map the block 1:1 for the devices */
#define MOAT_IVMD_F_IR        0x02u /* readable */
#define MOAT_IVMD_F_IW        0x04u /* writeable */
#define MOAT_IVMD_F_EXCLUSION 0x08u /* exclusion range: the devices reach it untranslated */

/* ---------------------------------------------------------------------------------------------
 * Decoded items
 * ------------------------------------------------------------------------------------------- */

/* The table's fixed part. */
struct moat_ivrs_info {
	/*
	 * The ACPI header. When the table is cut short (its length field exceeds the bytes given),
	 * only signature, length, revision and checksum are filled and checksum_valid is false.
	 */
	struct moat_acpi_header header;
	uint32_t ivinfo;           /* raw; see MOAT_IVINFO_* */
};

/* Iterator over the structures (IVHD, IVMD, unknown) of one table. */
struct moat_ivrs_iter {
	const uint8_t *table;
	uint32_t end;              /* bytes walked: the length field, or fewer when the buffer is shorter */
	uint32_t off;              /* offset of the next structure */
};

enum moat_ivrs_kind {
	MOAT_IVRS_KIND_IVHD = 1,   /* types 10h, 11h, 40h */
	MOAT_IVRS_KIND_IVMD = 2,   /* types 20h, 21h, 22h */
	MOAT_IVRS_KIND_UNKNOWN = 3,/* any other type: skipped by its length */
};

/* One structure. Fields not used by its kind are zero. */
struct moat_ivrs_struct {
	enum moat_ivrs_kind kind;
	uint8_t type;
	uint8_t flags;
	uint16_t length;           /* the structure's length field */
	uint32_t offset;           /* of the structure in the table */
	uint16_t device_id;        /* IVHD: the IOMMU's own requester id; IVMD: the (first) device */
	/* IVHD */
	uint16_t capability_offset;
	uint64_t base_address;
	uint16_t segment;
	uint16_t info;             /* MOAT_IVHD_INFO_* */
	uint32_t feature;          /* 10h: IOMMU feature reporting; 11h/40h: IOMMU attributes */
	uint64_t efr;              /* 11h/40h: the EFR register image */
	uint32_t entries_offset;   /* offset of the first device entry in the table */
	/* IVMD */
	uint16_t aux_data;         /* 22h: the last device id of the range */
	uint64_t start;
	uint64_t mem_length;       /* bytes */
};

/* The range a range end (type 4) closes, as its start entry gave it. */
struct moat_ivhd_range {
	uint8_t start_type;        /* 3, 67 or 71 */
	uint8_t setting;
	uint16_t first;            /* first device id; the end entry's device_id is the last */
	uint16_t alias_id;         /* 67 */
	uint32_t ext_setting;      /* 71 */
	uint32_t start_offset;     /* of the start entry in the table */
};

/* Iterator over the device entries of one IVHD. */
struct moat_ivhd_iter {
	const uint8_t *table;
	uint32_t off;              /* next entry */
	uint32_t end;              /* end of the IVHD */
	bool in_range;             /* a range start was seen and its end not yet */
	struct moat_ivhd_range open;
};

/* One device entry. Fields not used by its type are zero. */
struct moat_ivhd_entry {
	uint8_t type;
	uint8_t setting;           /* DTE setting byte, MOAT_IVHD_DTE_* */
	uint16_t device_id;
	uint16_t length;           /* bytes of the entry */
	bool known;                /* a type 48882 defines; other types are skipped by their length */
	uint32_t offset;           /* of the entry in the table */
	/* 66, 67 */
	uint16_t alias_id;
	/* 70, 71 */
	uint32_t ext_setting;
	/* 72 */
	uint8_t handle;            /* IOAPIC id or HPET number */
	uint16_t source_id;        /* the device id the IOAPIC or HPET uses */
	uint8_t variety;           /* MOAT_IVHD_SPECIAL_* */
	/* 240 */
	uint8_t hid[8];            /* raw; see moat_ivhd_acpi_id() */
	uint8_t cid[8];
	uint8_t uid_format;        /* MOAT_IVHD_UID_* */
	uint8_t uid_length;
	const uint8_t *uid;        /* uid_length bytes inside the table (NULL when uid_length is 0) */
	/* 4: the range it ends (first = range.first, last = device_id) */
	struct moat_ivhd_range range;
};

/* ---------------------------------------------------------------------------------------------
 * Functions
 * ------------------------------------------------------------------------------------------- */

/*
 * moat_ivrs_open() - check the fixed part of the IVRS in @buf (@len bytes available) and start an
 * iteration over its structures.
 * Fills *@info and *@it (neither may be NULL). Returns MOAT_OK, or:
 *  - MOAT_ERR_TRUNCATED: @len below 36 (diag offset 0), or the length field exceeds @len (offset 4);
 *  - MOAT_ERR_MALFORMED: the signature is not "IVRS" (offset 0), or the length field is below 48
 *    (offset 4);
 *  - MOAT_ERR_INVALID_ARG: @buf, @info or @it NULL.
 * A bad checksum is no error here: info->header.checksum_valid says it. On a table error *@it is
 * still usable and walks what the buffer holds (nothing when not even the 48-byte fixed part is
 * there), so a tool can show what decodes.
 */
moat_status moat_ivrs_open(const void *buf, size_t len, struct moat_ivrs_info *info,
			   struct moat_ivrs_iter *it, struct moat_diag *diag);

/*
 * moat_ivrs_next() - the next structure of the table.
 * Returns MOAT_OK with *@s filled, MOAT_END after the last one, or the structure's problem:
 *  - MOAT_ERR_TRUNCATED: fewer than 4 bytes left for a structure header, or the length runs past
 *    the end of the table (diag offset: the structure);
 *  - MOAT_ERR_MALFORMED: length below 4 (0 included) or below the IVHD header (24 for 10h, 40 for
 *    11h/40h) or the IVMD size (32) (diag offset: the length field, structure + 2); IVHD register
 *    base 0 or not 16 KiB aligned (offset of the base field, + 8); IVMD start not 4 KiB aligned
 *    (+ 16), memory length 0 or start + length beyond 2^64 (+ 24); IVMD 22h whose last device id
 *    (aux data) is below its first (+ 6).
 * After a length problem the iteration is over (the next call returns MOAT_END). After a value
 * problem *@s is filled and the iteration continues behind the structure.
 */
moat_status moat_ivrs_next(struct moat_ivrs_iter *it, struct moat_ivrs_struct *s, struct moat_diag *diag);

/*
 * moat_ivrs_entries_begin() - start an iteration over the device entries of @ivhd, a structure
 * @it returned. For a structure that is not an IVHD the iteration is empty.
 */
void moat_ivrs_entries_begin(const struct moat_ivrs_iter *it, const struct moat_ivrs_struct *ivhd,
			     struct moat_ivhd_iter *eit);

/*
 * moat_ivrs_entry_next() - the next device entry of the IVHD.
 * An entry's length comes from the top two bits of its type (00b: 4 bytes, 01b: 8, 10b: 16,
 * 11b: 32; section 5.2, IVHD device entries), except the ACPI HID entry (240): 22 bytes plus its
 * UID length.
 * Returns MOAT_OK with *@e filled (unknown types too, with known false), MOAT_END after the last
 * entry, or:
 *  - MOAT_ERR_TRUNCATED: the entry runs past the end of its IVHD (diag offset: the entry); the
 *    iteration is then over;
 *  - MOAT_ERR_MALFORMED: a range end (4) without a range start; a range end below its start; a
 *    range start (3, 67, 71) not followed by its range end (only pad entries may come between;
 *    offset: the start entry); an ACPI HID entry whose UID format is above 2, or an integer UID
 *    of 0 or more than 8 bytes. *@e is then filled and the iteration continues.
 */
moat_status moat_ivrs_entry_next(struct moat_ivhd_iter *eit, struct moat_ivhd_entry *e,
				 struct moat_diag *diag);

/*
 * moat_ivrs_check() - walk the whole table (header, every structure, every device entry) and
 * return its first problem: what moat_ivrs_open(), moat_ivrs_next() or moat_ivrs_entry_next()
 * return, in table order; when all of it is well formed, MOAT_ERR_CHECKSUM (diag offset 9) if the
 * bytes do not sum to zero. MOAT_OK when the table is sound.
 */
moat_status moat_ivrs_check(const void *buf, size_t len, struct moat_diag *diag);

/*
 * moat_ivrs_ivhd_preferred() - whether @ivhd is the block to use for its IOMMU. An IOMMU (device
 * id and segment) may be described by several IVHDs of different types; the one of the highest
 * type this code knows (40h, then 11h, then 10h; the first of equal ones) is preferred.
 * @first: an iterator as moat_ivrs_open() returned it (at the first structure). The table is
 * walked again from there, up to its first problem. Returns false for a structure that is not an
 * IVHD.
 */
bool moat_ivrs_ivhd_preferred(const struct moat_ivrs_iter *first, const struct moat_ivrs_struct *ivhd);

/*
 * moat_ivrs_register_size() - bytes of register space of the IOMMU an IVHD describes: 512 KiB
 * when it has performance counters (11h/40h: EFR PCSup; 10h: counters and banks in the feature
 * reporting field), else 16 KiB.
 */
uint32_t moat_ivrs_register_size(const struct moat_ivrs_struct *ivhd);

/*
 * moat_ivhd_acpi_id() - an ACPI HID or CID field of an entry 240 as a string in @out (17 bytes,
 * NUL-terminated): the characters as they are when the field holds a string (trailing NULs
 * removed; all zero gives ""), the EISA form ("PNP0A03") when it holds a compressed EISA id
 * (upper four bytes zero), else 16 hex digits of the little-endian value.
 */
void moat_ivhd_acpi_id(const uint8_t raw[8], char out[17]);

/*
 * moat_ivhd_uid_string() - the UID of an entry 240 as a string in @buf of @size bytes (always
 * NUL-terminated when @size > 0): an integer UID in decimal, a string UID up to its first NUL,
 * "" without UID. Returns the length the full string has (it may exceed @size - 1).
 */
size_t moat_ivhd_uid_string(const struct moat_ivhd_entry *e, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
