/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The x86 platform: Moat's platform functions (include/moat/platform.h) for the reference kernel.
 *
 * The kernel runs identity-mapped (virtual = physical) on one CPU. Pages for Moat come from a pool
 * the kernel reserves at boot (x86_plat_pool_init()); registers are mapped uncached through the
 * kernel's page tables; the clock is the TSC, calibrated against the PIT at boot; log messages go to
 * the serial console. What the kernel must call before Moat runs is declared here.
 */
#ifndef MOAT_X86_PLATFORM_H
#define MOAT_X86_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include <moat/platform.h>

/*
 * x86_plat_pool_init() - hand the pool [phys, phys + size) to the platform: moat_plat_page_alloc()
 * gives pages from it, nowhere else. @phys and @size are multiples of 4 KiB; at most
 * X86_PLAT_POOL_MAX_PAGES pages are used (the rest is ignored). The range must be mapped.
 */
#define X86_PLAT_POOL_MAX_PAGES 16384u
void x86_plat_pool_init(uint64_t phys, uint64_t size);

struct x86_plat_pool_stats {
	uint64_t base;
	uint64_t size;
	uint32_t pages_total;
	uint32_t pages_used;
	uint32_t pages_peak;
	uint64_t allocs;
	uint64_t alloc_failures;
	uint64_t frees;
	uint64_t bad_frees;      /* moat_plat_page_free() of a page not handed out: refused */
};
void x86_plat_pool_stats(struct x86_plat_pool_stats *out);

/*
 * x86_plat_clock_init() - calibrate the TSC against PIT channel 2 (about 75 ms). Returns false when
 * the PIT gave no usable measure; the clock then runs on the TSC frequency CPUID reports, or an
 * assumed 2 GHz, and says so on the console. Call once at boot, before any timed wait.
 */
bool x86_plat_clock_init(void);

/* The TSC frequency in use, in Hz. */
uint64_t x86_plat_tsc_hz(void);

/* Busy-wait for @ns nanoseconds of moat_plat_time_ns(). */
void x86_plat_delay_ns(uint64_t ns);

/* Log messages above @level (e.g. MOAT_LOG_DEBUG) are dropped. Default: MOAT_LOG_INFO. */
void x86_plat_set_log_level(enum moat_log_level level);

#endif
