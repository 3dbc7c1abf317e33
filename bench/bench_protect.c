/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Building the host-protection map: moat_protect_host() over an e820-like memory map of 4 GiB,
 * 64 GiB and 1 TiB of RAM, with a protected range that is not 2 MiB aligned (a hypervisor image of
 * 0x2345000 bytes at 0x1234000), in VT-d second-stage tables of 4 levels, with 4 KiB + 2 MiB or
 * 4 KiB + 2 MiB + 1 GiB leaves, for a coherent and a non-coherent page walker.
 *
 * Baselines, measured in the same run, in the same format (VT-d spec 4.1, section 9.8: R bit 0,
 * W bit 1, PS bit 7, address bits 51:12):
 *   per_frame_flush  map every 4 KiB frame on its own, walking from the root each time, allocating
 *                    tables as needed; non-coherent: a cache-line flush after every entry written
 *                    (and each new table flushed whole before it is linked);
 *   range_4k         fill the entries run by run like a good builder (a new table is filled, flushed
 *                    whole once, then linked; lines of existing tables flushed once), 4 KiB leaves only;
 *   floor            zero as many table pages and write as many entries as Moat's build did, and on
 *                    the non-coherent walker flush as many lines: the store-bound floor (the fastest
 *                    of three loop orders).
 * The flush is a real clflush on every walker that is not coherent, Moat's included: the link of
 * this program replaces the platform's moat_plat_flush_cache_line() and moat_plat_wmb() (which only
 * count in the hosted platform) with clflush and sfence, as the x86 platform of the reference kernel.
 *
 * Every build is checked before its time counts: Moat's with moat_audit() (no violation), its
 * report, every leaf (identity, inside the expected RAM runs) and translations in and around the
 * protected range and the holes of the map; each baseline with its leaf count and the same
 * translations.
 *
 * Usage: bench_protect [--quick | --fast] [--json FILE] [--plant moat|baseline]
 *   --quick  one repetition, 4 GiB with every baseline and 1 TiB with Moat only (the smoke test)
 *   --fast   everything but per_frame_flush on the non-coherent walker at 1 TiB (2^28 entries, each
 *            flushed on its own: about a minute and a half of the two minutes of a full run)
 *   --json   write the results as a JSON array to FILE
 *   --plant moat|baseline  add a leaf inside the protected range to each build of Moat (through the
 *            engine, past the core's checks) or of the baselines, untimed, after the build: the
 *            checks must then fail the run (the test that proves they look)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <moat/moat.h>

#include "bench.h"
#include "hosted.h"

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define PAGE 4096ull

/* The protected range: a hypervisor image, neither start nor end 2 MiB aligned. */
#define HOLE_BASE 0x1234000ull
#define HOLE_SIZE 0x2345000ull
#define HOLE_END (HOLE_BASE + HOLE_SIZE)

/* RAM below the PCI hole ends here; ACPI tables and NVS fill the last MiB before 3 GiB. */
#define LOW_TOP 0xbff00000ull

/* What --plant asks to break: nothing, Moat's builds or the baselines' builds. */
enum plant { PLANT_NONE, PLANT_MOAT, PLANT_BASELINE };
static enum plant plant;

/* ---------------------------------------------------------------------------------------------
 * Cache-line flushes
 * ------------------------------------------------------------------------------------------- */

void __wrap_moat_plat_flush_cache_line(const void *virt);
void __wrap_moat_plat_wmb(void);

/* Flushes and barriers since the start, counted with plain stores (the program has one thread). */
static uint64_t flush_count, wmb_count;

/*
 * Every cache-line flush of the program and of the library it links, as the reference kernel's x86
 * platform does it: clflush, and a count. (The hosted platform's own counter is an atomic add, a
 * locked instruction that waits for every clflush before it to complete: it would make each flush
 * cost a round trip to memory, which hardware does not.)
 */
void __wrap_moat_plat_flush_cache_line(const void *virt)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("clflush %0" : : "m"(*(const volatile char *)virt) : "memory");
#endif
	flush_count++;
}

/* The write barrier after a batch of flushes, as on the x86 platform. */
void __wrap_moat_plat_wmb(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("sfence" : : : "memory");
#else
	__atomic_thread_fence(__ATOMIC_RELEASE);
#endif
	wmb_count++;
}

static inline void flush_line(const void *p)
{
	moat_plat_flush_cache_line((const void *)((uintptr_t)p & ~(uintptr_t)(MOAT_CACHE_LINE - 1)));
}

static void flush_page(const void *p)
{
	for (unsigned l = 0; l < PAGE / MOAT_CACHE_LINE; l++)
		flush_line((const char *)p + l * MOAT_CACHE_LINE);
}

