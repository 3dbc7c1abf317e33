/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bring-up and tear-down: the vendor dispatch. Each unit of the description goes to its vendor's
 * glue (a struct setup_vendor); everything else is the vendor-neutral core.
 */
#include "setup_internal.h"

/* Every vendor bring-up can drive: one line per vendor glue. */
static const struct setup_vendor *const vendors[] = {
	&moat_setupi_vtd,
	&moat_setupi_amdvi,
};

static const char *vendor_name(enum moat_vendor v)
{
	switch (v) {
	case MOAT_VENDOR_VTD:
		return "Intel VT-d";
	case MOAT_VENDOR_AMDVI:
		return "AMD-Vi";
	case MOAT_VENDOR_NONE:
		break;
	}
	return "unknown-vendor";
}

const struct setup_vendor *moat_setupi_vendor(enum moat_vendor vendor)
{
	for (unsigned i = 0; i < MOAT_ARRAY_SIZE(vendors); i++)
		if (vendors[i]->vendor == vendor)
			return vendors[i];
	return NULL;
}

const char *moat_setupi_page_sizes_words(unsigned sizes)
{
	if ((sizes & MOAT_PT_PAGE_2M) && (sizes & MOAT_PT_PAGE_1G))
		return "4 KiB, 2 MiB and 1 GiB pages";
	if (sizes & MOAT_PT_PAGE_2M)
		return "4 KiB and 2 MiB pages";
	return "4 KiB pages only";
}

static bool setup_ok(const struct moat_setup *s)
{
	return s && s->magic == SETUP_MAGIC;
}

/* ---- driver calls that may allocate or free pages ---- */

enum unit_step { STEP_ENABLE, STEP_DISABLE, STEP_RELEASE, STEP_IRQ_ENABLE, STEP_IRQ_DISABLE };

struct unit_call {
	const struct setup_vendor *v;
	struct moat_setup_unit *su;
	enum unit_step step;
	const struct moat_setup_irq_config *irq;
	struct moat_diag *diag;
};

static moat_status unit_step_run(struct moat_unit *u, void *ctx)
{
	struct unit_call *c = ctx;

	(void)u;
	switch (c->step) {
	case STEP_ENABLE:
		return c->v->enable(c->su, c->diag);
	case STEP_DISABLE:
		return c->v->disable(c->su, c->diag);
	case STEP_RELEASE:
		return c->v->release(c->su);
	case STEP_IRQ_ENABLE:
		return c->v->irq_enable(c->su, c->irq, c->diag);
	case STEP_IRQ_DISABLE:
		return c->v->irq_disable(c->su, c->diag);
	}
	return MOAT_ERR_INVALID_ARG;
}

/*
 * Run a driver step of @su. Once the unit is part of the system, as an operation of it
 * (moat_unit_call()): the driver's pages come from the core, which needs its lock. Before that the
 * driver holds no page.
 */
static moat_status unit_step_cfg(const struct setup_vendor *v, struct moat_setup_unit *su, enum unit_step step,
				 const struct moat_setup_irq_config *irq, struct moat_diag *diag)
{
	struct unit_call c = { v, su, step, irq, diag };

	if (su->unit.sys)
		return moat_unit_call(&su->unit, unit_step_run, &c);
	return unit_step_run(&su->unit, &c);
}

static moat_status unit_step(const struct setup_vendor *v, struct moat_setup_unit *su, enum unit_step step,
			     struct moat_diag *diag)
{
	struct unit_call c = { v, su, step, NULL, diag };

	if (su->unit.sys)
		return moat_unit_call(&su->unit, unit_step_run, &c);
	return unit_step_run(&su->unit, &c);
}

/* Release every probed unit (translation must be off in all of them). */
static void release_units(struct moat_setup *s, const struct setup_vendor *v)
{
	for (unsigned i = 0; i < s->count; i++) {
		struct moat_setup_unit *su = &s->units[i];

		if (su->probed && unit_step(v, su, STEP_RELEASE, NULL) == MOAT_OK)
			su->probed = false;
	}
}

