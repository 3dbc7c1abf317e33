/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AMD-Vi (AMD IOMMU) driver: one IOMMU (an IVHD) at a time: the device table, the command buffer
 * (invalidations and completion waits) and the event log.
 *
 * A domain, for this driver, is a domain id plus the physical address of an AMD v1 page-table
 * root and its number of levels (1 to 6, at most what EFR.HATS allows); the page tables are built
 * elsewhere.
 *
 * Default deny: every entry of the device table is valid. A device without a domain has a
 * blocking entry (V = 1, TV = 0, IR = IW = 0, domain id 0): the IOMMU aborts its requests. An entry
 * with V = 0 is never written: the IOMMU would let that device's DMA through untranslated.
 * Domain id 0 is kept for blocking entries and never given to a translation.
 *
 * Aliases: the IVRS may say that the IOMMU sees a device's requests under another requester id
 * (IVHD alias entries, e.g. devices behind a PCIe-to-PCI bridge). The requester ids that share an
 * alias, and the alias id itself, form a group with one entry the IOMMU indexes: the alias's.
 * moat_amdvi_attach() and moat_amdvi_detach() of any member write that alias's entry and,
 * identically, the own entry of every member (so the table never holds a group in two states).
 * Attaching one member therefore moves the whole group, detaching one blocks the whole group; the
 * core keeps such devices in one domain.
 *
 * The caller owns the storage of every struct moat_amdvi_unit and serialises calls on one unit.
 * Pages come from the unit's page source (u->pages, moat/pages.h: bring-up sets the core's trusted
 * pages; zeroed by moat_amdvi_probe(), it is the platform). Every hardware wait is bounded by the unit's
 * timeout_ns. A call that fails on bad input returns a status and changes nothing; a hardware
 * failure (time-out, command error) is returned with a diagnostic naming the register and bit.
 *
 * Typical use: moat_amdvi_probe() each unit, moat_amdvi_negotiate() across them,
 * moat_amdvi_enable() each (every device is then blocked), moat_amdvi_attach() devices to
 * domains, moat_amdvi_invalidate() after unmapping, moat_amdvi_event_poll() from the event
 * interrupt or a timer.
 */
#ifndef MOAT_AMDVI_H
#define MOAT_AMDVI_H

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

/* Bit for an n-level table in struct moat_amdvi_caps levels_mask (n = 1 .. 6). */
#define MOAT_AMDVI_LEVEL_BIT(n) (1u << (n))

#define MOAT_AMDVI_DID_MIN 1u              /* smallest domain id of a translation (0: blocking entries) */
#define MOAT_AMDVI_DID_MAX 0xffffu
#define MOAT_AMDVI_MAX_ALIASES 64u         /* alias ranges one unit can hold */
#define MOAT_AMDVI_DEVTAB_MAX_PAGES 512u   /* 2 MiB: 65536 entries of 32 bytes */
#define MOAT_AMDVI_DTE_PER_PAGE 128u
#define MOAT_AMDVI_RING_ENTRIES 256u       /* command buffer and event log: one page each */

/* Interrupt remapping: devices (alias groups) one unit can give a table, and a table's entries (one
 * page: 1024 basic entries, 256 GA-mode ones). Override with -D. */
#ifndef MOAT_AMDVI_MAX_IRT
#define MOAT_AMDVI_MAX_IRT 32u
#endif
#define MOAT_AMDVI_IRT_MAX_ENTRIES 1024u
#define MOAT_AMDVI_IRT_MAX_ENTRIES_GA 256u
#if MOAT_AMDVI_MAX_IRT < 1 || MOAT_AMDVI_MAX_IRT > 65536
#error "MOAT_AMDVI_MAX_IRT must be between 1 and 65536"
#endif

/* One device's interrupt remapping table (the device id the IOMMU sees: an alias group's). */
struct moat_amdvi_irt {
	uint16_t devid;
	uint16_t used;                /* entries allocated */
	void *virt;                   /* one page */
	uint64_t phys;
	uint64_t map[MOAT_AMDVI_IRT_MAX_ENTRIES / 64];   /* allocated entries */
};

/* What a unit can do (moat_amdvi_probe), or what every unit can do (moat_amdvi_negotiate). */
struct moat_amdvi_caps {
	uint64_t efr;            /* the extended features used: the MMIO register, ANDed with the IVHD
				    11h/40h image when the unit has both (0 in negotiated caps) */
	uint8_t levels_max;      /* most page-table levels: 4 + EFR.HATS */
	uint8_t levels_mask;     /* MOAT_AMDVI_LEVEL_BIT(n) for n = 1 .. levels_max */
	uint8_t levels;          /* chosen level count: probe picks 4 (48-bit IOVAs), negotiate the
				    smallest covering the requested width (else levels_max) */
	uint8_t address_width;   /* IOVA bits with `levels`: min(12 + 9 * levels, 64) */
	uint8_t gats;            /* EFR.GATS (guest translation levels code) */
	uint8_t pas_max;         /* EFR.PASmax */
	bool ia;                 /* INVALIDATE_IOMMU_ALL supported (EFR.IASup) */
	bool gt;                 /* guest translation (EFR.GTSup) */
	bool nx;                 /* no-execute protection (EFR.NXSup) */
	bool pc;                 /* performance counters (EFR.PCSup) */
	bool ppr;                /* peripheral page requests (EFR.PPRSup) */
	bool pref;               /* prefetch command (EFR.PreFSup) */
	bool ga;                 /* guest virtual APIC (EFR.GASup) */
	bool he;                 /* hardware error registers (EFR.HESup) */
	bool xt;                 /* x2APIC interrupt destinations (EFR.XTSup) */
	bool us;                 /* user/supervisor page protection (EFR.USSup) */
	bool coherent;           /* IVHD Coherent flag: table and buffer accesses snoop the CPU caches
				    (negotiate: every unit); else Moat flushes the lines it writes */
	bool iotlb;              /* IVHD IotlbSup: device IOTLBs (ATS) supported (Moat never enables them) */
};

