/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DMA API (include/moat/dma.h): IOVAs from the allocator, translations through the core,
 * mapping records in an open-addressing table (linear probing, deletion by backward shift: O(1)
 * expected, no tombstones), and the flush queue of the deferred policy.
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
#define PTRS_PER_PAGE (PAGE_SIZE / sizeof(void *))
#define SG_MAX 1024u
#define PHYS_LIMIT (1ull << 52)

/* One live mapping: its first IOVA frame + 1 (0: free slot), pages and direction. */
struct moat_dma_rec {
	uint64_t key;
	uint32_t npages;
	uint8_t dir;
	uint8_t sg;
	uint16_t pad;
};

_Static_assert(sizeof(struct moat_dma_rec) == 16, "a record is 16 bytes");

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

static void rec_insert(struct moat_dma *d, uint64_t pfn, uint32_t npages, enum moat_dma_dir dir, bool sg)
{
	const uint64_t key = pfn + 1;
	uint32_t i = home(d, key);

	while (slot(d, i)->key)
		i = (i + 1) & (d->rec_slots - 1);
	*slot(d, i) = (struct moat_dma_rec){ key, npages, (uint8_t)dir, sg, 0 };
	d->live++;
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

	for (uint32_t p = 0; p < d->rec_npages; p++)
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

static struct moat_dma_fq_entry *fq_at(const struct moat_dma *d, unsigned i)
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

/* Invalidate for everything queued, then release the queued IOVAs. Lock held. */
static moat_status fq_flush(struct moat_dma *d, struct moat_diag *diag)
{
	uint64_t now;
	moat_status st;

	if (!d->fq_count)
		return MOAT_OK;
	st = moat_domain_invalidate(d->dom, 0, 0, diag);
	if (st != MOAT_OK)
		return st;
	d->invalidations++;
	now = moat_plat_time_ns();
	while (d->fq_count) {
		const struct moat_dma_fq_entry *e = fq_at(d, d->fq_head);

		if (now - e->when_ns > d->max_window_ns)
			d->max_window_ns = now - e->when_ns;
		moat_iova_free(&d->iova, e->pfn_np >> 20, e->pfn_np & ((1ull << 20) - 1));
		d->fq_head = (d->fq_head + 1) % d->cfg.fq_entries;
		__atomic_store_n(&d->fq_count, d->fq_count - 1, __ATOMIC_RELAXED);
	}
	return MOAT_OK;
}

/* The time bound: flush when the oldest queued entry has waited long enough. Lock held. */
static void fq_check_time(struct moat_dma *d)
{
	if (d->fq_count && moat_plat_time_ns() - fq_at(d, d->fq_head)->when_ns >= d->cfg.fq_timeout_ns)
		fq_flush(d, NULL);
}

/* ---- init / fini ---- */

moat_status moat_dma_init(struct moat_dma *d, struct moat_domain *dom, const struct moat_dma_config *cfg,
			  struct moat_diag *diag)
{
	struct moat_iova_config ic;
	struct moat_iova_pages src;
	moat_status st;

	if (!d || !dom || !dom->sys || dom->host || !dom->pt.root)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "dma: needs a live domain other than the host's");
	moat_memset(d, 0, sizeof(*d));
	if (cfg)
		d->cfg = *cfg;
	else
		d->cfg.policy = MOAT_DMA_STRICT;
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
		d->cfg.iova_last = MOAT_MIN(dom->pt.iova_last, (1ull << 57) - 1);
	}
	if (d->cfg.fq_entries > MOAT_DMA_FQ_MAX || d->cfg.max_mappings > 65536u ||
	    (d->cfg.iova_base & PAGE_MASK) || (d->cfg.iova_last & PAGE_MASK) != PAGE_MASK ||
	    d->cfg.iova_base >= d->cfg.iova_last || d->cfg.iova_last > dom->pt.iova_last || !d->cfg.iova_base)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: bad configuration (queue %u, mappings %u, IOVA [0x%llx, 0x%llx])",
				     d->cfg.fq_entries, (unsigned)d->cfg.max_mappings,
				     (unsigned long long)d->cfg.iova_base, (unsigned long long)d->cfg.iova_last);
	d->dom = dom;
	ic = (struct moat_iova_config){ .base_pfn = d->cfg.iova_base >> PAGE_SHIFT,
					.last_pfn = d->cfg.iova_last >> PAGE_SHIFT, .no_cache = d->cfg.no_cache };
	src = (struct moat_iova_pages){ sys_page_alloc, sys_page_free, dom->sys };
	st = moat_iova_init(&d->iova, &ic, &src);
	if (st != MOAT_OK)
		return moat_diag_set(diag, st, NULL, 0, "dma: IOVA allocator: %s", moat_status_text(st));
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
		return moat_diag_set(diag, st, NULL, 0, "dma: no memory for the records or the queue");
	}
	/* IOVAs come and go in the same ranges: keep the tables they need between maps */
	dom->pt.keep_tables = true;
	moat_plat_lock_init(&d->lock);
	d->magic = DMA_MAGIC;
	return MOAT_OK;
}

