/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupt remapping through bring-up and the core (moat_setup_irq(), moat/irq.h) on simulated
 * VT-d units: nothing remapped until asked, IOAPICs and HPETs no scope names refused, every unit
 * or none, interrupts allocated through the core and resolved by the simulated hardware, the
 * auditor finding violations planted in the live tables, fault interrupts, and tear-down.
 */
#include "../vtd/vtd_test.h"

#include <moat/irq.h>
#include <moat/setup.h>

#define SIM_BASE2 (SIM_BASE + 0x1000)
#define DEV_A MOAT_RID(0, 2, 0)
#define DEV_OTHER MOAT_RID(0, 5, 0)
#define IOAPIC_RID MOAT_RID(0xff, 0x1f, 0)
#define HPET_RID MOAT_RID(0, 0x1f, 0)
#define ADDR_MASK 0x000ffffffffff000ull

struct fx {
	struct sim_vtd *sim[2];
	struct moat_unit_desc units[2];
	struct moat_devset devsets[2];
	struct moat_special_desc specials[3];
	struct moat_sysdesc desc;
	struct moat_setup ms;
	struct moat_setup_unit su[2];
	uint64_t live;
};

/* Unit 0 names DEV_A, IOAPIC 0 and HPET 0; unit 1 (with @two) takes every other device. */
static struct fx *fx_new(bool two, uint64_t ecap1)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct moat_diag diag;

	assert_non_null(f);
	f->live = moat_hosted_stats().pages_live;
	f->sim[0] = sim_vtd_new(SIM_BASE, CAP_NFR8, ECAP_QEMU);
	f->units[0] = sim_vtd_desc(f->sim[0], 0);
	f->devsets[0] = (struct moat_devset){ .first = DEV_A, .last = DEV_A, .alias = DEV_A };
	f->units[0].devset_count = 1;
	if (two) {
		f->sim[1] = sim_vtd_new(SIM_BASE2, CAP_NFR8, ecap1);
		f->units[1] = sim_vtd_desc(f->sim[1], 0);
		f->units[1].flags = MOAT_UNIT_INCLUDE_ALL;
		f->units[1].devset_first = 1;
	}
	f->specials[0] = (struct moat_special_desc){ .kind = MOAT_SPECIAL_IOAPIC, .rid = IOAPIC_RID, .id = 0,
						     .resolved = 1, .unit = 0 };
	f->specials[1] = (struct moat_special_desc){ .kind = MOAT_SPECIAL_HPET, .rid = HPET_RID, .id = 0, .resolved = 1,
						     .unit = 0 };
	f->specials[2] = (struct moat_special_desc){ .kind = MOAT_SPECIAL_IOAPIC, .id = 3, .resolved = 0, .unit = 0 };
	f->desc = (struct moat_sysdesc){ .vendor = MOAT_VENDOR_VTD, .flags = MOAT_SYS_INTR_REMAP, .units = f->units,
					 .units_cap = 2, .units_count = two ? 2 : 1, .devsets = f->devsets,
					 .devsets_cap = 2, .devsets_count = 1, .specials = f->specials,
					 .specials_cap = 3, .specials_count = 3 };
	if (moat_setup_init(&f->ms, f->su, 2, &f->desc, 0, &diag) != MOAT_OK)
		fail_msg("init: %s", diag.msg);
	for (unsigned i = 0; i < f->ms.caps.units; i++)
		f->su[i].hw.vtd.timeout_ns = TEST_TIMEOUT_NS;
	if (moat_setup_enable(&f->ms, &diag) != MOAT_OK)
		fail_msg("enable: %s", diag.msg);
	return f;
}

static void fx_free(struct fx *f)
{
	assert_int_equal(moat_setup_fini(&f->ms, NULL), MOAT_OK);
	for (unsigned i = 0; i < 2; i++) {
		if (f->sim[i])
			assert_false(f->sim[i]->gsts & (SIM_TE | SIM_IRE));
		sim_vtd_free(f->sim[i]);
	}
	assert_int_equal(moat_hosted_stats().pages_live, f->live);
	free(f);
}

static const uint8_t ioapic0[] = { 0 };
static const uint8_t hpet0[] = { 0 };

static moat_status fx_irq(struct fx *f, uint32_t flags, struct moat_diag *diag)
{
	struct moat_setup_irq_config cfg = { .flags = flags, .ioapic_ids = ioapic0, .ioapic_count = 1,
					     .hpet_ids = hpet0, .hpet_count = 1 };

	return moat_setup_irq(&f->ms, &cfg, diag);
}

