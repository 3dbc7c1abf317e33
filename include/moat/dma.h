/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DMA API for an operating system: give a device exactly the pages it works on, for as long as
 * it works on them. One struct moat_dma serves one domain (the devices attached to it).
 *
 * moat_dma_map() allocates I/O virtual addresses (IOVAs, include/moat/iova.h), maps them to the
 * buffer with the permissions its direction allows, and records the mapping; moat_dma_unmap()
 * checks the call against that record, removes the translation and invalidates the IOTLB by the
 * domain's policy:
 *
 *  - MOAT_DMA_STRICT: the unmap returns after the invalidation completed on every unit: exactly
 *    one invalidation per unmap call (one per scatter-gather call). When it returns, the device
 *    cannot reach the pages any more. The cost: a hardware round trip per unmap.
 *  - MOAT_DMA_DEFERRED: the entries are removed at once (a new walk by the IOMMU faults), but the
 *    IOTLB invalidation is batched: the IOVAs wait in a flush queue, and one invalidation covers
 *    the whole queue when it is full (fq_entries, default 256) or when its oldest entry is older
 *    than fq_timeout_ns (default 10 ms; checked on every map and unmap, and by moat_dma_flush()).
 *    IOVAs go back to the allocator only after the invalidation that covers them completed, so an
 *    IOVA is never handed out again while a device might still translate it through a stale IOTLB
 *    entry. The trade-off: until that invalidation, a device that kept a cached translation can
 *    still reach the unmapped page: the window is measured and reported (max_window_ns), bounded by
 *    the time bound plus the gap between calls. Use strict for memory that changes owner (freed to
 *    another user), deferred for buffer rings the same driver reuses.
 *
 * Buffers need not be page-aligned: the pages containing [phys, phys + len) are mapped whole (a
 * device can reach the rest of those pages too: keep secrets off pages shared with DMA buffers),
 * and the returned IOVA carries the buffer's offset within its first page.
 *
 * Direction: MOAT_DMA_TO_DEVICE gives the device read permission only, MOAT_DMA_FROM_DEVICE write
 * only, MOAT_DMA_BIDIRECTIONAL both.
 *
 * Lifetime checks: an unmap of an IOVA that is not the start of a live mapping (never mapped,
 * already unmapped), or with another length or direction than the map, is refused with a status
 * and a message naming the IOVA, and changes nothing.
 *
 * Locking: allocation of IOVAs of the common sizes (1 to 32 pages) uses per-CPU caches; the
 * mapping records and the flush queue take the struct moat_dma's own lock; the page tables and the
 * invalidation go through the core, which takes the system's lock for the table update. The core's
 * moat_domain_map()/moat_domain_unmap() must not be used on a domain a struct moat_dma serves.
 *
 * Memory: mapping records (16 bytes each, two slots per possible mapping: max_mappings, default
 * 16384, takes 512 KiB) and the allocator's pages come from moat_page_alloc() (Moat-owned,
 * protected); moat_dma_stats() reports them. The domain keeps the page-table pages an unmap
 * empties (struct moat_pt keep_tables), so a map into a range used before allocates nothing; they
 * go back when the domain is destroyed.
 */
#ifndef MOAT_DMA_H
#define MOAT_DMA_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/diag.h>
#include <moat/iova.h>
#include <moat/moat.h>
#include <moat/platform.h>
#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

enum moat_dma_dir {
	MOAT_DMA_TO_DEVICE = 1,       /* the device reads the buffer */
	MOAT_DMA_FROM_DEVICE = 2,     /* the device writes the buffer */
	MOAT_DMA_BIDIRECTIONAL = 3,
};

enum moat_dma_policy {
	MOAT_DMA_STRICT = 1,
	MOAT_DMA_DEFERRED = 2,
};

#define MOAT_DMA_FQ_DEFAULT 256u
#define MOAT_DMA_FQ_MAX 4096u
#define MOAT_DMA_TIMEOUT_DEFAULT_NS 10000000ull
#define MOAT_DMA_MAPPINGS_DEFAULT 16384u

struct moat_dma_config {
	enum moat_dma_policy policy;
	unsigned fq_entries;          /* deferred: queue size (0: 256; at most MOAT_DMA_FQ_MAX) */
	uint64_t fq_timeout_ns;       /* deferred: time bound (0: 10 ms) */
	uint32_t max_mappings;        /* live mappings at most (0: 16384) */
	/* IOVA space: [iova_base, iova_last] (0, 0: [1 MiB, the domain's input limit]); page-aligned */
	uint64_t iova_base, iova_last;
	bool no_cache;                /* no per-CPU IOVA caches (for comparisons) */
};

/* One element of a scatter-gather list. */
struct moat_dma_sg {
	uint64_t phys;
	uint64_t len;
};

struct moat_dma_stats {
	uint64_t maps, unmaps, invalidations;
	uint64_t live;                 /* mappings now */
	uint64_t queued;               /* deferred: IOVA ranges waiting for an invalidation */
	uint64_t max_window_ns;        /* deferred: longest unmap-to-invalidation-complete seen */
	uint64_t record_bytes;         /* memory of the mapping records */
	struct moat_iova_stats iova;
};

/* A queued (deferred) unmap. Private. */
struct moat_dma_fq_entry {
	uint64_t pfn_np;               /* first IOVA frame << 20 | pages (at most 2^20) */
	uint64_t when_ns;
};

