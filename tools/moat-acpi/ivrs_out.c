/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * moat-acpi: the IVRS printer. JSON as docs/moat-acpi.md defines it; text for a person planning a
 * hypervisor's IOMMU set-up: each IOMMU with the devices it translates, special devices, memory
 * regions and what the table says about interrupt remapping.
 */
#include <inttypes.h>
#include <string.h>

#include <moat/ivrs.h>

#include "tool.h"

/* ---------------------------------------------------------------------------------------------
 * JSON
 * ------------------------------------------------------------------------------------------- */

static void json_entry(struct json *j, const struct moat_ivhd_entry *e)
{
	json_obj_begin(j);
	json_key(j, "type");
	json_uint(j, e->type);
	json_key(j, "device_id");
	json_uint(j, e->device_id);
	json_key(j, "setting");
	json_uint(j, e->setting);
	switch (e->type) {
	case MOAT_IVHD_ENTRY_ALIAS_SELECT:
	case MOAT_IVHD_ENTRY_ALIAS_RANGE:
		json_key(j, "alias_id");
		json_uint(j, e->alias_id);
		break;
	case MOAT_IVHD_ENTRY_EXT_SELECT:
	case MOAT_IVHD_ENTRY_EXT_RANGE:
		json_key(j, "ext_setting");
		json_uint(j, e->ext_setting);
		break;
	case MOAT_IVHD_ENTRY_SPECIAL:
		json_key(j, "handle");
		json_uint(j, e->handle);
		json_key(j, "source_id");
		json_uint(j, e->source_id);
		json_key(j, "variety");
		json_uint(j, e->variety);
		break;
	case MOAT_IVHD_ENTRY_ACPI_HID: {
		char id[17];
		json_key(j, "hid");
		moat_ivhd_acpi_id(e->hid, id);
		json_str(j, id);
		json_key(j, "cid");
		moat_ivhd_acpi_id(e->cid, id);
		json_str(j, id);
		json_key(j, "uid");
		if (e->uid_format == MOAT_IVHD_UID_INTEGER && e->uid_length <= 8) {
			char uid[24];
			moat_ivhd_uid_string(e, uid, sizeof(uid));
			json_str(j, uid);
		} else if (e->uid_format == MOAT_IVHD_UID_STRING && e->uid) {
			json_strn(j, (const char *)e->uid, e->uid_length);
		} else {
			json_str(j, "");
		}
		break;
	}
	default:
		break;
	}
	json_obj_end(j);
}

static void json_ivhd(struct json *j, const struct moat_ivrs_iter *it, const struct moat_ivrs_struct *s)
{
	struct moat_ivhd_iter eit;
	struct moat_ivhd_entry e;
	moat_status st;

	json_key(j, "type");
	json_str(j, "IVHD");
	json_key(j, "ivhd_type");
	json_uint(j, s->type);
	json_key(j, "flags");
	json_uint(j, s->flags);
	json_key(j, "device_id");
	json_uint(j, s->device_id);
	json_key(j, "capability_offset");
	json_uint(j, s->capability_offset);
	json_key(j, "base_address");
	json_uint(j, s->base_address);
	json_key(j, "segment");
	json_uint(j, s->segment);
	json_key(j, "info");
	json_uint(j, s->info);
	if (s->type == MOAT_IVRS_TYPE_IVHD10) {
		json_key(j, "feature_reporting");
		json_uint(j, s->feature);
	} else {
		json_key(j, "attributes");
		json_uint(j, s->feature);
		json_key(j, "efr");
		json_uint(j, s->efr);
	}
	json_key(j, "entries");
	json_arr_begin(j);
	moat_ivrs_entries_begin(it, s, &eit);
	while ((st = moat_ivrs_entry_next(&eit, &e, NULL)) != MOAT_END) {
		/* A truncated entry ends the list; an entry with a bad value is still shown. */
		if (st == MOAT_ERR_TRUNCATED)
			break;
		if (e.length)
			json_entry(j, &e);
	}
	json_arr_end(j);
}

