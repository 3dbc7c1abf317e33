/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the protection scenarios share: Moat brought up and taken down around each of them, DMA
 * attacks whose data outcome is checked byte by byte, and the fault each blocked access must leave
 * (checked only where the IOMMU keeps fault records, so that the data alone decide elsewhere).
 * Vendor-neutral: everything goes through the core (moat/moat.h) and bring-up (moat/setup.h).
 */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"
#include "scenarios/scenario.h"

static struct kmoat the_moat;
static uint8_t before[MOAT_PAGE_SIZE];

enum scenario_verdict protect_begin(struct kmoat **out, struct kernel_system *sys, struct scenario_result *r)
{
	const struct fw_iommu_table *t = firmware_iommu(&sys->fw);
	struct moat_diag diag = { 0 };
	char msg[200];
	moat_status st;

	*out = &the_moat;
	if (!t)
		return scenario_skip(r, "the firmware describes no IOMMU");
	if (!sys->edu_count)
		return scenario_skip(r, "no edu device (QEMU: -device edu)");
	st = kmoat_up(&the_moat, sys, &diag);
	if (st != MOAT_OK)
		return scenario_fail(r, "bringing Moat up: %s", moat_diag_format(&diag, msg, sizeof(msg)));
	scenario_note("Moat up: %u %s unit(s) translating, %u-level tables (%u-bit addresses), %llu pages of its own",
		      the_moat.ms.caps.units, firmware_vendor_name(the_moat.ms.caps.vendor), the_moat.ms.caps.levels,
		      the_moat.ms.caps.address_width, (unsigned long long)moat_owned_pages(&the_moat.ms.sys));
	if (the_moat.stale_faults)
		scenario_note("%u fault record(s) left from before bring-up were read out and dropped",
			      the_moat.stale_faults);
	if (!the_moat.records_faults)
		scenario_note("no fault records to check: %s", the_moat.records_note ? the_moat.records_note
										 : "the IOMMU keeps none");
	return SCENARIO_PASS;
}

enum scenario_verdict protect_end(struct kmoat *m, enum scenario_verdict v, struct scenario_result *r)
{
	char problem[200] = "";

	if (kmoat_down(m, problem, sizeof(problem)) != MOAT_OK && v != SCENARIO_FAIL)
		return scenario_fail(r, "tear-down: %s", problem);
	if (v == SCENARIO_PASS && !m->records_faults)
		scenario_note("judged by the data alone (memory unchanged, zeros fetched), without fault records: %s",
			      m->records_note ? m->records_note : "the IOMMU keeps none");
	return v;
}

static bool fault_matches(const struct moat_fault *f, const struct fault_want *w, char *why, unsigned size)
{
	uint64_t page = w->addr & ~(uint64_t)(MOAT_PAGE_SIZE - 1);

	if (f->rid != w->dev->pci->dma_rid)
		moat_snprintf(why, size, "from %02x:%02x.%x, not from edu %s", MOAT_RID_BUS(f->rid), MOAT_RID_DEV(f->rid),
			      MOAT_RID_FN(f->rid), w->dev->pci->name);
	else if (f->is_interrupt || (f->address & ~(uint64_t)(MOAT_PAGE_SIZE - 1)) != page)
		moat_snprintf(why, size, "at 0x%llx, not 0x%llx", (unsigned long long)f->address, (unsigned long long)page);
	else if (f->is_write != w->write)
		moat_snprintf(why, size, "a %s, not a %s", f->is_write ? "write" : "read", w->write ? "write" : "read");
	else if (f->fault_class != w->cls)
		moat_snprintf(why, size, "class '%s', not '%s'", moat_fault_class_str(f->fault_class),
			      moat_fault_class_str(w->cls));
	else if (f->domain_id != w->domain_id)
		moat_snprintf(why, size, "names domain %d, not %d", (int)f->domain_id, (int)w->domain_id);
	else if (w->reason && f->reason != w->reason && (!w->reason_alt || f->reason != w->reason_alt))
		moat_snprintf(why, size, "reason 0x%x, not 0x%x", f->reason, w->reason);
	else
		return true;
	return false;
}

enum scenario_verdict fault_expect(struct kmoat *m, const struct fault_want *w, struct scenario_result *r)
{
	struct moat_fault f[4];
	struct moat_fault_poll res;
	char line[480], why[96];

	if (moat_fault_poll(&m->ms.sys, f, MOAT_ARRAY_SIZE(f), &res) != MOAT_OK)
		return scenario_fail(r, "moat_fault_poll() refused its arguments");
	for (unsigned i = 0; i < res.count; i++) {
		kmoat_fault_line(m, &f[i], line, sizeof(line));
		scenario_note("  fault: %s", line);
	}
	if (!res.count) {
		if (m->records_faults)
			return scenario_fail(r, "edu %s: the blocked access at 0x%llx left no fault record", w->dev->pci->name,
					     (unsigned long long)w->addr);
		scenario_note("  (this IOMMU keeps no fault records here: the data alone decide)");
		return SCENARIO_PASS;
	}
	if (res.count != 1 || res.remaining || res.overflows)
		return scenario_fail(r, "edu %s: one fault expected at 0x%llx, got %u (%u more pending, %u overflows)",
				     w->dev->pci->name, (unsigned long long)w->addr, res.count, res.remaining, res.overflows);
	if (!fault_matches(&f[0], w, why, sizeof(why)))
		return scenario_fail(r, "edu %s: the fault of the blocked access at 0x%llx is %s", w->dev->pci->name,
				     (unsigned long long)w->addr, why);
	return SCENARIO_PASS;
}