static moat_status check_desc(const struct moat_sysdesc *desc, unsigned cap, struct moat_diag *diag)
{
	if (!desc->units_count || !desc->units)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "the description names no IOMMU unit");
	if (desc->units_count > desc->units_cap || desc->devsets_count > desc->devsets_cap ||
	    desc->regions_count > desc->regions_cap)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "the description's counts exceed its arrays (it was not built completely)");
	if (desc->units_count > cap)
		return moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, 0, "%u IOMMU units described, room for %u",
				     desc->units_count, cap);
	for (uint32_t i = 1; i < desc->units_count; i++) {
		if (desc->units[i].vendor != desc->units[0].vendor)
			return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, desc->units[i].src_offset,
					     "unit %u is %s, unit 0 %s: one machine, one IOMMU vendor", i,
					     vendor_name(desc->units[i].vendor), vendor_name(desc->units[0].vendor));
	}
	return MOAT_OK;
}

/* Every unit's register block, as its driver maps it, into the registry: no domain may map it
 * (the host identity domain never does), and the auditor reports any domain that does. */
static moat_status protect_registers(struct moat_setup *s, const struct setup_vendor *v, struct moat_diag *diag)
{
	char label[MOAT_PROTECT_LABEL_MAX];

	moat_snprintf(label, sizeof(label), "%s registers", v->name);
	for (unsigned i = 0; i < s->count; i++) {
		uint64_t base, size;
		moat_status st;

		v->registers(&s->units[i], &base, &size);
		st = moat_protect_add(&s->sys, base, size, label, diag);
		if (st != MOAT_OK)
			return moat_diag_set(diag, st, NULL, s->desc->units[i].src_offset,
					     "%s unit %u: registers [0x%llx, +0x%llx) cannot be protected: %s", v->name, i,
					     (unsigned long long)base, (unsigned long long)size, moat_status_str(st));
	}
	return MOAT_OK;
}

moat_status moat_setup_init(struct moat_setup *s, struct moat_setup_unit *units, unsigned cap,
			    const struct moat_sysdesc *desc, unsigned address_width, struct moat_diag *diag)
{
	const struct setup_vendor *v;
	struct moat_system_config cfg;
	moat_status st;

	if (!s || !units || !cap || !desc || address_width > 64)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "bring-up: bad argument");
	st = check_desc(desc, cap, diag);
	if (st != MOAT_OK)
		return st;
	v = moat_setupi_vendor(desc->units[0].vendor);
	if (!v)
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, desc->units[0].src_offset,
				     "%s unit at 0x%llx: no %s driver is connected to bring-up yet",
				     vendor_name(desc->units[0].vendor), (unsigned long long)desc->units[0].register_base,
				     vendor_name(desc->units[0].vendor));

	moat_memset(s, 0, sizeof(*s));
	moat_memset(units, 0, (size_t)cap * sizeof(*units));
	s->desc = desc;
	s->units = units;
	s->cap = cap;
	for (uint32_t i = 0; i < desc->units_count; i++) {
		struct moat_setup_unit *su = &units[i];

		su->vendor = desc->units[i].vendor;
		su->desc_index = i;
		su->setup = s;
		s->count = i + 1;
		st = v->probe(su, &desc->units[i], diag);
		if (st != MOAT_OK) {
			s->count = i;
			goto fail;
		}
		su->probed = true;
	}
	st = v->negotiate(s, address_width, &cfg, diag);
	if (st != MOAT_OK)
		goto fail;
	cfg.desc = desc;
	st = moat_system_init(&s->sys, &cfg);
	if (st != MOAT_OK) {
		moat_diag_set(diag, st, NULL, 0, "the core refused the negotiated configuration (%u levels, sizes 0x%x)",
			      cfg.pt.levels, cfg.pt.page_sizes);
		goto fail;
	}
	for (unsigned i = 0; i < s->count; i++) {
		v->wrap(&units[i], &desc->units[i]);
		st = moat_system_add_unit(&s->sys, &units[i].unit);
		if (st != MOAT_OK) {
			moat_diag_set(diag, st, NULL, desc->units[i].src_offset, "unit %u could not join the system", i);
			moat_system_fini(&s->sys);
			goto fail;
		}
	}
	st = protect_registers(s, v, diag);
	if (st != MOAT_OK) {
		moat_system_fini(&s->sys);
		goto fail;
	}
	s->magic = SETUP_MAGIC;
	return MOAT_OK;

fail:
	release_units(s, v);
	s->count = 0;
	return st;
}

