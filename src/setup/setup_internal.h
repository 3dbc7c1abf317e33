/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by the bring-up sources: what each vendor's glue provides to the dispatch (setup.c).
 * Each vendor is one struct setup_vendor in a file named for it (vtd_glue.c, amdvi_glue.c) and
 * one line in the table of setup.c.
 */
#ifndef MOAT_SRC_SETUP_INTERNAL_H
#define MOAT_SRC_SETUP_INTERNAL_H

#include <moat/internal/lib.h>
#include <moat/setup.h>

#define SETUP_MAGIC 0x73657475u   /* "setu" */

/* Called for each page a driver holds; anything but MOAT_OK stops the iteration. */
typedef moat_status (*setup_page_fn)(void *ctx, uint64_t phys);

struct setup_vendor {
	enum moat_vendor vendor;
	const char *name;               /* "VT-d" */
	/* Probe @su (vendor, desc_index and setup already set) from its description. */
	moat_status (*probe)(struct moat_setup_unit *su, const struct moat_unit_desc *desc, struct moat_diag *diag);
	/* The configuration every unit of @s can use: fills @cfg (pt, domain ids; desc is set by the
	 * caller) and @s->caps. @address_width 0: the widest. */
	moat_status (*negotiate)(struct moat_setup *s, unsigned address_width, struct moat_system_config *cfg,
				 struct moat_diag *diag);
	/* Fill su->unit (ops, priv, segment, flags, desc_index) for the core. */
	void (*wrap)(struct moat_setup_unit *su, const struct moat_unit_desc *desc);
	moat_status (*enable)(struct moat_setup_unit *su, struct moat_diag *diag);
	moat_status (*disable)(struct moat_setup_unit *su, struct moat_diag *diag);
	/* Free the driver's pages and registers (translation off). */
	moat_status (*release)(struct moat_setup_unit *su);
	/* Call @fn for every page the driver holds (the pages moat_vtd_pages() / moat_amdvi_pages()
	 * list). */
	moat_status (*each_page)(const struct moat_setup_unit *su, setup_page_fn fn, void *ctx);
	/* One line about the unit (moat_setup_unit_describe()). */
	int (*describe)(const struct moat_setup_unit *su, char *buf, size_t size);
	/* The register block the driver mapped for @su (it goes into the protection registry). */
	void (*registers)(const struct moat_setup_unit *su, uint64_t *base, uint64_t *size);
	/* Interrupt remapping: whether the unit can do what @cfg asks (nothing written); turn it on
	 * (pages from the core); turn it off again. */
	moat_status (*irq_check)(const struct moat_setup_unit *su, const struct moat_setup_irq_config *cfg,
				 struct moat_diag *diag);
	moat_status (*irq_enable)(struct moat_setup_unit *su, const struct moat_setup_irq_config *cfg,
				  struct moat_diag *diag);
	moat_status (*irq_disable)(struct moat_setup_unit *su, struct moat_diag *diag);
};

extern const struct setup_vendor moat_setupi_vtd;
extern const struct setup_vendor moat_setupi_amdvi;

/* The glue of @vendor, or NULL when bring-up has none. */
const struct setup_vendor *moat_setupi_vendor(enum moat_vendor vendor);

/* The record of what the glue attached (struct moat_setup_unit attached): set or clear @id. */
static inline void moat_setupi_note(struct moat_setup_unit *su, uint16_t id, bool attached)
{
	const uint64_t bit = 1ull << (id % 64);

	if (attached)
		su->attached[id / 64] |= bit;
	else
		su->attached[id / 64] &= ~bit;
}

static inline bool moat_setupi_attached(const struct moat_setup_unit *su, uint16_t id)
{
	return (su->attached[id / 64] >> (id % 64)) & 1;
}

/* The leaf sizes of a page-table configuration in words, for the units' describe lines. */
const char *moat_setupi_page_sizes_words(unsigned sizes);

#endif
