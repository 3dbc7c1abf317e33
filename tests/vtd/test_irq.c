/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupt remapping of the VT-d driver against the simulated unit: the enable sequence, every
 * check a remapped interrupt passes (format, handle, table size, present, reserved fields, source
 * id, bus range, qualifier), invalidation of freed and changed entries, x2APIC destinations,
 * multi-vector blocks, IOAPIC entries, entries never seen half-written, errors that change
 * nothing, faults the blocked interrupts record, and the fault event interrupt.
 */
#include "vtd_test.h"

#define ECAP_EIM (ECAP_QEMU | (1ull << 4))      /* ECAP.EIM, bit 4 */
#define DEV MOAT_RID(0, 2, 0)
#define OTHER MOAT_RID(0, 3, 0)
#define IOAPIC_RID MOAT_RID(0xff, 0x1f, 0)

/* Interrupt remapping table entry (section 9.10), written out independently of the driver. */
#define IRTE_P 1ull
#define IRTE_SVT(v) ((uint64_t)(v) << 18)
#define IRTE_SQ(v) ((uint64_t)(v) << 16)

static struct sim_vtd *ir_setup(struct moat_vtd_unit *u, uint64_t cap, uint64_t ecap, uint32_t entries, bool eim,
				bool cfi)
{
	struct sim_vtd *s = unit_setup(u, SIM_BASE, cap, ecap);
	struct moat_diag diag;

	assert_int_equal(moat_vtd_enable(u, &diag), MOAT_OK);
	if (moat_vtd_ir_enable(u, entries, eim, cfi, &diag) != MOAT_OK)
		fail_msg("ir_enable: %s", diag.msg);
	return s;
}

static struct moat_irq_source pci(uint16_t rid)
{
	return (struct moat_irq_source){ .kind = MOAT_IRQ_PCI, .rid = rid };
}

static struct moat_irq_dest to(uint32_t apic, uint8_t vector)
{
	return (struct moat_irq_dest){ .apic_id = apic, .vector = vector, .delivery = MOAT_IRQ_DM_FIXED };
}

static uint32_t alloc1(struct moat_vtd_unit *u, uint16_t rid, uint32_t apic, uint8_t vector)
{
	struct moat_irq_source src = pci(rid);
	struct moat_irq_dest d = to(apic, vector);
	struct moat_diag diag;
	uint32_t index = UINT32_MAX;

	if (moat_vtd_irq_alloc(u, &src, 1, &d, &index, &diag) != MOAT_OK)
		fail_msg("alloc: %s", diag.msg);
	return index;
}

/* Resolve the message of entry @index (plus @sub in the data) as requester @rid. */
static bool send(struct sim_vtd *s, uint16_t rid, uint32_t index, uint32_t sub, struct sim_vtd_irq *out)
{
	struct moat_msi_msg m;

	moat_vtd_irq_msi(index, &m);
	return sim_vtd_msi(s, rid, m.address, m.data + sub, out);
}

static int gcmd_write_with(const struct sim_vtd *s, uint32_t bit, bool set, unsigned from)
{
	for (unsigned i = from; i < s->nlog; i++)
		if (s->log[i].off == SIM_GCMD && !!(s->log[i].value & bit) == set && !!(s->log[i].gsts & bit) != set)
			return (int)i;
	return -1;
}

/* IIDX of an interrupt-entry-cache invalidation descriptor (6.5.2.7: bits 47:32). */
static uint32_t field_iidx(uint64_t d0)
{
	return (uint32_t)(d0 >> 32) & 0xffff;
}

static void poll_one(struct moat_vtd_unit *u, struct moat_fault *f)
{
	struct moat_fault_poll res;

	assert_int_equal(moat_vtd_fault_poll(u, f, 1, &res), MOAT_OK);
	assert_int_equal(res.count, 1);
}

/* ---- turning it on ---- */

