/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Making the drivers' own pages Moat-owned.
 *
 * The vendor drivers allocate their pages from the platform directly (moat_plat_page_alloc()):
 * root and context tables, device tables, queues, status words. Bring-up registers them with the
 * core so that they are protected and taken out of the host identity domain like every other page
 * of Moat. Outside an operation that is moat_page_adopt(). Inside a unit operation (a context table
 * the driver allocates while the core attaches a device) the system lock is held, and the unit
 * interface (moat/internal/unit.h) offers allocation but no adoption under the lock: this file
 * marks such pages through the core's bookkeeping (src/core/core_internal.h) as owned and pending,
 * which the core's end-of-operation settling takes out of the host domain, exactly as
 * moat_page_adopt() would have done. It is the only place outside src/core/ that uses the core's
 * internals.
 */
#include "../core/core_internal.h"
#include "setup_internal.h"

struct own_ctx {
	struct moat_system *sys;
	struct moat_diag *diag;
	moat_status first;
	bool locked;
};

static moat_status own_one(void *ctx, uint64_t phys)
{
	struct own_ctx *c = ctx;
	uint64_t pfn = phys >> CORE_PAGE_SHIFT;
	moat_status st;

	if (!phys || (phys & CORE_PAGE_MASK) || phys >= CORE_PHYS_LIMIT) {
		st = moat_diag_set(c->diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				   "driver page 0x%llx is not a 4 KiB page below 2^52", (unsigned long long)phys);
	} else if (c->locked) {
		if (track_test(c->sys, pfn, TK_OWNED))
			return MOAT_OK;
		st = track_mark(c->sys, pfn, TK_BIT(TK_OWNED) | TK_BIT(TK_PENDING));
	} else {
		st = moat_page_adopt(c->sys, phys);
		if (st == MOAT_ERR_OVERLAP)
			return MOAT_OK;     /* owned already */
	}
	if (st != MOAT_OK && c->first == MOAT_OK)
		c->first = moat_diag_set(c->diag, st, NULL, 0, "driver page 0x%llx could not be made Moat-owned: %s",
					 (unsigned long long)phys, moat_status_str(st));
	/* Go on: every page that can be owned should be. */
	return MOAT_OK;
}

static moat_status own_pages(struct moat_setup_unit *su, bool locked, struct moat_diag *diag)
{
	const struct setup_vendor *v = moat_setupi_vendor(su->vendor);
	struct own_ctx c = { &su->setup->sys, diag, MOAT_OK, locked };

	if (!v)
		return MOAT_ERR_UNSUPPORTED;
	v->each_page(su, own_one, &c);
	return c.first;
}

moat_status moat_setupi_own_driver_pages_locked(struct moat_setup_unit *su)
{
	return own_pages(su, true, NULL);
}

moat_status moat_setupi_own_driver_pages(struct moat_setup_unit *su, struct moat_diag *diag)
{
	return own_pages(su, false, diag);
}
