/* SPDX-License-Identifier: BSD-2-Clause */
/* The simulated VT-d unit (see sim_vtd.h). */
#include "sim_vtd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hosted.h>
#include <moat/platform.h>

#include "hostile.h"

#define PERSISTENT_MASK 0x96FFFFFFu

static uint64_t field(uint64_t v, unsigned hi, unsigned lo)
{
	return (v >> lo) & ((hi - lo == 63) ? ~0ull : ((1ull << (hi - lo + 1)) - 1));
}

/* ---- fault records ---- */

static bool frcd_pending(const struct sim_vtd *s, unsigned i)
{
	return (s->frcd[i][1] >> 63) & 1;
}

static uint32_t fsts_read(const struct sim_vtd *s)
{
	uint32_t v = s->fsts;

	for (unsigned k = 0; k < s->nfr; k++) {
		unsigned i = (s->frcd_next + k) % s->nfr;
		if (frcd_pending(s, i)) {
			v |= SIM_PPF | (i << 8);
			break;
		}
	}
	return v;
}

bool sim_vtd_inject_fault(struct sim_vtd *s, uint64_t lo, uint64_t hi)
{
	if (s->fsts & SIM_PFO) {
		s->faults_dropped++;
		return false;
	}
	unsigned i = s->frcd_next;
	if (frcd_pending(s, i)) {
		s->fsts |= SIM_PFO;
		s->faults_dropped++;
		return false;
	}
	s->frcd[i][0] = lo;
	s->frcd[i][1] = hi | (1ull << 63);
	s->frcd_next = (i + 1) % s->nfr;
	return true;
}

/* ---- interrupt entry cache (6.5.2.7: G bit 4, IM 31:27, IIDX 47:32) ---- */

static void iec_invalidate(struct sim_vtd *s, uint64_t d0)
{
	if (!((d0 >> 4) & 1)) {
		memset(s->iec, 0, 65536 * sizeof(*s->iec));
		s->iec_global++;
		return;
	}
	unsigned im = (unsigned)field(d0, 31, 27);
	uint32_t first = (uint32_t)field(d0, 47, 32) & ~((1u << im) - 1);

	for (uint32_t i = first; i < first + (1u << im) && i < 65536; i++)
		s->iec[i].valid = false;
	s->iec_index++;
}

/* ---- invalidation queue ---- */

static void queue_run(struct sim_vtd *s)
{
	if (!(s->gsts & SIM_QIE) || s->iq_stuck || (s->fsts & SIM_IQE))
		return;
	unsigned entries = 256u << (s->iqa & 7);
	uint64_t base = s->iqa & ~0xfffull;
	unsigned head = (unsigned)field(s->iqh, 18, 4) % entries;
	unsigned tail = (unsigned)field(s->iqt, 18, 4) % entries;

	while (head != tail) {
		uint64_t *d = moat_plat_phys_to_virt(base + head * 16ull);
		unsigned type = d ? (unsigned)(d[0] & 0xf) : 0;
		bool inject = s->iqe_at && --s->iqe_at == 0;

		if (!d || inject || type < 1 || type > 7) {
			s->fsts |= SIM_IQE;
			s->iqercd = 1;
			break;
		}
		if (s->ndesc < SIM_DESC_MAX) {
			s->desc[s->ndesc][0] = d[0];
			s->desc[s->ndesc][1] = d[1];
			s->ndesc++;
		}
		if (type == 4)
			iec_invalidate(s, d[0]);
		if (type >= 1 && type <= 3)
			s->inval_done++;   /* context cache, IOTLB, device TLB (section 6.5.2) */
		if (type == 5) {
			if ((d[0] >> 5) & 1) {
				uint32_t *status = moat_plat_phys_to_virt(d[1] & ~3ull);

				hostile_handover(s, d[1] & ~3ull, 4, "wait status");
				if (status)
					*status = (uint32_t)(d[0] >> 32);
				else
					s->bad_access++;
			}
			if ((d[0] >> 4) & 1)
				s->ics |= 1;
			if (s->ite_next) {
				s->ite_next = false;
				s->fsts |= SIM_ITE;
			}
		}
		head = (head + 1) % entries;
		if (head == 0)
			s->iq_wraps++;
	}
	s->iqh = (uint64_t)head << 4;
}

