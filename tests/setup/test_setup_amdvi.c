/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bring-up (src/setup/amdvi_glue.c) of AMD-Vi units described by a hand-built IVRS, against the
 * simulated AMD IOMMU of tests/amdvi/: negotiation, the full device table with every entry valid
 * and blocking, the unit operations the core drives (attach, lookup, detach, invalidation, the
 * auditor's view of the live device table), Moat ownership of the driver's pages, events polled through the core,
 * IVMD regions, and tear-down.
 */
#include "../acpi/test_ivrs_builder.h"
#include "../amdvi/amdvi_test.h"

#include <moat/internal/unit.h>
#include <moat/setup.h>

#include "hostile.h"

#define DEV_A 0x0010u          /* 00:02.0, a select entry */
#define DEV_B 0x0018u          /* 00:03.0, a select entry */
#define ALIAS 0x00f0u          /* 00:1e.0: what the IOMMU sees of bus 1 */
#define DEV_BEHIND 0x0103u     /* 01:00.3, behind the alias */
#define DEV_UNNAMED 0x0500u    /* 05:00.0: named by no entry, but it has a device-table entry */
#define IVMD_BASE 0x100000ull
#define IVMD_LEN 0x2000ull
#define IVINFO_QEMU ((48u << 8) | (64u << 15))   /* PASize 48, VASize 64 */

/* Event entry (48882 section 2.5): device id 15:0, domain id 47:32, flags 59:48, code 63:60. */
#define EV_IO_PAGE_FAULT 0x2ull
#define EVF_RW 0x020ull

struct fx {
	struct ivrs_builder b;
	struct moat_sysdesc desc;
	struct moat_unit_desc units[4];
	struct moat_devset devsets[32];
	struct moat_region_desc regions[4];
	struct moat_special_desc specials[4];
	struct sim_amdvi *sim[2];
	struct moat_setup ms;
	struct moat_setup_unit su[2];
	uint64_t live;                    /* hosted pages live before */
};

/*
 * QEMU-like IVRS: one IVHD (type @type, EFR image @efr_image for 11h/40h) at SIM_BASE, the IOMMU
 * at 00:01.0, select entries for 00:00.0, 00:02.0 and 00:03.0, an alias range 01:00.0-01:00.7
 * seen as 00:1e.0, the IOAPIC as a special entry, and an IVMD for 00:03.0. With @two, a second
 * IVHD at SIM_BASE2 on segment 1 with an "all" entry. The simulated units' EFR registers read
 * @efr.
 */
static struct fx *fx_new(uint8_t type, uint64_t efr_image, uint64_t efr, uint8_t flags, bool two)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct moat_diag diag;
	moat_status st;

	assert_non_null(f);
	f->live = moat_hosted_stats().pages_live;
	ivrs_begin(&f->b, 2, IVINFO_QEMU);
	ivrs_ivhd(&f->b, type, flags, 0x0008, 0x40, SIM_BASE, 0, 0, 0, efr_image);
	ivrs_entry4(&f->b, MOAT_IVHD_ENTRY_SELECT, 0x0000, 0);
	ivrs_entry4(&f->b, MOAT_IVHD_ENTRY_SELECT, DEV_A, 0);
	ivrs_entry4(&f->b, MOAT_IVHD_ENTRY_SELECT, DEV_B, 0xd7);    /* every setting bit: not applied */
	ivrs_entry_alias(&f->b, MOAT_IVHD_ENTRY_ALIAS_RANGE, 0x0100, 0, ALIAS);
	ivrs_entry4(&f->b, MOAT_IVHD_ENTRY_RANGE_END, 0x0107, 0);
	ivrs_entry_special(&f->b, 0, 0, 0x00a0, 1);
	if (two) {
		ivrs_ivhd(&f->b, type, flags, 0x0008, 0x40, SIM_BASE2, 1, 0, 0, efr_image);
		ivrs_entry4(&f->b, MOAT_IVHD_ENTRY_ALL, 0, 0);
	}
	ivrs_ivmd(&f->b, MOAT_IVRS_TYPE_IVMD_SELECT, MOAT_IVMD_F_UNITY | MOAT_IVMD_F_IR | MOAT_IVMD_F_IW, DEV_B, 0,
		  IVMD_BASE, IVMD_LEN);
	ivrs_finish(&f->b);

	f->desc = (struct moat_sysdesc){
		.units = f->units,
		.units_cap = 4,
		.devsets = f->devsets,
		.devsets_cap = 32,
		.regions = f->regions,
		.regions_cap = 4,
		.specials = f->specials,
		.specials_cap = 4,
	};
	st = moat_acpi_describe_ivrs(f->b.buf, f->b.len, &f->desc, &diag);
	if (st != MOAT_OK)
		fail_msg("describe: %s: %s", moat_status_str(st), diag.msg);
	f->sim[0] = sim_amdvi_new(SIM_BASE, efr);
	if (two)
		f->sim[1] = sim_amdvi_new(SIM_BASE2, efr);
	return f;
}

static void fx_init(struct fx *f, unsigned width)
{
	struct moat_diag diag;
	moat_status st = moat_setup_init(&f->ms, f->su, 2, &f->desc, width, &diag);

	if (st != MOAT_OK)
		fail_msg("moat_setup_init: %s: %s", moat_status_str(st), diag.msg);
	for (unsigned i = 0; i < f->ms.caps.units; i++)
		f->su[i].hw.amdvi.timeout_ns = TEST_TIMEOUT_NS;
	hostile_watch(&f->ms.sys, NULL);   /* the simulated units are the hostile device's hardware */
}

static void fx_enable(struct fx *f)
{
	struct moat_diag diag;
	moat_status st = moat_setup_enable(&f->ms, &diag);

	if (st != MOAT_OK)
		fail_msg("moat_setup_enable: %s: %s", moat_status_str(st), diag.msg);
}

