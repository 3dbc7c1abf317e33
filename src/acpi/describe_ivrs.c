/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The vendor-neutral system description (struct moat_sysdesc) from an IVRS.
 *
 * One unit per IOMMU: an IOMMU (device id and segment) described by IVHDs of several types is
 * taken from the highest type (40h, 11h, 10h), its other blocks are ignored (48882 section 5.2:
 * the newer blocks repeat the older ones with more information). Each device entry naming
 * requester ids becomes a devset of its unit: select and range entries, alias entries
 * (MOAT_DEVSET_ALIASED), extended entries (amd_ext_setting), and also the special (72) and ACPI
 * HID (240) entries, whose requester ids get the DTE setting of their entry. An "all" entry sets
 * MOAT_UNIT_AMD_ALL and MOAT_UNIT_INCLUDE_ALL, and its setting byte goes to amd_all_setting.
 * Special entries become IOAPIC/HPET specials, ACPI HID entries ACPI namespace specials; IVMDs
 * become regions with their devices.
 */
#include <moat/internal/lib.h>
#include <moat/ivrs.h>

struct builder {
	struct moat_sysdesc *d;
	bool no_space;
};

static void reset(struct moat_sysdesc *d)
{
	d->vendor = MOAT_VENDOR_NONE;
	d->address_width = 0;
	d->flags = 0;
	d->ivinfo = 0;
	d->skipped = 0;
	d->units_count = 0;
	d->devsets_count = 0;
	d->regions_count = 0;
	d->specials_count = 0;
	d->ats_count = 0;
}

static void add_devset(struct builder *b, const struct moat_devset *ds)
{
	struct moat_sysdesc *d = b->d;
	uint32_t i = d->devsets_count++;

	if (i < d->devsets_cap)
		d->devsets[i] = *ds;
	else
		b->no_space = true;
}

static void add_special(struct builder *b, const struct moat_special_desc *sp)
{
	struct moat_sysdesc *d = b->d;
	uint32_t i = d->specials_count++;

	if (i < d->specials_cap)
		d->specials[i] = *sp;
	else
		b->no_space = true;
}

static void add_entry_devset(struct builder *b, uint16_t segment, uint16_t first, uint16_t last,
			     const struct moat_ivhd_entry *e)
{
	struct moat_devset ds = {
		.segment = segment,
		.first = first,
		.last = last,
		.alias = first,
		.amd_setting = e->setting,
		.src_offset = e->offset,
	};

	add_devset(b, &ds);
}

/* A range end: the range its start entry opened. */
static void add_range(struct builder *b, uint16_t segment, const struct moat_ivhd_entry *e)
{
	const struct moat_ivhd_range *r = &e->range;
	struct moat_devset ds = {
		.segment = segment,
		.first = r->first,
		.last = e->device_id,
		.alias = r->first,
		.amd_setting = r->setting,
		.src_offset = r->start_offset,
	};

	if (r->start_type == MOAT_IVHD_ENTRY_ALIAS_RANGE) {
		ds.flags |= MOAT_DEVSET_ALIASED;
		ds.alias = r->alias_id;
	} else if (r->start_type == MOAT_IVHD_ENTRY_EXT_RANGE) {
		ds.amd_ext_setting = r->ext_setting;
	}
	add_devset(b, &ds);
}

static void add_special_entry(struct builder *b, uint32_t unit, uint16_t segment, const struct moat_ivhd_entry *e)
{
	struct moat_special_desc sp = {
		.segment = segment,
		.unit = unit,
		.resolved = 1,
		.src_offset = e->offset,
	};

	if (e->type == MOAT_IVHD_ENTRY_SPECIAL) {
		if (e->variety == MOAT_IVHD_SPECIAL_IOAPIC) {
			sp.kind = MOAT_SPECIAL_IOAPIC;
			b->d->flags |= MOAT_SYS_INTR_REMAP;
		} else if (e->variety == MOAT_IVHD_SPECIAL_HPET) {
			sp.kind = MOAT_SPECIAL_HPET;
		} else {
			b->d->skipped++;
			return;
		}
		sp.id = e->handle;
		sp.rid = e->source_id;
		add_entry_devset(b, segment, e->source_id, e->source_id, e);
	} else {
		char id[17];

		sp.kind = MOAT_SPECIAL_ACPI_NS;
		sp.rid = e->device_id;
		moat_ivhd_acpi_id(e->hid, id);
		moat_snprintf(sp.name, sizeof(sp.name), "%s", id);
		moat_ivhd_uid_string(e, sp.uid, sizeof(sp.uid));
		add_entry_devset(b, segment, e->device_id, e->device_id, e);
	}
	add_special(b, &sp);
}

