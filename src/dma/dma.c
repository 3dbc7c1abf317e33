/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DMA API (include/moat/dma.h): IOVAs from the allocator, table edits and invalidations
 * through the core's DMA support (include/moat/internal/dma_core.h), mapping records in an
 * open-addressing table shared by the CPUs without a lock, the limit of max_mappings in per-CPU
 * shares, and the flush queue of the deferred policy.
 *
 * Records: linear probing from a home slot; a slot's key is 0 (never used: a search stops), the
 * first IOVA frame + 1 (live), TOMB (ended: searches go on, inserts take it) or BUSY | key (an
 * map whose entries are not confirmed yet, or an unmap that claimed it). A map claims a free slot
 * with compare-and-swap once its entries are written, fills it, and publishes the key when the map
 * is confirmed (or ends it when the map fails: no unmap can take a record of a map under way); an
 * unmap claims the live key with compare-and-swap (so two unmaps of one mapping end it once),
 * checks the call against the record and either gives the key back (nothing changes) or ends it
 * with TOMB once the entries are gone.
 * Slots never become 0 again, so nothing between a record and its home is ever 0, and the longest
 * distance an insert went (rec_reach) bounds every search. No record is ever moved.
 *
 * Credits: max_mappings of them, each live mapping holding one. A CPU takes from its own share
 * (one compare-and-swap on its own line), else a batch from the pool, else one from any CPU's
 * share; an unmap gives its credit to its CPU's share, which returns a batch to the pool past two
 * batches.
 *
 * Lock order: the struct moat_dma's lock, then the allocator's locks, then the system's lock
 * (taken inside the core's functions and moat_page_alloc()).
 */
#include <moat/dma.h>
#include <moat/internal/lib.h>

#define DMA_MAGIC 0x646d6170u   /* "dmap" */
#define PAGE_SHIFT 12u
#define PAGE_SIZE 4096u
#define PAGE_MASK 0xfffull
#define RECS_PER_PAGE (PAGE_SIZE / sizeof(struct moat_dma_rec))
#define SG_MAX 1024u
#define PHYS_LIMIT (1ull << 52)
#define NP_BITS 20u
#define NP_MAX (1ull << NP_BITS)   /* pages in one mapping */
#define IOVA_LIMIT (1ull << 56)    /* queue entries: first frame << NP_BITS | (pages - 1) */

#define KEY_TOMB UINT64_MAX        /* an ended record */
#define KEY_BUSY (1ull << 63)      /* | key: claimed (live keys are below 2^45) */
#define CREDIT_BATCH 32

/* A record slot: key (see above) and what the mapping was made with (struct rec_info packed:
 * rec_pack()), each read and written atomically. */
struct moat_dma_rec {
	uint64_t key;
	uint64_t info;
};

/* One live mapping: its length - 1 (a list: its pages - 1), the offset in the first page,
 * direction and kind. */
struct rec_info {
	uint32_t len_m1;
	uint16_t offset;
	uint8_t dir;
	uint8_t sg;
};

MOAT_STATIC_ASSERT(sizeof(struct moat_dma_rec) == 16, "a record is 16 bytes");
MOAT_STATIC_ASSERT(((IOVA_LIMIT >> PAGE_SHIFT) + 1) < KEY_BUSY, "keys leave the claim bit free");
MOAT_STATIC_ASSERT(MOAT_DMA_FQ_PER_PAGE * sizeof(uint64_t) == PAGE_SIZE, "a queue page holds 512 entries");

static bool dma_ok(const struct moat_dma *d)
{
	return d && d->magic == DMA_MAGIC;
}

/* ---- pages (Moat-owned: protected, out of the host domain) ---- */

static void *sys_page_alloc(void *ctx, uint64_t *phys)
{
	return moat_page_alloc(ctx, phys);
}

static void sys_page_free(void *ctx, void *virt, uint64_t phys)
{
	moat_page_free(ctx, virt, phys);
}

/* ---- records ---- */

static struct moat_dma_rec *slot(const struct moat_dma *d, uint32_t i)
{
	return &d->rec_pages[i / RECS_PER_PAGE][i % RECS_PER_PAGE];
}

static uint32_t home(const struct moat_dma *d, uint64_t key)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (d->rec_slots - 1);
}

static uint64_t rec_pack(const struct rec_info *r)
{
	return (uint64_t)r->len_m1 | (uint64_t)r->offset << 32 | (uint64_t)r->dir << 48 | (uint64_t)r->sg << 56;
}

static struct rec_info rec_unpack(uint64_t v)
{
	return (struct rec_info){ (uint32_t)v, (uint16_t)(v >> 32), (uint8_t)(v >> 48), (uint8_t)(v >> 56) };
}

