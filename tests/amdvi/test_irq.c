/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupt remapping of the AMD-Vi driver against the simulated IOMMU: every device-table entry
 * remapping or blocking (IV, IntCtl, IntTabLen, pass bits from the IVHD settings), a table per
 * device or alias group, INVALIDATE_INTERRUPT_TABLE after every change, basic and GA-mode
 * entries, x2APIC destinations, IOAPIC entries, multi-vector blocks, entries never seen
 * half-written, errors that change nothing, the events blocked interrupts log, and the event-log
 * interrupt.
 */
#include "amdvi_test.h"

#define EFR_XT (EFR_QEMU | (1ull << 2))   /* XTSup, bit 2 */
#define DEV 0x0010u
#define OTHER 0x0018u
#define ALIAS 0x00f0u
#define BEHIND 0x0103u
#define IOAPIC 0x00a0u

/* Quadword 2 of a device-table entry (48882 section 2.2.2.1), written out independently. */
#define Q2_IV 1ull
#define Q2_LEN(v) ((uint64_t)(v) << 1)
#define Q2_ROOT_MASK 0x000fffffffffffc0ull
#define Q2_INIT (1ull << 56)
#define Q2_EINT (1ull << 57)
#define Q2_NMI (1ull << 58)
#define Q2_INTCTL(v) ((uint64_t)(v) << 60)
#define Q2_LINT0 (1ull << 62)
#define Q2_LINT1 (1ull << 63)
#define Q2_PASS (Q2_INIT | Q2_EINT | Q2_NMI | Q2_LINT0 | Q2_LINT1)

/* Message types in MSI data bits 10:8 */
#define MT_NMI (4u << 8)

struct fx {
	struct test_desc t;
	struct moat_amdvi_unit u;
	struct sim_amdvi *s;
	uint64_t live;
};

/* QEMU-like description; 00:03.0 has every pass bit, the alias range NMIPass, the unit an "all"
 * entry with INITPass; IOMMU up (not remapping yet). */
static struct fx *fx_new(uint64_t efr)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->live = moat_hosted_stats().pages_live;
	td_qemu_like(&f->t, 0x10, 0);
	f->t.devsets[2].amd_setting = 0xd7;               /* 00:03.0 */
	f->t.devsets[4].amd_setting = 0x04;               /* 01:00.x behind 00:1e.0 */
	f->t.units[0].flags |= MOAT_UNIT_AMD_ALL;
	f->t.units[0].amd_all_setting = 0x01;
	f->s = unit_setup_desc(&f->u, &f->t, 0, efr);
	assert_int_equal(moat_amdvi_enable(&f->u, NULL), MOAT_OK);
	return f;
}

static void fx_ir(struct fx *f, uint32_t entries, bool ga, bool x2apic)
{
	struct moat_diag diag;

	if (moat_amdvi_ir_enable(&f->u, &f->t.units[0], f->t.devsets, f->t.sys.devsets_count, entries, ga, x2apic, &diag) !=
	    MOAT_OK)
		fail_msg("ir_enable: %s", diag.msg);
}

static void fx_free(struct fx *f)
{
	unit_teardown(&f->u, f->s);
	assert_int_equal(moat_hosted_stats().pages_live, f->live);
	free(f);
}

static const uint64_t *dte(struct fx *f, uint32_t id)
{
	return sim_amdvi_dte(f->s, id);
}

static struct moat_irq_dest to(uint32_t apic, uint8_t vector)
{
	return (struct moat_irq_dest){ .apic_id = apic, .vector = vector, .delivery = MOAT_IRQ_DM_FIXED };
}

static uint32_t alloc_n(struct fx *f, uint16_t rid, unsigned n, uint32_t apic, uint8_t vector, uint16_t *devid)
{
	struct moat_irq_source src = { .kind = MOAT_IRQ_PCI, .rid = rid };
	struct moat_irq_dest d = to(apic, vector);
	struct moat_diag diag;
	uint32_t index = UINT32_MAX;
	uint16_t id;

	if (moat_amdvi_irq_alloc(&f->u, &src, n, &d, devid ? devid : &id, &index, &diag) != MOAT_OK)
		fail_msg("alloc: %s", diag.msg);
	return index;
}

