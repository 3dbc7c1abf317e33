/* SPDX-License-Identifier: BSD-2-Clause */
/* The event log: every event code decoded from hand-made entries, IO_PAGE_FAULT flags,
 * classification, head pointer, overflow and restart. */
#include "amdvi_test.h"

/*
 * An event entry from the layout of section 2.5: doubleword 0 = device id 15:0, PASID[19:16] in
 * 19:16; doubleword 1 = domain id (or PASID[15:0]) 15:0, flags 27:16, event code 31:28;
 * doublewords 2-3 = address.
 */
struct hand_event {
	uint64_t lo, hi;
};

static struct hand_event ev(unsigned code, uint16_t devid, unsigned pasid_hi, uint16_t dom, unsigned flags,
			    uint64_t addr)
{
	uint32_t dw0 = devid | ((uint32_t)(pasid_hi & 0xf) << 16);
	uint32_t dw1 = dom | ((uint32_t)(flags & 0xfff) << 16) | ((uint32_t)code << 28);

	return (struct hand_event){ dw0 | ((uint64_t)dw1 << 32), addr };
}

/* Flag bits within the flags field (IO_PAGE_FAULT, section 2.5.3) */
enum { F_GN = 1 << 0, F_NX = 1 << 1, F_US = 1 << 2, F_I = 1 << 3, F_PR = 1 << 4, F_RW = 1 << 5, F_PE = 1 << 6,
       F_RZ = 1 << 7, F_TR = 1 << 8 };

static const struct {
	unsigned code;
	const char *name;
	enum moat_fault_class cls;
	bool has_device;
} codes[16] = {
	{ 0x0, "unknown event 0x0", MOAT_FAULT_UNKNOWN, false },
	{ 0x1, "ILLEGAL_DEV_TABLE_ENTRY", MOAT_FAULT_INVALID_USE, true },
	{ 0x2, "IO_PAGE_FAULT", MOAT_FAULT_BAD_ADDRESS, true },
	{ 0x3, "DEV_TAB_HARDWARE_ERROR", MOAT_FAULT_INVALID_USE, true },
	{ 0x4, "PAGE_TAB_HARDWARE_ERROR", MOAT_FAULT_INVALID_USE, true },
	{ 0x5, "ILLEGAL_COMMAND_ERROR", MOAT_FAULT_INVALID_USE, false },
	{ 0x6, "COMMAND_HARDWARE_ERROR", MOAT_FAULT_INVALID_USE, false },
	{ 0x7, "IOTLB_INV_TIMEOUT", MOAT_FAULT_BAD_DEVICE, true },
	{ 0x8, "INVALID_DEVICE_REQUEST", MOAT_FAULT_BAD_DEVICE, true },
	{ 0x9, "INVALID_PPR_REQUEST", MOAT_FAULT_BAD_DEVICE, true },
	{ 0xa, "EVENT_COUNTER_ZERO", MOAT_FAULT_INVALID_USE, false },
	{ 0xb, "unknown event 0xb", MOAT_FAULT_UNKNOWN, false },
	{ 0xc, "unknown event 0xc", MOAT_FAULT_UNKNOWN, false },
	{ 0xd, "RMP_PAGE_FAULT", MOAT_FAULT_BAD_ADDRESS, true },
	{ 0xe, "RMP_HARDWARE_ERROR", MOAT_FAULT_INVALID_USE, true },
	{ 0xf, "unknown event 0xf", MOAT_FAULT_UNKNOWN, false },
};

static void every_event_code_has_a_name_a_text_and_a_class(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 16; c++) {
		const char *name = moat_amdvi_event_name(c), *text = moat_amdvi_event_text(c);
		struct moat_amdvi_event e;

		assert_string_equal(name, codes[c].name);
		assert_non_null(text);
		assert_int_equal(strncmp(text, name, strlen(name)), 0);
		for (unsigned k = 0; k < c; k++)
			assert_string_not_equal(text, moat_amdvi_event_text(k));
		/* a bare entry of that code (domain 7 so a page fault is not "blocked") */
		struct hand_event h = ev(c, 0x0123, 0, 7, 0, 0);
		moat_amdvi_event_parse(h.lo, h.hi, &e);
		assert_int_equal(e.code, c);
		assert_int_equal(moat_amdvi_event_class(&e), codes[c].cls);
	}
	assert_non_null(moat_amdvi_event_name(16));
	assert_non_null(moat_amdvi_event_text(1000));
}

