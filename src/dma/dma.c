/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DMA API (include/moat/dma.h): IOVAs from the allocator, table edits and invalidations
 * through the core's DMA support (include/moat/internal/dma_core.h), mapping records in an
 * open-addressing table (linear probing, deletion by backward shift: O(1) expected, no
 * tombstones), and the flush queue of the deferred policy.
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

/*
 * One live mapping: its first IOVA frame + 1 (0: free slot), its length - 1 (a list: its pages -
 * 1), the offset in the first page, direction and kind.
 */
struct moat_dma_rec {
	uint64_t key;
	uint32_t len_m1;
	uint16_t offset;
	uint8_t dir;
	uint8_t sg;
};

MOAT_STATIC_ASSERT(sizeof(struct moat_dma_rec) == 16, "a record is 16 bytes");
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

static struct moat_dma_rec *rec_find(const struct moat_dma *d, uint64_t pfn, uint32_t *index)
{
	const uint64_t key = pfn + 1;

	for (uint32_t i = home(d, key), n = 0; n < d->rec_slots; i = (i + 1) & (d->rec_slots - 1), n++) {
		struct moat_dma_rec *r = slot(d, i);

		if (r->key == key) {
			*index = i;
			return r;
		}
		if (!r->key)
			return NULL;
	}
	return NULL;
}

static void rec_insert(struct moat_dma *d, uint64_t pfn, const struct moat_dma_rec *r)
{
	const uint64_t key = pfn + 1;
	uint32_t i = home(d, key);

	while (slot(d, i)->key)
		i = (i + 1) & (d->rec_slots - 1);
	*slot(d, i) = *r;
	slot(d, i)->key = key;
	d->live++;
}

/* The pages a record's mapping spans. */
static uint64_t rec_pages(const struct moat_dma_rec *r)
{
	return r->sg ? (uint64_t)r->len_m1 + 1 : ((r->offset + (uint64_t)r->len_m1) >> PAGE_SHIFT) + 1;
}

/* Remove slot @i, shifting back the entries of its probe run that belong before it. */
static void rec_delete(struct moat_dma *d, uint32_t i)
{
	const uint32_t mask = d->rec_slots - 1;
	uint32_t j = i;

	for (;;) {
		struct moat_dma_rec *r;
		uint32_t h;

		j = (j + 1) & mask;
		r = slot(d, j);
		if (!r->key)
			break;
		h = home(d, r->key);
		/* r may move to i when its home is not in (i, j] (cyclically) */
		if ((i <= j) ? (h <= i || h > j) : (h <= i && h > j)) {
			*slot(d, i) = *r;
			i = j;
		}
	}
	slot(d, i)->key = 0;
	d->live--;
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
	st = moat_dma_core_invalidate(&d->core, &d->held, diag);
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
		d->fq_start_ns = now;
	*fq_at(d, d->fq_count) = pfn << NP_BITS | (npages - 1);
	__atomic_store_n(&d->fq_count, d->fq_count + 1, __ATOMIC_RELAXED);
	if (d->fq_count == d->cfg.fq_entries || fq_expired(d, now))
		return fq_flush(d, diag);
	return MOAT_OK;
}

/* The clock for the time bound, read before the lock is taken: 0 when nothing is queued. */
static uint64_t fq_clock(const struct moat_dma *d)
{
	if (d->cfg.policy != MOAT_DMA_DEFERRED || !__atomic_load_n(&d->fq_count, __ATOMIC_RELAXED))
		return 0;
	return moat_plat_time_ns();
}

/* The time bound, on a map call, with @now from fq_clock() (an entry queued since is younger).
 * Lock held. */
