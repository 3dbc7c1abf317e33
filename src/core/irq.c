/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupt remapping, the vendor-neutral part (moat/irq.h): argument checks, routing a source to
 * the unit that remaps it (PCI functions by their device scopes, IOAPICs and HPETs by the DMAR
 * scope or IVRS special entry that names them), and the unit operations that do the rest.
 */
#include "core_internal.h"

#define IRQ_MAGIC 0x69727121u   /* "irq!" */

/* IOAPIC redirection entry bits (82093AA datasheet, I/O redirection table): the same in every
 * format, so the core can keep a handle's trigger mode and polarity as allocated. */
#define IOAPIC_RTE_POLARITY MOAT_BIT(13)
#define IOAPIC_RTE_TRIGGER MOAT_BIT(15)

static bool irq_live(const struct moat_irq *irq)
{
	return irq && irq->magic == IRQ_MAGIC && irq->unit && core_sys_ok(irq->unit->sys);
}

static const char *kind_name(enum moat_irq_kind k)
{
	switch (k) {
	case MOAT_IRQ_PCI:
		return "PCI";
	case MOAT_IRQ_PCI_BUSES:
		return "PCI bus range";
	case MOAT_IRQ_IOAPIC:
		return "IOAPIC";
	case MOAT_IRQ_HPET:
		return "HPET";
	}
	return "unknown source";
}

/* The rules every vendor shares: the APIC's delivery modes and vectors. */
static moat_status check_dest(const struct moat_irq_dest *d, unsigned count, struct moat_diag *diag)
{
	if (!d)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "interrupt: no destination");
	switch (d->delivery) {
	case MOAT_IRQ_DM_FIXED:
	case MOAT_IRQ_DM_LOWEST:
	case MOAT_IRQ_DM_EXTINT:
		/* Vectors 0-15 are reserved for exceptions: an APIC refuses them. */
		if (d->vector < 16 || (unsigned)d->vector + count - 1 > 255)
			return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
					     "interrupt: vector 0x%x for %u entries outside 0x10..0xff", (unsigned)d->vector,
					     count);
		if (d->delivery == MOAT_IRQ_DM_EXTINT && count != 1)
			return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "interrupt: ExtINT for a block of %u",
					     count);
		return MOAT_OK;
	case MOAT_IRQ_DM_SMI:
	case MOAT_IRQ_DM_NMI:
	case MOAT_IRQ_DM_INIT:
		if (d->vector || count != 1)
			return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
					     "interrupt: delivery mode %u takes vector 0 and one entry (vector 0x%x, %u entries)",
					     (unsigned)d->delivery, (unsigned)d->vector, count);
		return MOAT_OK;
	}
	return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "interrupt: delivery mode %u is not an APIC one",
			     (unsigned)d->delivery);
}

static moat_status check_source(const struct moat_irq_source *src, unsigned count, struct moat_diag *diag)
{
	if (!src)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "interrupt: no source");
	if (count < 1 || count > MOAT_IRQ_MAX_BLOCK || (count & (count - 1)))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "interrupt: %u entries: 1 or a power of two up to %u", count, MOAT_IRQ_MAX_BLOCK);
	switch (src->kind) {
	case MOAT_IRQ_PCI:
		return MOAT_OK;
	case MOAT_IRQ_PCI_BUSES:
		if (src->bus_last < MOAT_RID_BUS(src->rid))
			return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
					     "interrupt: bus range %02x..%02x runs backwards", MOAT_RID_BUS(src->rid),
					     (unsigned)src->bus_last);
		return MOAT_OK;
	case MOAT_IRQ_IOAPIC:
	case MOAT_IRQ_HPET:
		if (count != 1)
			return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
					     "interrupt: an %s pin is one entry, not %u", kind_name(src->kind), count);
		return MOAT_OK;
	}
	return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "interrupt: source kind %u unknown",
			     (unsigned)src->kind);
}

/*
 * The unit that remaps IOAPIC or HPET @src->id, with the requester id its description entry gives
 * (DMAR device scope, IVRS special entry) written into @out.
 */
