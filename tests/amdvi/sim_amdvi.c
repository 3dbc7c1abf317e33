/* SPDX-License-Identifier: BSD-2-Clause */
/* The simulated AMD IOMMU (see sim_amdvi.h). */
#include "sim_amdvi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hosted.h>
#include <moat/platform.h>

#include "hostile.h"

static uint64_t bits(uint64_t v, unsigned hi, unsigned lo)
{
	return (v >> lo) & ((hi - lo == 63) ? ~0ull : ((1ull << (hi - lo + 1)) - 1));
}

static uint64_t addr_of(uint64_t reg)
{
	return reg & 0x000ffffffffff000ull;   /* bits 51:12 */
}

static unsigned ring_entries(uint64_t base_reg)
{
	return 1u << bits(base_reg, 59, 56);
}

/* ---- run state ---- */

static void update_run(struct sim_amdvi *s)
{
	bool on = s->control & SIM_CTL_IOMMU_EN;
	bool cmd = on && (s->control & SIM_CTL_CMDBUF_EN) && !s->halted;
	bool evt = on && (s->control & SIM_CTL_EVTLOG_EN) && !(s->status & SIM_STS_EVT_OVERFLOW);

	if (s->run_stuck) {
		cmd = cmd && (s->status & SIM_STS_CMD_RUN);
		evt = evt && (s->status & SIM_STS_EVT_RUN);
	}
	if (s->stop_stuck) {
		cmd = cmd || (s->status & SIM_STS_CMD_RUN);
		evt = evt || (s->status & SIM_STS_EVT_RUN);
	}
	s->status = (s->status & ~(SIM_STS_CMD_RUN | SIM_STS_EVT_RUN)) | (cmd ? SIM_STS_CMD_RUN : 0) |
		    (evt ? SIM_STS_EVT_RUN : 0);
}

/* ---- event log ---- */

bool sim_amdvi_event_append(struct sim_amdvi *s, uint64_t lo, uint64_t hi)
{
	if (!(s->status & SIM_STS_EVT_RUN)) {
		s->events_dropped++;
		return false;
	}
	unsigned n = ring_entries(s->evtbase);
	unsigned tail = (unsigned)bits(s->evttail, 18, 4) % n;
	unsigned head = (unsigned)bits(s->evthead, 18, 4) % n;
	unsigned next = (tail + 1) % n;

	if (next == head) {
		s->status |= SIM_STS_EVT_OVERFLOW;
		s->overflows++;
		s->events_dropped++;
		update_run(s);
		return false;
	}
	uint64_t *e = moat_plat_phys_to_virt(addr_of(s->evtbase) + tail * 16ull);
	if (!e) {
		s->bad_access++;
		return false;
	}
	e[0] = lo;
	e[1] = hi;
	s->evttail = (uint64_t)next << 4;
	s->events_logged++;
	return true;
}

/* ---- command processor ---- */

static bool cmd_legal(const struct sim_amdvi *s, const uint64_t *c)
{
	switch (bits(c[0], 63, 60)) {
	case 1: /* COMPLETION_WAIT: reserved 59:52 */
		return bits(c[0], 59, 52) == 0;
	case 2: /* INVALIDATE_DEVTAB_ENTRY: only the device id */
		return bits(c[0], 59, 16) == 0 && c[1] == 0;
	case 3: /* INVALIDATE_IOMMU_PAGES: reserved 31:20, 59:48; 11:3 of the address quadword */
		return bits(c[0], 31, 20) == 0 && bits(c[0], 59, 48) == 0 && bits(c[1], 11, 3) == 0;
	case 5: /* INVALIDATE_INTERRUPT_TABLE: only the device id */
		return bits(c[0], 59, 16) == 0 && c[1] == 0;
	case 4: case 6: case 7:
		return true;
	case 8: /* INVALIDATE_IOMMU_ALL: needs EFR.IA, nothing else set */
		return (s->efr & SIM_EFR_IA) && bits(c[0], 59, 0) == 0 && c[1] == 0;
	default:
		return false;
	}
}

