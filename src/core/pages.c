/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where Moat's pages come from: the one supply of every page the core, the engine, the drivers and
 * the DMA layer use, and keeping those pages out of the host identity domain.
 *
 * A page from the platform is not trusted: while the host identity domain maps it, any host device
 * can write it, before Moat takes it out and until the invalidation of that removal completed.
 * So no page is used before it is trusted, in this order:
 *  1. taken from the platform and marked Moat-owned (no new map can reach it from then on) and
 *     pending (a device may still reach it);
 *  2. unmapped from the host identity domain ("punched"), batched, and the host domain invalidated
 *     on every unit that could cache it, the invalidation completed;
 *  3. then in the pool of trusted pages (linked through the pages themselves: no device can write
 *     them any more), and zeroed when the pool hands it out.
 * Every allocation takes its page from the pool and refills it when it is empty, except the host
 * domain's own table pages while a device uses that domain: the engine is changing the host
 * domain then, which punching would change too, so they come from the pool only; an operation
 * that finds the pool too small fails with nothing changed, the pool grows by what the engine
 * said it wanted (struct moat_pt pages_wanted), and the operation runs again (core_host_retry()).
 * Punching itself may split a host superpage, and a new bookkeeping node may be needed for a new
 * page: both are paid from the pool, which keeps a reserve for them (PAGE_COST).
 *
 * While no device uses the host domain (none attached yet: moat_protect_host() before the first
 * attach), no device can reach what it maps: its own table pages and bookkeeping nodes may then
 * come from the platform directly, marked pending, and are taken out at the end of the operation
 * (core_settle()); the attach that makes the domain live settles first and fails when something
 * is still pending. Without a host domain there is nothing to take pages out of.
 *
 * Table pages the engine gives back go to the pool (still owned and unreachable) while it is
 * short; every other page given back goes to the platform, and one that had been punched is
 * mapped back into the host domain at the end of the operation (unless the registry protects it
 * by then).
 */
#include "core_internal.h"

#define SETTLE_MAX_PASSES 32u
/* Candidates taken out of the host domain under one invalidation. */
#define REFILL_BATCH 16u
/* The most trusted pages one candidate can use up before it joins the pool: new bookkeeping
 * nodes on its path (4) and the tables that split the 1 GiB leaf holding it (2). */
#define PAGE_COST 6u
/* Runs of an operation on the live host domain that ran short of trusted pages. */
#define HOST_RETRIES 4u

MOAT_STATIC_ASSERT(MOAT_HOST_POOL >= PAGE_COST + 2, "the pool must hold the reserve a refill needs");

/* ---- the pool of trusted pages ---- */

static void pool_push(struct moat_system *sys, void *virt, uint64_t phys)
{
	uint64_t *link = virt;

	link[0] = (uint64_t)(uintptr_t)sys->pool;
	link[1] = sys->pool_phys;
	sys->pool = virt;
	sys->pool_phys = phys;
	sys->pool_count++;
}

/* A trusted page, zeroed; NULL when the pool is empty. */
static void *pool_pop(struct moat_system *sys, uint64_t *phys)
{
	uint64_t *page = sys->pool;

	if (!page)
		return NULL;
	*phys = sys->pool_phys;
	sys->pool = (void *)(uintptr_t)page[0];
	sys->pool_phys = page[1];
	sys->pool_count--;
	moat_memset(page, 0, MOAT_PAGE_SIZE);
	return page;
}

bool core_host_live(const struct moat_system *sys)
{
	return sys->host && sys->host->devices;
}

/*
 * A trusted page for use, or NULL. While a device uses the host domain, the last PAGE_COST pages
 * are kept for the refill that makes more (its new nodes and split tables come from the pool):
 * only the refill itself may take them.
 */
static void *pool_take(struct moat_system *sys, uint64_t *phys)
{
	const uint64_t reserve = core_host_live(sys) && !sys->in_refill ? PAGE_COST : 0;

	if (sys->pool_count <= reserve)
		return NULL;
	return pool_pop(sys, phys);
}

/* ---- punching ---- */

