/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The core: a system of IOMMU units, the domains devices translate through, the protection
 * registry (memory no domain may ever map), the host-protection policy, reserved-region handling
 * and the auditor that proves the protection holds on the live tables.
 *
 * Everything is vendor-neutral. The page-table format, levels and page sizes come from the
 * system's configuration (what the vendor drivers negotiated across their units); the units
 * themselves plug in through include/moat/internal/unit.h. The core has no vendor branches.
 *
 * Storage: every object (struct moat_system, struct moat_domain, reports) lives in memory the
 * caller provides. The core keeps no global state: two systems in one address space share
 * nothing. Pages the core needs (page tables, the bookkeeping of Moat-owned pages) come from
 * moat_plat_page_alloc(), and every such page is Moat-owned: protected memory that no domain may
 * map, taken out of the host identity domain before it is used (see "Moat-owned pages" below).
 *
 * Protected memory = the ranges of the protection registry (moat_protect_add()) + every Moat-owned
 * page. A map whose output touches protected memory is refused with MOAT_ERR_PROTECTED.
 *
 * Concurrency rules:
 *  - Each system has one lock (a struct moat_lock from the platform). Every function below that
 *    takes a system or a domain acquires it for its whole duration, so all calls on one system
 *    are serialized and may come from any CPU; calls on different systems never contend.
 *    Exceptions: moat_audit_format(), moat_audit_kind_str() and moat_region_names() (pure),
 *    moat_domain_memory() and moat_owned_pages() (a single read, no lock).
 *  - Unit operations (internal/unit.h) are called with the unit's own lock held, and with the
 *    system lock too, except the invalidations of the DMA API's unmaps (include/moat/dma.h),
 *    which take the unit's lock alone. They must not call any function of this header; they
 *    allocate pages with moat_unit_page_alloc() (which expects the system lock held), never from
 *    invalidate().
 *  - The lock is never held across a return to the caller, never taken recursively, and only
 *    platform functions and unit operations are called under it (their hardware waits are
 *    bounded).
 *  - A domain must not be destroyed, and a system not finalized, while another CPU may still
 *    call into them: the caller owns their lifetime.
 *
 * Moat-owned pages: every page the core, the engine, the drivers (through bring-up) and the DMA
 * layer use comes from one supply in the core and is recorded in a sparse radix bitmap over physical
 * frame numbers whose nodes are themselves Moat-owned pages (no other allocation). No page is used
 * before it is trusted: a page from the platform is marked Moat-owned (no new map can reach it),
 * taken out of the host identity domain when that maps it (moat_protect_host()), that removal
 * invalidated on every unit that could cache it and completed, and only then handed out, zeroed.
 * Trusted pages wait in a pool (at least MOAT_HOST_POOL after every operation once a host domain
 * exists), refilled in batches under one invalidation each. The host domain's own new table pages
 * come from that pool only while a device uses the domain (punching a page out of it while its
 * tables change is not possible): an operation that finds the pool too small changes nothing,
 * the pool grows by what it needed, and the operation runs again. While no device uses the host
 * domain yet, its table pages may come from RAM it maps and are taken out before the operation
 * returns; the attach of its first device fails unless all are out. Table pages freed by unmaps
 * go back to the pool while it is short; other pages given back go to the platform, and one taken
 * out of the host domain is mapped back into it then (unless it is in the registry by then).
 * Domains other than the host domain map only what their callers map, and never a Moat-owned
 * page: the platform must not hand out memory a caller has mapped for DMA.
 */
#ifndef MOAT_MOAT_H
#define MOAT_MOAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <moat/acpi.h>
#include <moat/config.h>
#include <moat/diag.h>
#include <moat/fault.h>
#include <moat/platform.h>
#include <moat/pt.h>
#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Configuration (override with -D before including, as in moat/config.h)
 * ------------------------------------------------------------------------------------------- */

/* Ranges the protection registry of one system can hold. */
#ifndef MOAT_MAX_PROTECTED
#define MOAT_MAX_PROTECTED 128
#endif

/* Bytes of a protected range's label, NUL included (longer labels are cut). */
#ifndef MOAT_PROTECT_LABEL_MAX
#define MOAT_PROTECT_LABEL_MAX 32
#endif

/* Violations an audit report keeps in full (all are counted). */
#ifndef MOAT_AUDIT_MAX
#define MOAT_AUDIT_MAX 16
#endif

/* Trusted pages (out of every domain, invalidated) every operation leaves ready in the pool: the
 * host domain's own new tables come from it, and so does the reserve a refill needs. */
#ifndef MOAT_HOST_POOL
#define MOAT_HOST_POOL 16
#endif

