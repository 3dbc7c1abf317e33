/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * irq_probe (run only when named: scenario=irq_probe): what a device can do with interrupts while
 * the IOMMU blocks its DMA, measured and printed, not judged. Without interrupt remapping, an
 * interrupt is a memory write to 0xFEE00000-0xFEEFFFFF whose address and data name the CPU and the
 * vector; nothing stops a device from writing any. Measured here:
 *
 *   control  Moat down, no translation: the device DMA-writes the dword V0 to 0xFEE00000. It must
 *            arrive as vector V0: that proves the device reaches the address (its DMA mask is not
 *            narrower than 32 bits; pages a narrower mask would write instead are watched) and that
 *            such a write is an interrupt. Without it the probe has nothing to measure: FAIL, or
 *            SKIP when the device's mask is too narrow (QEMU: -device edu,dma_mask=0xffffffff).
 *   (a)      Moat up, the device given no domain (every DMA blocked; one write to an ordinary page
 *            shows it): it DMA-writes the dword Va to 0xFEE00000.
 *   (b)      the same device, still blocked, has its MSI programmed with vector Vb and raises it.
 *   (b')     the same once the device is attached to the host identity domain.
 *
 * V0, Va and Vb are vectors the kernel gave nobody. Each outcome (delivered or not, on which
 * vector, with or without a fault record) is a detail line; PASS says only that the control
 * worked and every measurement ran. The device's buffer is loaded with the three dwords while its
 * DMA still reaches memory, at an offset kmoat_up()'s own probe read (the buffer's first bytes)
 * leaves alone.
 */
#include <moat/internal/lib.h>

#include "kernel.h"
#include "mm/mm.h"
#include "scenarios/scenario.h"

#define MSG_OFFSET 0x800u                    /* in the device buffer: V0, Va, Vb as dwords */
#define NARROWEST_MASK_BITS 28               /* edu's default; narrower masks are not considered */

struct watched {
	uint64_t addr;
	unsigned bits;
};

struct probe {
	struct edu_dev *dev;
	uint8_t v0, va, vb;
	uint8_t *page;                           /* an ordinary page: the blocked write's target */
	struct watched alias[4];
	unsigned naliases;
};

/* A vector nobody was given and this probe has not used yet, from the top of the device range. */
static uint8_t free_vector(const struct probe *p)
{
	for (unsigned v = IRQ_VECTOR_LAST; v >= IRQ_VECTOR_FIRST; v--) {
		if (!irq_vector_given(v) && v != p->v0 && v != p->va && v != p->vb)
			return (uint8_t)v;
	}
	return 0;
}

static const uint32_t alias_marker = 0x5eedf00du;

/*
 * The pages a DMA mask of 28 to 31 bits would write instead of 0xFEE00000: taken and marked when
 * free. False when one of them is RAM in use (the probe would risk the kernel's memory).
 */
static bool watch_aliases(struct probe *p, uint64_t *busy)
{
	p->naliases = 0;
	for (unsigned bits = 31; bits >= NARROWEST_MASK_BITS; bits--) {
		uint64_t a = MSI_ADDRESS_BASE & ((1ull << bits) - 1), got;

		if (!memmap_overlaps(a, MOAT_PAGE_SIZE, MEM_MASK_MEMORY))
			continue;
		if (!frames_take(&got, MOAT_PAGE_SIZE, MOAT_PAGE_SIZE, a, a + MOAT_PAGE_SIZE, false)) {
			*busy = a;
			for (unsigned i = 0; i < p->naliases; i++)
				frames_give(p->alias[i].addr, MOAT_PAGE_SIZE);
			p->naliases = 0;
			return false;
		}
		moat_memcpy(kphys_to_virt(a), &alias_marker, sizeof(alias_marker));
		p->alias[p->naliases++] = (struct watched){ a, bits };
	}
	return true;
}

/* The watched page the device wrote instead, or NULL. All are given back. */
static const struct watched *release_aliases(struct probe *p)
{
	const struct watched *hit = NULL;

	for (unsigned i = 0; i < p->naliases; i++) {
		if (moat_memcmp(kphys_to_virt(p->alias[i].addr), &alias_marker, sizeof(alias_marker)) && !hit)
			hit = &p->alias[i];
		frames_give(p->alias[i].addr, MOAT_PAGE_SIZE);
	}
	return hit;
}

/* The device DMA-writes the dword at buffer offset @slot to 0xFEE00000; true when @vector came. */
static bool dma_message(struct probe *p, unsigned slot, uint8_t vector, char *came, size_t size, moat_status *st)
{
	struct irq_tally before;
	uint32_t seen = irq_count(0, vector);
	bool arrived;

	irq_tally_take(&before);
	*st = edu_dma(p->dev, EDU_FROM_DEVICE, MSI_ADDRESS_BASE, MSG_OFFSET + 4 * slot, 4, EDU_DMA_TIMEOUT_NS);
	arrived = *st == MOAT_OK && irq_wait(vector, seen, IRQ_WAIT_NS);
	irq_open(IRQ_SETTLE_NS);
	irq_tally_since(&before, came, size);
	return arrived;
}

