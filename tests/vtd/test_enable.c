/* SPDX-License-Identifier: BSD-2-Clause */
/* Enable and disable sequences, the GCMD discipline, bounded waits. */
#define _POSIX_C_SOURCE 200809L
#include "vtd_test.h"

#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Index of the first GCMD write setting @bit at or after @from, or -1. */
static int find_gcmd(const struct sim_vtd *s, uint32_t bit, bool on, unsigned from)
{
	for (int i = (int)from; (i = sim_vtd_find_write(s, SIM_GCMD, (unsigned)i)) >= 0; i++) {
		bool set = (s->log[i].value & bit) != 0;
		bool was = (s->log[i].gsts & bit) != 0;
		if (set == on && (bit & SIM_ONE_SHOT ? set : was != on))
			return i;
	}
	return -1;
}

static int last_write(const struct sim_vtd *s, uint32_t off)
{
	int last = -1;

	for (int i = 0; (i = sim_vtd_find_write(s, off, (unsigned)i)) >= 0; i++)
		last = i;
	return last;
}

static void enable_follows_documented_order_with_queue(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);
	struct moat_diag diag;

	assert_int_equal(moat_vtd_enable(&u, &diag), MOAT_OK);
	assert_true(u.enabled);
	assert_true(u.qi_enabled);

	int rtaddr = sim_vtd_find_write(s, SIM_RTADDR, 0);
	int srtp = find_gcmd(s, SIM_SRTP, true, 0);
	int iqa = sim_vtd_find_write(s, SIM_IQA, 0);
	int qie = find_gcmd(s, SIM_QIE, true, 0);
	int iqt = sim_vtd_find_write(s, SIM_IQT, (unsigned)(qie < 0 ? 0 : qie));
	int te = find_gcmd(s, SIM_TE, true, 0);
	assert_true(rtaddr >= 0 && srtp > rtaddr);
	assert_true(iqa > srtp && qie > iqa);
	assert_true(iqt > qie && te > last_write(s, SIM_IQT));
	assert_int_equal(s->log[rtaddr].value, u.root_phys);     /* TTM 00: legacy mode */
	assert_int_equal(s->rtaddr_latched, u.root_phys);
	assert_int_equal(s->iqa & ~0xfffull, u.iq_phys);
	assert_int_equal(s->iqa & 0xfff, 0);                     /* 256 entries, 128-bit descriptors */

	/* global context cache, then global IOTLB, each followed by a wait descriptor */
	assert_int_equal(s->ndesc, 4);
	assert_int_equal(s->desc[0][0] & 0xf, 1);
	assert_int_equal((s->desc[0][0] >> 4) & 3, 1);
	assert_int_equal(s->desc[1][0] & 0xf, 5);
	assert_int_equal(s->desc[2][0] & 0xf, 2);
	assert_int_equal((s->desc[2][0] >> 4) & 3, 1);
	assert_int_equal(s->desc[3][0] & 0xf, 5);

	assert_true(s->gsts & SIM_TE);
	assert_true(s->gsts & SIM_QIE);
	assert_int_equal(s->gcmd_violations, 0);
	assert_int_equal(s->bad_access, 0);
	assert_int_equal(s->reg_inval_while_qi, 0);
	/* default deny: an empty root table */
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(u.root[i], 0);
	unit_teardown(&u, s);
}