/* ---- global command ---- */

static void gcmd_write(struct sim_vtd *s, uint32_t v)
{
	uint32_t expect = s->gsts & PERSISTENT_MASK;
	uint32_t diff = v ^ expect;

	/* Exactly one bit may differ from the persistent status: the command being given. */
	if (__builtin_popcount(diff) != 1 || ((diff & SIM_ONE_SHOT) && !(v & diff)))
		s->gcmd_violations++;

	uint32_t next = s->gsts;
	static const uint32_t persistent[] = { SIM_TE, SIM_EAFL, SIM_QIE, SIM_IRE, SIM_CFI };
	for (unsigned i = 0; i < sizeof(persistent) / sizeof(persistent[0]); i++) {
		uint32_t b = persistent[i];
		if (s->stuck & b)
			continue;
		next = (v & b) ? (next | b) : (next & ~b);
	}
	if (v & SIM_SRTP) {
		s->rtaddr_latched = s->rtaddr;
		hostile_handover(s, s->rtaddr & 0x000ffffffffff000ull, 4096, "root table");
		s->gsts &= ~SIM_SRTP;          /* RTPS clears when the command arrives */
		next &= ~SIM_SRTP;
		if (!(s->stuck & SIM_SRTP))
			next |= SIM_SRTP;
	}
	if (v & SIM_SFL)
		next |= SIM_SFL;
	if (v & SIM_SIRTP) {
		s->irta_latched = s->irta;
		s->gsts &= ~SIM_SIRTP;
		next &= ~SIM_SIRTP;
		if (!(s->stuck & SIM_SIRTP))
			next |= SIM_SIRTP;
	}
	if (v & SIM_WBF) {
		if (s->stuck & SIM_WBF) {
			s->gsts |= SIM_WBF;    /* the flush never finishes */
			next |= SIM_WBF;
		} else {
			next &= ~SIM_WBF;
		}
	}
	if ((next & SIM_QIE) && !(s->gsts & SIM_QIE))
		s->iqh = 0;

	if (s->gsts_delay) {
		s->pending_gsts = next;
		s->pending_reads = s->gsts_delay;
		s->pending = true;
	} else {
		s->gsts = next;
	}
}

static uint32_t gsts_read(struct sim_vtd *s)
{
	s->gsts_reads++;
	if (s->pending && --s->pending_reads == 0) {
		s->gsts = s->pending_gsts;
		s->pending = false;
	}
	return s->gsts;
}

/* ---- register-based invalidation ---- */

static void ccmd_write(struct sim_vtd *s, uint64_t v)
{
	s->ccmd = v;
	if (!(v >> 63))
		return;
	if (s->gsts & SIM_QIE)
		s->reg_inval_while_qi++;
	if (s->ccmd_stuck)
		return;
	s->inval_done++;
	uint64_t cirg = field(v, 62, 61);
	s->ccmd = (v & ~(1ull << 63) & ~(3ull << 59)) | (cirg << 59);
}

static void iotlb_write(struct sim_vtd *s, uint64_t v)
{
	s->iotlb = v;
	if (!(v >> 63))
		return;
	if (s->gsts & SIM_QIE)
		s->reg_inval_while_qi++;
	if (s->iotlb_stuck)
		return;
	s->inval_done++;
	uint64_t iirg = field(v, 61, 60);
	s->iotlb = (v & ~(1ull << 63) & ~(3ull << 57)) | (iirg << 57);
}

/* ---- register file ---- */

