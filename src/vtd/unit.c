/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * VT-d unit bring-up and tear-down: probing capabilities, negotiating them across units, the
 * GCMD/GSTS handshake, enable and disable.
 */
#include "vtd_internal.h"

/* ---- bounded waits ---- */

bool moat_vtdi_waiting(const struct moat_vtd_unit *u, uint64_t start, uint32_t iteration)
{
	if (iteration >= MOAT_VTD_WAIT_ITERATIONS)
		return false;
	return moat_plat_time_ns() - start <= u->timeout_ns;
}

static moat_status wait_timeout(struct moat_vtd_unit *u, uint32_t off, const char *what, struct moat_diag *diag)
{
	return moat_diag_set(diag, MOAT_ERR_TIMEOUT, NULL, off, "VT-d unit 0x%llx: %s did not happen within %llu ns",
			     (unsigned long long)u->reg_phys, what, (unsigned long long)u->timeout_ns);
}

moat_status moat_vtdi_wait32(struct moat_vtd_unit *u, uint32_t off, uint32_t mask, uint32_t want,
			     const char *what, struct moat_diag *diag)
{
	uint64_t start = moat_plat_time_ns();

	for (uint32_t i = 0;; i++) {
		if ((moat_vtdi_read32(u, off) & mask) == want)
			return MOAT_OK;
		if (!moat_vtdi_waiting(u, start, i))
			break;
	}
	return wait_timeout(u, off, what, diag);
}

moat_status moat_vtdi_wait64(struct moat_vtd_unit *u, uint32_t off, uint64_t mask, uint64_t want,
			     const char *what, struct moat_diag *diag)
{
	uint64_t start = moat_plat_time_ns();

	for (uint32_t i = 0;; i++) {
		if ((moat_vtdi_read64(u, off) & mask) == want)
			return MOAT_OK;
		if (!moat_vtdi_waiting(u, start, i))
			break;
	}
	return wait_timeout(u, off, what, diag);
}

/* ---- global command ---- */

struct gcmd_bit {
	uint32_t bit;
	bool one_shot;
	const char *cmd, *sts;
};

static const struct gcmd_bit gcmd_bits[] = {
	{ (uint32_t)VTD_GCMD_TE, false, "TE", "TES" },
	{ (uint32_t)VTD_GCMD_SRTP, true, "SRTP", "RTPS" },
	{ (uint32_t)VTD_GCMD_SFL, true, "SFL", "FLS" },
	{ (uint32_t)VTD_GCMD_EAFL, false, "EAFL", "AFLS" },
	{ (uint32_t)VTD_GCMD_WBF, true, "WBF", "WBFS" },
	{ (uint32_t)VTD_GCMD_QIE, false, "QIE", "QIES" },
	{ (uint32_t)VTD_GCMD_IRE, false, "IRE", "IRES" },
	{ (uint32_t)VTD_GCMD_SIRTP, true, "SIRTP", "IRTPS" },
	{ (uint32_t)VTD_GCMD_CFI, false, "CFI", "CFIS" },
};

/*
 * Section 10.4.4: GCMD is written with the current state of the persistent bits (read from GSTS)
 * and the one bit being changed; one-shot bits (SRTP, SFL, WBF, SIRTP) read back as status and are
 * masked out so that a command is never repeated. Completion is seen in GSTS: a persistent bit's
 * status follows the command; RTPS, FLS and IRTPS are set when the pointer is latched; WBFS is
 * clear when the flush is done.
 */
moat_status moat_vtdi_gcmd(struct moat_vtd_unit *u, uint32_t bit, bool on, struct moat_diag *diag)
{
	const struct gcmd_bit *b = NULL;
	char what[48];

	for (unsigned i = 0; i < MOAT_ARRAY_SIZE(gcmd_bits); i++)
		if (gcmd_bits[i].bit == bit)
			b = &gcmd_bits[i];
	if (!b || (b->one_shot && !on))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, VTD_GCMD_REG, "not a GCMD command: 0x%x", bit);

	uint32_t cmd = moat_vtdi_read32(u, VTD_GSTS_REG) & VTD_GCMD_PERSISTENT;
	cmd = on ? (cmd | bit) : (cmd & ~bit);
	moat_vtdi_write32(u, VTD_GCMD_REG, cmd);

	uint32_t want = bit;
	if (bit == (uint32_t)VTD_GCMD_WBF || !on)
		want = 0;
	moat_snprintf(what, sizeof(what), "GSTS.%s %s after GCMD.%s", b->sts, want ? "set" : "clear", b->cmd);
	return moat_vtdi_wait32(u, VTD_GSTS_REG, bit, want, what, diag);
}