static struct moat_irq_dest to(uint32_t apic, uint8_t vector)
{
	return (struct moat_irq_dest){ .apic_id = apic, .vector = vector, .delivery = MOAT_IRQ_DM_FIXED };
}

static void assert_audit_clean(struct moat_system *sys)
{
	struct moat_audit_report *r = calloc(1, sizeof(*r));
	uint64_t n;

	assert_non_null(r);
	n = moat_audit(sys, r);
	for (unsigned i = 0; i < r->count; i++) {
		char line[256];

		moat_audit_format(&r->v[i], line, sizeof(line));
		fprintf(stderr, "violation: %s\n", line);
	}
	assert_int_equal(r->status, MOAT_OK);
	assert_int_equal(n, 0);
	free(r);
}

static bool owned(struct moat_system *sys, uint64_t phys)
{
	struct moat_protect_hit hit;

	return moat_protect_check(sys, phys, MOAT_PAGE_SIZE, &hit) == MOAT_ERR_PROTECTED && hit.owned;
}

static void bring_up_leaves_interrupts_alone_until_asked(void **state)
{
	(void)state;
	struct fx *f = fx_new(false, 0);
	struct moat_irq_source src = { .kind = MOAT_IRQ_PCI, .rid = DEV_A };
	struct moat_irq_dest d = to(0, 0x40);
	struct moat_irq irq;
	struct moat_audit_report r;
	struct moat_diag diag;

	memset(&irq, 0, sizeof(irq));
	assert_false(f->sim[0]->gsts & SIM_IRE);
	assert_int_equal(sim_vtd_count_writes(f->sim[0], SIM_IRTA), 0);
	assert_false(f->ms.caps.intr_remap);
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &src, 1, &d, &irq, &diag), MOAT_ERR_STATE);
	assert_non_null(strstr(diag.msg, "off"));
	assert_int_equal(moat_audit(&f->ms.sys, &r), 0);
	fx_free(f);
}

static void an_ioapic_no_scope_names_stops_bring_up(void **state)
{
	(void)state;
	struct fx *f = fx_new(false, 0);
	static const uint8_t two[] = { 0, 2 }, three[] = { 3 };
	struct moat_setup_irq_config cfg = { .ioapic_ids = two, .ioapic_count = 2 };
	struct moat_diag diag;

	moat_hosted_set_log_level(MOAT_LOG_ERROR - 1);
	assert_int_equal(moat_setup_irq(&f->ms, &cfg, &diag), MOAT_ERR_NOT_FOUND);
	assert_non_null(strstr(diag.msg, "IOAPIC 2"));
	assert_non_null(strstr(diag.msg, "DMAR device scope"));
	/* named, but its scope's path did not resolve: no source id to check */
	cfg.ioapic_ids = three;
	cfg.ioapic_count = 1;
	assert_int_equal(moat_setup_irq(&f->ms, &cfg, &diag), MOAT_ERR_NOT_FOUND);
	cfg.ioapic_count = 0;
	cfg.hpet_ids = two + 1;
	cfg.hpet_count = 1;
	assert_int_equal(moat_setup_irq(&f->ms, &cfg, &diag), MOAT_ERR_NOT_FOUND);
	assert_non_null(strstr(diag.msg, "HPET 2"));
	moat_hosted_set_log_level(MOAT_LOG_WARN);
	/* nothing was touched */
	assert_int_equal(sim_vtd_count_writes(f->sim[0], SIM_IRTA), 0);
	assert_false(f->sim[0]->gsts & SIM_IRE);
	assert_false(f->ms.caps.intr_remap);
	/* the host decides to go on */
	cfg.flags = MOAT_SETUP_IRQ_ALLOW_UNNAMED;
	cfg.ioapic_ids = two;
	cfg.ioapic_count = 2;
	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	assert_int_equal(moat_setup_irq(&f->ms, &cfg, &diag), MOAT_OK);
	moat_hosted_set_log_level(MOAT_LOG_WARN);
	assert_true(f->sim[0]->gsts & SIM_IRE);
	assert_true(f->ms.caps.intr_remap);
	assert_int_equal(moat_setup_irq(&f->ms, &cfg, &diag), MOAT_ERR_STATE);   /* once */
	fx_free(f);
}

