/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fault recording (section 7.2.1, primary fault logging; registers in 10.4.14) and decoding of
 * the fault reasons of the appendix "Non-Recoverable Fault Reason Encodings".
 */
#include "vtd_internal.h"

/*
 * Reason codes of legacy-mode DMA remapping (1h..Eh) and of interrupt remapping (20h..27h), in
 * our own words, with the class each gets:
 *  - bad device: the requester has no domain (root or context entry not present), or issued a
 *    request it may not issue (translation requests blocked by TT, malformed or unverifiable
 *    interrupt requests, interrupts whose table entry is absent);
 *  - bad address: the requester has a domain but the address is outside it, or the page lacks
 *    the permission (a not-present page also reports 5h/6h: there is no separate code);
 *  - invalid use: the tables or registers themselves are wrong or unreadable (reserved fields,
 *    unsupported AW/TT, table pointers the hardware cannot read, a translation landing in the
 *    interrupt address range): a software bug or memory corruption, never the device's doing.
 * Codes not listed (0h, Fh, 10h..1Fh, the scalable-mode codes from 30h) get a generic text and
 * MOAT_FAULT_UNKNOWN.
 */
struct reason {
	uint8_t code;
	uint8_t fault_class;
	const char *text;
};

static const struct reason reasons[] = {
	{ 0x01, MOAT_FAULT_BAD_DEVICE, "root entry not present: no device on this bus is attached" },
	{ 0x02, MOAT_FAULT_BAD_DEVICE, "context entry not present: device not attached to a domain" },
	{ 0x03, MOAT_FAULT_INVALID_USE,
	  "invalid context entry: unsupported address width or translation type, or unreadable table" },
	{ 0x04, MOAT_FAULT_BAD_ADDRESS, "address above the domain's address width (context AW or MGAW)" },
	{ 0x05, MOAT_FAULT_BAD_ADDRESS, "write to a page not mapped writable (or not mapped)" },
	{ 0x06, MOAT_FAULT_BAD_ADDRESS, "read from a page not mapped readable (or not mapped)" },
	{ 0x07, MOAT_FAULT_INVALID_USE, "second-level paging entry could not be read" },
	{ 0x08, MOAT_FAULT_INVALID_USE, "root table could not be read (RTADDR)" },
	{ 0x09, MOAT_FAULT_INVALID_USE, "context table could not be read (root entry pointer)" },
	{ 0x0a, MOAT_FAULT_INVALID_USE, "reserved field set in a present root entry" },
	{ 0x0b, MOAT_FAULT_INVALID_USE, "reserved field set in a present context entry" },
	{ 0x0c, MOAT_FAULT_INVALID_USE, "reserved field set in a second-level paging entry with a permission" },
	{ 0x0d, MOAT_FAULT_BAD_DEVICE,
	  "translation request or translated request blocked by the context entry's translation type" },
	{ 0x0e, MOAT_FAULT_INVALID_USE, "translation result lies in the interrupt address range (0xfeexxxxx)" },
	{ 0x20, MOAT_FAULT_BAD_DEVICE, "reserved field set in a remappable interrupt request" },
	{ 0x21, MOAT_FAULT_BAD_DEVICE, "interrupt index beyond the interrupt remapping table" },
	{ 0x22, MOAT_FAULT_BAD_DEVICE, "interrupt remapping table entry not present" },
	{ 0x23, MOAT_FAULT_INVALID_USE, "interrupt remapping table could not be read (IRTA)" },
	{ 0x24, MOAT_FAULT_INVALID_USE, "reserved field set in a present interrupt remapping table entry" },
	{ 0x25, MOAT_FAULT_BAD_DEVICE, "compatibility-format interrupt blocked" },
	{ 0x26, MOAT_FAULT_BAD_DEVICE, "interrupt request failed source-id verification" },
	{ 0x27, MOAT_FAULT_INVALID_USE, "posted-interrupt descriptor could not be accessed" },
};

static const char unknown_reason[] = "fault reason not assigned in legacy mode (reserved or scalable-mode code)";

static const struct reason *reason_find(unsigned code)
{
	for (unsigned i = 0; i < MOAT_ARRAY_SIZE(reasons); i++)
		if (reasons[i].code == code)
			return &reasons[i];
	return NULL;
}

const char *moat_vtd_fault_reason_text(unsigned code)
{
	const struct reason *r = reason_find(code);

	return r ? r->text : unknown_reason;
}

