/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * VT-d pages a device of the host identity domain can write, from the moment the platform hands
 * them out until Moat takes them out of that domain, must never be trusted: a context table an
 * attach allocates, the bookkeeping of Moat-owned pages, a second unit's root table, invalidation
 * queue and wait-status page at bring-up. The hostile device of tests/support/hostile.h writes
 * into every page it reaches as the platform hands it out; what it reaches is read from the
 * simulated units' live tables (tests/vtd/sim_vtd.c: the latched root table, root and context
 * entries). Each test ends with that view reaching nothing protected and no page Moat holds, and
 * with the audit clean.
 */
#include "../vtd/vtd_test.h"

#include <moat/internal/unit.h>
#include <moat/setup.h>

#include "hostile.h"

#define SIM_BASE2 (SIM_BASE + 0x1000)
#define DEV_A MOAT_RID(0, 2, 0)        /* the host's device (unit 0) */
#define DEV_B MOAT_RID(1, 0, 0)        /* a device on bus 1 (unit 0 with one unit, unit 1 with two) */
#define NODE_BYTES (16ull << 20)       /* frames one bookkeeping leaf covers (src/core/track.c) */
#define RIDS_MAX 65536u

struct vfx {
	struct sim_vtd *sim[2];
	struct moat_unit_desc units[2];
	struct moat_devset devsets[1];
	struct moat_sysdesc desc;
	struct moat_setup ms;
	struct moat_setup_unit su[2];
	struct moat_domain host;
	unsigned n;
};

/* One unit for every device, or two: unit 0 names DEV_A, unit 1 takes every other device. Four
 * levels: the hosted arena lies above 2^39. */
static struct vfx *vfx_new(unsigned n)
{
	struct vfx *f = calloc(1, sizeof(*f));
	struct moat_diag diag;
	moat_status st;

	assert_non_null(f);
	f->n = n;
	for (unsigned i = 0; i < n; i++) {
		f->sim[i] = sim_vtd_new(i ? SIM_BASE2 : SIM_BASE, CAP_QEMU_AW48, ECAP_QEMU);
		f->units[i] = sim_vtd_desc(f->sim[i], 0);
	}
	if (n == 1) {
		f->units[0].flags = MOAT_UNIT_INCLUDE_ALL;
	} else {
		f->devsets[0] = (struct moat_devset){ .segment = 0, .first = DEV_A, .last = DEV_A, .alias = DEV_A };
		f->units[0].devset_count = 1;
		f->units[1].flags = MOAT_UNIT_INCLUDE_ALL;
		f->units[1].devset_first = 1;
	}
	f->desc.vendor = MOAT_VENDOR_VTD;
	f->desc.units = f->units;
	f->desc.units_cap = 2;
	f->desc.units_count = n;
	f->desc.devsets = f->devsets;
	f->desc.devsets_cap = f->desc.devsets_count = 1;
	st = moat_setup_init(&f->ms, f->su, 2, &f->desc, 0, &diag);
	if (st != MOAT_OK)
		fail_msg("moat_setup_init: %s: %s", moat_status_str(st), diag.msg);
	for (unsigned i = 0; i < n; i++)
		f->su[i].hw.vtd.timeout_ns = 200 * TEST_TIMEOUT_NS;   /* working hardware */
	hostile_watch(&f->ms.sys, NULL);
	assert_int_equal(moat_domain_create(&f->ms.sys, &f->host), MOAT_OK);
	return f;
}

static void vfx_enable(struct vfx *f)
{
	struct moat_diag diag;
	moat_status st = moat_setup_enable(&f->ms, &diag);

	if (st != MOAT_OK)
		fail_msg("moat_setup_enable: %s: %s", moat_status_str(st), diag.msg);
}

/* The host identity domain over the arena: every page Moat gets is host RAM. */
static void vfx_protect_host(struct vfx *f)
{
	const struct moat_mem_range map[] = { { MOAT_HOSTED_PHYS_BASE, MOAT_HOSTED_ARENA_BYTES, MOAT_MEM_RAM } };
	struct moat_diag diag;
	moat_status st = moat_protect_host(&f->host, map, 1, NULL, &diag);

	if (st != MOAT_OK)
		fail_msg("moat_protect_host: %s: %s", moat_status_str(st), diag.msg);
}

static void vfx_free(struct vfx *f)
{
	hostile_stop();
	assert_int_equal(moat_domain_destroy(&f->host), MOAT_OK);
	hostile_unwatch(&f->ms.sys);
	assert_int_equal(moat_setup_fini(&f->ms, NULL), MOAT_OK);
	for (unsigned i = 0; i < f->n; i++)
		sim_vtd_free(f->sim[i]);
	free(f);
}

