/* SPDX-License-Identifier: BSD-2-Clause */
/* moat_acpi_describe_dmar(): units, devsets, regions, specials, ATS, flags, path resolution, NO_SPACE. */
#include "test_dmar_builder.h"

#define CAP 256

struct descbuf {
	struct moat_sysdesc desc;
	struct moat_unit_desc units[CAP];
	struct moat_devset devsets[CAP];
	struct moat_region_desc regions[CAP];
	struct moat_special_desc specials[CAP];
	struct moat_ats_desc ats[CAP];
};

static void descbuf_init(struct descbuf *b, uint32_t cap)
{
	memset(b, 0xa5, sizeof(*b)); /* so a field the builder forgets shows */
	b->desc = (struct moat_sysdesc){
		.units = b->units, .units_cap = cap,
		.devsets = b->devsets, .devsets_cap = cap,
		.regions = b->regions, .regions_cap = cap,
		.specials = b->specials, .specials_cap = cap,
		.ats = b->ats, .ats_cap = cap,
	};
}

/*
 * Entries compared field by field: the builders fill them by assignment, which leaves their padding
 * unspecified, so two fills of the same entry may differ in bytes no field holds.
 */
static void assert_unit_equal(const struct moat_unit_desc *a, const struct moat_unit_desc *b)
{
	assert_int_equal(a->vendor, b->vendor);
	assert_int_equal(a->segment, b->segment);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->register_base, b->register_base);
	assert_int_equal(a->register_size, b->register_size);
	assert_int_equal(a->devset_first, b->devset_first);
	assert_int_equal(a->devset_count, b->devset_count);
	assert_int_equal(a->src_offset, b->src_offset);
	assert_int_equal(a->drhd_flags, b->drhd_flags);
	assert_int_equal(a->has_proximity, b->has_proximity);
	assert_int_equal(a->proximity_domain, b->proximity_domain);
	assert_int_equal(a->ivhd_type, b->ivhd_type);
	assert_int_equal(a->ivhd_flags, b->ivhd_flags);
	assert_int_equal(a->iommu_rid, b->iommu_rid);
	assert_int_equal(a->capability_offset, b->capability_offset);
	assert_int_equal(a->iommu_info, b->iommu_info);
	assert_int_equal(a->ivhd_feature, b->ivhd_feature);
	assert_int_equal(a->efr, b->efr);
}

static void assert_devset_equal(const struct moat_devset *a, const struct moat_devset *b)
{
	assert_int_equal(a->segment, b->segment);
	assert_int_equal(a->first, b->first);
	assert_int_equal(a->last, b->last);
	assert_int_equal(a->alias, b->alias);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->amd_setting, b->amd_setting);
	assert_int_equal(a->amd_ext_setting, b->amd_ext_setting);
	assert_int_equal(a->src_offset, b->src_offset);
}

static void assert_region_equal(const struct moat_region_desc *a, const struct moat_region_desc *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->segment, b->segment);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->base, b->base);
	assert_int_equal(a->limit, b->limit);
	assert_int_equal(a->devset_first, b->devset_first);
	assert_int_equal(a->devset_count, b->devset_count);
	assert_int_equal(a->src_offset, b->src_offset);
}

static void assert_special_equal(const struct moat_special_desc *a, const struct moat_special_desc *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->segment, b->segment);
	assert_int_equal(a->rid, b->rid);
	assert_int_equal(a->id, b->id);
	assert_int_equal(a->resolved, b->resolved);
	assert_int_equal(a->unit, b->unit);
	assert_memory_equal(a->name, b->name, sizeof(a->name));   /* char arrays: every byte is the field's */
	assert_memory_equal(a->uid, b->uid, sizeof(a->uid));
	assert_int_equal(a->src_offset, b->src_offset);
}

static void assert_ats_equal(const struct moat_ats_desc *a, const struct moat_ats_desc *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->segment, b->segment);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->devset_first, b->devset_first);
	assert_int_equal(a->devset_count, b->devset_count);
	assert_int_equal(a->src_offset, b->src_offset);
}

/* A fake PCI configuration space: a few functions, each possibly a bridge. */
struct fake_fn {
	uint16_t seg;
	uint8_t bus, dev, fn;
	uint8_t header_type;   /* 0 endpoint, 1 PCI-to-PCI bridge */
	uint8_t secondary, subordinate;
};

