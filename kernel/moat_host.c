/* SPDX-License-Identifier: BSD-2-Clause */
/* The kernel's use of Moat (see moat_host.h): what a hypervisor would write to adopt it. */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"
#include "moat_host.h"
#include "x86_platform.h"

const char *kmoat_label(const char *what, char *buf, unsigned size)
{
	unsigned n = 0;

	while (what[n] && n + 1 < size && !(what[n] == ' ' && what[n + 1] == '('))
		n++;
	moat_memcpy(buf, what, n);
	buf[n] = '\0';
	return buf;
}

static uint32_t pool_used(void)
{
	struct x86_plat_pool_stats st;

	x86_plat_pool_stats(&st);
	return st.pages_used;
}

/* The firmware's memory map, as Moat takes it (the e820 type numbers are Moat's MOAT_MEM_*). */
static void load_memory_map(struct kmoat *m)
{
	const struct kernel_mem_region *map;
	unsigned n;

	map = kernel_memory_map(&n);
	m->map_count = MOAT_MIN(n, (unsigned)KMOAT_MAP_MAX);
	for (unsigned i = 0; i < m->map_count; i++) {
		m->map[i].base = map[i].base;
		m->map[i].length = map[i].length;
		m->map[i].type = map[i].type;
	}
}

/* Whether this boot's AMD-Vi units record blocked accesses: measured at the first bring-up. */
enum records_state {
	RECORDS_UNKNOWN,
	RECORDS_WRITTEN,
	RECORDS_NONE,
};

static enum records_state amd_records;

/*
 * An edu device without a domain (all are, right after bring-up) reads a page: true when the unit
 * recorded that access, or when it could not be tried (then records stay required).
 */
static bool blocked_read_recorded(struct kmoat *m, struct kernel_system *sys)
{
	struct edu_dev *dev;
	struct moat_fault f[4];
	struct moat_fault_poll res;
	uint8_t *page;
	bool seen = true;

	if (!sys->edu_count)
		return true;
	dev = &sys->edu[sys->edu_count - 1];
	page = kpage_alloc(0, EDU_DEFAULT_REACH, false);
	if (!page)
		return true;
	if (edu_dma(dev, EDU_TO_DEVICE, kvirt_to_phys(page), 0, 64, EDU_DMA_TIMEOUT_NS) == MOAT_OK &&
	    moat_fault_poll(&m->ms.sys, f, MOAT_ARRAY_SIZE(f), &res) == MOAT_OK) {
		seen = false;
		for (unsigned i = 0; i < res.count; i++)
			seen |= f[i].rid == dev->pci->dma_rid;
	}
	kpage_free(page);
	return seen;
}

static void check_records(struct kmoat *m, struct kernel_system *sys)
{
	m->records_faults = m->ms.caps.fault_records > 0;
	if (m->ms.caps.vendor == MOAT_VENDOR_AMDVI && m->records_faults) {
		if (amd_records == RECORDS_UNKNOWN)
			amd_records = blocked_read_recorded(m, sys) ? RECORDS_WRITTEN : RECORDS_NONE;
		if (amd_records == RECORDS_NONE) {
			m->records_faults = false;
			m->records_note = "the AMD-Vi unit wrote no event-log entry for a blocked read (QEMU 7.2's "
					  "model never writes one)";
		}
	}
	m->fault_records = m->records_faults ? m->ms.caps.fault_records : 0;
}

moat_status kmoat_up(struct kmoat *m, struct kernel_system *sys, struct moat_diag *diag)
{
	const struct fw_iommu_table *t = firmware_iommu(&sys->fw);
	const struct kernel_range *ranges;
	struct moat_fault drop[4];
	struct moat_fault_poll res;
	unsigned n;
	moat_status st;

	moat_memset(m, 0, sizeof(*m));
	if (!t || t->status != MOAT_OK)
		return moat_diag_set(diag, MOAT_ERR_NOT_FOUND, NULL, 0, "the firmware describes no usable IOMMU");
	m->pool_used_before = pool_used();

	/* 1. Probe and negotiate every unit the firmware describes; 0: tables as wide as they allow. */
	st = moat_setup_init(&m->ms, m->units, FW_MAX_UNITS, &t->desc, 0, diag);
	if (st != MOAT_OK)
		return st;
	/* 2. Translation on: from here on a device reaches nothing until it is attached. */
	st = moat_setup_enable(&m->ms, diag);
	if (st != MOAT_OK)
		goto fail;
	/* 3. What the kernel keeps to itself: no domain may ever map it. */
	ranges = kernel_protected_ranges(&n);
	for (unsigned i = 0; i < n; i++) {
		char label[MOAT_PROTECT_LABEL_MAX];

		st = moat_protect_add(&m->ms.sys, ranges[i].base, ranges[i].size,
				      kmoat_label(ranges[i].what, label, sizeof(label)), diag);
		if (st != MOAT_OK)
			goto fail;
	}
	/* Records left by earlier users of the units are not this session's business. */
	for (unsigned k = 0; k < 16; k++) {
		if (moat_fault_poll(&m->ms.sys, drop, MOAT_ARRAY_SIZE(drop), &res) != MOAT_OK || !res.count)
			break;
		m->stale_faults += res.count;
	}
	load_memory_map(m);
	check_records(m, sys);
	m->up = true;
	return MOAT_OK;

fail:
	moat_setup_fini(&m->ms, NULL);
	return st;
}

