/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The event log (section 2.5): a ring of 256 entries of 128 bits in one page that the IOMMU
 * fills at its tail; Moat reads from the head and moves the head register past what it read.
 * Decoding into the vendor-neutral struct moat_fault, with the classification rule documented
 * at moat_amdvi_event_class() in moat/amdvi.h.
 */
#include "amdvi_internal.h"

moat_status moat_amdvii_evt_init(struct moat_amdvi_unit *u, struct moat_diag *diag)
{
	if (u->evt)
		return MOAT_OK;
	u->evt = moat_pages_alloc(&u->pages, &u->evt_phys);
	if (!u->evt)
		return moat_diag_set(diag, MOAT_ERR_NO_MEMORY, NULL, AMDVI_EVTLOG_BASE_REG,
				     "AMD-Vi unit 0x%llx: no page for the event log", (unsigned long long)u->reg_phys);
	moat_amdvii_flush_range(u, u->evt, MOAT_PAGE_SIZE);
	return MOAT_OK;
}

void moat_amdvii_evt_free(struct moat_amdvi_unit *u)
{
	if (u->evt)
		moat_pages_free(&u->pages, u->evt, u->evt_phys);
	u->evt = NULL;
	u->evt_phys = 0;
}

/* ---- names, texts, classes ---- */

struct event_info {
	const char *name;
	const char *text;
	uint8_t fault_class;
	bool has_device;      /* the entry names a device id */
};

/* Indexed by the 4-bit event code. Codes the specification does not define get the unknown form. */
static const struct event_info events[16] = {
	[0x0] = { "unknown event 0x0", "unknown event 0x0", MOAT_FAULT_UNKNOWN, false },
	[0x1] = { "ILLEGAL_DEV_TABLE_ENTRY",
		  "ILLEGAL_DEV_TABLE_ENTRY: the device-table entry has a reserved or inconsistent field",
		  MOAT_FAULT_INVALID_USE, true },
	[0x2] = { "IO_PAGE_FAULT", "IO_PAGE_FAULT: the request's translation is not present or lacks the permission",
		  MOAT_FAULT_BAD_ADDRESS, true },
	[0x3] = { "DEV_TAB_HARDWARE_ERROR", "DEV_TAB_HARDWARE_ERROR: the device table could not be read",
		  MOAT_FAULT_INVALID_USE, true },
	[0x4] = { "PAGE_TAB_HARDWARE_ERROR", "PAGE_TAB_HARDWARE_ERROR: a page-table entry could not be read",
		  MOAT_FAULT_INVALID_USE, true },
	[0x5] = { "ILLEGAL_COMMAND_ERROR", "ILLEGAL_COMMAND_ERROR: the command buffer held an illegal command",
		  MOAT_FAULT_INVALID_USE, false },
	[0x6] = { "COMMAND_HARDWARE_ERROR", "COMMAND_HARDWARE_ERROR: a command could not be read or its store failed",
		  MOAT_FAULT_INVALID_USE, false },
	[0x7] = { "IOTLB_INV_TIMEOUT", "IOTLB_INV_TIMEOUT: a device did not answer an IOTLB invalidation",
		  MOAT_FAULT_BAD_DEVICE, true },
	[0x8] = { "INVALID_DEVICE_REQUEST", "INVALID_DEVICE_REQUEST: the device issued a request its entry does not allow",
		  MOAT_FAULT_BAD_DEVICE, true },
	[0x9] = { "INVALID_PPR_REQUEST", "INVALID_PPR_REQUEST: the device issued a page request it may not issue",
		  MOAT_FAULT_BAD_DEVICE, true },
	[0xa] = { "EVENT_COUNTER_ZERO", "EVENT_COUNTER_ZERO: a performance counter Moat never programs reached zero",
		  MOAT_FAULT_INVALID_USE, false },
	[0xb] = { "unknown event 0xb", "unknown event 0xb", MOAT_FAULT_UNKNOWN, false },
	[0xc] = { "unknown event 0xc", "unknown event 0xc", MOAT_FAULT_UNKNOWN, false },
	[0xd] = { "RMP_PAGE_FAULT", "RMP_PAGE_FAULT: the reverse-map table denies the device this page",
		  MOAT_FAULT_BAD_ADDRESS, true },
	[0xe] = { "RMP_HARDWARE_ERROR", "RMP_HARDWARE_ERROR: the reverse-map table could not be read",
		  MOAT_FAULT_INVALID_USE, true },
	[0xf] = { "unknown event 0xf", "unknown event 0xf", MOAT_FAULT_UNKNOWN, false },
};

static const char unknown_wide[] = "unknown event (code beyond 4 bits)";

const char *moat_amdvi_event_name(unsigned code)
{
	return code < MOAT_ARRAY_SIZE(events) ? events[code].name : unknown_wide;
}