static uint64_t *reg64(struct sim_vtd *s, uint64_t off)
{
	switch (off) {
	case SIM_CAP: return &s->cap;
	case SIM_ECAP: return &s->ecap;
	case SIM_RTADDR: return &s->rtaddr;
	case SIM_CCMD: return &s->ccmd;
	case SIM_IQH: return &s->iqh;
	case SIM_IQT: return &s->iqt;
	case SIM_IQA: return &s->iqa;
	case SIM_IQERCD: return &s->iqercd;
	case SIM_IRTA: return &s->irta;
	}
	if (off == s->iro)
		return &s->iva;
	if (off == s->iro + 8)
		return &s->iotlb;
	if (off >= s->fro && off < s->fro + s->nfr * 16ull)
		return &s->frcd[(off - s->fro) / 16][((off - s->fro) % 16) / 8];
	return NULL;
}

static uint64_t sim_read(void *ctx, uint64_t off, unsigned width)
{
	struct sim_vtd *s = ctx;

	if (width == 4) {
		switch (off) {
		case SIM_VER: return s->ver;
		case SIM_GCMD: return 0;
		case SIM_GSTS: return gsts_read(s);
		case SIM_FSTS: return fsts_read(s);
		case SIM_FECTL: return s->fectl;
		case SIM_FEDATA: return s->fedata;
		case SIM_FEADDR: return s->feaddr;
		case SIM_FEUADDR: return s->feuaddr;
		case SIM_PMEN: return s->pmen;
		case SIM_ICS: return s->ics;
		}
		uint64_t *r = reg64(s, off & ~7ull);
		if (r)
			return (off & 4) ? (*r >> 32) : (uint32_t)*r;
	} else {
		uint64_t *r = (off & 7) ? NULL : reg64(s, off);
		if (r)
			return *r;
	}
	s->bad_access++;
	return 0;
}

static void sim_write_reg(void *ctx, uint64_t off, unsigned width, uint64_t v)
{
	struct sim_vtd *s = ctx;

	if (s->nlog < SIM_LOG_MAX)
		s->log[s->nlog++] = (struct sim_write){ (uint32_t)off, width, v, s->gsts };

	if (width == 4) {
		uint32_t w = (uint32_t)v;
		switch (off) {
		case SIM_GCMD: gcmd_write(s, w); return;
		case SIM_FSTS:
			s->fsts &= ~(w & (SIM_PFO | SIM_IQE | SIM_ICE | SIM_ITE));
			if (w & SIM_IQE)
				queue_run(s);
			return;
		case SIM_FECTL: s->fectl = w & (1u << 31); return;
		case SIM_FEDATA: s->fedata = w; return;
		case SIM_FEADDR: s->feaddr = w; return;
		case SIM_FEUADDR: s->feuaddr = w; return;
		case SIM_PMEN: s->pmen = (w & (1u << 31)) | ((w >> 31) & 1); return;
		case SIM_ICS: s->ics &= ~(w & 1); return;
		}
		/* F of a fault record, through the dword holding bit 127 (write 1 to clear) */
		if (off >= s->fro && off < s->fro + s->nfr * 16ull && (off - s->fro) % 16 == 12) {
			if (w >> 31)
				s->frcd[(off - s->fro) / 16][1] &= ~(1ull << 63);
			return;
		}
	} else if (width == 8 && !(off & 7)) {
		switch (off) {
		case SIM_RTADDR: s->rtaddr = v; return;
		case SIM_CCMD: ccmd_write(s, v); return;
		case SIM_IQT:
			s->iqt = v & 0x7fff0;
			queue_run(s);
			return;
		case SIM_IQA:
			if (s->gsts & SIM_QIE) {
				s->bad_access++;
			} else {
				s->iqa = v;
				hostile_handover(s, v & 0x000ffffffffff000ull, 4096ull << (v & 7),
						 "invalidation queue");
			}
			return;
		case SIM_IRTA: s->irta = v; return;
		}
		if (off == s->iro) {
			s->iva = v;
			return;
		}
		if (off == s->iro + 8) {
			iotlb_write(s, v);
			return;
		}
		if (off >= s->fro && off < s->fro + s->nfr * 16ull && (off - s->fro) % 16 == 8) {
			if (v >> 63)
				s->frcd[(off - s->fro) / 16][1] &= ~(1ull << 63);
			return;
		}
	}
	s->bad_access++;
}