enum moat_amdvi_state {
	MOAT_AMDVI_UNPROBED = 0,
	MOAT_AMDVI_PROBED = 0x616d6431,  /* registers mapped, features read */
};

/* Requester ids first..last are seen by the IOMMU as `alias`. */
struct moat_amdvi_alias {
	uint16_t first, last, alias;
};

/* One IOMMU. Caller-provided storage; fill it with moat_amdvi_probe(). Read-only to the caller
 * except timeout_ns. */
struct moat_amdvi_unit {
	enum moat_amdvi_state state;
	uint16_t segment;
	uint16_t iommu_rid;          /* the IOMMU's own requester id */
	uint16_t capability_offset;  /* of the IOMMU's PCI capability block in its configuration space */
	uint8_t ivhd_type;           /* 0x10, 0x11 or 0x40 */
	uint8_t ivhd_flags;
	uint32_t reg_size;
	uint64_t reg_phys;
	volatile void *regs;
	uint64_t efr_mmio;           /* EFR register as read at probe */
	uint64_t efr_ivhd;           /* IVHD 11h/40h EFR image (0 for 10h) */
	uint64_t control_at_probe;   /* control register as firmware left it */
	struct moat_amdvi_caps caps;
	uint64_t timeout_ns;         /* bound of each hardware wait; probe sets MOAT_HW_TIMEOUT_NS */
	bool enabled;                /* IOMMU, command buffer and event log enabled by moat_amdvi_enable() */
	/* where every page below comes from (set after probe; zero: the platform) */
	struct moat_pages pages;
	/* device table: dt_entries entries in pages of 128, allocated on first use */
	uint32_t dt_described;       /* highest device id the description names, plus 1 */
	uint32_t dt_entries;         /* entries of the table (a multiple of 128, at least dt_described) */
	uint64_t dt_phys;            /* 0 until allocated; the pages are physically contiguous */
	uint64_t *dt_page[MOAT_AMDVI_DEVTAB_MAX_PAGES];
	/* aliases from the IVHD device entries */
	uint32_t alias_count;
	struct moat_amdvi_alias aliases[MOAT_AMDVI_MAX_ALIASES];
	/* command buffer and the completion-wait semaphore */
	uint64_t *cmd;
	uint64_t cmd_phys;
	uint32_t cmd_head;           /* head as last read from the register */
	uint32_t cmd_tail;           /* next slot Moat writes */
	uint32_t cmd_tail_hw;        /* the tail last written to the register */
	volatile uint64_t *sem;
	uint64_t sem_phys;
	uint64_t sem_seq;
	/* event log */
	uint64_t *evt;
	uint64_t evt_phys;
	uint64_t overflow_total;
	bool event_irq;              /* EventIntEn set by moat_amdvi_event_irq() */
	/* interrupt remapping (moat_amdvi_ir_enable()): every device-table entry has IV = 1; a device
	 * with interrupts has a table of its own, every other one blocks (IntCtl 00b) */
	bool ir_enabled;
	bool ir_ga;                  /* 128-bit entries (Control.GAEn) */
	bool ir_x2apic;              /* 32-bit destinations (Control.XTEn) */
	uint32_t ir_entries;         /* entries of each device's table */
	uint32_t ir_tables;          /* irt[] in use */
	struct moat_amdvi_irt irt[MOAT_AMDVI_MAX_IRT];
};

/* A device table entry, decoded. */
struct moat_amdvi_dte {
	bool valid;                  /* V */
	bool translated;             /* TV: translation through root_phys (else requests are blocked) */
	bool read, write;            /* IR, IW */
	uint8_t levels;              /* Mode */
	uint16_t did;
	uint64_t root_phys;
	/* interrupt remapping (quadword 2) */
	bool iv;                     /* IV: interrupts are looked at (else they pass unmapped) */
	uint8_t int_ctl;             /* IntCtl: 0 abort, 1 forward unmapped, 2 remap, 3 reserved */
	uint8_t int_tab_len;         /* IntTabLen: 2^n entries */
	uint64_t int_root;           /* interrupt table root */
	uint64_t raw[4];             /* the entry as stored, quadwords 0..3 */
	bool iotlb;                  /* I: device IOTLB (ATS) enabled */
};

/* One interrupt remapping table entry and Moat's record of it (moat_amdvi_irte_get()). */
struct moat_amdvi_irte {
	uint64_t lo, hi;             /* as stored (a basic entry: its 32 bits in lo, hi 0) */
	bool present;                /* RemapEn */
	bool allocated;              /* Moat allocated it */
};

