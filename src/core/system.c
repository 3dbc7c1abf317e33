/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The system: set-up and tear-down, its units, routing devices to units, and the invalidations
 * every change of a domain's tables ends with.
 */
#include "core_internal.h"

/* ---- configuration check, without vendor knowledge: ask the engine ---- */

static void *refuse_alloc(void *cookie, uint64_t *phys)
{
	(void)cookie;
	(void)phys;
	return NULL;
}

static void never_free(void *cookie, void *virt, uint64_t phys)
{
	(void)cookie;
	(void)virt;
	(void)phys;
}

static void *never_p2v(void *cookie, uint64_t phys)
{
	(void)cookie;
	(void)phys;
	return NULL;
}

static void never_flush(void *cookie, const void *virt)
{
	(void)cookie;
	(void)virt;
}

static void never_done(void *cookie)
{
	(void)cookie;
}

/* The engine checks a configuration before it allocates its root: a valid one fails for memory. */
static bool pt_config_valid(const struct moat_pt_config *cfg)
{
	const struct moat_pt_ops ops = { refuse_alloc, never_free, never_p2v, never_flush, never_done, NULL };
	struct moat_pt pt;

	return moat_pt_init(&pt, cfg, &ops) == MOAT_ERR_NO_MEMORY;
}

moat_status moat_system_init(struct moat_system *sys, const struct moat_system_config *cfg)
{
	if (!sys || !cfg)
		return MOAT_ERR_INVALID_ARG;
	if (!pt_config_valid(&cfg->pt) || cfg->domain_id_min > cfg->domain_id_max)
		return MOAT_ERR_INVALID_ARG;
	moat_memset(sys, 0, sizeof(*sys));
	sys->track.owned_lo = UINT64_MAX;
	sys->track.pending_lo = UINT64_MAX;
	sys->track.restore_lo = UINT64_MAX;
	sys->cfg = *cfg;
	if (!sys->cfg.domain_id_min && !sys->cfg.domain_id_max) {
		sys->cfg.domain_id_min = 1;
		sys->cfg.domain_id_max = 0xffff;
	}
	moat_plat_lock_init(&sys->lock);
	sys->magic = CORE_SYS_MAGIC;
	return MOAT_OK;
}

moat_status moat_system_fini(struct moat_system *sys)
{
	if (!core_sys_ok(sys))
		return MOAT_ERR_INVALID_ARG;
	core_lock(sys);
	if (sys->domains) {
		core_unlock(sys);
		return MOAT_ERR_BUSY;
	}
	core_pool_drain(sys);
	track_fini(sys);
	for (struct moat_unit *u = sys->units; u; u = u->next) {
		u->sys = NULL;
		moat_plat_lock_fini(&u->lock);
	}
	sys->units = NULL;
	sys->magic = 0;
	core_unlock(sys);
	moat_plat_lock_fini(&sys->lock);
	return MOAT_OK;
}

/* ---- units ---- */

static bool unit_desc_valid(const struct moat_system *sys, const struct moat_unit *u)
{
	const struct moat_sysdesc *d = sys->cfg.desc;
	const struct moat_unit_desc *ud;

	if (u->desc_index < 0)
		return true;
	if (!d || (uint32_t)u->desc_index >= d->units_count || d->units_count > d->units_cap)
		return false;
	ud = &d->units[u->desc_index];
	return ud->devset_first <= d->devsets_count && ud->devset_count <= d->devsets_count - ud->devset_first &&
	       d->devsets_count <= d->devsets_cap;
}

moat_status moat_system_add_unit(struct moat_system *sys, struct moat_unit *unit)
{
	if (!core_sys_ok(sys) || !unit)
		return MOAT_ERR_INVALID_ARG;
	if (!unit->ops || !unit->ops->attach || !unit->ops->detach || !unit->ops->lookup || !unit->ops->invalidate)
		return MOAT_ERR_INVALID_ARG;
	if (unit->ops->irq_alloc && (!unit->ops->irq_set || !unit->ops->irq_free))
		return MOAT_ERR_INVALID_ARG;
	if (!unit_desc_valid(sys, unit))
		return MOAT_ERR_INVALID_ARG;
	/* A unit of another system is on that system's list: joining this one would cut the list
	 * after it (its next is reset), and that system would stop invalidating its later units. */
	if (unit->sys)
		return MOAT_ERR_STATE;
	core_lock(sys);
	for (struct moat_unit *u = sys->units; u; u = u->next) {
		if (u == unit) {
			core_unlock(sys);
			return MOAT_ERR_STATE;
		}
	}
	/* Appended, so routing follows the order units were added in; published with a release store
	 * (invalidations of the DMA layer walk the list without the system lock). */
	unit->sys = sys;
	unit->next = NULL;
	unit->index = sys->unit_count;
	unit->core_holds = false;
	moat_plat_lock_init(&unit->lock);
	if (!sys->units) {
		__atomic_store_n(&sys->units, unit, __ATOMIC_RELEASE);
	} else {
		struct moat_unit *t = sys->units;

		while (t->next)
			t = t->next;
		__atomic_store_n(&t->next, unit, __ATOMIC_RELEASE);
	}
	sys->unit_count++;
	core_unlock(sys);
	return MOAT_OK;
}

