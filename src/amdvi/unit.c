/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AMD-Vi unit bring-up and tear-down: probing features and sizing the device table from the
 * description, negotiating features across units, enable and disable, releasing, routing.
 */
#include "amdvi_internal.h"

/* ---- bounded waits and cache maintenance ---- */

bool moat_amdvii_waiting(const struct moat_amdvi_unit *u, uint64_t start, uint32_t iteration)
{
	if (iteration >= MOAT_AMDVI_WAIT_ITERATIONS)
		return false;
	return moat_plat_time_ns() - start <= u->timeout_ns;
}

moat_status moat_amdvii_wait(struct moat_amdvi_unit *u, uint32_t off, uint64_t mask, uint64_t want,
			     const char *what, struct moat_diag *diag)
{
	uint64_t start = moat_plat_time_ns();

	for (uint32_t i = 0;; i++) {
		if ((moat_amdvii_read(u, off) & mask) == want)
			return MOAT_OK;
		if (!moat_amdvii_waiting(u, start, i))
			break;
	}
	return moat_diag_set(diag, MOAT_ERR_TIMEOUT, NULL, off, "AMD-Vi unit 0x%llx: %s did not happen within %llu ns",
			     (unsigned long long)u->reg_phys, what, (unsigned long long)u->timeout_ns);
}

static void flush_lines(const volatile void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(MOAT_CACHE_LINE - 1);
	uintptr_t end = (uintptr_t)p + len;

	for (; a < end; a += MOAT_CACHE_LINE)
		moat_plat_flush_cache_line((const void *)a);
}

void moat_amdvii_flush_range(const struct moat_amdvi_unit *u, const volatile void *p, size_t len)
{
	if (!u->caps.coherent && len)
		flush_lines(p, len);
	moat_plat_wmb();
}

void moat_amdvii_refresh_range(const struct moat_amdvi_unit *u, const volatile void *p, size_t len)
{
	/* x86 flushes invalidate the line too, so the next read fetches what the IOMMU wrote. */
	if (!u->caps.coherent && len)
		flush_lines(p, len);
	moat_plat_mb();
}

/* ---- features ---- */

/* An IVHD 10h has no EFR image; its feature reporting field carries the same facts. */
static uint64_t efr_from_ivhd10(uint32_t f)
{
	uint64_t efr = 0;

	if (f & MOAT_IVHD_FEAT_XT_SUP)
		efr |= MOAT_EFR_XT_SUP;
	if (f & MOAT_IVHD_FEAT_NX_SUP)
		efr |= MOAT_EFR_NX_SUP;
	if (f & MOAT_IVHD_FEAT_GT_SUP)
		efr |= MOAT_EFR_GT_SUP;
	if (f & MOAT_IVHD_FEAT_IA_SUP)
		efr |= MOAT_EFR_IA_SUP;
	if (f & MOAT_IVHD_FEAT_GA_SUP)
		efr |= MOAT_EFR_GA_SUP;
	if (f & MOAT_IVHD_FEAT_HE_SUP)
		efr |= MOAT_EFR_HE_SUP;
	efr |= (uint64_t)MOAT_IVHD_FEAT_GLX_SUP(f) << 14;
	efr |= (uint64_t)MOAT_IVHD_FEAT_HATS(f) << 10;
	efr |= (uint64_t)MOAT_IVHD_FEAT_GATS(f) << 12;
	efr |= (uint64_t)MOAT_IVHD_FEAT_PAS_MAX(f) << 32;
	return efr;
}

/*
 * The EFR to trust: the register, and where the IVHD 11h/40h also has an image, only the feature
 * bits both report and the smaller of each size field. A register reading 0 is a unit without
 * the register (older IOMMUs): the IVHD's word is taken.
 */