static void remapping_on_latches_the_table_invalidates_then_enables(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);
	struct sim_vtd_irq r;
	uint64_t live = moat_hosted_stats().pages_live;

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	/* off: a device's compatibility-format write is an interrupt to whatever it names */
	assert_true(sim_vtd_msi(s, DEV, 0xfee03000, 0x41, &r));
	assert_false(r.remapped);
	assert_int_equal(r.vector, 0x41);
	assert_int_equal(r.dest, 3);

	unsigned from = s->nlog;
	unsigned iec = s->iec_global;
	assert_int_equal(moat_vtd_ir_enable(&u, 4096, false, false, NULL), MOAT_OK);
	int irta = sim_vtd_find_write(s, SIM_IRTA, from);
	int sirtp = gcmd_write_with(s, SIM_SIRTP, true, from);
	int ire = gcmd_write_with(s, SIM_IRE, true, from);
	assert_true(irta >= 0 && sirtp > irta && ire > sirtp);
	assert_int_equal(s->iec_global, iec + 1);
	/* 4096 entries: 16 pages, consecutive and aligned to 64 KiB; size field 11 (2^12 entries) */
	assert_int_equal(u.ir_phys % (16 * MOAT_PAGE_SIZE), 0);
	for (unsigned i = 0; i < 16; i++)
		assert_ptr_equal(moat_plat_phys_to_virt(u.ir_phys + i * MOAT_PAGE_SIZE), u.ir_page[i]);
	assert_int_equal(s->irta_latched, u.ir_phys | 11);
	assert_true(s->gsts & SIM_IRE);
	assert_false(s->gsts & SIM_CFI);
	assert_int_equal(s->gcmd_violations, 0);
	assert_true(moat_vtd_ir_live(&u));
	/* table and records are the unit's pages */
	uint64_t pages[64];
	unsigned n;
	assert_int_equal(moat_vtd_pages(&u, pages, 64, &n), MOAT_OK);
	assert_int_equal(n, 3 + 16 + 4);
	/* on: nothing is delivered any more, not even the compatibility format */
	assert_false(sim_vtd_msi(s, DEV, 0xfee03000, 0x41, &r));
	assert_int_equal(r.reason, 0x25);
	unit_teardown(&u, s);
	assert_int_equal(moat_hosted_stats().pages_live, live);
}

static void remapping_refused_leaves_the_unit_untouched(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);
	struct moat_diag diag;
	uint64_t live = moat_hosted_stats().pages_live;
	unsigned nlog = s->nlog;

	assert_int_equal(moat_vtd_ir_enable(&u, 256, false, false, &diag), MOAT_ERR_STATE);   /* translation off */
	assert_int_equal(s->nlog, nlog);
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	nlog = s->nlog;
	live = moat_hosted_stats().pages_live;
	assert_int_equal(moat_vtd_ir_enable(&u, 256, true, false, &diag), MOAT_ERR_UNSUPPORTED);   /* no EIM */
	assert_non_null(strstr(diag.msg, "EIM"));
	static const uint32_t bad[] = { 0, 1, 3, 1000, 131072 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(moat_vtd_ir_enable(&u, bad[i], false, false, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(s->nlog, nlog);
	assert_int_equal(moat_hosted_stats().pages_live, live);
	assert_false(u.ir_enabled);
	unit_teardown(&u, s);

	/* a unit without ECAP.IR */
	s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU & ~(1ull << 3));
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	nlog = s->nlog;
	assert_int_equal(moat_vtd_ir_enable(&u, 256, false, false, &diag), MOAT_ERR_UNSUPPORTED);
	assert_non_null(strstr(diag.msg, "ECAP.IR"));
	assert_int_equal(s->nlog, nlog);
	unit_teardown(&u, s);
}

static void compatibility_format_is_blocked_unless_asked(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_NFR8, ECAP_QEMU);
	struct sim_vtd_irq r;
	struct moat_fault f;

	s->gsts |= SIM_CFI;        /* firmware left compatibility format on */
	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_ir_enable(&u, 256, false, false, NULL), MOAT_OK);
	assert_false(s->gsts & SIM_CFI);
	assert_false(sim_vtd_msi(s, DEV, 0xfee00000, 0x30, &r));
	assert_int_equal(r.reason, 0x25);
	poll_one(&u, &f);
	assert_int_equal(f.reason, 0x25);
	assert_true(f.is_interrupt);
	assert_int_equal(f.rid, DEV);
	assert_int_equal(f.fault_class, MOAT_FAULT_BAD_DEVICE);
	assert_int_equal(s->gcmd_violations, 0);
	unit_teardown(&u, s);

	s = ir_setup(&u, CAP_QEMU, ECAP_QEMU, 256, false, true);
	assert_true(s->gsts & SIM_CFI);
	assert_true(sim_vtd_msi(s, DEV, 0xfee00000, 0x30, &r));
	assert_false(r.remapped);
	assert_int_equal(r.vector, 0x30);
	/* turned off again by the disable */
	assert_int_equal(moat_vtd_ir_disable(&u, NULL), MOAT_OK);
	assert_false(s->gsts & (SIM_CFI | SIM_IRE));
	unit_teardown(&u, s);
}