/* Unmap page @phys from the host domain into @g if the host maps it to itself. */
static moat_status punch_page(struct moat_system *sys, uint64_t phys, struct moat_pt_gather *g, bool *punched)
{
	struct moat_domain *host = sys->host;
	uint64_t out = 0;
	moat_status st;

	*punched = false;
	if (!host || phys > host->pt.iova_last)
		return MOAT_OK;
	st = moat_pt_translate(&host->pt, phys, &out, NULL, NULL);
	if (st == MOAT_ERR_NOT_FOUND)
		return MOAT_OK;
	if (st != MOAT_OK)
		return st;
	if (out != phys)
		return MOAT_OK;
	st = moat_pt_unmap_present(&host->pt, phys, MOAT_PAGE_SIZE, g, NULL);
	if (st == MOAT_OK) {
		*punched = true;
		sys->host_page_delta--;
	}
	return st;
}

/* ---- refilling ---- */

/* Give a candidate that never became trusted back to the platform (it was never punched). */
static void candidate_drop(struct moat_system *sys, void *virt, uint64_t phys)
{
	track_clear(sys, phys >> CORE_PAGE_SHIFT, TK_BIT(TK_OWNED) | TK_BIT(TK_PENDING) | TK_BIT(TK_CANDIDATE));
	moat_pages_free(NULL, virt, phys);
}

/*
 * One batch: up to REFILL_BATCH pages from the platform, each owned and pending, punched out of the
 * host domain, then one invalidation; those the device can no longer reach join the pool. Returns
 * how many joined. Always a whole batch, whatever is missing: the first candidate in a new region
 * may cost the pool a few pages (nodes, split tables) that the next ones share.
 */
static unsigned refill_batch(struct moat_system *sys)
{
	void *virt[REFILL_BATCH];
	uint64_t phys[REFILL_BATCH];
	struct moat_pt_gather g;
	const bool live = core_host_live(sys);
	unsigned n = 0, joined = 0;
	bool any = false;

	sys->in_refill = true;
	moat_pt_gather_init(&g);
	while (n < REFILL_BATCH) {
		uint64_t p;
		void *v;
		bool punched = false;

		/* New nodes and split tables of a live host domain come from the pool: keep the reserve. */
		if (live && sys->pool_count < PAGE_COST)
			break;
		v = moat_pages_alloc(NULL, &p);
		if (!v)
			break;
		if (track_test(sys, p >> CORE_PAGE_SHIFT, TK_OWNED)) {
			/* Never given back: it is in use here. */
			moat_log(MOAT_LOG_ERROR, "the platform handed out page 0x%llx, which Moat owns; not used",
				 (unsigned long long)p);
			break;
		}
		if (track_mark(sys, p >> CORE_PAGE_SHIFT, TK_BIT(TK_OWNED) | (sys->host ? TK_BIT(TK_PENDING) : 0)) !=
		    MOAT_OK) {
			moat_pages_free(NULL, v, p);
			break;
		}
		if (punch_page(sys, p, &g, &punched) != MOAT_OK) {
			candidate_drop(sys, v, p);
			break;
		}
		if (punched) {
			track_set(sys, p >> CORE_PAGE_SHIFT, TK_BIT(TK_PUNCHED));
			any = true;
		}
		virt[n] = v;
		phys[n] = p;
		n++;
	}
	if ((any || g.freed_pages || g.tables_changed) && core_gather_finish(sys, sys->host, &g, NULL) != MOAT_OK) {
		/* A device may still reach them: keep them owned and pending, never used. */
		moat_log(MOAT_LOG_ERROR, "%u new pages kept aside: their removal from the host domain was not invalidated",
			 n);
		n = 0;
	}
	for (unsigned i = 0; i < n; i++) {
		track_clear(sys, phys[i] >> CORE_PAGE_SHIFT, TK_BIT(TK_PENDING));
		pool_push(sys, virt[i], phys[i]);
		joined++;
	}
	sys->in_refill = false;
	return joined;
}

bool core_pool_fill(struct moat_system *sys, uint64_t target)
{
	while (sys->pool_count < target) {
		const uint64_t before = sys->pool_count;

		if (!refill_batch(sys) || sys->pool_count <= before)
			return false;   /* no page, or the batch cost what it brought */
	}
	return true;
}

