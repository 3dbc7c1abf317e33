/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The device table (section 2.2.2): one 256-bit entry per device id, physically contiguous,
 * indexed by the device id the IOMMU sees. Every entry is valid: V = 0 would let the device's DMA
 * through untranslated. An entry without a domain blocks (V = 1, TV = 0, IR = IW = 0); an attached
 * entry translates through its domain's page tables (V = 1, TV = 1, Mode, root, IR = IW = 1,
 * domain id).
 */
#include "amdvi_internal.h"

volatile uint64_t *moat_amdvii_dte(const struct moat_amdvi_unit *u, uint32_t devid)
{
	uint64_t *page = u->dt_page[devid / AMDVI_DTE_PER_PAGE];

	return page + (devid % AMDVI_DTE_PER_PAGE) * (AMDVI_DTE_SIZE / 8);
}

/* Each page of the run, as moat_pages_alloc_run() hands it over. */
static void devtab_put(void *ctx, uint32_t i, void *virt)
{
	struct moat_amdvi_unit *u = ctx;

	u->dt_page[i] = virt;
}

moat_status moat_amdvii_devtab_init(struct moat_amdvi_unit *u, struct moat_diag *diag)
{
	uint32_t pages = u->dt_entries / AMDVI_DTE_PER_PAGE;

	if (u->dt_phys)
		return MOAT_OK;
	/* The table is indexed by device id as one block: physically contiguous pages. */
	if (moat_pages_alloc_run(&u->pages, pages, 0, devtab_put, u, &u->dt_phys) != MOAT_OK)
		return moat_diag_set(diag, MOAT_ERR_NO_MEMORY, NULL, AMDVI_DEVTAB_BASE_REG,
				     "AMD-Vi unit 0x%llx: no %u physically contiguous pages for the device table",
				     (unsigned long long)u->reg_phys, (unsigned)pages);
	for (uint32_t p = 0; p < pages; p++) {
		uint64_t *t = u->dt_page[p];

		for (uint32_t e = 0; e < AMDVI_DTE_PER_PAGE; e++) {
			uint64_t *dte = t + e * (AMDVI_DTE_SIZE / 8);

			dte[0] = AMDVI_DTE0_V;
			dte[1] = dte[2] = dte[3] = 0;
		}
		moat_amdvii_flush_range(u, t, MOAT_PAGE_SIZE);
	}
	return MOAT_OK;
}

void moat_amdvii_devtab_free(struct moat_amdvi_unit *u)
{
	if (u->dt_phys)
		for (uint32_t p = 0; p < u->dt_entries / AMDVI_DTE_PER_PAGE; p++)
			moat_pages_free(&u->pages, u->dt_page[p], u->dt_phys + (uint64_t)p * MOAT_PAGE_SIZE);
	moat_memset(u->dt_page, 0, sizeof(u->dt_page));
	u->dt_phys = 0;
}

/* ---- entries ---- */

uint16_t moat_amdvi_device_id(const struct moat_amdvi_unit *u, uint16_t rid)
{
	if (!moat_amdvii_probed(u))
		return rid;
	for (uint32_t i = 0; i < u->alias_count; i++)
		if (rid >= u->aliases[i].first && rid <= u->aliases[i].last)
			return u->aliases[i].alias;
	return rid;
}

/*
 * Section 2.2.2: the IOMMU may read an entry at any time, so no store may leave it half written.
 * Every entry stays valid; TV is what turns translation on and off, and it lives in quadword 0
 * with the mode, root and permissions, written by one 8-byte store. A translating entry is first
 * made blocking (quadword 0 alone), then the domain id is written (quadword 1; harmless while
 * TV = 0), then quadword 0 with TV. So every state the IOMMU can read is either a blocking entry
 * or a complete translation. Quadword 2 (interrupt remapping, irq.c) is left as it is: a device's
 * interrupts do not depend on its domain.
 */
static void dte_write(const struct moat_amdvi_unit *u, uint32_t devid, uint64_t q0, uint64_t q1)
{
	volatile uint64_t *e = moat_amdvii_dte(u, devid);

	if (e[0] == q0 && e[1] == q1 && e[3] == 0)
		return;
	if (e[0] & AMDVI_DTE0_TV) {
		e[0] = AMDVI_DTE0_V;
		moat_amdvii_flush_range(u, e, AMDVI_DTE_SIZE);
	}
	e[3] = 0;
	e[1] = q1;
	moat_amdvii_flush_range(u, e, AMDVI_DTE_SIZE);
	e[0] = q0;
	moat_amdvii_flush_range(u, e, AMDVI_DTE_SIZE);
}

