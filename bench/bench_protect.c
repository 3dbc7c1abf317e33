/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host-protection map build: moat_protect_host() over 4 GiB, 64 GiB and 1 TiB of RAM with a protected
 * hole that is not 2 MiB aligned, on a coherent and a non-coherent walker, against baselines measured
 * in the same run:
 *   floor     a loop that zeroes as many table pages and writes as many entries (and, non-coherent,
 *             calls the same flush hook per written line) as Moat's build did: the store-bound floor;
 *   range_4k  the same builder limited to 4 KiB leaves (4 and 64 GiB; at 1 TiB it needs 2 GiB).
 * Every build is checked (auditor clean, pages around the hole translate as they must) before it
 * counts. Usage: bench_protect [--quick] [--json FILE]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <moat/moat.h>

#include "hosted.h"

#define GIB (1ull << 30)
#define HOLE_BASE 0x1234000ull
#define HOLE_SIZE 0x2345000ull

struct result {
	double ms;
	uint64_t table_pages;
	uint64_t leaves;
	uint64_t flushes;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static size_t make_map(uint64_t ram, struct moat_mem_range *m)
{
	size_t n = 0;
	uint64_t low = ram < 3 * GIB ? ram : 3 * GIB;

	m[n++] = (struct moat_mem_range){ 0, 0x9fc00, MOAT_MEM_RAM };
	m[n++] = (struct moat_mem_range){ 0x9fc00, 0x400, MOAT_MEM_RESERVED };
	m[n++] = (struct moat_mem_range){ 0xf0000, 0x10000, MOAT_MEM_RESERVED };
	m[n++] = (struct moat_mem_range){ 0x100000, low - 0x100000 - 0x20000, MOAT_MEM_RAM };
	m[n++] = (struct moat_mem_range){ low - 0x20000, 0x20000, MOAT_MEM_ACPI_RECLAIM };
	m[n++] = (struct moat_mem_range){ 0xb0000000, 0x10000000, MOAT_MEM_RESERVED };
	if (ram > 3 * GIB)
		m[n++] = (struct moat_mem_range){ 4 * GIB, ram - 3 * GIB, MOAT_MEM_RAM };
	return n;
}

static moat_status count_leaf(void *ctx, uint64_t iova, uint64_t phys, uint64_t size, unsigned prot)
{
	(void)iova, (void)phys, (void)size, (void)prot;
	++*(uint64_t *)ctx;
	return MOAT_OK;
}

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "bench_protect: wrong result: %s\n", what);
		exit(1);
	}
}

/* One build; returns its time and shape after checking it. */
static struct result build(uint64_t ram, unsigned sizes, bool coherent)
{
	static struct moat_system sys;
	struct moat_domain dom;
	struct moat_mem_range map[8];
	struct moat_host_report rep;
	struct moat_diag d;
	struct moat_system_config cfg = { .pt = { MOAT_PT_VTD_SL, 4, sizes, coherent } };
	struct result r = { 0 };
	size_t n = make_map(ram, map);

	check(moat_system_init(&sys, &cfg) == MOAT_OK, "system init");
	check(moat_protect_add(&sys, HOLE_BASE, HOLE_SIZE, "hypervisor", &d) == MOAT_OK, "protect");
	check(moat_domain_create(&sys, &dom) == MOAT_OK, "domain");
	moat_hosted_reset();
	double t0 = now_ms();
	check(moat_protect_host(&dom, map, n, &rep, &d) == MOAT_OK, "protect_host");
	r.ms = now_ms() - t0;
	r.flushes = moat_hosted_stats().cache_line_flushes;
	r.table_pages = moat_pt_table_pages(&dom.pt);

	struct moat_pt_walk_ops w = { .leaf = count_leaf };
	check(moat_pt_walk(&dom.pt, &w, &r.leaves) == MOAT_OK, "walk");
	struct moat_audit_report audit;
	check(moat_audit(&sys, &audit) == 0, "auditor reports violations");
	uint64_t phys;
	check(moat_domain_translate(&dom, HOLE_BASE - 4096, &phys, NULL, NULL) == MOAT_OK && phys == HOLE_BASE - 4096,
	      "page below the hole");
	check(moat_domain_translate(&dom, HOLE_BASE, NULL, NULL, NULL) == MOAT_ERR_NOT_FOUND, "hole start");
	check(moat_domain_translate(&dom, HOLE_BASE + HOLE_SIZE - 4096, NULL, NULL, NULL) == MOAT_ERR_NOT_FOUND,
	      "hole end");
	check(moat_domain_translate(&dom, HOLE_BASE + HOLE_SIZE, &phys, NULL, NULL) == MOAT_OK, "page above the hole");
	check(moat_domain_translate(&dom, ram + GIB - 4096, &phys, NULL, NULL) == MOAT_OK, "last RAM page");
	check(moat_domain_translate(&dom, ram + GIB, NULL, NULL, NULL) == MOAT_ERR_NOT_FOUND, "past the last RAM page");
	check(moat_domain_translate(&dom, 0xb0000000, NULL, NULL, NULL) == MOAT_ERR_NOT_FOUND, "MMIO hole");
	check(moat_domain_destroy(&dom) == MOAT_OK, "destroy");
	check(moat_system_fini(&sys) == MOAT_OK, "fini");
	return r;
}

