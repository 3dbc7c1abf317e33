/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AMD-Vi pages a device of the host identity domain can write, from the moment the platform hands
 * them out until Moat takes them out of that domain, must never be trusted: a unit's device table,
 * command buffer, completion-wait semaphore and event log at bring-up. The hostile device of
 * tests/support/hostile.h writes into every page it reaches; what it reaches is read from the
 * simulated IOMMUs' device tables (tests/amdvi/sim_amdvi.c). The host device translates through the
 * first unit, attached before moat_setup_enable() (which keeps it), so the second unit's pages come
 * from the platform while it translates. Each test ends with the device reaching nothing protected
 * and no page Moat holds, and with the audit clean.
 */
#include "../acpi/test_ivrs_builder.h"
#include "../amdvi/amdvi_test.h"

#include <moat/internal/unit.h>
#include <moat/setup.h>

#include "hostile.h"

#define DEV_A 0x0010u          /* 00:02.0 on segment 0: the host's device, through unit 0 */
#define DEV_C 0x0020u          /* 00:04.0 on segment 1: through unit 1 ("all" entry) */
#define IVINFO_QEMU ((48u << 8) | (64u << 15))   /* PASize 48, VASize 64 */
#define OP_COMPLETION_WAIT 1u
#define RIDS_MAX 65536u

struct afx {
	struct ivrs_builder b;
	struct moat_sysdesc desc;
	struct moat_unit_desc units[2];
	struct moat_devset devsets[8];
	struct sim_amdvi *sim[2];
	struct moat_setup ms;
	struct moat_setup_unit su[2];
	struct moat_domain host;
};

/* Two IVHDs (10h): unit 0 on segment 0 with select entries, unit 1 on segment 1 with an "all" entry;
 * a host identity domain over the arena (every page Moat gets is host RAM) with DEV_A attached,
 * nothing enabled yet. */
static struct afx *afx_new(void)
{
	const struct moat_mem_range map[] = { { MOAT_HOSTED_PHYS_BASE, MOAT_HOSTED_ARENA_BYTES, MOAT_MEM_RAM } };
	struct afx *f = calloc(1, sizeof(*f));
	struct moat_diag diag;
	moat_status st;

	assert_non_null(f);
	ivrs_begin(&f->b, 2, IVINFO_QEMU);
	ivrs_ivhd(&f->b, 0x10, 0, 0x0008, 0x40, SIM_BASE, 0, 0, 0, 0);
	ivrs_entry4(&f->b, MOAT_IVHD_ENTRY_SELECT, 0x0000, 0);
	ivrs_entry4(&f->b, MOAT_IVHD_ENTRY_SELECT, DEV_A, 0);
	ivrs_ivhd(&f->b, 0x10, 0, 0x0008, 0x40, SIM_BASE2, 1, 0, 0, 0);
	ivrs_entry4(&f->b, MOAT_IVHD_ENTRY_ALL, 0, 0);
	ivrs_finish(&f->b);
	f->desc = (struct moat_sysdesc){ .units = f->units, .units_cap = 2, .devsets = f->devsets, .devsets_cap = 8 };
	st = moat_acpi_describe_ivrs(f->b.buf, f->b.len, &f->desc, &diag);
	if (st != MOAT_OK)
		fail_msg("describe: %s: %s", moat_status_str(st), diag.msg);
	f->sim[0] = sim_amdvi_new(SIM_BASE, EFR_QEMU);
	f->sim[1] = sim_amdvi_new(SIM_BASE2, EFR_QEMU);
	st = moat_setup_init(&f->ms, f->su, 2, &f->desc, 0, &diag);
	if (st != MOAT_OK)
		fail_msg("moat_setup_init: %s: %s", moat_status_str(st), diag.msg);
	for (unsigned i = 0; i < 2; i++)
		f->su[i].hw.amdvi.timeout_ns = 200 * TEST_TIMEOUT_NS;   /* working hardware, a slow one included */
	hostile_watch(&f->ms.sys, NULL);
	assert_int_equal(moat_domain_create(&f->ms.sys, &f->host), MOAT_OK);
	st = moat_protect_host(&f->host, map, 1, NULL, &diag);
	if (st != MOAT_OK)
		fail_msg("moat_protect_host: %s: %s", moat_status_str(st), diag.msg);
	st = moat_domain_attach(&f->host, 0, DEV_A, &diag);
	if (st != MOAT_OK)
		fail_msg("attach of the host's device: %s: %s", moat_status_str(st), diag.msg);
	return f;
}

