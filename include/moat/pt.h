/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The page-table engine: I/O page tables in the two hardware formats Moat drives, built by one
 * generic walker.
 *
 *  - MOAT_PT_VTD_SL: Intel VT-d second-stage paging (VT-d spec rev 4.1 / 5.0, sections 3.7 and 9.8),
 *    3, 4 or 5 levels (39, 48 or 57-bit input addresses), 4 KiB, 2 MiB and 1 GiB leaves.
 *  - MOAT_PT_AMD_V1: AMD-Vi v1 I/O page tables (AMD IOMMU spec 48882, section 2.2.3), levels 1 to 6
 *    (the device-table Mode field; level L translates 12 + 9 * L input bits, level 6 all 64),
 *    4 KiB, 2 MiB and 1 GiB leaves.
 *
 * Levels are numbered the way both specifications do: level 1 tables hold 4 KiB leaves, level 2
 * entries map 2 MiB, level 3 entries 1 GiB; the root is the table at level cfg.levels.
 *
 * Every table page comes from the instance's struct moat_pt_ops (a cookie-based seam, so tests can
 * fail allocations and count flushes per instance). The engine keeps no bookkeeping outside the
 * tables themselves: struct moat_pt is all the state there is, and moat_pt_walk() reads the live
 * entries the IOMMU reads.
 *
 * Guarantees of every changing operation (map, unmap):
 *  - all or nothing: on any error the tables are bit-for-bit as before (the pages an operation needs
 *    are counted and allocated before the first entry is written);
 *  - a table page that is new is completely written before the entry linking it is written, and
 *    on a non-coherent walker completely flushed first, so the IOMMU never follows a link into stale
 *    memory;
 *  - on a non-coherent walker (cfg.coherent false) every cache line written in a table that stays
 *    linked is flushed exactly once per operation, then flush_done() is called once; with a
 *    coherent walker neither is ever called;
 *  - table pages an unmap empties go into a struct moat_pt_gather, not back to the allocator, until
 *    the caller has invalidated the IOTLB and paging-structure caches (moat_pt_gather_release()).
 *  - no table is left empty (except the root): emptied tables are unlinked and gathered.
 *
 * An instance is not locked: the caller serializes map, unmap and destroy on one instance.
 * Translate and walk only read, and may run concurrently with each other.
 */
#ifndef MOAT_PT_H
#define MOAT_PT_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Page-table formats. */
enum moat_pt_format {
	MOAT_PT_VTD_SL = 1,  /* Intel VT-d second-stage (second-level) paging, 3 to 5 levels */
	MOAT_PT_AMD_V1 = 2,  /* AMD-Vi v1 I/O page tables, 1 to 6 levels */
};

/* Access permissions of a mapping (map's @prot, translate's and walk's reports). */
#define MOAT_PT_READ  1u
#define MOAT_PT_WRITE 2u
#define MOAT_PT_RW    (MOAT_PT_READ | MOAT_PT_WRITE)

/* Leaf sizes a table may use (struct moat_pt_config.page_sizes). */
#define MOAT_PT_PAGE_4K (1u << 0)
#define MOAT_PT_PAGE_2M (1u << 1)
#define MOAT_PT_PAGE_1G (1u << 2)

/* Deepest table supported by any format (AMD-Vi v1, 6 levels). */
#define MOAT_PT_MAX_LEVELS 6u

/*
 * Where an instance's table pages come from, and how its writes reach a non-coherent walker.
 * Every callback gets @cookie. The engine calls them only from inside its own functions.
 */
