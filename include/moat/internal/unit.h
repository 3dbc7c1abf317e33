/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a vendor driver implements for the core: one struct moat_unit per IOMMU unit, with a small
 * set of operations. The core calls every operation of a unit with that unit's lock held, so
 * operations of one unit never run at once (operations of two units may); all of them run with the
 * system lock held too (see moat/moat.h), except invalidate(), which the DMA layer's unmaps call
 * with the unit's lock alone. The core has no vendor branches: everything vendor-specific (context
 * or device-table entries, invalidation commands, fault records) stays behind these operations.
 *
 * A domain, for a unit, is its id (dom->id, for cache tags) and its page-table root
 * (dom->pt.root_phys, dom->pt.cfg.levels and format); the tables are built by the core.
 *
 * Pages a unit needs while an operation runs come from moat_unit_page_alloc(): they are then
 * Moat-owned (protected, out of the host identity domain). Not internal API for the host: this
 * header is for drivers in src/ and for tests.
 */
#ifndef MOAT_INTERNAL_UNIT_H
#define MOAT_INTERNAL_UNIT_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/diag.h>
#include <moat/fault.h>
#include <moat/moat.h>
#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* struct moat_unit flags */
#define MOAT_UNIT_F_ALL          0x1u  /* translates every device of its segment no other unit
					  names (used when the unit has no description entry) */
#define MOAT_UNIT_F_INVAL_ON_MAP 0x2u  /* caches not-present entries (VT-d caching mode): invalidate
					  after a map too */

/* A device as a unit's hardware tables say it translates. */
struct moat_unit_dev {
	uint16_t rid;          /* requester id */
	uint32_t domain_id;    /* the id its entry carries */
	uint64_t root_phys;    /* the page-table root its entry points at */
};

/* Callback of walk_devices(): MOAT_OK to go on, anything else stops the walk (and is returned). */
typedef moat_status (*moat_unit_dev_fn)(void *ctx, const struct moat_unit_dev *dev);

struct moat_unit_ops {
	/* Make @rid translate through @dom (replacing any domain it had), and invalidate what the
	 * hardware may have cached for that device. Required. */
	moat_status (*attach)(struct moat_unit *u, uint16_t rid, const struct moat_domain *dom,
			      struct moat_diag *diag);
	/* Block @rid (no translation at all) and invalidate its cached entries. MOAT_ERR_NOT_FOUND
	 * when it was not attached. Required. */
	moat_status (*detach)(struct moat_unit *u, uint16_t rid, struct moat_diag *diag);
	/* The live entry of @rid, from the hardware tables: MOAT_OK with *@out filled, or
	 * MOAT_ERR_NOT_FOUND when the device has no domain. Required. */
	moat_status (*lookup)(struct moat_unit *u, uint16_t rid, struct moat_unit_dev *out);
	/* @dom's tables changed for [@iova, @iova + @size) (@size 0: the whole domain): drop cached
	 * translations, and cached paging-structure entries too when @tables_changed. Returns after
	 * the hardware reports completion. Required. */
	moat_status (*invalidate)(struct moat_unit *u, const struct moat_domain *dom, uint64_t iova, uint64_t size,
				  bool tables_changed, struct moat_diag *diag);
	/* Invalidate every cache of the unit (context/device entries, IOTLB, paging structures).
	 * Optional: without it the core invalidates each domain. */
	moat_status (*flush_all)(struct moat_unit *u, struct moat_diag *diag);
	/* Report every device with a live entry, in any order, from the hardware tables (for the
	 * auditor). Optional: without it the unit reports no device. */
	moat_status (*walk_devices)(struct moat_unit *u, moat_unit_dev_fn fn, void *ctx);
	/* Read and clear pending fault records, as moat_fault_poll() describes. Optional. */
	moat_status (*fault_poll)(struct moat_unit *u, struct moat_fault *out, unsigned max,
				  struct moat_fault_poll *res);
};

/* One IOMMU unit. Caller (driver) storage; set the fields above "core" and zero the others before
 * moat_system_add_unit() (a unit whose sys is set belongs to a system and is refused). */
struct moat_unit {
	const struct moat_unit_ops *ops;
	void *priv;               /* the driver's own unit (e.g. struct moat_vtd_unit) */
	uint16_t segment;         /* PCI segment it translates */
	uint32_t flags;           /* MOAT_UNIT_F_* */
	/* Index of its entry in the system description's units (its device scopes route devices to
	 * it), or -1 for none: then MOAT_UNIT_F_ALL decides. */
	int32_t desc_index;
	/* core */
	struct moat_system *sys;
	struct moat_unit *next;          /* atomic: read without the system lock */
	unsigned index;                  /* units added before it (struct moat_domain units_seen) */
	/* held around every operation; on a line of its own (the fields above are read by every
	 * CPU that invalidates) */
	MOAT_ALIGNAS(MOAT_CACHE_LINE) struct moat_lock lock;
	bool core_holds;                 /* the system lock's holder holds the lock (written and read
					    under the system lock): a nested call takes it no more */
};

/*
 * moat_unit_page_alloc() / moat_unit_page_free() - moat_page_alloc() / moat_page_free() for code
 * that runs with the system lock held (unit operations called by the core, not invalidate(): the
 * DMA layer calls it without that lock). Same contracts.
 * Taking a new page out of the host identity domain invalidates that domain on every unit, this
 * one included, before moat_unit_page_alloc() returns: a driver allocates before it starts a
 * hardware sequence that such an invalidation must not interleave with.
 */
void *moat_unit_page_alloc(struct moat_unit *u, uint64_t *phys);
void moat_unit_page_free(struct moat_unit *u, void *virt, uint64_t phys);

/*
 * moat_unit_page_adopt() - moat_page_adopt() for code that runs with the system lock held: the
 * page becomes Moat-owned at once and leaves the host identity domain when the operation that
 * holds the lock ends (the core settles then). Returns MOAT_OK; MOAT_ERR_OVERLAP (owned already);
 * MOAT_ERR_ALIGNMENT; MOAT_ERR_INVALID_ARG (NULL, at or past 2^52); MOAT_ERR_NO_MEMORY.
 */
moat_status moat_unit_page_adopt(struct moat_unit *u, uint64_t phys);

/*
 * moat_unit_route() - the unit of @sys that translates device @rid of @segment: one whose device
 * sets (from the system description) name it (moat_sysdesc_unit_names(): ranges and aliases,
 * unresolved sets name nobody, as the drivers' moat_vtd_routes()/moat_amdvi_routes()), else the
 * include-all unit of the segment (moat_unit_desc_includes_all(), or MOAT_UNIT_F_ALL).
 * Call with the lock held or before the system is shared. Returns the unit or NULL.
 */
struct moat_unit *moat_unit_route(struct moat_system *sys, uint16_t segment, uint16_t rid);

#ifdef __cplusplus
}
#endif

#endif