struct fake_cfg {
	const struct fake_fn *fns;
	unsigned count;
	unsigned reads;
};

static uint32_t fake_read(void *ctx, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t offset)
{
	struct fake_cfg *c = ctx;
	c->reads++;
	assert_int_equal(offset & 3, 0);
	for (unsigned i = 0; i < c->count; i++) {
		const struct fake_fn *f = &c->fns[i];
		if (f->seg != seg || f->bus != bus || f->dev != dev || f->fn != fn)
			continue;
		switch (offset) {
		case 0x00:
			return 0x12348086u;
		case 0x0c:
			return (uint32_t)f->header_type << 16;
		case 0x18:
			return f->header_type == 1 ? (uint32_t)bus | (uint32_t)f->secondary << 8 |
							     (uint32_t)f->subordinate << 16
						   : 0xfe000000u; /* a BAR, for an endpoint */
		default:
			return 0;
		}
	}
	return 0xffffffffu;
}

static void assert_devset(const struct moat_devset *s, uint16_t seg, uint16_t first, uint16_t last, uint8_t flags)
{
	assert_int_equal(s->segment, seg);
	assert_int_equal(s->flags, flags);
	if (!(flags & MOAT_DEVSET_UNRESOLVED)) {
		assert_int_equal(s->first, first);
		assert_int_equal(s->last, last);
		assert_int_equal(s->alias, first);
	}
}

static void qemu_dmar_describes_one_unit_with_listed_devices(void **state)
{
	(void)state;
	struct tb t;
	struct descbuf b;
	struct moat_diag d = { 0 };

	tb_init(&t, 38, MOAT_DMAR_FLAG_INTR_REMAP);
	size_t drhd = tb_drhd(&t, 0, 0, 0, 0xfed90000);
	size_t s1 = tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x01u, 0u);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	size_t io = tb_scope_path(&t, MOAT_DMAR_SCOPE_IOAPIC, 0, 0xff, 1, 0x00u, 0u);
	tb_end(&t);
	size_t len = tb_finish(&t);

	descbuf_init(&b, CAP);
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &b.desc, NULL, NULL, &d), MOAT_OK);
	assert_int_equal(b.desc.vendor, MOAT_VENDOR_VTD);
	assert_int_equal(b.desc.address_width, 39);
	assert_int_equal(b.desc.flags, MOAT_SYS_INTR_REMAP);
	assert_int_equal(b.desc.skipped, 0);
	assert_int_equal(b.desc.units_count, 1);
	assert_int_equal(b.desc.devsets_count, 2);
	assert_int_equal(b.desc.regions_count, 0);
	assert_int_equal(b.desc.specials_count, 1);
	assert_int_equal(b.desc.ats_count, 0);

	const struct moat_unit_desc *u = &b.units[0];
	assert_int_equal(u->vendor, MOAT_VENDOR_VTD);
	assert_int_equal(u->segment, 0);
	assert_int_equal(u->flags, 0); /* no INCLUDE_PCI_ALL: only the listed devices */
	assert_int_equal(u->register_base, 0xfed90000);
	assert_int_equal(u->register_size, 4096);
	assert_int_equal(u->devset_first, 0);
	assert_int_equal(u->devset_count, 2);
	assert_int_equal(u->src_offset, drhd);
	assert_int_equal(u->drhd_flags, 0);
	assert_devset(&b.devsets[0], 0, MOAT_RID(0, 1, 0), MOAT_RID(0, 1, 0), 0);
	assert_int_equal(b.devsets[0].src_offset, s1);
	assert_devset(&b.devsets[1], 0, MOAT_RID(0, 2, 0), MOAT_RID(0, 2, 0), 0);

	const struct moat_special_desc *sp = &b.specials[0];
	assert_int_equal(sp->kind, MOAT_SPECIAL_IOAPIC);
	assert_int_equal(sp->id, 0);
	assert_int_equal(sp->rid, MOAT_RID(0xff, 0, 0));
	assert_int_equal(sp->resolved, 1);
	assert_int_equal(sp->unit, 0);
	assert_string_equal(sp->name, "");
	assert_int_equal(sp->src_offset, io);
}

