/* SPDX-License-Identifier: BSD-2-Clause */
/* The hostile device (see hostile.h). */
#define _GNU_SOURCE
#include "hostile.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <hosted.h>
#include <moat/platform.h>

#define PHYS_LIMIT (1ull << 52)
#define ADDR_MASK 0x000ffffffffff000ull   /* bits 51:12: table and page addresses in every format */
#define ARENA_PAGES (MOAT_HOSTED_ARENA_BYTES / MOAT_PAGE_SIZE)
#define ENTRIES 512u
#define MAX_HW 32u
#define MAX_WATCH 16u
#define MAX_TARGETS 16u          /* protected ranges planted entries point at */
#define ACT_PAGES 64u            /* pages one action writes into at most */
#define HANDOVERS_KEPT 64u       /* handovers reaching the device kept for the report (all are counted) */
#define DEFAULT_SEED 0x686f7374696c6531ull
#define DEFAULT_RATE 8u
#define RW (MOAT_PT_READ | MOAT_PT_WRITE)

/* VT-d: root entry (9.1), context entry (9.3), second-stage entry (9.8). */
#define VTD_P 1ull                     /* root / context entry present */
#define VTD_TT_SHIFT 2                 /* context entry translation type, bits 3:2 */
#define VTD_TT_PASS 2ull
#define VTD_AW_OF(levels) ((uint64_t)(levels) - 2)   /* context entry bits 2:0 of the high word */
#define VTD_DID_SHIFT 8                /* context entry domain id, high word bits 23:8 */
#define VTD_HI_IGNORED (1ull << 3)     /* context entry high word bits 6:3: ignored by the hardware */
#define SL_R 1ull
#define SL_W 2ull
#define SL_PS (1ull << 7)
/* AMD-Vi: device-table entry (2.2.2.1), I/O page-table entry (2.2.3). */
#define DTE_V 1ull
#define DTE_TV 2ull
#define DTE_MODE_SHIFT 9
#define AMD_PR 1ull
#define AMD_NL_SHIFT 9
#define AMD_FC (1ull << 60)              /* force coherent: never set in the entries Moat writes */
#define AMD_IR (1ull << 61)
#define AMD_IW (1ull << 62)

/* ---- interval lists (inclusive, sorted and merged after ivl_norm()) ---- */

struct ivl {
	uint64_t first, last;
};

struct ivlist {
	struct ivl *v;
	size_t n, cap;
};

static void ivl_add(struct ivlist *l, uint64_t first, uint64_t last)
{
	if (l->n && l->v[l->n - 1].last != UINT64_MAX && l->v[l->n - 1].last + 1 >= first &&
	    l->v[l->n - 1].first <= first) {
		if (last > l->v[l->n - 1].last)
			l->v[l->n - 1].last = last;
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			abort();
	}
	l->v[l->n++] = (struct ivl){ first, last };
}

static int ivl_cmp(const void *a, const void *b)
{
	const struct ivl *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

static void ivl_norm(struct ivlist *l)
{
	size_t o = 0;

	if (l->n < 2)
		return;
	qsort(l->v, l->n, sizeof(*l->v), ivl_cmp);
	for (size_t i = 0; i < l->n; i++) {
		if (o && (l->v[o - 1].last == UINT64_MAX || l->v[i].first <= l->v[o - 1].last + 1)) {
			if (l->v[i].last > l->v[o - 1].last)
				l->v[o - 1].last = l->v[i].last;
		} else {
			l->v[o++] = l->v[i];
		}
	}
	l->n = o;
}

static bool ivl_has(const struct ivlist *l, uint64_t x)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->v[mid].last < x)
			lo = mid + 1;
		else if (l->v[mid].first > x)
			hi = mid;
		else
			return true;
	}
	return false;
}

static void ivl_append(struct ivlist *dst, const struct ivlist *src)
{
	for (size_t i = 0; i < src->n; i++)
		ivl_add(dst, src->v[i].first, src->v[i].last);
}

/* What the device can read and write through one piece of hardware. */
struct reach {
	struct ivlist r, w;
};

static void reach_swap(struct reach *a, struct reach *b)
{
	struct reach t = *a;

	*a = *b;
	*b = t;
}

/* ---- state ---- */

struct hw {
	bool used;
	bool foreign;                       /* a unit the watch's ops do not know */
	void *key;                          /* the simulator, or the unit */
	const struct hostile_hw_ops *ops;   /* registered hardware */
	const struct hostile_unit_ops *uops;/* or a unit of a watched system */
	struct moat_system *sys;            /* the system of a unit */
	char name[48];
	struct reach cached;                /* what the device reached, still cached or live */
	uint64_t epoch;
	bool primed;
	/* the last round: requesters that let the device through */
	unsigned attackers, passes;
	uint32_t sample_rid;
	bool sample_pass;
};

struct watch {
	struct moat_system *sys;
	const struct hostile_unit_ops *uops;
	uint32_t magic;     /* sys->magic when watched: a system a failed test left behind is dropped */
};

static struct {
	bool on;
	bool ready;
	uint64_t seed, rng;
	enum hostile_content content;
	unsigned rate;
	struct hostile_stats st;
	struct hw hw[MAX_HW];
	struct watch watch[MAX_WATCH];
	/* the device's own pages */
	uint64_t vtd_tab[6];     /* [1..5]: second-stage tables of that level; [0]: one that works at any */
	uint64_t amd_tab[7];     /* [1..6]: AMD v1 tables of that level */
	uint64_t ctx;            /* a VT-d context table */
	uint64_t own[16];
	unsigned nown;
	/* memory handed to the hardware while within reach: one record per handover, pages counted */
	struct {
		uint64_t phys;         /* the first page within reach */
		unsigned perm, pages;  /* how, and how many of its pages */
		char what[160];
	} handover[HANDOVERS_KEPT];
	unsigned nhandover;
	unsigned handovers;
	/* what it wrote last into each page, and which pages those are */
	unsigned char *shadow;
	uint64_t wrote[ARENA_PAGES / 64];
	uint64_t ignored[ARENA_PAGES / 64];
	uint64_t handed[ARENA_PAGES / 64];   /* given to the hardware (hostile_handover()) */
	uint64_t in_use[ARENA_PAGES / 64];   /* scratch of hostile_check() */
	uint64_t dirty_seen[ARENA_PAGES / 64];/* used while holding what the device wrote (recorded once) */
	/* pages the hardware used while they held what the device wrote */
	struct {
		uint64_t phys;
		char what[96];
	} dirty[HANDOVERS_KEPT];
	unsigned ndirty, dirty_uses;
} H;

static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool in_model;

