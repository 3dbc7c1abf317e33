/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The monotonic clock: the TSC, calibrated at boot against channel 2 of the 8254 PIT (1.193182 MHz;
 * port 0x61 bit 0 gates channel 2, bit 1 drives the speaker, bit 5 reads the channel's output).
 * Channel 2 counts down from 0xFFFF in mode 0; the kernel reads the count (latch command) and the TSC
 * together at two moments about 25 ms apart, and the ratio gives the TSC frequency. Each reading is
 * bracketed by two TSC reads and the tightest of several is kept, so a host that deschedules QEMU
 * in the middle of a reading (common under software emulation on a busy host) does not skew the
 * result; a descheduling between the readings does no harm, both clocks run on. Under QEMU's
 * software emulation both follow the host's clock, so waits measured with this clock match QEMU's
 * virtual-clock timers (the edu device's DMA delay).
 */
#include <moat/internal/lib.h>

#include "arch/cpu.h"
#include "kernel.h"
#include "x86_platform.h"

#define PIT_HZ             1193182ull
#define PIT_CH2_DATA       0x42
#define PIT_COMMAND        0x43
#define PIT_CH2_MODE0_LOHI 0xb0       /* channel 2, low then high byte, mode 0, binary */
#define PIT_CH2_LATCH      0x80       /* channel 2, counter latch */
#define PORT_B             0x61
#define  PORT_B_GATE2      0x01
#define  PORT_B_SPEAKER    0x02
#define  PORT_B_OUT2       0x20
#define CALIBRATE_TICKS    29830u     /* 25 ms of PIT time */
#define CALIBRATE_POLLS    10000000u  /* bound on counter reads while waiting */
#define SAMPLE_TRIES       8
#define MEASUREMENTS       3
#define FALLBACK_HZ        2000000000ull
#define NS_PER_S           1000000000ull

static uint64_t tsc_hz;
static uint64_t tsc_origin;
static uint64_t ns_per_tick_q32;   /* nanoseconds per TSC tick, fixed point with 32 fraction bits */

static void set_frequency(uint64_t hz)
{
	tsc_hz = hz;
	ns_per_tick_q32 = (NS_PER_S << 32) / hz;
}

static uint16_t pit_ch2_count(void)
{
	uint8_t lo, hi;

	outb(PIT_COMMAND, PIT_CH2_LATCH);
	lo = inb(PIT_CH2_DATA);
	hi = inb(PIT_CH2_DATA);
	return (uint16_t)(hi << 8 | lo);
}

struct sample {
	uint64_t tsc;      /* middle of the bracket */
	uint64_t width;    /* TSC ticks between the two bracketing reads */
	uint16_t count;
};

static struct sample take_sample(void)
{
	struct sample best = { 0, UINT64_MAX, 0 };

	for (unsigned i = 0; i < SAMPLE_TRIES; i++) {
		uint64_t t1 = rdtsc();
		uint16_t c = pit_ch2_count();
		uint64_t t2 = rdtsc();

		if (t2 - t1 < best.width)
			best = (struct sample){ t1 + (t2 - t1) / 2, t2 - t1, c };
	}
	return best;
}

/* One measure of the TSC frequency in Hz, or 0 when the PIT did not count as expected. */
static uint64_t measure_with_pit(void)
{
	uint8_t b = inb(PORT_B);
	struct sample first, last;
	uint16_t elapsed = 0;
	bool wrapped;

	outb(PORT_B, (uint8_t)((b & ~PORT_B_SPEAKER) | PORT_B_GATE2));
	outb(PIT_COMMAND, PIT_CH2_MODE0_LOHI);
	outb(PIT_CH2_DATA, 0xff);
	outb(PIT_CH2_DATA, 0xff);
	first = take_sample();
	for (unsigned i = 0; i < CALIBRATE_POLLS && elapsed < CALIBRATE_TICKS; i++)
		elapsed = (uint16_t)(first.count - pit_ch2_count());
	last = take_sample();
	/* Mode 0 raises the output at zero: if it is high, the count wrapped and the difference lies. */
	wrapped = inb(PORT_B) & PORT_B_OUT2;
	outb(PORT_B, b);
	elapsed = (uint16_t)(first.count - last.count);
	if (wrapped || elapsed < CALIBRATE_TICKS || last.tsc <= first.tsc)
		return 0;
	return (last.tsc - first.tsc) * PIT_HZ / elapsed;
}

/* CPUID leaf 0x16 (processor base frequency in MHz), when the CPU reports it. */
static uint64_t cpuid_frequency(void)
{
	uint32_t a, bx, c, d;

	cpuid(0, 0, &a, &bx, &c, &d);
	if (a < 0x16)
		return 0;
	cpuid(0x16, 0, &a, &bx, &c, &d);
	return (uint64_t)(a & 0xffff) * 1000000ull;
}

bool x86_plat_clock_init(void)
{
	uint64_t m[MEASUREMENTS];
	unsigned n = 0;

	for (unsigned i = 0; i < MEASUREMENTS; i++) {
		uint64_t hz = measure_with_pit();

		if (hz)
			m[n++] = hz;
	}
	tsc_origin = rdtsc();
	if (n) {
		/* The median of what was measured. */
		for (unsigned i = 1; i < n; i++) {
			for (unsigned j = i; j > 0 && m[j - 1] > m[j]; j--) {
				uint64_t t = m[j];

				m[j] = m[j - 1];
				m[j - 1] = t;
			}
		}
		set_frequency(m[n / 2]);
		return true;
	}
	set_frequency(cpuid_frequency() ? cpuid_frequency() : FALLBACK_HZ);
	kprintf("clock: the PIT did not count; assuming a TSC of %llu MHz: waits may be off\n",
		(unsigned long long)(tsc_hz / 1000000));
	return false;
}

uint64_t x86_plat_tsc_hz(void)
{
	return tsc_hz;
}

uint64_t moat_plat_time_ns(void)
{
	uint64_t ticks = rdtsc() - tsc_origin;

	if (!ns_per_tick_q32)
		return 0;
	return (uint64_t)(((unsigned __int128)ticks * ns_per_tick_q32) >> 32);
}

void x86_plat_delay_ns(uint64_t ns)
{
	uint64_t start = moat_plat_time_ns();

	while (moat_plat_time_ns() - start < ns)
		cpu_pause();
}