const char *moat_amdvi_event_text(unsigned code)
{
	return code < MOAT_ARRAY_SIZE(events) ? events[code].text : unknown_wide;
}

/* ---- decoding ---- */

void moat_amdvi_event_parse(uint64_t lo, uint64_t hi, struct moat_amdvi_event *ev)
{
	moat_memset(ev, 0, sizeof(*ev));
	ev->raw[0] = lo;
	ev->raw[1] = hi;
	ev->code = (uint8_t)AMDVI_GET(AMDVI_EV0_CODE, lo);
	ev->device_id = events[ev->code].has_device ? (uint16_t)AMDVI_GET(AMDVI_EV0_DEVICE_ID, lo) : 0;
	ev->address = hi;
	ev->domain_id = -1;

	switch (ev->code) {
	case AMDVI_EV_INVALID_DEVICE_REQUEST:
		ev->type = (uint8_t)AMDVI_GET(AMDVI_EV0_TYPE3, lo);
		ev->flags = (uint16_t)(AMDVI_GET(AMDVI_EV0_FLAGS, lo) & 0x1ff);
		break;
	case AMDVI_EV_DEV_TAB_HARDWARE_ERROR:
	case AMDVI_EV_PAGE_TAB_HARDWARE_ERROR:
	case AMDVI_EV_COMMAND_HARDWARE_ERROR:
	case AMDVI_EV_RMP_HARDWARE_ERROR:
		ev->type = (uint8_t)AMDVI_GET(AMDVI_EV0_TYPE2, lo);
		ev->flags = (uint16_t)(AMDVI_GET(AMDVI_EV0_FLAGS, lo) & 0x1ff);
		break;
	case AMDVI_EV_ILLEGAL_COMMAND_ERROR:
	case AMDVI_EV_EVENT_COUNTER_ZERO:
		break;
	default:
		ev->flags = (uint16_t)(AMDVI_GET(AMDVI_EV0_FLAGS, lo) & 0x1ff);
		break;
	}
	if (!events[ev->code].has_device)
		return;
	ev->pasid_present = (ev->flags & MOAT_AMDVI_EVF_GN) != 0;
	if (ev->pasid_present)
		ev->pasid = (uint32_t)(AMDVI_GET(AMDVI_EV0_PASID_HI, lo) << 16 | AMDVI_GET(AMDVI_EV0_DOMAIN_ID, lo));
	else if (ev->code == AMDVI_EV_IO_PAGE_FAULT || ev->code == AMDVI_EV_PAGE_TAB_HARDWARE_ERROR)
		ev->domain_id = (int32_t)AMDVI_GET(AMDVI_EV0_DOMAIN_ID, lo);
}

enum moat_fault_class moat_amdvi_event_class(const struct moat_amdvi_event *ev)
{
	if (ev->code != AMDVI_EV_IO_PAGE_FAULT)
		return (enum moat_fault_class)events[ev->code & 0xf].fault_class;
	if (ev->flags & MOAT_AMDVI_EVF_RZ)
		return MOAT_FAULT_INVALID_USE;
	if (ev->flags & (MOAT_AMDVI_EVF_TR | MOAT_AMDVI_EVF_I))
		return MOAT_FAULT_BAD_DEVICE;
	if (ev->domain_id == 0)
		return MOAT_FAULT_BAD_DEVICE;
	return MOAT_FAULT_BAD_ADDRESS;
}

static void to_fault(const struct moat_amdvi_event *ev, uint16_t segment, struct moat_fault *out)
{
	moat_memset(out, 0, sizeof(*out));
	out->vendor = MOAT_VENDOR_AMDVI;
	out->segment = segment;
	out->rid = ev->device_id;
	out->address = ev->address;
	out->is_write = (ev->flags & MOAT_AMDVI_EVF_RW) != 0;
	/* An interrupt: the I flag, or a posted write to the interrupt range that IntCtl 00b aborted. */
	out->is_interrupt = (ev->flags & MOAT_AMDVI_EVF_I) != 0 ||
			    (ev->code == AMDVI_EV_INVALID_DEVICE_REQUEST && ev->type == AMDVI_IDR_INTERRUPT_ABORTED);
	out->pasid_present = ev->pasid_present;
	out->pasid = ev->pasid;
	out->reason = ev->code;
	out->reason_text = moat_amdvi_event_text(ev->code);
	out->fault_class = moat_amdvi_event_class(ev);
	out->domain_id = ev->domain_id > 0 ? ev->domain_id : -1;
}

void moat_amdvi_event_decode(uint64_t lo, uint64_t hi, uint16_t segment, struct moat_fault *out)
{
	struct moat_amdvi_event ev;

	moat_amdvi_event_parse(lo, hi, &ev);
	to_fault(&ev, segment, out);
}