/* One round: what the watched systems say (hosts, domains, targets). */
struct round {
	uint64_t host_root[MAX_WATCH];
	unsigned nhost;
	/* the first host domain, for plausible entries */
	uint64_t root;
	unsigned levels;
	enum moat_pt_format format;
	uint32_t did;
	uint64_t target[MAX_TARGETS];
	unsigned ntarget;
};

static struct round RD;
static struct reach scratch;

/* ---- helpers ---- */

static uint64_t rnd(void)
{
	uint64_t z = (H.rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool in_arena(uint64_t phys)
{
	return phys >= MOAT_HOSTED_PHYS_BASE && phys - MOAT_HOSTED_PHYS_BASE < moat_hosted_arena_used();
}

static uint64_t page_index(uint64_t phys)
{
	return (phys - MOAT_HOSTED_PHYS_BASE) / MOAT_PAGE_SIZE;
}

static bool bit_get(const uint64_t *map, uint64_t phys)
{
	uint64_t i = page_index(phys);

	return (map[i / 64] >> (i % 64)) & 1;
}

static void bit_put(uint64_t *map, uint64_t phys, bool on)
{
	uint64_t i = page_index(phys);

	if (on)
		map[i / 64] |= 1ull << (i % 64);
	else
		map[i / 64] &= ~(1ull << (i % 64));
}

static bool is_own(uint64_t phys)
{
	phys &= ~(uint64_t)(MOAT_PAGE_SIZE - 1);
	for (unsigned i = 0; i < H.nown; i++)
		if (H.own[i] == phys)
			return true;
	return false;
}

/* A page the device may write into (and whose content counts): handed out, not its own, not ignored. */
static bool is_target_page(uint64_t phys)
{
	return in_arena(phys) && moat_hosted_page_live(phys) && !is_own(phys) && !bit_get(H.ignored, phys);
}

static void rid_str(uint32_t rid, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x.%x", (rid >> 8) & 0xff, (rid >> 3) & 0x1f, rid & 7);
}

/* ---- the watched systems ---- */

static void unwatch_slot(unsigned i);

/* The host domain of @sys, or NULL; a pointer that does not lead back to @sys is no host domain. */
static struct moat_domain *host_of(struct moat_system *sys)
{
	struct moat_domain *host = __atomic_load_n(&sys->host, __ATOMIC_RELAXED);

	if (!host || ((uintptr_t)host & 7) || host->sys != sys || !host->host)
		return NULL;
	return host;
}

static void round_begin(struct round *rd)
{
	rd->nhost = 0;
	rd->ntarget = 0;
	rd->root = 0;
	for (unsigned i = 0; i < MAX_WATCH; i++) {
		struct moat_system *sys = H.watch[i].sys;
		struct moat_domain *host;

		if (!sys)
			continue;
		if (sys->magic != H.watch[i].magic) {
			unwatch_slot(i);   /* finalized without hostile_unwatch() (a failed test) */
			continue;
		}
		host = host_of(sys);
		if (host) {
			if (!rd->nhost) {
				rd->root = host->pt.root_phys;
				rd->levels = host->pt.cfg.levels;
				rd->format = host->pt.cfg.format;
				rd->did = host->id;
			}
			rd->host_root[rd->nhost++] = host->pt.root_phys;
		}
		for (unsigned p = 0; p < sys->prot_count && p < MOAT_MAX_PROTECTED && rd->ntarget < MAX_TARGETS; p++)
			rd->target[rd->ntarget++] = sys->prot[p].base & ADDR_MASK;
	}
}

/*
 * The device stands behind every requester of the host domain, every untranslated one, and every
 * one whose tables are no page Moat holds (tables it planted, its own pages among them). A requester
 * whose tables are another page Moat holds is another domain's device.
 */
static bool attacker(const struct round *rd, const struct hostile_grant *g)
{
	uint64_t root = g->root & ADDR_MASK;

	if (g->pass)
		return true;
	for (unsigned i = 0; i < rd->nhost; i++)
		if (rd->host_root[i] == root)
			return true;
	return !moat_hosted_page_live(root) || is_own(root);
}

/* ---- walking the hardware's tables ---- */

static void note_use(uint64_t phys, const char *what);

/* Tables visited in this walk, by (page, level, permissions): outputs do not depend on the IOVA. */
struct vset {
	uint64_t *v;
	size_t cap, n;
};

static struct vset VIS;

static bool vset_add(struct vset *s, uint64_t key)
{
	if (2 * (s->n + 1) > s->cap) {
		struct vset g = { calloc(s->cap ? 2 * s->cap : 1024, sizeof(uint64_t)), s->cap ? 2 * s->cap : 1024, 0 };

		if (!g.v)
			abort();
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i])
				vset_add(&g, s->v[i]);
		free(s->v);
		*s = g;
	}
	for (size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20) % s->cap;; i = (i + 1) % s->cap) {
		if (s->v[i] == key)
			return false;
		if (!s->v[i]) {
			s->v[i] = key;
			s->n++;
			return true;
		}
	}
}

static void vset_clear(struct vset *s)
{
	if (s->n)
		memset(s->v, 0, s->cap * sizeof(uint64_t));
	s->n = 0;
}

struct walk {
	const struct round *rd;
	struct reach *out;
	struct hw *hw;
	uint64_t *in_use;       /* when set: mark every table page visited (a bitmap over the arena) */
	bool note;              /* note every table page visited that holds what the device wrote */
	bool tables_only;       /* only the table pages matter: leaves are not collected */
	bool all;               /* every requester (hostile_requesters()), not only the device's */
	uint32_t *rids;
	unsigned max, count;
};

static void leaf(struct walk *w, uint64_t out, uint64_t size, unsigned perm)
{
	uint64_t first = out & ~(size - 1), last;

	if (w->tables_only || first >= PHYS_LIMIT)
		return;
	last = size > PHYS_LIMIT - first ? PHYS_LIMIT - 1 : first + (size - 1);
	if (perm & MOAT_PT_READ)
		ivl_add(&w->out->r, first, last);
	if (perm & MOAT_PT_WRITE)
		ivl_add(&w->out->w, first, last);
}

static uint64_t level_size(unsigned level)
{
	unsigned shift = 12 + 9 * (level - 1);

	return shift >= 52 ? PHYS_LIMIT : 1ull << shift;
}

