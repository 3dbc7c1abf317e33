/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The IOVA allocator: hands out ranges of I/O virtual page frames within [base, last], below a
 * per-request limit (the device's DMA mask), optionally aligned to their size.
 *
 * Structure:
 *  - A balanced search tree (AVL) of the FREE ranges, keyed by first frame, each node keeping the
 *    longest free range, the largest aligned power-of-two block and the highest frame of its
 *    subtree. An allocation takes the highest fit below the limit (low addresses stay free for
 *    devices with small masks) by one descent along the limit: O(log n) in the number of free
 *    ranges for every pattern, no scan. A free merges with its neighbours, O(log n).
 *  - Per-CPU caches ("magazines") for sizes of 1 to MOAT_IOVA_CACHED_MAX pages, which are taken
 *    as the next power of two (a request of 3 frames holds 4, aligned to 4, until its free): an
 *    allocation or free of such a size takes or puts one frame number on the current CPU's
 *    magazine, under that CPU's own lock: O(1), no shared lock. Each CPU has a loaded and a
 *    spare magazine per size; full magazines move to a shared depot of bounded size, and what does
 *    not fit goes back to the tree. Frames in a cache are allocated as far as the tree is
 *    concerned.
 * Power-of-two sizes, and every size up to MOAT_IOVA_CACHED_MAX, are always aligned to their
 * (rounded) size, so cached frames serve any request of that size; larger sizes are aligned only
 * when the caller asks (to the next power of two).
 *
 * Fit: an unaligned request, a request of a power-of-two size and any request of up to
 * MOAT_IOVA_CACHED_MAX frames fails only when no free range below the limit holds it (when the
 * tree has none, every cache is emptied into it and the search made again). An aligned request of a larger size n that is not a power of
 * two (aligned to 2^k > n) is taken from a range that holds n + 2^k - 1 frames or a whole aligned
 * block of 2^k, or from a range on the search path where it fits exactly: a range where it fits
 * only at one aligned place may be passed over (the price of the O(log n) bound).
 *
 * Memory: tree nodes and magazines live in pages from the page source given at init (freestanding:
 * no malloc). The magazines of every CPU and the depot are allocated up front and never grow:
 * moat_iova_stats() reports both. Tree nodes grow with the number of free ranges (a page holds
 * 72) and are kept for reuse until moat_iova_fini().
 *
 * Caches: per CPU (moat_plat_cpu_id()) and size class, MOAT_IOVA_SLOTS lock-free slots, then two
 * magazines (loaded and spare), then the depot shared by all CPUs. A free of a cached size fills an
 * empty slot with one compare-and-swap, an allocation empties one the same way: the common pair
 * costs two atomic operations and takes no lock. Only when the slots are full (free) or hold
 * nothing that fits (allocation) are the CPU's magazines used, under the CPU's lock.
 *
 * Locking: one lock for the tree and the depot, one per CPU for its magazines. All functions may
 * be called from any CPU at once; allocations of cached sizes on different CPUs share no lock, and
 * a thread moved to another CPU between the CPU read and the slot access is harmless (the slots
 * are atomic).
 */
#ifndef MOAT_IOVA_H
#define MOAT_IOVA_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/config.h>
#include <moat/pages.h>
#include <moat/platform.h>
#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest cached size, in pages (power of two), and the number of cached size classes. */
#define MOAT_IOVA_CACHED_MAX 32u
#define MOAT_IOVA_CLASSES 6u

/* Lock-free slots per CPU and size class, in front of the magazines. */
#define MOAT_IOVA_SLOTS 4u

/* Defaults of struct moat_iova_config (0 there selects them). */
#define MOAT_IOVA_MAG_DEFAULT 64u      /* frames per magazine */
#define MOAT_IOVA_DEPOT_DEFAULT 16u    /* full magazines the depot keeps per size class */

struct moat_iova_config {
	uint64_t base_pfn, last_pfn;    /* the frames to hand out, inclusive; base_pfn > 0 */
	unsigned mag_size;              /* frames per magazine (0: default; 0 caches: see no_cache) */
	unsigned depot_mags;            /* depot magazines per size class (0: default) */
	bool no_cache;                  /* no per-CPU caches: every request goes to the tree */
};

struct moat_iova_stats {
	uint64_t free_pages;            /* in the tree (cached frames count as allocated) */
	uint64_t free_ranges;           /* tree nodes in use */
	uint64_t cached_ranges;         /* frame ranges held in slots, magazines and the depot */
	uint64_t cache_capacity;        /* ranges the slots, magazines and depot can hold at most */
	uint64_t metadata_bytes;        /* pages held for nodes and magazines, in bytes */
	uint64_t cache_hits, cache_misses;  /* allocations of cached sizes served by a cache, or not
					       (hits may miss a few when threads share a CPU) */
	uint64_t tree_searches;         /* allocations searched in the tree */
	uint64_t tree_steps;            /* tree nodes those searches looked at (O(log n) each) */
};

struct moat_iova_node;
struct moat_iova_mag;

/*
 * Per-CPU cache. Private. A cache line of padding keeps the CPUs' fields on separate lines even
 * when the struct moat_iova is not aligned as declared (e.g. from malloc()).
 */
struct moat_iova_cpu {
	uint64_t slot[MOAT_IOVA_CLASSES][MOAT_IOVA_SLOTS];   /* first frames (0: empty); atomic */
	uint64_t slot_hits;                                  /* relaxed atomic, see moat_iova_stats() */
	struct moat_lock lock;                               /* the magazines and the counters below */
	struct moat_iova_mag *loaded[MOAT_IOVA_CLASSES];
	struct moat_iova_mag *spare[MOAT_IOVA_CLASSES];
	uint64_t hits, misses;
	unsigned char pad[MOAT_CACHE_LINE];
} __attribute__((aligned(MOAT_CACHE_LINE)));

/* The allocator (caller storage). Private fields. */
struct moat_iova {
	uint32_t magic;
	struct moat_iova_config cfg;
	struct moat_pages src;                /* where its pages come from (moat/pages.h) */
	struct moat_lock lock;               /* tree and depot */
	struct moat_iova_node *root;
	struct moat_iova_node *spare_nodes;  /* free list */
	void *pages;                         /* pages held (linked through their first bytes) */
	uint64_t pages_held;
	uint64_t free_pages, free_ranges;
	struct moat_iova_mag *depot[MOAT_IOVA_CLASSES];   /* linked list of full magazines */
	struct moat_iova_mag *empty_mags;                 /* empty magazines for CPUs that fill one */
	unsigned depot_count[MOAT_IOVA_CLASSES];
	uint64_t searches, steps;
	struct moat_iova_cpu cpu[MOAT_MAX_CPUS];
};

/*
 * moat_iova_init() - set up @a (any content) over [cfg->base_pfn, cfg->last_pfn] with pages from
 * @src (moat/pages.h; NULL: the platform). Allocates the magazines up front.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, base_pfn 0, base > last, a magazine size over 1024);
 * MOAT_ERR_NO_MEMORY (nothing is kept).
 */
moat_status moat_iova_init(struct moat_iova *a, const struct moat_iova_config *cfg, const struct moat_pages *src);

/* moat_iova_fini() - give every page back. Frames still allocated are forgotten. */
void moat_iova_fini(struct moat_iova *a);

/*
 * moat_iova_alloc() - @npages contiguous frames, all at or below @limit_pfn, returned in *@pfn
 * (up to MOAT_IOVA_CACHED_MAX, the next power of two of frames is held, all below the limit).
 * @aligned: the first frame is a multiple of @npages rounded up to a power of two (power-of-two
 * sizes and sizes up to MOAT_IOVA_CACHED_MAX are always aligned).
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, @npages 0 or over 2^32, @limit_pfn below base);
 * MOAT_ERR_NO_SPACE (no free range fits); MOAT_ERR_NO_MEMORY (a tree node could not be had).
 */
moat_status moat_iova_alloc(struct moat_iova *a, uint64_t npages, uint64_t limit_pfn, bool aligned, uint64_t *pfn);

/*
 * moat_iova_free() - give back @npages frames from @pfn, as allocated (same size). The allocator
 * does not remember what it handed out: callers check (the DMA layer keeps mapping records).
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (outside [base, last], or, for frames that go back to the
 * tree, overlapping free frames: nothing changes; frames of cached sizes go to a magazine
 * unchecked); MOAT_ERR_NO_MEMORY (no node for the new free range: the frames stay allocated).
 */
moat_status moat_iova_free(struct moat_iova *a, uint64_t pfn, uint64_t npages);

/*
 * moat_iova_reserve() - take whatever is free of the @npages frames from @pfn out of the allocator
 * for good (e.g. IOVAs a domain maps already: reserved regions). Frames already allocated, or held
 * by a per-CPU cache, are left as they are: reserve before the first allocation.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, @npages 0 or over 2^32, frames outside
 * [base, last]); MOAT_ERR_NO_MEMORY (a free range to split had no node: part may be reserved).
 */
moat_status moat_iova_reserve(struct moat_iova *a, uint64_t pfn, uint64_t npages);

/* moat_iova_stats() - counters and memory, read under the locks. */
void moat_iova_stats(struct moat_iova *a, struct moat_iova_stats *st);

#ifdef __cplusplus
}
#endif

#endif
