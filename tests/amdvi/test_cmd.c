/* SPDX-License-Identifier: BSD-2-Clause */
/* The command buffer: encodings bit by bit, completion waits, ring wrap-around, full ring,
 * time-outs, illegal commands. */
#define _POSIX_C_SOURCE 200809L
#include "amdvi_test.h"

#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct sim_amdvi *enabled_unit(struct moat_amdvi_unit *u, struct test_desc *t, uint64_t efr)
{
	struct sim_amdvi *s = unit_setup(u, t, efr);

	assert_int_equal(moat_amdvi_enable(u, NULL), MOAT_OK);
	return s;
}

/* COMPLETION_WAIT (section 2.4.1): opcode 1 in 63:60, S bit 0, I bit 1, F bit 2, store address
 * 51:3 in the first quadword; the store data is the second. */
static void completion_wait_is_encoded_and_its_store_observed(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = enabled_unit(&u, &t, EFR_QEMU);
	const uint64_t *sem = moat_plat_phys_to_virt(u.sem_phys);

	for (unsigned i = 0; i < 3; i++) {
		unsigned mark = s->ncmds;
		uint64_t expect = u.sem_seq + 1;

		assert_int_equal(moat_amdvi_completion_wait(&u, NULL), MOAT_OK);
		assert_int_equal(s->ncmds - mark, 1);
		uint64_t lo = s->cmds[mark][0], hi = s->cmds[mark][1];
		assert_int_equal(lo >> 60, 1);
		assert_int_equal(lo & 1, 1);                            /* S: store */
		assert_int_equal((lo >> 1) & 1, 0);                     /* I: no interrupt */
		assert_int_equal((lo >> 2) & 1, 0);                     /* F */
		assert_int_equal(lo & 0x000ffffffffffff8ull, u.sem_phys);
		assert_int_equal((lo >> 52) & 0xff, 0);                 /* reserved */
		assert_int_equal(hi, expect);
		assert_int_equal(*sem, expect);                        /* the store arrived */
	}
	assert_int_equal(s->status & SIM_STS_COMWAIT_INT, 0);
	unit_teardown(&u, s);
}