static void walk_table(struct walk *w, enum moat_pt_format fmt, uint64_t phys, unsigned level, unsigned perm)
{
	const uint64_t *t;

	if (level < 1 || level > 6 || !vset_add(&VIS, phys | level | ((uint64_t)perm << 3)))
		return;
	t = moat_plat_phys_to_virt(phys);
	if (!t)
		return;   /* no memory there: the walk aborts */
	if (w->in_use && in_arena(phys))
		bit_put(w->in_use, phys, true);
	if (w->note)
		note_use(phys, "a page table");
	if (w->tables_only && level == 1)
		return;   /* leaves only */
	for (unsigned i = 0; i < ENTRIES; i++) {
		const uint64_t e = __atomic_load_n(&t[i], __ATOMIC_RELAXED);
		const uint64_t addr = e & ADDR_MASK;
		unsigned p;

		if (fmt == MOAT_PT_VTD_SL) {
			/* 9.8: present when R or W; PS makes a 2 MiB / 1 GiB leaf at levels 2 / 3 */
			p = ((e & SL_R) ? MOAT_PT_READ : 0u) | ((e & SL_W) ? MOAT_PT_WRITE : 0u);
			if (!(p &= perm))
				continue;
			if (level == 1)
				leaf(w, addr, level_size(1), p);
			else if (e & SL_PS) {
				if (level <= 3)
					leaf(w, addr, level_size(level), p);
			} else {
				walk_table(w, fmt, addr, level - 1, p);
			}
		} else {
			/* 2.2.3: PR; next level 0 is a page of this level, 7 a page whose size the address
			 * encodes (the lowest clear bit from 12 up), 1..level-1 a table (levels may be skipped) */
			unsigned nl = (unsigned)((e >> AMD_NL_SHIFT) & 7);

			if (!(e & AMD_PR))
				continue;
			p = ((e & AMD_IR) ? MOAT_PT_READ : 0u) | ((e & AMD_IW) ? MOAT_PT_WRITE : 0u);
			if (!(p &= perm))
				continue;
			if (nl == 0) {
				leaf(w, addr, level_size(level), p);
			} else if (nl == 7) {
				unsigned n = (unsigned)__builtin_ctzll(~(addr >> 12));

				leaf(w, addr, 13 + n >= 52 ? PHYS_LIMIT : 1ull << (13 + n), p);
			} else if (nl < level) {
				walk_table(w, fmt, addr, nl, p);
			}
		}
	}
}

static void on_grant(void *ctx, const struct hostile_grant *g)
{
	struct walk *w = ctx;
	unsigned perm = g->perm & RW;

	if (w->all) {
		for (unsigned i = 0; i < w->count && i < w->max; i++)
			if (w->rids[i] == g->rid)
				return;
		if (w->count < w->max)
			w->rids[w->count] = g->rid;
		w->count++;
		return;
	}
	if (!attacker(w->rd, g))
		return;
	if (!w->hw->attackers++ || (g->pass && !w->hw->sample_pass)) {
		w->hw->sample_rid = g->rid;
		w->hw->sample_pass = g->pass;
	}
	w->hw->passes += g->pass;
	if (!perm)
		return;
	if (g->pass)
		leaf(w, 0, PHYS_LIMIT, perm);
	else
		walk_table(w, g->format, g->root & ADDR_MASK, g->levels, perm);
}

/* Read one piece of hardware: what the device reaches through it now, joined to what it may still
 * have cached (dropped when the hardware completed an invalidation since). */
static void hw_update(struct hw *h, const struct round *rd)
{
	struct walk w = { .rd = rd, .out = &scratch, .hw = h, .note = true };
	uint64_t epoch;

	scratch.r.n = scratch.w.n = 0;
	vset_clear(&VIS);
	h->attackers = h->passes = 0;
	h->sample_pass = false;
	if (h->ops) {
		h->ops->grants(h->key, on_grant, &w);
		epoch = h->ops->epoch(h->key);
	} else {
		if (!h->uops->grants(h->key, on_grant, &w)) {
			h->foreign = true;
			return;
		}
		epoch = h->uops->epoch(h->key);
	}
	ivl_norm(&scratch.r);
	ivl_norm(&scratch.w);
	if (!h->primed || epoch != h->epoch) {
		reach_swap(&h->cached, &scratch);
	} else {
		ivl_append(&h->cached.r, &scratch.r);
		ivl_append(&h->cached.w, &scratch.w);
		ivl_norm(&h->cached.r);
		ivl_norm(&h->cached.w);
	}
	h->epoch = epoch;
	h->primed = true;
}

static struct hw *hw_slot(void *key)
{
	struct hw *free_slot = NULL;

	for (unsigned i = 0; i < MAX_HW; i++) {
		if (H.hw[i].used && H.hw[i].key == key)
			return &H.hw[i];
		if (!H.hw[i].used && !free_slot)
			free_slot = &H.hw[i];
	}
	return free_slot;
}

static void hw_reset(struct hw *h)
{
	struct reach keep = h->cached;

	memset(h, 0, sizeof(*h));
	keep.r.n = keep.w.n = 0;
	h->cached = keep;
}

static void note_structure(void *ctx, uint64_t phys);

/* What the hardware uses now (the tables of every watched system's domains, what each simulator reads
 * as a structure) holding what the device wrote is recorded. */
static void note_uses(void)
{
	struct reach none = { 0 };
	struct walk w = { .rd = &RD, .out = &none, .note = true, .tables_only = true };

	vset_clear(&VIS);
	for (unsigned i = 0; i < MAX_WATCH; i++) {
		unsigned guard = 0;

		/* the hardware walks the tables of a domain a device translates through */
		for (struct moat_domain *d = H.watch[i].sys ? H.watch[i].sys->domains : NULL; d && guard < 4096;
		     d = d->next, guard++)
			if (d->devices)
				walk_table(&w, d->pt.cfg.format, d->pt.root_phys, d->pt.cfg.levels, RW);
	}
	for (unsigned i = 0; i < MAX_HW; i++)
		if (H.hw[i].used && H.hw[i].ops && H.hw[i].ops->uses)
			H.hw[i].ops->uses(H.hw[i].key, note_structure, (void *)"a structure of the hardware");
	free(none.r.v);
	free(none.w.v);
}

/* Bring every piece of hardware up to date; false when no watched system has a host domain. */
static bool observe(void)
{
	round_begin(&RD);
	if (!RD.nhost)
		return false;
	for (unsigned i = 0; i < MAX_WATCH; i++) {
		const struct watch *wt = &H.watch[i];

		unsigned guard = 0;

		if (!wt->sys || !wt->uops)
			continue;
		for (struct moat_unit *u = wt->sys->units; u && !((uintptr_t)u & 7) && guard < 64;
		     u = u->next, guard++) {
			struct hw *h = hw_slot(u);

			if (!h || (h->used && h->foreign))
				continue;
			if (!h->used) {
				hw_reset(h);
				h->used = true;
				h->key = u;
				h->uops = wt->uops;
				h->sys = wt->sys;
				snprintf(h->name, sizeof(h->name), "unit %u of system %p", u->index, (void *)wt->sys);
			}
		}
	}
	for (unsigned i = 0; i < MAX_HW; i++)
		if (H.hw[i].used && !H.hw[i].foreign)
			hw_update(&H.hw[i], &RD);
	note_uses();
	return true;
}