static struct moat_unit *route_special(struct moat_system *sys, const struct moat_irq_source *src,
				       struct moat_irq_source *out, struct moat_diag *diag)
{
	const struct moat_sysdesc *d = sys->cfg.desc;
	enum moat_special_kind want = src->kind == MOAT_IRQ_IOAPIC ? MOAT_SPECIAL_IOAPIC : MOAT_SPECIAL_HPET;
	uint32_t n = d && d->specials ? MOAT_MIN(d->specials_count, d->specials_cap) : 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct moat_special_desc *sp = &d->specials[i];

		if (sp->kind != want || sp->id != src->id)
			continue;
		if (!sp->resolved) {
			moat_diag_set(diag, MOAT_ERR_NOT_FOUND, NULL, sp->src_offset,
				      "%s %u: the path of its device scope could not be resolved: its source id is unknown",
				      kind_name(src->kind), (unsigned)src->id);
			return NULL;
		}
		for (struct moat_unit *u = sys->units; u; u = u->next) {
			if (u->desc_index >= 0 && (uint32_t)u->desc_index == sp->unit) {
				*out = *src;
				out->segment = sp->segment;
				out->rid = sp->rid;
				return u;
			}
		}
		break;
	}
	moat_diag_set(diag, MOAT_ERR_NOT_FOUND, NULL, 0, "%s %u: no DMAR device scope or IVRS special entry names it",
		      kind_name(src->kind), (unsigned)src->id);
	return NULL;
}

moat_status moat_irq_alloc(struct moat_system *sys, const struct moat_irq_source *src, unsigned count,
			   const struct moat_irq_dest *dest, struct moat_irq *irq, struct moat_diag *diag)
{
	struct moat_irq h;
	struct moat_unit *u;
	bool entered;
	moat_status st;

	if (!core_sys_ok(sys) || !irq)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "interrupt: no system or no handle");
	st = check_source(src, count, diag);
	if (st == MOAT_OK)
		st = check_dest(dest, count, diag);
	if (st != MOAT_OK)
		return st;
	if (irq_live(irq))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "interrupt: the handle holds a live interrupt");

	moat_memset(&h, 0, sizeof(h));
	h.src = *src;
	h.count = count;
	core_lock(sys);
	if (src->kind == MOAT_IRQ_IOAPIC || src->kind == MOAT_IRQ_HPET) {
		u = route_special(sys, src, &h.src, diag);
		st = u ? MOAT_OK : MOAT_ERR_NOT_FOUND;
	} else {
		u = moat_unit_route(sys, src->segment, src->rid);
		st = u ? MOAT_OK
		       : moat_diag_set(diag, MOAT_ERR_NOT_FOUND, NULL, 0,
				       "interrupt: no IOMMU unit remaps device %04x:%02x:%02x.%x", (unsigned)src->segment,
				       MOAT_RID_BUS(src->rid), MOAT_RID_DEV(src->rid), MOAT_RID_FN(src->rid));
	}
	if (st == MOAT_OK && !u->ops->irq_alloc)
		st = moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, 0, "interrupt: the unit of that %s cannot remap",
				   kind_name(src->kind));
	if (st == MOAT_OK) {
		h.unit = u;
		entered = core_unit_enter(u);
		st = u->ops->irq_alloc(u, &h, dest, diag);
		core_unit_exit(u, entered);
	}
	core_settle(sys, NULL);
	core_unlock(sys);
	if (st != MOAT_OK)
		return st;
	h.magic = IRQ_MAGIC;
	*irq = h;
	return MOAT_OK;
}

moat_status moat_irq_set_dest(struct moat_irq *irq, unsigned sub, const struct moat_irq_dest *dest,
			      struct moat_diag *diag)
{
	struct moat_system *sys;
	struct moat_unit *u;
	bool entered;
	moat_status st;