#define MOAT_DMA_FQ_PER_PAGE (4096u / sizeof(struct moat_dma_fq_entry))
#define MOAT_DMA_FQ_PAGES (MOAT_DMA_FQ_MAX / MOAT_DMA_FQ_PER_PAGE)

struct moat_dma_rec;

/* Caller storage. Private fields. */
struct moat_dma {
	uint32_t magic;
	struct moat_domain *dom;
	struct moat_dma_config cfg;
	struct moat_lock lock;             /* records, flush queue, counters */
	struct moat_iova iova;
	/* mapping records: open addressing over record pages */
	struct moat_dma_rec **rec_pages;   /* a page of pointers to the record pages */
	uint64_t rec_pages_phys;
	uint64_t *rec_phys;                /* a page: physical address of each record page */
	uint64_t rec_phys_page;
	uint32_t rec_slots;                /* power of two */
	uint32_t rec_npages;
	uint64_t live;                     /* records */
	uint64_t reserved;                 /* records plus maps under way (atomic) */
	/* flush queue (deferred) */
	struct moat_dma_fq_entry *fq[MOAT_DMA_FQ_PAGES];
	uint64_t fq_phys[MOAT_DMA_FQ_PAGES];
	unsigned fq_head, fq_count;
	/* counters */
	uint64_t maps, unmaps, invalidations, max_window_ns;
};

/*
 * moat_dma_init() - serve @dom (a live domain of its system, not the host identity domain) with
 * @cfg (NULL: strict and the defaults). Allocates the records, the queue and the IOVA caches.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, dead or host domain, bad policy, queue size, IOVA
 * range unaligned, empty or past the domain's input width); MOAT_ERR_NO_MEMORY.
 */
moat_status moat_dma_init(struct moat_dma *d, struct moat_domain *dom, const struct moat_dma_config *cfg,
			  struct moat_diag *diag);

/*
 * moat_dma_fini() - flush the queue, unmap every live mapping (one invalidation), give every page
 * back. Returns MOAT_OK, or the invalidation's error (the pages are then kept, see moat.h).
 */
moat_status moat_dma_fini(struct moat_dma *d);

/*
 * moat_dma_map() - map the buffer [@phys, @phys + @len) for a device whose addresses are limited
 * to @mask (e.g. 0xffffffff; 0 or all ones: the whole IOVA space), with @dir's permissions.
 * *@iova: the device address of @phys (IOVA of its page + the offset in the page).
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, @len 0, bad @dir, a buffer wrapping or past 2^52,
 * @mask below the IOVA space); MOAT_ERR_PROTECTED (the buffer touches protected memory: @diag
 * names it); MOAT_ERR_NO_SPACE (no IOVA range fits below @mask, or max_mappings reached);
 * MOAT_ERR_NO_MEMORY; MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (a unit that caches not-present
 * entries failed its invalidation: the map is undone). On error nothing changed.
 */
moat_status moat_dma_map(struct moat_dma *d, uint64_t phys, uint64_t len, enum moat_dma_dir dir, uint64_t mask,
			 uint64_t *iova, struct moat_diag *diag);

/*
 * moat_dma_unmap() - end the mapping moat_dma_map() returned as @iova, with its @len and @dir.
 * Returns MOAT_OK; MOAT_ERR_NOT_FOUND (@iova is not the start of a live mapping: never mapped or
 * already unmapped); MOAT_ERR_INVALID_ARG (NULL, or @len / @dir differ from the map's); on these
 * nothing changed. MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (strict: the entries are gone but the
 * invalidation failed; the IOVAs are then never reused).
 */
moat_status moat_dma_unmap(struct moat_dma *d, uint64_t iova, uint64_t len, enum moat_dma_dir dir,
			   struct moat_diag *diag);

/*
 * moat_dma_map_sg() - map the @n elements of @sg back to back in one IOVA range (each element's
 * pages whole, in order); *@iova is the device address of the first element's first byte, and
 * element k starts at the IOVA of its page plus its offset (moat_dma_sg_iova()).
 * Returns as moat_dma_map(); all or nothing. @n between 1 and 1024.
 */
moat_status moat_dma_map_sg(struct moat_dma *d, const struct moat_dma_sg *sg, unsigned n, enum moat_dma_dir dir,
			    uint64_t mask, uint64_t *iova, struct moat_diag *diag);

/* moat_dma_sg_iova() - the device address of element @k of a list moat_dma_map_sg() mapped at @iova. */
uint64_t moat_dma_sg_iova(const struct moat_dma_sg *sg, unsigned k, uint64_t iova);

/*
 * moat_dma_unmap_sg() - end a scatter-gather mapping: @iova, @sg, @n and @dir as mapped. One
 * invalidation in strict mode. Returns as moat_dma_unmap().
 */
moat_status moat_dma_unmap_sg(struct moat_dma *d, uint64_t iova, const struct moat_dma_sg *sg, unsigned n,
			      enum moat_dma_dir dir, struct moat_diag *diag);

/*
 * moat_dma_flush() - deferred: invalidate now for everything queued and release those IOVAs;
 * strict: nothing to do. Returns MOAT_OK or the invalidation's error (the queue is then kept).
 */
moat_status moat_dma_flush(struct moat_dma *d, struct moat_diag *diag);

/* moat_dma_stats() - counters, the stale window and memory. */
void moat_dma_stats(struct moat_dma *d, struct moat_dma_stats *st);

#ifdef __cplusplus
}
#endif

#endif