static bool unit_names(const struct moat_sysdesc *d, const struct moat_unit *u, uint16_t segment, uint16_t rid)
{
	return d && u->desc_index >= 0 && moat_sysdesc_unit_names(d, (uint32_t)u->desc_index, segment, rid) == MOAT_OK;
}

static bool unit_all(const struct moat_sysdesc *d, const struct moat_unit *u)
{
	if (u->flags & MOAT_UNIT_F_ALL)
		return true;
	return d && u->desc_index >= 0 && moat_unit_desc_includes_all(&d->units[u->desc_index]);
}

struct moat_unit *moat_unit_route(struct moat_system *sys, uint16_t segment, uint16_t rid)
{
	const struct moat_sysdesc *d;

	if (!core_sys_ok(sys))
		return NULL;
	d = sys->cfg.desc;
	for (struct moat_unit *u = sys->units; u; u = u->next)
		if (u->segment == segment && unit_names(d, u, segment, rid))
			return u;
	for (struct moat_unit *u = sys->units; u; u = u->next)
		if (u->segment == segment && unit_all(d, u))
			return u;
	return NULL;
}

moat_status moat_unit_call(struct moat_unit *u, moat_unit_call_fn fn, void *ctx)
{
	struct moat_system *sys;
	bool entered;
	moat_status st;

	if (!u || !fn || !core_sys_ok(u->sys))
		return MOAT_ERR_INVALID_ARG;
	sys = u->sys;
	core_lock(sys);
	entered = core_unit_enter(u);
	st = fn(u, ctx);
	core_unit_exit(u, entered);
	core_settle(sys, NULL);
	core_unlock(sys);
	return st;
}

bool core_any_unit_flag(const struct moat_system *sys, uint32_t flag)
{
	for (const struct moat_unit *u = sys->units; u; u = u->next)
		if (u->flags & flag)
			return true;
	return false;
}

struct moat_domain *core_domain_by_root(struct moat_system *sys, uint64_t root_phys)
{
	for (struct moat_domain *d = sys->domains; d; d = d->next)
		if (d->pt.root_phys == root_phys)
			return d;
	return NULL;
}

/* ---- invalidation ---- */

bool core_unit_saw(const struct moat_unit *u, const struct moat_domain *dom)
{
	return u->index >= 64 || (__atomic_load_n(&dom->units_seen, __ATOMIC_RELAXED) >> u->index & 1);
}

void core_unit_note(const struct moat_unit *u, struct moat_domain *dom)
{
	if (u->index < 64)
		__atomic_fetch_or(&dom->units_seen, 1ull << u->index, __ATOMIC_RELAXED);
}

bool core_unit_enter(struct moat_unit *u)
{
	if (u->core_holds)
		return false;
	moat_plat_lock_acquire(&u->lock);
	u->core_holds = true;
	return true;
}

void core_unit_exit(struct moat_unit *u, bool entered)
{
	if (!entered)
		return;
	u->core_holds = false;
	moat_plat_lock_release(&u->lock);
}

/*
 * Invalidate @dom on every unit that saw it, each under its lock: taken with core_unit_enter()
 * when the caller holds the system lock (@sys_locked), else plainly (the list is then read with
 * acquire loads). The bit of a unit is read under that unit's lock, which an attach through the
 * unit holds from setting the bit to writing the device's entry: either this sees the bit, or
 * the entries the caller removed were gone before that device could walk the tables.
 */