/* Back to blocking: TV off first (one store), then the domain id. */
static void dte_block(const struct moat_amdvi_unit *u, uint32_t devid)
{
	volatile uint64_t *e = moat_amdvii_dte(u, devid);

	e[0] = AMDVI_DTE0_V;
	moat_amdvii_flush_range(u, e, AMDVI_DTE_SIZE);
	e[1] = 0;
	e[3] = 0;
	moat_amdvii_flush_range(u, e, AMDVI_DTE_SIZE);
}

static moat_status check_rid(const struct moat_amdvi_unit *u, uint32_t rid, const char *op, struct moat_diag *diag)
{
	if (rid >= u->dt_entries)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, AMDVI_DEVTAB_BASE_REG,
				     "AMD-Vi %s: requester id 0x%x beyond the device table (%u entries)", op, (unsigned)rid,
				     (unsigned)u->dt_entries);
	uint16_t alias = moat_amdvi_device_id(u, (uint16_t)rid);
	if (alias >= u->dt_entries)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, AMDVI_DEVTAB_BASE_REG,
				     "AMD-Vi %s: alias 0x%x of requester id 0x%x beyond the device table (%u entries)", op,
				     (unsigned)alias, (unsigned)rid, (unsigned)u->dt_entries);
	return MOAT_OK;
}

/*
 * The entries one attach or detach writes: the id the IOMMU sees for @rid (its alias, or itself)
 * first, then the own entry of every requester id the IVRS gives that same alias, so an alias
 * group always has one state. Returns false when there are no more.
 */
struct group_iter {
	const struct moat_amdvi_unit *u;
	uint16_t alias;
	uint32_t range;        /* alias range being walked */
	uint32_t next;         /* next requester id in it */
	bool started;
};

static void group_begin(struct group_iter *it, const struct moat_amdvi_unit *u, uint32_t rid)
{
	it->u = u;
	it->alias = moat_amdvi_device_id(u, (uint16_t)rid);
	it->range = 0;
	it->next = u->alias_count ? u->aliases[0].first : 0;
	it->started = false;
}

static bool group_next(struct group_iter *it, uint16_t *id)
{
	const struct moat_amdvi_unit *u = it->u;

	if (!it->started) {
		it->started = true;
		*id = it->alias;
		return true;
	}
	while (it->range < u->alias_count) {
		const struct moat_amdvi_alias *a = &u->aliases[it->range];

		if (a->alias == it->alias && it->next <= a->last) {
			uint32_t r = it->next++;

			if (r != it->alias && r < u->dt_entries) {
				*id = (uint16_t)r;
				return true;
			}
			continue;
		}
		if (++it->range < u->alias_count)
			it->next = u->aliases[it->range].first;
	}
	return false;
}

/*
 * Quadword 2 of every entry of @rid's alias group: its interrupt fields become @q2, the pass bits
 * (which come from the IVHD setting of each id) stay. One store per entry.
 */
void moat_amdvii_group_set_irq(const struct moat_amdvi_unit *u, uint32_t rid, uint64_t q2)
{
	struct group_iter it;
	uint16_t id;

	group_begin(&it, u, rid);
	while (group_next(&it, &id)) {
		volatile uint64_t *e = moat_amdvii_dte(u, id);

		e[2] = (e[2] & AMDVI_DTE2_PASS) | (q2 & ~AMDVI_DTE2_PASS);
		moat_amdvii_flush_range(u, &e[2], sizeof(e[2]));
	}
}

/* Queue INVALIDATE_DEVTAB_ENTRY (@dte) and INVALIDATE_INTERRUPT_TABLE (@irt) for every entry of
 * @rid's alias group, then COMPLETION_WAIT. */
moat_status moat_amdvii_group_inval_irq(struct moat_amdvi_unit *u, uint32_t rid, bool dte, bool irt,
					struct moat_diag *diag)
{
	struct group_iter it;
	uint16_t id;
	moat_status st = MOAT_OK;