#if MOAT_MAX_PROTECTED < 1 || MOAT_MAX_PROTECTED > 65536
#error "MOAT_MAX_PROTECTED must be between 1 and 65536"
#endif
#if MOAT_PROTECT_LABEL_MAX < 8
#error "MOAT_PROTECT_LABEL_MAX must be at least 8"
#endif
#if MOAT_AUDIT_MAX < 1
#error "MOAT_AUDIT_MAX must be at least 1"
#endif
#if MOAT_HOST_POOL < 8 || MOAT_HOST_POOL > 4096
#error "MOAT_HOST_POOL must be between 8 and 4096"
#endif

/* ---------------------------------------------------------------------------------------------
 * Objects (caller-provided storage; fields are read-only for callers)
 * ------------------------------------------------------------------------------------------- */

struct moat_system;
struct moat_unit;          /* a vendor driver's unit: include/moat/internal/unit.h */

/* One entry of the protection registry. */
struct moat_protected {
	uint64_t base;                       /* page-aligned (rounded down from what was given) */
	uint64_t size;                       /* page multiple (rounded out) */
	char label[MOAT_PROTECT_LABEL_MAX];  /* for messages, NUL-terminated */
};

/* A domain: one set of I/O page tables and the devices translating through them. */
struct moat_domain {
	struct moat_pt pt;          /* the live tables (pt.root_phys goes into context/device entries) */
	uint32_t id;                /* domain id the units tag cache entries with */
	uint32_t devices;           /* devices attached */
	bool host;                  /* the host identity domain of its system (moat_protect_host()) */
	/* private */
	struct moat_system *sys;
	struct moat_domain *next;
	uint32_t magic;
	/* Bit i: a device was attached to this domain through the unit added i-th (set before the
	 * unit's attach, under the unit's lock; never cleared). Only those units can cache its
	 * translations, so only those are invalidated (units from the 65th on always are). Atomic. */
	uint64_t units_seen;
};

/* Bookkeeping of Moat-owned pages (see the header comment). Private. */
#define MOAT_TRACK_TOP 2u           /* root entries: 12 leaf bits + 3 * 9 node bits + 1 = 40-bit frames */
struct moat_track {
	uint64_t top[MOAT_TRACK_TOP];  /* physical address of each top node, 0 when absent */
	uint64_t nodes;                /* node pages */
	uint64_t owned;                /* pages marked owned (nodes included) */
	uint64_t pending;              /* owned pages not yet checked against the host domain */
	uint64_t restore;              /* freed pages waiting to go back into the host domain */
	uint64_t owned_lo, owned_hi;   /* every owned frame lies in [owned_lo, owned_hi] (never shrinks;
					  lo > hi before the first) */
	uint64_t pending_lo;           /* no pending frame below it (UINT64_MAX when none) */
	uint64_t restore_lo;           /* no restore frame below it (UINT64_MAX when none) */
	uint64_t leaf_key;             /* 1 + the leaf number of leaf_virt (0: none cached) */
	uint64_t *leaf_virt;           /* the leaf node looked up last */
};

/* The page-table configuration every unit can use (what the drivers negotiated). */
struct moat_system_config {
	struct moat_pt_config pt;       /* format, levels, page sizes, coherent */
	/* Optional: the discovered system, for routing devices to units (their device scopes) and for
	 * reserved regions. Must stay valid as long as the system. NULL: units route by their own
	 * segment and MOAT_UNIT_F_ALL (see internal/unit.h). */
	const struct moat_sysdesc *desc;
	/* Domain ids the core may hand out, inclusive (VT-d: [did_min, 2^ND - 1]); 0, 0 = 1..65535. */
	uint32_t domain_id_min, domain_id_max;
};

struct moat_system {
	/* private: use the functions below */
	uint32_t magic;
	struct moat_lock lock;
	struct moat_system_config cfg;
	struct moat_unit *units;
	unsigned unit_count;
	struct moat_domain *domains;
	unsigned domain_count;
	struct moat_domain *host;
	unsigned prot_count;
	struct moat_protected prot[MOAT_MAX_PROTECTED];   /* sorted by base */
	uint64_t prot_maxend[MOAT_MAX_PROTECTED];         /* max(base + size) over prot[0..i] */
	struct moat_track track;
	/* Trusted pages ready for use (linked through their first 16 bytes: next virtual, next
	 * physical address); see "Moat-owned pages" above. */
	void *pool;
	uint64_t pool_phys;
	uint64_t pool_count;
	bool in_settle;
	bool in_refill;              /* the pool's reserve may be used (src/core/pages.c) */
	/* Pages the host domain gained (mapped back) minus pages taken out of it, since the system
	 * was set up: lets moat_protect_host() report what it mapped without walking the tables. */
	int64_t host_page_delta;
	/* Even while the registry and the Moat-owned pages are stable, odd while a writer changes them
	 * in a way a reader without the lock could misread (the DMA map path; core_internal.h). */
	uint32_t prot_seq;
	uint32_t prot_write_depth;   /* nesting of those writers (system lock): only the outermost moves it */
};