moat_status moat_setup_enable(struct moat_setup *s, struct moat_diag *diag)
{
	const struct setup_vendor *v;
	moat_status st = MOAT_OK;

	if (!setup_ok(s))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "bring-up: not initialized");
	if (s->enabled)
		return MOAT_OK;
	/* Either every unit is on or none is (a failed call turns its units off again). */
	v = moat_setupi_vendor(s->caps.vendor);
	for (unsigned i = 0; i < s->count && st == MOAT_OK; i++) {
		struct moat_setup_unit *su = &s->units[i];

		/* Its pages (root table, queues, device table, ...) are trusted pages of the core. */
		st = unit_step(v, su, STEP_ENABLE, diag);
		su->enabled = true;
	}
	if (st != MOAT_OK) {
		for (unsigned i = 0; i < s->count; i++) {
			if (s->units[i].enabled) {
				unit_step(v, &s->units[i], STEP_DISABLE, NULL);
				s->units[i].enabled = false;
			}
		}
		return st;
	}
	s->enabled = true;
	return MOAT_OK;
}

/* ---- interrupt remapping ---- */

/* Whether the description names IOAPIC or HPET @id with a known source id. */
static bool special_named(const struct moat_sysdesc *d, enum moat_special_kind kind, uint8_t id)
{
	uint32_t n = d->specials ? MOAT_MIN(d->specials_count, d->specials_cap) : 0;

	for (uint32_t i = 0; i < n; i++)
		if (d->specials[i].kind == kind && d->specials[i].id == id && d->specials[i].resolved &&
		    d->specials[i].unit < d->units_count)
			return true;
	return false;
}

/* Every IOAPIC and HPET of @cfg named, or the host's leave to go on without. */
static moat_status check_specials(const struct moat_setup *s, const struct moat_setup_irq_config *cfg,
				  struct moat_diag *diag)
{
	const char *table = s->caps.vendor == MOAT_VENDOR_AMDVI ? "IVRS special entry" : "DMAR device scope";
	bool allow = (cfg->flags & MOAT_SETUP_IRQ_ALLOW_UNNAMED) != 0;

	for (unsigned k = 0; k < 2; k++) {
		const uint8_t *ids = k ? cfg->hpet_ids : cfg->ioapic_ids;
		unsigned n = k ? cfg->hpet_count : cfg->ioapic_count;
		const char *what = k ? "HPET" : "IOAPIC";

		for (unsigned i = 0; i < n; i++) {
			if (special_named(s->desc, k ? MOAT_SPECIAL_HPET : MOAT_SPECIAL_IOAPIC, ids[i]))
				continue;
			moat_log(allow ? MOAT_LOG_WARN : MOAT_LOG_ERROR,
				 "interrupt remapping: %s %u is named by no %s (or its source id is unknown): %s", what,
				 (unsigned)ids[i], table,
				 allow ? "going on as the host asked; its interrupts are blocked"
				       : "refused, its interrupts could not be told from a device's");
			if (!allow)
				return moat_diag_set(diag, MOAT_ERR_NOT_FOUND, NULL, 0,
						     "interrupt remapping unsafe: %s %u is named by no %s; pass "
						     "MOAT_SETUP_IRQ_ALLOW_UNNAMED to go on anyway", what, (unsigned)ids[i], table);
		}
	}
	return MOAT_OK;
}

moat_status moat_setup_irq(struct moat_setup *s, const struct moat_setup_irq_config *cfg, struct moat_diag *diag)
{
	const struct setup_vendor *v;
	moat_status st = MOAT_OK;
	unsigned on = 0;

	if (!setup_ok(s) || !cfg || (cfg->flags & ~MOAT_SETUP_IRQ_FLAGS) || (cfg->ioapic_count && !cfg->ioapic_ids) ||
	    (cfg->hpet_count && !cfg->hpet_ids))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "interrupt remapping: bad argument");
	if (!s->enabled || s->caps.intr_remap)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0,
				     "interrupt remapping: needs moat_setup_enable() first, and is turned on once");
	v = moat_setupi_vendor(s->caps.vendor);
	st = check_specials(s, cfg, diag);
	for (unsigned i = 0; i < s->count && st == MOAT_OK; i++)
		st = v->irq_check(&s->units[i], cfg, diag);
	if (st != MOAT_OK)
		return st;
	for (; on < s->count && st == MOAT_OK; on++)
		st = unit_step_cfg(v, &s->units[on], STEP_IRQ_ENABLE, cfg, diag);
	if (st != MOAT_OK) {
		/* Never half way: the units this call turned on go off again. */
		for (unsigned i = 0; i < on; i++)
			unit_step(v, &s->units[i], STEP_IRQ_DISABLE, NULL);
		return st;
	}
	s->caps.intr_remap = true;
	s->caps.intr_flags = cfg->flags;
	return MOAT_OK;
}