/* Every code goes through the log and comes out decoded, in order. */
static void every_event_code_is_decoded_from_the_log(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);
	struct moat_fault f[16];
	struct moat_fault_poll res;

	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	for (unsigned c = 0; c < 16; c++) {
		struct hand_event h = ev(c, (uint16_t)(0x100 + c), 0, (uint16_t)(0x40 + c), F_RW,
					 0x0000fedcba987000ull + c * 0x1000ull);
		assert_true(sim_amdvi_event_append(s, h.lo, h.hi));
	}
	assert_int_equal(moat_amdvi_event_poll(&u, f, 16, &res), MOAT_OK);
	assert_int_equal(res.count, 16);
	assert_int_equal(res.remaining, 0);
	assert_int_equal(res.overflows, 0);
	for (unsigned c = 0; c < 16; c++) {
		assert_int_equal(f[c].vendor, MOAT_VENDOR_AMDVI);
		assert_int_equal(f[c].segment, 0);
		assert_int_equal(f[c].reason, c);
		assert_string_equal(f[c].reason_text, moat_amdvi_event_text(c));
		assert_int_equal(f[c].address, 0x0000fedcba987000ull + c * 0x1000ull);
		assert_int_equal(f[c].rid, codes[c].has_device ? 0x100 + c : 0);
		assert_false(f[c].is_interrupt);
		assert_false(f[c].pasid_present);
		if (codes[c].has_device && c != 5 && c != 6 && c != 0xa)
			assert_true(f[c].is_write);
		/* ids 0x100+ are blocked devices (the blocking entry), so a page fault is the device's */
		enum moat_fault_class want = codes[c].cls;
		if (c == 2)
			want = MOAT_FAULT_BAD_DEVICE;
		assert_int_equal(f[c].fault_class, want);
		assert_int_equal(f[c].domain_id, -1);
	}
	/* the head register moved past all of them */
	assert_int_equal(s->evthead, 16 << 4);
	assert_int_equal(s->evthead, s->evttail);
	unit_teardown(&u, s);
}

static void io_page_fault_flags_are_decoded_and_classified(void **state)
{
	(void)state;
	static const struct {
		unsigned flags;
		uint16_t dom;
		bool write, interrupt, pasid;
		enum moat_fault_class cls;
		int32_t domain;
	} cases[] = {
		{ 0, 9, false, false, false, MOAT_FAULT_BAD_ADDRESS, 9 },                /* read, not present */
		{ F_RW, 9, true, false, false, MOAT_FAULT_BAD_ADDRESS, 9 },              /* write, not present */
		{ F_PR | F_RW | F_PE, 9, true, false, false, MOAT_FAULT_BAD_ADDRESS, 9 }, /* write to read-only */
		{ F_PR | F_PE, 9, false, false, false, MOAT_FAULT_BAD_ADDRESS, 9 },      /* read denied */
		{ F_PR | F_US | F_NX, 9, false, false, false, MOAT_FAULT_BAD_ADDRESS, 9 },
		{ F_RZ | F_PR, 9, false, false, false, MOAT_FAULT_INVALID_USE, 9 },      /* reserved bit set */
		{ F_TR, 9, false, false, false, MOAT_FAULT_BAD_DEVICE, 9 },              /* ATS translation request */
		{ F_I | F_RW, 9, true, true, false, MOAT_FAULT_BAD_DEVICE, 9 },          /* interrupt request */
		{ F_RW, 0, true, false, false, MOAT_FAULT_BAD_DEVICE, -1 },              /* domain 0: blocking entry */
		{ F_GN | F_RW, 0x2345, true, false, true, MOAT_FAULT_BAD_ADDRESS, -1 },  /* guest: a PASID */
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hand_event h = ev(2, 0x0218, 0x7, cases[i].dom, cases[i].flags, 0x12345678000ull);
		struct moat_amdvi_event e;
		struct moat_fault f;

		moat_amdvi_event_parse(h.lo, h.hi, &e);
		assert_int_equal(e.code, 2);
		assert_int_equal(e.flags, cases[i].flags);
		assert_int_equal(e.device_id, 0x0218);
		assert_int_equal(e.address, 0x12345678000ull);
		moat_amdvi_event_decode(h.lo, h.hi, 3, &f);
		assert_int_equal(f.segment, 3);
		assert_int_equal(f.rid, 0x0218);
		assert_int_equal(f.is_write, cases[i].write);
		assert_int_equal(f.is_interrupt, cases[i].interrupt);
		assert_int_equal(f.pasid_present, cases[i].pasid);
		if (cases[i].pasid)
			assert_int_equal(f.pasid, 0x72345);
		else
			assert_int_equal(f.pasid, 0);
		if (f.fault_class != cases[i].cls)
			fail_msg("case %u: class %s", i, moat_fault_class_str(f.fault_class));
		assert_int_equal(f.domain_id, cases[i].domain);
	}
}

