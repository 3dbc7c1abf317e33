/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Context-cache, IOTLB and interrupt-entry-cache invalidation, by registers (section 6.5.1) or by
 * the invalidation queue (section 6.5.2). The queue is used whenever it is enabled; register-based
 * invalidation must not be used then. Every invalidation waits for the hardware to report
 * completion: the register bit clearing, or a wait descriptor writing its status word.
 */
#include "vtd_internal.h"

/* ---- queue set-up ---- */

moat_status moat_vtdi_qi_enable(struct moat_vtd_unit *u, struct moat_diag *diag)
{
	if (!u->iq) {
		u->iq = moat_pages_alloc(&u->pages, &u->iq_phys);
		if (!u->iq)
			return moat_diag_set(diag, MOAT_ERR_NO_MEMORY, NULL, 0, "VT-d unit 0x%llx: no page for the queue",
					     (unsigned long long)u->reg_phys);
	}
	if (!u->wait_status) {
		void *p = moat_pages_alloc(&u->pages, &u->wait_status_phys);
		if (!p)
			return moat_diag_set(diag, MOAT_ERR_NO_MEMORY, NULL, 0,
					     "VT-d unit 0x%llx: no page for the wait status", (unsigned long long)u->reg_phys);
		u->wait_status = p;
	}
	/* The tail is reset before the queue is (re-)enabled; hardware restarts the head at 0. */
	u->iq_tail = 0;
	moat_vtdi_write64(u, VTD_IQT_REG, 0);
	moat_vtdi_write64(u, VTD_IQA_REG, (u->iq_phys & VTD_IQA_IQA) | VTD_PREP(VTD_IQA_QS, 0));
	moat_status st = moat_vtdi_gcmd(u, (uint32_t)VTD_GCMD_QIE, true, diag);
	if (st == MOAT_OK)
		u->qi_enabled = true;
	return st;
}

void moat_vtdi_qi_free(struct moat_vtd_unit *u)
{
	if (u->iq)
		moat_pages_free(&u->pages, u->iq, u->iq_phys);
	if (u->wait_status)
		moat_pages_free(&u->pages, (void *)(uintptr_t)u->wait_status, u->wait_status_phys);
	u->iq = NULL;
	u->wait_status = NULL;
	u->iq_phys = u->wait_status_phys = 0;
}

/* ---- queued invalidation ---- */

/*
 * A queue error stops the hardware at the faulty descriptor (IQH points at it). The rest of the
 * batch is dropped (tail moved back to the head) and IQE cleared, so the queue is usable again.
 */
static moat_status qi_error(struct moat_vtd_unit *u, struct moat_diag *diag)
{
	uint32_t head = (uint32_t)VTD_GET(VTD_IQH_QH, moat_vtdi_read64(u, VTD_IQH_REG)) % MOAT_VTD_IQ_ENTRIES;
	uint64_t rec = moat_vtdi_read64(u, VTD_IQERCD_REG);
	unsigned type = (unsigned)VTD_GET(VTD_DESC_TYPE, u->iq[head * 2]);

	moat_vtdi_write64(u, VTD_IQT_REG, VTD_PREP(VTD_IQT_QT, head));
	u->iq_tail = head;
	moat_vtdi_write32(u, VTD_FSTS_REG, (uint32_t)VTD_FSTS_IQE);
	return moat_diag_set(diag, MOAT_ERR_HARDWARE, NULL, VTD_FSTS_REG,
			     "VT-d unit 0x%llx: FSTS.IQE: invalidation queue error at descriptor %u (type %u, "
			     "IQERCD.IQEI %u)", (unsigned long long)u->reg_phys, head, type,
			     (unsigned)VTD_GET(VTD_IQERCD_IQEI, rec));
}

static uint32_t qi_free_slots(const struct moat_vtd_unit *u)
{
	uint32_t head = (uint32_t)VTD_GET(VTD_IQH_QH, moat_vtdi_read64(u, VTD_IQH_REG)) % MOAT_VTD_IQ_ENTRIES;

	return (head + MOAT_VTD_IQ_ENTRIES - u->iq_tail - 1) % MOAT_VTD_IQ_ENTRIES;
}

/* Queue @n descriptors plus a wait descriptor with status write, and wait for the status. */
static moat_status qi_submit(struct moat_vtd_unit *u, const uint64_t (*desc)[2], unsigned n,
			     struct moat_diag *diag)
{
	uint64_t start = moat_plat_time_ns();
	uint32_t i = 0;

