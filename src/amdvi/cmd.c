/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The command buffer (section 2.4, registers in 3.4): a ring of 256 commands of 128 bits in one
 * page. Moat writes commands at its tail, publishes the tail register when the ring is full or a
 * batch ends, and ends every batch with COMPLETION_WAIT storing an increasing value to a semaphore
 * in memory, whose arrival means every command before it has completed. One slot always stays
 * empty, so head == tail means empty.
 *
 * Errors: an IOMMU that meets an illegal command, or cannot read one, logs an event and stops
 * fetching (Status.CmdBufRun clears, the head register points at the command). Moat then drops the
 * rest of the batch (head = tail), restarts the buffer (CmdBufEn off and on) and returns
 * MOAT_ERR_HARDWARE naming the command.
 */
#include "amdvi_internal.h"

moat_status moat_amdvii_cmd_init(struct moat_amdvi_unit *u, struct moat_diag *diag)
{
	if (!u->cmd) {
		u->cmd = moat_pages_alloc(&u->pages, &u->cmd_phys);
		if (!u->cmd)
			return moat_diag_set(diag, MOAT_ERR_NO_MEMORY, NULL, AMDVI_CMDBUF_BASE_REG,
					     "AMD-Vi unit 0x%llx: no page for the command buffer",
					     (unsigned long long)u->reg_phys);
		moat_amdvii_flush_range(u, u->cmd, MOAT_PAGE_SIZE);
	}
	if (!u->sem) {
		void *p = moat_pages_alloc(&u->pages, &u->sem_phys);

		if (!p)
			return moat_diag_set(diag, MOAT_ERR_NO_MEMORY, NULL, AMDVI_CMDBUF_BASE_REG,
					     "AMD-Vi unit 0x%llx: no page for the completion semaphore",
					     (unsigned long long)u->reg_phys);
		u->sem = p;
		u->sem_seq = 0;
		moat_amdvii_flush_range(u, p, MOAT_PAGE_SIZE);
	}
	return MOAT_OK;
}

void moat_amdvii_cmd_free(struct moat_amdvi_unit *u)
{
	if (u->cmd)
		moat_pages_free(&u->pages, u->cmd, u->cmd_phys);
	if (u->sem)
		moat_pages_free(&u->pages, (void *)(uintptr_t)u->sem, u->sem_phys);
	u->cmd = NULL;
	u->sem = NULL;
	u->cmd_phys = u->sem_phys = 0;
}

/* ---- encodings ---- */

uint64_t moat_amdvii_cmd_inval_dte(uint16_t devid)
{
	return AMDVI_PREP(AMDVI_CMD_OPCODE, AMDVI_OP_INVALIDATE_DEVTAB_ENTRY) | AMDVI_PREP(AMDVI_IDE0_DEVICE_ID, devid);
}

uint64_t moat_amdvii_cmd_inval_irt(uint16_t devid)
{
	return AMDVI_PREP(AMDVI_CMD_OPCODE, AMDVI_OP_INVALIDATE_INTERRUPT_TABLE) | AMDVI_PREP(AMDVI_IIT0_DEVICE_ID, devid);
}

/*
 * INVALIDATE_IOMMU_PAGES for 2^@order pages at @addr (aligned): S = 0 and the page for one page;
 * S = 1 with address bits 12 .. 12 + order - 2 set and bit 12 + order - 1 clear for a block
 * (section 2.4.3, "Example Page Size Encodings"); the whole domain above AMDVI_IIP_MAX_ORDER.
 */
void moat_amdvii_cmd_inval_pages(uint16_t did, uint64_t addr, unsigned order, bool pde, uint64_t cmd[2])
{
	uint64_t hi;

	if (order == 0)
		hi = addr & AMDVI_IIP1_ADDR;
	else if (order <= AMDVI_IIP_MAX_ORDER)
		hi = AMDVI_IIP1_S | (addr & AMDVI_IIP1_ADDR) | (AMDVI_MASK(11 + order - 1, 0) & AMDVI_IIP1_ADDR);
	else
		hi = AMDVI_IIP1_S | AMDVI_IIP1_ADDR_ALL;
	if (pde)
		hi |= AMDVI_IIP1_PDE;
	cmd[0] = AMDVI_PREP(AMDVI_CMD_OPCODE, AMDVI_OP_INVALIDATE_IOMMU_PAGES) | AMDVI_PREP(AMDVI_IIP0_DOMAIN_ID, did);
	cmd[1] = hi;
}

