/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dma_api: an edu device driven through the DMA API (include/moat/dma.h), as an operating system's
 * driver would use it, in domains of its own (not the host domain).
 *
 * Strict: pages of the kernel, above the device's 28-bit reach where the machine has RAM there, are
 * mapped with moat_dma_map() below that reach; the device reads one through its IOVA and writes it
 * back through another, and the data lands. A page mapped for the device to read cannot be
 * written, and protected memory cannot be mapped at all; the auditor agrees. After
 * moat_dma_unmap() (one invalidation per call, complete when it returns) the old IOVAs reach
 * nothing: a write changes nothing, a read fetches zeros, and the faults name the device and the
 * address. A second unmap, or one with the wrong direction, is refused and changes nothing.
 *
 * Deferred: the same instance re-initialized on another domain. 600 one-page maps and unmaps (four
 * live at a time, queue of 256): no IOVA is handed out again while the unmap that freed it still
 * waits for its invalidation (the IOVAs unmapped since the last queue flush are kept and every new
 * one is checked against them, and against the live ones). Then an unmap whose invalidation is
 * held in the queue while the device writes through the old IOVA (what happens is shown, not
 * judged: it is the window the policy accepts), and after moat_dma_flush() a write through it is
 * blocked. The longest window measured is printed.
 */
#include <moat/dma.h>
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"
#include "scenarios/scenario.h"

#define CHURN 600u                          /* deferred: maps and unmaps of one-page buffers */
#define RING 4u                             /* deferred: mappings live at once during them */
#define REACH_MASK (EDU_DEFAULT_REACH - 1)  /* every edu device reaches below 256 MiB */
#define IOVA_FLOOR (1ull << 20)             /* the default IOVA space starts at 1 MiB */

struct api {
	struct moat_domain strict_dom, deferred_dom;
	bool dma_live;
	uint8_t *src, *dst, *scratch, *ring[RING];
};

/* One instance: strict on one domain, then re-initialized deferred on another. */
static struct moat_dma dma;
/* Deferred: the IOVAs whose unmap waits for an invalidation (oldest first), and every IOVA seen. */
static uint64_t pending[CHURN + RING], seen[CHURN];

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

/* A page for a buffer: above what the device reaches by itself when the machine has RAM there. */
static uint8_t *buf_page(void)
{
	uint8_t *p = kpage_alloc(EDU_DEFAULT_REACH, UINT64_MAX, false);

	return p ? p : kpage_alloc(0, UINT64_MAX, false);
}

static enum scenario_verdict map_page(uint8_t *page, enum moat_dma_dir dir, uint64_t *iova, const char *what,
				      struct scenario_result *r)
{
	struct moat_diag diag = { 0 };
	char msg[200];
	moat_status st = moat_dma_map(&dma, kvirt_to_phys(page), MOAT_PAGE_SIZE, dir, REACH_MASK, iova, &diag);

	if (st != MOAT_OK)
		return scenario_fail(r, "moat_dma_map() of %s (page 0x%llx): %s", what, ull(kvirt_to_phys(page)),
				     moat_diag_format(&diag, msg, sizeof(msg)));
	if ((*iova & (MOAT_PAGE_SIZE - 1)) || *iova < IOVA_FLOOR || *iova + (MOAT_PAGE_SIZE - 1) > REACH_MASK)
		return scenario_fail(r, "moat_dma_map() of %s gave IOVA 0x%llx: not a whole page in [0x%llx, 0x%llx]",
				     what, ull(*iova), ull(IOVA_FLOOR), ull(REACH_MASK));
	return SCENARIO_PASS;
}

static enum scenario_verdict unmap_page(uint64_t iova, enum moat_dma_dir dir, struct scenario_result *r)
{
	struct moat_diag diag = { 0 };
	char msg[200];

	if (moat_dma_unmap(&dma, iova, MOAT_PAGE_SIZE, dir, &diag) != MOAT_OK)
		return scenario_fail(r, "moat_dma_unmap() of IOVA 0x%llx: %s", ull(iova),
				     moat_diag_format(&diag, msg, sizeof(msg)));
	return SCENARIO_PASS;
}

