/* SPDX-License-Identifier: BSD-2-Clause */
/* Root and context tables: attach, detach, default deny, cache flushes, device routing. */
#include "vtd_test.h"

#define PT_ROOT 0x7f000123000ull   /* a page-table root: any 4 KiB aligned address will do */

/* The spec's layouts (9.1 root entry, 9.3 context entry), written out independently. */
static uint64_t spec_root_lo(uint64_t ctp)
{
	return ctp | 1;                                   /* CTP 63:12, P bit 0 */
}

static void spec_context(uint64_t slptptr, unsigned levels, unsigned did, uint64_t out[2])
{
	out[0] = slptptr | (0ull << 2) | (0ull << 1) | 1;  /* SLPTPTR 63:12, TT 3:2 = 00, FPD 0, P */
	out[1] = (uint64_t)(levels - 2) | ((uint64_t)did << 8);  /* AW 2:0 (001 = 39-bit), DID 23:8 */
}

static const uint64_t *raw_entry(const struct moat_vtd_unit *u, unsigned rid)
{
	return u->ctx[rid >> 8] ? &u->ctx[rid >> 8][(rid & 0xff) * 2] : NULL;
}

static void attach_writes_the_spec_layout(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU_AW48, ECAP_QEMU);
	struct moat_vtd_context ctx;
	uint64_t want[2];

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	unsigned mark = s->ndesc;
	assert_int_equal(moat_vtd_attach(&u, MOAT_RID(0, 3, 0), 5, PT_ROOT, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	spec_context(PT_ROOT, 3, 5, want);
	assert_memory_equal(raw_entry(&u, MOAT_RID(0, 3, 0)), want, 16);
	assert_int_equal(want[1], 0x501);
	assert_int_equal(u.root[0], spec_root_lo(u.ctx_phys[0]));
	assert_int_equal(u.root[1], 0);

	/* a 4-level domain on bus 0x12, function 7, the largest 16-bit domain id */
	unsigned rid = MOAT_RID(0x12, 0x1f, 7);
	assert_int_equal(moat_vtd_attach(&u, rid, 0xffff, PT_ROOT + 0x5000, 4, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	spec_context(PT_ROOT + 0x5000, 4, 0xffff, want);
	assert_memory_equal(raw_entry(&u, rid), want, 16);
	assert_int_equal(want[1], 0xffff02);
	assert_int_equal(u.root[0x12 * 2], spec_root_lo(u.ctx_phys[0x12]));

	/* the hardware was told: a device-selective context-cache invalidation for each */
	assert_int_equal(s->ndesc - mark, 4);
	uint64_t cc = s->desc[mark][0];
	assert_int_equal(cc & 0xf, 1);                     /* context-cache invalidate */
	assert_int_equal((cc >> 4) & 3, 3);                /* device-selective */
	assert_int_equal((cc >> 16) & 0xffff, 5);          /* DID */
	assert_int_equal((cc >> 32) & 0xffff, MOAT_RID(0, 3, 0));  /* SID */
	assert_int_equal((cc >> 48) & 3, 0);               /* FM */
	assert_int_equal(s->desc[mark + 1][0] & 0xf, 5);   /* wait */

	assert_int_equal(moat_vtd_context_get(&u, rid, &ctx), MOAT_OK);
	assert_int_equal(ctx.did, 0xffff);
	assert_int_equal(ctx.levels, 4);
	assert_int_equal(ctx.tt, 0);
	assert_int_equal(ctx.root_phys, PT_ROOT + 0x5000);
	/* attaching again the same way changes nothing and costs nothing */
	mark = s->ndesc;
	assert_int_equal(moat_vtd_attach(&u, rid, 0xffff, PT_ROOT + 0x5000, 4, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	assert_int_equal(s->ndesc, mark);
	assert_int_equal(s->bad_access, 0);
	unit_teardown(&u, s);
}

static void caching_mode_invalidates_the_not_present_entry(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU_CM, ECAP_QEMU);

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	/* domain 0 is reserved under caching mode */
	assert_int_equal(moat_vtd_attach(&u, 0x18, 0, PT_ROOT, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_ERR_INVALID_ARG);
	unsigned mark = s->ndesc;
	assert_int_equal(moat_vtd_attach(&u, 0x18, 7, PT_ROOT, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	/* context cache: device 0x18 in domain 0 (where not-present entries are cached); IOTLB: domain 7 */
	assert_int_equal(s->ndesc - mark, 4);
	uint64_t cc = s->desc[mark][0], tlb = s->desc[mark + 2][0];
	assert_int_equal(cc & 0xf, 1);
	assert_int_equal((cc >> 4) & 3, 3);
	assert_int_equal((cc >> 16) & 0xffff, 0);
	assert_int_equal((cc >> 32) & 0xffff, 0x18);
	assert_int_equal(tlb & 0xf, 2);
	assert_int_equal((tlb >> 4) & 3, 2);               /* domain-selective */
	assert_int_equal((tlb >> 16) & 0xffff, 7);
	unit_teardown(&u, s);
}

static void detach_clears_and_invalidates(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct moat_vtd_context ctx;
	struct moat_diag diag;

	/* by the queue */
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_attach(&u, 0x20, 9, PT_ROOT, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	unsigned mark = s->ndesc;
	assert_int_equal(moat_vtd_detach(&u, 0x20, NULL), MOAT_OK);
	const uint64_t zero[2] = { 0, 0 };
	assert_memory_equal(raw_entry(&u, 0x20), zero, 16);
	assert_int_equal(moat_vtd_context_get(&u, 0x20, &ctx), MOAT_ERR_NOT_FOUND);
	assert_int_equal(s->ndesc - mark, 4);
	assert_int_equal(s->desc[mark][0] & 0xf, 1);
	assert_int_equal((s->desc[mark][0] >> 4) & 3, 3);
	assert_int_equal((s->desc[mark][0] >> 16) & 0xffff, 9);
	assert_int_equal((s->desc[mark][0] >> 32) & 0xffff, 0x20);
	assert_int_equal(s->desc[mark + 2][0] & 0xf, 2);
	assert_int_equal((s->desc[mark + 2][0] >> 4) & 3, 2);
	assert_int_equal((s->desc[mark + 2][0] >> 16) & 0xffff, 9);
	/* detaching again: not found, nothing sent */
	mark = s->ndesc;
	assert_int_equal(moat_vtd_detach(&u, 0x20, &diag), MOAT_ERR_NOT_FOUND);
	assert_non_null(strstr(diag.msg, "00:04.0"));
	assert_int_equal(moat_vtd_detach(&u, 0x7700, NULL), MOAT_ERR_NOT_FOUND);   /* bus without a table */
	assert_int_equal(s->ndesc, mark);
	unit_teardown(&u, s);

	/* by the registers */
	s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_NO_QI);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_attach(&u, 0x20, 9, PT_ROOT, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	mark = s->nlog;
	assert_int_equal(moat_vtd_detach(&u, 0x20, NULL), MOAT_OK);
	int ccmd = sim_vtd_find_write(s, SIM_CCMD, mark), iotlb = sim_vtd_find_write(s, 0xf8, mark);
	assert_true(ccmd >= 0 && iotlb > ccmd);
	uint64_t v = s->log[ccmd].value;
	assert_int_equal(v >> 63, 1);
	assert_int_equal((v >> 61) & 3, 3);
	assert_int_equal(v & 0xffff, 9);
	assert_int_equal((v >> 16) & 0xffff, 0x20);
	v = s->log[iotlb].value;
	assert_int_equal((v >> 60) & 3, 2);
	assert_int_equal((v >> 32) & 0xffff, 9);
	unit_teardown(&u, s);
}

static void reattach_takes_the_old_entry_down_first(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);
	uint64_t want[2];

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_attach(&u, 0x28, 3, PT_ROOT, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	unsigned mark = s->ndesc;
	assert_int_equal(moat_vtd_attach(&u, 0x28, 4, PT_ROOT + 0x1000, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	spec_context(PT_ROOT + 0x1000, 3, 4, want);
	assert_memory_equal(raw_entry(&u, 0x28), want, 16);
	/* old domain 3: context cache and IOTLB, then the new entry's context-cache invalidation */
	assert_int_equal(s->ndesc - mark, 6);
	assert_int_equal((s->desc[mark][0] >> 16) & 0xffff, 3);
	assert_int_equal(s->desc[mark + 2][0] & 0xf, 2);
	assert_int_equal((s->desc[mark + 2][0] >> 16) & 0xffff, 3);
	assert_int_equal((s->desc[mark + 4][0] >> 16) & 0xffff, 4);
	unit_teardown(&u, s);
}

static void unattached_devices_have_no_entry(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);
	const unsigned rids[3] = { MOAT_RID(0, 1, 0), MOAT_RID(0, 2, 1), MOAT_RID(5, 0, 0) };

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(moat_vtd_attach(&u, rids[i], 1 + i, PT_ROOT, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	unsigned present_buses = 0, present = 0;
	for (unsigned bus = 0; bus < 256; bus++) {
		if (!(u.root[bus * 2] & 1)) {
			assert_int_equal(u.root[bus * 2], 0);
			continue;
		}
		present_buses++;
		const uint64_t *ct = moat_plat_phys_to_virt(u.root[bus * 2] & ~0xfffull);
		assert_non_null(ct);
		for (unsigned df = 0; df < 256; df++) {
			unsigned rid = bus << 8 | df;
			if (ct[df * 2] & 1) {
				present++;
				assert_true(rid == rids[0] || rid == rids[1] || rid == rids[2]);
			} else {
				assert_int_equal(ct[df * 2], 0);
				assert_int_equal(ct[df * 2 + 1], 0);
			}
		}
	}
	assert_int_equal(present_buses, 2);
	assert_int_equal(present, 3);
	struct moat_vtd_context ctx;
	assert_int_equal(moat_vtd_context_get(&u, MOAT_RID(0, 1, 1), &ctx), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_vtd_context_get(&u, MOAT_RID(9, 1, 0), &ctx), MOAT_ERR_NOT_FOUND);
	assert_int_equal(moat_vtd_context_get(&u, MOAT_RID(5, 0, 0), &ctx), MOAT_OK);
	assert_int_equal(ctx.did, 3);
	unit_teardown(&u, s);
}

static void bad_attach_arguments_change_nothing(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	/* ND 0: sixteen domains; 3-level only */
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU & ~7ull, ECAP_QEMU);
	struct moat_diag diag;

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_attach(&u, 0x08, 2, PT_ROOT, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);

	unsigned nlog = s->nlog;
	uint64_t live = moat_hosted_stats().pages_live;
	uint64_t root_copy[512], ctx_copy[512];
	memcpy(root_copy, u.root, sizeof(root_copy));
	memcpy(ctx_copy, u.ctx[0], sizeof(ctx_copy));

	static const struct {
		uint32_t rid, did;
		uint64_t root;
		unsigned levels, tt;
		moat_status st;
		const char *msg;
	} cases[] = {
		{ 0x10000, 2, PT_ROOT, 3, 0, MOAT_ERR_INVALID_ARG, "requester id" },
		{ 0x10, 16, PT_ROOT, 3, 0, MOAT_ERR_INVALID_ARG, "domain id 16" },
		{ 0x10, 0x10000, PT_ROOT, 3, 0, MOAT_ERR_INVALID_ARG, "domain id" },
		{ 0x10, 2, PT_ROOT, 4, 0, MOAT_ERR_UNSUPPORTED, "4-level" },
		{ 0x10, 2, PT_ROOT, 2, 0, MOAT_ERR_UNSUPPORTED, "2-level" },
		{ 0x10, 2, PT_ROOT, 6, 0, MOAT_ERR_UNSUPPORTED, "6-level" },
		{ 0x10, 2, PT_ROOT + 0x800, 3, 0, MOAT_ERR_ALIGNMENT, "aligned" },
		{ 0x10, 2, 0, 3, 0, MOAT_ERR_INVALID_ARG, "root" },
		{ 0x10, 2, PT_ROOT, 3, 2, MOAT_ERR_UNSUPPORTED, "translation type" },
		{ 0x10, 2, PT_ROOT, 3, 1, MOAT_ERR_UNSUPPORTED, "translation type" },
		{ MOAT_RID(3, 0, 0), 2, PT_ROOT, 4, 0, MOAT_ERR_UNSUPPORTED, "4-level" },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		moat_status st = moat_vtd_attach(&u, cases[i].rid, cases[i].did, cases[i].root, cases[i].levels,
						 (enum moat_vtd_tt)cases[i].tt, &diag);
		if (st != cases[i].st || !strstr(diag.msg, cases[i].msg))
			fail_msg("case %u: status %d, message '%s'", i, st, diag.msg);
	}
	assert_int_equal(moat_vtd_detach(&u, 0x10000, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_context_get(&u, 0x10000, &(struct moat_vtd_context){ 0 }), MOAT_ERR_INVALID_ARG);
	assert_int_equal(s->nlog, nlog);
	assert_int_equal(moat_hosted_stats().pages_live, live);
	assert_memory_equal(root_copy, u.root, sizeof(root_copy));
	assert_memory_equal(ctx_copy, u.ctx[0], sizeof(ctx_copy));
	assert_null(u.ctx[3]);
	unit_teardown(&u, s);
}

static void attach_before_enable_sends_nothing(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);

	assert_int_equal(moat_vtd_attach(&u, 0x30, 2, PT_ROOT, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_detach(&u, 0x30, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_attach(&u, 0x30, 2, PT_ROOT, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	assert_int_equal(s->nlog, 0);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_int_equal(s->rtaddr_latched, u.root_phys);
	assert_int_equal(u.root[0] & 1, 1);
	assert_int_equal(raw_entry(&u, 0x30)[0] & 1, 1);
	unit_teardown(&u, s);
}

static void cache_lines_are_flushed_only_for_non_coherent_walkers(void **state)
{
	(void)state;
	struct moat_vtd_unit u;

	/* C = 0: each new table page flushed whole (64 lines), then one line per entry written */
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);
	moat_hosted_reset();
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_hosted_stats().cache_line_flushes, 64);
	assert_int_equal(moat_vtd_attach(&u, 0x40, 2, PT_ROOT, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	assert_int_equal(moat_hosted_stats().cache_line_flushes, 64 + 64 + 1 + 1);
	assert_int_equal(moat_vtd_attach(&u, 0x41, 2, PT_ROOT, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	assert_int_equal(moat_hosted_stats().cache_line_flushes, 64 + 64 + 1 + 1 + 1);
	assert_int_equal(moat_vtd_detach(&u, 0x41, NULL), MOAT_OK);
	assert_int_equal(moat_hosted_stats().cache_line_flushes, 64 + 64 + 1 + 1 + 1 + 1);
	unit_teardown(&u, s);

	/* C = 1: never */
	s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_COHERENT);
	moat_hosted_reset();
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_attach(&u, 0x40, 2, PT_ROOT, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_detach(&u, 0x40, NULL), MOAT_OK);
	assert_int_equal(moat_hosted_stats().cache_line_flushes, 0);
	assert_true(moat_hosted_stats().wmbs > 0);
	unit_teardown(&u, s);
}

static void routing_prefers_explicit_scopes_over_include_all(void **state)
{
	(void)state;
	struct moat_devset devsets[] = {
		/* unit 0 (segment 0): 00:02.0, and an unresolved scope that must match nothing */
		{ .segment = 0, .first = MOAT_RID(0, 2, 0), .last = MOAT_RID(0, 2, 0) },
		{ .segment = 0, .first = MOAT_RID(0, 5, 0), .last = MOAT_RID(0, 5, 0), .flags = MOAT_DEVSET_UNRESOLVED },
		/* unit 1 (segment 0, INCLUDE_PCI_ALL): its IOAPIC */
		{ .segment = 0, .first = MOAT_RID(0xf0, 0x1f, 0), .last = MOAT_RID(0xf0, 0x1f, 0) },
		/* unit 3 (segment 1): a bridge's buses 2..3 */
		{ .segment = 1, .first = MOAT_RID(2, 0, 0), .last = MOAT_RID(3, 31, 7), .flags = MOAT_DEVSET_BRIDGE },
	};
	struct moat_unit_desc units[] = {
		{ .vendor = MOAT_VENDOR_VTD, .segment = 0, .register_base = 0xfed90000, .devset_first = 0, .devset_count = 2 },
		{ .vendor = MOAT_VENDOR_VTD, .segment = 0, .flags = MOAT_UNIT_INCLUDE_ALL, .register_base = 0xfed91000,
		  .devset_first = 2, .devset_count = 1 },
		{ .vendor = MOAT_VENDOR_VTD, .segment = 1, .flags = MOAT_UNIT_INCLUDE_ALL, .register_base = 0xfed92000 },
		{ .vendor = MOAT_VENDOR_VTD, .segment = 1, .register_base = 0xfed93000, .devset_first = 3, .devset_count = 1 },
		{ .vendor = MOAT_VENDOR_AMDVI, .segment = 2, .flags = MOAT_UNIT_INCLUDE_ALL, .register_base = 0xfed94000 },
	};
	struct moat_sysdesc desc = {
		.vendor = MOAT_VENDOR_VTD, .units = units, .units_count = 5, .units_cap = 5,
		.devsets = devsets, .devsets_count = 4, .devsets_cap = 4,
	};
	static const struct {
		uint16_t segment, rid;
		moat_status st;
		uint32_t unit;
	} cases[] = {
		{ 0, MOAT_RID(0, 2, 0), MOAT_OK, 0 },            /* named by unit 0 */
		{ 0, MOAT_RID(0, 2, 1), MOAT_OK, 1 },            /* another function: the catch-all */
		{ 0, MOAT_RID(0, 5, 0), MOAT_OK, 1 },            /* unresolved scope names nobody */
		{ 0, MOAT_RID(0xf0, 0x1f, 0), MOAT_OK, 1 },
		{ 0, MOAT_RID(7, 0, 0), MOAT_OK, 1 },
		{ 1, MOAT_RID(2, 0, 0), MOAT_OK, 3 },            /* under the bridge on segment 1 */
		{ 1, MOAT_RID(3, 31, 7), MOAT_OK, 3 },
		{ 1, MOAT_RID(0, 2, 0), MOAT_OK, 2 },            /* same rid, other segment: its catch-all */
		{ 1, MOAT_RID(4, 0, 0), MOAT_OK, 2 },
		{ 2, MOAT_RID(0, 2, 0), MOAT_ERR_NOT_FOUND, 0 }, /* only an AMD unit there */
		{ 3, MOAT_RID(0, 2, 0), MOAT_ERR_NOT_FOUND, 0 },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t unit = 99;
		moat_status st = moat_vtd_routes(&desc, cases[i].segment, cases[i].rid, &unit);
		if (st != cases[i].st || (st == MOAT_OK && unit != cases[i].unit))
			fail_msg("case %u: status %d unit %u", i, st, unit);
	}

	/* without the catch-all on segment 0, an unnamed device belongs to nobody */
	units[1].flags = 0;
	uint32_t unit;
	assert_int_equal(moat_vtd_routes(&desc, 0, MOAT_RID(7, 0, 0), &unit), MOAT_ERR_NOT_FOUND);
	/* devsets outside the array */
	units[0].devset_count = 9;
	assert_int_equal(moat_vtd_routes(&desc, 0, MOAT_RID(7, 0, 0), &unit), MOAT_ERR_MALFORMED);
	assert_int_equal(moat_vtd_routes(NULL, 0, 0, &unit), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_routes(&desc, 0, 0, NULL), MOAT_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(attach_writes_the_spec_layout),
		cmocka_unit_test(caching_mode_invalidates_the_not_present_entry),
		cmocka_unit_test(detach_clears_and_invalidates),
		cmocka_unit_test(reattach_takes_the_old_entry_down_first),
		cmocka_unit_test(unattached_devices_have_no_entry),
		cmocka_unit_test(bad_attach_arguments_change_nothing),
		cmocka_unit_test(attach_before_enable_sends_nothing),
		cmocka_unit_test(cache_lines_are_flushed_only_for_non_coherent_walkers),
		cmocka_unit_test(routing_prefers_explicit_scopes_over_include_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