static uint64_t flushes_now(void)
{
	return flush_count;
}

/* ---------------------------------------------------------------------------------------------
 * The memory map
 * ------------------------------------------------------------------------------------------- */

struct run {
	uint64_t first, end;   /* [first, end), page-aligned */
};

struct layout {
	uint64_t ram;                  /* RAM installed, the workload's size */
	struct moat_mem_range map[16];
	size_t n;
	struct run runs[4];            /* what must be mapped: RAM pages minus the protected range */
	unsigned nruns;
	uint64_t mapped_bytes, top;    /* top: end of the highest RAM */
};

/*
 * A server's e820: low RAM up to the legacy hole, the BIOS area, RAM up to 3 GiB minus the ACPI
 * tables and NVS, the PCI hole (ECAM, IOAPIC, LAPIC, flash) up to 4 GiB, and the rest of the RAM
 * above 4 GiB as two entries (two memory nodes).
 */
static void make_layout(struct layout *l, uint64_t ram)
{
	const uint64_t high = ram - 3 * GIB, half = (high / 2) & ~(GIB - 1);
	size_t n = 0;

	memset(l, 0, sizeof(*l));
	l->ram = ram;
	l->map[n++] = (struct moat_mem_range){ 0, 0x9fc00, MOAT_MEM_RAM };
	l->map[n++] = (struct moat_mem_range){ 0x9fc00, 0x400, MOAT_MEM_RESERVED };
	l->map[n++] = (struct moat_mem_range){ 0xe0000, 0x20000, MOAT_MEM_RESERVED };
	l->map[n++] = (struct moat_mem_range){ 0x100000, LOW_TOP - 0x100000, MOAT_MEM_RAM };
	l->map[n++] = (struct moat_mem_range){ LOW_TOP, 0xe0000, MOAT_MEM_ACPI_RECLAIM };
	l->map[n++] = (struct moat_mem_range){ LOW_TOP + 0xe0000, 0x20000, MOAT_MEM_ACPI_NVS };
	l->map[n++] = (struct moat_mem_range){ 0xe0000000, 0x10000000, MOAT_MEM_RESERVED };
	l->map[n++] = (struct moat_mem_range){ 0xfec00000, 0x1000, MOAT_MEM_RESERVED };
	l->map[n++] = (struct moat_mem_range){ 0xfee00000, 0x1000, MOAT_MEM_RESERVED };
	l->map[n++] = (struct moat_mem_range){ 0xff000000, 0x1000000, MOAT_MEM_RESERVED };
	l->map[n++] = (struct moat_mem_range){ 4 * GIB, half ? half : high, MOAT_MEM_RAM };
	if (half)
		l->map[n++] = (struct moat_mem_range){ 4 * GIB + half, high - half, MOAT_MEM_RAM };
	l->n = n;
	l->top = 4 * GIB + high;

	l->runs[0] = (struct run){ 0, 0x9f000 };
	l->runs[1] = (struct run){ 0x100000, HOLE_BASE };
	l->runs[2] = (struct run){ HOLE_END, LOW_TOP };
	l->runs[3] = (struct run){ 4 * GIB, l->top };
	l->nruns = 4;
	for (unsigned i = 0; i < l->nruns; i++)
		l->mapped_bytes += l->runs[i].end - l->runs[i].first;
}

static bool in_runs(const struct layout *l, uint64_t a)
{
	for (unsigned i = 0; i < l->nruns; i++)
		if (a >= l->runs[i].first && a < l->runs[i].end)
			return true;
	return false;
}

/* Addresses every build must translate as the map says: the edges of every run and hole, and more. */
static unsigned probe_addresses(const struct layout *l, uint64_t *a, unsigned max)
{
	const uint64_t fixed[] = {
		0, 0x9e000, 0x9f000, 0xa0000, 0xff000, 0x100000, 0x200000, HOLE_BASE - PAGE, HOLE_BASE,
		HOLE_BASE + PAGE, 0x2000000, HOLE_END - PAGE, HOLE_END, HOLE_END + PAGE, 0x40000000,
		LOW_TOP - PAGE, LOW_TOP, 0xc0000000, 0xe0000000, 0xfee00000, 4 * GIB - PAGE, 4 * GIB,
		l->map[l->n - 1].base - PAGE, l->map[l->n - 1].base, l->top - PAGE, l->top, l->top + 2 * MIB,
		l->top + GIB,
	};
	unsigned n = 0;
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && n < max; i++)
		a[n++] = fixed[i];
	/* Pseudo-random pages up to a GiB past the top (an xorshift sequence, the same every run). */
	while (n < max) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		a[n++] = (x % (l->top + GIB)) & ~(PAGE - 1);
	}
	return n;
}