static uint64_t efr_effective(uint64_t mmio, const struct moat_unit_desc *d)
{
	uint64_t ivhd = d->ivhd_type == MOAT_IVRS_TYPE_IVHD10 ? efr_from_ivhd10(d->ivhd_feature) : d->efr;
	static const uint64_t fields[] = { AMDVI_MASK(11, 10), AMDVI_MASK(13, 12), AMDVI_MASK(15, 14),
					   AMDVI_MASK(36, 32) };
	uint64_t field_bits = 0, out;

	if (!mmio)
		return ivhd;
	if (d->ivhd_type == MOAT_IVRS_TYPE_IVHD10 || !ivhd)
		return mmio;
	for (unsigned i = 0; i < MOAT_ARRAY_SIZE(fields); i++)
		field_bits |= fields[i];
	out = mmio & ivhd & ~field_bits;
	for (unsigned i = 0; i < MOAT_ARRAY_SIZE(fields); i++)
		out |= MOAT_MIN(mmio & fields[i], ivhd & fields[i]);
	return out;
}

static uint8_t width_of_levels(unsigned levels)
{
	return (uint8_t)MOAT_MIN(12u + 9u * levels, 64u);
}

static void decode_caps(uint64_t efr, uint8_t ivhd_flags, struct moat_amdvi_caps *c)
{
	moat_memset(c, 0, sizeof(*c));
	c->efr = efr;
	c->levels_max = (uint8_t)(4 + MOAT_EFR_HATS(efr));
	for (unsigned n = AMDVI_LEVELS_MIN; n <= c->levels_max; n++)
		c->levels_mask |= (uint8_t)MOAT_AMDVI_LEVEL_BIT(n);
	c->levels = 4;
	c->address_width = width_of_levels(c->levels);
	c->gats = (uint8_t)MOAT_EFR_GATS(efr);
	c->pas_max = (uint8_t)MOAT_EFR_PAS_MAX(efr);
	c->ia = (efr & MOAT_EFR_IA_SUP) != 0;
	c->gt = (efr & MOAT_EFR_GT_SUP) != 0;
	c->nx = (efr & MOAT_EFR_NX_SUP) != 0;
	c->pc = (efr & MOAT_EFR_PC_SUP) != 0;
	c->ppr = (efr & MOAT_EFR_PPR_SUP) != 0;
	c->pref = (efr & MOAT_EFR_PREF_SUP) != 0;
	c->ga = (efr & MOAT_EFR_GA_SUP) != 0;
	c->he = (efr & MOAT_EFR_HE_SUP) != 0;
	c->xt = (efr & MOAT_EFR_XT_SUP) != 0;
	c->us = (efr & MOAT_EFR_US_SUP) != 0;
	c->coherent = (ivhd_flags & MOAT_IVHD_F_COHERENT) != 0;
	c->iotlb = (ivhd_flags & MOAT_IVHD_F_IOTLB_SUP) != 0;
}

/* ---- the description: table size and aliases ---- */

struct scan {
	uint32_t described;       /* highest id + 1 */
	uint32_t alias_count;
	struct moat_amdvi_alias aliases[MOAT_AMDVI_MAX_ALIASES];
};

static moat_status scan_devsets(const struct moat_unit_desc *d, const struct moat_devset *devsets, uint32_t ndevsets,
				struct scan *sc, struct moat_diag *diag)
{
	sc->described = (uint32_t)d->iommu_rid + 1;
	sc->alias_count = 0;
	if (d->devset_first > ndevsets || d->devset_count > ndevsets - d->devset_first || (d->devset_count && !devsets))
		return moat_diag_set(diag, MOAT_ERR_MALFORMED, "IVRS", d->src_offset,
				     "AMD-Vi unit 0x%llx: devsets %u..+%u outside the description's %u",
				     (unsigned long long)d->register_base, (unsigned)d->devset_first,
				     (unsigned)d->devset_count, (unsigned)ndevsets);
	if (d->flags & MOAT_UNIT_AMD_ALL)
		sc->described = AMDVI_DEVTAB_MAX_ENTRIES;
	for (uint32_t k = 0; k < d->devset_count; k++) {
		const struct moat_devset *ds = &devsets[d->devset_first + k];

		if (ds->flags & MOAT_DEVSET_UNRESOLVED)
			continue;
		sc->described = MOAT_MAX(sc->described, (uint32_t)MOAT_MAX(ds->first, ds->last) + 1);
		if (!(ds->flags & MOAT_DEVSET_ALIASED))
			continue;
		sc->described = MOAT_MAX(sc->described, (uint32_t)ds->alias + 1);
		if (sc->alias_count == MOAT_AMDVI_MAX_ALIASES)
			return moat_diag_set(diag, MOAT_ERR_NO_SPACE, "IVRS", ds->src_offset,
					     "AMD-Vi unit 0x%llx: more than %u alias entries",
					     (unsigned long long)d->register_base, (unsigned)MOAT_AMDVI_MAX_ALIASES);
		sc->aliases[sc->alias_count++] = (struct moat_amdvi_alias){
			.first = MOAT_MIN(ds->first, ds->last),
			.last = MOAT_MAX(ds->first, ds->last),
			.alias = ds->alias,
		};
	}
	return MOAT_OK;
}

