/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bring-up (src/setup/) against simulated VT-d units: negotiation across units, the unit
 * operations the core drives, Moat ownership of the driver's pages (context tables allocated by
 * an attach included), fault polling and explanation, refusals, and tear-down.
 */
#include "../vtd/vtd_test.h"

#include <moat/internal/unit.h>
#include <moat/setup.h>

#include "hostile.h"

#define SIM_BASE2 (SIM_BASE + 0x1000)
#define DEV_A MOAT_RID(0, 2, 0)        /* named by unit 0's scope */
#define DEV_BUS3 MOAT_RID(3, 0, 0)     /* below a bridge unit 0 names (bus 3) */
#define DEV_OTHER MOAT_RID(0, 5, 0)    /* only an include-all unit takes it */
#define CAP_NO_1G (CAP_QEMU_CM & ~(2ull << 34))   /* SLLPS: 2 MiB only */

struct fx {
	struct sim_vtd *sim[2];
	struct moat_unit_desc units[2];
	struct moat_devset devsets[4];
	struct moat_sysdesc desc;
	struct moat_setup ms;
	struct moat_setup_unit su[2];
	uint64_t live;                    /* hosted pages live before */
};

/* One or two units: unit 0 names DEV_A and bus 3; unit 1 takes every other device. */
static struct fx *fx_new(unsigned n, uint64_t cap0, uint64_t ecap0, uint64_t cap1, uint64_t ecap1)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->live = moat_hosted_stats().pages_live;
	f->sim[0] = sim_vtd_new(SIM_BASE, cap0, ecap0);
	f->units[0] = sim_vtd_desc(f->sim[0], 0);
	f->devsets[0] = (struct moat_devset){ .segment = 0, .first = DEV_A, .last = DEV_A, .alias = DEV_A };
	f->devsets[1] = (struct moat_devset){ .segment = 0, .first = MOAT_RID(3, 0, 0), .last = MOAT_RID(3, 31, 7),
					      .alias = 0, .flags = MOAT_DEVSET_BRIDGE };
	f->units[0].devset_first = 0;
	f->units[0].devset_count = 2;
	if (n > 1) {
		f->sim[1] = sim_vtd_new(SIM_BASE2, cap1, ecap1);
		f->units[1] = sim_vtd_desc(f->sim[1], 0);
		f->units[1].flags = MOAT_UNIT_INCLUDE_ALL;
		f->units[1].devset_first = 2;
	}
	f->desc.vendor = MOAT_VENDOR_VTD;
	f->desc.units = f->units;
	f->desc.units_cap = 2;
	f->desc.units_count = n;
	f->desc.devsets = f->devsets;
	f->desc.devsets_cap = 4;
	f->desc.devsets_count = 2;
	return f;
}

static void fx_init(struct fx *f, unsigned width)
{
	struct moat_diag diag;
	moat_status st = moat_setup_init(&f->ms, f->su, 2, &f->desc, width, &diag);

	if (st != MOAT_OK)
		fail_msg("moat_setup_init: %s: %s", moat_status_str(st), diag.msg);
	for (unsigned i = 0; i < f->ms.caps.units; i++)
		f->su[i].hw.vtd.timeout_ns = TEST_TIMEOUT_NS;
	hostile_watch(&f->ms.sys, NULL);   /* the simulated units are the hostile device's hardware */
}

static void fx_enable(struct fx *f)
{
	struct moat_diag diag;
	moat_status st = moat_setup_enable(&f->ms, &diag);

	if (st != MOAT_OK)
		fail_msg("moat_setup_enable: %s: %s", moat_status_str(st), diag.msg);
}

/* Tear down and check that every page went back to the platform. */
static void fx_free(struct fx *f, bool initialized)
{
	if (initialized)
		assert_int_equal(hostile_check(&f->ms.sys), 0);   /* what the hostile device left behind, if on */
	hostile_unwatch(&f->ms.sys);
	if (initialized)
		assert_int_equal(moat_setup_fini(&f->ms, NULL), MOAT_OK);
	for (unsigned i = 0; i < 2; i++) {
		if (f->sim[i])
			assert_false(f->sim[i]->gsts & SIM_TE);
		sim_vtd_free(f->sim[i]);
	}
	assert_int_equal(moat_hosted_stats().pages_live, f->live);
	free(f);
}

static bool owned(struct moat_system *sys, uint64_t phys)
{
	struct moat_protect_hit hit;

	return moat_protect_check(sys, phys, MOAT_PAGE_SIZE, &hit) == MOAT_ERR_PROTECTED && hit.owned;
}

/* Every page the driver lists, as moat_vtd_pages() gives them. */
static unsigned vtd_pages(const struct moat_vtd_unit *u, uint64_t *out, unsigned max)
{
	unsigned n = 0;

	assert_int_equal(moat_vtd_pages(u, out, max, &n), MOAT_OK);
	return n;
}

/* ---- bring-up ---- */

