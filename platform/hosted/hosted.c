/* SPDX-License-Identifier: BSD-2-Clause */
#define _GNU_SOURCE
#include "hosted.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#include <sys/rseq.h>
#define HOSTED_RSEQ 1
#endif
#include <time.h>

static pthread_mutex_t arena_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *arena;      /* MOAT_HOSTED_ARENA_BYTES reserved, touched on demand */
static uint64_t arena_next;       /* bump pointer (bytes); written under arena_lock, read without it */
static uint64_t free_head = UINT64_MAX;

static struct moat_hosted_stats stats;
static uint64_t fail_countdown;
static int fail_sticky;
static int fail_active;
static enum moat_log_level log_level = MOAT_LOG_WARN;
/* Called at every write barrier (tests that look at each state between two ordered stores). */
static void (*_Atomic wmb_hook)(void *ctx);
static void *_Atomic wmb_hook_ctx;

/* One bit per arena page: handed out by moat_plat_page_alloc() and not freed (atomic bit operations). */
#define ARENA_PAGES (MOAT_HOSTED_ARENA_BYTES / MOAT_PAGE_SIZE)
static uint64_t live_bits[ARENA_PAGES / 64];

/* The device model's hook (moat_hosted_set_hook()); NULL when none. */
static moat_hosted_hook_fn hook_fn;
static void *hook_ctx;

static inline void hook(enum moat_hosted_point point, uint64_t phys, void *virt, uint64_t value)
{
	moat_hosted_hook_fn fn = __atomic_load_n(&hook_fn, __ATOMIC_ACQUIRE);

	if (fn)
		fn(hook_ctx, point, phys, virt, value);
}

/* Called with arena_lock held (the only writers); readers load without it. */
static void live_set(uint64_t off, bool on)
{
	const uint64_t page = off / MOAT_PAGE_SIZE, bit = 1ull << (page % 64);
	uint64_t *w = &live_bits[page / 64];
	const uint64_t v = __atomic_load_n(w, __ATOMIC_RELAXED);

	__atomic_store_n(w, on ? v | bit : v & ~bit, __ATOMIC_RELAXED);
}

static unsigned char *arena_base(void)
{
	if (!arena) {
		void *p = mmap(NULL, MOAT_HOSTED_ARENA_BYTES, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "hosted: cannot reserve the simulated physical arena\n");
			abort();
		}
		arena = p;
	}
	return arena;
}

void moat_hosted_reset(void)
{
	pthread_mutex_lock(&arena_lock);
	uint64_t live = stats.pages_live;
	memset(&stats, 0, sizeof(stats));
	stats.pages_live = live;
	fail_countdown = 0;
	fail_sticky = 0;
	fail_active = 0;
	pthread_mutex_unlock(&arena_lock);
}

struct moat_hosted_stats moat_hosted_stats(void)
{
	pthread_mutex_lock(&arena_lock);
	struct moat_hosted_stats s = stats;
	pthread_mutex_unlock(&arena_lock);
	return s;
}

void moat_hosted_fail_alloc_at(uint64_t n, int sticky)
{
	pthread_mutex_lock(&arena_lock);
	fail_countdown = n;
	fail_sticky = sticky;
	fail_active = n != 0;
	pthread_mutex_unlock(&arena_lock);
}

void moat_hosted_set_log_level(enum moat_log_level level)
{
	log_level = level;
}

void moat_hosted_set_wmb_hook(void (*fn)(void *ctx), void *ctx)
{
	atomic_store(&wmb_hook, NULL);
	atomic_store(&wmb_hook_ctx, ctx);
	atomic_store(&wmb_hook, fn);
}

