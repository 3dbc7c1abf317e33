/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The input format of fuzz_rsdt, shared with the seed generator: a 16-byte header, then a memory
 * image that appears at physical FUZZ_RSDT_IMAGE_BASE and again at FUZZ_RSDT_IMAGE_BASE_HI (above
 * 4 GiB, reachable only through XSDT entries).
 *
 *   0   flags (FUZZ_RSDT_FIX_*)
 *   1   RSDP revision          } an RSDP handed to moat_acpi_find_table() directly, besides the one
 *   2   RSDT address (le32)    } moat_acpi_find_rsdp() may find in the image
 *   6   XSDT address (le64)    }
 *   14  selector: bits 0-1 highest instance asked for, bits 2-4 an extra signature
 *   15  reserved
 *   16  the image
 */
#ifndef MOAT_FUZZ_RSDT_H
#define MOAT_FUZZ_RSDT_H

#define FUZZ_RSDT_HEADER_SIZE   16u
#define FUZZ_RSDT_OFF_FLAGS     0u
#define FUZZ_RSDT_OFF_REVISION  1u
#define FUZZ_RSDT_OFF_RSDT      2u
#define FUZZ_RSDT_OFF_XSDT      6u
#define FUZZ_RSDT_OFF_SELECT    14u

/* Before the walk, make checksums right so that mutations reach past them: */
#define FUZZ_RSDT_FIX_ROOT      0x01u /* of the root table the direct RSDP names */
#define FUZZ_RSDT_FIX_TABLES    0x02u /* of every table that root table lists (inside the image) */

#define FUZZ_RSDT_IMAGE_BASE    0xe0000ull
#define FUZZ_RSDT_IMAGE_BASE_HI 0x1000e0000ull

#endif