static void enable_without_queue_uses_registers_in_order(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_NO_QI);

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_false(u.qi_enabled);
	int srtp = find_gcmd(s, SIM_SRTP, true, 0);
	int ccmd = sim_vtd_find_write(s, SIM_CCMD, 0);
	int iotlb = sim_vtd_find_write(s, 0xf8, 0);
	int te = find_gcmd(s, SIM_TE, true, 0);
	assert_true(srtp > sim_vtd_find_write(s, SIM_RTADDR, 0));
	assert_true(ccmd > srtp && iotlb > ccmd && te > iotlb);
	/* CCMD: ICC, CIRG 01 (global) */
	assert_int_equal(s->log[ccmd].value >> 63, 1);
	assert_int_equal((s->log[ccmd].value >> 61) & 3, 1);
	/* IOTLB_REG: IVT, IIRG 01, DR and DW (the unit drains) */
	assert_int_equal(s->log[iotlb].value >> 63, 1);
	assert_int_equal((s->log[iotlb].value >> 60) & 3, 1);
	assert_int_equal((s->log[iotlb].value >> 48) & 3, 3);
	assert_int_equal(sim_vtd_count_writes(s, SIM_IQA), 0);
	assert_int_equal(s->gcmd_violations, 0);
	assert_int_equal(s->bad_access, 0);
	unit_teardown(&u, s);
}

static void gcmd_keeps_persistent_bits_and_never_repeats_one_shots(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	/* RWBF set so the write-buffer flush (another one-shot) is exercised too */
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU | (1ull << 4), ECAP_QEMU);

	s->gsts = SIM_IRE | SIM_CFI;        /* firmware enabled interrupt remapping */
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_disable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);

	unsigned n = 0, srtp = 0, wbf = 0;
	for (int i = 0; (i = sim_vtd_find_write(s, SIM_GCMD, (unsigned)i)) >= 0; i++, n++) {
		uint32_t v = (uint32_t)s->log[i].value;
		assert_int_equal(v & (SIM_IRE | SIM_CFI), SIM_IRE | SIM_CFI);
		assert_true(__builtin_popcount(v & SIM_ONE_SHOT) <= 1);
		/* exactly the persistent status, plus or minus the one bit being commanded; a one-shot
		 * bit in the write is that bit, never one carried over from an earlier command */
		uint32_t diff = v ^ (s->log[i].gsts & 0x96FFFFFFu);
		assert_int_equal(__builtin_popcount(diff), 1);
		assert_true((v & SIM_ONE_SHOT) == 0 || (v & SIM_ONE_SHOT) == diff);
		srtp += (v & SIM_SRTP) != 0;
		wbf += (v & SIM_WBF) != 0;
	}
	assert_true(n >= 8);
	assert_int_equal(srtp, 2);                  /* once per enable */
	assert_true(wbf >= 2);
	assert_int_equal(s->gcmd_violations, 0);
	assert_true(s->gsts & SIM_IRE);
	unit_teardown(&u, s);
}

static void write_buffer_is_flushed_before_invalidations(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU | (1ull << 4), ECAP_NO_QI);

	assert_true(u.caps.rwbf);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	int wbf = find_gcmd(s, SIM_WBF, true, 0);
	assert_true(wbf >= 0 && wbf < sim_vtd_find_write(s, SIM_CCMD, 0));
	/* and before a later invalidation */
	unsigned mark = s->nlog;
	assert_int_equal(moat_vtd_invalidate(&u, 5, 0x1000, 0x1000, NULL), MOAT_OK);
	wbf = find_gcmd(s, SIM_WBF, true, mark);
	assert_true(wbf >= 0 && wbf < sim_vtd_find_write(s, 0xf8, mark));
	/* one flush per operation, not one per invalidation in it: detach sends two */
	assert_int_equal(moat_vtd_attach(&u, 0x10, 5, 0x7f000100000ull, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	mark = s->nlog;
	assert_int_equal(moat_vtd_detach(&u, 0x10, NULL), MOAT_OK);
	wbf = find_gcmd(s, SIM_WBF, true, mark);
	assert_true(wbf >= 0 && wbf < sim_vtd_find_write(s, SIM_CCMD, mark));
	assert_int_equal(find_gcmd(s, SIM_WBF, true, (unsigned)wbf + 1), -1);
	/* the low-level flushes flush too */
	mark = s->nlog;
	assert_int_equal(moat_vtd_flush_iotlb(&u, MOAT_VTD_GRAN_DOMAIN, 5, 0, 0, NULL), MOAT_OK);
	wbf = find_gcmd(s, SIM_WBF, true, mark);
	assert_true(wbf >= 0 && wbf < sim_vtd_find_write(s, 0xf8, mark));
	unit_teardown(&u, s);

	/* no RWBF: no flush */
	s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_NO_QI);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_int_equal(find_gcmd(s, SIM_WBF, true, 0), -1);
	unit_teardown(&u, s);
}