static const struct moat_hosted_mmio_ops sim_ops = { sim_read, sim_write_reg };

/* ---- what a device gets through the unit (the hostile device's view) ---- */

/*
 * Legacy mode: the root table the last SRTP latched, a root entry per bus (section 9.1: P bit 0,
 * context-table pointer 63:12), a context entry per device:function (9.3: P bit 0, TT 3:2, second-
 * stage pointer 63:12; AW 66:64, i.e. bits 2:0 of the high word). TT 0 and 1 translate through
 * second-stage tables of AW + 2 levels, TT 2 passes requests through when ECAP.PT (bit 6) is set;
 * anything else faults.
 */
static void sim_grants(void *hw, hostile_grant_fn fn, void *ctx)
{
	const struct sim_vtd *s = hw;
	const uint64_t *rt;

	if (!(s->gsts & SIM_TE))
		return;
	rt = moat_plat_phys_to_virt(s->rtaddr_latched & 0x000ffffffffff000ull);
	if (!rt)
		return;
	for (unsigned bus = 0; bus < 256; bus++) {
		uint64_t re = __atomic_load_n(&rt[bus * 2], __ATOMIC_RELAXED);
		const uint64_t *ct;

		if (!(re & 1) || !(ct = moat_plat_phys_to_virt(re & 0x000ffffffffff000ull)))
			continue;
		for (unsigned devfn = 0; devfn < 256; devfn++) {
			uint64_t lo = __atomic_load_n(&ct[devfn * 2], __ATOMIC_RELAXED);
			uint64_t hi = __atomic_load_n(&ct[devfn * 2 + 1], __ATOMIC_RELAXED);
			unsigned tt = (unsigned)field(lo, 3, 2), aw = (unsigned)field(hi, 2, 0);
			struct hostile_grant g = { .rid = bus << 8 | devfn, .perm = MOAT_PT_READ | MOAT_PT_WRITE };

			if (!(lo & 1))
				continue;
			if (tt == 2) {
				if (!((s->ecap >> 6) & 1))
					continue;
				g.pass = true;
			} else if (tt <= 1 && aw >= 1 && aw <= 3) {
				g.root = lo & 0x000ffffffffff000ull;
				g.format = MOAT_PT_VTD_SL;
				g.levels = aw + 2;
			} else {
				continue;
			}
			fn(ctx, &g);
		}
	}
}

static uint64_t sim_epoch(void *hw)
{
	return ((const struct sim_vtd *)hw)->inval_done;
}

/* The root table the unit walks, the context tables its present root entries point at, the queue. */
static void sim_uses(void *hw, void (*fn)(void *ctx, uint64_t phys), void *ctx)
{
	const struct sim_vtd *s = hw;
	const uint64_t root = s->rtaddr_latched & 0x000ffffffffff000ull;
	const uint64_t *rt = root ? moat_plat_phys_to_virt(root) : NULL;

	if (rt) {
		fn(ctx, root);
		for (unsigned bus = 0; bus < 256; bus++)
			if (rt[bus * 2] & 1)
				fn(ctx, rt[bus * 2] & 0x000ffffffffff000ull);
	}
	if (s->gsts & SIM_QIE)
		for (uint64_t off = 0; off < (4096ull << (s->iqa & 7)); off += 4096)
			fn(ctx, (s->iqa & 0x000ffffffffff000ull) + off);
}

static const struct hostile_hw_ops sim_hostile_ops = { sim_grants, sim_epoch, sim_uses };