/* ---- the checks of a remapped interrupt ---- */

static void an_entry_delivers_only_to_its_own_requester(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = ir_setup(&u, CAP_NFR8, ECAP_QEMU, 256, false, false);
	struct sim_vtd_irq r;
	struct moat_fault f;
	struct moat_vtd_irte e;
	uint32_t i = alloc1(&u, DEV, 3, 0x40);

	assert_int_equal(moat_vtd_irte_get(&u, i, &e), MOAT_OK);
	assert_true(e.present && e.allocated);
	assert_int_equal(e.hi, IRTE_SVT(1) | IRTE_SQ(0) | DEV);
	assert_true(send(s, DEV, i, 0, &r));
	assert_true(r.remapped);
	assert_int_equal(r.index, i);
	assert_int_equal(r.vector, 0x40);
	assert_int_equal(r.dest, 3);
	assert_false(r.logical || r.level);
	assert_int_equal(r.delivery, MOAT_IRQ_DM_FIXED);

	/* another device naming the same handle */
	assert_false(send(s, OTHER, i, 0, &r));
	assert_int_equal(r.reason, 0x26);
	poll_one(&u, &f);
	assert_int_equal(f.reason, 0x26);
	assert_int_equal(f.rid, OTHER);
	assert_true(f.is_interrupt);
	assert_int_equal(f.interrupt_index, i);
	assert_int_equal(f.fault_class, MOAT_FAULT_BAD_DEVICE);
	assert_non_null(strstr(f.reason_text, "source-id"));
	unit_teardown(&u, s);
}