/* What the device table says when polled: a blocking entry makes a page fault the device's. */
static void refine(const struct moat_amdvi_unit *u, const struct moat_amdvi_event *ev, struct moat_fault *f)
{
	if (!events[ev->code].has_device || ev->device_id >= u->dt_entries || !u->dt_phys)
		return;
	const volatile uint64_t *e = moat_amdvii_dte(u, ev->device_id);
	bool translates = (e[0] & AMDVI_DTE0_V) && (e[0] & AMDVI_DTE0_TV);

	if (!translates) {
		f->domain_id = -1;
		if (f->fault_class == MOAT_FAULT_BAD_ADDRESS && ev->code == AMDVI_EV_IO_PAGE_FAULT)
			f->fault_class = MOAT_FAULT_BAD_DEVICE;
	} else if (f->domain_id < 0 && !ev->pasid_present) {
		f->domain_id = (int32_t)AMDVI_GET(AMDVI_DTE1_DOMAIN_ID, e[1]);
	}
}

/* Section 2.5: after an overflow the log stays stopped until software restarts it. */
static moat_status restart_log(struct moat_amdvi_unit *u)
{
	uint64_t ctrl = moat_amdvii_read(u, AMDVI_CONTROL_REG);
	moat_status st;

	moat_amdvii_write(u, AMDVI_CONTROL_REG, ctrl & ~AMDVI_CTRL_EVENT_LOG_EN);
	st = moat_amdvii_wait(u, AMDVI_STATUS_REG, AMDVI_STS_EVENT_LOG_RUN, 0,
			      "Status.EventLogRun clear after Control.EventLogEn = 0", NULL);
	if (st != MOAT_OK)
		return st;
	moat_amdvii_write(u, AMDVI_STATUS_REG, AMDVI_STS_EVENT_OVERFLOW);
	if (!(ctrl & AMDVI_CTRL_EVENT_LOG_EN))
		return MOAT_OK;
	moat_amdvii_write(u, AMDVI_CONTROL_REG, ctrl);
	return moat_amdvii_wait(u, AMDVI_STATUS_REG, AMDVI_STS_EVENT_LOG_RUN, AMDVI_STS_EVENT_LOG_RUN,
				"Status.EventLogRun set after Control.EventLogEn = 1", NULL);
}

moat_status moat_amdvi_event_poll(struct moat_amdvi_unit *u, struct moat_fault *out, unsigned max,
				  struct moat_fault_poll *res)
{
	moat_status st = MOAT_OK;

	if (!moat_amdvii_probed(u))
		return MOAT_ERR_STATE;
	if (!res || (max && !out))
		return MOAT_ERR_INVALID_ARG;
	moat_memset(res, 0, sizeof(*res));
	if (!u->evt) {
		res->overflow_total = u->overflow_total;
		return MOAT_OK;
	}
	/* Re-armed before the log is read: an event written after this raises the interrupt again. */
	if (u->event_irq && (moat_amdvii_read(u, AMDVI_STATUS_REG) & AMDVI_STS_EVENT_LOG_INT))
		moat_amdvii_write(u, AMDVI_STATUS_REG, AMDVI_STS_EVENT_LOG_INT);

	uint32_t head = (uint32_t)(AMDVI_GET(AMDVI_RING_PTR, moat_amdvii_read(u, AMDVI_EVTLOG_HEAD_REG)) %
				   AMDVI_RING_ENTRIES);
	uint32_t tail = (uint32_t)(AMDVI_GET(AMDVI_RING_PTR, moat_amdvii_read(u, AMDVI_EVTLOG_TAIL_REG)) %
				   AMDVI_RING_ENTRIES);
	uint32_t pending = (tail + AMDVI_RING_ENTRIES - head) % AMDVI_RING_ENTRIES;
	uint32_t start = head;

	moat_plat_mb();
	for (uint32_t k = 0; k < pending; k++) {
		if (res->count == max) {
			res->remaining = pending - k;
			break;
		}
		const volatile uint64_t *entry = &u->evt[head * 2];
		struct moat_amdvi_event ev;
		struct moat_fault *f = &out[res->count++];

		moat_amdvii_refresh_range(u, entry, AMDVI_RING_ENTRY_SIZE);
		moat_amdvi_event_parse(entry[0], entry[1], &ev);
		to_fault(&ev, u->segment, f);
		refine(u, &ev, f);
		head = (head + 1) % AMDVI_RING_ENTRIES;
	}
	if (head != start) {
		moat_plat_mb();
		moat_amdvii_write(u, AMDVI_EVTLOG_HEAD_REG, AMDVI_PREP(AMDVI_RING_PTR, head));
	}

	/* Events arrived while the log was full and were lost: count, clear and restart. */
	if (moat_amdvii_read(u, AMDVI_STATUS_REG) & AMDVI_STS_EVENT_OVERFLOW) {
		res->overflows++;
		u->overflow_total++;
		st = restart_log(u);
	}
	res->overflow_total = u->overflow_total;
	return st;
}