moat_status moat_setup_fini(struct moat_setup *s, struct moat_diag *diag)
{
	const struct setup_vendor *v;
	moat_status st;

	if (!setup_ok(s))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "bring-up: not initialized");
	if (s->sys.domains)
		return moat_diag_set(diag, MOAT_ERR_BUSY, NULL, 0, "tear-down: domains remain: destroy them first");
	v = moat_setupi_vendor(s->caps.vendor);
	/* Units first, while the system they take their pages from is there to take them back. */
	for (unsigned i = 0; i < s->count; i++) {
		struct moat_setup_unit *su = &s->units[i];
		struct moat_fault drop[4];
		struct moat_fault_poll res;

		if (!su->probed)
			continue;
		/* Pending records would greet the next bring-up: read them out (bounded). */
		for (unsigned n = 0; n < 64 && su->unit.ops->fault_poll; n++) {
			moat_memset(&res, 0, sizeof(res));
			if (su->unit.ops->fault_poll(&su->unit, drop, MOAT_ARRAY_SIZE(drop), &res) != MOAT_OK ||
			    (!res.count && !res.remaining))
				break;
		}
		st = unit_step(v, su, STEP_DISABLE, diag);
		if (st != MOAT_OK)
			return st;
		su->enabled = false;
		st = unit_step(v, su, STEP_RELEASE, NULL);
		if (st != MOAT_OK)
			return moat_diag_set(diag, st, NULL, 0, "tear-down: unit %u could not be released", i);
		su->probed = false;
	}
	st = moat_system_fini(&s->sys);
	if (st != MOAT_OK)
		return moat_diag_set(diag, st, NULL, 0, "tear-down: %s", moat_status_str(st));
	s->enabled = false;
	s->magic = 0;
	return MOAT_OK;
}

int moat_setup_unit_describe(const struct moat_setup *s, unsigned index, char *buf, size_t size)
{
	const struct setup_vendor *v;

	if (!setup_ok(s) || index >= s->count || !(v = moat_setupi_vendor(s->units[index].vendor)))
		return -1;
	return v->describe(&s->units[index], buf, size);
}

static moat_status count_page(void *ctx, uint64_t phys)
{
	(void)phys;
	(*(unsigned *)ctx)++;
	return MOAT_OK;
}

unsigned moat_setup_driver_pages(const struct moat_setup *s)
{
	unsigned n = 0;

	if (!setup_ok(s))
		return 0;
	for (unsigned i = 0; i < s->count; i++) {
		const struct setup_vendor *v = moat_setupi_vendor(s->units[i].vendor);

		if (v && s->units[i].probed)
			v->each_page(&s->units[i], count_page, &n);
	}
	return n;
}

struct nth_page {
	unsigned want, seen;
	uint64_t phys;
};

static moat_status nth_page(void *ctx, uint64_t phys)
{
	struct nth_page *n = ctx;

	if (n->seen++ == n->want) {
		n->phys = phys;
		return MOAT_END;
	}
	return MOAT_OK;
}

moat_status moat_setup_driver_page(const struct moat_setup *s, unsigned index, uint64_t *phys)
{
	struct nth_page n = { index, 0, 0 };

	if (!setup_ok(s) || !phys)
		return MOAT_ERR_INVALID_ARG;
	for (unsigned i = 0; i < s->count; i++) {
		const struct setup_vendor *v = moat_setupi_vendor(s->units[i].vendor);

		if (v && s->units[i].probed && v->each_page(&s->units[i], nth_page, &n) == MOAT_END) {
			*phys = n.phys;
			return MOAT_OK;
		}
	}
	return MOAT_ERR_NOT_FOUND;
}