/* ---------------------------------------------------------------------------------------------
 * Moat's build
 * ------------------------------------------------------------------------------------------- */

struct moat_ctx {
	const struct layout *l;
	unsigned sizes;
	bool coherent;
	bool checked;          /* the first run is checked in full, the others by their shape */
	/* what the build did */
	uint64_t table_bytes, table_pages, new_pages, leaves, entries, flushes;
	double walk_us;        /* one moat_pt_walk() over the finished tables, summing its leaves */
};

struct leaf_check {
	const struct layout *l;
	uint64_t leaves, bytes, tables;
	const char *bad;
	uint64_t bad_iova;
};

static moat_status check_table(void *ctx, uint64_t phys, const void *virt, unsigned level, uint64_t iova)
{
	(void)phys, (void)virt, (void)level, (void)iova;
	((struct leaf_check *)ctx)->tables++;
	return MOAT_OK;
}

static moat_status check_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	struct leaf_check *c = ctx;

	c->leaves++;
	c->bytes += size;
	if (iova != phys || prot != MOAT_PT_RW)
		c->bad = "a leaf that is not an identity read/write map";
	else if (!in_runs(c->l, iova) || !in_runs(c->l, iova + size - 1))
		c->bad = "a leaf outside the RAM runs";
	if (c->bad) {
		c->bad_iova = iova;
		return MOAT_END;
	}
	return MOAT_OK;
}

static moat_status sum_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	(void)iova, (void)phys, (void)prot;
	*(uint64_t *)ctx += size;
	return MOAT_OK;
}

static moat_status check_bad(void *ctx, uint64_t iova, unsigned level, uint64_t raw)
{
	struct leaf_check *c = ctx;

	(void)level, (void)raw;
	c->bad = "a corrupt entry";
	c->bad_iova = iova;
	return MOAT_END;
}

static void check_moat_build(struct moat_ctx *c, struct moat_system *sys, struct moat_domain *dom,
			     const struct moat_host_report *rep)
{
	const struct layout *l = c->l;
	const struct moat_pt_walk_ops w = { .table = check_table, .leaf = check_leaf, .bad_entry = check_bad };
	struct leaf_check lc = { .l = l };
	static struct moat_audit_report audit;
	uint64_t probes[96];
	unsigned np = probe_addresses(l, probes, 96);

	if (moat_audit(sys, &audit) != 0 || audit.status != MOAT_OK) {
		char line[160] = "";

		if (audit.count)
			moat_audit_format(&audit.v[0], line, sizeof(line));
		bench_fail("moat build: the auditor found %llu violation(s): %s", (unsigned long long)audit.violations,
			   line);
	}
	bench_check(rep->ram_bytes == l->mapped_bytes + HOLE_SIZE, "report: RAM bytes");
	bench_check(rep->mapped_bytes == l->mapped_bytes, "report: mapped bytes");
	bench_check(rep->protected_bytes == HOLE_SIZE && rep->unreachable_bytes == 0, "report: protected bytes");
	if (moat_pt_walk(&dom->pt, &w, &lc) != MOAT_OK || lc.bad)
		bench_fail("moat build: %s at iova 0x%llx", lc.bad ? lc.bad : "walk failed",
			   (unsigned long long)lc.bad_iova);
	bench_check(lc.bytes == l->mapped_bytes, "moat build: leaves cover the RAM runs exactly");
	bench_check(lc.tables == moat_pt_table_pages(&dom->pt), "moat build: table count");
	for (unsigned i = 0; i < np; i++) {
		uint64_t phys = 0, size = 0;
		moat_status st = moat_domain_translate(dom, probes[i], &phys, NULL, &size);
		bool want = in_runs(l, probes[i]);

		if (want ? (st != MOAT_OK || phys != probes[i]) : st != MOAT_ERR_NOT_FOUND)
			bench_fail("moat build: address 0x%llx translates wrong (status %d, phys 0x%llx)",
				   (unsigned long long)probes[i], (int)st, (unsigned long long)phys);
	}
	/* Largest leaves where the map allows them, 4 KiB ones at the edges of the protected range. */
	const struct {
		uint64_t iova, size;
	} leaf_sizes[] = {
		{ HOLE_BASE - PAGE, 4 * KIB },
		{ HOLE_END, 4 * KIB },
		{ 0x200000, 2 * MIB },
		{ 0x40000000, (c->sizes & MOAT_PT_PAGE_1G) ? GIB : 2 * MIB },
		{ 4 * GIB, (c->sizes & MOAT_PT_PAGE_1G) ? GIB : 2 * MIB },
	};
	for (unsigned i = 0; i < sizeof(leaf_sizes) / sizeof(leaf_sizes[0]); i++) {
		uint64_t size = 0;

		if (moat_domain_translate(dom, leaf_sizes[i].iova, NULL, NULL, &size) != MOAT_OK ||
		    size != leaf_sizes[i].size)
			bench_fail("moat build: leaf at 0x%llx is %llu bytes, expected %llu",
				   (unsigned long long)leaf_sizes[i].iova, (unsigned long long)size,
				   (unsigned long long)leaf_sizes[i].size);
	}
	c->leaves = lc.leaves;
}

