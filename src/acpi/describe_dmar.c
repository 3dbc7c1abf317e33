/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * moat_acpi_describe_dmar(): the vendor-neutral system description from a DMAR.
 *
 * The whole table is checked first (moat_dmar_check()), so a bad table describes nothing. Then one
 * pass fills the arrays in table order:
 *  - DRHD -> a unit; its endpoint, bridge and namespace-device scopes -> its devsets; its IOAPIC,
 *    HPET and namespace-device scopes -> specials remapped by that unit;
 *  - RMRR -> a region (UNITY | READ | WRITE) with the devsets of its scopes;
 *  - ATSR, SATC -> an ats entry with the devsets of its scopes;
 *  - ANDD -> the name of the namespace-device specials whose enumeration id is its device number
 *    (a second pass, as ANDDs usually follow the DRHDs that refer to them);
 *  - RHSA -> the proximity domain of the unit with its register base (a second pass, as for ANDD;
 *    an RHSA naming no unit is ignored);
 *  - SIDP adds nothing; reserved structure types and reserved scope types are counted in
 *    desc->skipped.
 * A scope path names its device from the start bus: path[0] is on the start bus, and each further
 * element is on the secondary bus of the bridge the previous element names (VT-d spec 4.1, section
 * 8.3.1), read from that bridge's configuration space when the caller gives a reader.
 */
#include <moat/acpi.h>
#include <moat/dmar.h>
#include <moat/internal/lib.h>

/* PCI-to-PCI bridge configuration header (PCI Local Bus / PCI-to-PCI Bridge Architecture spec):
 * dword 0x0C byte 2 = header type (bit 7: multi-function), dword 0x18 byte 1 = secondary bus,
 * byte 2 = subordinate bus. */
#define CFG_HEADER_DWORD  0x0cu
#define CFG_BUSES_DWORD   0x18u
#define HEADER_TYPE_BRIDGE 0x01u
#define CFG_NONE 0xffffffffu

struct build {
	struct moat_sysdesc *desc;
	moat_pci_cfg_read32_fn cfg;
	void *cfg_ctx;
};

/* Read the secondary and subordinate bus numbers of the bridge at seg:bus:dev.fn; false when there is
 * no reader, no device, the device is not a PCI-to-PCI bridge, or its bus numbers are not set up. */
static bool bridge_buses(const struct build *b, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint8_t *sec,
			 uint8_t *sub)
{
	uint32_t v;

	if (!b->cfg)
		return false;
	v = b->cfg(b->cfg_ctx, seg, bus, dev, fn, CFG_HEADER_DWORD);
	if (v == CFG_NONE || ((v >> 16) & 0x7f) != HEADER_TYPE_BRIDGE)
		return false;
	v = b->cfg(b->cfg_ctx, seg, bus, dev, fn, CFG_BUSES_DWORD);
	if (v == CFG_NONE)
		return false;
	*sec = (uint8_t)(v >> 8);
	*sub = (uint8_t)(v >> 16);
	/* A configured bridge forwards buses above its own: secondary > bus, subordinate >= secondary. */
	return *sec > bus && *sub >= *sec;
}

/* The requester id the path of @sc names, or false when a bridge on the way cannot be read. */
static bool resolve_path(const struct build *b, uint16_t seg, const struct moat_dmar_scope *sc, uint16_t *rid)
{
	uint8_t bus = sc->start_bus, sub;
	unsigned last = sc->path_count - 1u;

	for (unsigned i = 0; i < last; i++) {
		if (!bridge_buses(b, seg, bus, sc->path[2 * i], sc->path[2 * i + 1], &bus, &sub))
			return false;
	}
	*rid = MOAT_RID(bus, sc->path[2 * last], sc->path[2 * last + 1]);
	return true;
}

static void add_devset(struct build *b, uint16_t seg, uint16_t first, uint16_t last, uint8_t flags,
		       uint32_t src_offset)
{
	struct moat_sysdesc *d = b->desc;
	uint32_t i = d->devsets_count++;

	if (flags & MOAT_DEVSET_UNRESOLVED)
		first = last = 0;
	if (i < d->devsets_cap)
		d->devsets[i] = (struct moat_devset){
			.segment = seg,
			.first = first,
			.last = last,
			.alias = first,
			.flags = flags,
			.src_offset = src_offset,
		};
}

/* An endpoint or namespace-device scope: one devset; a bridge scope: the bridge, then its buses. */
static void add_scope_devsets(struct build *b, uint16_t seg, const struct moat_dmar_scope *sc)
{
	uint16_t rid = 0;
	bool known = resolve_path(b, seg, sc, &rid);
	uint8_t sec, sub;

	add_devset(b, seg, rid, rid, known ? 0 : MOAT_DEVSET_UNRESOLVED, sc->offset);
	if (sc->type != MOAT_DMAR_SCOPE_BRIDGE)
		return;
	if (known && bridge_buses(b, seg, MOAT_RID_BUS(rid), MOAT_RID_DEV(rid), MOAT_RID_FN(rid), &sec, &sub))
		add_devset(b, seg, MOAT_RID(sec, 0, 0), (uint16_t)(sub << 8 | 0xff), MOAT_DEVSET_BRIDGE, sc->offset);
	else
		add_devset(b, seg, 0, 0, MOAT_DEVSET_BRIDGE | MOAT_DEVSET_UNRESOLVED, sc->offset);
}

