/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_protection: Moat protects the host. The kernel's image (code, data, stacks), its page tables,
 * Moat's own pages (tables, queues) and a planted secret page are protected; every other page of
 * RAM of the memory map (above 4 GiB too) is identity-mapped in the host domain, to which every edu
 * device is attached. Then each device:
 *  - copies an ordinary page to another (works, no fault) and, when the machine has RAM above
 *    4 GiB and the device's DMA mask reaches it, does the same through pages up there;
 *  - writes into the secret, into the kernel image and into a Moat-owned page: blocked, the pages
 *    unchanged, each fault naming the device, the page and a write;
 *  - reads the secret and the host domain's root table: blocked, it fetches zeros, each fault
 *    naming a read.
 * Last, the auditor walks the live tables and finds no violation.
 */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"
#include "scenarios/scenario.h"

#define FOUR_GIB (1ull << 32)
#define SECRET_TEXT "TOP SECRET: the host's private key. No device may ever read this page. "
#define HALF 2048u

/* A page of the kernel image that devices aim at (it would be code or data in a real kernel). */
static uint8_t kernel_canary[MOAT_PAGE_SIZE] __attribute__((aligned(MOAT_PAGE_SIZE)));

struct hp {
	struct kmoat *m;
	struct kernel_system *sys;
	uint8_t *secret, *src, *dst, *scratch, *owned;
	uint64_t owned_phys;
};

static void fill_secret(uint8_t *p)
{
	size_t len = sizeof(SECRET_TEXT) - 1;

	for (size_t i = 0; i < MOAT_PAGE_SIZE; i++)
		p[i] = (uint8_t)SECRET_TEXT[i % len];
}

/* Is [phys, phys + 4 KiB) identity-mapped in the host domain? */
static bool host_maps(struct kmoat *m, uint64_t phys)
{
	uint64_t out = 0;

	return moat_domain_translate(&m->host, phys, &out, NULL, NULL) == MOAT_OK && out == phys;
}

/* Every protected page is out of the host domain, and RAM pages that are not protected are in it. */
static enum scenario_verdict check_coverage(struct hp *h, struct scenario_result *r)
{
	struct kmoat *m = h->m;
	const struct moat_host_report *rep = &m->host_report;
	struct moat_protected p;
	unsigned checked = 0;
	char a[32], b[32], c[32];

	scenario_note("host domain %u: %s of %s of RAM identity-mapped, %s protected, %llu table pages",
		      m->host.id, ksize_str(rep->mapped_bytes, a, sizeof(a)), ksize_str(rep->ram_bytes, b, sizeof(b)),
		      ksize_str(rep->protected_bytes, c, sizeof(c)), (unsigned long long)rep->table_pages);
	if (rep->unreachable_bytes)
		return scenario_fail(r, "%llu bytes of RAM lie beyond what the host domain can translate",
				     (unsigned long long)rep->unreachable_bytes);
	if (rep->mapped_bytes + rep->protected_bytes != rep->ram_bytes)
		return scenario_fail(r, "mapped (0x%llx) + protected (0x%llx) != RAM (0x%llx)",
				     (unsigned long long)rep->mapped_bytes, (unsigned long long)rep->protected_bytes,
				     (unsigned long long)rep->ram_bytes);
	for (unsigned i = 0; moat_protect_get(&m->ms.sys, i, &p) == MOAT_OK; i++) {
		if (host_maps(m, p.base) || host_maps(m, p.base + p.size - MOAT_PAGE_SIZE))
			return scenario_fail(r, "protected range '%s' at 0x%llx is mapped in the host domain", p.label,
					     (unsigned long long)p.base);
	}
	if (host_maps(m, m->host.pt.root_phys))
		return scenario_fail(r, "the host domain's root table is mapped in the host domain");
	/* First, middle and last page of every RAM region. */
	for (unsigned i = 0; i < m->map_count; i++) {
		const struct moat_mem_range *e = &m->map[i];
		uint64_t first = (e->base + MOAT_PAGE_SIZE - 1) & ~(uint64_t)(MOAT_PAGE_SIZE - 1);
		uint64_t end = (e->base + e->length) & ~(uint64_t)(MOAT_PAGE_SIZE - 1);
		uint64_t probe[3];

		if (e->type != MOAT_MEM_RAM || end <= first)
			continue;
		probe[0] = first;
		probe[1] = first + ((end - first) / 2 & ~(uint64_t)(MOAT_PAGE_SIZE - 1));
		probe[2] = end - MOAT_PAGE_SIZE;
		for (unsigned k = 0; k < 3; k++) {
			bool prot = moat_protect_check(&m->ms.sys, probe[k], MOAT_PAGE_SIZE, NULL) == MOAT_ERR_PROTECTED;

			if (prot == host_maps(m, probe[k]))
				return scenario_fail(r, "RAM page 0x%llx is %s but %s in the host domain",
						     (unsigned long long)probe[k], prot ? "protected" : "not protected",
						     prot ? "mapped" : "not mapped");
			checked++;
		}
	}
	scenario_note("%u RAM pages sampled across the memory map: each reachable exactly when not protected",
		      checked);
	return SCENARIO_PASS;
}

