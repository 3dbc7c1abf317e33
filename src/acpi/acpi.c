/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Common ACPI: table checksums and headers, the RSDP search, and the walk of the RSDT or XSDT to a
 * table. Layouts from the ACPI Specification 6.5: section 5.2.5.3 (RSDP structure), 5.2.6 (System
 * Description Table header), 5.2.7 (RSDT), 5.2.8 (XSDT).
 */
#include <moat/acpi.h>
#include <moat/internal/lib.h>

/* System Description Table header (ACPI 6.5, section 5.2.6, table 5.4): byte offsets. */
#define HDR_SIGNATURE        0u
#define HDR_LENGTH           4u
#define HDR_REVISION         8u
#define HDR_CHECKSUM         9u
#define HDR_OEM_ID           10u  /* 6 bytes */
#define HDR_OEM_TABLE_ID     16u  /* 8 bytes */
#define HDR_OEM_REVISION     24u
#define HDR_CREATOR_ID       28u  /* 4 bytes */
#define HDR_CREATOR_REVISION 32u

/* RSDP structure (ACPI 6.5, section 5.2.5.3, table 5.3): byte offsets. */
#define RSDP_SIGNATURE      0u   /* "RSD PTR ", 8 bytes */
#define RSDP_CHECKSUM       8u   /* covers the first 20 bytes (the ACPI 1.0 part) */
#define RSDP_OEM_ID         9u   /* 6 bytes */
#define RSDP_REVISION       15u
#define RSDP_RSDT_ADDRESS   16u
#define RSDP_V1_SIZE        20u
#define RSDP_LENGTH         20u  /* revision >= 2: length of the whole structure */
#define RSDP_XSDT_ADDRESS   24u
#define RSDP_EXT_CHECKSUM   32u  /* revision >= 2: covers `length` bytes */
#define RSDP_V2_SIZE        36u
#define RSDP_ALIGN          16u  /* the RSDP sits on a 16-byte boundary (section 5.2.5.1) */

/* RSDT entries are 32-bit physical addresses (section 5.2.7), XSDT entries 64-bit (section 5.2.8). */
#define RSDT_ENTRY_SIZE 4u
#define XSDT_ENTRY_SIZE 8u

uint8_t moat_acpi_checksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum;
}

/* Copy a fixed-size text field of @n bytes into @dst (n + 1 bytes), without its trailing NULs. */
static void copy_field(char *dst, const uint8_t *src, size_t n)
{
	while (n > 0 && src[n - 1] == 0)
		n--;
	moat_memcpy(dst, src, n);
	dst[n] = '\0';
}

/* The signature at @p as a diag table name: only when it is printable, else "". */
static void sig_name(char name[5], const uint8_t *p)
{
	for (unsigned i = 0; i < 4; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e) {
			name[0] = '\0';
			return;
		}
		name[i] = (char)p[i];
	}
	name[4] = '\0';
}

moat_status moat_acpi_header_decode(const void *buf, size_t len, struct moat_acpi_header *out,
				    struct moat_diag *diag)
{
	const uint8_t *p = buf;
	struct moat_acpi_header h;
	char name[5] = "";
	uint32_t length;

	if (!buf || !out)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "NULL table or header");
	if (len >= 4)
		sig_name(name, p);
	if (len < MOAT_ACPI_HEADER_SIZE)
		return moat_diag_set(diag, MOAT_ERR_TRUNCATED, name, 0,
				     "%zu bytes, too short for the 36-byte table header", len);
	length = moat_le32(p + HDR_LENGTH);
	if (length < MOAT_ACPI_HEADER_SIZE)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, name, HDR_LENGTH,
				     "table length %u is below the 36-byte header", (unsigned)length);
	if (length > len)
		return moat_diag_set(diag, MOAT_ERR_TRUNCATED, name, HDR_LENGTH,
				     "table length %u runs past the %zu bytes available", (unsigned)length, len);

	copy_field(h.signature, p + HDR_SIGNATURE, 4);
	h.length = length;
	h.revision = p[HDR_REVISION];
	h.checksum = p[HDR_CHECKSUM];
	h.checksum_valid = moat_acpi_checksum(p, length) == 0;
	copy_field(h.oem_id, p + HDR_OEM_ID, 6);
	copy_field(h.oem_table_id, p + HDR_OEM_TABLE_ID, 8);
	h.oem_revision = moat_le32(p + HDR_OEM_REVISION);
	copy_field(h.creator_id, p + HDR_CREATOR_ID, 4);
	h.creator_revision = moat_le32(p + HDR_CREATOR_REVISION);
	*out = h;
	return MOAT_OK;
}

