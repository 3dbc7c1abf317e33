/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * discovery: the firmware describes at least one IOMMU (DMAR or IVRS), the library describes it
 * without error, every unit's registers answer at the address the table gives (AMD-Vi: the IOMMU's
 * PCI capability names the same address), and every edu device enumeration found is in the scope of
 * some unit.
 */
#include <moat/internal/lib.h>

#include "drivers/iommu_regs.h"
#include "scenarios/scenario.h"

static enum scenario_verdict check_table(const struct fw_iommu_table *t, const char *sig,
					 struct scenario_result *r)
{
	char msg[200];

	if (t->status == MOAT_OK)
		return SCENARIO_PASS;
	return scenario_fail(r, "%s not described: %s (%s)", sig, moat_status_str(t->status),
			     moat_diag_format(&t->diag, msg, sizeof(msg)));
}

enum scenario_verdict scenario_discovery(struct kernel_system *sys, struct scenario_result *r)
{
	const struct fw_iommu_table *t = firmware_iommu(&sys->fw);
	const struct moat_sysdesc *d;
	char msg[200];

	if (!sys->fw.have_rsdp)
		return scenario_fail(r, "no ACPI RSDP found: the firmware describes nothing");
	if (!t) {
		if (sys->fw.dmar.find_status != MOAT_ERR_NOT_FOUND)
			return scenario_fail(r, "DMAR refused: %s", moat_diag_format(&sys->fw.dmar.diag, msg, sizeof(msg)));
		if (sys->fw.ivrs.find_status != MOAT_ERR_NOT_FOUND)
			return scenario_fail(r, "IVRS refused: %s", moat_diag_format(&sys->fw.ivrs.diag, msg, sizeof(msg)));
		return scenario_fail(r, "the firmware describes no IOMMU (no DMAR, no IVRS table)");
	}
	if (sys->fw.dmar.present && check_table(&sys->fw.dmar, "DMAR", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	if (sys->fw.ivrs.present && check_table(&sys->fw.ivrs, "IVRS", r) != SCENARIO_PASS)
		return SCENARIO_FAIL;
	d = &t->desc;
	if (!d->units_count)
		return scenario_fail(r, "the %s names no IOMMU unit", t == &sys->fw.dmar ? "DMAR" : "IVRS");
	scenario_note("%s: %u unit(s), %u device set(s), %u special device(s), %u reserved region(s)",
		      t == &sys->fw.dmar ? "DMAR" : "IVRS", d->units_count, d->devsets_count, d->specials_count,
		      d->regions_count);

	for (uint32_t u = 0; u < d->units_count; u++) {
		struct iommu_regs_info info;

		if (!iommu_regs_probe(&d->units[u], &info))
			return scenario_fail(r, "unit %u (%s at 0x%llx): %s", u, firmware_vendor_name(d->units[u].vendor),
					     (unsigned long long)d->units[u].register_base, info.problem);
		scenario_note("unit %u at 0x%llx answers: %s", u, (unsigned long long)d->units[u].register_base,
			      info.summary);
	}

	if (!sys->edu_count)
		scenario_note("no edu device on this machine: scope coverage not checked");
	for (unsigned i = 0; i < sys->edu_count; i++) {
		const struct pci_dev *p = sys->edu[i].pci;
		const struct moat_devset *s;
		int u = firmware_unit_covering(t, p->segment, p->rid, &s);

		if (u < 0)
			return scenario_fail(r, "edu %s is in no IOMMU unit's scope: nothing could translate its DMA",
					     p->name);
		scenario_note("edu %s is translated by unit %d (%s)", p->name, u,
			      s ? (s->flags & MOAT_DEVSET_BRIDGE ? "below a bridge it names" : "named in its scope")
				: "which takes every device not named elsewhere");
	}
	return SCENARIO_PASS;
}
