/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DMAR raw decoder and checks. Layouts: Intel VT-d specification rev 4.1 / 5.0, chapter 8.
 * Every offset below is relative to the start of its structure unless it says otherwise.
 */
#include <moat/dmar.h>
#include <moat/internal/lib.h>

#define PAGE_4K 0x1000ull

/* Common remapping-structure header (section 8.2): Type (2), Length (2). */
#define S_TYPE 0u
#define S_LEN  2u

/* DRHD (section 8.3) */
#define DRHD_FLAGS   4u
#define DRHD_SIZE    5u  /* VT-d 4.x: bits 3:0 = N, register set is 2^N 4 KiB pages; reserved before */
#define DRHD_SEGMENT 6u
#define DRHD_BASE    8u
/* RMRR (section 8.4): Reserved (2) at 4 */
#define RMRR_SEGMENT 6u
#define RMRR_BASE    8u
#define RMRR_LIMIT   16u
/* ATSR (8.5) and SATC (8.8): Flags (1), Reserved (1), Segment (2) */
#define ATSR_FLAGS   4u
#define ATSR_SEGMENT 6u
/* RHSA (section 8.6): Reserved (4) at 4 */
#define RHSA_BASE    8u
#define RHSA_DOMAIN  16u
/* ANDD (section 8.7): Reserved (3) at 4 */
#define ANDD_NUMBER  7u
#define ANDD_NAME    8u
/* SIDP (section 8.9): Reserved (2) at 4 */
#define SIDP_SEGMENT 6u

/* Device scope (section 8.3.1) */
#define SC_TYPE  0u
#define SC_LEN   1u
#define SC_FLAGS 2u  /* reserved before VT-d 4.x; scope flags in SIDP (8.9) */
#define SC_ENUM  4u
#define SC_BUS   5u
#define SC_PATH  6u

static const char DMAR[] = "DMAR";

const char *moat_dmar_type_name(uint16_t type)
{
	static const char *const names[] = { "DRHD", "RMRR", "ATSR", "RHSA", "ANDD", "SATC", "SIDP" };
	return type < MOAT_ARRAY_SIZE(names) ? names[type] : NULL;
}

const char *moat_dmar_scope_type_name(uint8_t type)
{
	static const char *const names[] = { NULL, "endpoint", "bridge", "IOAPIC", "HPET", "namespace" };
	return type < MOAT_ARRAY_SIZE(names) ? names[type] : NULL;
}

static uint16_t min_length(uint16_t type)
{
	static const uint16_t mins[] = {
		MOAT_DMAR_DRHD_MIN, MOAT_DMAR_RMRR_MIN, MOAT_DMAR_ATSR_MIN, MOAT_DMAR_RHSA_MIN,
		MOAT_DMAR_ANDD_MIN, MOAT_DMAR_SATC_MIN, MOAT_DMAR_SIDP_MIN,
	};
	return type < MOAT_ARRAY_SIZE(mins) ? mins[type] : MOAT_DMAR_STRUCT_MIN;
}

moat_status moat_dmar_open(const void *buf, size_t len, struct moat_dmar_info *info, struct moat_dmar_iter *it,
			   struct moat_diag *diag)
{
	const uint8_t *b = buf;
	struct moat_acpi_header hdr;
	uint32_t length;
	moat_status st;

	if (!buf || !info || !it)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, DMAR, 0, "NULL table, header or iterator");
	/* Our own length checks first, so every message speaks of the DMAR header (section 8.1). */
	if (len < 8)
		return moat_diag_set(diag, MOAT_ERR_TRUNCATED, DMAR, 0,
				     "table of %zu bytes ends inside the 48-byte DMAR header", len);
	if (moat_memcmp(b, DMAR, 4))
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, 0, "signature is not \"DMAR\"");
	length = moat_le32(b + 4);
	if (length > len)
		return moat_diag_set(diag, MOAT_ERR_TRUNCATED, DMAR, 4,
				     "table length %u runs past the %zu bytes available", (unsigned)length, len);
	if (length < MOAT_DMAR_HEADER_SIZE)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, 4,
				     "table length %u below the 48-byte DMAR header", (unsigned)length);
	st = moat_acpi_header_decode(b, len, &hdr, diag);
	if (st != MOAT_OK)
		return st;
	info->header = hdr;
	info->haw = b[MOAT_DMAR_OFF_HAW];
	info->address_width = (unsigned)info->haw + 1;
	info->flags = b[MOAT_DMAR_OFF_FLAGS];
	it->table = b;
	it->length = length;
	it->offset = MOAT_DMAR_HEADER_SIZE;
	return MOAT_OK;
}