static void json_struct(struct json *j, const struct moat_ivrs_iter *it, const struct moat_ivrs_struct *s)
{
	json_obj_begin(j);
	switch (s->kind) {
	case MOAT_IVRS_KIND_IVHD:
		json_ivhd(j, it, s);
		break;
	case MOAT_IVRS_KIND_IVMD:
		json_key(j, "type");
		json_str(j, "IVMD");
		json_key(j, "ivmd_type");
		json_uint(j, s->type);
		json_key(j, "flags");
		json_uint(j, s->flags);
		json_key(j, "device_id");
		json_uint(j, s->device_id);
		json_key(j, "aux_data");
		json_uint(j, s->aux_data);
		json_key(j, "start");
		json_uint(j, s->start);
		json_key(j, "length");
		json_uint(j, s->mem_length);
		break;
	default:
		json_key(j, "type");
		json_str(j, "unknown");
		json_key(j, "type_code");
		json_uint(j, s->type);
		json_key(j, "length");
		json_uint(j, s->length);
		break;
	}
	json_obj_end(j);
}

static void print_json(const uint8_t *buf, size_t len, struct json *j)
{
	struct moat_ivrs_info info;
	struct moat_ivrs_iter it;
	struct moat_ivrs_struct s;
	moat_status st;

	moat_ivrs_open(buf, len, &info, &it, NULL);
	json_obj_begin(j);
	json_key(j, "signature");
	json_strn(j, (const char *)buf, len < 4 ? len : 4);
	json_key(j, "length");
	json_uint(j, info.header.length);
	json_key(j, "revision");
	json_uint(j, info.header.revision);
	json_key(j, "checksum_valid");
	json_bool(j, info.header.checksum_valid);
	json_key(j, "iv_info");
	json_uint(j, info.ivinfo);
	json_key(j, "structures");
	json_arr_begin(j);
	while ((st = moat_ivrs_next(&it, &s, NULL)) != MOAT_END) {
		/* A length problem ends the walk; a structure with a bad value is still shown. */
		if (st != MOAT_OK && s.kind == MOAT_IVRS_KIND_UNKNOWN)
			break;
		json_struct(j, &it, &s);
	}
	json_arr_end(j);
	json_obj_end(j);
}

/* ---------------------------------------------------------------------------------------------
 * Text
 * ------------------------------------------------------------------------------------------- */

static const char *bdf(char *buf, size_t size, uint16_t rid)
{
	snprintf(buf, size, "%02x:%02x.%x", rid >> 8, (rid >> 3) & 0x1f, rid & 7);
	return buf;
}

/* @s with bytes outside printable ASCII as \xNN, so firmware strings cannot garble a terminal. */
static const char *printable(char *buf, size_t size, const char *s)
{
	size_t n = 0;

	for (; *s && n + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f)
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
	}
	buf[n] = '\0';
	return buf;
}

/* Append ", word" (or "word" first) to @out. */
static void word(char *out, size_t size, const char *w)
{
	size_t n = strlen(out);
	snprintf(out + n, size - n, "%s%s", n ? ", " : "", w);
}

static void setting_words(FILE *f, uint8_t setting)
{
	char w[128] = "";

	if (!setting)
		return;
	if (setting & MOAT_IVHD_DTE_INIT_PASS)
		word(w, sizeof(w), "INIT");
	if (setting & MOAT_IVHD_DTE_EINT_PASS)
		word(w, sizeof(w), "ExtInt");
	if (setting & MOAT_IVHD_DTE_NMI_PASS)
		word(w, sizeof(w), "NMI");
	if (setting & MOAT_IVHD_DTE_LINT0_PASS)
		word(w, sizeof(w), "LINT0");
	if (setting & MOAT_IVHD_DTE_LINT1_PASS)
		word(w, sizeof(w), "LINT1");
	fprintf(f, ", setting 0x%02x", setting);
	if (w[0])
		fprintf(f, ": %s pass", w);
	if (MOAT_IVHD_DTE_SYS_MGT(setting))
		fprintf(f, "%s SysMgt %u", w[0] ? "," : ":", MOAT_IVHD_DTE_SYS_MGT(setting));
}