struct moat_pt_ops {
	/* One 4 KiB page, zero-filled, 4 KiB aligned, below 2^52 physically; its physical address in
	 * *phys. NULL when none is left (the operation then fails with MOAT_ERR_NO_MEMORY). */
	void *(*alloc)(void *cookie, uint64_t *phys);
	/* Take back a page given by alloc(), as the pair alloc() returned. */
	void (*free)(void *cookie, void *virt, uint64_t phys);
	/* The virtual address of a page given by alloc() and not yet freed, from its physical
	 * address; NULL for any other address (a walk then reports the entry as corrupt). */
	void *(*phys_to_virt)(void *cookie, uint64_t phys);
	/* Write back the cache line starting at @virt (MOAT_CACHE_LINE bytes, aligned) to memory.
	 * Called only when cfg.coherent is false; may then not be NULL. */
	void (*flush_line)(void *cookie, const void *virt);
	/* Order all flushes before later stores (a write barrier after a batch of flush_line()).
	 * Called once at the end of an operation that flushed anything; only when cfg.coherent is
	 * false, and may then not be NULL. */
	void (*flush_done)(void *cookie);
	void *cookie;
};

/*
 * moat_pt_platform_ops() - ops that use the platform (include/moat/platform.h): pages from
 * moat_plat_page_alloc(), moat_plat_phys_to_virt(), moat_plat_flush_cache_line() and
 * moat_plat_wmb(). None of them reads the cookie (NULL here): a caller may replace alloc, free
 * and the cookie and keep the other three.
 */
struct moat_pt_ops moat_pt_platform_ops(void);

struct moat_pt_config {
	enum moat_pt_format format;
	/* Number of levels: VT-d 3, 4 or 5 (the unit's SAGAW/AGAW: 39, 48, 57 bits), AMD 1 to 6 (the
	 * device-table Mode). */
	unsigned levels;
	/* Leaf sizes the unit supports: MOAT_PT_PAGE_4K is required; MOAT_PT_PAGE_1G requires
	 * MOAT_PT_PAGE_2M (so a 1 GiB leaf can always be split into 2 MiB ones). Sizes a table of
	 * @levels levels cannot hold (AMD 1 level: 2M and 1G; 2 levels: 1G) are ignored. */
	unsigned page_sizes;
	/* The IOMMU snoops the CPU caches when it walks the tables (VT-d ECAP.C, AMD coherent
	 * walks): no cache flushes are needed. */
	bool coherent;
};

struct moat_pt_format_desc;

/*
 * What a page-path caller remembers of the last-level table it went through last, so the next
 * call in the same 2 MiB goes straight to it. Zero it before first use. A caller's own cursor (one
 * per CPU when page-path calls run at once: struct moat_pt concurrent) is only used on an instance
 * with keep_tables, whose tables stay linked until moat_pt_destroy(). Calls may share a cursor
 * (two threads on one CPU): it is read and written as a sequence lock, and a call that finds it
 * being written walks from the root instead.
 */
struct moat_pt_cursor {
	uint64_t seq;              /* odd while being written; atomic */
	uint64_t *tbl;             /* atomic */
	uint64_t key;              /* 1 + the 2 MiB frame @tbl covers (0: none); atomic */
};

/* One page-table instance (one domain's tables). Fields are read-only for users. */
struct moat_pt {
	uint64_t root_phys;        /* physical address of the root table, for the context/device entry */
	void *root;                /* its virtual address */
	struct moat_pt_config cfg;
	struct moat_pt_ops ops;
	uint64_t table_pages;      /* table pages linked into the tables, the root included */
	unsigned iova_bits;        /* input-address width: 12 + 9 * levels, at most 64 */
	/* Set by the owner (false after init): unmaps leave emptied tables linked, so the next map of
	 * the range allocates nothing (DMA domains, whose IOVAs come and go in the same ranges). */
	bool keep_tables;
	/* Set by the owner (false after init), with keep_tables: calls of the page path
	 * (moat_pt_map_page(), moat_pt_map_pages() and their unmaps) may run at once on disjoint
	 * ranges, while every other operation on the tables has one caller at a time (its owner's
	 * lock). The page path then uses only the callers' cursors and reads the entries above the
	 * last level atomically; the operations that link a new table publish it with a release
	 * store. */
	bool concurrent;
	uint64_t iova_last;        /* highest input address: 2^iova_bits - 1 */
	/* Table pages the last changing operation asked alloc() for (its survey's count), also when
	 * it failed with MOAT_ERR_NO_MEMORY: a caller whose allocator ran short can supply that many
	 * and try again. */
	uint64_t pages_wanted;
	/* private */
	const struct moat_pt_format_desc *fmt;
	unsigned leaf_levels;      /* bit L set: level L may hold a leaf (format and page_sizes) */
	bool used;                 /* a map succeeded once: the tables may hold leaves */
	/* The instance's own cursor, for page-path calls without one (not when concurrent). The page
	 * path never adds or frees a table; every other operation that edits the tables forgets it. */
	struct moat_pt_cursor leaf;
};

