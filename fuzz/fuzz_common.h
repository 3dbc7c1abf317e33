/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the fuzz targets: the contract check, and checks on a system description. */
#ifndef MOAT_FUZZ_COMMON_H
#define MOAT_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <moat/acpi.h>

/* A broken contract: say which, then crash so that libFuzzer keeps the input. */
#define CHECK(c)                                                                                              \
	do {                                                                                                  \
		if (!(c)) {                                                                                   \
			fprintf(stderr, "%s:%d: contract broken: %s\n", __FILE__, __LINE__, #c);            \
			__builtin_trap();                                                                     \
		}                                                                                             \
	} while (0)

/* Array sizes of the "large" description: no table of 16 KiB needs more (checked by the caller). */
#define FUZZ_UNITS    1024
#define FUZZ_DEVSETS  4096
#define FUZZ_REGIONS  1024
#define FUZZ_SPECIALS 4096
#define FUZZ_ATS      2048

struct fuzz_desc {
	struct moat_unit_desc units[FUZZ_UNITS];
	struct moat_devset devsets[FUZZ_DEVSETS];
	struct moat_region_desc regions[FUZZ_REGIONS];
	struct moat_special_desc specials[FUZZ_SPECIALS];
	struct moat_ats_desc ats[FUZZ_ATS];
};

/* A description over @f with the given capacities (each at most the array size). */
static inline struct moat_sysdesc fuzz_sysdesc(struct fuzz_desc *f, uint32_t units, uint32_t devsets,
					       uint32_t regions, uint32_t specials, uint32_t ats)
{
	struct moat_sysdesc d;

	memset(&d, 0, sizeof(d));
	d.units = f->units;
	d.units_cap = units < FUZZ_UNITS ? units : FUZZ_UNITS;
	d.devsets = f->devsets;
	d.devsets_cap = devsets < FUZZ_DEVSETS ? devsets : FUZZ_DEVSETS;
	d.regions = f->regions;
	d.regions_cap = regions < FUZZ_REGIONS ? regions : FUZZ_REGIONS;
	d.specials = f->specials;
	d.specials_cap = specials < FUZZ_SPECIALS ? specials : FUZZ_SPECIALS;
	d.ats = f->ats;
	d.ats_cap = ats < FUZZ_ATS ? ats : FUZZ_ATS;
	/* Counts start as garbage: the builder must reset them. */
	d.units_count = d.devsets_count = d.regions_count = d.specials_count = d.ats_count = 0xdead;
	return d;
}

static inline int fuzz_overflowed(const struct moat_sysdesc *d)
{
	return d->units_count > d->units_cap || d->devsets_count > d->devsets_cap ||
	       d->regions_count > d->regions_cap || d->specials_count > d->specials_cap ||
	       d->ats_count > d->ats_cap;
}

static inline int fuzz_counts_zero(const struct moat_sysdesc *d)
{
	return !d->units_count && !d->devsets_count && !d->regions_count && !d->specials_count && !d->ats_count;
}

static inline int fuzz_range_ok(uint32_t first, uint32_t count, uint32_t total)
{
	return (uint64_t)first + count <= total;
}

/*
 * The contract of struct moat_sysdesc for a builder's result @st: on success every index is inside
 * the arrays and every string terminated; NO_SPACE exactly when some count exceeds its capacity; a
 * table error leaves every count at zero.
 */
static inline void fuzz_check_desc(const struct moat_sysdesc *d, moat_status st, const struct moat_diag *diag,
				   enum moat_vendor vendor)
{
	if (st == MOAT_OK) {
		CHECK(!fuzz_overflowed(d));
		CHECK(d->vendor == vendor);
		for (uint32_t i = 0; i < d->units_count; i++) {
			CHECK(d->units[i].vendor == vendor);
			CHECK(fuzz_range_ok(d->units[i].devset_first, d->units[i].devset_count, d->devsets_count));
		}
		for (uint32_t i = 0; i < d->regions_count; i++) {
			CHECK(d->regions[i].base <= d->regions[i].limit);
			CHECK(fuzz_range_ok(d->regions[i].devset_first, d->regions[i].devset_count,
					    d->devsets_count));
		}
		for (uint32_t i = 0; i < d->ats_count; i++)
			CHECK(fuzz_range_ok(d->ats[i].devset_first, d->ats[i].devset_count, d->devsets_count));
		for (uint32_t i = 0; i < d->devsets_count; i++)
			CHECK((d->devsets[i].flags & MOAT_DEVSET_UNRESOLVED) ||
			      d->devsets[i].first <= d->devsets[i].last);
		for (uint32_t i = 0; i < d->specials_count; i++) {
			CHECK(memchr(d->specials[i].name, 0, sizeof(d->specials[i].name)) != NULL);
			CHECK(memchr(d->specials[i].uid, 0, sizeof(d->specials[i].uid)) != NULL);
		}
	} else if (st == MOAT_ERR_NO_SPACE) {
		CHECK(fuzz_overflowed(d));
	} else {
		CHECK(st == MOAT_ERR_TRUNCATED || st == MOAT_ERR_MALFORMED || st == MOAT_ERR_CHECKSUM);
		CHECK(fuzz_counts_zero(d));
		CHECK(diag->status == st);
		CHECK(memchr(diag->msg, 0, sizeof(diag->msg)) != NULL);
	}
}

/* Small capacities, so that the NO_SPACE paths run; the counts must match those of a large run. */
static inline void fuzz_check_small(const struct moat_sysdesc *large, moat_status large_st,
				    const struct moat_sysdesc *small, moat_status small_st)
{
	if (large_st != MOAT_OK)
		return;
	CHECK(small->units_count == large->units_count && small->devsets_count == large->devsets_count &&
	      small->regions_count == large->regions_count && small->specials_count == large->specials_count &&
	      small->ats_count == large->ats_count);
	CHECK(small_st == (fuzz_overflowed(small) ? MOAT_ERR_NO_SPACE : MOAT_OK));
	for (uint32_t i = 0; small_st == MOAT_OK && i < small->units_count; i++)
		CHECK(small->units[i].register_base == large->units[i].register_base &&
		      small->units[i].devset_first == large->units[i].devset_first &&
		      small->units[i].devset_count == large->units[i].devset_count);
}

#endif
