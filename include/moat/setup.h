/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bring-up: from a system description (moat/acpi.h) to a running struct moat_system whose IOMMU
 * units translate. This is the one place that knows every vendor driver: it probes each unit with
 * its vendor's driver, negotiates one page-table configuration all units can walk, initializes the
 * core with it, plugs each unit into the core (include/moat/internal/unit.h), puts every unit's
 * register block into the protection registry (labelled "VT-d registers" / "AMD-Vi registers":
 * no domain may map it), gives the drivers the core's trusted pages for everything they hold (root
 * and context tables, device tables, queues, status words), and turns translation on. Everything
 * after bring-up goes through the vendor-neutral core (moat/moat.h): domains, moat_protect_host(),
 * moat_domain_attach(), moat_fault_poll(), moat_audit().
 *
 * Typical use (the reference kernel does exactly this):
 *
 *	static struct moat_setup ms;
 *	static struct moat_setup_unit units[8];
 *
 *	moat_setup_init(&ms, units, 8, &desc, 0, &diag);   probe, negotiate, moat_system_init
 *	moat_setup_enable(&ms, &diag);                      translation on: every device blocked
 *	moat_setup_irq(&ms, &irq_cfg, &diag);               optional: interrupt remapping on,
 *	                                                    every interrupt blocked (moat/irq.h)
 *	moat_protect_add(&ms.sys, ...);                     what no device may reach
 *	moat_domain_create(&ms.sys, &host);
 *	moat_protect_host(&host, map, n, &report, &diag);   all other RAM, identity-mapped
 *	moat_domain_attach(&host, seg, rid, &diag);         the host's own devices
 *	...
 *	moat_fault_poll(&ms.sys, faults, max, &res);        from a timer or the fault interrupt
 *	...
 *	detach devices, moat_domain_destroy() every domain, moat_setup_fini(&ms, &diag)
 *
 * Vendors: Intel VT-d units (from a DMAR) and AMD-Vi units (from an IVRS) are brought up. A
 * description mixing vendors is refused with MOAT_ERR_UNSUPPORTED (no machine has both).
 *
 * Storage: struct moat_setup and the array of struct moat_setup_unit belong to the caller and
 * must stay in place (and out of every domain: keep them in memory the protection registry covers,
 * e.g. the kernel image) until moat_setup_fini(). No global state.
 *
 * Concurrency: moat_setup_init(), moat_setup_enable() and moat_setup_fini() must not run
 * concurrently with anything else on the same setup. Once enabled, the core's own locking
 * applies (moat/moat.h). moat_setup_unit_describe() and moat_setup_fault_format() only read.
 */
#ifndef MOAT_SETUP_H
#define MOAT_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <moat/acpi.h>
#include <moat/amdvi.h>
#include <moat/diag.h>
#include <moat/fault.h>
#include <moat/internal/unit.h>
#include <moat/irq.h>
#include <moat/moat.h>
#include <moat/status.h>
#include <moat/vtd.h>

