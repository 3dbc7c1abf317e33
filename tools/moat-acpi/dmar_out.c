/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * moat-acpi: the DMAR printer. JSON exactly as docs/moat-acpi.md specifies, or text for a person
 * planning an IOMMU set-up: the units and the devices each translates, the reserved regions and who
 * needs them, ATS, affinity, namespace devices, and the table flags in words.
 *
 * The table is checked first (moat_dmar_check(): its diag is what the tool reports); then it is
 * printed with the raw iterators as far as it decodes. A table cut short (length field larger than
 * the bytes given) is printed from a copy whose length field says what is there.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <moat/acpi.h>
#include <moat/dmar.h>
#include <moat/internal/lib.h>

#include "tool.h"

/* What the printers walk. */
struct view {
	const uint8_t *bytes;
	size_t len;
	uint8_t *copy;            /* owned: the patched copy of a cut-short table, or NULL */
	bool ok;                  /* the header decoded: info and start are valid */
	struct moat_dmar_info info;
	struct moat_dmar_iter start;
	bool checksum_valid;      /* of the table as given */
	uint32_t length;          /* the length field as given (or the bytes there are, if it is cut off) */
};

static void view_open(struct view *v, const uint8_t *buf, size_t len)
{
	*v = (struct view){ .bytes = buf, .len = len, .length = (uint32_t)len };
	if (len >= 8) {
		v->length = moat_le32(buf + 4);
		if (v->length > len && len >= MOAT_DMAR_HEADER_SIZE && len <= UINT32_MAX) {
			v->copy = malloc(len);
			if (v->copy) {
				memcpy(v->copy, buf, len);
				v->copy[4] = (uint8_t)len;
				v->copy[5] = (uint8_t)(len >> 8);
				v->copy[6] = (uint8_t)(len >> 16);
				v->copy[7] = (uint8_t)(len >> 24);
				v->bytes = v->copy;
			}
		}
	}
	v->ok = moat_dmar_open(v->bytes, v->len, &v->info, &v->start, NULL) == MOAT_OK;
	v->checksum_valid = v->ok && !v->copy && v->info.header.checksum_valid;
}

/* ------------------------------------------------------------------------------------------------
 * JSON
 * ---------------------------------------------------------------------------------------------- */

static void json_num(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_uint(j, v);
}

