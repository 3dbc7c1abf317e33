/* SPDX-License-Identifier: BSD-2-Clause */
/* Patterns, byte comparison and the DMA round trip shared by the DMA scenarios. */
#include <moat/internal/lib.h>

#include "mm/mm.h"
#include "scenarios/scenario.h"

void pattern_fill(uint8_t *p, size_t len, uint32_t seed)
{
	/* xorshift32: no byte value repeats at a short period, so a shifted or partial copy shows. */
	uint32_t x = seed ? seed : 0x9e3779b9u;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)(x >> 24);
	}
}

size_t bytes_compare(const uint8_t *got, const uint8_t *want, size_t len, size_t *first, uint8_t *got_byte,
		     uint8_t *want_byte)
{
	size_t diff = 0;

	for (size_t i = 0; i < len; i++) {
		if (got[i] == want[i])
			continue;
		if (!diff) {
			*first = i;
			*got_byte = got[i];
			*want_byte = want[i];
		}
		diff++;
	}
	return diff;
}

enum scenario_verdict dma_check_copy(const char *who, const uint8_t *dst, const uint8_t *src, uint32_t seed,
				     struct scenario_result *r)
{
	uint8_t filler[MOAT_PAGE_SIZE];
	size_t first = 0, diff;
	uint8_t got = 0, want = 0;

	diff = bytes_compare(dst, src, DMA_TEST_LEN, &first, &got, &want);
	if (diff)
		return scenario_fail(r, "%s: %zu of %u bytes differ in 0x%llx (first at offset %zu: 0x%02x, "
				     "expected 0x%02x from 0x%llx)", who, diff, DMA_TEST_LEN,
				     (unsigned long long)kvirt_to_phys(dst), first, got, want,
				     (unsigned long long)kvirt_to_phys(src));
	pattern_fill(filler, MOAT_PAGE_SIZE, ~seed);
	diff = bytes_compare(dst + DMA_TEST_LEN, filler + DMA_TEST_LEN, MOAT_PAGE_SIZE - DMA_TEST_LEN, &first, &got,
			     &want);
	if (diff)
		return scenario_fail(r, "%s: the device wrote past its %u bytes into 0x%llx (offset %zu)", who,
				     DMA_TEST_LEN, (unsigned long long)kvirt_to_phys(dst), DMA_TEST_LEN + first);
	return SCENARIO_PASS;
}

enum scenario_verdict dma_round_trip(struct edu_dev *dev, uint8_t *src, uint8_t *dst, uint32_t seed,
				     struct scenario_result *r)
{
	const char *name = dev->pci->name;
	uint64_t src_phys = kvirt_to_phys(src), dst_phys = kvirt_to_phys(dst);
	char who[64];
	moat_status st;

	pattern_fill(src, MOAT_PAGE_SIZE, seed);
	pattern_fill(dst, MOAT_PAGE_SIZE, ~seed);
	st = edu_dma_to_device(dev, src_phys, DMA_TEST_LEN);
	if (st != MOAT_OK)
		return scenario_fail(r, "edu %s: DMA from RAM 0x%llx into the device: %s", name,
				     (unsigned long long)src_phys, moat_status_str(st));
	scenario_note("edu %s read %u bytes of page 0x%llx into its buffer (%llu ms)", name, DMA_TEST_LEN,
		      (unsigned long long)src_phys, (unsigned long long)(edu_last_dma_ns(dev) / 1000000));
	st = edu_dma_from_device(dev, dst_phys, DMA_TEST_LEN);
	if (st != MOAT_OK)
		return scenario_fail(r, "edu %s: DMA from the device to RAM 0x%llx: %s", name,
				     (unsigned long long)dst_phys, moat_status_str(st));
	scenario_note("edu %s wrote its buffer to page 0x%llx (%llu ms)", name, (unsigned long long)dst_phys,
		      (unsigned long long)(edu_last_dma_ns(dev) / 1000000));
	moat_snprintf(who, sizeof(who), "edu %s round trip", name);
	if (dma_check_copy(who, dst, src, seed, r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	scenario_note("edu %s: all %u bytes came back intact, and nothing past them changed", name, DMA_TEST_LEN);
	return SCENARIO_PASS;
}