/* ---- the ring ---- */

static uint32_t head_index(const struct moat_amdvi_unit *u)
{
	return (uint32_t)(AMDVI_GET(AMDVI_RING_PTR, moat_amdvii_read(u, AMDVI_CMDBUF_HEAD_REG)) % AMDVI_RING_ENTRIES);
}

/* Free slots as of the last head read; the register is read again only when that says full. */
static uint32_t free_slots(struct moat_amdvi_unit *u)
{
	uint32_t n = (u->cmd_head + AMDVI_RING_ENTRIES - u->cmd_tail - 1) % AMDVI_RING_ENTRIES;

	if (n)
		return n;
	u->cmd_head = head_index(u);
	return (u->cmd_head + AMDVI_RING_ENTRIES - u->cmd_tail - 1) % AMDVI_RING_ENTRIES;
}

static void publish(struct moat_amdvi_unit *u)
{
	if (u->cmd_tail == u->cmd_tail_hw)
		return;
	moat_plat_wmb();
	moat_amdvii_write(u, AMDVI_CMDBUF_TAIL_REG, AMDVI_PREP(AMDVI_RING_PTR, u->cmd_tail));
	u->cmd_tail_hw = u->cmd_tail;
}

/* The command processor stopped: drop the batch, restart the buffer, report the command. */
static moat_status cmd_error(struct moat_amdvi_unit *u, struct moat_diag *diag)
{
	uint32_t head = head_index(u);
	uint64_t lo = u->cmd[head * 2];
	uint32_t dropped = (u->cmd_tail + AMDVI_RING_ENTRIES - head) % AMDVI_RING_ENTRIES;
	uint64_t ctrl = moat_amdvii_read(u, AMDVI_CONTROL_REG);
	moat_status st;

	moat_amdvii_write(u, AMDVI_CONTROL_REG, ctrl & ~AMDVI_CTRL_CMDBUF_EN);
	st = moat_amdvii_wait(u, AMDVI_STATUS_REG, AMDVI_STS_CMDBUF_RUN, 0,
			      "Status.CmdBufRun clear after Control.CmdBufEn = 0", diag);
	if (st != MOAT_OK)
		return st;
	u->cmd_tail = u->cmd_head = u->cmd_tail_hw;
	moat_amdvii_write(u, AMDVI_CMDBUF_HEAD_REG, AMDVI_PREP(AMDVI_RING_PTR, u->cmd_tail));
	moat_amdvii_write(u, AMDVI_CONTROL_REG, ctrl | AMDVI_CTRL_CMDBUF_EN);
	st = moat_amdvii_wait(u, AMDVI_STATUS_REG, AMDVI_STS_CMDBUF_RUN, AMDVI_STS_CMDBUF_RUN,
			      "Status.CmdBufRun set after restarting the command buffer", diag);
	if (st != MOAT_OK)
		return st;
	return moat_diag_set(diag, MOAT_ERR_HARDWARE, NULL, AMDVI_STATUS_REG,
			     "AMD-Vi unit 0x%llx: Status.CmdBufRun cleared: command processing stopped at command %u "
			     "(opcode 0x%x, at 0x%llx): illegal command or command hardware error; %u queued commands "
			     "dropped, buffer restarted", (unsigned long long)u->reg_phys, (unsigned)head,
			     (unsigned)AMDVI_GET(AMDVI_CMD_OPCODE, lo),
			     (unsigned long long)(u->cmd_phys + head * AMDVI_RING_ENTRY_SIZE), (unsigned)dropped);
}

static bool stopped(const struct moat_amdvi_unit *u)
{
	return !(moat_amdvii_read(u, AMDVI_STATUS_REG) & AMDVI_STS_CMDBUF_RUN);
}

moat_status moat_amdvii_cmd_put(struct moat_amdvi_unit *u, uint64_t lo, uint64_t hi, struct moat_diag *diag)
{
	uint64_t start = moat_plat_time_ns();

	for (uint32_t i = 0; free_slots(u) == 0; i++) {
		publish(u);
		if (stopped(u))
			return cmd_error(u, diag);
		if (!moat_amdvii_waiting(u, start, i)) {
			if (free_slots(u))
				break;
			return moat_diag_set(diag, MOAT_ERR_TIMEOUT, NULL, AMDVI_CMDBUF_HEAD_REG,
					     "AMD-Vi unit 0x%llx: Command Buffer Head Pointer did not advance (buffer full) "
					     "within %llu ns", (unsigned long long)u->reg_phys,
					     (unsigned long long)u->timeout_ns);
		}
	}
	volatile uint64_t *slot = &u->cmd[u->cmd_tail * 2];
	slot[0] = lo;
	slot[1] = hi;
	moat_amdvii_flush_range(u, slot, AMDVI_RING_ENTRY_SIZE);
	u->cmd_tail = (u->cmd_tail + 1) % AMDVI_RING_ENTRIES;
	return MOAT_OK;
}