static void a_bridge_range_admits_every_bus_below_it(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = ir_setup(&u, CAP_NFR8, ECAP_QEMU, 256, false, false);
	struct moat_irq_source src = { .kind = MOAT_IRQ_PCI_BUSES, .rid = MOAT_RID(2, 0, 0), .bus_last = 4 };
	struct moat_irq_dest d = to(1, 0x60);
	struct moat_vtd_irte e;
	struct sim_vtd_irq r;
	uint32_t i;

	assert_int_equal(moat_vtd_irq_alloc(&u, &src, 1, &d, &i, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_irte_get(&u, i, &e), MOAT_OK);
	assert_int_equal(e.svt, MOAT_VTD_SVT_BUS);
	assert_int_equal(e.sid, 0x0204);
	for (unsigned bus = 1; bus <= 5; bus++) {
		bool in = bus >= 2 && bus <= 4;

		assert_int_equal(send(s, MOAT_RID(bus, 7, 1), i, 0, &r), in);
		if (!in)
			assert_int_equal(r.reason, 0x26);
	}
	unit_teardown(&u, s);
}

static void the_source_qualifier_widens_the_check_only_when_set(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = ir_setup(&u, CAP_NFR8, ECAP_QEMU, 256, false, false);
	struct sim_vtd_irq r;
	uint32_t i = alloc1(&u, MOAT_RID(0, 4, 0), 0, 0x44);
	volatile uint64_t *e = (volatile uint64_t *)u.ir_page[0] + 2 * i;

	/* Moat checks all 16 bits: the device's other functions are other devices */
	for (unsigned fn = 1; fn < 8; fn++)
		assert_false(send(s, MOAT_RID(0, 4, fn), i, 0, &r));
	/* an entry with SQ 11b (planted) ignores the function bits: that is what SQ does */
	e[1] |= IRTE_SQ(3);
	assert_int_equal(moat_vtd_flush_iec_index(&u, i, 0, NULL), MOAT_OK);
	for (unsigned fn = 0; fn < 8; fn++)
		assert_true(send(s, MOAT_RID(0, 4, fn), i, 0, &r));
	assert_false(send(s, MOAT_RID(0, 5, 0), i, 0, &r));
	e[1] = (e[1] & ~IRTE_SQ(3)) | IRTE_SQ(1);   /* SQ 01b: bit 2 of the function ignored */
	assert_int_equal(moat_vtd_flush_iec_index(&u, i, 0, NULL), MOAT_OK);
	assert_true(send(s, MOAT_RID(0, 4, 4), i, 0, &r));
	assert_false(send(s, MOAT_RID(0, 4, 1), i, 0, &r));
	unit_teardown(&u, s);
}

static void not_present_past_the_table_and_reserved_are_blocked(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = ir_setup(&u, CAP_NFR8, ECAP_QEMU, 256, false, false);
	struct moat_fault f[8];
	struct moat_fault_poll res;
	struct sim_vtd_irq r;
	uint32_t i = alloc1(&u, DEV, 0, 0x40);

	assert_false(send(s, DEV, i + 1, 0, &r));             /* never allocated */
	assert_int_equal(r.reason, 0x22);
	assert_false(send(s, DEV, 300, 0, &r));               /* past 256 entries */
	assert_int_equal(r.reason, 0x21);
	assert_false(send(s, DEV, i, 0x10000, &r));           /* data bits 31:16 set with SHV */
	assert_int_equal(r.reason, 0x20);
	((volatile uint64_t *)u.ir_page[0])[2 * i] |= 1ull << 12;   /* a reserved bit, planted */
	assert_int_equal(moat_vtd_flush_iec_index(&u, i, 0, NULL), MOAT_OK);
	assert_false(send(s, DEV, i, 0, &r));
	assert_int_equal(r.reason, 0x24);
	assert_int_equal(moat_vtd_fault_poll(&u, f, 8, &res), MOAT_OK);
	assert_int_equal(res.count, 4);
	static const unsigned want[4] = { 0x22, 0x21, 0x20, 0x24 };
	static const enum moat_fault_class cls[4] = { MOAT_FAULT_BAD_DEVICE, MOAT_FAULT_BAD_DEVICE, MOAT_FAULT_BAD_DEVICE,
						      MOAT_FAULT_INVALID_USE };
	for (unsigned k = 0; k < 4; k++) {
		assert_int_equal(f[k].reason, want[k]);
		assert_int_equal(f[k].fault_class, cls[k]);
		assert_true(f[k].is_interrupt);
	}
	assert_int_equal(f[1].interrupt_index, 300);
	unit_teardown(&u, s);
}

static void a_freed_entry_is_blocked_once_invalidated(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = ir_setup(&u, CAP_NFR8, ECAP_QEMU, 256, false, false);
	struct sim_vtd_irq r;
	uint32_t i = alloc1(&u, DEV, 0, 0x40);
	struct moat_vtd_irte e;

	assert_true(send(s, DEV, i, 0, &r));
	assert_true(send(s, DEV, i, 0, &r));
	assert_true(r.cached);                                /* the unit keeps what it read */
	unsigned iec = s->iec_index;
	assert_int_equal(moat_vtd_irq_free(&u, i, 1, NULL), MOAT_OK);
	assert_int_equal(s->iec_index, iec + 1);
	assert_int_equal(field_iidx(s->desc[s->ndesc - 2][0]), i);
	assert_false(send(s, DEV, i, 0, &r));
	assert_int_equal(r.reason, 0x22);
	assert_int_equal(moat_vtd_irte_get(&u, i, &e), MOAT_OK);
	assert_false(e.allocated);
	assert_int_equal(e.lo | e.hi, 0);

	/* Without the invalidation the unit would go on delivering: the simulator catches it. */
	i = alloc1(&u, DEV, 0, 0x41);
	assert_true(send(s, DEV, i, 0, &r));
	((volatile uint64_t *)u.ir_page[0])[2 * i] = 0;
	assert_true(send(s, DEV, i, 0, &r));
	assert_true(r.cached);
	assert_int_equal(moat_vtd_flush_iec_index(&u, i, 0, NULL), MOAT_OK);
	assert_false(send(s, DEV, i, 0, &r));
	unit_teardown(&u, s);
}

static void x2apic_destinations_use_all_32_bits(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = ir_setup(&u, CAP_QEMU, ECAP_EIM, 256, true, false);
	struct sim_vtd_irq r;
	uint32_t i = alloc1(&u, DEV, 0x12345, 0x40);

	assert_true(s->irta_latched & (1ull << 11));
	assert_true(send(s, DEV, i, 0, &r));
	assert_int_equal(r.dest, 0x12345);
	assert_int_equal(moat_vtd_irq_set(&u, i, &(struct moat_irq_dest){ .apic_id = 0xfffffffe, .vector = 0x99 }, NULL),
			 MOAT_OK);
	assert_true(send(s, DEV, i, 0, &r));
	assert_int_equal(r.dest, 0xfffffffe);
	assert_int_equal(r.vector, 0x99);
	unit_teardown(&u, s);

	/* xAPIC mode: the id sits in DST[15:8]; above 255 is refused */
	s = ir_setup(&u, CAP_QEMU, ECAP_EIM, 256, false, false);
	i = alloc1(&u, DEV, 0xab, 0x40);
	assert_int_equal(((volatile uint64_t *)u.ir_page[0])[2 * i] >> 32, 0xab00);
	assert_true(send(s, DEV, i, 0, &r));
	assert_int_equal(r.dest, 0xab);
	struct moat_irq_source src = pci(DEV);
	uint32_t j;
	assert_int_equal(moat_vtd_irq_alloc(&u, &src, 1, &(struct moat_irq_dest){ .apic_id = 0x100, .vector = 0x40 }, &j,
					    NULL),
			 MOAT_ERR_INVALID_ARG);
	unit_teardown(&u, s);
}

static void multi_vector_blocks_are_aligned_and_count_up(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = ir_setup(&u, CAP_NFR8, ECAP_QEMU, 256, false, false);
	struct moat_irq_source src = pci(DEV);
	struct moat_irq_dest d = to(2, 0x50);
	struct sim_vtd_irq r;
	uint32_t one = alloc1(&u, OTHER, 0, 0x20), four, eight, two;

	assert_int_equal(one, 0);
	assert_int_equal(moat_vtd_irq_alloc(&u, &src, 4, &d, &four, NULL), MOAT_OK);
	assert_int_equal(four, 4);
	for (unsigned k = 0; k < 4; k++) {
		assert_true(send(s, DEV, four, k, &r));
		assert_int_equal(r.index, four + k);
		assert_int_equal(r.vector, 0x50 + k);
	}
	assert_int_equal(moat_vtd_irq_alloc(&u, &src, 8, &d, &eight, NULL), MOAT_OK);
	assert_int_equal(eight, 8);
	/* a subhandle past the block names the next entry, which checks its own requester: the same
	 * device here, so it is delivered; another device's entry would not be */
	assert_true(send(s, DEV, four, 4, &r));
	assert_int_equal(r.index, 8);
	assert_int_equal(moat_vtd_irq_free(&u, four, 4, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_irq_alloc(&u, &src, 2, &d, &two, NULL), MOAT_OK);
	assert_int_equal(two, 2);
	assert_int_equal(u.ir_used, 1 + 8 + 2);
	unit_teardown(&u, s);
}

/* ---- never half-written ---- */

struct watch {
	struct sim_vtd *s;
	uint16_t rid;
	uint32_t index;
	uint8_t old_vector, new_vector;
	uint32_t old_dest, new_dest;
	unsigned seen, mixed, blocked;
	uint16_t intruder;          /* another requester: never delivered, at any point */
	unsigned intruded;
};

static void watch_hook(void *ctx)
{
	struct watch *w = ctx;
	struct sim_vtd_irq r;
	struct moat_msi_msg m;

	/* what the unit reads from memory at this point, not from its cache */
	w->s->iec[w->index].valid = false;
	moat_vtd_irq_msi(w->index, &m);
	w->seen++;
	if (sim_vtd_msi(w->s, w->intruder, m.address, m.data, &r))
		w->intruded++;
	w->s->iec[w->index].valid = false;
	if (!sim_vtd_msi(w->s, w->rid, m.address, m.data, &r)) {
		w->blocked++;
		return;
	}
	if (!((r.vector == w->old_vector && r.dest == w->old_dest) || (r.vector == w->new_vector && r.dest == w->new_dest)))
		w->mixed++;
}

static void retargeting_is_one_store_never_a_mix(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = ir_setup(&u, CAP_QEMU, ECAP_EIM, 256, true, false);
	uint32_t i = alloc1(&u, DEV, 0x11223344, 0x40);
	struct watch w = { s, DEV, i, 0x40, 0x9a, 0x11223344, 0x55667788, 0, 0, 0, OTHER, 0 };
	unsigned iec = s->iec_index;
	struct sim_vtd_irq r;

	moat_hosted_set_wmb_hook(watch_hook, &w);
	assert_int_equal(moat_vtd_irq_set(&u, i, &(struct moat_irq_dest){ .apic_id = 0x55667788, .vector = 0x9a }, NULL),
			 MOAT_OK);
	moat_hosted_set_wmb_hook(NULL, NULL);
	assert_true(w.seen > 0);
	assert_int_equal(w.mixed, 0);
	assert_int_equal(w.blocked, 0);
	assert_int_equal(w.intruded, 0);
	assert_int_equal(s->iec_index, iec + 1);
	assert_true(send(s, DEV, i, 0, &r));
	assert_int_equal(r.vector, 0x9a);
	assert_int_equal(r.dest, 0x55667788);
	/* the same again: nothing written, nothing invalidated */
	assert_int_equal(moat_vtd_irq_set(&u, i, &(struct moat_irq_dest){ .apic_id = 0x55667788, .vector = 0x9a }, NULL),
			 MOAT_OK);
	assert_int_equal(s->iec_index, iec + 1);

	/* allocation: the source check is there before the entry is present */
	struct watch a = { s, OTHER, i + 1, 0, 0x70, 0, 5, 0, 0, 0, DEV, 0 };
	moat_hosted_set_wmb_hook(watch_hook, &a);
	assert_int_equal(alloc1(&u, OTHER, 5, 0x70), i + 1);
	moat_hosted_set_wmb_hook(NULL, NULL);
	assert_true(a.seen > 0);
	assert_int_equal(a.mixed, 0);
	assert_int_equal(a.intruded, 0);
	/* and freeing it: the owner is blocked from the first store on, nobody else ever gets in */
	a.seen = a.blocked = 0;
	moat_hosted_set_wmb_hook(watch_hook, &a);
	assert_int_equal(moat_vtd_irq_free(&u, i + 1, 1, NULL), MOAT_OK);
	moat_hosted_set_wmb_hook(NULL, NULL);
	assert_int_equal(a.blocked, a.seen);
	assert_int_equal(a.intruded, 0);
	unit_teardown(&u, s);
}

/* ---- errors ---- */

static void errors_change_nothing(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = ir_setup(&u, CAP_QEMU, ECAP_QEMU, 16, false, false);
	struct moat_irq_source src = pci(DEV);
	struct moat_irq_dest d = to(1, 0x40);
	uint32_t i = alloc1(&u, DEV, 1, 0x40), j;
	static uint8_t table[MOAT_PAGE_SIZE], recs[MOAT_PAGE_SIZE];
	struct moat_diag diag;

	memcpy(table, u.ir_page[0], MOAT_PAGE_SIZE);
	memcpy(recs, u.ir_rec[0], MOAT_PAGE_SIZE);
	unsigned nlog = s->nlog, ndesc = s->ndesc;

	assert_int_equal(moat_vtd_irq_set(&u, i + 1, &d, &diag), MOAT_ERR_INVALID_ARG);      /* not allocated */
	assert_int_equal(moat_vtd_irq_set(&u, 999, &d, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_irq_free(&u, i + 1, 1, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_irq_free(&u, 1, 2, &diag), MOAT_ERR_INVALID_ARG);          /* misaligned */
	assert_int_equal(moat_vtd_irq_free(&u, i, 3, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_irq_alloc(&u, &src, 3, &d, &j, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_irq_alloc(&u, &src, 64, &d, &j, &diag), MOAT_ERR_INVALID_ARG);
	d.vector = 0xfe;
	assert_int_equal(moat_vtd_irq_alloc(&u, &src, 4, &d, &j, &diag), MOAT_ERR_INVALID_ARG);  /* 0xfe + 3 > 0xff */
	d.vector = 0x40;
	d.apic_id = 0x100;
	assert_int_equal(moat_vtd_irq_alloc(&u, &src, 1, &d, &j, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_irq_set(&u, i, &d, &diag), MOAT_ERR_INVALID_ARG);
	d.apic_id = 1;
	/* a 16-entry table: a block of 16 no longer fits */
	assert_int_equal(moat_vtd_irq_alloc(&u, &src, 16, &d, &j, &diag), MOAT_ERR_NO_SPACE);
	assert_non_null(strstr(diag.msg, "no free block"));
	assert_int_equal(memcmp(table, u.ir_page[0], MOAT_PAGE_SIZE), 0);
	assert_int_equal(memcmp(recs, u.ir_rec[0], MOAT_PAGE_SIZE), 0);
	assert_int_equal(s->nlog, nlog);
	assert_int_equal(s->ndesc, ndesc);
	unit_teardown(&u, s);
}

static void invalidation_failure_at_allocation_takes_the_entries_back(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = ir_setup(&u, CAP_QEMU, ECAP_QEMU, 256, false, false);
	struct moat_irq_source src = pci(DEV);
	struct moat_irq_dest d = to(1, 0x40);
	struct moat_vtd_irte e;
	struct sim_vtd_irq r;
	uint32_t j = 77;

	s->iqe_at = 1;   /* the allocation's invalidation fails; its retry works */
	assert_int_equal(moat_vtd_irq_alloc(&u, &src, 2, &d, &j, NULL), MOAT_ERR_HARDWARE);
	assert_int_equal(j, 77);
	for (unsigned k = 0; k < 2; k++) {
		assert_int_equal(moat_vtd_irte_get(&u, k, &e), MOAT_OK);
		assert_false(e.allocated);
		assert_int_equal(e.lo | e.hi, 0);
		assert_false(send(s, DEV, k, 0, &r));
	}
	assert_int_equal(u.ir_used, 0);
	assert_int_equal(alloc1(&u, DEV, 1, 0x40), 0);
	unit_teardown(&u, s);
}

/* ---- IOAPIC ---- */

static void ioapic_entries_carry_trigger_and_the_ioapic_source(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = ir_setup(&u, CAP_QEMU, ECAP_QEMU, 256, false, false);
	struct moat_irq_source src = { .kind = MOAT_IRQ_IOAPIC, .rid = IOAPIC_RID, .id = 0 };
	struct moat_irq_dest d = { .apic_id = 4, .vector = 0x31, .delivery = MOAT_IRQ_DM_FIXED, .level = true,
				   .active_low = true };
	struct sim_vtd_irq r;
	uint32_t i;

	alloc1(&u, DEV, 0, 0x20);
	assert_int_equal(moat_vtd_irq_alloc(&u, &src, 1, &d, &i, NULL), MOAT_OK);
	uint64_t rte = moat_vtd_irq_ioapic_rte(i, d.vector, &d);
	/* remappable format, handle, vector repeated for EOI matching, trigger, polarity, unmasked */
	assert_true(rte & (1ull << 48));
	assert_int_equal(rte >> 49, i);
	assert_int_equal(rte & 0xff, 0x31);
	assert_true(rte & (1ull << 15));
	assert_true(rte & (1ull << 13));
	assert_false(rte & (1ull << 16));
	assert_true(sim_vtd_ioapic(s, IOAPIC_RID, rte, &r));
	assert_true(r.remapped && r.level);
	assert_int_equal(r.vector, 0x31);
	assert_int_equal(r.dest, 4);
	/* a device sending the IOAPIC's handle */
	assert_false(send(s, DEV, i, 0, &r));
	assert_int_equal(r.reason, 0x26);
	/* a compatibility-format redirection entry is blocked */
	assert_false(sim_vtd_ioapic(s, IOAPIC_RID, 0x31, &r));
	assert_int_equal(r.reason, 0x25);
	unit_teardown(&u, s);
}

/* ---- the fault event interrupt ---- */

static void fault_event_interrupt_is_programmed_then_unmasked(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);
	struct moat_irq_dest d = { .apic_id = 2, .vector = 0x70, .delivery = MOAT_IRQ_DM_FIXED };
	unsigned from = s->nlog;

	assert_true(s->fectl == 0 || s->fectl == (1u << 31));
	assert_int_equal(moat_vtd_fault_irq(&u, &d, NULL), MOAT_OK);
	assert_int_equal(s->fedata, 0x70);
	assert_int_equal(s->feaddr, 0xfee02000);
	assert_int_equal(s->fectl, 0);
	/* data and address are written while masked; the unmask is the last write */
	int data = sim_vtd_find_write(s, SIM_FEDATA, from), addr = sim_vtd_find_write(s, SIM_FEADDR, from);
	assert_true(data >= 0 && addr >= 0);
	assert_int_equal(s->log[s->nlog - 1].off, SIM_FECTL);
	assert_int_equal(s->log[s->nlog - 1].value, 0);
	assert_int_equal(s->log[from].off, SIM_FECTL);
	assert_int_equal(s->log[from].value, 1u << 31);
	assert_int_equal(sim_vtd_count_writes(s, SIM_FEUADDR), 0);   /* no EIM: no upper address */
	d.delivery = MOAT_IRQ_DM_LOWEST;
	d.logical = true;
	assert_int_equal(moat_vtd_fault_irq(&u, &d, NULL), MOAT_OK);
	assert_int_equal(s->feaddr, 0xfee02000 | (1u << 3) | (1u << 2));
	assert_int_equal(s->fedata, 0x170);
	d.apic_id = 0x100;
	assert_int_equal(moat_vtd_fault_irq(&u, &d, NULL), MOAT_ERR_UNSUPPORTED);
	d.delivery = MOAT_IRQ_DM_NMI;
	assert_int_equal(moat_vtd_fault_irq(&u, &d, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_fault_irq(&u, NULL, NULL), MOAT_OK);
	assert_int_equal(s->fectl, 1u << 31);
	unit_teardown(&u, s);

	s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_EIM);
	d = (struct moat_irq_dest){ .apic_id = 0x12345, .vector = 0x70 };
	assert_int_equal(moat_vtd_fault_irq(&u, &d, NULL), MOAT_OK);
	assert_int_equal(s->feaddr, 0xfee45000);
	assert_int_equal(s->feuaddr, 0x12300);
	unit_teardown(&u, s);
}

static void disable_turns_remapping_off_before_translation(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	uint64_t live = moat_hosted_stats().pages_live;
	struct sim_vtd *s = ir_setup(&u, CAP_QEMU, ECAP_QEMU, 256, false, false);
	struct sim_vtd_irq r;
	unsigned from = s->nlog;

	alloc1(&u, DEV, 0, 0x40);
	assert_int_equal(moat_vtd_disable(&u, NULL), MOAT_OK);
	int ire = gcmd_write_with(s, SIM_IRE, false, from), te = gcmd_write_with(s, SIM_TE, false, from);
	int qie = gcmd_write_with(s, SIM_QIE, false, from);
	assert_true(ire >= 0 && te > ire && qie > te);
	assert_false(u.ir_enabled);
	assert_true(sim_vtd_msi(s, DEV, 0xfee01000, 0x33, &r));   /* passes unremapped now */
	assert_false(r.remapped);
	assert_int_equal(moat_vtd_release(&u), MOAT_OK);
	assert_int_equal(moat_hosted_stats().pages_live, live);
	sim_vtd_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(remapping_on_latches_the_table_invalidates_then_enables),
		cmocka_unit_test(remapping_refused_leaves_the_unit_untouched),
		cmocka_unit_test(compatibility_format_is_blocked_unless_asked),
		cmocka_unit_test(an_entry_delivers_only_to_its_own_requester),
		cmocka_unit_test(a_bridge_range_admits_every_bus_below_it),
		cmocka_unit_test(the_source_qualifier_widens_the_check_only_when_set),
		cmocka_unit_test(not_present_past_the_table_and_reserved_are_blocked),
		cmocka_unit_test(a_freed_entry_is_blocked_once_invalidated),
		cmocka_unit_test(x2apic_destinations_use_all_32_bits),
		cmocka_unit_test(multi_vector_blocks_are_aligned_and_count_up),
		cmocka_unit_test(retargeting_is_one_store_never_a_mix),
		cmocka_unit_test(errors_change_nothing),
		cmocka_unit_test(invalidation_failure_at_allocation_takes_the_entries_back),
		cmocka_unit_test(ioapic_entries_carry_trigger_and_the_ioapic_source),
		cmocka_unit_test(fault_event_interrupt_is_programmed_then_unmasked),
		cmocka_unit_test(disable_turns_remapping_off_before_translation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
