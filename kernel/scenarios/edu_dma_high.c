/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * edu_dma_high: the DMA round trip through pages above 4 GiB (the highest free RAM), for each edu
 * device whose DMA mask reaches them. The guest cannot read an edu device's mask, so it is measured:
 * the device first reads the high page (a read that a too-small mask redirects harms nothing), and the
 * data it fetched is compared with the page and with the lower addresses a narrower mask would have
 * read instead. Only a device that fetched the right data is then asked to write above 4 GiB.
 * SKIP when the machine has no RAM above 4 GiB or no edu device reaches it.
 */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"
#include "scenarios/scenario.h"

#define FOUR_GIB (1ull << 32)

/*
 * Where a device with a narrower DMA mask would read instead of @addr: @addr with its high bits
 * cleared, one candidate per distinct address that is RAM. Candidates that are free pages are taken
 * for the time of the probe and filled with a marker of their own, so that the data the device
 * fetched names the address it really read.
 */
struct alias {
	uint64_t addr;
	unsigned bits;      /* the widest mask that reads here instead of @addr */
	bool taken;
};

#define MAX_ALIASES 64

static unsigned prepare_aliases(uint64_t addr, uint64_t avoid, uint32_t seed, struct alias *out)
{
	unsigned n = 0;

	for (unsigned bits = 63 - (unsigned)__builtin_clzll(addr); bits >= 12 && n < MAX_ALIASES; bits--) {
		uint64_t a = addr & ((1ull << bits) - 1), got;

		if (a == addr || (n && out[n - 1].addr == a) || a == avoid || !memmap_contains(a, MOAT_PAGE_SIZE, MEM_RAM))
			continue;
		out[n] = (struct alias){ a, bits, false };
		if (frames_take(&got, MOAT_PAGE_SIZE, MOAT_PAGE_SIZE, a, a + MOAT_PAGE_SIZE, false)) {
			out[n].taken = true;
			pattern_fill(kphys_to_virt(a), MOAT_PAGE_SIZE, seed ^ (bits * 0x9e3779b9u));
		}
		n++;
	}
	return n;
}

static void release_aliases(struct alias *a, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (a[i].taken)
			frames_give(a[i].addr, MOAT_PAGE_SIZE);
	}
}

/* The alias whose contents the device fetched into @got, or NULL. */
static const struct alias *fetched_alias(const struct alias *a, unsigned n, const uint8_t *got)
{
	for (unsigned i = 0; i < n; i++) {
		if (!moat_memcmp(kphys_to_virt(a[i].addr), got, DMA_TEST_LEN))
			return &a[i];
	}
	return NULL;
}

enum edu_high_outcome {
	HIGH_DONE,
	HIGH_MASK_TOO_SMALL,
	HIGH_FAILED,
};

