/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A simulated AMD IOMMU for the hosted platform.
 *
 * It models the MMIO registers as AMD publication 48882 (section 3.4) describes them, written
 * independently of the driver's register header (its own offsets and bit numbers): device table,
 * command buffer and event log bases, control, exclusion range, EFR, head/tail pointers, status
 * with its run and write-1-to-clear bits. A command processor executes commands from simulated
 * memory (through moat_plat_phys_to_virt()) when the tail is written: COMPLETION_WAIT with store,
 * INVALIDATE_DEVTAB_ENTRY, INVALIDATE_IOMMU_PAGES, INVALIDATE_IOMMU_ALL (illegal without EFR.IA)
 * and the other opcodes; an illegal command (reserved bits, unknown opcode) stops the processor
 * (Status.CmdBufRun clear, head at the command) and logs ILLEGAL_COMMAND_ERROR. A test appends
 * events to the event log as the hardware would (overflow included). A device-table-entry cache
 * lets a test see whether an invalidation happened: sim_amdvi_request() uses the cached entry
 * until INVALIDATE_DEVTAB_ENTRY or INVALIDATE_IOMMU_ALL drops it.
 * Every register write is logged and rule violations are counted.
 * Failure knobs: a processor that never runs, run bits that never follow their enables, commands
 * that run only a few at a time on register reads, an injected illegal command.
 *
 * Interrupt remapping (section 2.2.5): sim_amdvi_msi() resolves an interrupt message of a device
 * as the IOMMU would: the device-table entry (through the entry cache), IV, the message type
 * (data bits 10:8), IntCtl, IntTabLen, the table entry (basic, or GA mode with Control.GAEn, 32-bit
 * destinations with XTEn) and the pass bits, logging IO_PAGE_FAULT (I set) and
 * INVALID_DEVICE_REQUEST events. A per-device interrupt entry cache keeps the last entry read
 * until INVALIDATE_INTERRUPT_TABLE or INVALIDATE_IOMMU_ALL drops it.
 * that run only a few at a time on register reads (a slow processor: `lazy`), an injected illegal
 * command.
 * The IOMMU is hardware for the hostile device of tests/support/hostile.h: while IommuEn is set, the
 * device ids its device table (as programmed in the base register) lets through, and the
 * invalidations it carried out.
 */
#ifndef MOAT_TEST_SIM_AMDVI_H
#define MOAT_TEST_SIM_AMDVI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_LOG_MAX 8192
#define SIM_CMD_MAX 8192

/* Register offsets (48882 section 3.4), kept apart from the driver's header on purpose. */
enum {
	SIM_DEVTAB = 0x0000, SIM_CMDBASE = 0x0008, SIM_EVTBASE = 0x0010, SIM_CONTROL = 0x0018,
	SIM_EXCLBASE = 0x0020, SIM_EXCLLIMIT = 0x0028, SIM_EFR = 0x0030,
	SIM_CMDHEAD = 0x2000, SIM_CMDTAIL = 0x2008, SIM_EVTHEAD = 0x2010, SIM_EVTTAIL = 0x2018,
	SIM_STATUS = 0x2020,
};
#define SIM_MMIO_SIZE 0x4000u

/* Control bits */
#define SIM_CTL_IOMMU_EN (1ull << 0)
#define SIM_CTL_HT_TUN_EN (1ull << 1)
#define SIM_CTL_EVTLOG_EN (1ull << 2)
#define SIM_CTL_EVT_INT_EN (1ull << 3)
#define SIM_CTL_COMWAIT_INT_EN (1ull << 4)
#define SIM_CTL_PASS_PW (1ull << 8)
#define SIM_CTL_RES_PASS_PW (1ull << 9)
#define SIM_CTL_COHERENT (1ull << 10)
#define SIM_CTL_ISOC (1ull << 11)
#define SIM_CTL_CMDBUF_EN (1ull << 12)
#define SIM_CTL_GA_EN (1ull << 17)
#define SIM_CTL_XT_EN (1ull << 50)

/* Status bits */
#define SIM_STS_EVT_OVERFLOW (1ull << 0)
#define SIM_STS_EVT_INT (1ull << 1)
#define SIM_STS_COMWAIT_INT (1ull << 2)
#define SIM_STS_EVT_RUN (1ull << 3)
#define SIM_STS_CMD_RUN (1ull << 4)

/* EFR bits the simulator acts on */
#define SIM_EFR_IA (1ull << 6)

/* What the IOMMU does with a request of a device (sim_amdvi_request). */
enum sim_req {
	SIM_REQ_IOMMU_OFF = 1,     /* IommuEn = 0: untranslated */
	SIM_REQ_UNTRANSLATED = 2,  /* V = 0: untranslated (the case Moat must never create) */
	SIM_REQ_BLOCKED = 3,       /* V = 1, TV = 0 (or no permission): aborted */
	SIM_REQ_TRANSLATED = 4,    /* V = 1, TV = 1: through the entry's page tables */
	SIM_REQ_BEYOND_TABLE = 5,  /* device id beyond the device table size */
};

