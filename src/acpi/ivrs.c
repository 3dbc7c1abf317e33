/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * IVRS raw decoder: iterators over the structures and device entries of an AMD I/O Virtualization
 * Reporting Structure, and the checks that make every field safe to use.
 * Layouts: AMD I/O Virtualization Technology (IOMMU) Specification 48882 (rev 3.x), section 5.2.
 */
#include <moat/internal/lib.h>
#include <moat/ivrs.h>

static const char IVRS[] = "IVRS";

/* Offsets inside the IVRS header (section 5.2, IVRS header) */
#define IVRS_OFF_LENGTH   4u
#define IVRS_OFF_REVISION 8u
#define IVRS_OFF_CHECKSUM 9u
#define IVRS_OFF_IVINFO   36u

/* Offsets inside an IVHD (section 5.2, IVHD types 10h, 11h, 40h) */
#define IVHD_OFF_DEVICE_ID  4u
#define IVHD_OFF_CAP_OFFSET 6u
#define IVHD_OFF_BASE       8u
#define IVHD_OFF_SEGMENT    16u
#define IVHD_OFF_INFO       18u
#define IVHD_OFF_FEATURE    20u /* 10h: feature reporting; 11h/40h: attributes */
#define IVHD_OFF_EFR        24u /* 11h/40h only */

/* The IOMMU base address register holds bits 51:14 of the register block (section 3, MMIO). */
#define IVHD_BASE_ALIGN 0x4000u

/* Offsets inside an IVMD (section 5.2, IVMD types 20h, 21h, 22h) */
#define IVMD_OFF_DEVICE_ID 4u
#define IVMD_OFF_AUX       6u
#define IVMD_OFF_START     16u
#define IVMD_OFF_LENGTH    24u
#define IVMD_START_ALIGN   0x1000u

/* Offsets inside device entries (section 5.2, IVHD device entries) */
#define DE_OFF_DEVICE_ID 1u
#define DE_OFF_SETTING   3u
#define DE_OFF_ALIAS_ID  5u  /* 66, 67 */
#define DE_OFF_EXT       4u  /* 70, 71 */
#define DE_OFF_HANDLE    4u  /* 72 */
#define DE_OFF_SOURCE_ID 5u  /* 72 */
#define DE_OFF_VARIETY   7u  /* 72 */
#define DE_OFF_HID       4u  /* 240 */
#define DE_OFF_CID       12u
#define DE_OFF_UID_FMT   20u
#define DE_OFF_UID_LEN   21u
#define DE_OFF_UID       22u

/* ---------------------------------------------------------------------------------------------
 * Table header
 * ------------------------------------------------------------------------------------------- */

moat_status moat_ivrs_open(const void *buf, size_t len, struct moat_ivrs_info *info, struct moat_ivrs_iter *it,
			   struct moat_diag *diag)
{
	const uint8_t *b = buf;
	uint32_t length;
	moat_status st;

