/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Moat-owned pages: a sparse radix tree over physical frame numbers (frames below 2^40, addresses
 * below 2^52), whose nodes are pages from the platform and are themselves marked owned.
 *
 *   sys->track.top[frame >> 39]          two roots, in the system object
 *   node, depth 1: entries by bits 38..30 a 4 KiB page of 512 child physical addresses (0: none)
 *   node, depth 2: entries by bits 29..21
 *   node, depth 3: entries by bits 20..12
 *   leaf:          bits 11..0            one bitmap of 4096 frames per kind (8 x 512 bytes)
 *
 * Range queries descend only into present children and scan leaf bitmaps a word at a time, so a
 * query over 1 TiB costs a few hundred steps plus the leaves that exist. Nodes are kept until the
 * system ends (one leaf per 16 MiB that ever held an owned page).
 */
#include "core_internal.h"

#define LEAF_FRAMES 4096u
#define LEAF_WORDS (LEAF_FRAMES / 64u)   /* words of one kind's bitmap */
#define NODE_ENTRIES 512u
#define TOP_SHIFT 39u
#define DEPTH_LEAF 4u

MOAT_STATIC_ASSERT(TK_KINDS * LEAF_WORDS * 8u <= MOAT_PAGE_SIZE, "leaf bitmaps fit in one page");
MOAT_STATIC_ASSERT(MOAT_TRACK_TOP == (CORE_PFN_LIMIT >> TOP_SHIFT), "two roots cover 40-bit frames");

/* Shift of the frame bits that index a node at @depth (1..3). */
static inline unsigned node_shift(unsigned depth)
{
	return TOP_SHIFT - 9u * depth;
}

static inline uint64_t *node_virt(uint64_t phys)
{
	return moat_plat_phys_to_virt(phys);
}

static inline uint64_t *leaf_word(uint64_t *leaf, unsigned kind, uint64_t pfn)
{
	return &leaf[kind * LEAF_WORDS + ((pfn & (LEAF_FRAMES - 1)) >> 6)];
}

static inline uint64_t leaf_bit(uint64_t pfn)
{
	return 1ull << (pfn & 63);
}

/* The leaf of @pfn, or NULL when absent. */
#define LEAF_KEY(pfn) (((pfn) / LEAF_FRAMES) + 1u)

/* The leaf node of @pfn, or NULL. The last leaf looked up is cached: pages come in runs. */
static uint64_t *leaf_lookup(const struct moat_system *sys, uint64_t pfn)
{
	uint64_t phys;

	if (pfn >= CORE_PFN_LIMIT)
		return NULL;
	if (sys->track.leaf_key == LEAF_KEY(pfn))
		return sys->track.leaf_virt;
	phys = sys->track.top[pfn >> TOP_SHIFT];
	for (unsigned depth = 1; depth < DEPTH_LEAF && phys; depth++) {
		const uint64_t *node = node_virt(phys);

		if (!node)
			return NULL;
		phys = node[(pfn >> node_shift(depth)) & (NODE_ENTRIES - 1)];
	}
	return phys ? node_virt(phys) : NULL;
}

static uint64_t *leaf_find(struct moat_system *sys, uint64_t pfn)
{
	uint64_t *leaf = leaf_lookup(sys, pfn);

	if (leaf) {
		sys->track.leaf_key = LEAF_KEY(pfn);
		sys->track.leaf_virt = leaf;
	}
	return leaf;
}

static void count(struct moat_system *sys, unsigned kind, int delta)
{
	switch (kind) {
	case TK_OWNED:
		sys->track.owned += (uint64_t)(int64_t)delta;
		break;
	case TK_PENDING:
		sys->track.pending += (uint64_t)(int64_t)delta;
		if (!sys->track.pending)
			sys->track.pending_lo = UINT64_MAX;
		break;
	case TK_RESTORE:
		sys->track.restore += (uint64_t)(int64_t)delta;
		if (!sys->track.restore)
			sys->track.restore_lo = UINT64_MAX;
		break;
	default:
		break;
	}
}