/* Tear down and check that translation is off and every page went back to the platform. */
static void fx_free(struct fx *f, bool initialized)
{
	if (initialized)
		assert_int_equal(hostile_check(&f->ms.sys), 0);   /* what the hostile device left behind, if on */
	hostile_unwatch(&f->ms.sys);
	if (initialized)
		assert_int_equal(moat_setup_fini(&f->ms, NULL), MOAT_OK);
	for (unsigned i = 0; i < 2; i++) {
		if (f->sim[i])
			assert_false(f->sim[i]->control & (SIM_CTL_IOMMU_EN | SIM_CTL_CMDBUF_EN | SIM_CTL_EVTLOG_EN));
		sim_amdvi_free(f->sim[i]);
	}
	assert_int_equal(moat_hosted_stats().pages_live, f->live);
	free(f);
}

static bool owned(struct moat_system *sys, uint64_t phys)
{
	struct moat_protect_hit hit;

	return moat_protect_check(sys, phys, MOAT_PAGE_SIZE, &hit) == MOAT_ERR_PROTECTED && hit.owned;
}

static uint64_t event_lo(uint64_t code, uint16_t devid, uint16_t dom, uint64_t flags)
{
	return devid | ((uint64_t)dom << 32) | (flags << 48) | (code << 60);
}

/* ---- bring-up ---- */

static void qemu_like_ivrs_is_negotiated_without_touching_the_hardware(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, IVHDF_HT_TUN | IVHDF_IOTLB, false);

	fx_init(f, 0);
	assert_int_equal(f->ms.caps.vendor, MOAT_VENDOR_AMDVI);
	assert_int_equal(f->ms.caps.units, 1);
	/* EFR HATS 2: up to 6 levels; width 0 takes them all */
	assert_int_equal(f->ms.caps.levels, 6);
	assert_int_equal(f->ms.caps.address_width, 64);
	assert_int_equal(f->ms.caps.page_sizes, MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M | MOAT_PT_PAGE_1G);
	assert_false(f->ms.caps.coherent);
	assert_true(f->ms.caps.caching_mode);
	assert_true(f->ms.caps.queued_invalidation);
	assert_int_equal(f->ms.caps.domain_id_min, 1);
	assert_int_equal(f->ms.caps.domain_id_max, 0xffff);
	assert_int_equal(f->ms.caps.fault_records, 255);
	assert_int_equal(f->ms.sys.cfg.pt.format, MOAT_PT_AMD_V1);
	assert_int_equal(f->ms.sys.cfg.pt.levels, 6);
	assert_int_equal(f->su[0].unit.flags, MOAT_UNIT_F_INVAL_ON_MAP | MOAT_UNIT_F_FAULT_MSI);
	assert_int_equal(f->su[0].unit.desc_index, 0);
	/* the whole device-id space, whatever the IVRS names (its highest id is 0x107) */
	assert_int_equal(f->su[0].hw.amdvi.dt_described, 0x108);
	assert_int_equal(f->su[0].hw.amdvi.dt_entries, 65536);
	/* nothing written, nothing allocated */
	assert_int_equal(f->sim[0]->nlog, 0);
	assert_int_equal(moat_setup_driver_pages(&f->ms), 0);
	/* routing follows the IVHD entries, aliases included */
	assert_ptr_equal(moat_unit_route(&f->ms.sys, 0, DEV_A), &f->su[0].unit);
	assert_ptr_equal(moat_unit_route(&f->ms.sys, 0, DEV_BEHIND), &f->su[0].unit);
	assert_null(moat_unit_route(&f->ms.sys, 0, DEV_UNNAMED));
	fx_free(f, true);
}

static void enable_gives_every_device_id_a_valid_blocking_entry(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, IVHDF_HT_TUN | IVHDF_IOTLB, false);
	uint64_t pages[520];
	unsigned n = 0;

	/* firmware left an exclusion range on: it must not survive */
	f->sim[0]->exclbase = 0x80000000ull | 1;
	f->sim[0]->excllimit = 0x8fffffffull;
	fx_init(f, 0);
	fx_enable(f);
	assert_true(f->sim[0]->control & SIM_CTL_IOMMU_EN);
	assert_true(f->sim[0]->control & SIM_CTL_CMDBUF_EN);
	assert_true(f->sim[0]->control & SIM_CTL_EVTLOG_EN);
	assert_int_equal(f->sim[0]->exclbase & 1, 0);
	/* 512 pages: 65536 entries, each one valid and blocking */
	assert_int_equal(f->sim[0]->devtab & 0x1ff, 511);
	assert_int_equal(sim_amdvi_dte_count(f->sim[0]), 65536);
	assert_int_equal(check_all_entries(f->sim[0], NULL, 0), 65536);
	assert_int_equal(sim_amdvi_request(f->sim[0], DEV_A, NULL), SIM_REQ_BLOCKED);
	assert_int_equal(sim_amdvi_request(f->sim[0], DEV_UNNAMED, NULL), SIM_REQ_BLOCKED);
	assert_int_equal(sim_amdvi_request(f->sim[0], 0xffff, NULL), SIM_REQ_BLOCKED);
	assert_int_equal(f->sim[0]->violations, 0);
	assert_int_equal(f->sim[0]->bad_access, 0);

	/* device table, command buffer, semaphore, event log: every page Moat-owned */
	assert_int_equal(moat_amdvi_pages(&f->su[0].hw.amdvi, pages, 520, &n), MOAT_OK);
	assert_int_equal(n, 515);
	assert_int_equal(moat_setup_driver_pages(&f->ms), n);
	for (unsigned i = 0; i < n; i++) {
		uint64_t phys = 0;

		assert_true(owned(&f->ms.sys, pages[i]));
		assert_int_equal(moat_setup_driver_page(&f->ms, i, &phys), MOAT_OK);
		assert_int_equal(phys, pages[i]);
	}
	assert_true(moat_owned_pages(&f->ms.sys) >= n);
	/* enabling twice writes nothing */
	unsigned writes = f->sim[0]->nlog;
	fx_enable(f);
	assert_int_equal(f->sim[0]->nlog, writes);
	fx_free(f, true);
}