moat_status moat_amdvii_cmd_sync(struct moat_amdvi_unit *u, struct moat_diag *diag)
{
	uint64_t seq = ++u->sem_seq;
	uint64_t lo = AMDVI_PREP(AMDVI_CMD_OPCODE, AMDVI_OP_COMPLETION_WAIT) | (u->sem_phys & AMDVI_CW0_STORE_ADDR) |
		      AMDVI_CW0_S;
	moat_status st;

	if (!seq)
		seq = u->sem_seq = 1;
	/* Cleared before the wait is queued and compared exactly: only this wait's store ends it,
	 * whatever the word held before. */
	*u->sem = 0;
	moat_amdvii_flush_range(u, (const void *)(uintptr_t)u->sem, sizeof(*u->sem));
	st = moat_amdvii_cmd_put(u, lo, seq, diag);
	if (st != MOAT_OK)
		return st;
	publish(u);

	uint64_t start = moat_plat_time_ns();
	for (uint32_t i = 0;; i++) {
		moat_amdvii_refresh_range(u, u->sem, sizeof(*u->sem));
		if (*u->sem == seq)
			break;
		if (stopped(u))
			return cmd_error(u, diag);
		if (!moat_amdvii_waiting(u, start, i)) {
			moat_amdvii_refresh_range(u, u->sem, sizeof(*u->sem));
			if (*u->sem == seq)
				break;
			return moat_diag_set(diag, MOAT_ERR_TIMEOUT, NULL, AMDVI_CMDBUF_HEAD_REG,
					     "AMD-Vi unit 0x%llx: COMPLETION_WAIT %llu did not store to 0x%llx "
					     "within %llu ns (Command Buffer Head Pointer at %u, tail %u)",
					     (unsigned long long)u->reg_phys, (unsigned long long)seq,
					     (unsigned long long)u->sem_phys, (unsigned long long)u->timeout_ns,
					     (unsigned)head_index(u), (unsigned)u->cmd_tail);
		}
	}
	moat_plat_mb();
	return MOAT_OK;
}

moat_status moat_amdvii_queue_inval_all(struct moat_amdvi_unit *u, struct moat_diag *diag)
{
	moat_status st = MOAT_OK;

	if (u->caps.ia)
		return moat_amdvii_cmd_put(u, AMDVI_PREP(AMDVI_CMD_OPCODE, AMDVI_OP_INVALIDATE_IOMMU_ALL), 0, diag);
	/* Without INVALIDATE_IOMMU_ALL: every entry of the table, every domain id. */
	for (uint32_t id = 0; id < u->dt_entries && st == MOAT_OK; id++)
		st = moat_amdvii_cmd_put(u, moat_amdvii_cmd_inval_dte((uint16_t)id), 0, diag);
	for (uint32_t did = 0; did <= MOAT_AMDVI_DID_MAX && st == MOAT_OK; did++) {
		uint64_t cmd[2];

		moat_amdvii_cmd_inval_pages((uint16_t)did, 0, AMDVI_IIP_MAX_ORDER + 1, true, cmd);
		st = moat_amdvii_cmd_put(u, cmd[0], cmd[1], diag);
	}
	return st;
}

/* ---- public entry points ---- */

static moat_status check_enabled(const struct moat_amdvi_unit *u, const char *op, struct moat_diag *diag)
{
	if (!moat_amdvii_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "AMD-Vi %s: unit not probed", op);
	if (!u->enabled)
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, AMDVI_CONTROL_REG,
				     "AMD-Vi unit 0x%llx: %s needs the command buffer enabled",
				     (unsigned long long)u->reg_phys, op);
	return MOAT_OK;
}

moat_status moat_amdvi_completion_wait(struct moat_amdvi_unit *u, struct moat_diag *diag)
{
	moat_status st = check_enabled(u, "COMPLETION_WAIT", diag);

	return st != MOAT_OK ? st : moat_amdvii_cmd_sync(u, diag);
}

