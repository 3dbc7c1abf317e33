/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by the core's sources: the Moat-owned page bookkeeping (track.c), page supply and the
 * host-domain upkeep (pages.c), the registry lookups (protect.c) and unit helpers (system.c).
 * Every function here expects the system lock held, except the *_unlocked reader below.
 */
#ifndef MOAT_CORE_INTERNAL_H
#define MOAT_CORE_INTERNAL_H

#include <moat/internal/lib.h>
#include <moat/internal/unit.h>
#include <moat/moat.h>
#include <moat/pages.h>

#define CORE_SYS_MAGIC 0x6d6f6174u  /* "moat" */
#define CORE_DOM_MAGIC 0x646f6d6eu  /* "domn" */

#define CORE_PAGE_SHIFT 12u
#define CORE_PAGE_MASK ((uint64_t)MOAT_PAGE_SIZE - 1)
#define CORE_PHYS_LIMIT (1ull << 52)   /* every format's output-address limit */
#define CORE_PFN_LIMIT (CORE_PHYS_LIMIT >> CORE_PAGE_SHIFT)

/* ---- Moat-owned pages (track.c) ---- */

/* Kinds of marks a page frame carries; one bitmap each per leaf. */
enum track_kind {
	TK_OWNED = 0,     /* Moat-owned: protected */
	TK_TABLE = 1,     /* a page-table page of some domain */
	TK_PUNCHED = 2,   /* owned, and was taken out of the host identity domain for that */
	TK_PENDING = 3,   /* owned, not yet checked against the host identity domain */
	TK_RESTORE = 4,   /* no longer owned; was punched: goes back into the host domain */
	TK_CANDIDATE = 5, /* owned and pending, held while a physically contiguous run is looked for */
	TK_KINDS = 6,
};
#define TK_BIT(k) (1u << (k))

/*
 * Mark frame @pfn with the kinds in @mask, allocating bookkeeping nodes as needed (core_node_alloc():
 * a node from the platform is itself marked owned, and pending when a host domain exists). All or
 * nothing: MOAT_ERR_NO_MEMORY leaves the bookkeeping as it was. A frame marked owned that had
 * RESTORE gets PUNCHED instead (it never went back into the host domain).
 */
moat_status track_mark(struct moat_system *sys, uint64_t pfn, unsigned mask);
/* Clear the kinds in @mask of @pfn (no allocation; nothing to do when its leaf is absent). */
void track_clear(struct moat_system *sys, uint64_t pfn, unsigned mask);
/* Set kinds on a frame whose leaf exists (an owned frame); returns false when it does not. */
bool track_set(struct moat_system *sys, uint64_t pfn, unsigned mask);
bool track_test(const struct moat_system *sys, uint64_t pfn, enum track_kind kind);
/* The lowest frame in [@first, @last] that has @kind and (if @without < TK_KINDS) not @without. */
bool track_next(const struct moat_system *sys, enum track_kind kind, unsigned without, uint64_t first,
		uint64_t last, uint64_t *found);
/* Clear @kind on every frame. */
void track_clear_all(struct moat_system *sys, enum track_kind kind);
/* Give back every node page. */
void track_fini(struct moat_system *sys);

/* ---- page supply and host upkeep (pages.c) ---- */

/* The engine ops of a domain's tables (cookie: the domain). */
struct moat_pt_ops core_pt_ops(struct moat_domain *dom);
/*
 * A trusted page (pages.c: owned, out of the host domain with that invalidated, zeroed), marked
 * with @extra kinds too; the pool is refilled when empty. Not for the host domain's own tables
 * (their allocations come from the pool only, see core_host_retry()). NULL when none can be had.
 */