/* The fault records the last step left, as one phrase. */
static const char *records(struct kmoat *m, char *buf, size_t size)
{
	struct moat_fault f[4];
	struct moat_fault_poll res;
	char line[160];

	if (!m)
		return "";
	if (moat_fault_poll(&m->ms.sys, f, MOAT_ARRAY_SIZE(f), &res) != MOAT_OK || !res.count) {
		moat_snprintf(buf, size, "; no fault record%s", m->records_faults ? "" : " (none are written here)");
		return buf;
	}
	kmoat_fault_line(m, &f[0], line, sizeof(line));
	moat_snprintf(buf, size, "; %u fault record(s), first: %s", res.count, line);
	return buf;
}

enum control_outcome {
	CONTROL_DELIVERED,
	CONTROL_NARROW,      /* the device's DMA mask falls short of 0xFEE00000: try another */
	CONTROL_FAILED,      /* SCENARIO_FAIL, reason in r */
	CONTROL_UNSAFE,      /* a page a narrower mask would write is in use: SKIP, reason in @why */
};

/* One device: its buffer loaded with V0, Va, Vb from @src, then V0 written to 0xFEE00000. */
static enum control_outcome try_control(struct probe *p, uint8_t *src, char *why, size_t size,
					struct scenario_result *r)
{
	const char *name = p->dev->pci->name;
	const struct watched *hit;
	uint32_t msg[3];
	char came[160];
	uint64_t busy = 0;
	moat_status st;
	bool arrived;

	p->v0 = p->va = p->vb = 0;
	p->v0 = free_vector(p);
	p->va = free_vector(p);
	p->vb = free_vector(p);
	msg[0] = p->v0;
	msg[1] = p->va;
	msg[2] = p->vb;
	moat_memcpy(src, msg, sizeof(msg));
	st = edu_dma(p->dev, EDU_TO_DEVICE, kvirt_to_phys(src), MSG_OFFSET, sizeof(msg), EDU_DMA_TIMEOUT_NS);
	if (st != MOAT_OK) {
		scenario_fail(r, "edu %s: loading its buffer: %s", name, moat_status_str(st));
		return CONTROL_FAILED;
	}
	if (!watch_aliases(p, &busy)) {
		moat_snprintf(why, size, "the page 0x%llx a narrower DMA mask would write instead of 0x%llx is in use",
			      (unsigned long long)busy, (unsigned long long)MSI_ADDRESS_BASE);
		return CONTROL_UNSAFE;
	}
	arrived = dma_message(p, 0, p->v0, came, sizeof(came), &st);
	hit = release_aliases(p);
	if (arrived) {
		scenario_note("control: Moat down, edu %s DMA-writes 0x%08x to 0x%llx: delivered as vector 0x%02x (%s)",
			      name, p->v0, (unsigned long long)MSI_ADDRESS_BASE, p->v0, came);
		return CONTROL_DELIVERED;
	}
	if (st != MOAT_OK) {
		scenario_fail(r, "edu %s: DMA to 0x%llx: %s", name, (unsigned long long)MSI_ADDRESS_BASE,
			      moat_status_str(st));
		return CONTROL_FAILED;
	}
	if (!hit) {
		scenario_fail(r, "control: untranslated, edu %s DMA-wrote 0x%08x to 0x%llx and vector 0x%02x did not "
			      "arrive (arrived: %s): nothing to compare with", name, p->v0,
			      (unsigned long long)MSI_ADDRESS_BASE, p->v0, came);
		return CONTROL_FAILED;
	}
	scenario_note("edu %s wrote page 0x%llx instead of 0x%llx: its DMA mask is at most %u bits wide", name,
		      (unsigned long long)hit->addr, (unsigned long long)MSI_ADDRESS_BASE, hit->bits);
	moat_snprintf(why, size, "no edu device reaches 0x%llx (edu %s: DMA mask of at most %u bits; QEMU: -device "
		      "edu,dma_mask=0xffffffff)", (unsigned long long)MSI_ADDRESS_BASE, name, hit->bits);
	return CONTROL_NARROW;
}

/* Control: untranslated, the write to 0xFEE00000 must be the interrupt V0, from the first device that reaches it. */
static enum scenario_verdict control(struct kernel_system *sys, struct probe *p, struct scenario_result *r)
{
	enum control_outcome o = CONTROL_NARROW;
	uint8_t *src = low_page();
	char why[200] = "no edu device";

