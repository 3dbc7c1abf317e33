/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The platform: what the host (a hypervisor, a kernel, or the hosted test platform) provides to Moat.
 *
 * These are plain extern functions, implemented once by the host and linked with the library. Moat
 * calls nothing else outside itself (apart from memcpy, memset, memmove and memcmp, which a
 * freestanding C compiler may emit on its own). Two implementations live in this repository:
 * platform/hosted/ (user space, simulated physical memory) and platform/x86/ (the reference kernel).
 *
 * Unless a contract says otherwise, every function may be called from any CPU, with or without a
 * Moat lock held, and must not call back into Moat.
 */
#ifndef MOAT_PLATFORM_H
#define MOAT_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <moat/config.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MOAT_PAGE_SIZE 4096u

/* ---------------------------------------------------------------------------------------------
 * Page frames
 * ------------------------------------------------------------------------------------------- */

/*
 * moat_plat_page_alloc() - give Moat one 4 KiB page of RAM, zero-filled, 4 KiB aligned.
 * @phys: out, the page's physical address (what the IOMMU will be given).
 * Returns the page's virtual address, or NULL when no memory is left (Moat then returns
 * MOAT_ERR_NO_MEMORY and undoes what it started). The page must stay at the same physical address
 * until moat_plat_page_free(). Moat registers every page it gets as protected memory, so the host
 * needs no bookkeeping of its own for them, and it uses no page before no device can reach it:
 * the page may come from RAM the host's devices can reach (Moat takes it out of the host identity
 * domain and zeroes it again), but not from memory the host has mapped for DMA into another domain.
 * Example: a host with a bump allocator over a reserved region returns the next page, memset to 0.
 */
void *moat_plat_page_alloc(uint64_t *phys);

/*
 * moat_plat_page_free() - take back a page given by moat_plat_page_alloc().
 * @virt, @phys: exactly the pair returned. Moat frees a page only after the IOMMU can no longer
 * reach it (after the invalidation that removed the last reference completed).
 */
void moat_plat_page_free(void *virt, uint64_t phys);

/*
 * moat_plat_phys_to_virt() - the virtual address of a page Moat got from moat_plat_page_alloc(),
 * given its physical address. Used to walk tables by the addresses stored in their entries.
 * Returns NULL if @phys is not inside such a page (the auditor then reports the entry as corrupt).
 * Example: an identity-mapped kernel returns (void *)phys.
 */
void *moat_plat_phys_to_virt(uint64_t phys);

/* ---------------------------------------------------------------------------------------------
 * Memory-mapped registers
 * ------------------------------------------------------------------------------------------- */

/*
 * moat_plat_mmio_map() - make @size bytes of registers at physical @phys accessible, uncached.
 * Returns the virtual address, or NULL if they cannot be mapped. Called once per IOMMU unit at
 * bring-up. Example: an identity-mapped kernel marks the page uncached and returns (void *)phys.
 */
volatile void *moat_plat_mmio_map(uint64_t phys, size_t size);

/* moat_plat_mmio_unmap() - undo moat_plat_mmio_map() at tear-down. */
void moat_plat_mmio_unmap(volatile void *virt, size_t size);

/*
 * Register accesses of exactly the given width, never split or merged, in program order with
 * respect to each other and to the barriers below. The 64-bit forms must be single 8-byte
 * accesses (VT-d requires it for some registers).
 */
uint32_t moat_plat_mmio_read32(volatile void *addr);
void moat_plat_mmio_write32(volatile void *addr, uint32_t value);
uint64_t moat_plat_mmio_read64(volatile void *addr);
void moat_plat_mmio_write64(volatile void *addr, uint64_t value);

/* ---------------------------------------------------------------------------------------------
 * Caches and ordering
 * ------------------------------------------------------------------------------------------- */

/*
 * moat_plat_flush_cache_line() - write back the cache line holding @virt to memory, so that a
 * non-coherent IOMMU page walker sees it (x86: clflush or clflushopt). Moat calls it once per
 * touched line, then moat_plat_wmb() once. Never called when every unit walks coherently.
 */
void moat_plat_flush_cache_line(const void *virt);

/* moat_plat_wmb() - all earlier stores (and flushes) are visible to devices before later ones. */
void moat_plat_wmb(void);

/* moat_plat_mb() - full memory barrier: earlier loads and stores complete before later ones. */
void moat_plat_mb(void);

/* ---------------------------------------------------------------------------------------------
 * Time
 * ------------------------------------------------------------------------------------------- */

/*
 * moat_plat_time_ns() - a monotonic clock in nanoseconds, for bounding hardware waits and for the
 * deferred-invalidation time bound. Need not start at zero; must never go backwards. A coarse clock
 * is fine (a millisecond tick), one that never advances is not: every wait would then hang until
 * its iteration bound.
 */
uint64_t moat_plat_time_ns(void);

/* ---------------------------------------------------------------------------------------------
 * Logging
 * ------------------------------------------------------------------------------------------- */

enum moat_log_level {
	MOAT_LOG_ERROR = 0,
	MOAT_LOG_WARN = 1,
	MOAT_LOG_INFO = 2,
	MOAT_LOG_DEBUG = 3,
};

/*
 * moat_plat_log() - print one message (no trailing newline; add one). @msg is NUL-terminated and
 * already formatted. May drop messages above a level the host chooses.
 */
void moat_plat_log(enum moat_log_level level, const char *msg);

/* ---------------------------------------------------------------------------------------------
 * Locks and CPUs
 * ------------------------------------------------------------------------------------------- */

/* Storage for one host lock, owned by Moat, opaque to it. */
struct moat_lock {
	MOAT_ALIGNAS(8) unsigned char opaque[MOAT_LOCK_SIZE];
};

/*
 * Locks are held only for short, non-sleeping sections (no Moat function sleeps). A spinlock that
 * disables interrupts is correct; so is a mutex in user space. Init is called once before first use,
 * fini once after last use. Recursion is never needed.
 */
void moat_plat_lock_init(struct moat_lock *lock);
void moat_plat_lock_fini(struct moat_lock *lock);
void moat_plat_lock_acquire(struct moat_lock *lock);
void moat_plat_lock_release(struct moat_lock *lock);

/*
 * moat_plat_cpu_id() - the current CPU's number, below MOAT_MAX_CPUS. Only used to pick a per-CPU
 * cache; a thread migrating right after the call is harmless (the cache is locked).
 */
unsigned moat_plat_cpu_id(void);

#ifdef __cplusplus
}
#endif

#endif
