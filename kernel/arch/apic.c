/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The local APIC (Intel SDM vol. 3A, chapter 11): IA32_APIC_BASE (MSR 0x1B, section 11.4.4: bit 8
 * BSP, bit 10 x2APIC mode, bit 11 global enable, the base in bits 12 up), the register map of table
 * 11-1 (ID 0x20 bits 31:24, version 0x30 with the last LVT entry in bits 23:16, TPR 0x80, EOI 0xB0,
 * spurious-interrupt vector 0xF0 with software enable in bit 8 (11.9), ISR 0x100-0x170, ESR 0x280,
 * the LVT (timer 0x320, LINT0 0x350, LINT1 0x360, error 0x370; mask bit 16), the timer's initial
 * count 0x380, current count 0x390 and divide configuration 0x3E0 (11.5.4: 0xB divides by 1;
 * LVT timer mode bits 18:17 = 00 one-shot)).
 */
#include <moat/internal/lib.h>

#include "arch/apic.h"
#include "arch/cpu.h"
#include "kernel.h"
#include "mm/mm.h"
#include "x86_platform.h"

#define MSR_APIC_BASE       0x1bu
#define  APIC_BASE_BSP      (1ull << 8)
#define  APIC_BASE_X2APIC   (1ull << 10)
#define  APIC_BASE_ENABLE   (1ull << 11)
#define  APIC_BASE_ADDR     0x000ffffffffff000ull

#define LAPIC_ID        0x020
#define LAPIC_VERSION   0x030
#define LAPIC_TPR       0x080
#define LAPIC_EOI       0x0b0
#define LAPIC_SVR       0x0f0
#define  LAPIC_SVR_ENABLE   0x100u
#define LAPIC_ISR       0x100
#define LAPIC_ESR       0x280
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_ERROR 0x370
#define  LAPIC_LVT_MASKED   0x10000u
#define LAPIC_TIMER_INIT    0x380
#define LAPIC_TIMER_CUR     0x390
#define LAPIC_TIMER_DIV     0x3e0
#define  LAPIC_TIMER_DIV_1  0xbu

#define CPUID_1_EDX_APIC (1u << 9)

#define CALIBRATE_NS 2000000ull     /* 2 ms of the kernel's clock */
#define NS_PER_S 1000000000ull

static volatile uint8_t *regs;
static struct lapic_info info;

static uint32_t rd(unsigned off)
{
	return *(volatile uint32_t *)(regs + off);
}

static void wr(unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(regs + off) = v;
}

static void fail(char *problem, size_t size, const char *fmt, uint64_t a, uint64_t b)
{
	moat_snprintf(problem, size, fmt, (unsigned long long)a, (unsigned long long)b);
}

static bool isr_empty(void)
{
	for (unsigned i = 0; i < 8; i++) {
		if (rd(LAPIC_ISR + 0x10u * i))
			return false;
	}
	return true;
}