static double moat_run(void *arg)
{
	struct moat_ctx *c = arg;
	const struct moat_system_config cfg = { .pt = { MOAT_PT_VTD_SL, 4, c->sizes, c->coherent } };
	static struct moat_system sys;
	struct moat_domain dom;
	struct moat_host_report rep;
	struct moat_diag d;
	uint64_t t0, t1, f0;
	moat_status st;

	bench_check(moat_system_init(&sys, &cfg) == MOAT_OK, "moat_system_init");
	bench_check(moat_protect_add(&sys, HOLE_BASE, HOLE_SIZE, "hypervisor", &d) == MOAT_OK, "moat_protect_add");
	bench_check(moat_domain_create(&sys, &dom) == MOAT_OK, "moat_domain_create");
	f0 = flushes_now();
	t0 = bench_now_ns();
	st = moat_protect_host(&dom, c->l->map, c->l->n, &rep, &d);
	t1 = bench_now_ns();
	if (st != MOAT_OK)
		bench_fail("moat_protect_host: %s: %s", moat_status_text(st), d.msg);
	if (!c->checked) {
		c->flushes = flushes_now() - f0;
		if (plant == PLANT_MOAT)
			bench_check(moat_pt_map(&dom.pt, HOLE_BASE, HOLE_BASE, PAGE, MOAT_PT_RW) == MOAT_OK, "plant");
		c->table_bytes = moat_domain_memory(&dom);
		c->table_pages = moat_pt_table_pages(&dom.pt);
		c->new_pages = c->table_pages - 1;   /* the root came with the domain */
		bench_check(c->table_bytes == c->table_pages * PAGE, "moat_domain_memory() and the table pages disagree");
		check_moat_build(c, &sys, &dom, &rep);
		/* What a walk of these tables costs (for comparison: the build does not walk them). */
		{
			const struct moat_pt_walk_ops w = { .leaf = sum_leaf };

			for (int k = 0; k < 3; k++) {
				uint64_t sum = 0, w0 = bench_now_ns();
				double us;

				moat_pt_walk(&dom.pt, &w, &sum);
				us = (double)(bench_now_ns() - w0) / 1e3;
				c->walk_us = k == 0 || us < c->walk_us ? us : c->walk_us;
				bench_check(sum == c->l->mapped_bytes, "moat build: walk sum");
			}
		}
		/* Entries written: every leaf and the link to every new table. */
		c->entries = c->leaves + c->new_pages;
		c->checked = true;
	} else {
		bench_check(moat_domain_memory(&dom) == c->table_bytes && rep.mapped_bytes == c->l->mapped_bytes &&
				    flushes_now() - f0 == c->flushes,
			    "moat build: a repetition built something else");
	}
	bench_check(moat_domain_destroy(&dom) == MOAT_OK, "moat_domain_destroy");
	bench_check(moat_system_fini(&sys) == MOAT_OK, "moat_system_fini");
	return (double)(t1 - t0);
}

/* ---------------------------------------------------------------------------------------------
 * Baselines: a plain VT-d second-stage table builder
 * ------------------------------------------------------------------------------------------- */

#define SL_RW   3ull                     /* R (bit 0) and W (bit 1): links and 4 KiB leaves */
#define SL_ADDR 0x000ffffffffff000ull    /* bits 51:12 */

/* Tables from a pool of pages touched in advance, as a kernel's page allocator would give them. */
struct bt {
	unsigned char *pool;
	uint64_t pool_pages, next;
	uint64_t *root;
	bool flush;
	uint64_t leaves;
};

static void bt_pool_init(struct bt *t, uint64_t pages)
{
	void *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		bench_fail("cannot reserve %llu MiB for the baseline tables", (unsigned long long)(pages * PAGE >> 20));
	memset(p, 0x5a, pages * PAGE);
	t->pool = p;
	t->pool_pages = pages;
}

static void bt_pool_fini(struct bt *t)
{
	munmap(t->pool, t->pool_pages * PAGE);
	t->pool = NULL;
}

static uint64_t *bt_alloc(struct bt *t)
{
	uint64_t *p;

	if (t->next == t->pool_pages)
		bench_fail("baseline: out of table pages");
	p = (uint64_t *)(void *)(t->pool + t->next++ * PAGE);
	memset(p, 0, PAGE);
	return p;
}

