/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared by the VT-d driver's sources only. */
#ifndef MOAT_SRC_VTD_INTERNAL_H
#define MOAT_SRC_VTD_INTERNAL_H

#include <moat/internal/lib.h>
#include <moat/internal/vtd_regs.h>
#include <moat/vtd.h>

/* Iteration bound of a wait, in case the platform clock does not advance. */
#define MOAT_VTD_WAIT_ITERATIONS (1u << 24)

static inline uint32_t moat_vtdi_read32(const struct moat_vtd_unit *u, uint32_t off)
{
	return moat_plat_mmio_read32((volatile unsigned char *)u->regs + off);
}

static inline void moat_vtdi_write32(const struct moat_vtd_unit *u, uint32_t off, uint32_t v)
{
	moat_plat_mmio_write32((volatile unsigned char *)u->regs + off, v);
}

static inline uint64_t moat_vtdi_read64(const struct moat_vtd_unit *u, uint32_t off)
{
	return moat_plat_mmio_read64((volatile unsigned char *)u->regs + off);
}

static inline void moat_vtdi_write64(const struct moat_vtd_unit *u, uint32_t off, uint64_t v)
{
	moat_plat_mmio_write64((volatile unsigned char *)u->regs + off, v);
}

static inline bool moat_vtdi_probed(const struct moat_vtd_unit *u)
{
	return u && u->state == MOAT_VTD_PROBED;
}

/* Poll a register until (value & mask) == want, bounded by u->timeout_ns. @what names the
 * register and bit for the diagnostic, e.g. "GSTS.RTPS set". */
moat_status moat_vtdi_wait32(struct moat_vtd_unit *u, uint32_t off, uint32_t mask, uint32_t want,
			     const char *what, struct moat_diag *diag);
moat_status moat_vtdi_wait64(struct moat_vtd_unit *u, uint32_t off, uint64_t mask, uint64_t want,
			     const char *what, struct moat_diag *diag);

/* Deadline helper for other bounded loops: true while the wait may go on. */
bool moat_vtdi_waiting(const struct moat_vtd_unit *u, uint64_t start, uint32_t iteration);

/* Write one GCMD bit (persistent bits from GSTS kept, one-shot bits dropped) and wait for its status. */
moat_status moat_vtdi_gcmd(struct moat_vtd_unit *u, uint32_t bit, bool on, struct moat_diag *diag);

/* Write-buffer flush when the unit requires it (CAP.RWBF); no-op otherwise. */
moat_status moat_vtdi_flush_write_buffer(struct moat_vtd_unit *u, struct moat_diag *diag);

/* Make @len bytes at @p visible to a non-coherent walker (one flush per line, then a barrier);
 * only a barrier on a coherent unit. */
void moat_vtdi_flush_range(const struct moat_vtd_unit *u, const void *p, size_t len);

/* Root table (context.c). */
moat_status moat_vtdi_tables_init(struct moat_vtd_unit *u);
void moat_vtdi_tables_free(struct moat_vtd_unit *u);

/* Invalidation queue (inval.c): allocate pages, program IQA and enable QIE. */
moat_status moat_vtdi_qi_enable(struct moat_vtd_unit *u, struct moat_diag *diag);
void moat_vtdi_qi_free(struct moat_vtd_unit *u);

/* Context-cache and IOTLB invalidation after argument checks; a write-buffer flush first when @wbf
 * (callers that already flushed pass false). The public moat_vtd_flush_*() pass true. */
moat_status moat_vtdi_context_inval(struct moat_vtd_unit *u, enum moat_vtd_gran gran, uint32_t did, uint32_t sid,
				    unsigned fm, bool wbf, struct moat_diag *diag);
moat_status moat_vtdi_iotlb_inval(struct moat_vtd_unit *u, enum moat_vtd_gran gran, uint32_t did, uint64_t addr,
				  unsigned am, bool wbf, struct moat_diag *diag);

/* Interrupt remapping table and records (irq.c): give the pages back (remapping off). */
void moat_vtdi_ir_free(struct moat_vtd_unit *u);

/* The context entry of @rid, or NULL when its bus has no context table. */
uint64_t *moat_vtdi_context_entry(const struct moat_vtd_unit *u, uint16_t rid);

#endif