static void qemu_unit_is_negotiated_then_enabled_with_driver_pages_owned(void **state)
{
	(void)state;
	struct fx *f = fx_new(1, CAP_QEMU, ECAP_QEMU, 0, 0);
	uint64_t pages[16];
	unsigned n;

	fx_init(f, 0);
	assert_int_equal(f->ms.caps.vendor, MOAT_VENDOR_VTD);
	assert_int_equal(f->ms.caps.units, 1);
	assert_int_equal(f->ms.caps.levels, 3);
	assert_int_equal(f->ms.caps.address_width, 39);
	assert_int_equal(f->ms.caps.page_sizes, MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M | MOAT_PT_PAGE_1G);
	assert_false(f->ms.caps.coherent);
	assert_false(f->ms.caps.caching_mode);
	assert_true(f->ms.caps.queued_invalidation);
	assert_int_equal(f->ms.caps.domain_id_min, 1);
	assert_int_equal(f->ms.caps.domain_id_max, 0xffff);
	assert_int_equal(f->ms.caps.fault_records, 1);
	assert_int_equal(f->su[0].unit.flags, 0);
	/* init writes nothing to the hardware */
	assert_int_equal(sim_vtd_count_writes(f->sim[0], SIM_GCMD), 0);
	assert_int_equal(moat_setup_driver_pages(&f->ms), 0);

	fx_enable(f);
	assert_true(f->sim[0]->gsts & SIM_TE);
	assert_true(f->sim[0]->gsts & SIM_QIE);
	/* root table, queue, wait-status page: every one Moat-owned */
	n = vtd_pages(&f->su[0].hw.vtd, pages, 16);
	assert_int_equal(n, 3);
	assert_int_equal(moat_setup_driver_pages(&f->ms), n);
	for (unsigned i = 0; i < n; i++)
		assert_true(owned(&f->ms.sys, pages[i]));
	assert_true(moat_owned_pages(&f->ms.sys) >= n);
	/* enabling twice changes nothing */
	unsigned gcmd = sim_vtd_count_writes(f->sim[0], SIM_GCMD);
	fx_enable(f);
	assert_int_equal(sim_vtd_count_writes(f->sim[0], SIM_GCMD), gcmd);
	fx_free(f, true);
}

static void address_width_chooses_the_fewest_levels_that_cover_it(void **state)
{
	(void)state;
	static const struct {
		unsigned width, levels, bits;
	} cases[] = {
		{ 0, 4, 48 }, { 32, 3, 39 }, { 39, 3, 39 }, { 40, 4, 48 }, { 48, 4, 48 }, { 64, 4, 48 },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = fx_new(1, CAP_QEMU_AW48, ECAP_QEMU, 0, 0);

		fx_init(f, cases[i].width);
		assert_int_equal(f->ms.caps.levels, cases[i].levels);
		assert_int_equal(f->ms.caps.address_width, cases[i].bits);
		assert_int_equal(f->ms.sys.cfg.pt.levels, cases[i].levels);
		assert_int_equal(f->ms.sys.cfg.pt.format, MOAT_PT_VTD_SL);
		fx_free(f, true);
	}
}

static void units_agree_on_what_every_one_supports(void **state)
{
	(void)state;
	/* unit 0: 3 and 4 levels, coherent, no caching mode; unit 1: 3 levels, no 1 GiB pages, CM */
	struct fx *f = fx_new(2, CAP_QEMU_AW48, ECAP_COHERENT, CAP_NO_1G, ECAP_QEMU);

	fx_init(f, 0);
	assert_int_equal(f->ms.caps.units, 2);
	assert_int_equal(f->ms.caps.levels, 3);
	assert_int_equal(f->ms.caps.page_sizes, MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M);
	assert_false(f->ms.caps.coherent);
	assert_true(f->ms.caps.caching_mode);
	assert_int_equal(f->ms.caps.domain_id_min, 1);
	assert_false(f->ms.sys.cfg.pt.coherent);
	/* only the unit that caches not-present entries wants invalidation after maps */
	assert_int_equal(f->su[0].unit.flags & MOAT_UNIT_F_INVAL_ON_MAP, 0);
	assert_int_equal(f->su[1].unit.flags & MOAT_UNIT_F_INVAL_ON_MAP, MOAT_UNIT_F_INVAL_ON_MAP);
	assert_int_equal(f->su[0].unit.desc_index, 0);
	assert_int_equal(f->su[1].unit.desc_index, 1);
	/* routing follows the description: named devices to unit 0, the rest to the include-all unit */
	assert_ptr_equal(moat_unit_route(&f->ms.sys, 0, DEV_A), &f->su[0].unit);
	assert_ptr_equal(moat_unit_route(&f->ms.sys, 0, DEV_BUS3), &f->su[0].unit);
	assert_ptr_equal(moat_unit_route(&f->ms.sys, 0, DEV_OTHER), &f->su[1].unit);
	fx_enable(f);
	assert_true(f->sim[0]->gsts & SIM_TE);
	assert_true(f->sim[1]->gsts & SIM_TE);
	fx_free(f, true);
}

/* ---- the unit operations ---- */

static unsigned iotlb_descs(const struct sim_vtd *s, unsigned from)
{
	unsigned n = 0;

	for (unsigned i = from; i < s->ndesc; i++)
		n += (s->desc[i][0] & 0xf) == 2;    /* IOTLB invalidate descriptor */
	return n;
}

static void caching_mode_invalidates_after_maps_and_plain_units_do_not(void **state)
{
	(void)state;
	for (int cm = 0; cm <= 1; cm++) {
		struct fx *f = fx_new(1, cm ? CAP_QEMU_CM : CAP_QEMU, ECAP_QEMU, 0, 0);
		struct moat_domain dom;
		uint64_t page;
		void *virt;
		unsigned mark;

		fx_init(f, 0);
		fx_enable(f);
		assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
		assert_int_equal(moat_domain_attach(&dom, 0, DEV_A, NULL), MOAT_OK);
		virt = moat_plat_page_alloc(&page);
		assert_non_null(virt);
		mark = f->sim[0]->ndesc;
		assert_int_equal(moat_domain_map(&dom, 0x100000, page, MOAT_PAGE_SIZE, MOAT_PT_RW, NULL), MOAT_OK);
		if (cm) {
			assert_true(iotlb_descs(f->sim[0], mark) >= 1);
			/* page-selective, in the domain, at the IOVA */
			uint64_t *d = f->sim[0]->desc[f->sim[0]->ndesc - 2];
			assert_int_equal((d[0] >> 16) & 0xffff, dom.id);
			assert_int_equal(d[1] & ~0xfffull, 0x100000);
		} else {
			assert_int_equal(f->sim[0]->ndesc, mark);
		}
		mark = f->sim[0]->ndesc;
		assert_int_equal(moat_domain_unmap(&dom, 0x100000, MOAT_PAGE_SIZE, NULL), MOAT_OK);
		assert_true(iotlb_descs(f->sim[0], mark) >= 1);
		assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
		assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
		moat_plat_page_free(virt, page);
		fx_free(f, true);
	}
}