moat_status moat_vtdi_flush_write_buffer(struct moat_vtd_unit *u, struct moat_diag *diag)
{
	if (!u->caps.rwbf)
		return MOAT_OK;
	moat_plat_wmb();
	return moat_vtdi_gcmd(u, (uint32_t)VTD_GCMD_WBF, true, diag);
}

void moat_vtdi_flush_range(const struct moat_vtd_unit *u, const void *p, size_t len)
{
	if (!u->caps.coherent && len) {
		uintptr_t a = (uintptr_t)p & ~(uintptr_t)(MOAT_CACHE_LINE - 1);
		uintptr_t end = (uintptr_t)p + len;

		for (; a < end; a += MOAT_CACHE_LINE)
			moat_plat_flush_cache_line((const void *)a);
	}
	moat_plat_wmb();
}

/* ---- probe ---- */

static void decode_caps(uint32_t ver, uint64_t cap, uint64_t ecap, struct moat_vtd_caps *c)
{
	unsigned sagaw = (unsigned)VTD_GET(VTD_CAP_SAGAW, cap);
	unsigned sllps = (unsigned)VTD_GET(VTD_CAP_SLLPS, cap);

	moat_memset(c, 0, sizeof(*c));
	c->version = (uint8_t)(ver & 0xff);
	for (unsigned n = VTD_LEVELS_MAX; n >= VTD_LEVELS_MIN; n--) {
		if (sagaw & (1u << VTD_AW_OF_LEVELS(n))) {
			c->levels_mask |= (uint8_t)MOAT_VTD_LEVEL_BIT(n);
			c->levels = (uint8_t)n;
		}
	}
	c->mgaw = (uint8_t)(VTD_GET(VTD_CAP_MGAW, cap) + 1);
	c->address_width = c->levels ? (uint8_t)MOAT_MIN(VTD_LEVEL_WIDTH(c->levels), c->mgaw) : 0;
	c->superpages = (uint8_t)(((sllps & 1) ? MOAT_VTD_SP_2M : 0) | ((sllps & 2) ? MOAT_VTD_SP_1G : 0));
	c->domain_bits = (uint8_t)(4 + 2 * VTD_GET(VTD_CAP_ND, cap));
	c->caching_mode = (cap & VTD_CAP_CM) != 0;
	c->did_min = c->caching_mode ? 1 : 0;
	c->rwbf = (cap & VTD_CAP_RWBF) != 0;
	c->psi = (cap & VTD_CAP_PSI) != 0;
	c->mamv = (uint8_t)VTD_GET(VTD_CAP_MAMV, cap);
	c->drain_read = (cap & VTD_CAP_DRD) != 0;
	c->drain_write = (cap & VTD_CAP_DWD) != 0;
	c->fault_offset = (uint16_t)(VTD_GET(VTD_CAP_FRO, cap) * 16);
	c->fault_records = (uint16_t)(VTD_GET(VTD_CAP_NFR, cap) + 1);
	c->coherent = (ecap & VTD_ECAP_C) != 0;
	c->qi = (ecap & VTD_ECAP_QI) != 0;
	c->ir = (ecap & VTD_ECAP_IR) != 0;
	c->eim = (ecap & VTD_ECAP_EIM) != 0;
	c->pt = (ecap & VTD_ECAP_PT) != 0;
	c->smts = (ecap & VTD_ECAP_SMTS) != 0;
	c->iotlb_offset = (uint16_t)(VTD_GET(VTD_ECAP_IRO, ecap) * 16);
}