/* ---------------------------------------------------------------------------------------------
 * System
 * ------------------------------------------------------------------------------------------- */

/*
 * moat_system_init() - set up @sys (caller storage, any content) with the page-table
 * configuration @cfg (copied). No unit, no domain, an empty registry; nothing is allocated yet.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG for NULL arguments, a format or number of levels the
 * engine does not know, page sizes without 4 KiB or with 1 GiB but not 2 MiB, or
 * domain_id_min > domain_id_max.
 */
moat_status moat_system_init(struct moat_system *sys, const struct moat_system_config *cfg);

/*
 * moat_system_fini() - give back every page the system still owns (bookkeeping, pool) and its
 * lock. Every domain must have been destroyed first.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL or not initialized); MOAT_ERR_BUSY (domains remain;
 * nothing is done).
 */
moat_status moat_system_fini(struct moat_system *sys);

/*
 * moat_system_add_unit() - make @unit (a driver's unit, internal/unit.h, caller storage, with
 * ops set and its core fields zero) part of @sys: devices it routes can be attached, and it is
 * invalidated after every unmap of a domain one of its devices was attached to. Units are never
 * removed before moat_system_fini(), which frees them to join a system again.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, system not initialized, ops missing
 * attach/detach/lookup/invalidate, irq_alloc without irq_set and irq_free, or a desc_index outside
 * the system description); MOAT_ERR_STATE (the unit already belongs to a system, this one or
 * another: nothing changes, in either system).
 */
moat_status moat_system_add_unit(struct moat_system *sys, struct moat_unit *unit);

/*
 * moat_flush_all() - invalidate every cache of every unit (context/device entries, IOTLBs).
 * Returns MOAT_OK or the first unit's error (MOAT_ERR_TIMEOUT, MOAT_ERR_HARDWARE), with @diag.
 */
moat_status moat_flush_all(struct moat_system *sys, struct moat_diag *diag);

/*
 * moat_fault_poll() - poll every unit's fault records into @out (at most @max in total).
 * res->count is the number written, res->remaining the records still pending, res->overflows the
 * overflow conditions seen. Units without a fault_poll op are skipped.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL @sys or @res, NULL @out with @max > 0).
 */
moat_status moat_fault_poll(struct moat_system *sys, struct moat_fault *out, unsigned max,
			    struct moat_fault_poll *res);

/* moat_owned_pages() - the number of Moat-owned pages of @sys (tables, bookkeeping, driver pages, and
 * the trusted pages its pool holds). */
uint64_t moat_owned_pages(const struct moat_system *sys);

/* ---------------------------------------------------------------------------------------------
 * Domains
 * ------------------------------------------------------------------------------------------- */

/*
 * moat_domain_create() - set up @dom (caller storage) as an empty domain of @sys, in the system's
 * page-table format, with the lowest free domain id. Invalidations of a domain reach the units a
 * device of it was ever attached through (moat_domain_attach()): no other unit can have cached its
 * translations.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, system not initialized); MOAT_ERR_STATE (@dom is
 * already a live domain of @sys); MOAT_ERR_NO_SPACE (every domain id in use); MOAT_ERR_NO_MEMORY
 * (no page for the root table). On error nothing changes.
 */
moat_status moat_domain_create(struct moat_system *sys, struct moat_domain *dom);

/*
 * moat_domain_destroy() - invalidate the domain in its units, free its tables and take it out of
 * its system. Destroying the host identity domain ends the host policy (later Moat-owned pages
 * are no longer taken out of anything).
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL or not a live domain); MOAT_ERR_BUSY (devices are
 * still attached; nothing is done). An invalidation failure is logged; the tables are then kept
 * (still Moat-owned, never reused) and the domain is removed anyway: MOAT_ERR_TIMEOUT or
 * MOAT_ERR_HARDWARE is returned.
 */
moat_status moat_domain_destroy(struct moat_domain *dom);