/* The pages a mapping spans. */
static uint64_t rec_pages(const struct rec_info *r)
{
	return r->sg ? (uint64_t)r->len_m1 + 1 : ((r->offset + (uint64_t)r->len_m1) >> PAGE_SHIFT) + 1;
}

/* The slot holding live @key, or NULL. */
static struct moat_dma_rec *rec_find(const struct moat_dma *d, uint64_t key)
{
	const uint32_t reach = __atomic_load_n(&d->rec_reach, __ATOMIC_ACQUIRE);
	uint32_t i = home(d, key);

	for (uint32_t dist = 0; dist <= reach; dist++, i = (i + 1) & (d->rec_slots - 1)) {
		struct moat_dma_rec *r = slot(d, i);
		const uint64_t k = __atomic_load_n(&r->key, __ATOMIC_ACQUIRE);

		if (k == key)
			return r;
		if (!k)
			return NULL;
	}
	return NULL;
}

/*
 * Record the mapping at @pfn, still claimed (BUSY | key: no unmap can take it before rec_open()):
 * its slot, or NULL only when none is free (credits keep half of them free). Takes the slot with
 * compare-and-swap (a full barrier: see moat_dma_core_map()).
 */
static struct moat_dma_rec *rec_insert(struct moat_dma *d, uint64_t pfn, const struct rec_info *info)
{
	const uint64_t key = pfn + 1;
	uint32_t i = home(d, key);

	for (uint32_t dist = 0; dist < d->rec_slots; dist++, i = (i + 1) & (d->rec_slots - 1)) {
		struct moat_dma_rec *r = slot(d, i);
		uint64_t k = __atomic_load_n(&r->key, __ATOMIC_RELAXED);
		uint32_t reach;

		if ((k && k != KEY_TOMB) ||
		    !__atomic_compare_exchange_n(&r->key, &k, KEY_BUSY | key, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&r->info, rec_pack(info), __ATOMIC_RELAXED);
		/* searches must reach the slot before they can see the key */
		reach = __atomic_load_n(&d->rec_reach, __ATOMIC_RELAXED);
		while (dist > reach && !__atomic_compare_exchange_n(&d->rec_reach, &reach, dist, true, __ATOMIC_RELEASE,
								      __ATOMIC_RELAXED))
			;
		return r;
	}
	return NULL;
}

/* Claim the live record of @key for an unmap: the slot, or NULL (none, or another unmap has it). */
static struct moat_dma_rec *rec_claim(struct moat_dma *d, uint64_t key, struct rec_info *info)
{
	struct moat_dma_rec *r = rec_find(d, key);
	uint64_t k = key;

