/* SPDX-License-Identifier: BSD-2-Clause */
/* Probing a unit (capability decoding) and negotiating capabilities across units. */
#include "vtd_test.h"

static void probe_decodes_qemu_default(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);
	const struct moat_vtd_caps *c = &u.caps;

	assert_int_equal(c->version, 0x10);
	assert_int_equal(c->levels_mask, MOAT_VTD_LEVEL_BIT(3));
	assert_int_equal(c->levels, 3);
	assert_int_equal(c->mgaw, 39);
	assert_int_equal(c->address_width, 39);
	assert_int_equal(c->superpages, MOAT_VTD_SP_2M | MOAT_VTD_SP_1G);
	assert_int_equal(c->domain_bits, 16);
	assert_int_equal(c->did_min, 0);
	assert_false(c->caching_mode);
	assert_false(c->rwbf);
	assert_false(c->coherent);
	assert_true(c->qi);
	assert_true(c->ir);
	assert_false(c->eim);
	assert_true(c->pt);
	assert_true(c->psi);
	assert_int_equal(c->mamv, 18);
	assert_false(c->smts);
	assert_true(c->drain_read);
	assert_true(c->drain_write);
	assert_int_equal(c->iotlb_offset, 0xf0);
	assert_int_equal(c->fault_offset, 0x220);
	assert_int_equal(c->fault_records, 1);
	assert_int_equal(u.segment, 0);
	assert_int_equal(u.timeout_ns, TEST_TIMEOUT_NS);
	/* probing writes nothing */
	assert_int_equal(s->nlog, 0);
	unit_teardown(&u, s);
}

static void probe_decodes_variants(void **state)
{
	(void)state;
	static const struct {
		uint64_t cap, ecap;
		uint8_t levels_mask, levels, mgaw, address_width, domain_bits, did_min;
		bool cm, qi, coherent;
		uint16_t records;
	} cases[] = {
		/* aw-bits=48: 3 and 4 levels, MGAW 48; probe picks the smallest level */
		{ CAP_QEMU_AW48, ECAP_QEMU, 0x18, 3, 48, 39, 16, 0, false, true, false, 1 },
		/* caching-mode=on: domain id 0 reserved */
		{ CAP_QEMU_CM, ECAP_QEMU, 0x08, 3, 39, 39, 16, 1, true, true, false, 1 },
		/* no queued invalidation */
		{ CAP_QEMU, ECAP_NO_QI, 0x08, 3, 39, 39, 16, 0, false, false, false, 1 },
		/* coherent walks */
		{ CAP_QEMU, ECAP_COHERENT, 0x08, 3, 39, 39, 16, 0, false, true, true, 1 },
		/* 5-level capable, MGAW 57 */
		{ CAP_5LEVEL, ECAP_QEMU, 0x38, 3, 57, 39, 16, 0, false, true, false, 1 },
		/* ND 0: 16 domains; ND 2: 256 */
		{ CAP_QEMU & ~7ull, ECAP_QEMU, 0x08, 3, 39, 39, 4, 0, false, true, false, 1 },
		{ (CAP_QEMU & ~7ull) | 2, ECAP_QEMU, 0x08, 3, 39, 39, 8, 0, false, true, false, 1 },
		/* eight fault records */
		{ CAP_NFR8, ECAP_QEMU, 0x08, 3, 39, 39, 16, 0, false, true, false, 8 },
		/* only 4-level tables (SAGAW 0x4), MGAW 48 */
		{ (CAP_QEMU_AW48 & ~(0x1full << 8)) | (0x4ull << 8), ECAP_QEMU, 0x10, 4, 48, 48, 16, 0, false, true,
		  false, 1 },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct moat_vtd_unit u;
		struct sim_vtd *s = unit_setup(&u, SIM_BASE, cases[i].cap, cases[i].ecap);

		assert_int_equal(u.caps.levels_mask, cases[i].levels_mask);
		assert_int_equal(u.caps.levels, cases[i].levels);
		assert_int_equal(u.caps.mgaw, cases[i].mgaw);
		assert_int_equal(u.caps.address_width, cases[i].address_width);
		assert_int_equal(u.caps.domain_bits, cases[i].domain_bits);
		assert_int_equal(u.caps.did_min, cases[i].did_min);
		assert_int_equal(u.caps.caching_mode, cases[i].cm);
		assert_int_equal(u.caps.qi, cases[i].qi);
		assert_int_equal(u.caps.coherent, cases[i].coherent);
		assert_int_equal(u.caps.fault_records, cases[i].records);
		assert_int_equal(u.cap, cases[i].cap);
		unit_teardown(&u, s);
	}
}

