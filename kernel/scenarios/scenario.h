/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Scenarios: one check each of what the kernel and Moat do on this machine, reported as exactly one
 * line, `PASS name`, `FAIL name: reason` or `SKIP name: reason` (the reason on one line), and at the
 * end `N passed, N failed, N skipped`. A scenario adapts to what the machine has: one that needs a
 * device the machine lacks says SKIP and why. Details go on lines before the result, indented by two
 * spaces (scenario_note()).
 *
 * To add one: a file kernel/scenarios/<name>.c defining the function, and a line in table.c.
 */
#ifndef KERNEL_SCENARIO_H
#define KERNEL_SCENARIO_H

#include "arch/apic.h"
#include "arch/irq.h"
#include "moat_host.h"
#include "system.h"

enum scenario_verdict {
	SCENARIO_PASS,
	SCENARIO_FAIL,
	SCENARIO_SKIP,
};

struct scenario_result {
	char reason[200];
};

struct scenario {
	const char *name;
	const char *what;   /* one line: what it checks */
	enum scenario_verdict (*run)(struct kernel_system *sys, struct scenario_result *r);
	bool on_request;    /* run only when named (a measurement, not a check): not in a full run */
};

/* The table (table.c), in the order a full run takes them. */
extern const struct scenario kernel_scenarios[];
extern const unsigned kernel_scenario_count;