static uint32_t round_entries(uint32_t n)
{
	n = MOAT_MAX(n, 1u);
	return (n + AMDVI_DTE_PER_PAGE - 1) / AMDVI_DTE_PER_PAGE * AMDVI_DTE_PER_PAGE;
}

/* ---- probe ---- */

moat_status moat_amdvi_probe(struct moat_amdvi_unit *u, const struct moat_unit_desc *d,
			     const struct moat_devset *devsets, uint32_t devsets_count, struct moat_diag *diag)
{
	struct scan sc;
	struct moat_amdvi_caps caps;
	moat_status st;

	if (!u || !d)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "AMD-Vi probe: NULL argument");
	if (d->vendor != MOAT_VENDOR_AMDVI)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "AMD-Vi probe: unit at 0x%llx is not an AMD-Vi unit", (unsigned long long)d->register_base);
	if (!d->register_base || (d->register_base & (MOAT_AMDVI_MMIO_SIZE - 1)))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, "IVRS", d->src_offset,
				     "AMD-Vi probe: register base 0x%llx not 16 KiB aligned",
				     (unsigned long long)d->register_base);
	st = scan_devsets(d, devsets, devsets_count, &sc, diag);
	if (st != MOAT_OK)
		return st;

	volatile void *regs = moat_plat_mmio_map(d->register_base, MOAT_AMDVI_MMIO_SIZE);
	if (!regs)
		return moat_diag_set(diag, MOAT_ERR_HARDWARE, NULL, 0, "AMD-Vi unit 0x%llx: registers cannot be mapped",
				     (unsigned long long)d->register_base);
	uint64_t control = moat_plat_mmio_read64((volatile unsigned char *)regs + AMDVI_CONTROL_REG);
	uint64_t efr_mmio = moat_plat_mmio_read64((volatile unsigned char *)regs + AMDVI_EFR_REG);
	uint64_t efr = efr_effective(efr_mmio, d);

	if (control == ~0ull && efr_mmio == ~0ull)
		st = moat_diag_set(diag, MOAT_ERR_HARDWARE, NULL, AMDVI_CONTROL_REG,
				   "AMD-Vi unit 0x%llx: registers read as all ones (no IOMMU there)",
				   (unsigned long long)d->register_base);
	else if (MOAT_EFR_HATS(efr) == 3)
		st = moat_diag_set(diag, MOAT_ERR_HARDWARE, NULL, AMDVI_EFR_REG,
				   "AMD-Vi unit 0x%llx: EFR.HATS holds the reserved value 3 (EFR 0x%llx)",
				   (unsigned long long)d->register_base, (unsigned long long)efr);
	if (st != MOAT_OK) {
		moat_plat_mmio_unmap(regs, MOAT_AMDVI_MMIO_SIZE);
		return st;
	}
	decode_caps(efr, d->ivhd_flags, &caps);

	moat_memset(u, 0, sizeof(*u));
	u->segment = d->segment;
	u->iommu_rid = d->iommu_rid;
	u->capability_offset = d->capability_offset;
	u->ivhd_type = d->ivhd_type;
	u->ivhd_flags = d->ivhd_flags;
	u->reg_phys = d->register_base;
	u->reg_size = MOAT_AMDVI_MMIO_SIZE;
	u->regs = regs;
	u->efr_mmio = efr_mmio;
	u->efr_ivhd = d->ivhd_type == MOAT_IVRS_TYPE_IVHD10 ? 0 : d->efr;
	u->control_at_probe = control;
	u->caps = caps;
	u->timeout_ns = MOAT_HW_TIMEOUT_NS;
	u->dt_described = sc.described;
	u->dt_entries = round_entries(sc.described);
	u->alias_count = sc.alias_count;
	moat_memcpy(u->aliases, sc.aliases, sizeof(sc.aliases[0]) * sc.alias_count);
	u->state = MOAT_AMDVI_PROBED;
	return MOAT_OK;
}