bool core_host_retry(struct moat_system *sys, const struct moat_domain *dom, moat_status st, unsigned *tries)
{
	if (st != MOAT_ERR_NO_MEMORY || dom != sys->host || !core_host_live(sys) || *tries >= HOST_RETRIES)
		return false;
	(*tries)++;
	return core_pool_fill(sys, dom->pt.pages_wanted + MOAT_HOST_POOL);
}

/* ---- runs of consecutive pages ---- */

/*
 * A structure the hardware indexes as one block (AMD-Vi device table, VT-d interrupt-remapping
 * table) needs consecutive pages. They are looked for among platform pages before any is trusted:
 * the pool's own pages would not do, since the tables that punching takes in between (one per
 * 2 MiB of host RAM) cut every run short. Candidates are owned and pending while the search holds
 * them, recorded in the bookkeeping only (TK_CANDIDATE: nothing is stored in a page a device may
 * still write); the run found is punched out of the host domain as one range (only its ends split
 * superpages) under one invalidation, then zeroed; every other candidate goes back untouched.
 */

/* The first frame of an aligned run of @n candidates that holds @pfn, or UINT64_MAX. */
static uint64_t run_around(const struct moat_system *sys, uint64_t pfn, uint32_t n, uint64_t align_pages)
{
	const uint64_t reach = n + align_pages;
	uint64_t lo = pfn, hi = pfn;

	while (lo > 0 && pfn - lo < reach && track_test(sys, lo - 1, TK_CANDIDATE))
		lo--;
	while (hi - pfn < reach && track_test(sys, hi + 1, TK_CANDIDATE))
		hi++;
	if (hi - lo + 1 < n)
		return UINT64_MAX;
	for (uint64_t s0 = (lo + align_pages - 1) / align_pages * align_pages; s0 + (n - 1) <= hi; s0 += align_pages)
		if (s0 + (n - 1) >= pfn)
			return s0;   /* the first run that holds @pfn: none without it was there before */
	return UINT64_MAX;
}

/* Take the run [@start, @start + @n) out of the host domain, that invalidated. On error nothing was
 * taken out, except after a failed invalidation: then the run stays owned and pending, unused. */
static moat_status run_trust(struct moat_system *sys, uint64_t start, uint32_t n)
{
	struct moat_domain *host = sys->host;
	const uint64_t first = start << CORE_PAGE_SHIFT;
	uint64_t size = (uint64_t)n << CORE_PAGE_SHIFT, unmapped = 0;
	struct moat_pt_gather g;
	unsigned tries = 0;
	moat_status st;

	if (!host || first > host->pt.iova_last)
		return MOAT_OK;
	size = MOAT_MIN(size, host->pt.iova_last - first + 1);
	/* which of them go back into the host domain when they are given back */
	for (uint64_t a = first; a - first < size; a += MOAT_PAGE_SIZE) {
		uint64_t out = 0;

		if (moat_pt_translate(&host->pt, a, &out, NULL, NULL) == MOAT_OK && out == a)
			track_set(sys, a >> CORE_PAGE_SHIFT, TK_BIT(TK_PUNCHED));
	}
	moat_pt_gather_init(&g);
	for (;;) {
		st = moat_pt_unmap_present(&host->pt, first, size, &g, &unmapped);
		if (!core_host_retry(sys, host, st, &tries))
			break;
	}
	if (st != MOAT_OK) {
		for (uint64_t a = first; a - first < size; a += MOAT_PAGE_SIZE)
			track_clear(sys, a >> CORE_PAGE_SHIFT, TK_BIT(TK_PUNCHED));
		return st;
	}
	sys->host_page_delta -= (int64_t)(unmapped >> CORE_PAGE_SHIFT);
	st = core_gather_finish(sys, host, &g, NULL);
	if (st != MOAT_OK) {
		moat_log(MOAT_LOG_ERROR, "%u pages kept aside: their removal from the host domain was not invalidated", n);
		for (uint32_t i = 0; i < n; i++)
			track_clear(sys, start + i, TK_BIT(TK_CANDIDATE));
	}
	return st;
}