/* The device starts: @content into every page it reaches as the platform hands it out, nowhere else. */
static void device_starts(enum hostile_content content)
{
	hostile_start();
	hostile_set_content(content);
	hostile_set_rate(0);
}

/* The unit's live tables let exactly @want through (nothing else is attached). */
static void expect_requesters(struct sim_vtd *sim, const uint32_t *want, unsigned nwant)
{
	uint32_t *rids = calloc(RIDS_MAX, sizeof(*rids));
	unsigned n, extra = 0;
	uint32_t first_extra = 0;

	assert_non_null(rids);
	n = hostile_requesters(sim, rids, RIDS_MAX);
	for (unsigned i = 0; i < n && i < RIDS_MAX; i++) {
		bool wanted = false;

		for (unsigned k = 0; k < nwant; k++)
			wanted |= rids[i] == want[k];
		if (!wanted && !extra++)
			first_extra = rids[i];
	}
	free(rids);
	if (extra)
		fail_msg("the unit at 0x%llx lets %u requesters through that were never attached (%02x:%02x.%x first), "
			 "%u in all", (unsigned long long)sim->base, extra, MOAT_RID_BUS(first_extra),
			 MOAT_RID_DEV(first_extra), MOAT_RID_FN(first_extra), n);
	assert_int_equal(n, nwant);
}

/* What driver page @phys of @u is, for messages. */
static const char *vtd_page_name(const struct moat_vtd_unit *u, uint64_t phys)
{
	if (phys == u->root_phys)
		return "root table";
	if (phys == u->iq_phys)
		return "invalidation queue";
	if (phys == u->wait_status_phys)
		return "wait-status page";
	return "context table";
}

/* No page a driver holds keeps what the device wrote into it. */
static void expect_driver_pages_clean(struct vfx *f)
{
	unsigned dirty = 0;

	for (unsigned u = 0; u < f->n; u++) {
		const struct moat_vtd_unit *v = &f->su[u].hw.vtd;
		uint64_t pages[260];
		unsigned n = 0;

		assert_int_equal(moat_vtd_pages(v, pages, 260, &n), MOAT_OK);
		for (unsigned i = 0; i < n; i++) {
			if (!hostile_left_behind(pages[i]))
				continue;
			fprintf(stderr, "unit %u: the %s at 0x%llx keeps what the device wrote into it\n", u,
				vtd_page_name(v, pages[i]), (unsigned long long)pages[i]);
			dirty++;
		}
	}
	if (dirty)
		fail_msg("%u driver pages were used with what the device wrote into them", dirty);
}

/* The end of every test: the hardware's view, then the audit. */
static void check_out_of_reach(struct vfx *f)
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
 * Path: the context table an attach allocates for a new bus comes from the platform while the host
 * domain maps it, is linked into the live root table and its entry written and invalidated, and only
 * then becomes Moat-owned and leaves the host domain. Whatever the device put there (pass-through
 * entries for the bus's other 255 requesters) must not survive.
 */
static void context_table_prefilled_by_a_host_device_grants_nothing(void **state)
{
	(void)state;
	struct vfx *f = vfx_new(1);
	const uint32_t attached[] = { DEV_A, DEV_B };
	struct moat_audit_report r;
	uint64_t n;

	vfx_enable(f);
	vfx_protect_host(f);
	assert_int_equal(moat_domain_attach(&f->host, 0, DEV_A, NULL), MOAT_OK);
	device_starts(HOSTILE_VTD_CONTEXT_PT);
	assert_int_equal(moat_domain_attach(&f->host, 0, DEV_B, NULL), MOAT_OK);

	/* what the auditor makes of it (its own walk; the hardware's view below decides) */
	n = moat_audit(&f->ms.sys, &r);
	fprintf(stderr, "audit after the attach: %llu violations, %llu devices\n", (unsigned long long)n,
		(unsigned long long)r.devices);
	expect_requesters(f->sim[0], attached, 2);
	check_out_of_reach(f);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_B, NULL), MOAT_OK);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	vfx_free(f);
}

/* Pages the test takes from the platform to move its next fresh page (its own, not Moat's). */
struct held {
	uint64_t *phys;
	void **virt;
	unsigned n;
};

/* From here on, the platform's next page is the first of a 16 MiB frame range no page Moat owns lies
 * in: owning it needs a new leaf of the bookkeeping, from the platform too (the next page). */
