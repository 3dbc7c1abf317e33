/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupt remapping through bring-up and the core on a simulated AMD IOMMU described by a
 * hand-built IVRS: every one of the 65536 device-table entries blocking until its device gets a
 * table, the IVHD pass bits, the IOAPIC of the special entry, alias groups, GA mode, the IOMMU's
 * own event interrupt handed to the host, the auditor finding violations planted in the device
 * table and the interrupt tables, and tear-down.
 */
#include "../acpi/test_ivrs_builder.h"
#include "../amdvi/amdvi_test.h"

#include <moat/irq.h>
#include <moat/setup.h>

#define DEV_A 0x0010u          /* 00:02.0 */
#define DEV_B 0x0018u          /* 00:03.0, every setting bit */
#define ALIAS 0x00f0u
#define DEV_BEHIND 0x0103u
#define IOAPIC_ID 0x00a0u      /* the special entry's source id; IOAPIC handle 4 */
#define HPET_ID 0x00a8u        /* HPET handle 0 */
#define DEV_UNNAMED 0x0500u
#define IVINFO_QEMU ((48u << 8) | (64u << 15))
#define ADDR_MASK 0x000ffffffffff000ull

/* Quadword 2 of a device-table entry (48882 section 2.2.2.1). */
#define Q2_IV 1ull
#define Q2_INTCTL_MASK (3ull << 60)
#define Q2_PASS ((7ull << 56) | (3ull << 62))

struct fx {
	struct ivrs_builder b;
	struct moat_sysdesc desc;
	struct moat_unit_desc units[2];
	struct moat_devset devsets[16];
	struct moat_special_desc specials[4];
	struct sim_amdvi *sim;
	struct moat_setup ms;
	struct moat_setup_unit su[2];
	uint64_t live;
};

static struct fx *fx_new(uint64_t efr)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct moat_diag diag;

	assert_non_null(f);
	f->live = moat_hosted_stats().pages_live;
	ivrs_begin(&f->b, 2, IVINFO_QEMU);
	ivrs_ivhd(&f->b, 0x10, IVHDF_HT_TUN, 0x0008, 0x40, SIM_BASE, 0, 0, 0, 0);
	ivrs_entry4(&f->b, MOAT_IVHD_ENTRY_SELECT, DEV_A, 0);
	ivrs_entry4(&f->b, MOAT_IVHD_ENTRY_SELECT, DEV_B, 0xd7);
	ivrs_entry_alias(&f->b, MOAT_IVHD_ENTRY_ALIAS_RANGE, 0x0100, 0, ALIAS);
	ivrs_entry4(&f->b, MOAT_IVHD_ENTRY_RANGE_END, 0x0107, 0);
	ivrs_entry_special(&f->b, 0x04, 4, IOAPIC_ID, MOAT_IVHD_SPECIAL_IOAPIC);   /* NMIPass */
	ivrs_entry_special(&f->b, 0, 0, HPET_ID, MOAT_IVHD_SPECIAL_HPET);
	ivrs_finish(&f->b);
	f->desc = (struct moat_sysdesc){ .units = f->units, .units_cap = 2, .devsets = f->devsets, .devsets_cap = 16,
					 .specials = f->specials, .specials_cap = 4 };
	if (moat_acpi_describe_ivrs(f->b.buf, f->b.len, &f->desc, &diag) != MOAT_OK)
		fail_msg("describe: %s", diag.msg);
	f->sim = sim_amdvi_new(SIM_BASE, efr);
	if (moat_setup_init(&f->ms, f->su, 2, &f->desc, 0, &diag) != MOAT_OK)
		fail_msg("init: %s", diag.msg);
	f->su[0].hw.amdvi.timeout_ns = TEST_TIMEOUT_NS;
	if (moat_setup_enable(&f->ms, &diag) != MOAT_OK)
		fail_msg("enable: %s", diag.msg);
	return f;
}

static void fx_free(struct fx *f)
{
	assert_int_equal(moat_setup_fini(&f->ms, NULL), MOAT_OK);
	assert_false(f->sim->control & SIM_CTL_IOMMU_EN);
	sim_amdvi_free(f->sim);
	assert_int_equal(moat_hosted_stats().pages_live, f->live);
	free(f);
}

static const uint8_t ioapic4[] = { 4 };
static const uint8_t hpet0[] = { 0 };

static moat_status fx_irq(struct fx *f, uint32_t flags, struct moat_diag *diag)
{
	struct moat_setup_irq_config cfg = { .flags = flags, .ioapic_ids = ioapic4, .ioapic_count = 1,
					     .hpet_ids = hpet0, .hpet_count = 1 };

	return moat_setup_irq(&f->ms, &cfg, diag);
}