moat_status core_run_alloc(struct moat_system *sys, uint32_t n, uint64_t align, moat_pages_run_fn put, void *ctx,
			   uint64_t *phys)
{
	const uint64_t align_pages = align ? align >> CORE_PAGE_SHIFT : 1;
	/* as moat_pages_alloc_run(); an alignment beyond the run's size is not searched for longer */
	const uint64_t limit = 2ull * n + MOAT_MIN(align_pages, (uint64_t)n) - 1 + 1024;
	uint64_t lo = UINT64_MAX, hi = 0, start = UINT64_MAX, pfn;
	moat_status st = MOAT_ERR_NO_MEMORY;

	if (!n || !put || !phys || (align & (align - 1)) || (align && align < MOAT_PAGE_SIZE))
		return MOAT_ERR_INVALID_ARG;
	for (uint64_t tries = 0; tries < limit && start == UINT64_MAX; tries++) {
		uint64_t p;
		void *v = moat_pages_alloc(NULL, &p);

		if (!v)
			break;
		pfn = p >> CORE_PAGE_SHIFT;
		if (track_test(sys, pfn, TK_OWNED)) {
			moat_log(MOAT_LOG_ERROR, "the platform handed out page 0x%llx, which Moat owns; not used",
				 (unsigned long long)p);
			break;
		}
		if (track_mark(sys, pfn, TK_BIT(TK_OWNED) | TK_BIT(TK_PENDING) | TK_BIT(TK_CANDIDATE)) != MOAT_OK) {
			moat_pages_free(NULL, v, p);
			break;
		}
		lo = MOAT_MIN(lo, pfn);
		hi = MOAT_MAX(hi, pfn);
		start = run_around(sys, pfn, n, align_pages);
	}
	if (start != UINT64_MAX)
		st = run_trust(sys, start, n);
	if (st == MOAT_OK) {
		for (uint32_t i = 0; i < n; i++) {
			void *v = moat_plat_phys_to_virt((start + i) << CORE_PAGE_SHIFT);

			track_clear(sys, start + i, TK_BIT(TK_CANDIDATE) | TK_BIT(TK_PENDING));
			moat_memset(v, 0, MOAT_PAGE_SIZE);
			put(ctx, i, v);
		}
		*phys = start << CORE_PAGE_SHIFT;
	}
	/* every other candidate back, untouched */
	for (uint64_t from = lo; lo <= hi && track_next(sys, TK_CANDIDATE, TK_KINDS, from, hi, &pfn); from = pfn + 1)
		candidate_drop(sys, moat_plat_phys_to_virt(pfn << CORE_PAGE_SHIFT), pfn << CORE_PAGE_SHIFT);
	return st;
}

/* ---- allocation ---- */

void *core_page_alloc(struct moat_system *sys, uint64_t *phys, unsigned extra)
{
	uint64_t p = 0;
	void *virt = pool_take(sys, &p);

	if (!virt && core_pool_fill(sys, MOAT_HOST_POOL))
		virt = pool_take(sys, &p);
	if (!virt)
		return NULL;
	if (extra)
		track_set(sys, p >> CORE_PAGE_SHIFT, extra);
	*phys = p;
	return virt;
}

/*
 * A table page of the host domain: trusted from the pool; while no device uses the domain, else a
 * platform page, pending until the end of the operation; NULL when neither (the operation fails
 * unchanged and core_host_retry() grows the pool).
 */
static void *host_page_alloc(struct moat_system *sys, uint64_t *phys)
{
	uint64_t p;
	void *virt = pool_take(sys, &p);

	if (virt) {
		track_set(sys, p >> CORE_PAGE_SHIFT, TK_BIT(TK_TABLE));
		*phys = p;
		return virt;
	}
	if (core_host_live(sys))
		return NULL;
	virt = moat_pages_alloc(NULL, &p);
	if (!virt)
		return NULL;
	if (track_mark(sys, p >> CORE_PAGE_SHIFT, TK_BIT(TK_OWNED) | TK_BIT(TK_TABLE) | TK_BIT(TK_PENDING)) != MOAT_OK) {
		moat_pages_free(NULL, virt, p);
		return NULL;
	}
	*phys = p;
	return virt;
}