moat_status moat_dma_fini(struct moat_dma *d)
{
	moat_status st = MOAT_OK;

	if (!dma_ok(d))
		return MOAT_ERR_INVALID_ARG;
	moat_plat_lock_acquire(&d->lock);
	fq_flush(d, NULL);
	for (uint32_t i = 0; i < d->rec_slots; i++) {
		struct moat_dma_rec *r = slot(d, i);

		if (r->key)
			moat_domain_unmap_deferred(d->dom, (r->key - 1) << PAGE_SHIFT, (uint64_t)r->npages << PAGE_SHIFT,
						   NULL);
	}
	if (d->live)
		st = moat_domain_invalidate(d->dom, 0, 0, NULL);
	d->magic = 0;
	moat_plat_lock_release(&d->lock);
	moat_plat_lock_fini(&d->lock);
	records_free(d);
	fq_free(d);
	moat_iova_fini(&d->iova);
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

/* Reserve a record slot (capacity), allocate the IOVAs. */
static moat_status begin_map(struct moat_dma *d, uint64_t npages, uint64_t mask, uint64_t *pfn,
			     struct moat_diag *diag)
{
	moat_status st;

	if (mask && (mask < d->cfg.iova_base + PAGE_MASK || limit_pfn(d, mask) < (d->cfg.iova_base >> PAGE_SHIFT)))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: mask 0x%llx is below the IOVA space (from 0x%llx)", (unsigned long long)mask,
				     (unsigned long long)d->cfg.iova_base);
	if (npages > (1ull << 20))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "dma: %llu pages in one mapping (at most 2^20)",
				     (unsigned long long)npages);
	if (d->cfg.policy == MOAT_DMA_DEFERRED && __atomic_load_n(&d->fq_count, __ATOMIC_RELAXED)) {
		moat_plat_lock_acquire(&d->lock);
		fq_check_time(d);
		moat_plat_lock_release(&d->lock);
	}
	/* a record slot: reserved without the lock, given back by end_map() */
	if (__atomic_add_fetch(&d->reserved, 1, __ATOMIC_RELAXED) > d->cfg.max_mappings) {
		__atomic_sub_fetch(&d->reserved, 1, __ATOMIC_RELAXED);
		return moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, 0, "dma: %u mappings live, the configured maximum",
				     (unsigned)d->cfg.max_mappings);
	}
	st = moat_iova_alloc(&d->iova, npages, limit_pfn(d, mask), false, pfn);
	if (st != MOAT_OK) {
		__atomic_sub_fetch(&d->reserved, 1, __ATOMIC_RELAXED);
		return moat_diag_set(diag, st, NULL, 0, "dma: no IOVA range of %llu pages below 0x%llx: %s",
				     (unsigned long long)npages, (unsigned long long)limit_pfn(d, mask) << PAGE_SHIFT,
				     moat_status_text(st));
	}
	return MOAT_OK;
}

