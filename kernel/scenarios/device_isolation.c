/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * device_isolation: each edu device in a domain of its own that maps only its own two buffers
 * (a source it may read, a destination it may write). Each device copies its source to its
 * destination (works), then attacks its neighbour's buffers: writing the neighbour's destination
 * is blocked (unchanged, the fault names the attacker, the page, a write and the attacker's
 * domain) and reading the neighbour's source fetches zeros (the fault names a read). The auditor
 * finds no violation. SKIP with fewer than two edu devices.
 */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"
#include "scenarios/scenario.h"

struct iso_dev {
	struct moat_domain dom;
	uint8_t *src, *dst;
};

static struct iso_dev iso[EDU_MAX_DEVICES];

static enum scenario_verdict run(struct kmoat *m, struct kernel_system *sys, struct scenario_result *r)
{
	unsigned n = sys->edu_count;
	struct moat_diag diag = { 0 };
	char msg[200];

	for (unsigned i = 0; i < n; i++) {
		struct iso_dev *d = &iso[i];

		d->src = low_page();
		d->dst = low_page();
		if (!d->src || !d->dst)
			return scenario_fail(r, "no free RAM page below 256 MiB for the buffers");
		pattern_fill(d->src, MOAT_PAGE_SIZE, 0x4000u + i);
		pattern_fill(d->dst, MOAT_PAGE_SIZE, ~(0x4000u + i));
		/* The device's own buffers, at their physical addresses: read the source, write the destination. */
		if (kmoat_domain(m, &d->dom, &diag) != MOAT_OK ||
		    moat_domain_map(&d->dom, kvirt_to_phys(d->src), kvirt_to_phys(d->src), MOAT_PAGE_SIZE, MOAT_PT_READ,
				    &diag) != MOAT_OK ||
		    moat_domain_map(&d->dom, kvirt_to_phys(d->dst), kvirt_to_phys(d->dst), MOAT_PAGE_SIZE, MOAT_PT_RW,
				    &diag) != MOAT_OK ||
		    kmoat_attach(m, &d->dom, sys->edu[i].pci, &diag) != MOAT_OK)
			return scenario_fail(r, "edu %s's domain: %s", sys->edu[i].pci->name,
					     moat_diag_format(&diag, msg, sizeof(msg)));
		scenario_note("edu %s in domain %u: reads 0x%llx, writes 0x%llx, nothing else", sys->edu[i].pci->name,
			      d->dom.id, (unsigned long long)kvirt_to_phys(d->src), (unsigned long long)kvirt_to_phys(d->dst));
	}

	for (unsigned i = 0; i < n; i++) {
		struct edu_dev *dev = &sys->edu[i];
		struct iso_dev *own = &iso[i], *other = &iso[(i + 1) % n];
		const char *victim = sys->edu[(i + 1) % n].pci->name;
		char what[48];
		struct fault_want w;
		moat_status st;

		/* Its own buffers work. */
		st = edu_dma_to_device(dev, kvirt_to_phys(own->src), DMA_TEST_LEN);
		if (st == MOAT_OK)
			st = edu_dma_from_device(dev, kvirt_to_phys(own->dst), DMA_TEST_LEN);
		if (st != MOAT_OK)
			return scenario_fail(r, "edu %s: DMA through its own buffers: %s", dev->pci->name, moat_status_str(st));
		moat_snprintf(what, sizeof(what), "edu %s's own buffers", dev->pci->name);
		if (dma_check_copy(what, own->dst, own->src, 0x4000u + i, r) != SCENARIO_PASS ||
		    fault_expect_none(m, "DMA through the device's own buffers", r) != SCENARIO_PASS)
			return SCENARIO_FAIL;
		scenario_note("edu %s copied its source to its destination", dev->pci->name);

		/* The neighbour's are out of reach, both ways. */
		w = (struct fault_want){ dev, kvirt_to_phys(other->dst), true, MOAT_FAULT_BAD_ADDRESS,
					 (int32_t)own->dom.id, 0, 0 };
		moat_snprintf(what, sizeof(what), "edu %s's destination", victim);
		if (attack_write(m, &w, other->dst, what, r) != SCENARIO_PASS)
			return SCENARIO_FAIL;
		w.addr = kvirt_to_phys(other->src);
		w.write = false;
		moat_snprintf(what, sizeof(what), "edu %s's source", victim);
		if (attack_read(m, &w, 0, DMA_TEST_LEN, what, r) != SCENARIO_PASS ||
		    fetched_nothing(dev, own->dst, kvirt_to_phys(own->dst), 0, DMA_TEST_LEN, other->src, what, r) !=
			    SCENARIO_PASS)
			return SCENARIO_FAIL;
	}
	return audit_clean(m, r);
}

enum scenario_verdict scenario_device_isolation(struct kernel_system *sys, struct scenario_result *r)
{
	struct kmoat *m;
	enum scenario_verdict v;

	if (sys->edu_count < 2)
		return scenario_skip(r, "needs two edu devices, the machine has %u (QEMU: -device edu -device edu)",
				     sys->edu_count);
	for (unsigned i = 0; i < sys->edu_count; i++) {
		for (unsigned j = i + 1; j < sys->edu_count; j++) {
			/* Behind one conventional PCI bridge the IOMMU cannot tell two devices apart. */
			if (sys->edu[i].pci->segment == sys->edu[j].pci->segment &&
			    sys->edu[i].pci->dma_rid == sys->edu[j].pci->dma_rid)
				return scenario_skip(r, "edu %s and %s reach the IOMMU with one requester id (%02x:%02x.%x)",
						     sys->edu[i].pci->name, sys->edu[j].pci->name,
						     MOAT_RID_BUS(sys->edu[i].pci->dma_rid), MOAT_RID_DEV(sys->edu[i].pci->dma_rid),
						     MOAT_RID_FN(sys->edu[i].pci->dma_rid));
		}
	}
	v = protect_begin(&m, sys, r);
	if (v != SCENARIO_PASS)
		return v;
	moat_memset(iso, 0, sizeof(iso));
	v = run(m, sys, r);
	v = protect_end(m, v, r);
	for (unsigned i = 0; i < sys->edu_count; i++) {
		kpage_free(iso[i].src);
		kpage_free(iso[i].dst);
	}
	return v;
}