static void decode_fields(struct moat_dmar_struct *s)
{
	const uint8_t *r = s->raw;

	s->known = true;
	switch (s->type) {
	case MOAT_DMAR_TYPE_DRHD:
		s->drhd.flags = r[DRHD_FLAGS];
		s->drhd.size = r[DRHD_SIZE];
		s->drhd.segment = moat_le16(r + DRHD_SEGMENT);
		s->drhd.register_base = moat_le64(r + DRHD_BASE);
		s->scopes_offset = MOAT_DMAR_DRHD_MIN;
		break;
	case MOAT_DMAR_TYPE_RMRR:
		s->rmrr.segment = moat_le16(r + RMRR_SEGMENT);
		s->rmrr.base = moat_le64(r + RMRR_BASE);
		s->rmrr.limit = moat_le64(r + RMRR_LIMIT);
		s->scopes_offset = MOAT_DMAR_RMRR_MIN;
		break;
	case MOAT_DMAR_TYPE_ATSR:
		s->atsr.flags = r[ATSR_FLAGS];
		s->atsr.segment = moat_le16(r + ATSR_SEGMENT);
		s->scopes_offset = MOAT_DMAR_ATSR_MIN;
		break;
	case MOAT_DMAR_TYPE_RHSA:
		s->rhsa.register_base = moat_le64(r + RHSA_BASE);
		s->rhsa.proximity_domain = moat_le32(r + RHSA_DOMAIN);
		break;
	case MOAT_DMAR_TYPE_ANDD: {
		/* The name field runs to the end of the structure; firmware pads it past the NUL. */
		uint16_t field = (uint16_t)(s->length - ANDD_NAME);
		s->andd.device_number = r[ANDD_NUMBER];
		s->andd.name = (const char *)(r + ANDD_NAME);
		s->andd.field_len = field;
		s->andd.name_len = (uint16_t)moat_strnlen(s->andd.name, field);
		break;
	}
	case MOAT_DMAR_TYPE_SATC:
		s->satc.flags = r[ATSR_FLAGS];
		s->satc.segment = moat_le16(r + ATSR_SEGMENT);
		s->scopes_offset = MOAT_DMAR_SATC_MIN;
		break;
	case MOAT_DMAR_TYPE_SIDP:
		s->sidp.segment = moat_le16(r + SIDP_SEGMENT);
		s->scopes_offset = MOAT_DMAR_SIDP_MIN;
		break;
	default:
		s->known = false;
		break;
	}
}

moat_status moat_dmar_next(struct moat_dmar_iter *it, struct moat_dmar_struct *s, struct moat_diag *diag)
{
	uint32_t off, left;
	uint16_t type, length, min;

	if (!it || !s || !it->table)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, DMAR, 0, "NULL iterator or structure");
	off = it->offset;
	if (off >= it->length)
		return MOAT_END;
	left = it->length - off;
	if (left < MOAT_DMAR_STRUCT_MIN)
		return moat_diag_set(diag, MOAT_ERR_TRUNCATED, DMAR, off,
				     "%u bytes left at the end of the table, too few for a structure header",
				     (unsigned)left);
	type = moat_le16(it->table + off + S_TYPE);
	length = moat_le16(it->table + off + S_LEN);
	min = min_length(type);
	if (length < min) {
		const char *name = moat_dmar_type_name(type);
		if (name)
			return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, off + S_LEN,
					     "%s length %u below its minimum %u", name, length, min);
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, off + S_LEN,
				     "structure of type %u: length %u below 4", type, length);
	}
	if (length > left)
		return moat_diag_set(diag, MOAT_ERR_TRUNCATED, DMAR, off + S_LEN,
				     "%s length %u runs past the end of the table (%u bytes left)",
				     moat_dmar_type_name(type) ? moat_dmar_type_name(type) : "structure", length,
				     (unsigned)left);
	moat_memset(s, 0, sizeof(*s));
	s->type = type;
	s->length = length;
	s->offset = off;
	s->raw = it->table + off;
	s->scopes_offset = length;
	decode_fields(s);
	it->offset = off + length;
	return MOAT_OK;
}