static bool send(struct fx *f, uint32_t devid, uint32_t index, struct sim_amdvi_irq *r)
{
	struct moat_msi_msg m;

	moat_amdvi_irq_msi(index, &m);
	return sim_amdvi_msi(f->s, devid, m.address, m.data, r);
}

/* ---- turning it on ---- */

static void remapping_on_gives_every_device_id_iv_and_blocks(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct sim_amdvi_irq r;
	struct moat_fault ev[4];
	struct moat_fault_poll res;

	/* a device attached before keeps its translation */
	assert_int_equal(moat_amdvi_attach(&f->u, DEV, 5, 0x7f000100000ull, 4, NULL), MOAT_OK);
	uint64_t q0 = dte(f, DEV)[0], q1 = dte(f, DEV)[1];
	/* off: IV = 0, every interrupt passes as the device wrote it */
	assert_true(sim_amdvi_msi(f->s, OTHER, 0xfee03000, 0x41, &r));
	assert_int_equal(r.how, SIM_IRQ_PASSED);
	assert_int_equal(r.vector, 0x41);

	unsigned ia = f->s->op_count[8];
	fx_ir(f, 512, false, false);
	assert_int_equal(f->s->op_count[8], ia + 1);
	assert_false(f->s->control & (SIM_CTL_GA_EN | SIM_CTL_XT_EN));
	for (uint32_t id = 0; id < sim_amdvi_dte_count(f->s); id++) {
		uint64_t q2 = dte(f, id)[2];
		uint64_t pass = Q2_INIT;   /* the "all" entry */

		if (id == OTHER)
			pass |= Q2_PASS;
		if ((id >= 0x100 && id <= 0x107) || id == ALIAS)
			pass |= Q2_NMI;
		if (q2 != (Q2_IV | Q2_INTCTL(0) | pass))
			fail_msg("device id 0x%x: quadword 2 0x%llx", id, (unsigned long long)q2);
	}
	assert_int_equal(dte(f, DEV)[0], q0);
	assert_int_equal(dte(f, DEV)[1], q1);

	/* a device without interrupts: aborted, INVALID_DEVICE_REQUEST type 101b */
	assert_false(sim_amdvi_msi(f->s, OTHER, 0xfee03000, 0x41, &r));
	assert_int_equal(r.event, 8);
	/* NMI: passes where the IVHD says NMIPass, blocked elsewhere */
	assert_true(sim_amdvi_msi(f->s, OTHER, 0xfee00000, MT_NMI, &r));
	assert_false(sim_amdvi_msi(f->s, DEV, 0xfee00000, MT_NMI, &r));
	assert_int_equal(r.event, 2);
	assert_int_equal(moat_amdvi_event_poll(&f->u, ev, 4, &res), MOAT_OK);
	assert_int_equal(res.count, 2);
	assert_int_equal(ev[0].reason, MOAT_AMDVI_EV_INVALID_DEVICE_REQUEST);
	assert_int_equal(ev[0].rid, OTHER);
	assert_true(ev[0].is_interrupt);
	assert_int_equal(ev[0].fault_class, MOAT_FAULT_BAD_DEVICE);
	assert_int_equal(ev[1].reason, MOAT_AMDVI_EV_IO_PAGE_FAULT);
	assert_int_equal(ev[1].rid, DEV);
	assert_true(ev[1].is_interrupt);
	assert_int_equal(ev[1].fault_class, MOAT_FAULT_BAD_DEVICE);
	assert_true(moat_amdvi_ir_live(&f->u));
	assert_int_equal(f->s->violations, 0);
	/* detaching keeps the interrupt fields */
	assert_int_equal(moat_amdvi_detach(&f->u, DEV, NULL), MOAT_OK);
	assert_int_equal(dte(f, DEV)[2], Q2_IV | Q2_INIT);
	fx_free(f);
}