static moat_status invalidate_units(struct moat_system *sys, const struct moat_domain *dom, uint64_t iova,
				    uint64_t size, bool tables_changed, bool sys_locked, struct moat_diag *diag)
{
	moat_status first = MOAT_OK;

	for (struct moat_unit *u = __atomic_load_n(&sys->units, __ATOMIC_ACQUIRE); u;
	     u = __atomic_load_n(&u->next, __ATOMIC_ACQUIRE)) {
		bool entered = false;
		moat_status st = MOAT_OK;

		if (sys_locked)
			entered = core_unit_enter(u);
		else
			moat_plat_lock_acquire(&u->lock);
		if (core_unit_saw(u, dom))
			st = u->ops->invalidate(u, dom, iova, size, tables_changed, first == MOAT_OK ? diag : NULL);
		if (sys_locked)
			core_unit_exit(u, entered);
		else
			moat_plat_lock_release(&u->lock);
		if (st != MOAT_OK && first == MOAT_OK)
			first = st;
	}
	return first;
}

moat_status core_invalidate(struct moat_system *sys, const struct moat_domain *dom, uint64_t iova, uint64_t size,
			    bool tables_changed, struct moat_diag *diag)
{
	return invalidate_units(sys, dom, iova, size, tables_changed, true, diag);
}



static moat_status gather_finish(struct moat_system *sys, struct moat_domain *dom, struct moat_pt_gather *g,
				 bool sys_locked, struct moat_diag *diag)
{
	moat_status st;
	uint64_t size;

	if (!g->unmapped && !g->freed_pages && !g->tables_changed)
		return MOAT_OK;
	/* The whole 64-bit space gives size 0, which asks for the whole domain: right either way. */
	size = g->unmapped ? g->iova_last - g->iova_first + 1 : 0;
	st = invalidate_units(sys, dom, g->unmapped ? g->iova_first : 0, size, g->tables_changed, sys_locked, diag);
	if (st == MOAT_OK) {
		moat_pt_gather_release(&dom->pt, g);
	} else {
		/* The IOMMU may still reach them: keep them owned, never reuse them. */
		moat_log(MOAT_LOG_ERROR, "domain %u: invalidation failed (%s); %llu table pages kept",
			 (unsigned)dom->id, moat_status_str(st), (unsigned long long)g->freed_pages);
		moat_pt_gather_init(g);
	}
	return st;
}

moat_status core_gather_finish(struct moat_system *sys, struct moat_domain *dom, struct moat_pt_gather *g,
			       struct moat_diag *diag)
{
	return gather_finish(sys, dom, g, true, diag);
}

moat_status core_gather_finish_leaves(struct moat_system *sys, struct moat_domain *dom, struct moat_pt_gather *g,
				      struct moat_diag *diag)
{
	return gather_finish(sys, dom, g, false, diag);
}

moat_status moat_flush_all(struct moat_system *sys, struct moat_diag *diag)
{
	moat_status first = MOAT_OK;

	if (!core_sys_ok(sys))
		return MOAT_ERR_INVALID_ARG;
	core_lock(sys);
	for (struct moat_unit *u = sys->units; u; u = u->next) {
		const bool entered = core_unit_enter(u);
		moat_status st = MOAT_OK;

		if (u->ops->flush_all) {
			st = u->ops->flush_all(u, first == MOAT_OK ? diag : NULL);
		} else {
			for (struct moat_domain *d = sys->domains; d && st == MOAT_OK; d = d->next)
				st = u->ops->invalidate(u, d, 0, 0, true, first == MOAT_OK ? diag : NULL);
		}
		core_unit_exit(u, entered);
		if (st != MOAT_OK && first == MOAT_OK)
			first = st;
	}
	core_unlock(sys);
	return first;
}

moat_status moat_fault_poll(struct moat_system *sys, struct moat_fault *out, unsigned max,
			    struct moat_fault_poll *res)
{
	if (!core_sys_ok(sys) || !res || (!out && max))
		return MOAT_ERR_INVALID_ARG;
	moat_memset(res, 0, sizeof(*res));
	core_lock(sys);
	for (struct moat_unit *u = sys->units; u; u = u->next) {
		struct moat_fault_poll r;
		bool entered;
		moat_status st;

		if (!u->ops->fault_poll)
			continue;
		moat_memset(&r, 0, sizeof(r));
		entered = core_unit_enter(u);
		st = u->ops->fault_poll(u, out ? out + res->count : NULL, max - res->count, &r);
		core_unit_exit(u, entered);
		if (st != MOAT_OK)
			continue;
		res->count += MOAT_MIN(r.count, max - res->count);
		res->remaining += r.remaining;
		res->overflows += r.overflows;
		res->overflow_total += r.overflow_total;
	}
	core_unlock(sys);
	return MOAT_OK;
}
