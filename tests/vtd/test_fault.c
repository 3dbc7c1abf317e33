/* SPDX-License-Identifier: BSD-2-Clause */
/* Fault recording: reason codes, decoding, clearing, overflow. */
#include "vtd_test.h"

/* A fault record's high quadword, from the layout of section 10.4.14 (F is added by the simulator). */
static uint64_t rec_hi(uint16_t sid, uint8_t reason, bool read, bool atomic, bool pp, uint32_t pasid)
{
	return sid | ((uint64_t)reason << 32) | ((uint64_t)read << 62) | ((uint64_t)atomic << 28) |
	       ((uint64_t)pp << 31) | ((uint64_t)pasid << 40);
}

static const struct {
	unsigned code;
	enum moat_fault_class cls;
	const char *word;
} known[] = {
	{ 0x01, MOAT_FAULT_BAD_DEVICE, "root entry not present" },
	{ 0x02, MOAT_FAULT_BAD_DEVICE, "context entry not present" },
	{ 0x03, MOAT_FAULT_INVALID_USE, "invalid context entry" },
	{ 0x04, MOAT_FAULT_BAD_ADDRESS, "address width" },
	{ 0x05, MOAT_FAULT_BAD_ADDRESS, "write" },
	{ 0x06, MOAT_FAULT_BAD_ADDRESS, "read" },
	{ 0x07, MOAT_FAULT_INVALID_USE, "paging entry could not be read" },
	{ 0x08, MOAT_FAULT_INVALID_USE, "root table could not be read" },
	{ 0x09, MOAT_FAULT_INVALID_USE, "context table could not be read" },
	{ 0x0a, MOAT_FAULT_INVALID_USE, "reserved field set in a present root entry" },
	{ 0x0b, MOAT_FAULT_INVALID_USE, "reserved field set in a present context entry" },
	{ 0x0c, MOAT_FAULT_INVALID_USE, "reserved field set in a second-level paging entry" },
	{ 0x0d, MOAT_FAULT_BAD_DEVICE, "translation type" },
	{ 0x0e, MOAT_FAULT_INVALID_USE, "interrupt address range" },
	{ 0x20, MOAT_FAULT_BAD_DEVICE, "remappable interrupt request" },
	{ 0x21, MOAT_FAULT_BAD_DEVICE, "interrupt index" },
	{ 0x22, MOAT_FAULT_BAD_DEVICE, "entry not present" },
	{ 0x23, MOAT_FAULT_INVALID_USE, "IRTA" },
	{ 0x24, MOAT_FAULT_INVALID_USE, "reserved field set in a present interrupt" },
	{ 0x25, MOAT_FAULT_BAD_DEVICE, "compatibility-format" },
	{ 0x26, MOAT_FAULT_BAD_DEVICE, "source-id" },
	{ 0x27, MOAT_FAULT_INVALID_USE, "posted-interrupt descriptor" },
};
#define NKNOWN (sizeof(known) / sizeof(known[0]))

static int known_index(unsigned code)
{
	for (unsigned i = 0; i < NKNOWN; i++)
		if (known[i].code == code)
			return (int)i;
	return -1;
}

static void every_reason_code_has_a_text_and_class(void **state)
{
	(void)state;
	const char *generic = moat_vtd_fault_reason_text(0);

	assert_non_null(generic);
	for (unsigned code = 0; code < 256; code++) {
		const char *t = moat_vtd_fault_reason_text(code);
		int k = known_index(code);

		assert_non_null(t);
		if (k < 0) {
			assert_string_equal(t, generic);
			assert_int_equal(moat_vtd_fault_reason_class(code), MOAT_FAULT_UNKNOWN);
			continue;
		}
		if (!strstr(t, known[k].word))
			fail_msg("code 0x%x: '%s' lacks '%s'", code, t, known[k].word);
		assert_int_equal(moat_vtd_fault_reason_class(code), known[k].cls);
		/* no two codes share a text */
		for (unsigned j = 0; j < (unsigned)k; j++)
			assert_string_not_equal(t, moat_vtd_fault_reason_text(known[j].code));
	}
	assert_string_equal(moat_fault_class_str(MOAT_FAULT_BAD_ADDRESS), "bad address");
	assert_string_equal(moat_fault_class_str(MOAT_FAULT_BAD_DEVICE), "bad device");
	assert_string_equal(moat_fault_class_str(MOAT_FAULT_INVALID_USE), "invalid use");
	assert_string_equal(moat_fault_class_str(MOAT_FAULT_UNKNOWN), "unknown");
}

