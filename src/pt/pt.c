/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Page-table instances: set-up, tear-down, lookups and the walk an auditor uses. The changing
 * operations (map, unmap) are in pt_update.c; the entry bits of each format in fmt_*.c.
 */
#include <moat/internal/lib.h>
#include <moat/pages.h>
#include <moat/platform.h>
#include <moat/pt.h>

#include "pt_format.h"

/* ---- platform-backed ops ---- */

static void *plat_alloc(void *cookie, uint64_t *phys)
{
	(void)cookie;
	return moat_pages_alloc(NULL, phys);
}

static void plat_free(void *cookie, void *virt, uint64_t phys)
{
	(void)cookie;
	moat_pages_free(NULL, virt, phys);
}

static void *plat_phys_to_virt(void *cookie, uint64_t phys)
{
	(void)cookie;
	return moat_plat_phys_to_virt(phys);
}

static void plat_flush_line(void *cookie, const void *virt)
{
	(void)cookie;
	moat_plat_flush_cache_line(virt);
}

static void plat_flush_done(void *cookie)
{
	(void)cookie;
	moat_plat_wmb();
}

struct moat_pt_ops moat_pt_platform_ops(void)
{
	struct moat_pt_ops ops = {
		.alloc = plat_alloc,
		.free = plat_free,
		.phys_to_virt = plat_phys_to_virt,
		.flush_line = plat_flush_line,
		.flush_done = plat_flush_done,
		.cookie = NULL,
	};
	return ops;
}

/* ---- instances ---- */

static const struct moat_pt_format_desc *pt_format_of(enum moat_pt_format f)
{
	switch (f) {
	case MOAT_PT_VTD_SL:
		return &moat_pt_format_vtd_sl;
	case MOAT_PT_AMD_V1:
		return &moat_pt_format_amd_v1;
	}
	return NULL;
}

moat_status moat_pt_init(struct moat_pt *pt, const struct moat_pt_config *cfg, const struct moat_pt_ops *ops)
{
	const struct moat_pt_format_desc *fmt;
	const unsigned all_sizes = MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M | MOAT_PT_PAGE_1G;
	unsigned leaf_levels = 1u << 1;
	uint64_t phys;
	void *root;

	if (!pt || !cfg || !ops)
		return MOAT_ERR_INVALID_ARG;
	moat_memset(pt, 0, sizeof(*pt));
	fmt = pt_format_of(cfg->format);
	if (!fmt || cfg->levels < fmt->min_levels || cfg->levels > fmt->max_levels)
		return MOAT_ERR_INVALID_ARG;
	if (!(cfg->page_sizes & MOAT_PT_PAGE_4K) || (cfg->page_sizes & ~all_sizes) ||
	    ((cfg->page_sizes & MOAT_PT_PAGE_1G) && !(cfg->page_sizes & MOAT_PT_PAGE_2M)))
		return MOAT_ERR_INVALID_ARG;
	if (!ops->alloc || !ops->free || !ops->phys_to_virt)
		return MOAT_ERR_INVALID_ARG;
	if (!cfg->coherent && (!ops->flush_line || !ops->flush_done))
		return MOAT_ERR_INVALID_ARG;

	if (cfg->page_sizes & MOAT_PT_PAGE_2M)
		leaf_levels |= 1u << 2;
	if (cfg->page_sizes & MOAT_PT_PAGE_1G)
		leaf_levels |= 1u << 3;
	/* Levels above the root do not exist. */
	leaf_levels &= fmt->leaf_levels & ((2u << cfg->levels) - 1u);

	root = ops->alloc(ops->cookie, &phys);
	if (!root)
		return MOAT_ERR_NO_MEMORY;
	if ((phys & (MOAT_PAGE_SIZE - 1)) || (phys & ~fmt->addr_mask) ||
	    ((uintptr_t)root & (MOAT_PAGE_SIZE - 1))) {
		ops->free(ops->cookie, root, phys);
		return MOAT_ERR_UNSUPPORTED;
	}

	pt->root = root;
	pt->root_phys = phys;
	pt->cfg = *cfg;
	pt->ops = *ops;
	pt->fmt = fmt;
	pt->leaf_levels = leaf_levels;
	pt->table_pages = 1;
	pt->iova_bits = MOAT_MIN(64u, pt_shift(cfg->levels) + 9u);
	pt->iova_last = pt->iova_bits == 64 ? ~0ull : (1ull << pt->iova_bits) - 1;

	if (!cfg->coherent) {
		/* The zeroes the allocator wrote must reach memory before the root is handed out. */
		for (unsigned i = 0; i < PT_ENTRIES; i += PT_LINE_ENTRIES)
			ops->flush_line(ops->cookie, (const uint64_t *)root + i);
		ops->flush_done(ops->cookie);
	}
	return MOAT_OK;
}

/* Free the table @tbl at @level and everything below it. @path holds the tables above it. */
static void destroy_table(struct moat_pt *pt, uint64_t *tbl, uint64_t phys, unsigned level, uint64_t *path,
			  unsigned depth)
{
	const struct moat_pt_format_desc *fmt = pt->fmt;

	path[depth] = phys;
	for (unsigned i = 0; level > 1 && i < PT_ENTRIES; i++) {
		uint64_t addr;
		unsigned prot;
		void *child;
		bool loop = false;

		if (fmt->decode(tbl[i], level, &addr, &prot) != PT_TABLE)
			continue;
		for (unsigned d = 0; d <= depth; d++)
			loop |= path[d] == addr;
		child = loop ? NULL : pt_virt(pt, addr);
		if (child)
			destroy_table(pt, child, addr, level - 1, path, depth + 1);
	}
	pt->ops.free(pt->ops.cookie, tbl, phys);
}