	group_begin(&it, u, rid);
	while (st == MOAT_OK && group_next(&it, &id)) {
		if (dte)
			st = moat_amdvii_cmd_put(u, moat_amdvii_cmd_inval_dte(id), 0, diag);
		if (st == MOAT_OK && irt)
			st = moat_amdvii_cmd_put(u, moat_amdvii_cmd_inval_irt(id), 0, diag);
	}
	if (st == MOAT_OK)
		st = moat_amdvii_cmd_sync(u, diag);
	return st;
}

/* INVALIDATE_DEVTAB_ENTRY of every entry of the group, then the domains' pages, then the wait. */
static moat_status group_invalidate(struct moat_amdvi_unit *u, uint32_t rid, const uint16_t *dids, unsigned ndids,
				    bool all_domains, struct moat_diag *diag)
{
	struct group_iter it;
	uint16_t id;
	moat_status st = MOAT_OK;

	group_begin(&it, u, rid);
	while (st == MOAT_OK && group_next(&it, &id))
		st = moat_amdvii_cmd_put(u, moat_amdvii_cmd_inval_dte(id), 0, diag);
	if (st == MOAT_OK && all_domains)
		st = moat_amdvii_queue_inval_all(u, diag);
	for (unsigned i = 0; i < ndids && st == MOAT_OK && !all_domains; i++) {
		uint64_t cmd[2];

		moat_amdvii_cmd_inval_pages(dids[i], 0, AMDVI_IIP_MAX_ORDER + 1, true, cmd);
		st = moat_amdvii_cmd_put(u, cmd[0], cmd[1], diag);
	}
	if (st == MOAT_OK)
		st = moat_amdvii_cmd_sync(u, diag);
	return st;
}

#define GROUP_MAX_DOMAINS 8u

/*
 * The domains the entries of @rid's alias group translate through now, @dids[0 .. *@ndids - 1]
 * (at most GROUP_MAX_DOMAINS distinct ones; *@many when there are more). Returns whether any
 * entry translates.
 */
static bool group_domains(const struct moat_amdvi_unit *u, uint32_t rid, uint16_t *dids, unsigned *ndids,
			  bool *many)
{
	struct group_iter it;
	bool translating = false;
	uint16_t id;

	group_begin(&it, u, rid);
	while (u->dt_phys && group_next(&it, &id)) {
		volatile uint64_t *e = moat_amdvii_dte(u, id);
		uint16_t did = (uint16_t)AMDVI_GET(AMDVI_DTE1_DOMAIN_ID, e[1]);
		bool known = false;

		if (!(e[0] & AMDVI_DTE0_TV))
			continue;
		translating = true;
		for (unsigned i = 0; i < *ndids; i++)
			known |= dids[i] == did;
		if (!known && *ndids < GROUP_MAX_DOMAINS)
			dids[(*ndids)++] = did;
		else if (!known)
			*many = true;
	}
	return translating;
}

moat_status moat_amdvi_attach(struct moat_amdvi_unit *u, uint32_t rid, uint32_t did, uint64_t root_phys,
			      unsigned levels, struct moat_diag *diag)
{
	moat_status st;

	if (!moat_amdvii_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "AMD-Vi attach: unit not probed");
	st = check_rid(u, rid, "attach", diag);
	if (st != MOAT_OK)
		return st;
	if (did < MOAT_AMDVI_DID_MIN || did > MOAT_AMDVI_DID_MAX)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "AMD-Vi attach: domain id %u outside 1..65535 (0 marks blocking entries)",
				     (unsigned)did);
	if (levels < AMDVI_LEVELS_MIN || levels > AMDVI_LEVELS_MAX ||
	    !(u->caps.levels_mask & MOAT_AMDVI_LEVEL_BIT(levels)))
		return moat_diag_set(diag, MOAT_ERR_UNSUPPORTED, NULL, AMDVI_EFR_REG,
				     "AMD-Vi unit 0x%llx: %u-level tables not supported (EFR.HATS %u: 1 to %u levels)",
				     (unsigned long long)u->reg_phys, levels, MOAT_EFR_HATS(u->caps.efr),
				     (unsigned)u->caps.levels_max);
	if (!root_phys || (root_phys >> 52))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "AMD-Vi attach: page-table root 0x%llx is 0 or beyond 52 bits",
				     (unsigned long long)root_phys);
	if (root_phys & (MOAT_PAGE_SIZE - 1))
		return moat_diag_set(diag, MOAT_ERR_ALIGNMENT, NULL, 0,
				     "AMD-Vi attach: page-table root 0x%llx not 4 KiB aligned", (unsigned long long)root_phys);
	st = moat_amdvii_devtab_init(u, diag);
	if (st != MOAT_OK)
		return st;

	uint64_t q0 = AMDVI_DTE0_V | AMDVI_DTE0_TV | AMDVI_PREP(AMDVI_DTE0_MODE, levels) |
		      (root_phys & AMDVI_DTE0_PT_ROOT) | AMDVI_DTE0_IR | AMDVI_DTE0_IW;
	uint64_t q1 = AMDVI_PREP(AMDVI_DTE1_DOMAIN_ID, did);
	/* The new domain first, then those the group leaves: an IOMMU that tags what it caches by
	 * device rather than by domain (QEMU's model) must not keep the old translations. */
	uint16_t dids[GROUP_MAX_DOMAINS + 1];
	unsigned ndids = 1;
	bool many = false;
	struct group_iter it;
	uint16_t id;

	dids[0] = (uint16_t)did;
	group_domains(u, rid, dids, &ndids, &many);
	group_begin(&it, u, rid);
	while (group_next(&it, &id))
		dte_write(u, id, q0, q1);
	if (!u->enabled)
		return MOAT_OK;
	return group_invalidate(u, rid, dids, ndids, many, diag);
}