static void address_width_chooses_the_fewest_levels_that_cover_it(void **state)
{
	(void)state;
	static const struct {
		uint64_t efr;
		unsigned width, levels, bits, sizes;
	} cases[] = {
		{ EFR_QEMU, 0, 6, 64, 7 }, { EFR_QEMU, 64, 6, 64, 7 }, { EFR_QEMU, 48, 4, 48, 7 },
		{ EFR_QEMU, 40, 4, 48, 7 }, { EFR_QEMU, 39, 3, 39, 7 }, { EFR_QEMU, 32, 3, 39, 7 },
		{ EFR_QEMU, 30, 2, 30, 3 }, { EFR_QEMU, 21, 1, 21, 1 },
		/* HATS 0: 4 levels at most */
		{ EFR_HATS0_IA, 0, 4, 48, 7 }, { EFR_HATS0_IA, 57, 4, 48, 7 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fx *f = fx_new(0x11, cases[i].efr, cases[i].efr, 0, false);

		fx_init(f, cases[i].width);
		assert_int_equal(f->ms.caps.levels, cases[i].levels);
		assert_int_equal(f->ms.caps.address_width, cases[i].bits);
		assert_int_equal(f->ms.caps.page_sizes, cases[i].sizes);
		assert_int_equal(f->ms.sys.cfg.pt.levels, cases[i].levels);
		fx_free(f, true);
	}
}

static void units_agree_and_each_gets_its_own_full_table(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x11, EFR_QEMU, EFR_QEMU, IVHDF_COHERENT, true);
	struct moat_domain dom;

	/* the second unit walks only 5 levels and lacks INVALIDATE_IOMMU_ALL */
	f->sim[1]->efr = EFR_HATS1;
	fx_init(f, 0);
	assert_int_equal(f->ms.caps.units, 2);
	assert_int_equal(f->ms.caps.levels, 5);
	assert_int_equal(f->ms.caps.address_width, 57);
	assert_false(f->su[1].hw.amdvi.caps.ia);
	assert_true(f->ms.caps.coherent);
	assert_true(f->ms.sys.cfg.pt.coherent);
	assert_ptr_equal(moat_unit_route(&f->ms.sys, 1, DEV_UNNAMED), &f->su[1].unit);
	fx_enable(f);
	assert_int_equal(check_all_entries(f->sim[0], NULL, 0), 65536);
	assert_int_equal(check_all_entries(f->sim[1], NULL, 0), 65536);
	/* a device of segment 1 goes to the unit with the "all" entry */
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	assert_int_equal(moat_domain_attach(&dom, 1, DEV_UNNAMED, NULL), MOAT_OK);
	assert_int_equal(sim_amdvi_request(f->sim[1], DEV_UNNAMED, NULL), SIM_REQ_TRANSLATED);
	assert_int_equal(sim_amdvi_dte(f->sim[1], DEV_UNNAMED)[0] >> 9 & 7, 5);
	assert_int_equal(sim_amdvi_request(f->sim[0], DEV_UNNAMED, NULL), SIM_REQ_BLOCKED);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 1, DEV_UNNAMED, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	fx_free(f, true);
}

/* ---- the unit operations ---- */

static void attach_lookup_detach_reach_the_device_table(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x40, EFR_QEMU, EFR_QEMU, 0, false);
	struct moat_audit_report r;
	struct moat_unit_dev d;
	struct moat_domain dom;
	uint64_t used[2];

	fx_init(f, 0);
	fx_enable(f);
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	assert_int_equal(f->su[0].unit.ops->lookup(&f->su[0].unit, DEV_A, &d), MOAT_ERR_NOT_FOUND);
	unsigned mark = f->sim[0]->ncmds;
	assert_int_equal(moat_domain_attach(&dom, 0, DEV_A, NULL), MOAT_OK);
	/* V, TV, Mode 6, root, IR, IW; the domain id */
	assert_int_equal(sim_amdvi_dte(f->sim[0], DEV_A)[0],
			 DTE_V | DTE_TV | DTE_MODE(6) | dom.pt.root_phys | DTE_IR | DTE_IW);
	assert_int_equal(sim_amdvi_dte(f->sim[0], DEV_A)[1], dom.id);
	const uint16_t att[] = { DEV_A };
	check_all_entries(f->sim[0], att, 1);
	/* the entry and the domain invalidated, then waited for */
	assert_int_equal(sim_amdvi_count_cmds(f->sim[0], 2, mark), 1);
	assert_int_equal(sim_amdvi_count_cmds(f->sim[0], 3, mark), 1);
	assert_int_equal(sim_amdvi_count_cmds(f->sim[0], 1, mark), 1);
	assert_int_equal(sim_amdvi_request(f->sim[0], DEV_A, used), SIM_REQ_TRANSLATED);
	assert_int_equal(used[1], dom.id);
	assert_int_equal(f->su[0].unit.ops->lookup(&f->su[0].unit, DEV_A, &d), MOAT_OK);
	assert_int_equal(d.rid, DEV_A);
	assert_int_equal(d.domain_id, dom.id);
	assert_int_equal(d.root_phys, dom.pt.root_phys);
	assert_int_equal(dom.devices, 1);
	/* the auditor walks the device table: one device, in a known domain */
	assert_int_equal(moat_audit(&f->ms.sys, &r), 0);
	assert_int_equal(r.devices, 1);

	/* flush_all: INVALIDATE_IOMMU_ALL (EFR.IASup) */
	mark = f->sim[0]->ncmds;
	assert_int_equal(moat_flush_all(&f->ms.sys, NULL), MOAT_OK);
	assert_int_equal(sim_amdvi_count_cmds(f->sim[0], 8, mark), 1);

	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	check_all_entries(f->sim[0], NULL, 0);
	assert_int_equal(sim_amdvi_request(f->sim[0], DEV_A, NULL), SIM_REQ_BLOCKED);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_ERR_NOT_FOUND);
	/* a device no unit translates */
	assert_int_equal(moat_domain_attach(&dom, 0, DEV_UNNAMED, NULL), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_audit(&f->ms.sys, &r), 0);
	assert_int_equal(r.devices, 0);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	fx_free(f, true);
}