static void add_special(struct build *b, enum moat_special_kind kind, uint16_t seg, uint32_t unit,
			const struct moat_dmar_scope *sc)
{
	struct moat_sysdesc *d = b->desc;
	uint32_t i = d->specials_count++;
	uint16_t rid = 0;
	bool known = resolve_path(b, seg, sc, &rid);

	if (i >= d->specials_cap)
		return;
	d->specials[i] = (struct moat_special_desc){
		.kind = kind,
		.segment = seg,
		.rid = known ? rid : 0,
		.id = sc->enumeration_id,
		.resolved = known ? 1 : 0,
		.unit = unit,
		.src_offset = sc->offset,
	};
}

/*
 * The scopes of one structure (already checked). @unit is the unit index for a DRHD, or UINT32_MAX
 * for structures whose special-device scopes mean nothing to the description.
 */
static void add_scopes(struct build *b, const struct moat_dmar_struct *s, uint16_t seg, uint32_t unit)
{
	struct moat_dmar_scope_iter sit;
	struct moat_dmar_scope sc;

	moat_dmar_scopes(s, &sit);
	while (moat_dmar_scope_next(&sit, &sc, NULL) == MOAT_OK) {
		switch (sc.type) {
		case MOAT_DMAR_SCOPE_ENDPOINT:
		case MOAT_DMAR_SCOPE_BRIDGE:
			add_scope_devsets(b, seg, &sc);
			break;
		case MOAT_DMAR_SCOPE_NAMESPACE:
			add_scope_devsets(b, seg, &sc);
			if (unit != UINT32_MAX)
				add_special(b, MOAT_SPECIAL_ACPI_NS, seg, unit, &sc);
			break;
		case MOAT_DMAR_SCOPE_IOAPIC:
			if (unit != UINT32_MAX)
				add_special(b, MOAT_SPECIAL_IOAPIC, seg, unit, &sc);
			break;
		case MOAT_DMAR_SCOPE_HPET:
			if (unit != UINT32_MAX)
				add_special(b, MOAT_SPECIAL_HPET, seg, unit, &sc);
			break;
		default:
			b->desc->skipped++;
			break;
		}
	}
}

static void add_unit(struct build *b, const struct moat_dmar_struct *s)
{
	struct moat_sysdesc *d = b->desc;
	uint32_t i = d->units_count++;
	uint32_t first = d->devsets_count;

	add_scopes(b, s, s->drhd.segment, i);
	if (i >= d->units_cap)
		return;
	d->units[i] = (struct moat_unit_desc){
		.vendor = MOAT_VENDOR_VTD,
		.segment = s->drhd.segment,
		.flags = (s->drhd.flags & MOAT_DMAR_DRHD_INCLUDE_PCI_ALL) ? MOAT_UNIT_INCLUDE_ALL : 0,
		.register_base = s->drhd.register_base,
		.register_size = 0x1000u << (s->drhd.size & MOAT_DMAR_DRHD_SIZE_MASK),
		.devset_first = first,
		.devset_count = d->devsets_count - first,
		.src_offset = s->offset,
		.drhd_flags = s->drhd.flags,
	};
}

static void add_region(struct build *b, const struct moat_dmar_struct *s)
{
	struct moat_sysdesc *d = b->desc;
	uint32_t i = d->regions_count++;
	uint32_t first = d->devsets_count;

	add_scopes(b, s, s->rmrr.segment, UINT32_MAX);
	if (i >= d->regions_cap)
		return;
	d->regions[i] = (struct moat_region_desc){
		.kind = MOAT_REGION_RMRR,
		.segment = s->rmrr.segment,
		.flags = MOAT_REGION_UNITY | MOAT_REGION_READ | MOAT_REGION_WRITE,
		.base = s->rmrr.base,
		.limit = s->rmrr.limit,
		.devset_first = first,
		.devset_count = d->devsets_count - first,
		.src_offset = s->offset,
	};
}

static void add_ats(struct build *b, const struct moat_dmar_struct *s, enum moat_ats_kind kind, uint16_t seg,
		    uint8_t flags)
{
	struct moat_sysdesc *d = b->desc;
	uint32_t i = d->ats_count++;
	uint32_t first = d->devsets_count;

	add_scopes(b, s, seg, UINT32_MAX);
	if (i >= d->ats_cap)
		return;
	d->ats[i] = (struct moat_ats_desc){
		.kind = kind,
		.segment = seg,
		.flags = flags,
		.devset_first = first,
		.devset_count = d->devsets_count - first,
		.src_offset = s->offset,
	};
}