enum scenario_verdict fault_expect_none(struct kmoat *m, const char *after, struct scenario_result *r)
{
	struct moat_fault f[4];
	struct moat_fault_poll res;
	char line[480];

	if (moat_fault_poll(&m->ms.sys, f, MOAT_ARRAY_SIZE(f), &res) != MOAT_OK)
		return scenario_fail(r, "moat_fault_poll() refused its arguments");
	if (!res.count && !res.overflows)
		return SCENARIO_PASS;
	if (res.count) {
		kmoat_fault_line(m, &f[0], line, sizeof(line));
		return scenario_fail(r, "after %s: unexpected fault: %s", after, line);
	}
	return scenario_fail(r, "after %s: fault records overflowed", after);
}

enum scenario_verdict attack_write(struct kmoat *m, const struct fault_want *w, uint8_t *target, const char *what,
				   struct scenario_result *r)
{
	struct edu_dev *dev = (struct edu_dev *)w->dev;
	size_t first = 0, diff;
	uint8_t got = 0, want = 0;
	moat_status st;

	moat_memcpy(before, target, MOAT_PAGE_SIZE);
	st = edu_dma_from_device(dev, w->addr, DMA_TEST_LEN);
	if (st != MOAT_OK)
		return scenario_fail(r, "edu %s: DMA to 0x%llx: %s", dev->pci->name, (unsigned long long)w->addr,
				     moat_status_str(st));
	diff = bytes_compare(target, before, MOAT_PAGE_SIZE, &first, &got, &want);
	if (diff)
		return scenario_fail(r, "edu %s wrote into %s at 0x%llx: %zu bytes changed (first at offset %zu)",
				     dev->pci->name, what, (unsigned long long)kvirt_to_phys(target), diff, first);
	scenario_note("attack: edu %s writes %u bytes to %s (0x%llx): blocked, not a byte changed", dev->pci->name,
		      DMA_TEST_LEN, what, (unsigned long long)w->addr);
	return fault_expect(m, w, r);
}

enum scenario_verdict attack_read(struct kmoat *m, const struct fault_want *w, uint32_t buf_offset, uint32_t len,
				  const char *what, struct scenario_result *r)
{
	struct edu_dev *dev = (struct edu_dev *)w->dev;
	moat_status st = edu_dma(dev, EDU_TO_DEVICE, w->addr, buf_offset, len, EDU_DMA_TIMEOUT_NS);

	if (st != MOAT_OK)
		return scenario_fail(r, "edu %s: DMA from 0x%llx: %s", dev->pci->name, (unsigned long long)w->addr,
				     moat_status_str(st));
	scenario_note("attack: edu %s reads %u bytes of %s (0x%llx) into its buffer", dev->pci->name, len, what,
		      (unsigned long long)w->addr);
	return fault_expect(m, w, r);
}

enum scenario_verdict fetched_nothing(struct edu_dev *dev, uint8_t *scratch, uint64_t scratch_iova,
				      uint32_t buf_offset, uint32_t len, const uint8_t *secret, const char *what,
				      struct scenario_result *r)
{
	moat_status st;

	/* A pattern that is neither zeros nor the secret, so that an export that did not happen shows. */
	pattern_fill(scratch, MOAT_PAGE_SIZE, 0x5c7a7c4u);
	st = edu_dma(dev, EDU_FROM_DEVICE, scratch_iova, buf_offset, len, EDU_DMA_TIMEOUT_NS);
	if (st != MOAT_OK)
		return scenario_fail(r, "edu %s: DMA of its buffer to 0x%llx: %s", dev->pci->name,
				     (unsigned long long)scratch_iova, moat_status_str(st));
	if (secret && !moat_memcmp(scratch, secret, MOAT_MIN(len, 64u)))
		return scenario_fail(r, "edu %s fetched the contents of %s: LEAKED", dev->pci->name, what);
	for (uint32_t i = 0; i < len; i++) {
		if (scratch[i])
			return scenario_fail(r, "edu %s: after the blocked read of %s its buffer holds 0x%02x at %u, "
					     "not zeros", dev->pci->name, what, scratch[i], buf_offset + i);
	}
	scenario_note("edu %s got only zeros from %s: nothing leaked", dev->pci->name, what);
	return SCENARIO_PASS;
}

enum scenario_verdict audit_clean(struct kmoat *m, struct scenario_result *r)
{
	static struct moat_audit_report rep;
	uint64_t n = moat_audit(&m->ms.sys, &rep);
	char line[200];

	if (rep.status != MOAT_OK)
		return scenario_fail(r, "the audit could not walk every domain: %s", moat_status_str(rep.status));
	for (unsigned i = 0; i < rep.count; i++) {
		moat_audit_format(&rep.v[i], line, sizeof(line));
		scenario_note("audit violation: %s", line);
	}
	if (n)
		return scenario_fail(r, "the auditor found %llu violation(s) on the live tables", (unsigned long long)n);
	scenario_note("audit: 0 violations (%llu domain(s), %llu table pages, %llu leaves, %llu MiB mapped, "
		      "%llu device(s), %llu IOMMU table pages)", (unsigned long long)rep.domains,
		      (unsigned long long)rep.tables, (unsigned long long)rep.leaves,
		      (unsigned long long)(rep.mapped_bytes >> 20), (unsigned long long)rep.devices,
		      (unsigned long long)rep.unit_tables);
	return SCENARIO_PASS;
}

uint8_t *low_page(void)
{
	return kpage_alloc(0, EDU_DEFAULT_REACH, false);
}