static void flag_words(FILE *f, const struct moat_ivrs_struct *s)
{
	static const char *const names[8] = { "HT tunnel", "PassPW", "ResPassPW", "isochronous",
					       "IOTLB", "coherent", "prefetch", "PPR" };
	char w[160] = "";
	unsigned n = s->type == MOAT_IVRS_TYPE_IVHD10 ? 8 : 6;

	for (unsigned i = 0; i < n; i++)
		if (s->flags & (1u << i))
			word(w, sizeof(w), names[i]);
	fprintf(f, "  flags 0x%02x%s%s\n", s->flags, w[0] ? ": " : "", w);
}

static void feature_words(FILE *f, const struct moat_ivrs_struct *s, bool *xt, bool *ga)
{
	char w[512] = "";
	char tmp[64];

	if (s->type == MOAT_IVRS_TYPE_IVHD10) {
		uint32_t v = s->feature;
		*xt = v & MOAT_IVHD_FEAT_XT_SUP;
		*ga = v & MOAT_IVHD_FEAT_GA_SUP;
		if (v & MOAT_IVHD_FEAT_XT_SUP)
			word(w, sizeof(w), "x2APIC interrupts");
		if (v & MOAT_IVHD_FEAT_NX_SUP)
			word(w, sizeof(w), "no-execute");
		if (v & MOAT_IVHD_FEAT_GT_SUP)
			word(w, sizeof(w), "guest translation");
		if (v & MOAT_IVHD_FEAT_IA_SUP)
			word(w, sizeof(w), "invalidate-all");
		if (v & MOAT_IVHD_FEAT_GA_SUP)
			word(w, sizeof(w), "guest virtual APIC");
		if (v & MOAT_IVHD_FEAT_HE_SUP)
			word(w, sizeof(w), "hardware error registers");
		if (MOAT_IVHD_FEAT_PN_COUNTERS(v) && MOAT_IVHD_FEAT_PN_BANKS(v)) {
			snprintf(tmp, sizeof(tmp), "%u performance counters in %u banks",
				 MOAT_IVHD_FEAT_PN_COUNTERS(v), MOAT_IVHD_FEAT_PN_BANKS(v));
			word(w, sizeof(w), tmp);
		}
		if (MOAT_IVHD_FEAT_HATS(v) < 3) {
			snprintf(tmp, sizeof(tmp), "host page tables up to %u levels", 4 + MOAT_IVHD_FEAT_HATS(v));
			word(w, sizeof(w), tmp);
		}
		fprintf(f, "  features (feature reporting 0x%08" PRIx32 "): %s\n", v, w[0] ? w : "none");
		return;
	}
	uint64_t e = s->efr;
	*xt = e & MOAT_EFR_XT_SUP;
	*ga = e & MOAT_EFR_GA_SUP;
	if (e & MOAT_EFR_PREF_SUP)
		word(w, sizeof(w), "prefetch");
	if (e & MOAT_EFR_PPR_SUP)
		word(w, sizeof(w), "PPR");
	if (e & MOAT_EFR_XT_SUP)
		word(w, sizeof(w), "x2APIC interrupts");
	if (e & MOAT_EFR_NX_SUP)
		word(w, sizeof(w), "no-execute");
	if (e & MOAT_EFR_GT_SUP)
		word(w, sizeof(w), "guest translation");
	if (e & MOAT_EFR_IA_SUP)
		word(w, sizeof(w), "invalidate-all");
	if (e & MOAT_EFR_GA_SUP)
		word(w, sizeof(w), "guest virtual APIC");
	if (e & MOAT_EFR_HE_SUP)
		word(w, sizeof(w), "hardware error registers");
	if (e & MOAT_EFR_PC_SUP)
		word(w, sizeof(w), "performance counters");
	if (MOAT_EFR_HATS(e) < 3) {
		snprintf(tmp, sizeof(tmp), "host page tables up to %u levels", 4 + MOAT_EFR_HATS(e));
		word(w, sizeof(w), tmp);
	}
	if (e & MOAT_EFR_US_SUP)
		word(w, sizeof(w), "user/supervisor");
	if (MOAT_EFR_DEV_TBL_SEG(e)) {
		snprintf(tmp, sizeof(tmp), "device table in %u segments", 1u << MOAT_EFR_DEV_TBL_SEG(e));
		word(w, sizeof(w), tmp);
	}
	if (e & MOAT_EFR_HA_SUP)
		word(w, sizeof(w), "host access/dirty bits");
	if (e & MOAT_EFR_GIO_SUP)
		word(w, sizeof(w), "guest I/O protection");
	fprintf(f, "  features (EFR 0x%016" PRIx64 "): %s\n", e, w[0] ? w : "none");
}

