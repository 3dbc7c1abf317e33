/* SPDX-License-Identifier: BSD-2-Clause */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The summary of @n timed parts (sorted in place). */
static struct bench_sample summarize(double *t, unsigned n)
{
	struct bench_sample s = { .runs = n };

	qsort(t, n, sizeof(*t), cmp_double);
	s.min = t[0];
	s.max = t[n - 1];
	s.median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
	return s;
}

static double *times_new(unsigned *min_runs, unsigned *max_runs)
{
	double *t;

	if (*min_runs < 1)
		*min_runs = 1;
	if (*max_runs < *min_runs)
		*max_runs = *min_runs;
	t = malloc(*max_runs * sizeof(*t));
	if (!t)
		bench_fail("out of memory for %u repetitions", *max_runs);
	return t;
}

struct bench_sample bench_repeat(bench_run_fn run, void *ctx, unsigned min_runs, unsigned max_runs,
				 double budget_ns)
{
	double *t = times_new(&min_runs, &max_runs), total = 0;
	struct bench_sample s;
	unsigned n = 0;

	while (n < max_runs && (n < min_runs || total < budget_ns)) {
		t[n] = run(ctx);
		total += t[n++];
	}
	s = summarize(t, n);
	free(t);
	return s;
}

void bench_repeat2(bench_run_fn run_a, void *ctx_a, bench_run_fn run_b, void *ctx_b, unsigned min_runs,
		   unsigned max_runs, double budget_ns, struct bench_sample *a, struct bench_sample *b)
{
	double *ta = times_new(&min_runs, &max_runs), *tb = malloc(max_runs * sizeof(*tb)), total = 0;
	unsigned n = 0;

	if (!tb)
		bench_fail("out of memory for %u repetitions", max_runs);
	while (n < max_runs && (n < min_runs || total < budget_ns)) {
		ta[n] = run_a(ctx_a);
		tb[n] = run_b(ctx_b);
		total += ta[n] + tb[n];
		n++;
	}
	*a = summarize(ta, n);
	*b = summarize(tb, n);
	free(ta);
	free(tb);
}

void bench_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "bench: wrong result: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

void bench_check(bool ok, const char *what)
{
	if (!ok)
		bench_fail("%s", what);
}