	if (!src)
		return scenario_fail(r, "no free page below 256 MiB");
	for (unsigned i = 0; i < sys->edu_count && o == CONTROL_NARROW; i++) {
		p->dev = &sys->edu[i];
		o = try_control(p, src, why, sizeof(why), r);
	}
	kpage_free(src);
	if (o == CONTROL_DELIVERED)
		return SCENARIO_PASS;
	if (o == CONTROL_FAILED)
		return SCENARIO_FAIL;
	return scenario_skip(r, "%s", why);
}

/* (b), (b'): the device's own MSI, programmed with vector Vb. */
static void msi_forged(struct kmoat *m, struct probe *p, const char *label, const char *state)
{
	struct irq_tally before;
	struct msi_msg msg;
	char came[160], rec[200];
	bool arrived = false;

	if (irq_edu_msi(p->dev, p->vb, &msg))
		arrived = irq_raise_and_watch(p->dev, p->vb, &before, NULL) == IRQ_CAME;
	else
		irq_tally_take(&before);
	edu_irq_ack(p->dev, edu_irq_status(p->dev));
	edu_msi_off(p->dev);
	irq_tally_since(&before, came, sizeof(came));
	scenario_note("%s %s, edu %s's MSI programmed with vector 0x%02x (given to nobody) and raised: %s (arrived: "
		      "%s)%s", label, state, p->dev->pci->name, p->vb, arrived ? "DELIVERED" : "not delivered", came,
		      records(m, rec, sizeof(rec)));
}

static enum scenario_verdict blocked(struct kmoat *m, struct probe *p, struct scenario_result *r)
{
	struct moat_diag diag = { 0 };
	char came[160], rec[200], msg[200];
	const uint32_t filler = 0xa5a5a5a5u;
	moat_status st;
	bool arrived;

	/* The device is blocked: a write to an ordinary page changes nothing. */
	p->page = low_page();
	if (!p->page)
		return scenario_fail(r, "no free page below 256 MiB");
	moat_memcpy(p->page, &filler, sizeof(filler));
	st = edu_dma(p->dev, EDU_FROM_DEVICE, kvirt_to_phys(p->page), MSG_OFFSET, 4, EDU_DMA_TIMEOUT_NS);
	if (st != MOAT_OK)
		return scenario_fail(r, "edu %s: DMA to 0x%llx: %s", p->dev->pci->name,
				     (unsigned long long)kvirt_to_phys(p->page), moat_status_str(st));
	if (moat_memcmp(p->page, &filler, sizeof(filler)))
		return scenario_fail(r, "edu %s has no domain, yet its write reached page 0x%llx", p->dev->pci->name,
				     (unsigned long long)kvirt_to_phys(p->page));
	scenario_note("Moat up, edu %s given no domain: its DMA write to page 0x%llx was blocked (page unchanged)%s",
		      p->dev->pci->name, (unsigned long long)kvirt_to_phys(p->page), records(m, rec, sizeof(rec)));

	arrived = dma_message(p, 1, p->va, came, sizeof(came), &st);
	if (st != MOAT_OK)
		return scenario_fail(r, "edu %s: DMA to 0x%llx: %s", p->dev->pci->name,
				     (unsigned long long)MSI_ADDRESS_BASE, moat_status_str(st));
	scenario_note("(a) blocked, edu %s DMA-writes 0x%08x to 0x%llx: %s (arrived: %s)%s", p->dev->pci->name, p->va,
		      (unsigned long long)MSI_ADDRESS_BASE, arrived ? "DELIVERED" : "not delivered", came,
		      records(m, rec, sizeof(rec)));

	msi_forged(m, p, "(b)", "blocked");

	if (kmoat_protect_host(m, &diag) != MOAT_OK || kmoat_attach(m, &m->host, p->dev->pci, &diag) != MOAT_OK)
		return scenario_fail(r, "attaching edu %s to the host domain: %s", p->dev->pci->name,
				     moat_diag_format(&diag, msg, sizeof(msg)));
	msi_forged(m, p, "(b')", "in the host domain");
	return SCENARIO_PASS;
}

enum scenario_verdict scenario_irq_probe(struct kernel_system *sys, struct scenario_result *r)
{
	struct probe p;
	struct kmoat *m;
	enum scenario_verdict v;

	if (!irq_ready())
		return scenario_skip(r, "no local APIC: the kernel takes no interrupts");
	if (!firmware_iommu(&sys->fw))
		return scenario_skip(r, "the firmware describes no IOMMU");
	moat_memset(&p, 0, sizeof(p));
	v = control(sys, &p, r);
	if (v != SCENARIO_PASS)
		return v;
	v = protect_begin(&m, sys, r);
	if (v != SCENARIO_PASS)
		return v;
	v = blocked(m, &p, r);
	v = protect_end(m, v, r);
	kpage_free(p.page);
	edu_msi_off(p.dev);
	edu_irq_ack(p.dev, edu_irq_status(p.dev));
	return v;
}