/* Start over with an empty root (not timed: Moat's root comes with its domain). */
static void bt_reset(struct bt *t, bool flush)
{
	t->next = 0;
	t->leaves = 0;
	t->flush = flush;
	t->root = bt_alloc(t);
	if (flush)
		flush_page(t->root);
}

static inline uint64_t *bt_child(uint64_t e)
{
	return (uint64_t *)(uintptr_t)(e & SL_ADDR);
}

static inline unsigned sl_index(uint64_t a, unsigned level)
{
	return (unsigned)(a >> (12 + 9 * (level - 1))) & 511;
}

/* (a) One frame, from the root, like a builder that maps page by page. */
static void pf_map_frame(struct bt *t, uint64_t pa)
{
	uint64_t *tbl = t->root, *e;

	for (unsigned level = 4; level > 1; level--) {
		e = &tbl[sl_index(pa, level)];
		if (!*e) {
			uint64_t *n = bt_alloc(t);

			if (t->flush)
				flush_page(n);
			*e = (uint64_t)(uintptr_t)n | SL_RW;
			if (t->flush)
				flush_line(e);
		}
		tbl = bt_child(*e);
	}
	e = &tbl[sl_index(pa, 1)];
	*e = pa | SL_RW;
	if (t->flush)
		flush_line(e);
	t->leaves++;
}

static void pf_build(struct bt *t, const struct layout *l)
{
	for (unsigned r = 0; r < l->nruns; r++)
		for (uint64_t a = l->runs[r].first; a < l->runs[r].end; a += PAGE)
			pf_map_frame(t, a);
}

/*
 * (b) Map [s, e] (inclusive, inside @tbl's span) into @tbl at @level. A new (fresh) table is
 * flushed whole by its parent before the link; an existing one has its written lines flushed here.
 */
static void r4_fill(struct bt *t, uint64_t *tbl, unsigned level, uint64_t s, uint64_t e, bool fresh)
{
	const unsigned first = sl_index(s, level), last = sl_index(e, level);

	if (level == 1) {
		uint64_t v = s | SL_RW;

		for (unsigned i = first; i <= last; i++, v += PAGE)
			tbl[i] = v;
		t->leaves += last - first + 1;
	} else {
		const uint64_t span = 1ull << (12 + 9 * (level - 1));

		for (unsigned i = first; i <= last; i++) {
			uint64_t cs = i == first ? s : (s & ~(span * 512 - 1)) + i * span;
			uint64_t ce = i == last ? e : (s & ~(span * 512 - 1)) + (i + 1) * span - 1;

			if (tbl[i]) {
				r4_fill(t, bt_child(tbl[i]), level - 1, cs, ce, false);
			} else {
				uint64_t *n = bt_alloc(t);

				r4_fill(t, n, level - 1, cs, ce, true);
				if (t->flush)
					flush_page(n);
				tbl[i] = (uint64_t)(uintptr_t)n | SL_RW;
			}
		}
	}
	if (t->flush && !fresh)
		for (unsigned i = first & ~7u; i <= last; i += 8)
			flush_line(&tbl[i]);
}

static void r4_build(struct bt *t, const struct layout *l)
{
	for (unsigned r = 0; r < l->nruns; r++)
		r4_fill(t, t->root, 4, l->runs[r].first, l->runs[r].end - 1, false);
}

static bool bt_translate(const struct bt *t, uint64_t a, uint64_t *pa)
{
	const uint64_t *tbl = t->root;

	for (unsigned level = 4; level > 1; level--) {
		uint64_t e = tbl[sl_index(a, level)];

		if (!e)
			return false;
		tbl = bt_child(e);
	}
	if (!tbl[sl_index(a, 1)])
		return false;
	*pa = (tbl[sl_index(a, 1)] & SL_ADDR) | (a & (PAGE - 1));
	return true;
}

static void check_bt(const struct bt *t, const struct layout *l, const char *name)
{
	uint64_t probes[96];
	unsigned np = probe_addresses(l, probes, 96);

	if (t->leaves != l->mapped_bytes / PAGE)
		bench_fail("%s: %llu leaves, expected %llu", name, (unsigned long long)t->leaves,
			   (unsigned long long)(l->mapped_bytes / PAGE));
	for (unsigned i = 0; i < np; i++) {
		uint64_t pa = 0;
		bool mapped = bt_translate(t, probes[i], &pa);

		if (mapped != in_runs(l, probes[i]) || (mapped && pa != probes[i]))
			bench_fail("%s: address 0x%llx translates wrong", name, (unsigned long long)probes[i]);
	}
}