void *moat_plat_page_alloc(uint64_t *phys)
{
	unsigned char *base = arena_base();
	uint64_t off;

	hook(MOAT_HOSTED_PAGE_ALLOC, 0, NULL, 0);
	pthread_mutex_lock(&arena_lock);
	if (fail_active) {
		if (fail_countdown > 1) {
			fail_countdown--;
		} else {
			if (!fail_sticky)
				fail_active = 0;
			stats.alloc_failures++;
			pthread_mutex_unlock(&arena_lock);
			return NULL;
		}
	}
	if (free_head != UINT64_MAX) {
		off = free_head;
		memcpy(&free_head, base + off, sizeof(free_head));
	} else if (arena_next + MOAT_PAGE_SIZE <= MOAT_HOSTED_ARENA_BYTES) {
		off = arena_next;
		__atomic_store_n(&arena_next, off + MOAT_PAGE_SIZE, __ATOMIC_RELEASE);
	} else {
		stats.alloc_failures++;
		pthread_mutex_unlock(&arena_lock);
		return NULL;
	}
	stats.pages_allocated++;
	stats.pages_live++;
	live_set(off, true);
	pthread_mutex_unlock(&arena_lock);
	memset(base + off, 0, MOAT_PAGE_SIZE);
	*phys = MOAT_HOSTED_PHYS_BASE + off;
	hook(MOAT_HOSTED_PAGE_GIVEN, *phys, base + off, 0);
	return base + off;
}

void moat_plat_page_free(void *virt, uint64_t phys)
{
	unsigned char *base = arena_base();
	uint64_t off = phys - MOAT_HOSTED_PHYS_BASE;

	if (phys < MOAT_HOSTED_PHYS_BASE || off >= __atomic_load_n(&arena_next, __ATOMIC_ACQUIRE) ||
	    (off & (MOAT_PAGE_SIZE - 1)) ||
	    (unsigned char *)virt != base + off) {
		fprintf(stderr, "hosted: page_free of a page not allocated (virt %p phys 0x%llx)\n", virt,
			(unsigned long long)phys);
		abort();
	}
	hook(MOAT_HOSTED_PAGE_FREE, phys, virt, 0);
	/* Poison so that a use after free reads garbage instead of plausible entries. */
	memset(virt, 0xa5, MOAT_PAGE_SIZE);
	pthread_mutex_lock(&arena_lock);
	memcpy(base + off, &free_head, sizeof(free_head));
	free_head = off;
	live_set(off, false);
	stats.pages_freed++;
	stats.pages_live--;
	pthread_mutex_unlock(&arena_lock);
}

void *moat_plat_phys_to_virt(uint64_t phys)
{
	/* any CPU, any time (include/moat/platform.h): the end of the arena is read atomically */
	if (phys < MOAT_HOSTED_PHYS_BASE || phys - MOAT_HOSTED_PHYS_BASE >= __atomic_load_n(&arena_next, __ATOMIC_ACQUIRE))
		return NULL;
	return arena_base() + (phys - MOAT_HOSTED_PHYS_BASE);
}

uint64_t moat_hosted_arena_used(void)
{
	return __atomic_load_n(&arena_next, __ATOMIC_ACQUIRE);
}

bool moat_hosted_page_live(uint64_t phys)
{
	uint64_t off = phys - MOAT_HOSTED_PHYS_BASE, page = off / MOAT_PAGE_SIZE;

	if (phys < MOAT_HOSTED_PHYS_BASE || off >= MOAT_HOSTED_ARENA_BYTES)
		return false;
	return (__atomic_load_n(&live_bits[page / 64], __ATOMIC_RELAXED) >> (page % 64)) & 1;
}

void *moat_hosted_reserve_page(uint64_t *phys)
{
	unsigned char *base = arena_base();
	uint64_t off;

	pthread_mutex_lock(&arena_lock);
	if (arena_next + MOAT_PAGE_SIZE > MOAT_HOSTED_ARENA_BYTES) {
		pthread_mutex_unlock(&arena_lock);
		return NULL;
	}
	off = arena_next;
	__atomic_store_n(&arena_next, off + MOAT_PAGE_SIZE, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&arena_lock);
	memset(base + off, 0, MOAT_PAGE_SIZE);
	*phys = MOAT_HOSTED_PHYS_BASE + off;
	return base + off;
}

