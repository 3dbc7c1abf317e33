/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A hostile device for the host tests: a DMA-capable device attached to the host identity domain
 * (moat_protect_host()) that writes garbage and plausible IOMMU structures into every page it can
 * reach, at the moment the platform hands a page out and at seeded pseudo-random points later (the
 * hosted platform's hook, platform/hosted/hosted.h). It is what Moat promises to resist: every
 * page Moat or the IOMMU reads must be out of every domain, that removal invalidated, and then
 * zeroed or fully written, before its first use.
 *
 * What the device reaches is decided as the hardware would, from the live tables only (never a
 * driver's or the core's bookkeeping):
 *  - the hardware: simulated units (tests/vtd/sim_vtd.c, tests/amdvi/sim_amdvi.c) register
 *    themselves with hostile_hw_add(); the units of a watched system that are their own hardware
 *    (the core tests' null unit: the root the core gave attach()) through the ops given to
 *    hostile_watch();
 *  - the device: every requester whose entry translates through a watched system's host domain,
 *    and every requester whose entry the hardware passes through untranslated or through tables of
 *    no live domain (entries the device planted: it has many functions). Requesters of other
 *    domains are other devices. Nothing happens while no watched system has a host domain;
 *  - caching: what the device reached stays reachable through a unit until that unit completed an
 *    invalidation afterwards (any invalidation: the model is lenient, never stricter than the
 *    hardware), so a write between an unmap and its invalidation lands.
 * Only arena pages exist as memory; the device writes into pages the platform has handed out and
 * not taken back (moat_hosted_page_live()), into its own pages (moat_hosted_reserve_page()), and
 * never into free ones.
 *
 * Content (enum hostile_content): VT-d root entries present with a context-table pointer to the
 * device's own context table; context entries present with translation type pass-through (TT 2)
 * or translated through the device's own second-stage tables; second-stage and AMD v1 entries
 * present read/write, leaves and links, pointing at arena pages, at the device's tables and at
 * protected ranges; AMD-Vi device-table entries V = 1, TV = 1 with Mode 0 (pass-through) or a root
 * of the device's choosing, and V = 0; semaphore values above any the driver waits for; all ones
 * (bookkeeping bitmaps); garbage. Layouts: VT-d specification 4.x sections 9.1 (root entry), 9.3
 * (context entry), 9.8 (second-stage entries); AMD 48882 sections 2.2.2 (device table entry) and
 * 2.2.3 (I/O page tables).
 *
 * Hostile mode for whole suites: MOAT_HOSTILE=1 in the environment turns the device on at start-up
 * (content mixed per page, an action at one point in 8); MOAT_HOSTILE_SEED=<number> sets the seed
 * (printed when the device starts and with every violation). Tests that drive the device themselves
 * call hostile_start().
 *
 * Every function may be called from any thread; none may be called from the platform's hook.
 */
#ifndef MOAT_TEST_HOSTILE_H
#define MOAT_TEST_HOSTILE_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/internal/unit.h>
#include <moat/moat.h>
#include <moat/pt.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the device writes into a page (HOSTILE_MIX: one of the others, chosen per page). */
enum hostile_content {
	HOSTILE_MIX = 0,
	HOSTILE_GARBAGE,          /* pseudo-random bytes */
	HOSTILE_ONES,             /* all ones: full bitmaps, present-looking entries, huge counters */
	HOSTILE_VTD_ROOT,         /* root entries: present, context table = the device's own */
	HOSTILE_VTD_CONTEXT_PT,   /* context entries: present, pass-through, the host domain's root and id */
	HOSTILE_VTD_CONTEXT,      /* context entries: pass-through and translated through the device's tables */
	HOSTILE_VTD_SL,           /* second-stage entries: links to the device's tables and to protected
				     memory, leaves over arena pages and protected memory */
	HOSTILE_AMD_DTE,          /* device-table entries: Mode 0, the device's root, V = 0, the host's root */
	HOSTILE_AMD_PTE,          /* AMD v1 entries: links, leaves (next level 0 and 7) as for HOSTILE_VTD_SL */
	HOSTILE_SEMAPHORE,        /* values above any completion the driver waits for */
	HOSTILE_CONTENTS
};

/* A requester as a unit's live tables let it through. */
struct hostile_grant {
	uint32_t rid;                /* requester (device) id */
	bool pass;                   /* untranslated: all of memory, with @perm */
	unsigned perm;               /* MOAT_PT_READ | MOAT_PT_WRITE the entry allows */
	uint64_t root;               /* !pass: the page-table root */
	enum moat_pt_format format;  /* !pass: its format */
	unsigned levels;             /* !pass: its levels */
};

typedef void (*hostile_grant_fn)(void *ctx, const struct hostile_grant *g);

/* A piece of simulated hardware. Called with the model's lock held, possibly inside Moat's locked
 * sections: read the hardware's registers and memory, never call into Moat. */
struct hostile_hw_ops {
	/* Every requester the hardware lets through now (nothing while translation is off). */
	void (*grants)(void *hw, hostile_grant_fn fn, void *ctx);
	/* Invalidations the hardware has carried out so far (a counter that only grows). */
	uint64_t (*epoch)(void *hw);
	/* Optional: every page the hardware reads as a structure now (tables, queues, logs). */
	void (*uses)(void *hw, void (*fn)(void *ctx, uint64_t phys), void *ctx);
};

/* Register (or replace) hardware @hw, named @name in messages; hostile_hw_remove() before it is freed. */
void hostile_hw_add(void *hw, const struct hostile_hw_ops *ops, const char *name);
void hostile_hw_remove(void *hw);

/*
 * hostile_handover() - hardware @hw is given [@phys, @phys + @size) to use on its own, as @what (a
 * root table, a queue, a status word the IOMMU writes): simulators call it where a register write
 * (or a command) hands memory over. Moat promises the device reaches none of it then; every page it
 * does reach is recorded, and reported by hostile_check(). Not from the platform's hook.
 */
void hostile_handover(void *hw, uint64_t phys, uint64_t size, const char *what);
/* Pages handed over while within the device's reach, since hostile_start(). */
unsigned hostile_handovers(void);

/* Units of a watched system that are their own hardware (the null unit). grants() returns false for
 * a unit it does not know (one a simulator stands behind). */
struct hostile_unit_ops {
	bool (*grants)(struct moat_unit *u, hostile_grant_fn fn, void *ctx);
	uint64_t (*epoch)(struct moat_unit *u);
};

/*
 * hostile_watch() - the device looks at @sys: its host domain (the domain the device is attached
 * to), its domains (whose roots are no planted tables), its registry (targets of planted entries)
 * and, with @units, its units that are their own hardware. Fixtures call it for every system they
 * set up, hostile_unwatch() before the system goes away. Cheap when the device is off.
 */
void hostile_watch(struct moat_system *sys, const struct hostile_unit_ops *units);
void hostile_unwatch(struct moat_system *sys);

/* Forget every watched system, every piece of hardware, the handovers seen and what the device wrote
 * (tests/support/test.h calls it before each test: a test that failed half-way left them behind). */
void hostile_forget(void);

/* Turn the device on with MOAT_HOSTILE_SEED or the default seed (printed), or with @seed. */
void hostile_start(void);
void hostile_start_seed(uint64_t seed);
/* Turn it off (what it reached is forgotten; what it wrote stays). */
void hostile_stop(void);
bool hostile_active(void);
uint64_t hostile_seed(void);
/* What it writes (default HOSTILE_MIX), and how often it acts at a point besides the page being
 * handed out: at one point in @one_in (default 8 in hostile mode; 0: never; 1: at every point). */
void hostile_set_content(enum hostile_content c);
void hostile_set_rate(unsigned one_in);

/* A page the test allocated for itself: not Moat's, not a target of the probe. */
void hostile_ignore_page(uint64_t phys);

/*
 * What the device reaches now (live tables and what units may still have cached): whether @phys
 * can be accessed, and how (*@perm, may be NULL).
 */
bool hostile_reaches(uint64_t phys, unsigned *perm);
/* Whether the device ever wrote into the page of @phys since it was handed out. */
bool hostile_wrote(uint64_t phys);
/* Whether the page of @phys still holds content the device wrote (an 8-byte word, neither 0 nor all
 * ones, equal to what the device put there; its entries never equal one Moat writes): if the page is
 * in use, it was used without being zeroed or fully written. */
bool hostile_left_behind(uint64_t phys);
/* The requesters hardware @hw (a simulator, or a unit) lets through now, whoever they are: up to
 * @max ids into @rids; returns how many there are. */
unsigned hostile_requesters(void *hw, uint32_t *rids, unsigned max);

/*
 * hostile_check() - the hardware view against what must stay out of reach: every range the
 * registry of @sys protects and every Moat-owned page (moat_protect_check()), every page the
 * platform has handed out and not taken back (except the device's and those of
 * hostile_ignore_page()), must be neither readable nor writable by the device; no page was used by
 * the hardware (walked as a table of a watched system's domain or of the device's requesters, read
 * by a simulator as a structure, handed over) while it held what the device wrote, and none in use
 * now does (hostile_left_behind()); and no page was handed to the hardware while the device reached
 * it (hostile_handover()). Prints each violation (with the seed) to stderr and returns how many
 * there were; 0 when the device is off.
 */
unsigned hostile_check(struct moat_system *sys);

/* What the device did since it started. */
struct hostile_stats {
	uint64_t points;         /* hook calls with a host domain watched */
	uint64_t acts;           /* points at which it wrote into what it reaches */
	uint64_t pages_written;  /* pages it wrote into (handed-out pages included) */
	uint64_t given_written;  /* pages it wrote into as the platform handed them out */
};
struct hostile_stats hostile_stats(void);

#ifdef __cplusplus
}
#endif

#endif