	if (!r || !__atomic_compare_exchange_n(&r->key, &k, KEY_BUSY | key, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return NULL;
	*info = rec_unpack(__atomic_load_n(&r->info, __ATOMIC_RELAXED));
	return r;
}

/* Make a claimed record live: a new one once its map is confirmed, or one an unmap gave back. */
static void rec_open(struct moat_dma_rec *r, uint64_t key)
{
	__atomic_store_n(&r->key, key, __ATOMIC_RELEASE);
}

/* End a claimed record (before its IOVAs go back to the allocator, or when its map failed). */
static void rec_end(struct moat_dma_rec *r)
{
	__atomic_store_n(&r->key, KEY_TOMB, __ATOMIC_RELEASE);
}

/* ---- credits and per-CPU counters ---- */

/* A CPU's word: the maps it made << CPU_MAPS_SHIFT | its credits (at most max_mappings). */
#define CPU_MAPS_SHIFT 20
#define CPU_MAP (1ull << CPU_MAPS_SHIFT)
#define CPU_CREDITS (CPU_MAP - 1)
MOAT_STATIC_ASSERT(65536u + 2 * CREDIT_BATCH < CPU_CREDITS, "credits fit below the map count");

static struct moat_dma_cpu *this_cpu(struct moat_dma *d)
{
	return &d->cpu[moat_plat_cpu_id() % MOAT_MAX_CPUS];
}

/* Take one credit from a CPU's word, adding @maps to its count. */
static bool credit_from(uint64_t *word, uint64_t maps)
{
	uint64_t w = __atomic_load_n(word, __ATOMIC_RELAXED);

	while (w & CPU_CREDITS)
		if (__atomic_compare_exchange_n(word, &w, w - 1 + maps, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return true;
	return false;
}

/*
 * A credit for a new mapping, counted as a map of @c (one compare-and-swap on @c's own line while
 * its share lasts); false when max_mappings are live or held by maps under way.
 */
static bool credit_take(struct moat_dma *d, struct moat_dma_cpu *c)
{
	int64_t have;

	if (credit_from(&c->word, CPU_MAP))
		return true;
	have = __atomic_load_n(&d->credits, __ATOMIC_RELAXED);
	while (have > 0) {
		const int64_t take = MOAT_MIN(have, CREDIT_BATCH);

		if (__atomic_compare_exchange_n(&d->credits, &have, have - take, true, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			__atomic_fetch_add(&c->word, (uint64_t)(take - 1) + CPU_MAP, __ATOMIC_RELAXED);
			return true;
		}
	}
	for (unsigned i = 0; i < MOAT_MAX_CPUS; i++) {
		if (credit_from(&d->cpu[i].word, 0)) {
			__atomic_fetch_add(&c->word, CPU_MAP, __ATOMIC_RELAXED);
			return true;
		}
	}
	return false;
}

/* A mapping ended (@mapped) or was never made: its credit back to @c's share, which returns a
 * batch to the pool past two. */
static void credit_give(struct moat_dma *d, struct moat_dma_cpu *c, bool mapped)
{
	uint64_t w = __atomic_add_fetch(&c->word, mapped ? 1 : 1 - CPU_MAP, __ATOMIC_RELAXED);

	if ((w & CPU_CREDITS) > 2 * CREDIT_BATCH &&
	    __atomic_compare_exchange_n(&c->word, &w, w - CREDIT_BATCH, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		__atomic_fetch_add(&d->credits, CREDIT_BATCH, __ATOMIC_RELAXED);
}

static void records_free(struct moat_dma *d)
{
	struct moat_system *sys = d->dom->sys;

	for (uint32_t p = 0; d->rec_pages && p < d->rec_npages; p++)
		if (d->rec_pages[p])
			moat_page_free(sys, d->rec_pages[p], d->rec_phys[p]);
	if (d->rec_phys)
		moat_page_free(sys, d->rec_phys, d->rec_phys_page);
	if (d->rec_pages)
		moat_page_free(sys, d->rec_pages, d->rec_pages_phys);
	d->rec_pages = NULL;
	d->rec_phys = NULL;
}

static moat_status records_alloc(struct moat_dma *d)
{
	struct moat_system *sys = d->dom->sys;
	uint32_t slots = 512;

	while (slots < 2u * d->cfg.max_mappings)
		slots <<= 1;
	d->rec_slots = slots;
	d->rec_npages = (uint32_t)(slots / RECS_PER_PAGE);
	d->rec_pages = moat_page_alloc(sys, &d->rec_pages_phys);
	d->rec_phys = moat_page_alloc(sys, &d->rec_phys_page);
	if (!d->rec_pages || !d->rec_phys)
		goto fail;
	moat_memset(d->rec_pages, 0, PAGE_SIZE);
	for (uint32_t p = 0; p < d->rec_npages; p++) {
		d->rec_pages[p] = moat_page_alloc(sys, &d->rec_phys[p]);
		if (!d->rec_pages[p])
			goto fail;
		moat_memset(d->rec_pages[p], 0, PAGE_SIZE);
	}
	return MOAT_OK;
fail:
	records_free(d);
	return MOAT_ERR_NO_MEMORY;
}

/* ---- flush queue ---- */

static uint64_t *fq_at(const struct moat_dma *d, unsigned i)
{
	return &d->fq[i / MOAT_DMA_FQ_PER_PAGE][i % MOAT_DMA_FQ_PER_PAGE];
}

static void fq_free(struct moat_dma *d)
{
	for (unsigned p = 0; p < MOAT_DMA_FQ_PAGES; p++) {
		if (d->fq[p])
			moat_page_free(d->dom->sys, d->fq[p], d->fq_phys[p]);
		d->fq[p] = NULL;
	}
}

/*
 * One invalidation for everything queued, then the queued IOVAs go back to the allocator. Lock
 * held. On an invalidation failure the queue is kept (its IOVAs are not reused).
 */
static moat_status fq_flush(struct moat_dma *d, struct moat_diag *diag)
{
	uint64_t window;
	moat_status st;

	if (!d->fq_count)
		return MOAT_OK;
	if (!d->held.unmapped) {
		/* a failed flush emptied the gather: cover the whole domain */
		d->held.iova_first = 0;
		d->held.iova_last = UINT64_MAX;
		d->held.unmapped = MOAT_PAGE_SIZE;
	}
	st = moat_dma_core_invalidate(&d->core, &d->held, true, diag);
	if (st != MOAT_OK)
		return st;
	window = moat_plat_time_ns() - d->fq_start_ns;
	if (window > d->max_window_ns)
		d->max_window_ns = window;
	d->flushes++;
	for (unsigned i = 0; i < d->fq_count; i++) {
		const uint64_t e = *fq_at(d, i);

		moat_iova_free(&d->iova, e >> NP_BITS, (e & (NP_MAX - 1)) + 1);
	}
	__atomic_store_n(&d->fq_count, 0, __ATOMIC_RELAXED);   /* peeked at without the lock */
	return MOAT_OK;
}

/* The oldest queued unmap waited the time bound by @now (a clock read that may predate the
 * oldest entry when another CPU queued it meanwhile: then not). Lock held. */
static bool fq_expired(const struct moat_dma *d, uint64_t now)
{
	return d->fq_count && now > d->fq_start_ns && now - d->fq_start_ns >= d->cfg.fq_timeout_ns;
}

/*
 * Queue a deferred unmap of @npages pages whose entries are gone (its range is in d->held); flush
 * when the queue is full or its oldest entry waited the time bound. @now: the clock read before
 * the lock was taken (so the window measured can only come out longer). Lock held.
 */
static moat_status fq_add(struct moat_dma *d, uint64_t pfn, uint64_t npages, uint64_t now,
			  struct moat_diag *diag)
{
	if (d->fq_count == d->cfg.fq_entries) {
		/* a flush failed before: try again; failing, these IOVAs stay out of use for good */
		moat_status st = fq_flush(d, diag);

		if (st != MOAT_OK)
			return st;
	}
	if (!d->fq_count)
		__atomic_store_n(&d->fq_start_ns, now, __ATOMIC_RELAXED);   /* read without the lock */
	*fq_at(d, d->fq_count) = pfn << NP_BITS | (npages - 1);
	__atomic_store_n(&d->fq_count, d->fq_count + 1, __ATOMIC_RELAXED);
	if (d->fq_count == d->cfg.fq_entries || fq_expired(d, now))
		return fq_flush(d, diag);
	return MOAT_OK;
}

/* The time bound, on a map call: a look without the lock, the lock only for a flush that looks
 * due (@now is read before it, so an entry queued meanwhile is younger). */
static void fq_poll(struct moat_dma *d)
{
	uint64_t now, start;

	if (d->cfg.policy != MOAT_DMA_DEFERRED || !__atomic_load_n(&d->fq_count, __ATOMIC_RELAXED))
		return;
	now = moat_plat_time_ns();
	start = __atomic_load_n(&d->fq_start_ns, __ATOMIC_RELAXED);
	if (now <= start || now - start < d->cfg.fq_timeout_ns)
		return;
	moat_plat_lock_acquire(&d->lock);
	if (fq_expired(d, now))
		fq_flush(d, NULL);
	moat_plat_lock_release(&d->lock);
}

/* ---- init / fini ---- */

/* IOVAs the domain maps already (reserved regions): out of the allocator. */
static moat_status reserve_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	struct moat_dma *d = ctx;
	uint64_t first = MOAT_MAX(iova, d->cfg.iova_base), last = MOAT_MIN(iova + (size - 1), d->cfg.iova_last);

	(void)phys;
	(void)prot;
	if (first > last)
		return MOAT_OK;
	return moat_iova_reserve(&d->iova, first >> PAGE_SHIFT, ((last - first) >> PAGE_SHIFT) + 1);
}

static moat_status check_config(struct moat_dma *d, const struct moat_domain *dom, struct moat_diag *diag)
{
	if (d->cfg.policy != MOAT_DMA_STRICT && d->cfg.policy != MOAT_DMA_DEFERRED)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "dma: unknown policy %d", (int)d->cfg.policy);
	if (!d->cfg.fq_entries)
		d->cfg.fq_entries = MOAT_DMA_FQ_DEFAULT;
	if (!d->cfg.fq_timeout_ns)
		d->cfg.fq_timeout_ns = MOAT_DMA_TIMEOUT_DEFAULT_NS;
	if (!d->cfg.max_mappings)
		d->cfg.max_mappings = MOAT_DMA_MAPPINGS_DEFAULT;
	if (!d->cfg.iova_base && !d->cfg.iova_last) {
		d->cfg.iova_base = 1ull << 20;
		d->cfg.iova_last = MOAT_MIN(dom->pt.iova_last, IOVA_LIMIT - 1);
	}
	if (d->cfg.fq_entries > MOAT_DMA_FQ_MAX || d->cfg.max_mappings > 65536u ||
	    (d->cfg.iova_base & PAGE_MASK) || (d->cfg.iova_last & PAGE_MASK) != PAGE_MASK ||
	    d->cfg.iova_base >= d->cfg.iova_last || d->cfg.iova_last > dom->pt.iova_last || !d->cfg.iova_base ||
	    d->cfg.iova_last >= IOVA_LIMIT)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: bad configuration (queue %u, mappings %u, IOVA [0x%llx, 0x%llx])",
				     d->cfg.fq_entries, (unsigned)d->cfg.max_mappings,
				     (unsigned long long)d->cfg.iova_base, (unsigned long long)d->cfg.iova_last);
	return MOAT_OK;
}

moat_status moat_dma_init(struct moat_dma *d, struct moat_domain *dom, const struct moat_dma_config *cfg,
			  struct moat_diag *diag)
{
	const struct moat_pt_walk_ops walk = { .leaf = reserve_leaf };
	struct moat_iova_config ic;
	struct moat_pages src;
	moat_status st;

	if (!d || !dom || !dom->sys || dom->host || !dom->pt.root)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: needs a live domain other than the host's");
	/* a live instance keeps its mappings: zeroing it would lose them for good */
	if (dma_ok(d))
		return moat_diag_set(diag, MOAT_ERR_BUSY, NULL, 0,
				     "dma: this struct moat_dma is live (it serves a domain): moat_dma_fini() it first");
	moat_memset(d, 0, sizeof(*d));
	if (cfg)
		d->cfg = *cfg;
	else
		d->cfg.policy = MOAT_DMA_STRICT;
	st = check_config(d, dom, diag);
	if (st != MOAT_OK)
		return st;
	d->dom = dom;
	ic = (struct moat_iova_config){ .base_pfn = d->cfg.iova_base >> PAGE_SHIFT,
					.last_pfn = d->cfg.iova_last >> PAGE_SHIFT, .no_cache = d->cfg.no_cache };
	src = (struct moat_pages){ sys_page_alloc, sys_page_free, dom->sys, NULL };
	st = moat_dma_core_attach(&d->core, dom, diag);
	if (st != MOAT_OK)
		return st;
	st = moat_iova_init(&d->iova, &ic, &src);
	if (st != MOAT_OK) {
		moat_dma_core_detach(&d->core);
		return moat_diag_set(diag, st, NULL, 0, "dma: IOVA allocator: %s", moat_status_text(st));
	}
	st = moat_pt_walk(&dom->pt, &walk, d);
	if (st == MOAT_OK)
		st = records_alloc(d);
	for (unsigned p = 0; st == MOAT_OK && d->cfg.policy == MOAT_DMA_DEFERRED &&
			     p * MOAT_DMA_FQ_PER_PAGE < d->cfg.fq_entries; p++) {
		d->fq[p] = moat_page_alloc(dom->sys, &d->fq_phys[p]);
		if (!d->fq[p])
			st = MOAT_ERR_NO_MEMORY;
	}
	if (st != MOAT_OK) {
		records_free(d);
		fq_free(d);
		moat_iova_fini(&d->iova);
		moat_dma_core_detach(&d->core);
		return moat_diag_set(diag, st, NULL, 0,
				     "dma: no memory for the records, the queue or the IOVA space: %s", moat_status_text(st));
	}
	moat_pt_gather_init(&d->held);
	moat_plat_lock_init(&d->lock);
	d->credits = d->cfg.max_mappings;
	d->magic = DMA_MAGIC;
	return MOAT_OK;
}

moat_status moat_dma_fini(struct moat_dma *d)
{
	moat_status st;

	if (!dma_ok(d))
		return MOAT_ERR_INVALID_ARG;
	moat_plat_lock_acquire(&d->lock);
	/* everything still mapped goes, with the queue, under one invalidation */
	for (uint32_t i = 0; i < d->rec_slots; i++) {
		const struct moat_dma_rec *r = slot(d, i);
		const struct rec_info info = rec_unpack(r->info);

		if (r->key && r->key != KEY_TOMB && !(r->key & KEY_BUSY))
			moat_dma_core_unmap(&d->core, NULL, (r->key - 1) << PAGE_SHIFT, rec_pages(&info), &d->held);
	}
	st = MOAT_OK;
	if (d->held.unmapped || d->held.freed_pages || d->held.tables_changed)
		st = moat_dma_core_invalidate(&d->core, &d->held, true, NULL);
	d->magic = 0;
	moat_plat_lock_release(&d->lock);
	moat_plat_lock_fini(&d->lock);
	records_free(d);
	fq_free(d);
	moat_iova_fini(&d->iova);
	moat_dma_core_detach(&d->core);
	return st;
}

/* ---- map / unmap ---- */

static unsigned dir_prot(enum moat_dma_dir dir)
{
	switch (dir) {
	case MOAT_DMA_TO_DEVICE:
		return MOAT_PT_READ;
	case MOAT_DMA_FROM_DEVICE:
		return MOAT_PT_WRITE;
	case MOAT_DMA_BIDIRECTIONAL:
		return MOAT_PT_RW;
	}
	return 0;
}

/* Pages of [start, start + len), or 0 when it is empty, wraps or passes @last. */
static uint64_t span_pages(uint64_t start, uint64_t len, uint64_t last)
{
	if (!len || start + (len - 1) < start || start + (len - 1) > last)
		return 0;
	return ((start + len - 1) >> PAGE_SHIFT) - (start >> PAGE_SHIFT) + 1;
}

/* Pages of the buffer [phys, phys + len), or 0 when it is empty, wraps or passes 2^52. */
static uint64_t buf_pages(uint64_t phys, uint64_t len)
{
	return span_pages(phys, len, PHYS_LIMIT - 1);
}

/* Pages of the device range [iova, iova + len), or 0 when it is empty, wraps or passes the top of
 * the IOVA space (which may lie past 2^52: 5-level VT-d, 5- and 6-level AMD-Vi). */
static uint64_t iova_pages(const struct moat_dma *d, uint64_t iova, uint64_t len)
{
	return span_pages(iova, len, d->cfg.iova_last);
}

/* The last IOVA frame whose every byte is at or below @mask (0: no limit). */
static uint64_t limit_pfn(const struct moat_dma *d, uint64_t mask)
{
	if (!mask || mask > d->cfg.iova_last)
		mask = d->cfg.iova_last;
	if ((mask & PAGE_MASK) != PAGE_MASK)
		mask = (mask & ~PAGE_MASK) - 1;   /* the page holding the mask's last byte is not whole */
	return mask >> PAGE_SHIFT;
}

/* The IOVAs of a new mapping. */
static moat_status take_iova(struct moat_dma *d, uint64_t npages, uint64_t mask, uint64_t *pfn,
			     struct moat_diag *diag)
{
	moat_status st;

	if (mask && (mask < d->cfg.iova_base + PAGE_MASK || limit_pfn(d, mask) < (d->cfg.iova_base >> PAGE_SHIFT)))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: mask 0x%llx is below the IOVA space (from 0x%llx)", (unsigned long long)mask,
				     (unsigned long long)d->cfg.iova_base);
	if (npages > NP_MAX)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: %llu pages in one mapping (at most 2^20)", (unsigned long long)npages);
	st = moat_iova_alloc(&d->iova, npages, limit_pfn(d, mask), false, pfn);
	if (st != MOAT_OK)
		return moat_diag_set(diag, st, NULL, 0, "dma: no IOVA range of %llu pages below 0x%llx: %s",
				     (unsigned long long)npages, (unsigned long long)limit_pfn(d, mask) << PAGE_SHIFT,
				     moat_status_text(st));
	return MOAT_OK;
}

/* The runs of a map: one buffer, or the elements of a list. */
static void buf_run(const void *ctx, unsigned k, uint64_t *phys, uint64_t *pages)
{
	const uint64_t *b = ctx;   /* phys, len */

	(void)k;
	*phys = b[0] & ~PAGE_MASK;
	*pages = buf_pages(b[0], b[1]);
}

static void sg_run(const void *ctx, unsigned k, uint64_t *phys, uint64_t *pages)
{
	const struct moat_dma_sg *sg = ctx;

	*phys = sg[k].phys & ~PAGE_MASK;
	*pages = buf_pages(sg[k].phys, sg[k].len);
}

/* What a map publishes once its entries are written: the record. */
struct publication {
	struct moat_dma *d;
	uint64_t pfn;
	const struct rec_info *info;
	struct moat_dma_rec *r;
};

static bool publish_record(void *ctx)
{
	struct publication *p = ctx;

	p->r = rec_insert(p->d, p->pfn, p->info);
	return p->r != NULL;
}

/* Map the runs at @pfn (IOVAs this call owns) and record the mapping (@info); the IOVAs go back
 * on failure. */
static moat_status map_record(struct moat_dma *d, uint64_t pfn, uint64_t npages, moat_dma_core_run_fn run,
			      const void *ctx, unsigned n, const struct rec_info *info, struct moat_diag *diag)
{
	const uint32_t checked = moat_dma_core_check(&d->core, run, ctx, n);
	struct moat_dma_cpu *c = this_cpu(d);
	struct publication pub = { d, pfn, info, NULL };
	moat_status st;

	fq_poll(d);
	if (!credit_take(d, c)) {
		st = moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, 0, "dma: %u mappings live, the configured maximum",
				   (unsigned)d->cfg.max_mappings);
	} else {
		/* the record goes in once the entries are written (no free slot: never while credits
		 * keep half of them free) */
		st = moat_dma_core_map(&d->core, &c->cur, pfn << PAGE_SHIFT, run, ctx, n, dir_prot(info->dir), checked,
				       publish_record, &pub, diag);
		if (st == MOAT_OK) {
			rec_open(pub.r, pfn + 1);
		} else {
			if (pub.r)
				rec_end(pub.r);
			credit_give(d, c, false);
		}
	}
	/* after a failed invalidation a unit may still hold a translation: those IOVAs stay out */
	if (st != MOAT_OK && st != MOAT_ERR_TIMEOUT && st != MOAT_ERR_HARDWARE)
		moat_iova_free(&d->iova, pfn, npages);
	return st;
}

moat_status moat_dma_map(struct moat_dma *d, uint64_t phys, uint64_t len, enum moat_dma_dir dir, uint64_t mask,
			 uint64_t *iova, struct moat_diag *diag)
{
	const uint64_t np = buf_pages(phys, len);
	const uint64_t buf[2] = { phys, len };
	const struct rec_info rec = { (uint32_t)(len - 1), (uint16_t)(phys & PAGE_MASK), (uint8_t)dir, 0 };
	uint64_t pfn;
	moat_status st;

	if (!dma_ok(d) || !iova || !dir_prot(dir) || !np)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: map of [0x%llx, +0x%llx) direction %d: bad arguments",
				     (unsigned long long)phys, (unsigned long long)len, (int)dir);
	st = take_iova(d, np, mask, &pfn, diag);
	if (st == MOAT_OK)
		st = map_record(d, pfn, np, buf_run, buf, 1, &rec, diag);
	if (st == MOAT_OK)
		*iova = (pfn << PAGE_SHIFT) | (phys & PAGE_MASK);
	return st;
}

/* Pages of a scatter-gather list, or 0 when an element is bad or the list too long. */
static uint64_t sg_pages(const struct moat_dma_sg *sg, unsigned n)
{
	uint64_t total = 0;

	if (!sg || !n || n > SG_MAX)
		return 0;
	for (unsigned k = 0; k < n; k++) {
		const uint64_t p = buf_pages(sg[k].phys, sg[k].len);

		if (!p)
			return 0;
		total += p;
	}
	return total;
}

uint64_t moat_dma_sg_iova(const struct moat_dma_sg *sg, unsigned k, uint64_t iova)
{
	uint64_t page = iova & ~PAGE_MASK;

	for (unsigned i = 0; i < k; i++)
		page += buf_pages(sg[i].phys, sg[i].len) << PAGE_SHIFT;
	return page | (sg[k].phys & PAGE_MASK);
}

moat_status moat_dma_map_sg(struct moat_dma *d, const struct moat_dma_sg *sg, unsigned n, enum moat_dma_dir dir,
			    uint64_t mask, uint64_t *iova, struct moat_diag *diag)
{
	const uint64_t np = sg_pages(sg, n);
	uint64_t pfn;
	moat_status st;

	if (!dma_ok(d) || !iova || !dir_prot(dir) || !np)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: scatter-gather map of %u element(s) direction %d: bad arguments", n,
				     (int)dir);
	st = take_iova(d, np, mask, &pfn, diag);
	if (st == MOAT_OK) {
		const struct rec_info rec = { (uint32_t)(np - 1), (uint16_t)(sg[0].phys & PAGE_MASK), (uint8_t)dir, 1 };

		st = map_record(d, pfn, np, sg_run, sg, n, &rec, diag);
	}
	if (st == MOAT_OK)
		*iova = (pfn << PAGE_SHIFT) | (sg[0].phys & PAGE_MASK);
	return st;
}

/*
 * End the mapping at @iova: check it against its record (@want: length - 1 or a list's pages - 1,
 * and the rest as recorded), remove the entries and the record, and invalidate by the policy.
 * Nothing changes when the check fails.
 */
static moat_status unmap_common(struct moat_dma *d, uint64_t iova, const struct rec_info *want,
				struct moat_diag *diag)
{
	const uint64_t pfn = iova >> PAGE_SHIFT, key = pfn + 1;
	struct moat_dma_cpu *c = this_cpu(d);
	struct moat_pt_gather g;
	struct moat_dma_rec *r;
	struct rec_info had;
	uint64_t npages;
	moat_status st;