	if (!irq_live(irq))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "interrupt: not a live handle");
	if (sub >= irq->count)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "interrupt: entry %u of a block of %u", sub,
				     (unsigned)irq->count);
	st = check_dest(dest, 1, diag);
	if (st != MOAT_OK)
		return st;
	if (irq->src.kind == MOAT_IRQ_IOAPIC &&
	    (dest->level != !!(irq->ioapic_rte & IOAPIC_RTE_TRIGGER) ||
	     dest->active_low != !!(irq->ioapic_rte & IOAPIC_RTE_POLARITY)))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "interrupt: IOAPIC %u: trigger mode and polarity stay as allocated (reallocate to change them)",
				     (unsigned)irq->src.id);
	u = irq->unit;
	sys = u->sys;
	core_lock(sys);
	entered = core_unit_enter(u);
	st = u->ops->irq_set(u, irq, sub, dest, diag);
	core_unit_exit(u, entered);
	core_unlock(sys);
	return st;
}

moat_status moat_irq_free(struct moat_irq *irq, struct moat_diag *diag)
{
	struct moat_system *sys;
	struct moat_unit *u;
	bool entered;
	moat_status st;

	if (!irq_live(irq))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "interrupt: not a live handle");
	u = irq->unit;
	sys = u->sys;
	core_lock(sys);
	entered = core_unit_enter(u);
	st = u->ops->irq_free(u, irq, diag);
	core_unit_exit(u, entered);
	core_settle(sys, NULL);
	core_unlock(sys);
	if (st == MOAT_OK)
		moat_memset(irq, 0, sizeof(*irq));
	return st;
}

/* ---- fault interrupts ---- */

moat_status moat_fault_irq_enable(struct moat_system *sys, const struct moat_irq_dest *dest,
				  struct moat_fault_irq_msi *out, unsigned max, unsigned *count,
				  struct moat_diag *diag)
{
	unsigned need = 0;
	moat_status st = MOAT_OK;

	if (!core_sys_ok(sys) || !count || (max && !out))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "fault interrupt: bad argument");
	st = check_dest(dest, 1, diag);
	if (st != MOAT_OK)
		return st;
	if (dest->delivery != MOAT_IRQ_DM_FIXED && dest->delivery != MOAT_IRQ_DM_LOWEST)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "fault interrupt: fixed or lowest-priority delivery only (mode %u)", (unsigned)dest->delivery);
	core_lock(sys);
	for (struct moat_unit *u = sys->units; u; u = u->next)
		if (u->ops->fault_irq && (u->flags & MOAT_UNIT_F_FAULT_MSI))
			need++;
	*count = need;
	if (need > max) {
		core_unlock(sys);
		return moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, 0,
				     "fault interrupt: %u units need an MSI programmed, room for %u", need, max);
	}
	need = 0;
	for (struct moat_unit *u = sys->units; u && st == MOAT_OK; u = u->next) {
		struct moat_fault_irq_msi msi;
		bool entered;

		if (!u->ops->fault_irq)
			continue;
		moat_memset(&msi, 0, sizeof(msi));
		entered = core_unit_enter(u);
		st = u->ops->fault_irq(u, dest, &msi, diag);
		core_unit_exit(u, entered);
		if (st == MOAT_OK && (u->flags & MOAT_UNIT_F_FAULT_MSI))
			out[need++] = msi;
	}
	core_unlock(sys);
	return st;
}

moat_status moat_fault_irq_disable(struct moat_system *sys, struct moat_diag *diag)
{
	moat_status first = MOAT_OK;

	if (!core_sys_ok(sys))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "fault interrupt: not an initialized system");
	core_lock(sys);
	for (struct moat_unit *u = sys->units; u; u = u->next) {
		bool entered;
		moat_status st;

		if (!u->ops->fault_irq)
			continue;
		entered = core_unit_enter(u);
		st = u->ops->fault_irq(u, NULL, NULL, first == MOAT_OK ? diag : NULL);
		core_unit_exit(u, entered);
		if (st != MOAT_OK && first == MOAT_OK)
			first = st;
	}
	core_unlock(sys);
	return first;
}