void *core_page_alloc(struct moat_system *sys, uint64_t *phys, unsigned extra);
/*
 * moat_pages_alloc_run() for the core: @n trusted pages at consecutive physical addresses, the first
 * aligned to @align, each zeroed and handed to @put in order; looked for among platform pages
 * before any is trusted. Returns MOAT_OK, MOAT_ERR_INVALID_ARG, MOAT_ERR_NO_MEMORY (no such run:
 * every page taken went back), or an invalidation's error (the run is kept aside, unused).
 */
moat_status core_run_alloc(struct moat_system *sys, uint32_t n, uint64_t align, moat_pages_run_fn put, void *ctx,
			   uint64_t *phys);
/* Give a page back: to the pool while it is unreachable and the pool has room, else the platform. */
void core_page_free(struct moat_system *sys, void *virt, uint64_t phys);
/* A zeroed page for a bookkeeping node that no device can reach: from the pool while a device uses
 * the host domain (*@pooled), else from the platform (the caller marks it owned). NULL: none. */
void *core_node_alloc(struct moat_system *sys, uint64_t *phys, bool *pooled);
void core_node_free(struct moat_system *sys, void *virt, uint64_t phys, bool pooled);
/* Whether a device uses the host identity domain (so its pages must be trusted before use). */
bool core_host_live(const struct moat_system *sys);
/* Grow the pool of trusted pages to @target (bounded batches); false when it did not get there. */
bool core_pool_fill(struct moat_system *sys, uint64_t target);
/*
 * After an engine operation on @dom returned @st: whether to run it again. True only when @dom is
 * the live host domain, @st is MOAT_ERR_NO_MEMORY (its table pages come from the pool only) and
 * the pool could be grown by what the engine wanted; at most a few times per *@tries (start at 0).
 */
bool core_host_retry(struct moat_system *sys, const struct moat_domain *dom, moat_status st, unsigned *tries);
/*
 * Bring the host identity domain in line with the bookkeeping: take pending owned pages out of
 * it, put freed punched pages back, refill the pool. Bounded; returns MOAT_OK or the error that
 * stopped it (pending pages then stay marked and are retried by the next call).
 */
moat_status core_settle(struct moat_system *sys, unsigned *passes);
/* core_settle() that refills the pool only when @refill (moat_protect_host() with no device
 * attached yet leaves the refill to the attach that makes the domain live). */
moat_status core_settle_opt(struct moat_system *sys, unsigned *passes, bool refill);
/* Give the pool back to the platform (at fini). */
void core_pool_drain(struct moat_system *sys);
/*
 * Fill the pool before a host domain exists: the pages are Moat-owned from the start, so the
 * host-protection build never maps them and nothing needs taking out. False when the platform
 * gave no page.
 */
bool core_pool_prefill(struct moat_system *sys);
/* Whether the pool holds MOAT_HOST_POOL pages. */
static inline bool core_pool_full(const struct moat_system *sys)
{
	return sys->pool_count >= MOAT_HOST_POOL;
}

/* ---- units and invalidation (system.c) ---- */

/*
 * A unit operation's lock, for a caller holding the system lock: taken unless that caller holds it
 * already (an operation that allocates a page invalidates every unit, its own included). Returns
 * whether it was taken, for core_unit_exit(). Lock order: the system lock, then a unit's.
 */
bool core_unit_enter(struct moat_unit *u);
/* Whether a device of @dom was ever attached through @u (so @u may cache its translations);
 * core_unit_note() records that one is (with @u's lock held, before the device's entry is written). */
bool core_unit_saw(const struct moat_unit *u, const struct moat_domain *dom);
void core_unit_note(const struct moat_unit *u, struct moat_domain *dom);
void core_unit_exit(struct moat_unit *u, bool entered);
/* Invalidate @dom's [@iova, @iova + @size) (@size 0: all) on every unit; first error returned.
 * System lock held. */
moat_status core_invalidate(struct moat_system *sys, const struct moat_domain *dom, uint64_t iova, uint64_t size,
			    bool tables_changed, struct moat_diag *diag);

/* Invalidate and then give back the pages of @g (strict); on an invalidation failure the pages are
 * kept (still Moat-owned, never reused) and the error returned. */
