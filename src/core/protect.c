/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The protection registry: page-rounded ranges kept sorted by base, with the running maximum of
 * their last bytes, so the lowest range overlapping a query is found by binary search whatever
 * the overlaps between ranges. Queries of protected memory combine it with the Moat-owned pages.
 */
#include "core_internal.h"

/* Round [@base, @base + @size) out to pages as an inclusive range; false when empty or wrapping. */
static bool round_out(uint64_t base, uint64_t size, uint64_t *first, uint64_t *last)
{
	if (!size || base + (size - 1) < base)
		return false;
	*first = base & ~CORE_PAGE_MASK;
	*last = (base + (size - 1)) | CORE_PAGE_MASK;
	return true;
}

static void prot_reindex(struct moat_system *sys)
{
	uint64_t m = 0;

	for (unsigned i = 0; i < sys->prot_count; i++) {
		m = MOAT_MAX(m, core_prot_last(&sys->prot[i]));
		sys->prot_maxend[i] = m;
	}
}

int core_prot_find(const struct moat_system *sys, uint64_t first, uint64_t last)
{
	unsigned lo = 0, hi = sys->prot_count;

	/* The first index whose running maximum reaches @first: nothing before it can overlap. */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (sys->prot_maxend[mid] < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (unsigned i = lo; i < sys->prot_count && sys->prot[i].base <= last; i++)
		if (core_prot_last(&sys->prot[i]) >= first)
			return (int)i;
	return -1;
}

static void copy_label(char *dst, const char *src)
{
	unsigned i = 0;

	for (; src && src[i] && i < MOAT_PROTECT_LABEL_MAX - 1; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

moat_status core_prot_check(const struct moat_system *sys, uint64_t first, uint64_t last,
			    struct moat_protect_hit *hit)
{
	int i = core_prot_find(sys, first, last);
	uint64_t pfn = 0;
	bool owned = track_next(sys, TK_OWNED, TK_KINDS, first >> CORE_PAGE_SHIFT, last >> CORE_PAGE_SHIFT, &pfn);

	if (i < 0 && !owned)
		return MOAT_OK;
	if (hit) {
		moat_memset(hit, 0, sizeof(*hit));
		if (owned && (i < 0 || (pfn << CORE_PAGE_SHIFT) < sys->prot[i].base)) {
			hit->base = pfn << CORE_PAGE_SHIFT;
			hit->size = MOAT_PAGE_SIZE;
			hit->owned = true;
			copy_label(hit->label, track_test(sys, pfn, TK_TABLE) ? "moat page table" : "moat-owned");
		} else {
			hit->base = sys->prot[i].base;
			hit->size = sys->prot[i].size;
			copy_label(hit->label, sys->prot[i].label);
		}
	}
	return MOAT_ERR_PROTECTED;
}

/* ---- adding ---- */

struct mapped_q {
	uint64_t first, last;    /* the range being protected */
	uint64_t iova, phys;     /* the first leaf that maps it */
};

static moat_status mapped_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	struct mapped_q *q = ctx;

	(void)prot;
	if (phys > q->last || phys + (size - 1) < q->first)
		return MOAT_OK;
	q->iova = iova + (MOAT_MAX(phys, q->first) - phys);
	q->phys = MOAT_MAX(phys, q->first);
	return MOAT_END;
}

static void prot_insert(struct moat_system *sys, uint64_t first, uint64_t last, const char *label)
{
	unsigned i = sys->prot_count;

	while (i > 0 && sys->prot[i - 1].base > first) {
		sys->prot[i] = sys->prot[i - 1];
		i--;
	}
	sys->prot[i].base = first;
	sys->prot[i].size = last - first + 1;
	copy_label(sys->prot[i].label, label);
	sys->prot_count++;
	prot_reindex(sys);
}

moat_status moat_protect_add(struct moat_system *sys, uint64_t base, uint64_t size, const char *label,
			     struct moat_diag *diag)
{
	struct moat_pt_gather g;
	uint64_t first, last, unmapped = 0;
	struct moat_domain *host;
	struct moat_diag local;
	moat_status st = MOAT_OK;

	if (!diag)
		diag = &local;
	if (!core_sys_ok(sys))
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0, "not an initialized system");
	if (!round_out(base, size, &first, &last) || last - first == UINT64_MAX)
		return moat_diag_set(diag, MOAT_ERR_INVALID_ARG, NULL, 0,
				     "protected range 0x%llx + 0x%llx is empty or wraps", (unsigned long long)base,
				     (unsigned long long)size);
	core_lock(sys);
	core_prot_write_begin(sys);   /* before the walk: a DMA map racing it sees the count move */
	host = sys->host;
	if (sys->prot_count == MOAT_MAX_PROTECTED) {
		st = moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, 0, "protection registry full (%u ranges)",
				   (unsigned)MOAT_MAX_PROTECTED);
		goto out;
	}
	for (struct moat_domain *d = sys->domains; d; d = d->next) {
		const struct moat_pt_walk_ops w = { .leaf = mapped_leaf };
		struct mapped_q q = { .first = first, .last = last };
		moat_status wst;

		/* The host domain maps addresses to themselves only: it is punched, not searched. */
		if (d == host)
			continue;
		wst = moat_pt_walk(&d->pt, &w, &q);

		if (wst == MOAT_END) {
			st = moat_diag_set(diag, MOAT_ERR_OVERLAP, NULL, 0,
					   "cannot protect [0x%llx, 0x%llx] (%s): domain %u maps phys 0x%llx at iova 0x%llx",
					   (unsigned long long)first, (unsigned long long)last, label ? label : "",
					   (unsigned)d->id, (unsigned long long)q.phys, (unsigned long long)q.iova);
			moat_log(MOAT_LOG_WARN, "%s", diag->msg);
			goto out;
		}
		if (wst != MOAT_OK) {
			st = wst;
			goto out;
		}
	}
	moat_pt_gather_init(&g);
	if (host && first <= host->pt.iova_last) {
		uint64_t l = MOAT_MIN(last, host->pt.iova_last);

		for (unsigned tries = 0;;) {
			st = moat_pt_unmap_present(&host->pt, first, l - first + 1, &g, &unmapped);
			if (!core_host_retry(sys, host, st, &tries))
				break;
		}
		if (st != MOAT_OK) {
			moat_diag_set(diag, st, NULL, 0, "punching [0x%llx, 0x%llx] out of the host domain: %s",
				      (unsigned long long)first, (unsigned long long)l, moat_status_str(st));
			goto out;
		}
	}
	prot_insert(sys, first, last, label);
	if (host && (unmapped || g.freed_pages || g.tables_changed))
		st = core_gather_finish(sys, host, &g, diag);
	core_settle(sys, NULL);
out:
	core_prot_write_end(sys);
	core_unlock(sys);
	return st;
}