struct ivrs_counts {
	unsigned ioapics, hpets, iommus, iommus_xt, skipped;
};

static void text_entry(FILE *f, const struct moat_ivhd_entry *e, uint16_t segment, struct ivrs_counts *c)
{
	char a[16], b2[16], c2[16];

	switch (e->type) {
	case MOAT_IVHD_ENTRY_ALL:
		fprintf(f, "    every device of segment %u", segment);
		setting_words(f, e->setting);
		break;
	case MOAT_IVHD_ENTRY_SELECT:
		fprintf(f, "    %s", bdf(a, sizeof(a), e->device_id));
		setting_words(f, e->setting);
		break;
	case MOAT_IVHD_ENTRY_ALIAS_SELECT:
		fprintf(f, "    %s seen as %s (alias)", bdf(a, sizeof(a), e->device_id),
			bdf(b2, sizeof(b2), e->alias_id));
		setting_words(f, e->setting);
		break;
	case MOAT_IVHD_ENTRY_EXT_SELECT:
		fprintf(f, "    %s, extended setting 0x%08x%s", bdf(a, sizeof(a), e->device_id), e->ext_setting,
			e->ext_setting & MOAT_IVHD_EXT_ATS_DISABLED ? " (ATS not allowed)" : "");
		setting_words(f, e->setting);
		break;
	case MOAT_IVHD_ENTRY_RANGE_END:
		if (!e->range.start_type)
			return; /* no range start: the problem is printed already */
		fprintf(f, "    %s-%s", bdf(a, sizeof(a), e->range.first), bdf(b2, sizeof(b2), e->device_id));
		if (e->range.start_type == MOAT_IVHD_ENTRY_ALIAS_RANGE)
			fprintf(f, " seen as %s (alias)", bdf(c2, sizeof(c2), e->range.alias_id));
		if (e->range.start_type == MOAT_IVHD_ENTRY_EXT_RANGE)
			fprintf(f, ", extended setting 0x%08x%s", e->range.ext_setting,
				e->range.ext_setting & MOAT_IVHD_EXT_ATS_DISABLED ? " (ATS not allowed)" : "");
		setting_words(f, e->range.setting);
		break;
	case MOAT_IVHD_ENTRY_SPECIAL:
		if (e->variety == MOAT_IVHD_SPECIAL_IOAPIC) {
			fprintf(f, "    IOAPIC id %u (0x%02x)", e->handle, e->handle);
			c->ioapics++;
		} else if (e->variety == MOAT_IVHD_SPECIAL_HPET) {
			fprintf(f, "    HPET %u", e->handle);
			c->hpets++;
		} else {
			fprintf(f, "    special device of unknown variety %u, handle %u", e->variety, e->handle);
		}
		fprintf(f, " uses %s (device id 0x%04x)", bdf(a, sizeof(a), e->source_id), e->source_id);
		setting_words(f, e->setting);
		break;
	case MOAT_IVHD_ENTRY_ACPI_HID: {
		char hid[17], cid[17], uid[64], p[256];
		moat_ivhd_acpi_id(e->hid, hid);
		moat_ivhd_acpi_id(e->cid, cid);
		moat_ivhd_uid_string(e, uid, sizeof(uid));
		fprintf(f, "    ACPI device %s", printable(p, sizeof(p), hid));
		if (cid[0])
			fprintf(f, " (compatible %s)", printable(p, sizeof(p), cid));
		if (uid[0])
			fprintf(f, " UID \"%s\"", printable(p, sizeof(p), uid));
		fprintf(f, " uses %s (device id 0x%04x)", bdf(a, sizeof(a), e->device_id), e->device_id);
		setting_words(f, e->setting);
		break;
	}
	default:
		if (e->known)
			return; /* pads; range starts print with their end */
		fprintf(f, "    unknown entry type %u (%u bytes) at 0x%x skipped", e->type, e->length, e->offset);
		c->skipped++;
		break;
	}
	fputc('\n', f);
}

