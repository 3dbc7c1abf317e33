/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * guest_assignment: an edu device assigned to a guest. The host uses the device first: in the
 * host domain it writes a host page (the IOMMU may now cache that translation). Then it is
 * assigned. The guest's RAM is guest-physical
 * 0 - 2 MiB, backed by 2 MiB of host memory wherever the host found it (the highest free 2 MiB,
 * above 4 GiB on a large machine); the guest domain mirrors that, as a hypervisor's EPT or NPT
 * would, so the device uses guest-physical addresses. The device copies one guest page to another:
 * the data lands at the host address behind the guest address, and the host page that has the
 * guest address as its own physical address is untouched. A write and a read at a guest-physical
 * address outside the guest's RAM are blocked (the page there unchanged, zeros fetched, faults
 * decoded with the guest's domain): that address is the host page the device wrote before it was
 * assigned, so nothing the IOMMU cached for the host domain survives the assignment. The auditor
 * finds no violation.
 */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"
#include "scenarios/scenario.h"

#define GUEST_RAM (2ull << 20)
#define GPA_SRC 0x3000ull
#define GPA_DST 0x5000ull
#define GPA_SCRATCH 0x6000ull

static uint8_t identity_before[MOAT_PAGE_SIZE];

struct guest {
	struct moat_domain dom;
	uint64_t hpa;          /* host memory behind guest-physical 0 */
	bool have_ram;
	uint8_t *outside;      /* a host page whose address, as a guest-physical one, is outside the guest */
	uint8_t *host_src;     /* what the host had the device copy there */
};

static uint8_t *gpa_virt(const struct guest *g, uint64_t gpa)
{
	return kphys_to_virt(g->hpa + gpa);
}

static enum scenario_verdict run(struct kmoat *m, struct kernel_system *sys, struct guest *g,
				 struct scenario_result *r)
{
	struct edu_dev *dev = &sys->edu[0];
	struct moat_diag diag = { 0 };
	uint64_t hpa = 0, leaf = 0, outside;
	struct fault_want w;
	size_t first = 0;
	uint8_t got = 0, want = 0;
	char msg[200], size[32];
	moat_status st;

	if (!frames_take(&g->hpa, GUEST_RAM, GUEST_RAM, 0, UINT64_MAX, true))
		return scenario_fail(r, "no free, aligned 2 MiB of RAM for the guest");
	g->have_ram = true;
	g->outside = kpage_alloc(GUEST_RAM, EDU_DEFAULT_REACH, false);
	if (!g->outside)
		return scenario_fail(r, "no free RAM page below 256 MiB");
	outside = kvirt_to_phys(g->outside);