/*
 * moat_amdvi_probe() - map the registers of the AMD-Vi unit @desc describes (a unit of
 * moat_acpi_describe_ivrs(); @devsets and @devsets_count are that description's devset array,
 * which desc->devset_first indexes) and read its features into @u: the EFR register, ANDed with
 * the IVHD 11h/40h EFR image when there is one (an IVHD 10h's feature field stands in for a
 * register reading 0), decoded into u->caps; the IVHD flags. Sizes the device table for the highest
 * requester id the unit's devsets and its own id name (aliases included): one more than that id
 * rounded up to 128-entry pages, 65536 entries when an IVHD "all" entry is present. Keeps the
 * unit's alias ranges. Nothing is written to the hardware.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL @u or @desc, not an AMD-Vi unit, register base 0 or
 * not 16 KiB aligned); MOAT_ERR_MALFORMED (the unit's devsets lie outside @devsets);
 * MOAT_ERR_NO_SPACE (more than MOAT_AMDVI_MAX_ALIASES alias ranges); MOAT_ERR_HARDWARE (registers
 * cannot be mapped, read as all ones, or EFR.HATS holds the reserved value 3). On failure @u is not
 * touched.
 */
moat_status moat_amdvi_probe(struct moat_amdvi_unit *u, const struct moat_unit_desc *desc,
			     const struct moat_devset *devsets, uint32_t devsets_count, struct moat_diag *diag);

/*
 * moat_amdvi_set_devtab_entries() - give the device table at least @entries entries (rounded up
 * to a page of 128), beyond what the description names, e.g. 65536 to cover devices the firmware
 * did not list (a requester id beyond the table has no entry at all; QEMU's model does not check
 * the size and reads whatever memory follows the table). Only before the table exists (before the
 * first enable or attach).
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed, or the table already allocated);
 * MOAT_ERR_INVALID_ARG (@entries above 65536).
 */
moat_status moat_amdvi_set_devtab_entries(struct moat_amdvi_unit *u, uint32_t entries, struct moat_diag *diag);

/*
 * moat_amdvi_release() - free the device table, command buffer, event log, semaphore and
 * interrupt table pages and unmap the registers; @u is then unprobed. Returns MOAT_OK, MOAT_ERR_STATE (not probed),
 * MOAT_ERR_BUSY (still enabled, or the IOMMU still has IommuEn, CmdBufEn or EventLogEn on while
 * Moat's pages exist, e.g. after a failed enable: call moat_amdvi_disable() first).
 */
moat_status moat_amdvi_release(struct moat_amdvi_unit *u);

/*
 * moat_amdvi_pages() - the physical addresses of every page the unit holds (each device-table
 * page, command buffer, event log, semaphore page, interrupt remapping tables), for the
 * protection registry. Writes at most
 * @max addresses to @phys and sets *@count to the total.
 * Returns MOAT_OK; MOAT_ERR_NO_SPACE (@max too small: *@count says how many are needed);
 * MOAT_ERR_INVALID_ARG (NULL @count, or NULL @phys with @max > 0); MOAT_ERR_STATE (not probed).
 */
moat_status moat_amdvi_pages(const struct moat_amdvi_unit *u, uint64_t *phys, unsigned max, unsigned *count);

/*
 * moat_amdvi_negotiate() - the features every one of the @n probed units has, for page tables
 * shared by all of them: levels_max the smallest, levels the smallest count covering
 * @address_width bits (else levels_max), feature flags and coherent only if every unit has them.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, n == 0, a unit not probed).
 */
moat_status moat_amdvi_negotiate(struct moat_amdvi_unit *const *units, unsigned n, unsigned address_width,
				 struct moat_amdvi_caps *common, struct moat_diag *diag);

/*
 * moat_amdvi_enable() - turn the IOMMU on: allocate the device table (every entry valid and
 * blocking, except those attached before), the command buffer, the event log and the semaphore;
 * stop what firmware left running (IommuEn, CmdBufEn, EventLogEn off, waiting for CmdBufRun and
 * EventLogRun to clear); disable the exclusion range; program the device table base | (pages - 1),
 * command buffer and event log bases | (8 << 56) with head and tail 0; clear the status bits;
 * write the control register with IommuEn, EventLogEn, CmdBufEn (plus HtTunEn, PassPW, ResPassPW,
 * Isoc, Coherent from the IVHD flags) and wait for CmdBufRun and EventLogRun; then invalidate
 * everything (INVALIDATE_IOMMU_ALL, or every device-table entry and every domain id without
 * EFR.IASup) and wait for completion.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed, already enabled); MOAT_ERR_NO_MEMORY (pages, or no
 * physically contiguous run for the device table); MOAT_ERR_TIMEOUT (a status bit did not change,
 * or a command did not complete: @diag names register and bit); MOAT_ERR_HARDWARE (the command
 * processor stopped). After a hardware failure the unit is not marked enabled.
 */
moat_status moat_amdvi_enable(struct moat_amdvi_unit *u, struct moat_diag *diag);

/*
 * moat_amdvi_disable() - turn the IOMMU off (IommuEn, CmdBufEn, EventLogEn cleared; waits for
 * CmdBufRun and EventLogRun to clear). Devices then reach memory untranslated: the caller decides
 * when that is acceptable. Tables are kept. Returns MOAT_OK (also when not enabled), MOAT_ERR_STATE
 * (not probed), MOAT_ERR_TIMEOUT.
 */