	if (!buf || !info || !it)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, IVRS, 0, "NULL table or output");
	moat_memset(info, 0, sizeof(*info));
	*it = (struct moat_ivrs_iter){ .table = b, .end = MOAT_IVRS_HEADER_SIZE, .off = MOAT_IVRS_HEADER_SIZE };
	if (len < MOAT_ACPI_HEADER_SIZE)
		return moat_diag_set(diag, MOAT_ERR_TRUNCATED, IVRS, 0,
				     "%zu bytes, too few for an ACPI table header (36)", len);

	length = moat_le32(b + IVRS_OFF_LENGTH);
	moat_memcpy(info->header.signature, b, 4);
	info->header.length = length;
	info->header.revision = b[IVRS_OFF_REVISION];
	info->header.checksum = b[IVRS_OFF_CHECKSUM];
	if (len >= MOAT_IVRS_HEADER_SIZE) {
		info->ivinfo = moat_le32(b + IVRS_OFF_IVINFO);
		it->end = (uint32_t)MOAT_MIN((size_t)MOAT_MAX(length, MOAT_IVRS_HEADER_SIZE), len);
	}

	if (moat_memcmp(b, IVRS, 4))
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, 0, "signature is not \"IVRS\"");
	if (length < MOAT_IVRS_HEADER_SIZE) {
		it->end = MOAT_IVRS_HEADER_SIZE;
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, IVRS_OFF_LENGTH,
				     "table length %u below the IVRS header size (48)", length);
	}
	if (length > len)
		return moat_diag_set(diag, MOAT_ERR_TRUNCATED, IVRS, IVRS_OFF_LENGTH,
				     "table length %u exceeds the %zu bytes available", length, len);

	st = moat_acpi_header_decode(b, length, &info->header, diag);
	if (st != MOAT_OK) {
		it->end = MOAT_IVRS_HEADER_SIZE;
		return st;
	}
	it->end = length;
	return MOAT_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Structures
 * ------------------------------------------------------------------------------------------- */

static moat_status decode_ivhd(const uint8_t *p, struct moat_ivrs_struct *s, struct moat_diag *diag)
{
	uint32_t hdr = s->type == MOAT_IVRS_TYPE_IVHD10 ? MOAT_IVHD10_HEADER_SIZE : MOAT_IVHD11_HEADER_SIZE;

	if (s->length < hdr)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, s->offset + 2,
				     "IVHD type 0x%x length %u below its header size (%u)", s->type, s->length,
				     hdr);
	s->kind = MOAT_IVRS_KIND_IVHD;
	s->device_id = moat_le16(p + IVHD_OFF_DEVICE_ID);
	s->capability_offset = moat_le16(p + IVHD_OFF_CAP_OFFSET);
	s->base_address = moat_le64(p + IVHD_OFF_BASE);
	s->segment = moat_le16(p + IVHD_OFF_SEGMENT);
	s->info = moat_le16(p + IVHD_OFF_INFO);
	s->feature = moat_le32(p + IVHD_OFF_FEATURE);
	if (s->type != MOAT_IVRS_TYPE_IVHD10)
		s->efr = moat_le64(p + IVHD_OFF_EFR);
	s->entries_offset = s->offset + hdr;

	if (s->base_address == 0)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, s->offset + IVHD_OFF_BASE,
				     "IVHD type 0x%x: IOMMU register base address 0", s->type);
	if (s->base_address & (IVHD_BASE_ALIGN - 1))
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, s->offset + IVHD_OFF_BASE,
				     "IVHD type 0x%x: IOMMU register base 0x%llx not 16 KiB aligned", s->type,
				     (unsigned long long)s->base_address);
	return MOAT_OK;
}

static moat_status decode_ivmd(const uint8_t *p, struct moat_ivrs_struct *s, struct moat_diag *diag)
{
	if (s->length < MOAT_IVMD_SIZE)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, s->offset + 2,
				     "IVMD type 0x%x length %u below 32", s->type, s->length);
	s->kind = MOAT_IVRS_KIND_IVMD;
	s->device_id = moat_le16(p + IVMD_OFF_DEVICE_ID);
	s->aux_data = moat_le16(p + IVMD_OFF_AUX);
	s->start = moat_le64(p + IVMD_OFF_START);
	s->mem_length = moat_le64(p + IVMD_OFF_LENGTH);

	if (s->start & (IVMD_START_ALIGN - 1))
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, s->offset + IVMD_OFF_START,
				     "IVMD type 0x%x start 0x%llx not 4 KiB aligned", s->type,
				     (unsigned long long)s->start);
	if (s->mem_length == 0)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, s->offset + IVMD_OFF_LENGTH,
				     "IVMD type 0x%x with memory length 0", s->type);
	if (s->mem_length - 1 > UINT64_MAX - s->start)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, s->offset + IVMD_OFF_LENGTH,
				     "IVMD type 0x%x: start 0x%llx + length 0x%llx beyond the 64-bit space",
				     s->type, (unsigned long long)s->start, (unsigned long long)s->mem_length);
	if (s->type == MOAT_IVRS_TYPE_IVMD_RANGE && s->aux_data < s->device_id)
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, s->offset + IVMD_OFF_AUX,
				     "IVMD type 0x22: last device id 0x%04x below first 0x%04x", s->aux_data,
				     s->device_id);
	return MOAT_OK;
}