/*
 * Check the RSDP candidate at @p (@avail bytes to the end of the window, at least 20). Returns NULL
 * when it is valid, else why not.
 */
static const char *rsdp_problem(const uint8_t *p, size_t avail)
{
	uint32_t length;

	if (moat_acpi_checksum(p, RSDP_V1_SIZE) != 0)
		return "checksum of the first 20 bytes is not zero";
	if (p[RSDP_REVISION] < 2)
		return NULL;
	if (avail < RSDP_V2_SIZE)
		return "revision 2 structure runs past the window";
	length = moat_le32(p + RSDP_LENGTH);
	if (length < RSDP_V2_SIZE)
		return "length below 36";
	if (length > avail)
		return "length runs past the window";
	if (moat_acpi_checksum(p, length) != 0)
		return "extended checksum is not zero";
	return NULL;
}

moat_status moat_acpi_find_rsdp(const void *window, size_t len, size_t *offset, struct moat_acpi_rsdp *out,
				struct moat_diag *diag)
{
	const uint8_t *w = window;
	const char *why = NULL;
	size_t bad_off = 0;
	unsigned bad = 0;

	if (!window || !out)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, "RSDP", 0, "NULL window or result");

	/* ACPI 6.5, section 5.2.5.1: the signature is searched on 16-byte boundaries. */
	for (size_t off = 0; len >= RSDP_V1_SIZE && off <= len - RSDP_V1_SIZE; off += RSDP_ALIGN) {
		const uint8_t *p = w + off;
		const char *problem;
		struct moat_acpi_rsdp r;

		if (moat_memcmp(p + RSDP_SIGNATURE, "RSD PTR ", 8) != 0)
			continue;
		problem = rsdp_problem(p, len - off);
		if (problem) {
			why = problem;
			bad_off = off;
			bad++;
			continue;
		}
		copy_field(r.oem_id, p + RSDP_OEM_ID, 6);
		r.revision = p[RSDP_REVISION];
		r.rsdt_address = moat_le32(p + RSDP_RSDT_ADDRESS);
		r.length = 0;
		r.xsdt_address = 0;
		if (r.revision >= 2) {
			r.length = moat_le32(p + RSDP_LENGTH);
			r.xsdt_address = moat_le64(p + RSDP_XSDT_ADDRESS);
		}
		*out = r;
		if (offset)
			*offset = off;
		return MOAT_OK;
	}
	if (bad)
		return moat_diag_set(diag, MOAT_ERR_NOT_FOUND, "RSDP", (uint32_t)bad_off,
				     "no valid RSDP in %zu bytes: %u candidate%s rejected, the last one: %s", len,
				     bad, bad == 1 ? "" : "s", why);
	return moat_diag_set(diag, MOAT_ERR_NOT_FOUND, "RSDP", 0, "no \"RSD PTR \" signature in %zu bytes", len);
}

/* The root table chosen by the RSDP, and the RSDP field that points to it (for diags). */
struct root {
	const char *name;        /* "RSDT" or "XSDT" */
	uint64_t address;
	uint32_t rsdp_field;     /* RSDP_RSDT_ADDRESS or RSDP_XSDT_ADDRESS */
	uint32_t entry_size;
};

/* Map, check and return the root table (signature, length, checksum). */
static moat_status root_map(const struct moat_acpi_mem *mem, const struct root *rt, const uint8_t **table,
			    uint32_t *length, struct moat_diag *diag)
{
	const uint8_t *p;
	uint32_t len;

	if (rt->address == 0)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, "RSDP", rt->rsdp_field, "%s address is 0",
				     rt->name);
	p = mem->map(mem->ctx, rt->address, MOAT_ACPI_HEADER_SIZE);
	if (!p)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, "RSDP", rt->rsdp_field,
				     "%s at 0x%llx cannot be read", rt->name, (unsigned long long)rt->address);
	if (moat_memcmp(p + HDR_SIGNATURE, rt->name, 4) != 0)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, rt->name, HDR_SIGNATURE,
				     "table at 0x%llx has signature %02x %02x %02x %02x, not %s",
				     (unsigned long long)rt->address, p[0], p[1], p[2], p[3], rt->name);
	len = moat_le32(p + HDR_LENGTH);
	/* Sections 5.2.7 and 5.2.8: the header, then whole entries, nothing else. */
	if (len < MOAT_ACPI_HEADER_SIZE || (len - MOAT_ACPI_HEADER_SIZE) % rt->entry_size != 0)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, rt->name, HDR_LENGTH,
				     "length %u is not 36 plus a whole number of %u-byte entries", (unsigned)len,
				     (unsigned)rt->entry_size);
	p = mem->map(mem->ctx, rt->address, len);
	if (!p)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, rt->name, HDR_LENGTH,
				     "%u bytes at 0x%llx cannot be read", (unsigned)len,
				     (unsigned long long)rt->address);
	if (moat_acpi_checksum(p, len) != 0)
		return moat_diag_set(diag, MOAT_ERR_CHECKSUM, rt->name, HDR_CHECKSUM,
				     "checksum over %u bytes is 0x%02x, not 0", (unsigned)len,
				     moat_acpi_checksum(p, len));
	*table = p;
	*length = len;
	return MOAT_OK;
}

