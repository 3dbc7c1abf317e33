/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Intel VT-d driver: one remapping unit (a DRHD) at a time, legacy-mode root and context tables,
 * context-cache and IOTLB invalidation (registers or queued), fault recording.
 *
 * A domain, for this driver, is a domain id plus the physical address of a second-stage page-table
 * root and its number of levels (3, 4 or 5); the page tables themselves are built elsewhere.
 *
 * The caller owns the storage of every struct moat_vtd_unit and serialises calls on one unit (the
 * core holds its lock around them). Pages come from the unit's page source (u->pages, moat/pages.h:
 * bring-up sets the core's trusted pages; zeroed by moat_vtd_probe(), it is the platform). Every hardware
 * wait is bounded by the unit's timeout_ns. A call that fails on bad input returns a status and
 * changes nothing; a hardware failure (timeout, queue error) is returned with a diagnostic naming
 * the register and the bit.
 *
 * Typical use: moat_vtd_probe() each unit, moat_vtd_negotiate() across all of them,
 * moat_vtd_enable() each (every device is then blocked: no context entry is present),
 * moat_vtd_attach() devices to domains, moat_vtd_invalidate() after unmapping,
 * moat_vtd_fault_poll() from the fault interrupt or a timer.
 */
#ifndef MOAT_VTD_H
#define MOAT_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <moat/acpi.h>
#include <moat/diag.h>
#include <moat/pages.h>
#include <moat/fault.h>
#include <moat/irq.h>
#include <moat/status.h>