moat_status moat_amdvi_disable(struct moat_amdvi_unit *u, struct moat_diag *diag);

/*
 * moat_amdvi_device_id() - the device id the IOMMU sees for requester id @rid: its alias when an
 * IVHD alias entry names one, else @rid itself.
 */
uint16_t moat_amdvi_device_id(const struct moat_amdvi_unit *u, uint16_t rid);

/*
 * moat_amdvi_attach() - make requester id @rid translate through the domain (@did, @root_phys,
 * @levels): its device-table entry (for an aliased rid: the alias's entry and those of the whole
 * alias group, see the top of this file) becomes V = 1, TV = 1, Mode = @levels, the root,
 * IR = IW = 1 (permissions come from the page tables), domain id @did, quadwords 2 and 3 zero. The
 * words are written so that the IOMMU never sees a mixed entry: a translating entry is first made
 * blocking (quadword 0), then the domain id (quadword 1), then quadword 0 with TV last. When
 * enabled, then INVALIDATE_DEVTAB_ENTRY for each entry written, INVALIDATE_IOMMU_PAGES of the
 * whole domain @did (with PDE), the same for each domain the entries translated through before
 * (an IOMMU that tags cached translations by device, as QEMU's model does, would otherwise keep
 * using them; everything is invalidated when there were more than eight), and COMPLETION_WAIT. Allocates the device table if needed (before
 * enable no command is issued: enable invalidates everything).
 * Needs @did in [1, 65535], @levels in caps.levels_mask, @root_phys non-zero, 4 KiB aligned and
 * below 2^52, @rid (and its alias) inside the device table.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed); MOAT_ERR_INVALID_ARG (rid beyond the table, did 0
 * or above 65535, root_phys 0 or beyond 52 bits); MOAT_ERR_ALIGNMENT (root_phys);
 * MOAT_ERR_UNSUPPORTED (levels); MOAT_ERR_NO_MEMORY; MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE from the
 * commands (the entry is then written but its invalidation did not complete).
 */
moat_status moat_amdvi_attach(struct moat_amdvi_unit *u, uint32_t rid, uint32_t did, uint64_t root_phys,
			      unsigned levels, struct moat_diag *diag);

/*
 * moat_amdvi_detach() - put the blocking entry back for @rid (for an aliased rid: its whole alias
 * group), TV cleared first, then, when enabled, INVALIDATE_DEVTAB_ENTRY for each entry,
 * INVALIDATE_IOMMU_PAGES (whole domain, PDE) of each domain they had (everything when more than
 * eight distinct ones) and COMPLETION_WAIT.
 * Returns MOAT_OK; MOAT_ERR_STATE; MOAT_ERR_INVALID_ARG (rid beyond the table); MOAT_ERR_NOT_FOUND
 * (no entry of the group translates); MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE from the commands.
 */
moat_status moat_amdvi_detach(struct moat_amdvi_unit *u, uint32_t rid, struct moat_diag *diag);

/*
 * moat_amdvi_dte_get() - device-table entry @devid (as stored: no alias lookup; see
 * moat_amdvi_device_id()), decoded into @out. Before the table exists, the blocking entry it will
 * get. Returns MOAT_OK, MOAT_ERR_INVALID_ARG (NULL, devid beyond the table), MOAT_ERR_STATE.
 */
moat_status moat_amdvi_dte_get(const struct moat_amdvi_unit *u, uint32_t devid, struct moat_amdvi_dte *out);

/*
 * moat_amdvi_routes() - which AMD-Vi unit of @desc translates requester id @rid of @segment: a
 * unit whose devsets name it (moat_devset_names(): as a device or as an alias), else the unit of
 * that segment with an IVHD "all" entry: moat_sysdesc_route() for AMD-Vi units, the rule the core
 * routes by too. *@unit_index is an index into desc->units.
 * Returns MOAT_OK, MOAT_ERR_NOT_FOUND, MOAT_ERR_INVALID_ARG (NULL) or MOAT_ERR_MALFORMED (a unit's
 * devsets lie outside desc->devsets).
 */
moat_status moat_amdvi_routes(const struct moat_sysdesc *desc, uint16_t segment, uint16_t rid,
			      uint32_t *unit_index);

/*
 * moat_amdvi_invalidate() - after the domain @did's tables changed for [@iova, @iova + @size),
 * drop what the IOMMU may have cached: one INVALIDATE_IOMMU_PAGES of the smallest naturally
 * aligned power-of-two block covering the range (S = 0 for one page; S = 1 with the size encoded
 * in the address for a larger block; the whole domain for blocks above 2^51 bytes or @size 0),
 * then COMPLETION_WAIT. @pde: page-directory entries changed too (tables freed or replaced);
 * sets the command's PDE bit. Does nothing while the unit is not enabled.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed); MOAT_ERR_INVALID_ARG (did above 65535, range
 * wraps); MOAT_ERR_TIMEOUT; MOAT_ERR_HARDWARE.
 */
moat_status moat_amdvi_invalidate(struct moat_amdvi_unit *u, uint32_t did, uint64_t iova, uint64_t size,
				  bool pde, struct moat_diag *diag);