static void fq_check_time(struct moat_dma *d, uint64_t now)
{
	if (fq_expired(d, now))
		fq_flush(d, NULL);
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
	struct moat_iova_pages src;
	moat_status st;

	if (!d || !dom || !dom->sys || dom->host || !dom->pt.root)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: needs a live domain other than the host's");
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
	src = (struct moat_iova_pages){ sys_page_alloc, sys_page_free, dom->sys };
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
		struct moat_dma_rec *r = slot(d, i);

		if (r->key)
			moat_dma_core_unmap(&d->core, (r->key - 1) << PAGE_SHIFT, rec_pages(r), &d->held);
	}
	st = MOAT_OK;
	if (d->held.unmapped || d->held.freed_pages || d->held.tables_changed)
		st = moat_dma_core_invalidate(&d->core, &d->held, NULL);
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

/* Pages of the buffer [phys, phys + len), or 0 when it is empty, wraps or passes 2^52. */
static uint64_t buf_pages(uint64_t phys, uint64_t len)
{
	if (!len || phys + (len - 1) < phys || phys + (len - 1) >= PHYS_LIMIT)
		return 0;
	return ((phys + len - 1) >> PAGE_SHIFT) - (phys >> PAGE_SHIFT) + 1;
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

/* Map the runs at @pfn and record the mapping (@rec), under the lock; the IOVAs go back on failure. */
static moat_status map_locked(struct moat_dma *d, uint64_t pfn, uint64_t npages, moat_dma_core_run_fn run,
			      const void *ctx, unsigned n, const struct moat_dma_rec *rec, struct moat_diag *diag)
{
	const uint32_t checked = moat_dma_core_check(&d->core, run, ctx, n);
	const uint64_t now = fq_clock(d);
	moat_status st;

	moat_plat_lock_acquire(&d->lock);
	fq_check_time(d, now);
	if (d->live == d->cfg.max_mappings) {
		st = moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, 0, "dma: %u mappings live, the configured maximum",
				   (unsigned)d->cfg.max_mappings);
	} else {
		st = moat_dma_core_map(&d->core, pfn << PAGE_SHIFT, run, ctx, n, dir_prot(rec->dir), checked, diag);
		if (st == MOAT_OK) {
			rec_insert(d, pfn, rec);
			d->maps++;
		}
	}
	moat_plat_lock_release(&d->lock);
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
	const struct moat_dma_rec rec = { 0, (uint32_t)(len - 1), (uint16_t)(phys & PAGE_MASK), (uint8_t)dir, 0 };
	uint64_t pfn;
	moat_status st;

	if (!dma_ok(d) || !iova || !dir_prot(dir) || !np)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: map of [0x%llx, +0x%llx) direction %d: bad arguments",
				     (unsigned long long)phys, (unsigned long long)len, (int)dir);
	st = take_iova(d, np, mask, &pfn, diag);
	if (st == MOAT_OK)
		st = map_locked(d, pfn, np, buf_run, buf, 1, &rec, diag);
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
		const struct moat_dma_rec rec = { 0, (uint32_t)(np - 1), (uint16_t)(sg[0].phys & PAGE_MASK),
						  (uint8_t)dir, 1 };

		st = map_locked(d, pfn, np, sg_run, sg, n, &rec, diag);
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
static moat_status unmap_common(struct moat_dma *d, uint64_t iova, const struct moat_dma_rec *want,
				struct moat_diag *diag)
{
	const uint64_t pfn = iova >> PAGE_SHIFT;
	uint64_t npages;
	struct moat_pt_gather g;
	struct moat_dma_rec *r;
	uint32_t i;
	moat_status st;

	const uint64_t now = d->cfg.policy == MOAT_DMA_DEFERRED ? moat_plat_time_ns() : 0;

