/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stale_translation: an unmapped address is unreachable at once, although the IOMMU caches
 * translations (QEMU's model does: without the invalidation the second DMA below would still
 * land). In a domain of its own, an edu device writes through an IOVA (it lands), the IOVA is
 * unmapped, the device writes again: blocked, the page unchanged, the fault decoded. Then the same
 * inside a 2 MiB superpage: one 4 KiB page of it is unmapped after the device used the superpage;
 * a write there is blocked while its neighbour in the same superpage still works.
 */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"
#include "scenarios/scenario.h"

#define IOVA_SRC 0x00201000ull      /* IOVAs deliberately unlike the physical addresses */
#define IOVA_DST 0x00200000ull
#define IOVA_BIG 0x00400000ull      /* a 2 MiB superpage */
#define BIG (2ull << 20)
#define HOLE 0x3000ull              /* the page of the superpage unmapped */
#define NEXT 0x4000ull              /* its neighbour, still mapped */

struct stale {
	struct moat_domain dom;
	uint8_t *src, *dst;
	uint64_t big;
	bool have_big;
};

static enum scenario_verdict write_lands(struct edu_dev *dev, uint64_t iova, uint8_t *target, uint8_t *src,
					 uint32_t seed, const char *what, struct scenario_result *r)
{
	moat_status st;

	pattern_fill(target, MOAT_PAGE_SIZE, ~seed);
	st = edu_dma_from_device(dev, iova, DMA_TEST_LEN);
	if (st != MOAT_OK)
		return scenario_fail(r, "edu %s: DMA to 0x%llx: %s", dev->pci->name, (unsigned long long)iova,
				     moat_status_str(st));
	if (dma_check_copy(what, target, src, seed, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	scenario_note("edu %s wrote through IOVA 0x%llx: landed at 0x%llx", dev->pci->name, (unsigned long long)iova,
		      (unsigned long long)kvirt_to_phys(target));
	return SCENARIO_PASS;
}

static enum scenario_verdict run(struct kmoat *m, struct kernel_system *sys, struct stale *s,
				 struct scenario_result *r)
{
	struct edu_dev *dev = &sys->edu[0];
	struct moat_diag diag = { 0 };
	struct fault_want w;
	char msg[200];
	moat_status st;

	s->src = low_page();
	s->dst = low_page();
	if (!s->src || !s->dst)
		return scenario_fail(r, "no free RAM page below 256 MiB for the buffers");
	if (!frames_take(&s->big, BIG, BIG, 0, UINT64_MAX, true))
		return scenario_fail(r, "no free, aligned 2 MiB of RAM");
	s->have_big = true;
	if (kmoat_domain(m, &s->dom, &diag) != MOAT_OK ||
	    moat_domain_map(&s->dom, IOVA_SRC, kvirt_to_phys(s->src), MOAT_PAGE_SIZE, MOAT_PT_READ, &diag) != MOAT_OK ||
	    moat_domain_map(&s->dom, IOVA_DST, kvirt_to_phys(s->dst), MOAT_PAGE_SIZE, MOAT_PT_RW, &diag) != MOAT_OK ||
	    moat_domain_map(&s->dom, IOVA_BIG, s->big, BIG, MOAT_PT_RW, &diag) != MOAT_OK ||
	    kmoat_attach(m, &s->dom, dev->pci, &diag) != MOAT_OK)
		return scenario_fail(r, "the domain: %s", moat_diag_format(&diag, msg, sizeof(msg)));

	/* Map, DMA, unmap, DMA again. */
	pattern_fill(s->src, MOAT_PAGE_SIZE, 0x7000u);
	st = edu_dma_to_device(dev, IOVA_SRC, DMA_TEST_LEN);
	if (st != MOAT_OK)
		return scenario_fail(r, "edu %s: DMA from IOVA 0x%llx: %s", dev->pci->name, (unsigned long long)IOVA_SRC,
				     moat_status_str(st));
	if (write_lands(dev, IOVA_DST, s->dst, s->src, 0x7000u, "the first write", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	if (moat_domain_unmap(&s->dom, IOVA_DST, MOAT_PAGE_SIZE, &diag) != MOAT_OK)
		return scenario_fail(r, "unmap: %s", moat_diag_format(&diag, msg, sizeof(msg)));
	scenario_note("IOVA 0x%llx unmapped (Moat invalidated the IOMMU's cached translation before returning)",
		      (unsigned long long)IOVA_DST);
	/* The page now holds what the device would write again: refill it, or a stale write hides. */
	pattern_fill(s->dst, MOAT_PAGE_SIZE, 0x7100u);
	w = (struct fault_want){ dev, IOVA_DST, true, MOAT_FAULT_BAD_ADDRESS, (int32_t)s->dom.id, 0, 0 };
	if (attack_write(m, &w, s->dst, "the unmapped page", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;

	/* Part of a superpage the IOMMU has cached. */
	if (write_lands(dev, IOVA_BIG + HOLE, kphys_to_virt(s->big + HOLE), s->src, 0x7000u, "a write in the superpage",
			r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	if (moat_domain_unmap(&s->dom, IOVA_BIG + HOLE, MOAT_PAGE_SIZE, &diag) != MOAT_OK)
		return scenario_fail(r, "unmap inside the superpage: %s", moat_diag_format(&diag, msg, sizeof(msg)));
	scenario_note("IOVA 0x%llx unmapped from the middle of the 2 MiB page at 0x%llx (split into 4 KiB pages)",
		      (unsigned long long)(IOVA_BIG + HOLE), (unsigned long long)IOVA_BIG);
	pattern_fill(kphys_to_virt(s->big + HOLE), MOAT_PAGE_SIZE, 0x7200u);
	w.addr = IOVA_BIG + HOLE;
	if (attack_write(m, &w, kphys_to_virt(s->big + HOLE), "the page cut out of the superpage", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	if (write_lands(dev, IOVA_BIG + NEXT, kphys_to_virt(s->big + NEXT), s->src, 0x7000u, "its neighbour", r) !=
		    SCENARIO_PASS ||
	    fault_expect_none(m, "writing the neighbour", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	return audit_clean(m, r);
}

enum scenario_verdict scenario_stale_translation(struct kernel_system *sys, struct scenario_result *r)
{
	struct stale s;
	struct kmoat *m;
	enum scenario_verdict v = protect_begin(&m, sys, r);

	if (v != SCENARIO_PASS)
		return v;
	moat_memset(&s, 0, sizeof(s));
	v = run(m, sys, &s, r);
	v = protect_end(m, v, r);
	kpage_free(s.src);
	kpage_free(s.dst);
	if (s.have_big)
		frames_give(s.big, BIG);
	return v;
}