moat_status moat_protect_remove(struct moat_system *sys, uint64_t base, uint64_t size)
{
	uint64_t first, last;
	moat_status st = MOAT_ERR_NOT_FOUND;

	if (!core_sys_ok(sys) || !round_out(base, size, &first, &last))
		return MOAT_ERR_INVALID_ARG;
	core_lock(sys);
	core_prot_write_begin(sys);
	for (unsigned i = 0; i < sys->prot_count; i++) {
		if (sys->prot[i].base != first || core_prot_last(&sys->prot[i]) != last)
			continue;
		for (unsigned j = i; j + 1 < sys->prot_count; j++)
			sys->prot[j] = sys->prot[j + 1];
		sys->prot_count--;
		prot_reindex(sys);
		st = MOAT_OK;
		break;
	}
	core_prot_write_end(sys);
	core_unlock(sys);
	return st;
}

moat_status moat_protect_check(struct moat_system *sys, uint64_t base, uint64_t size, struct moat_protect_hit *hit)
{
	uint64_t first, last;
	moat_status st;

	if (!core_sys_ok(sys) || !round_out(base, size, &first, &last))
		return MOAT_ERR_INVALID_ARG;
	core_lock(sys);
	st = core_prot_check(sys, first, last, hit);
	core_unlock(sys);
	return st;
}

unsigned moat_protect_count(struct moat_system *sys)
{
	unsigned n;

	if (!core_sys_ok(sys))
		return 0;
	core_lock(sys);
	n = sys->prot_count;
	core_unlock(sys);
	return n;
}

moat_status moat_protect_get(struct moat_system *sys, unsigned index, struct moat_protected *out)
{
	moat_status st = MOAT_ERR_NOT_FOUND;

	if (!core_sys_ok(sys) || !out)
		return MOAT_ERR_INVALID_ARG;
	core_lock(sys);
	if (index < sys->prot_count) {
		*out = sys->prot[index];
		st = MOAT_OK;
	}
	core_unlock(sys);
	return st;
}