/* Map the whole table found at @phys (its header at @hdr) and check its length and checksum. */
static moat_status found_map(const struct moat_acpi_mem *mem, const struct root *rt, uint32_t entry_off,
			     uint64_t phys, const uint8_t *hdr, const char *sig, const void **table,
			     uint32_t *length, struct moat_diag *diag)
{
	char name[5];
	uint32_t len = moat_le32(hdr + HDR_LENGTH);
	unsigned index = (entry_off - MOAT_ACPI_HEADER_SIZE) / rt->entry_size;
	const uint8_t *p;

	moat_memcpy(name, sig, 4);
	name[4] = '\0';
	if (len < MOAT_ACPI_HEADER_SIZE)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, name, HDR_LENGTH,
				     "length %u (table at 0x%llx) is below the 36-byte header", (unsigned)len,
				     (unsigned long long)phys);
	p = mem->map(mem->ctx, phys, len);
	if (!p)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, rt->name, entry_off,
				     "entry %u: %u bytes of %s at 0x%llx cannot be read", index, (unsigned)len,
				     name, (unsigned long long)phys);
	if (moat_acpi_checksum(p, len) != 0)
		return moat_diag_set(diag, MOAT_ERR_CHECKSUM, name, HDR_CHECKSUM,
				     "checksum over %u bytes (table at 0x%llx) is 0x%02x, not 0", (unsigned)len,
				     (unsigned long long)phys, moat_acpi_checksum(p, len));
	*table = p;
	*length = len;
	return MOAT_OK;
}

moat_status moat_acpi_find_table(const struct moat_acpi_mem *mem, const struct moat_acpi_rsdp *rsdp,
				 const char sig[4], unsigned instance, const void **table, uint32_t *length,
				 struct moat_diag *diag)
{
	struct root rt;
	const uint8_t *root = NULL;
	uint32_t root_len = 0, count;
	unsigned seen = 0;
	char name[5];
	moat_status st;

	if (!mem || !mem->map || !rsdp || !sig || !table || !length)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "NULL argument");

	/* Section 5.2.5.3: from revision 2 on the XSDT supersedes the RSDT when its address is set. */
	if (rsdp->revision >= 2 && rsdp->xsdt_address != 0)
		rt = (struct root){ "XSDT", rsdp->xsdt_address, RSDP_XSDT_ADDRESS, XSDT_ENTRY_SIZE };
	else
		rt = (struct root){ "RSDT", rsdp->rsdt_address, RSDP_RSDT_ADDRESS, RSDT_ENTRY_SIZE };

	st = root_map(mem, &rt, &root, &root_len, diag);
	if (st != MOAT_OK)
		return st;

	count = (root_len - MOAT_ACPI_HEADER_SIZE) / rt.entry_size;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t off = MOAT_ACPI_HEADER_SIZE + i * rt.entry_size;
		/* XSDT entries sit at offset 36 + 8i: 4-byte aligned at best, so read them bytewise. */
		uint64_t phys = rt.entry_size == XSDT_ENTRY_SIZE ? moat_le64(root + off) : moat_le32(root + off);
		const uint8_t *hdr;

		if (phys == 0)
			continue; /* an empty slot: no table there */
		hdr = mem->map(mem->ctx, phys, MOAT_ACPI_HEADER_SIZE);
		if (!hdr)
			return moat_diag_set(diag, MOAT_ERR_MALFORMED, rt.name, off,
					     "entry %u: table at 0x%llx cannot be read", (unsigned)i,
					     (unsigned long long)phys);
		if (moat_memcmp(hdr + HDR_SIGNATURE, sig, 4) != 0)
			continue;
		if (seen++ != instance)
			continue;
		return found_map(mem, &rt, off, phys, hdr, sig, table, length, diag);
	}
	moat_memcpy(name, sig, 4);
	name[4] = '\0';
	return moat_diag_set(diag, MOAT_ERR_NOT_FOUND, rt.name, 0,
			     "no %s table number %u: %u found among %u entries", name, instance, seen,
			     (unsigned)count);
}