struct bt_ctx {
	struct bt *t;
	const struct layout *l;
	void (*build)(struct bt *t, const struct layout *l);
	const char *name;
	bool flush;
	uint64_t table_pages, flushes;
};

static double bt_run(void *arg)
{
	struct bt_ctx *c = arg;
	uint64_t t0, t1, f0;

	bt_reset(c->t, c->flush);
	f0 = flushes_now();
	t0 = bench_now_ns();
	c->build(c->t, c->l);
	t1 = bench_now_ns();
	c->flushes = flushes_now() - f0;
	c->table_pages = c->t->next;
	if (plant == PLANT_BASELINE)
		pf_map_frame(c->t, HOLE_BASE);
	check_bt(c->t, c->l, c->name);
	return (double)(t1 - t0);
}

/* Table pages a 4 KiB-only build of @l needs at most (for the pool). */
static uint64_t bt_pages_needed(const struct layout *l)
{
	return l->top / (2 * MIB) + l->top / GIB + l->top / (512 * GIB) + 16;
}

/* ---------------------------------------------------------------------------------------------
 * The floor: the stores and flushes of Moat's build, nothing else
 * ------------------------------------------------------------------------------------------- */

struct floor_ctx {
	struct bt *t;            /* its pool */
	uint64_t pages, entries, flushes;
	unsigned order;          /* repetitions alternate between the two loop orders */
};

/* Page @i's share of the entries and flushes, spread evenly: write them, then flush. */
static inline void floor_fill(const struct floor_ctx *c, uint64_t i)
{
	uint64_t *p = (uint64_t *)(void *)(c->t->pool + i * PAGE);
	uint64_t ne = c->entries * (i + 1) / c->pages - c->entries * i / c->pages;
	uint64_t nf = c->flushes * (i + 1) / c->pages - c->flushes * i / c->pages;
	const uint64_t v = (i << 21) | SL_RW;

	/* More than a page's worth only in builds of a few pages: write the page again. */
	while (ne) {
		const unsigned n = ne < 512 ? (unsigned)ne : 512;

		for (unsigned k = 0; k < n; k++)
			p[k] = v + k * PAGE;
		ne -= n;
	}
	while (nf) {
		const unsigned n = nf < PAGE / MOAT_CACHE_LINE ? (unsigned)nf : PAGE / MOAT_CACHE_LINE;

		for (unsigned l = 0; l < n; l++)
			flush_line(p + l * (MOAT_CACHE_LINE / 8));
		nf -= n;
	}
}

/*
 * Zero the pages and write the entries, in one of three orders: each page zeroed just before it is
 * filled; all zeroed first, then filled in the same order; all zeroed first, then filled last one
 * first (as from a pool the allocator filled, used as a stack). The floor is the fastest.
 */
static double floor_run(void *arg)
{
	struct floor_ctx *c = arg;
	uint64_t t0, t1;
	const unsigned order = c->order++ % 3;

	t0 = bench_now_ns();
	if (order == 0) {
		for (uint64_t i = 0; i < c->pages; i++) {
			memset(c->t->pool + i * PAGE, 0, PAGE);
			floor_fill(c, i);
		}
	} else {
		for (uint64_t i = 0; i < c->pages; i++)
			memset(c->t->pool + i * PAGE, 0, PAGE);
		for (uint64_t i = 0; i < c->pages; i++)
			floor_fill(c, order == 1 ? i : c->pages - 1 - i);
	}
	if (c->flushes)
		moat_plat_wmb();
	__asm__ __volatile__("" : : "r"(c->t->pool) : "memory");
	t1 = bench_now_ns();
	return (double)(t1 - t0);
}

/* ---------------------------------------------------------------------------------------------
 * The workloads
 * ------------------------------------------------------------------------------------------- */

struct options {
	bool quick, fast;
	const char *json;
};

static const struct bench_column columns[] = {
	{ "floor", BENCH_FLOOR },
	{ "range_4k", BENCH_RIVAL },
	{ "per_frame_flush", BENCH_RIVAL },
};

/* What the baselines did for one size and walker. */
struct base_result {
	bool run;
	double us;
	uint64_t table_pages, flushes, runs;
	char why[64];          /* when not run */
};

static const char *size_name(uint64_t ram, char *buf, size_t size)
{
	if (ram >= 1024 * GIB)
		snprintf(buf, size, "%lluT", (unsigned long long)(ram / (1024 * GIB)));
	else
		snprintf(buf, size, "%lluG", (unsigned long long)(ram / GIB));
	return buf;
}

