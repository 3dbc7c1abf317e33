/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The DMA API for an operating system: give a device exactly the pages it works on, for as long as
 * it works on them. One struct moat_dma serves one domain (the devices attached to it).
 *
 * moat_dma_map() allocates I/O virtual addresses (IOVAs, include/moat/iova.h: a mapping of up to
 * 32 pages takes a power-of-two range from the per-CPU caches; the pages past the buffer's stay
 * unmapped), maps them to the buffer with the permissions its direction allows, and records the
 * mapping; moat_dma_unmap()
 * checks the call against that record, removes the translation and invalidates the IOTLB by the
 * domain's policy:
 *
 *  - MOAT_DMA_STRICT: the unmap returns after the invalidation completed on every unit: exactly
 *    one invalidation per unmap call (one per scatter-gather call). When it returns, the device
 *    cannot reach the pages any more. The cost: a hardware round trip per unmap.
 *  - MOAT_DMA_DEFERRED: the entries are removed at once, so a device whose IOMMU walks the tables
 *    again faults (the unmapped IOVAs are "poisoned" for the window), but the IOTLB invalidation
 *    is batched: the IOVAs wait in a flush queue, and one invalidation covers the whole queue when
 *    it is full (fq_entries, default 256) or when its oldest entry is older than fq_timeout_ns
 *    (default 10 ms; checked on every map and unmap call while the queue is not empty, and by
 *    moat_dma_flush()). IOVAs go back to the allocator only after the invalidation that covers
 *    them completed, so an IOVA is never handed out again while a device might still translate it
 *    through a stale IOTLB entry.
 *    The trade-off: until that invalidation, a device that kept a cached translation (it used the
 *    page recently) can still read or write the unmapped page: that is the window, measured from
 *    the oldest queued unmap to the completion of its invalidation and reported (max_window_ns);
 *    it is bounded by the time bound plus the longest gap between calls (an idle driver should call
 *    moat_dma_flush() from a timer). Use strict for memory that changes owner after the DMA (freed
 *    to another user), deferred for buffers the same driver recycles (network rings).
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
 * Locking: every function may be called from any CPU at once, and a map or a strict unmap of up to
 * 511 pages takes no lock of the DMA layer's: IOVAs of the common sizes (1 to 32 pages) come from
 * per-CPU caches, lock-free slots first (include/moat/iova.h); the protection check reads the
 * registry without any lock (include/moat/internal/dma_core.h); the page-table entries of an IOVA
 * range its owner alone edits go in through existing tables without a lock; the mapping records
 * are claimed and released with compare-and-swap; the limit of max_mappings is kept with per-CPU
 * shares of it. The struct moat_dma's own lock guards the flush queue (every deferred unmap, and a
 * map that finds the queue past its time bound). An invalidation (once per strict unmap, once per
 * deferred flush) takes each IOMMU unit's own lock in turn. The system's lock (one per system) is
 * taken when a table is missing (rare: the domain keeps its table pages) or a mapping has 512 pages
 * or more, when a unit caches not-present entries, and on errors. So two CPUs mapping into one
 * domain or into two share no lock; strict unmaps share the units' locks, one at a time.
 * Lock order: the struct moat_dma's lock, the allocator's locks, the system's lock, a unit's.
 * Rules: the core's moat_domain_map(), moat_domain_unmap() and moat_reserved_map() refuse a domain
 * a struct moat_dma serves (MOAT_ERR_BUSY: its tables are edited without the system's lock), from
 * moat_dma_init() to moat_dma_fini(); one struct moat_dma per domain (a second moat_dma_init() on
 * it, or of a live struct moat_dma, fails and changes nothing); moat_dma_fini() before the domain
 * is destroyed; IOMMU units added after moat_dma_init() are invalidated on unmaps but not looked
 * at for caching not-present entries (add units first, as bring-up does). An unmap racing the map of the same
 * IOVA on another CPU (a driver bug) may find no mapping; two unmaps of one mapping at once end it
 * once (the other gets MOAT_ERR_NOT_FOUND).
 *
 * Memory: mapping records (16 bytes each, two slots per possible mapping: max_mappings, default
 * 16384, takes 512 KiB), the flush queue (8 bytes an entry) and the allocator's pages come from
 * moat_page_alloc() (Moat-owned, protected), all at init: none of it grows with traffic;
 * moat_dma_stats() reports them. The domain keeps the page-table pages an unmap empties (struct
 * moat_pt keep_tables), so a map into a range used before allocates nothing; they go back when the
 * domain is destroyed.
 */
#ifndef MOAT_DMA_H
#define MOAT_DMA_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/diag.h>
#include <moat/internal/dma_core.h>
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
	uint32_t max_mappings;        /* live mappings at most (0: 16384; at most 65536). With maps and
					 unmaps running at once on other CPUs, a map near the limit
					 may be refused while another CPU ends a mapping. */
	/* IOVA space: [iova_base, iova_last], page-aligned, below 2^56 (0, 0: from 1 MiB to the
	 * domain's input limit) */
	uint64_t iova_base, iova_last;
	bool no_cache;                /* no per-CPU IOVA caches (for comparisons) */
};