/*
 * Table pages and ranges an unmap took out, held until the caller's IOTLB invalidation completed.
 * Initialise with moat_pt_gather_init(); several unmaps of one instance may share a gather, which
 * then describes them all. The freed pages are linked through their own first 16 bytes (two
 * page-aligned addresses, which read as non-present entries in both formats): no allocation.
 */
struct moat_pt_gather {
	uint64_t iova_first;       /* lowest IOVA of the ranges unmapped (valid when unmapped != 0) */
	uint64_t iova_last;        /* highest IOVA of those ranges, inclusive */
	uint64_t unmapped;         /* bytes unmapped */
	uint64_t freed_pages;      /* table pages waiting for moat_pt_gather_release() */
	/* A non-leaf entry changed (a table was unlinked, or a superpage was split into a table):
	 * invalidate the paging-structure caches too (VT-d: domain-selective, or page-selective
	 * without the invalidation hint; AMD: PDE bit set in INVALIDATE_IOMMU_PAGES). */
	bool tables_changed;
	void *pages;               /* first waiting page (virtual), NULL when none */
	uint64_t pages_phys;       /* its physical address */
};

/*
 * Callbacks of moat_pt_walk(); any may be NULL. Each returns MOAT_OK to go on; any other status
 * (MOAT_END is the usual one) stops the walk, which then returns that status.
 */
struct moat_pt_walk_ops {
	/* A table page, before its entries: its physical and virtual address, its level, and the
	 * lowest IOVA it translates. Called for the root first. */
	moat_status (*table)(void *ctx, uint64_t phys, const void *virt, unsigned level, uint64_t iova);
	/* A leaf: @size bytes at @iova translate to @phys, with @prot the permissions that reach it
	 * (MOAT_PT_READ/WRITE of the leaf and of every table entry above it, ANDed: 0 when none). */
	moat_status (*leaf)(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot);
	/* An entry that is not a valid leaf or table link of the format at @level, or a link to an
	 * address phys_to_virt() does not know or to a table already on the path: not followed.
	 * @iova is the first address the entry would translate; @raw its 64-bit value. */
	moat_status (*bad_entry)(void *ctx, uint64_t iova, unsigned level, uint64_t raw);
};

/*
 * moat_pt_init() - set up an instance with an empty root table from @ops.
 * @cfg and @ops are copied. With cfg.coherent false, the root page is flushed before this returns.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG for an unknown format, a number of levels the format does
 * not have, page sizes without MOAT_PT_PAGE_4K, with unknown bits or 1G without 2M, missing ops
 * (alloc, free and phys_to_virt always; flush_line and flush_done when not coherent) or a NULL
 * argument; MOAT_ERR_NO_MEMORY when alloc() fails; MOAT_ERR_UNSUPPORTED when alloc() returns a
 * page that is not 4 KiB aligned or not below 2^52 (the page is given back). On error *@pt is
 * left unusable and nothing is allocated.
 */
moat_status moat_pt_init(struct moat_pt *pt, const struct moat_pt_config *cfg, const struct moat_pt_ops *ops);

/*
 * moat_pt_destroy() - free every table page of the instance, the root included, at once.
 * The IOMMU must no longer use the tables (device detached, caches invalidated), and every gather
 * of the instance must have been released. Links to addresses phys_to_virt() does not know (a
 * page already freed, when phys_to_virt() forgets freed pages), and links back to a table on the
 * path, are not followed. The instance is unusable afterwards.
 */