/* The IOMMU's own structures (device, root and context tables, queues), those made by attaching too. */
static enum scenario_verdict check_driver_pages(struct hp *h, struct scenario_result *r)
{
	struct moat_protect_hit hit;
	uint64_t phys;
	unsigned i;

	for (i = 0; moat_setup_driver_page(&h->m->ms, i, &phys) == MOAT_OK; i++) {
		if (moat_protect_check(&h->m->ms.sys, phys, MOAT_PAGE_SIZE, &hit) != MOAT_ERR_PROTECTED)
			return scenario_fail(r, "the IOMMU's page 0x%llx is not protected", (unsigned long long)phys);
		if (host_maps(h->m, phys))
			return scenario_fail(r, "the IOMMU's page 0x%llx is mapped in the host domain", (unsigned long long)phys);
	}
	scenario_note("the IOMMU's own %u pages (device or root and context tables, queues) are protected and unmapped",
		      i);
	/* and every unit's registers, from bring-up on */
	const struct fw_iommu_table *t = firmware_iommu(&h->sys->fw);
	for (i = 0; t && i < t->desc.units_count; i++) {
		uint64_t base = t->desc.units[i].register_base;

		if (moat_protect_check(&h->m->ms.sys, base, MOAT_PAGE_SIZE, &hit) != MOAT_ERR_PROTECTED || hit.owned)
			return scenario_fail(r, "the registers of unit %u at 0x%llx are not in the registry", i,
					     (unsigned long long)base);
		if (host_maps(h->m, base))
			return scenario_fail(r, "the registers of unit %u at 0x%llx are mapped in the host domain", i,
					     (unsigned long long)base);
	}
	scenario_note("the registers of the %u unit(s) are protected (\"%s\") and unmapped", i, i ? hit.label : "");
	return SCENARIO_PASS;
}