moat_status kmoat_domain(struct kmoat *m, struct moat_domain *dom, struct moat_diag *diag)
{
	moat_status st;

	if (m->ndomains == KMOAT_MAX_DOMAINS)
		return moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, 0, "more than %u domains", KMOAT_MAX_DOMAINS);
	st = moat_domain_create(&m->ms.sys, dom);
	if (st != MOAT_OK)
		return moat_diag_set(diag, st, NULL, 0, "domain: %s", moat_status_str(st));
	m->domains[m->ndomains++] = dom;
	return MOAT_OK;
}

moat_status kmoat_attach(struct kmoat *m, struct moat_domain *dom, const struct pci_dev *d, struct moat_diag *diag)
{
	moat_status st;
	unsigned i;

	/* Memory the firmware says the device keeps using (RMRR, IVMD): mapped before it is attached. */
	st = moat_reserved_map(dom, NULL, d->segment, d->dma_rid, diag);
	if (st == MOAT_OK)
		st = moat_domain_attach(dom, d->segment, d->dma_rid, diag);
	if (st != MOAT_OK)
		return st;
	for (i = 0; i < m->nattached; i++)
		if (m->attached[i].segment == d->segment && m->attached[i].rid == d->dma_rid)
			return MOAT_OK;
	if (i == KMOAT_MAX_ATTACHED)
		return moat_diag_set(diag, MOAT_ERR_NO_SPACE, NULL, 0, "more than %u devices attached", KMOAT_MAX_ATTACHED);
	m->attached[m->nattached].segment = d->segment;
	m->attached[m->nattached].rid = d->dma_rid;
	m->nattached++;
	return MOAT_OK;
}

moat_status kmoat_protect_host(struct kmoat *m, struct moat_diag *diag)
{
	moat_status st = kmoat_domain(m, &m->host, diag);

	if (st != MOAT_OK)
		return st;
	st = moat_protect_host(&m->host, m->map, m->map_count, &m->host_report, diag);
	if (st == MOAT_OK)
		m->host_live = true;
	return st;
}

struct moat_domain *kmoat_domain_by_id(struct kmoat *m, int32_t id)
{
	for (unsigned i = 0; i < m->ndomains; i++)
		if ((int32_t)m->domains[i]->id == id)
			return m->domains[i];
	return NULL;
}

void kmoat_fault_line(struct kmoat *m, const struct moat_fault *f, char *buf, unsigned size)
{
	struct moat_domain *dom = f->domain_id >= 0 ? kmoat_domain_by_id(m, f->domain_id) : NULL;
	struct moat_fault_near near;

	if (dom && !f->is_interrupt && moat_setup_fault_near(dom, f->address, &near) == MOAT_OK)
		moat_setup_fault_format(f, &near, buf, size);
	else
		moat_setup_fault_format(f, NULL, buf, size);
}

moat_status kmoat_down(struct kmoat *m, char *problem, unsigned size)
{
	struct moat_diag diag = { 0 };
	moat_status st, first = MOAT_OK;
	char msg[160];

	if (!m->up)
		return MOAT_OK;
	for (unsigned i = 0; i < m->nattached; i++) {
		st = moat_domain_detach(&m->ms.sys, m->attached[i].segment, m->attached[i].rid, &diag);
		if (st != MOAT_OK && st != MOAT_ERR_NOT_FOUND && first == MOAT_OK) {
			first = st;
			moat_snprintf(problem, size, "detach: %s", moat_diag_format(&diag, msg, sizeof(msg)));
		}
	}
	m->nattached = 0;
	while (m->ndomains) {
		st = moat_domain_destroy(m->domains[--m->ndomains]);
		if (st != MOAT_OK && first == MOAT_OK) {
			first = st;
			moat_snprintf(problem, size, "domain destroy: %s", moat_status_str(st));
		}
	}
	m->host_live = false;
	st = moat_setup_fini(&m->ms, &diag);
	if (st != MOAT_OK && first == MOAT_OK) {
		first = st;
		moat_snprintf(problem, size, "tear-down: %s", moat_diag_format(&diag, msg, sizeof(msg)));
	}
	m->up = false;
	if (first == MOAT_OK && pool_used() != m->pool_used_before) {
		first = MOAT_ERR_STATE;
		moat_snprintf(problem, size, "%d pages of the platform pool not given back after tear-down",
			      (int)(pool_used() - m->pool_used_before));
	}
	return first;
}