struct sim_write {
	uint32_t off;
	uint32_t width;
	uint64_t value;
	uint64_t control;   /* control when the write arrived */
	uint64_t status;    /* status when the write arrived */
};

struct sim_dte_cache {
	bool valid;
	uint64_t q[4];
};

struct sim_amdvi {
	uint64_t base;
	uint64_t efr;
	uint64_t devtab, cmdbase, evtbase, control, exclbase, excllimit;
	uint64_t cmdhead, cmdtail, evthead, evttail, status;
	bool halted;                 /* the processor stopped on an illegal command */

	/* failure knobs */
	bool cmd_stuck;              /* the processor never runs */
	bool run_stuck;              /* CmdBufRun / EventLogRun never set */
	bool stop_stuck;             /* CmdBufRun / EventLogRun never clear once set */
	unsigned lazy;               /* > 0: commands run only on register reads, this many per read */
	unsigned illegal_at;         /* the n-th command fetched from now is illegal (1 = next) */

	/* what happened */
	struct sim_write log[SIM_LOG_MAX];
	unsigned nlog;
	uint64_t cmds[SIM_CMD_MAX][2];   /* commands executed, in order */
	unsigned ncmds;
	unsigned op_count[16];           /* commands executed per opcode (not bounded by SIM_CMD_MAX) */
	unsigned cmd_wraps;              /* times the head wrapped to 0 */
	unsigned illegal_cmds;
	unsigned events_logged, events_dropped, overflows;
	unsigned bad_access;             /* wrong width, unknown register, read-only register written */
	unsigned violations;             /* bases or pointers written while in use, EventLogEn set with
					    EventOverflow pending, head written while the processor runs */
	uint64_t inval_done;             /* invalidation commands carried out (device table, pages, all) */
	struct sim_dte_cache *cache;     /* 65536 entries */
	struct sim_irte_cache {          /* per device id: the last interrupt entry read */
		bool valid;
		uint32_t index;
		uint64_t lo, hi;
	} *irte_cache;
	unsigned irq_events;             /* events logged by sim_amdvi_msi() */
};

/* What the IOMMU does with an interrupt message (sim_amdvi_msi()). */
enum sim_irq_how {
	SIM_IRQ_BLOCKED = 0,
	SIM_IRQ_REMAPPED = 1,      /* through the device's interrupt table */
	SIM_IRQ_PASSED = 2,        /* unmapped: IommuEn 0, V 0, IV 0, IntCtl 01b, or a pass bit */
};

struct sim_amdvi_irq {
	enum sim_irq_how how;
	unsigned event;            /* blocked: the event code logged (0: none), e.g. 2 IO_PAGE_FAULT */
	uint32_t index;            /* remapped: the offset */
	uint8_t vector;
	uint32_t dest;
	bool logical;
	uint8_t int_type;          /* remapped: 0 fixed, 1 arbitrated */
	bool cached;               /* the entry came from the interrupt entry cache */
};

/* Resolve a message @addr / @data of device id @devid; fills @out, returns whether delivered. */
bool sim_amdvi_msi(struct sim_amdvi *s, uint32_t devid, uint64_t addr, uint32_t data, struct sim_amdvi_irq *out);

/* Allocate an IOMMU at @base with EFR @efr, everything off, and register it with the hosted platform. */
struct sim_amdvi *sim_amdvi_new(uint64_t base, uint64_t efr);
void sim_amdvi_free(struct sim_amdvi *s);

/* Append one event as the hardware would: dropped while the log is not running; when full,
 * EventOverflow is set, logging stops and the event is lost. Returns true when logged. */
bool sim_amdvi_event_append(struct sim_amdvi *s, uint64_t lo, uint64_t hi);

/* The device-table entry @devid as the IOMMU would read it from memory (NULL beyond the table). */
const uint64_t *sim_amdvi_dte(const struct sim_amdvi *s, uint32_t devid);
/* Entries the programmed device table holds. */
uint32_t sim_amdvi_dte_count(const struct sim_amdvi *s);

/* What the IOMMU does with a request of @devid, using (and filling) its entry cache; @dte gets the
 * entry used (quadwords 0 and 1) when not NULL. */
enum sim_req sim_amdvi_request(struct sim_amdvi *s, uint32_t devid, uint64_t dte[2]);

/* Index of the first logged write to @off at or after @from, or -1; number of writes to @off. */
int sim_amdvi_find_write(const struct sim_amdvi *s, uint32_t off, unsigned from);
unsigned sim_amdvi_count_writes(const struct sim_amdvi *s, uint32_t off);
/* Number of executed commands with @opcode since command index @from. */
unsigned sim_amdvi_count_cmds(const struct sim_amdvi *s, unsigned opcode, unsigned from);

#endif
