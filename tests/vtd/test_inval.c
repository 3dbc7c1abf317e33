/* SPDX-License-Identifier: BSD-2-Clause */
/* Invalidation by registers and by the queue: granularity, address masks, completion, errors. */
#include "vtd_test.h"

#define IVA 0xf0
#define IOTLB 0xf8

struct expect {
	uint64_t iova, size;
	unsigned gran;      /* 3 page-selective, 2 domain */
	uint64_t addr;
	unsigned am;
};

/* MAMV 18 (QEMU): blocks of up to 2^18 pages = 1 GiB */
static const struct expect ranges[] = {
	{ 0x5000, 0x1000, 3, 0x5000, 0 },                 /* one aligned page */
	{ 0x1234, 0x10, 3, 0x1000, 0 },                   /* a few bytes inside a page */
	{ 0x200000, 0x200000, 3, 0x200000, 9 },           /* an aligned 2 MiB block */
	{ 0x1ff000, 0x2000, 3, 0x0, 10 },                 /* two pages across a 2 MiB boundary */
	{ 0x3800, 0x2000, 3, 0x0, 3 },                    /* unaligned, pages 3..5 */
	{ 0x40000000, 0x40000000, 3, 0x40000000, 18 },    /* 1 GiB: exactly MAMV */
	{ 0x80000000, 0x80000000, 2, 0, 0 },              /* 2 GiB: beyond MAMV, whole domain */
	{ 0x3ffff000, 0x2000, 2, 0, 0 },                  /* crossing 1 GiB needs 2^19 pages */
	{ 0x7000, 0, 2, 0, 0 },                           /* size 0: whole domain */
};

static void ranges_by_registers_get_the_right_mask(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_NO_QI);

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	for (unsigned i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		unsigned mark = s->nlog;
		assert_int_equal(moat_vtd_invalidate(&u, 42, ranges[i].iova, ranges[i].size, NULL), MOAT_OK);
		int iva = sim_vtd_find_write(s, IVA, mark), tlb = sim_vtd_find_write(s, IOTLB, mark);
		assert_true(tlb >= 0);
		uint64_t v = s->log[tlb].value;
		if ((unsigned)((v >> 60) & 3) != ranges[i].gran)
			fail_msg("range %u: granularity %u", i, (unsigned)((v >> 60) & 3));
		assert_int_equal((v >> 32) & 0xffff, 42);
		assert_int_equal(v >> 63, 1);
		if (ranges[i].gran == 3) {
			assert_true(iva >= 0 && iva < tlb);
			uint64_t a = s->log[iva].value;
			if ((a & ~0xfffull) != ranges[i].addr || (a & 0x3f) != ranges[i].am)
				fail_msg("range %u: IVA 0x%llx", i, (unsigned long long)a);
			assert_int_equal(a & 0x40, 0);             /* IH clear: non-leaf entries may have changed */
		} else {
			assert_int_equal(iva, -1);
		}
		assert_int_equal(s->iotlb >> 63, 0);            /* completed */
	}
	assert_int_equal(s->bad_access, 0);
	unit_teardown(&u, s);
}

static void ranges_by_queue_get_the_right_descriptor(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	for (unsigned i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		unsigned mark = s->ndesc;
		assert_int_equal(moat_vtd_invalidate(&u, 42, ranges[i].iova, ranges[i].size, NULL), MOAT_OK);
		assert_int_equal(s->ndesc - mark, 2);
		uint64_t lo = s->desc[mark][0], hi = s->desc[mark][1];
		assert_int_equal(lo & 0xf, 2);
		if ((unsigned)((lo >> 4) & 3) != ranges[i].gran)
			fail_msg("range %u: granularity %u", i, (unsigned)((lo >> 4) & 3));
		assert_int_equal((lo >> 16) & 0xffff, 42);
		assert_int_equal((lo >> 6) & 3, 3);             /* DW, DR: the unit drains */
		if (ranges[i].gran == 3) {
			if ((hi & ~0xfffull) != ranges[i].addr || (hi & 0x3f) != ranges[i].am)
				fail_msg("range %u: descriptor high 0x%llx", i, (unsigned long long)hi);
		} else {
			assert_int_equal(hi, 0);
		}
		assert_int_equal(s->desc[mark + 1][0] & 0xf, 5);
	}
	assert_int_equal(s->reg_inval_while_qi, 0);
	assert_int_equal(sim_vtd_count_writes(s, SIM_CCMD), 0);
	assert_int_equal(sim_vtd_count_writes(s, IOTLB), 0);
	unit_teardown(&u, s);
}