struct sim_vtd *sim_vtd_new(uint64_t base, uint64_t cap, uint64_t ecap)
{
	struct sim_vtd *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	s->iec = calloc(65536, sizeof(*s->iec));
	if (!s->iec)
		abort();
	s->base = base;
	s->size = 4096;
	s->ver = 0x10;
	s->cap = cap;
	s->ecap = ecap;
	s->fro = (uint32_t)field(cap, 33, 24) * 16;
	s->nfr = (uint32_t)field(cap, 47, 40) + 1;
	s->iro = (uint32_t)field(ecap, 17, 8) * 16;
	if (s->nfr > SIM_NFR_MAX)
		abort();
	/* A unit left behind by a failed test must not shadow this one. */
	moat_hosted_mmio_remove(base);
	if (moat_hosted_mmio_add(base, s->size, &sim_ops, s) != 0)
		abort();
	char name[48];
	snprintf(name, sizeof(name), "VT-d unit at 0x%llx", (unsigned long long)base);
	hostile_hw_add(s, &sim_hostile_ops, name);
	return s;
}

void sim_vtd_free(struct sim_vtd *s)
{
	if (!s)
		return;
	hostile_hw_remove(s);
	moat_hosted_mmio_remove(s->base);
	free(s->iec);
	free(s);
}

struct moat_unit_desc sim_vtd_desc(const struct sim_vtd *s, uint16_t segment)
{
	struct moat_unit_desc d;

	memset(&d, 0, sizeof(d));
	d.vendor = MOAT_VENDOR_VTD;
	d.segment = segment;
	d.register_base = s->base;
	d.register_size = s->size;
	return d;
}

int sim_vtd_find_write(const struct sim_vtd *s, uint32_t off, unsigned from)
{
	for (unsigned i = from; i < s->nlog; i++)
		if (s->log[i].off == off)
			return (int)i;
	return -1;
}

unsigned sim_vtd_count_writes(const struct sim_vtd *s, uint32_t off)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->nlog; i++)
		n += s->log[i].off == off;
	return n;
}

/* ---- interrupt requests (chapter 5) ---- */

static bool blocked(struct sim_vtd *s, struct sim_vtd_irq *out, unsigned reason, uint32_t index, uint16_t rid, bool fpd)
{
	out->delivered = false;
	out->reason = reason;
	out->index = index;
	/* Fault record (10.4.14): FI[63:48] the index, FR 39:32, SID 15:0; T1 = 0 (a write). */
	if (!fpd)
		sim_vtd_inject_fault(s, (uint64_t)index << 48, ((uint64_t)reason << 32) | rid);
	return false;
}

/* A compatibility-format message (Intel SDM vol. 3, 11.11): destination 19:12, RH 3, DM 2;
 * vector 7:0, delivery mode 10:8, level 15. */
static bool compat(struct sim_vtd_irq *out, uint64_t addr, uint32_t data)
{
	out->delivered = true;
	out->remapped = false;
	out->dest = (uint32_t)field(addr, 19, 12);
	out->rh = (addr >> 3) & 1;
	out->logical = (addr >> 2) & 1;
	out->vector = (uint8_t)data;
	out->delivery = (uint8_t)field(data, 10, 8);
	out->level = (data >> 15) & 1;
	return true;
}

/* Requester @rid against the entry's SID under SQ (9.10: 01b ignore SID[2], 10b [2:1], 11b [2:0]). */
static bool sid_matches(uint64_t hi, uint16_t rid)
{
	unsigned svt = (unsigned)field(hi, 19, 18), sq = (unsigned)field(hi, 17, 16);
	uint16_t sid = (uint16_t)hi;
	static const uint16_t ignore[4] = { 0, 0x4, 0x6, 0x7 };

	if (svt == 0)
		return true;
	if (svt == 1)
		return ((sid ^ rid) & ~ignore[sq]) == 0;
	/* 10b: the requester's bus in SID[15:8]..SID[7:0] */
	return (rid >> 8) >= (sid >> 8) && (rid >> 8) <= (sid & 0xff);
}