void moat_hosted_set_hook(moat_hosted_hook_fn fn, void *ctx)
{
	hook_ctx = ctx;
	__atomic_store_n(&hook_fn, fn, __ATOMIC_RELEASE);
}

/* ---- simulated registers ---- */

#define MAX_MMIO 16

struct mmio_dev {
	uint64_t phys;
	size_t size;
	const struct moat_hosted_mmio_ops *ops;
	void *ctx;
	unsigned char *window; /* fake virtual addresses handed out by mmio_map */
};

static struct mmio_dev mmio_devs[MAX_MMIO];

int moat_hosted_mmio_add(uint64_t phys, size_t size, const struct moat_hosted_mmio_ops *ops, void *ctx)
{
	for (unsigned i = 0; i < MAX_MMIO; i++) {
		if (!mmio_devs[i].ops) {
			/* A private inaccessible reservation gives unique virtual addresses for the block. */
			void *w = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
			if (w == MAP_FAILED)
				return -1;
			mmio_devs[i] = (struct mmio_dev){ phys, size, ops, ctx, w };
			return 0;
		}
	}
	return -1;
}

void moat_hosted_mmio_remove(uint64_t phys)
{
	for (unsigned i = 0; i < MAX_MMIO; i++) {
		if (mmio_devs[i].ops && mmio_devs[i].phys == phys) {
			munmap(mmio_devs[i].window, mmio_devs[i].size);
			mmio_devs[i] = (struct mmio_dev){ 0 };
		}
	}
}

volatile void *moat_plat_mmio_map(uint64_t phys, size_t size)
{
	for (unsigned i = 0; i < MAX_MMIO; i++) {
		struct mmio_dev *m = &mmio_devs[i];
		if (m->ops && phys >= m->phys && phys - m->phys + size <= m->size)
			return m->window + (phys - m->phys);
	}
	return NULL;
}

void moat_plat_mmio_unmap(volatile void *virt, size_t size)
{
	(void)virt;
	(void)size;
}

static struct mmio_dev *mmio_find(volatile void *addr, uint64_t *offset)
{
	unsigned char *a = (unsigned char *)(uintptr_t)addr;

	for (unsigned i = 0; i < MAX_MMIO; i++) {
		struct mmio_dev *m = &mmio_devs[i];
		if (m->ops && a >= m->window && a < m->window + m->size) {
			*offset = (uint64_t)(a - m->window);
			return m;
		}
	}
	fprintf(stderr, "hosted: register access at %p outside any simulated device\n", (void *)a);
	abort();
}

uint32_t moat_plat_mmio_read32(volatile void *addr)
{
	uint64_t off;
	struct mmio_dev *m = mmio_find(addr, &off);

	hook(MOAT_HOSTED_MMIO_READ, m->phys + off, NULL, 0);
	return (uint32_t)m->ops->read(m->ctx, off, 4);
}

void moat_plat_mmio_write32(volatile void *addr, uint32_t value)
{
	uint64_t off;
	struct mmio_dev *m = mmio_find(addr, &off);

	hook(MOAT_HOSTED_MMIO_WRITE, m->phys + off, NULL, value);
	m->ops->write(m->ctx, off, 4, value);
}

uint64_t moat_plat_mmio_read64(volatile void *addr)
{
	uint64_t off;
	struct mmio_dev *m = mmio_find(addr, &off);

	hook(MOAT_HOSTED_MMIO_READ, m->phys + off, NULL, 0);
	return m->ops->read(m->ctx, off, 8);
}

void moat_plat_mmio_write64(volatile void *addr, uint64_t value)
{
	uint64_t off;
	struct mmio_dev *m = mmio_find(addr, &off);

	hook(MOAT_HOSTED_MMIO_WRITE, m->phys + off, NULL, value);
	m->ops->write(m->ctx, off, 8, value);
}