static void json_scopes(struct json *j, const struct moat_dmar_struct *s)
{
	struct moat_dmar_scope_iter sit;
	struct moat_dmar_scope sc;

	json_key(j, "scopes");
	json_arr_begin(j);
	moat_dmar_scopes(s, &sit);
	while (moat_dmar_scope_next(&sit, &sc, NULL) == MOAT_OK) {
		json_obj_begin(j);
		json_num(j, "type", sc.type);
		json_num(j, "enumeration_id", sc.enumeration_id);
		json_num(j, "start_bus", sc.start_bus);
		json_key(j, "path");
		json_arr_begin(j);
		for (unsigned i = 0; i < sc.path_count; i++) {
			json_arr_begin(j);
			json_uint(j, sc.path[2 * i]);
			json_uint(j, sc.path[2 * i + 1]);
			json_arr_end(j);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void json_struct(struct json *j, const struct moat_dmar_struct *s)
{
	json_obj_begin(j);
	json_key(j, "type");
	json_str(j, s->known ? moat_dmar_type_name(s->type) : "unknown");
	switch (s->known ? s->type : 0xffffu) {
	case MOAT_DMAR_TYPE_DRHD:
		json_num(j, "flags", s->drhd.flags);
		json_num(j, "size", s->drhd.size);
		json_num(j, "segment", s->drhd.segment);
		json_num(j, "register_base", s->drhd.register_base);
		json_scopes(j, s);
		break;
	case MOAT_DMAR_TYPE_RMRR:
		json_num(j, "segment", s->rmrr.segment);
		json_num(j, "base", s->rmrr.base);
		json_num(j, "limit", s->rmrr.limit);
		json_scopes(j, s);
		break;
	case MOAT_DMAR_TYPE_ATSR:
		json_num(j, "flags", s->atsr.flags);
		json_num(j, "segment", s->atsr.segment);
		json_scopes(j, s);
		break;
	case MOAT_DMAR_TYPE_RHSA:
		json_num(j, "register_base", s->rhsa.register_base);
		json_num(j, "proximity_domain", s->rhsa.proximity_domain);
		break;
	case MOAT_DMAR_TYPE_ANDD:
		json_num(j, "device_number", s->andd.device_number);
		json_key(j, "object_name");
		json_strn(j, s->andd.name, s->andd.field_len);
		break;
	case MOAT_DMAR_TYPE_SATC:
		json_num(j, "flags", s->satc.flags);
		json_num(j, "segment", s->satc.segment);
		json_scopes(j, s);
		break;
	case MOAT_DMAR_TYPE_SIDP:
		json_num(j, "segment", s->sidp.segment);
		json_scopes(j, s);
		break;
	default:
		json_num(j, "type_code", s->type);
		json_num(j, "length", s->length);
		break;
	}
	json_obj_end(j);
}

static void print_json(struct json *j, const struct view *v)
{
	const uint8_t *b = v->bytes;

	json_obj_begin(j);
	json_key(j, "signature");
	json_strn(j, (const char *)b, MOAT_MIN(v->len, (size_t)4));
	json_num(j, "length", v->length);
	json_num(j, "revision", v->len > 8 ? b[8] : 0);
	json_key(j, "checksum_valid");
	json_bool(j, v->checksum_valid);
	json_num(j, "host_address_width", v->len > MOAT_DMAR_OFF_HAW ? b[MOAT_DMAR_OFF_HAW] + 1u : 0);
	json_num(j, "flags", v->len > MOAT_DMAR_OFF_FLAGS ? b[MOAT_DMAR_OFF_FLAGS] : 0);
	json_key(j, "structures");
	json_arr_begin(j);
	if (v->ok) {
		struct moat_dmar_iter it = v->start;
		struct moat_dmar_struct s;
		while (moat_dmar_next(&it, &s, NULL) == MOAT_OK)
			json_struct(j, &s);
	}
	json_arr_end(j);
	json_obj_end(j);
}

/* ------------------------------------------------------------------------------------------------
 * Text
 * ---------------------------------------------------------------------------------------------- */

/* @len bytes of a table string in quotes, trailing NULs dropped, other non-printable bytes as \xNN. */
static void put_field(FILE *f, const char *s, size_t len)
{
	while (len && s[len - 1] == '\0')
		len--;
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* "128 KiB", "40 MiB", "128.25 MiB", "12 bytes"; 0 stands for the whole 64-bit space. */
static const char *fmt_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned u = 0;

	if (bytes == 0) {
		snprintf(buf, size, "16 EiB");
		return buf;
	}
	while (u + 1 < MOAT_ARRAY_SIZE(units) && bytes >> (10 * (u + 1)))
		u++;
	if (!(bytes & ((UINT64_C(1) << (10 * u)) - 1)))
		snprintf(buf, size, "%" PRIu64 " %s", bytes >> (10 * u), units[u]);
	else
		snprintf(buf, size, "%.2f %s", (double)bytes / (double)(UINT64_C(1) << (10 * u)), units[u]);
	return buf;
}

/* BB:DD.F of the first path element, then /DD.F for each device behind a bridge. */
static const char *fmt_path(const struct moat_dmar_scope *sc, char *buf, size_t size)
{
	size_t n = (size_t)snprintf(buf, size, "%02x:%02x.%x", sc->start_bus, sc->path[0], sc->path[1]);

	for (unsigned i = 1; i < sc->path_count && n < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "/%02x.%x", sc->path[2 * i], sc->path[2 * i + 1]);
	return buf;
}

/* The name an ANDD gives namespace device @id, or NULL. */
static const struct moat_dmar_struct *find_andd(const struct view *v, uint8_t id, struct moat_dmar_struct *s)
{
	struct moat_dmar_iter it = v->start;

	while (moat_dmar_next(&it, s, NULL) == MOAT_OK)
		if (s->type == MOAT_DMAR_TYPE_ANDD && s->andd.device_number == id)
			return s;
	return NULL;
}

struct text {
	FILE *f;
	const struct view *v;
	bool deep_path;           /* a path through a bridge was printed: explain A/B once */
};

/* One device scope on its own line, in words. */
static void text_scope(struct text *t, const struct moat_dmar_scope *sc, const char *indent)
{
	char path[8 + 5 * 128]; /* BB:DD.F and up to 127 more /DD.F */
	struct moat_dmar_struct andd;

	fmt_path(sc, path, sizeof(path));
	if (sc->path_count > 1)
		t->deep_path = true;
	fprintf(t->f, "%s", indent);
	switch (sc->type) {
	case MOAT_DMAR_SCOPE_ENDPOINT:
		fprintf(t->f, "%s  PCI endpoint\n", path);
		break;
	case MOAT_DMAR_SCOPE_BRIDGE:
		fprintf(t->f, "%s  PCI bridge, and every device on the buses below it\n", path);
		break;
	case MOAT_DMAR_SCOPE_IOAPIC:
		fprintf(t->f, "%s  IOAPIC id %u\n", path, sc->enumeration_id);
		break;
	case MOAT_DMAR_SCOPE_HPET:
		fprintf(t->f, "%s  HPET number %u\n", path, sc->enumeration_id);
		break;
	case MOAT_DMAR_SCOPE_NAMESPACE:
		fprintf(t->f, "%s  ACPI namespace device %u", path, sc->enumeration_id);
		if (find_andd(t->v, sc->enumeration_id, &andd)) {
			fputc(' ', t->f);
			put_field(t->f, andd.andd.name, andd.andd.name_len);
		} else {
			fprintf(t->f, " (no ANDD declares it)");
		}
		fputc('\n', t->f);
		break;
	default:
		fprintf(t->f, "%s  reserved scope type %u at 0x%x, skipped\n", path, sc->type, (unsigned)sc->offset);
		break;
	}
	if (sc->flags)
		fprintf(t->f, "%s    scope flags 0x%02x\n", indent, sc->flags);
}

static bool is_interrupt_source(uint8_t type)
{
	return type == MOAT_DMAR_SCOPE_IOAPIC || type == MOAT_DMAR_SCOPE_HPET;
}

/*
 * The scopes of @s, one a line: all of them (@which 0), only the devices (1: no IOAPIC or HPET), or
 * only the interrupt sources (2: IOAPIC and HPET). Returns how many were printed.
 */
static unsigned text_scopes(struct text *t, const struct moat_dmar_struct *s, const char *indent, int which)
{
	struct moat_dmar_scope_iter sit;
	struct moat_dmar_scope sc;
	unsigned n = 0;

	moat_dmar_scopes(s, &sit);
	while (moat_dmar_scope_next(&sit, &sc, NULL) == MOAT_OK) {
		if ((which == 1 && is_interrupt_source(sc.type)) || (which == 2 && !is_interrupt_source(sc.type)))
			continue;
		text_scope(t, &sc, indent);
		n++;
	}
	return n;
}

/* How many scopes of @s are interrupt sources (which 2) or devices (which 1). */
static unsigned count_scopes(const struct moat_dmar_struct *s, int which)
{
	struct moat_dmar_scope_iter sit;
	struct moat_dmar_scope sc;
	unsigned n = 0;

	moat_dmar_scopes(s, &sit);
	while (moat_dmar_scope_next(&sit, &sc, NULL) == MOAT_OK)
		n += (which == 2) == is_interrupt_source(sc.type);
	return n;
}

static void text_header(struct text *t)
{
	const struct moat_dmar_info *in = &t->v->info;
	const struct moat_acpi_header *h = &in->header;
	const char *raw = (const char *)t->v->bytes;
	FILE *f = t->f;
	uint8_t fl = in->flags;

	fprintf(f, "  length %u, revision %u, checksum %s\n", (unsigned)t->v->length, h->revision,
		t->v->checksum_valid ? "valid" : "INVALID");
	fprintf(f, "  OEM ");
	put_field(f, raw + 10, 6); /* the ACPI header's fields as written, binary bytes too */
	fputc(' ', f);
	put_field(f, raw + 16, 8);
	fprintf(f, " revision 0x%x, creator ", (unsigned)h->oem_revision);
	put_field(f, raw + 28, 4);
	fprintf(f, " revision 0x%x\n", (unsigned)h->creator_revision);
	fprintf(f, "  host address width: %u bits (field %u)", in->address_width, in->haw);
	if (in->address_width < 64)
		fprintf(f, ": DMA addresses up to 0x%" PRIx64, (UINT64_C(1) << in->address_width) - 1);
	fputc('\n', f);
	fprintf(f, "  flags 0x%02x:\n", fl);
	fprintf(f, "    interrupt remapping: %s\n",
		(fl & MOAT_DMAR_FLAG_INTR_REMAP) ? "supported (INTR_REMAP)" : "not supported (INTR_REMAP clear)");
	fprintf(f, "    x2APIC: %s\n",
		(fl & MOAT_DMAR_FLAG_X2APIC_OPT_OUT)
			? "firmware asks the OS not to enable x2APIC mode (X2APIC_OPT_OUT)"
			: "no opt-out, the OS may enable x2APIC mode (X2APIC_OPT_OUT clear)");
	fprintf(f, "    DMA control: %s\n",
		(fl & MOAT_DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN)
			? "firmware protected memory from DMA until now; keep DMA remapping on "
			  "(DMA_CTRL_PLATFORM_OPT_IN)"
			: "no platform opt-in (DMA_CTRL_PLATFORM_OPT_IN clear)");
	if (fl & ~7u)
		fprintf(f, "    reserved flag bits 0x%02x set\n", fl & ~7u);
}

/* The index of the DRHD whose register base is @base, or -1. */
static int unit_of(const struct view *v, uint64_t base)
{
	struct moat_dmar_iter it = v->start;
	struct moat_dmar_struct s;
	int n = 0;

	while (moat_dmar_next(&it, &s, NULL) == MOAT_OK) {
		if (s.type != MOAT_DMAR_TYPE_DRHD)
			continue;
		if (s.drhd.register_base == base)
			return n;
		n++;
	}
	return -1;
}

/* Print every structure of @type with @fn, after a heading if there is one. */
typedef void (*text_fn)(struct text *t, const struct moat_dmar_struct *s, unsigned index);

static void text_section(struct text *t, int type, const char *heading, text_fn fn)
{
	struct moat_dmar_iter it = t->v->start;
	struct moat_dmar_struct s;
	unsigned n = 0;

	while (moat_dmar_next(&it, &s, NULL) == MOAT_OK) {
		if (type >= 0 ? s.type != type : s.known)
			continue;
		if (!n++)
			fprintf(t->f, "\n%s\n", heading);
		fn(t, &s, n - 1);
	}
}

static void text_drhd(struct text *t, const struct moat_dmar_struct *s, unsigned index)
{
	bool all = s->drhd.flags & MOAT_DMAR_DRHD_INCLUDE_PCI_ALL;
	char sz[32];

	fprintf(t->f, "  unit %u: registers 0x%" PRIx64 " (%s), segment %u%s  [DRHD at 0x%x]\n", index,
		s->drhd.register_base,
		fmt_size(UINT64_C(0x1000) << (s->drhd.size & MOAT_DMAR_DRHD_SIZE_MASK), sz, sizeof(sz)),
		s->drhd.segment, all ? ", INCLUDE_PCI_ALL" : "", (unsigned)s->offset);
	if (all) {
		fprintf(t->f, "    translates every device of segment %u that no other unit lists\n", s->drhd.segment);
		if (count_scopes(s, 1)) {
			fprintf(t->f, "    devices named:\n");
			text_scopes(t, s, "      ", 1);
		}
	} else {
		fprintf(t->f, "    translates only these devices:\n");
		if (!text_scopes(t, s, "      ", 1))
			fprintf(t->f, "      (none)\n");
	}
	if (count_scopes(s, 2)) {
		fprintf(t->f, "    remaps interrupts from:\n");
		text_scopes(t, s, "      ", 2);
	}
}

/* A segment whose units list devices one by one leaves every other device of it untranslated. */
static void text_coverage(struct text *t)
{
	struct moat_dmar_iter it = t->v->start, it2;
	struct moat_dmar_struct s, o;

	while (moat_dmar_next(&it, &s, NULL) == MOAT_OK) {
		bool all = false, first = true;
		if (s.type != MOAT_DMAR_TYPE_DRHD)
			continue;
		it2 = t->v->start;
		while (moat_dmar_next(&it2, &o, NULL) == MOAT_OK) {
			if (o.type != MOAT_DMAR_TYPE_DRHD || o.drhd.segment != s.drhd.segment)
				continue;
			if (o.offset < s.offset)
				first = false;
			if (o.drhd.flags & MOAT_DMAR_DRHD_INCLUDE_PCI_ALL)
				all = true;
		}
		if (first && !all)
			fprintf(t->f, "  segment %u has no INCLUDE_PCI_ALL unit: devices no unit lists are not "
				      "translated by any IOMMU\n", s.drhd.segment);
	}
}

static void text_rmrr(struct text *t, const struct moat_dmar_struct *s, unsigned index)
{
	char sz[32];

	fprintf(t->f, "  0x%" PRIx64 "-0x%" PRIx64 " (%s), segment %u  [RMRR at 0x%x], for:\n", s->rmrr.base,
		s->rmrr.limit,
		s->rmrr.limit >= s->rmrr.base ? fmt_size(s->rmrr.limit - s->rmrr.base + 1, sz, sizeof(sz))
					      : "limit below base",
		s->rmrr.segment, (unsigned)s->offset);
	if (!text_scopes(t, s, "      ", 0))
		fprintf(t->f, "      (no devices listed)\n");
}

static void text_ats(struct text *t, const struct moat_dmar_struct *s, unsigned index)
{
	bool atsr = s->type == MOAT_DMAR_TYPE_ATSR;
	uint8_t fl = atsr ? s->atsr.flags : s->satc.flags;

	fprintf(t->f, "  segment %u, flags 0x%02x", atsr ? s->atsr.segment : s->satc.segment, fl);
	if (atsr)
		fprintf(t->f, (fl & MOAT_DMAR_ATSR_ALL_PORTS) ? ": ALL_PORTS, every root port supports ATS"
							      : ": the root ports listed");
	else
		fprintf(t->f, (fl & MOAT_DMAR_SATC_ATC_REQUIRED)
				      ? ": ATC_REQUIRED, the devices need their ATC enabled to work"
				      : ": ATC optional");
	fprintf(t->f, "  [%s at 0x%x]\n", atsr ? "ATSR" : "SATC", (unsigned)s->offset);
	text_scopes(t, s, "      ", 0);
}

static void text_rhsa(struct text *t, const struct moat_dmar_struct *s, unsigned index)
{
	int unit = unit_of(t->v, s->rhsa.register_base);

	if (unit >= 0)
		fprintf(t->f, "  unit %d (registers 0x%" PRIx64 ")", unit, s->rhsa.register_base);
	else
		fprintf(t->f, "  registers 0x%" PRIx64 " (no DRHD has them)", s->rhsa.register_base);
	fprintf(t->f, ": proximity domain %u  [RHSA at 0x%x]\n", (unsigned)s->rhsa.proximity_domain,
		(unsigned)s->offset);
}

static void text_andd(struct text *t, const struct moat_dmar_struct *s, unsigned index)
{
	fprintf(t->f, "  device %u: ", s->andd.device_number);
	put_field(t->f, s->andd.name, s->andd.name_len);
	fprintf(t->f, "  [ANDD at 0x%x]\n", (unsigned)s->offset);
}

static void text_sidp(struct text *t, const struct moat_dmar_struct *s, unsigned index)
{
	fprintf(t->f, "  segment %u  [SIDP at 0x%x]\n", s->sidp.segment, (unsigned)s->offset);
	text_scopes(t, s, "      ", 0);
}

static void text_unknown(struct text *t, const struct moat_dmar_struct *s, unsigned index)
{
	fprintf(t->f, "  type %u, %u bytes at 0x%x: skipped\n", s->type, s->length, (unsigned)s->offset);
}

static void print_text(FILE *f, const struct view *v, const char *source, moat_status st,
		       const struct moat_diag *diag)
{
	struct text t = { .f = f, .v = v };
	char msg[256];

	fprintf(f, "DMAR (Intel VT-d DMA remapping) from %s\n", source ? source : "(input)");
	if (v->ok) {
		text_header(&t);
		text_section(&t, MOAT_DMAR_TYPE_DRHD, "Remapping units (DRHD):", text_drhd);
		text_coverage(&t);
		text_section(&t, MOAT_DMAR_TYPE_RMRR,
			     "Reserved memory regions (RMRR): keep each identity-mapped for its devices:", text_rmrr);
		text_section(&t, MOAT_DMAR_TYPE_ATSR, "Root ports with ATS (ATSR):", text_ats);
		text_section(&t, MOAT_DMAR_TYPE_SATC, "SoC devices with an address translation cache (SATC):",
			     text_ats);
		text_section(&t, MOAT_DMAR_TYPE_RHSA, "Unit affinity (RHSA):", text_rhsa);
		text_section(&t, MOAT_DMAR_TYPE_ANDD, "ACPI namespace devices (ANDD):", text_andd);
		text_section(&t, MOAT_DMAR_TYPE_SIDP, "SoC integrated device properties (SIDP):", text_sidp);
		text_section(&t, -1, "Structures of reserved types:", text_unknown);
		if (t.deep_path)
			fprintf(f, "\n  (A/B: device B on the secondary bus of bridge A)\n");
	} else {
		fprintf(f, "  the header cannot be decoded\n");
	}
	if (st != MOAT_OK)
		fprintf(f, "\n  PROBLEM: %s\n", moat_diag_format(diag, msg, sizeof(msg)));
	fputc('\n', f);
}

int tool_print_dmar(const uint8_t *buf, size_t len, struct tool_out *o, struct moat_diag *diag)
{
	struct moat_diag local = { 0 };
	struct view v;
	moat_status st;

	if (!diag)
		diag = &local;
	st = moat_dmar_check(buf, len, diag);
	view_open(&v, buf, len);
	if (o->json_mode)
		print_json(o->json, &v);
	else
		print_text(o->text, &v, o->source, st, diag);
	free(v.copy);
	return st == MOAT_OK ? 0 : 1;
}