#ifdef __cplusplus
extern "C" {
#endif

struct moat_setup;

/* One IOMMU unit as bring-up holds it. Caller storage (an array of them); private. */
struct moat_setup_unit {
	enum moat_vendor vendor;
	uint32_t desc_index;            /* its entry in the description's units */
	bool probed;
	bool enabled;
	struct moat_unit unit;          /* what the core sees: ops and priv point into this struct */
	union {
		struct moat_vtd_unit vtd;     /* MOAT_VENDOR_VTD */
		struct moat_amdvi_unit amdvi; /* MOAT_VENDOR_AMDVI */
	} hw;                           /* the vendor driver's own unit */
	struct moat_setup *setup;
	/* Bit per requester id (AMD-Vi: device-table index): the driver wrote a translating entry for
	 * it when the core attached a device. The auditor holds the live entries against it. */
	uint64_t attached[65536 / 64];
};

/* What bring-up chose, in vendor-neutral terms (for logs and for the host's own checks). */
struct moat_setup_caps {
	enum moat_vendor vendor;
	unsigned units;
	unsigned levels;                /* page-table levels of every domain */
	unsigned address_width;         /* IOVA bits every domain can translate (input width, MGAW) */
	unsigned page_sizes;            /* MOAT_PT_PAGE_*: leaf sizes the tables use */
	bool coherent;                  /* every unit snoops CPU caches when it walks (no flushes) */
	bool caching_mode;              /* some unit may cache not-present entries: maps invalidate too */
	bool queued_invalidation;       /* every unit invalidates through a queue */
	uint32_t domain_id_min, domain_id_max;
	unsigned fault_records;         /* fault records of the unit that has the fewest */
	bool intr_remap;                /* moat_setup_irq() turned interrupt remapping on */
	uint32_t intr_flags;            /* its MOAT_SETUP_IRQ_* flags */
};

struct moat_setup {
	/* The core system. Public: pass &setup->sys to every moat_* call once moat_setup_init()
	 * returned MOAT_OK. */
	struct moat_system sys;
	struct moat_setup_caps caps;
	/* private */
	uint32_t magic;
	const struct moat_sysdesc *desc;
	struct moat_setup_unit *units;
	unsigned cap, count;
	bool enabled;
};

/*
 * moat_setup_init() - probe every unit of @desc with its vendor's driver (into @units, an array of
 * @cap entries), negotiate the page-table configuration they all support, initialize @s->sys with
 * it (@desc routes devices to units and names reserved regions: it must stay valid as long as
 * @s), and add every unit to the system. Nothing is written to the hardware: every unit is left as
 * firmware left it until moat_setup_enable().
 * Negotiation (VT-d): the fewest page-table levels whose width covers @address_width bits among
 * the levels every unit supports (@address_width 0: the widest they all support), the superpages
 * every unit supports, cache flushes unless every unit walks coherently, invalidation after maps
 * on units with caching mode, domain ids every unit can hold (0 never used).
 * Negotiation (AMD-Vi): AMD v1 tables with the fewest levels whose width (12 + 9 * levels bits)
 * covers @address_width among the levels every unit walks (EFR.HATS; @address_width 0: the most,
 * 6 levels and 64 bits on a unit with HATS 2), 2 MiB and 1 GiB pages where the levels hold them,
 * cache flushes unless every IVHD says Coherent, invalidation after maps on every unit (the
 * NpCache bit is not in the IVRS), domain ids 1..65535 (0 marks the blocking entries), fault
 * records: the event log's 255 usable entries. Each unit gets a device table of 65536 entries,
 * every one valid (blocking until a device is attached).
 * Every unit's registers, as its driver maps them (VT-d: the DRHD size, at least a page; AMD-Vi:
 * 16 KiB), go into the protection registry.
 * @s may hold anything but a live bring-up (that one would be forgotten, not torn down).
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL argument, @cap 0, a description without units or
 * whose counts exceed its capacities, @address_width above 64); MOAT_ERR_NO_SPACE (@desc has more
 * units than @cap, or more than 64 units of one vendor, or more units than the registry holds);
 * MOAT_ERR_UNSUPPORTED (a vendor this bring-up cannot drive, mixed vendors, or units that share no
 * page-table level); a driver's probe error (MOAT_ERR_HARDWARE: a unit whose registers do not
 * answer, ...). @diag says which unit. On error every unit probed is released and
 * @s is left uninitialized.
 */
moat_status moat_setup_init(struct moat_setup *s, struct moat_setup_unit *units, unsigned cap,
			    const struct moat_sysdesc *desc, unsigned address_width, struct moat_diag *diag);

/*
 * moat_setup_enable() - turn translation on in every unit: from then on a device without a domain
 * cannot reach memory (default deny), and devices attached before keep their domain. Every page a
 * driver holds (root and context tables, queues, status words, device table, event log), now and
 * later (e.g. a context table for a new bus during moat_domain_attach()), is a trusted page of the
 * core: Moat-owned, out of every domain with that invalidated, zeroed before the driver writes it.
 * Returns MOAT_OK (also when already enabled); MOAT_ERR_INVALID_ARG (not initialized);
 * MOAT_ERR_NO_MEMORY; MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (a unit did not take a command: @diag
 * names it). On error the units enabled by this call are turned off again.
 */
moat_status moat_setup_enable(struct moat_setup *s, struct moat_diag *diag);

/* ---------------------------------------------------------------------------------------------
 * Interrupt remapping
 * ------------------------------------------------------------------------------------------- */

/* struct moat_setup_irq_config flags */
#define MOAT_SETUP_IRQ_X2APIC        0x01u  /* 32-bit x2APIC destinations (VT-d EIM; AMD-Vi GA and XT) */
#define MOAT_SETUP_IRQ_ALLOW_COMPAT  0x02u  /* VT-d: let compatibility-format interrupts through
					       (GCMD.CFI): they are not remapped, so any device can
					       forge them. Off by default */
#define MOAT_SETUP_IRQ_ALLOW_UNNAMED 0x04u  /* go on although an IOAPIC or HPET of the host is named
					       by no DMAR scope or IVRS entry (logged) */
#define MOAT_SETUP_IRQ_WIDE          0x08u  /* AMD-Vi: 128-bit (GA-mode) entries for xAPIC
					       destinations too */
#define MOAT_SETUP_IRQ_FLAGS         0x0fu

/* What the host chooses for interrupt remapping (moat_setup_irq()). */
struct moat_setup_irq_config {
	uint32_t flags;                 /* MOAT_SETUP_IRQ_* */
	uint32_t entries;               /* VT-d: entries of each unit's table (a power of two, 2 to
					   65536; 0: 256, one page) */
	uint32_t device_entries;        /* AMD-Vi: entries of each device's table (a power of two, up
					   to 1024, 256 in GA mode; 0: 512, 256 in GA mode) */
	/* Every IOAPIC and HPET the host uses: IOAPIC ids from the MADT, HPET numbers from the HPET
	 * tables. Each must be named by the DMAR (device scope) or IVRS (special entry), or its
	 * interrupts cannot be told from a device's forgery. */
	const uint8_t *ioapic_ids;
	unsigned ioapic_count;
	const uint8_t *hpet_ids;
	unsigned hpet_count;
};

/*
 * moat_setup_irq() - turn interrupt remapping on in every unit, after moat_setup_enable(): from
 * then on no interrupt is delivered unless moat_irq_alloc() (moat/irq.h) made an entry for it, and
 * compatibility-format interrupts are blocked (unless MOAT_SETUP_IRQ_ALLOW_COMPAT). Fail closed:
 * every check is made before any unit is touched, and either every unit remaps or none does.
 *  - Each IOAPIC id and HPET number of @cfg must be named by a device scope (DMAR) or special
 *    entry (IVRS) whose source id is known; one that is not makes remapping unsafe (its
 *    interrupts would be blocked, or had to be let through unchecked). Bring-up refuses, with an
 *    error log line and @diag naming it, unless MOAT_SETUP_IRQ_ALLOW_UNNAMED (then a warning).
 *  - VT-d: a table of cfg->entries per unit (physically contiguous, aligned to its size, from
 *    the core's trusted pages); needs ECAP.IR and queued invalidation on every unit, ECAP.EIM for
 *    MOAT_SETUP_IRQ_X2APIC.
 *  - AMD-Vi: every device-table entry of every unit gets IV = 1 and blocks until a device gets a
 *    table at its first interrupt; the IVHD setting bytes' pass bits are applied; GA mode for
 *    MOAT_SETUP_IRQ_X2APIC (needs EFR.GASup and XTSup) or MOAT_SETUP_IRQ_WIDE (GASup).
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (not initialized, NULL @cfg, unknown flags, bad sizes,
 * NULL id arrays with counts); MOAT_ERR_STATE (not enabled, or remapping already on);
 * MOAT_ERR_NOT_FOUND (an IOAPIC or HPET no scope names, without MOAT_SETUP_IRQ_ALLOW_UNNAMED);
 * MOAT_ERR_UNSUPPORTED (a unit without interrupt remapping or without what the flags need);
 * MOAT_ERR_NO_MEMORY; MOAT_ERR_TIMEOUT / MOAT_ERR_HARDWARE (a unit did not take it: the units
 * turned on by this call are turned off again). @diag names the unit or the IOAPIC/HPET.
 */
moat_status moat_setup_irq(struct moat_setup *s, const struct moat_setup_irq_config *cfg, struct moat_diag *diag);

/*
 * moat_setup_fini() - tear down: turn interrupt remapping and translation off in every unit
 * (devices then reach memory untranslated, interrupts pass unremapped) and release it (its
 * pages go back to the core), then end the core system (every page goes back to the platform). Every domain must have been destroyed first (detach devices,
 * moat_domain_destroy()). Fault records still pending are dropped.
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (not initialized); MOAT_ERR_BUSY (domains remain: nothing
 * was done); MOAT_ERR_TIMEOUT (a unit did not turn off: the units before it are off and released,
 * that unit and those after it keep their pages and stay enabled, the system stays; call again to
 * retry them).
 */
moat_status moat_setup_fini(struct moat_setup *s, struct moat_diag *diag);

/*
 * moat_setup_unit_describe() - one line in plain words about unit @index of @s, e.g.
 * "VT-d 1.0 unit at 0xfed90000: 3-level tables (39-bit addresses), 2 MiB and 1 GiB pages, 1 fault
 * record, queued invalidation, walks do not snoop caches (tables are flushed)", into @buf of @size
 * bytes (always NUL-terminated when @size > 0). Returns the length the full line has, or -1 when
 * @index is not a unit of @s.
 */
int moat_setup_unit_describe(const struct moat_setup *s, unsigned index, char *buf, size_t size);

/*
 * moat_setup_driver_pages() - the number of pages the drivers hold (root and context tables,
 * device tables, queues, status words): Moat-owned, in moat_owned_pages() too.
 */
unsigned moat_setup_driver_pages(const struct moat_setup *s);

/*
 * moat_setup_driver_page() - the physical address of driver page @index (0 to
 * moat_setup_driver_pages() - 1, in unit order), e.g. to check that each is out of every domain.
 * Returns MOAT_OK; MOAT_ERR_NOT_FOUND (@index past the last page); MOAT_ERR_INVALID_ARG (not
 * initialized, NULL @phys).
 */
moat_status moat_setup_driver_page(const struct moat_setup *s, unsigned index, uint64_t *phys);

/* ---------------------------------------------------------------------------------------------
 * Explaining faults
 * ------------------------------------------------------------------------------------------- */

/* Where a faulting address stands in a domain (moat_setup_fault_near()). */
struct moat_fault_near {
	bool mapped;                    /* the address translates now (the access lacked permission,
					   or the mapping came after the fault) */
	uint64_t phys;                  /* mapped: where it goes */
	unsigned prot;                  /* mapped: MOAT_PT_READ/WRITE */
	bool below, above;              /* a mapping was found below / above the address */
	uint64_t below_iova, below_size, below_phys;   /* the leaf nearest below (iova, bytes, output) */
	uint64_t above_iova, above_size, above_phys;   /* the leaf nearest above */
};

/* How far moat_setup_fault_near() looks on each side of the address. */
#define MOAT_SETUP_NEAR_WINDOW (2ull << 20)

/*
 * moat_setup_fault_near() - what domain @dom maps at and around @addr: whether @addr translates,
 * and the nearest leaf below and above it within MOAT_SETUP_NEAR_WINDOW bytes, looked up in the
 * live tables (moat_domain_translate(), one page at a time: at most 2 * 512 lookups).
 * Returns MOAT_OK; MOAT_ERR_INVALID_ARG (NULL or dead domain, NULL @out, @addr past the domain's
 * input width).
 */
moat_status moat_setup_fault_near(struct moat_domain *dom, uint64_t addr, struct moat_fault_near *out);

/*
 * moat_setup_fault_format() - one readable line about fault @f into @buf (@size bytes, always
 * NUL-terminated when @size > 0), e.g. "0000:00:02.0 write at 0x7fe000 blocked: write to a page
 * not mapped writable (or not mapped) [bad address], device in domain 1; nearest mapping below
 * 0x7fd000 (4 KiB -> 0x7fd000)". @near (from moat_setup_fault_near(), may be NULL) adds what the
 * domain maps there and nearby. Returns the length of the line written to @buf were it large
 * enough (as snprintf; the line itself is at most 479 bytes).
 */
int moat_setup_fault_format(const struct moat_fault *f, const struct moat_fault_near *near, char *buf,
			    size_t size);

#ifdef __cplusplus
}
#endif

#endif