/*
 * moat_domain_map() - translate [@iova, @iova + @size) to [@phys, @phys + @size) with @prot
 * (MOAT_PT_READ/WRITE), with the largest pages the configuration allows.
 * The physical range may not touch protected memory (the registry, Moat-owned pages).
 * Units that cache not-present entries (MOAT_UNIT_F_INVAL_ON_MAP) are invalidated for the range.
 * The host identity domain (moat_protect_host()) takes identity maps only (@iova == @phys).
 * Returns MOAT_OK; MOAT_ERR_PROTECTED (a log line and @diag name the protected range and its
 * label, or the Moat-owned page); MOAT_ERR_OVERLAP (part of the IOVA range is already mapped);
 * MOAT_ERR_ALIGNMENT (not 4 KiB multiples); MOAT_ERR_INVALID_ARG (NULL or dead domain, size 0,
 * bad prot, range past the domain's input width or past 2^52, @iova != @phys in the host
 * domain); MOAT_ERR_BUSY (a struct moat_dma serves the domain, include/moat/dma.h: its tables are
 * the DMA layer's until moat_dma_fini(); @diag says so); MOAT_ERR_NO_MEMORY;
 * MOAT_ERR_MALFORMED (the tables hold an entry the engine did not write). On error the tables
 * are unchanged. MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE when the mapping was made but a unit's
 * invalidation failed.
 */
moat_status moat_domain_map(struct moat_domain *dom, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot,
			    struct moat_diag *diag);

/*
 * moat_domain_unmap() - remove the translation of [@iova, @iova + @size), which must be mapped in
 * full (part of a superpage is split off). Strict: its units are invalidated for the range (and
 * its paging-structure caches when tables changed) before this returns, and only then are the
 * emptied table pages given back.
 * Returns MOAT_OK; MOAT_ERR_NOT_FOUND (a page of the range is not mapped); MOAT_ERR_ALIGNMENT;
 * MOAT_ERR_INVALID_ARG; MOAT_ERR_BUSY (a struct moat_dma serves the domain: end its mappings with
 * moat_dma_unmap()); MOAT_ERR_NO_MEMORY (a split needed a page); MOAT_ERR_MALFORMED. On these
 * errors nothing changed. MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE: the range is unmapped but an
 * invalidation failed; the emptied table pages are then kept (never reused).
 */
moat_status moat_domain_unmap(struct moat_domain *dom, uint64_t iova, uint64_t size, struct moat_diag *diag);

/*
 * moat_domain_translate() - look @iova up in the domain's live tables. Outputs may be NULL:
 * @phys the physical address of that byte, @prot the permissions, @leaf_size 4 KiB, 2 MiB, 1 GiB.
 * Returns MOAT_OK; MOAT_ERR_NOT_FOUND; MOAT_ERR_INVALID_ARG (NULL/dead domain, @iova past the
 * input width); MOAT_ERR_MALFORMED (a corrupt entry on the path).
 */
moat_status moat_domain_translate(struct moat_domain *dom, uint64_t iova, uint64_t *phys, unsigned *prot,
				  uint64_t *leaf_size);

/* moat_domain_memory() - bytes of page-table memory the domain's tables use (root included). */
uint64_t moat_domain_memory(const struct moat_domain *dom);

/*
 * moat_domain_attach() - make device @rid of PCI segment @segment translate through @dom, through
 * the unit that routes it (a unit whose device scopes name it, else its segment's include-all
 * unit). A device attached to another domain is moved. Reserved regions are not mapped here:
 * call moat_reserved_map() first.
 * Returns MOAT_OK (also when already attached to @dom); MOAT_ERR_INVALID_ARG; MOAT_ERR_NOT_FOUND
 * (no unit translates the device); the unit's errors (MOAT_ERR_NO_MEMORY, MOAT_ERR_TIMEOUT,
 * MOAT_ERR_HARDWARE, ...) with @diag.
 */
moat_status moat_domain_attach(struct moat_domain *dom, uint16_t segment, uint16_t rid, struct moat_diag *diag);

/*
 * moat_domain_detach() - block device @rid of @segment again (no domain: no DMA anywhere).
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG; MOAT_ERR_NOT_FOUND (no unit routes it, or it is not
 * attached to any domain); the unit's errors with @diag.
 */
moat_status moat_domain_detach(struct moat_system *sys, uint16_t segment, uint16_t rid, struct moat_diag *diag);

/* ---------------------------------------------------------------------------------------------
 * Protection registry
 * ------------------------------------------------------------------------------------------- */

/*
 * moat_protect_add() - add [@base, @base + @size), rounded out to whole pages, to the ranges no
 * domain may ever map, labelled @label (may be NULL; cut to MOAT_PROTECT_LABEL_MAX - 1 bytes).
 * Ranges may overlap earlier ones. Cost: one walk of every domain but the host domain.
 * If a domain other than the host identity domain maps any of it, nothing changes and
 * MOAT_ERR_OVERLAP is returned, @diag naming the domain id and the IOVA. In the host identity
 * domain the range is unmapped (punched out, superpages split) and invalidated.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL system, size 0, range wrapping past 2^64);
 * MOAT_ERR_NO_SPACE (the registry holds MOAT_MAX_PROTECTED ranges); MOAT_ERR_OVERLAP;
 * MOAT_ERR_NO_MEMORY (splitting a host superpage needed a page; nothing changed);
 * MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (added and unmapped, but an invalidation failed).
 */