moat_status moat_ivrs_next(struct moat_ivrs_iter *it, struct moat_ivrs_struct *s, struct moat_diag *diag)
{
	uint32_t off = it->off, left;
	const uint8_t *p;

	if (off >= it->end)
		return MOAT_END;
	moat_memset(s, 0, sizeof(*s));
	left = it->end - off;
	p = it->table + off;
	if (left < MOAT_IVRS_STRUCT_HEADER_SIZE) {
		it->off = it->end;
		return moat_diag_set(diag, MOAT_ERR_TRUNCATED, IVRS, off,
				     "%u bytes after the last structure, too few for a structure header", left);
	}
	s->type = p[0];
	s->flags = p[1];
	s->length = moat_le16(p + 2);
	s->offset = off;
	s->kind = MOAT_IVRS_KIND_UNKNOWN;
	if (s->length < MOAT_IVRS_STRUCT_HEADER_SIZE) {
		it->off = it->end;
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, off + 2, "structure type 0x%x with length %u",
				     s->type, s->length);
	}
	if (s->length > left) {
		it->off = it->end;
		return moat_diag_set(diag, MOAT_ERR_TRUNCATED, IVRS, off,
				     "structure type 0x%x length %u runs past the table end (%u bytes left)",
				     s->type, s->length, left);
	}

	moat_status st = MOAT_OK;
	switch (s->type) {
	case MOAT_IVRS_TYPE_IVHD10:
	case MOAT_IVRS_TYPE_IVHD11:
	case MOAT_IVRS_TYPE_IVHD40:
		st = decode_ivhd(p, s, diag);
		break;
	case MOAT_IVRS_TYPE_IVMD_ALL:
	case MOAT_IVRS_TYPE_IVMD_SELECT:
	case MOAT_IVRS_TYPE_IVMD_RANGE:
		st = decode_ivmd(p, s, diag);
		break;
	default:
		break;
	}
	/* A length below the block's own size leaves nothing to walk safely behind it. */
	it->off = s->kind == MOAT_IVRS_KIND_UNKNOWN && st != MOAT_OK ? it->end : off + s->length;
	return st;
}

/* ---------------------------------------------------------------------------------------------
 * Device entries
 * ------------------------------------------------------------------------------------------- */

void moat_ivrs_entries_begin(const struct moat_ivrs_iter *it, const struct moat_ivrs_struct *ivhd,
			     struct moat_ivhd_iter *eit)
{
	*eit = (struct moat_ivhd_iter){ .table = it->table };
	if (ivhd->kind != MOAT_IVRS_KIND_IVHD)
		return;
	eit->off = ivhd->entries_offset;
	eit->end = ivhd->offset + ivhd->length;
}

static bool entry_is_range_start(uint8_t type)
{
	return type == MOAT_IVHD_ENTRY_RANGE_START || type == MOAT_IVHD_ENTRY_ALIAS_RANGE ||
	       type == MOAT_IVHD_ENTRY_EXT_RANGE;
}

static bool entry_is_pad(uint8_t type)
{
	return type == MOAT_IVHD_ENTRY_PAD4 || type == MOAT_IVHD_ENTRY_PAD8;
}