void moat_pt_destroy(struct moat_pt *pt);

/*
 * moat_pt_map() - translate [@iova, @iova + @size) to [@phys, @phys + @size) with @prot.
 * Uses the largest leaves (1 GiB, 2 MiB, 4 KiB) that cfg.page_sizes allows and that the range
 * covers with @iova and @phys equally aligned, so an identity map of 1 TiB with 1 GiB pages takes a
 * handful of table pages. A table already linked where a larger leaf could go (one an unmap kept:
 * keep_tables) stays, and takes the smaller leaves.
 * Returns MOAT_OK; MOAT_ERR_ALIGNMENT when @iova, @phys or @size is not a multiple of 4 KiB;
 * MOAT_ERR_INVALID_ARG for @size 0, @prot 0 or with bits other than MOAT_PT_READ/WRITE, an IOVA
 * range past iova_last or wrapping, a physical range past 2^52, or a NULL @pt;
 * MOAT_ERR_OVERLAP when any part of the range is already mapped; MOAT_ERR_NO_MEMORY when a table
 * page could not be allocated; MOAT_ERR_UNSUPPORTED when alloc() gave a page the format cannot
 * hold; MOAT_ERR_MALFORMED when the tables on the way hold an entry the engine did not write
 * (corruption). On every error the tables are unchanged, bit for bit.
 */
moat_status moat_pt_map(struct moat_pt *pt, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot);

/*
 * moat_pt_map_pages() / moat_pt_unmap_pages() - @n (1 to MOAT_PT_PAGES_MAX) consecutive 4 KiB
 * pages, when the tables on their way already exist: the fast path of a DMA map or unmap. Map
 * writes 4 KiB leaves to @phys onwards (MOAT_ERR_OVERLAP when an entry is there); unmap clears
 * 4 KiB leaves and records the range in @g as moat_pt_unmap() does (no table is freed). Both
 * return MOAT_ERR_NOT_FOUND when a page is not in that shape (a table missing, a superpage,
 * nothing mapped): then moat_pt_map() / moat_pt_unmap() handle it, with their own statuses.
 * Arguments are checked as there; on error nothing changed. Written lines are flushed once each.
 * moat_pt_map_page() / moat_pt_unmap_page(): one page.
 * @cur: the caller's cursor (struct moat_pt_cursor), or NULL for the instance's own (none when
 * concurrent: every call then walks from the root).
 */
#define MOAT_PT_PAGES_MAX 512u
moat_status moat_pt_map_pages(struct moat_pt *pt, struct moat_pt_cursor *cur, uint64_t iova, uint64_t phys, uint64_t n,
			      unsigned prot);
moat_status moat_pt_unmap_pages(struct moat_pt *pt, struct moat_pt_cursor *cur, uint64_t iova, uint64_t n,
				struct moat_pt_gather *g);
moat_status moat_pt_map_page(struct moat_pt *pt, struct moat_pt_cursor *cur, uint64_t iova, uint64_t phys,
			     unsigned prot);
moat_status moat_pt_unmap_page(struct moat_pt *pt, struct moat_pt_cursor *cur, uint64_t iova, struct moat_pt_gather *g);

/*
 * moat_pt_map_unused() - moat_pt_map() for a range the caller knows is unused: no entry of the
 * tables covers a whole leaf slot of it (e.g. disjoint ranges mapped into a new instance, as the
 * host-protection build does). The leaf slots are then not read to check for overlap; the rest of
 * the checks, the statuses and the all-or-nothing rule are those of moat_pt_map(). A range that
 * is not unused is not detected: its whole-slot entries are overwritten.
 */
moat_status moat_pt_map_unused(struct moat_pt *pt, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot);