void moat_pt_destroy(struct moat_pt *pt)
{
	uint64_t path[MOAT_PT_MAX_LEVELS];

	if (!pt || !pt->root)
		return;
	destroy_table(pt, pt->root, pt->root_phys, pt->cfg.levels, path, 0);
	pt->leaf.key = 0;
	pt->root = NULL;
	pt->root_phys = 0;
	pt->table_pages = 0;
}

uint64_t moat_pt_table_pages(const struct moat_pt *pt)
{
	return pt ? pt->table_pages : 0;
}

/* ---- gathers ---- */

void moat_pt_gather_init(struct moat_pt_gather *g)
{
	moat_memset(g, 0, sizeof(*g));
}

void moat_pt_gather_release(struct moat_pt *pt, struct moat_pt_gather *g)
{
	while (g->pages) {
		uint64_t *page = g->pages;
		uint64_t phys = g->pages_phys;

		g->pages = (void *)(uintptr_t)page[0];
		g->pages_phys = page[1];
		pt->ops.free(pt->ops.cookie, page, phys);
	}
	moat_pt_gather_init(g);
}

/* ---- lookups ---- */

moat_status moat_pt_translate(const struct moat_pt *pt, uint64_t iova, uint64_t *phys, unsigned *prot,
			      uint64_t *leaf_size)
{
	uint64_t path[MOAT_PT_MAX_LEVELS + 1];
	const uint64_t *tbl;
	unsigned allowed = MOAT_PT_RW;

	if (!pt || !pt->root || iova > pt->iova_last)
		return MOAT_ERR_INVALID_ARG;
	tbl = pt->root;
	path[pt->cfg.levels] = pt->root_phys;
	for (unsigned level = pt->cfg.levels; level >= 1; level--) {
		uint64_t addr = 0, size = pt_entry_size(level);
		unsigned p = 0;

		switch (pt->fmt->decode(tbl[pt_index(iova, level)], level, &addr, &p)) {
		case PT_EMPTY:
			return MOAT_ERR_NOT_FOUND;
		case PT_LEAF:
			if (phys)
				*phys = addr + (iova & (size - 1));
			if (prot)
				*prot = allowed & p;
			if (leaf_size)
				*leaf_size = size;
			return MOAT_OK;
		case PT_TABLE:
			/* A link back to a table on the path is corruption, as in the walk. */
			for (unsigned l = level; l <= pt->cfg.levels; l++)
				if (path[l] == addr)
					return MOAT_ERR_MALFORMED;
			allowed &= p;
			tbl = pt_virt(pt, addr);
			if (!tbl)
				return MOAT_ERR_MALFORMED;
			path[level - 1] = addr;
			break;
		case PT_BAD:
			return MOAT_ERR_MALFORMED;
		}
	}
	return MOAT_ERR_MALFORMED;
}

struct walk_frame {
	const uint64_t *tbl;
	uint64_t phys;
	uint64_t iova;     /* first IOVA of the table */
	unsigned next;     /* next entry to visit */
	unsigned count;    /* entries in the table */
	unsigned allowed;  /* permissions of the links above */
};

moat_status moat_pt_walk(const struct moat_pt *pt, const struct moat_pt_walk_ops *w, void *ctx)
{
	struct walk_frame stack[MOAT_PT_MAX_LEVELS];
	const unsigned top = pt ? pt->cfg.levels : 0;
	unsigned depth = 0;
	moat_status st;

	if (!pt || !w || !pt->root)
		return MOAT_ERR_INVALID_ARG;
	stack[0] = (struct walk_frame){ pt->root, pt->root_phys, 0, 0, pt_root_entries(pt), MOAT_PT_RW };
	if (w->table && (st = w->table(ctx, pt->root_phys, pt->root, top, 0)) != MOAT_OK)
		return st;

	for (;;) {
		struct walk_frame *f = &stack[depth];
		const unsigned level = top - depth;
		uint64_t v, iova, addr = 0;
		unsigned prot = 0, i;
		const uint64_t *child;
		bool loop = false;

		if (f->next == f->count) {
			if (depth == 0)
				return MOAT_OK;
			depth--;
			continue;
		}
		i = f->next++;
		v = f->tbl[i];
		iova = f->iova + (uint64_t)i * pt_entry_size(level);
		switch (pt->fmt->decode(v, level, &addr, &prot)) {
		case PT_EMPTY:
			continue;
		case PT_LEAF:
			st = MOAT_OK;
			if (w->leaf)
				st = w->leaf(ctx, iova, addr, pt_entry_size(level), prot & f->allowed);
			break;
		case PT_TABLE:
			for (unsigned d = 0; d <= depth; d++)
				loop |= stack[d].phys == addr;
			child = loop ? NULL : pt_virt(pt, addr);
			if (!child || depth + 1 >= MOAT_PT_MAX_LEVELS) {
				st = w->bad_entry ? w->bad_entry(ctx, iova, level, v) : MOAT_OK;
				break;
			}
			st = w->table ? w->table(ctx, addr, child, level - 1, iova) : MOAT_OK;
			prot &= f->allowed;
			stack[++depth] = (struct walk_frame){ child, addr, iova, 0, PT_ENTRIES, prot };
			break;
		default:
			st = w->bad_entry ? w->bad_entry(ctx, iova, level, v) : MOAT_OK;
			break;
		}
		if (st != MOAT_OK)
			return st;
	}
}