static bool reach_of(uint64_t phys, unsigned *perm)
{
	unsigned p = 0;

	for (unsigned i = 0; i < MAX_HW; i++) {
		const struct hw *h = &H.hw[i];

		if (!h->used || h->foreign || !h->primed)
			continue;
		if (ivl_has(&h->cached.r, phys))
			p |= MOAT_PT_READ;
		if (ivl_has(&h->cached.w, phys))
			p |= MOAT_PT_WRITE;
	}
	if (perm)
		*perm = p;
	return p != 0;
}

/* ---- what the device writes ---- */

static uint64_t target(unsigned i)
{
	if (RD.ntarget)
		return RD.target[i % RD.ntarget];
	return MOAT_HOSTED_PHYS_BASE + (uint64_t)(i % 512) * MOAT_PAGE_SIZE;
}

static unsigned host_levels(enum moat_pt_format fmt, unsigned lo, unsigned hi, unsigned dflt)
{
	if (RD.root && RD.format == fmt && RD.levels >= lo && RD.levels <= hi)
		return RD.levels;
	return dflt;
}

static void fill(uint64_t *q, enum hostile_content c)
{
	const uint64_t arena = MOAT_HOSTED_PHYS_BASE;

	switch (c) {
	case HOSTILE_MIX:
	case HOSTILE_CONTENTS:
	case HOSTILE_GARBAGE:
		for (unsigned i = 0; i < ENTRIES; i++)
			q[i] = rnd();
		break;
	case HOSTILE_ONES:
		memset(q, 0xff, MOAT_PAGE_SIZE);
		break;
	case HOSTILE_VTD_ROOT:
		for (unsigned i = 0; i < ENTRIES; i += 2) {
			q[i] = H.ctx | VTD_P;
			q[i + 1] = 0;
		}
		break;
	case HOSTILE_VTD_CONTEXT_PT:
	case HOSTILE_VTD_CONTEXT: {
		unsigned levels = host_levels(MOAT_PT_VTD_SL, 3, 5, 4);

		for (unsigned i = 0; i < ENTRIES; i += 2) {
			if (c == HOSTILE_VTD_CONTEXT_PT || !(i & 2)) {
				q[i] = (RD.root & ADDR_MASK) | (VTD_TT_PASS << VTD_TT_SHIFT) | VTD_P;
				q[i + 1] = VTD_AW_OF(levels) | VTD_HI_IGNORED |
					   ((uint64_t)(RD.did & 0xffff) << VTD_DID_SHIFT);
			} else {
				q[i] = H.vtd_tab[levels] | VTD_P;
				q[i + 1] = VTD_AW_OF(levels) | (0x7eull << VTD_DID_SHIFT);
			}
		}
		break;
	}
	case HOSTILE_VTD_SL:
		for (unsigned i = 0; i < ENTRIES; i++) {
			switch (i % 4) {
			case 0: q[i] = H.vtd_tab[0] | SL_R | SL_W; break;
			case 1: q[i] = target(i / 4) | SL_PS | SL_R | SL_W; break;
			case 2: q[i] = (arena + (uint64_t)i * MOAT_PAGE_SIZE) | SL_PS | SL_R | SL_W; break;
			default: q[i] = target(i / 4) | SL_R | SL_W; break;
			}
		}
		break;
	case HOSTILE_AMD_DTE: {
		unsigned levels = host_levels(MOAT_PT_AMD_V1, 1, 6, 4);

		for (unsigned i = 0; i < ENTRIES; i += 4) {
			q[i + 1] = q[i + 2] = q[i + 3] = 0;
			switch ((i / 4) % 4) {
			case 0: q[i] = DTE_V | DTE_TV | AMD_IR | AMD_IW; break;   /* Mode 0: untranslated */
			case 1:
				q[i] = DTE_V | DTE_TV | ((uint64_t)levels << DTE_MODE_SHIFT) | H.amd_tab[levels] |
				       AMD_IR | AMD_IW;
				q[i + 1] = 0x7e;
				break;
			case 2: q[i] = 0; q[i + 1] = 0x7e; break;              /* V = 0: no checks at all */
			default:   /* the host domain's tables, read-only: an entry Moat never writes */
				q[i] = DTE_V | DTE_TV | ((uint64_t)levels << DTE_MODE_SHIFT) | (RD.root & ADDR_MASK) |
				       AMD_IR;
				q[i + 1] = RD.did & 0xffff;
				break;
			}
		}
		break;
	}
	case HOSTILE_AMD_PTE:
		for (unsigned i = 0; i < ENTRIES; i++) {
			switch (i % 4) {
			case 0: q[i] = H.amd_tab[1] | (1ull << AMD_NL_SHIFT) | AMD_PR | AMD_IR | AMD_IW; break;
			case 1: q[i] = target(i / 4) | AMD_FC | AMD_PR | AMD_IR | AMD_IW; break;
			case 2:
				q[i] = (arena + (uint64_t)i * MOAT_PAGE_SIZE) | AMD_FC | AMD_PR | AMD_IR | AMD_IW;
				break;
			default:   /* next level 7, address bit 12 clear: an 8 KiB page */
				q[i] = (target(i / 4) & ~0x1fffull) | (7ull << AMD_NL_SHIFT) | AMD_PR | AMD_IR | AMD_IW;
				break;
			}
		}
		break;
	case HOSTILE_SEMAPHORE:
		for (unsigned i = 0; i < ENTRIES; i++)
			q[i] = i == 0 ? 0x7fffffffffffffffull : i % 2 ? ~0ull : 0x100000ull + i;
		break;
	}
}

static void plant(uint64_t phys, void *virt)
{
	enum hostile_content c = H.content;
	uint64_t off;

	if (!virt)
		virt = moat_plat_phys_to_virt(phys & ~(uint64_t)(MOAT_PAGE_SIZE - 1));
	if (!virt)
		return;
	if (c == HOSTILE_MIX)
		c = (enum hostile_content)(1 + rnd() % (HOSTILE_CONTENTS - 1));
	fill(virt, c);
	off = phys - MOAT_HOSTED_PHYS_BASE;
	memcpy(H.shadow + (off & ~(uint64_t)(MOAT_PAGE_SIZE - 1)), virt, MOAT_PAGE_SIZE);
	bit_put(H.wrote, phys, true);
	H.st.pages_written++;
}