static void cmd_execute(struct sim_amdvi *s, const uint64_t *c)
{
	switch (bits(c[0], 63, 60)) {
	case 1:
		if (c[0] & 1) {
			uint64_t *p = moat_plat_phys_to_virt(c[0] & 0x000ffffffffffff8ull);   /* bits 51:3 */

			hostile_handover(s, c[0] & 0x000ffffffffffff8ull, 8, "completion-wait semaphore");
			if (p)
				__atomic_store_n(p, c[1], __ATOMIC_RELEASE);
			else
				s->bad_access++;
		}
		if (c[0] & 2)
			s->status |= SIM_STS_COMWAIT_INT;
		break;
	case 2:
		s->cache[c[0] & 0xffff].valid = false;
		s->inval_done++;
		break;
	case 3: /* INVALIDATE_IOMMU_PAGES, INVALIDATE_IOTLB_PAGES */
	case 4:
		s->inval_done++;
		break;
	case 5:
		s->irte_cache[c[0] & 0xffff].valid = false;
		break;
	case 8:
		for (unsigned i = 0; i < 65536; i++) {
			s->cache[i].valid = false;
			s->irte_cache[i].valid = false;
		}
		s->inval_done++;
		break;
	default:
		break;
	}
}

static void cmd_run(struct sim_amdvi *s, unsigned limit)
{
	if (!(s->status & SIM_STS_CMD_RUN) || s->cmd_stuck)
		return;
	unsigned n = ring_entries(s->cmdbase);
	unsigned head = (unsigned)bits(s->cmdhead, 18, 4) % n;
	unsigned tail = (unsigned)bits(s->cmdtail, 18, 4) % n;

	for (unsigned done = 0; head != tail && done < limit; done++) {
		uint64_t pa = addr_of(s->cmdbase) + head * 16ull;
		uint64_t *c = moat_plat_phys_to_virt(pa);
		bool inject = s->illegal_at && --s->illegal_at == 0;

		if (!c || inject || !cmd_legal(s, c)) {
			s->illegal_cmds++;
			s->halted = true;
			update_run(s);
			sim_amdvi_event_append(s, 5ull << 60, pa);
			break;
		}
		if (s->ncmds < SIM_CMD_MAX) {
			s->cmds[s->ncmds][0] = c[0];
			s->cmds[s->ncmds][1] = c[1];
			s->ncmds++;
		}
		s->op_count[bits(c[0], 63, 60)]++;
		cmd_execute(s, c);
		head = (head + 1) % n;
		if (head == 0)
			s->cmd_wraps++;
	}
	s->cmdhead = (uint64_t)head << 4;
}

static void cmd_kick(struct sim_amdvi *s)
{
	if (!s->lazy)
		cmd_run(s, ~0u);
}

/* ---- registers ---- */

static void control_write(struct sim_amdvi *s, uint64_t v)
{
	uint64_t old = s->control;

	if ((v & SIM_CTL_CMDBUF_EN) && !(old & SIM_CTL_CMDBUF_EN))
		s->halted = false;
	if ((v & SIM_CTL_EVTLOG_EN) && !(old & SIM_CTL_EVTLOG_EN) && (s->status & SIM_STS_EVT_OVERFLOW))
		s->violations++;
	s->control = v;
	update_run(s);
	cmd_kick(s);
}

static uint64_t sim_read(void *ctx, uint64_t off, unsigned width)
{
	struct sim_amdvi *s = ctx;

	if (width != 8 || (off & 7)) {
		s->bad_access++;
		return 0;
	}
	/* The hardware works on its own: pending commands run when software looks (all of them, or
	 * only `lazy` per look). The run bits follow knobs changed by a test. */
	if (off == SIM_CMDHEAD || off == SIM_STATUS) {
		update_run(s);
		cmd_run(s, s->lazy ? s->lazy : ~0u);
	}
	switch (off) {
	case SIM_DEVTAB: return s->devtab;
	case SIM_CMDBASE: return s->cmdbase;
	case SIM_EVTBASE: return s->evtbase;
	case SIM_CONTROL: return s->control;
	case SIM_EXCLBASE: return s->exclbase;
	case SIM_EXCLLIMIT: return s->excllimit;
	case SIM_EFR: return s->efr;
	case SIM_CMDHEAD: return s->cmdhead;
	case SIM_CMDTAIL: return s->cmdtail;
	case SIM_EVTHEAD: return s->evthead;
	case SIM_EVTTAIL: return s->evttail;
	case SIM_STATUS: return s->status;
	}
	s->bad_access++;
	return 0;
}