static void multi_segment_dmar_keeps_units_and_regions_apart(void **state)
{
	(void)state;
	struct tb t;
	struct descbuf b;

	tb_init(&t, 45, MOAT_DMAR_FLAG_INTR_REMAP | MOAT_DMAR_FLAG_X2APIC_OPT_OUT);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfbffc000);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_IOAPIC, 8, 0, 1, 0x05u, 4u);
	tb_end(&t);
	tb_drhd(&t, 0, 0, 1, 0xc7ffc000);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0x80, 1, 0x00u, 0u);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0x80, 1, 0x1du, 0u);
	tb_end(&t);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 1, 0xc7ffd000);
	tb_end(&t);
	size_t rmrr = tb_rmrr(&t, 1, 0x7d000000, 0x7d0fffff);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0x80, 1, 0x1du, 0u);
	tb_end(&t);
	size_t len = tb_finish(&t);

	descbuf_init(&b, CAP);
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &b.desc, NULL, NULL, NULL), MOAT_OK);
	assert_int_equal(b.desc.address_width, 46);
	assert_int_equal(b.desc.flags, MOAT_SYS_INTR_REMAP | MOAT_SYS_X2APIC_OPT_OUT);
	assert_int_equal(b.desc.units_count, 3);
	assert_int_equal(b.units[0].segment, 0);
	assert_int_equal(b.units[0].flags, MOAT_UNIT_INCLUDE_ALL);
	assert_int_equal(b.units[0].devset_count, 0);
	assert_false(b.units[0].has_proximity);   /* no RHSA */
	assert_int_equal(b.units[0].proximity_domain, 0);
	assert_int_equal(b.units[1].segment, 1);
	assert_int_equal(b.units[1].flags, 0);
	assert_int_equal(b.units[1].devset_first, 0);
	assert_int_equal(b.units[1].devset_count, 2);
	assert_int_equal(b.units[2].segment, 1);
	assert_int_equal(b.units[2].flags, MOAT_UNIT_INCLUDE_ALL);
	assert_int_equal(b.units[2].register_base, 0xc7ffd000);
	assert_int_equal(b.units[2].devset_first, 2);
	assert_int_equal(b.units[2].devset_count, 0);
	assert_devset(&b.devsets[0], 1, MOAT_RID(0x80, 0, 0), MOAT_RID(0x80, 0, 0), 0);
	assert_devset(&b.devsets[1], 1, MOAT_RID(0x80, 0x1d, 0), MOAT_RID(0x80, 0x1d, 0), 0);

	assert_int_equal(b.desc.specials_count, 1);
	assert_int_equal(b.specials[0].kind, MOAT_SPECIAL_IOAPIC);
	assert_int_equal(b.specials[0].id, 8);
	assert_int_equal(b.specials[0].rid, MOAT_RID(0, 5, 4));
	assert_int_equal(b.specials[0].unit, 0);

	assert_int_equal(b.desc.regions_count, 1);
	const struct moat_region_desc *r = &b.regions[0];
	assert_int_equal(r->kind, MOAT_REGION_RMRR);
	assert_int_equal(r->segment, 1);
	assert_int_equal(r->flags, MOAT_REGION_UNITY | MOAT_REGION_READ | MOAT_REGION_WRITE);
	assert_int_equal(r->base, 0x7d000000);
	assert_int_equal(r->limit, 0x7d0fffff);
	assert_int_equal(r->devset_first, 2);
	assert_int_equal(r->devset_count, 1);
	assert_int_equal(r->src_offset, rmrr);
	assert_devset(&b.devsets[2], 1, MOAT_RID(0x80, 0x1d, 0), MOAT_RID(0x80, 0x1d, 0), 0);
	assert_int_equal(b.desc.devsets_count, 3);
}

/*
 * Segment 0:  00:1c.0 bridge -> bus 2..3;  02:00.0 bridge -> bus 3;  00:1d.0 bridge -> bus 4..6;
 *             00:1f.0 an endpoint;  00:1e.0 absent.
 */
static const struct fake_fn topo[] = {
	{ 0, 0x00, 0x1c, 0, 1, 2, 3 },
	{ 0, 0x02, 0x00, 0, 1, 3, 3 },
	{ 0, 0x03, 0x01, 0, 0, 0, 0 },
	{ 0, 0x00, 0x1d, 0, 1, 4, 6 },
	{ 0, 0x00, 0x1f, 0, 0, 0, 0 },
};