static void measure_baseline(struct base_result *br, struct bt *t, const struct layout *l, bool flush,
			     void (*build)(struct bt *, const struct layout *), const char *name, bool quick)
{
	struct bt_ctx c = { t, l, build, name, flush, 0, 0 };
	struct bench_sample s = bench_repeat(bt_run, &c, 1, quick ? 1 : 5, 1e9);

	br->run = true;
	br->us = s.min / 1e3;
	br->table_pages = c.table_pages;
	br->flushes = c.flushes;
	br->runs = s.runs;
}

static void add_baseline(struct bench_result *r, const char *name, const struct base_result *b, double value)
{
	if (b->run)
		bench_baseline(r, name, value);
	else
		bench_skip(r, name, b->why);
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct bench_results rs = { 0 };
	const struct bench_table table = { columns, sizeof(columns) / sizeof(columns[0]), stdout };
	const uint64_t sizes_full[] = { 4 * GIB, 64 * GIB, 1024 * GIB };
	const uint64_t sizes_quick[] = { 4 * GIB, 1024 * GIB };
	const struct {
		unsigned sizes;
		const char *name;
	} pagesets[] = {
		{ MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M, "4K+2M" },
		{ MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M | MOAT_PT_PAGE_1G, "4K+2M+1G" },
	};
	const uint64_t *sizes = sizes_full;
	unsigned nsizes = 3;
	struct bt t = { 0 };
	double pf_nc_us_per_page = 0;   /* per_frame_flush non-coherent, for the estimate of what is skipped */

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			o.quick = true;
		} else if (!strcmp(argv[i], "--fast")) {
			o.fast = true;
		} else if (!strcmp(argv[i], "--plant") && i + 1 < argc && !strcmp(argv[i + 1], "moat")) {
			plant = PLANT_MOAT;
			i++;
		} else if (!strcmp(argv[i], "--plant") && i + 1 < argc && !strcmp(argv[i + 1], "baseline")) {
			plant = PLANT_BASELINE;
			i++;
		} else if (!strcmp(argv[i], "--json") && i + 1 < argc) {
			o.json = argv[++i];
		} else {
			fprintf(stderr, "usage: bench_protect [--quick | --fast] [--json FILE] [--plant moat|baseline]\n");
			return 2;
		}
	}
	if (o.quick) {
		sizes = sizes_quick;
		nsizes = 2;
	}
	moat_hosted_set_log_level(MOAT_LOG_ERROR);

	printf("moat_protect_host(): identity map of all RAM minus a protected range of 0x%llx bytes at 0x%llx,\n"
	       "VT-d second-stage tables, 4 levels; e820 with the PCI hole at 3-4 GiB, RAM above 4 GiB to size + 1 GiB.\n"
	       "Times in microseconds, minimum of the repetitions; non-coherent walkers flush with clflush.%s\n\n",
	       (unsigned long long)HOLE_SIZE, (unsigned long long)HOLE_BASE,
	       o.quick ? "\nQuick mode: one cold run each, for the checks; the times and targets mean nothing." : "");
	bench_table_header(&table);

	/* One pool of tables for the baselines and the floor, large enough for the largest size that
	 * runs the baselines and for the floor of Moat's largest build (1 TiB with 2 MiB leaves). */
	{
		struct layout big;

		make_layout(&big, o.quick ? 4 * GIB : sizes[nsizes - 1]);
		bt_pool_init(&t, bt_pages_needed(&big) > 2048 ? bt_pages_needed(&big) : 2048);
	}

	for (unsigned si = 0; si < nsizes; si++) {
		const uint64_t ram = sizes[si];
		struct layout l;
		struct base_result pf[2] = { { 0 } }, r4[2] = { { 0 } };   /* [coherent] */
		uint64_t moat_bytes[2] = { 0 };
		char sname[16];

		make_layout(&l, ram);
		size_name(ram, sname, sizeof(sname));
		for (int coh = 1; coh >= 0; coh--) {
			if (o.quick && ram > 4 * GIB) {
				snprintf(r4[coh].why, sizeof(r4[coh].why), "quick mode: 4 GiB only");
				snprintf(pf[coh].why, sizeof(pf[coh].why), "quick mode: 4 GiB only");
			} else {
				measure_baseline(&r4[coh], &t, &l, !coh, r4_build, "range_4k", o.quick);
				if (!coh && ram > 64 * GIB && o.fast)
					snprintf(pf[coh].why, sizeof(pf[coh].why),
						 "not run (--fast): ~%.0f s estimated from 64 GiB",
						 pf_nc_us_per_page * (double)(l.mapped_bytes / PAGE) / 1e6);
				else {
					if (!coh && ram > 64 * GIB)
						printf("(per_frame_flush on the non-coherent walker at %s: about %.0f s; "
						       "--fast skips it)\n",
						       sname, pf_nc_us_per_page * (double)(l.mapped_bytes / PAGE) / 1e6);
					fflush(stdout);
					measure_baseline(&pf[coh], &t, &l, !coh, pf_build, "per_frame_flush", o.quick);
				}
				if (!coh && pf[coh].run)
					pf_nc_us_per_page = pf[coh].us / (double)(l.mapped_bytes / PAGE);
			}
			for (unsigned ps = 0; ps < 2; ps++) {
				struct moat_ctx mc = { .l = &l, .sizes = pagesets[ps].sizes, .coherent = coh };
				/* the first build is checked, and says what the floor must write */
				const double first_ns = moat_run(&mc);
				struct floor_ctx fc = { &t, mc.new_pages, mc.entries, coh ? 0 : mc.flushes, 0 };
				struct bench_sample ms, fs;
				struct bench_result *r;
				char name[BENCH_NAME_MAX];
				double moat_us;

				if (fc.pages > t.pool_pages)
					bench_fail("floor: %llu pages do not fit the pool", (unsigned long long)fc.pages);
				/* then Moat and the floor in turns: a change of the machine's state reaches both */
				bench_repeat2(moat_run, &mc, floor_run, &fc, o.quick ? 1 : 10, o.quick ? 1 : 2000,
					      o.quick ? 0 : 3e8, &ms, &fs);
				moat_us = (first_ns < ms.min ? first_ns : ms.min) / 1e3;
				snprintf(name, sizeof(name), "protect_host/%s/%s/%s", sname, pagesets[ps].name,
					 coh ? "coherent" : "noncoherent");
				r = bench_result_new(&rs, name, "us", moat_us);
				bench_baseline(r, "floor", fs.min / 1e3);
				add_baseline(r, "range_4k", &r4[coh], r4[coh].us);
				add_baseline(r, "per_frame_flush", &pf[coh], pf[coh].us);
				bench_target(r, "moat/floor<=1.5", moat_us / (fs.min / 1e3), true, 1.5);
				if (ram == 4 * GIB && pf[coh].run)
					bench_target(r, "per_frame/moat>=100", pf[coh].us / moat_us, false, 100);
				bench_info(r, "runs", ms.runs);
				bench_info(r, "median", ms.median / 1e3);
				bench_info(r, "table_pages", (double)mc.table_pages);
				bench_info(r, "leaves", (double)mc.leaves);
				bench_info(r, "entries", (double)mc.entries);
				bench_info(r, "flushes", (double)mc.flushes);
				bench_info(r, "walk_us", mc.walk_us);
				if (r4[coh].run)
					bench_info(r, "runs_range_4k", (double)r4[coh].runs);
				if (pf[coh].run)
					bench_info(r, "runs_per_frame", (double)pf[coh].runs);
				if (!coh && r4[coh].run)
					bench_info(r, "flushes_range_4k", (double)r4[coh].flushes);
				if (!coh && pf[coh].run)
					bench_info(r, "flushes_per_frame", (double)pf[coh].flushes);
				bench_table_row(&table, r);
				moat_bytes[ps] = mc.table_bytes;
			}
		}
		for (unsigned ps = 0; ps < 2; ps++) {
			const struct base_result *b = r4[1].run ? &r4[1] : &r4[0];
			const struct base_result *p = pf[1].run ? &pf[1] : &pf[0];
			struct bench_result *r;
			char name[BENCH_NAME_MAX];
			double bytes = (double)moat_bytes[ps];

			snprintf(name, sizeof(name), "protect_host/%s/%s/table_bytes", sname, pagesets[ps].name);
			r = bench_result_new(&rs, name, "bytes", bytes);
			add_baseline(r, "range_4k", b, (double)(b->table_pages * PAGE));
			add_baseline(r, "per_frame_flush", p, (double)(p->table_pages * PAGE));
			if (ram == 1024 * GIB) {
				if (pagesets[ps].sizes & MOAT_PT_PAGE_1G)
					bench_target(r, "bytes<=64KiB", bytes, true, 64.0 * KIB);
				else
					bench_target(r, "bytes<=4.1MiB", bytes, true, 4.1 * MIB);
			}
			bench_table_row(&table, r);
		}
	}
	bt_pool_fini(&t);

	unsigned missed = bench_targets_missed(&rs);
	printf("\n");
	bench_print_skipped(stdout, &rs);
	printf("moat/b: Moat over the baseline (the floor: at most 1.5 is the target); b/moat: the baseline over Moat\n"
	       "(how many times faster or smaller Moat is). %u target(s) missed.\n",
	       missed);
	if (o.json && bench_write_json(o.json, &rs) != 0) {
		perror(o.json);
		bench_results_free(&rs);
		return 2;
	}
	bench_results_free(&rs);
	return 0;
}