bool sim_vtd_msi(struct sim_vtd *s, uint16_t rid, uint64_t addr, uint32_t data, struct sim_vtd_irq *out)
{
	memset(out, 0, sizeof(*out));
	if (!(s->gsts & SIM_IRE))
		return compat(out, addr, data);
	/* Interrupt format (5.1.5.2): bit 4 of the address. */
	if (!((addr >> 4) & 1)) {
		if (s->gsts & SIM_CFI)
			return compat(out, addr, data);
		return blocked(s, out, 0x25, 0, rid, false);
	}
	uint32_t handle = (uint32_t)field(addr, 19, 5) | (uint32_t)((addr >> 2) & 1) << 15;
	uint32_t index = handle;
	if ((addr >> 3) & 1) {                         /* SHV: the data is the subhandle */
		if (data >> 16)
			return blocked(s, out, 0x20, handle, rid, false);
		index = handle + (data & 0xffff);
	}
	uint32_t entries = 2u << field(s->irta_latched, 3, 0);
	if (index >= entries || index > 0xffff)
		return blocked(s, out, 0x21, index & 0xffff, rid, false);

	struct sim_iec *c = &s->iec[index];
	uint64_t lo, hi;
	if (c->valid) {
		lo = c->lo;
		hi = c->hi;
		out->cached = true;
	} else {
		uint64_t *e = moat_plat_phys_to_virt((s->irta_latched & ~0xfffull) + index * 16ull);
		if (!e)
			return blocked(s, out, 0x23, index, rid, false);
		lo = e[0];
		hi = e[1];
		/* Only present entries are cached. */
		if (lo & 1) {
			c->valid = true;
			c->lo = lo;
			c->hi = hi;
		}
	}
	bool fpd = (lo >> 1) & 1, eime = (s->irta_latched >> 11) & 1;
	if (!(lo & 1))
		return blocked(s, out, 0x22, index, rid, fpd);
	/* Reserved: 14:12, 31:24, IM without posted-interrupt support, xAPIC DST bits other than 15:8,
	 * high 63:20, SVT 11b. */
	uint64_t rsvd_lo = (7ull << 12) | (0xffull << 24) | (eime ? 0 : 0xffff00ff00000000ull) |
			   (((s->cap >> 59) & 1) ? 0 : 1ull << 15);
	if ((lo & rsvd_lo) || (hi >> 20) || field(hi, 19, 18) == 3)
		return blocked(s, out, 0x24, index, rid, fpd);
	if (!sid_matches(hi, rid))
		return blocked(s, out, 0x26, index, rid, fpd);

	out->delivered = true;
	out->remapped = true;
	out->index = index;
	out->vector = (uint8_t)field(lo, 23, 16);
	out->dest = eime ? (uint32_t)(lo >> 32) : (uint32_t)field(lo, 47, 40);
	out->logical = (lo >> 2) & 1;
	out->rh = (lo >> 3) & 1;
	out->level = (lo >> 4) & 1;
	out->delivery = (uint8_t)field(lo, 7, 5);
	return true;
}

bool sim_vtd_ioapic(struct sim_vtd *s, uint16_t rid, uint64_t rte, struct sim_vtd_irq *out)
{
	uint64_t addr;
	uint32_t data;

	/* 5.1.5.1: bit 48 interrupt format; handle 63:49 and bit 11; vector 7:0, trigger 15. */
	if ((rte >> 48) & 1) {
		uint32_t handle = (uint32_t)field(rte, 63, 49) | (uint32_t)((rte >> 11) & 1) << 15;

		addr = 0xfee00000ull | (uint64_t)(handle & 0x7fff) << 5 | 1u << 4 | (uint64_t)(handle >> 15) << 2;
		data = (uint32_t)(rte & 0xff) | (uint32_t)((rte >> 15) & 1) << 15;
	} else {
		addr = 0xfee00000ull | field(rte, 63, 56) << 12 | ((rte >> 11) & 1) << 2;
		data = (uint32_t)(rte & 0x7ff) | (uint32_t)((rte >> 15) & 1) << 15;
	}
	return sim_vtd_msi(s, rid, addr, data, out);
}