static void add_unit(struct builder *b, const struct moat_ivrs_iter *it, const struct moat_ivrs_struct *s)
{
	struct moat_sysdesc *d = b->d;
	uint32_t ui = d->units_count++;
	struct moat_unit_desc u = {
		.vendor = MOAT_VENDOR_AMDVI,
		.segment = s->segment,
		.register_base = s->base_address,
		.register_size = moat_ivrs_register_size(s),
		.devset_first = d->devsets_count,
		.src_offset = s->offset,
		.ivhd_type = s->type,
		.ivhd_flags = s->flags,
		.iommu_rid = s->device_id,
		.capability_offset = s->capability_offset,
		.iommu_info = s->info,
		.ivhd_feature = s->feature,
		.efr = s->efr,
	};
	struct moat_ivhd_iter eit;
	struct moat_ivhd_entry e;

	moat_ivrs_entries_begin(it, s, &eit);
	while (moat_ivrs_entry_next(&eit, &e, NULL) == MOAT_OK) {
		switch (e.type) {
		case MOAT_IVHD_ENTRY_ALL:
			u.flags |= MOAT_UNIT_AMD_ALL | MOAT_UNIT_INCLUDE_ALL;
			u.amd_all_setting |= e.setting;
			break;
		case MOAT_IVHD_ENTRY_SELECT:
			add_entry_devset(b, s->segment, e.device_id, e.device_id, &e);
			break;
		case MOAT_IVHD_ENTRY_ALIAS_SELECT: {
			struct moat_devset ds = {
				.segment = s->segment,
				.first = e.device_id,
				.last = e.device_id,
				.alias = e.alias_id,
				.flags = MOAT_DEVSET_ALIASED,
				.amd_setting = e.setting,
				.src_offset = e.offset,
			};
			add_devset(b, &ds);
			break;
		}
		case MOAT_IVHD_ENTRY_EXT_SELECT: {
			struct moat_devset ds = {
				.segment = s->segment,
				.first = e.device_id,
				.last = e.device_id,
				.alias = e.device_id,
				.amd_setting = e.setting,
				.amd_ext_setting = e.ext_setting,
				.src_offset = e.offset,
			};
			add_devset(b, &ds);
			break;
		}
		case MOAT_IVHD_ENTRY_RANGE_END:
			add_range(b, s->segment, &e);
			break;
		case MOAT_IVHD_ENTRY_SPECIAL:
		case MOAT_IVHD_ENTRY_ACPI_HID:
			add_special_entry(b, ui, s->segment, &e);
			break;
		default:
			/* Pads and range starts (taken at their end) carry nothing more. */
			if (!e.known)
				d->skipped++;
			break;
		}
	}
	u.devset_count = d->devsets_count - u.devset_first;
	if (ui < d->units_cap)
		d->units[ui] = u;
	else
		b->no_space = true;
}

static void add_region(struct builder *b, const struct moat_ivrs_struct *s)
{
	struct moat_sysdesc *d = b->d;
	uint32_t ri = d->regions_count++;
	const uint32_t known = MOAT_REGION_UNITY | MOAT_REGION_READ | MOAT_REGION_WRITE | MOAT_REGION_EXCLUSION;
	struct moat_region_desc r = {
		.flags = s->flags & known,
		.base = s->start,
		.limit = s->start + (s->mem_length - 1),
		.devset_first = d->devsets_count,
		.src_offset = s->offset,
	};
	struct moat_devset ds = {
		.first = s->device_id,
		.last = s->device_id,
		.alias = s->device_id,
		.src_offset = s->offset,
	};

	switch (s->type) {
	case MOAT_IVRS_TYPE_IVMD_ALL:
		r.kind = MOAT_REGION_IVMD_ALL;
		break;
	case MOAT_IVRS_TYPE_IVMD_SELECT:
		r.kind = MOAT_REGION_IVMD_SELECT;
		add_devset(b, &ds);
		break;
	default:
		r.kind = MOAT_REGION_IVMD_RANGE;
		ds.last = s->aux_data;
		add_devset(b, &ds);
		break;
	}
	r.devset_count = d->devsets_count - r.devset_first;
	if (ri < d->regions_cap)
		d->regions[ri] = r;
	else
		b->no_space = true;
}

static bool arrays_ok(const struct moat_sysdesc *d)
{
	return (d->units || !d->units_cap) && (d->devsets || !d->devsets_cap) && (d->regions || !d->regions_cap) &&
	       (d->specials || !d->specials_cap) && (d->ats || !d->ats_cap);
}

moat_status moat_acpi_describe_ivrs(const void *table, size_t len, struct moat_sysdesc *desc,
				    struct moat_diag *diag)
{
	struct builder b = { .d = desc };
	struct moat_ivrs_info info;
	struct moat_ivrs_iter it, first;
	struct moat_ivrs_struct s;
	moat_status st;

	if (!desc)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, "IVRS", 0, "NULL description");
	reset(desc);
	if (!table || !arrays_ok(desc))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, "IVRS", 0,
				     "NULL table, or an array NULL with a non-zero capacity");
	st = moat_ivrs_check(table, len, diag);
	if (st != MOAT_OK)
		return st;
	st = moat_ivrs_open(table, len, &info, &it, diag);
	if (st != MOAT_OK)
		return st;

	desc->vendor = MOAT_VENDOR_AMDVI;
	desc->ivinfo = info.ivinfo;
	desc->address_width = (uint8_t)MOAT_IVINFO_PA_SIZE(info.ivinfo);
	first = it;
	while (moat_ivrs_next(&it, &s, NULL) == MOAT_OK) {
		switch (s.kind) {
		case MOAT_IVRS_KIND_IVHD:
			if (moat_ivrs_ivhd_preferred(&first, &s))
				add_unit(&b, &it, &s);
			break;
		case MOAT_IVRS_KIND_IVMD:
			add_region(&b, &s);
			break;
		default:
			desc->skipped++;
			break;
		}
	}
	if (b.no_space)
		return moat_diag_set(diag, MOAT_ERR_NO_SPACE, "IVRS", 0,
				     "description needs %u units, %u devsets, %u regions, %u specials",
				     desc->units_count, desc->devsets_count, desc->regions_count,
				     desc->specials_count);
	return MOAT_OK;
}