	r = rec_claim(d, key, &had);
	if (!r)
		return moat_diag_set(diag, MOAT_ERR_NOT_FOUND, NULL, 0,
				     "dma: unmap of IOVA 0x%llx: no live mapping starts there (never mapped, or "
				     "already unmapped)", (unsigned long long)iova);
	if (had.len_m1 != want->len_m1 || had.offset != want->offset || had.dir != want->dir || had.sg != want->sg) {
		rec_open(r, key);
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: unmap of IOVA 0x%llx: %s 0x%llx direction %u, but it was mapped at offset "
				     "0x%x as %s 0x%llx direction %u", (unsigned long long)iova,
				     want->sg ? "a list of pages" : "length", (unsigned long long)want->len_m1 + 1,
				     (unsigned)want->dir, (unsigned)had.offset, had.sg ? "a list of pages" : "length",
				     (unsigned long long)had.len_m1 + 1, (unsigned)had.dir);
	}
	npages = rec_pages(&had);
	if (d->cfg.policy == MOAT_DMA_DEFERRED) {
		const uint64_t now = moat_plat_time_ns();

		moat_plat_lock_acquire(&d->lock);
		st = moat_dma_core_unmap(&d->core, &c->cur, pfn << PAGE_SHIFT, npages, &d->held);
		if (st == MOAT_OK) {
			/* the IOVAs stay out of the allocator until the flush: no new record for them */
			rec_end(r);
			credit_give(d, c, true);
			st = fq_add(d, pfn, npages, now, diag);
			moat_plat_lock_release(&d->lock);
			return st;
		}
		moat_plat_lock_release(&d->lock);
	} else {
		moat_pt_gather_init(&g);
		st = moat_dma_core_unmap(&d->core, &c->cur, pfn << PAGE_SHIFT, npages, &g);
		if (st == MOAT_OK) {
			/* strict: the one invalidation of this call, then the IOVAs may be handed out
			 * again (the record ended first: a new mapping of them gets a new one) */
			st = moat_dma_core_invalidate(&d->core, &g, false, diag);   /* counted as the unmap */
			rec_end(r);
			credit_give(d, c, true);
			if (st == MOAT_OK)
				moat_iova_free(&d->iova, pfn, npages);
			return st;
		}
	}
	/* the tables refused (nothing changed): the mapping stays */
	rec_open(r, key);
	return moat_diag_set(diag, st, NULL, 0, "dma: unmap of IOVA 0x%llx: the tables say %s", (unsigned long long)iova,
			     moat_status_text(st));
}