static enum scenario_verdict dma_init(struct api *a, struct moat_domain *dom, enum moat_dma_policy policy,
				      struct scenario_result *r)
{
	const struct moat_dma_config cfg = { .policy = policy };
	struct moat_diag diag = { 0 };
	char msg[200];

	if (moat_dma_init(&dma, dom, &cfg, &diag) != MOAT_OK)
		return scenario_fail(r, "moat_dma_init() on domain %u: %s", dom->id,
				     moat_diag_format(&diag, msg, sizeof(msg)));
	a->dma_live = true;
	return SCENARIO_PASS;
}

static enum scenario_verdict dma_fini(struct api *a, struct scenario_result *r)
{
	struct moat_dma_stats st;
	moat_status s;

	moat_dma_stats(&dma, &st);
	if (st.live)
		return scenario_fail(r, "before moat_dma_fini(): %llu mapping(s) live, expected none", ull(st.live));
	a->dma_live = false;
	s = moat_dma_fini(&dma);
	if (s != MOAT_OK)
		return scenario_fail(r, "moat_dma_fini(): %s", moat_status_str(s));
	scenario_note("moat_dma_fini(): %llu maps, %llu unmaps, %llu invalidations%s", ull(st.maps), ull(st.unmaps),
		      ull(st.invalidations), st.queued ? ", the queue flushed" : "");
	return SCENARIO_PASS;
}

/* A new domain with @dev attached (its reserved regions first), for a struct moat_dma to serve. */
/* The device reads @a->src through @src_iova and writes it to @a->dst through @dst_iova; the data
 * must land and no fault be recorded. */