static bool entry_type_known(uint8_t type)
{
	switch (type) {
	case MOAT_IVHD_ENTRY_PAD4:
	case MOAT_IVHD_ENTRY_ALL:
	case MOAT_IVHD_ENTRY_SELECT:
	case MOAT_IVHD_ENTRY_RANGE_START:
	case MOAT_IVHD_ENTRY_RANGE_END:
	case MOAT_IVHD_ENTRY_PAD8:
	case MOAT_IVHD_ENTRY_ALIAS_SELECT:
	case MOAT_IVHD_ENTRY_ALIAS_RANGE:
	case MOAT_IVHD_ENTRY_EXT_SELECT:
	case MOAT_IVHD_ENTRY_EXT_RANGE:
	case MOAT_IVHD_ENTRY_SPECIAL:
	case MOAT_IVHD_ENTRY_ACPI_HID:
		return true;
	default:
		return false;
	}
}

static void decode_entry(const uint8_t *p, struct moat_ivhd_entry *e)
{
	e->device_id = moat_le16(p + DE_OFF_DEVICE_ID);
	e->setting = p[DE_OFF_SETTING];
	e->known = entry_type_known(e->type);
	switch (e->type) {
	case MOAT_IVHD_ENTRY_ALIAS_SELECT:
	case MOAT_IVHD_ENTRY_ALIAS_RANGE:
		e->alias_id = moat_le16(p + DE_OFF_ALIAS_ID);
		break;
	case MOAT_IVHD_ENTRY_EXT_SELECT:
	case MOAT_IVHD_ENTRY_EXT_RANGE:
		e->ext_setting = moat_le32(p + DE_OFF_EXT);
		break;
	case MOAT_IVHD_ENTRY_SPECIAL:
		e->handle = p[DE_OFF_HANDLE];
		e->source_id = moat_le16(p + DE_OFF_SOURCE_ID);
		e->variety = p[DE_OFF_VARIETY];
		break;
	case MOAT_IVHD_ENTRY_ACPI_HID:
		moat_memcpy(e->hid, p + DE_OFF_HID, 8);
		moat_memcpy(e->cid, p + DE_OFF_CID, 8);
		e->uid_format = p[DE_OFF_UID_FMT];
		e->uid_length = p[DE_OFF_UID_LEN];
		e->uid = e->uid_length ? p + DE_OFF_UID : NULL;
		break;
	default:
		break;
	}
}

/* The open range ended without its end entry: report it once, at the start entry. */
static moat_status range_not_ended(struct moat_ivhd_iter *eit, const char *why, struct moat_diag *diag)
{
	eit->in_range = false;
	return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, eit->open.start_offset,
			     "range start (type %u, device id 0x%04x) not followed by a range end: %s",
			     eit->open.start_type, eit->open.first, why);
}

static moat_status check_entry(struct moat_ivhd_iter *eit, struct moat_ivhd_entry *e, struct moat_diag *diag)
{
	if (eit->in_range && !entry_is_pad(e->type) && e->type != MOAT_IVHD_ENTRY_RANGE_END) {
		moat_status st = range_not_ended(eit, "another entry comes first", diag);
		if (entry_is_range_start(e->type)) {
			eit->in_range = true;
			eit->open = (struct moat_ivhd_range){ .start_type = e->type, .setting = e->setting,
							      .first = e->device_id, .alias_id = e->alias_id,
							      .ext_setting = e->ext_setting,
							      .start_offset = e->offset };
		}
		return st;
	}
	if (entry_is_range_start(e->type)) {
		eit->in_range = true;
		eit->open = (struct moat_ivhd_range){ .start_type = e->type, .setting = e->setting,
						      .first = e->device_id, .alias_id = e->alias_id,
						      .ext_setting = e->ext_setting, .start_offset = e->offset };
		return MOAT_OK;
	}
	if (e->type == MOAT_IVHD_ENTRY_RANGE_END) {
		if (!eit->in_range)
			return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, e->offset,
					     "range end (device id 0x%04x) without a range start", e->device_id);
		eit->in_range = false;
		e->range = eit->open;
		if (e->device_id < eit->open.first)
			return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, e->offset,
					     "range end 0x%04x below its start 0x%04x (at 0x%x)", e->device_id,
					     eit->open.first, eit->open.start_offset);
		return MOAT_OK;
	}
	if (e->type == MOAT_IVHD_ENTRY_ACPI_HID) {
		if (e->uid_format > MOAT_IVHD_UID_STRING)
			return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, e->offset + DE_OFF_UID_FMT,
					     "ACPI HID entry with unknown UID format %u", e->uid_format);
		if (e->uid_format == MOAT_IVHD_UID_INTEGER && (e->uid_length == 0 || e->uid_length > 8))
			return moat_diag_set(diag, MOAT_ERR_MALFORMED, IVRS, e->offset + DE_OFF_UID_LEN,
					     "ACPI HID entry: integer UID of %u bytes (1 to 8)", e->uid_length);
	}
	return MOAT_OK;
}