/* A device's ordinary DMA: a page copied through its buffer, no fault. */
static enum scenario_verdict ordinary_dma(struct hp *h, struct edu_dev *dev, uint32_t seed,
					  struct scenario_result *r)
{
	if (dma_round_trip(dev, h->src, h->dst, seed, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	return fault_expect_none(h->m, "an ordinary DMA", r);
}

/* The same through RAM above 4 GiB, when the device's mask reaches it. */
static enum scenario_verdict high_dma(struct hp *h, struct edu_dev *dev, uint32_t seed, struct scenario_result *r)
{
	uint8_t *hsrc = kpage_alloc(FOUR_GIB, UINT64_MAX, true), *hdst = kpage_alloc(FOUR_GIB, UINT64_MAX, true);
	enum scenario_verdict v = SCENARIO_PASS;
	struct moat_fault f[4];
	struct moat_fault_poll res;
	char who[64];

	if (!hsrc || !hdst) {
		v = scenario_fail(r, "RAM above 4 GiB is reported but no page of it is free");
		goto out;
	}
	if (!host_maps(h->m, kvirt_to_phys(hsrc)) || !host_maps(h->m, kvirt_to_phys(hdst))) {
		v = scenario_fail(r, "the high pages 0x%llx, 0x%llx are not in the host domain",
				  (unsigned long long)kvirt_to_phys(hsrc), (unsigned long long)kvirt_to_phys(hdst));
		goto out;
	}
	pattern_fill(hsrc, MOAT_PAGE_SIZE, seed);
	pattern_fill(hdst, MOAT_PAGE_SIZE, ~seed);
	/* Read the high page and look at what came: a narrower DMA mask reads some lower page. */
	if (edu_dma_to_device(dev, kvirt_to_phys(hsrc), DMA_TEST_LEN) != MOAT_OK ||
	    edu_dma_from_device(dev, kvirt_to_phys(h->scratch), DMA_TEST_LEN) != MOAT_OK) {
		v = scenario_fail(r, "edu %s: DMA through 0x%llx did not finish", dev->pci->name,
				  (unsigned long long)kvirt_to_phys(hsrc));
		goto out;
	}
	if (moat_memcmp(h->scratch, hsrc, DMA_TEST_LEN)) {
		/* Whatever the narrower address hit (possibly protected memory) is no concern here. */
		moat_fault_poll(&h->m->ms.sys, f, MOAT_ARRAY_SIZE(f), &res);
		scenario_note("edu %s does not reach 0x%llx (its DMA mask is narrower): high RAM left to devices that "
			      "do", dev->pci->name, (unsigned long long)kvirt_to_phys(hsrc));
		goto out;
	}
	if (edu_dma_from_device(dev, kvirt_to_phys(hdst), DMA_TEST_LEN) != MOAT_OK) {
		v = scenario_fail(r, "edu %s: DMA to 0x%llx did not finish", dev->pci->name,
				  (unsigned long long)kvirt_to_phys(hdst));
		goto out;
	}
	moat_snprintf(who, sizeof(who), "edu %s above 4 GiB", dev->pci->name);
	v = dma_check_copy(who, hdst, hsrc, seed, r);
	if (v == SCENARIO_PASS) {
		scenario_note("edu %s copied page 0x%llx to 0x%llx above 4 GiB through the host domain", dev->pci->name,
			      (unsigned long long)kvirt_to_phys(hsrc), (unsigned long long)kvirt_to_phys(hdst));
		v = fault_expect_none(h->m, "DMA above 4 GiB", r);
	}
out:
	kpage_free(hsrc);
	kpage_free(hdst);
	return v;
}

static enum scenario_verdict attacks(struct hp *h, struct edu_dev *dev, struct scenario_result *r)
{
	struct kmoat *m = h->m;
	int32_t host = (int32_t)m->host.id;
	uint64_t root = m->host.pt.root_phys;
	struct fault_want w;

	/* The buffer holds the ordinary page the device just copied: that is what it tries to write. */
	w = (struct fault_want){ dev, kvirt_to_phys(h->secret), true, MOAT_FAULT_BAD_ADDRESS, host, 0, 0 };
	if (attack_write(m, &w, h->secret, "the planted secret", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	w.addr = kvirt_to_phys(kernel_canary);
	if (attack_write(m, &w, kernel_canary, "the kernel image", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	w.addr = h->owned_phys;
	if (attack_write(m, &w, h->owned, "a Moat-owned page", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;

	w = (struct fault_want){ dev, kvirt_to_phys(h->secret), false, MOAT_FAULT_BAD_ADDRESS, host, 0, 0 };
	if (attack_read(m, &w, 0, HALF, "the planted secret", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	w.addr = root;
	if (attack_read(m, &w, HALF, DMA_TEST_LEN - HALF, "the host domain's root table", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	if (fetched_nothing(dev, h->scratch, kvirt_to_phys(h->scratch), 0, HALF, h->secret, "the planted secret", r) !=
		    SCENARIO_PASS ||
	    fetched_nothing(dev, h->scratch, kvirt_to_phys(h->scratch), HALF, DMA_TEST_LEN - HALF,
			    moat_plat_phys_to_virt(root), "the root table", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	return fault_expect_none(m, "exporting the buffer", r);
}

static enum scenario_verdict run(struct hp *h, struct scenario_result *r)
{
	struct kmoat *m = h->m;
	struct moat_diag diag = { 0 };
	char msg[200];
	bool high = memmap_ram_bytes_above(FOUR_GIB) != 0;

	h->secret = low_page();
	h->src = low_page();
	h->dst = low_page();
	h->scratch = low_page();
	if (!h->secret || !h->src || !h->dst || !h->scratch)
		return scenario_fail(r, "no free RAM page below 256 MiB for the buffers");
	fill_secret(h->secret);
	pattern_fill(kernel_canary, MOAT_PAGE_SIZE, 0xca7a77u);
	if (moat_protect_add(&m->ms.sys, kvirt_to_phys(h->secret), MOAT_PAGE_SIZE, "planted secret", &diag) != MOAT_OK)
		return scenario_fail(r, "protecting the secret: %s", moat_diag_format(&diag, msg, sizeof(msg)));
	scenario_note("secret planted at 0x%llx: \"%.40s...\"", (unsigned long long)kvirt_to_phys(h->secret),
		      (const char *)h->secret);
	if (kmoat_protect_host(m, &diag) != MOAT_OK)
		return scenario_fail(r, "protecting the host: %s", moat_diag_format(&diag, msg, sizeof(msg)));
	/* A page Moat owns, as its tables and queues are: no domain maps it. */
	h->owned = moat_page_alloc(&m->ms.sys, &h->owned_phys);
	if (!h->owned)
		return scenario_fail(r, "moat_page_alloc() found no page");
	pattern_fill(h->owned, MOAT_PAGE_SIZE, 0x0a4e3du);
	if (check_coverage(h, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;

	for (unsigned i = 0; i < h->sys->edu_count; i++) {
		if (kmoat_attach(m, &m->host, h->sys->edu[i].pci, &diag) != MOAT_OK)
			return scenario_fail(r, "attaching edu %s to the host domain: %s", h->sys->edu[i].pci->name,
					     moat_diag_format(&diag, msg, sizeof(msg)));
	}
	scenario_note("%u edu device(s) attached to the host domain", h->sys->edu_count);
	if (check_driver_pages(h, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	for (unsigned i = 0; i < h->sys->edu_count; i++) {
		struct edu_dev *dev = &h->sys->edu[i];

		if (ordinary_dma(h, dev, 0x3000u + i, r) != SCENARIO_PASS)
			return SCENARIO_FAIL;
		if (high && high_dma(h, dev, 0x3100u + i, r) != SCENARIO_PASS)
			return SCENARIO_FAIL;
		if (attacks(h, dev, r) != SCENARIO_PASS)
			return SCENARIO_FAIL;
	}
	return audit_clean(m, r);
}

enum scenario_verdict scenario_host_protection(struct kernel_system *sys, struct scenario_result *r)
{
	struct hp h = { .sys = sys };
	enum scenario_verdict v = protect_begin(&h.m, sys, r);

	if (v != SCENARIO_PASS)
		return v;
	v = run(&h, r);
	if (h.owned)
		moat_page_free(&h.m->ms.sys, h.owned, h.owned_phys);
	v = protect_end(h.m, v, r);
	kpage_free(h.secret);
	kpage_free(h.src);
	kpage_free(h.dst);
	kpage_free(h.scratch);
	return v;
}