static enum scenario_verdict copy_through(struct kmoat *m, struct edu_dev *dev, struct api *a, uint64_t src_iova,
					  uint64_t dst_iova, uint32_t seed, const char *what, struct scenario_result *r)
{
	moat_status st;

	pattern_fill(a->src, MOAT_PAGE_SIZE, seed);
	pattern_fill(a->dst, MOAT_PAGE_SIZE, ~seed);
	st = edu_dma_to_device(dev, src_iova, DMA_TEST_LEN);
	if (st == MOAT_OK)
		st = edu_dma_from_device(dev, dst_iova, DMA_TEST_LEN);
	if (st != MOAT_OK)
		return scenario_fail(r, "edu %s: DMA through IOVAs 0x%llx and 0x%llx: %s", dev->pci->name,
				     ull(src_iova), ull(dst_iova), moat_status_str(st));
	if (dma_check_copy(what, a->dst, a->src, seed, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	return fault_expect_none(m, what, r);
}

static enum scenario_verdict new_domain(struct kmoat *m, struct moat_domain *dom, struct edu_dev *dev,
					struct scenario_result *r)
{
	struct moat_diag diag = { 0 };
	char msg[200];

	if (kmoat_domain(m, dom, &diag) != MOAT_OK || kmoat_attach(m, dom, dev->pci, &diag) != MOAT_OK)
		return scenario_fail(r, "a domain for edu %s: %s", dev->pci->name,
				     moat_diag_format(&diag, msg, sizeof(msg)));
	return SCENARIO_PASS;
}

/* Map a page of the kernel image (protected): refused, naming it, and nothing changes. */
static enum scenario_verdict protected_refused(struct scenario_result *r)
{
	const uint64_t phys = kvirt_to_phys(&dma) & ~(uint64_t)(MOAT_PAGE_SIZE - 1);
	struct moat_dma_stats before, after;
	struct moat_diag diag = { 0 };
	uint64_t iova = 0;
	char msg[200];
	moat_status st;

	moat_dma_stats(&dma, &before);
	st = moat_dma_map(&dma, phys, MOAT_PAGE_SIZE, MOAT_DMA_TO_DEVICE, REACH_MASK, &iova, &diag);
	moat_dma_stats(&dma, &after);
	if (st != MOAT_ERR_PROTECTED)
		return scenario_fail(r, "moat_dma_map() of kernel page 0x%llx: %s (IOVA 0x%llx), not "
				     "MOAT_ERR_PROTECTED", ull(phys), moat_status_str(st), ull(iova));
	if (after.maps != before.maps || after.live != before.live)
		return scenario_fail(r, "the refused map of 0x%llx changed the counters (maps %llu -> %llu, live "
				     "%llu -> %llu)", ull(phys), ull(before.maps), ull(after.maps), ull(before.live),
				     ull(after.live));
	scenario_note("moat_dma_map() of kernel page 0x%llx refused: %s", ull(phys),
		      moat_diag_format(&diag, msg, sizeof(msg)));
	return SCENARIO_PASS;
}

/* Unmaps Moat must refuse without changing anything. */
static enum scenario_verdict bad_unmaps(uint64_t gone, enum moat_dma_dir gone_dir, uint64_t live,
					enum moat_dma_dir wrong_dir, struct scenario_result *r)
{
	struct moat_dma_stats before, after;
	struct moat_diag diag = { 0 };
	char msg[200];
	moat_status st;

	moat_dma_stats(&dma, &before);
	st = moat_dma_unmap(&dma, gone, MOAT_PAGE_SIZE, gone_dir, &diag);
	if (st != MOAT_ERR_NOT_FOUND)
		return scenario_fail(r, "a second moat_dma_unmap() of IOVA 0x%llx: %s, not MOAT_ERR_NOT_FOUND",
				     ull(gone), moat_status_str(st));
	scenario_note("a second unmap of IOVA 0x%llx refused: %s", ull(gone),
		      moat_diag_format(&diag, msg, sizeof(msg)));
	st = moat_dma_unmap(&dma, live, MOAT_PAGE_SIZE, wrong_dir, &diag);
	if (st != MOAT_ERR_INVALID_ARG)
		return scenario_fail(r, "moat_dma_unmap() of IOVA 0x%llx with another direction: %s, not "
				     "MOAT_ERR_INVALID_ARG", ull(live), moat_status_str(st));
	scenario_note("an unmap of IOVA 0x%llx with another direction refused: %s", ull(live),
		      moat_diag_format(&diag, msg, sizeof(msg)));
	moat_dma_stats(&dma, &after);
	if (after.unmaps != before.unmaps || after.live != before.live || after.invalidations != before.invalidations)
		return scenario_fail(r, "the refused unmaps changed the counters (unmaps %llu -> %llu, live %llu -> "
				     "%llu, invalidations %llu -> %llu)", ull(before.unmaps), ull(after.unmaps),
				     ull(before.live), ull(after.live), ull(before.invalidations),
				     ull(after.invalidations));
	return SCENARIO_PASS;
}

static enum scenario_verdict run_strict(struct kmoat *m, struct kernel_system *sys, struct api *a,
					struct scenario_result *r)
{
	struct edu_dev *dev = &sys->edu[0];
	uint64_t src_iova = 0, dst_iova = 0, scratch_iova = 0, ro_iova = 0;
	uint8_t *ro = a->ring[0];   /* not in use before the deferred part */
	struct moat_dma_stats before, after;
	struct fault_want w;

	if (new_domain(m, &a->strict_dom, dev, r) != SCENARIO_PASS ||
	    dma_init(a, &a->strict_dom, MOAT_DMA_STRICT, r) != SCENARIO_PASS ||
	    map_page(a->src, MOAT_DMA_TO_DEVICE, &src_iova, "the source", r) != SCENARIO_PASS ||
	    map_page(a->dst, MOAT_DMA_FROM_DEVICE, &dst_iova, "the destination", r) != SCENARIO_PASS ||
	    map_page(a->scratch, MOAT_DMA_FROM_DEVICE, &scratch_iova, "the scratch page", r) != SCENARIO_PASS ||
	    map_page(ro, MOAT_DMA_TO_DEVICE, &ro_iova, "a page to read only", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	scenario_note("strict, domain %u (edu %s): page 0x%llx -> IOVA 0x%llx and 0x%llx -> 0x%llx (device reads), "
		      "0x%llx -> 0x%llx and 0x%llx -> 0x%llx (device writes)", a->strict_dom.id, dev->pci->name,
		      ull(kvirt_to_phys(a->src)), ull(src_iova), ull(kvirt_to_phys(ro)), ull(ro_iova),
		      ull(kvirt_to_phys(a->dst)), ull(dst_iova), ull(kvirt_to_phys(a->scratch)), ull(scratch_iova));
	if (protected_refused(r) != SCENARIO_PASS)
		return SCENARIO_FAIL;

	/* The device copies the source to the destination through the IOVAs. */
	if (copy_through(m, dev, a, src_iova, dst_iova, 0xd1a0u, "the copy through the DMA API", r) != SCENARIO_PASS ||
	    audit_clean(m, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	scenario_note("edu %s read IOVA 0x%llx and wrote IOVA 0x%llx: page 0x%llx holds page 0x%llx's %u bytes",
		      dev->pci->name, ull(src_iova), ull(dst_iova), ull(kvirt_to_phys(a->dst)),
		      ull(kvirt_to_phys(a->src)), DMA_TEST_LEN);

	/* A page mapped for the device to read: a write there is blocked. The page holds other bytes
	 * than the device's buffer, or a write that landed would hide. The device never read it: QEMU's
	 * VT-d model checks a write against a translation it cached for a read without recording a fault. */
	pattern_fill(ro, MOAT_PAGE_SIZE, 0xd1a1u);
	w = (struct fault_want){ dev, ro_iova, true, MOAT_FAULT_BAD_ADDRESS, (int32_t)a->strict_dom.id, 0, 0 };
	if (attack_write(m, &w, ro, "the page mapped for the device to read", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;

	/* Unmap: one invalidation each, complete before the call returns. */
	moat_dma_stats(&dma, &before);
	if (unmap_page(src_iova, MOAT_DMA_TO_DEVICE, r) != SCENARIO_PASS ||
	    unmap_page(dst_iova, MOAT_DMA_FROM_DEVICE, r) != SCENARIO_PASS ||
	    unmap_page(ro_iova, MOAT_DMA_TO_DEVICE, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	moat_dma_stats(&dma, &after);
	if (after.invalidations - before.invalidations != 3 || after.live != 1 || after.unmaps - before.unmaps != 3)
		return scenario_fail(r, "three strict unmaps: %llu invalidation(s), %llu unmap(s) counted, %llu live; "
				     "expected 3, 3, 1", ull(after.invalidations - before.invalidations),
				     ull(after.unmaps - before.unmaps), ull(after.live));
	scenario_note("IOVAs 0x%llx, 0x%llx and 0x%llx unmapped: one invalidation each, complete before "
		      "moat_dma_unmap() returned", ull(src_iova), ull(dst_iova), ull(ro_iova));

	/* The old IOVAs reach nothing. */
	pattern_fill(a->dst, MOAT_PAGE_SIZE, 0xd1a2u);
	w = (struct fault_want){ dev, dst_iova, true, MOAT_FAULT_BAD_ADDRESS, (int32_t)a->strict_dom.id, 0, 0 };
	if (attack_write(m, &w, a->dst, "the unmapped destination", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	w = (struct fault_want){ dev, src_iova, false, MOAT_FAULT_BAD_ADDRESS, (int32_t)a->strict_dom.id, 0, 0 };
	if (attack_read(m, &w, 0, DMA_TEST_LEN, "the unmapped source", r) != SCENARIO_PASS ||
	    fetched_nothing(dev, a->scratch, scratch_iova, 0, DMA_TEST_LEN, a->src, "the unmapped source", r) !=
		    SCENARIO_PASS ||
	    fault_expect_none(m, "writing the scratch page", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;

	if (bad_unmaps(dst_iova, MOAT_DMA_FROM_DEVICE, scratch_iova, MOAT_DMA_TO_DEVICE, r) != SCENARIO_PASS ||
	    unmap_page(scratch_iova, MOAT_DMA_FROM_DEVICE, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	moat_dma_stats(&dma, &after);
	if (after.maps != 4 || after.unmaps != 4 || after.invalidations < 4)
		return scenario_fail(r, "strict: %llu maps, %llu unmaps, %llu invalidations counted; expected 4, 4, "
				     "4 or more", ull(after.maps), ull(after.unmaps), ull(after.invalidations));
	return dma_fini(a, r);
}

static bool among(const uint64_t *v, unsigned n, uint64_t x)
{
	for (unsigned i = 0; i < n; i++) {
		if (v[i] == x)
			return true;
	}
	return false;
}

/*
 * After a call that flushed the queue (the flush count moved), only the last @queued IOVAs
 * unmapped still wait: the queue is flushed whole, and filled in unmap order.
 */
static void pending_settle(unsigned *npend, uint64_t *flushes, const struct moat_dma_stats *st)
{
	unsigned keep;

	if (st->flushes == *flushes)
		return;
	*flushes = st->flushes;
	keep = (unsigned)MOAT_MIN((uint64_t)*npend, st->queued);
	moat_memmove(pending, pending + (*npend - keep), keep * sizeof(pending[0]));
	*npend = keep;
}

/* Many maps and unmaps: no IOVA comes back before the invalidation that covers its unmap. */
static enum scenario_verdict churn(struct api *a, struct scenario_result *r)
{
	uint64_t ring_iova[RING] = { 0 }, flushes, start, took;
	unsigned npend = 0, nseen = 0, reused = 0, checked = 0;
	struct moat_dma_stats st0, st;
	bool live[RING] = { false };

	moat_dma_stats(&dma, &st0);
	flushes = st0.flushes;
	start = moat_plat_time_ns();
	for (unsigned i = 0; i < CHURN + RING; i++) {
		const unsigned k = i % RING;
		uint64_t iova;

		if (live[k]) {
			if (unmap_page(ring_iova[k], MOAT_DMA_BIDIRECTIONAL, r) != SCENARIO_PASS)
				return SCENARIO_FAIL;
			live[k] = false;
			pending[npend++] = ring_iova[k];
			moat_dma_stats(&dma, &st);
			if (st.queued > MOAT_DMA_FQ_DEFAULT)
				return scenario_fail(r, "%llu unmaps queued, more than the queue's %u",
						     ull(st.queued), MOAT_DMA_FQ_DEFAULT);
			pending_settle(&npend, &flushes, &st);
		}
		if (i >= CHURN)
			continue;
		if (map_page(a->ring[k], MOAT_DMA_BIDIRECTIONAL, &iova, "a churn buffer", r) != SCENARIO_PASS)
			return SCENARIO_FAIL;
		/* A flush inside this map may have come before the IOVA was taken: then only what is
		 * still queued must not come back. */
		moat_dma_stats(&dma, &st);
		pending_settle(&npend, &flushes, &st);
		if (among(pending, npend, iova))
			return scenario_fail(r, "map %u got IOVA 0x%llx, whose unmap still waits for its "
					     "invalidation (%u unmaps waiting, %llu queued)", i + 1, ull(iova), npend,
					     ull(st.queued));
		for (unsigned j = 0; j < RING; j++) {
			if (live[j] && ring_iova[j] == iova)
				return scenario_fail(r, "map %u got IOVA 0x%llx, which is mapped already", i + 1,
						     ull(iova));
		}
		checked += npend;
		if (among(seen, nseen, iova))
			reused++;
		else
			seen[nseen++] = iova;
		ring_iova[k] = iova;
		live[k] = true;
	}
	took = moat_plat_time_ns() - start;
	moat_dma_stats(&dma, &st);
	if (st.maps - st0.maps != CHURN || st.unmaps - st0.unmaps != CHURN || st.live)
		return scenario_fail(r, "after %u maps and unmaps: %llu maps, %llu unmaps counted, %llu live", CHURN,
				     ull(st.maps - st0.maps), ull(st.unmaps - st0.unmaps), ull(st.live));
	/* The queue holds at most 256 unmaps: each 256 unmaps at least one flush. */
	if (st.flushes - st0.flushes < CHURN / MOAT_DMA_FQ_DEFAULT ||
	    st.invalidations - st0.invalidations < st.flushes - st0.flushes)
		return scenario_fail(r, "%u unmaps with a queue of %u: %llu flushes, %llu invalidations", CHURN,
				     MOAT_DMA_FQ_DEFAULT, ull(st.flushes - st0.flushes),
				     ull(st.invalidations - st0.invalidations));
	scenario_note("deferred: %u maps and unmaps of one-page buffers (%u live at a time) in %llu ms: %llu queue "
		      "flushes, %llu invalidations in all (strict: %u), %llu still queued", CHURN, RING,
		      ull(took / 1000000), ull(st.flushes - st0.flushes), ull(st.invalidations - st0.invalidations),
		      CHURN, ull(st.queued));
	scenario_note("%u distinct IOVAs, %u maps given one again, never while its unmap waited for an invalidation "
		      "(%u comparisons)", nseen, reused, checked);
	scenario_note("max_window_ns = %llu (%llu us: the longest from an unmap to the end of the invalidation "
		      "covering it)", ull(st.max_window_ns), ull(st.max_window_ns / 1000));
	return SCENARIO_PASS;
}

/* Read out (and print) whatever faults are pending: what the window's write left, if anything. */
static void drain_faults(struct kmoat *m)
{
	struct moat_fault f[4];
	struct moat_fault_poll res;
	char line[480];

	if (moat_fault_poll(&m->ms.sys, f, MOAT_ARRAY_SIZE(f), &res) != MOAT_OK)
		return;
	for (unsigned i = 0; i < res.count; i++) {
		kmoat_fault_line(m, &f[i], line, sizeof(line));
		scenario_note("  fault: %s", line);
	}
}

/* An unmap whose invalidation waits in the queue, a write in that window, then the flush. */
static enum scenario_verdict window(struct kmoat *m, struct edu_dev *dev, struct api *a, struct scenario_result *r)
{
	static uint8_t before[MOAT_PAGE_SIZE];
	uint64_t src_iova = 0, win_iova = 0, window_before;
	struct moat_diag diag = { 0 };
	struct moat_dma_stats st;
	size_t first = 0, changed;
	uint8_t got = 0, want = 0;
	struct fault_want w;
	char msg[200];
	moat_status s;

	if (moat_dma_flush(&dma, &diag) != MOAT_OK)
		return scenario_fail(r, "moat_dma_flush(): %s", moat_diag_format(&diag, msg, sizeof(msg)));
	moat_dma_stats(&dma, &st);
	if (st.queued)
		return scenario_fail(r, "after moat_dma_flush(): %llu unmaps still queued", ull(st.queued));
	window_before = st.max_window_ns;
	if (map_page(a->src, MOAT_DMA_TO_DEVICE, &src_iova, "the source", r) != SCENARIO_PASS ||
	    map_page(a->dst, MOAT_DMA_BIDIRECTIONAL, &win_iova, "the destination", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	if (copy_through(m, dev, a, src_iova, win_iova, 0xd1b0u, "the copy through deferred mappings", r) !=
	    SCENARIO_PASS)
		return SCENARIO_FAIL;
	scenario_note("edu %s copied IOVA 0x%llx to IOVA 0x%llx (page 0x%llx): the data landed", dev->pci->name,
		      ull(src_iova), ull(win_iova), ull(kvirt_to_phys(a->dst)));

	/* Unmapped, its invalidation queued: the device may still hold the translation it just used. */
	if (unmap_page(win_iova, MOAT_DMA_BIDIRECTIONAL, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	moat_dma_stats(&dma, &st);
	scenario_note("IOVA 0x%llx unmapped: its entry is gone, its invalidation queued (%llu waiting)",
		      ull(win_iova), ull(st.queued));
	pattern_fill(a->dst, MOAT_PAGE_SIZE, 0xd1b1u);
	moat_memcpy(before, a->dst, MOAT_PAGE_SIZE);
	s = edu_dma_from_device(dev, win_iova, DMA_TEST_LEN);
	if (s != MOAT_OK)
		return scenario_fail(r, "edu %s: DMA to IOVA 0x%llx: %s", dev->pci->name, ull(win_iova),
				     moat_status_str(s));
	changed = bytes_compare(a->dst, before, MOAT_PAGE_SIZE, &first, &got, &want);
	if (changed)
		scenario_note("in that window edu %s wrote through IOVA 0x%llx again: it landed (%zu bytes "
			      "changed) through the translation the IOMMU still cached, the exposure the deferred "
			      "policy accepts", dev->pci->name, ull(win_iova), changed);
	else
		scenario_note("in that window edu %s wrote through IOVA 0x%llx again: blocked (no cached translation "
			      "used)", dev->pci->name, ull(win_iova));
	drain_faults(m);

	/* The flush closes the window. */
	if (moat_dma_flush(&dma, &diag) != MOAT_OK)
		return scenario_fail(r, "moat_dma_flush(): %s", moat_diag_format(&diag, msg, sizeof(msg)));
	moat_dma_stats(&dma, &st);
	if (st.queued)
		return scenario_fail(r, "after moat_dma_flush(): %llu unmaps still queued", ull(st.queued));
	scenario_note("moat_dma_flush(): invalidated; that unmap's window was held open across the DMA "
		      "(max_window_ns %llu -> %llu)", ull(window_before), ull(st.max_window_ns));
	pattern_fill(a->dst, MOAT_PAGE_SIZE, 0xd1b2u);
	w = (struct fault_want){ dev, win_iova, true, MOAT_FAULT_BAD_ADDRESS, (int32_t)a->deferred_dom.id, 0, 0 };
	if (attack_write(m, &w, a->dst, "the unmapped page after the flush", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	return unmap_page(src_iova, MOAT_DMA_TO_DEVICE, r);
}

static enum scenario_verdict run_deferred(struct kmoat *m, struct kernel_system *sys, struct api *a,
					  struct scenario_result *r)
{
	struct edu_dev *dev = &sys->edu[0];

	if (new_domain(m, &a->deferred_dom, dev, r) != SCENARIO_PASS ||
	    dma_init(a, &a->deferred_dom, MOAT_DMA_DEFERRED, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	scenario_note("deferred, domain %u (edu %s moved there): queue of %u, time bound %llu ms", a->deferred_dom.id,
		      dev->pci->name, MOAT_DMA_FQ_DEFAULT, ull(MOAT_DMA_TIMEOUT_DEFAULT_NS / 1000000));
	if (churn(a, r) != SCENARIO_PASS || window(m, dev, a, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	return dma_fini(a, r);
}

static enum scenario_verdict run(struct kmoat *m, struct kernel_system *sys, struct api *a, struct scenario_result *r)
{
	bool got;

	a->src = buf_page();
	a->dst = buf_page();
	a->scratch = buf_page();
	got = a->src && a->dst && a->scratch;
	for (unsigned k = 0; k < RING; k++) {
		a->ring[k] = buf_page();
		got = got && a->ring[k];
	}
	if (!got)
		return scenario_fail(r, "no free RAM pages for the buffers");
	if (run_strict(m, sys, a, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	return run_deferred(m, sys, a, r);
}

enum scenario_verdict scenario_dma_api(struct kernel_system *sys, struct scenario_result *r)
{
	static struct api a;
	struct kmoat *m;
	enum scenario_verdict v = protect_begin(&m, sys, r);

	if (v != SCENARIO_PASS)
		return v;
	moat_memset(&a, 0, sizeof(a));
	v = run(m, sys, &a, r);
	if (a.dma_live) {
		/* a failure left the instance up: it goes before its domain does */
		a.dma_live = false;
		moat_dma_fini(&dma);
	}
	v = protect_end(m, v, r);
	kpage_free(a.src);
	kpage_free(a.dst);
	kpage_free(a.scratch);
	for (unsigned k = 0; k < RING; k++)
		kpage_free(a.ring[k]);
	return v;
}