	/* The host's own use of the device, before the assignment: a page of the host written through
	 * the host domain (the same address is attacked from inside the guest below). */
	if (kmoat_protect_host(m, &diag) != MOAT_OK || kmoat_attach(m, &m->host, dev->pci, &diag) != MOAT_OK)
		return scenario_fail(r, "edu %s in the host domain: %s", dev->pci->name,
				     moat_diag_format(&diag, msg, sizeof(msg)));
	g->host_src = low_page();
	if (!g->host_src)
		return scenario_fail(r, "no free RAM page below 256 MiB");
	if (dma_round_trip(dev, g->host_src, g->outside, 0x6200u, r) != SCENARIO_PASS ||
	    fault_expect_none(m, "the host's DMA", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	scenario_note("edu %s in the host domain first: it wrote host page 0x%llx", dev->pci->name,
		      (unsigned long long)outside);

	/* The guest's memory, as its EPT maps it: guest-physical 0 -> host g->hpa, read/write. */
	if (kmoat_domain(m, &g->dom, &diag) != MOAT_OK ||
	    moat_domain_map(&g->dom, 0, g->hpa, GUEST_RAM, MOAT_PT_RW, &diag) != MOAT_OK ||
	    kmoat_attach(m, &g->dom, dev->pci, &diag) != MOAT_OK)
		return scenario_fail(r, "the guest's domain: %s", moat_diag_format(&diag, msg, sizeof(msg)));
	st = moat_domain_translate(&g->dom, GPA_DST, &hpa, NULL, &leaf);
	if (st != MOAT_OK || hpa != g->hpa + GPA_DST)
		return scenario_fail(r, "guest-physical 0x%llx translates to 0x%llx (%s), not 0x%llx",
				     (unsigned long long)GPA_DST, (unsigned long long)hpa, moat_status_str(st),
				     (unsigned long long)(g->hpa + GPA_DST));
	scenario_note("guest domain %u: guest-physical 0x0-0x%llx -> host 0x%llx-0x%llx (%s pages); edu %s assigned",
		      g->dom.id, (unsigned long long)(GUEST_RAM - 1), (unsigned long long)g->hpa,
		      (unsigned long long)(g->hpa + GUEST_RAM - 1), ksize_str(leaf, size, sizeof(size)), dev->pci->name);

	/* The guest's own DMA: guest page 0x3000 to guest page 0x5000. */
	pattern_fill(gpa_virt(g, GPA_SRC), MOAT_PAGE_SIZE, 0x6000u);
	pattern_fill(gpa_virt(g, GPA_DST), MOAT_PAGE_SIZE, ~0x6000u);
	moat_memcpy(identity_before, kphys_to_virt(GPA_DST), MOAT_PAGE_SIZE);
	st = edu_dma_to_device(dev, GPA_SRC, DMA_TEST_LEN);
	if (st == MOAT_OK)
		st = edu_dma_from_device(dev, GPA_DST, DMA_TEST_LEN);
	if (st != MOAT_OK)
		return scenario_fail(r, "edu %s: DMA at guest-physical 0x%llx and 0x%llx: %s", dev->pci->name,
				     (unsigned long long)GPA_SRC, (unsigned long long)GPA_DST, moat_status_str(st));
	if (dma_check_copy("the guest's DMA", gpa_virt(g, GPA_DST), gpa_virt(g, GPA_SRC), 0x6000u, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	if (bytes_compare(kphys_to_virt(GPA_DST), identity_before, MOAT_PAGE_SIZE, &first, &got, &want))
		return scenario_fail(r, "the host page at 0x%llx (the guest-physical address taken as host-physical) "
				     "changed", (unsigned long long)GPA_DST);
	if (fault_expect_none(m, "the guest's DMA", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	scenario_note("edu %s copied guest-physical 0x%llx to 0x%llx: the data is at host 0x%llx, and host 0x%llx "
		      "is untouched", dev->pci->name, (unsigned long long)GPA_SRC, (unsigned long long)GPA_DST,
		      (unsigned long long)(g->hpa + GPA_DST), (unsigned long long)GPA_DST);

	/* Outside the guest's RAM: nothing, not even the page the device wrote as the host's. */
	pattern_fill(g->outside, MOAT_PAGE_SIZE, 0x6100u);
	w = (struct fault_want){ dev, outside, true, MOAT_FAULT_BAD_ADDRESS, (int32_t)g->dom.id, 0, 0 };
	if (attack_write(m, &w, g->outside, "guest-physical memory the guest does not have", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	w.write = false;
	if (attack_read(m, &w, 0, DMA_TEST_LEN, "guest-physical memory the guest does not have", r) != SCENARIO_PASS ||
	    fetched_nothing(dev, gpa_virt(g, GPA_SCRATCH), GPA_SCRATCH, 0, DMA_TEST_LEN, g->outside,
			    "outside the guest", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	return audit_clean(m, r);
}

enum scenario_verdict scenario_guest_assignment(struct kernel_system *sys, struct scenario_result *r)
{
	struct guest g;
	struct kmoat *m;
	enum scenario_verdict v = protect_begin(&m, sys, r);

	if (v != SCENARIO_PASS)
		return v;
	moat_memset(&g, 0, sizeof(g));
	v = run(m, sys, &g, r);
	v = protect_end(m, v, r);
	if (g.have_ram)
		frames_give(g.hpa, GUEST_RAM);
	kpage_free(g.outside);
	kpage_free(g.host_src);
	return v;
}