void *core_node_alloc(struct moat_system *sys, uint64_t *phys, bool *pooled)
{
	void *virt;

	*pooled = core_host_live(sys);
	if (*pooled)
		return pool_take(sys, phys);
	virt = moat_pages_alloc(NULL, phys);
	if (virt)
		moat_memset(virt, 0, MOAT_PAGE_SIZE);
	return virt;
}

void core_node_free(struct moat_system *sys, void *virt, uint64_t phys, bool pooled)
{
	if (pooled)
		pool_push(sys, virt, phys);
	else
		moat_pages_free(NULL, virt, phys);
}

/* Back to the platform; a punched page goes back into the host domain at the end of the operation. */
static void page_give_back(struct moat_system *sys, void *virt, uint64_t phys)
{
	uint64_t pfn = phys >> CORE_PAGE_SHIFT;
	bool punched = track_test(sys, pfn, TK_PUNCHED);

	track_clear(sys, pfn, TK_BIT(TK_OWNED) | TK_BIT(TK_TABLE) | TK_BIT(TK_PENDING) | TK_BIT(TK_PUNCHED));
	if (punched && sys->host)
		track_set(sys, pfn, TK_BIT(TK_RESTORE));
	moat_pages_free(NULL, virt, phys);
}

void core_page_free(struct moat_system *sys, void *virt, uint64_t phys)
{
	const uint64_t pfn = phys >> CORE_PAGE_SHIFT;

	/* Unreachable still (a pending page is not: it may lie in the host domain): the pool keeps it
	 * while it is short, saving the next refill a round trip. */
	if (sys->pool_count < MOAT_HOST_POOL && !track_test(sys, pfn, TK_PENDING)) {
		track_clear(sys, pfn, TK_BIT(TK_TABLE));
		pool_push(sys, virt, phys);
		return;
	}
	page_give_back(sys, virt, phys);
}

/* ---- engine ops of a domain ---- */

static void *dom_pt_alloc(void *cookie, uint64_t *phys)
{
	struct moat_domain *dom = cookie;

	if (dom == dom->sys->host)
		return host_page_alloc(dom->sys, phys);
	return core_page_alloc(dom->sys, phys, TK_BIT(TK_TABLE));
}

static void dom_pt_free(void *cookie, void *virt, uint64_t phys)
{
	struct moat_domain *dom = cookie;

	core_page_free(dom->sys, virt, phys);
}

struct moat_pt_ops core_pt_ops(struct moat_domain *dom)
{
	struct moat_pt_ops ops = moat_pt_platform_ops();   /* phys_to_virt and the flushes */

	ops.alloc = dom_pt_alloc;
	ops.free = dom_pt_free;
	ops.cookie = dom;
	return ops;
}

/* ---- settling the host domain ---- */

/* Punch every pending page, batched into one invalidation. */
static moat_status settle_pending(struct moat_system *sys)
{
	struct moat_pt_gather g;
	uint64_t from = 0, pfn;
	moat_status st = MOAT_OK, fst;
	bool any = false;

	moat_pt_gather_init(&g);
	while (sys->track.pending && track_next(sys, TK_PENDING, TK_KINDS, from, CORE_PFN_LIMIT - 1, &pfn)) {
		bool punched;

		track_clear(sys, pfn, TK_BIT(TK_PENDING));
		st = punch_page(sys, pfn << CORE_PAGE_SHIFT, &g, &punched);
		if (st != MOAT_OK) {
			track_set(sys, pfn, TK_BIT(TK_PENDING));
			break;
		}
		if (punched) {
			track_set(sys, pfn, TK_BIT(TK_PUNCHED));
			any = true;
		}
		from = pfn + 1;
	}
	if (any || g.freed_pages || g.tables_changed) {
		fst = core_gather_finish(sys, sys->host, &g, NULL);
		if (st == MOAT_OK)
			st = fst;
	}
	return st;
}