moat_status moat_protect_add(struct moat_system *sys, uint64_t base, uint64_t size, const char *label,
			     struct moat_diag *diag);

/*
 * moat_protect_remove() - remove the registry range that moat_protect_add() registered with
 * exactly @base and @size (as given then, or rounded). Memory punched out of the host domain is
 * not mapped back. Returns MOAT_OK; MOAT_ERR_INVALID_ARG; MOAT_ERR_NOT_FOUND.
 */
moat_status moat_protect_remove(struct moat_system *sys, uint64_t base, uint64_t size);

/* What a protection query found. */
struct moat_protect_hit {
	uint64_t base, size;                 /* the protected range (or Moat-owned page) hit first */
	bool owned;                          /* a Moat-owned page, not a registry range */
	char label[MOAT_PROTECT_LABEL_MAX];  /* its label ("moat-owned" for owned pages) */
};

/*
 * moat_protect_check() - whether [@base, @base + @size) touches protected memory (registry ranges
 * or Moat-owned pages), without changing anything. @hit (may be NULL) receives the lowest range
 * hit. Fast for any size: owned pages are queried by range.
 * Returns MOAT_OK (nothing protected there); MOAT_ERR_PROTECTED; MOAT_ERR_INVALID_ARG (NULL
 * system, size 0, wrapping range).
 */
moat_status moat_protect_check(struct moat_system *sys, uint64_t base, uint64_t size, struct moat_protect_hit *hit);

/* moat_protect_count() / moat_protect_get() - the registry, in order of base. get() returns
 * MOAT_OK or MOAT_ERR_NOT_FOUND (@index past the count) / MOAT_ERR_INVALID_ARG. */
unsigned moat_protect_count(struct moat_system *sys);
moat_status moat_protect_get(struct moat_system *sys, unsigned index, struct moat_protected *out);

/* ---------------------------------------------------------------------------------------------
 * Moat-owned pages for drivers and hosts
 * ------------------------------------------------------------------------------------------- */

/*
 * moat_page_alloc() - one trusted 4 KiB page: Moat-owned (protected), out of every domain with
 * that removal invalidated, zeroed after that. For structures the IOMMU or Moat reads (root/context
 * tables, device tables, queues, logs, bookkeeping). Returns the virtual address with *@phys set,
 * or NULL (no memory). From inside a unit operation use moat_unit_page_alloc() instead (the lock
 * is held there).
 */
void *moat_page_alloc(struct moat_system *sys, uint64_t *phys);

/* moat_page_free() - give a page of moat_page_alloc() back to the platform (after the hardware
 * stopped using it); it is mapped back into the host identity domain if it was taken out of it. */
void moat_page_free(struct moat_system *sys, void *virt, uint64_t phys);

/*
 * moat_page_adopt() - make a page the platform gave elsewhere (e.g. before the system existed)
 * Moat-owned: protected, and out of the host identity domain with that invalidated before this
 * returns; moat_page_free() gives it back. Its content is left as it is: a device could write it
 * until then, so write it fully before the hardware or Moat reads it.
 * Returns MOAT_OK; MOAT_ERR_ALIGNMENT; MOAT_ERR_INVALID_ARG (past 2^52); MOAT_ERR_NO_MEMORY
 * (bookkeeping, or no page to split the host mapping that holds it: nothing changed);
 * MOAT_ERR_OVERLAP (already Moat-owned).
 */
moat_status moat_page_adopt(struct moat_system *sys, uint64_t phys);

/* ---------------------------------------------------------------------------------------------
 * Host protection policy
 * ------------------------------------------------------------------------------------------- */

/* Memory-map entry types, as in e820 / ACPI address range types. Only MOAT_MEM_RAM is mapped. */
#define MOAT_MEM_RAM          1u  /* usable RAM */
#define MOAT_MEM_RESERVED     2u
#define MOAT_MEM_ACPI_RECLAIM 3u  /* ACPI tables (reclaimable after they are read) */
#define MOAT_MEM_ACPI_NVS     4u
#define MOAT_MEM_UNUSABLE     5u  /* memory with errors */
#define MOAT_MEM_PERSISTENT   7u

/* One memory-map entry. */
struct moat_mem_range {
	uint64_t base;
	uint64_t length;
	uint32_t type;                       /* MOAT_MEM_* (other values are not RAM) */
};