moat_status moat_amdvi_set_devtab_entries(struct moat_amdvi_unit *u, uint32_t entries, struct moat_diag *diag)
{
	if (!moat_amdvii_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "AMD-Vi: unit not probed");
	if (u->dt_phys)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, AMDVI_DEVTAB_BASE_REG,
				     "AMD-Vi unit 0x%llx: the device table already exists (%u entries)",
				     (unsigned long long)u->reg_phys, (unsigned)u->dt_entries);
	if (entries > AMDVI_DEVTAB_MAX_ENTRIES)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, AMDVI_DEVTAB_BASE_REG,
				     "AMD-Vi: %u device-table entries asked, at most %u exist", (unsigned)entries,
				     (unsigned)AMDVI_DEVTAB_MAX_ENTRIES);
	u->dt_entries = MOAT_MAX(u->dt_entries, round_entries(entries));
	return MOAT_OK;
}

/* The hardware still uses Moat's pages while any of these control bits is on. */
static bool hardware_running(const struct moat_amdvi_unit *u)
{
	return (moat_amdvii_read(u, AMDVI_CONTROL_REG) & AMDVI_CTRL_RUN_BITS) != 0;
}

moat_status moat_amdvi_release(struct moat_amdvi_unit *u)
{
	if (!moat_amdvii_probed(u))
		return MOAT_ERR_STATE;
	if (u->enabled || ((u->dt_phys || u->cmd || u->evt) && hardware_running(u)))
		return MOAT_ERR_BUSY;
	moat_amdvii_devtab_free(u);
	moat_amdvii_cmd_free(u);
	moat_amdvii_evt_free(u);
	moat_amdvii_ir_free(u);
	moat_plat_mmio_unmap(u->regs, u->reg_size);
	moat_memset(u, 0, sizeof(*u));
	return MOAT_OK;
}

moat_status moat_amdvi_pages(const struct moat_amdvi_unit *u, uint64_t *phys, unsigned max, unsigned *count)
{
	unsigned n = 0;

	if (!moat_amdvii_probed(u))
		return MOAT_ERR_STATE;
	if (!count || (max && !phys))
		return MOAT_ERR_INVALID_ARG;
	if (u->dt_phys)
		for (uint32_t p = 0; p < u->dt_entries / AMDVI_DTE_PER_PAGE; p++)
			moat_list_add64(u->dt_phys + (uint64_t)p * MOAT_PAGE_SIZE, phys, max, &n);
	if (u->cmd)
		moat_list_add64(u->cmd_phys, phys, max, &n);
	if (u->sem)
		moat_list_add64(u->sem_phys, phys, max, &n);
	if (u->evt)
		moat_list_add64(u->evt_phys, phys, max, &n);
	for (uint32_t i = 0; i < u->ir_tables; i++)
		moat_list_add64(u->irt[i].phys, phys, max, &n);
	*count = n;
	return n <= max ? MOAT_OK : MOAT_ERR_NO_SPACE;
}

/* ---- negotiation ---- */

moat_status moat_amdvi_negotiate(struct moat_amdvi_unit *const *units, unsigned n, unsigned address_width,
				 struct moat_amdvi_caps *common, struct moat_diag *diag)
{
	struct moat_amdvi_caps c;