/* Set the kinds of @mask on @pfn in @leaf; returns those that were not set before. */
static unsigned bits_set(struct moat_system *sys, uint64_t *leaf, uint64_t pfn, unsigned mask)
{
	unsigned changed = 0;

	for (unsigned k = 0; k < TK_KINDS; k++) {
		uint64_t *w = leaf_word(leaf, k, pfn);

		if ((mask & TK_BIT(k)) && !(*w & leaf_bit(pfn))) {
			__atomic_store_n(w, *w | leaf_bit(pfn), __ATOMIC_RELAXED);   /* read without the lock */
			count(sys, k, 1);
			changed |= TK_BIT(k);
		}
	}
	if (mask & TK_BIT(TK_OWNED)) {   /* read without the lock too */
		__atomic_store_n(&sys->track.owned_lo, MOAT_MIN(sys->track.owned_lo, pfn), __ATOMIC_RELAXED);
		__atomic_store_n(&sys->track.owned_hi, MOAT_MAX(sys->track.owned_hi, pfn), __ATOMIC_RELAXED);
	}
	if (changed & TK_BIT(TK_PENDING))
		sys->track.pending_lo = MOAT_MIN(sys->track.pending_lo, pfn);
	if (changed & TK_BIT(TK_RESTORE))
		sys->track.restore_lo = MOAT_MIN(sys->track.restore_lo, pfn);
	return changed;
}

/* Clear the kinds of @mask; returns those that were set before. */
static unsigned bits_clear(struct moat_system *sys, uint64_t *leaf, uint64_t pfn, unsigned mask)
{
	unsigned changed = 0;

	for (unsigned k = 0; k < TK_KINDS; k++) {
		uint64_t *w = leaf_word(leaf, k, pfn);

		if ((mask & TK_BIT(k)) && (*w & leaf_bit(pfn))) {
			__atomic_store_n(w, *w & ~leaf_bit(pfn), __ATOMIC_RELAXED);
			count(sys, k, -1);
			changed |= TK_BIT(k);
		}
	}
	return changed;
}

/* ---- marking, with undo ---- */

#define MARK_MAX_NODES 16u
#define MARK_MAX_WORK (MARK_MAX_NODES + 1u)

struct mark_op {
	/* nodes installed by this call, in order */
	uint64_t *slot[MARK_MAX_NODES];
	uint64_t node_phys[MARK_MAX_NODES];
	void *node_virt[MARK_MAX_NODES];
	bool node_pooled[MARK_MAX_NODES];   /* a trusted page of the pool (else the platform's) */
	unsigned nodes;
	/* frames to mark, in order; and what marking each changed */
	uint64_t pfn[MARK_MAX_WORK];
	unsigned mask[MARK_MAX_WORK];
	unsigned set[MARK_MAX_WORK], cleared[MARK_MAX_WORK];
	unsigned nwork, done;
};

/* Make sure every node on the path of @pfn exists; return its leaf. New nodes join op's work. */
static moat_status path_ensure(struct moat_system *sys, struct mark_op *op, uint64_t pfn, uint64_t **leaf)
{
	uint64_t *slot = &sys->track.top[pfn >> TOP_SHIFT];

	if (sys->track.leaf_key == LEAF_KEY(pfn)) {
		*leaf = sys->track.leaf_virt;
		return MOAT_OK;
	}
	for (unsigned depth = 1; depth <= DEPTH_LEAF; depth++) {
		uint64_t *node;

		if (!*slot) {
			uint64_t phys;
			bool pooled;
			void *virt;

			if (op->nodes == MARK_MAX_NODES || op->nwork == MARK_MAX_WORK)
				return MOAT_ERR_NO_MEMORY;
			/* zeroed, and no device can write it (pages.c) */
			virt = core_node_alloc(sys, &phys, &pooled);
			if (!virt)
				return MOAT_ERR_NO_MEMORY;
			__atomic_store_n(slot, phys, __ATOMIC_RELEASE);   /* the zeroed node first */
			op->slot[op->nodes] = slot;
			op->node_phys[op->nodes] = phys;
			op->node_virt[op->nodes] = virt;
			op->node_pooled[op->nodes] = pooled;
			op->nodes++;
			sys->track.nodes++;
			if (!pooled) {   /* a pool page is owned already */
				op->pfn[op->nwork] = phys >> CORE_PAGE_SHIFT;
				op->mask[op->nwork] = TK_BIT(TK_OWNED) | (sys->host ? TK_BIT(TK_PENDING) : 0);
				op->nwork++;
			}
		}
		node = node_virt(*slot);
		if (!node)
			return MOAT_ERR_STATE;
		if (depth == DEPTH_LEAF) {
			*leaf = node;
			sys->track.leaf_key = LEAF_KEY(pfn);
			sys->track.leaf_virt = node;
			return MOAT_OK;
		}
		slot = &node[(pfn >> node_shift(depth)) & (NODE_ENTRIES - 1)];
	}
	return MOAT_ERR_STATE;
}