static void probe_refuses_bad_units_and_changes_nothing(void **state)
{
	(void)state;
	struct moat_vtd_unit u, before;
	struct moat_diag diag;
	struct moat_unit_desc d;

	memset(&u, 0x5a, sizeof(u));
	memcpy(&before, &u, sizeof(u));   /* padding too: compared byte for byte */

	/* nothing at that address */
	d = (struct moat_unit_desc){ .vendor = MOAT_VENDOR_VTD, .register_base = 0xfed00000, .register_size = 4096 };
	assert_int_equal(moat_vtd_probe(&u, &d, &diag), MOAT_ERR_HARDWARE);
	/* wrong vendor, unaligned base, NULLs */
	struct sim_vtd *s = sim_vtd_new(SIM_BASE, CAP_QEMU, ECAP_QEMU);
	d = sim_vtd_desc(s, 0);
	d.vendor = MOAT_VENDOR_AMDVI;
	assert_int_equal(moat_vtd_probe(&u, &d, &diag), MOAT_ERR_INVALID_ARG);
	d = sim_vtd_desc(s, 0);
	d.register_base += 8;
	assert_int_equal(moat_vtd_probe(&u, &d, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_probe(NULL, &d, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_probe(&u, NULL, &diag), MOAT_ERR_INVALID_ARG);
	/* fault records past the register page: FRO 0xff0 with 8 records */
	s->cap = (CAP_NFR8 & ~(0x3ffull << 24)) | (0xffull << 24);
	s->fro = 0xff0;
	d = sim_vtd_desc(s, 0);
	assert_int_equal(moat_vtd_probe(&u, &d, &diag), MOAT_ERR_HARDWARE);
	assert_non_null(strstr(diag.msg, "CAP.FRO"));
	/* reserved ND */
	s->cap = CAP_QEMU | 7;
	s->fro = 0x220;
	assert_int_equal(moat_vtd_probe(&u, &d, &diag), MOAT_ERR_HARDWARE);
	assert_non_null(strstr(diag.msg, "ND"));
	/* all ones: no unit */
	s->cap = ~0ull;
	assert_int_equal(moat_vtd_probe(&u, &d, &diag), MOAT_ERR_HARDWARE);
	assert_memory_equal(&u, &before, sizeof(u));
	sim_vtd_free(s);
}

static void unprobed_unit_is_refused_everywhere(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct moat_fault f;
	struct moat_fault_poll res;
	struct moat_vtd_context ctx;

	memset(&u, 0, sizeof(u));
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_ERR_STATE);
	assert_int_equal(moat_vtd_disable(&u, NULL), MOAT_ERR_STATE);
	assert_int_equal(moat_vtd_release(&u), MOAT_ERR_STATE);
	assert_int_equal(moat_vtd_attach(&u, 0x10, 1, 0x1000, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_ERR_STATE);
	assert_int_equal(moat_vtd_detach(&u, 0x10, NULL), MOAT_ERR_STATE);
	assert_int_equal(moat_vtd_context_get(&u, 0x10, &ctx), MOAT_ERR_STATE);
	assert_int_equal(moat_vtd_invalidate(&u, 1, 0, 0, NULL), MOAT_ERR_STATE);
	assert_int_equal(moat_vtd_flush_context(&u, MOAT_VTD_GRAN_GLOBAL, 0, 0, 0, NULL), MOAT_ERR_STATE);
	assert_int_equal(moat_vtd_flush_iotlb(&u, MOAT_VTD_GRAN_GLOBAL, 0, 0, 0, NULL), MOAT_ERR_STATE);
	assert_int_equal(moat_vtd_flush_iec(&u, NULL), MOAT_ERR_STATE);
	assert_int_equal(moat_vtd_fault_poll(&u, &f, 1, &res), MOAT_ERR_STATE);
	unsigned n;
	assert_int_equal(moat_vtd_pages(&u, NULL, 0, &n), MOAT_ERR_STATE);
}

/* ---- negotiation ---- */

struct units3 {
	struct moat_vtd_unit u[3];
	struct sim_vtd *s[3];
	struct moat_vtd_unit *p[3];
};

static void units_setup(struct units3 *t, const uint64_t cap[3], const uint64_t ecap[3])
{
	for (unsigned i = 0; i < 3; i++) {
		t->s[i] = unit_setup(&t->u[i], SIM_BASE + i * 0x10000ull, cap[i], ecap[i]);
		t->p[i] = &t->u[i];
	}
}

static void units_teardown(struct units3 *t)
{
	for (unsigned i = 0; i < 3; i++)
		unit_teardown(&t->u[i], t->s[i]);
}

static void negotiation_takes_what_every_unit_supports(void **state)
{
	(void)state;
	struct units3 t;
	struct moat_vtd_caps c;
	struct moat_diag diag;
	/* unit 0: 5-level capable, coherent, no CM; unit 1: aw48, CM, ND 4 (12 bits); unit 2: default,
	 * only 2 MiB pages, no QI, MAMV 9 */
	const uint64_t cap[3] = {
		CAP_5LEVEL,
		((CAP_QEMU_AW48 | (1ull << 7)) & ~7ull) | 4,
		(CAP_QEMU & ~(3ull << 34) & ~(0x3full << 48)) | (1ull << 34) | (9ull << 48),
	};
	const uint64_t ecap[3] = { ECAP_COHERENT, ECAP_QEMU, ECAP_NO_QI };

	units_setup(&t, cap, ecap);
	assert_int_equal(moat_vtd_negotiate(t.p, 3, 39, &c, &diag), MOAT_OK);
	assert_int_equal(c.levels_mask, MOAT_VTD_LEVEL_BIT(3));
	assert_int_equal(c.levels, 3);
	assert_int_equal(c.mgaw, 39);
	assert_int_equal(c.address_width, 39);
	assert_int_equal(c.superpages, MOAT_VTD_SP_2M);
	assert_int_equal(c.domain_bits, 12);
	assert_int_equal(c.did_min, 1);          /* one unit in caching mode reserves domain 0 */
	assert_true(c.caching_mode);
	assert_false(c.coherent);                /* coherent only if all are */
	assert_false(c.qi);
	assert_int_equal(c.mamv, 9);
	assert_true(c.psi);

	/* the first two alone: 3 and 4 levels in common; 48 bits needed picks 4, 39 picks 3 */
	assert_int_equal(moat_vtd_negotiate(t.p, 2, 48, &c, &diag), MOAT_OK);
	assert_int_equal(c.levels_mask, MOAT_VTD_LEVEL_BIT(3) | MOAT_VTD_LEVEL_BIT(4));
	assert_int_equal(c.levels, 4);
	assert_int_equal(c.address_width, 48);
	assert_true(c.qi);
	assert_int_equal(moat_vtd_negotiate(t.p, 2, 32, &c, &diag), MOAT_OK);
	assert_int_equal(c.levels, 3);
	/* more than any level covers: the largest common one, width limited by MGAW */
	assert_int_equal(moat_vtd_negotiate(t.p, 2, 60, &c, &diag), MOAT_OK);
	assert_int_equal(c.levels, 4);
	assert_int_equal(c.address_width, 48);
	/* the first unit alone: five levels for 57 bits, and the first unit's caps are not the answer
	 * when another unit is added */
	assert_int_equal(moat_vtd_negotiate(t.p, 1, 57, &c, &diag), MOAT_OK);
	assert_int_equal(c.levels, 5);
	assert_true(c.coherent);
	assert_int_equal(moat_vtd_negotiate(t.p, 3, 57, &c, &diag), MOAT_OK);
	assert_int_equal(c.levels, 3);
	assert_false(c.coherent);
	units_teardown(&t);
}

static void negotiation_refuses_a_unit_without_usable_levels(void **state)
{
	(void)state;
	struct units3 t;
	struct moat_vtd_caps c, before;
	struct moat_diag diag;
	/* unit 1 only supports the reserved SAGAW bits (0 and 4); unit 2 only 4 levels */
	const uint64_t cap[3] = {
		CAP_QEMU,
		(CAP_QEMU & ~(0x1full << 8)) | (0x11ull << 8),
		(CAP_QEMU_AW48 & ~(0x1full << 8)) | (0x4ull << 8),
	};
	const uint64_t ecap[3] = { ECAP_QEMU, ECAP_QEMU, ECAP_QEMU };

	units_setup(&t, cap, ecap);
	memset(&c, 0x33, sizeof(c));
	memcpy(&before, &c, sizeof(c));   /* padding too: compared byte for byte */
	assert_int_equal(moat_vtd_negotiate(t.p, 3, 39, &c, &diag), MOAT_ERR_UNSUPPORTED);
	assert_non_null(strstr(diag.msg, "unit 1"));
	assert_non_null(strstr(diag.msg, "0xfeda0000"));
	assert_memory_equal(&c, &before, sizeof(c));
	/* units 0 and 2 share no level */
	struct moat_vtd_unit *pair[2] = { t.p[0], t.p[2] };
	assert_int_equal(moat_vtd_negotiate(pair, 2, 39, &c, &diag), MOAT_ERR_UNSUPPORTED);
	assert_non_null(strstr(diag.msg, "unit 1"));
	assert_non_null(strstr(diag.msg, "0xfedb0000"));
	/* bad arguments */
	assert_int_equal(moat_vtd_negotiate(t.p, 0, 39, &c, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_negotiate(NULL, 1, 39, &c, &diag), MOAT_ERR_INVALID_ARG);
	struct moat_vtd_unit blank;
	memset(&blank, 0, sizeof(blank));
	struct moat_vtd_unit *with_blank[2] = { t.p[0], &blank };
	assert_int_equal(moat_vtd_negotiate(with_blank, 2, 39, &c, &diag), MOAT_ERR_INVALID_ARG);
	assert_memory_equal(&c, &before, sizeof(c));
	units_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(probe_decodes_qemu_default),
		cmocka_unit_test(probe_decodes_variants),
		cmocka_unit_test(probe_refuses_bad_units_and_changes_nothing),
		cmocka_unit_test(unprobed_unit_is_refused_everywhere),
		cmocka_unit_test(negotiation_takes_what_every_unit_supports),
		cmocka_unit_test(negotiation_refuses_a_unit_without_usable_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
