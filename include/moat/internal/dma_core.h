/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the DMA API (src/dma/, include/moat/dma.h) needs from the core, implemented with the core's
 * internals in src/core/dma_core.c. For the DMA layer and tests, not for hosts.
 *
 * A struct moat_dma_core serves one domain (not the host identity domain) for one DMA-layer
 * instance. Calls below may run on several CPUs at once for disjoint IOVA ranges (the DMA layer
 * owns a range from its allocation to its free): the page tables are edited through the engine's
 * page path, which needs no lock for disjoint ranges (struct moat_pt concurrent), and 4 KiB leaves
 * in existing tables are all a map or unmap of up to 511 pages writes. The system lock is taken
 * only:
 *  - when a table is missing or a run has 512 pages or more: the full map or unmap (one at a time
 *    beside the page path), which may take pages from the core's supply (the engine's allocation
 *    callback of a served domain fails unless the system lock is held);
 *  - when the protection check without the lock cannot conclude: a writer changed the registry (or
 *    freed bookkeeping pages) meanwhile, or the range touches protected memory (it is then checked
 *    again under the lock, which also names what it hit);
 *  - for an invalidation that gives table pages back or follows a change of the tables above the
 *    leaves (rare), and after a map when a unit caches not-present entries.
 * Any other invalidation (every strict unmap of the page path, every deferred flush) takes each
 * unit's own lock in turn, never two at once, and not the system lock.
 * The DMA layer's own lock (its flush queue) may be held when calling; it comes before the system
 * lock.
 *
 * The protection check without the lock reads the registry and the Moat-owned bitmap with atomic
 * loads between two reads of sys->prot_seq (see src/core/core_internal.h), and reads the count once
 * more after writing the entries: moat_protect_add() makes the count odd before it walks the
 * domains, so either its walk finds the new entries (and refuses the range), or the map sees the
 * count move, removes its entries, invalidates and checks again under the lock.
 */
#ifndef MOAT_INTERNAL_DMA_CORE_H
#define MOAT_INTERNAL_DMA_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/diag.h>
#include <moat/moat.h>
#include <moat/pt.h>
#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One served domain. Caller storage; fields are private. */
struct moat_dma_core {
	struct moat_domain *dom;
	struct moat_pt_ops own;         /* the domain's engine ops, given back by detach */
	bool sys_locked;                /* a call of this instance holds the system lock: tables may take
					   pages (written and read under that lock) */
	bool inval_on_map;              /* a unit caches not-present entries (fixed at attach) */
	uint64_t invalidations;         /* invalidation calls made (each reaches every unit); atomic */
	uint64_t locked_maps;           /* maps that needed the system lock; system lock */
};

/*
 * Run @k of a map: *@phys (4 KiB aligned) and *@pages. Called any number of times per run, in any
 * order, while moat_dma_core_map() runs; must give the same answer each time.
 */
typedef void (*moat_dma_core_run_fn)(const void *ctx, unsigned k, uint64_t *phys, uint64_t *pages);

/*
 * Called by moat_dma_core_map() once every entry is written and before the map is confirmed (the
 * protection read again): takes what records the mapping (the DMA layer's record, not yet live)
 * with an atomic read-modify-write, which also serves as the barrier between the entries and that
 * read. False: the map fails (MOAT_ERR_NO_SPACE) and is undone.
 */
typedef bool (*moat_dma_core_publish_fn)(void *ctx);

/*
 * moat_dma_core_attach() - serve @dom: its engine ops are wrapped (allocation only under the
 * system lock), it keeps the table pages its unmaps empty (struct moat_pt keep_tables), and
 * whether a unit caches not-present entries is noted (units added later are not looked at).
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, dead domain, the host identity domain);
 * MOAT_ERR_BUSY (another struct moat_dma_core serves @dom).
 */
moat_status moat_dma_core_attach(struct moat_dma_core *c, struct moat_domain *dom, struct moat_diag *diag);

/* moat_dma_core_detach() - give the domain its own ops back (the domain must still be live). */
void moat_dma_core_detach(struct moat_dma_core *c);

/* moat_dma_core_check()'s answer when the map must check under the system lock (odd). */
#define MOAT_DMA_CORE_RECHECK 1u

/*
 * moat_dma_core_check() - the protection check of a map's @n runs without any lock (no domain lock
 * needed either): the (even) protection count it holds for when no run touches protected memory,
 * else MOAT_DMA_CORE_RECHECK (protected memory hit, or a writer ran: the map then checks under the
 * system lock, and names what is hit).
 */
uint32_t moat_dma_core_check(const struct moat_dma_core *c, moat_dma_core_run_fn run, const void *ctx, unsigned n);

/*
 * moat_dma_core_map() - map the @n runs @run gives, back to back from @iova (4 KiB aligned), with
 * @prot (MOAT_PT_READ/WRITE), @checked by moat_dma_core_check() (with the same runs) before. The
 * caller owns the IOVA range (no other call touches it meanwhile); @cur: its CPU's cursor of the
 * page path (struct moat_pt_cursor, or NULL). @publish (NULL: none) is called with @pctx as its
 * type says; when the map then fails, what it published is the caller's to take back. All or
 * nothing.
 * Returns MOAT_OK; MOAT_ERR_PROTECTED (@diag names the range hit, a warning is logged);
 * MOAT_ERR_OVERLAP (an IOVA is mapped already); MOAT_ERR_NO_MEMORY; MOAT_ERR_INVALID_ARG /
 * MOAT_ERR_ALIGNMENT (as moat_pt_map()); MOAT_ERR_MALFORMED; MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE
 * (a unit caching not-present entries failed its invalidation: the map is undone).
 */
moat_status moat_dma_core_map(struct moat_dma_core *c, struct moat_pt_cursor *cur, uint64_t iova,
			      moat_dma_core_run_fn run, const void *ctx, unsigned n, unsigned prot, uint32_t checked,
			      moat_dma_core_publish_fn publish, void *pctx, struct moat_diag *diag);

/*
 * moat_dma_core_unmap() - remove the entries of @pages pages from @iova, which must all be mapped,
 * into @g (range, and pages to give back after the invalidation). No invalidation: see
 * moat_dma_core_invalidate(). The caller owns the IOVA range; @cur as for moat_dma_core_map().
 * Returns MOAT_OK; MOAT_ERR_NOT_FOUND; MOAT_ERR_NO_MEMORY; MOAT_ERR_MALFORMED; MOAT_ERR_INVALID_ARG
 * (as moat_pt_unmap()). On error nothing changed.
 */
moat_status moat_dma_core_unmap(struct moat_dma_core *c, struct moat_pt_cursor *cur, uint64_t iova, uint64_t pages,
				struct moat_pt_gather *g);

/*
 * moat_dma_core_invalidate() - one invalidation on every unit covering what @g gathered (each
 * unit under its own lock; the system lock too when @g holds pages or changed tables); returns
 * after the units reported completion, then gives @g's pages back and empties @g. Counted in c->invalidations when @count (a caller that counts its calls otherwise,
 * e.g. as strict unmaps, passes false). @g must not be shared with a concurrent unmap.
 * Returns MOAT_OK; MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (@g's pages are then kept, never reused).
 */
moat_status moat_dma_core_invalidate(struct moat_dma_core *c, struct moat_pt_gather *g, bool count,
				     struct moat_diag *diag);

/* moat_dma_core_counts() - c->invalidations and c->locked_maps, read under the system lock. */
void moat_dma_core_counts(const struct moat_dma_core *c, uint64_t *invalidations, uint64_t *locked_maps);

#ifdef __cplusplus
}
#endif

#endif