static size_t build_paths(struct tb *t)
{
	tb_init(t, 38, 0);
	tb_drhd(t, 0, 0, 0, 0xfed90000);
	tb_scope_path(t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 2, 0x1cu, 0u, 0x00u, 0u);           /* 02:00.0 */
	tb_scope_path(t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 3, 0x1cu, 0u, 0x00u, 0u, 0x01u, 0u); /* 03:01.0 */
	tb_scope_path(t, MOAT_DMAR_SCOPE_BRIDGE, 0, 0, 1, 0x1du, 0u);                       /* 00:1d.0 */
	tb_scope_path(t, MOAT_DMAR_SCOPE_BRIDGE, 0, 0, 2, 0x1cu, 0u, 0x00u, 0u);             /* 02:00.0 */
	tb_scope_path(t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 2, 0x1eu, 0u, 0x00u, 0u);           /* absent bridge */
	tb_scope_path(t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 2, 0x1fu, 0u, 0x00u, 0u);           /* not a bridge */
	tb_scope_path(t, MOAT_DMAR_SCOPE_BRIDGE, 0, 0, 1, 0x1fu, 0u);                       /* not a bridge */
	tb_end(t);
	return tb_finish(t);
}

static void scope_paths_resolve_through_bridges(void **state)
{
	(void)state;
	struct tb t;
	struct descbuf b;
	struct fake_cfg cfg = { topo, sizeof(topo) / sizeof(topo[0]), 0 };
	size_t len = build_paths(&t);

	descbuf_init(&b, CAP);
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &b.desc, fake_read, &cfg, NULL), MOAT_OK);
	assert_int_equal(b.desc.units_count, 1);
	assert_int_equal(b.desc.devsets_count, 10);
	assert_int_equal(b.units[0].devset_count, 10);
	assert_devset(&b.devsets[0], 0, MOAT_RID(2, 0, 0), MOAT_RID(2, 0, 0), 0);
	assert_devset(&b.devsets[1], 0, MOAT_RID(3, 1, 0), MOAT_RID(3, 1, 0), 0);
	/* a bridge scope: the bridge itself, then every id on its secondary..subordinate buses */
	assert_devset(&b.devsets[2], 0, MOAT_RID(0, 0x1d, 0), MOAT_RID(0, 0x1d, 0), 0);
	assert_devset(&b.devsets[3], 0, 0x0400, 0x06ff, MOAT_DEVSET_BRIDGE);
	assert_devset(&b.devsets[4], 0, MOAT_RID(2, 0, 0), MOAT_RID(2, 0, 0), 0);
	assert_devset(&b.devsets[5], 0, 0x0300, 0x03ff, MOAT_DEVSET_BRIDGE);
	/* unresolved, not an error: an absent bridge, an endpoint where a bridge should be */
	assert_devset(&b.devsets[6], 0, 0, 0, MOAT_DEVSET_UNRESOLVED);
	assert_devset(&b.devsets[7], 0, 0, 0, MOAT_DEVSET_UNRESOLVED);
	assert_devset(&b.devsets[8], 0, MOAT_RID(0, 0x1f, 0), MOAT_RID(0, 0x1f, 0), 0);
	assert_devset(&b.devsets[9], 0, 0, 0, MOAT_DEVSET_BRIDGE | MOAT_DEVSET_UNRESOLVED);
	assert_true(cfg.reads > 0);
	assert_true(cfg.reads < 40); /* a handful per path element, no more */
}

static void scope_paths_without_reader_stay_unresolved(void **state)
{
	(void)state;
	struct tb t;
	struct descbuf b;
	size_t len = build_paths(&t);

	descbuf_init(&b, CAP);
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &b.desc, NULL, NULL, NULL), MOAT_OK);
	assert_int_equal(b.desc.devsets_count, 10);
	assert_devset(&b.devsets[0], 0, 0, 0, MOAT_DEVSET_UNRESOLVED);
	assert_devset(&b.devsets[1], 0, 0, 0, MOAT_DEVSET_UNRESOLVED);
	/* a one-element bridge path: the bridge is known, the buses below it are not */
	assert_devset(&b.devsets[2], 0, MOAT_RID(0, 0x1d, 0), MOAT_RID(0, 0x1d, 0), 0);
	assert_devset(&b.devsets[3], 0, 0, 0, MOAT_DEVSET_BRIDGE | MOAT_DEVSET_UNRESOLVED);
	assert_devset(&b.devsets[4], 0, 0, 0, MOAT_DEVSET_UNRESOLVED);
	assert_devset(&b.devsets[5], 0, 0, 0, MOAT_DEVSET_BRIDGE | MOAT_DEVSET_UNRESOLVED);
}