	moat_plat_lock_acquire(&d->lock);
	r = rec_find(d, pfn, &i);
	if (!r) {
		moat_plat_lock_release(&d->lock);
		return moat_diag_set(diag, MOAT_ERR_NOT_FOUND, NULL, 0,
				     "dma: unmap of IOVA 0x%llx: no live mapping starts there (never mapped, or "
				     "already unmapped)", (unsigned long long)iova);
	}
	if (r->len_m1 != want->len_m1 || r->offset != want->offset || r->dir != want->dir || r->sg != want->sg) {
		const struct moat_dma_rec had = *r;

		moat_plat_lock_release(&d->lock);
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: unmap of IOVA 0x%llx: %s 0x%llx direction %u, but it was mapped at offset "
				     "0x%x as %s 0x%llx direction %u", (unsigned long long)iova,
				     want->sg ? "a list of pages" : "length", (unsigned long long)want->len_m1 + 1,
				     (unsigned)want->dir, (unsigned)had.offset, had.sg ? "a list of pages" : "length",
				     (unsigned long long)had.len_m1 + 1, (unsigned)had.dir);
	}
	npages = rec_pages(r);
	if (d->cfg.policy == MOAT_DMA_DEFERRED) {
		st = moat_dma_core_unmap(&d->core, pfn << PAGE_SHIFT, npages, &d->held);
		if (st == MOAT_OK) {
			rec_delete(d, i);
			d->unmaps++;
			st = fq_add(d, pfn, npages, now, diag);
		}
		moat_plat_lock_release(&d->lock);
		return st;
	}
	moat_pt_gather_init(&g);
	st = moat_dma_core_unmap(&d->core, pfn << PAGE_SHIFT, npages, &g);
	if (st == MOAT_OK) {
		rec_delete(d, i);
		d->unmaps++;
	}
	moat_plat_lock_release(&d->lock);
	if (st != MOAT_OK)
		return moat_diag_set(diag, st, NULL, 0, "dma: unmap of IOVA 0x%llx: the tables say %s",
				     (unsigned long long)iova, moat_status_text(st));
	/* strict: the one invalidation of this call, then the IOVAs may be handed out again */
	st = moat_dma_core_invalidate(&d->core, &g, diag);
	if (st == MOAT_OK)
		moat_iova_free(&d->iova, pfn, npages);
	return st;
}

moat_status moat_dma_unmap(struct moat_dma *d, uint64_t iova, uint64_t len, enum moat_dma_dir dir,
			   struct moat_diag *diag)
{
	const uint64_t np = buf_pages(iova, len);
	const struct moat_dma_rec want = { 0, (uint32_t)(len - 1), (uint16_t)(iova & PAGE_MASK), (uint8_t)dir, 0 };

	if (!dma_ok(d) || !np || np > NP_MAX || !dir_prot(dir))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: unmap of IOVA 0x%llx length 0x%llx direction %d: bad arguments",
				     (unsigned long long)iova, (unsigned long long)len, (int)dir);
	return unmap_common(d, iova, &want, diag);
}

moat_status moat_dma_unmap_sg(struct moat_dma *d, uint64_t iova, const struct moat_dma_sg *sg, unsigned n,
			      enum moat_dma_dir dir, struct moat_diag *diag)
{
	const uint64_t np = sg_pages(sg, n);
	struct moat_dma_rec want = { 0, (uint32_t)(np - 1), (uint16_t)(iova & PAGE_MASK), (uint8_t)dir, 1 };

	if (!dma_ok(d) || !np || np > NP_MAX || !dir_prot(dir) || (iova & PAGE_MASK) != (sg[0].phys & PAGE_MASK))
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
	moat_memset(st, 0, sizeof(*st));
	if (!dma_ok(d))
		return;
	moat_plat_lock_acquire(&d->lock);
	st->maps = d->maps;
	st->unmaps = d->unmaps;
	st->live = d->live;
	st->queued = d->fq_count;
	st->flushes = d->flushes;
	st->max_window_ns = d->max_window_ns;
	st->record_bytes = ((uint64_t)d->rec_npages + 2u) * PAGE_SIZE;
	for (unsigned p = 0; p < MOAT_DMA_FQ_PAGES; p++)
		st->record_bytes += d->fq[p] ? PAGE_SIZE : 0;
	moat_plat_lock_release(&d->lock);
	moat_dma_core_counts(&d->core, &st->invalidations, &st->locked_maps);
	moat_iova_stats(&d->iova, &st->iova);
}