void moat_dmar_scopes(const struct moat_dmar_struct *s, struct moat_dmar_scope_iter *sit)
{
	if (!sit)
		return;
	if (!s || !s->raw) {
		*sit = (struct moat_dmar_scope_iter){ 0 };
		return;
	}
	*sit = (struct moat_dmar_scope_iter){
		.raw = s->raw,
		.base = s->offset,
		.pos = s->scopes_offset < s->length ? s->scopes_offset : s->length,
		.end = s->length,
	};
}

moat_status moat_dmar_scope_next(struct moat_dmar_scope_iter *sit, struct moat_dmar_scope *sc,
				 struct moat_diag *diag)
{
	uint32_t pos, left, off;
	uint8_t length;

	if (!sit || !sc)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, DMAR, 0, "NULL scope iterator or scope");
	pos = sit->pos;
	if (!sit->raw || pos >= sit->end)
		return MOAT_END;
	left = sit->end - pos;
	off = sit->base + pos;
	if (left < 2)
		return moat_diag_set(diag, MOAT_ERR_TRUNCATED, DMAR, off,
				     "1 byte left at the end of the structure at 0x%x, too few for a device scope",
				     (unsigned)sit->base);
	length = sit->raw[pos + SC_LEN];
	if (length < MOAT_DMAR_SCOPE_MIN || (length & 1))
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, off + SC_LEN,
				     "device scope length %u is not 6 + 2n with n >= 1", length);
	if (length > left)
		return moat_diag_set(diag, MOAT_ERR_TRUNCATED, DMAR, off + SC_LEN,
				     "device scope length %u runs past the end of the structure at 0x%x "
				     "(%u bytes left)", length, (unsigned)sit->base, (unsigned)left);
	*sc = (struct moat_dmar_scope){
		.type = sit->raw[pos + SC_TYPE],
		.length = length,
		.flags = sit->raw[pos + SC_FLAGS],
		.enumeration_id = sit->raw[pos + SC_ENUM],
		.start_bus = sit->raw[pos + SC_BUS],
		.path_count = (uint8_t)((length - MOAT_DMAR_SCOPE_HDR) / 2),
		.path = sit->raw + pos + SC_PATH,
		.offset = off,
	};
	sit->pos = pos + length;
	return MOAT_OK;
}

/* ------------------------------------------------------------------------------------------------
 * Whole-table check
 * ---------------------------------------------------------------------------------------------- */

static moat_status check_scopes(const struct moat_dmar_struct *s, struct moat_diag *diag)
{
	struct moat_dmar_scope_iter sit;
	struct moat_dmar_scope sc;
	moat_status st;

	moat_dmar_scopes(s, &sit);
	while ((st = moat_dmar_scope_next(&sit, &sc, diag)) == MOAT_OK) {
		for (unsigned i = 0; i < sc.path_count; i++) {
			uint8_t dev = sc.path[2 * i], fn = sc.path[2 * i + 1];
			uint32_t at = sc.offset + SC_PATH + 2 * i;
			if (dev > 31)
				return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, at,
						     "device scope path element %u: device %u above 31", i, dev);
			if (fn > 7)
				return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, at + 1,
						     "device scope path element %u: function %u above 7", i, fn);
		}
	}
	return st == MOAT_END ? MOAT_OK : st;
}

/*
 * At most one INCLUDE_PCI_ALL unit per segment (section 8.3: it must be the last DRHD of its segment,
 * so there can be only one): look for an earlier one. Quadratic in the number of structures, without
 * state; a table has a few dozen.
 */
static moat_status check_include_all(const struct moat_dmar_iter *start, const struct moat_dmar_struct *s,
				     struct moat_diag *diag)
{
	struct moat_dmar_iter it = *start;
	struct moat_dmar_struct o;

	while (moat_dmar_next(&it, &o, NULL) == MOAT_OK && o.offset < s->offset) {
		if (o.type == MOAT_DMAR_TYPE_DRHD && (o.drhd.flags & MOAT_DMAR_DRHD_INCLUDE_PCI_ALL) &&
		    o.drhd.segment == s->drhd.segment)
			return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, s->offset + DRHD_FLAGS,
					     "second INCLUDE_PCI_ALL unit for segment %u (the first is the DRHD "
					     "at 0x%x)", s->drhd.segment, (unsigned)o.offset);
	}
	return MOAT_OK;
}

