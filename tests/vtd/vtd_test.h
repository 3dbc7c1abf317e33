/* SPDX-License-Identifier: BSD-2-Clause */
/* Capability values and set-up helpers shared by the VT-d tests. */
#ifndef MOAT_TEST_VTD_TEST_H
#define MOAT_TEST_VTD_TEST_H

#include "test.h"

#include <hosted.h>
#include <moat/vtd.h>

#include "sim_vtd.h"

/*
 * CAP and ECAP values, written out by hand from the register layouts (section 10.4.2/10.4.3).
 * QEMU 7.2 intel-iommu default (qemu.md): ND 6, SAGAW 0x2 (3-level), MGAW 39, FRO 0x22 (0x220),
 * SLLPS 2M+1G, PSI, NFR 0 (one record), MAMV 18, DWD+DRD, CM 0.
 */
#define CAP_QEMU 0x00D2008C22260206ull
#define CAP_QEMU_AW48 0x00D2008C222F0606ull     /* SAGAW 0x6 (3 and 4 levels), MGAW 48 */
#define CAP_QEMU_CM 0x00D2008C22260286ull       /* caching-mode=on */
#define CAP_5LEVEL 0x00D2008C22380E06ull        /* SAGAW 0xe (3, 4, 5 levels), MGAW 57 */
#define CAP_NFR8 0x00D2078C22260206ull          /* QEMU default with NFR 7: eight records */
/* ECAP: QI, IR, PT, IRO 0xf (0xf0), MHMV 15; C = 0 */
#define ECAP_QEMU 0x0000000000F00F4Aull
#define ECAP_NO_QI 0x0000000000F00F48ull
#define ECAP_COHERENT (ECAP_QEMU | 1ull)

#define SIM_BASE 0xfed90000ull
#define TEST_TIMEOUT_NS 2000000ull              /* 2 ms: stuck hardware fails fast */

static inline struct sim_vtd *unit_setup(struct moat_vtd_unit *u, uint64_t base, uint64_t cap, uint64_t ecap)
{
	struct sim_vtd *s = sim_vtd_new(base, cap, ecap);
	struct moat_unit_desc d = sim_vtd_desc(s, 0);
	struct moat_diag diag;

	memset(u, 0, sizeof(*u));
	assert_int_equal(moat_vtd_probe(u, &d, &diag), MOAT_OK);
	u->timeout_ns = TEST_TIMEOUT_NS;
	return s;
}

static inline void unit_teardown(struct moat_vtd_unit *u, struct sim_vtd *s)
{
	if (u->state == MOAT_VTD_PROBED) {
		s->stuck = 0;
		s->iq_stuck = s->ccmd_stuck = s->iotlb_stuck = false;
		assert_int_equal(moat_vtd_disable(u, NULL), MOAT_OK);
		assert_int_equal(moat_vtd_release(u), MOAT_OK);
	}
	sim_vtd_free(s);
}

#endif