static struct moat_irq_dest to(uint32_t apic, uint8_t vector)
{
	return (struct moat_irq_dest){ .apic_id = apic, .vector = vector, .delivery = MOAT_IRQ_DM_FIXED };
}

static const uint64_t *dte(struct fx *f, uint32_t id)
{
	return sim_amdvi_dte(f->sim, id);
}

static unsigned count_kind(const struct moat_audit_report *r, enum moat_audit_kind k)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->count; i++)
		n += r->v[i].kind == k;
	return n;
}

static void remapping_gives_every_device_id_an_entry_that_blocks(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct sim_amdvi_irq r;
	struct moat_diag diag;

	/* before: nothing remapped, every message passes (as on QEMU with IV = 0) */
	assert_true(sim_amdvi_msi(f->sim, DEV_UNNAMED, 0xfee00000, 0x40, &r));
	assert_int_equal(fx_irq(f, 0, &diag), MOAT_OK);
	assert_true(f->ms.caps.intr_remap);
	for (uint32_t id = 0; id < 65536; id++) {
		uint64_t q2 = dte(f, id)[2];
		uint64_t pass = id == DEV_B ? Q2_PASS : id == IOAPIC_ID ? (1ull << 58) : 0;

		if (q2 != (Q2_IV | pass))
			fail_msg("device id 0x%x: quadword 2 0x%llx", id, (unsigned long long)q2);
	}
	assert_false(sim_amdvi_msi(f->sim, DEV_UNNAMED, 0xfee00000, 0x40, &r));
	assert_false(sim_amdvi_msi(f->sim, IOAPIC_ID, 0xfee00000, 0x40, &r));
	assert_true(sim_amdvi_msi(f->sim, IOAPIC_ID, 0xfee00000, 4u << 8, &r));   /* its NMIs pass */
	assert_int_equal(f->sim->violations, 0);
	fx_free(f);
}

static void sources_get_their_tables_through_the_core(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct moat_irq a, behind, ioapic, hpet;
	struct moat_irq_source src = { .kind = MOAT_IRQ_PCI, .rid = DEV_A };
	struct moat_irq_dest d = to(2, 0x40);
	struct sim_amdvi_irq r;
	struct moat_diag diag;

	memset(&a, 0, sizeof(a));
	behind = ioapic = hpet = a;
	assert_int_equal(fx_irq(f, 0, &diag), MOAT_OK);
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &src, 2, &d, &a, &diag), MOAT_OK);
	assert_int_equal(a.table_rid, DEV_A);
	assert_true(a.msi.data < 512);
	assert_true(sim_amdvi_msi(f->sim, DEV_A, a.msi.address, a.msi.data + 1, &r));
	assert_int_equal(r.how, SIM_IRQ_REMAPPED);
	assert_int_equal(r.vector, 0x41);
	assert_false(sim_amdvi_msi(f->sim, DEV_B, a.msi.address, a.msi.data, &r));
	src.rid = DEV_BEHIND;
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &src, 1, &d, &behind, &diag), MOAT_OK);
	assert_int_equal(behind.table_rid, ALIAS);
	assert_true(sim_amdvi_msi(f->sim, ALIAS, behind.msi.address, behind.msi.data, &r));
	/* the IOAPIC of the special entry: its device id, the offset in the redirection entry's vector */
	struct moat_irq_source io = { .kind = MOAT_IRQ_IOAPIC, .id = 4 };
	d = (struct moat_irq_dest){ .apic_id = 1, .vector = 0x30, .level = true };
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &io, 1, &d, &ioapic, &diag), MOAT_OK);
	assert_int_equal(ioapic.src.rid, IOAPIC_ID);
	assert_int_equal(ioapic.table_rid, IOAPIC_ID);
	assert_int_equal(ioapic.ioapic_rte & 0xff, ioapic.index);
	assert_true(sim_amdvi_msi(f->sim, IOAPIC_ID, 0xfee00000, (uint32_t)(ioapic.ioapic_rte & 0x7ff), &r));
	assert_int_equal(r.vector, 0x30);
	struct moat_irq_source hp = { .kind = MOAT_IRQ_HPET, .id = 0 };
	d = to(0, 0x31);
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &hp, 1, &d, &hpet, &diag), MOAT_OK);
	assert_int_equal(hpet.table_rid, HPET_ID);
	assert_true(sim_amdvi_msi(f->sim, HPET_ID, hpet.msi.address, hpet.msi.data, &r));
	/* NMIs are not remapped on AMD-Vi */
	d = (struct moat_irq_dest){ .delivery = MOAT_IRQ_DM_NMI };
	src.rid = DEV_A;
	struct moat_irq nmi;
	memset(&nmi, 0, sizeof(nmi));
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &src, 1, &d, &nmi, &diag), MOAT_ERR_UNSUPPORTED);

	assert_int_equal(f->su[0].hw.amdvi.ir_tables, 4);
	unsigned n = moat_setup_driver_pages(&f->ms);
	uint64_t last;
	assert_int_equal(moat_setup_driver_page(&f->ms, n - 1, &last), MOAT_OK);
	assert_int_equal(last, f->su[0].hw.amdvi.irt[3].phys);
	struct moat_audit_report *rep = calloc(1, sizeof(*rep));
	assert_non_null(rep);
	assert_int_equal(moat_audit(&f->ms.sys, rep), 0);
	assert_int_equal(moat_irq_free(&a, &diag), MOAT_OK);
	assert_int_equal(moat_irq_free(&behind, &diag), MOAT_OK);
	assert_int_equal(moat_irq_free(&ioapic, &diag), MOAT_OK);
	assert_int_equal(moat_irq_free(&hpet, &diag), MOAT_OK);
	assert_int_equal(f->su[0].hw.amdvi.ir_tables, 0);
	assert_int_equal(moat_audit(&f->ms.sys, rep), 0);
	free(rep);
	fx_free(f);
}

