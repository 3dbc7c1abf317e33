/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Device interrupts (see irq.h). The 8259 PICs: Intel 8259A datasheet (ICW1 0x11: edge, cascade,
 * ICW4 follows; ICW2 the vector base; ICW3 the cascade on IR2; ICW4 0x01: 8086 mode; then OCW1,
 * the mask register, all ones). A masked PIC still raises a spurious IRQ 7 or 15 when a request
 * goes away before it is acknowledged: those arrive at the remapped 0x27 and 0x2F and get no end
 * of interrupt.
 */
#include <moat/internal/lib.h>
#include <moat/platform.h>

#include "arch/apic.h"
#include "arch/cpu.h"
#include "arch/irq.h"
#include "kernel.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PORT_DELAY 0x80        /* a write here takes about a microsecond: the PICs' settling time */

/* A halt lasts at most this long, so the clock is looked at often enough whatever the timer's rate. */
#define SLICE_NS 5000000ull

static bool ready;
static uint32_t cpu_apic_ids[IRQ_MAX_CPUS];
static unsigned cpu_count;
static uint32_t counts[IRQ_MAX_CPUS][256];
static uint64_t given[4];                /* bitmap of vectors given out */
static struct {
	irq_handler_fn fn;
	void *ctx;
} handlers[256];

static void pic_out(uint16_t port, uint8_t v)
{
	outb(port, v);
	outb(PORT_DELAY, 0);
}

static void pic_mask_all(void)
{
	pic_out(PIC1_CMD, 0x11);
	pic_out(PIC2_CMD, 0x11);
	pic_out(PIC1_DATA, IRQ_VECTOR_PIC_BASE);
	pic_out(PIC2_DATA, IRQ_VECTOR_PIC_BASE + 8);
	pic_out(PIC1_DATA, 0x04);
	pic_out(PIC2_DATA, 0x02);
	pic_out(PIC1_DATA, 0x01);
	pic_out(PIC2_DATA, 0x01);
	pic_out(PIC1_DATA, 0xff);
	pic_out(PIC2_DATA, 0xff);
}

bool irq_init(const struct madt *madt)
{
	char problem[160];
	uint64_t address = madt && madt->present ? madt->lapic_address : 0;

	/* Whatever the MADT says (PCAT_COMPAT), the PICs are masked: writes to absent ones do nothing. */
	pic_mask_all();
	if (!lapic_init(address, "MADT", IRQ_VECTOR_SPURIOUS, problem, sizeof(problem))) {
		kprintf("interrupts: %s: no interrupts can be taken\n", problem);
		return false;
	}
	cpu_apic_ids[0] = lapic_info()->id;
	cpu_count = 1;
	for (unsigned i = 0; madt && i < madt->cpu_count && cpu_count < IRQ_MAX_CPUS; i++) {
		if (madt->cpus[i].apic_id != cpu_apic_ids[0])
			cpu_apic_ids[cpu_count++] = madt->cpus[i].apic_id;
	}
	ready = true;
	return true;
}

bool irq_ready(void)
{
	return ready;
}

unsigned irq_cpu_index(void)
{
	uint32_t id = lapic_id();

	for (unsigned i = 0; i < cpu_count; i++) {
		if (cpu_apic_ids[i] == id)
			return i;
	}
	/* Only CPUs of the table run; a CPU outside it would be counted as the boot CPU. */
	return 0;
}

uint32_t irq_cpu_apic_id(unsigned cpu)
{
	return cpu < cpu_count ? cpu_apic_ids[cpu] : 0;
}

unsigned irq_cpu_count(void)
{
	return cpu_count;
}

int irq_vector_alloc(void)
{
	for (unsigned v = IRQ_VECTOR_FIRST; v <= IRQ_VECTOR_LAST; v++) {
		if (!irq_vector_given(v)) {
			given[v / 64] |= 1ull << (v % 64);
			return (int)v;
		}
	}
	return -1;
}

void irq_vector_free(unsigned vector)
{
	if (vector < IRQ_VECTOR_FIRST || vector > IRQ_VECTOR_LAST)
		return;
	irq_set_handler(vector, NULL, NULL);
	given[vector / 64] &= ~(1ull << (vector % 64));
}

bool irq_vector_given(unsigned vector)
{
	return vector < 256 && ((given[vector / 64] >> (vector % 64)) & 1u);
}

void irq_set_handler(unsigned vector, irq_handler_fn fn, void *ctx)
{
	if (vector >= 256)
		return;
	handlers[vector].fn = NULL;
	handlers[vector].ctx = ctx;
	handlers[vector].fn = fn;
}

uint32_t irq_count(unsigned cpu, unsigned vector)
{
	if (cpu >= IRQ_MAX_CPUS || vector >= 256)
		return 0;
	return __atomic_load_n(&counts[cpu][vector], __ATOMIC_RELAXED);
}

uint64_t irq_count_all(unsigned vector)
{
	uint64_t n = 0;

	for (unsigned cpu = 0; cpu < IRQ_MAX_CPUS; cpu++)
		n += irq_count(cpu, vector);
	return n;
}

void irq_handle(unsigned vector)
{
	unsigned cpu;

	if (vector >= 256)
		return;
	cpu = irq_cpu_index();
	__atomic_fetch_add(&counts[cpu][vector], 1u, __ATOMIC_RELAXED);
	/*
	 * The PICs' vectors and the spurious vector are not acknowledged at the local APIC, unless the
	 * local APIC delivered them: any interrupt message may carry any vector, and one left in service
	 * would hold back every vector of its priority class and below.
	 */
	if (vector < IRQ_VECTOR_FIRST || vector == IRQ_VECTOR_SPURIOUS) {
		if (lapic_in_service((uint8_t)vector))
			lapic_eoi();
		return;
	}
	if (handlers[vector].fn)
		handlers[vector].fn(vector, handlers[vector].ctx);
	lapic_eoi();
}

/* One halt, bounded by the timer (or, without one, a single window for pending interrupts). */
static void halt_once(uint64_t left_ns)
{
	if (lapic_timer_oneshot(IRQ_VECTOR_TIMER, MOAT_MIN(left_ns, SLICE_NS))) {
		sti_hlt_cli();
		lapic_timer_stop();
	} else {
		sti_nop_cli();
		cpu_pause();
	}
}

bool irq_wait(unsigned vector, uint32_t seen, uint64_t timeout_ns)
{
	uint64_t start = moat_plat_time_ns(), elapsed;
	unsigned cpu = irq_cpu_index();

	if (!ready || vector >= 256)
		return false;
	for (;;) {
		/* Counts only grow: any change is an arrival. */
		if (irq_count(cpu, vector) != seen)
			return true;
		elapsed = moat_plat_time_ns() - start;
		if (elapsed >= timeout_ns)
			return false;
		halt_once(timeout_ns - elapsed);
	}
}

void irq_open(uint64_t ns)
{
	uint64_t start = moat_plat_time_ns(), elapsed;

	if (!ready)
		return;
	while ((elapsed = moat_plat_time_ns() - start) < ns)
		halt_once(ns - elapsed);
	/* Whatever became pending at the very end still gets in. */
	sti_nop_cli();
}