	while (qi_free_slots(u) < n + 1) {
		if (moat_vtdi_read32(u, VTD_FSTS_REG) & VTD_FSTS_IQE)
			return qi_error(u, diag);
		if (!moat_vtdi_waiting(u, start, i++))
			return moat_diag_set(diag, MOAT_ERR_TIMEOUT, NULL, VTD_IQH_REG,
					     "VT-d unit 0x%llx: IQH did not advance (queue full) within %llu ns",
					     (unsigned long long)u->reg_phys, (unsigned long long)u->timeout_ns);
	}

	uint32_t seq = ++u->wait_seq;
	if (!seq)
		seq = u->wait_seq = 1;
	*u->wait_status = 0;

	for (unsigned k = 0; k <= n; k++) {
		uint64_t *slot = &u->iq[u->iq_tail * 2];

		if (k < n) {
			slot[0] = desc[k][0];
			slot[1] = desc[k][1];
		} else {
			slot[0] = VTD_DESC_WAIT | VTD_DESC_WAIT_SW | VTD_DESC_WAIT_FN | VTD_PREP(VTD_DESC_WAIT_SDATA, seq);
			slot[1] = u->wait_status_phys & VTD_DESC_WAIT_HI_SADDR;
		}
		u->iq_tail = (u->iq_tail + 1) % MOAT_VTD_IQ_ENTRIES;
	}
	moat_plat_wmb();
	moat_vtdi_write64(u, VTD_IQT_REG, VTD_PREP(VTD_IQT_QT, u->iq_tail));

	start = moat_plat_time_ns();
	for (i = 0; *u->wait_status != seq; i++) {
		if (moat_vtdi_read32(u, VTD_FSTS_REG) & VTD_FSTS_IQE)
			return qi_error(u, diag);
		if (!moat_vtdi_waiting(u, start, i)) {
			if (*u->wait_status == seq)
				break;
			return moat_diag_set(diag, MOAT_ERR_TIMEOUT, NULL, VTD_IQT_REG,
					     "VT-d unit 0x%llx: invalidation wait descriptor %u did not complete within %llu ns",
					     (unsigned long long)u->reg_phys, (unsigned)seq, (unsigned long long)u->timeout_ns);
		}
	}
	moat_plat_mb();

	uint32_t fsts = moat_vtdi_read32(u, VTD_FSTS_REG);
	if (fsts & (VTD_FSTS_ITE | VTD_FSTS_ICE)) {
		uint64_t rec = moat_vtdi_read64(u, VTD_IQERCD_REG);
		moat_vtdi_write32(u, VTD_FSTS_REG, fsts & (uint32_t)(VTD_FSTS_ITE | VTD_FSTS_ICE));
		return moat_diag_set(diag, MOAT_ERR_HARDWARE, NULL, VTD_FSTS_REG,
				     "VT-d unit 0x%llx: FSTS.%s: invalidation %s (IQERCD 0x%llx)",
				     (unsigned long long)u->reg_phys, (fsts & VTD_FSTS_ITE) ? "ITE" : "ICE",
				     (fsts & VTD_FSTS_ITE) ? "time-out error" : "completion error", (unsigned long long)rec);
	}
	return MOAT_OK;
}

/* ---- checks shared by the public entry points ---- */

static moat_status check_did(const struct moat_vtd_unit *u, uint32_t did, struct moat_diag *diag)
{
	if (did >= (1u << u->caps.domain_bits))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, VTD_CAP_REG,
				     "VT-d unit 0x%llx: domain id %u beyond CAP.ND (%u bits)", (unsigned long long)u->reg_phys,
				     (unsigned)did, (unsigned)u->caps.domain_bits);
	return MOAT_OK;
}

/* ---- context cache ---- */

