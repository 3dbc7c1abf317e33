/* SPDX-License-Identifier: BSD-2-Clause */
/* Enable and disable sequences, register values, bounded waits, pages, allocation. */
#define _POSIX_C_SOURCE 200809L
#include "amdvi_test.h"

#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void reg_write(uint64_t base, uint32_t off, uint64_t v)
{
	volatile unsigned char *r = moat_plat_mmio_map(base, SIM_MMIO_SIZE);

	assert_non_null(r);
	moat_plat_mmio_write64(r + off, v);
}

static int last_write(const struct sim_amdvi *s, uint32_t off)
{
	int last = -1;

	for (int i = 0; (i = sim_amdvi_find_write(s, off, (unsigned)i)) >= 0; i++)
		last = i;
	return last;
}

static void enable_programs_the_documented_register_values(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);
	const uint64_t len8 = 8ull << 56;   /* 2^8 = 256 entries */

	/* firmware left interrupt enables, a time-out and bit 22 on; the IOMMU itself off */
	s->control = SIM_CTL_EVT_INT_EN | (4ull << 5) | (1ull << 22);
	assert_int_equal(moat_amdvi_enable(&u, &diag), MOAT_OK);
	assert_true(u.enabled);

	/* device table base | (pages - 1): 0x180 entries = 3 pages */
	assert_int_equal(u.dt_phys & 0xfff, 0);
	assert_int_equal(s->devtab, u.dt_phys | 2);
	/* command buffer and event log: base | (log2 entries << 56) */
	assert_int_equal(s->cmdbase, u.cmd_phys | len8);
	assert_int_equal(s->evtbase, u.evt_phys | len8);
	/* exclusion range off */
	assert_int_equal(s->exclbase & 1, 0);
	/* control: IommuEn, EventLogEn, CmdBufEn, HtTunEn (IVHD flag), bit 22 kept, the rest cleared */
	assert_int_equal(s->control, SIM_CTL_IOMMU_EN | SIM_CTL_EVTLOG_EN | SIM_CTL_CMDBUF_EN | SIM_CTL_HT_TUN_EN |
					     (1ull << 22));
	assert_true(s->status & SIM_STS_CMD_RUN);
	assert_true(s->status & SIM_STS_EVT_RUN);

	/* order: every base and pointer before the control write that turns the IOMMU on */
	int ctl = sim_amdvi_find_write(s, SIM_CONTROL, 0);
	assert_true(ctl >= 0);
	assert_true(s->log[ctl].value & SIM_CTL_IOMMU_EN);
	static const uint32_t before_ctl[] = { SIM_DEVTAB, SIM_CMDBASE, SIM_EVTBASE, SIM_CMDHEAD, SIM_CMDTAIL,
					       SIM_EVTHEAD, SIM_EVTTAIL, SIM_EXCLBASE, SIM_EXCLLIMIT, SIM_STATUS };
	for (unsigned i = 0; i < sizeof(before_ctl) / sizeof(before_ctl[0]); i++) {
		int w = sim_amdvi_find_write(s, before_ctl[i], 0);
		if (w < 0 || w > ctl)
			fail_msg("register 0x%x not written before the control write", before_ctl[i]);
	}
	assert_int_equal(s->log[sim_amdvi_find_write(s, SIM_CMDHEAD, 0)].value, 0);
	assert_int_equal(s->log[sim_amdvi_find_write(s, SIM_EVTTAIL, 0)].value, 0);
	/* then one INVALIDATE_IOMMU_ALL and the completion wait */
	assert_int_equal(s->ncmds, 2);
	assert_int_equal(s->cmds[0][0], 8ull << 60);
	assert_int_equal(s->cmds[0][1], 0);
	assert_int_equal(s->cmds[1][0] >> 60, 1);
	assert_int_equal(*(uint64_t *)moat_plat_phys_to_virt(u.sem_phys), 1);
	assert_true(last_write(s, SIM_CMDTAIL) > ctl);
	assert_int_equal(s->violations, 0);
	assert_int_equal(s->bad_access, 0);
	/* default deny */
	assert_int_equal(check_all_entries(s, NULL, 0), 0x180);
	/* enabling twice is refused */
	assert_int_equal(moat_amdvi_enable(&u, &diag), MOAT_ERR_STATE);
	unit_teardown(&u, s);
}