static moat_status check_drhd(const struct moat_dmar_iter *start, const struct moat_dmar_struct *s,
			      struct moat_diag *diag)
{
	uint64_t base = s->drhd.register_base;
	uint64_t size = PAGE_4K << (s->drhd.size & MOAT_DMAR_DRHD_SIZE_MASK);

	if (base == 0)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, s->offset + DRHD_BASE, "DRHD register base is 0");
	if (base & (PAGE_4K - 1))
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, s->offset + DRHD_BASE,
				     "DRHD register base 0x%llx not 4 KiB aligned", (unsigned long long)base);
	if (base + (size - 1) < base)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, s->offset + DRHD_SIZE,
				     "DRHD register set of 0x%llx bytes at 0x%llx wraps past the top of memory",
				     (unsigned long long)size, (unsigned long long)base);
	if (s->drhd.flags & MOAT_DMAR_DRHD_INCLUDE_PCI_ALL)
		return check_include_all(start, s, diag);
	return MOAT_OK;
}

/*
 * RMRR rules (section 8.4), settled against 70 real tables:
 *  - the base is 4 KiB aligned (every real table's is);
 *  - the limit is inclusive and not below the base; it is NOT required to end a 4 KiB page, because
 *    real firmware declares a placeholder region 0x0..0x0 (HP Compaq 6730b): users of the
 *    description round a region out to whole pages;
 *  - two RMRRs whose ranges intersect must have exactly the same range, whatever their segments:
 *    firmware repeats one region in several RMRRs for different devices, and that is accepted; two
 *    different ranges that overlap (partly, or one inside the other) are an error, reported at the
 *    later RMRR's base. Checked against every earlier RMRR (quadratic, without state).
 */
static moat_status check_rmrr(const struct moat_dmar_iter *start, const struct moat_dmar_struct *s,
			      struct moat_diag *diag)
{
	uint64_t base = s->rmrr.base, limit = s->rmrr.limit;
	struct moat_dmar_iter it = *start;
	struct moat_dmar_struct o;

	if (base & (PAGE_4K - 1))
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, s->offset + RMRR_BASE,
				     "RMRR base 0x%llx not 4 KiB aligned", (unsigned long long)base);
	if (limit < base)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, s->offset + RMRR_LIMIT,
				     "RMRR limit 0x%llx below base 0x%llx", (unsigned long long)limit,
				     (unsigned long long)base);
	while (moat_dmar_next(&it, &o, NULL) == MOAT_OK && o.offset < s->offset) {
		if (o.type != MOAT_DMAR_TYPE_RMRR)
			continue;
		if (o.rmrr.base > limit || base > o.rmrr.limit)
			continue;
		if (o.rmrr.base == base && o.rmrr.limit == limit)
			continue;
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, s->offset + RMRR_BASE,
				     "RMRR 0x%llx-0x%llx overlaps the RMRR at 0x%x (0x%llx-0x%llx) with a different "
				     "range", (unsigned long long)base, (unsigned long long)limit, (unsigned)o.offset,
				     (unsigned long long)o.rmrr.base, (unsigned long long)o.rmrr.limit);
	}
	return MOAT_OK;
}

moat_status moat_dmar_check(const void *buf, size_t len, struct moat_diag *diag)
{
	struct moat_dmar_info info;
	struct moat_dmar_iter it, start;
	struct moat_dmar_struct s;
	moat_status st;

	st = moat_dmar_open(buf, len, &info, &it, diag);
	if (st != MOAT_OK)
		return st;
	if (!info.header.checksum_valid)
		return moat_diag_set(diag, MOAT_ERR_CHECKSUM, DMAR, 9,
				     "checksum byte 0x%02x: the table sums to 0x%02x, not 0", info.header.checksum,
				     moat_acpi_checksum(buf, info.header.length));
	if (info.address_width < 12 || info.address_width > 64)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, DMAR, MOAT_DMAR_OFF_HAW,
				     "host address width %u bits (field %u) outside 12..64", info.address_width,
				     info.haw);
	start = it;
	while ((st = moat_dmar_next(&it, &s, diag)) == MOAT_OK) {
		if (s.type == MOAT_DMAR_TYPE_DRHD)
			st = check_drhd(&start, &s, diag);
		else if (s.type == MOAT_DMAR_TYPE_RMRR)
			st = check_rmrr(&start, &s, diag);
		if (st == MOAT_OK)
			st = check_scopes(&s, diag);
		if (st != MOAT_OK)
			return st;
	}
	return st == MOAT_END ? MOAT_OK : st;
}