static void afx_enable(struct afx *f)
{
	struct moat_diag diag;
	moat_status st = moat_setup_enable(&f->ms, &diag);

	if (st != MOAT_OK)
		fail_msg("moat_setup_enable: %s: %s", moat_status_str(st), diag.msg);
}

static void afx_free(struct afx *f)
{
	hostile_stop();
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&f->host), MOAT_OK);
	hostile_unwatch(&f->ms.sys);
	for (unsigned i = 0; i < 2; i++)
		f->sim[i]->lazy = 0;
	assert_int_equal(moat_setup_fini(&f->ms, NULL), MOAT_OK);
	for (unsigned i = 0; i < 2; i++)
		sim_amdvi_free(f->sim[i]);
	free(f);
}

/* What driver page @phys of @u is, for messages. */
static const char *amd_page_name(const struct moat_amdvi_unit *u, uint64_t phys)
{
	if (phys == u->cmd_phys)
		return "command buffer";
	if (phys == u->sem_phys)
		return "completion-wait semaphore";
	if (phys == u->evt_phys)
		return "event log";
	return "device-table page";
}

/* No page a driver holds keeps what the device wrote into it. */
static void expect_driver_pages_clean(struct afx *f)
{
	unsigned dirty = 0;

	for (unsigned u = 0; u < 2; u++) {
		const struct moat_amdvi_unit *a = &f->su[u].hw.amdvi;
		uint64_t *pages = calloc(1024, sizeof(*pages));
		unsigned n = 0;

		assert_non_null(pages);
		assert_int_equal(moat_amdvi_pages(a, pages, 1024, &n), MOAT_OK);
		for (unsigned i = 0; i < n; i++) {
			if (!hostile_left_behind(pages[i]))
				continue;
			if (dirty++ < 16)
				fprintf(stderr, "unit %u: the %s at 0x%llx keeps what the device wrote into it\n", u,
					amd_page_name(a, pages[i]), (unsigned long long)pages[i]);
		}
		free(pages);
	}
	if (dirty)
		fail_msg("%u driver pages were used with what the device wrote into them", dirty);
}

/* Every COMPLETION_WAIT the driver took as done was carried out by the IOMMU (its store landed). */
static void expect_completions_carried_out(struct afx *f)
{
	for (unsigned u = 0; u < 2; u++) {
		const unsigned done = f->sim[u]->op_count[OP_COMPLETION_WAIT];
		const struct moat_amdvi_unit *a = &f->su[u].hw.amdvi;

		if (done < a->sem_seq)
			fail_msg("unit %u: the driver took %llu completion waits as done, the IOMMU carried out %u "
				 "(the semaphore at 0x%llx reads 0x%llx)", u, (unsigned long long)a->sem_seq, done,
				 (unsigned long long)a->sem_phys, (unsigned long long)*a->sem);
	}
}

/* Every page the IOMMUs were given (tables, rings, the semaphore they store to) was out of reach then. */
static void expect_handed_over_out_of_reach(struct afx *f)
{
	unsigned n = hostile_handovers();

	if (n) {
		hostile_check(&f->ms.sys);
		fail_msg("%u pages were given to an IOMMU while the host device could write them", n);
	}
}