static void next_page_opens_a_bookkeeping_leaf(struct held *h)
{
	uint64_t phys;

	h->phys = calloc(65536, sizeof(*h->phys));
	h->virt = calloc(65536, sizeof(*h->virt));
	assert_non_null(h->phys);
	assert_non_null(h->virt);
	for (h->n = 0; h->n < 65536;) {
		uint64_t used = moat_hosted_arena_used();

		h->virt[h->n] = moat_plat_page_alloc(&h->phys[h->n]);
		assert_non_null(h->virt[h->n]);
		hostile_ignore_page(h->phys[h->n]);
		if (h->phys[h->n++] == MOAT_HOSTED_PHYS_BASE + used)
			break;   /* from the end of the arena: nothing freed is left to hand out first */
	}
	while ((moat_hosted_arena_used() % NODE_BYTES) != 0)
		assert_non_null(moat_hosted_reserve_page(&phys));
}

static void held_free(struct held *h)
{
	for (unsigned i = 0; i < h->n; i++)
		moat_plat_page_free(h->virt[i], h->phys[i]);
	free(h->phys);
	free(h->virt);
}

/*
 * Path: a node of the bookkeeping of Moat-owned pages (src/core/track.c) is linked and used as soon
 * as the platform hands it out. Bits the device preset there (all ones) must not make a later page
 * count as owned, or as out of the host domain already: here the context table of a new bus, owned
 * in the same attach, must leave the host domain.
 */
static void bookkeeping_nodes_prefilled_by_a_host_device_protect_nothing(void **state)
{
	(void)state;
	struct vfx *f = vfx_new(1);
	struct held h;
	uint64_t ctx;
	unsigned perm = 0;

	vfx_enable(f);
	vfx_protect_host(f);
	assert_int_equal(moat_domain_attach(&f->host, 0, DEV_A, NULL), MOAT_OK);
	device_starts(HOSTILE_ONES);
	next_page_opens_a_bookkeeping_leaf(&h);
	assert_int_equal(moat_domain_attach(&f->host, 0, DEV_B, NULL), MOAT_OK);
	ctx = f->su[0].hw.vtd.ctx_phys[1];
	fprintf(stderr, "context table of bus 1 at 0x%llx%s\n", (unsigned long long)ctx,
		ctx % NODE_BYTES ? "" : ": the first page of a new bookkeeping leaf");

	if (hostile_reaches(ctx, &perm))
		fail_msg("the context table of bus 1 at 0x%llx is still within the host device's reach (%s) after the "
			 "attach", (unsigned long long)ctx, perm & MOAT_PT_WRITE ? "writable" : "readable");
	assert_int_equal(moat_domain_translate(&f->host, ctx, NULL, NULL, NULL), MOAT_ERR_NOT_FOUND);
	check_out_of_reach(f);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_B, NULL), MOAT_OK);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	held_free(&h);
	vfx_free(f);
}

/*
 * Path: at bring-up, a unit's root table, invalidation queue and wait-status page come from the
 * platform, are given to the hardware (root table pointer, queue address, wait descriptors) and only
 * then become Moat-owned. With a host device already translating through another unit (attached
 * before moat_setup_enable(), which keeps it), the device reaches them in between: the second
 * unit's tables must let nobody through, and no driver page may keep what the device wrote.
 */
static void vtd_bring_up_pages_are_out_of_reach_before_the_unit_uses_them(void **state)
{
	(void)state;
	struct vfx *f = vfx_new(2);
	const uint32_t host_dev[] = { DEV_A };

	vfx_protect_host(f);
	assert_int_equal(moat_domain_attach(&f->host, 0, DEV_A, NULL), MOAT_OK);
	device_starts(HOSTILE_VTD_ROOT);
	vfx_enable(f);

	if (hostile_handovers()) {
		hostile_check(&f->ms.sys);
		fail_msg("%u pages were given to a unit while the host device could write them", hostile_handovers());
	}
	expect_requesters(f->sim[0], host_dev, 1);
	expect_requesters(f->sim[1], NULL, 0);
	expect_driver_pages_clean(f);
	check_out_of_reach(f);
	assert_int_equal(moat_domain_detach(&f->ms.sys, 0, DEV_A, NULL), MOAT_OK);
	vfx_free(f);
}

/* One test per run when a name is given (each is its own CTest entry: a crash stays its own). */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(context_table_prefilled_by_a_host_device_grants_nothing),
		cmocka_unit_test(bookkeeping_nodes_prefilled_by_a_host_device_protect_nothing),
		cmocka_unit_test(vtd_bring_up_pages_are_out_of_reach_before_the_unit_uses_them),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