static void copy_key(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

struct bench_result *bench_result_new(struct bench_results *rs, const char *name, const char *unit, double moat)
{
	struct bench_result *r;

	if (rs->n == rs->cap) {
		unsigned cap = rs->cap ? rs->cap * 2 : 16;
		struct bench_result *p = realloc(rs->r, cap * sizeof(*p));

		if (!p)
			bench_fail("out of memory for results");
		rs->r = p;
		rs->cap = cap;
	}
	r = &rs->r[rs->n++];
	memset(r, 0, sizeof(*r));
	copy_key(r->name, sizeof(r->name), name);
	copy_key(r->unit, sizeof(r->unit), unit);
	r->moat = moat;
	return r;
}

void bench_baseline(struct bench_result *r, const char *name, double value)
{
	if (r->nbase == BENCH_BASELINES)
		bench_fail("%s: too many baselines", r->name);
	copy_key(r->base[r->nbase].name, sizeof(r->base[0].name), name);
	r->base[r->nbase++].value = value;
}

void bench_skip(struct bench_result *r, const char *name, const char *why)
{
	if (r->nskip == BENCH_SKIPPED)
		bench_fail("%s: too many skipped baselines", r->name);
	copy_key(r->skip[r->nskip].name, sizeof(r->skip[0].name), name);
	copy_key(r->skip[r->nskip++].why, sizeof(r->skip[0].why), why);
}

void bench_info(struct bench_result *r, const char *name, double value)
{
	if (r->ninfo == BENCH_INFO)
		bench_fail("%s: too many details", r->name);
	copy_key(r->info[r->ninfo].name, sizeof(r->info[0].name), name);
	r->info[r->ninfo++].value = value;
}

bool bench_target(struct bench_result *r, const char *name, double value, bool at_most, double limit)
{
	struct bench_target *t;

	if (r->ntarget == BENCH_TARGETS)
		bench_fail("%s: too many targets", r->name);
	t = &r->target[r->ntarget++];
	copy_key(t->name, sizeof(t->name), name);
	t->value = value;
	t->limit = limit;
	t->at_most = at_most;
	t->pass = at_most ? value <= limit : value >= limit;
	return t->pass;
}

double bench_baseline_value(const struct bench_result *r, const char *name)
{
	for (unsigned i = 0; i < r->nbase; i++)
		if (!strcmp(r->base[i].name, name))
			return r->base[i].value;
	return 0;
}

unsigned bench_targets_missed(const struct bench_results *rs)
{
	unsigned n = 0;

	for (unsigned i = 0; i < rs->n; i++)
		for (unsigned k = 0; k < rs->r[i].ntarget; k++)
			n += !rs->r[i].target[k].pass;
	return n;
}

/* ---- human table ---- */

/* A value in at most 15 columns: four significant digits, or all digits of an integer part. */
static void fmt_value(char *buf, size_t size, double v)
{
	double a = fabs(v);

	if (a >= 1e14)
		snprintf(buf, size, "%.3e", v);
	else if (a >= 1000)
		snprintf(buf, size, "%.0f", v);
	else if (a >= 100)
		snprintf(buf, size, "%.1f", v);
	else if (a >= 10)
		snprintf(buf, size, "%.2f", v);
	else if (a >= 1)
		snprintf(buf, size, "%.3f", v);
	else
		snprintf(buf, size, "%.4f", v);
}

static void fmt_ratio(char *buf, size_t size, double v)
{
	if (v >= 100)
		snprintf(buf, size, "%.0fx", v);
	else if (v >= 10)
		snprintf(buf, size, "%.1fx", v);
	else
		snprintf(buf, size, "%.2fx", v);
}

void bench_table_header(const struct bench_table *t)
{
	fprintf(t->out, "%-40s %-5s %10s", "workload", "unit", "moat");
	for (unsigned c = 0; c < t->ncols; c++)
		fprintf(t->out, " %15s %7s", t->cols[c].name, t->cols[c].kind == BENCH_FLOOR ? "moat/b" : "b/moat");
	fprintf(t->out, "  targets\n");
}

void bench_table_row(const struct bench_table *t, const struct bench_result *r)
{
	char v[32], q[32];

	fmt_value(v, sizeof(v), r->moat);
	fprintf(t->out, "%-40s %-5s %10s", r->name, r->unit, v);
	for (unsigned c = 0; c < t->ncols; c++) {
		double b = bench_baseline_value(r, t->cols[c].name);
		bool skipped = false;

		for (unsigned k = 0; k < r->nskip; k++)
			skipped |= !strcmp(r->skip[k].name, t->cols[c].name);
		if (b <= 0) {
			fprintf(t->out, " %15s %7s", skipped ? "skipped" : "-", "");
			continue;
		}
		fmt_value(v, sizeof(v), b);
		if (t->cols[c].kind == BENCH_FLOOR)
			fmt_ratio(q, sizeof(q), r->moat / b);
		else
			fmt_ratio(q, sizeof(q), r->moat > 0 ? b / r->moat : INFINITY);
		fprintf(t->out, " %15s %7s", v, q);
	}
	fprintf(t->out, " ");
	for (unsigned k = 0; k < r->ntarget; k++)
		fprintf(t->out, " %s %s", r->target[k].pass ? "PASS" : "MISS", r->target[k].name);
	fprintf(t->out, "\n");
	fflush(t->out);
}

void bench_print_skipped(FILE *out, const struct bench_results *rs)
{
	for (unsigned i = 0; i < rs->n; i++) {
		for (unsigned k = 0; k < rs->r[i].nskip; k++) {
			bool seen = false;

			/* Each reason once, with the first workload that gave it. */
			for (unsigned j = 0; j <= i && !seen; j++)
				for (unsigned m = 0; m < rs->r[j].nskip && !seen; m++)
					seen = (j < i || m < k) && !strcmp(rs->r[j].skip[m].name, rs->r[i].skip[k].name) &&
					       !strcmp(rs->r[j].skip[m].why, rs->r[i].skip[k].why);
			if (!seen)
				fprintf(out, "skipped: %s for %s and the like: %s\n", rs->r[i].skip[k].name, rs->r[i].name,
					rs->r[i].skip[k].why);
		}
	}
}

/* ---- JSON ---- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* JSON has no NaN or infinity; integers print as integers. */
static void json_number(FILE *f, double v)
{
	if (!isfinite(v))
		fprintf(f, "null");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.9g", v);
}

static void json_result(FILE *f, const struct bench_result *r)
{
	fprintf(f, "{\"name\":");
	json_string(f, r->name);
	fprintf(f, ",\"unit\":");
	json_string(f, r->unit);
	fprintf(f, ",\"moat\":");
	json_number(f, r->moat);
	fprintf(f, ",\"baseline\":{");
	for (unsigned i = 0; i < r->nbase; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_string(f, r->base[i].name);
		fputc(':', f);
		json_number(f, r->base[i].value);
	}
	fprintf(f, "},\"ratio\":{");
	for (unsigned i = 0; i < r->nbase; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_string(f, r->base[i].name);
		fputc(':', f);
		json_number(f, r->moat / r->base[i].value);
	}
	fprintf(f, "},\"targets\":[");
	for (unsigned i = 0; i < r->ntarget; i++) {
		const struct bench_target *t = &r->target[i];

		fprintf(f, "%s{\"name\":", i ? "," : "");
		json_string(f, t->name);
		fprintf(f, ",\"value\":");
		json_number(f, t->value);
		fprintf(f, ",\"limit\":");
		json_number(f, t->limit);
		fprintf(f, ",\"at_most\":%s,\"pass\":%s}", t->at_most ? "true" : "false", t->pass ? "true" : "false");
	}
	fprintf(f, "],\"skipped\":{");
	for (unsigned i = 0; i < r->nskip; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_string(f, r->skip[i].name);
		fputc(':', f);
		json_string(f, r->skip[i].why);
	}
	fprintf(f, "},\"info\":{");
	for (unsigned i = 0; i < r->ninfo; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_string(f, r->info[i].name);
		fputc(':', f);
		json_number(f, r->info[i].value);
	}
	fprintf(f, "}}");
}

int bench_write_json(const char *path, const struct bench_results *rs)
{
	FILE *f = fopen(path, "w");
	int err;

	if (!f)
		return -1;
	fprintf(f, "[\n");
	for (unsigned i = 0; i < rs->n; i++) {
		fprintf(f, "  ");
		json_result(f, &rs->r[i]);
		fprintf(f, "%s\n", i + 1 < rs->n ? "," : "");
	}
	fprintf(f, "]\n");
	err = ferror(f);
	if (fclose(f) != 0 || err) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}

void bench_results_free(struct bench_results *rs)
{
	free(rs->r);
	rs->r = NULL;
	rs->n = rs->cap = 0;
}