static void sim_write_reg(void *ctx, uint64_t off, unsigned width, uint64_t v)
{
	struct sim_amdvi *s = ctx;
	const uint64_t ptr_mask = 0x7fff0ull;   /* bits 18:4 */

	if (s->nlog < SIM_LOG_MAX)
		s->log[s->nlog++] = (struct sim_write){ (uint32_t)off, width, v, s->control, s->status };
	if (width != 8 || (off & 7)) {
		s->bad_access++;
		return;
	}
	switch (off) {
	case SIM_DEVTAB:
		if (s->control & SIM_CTL_IOMMU_EN)
			s->violations++;
		s->devtab = v & 0x000ffffffffff1ffull;
		hostile_handover(s, addr_of(s->devtab), (bits(s->devtab, 8, 0) + 1) * 4096ull, "device table");
		return;
	case SIM_CMDBASE:
		if (s->control & SIM_CTL_CMDBUF_EN)
			s->violations++;
		s->cmdbase = v & 0x0f0ffffffffff000ull;
		hostile_handover(s, addr_of(s->cmdbase), ring_entries(s->cmdbase) * 16ull, "command buffer");
		return;
	case SIM_EVTBASE:
		if (s->control & SIM_CTL_EVTLOG_EN)
			s->violations++;
		s->evtbase = v & 0x0f0ffffffffff000ull;
		hostile_handover(s, addr_of(s->evtbase), ring_entries(s->evtbase) * 16ull, "event log");
		return;
	case SIM_CONTROL:
		control_write(s, v);
		return;
	case SIM_EXCLBASE:
		s->exclbase = v & 0x000ffffffffff003ull;
		return;
	case SIM_EXCLLIMIT:
		s->excllimit = v & 0x000ffffffffff000ull;
		return;
	case SIM_CMDHEAD:
		if (s->status & SIM_STS_CMD_RUN)
			s->violations++;
		s->cmdhead = v & ptr_mask;
		return;
	case SIM_CMDTAIL:
		s->cmdtail = v & ptr_mask;
		cmd_kick(s);
		return;
	case SIM_EVTHEAD:
		s->evthead = v & ptr_mask;
		return;
	case SIM_EVTTAIL:
		if (s->status & SIM_STS_EVT_RUN)
			s->violations++;
		s->evttail = v & ptr_mask;
		return;
	case SIM_STATUS:
		s->status &= ~(v & (SIM_STS_EVT_OVERFLOW | SIM_STS_EVT_INT | SIM_STS_COMWAIT_INT));
		update_run(s);
		return;
	}
	s->bad_access++;
}

static const struct moat_hosted_mmio_ops sim_ops = { sim_read, sim_write_reg };

/* ---- what a device gets through the IOMMU (the hostile device's view) ---- */

/*
 * Section 2.2.2.1: V = 0 lets a request through with no checks at all; V = 1, TV = 0 blocks it;
 * TV = 1 with Mode 0 passes it through untranslated, Mode 1..6 translates through that many levels
 * of tables at the root (bits 51:12); IR (61) and IW (62) are the permissions. Mode 7 is reserved.
 */
static void sim_grants(void *hw, hostile_grant_fn fn, void *ctx)
{
	const struct sim_amdvi *s = hw;
	const uint32_t n = sim_amdvi_dte_count(s);

	if (!(s->control & SIM_CTL_IOMMU_EN) || !addr_of(s->devtab))
		return;
	for (uint32_t id = 0; id < n && id <= 0xffff; id += 128) {
		const uint64_t *page = moat_plat_phys_to_virt(addr_of(s->devtab) + id * 32ull);

		for (uint32_t k = 0; page && k < 128; k++) {
			const uint64_t q0 = __atomic_load_n(&page[k * 4], __ATOMIC_RELAXED);
			const unsigned mode = (unsigned)bits(q0, 11, 9);
			struct hostile_grant g = { .rid = id + k, .perm = MOAT_PT_READ | MOAT_PT_WRITE };

			if (q0 & 1) {
				if (!(q0 & 2) || mode == 7)
					continue;
				g.perm = (bits(q0, 61, 61) ? MOAT_PT_READ : 0u) |
					 (bits(q0, 62, 62) ? MOAT_PT_WRITE : 0u);
				if (mode == 0) {
					g.pass = true;
				} else {
					g.root = addr_of(q0);
					g.format = MOAT_PT_AMD_V1;
					g.levels = mode;
				}
			} else {
				g.pass = true;
			}
			fn(ctx, &g);
		}
	}
}

static uint64_t sim_epoch(void *hw)
{
	return ((const struct sim_amdvi *)hw)->inval_done;
}

/* The device table, the command buffer and the event log as programmed. */
static void sim_uses(void *hw, void (*fn)(void *ctx, uint64_t phys), void *ctx)
{
	const struct sim_amdvi *s = hw;

	for (uint64_t off = 0; addr_of(s->devtab) && off < (bits(s->devtab, 8, 0) + 1) * 4096ull; off += 4096)
		fn(ctx, addr_of(s->devtab) + off);
	for (uint64_t off = 0; addr_of(s->cmdbase) && off < ring_entries(s->cmdbase) * 16ull; off += 4096)
		fn(ctx, addr_of(s->cmdbase) + off);
	for (uint64_t off = 0; addr_of(s->evtbase) && off < ring_entries(s->evtbase) * 16ull; off += 4096)
		fn(ctx, addr_of(s->evtbase) + off);
}

