/* SPDX-License-Identifier: BSD-2-Clause */
/* Explaining a fault: what the domain maps around the address, and one readable line. */
#include "setup_internal.h"

#define NEAR_PAGES (MOAT_SETUP_NEAR_WINDOW / MOAT_PAGE_SIZE)

/* The leaf holding @iova: its first address, size and output (MOAT_OK), or why not. */
static moat_status leaf_at(struct moat_domain *dom, uint64_t iova, uint64_t *base, uint64_t *size, uint64_t *phys)
{
	uint64_t out = 0, leaf = 0;
	moat_status st = moat_domain_translate(dom, iova, &out, NULL, &leaf);

	if (st != MOAT_OK)
		return st;
	if (!leaf || (leaf & (leaf - 1)))
		return MOAT_ERR_MALFORMED;
	*base = iova & ~(leaf - 1);
	*size = leaf;
	*phys = out - (iova - *base);
	return MOAT_OK;
}

moat_status moat_setup_fault_near(struct moat_domain *dom, uint64_t addr, struct moat_fault_near *out)
{
	uint64_t page = addr & ~(uint64_t)(MOAT_PAGE_SIZE - 1), phys;
	unsigned prot = 0;
	moat_status st;

	if (!out)
		return MOAT_ERR_INVALID_ARG;
	moat_memset(out, 0, sizeof(*out));
	st = moat_domain_translate(dom, addr, &phys, &prot, NULL);
	if (st == MOAT_OK) {
		out->mapped = true;
		out->phys = phys;
		out->prot = prot;
	} else if (st != MOAT_ERR_NOT_FOUND) {
		return st;
	}
	/* One page at a time on each side, up to the first leaf. */
	for (uint64_t k = 1; k <= NEAR_PAGES && page >= k * MOAT_PAGE_SIZE; k++) {
		if (leaf_at(dom, page - k * MOAT_PAGE_SIZE, &out->below_iova, &out->below_size, &out->below_phys) ==
		    MOAT_OK) {
			out->below = true;
			break;
		}
	}
	for (uint64_t k = 1; k <= NEAR_PAGES; k++) {
		uint64_t a = page + k * MOAT_PAGE_SIZE;

		if (a < page)
			break;      /* past 2^64 */
		st = leaf_at(dom, a, &out->above_iova, &out->above_size, &out->above_phys);
		if (st == MOAT_OK) {
			out->above = true;
			break;
		}
		if (st == MOAT_ERR_INVALID_ARG)
			break;      /* past the domain's input width */
	}
	return MOAT_OK;
}

static const char *size_words(uint64_t size, char *buf, size_t n)
{
	if (size >= (1ull << 30) && !(size & ((1ull << 30) - 1)))
		moat_snprintf(buf, n, "%llu GiB", (unsigned long long)(size >> 30));
	else if (size >= (1ull << 20) && !(size & ((1ull << 20) - 1)))
		moat_snprintf(buf, n, "%llu MiB", (unsigned long long)(size >> 20));
	else
		moat_snprintf(buf, n, "%llu KiB", (unsigned long long)(size >> 10));
	return buf;
}

static const char *prot_words(unsigned prot)
{
	switch (prot & MOAT_PT_RW) {
	case MOAT_PT_RW:
		return "read and write";
	case MOAT_PT_READ:
		return "read only";
	case MOAT_PT_WRITE:
		return "write only";
	default:
		return "no access";
	}
}

int moat_setup_fault_format(const struct moat_fault *f, const struct moat_fault_near *near, char *buf,
			    size_t size)
{
	char line[480], dom[32], sz[24];
	int n;

	if (!f)
		return moat_snprintf(buf, size, "(no fault)");
	if (f->domain_id >= 0)
		moat_snprintf(dom, sizeof(dom), "device in domain %d", (int)f->domain_id);
	else
		moat_snprintf(dom, sizeof(dom), "device in no domain");
	if (f->is_interrupt)
		n = moat_snprintf(line, sizeof(line), "%04x:%02x:%02x.%x interrupt %u blocked: %s [%s]", f->segment,
				  MOAT_RID_BUS(f->rid), MOAT_RID_DEV(f->rid), MOAT_RID_FN(f->rid),
				  (unsigned)f->interrupt_index, f->reason_text, moat_fault_class_str(f->fault_class));
	else
		n = moat_snprintf(line, sizeof(line), "%04x:%02x:%02x.%x %s at 0x%llx blocked: %s [%s], %s", f->segment,
				  MOAT_RID_BUS(f->rid), MOAT_RID_DEV(f->rid), MOAT_RID_FN(f->rid),
				  f->is_atomic ? "atomic access" : f->is_write ? "write" : "read",
				  (unsigned long long)f->address, f->reason_text, moat_fault_class_str(f->fault_class), dom);
	if (near && !f->is_interrupt && n > 0 && (size_t)n < sizeof(line)) {
		size_t used = (size_t)n;

		if (near->mapped)
			used += (size_t)moat_snprintf(line + used, sizeof(line) - used, "; mapped now to 0x%llx, %s",
						      (unsigned long long)near->phys, prot_words(near->prot));
		if (used < sizeof(line) && near->below)
			used += (size_t)moat_snprintf(line + used, sizeof(line) - used, "; nearest mapping below 0x%llx (%s -> 0x%llx)",
						      (unsigned long long)near->below_iova,
						      size_words(near->below_size, sz, sizeof(sz)),
						      (unsigned long long)near->below_phys);
		if (used < sizeof(line) && near->above)
			used += (size_t)moat_snprintf(line + used, sizeof(line) - used, "; nearest mapping above 0x%llx (%s -> 0x%llx)",
						      (unsigned long long)near->above_iova,
						      size_words(near->above_size, sz, sizeof(sz)),
						      (unsigned long long)near->above_phys);
		if (used < sizeof(line) && !near->mapped && !near->below && !near->above)
			moat_snprintf(line + used, sizeof(line) - used, "; nothing mapped within %llu MiB",
				      (unsigned long long)(MOAT_SETUP_NEAR_WINDOW >> 20));
	}
	return moat_snprintf(buf, size, "%s", line);
}