/* One element of a scatter-gather list. */
struct moat_dma_sg {
	uint64_t phys;
	uint64_t len;
};

struct moat_dma_stats {
	uint64_t maps, unmaps;         /* successful calls (a scatter-gather call counts once) */
	uint64_t invalidations;        /* invalidation calls, each reaching every unit of the domain:
					  strict one per unmap call, deferred one per flush (plus one
					  per map when a unit caches not-present entries) */
	uint64_t live;                 /* mappings now (exact when no call runs meanwhile) */
	uint64_t queued;               /* deferred: IOVA ranges waiting for an invalidation */
	uint64_t flushes;              /* deferred: queue flushes (full, time bound, moat_dma_flush()) */
	uint64_t max_window_ns;        /* deferred: longest time from an unmap to the completion of the
					  invalidation that covered it (moat_plat_time_ns()) */
	uint64_t locked_maps;          /* maps that took the system's lock (new table pages, errors) */
	uint64_t record_bytes;         /* memory of the mapping records and the flush queue */
	struct moat_iova_stats iova;
};

/* Flush queue pages: 512 entries (first IOVA frame << 20 | pages - 1) each. Private. */
#define MOAT_DMA_FQ_PER_PAGE 512u
#define MOAT_DMA_FQ_PAGES (MOAT_DMA_FQ_MAX / MOAT_DMA_FQ_PER_PAGE)

struct moat_dma_rec;

/* One CPU's maps and share of max_mappings. Private. */
struct moat_dma_cpu {
	uint64_t word;                     /* maps made << 20 | credits (mappings it may still make
					      from its share); atomic */
	struct moat_pt_cursor cur;         /* the page path's last table, for this CPU's calls */
	unsigned char pad[MOAT_CACHE_LINE - 8 - sizeof(struct moat_pt_cursor)];
} __attribute__((aligned(MOAT_CACHE_LINE)));

/*
 * Caller storage, aligned as declared (MOAT_CACHE_LINE: static storage does it, heap memory needs
 * aligned_alloc() or the kernel's equivalent), so the CPUs' parts stay on lines of their own.
 * Private fields.
 */
struct moat_dma {
	/* read on every call, written at init */
	uint32_t magic;
	struct moat_domain *dom;
	struct moat_dma_config cfg;
	struct moat_dma_core core;         /* the core's side: table edits, checks, invalidations */
	/* mapping records: open addressing over record pages, claimed with compare-and-swap */
	struct moat_dma_rec **rec_pages;   /* a page of pointers to the record pages */
	uint64_t rec_pages_phys;
	uint64_t *rec_phys;                /* a page: physical address of each record page */
	uint64_t rec_phys_page;
	uint32_t rec_slots;                /* power of two */
	uint32_t rec_npages;
	uint32_t rec_reach;                /* atomic: longest distance of a record from its home slot */
	/* max_mappings minus the live mappings minus the CPUs' shares; atomic */
	MOAT_ALIGNAS(MOAT_CACHE_LINE) int64_t credits;
	/* flush queue (deferred), under the lock: the queued ranges, the unmaps' gather, the oldest
	 * unmap's time (count and time also read without the lock) */
	MOAT_ALIGNAS(MOAT_CACHE_LINE) struct moat_lock lock;
	uint64_t *fq[MOAT_DMA_FQ_PAGES];
	uint64_t fq_phys[MOAT_DMA_FQ_PAGES];
	unsigned fq_count;
	uint64_t fq_start_ns;
	struct moat_pt_gather held;
	uint64_t flushes, max_window_ns;
	struct moat_iova iova;
	struct moat_dma_cpu cpu[MOAT_MAX_CPUS];
};

/*
 * moat_dma_init() - serve @dom (a live domain of its system, not the host identity domain) with
 * @cfg (NULL: strict and the defaults). Allocates the records, the queue and the IOVA caches.
 * IOVAs the domain maps already (e.g. reserved regions of moat_reserved_map()) are never handed
 * out. @d: caller storage that does not read as a live instance: zeroed, or ended by
 * moat_dma_fini() (storage still holding an instance never ended is refused as live).
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, dead or host domain, bad policy, queue size, IOVA
 * range unaligned, empty or past the domain's input width); MOAT_ERR_BUSY (another struct
 * moat_dma serves @dom, or @d itself is live, whichever domain it serves: @d, its mappings and
 * @dom are left as they were); MOAT_ERR_NO_MEMORY.
 */
moat_status moat_dma_init(struct moat_dma *d, struct moat_domain *dom, const struct moat_dma_config *cfg,
			  struct moat_diag *diag);