/*
 * moat_amdvi_inval_pages() - INVALIDATE_IOMMU_PAGES of domain @did for the block of 2^@order
 * pages at @addr (which must be aligned to it; @order above 39 means the whole domain, @addr
 * then ignored), PDE as @pde, then COMPLETION_WAIT.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed or not enabled); MOAT_ERR_INVALID_ARG (did);
 * MOAT_ERR_ALIGNMENT (addr); MOAT_ERR_TIMEOUT; MOAT_ERR_HARDWARE.
 */
moat_status moat_amdvi_inval_pages(struct moat_amdvi_unit *u, uint32_t did, uint64_t addr, unsigned order,
				   bool pde, struct moat_diag *diag);

/*
 * moat_amdvi_inval_devtab() - INVALIDATE_DEVTAB_ENTRY of @devid, then COMPLETION_WAIT.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed or not enabled); MOAT_ERR_INVALID_ARG (devid above
 * 0xffff); MOAT_ERR_TIMEOUT; MOAT_ERR_HARDWARE.
 */
moat_status moat_amdvi_inval_devtab(struct moat_amdvi_unit *u, uint32_t devid, struct moat_diag *diag);

/*
 * moat_amdvi_inval_all() - drop everything the IOMMU caches: INVALIDATE_IOMMU_ALL when the unit
 * has EFR.IASup, else INVALIDATE_DEVTAB_ENTRY of every entry of the table and
 * INVALIDATE_IOMMU_PAGES (whole domain, PDE) of every domain id 0..65535; then COMPLETION_WAIT.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed or not enabled); MOAT_ERR_TIMEOUT; MOAT_ERR_HARDWARE.
 */
moat_status moat_amdvi_inval_all(struct moat_amdvi_unit *u, struct moat_diag *diag);

/*
 * moat_amdvi_completion_wait() - COMPLETION_WAIT with a store to the unit's semaphore, and a
 * bounded wait for the stored value: every command queued before has completed.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed or not enabled); MOAT_ERR_TIMEOUT (the store did
 * not come: diag names the command buffer head register); MOAT_ERR_HARDWARE (the command processor
 * stopped: Status.CmdBufRun cleared, diag names the command; the rest of the batch is dropped and
 * the buffer restarted).
 */
moat_status moat_amdvi_completion_wait(struct moat_amdvi_unit *u, struct moat_diag *diag);

/* ---------------------------------------------------------------------------------------------
 * Interrupt remapping (section 2.2.5)
 * ------------------------------------------------------------------------------------------- */

/*
 * moat_amdvi_ir_enable() - turn interrupt remapping on for every device id: each device-table entry
 * gets IV = 1, IntCtl = 00b (fixed and arbitrated interrupts aborted), no table, and the pass bits
 * of the IVHD setting bytes (INITPass, EIntPass, NMIPass, Lint0Pass, Lint1Pass) of the entries of
 * @desc (its devsets in @devsets, @ndevsets of them; an IVHD "all" entry's setting for every id,
 * the others for the ids they name and their alias); then everything is invalidated and the
 * completion waited for. A device gets a table of @entries entries (a power of two, 1 to 1024;
 * 256 with @ga) at its first moat_amdvi_irq_alloc(). @ga: 128-bit entries (Control.GAEn, needs
 * EFR.GASup); @x2apic: 32-bit destinations (Control.XTEn too, needs EFR.XTSup; implies @ga).
 * Entries attached before keep their translation; later attaches keep the interrupt fields.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed, not enabled, or already on); MOAT_ERR_INVALID_ARG
 * (NULL @desc, @entries, devsets outside @devsets); MOAT_ERR_UNSUPPORTED (@ga without GASup,
 * @x2apic without XTSup); MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (the invalidation: remapping is
 * turned off again).
 */
moat_status moat_amdvi_ir_enable(struct moat_amdvi_unit *u, const struct moat_unit_desc *desc,
				 const struct moat_devset *devsets, uint32_t ndevsets, uint32_t entries, bool ga,
				 bool x2apic, struct moat_diag *diag);

/*
 * moat_amdvi_ir_disable() - turn interrupt remapping off: quadword 2 of every entry cleared (IV =
 * 0: interrupts pass unmapped), everything invalidated, the tables given back, GAEn and XTEn
 * cleared. Every allocated interrupt is gone. Returns MOAT_OK (also when off); MOAT_ERR_STATE (not
 * probed); MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (the invalidation: the tables are kept).
 */
moat_status moat_amdvi_ir_disable(struct moat_amdvi_unit *u, struct moat_diag *diag);

/*
 * moat_amdvi_irq_alloc() - allocate @count entries (1, or a power of two up to 32, aligned to
 * @count) in the table of the device id the IOMMU sees for @src->rid (its alias), entry i
 * delivering @dest with vector dest->vector + i; *@devid and *@index get the table's device id and
 * the first entry. A device's first allocation takes a page for its table and points its
 * device-table entry (and that of every member of its alias group) at it: IV = 1, IntTabLen,
 * root, IntCtl = 10b, pass bits kept. Basic entries are written with one 32-bit store, GA entries
 * high quadword first, RemapEn last. Then INVALIDATE_DEVTAB_ENTRY (a new table) and
 * INVALIDATE_INTERRUPT_TABLE for each entry of the group, and COMPLETION_WAIT.
 * An IOAPIC's entries stay below 256 (its redirection entry carries the offset in its vector).
 * Returns MOAT_OK; MOAT_ERR_STATE (remapping off); MOAT_ERR_INVALID_ARG (NULL, @count, an APIC id
 * above 255 without x2APIC destinations, device id beyond the device table);
 * MOAT_ERR_UNSUPPORTED (delivery mode other than fixed or lowest priority: the others pass by the
 * setting bits, they are not remapped); MOAT_ERR_NO_SPACE (no aligned free block; no table slot
 * left, MOAT_AMDVI_MAX_IRT); MOAT_ERR_NO_MEMORY (no page for the table); MOAT_ERR_TIMEOUT /
 * MOAT_ERR_HARDWARE (the commands: the entries are cleared again and not allocated).
 */
