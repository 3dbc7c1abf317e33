/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the AMD-Vi driver's sources only. */
#ifndef MOAT_SRC_AMDVI_INTERNAL_H
#define MOAT_SRC_AMDVI_INTERNAL_H

#include <moat/amdvi.h>
#include <moat/internal/amdvi_regs.h>
#include <moat/internal/lib.h>
#include <moat/ivrs.h>

/* Iteration bound of a wait, in case the platform clock does not advance. */
#define MOAT_AMDVI_WAIT_ITERATIONS (1u << 24)

MOAT_STATIC_ASSERT(MOAT_AMDVI_DEVTAB_MAX_PAGES == AMDVI_DEVTAB_MAX_PAGES, "device table pages");
MOAT_STATIC_ASSERT(MOAT_AMDVI_DTE_PER_PAGE == AMDVI_DTE_PER_PAGE, "entries per page");
MOAT_STATIC_ASSERT(MOAT_AMDVI_RING_ENTRIES == AMDVI_RING_ENTRIES, "ring entries");
MOAT_STATIC_ASSERT(AMDVI_RING_ENTRIES * AMDVI_RING_ENTRY_SIZE == MOAT_PAGE_SIZE, "a ring is one page");

static inline uint64_t moat_amdvii_read(const struct moat_amdvi_unit *u, uint32_t off)
{
	return moat_plat_mmio_read64((volatile unsigned char *)u->regs + off);
}

static inline void moat_amdvii_write(const struct moat_amdvi_unit *u, uint32_t off, uint64_t v)
{
	moat_plat_mmio_write64((volatile unsigned char *)u->regs + off, v);
}

static inline bool moat_amdvii_probed(const struct moat_amdvi_unit *u)
{
	return u && u->state == MOAT_AMDVI_PROBED;
}

/* Deadline helper for bounded loops: true while the wait may go on. */
bool moat_amdvii_waiting(const struct moat_amdvi_unit *u, uint64_t start, uint32_t iteration);

/* Poll a register until (value & mask) == want, bounded by u->timeout_ns. @what names the
 * register and bit for the diagnostic, e.g. "Status.CmdBufRun set". */
moat_status moat_amdvii_wait(struct moat_amdvi_unit *u, uint32_t off, uint64_t mask, uint64_t want,
			     const char *what, struct moat_diag *diag);

/* Make @len bytes at @p visible to a non-coherent IOMMU (one flush per line, then a barrier); only
 * a barrier on a coherent unit. */
void moat_amdvii_flush_range(const struct moat_amdvi_unit *u, const volatile void *p, size_t len);

/* Before the CPU reads memory the IOMMU wrote: on a non-coherent unit, drop the stale lines. */
void moat_amdvii_refresh_range(const struct moat_amdvi_unit *u, const volatile void *p, size_t len);

/* Device table (devtab.c). */
moat_status moat_amdvii_devtab_init(struct moat_amdvi_unit *u, struct moat_diag *diag);
void moat_amdvii_devtab_free(struct moat_amdvi_unit *u);
volatile uint64_t *moat_amdvii_dte(const struct moat_amdvi_unit *u, uint32_t devid);
/* Interrupt fields (quadword 2, pass bits kept) of every entry of @rid's alias group; and their
 * invalidation (device-table entries, interrupt tables), completion waited for. */
void moat_amdvii_group_set_irq(const struct moat_amdvi_unit *u, uint32_t rid, uint64_t q2);
moat_status moat_amdvii_group_inval_irq(struct moat_amdvi_unit *u, uint32_t rid, bool dte, bool irt,
					struct moat_diag *diag);

/* Command buffer (cmd.c). */
moat_status moat_amdvii_cmd_init(struct moat_amdvi_unit *u, struct moat_diag *diag);
void moat_amdvii_cmd_free(struct moat_amdvi_unit *u);
/* Queue one command (published to the hardware when the ring fills or at the next sync). */
moat_status moat_amdvii_cmd_put(struct moat_amdvi_unit *u, uint64_t lo, uint64_t hi, struct moat_diag *diag);
/* Queue COMPLETION_WAIT, publish the tail and wait for the store. */
moat_status moat_amdvii_cmd_sync(struct moat_amdvi_unit *u, struct moat_diag *diag);
/* Command encodings. */
uint64_t moat_amdvii_cmd_inval_dte(uint16_t devid);
uint64_t moat_amdvii_cmd_inval_irt(uint16_t devid);
void moat_amdvii_cmd_inval_pages(uint16_t did, uint64_t addr, unsigned order, bool pde, uint64_t cmd[2]);
/* Queue the invalidation of everything (IA or per-entry/per-domain fallback), no sync. */
moat_status moat_amdvii_queue_inval_all(struct moat_amdvi_unit *u, struct moat_diag *diag);

/* Interrupt remapping tables (irq.c): give them back (remapping off). */
void moat_amdvii_ir_free(struct moat_amdvi_unit *u);

/* Event log (event.c). */
moat_status moat_amdvii_evt_init(struct moat_amdvi_unit *u, struct moat_diag *diag);
void moat_amdvii_evt_free(struct moat_amdvi_unit *u);

#endif