static void mark_undo(struct moat_system *sys, struct mark_op *op)
{
	for (unsigned i = op->done; i-- > 0;) {
		uint64_t *leaf = leaf_find(sys, op->pfn[i]);

		if (!leaf)
			continue;
		bits_clear(sys, leaf, op->pfn[i], op->set[i]);
		bits_set(sys, leaf, op->pfn[i], op->cleared[i]);
	}
	if (!op->nodes)
		return;
	sys->track.leaf_key = 0;   /* the cached leaf may be one of them */
	core_prot_write_begin(sys);   /* a reader without the lock may be in them */
	for (unsigned i = op->nodes; i-- > 0;) {
		__atomic_store_n(op->slot[i], 0, __ATOMIC_RELAXED);
		core_node_free(sys, op->node_virt[i], op->node_phys[i], op->node_pooled[i]);
		sys->track.nodes--;
	}
	core_prot_write_end(sys);
}

moat_status track_mark(struct moat_system *sys, uint64_t pfn, unsigned mask)
{
	struct mark_op op;

	if (pfn >= CORE_PFN_LIMIT)
		return MOAT_ERR_INVALID_ARG;
	op.nodes = 0;
	op.done = 0;
	op.pfn[0] = pfn;
	op.mask[0] = mask;
	op.nwork = 1;
	while (op.done < op.nwork) {
		unsigned i = op.done;
		uint64_t *leaf = NULL;
		moat_status st = path_ensure(sys, &op, op.pfn[i], &leaf);

		if (st != MOAT_OK) {
			mark_undo(sys, &op);
			return st;
		}
		op.cleared[i] = 0;
		if ((op.mask[i] & TK_BIT(TK_OWNED)) && (*leaf_word(leaf, TK_RESTORE, op.pfn[i]) & leaf_bit(op.pfn[i]))) {
			/* Freed while out of the host domain and owned again before it went back. */
			op.cleared[i] = bits_clear(sys, leaf, op.pfn[i], TK_BIT(TK_RESTORE));
			op.mask[i] |= TK_BIT(TK_PUNCHED);
			op.mask[i] &= ~TK_BIT(TK_PENDING);
		}
		op.set[i] = bits_set(sys, leaf, op.pfn[i], op.mask[i]);
		op.done++;
	}
	return MOAT_OK;
}

void track_clear(struct moat_system *sys, uint64_t pfn, unsigned mask)
{
	uint64_t *leaf = leaf_find(sys, pfn);

	if (leaf)
		bits_clear(sys, leaf, pfn, mask);
}

bool track_set(struct moat_system *sys, uint64_t pfn, unsigned mask)
{
	uint64_t *leaf = leaf_find(sys, pfn);

	if (!leaf)
		return false;
	bits_set(sys, leaf, pfn, mask);
	return true;
}

bool track_test(const struct moat_system *sys, uint64_t pfn, enum track_kind kind)
{
	uint64_t *leaf = leaf_lookup(sys, pfn);

	return leaf && (*leaf_word(leaf, kind, pfn) & leaf_bit(pfn));
}

/* ---- range queries ---- */

struct next_q {
	unsigned kind, without;
	uint64_t lo, hi;     /* inclusive frame range */
	uint64_t found;
};