/* Map freed punched pages back into the host domain; those that need a table page the pool does not
 * have stay marked for the next pass. */
static moat_status settle_restore(struct moat_system *sys)
{
	struct moat_domain *host = sys->host;
	uint64_t from = 0, pfn, lo = UINT64_MAX, hi = 0;
	moat_status st = MOAT_OK;

	while (sys->track.restore && track_next(sys, TK_RESTORE, TK_KINDS, from, CORE_PFN_LIMIT - 1, &pfn)) {
		uint64_t phys = pfn << CORE_PAGE_SHIFT;
		moat_status mst;

		track_clear(sys, pfn, TK_BIT(TK_RESTORE));
		from = pfn + 1;
		if (phys > host->pt.iova_last || core_prot_find(sys, phys, phys + CORE_PAGE_MASK) >= 0)
			continue;
		mst = moat_pt_map(&host->pt, phys, phys, MOAT_PAGE_SIZE, MOAT_PT_RW);
		if (mst == MOAT_OK) {
			sys->host_page_delta++;
			lo = MOAT_MIN(lo, phys);
			hi = MOAT_MAX(hi, phys + CORE_PAGE_MASK);
		} else if (mst == MOAT_ERR_NO_MEMORY && core_host_live(sys)) {
			track_set(sys, pfn, TK_BIT(TK_RESTORE));   /* after the pool grew */
			st = mst;
			break;
		} else if (mst != MOAT_ERR_OVERLAP) {
			/* Left out of the host domain: the safe side. */
			moat_log(MOAT_LOG_WARN, "page 0x%llx not mapped back into the host domain: %s",
				 (unsigned long long)phys, moat_status_str(mst));
			st = mst;
		}
	}
	if (lo <= hi && core_any_unit_flag(sys, MOAT_UNIT_F_INVAL_ON_MAP))
		core_invalidate(sys, host, lo, hi - lo + 1, false, NULL);
	return st;
}

moat_status core_settle(struct moat_system *sys, unsigned *passes)
{
	return core_settle_opt(sys, passes, true);
}

moat_status core_settle_opt(struct moat_system *sys, unsigned *passes, bool refill)
{
	moat_status st = MOAT_OK;
	unsigned pass, rounds = 0;

	if (sys->in_settle)
		return MOAT_OK;
	sys->in_settle = true;
	for (pass = 0; pass < SETTLE_MAX_PASSES; pass++) {
		bool short_of_pages = false;

		if (!sys->host) {
			if (sys->track.pending)
				track_clear_all(sys, TK_PENDING);
			if (sys->track.restore)
				track_clear_all(sys, TK_RESTORE);
			break;
		}
		if (!sys->track.pending && !sys->track.restore && (!refill || sys->pool_count >= MOAT_HOST_POOL))
			break;
		rounds++;
		if (sys->track.pending) {
			st = settle_pending(sys);
			if (st == MOAT_ERR_NO_MEMORY && core_host_live(sys))
				short_of_pages = true;
			else if (st != MOAT_OK)
				break;
		}
		if (sys->track.restore && settle_restore(sys) == MOAT_ERR_NO_MEMORY)
			short_of_pages = true;
		if ((refill || short_of_pages) && sys->pool_count < MOAT_HOST_POOL + (short_of_pages ? PAGE_COST : 0) &&
		    !core_pool_fill(sys, MOAT_HOST_POOL + (short_of_pages ? PAGE_COST : 0)) && short_of_pages) {
			st = MOAT_ERR_NO_MEMORY;
			break;
		}
		if (!short_of_pages && !sys->track.pending && !sys->track.restore)
			break;
		st = MOAT_OK;
	}
	if (passes)
		*passes = rounds;
	if (st == MOAT_OK && sys->track.pending) {
		st = MOAT_ERR_STATE;
		moat_log(MOAT_LOG_ERROR, "%llu Moat-owned pages still mapped in the host domain after %u passes",
			 (unsigned long long)sys->track.pending, rounds);
	} else if (st != MOAT_OK) {
		moat_log(MOAT_LOG_ERROR, "taking Moat-owned pages out of the host domain failed: %s",
			 moat_status_str(st));
	}
	sys->in_settle = false;
	return st;
}