static enum edu_high_outcome try_device(struct edu_dev *dev, uint8_t *hsrc, uint8_t *hdst, uint8_t *low,
					uint32_t seed, struct scenario_result *r, unsigned *mask_bits)
{
	const char *name = dev->pci->name;
	uint64_t hsrc_phys = kvirt_to_phys(hsrc), hdst_phys = kvirt_to_phys(hdst);
	size_t first = 0;
	uint8_t got = 0, want = 0;
	char who[64];
	moat_status st;

	struct alias aliases[MAX_ALIASES];
	const struct alias *alias;
	unsigned naliases;

	pattern_fill(hsrc, MOAT_PAGE_SIZE, seed);
	pattern_fill(low, MOAT_PAGE_SIZE, ~seed);
	naliases = prepare_aliases(hsrc_phys, kvirt_to_phys(low), seed, aliases);
	st = edu_dma_to_device(dev, hsrc_phys, DMA_TEST_LEN);
	if (st == MOAT_OK)
		st = edu_dma_from_device(dev, kvirt_to_phys(low), DMA_TEST_LEN);
	alias = st == MOAT_OK ? fetched_alias(aliases, naliases, low) : NULL;
	release_aliases(aliases, naliases);
	if (st != MOAT_OK) {
		scenario_fail(r, "edu %s: DMA from 0x%llx into the device and out to 0x%llx: %s", name,
			      (unsigned long long)hsrc_phys, (unsigned long long)kvirt_to_phys(low), moat_status_str(st));
		return HIGH_FAILED;
	}
	if (bytes_compare(low, hsrc, DMA_TEST_LEN, &first, &got, &want)) {
		if (alias) {
			*mask_bits = alias->bits;
			scenario_note("edu %s: reading 0x%llx fetched the page at 0x%llx instead: its DMA mask is at most "
				      "%u bits wide", name, (unsigned long long)hsrc_phys, (unsigned long long)alias->addr,
				      alias->bits);
			return HIGH_MASK_TOO_SMALL;
		}
		scenario_fail(r, "edu %s: reading page 0x%llx brought other data (offset %zu: 0x%02x, expected 0x%02x)",
			      name, (unsigned long long)hsrc_phys, first, got, want);
		return HIGH_FAILED;
	}
	scenario_note("edu %s read %u bytes of page 0x%llx into its buffer", name, DMA_TEST_LEN,
		      (unsigned long long)hsrc_phys);

	pattern_fill(hdst, MOAT_PAGE_SIZE, ~seed);
	st = edu_dma_from_device(dev, hdst_phys, DMA_TEST_LEN);
	if (st != MOAT_OK) {
		scenario_fail(r, "edu %s: DMA from the device to 0x%llx: %s", name, (unsigned long long)hdst_phys,
			      moat_status_str(st));
		return HIGH_FAILED;
	}
	moat_snprintf(who, sizeof(who), "edu %s above 4 GiB", name);
	if (dma_check_copy(who, hdst, hsrc, seed, r) != SCENARIO_PASS)
		return HIGH_FAILED;
	scenario_note("edu %s wrote its buffer to page 0x%llx: all %u bytes intact", name,
		      (unsigned long long)hdst_phys, DMA_TEST_LEN);
	return HIGH_DONE;
}

enum scenario_verdict scenario_edu_dma_high(struct kernel_system *sys, struct scenario_result *r)
{
	uint64_t high_ram = memmap_ram_bytes_above(FOUR_GIB);
	unsigned done = 0, narrow = 0, narrow_bits = 0;
	const char *narrow_name = "";
	enum edu_high_outcome o = HIGH_DONE;
	uint8_t *hsrc, *hdst, *low;
	char size[32];

	if (!sys->edu_count)
		return scenario_skip(r, "no edu device (QEMU: -device edu)");
	if (!high_ram)
		return scenario_skip(r, "no RAM above 4 GiB (memory ends at 0x%llx; QEMU: -m 5G)",
				     (unsigned long long)memmap_ram_end());
	scenario_note("%s of RAM above 4 GiB, ending at 0x%llx", ksize_str(high_ram, size, sizeof(size)),
		      (unsigned long long)memmap_ram_end());
	hsrc = kpage_alloc(FOUR_GIB, UINT64_MAX, true);
	hdst = kpage_alloc(FOUR_GIB, UINT64_MAX, true);
	low = kpage_alloc(0, FOUR_GIB, false);
	if (!hsrc || !hdst || !low) {
		kpage_free(hsrc);
		kpage_free(hdst);
		kpage_free(low);
		return scenario_fail(r, "RAM above 4 GiB is reported but no page of it is free");
	}
	for (unsigned i = 0; i < sys->edu_count; i++) {
		unsigned bits = 0;

		o = try_device(&sys->edu[i], hsrc, hdst, low, 0x2000u + i, r, &bits);
		if (o == HIGH_FAILED)
			break;
		if (o == HIGH_DONE) {
			done++;
		} else {
			narrow++;
			narrow_bits = bits;
			narrow_name = sys->edu[i].pci->name;
		}
	}
	kpage_free(hsrc);
	kpage_free(hdst);
	kpage_free(low);
	if (o == HIGH_FAILED)
		return SCENARIO_FAIL;
	if (!done)
		return scenario_skip(r, "no edu device reaches above 4 GiB (edu %s: DMA mask of at most %u bits; QEMU: "
				     "-device edu,dma_mask=0xffffffffffff)", narrow_name, narrow_bits);
	if (narrow)
		scenario_note("%u edu device(s) with a narrower DMA mask were left out", narrow);
	return SCENARIO_PASS;
}