/* Hardware-error types and the request type of INVALID_DEVICE_REQUEST. */
static void error_types_are_decoded(void **state)
{
	(void)state;
	struct moat_amdvi_event e;

	/* PAGE_TAB_HARDWARE_ERROR, target abort (type 01b in flags bits 10:9), write, domain 5 */
	struct hand_event h = ev(4, 0x0010, 0, 5, (1u << 9) | F_RW, 0x7f000123008ull);
	moat_amdvi_event_parse(h.lo, h.hi, &e);
	assert_int_equal(e.type, 1);
	assert_int_equal(e.flags, F_RW);
	assert_int_equal(e.domain_id, 5);
	/* DEV_TAB_HARDWARE_ERROR, data error (10b) */
	h = ev(3, 0x0010, 0, 0, 2u << 9, 0x7f000200200ull);
	moat_amdvi_event_parse(h.lo, h.hi, &e);
	assert_int_equal(e.type, 2);
	assert_int_equal(e.domain_id, -1);
	/* INVALID_DEVICE_REQUEST, request type 110b (translation request with ATS disabled), TR */
	h = ev(8, 0x0010, 0, 0, (6u << 9) | F_TR, 0x1000);
	moat_amdvi_event_parse(h.lo, h.hi, &e);
	assert_int_equal(e.type, 6);
	assert_int_equal(e.flags, F_TR);
	assert_int_equal(moat_amdvi_event_class(&e), MOAT_FAULT_BAD_DEVICE);
	/* COMMAND_HARDWARE_ERROR: no device */
	h = ev(6, 0x1234, 0, 0, 1u << 9, 0x7f000300010ull);
	moat_amdvi_event_parse(h.lo, h.hi, &e);
	assert_int_equal(e.device_id, 0);
	assert_int_equal(e.type, 1);
	assert_int_equal(e.address, 0x7f000300010ull);
}

/* The poll looks at the device table: an attached device's fault is a bad address in its domain. */
static void poll_uses_the_device_table(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);
	struct moat_fault f[4];
	struct moat_fault_poll res;

	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_amdvi_attach(&u, 0x10, 9, 0x7f000100000ull, 4, NULL), MOAT_OK);
	struct hand_event a = ev(2, 0x10, 0, 9, F_RW, 0x5000);       /* attached: bad address */
	struct hand_event b = ev(2, 0x18, 0, 0x33, 0, 0x5000);       /* blocked, odd domain: bad device */
	struct hand_event c = ev(1, 0x10, 0, 0, F_RZ, 0x6000);       /* illegal entry: domain from the table */
	struct hand_event d = ev(2, 0x7fff, 0, 4, 0, 0x6000);        /* beyond the table: as decoded */
	assert_true(sim_amdvi_event_append(s, a.lo, a.hi));
	assert_true(sim_amdvi_event_append(s, b.lo, b.hi));
	assert_true(sim_amdvi_event_append(s, c.lo, c.hi));
	assert_true(sim_amdvi_event_append(s, d.lo, d.hi));
	assert_int_equal(moat_amdvi_event_poll(&u, f, 4, &res), MOAT_OK);
	assert_int_equal(res.count, 4);
	assert_int_equal(f[0].fault_class, MOAT_FAULT_BAD_ADDRESS);
	assert_int_equal(f[0].domain_id, 9);
	assert_true(f[0].is_write);
	assert_int_equal(f[1].fault_class, MOAT_FAULT_BAD_DEVICE);
	assert_int_equal(f[1].domain_id, -1);
	assert_int_equal(f[2].fault_class, MOAT_FAULT_INVALID_USE);
	assert_int_equal(f[2].domain_id, 9);
	assert_int_equal(f[3].fault_class, MOAT_FAULT_BAD_ADDRESS);
	assert_int_equal(f[3].domain_id, 4);
	unit_teardown(&u, s);
}