static void specials_get_ids_rids_units_and_andd_names(void **state)
{
	(void)state;
	struct tb t;
	struct descbuf b;

	tb_init(&t, 38, MOAT_DMAR_FLAG_INTR_REMAP);
	tb_drhd(&t, 0, 0, 0, 0xfed90000);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	tb_end(&t);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed91000);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_IOAPIC, 2, 0xf0, 1, 0x1fu, 0u);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_HPET, 0, 0xf0, 1, 0x0fu, 0u);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_NAMESPACE, 1, 0, 1, 0x15u, 0u);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_NAMESPACE, 7, 0, 1, 0x15u, 1u);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_NAMESPACE, 9, 0, 1, 0x15u, 2u); /* no ANDD names it */
	tb_end(&t);
	tb_andd(&t, 1, "\\_SB.PCI0.I2C0", 6);
	tb_end(&t);
	tb_andd(&t, 7, "\\_SB.PCI0.UA00", 0);
	tb_end(&t);
	size_t len = tb_finish(&t);

	descbuf_init(&b, CAP);
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &b.desc, NULL, NULL, NULL), MOAT_OK);
	assert_int_equal(b.desc.units_count, 2);
	assert_int_equal(b.desc.specials_count, 5);
	assert_int_equal(b.specials[0].kind, MOAT_SPECIAL_IOAPIC);
	assert_int_equal(b.specials[0].id, 2);
	assert_int_equal(b.specials[0].rid, MOAT_RID(0xf0, 0x1f, 0));
	assert_int_equal(b.specials[0].unit, 1);
	assert_int_equal(b.specials[1].kind, MOAT_SPECIAL_HPET);
	assert_int_equal(b.specials[1].id, 0);
	assert_int_equal(b.specials[1].rid, MOAT_RID(0xf0, 0x0f, 0));
	assert_int_equal(b.specials[2].kind, MOAT_SPECIAL_ACPI_NS);
	assert_int_equal(b.specials[2].id, 1);
	assert_int_equal(b.specials[2].rid, MOAT_RID(0, 0x15, 0));
	assert_int_equal(b.specials[2].resolved, 1);
	assert_string_equal(b.specials[2].name, "\\_SB.PCI0.I2C0");
	assert_string_equal(b.specials[3].name, "\\_SB.PCI0.UA00");
	assert_int_equal(b.specials[3].rid, MOAT_RID(0, 0x15, 1));
	assert_string_equal(b.specials[4].name, "");
	assert_string_equal(b.specials[4].uid, "");
	/* namespace devices do DMA: they are among the unit's devices too */
	assert_int_equal(b.units[1].devset_count, 3);
	assert_devset(&b.devsets[b.units[1].devset_first], 0, MOAT_RID(0, 0x15, 0), MOAT_RID(0, 0x15, 0), 0);
}