static void protected_memory_is_disabled_after_translation(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);

	s->pmen = (1u << 31) | 1u;        /* firmware left PMR on */
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	int pmen = sim_vtd_find_write(s, SIM_PMEN, 0);
	assert_true(pmen > find_gcmd(s, SIM_TE, true, 0));
	assert_int_equal(s->pmen, 0);
	unit_teardown(&u, s);

	/* PMR off: PMEN left alone */
	s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_int_equal(sim_vtd_count_writes(s, SIM_PMEN), 0);
	unit_teardown(&u, s);
}

static void delayed_status_is_polled(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);

	s->gsts_delay = 7;
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_true(s->gsts & SIM_TE);
	assert_true(s->gsts_reads > 7 * 3);
	unit_teardown(&u, s);
}

/* A unit whose status never comes: MOAT_ERR_TIMEOUT naming register and bit, quickly. */
static void stuck_hardware_times_out_fast(void **state)
{
	(void)state;
	static const struct {
		uint64_t cap, ecap;
		uint32_t stuck;
		int knob;             /* 1 ccmd, 2 iotlb, 3 queue */
		const char *names;
	} cases[] = {
		{ CAP_QEMU, ECAP_QEMU, SIM_SRTP, 0, "GSTS.RTPS" },
		{ CAP_QEMU, ECAP_QEMU, SIM_TE, 0, "GSTS.TES" },
		{ CAP_QEMU, ECAP_QEMU, SIM_QIE, 0, "GSTS.QIES" },
		{ CAP_QEMU | (1ull << 4), ECAP_QEMU, SIM_WBF, 0, "GSTS.WBFS" },
		{ CAP_QEMU, ECAP_NO_QI, 0, 1, "CCMD.ICC" },
		{ CAP_QEMU, ECAP_NO_QI, 0, 2, "IOTLB_REG.IVT" },
		{ CAP_QEMU, ECAP_QEMU, 0, 3, "wait descriptor" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct moat_vtd_unit u;
		struct moat_diag diag;
		struct sim_vtd *s = unit_setup(&u, SIM_BASE, cases[i].cap, cases[i].ecap);

		s->stuck = cases[i].stuck;
		s->ccmd_stuck = cases[i].knob == 1;
		s->iotlb_stuck = cases[i].knob == 2;
		s->iq_stuck = cases[i].knob == 3;
		double t0 = now_s();
		assert_int_equal(moat_vtd_enable(&u, &diag), MOAT_ERR_TIMEOUT);
		assert_true(now_s() - t0 < 0.5);
		assert_int_equal(diag.status, MOAT_ERR_TIMEOUT);
		if (!strstr(diag.msg, cases[i].names))
			fail_msg("case %u: '%s' does not name %s", i, diag.msg, cases[i].names);
		assert_false(u.enabled);
		unit_teardown(&u, s);
	}

	/* the disable path is bounded too */
	struct moat_vtd_unit u;
	struct moat_diag diag;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	s->stuck = SIM_TE;
	assert_int_equal(moat_vtd_disable(&u, &diag), MOAT_ERR_TIMEOUT);
	assert_non_null(strstr(diag.msg, "GSTS.TES clear"));
	unit_teardown(&u, s);
}

static void disable_turns_translation_and_queue_off(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_ERR_STATE);
	assert_int_equal(moat_vtd_release(&u), MOAT_ERR_BUSY);
	assert_int_equal(moat_vtd_disable(&u, NULL), MOAT_OK);
	assert_false(s->gsts & SIM_TE);
	assert_false(s->gsts & SIM_QIE);
	assert_false(u.enabled);
	/* a second disable is harmless; re-enable restarts the queue at 0 */
	assert_int_equal(moat_vtd_disable(&u, NULL), MOAT_OK);
	unsigned mark = s->nlog;
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	int iqt = sim_vtd_find_write(s, SIM_IQT, mark);
	assert_true(iqt >= 0);
	assert_int_equal(s->log[iqt].value, 0);
	assert_int_equal(s->gcmd_violations, 0);
	assert_int_equal(s->bad_access, 0);
	unit_teardown(&u, s);
}