moat_status moat_amdvi_irq_alloc(struct moat_amdvi_unit *u, const struct moat_irq_source *src, unsigned count,
				 const struct moat_irq_dest *dest, uint16_t *devid, uint32_t *index,
				 struct moat_diag *diag);

/*
 * moat_amdvi_irq_set() - allocated entry @index of @devid's table delivers @dest from now on. A
 * basic entry, or a GA entry whose change stays in one quadword, is one store; a GA entry whose
 * vector and low destination bits both change is written with RemapEn cleared first (an
 * interrupt then is aborted and reported, never delivered half-changed), the high quadword, then
 * the low one with RemapEn. Then INVALIDATE_INTERRUPT_TABLE and COMPLETION_WAIT.
 * Returns MOAT_OK; MOAT_ERR_STATE; MOAT_ERR_INVALID_ARG (not allocated, bad @dest);
 * MOAT_ERR_UNSUPPORTED (delivery mode); MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE.
 */
moat_status moat_amdvi_irq_set(struct moat_amdvi_unit *u, uint16_t devid, uint32_t index,
			       const struct moat_irq_dest *dest, struct moat_diag *diag);

/*
 * moat_amdvi_irq_free() - the @count allocated entries from @index of @devid's table: RemapEn
 * cleared (the low half first), INVALIDATE_INTERRUPT_TABLE for the group, COMPLETION_WAIT, then
 * free. The table's last entry takes the table away: the group's device-table entries block again
 * (IntCtl 00b), are invalidated, and the page goes back (kept, still blocking, if that
 * invalidation fails).
 * Returns MOAT_OK; MOAT_ERR_STATE (remapping off); MOAT_ERR_INVALID_ARG (an entry not allocated);
 * MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (not remapped but not invalidated: still allocated).
 */
moat_status moat_amdvi_irq_free(struct moat_amdvi_unit *u, uint16_t devid, uint32_t index, unsigned count,
				struct moat_diag *diag);

/* moat_amdvi_irq_msi() - the message of entry @index: the interrupt address with data = @index (a
 * multi-message device adds its vector number). Pure function. */
void moat_amdvi_irq_msi(uint32_t index, struct moat_msi_msg *msg);

/* moat_amdvi_irq_ioapic_rte() - an IOAPIC redirection entry for entry @index (below 256): vector
 * field = @index, fixed delivery, physical destination 0, @dest's trigger mode and polarity, mask
 * clear. Pure function. */
uint64_t moat_amdvi_irq_ioapic_rte(uint32_t index, const struct moat_irq_dest *dest);

/* moat_amdvi_ir_live() - whether the unit remaps as Moat set it up: IommuEn, and GAEn and XTEn as
 * chosen. False when remapping is off in Moat's view. */
bool moat_amdvi_ir_live(const struct moat_amdvi_unit *u);

/* moat_amdvi_irt_of() - the interrupt table of device id @devid, or NULL. */
const struct moat_amdvi_irt *moat_amdvi_irt_of(const struct moat_amdvi_unit *u, uint16_t devid);

/*
 * moat_amdvi_irte_get() - entry @index of table @t (from moat_amdvi_irt_of() or u->irt[]) and
 * Moat's record of it. Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL, @index past the table).
 */
moat_status moat_amdvi_irte_get(const struct moat_amdvi_unit *u, const struct moat_amdvi_irt *t, uint32_t index,
				struct moat_amdvi_irte *out);

/*
 * moat_amdvi_inval_irt() - INVALIDATE_INTERRUPT_TABLE of @devid, then COMPLETION_WAIT.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed or not enabled); MOAT_ERR_INVALID_ARG (devid above
 * 0xffff); MOAT_ERR_TIMEOUT; MOAT_ERR_HARDWARE.
 */
moat_status moat_amdvi_inval_irt(struct moat_amdvi_unit *u, uint32_t devid, struct moat_diag *diag);

/*
 * moat_amdvi_event_irq() - the event-log interrupt to @dest (NULL: EventIntEn cleared). The
 * IOMMU's interrupt is an MSI of its own PCI function, not remapped by itself: *@msg gets the
 * message (address 0xFEE00000 | APIC id << 12 | RH | DM, data vector | delivery mode << 8) the host
 * writes into that function's MSI capability; Moat clears Status.EventLogInt and sets
 * Control.EventIntEn. moat_amdvi_event_poll() clears EventLogInt before it reads the log, so the
 * next event interrupts again.
 * Returns MOAT_OK; MOAT_ERR_STATE (not probed or not enabled); MOAT_ERR_INVALID_ARG (NULL @msg,
 * delivery mode other than fixed or lowest priority); MOAT_ERR_UNSUPPORTED (an APIC id above 255:
 * the message has 8 destination bits).
 */