static void atsr_and_satc_become_ats_entries(void **state)
{
	(void)state;
	struct tb t;
	struct descbuf b;

	tb_init(&t, 38, 0);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
	tb_end(&t);
	tb_atsr(&t, MOAT_DMAR_ATSR_ALL_PORTS, 0);
	tb_end(&t);
	tb_atsr(&t, 0, 1);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_BRIDGE, 0, 0x80, 1, 0x02u, 0u);
	tb_end(&t);
	tb_satc(&t, MOAT_DMAR_SATC_ATC_REQUIRED, 0);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x0bu, 0u);
	tb_end(&t);
	tb_rhsa(&t, 0xfed90000, 1);
	tb_end(&t);
	tb_sidp(&t, 0);
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	tb_end(&t);
	size_t len = tb_finish(&t);

	descbuf_init(&b, CAP);
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &b.desc, NULL, NULL, NULL), MOAT_OK);
	assert_int_equal(b.desc.ats_count, 3);
	assert_int_equal(b.ats[0].kind, MOAT_ATS_ATSR);
	assert_int_equal(b.ats[0].flags, MOAT_DMAR_ATSR_ALL_PORTS);
	assert_int_equal(b.ats[0].segment, 0);
	assert_int_equal(b.ats[0].devset_count, 0);
	assert_int_equal(b.ats[1].kind, MOAT_ATS_ATSR);
	assert_int_equal(b.ats[1].segment, 1);
	assert_int_equal(b.ats[1].flags, 0);
	assert_int_equal(b.ats[1].devset_count, 2); /* a bridge scope: the bridge and its buses */
	assert_devset(&b.devsets[b.ats[1].devset_first], 1, MOAT_RID(0x80, 2, 0), MOAT_RID(0x80, 2, 0), 0);
	assert_int_equal(b.ats[2].kind, MOAT_ATS_SATC);
	assert_int_equal(b.ats[2].flags, MOAT_DMAR_SATC_ATC_REQUIRED);
	assert_int_equal(b.ats[2].devset_count, 2);
	assert_devset(&b.devsets[b.ats[2].devset_first + 1], 0, MOAT_RID(0, 0x0b, 0), MOAT_RID(0, 0x0b, 0), 0);
	/* RHSA gives the unit its proximity domain; SIDP adds nothing; nothing was skipped */
	assert_true(b.units[0].has_proximity);
	assert_int_equal(b.units[0].proximity_domain, 1);
	assert_int_equal(b.desc.devsets_count, 4);
	assert_int_equal(b.desc.skipped, 0);
}

static void drhd_size_byte_gives_register_size(void **state)
{
	(void)state;
	struct tb t;
	struct descbuf b;

	tb_init(&t, 38, 0);
	tb_drhd(&t, 0, 4, 0, 0xfc800000);
	tb_end(&t);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 1, 0, 0xfc810000);
	tb_end(&t);
	size_t len = tb_finish(&t);

	descbuf_init(&b, CAP);
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &b.desc, NULL, NULL, NULL), MOAT_OK);
	assert_int_equal(b.units[0].register_size, 16 * 4096);
	assert_int_equal(b.units[1].register_size, 2 * 4096);
}

static void opt_in_flags_without_intr_remap(void **state)
{
	(void)state;
	struct tb t;
	struct descbuf b;

	tb_init(&t, 38, MOAT_DMAR_FLAG_X2APIC_OPT_OUT | MOAT_DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN);
	tb_drhd(&t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed90000);
	tb_end(&t);
	size_t len = tb_finish(&t);

	descbuf_init(&b, CAP);
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &b.desc, NULL, NULL, NULL), MOAT_OK);
	assert_int_equal(b.desc.flags, MOAT_SYS_X2APIC_OPT_OUT | MOAT_SYS_DMA_CTRL_OPT_IN);
}

static void unknown_structures_and_scopes_are_skipped_and_counted(void **state)
{
	(void)state;
	struct tb t;
	struct descbuf b;

	tb_init(&t, 38, 0);
	tb_begin(&t, 0x7); /* reserved structure type */
	tb_u32(&t, 0);
	tb_end(&t);
	tb_drhd(&t, 0, 0, 0, 0xfed90000);
	tb_scope_path(&t, 0x9, 0, 0, 1, 0x03u, 0u); /* reserved scope type */
	tb_scope_path(&t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	tb_end(&t);
	tb_begin(&t, 0x1234);
	tb_end(&t);
	size_t len = tb_finish(&t);

	descbuf_init(&b, CAP);
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &b.desc, NULL, NULL, NULL), MOAT_OK);
	assert_int_equal(b.desc.skipped, 3);
	assert_int_equal(b.desc.units_count, 1);
	assert_int_equal(b.desc.devsets_count, 1);
	assert_devset(&b.devsets[0], 0, MOAT_RID(0, 2, 0), MOAT_RID(0, 2, 0), 0);
}

