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
 * Pages a unit needs while an operation runs come from moat_unit_page_alloc() (or the source of
 * moat_unit_pages()): they are then Moat-owned and trusted (protected, out of every domain with
 * that invalidated, zeroed). Not internal API for the host: this header is for drivers in src/ and
 * for tests.
 */
#ifndef MOAT_INTERNAL_UNIT_H
#define MOAT_INTERNAL_UNIT_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/diag.h>
#include <moat/fault.h>
#include <moat/irq.h>
#include <moat/moat.h>
#include <moat/pages.h>
#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* struct moat_unit flags */
#define MOAT_UNIT_F_ALL          0x1u  /* translates every device of its segment no other unit
					  names (used when the unit has no description entry) */
#define MOAT_UNIT_F_INVAL_ON_MAP 0x2u  /* caches not-present entries (VT-d caching mode): invalidate
					  after a map too */
#define MOAT_UNIT_F_FAULT_MSI    0x4u  /* its fault interrupt is an MSI of its own PCI function, which
					  the host programs (struct moat_fault_irq_msi) */

/* A device as a unit's hardware tables say it translates. */
struct moat_unit_dev {
	uint16_t rid;          /* requester id */
	uint32_t domain_id;    /* the id its entry carries */
	uint64_t root_phys;    /* the page-table root its entry points at */
};

/* ---- the hardware's view, for the auditor (the view() operation) ---- */

/* What a unit's registers say: the unit as a whole. */
struct moat_unit_state {
	uint64_t reg_base, reg_size;   /* the register block the driver maps (size 0: none to protect) */
	bool translating;              /* translation on, as the unit's status register reads now */
	bool expected_on;              /* the driver turned translation on (so it must read as on) */
	uint64_t status;               /* the raw status the unit read (VT-d GSTS, AMD-Vi Control) */
};

/*
 * A structure page the unit walks: named by a register (level 0: VT-d root table, AMD-Vi device
 * table) or by an entry of such a structure (level 1: a VT-d context table, named by its bus's root
 * entry). A unit follows a pointer into a page only when @ours: never into memory Moat does not own.
 */
struct moat_unit_table {
	unsigned level;                /* 0: named by a register; 1: by a root entry */
	uint32_t index;                /* which one: VT-d context table: its bus; AMD-Vi: device-table page */
	uint64_t phys;                 /* the page the pointer names */
	uint64_t expected;             /* the page the driver allocated for this place (0: none) */
	uint64_t pointer[2];           /* the pointer as stored: register value, or root entry (lo, hi) */
	bool ours;                     /* @phys is the driver's structure for this place (and readable) */
	const char *name;              /* "root table", "context table", "device table" (static) */
};

/* How an entry lets its requester's DMA through. */
enum moat_unit_xlate {
	MOAT_UNIT_BLOCKED = 0,         /* no DMA (VT-d: not reported; AMD-Vi: V = 1 without translation) */
	MOAT_UNIT_TRANSLATED = 1,      /* through the page tables at root_phys, `levels` levels */
	MOAT_UNIT_PASSTHROUGH = 2,     /* untranslated: DMA reaches physical memory as addressed */
	MOAT_UNIT_OTHER = 3,           /* a reserved or unknown translation encoding */
};

/* struct moat_unit_entry flags */
#define MOAT_UNIT_E_ATS      0x1u  /* device-TLB translation requests (ATS) allowed for the requester */
#define MOAT_UNIT_E_ATTACHED 0x2u  /* the core attached the requester through this unit (the driver's own
				      record of what it wrote, not read from the entry) */

/* One live entry (a VT-d context entry, an AMD-Vi device-table entry), vendor-neutral. */
struct moat_unit_entry {
	uint16_t rid;                  /* requester id (AMD-Vi: the device-table index) */
	enum moat_unit_xlate kind;
	uint32_t flags;                /* MOAT_UNIT_E_* */
	uint32_t domain_id;            /* the id the entry carries */
	uint64_t root_phys;            /* TRANSLATED: the page-table root */
	unsigned levels;               /* TRANSLATED: the levels the unit walks from root_phys */
	const char *note;              /* what makes kind or flags what they are, e.g. "TT=2" (static; may be NULL) */
	unsigned raw_count;            /* quadwords in raw[] */
	uint64_t raw[4];               /* the entry as stored */
};

/*
 * Callbacks of view(): state() once, first; then table() for every structure page the unit walks
 * and entry() for every entry of those structures that is not the unit's default-deny entry. A
 * callback returns MOAT_OK to go on; anything else stops the view (and is returned).
 */
struct moat_unit_view_fns {
	moat_status (*state)(void *ctx, const struct moat_unit_state *s);
	moat_status (*table)(void *ctx, const struct moat_unit_table *t);
	moat_status (*entry)(void *ctx, const struct moat_unit_entry *e);
};

/* What walk_irqs() reports: one record of a unit's interrupt remapping, from the live tables. */
enum moat_unit_irq_kind {
	MOAT_UNIT_IRQ_ENTRY = 1,   /* a table entry that is present, or that Moat's records say is allocated */
	MOAT_UNIT_IRQ_DEVICE = 2,  /* AMD-Vi: the interrupt fields of a device-table entry */
	MOAT_UNIT_IRQ_PAGE = 3,    /* a page of an interrupt table, or of Moat's records of one */
	MOAT_UNIT_IRQ_STATE = 4,   /* the unit's remapping as a whole */
};

