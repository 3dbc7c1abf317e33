/* SPDX-License-Identifier: BSD-2-Clause */
/* EFR values, description builders and set-up helpers shared by the AMD-Vi tests. */
#ifndef MOAT_TEST_AMDVI_TEST_H
#define MOAT_TEST_AMDVI_TEST_H

#include "test.h"

#include <hosted.h>
#include <moat/amdvi.h>

#include "sim_amdvi.h"

/*
 * EFR values, written out by hand from the register layout (48882 section 3.4, Extended Feature
 * Register): PreFSup 0, PPRSup 1, XTSup 2, NXSup 3, GTSup 4, IASup 6, GASup 7, HESup 8, PCSup 9,
 * HATS 11:10, GATS 13:12, GLXSup 15:14, PASmax 36:32, USSup 37.
 * EFR_QEMU is what QEMU's amd-iommu reports: PreF, PPR, GT, IA, GA, HE, HATS 2 (6 levels), GATS 2.
 */
#define EFR_QEMU 0x00000000000029d3ull
#define EFR_QEMU_NO_IA (EFR_QEMU & ~(1ull << 6))
#define EFR_HATS0_IA 0x0000000000000040ull           /* 4 levels, IA only */
#define EFR_HATS1 0x0000000000000400ull              /* 5 levels, nothing else */
#define EFR_HATS3 0x0000000000000c40ull              /* reserved HATS */
#define EFR_MANY 0x0000002f0000b75cull               /* XT NX GT IA HE PC, HATS 1, GATS 3, GLX 2, PASmax 15, US */
#define EFR_ZERO 0ull

#define SIM_BASE 0xfed80000ull
#define SIM_BASE2 0xfed84000ull
#define TEST_TIMEOUT_NS 2000000ull              /* 2 ms: stuck hardware fails fast */

/* IVHD flags (48882 section 5.2): HtTunEn 0, PassPW 1, ResPassPW 2, Isoc 3, IotlbSup 4, Coherent 5 */
#define IVHDF_HT_TUN 0x01u
#define IVHDF_PASS_PW 0x02u
#define IVHDF_RES_PASS_PW 0x04u
#define IVHDF_ISOC 0x08u
#define IVHDF_IOTLB 0x10u
#define IVHDF_COHERENT 0x20u

/* A description assembled by hand: units and their devsets. */
struct test_desc {
	struct moat_sysdesc sys;
	struct moat_unit_desc units[16];
	struct moat_devset devsets[256];
};

static inline void td_init(struct test_desc *t)
{
	memset(t, 0, sizeof(*t));
	t->sys.vendor = MOAT_VENDOR_AMDVI;
	t->sys.units = t->units;
	t->sys.units_cap = 16;
	t->sys.devsets = t->devsets;
	t->sys.devsets_cap = 256;
}

/* Add a unit; its devsets are the ones added by td_devset() until the next td_unit(). */
static inline uint32_t td_unit(struct test_desc *t, uint64_t base, uint8_t ivhd_type, uint8_t ivhd_flags,
			       uint16_t iommu_rid, uint64_t efr_image)
{
	uint32_t i = t->sys.units_count++;
	struct moat_unit_desc *u = &t->units[i];

	memset(u, 0, sizeof(*u));
	u->vendor = MOAT_VENDOR_AMDVI;
	u->register_base = base;
	u->register_size = 0x4000;
	u->devset_first = t->sys.devsets_count;
	u->ivhd_type = ivhd_type;
	u->ivhd_flags = ivhd_flags;
	u->iommu_rid = iommu_rid;
	u->efr = efr_image;
	return i;
}

static inline void td_devset(struct test_desc *t, uint16_t first, uint16_t last, uint16_t alias, uint8_t flags)
{
	struct moat_devset *d = &t->devsets[t->sys.devsets_count++];

	memset(d, 0, sizeof(*d));
	d->first = first;
	d->last = last;
	d->alias = alias;
	d->flags = flags;
	t->units[t->sys.units_count - 1].devset_count++;
}