/* What moat_protect_host() did. */
struct moat_host_report {
	uint64_t ram_bytes;          /* whole pages of RAM in the memory map (after the overlap rule) */
	uint64_t mapped_bytes;       /* identity-mapped into the domain */
	uint64_t protected_bytes;    /* RAM left out because it is protected (registry, Moat-owned) */
	uint64_t unreachable_bytes;  /* RAM above the domain's input width or 2^52: not mapped */
	uint64_t table_pages;        /* table pages of the domain afterwards */
	unsigned settle_passes;      /* rounds that took Moat-owned pages back out */
};

/*
 * moat_protect_host() - make @dom (an empty domain of its system, no host domain existing) the
 * host identity domain: every page of RAM in @map identity-mapped read/write, except protected
 * memory, with maximal runs so the engine uses the largest pages.
 * The memory map (@n entries, any order, entries may overlap, any alignment, up to 2^64):
 *  - a byte is RAM when a MOAT_MEM_RAM entry covers it and no entry of any other type does
 *    (where entries disagree, not-RAM wins: default deny); memory no entry describes is not RAM;
 *  - only whole 4 KiB pages of RAM are mapped (run ends rounded inward); registry ranges are
 *    rounded outward; RAM above the domain's input width or 2^52 cannot be mapped and is counted
 *    as unreachable;
 *  - entries of length 0 are ignored; an entry running past 2^64 ends at 2^64.
 * Cost: O(n^2) in the number of entries (firmware maps hold tens to hundreds) plus the maps.
 * Table pages allocated while building, which may lie in RAM already mapped, are Moat-owned and
 * taken back out until nothing changes (bounded), so moat_audit() finds no violation afterwards.
 * Attach devices after this call: with a device already attached, the build takes its table
 * pages from the pool of trusted pages (filled before any RAM is mapped, grown in batches when a
 * run needs more), which costs more.
 * @report may be NULL.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL @dom, @map NULL with @n > 0, dead domain);
 * MOAT_ERR_STATE (@dom not empty, or the system already has a host domain);
 * MOAT_ERR_NO_MEMORY (the domain is left empty, as before); MOAT_ERR_MALFORMED (corrupt tables).
 */
moat_status moat_protect_host(struct moat_domain *dom, const struct moat_mem_range *map, size_t n,
			      struct moat_host_report *report, struct moat_diag *diag);

/*
 * moat_reserved_map() - identity-map into @dom every reserved region of @desc (RMRR, IVMD) that
 * names device @rid of @segment (an IVMD "all" region names every device of its segment), with the
 * region's permissions, rounded out to pages. Parts already mapped to
 * themselves are kept. Call it before moat_domain_attach() of that device. @desc may be NULL:
 * the system's description is used.
 * All or nothing: every region is checked before anything is mapped. A region overlapping
 * protected memory is refused loudly: MOAT_ERR_PROTECTED, an error log line and @diag naming the
 * region (kind, range), its table offset and the protected range it hits.
 * Returns MOAT_OK (also when no region names the device); MOAT_ERR_INVALID_ARG (NULL, no
 * description, a region with limit < base or devsets outside the description); MOAT_ERR_BUSY (a
 * struct moat_dma serves @dom: map the regions before moat_dma_init()); MOAT_ERR_PROTECTED;
 * MOAT_ERR_OVERLAP (an IOVA of a region is mapped to something else); MOAT_ERR_NO_MEMORY;
 * MOAT_ERR_NO_SPACE (the regions need more separate maps than one call can undo, 64).
 */
moat_status moat_reserved_map(struct moat_domain *dom, const struct moat_sysdesc *desc, uint16_t segment,
			      uint16_t rid, struct moat_diag *diag);

/*
 * moat_region_names() - whether reserved region @r of @desc names device @rid of @segment: an IVMD
 * "all" region of that segment, or one of the region's device sets names it (moat_devset_names():
 * the rule routing follows too, so an aliased set's alias is named as well). Pure function.
 */
bool moat_region_names(const struct moat_sysdesc *desc, const struct moat_region_desc *r, uint16_t segment,
		       uint16_t rid);

/* ---------------------------------------------------------------------------------------------
 * Auditor
 * ------------------------------------------------------------------------------------------- */