static void ivhd_flags_set_their_control_bits(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;

	td_qemu_like(&t, 0x10, 0);
	t.units[0].ivhd_flags = IVHDF_PASS_PW | IVHDF_RES_PASS_PW | IVHDF_ISOC | IVHDF_COHERENT;
	struct sim_amdvi *s = unit_setup_desc(&u, &t, 0, EFR_QEMU);

	s->control = SIM_CTL_HT_TUN_EN;    /* not asked for by the IVHD: turned off */
	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	assert_int_equal(s->control, SIM_CTL_IOMMU_EN | SIM_CTL_EVTLOG_EN | SIM_CTL_CMDBUF_EN | SIM_CTL_PASS_PW |
					     SIM_CTL_RES_PASS_PW | SIM_CTL_ISOC | SIM_CTL_COHERENT);
	unit_teardown(&u, s);
}

static void enable_without_ia_invalidates_every_entry_and_domain(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU_NO_IA);

	assert_false(u.caps.ia);
	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	assert_int_equal(s->op_count[8], 0);
	assert_int_equal(s->op_count[2], 0x180);      /* every entry of the table */
	assert_int_equal(s->op_count[3], 65536);      /* every domain id */
	assert_int_equal(s->op_count[1], 1);
	assert_true(s->cmd_wraps >= (0x180 + 65536) / 256);
	/* the first ones, in order: entries 0, 1, 2 ... */
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(s->cmds[i][0], (2ull << 60) | i);
	assert_int_equal(s->illegal_cmds, 0);
	assert_int_equal(s->violations, 0);
	unit_teardown(&u, s);
}

static void firmware_enabled_iommu_is_stopped_before_reprogramming(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);

	/* firmware: IOMMU, command buffer and event log on; an exclusion range enabled */
	reg_write(SIM_BASE, SIM_EXCLBASE, 0x80000000ull | 3);
	reg_write(SIM_BASE, SIM_EXCLLIMIT, 0x8fffffffull);
	reg_write(SIM_BASE, SIM_CONTROL, SIM_CTL_IOMMU_EN | SIM_CTL_CMDBUF_EN | SIM_CTL_EVTLOG_EN);
	assert_true(s->status & SIM_STS_CMD_RUN);
	unsigned mark = s->nlog;

	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	int stop = sim_amdvi_find_write(s, SIM_CONTROL, mark);
	int devtab = sim_amdvi_find_write(s, SIM_DEVTAB, mark);
	assert_true(stop >= 0 && devtab > stop);
	assert_int_equal(s->log[stop].value & (SIM_CTL_IOMMU_EN | SIM_CTL_CMDBUF_EN | SIM_CTL_EVTLOG_EN), 0);
	assert_int_equal(s->log[devtab].control & SIM_CTL_IOMMU_EN, 0);
	assert_int_equal(s->exclbase, 0);
	assert_int_equal(s->excllimit, 0);
	assert_int_equal(s->violations, 0);
	assert_true(s->control & SIM_CTL_IOMMU_EN);
	unit_teardown(&u, s);
}

static void stuck_status_bits_time_out_quickly_and_name_the_bit(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);

	s->run_stuck = true;
	double t0 = now_s();
	assert_int_equal(moat_amdvi_enable(&u, &diag), MOAT_ERR_TIMEOUT);
	assert_true(now_s() - t0 < 0.5);
	assert_int_equal(diag.offset, 0x2020);
	assert_non_null(strstr(diag.msg, "Status.CmdBufRun set"));
	assert_false(u.enabled);
	/* the hardware is on although enable failed: the pages may not be freed under it */
	assert_int_equal(moat_amdvi_release(&u), MOAT_ERR_BUSY);
	s->run_stuck = false;
	assert_int_equal(moat_amdvi_disable(&u, &diag), MOAT_OK);

	/* run bits that never clear: disable and a later enable time out on the clear */
	assert_int_equal(moat_amdvi_enable(&u, &diag), MOAT_OK);
	s->stop_stuck = true;
	t0 = now_s();
	assert_int_equal(moat_amdvi_disable(&u, &diag), MOAT_ERR_TIMEOUT);
	assert_true(now_s() - t0 < 0.5);
	assert_non_null(strstr(diag.msg, "Status.CmdBufRun clear"));
	assert_true(u.enabled);
	assert_int_equal(moat_amdvi_release(&u), MOAT_ERR_BUSY);
	unit_teardown(&u, s);
}