static void an_aliased_device_moves_its_whole_group(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, 0, false);
	struct moat_audit_report r;
	struct moat_unit_dev d;
	struct moat_domain dom;
	uint16_t group[9];

	fx_init(f, 0);
	fx_enable(f);
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	assert_int_equal(moat_domain_attach(&dom, 0, DEV_BEHIND, NULL), MOAT_OK);
	group[0] = ALIAS;
	for (unsigned i = 0; i < 8; i++)
		group[i + 1] = (uint16_t)(0x100 + i);
	for (unsigned i = 0; i < 9; i++)
		assert_int_equal(sim_amdvi_dte(f->sim[0], group[i])[1], dom.id);
	check_all_entries(f->sim[0], group, 9);
	/* what the IOMMU indexes is the alias's entry */
	assert_int_equal(sim_amdvi_request(f->sim[0], ALIAS, NULL), SIM_REQ_TRANSLATED);
	assert_int_equal(f->su[0].unit.ops->lookup(&f->su[0].unit, 0x0105, &d), MOAT_OK);
	assert_int_equal(d.domain_id, dom.id);
	assert_int_equal(moat_audit(&f->ms.sys, &r), 0);
	assert_int_equal(r.devices, 9);
	/* a sibling is in the domain already: attaching it changes nothing */
	unsigned mark = f->sim[0]->ncmds;
	assert_int_equal(moat_domain_attach(&dom, 0, 0x0101, NULL), MOAT_OK);
	assert_int_equal(f->sim[0]->ncmds, mark);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_BEHIND, NULL), MOAT_OK);
	check_all_entries(f->sim[0], NULL, 0);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	fx_free(f, true);
}

/* The alias the IOMMU sees routes to the unit of its set: attaching by it through the core moves
 * the whole group, as attaching by a member does. */
static void attaching_by_the_alias_requester_id_moves_the_group(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, 0, false);
	struct moat_domain dom;
	uint16_t group[9];

	fx_init(f, 0);
	fx_enable(f);
	assert_ptr_equal(moat_unit_route(&f->ms.sys, 0, ALIAS), &f->su[0].unit);
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	assert_int_equal(moat_domain_attach(&dom, 0, ALIAS, NULL), MOAT_OK);
	group[0] = ALIAS;
	for (unsigned i = 0; i < 8; i++)
		group[i + 1] = (uint16_t)(0x100 + i);
	for (unsigned i = 0; i < 9; i++)
		assert_int_equal(sim_amdvi_dte(f->sim[0], group[i])[1], dom.id);
	check_all_entries(f->sim[0], group, 9);
	assert_int_equal(sim_amdvi_request(f->sim[0], ALIAS, NULL), SIM_REQ_TRANSLATED);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, ALIAS, NULL), MOAT_OK);
	check_all_entries(f->sim[0], NULL, 0);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	fx_free(f, true);
}

static void moving_a_device_invalidates_the_domain_it_leaves(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, 0, false);
	struct moat_domain a, b;

	fx_init(f, 0);
	fx_enable(f);
	assert_int_equal(moat_domain_create(&f->ms.sys, &a), MOAT_OK);
	assert_int_equal(moat_domain_create(&f->ms.sys, &b), MOAT_OK);
	assert_int_equal(moat_domain_attach(&a, 0, DEV_A, NULL), MOAT_OK);
	unsigned mark = f->sim[0]->ncmds;
	assert_int_equal(moat_domain_attach(&b, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(sim_amdvi_dte(f->sim[0], DEV_A)[1], b.id);
	bool saw_a = false, saw_b = false;
	for (unsigned i = mark; i < f->sim[0]->ncmds; i++) {
		if ((f->sim[0]->cmds[i][0] >> 60) != 3)
			continue;
		saw_a |= ((f->sim[0]->cmds[i][0] >> 32) & 0xffff) == a.id;
		saw_b |= ((f->sim[0]->cmds[i][0] >> 32) & 0xffff) == b.id;
	}
	assert_true(saw_a);
	assert_true(saw_b);
	assert_int_equal(a.devices, 0);
	assert_int_equal(b.devices, 1);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&a), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&b), MOAT_OK);
	fx_free(f, true);
}

static void maps_and_unmaps_are_invalidated(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, 0, false);
	struct moat_domain dom;
	uint64_t page;
	void *virt;

	fx_init(f, 0);
	fx_enable(f);
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	assert_int_equal(moat_domain_attach(&dom, 0, DEV_A, NULL), MOAT_OK);
	virt = moat_plat_page_alloc(&page);
	assert_non_null(virt);
	/* not-present entries may be cached (NpCache is not in the IVRS): a map is invalidated too */
	unsigned mark = f->sim[0]->ncmds;
	assert_int_equal(moat_domain_map(&dom, 0x100000, page, MOAT_PAGE_SIZE, MOAT_PT_RW, NULL), MOAT_OK);
	assert_true(sim_amdvi_count_cmds(f->sim[0], 3, mark) >= 1);
	uint64_t *c = f->sim[0]->cmds[f->sim[0]->ncmds - 2];
	assert_int_equal((c[0] >> 32) & 0xffff, dom.id);
	assert_int_equal(c[1] & ~0xfffull, 0x100000);     /* page-selective (S = 0), at the IOVA */
	mark = f->sim[0]->ncmds;
	assert_int_equal(moat_domain_unmap(&dom, 0x100000, MOAT_PAGE_SIZE, NULL), MOAT_OK);
	assert_true(sim_amdvi_count_cmds(f->sim[0], 3, mark) >= 1);
	assert_int_equal(sim_amdvi_count_cmds(f->sim[0], 1, mark), sim_amdvi_count_cmds(f->sim[0], 3, mark));
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	moat_plat_page_free(virt, page);
	fx_free(f, true);
}