moat_status moat_vtd_probe(struct moat_vtd_unit *u, const struct moat_unit_desc *desc, struct moat_diag *diag)
{
	struct moat_vtd_caps caps;

	if (!u || !desc)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d probe: NULL argument");
	if (desc->vendor != MOAT_VENDOR_VTD)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d probe: unit at 0x%llx is not a VT-d unit",
				     (unsigned long long)desc->register_base);
	if (!desc->register_base || (desc->register_base & (MOAT_PAGE_SIZE - 1)))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d probe: register base 0x%llx not page aligned",
				     (unsigned long long)desc->register_base);

	uint32_t size = MOAT_MAX(desc->register_size, MOAT_PAGE_SIZE);
	volatile void *regs = moat_plat_mmio_map(desc->register_base, size);
	if (!regs)
		return moat_diag_set(diag, MOAT_ERR_HARDWARE, NULL, 0, "VT-d unit 0x%llx: registers cannot be mapped",
				     (unsigned long long)desc->register_base);

	uint32_t ver = moat_plat_mmio_read32((volatile unsigned char *)regs + VTD_VER_REG);
	uint64_t cap = moat_plat_mmio_read64((volatile unsigned char *)regs + VTD_CAP_REG);
	uint64_t ecap = moat_plat_mmio_read64((volatile unsigned char *)regs + VTD_ECAP_REG);
	moat_status st = MOAT_OK;

	decode_caps(ver, cap, ecap, &caps);
	if (cap == ~0ull || ecap == ~0ull)
		st = moat_diag_set(diag, MOAT_ERR_HARDWARE, NULL, VTD_CAP_REG,
				   "VT-d unit 0x%llx: CAP/ECAP read as all ones (no unit there)",
				   (unsigned long long)desc->register_base);
	else if (VTD_GET(VTD_CAP_ND, cap) == 7)
		st = moat_diag_set(diag, MOAT_ERR_HARDWARE, NULL, VTD_CAP_REG, "VT-d unit 0x%llx: CAP.ND is reserved (7)",
				   (unsigned long long)desc->register_base);
	else if (!caps.iotlb_offset || (uint32_t)caps.iotlb_offset + 16 > size)
		st = moat_diag_set(diag, MOAT_ERR_HARDWARE, NULL, VTD_ECAP_REG,
				   "VT-d unit 0x%llx: IOTLB registers at ECAP.IRO 0x%x outside the %u-byte register range",
				   (unsigned long long)desc->register_base, (unsigned)caps.iotlb_offset, (unsigned)size);
	else if (!caps.fault_offset ||
		 (uint32_t)caps.fault_offset + (uint32_t)caps.fault_records * VTD_FRCD_SIZE > size)
		st = moat_diag_set(diag, MOAT_ERR_HARDWARE, NULL, VTD_CAP_REG,
				   "VT-d unit 0x%llx: %u fault records at CAP.FRO 0x%x outside the %u-byte register range",
				   (unsigned long long)desc->register_base, (unsigned)caps.fault_records,
				   (unsigned)caps.fault_offset, (unsigned)size);
	if (st != MOAT_OK) {
		moat_plat_mmio_unmap(regs, size);
		return st;
	}

	moat_memset(u, 0, sizeof(*u));
	u->segment = desc->segment;
	u->reg_phys = desc->register_base;
	u->reg_size = size;
	u->regs = regs;
	u->ver = ver;
	u->cap = cap;
	u->ecap = ecap;
	u->caps = caps;
	u->timeout_ns = MOAT_HW_TIMEOUT_NS;
	u->te_at_probe = (moat_vtdi_read32(u, VTD_GSTS_REG) & VTD_GSTS_TES) != 0;
	u->state = MOAT_VTD_PROBED;
	return MOAT_OK;
}

moat_status moat_vtd_release(struct moat_vtd_unit *u)
{
	if (!moat_vtdi_probed(u))
		return MOAT_ERR_STATE;
	if (u->enabled)
		return MOAT_ERR_BUSY;
	moat_vtdi_tables_free(u);
	moat_vtdi_qi_free(u);
	moat_vtdi_ir_free(u);
	moat_plat_mmio_unmap(u->regs, u->reg_size);
	moat_memset(u, 0, sizeof(*u));
	return MOAT_OK;
}

/* ---- negotiation ---- */

moat_status moat_vtd_negotiate(struct moat_vtd_unit *const *units, unsigned n, unsigned address_width,
			       struct moat_vtd_caps *common, struct moat_diag *diag)
{
	struct moat_vtd_caps c;

	if (!units || !n || !common)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d negotiate: no units");
	for (unsigned i = 0; i < n; i++) {
		if (!moat_vtdi_probed(units[i]))
			return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "VT-d negotiate: unit %u not probed", i);
		if (!units[i]->caps.levels_mask)
			return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, VTD_CAP_REG,
					     "VT-d unit %u at 0x%llx supports no 3-, 4- or 5-level tables (CAP.SAGAW 0x%x)", i,
					     (unsigned long long)units[i]->reg_phys,
					     (unsigned)VTD_GET(VTD_CAP_SAGAW, units[i]->cap));
	}

	c = units[0]->caps;
	c.version = 0;
	c.iotlb_offset = 0;
	c.fault_offset = 0;
	for (unsigned i = 1; i < n; i++) {
		const struct moat_vtd_caps *o = &units[i]->caps;

		if (!(c.levels_mask & o->levels_mask))
			return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, VTD_CAP_REG,
					     "VT-d unit %u at 0x%llx shares no page-table level with the units before it "
					     "(levels 0x%x vs 0x%x)", i, (unsigned long long)units[i]->reg_phys,
					     (unsigned)o->levels_mask, (unsigned)c.levels_mask);
		c.levels_mask &= o->levels_mask;
		c.mgaw = MOAT_MIN(c.mgaw, o->mgaw);
		c.superpages &= o->superpages;
		c.domain_bits = MOAT_MIN(c.domain_bits, o->domain_bits);
		c.did_min = MOAT_MAX(c.did_min, o->did_min);
		c.mamv = MOAT_MIN(c.mamv, o->mamv);
		c.caching_mode |= o->caching_mode;
		c.rwbf |= o->rwbf;
		c.coherent &= o->coherent;
		c.qi &= o->qi;
		c.ir &= o->ir;
		c.eim &= o->eim;
		c.pt &= o->pt;
		c.psi &= o->psi;
		c.smts &= o->smts;
		c.drain_read &= o->drain_read;
		c.drain_write &= o->drain_write;
		c.fault_records = MOAT_MIN(c.fault_records, o->fault_records);
	}

	/* The smallest common level covering the width; else the largest common level. */
	c.levels = 0;
	for (unsigned l = VTD_LEVELS_MIN; l <= VTD_LEVELS_MAX; l++) {
		if (!(c.levels_mask & MOAT_VTD_LEVEL_BIT(l)))
			continue;
		c.levels = (uint8_t)l;
		if (VTD_LEVEL_WIDTH(l) >= address_width)
			break;
	}
	c.address_width = (uint8_t)MOAT_MIN(VTD_LEVEL_WIDTH(c.levels), c.mgaw);
	*common = c;
	return MOAT_OK;
}

