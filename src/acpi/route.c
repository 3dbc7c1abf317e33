/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Routing by the system description (include/moat/acpi.h): which device sets name a requester id,
 * and which unit translates it. The one rule the core's routing (moat_unit_route()), both drivers
 * (moat_vtd_routes(), moat_amdvi_routes()) and reserved-region matching (moat_region_names()) use.
 */
#include <moat/acpi.h>

bool moat_devset_names(const struct moat_devset *ds, uint16_t segment, uint16_t rid)
{
	if (!ds || (ds->flags & MOAT_DEVSET_UNRESOLVED) || ds->segment != segment)
		return false;
	if (rid >= ds->first && rid <= ds->last)
		return true;
	/* the IOMMU sees the set's devices as the alias: requests with that id are theirs */
	return (ds->flags & MOAT_DEVSET_ALIASED) && rid == ds->alias;
}

bool moat_unit_desc_includes_all(const struct moat_unit_desc *ud)
{
	return ud && (ud->flags & (MOAT_UNIT_INCLUDE_ALL | MOAT_UNIT_AMD_ALL));
}

moat_status moat_sysdesc_unit_names(const struct moat_sysdesc *desc, uint32_t unit, uint16_t segment, uint16_t rid)
{
	const struct moat_unit_desc *ud;

	if (!desc || unit >= desc->units_count || !desc->units)
		return MOAT_ERR_INVALID_ARG;
	ud = &desc->units[unit];
	if (ud->segment != segment)
		return MOAT_ERR_NOT_FOUND;
	if (ud->devset_first > desc->devsets_count || ud->devset_count > desc->devsets_count - ud->devset_first ||
	    (ud->devset_count && !desc->devsets))
		return MOAT_ERR_MALFORMED;
	for (uint32_t k = 0; k < ud->devset_count; k++)
		if (moat_devset_names(&desc->devsets[ud->devset_first + k], segment, rid))
			return MOAT_OK;
	return MOAT_ERR_NOT_FOUND;
}

moat_status moat_sysdesc_route(const struct moat_sysdesc *desc, enum moat_vendor vendor, uint16_t segment,
			       uint16_t rid, uint32_t *unit_index)
{
	if (!desc || !unit_index || (desc->units_count && !desc->units))
		return MOAT_ERR_INVALID_ARG;
	/* Device sets first: they take a device away from an include-all unit. */
	for (uint32_t i = 0; i < desc->units_count; i++) {
		moat_status st;

		if (vendor != MOAT_VENDOR_NONE && desc->units[i].vendor != vendor)
			continue;
		st = moat_sysdesc_unit_names(desc, i, segment, rid);
		if (st == MOAT_OK)
			*unit_index = i;
		if (st != MOAT_ERR_NOT_FOUND)
			return st;
	}
	for (uint32_t i = 0; i < desc->units_count; i++) {
		const struct moat_unit_desc *ud = &desc->units[i];

		if ((vendor == MOAT_VENDOR_NONE || ud->vendor == vendor) && ud->segment == segment &&
		    moat_unit_desc_includes_all(ud)) {
			*unit_index = i;
			return MOAT_OK;
		}
	}
	return MOAT_ERR_NOT_FOUND;
}