static void interrupt_remapping_is_every_unit_or_none(void **state)
{
	(void)state;
	struct moat_diag diag;
	struct moat_setup_irq_config cfg = { .entries = 3 };

	/* the second unit cannot remap: refused before the first is touched */
	struct fx *f = fx_new(true, ECAP_QEMU & ~(1ull << 3));
	assert_int_equal(fx_irq(f, 0, &diag), MOAT_ERR_UNSUPPORTED);
	assert_non_null(strstr(diag.msg, "ECAP.IR"));
	assert_int_equal(sim_vtd_count_writes(f->sim[0], SIM_IRTA), 0);
	assert_int_equal(moat_setup_irq(&f->ms, &cfg, &diag), MOAT_ERR_INVALID_ARG);
	cfg.entries = 0;
	cfg.flags = 0x100;
	assert_int_equal(moat_setup_irq(&f->ms, &cfg, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_setup_irq(&f->ms, NULL, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(fx_irq(f, MOAT_SETUP_IRQ_X2APIC, &diag), MOAT_ERR_UNSUPPORTED);   /* no EIM */
	fx_free(f);

	/* the second unit does not take it: the first is turned off again */
	f = fx_new(true, ECAP_QEMU);
	f->sim[1]->stuck = SIM_IRE;
	assert_int_equal(fx_irq(f, 0, &diag), MOAT_ERR_TIMEOUT);
	assert_non_null(strstr(diag.msg, "IRES"));
	assert_true(sim_vtd_count_writes(f->sim[0], SIM_IRTA) > 0);
	assert_false(f->sim[0]->gsts & SIM_IRE);
	assert_false(f->su[0].hw.vtd.ir_enabled);
	assert_false(f->ms.caps.intr_remap);
	f->sim[1]->stuck = 0;
	assert_int_equal(fx_irq(f, 0, &diag), MOAT_OK);
	assert_true((f->sim[0]->gsts & SIM_IRE) && (f->sim[1]->gsts & SIM_IRE));
	fx_free(f);
}

static void interrupts_allocated_through_the_core_reach_only_their_source(void **state)
{
	(void)state;
	struct fx *f = fx_new(true, ECAP_QEMU);
	struct moat_irq msi, block, ioapic, hpet, other;
	struct moat_irq_source src = { .kind = MOAT_IRQ_PCI, .rid = DEV_A };
	struct moat_irq_dest d = to(1, 0x40);
	struct sim_vtd_irq r;
	struct moat_diag diag;

	memset(&msi, 0, sizeof(msi));
	block = ioapic = hpet = other = msi;
	assert_int_equal(fx_irq(f, 0, &diag), MOAT_OK);
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &src, 1, &d, &msi, &diag), MOAT_OK);
	assert_ptr_equal(msi.unit, &f->su[0].unit);
	assert_true(sim_vtd_msi(f->sim[0], DEV_A, msi.msi.address, msi.msi.data, &r));
	assert_true(r.remapped);
	assert_int_equal(r.vector, 0x40);
	assert_int_equal(r.dest, 1);
	assert_false(sim_vtd_msi(f->sim[0], DEV_OTHER, msi.msi.address, msi.msi.data, &r));
	/* a block of four on the other unit */
	src.rid = DEV_OTHER;
	d.vector = 0x50;
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &src, 4, &d, &block, &diag), MOAT_OK);
	assert_ptr_equal(block.unit, &f->su[1].unit);
	for (unsigned k = 0; k < 4; k++) {
		assert_true(sim_vtd_msi(f->sim[1], DEV_OTHER, block.msi.address, block.msi.data + k, &r));
		assert_int_equal(r.vector, 0x50 + k);
	}
	/* the IOAPIC and the HPET with the source ids of their scopes */
	struct moat_irq_source io = { .kind = MOAT_IRQ_IOAPIC, .id = 0 };
	d = (struct moat_irq_dest){ .apic_id = 0, .vector = 0x21, .level = true };
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &io, 1, &d, &ioapic, &diag), MOAT_OK);
	assert_int_equal(ioapic.src.rid, IOAPIC_RID);
	assert_true(sim_vtd_ioapic(f->sim[0], IOAPIC_RID, ioapic.ioapic_rte, &r));
	assert_true(r.level);
	/* a new vector changes the redirection entry's vector too (EOI matching) */
	d.vector = 0x22;
	assert_int_equal(moat_irq_set_dest(&ioapic, 0, &d, &diag), MOAT_OK);
	assert_int_equal(ioapic.ioapic_rte & 0xff, 0x22);
	assert_true(sim_vtd_ioapic(f->sim[0], IOAPIC_RID, ioapic.ioapic_rte, &r));
	assert_int_equal(r.vector, 0x22);
	struct moat_irq_source hp = { .kind = MOAT_IRQ_HPET, .id = 0 };
	d = to(0, 0x23);
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &hp, 1, &d, &hpet, &diag), MOAT_OK);
	assert_true(sim_vtd_msi(f->sim[0], HPET_RID, hpet.msi.address, hpet.msi.data, &r));
	assert_false(sim_vtd_msi(f->sim[0], IOAPIC_RID, hpet.msi.address, hpet.msi.data, &r));
	/* x2APIC ids need x2APIC destinations */
	d = to(0x100, 0x40);
	src.rid = DEV_A;
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &src, 1, &d, &other, &diag), MOAT_ERR_INVALID_ARG);

	/* every table page is the driver's, owned, out of reach */
	unsigned n = moat_setup_driver_pages(&f->ms);
	for (unsigned i = 0; i < n; i++) {
		uint64_t p;

		assert_int_equal(moat_setup_driver_page(&f->ms, i, &p), MOAT_OK);
		assert_true(owned(&f->ms.sys, p));
	}
	assert_true(owned(&f->ms.sys, f->su[0].hw.vtd.ir_phys));
	assert_audit_clean(&f->ms.sys);
	assert_int_equal(moat_irq_free(&msi, &diag), MOAT_OK);
	assert_int_equal(moat_irq_free(&block, &diag), MOAT_OK);
	assert_int_equal(moat_irq_free(&ioapic, &diag), MOAT_OK);
	assert_int_equal(moat_irq_free(&hpet, &diag), MOAT_OK);
	assert_int_equal(f->su[0].hw.vtd.ir_used + f->su[1].hw.vtd.ir_used, 0);
	fx_free(f);
}