moat_status moat_amdvi_event_irq(struct moat_amdvi_unit *u, const struct moat_irq_dest *dest, struct moat_msi_msg *msg,
				 struct moat_diag *diag);

/* ---------------------------------------------------------------------------------------------
 * Event log
 * ------------------------------------------------------------------------------------------- */

/* Event codes (section 2.5 of 48882) */
#define MOAT_AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY 0x1u
#define MOAT_AMDVI_EV_IO_PAGE_FAULT 0x2u
#define MOAT_AMDVI_EV_DEV_TAB_HARDWARE_ERROR 0x3u
#define MOAT_AMDVI_EV_PAGE_TAB_HARDWARE_ERROR 0x4u
#define MOAT_AMDVI_EV_ILLEGAL_COMMAND_ERROR 0x5u
#define MOAT_AMDVI_EV_COMMAND_HARDWARE_ERROR 0x6u
#define MOAT_AMDVI_EV_IOTLB_INV_TIMEOUT 0x7u
#define MOAT_AMDVI_EV_INVALID_DEVICE_REQUEST 0x8u
#define MOAT_AMDVI_EV_INVALID_PPR_REQUEST 0x9u
#define MOAT_AMDVI_EV_EVENT_COUNTER_ZERO 0xau
#define MOAT_AMDVI_EV_RMP_PAGE_FAULT 0xdu
#define MOAT_AMDVI_EV_RMP_HARDWARE_ERROR 0xeu

/* Event flags (the 12-bit flags field; which ones an event carries depends on its code) */
#define MOAT_AMDVI_EVF_GN 0x001u   /* guest request: the PASID field is valid (else the domain id) */
#define MOAT_AMDVI_EVF_NX 0x002u   /* instruction fetch (no-execute violation) */
#define MOAT_AMDVI_EVF_US 0x004u   /* user-mode request */
#define MOAT_AMDVI_EVF_I 0x008u    /* interrupt request */
#define MOAT_AMDVI_EVF_PR 0x010u   /* the translation was present (a permission fault); else not present */
#define MOAT_AMDVI_EVF_RW 0x020u   /* write request (else read) */
#define MOAT_AMDVI_EVF_PE 0x040u   /* permission bits were checked and denied the access */
#define MOAT_AMDVI_EVF_RZ 0x080u   /* a reserved bit was set in a table entry */
#define MOAT_AMDVI_EVF_TR 0x100u   /* translation request (ATS) */

/* One event log entry, decoded. */
struct moat_amdvi_event {
	uint8_t code;                /* MOAT_AMDVI_EV_* or another value */
	uint16_t flags;              /* MOAT_AMDVI_EVF_* */
	uint8_t type;                /* hardware errors: 0 master abort, 1 target abort, 2 data error;
					INVALID_DEVICE_REQUEST: the request type (3 bits) */
	uint16_t device_id;          /* requester id the IOMMU saw (events that name a device) */
	int32_t domain_id;           /* IO_PAGE_FAULT and PAGE_TAB_HARDWARE_ERROR without GN: the domain;
					else -1 */
	bool pasid_present;
	uint32_t pasid;
	uint64_t address;            /* the request's address; for table and command errors the
					physical address of the entry or command */
	uint64_t raw[2];
};

/*
 * moat_amdvi_event_parse() - split one 128-bit event log entry (@lo, @hi: its two quadwords as
 * stored) into its fields. Pure function.
 */
void moat_amdvi_event_parse(uint64_t lo, uint64_t hi, struct moat_amdvi_event *ev);

/*
 * moat_amdvi_event_class() - the vendor-neutral class of an event:
 *  - IO_PAGE_FAULT: RZ set -> invalid use (a reserved bit in a table entry: a software bug);
 *    TR set -> bad device (translation request: ATS is never enabled); I set -> bad device (an
 *    interrupt request blocked); domain id 0 -> bad device (the device has the blocking entry,
 *    V = 1, TV = 0: it has no domain); otherwise (translation not present, PR clear, or present
 *    without the permission) -> bad address;
 *  - RMP_PAGE_FAULT -> bad address (the page belongs to someone else);
 *  - INVALID_DEVICE_REQUEST, INVALID_PPR_REQUEST, IOTLB_INV_TIMEOUT -> bad device (a request kind
 *    the device may not issue, or a device that does not answer);
 *  - ILLEGAL_DEV_TABLE_ENTRY, DEV_TAB_HARDWARE_ERROR, PAGE_TAB_HARDWARE_ERROR,
 *    ILLEGAL_COMMAND_ERROR, COMMAND_HARDWARE_ERROR, RMP_HARDWARE_ERROR -> invalid use (tables,
 *    commands or memory wrong or unreadable); EVENT_COUNTER_ZERO -> invalid use (Moat never
 *    programs the counters);
 *  - any other code -> MOAT_FAULT_UNKNOWN.
 * moat_amdvi_event_poll() also makes an IO_PAGE_FAULT a bad device when the device's entry is
 * blocking when polled.
 */
enum moat_fault_class moat_amdvi_event_class(const struct moat_amdvi_event *ev);