static void gates_of_x2apic_and_ga_mode(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct moat_diag diag;

	assert_int_equal(fx_irq(f, MOAT_SETUP_IRQ_X2APIC, &diag), MOAT_ERR_UNSUPPORTED);   /* QEMU: no XTSup */
	assert_non_null(strstr(diag.msg, "XTSup"));
	assert_int_equal(dte(f, DEV_A)[2], 0);
	assert_false(f->sim->control & SIM_CTL_GA_EN);
	assert_int_equal(fx_irq(f, MOAT_SETUP_IRQ_WIDE, &diag), MOAT_OK);
	assert_true(f->sim->control & SIM_CTL_GA_EN);
	assert_int_equal(f->su[0].hw.amdvi.ir_entries, 256);
	fx_free(f);

	f = fx_new(EFR_HATS0_IA);   /* no GASup */
	assert_int_equal(fx_irq(f, MOAT_SETUP_IRQ_WIDE, &diag), MOAT_ERR_UNSUPPORTED);
	struct moat_setup_irq_config cfg = { .device_entries = 2048 };
	assert_int_equal(moat_setup_irq(&f->ms, &cfg, &diag), MOAT_ERR_INVALID_ARG);
	cfg.device_entries = 1024;
	assert_int_equal(moat_setup_irq(&f->ms, &cfg, &diag), MOAT_OK);
	assert_int_equal(f->su[0].hw.amdvi.ir_entries, 1024);
	fx_free(f);
}

static void the_iommus_event_interrupt_is_handed_to_the_host(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct moat_irq_dest d = to(1, 0x7d);
	struct moat_fault_irq_msi out[1];
	unsigned n = 0;

	assert_int_equal(moat_fault_irq_enable(&f->ms.sys, &d, NULL, 0, &n, NULL), MOAT_ERR_NO_SPACE);
	assert_int_equal(n, 1);
	assert_false(f->sim->control & SIM_CTL_EVT_INT_EN);
	assert_int_equal(moat_fault_irq_enable(&f->ms.sys, &d, out, 1, &n, NULL), MOAT_OK);
	assert_int_equal(out[0].segment, 0);
	assert_int_equal(out[0].rid, 0x0008);
	assert_int_equal(out[0].msg.address, 0xfee01000);
	assert_int_equal(out[0].msg.data, 0x7d);
	assert_true(f->sim->control & SIM_CTL_EVT_INT_EN);
	assert_int_equal(moat_fault_irq_disable(&f->ms.sys, NULL), MOAT_OK);
	assert_false(f->sim->control & SIM_CTL_EVT_INT_EN);
	fx_free(f);
}

/* The leaf entry of @iova in @d (4 KiB leaves): the AMD v1 format links through bits 51:12. */
static uint64_t *leaf_of(struct moat_domain *d, uint64_t iova)
{
	uint64_t *tbl = d->pt.root;

	for (unsigned l = d->pt.cfg.levels; l > 1; l--) {
		tbl = moat_plat_phys_to_virt(tbl[(iova >> (12 + 9 * (l - 1))) & 511] & ADDR_MASK);
		assert_non_null(tbl);
	}
	return &tbl[(iova >> 12) & 511];
}