moat_status moat_dma_unmap(struct moat_dma *d, uint64_t iova, uint64_t len, enum moat_dma_dir dir,
			   struct moat_diag *diag)
{
	const uint64_t np = dma_ok(d) ? iova_pages(d, iova, len) : 0;
	const struct rec_info want = { (uint32_t)(len - 1), (uint16_t)(iova & PAGE_MASK), (uint8_t)dir, 0 };

	if (!np || np > NP_MAX || !dir_prot(dir))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: unmap of IOVA 0x%llx length 0x%llx direction %d: bad arguments",
				     (unsigned long long)iova, (unsigned long long)len, (int)dir);
	return unmap_common(d, iova, &want, diag);
}

moat_status moat_dma_unmap_sg(struct moat_dma *d, uint64_t iova, const struct moat_dma_sg *sg, unsigned n,
			      enum moat_dma_dir dir, struct moat_diag *diag)
{
	const uint64_t np = sg_pages(sg, n);
	const struct rec_info want = { (uint32_t)(np - 1), (uint16_t)(iova & PAGE_MASK), (uint8_t)dir, 1 };

	if (!dma_ok(d) || !np || np > NP_MAX || !iova_pages(d, iova & ~PAGE_MASK, np << PAGE_SHIFT) || !dir_prot(dir) ||
	    (iova & PAGE_MASK) != (sg[0].phys & PAGE_MASK))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: scatter-gather unmap at IOVA 0x%llx (%u element(s)): bad arguments",
				     (unsigned long long)iova, n);
	return unmap_common(d, iova, &want, diag);
}