static void every_code_is_decoded_from_the_records(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = sim_vtd_new(SIM_BASE, CAP_NFR8, ECAP_QEMU);
	struct moat_unit_desc d = sim_vtd_desc(s, 3);
	struct moat_fault f[8];
	struct moat_fault_poll res;

	assert_int_equal(moat_vtd_probe(&u, &d, NULL), MOAT_OK);
	u.timeout_ns = TEST_TIMEOUT_NS;
	for (unsigned base = 0; base < NKNOWN; base += 8) {
		unsigned n = NKNOWN - base < 8 ? NKNOWN - base : 8;
		for (unsigned i = 0; i < n; i++) {
			unsigned code = known[base + i].code;
			uint16_t sid = MOAT_RID(code, 3, 1);
			uint64_t lo = code >= 0x20 ? ((uint64_t)(0x100 + code) << 48) : (0x123456000ull + code * 0x1000ull);
			assert_true(sim_vtd_inject_fault(s, lo | 0xabc, rec_hi(sid, (uint8_t)code, code & 1, false, false, 0)));
		}
		assert_int_equal(moat_vtd_fault_poll(&u, f, 8, &res), MOAT_OK);
		assert_int_equal(res.count, n);
		assert_int_equal(res.remaining, 0);
		assert_int_equal(res.overflows, 0);
		for (unsigned i = 0; i < n; i++) {
			unsigned code = known[base + i].code;
			assert_int_equal(f[i].vendor, MOAT_VENDOR_VTD);
			assert_int_equal(f[i].segment, 3);
			assert_int_equal(f[i].rid, MOAT_RID(code, 3, 1));
			assert_int_equal(f[i].reason, code);
			assert_string_equal(f[i].reason_text, moat_vtd_fault_reason_text(code));
			assert_int_equal(f[i].fault_class, known[base + i].cls);
			assert_int_equal(f[i].domain_id, -1);
			if (code >= 0x20) {
				assert_true(f[i].is_interrupt);
				assert_int_equal(f[i].interrupt_index, 0x100 + code);
				assert_int_equal(f[i].address, 0);
			} else {
				assert_false(f[i].is_interrupt);
				assert_int_equal(f[i].address, 0x123456000ull + code * 0x1000ull);
				assert_int_equal(f[i].is_write, !(code & 1));
			}
		}
		/* every record cleared */
		for (unsigned r = 0; r < 8; r++)
			assert_int_equal(s->frcd[r][1] >> 63, 0);
		assert_int_equal(s->fsts & SIM_PFO, 0);
	}
	assert_int_equal(moat_vtd_release(&u), MOAT_OK);
	sim_vtd_free(s);
}

static void record_fields_are_decoded(void **state)
{
	(void)state;
	struct moat_fault f;

	/* read with PASID 0x12345 */
	moat_vtd_fault_decode(0xfeedf000ull | 0x7ff, rec_hi(0x0218, 6, true, false, true, 0x12345) | (1ull << 63), 1, &f);
	assert_int_equal(f.rid, 0x0218);
	assert_int_equal(f.address, 0xfeedf000ull);
	assert_false(f.is_write);
	assert_false(f.is_atomic);
	assert_true(f.pasid_present);
	assert_int_equal(f.pasid, 0x12345);
	assert_int_equal(f.segment, 1);
	assert_int_equal(f.fault_class, MOAT_FAULT_BAD_ADDRESS);
	/* AtomicOp: type bit 1 and type bit 2 */
	moat_vtd_fault_decode(0x1000, rec_hi(0x10, 5, true, true, false, 0x777), 0, &f);
	assert_true(f.is_atomic);
	assert_false(f.is_write);
	assert_false(f.pasid_present);
	assert_int_equal(f.pasid, 0);
	/* write, 57-bit address */
	moat_vtd_fault_decode(0x01fffffffffff000ull, rec_hi(0x10, 5, false, false, false, 0), 0, &f);
	assert_true(f.is_write);
	assert_int_equal(f.address, 0x01fffffffffff000ull);
	/* unknown code */
	moat_vtd_fault_decode(0, rec_hi(0x10, 0x77, false, false, false, 0), 0, &f);
	assert_int_equal(f.fault_class, MOAT_FAULT_UNKNOWN);
	assert_int_equal(f.reason, 0x77);
	assert_non_null(f.reason_text);
}

static void domain_of_the_faulting_device_is_reported(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_NFR8, ECAP_QEMU);
	struct moat_fault f[4];
	struct moat_fault_poll res;

	assert_int_equal(moat_vtd_enable(&u, NULL), MOAT_OK);
	assert_int_equal(moat_vtd_attach(&u, 0x18, 12, 0x7f000200000ull, 3, MOAT_VTD_TT_UNTRANSLATED, NULL), MOAT_OK);
	sim_vtd_inject_fault(s, 0x5000, rec_hi(0x18, 5, false, false, false, 0));   /* attached */
	sim_vtd_inject_fault(s, 0x5000, rec_hi(0x20, 2, true, false, false, 0));    /* not attached */
	sim_vtd_inject_fault(s, 0x5000, rec_hi(0x18, 0x22, false, false, false, 0)); /* interrupt fault */
	assert_int_equal(moat_vtd_fault_poll(&u, f, 4, &res), MOAT_OK);
	assert_int_equal(res.count, 3);
	assert_int_equal(f[0].domain_id, 12);
	assert_int_equal(f[0].fault_class, MOAT_FAULT_BAD_ADDRESS);
	assert_int_equal(f[1].domain_id, -1);
	assert_int_equal(f[1].fault_class, MOAT_FAULT_BAD_DEVICE);
	assert_int_equal(f[2].domain_id, -1);
	assert_true(f[2].is_interrupt);
	/* nothing left */
	assert_int_equal(moat_vtd_fault_poll(&u, f, 4, &res), MOAT_OK);
	assert_int_equal(res.count, 0);
	unit_teardown(&u, s);
}