moat_status moat_ivrs_entry_next(struct moat_ivhd_iter *eit, struct moat_ivhd_entry *e, struct moat_diag *diag)
{
	uint32_t off = eit->off, left, elen;
	const uint8_t *p;

	moat_memset(e, 0, sizeof(*e));
	if (off >= eit->end) {
		if (eit->in_range)
			return range_not_ended(eit, "the IVHD ends", diag);
		return MOAT_END;
	}
	left = eit->end - off;
	p = eit->table + off;
	e->type = p[0];
	e->offset = off;
	if (e->type == MOAT_IVHD_ENTRY_ACPI_HID)
		elen = left >= MOAT_IVHD_HID_FIXED_SIZE ? MOAT_IVHD_HID_FIXED_SIZE + p[DE_OFF_UID_LEN]
							: MOAT_IVHD_HID_FIXED_SIZE;
	else
		elen = 4u << (e->type >> 6);
	if (elen > left) {
		eit->off = eit->end;
		eit->in_range = false;
		return moat_diag_set(diag, MOAT_ERR_TRUNCATED, IVRS, off,
				     "device entry type %u (%u bytes) runs past its IVHD end (%u bytes left)",
				     e->type, elen, left);
	}
	e->length = (uint16_t)elen;
	eit->off = off + elen;
	decode_entry(p, e);
	return check_entry(eit, e, diag);
}

/* ---------------------------------------------------------------------------------------------
 * Whole-table check, IVHD selection, helpers
 * ------------------------------------------------------------------------------------------- */

moat_status moat_ivrs_check(const void *buf, size_t len, struct moat_diag *diag)
{
	struct moat_ivrs_info info;
	struct moat_ivrs_iter it;
	struct moat_ivrs_struct s;
	moat_status st = moat_ivrs_open(buf, len, &info, &it, diag);

	while (st == MOAT_OK && (st = moat_ivrs_next(&it, &s, diag)) == MOAT_OK) {
		struct moat_ivhd_iter eit;
		struct moat_ivhd_entry e;

		moat_ivrs_entries_begin(&it, &s, &eit);
		while ((st = moat_ivrs_entry_next(&eit, &e, diag)) == MOAT_OK)
			;
		if (st == MOAT_END)
			st = MOAT_OK;
	}
	if (st != MOAT_END)
		return st;
	if (!info.header.checksum_valid)
		return moat_diag_set(diag, MOAT_ERR_CHECKSUM, IVRS, IVRS_OFF_CHECKSUM,
				     "checksum 0x%02x: the %u bytes sum to 0x%02x, not 0", info.header.checksum,
				     info.header.length, moat_acpi_checksum(buf, info.header.length));
	return MOAT_OK;
}

static int ivhd_rank(uint8_t type)
{
	switch (type) {
	case MOAT_IVRS_TYPE_IVHD40:
		return 3;
	case MOAT_IVRS_TYPE_IVHD11:
		return 2;
	case MOAT_IVRS_TYPE_IVHD10:
		return 1;
	default:
		return 0;
	}
}