moat_status core_gather_finish(struct moat_system *sys, struct moat_domain *dom, struct moat_pt_gather *g,
			       struct moat_diag *diag);
/* core_gather_finish() of a gather with no pages and no table change (leaves only), without the
 * system lock: each unit under its own lock. */
moat_status core_gather_finish_leaves(struct moat_system *sys, struct moat_domain *dom, struct moat_pt_gather *g,
				      struct moat_diag *diag);
/*
 * The auditor's interrupt-remapping checks (audit_irq.c): every unit's walk_irqs() records and
 * every leaf against the interrupt table pages, into @r. System lock held. kind_str and format
 * give the words of the MOAT_AUDIT_IRQ_* kinds (NULL and -1 for other kinds).
 */
void core_audit_irq(struct moat_system *sys, struct moat_audit_report *r);
const char *core_audit_irq_kind_str(enum moat_audit_kind kind);
int core_audit_irq_format(const struct moat_audit_violation *v, char *buf, size_t size);

/* The live domain whose root is @root_phys, or NULL. */
struct moat_domain *core_domain_by_root(struct moat_system *sys, uint64_t root_phys);
bool core_any_unit_flag(const struct moat_system *sys, uint32_t flag);
/* Whether a DMA instance serves @dom (dma_core.c): its tables are then edited without the system
 * lock, and the core's own map and unmap must keep off them. */
bool core_dom_dma_served(const struct moat_domain *dom);

static inline void core_lock(struct moat_system *sys)
{
	moat_plat_lock_acquire(&sys->lock);
}

static inline void core_unlock(struct moat_system *sys)
{
	moat_plat_lock_release(&sys->lock);
}

static inline bool core_sys_ok(const struct moat_system *sys)
{
	return sys && sys->magic == CORE_SYS_MAGIC;
}

static inline bool core_dom_ok(const struct moat_domain *dom)
{
	return dom && dom->magic == CORE_DOM_MAGIC && core_sys_ok(dom->sys);
}

/* ---- registry (protect.c) ---- */

/*
 * The registry range with the lowest base among those overlapping [@first, @last] (inclusive),
 * or -1. Ranges are stored page-rounded.
 */
int core_prot_find(const struct moat_system *sys, uint64_t first, uint64_t last);
/* Protected memory (registry or owned) in [@first, @last]: MOAT_OK or MOAT_ERR_PROTECTED + @hit. */
moat_status core_prot_check(const struct moat_system *sys, uint64_t first, uint64_t last,
			    struct moat_protect_hit *hit);

static inline uint64_t core_prot_last(const struct moat_protected *p)
{
	return p->base + (p->size - 1);
}

/*
 * Protection read without the lock (the DMA map path, src/core/dma_core.c): sys->prot_seq is odd
 * while a writer (lock held) changes the registry, or frees bookkeeping nodes a reader may be
 * following; moat_protect_add() keeps it odd from before its walk of the domains, so a map racing
 * it is seen either by that walk or by the mapper's second read of the count. Readers note an even
 * value, read, and start again when it changed. Writers nest (sys->prot_write_depth): the count
 * stays odd until the outermost one ends.
 */
static inline void core_prot_write_begin(struct moat_system *sys)
{
	if (sys->prot_write_depth++)
		return;   /* nested in a writer: the count is odd already */
	__atomic_add_fetch(&sys->prot_seq, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static inline void core_prot_write_end(struct moat_system *sys)
{
	if (--sys->prot_write_depth)
		return;
	__atomic_add_fetch(&sys->prot_seq, 1, __ATOMIC_RELEASE);
}

/* Whether a Moat-owned frame lies in [@first, @last], read without the lock (atomic loads; the
 * answer holds only if sys->prot_seq did not change meanwhile). */
bool track_owned_unlocked(const struct moat_system *sys, uint64_t first, uint64_t last);

#endif