/* The leaf entry of @iova in @d (4 KiB leaves): both formats link and map through bits 51:12. */
static uint64_t *leaf_of(struct moat_domain *d, uint64_t iova)
{
	uint64_t *tbl = d->pt.root;

	for (unsigned l = d->pt.cfg.levels; l > 1; l--) {
		tbl = moat_plat_phys_to_virt(tbl[(iova >> (12 + 9 * (l - 1))) & 511] & ADDR_MASK);
		assert_non_null(tbl);
	}
	return &tbl[(iova >> 12) & 511];
}

static unsigned count_kind(const struct moat_audit_report *r, enum moat_audit_kind k)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->count; i++)
		n += r->v[i].kind == k;
	return n;
}

static void the_auditor_finds_what_was_planted_in_the_live_tables(void **state)
{
	(void)state;
	struct fx *f = fx_new(false, 0);
	struct moat_vtd_unit *v = &f->su[0].hw.vtd;
	struct moat_audit_report *r = calloc(1, sizeof(*r));
	struct moat_irq a, b;
	struct moat_irq_source src = { .kind = MOAT_IRQ_PCI, .rid = DEV_A };
	struct moat_irq_dest d = to(1, 0x40);
	struct moat_domain dom;
	uint64_t page;
	void *virt;

	assert_non_null(r);
	memset(&a, 0, sizeof(a));
	b = a;
	assert_int_equal(fx_irq(f, 0, NULL), MOAT_OK);
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &src, 1, &d, &a, NULL), MOAT_OK);
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &src, 1, &d, &b, NULL), MOAT_OK);
	assert_audit_clean(&f->ms.sys);

	volatile uint64_t *t = (volatile uint64_t *)v->ir_page[0];
	uint64_t a_hi = t[2 * a.index + 1], b_hi = t[2 * b.index + 1];
	t[2 * 10] = 1 | (0x66ull << 16);                   /* present, never allocated */
	t[2 * 10 + 1] = (1ull << 18) | DEV_OTHER;
	t[2 * a.index + 1] = 0;                            /* no source check */
	t[2 * b.index + 1] = (1ull << 18) | DEV_OTHER;     /* another device's */
	/* a domain leaf reaching the table */
	virt = moat_plat_page_alloc(&page);
	assert_non_null(virt);
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	assert_int_equal(moat_domain_map(&dom, 0x4000, page, MOAT_PAGE_SIZE, MOAT_PT_READ, NULL), MOAT_OK);
	uint64_t *leaf = leaf_of(&dom, 0x4000);
	*leaf = (*leaf & ~ADDR_MASK) | v->ir_phys;

	assert_int_equal(moat_audit(&f->ms.sys, r), 5);
	assert_int_equal(count_kind(r, MOAT_AUDIT_IRQ_UNALLOCATED), 1);
	assert_int_equal(count_kind(r, MOAT_AUDIT_IRQ_UNVERIFIED), 1);
	assert_int_equal(count_kind(r, MOAT_AUDIT_IRQ_WRONG_SOURCE), 1);
	assert_int_equal(count_kind(r, MOAT_AUDIT_IRQ_TABLE_MAPPED), 1);
	assert_int_equal(count_kind(r, MOAT_AUDIT_OWNED), 1);     /* the main walk sees a Moat page too */
	for (unsigned i = 0; i < r->count; i++) {
		if (r->v[i].kind == MOAT_AUDIT_IRQ_UNALLOCATED) {
			assert_int_equal(r->v[i].iova, 10);
			assert_int_equal(r->v[i].rid, DEV_OTHER);
			assert_int_equal(r->v[i].hit_base, v->ir_phys + 160);
		} else if (r->v[i].kind == MOAT_AUDIT_IRQ_WRONG_SOURCE) {
			assert_int_equal(r->v[i].iova, b.index);
			assert_int_equal(r->v[i].rid, DEV_OTHER);
			assert_int_equal(r->v[i].hit_size, DEV_A);
		} else if (r->v[i].kind == MOAT_AUDIT_IRQ_TABLE_MAPPED) {
			assert_int_equal(r->v[i].domain_id, dom.id);
			assert_int_equal(r->v[i].iova, 0x4000);
			assert_int_equal(r->v[i].hit_base, v->ir_phys);
		}
	}

	/* the unit itself: remapping switched off behind Moat's back, then compatibility format on */
	t[2 * 10] = t[2 * 10 + 1] = 0;
	t[2 * a.index + 1] = a_hi;
	t[2 * b.index + 1] = b_hi;
	*leaf = (*leaf & ~ADDR_MASK) | page;
	assert_audit_clean(&f->ms.sys);
	f->sim[0]->gsts &= ~SIM_IRE;
	assert_int_equal(moat_audit(&f->ms.sys, r), 1);
	assert_int_equal(r->v[0].kind, MOAT_AUDIT_IRQ_OFF);
	f->sim[0]->gsts |= SIM_IRE | SIM_CFI;
	assert_int_equal(moat_audit(&f->ms.sys, r), 1);
	assert_int_equal(r->v[0].kind, MOAT_AUDIT_IRQ_OFF);
	f->sim[0]->gsts &= ~SIM_CFI;
	f->sim[0]->irta_latched = 0;
	f->sim[0]->irta = 0;
	assert_int_equal(moat_audit(&f->ms.sys, r), 1);
	f->sim[0]->irta = f->sim[0]->irta_latched = v->ir_phys | 7;
	assert_audit_clean(&f->ms.sys);

	assert_int_equal(moat_domain_unmap(&dom, 0x4000, MOAT_PAGE_SIZE, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	moat_plat_page_free(virt, page);
	assert_int_equal(moat_irq_free(&a, NULL), MOAT_OK);
	assert_int_equal(moat_irq_free(&b, NULL), MOAT_OK);
	free(r);
	fx_free(f);
}

static void fault_interrupts_are_programmed_in_every_unit(void **state)
{
	(void)state;
	struct fx *f = fx_new(true, ECAP_QEMU);
	struct moat_irq_dest d = to(3, 0x7e);
	unsigned n = 9;

	assert_int_equal(moat_fault_irq_enable(&f->ms.sys, &d, NULL, 0, &n, NULL), MOAT_OK);
	assert_int_equal(n, 0);   /* VT-d units program themselves */
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(f->sim[i]->fedata, 0x7e);
		assert_int_equal(f->sim[i]->feaddr, 0xfee03000);
		assert_int_equal(f->sim[i]->fectl, 0);
	}
	assert_int_equal(moat_fault_irq_disable(&f->ms.sys, NULL), MOAT_OK);
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(f->sim[i]->fectl, 1u << 31);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bring_up_leaves_interrupts_alone_until_asked),
		cmocka_unit_test(an_ioapic_no_scope_names_stops_bring_up),
		cmocka_unit_test(interrupt_remapping_is_every_unit_or_none),
		cmocka_unit_test(interrupts_allocated_through_the_core_reach_only_their_source),
		cmocka_unit_test(the_auditor_finds_what_was_planted_in_the_live_tables),
		cmocka_unit_test(fault_interrupts_are_programmed_in_every_unit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
