/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The baseline of bench_iova: the algorithm of the Linux kernel's IOVA allocator, written from its
 * description (drivers/iommu/iova.c is the reference for the facts; none of its code is used here).
 *
 *  - A red-black tree of the ALLOCATED ranges [pfn_lo, pfn_hi], with an anchor node above every
 *    frame (pfn_lo = pfn_hi = all ones) so that the walk always starts from a node.
 *  - An allocation walks the tree downwards, node by node (in-order predecessors), from a cached
 *    node: cached32 for requests whose limit is at or below 4 GiB, cached otherwise, and takes the
 *    first gap below the limit where the request fits: the highest one under the cached node. When
 *    nothing fits under the cached node, it searches once more the frames between the cached node
 *    and the limit, from the limit down. Power-of-two sizes are aligned to their size (the DMA layer
 *    asks for alignment; other sizes to the next power of two).
 *  - The 32-bit hint (max32_alloc_size): a failed search remembers its size; a later request under
 *    the 4 GiB limit at least that big fails at once, until a free below 4 GiB clears the hint.
 *  - The cached nodes move to each new range (cached32 when it ends below 4 GiB); a free at or above
 *    a cached node moves that cached node to the freed range's successor.
 *  - Per-CPU range caches ("rcache"): six size classes, 1 to 32 pages in powers of two (requests
 *    under 32 pages are rounded up to a power of two); each CPU holds a loaded and a previous
 *    magazine of 127 frame numbers per class; a shared depot per class keeps up to 32 full
 *    magazines, under its own lock. An allocation pops from the loaded magazine (swapping in the
 *    previous one, then a full one from the depot), else searches the tree; a free pushes (swapping
 *    likewise, moving a full magazine to the depot, or, the depot being full, giving all its ranges
 *    back to the tree). A fast allocation that fails may empty every cache into the tree and try
 *    the tree once more (the DMA layer asks for that on its last attempt only).
 * Locks are the platform's (moat_plat_lock_*(), the same Moat uses): one for the tree, one per CPU
 * cache, one per depot. The CPU is the platform's (moat_plat_cpu_id()), modulo the CPUs at init.
 */
#ifndef MOAT_BENCH_IOVA_RBTREE_H
#define MOAT_BENCH_IOVA_RBTREE_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/platform.h>

#define LX_MAG_SIZE 127u        /* frame numbers per magazine */
#define LX_CLASSES 6u           /* size classes: 1, 2, 4, 8, 16, 32 pages */
#define LX_DEPOT_MAGS 32u       /* full magazines the depot of a class keeps */
#define LX_MAX_CPUS 8u

/* A node of the red-black tree: one allocated range. */
struct lx_node {
	struct lx_node *parent, *left, *right;
	bool red;
	uint64_t pfn_lo, pfn_hi;
};

struct lx_mag {
	unsigned size;
	uint64_t pfns[LX_MAG_SIZE];
};

struct lx_cpu_cache {
	struct moat_lock lock;
	struct lx_mag *loaded, *prev;
	uint64_t hits, misses;
} __attribute__((aligned(64)));

struct lx_rcache {
	struct moat_lock lock;
	unsigned depot_size;
	struct lx_mag *depot[LX_DEPOT_MAGS];
	struct lx_cpu_cache cpu[LX_MAX_CPUS];
};

/* Counters (lx_iova_stats()). */
struct lx_stats {
	uint64_t nodes;          /* ranges in the tree, the anchor excluded */
	uint64_t walk_steps;     /* nodes the allocation walks visited, in total */
	uint64_t tree_allocs, tree_frees, tree_failures;
	uint64_t cache_hits, cache_misses;
};

struct lx_iova {
	struct moat_lock lock;                  /* the tree, the cached nodes, the hint */
	struct lx_node *root;
	struct lx_node anchor;
	struct lx_node *cached, *cached32;
	uint64_t start_pfn, dma32_pfn;         /* dma32_pfn: the first frame at or above 4 GiB */
	uint64_t max32_alloc_size;
	struct lx_node *spare;                 /* free nodes (a slab's free list) */
	void *chunks;                          /* the blocks the nodes come from */
	unsigned ncpus;
	struct lx_stats st;                    /* tree counters, under the tree lock */
	struct lx_rcache rcache[LX_CLASSES];
};

/* lx_iova_init() - an empty allocator of frames from @start_pfn (> 0) up, for @ncpus CPUs. 0 or -1. */
int lx_iova_init(struct lx_iova *d, uint64_t start_pfn, unsigned ncpus);

/* lx_iova_fini() - release every node and magazine. */
void lx_iova_fini(struct lx_iova *d);

/*
 * lx_alloc_iova() - search the tree for @size frames ending at or below @limit_pfn (inclusive),
 * aligned to @size's power of two when @aligned; the first frame in *@pfn. Returns false when
 * nothing fits.
 */
bool lx_alloc_iova(struct lx_iova *d, uint64_t size, uint64_t limit_pfn, bool aligned, uint64_t *pfn);

/* lx_free_iova() - take the range starting at @pfn out of the tree. Returns false if none starts there. */
bool lx_free_iova(struct lx_iova *d, uint64_t pfn);

/*
 * lx_alloc_iova_fast() - the current CPU's caches first, then the tree (size-aligned); when that
 * fails and @flush_rcache, every cache is emptied into the tree and the tree tried once more. The
 * CPU is found inside, as the original finds its per-CPU data, with the platform's per-CPU read
 * (moat_plat_cpu_id(), the same one Moat's caches use), taken modulo the CPUs given to init.
 */
bool lx_alloc_iova_fast(struct lx_iova *d, uint64_t size, uint64_t limit_pfn, bool flush_rcache, uint64_t *pfn);

/* lx_free_iova_fast() - give back @size frames at @pfn: to the current CPU's caches, or to the tree. */
void lx_free_iova_fast(struct lx_iova *d, uint64_t pfn, uint64_t size);

/* lx_iova_stats() - the counters; call when no other call runs. */
void lx_iova_stats(struct lx_iova *d, struct lx_stats *out);

/* lx_iova_check() - verify the red-black and order invariants of the tree; returns the node count or -1. */
int64_t lx_iova_check(struct lx_iova *d);

#endif