static void refused_remapping_changes_nothing(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	struct moat_diag diag;

	assert_non_null(f);
	f->live = moat_hosted_stats().pages_live;
	td_qemu_like(&f->t, 0x10, 0);
	f->s = unit_setup_desc(&f->u, &f->t, 0, EFR_HATS0_IA);   /* no GASup, no XTSup */
	assert_int_equal(moat_amdvi_ir_enable(&f->u, &f->t.units[0], f->t.devsets, f->t.sys.devsets_count, 512, false,
					      false, &diag),
			 MOAT_ERR_STATE);   /* the IOMMU is off */
	assert_int_equal(moat_amdvi_enable(&f->u, NULL), MOAT_OK);
	unsigned nlog = f->s->nlog, ncmds = f->s->ncmds;
	const struct moat_unit_desc *d = &f->t.units[0];
	uint32_t n = f->t.sys.devsets_count;

	assert_int_equal(moat_amdvi_ir_enable(&f->u, d, f->t.devsets, n, 256, true, false, &diag), MOAT_ERR_UNSUPPORTED);
	assert_non_null(strstr(diag.msg, "GASup"));
	assert_int_equal(moat_amdvi_ir_enable(&f->u, d, f->t.devsets, n, 256, true, true, &diag), MOAT_ERR_UNSUPPORTED);
	static const uint32_t bad[] = { 0, 3, 2048 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(moat_amdvi_ir_enable(&f->u, d, f->t.devsets, n, bad[i], false, false, NULL),
				 MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_ir_enable(&f->u, NULL, f->t.devsets, n, 512, false, false, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_ir_enable(&f->u, d, f->t.devsets, 2, 512, false, false, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(f->s->nlog, nlog);
	assert_int_equal(f->s->ncmds, ncmds);
	for (uint32_t id = 0; id < sim_amdvi_dte_count(f->s); id++)
		assert_int_equal(dte(f, id)[2], 0);
	assert_false(f->u.ir_enabled);
	fx_free(f);

	/* 128-bit tables hold 256 entries */
	f = fx_new(EFR_QEMU);
	assert_int_equal(moat_amdvi_ir_enable(&f->u, &f->t.units[0], f->t.devsets, f->t.sys.devsets_count, 512, true,
					      false, NULL),
			 MOAT_ERR_INVALID_ARG);
	fx_free(f);
}

/* ---- tables ---- */

static void a_device_gets_its_table_at_its_first_interrupt(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct sim_amdvi_irq r;
	uint16_t devid;

	fx_ir(f, 512, false, false);
	unsigned from = f->s->ncmds;
	uint32_t i = alloc_n(f, DEV, 1, 3, 0x40, &devid);
	const struct moat_amdvi_irt *t = moat_amdvi_irt_of(&f->u, DEV);

	assert_int_equal(devid, DEV);
	assert_int_equal(i, 0);
	assert_non_null(t);
	assert_int_equal(dte(f, DEV)[2], Q2_IV | Q2_LEN(9) | t->phys | Q2_INTCTL(2) | Q2_INIT);
	assert_int_equal(sim_amdvi_count_cmds(f->s, 2, from), 1);   /* INVALIDATE_DEVTAB_ENTRY */
	assert_int_equal(sim_amdvi_count_cmds(f->s, 5, from), 1);   /* INVALIDATE_INTERRUPT_TABLE */
	assert_int_equal(f->s->cmds[f->s->ncmds - 1][0] >> 60, 1);  /* COMPLETION_WAIT last */
	assert_int_equal(f->s->cmds[f->s->ncmds - 2][0], (5ull << 60) | DEV);
	assert_true(send(f, DEV, i, &r));
	assert_int_equal(r.how, SIM_IRQ_REMAPPED);
	assert_int_equal(r.vector, 0x40);
	assert_int_equal(r.dest, 3);
	/* the same message from another device: its own entry blocks it */
	assert_false(send(f, OTHER, i, &r));
	assert_int_equal(r.event, 8);
	/* a second interrupt: same table, no new device-table entry */
	from = f->s->ncmds;
	assert_int_equal(alloc_n(f, DEV, 1, 3, 0x41, NULL), 1);
	assert_int_equal(sim_amdvi_count_cmds(f->s, 2, from), 0);
	assert_int_equal(sim_amdvi_count_cmds(f->s, 5, from), 1);
	assert_int_equal(f->u.ir_tables, 1);

	/* behind an alias: the alias group's table, every member's entry pointing at it */
	i = alloc_n(f, BEHIND, 1, 0, 0x50, &devid);
	assert_int_equal(devid, ALIAS);
	t = moat_amdvi_irt_of(&f->u, ALIAS);
	assert_non_null(t);
	for (uint32_t id = 0x100; id <= 0x107; id++)
		assert_int_equal(dte(f, id)[2] & ~Q2_PASS, Q2_IV | Q2_LEN(9) | t->phys | Q2_INTCTL(2));
	assert_int_equal(dte(f, ALIAS)[2] & ~Q2_PASS, Q2_IV | Q2_LEN(9) | t->phys | Q2_INTCTL(2));
	assert_true(send(f, ALIAS, i, &r));
	assert_int_equal(r.vector, 0x50);
	uint64_t pages[600];
	unsigned n;
	assert_int_equal(moat_amdvi_pages(&f->u, pages, 600, &n), MOAT_OK);
	assert_int_equal(pages[n - 1], t->phys);
	fx_free(f);
}

static void table_length_and_remap_enable_are_checked(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct sim_amdvi_irq r;
	struct moat_fault ev[4];
	struct moat_fault_poll res;

	fx_ir(f, 16, false, false);
	uint32_t i = alloc_n(f, DEV, 1, 0, 0x40, NULL);
	assert_int_equal(dte(f, DEV)[2] & Q2_LEN(15), Q2_LEN(4));
	assert_false(send(f, DEV, 20, &r));              /* past the 16 entries */
	assert_int_equal(r.event, 2);
	assert_false(send(f, DEV, i + 1, &r));           /* in the table, not allocated (RemapEn 0) */
	assert_int_equal(r.event, 2);
	assert_int_equal(moat_amdvi_event_poll(&f->u, ev, 4, &res), MOAT_OK);
	assert_int_equal(res.count, 2);
	for (unsigned k = 0; k < 2; k++) {
		assert_int_equal(ev[k].reason, MOAT_AMDVI_EV_IO_PAGE_FAULT);
		assert_true(ev[k].is_interrupt);
		assert_true(ev[k].is_write);
		assert_int_equal(ev[k].fault_class, MOAT_FAULT_BAD_DEVICE);
		assert_int_equal(ev[k].address, 0xfee00000);
	}
	/* IntCtl forwarding unmapped (01b, planted) lets anything through: Moat never writes it */
	((uint64_t *)dte(f, OTHER))[2] = (dte(f, OTHER)[2] & ~Q2_INTCTL(3)) | Q2_INTCTL(1);
	assert_int_equal(moat_amdvi_inval_devtab(&f->u, OTHER, NULL), MOAT_OK);
	assert_true(sim_amdvi_msi(f->s, OTHER, 0xfee01000, 0x99, &r));
	assert_int_equal(r.how, SIM_IRQ_PASSED);
	fx_free(f);
}

static void a_freed_entry_is_blocked_once_invalidated(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct sim_amdvi_irq r;
	uint32_t i = (fx_ir(f, 512, false, false), alloc_n(f, DEV, 1, 0, 0x40, NULL));
	uint32_t j = alloc_n(f, DEV, 1, 0, 0x41, NULL);
	struct moat_amdvi_irte e;

	assert_true(send(f, DEV, i, &r));
	assert_true(send(f, DEV, i, &r));
	assert_true(r.cached);
	unsigned from = f->s->ncmds;
	assert_int_equal(moat_amdvi_irq_free(&f->u, DEV, i, 1, NULL), MOAT_OK);
	assert_int_equal(sim_amdvi_count_cmds(f->s, 5, from), 1);
	assert_false(send(f, DEV, i, &r));
	assert_int_equal(moat_amdvi_irte_get(&f->u, moat_amdvi_irt_of(&f->u, DEV), i, &e), MOAT_OK);
	assert_false(e.present || e.allocated);

	/* Without the invalidation the IOMMU would go on delivering: the simulator catches it. */
	assert_true(send(f, DEV, j, &r));
	*((volatile uint32_t *)moat_amdvi_irt_of(&f->u, DEV)->virt + j) = 0;
	assert_true(send(f, DEV, j, &r));
	assert_true(r.cached);
	assert_int_equal(moat_amdvi_inval_irt(&f->u, DEV, NULL), MOAT_OK);
	assert_false(send(f, DEV, j, &r));
	*((volatile uint32_t *)moat_amdvi_irt_of(&f->u, DEV)->virt + j) = 0x00410001;
	fx_free(f);
}

static void the_last_free_takes_the_table_away(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct sim_amdvi_irq r;

	fx_ir(f, 512, false, false);
	uint64_t live = moat_hosted_stats().pages_live;
	uint32_t i = alloc_n(f, OTHER, 4, 0, 0x40, NULL);
	assert_int_equal(moat_hosted_stats().pages_live, live + 1);
	unsigned from = f->s->ncmds;
	assert_int_equal(moat_amdvi_irq_free(&f->u, OTHER, i, 4, NULL), MOAT_OK);
	assert_int_equal(dte(f, OTHER)[2], Q2_IV | Q2_INTCTL(0) | Q2_PASS);   /* pass bits kept */
	assert_int_equal(sim_amdvi_count_cmds(f->s, 2, from), 1);
	assert_int_equal(f->u.ir_tables, 0);
	assert_null(moat_amdvi_irt_of(&f->u, OTHER));
	assert_int_equal(moat_hosted_stats().pages_live, live);
	assert_false(send(f, OTHER, i, &r));
	assert_int_equal(r.event, 8);
	fx_free(f);
}

/* ---- formats ---- */

static void ga_entries_and_x2apic_destinations(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct sim_amdvi_irq r;
	struct moat_amdvi_irte e;
	struct moat_irq_source src = { .kind = MOAT_IRQ_PCI, .rid = DEV };
	struct moat_irq_dest big = to(0x12345678, 0x40);
	uint16_t devid;
	uint32_t i;

	fx_ir(f, 256, true, false);
	assert_true(f->s->control & SIM_CTL_GA_EN);
	assert_false(f->s->control & SIM_CTL_XT_EN);
	i = alloc_n(f, DEV, 1, 0xab, 0x42, NULL);
	assert_int_equal(moat_amdvi_irte_get(&f->u, moat_amdvi_irt_of(&f->u, DEV), i, &e), MOAT_OK);
	/* 128 bits: RemapEn, destination 31:8 of the low quadword, vector in the high one */
	assert_int_equal(e.lo, 1 | (0xabull << 8));
	assert_int_equal(e.hi, 0x42);
	assert_true(send(f, DEV, i, &r));
	assert_int_equal(r.vector, 0x42);
	assert_int_equal(r.dest, 0xab);
	assert_int_equal(moat_amdvi_irq_alloc(&f->u, &src, 1, &big, &devid, &i, NULL), MOAT_ERR_INVALID_ARG);
	fx_free(f);

	f = fx_new(EFR_QEMU);
	assert_int_equal(moat_amdvi_ir_enable(&f->u, &f->t.units[0], f->t.devsets, f->t.sys.devsets_count, 256, true, true,
					      NULL),
			 MOAT_ERR_UNSUPPORTED);   /* QEMU's model: no XTSup */
	fx_free(f);

	f = fx_new(EFR_XT);
	fx_ir(f, 256, false, true);
	assert_true(f->s->control & SIM_CTL_GA_EN);
	assert_true(f->s->control & SIM_CTL_XT_EN);
	assert_int_equal(moat_amdvi_irq_alloc(&f->u, &src, 1, &big, &devid, &i, NULL), MOAT_OK);
	assert_int_equal(moat_amdvi_irte_get(&f->u, moat_amdvi_irt_of(&f->u, DEV), i, &e), MOAT_OK);
	assert_int_equal(e.lo >> 8 & 0xffffff, 0x345678);
	assert_int_equal(e.hi >> 56, 0x12);
	assert_true(send(f, DEV, i, &r));
	assert_int_equal(r.dest, 0x12345678);
	assert_int_equal(moat_amdvi_ir_disable(&f->u, NULL), MOAT_OK);
	assert_false(f->s->control & (SIM_CTL_GA_EN | SIM_CTL_XT_EN));
	assert_int_equal(dte(f, DEV)[2], 0);
	fx_free(f);
}

/* ---- never half-written ---- */

struct watch {
	struct fx *f;
	uint32_t devid, index;
	uint8_t old_vector, new_vector;
	uint32_t old_dest, new_dest;
	unsigned seen, mixed, blocked;
};

static void watch_hook(void *ctx)
{
	struct watch *w = ctx;
	struct sim_amdvi_irq r;

	w->f->s->irte_cache[w->devid].valid = false;   /* what memory holds now */
	w->seen++;
	if (!send(w->f, w->devid, w->index, &r)) {
		w->blocked++;
		return;
	}
	if (!((r.vector == w->old_vector && r.dest == w->old_dest) || (r.vector == w->new_vector && r.dest == w->new_dest)))
		w->mixed++;
}

static struct watch retarget(struct fx *f, uint32_t i, uint8_t ov, uint32_t od, uint8_t nv, uint32_t nd)
{
	struct watch w = { f, DEV, i, ov, nv, od, nd, 0, 0, 0 };
	struct moat_irq_dest d = to(nd, nv);
	struct sim_amdvi_irq r;
	unsigned from = f->s->ncmds;

	moat_hosted_set_wmb_hook(watch_hook, &w);
	assert_int_equal(moat_amdvi_irq_set(&f->u, DEV, i, &d, NULL), MOAT_OK);
	moat_hosted_set_wmb_hook(NULL, NULL);
	assert_true(w.seen > 0);
	assert_int_equal(w.mixed, 0);
	assert_int_equal(sim_amdvi_count_cmds(f->s, 5, from), 1);
	assert_true(send(f, DEV, i, &r));
	assert_int_equal(r.vector, nv);
	assert_int_equal(r.dest, nd);
	return w;
}

static void retargeting_never_shows_a_mix(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_XT);
	struct watch w;

	/* basic entries: one 32-bit store, never blocked either */
	fx_ir(f, 512, false, false);
	uint32_t i = alloc_n(f, DEV, 1, 3, 0x40, NULL);
	w = retarget(f, i, 0x40, 3, 0x77, 9);
	assert_int_equal(w.blocked, 0);
	fx_free(f);

	/* GA entries with 32-bit destinations */
	f = fx_new(EFR_XT);
	fx_ir(f, 256, false, true);
	i = alloc_n(f, DEV, 1, 0x01000003, 0x40, NULL);
	w = retarget(f, i, 0x40, 0x01000003, 0x40, 0x01000009);   /* low quadword only: one store */
	assert_int_equal(w.blocked, 0);
	w = retarget(f, i, 0x40, 0x01000009, 0x55, 0x01000009);   /* high quadword only */
	assert_int_equal(w.blocked, 0);
	w = retarget(f, i, 0x55, 0x01000009, 0x66, 0x02000005);   /* both: through "not remapped" */
	assert_true(w.blocked > 0);
	fx_free(f);
}

/* ---- sources and blocks ---- */

static void ioapic_entries_stay_below_256_and_carry_the_offset_in_the_vector(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct moat_irq_source src = { .kind = MOAT_IRQ_IOAPIC, .rid = IOAPIC, .id = 0 };
	struct moat_irq_dest d = { .apic_id = 1, .vector = 0x30, .delivery = MOAT_IRQ_DM_FIXED, .level = true };
	struct sim_amdvi_irq r;
	uint16_t devid;
	uint32_t i;

	fx_ir(f, 1024, false, false);
	for (unsigned k = 0; k < 256; k++) {
		assert_int_equal(moat_amdvi_irq_alloc(&f->u, &src, 1, &d, &devid, &i, NULL), MOAT_OK);
		assert_int_equal(i, k);
	}
	assert_int_equal(devid, IOAPIC);
	assert_int_equal(moat_amdvi_irq_alloc(&f->u, &src, 1, &d, &devid, &i, NULL), MOAT_ERR_NO_SPACE);
	uint64_t rte = moat_amdvi_irq_ioapic_rte(200, &d);
	/* vector field = offset, fixed delivery, physical, destination 0, level, unmasked */
	assert_int_equal(rte, 200 | (1ull << 15));
	/* what the IOAPIC sends: data = vector | delivery mode << 8 | trigger << 15 */
	assert_true(sim_amdvi_msi(f->s, IOAPIC, 0xfee00000, (uint32_t)(rte & 0x7ff), &r));
	assert_int_equal(r.index, 200);
	assert_int_equal(r.vector, 0x30);
	/* a PCI device of the same table still gets offsets above 255 */
	src.kind = MOAT_IRQ_PCI;
	assert_int_equal(moat_amdvi_irq_alloc(&f->u, &src, 1, &d, &devid, &i, NULL), MOAT_OK);
	assert_int_equal(i, 256);
	fx_free(f);
}

static void multi_vector_blocks_are_aligned_and_count_up(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct sim_amdvi_irq r;
	struct moat_msi_msg m;

	fx_ir(f, 512, false, false);
	assert_int_equal(alloc_n(f, DEV, 1, 0, 0x20, NULL), 0);
	uint32_t b = alloc_n(f, DEV, 8, 2, 0x60, NULL);
	assert_int_equal(b, 8);
	moat_amdvi_irq_msi(b, &m);
	for (unsigned k = 0; k < 8; k++) {
		assert_true(sim_amdvi_msi(f->s, DEV, m.address, m.data + k, &r));   /* the device adds k */
		assert_int_equal(r.index, b + k);
		assert_int_equal(r.vector, 0x60 + k);
	}
	assert_int_equal(alloc_n(f, DEV, 2, 0, 0x30, NULL), 2);
	assert_int_equal(alloc_n(f, DEV, 32, 0, 0x30, NULL), 32);
	fx_free(f);
}

/* ---- errors ---- */

static void errors_change_nothing(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct moat_irq_source src = { .kind = MOAT_IRQ_PCI, .rid = DEV };
	struct moat_irq_dest d = to(1, 0x40);
	static uint8_t table[MOAT_PAGE_SIZE];
	struct moat_diag diag;
	uint16_t devid;
	uint32_t i, j;

	fx_ir(f, 512, false, false);
	i = alloc_n(f, DEV, 1, 1, 0x40, NULL);
	const struct moat_amdvi_irt *t = moat_amdvi_irt_of(&f->u, DEV);
	memcpy(table, t->virt, MOAT_PAGE_SIZE);
	uint64_t q2 = dte(f, DEV)[2], q2o = dte(f, OTHER)[2];
	unsigned nlog = f->s->nlog, ncmds = f->s->ncmds;
	uint64_t live = moat_hosted_stats().pages_live;

	d.delivery = MOAT_IRQ_DM_NMI;
	d.vector = 0;
	assert_int_equal(moat_amdvi_irq_alloc(&f->u, &src, 1, &d, &devid, &j, &diag), MOAT_ERR_UNSUPPORTED);
	assert_int_equal(moat_amdvi_irq_set(&f->u, DEV, i, &d, &diag), MOAT_ERR_UNSUPPORTED);
	d = to(0x100, 0x40);
	assert_int_equal(moat_amdvi_irq_alloc(&f->u, &src, 1, &d, &devid, &j, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_irq_set(&f->u, DEV, i, &d, &diag), MOAT_ERR_INVALID_ARG);
	d = to(1, 0x40);
	assert_int_equal(moat_amdvi_irq_set(&f->u, DEV, i + 1, &d, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_irq_set(&f->u, OTHER, 0, &d, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_irq_free(&f->u, DEV, i + 1, 1, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_irq_free(&f->u, DEV, 1, 2, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_irq_alloc(&f->u, &src, 3, &d, &devid, &j, &diag), MOAT_ERR_INVALID_ARG);
	assert_int_equal(memcmp(table, t->virt, MOAT_PAGE_SIZE), 0);
	assert_int_equal(dte(f, DEV)[2], q2);
	assert_int_equal(dte(f, OTHER)[2], q2o);
	assert_int_equal(f->s->nlog, nlog);
	assert_int_equal(f->s->ncmds, ncmds);
	assert_int_equal(moat_hosted_stats().pages_live, live);

	/* every table slot taken: the next device is refused before anything is written */
	for (uint32_t k = 1; f->u.ir_tables < MOAT_AMDVI_MAX_IRT; k++)
		if (k != DEV && k != ALIAS && (k < 0x100 || k > 0x107))
			alloc_n(f, (uint16_t)k, 1, 0, 0x40, NULL);
	ncmds = f->s->ncmds;
	live = moat_hosted_stats().pages_live;
	src.rid = 0x17f;
	assert_int_equal(moat_amdvi_irq_alloc(&f->u, &src, 1, &d, &devid, &j, &diag), MOAT_ERR_NO_SPACE);
	assert_non_null(strstr(diag.msg, "MOAT_AMDVI_MAX_IRT"));
	assert_int_equal(f->s->ncmds, ncmds);
	assert_int_equal(moat_hosted_stats().pages_live, live);
	assert_int_equal(dte(f, 0x17f)[2], Q2_IV | Q2_INIT);
	fx_free(f);
}

static void a_failed_command_takes_the_new_table_back(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct moat_irq_source src = { .kind = MOAT_IRQ_PCI, .rid = DEV };
	struct moat_irq_dest d = to(1, 0x40);
	struct sim_amdvi_irq r;
	uint16_t devid = 7;
	uint32_t j = 7;

	fx_ir(f, 512, false, false);
	uint64_t live = moat_hosted_stats().pages_live;
	f->s->illegal_at = 1;
	assert_int_equal(moat_amdvi_irq_alloc(&f->u, &src, 1, &d, &devid, &j, NULL), MOAT_ERR_HARDWARE);
	assert_int_equal(devid, 7);
	assert_int_equal(j, 7);
	assert_int_equal(f->u.ir_tables, 0);
	assert_int_equal(dte(f, DEV)[2], Q2_IV | Q2_INIT);
	assert_int_equal(moat_hosted_stats().pages_live, live);
	assert_false(send(f, DEV, 0, &r));
	assert_int_equal(alloc_n(f, DEV, 1, 1, 0x40, NULL), 0);
	fx_free(f);
}

/* ---- the event-log interrupt ---- */

static void event_interrupt_is_the_iommus_own_msi(void **state)
{
	(void)state;
	struct fx *f = fx_new(EFR_QEMU);
	struct moat_irq_dest d = to(2, 0x71);
	struct moat_msi_msg m;
	struct moat_fault ev[2];
	struct moat_fault_poll res;

	assert_int_equal(moat_amdvi_event_irq(&f->u, &d, &m, NULL), MOAT_OK);
	assert_int_equal(m.address, 0xfee02000);
	assert_int_equal(m.data, 0x71);
	assert_true(f->s->control & SIM_CTL_EVT_INT_EN);
	/* an event arrives and sets EventLogInt; the poll re-arms it before reading */
	f->s->status |= SIM_STS_EVT_INT;
	assert_true(sim_amdvi_event_append(f->s, (2ull << 60) | DEV, 0x1000));
	assert_int_equal(moat_amdvi_event_poll(&f->u, ev, 2, &res), MOAT_OK);
	assert_int_equal(res.count, 1);
	assert_false(f->s->status & SIM_STS_EVT_INT);
	d.apic_id = 0x100;
	assert_int_equal(moat_amdvi_event_irq(&f->u, &d, &m, NULL), MOAT_ERR_UNSUPPORTED);
	d.apic_id = 2;
	d.delivery = MOAT_IRQ_DM_NMI;
	assert_int_equal(moat_amdvi_event_irq(&f->u, &d, &m, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_event_irq(&f->u, NULL, NULL, NULL), MOAT_OK);
	assert_false(f->s->control & SIM_CTL_EVT_INT_EN);
	assert_int_equal(f->s->violations, 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(remapping_on_gives_every_device_id_iv_and_blocks),
		cmocka_unit_test(refused_remapping_changes_nothing),
		cmocka_unit_test(a_device_gets_its_table_at_its_first_interrupt),
		cmocka_unit_test(table_length_and_remap_enable_are_checked),
		cmocka_unit_test(a_freed_entry_is_blocked_once_invalidated),
		cmocka_unit_test(the_last_free_takes_the_table_away),
		cmocka_unit_test(ga_entries_and_x2apic_destinations),
		cmocka_unit_test(retargeting_never_shows_a_mix),
		cmocka_unit_test(ioapic_entries_stay_below_256_and_carry_the_offset_in_the_vector),
		cmocka_unit_test(multi_vector_blocks_are_aligned_and_count_up),
		cmocka_unit_test(errors_change_nothing),
		cmocka_unit_test(a_failed_command_takes_the_new_table_back),
		cmocka_unit_test(event_interrupt_is_the_iommus_own_msi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
