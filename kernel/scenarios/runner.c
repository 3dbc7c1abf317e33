/* SPDX-License-Identifier: BSD-2-Clause */
/* Running scenarios and printing their result lines. */
#include <moat/internal/lib.h>
#include <moat/platform.h>

#include "arch/trap.h"
#include "kernel.h"
#include "scenarios/scenario.h"

struct tally {
	unsigned passed, failed, skipped;
};

static struct tally tally;
static const char *running;   /* name of the scenario in progress, for the exception path */

static enum scenario_verdict set_reason(struct scenario_result *r, enum scenario_verdict v, const char *fmt,
					va_list ap)
{
	moat_vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	/* A reason is one line. */
	for (char *p = r->reason; *p; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}
	return v;
}

enum scenario_verdict scenario_fail(struct scenario_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_reason(r, SCENARIO_FAIL, fmt, ap);
	va_end(ap);
	return SCENARIO_FAIL;
}

enum scenario_verdict scenario_skip(struct scenario_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_reason(r, SCENARIO_SKIP, fmt, ap);
	va_end(ap);
	return SCENARIO_SKIP;
}

void scenario_note(const char *fmt, ...)
{
	va_list ap;

	kputs("  ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kputs("\n");
}

static void print_summary(void)
{
	kprintf("%u passed, %u failed, %u skipped\n", tally.passed, tally.failed, tally.skipped);
}

/* A CPU exception inside a scenario: that scenario failed; close the report so it stays well formed. */
static void on_exception(const char *what)
{
	if (!running)
		return;
	kprintf("FAIL %s: %s\n", running, what);
	tally.failed++;
	running = NULL;
	print_summary();
}

static void run_one(struct kernel_system *sys, const struct scenario *s)
{
	struct scenario_result r;
	enum scenario_verdict v;
	uint64_t start;

	moat_memset(&r, 0, sizeof(r));
	kprintf("-- %s: %s\n", s->name, s->what);
	running = s->name;
	start = moat_plat_time_ns();
	v = s->run(sys, &r);
	running = NULL;
	scenario_note("(%llu ms)", (unsigned long long)((moat_plat_time_ns() - start) / 1000000));
	switch (v) {
	case SCENARIO_PASS:
		kprintf("PASS %s\n", s->name);
		tally.passed++;
		break;
	case SCENARIO_SKIP:
		kprintf("SKIP %s: %s\n", s->name, r.reason[0] ? r.reason : "no reason given");
		tally.skipped++;
		break;
	default:
		kprintf("FAIL %s: %s\n", s->name, r.reason[0] ? r.reason : "no reason given");
		tally.failed++;
		break;
	}
}

static const struct scenario *find(const char *name, size_t len)
{
	for (unsigned i = 0; i < kernel_scenario_count; i++) {
		if (moat_strlen(kernel_scenarios[i].name) == len && !moat_memcmp(kernel_scenarios[i].name, name, len))
			return &kernel_scenarios[i];
	}
	return NULL;
}

unsigned scenarios_run(struct kernel_system *sys, const char *names)
{
	moat_memset(&tally, 0, sizeof(tally));
	trap_abort_hook = on_exception;
	if (!names || !*names) {
		for (unsigned i = 0; i < kernel_scenario_count; i++) {
			if (!kernel_scenarios[i].on_request)
				run_one(sys, &kernel_scenarios[i]);
		}
	} else {
		const char *p = names;

		while (*p) {
			const char *end = p;
			const struct scenario *s;

			while (*end && *end != ',')
				end++;
			if (end > p) {
				s = find(p, (size_t)(end - p));
				if (s) {
					run_one(sys, s);
				} else {
					kprintf("FAIL %.*s: no such scenario (known:", (int)(end - p), p);
					for (unsigned i = 0; i < kernel_scenario_count; i++)
						kprintf(" %s", kernel_scenarios[i].name);
					kputs(")\n");
					tally.failed++;
				}
			}
			p = *end ? end + 1 : end;
		}
	}
	trap_abort_hook = NULL;
	print_summary();
	return tally.failed;
}