static size_t build_big(struct tb *t)
{
	tb_init(t, 38, MOAT_DMAR_FLAG_INTR_REMAP);
	tb_drhd(t, 0, 0, 0, 0xfed90000);
	tb_scope_path(t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	tb_end(t);
	tb_drhd(t, MOAT_DMAR_DRHD_INCLUDE_PCI_ALL, 0, 0, 0xfed91000);
	tb_scope_path(t, MOAT_DMAR_SCOPE_IOAPIC, 2, 0xf0, 1, 0x1fu, 0u);
	tb_scope_path(t, MOAT_DMAR_SCOPE_HPET, 0, 0xf0, 1, 0x0fu, 0u);
	tb_end(t);
	tb_rmrr(t, 0, 0x9cd65000, 0x9cd84fff);
	tb_scope_path(t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x14u, 0u);
	tb_scope_path(t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x1au, 0u);
	tb_end(t);
	tb_rmrr(t, 0, 0x9d800000, 0x9fffffff);
	tb_scope_path(t, MOAT_DMAR_SCOPE_ENDPOINT, 0, 0, 1, 0x02u, 0u);
	tb_end(t);
	tb_atsr(t, MOAT_DMAR_ATSR_ALL_PORTS, 0);
	tb_end(t);
	return tb_finish(t);
}

/* Too-small arrays: the counts say what is needed, nothing is written past a capacity. */
static void no_space_counts_the_sizes_needed(void **state)
{
	(void)state;
	struct tb t;
	struct descbuf full, b;
	struct moat_sysdesc sizing = { 0 };
	struct moat_diag d = { 0 };
	size_t len = build_big(&t);

	descbuf_init(&full, CAP);
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &full.desc, NULL, NULL, NULL), MOAT_OK);
	assert_int_equal(full.desc.units_count, 2);
	assert_int_equal(full.desc.devsets_count, 4);
	assert_int_equal(full.desc.regions_count, 2);
	assert_int_equal(full.desc.specials_count, 2);
	assert_int_equal(full.desc.ats_count, 1);

	/* no arrays at all: a sizing call */
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &sizing, NULL, NULL, &d), MOAT_ERR_NO_SPACE);
	assert_int_equal(d.status, MOAT_ERR_NO_SPACE);
	assert_int_equal(sizing.units_count, 2);
	assert_int_equal(sizing.devsets_count, 4);
	assert_int_equal(sizing.regions_count, 2);
	assert_int_equal(sizing.specials_count, 2);
	assert_int_equal(sizing.ats_count, 1);

	/* room for one of each: the first entries are right, the rest untouched */
	descbuf_init(&b, 1);
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &b.desc, NULL, NULL, NULL), MOAT_ERR_NO_SPACE);
	assert_int_equal(b.desc.units_count, 2);
	assert_int_equal(b.desc.devsets_count, 4);
	assert_int_equal(b.desc.regions_count, 2);
	assert_int_equal(b.desc.specials_count, 2);
	assert_unit_equal(&b.units[0], &full.units[0]);
	assert_devset_equal(&b.devsets[0], &full.devsets[0]);
	assert_region_equal(&b.regions[0], &full.regions[0]);
	assert_special_equal(&b.specials[0], &full.specials[0]);
	assert_ats_equal(&b.ats[0], &full.ats[0]);
	/* the entries past the capacity were never written: their bytes are the canary's, padding too */
	uint8_t canary[sizeof(b.specials[1])];
	memset(canary, 0xa5, sizeof(canary));
	assert_memory_equal(&b.units[1], canary, sizeof(b.units[1]));
	assert_memory_equal(&b.devsets[1], canary, sizeof(b.devsets[1]));
	assert_memory_equal(&b.regions[1], canary, sizeof(b.regions[1]));
	assert_memory_equal(&b.specials[1], canary, sizeof(b.specials[1]));

	/* exactly enough: OK */
	descbuf_init(&b, 4);
	b.desc.units_cap = 2;
	b.desc.regions_cap = 2;
	b.desc.specials_cap = 2;
	b.desc.ats_cap = 1;
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &b.desc, NULL, NULL, NULL), MOAT_OK);
}