static void queue_left_on_by_firmware_is_stopped_before_reprogramming(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);

	s->gsts = SIM_QIE;
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	int off = find_gcmd(s, SIM_QIE, false, 0);
	assert_true(off >= 0 && off < sim_vtd_find_write(s, SIM_IQA, 0));
	assert_int_equal(s->bad_access, 0);       /* IQA never written while QIES was set */
	assert_true(s->gsts & SIM_QIE);
	unit_teardown(&u, s);
}

static void enable_without_memory_fails_cleanly(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct moat_diag diag;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);

	moat_hosted_fail_alloc_at(1, 0);
	assert_int_equal(moat_vtd_enable(&u, &diag), MOAT_ERR_NO_MEMORY);
	moat_hosted_reset();
	assert_int_equal(s->nlog, 0);
	assert_false(u.enabled);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	unit_teardown(&u, s);
}

static void release_frees_every_page(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	uint64_t root;

	moat_hosted_reset();
	uint64_t live = moat_hosted_stats().pages_live;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	root = 0x7f000100000ull;
	for (unsigned bus = 0; bus < 4; bus++)
		assert_int_equal(moat_vtd_attach(&u, MOAT_RID(bus, 1, 0), 3, root, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	assert_int_equal(moat_hosted_stats().pages_live, live + 1 + 2 + 4);   /* root, queue + status, 4 context tables */
	/* the same pages are reported for protection */
	uint64_t pages[8];
	unsigned n = 0;
	assert_int_equal(moat_vtd_pages(&u, pages, 3, &n), MOAT_ERR_NO_SPACE);
	assert_int_equal(n, 7);
	assert_int_equal(moat_vtd_pages(&u, pages, 8, &n), MOAT_OK);
	assert_int_equal(n, 7);
	assert_int_equal(pages[0], u.root_phys);
	for (unsigned bus = 0; bus < 4; bus++)
		assert_int_equal(pages[1 + bus], u.ctx_phys[bus]);
	assert_int_equal(pages[5], u.iq_phys);
	assert_int_equal(pages[6], u.wait_status_phys);
	for (unsigned i = 0; i < 7; i++)
		assert_non_null(moat_plat_phys_to_virt(pages[i]));
	assert_int_equal(moat_vtd_pages(&u, NULL, 1, &n), MOAT_ERR_INVALID_ARG);
	unit_teardown(&u, s);
	assert_int_equal(moat_hosted_stats().pages_live, live);
	assert_int_equal(u.state, MOAT_VTD_UNPROBED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(enable_follows_documented_order_with_queue),
		cmocka_unit_test(enable_without_queue_uses_registers_in_order),
		cmocka_unit_test(gcmd_keeps_persistent_bits_and_never_repeats_one_shots),
		cmocka_unit_test(write_buffer_is_flushed_before_invalidations),
		cmocka_unit_test(protected_memory_is_disabled_after_translation),
		cmocka_unit_test(delayed_status_is_polled),
		cmocka_unit_test(stuck_hardware_times_out_fast),
		cmocka_unit_test(disable_turns_translation_and_queue_off),
		cmocka_unit_test(queue_left_on_by_firmware_is_stopped_before_reprogramming),
		cmocka_unit_test(enable_without_memory_fails_cleanly),
		cmocka_unit_test(release_frees_every_page),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