static void disable_turns_everything_off_and_release_frees_every_page(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;
	uint64_t live = moat_hosted_stats().pages_live;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);

	assert_int_equal(moat_amdvi_enable(&u, &diag), MOAT_OK);
	assert_int_equal(moat_hosted_stats().pages_live, live + 3 + 3);   /* 3 table pages, cmd, sem, log */
	assert_int_equal(moat_amdvi_release(&u), MOAT_ERR_BUSY);
	assert_int_equal(moat_amdvi_disable(&u, &diag), MOAT_OK);
	assert_false(u.enabled);
	assert_int_equal(s->control & (SIM_CTL_IOMMU_EN | SIM_CTL_CMDBUF_EN | SIM_CTL_EVTLOG_EN), 0);
	assert_int_equal(s->status & (SIM_STS_CMD_RUN | SIM_STS_EVT_RUN), 0);
	assert_int_equal(moat_amdvi_disable(&u, &diag), MOAT_OK);       /* twice is fine */
	/* enable again after disable: tables kept, rings reset */
	assert_int_equal(moat_amdvi_enable(&u, &diag), MOAT_OK);
	assert_int_equal(moat_hosted_stats().pages_live, live + 6);
	assert_int_equal(moat_amdvi_disable(&u, &diag), MOAT_OK);
	assert_int_equal(moat_amdvi_release(&u), MOAT_OK);
	assert_int_equal(moat_hosted_stats().pages_live, live);
	assert_int_equal(u.state, MOAT_AMDVI_UNPROBED);
	assert_int_equal(moat_amdvi_release(&u), MOAT_ERR_STATE);
	assert_int_equal(moat_amdvi_enable(&u, &diag), MOAT_ERR_STATE);
	assert_int_equal(moat_amdvi_disable(&u, &diag), MOAT_ERR_STATE);
	sim_amdvi_free(s);
}

static void pages_lists_every_page_the_unit_holds(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	uint64_t phys[8];
	unsigned n = 0;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);

	assert_int_equal(moat_amdvi_pages(&u, phys, 8, &n), MOAT_OK);
	assert_int_equal(n, 0);
	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_amdvi_pages(&u, phys, 2, &n), MOAT_ERR_NO_SPACE);
	assert_int_equal(n, 6);
	assert_int_equal(moat_amdvi_pages(&u, NULL, 0, &n), MOAT_ERR_NO_SPACE);
	assert_int_equal(n, 6);
	assert_int_equal(moat_amdvi_pages(&u, phys, 8, &n), MOAT_OK);
	assert_int_equal(n, 6);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(phys[i], u.dt_phys + i * 4096ull);
	assert_int_equal(phys[3], u.cmd_phys);
	assert_int_equal(phys[4], u.sem_phys);
	assert_int_equal(phys[5], u.evt_phys);
	assert_int_equal(moat_amdvi_pages(&u, NULL, 1, &n), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_pages(&u, phys, 8, NULL), MOAT_ERR_INVALID_ARG);
	unit_teardown(&u, s);
	assert_int_equal(moat_amdvi_pages(&u, phys, 8, &n), MOAT_ERR_STATE);
}

static void allocation_failure_is_reported_and_recoverable(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;
	uint64_t live = moat_hosted_stats().pages_live;

	/* the 1st .. 6th page of the enable fails (3 table pages, command buffer, semaphore, log) */
	for (uint64_t at = 1; at <= 6; at++) {
		struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);

		moat_hosted_fail_alloc_at(at, 1);
		assert_int_equal(moat_amdvi_enable(&u, &diag), MOAT_ERR_NO_MEMORY);
		moat_hosted_fail_alloc_at(0, 0);
		assert_false(u.enabled);
		assert_int_equal(s->nlog, 0);                 /* nothing written to the IOMMU */
		/* the next attempt succeeds with what was kept */
		assert_int_equal(moat_amdvi_enable(&u, &diag), MOAT_OK);
		assert_int_equal(check_all_entries(s, NULL, 0), 0x180);
		unit_teardown(&u, s);
		assert_int_equal(moat_hosted_stats().pages_live, live);
	}
}

/* Sort pages by physical address (insertion sort: a few thousand pages). */
static void sort_by_phys(void **virt, uint64_t *phys, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && phys[j - 1] > phys[j]; j--) {
			uint64_t tp = phys[j];
			void *tv = virt[j];

			phys[j] = phys[j - 1];
			virt[j] = virt[j - 1];
			phys[j - 1] = tp;
			virt[j - 1] = tv;
		}
}