/* Unit 1 has no device: its device table lets nobody through. */
static void expect_nobody_through_unit_1(struct afx *f)
{
	uint32_t *rids = calloc(RIDS_MAX, sizeof(*rids));
	unsigned n;

	assert_non_null(rids);
	n = hostile_requesters(f->sim[1], rids, RIDS_MAX);
	if (n)
		fail_msg("the IOMMU at 0x%llx lets %u device ids through (0x%04x first), none attached",
			 (unsigned long long)f->sim[1]->base, n, rids[0]);
	free(rids);
}

/* The end of every test: the hardware's view, then the audit. */
static void check_out_of_reach(struct afx *f)
{
	struct moat_audit_report *r = calloc(1, sizeof(*r));
	unsigned violations = hostile_check(&f->ms.sys);
	uint64_t n;

	assert_non_null(r);
	if (violations)
		fail_msg("the hostile device reaches %u protected or Moat-held pages (seed 0x%llx)", violations,
			 (unsigned long long)hostile_seed());
	n = moat_audit(&f->ms.sys, r);
	for (unsigned i = 0; i < r->count; i++) {
		char line[256];

		moat_audit_format(&r->v[i], line, sizeof(line));
		fprintf(stderr, "violation: %s\n", line);
	}
	assert_int_equal(r->status, MOAT_OK);
	assert_int_equal(n, 0);
	free(r);
}

/*
 * Path: at bring-up, the second unit's device table, command buffer, semaphore and event log come
 * from the platform, are given to the IOMMU and used (the invalidation of everything, waited for)
 * before they become Moat-owned. The device writes device-table entries into each as it is handed
 * out: the IOMMU must be given none of them within the device's reach, and none of what the device
 * wrote may end up used.
 */
static void amdvi_bring_up_pages_are_out_of_reach_before_the_iommu_uses_them(void **state)
{
	(void)state;
	struct afx *f = afx_new();

	hostile_start();
	hostile_set_content(HOSTILE_AMD_DTE);
	hostile_set_rate(0);
	afx_enable(f);

	expect_handed_over_out_of_reach(f);
	expect_nobody_through_unit_1(f);
	expect_completions_carried_out(f);
	expect_driver_pages_clean(f);
	check_out_of_reach(f);
	afx_free(f);
}

/*
 * Path: the completion-wait semaphore is never reset before use. With an IOMMU that carries out
 * commands a little later (one per register read), a value the device planted there must not make a
 * completion wait end before the IOMMU's store: every wait of bring-up, and the invalidation that
 * takes a page out of the host domain (moat_page_alloc() returns it out of the device's reach).
 */
static void a_completion_wait_ends_only_when_the_iommu_stored_its_value(void **state)
{
	(void)state;
	struct afx *f = afx_new();
	unsigned perm = 0;
	uint64_t phys;
	void *page;

	f->sim[0]->lazy = f->sim[1]->lazy = 1;
	hostile_start();
	hostile_set_content(HOSTILE_SEMAPHORE);
	hostile_set_rate(0);
	afx_enable(f);
	expect_completions_carried_out(f);

	/* the host device translates through unit 1 too now */
	assert_int_equal(moat_domain_attach(&f->host, 1, DEV_C, NULL), MOAT_OK);
	expect_completions_carried_out(f);
	page = moat_page_alloc(&f->ms.sys, &phys);
	assert_non_null(page);
	if (hostile_reaches(phys, &perm))
		fail_msg("the page moat_page_alloc() returned (0x%llx) is still within the device's reach (%s): its "
			 "invalidation had not been carried out", (unsigned long long)phys,
			 perm & MOAT_PT_WRITE ? "writable" : "readable");
	expect_completions_carried_out(f);
	moat_page_free(&f->ms.sys, page, phys);
	check_out_of_reach(f);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 1, DEV_C, NULL), MOAT_OK);
	afx_free(f);
}

/* One test per run when a name is given (each is its own CTest entry: a crash stays its own). */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(amdvi_bring_up_pages_are_out_of_reach_before_the_iommu_uses_them),
		cmocka_unit_test(a_completion_wait_ends_only_when_the_iommu_stored_its_value),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