/*
 * moat_pt_unmap() - remove the translation of [@iova, @iova + @size), which must be mapped in full.
 * Strict on purpose: a DMA API unmaps exactly what it mapped, and a range with a hole means a
 * double unmap or a wrong length, a bug to report rather than to half-do. (Use
 * moat_pt_unmap_present() to clear whatever a range holds.)
 * Part of a superpage is unmapped by splitting it: the rest stays mapped with the same permissions.
 * Tables left empty are unlinked and, like the pages no longer reachable, added to @g; @g also
 * records the range and whether paging-structure caches must be invalidated. After the caller's
 * IOTLB invalidation, moat_pt_gather_release() frees the pages.
 * Returns MOAT_OK; MOAT_ERR_ALIGNMENT when @iova or @size is not a multiple of 4 KiB;
 * MOAT_ERR_INVALID_ARG for @size 0, a range past iova_last or wrapping, or a NULL argument;
 * MOAT_ERR_NOT_FOUND when some 4 KiB page of the range is not mapped; MOAT_ERR_NO_MEMORY when
 * splitting a superpage needs a page alloc() could not give; MOAT_ERR_UNSUPPORTED as for map;
 * MOAT_ERR_MALFORMED when the tables in the range hold an entry the engine did not write.
 * On every error the tables and @g are unchanged.
 */
moat_status moat_pt_unmap(struct moat_pt *pt, uint64_t iova, uint64_t size, struct moat_pt_gather *g);

/*
 * moat_pt_unmap_present() - like moat_pt_unmap(), but the range may have holes: whatever is mapped
 * in it is unmapped (superpages crossing its ends are split). *@unmapped (if not NULL) receives
 * the number of bytes this call unmapped (0 when the range held nothing, which is not an error).
 * For tearing down windows whose contents the caller does not track.
 * Returns as moat_pt_unmap(), except that MOAT_ERR_NOT_FOUND is never returned.
 */
moat_status moat_pt_unmap_present(struct moat_pt *pt, uint64_t iova, uint64_t size, struct moat_pt_gather *g,
				  uint64_t *unmapped);

/* moat_pt_gather_init() - make @g empty. */
void moat_pt_gather_init(struct moat_pt_gather *g);

/*
 * moat_pt_gather_release() - give the pages waiting in @g back to @pt's allocator and make @g empty.
 * Call it only after the IOMMU can no longer reach them: the IOTLB and paging-structure caches
 * covering every unmap gathered in @g were invalidated and the invalidation completed.
 * @g must hold pages of @pt only.
 */
void moat_pt_gather_release(struct moat_pt *pt, struct moat_pt_gather *g);

/*
 * moat_pt_translate() - look @iova up in the live tables, as the IOMMU would.
 * @phys (if not NULL) receives the physical address of the byte @iova, @prot the permissions
 * (ANDed over the levels), @leaf_size the size of the leaf holding it (4 KiB, 2 MiB, 1 GiB).
 * Returns MOAT_OK; MOAT_ERR_NOT_FOUND when @iova is not mapped; MOAT_ERR_INVALID_ARG when @iova is
 * past iova_last or @pt is NULL; MOAT_ERR_MALFORMED when the path holds a corrupt entry (one the
 * walk would report as bad, a link back up the path included).
 */
moat_status moat_pt_translate(const struct moat_pt *pt, uint64_t iova, uint64_t *phys, unsigned *prot,
			      uint64_t *leaf_size);

/*
 * moat_pt_walk() - visit the live tables depth-first in IOVA order: every table page (the root
 * first), every leaf, every corrupt entry (see struct moat_pt_walk_ops). Reads only the tables,
 * each entry once; links are followed only to pages phys_to_virt() knows, downwards one level at a
 * time, so the walk is bounded by the number of levels whatever the entries hold.
 * Returns MOAT_OK after a complete walk; the status a callback returned to stop it;
 * MOAT_ERR_INVALID_ARG when @pt or @w is NULL.
 */
moat_status moat_pt_walk(const struct moat_pt *pt, const struct moat_pt_walk_ops *w, void *ctx);

/* moat_pt_table_pages() - memory the instance holds: table pages linked into its tables (root
 * included; pages waiting in a gather are counted by the gather). Times 4 KiB for bytes. */
uint64_t moat_pt_table_pages(const struct moat_pt *pt);

#ifdef __cplusplus
}
#endif

#endif
