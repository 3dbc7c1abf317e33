/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers of the DMA tests: a system with one counting unit (the core tests' null unit: it counts
 * invalidations, in completion order, and does nothing else), a domain with a device attached,
 * and a struct moat_dma over it.
 */
#ifndef MOAT_DMA_TEST_H
#define MOAT_DMA_TEST_H

#include "../core/core_test.h"

#include <moat/dma.h>

struct fix {
	struct moat_system *sys;
	struct null_unit nu;
	struct moat_domain dom;
	struct moat_dma dma;
	uint64_t live0;        /* hosted pages live before the system */
};

static inline void fix_up_unit(struct fix *f, const struct moat_dma_config *cfg, uint32_t unit_flags)
{
	memset(f, 0, sizeof(*f));   /* a struct moat_dma that reads as live is refused: no stale one */
	f->live0 = moat_hosted_stats().pages_live;
	f->sys = t_system(ALL_SIZES);
	nu_init(&f->nu, 0, -1);
	f->nu.unit.flags |= unit_flags;
	assert_int_equal(moat_system_add_unit(f->sys, &f->nu.unit), MOAT_OK);
	assert_int_equal(moat_domain_create(f->sys, &f->dom), MOAT_OK);
	assert_int_equal(moat_domain_attach(&f->dom, 0, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_dma_init(&f->dma, &f->dom, cfg, NULL), MOAT_OK);
}

static inline void fix_up(struct fix *f, const struct moat_dma_config *cfg)
{
	fix_up_unit(f, cfg, 0);
}

/* Tear down; every page went back to the platform. */
static inline void fix_down(struct fix *f)
{
	assert_int_equal(moat_dma_fini(&f->dma), MOAT_OK);
	assert_int_equal(moat_domain_detach(f->sys, 0, 0x10, NULL), MOAT_OK);
	assert_int_equal(moat_domain_destroy(&f->dom), MOAT_OK);
	t_system_free(f->sys);
	assert_int_equal(moat_hosted_stats().pages_live, f->live0);
}

static inline bool translates(struct fix *f, uint64_t iova, uint64_t *phys, unsigned *prot)
{
	return moat_domain_translate(&f->dom, iova, phys, prot, NULL) == MOAT_OK;
}

/* Pages of a DMA instance's default IOVA space: from 1 MiB to the domain's top (below 2^56). */
static inline uint64_t t_dma_pages(void)
{
	return ((MOAT_MIN(t_iova_last(), (1ull << 56) - 1) >> 12) + 1) - (0x100000 >> 12);
}

static inline bool translates_in(struct moat_domain *dom, uint64_t iova, uint64_t *phys)
{
	return moat_domain_translate(dom, iova, phys, NULL, NULL) == MOAT_OK;
}

static inline unsigned dir_prot(enum moat_dma_dir dir)
{
	return dir == MOAT_DMA_TO_DEVICE ? MOAT_PT_READ : dir == MOAT_DMA_FROM_DEVICE ? MOAT_PT_WRITE : MOAT_PT_RW;
}

#endif