/* Set the reason and return the verdict: `return scenario_fail(r, "edu %s: ...", name);` */
enum scenario_verdict scenario_fail(struct scenario_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
enum scenario_verdict scenario_skip(struct scenario_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A detail line, printed indented under the running scenario. */
void scenario_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * scenarios_run() - run the scenarios named in @names (comma-separated; NULL or "" for all of them but
 * those run only on request),
 * print one result line each and the summary line. An unknown name is a FAIL line. Returns the
 * number of failures.
 */
unsigned scenarios_run(struct kernel_system *sys, const char *names);

/* ---- Helpers shared by the DMA scenarios (scenarios/dma_util.c) ---- */

/* Bytes of a 4 KiB page one edu transfer moves (the device's limit, see drivers/edu.h). */
#define DMA_TEST_LEN EDU_DMA_MAX

/* Fill @len bytes at @p with a pattern that depends on @seed and on each byte's position. */
void pattern_fill(uint8_t *p, size_t len, uint32_t seed);

/*
 * Compare @len bytes; returns the number of differing bytes and, when there is one, the offset of the
 * first in *@first (and the two bytes there in *@got / *@want).
 */
size_t bytes_compare(const uint8_t *got, const uint8_t *want, size_t len, size_t *first, uint8_t *got_byte,
		     uint8_t *want_byte);

/*
 * dma_round_trip() - with @dev: pattern into @src, DMA of DMA_TEST_LEN bytes @src -> device buffer,
 * then device buffer -> @dst (first filled with a different pattern), then compare @dst with @src byte
 * by byte, and check that the rest of @dst kept its filler (the device wrote no further). @src and @dst
 * are identity-mapped pages whose physical addresses the device uses. Returns SCENARIO_PASS, or
 * SCENARIO_FAIL with the reason in @r.
 */
enum scenario_verdict dma_round_trip(struct edu_dev *dev, uint8_t *src, uint8_t *dst, uint32_t seed,
				     struct scenario_result *r);

/*
 * dma_check_copy() - @dst (a page filled by pattern_fill(~@seed) before the device wrote DMA_TEST_LEN
 * bytes to it) holds @src's first DMA_TEST_LEN bytes and its own filler after them. Returns
 * SCENARIO_PASS, or SCENARIO_FAIL with a reason naming @who and the pages.
 */
enum scenario_verdict dma_check_copy(const char *who, const uint8_t *dst, const uint8_t *src, uint32_t seed,
				     struct scenario_result *r);

/* ---- Helpers shared by the protection scenarios (scenarios/protect_util.c) ---- */

/*
 * protect_begin() - bring Moat up for one scenario (kmoat_up()); *@m is the instance. SCENARIO_SKIP
 * when the machine has no IOMMU or no edu device (the reason says which); SCENARIO_FAIL when
 * bring-up fails. protect_end() takes it down again and turns @v into a failure if the tear-down
 * fails or leaks pages; call it whatever @v is. Where the IOMMU writes no fault records
 * (kmoat.records_faults false), a passing scenario's last detail line says that the data alone
 * judged it, and why.
 */
enum scenario_verdict protect_begin(struct kmoat **m, struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict protect_end(struct kmoat *m, enum scenario_verdict v, struct scenario_result *r);

/* The fault a blocked access must leave. */
struct fault_want {
	const struct edu_dev *dev;   /* its requester id (dev->pci->dma_rid) */
	uint64_t addr;               /* the address the device used (the page is compared) */
	bool write;
	enum moat_fault_class cls;
	int32_t domain_id;           /* the device's domain, -1 for none */
	unsigned reason;             /* the vendor's reason code, 0 for any */
	unsigned reason_alt;         /* another code that is as right (0: none) */
};

/*
 * fault_expect() - poll the faults: exactly one, matching @w, when the IOMMU keeps fault records
 * (kmoat.records_faults); where it keeps none, no record is accepted (and said), but a record that
 * does come must still be the one matching @w. Every record is printed.
 * fault_expect_none() - no fault pending (after accesses that must have gone through).
 */
enum scenario_verdict fault_expect(struct kmoat *m, const struct fault_want *w, struct scenario_result *r);
enum scenario_verdict fault_expect_none(struct kmoat *m, const char *after, struct scenario_result *r);

/*
 * attack_write() - w->dev writes DMA_TEST_LEN bytes of its buffer to w->addr, which must be blocked:
 * the page @target (the CPU's view of what the address would reach) must not change, and the
 * fault must match @w. @what names the target in messages.
 * attack_read() - w->dev reads @len bytes at w->addr into its buffer at @buf_offset; the fault must
 * match @w. What it fetched is checked with fetched_nothing(): the buffer, written out through
 * @scratch_iova to @scratch (an address the device may write), must hold only zeros where the
 * blocked read landed, and not the first bytes of @secret (may be NULL).
 */
enum scenario_verdict attack_write(struct kmoat *m, const struct fault_want *w, uint8_t *target, const char *what,
				   struct scenario_result *r);
enum scenario_verdict attack_read(struct kmoat *m, const struct fault_want *w, uint32_t buf_offset, uint32_t len,
				  const char *what, struct scenario_result *r);
enum scenario_verdict fetched_nothing(struct edu_dev *dev, uint8_t *scratch, uint64_t scratch_iova,
				      uint32_t buf_offset, uint32_t len, const uint8_t *secret, const char *what,
				      struct scenario_result *r);

/* audit_clean() - moat_audit() of the live tables finds nothing (violations are printed). */
enum scenario_verdict audit_clean(struct kmoat *m, struct scenario_result *r);

/* low_page() - a free zeroed page every edu device can address (below EDU_DEFAULT_REACH), or NULL. */
uint8_t *low_page(void);

/* ---- Helpers shared by the interrupt scenarios (scenarios/irq_util.c) ---- */

/* Bound on the wait for an interrupt that must come (one that comes does so at once), and the time
 * left after it for a duplicate to show. */
#define IRQ_WAIT_NS   50000000ull
#define IRQ_SETTLE_NS 2000000ull

/* Every CPU's count of every vector at one moment. */
struct irq_tally {
	uint32_t n[IRQ_MAX_CPUS][256];
};

void irq_tally_take(struct irq_tally *t);

/*
 * irq_tally_since() - how many interrupts arrived since @before (the wake-up timer's left out), and
 * in @desc which: "vector 0x31 on CPU 0 (1), ..." or "nothing".
 */
unsigned irq_tally_since(const struct irq_tally *before, char *desc, size_t size);

/*
 * irq_edu_msi() - @dev's MSI programmed with the compatibility-format message for @vector, fixed
 * delivery, to the boot CPU (in *@msg), and enabled. False when it cannot be.
 */
bool irq_edu_msi(struct edu_dev *dev, uint8_t vector, struct msi_msg *msg);

enum irq_outcome {
	IRQ_NOTHING,
	IRQ_CAME,
};

/*
 * irq_raise_and_watch() - @before taken, @dev raises its interrupt (EDU_IRQ_FACTORIAL), the boot CPU
 * waits for @vector (IRQ_WAIT_NS at most) and stays open IRQ_SETTLE_NS more. The device's status
 * bit stays set (edu_irq_ack() clears it). irq_tally_since(@before) then tells everything that came;
 * *@latency_ns the time from the raise to the end of the wait.
 */
enum irq_outcome irq_raise_and_watch(struct edu_dev *dev, unsigned vector, struct irq_tally *before,
				     uint64_t *latency_ns);

/* The scenario functions (one file each). */
enum scenario_verdict scenario_discovery(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_edu_dma_baseline(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_edu_dma_high(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_host_protection(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_device_isolation(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_guest_assignment(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_stale_translation(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_dma_api(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_fault_flood(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_default_deny(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_irq_baseline(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_irq_ioapic(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_irq_msix(struct kernel_system *sys, struct scenario_result *r);
enum scenario_verdict scenario_irq_probe(struct kernel_system *sys, struct scenario_result *r);

#endif