static const struct hostile_hw_ops sim_hostile_ops = { sim_grants, sim_epoch, sim_uses };

struct sim_amdvi *sim_amdvi_new(uint64_t base, uint64_t efr)
{
	struct sim_amdvi *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	s->cache = calloc(65536, sizeof(*s->cache));
	s->irte_cache = calloc(65536, sizeof(*s->irte_cache));
	if (!s->cache || !s->irte_cache)
		abort();
	s->base = base;
	s->efr = efr;
	/* An IOMMU left behind by a failed test must not shadow this one. */
	moat_hosted_mmio_remove(base);
	if (moat_hosted_mmio_add(base, SIM_MMIO_SIZE, &sim_ops, s) != 0)
		abort();
	char name[48];
	snprintf(name, sizeof(name), "AMD-Vi IOMMU at 0x%llx", (unsigned long long)base);
	hostile_hw_add(s, &sim_hostile_ops, name);
	return s;
}

void sim_amdvi_free(struct sim_amdvi *s)
{
	if (!s)
		return;
	hostile_hw_remove(s);
	moat_hosted_mmio_remove(s->base);
	free(s->cache);
	free(s->irte_cache);
	free(s);
}

uint32_t sim_amdvi_dte_count(const struct sim_amdvi *s)
{
	return ((uint32_t)bits(s->devtab, 8, 0) + 1) * 128;
}

const uint64_t *sim_amdvi_dte(const struct sim_amdvi *s, uint32_t devid)
{
	if (!addr_of(s->devtab) || devid >= sim_amdvi_dte_count(s))
		return NULL;
	return moat_plat_phys_to_virt(addr_of(s->devtab) + devid * 32ull);
}

enum sim_req sim_amdvi_request(struct sim_amdvi *s, uint32_t devid, uint64_t dte[2])
{
	if (!(s->control & SIM_CTL_IOMMU_EN))
		return SIM_REQ_IOMMU_OFF;
	if (devid >= sim_amdvi_dte_count(s) || devid > 0xffff)
		return SIM_REQ_BEYOND_TABLE;
	struct sim_dte_cache *c = &s->cache[devid];
	if (!c->valid) {
		const uint64_t *e = sim_amdvi_dte(s, devid);
		if (!e) {
			s->bad_access++;
			return SIM_REQ_BLOCKED;
		}
		memcpy(c->q, e, sizeof(c->q));
		c->valid = true;
	}
	if (dte) {
		dte[0] = c->q[0];
		dte[1] = c->q[1];
	}
	if (!(c->q[0] & 1))
		return SIM_REQ_UNTRANSLATED;
	if (!(c->q[0] & 2) || !(c->q[0] & (3ull << 61)))
		return SIM_REQ_BLOCKED;
	return SIM_REQ_TRANSLATED;
}

int sim_amdvi_find_write(const struct sim_amdvi *s, uint32_t off, unsigned from)
{
	for (unsigned i = from; i < s->nlog; i++)
		if (s->log[i].off == off)
			return (int)i;
	return -1;
}

unsigned sim_amdvi_count_writes(const struct sim_amdvi *s, uint32_t off)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->nlog; i++)
		n += s->log[i].off == off;
	return n;
}

unsigned sim_amdvi_count_cmds(const struct sim_amdvi *s, unsigned opcode, unsigned from)
{
	unsigned n = 0;

	for (unsigned i = from; i < s->ncmds; i++)
		n += bits(s->cmds[i][0], 63, 60) == opcode;
	return n;
}

/* ---- interrupt requests (2.2.5) ---- */

static bool irq_block(struct sim_amdvi *s, struct sim_amdvi_irq *out, unsigned code, uint32_t devid, uint64_t lo_extra,
		      uint64_t addr, bool log)
{
	out->how = SIM_IRQ_BLOCKED;
	out->event = log ? code : 0;
	if (log && sim_amdvi_event_append(s, (uint64_t)devid | lo_extra | (uint64_t)code << 60, addr))
		s->irq_events++;
	return false;
}

/* Passed as it is: a compatibility-format message (destination 19:12, DM 2; vector 7:0). */
static bool irq_pass(struct sim_amdvi_irq *out, uint64_t addr, uint32_t data)
{
	out->how = SIM_IRQ_PASSED;
	out->dest = (uint32_t)bits(addr, 19, 12);
	out->logical = (addr >> 2) & 1;
	out->vector = (uint8_t)data;
	return true;
}