static void text_iommu(FILE *f, const struct moat_ivrs_iter *first, const struct moat_ivrs_iter *it,
		       const struct moat_ivrs_struct *s, struct ivrs_counts *c)
{
	struct moat_ivrs_iter w = *first;
	struct moat_ivrs_struct o;
	struct moat_ivhd_iter eit;
	struct moat_ivhd_entry e;
	struct moat_diag d = { 0 };
	moat_status st;
	char a[16];
	bool xt = false, ga = false;
	unsigned n = 0;
	uint32_t size = moat_ivrs_register_size(s);

	fprintf(f, "\nIOMMU at 0x%" PRIx64 " (%u KiB of registers), segment %u, its own device %s (id 0x%04x)\n",
		s->base_address, size >> 10, s->segment, bdf(a, sizeof(a), s->device_id), s->device_id);
	fprintf(f, "  described by IVHD");
	while (moat_ivrs_next(&w, &o, NULL) == MOAT_OK)
		if (o.kind == MOAT_IVRS_KIND_IVHD && o.device_id == s->device_id && o.segment == s->segment)
			fprintf(f, "%s %02xh at 0x%x%s", n++ ? "," : "", o.type, o.offset,
				o.offset == s->offset ? " (used)" : "");
	fputc('\n', f);
	fprintf(f, "  capability at 0x%02x, MSI vector %u, unit id %u\n", s->capability_offset,
		MOAT_IVHD_INFO_MSI_NUM(s->info), MOAT_IVHD_INFO_UNIT_ID(s->info));
	flag_words(f, s);
	feature_words(f, s, &xt, &ga);
	fprintf(f, "  interrupt remapping: yes (every AMD-Vi IOMMU); x2APIC mode %s; guest virtual APIC %s\n",
		xt ? "yes" : "no", ga ? "yes" : "no");
	c->iommus++;
	c->iommus_xt += xt;
	fprintf(f, "  devices it translates, special devices and ACPI devices:\n");
	moat_ivrs_entries_begin(it, s, &eit);
	while ((st = moat_ivrs_entry_next(&eit, &e, &d)) != MOAT_END) {
		if (st != MOAT_OK) {
			char msg[256];
			fprintf(f, "    (problem: %s)\n", moat_diag_format(&d, msg, sizeof(msg)));
			if (st == MOAT_ERR_TRUNCATED)
				break;
			if (!e.length)
				continue;
		}
		text_entry(f, &e, s->segment, c);
	}
}

static void text_ivmd(FILE *f, const struct moat_ivrs_struct *s)
{
	char a[16], b2[16];
	char w[96] = "";
	uint64_t last = s->start + (s->mem_length ? s->mem_length - 1 : 0);

	if (s->flags & MOAT_IVMD_F_UNITY)
		word(w, sizeof(w), "unity mapped");
	if (s->flags & MOAT_IVMD_F_IR)
		word(w, sizeof(w), "read");
	if (s->flags & MOAT_IVMD_F_IW)
		word(w, sizeof(w), "write");
	if (s->flags & MOAT_IVMD_F_EXCLUSION)
		word(w, sizeof(w), "exclusion range (reached untranslated)");
	fprintf(f, "  0x%" PRIx64 "-0x%" PRIx64 " (0x%" PRIx64 " bytes) %s, for ", s->start, last, s->mem_length,
		w[0] ? w : "no access flags");
	if (s->type == MOAT_IVRS_TYPE_IVMD_ALL)
		fprintf(f, "every device");
	else if (s->type == MOAT_IVRS_TYPE_IVMD_SELECT)
		fprintf(f, "%s", bdf(a, sizeof(a), s->device_id));
	else
		fprintf(f, "%s-%s", bdf(a, sizeof(a), s->device_id), bdf(b2, sizeof(b2), s->aux_data));
	fprintf(f, " [IVMD %02xh at 0x%x]\n", s->type, s->offset);
}