/* ---- caches, time, log, locks ---- */

void moat_plat_flush_cache_line(const void *virt)
{
	(void)virt;
	__atomic_fetch_add(&stats.cache_line_flushes, 1, __ATOMIC_RELAXED);
}

void moat_plat_wmb(void)
{
	void (*after)(void *) = atomic_load(&wmb_hook);

	__atomic_fetch_add(&stats.wmbs, 1, __ATOMIC_RELAXED);
	atomic_thread_fence(memory_order_release);
	if (after)
		after(atomic_load(&wmb_hook_ctx));
}

void moat_plat_mb(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

uint64_t moat_plat_time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void moat_plat_log(enum moat_log_level level, const char *msg)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };

	if (level <= log_level)
		fprintf(stderr, "moat %s: %s\n", names[level & 3], msg);
}

/*
 * Locks: spinlocks, as in a kernel (Moat holds them for a few stores; nothing sleeps under them).
 * Acquire is an atomic exchange, release a plain store with release order; a waiter spins on a
 * load, and after a while gives its CPU away (sched_yield()) so that threads outnumbering CPUs
 * still make progress. A pthread mutex would pay a second atomic operation on every release.
 */
struct hosted_lock {
	uint32_t locked;
	uint32_t magic;
};

#define HOSTED_LOCK_MAGIC 0x6c6f636bu
#define HOSTED_SPINS 200u

_Static_assert(sizeof(struct hosted_lock) <= MOAT_LOCK_SIZE, "the hosted lock must fit in struct moat_lock");

static struct hosted_lock *hosted_lock_of(struct moat_lock *lock)
{
	return (struct hosted_lock *)(void *)lock->opaque;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void moat_plat_lock_init(struct moat_lock *lock)
{
	struct hosted_lock *l = hosted_lock_of(lock);

	__atomic_store_n(&l->locked, 0u, __ATOMIC_RELAXED);
	l->magic = HOSTED_LOCK_MAGIC;
}

void moat_plat_lock_fini(struct moat_lock *lock)
{
	struct hosted_lock *l = hosted_lock_of(lock);

	if (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
		fprintf(stderr, "hosted: lock %p finished while held\n", (void *)lock);
		abort();
	}
	l->magic = 0;
}

void moat_plat_lock_acquire(struct moat_lock *lock)
{
	struct hosted_lock *l = hosted_lock_of(lock);
	unsigned spins = 0;

	if (l->magic != HOSTED_LOCK_MAGIC) {
		fprintf(stderr, "hosted: lock %p used before moat_plat_lock_init()\n", (void *)lock);
		abort();
	}
	while (__atomic_exchange_n(&l->locked, 1u, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED)) {
			if (++spins < HOSTED_SPINS) {
				cpu_relax();
			} else {
				spins = 0;
				sched_yield();
			}
		}
	}
}

void moat_plat_lock_release(struct moat_lock *lock)
{
	__atomic_store_n(&hosted_lock_of(lock)->locked, 0u, __ATOMIC_RELEASE);
}

/*
 * The CPU number the kernel keeps in this thread's rseq area (glibc registers it): one load, the
 * user-space twin of a kernel's per-CPU read. sched_getcpu() (a call, a few ns) when rseq is off.
 */
unsigned moat_plat_cpu_id(void)
{
	int c;

#ifdef HOSTED_RSEQ
	if (__rseq_size) {
		const struct rseq *r = (const struct rseq *)(void *)((char *)__builtin_thread_pointer() + __rseq_offset);
		const uint32_t id = __atomic_load_n(&r->cpu_id, __ATOMIC_RELAXED);

		if (id < 0x80000000u)   /* not RSEQ_CPU_ID_UNINITIALIZED or _REGISTRATION_FAILED */
			return id % MOAT_MAX_CPUS;
	}
#endif
	c = sched_getcpu();
	return c < 0 ? 0u : (unsigned)c % MOAT_MAX_CPUS;
}
