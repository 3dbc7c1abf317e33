/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The vendor-neutral interrupt-remapping API over null units: argument checks before any unit is
 * asked, routing (device scopes, IOAPIC and HPET description entries), handle states, fault
 * interrupts, and the auditor's interrupt-remapping kinds from planted unit records.
 */
#include "core_test.h"

#define DEV MOAT_RID(0, 2, 0)

struct fx {
	struct moat_system *sys;
	struct null_unit nu;
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->sys = t_system(ALL_SIZES);
	nu_init(&f->nu, 0, -1);
	assert_int_equal(moat_system_add_unit(f->sys, &f->nu.unit), MOAT_OK);
	return f;
}

static void fx_free(struct fx *f)
{
	t_system_free(f->sys);
	free(f);
}

static struct moat_irq_source pci(uint16_t rid)
{
	return (struct moat_irq_source){ .kind = MOAT_IRQ_PCI, .segment = 0, .rid = rid };
}

static struct moat_irq_dest to(uint32_t apic, uint8_t vector)
{
	return (struct moat_irq_dest){ .apic_id = apic, .vector = vector, .delivery = MOAT_IRQ_DM_FIXED };
}

static void allocation_checks_its_arguments_before_the_unit_sees_them(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct moat_irq_source src = pci(DEV);
	struct moat_irq_dest d = to(0, 0x40);
	struct moat_irq irq, pattern;
	struct moat_diag diag;

	memset(&irq, 0x5a, sizeof(irq));
	pattern = irq;
	assert_int_equal(moat_irq_alloc(NULL, &src, 1, &d, &irq, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_irq_alloc(f->sys, NULL, 1, &d, &irq, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_irq_alloc(f->sys, &src, 1, NULL, &irq, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_irq_alloc(f->sys, &src, 1, &d, NULL, &diag), MOAT_ERR_INVALID_ARG);
	static const unsigned counts[] = { 0, 3, 6, 64 };
	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		assert_int_equal(moat_irq_alloc(f->sys, &src, counts[i], &d, &irq, &diag), MOAT_ERR_INVALID_ARG);
	static const struct moat_irq_dest bad[] = {
		{ .vector = 0x0f, .delivery = MOAT_IRQ_DM_FIXED },   /* an exception vector */
		{ .vector = 0x10, .delivery = 3 },                   /* no such delivery mode */
		{ .vector = 0x02, .delivery = MOAT_IRQ_DM_NMI },     /* NMI takes vector 0 */
		{ .vector = 0x20, .delivery = 9 },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(moat_irq_alloc(f->sys, &src, 1, &bad[i], &irq, &diag), MOAT_ERR_INVALID_ARG);
	d.vector = 0xfd;   /* a block of 4 runs past 0xff */
	assert_int_equal(moat_irq_alloc(f->sys, &src, 4, &d, &irq, &diag), MOAT_ERR_INVALID_ARG);
	assert_non_null(strstr(diag.msg, "vector"));
	d.vector = 0x40;
	d.delivery = MOAT_IRQ_DM_NMI;
	d.vector = 0;
	assert_int_equal(moat_irq_alloc(f->sys, &src, 2, &d, &irq, &diag), MOAT_ERR_INVALID_ARG);
	d = to(0, 0x40);
	struct moat_irq_source buses = { .kind = MOAT_IRQ_PCI_BUSES, .rid = MOAT_RID(5, 0, 0), .bus_last = 4 };
	assert_int_equal(moat_irq_alloc(f->sys, &buses, 1, &d, &irq, &diag), MOAT_ERR_INVALID_ARG);
	struct moat_irq_source ioapic = { .kind = MOAT_IRQ_IOAPIC, .id = 0 };
	assert_int_equal(moat_irq_alloc(f->sys, &ioapic, 2, &d, &irq, &diag), MOAT_ERR_INVALID_ARG);
	struct moat_irq_source odd = { .kind = (enum moat_irq_kind)9, .rid = DEV };
	assert_int_equal(moat_irq_alloc(f->sys, &odd, 1, &d, &irq, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(f->nu.irq_alloc_calls, 0);
	assert_int_equal(memcmp(&irq, &pattern, sizeof(irq)), 0);
	fx_free(f);
}

static void routing_finds_the_unit_or_says_why_not(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct moat_irq_source src = pci(DEV);
	struct moat_irq_dest d = to(0, 0x40);
	struct moat_irq irq;
	struct moat_diag diag;

	memset(&irq, 0, sizeof(irq));
	src.segment = 7;   /* no unit translates segment 7 */
	assert_int_equal(moat_irq_alloc(f->sys, &src, 1, &d, &irq, &diag), MOAT_ERR_NOT_FOUND);
	assert_non_null(strstr(diag.msg, "0007:00:02.0"));

	/* a unit that cannot remap */
	static struct moat_unit_ops plain;
	struct null_unit other;
	plain = nu_ops;
	plain.irq_alloc = NULL;
	plain.irq_set = NULL;
	plain.irq_free = NULL;
	nu_init(&other, 7, -1);
	other.unit.ops = &plain;
	assert_int_equal(moat_system_add_unit(f->sys, &other.unit), MOAT_OK);
	assert_int_equal(moat_irq_alloc(f->sys, &src, 1, &d, &irq, &diag), MOAT_ERR_UNSUPPORTED);
	assert_int_equal(irq.magic, 0);

	/* a unit that offers allocation but not the rest is refused */
	static struct moat_unit_ops half;
	struct null_unit third;
	half = nu_ops;
	half.irq_free = NULL;
	nu_init(&third, 8, -1);
	third.unit.ops = &half;
	assert_int_equal(moat_system_add_unit(f->sys, &third.unit), MOAT_ERR_INVALID_ARG);
	fx_free(f);
}

static void ioapic_and_hpet_route_through_their_description_entries(void **state)
{
	(void)state;
	struct moat_unit_desc units[2] = { { .vendor = MOAT_VENDOR_VTD }, { .vendor = MOAT_VENDOR_VTD } };
	struct moat_special_desc specials[3] = {
		{ .kind = MOAT_SPECIAL_IOAPIC, .segment = 0, .rid = MOAT_RID(0xf0, 0x1f, 0), .id = 5, .resolved = 1,
		  .unit = 1 },
		{ .kind = MOAT_SPECIAL_HPET, .segment = 0, .rid = 0, .id = 0, .resolved = 0, .unit = 0 },
		{ .kind = MOAT_SPECIAL_HPET, .segment = 0, .rid = MOAT_RID(0, 0x1f, 7), .id = 1, .resolved = 1, .unit = 0 },
	};
	struct moat_sysdesc desc = { .vendor = MOAT_VENDOR_VTD, .units = units, .units_cap = 2, .units_count = 2,
				     .specials = specials, .specials_cap = 3, .specials_count = 3 };
	struct moat_system_config cfg = t_config(ALL_SIZES);
	struct moat_system *sys = calloc(1, sizeof(*sys));
	struct null_unit a, b;
	struct moat_irq irq;
	struct moat_diag diag;
	struct moat_irq_dest d = { .apic_id = 1, .vector = 0x30, .level = true };

	assert_non_null(sys);
	cfg.desc = &desc;
	assert_int_equal(moat_system_init(sys, &cfg), MOAT_OK);
	nu_init(&a, 0, 0);
	nu_init(&b, 0, 1);
	assert_int_equal(moat_system_add_unit(sys, &a.unit), MOAT_OK);
	assert_int_equal(moat_system_add_unit(sys, &b.unit), MOAT_OK);

	memset(&irq, 0, sizeof(irq));
	struct moat_irq_source src = { .kind = MOAT_IRQ_IOAPIC, .id = 5 };
	assert_int_equal(moat_irq_alloc(sys, &src, 1, &d, &irq, &diag), MOAT_OK);
	assert_int_equal(b.irq_alloc_calls, 1);
	assert_int_equal(a.irq_alloc_calls, 0);
	assert_int_equal(b.last_irq.src.rid, MOAT_RID(0xf0, 0x1f, 0));
	assert_int_equal(irq.src.rid, MOAT_RID(0xf0, 0x1f, 0));
	assert_ptr_equal(irq.unit, &b.unit);
	/* an IOAPIC keeps the trigger mode and polarity its redirection entry was made with */
	d.level = false;
	assert_int_equal(moat_irq_set_dest(&irq, 0, &d, &diag), MOAT_ERR_INVALID_ARG);
	assert_non_null(strstr(diag.msg, "trigger"));
	d.level = true;
	d.vector = 0x31;
	assert_int_equal(moat_irq_set_dest(&irq, 0, &d, &diag), MOAT_OK);
	assert_int_equal(b.last_dest.vector, 0x31);
	assert_int_equal(moat_irq_free(&irq, &diag), MOAT_OK);

	src.id = 6;
	assert_int_equal(moat_irq_alloc(sys, &src, 1, &d, &irq, &diag), MOAT_ERR_NOT_FOUND);
	assert_non_null(strstr(diag.msg, "IOAPIC 6"));
	src.kind = MOAT_IRQ_HPET;
	src.id = 0;
	assert_int_equal(moat_irq_alloc(sys, &src, 1, &d, &irq, &diag), MOAT_ERR_NOT_FOUND);
	assert_non_null(strstr(diag.msg, "could not be resolved"));
	src.id = 1;
	assert_int_equal(moat_irq_alloc(sys, &src, 1, &d, &irq, &diag), MOAT_OK);
	assert_int_equal(a.irq_alloc_calls, 1);
	assert_int_equal(irq.src.rid, MOAT_RID(0, 0x1f, 7));
	assert_int_equal(moat_irq_free(&irq, NULL), MOAT_OK);
	assert_int_equal(moat_system_fini(sys), MOAT_OK);
	free(sys);
}

static void handles_are_live_from_alloc_to_free(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct moat_irq_source src = pci(DEV);
	struct moat_irq_dest d = to(3, 0x50);
	struct moat_irq irq, copy;
	struct moat_diag diag;

	memset(&irq, 0, sizeof(irq));
	assert_int_equal(moat_irq_alloc(f->sys, &src, 4, &d, &irq, &diag), MOAT_OK);
	assert_int_equal(irq.count, 4);
	assert_int_equal(irq.msi.data, 0);
	assert_int_equal(f->nu.last_irq.count, 4);
	assert_int_equal(f->nu.last_dest.vector, 0x50);
	copy = irq;
	assert_int_equal(moat_irq_alloc(f->sys, &src, 1, &d, &irq, &diag), MOAT_ERR_STATE);
	assert_int_equal(memcmp(&irq, &copy, sizeof(irq)), 0);
	assert_int_equal(moat_irq_set_dest(&irq, 4, &d, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_irq_set_dest(&irq, 3, NULL, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_irq_set_dest(&irq, 3, &d, &diag), MOAT_OK);
	assert_int_equal(f->nu.irq_set_calls, 1);

	/* the unit fails the free: the handle stays live, the call can be made again */
	f->nu.fail_irq = MOAT_ERR_TIMEOUT;
	assert_int_equal(moat_irq_free(&irq, &diag), MOAT_ERR_TIMEOUT);
	assert_int_equal(memcmp(&irq, &copy, sizeof(irq)), 0);
	f->nu.fail_irq = MOAT_OK;
	assert_int_equal(moat_irq_free(&irq, &diag), MOAT_OK);
	assert_int_equal(irq.magic, 0);
	assert_null(irq.unit);
	assert_int_equal(moat_irq_free(&irq, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_irq_set_dest(&irq, 0, &d, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(f->nu.irq_free_calls, 2);

	/* the unit refuses the allocation: the handle is left as it was */
	f->nu.fail_irq = MOAT_ERR_NO_SPACE;
	memset(&irq, 0x33, sizeof(irq));
	copy = irq;
	assert_int_equal(moat_irq_alloc(f->sys, &src, 1, &d, &irq, &diag), MOAT_ERR_NO_SPACE);
	assert_int_equal(memcmp(&irq, &copy, sizeof(irq)), 0);
	fx_free(f);
}

static void fault_interrupts_count_before_they_change_anything(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct null_unit msi;
	struct moat_irq_dest d = to(2, 0x70);
	struct moat_fault_irq_msi out[2];
	unsigned n = 99;
	struct moat_diag diag;

	nu_init(&msi, 1, -1);
	msi.unit.flags |= MOAT_UNIT_F_FAULT_MSI;
	assert_int_equal(moat_system_add_unit(f->sys, &msi.unit), MOAT_OK);
	assert_int_equal(moat_fault_irq_enable(f->sys, &d, NULL, 0, &n, &diag), MOAT_ERR_NO_SPACE);
	assert_int_equal(n, 1);
	assert_int_equal(f->nu.fault_irq_calls + msi.fault_irq_calls, 0);
	d.delivery = MOAT_IRQ_DM_NMI;
	d.vector = 0;
	assert_int_equal(moat_fault_irq_enable(f->sys, &d, out, 2, &n, &diag), MOAT_ERR_INVALID_ARG);
	d = to(2, 0x70);
	assert_int_equal(moat_fault_irq_enable(f->sys, &d, out, 2, &n, &diag), MOAT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].segment, 1);
	assert_int_equal(out[0].rid, 0x0008);
	assert_int_equal(out[0].msg.address, 0xfee02000);
	assert_int_equal(out[0].msg.data, 0x70);
	assert_int_equal(f->nu.fault_irq_calls, 1);
	assert_int_equal(msi.fault_irq_calls, 1);
	assert_int_equal(moat_fault_irq_disable(f->sys, &diag), MOAT_OK);
	assert_null(f->nu.fault_dest);
	assert_null(msi.fault_dest);
	assert_int_equal(moat_fault_irq_disable(NULL, &diag), MOAT_ERR_INVALID_ARG);
	fx_free(f);
}

static const struct moat_audit_violation *find(const struct moat_audit_report *r, enum moat_audit_kind k)
{
	for (unsigned i = 0; i < r->count; i++)
		if (r->v[i].kind == k)
			return &r->v[i];
	return NULL;
}

static void the_auditor_names_each_interrupt_violation(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct moat_audit_report *r = calloc(1, sizeof(*r));
	const struct moat_audit_violation *v;
	struct moat_domain dom;
	char line[256];

	assert_non_null(r);
	/* a clean unit: remapping as set, an allocated entry, a blocking device, a page nobody maps */
	struct moat_unit_irq *rec = f->nu.irq_recs;
	rec[0] = (struct moat_unit_irq){ .kind = MOAT_UNIT_IRQ_STATE, .as_set = true };
	rec[1] = (struct moat_unit_irq){ .kind = MOAT_UNIT_IRQ_ENTRY, .rid = DEV, .owner = DEV, .index = 3,
					 .phys = 0x5030, .present = true, .allocated = true, .verified = true,
					 .source_ok = true };
	rec[2] = (struct moat_unit_irq){ .kind = MOAT_UNIT_IRQ_ENTRY, .index = 4, .phys = 0x5040, .allocated = true };
	rec[3] = (struct moat_unit_irq){ .kind = MOAT_UNIT_IRQ_DEVICE, .rid = DEV, .remapped = true, .table_ok = true };
	rec[4] = (struct moat_unit_irq){ .kind = MOAT_UNIT_IRQ_PAGE, .phys = 0x20003000 };
	f->nu.nirq_recs = 5;
	assert_int_equal(moat_domain_create(f->sys, &dom), MOAT_OK);
	assert_int_equal(moat_domain_map(&dom, 0, 0x20000000, 0x3000, MOAT_PT_RW, NULL), MOAT_OK);
	assert_audit_clean(f->sys);

	/* then one of each */
	rec[0].as_set = false;
	rec[5] = (struct moat_unit_irq){ .kind = MOAT_UNIT_IRQ_ENTRY, .rid = MOAT_RID(0, 9, 0), .index = 7,
					 .raw = { 0x4100000001ull, 0 }, .phys = 0x5070, .present = true };
	rec[6] = (struct moat_unit_irq){ .kind = MOAT_UNIT_IRQ_ENTRY, .rid = DEV, .owner = DEV, .index = 8,
					 .phys = 0x5080, .present = true, .allocated = true };
	rec[7] = (struct moat_unit_irq){ .kind = MOAT_UNIT_IRQ_ENTRY, .rid = MOAT_RID(0, 3, 0), .owner = DEV, .index = 9,
					 .phys = 0x5090, .present = true, .allocated = true, .verified = true };
	rec[8] = (struct moat_unit_irq){ .kind = MOAT_UNIT_IRQ_DEVICE, .rid = MOAT_RID(1, 0, 0), .raw = { 0 } };
	rec[9] = (struct moat_unit_irq){ .kind = MOAT_UNIT_IRQ_DEVICE, .rid = MOAT_RID(1, 0, 1), .remapped = true,
					 .forwards = true, .raw = { 0x1000000000000001ull } };
	rec[10] = (struct moat_unit_irq){ .kind = MOAT_UNIT_IRQ_DEVICE, .rid = MOAT_RID(1, 0, 2), .remapped = true };
	f->nu.nirq_recs = 11;
	assert_int_equal(moat_domain_map(&dom, 0x10000, 0x20003000, 0x1000, MOAT_PT_READ, NULL), MOAT_OK);
	assert_int_equal(moat_audit(f->sys, r), 8);
	assert_int_equal(r->status, MOAT_OK);

	v = find(r, MOAT_AUDIT_IRQ_OFF);
	assert_non_null(v);
	assert_string_equal(moat_audit_kind_str(v->kind), "interrupt remapping not as set");
	v = find(r, MOAT_AUDIT_IRQ_UNALLOCATED);
	assert_non_null(v);
	assert_int_equal(v->rid, MOAT_RID(0, 9, 0));
	assert_int_equal(v->iova, 7);
	assert_int_equal(v->phys, 0x4100000001ull);
	assert_int_equal(v->hit_base, 0x5070);
	moat_audit_format(v, line, sizeof(line));
	assert_string_equal(line, "segment 0000: interrupt entry Moat did not allocate: entry 7 at 0x5070 "
				  "(0x0000004100000001) checks 00:09.0");
	v = find(r, MOAT_AUDIT_IRQ_UNVERIFIED);
	assert_non_null(v);
	assert_int_equal(v->iova, 8);
	v = find(r, MOAT_AUDIT_IRQ_PASSTHROUGH);
	assert_non_null(v);
	assert_int_equal(v->rid, MOAT_RID(1, 0, 0));
	moat_audit_format(v, line, sizeof(line));
	assert_string_equal(line, "device 0000:01:00.0: interrupts pass unremapped (device-table interrupt fields "
				  "0x0000000000000000)");
	v = find(r, MOAT_AUDIT_IRQ_FORWARD);
	assert_non_null(v);
	assert_int_equal(v->rid, MOAT_RID(1, 0, 1));
	v = find(r, MOAT_AUDIT_IRQ_TABLE_MAPPED);
	assert_non_null(v);
	assert_int_equal(v->domain_id, dom.id);
	assert_int_equal(v->iova, 0x10000);
	assert_int_equal(v->hit_base, 0x20003000);
	moat_audit_format(v, line, sizeof(line));
	assert_string_equal(line, "domain 1: iova 0x10000 -> phys 0x20003000 (0x1000 bytes) maps an interrupt table "
				  "(page 0x20003000)");
	/* two of another device: an entry checking 00:03.0 for 00:02.0, a device on a foreign table */
	unsigned wrong = 0;
	for (unsigned i = 0; i < r->count; i++) {
		if (r->v[i].kind != MOAT_AUDIT_IRQ_WRONG_SOURCE)
			continue;
		wrong++;
		moat_audit_format(&r->v[i], line, sizeof(line));
		if (r->v[i].hit_base)
			assert_string_equal(line, "segment 0000: interrupt entry of another device: entry 9 at 0x5090 "
						  "(0x0000000000000000) checks 00:03.0, allocated for 00:02.0");
		else
			assert_int_equal(r->v[i].rid, MOAT_RID(1, 0, 2));
	}
	assert_int_equal(wrong, 2);
	/* explicit values, apart from the other kinds */
	assert_int_equal(MOAT_AUDIT_IRQ_UNALLOCATED, 32);
	assert_int_equal(MOAT_AUDIT_IRQ_OFF, 38);
	assert_string_equal(moat_audit_kind_str((enum moat_audit_kind)39), "unknown violation");

	f->nu.nirq_recs = 0;
	assert_int_equal(moat_domain_destroy(&dom), MOAT_OK);
	free(r);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allocation_checks_its_arguments_before_the_unit_sees_them),
		cmocka_unit_test(routing_finds_the_unit_or_says_why_not),
		cmocka_unit_test(ioapic_and_hpet_route_through_their_description_entries),
		cmocka_unit_test(handles_are_live_from_alloc_to_free),
		cmocka_unit_test(fault_interrupts_count_before_they_change_anything),
		cmocka_unit_test(the_auditor_names_each_interrupt_violation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