moat_status moat_dma_flush(struct moat_dma *d, struct moat_diag *diag)
{
	moat_status st;

	if (!dma_ok(d))
		return MOAT_ERR_INVALID_ARG;
	moat_plat_lock_acquire(&d->lock);
	st = fq_flush(d, diag);
	moat_plat_lock_release(&d->lock);
	return st;
}

void moat_dma_stats(struct moat_dma *d, struct moat_dma_stats *st)
{
	uint64_t free_credits;

	moat_memset(st, 0, sizeof(*st));
	if (!dma_ok(d))
		return;
	free_credits = (uint64_t)__atomic_load_n(&d->credits, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < MOAT_MAX_CPUS; i++) {
		const uint64_t w = __atomic_load_n(&d->cpu[i].word, __ATOMIC_RELAXED);

		st->maps += w >> CPU_MAPS_SHIFT;
		free_credits += w & CPU_CREDITS;
	}
	/* every live mapping holds a credit; unmaps are the maps that gave theirs back */
	st->live = free_credits < d->cfg.max_mappings ? d->cfg.max_mappings - free_credits : 0;
	st->unmaps = st->maps >= st->live ? st->maps - st->live : 0;
	moat_plat_lock_acquire(&d->lock);
	st->queued = d->fq_count;
	st->flushes = d->flushes;
	st->max_window_ns = d->max_window_ns;
	st->record_bytes = ((uint64_t)d->rec_npages + 2u) * PAGE_SIZE;
	for (unsigned p = 0; p < MOAT_DMA_FQ_PAGES; p++)
		st->record_bytes += d->fq[p] ? PAGE_SIZE : 0;
	moat_plat_lock_release(&d->lock);
	moat_dma_core_counts(&d->core, &st->invalidations, &st->locked_maps);
	if (d->cfg.policy == MOAT_DMA_STRICT)
		st->invalidations += st->unmaps;   /* one per strict unmap, made without counting */
	moat_iova_stats(&d->iova, &st->iova);
}