enum moat_audit_kind {
	MOAT_AUDIT_PROTECTED = 1,       /* a leaf maps memory of a registry range */
	MOAT_AUDIT_OWNED = 2,           /* a leaf maps a Moat-owned page that is not a page table */
	MOAT_AUDIT_TABLE = 3,           /* a leaf maps a page-table page: tables reachable by DMA */
	MOAT_AUDIT_CORRUPT = 4,         /* an entry that is neither a valid leaf nor a valid link */
	MOAT_AUDIT_RESERVED = 5,        /* a reserved region mapped in a domain one of whose devices it
					   does not name */
	MOAT_AUDIT_UNTRACKED_TABLE = 6, /* a live table page that is not Moat-owned (so unprotected) */
	MOAT_AUDIT_UNKNOWN_ROOT = 7,    /* a device translates through tables of no domain */
	/* The units' hardware state (the unit's view() operation, internal/unit.h): */
	MOAT_AUDIT_ROOT_POINTER = 8,    /* a unit's root register (VT-d RTADDR, AMD-Vi Device Table Base)
					   names a table the driver did not allocate */
	MOAT_AUDIT_FOREIGN_TABLE = 9,   /* a structure the unit walks (a context table a root entry names,
					   a device-table page) is not a Moat-owned structure of that unit */
	MOAT_AUDIT_UNIT_OFF = 10,       /* a unit's translation is off although its driver turned it on */
	MOAT_AUDIT_TRANSLATION = 11,    /* an entry lets DMA past translation (pass-through) or has a
					   reserved translation type: Moat only writes translated entries */
	MOAT_AUDIT_ATS = 12,            /* an entry allows device-TLB translation requests (ATS) */
	MOAT_AUDIT_UNATTACHED = 13,     /* a translating entry for a requester Moat attached to no domain */
	MOAT_AUDIT_DOMAIN_ID = 14,      /* an entry's domain id is not the id of the domain whose tables it
					   points at (or not 0 on a blocking entry): invalidations miss it */
	MOAT_AUDIT_LEVELS = 15,         /* an entry's address width / level count is not its domain's */
	MOAT_AUDIT_REGISTERS = 16,      /* a unit's registers are not in the protection registry */
	/*
	 * Interrupt remapping (moat/irq.h), checked on units whose remapping Moat turned on. segment
	 * and rid name the device (VT-d: the source id the entry checks; AMD-Vi: the device id whose
	 * table or device-table entry it is), iova is the entry's index, phys the entry (its low
	 * quadword; AMD-Vi device-table kinds: quadword 2 of the device-table entry), hit_base the
	 * entry's physical address, hit_size the requester id Moat allocated it for.
	 */
	MOAT_AUDIT_IRQ_UNALLOCATED = 32,  /* a present interrupt entry Moat did not allocate */
	MOAT_AUDIT_IRQ_UNVERIFIED = 33,   /* a present interrupt entry that checks no requester id */
	MOAT_AUDIT_IRQ_WRONG_SOURCE = 34, /* an entry checking another requester than the one Moat
					     allocated it for; an AMD-Vi device remapping through a
					     table not made for it (or with another length) */
	MOAT_AUDIT_IRQ_PASSTHROUGH = 35,  /* an AMD-Vi device-table entry with IV = 0: its interrupts
					     pass unremapped */
	MOAT_AUDIT_IRQ_FORWARD = 36,      /* an AMD-Vi device-table entry whose IntCtl forwards
					     interrupts unmapped (01b) or is reserved (11b) */
	MOAT_AUDIT_IRQ_TABLE_MAPPED = 37, /* a leaf maps a page of an interrupt table or of Moat's
					     records of one (domain_id, iova, phys, size as for leaves,
					     hit_base the page) */
	MOAT_AUDIT_IRQ_OFF = 38,          /* a unit does not remap as Moat set it: remapping off,
					     another table, compatibility format not asked for */
};

/* One violation. */
struct moat_audit_violation {
	enum moat_audit_kind kind;
	uint32_t domain_id;          /* the domain (0 for UNKNOWN_ROOT) */
	uint64_t iova;               /* leaf or entry IOVA (RESERVED: the region's first mapped byte) */
	uint64_t phys;               /* leaf output (CORRUPT: the raw entry; UNKNOWN_ROOT: the root) */
	uint64_t size;               /* bytes the leaf or entry covers */
	unsigned level;              /* CORRUPT: the entry's table level */
	uint64_t hit_base, hit_size; /* what it touches: protected range, owned/table page, region */
	uint16_t segment, rid;       /* RESERVED, UNKNOWN_ROOT: the device */
	uint32_t region;             /* RESERVED: index into the description's regions */
	char what[MOAT_PROTECT_LABEL_MAX + 16]; /* label of the range, "moat-owned", "page table", ... */
	/* Kinds about a unit's hardware (ROOT_POINTER to REGISTERS; TRANSLATION to LEVELS also use
	 * segment, rid, domain_id (the id the entry carries), phys (its page-table root) and level (the
	 * levels it gives); ROOT_POINTER and FOREIGN_TABLE use phys (the page named), hit_base (the
	 * page the driver allocated there, 0: none) and level (0: named by a register, 1: by a root
	 * entry); REGISTERS uses hit_base, hit_size (the register block)): */
	unsigned unit;               /* the unit, by the order it was added to the system */
	uint64_t unit_base;          /* its register base (0 when it names none) */
	uint32_t index;              /* FOREIGN_TABLE: which table (VT-d: bus; AMD-Vi: device-table page) */
	uint32_t expected;           /* DOMAIN_ID: the id of the domain whose tables the entry points at
					(0 for a blocking entry); LEVELS: that domain's levels */
	unsigned raw_count;          /* quadwords of raw[] */
	uint64_t raw[4];             /* the entry or pointer as the hardware reads it */
};