static void print_text(const uint8_t *buf, size_t len, struct tool_out *o)
{
	FILE *f = o->text;
	struct moat_ivrs_info info;
	struct moat_ivrs_iter it, first;
	struct moat_ivrs_struct s;
	struct moat_diag d = { 0 };
	struct ivrs_counts c = { 0 };
	moat_status st;
	unsigned ivmds = 0, unknown = 0;
	uint32_t v;

	moat_ivrs_open(buf, len, &info, &it, NULL);
	v = info.ivinfo;
	fprintf(f, "IVRS (AMD-Vi) from %s: %u bytes, revision %u, checksum %s", o->source ? o->source : "-",
		info.header.length, info.header.revision, info.header.checksum_valid ? "ok" : "BAD");
	if (info.header.oem_id[0] || info.header.oem_table_id[0]) {
		char a[64], b[64];
		fprintf(f, ", OEM \"%s\" \"%s\"", printable(a, sizeof(a), info.header.oem_id),
			printable(b, sizeof(b), info.header.oem_table_id));
	}
	fprintf(f, "\nIVinfo 0x%08x: physical addresses %u bits, virtual %u bits, guest virtual size code %u", v,
		MOAT_IVINFO_PA_SIZE(v), MOAT_IVINFO_VA_SIZE(v), MOAT_IVINFO_GVA_SIZE(v));
	if (v & MOAT_IVINFO_EFR_SUP)
		fprintf(f, "; IVHDs carry EFR images");
	if (v & MOAT_IVINFO_DMA_REMAP)
		fprintf(f, "; firmware reports DMA remapping (pre-boot DMA protection)");
	if (v & MOAT_IVINFO_HT_ATS_RESV)
		fprintf(f, "; HyperTransport ATS range reserved");
	fputc('\n', f);

	first = it;
	while ((st = moat_ivrs_next(&it, &s, &d)) != MOAT_END) {
		char msg[256];
		if (st != MOAT_OK) {
			fprintf(f, "(problem: %s)\n", moat_diag_format(&d, msg, sizeof(msg)));
			if (s.kind == MOAT_IVRS_KIND_UNKNOWN)
				continue; /* the iteration has ended, or it goes on behind this structure */
		}
		if (s.kind == MOAT_IVRS_KIND_IVHD && moat_ivrs_ivhd_preferred(&first, &s))
			text_iommu(f, &first, &it, &s, &c);
		else if (s.kind == MOAT_IVRS_KIND_IVMD)
			ivmds++;
		else if (s.kind == MOAT_IVRS_KIND_UNKNOWN)
			unknown++;
	}

	if (ivmds) {
		fprintf(f, "\nMemory regions the devices must keep reaching (IVMD):\n");
		it = first;
		while (moat_ivrs_next(&it, &s, NULL) != MOAT_END)
			if (s.kind == MOAT_IVRS_KIND_IVMD)
				text_ivmd(f, &s);
	}
	if (unknown) {
		fprintf(f, "\nSkipped structures of unknown type:\n");
		it = first;
		while (moat_ivrs_next(&it, &s, NULL) != MOAT_END)
			if (s.kind == MOAT_IVRS_KIND_UNKNOWN && s.length >= MOAT_IVRS_STRUCT_HEADER_SIZE)
				fprintf(f, "  type 0x%02x, %u bytes at 0x%x\n", s.type, s.length, s.offset);
	}
	fprintf(f, "\nSummary: %u IOMMU(s); interrupt remapping: ", c.iommus);
	if (c.ioapics)
		fprintf(f, "can be enabled: %u IOAPIC(s) and %u HPET(s) have their device ids in the table",
			c.ioapics, c.hpets);
	else
		fprintf(f, "the table maps no IOAPIC, so IOAPIC interrupts cannot be remapped from it");
	fprintf(f, "; x2APIC interrupt remapping on %u of %u IOMMU(s)\n", c.iommus_xt, c.iommus);
}

/* ---------------------------------------------------------------------------------------------
 * Entry point
 * ------------------------------------------------------------------------------------------- */

int tool_print_ivrs(const uint8_t *buf, size_t len, struct tool_out *o, struct moat_diag *diag)
{
	if (o->json_mode)
		print_json(buf, len, o->json);
	else
		print_text(buf, len, o);
	return moat_ivrs_check(buf, len, diag) == MOAT_OK ? 0 : 1;
}