/* Write into (at most ACT_PAGES of) the pages the device can write now. */
static void act(void)
{
	uint64_t cand[ACT_PAGES];
	unsigned n = 0, seen = 0;
	const uint64_t lo = MOAT_HOSTED_PHYS_BASE, hi = MOAT_HOSTED_PHYS_BASE + moat_hosted_arena_used();

	for (unsigned i = 0; i < MAX_HW; i++) {
		const struct hw *h = &H.hw[i];

		if (!h->used || h->foreign || !h->primed)
			continue;
		for (size_t k = 0; k < h->cached.w.n; k++) {
			uint64_t a = h->cached.w.v[k].first < lo ? lo : h->cached.w.v[k].first & ADDR_MASK;
			uint64_t end = h->cached.w.v[k].last >= hi ? hi - 1 : h->cached.w.v[k].last;

			for (; a <= end && a >= lo; a += MOAT_PAGE_SIZE) {
				if (!is_target_page(a))
					continue;
				/* a reservoir sample of the candidates */
				if (n < ACT_PAGES)
					cand[n++] = a;
				else if (rnd() % (seen + 1) < ACT_PAGES)
					cand[rnd() % ACT_PAGES] = a;
				seen++;
			}
		}
	}
	for (unsigned i = 0; i < n; i++)
		plant(cand[i], NULL);
	H.st.acts++;
}

/* Whether some watched system has a host domain, read without the lock (the common case: none, and
 * the device does nothing; the point then costs no lock, as the model is shared by every thread). */