static void head_advances_past_what_was_read_only(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);
	struct moat_fault f[8];
	struct moat_fault_poll res;

	/* before enable there is no log */
	assert_int_equal(moat_amdvi_event_poll(&u, f, 8, &res), MOAT_OK);
	assert_int_equal(res.count, 0);
	assert_int_equal(s->nlog, 0);
	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	for (unsigned i = 0; i < 5; i++) {
		struct hand_event h = ev(2, 0x10, 0, 1, 0, 0x1000ull * (i + 1));
		assert_true(sim_amdvi_event_append(s, h.lo, h.hi));
	}
	assert_int_equal(moat_amdvi_event_poll(&u, f, 2, &res), MOAT_OK);
	assert_int_equal(res.count, 2);
	assert_int_equal(res.remaining, 3);
	assert_int_equal(s->evthead, 2 << 4);
	assert_int_equal(f[0].address, 0x1000);
	assert_int_equal(f[1].address, 0x2000);
	assert_int_equal(moat_amdvi_event_poll(&u, f, 8, &res), MOAT_OK);
	assert_int_equal(res.count, 3);
	assert_int_equal(f[0].address, 0x3000);
	assert_int_equal(s->evthead, 5 << 4);
	/* nothing pending: no head write */
	unsigned writes = sim_amdvi_count_writes(s, SIM_EVTHEAD);
	assert_int_equal(moat_amdvi_event_poll(&u, f, 8, &res), MOAT_OK);
	assert_int_equal(res.count, 0);
	assert_int_equal(sim_amdvi_count_writes(s, SIM_EVTHEAD), writes);
	/* a poll with no room only counts */
	struct hand_event h = ev(2, 0x10, 0, 1, 0, 0x9000);
	assert_true(sim_amdvi_event_append(s, h.lo, h.hi));
	assert_int_equal(moat_amdvi_event_poll(&u, NULL, 0, &res), MOAT_OK);
	assert_int_equal(res.remaining, 1);
	assert_int_equal(s->evthead, 5 << 4);
	/* bad arguments */
	assert_int_equal(moat_amdvi_event_poll(&u, NULL, 1, &res), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_amdvi_event_poll(&u, f, 1, NULL), MOAT_ERR_INVALID_ARG);
	unit_teardown(&u, s);
	assert_int_equal(moat_amdvi_event_poll(&u, f, 1, &res), MOAT_ERR_STATE);
}

/* Hundreds of events through the 256-entry ring: the head wraps, order is kept. */
static void the_log_wraps_around(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);
	struct moat_fault f[100];
	struct moat_fault_poll res;
	unsigned next = 0;

	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	for (unsigned round = 0; round < 10; round++) {
		for (unsigned i = 0; i < 77; i++) {
			struct hand_event h = ev(2, 0x10, 0, 1, 0, 0x1000ull * (round * 77 + i));
			assert_true(sim_amdvi_event_append(s, h.lo, h.hi));
		}
		assert_int_equal(moat_amdvi_event_poll(&u, f, 100, &res), MOAT_OK);
		assert_int_equal(res.count, 77);
		for (unsigned i = 0; i < 77; i++)
			assert_int_equal(f[i].address, 0x1000ull * next++);
	}
	assert_int_equal(s->evthead, ((770 % 256) << 4));
	assert_int_equal(s->events_dropped, 0);
	unit_teardown(&u, s);
}