static void end_map(struct moat_dma *d, uint64_t pfn, uint64_t npages, enum moat_dma_dir dir, bool sg, bool ok)
{
	if (ok) {
		moat_plat_lock_acquire(&d->lock);
		rec_insert(d, pfn, (uint32_t)npages, dir, sg);
		d->maps++;
		moat_plat_lock_release(&d->lock);
	} else {
		__atomic_sub_fetch(&d->reserved, 1, __ATOMIC_RELAXED);
		moat_iova_free(&d->iova, pfn, npages);
	}
}

moat_status moat_dma_map(struct moat_dma *d, uint64_t phys, uint64_t len, enum moat_dma_dir dir, uint64_t mask,
			 uint64_t *iova, struct moat_diag *diag)
{
	const unsigned prot = dir_prot(dir);
	const uint64_t np = buf_pages(phys, len);
	uint64_t pfn;
	moat_status st;

	if (!dma_ok(d) || !iova || !prot || !np)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: map of [0x%llx, +0x%llx) direction %d: bad arguments", (unsigned long long)phys,
				     (unsigned long long)len, (int)dir);
	st = begin_map(d, np, mask, &pfn, diag);
	if (st != MOAT_OK)
		return st;
	st = moat_domain_map(d->dom, pfn << PAGE_SHIFT, phys & ~PAGE_MASK, np << PAGE_SHIFT, prot, diag);
	end_map(d, pfn, np, dir, false, st == MOAT_OK);
	if (st == MOAT_OK)
		*iova = (pfn << PAGE_SHIFT) | (phys & PAGE_MASK);
	return st;
}

/* Look up and check the mapping at @pfn; remove its record when it matches. Lock held. */
static moat_status take_record(struct moat_dma *d, uint64_t iova, uint64_t npages, enum moat_dma_dir dir, bool sg,
			       struct moat_diag *diag)
{
	uint32_t i;
	struct moat_dma_rec *r = rec_find(d, iova >> PAGE_SHIFT, &i);

	if (!r)
		return moat_diag_set(diag, MOAT_ERR_NOT_FOUND, NULL, 0,
				     "dma: unmap of IOVA 0x%llx: no live mapping starts there (never mapped, or already "
				     "unmapped)", (unsigned long long)iova);
	if (r->npages != npages || r->dir != (uint8_t)dir || r->sg != sg)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: unmap of IOVA 0x%llx: %llu page(s) direction %d%s, but it was mapped as %u "
				     "page(s) direction %u%s", (unsigned long long)iova, (unsigned long long)npages, (int)dir,
				     sg ? " (list)" : "", (unsigned)r->npages, (unsigned)r->dir, r->sg ? " (list)" : "");
	rec_delete(d, i);
	__atomic_sub_fetch(&d->reserved, 1, __ATOMIC_RELAXED);
	d->unmaps++;
	if (d->cfg.policy == MOAT_DMA_STRICT)
		d->invalidations++;   /* the one finish_unmap() is about to do */
	return MOAT_OK;
}

/* The record is gone: remove the translation by the policy, and release or queue the IOVAs. */
static moat_status finish_unmap(struct moat_dma *d, uint64_t pfn, uint64_t npages, struct moat_diag *diag)
{
	moat_status st;

	if (d->cfg.policy == MOAT_DMA_STRICT) {
		st = moat_domain_unmap(d->dom, pfn << PAGE_SHIFT, npages << PAGE_SHIFT, diag);
		if (st == MOAT_OK)
			moat_iova_free(&d->iova, pfn, npages);
		/* on an invalidation failure the IOVAs are never reused */
		return st;
	}
	st = moat_domain_unmap_deferred(d->dom, pfn << PAGE_SHIFT, npages << PAGE_SHIFT, diag);
	moat_plat_lock_acquire(&d->lock);
	if (st == MOAT_OK) {
		struct moat_dma_fq_entry *e;

		if (d->fq_count == d->cfg.fq_entries)
			st = fq_flush(d, diag);
		if (d->fq_count < d->cfg.fq_entries) {
			e = fq_at(d, (d->fq_head + d->fq_count) % d->cfg.fq_entries);
			*e = (struct moat_dma_fq_entry){ pfn << 20 | npages, moat_plat_time_ns() };
			__atomic_store_n(&d->fq_count, d->fq_count + 1, __ATOMIC_RELAXED);
		}
		/* a full queue whose flush failed: the IOVAs stay out of the allocator for good */
		if (d->fq_count == d->cfg.fq_entries)
			st = fq_flush(d, diag);
		else
			fq_check_time(d);
	}
	moat_plat_lock_release(&d->lock);
	return st;
}