moat_status moat_amdvi_inval_devtab(struct moat_amdvi_unit *u, uint32_t devid, struct moat_diag *diag)
{
	moat_status st = check_enabled(u, "INVALIDATE_DEVTAB_ENTRY", diag);

	if (st != MOAT_OK)
		return st;
	if (devid > 0xffff)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "AMD-Vi: device id 0x%x out of range",
				     (unsigned)devid);
	st = moat_amdvii_cmd_put(u, moat_amdvii_cmd_inval_dte((uint16_t)devid), 0, diag);
	return st != MOAT_OK ? st : moat_amdvii_cmd_sync(u, diag);
}

moat_status moat_amdvi_inval_irt(struct moat_amdvi_unit *u, uint32_t devid, struct moat_diag *diag)
{
	moat_status st = check_enabled(u, "INVALIDATE_INTERRUPT_TABLE", diag);

	if (st != MOAT_OK)
		return st;
	if (devid > 0xffff)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "AMD-Vi: device id 0x%x out of range",
				     (unsigned)devid);
	st = moat_amdvii_cmd_put(u, moat_amdvii_cmd_inval_irt((uint16_t)devid), 0, diag);
	return st != MOAT_OK ? st : moat_amdvii_cmd_sync(u, diag);
}

moat_status moat_amdvi_inval_pages(struct moat_amdvi_unit *u, uint32_t did, uint64_t addr, unsigned order,
				   bool pde, struct moat_diag *diag)
{
	uint64_t cmd[2];
	moat_status st = check_enabled(u, "INVALIDATE_IOMMU_PAGES", diag);

	if (st != MOAT_OK)
		return st;
	if (did > MOAT_AMDVI_DID_MAX)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "AMD-Vi: domain id %u out of range",
				     (unsigned)did);
	if (order <= AMDVI_IIP_MAX_ORDER && (addr & ((MOAT_PAGE_SIZE << order) - 1)))
		return moat_diag_set(diag, MOAT_ERR_ALIGNMENT, NULL, 0,
				     "AMD-Vi: invalidation address 0x%llx not aligned to 2^%u pages",
				     (unsigned long long)addr, order);
	moat_amdvii_cmd_inval_pages((uint16_t)did, addr, order, pde, cmd);
	st = moat_amdvii_cmd_put(u, cmd[0], cmd[1], diag);
	return st != MOAT_OK ? st : moat_amdvii_cmd_sync(u, diag);
}

moat_status moat_amdvi_inval_all(struct moat_amdvi_unit *u, struct moat_diag *diag)
{
	moat_status st = check_enabled(u, "invalidate all", diag);

	if (st == MOAT_OK)
		st = moat_amdvii_queue_inval_all(u, diag);
	return st != MOAT_OK ? st : moat_amdvii_cmd_sync(u, diag);
}

/* Smallest order such that one naturally aligned block of 2^order pages holds pages first..last. */
static unsigned block_order(uint64_t first, uint64_t last)
{
	unsigned order = 0;

	while (order < 52 && (first >> order) != (last >> order))
		order++;
	return order;
}

moat_status moat_amdvi_invalidate(struct moat_amdvi_unit *u, uint32_t did, uint64_t iova, uint64_t size, bool pde,
				  struct moat_diag *diag)
{
	if (!moat_amdvii_probed(u))
		return moat_diag_set(diag, MOAT_ERR_STATE, NULL, 0, "AMD-Vi invalidate: unit not probed");
	if (did > MOAT_AMDVI_DID_MAX)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "AMD-Vi: domain id %u out of range",
				     (unsigned)did);
	if (size && iova + (size - 1) < iova)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "AMD-Vi: range 0x%llx + 0x%llx wraps",
				     (unsigned long long)iova, (unsigned long long)size);
	if (!u->enabled)
		return MOAT_OK;

	unsigned order = AMDVI_IIP_MAX_ORDER + 1;
	uint64_t addr = 0;
	if (size) {
		uint64_t first = iova / MOAT_PAGE_SIZE, last = (iova + (size - 1)) / MOAT_PAGE_SIZE;

		order = block_order(first, last);
		if (order <= AMDVI_IIP_MAX_ORDER)
			addr = (first >> order << order) * MOAT_PAGE_SIZE;
	}
	uint64_t cmd[2];
	moat_amdvii_cmd_inval_pages((uint16_t)did, addr, order, pde, cmd);
	moat_status st = moat_amdvii_cmd_put(u, cmd[0], cmd[1], diag);
	return st != MOAT_OK ? st : moat_amdvii_cmd_sync(u, diag);
}