/* The timer's ticks per second at divide-by-1, against the kernel's clock; 0 when it does not count. */
static uint64_t measure_timer(void)
{
	uint64_t start, elapsed;
	uint32_t left;

	wr(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV_1);
	wr(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	start = moat_plat_time_ns();
	wr(LAPIC_TIMER_INIT, 0xffffffffu);
	x86_plat_delay_ns(CALIBRATE_NS);
	left = rd(LAPIC_TIMER_CUR);
	elapsed = moat_plat_time_ns() - start;
	wr(LAPIC_TIMER_INIT, 0);
	if (!elapsed || left == 0xffffffffu || !left)
		return 0;
	return (uint64_t)(0xffffffffu - left) * NS_PER_S / elapsed;
}

bool lapic_init(uint64_t madt_address, const char *madt_source, uint8_t spurious_vector, char *problem,
		size_t size)
{
	uint32_t a, b, c, d;
	uint64_t msr, base;

	moat_memset(&info, 0, sizeof(info));
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(d & CPUID_1_EDX_APIC)) {
		fail(problem, size, "CPUID reports no local APIC", 0, 0);
		return false;
	}
	msr = rdmsr(MSR_APIC_BASE);
	if (msr & APIC_BASE_X2APIC) {
		fail(problem, size, "the local APIC is in x2APIC mode (IA32_APIC_BASE 0x%llx): not supported", msr, 0);
		return false;
	}
	base = msr & APIC_BASE_ADDR;
	if (madt_address && madt_address != base) {
		fail(problem, size, "the MADT puts the local APIC at 0x%llx, IA32_APIC_BASE at 0x%llx", madt_address,
		     base);
		return false;
	}
	info.phys = base;
	info.source = madt_address ? madt_source : "IA32_APIC_BASE";
	if (!(msr & APIC_BASE_ENABLE)) {
		info.was_disabled = true;
		wrmsr(MSR_APIC_BASE, msr | APIC_BASE_ENABLE);
	}
	regs = kernel_map_mmio(base, PAGE_SIZE);
	if (!regs) {
		fail(problem, size, "the local APIC's registers at 0x%llx cannot be mapped", base, 0);
		return false;
	}
	info.id = rd(LAPIC_ID) >> 24;
	info.version = (uint8_t)rd(LAPIC_VERSION);
	info.lvt_entries = ((rd(LAPIC_VERSION) >> 16) & 0xffu) + 1;
	wr(LAPIC_TPR, 0);
	wr(LAPIC_LVT_LINT0, rd(LAPIC_LVT_LINT0) | LAPIC_LVT_MASKED);
	wr(LAPIC_LVT_ERROR, LAPIC_LVT_MASKED);
	/* The error register latches on a write (section 11.5.3): write, then read. */
	wr(LAPIC_ESR, 0);
	(void)rd(LAPIC_ESR);
	wr(LAPIC_SVR, LAPIC_SVR_ENABLE | spurious_vector);
	info.timer_hz = measure_timer();
	/* Anything the firmware left in service is over: the ISR must be empty before interrupts flow
	 * (each EOI clears the highest bit set; at most 256 can be). */
	for (unsigned i = 0; i < 256 && !isr_empty(); i++)
		lapic_eoi();
	return true;
}

const struct lapic_info *lapic_info(void)
{
	return &info;
}

uint32_t lapic_id(void)
{
	return regs ? rd(LAPIC_ID) >> 24 : 0;
}

void lapic_eoi(void)
{
	if (regs)
		wr(LAPIC_EOI, 0);
}

bool lapic_in_service(uint8_t vector)
{
	return regs && ((rd(LAPIC_ISR + 0x10u * (vector / 32u)) >> (vector % 32u)) & 1u);
}

bool lapic_timer_oneshot(uint8_t vector, uint64_t ns)
{
	uint64_t ticks;

	if (!regs || !info.timer_hz)
		return false;
	ticks = ns >= UINT64_MAX / info.timer_hz ? UINT32_MAX : ns * info.timer_hz / NS_PER_S;
	ticks = MOAT_MAX(ticks, 1ull);
	ticks = MOAT_MIN(ticks, (uint64_t)UINT32_MAX);
	wr(LAPIC_TIMER_DIV, LAPIC_TIMER_DIV_1);
	wr(LAPIC_LVT_TIMER, vector);         /* one-shot, not masked */
	wr(LAPIC_TIMER_INIT, (uint32_t)ticks);
	return true;
}

void lapic_timer_stop(void)
{
	if (!regs)
		return;
	wr(LAPIC_TIMER_INIT, 0);
	wr(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
}

bool msi_compat(uint32_t dest, uint8_t vector, enum msi_delivery mode, struct msi_msg *out)
{
	/* Section 11.11.1: 0xFEE in bits 31:20, destination id in 19:12, RH (bit 3) and DM (bit 2) 0 for
	 * physical mode. Section 11.11.2: vector in 7:0, delivery mode in 10:8, trigger mode (bit 15) 0
	 * for edge. */
	if (dest > 0xff)
		return false;
	out->address = MSI_ADDRESS_BASE | (uint64_t)dest << 12;
	out->data = vector | (uint32_t)mode << 8;
	return true;
}