/* moat_amdvi_event_name() - the specification's name of an event code ("IO_PAGE_FAULT"), or
 * "unknown event 0xN" for a code it does not define. Never NULL. */
const char *moat_amdvi_event_name(unsigned code);

/* moat_amdvi_event_text() - "NAME: what it means" for an event code (the unknown form as in
 * moat_amdvi_event_name()). Never NULL; static storage. */
const char *moat_amdvi_event_text(unsigned code);

/*
 * moat_amdvi_event_decode() - decode one entry (@lo, @hi) of a unit on @segment into @out:
 * vendor, segment, rid (the device id; 0 for command errors), address, is_write (RW),
 * is_interrupt (I, or an INVALID_DEVICE_REQUEST of type 101b: a posted write to the interrupt
 * range of a device whose IntCtl is 00b, i.e. an interrupt remapping blocked), pasid, reason
 * (the event code), reason_text (moat_amdvi_event_text()), fault_class
 * (moat_amdvi_event_class()), domain_id (from the event when it carries one and it is not 0;
 * else -1). Pure function.
 */
void moat_amdvi_event_decode(uint64_t lo, uint64_t hi, uint16_t segment, struct moat_fault *out);

/*
 * moat_amdvi_event_poll() - read the events between the event log head and tail registers (at most
 * @max of them) into @out, decoded, and advance the head register past those read. Events beyond
 * @max stay in the log and are counted in res->remaining. The device table refines each event
 * that names a device: when its entry blocks at poll time, domain_id is -1 and an IO_PAGE_FAULT is
 * a bad device; when it translates and the event carries no domain, domain_id is the entry's.
 * An overflow (Status.EventOverflow:
 * the log was full and events were lost) is counted in res->overflows and u->overflow_total, and
 * the log restarted as section 2.5 asks: EventLogEn cleared, EventLogRun waited clear,
 * EventOverflow cleared (write 1), EventLogEn set, EventLogRun waited set. Before enable there is no
 * log: nothing is read.
 * Returns MOAT_OK (also when nothing was pending); MOAT_ERR_INVALID_ARG (NULL @res, or NULL @out
 * with @max > 0); MOAT_ERR_STATE (not probed); MOAT_ERR_TIMEOUT (the log did not restart after an
 * overflow; the events read are still returned).
 */
moat_status moat_amdvi_event_poll(struct moat_amdvi_unit *u, struct moat_fault *out, unsigned max,
				  struct moat_fault_poll *res);

/* ---------------------------------------------------------------------------------------------
 * The hardware's view (for the auditor): read-only, from what the IOMMU is programmed with
 * ------------------------------------------------------------------------------------------- */

/* What the IOMMU's registers say (moat_amdvi_hw_state()). */
struct moat_amdvi_hw {
	uint64_t devtab;             /* Device Table Base Address register as read back */
	uint64_t control;            /* Control register */
	uint64_t table_phys;         /* the device table's base (DevTabBase) */
	uint32_t table_pages;        /* its size in pages (Size + 1) */
	bool translating;            /* Control.IommuEn */
	bool table_ours;             /* base and size name the device table the driver allocated */
};

/*
 * moat_amdvi_hw_state() - read the Device Table Base and Control registers back from the IOMMU
 * into @out, and whether the table they name is the driver's (same base, same size). Writes
 * nothing. Returns MOAT_OK; MOAT_ERR_STATE (not probed); MOAT_ERR_INVALID_ARG (NULL @out).
 */
moat_status moat_amdvi_hw_state(const struct moat_amdvi_unit *u, struct moat_amdvi_hw *out);

/* Callbacks of moat_amdvi_hw_walk(): MOAT_OK to go on, anything else stops the walk (and is returned). */
struct moat_amdvi_hw_fns {
	/* Page @index of the device table, at @phys; @readable when the platform gives its virtual
	 * address: only then are its entries read. */
	moat_status (*page)(void *ctx, uint32_t index, uint64_t phys, bool readable);
	/* An entry that is not the blocking entry the driver writes (V = 1, every other bit 0). */
	moat_status (*entry)(void *ctx, uint32_t devid, const struct moat_amdvi_dte *e);
};

/*
 * moat_amdvi_hw_walk() - walk the device table as the IOMMU reads it, from the base @hw names
 * (moat_amdvi_hw_state()), through moat_plat_phys_to_virt() of each page's physical address: each
 * page, then each entry but the blocking ones, decoded (moat_amdvi_dte_decode()). Each entry is read
 * once. Nothing is walked unless @hw->table_ours (a table the driver did not allocate is never
 * read). Writes nothing.
 * Returns MOAT_OK, what a callback returned to stop, MOAT_ERR_STATE (not probed),
 * MOAT_ERR_INVALID_ARG (NULL @hw or @fns, or a callback missing).
 */
moat_status moat_amdvi_hw_walk(const struct moat_amdvi_unit *u, const struct moat_amdvi_hw *hw,
			       const struct moat_amdvi_hw_fns *fns, void *ctx);

/* moat_amdvi_dte_decode() - a device-table entry (quadwords 0..3 as stored) decoded into @out. Pure. */
void moat_amdvi_dte_decode(const uint64_t raw[4], struct moat_amdvi_dte *out);

#ifdef __cplusplus
}
#endif

#endif