static bool leaf_next(const uint64_t *leaf, uint64_t base, struct next_q *q)
{
	unsigned lo = (unsigned)(MOAT_MAX(q->lo, base) - base);
	unsigned hi = (unsigned)(MOAT_MIN(q->hi, base + LEAF_FRAMES - 1) - base);

	for (unsigned w = lo >> 6; w <= hi >> 6; w++) {
		uint64_t word = leaf[q->kind * LEAF_WORDS + w];

		if (q->without < TK_KINDS)
			word &= ~leaf[q->without * LEAF_WORDS + w];
		if (w == lo >> 6)
			word &= ~0ull << (lo & 63);
		if (w == hi >> 6 && (hi & 63) != 63)
			word &= (1ull << ((hi & 63) + 1)) - 1;
		if (word) {
			q->found = base + w * 64u + (unsigned)__builtin_ctzll(word);
			return true;
		}
	}
	return false;
}

static bool node_next(uint64_t phys, unsigned depth, uint64_t base, struct next_q *q)
{
	const uint64_t *node = node_virt(phys);
	const unsigned shift = node_shift(depth);
	uint64_t first, last;

	if (!node)
		return false;
	first = (MOAT_MAX(q->lo, base) - base) >> shift;
	last = (q->hi - base) >> shift;
	if (last >= NODE_ENTRIES)
		last = NODE_ENTRIES - 1;
	for (uint64_t i = first; i <= last; i++) {
		uint64_t cbase = base + (i << shift);

		if (!node[i])
			continue;
		if (depth + 1 == DEPTH_LEAF) {
			const uint64_t *leaf = node_virt(node[i]);

			if (leaf && leaf_next(leaf, cbase, q))
				return true;
		} else if (node_next(node[i], depth + 1, cbase, q)) {
			return true;
		}
	}
	return false;
}

bool track_next(const struct moat_system *sys, enum track_kind kind, unsigned without, uint64_t first,
		uint64_t last, uint64_t *found)
{
	struct next_q q = { .kind = kind, .without = without, .lo = first, .hi = last };

	if (first >= CORE_PFN_LIMIT || first > last)
		return false;
	if (q.hi >= CORE_PFN_LIMIT)
		q.hi = CORE_PFN_LIMIT - 1;
	/* Start at the lowest frame that can hold the kind (the bounds the marks keep). */
	if (kind == TK_OWNED) {
		if (!sys->track.owned || q.lo > sys->track.owned_hi || q.hi < sys->track.owned_lo)
			return false;
		q.lo = MOAT_MAX(q.lo, sys->track.owned_lo);
	}
	if (kind == TK_PENDING) {
		if (!sys->track.pending)
			return false;
		q.lo = MOAT_MAX(q.lo, sys->track.pending_lo);
	}
	if (kind == TK_RESTORE) {
		if (!sys->track.restore)
			return false;
		q.lo = MOAT_MAX(q.lo, sys->track.restore_lo);
	}
	if (q.lo > q.hi)
		return false;
	/* The cached leaf first: the frames looked up last are where the next ones usually are. */
	if (sys->track.leaf_key == LEAF_KEY(q.lo)) {
		const uint64_t base = q.lo - (q.lo % LEAF_FRAMES);

		if (leaf_next(sys->track.leaf_virt, base, &q)) {
			*found = q.found;
			return true;
		}
		if (q.hi - base < LEAF_FRAMES)
			return false;
		q.lo = base + LEAF_FRAMES;
	}
	for (uint64_t t = q.lo >> TOP_SHIFT; t <= q.hi >> TOP_SHIFT; t++) {
		if (sys->track.top[t] && node_next(sys->track.top[t], 1, t << TOP_SHIFT, &q)) {
			*found = q.found;
			return true;
		}
	}
	return false;
}

/* ---- read without the lock ---- */

static const uint64_t *child_unlocked(const uint64_t *slot)
{
	const uint64_t phys = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	return phys ? node_virt(phys) : NULL;
}