#ifdef __cplusplus
extern "C" {
#endif

/* struct moat_vtd_caps superpages */
#define MOAT_VTD_SP_2M 0x1u
#define MOAT_VTD_SP_1G 0x2u

/* Bit for an n-level table in struct moat_vtd_caps levels_mask (n = 3, 4, 5). */
#define MOAT_VTD_LEVEL_BIT(n) (1u << (n))

/* What a unit can do (moat_vtd_probe), or what every unit can do (moat_vtd_negotiate). */
struct moat_vtd_caps {
	uint8_t version;          /* VER register: major << 4 | minor (0 in negotiated caps) */
	uint8_t levels_mask;      /* MOAT_VTD_LEVEL_BIT(n) set: n-level second-stage tables usable (SAGAW) */
	uint8_t levels;           /* chosen level count: probe picks the smallest supported, negotiate the
				     smallest covering the requested width (else the largest); 0 if none */
	uint8_t mgaw;             /* maximum guest address width in bits (smallest over units) */
	uint8_t address_width;    /* usable IOVA width with `levels`: min(12 + 9 * levels, mgaw) */
	uint8_t superpages;       /* MOAT_VTD_SP_*: second-stage large pages (SLLPS) */
	uint8_t domain_bits;      /* domain ids are below 1 << domain_bits (ND) */
	uint8_t did_min;          /* smallest usable domain id: 1 under caching mode (0 is reserved) */
	uint8_t mamv;             /* largest page-selective invalidation: 2^mamv pages (with psi) */
	bool caching_mode;        /* CM: not-present entries may be cached; a not-present to present
				     change must be invalidated too (negotiate: any unit) */
	bool rwbf;                /* write buffers must be flushed before invalidations (any unit) */
	bool coherent;            /* ECAP.C: table walks snoop caches (negotiate: every unit) */
	bool qi;                  /* queued invalidation */
	bool ir;                  /* interrupt remapping */
	bool eim;                 /* extended interrupt mode (x2APIC ids) */
	bool pt;                  /* pass-through translation type */
	bool psi;                 /* page-selective IOTLB invalidation */
	bool smts;                /* scalable mode (unused: Moat runs units in legacy mode) */
	bool drain_read;          /* DRD: IOTLB invalidation may drain reads */
	bool drain_write;         /* DWD */
	uint16_t iotlb_offset;    /* byte offset of the IOTLB registers (ECAP.IRO * 16; 0 in negotiated caps) */
	uint16_t fault_offset;    /* byte offset of fault record 0 (CAP.FRO * 16; 0 in negotiated caps) */
	uint16_t fault_records;   /* number of fault records (CAP.NFR + 1; smallest over units) */
};

/* Translation types a context entry may carry. Only untranslated requests are ever allowed. */
enum moat_vtd_tt {
	MOAT_VTD_TT_UNTRANSLATED = 0,  /* untranslated requests through the domain's tables; device-TLB
					  translation requests are blocked */
};

/* Invalidation granularities (register and descriptor encodings). */
enum moat_vtd_gran {
	MOAT_VTD_GRAN_GLOBAL = 1,
	MOAT_VTD_GRAN_DOMAIN = 2,
	MOAT_VTD_GRAN_DEVICE = 3,   /* context cache: one device (source id + function mask) */
	MOAT_VTD_GRAN_PAGE = 3,     /* IOTLB: 2^am pages at addr in one domain */
};

#define MOAT_VTD_IQ_ENTRIES 256u    /* invalidation queue: one page of 128-bit descriptors */

/* Interrupt remapping table: 2 to 65536 entries of 128 bits; Moat keeps a 32-bit record of each. */
#define MOAT_VTD_IR_MAX_ENTRIES 65536u
#define MOAT_VTD_IR_MAX_PAGES 256u
#define MOAT_VTD_IR_PER_PAGE 256u
#define MOAT_VTD_IR_REC_PER_PAGE 1024u
#define MOAT_VTD_IR_REC_PAGES 64u

enum moat_vtd_state {
	MOAT_VTD_UNPROBED = 0,
	MOAT_VTD_PROBED = 0x76746431,   /* registers mapped, capabilities read */
};

/* One remapping unit. Caller-provided storage; fill it with moat_vtd_probe(). Read-only to the
 * caller except timeout_ns. */
struct moat_vtd_unit {
	enum moat_vtd_state state;
	uint16_t segment;
	uint32_t reg_size;
	uint64_t reg_phys;
	volatile void *regs;
	uint32_t ver;
	uint64_t cap, ecap;          /* raw CAP and ECAP */
	struct moat_vtd_caps caps;
	uint64_t timeout_ns;         /* bound of each hardware wait; probe sets MOAT_HW_TIMEOUT_NS */
	bool enabled;                /* translation enabled by moat_vtd_enable() */
	bool qi_enabled;             /* invalidations go through the queue */
	bool te_at_probe;            /* firmware had translation on when probed */
	/* where every page below comes from (set after probe; zero: the platform) */
	struct moat_pages pages;
	/* root table and one context table per bus, allocated on demand */
	uint64_t *root;
	uint64_t root_phys;
	uint64_t *ctx[256];
	uint64_t ctx_phys[256];
	/* invalidation queue and the word wait descriptors write */
	uint64_t *iq;
	uint64_t iq_phys;
	uint32_t iq_tail;
	volatile uint32_t *wait_status;
	uint64_t wait_status_phys;
	uint32_t wait_seq;
	/* faults */
	uint64_t overflow_total;
	bool fault_irq;              /* the fault event interrupt is programmed and unmasked */
	/* interrupt remapping (moat_vtd_ir_enable()): the table, physically contiguous and aligned to
	 * its size, and Moat's record of each entry (bit 31: allocated; bits 19:0: the source check
	 * the entry must carry) in pages of their own */
	bool ir_enabled;
	bool ir_eim;                 /* 32-bit x2APIC destinations (IRTA.EIME) */
	bool ir_cfi;                 /* compatibility-format interrupts let through (GCMD.CFI) */
	uint32_t ir_entries;
	uint32_t ir_used;            /* entries allocated */
	uint64_t ir_phys;
	uint64_t *ir_page[MOAT_VTD_IR_MAX_PAGES];
	uint32_t *ir_rec[MOAT_VTD_IR_REC_PAGES];
	uint64_t ir_rec_phys[MOAT_VTD_IR_REC_PAGES];
};

/* Source validation types of an interrupt remapping entry (SVT). */
#define MOAT_VTD_SVT_NONE 0u         /* no check */
#define MOAT_VTD_SVT_SID 1u          /* the requester id, under the qualifier SQ */
#define MOAT_VTD_SVT_BUS 2u          /* the requester's bus within a range */

/* One interrupt remapping table entry and Moat's record of it (moat_vtd_irte_get()). */
struct moat_vtd_irte {
	uint64_t lo, hi;             /* the entry as stored */
	bool present;                /* P */
	uint16_t sid;                /* SID */
	uint8_t sq, svt;             /* SQ, SVT */
	uint32_t check_live;         /* the source check it carries: SID | SQ << 16 | SVT << 18 */
	bool allocated;              /* Moat allocated it */
	uint32_t check;              /* the source check it was allocated with (same layout) */
};

/* A present context entry, decoded. */
struct moat_vtd_context {
	uint16_t did;
	uint8_t levels;
	uint8_t tt;
	uint64_t root_phys;
	uint64_t raw[2];             /* the entry as stored: low and high quadwords */
};

/*
 * moat_vtd_probe() - map the registers of the VT-d unit @desc describes and read its capabilities
 * into @u (VER, CAP, ECAP decoded into u->caps). Nothing is written to the hardware.
 * Needs @desc->vendor == MOAT_VENDOR_VTD and a page-aligned register base.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, wrong vendor, unaligned base); MOAT_ERR_HARDWARE
 * (registers cannot be mapped, read as all ones, ND reserved, or the IOTLB or fault-recording
 * registers lie outside the register range). On failure @u is not touched.
 */
moat_status moat_vtd_probe(struct moat_vtd_unit *u, const struct moat_unit_desc *desc, struct moat_diag *diag);

/*
 * moat_vtd_release() - free the unit's tables and queue and unmap its registers; @u is then
 * unprobed. Translation must be off. Returns MOAT_OK, MOAT_ERR_STATE (not probed),
 * MOAT_ERR_BUSY (still enabled: call moat_vtd_disable() first).
 */
moat_status moat_vtd_release(struct moat_vtd_unit *u);

/*
 * moat_vtd_pages() - the physical addresses of every page the unit holds (root table, context
 * tables, invalidation queue, wait-status page, interrupt remapping table and Moat's records of
 * it), for the protection registry: no domain may map
 * them. Writes at most @max addresses to @phys and sets *@count to the total.
 * Returns MOAT_OK; MOAT_ERR_NO_SPACE (@max too small: *@count says how many are needed);
 * MOAT_ERR_INVALID_ARG (NULL @count, or NULL @phys with @max > 0); MOAT_ERR_STATE (not probed).
 */
moat_status moat_vtd_pages(const struct moat_vtd_unit *u, uint64_t *phys, unsigned max, unsigned *count);

/*
 * moat_vtd_negotiate() - the capabilities every one of the @n probed units has, for page tables
 * shared by all of them: common levels (the smallest covering @address_width bits, else the
 * largest), superpages all support, the smallest domain-id space and MGAW, coherent only if every
 * unit is, caching mode and RWBF if any unit has them, QI/IR/EIM/PT/PSI only if all have them.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, n == 0, a unit not probed); MOAT_ERR_UNSUPPORTED
 * when a unit has no usable level, or the units share no level (@diag names the unit).
 */
moat_status moat_vtd_negotiate(struct moat_vtd_unit *const *units, unsigned n, unsigned address_width,
			       struct moat_vtd_caps *common, struct moat_diag *diag);

/*
 * moat_vtd_enable() - turn translation on: allocate the root table (no context entry present, so
 * every device is blocked), write RTADDR (legacy mode), SRTP and wait RTPS, set up and enable the
 * invalidation queue when the unit has one, flush write buffers if RWBF, invalidate the context
 * cache and IOTLB globally, set TE and wait TES, then turn off protected memory regions left
 * enabled by firmware. Context entries attached before are kept.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed, already enabled); MOAT_ERR_NO_MEMORY;
 * MOAT_ERR_TIMEOUT (a status bit did not change: @diag names register and bit);
 * MOAT_ERR_HARDWARE (invalidation queue error). After a hardware failure the unit is not enabled.
 */
moat_status moat_vtd_enable(struct moat_vtd_unit *u, struct moat_diag *diag);

/*
 * moat_vtd_disable() - turn interrupt remapping off (moat_vtd_ir_disable()), translation off (TE,
 * wait TES clear), then queued invalidation.
 * Devices then reach memory untranslated: the caller decides when that is acceptable.
 * Returns MOAT_OK (also when not enabled), MOAT_ERR_STATE (not probed), MOAT_ERR_TIMEOUT.
 */
moat_status moat_vtd_disable(struct moat_vtd_unit *u, struct moat_diag *diag);

/*
 * moat_vtd_attach() - make requester id @rid translate through the domain (@did, @root_phys,
 * @levels): write a present context entry (AW from @levels, DID, SLPTPTR, TT @tt), allocating
 * the bus's context table if needed, and invalidate what the hardware may have cached: a
 * device-selective context-cache invalidation, and under caching mode the domain-0 context entry
 * and the new domain's IOTLB (not-present entries are cached). A present entry for another domain
 * is first taken down and invalidated. No invalidation is issued while translation is off.
 * Needs @did in [caps.did_min, 1 << caps.domain_bits), @levels in caps.levels_mask, @root_phys
 * non-zero and 4 KiB aligned, @tt MOAT_VTD_TT_UNTRANSLATED.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed); MOAT_ERR_INVALID_ARG (rid > 0xffff, did out of
 * range, root_phys 0); MOAT_ERR_ALIGNMENT (root_phys); MOAT_ERR_UNSUPPORTED (levels, tt);
 * MOAT_ERR_NO_MEMORY; MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE from the invalidations (the entry is
 * then written but its invalidation did not complete).
 */
moat_status moat_vtd_attach(struct moat_vtd_unit *u, uint32_t rid, uint32_t did, uint64_t root_phys,
			    unsigned levels, enum moat_vtd_tt tt, struct moat_diag *diag);

/*
 * moat_vtd_detach() - clear the context entry of @rid (the device is blocked again) and invalidate
 * its context-cache entry and its domain's IOTLB entries.
 * Returns MOAT_OK; MOAT_ERR_STATE; MOAT_ERR_INVALID_ARG (rid > 0xffff); MOAT_ERR_NOT_FOUND (no
 * present entry); MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE from the invalidations.
 */
moat_status moat_vtd_detach(struct moat_vtd_unit *u, uint32_t rid, struct moat_diag *diag);

/*
 * moat_vtd_context_get() - the present context entry of @rid, decoded into @out (as the auditor and
 * fault decoding need it). Returns MOAT_OK, MOAT_ERR_NOT_FOUND (no present entry),
 * MOAT_ERR_INVALID_ARG (NULL, rid > 0xffff), MOAT_ERR_STATE (not probed).
 */
moat_status moat_vtd_context_get(const struct moat_vtd_unit *u, uint32_t rid, struct moat_vtd_context *out);

/*
 * moat_vtd_routes() - which VT-d unit of @desc translates requester id @rid of @segment: a unit
 * whose device scopes name it (moat_devset_names(): resolved devsets, ranges, aliases), else the
 * unit of that segment with INCLUDE_PCI_ALL: moat_sysdesc_route() for VT-d units, the rule the
 * core routes by too. *@unit_index is an index into desc->units.
 * Returns MOAT_OK, MOAT_ERR_NOT_FOUND (no unit translates it), MOAT_ERR_INVALID_ARG (NULL) or
 * MOAT_ERR_MALFORMED (a unit's devsets lie outside desc->devsets).
 */
moat_status moat_vtd_routes(const struct moat_sysdesc *desc, uint16_t segment, uint16_t rid,
			    uint32_t *unit_index);

/*
 * moat_vtd_invalidate() - after the domain @did's tables changed for [@iova, @iova + @size), drop
 * what the unit may have cached: a page-selective IOTLB invalidation of the smallest naturally
 * aligned power-of-two block covering the range when the unit has PSI and the block is at most
 * 2^MAMV pages, else a domain-selective one; @size 0 means the whole domain. Flushes write
 * buffers first when RWBF. Uses the invalidation queue when enabled, else the registers, and
 * returns after the hardware reports completion. Does nothing while translation is off (enable
 * invalidates globally).
 * Returns MOAT_OK; MOAT_ERR_STATE; MOAT_ERR_INVALID_ARG (did out of range, range wraps);
 * MOAT_ERR_TIMEOUT; MOAT_ERR_HARDWARE (queue error, invalidation time-out or completion error).
 */
moat_status moat_vtd_invalidate(struct moat_vtd_unit *u, uint32_t did, uint64_t iova, uint64_t size,
				struct moat_diag *diag);

/*
 * moat_vtd_flush_context() - context-cache invalidation of granularity @gran (GLOBAL, DOMAIN with
 * @did, DEVICE with @did, source id @sid and function mask @fm 0..3), by queue or registers,
 * waiting for completion, after a write-buffer flush when RWBF. Works with translation on or off.
 * Returns MOAT_OK; MOAT_ERR_STATE; MOAT_ERR_INVALID_ARG; MOAT_ERR_TIMEOUT; MOAT_ERR_HARDWARE.
 */
moat_status moat_vtd_flush_context(struct moat_vtd_unit *u, enum moat_vtd_gran gran, uint32_t did,
				   uint32_t sid, unsigned fm, struct moat_diag *diag);

/*
 * moat_vtd_flush_iotlb() - IOTLB invalidation of granularity @gran (GLOBAL, DOMAIN with @did, PAGE
 * with @did and 2^@am pages at @addr, which must be aligned to that block; needs PSI and am <= MAMV),
 * by queue or registers, waiting for completion, after a write-buffer flush when RWBF. Drains
 * reads and writes when the unit can.
 * Returns MOAT_OK; MOAT_ERR_STATE; MOAT_ERR_INVALID_ARG; MOAT_ERR_ALIGNMENT; MOAT_ERR_UNSUPPORTED
 * (PAGE without PSI or beyond MAMV); MOAT_ERR_TIMEOUT; MOAT_ERR_HARDWARE.
 */
moat_status moat_vtd_flush_iotlb(struct moat_vtd_unit *u, enum moat_vtd_gran gran, uint32_t did, uint64_t addr,
				 unsigned am, struct moat_diag *diag);

/*
 * moat_vtd_flush_iec() - global interrupt-entry-cache invalidation (queued invalidation only).
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed, or the queue is not enabled); MOAT_ERR_TIMEOUT;
 * MOAT_ERR_HARDWARE.
 */
moat_status moat_vtd_flush_iec(struct moat_vtd_unit *u, struct moat_diag *diag);

/* ---------------------------------------------------------------------------------------------
 * Interrupt remapping (chapter 5; table entry format 9.10)
 * ------------------------------------------------------------------------------------------- */

/*
 * moat_vtd_ir_enable() - turn interrupt remapping on: a table of @entries entries (a power of two,
 * 2 to 65536; physically contiguous and aligned to its size, every entry not present) and pages
 * for Moat's records of them, from the unit's page source; IRTA = base | EIME (@eim) | size, SIRTP
 * and wait IRTPS, a global interrupt-entry-cache invalidation, CFI set when @cfi (else cleared if
 * firmware left it set), then IRE and wait IRES. Every interrupt is blocked from then on until an
 * entry is allocated (moat_vtd_irq_alloc()), compatibility-format ones unless @cfi.
 * Needs translation on with queued invalidation (the interrupt entry cache is invalidated through
 * the queue), ECAP.IR, and ECAP.EIM for @eim.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed, not enabled, or remapping already on);
 * MOAT_ERR_UNSUPPORTED (no IR, no queue, @eim without EIM); MOAT_ERR_INVALID_ARG (@entries);
 * MOAT_ERR_NO_MEMORY (no run of pages: nothing is kept); MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE
 * (a status bit or the invalidation: remapping is turned off again, IRE clear).
 */
moat_status moat_vtd_ir_enable(struct moat_vtd_unit *u, uint32_t entries, bool eim, bool cfi, struct moat_diag *diag);

/*
 * moat_vtd_ir_disable() - turn interrupt remapping off (IRE, wait IRES clear; CFI cleared if Moat
 * set it): interrupts then pass unremapped. The table is kept until moat_vtd_release(), so a live
 * entry can never point into a reused page. moat_vtd_disable() does this first.
 * Returns MOAT_OK (also when off); MOAT_ERR_STATE (not probed); MOAT_ERR_TIMEOUT.
 */
moat_status moat_vtd_ir_disable(struct moat_vtd_unit *u, struct moat_diag *diag);

/*
 * moat_vtd_irq_alloc() - allocate @count entries (1, or a power of two up to 32, aligned to
 * @count) for @src (rid already resolved for IOAPIC and HPET), entry i delivering @dest with vector
 * dest->vector + i, and set *@index to the first. Each entry checks its requester: SVT 01b with
 * SQ 00b and SID = src->rid (PCI, IOAPIC, HPET), or SVT 10b with SID = first bus << 8 | last bus
 * (PCI_BUSES). The source check is written while the entry is not present, then the low quadword
 * with P; then an index-selective interrupt-entry-cache invalidation of the block (global when the
 * block exceeds ECAP.MHMV).
 * Returns MOAT_OK; MOAT_ERR_STATE (remapping off); MOAT_ERR_INVALID_ARG (NULL, @count, an APIC id
 * above 255 without EIM or above 255 in logical xAPIC mode, a vector past 255 in the block);
 * MOAT_ERR_NO_SPACE (no free aligned block); MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (the
 * invalidation: the entries are cleared again and not allocated).
 */
moat_status moat_vtd_irq_alloc(struct moat_vtd_unit *u, const struct moat_irq_source *src, unsigned count,
			       const struct moat_irq_dest *dest, uint32_t *index, struct moat_diag *diag);

/*
 * moat_vtd_irq_set() - allocated entry @index delivers @dest from now on: one 64-bit store of the
 * low quadword (destination, vector, delivery mode, destination mode; trigger mode kept), so the
 * unit reads the old or the new entry, then an index-selective invalidation.
 * Returns MOAT_OK; MOAT_ERR_STATE (remapping off); MOAT_ERR_INVALID_ARG (not an allocated entry,
 * bad @dest); MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (written, invalidation not completed).
 */
moat_status moat_vtd_irq_set(struct moat_vtd_unit *u, uint32_t index, const struct moat_irq_dest *dest,
			     struct moat_diag *diag);

/*
 * moat_vtd_irq_free() - the @count allocated entries from @index: not present (the low quadword,
 * one store each), invalidated, then the source check cleared and the records freed.
 * Returns MOAT_OK; MOAT_ERR_STATE; MOAT_ERR_INVALID_ARG (an entry of the block not allocated);
 * MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (not present but not invalidated: still allocated, call
 * again).
 */
moat_status moat_vtd_irq_free(struct moat_vtd_unit *u, uint32_t index, unsigned count, struct moat_diag *diag);

/* moat_vtd_irq_msi() - the remappable-format message of entry @index (SHV set, data 0: a
 * multi-message block's device adds its vector number to the data). Pure function. */
void moat_vtd_irq_msi(uint32_t index, struct moat_msi_msg *msg);

/* moat_vtd_irq_ioapic_rte() - the remappable-format IOAPIC redirection entry of entry @index
 * delivering @vector with @dest's trigger mode and polarity (mask clear). Pure function. */
uint64_t moat_vtd_irq_ioapic_rte(uint32_t index, uint8_t vector, const struct moat_irq_dest *dest);

/*
 * moat_vtd_ir_live() - whether the unit remaps as Moat set it up: GSTS.IRES set, IRTA the table's
 * base, EIME and size, GSTS.CFIS as the host asked. False when remapping is off in Moat's view.
 */
bool moat_vtd_ir_live(const struct moat_vtd_unit *u);

/*
 * moat_vtd_irte_get() - entry @index of the interrupt remapping table and Moat's record of it.
 * Returns MOAT_OK; MOAT_ERR_STATE (no table); MOAT_ERR_INVALID_ARG (NULL, @index past the table).
 */
moat_status moat_vtd_irte_get(const struct moat_vtd_unit *u, uint32_t index, struct moat_vtd_irte *out);

/*
 * moat_vtd_flush_iec_index() - index-selective interrupt-entry-cache invalidation of the 2^@im
 * entries from @index (aligned to them; @im at most ECAP.MHMV), through the queue.
 * Returns MOAT_OK; MOAT_ERR_STATE (queue off); MOAT_ERR_INVALID_ARG (@index past 65535, @im above
 * MHMV, @index not aligned); MOAT_ERR_TIMEOUT; MOAT_ERR_HARDWARE.
 */
moat_status moat_vtd_flush_iec_index(struct moat_vtd_unit *u, uint32_t index, unsigned im, struct moat_diag *diag);

/*
 * moat_vtd_fault_irq() - the fault event interrupt to @dest (NULL: masked again). Hardware-
 * generated interrupts are not remapped, so the message is compatibility format: FEDATA = vector |
 * delivery mode << 8, FEADDR = 0xFEE00000 | APIC id[7:0] << 12 | RH | DM, FEUADDR = APIC id[31:8]
 * (x2APIC ids, EIM units only), then FECTL.IM cleared. An interrupt is raised when a fault is
 * recorded; moat_vtd_fault_poll() clearing the records re-arms it.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed); MOAT_ERR_UNSUPPORTED (an APIC id above 255 on a
 * unit without EIM); MOAT_ERR_INVALID_ARG (a delivery mode other than fixed or lowest priority).
 */
moat_status moat_vtd_fault_irq(struct moat_vtd_unit *u, const struct moat_irq_dest *dest, struct moat_diag *diag);

/*
 * moat_vtd_fault_poll() - read every fault record with F set (starting at FSTS.FRI, all NFR of
 * them), decode each into @out (at most @max), and clear it (write 1 to F) so the hardware can
 * record the next fault. Records beyond @max stay pending and are counted in res->remaining.
 * A primary fault overflow (FSTS.PFO: faults were lost) is counted in res->overflows and
 * u->overflow_total, then cleared so recording resumes. The domain id of each fault comes from
 * the context entry of its requester id (-1 if none is present).
 * Returns MOAT_OK (also when nothing was pending), MOAT_ERR_INVALID_ARG (NULL @res, or NULL @out
 * with @max > 0), MOAT_ERR_STATE (not probed).
 */
moat_status moat_vtd_fault_poll(struct moat_vtd_unit *u, struct moat_fault *out, unsigned max,
				 struct moat_fault_poll *res);

/*
 * moat_vtd_fault_decode() - decode one 128-bit fault record (@lo, @hi as read from the registers)
 * of a unit on @segment into @out; domain_id is set to -1. Pure function.
 */
void moat_vtd_fault_decode(uint64_t lo, uint64_t hi, uint16_t segment, struct moat_fault *out);

/* moat_vtd_fault_reason_text() - text of a VT-d fault reason code; a generic text for codes not
 * assigned in legacy mode. Never NULL. */
const char *moat_vtd_fault_reason_text(unsigned code);

/* moat_vtd_fault_reason_class() - the class of a VT-d fault reason code (MOAT_FAULT_UNKNOWN for
 * codes not assigned in legacy mode). */
enum moat_fault_class moat_vtd_fault_reason_class(unsigned code);

/* ---------------------------------------------------------------------------------------------
 * The hardware's view (for the auditor): read-only, from what the unit is programmed with
 * ------------------------------------------------------------------------------------------- */

/* What the unit's registers say (moat_vtd_hw_state()). */
struct moat_vtd_hw {
	uint64_t rtaddr;             /* RTADDR as read back */
	uint64_t root_phys;          /* its root-table address (RTA) */
	uint32_t gsts;               /* GSTS */
	bool translating;            /* GSTS.TES */
	bool root_ours;              /* RTADDR names the root table the driver allocated, in legacy mode
					(TTM 00), and the platform gives its virtual address */
};

/*
 * moat_vtd_hw_state() - read RTADDR and GSTS back from the unit into @out, and whether the root
 * table they name is the driver's. Reads two registers; writes nothing.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed); MOAT_ERR_INVALID_ARG (NULL @out).
 */
moat_status moat_vtd_hw_state(const struct moat_vtd_unit *u, struct moat_vtd_hw *out);

/* Callbacks of moat_vtd_hw_walk(): MOAT_OK to go on, anything else stops the walk (and is returned). */
struct moat_vtd_hw_fns {
	/* A present root entry (@raw: low, high quadword) of bus @bus, naming context table @ctp. @ours
	 * when @ctp is the context table the driver allocated for that bus (@expected, 0 when it has
	 * none): only such a table is read. */
	moat_status (*root_entry)(void *ctx, unsigned bus, const uint64_t raw[2], uint64_t ctp, uint64_t expected,
				  bool ours);
	/* A present context entry of a table that was read, decoded. */
	moat_status (*context_entry)(void *ctx, uint16_t rid, const struct moat_vtd_context *ce);
};

/*
 * moat_vtd_hw_walk() - walk the tables as the unit reads them, from the root table @hw names
 * (moat_vtd_hw_state()): each present root entry, and each present context entry of the context
 * tables those entries name, through moat_plat_phys_to_virt() of the addresses stored in them. A
 * pointer is followed only into the page the driver allocated for that place (the root table,
 * the context table of that bus); any other is reported to root_entry() with @ours false and not
 * followed. Nothing is walked when @hw->root_ours is false. Writes nothing.
 * Returns MOAT_OK, what a callback returned to stop, MOAT_ERR_STATE (not probed),
 * MOAT_ERR_INVALID_ARG (NULL @hw or @fns, or a callback missing).
 */
moat_status moat_vtd_hw_walk(const struct moat_vtd_unit *u, const struct moat_vtd_hw *hw,
			     const struct moat_vtd_hw_fns *fns, void *ctx);

#ifdef __cplusplus
}
#endif

#endif