enum moat_fault_class moat_vtd_fault_reason_class(unsigned code)
{
	const struct reason *r = reason_find(code);

	return r ? (enum moat_fault_class)r->fault_class : MOAT_FAULT_UNKNOWN;
}

const char *moat_fault_class_str(enum moat_fault_class c)
{
	switch (c) {
	case MOAT_FAULT_BAD_ADDRESS:
		return "bad address";
	case MOAT_FAULT_BAD_DEVICE:
		return "bad device";
	case MOAT_FAULT_INVALID_USE:
		return "invalid use";
	case MOAT_FAULT_UNKNOWN:
		break;
	}
	return "unknown";
}

void moat_vtd_fault_decode(uint64_t lo, uint64_t hi, uint16_t segment, struct moat_fault *out)
{
	unsigned code = (unsigned)VTD_GET(VTD_FRCD_HI_FR, hi);

	moat_memset(out, 0, sizeof(*out));
	out->vendor = MOAT_VENDOR_VTD;
	out->segment = segment;
	out->rid = (uint16_t)VTD_GET(VTD_FRCD_HI_SID, hi);
	out->reason = (uint16_t)code;
	out->reason_text = moat_vtd_fault_reason_text(code);
	out->fault_class = moat_vtd_fault_reason_class(code);
	out->domain_id = -1;
	out->pasid_present = (hi & VTD_FRCD_HI_PP) != 0;
	out->pasid = out->pasid_present ? (uint32_t)VTD_GET(VTD_FRCD_HI_PV, hi) : 0;
	if (code >= 0x20 && code <= 0x2f) {
		/* Interrupt-remapping faults carry the interrupt index in FI[63:48]; an interrupt
		 * request is a write. */
		out->is_interrupt = true;
		out->interrupt_index = (uint16_t)VTD_GET(VTD_FRCD_LO_IRQ_INDEX, lo);
		out->is_write = true;
		return;
	}
	out->address = lo & VTD_FRCD_LO_FI;
	out->is_write = !(hi & VTD_FRCD_HI_T1);
	out->is_atomic = (hi & VTD_FRCD_HI_T1) && (hi & VTD_FRCD_HI_T2);
}

moat_status moat_vtd_fault_poll(struct moat_vtd_unit *u, struct moat_fault *out, unsigned max,
				 struct moat_fault_poll *res)
{
	if (!moat_vtdi_probed(u))
		return MOAT_ERR_STATE;
	if (!res || (max && !out))
		return MOAT_ERR_INVALID_ARG;
	moat_memset(res, 0, sizeof(*res));

	unsigned nfr = u->caps.fault_records;
	uint32_t fsts = moat_vtdi_read32(u, VTD_FSTS_REG);
	unsigned first = (unsigned)VTD_GET(VTD_FSTS_FRI, fsts) % nfr;

	/* From FSTS.FRI (the oldest pending record) around all NFR records. */
	for (unsigned k = 0; k < nfr; k++) {
		uint32_t off = u->caps.fault_offset + ((first + k) % nfr) * VTD_FRCD_SIZE;
		uint64_t hi = moat_vtdi_read64(u, off + VTD_FRCD_HI);

		if (!(hi & VTD_FRCD_HI_F))
			continue;
		if (res->count == max) {
			res->remaining++;
			continue;
		}

		struct moat_fault *f = &out[res->count++];
		moat_vtd_fault_decode(moat_vtdi_read64(u, off + VTD_FRCD_LO), hi, u->segment, f);
		struct moat_vtd_context ctx;
		if (!f->is_interrupt && moat_vtd_context_get(u, f->rid, &ctx) == MOAT_OK)
			f->domain_id = ctx.did;
		/* F is write-1-to-clear; the other bits of that dword are read-only. */
		moat_vtdi_write32(u, off + VTD_FRCD_F_DWORD, (uint32_t)(VTD_FRCD_HI_F >> 32));
	}

	/* Overflow: faults arrived while every record was full and were dropped. Clearing PFO lets
	 * the hardware record again (the records it needs were just freed). */
	fsts = moat_vtdi_read32(u, VTD_FSTS_REG);
	if (fsts & VTD_FSTS_PFO) {
		res->overflows++;
		u->overflow_total++;
		moat_vtdi_write32(u, VTD_FSTS_REG, (uint32_t)VTD_FSTS_PFO);
	}
	res->overflow_total = u->overflow_total;
	return MOAT_OK;
}