static void the_auditor_names_entries_that_let_a_device_past_translation(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, 0, false);
	struct moat_audit_report r;
	uint64_t *e;

	fx_init(f, 0);
	fx_enable(f);
	assert_int_equal(moat_audit(&f->ms.sys, &r), 0);
	assert_int_equal(r.devices, 0);
	/* corrupt the table behind Moat's back: V = 0 (untranslated), TV = 0 with IR (QEMU passes it) */
	e = (uint64_t *)f->su[0].hw.amdvi.dt_page[DEV_B / 128] + (DEV_B % 128) * 4;
	e[0] = 0;
	e = (uint64_t *)f->su[0].hw.amdvi.dt_page[0x4242 / 128] + (0x4242 % 128) * 4;
	e[0] = DTE_V | DTE_IR;
	/* and its neighbour 0x4243 with TV = 1 and Mode 0: translation valid but no tables (untranslated) */
	e[4] = DTE_V | DTE_TV | DTE_IR | DTE_IW;
	/* and 0x4244 with the reserved Mode 7 */
	e[8] = DTE_V | DTE_TV | DTE_MODE(7) | DTE_IR | DTE_IW;
	assert_int_equal(moat_audit(&f->ms.sys, &r), 4);
	assert_int_equal(r.devices, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(r.v[i].kind, MOAT_AUDIT_TRANSLATION);
		assert_int_equal(r.v[i].phys, 0);
		assert_int_equal(r.v[i].raw_count, 4);
		assert_int_equal(r.v[i].unit_base, SIM_BASE);
	}
	assert_int_equal(r.v[0].rid, DEV_B);
	assert_string_equal(r.v[0].what, "V=0: no checks at all");
	assert_int_equal(r.v[1].rid, 0x4242);
	assert_string_equal(r.v[1].what, "TV=0 with IR/IW: untranslated");
	assert_int_equal(r.v[2].rid, 0x4243);
	assert_string_equal(r.v[2].what, "Mode 0: untranslated");
	assert_int_equal(r.v[3].rid, 0x4244);
	assert_string_equal(r.v[3].what, "Mode 7: reserved");
	/* put them back: fini must find a consistent table */
	e[0] = DTE_V;
	e[4] = DTE_V;
	e[8] = DTE_V;
	e = (uint64_t *)f->su[0].hw.amdvi.dt_page[DEV_B / 128] + (DEV_B % 128) * 4;
	e[0] = DTE_V;
	assert_int_equal(moat_audit(&f->ms.sys, &r), 0);
	fx_free(f, true);
}

static void a_device_table_made_by_an_early_attach_is_owned_and_kept(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, 0, false);
	struct moat_domain dom;
	uint64_t dt;

	fx_init(f, 0);
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	assert_int_equal(moat_domain_attach(&dom, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(f->sim[0]->nlog, 0);
	dt = f->su[0].hw.amdvi.dt_phys;
	assert_int_not_equal(dt, 0);
	assert_int_equal(moat_setup_driver_pages(&f->ms), 512);
	assert_true(owned(&f->ms.sys, dt));
	assert_true(owned(&f->ms.sys, dt + 511 * MOAT_PAGE_SIZE));
	fx_enable(f);
	/* the table the hardware uses is the one written before, with the device in its domain */
	assert_int_equal(f->sim[0]->devtab & ~0xfffull, dt);
	assert_int_equal(sim_amdvi_request(f->sim[0], DEV_A, NULL), SIM_REQ_TRANSLATED);
	const uint16_t att[] = { DEV_A };
	check_all_entries(f->sim[0], att, 1);
	assert_int_equal(moat_setup_driver_pages(&f->ms), 515);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	fx_free(f, true);
}

static void ivmd_regions_are_mapped_for_the_devices_they_name_only(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, 0, false);
	struct moat_domain named, other;
	uint64_t out = 0;
	unsigned prot = 0;

	assert_int_equal(f->desc.regions_count, 1);
	fx_init(f, 0);
	fx_enable(f);
	assert_int_equal(moat_domain_create(&f->ms.sys, &named), MOAT_OK);
	assert_int_equal(moat_domain_create(&f->ms.sys, &other), MOAT_OK);
	assert_int_equal(moat_reserved_map(&named, NULL, 0, DEV_B, NULL), MOAT_OK);
	assert_int_equal(moat_domain_attach(&named, 0, DEV_B, NULL), MOAT_OK);
	assert_int_equal(moat_domain_translate(&named, IVMD_BASE + 0x1000, &out, &prot, NULL), MOAT_OK);
	assert_int_equal(out, IVMD_BASE + 0x1000);
	assert_int_equal(prot, MOAT_PT_RW);
	assert_int_equal(moat_reserved_map(&other, NULL, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_translate(&other, IVMD_BASE, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	/* the exclusion range stays off: the region is a mapping, not a bypass */
	assert_int_equal(f->sim[0]->exclbase & 1, 0);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_B, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&named), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&other), MOAT_OK);
	fx_free(f, true);
}

/* ---- faults ---- */

static void events_are_polled_through_the_core(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, 0, false);
	struct moat_fault out[4];
	struct moat_fault_poll res;
	struct moat_domain dom;
	char line[512];

	fx_init(f, 0);
	fx_enable(f);
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	assert_int_equal(moat_domain_attach(&dom, 0, DEV_A, NULL), MOAT_OK);
	/* a write of the attached device outside its domain; a read of a device without one */
	assert_true(sim_amdvi_event_append(f->sim[0], event_lo(EV_IO_PAGE_FAULT, DEV_A, (uint16_t)dom.id, EVF_RW),
					   0x105000));
	assert_true(sim_amdvi_event_append(f->sim[0], event_lo(EV_IO_PAGE_FAULT, DEV_B, 0, 0), 0x2000));
	assert_int_equal(moat_fault_poll(&f->ms.sys, out, 4, &res), MOAT_OK);
	assert_int_equal(res.count, 2);
	assert_int_equal(res.overflows, 0);

	assert_int_equal(out[0].vendor, MOAT_VENDOR_AMDVI);
	assert_int_equal(out[0].rid, DEV_A);
	assert_int_equal(out[0].address, 0x105000);
	assert_true(out[0].is_write);
	assert_int_equal(out[0].reason, 2);
	assert_int_equal(out[0].fault_class, MOAT_FAULT_BAD_ADDRESS);
	assert_int_equal(out[0].domain_id, (int32_t)dom.id);
	moat_setup_fault_format(&out[0], NULL, line, sizeof(line));
	assert_non_null(strstr(line, "0000:00:02.0 write at 0x105000 blocked: IO_PAGE_FAULT"));

	assert_int_equal(out[1].rid, DEV_B);
	assert_false(out[1].is_write);
	assert_int_equal(out[1].fault_class, MOAT_FAULT_BAD_DEVICE);
	assert_int_equal(out[1].domain_id, -1);

	assert_int_equal(moat_fault_poll(&f->ms.sys, out, 4, &res), MOAT_OK);
	assert_int_equal(res.count, 0);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	fx_free(f, true);
}