	if (!units || !n || !common)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "AMD-Vi negotiate: no units");
	for (unsigned i = 0; i < n; i++)
		if (!moat_amdvii_probed(units[i]))
			return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "AMD-Vi negotiate: unit %u not probed", i);

	c = units[0]->caps;
	c.efr = 0;
	for (unsigned i = 1; i < n; i++) {
		const struct moat_amdvi_caps *o = &units[i]->caps;

		c.levels_max = MOAT_MIN(c.levels_max, o->levels_max);
		c.levels_mask &= o->levels_mask;
		c.gats = MOAT_MIN(c.gats, o->gats);
		c.pas_max = MOAT_MIN(c.pas_max, o->pas_max);
		c.ia &= o->ia;
		c.gt &= o->gt;
		c.nx &= o->nx;
		c.pc &= o->pc;
		c.ppr &= o->ppr;
		c.pref &= o->pref;
		c.ga &= o->ga;
		c.he &= o->he;
		c.xt &= o->xt;
		c.us &= o->us;
		c.coherent &= o->coherent;
		c.iotlb &= o->iotlb;
	}
	c.levels = c.levels_max;
	for (unsigned l = AMDVI_LEVELS_MIN; l <= c.levels_max; l++) {
		if (width_of_levels(l) >= address_width) {
			c.levels = (uint8_t)l;
			break;
		}
	}
	c.address_width = width_of_levels(c.levels);
	*common = c;
	return MOAT_OK;
}

/* ---- enable / disable ---- */

/* Control bits the IVHD flags ask for (section 5.2, IVHD flags). */
static uint64_t control_from_ivhd(uint8_t flags)
{
	uint64_t c = 0;

	if (flags & MOAT_IVHD_F_HT_TUN_EN)
		c |= AMDVI_CTRL_HT_TUN_EN;
	if (flags & MOAT_IVHD_F_PASS_PW)
		c |= AMDVI_CTRL_PASS_PW;
	if (flags & MOAT_IVHD_F_RES_PASS_PW)
		c |= AMDVI_CTRL_RES_PASS_PW;
	if (flags & MOAT_IVHD_F_ISOC)
		c |= AMDVI_CTRL_ISOC;
	if (flags & MOAT_IVHD_F_COHERENT)
		c |= AMDVI_CTRL_COHERENT;
	return c;
}

/* Turn IommuEn, CmdBufEn and EventLogEn off and wait until the IOMMU says both rings stopped. */
static moat_status stop(struct moat_amdvi_unit *u, struct moat_diag *diag)
{
	uint64_t ctrl = moat_amdvii_read(u, AMDVI_CONTROL_REG);
	moat_status st;

	if (ctrl & AMDVI_CTRL_RUN_BITS)
		moat_amdvii_write(u, AMDVI_CONTROL_REG, ctrl & ~AMDVI_CTRL_RUN_BITS);
	st = moat_amdvii_wait(u, AMDVI_STATUS_REG, AMDVI_STS_CMDBUF_RUN, 0,
			      "Status.CmdBufRun clear after Control.CmdBufEn = 0", diag);
	if (st == MOAT_OK)
		st = moat_amdvii_wait(u, AMDVI_STATUS_REG, AMDVI_STS_EVENT_LOG_RUN, 0,
				      "Status.EventLogRun clear after Control.EventLogEn = 0", diag);
	return st;
}

static uint64_t ring_base(uint64_t phys)
{
	return (phys & AMDVI_CMDBUF_BASE) | AMDVI_PREP(AMDVI_CMDBUF_LEN, AMDVI_RING_LEN_CODE);
}

/*
 * Bases and pointers are programmed while the IOMMU is off; the control bits go on in one write
 * (the set-up QEMU's model is known to accept); the rings are seen running; then every cache is
 * invalidated, so nothing firmware left cached survives.
 */