static void without_psi_every_range_is_a_domain(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU & ~(1ull << 39), ECAP_QEMU);

	assert_false(u.caps.psi);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	unsigned mark = s->ndesc;
	assert_int_equal(moat_vtd_invalidate(&u, 3, 0x5000, 0x1000, NULL), MOAT_OK);
	assert_int_equal((s->desc[mark][0] >> 4) & 3, 2);
	struct moat_diag diag;
	assert_int_equal(moat_vtd_flush_iotlb(&u, MOAT_VTD_GRAN_PAGE, 3, 0x5000, 0, &diag), MOAT_ERR_UNSUPPORTED);
	assert_non_null(strstr(diag.msg, "PSI"));
	unit_teardown(&u, s);
}

static void bad_invalidation_arguments_touch_nothing(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, (CAP_QEMU & ~7ull) | 1, ECAP_NO_QI);   /* ND 1: 64 domains */
	struct moat_diag diag;

	/* before enable: nothing cached, nothing sent */
	assert_int_equal(moat_vtd_invalidate(&u, 3, 0x1000, 0x1000, NULL), MOAT_OK);
	assert_int_equal(s->nlog, 0);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	unsigned nlog = s->nlog;
	assert_int_equal(moat_vtd_invalidate(&u, 64, 0, 0, &diag), MOAT_ERR_INVALID_ARG);
	assert_non_null(strstr(diag.msg, "ND"));
	assert_int_equal(moat_vtd_invalidate(&u, 3, ~0ull - 0xfff, 0x2000, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_flush_iotlb(&u, MOAT_VTD_GRAN_PAGE, 3, 0x3000, 1, &diag), MOAT_ERR_ALIGNMENT);
	assert_int_equal(moat_vtd_flush_iotlb(&u, MOAT_VTD_GRAN_PAGE, 3, 0, 19, NULL), MOAT_ERR_UNSUPPORTED);
	assert_int_equal(moat_vtd_flush_iotlb(&u, (enum moat_vtd_gran)0, 3, 0, 0, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_flush_iotlb(&u, (enum moat_vtd_gran)4, 3, 0, 0, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_flush_context(&u, (enum moat_vtd_gran)4, 3, 0, 0, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_flush_context(&u, MOAT_VTD_GRAN_DEVICE, 3, 0x10000, 0, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_flush_context(&u, MOAT_VTD_GRAN_DEVICE, 3, 0x10, 4, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_flush_context(&u, MOAT_VTD_GRAN_DOMAIN, 64, 0, 0, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_flush_iec(&u, NULL), MOAT_ERR_STATE);         /* no queue */
	assert_int_equal(s->nlog, nlog);
	/* a valid domain-selective context-cache invalidation by register */
	assert_int_equal(moat_vtd_flush_context(&u, MOAT_VTD_GRAN_DOMAIN, 63, 0, 0, NULL), MOAT_OK);
	int c = sim_vtd_find_write(s, SIM_CCMD, nlog);
	assert_int_equal((s->log[c].value >> 61) & 3, 2);
	assert_int_equal(s->log[c].value & 0xffff, 63);
	unit_teardown(&u, s);
}

static void wait_descriptor_writes_its_status(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	for (unsigned k = 0; k < 3; k++) {
		unsigned mark = s->ndesc;
		assert_int_equal(moat_vtd_flush_context(&u, MOAT_VTD_GRAN_DOMAIN, 7, 0, 0, NULL), MOAT_OK);
		uint64_t cc = s->desc[mark][0], lo = s->desc[mark + 1][0], hi = s->desc[mark + 1][1];
		assert_int_equal(cc & 0xf, 1);
		assert_int_equal((cc >> 4) & 3, 2);
		assert_int_equal((cc >> 16) & 0xffff, 7);
		assert_int_equal(lo & 0xf, 5);
		assert_int_equal((lo >> 5) & 1, 1);               /* SW: status write */
		assert_int_equal(lo >> 32, u.wait_seq);            /* status data */
		assert_int_equal(hi & 3, 0);
		assert_int_equal(hi, u.wait_status_phys);
		assert_int_equal(*u.wait_status, u.wait_seq);      /* written by the hardware */
		assert_int_equal(s->iqh, s->iqt);
	}
	assert_int_equal(u.wait_seq, 5);                    /* two during enable, three here */
	unit_teardown(&u, s);
}

static void queue_wraps_around(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	for (unsigned k = 0; k < 300; k++)
		assert_int_equal(moat_vtd_invalidate(&u, 1 + k % 100, (uint64_t)k << 12, 0x1000, NULL), MOAT_OK);
	assert_int_equal(s->ndesc, 4 + 600);
	assert_int_equal(s->iq_wraps, 604 / 256);
	assert_int_equal(u.iq_tail, 604 % 256);
	assert_int_equal((s->iqt >> 4) & 0x7fff, 604 % 256);
	assert_int_equal(s->iqh, s->iqt);
	/* in order, none lost: every other descriptor is a page invalidation of the k-th page */
	for (unsigned k = 0; k < 300; k++) {
		assert_int_equal(s->desc[4 + 2 * k][1] & ~0xfffull, (uint64_t)k << 12);
		assert_int_equal((s->desc[4 + 2 * k][0] >> 16) & 0xffff, 1 + k % 100);
		assert_int_equal(s->desc[5 + 2 * k][0] >> 32, 3 + k);
	}
	unit_teardown(&u, s);
}

static void queue_error_is_reported_and_recovered(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);
	struct moat_diag diag;

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	/* the invalidation descriptor itself is refused */
	s->iqe_at = 1;
	assert_int_equal(moat_vtd_invalidate(&u, 2, 0, 0, &diag), MOAT_ERR_HARDWARE);
	assert_non_null(strstr(diag.msg, "IQE"));
	assert_non_null(strstr(diag.msg, "type 2"));
	assert_int_equal(s->fsts & SIM_IQE, 0);             /* cleared */
	assert_int_equal(s->iqh, s->iqt);                   /* the rest of the batch was dropped */
	/* the queue works again */
	unsigned mark = s->ndesc;
	assert_int_equal(moat_vtd_invalidate(&u, 2, 0, 0, NULL), MOAT_OK);
	assert_int_equal(s->ndesc - mark, 2);
	/* the wait descriptor refused */
	s->iqe_at = 2;
	assert_int_equal(moat_vtd_invalidate(&u, 2, 0, 0, &diag), MOAT_ERR_HARDWARE);
	assert_non_null(strstr(diag.msg, "type 5"));
	assert_int_equal(moat_vtd_flush_iec(&u, NULL), MOAT_OK);
	/* a time-out error on completion */
	s->ite_next = true;
	assert_int_equal(moat_vtd_invalidate(&u, 2, 0, 0, &diag), MOAT_ERR_HARDWARE);
	assert_non_null(strstr(diag.msg, "ITE"));
	assert_int_equal(s->fsts & SIM_ITE, 0);
	assert_int_equal(moat_vtd_invalidate(&u, 2, 0, 0, NULL), MOAT_OK);
	assert_int_equal(s->bad_access, 0);
	unit_teardown(&u, s);
}

static void interrupt_entry_cache_is_invalidated_by_queue(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);

	assert_int_equal(moat_vtd_flush_iec(&u, NULL), MOAT_ERR_STATE);   /* queue not yet enabled */
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	unsigned mark = s->ndesc;
	assert_int_equal(moat_vtd_flush_iec(&u, NULL), MOAT_OK);
	assert_int_equal(s->desc[mark][0] & 0xf, 4);
	assert_int_equal((s->desc[mark][0] >> 4) & 1, 0);   /* global */
	assert_int_equal(s->desc[mark + 1][0] & 0xf, 5);
	unit_teardown(&u, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ranges_by_registers_get_the_right_mask),
		cmocka_unit_test(ranges_by_queue_get_the_right_descriptor),
		cmocka_unit_test(without_psi_every_range_is_a_domain),
		cmocka_unit_test(bad_invalidation_arguments_touch_nothing),
		cmocka_unit_test(wait_descriptor_writes_its_status),
		cmocka_unit_test(queue_wraps_around),
		cmocka_unit_test(queue_error_is_reported_and_recovered),
		cmocka_unit_test(interrupt_entry_cache_is_invalidated_by_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
