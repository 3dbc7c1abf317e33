/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A page-table format, as the generic walker (pt.c) sees it: which levels exist, which may hold
 * leaves, and how an entry is built and read. Both formats use 512 eight-byte entries per 4 KiB
 * table and index level L with input-address bits 12 + 9 * (L - 1) and up, so only the entry
 * bits differ.
 *
 * The walker calls the builders once per table run (never per entry): a leaf entry is
 * leaf_bits(level, prot) | output address, a link is table_bits(level) | child address. decode()
 * is for reading (survey before a change, translate, walk) and must accept any 64-bit value.
 */
#ifndef MOAT_PT_FORMAT_H
#define MOAT_PT_FORMAT_H

#include <stdint.h>

#include <moat/config.h>
#include <moat/pt.h>

enum pt_kind {
	PT_EMPTY,  /* all zero: nothing mapped (the only not-present value the engine writes) */
	PT_TABLE,  /* a link to the next-level table */
	PT_LEAF,   /* a page of the level's size */
	PT_BAD,    /* anything else: not written by the engine, not to be followed */
};

struct moat_pt_format_desc {
	const char *name;
	unsigned min_levels, max_levels;
	unsigned leaf_levels;  /* bit L set: the format allows a leaf at level L */
	uint64_t addr_mask;    /* output-address / next-table field */
	/* Entry bits other than the address for a leaf at @level with MOAT_PT_READ/WRITE @prot. */
	uint64_t (*leaf_bits)(unsigned level, unsigned prot);
	/* Entry bits other than the address for a link at @level to a table of level @level - 1. */
	uint64_t (*table_bits)(unsigned level);
	/* Classify entry @e found at @level; for PT_TABLE and PT_LEAF fill *@addr and *@prot. */
	enum pt_kind (*decode)(uint64_t e, unsigned level, uint64_t *addr, unsigned *prot);
};

extern const struct moat_pt_format_desc moat_pt_format_vtd_sl;
extern const struct moat_pt_format_desc moat_pt_format_amd_v1;

/* Geometry shared by both formats. */
#define PT_ENTRIES      512u
#define PT_LINE_ENTRIES (MOAT_CACHE_LINE / 8u)

/* Lowest input-address bit a level-@level entry translates. */
static inline unsigned pt_shift(unsigned level)
{
	return 12u + 9u * (level - 1u);
}

/* Bytes one entry at @level covers (4 KiB, 2 MiB, 1 GiB, ...). */
static inline uint64_t pt_entry_size(unsigned level)
{
	return 1ull << pt_shift(level);
}

static inline unsigned pt_index(uint64_t iova, unsigned level)
{
	return (unsigned)(iova >> pt_shift(level)) & (PT_ENTRIES - 1u);
}

/* Entries the root of @pt uses: 512, fewer when the top level is capped (AMD 6 levels: 128). */
static inline unsigned pt_root_entries(const struct moat_pt *pt)
{
	unsigned bits = pt->iova_bits - pt_shift(pt->cfg.levels);

	return bits >= 9 ? PT_ENTRIES : 1u << bits;
}

static inline void *pt_virt(const struct moat_pt *pt, uint64_t phys)
{
	return pt->ops.phys_to_virt(pt->ops.cookie, phys);
}

#endif