moat_status moat_vtdi_context_inval(struct moat_vtd_unit *u, enum moat_vtd_gran gran, uint32_t did, uint32_t sid,
				    unsigned fm, bool wbf, struct moat_diag *diag)
{
	if (!moat_vtdi_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d: unit not probed");
	if (gran < MOAT_VTD_GRAN_GLOBAL || gran > MOAT_VTD_GRAN_DEVICE || sid > 0xffff || fm > 3)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, VTD_CCMD_REG,
				     "VT-d: bad context-cache invalidation (granularity %u, sid 0x%x, fm %u)",
				     (unsigned)gran, (unsigned)sid, fm);
	moat_status st = check_did(u, did, diag);
	if (st != MOAT_OK)
		return st;
	if (gran == MOAT_VTD_GRAN_GLOBAL)
		did = sid = fm = 0;
	else if (gran == MOAT_VTD_GRAN_DOMAIN)
		sid = fm = 0;
	if (wbf) {
		st = moat_vtdi_flush_write_buffer(u, diag);
		if (st != MOAT_OK)
			return st;
	}

	if (u->qi_enabled) {
		const uint64_t d[1][2] = { { VTD_DESC_CC | VTD_PREP(VTD_DESC_CC_G, gran) | VTD_PREP(VTD_DESC_CC_DID, did) |
					     VTD_PREP(VTD_DESC_CC_SID, sid) | VTD_PREP(VTD_DESC_CC_FM, fm), 0 } };
		return qi_submit(u, d, 1, diag);
	}
	moat_vtdi_write64(u, VTD_CCMD_REG, VTD_CCMD_ICC | VTD_PREP(VTD_CCMD_CIRG, gran) | VTD_PREP(VTD_CCMD_FM, fm) |
				      VTD_PREP(VTD_CCMD_SID, sid) | VTD_PREP(VTD_CCMD_DID, did));
	return moat_vtdi_wait64(u, VTD_CCMD_REG, VTD_CCMD_ICC, 0, "CCMD.ICC clear", diag);
}

/* ---- IOTLB ---- */

moat_status moat_vtdi_iotlb_inval(struct moat_vtd_unit *u, enum moat_vtd_gran gran, uint32_t did, uint64_t addr,
				  unsigned am, bool wbf, struct moat_diag *diag)
{
	if (!moat_vtdi_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d: unit not probed");
	if (gran < MOAT_VTD_GRAN_GLOBAL || gran > MOAT_VTD_GRAN_PAGE)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d: bad IOTLB granularity %u", (unsigned)gran);
	moat_status st = check_did(u, did, diag);
	if (st != MOAT_OK)
		return st;
	if (gran == MOAT_VTD_GRAN_PAGE) {
		if (!u->caps.psi || am > u->caps.mamv)
			return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, VTD_CAP_REG,
					     "VT-d unit 0x%llx: page-selective invalidation of 2^%u pages not supported "
					     "(CAP.PSI %u, CAP.MAMV %u)", (unsigned long long)u->reg_phys, am,
					     (unsigned)u->caps.psi, (unsigned)u->caps.mamv);
		uint64_t block_mask = am >= 52 ? ~0ull : ((uint64_t)MOAT_PAGE_SIZE << am) - 1;
		if (addr & block_mask)
			return moat_diag_set(diag, MOAT_ERR_ALIGNMENT, NULL, 0,
					     "VT-d: IOTLB invalidation address 0x%llx not aligned to 2^%u pages",
					     (unsigned long long)addr, am);
	} else {
		addr = 0;
		am = 0;
		if (gran == MOAT_VTD_GRAN_GLOBAL)
			did = 0;
	}
	if (wbf) {
		st = moat_vtdi_flush_write_buffer(u, diag);
		if (st != MOAT_OK)
			return st;
	}

	if (u->qi_enabled) {
		const uint64_t d[1][2] = { {
			VTD_DESC_IOTLB | VTD_PREP(VTD_DESC_IOTLB_G, gran) | VTD_PREP(VTD_DESC_IOTLB_DID, did) |
				(u->caps.drain_write ? VTD_DESC_IOTLB_DW : 0) | (u->caps.drain_read ? VTD_DESC_IOTLB_DR : 0),
			(addr & VTD_DESC_IOTLB_HI_ADDR) | VTD_PREP(VTD_DESC_IOTLB_HI_AM, am),
		} };
		return qi_submit(u, d, 1, diag);
	}
	uint32_t base = u->caps.iotlb_offset;
	if (gran == MOAT_VTD_GRAN_PAGE)
		moat_vtdi_write64(u, base + VTD_IVA_OFF, (addr & VTD_IVA_ADDR) | VTD_PREP(VTD_IVA_AM, am));
	moat_vtdi_write64(u, base + VTD_IOTLB_OFF,
			  VTD_IOTLB_IVT | VTD_PREP(VTD_IOTLB_IIRG, gran) | VTD_PREP(VTD_IOTLB_DID, did) |
				  (u->caps.drain_write ? VTD_IOTLB_DW : 0) | (u->caps.drain_read ? VTD_IOTLB_DR : 0));
	return moat_vtdi_wait64(u, base + VTD_IOTLB_OFF, VTD_IOTLB_IVT, 0, "IOTLB_REG.IVT clear", diag);
}