/* Give the ANDD's object name to every namespace-device special with its enumeration id. */
static void name_specials(struct moat_sysdesc *d, const struct moat_dmar_struct *s)
{
	uint32_t n = MOAT_MIN(d->specials_count, d->specials_cap);

	for (uint32_t i = 0; i < n; i++) {
		struct moat_special_desc *sp = &d->specials[i];
		size_t len = MOAT_MIN((size_t)s->andd.name_len, sizeof(sp->name) - 1);
		if (sp->kind != MOAT_SPECIAL_ACPI_NS || sp->id != s->andd.device_number || sp->name[0])
			continue;
		moat_memcpy(sp->name, s->andd.name, len);
		sp->name[len] = '\0';
	}
}

static void reset_counts(struct moat_sysdesc *d)
{
	d->units_count = 0;
	d->devsets_count = 0;
	d->regions_count = 0;
	d->specials_count = 0;
	d->ats_count = 0;
	d->skipped = 0;
}

static bool arrays_ok(const struct moat_sysdesc *d)
{
	return (d->units || !d->units_cap) && (d->devsets || !d->devsets_cap) && (d->regions || !d->regions_cap) &&
	       (d->specials || !d->specials_cap) && (d->ats || !d->ats_cap);
}

static bool overflowed(const struct moat_sysdesc *d)
{
	return d->units_count > d->units_cap || d->devsets_count > d->devsets_cap ||
	       d->regions_count > d->regions_cap || d->specials_count > d->specials_cap ||
	       d->ats_count > d->ats_cap;
}

/* RHSA: the proximity domain of the unit whose register base it names (VT-d spec 4.1, 8.6). */
static void set_proximity(struct moat_sysdesc *desc, const struct moat_dmar_struct *s)
{
	const uint32_t n = MOAT_MIN(desc->units_count, desc->units_cap);

	for (uint32_t i = 0; i < n; i++) {
		struct moat_unit_desc *u = &desc->units[i];

		if (u->vendor == MOAT_VENDOR_VTD && u->register_base == s->rhsa.register_base) {
			u->has_proximity = true;
			u->proximity_domain = s->rhsa.proximity_domain;
		}
	}
}

moat_status moat_acpi_describe_dmar(const void *table, size_t len, struct moat_sysdesc *desc,
				    moat_pci_cfg_read32_fn cfg_read, void *cfg_ctx, struct moat_diag *diag)
{
	struct build b = { .desc = desc, .cfg = cfg_read, .cfg_ctx = cfg_ctx };
	struct moat_dmar_info info;
	struct moat_dmar_iter it, start;
	struct moat_dmar_struct s;
	moat_status st;

	if (!desc)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, "DMAR", 0, "NULL system description");
	reset_counts(desc);
	if (!arrays_ok(desc))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, "DMAR", 0,
				     "system description array NULL with a non-zero capacity");
	st = moat_dmar_check(table, len, diag);
	if (st != MOAT_OK)
		return st;
	st = moat_dmar_open(table, len, &info, &it, diag);
	if (st != MOAT_OK)
		return st;

	desc->vendor = MOAT_VENDOR_VTD;
	desc->address_width = (uint8_t)info.address_width;
	desc->flags = 0;
	if (info.flags & MOAT_DMAR_FLAG_INTR_REMAP)
		desc->flags |= MOAT_SYS_INTR_REMAP;
	if (info.flags & MOAT_DMAR_FLAG_X2APIC_OPT_OUT)
		desc->flags |= MOAT_SYS_X2APIC_OPT_OUT;
	if (info.flags & MOAT_DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN)
		desc->flags |= MOAT_SYS_DMA_CTRL_OPT_IN;
	desc->ivinfo = 0;

	start = it;
	while (moat_dmar_next(&it, &s, NULL) == MOAT_OK) {
		switch (s.type) {
		case MOAT_DMAR_TYPE_DRHD:
			add_unit(&b, &s);
			break;
		case MOAT_DMAR_TYPE_RMRR:
			add_region(&b, &s);
			break;
		case MOAT_DMAR_TYPE_ATSR:
			add_ats(&b, &s, MOAT_ATS_ATSR, s.atsr.segment, s.atsr.flags);
			break;
		case MOAT_DMAR_TYPE_SATC:
			add_ats(&b, &s, MOAT_ATS_SATC, s.satc.segment, s.satc.flags);
			break;
		case MOAT_DMAR_TYPE_RHSA:
		case MOAT_DMAR_TYPE_ANDD:
		case MOAT_DMAR_TYPE_SIDP:
			break;
		default:
			desc->skipped++;
			break;
		}
	}
	it = start;
	while (moat_dmar_next(&it, &s, NULL) == MOAT_OK) {
		if (s.type == MOAT_DMAR_TYPE_ANDD)
			name_specials(desc, &s);
		if (s.type == MOAT_DMAR_TYPE_RHSA)
			set_proximity(desc, &s);
	}
	if (overflowed(desc))
		return moat_diag_set(diag, MOAT_ERR_NO_SPACE, "DMAR", 0,
				     "description arrays too small: the table needs %u units, %u devsets, %u regions, "
				     "%u specials, %u ats entries", (unsigned)desc->units_count,
				     (unsigned)desc->devsets_count, (unsigned)desc->regions_count,
				     (unsigned)desc->specials_count, (unsigned)desc->ats_count);
	return MOAT_OK;
}