bool core_pool_prefill(struct moat_system *sys)
{
	if (!sys->host)
		core_pool_fill(sys, MOAT_HOST_POOL);
	return sys->pool_count > 0;
}

void core_pool_drain(struct moat_system *sys)
{
	while (sys->pool) {
		uint64_t phys;
		void *virt = pool_pop(sys, &phys);

		track_clear(sys, phys >> CORE_PAGE_SHIFT, TK_BIT(TK_OWNED) | TK_BIT(TK_PUNCHED));
		moat_pages_free(NULL, virt, phys);
	}
}

/* ---- public page functions ---- */

void *moat_page_alloc(struct moat_system *sys, uint64_t *phys)
{
	void *virt;

	if (!core_sys_ok(sys) || !phys)
		return NULL;
	core_lock(sys);
	virt = core_page_alloc(sys, phys, 0);
	core_settle(sys, NULL);
	core_unlock(sys);
	return virt;
}

void moat_page_free(struct moat_system *sys, void *virt, uint64_t phys)
{
	if (!core_sys_ok(sys) || !virt)
		return;
	core_lock(sys);
	page_give_back(sys, virt, phys);
	core_settle(sys, NULL);
	core_unlock(sys);
}

moat_status moat_page_adopt(struct moat_system *sys, uint64_t phys)
{
	const uint64_t pfn = phys >> CORE_PAGE_SHIFT;
	moat_status st;

	if (!core_sys_ok(sys))
		return MOAT_ERR_INVALID_ARG;
	if (phys & CORE_PAGE_MASK)
		return MOAT_ERR_ALIGNMENT;
	if (phys >= CORE_PHYS_LIMIT)
		return MOAT_ERR_INVALID_ARG;
	core_lock(sys);
	if (track_test(sys, pfn, TK_OWNED)) {
		st = MOAT_ERR_OVERLAP;
	} else {
		st = track_mark(sys, pfn, TK_BIT(TK_OWNED) | (sys->host ? TK_BIT(TK_PENDING) : 0));
		/* Out of the host domain, invalidated, before this returns (the pool grows if a split
		 * needs it); a page that cannot be taken out is not adopted. */
		if (st == MOAT_OK && core_settle(sys, NULL) != MOAT_OK && track_test(sys, pfn, TK_PENDING)) {
			track_clear(sys, pfn, TK_BIT(TK_OWNED) | TK_BIT(TK_PENDING));
			st = MOAT_ERR_NO_MEMORY;
		}
	}
	core_unlock(sys);
	return st;
}

void *moat_unit_page_alloc(struct moat_unit *u, uint64_t *phys)
{
	if (!u || !core_sys_ok(u->sys) || !phys)
		return NULL;
	return core_page_alloc(u->sys, phys, 0);
}

void moat_unit_page_free(struct moat_unit *u, void *virt, uint64_t phys)
{
	if (!u || !core_sys_ok(u->sys) || !virt)
		return;
	page_give_back(u->sys, virt, phys);
}

static void *unit_pages_alloc(void *ctx, uint64_t *phys)
{
	return moat_unit_page_alloc(ctx, phys);
}

static void unit_pages_free(void *ctx, void *virt, uint64_t phys)
{
	moat_unit_page_free(ctx, virt, phys);
}

static moat_status unit_pages_run(void *ctx, uint32_t n, uint64_t align, moat_pages_run_fn put, void *put_ctx,
				  uint64_t *phys)
{
	struct moat_unit *u = ctx;

	if (!u || !core_sys_ok(u->sys))
		return MOAT_ERR_INVALID_ARG;
	return core_run_alloc(u->sys, n, align, put, put_ctx, phys);
}

struct moat_pages moat_unit_pages(struct moat_unit *u)
{
	return (struct moat_pages){ unit_pages_alloc, unit_pages_free, u, unit_pages_run };
}

uint64_t moat_owned_pages(const struct moat_system *sys)
{
	return core_sys_ok(sys) ? sys->track.owned : 0;
}