static void pending_events_are_dropped_at_tear_down(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, 0, false);

	fx_init(f, 0);
	fx_enable(f);
	for (unsigned i = 0; i < 8; i++)
		assert_true(sim_amdvi_event_append(f->sim[0], event_lo(EV_IO_PAGE_FAULT, DEV_B, 0, 0), 0x1000 * (i + 1)));
	assert_int_equal(moat_setup_fini(&f->ms, NULL), MOAT_OK);
	/* the head caught up with the tail before the log was stopped */
	assert_int_equal(f->sim[0]->evthead, f->sim[0]->evttail);
	fx_free(f, false);
}

/* ---- refusals, failures, words ---- */

static void a_unit_that_does_not_answer_fails_bring_up_and_releases_the_others(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, 0, true);
	struct moat_diag diag;

	sim_amdvi_free(f->sim[1]);
	f->sim[1] = NULL;            /* nothing at the second unit's registers */
	assert_int_equal(moat_setup_init(&f->ms, f->su, 2, &f->desc, 0, &diag), MOAT_ERR_HARDWARE);
	assert_false(f->su[0].probed);
	assert_int_equal(moat_setup_driver_pages(&f->ms), 0);
	fx_free(f, false);
}

static void enable_failure_turns_every_unit_off_again(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, 0, true);
	struct moat_diag diag;

	fx_init(f, 0);
	f->sim[1]->run_stuck = true;     /* the second unit's command buffer never runs */
	assert_int_equal(moat_setup_enable(&f->ms, &diag), MOAT_ERR_TIMEOUT);
	assert_non_null(strstr(diag.msg, "CmdBufRun"));
	assert_false(f->sim[0]->control & SIM_CTL_IOMMU_EN);
	assert_false(f->sim[1]->control & SIM_CTL_IOMMU_EN);
	assert_false(f->su[0].enabled);
	assert_false(f->su[1].enabled);
	f->sim[1]->run_stuck = false;
	fx_enable(f);
	assert_true(f->sim[0]->control & SIM_CTL_IOMMU_EN);
	assert_true(f->sim[1]->control & SIM_CTL_IOMMU_EN);
	fx_free(f, true);
}

static void tear_down_waits_for_domains_then_turns_translation_off(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, 0, false);
	struct moat_domain dom;
	struct moat_diag diag;

	fx_init(f, 0);
	fx_enable(f);
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	assert_int_equal(moat_setup_fini(&f->ms, &diag), MOAT_ERR_BUSY);
	assert_true(f->sim[0]->control & SIM_CTL_IOMMU_EN);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	/* fx_free: fini succeeds, translation is off and every page is back */
	fx_free(f, true);
}

static void units_are_described_in_plain_words(void **state)
{
	(void)state;
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, IVHDF_HT_TUN | IVHDF_IOTLB, false);
	char line[400];
	int n;

	fx_init(f, 48);
	n = moat_setup_unit_describe(&f->ms, 0, line, sizeof(line));
	assert_int_equal(n, (int)strlen(line));
	assert_string_equal(line, "AMD-Vi unit at 0xfed80000 (IVHD 10h; PCI 00:01.0): 4-level tables (48-bit addresses), "
				  "4 KiB, 2 MiB and 1 GiB pages, 65536 device-table entries (all valid), 256-entry "
				  "command buffer and event log, INVALIDATE_IOMMU_ALL, walks do not snoop CPU caches "
				  "(tables are flushed), new mappings invalidated too");
	assert_int_equal(moat_setup_unit_describe(&f->ms, 1, line, sizeof(line)), -1);
	fx_free(f, true);
}

/* ---- the auditor reads what the IOMMU reads ---- */

#define DTE_I (1ull << 32)                 /* quadword 1: device IOTLB enable */
#define DTE_DID(d) ((uint64_t)(d))         /* quadword 1: domain id 15:0 */
#define PAGE_ADDR 0x000ffffffffff000ull

/* A running IOMMU with a domain that holds DEV_A and maps one page at 0x10000. */
static struct fx *running(struct moat_domain *dom, uint64_t *page)
{
	struct fx *f = fx_new(0x10, 0, EFR_QEMU, 0, false);

	fx_init(f, 0);
	fx_enable(f);
	assert_int_equal(moat_domain_create(&f->ms.sys, dom), MOAT_OK);
	assert_int_equal(moat_domain_attach(dom, 0, DEV_A, NULL), MOAT_OK);
	assert_non_null(moat_plat_page_alloc(page));
	assert_int_equal(moat_domain_map(dom, 0x10000, *page, MOAT_PAGE_SIZE, MOAT_PT_RW, NULL), MOAT_OK);
	return f;
}

static void running_free(struct fx *f, struct moat_domain *dom, uint64_t page)
{
	assert_int_equal(moat_domain_unmap(dom, 0x10000, MOAT_PAGE_SIZE, NULL), MOAT_OK);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(dom), MOAT_OK);
	moat_plat_page_free(moat_plat_phys_to_virt(page), page);
	fx_free(f, true);
}

/* Device-table entry @devid as the IOMMU reads it (through the base register), writable. */
static uint64_t *live_dte(const struct fx *f, uint32_t devid)
{
	uint64_t *e = (uint64_t *)(uintptr_t)sim_amdvi_dte(f->sim[0], devid);

	assert_non_null(e);
	return e;
}

