/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * default_deny: a device the IOMMU translates but that was given no domain reaches nothing. The
 * host is protected as usual (host domain over RAM, the other edu devices attached to it); the last
 * edu device is left out. Its write to an ordinary page (one the host domain maps) is blocked, the
 * page unchanged, and the fault says "context entry not present" (VT-d; "root entry not present"
 * when no device of its bus has a domain) and names no domain: a bad device, not a bad address.
 * Its read of an ordinary page is blocked too: attached afterwards to a domain that lets it write
 * one scratch page, the device shows that it had fetched zeros.
 */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"
#include "scenarios/scenario.h"

struct deny {
	uint8_t *page, *scratch;
	struct moat_domain look;
};

static enum scenario_verdict run(struct kmoat *m, struct kernel_system *sys, struct deny *d,
				 struct scenario_result *r)
{
	struct edu_dev *dev = &sys->edu[sys->edu_count - 1];
	struct moat_diag diag = { 0 };
	uint64_t out = 0;
	struct fault_want w;
	char msg[200];

	d->page = low_page();
	d->scratch = low_page();
	if (!d->page || !d->scratch)
		return scenario_fail(r, "no free RAM page below 256 MiB");
	if (kmoat_protect_host(m, &diag) != MOAT_OK)
		return scenario_fail(r, "protecting the host: %s", moat_diag_format(&diag, msg, sizeof(msg)));
	for (unsigned i = 0; i + 1 < sys->edu_count; i++) {
		if (kmoat_attach(m, &m->host, sys->edu[i].pci, &diag) != MOAT_OK)
			return scenario_fail(r, "attaching edu %s: %s", sys->edu[i].pci->name,
					     moat_diag_format(&diag, msg, sizeof(msg)));
	}
	if (moat_domain_translate(&m->host, kvirt_to_phys(d->page), &out, NULL, NULL) != MOAT_OK ||
	    out != kvirt_to_phys(d->page))
		return scenario_fail(r, "the target page 0x%llx is not in the host domain",
				     (unsigned long long)kvirt_to_phys(d->page));
	scenario_note("host domain %u over all RAM, %u other edu device(s) attached; edu %s given no domain",
		      m->host.id, sys->edu_count - 1, dev->pci->name);

	pattern_fill(d->page, MOAT_PAGE_SIZE, 0x9000u);
	/* VT-d: "context entry not present" (2), or "root entry not present" (1) when no device of
	 * its bus has a domain either. */
	w = (struct fault_want){ dev, kvirt_to_phys(d->page), true, MOAT_FAULT_BAD_DEVICE, -1, 0, 0 };
	if (m->ms.caps.vendor == MOAT_VENDOR_VTD) {
		w.reason = 0x2;
		w.reason_alt = 0x1;
	}
	if (attack_write(m, &w, d->page, "an ordinary page", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	w.write = false;
	if (attack_read(m, &w, 0, DMA_TEST_LEN, "an ordinary page", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;

	/* Let it show what it fetched: a domain with one writable page. */
	if (kmoat_domain(m, &d->look, &diag) != MOAT_OK ||
	    moat_domain_map(&d->look, kvirt_to_phys(d->scratch), kvirt_to_phys(d->scratch), MOAT_PAGE_SIZE, MOAT_PT_RW,
			    &diag) != MOAT_OK ||
	    kmoat_attach(m, &d->look, dev->pci, &diag) != MOAT_OK)
		return scenario_fail(r, "a domain to look into edu %s: %s", dev->pci->name,
				     moat_diag_format(&diag, msg, sizeof(msg)));
	if (fetched_nothing(dev, d->scratch, kvirt_to_phys(d->scratch), 0, DMA_TEST_LEN, d->page, "the ordinary page",
			    r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	return audit_clean(m, r);
}

enum scenario_verdict scenario_default_deny(struct kernel_system *sys, struct scenario_result *r)
{
	struct deny d;
	struct kmoat *m;
	enum scenario_verdict v = protect_begin(&m, sys, r);

	if (v != SCENARIO_PASS)
		return v;
	moat_memset(&d, 0, sizeof(d));
	v = run(m, sys, &d, r);
	v = protect_end(m, v, r);
	kpage_free(d.page);
	kpage_free(d.scratch);
	return v;
}