static void the_auditor_finds_planted_device_table_and_entry_violations(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct moat_amdvi_unit *u = &f->su[0].hw.amdvi;
	struct moat_audit_report *r = calloc(1, sizeof(*r));
	struct moat_irq a;
	struct moat_irq_source src = { .kind = MOAT_IRQ_PCI, .rid = DEV_A };
	struct moat_irq_dest d = to(2, 0x40);
	struct moat_domain dom;
	uint64_t page;
	void *virt;

	assert_non_null(r);
	memset(&a, 0, sizeof(a));
	assert_int_equal(fx_irq(f, 0, NULL), MOAT_OK);
	assert_int_equal(moat_irq_alloc(&f->ms.sys, &src, 1, &d, &a, NULL), MOAT_OK);
	assert_int_equal(moat_audit(&f->ms.sys, r), 0);

	uint64_t *q2_unnamed = (uint64_t *)&dte(f, DEV_UNNAMED)[2];
	uint64_t *q2_b = (uint64_t *)&dte(f, DEV_B)[2];
	uint64_t *q2_c = (uint64_t *)&dte(f, 0x0020)[2];
	uint64_t b_saved = *q2_b;
	volatile uint32_t *t = moat_amdvi_irt_of(u, DEV_A)->virt;

	*q2_unnamed = 0;                                             /* IV = 0: passes unremapped */
	*q2_c = (*q2_c & ~Q2_INTCTL_MASK) | (1ull << 60);           /* forwards unmapped */
	*q2_b = dte(f, DEV_A)[2] | (b_saved & Q2_PASS);             /* DEV_A's table */
	t[7] = 1 | (0x99u << 16);                                    /* present, not allocated */
	virt = moat_plat_page_alloc(&page);
	assert_non_null(virt);
	assert_int_equal(moat_domain_create(&f->ms.sys, &dom), MOAT_OK);
	assert_int_equal(moat_domain_map(&dom, 0x8000, page, MOAT_PAGE_SIZE, MOAT_PT_RW, NULL), MOAT_OK);
	uint64_t *leaf = leaf_of(&dom, 0x8000);
	*leaf = (*leaf & ~ADDR_MASK) | moat_amdvi_irt_of(u, DEV_A)->phys;

	assert_int_equal(moat_audit(&f->ms.sys, r), 6);
	assert_int_equal(count_kind(r, MOAT_AUDIT_IRQ_PASSTHROUGH), 1);
	assert_int_equal(count_kind(r, MOAT_AUDIT_IRQ_FORWARD), 1);
	assert_int_equal(count_kind(r, MOAT_AUDIT_IRQ_WRONG_SOURCE), 1);
	assert_int_equal(count_kind(r, MOAT_AUDIT_IRQ_UNALLOCATED), 1);
	assert_int_equal(count_kind(r, MOAT_AUDIT_IRQ_TABLE_MAPPED), 1);
	assert_int_equal(count_kind(r, MOAT_AUDIT_OWNED), 1);
	for (unsigned i = 0; i < r->count; i++) {
		char line[256];

		moat_audit_format(&r->v[i], line, sizeof(line));
		if (r->v[i].kind == MOAT_AUDIT_IRQ_PASSTHROUGH)
			assert_string_equal(line, "device 0000:05:00.0: interrupts pass unremapped (device-table interrupt "
						  "fields 0x0000000000000000)");
		if (r->v[i].kind == MOAT_AUDIT_IRQ_WRONG_SOURCE)
			assert_int_equal(r->v[i].rid, DEV_B);
		if (r->v[i].kind == MOAT_AUDIT_IRQ_UNALLOCATED) {
			assert_int_equal(r->v[i].rid, DEV_A);
			assert_int_equal(r->v[i].iova, 7);
		}
	}

	*q2_unnamed = Q2_IV;
	*q2_c &= ~Q2_INTCTL_MASK;
	*q2_b = b_saved;
	t[7] = 0;
	*leaf = (*leaf & ~ADDR_MASK) | page;
	assert_int_equal(moat_audit(&f->ms.sys, r), 0);
	/* GA mode switched on behind Moat's back: the unit reads the tables in another format */
	f->sim->control |= SIM_CTL_GA_EN;
	assert_int_equal(moat_audit(&f->ms.sys, r), 1);
	assert_int_equal(r->v[0].kind, MOAT_AUDIT_IRQ_OFF);
	f->sim->control &= ~SIM_CTL_GA_EN;

	assert_int_equal(moat_domain_unmap(&dom, 0x8000, MOAT_PAGE_SIZE, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	moat_plat_page_free(virt, page);
	assert_int_equal(moat_irq_free(&a, NULL), MOAT_OK);
	free(r);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(remapping_gives_every_device_id_an_entry_that_blocks),
		cmocka_unit_test(sources_get_their_tables_through_the_core),
		cmocka_unit_test(gates_of_x2apic_and_ga_mode),
		cmocka_unit_test(the_iommus_event_interrupt_is_handed_to_the_host),
		cmocka_unit_test(the_auditor_finds_planted_device_table_and_entry_violations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