moat_status moat_vtd_flush_context(struct moat_vtd_unit *u, enum moat_vtd_gran gran, uint32_t did, uint32_t sid,
				   unsigned fm, struct moat_diag *diag)
{
	return moat_vtdi_context_inval(u, gran, did, sid, fm, true, diag);
}

moat_status moat_vtd_flush_iotlb(struct moat_vtd_unit *u, enum moat_vtd_gran gran, uint32_t did, uint64_t addr,
				 unsigned am, struct moat_diag *diag)
{
	return moat_vtdi_iotlb_inval(u, gran, did, addr, am, true, diag);
}

/* ---- interrupt entry cache ---- */

moat_status moat_vtd_flush_iec(struct moat_vtd_unit *u, struct moat_diag *diag)
{
	if (!moat_vtdi_probed(u) || !u->qi_enabled)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0,
				     "VT-d: interrupt entry cache invalidation needs the invalidation queue enabled");
	const uint64_t d[1][2] = { { VTD_DESC_IEC, 0 } };  /* G = 0: global */
	return qi_submit(u, d, 1, diag);
}

moat_status moat_vtd_flush_iec_index(struct moat_vtd_unit *u, uint32_t index, unsigned im, struct moat_diag *diag)
{
	if (!moat_vtdi_probed(u) || !u->qi_enabled)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0,
				     "VT-d: interrupt entry cache invalidation needs the invalidation queue enabled");
	if (index > 0xffff || im > VTD_GET(VTD_ECAP_MHMV, u->ecap) || (index & ((1u << im) - 1)))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, VTD_ECAP_REG,
				     "VT-d: interrupt entry cache invalidation of 2^%u entries at %u (ECAP.MHMV %u)", im,
				     (unsigned)index, (unsigned)VTD_GET(VTD_ECAP_MHMV, u->ecap));
	/* G = 1: index-selective, 2^IM entries from IIDX (6.5.2.7). */
	const uint64_t d[1][2] = { { VTD_DESC_IEC | VTD_DESC_IEC_G | VTD_PREP(VTD_DESC_IEC_IM, im) |
				     VTD_PREP(VTD_DESC_IEC_IIDX, index), 0 } };
	return qi_submit(u, d, 1, diag);
}

/* ---- the one entry point for page-table changes ---- */

/* Smallest am such that one naturally aligned block of 2^am pages holds pages first..last. */
static unsigned block_order(uint64_t first, uint64_t last)
{
	unsigned am = 0;

	while (am < 52 && (first >> am) != (last >> am))
		am++;
	return am;
}

moat_status moat_vtd_invalidate(struct moat_vtd_unit *u, uint32_t did, uint64_t iova, uint64_t size,
				struct moat_diag *diag)
{
	if (!moat_vtdi_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d: unit not probed");
	moat_status st = check_did(u, did, diag);
	if (st != MOAT_OK)
		return st;
	if (size && iova + (size - 1) < iova)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d: range 0x%llx + 0x%llx wraps",
				     (unsigned long long)iova, (unsigned long long)size);
	if (!u->enabled)
		return MOAT_OK;

	st = moat_vtdi_flush_write_buffer(u, diag);
	if (st != MOAT_OK)
		return st;
	if (size && u->caps.psi) {
		uint64_t first = iova / MOAT_PAGE_SIZE, last = (iova + (size - 1)) / MOAT_PAGE_SIZE;
		unsigned am = block_order(first, last);

		if (am <= u->caps.mamv)
			return moat_vtdi_iotlb_inval(u, MOAT_VTD_GRAN_PAGE, did, (first >> am << am) * MOAT_PAGE_SIZE,
						     am, false, diag);
	}
	return moat_vtdi_iotlb_inval(u, MOAT_VTD_GRAN_DOMAIN, did, 0, 0, false, diag);
}