/* A full log overflows: the loss is counted, the flag cleared and the log restarted. */
static void overflow_is_counted_and_the_log_restarted(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);
	static struct moat_fault f[300];
	struct moat_fault_poll res;

	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	for (unsigned i = 0; i < 260; i++) {
		struct hand_event h = ev(2, 0x10, 0, 1, 0, 0x1000ull * i);
		sim_amdvi_event_append(s, h.lo, h.hi);
	}
	assert_int_equal(s->events_logged, 255);        /* one slot stays empty */
	assert_int_equal(s->overflows, 1);
	assert_true(s->status & SIM_STS_EVT_OVERFLOW);
	assert_false(s->status & SIM_STS_EVT_RUN);
	unsigned mark = s->nlog;
	assert_int_equal(moat_amdvi_event_poll(&u, f, 300, &res), MOAT_OK);
	assert_int_equal(res.count, 255);
	assert_int_equal(f[254].address, 0x1000ull * 254);
	assert_int_equal(res.overflows, 1);
	assert_int_equal(res.overflow_total, 1);
	assert_int_equal(u.overflow_total, 1);
	/* restart: EventLogEn off, EventOverflow cleared, EventLogEn on */
	int off = sim_amdvi_find_write(s, SIM_CONTROL, mark);
	int clr = sim_amdvi_find_write(s, SIM_STATUS, mark);
	int on = off < 0 ? -1 : sim_amdvi_find_write(s, SIM_CONTROL, (unsigned)off + 1);
	assert_true(off >= 0 && clr > off && on > clr);
	assert_int_equal(s->log[off].value & SIM_CTL_EVTLOG_EN, 0);
	assert_true(s->log[clr].value & SIM_STS_EVT_OVERFLOW);
	assert_true(s->log[on].value & SIM_CTL_EVTLOG_EN);
	assert_true(s->log[on].value & SIM_CTL_IOMMU_EN);
	assert_false(s->status & SIM_STS_EVT_OVERFLOW);
	assert_true(s->status & SIM_STS_EVT_RUN);
	assert_int_equal(s->violations, 0);
	/* events are logged again; the total stays */
	struct hand_event h = ev(2, 0x10, 0, 1, 0, 0xabc000);
	assert_true(sim_amdvi_event_append(s, h.lo, h.hi));
	assert_int_equal(moat_amdvi_event_poll(&u, f, 300, &res), MOAT_OK);
	assert_int_equal(res.count, 1);
	assert_int_equal(f[0].address, 0xabc000);
	assert_int_equal(res.overflows, 0);
	assert_int_equal(res.overflow_total, 1);
	unit_teardown(&u, s);
}

static void a_log_that_does_not_restart_is_a_timeout(void **state)
{
	(void)state;
	struct moat_amdvi_unit u;
	struct test_desc t;
	struct sim_amdvi *s = unit_setup(&u, &t, EFR_QEMU);
	struct moat_fault f[4];
	struct moat_fault_poll res;

	assert_int_equal(moat_amdvi_enable(&u, NULL), MOAT_OK);
	for (unsigned i = 0; i < 256; i++) {
		struct hand_event h = ev(2, 0x10, 0, 1, 0, 0);
		sim_amdvi_event_append(s, h.lo, h.hi);
	}
	s->stop_stuck = true;     /* EventLogRun stays set (the overflow cleared it already: it stays clear) */
	s->run_stuck = true;      /* and never comes back */
	assert_int_equal(moat_amdvi_event_poll(&u, f, 4, &res), MOAT_ERR_TIMEOUT);
	assert_int_equal(res.count, 4);
	assert_int_equal(res.overflows, 1);
	unit_teardown(&u, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_event_code_has_a_name_a_text_and_a_class),
		cmocka_unit_test(every_event_code_is_decoded_from_the_log),
		cmocka_unit_test(io_page_fault_flags_are_decoded_and_classified),
		cmocka_unit_test(error_types_are_decoded),
		cmocka_unit_test(poll_uses_the_device_table),
		cmocka_unit_test(head_advances_past_what_was_read_only),
		cmocka_unit_test(the_log_wraps_around),
		cmocka_unit_test(overflow_is_counted_and_the_log_restarted),
		cmocka_unit_test(a_log_that_does_not_restart_is_a_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