static bool any_host(void)
{
	for (unsigned i = 0; i < MAX_WATCH; i++) {
		struct moat_system *sys = __atomic_load_n(&H.watch[i].sys, __ATOMIC_ACQUIRE);

		if (sys && __atomic_load_n(&sys->host, __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

/* Whether the page handed out or taken back carries marks of the model. */
static bool marked(uint64_t phys)
{
	return in_arena(phys) && (bit_get(H.wrote, phys) || bit_get(H.handed, phys) || bit_get(H.dirty_seen, phys) ||
				  bit_get(H.ignored, phys));
}

static void on_point(void *ctx, enum moat_hosted_point point, uint64_t phys, void *virt, uint64_t value)
{
	(void)ctx;
	(void)value;
	if (in_model || !__atomic_load_n(&H.on, __ATOMIC_RELAXED))
		return;
	if (!any_host() && !((point == MOAT_HOSTED_PAGE_GIVEN || point == MOAT_HOSTED_PAGE_FREE) && marked(phys)))
		return;
	in_model = true;
	pthread_mutex_lock(&model_lock);
	if (point == MOAT_HOSTED_PAGE_GIVEN && in_arena(phys)) {
		bit_put(H.wrote, phys, false);   /* zeroed by the platform */
		bit_put(H.handed, phys, false);
		bit_put(H.dirty_seen, phys, false);
	}
	if (H.on) {
		/* Register reads come in polling loops: the device looks at the tables there only when it acts. */
		bool acts = H.rate && rnd() % H.rate == 0;

		if ((point != MOAT_HOSTED_MMIO_READ || acts) && observe()) {
			unsigned perm;

			H.st.points++;
			if (point == MOAT_HOSTED_PAGE_GIVEN && reach_of(phys, &perm) && (perm & MOAT_PT_WRITE)) {
				plant(phys, virt);
				H.st.given_written++;
			}
			if (acts)
				act();
		}
	}
	if (point == MOAT_HOSTED_PAGE_FREE && in_arena(phys)) {
		bit_put(H.wrote, phys, false);
		bit_put(H.handed, phys, false);
		bit_put(H.dirty_seen, phys, false);
		bit_put(H.ignored, phys, false);
	}
	pthread_mutex_unlock(&model_lock);
	in_model = false;
}

/* ---- the device's own memory ---- */

static uint64_t own_page(uint64_t **virt)
{
	uint64_t phys = 0;

	*virt = moat_hosted_reserve_page(&phys);
	if (!*virt || H.nown == sizeof(H.own) / sizeof(H.own[0])) {
		fprintf(stderr, "hostile: no arena page for the device's own tables\n");
		abort();
	}
	H.own[H.nown++] = phys;
	return phys;
}

/* Tables that reach everything that matters: low memory (identity, 1 GiB pages up to 256 GiB) and the
 * arena (1 GiB, 2 MiB and 4 KiB pages). */
static void own_tables(void)
{
	const uint64_t arena = MOAT_HOSTED_PHYS_BASE;
	uint64_t *t[14];

	for (unsigned l = 0; l <= 5; l++)
		H.vtd_tab[l] = own_page(&t[l]);
	for (unsigned l = 1; l <= 6; l++)
		H.amd_tab[l] = own_page(&t[5 + l]);
	H.ctx = own_page(&t[12]);
	for (unsigned i = 0; i < ENTRIES; i++) {
		const uint64_t rw = SL_R | SL_W, amd = AMD_PR | AMD_IR | AMD_IW;
		const uint64_t gib = (uint64_t)i << 30, mib2 = arena + ((uint64_t)i << 21);
		const uint64_t k4 = arena + ((uint64_t)i << 12);
		const uint64_t arena_gib = arena + ((uint64_t)(i - 256) << 30);

		t[1][i] = k4 | rw;
		t[2][i] = i < 256 ? mib2 | SL_PS | rw : H.vtd_tab[1] | rw;
		t[3][i] = i < 256 ? gib | SL_PS | rw : i < 260 ? arena_gib | SL_PS | rw : H.vtd_tab[2] | rw;
		t[4][i] = H.vtd_tab[3] | rw;
		t[5][i] = H.vtd_tab[4] | rw;
		/* good at levels 1 to 3: PS leaves (bit 7 is ignored in a 4 KiB entry) */
		t[0][i] = (i < 256 ? gib : i < 260 ? arena_gib : arena + ((uint64_t)(i - 260) << 12)) | SL_PS | rw;

		t[6][i] = k4 | amd;
		t[7][i] = i < 256 ? mib2 | amd : H.amd_tab[1] | (1ull << AMD_NL_SHIFT) | amd;
		t[8][i] = i < 256 ? gib | amd : i < 260 ? arena_gib | amd : H.amd_tab[2] | (2ull << AMD_NL_SHIFT) | amd;
		for (unsigned l = 4; l <= 6; l++)
			t[5 + l][i] = H.amd_tab[l - 1] | ((uint64_t)(l - 1) << AMD_NL_SHIFT) | amd;
	}
	/* the context table: pass-through (even functions) and translated through the tables above,
	 * 3, 4 and 5 levels in turn (odd ones) */
	for (unsigned f = 0; f < 256; f++) {
		unsigned levels = 3 + (f / 2) % 3;

		if (!(f & 1)) {
			t[12][2 * f] = (VTD_TT_PASS << VTD_TT_SHIFT) | VTD_P;
			t[12][2 * f + 1] = VTD_AW_OF(4) | (0x7eull << VTD_DID_SHIFT);
		} else {
			t[12][2 * f] = H.vtd_tab[levels] | VTD_P;
			t[12][2 * f + 1] = VTD_AW_OF(levels) | (0x7eull << VTD_DID_SHIFT);
		}
	}
}

static void ready(void)
{
	if (H.ready)
		return;
	H.shadow = mmap(NULL, MOAT_HOSTED_ARENA_BYTES, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (H.shadow == MAP_FAILED) {
		fprintf(stderr, "hostile: cannot reserve the shadow of the arena\n");
		abort();
	}
	own_tables();
	H.ready = true;
}

/* ---- API ---- */

static void enter(void)
{
	in_model = true;
	pthread_mutex_lock(&model_lock);
}

static void leave(void)
{
	pthread_mutex_unlock(&model_lock);
	in_model = false;
}

void hostile_hw_add(void *hw, const struct hostile_hw_ops *ops, const char *name)
{
	struct hw *h;

	enter();
	/* A simulator left behind by a failed test, at the same place: this one replaces it. */
	for (unsigned i = 0; name && i < MAX_HW; i++)
		if (H.hw[i].used && H.hw[i].ops == ops && H.hw[i].key != hw && !strcmp(H.hw[i].name, name))
			hw_reset(&H.hw[i]);
	h = hw_slot(hw);
	if (h) {
		hw_reset(h);
		h->used = true;
		h->key = hw;
		h->ops = ops;
		snprintf(h->name, sizeof(h->name), "%s", name ? name : "hardware");
	}
	leave();
	if (!h) {
		fprintf(stderr, "hostile: more than %u pieces of hardware\n", MAX_HW);
		abort();
	}
}

void hostile_hw_remove(void *hw)
{
	enter();
	for (unsigned i = 0; i < MAX_HW; i++)
		if (H.hw[i].used && H.hw[i].key == hw)
			hw_reset(&H.hw[i]);
	leave();
}

void hostile_watch(struct moat_system *sys, const struct hostile_unit_ops *units)
{
	unsigned i;

	enter();
	for (i = 0; i < MAX_WATCH && H.watch[i].sys && H.watch[i].sys != sys; i++)
		;
	if (i < MAX_WATCH)
		H.watch[i] = (struct watch){ sys, units, sys->magic };
	leave();
	if (i == MAX_WATCH) {
		fprintf(stderr, "hostile: more than %u systems watched at once\n", MAX_WATCH);
		abort();
	}
}

static void unwatch_slot(unsigned i)
{
	struct moat_system *sys = H.watch[i].sys;

	H.watch[i] = (struct watch){ NULL, NULL, 0 };
	for (unsigned k = 0; k < MAX_HW; k++)
		if (H.hw[k].used && H.hw[k].sys == sys)
			hw_reset(&H.hw[k]);
}

void hostile_unwatch(struct moat_system *sys)
{
	enter();
	for (unsigned i = 0; i < MAX_WATCH; i++)
		if (H.watch[i].sys == sys)
			unwatch_slot(i);
	leave();
}

void hostile_forget(void)
{
	enter();
	H.handovers = H.nhandover = 0;
	H.ndirty = H.dirty_uses = 0;
	memset(H.wrote, 0, sizeof(H.wrote));   /* pages an earlier test left behind are not this one's */
	memset(H.handed, 0, sizeof(H.handed));
	memset(H.dirty_seen, 0, sizeof(H.dirty_seen));
	for (unsigned i = 0; i < MAX_WATCH; i++)
		H.watch[i] = (struct watch){ NULL, NULL, 0 };
	for (unsigned i = 0; i < MAX_HW; i++)
		if (H.hw[i].used)
			hw_reset(&H.hw[i]);
	leave();
}

void hostile_start_seed(uint64_t seed)
{
	enter();
	ready();
	H.seed = H.rng = seed;
	H.content = HOSTILE_MIX;
	H.rate = DEFAULT_RATE;
	H.on = true;
	H.handovers = H.nhandover = 0;
	H.ndirty = H.dirty_uses = 0;
	memset(H.dirty_seen, 0, sizeof(H.dirty_seen));
	memset(&H.st, 0, sizeof(H.st));
	for (unsigned i = 0; i < MAX_HW; i++)
		H.hw[i].primed = false;
	leave();
	fprintf(stderr, "hostile device on: seed 0x%016" PRIx64 " (MOAT_HOSTILE_SEED=0x%" PRIx64 " repeats it)\n", seed,
		seed);
	moat_hosted_set_hook(on_point, NULL);
}

void hostile_start(void)
{
	const char *s = getenv("MOAT_HOSTILE_SEED");

	hostile_start_seed(s && *s ? strtoull(s, NULL, 0) : DEFAULT_SEED);
}

void hostile_stop(void)
{
	moat_hosted_set_hook(NULL, NULL);
	enter();
	H.on = false;
	for (unsigned i = 0; i < MAX_HW; i++) {
		H.hw[i].primed = false;
		H.hw[i].cached.r.n = H.hw[i].cached.w.n = 0;
	}
	leave();
}

bool hostile_active(void)
{
	return H.on;
}

uint64_t hostile_seed(void)
{
	return H.seed;
}

void hostile_set_content(enum hostile_content c)
{
	enter();
	H.content = c < HOSTILE_CONTENTS ? c : HOSTILE_MIX;
	leave();
}

void hostile_set_rate(unsigned one_in)
{
	enter();
	H.rate = one_in;
	leave();
}

void hostile_ignore_page(uint64_t phys)
{
	enter();
	if (in_arena(phys))
		bit_put(H.ignored, phys, true);
	leave();
}

bool hostile_reaches(uint64_t phys, unsigned *perm)
{
	bool r = false;

	enter();
	if (H.on && observe())
		r = reach_of(phys, perm);
	else if (perm)
		*perm = 0;
	leave();
	return r;
}

bool hostile_wrote(uint64_t phys)
{
	bool r;

	enter();
	r = H.ready && in_arena(phys) && bit_get(H.wrote, phys);
	leave();
	return r;
}

/* Whether the page still holds a word the device wrote. @ones: all-ones words count (never right in a
 * table or a hardware structure; a full bitmap of the bookkeeping is). */
static bool holds_device_content(uint64_t phys, bool ones)
{
	const uint64_t off = (phys - MOAT_HOSTED_PHYS_BASE) & ~(uint64_t)(MOAT_PAGE_SIZE - 1);
	const uint64_t *now = moat_plat_phys_to_virt(MOAT_HOSTED_PHYS_BASE + off);
	const uint64_t *then = (const uint64_t *)(const void *)(H.shadow + off);

	if (!H.ready || !in_arena(phys) || !bit_get(H.wrote, phys) || !now)
		return false;
	/* 0 is what Moat writes too (empty entries): no evidence */
	for (unsigned i = 0; i < ENTRIES; i++)
		if (now[i] && (ones || now[i] != ~0ull) && now[i] == then[i])
			return true;
	return false;
}

static bool left_behind(uint64_t phys)
{
	return holds_device_content(phys, false);
}

/* The hardware uses the page of @phys as @what: record it if the page holds what the device wrote.
 * Model lock held. */
static void note_use(uint64_t phys, const char *what)
{
	if (!in_arena(phys) || !bit_get(H.wrote, phys) || bit_get(H.dirty_seen, phys) || !is_target_page(phys) ||
	    !holds_device_content(phys, true))
		return;
	bit_put(H.dirty_seen, phys, true);
	if (H.ndirty < HANDOVERS_KEPT) {
		H.dirty[H.ndirty].phys = phys & ADDR_MASK;
		snprintf(H.dirty[H.ndirty].what, sizeof(H.dirty[0].what), "used as %s holding what the device wrote",
			 what);
		H.ndirty++;
	}
	H.dirty_uses++;
}

static void note_structure(void *ctx, uint64_t phys)
{
	note_use(phys, ctx);
}

bool hostile_left_behind(uint64_t phys)
{
	bool r;

	enter();
	r = left_behind(phys);
	leave();
	return r;
}

unsigned hostile_requesters(void *hw, uint32_t *rids, unsigned max)
{
	struct walk w = { .all = true, .rids = rids, .max = max };
	unsigned n = 0;

	bool done = false;

	enter();
	for (unsigned i = 0; i < MAX_HW && !done; i++) {
		struct hw *h = &H.hw[i];

		if (!h->used || !h->ops || h->key != hw)
			continue;
		h->ops->grants(h->key, on_grant, &w);
		done = true;
	}
	/* a unit of a watched system */
	for (unsigned i = 0; i < MAX_WATCH && !done; i++) {
		if (!H.watch[i].sys || !H.watch[i].uops)
			continue;
		for (struct moat_unit *u = H.watch[i].sys->units; u && !done; u = u->next)
			if (u == hw)
				done = H.watch[i].uops->grants(u, on_grant, &w);
	}
	n = w.count;
	leave();
	return n;
}

void hostile_handover(void *hw, uint64_t phys, uint64_t size, const char *what)
{
	const char *name = "hardware";

	enter();
	for (unsigned i = 0; i < MAX_HW; i++)
		if (H.hw[i].used && H.hw[i].key == hw)
			name = H.hw[i].name;
	if (H.on && size && observe()) {
		uint64_t last = phys + (size - 1), first = 0;
		unsigned pages = 0, all = 0, perms = 0;

		for (uint64_t a = phys & ADDR_MASK; a <= last && a >= (phys & ADDR_MASK); a += MOAT_PAGE_SIZE) {
			unsigned perm;

			all++;
			if (in_arena(a))
				bit_put(H.handed, a, true);
			note_use(a, what);
			if (!reach_of(a, &perm))
				continue;
			if (!pages++)
				first = a;
			perms |= perm;
		}
		if (pages && H.nhandover < HANDOVERS_KEPT) {
			H.handover[H.nhandover].phys = first;
			H.handover[H.nhandover].perm = perms;
			H.handover[H.nhandover].pages = pages;
			snprintf(H.handover[H.nhandover].what, sizeof(H.handover[0].what),
				 "given to the %s as %s (%u of its %u page%s within reach)", name, what, pages, all,
				 all == 1 ? "" : "s");
			H.nhandover++;
		}
		H.handovers += pages;
	}
	leave();
}

unsigned hostile_handovers(void)
{
	unsigned n;

	enter();
	n = H.handovers;
	leave();
	return n;
}

struct hostile_stats hostile_stats(void)
{
	struct hostile_stats s;

	enter();
	s = H.st;
	leave();
	return s;
}

/* ---- the probe ---- */

#define PRINT_MAX 24u

struct finding {
	uint64_t phys;
	unsigned perm;
	const char *hw;
	unsigned rank;          /* printed in this order: registry, Moat-owned, held, left behind */
	char what[160];
};

struct findings {
	struct finding *v;
	size_t n, cap;
};

static void found(struct findings *f, uint64_t phys, unsigned perm, const char *hw, unsigned rank, const char *what)
{
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i].phys != phys || f->v[i].hw != hw)
			continue;
		if (rank < f->v[i].rank) {   /* the more telling name */
			f->v[i].rank = rank;
			snprintf(f->v[i].what, sizeof(f->v[i].what), "%s", what);
		}
		return;
	}
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 32;
		f->v = realloc(f->v, f->cap * sizeof(*f->v));
		if (!f->v)
			abort();
	}
	f->v[f->n] = (struct finding){ phys, perm, hw, rank, "" };
	snprintf(f->v[f->n].what, sizeof(f->v[f->n].what), "%s", what);
	f->n++;
}

static int finding_cmp(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->phys < y->phys ? -1 : x->phys > y->phys;
}

static const char *perm_str(unsigned p)
{
	return p == RW ? "read/write" : p == MOAT_PT_WRITE ? "write" : "read";
}

static void mark_page(void *ctx, uint64_t phys)
{
	(void)ctx;
	if (in_arena(phys))
		bit_put(H.in_use, phys, true);
}

/* Pages the hardware uses as structures: every table of the domains of @sys (from their roots), what
 * each piece of hardware reads (its uses()), and what it was handed. Model lock held. */
static void mark_in_use(struct moat_system *sys)
{
	struct reach none = { 0 };
	struct walk w = { .rd = &RD, .out = &none, .in_use = H.in_use };
	unsigned guard = 0;

	memcpy(H.in_use, H.handed, sizeof(H.in_use));
	vset_clear(&VIS);
	for (struct moat_domain *d = sys ? sys->domains : NULL; d && guard < 4096; d = d->next, guard++)
		walk_table(&w, d->pt.cfg.format, d->pt.root_phys, d->pt.cfg.levels, RW);
	for (unsigned i = 0; i < MAX_HW; i++)
		if (H.hw[i].used && H.hw[i].ops && H.hw[i].ops->uses)
			H.hw[i].ops->uses(H.hw[i].key, mark_page, NULL);
	free(none.r.v);
	free(none.w.v);
}

unsigned hostile_check(struct moat_system *sys)
{
	struct findings f = { 0 };
	struct hw_view {
		const char *name;
		struct ivlist any;
		struct reach reach;
		unsigned attackers, passes;
		uint32_t sample;
		bool sample_pass;
	} views[MAX_HW];
	unsigned nview = 0;
	size_t printed = 0;
	const uint64_t lo = MOAT_HOSTED_PHYS_BASE;

	if (!H.on)
		return 0;
	memset(views, 0, sizeof(views));
	enter();
	if (observe()) {
		const uint64_t hi = lo + moat_hosted_arena_used();

		for (unsigned i = 0; i < MAX_HW; i++) {
			const struct hw *h = &H.hw[i];
			struct hw_view *v = &views[nview];

			if (!h->used || h->foreign || !h->primed || (!h->cached.r.n && !h->cached.w.n))
				continue;
			nview++;
			v->name = h->name;
			v->attackers = h->attackers;
			v->passes = h->passes;
			v->sample = h->sample_rid;
			v->sample_pass = h->sample_pass;
			ivl_append(&v->reach.r, &h->cached.r);
			ivl_append(&v->reach.w, &h->cached.w);
			ivl_append(&v->any, &h->cached.r);
			ivl_append(&v->any, &h->cached.w);
			ivl_norm(&v->any);
			/* pages the platform handed out: Moat's */
			for (size_t k = 0; k < v->any.n; k++) {
				uint64_t a = v->any.v[k].first < lo ? lo : v->any.v[k].first & ADDR_MASK;
				uint64_t end = v->any.v[k].last >= hi ? hi - 1 : v->any.v[k].last;

				for (; a <= end && a >= lo; a += MOAT_PAGE_SIZE) {
					unsigned p = (ivl_has(&h->cached.r, a) ? MOAT_PT_READ : 0u) |
						     (ivl_has(&h->cached.w, a) ? MOAT_PT_WRITE : 0u);

					if (is_target_page(a))
						found(&f, a, p, h->name, 2,
						      "a page Moat holds (handed out by the platform, not given back)");
				}
			}
		}
	}
	/* pages the hardware was given while the device reached them */
	for (unsigned i = 0; i < H.nhandover; i++)
		found(&f, H.handover[i].phys, H.handover[i].perm, NULL, 0, H.handover[i].what);
	/* pages the hardware used while they held what the device wrote */
	for (unsigned i = 0; i < H.ndirty; i++)
		found(&f, H.dirty[i].phys, 0, NULL, 0, H.dirty[i].what);
	/* content the device wrote, still there, in a page the hardware uses */
	mark_in_use(sys);
	for (uint64_t a = lo; H.ready && a < lo + moat_hosted_arena_used(); a += MOAT_PAGE_SIZE)
		if (bit_get(H.wrote, a) && bit_get(H.in_use, a) && is_target_page(a) && left_behind(a))
			found(&f, a, 0, NULL, 3, "a page in use keeps what the device wrote into it");
	leave();

	/* the registry and Moat's own pages, as Moat sees them */
	for (unsigned i = 0; i < nview; i++) {
		for (size_t k = 0; k < views[i].any.n; k++) {
			uint64_t a = views[i].any.v[k].first, end = views[i].any.v[k].last;
			unsigned hits = 0;

			while (a <= end && hits < 64) {
				struct moat_protect_hit hit;
				uint64_t next;

				if (moat_protect_check(sys, a, end - a + 1, &hit) != MOAT_ERR_PROTECTED)
					break;
				hits++;
				{
					uint64_t at = hit.base > a ? hit.base : a;
					unsigned p = (ivl_has(&views[i].reach.r, at) ? MOAT_PT_READ : 0u) |
						     (ivl_has(&views[i].reach.w, at) ? MOAT_PT_WRITE : 0u);
					char what[96];

					snprintf(what, sizeof(what), "%s \"%s\" [0x%" PRIx64 ", +0x%" PRIx64 ")",
						 hit.owned ? "Moat-owned page" : "protected range", hit.label, hit.base,
						 hit.size);
					found(&f, at, p, views[i].name, hit.owned ? 1 : 0, what);
				}
				next = hit.base + hit.size;
				if (next <= a)
					break;
				a = next;
			}
		}
	}

	if (f.n)
		qsort(f.v, f.n, sizeof(*f.v), finding_cmp);
	if (f.n) {
		fprintf(stderr, "hostile device (seed 0x%016" PRIx64 "): %zu violation%s\n", H.seed, f.n,
			f.n == 1 ? "" : "s");
		for (unsigned i = 0; i < nview; i++) {
			char rid[16];

			rid_str(views[i].sample, rid, sizeof(rid));
			fprintf(stderr, "  %s lets the device through for %u requester%s (%u untranslated), "
				"e.g. %s%s\n",
				views[i].name, views[i].attackers, views[i].attackers == 1 ? "" : "s", views[i].passes,
				rid, views[i].sample_pass ? " untranslated" : "");
		}
		for (size_t i = 0; i < f.n && printed < PRINT_MAX; i++, printed++) {
			if (f.v[i].hw)
				fprintf(stderr, "  %s: the device can %s 0x%" PRIx64 ": %s\n", f.v[i].hw,
					perm_str(f.v[i].perm), f.v[i].phys, f.v[i].what);
			else if (f.v[i].perm)
				fprintf(stderr, "  0x%" PRIx64 " (%s by the device): %s\n", f.v[i].phys,
					perm_str(f.v[i].perm), f.v[i].what);
			else
				fprintf(stderr, "  0x%" PRIx64 ": %s\n", f.v[i].phys, f.v[i].what);
		}
		if (f.n > printed)
			fprintf(stderr, "  ... and %zu more\n", f.n - printed);
	}
	for (unsigned i = 0; i < MAX_HW; i++) {
		free(views[i].any.v);
		free(views[i].reach.r.v);
		free(views[i].reach.w.v);
	}
	free(f.v);
	return (unsigned)f.n;
}

/* Hostile mode for whole suites. */
__attribute__((constructor)) static void hostile_from_environment(void)
{
	const char *e = getenv("MOAT_HOSTILE");

	if (e && *e && strcmp(e, "0") != 0)
		hostile_start();
}