moat_status moat_amdvi_detach(struct moat_amdvi_unit *u, uint32_t rid, struct moat_diag *diag)
{
	moat_status st;

	if (!moat_amdvii_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "AMD-Vi detach: unit not probed");
	st = check_rid(u, rid, "detach", diag);
	if (st != MOAT_OK)
		return st;

	/* The domains the group's entries had; more than a few distinct ones: invalidate everything. */
	uint16_t dids[GROUP_MAX_DOMAINS];
	unsigned ndids = 0;
	bool many = false;
	struct group_iter it;
	uint16_t id;

	if (!group_domains(u, rid, dids, &ndids, &many))
		return moat_diag_set(diag, MOAT_ERR_NOT_FOUND, NULL, 0, "AMD-Vi unit 0x%llx: %02x:%02x.%x is not attached",
				     (unsigned long long)u->reg_phys, MOAT_RID_BUS(rid), MOAT_RID_DEV(rid),
				     MOAT_RID_FN(rid));
	group_begin(&it, u, rid);
	while (group_next(&it, &id))
		dte_block(u, id);
	if (!u->enabled)
		return MOAT_OK;
	return group_invalidate(u, rid, dids, ndids, many, diag);
}

moat_status moat_amdvi_dte_get(const struct moat_amdvi_unit *u, uint32_t devid, struct moat_amdvi_dte *out)
{
	if (!moat_amdvii_probed(u))
		return MOAT_ERR_STATE;
	if (!out || devid >= u->dt_entries)
		return MOAT_ERR_INVALID_ARG;
	moat_memset(out, 0, sizeof(*out));
	if (u->dt_phys) {
		const volatile uint64_t *e = moat_amdvii_dte(u, devid);

		for (unsigned i = 0; i < 4; i++)
			out->raw[i] = e[i];
	} else {
		out->raw[0] = AMDVI_DTE0_V;
	}
	out->valid = (out->raw[0] & AMDVI_DTE0_V) != 0;
	out->translated = (out->raw[0] & AMDVI_DTE0_TV) != 0;
	out->read = (out->raw[0] & AMDVI_DTE0_IR) != 0;
	out->write = (out->raw[0] & AMDVI_DTE0_IW) != 0;
	out->levels = (uint8_t)AMDVI_GET(AMDVI_DTE0_MODE, out->raw[0]);
	out->root_phys = out->raw[0] & AMDVI_DTE0_PT_ROOT;
	out->did = (uint16_t)AMDVI_GET(AMDVI_DTE1_DOMAIN_ID, out->raw[1]);
	out->iotlb = (out->raw[1] & AMDVI_DTE1_I) != 0;
	out->iv = (out->raw[2] & AMDVI_DTE2_IV) != 0;
	out->int_ctl = (uint8_t)AMDVI_GET(AMDVI_DTE2_INT_CTL, out->raw[2]);
	out->int_tab_len = (uint8_t)AMDVI_GET(AMDVI_DTE2_INT_TAB_LEN, out->raw[2]);
	out->int_root = out->raw[2] & AMDVI_DTE2_INT_ROOT;
	return MOAT_OK;
}