bool track_owned_unlocked(const struct moat_system *sys, uint64_t first, uint64_t last)
{
	uint64_t pfn = first;

	/* no owned frame there (the common case: Moat's pages sit together): no walk */
	if (last < __atomic_load_n(&sys->track.owned_lo, __ATOMIC_RELAXED) ||
	    first > __atomic_load_n(&sys->track.owned_hi, __ATOMIC_RELAXED))
		return false;
	if (last >= CORE_PFN_LIMIT)
		last = CORE_PFN_LIMIT - 1;
	while (pfn <= last) {
		const uint64_t *node = child_unlocked(&sys->track.top[pfn >> TOP_SHIFT]);
		unsigned shift = TOP_SHIFT;   /* frames (log2) the absent node, or the leaf, covers */

		for (unsigned depth = 1; node && depth < DEPTH_LEAF; depth++) {
			shift = node_shift(depth);
			node = child_unlocked(&node[(pfn >> shift) & (NODE_ENTRIES - 1)]);
		}
		if (node) {
			const uint64_t base = pfn - pfn % LEAF_FRAMES;
			const unsigned lo = (unsigned)(pfn - base);
			const unsigned hi = (unsigned)(MOAT_MIN(last, base + LEAF_FRAMES - 1) - base);

			for (unsigned w = lo >> 6; w <= hi >> 6; w++) {
				uint64_t word = __atomic_load_n(&node[TK_OWNED * LEAF_WORDS + w], __ATOMIC_RELAXED);

				if (w == lo >> 6)
					word &= ~0ull << (lo & 63);
				if (w == hi >> 6 && (hi & 63) != 63)
					word &= (1ull << ((hi & 63) + 1)) - 1;
				if (word)
					return true;
			}
		}
		pfn = (pfn | ((1ull << shift) - 1)) + 1;
	}
	return false;
}

/* ---- whole-tree operations ---- */

/* Bits set in @w (no compiler helper: freestanding builds have no libgcc). */
static int bit_count(uint64_t w)
{
	int n = 0;

	for (; w; w &= w - 1)
		n++;
	return n;
}

static void node_clear_kind(struct moat_system *sys, uint64_t phys, unsigned depth, unsigned kind)
{
	uint64_t *node = node_virt(phys);

	if (!node)
		return;
	for (unsigned i = 0; i < NODE_ENTRIES; i++) {
		if (!node[i])
			continue;
		if (depth + 1 == DEPTH_LEAF) {
			uint64_t *leaf = node_virt(node[i]);

			for (unsigned w = 0; leaf && w < LEAF_WORDS; w++) {
				count(sys, kind, -bit_count(leaf[kind * LEAF_WORDS + w]));
				leaf[kind * LEAF_WORDS + w] = 0;
			}
		} else {
			node_clear_kind(sys, node[i], depth + 1, kind);
		}
	}
}

void track_clear_all(struct moat_system *sys, enum track_kind kind)
{
	for (unsigned t = 0; t < MOAT_TRACK_TOP; t++)
		if (sys->track.top[t])
			node_clear_kind(sys, sys->track.top[t], 1, kind);
}

static void node_free(struct moat_system *sys, uint64_t phys, unsigned depth)
{
	uint64_t *node = node_virt(phys);

	if (!node)
		return;
	for (unsigned i = 0; depth < DEPTH_LEAF && i < NODE_ENTRIES; i++)
		if (node[i])
			node_free(sys, node[i], depth + 1);
	moat_pages_free(NULL, node, phys);
	sys->track.nodes--;
}

void track_fini(struct moat_system *sys)
{
	for (unsigned t = 0; t < MOAT_TRACK_TOP; t++) {
		if (sys->track.top[t])
			node_free(sys, sys->track.top[t], 1);
		sys->track.top[t] = 0;
	}
	sys->track.owned = 0;
	sys->track.pending = 0;
	sys->track.restore = 0;
	__atomic_store_n(&sys->track.owned_lo, UINT64_MAX, __ATOMIC_RELAXED);
	__atomic_store_n(&sys->track.owned_hi, 0, __ATOMIC_RELAXED);
	sys->track.pending_lo = UINT64_MAX;
	sys->track.restore_lo = UINT64_MAX;
	sys->track.leaf_key = 0;
	sys->track.leaf_virt = NULL;
}