struct moat_audit_report {
	moat_status status;          /* MOAT_OK when every domain was walked in full */
	uint64_t violations;         /* all found */
	unsigned count;              /* kept in v[]: min(violations, MOAT_AUDIT_MAX), first found */
	struct moat_audit_violation v[MOAT_AUDIT_MAX];
	/* what was walked: devices counts the units' entries that are not blocking; unit_tables the
	 * structure pages the units walk (root, context and device tables) */
	uint64_t domains, tables, leaves, mapped_bytes, devices;
	uint64_t unit_tables;
};

/*
 * moat_audit() - walk the live tables of every domain of @sys (moat_pt_walk(), not bookkeeping)
 * and what every unit's hardware reads (the units' view() operation, internal/unit.h: from the
 * root pointers read back from the unit's registers, never from the driver's own fields), and
 * fill @r:
 *  - every leaf whose output touches a registry range (one violation per range; the units'
 *    registers are such ranges from bring-up on, so a domain mapping them shows up here), a
 *    Moat-owned page or a page-table page (one per leaf and kind);
 *  - every entry the walk finds corrupt (links are followed only to Moat-owned table pages);
 *  - every live table page that is not Moat-owned;
 *  - per unit: translation off although its driver turned it on (UNIT_OFF); registers not covered
 *    by the registry (REGISTERS); a root register naming a table the driver did not allocate
 *    (ROOT_POINTER, not followed); a structure the unit walks that is not the driver's for its
 *    place or not Moat-owned, e.g. a root entry naming another page (FOREIGN_TABLE, not followed);
 *  - per live entry of a unit (every entry that is not default deny): pass-through or a reserved
 *    translation type (TRANSLATION); device-TLB / ATS enabled (ATS); a translating entry for a
 *    requester Moat attached to no domain (UNATTACHED); one whose root is no domain's
 *    (UNKNOWN_ROOT); a domain id other than that domain's, or not 0 on a blocking entry
 *    (DOMAIN_ID); a level count / address width other than that domain's (LEVELS);
 *  - for each domain with devices attached, except the host identity domain (shared by the host's
 *    devices over all its RAM by policy): every reserved region mapped there to itself (any page)
 *    whose device scope does not name every device attached to the domain;
 *  - on every unit whose interrupt remapping Moat turned on (moat/irq.h): the unit's remapping
 *    state, every present interrupt entry Moat did not allocate, that checks no requester or
 *    another than its owner, every AMD-Vi device-table entry with IV = 0, IntCtl forwarding
 *    unmapped, or a table not made for the device, and every leaf of any domain that maps a page
 *    of an interrupt table (MOAT_AUDIT_IRQ_* kinds).
 * The units never follow a pointer into memory that is not their own structure: such a pointer is
 * reported, not followed.
 * Cost: one walk of each domain plus a range query per leaf (a 1 TiB identity map is fast), and
 * one read of each unit's structures (an AMD-Vi device table: 65536 entries, each read once).
 * Returns the number of violations (r->violations). When the audit cannot run (NULL argument,
 * uninitialized system) it returns UINT64_MAX and sets r->status (if @r): an audit that did not
 * run never reads as clean. r->status is also a unit's error when its view could not be read.
 */
uint64_t moat_audit(struct moat_system *sys, struct moat_audit_report *r);

/* moat_audit_kind_str() - a short name of a violation kind, e.g. "maps a page table". Never NULL. */
const char *moat_audit_kind_str(enum moat_audit_kind kind);

/*
 * moat_audit_format() - one readable line for @v (no newline) into @buf of @size bytes, always
 * NUL-terminated when @size > 0, e.g.
 *   "domain 3: iova 0x200000 -> phys 0x7f000001000 (4 KiB) maps a page table (page 0x7f000001000)".
 * Returns the length the full line has (as snprintf).
 */
int moat_audit_format(const struct moat_audit_violation *v, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