/* The audit finds exactly one violation, of @kind: it, formatted into @line (256 bytes). */
static const struct moat_audit_violation *audit_one(struct fx *f, enum moat_audit_kind kind, char *line)
{
	static struct moat_audit_report r;
	uint64_t n = moat_audit(&f->ms.sys, &r);

	for (unsigned i = 0; i < r.count; i++) {
		moat_audit_format(&r.v[i], line, 256);
		print_message("violation: %s\n", line);
	}
	assert_int_equal(r.status, MOAT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(r.v[0].kind, kind);
	if (kind >= MOAT_AUDIT_ROOT_POINTER) {
		assert_int_equal(r.v[0].unit, 0);
		assert_int_equal(r.v[0].unit_base, SIM_BASE);
	}
	moat_audit_format(&r.v[0], line, 256);
	return &r.v[0];
}

static void audit_clean(struct fx *f, uint64_t devices)
{
	struct moat_audit_report r;
	char line[256];

	assert_int_equal(moat_audit(&f->ms.sys, &r), 0);
	for (unsigned i = 0; i < r.count; i++) {
		moat_audit_format(&r.v[i], line, sizeof(line));
		print_message("violation: %s\n", line);
	}
	assert_int_equal(r.status, MOAT_OK);
	assert_int_equal(r.devices, devices);
}

static void the_auditor_walks_the_table_the_base_register_names_and_finds_a_clean_unit_clean(void **state)
{
	(void)state;
	struct moat_audit_report r;
	struct moat_protected p;
	struct moat_domain dom;
	uint64_t page;
	struct fx *f = running(&dom, &page);

	assert_int_equal(moat_audit(&f->ms.sys, &r), 0);
	assert_int_equal(r.status, MOAT_OK);
	assert_int_equal(r.devices, 1);
	assert_int_equal(r.unit_tables, 512);   /* every page of the 65536-entry table */
	assert_int_equal(moat_protect_count(&f->ms.sys), 1);
	assert_int_equal(moat_protect_get(&f->ms.sys, 0, &p), MOAT_OK);
	assert_int_equal(p.base, SIM_BASE);
	assert_int_equal(p.size, 0x4000);
	assert_string_equal(p.label, "AMD-Vi registers");
	running_free(f, &dom, page);
}

static void a_translating_entry_for_an_unattached_device_is_reported(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	char line[256];
	uint64_t page;
	struct fx *f = running(&dom, &page);
	uint64_t *a = live_dte(f, DEV_A), *o = live_dte(f, DEV_UNNAMED);

	/* a perfect copy of DEV_A's entry on a device id no one attached */
	o[1] = a[1];
	o[0] = a[0];
	v = audit_one(f, MOAT_AUDIT_UNATTACHED, line);
	assert_int_equal(v->rid, DEV_UNNAMED);
	assert_int_equal(v->domain_id, dom.id);
	assert_int_equal(v->phys, dom.pt.root_phys);
	assert_int_equal(v->level, 6);
	assert_int_equal(v->raw[0], a[0]);
	assert_non_null(strstr(line, "device 0000:05:00.0 entry"));
	assert_non_null(strstr(line, "for a device attached to no domain"));
	o[0] = DTE_V;
	o[1] = 0;
	audit_clean(f, 1);
	running_free(f, &dom, page);
}

static void a_device_table_base_elsewhere_is_reported_and_not_followed(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	uint64_t page, other;
	char line[256];
	struct fx *f = running(&dom, &page);
	uint64_t *t = moat_plat_page_alloc(&other), saved = f->sim[0]->devtab;
	const uint64_t dt = f->su[0].hw.amdvi.dt_phys;

	/* a one-page table of no one's whose entries are all untranslated: never read */
	assert_non_null(t);
	f->sim[0]->devtab = other;
	v = audit_one(f, MOAT_AUDIT_ROOT_POINTER, line);
	assert_int_equal(v->level, 0);
	assert_int_equal(v->phys, other);
	assert_int_equal(v->hit_base, dt);
	assert_int_equal(v->raw[0], other);
	assert_string_equal(v->what, "device table");
	assert_non_null(strstr(line, "device table pointer"));
	/* the driver's table with another size: entries beyond it, or memory past it, would be used */
	f->sim[0]->devtab = dt | 0xff;
	v = audit_one(f, MOAT_AUDIT_ROOT_POINTER, line);
	assert_int_equal(v->phys, dt);
	assert_non_null(strstr(line, "in a mode or size the driver did not program"));
	f->sim[0]->devtab = saved;
	audit_clean(f, 1);
	moat_plat_page_free(t, other);
	running_free(f, &dom, page);
}

static void domain_ids_other_than_moat_s_are_reported(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	char line[256];
	uint64_t page;
	struct fx *f = running(&dom, &page);
	uint64_t *a = live_dte(f, DEV_A), *b = live_dte(f, DEV_B), saved = a[1];

	a[1] = DTE_DID(dom.id + 5);
	v = audit_one(f, MOAT_AUDIT_DOMAIN_ID, line);
	assert_int_equal(v->rid, DEV_A);
	assert_int_equal(v->domain_id, dom.id + 5);
	assert_int_equal(v->expected, dom.id);
	assert_non_null(strstr(line, "carries domain id 6 but points at the tables of domain 1"));
	a[1] = saved;
	/* a blocking entry carries domain id 0 */
	b[1] = DTE_DID(7);
	v = audit_one(f, MOAT_AUDIT_DOMAIN_ID, line);
	assert_int_equal(v->rid, DEV_B);
	assert_int_equal(v->domain_id, 7);
	assert_int_equal(v->level, 0);
	assert_non_null(strstr(line, "blocks but carries domain id 7 (blocking entries carry 0)"));
	b[1] = 0;
	audit_clean(f, 1);
	running_free(f, &dom, page);
}

static void a_mode_other_than_the_domain_s_levels_is_reported(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	char line[256];
	uint64_t page;
	struct fx *f = running(&dom, &page);
	uint64_t *a = live_dte(f, DEV_A), saved = a[0];

	a[0] = (saved & ~DTE_MODE(7)) | DTE_MODE(5);
	v = audit_one(f, MOAT_AUDIT_LEVELS, line);
	assert_int_equal(v->rid, DEV_A);
	assert_int_equal(v->level, 5);
	assert_int_equal(v->expected, 6);
	assert_non_null(strstr(line, "gives 5 levels, its domain's tables"));
	a[0] = saved;
	audit_clean(f, 1);
	running_free(f, &dom, page);
}

static void the_device_iotlb_bit_is_reported_on_every_entry(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	char line[256];
	uint64_t page;
	struct fx *f = running(&dom, &page);
	uint64_t *a = live_dte(f, DEV_A), *b = live_dte(f, DEV_B);

	a[1] |= DTE_I;
	v = audit_one(f, MOAT_AUDIT_ATS, line);
	assert_int_equal(v->rid, DEV_A);
	assert_string_equal(v->what, "I=1: device IOTLB");
	assert_non_null(strstr(line, "allows device-TLB translation requests (I=1: device IOTLB)"));
	a[1] &= ~DTE_I;
	/* a blocking entry too */
	b[1] = DTE_I;
	v = audit_one(f, MOAT_AUDIT_ATS, line);
	assert_int_equal(v->rid, DEV_B);
	b[1] = 0;
	audit_clean(f, 1);
	running_free(f, &dom, page);
}

static void an_iommu_turned_off_behind_the_driver_is_reported(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	char line[256];
	uint64_t page;
	struct fx *f = running(&dom, &page);

	f->sim[0]->control &= ~SIM_CTL_IOMMU_EN;
	v = audit_one(f, MOAT_AUDIT_UNIT_OFF, line);
	assert_int_equal(v->raw[0] & SIM_CTL_IOMMU_EN, 0);
	assert_non_null(strstr(line, "translation is off"));
	f->sim[0]->control |= SIM_CTL_IOMMU_EN;
	audit_clean(f, 1);
	running_free(f, &dom, page);
}

/* The leaf entry that maps 4 KiB at @iova in @d (AMD v1: addresses in bits 51:12 at every level). */
static uint64_t *leaf_of(struct moat_domain *d, uint64_t iova)
{
	uint64_t *t = d->pt.root;

	for (unsigned l = d->pt.cfg.levels; l > 1; l--) {
		t = moat_plat_phys_to_virt(t[(iova >> (12 + 9 * (l - 1))) & 511] & PAGE_ADDR);
		assert_non_null(t);
	}
	return &t[(iova >> 12) & 511];
}

static void the_iommu_s_registers_are_protected_and_a_domain_mapping_them_is_reported(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	struct moat_diag diag;
	char line[256];
	uint64_t page;
	struct fx *f = running(&dom, &page);
	uint64_t *leaf = leaf_of(&dom, 0x10000), saved = *leaf;

	/* every page of the 16 KiB block is refused */
	for (uint64_t off = 0; off < 0x4000; off += MOAT_PAGE_SIZE) {
		assert_int_equal(moat_domain_map(&dom, 0x20000, SIM_BASE + off, MOAT_PAGE_SIZE, MOAT_PT_RW, &diag),
				 MOAT_ERR_PROTECTED);
		assert_non_null(strstr(diag.msg, "AMD-Vi registers"));
	}
	*leaf = (saved & ~PAGE_ADDR) | (SIM_BASE + 0x3000);
	v = audit_one(f, MOAT_AUDIT_PROTECTED, line);
	assert_int_equal(v->domain_id, dom.id);
	assert_int_equal(v->iova, 0x10000);
	assert_int_equal(v->phys, SIM_BASE + 0x3000);
	assert_int_equal(v->hit_base, SIM_BASE);
	assert_int_equal(v->hit_size, 0x4000);
	assert_string_equal(v->what, "AMD-Vi registers");
	*leaf = saved;
	audit_clean(f, 1);
	assert_int_equal(moat_protect_remove(&f->ms.sys, SIM_BASE, 0x4000), MOAT_OK);
	v = audit_one(f, MOAT_AUDIT_REGISTERS, line);
	assert_int_equal(v->hit_base, SIM_BASE);
	assert_int_equal(v->hit_size, 0x4000);
	/* half the block is not enough */
	assert_int_equal(moat_protect_add(&f->ms.sys, SIM_BASE, 0x2000, "half", NULL), MOAT_OK);
	v = audit_one(f, MOAT_AUDIT_REGISTERS, line);
	assert_int_equal(moat_protect_add(&f->ms.sys, SIM_BASE + 0x2000, 0x2000, "other half", NULL), MOAT_OK);
	audit_clean(f, 1);
	running_free(f, &dom, page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_like_ivrs_is_negotiated_without_touching_the_hardware),
		cmocka_unit_test(enable_gives_every_device_id_a_valid_blocking_entry),
		cmocka_unit_test(address_width_chooses_the_fewest_levels_that_cover_it),
		cmocka_unit_test(units_agree_and_each_gets_its_own_full_table),
		cmocka_unit_test(attach_lookup_detach_reach_the_device_table),
		cmocka_unit_test(an_aliased_device_moves_its_whole_group),
		cmocka_unit_test(attaching_by_the_alias_requester_id_moves_the_group),
		cmocka_unit_test(moving_a_device_invalidates_the_domain_it_leaves),
		cmocka_unit_test(maps_and_unmaps_are_invalidated),
		cmocka_unit_test(the_auditor_names_entries_that_let_a_device_past_translation),
		cmocka_unit_test(a_device_table_made_by_an_early_attach_is_owned_and_kept),
		cmocka_unit_test(ivmd_regions_are_mapped_for_the_devices_they_name_only),
		cmocka_unit_test(events_are_polled_through_the_core),
		cmocka_unit_test(pending_events_are_dropped_at_tear_down),
		cmocka_unit_test(a_unit_that_does_not_answer_fails_bring_up_and_releases_the_others),
		cmocka_unit_test(enable_failure_turns_every_unit_off_again),
		cmocka_unit_test(tear_down_waits_for_domains_then_turns_translation_off),
		cmocka_unit_test(units_are_described_in_plain_words),
		cmocka_unit_test(the_auditor_walks_the_table_the_base_register_names_and_finds_a_clean_unit_clean),
		cmocka_unit_test(a_translating_entry_for_an_unattached_device_is_reported),
		cmocka_unit_test(a_device_table_base_elsewhere_is_reported_and_not_followed),
		cmocka_unit_test(domain_ids_other_than_moat_s_are_reported),
		cmocka_unit_test(a_mode_other_than_the_domain_s_levels_is_reported),
		cmocka_unit_test(the_device_iotlb_bit_is_reported_on_every_entry),
		cmocka_unit_test(an_iommu_turned_off_behind_the_driver_is_reported),
		cmocka_unit_test(the_iommu_s_registers_are_protected_and_a_domain_mapping_them_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