static void bad_arguments_are_refused(void **state)
{
	(void)state;
	struct tb t;
	struct descbuf b;
	struct moat_diag d = { 0 };
	size_t len = build_big(&t);

	assert_int_equal(moat_acpi_describe_dmar(t.b, len, NULL, NULL, NULL, &d), MOAT_ERR_INVALID_ARG);
	descbuf_init(&b, CAP);
	b.desc.devsets = NULL;
	assert_int_equal(moat_acpi_describe_dmar(t.b, len, &b.desc, NULL, NULL, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(b.desc.units_count, 0);
	descbuf_init(&b, CAP);
	assert_int_equal(moat_acpi_describe_dmar(NULL, len, &b.desc, NULL, NULL, &d), MOAT_ERR_INVALID_ARG);
	assert_int_equal(b.desc.units_count, 0);
}

/* Every corpus table describes; a sizing call gives the same counts. */
static void every_corpus_table_describes(void **state)
{
	(void)state;
	static const char *const names[] = {
		"acer-aspire-e5-571", "depo-super-server-f84e17", "samsung-960qha", "hp-compaq-6730b",
		"hp-proliant-dl380e-gen8", "msi-prestige-13-ai-evo-a2vmg", "apple-macbookpro14-3",
	};
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct descbuf b;
		struct moat_sysdesc sizing = { 0 };
		size_t len;
		uint8_t *tab = tb_load_corpus(names[i], &len);
		descbuf_init(&b, CAP);
		moat_status st = moat_acpi_describe_dmar(tab, len, &b.desc, NULL, NULL, NULL);
		assert_int_equal(st, MOAT_OK);
		assert_true(b.desc.units_count >= 1);
		st = moat_acpi_describe_dmar(tab, len, &sizing, NULL, NULL, NULL);
		assert_int_equal(st, MOAT_ERR_NO_SPACE);
		assert_int_equal(sizing.units_count, b.desc.units_count);
		assert_int_equal(sizing.devsets_count, b.desc.devsets_count);
		assert_int_equal(sizing.regions_count, b.desc.regions_count);
		assert_int_equal(sizing.specials_count, b.desc.specials_count);
		for (uint32_t u = 0; u < b.desc.units_count; u++) {
			assert_true(b.units[u].devset_first + b.units[u].devset_count <= b.desc.devsets_count);
			assert_int_equal(b.units[u].register_base & 0xfff, 0);
		}
		for (uint32_t s = 0; s < b.desc.specials_count; s++)
			assert_true(b.specials[s].unit < b.desc.units_count);
		free(tab);
	}
}

/* The Acer table: ANDD 1 names the namespace device of unit 1; RMRRs for USB and graphics. */
static void corpus_acer_describes_as_its_disassembly_says(void **state)
{
	(void)state;
	struct descbuf b;
	size_t len;
	uint8_t *tab = tb_load_corpus("acer-aspire-e5-571", &len);

	descbuf_init(&b, CAP);
	assert_int_equal(moat_acpi_describe_dmar(tab, len, &b.desc, NULL, NULL, NULL), MOAT_OK);
	assert_int_equal(b.desc.address_width, 39);
	assert_int_equal(b.desc.flags, MOAT_SYS_INTR_REMAP | MOAT_SYS_X2APIC_OPT_OUT);
	assert_int_equal(b.desc.units_count, 2);
	assert_int_equal(b.units[0].register_base, 0xfed90000);
	assert_int_equal(b.units[1].flags, MOAT_UNIT_INCLUDE_ALL);
	assert_int_equal(b.desc.specials_count, 3);
	assert_int_equal(b.specials[2].kind, MOAT_SPECIAL_ACPI_NS);
	assert_string_equal(b.specials[2].name, "\\_SB.PCI0.SDMA");
	assert_int_equal(b.specials[2].rid, MOAT_RID(0, 0x15, 0));
	assert_int_equal(b.desc.regions_count, 2);
	assert_int_equal(b.regions[0].base, 0x9cd65000);
	assert_int_equal(b.regions[0].limit, 0x9cd84fff);
	assert_int_equal(b.regions[1].base, 0x9d800000);
	free(tab);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_dmar_describes_one_unit_with_listed_devices),
		cmocka_unit_test(multi_segment_dmar_keeps_units_and_regions_apart),
		cmocka_unit_test(scope_paths_resolve_through_bridges),
		cmocka_unit_test(scope_paths_without_reader_stay_unresolved),
		cmocka_unit_test(specials_get_ids_rids_units_and_andd_names),
		cmocka_unit_test(atsr_and_satc_become_ats_entries),
		cmocka_unit_test(drhd_size_byte_gives_register_size),
		cmocka_unit_test(opt_in_flags_without_intr_remap),
		cmocka_unit_test(unknown_structures_and_scopes_are_skipped_and_counted),
		cmocka_unit_test(no_space_counts_the_sizes_needed),
		cmocka_unit_test(bad_arguments_are_refused),
		cmocka_unit_test(every_corpus_table_describes),
		cmocka_unit_test(corpus_acer_describes_as_its_disassembly_says),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