/*
 * moat_dma_fini() - unmap every live mapping and, with the queue, cover them with one
 * invalidation; give every page back and the domain its own ops (the core's functions may then be
 * used on it again). Call it when no other CPU uses @d any more.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (not initialized); the invalidation's error
 * (MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE: everything is given back anyway; table pages the unmaps
 * emptied are kept, see moat.h).
 */
moat_status moat_dma_fini(struct moat_dma *d);

/*
 * moat_dma_map() - map the buffer [@phys, @phys + @len) for a device whose addresses are limited
 * to @mask (e.g. 0xffffffff; 0 or all ones: the whole IOVA space), with @dir's permissions. The
 * pages holding the buffer are mapped whole (at most 2^20 of them): the device reaches all of them.
 * *@iova: the device address of @phys (IOVA of its first page + its offset in that page); every
 * byte of the mapped pages lies at or below @mask.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, @len 0, bad @dir, a buffer wrapping or past 2^52,
 * @mask below the IOVA space); MOAT_ERR_PROTECTED (the buffer touches protected memory: @diag
 * names it); MOAT_ERR_NO_SPACE (no IOVA range fits below @mask, or max_mappings reached);
 * MOAT_ERR_NO_MEMORY; MOAT_ERR_OVERLAP / MOAT_ERR_MALFORMED (the domain's tables were changed
 * behind the DMA layer's back); MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (a unit that caches
 * not-present entries failed its invalidation: the map is undone and its IOVAs are not used
 * again). On error nothing else changed.
 */
moat_status moat_dma_map(struct moat_dma *d, uint64_t phys, uint64_t len, enum moat_dma_dir dir, uint64_t mask,
			 uint64_t *iova, struct moat_diag *diag);

/*
 * moat_dma_unmap() - end the mapping moat_dma_map() returned as @iova, with its @len and @dir.
 * Strict: returns after the invalidation completed (one call). Deferred: the entries are gone when
 * it returns; the IOVAs are queued (and the queue flushed when full or past the time bound).
 * IOVAs are checked against the IOVA space (iova_last, which lies past 2^52 by default in 5-level
 * VT-d and 5- or 6-level AMD-Vi domains), never against the physical-address limit.
 * Returns MOAT_OK; MOAT_ERR_NOT_FOUND (no live mapping starts in @iova's page: never mapped or
 * already unmapped); MOAT_ERR_INVALID_ARG (NULL, bad @dir, @len 0, a range wrapping or passing
 * iova_last, or @len, @dir or @iova's offset in its page differ from the map's, or it was a list);
 * on these nothing changed, and @diag names the IOVA. MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE: the
 * mapping is ended but an invalidation failed (strict: its IOVAs are never reused; deferred: the
 * queue is kept for the next flush).
 */
moat_status moat_dma_unmap(struct moat_dma *d, uint64_t iova, uint64_t len, enum moat_dma_dir dir,
			   struct moat_diag *diag);

/*
 * moat_dma_map_sg() - map the @n elements of @sg back to back in one IOVA range (each element's
 * pages whole, in order; 2^20 pages at most in all); *@iova is the device address of the first
 * element's first byte, and element k starts at the IOVA of its page plus its offset
 * (moat_dma_sg_iova()). @n between 1 and 1024, no element empty.
 * Returns as moat_dma_map(); all or nothing (an element in protected memory refuses the list).
 */
moat_status moat_dma_map_sg(struct moat_dma *d, const struct moat_dma_sg *sg, unsigned n, enum moat_dma_dir dir,
			    uint64_t mask, uint64_t *iova, struct moat_diag *diag);

/* moat_dma_sg_iova() - the device address of element @k of a list moat_dma_map_sg() mapped at @iova. */
uint64_t moat_dma_sg_iova(const struct moat_dma_sg *sg, unsigned k, uint64_t iova);

/*
 * moat_dma_unmap_sg() - end a scatter-gather mapping: @iova, @sg, @n and @dir as mapped (checked:
 * the list's pages in all, its first element's offset, @dir, and that it was a list). One
 * invalidation in strict mode. Returns as moat_dma_unmap().
 */
moat_status moat_dma_unmap_sg(struct moat_dma *d, uint64_t iova, const struct moat_dma_sg *sg, unsigned n,
			      enum moat_dma_dir dir, struct moat_diag *diag);

/*
 * moat_dma_flush() - deferred: invalidate now for everything queued and release those IOVAs;
 * strict: nothing to do. Returns MOAT_OK or the invalidation's error (the queue is then kept).
 */
moat_status moat_dma_flush(struct moat_dma *d, struct moat_diag *diag);

/* moat_dma_stats() - counters, the stale window and memory (zeros for an uninitialized @d). */
void moat_dma_stats(struct moat_dma *d, struct moat_dma_stats *st);

#ifdef __cplusplus
}
#endif

#endif
