/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Making the drivers' own pages Moat-owned.
 *
 * The vendor drivers allocate their pages from the platform directly (moat_plat_page_alloc()):
 * root and context tables, device tables, queues, status words. Bring-up registers them with the
 * core so that they are protected and taken out of the host identity domain like every other page
 * of Moat: moat_page_adopt() outside an operation, moat_unit_page_adopt() inside a unit operation
 * (a context table the driver allocates while the core attaches a device), where the system lock
 * is held and the core's end-of-operation settling takes the page out of the host domain.
 */
#include <moat/internal/unit.h>

#include "setup_internal.h"

struct own_ctx {
	struct moat_system *sys;
	struct moat_unit *unit;   /* inside a unit operation (the system lock held), else NULL */
	struct moat_diag *diag;
	moat_status first;
};

static moat_status own_one(void *ctx, uint64_t phys)
{
	struct own_ctx *c = ctx;
	moat_status st;

	if (!phys) {
		st = MOAT_ERR_INVALID_ARG;   /* no driver page lies at 0 */
	} else {
		st = c->unit ? moat_unit_page_adopt(c->unit, phys) : moat_page_adopt(c->sys, phys);
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
	struct own_ctx c = { &su->setup->sys, locked ? &su->unit : NULL, diag, MOAT_OK };

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