/* QEMU-like: IVHD 10h at SIM_BASE, IOMMU at 00:01.0, devices 00:00.0, 00:02.0, 00:03.0, IOAPIC 00:14.0
 * (0xa0), plus 01:00.0-01:00.7 seen as 00:1e.0 (0xf0) through an alias. Highest id 0x107. */
static inline void td_qemu_like(struct test_desc *t, uint8_t ivhd_type, uint64_t efr_image)
{
	td_init(t);
	td_unit(t, SIM_BASE, ivhd_type, IVHDF_HT_TUN | IVHDF_IOTLB, 0x0008, efr_image);
	t->units[0].capability_offset = 0x40;
	td_devset(t, 0x0000, 0x0000, 0x0000, 0);
	td_devset(t, 0x0010, 0x0010, 0x0010, 0);
	td_devset(t, 0x0018, 0x0018, 0x0018, 0);
	td_devset(t, 0x00a0, 0x00a0, 0x00a0, 0);
	td_devset(t, 0x0100, 0x0107, 0x00f0, MOAT_DEVSET_ALIASED);
}

/* Probe unit @index of @t against a simulated IOMMU with @efr; short timeout. */
static inline struct sim_amdvi *unit_setup_desc(struct moat_amdvi_unit *u, const struct test_desc *t, uint32_t index,
						uint64_t efr)
{
	struct sim_amdvi *s = sim_amdvi_new(t->units[index].register_base, efr);
	struct moat_diag diag;

	memset(u, 0, sizeof(*u));
	if (moat_amdvi_probe(u, &t->units[index], t->devsets, t->sys.devsets_count, &diag) != MOAT_OK)
		fail_msg("probe: %s", diag.msg);
	u->timeout_ns = TEST_TIMEOUT_NS;
	return s;
}

static inline struct sim_amdvi *unit_setup(struct moat_amdvi_unit *u, struct test_desc *t, uint64_t efr)
{
	td_qemu_like(t, 0x10, 0);
	return unit_setup_desc(u, t, 0, efr);
}

static inline void unit_teardown(struct moat_amdvi_unit *u, struct sim_amdvi *s)
{
	if (u->state == MOAT_AMDVI_PROBED) {
		s->cmd_stuck = s->run_stuck = s->stop_stuck = false;
		s->lazy = 0;
		assert_int_equal(moat_amdvi_disable(u, NULL), MOAT_OK);
		assert_int_equal(moat_amdvi_release(u), MOAT_OK);
	}
	sim_amdvi_free(s);
}

/* Device-table entry layout (48882 section 2.2.2.1), written out independently of the driver. */
#define DTE_V (1ull << 0)
#define DTE_TV (1ull << 1)
#define DTE_MODE(n) ((uint64_t)(n) << 9)
#define DTE_IR (1ull << 61)
#define DTE_IW (1ull << 62)

/* Every entry of the table the simulator was given must be valid, and blocking unless listed in
 * @attached (devids, @n of them). Returns the number of entries checked. */
static inline uint32_t check_all_entries(const struct sim_amdvi *s, const uint16_t *attached, unsigned n)
{
	uint32_t count = sim_amdvi_dte_count(s);

	for (uint32_t id = 0; id < count; id++) {
		const uint64_t *e = sim_amdvi_dte(s, id);
		bool is_attached = false;

		for (unsigned k = 0; k < n; k++)
			is_attached |= attached[k] == id;
		if (!e)
			fail_msg("entry 0x%x unreadable", id);
		if (!(e[0] & DTE_V))
			fail_msg("entry 0x%x not valid: 0x%llx", id, (unsigned long long)e[0]);
		if (is_attached)
			continue;
		if (e[0] != DTE_V || e[1] || e[2] || e[3])
			fail_msg("entry 0x%x not the blocking entry: %llx %llx %llx %llx", id, (unsigned long long)e[0],
				 (unsigned long long)e[1], (unsigned long long)e[2], (unsigned long long)e[3]);
	}
	return count;
}

#endif