/* INVALIDATE_DEVTAB_ENTRY (section 2.4.2): opcode 2, device id 15:0, everything else zero. */
static void invalidate_devtab_entry_is_encoded(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;
	struct sim_amdvi *s = enabled_unit(&u, &t, EFR_QEMU);

	unsigned mark = s->ncmds;
	assert_int_equal(moat_amdvi_inval_devtab(&u, 0xabcd, &diag), MOAT_OK);
	assert_int_equal(s->ncmds - mark, 2);
	assert_int_equal(s->cmds[mark][0], 0x200000000000abcdull);
	assert_int_equal(s->cmds[mark][1], 0);
	assert_int_equal(s->cmds[mark + 1][0] >> 60, 1);
	assert_int_equal(moat_amdvi_inval_devtab(&u, 0x10000, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(s->ncmds - mark, 2);
	unit_teardown(&u, s);
}

/*
 * INVALIDATE_IOMMU_PAGES (section 2.4.3): opcode 3, domain id 47:32, PASID 19:0 (0); second
 * quadword: S bit 0, PDE bit 1, GN bit 2, address 63:12. With S = 1 the block is 2^(z + 1) bytes
 * where z is the lowest clear address bit from bit 12; the whole space is 7FFF_FFFF_FFFF_F000h.
 */
static void covered(uint64_t hi, uint64_t *base, uint64_t *size)
{
	uint64_t addr = hi & ~0xfffull;

	if (!(hi & 1)) {
		*base = addr;
		*size = 4096;
		return;
	}
	unsigned z = 12;
	while (z < 64 && ((addr >> z) & 1))
		z++;
	if (z >= 63) {
		*base = 0;
		*size = 0;          /* everything */
		return;
	}
	*size = 1ull << (z + 1);
	*base = addr & ~(*size - 1);
}

static void range_invalidations_use_the_smallest_covering_block(void **state)
{
	(void)state;
	static const struct {
		uint64_t iova, size;
		bool pde;
		uint64_t hi;            /* the expected second quadword */
	} cases[] = {
		{ 0x5000, 0x1000, false, 0x5000 },                         /* one page: S = 0 */
		{ 0x1234, 0x10, false, 0x1000 },                           /* bytes inside a page */
		{ 0x4000, 0x2000, false, 0x4001 },                         /* 8 KiB: bit 12 clear */
		{ 0x200000, 0x200000, false, 0x2ff001 },                   /* 2 MiB: bits 12..19 set, 20 clear */
		{ 0x3800, 0x2000, false, 0x3001 },                         /* pages 3..5: the 32 KiB block at 0 */
		{ 0x1ff000, 0x2000, false, 0x1ff001 },                     /* across 2 MiB: the 4 MiB block at 0 */
		{ 0x40000000, 0x40000000, true, 0x5ffff003 },              /* 1 GiB with PDE */
		{ 0x7000, 0, false, 0x7ffffffffffff001ull },               /* size 0: the whole domain */
		{ 0, 1ull << 52, true, 0x7ffffffffffff003ull },            /* beyond 2^51 bytes: the whole domain */
		{ 0x0007ffffffff0000ull, 0x10000, false, 0x0007ffffffff7001ull }, /* high, 64 KiB aligned */
	};
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = enabled_unit(&u, &t, EFR_QEMU);

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned mark = s->ncmds;

		assert_int_equal(moat_amdvi_invalidate(&u, 0x4321, cases[i].iova, cases[i].size, cases[i].pde, NULL), MOAT_OK);
		assert_int_equal(s->ncmds - mark, 2);
		uint64_t lo = s->cmds[mark][0], hi = s->cmds[mark][1];
		assert_int_equal(lo, (3ull << 60) | (0x4321ull << 32));
		if (hi != cases[i].hi)
			fail_msg("case %u: 0x%llx, expected 0x%llx", i, (unsigned long long)hi, (unsigned long long)cases[i].hi);
		assert_int_equal(hi & 4, 0);                           /* GN */
		assert_int_equal((hi & 0xff8) & ~0ull, 0);             /* reserved 11:3 */
		/* the block covers the range, and no smaller aligned block would */
		uint64_t base, size;
		covered(hi, &base, &size);
		if (size && cases[i].size) {
			uint64_t last = cases[i].iova + cases[i].size - 1;
			assert_true(base <= cases[i].iova && last <= base + size - 1);
			if (size > 4096) {
				uint64_t half = size / 2;
				assert_true((cases[i].iova & ~(half - 1)) != (last & ~(half - 1)));
			}
		}
		assert_int_equal(s->cmds[mark + 1][0] >> 60, 1);
	}
	assert_int_equal(s->illegal_cmds, 0);
	unit_teardown(&u, s);
}

static void raw_page_invalidation_checks_its_block(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;
	struct sim_amdvi *s = enabled_unit(&u, &t, EFR_QEMU);

	unsigned mark = s->ncmds;
	assert_int_equal(moat_amdvi_inval_pages(&u, 1, 0x10000, 4, false, &diag), MOAT_OK);
	assert_int_equal(s->cmds[mark][1], 0x17001);                /* 64 KiB: bits 12..14 set, 15 clear */
	assert_int_equal(moat_amdvi_inval_pages(&u, 1, 0x3000, 0, true, &diag), MOAT_OK);
	assert_int_equal(s->cmds[mark + 2][1], 0x3002);
	assert_int_equal(moat_amdvi_inval_pages(&u, 1, 0xdead000, 40, false, &diag), MOAT_OK);
	assert_int_equal(s->cmds[mark + 4][1], 0x7ffffffffffff001ull);
	mark = s->ncmds;
	assert_int_equal(moat_amdvi_inval_pages(&u, 1, 0x11000, 4, false, &diag), MOAT_ERR_ALIGNMENT);
	assert_int_equal(moat_amdvi_inval_pages(&u, 0x10000, 0, 0, false, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_invalidate(&u, 0x10000, 0, 0, false, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_invalidate(&u, 1, ~0ull - 0xfff, 0x2000, false, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(s->ncmds, mark);
	unit_teardown(&u, s);
}

/* INVALIDATE_IOMMU_ALL (section 2.4.8) only with EFR.IASup; the fallback covers the same ground. */
static void invalidate_all_is_used_only_when_supported(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = enabled_unit(&u, &t, EFR_QEMU);

	unsigned mark = s->ncmds;
	assert_int_equal(moat_amdvi_inval_all(&u, NULL), MOAT_OK);
	assert_int_equal(s->ncmds - mark, 2);
	assert_int_equal(s->cmds[mark][0], 0x8000000000000000ull);
	assert_int_equal(s->cmds[mark][1], 0);
	unit_teardown(&u, s);

	s = enabled_unit(&u, &t, EFR_QEMU_NO_IA);
	unsigned dte = s->op_count[2], pages = s->op_count[3];
	assert_int_equal(moat_amdvi_inval_all(&u, NULL), MOAT_OK);
	assert_int_equal(s->op_count[8], 0);
	assert_int_equal(s->op_count[2] - dte, 0x180);
	assert_int_equal(s->op_count[3] - pages, 65536);
	assert_int_equal(s->illegal_cmds, 0);
	unit_teardown(&u, s);
}

/* Commands executed only a few at a time: the ring fills, wraps, and nothing is lost or reordered. */
static void the_ring_wraps_and_waits_for_space(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = enabled_unit(&u, &t, EFR_QEMU_NO_IA);

	s->lazy = 3;
	s->ncmds = 0;    /* the enable's fallback filled the record */
	unsigned mark = s->ncmds, wraps = s->cmd_wraps;
	for (unsigned i = 0; i < 700; i++)
		assert_int_equal(moat_amdvi_invalidate(&u, i + 1, (uint64_t)i << 12, 0x1000, false, NULL), MOAT_OK);
	assert_int_equal(s->ncmds - mark, 1400);
	for (unsigned i = 0; i < 700; i++) {
		assert_int_equal(s->cmds[mark + 2 * i][0], (3ull << 60) | ((uint64_t)(i + 1) << 32));
		assert_int_equal(s->cmds[mark + 2 * i][1], (uint64_t)i << 12);
		assert_int_equal(s->cmds[mark + 2 * i + 1][1], u.sem_seq - 699 + i);
	}
	assert_true(s->cmd_wraps - wraps >= 5);
	/* one batch far larger than the ring: the fallback invalidation of everything */
	unsigned pages = s->op_count[3];
	assert_int_equal(moat_amdvi_inval_all(&u, NULL), MOAT_OK);
	assert_int_equal(s->op_count[3] - pages, 65536);
	assert_int_equal(s->violations, 0);
	assert_int_equal(s->illegal_cmds, 0);
	unit_teardown(&u, s);
}

static void a_stuck_processor_times_out_quickly(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;
	struct sim_amdvi *s = enabled_unit(&u, &t, EFR_QEMU_NO_IA);

	s->cmd_stuck = true;
	double t0 = now_s();
	assert_int_equal(moat_amdvi_completion_wait(&u, &diag), MOAT_ERR_TIMEOUT);
	assert_true(now_s() - t0 < 0.5);
	assert_int_equal(diag.offset, 0x2000);
	assert_non_null(strstr(diag.msg, "COMPLETION_WAIT"));
	assert_non_null(strstr(diag.msg, "Head Pointer"));
	/* a batch that needs the ring to drain: "buffer full" */
	t0 = now_s();
	assert_int_equal(moat_amdvi_inval_all(&u, &diag), MOAT_ERR_TIMEOUT);
	assert_true(now_s() - t0 < 0.5);
	assert_non_null(strstr(diag.msg, "buffer full"));
	assert_int_equal(diag.offset, 0x2000);
	/* once it runs again, the next wait completes (the queued commands run first) */
	s->cmd_stuck = false;
	assert_int_equal(moat_amdvi_completion_wait(&u, &diag), MOAT_OK);
	assert_int_equal(*(uint64_t *)moat_plat_phys_to_virt(u.sem_phys), u.sem_seq);
	unit_teardown(&u, s);
}

static void an_illegal_command_is_reported_and_the_buffer_restarted(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;
	struct sim_amdvi *s = enabled_unit(&u, &t, EFR_QEMU);

	uint32_t at = u.cmd_tail;
	s->illegal_at = 1;
	assert_int_equal(moat_amdvi_invalidate(&u, 5, 0x1000, 0x1000, false, &diag), MOAT_ERR_HARDWARE);
	assert_int_equal(diag.offset, 0x2020);
	assert_non_null(strstr(diag.msg, "CmdBufRun"));
	assert_non_null(strstr(diag.msg, "opcode 0x3"));
	assert_int_equal(s->illegal_cmds, 1);
	/* the IOMMU logged it: ILLEGAL_COMMAND_ERROR with the command's address */
	struct moat_fault f[4];
	struct moat_fault_poll res;
	assert_int_equal(moat_amdvi_event_poll(&u, f, 4, &res), MOAT_OK);
	assert_int_equal(res.count, 1);
	assert_int_equal(f[0].reason, 5);
	assert_int_equal(f[0].address, u.cmd_phys + at * 16ull);
	assert_int_equal(f[0].fault_class, MOAT_FAULT_INVALID_USE);
	/* the buffer runs again and the next commands complete */
	assert_true(s->status & SIM_STS_CMD_RUN);
	assert_int_equal(moat_amdvi_invalidate(&u, 5, 0x1000, 0x1000, false, &diag), MOAT_OK);
	assert_int_equal(moat_amdvi_completion_wait(&u, &diag), MOAT_OK);
	assert_int_equal(s->violations, 0);
	unit_teardown(&u, s);
}

static void commands_need_an_enabled_unit(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct moat_diag diag;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);

	assert_int_equal(moat_amdvi_completion_wait(&u, &diag), MOAT_ERR_STATE);
	assert_int_equal(moat_amdvi_inval_devtab(&u, 1, &diag), MOAT_ERR_STATE);
	assert_int_equal(moat_amdvi_inval_pages(&u, 1, 0, 0, false, &diag), MOAT_ERR_STATE);
	assert_int_equal(moat_amdvi_inval_all(&u, &diag), MOAT_ERR_STATE);
	/* invalidate before enable has nothing to do: enable invalidates everything */
	assert_int_equal(moat_amdvi_invalidate(&u, 1, 0, 0x1000, false, &diag), MOAT_OK);
	assert_int_equal(s->nlog, 0);
	unit_teardown(&u, s);
	assert_int_equal(moat_amdvi_invalidate(&u, 1, 0, 0x1000, false, &diag), MOAT_ERR_STATE);
	assert_int_equal(moat_amdvi_completion_wait(NULL, &diag), MOAT_ERR_STATE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(completion_wait_is_encoded_and_its_store_observed),
		cmocka_unit_test(invalidate_devtab_entry_is_encoded),
		cmocka_unit_test(range_invalidations_use_the_smallest_covering_block),
		cmocka_unit_test(raw_page_invalidation_checks_its_block),
		cmocka_unit_test(invalidate_all_is_used_only_when_supported),
		cmocka_unit_test(the_ring_wraps_and_waits_for_space),
		cmocka_unit_test(a_stuck_processor_times_out_quickly),
		cmocka_unit_test(an_illegal_command_is_reported_and_the_buffer_restarted),
		cmocka_unit_test(commands_need_an_enabled_unit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