bool sim_amdvi_msi(struct sim_amdvi *s, uint32_t devid, uint64_t addr, uint32_t data, struct sim_amdvi_irq *out)
{
	/* IO_PAGE_FAULT flags (flags field 59:48): I bit 3, RW bit 5. */
	const uint64_t pf_flags = (0x008ull | 0x020ull) << 48;
	uint64_t dte[2];

	memset(out, 0, sizeof(*out));
	enum sim_req r = sim_amdvi_request(s, devid, dte);
	if (r == SIM_REQ_IOMMU_OFF || r == SIM_REQ_UNTRANSLATED)
		return irq_pass(out, addr, data);
	if (r == SIM_REQ_BEYOND_TABLE)
		return irq_block(s, out, 0, devid, 0, addr, false);
	uint64_t q2 = s->cache[devid].q[2];
	if (!(q2 & 1))                                  /* IV = 0: unmapped */
		return irq_pass(out, addr, data);

	unsigned mt = (unsigned)bits(data, 10, 8);
	if (mt == 4 || mt == 5 || mt == 7) {            /* NMI, INIT, ExtInt: the pass bits 58, 56, 57 */
		unsigned bit = mt == 4 ? 58 : mt == 5 ? 56 : 57;

		if ((q2 >> bit) & 1)
			return irq_pass(out, addr, data);
		return irq_block(s, out, 2, devid, pf_flags, addr, true);
	}
	if (mt > 1)                                     /* SMI, reserved */
		return irq_block(s, out, 2, devid, pf_flags, addr, true);

	switch (bits(q2, 61, 60)) {
	case 0:   /* target abort: INVALID_DEVICE_REQUEST, type 101b (59:57) */
		return irq_block(s, out, 8, devid, 5ull << 57, addr, true);
	case 1:
		return irq_pass(out, addr, data);
	case 3:   /* reserved: ILLEGAL_DEV_TABLE_ENTRY */
		return irq_block(s, out, 1, devid, 0x008ull << 48, addr, true);
	default:
		break;
	}
	uint32_t offset = (uint32_t)bits(data, 10, 0);
	uint32_t len = 1u << bits(q2, 4, 1);
	bool ga = s->control & SIM_CTL_GA_EN;
	if (offset >= len)
		return irq_block(s, out, 2, devid, pf_flags, addr, true);

	struct sim_irte_cache *c = &s->irte_cache[devid];
	uint64_t lo, hi;
	if (c->valid && c->index == offset) {
		lo = c->lo;
		hi = c->hi;
		out->cached = true;
	} else {
		uint64_t root = q2 & 0x000fffffffffffc0ull;   /* bits 51:6 */
		void *p = moat_plat_phys_to_virt((root & ~0xfffull) + (root & 0xfff) + offset * (ga ? 16ull : 4ull));

		if (!p) {
			s->bad_access++;
			return irq_block(s, out, 2, devid, pf_flags, addr, true);
		}
		if (ga) {
			lo = ((uint64_t *)p)[0];
			hi = ((uint64_t *)p)[1];
		} else {
			lo = *(uint32_t *)p;
			hi = 0;
		}
		*c = (struct sim_irte_cache){ true, offset, lo, hi };
	}
	/* RemapEn bit 0; SupIOPF bit 1; IntType 4:2; DM 6; GuestMode 7 (GA). */
	if (!(lo & 1))
		return irq_block(s, out, 2, devid, pf_flags, addr, !((lo >> 1) & 1));
	if (bits(lo, 4, 2) > 1 || (ga && ((lo >> 7) & 1)))
		return irq_block(s, out, 2, devid, pf_flags | (0x080ull << 48), addr, true);
	out->how = SIM_IRQ_REMAPPED;
	out->index = offset;
	out->int_type = (uint8_t)bits(lo, 4, 2);
	out->logical = (lo >> 6) & 1;
	if (ga) {
		/* destination 23:0 in bits 31:8, 31:24 in the high quadword's 63:56 (used with XTEn) */
		out->dest = (uint32_t)bits(lo, 31, 8) | ((s->control & SIM_CTL_XT_EN) ? (uint32_t)bits(hi, 63, 56) << 24 : 0);
		if (!(s->control & SIM_CTL_XT_EN))
			out->dest &= 0xff;
		out->vector = (uint8_t)hi;
	} else {
		out->dest = (uint32_t)bits(lo, 15, 8);
		out->vector = (uint8_t)bits(lo, 23, 16);
	}
	return true;
}