bool moat_ivrs_ivhd_preferred(const struct moat_ivrs_iter *first, const struct moat_ivrs_struct *ivhd)
{
	struct moat_ivrs_iter it = *first;
	struct moat_ivrs_struct s;
	int rank = ivhd_rank(ivhd->type);

	if (ivhd->kind != MOAT_IVRS_KIND_IVHD)
		return false;
	while (moat_ivrs_next(&it, &s, NULL) == MOAT_OK) {
		if (s.kind != MOAT_IVRS_KIND_IVHD || s.offset == ivhd->offset || s.device_id != ivhd->device_id ||
		    s.segment != ivhd->segment)
			continue;
		int r = ivhd_rank(s.type);
		if (r > rank || (r == rank && s.offset < ivhd->offset))
			return false;
	}
	return true;
}

uint32_t moat_ivrs_register_size(const struct moat_ivrs_struct *ivhd)
{
	bool counters;

	if (ivhd->type == MOAT_IVRS_TYPE_IVHD10)
		counters = MOAT_IVHD_FEAT_PN_COUNTERS(ivhd->feature) && MOAT_IVHD_FEAT_PN_BANKS(ivhd->feature);
	else
		counters = (ivhd->efr & MOAT_EFR_PC_SUP) != 0;
	return counters ? MOAT_AMDVI_MMIO_SIZE_PC : MOAT_AMDVI_MMIO_SIZE;
}

static char hex_digit(unsigned v)
{
	return "0123456789ABCDEF"[v & 0xf];
}

/* ACPI _HID as a compressed EISA id: three 5-bit letters, then four hex digits (ACPI 6.5, 6.1.5). */
static void eisa_id(const uint8_t *p, char out[17])
{
	out[0] = (char)('@' + ((p[0] >> 2) & 0x1f));
	out[1] = (char)('@' + (((p[0] & 0x3) << 3) | (p[1] >> 5)));
	out[2] = (char)('@' + (p[1] & 0x1f));
	out[3] = hex_digit(p[2] >> 4);
	out[4] = hex_digit(p[2]);
	out[5] = hex_digit(p[3] >> 4);
	out[6] = hex_digit(p[3]);
	out[7] = '\0';
}

void moat_ivhd_acpi_id(const uint8_t raw[8], char out[17])
{
	size_t n = 8;
	bool text = true;

	while (n && raw[n - 1] == 0)
		n--;
	for (size_t i = 0; i < n; i++)
		if (raw[i] < 0x20 || raw[i] > 0x7e)
			text = false;
	if (text) {
		moat_memcpy(out, raw, n);
		out[n] = '\0';
		return;
	}
	if (!raw[4] && !raw[5] && !raw[6] && !raw[7]) {
		eisa_id(raw, out);
		return;
	}
	for (int i = 0; i < 16; i++)
		out[i] = hex_digit(raw[7 - i / 2] >> ((i & 1) ? 0 : 4));
	out[16] = '\0';
}

size_t moat_ivhd_uid_string(const struct moat_ivhd_entry *e, char *buf, size_t size)
{
	if (e->type != MOAT_IVHD_ENTRY_ACPI_HID || !e->uid || e->uid_format == MOAT_IVHD_UID_NONE) {
		if (size)
			buf[0] = '\0';
		return 0;
	}
	if (e->uid_format == MOAT_IVHD_UID_INTEGER && e->uid_length <= 8) {
		uint64_t v = 0;
		for (unsigned i = e->uid_length; i > 0; i--)
			v = v << 8 | e->uid[i - 1];
		return (size_t)moat_snprintf(buf, size, "%llu", (unsigned long long)v);
	}
	size_t n = moat_strnlen((const char *)e->uid, e->uid_length);
	if (size) {
		size_t c = MOAT_MIN(n, size - 1);
		moat_memcpy(buf, e->uid, c);
		buf[c] = '\0';
	}
	return n;
}