moat_status moat_dma_unmap(struct moat_dma *d, uint64_t iova, uint64_t len, enum moat_dma_dir dir,
			   struct moat_diag *diag)
{
	const uint64_t np = buf_pages(iova, len);
	moat_status st;

	if (!dma_ok(d) || !np || !dir_prot(dir))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: unmap of IOVA 0x%llx length 0x%llx direction %d: bad arguments",
				     (unsigned long long)iova, (unsigned long long)len, (int)dir);
	moat_plat_lock_acquire(&d->lock);
	st = take_record(d, iova, np, dir, false, diag);
	moat_plat_lock_release(&d->lock);
	if (st != MOAT_OK)
		return st;
	return finish_unmap(d, iova >> PAGE_SHIFT, np, diag);
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
	const unsigned prot = dir_prot(dir);
	const uint64_t np = sg_pages(sg, n);
	uint64_t pfn, at;
	moat_status st = MOAT_OK;
	unsigned k;

	if (!dma_ok(d) || !iova || !prot || !np)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: scatter-gather map of %u element(s) direction %d: bad arguments", n, (int)dir);
	st = begin_map(d, np, mask, &pfn, diag);
	if (st != MOAT_OK)
		return st;
	at = pfn;
	for (k = 0; k < n && st == MOAT_OK; k++) {
		const uint64_t p = buf_pages(sg[k].phys, sg[k].len);

		st = moat_domain_map(d->dom, at << PAGE_SHIFT, sg[k].phys & ~PAGE_MASK, p << PAGE_SHIFT, prot, diag);
		if (st == MOAT_OK)
			at += p;
	}
	if (st != MOAT_OK && at > pfn)
		moat_domain_unmap(d->dom, pfn << PAGE_SHIFT, (at - pfn) << PAGE_SHIFT, NULL);
	end_map(d, pfn, np, dir, true, st == MOAT_OK);
	if (st == MOAT_OK)
		*iova = (pfn << PAGE_SHIFT) | (sg[0].phys & PAGE_MASK);
	return st;
}

moat_status moat_dma_unmap_sg(struct moat_dma *d, uint64_t iova, const struct moat_dma_sg *sg, unsigned n,
			      enum moat_dma_dir dir, struct moat_diag *diag)
{
	const uint64_t np = sg_pages(sg, n);
	moat_status st;

	if (!dma_ok(d) || !np || !dir_prot(dir) || (iova & PAGE_MASK) != (sg[0].phys & PAGE_MASK))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "dma: scatter-gather unmap at IOVA 0x%llx (%u element(s)): bad arguments",
				     (unsigned long long)iova, n);
	moat_plat_lock_acquire(&d->lock);
	st = take_record(d, iova, np, dir, true, diag);
	moat_plat_lock_release(&d->lock);
	if (st != MOAT_OK)
		return st;
	return finish_unmap(d, iova >> PAGE_SHIFT, np, diag);
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
	st->invalidations = d->invalidations;
	st->live = d->live;
	st->queued = d->fq_count;
	st->max_window_ns = d->max_window_ns;
	st->record_bytes = ((uint64_t)d->rec_npages + 2u) * PAGE_SIZE;
	moat_plat_lock_release(&d->lock);
	moat_iova_stats(&d->iova, &st->iova);
}