moat_status moat_amdvi_enable(struct moat_amdvi_unit *u, struct moat_diag *diag)
{
	moat_status st;

	if (!moat_amdvii_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "AMD-Vi enable: unit not probed");
	if (u->enabled)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "AMD-Vi unit 0x%llx: already enabled",
				     (unsigned long long)u->reg_phys);
	st = moat_amdvii_devtab_init(u, diag);
	if (st == MOAT_OK)
		st = moat_amdvii_cmd_init(u, diag);
	if (st == MOAT_OK)
		st = moat_amdvii_evt_init(u, diag);
	if (st == MOAT_OK)
		st = stop(u, diag);
	if (st != MOAT_OK)
		return st;

	/* The exclusion range lets devices bypass translation: always off (IVMDs are unity maps). */
	moat_amdvii_write(u, AMDVI_EXCL_BASE_REG, 0);
	moat_amdvii_write(u, AMDVI_EXCL_LIMIT_REG, 0);
	/* Stale overflow and interrupt flags cleared before the log is programmed (recent QEMU
	 * models ignore a new event log base while EventLogInt is set). */
	moat_amdvii_write(u, AMDVI_STATUS_REG, AMDVI_STS_W1C);

	uint32_t pages = u->dt_entries / AMDVI_DTE_PER_PAGE;
	moat_amdvii_write(u, AMDVI_DEVTAB_BASE_REG,
			  (u->dt_phys & AMDVI_DEVTAB_BASE) | AMDVI_PREP(AMDVI_DEVTAB_SIZE, pages - 1));
	moat_amdvii_write(u, AMDVI_CMDBUF_BASE_REG, ring_base(u->cmd_phys));
	moat_amdvii_write(u, AMDVI_CMDBUF_HEAD_REG, 0);
	moat_amdvii_write(u, AMDVI_CMDBUF_TAIL_REG, 0);
	u->cmd_head = u->cmd_tail = u->cmd_tail_hw = 0;
	moat_amdvii_write(u, AMDVI_EVTLOG_BASE_REG, ring_base(u->evt_phys));
	moat_amdvii_write(u, AMDVI_EVTLOG_HEAD_REG, 0);
	moat_amdvii_write(u, AMDVI_EVTLOG_TAIL_REG, 0);

	uint64_t ctrl = moat_amdvii_read(u, AMDVI_CONTROL_REG);
	ctrl &= ~(AMDVI_CTRL_RUN_BITS | AMDVI_CTRL_IVHD_BITS | AMDVI_CTRL_UNUSED_BITS | AMDVI_CTRL_INV_TIMEOUT);
	ctrl |= control_from_ivhd(u->ivhd_flags) | AMDVI_CTRL_RUN_BITS;
	moat_amdvii_write(u, AMDVI_CONTROL_REG, ctrl);
	st = moat_amdvii_wait(u, AMDVI_STATUS_REG, AMDVI_STS_CMDBUF_RUN, AMDVI_STS_CMDBUF_RUN,
			      "Status.CmdBufRun set after Control.CmdBufEn = 1", diag);
	if (st == MOAT_OK)
		st = moat_amdvii_wait(u, AMDVI_STATUS_REG, AMDVI_STS_EVENT_LOG_RUN, AMDVI_STS_EVENT_LOG_RUN,
				      "Status.EventLogRun set after Control.EventLogEn = 1", diag);
	if (st == MOAT_OK)
		st = moat_amdvii_queue_inval_all(u, diag);
	if (st == MOAT_OK)
		st = moat_amdvii_cmd_sync(u, diag);
	if (st != MOAT_OK)
		return st;
	u->enabled = true;
	return MOAT_OK;
}

moat_status moat_amdvi_disable(struct moat_amdvi_unit *u, struct moat_diag *diag)
{
	if (!moat_amdvii_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "AMD-Vi disable: unit not probed");
	moat_status st = stop(u, diag);
	if (st != MOAT_OK)
		return st;
	u->enabled = false;
	return MOAT_OK;
}

/* ---- routing ---- */

moat_status moat_amdvi_routes(const struct moat_sysdesc *desc, uint16_t segment, uint16_t rid, uint32_t *unit_index)
{
	/* Device entries (an alias entry names its alias too) first, then the unit with an "all" entry. */
	return moat_sysdesc_route(desc, MOAT_VENDOR_AMDVI, segment, rid, unit_index);
}
