/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Registers, caches, ordering, locks, CPU number and logging for the reference kernel.
 * Register accesses are single instructions of exactly the asked width on uncached identity
 * mappings; x86 keeps uncached accesses in program order.
 */
#include <moat/internal/lib.h>

#include "arch/cpu.h"
#include "kernel.h"
#include "mm/mm.h"
#include "x86_platform.h"

volatile void *moat_plat_mmio_map(uint64_t phys, size_t size)
{
	return kernel_map_mmio(phys, size);
}

void moat_plat_mmio_unmap(volatile void *virt, size_t size)
{
	/* The identity map keeps registers mapped: nothing else is ever placed at those addresses. */
	(void)virt;
	(void)size;
}

uint32_t moat_plat_mmio_read32(volatile void *addr)
{
	uint32_t v;

	__asm__ __volatile__("movl %1, %0" : "=r"(v) : "m"(*(volatile uint32_t *)addr) : "memory");
	return v;
}

void moat_plat_mmio_write32(volatile void *addr, uint32_t value)
{
	__asm__ __volatile__("movl %1, %0" : "=m"(*(volatile uint32_t *)addr) : "r"(value) : "memory");
}

uint64_t moat_plat_mmio_read64(volatile void *addr)
{
	uint64_t v;

	__asm__ __volatile__("movq %1, %0" : "=r"(v) : "m"(*(volatile uint64_t *)addr) : "memory");
	return v;
}

void moat_plat_mmio_write64(volatile void *addr, uint64_t value)
{
	__asm__ __volatile__("movq %1, %0" : "=m"(*(volatile uint64_t *)addr) : "r"(value) : "memory");
}

void moat_plat_flush_cache_line(const void *virt)
{
	__asm__ __volatile__("clflush %0" : : "m"(*(const volatile char *)virt) : "memory");
}

void moat_plat_wmb(void)
{
	__asm__ __volatile__("sfence" : : : "memory");
}

void moat_plat_mb(void)
{
	__asm__ __volatile__("mfence" : : : "memory");
}

/* ---- Locks: a test-and-test-and-set spinlock that keeps interrupts off while held ---- */

struct x86_spinlock {
	uint32_t locked;
	uint32_t magic;
	uint64_t saved_flags;
};
_Static_assert(sizeof(struct x86_spinlock) <= MOAT_LOCK_SIZE, "spinlock fits struct moat_lock");
_Static_assert(_Alignof(struct x86_spinlock) <= 8, "struct moat_lock is 8-byte aligned");

#define LOCK_MAGIC 0x4c4f434bu      /* "LOCK": set by init, checked on use */
#define LOCK_SPIN_LIMIT_NS 5000000000ull
#define LOCK_SPIN_LIMIT (1ull << 32)

static struct x86_spinlock *spinlock_of(struct moat_lock *lock)
{
	return (struct x86_spinlock *)(void *)lock->opaque;
}

void moat_plat_lock_init(struct moat_lock *lock)
{
	struct x86_spinlock *l = spinlock_of(lock);

	l->locked = 0;
	l->magic = LOCK_MAGIC;
	l->saved_flags = 0;
}

void moat_plat_lock_fini(struct moat_lock *lock)
{
	struct x86_spinlock *l = spinlock_of(lock);

	if (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
		kernel_fatal("lock %p destroyed while held", (void *)lock);
	l->magic = 0;
}

void moat_plat_lock_acquire(struct moat_lock *lock)
{
	struct x86_spinlock *l = spinlock_of(lock);
	uint64_t flags = read_flags();
	uint64_t start = 0, spins = 0;

	if (l->magic != LOCK_MAGIC)
		kernel_fatal("lock %p used before moat_plat_lock_init()", (void *)lock);
	cli();
	while (__atomic_exchange_n(&l->locked, 1u, __ATOMIC_ACQUIRE)) {
		/* One CPU, interrupts off: a held lock is never released by anyone else. Say so. */
		if (!start)
			start = moat_plat_time_ns();
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
			cpu_pause();
			/* The iteration bound holds even before the clock is calibrated. */
			if (moat_plat_time_ns() - start > LOCK_SPIN_LIMIT_NS || ++spins > LOCK_SPIN_LIMIT)
				kernel_fatal("lock %p held for more than 5 s (taken twice?)", (void *)lock);
		}
	}
	l->saved_flags = flags;
}

void moat_plat_lock_release(struct moat_lock *lock)
{
	struct x86_spinlock *l = spinlock_of(lock);
	uint64_t flags = l->saved_flags;

	__atomic_store_n(&l->locked, 0u, __ATOMIC_RELEASE);
	if (flags & RFLAGS_IF)
		write_flags(read_flags() | RFLAGS_IF);
}

unsigned moat_plat_cpu_id(void)
{
	return 0;
}

/* ---- Logging ---- */

static enum moat_log_level log_level = MOAT_LOG_INFO;

void x86_plat_set_log_level(enum moat_log_level level)
{
	log_level = level;
}

void moat_plat_log(enum moat_log_level level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	if (level > log_level)
		return;
	kprintf("moat %s: %s\n", (unsigned)level < MOAT_ARRAY_SIZE(names) ? names[level] : "log", msg);
}
