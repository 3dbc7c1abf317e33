/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fault_flood: more blocked accesses than the IOMMU has fault records, with nobody reading them in
 * between. Every edu device is left without a domain and writes, in turn, to pages no one mapped
 * (each time another page). The poll that follows must report the overflow (faults were lost),
 * return the records there were, and leave the hardware recording again: the next blocked access
 * is recorded and no overflow is reported any more. Memory is never touched.
 *
 * A unit records one fault per requester while that requester's last record is unread (QEMU's
 * model folds the rest into it, as hardware may), so overflowing R records takes R + 1 devices:
 * SKIP with fewer edu devices than that. On an IOMMU that writes no fault records at all (QEMU
 * 7.2's AMD-Vi model, see kmoat_up()) there is nothing to overflow: the flood then shows only what
 * the data can, that no blocked write changed memory, before and after the flood.
 */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"
#include "scenarios/scenario.h"

#define ROUNDS 2          /* blocked writes per device */
#define MAX_TARGETS (ROUNDS * EDU_MAX_DEVICES + 1)

static uint8_t *targets[MAX_TARGETS];

static bool unchanged(const uint8_t *p, uint32_t seed)
{
	static uint8_t want[MOAT_PAGE_SIZE];

	pattern_fill(want, MOAT_PAGE_SIZE, seed);
	return !moat_memcmp(p, want, MOAT_PAGE_SIZE);
}

static enum scenario_verdict run(struct kmoat *m, struct kernel_system *sys, unsigned ntargets,
				 struct scenario_result *r)
{
	unsigned n = sys->edu_count, records = m->fault_records, k = 0;
	struct moat_fault f[4];
	struct moat_fault_poll res;
	struct fault_want w;
	char line[480];

	for (unsigned i = 0; i < ntargets; i++) {
		targets[i] = low_page();
		if (!targets[i])
			return scenario_fail(r, "no free RAM page below 256 MiB");
		pattern_fill(targets[i], MOAT_PAGE_SIZE, 0x8000u + i);
	}
	if (n < records + 1)
		return scenario_skip(r, "overflowing %u fault record(s) takes %u requesters (a unit folds a requester's "
				     "faults into its unread record); the machine has %u edu device(s)", records,
				     records + 1, n);

	/* The flood: no poll in between. */
	for (unsigned round = 0; round < ROUNDS; round++) {
		for (unsigned d = 0; d < n; d++, k++) {
			if (edu_dma_from_device(&sys->edu[d], kvirt_to_phys(targets[k]), 64) != MOAT_OK)
				return scenario_fail(r, "edu %s: DMA did not finish", sys->edu[d].pci->name);
		}
	}
	scenario_note("%u blocked writes from %u device(s) without a domain, %u fault record(s), nobody reading", k, n,
		      records);
	if (moat_fault_poll(&m->ms.sys, f, MOAT_ARRAY_SIZE(f), &res) != MOAT_OK)
		return scenario_fail(r, "moat_fault_poll() refused its arguments");
	for (unsigned i = 0; i < res.count; i++) {
		kmoat_fault_line(m, &f[i], line, sizeof(line));
		scenario_note("  kept: %s", line);
	}
	scenario_note("poll: %u record(s), overflow reported %u time(s) (%llu since bring-up)", res.count, res.overflows,
		      (unsigned long long)res.overflow_total);
	if (m->records_faults) {
		if (!res.overflows)
			return scenario_fail(r, "%u faults into %u record(s), and no overflow reported", k, records);
		if (!res.count || res.count > records)
			return scenario_fail(r, "%u record(s) returned, the unit has %u", res.count, records);
		/* The first record is the first fault: later ones were folded or lost. */
		w = (struct fault_want){ &sys->edu[0], kvirt_to_phys(targets[0]), true, MOAT_FAULT_BAD_DEVICE, -1,
					 0, 0 };
		if (f[0].rid != w.dev->pci->dma_rid || f[0].address != w.addr || !f[0].is_write ||
		    f[0].fault_class != MOAT_FAULT_BAD_DEVICE)
			return scenario_fail(r, "the record kept is not edu %s's first write to 0x%llx",
					     w.dev->pci->name, (unsigned long long)w.addr);
	}
	for (unsigned i = 0; i < k; i++) {
		if (!unchanged(targets[i], 0x8000u + i))
			return scenario_fail(r, "page 0x%llx changed although its writer had no domain",
					     (unsigned long long)kvirt_to_phys(targets[i]));
	}

	/* Recovered: the next fault is recorded, and nothing overflows. */
	w = (struct fault_want){ &sys->edu[n - 1], kvirt_to_phys(targets[k]), true, MOAT_FAULT_BAD_DEVICE, -1, 0,
				 0 };
	if (attack_write(m, &w, targets[k], "a page after the flood", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	if (m->records_faults)
		scenario_note("recording resumed: the next fault was recorded, without overflow");
	return SCENARIO_PASS;
}

enum scenario_verdict scenario_fault_flood(struct kernel_system *sys, struct scenario_result *r)
{
	unsigned ntargets = ROUNDS * MOAT_MIN(sys->edu_count, (unsigned)EDU_MAX_DEVICES) + 1;
	struct kmoat *m;
	enum scenario_verdict v = protect_begin(&m, sys, r);

	if (v != SCENARIO_PASS)
		return v;
	moat_memset(targets, 0, sizeof(targets));
	v = run(m, sys, ntargets, r);
	v = protect_end(m, v, r);
	for (unsigned i = 0; i < ntargets; i++)
		kpage_free(targets[i]);
	return v;
}