/* The device table must be physically contiguous, whatever order the allocator hands pages out in. */
static void device_table_is_contiguous_from_any_allocator_order(void **state)
{
	(void)state;
	enum { N = 700 };
	static void *virt[N];
	static uint64_t phys[N];

	moat_hosted_fail_alloc_at(0, 0);

	for (int round = 0; round < 3; round++) {
		/* round 0: whatever the allocator gives; 1: pages freed in ascending order, so the LIFO free
		 * list hands them back descending; 2: the same with holes (every third page) */
		for (int i = 0; i < N; i++)
			assert_non_null(virt[i] = moat_plat_page_alloc(&phys[i]));
		sort_by_phys(virt, phys, N);
		bool top_contiguous = phys[N - 1] - phys[N - 512] == 511 * 4096ull;
		for (int i = 0; i < N; i++)
			if (round == 1 || (round == 2 && (i % 3) == 0))
				moat_plat_page_free(virt[i], phys[i]);

		struct moat_amdvi_unit u;
		struct test_desc t;
		struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);

		assert_int_equal(moat_amdvi_set_devtab_entries(&u, 65536, NULL), MOAT_OK);
		assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
		for (uint32_t p = 0; p < 512; p++)
			assert_ptr_equal(u.dt_page[p], moat_plat_phys_to_virt(u.dt_phys + p * 4096ull));
		if (round == 1 && top_contiguous)
			assert_int_equal(u.dt_phys, phys[N - 512]);   /* built downwards from the highest page */
		assert_int_equal(check_all_entries(s, NULL, 0), 65536);
		unit_teardown(&u, s);
		for (int i = 0; i < N; i++)
			if (!(round == 1 || (round == 2 && (i % 3) == 0)))
				moat_plat_page_free(virt[i], phys[i]);
	}
}

/* An allocator that never hands out neighbours: the search is bounded and gives everything back. */
static void device_table_search_is_bounded(void **state)
{
	(void)state;
	enum { N = 4400 };
	static void *virt[N];
	static uint64_t phys[N];
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;

	moat_hosted_fail_alloc_at(0, 0);
	for (int i = 0; i < N; i++)
		assert_non_null(virt[i] = moat_plat_page_alloc(&phys[i]));
	/* free every other page: the free list now holds 2200 pages, no two adjacent */
	sort_by_phys(virt, phys, N);
	for (int i = 0; i < N; i += 2)
		moat_plat_page_free(virt[i], phys[i]);
	uint64_t live = moat_hosted_stats().pages_live;
	struct moat_hosted_stats before = moat_hosted_stats();
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);

	assert_int_equal(moat_amdvi_set_devtab_entries(&u, 65536, NULL), MOAT_OK);
	assert_int_equal(moat_amdvi_enable(&u, &diag), MOAT_ERR_NO_MEMORY);
	assert_non_null(strstr(diag.msg, "contiguous"));
	assert_int_equal(moat_hosted_stats().pages_live, live);
	assert_int_equal(moat_hosted_stats().pages_allocated - before.pages_allocated, 2 * 512 + 1024);
	assert_int_equal(s->nlog, 0);
	assert_int_equal(u.dt_phys, 0);
	unit_teardown(&u, s);
	for (int i = 1; i < N; i += 2)
		moat_plat_page_free(virt[i], phys[i]);
	/* leave the free list in order for the tests after this one: take every page back and free
	 * them by address */
	for (int i = 0; i < N; i++)
		assert_non_null(virt[i] = moat_plat_page_alloc(&phys[i]));
	sort_by_phys(virt, phys, N);
	for (int i = 0; i < N; i++)
		moat_plat_page_free(virt[i], phys[i]);
}

static void non_coherent_units_flush_what_they_write(void **state)
{
	(void)state;
	for (int coherent = 0; coherent < 2; coherent++) {
		struct moat_amdvi_unit u;
		struct test_desc t;

		td_qemu_like(&t, 0x10, 0);
		t.units[0].ivhd_flags = coherent ? IVHDF_COHERENT : 0;
		struct sim_amdvi *s = unit_setup_desc(&u, &t, 0, EFR_QEMU);

		assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
		uint64_t before = moat_hosted_stats().cache_line_flushes;
		assert_int_equal(moat_amdvi_attach(&u, 0x10, 3, 0x7f000100000ull, 4, NULL), MOAT_OK);
		uint64_t flushes = moat_hosted_stats().cache_line_flushes - before;
		if (coherent)
			assert_int_equal(flushes, 0);
		else
			assert_true(flushes >= 3);    /* the entry, the commands, the semaphore */
		assert_int_equal((s->control & SIM_CTL_COHERENT) != 0, coherent);
		unit_teardown(&u, s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(enable_programs_the_documented_register_values),
		cmocka_unit_test(ivhd_flags_set_their_control_bits),
		cmocka_unit_test(enable_without_ia_invalidates_every_entry_and_domain),
		cmocka_unit_test(firmware_enabled_iommu_is_stopped_before_reprogramming),
		cmocka_unit_test(stuck_status_bits_time_out_quickly_and_name_the_bit),
		cmocka_unit_test(disable_turns_everything_off_and_release_frees_every_page),
		cmocka_unit_test(pages_lists_every_page_the_unit_holds),
		cmocka_unit_test(allocation_failure_is_reported_and_recoverable),
		cmocka_unit_test(device_table_is_contiguous_from_any_allocator_order),
		cmocka_unit_test(device_table_search_is_bounded),
		cmocka_unit_test(non_coherent_units_flush_what_they_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