static void attach_lookup_detach_and_flush_all_reach_the_hardware(void **state)
{
	(void)state;
	struct fx *f = fx_new(1, CAP_QEMU, ECAP_QEMU, 0, 0);
	struct moat_domain dom;
	struct moat_vtd_context ce;
	struct moat_unit_dev d;
	struct moat_audit_report r;

	fx_init(f, 0);
	fx_enable(f);
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	/* default deny: no context entry before attach */
	assert_int_equal(moat_vtd_context_get(&f->su[0].hw.vtd, DEV_A, &ce), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_domain_attach(&dom, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_context_get(&f->su[0].hw.vtd, DEV_A, &ce), MOAT_OK);
	assert_int_equal(ce.did, dom.id);
	assert_int_equal(ce.root_phys, dom.pt.root_phys);
	assert_int_equal(ce.levels, 3);
	assert_int_equal(f->su[0].unit.ops->lookup(&f->su[0].unit, DEV_A, &d), MOAT_OK);
	assert_int_equal(d.rid, DEV_A);
	assert_int_equal(d.domain_id, dom.id);
	assert_int_equal(d.root_phys, dom.pt.root_phys);
	assert_int_equal(dom.devices, 1);
	/* the auditor sees the device in the tables the unit reads, attached to a known domain */
	assert_int_equal(moat_audit(&f->ms.sys, &r), 0);
	assert_int_equal(r.devices, 1);

	unsigned mark = f->sim[0]->ndesc;
	assert_int_equal(moat_flush_all(&f->ms.sys, NULL), MOAT_OK);
	assert_true(f->sim[0]->ndesc >= mark + 3);
	assert_int_equal(f->sim[0]->desc[mark][0] & 0x3f, 0x11);       /* context cache, global */
	assert_int_equal(f->sim[0]->desc[mark + 2][0] & 0x3f, 0x12);   /* IOTLB, global */

	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_context_get(&f->su[0].hw.vtd, DEV_A, &ce), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_ERR_NOT_FOUND);
	/* a device no unit translates */
	assert_int_equal(moat_domain_attach(&dom, 0, DEV_OTHER, NULL), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	fx_free(f, true);
}

static void context_tables_allocated_by_attach_are_owned_and_out_of_the_host_domain(void **state)
{
	(void)state;
	/* 4 levels: the hosted arena lies above 2^39 */
	struct fx *f = fx_new(1, CAP_QEMU_AW48, ECAP_QEMU, 0, 0);
	const struct moat_mem_range map[] = { { MOAT_HOSTED_PHYS_BASE, MOAT_HOSTED_ARENA_BYTES, MOAT_MEM_RAM } };
	struct moat_host_report rep;
	struct moat_audit_report r;
	struct moat_domain host;
	uint64_t pages[16];
	unsigned n;

	fx_init(f, 0);
	fx_enable(f);
	assert_int_equal(moat_domain_create(&f->ms.sys, &host), MOAT_OK);
	assert_int_equal(moat_protect_host(&host, map, 1, &rep, NULL), MOAT_OK);
	assert_int_equal(rep.unreachable_bytes, 0);
	n = vtd_pages(&f->su[0].hw.vtd, pages, 16);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(moat_domain_translate(&host, pages[i], NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);

	/* the first device of bus 0 and of bus 3: two context tables appear */
	assert_null(f->su[0].hw.vtd.ctx[0]);
	assert_null(f->su[0].hw.vtd.ctx[3]);
	assert_int_equal(moat_domain_attach(&host, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_attach(&host, 0, DEV_BUS3, NULL), MOAT_OK);
	assert_non_null(f->su[0].hw.vtd.ctx[0]);
	assert_non_null(f->su[0].hw.vtd.ctx[3]);
	n = vtd_pages(&f->su[0].hw.vtd, pages, 16);
	assert_int_equal(n, 5);
	assert_int_equal(moat_setup_driver_pages(&f->ms), 5);
	for (unsigned i = 0; i < n; i++) {
		assert_true(owned(&f->ms.sys, pages[i]));
		assert_int_equal(moat_domain_translate(&host, pages[i], NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	}
	/* the same pages, in the driver's order, through bring-up's own listing */
	for (unsigned i = 0; i < n; i++) {
		uint64_t phys = 0;

		assert_int_equal(moat_setup_driver_page(&f->ms, i, &phys), MOAT_OK);
		assert_int_equal(phys, pages[i]);
	}
	uint64_t none;
	assert_int_equal(moat_setup_driver_page(&f->ms, n, &none), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_setup_driver_page(&f->ms, 0, NULL), MOAT_ERR_INVALID_ARG);

	assert_int_equal(moat_audit(&f->ms.sys, &r), 0);
	assert_int_equal(r.status, MOAT_OK);
	assert_int_equal(r.devices, 2);

	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_BUS3, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&host), MOAT_OK);
	fx_free(f, true);
}

static void devices_attached_before_enable_keep_their_domain(void **state)
{
	(void)state;
	struct fx *f = fx_new(1, CAP_QEMU, ECAP_QEMU, 0, 0);
	struct moat_vtd_context ce;
	struct moat_domain dom;
	uint64_t pages[16];
	unsigned n;

	fx_init(f, 0);
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	assert_int_equal(moat_domain_attach(&dom, 0, DEV_A, NULL), MOAT_OK);
	assert_false(f->sim[0]->gsts & SIM_TE);
	/* the root and context table exist already, and are Moat-owned */
	n = vtd_pages(&f->su[0].hw.vtd, pages, 16);
	assert_int_equal(n, 2);
	for (unsigned i = 0; i < n; i++)
		assert_true(owned(&f->ms.sys, pages[i]));
	fx_enable(f);
	assert_true(f->sim[0]->gsts & SIM_TE);
	assert_int_equal(moat_vtd_context_get(&f->su[0].hw.vtd, DEV_A, &ce), MOAT_OK);
	assert_int_equal(ce.did, dom.id);
	/* the root table the hardware uses is the one written before */
	assert_int_equal(f->sim[0]->rtaddr_latched & ~0xfffull, pages[0]);
	n = vtd_pages(&f->su[0].hw.vtd, pages, 16);
	assert_int_equal(n, 4);
	for (unsigned i = 0; i < n; i++)
		assert_true(owned(&f->ms.sys, pages[i]));
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	fx_free(f, true);
}

/* ---- faults ---- */

static uint64_t rec_hi(uint16_t sid, uint8_t reason, bool read)
{
	return sid | ((uint64_t)reason << 32) | ((uint64_t)read << 62);
}

static void faults_are_polled_through_the_core_and_explained(void **state)
{
	(void)state;
	struct fx *f = fx_new(1, CAP_NFR8, ECAP_QEMU, 0, 0);
	struct moat_fault out[4];
	struct moat_fault_poll res;
	struct moat_fault_near near;
	struct moat_domain dom;
	char line[512];
	uint64_t page;
	void *virt;

	fx_init(f, 0);
	fx_enable(f);
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	assert_int_equal(moat_domain_attach(&dom, 0, DEV_A, NULL), MOAT_OK);
	virt = moat_plat_page_alloc(&page);
	assert_non_null(virt);
	assert_int_equal(moat_domain_map(&dom, 0x100000, page, MOAT_PAGE_SIZE, MOAT_PT_READ, NULL), MOAT_OK);

	/* a write past the mapping, a write to the read-only page, a device with no domain */
	assert_true(sim_vtd_inject_fault(f->sim[0], 0x105000, rec_hi(DEV_A, 5, false)));
	assert_true(sim_vtd_inject_fault(f->sim[0], 0x100000, rec_hi(DEV_A, 5, false)));
	assert_true(sim_vtd_inject_fault(f->sim[0], 0x2000, rec_hi(DEV_BUS3, 2, true)));
	assert_int_equal(moat_fault_poll(&f->ms.sys, out, 4, &res), MOAT_OK);
	assert_int_equal(res.count, 3);
	assert_int_equal(res.remaining, 0);
	assert_int_equal(res.overflows, 0);

	assert_int_equal(out[0].vendor, MOAT_VENDOR_VTD);
	assert_int_equal(out[0].rid, DEV_A);
	assert_int_equal(out[0].address, 0x105000);
	assert_true(out[0].is_write);
	assert_int_equal(out[0].reason, 5);
	assert_int_equal(out[0].fault_class, MOAT_FAULT_BAD_ADDRESS);
	assert_int_equal(out[0].domain_id, (int32_t)dom.id);
	assert_int_equal(moat_setup_fault_near(&dom, out[0].address, &near), MOAT_OK);
	assert_false(near.mapped);
	assert_true(near.below);
	assert_false(near.above);
	assert_int_equal(near.below_iova, 0x100000);
	assert_int_equal(near.below_size, MOAT_PAGE_SIZE);
	assert_int_equal(near.below_phys, page);
	moat_setup_fault_format(&out[0], &near, line, sizeof(line));
	assert_non_null(strstr(line, "0000:00:02.0 write at 0x105000 blocked"));
	assert_non_null(strstr(line, "[bad address]"));
	assert_non_null(strstr(line, "nearest mapping below 0x100000 (4 KiB ->"));
	char want[32];
	snprintf(want, sizeof(want), "domain %u", dom.id);
	assert_non_null(strstr(line, want));

	/* the read-only page: mapped, with the permission that was missing */
	assert_int_equal(moat_setup_fault_near(&dom, out[1].address, &near), MOAT_OK);
	assert_true(near.mapped);
	assert_int_equal(near.phys, page);
	assert_int_equal(near.prot, MOAT_PT_READ);
	moat_setup_fault_format(&out[1], &near, line, sizeof(line));
	assert_non_null(strstr(line, "mapped now to"));
	assert_non_null(strstr(line, "read only"));

	assert_int_equal(out[2].rid, DEV_BUS3);
	assert_false(out[2].is_write);
	assert_int_equal(out[2].reason, 2);
	assert_int_equal(out[2].fault_class, MOAT_FAULT_BAD_DEVICE);
	assert_int_equal(out[2].domain_id, -1);
	moat_setup_fault_format(&out[2], NULL, line, sizeof(line));
	assert_non_null(strstr(line, "0000:03:00.0 read at 0x2000 blocked: context entry not present"));
	assert_non_null(strstr(line, "no domain"));

	/* nothing left */
	assert_int_equal(moat_fault_poll(&f->ms.sys, out, 4, &res), MOAT_OK);
	assert_int_equal(res.count, 0);

	assert_int_equal(moat_domain_unmap(&dom, 0x100000, MOAT_PAGE_SIZE, NULL), MOAT_OK);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	moat_plat_page_free(virt, page);
	fx_free(f, true);
}

static void a_full_record_set_overflows_is_reported_and_recording_resumes(void **state)
{
	(void)state;
	struct fx *f = fx_new(1, CAP_QEMU, ECAP_QEMU, 0, 0);   /* one record, as QEMU */
	struct moat_fault out[2];
	struct moat_fault_poll res;

	fx_init(f, 0);
	fx_enable(f);
	assert_true(sim_vtd_inject_fault(f->sim[0], 0x1000, rec_hi(DEV_A, 2, true)));
	assert_false(sim_vtd_inject_fault(f->sim[0], 0x2000, rec_hi(DEV_BUS3, 2, true)));   /* lost: PFO */
	assert_int_equal(moat_fault_poll(&f->ms.sys, out, 2, &res), MOAT_OK);
	assert_int_equal(res.count, 1);
	assert_int_equal(res.overflows, 1);
	assert_int_equal(res.overflow_total, 1);
	assert_int_equal(out[0].address, 0x1000);
	assert_false(f->sim[0]->fsts & SIM_PFO);
	/* recording works again */
	assert_true(sim_vtd_inject_fault(f->sim[0], 0x3000, rec_hi(DEV_BUS3, 2, false)));
	assert_int_equal(moat_fault_poll(&f->ms.sys, out, 2, &res), MOAT_OK);
	assert_int_equal(res.count, 1);
	assert_int_equal(res.overflows, 0);
	assert_int_equal(res.overflow_total, 1);
	assert_int_equal(out[0].address, 0x3000);
	assert_true(out[0].is_write);
	fx_free(f, true);
}

static void pending_faults_are_dropped_at_tear_down(void **state)
{
	(void)state;
	struct fx *f = fx_new(1, CAP_NFR8, ECAP_QEMU, 0, 0);

	fx_init(f, 0);
	fx_enable(f);
	for (unsigned i = 0; i < 8; i++)
		assert_true(sim_vtd_inject_fault(f->sim[0], 0x1000 * (i + 1), rec_hi(DEV_A, 2, true)));
	assert_int_equal(moat_setup_fini(&f->ms, NULL), MOAT_OK);
	for (unsigned i = 0; i < 8; i++)
		assert_false(f->sim[0]->frcd[i][1] >> 63);
	fx_free(f, false);
}

/* ---- refusals and tear-down ---- */

static void unknown_vendors_mixed_vendors_and_bad_descriptions_are_refused(void **state)
{
	(void)state;
	struct fx *f = fx_new(2, CAP_QEMU, ECAP_QEMU, CAP_QEMU, ECAP_QEMU);
	struct moat_setup_unit one[1];
	struct moat_diag diag;

	f->units[0].vendor = f->units[1].vendor = MOAT_VENDOR_NONE;
	assert_int_equal(moat_setup_init(&f->ms, f->su, 2, &f->desc, 0, &diag), MOAT_ERR_UNSUPPORTED);
	assert_non_null(strstr(diag.msg, "unknown-vendor"));
	f->units[0].vendor = MOAT_VENDOR_VTD;
	f->units[1].vendor = MOAT_VENDOR_AMDVI;
	assert_int_equal(moat_setup_init(&f->ms, f->su, 2, &f->desc, 0, &diag), MOAT_ERR_UNSUPPORTED);
	assert_non_null(strstr(diag.msg, "one IOMMU vendor"));
	assert_non_null(strstr(diag.msg, "AMD-Vi"));
	f->units[1].vendor = MOAT_VENDOR_VTD;
	assert_int_equal(moat_setup_init(&f->ms, one, 1, &f->desc, 0, &diag), MOAT_ERR_NO_SPACE);
	assert_int_equal(moat_setup_init(&f->ms, f->su, 2, &f->desc, 65, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_setup_init(NULL, f->su, 2, &f->desc, 0, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_setup_init(&f->ms, f->su, 0, &f->desc, 0, &diag), MOAT_ERR_INVALID_ARG);
	f->desc.units_count = 3;
	assert_int_equal(moat_setup_init(&f->ms, f->su, 2, &f->desc, 0, &diag), MOAT_ERR_INVALID_ARG);
	f->desc.units_count = 0;
	assert_int_equal(moat_setup_init(&f->ms, f->su, 2, &f->desc, 0, &diag), MOAT_ERR_INVALID_ARG);
	/* nothing was brought up */
	assert_int_equal(moat_setup_enable(&f->ms, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_setup_fini(&f->ms, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(sim_vtd_count_writes(f->sim[0], SIM_GCMD), 0);
	fx_free(f, false);
}

static void a_unit_that_does_not_answer_fails_bring_up_and_releases_the_others(void **state)
{
	(void)state;
	struct fx *f = fx_new(2, CAP_QEMU, ECAP_QEMU, CAP_QEMU, ECAP_QEMU);
	struct moat_diag diag;

	sim_vtd_free(f->sim[1]);
	f->sim[1] = NULL;            /* nothing at the second unit's registers */
	assert_int_equal(moat_setup_init(&f->ms, f->su, 2, &f->desc, 0, &diag), MOAT_ERR_HARDWARE);
	assert_false(f->su[0].probed);
	assert_int_equal(moat_setup_driver_pages(&f->ms), 0);
	/* the same storage brings up the unit that is there */
	f->desc.units_count = 1;
	fx_init(f, 0);
	fx_enable(f);
	fx_free(f, true);
}

static void units_sharing_no_level_are_refused(void **state)
{
	(void)state;
	/* unit 0: 3 levels only; unit 1: 4 levels only (SAGAW 0x4) */
	struct fx *f = fx_new(2, CAP_QEMU, ECAP_QEMU, (CAP_QEMU_AW48 & ~(0x1full << 8)) | (0x4ull << 8), ECAP_QEMU);
	struct moat_diag diag;

	assert_int_equal(moat_setup_init(&f->ms, f->su, 2, &f->desc, 0, &diag), MOAT_ERR_UNSUPPORTED);
	assert_false(f->su[0].probed);
	assert_false(f->su[1].probed);
	fx_free(f, false);
}

static void enable_failure_turns_every_unit_off_again(void **state)
{
	(void)state;
	struct fx *f = fx_new(2, CAP_QEMU, ECAP_QEMU, CAP_QEMU, ECAP_QEMU);
	struct moat_diag diag;

	fx_init(f, 0);
	f->sim[1]->stuck = SIM_TE;      /* the second unit never reports translation on */
	assert_int_equal(moat_setup_enable(&f->ms, &diag), MOAT_ERR_TIMEOUT);
	assert_non_null(strstr(diag.msg, "TES"));
	assert_false(f->sim[0]->gsts & SIM_TE);
	assert_false(f->su[0].enabled);
	assert_false(f->su[1].enabled);
	f->sim[1]->stuck = 0;
	fx_enable(f);
	assert_true(f->sim[0]->gsts & SIM_TE);
	assert_true(f->sim[1]->gsts & SIM_TE);
	fx_free(f, true);
}

static void tear_down_waits_for_domains_then_turns_translation_off(void **state)
{
	(void)state;
	struct fx *f = fx_new(1, CAP_QEMU, ECAP_QEMU, 0, 0);
	struct moat_domain dom;
	struct moat_diag diag;

	fx_init(f, 0);
	fx_enable(f);
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	assert_int_equal(moat_setup_fini(&f->ms, &diag), MOAT_ERR_BUSY);
	assert_true(f->sim[0]->gsts & SIM_TE);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	/* fx_free: fini succeeds, translation is off and every page is back */
	fx_free(f, true);
}

static void units_are_described_in_plain_words(void **state)
{
	(void)state;
	struct fx *f = fx_new(2, CAP_QEMU, ECAP_QEMU, CAP_QEMU_CM, ECAP_NO_QI);
	char line[256];
	int n;

	fx_init(f, 0);
	n = moat_setup_unit_describe(&f->ms, 0, line, sizeof(line));
	assert_int_equal(n, (int)strlen(line));
	assert_string_equal(line, "VT-d 1.0 unit at 0xfed90000: 3-level tables (39-bit addresses), 4 KiB, 2 MiB and "
				  "1 GiB pages, 1 fault record, queued invalidation, walks do not snoop CPU caches "
				  "(tables are flushed)");
	moat_setup_unit_describe(&f->ms, 1, line, sizeof(line));
	assert_non_null(strstr(line, "register invalidation"));
	assert_non_null(strstr(line, "caching mode"));
	assert_int_equal(moat_setup_unit_describe(&f->ms, 2, line, sizeof(line)), -1);
	/* a short buffer is cut, NUL-terminated */
	assert_int_equal(moat_setup_unit_describe(&f->ms, 0, line, 8), n);
	assert_string_equal(line, "VT-d 1.");
	fx_free(f, true);
}

/* ---- the auditor reads what the unit reads ---- */

/* Legacy-mode entry bits (VT-d spec 4.1, sections 9.1 and 9.3), written out independently. */
#define RE_P 1ull
#define CE_P 1ull
#define CE_TT(t) ((uint64_t)(t) << 2)
#define CE_AW(a) ((uint64_t)(a))
#define CE_DID(d) ((uint64_t)(d) << 8)
#define PAGE_ADDR 0x000ffffffffff000ull

/* A running unit with a domain that holds DEV_A and maps one page at 0x10000; it audits clean. */
static struct fx *running(struct moat_domain *dom, uint64_t *page)
{
	struct fx *f = fx_new(1, CAP_QEMU, ECAP_QEMU, 0, 0);

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

/* The root table the unit latched. */
static uint64_t *live_root(const struct fx *f)
{
	uint64_t *root = moat_plat_phys_to_virt(f->sim[0]->rtaddr_latched & PAGE_ADDR);

	assert_non_null(root);
	return root;
}

/* The context entry of @rid as the unit reads it: latched root table, root entry, context table. */
static uint64_t *live_context_entry(const struct fx *f, uint16_t rid)
{
	uint64_t re = live_root(f)[MOAT_RID_BUS(rid) * 2];
	uint64_t *ctx;

	assert_true(re & RE_P);
	ctx = moat_plat_phys_to_virt(re & PAGE_ADDR);
	assert_non_null(ctx);
	return &ctx[(rid & 0xff) * 2];
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

static void the_auditor_walks_the_tables_rtaddr_names_and_finds_a_clean_unit_clean(void **state)
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
	/* the root table and the context table of bus 0 */
	assert_int_equal(r.unit_tables, 2);
	/* the unit's registers are in the registry from bring-up on */
	assert_int_equal(moat_protect_count(&f->ms.sys), 1);
	assert_int_equal(moat_protect_get(&f->ms.sys, 0, &p), MOAT_OK);
	assert_int_equal(p.base, SIM_BASE);
	assert_int_equal(p.size, 4096);
	assert_string_equal(p.label, "VT-d registers");
	running_free(f, &dom, page);
}

static void a_pass_through_entry_for_an_unattached_device_is_reported(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	char line[256];
	uint64_t page;
	struct fx *f = running(&dom, &page);
	uint64_t *ce = live_context_entry(f, DEV_OTHER);

	ce[1] = CE_AW(1) | CE_DID(9);
	ce[0] = CE_TT(2) | CE_P;
	v = audit_one(f, MOAT_AUDIT_TRANSLATION, line);
	assert_int_equal(v->rid, DEV_OTHER);
	assert_int_equal(v->segment, 0);
	assert_int_equal(v->domain_id, 9);
	assert_int_equal(v->raw_count, 2);
	assert_int_equal(v->raw[0], CE_TT(2) | CE_P);
	assert_int_equal(v->raw[1], CE_AW(1) | CE_DID(9));
	assert_string_equal(v->what, "TT=2: pass-through");
	assert_string_equal(line, "unit 0 (0xfed90000): device 0000:00:05.0 entry 0x0000000000000009 "
				  "0000000000000901 lets DMA past translation (TT=2: pass-through)");
	/* the reserved type is named as such */
	ce[0] = CE_TT(3) | CE_P;
	v = audit_one(f, MOAT_AUDIT_TRANSLATION, line);
	assert_string_equal(v->what, "TT=3: reserved translation type");
	ce[0] = 0;
	ce[1] = 0;
	audit_clean(f, 1);
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
	uint64_t *a = live_context_entry(f, DEV_A), *o = live_context_entry(f, DEV_OTHER);

	/* a perfect copy of DEV_A's entry: the right root, domain id and width, but Moat never attached it */
	o[1] = a[1];
	o[0] = a[0];
	v = audit_one(f, MOAT_AUDIT_UNATTACHED, line);
	assert_int_equal(v->rid, DEV_OTHER);
	assert_int_equal(v->domain_id, dom.id);
	assert_int_equal(v->phys, dom.pt.root_phys);
	assert_int_equal(v->level, 3);
	assert_non_null(strstr(line, "device 0000:00:05.0 entry"));
	assert_non_null(strstr(line, "for a device attached to no domain"));
	o[0] = 0;
	o[1] = 0;
	audit_clean(f, 1);
	running_free(f, &dom, page);
}

static void a_root_entry_naming_a_page_moat_does_not_own_is_reported_and_not_followed(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	uint64_t page, foreign;
	char line[256];
	struct fx *f = running(&dom, &page);
	uint64_t *root = live_root(f), *t = moat_plat_page_alloc(&foreign);

	/* a context table of no one's, with a pass-through entry the auditor must not even read */
	assert_non_null(t);
	t[0] = CE_TT(2) | CE_P;
	root[7 * 2] = foreign | RE_P;
	v = audit_one(f, MOAT_AUDIT_FOREIGN_TABLE, line);
	assert_int_equal(v->level, 1);
	assert_int_equal(v->index, 7);
	assert_int_equal(v->phys, foreign);
	assert_int_equal(v->hit_base, 0);
	assert_int_equal(v->raw[0], foreign | RE_P);
	assert_string_equal(v->what, "context table");
	assert_non_null(strstr(line, "root entry 7"));
	assert_non_null(strstr(line, "not followed"));
	root[7 * 2] = 0;
	/* bus 0's entry at a Moat-owned page that is not its context table (the domain's root) */
	uint64_t saved = root[0];
	root[0] = dom.pt.root_phys | RE_P;
	v = audit_one(f, MOAT_AUDIT_FOREIGN_TABLE, line);
	assert_int_equal(v->index, 0);
	assert_int_equal(v->phys, dom.pt.root_phys);
	assert_int_equal(v->hit_base, saved & PAGE_ADDR);
	root[0] = saved;
	audit_clean(f, 1);
	moat_plat_page_free(t, foreign);
	running_free(f, &dom, page);
}

static void a_domain_id_other_than_its_domain_s_is_reported(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	char line[256];
	uint64_t page;
	struct fx *f = running(&dom, &page);
	uint64_t *ce = live_context_entry(f, DEV_A), saved = ce[1];

	ce[1] = (saved & ~CE_DID(0xffff)) | CE_DID(dom.id + 5);
	v = audit_one(f, MOAT_AUDIT_DOMAIN_ID, line);
	assert_int_equal(v->rid, DEV_A);
	assert_int_equal(v->domain_id, dom.id + 5);
	assert_int_equal(v->expected, dom.id);
	assert_int_equal(v->phys, dom.pt.root_phys);
	assert_non_null(strstr(line, "carries domain id 6 but points at the tables of domain 1"));
	ce[1] = saved;
	audit_clean(f, 1);
	running_free(f, &dom, page);
}

static void an_address_width_other_than_its_domain_s_is_reported(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	char line[256];
	uint64_t page;
	struct fx *f = running(&dom, &page);
	uint64_t *ce = live_context_entry(f, DEV_A), saved = ce[1];

	ce[1] = (saved & ~CE_AW(7)) | CE_AW(2);   /* 48 bits, 4 levels, over 3-level tables */
	v = audit_one(f, MOAT_AUDIT_LEVELS, line);
	assert_int_equal(v->rid, DEV_A);
	assert_int_equal(v->level, 4);
	assert_int_equal(v->expected, 3);
	assert_non_null(strstr(line, "gives 4 levels, its domain's tables"));
	ce[1] = saved;
	audit_clean(f, 1);
	running_free(f, &dom, page);
}

static void a_device_tlb_translation_type_is_reported(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	char line[256];
	uint64_t page;
	struct fx *f = running(&dom, &page);
	uint64_t *ce = live_context_entry(f, DEV_A), saved = ce[0];

	ce[0] = saved | CE_TT(1);
	v = audit_one(f, MOAT_AUDIT_ATS, line);
	assert_int_equal(v->rid, DEV_A);
	assert_string_equal(v->what, "TT=1: device-TLB translation requests");
	assert_non_null(strstr(line, "allows device-TLB translation requests"));
	ce[0] = saved;
	audit_clean(f, 1);
	running_free(f, &dom, page);
}

static void a_root_table_address_elsewhere_is_reported_and_not_followed(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	uint64_t page, other;
	char line[256];
	struct fx *f = running(&dom, &page);
	uint64_t *t = moat_plat_page_alloc(&other), saved = f->sim[0]->rtaddr;

	assert_non_null(t);
	f->sim[0]->rtaddr = other;
	v = audit_one(f, MOAT_AUDIT_ROOT_POINTER, line);
	assert_int_equal(v->level, 0);
	assert_int_equal(v->phys, other);
	assert_int_equal(v->hit_base, saved);
	assert_int_equal(v->raw[0], other);
	assert_string_equal(v->what, "root table");
	assert_non_null(strstr(line, "root table pointer"));
	assert_non_null(strstr(line, "not followed"));
	/* the right table in scalable mode (TTM 01) is not the table the driver wrote either */
	f->sim[0]->rtaddr = saved | (1ull << 10);
	v = audit_one(f, MOAT_AUDIT_ROOT_POINTER, line);
	assert_int_equal(v->phys, saved);
	assert_non_null(strstr(line, "in a mode or size the driver did not program"));
	f->sim[0]->rtaddr = saved;
	audit_clean(f, 1);
	moat_plat_page_free(t, other);
	running_free(f, &dom, page);
}

static void translation_off_while_the_driver_turned_it_on_is_reported(void **state)
{
	(void)state;
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	char line[256];
	uint64_t page;
	struct fx *f = running(&dom, &page);

	f->sim[0]->gsts &= ~SIM_TE;
	v = audit_one(f, MOAT_AUDIT_UNIT_OFF, line);
	assert_int_equal(v->raw[0] & SIM_TE, 0);
	assert_non_null(strstr(line, "translation is off"));
	f->sim[0]->gsts |= SIM_TE;
	audit_clean(f, 1);
	running_free(f, &dom, page);
}

/* The leaf entry that maps 4 KiB at @iova in @d. */
static uint64_t *leaf_of(struct moat_domain *d, uint64_t iova)
{
	uint64_t *t = d->pt.root;

	for (unsigned l = d->pt.cfg.levels; l > 1; l--) {
		t = moat_plat_phys_to_virt(t[(iova >> (12 + 9 * (l - 1))) & 511] & PAGE_ADDR);
		assert_non_null(t);
	}
	return &t[(iova >> 12) & 511];
}

static void the_unit_s_registers_are_protected_and_a_domain_mapping_them_is_reported(void **state)
{
	(void)state;
	const struct moat_mem_range map[] = { { 0xfed00000, 0x100000, MOAT_MEM_RAM } };
	const struct moat_audit_violation *v;
	struct moat_host_report rep;
	struct moat_domain dom, host;
	struct moat_diag diag;
	char line[256];
	uint64_t page;
	struct fx *f = running(&dom, &page);
	uint64_t *leaf = leaf_of(&dom, 0x10000), saved = *leaf;

	/* refused at the map */
	assert_int_equal(moat_domain_map(&dom, 0x20000, SIM_BASE, MOAT_PAGE_SIZE, MOAT_PT_RW, &diag),
			 MOAT_ERR_PROTECTED);
	assert_non_null(strstr(diag.msg, "VT-d registers"));
	/* planted in the tables: the auditor names the range */
	*leaf = (saved & ~PAGE_ADDR) | SIM_BASE;
	v = audit_one(f, MOAT_AUDIT_PROTECTED, line);
	assert_int_equal(v->domain_id, dom.id);
	assert_int_equal(v->iova, 0x10000);
	assert_int_equal(v->hit_base, SIM_BASE);
	assert_int_equal(v->hit_size, 4096);
	assert_string_equal(v->what, "VT-d registers");
	*leaf = saved;
	audit_clean(f, 1);
	/* a host domain whose memory map calls the register page RAM leaves it out */
	assert_int_equal(moat_domain_create(&f->ms.sys, &host), MOAT_OK);
	assert_int_equal(moat_protect_host(&host, map, 1, &rep, NULL), MOAT_OK);
	assert_int_equal(rep.protected_bytes, 4096);
	assert_int_equal(moat_domain_translate(&host, SIM_BASE, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_domain_translate(&host, SIM_BASE + 0x1000, NULL, NULL, NULL), MOAT_OK);
	audit_clean(f, 1);
	assert_int_equal(moat_domain_destroy(&host), MOAT_OK);
	/* registers that left the registry are reported */
	assert_int_equal(moat_protect_remove(&f->ms.sys, SIM_BASE, 4096), MOAT_OK);
	v = audit_one(f, MOAT_AUDIT_REGISTERS, line);
	assert_int_equal(v->hit_base, SIM_BASE);
	assert_int_equal(v->hit_size, 4096);
	assert_string_equal(line, "unit 0 (0xfed90000): registers [0xfed90000, 0xfed90fff] are not in the protection "
				  "registry: a domain could map them");
	assert_int_equal(moat_protect_add(&f->ms.sys, SIM_BASE, 4096, "VT-d registers", NULL), MOAT_OK);
	audit_clean(f, 1);
	running_free(f, &dom, page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(qemu_unit_is_negotiated_then_enabled_with_driver_pages_owned),
		cmocka_unit_test(address_width_chooses_the_fewest_levels_that_cover_it),
		cmocka_unit_test(units_agree_on_what_every_one_supports),
		cmocka_unit_test(caching_mode_invalidates_after_maps_and_plain_units_do_not),
		cmocka_unit_test(attach_lookup_detach_and_flush_all_reach_the_hardware),
		cmocka_unit_test(context_tables_allocated_by_attach_are_owned_and_out_of_the_host_domain),
		cmocka_unit_test(devices_attached_before_enable_keep_their_domain),
		cmocka_unit_test(faults_are_polled_through_the_core_and_explained),
		cmocka_unit_test(a_full_record_set_overflows_is_reported_and_recording_resumes),
		cmocka_unit_test(pending_faults_are_dropped_at_tear_down),
		cmocka_unit_test(unknown_vendors_mixed_vendors_and_bad_descriptions_are_refused),
		cmocka_unit_test(a_unit_that_does_not_answer_fails_bring_up_and_releases_the_others),
		cmocka_unit_test(units_sharing_no_level_are_refused),
		cmocka_unit_test(enable_failure_turns_every_unit_off_again),
		cmocka_unit_test(tear_down_waits_for_domains_then_turns_translation_off),
		cmocka_unit_test(units_are_described_in_plain_words),
		cmocka_unit_test(the_auditor_walks_the_tables_rtaddr_names_and_finds_a_clean_unit_clean),
		cmocka_unit_test(a_pass_through_entry_for_an_unattached_device_is_reported),
		cmocka_unit_test(a_translating_entry_for_an_unattached_device_is_reported),
		cmocka_unit_test(a_root_entry_naming_a_page_moat_does_not_own_is_reported_and_not_followed),
		cmocka_unit_test(a_domain_id_other_than_its_domain_s_is_reported),
		cmocka_unit_test(an_address_width_other_than_its_domain_s_is_reported),
		cmocka_unit_test(a_device_tlb_translation_type_is_reported),
		cmocka_unit_test(a_root_table_address_elsewhere_is_reported_and_not_followed),
		cmocka_unit_test(translation_off_while_the_driver_turned_it_on_is_reported),
		cmocka_unit_test(the_unit_s_registers_are_protected_and_a_domain_mapping_them_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