/* The store-bound floor: the same pages zeroed, the same entries written, the same flush calls. */
static double floor_ms(const struct result *m, bool coherent)
{
	size_t pages = (size_t)m->table_pages;
	uint64_t **p = malloc(pages * sizeof(*p));

	check(p != NULL, "floor alloc");
	for (size_t i = 0; i < pages; i++) {
		p[i] = aligned_alloc(4096, 4096);
		check(p[i] != NULL, "floor alloc");
		memset(p[i], 1, 4096); /* touched once, so the timed loop measures stores, not page faults */
	}
	double t0 = now_ms();
	for (size_t i = 0; i < pages; i++)
		memset(p[i], 0, 4096);
	uint64_t e = 0;
	for (size_t i = 0; i < pages && e < m->leaves; i++) {
		for (unsigned k = 0; k < 512 && e < m->leaves; k++, e++) {
			p[i][k] = (e << 21) | 0x83;
			if (!coherent && (k & 7) == 7)
				moat_plat_flush_cache_line(&p[i][k - 7]);
		}
		if (!coherent)
			moat_plat_wmb();
	}
	__asm__ volatile("" ::: "memory");
	double ms = now_ms() - t0;
	for (size_t i = 0; i < pages; i++)
		free(p[i]);
	free(p);
	return ms;
}

static struct result best_of(int reps, uint64_t ram, unsigned sizes, bool coherent)
{
	struct result best = { 0 };

	for (int i = 0; i < reps; i++) {
		struct result r = build(ram, sizes, coherent);
		if (i == 0 || r.ms < best.ms)
			best = r;
	}
	return best;
}

int main(int argc, char **argv)
{
	bool quick = false;
	const char *json = NULL;
	FILE *out = NULL;
	unsigned misses = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = true;
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json = argv[++i];
		else {
			fprintf(stderr, "usage: bench_protect [--quick] [--json FILE]\n");
			return 2;
		}
	}
	if (json && !(out = fopen(json, "w"))) {
		perror(json);
		return 2;
	}
	moat_hosted_set_log_level(MOAT_LOG_ERROR);
	const uint64_t sizes_gib[] = { 4, 64, 1024 };
	const struct {
		unsigned sizes;
		const char *name;
	} pagesets[] = { { MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M, "2M" },
			 { MOAT_PT_PAGE_4K | MOAT_PT_PAGE_2M | MOAT_PT_PAGE_1G, "1G" } };
	int reps = quick ? 1 : 5;
	bool first = true;

	if (out)
		fprintf(out, "[\n");
	printf("%-34s %10s %10s %8s %10s %12s %8s  %s\n", "workload", "moat ms", "floor ms", "x floor", "range_4k ms",
	       "table bytes", "flushes", "targets");
	for (unsigned s = 0; s < (quick ? 1u : 3u); s++) {
		for (unsigned ps = 0; ps < 2; ps++) {
			for (int coh = 1; coh >= 0; coh--) {
				uint64_t ram = sizes_gib[s] * GIB;
				struct result m = best_of(reps, ram, pagesets[ps].sizes, coh);
				double fl = 1e300;
				for (int i = 0; i < reps; i++) {
					double f = floor_ms(&m, coh);
					fl = f < fl ? f : fl;
				}
				double r4 = -1;
				if (ps == 0 && sizes_gib[s] <= 64 && !quick)
					r4 = best_of(1, ram, MOAT_PT_PAGE_4K, coh).ms;
				uint64_t bytes = m.table_pages * 4096;
				double ratio = fl > 0 ? m.ms / fl : 0;
				char name[64], tgt[96] = "", r4s[32] = "-";
				if (r4 >= 0)
					snprintf(r4s, sizeof(r4s), "%.3f", r4);
				snprintf(name, sizeof(name), "protect_host_%lluG_%s_%s",
					 (unsigned long long)sizes_gib[s], pagesets[ps].name, coh ? "coherent" : "noncoherent");
				bool floor_ok = ratio <= 1.5;
				strcat(tgt, floor_ok ? "floor PASS" : "floor MISS");
				if (sizes_gib[s] == 1024) {
					uint64_t limit = ps == 0 ? 41ull * 1024 * 1024 / 10 : 64ull * 1024; /* 4.1 MiB, 64 KiB */
					bool ok = bytes <= limit;
					strcat(tgt, ok ? ", bytes PASS" : ", bytes MISS");
					misses += !ok;
				}
				misses += !floor_ok;
				printf("%-34s %10.3f %10.3f %8.2f %10s %12llu %8llu  %s\n", name, m.ms, fl, ratio,
				       r4s,
				       (unsigned long long)bytes, (unsigned long long)m.flushes, tgt);
				if (out) {
					fprintf(out, "%s  {\"name\":\"%s\",\"unit\":\"ms\",\"moat\":%.4f,\"baseline\":{\"floor\":%.4f",
						first ? "" : ",\n", name, m.ms, fl);
					if (r4 >= 0)
						fprintf(out, ",\"range_4k\":%.4f", r4);
					fprintf(out, "},\"table_bytes\":%llu,\"ratio_to_floor\":%.3f}", (unsigned long long)bytes,
						ratio);
					first = false;
				}
			}
		}
	}
	if (out) {
		fprintf(out, "\n]\n");
		fclose(out);
	}
	printf("%u target(s) missed; baseline (a), a per-frame builder with a flush per entry, is not measured yet\n",
	       misses);
	return 0;
}