static void single_record_must_be_cleared_and_overflow_is_counted(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_QEMU, ECAP_QEMU);   /* NFR 1 */
	struct moat_fault f[2];
	struct moat_fault_poll res;

	assert_int_equal(u.caps.fault_records, 1);
	assert_true(sim_vtd_inject_fault(s, 0x1000, rec_hi(0x10, 6, true, false, false, 0)));
	assert_false(sim_vtd_inject_fault(s, 0x2000, rec_hi(0x10, 6, true, false, false, 0)));   /* lost */
	assert_true(s->fsts & SIM_PFO);
	assert_int_equal(moat_vtd_fault_poll(&u, f, 2, &res), MOAT_OK);
	assert_int_equal(res.count, 1);
	assert_int_equal(f[0].address, 0x1000);
	assert_int_equal(res.overflows, 1);
	assert_int_equal(res.overflow_total, 1);
	assert_int_equal(s->fsts & SIM_PFO, 0);
	assert_int_equal(s->frcd[0][1] >> 63, 0);
	/* recording resumed */
	assert_true(sim_vtd_inject_fault(s, 0x3000, rec_hi(0x10, 5, false, false, false, 0)));
	assert_int_equal(moat_vtd_fault_poll(&u, f, 2, &res), MOAT_OK);
	assert_int_equal(res.count, 1);
	assert_int_equal(f[0].address, 0x3000);
	assert_int_equal(res.overflows, 0);
	assert_int_equal(res.overflow_total, 1);
	assert_int_equal(u.overflow_total, 1);
	unit_teardown(&u, s);
}

static void many_records_are_read_oldest_first_across_polls(void **state)
{
	(void)state;
	struct moat_vtd_unit u;
	struct sim_vtd *s = unit_setup(&u, SIM_BASE, CAP_NFR8, ECAP_QEMU);
	struct moat_fault f[8];
	struct moat_fault_poll res;

	for (unsigned i = 0; i < 9; i++)
		sim_vtd_inject_fault(s, 0x1000ull * (i + 1), rec_hi(0x10, 5, false, false, false, 0));
	assert_int_equal(s->faults_dropped, 1);
	assert_int_equal(moat_vtd_fault_poll(&u, f, 3, &res), MOAT_OK);
	assert_int_equal(res.count, 3);
	assert_int_equal(res.remaining, 5);
	assert_int_equal(res.overflows, 1);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(f[i].address, 0x1000ull * (i + 1));
	/* the freed records take new faults; the next poll starts at the oldest pending one */
	assert_true(sim_vtd_inject_fault(s, 0xa000, rec_hi(0x10, 5, false, false, false, 0)));
	assert_int_equal(moat_vtd_fault_poll(&u, f, 8, &res), MOAT_OK);
	assert_int_equal(res.count, 6);
	assert_int_equal(res.remaining, 0);
	assert_int_equal(res.overflows, 0);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(f[i].address, 0x1000ull * (i + 4));
	assert_int_equal(f[5].address, 0xa000);
	for (unsigned r = 0; r < 8; r++)
		assert_int_equal(s->frcd[r][1] >> 63, 0);
	/* a poll with no room only counts */
	sim_vtd_inject_fault(s, 0xb000, rec_hi(0x10, 5, false, false, false, 0));
	assert_int_equal(moat_vtd_fault_poll(&u, NULL, 0, &res), MOAT_OK);
	assert_int_equal(res.count, 0);
	assert_int_equal(res.remaining, 1);
	assert_int_equal(moat_vtd_fault_poll(&u, NULL, 1, &res), MOAT_ERR_INVALID_ARG);
	assert_int_equal(moat_vtd_fault_poll(&u, f, 1, NULL), MOAT_ERR_INVALID_ARG);
	assert_int_equal(s->bad_access, 0);
	unit_teardown(&u, s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_reason_code_has_a_text_and_class),
		cmocka_unit_test(every_code_is_decoded_from_the_records),
		cmocka_unit_test(record_fields_are_decoded),
		cmocka_unit_test(domain_of_the_faulting_device_is_reported),
		cmocka_unit_test(single_record_must_be_cleared_and_overflow_is_counted),
		cmocka_unit_test(many_records_are_read_oldest_first_across_polls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