/* ---- enable / disable ---- */

static moat_status pmr_disable(struct moat_vtd_unit *u, struct moat_diag *diag)
{
	if (!(moat_vtdi_read32(u, VTD_PMEN_REG) & VTD_PMEN_PRS))
		return MOAT_OK;
	moat_vtdi_write32(u, VTD_PMEN_REG, 0);
	return moat_vtdi_wait32(u, VTD_PMEN_REG, (uint32_t)VTD_PMEN_PRS, 0, "PMEN.PRS clear after EPM = 0", diag);
}

/* The order section 10.4.4 implies, and the one QEMU's model is known to accept: the root pointer
 * is latched before caches are invalidated, and translation is enabled last. */
moat_status moat_vtd_enable(struct moat_vtd_unit *u, struct moat_diag *diag)
{
	moat_status st;

	if (!moat_vtdi_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d enable: unit not probed");
	if (u->enabled)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d unit 0x%llx: already enabled",
				     (unsigned long long)u->reg_phys);
	st = moat_vtdi_tables_init(u);
	if (st != MOAT_OK)
		return moat_diag_set(diag, st, NULL, 0, "VT-d unit 0x%llx: no page for the root table",
				     (unsigned long long)u->reg_phys);

	/* A queue left enabled by firmware points at memory Moat does not own: stop it first. */
	if (moat_vtdi_read32(u, VTD_GSTS_REG) & VTD_GSTS_QIES) {
		st = moat_vtdi_gcmd(u, (uint32_t)VTD_GCMD_QIE, false, diag);
		if (st != MOAT_OK)
			return st;
	}
	u->qi_enabled = false;

	moat_vtdi_write64(u, VTD_RTADDR_REG, u->root_phys | VTD_PREP(VTD_RTADDR_TTM, 0));
	st = moat_vtdi_gcmd(u, (uint32_t)VTD_GCMD_SRTP, true, diag);
	if (st == MOAT_OK && u->caps.qi)
		st = moat_vtdi_qi_enable(u, diag);
	if (st == MOAT_OK)
		st = moat_vtdi_flush_write_buffer(u, diag);
	if (st == MOAT_OK)
		st = moat_vtdi_context_inval(u, MOAT_VTD_GRAN_GLOBAL, 0, 0, 0, false, diag);
	if (st == MOAT_OK)
		st = moat_vtdi_iotlb_inval(u, MOAT_VTD_GRAN_GLOBAL, 0, 0, 0, false, diag);
	if (st == MOAT_OK)
		st = moat_vtdi_gcmd(u, (uint32_t)VTD_GCMD_TE, true, diag);
	if (st == MOAT_OK)
		st = pmr_disable(u, diag);
	if (st != MOAT_OK)
		return st;
	u->enabled = true;
	return MOAT_OK;
}

moat_status moat_vtd_disable(struct moat_vtd_unit *u, struct moat_diag *diag)
{
	moat_status st;

	if (!moat_vtdi_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "VT-d disable: unit not probed");
	/* Interrupt remapping first: it needs the queue Moat is about to turn off. */
	st = moat_vtd_ir_disable(u, diag);
	if (st != MOAT_OK)
		return st;
	if (moat_vtdi_read32(u, VTD_GSTS_REG) & VTD_GSTS_TES) {
		st = moat_vtdi_gcmd(u, (uint32_t)VTD_GCMD_TE, false, diag);
		if (st != MOAT_OK)
			return st;
	}
	u->enabled = false;
	if (moat_vtdi_read32(u, VTD_GSTS_REG) & VTD_GSTS_QIES) {
		st = moat_vtdi_gcmd(u, (uint32_t)VTD_GCMD_QIE, false, diag);
		if (st != MOAT_OK)
			return st;
	}
	u->qi_enabled = false;
	return MOAT_OK;
}