struct moat_unit_irq {
	enum moat_unit_irq_kind kind;
	uint16_t rid;         /* ENTRY: VT-d: the source id the entry checks; AMD-Vi: the device id whose
				 table holds it. DEVICE: the device id */
	uint16_t owner;       /* ENTRY: the requester id Moat allocated it for (when allocated) */
	uint32_t index;       /* ENTRY: its index in the table */
	uint64_t raw[2];      /* ENTRY: the entry as stored (a 32-bit AMD-Vi entry in raw[0]);
				 DEVICE: quadword 2 of the device-table entry in raw[0] */
	uint64_t phys;        /* PAGE: the page; ENTRY: the physical address of the entry */
	bool present;         /* ENTRY: delivers (VT-d P, AMD-Vi RemapEn) */
	bool allocated;       /* ENTRY: Moat's records say it allocated it */
	bool verified;        /* ENTRY: checks the requester (VT-d SVT 01b or 10b; AMD-Vi: by table) */
	bool source_ok;       /* ENTRY: checks exactly the requester Moat allocated it for */
	bool remapped;        /* DEVICE: IV = 1 */
	bool forwards;        /* DEVICE: IntCtl lets fixed and arbitrated interrupts pass unmapped (01b,
				 or the reserved 11b) */
	bool table_ok;        /* DEVICE: blocks, or remaps through the table Moat made for this device */
	bool as_set;          /* STATE: remapping on, through Moat's table, compatibility format as the
				 host asked */
};

/* walk_irqs() @what bits */
#define MOAT_UNIT_IRQ_WALK_PAGES   0x1u   /* PAGE records (cheap: no table entry is read) */
#define MOAT_UNIT_IRQ_WALK_ENTRIES 0x2u   /* ENTRY, DEVICE and STATE records */

/* Callback of walk_irqs(): MOAT_OK to go on, anything else stops the walk (and is returned). */
typedef moat_status (*moat_unit_irq_fn)(void *ctx, const struct moat_unit_irq *rec);

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
	/* The hardware's view, for the auditor (struct moat_unit_view_fns): from the pointers the unit
	 * is programmed with (registers read back, not the driver's fields), every structure it walks
	 * and every entry in them that is not default deny. Only pages the driver allocated for their
	 * place are read; any other pointer is reported, not followed. Read-only. Optional: without it
	 * the auditor sees no device of the unit. */
	moat_status (*view)(struct moat_unit *u, const struct moat_unit_view_fns *fns, void *ctx);
	/* Read and clear pending fault records, as moat_fault_poll() describes. Optional. */
	moat_status (*fault_poll)(struct moat_unit *u, struct moat_fault *out, unsigned max,
				  struct moat_fault_poll *res);

	/*
	 * Interrupt remapping (moat/irq.h). Optional: a unit without irq_alloc cannot remap. The core
	 * checks the arguments it can (kinds, counts, vectors, delivery modes) and routes; the
	 * driver checks the rest (remapping on, destinations it can reach) before it writes anything.
	 * irq_alloc: @irq has src (rid resolved for IOAPIC and HPET), count and unit set; fill index,
	 * table_rid, msi or ioapic_rte. All or nothing: on error no entry stays allocated.
	 * irq_set: entry @sub of @irq delivers @dest (ioapic_rte updated when it depends on it).
	 * irq_free: the entries of @irq not present, invalidated, then free; on an invalidation error
	 * they stay allocated (never reused) and the call may be repeated.
	 */
	moat_status (*irq_alloc)(struct moat_unit *u, struct moat_irq *irq, const struct moat_irq_dest *dest,
				 struct moat_diag *diag);
	moat_status (*irq_set)(struct moat_unit *u, struct moat_irq *irq, unsigned sub, const struct moat_irq_dest *dest,
			       struct moat_diag *diag);
	moat_status (*irq_free)(struct moat_unit *u, struct moat_irq *irq, struct moat_diag *diag);
	/* Report what @what asks for (MOAT_UNIT_IRQ_WALK_*), from the live tables, for the auditor.
	 * Optional; a unit whose remapping is off reports nothing. */
	moat_status (*walk_irqs)(struct moat_unit *u, unsigned what, moat_unit_irq_fn fn, void *ctx);
	/*
	 * Fault or event interrupt to @dest (NULL: off). A unit with MOAT_UNIT_F_FAULT_MSI fills
	 * *@msi with the MSI the host must program into its PCI function; others program their own
	 * registers and leave *@msi alone. Optional: without it the unit is polled only.
	 */
	moat_status (*fault_irq)(struct moat_unit *u, const struct moat_irq_dest *dest, struct moat_fault_irq_msi *msi,
				 struct moat_diag *diag);
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
 * moat_unit_pages() - a page source (moat/pages.h) over moat_unit_page_alloc()/free() of @u, for a
 * driver whose every allocation runs inside a unit operation or moat_unit_call(). Bring-up gives
 * it to each driver, so every page a driver holds is trusted before the driver first writes it.
 */
struct moat_pages moat_unit_pages(struct moat_unit *u);

typedef moat_status (*moat_unit_call_fn)(struct moat_unit *u, void *ctx);

/*
 * moat_unit_call() - run @fn(@u, @ctx) as an operation of @u: with the system lock and @u's lock
 * held, so that @fn may allocate and free through moat_unit_page_alloc(); the host domain is
 * brought in line (taken-out pages, the pool) before it returns. For a driver's bring-up and
 * release, which are no operation of the core. Returns what @fn returned; MOAT_ERR_INVALID_ARG
 * (NULL, or @u belongs to no system).
 */
moat_status moat_unit_call(struct moat_unit *u, moat_unit_call_fn fn, void *ctx);

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
