/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AMD-Vi (AMD IOMMU) hardware: MMIO register offsets and fields, and the layouts of the device
 * table entry, the commands and the event log entries.
 *
 * Source: AMD I/O Virtualization Technology (IOMMU) Specification, publication 48882, revision
 * 3.x. Sections are cited by number and title as in that revision: 2.2.2 "Device Table" (2.2.2.1
 * "Device Table Entry Format"), 2.4 "Commands", 2.5 "Event Logging", 3.4 "IOMMU MMIO Registers".
 * Each register is listed with its fields indented under it; fields are masks read and written
 * with AMDVI_GET() / AMDVI_PREP(). All registers used here are 64 bits wide and accessed with
 * single 8-byte accesses.
 *
 * Internal: used by src/amdvi/. Not API. The tests' simulated IOMMU keeps its own copy of these
 * facts on purpose, so a wrong bit here is caught there.
 */
#ifndef MOAT_INTERNAL_AMDVI_REGS_H
#define MOAT_INTERNAL_AMDVI_REGS_H

#include <stdint.h>

/* Field helpers: @mask is a constant contiguous bit mask. */
#define AMDVI_MASK(hi, lo) (((~0ull) >> (63 - (hi))) & ~((1ull << (lo)) - 1))
#define AMDVI_BIT(n) (1ull << (n))
#define AMDVI_GET(mask, v) ((((uint64_t)(v)) & (mask)) >> __builtin_ctzll(mask))
#define AMDVI_PREP(mask, v) ((((uint64_t)(v)) << __builtin_ctzll(mask)) & (mask))

/* ---------------------------------------------------------------------------------------------
 * MMIO registers (section 3.4). The block is 16 KiB; the head/tail/status group sits at 2000h.
 * ------------------------------------------------------------------------------------------- */

#define AMDVI_DEVTAB_BASE_REG 0x0000              /* Device Table Base Address (3.4.1) */
#define   AMDVI_DEVTAB_BASE AMDVI_MASK(51, 12)    /* 4 KiB aligned */
#define   AMDVI_DEVTAB_SIZE AMDVI_MASK(8, 0)      /* table size in 4 KiB pages, minus 1 (0 .. 1FFh) */

#define AMDVI_CMDBUF_BASE_REG 0x0008              /* Command Buffer Base Address (3.4.2) */
#define   AMDVI_CMDBUF_BASE AMDVI_MASK(51, 12)
#define   AMDVI_CMDBUF_LEN AMDVI_MASK(59, 56)     /* 2^ComLen entries of 16 bytes; 8 (256) .. 15 */

#define AMDVI_EVTLOG_BASE_REG 0x0010              /* Event Log Base Address (3.4.3) */
#define   AMDVI_EVTLOG_BASE AMDVI_MASK(51, 12)
#define   AMDVI_EVTLOG_LEN AMDVI_MASK(59, 56)     /* 2^EventLen entries of 16 bytes; 8 (256) .. 15 */

#define AMDVI_CONTROL_REG 0x0018                  /* IOMMU Control (3.4.4) */
#define   AMDVI_CTRL_IOMMU_EN AMDVI_BIT(0)        /* translation and remapping enabled */
#define   AMDVI_CTRL_HT_TUN_EN AMDVI_BIT(1)       /* HyperTransport tunnel translation */
#define   AMDVI_CTRL_EVENT_LOG_EN AMDVI_BIT(2)
#define   AMDVI_CTRL_EVENT_INT_EN AMDVI_BIT(3)
#define   AMDVI_CTRL_COMWAIT_INT_EN AMDVI_BIT(4)
#define   AMDVI_CTRL_INV_TIMEOUT AMDVI_MASK(7, 5) /* device IOTLB invalidation time-out (0: none) */
#define   AMDVI_CTRL_PASS_PW AMDVI_BIT(8)
#define   AMDVI_CTRL_RES_PASS_PW AMDVI_BIT(9)
#define   AMDVI_CTRL_COHERENT AMDVI_BIT(10)       /* table and buffer accesses snoop CPU caches */
#define   AMDVI_CTRL_ISOC AMDVI_BIT(11)
#define   AMDVI_CTRL_CMDBUF_EN AMDVI_BIT(12)
#define   AMDVI_CTRL_PPR_LOG_EN AMDVI_BIT(13)
#define   AMDVI_CTRL_PPR_INT_EN AMDVI_BIT(14)
#define   AMDVI_CTRL_PPR_EN AMDVI_BIT(15)
#define   AMDVI_CTRL_GT_EN AMDVI_BIT(16)
#define   AMDVI_CTRL_GA_EN AMDVI_BIT(17)         /* 128-bit interrupt remapping entries (GA mode) */
#define   AMDVI_CTRL_XT_EN AMDVI_BIT(50)         /* 32-bit x2APIC destinations in those entries */
/* The bits Moat turns on and off; every other control bit is kept as found (firmware's choice). */
#define   AMDVI_CTRL_RUN_BITS (AMDVI_CTRL_IOMMU_EN | AMDVI_CTRL_EVENT_LOG_EN | AMDVI_CTRL_CMDBUF_EN)
/* The bits Moat copies from the IVHD flags field (section 5.2, IVHD: HtTunEn, PassPW, ResPassPW, Isoc,
 * Coherent tell software how to set these control bits). */
#define   AMDVI_CTRL_IVHD_BITS (AMDVI_CTRL_HT_TUN_EN | AMDVI_CTRL_PASS_PW | AMDVI_CTRL_RES_PASS_PW | \
				AMDVI_CTRL_ISOC | AMDVI_CTRL_COHERENT)
/* Features Moat does not use and turns off at enable (interrupts it does not service, PPR, guest
 * translation, guest virtual APIC). */
#define   AMDVI_CTRL_UNUSED_BITS (AMDVI_CTRL_EVENT_INT_EN | AMDVI_CTRL_COMWAIT_INT_EN | AMDVI_CTRL_PPR_LOG_EN | \
				  AMDVI_CTRL_PPR_INT_EN | AMDVI_CTRL_PPR_EN | AMDVI_CTRL_GT_EN | AMDVI_CTRL_GA_EN)

#define AMDVI_EXCL_BASE_REG 0x0020                /* Exclusion Range Base (3.4.5) */
#define   AMDVI_EXCL_EN AMDVI_BIT(0)              /* exclusion range enabled */
#define   AMDVI_EXCL_ALLOW AMDVI_BIT(1)           /* every device may use the range */
#define   AMDVI_EXCL_BASE AMDVI_MASK(51, 12)
#define AMDVI_EXCL_LIMIT_REG 0x0028               /* Exclusion Range Limit (3.4.6) */
#define   AMDVI_EXCL_LIMIT AMDVI_MASK(51, 12)

#define AMDVI_EFR_REG 0x0030                      /* Extended Feature (3.4.7); fields: MOAT_EFR_* in
						     moat/ivrs.h (the IVHD 11h/40h image has the same layout) */

#define AMDVI_CMDBUF_HEAD_REG 0x2000              /* Command Buffer Head Pointer (3.4.8) */
#define AMDVI_CMDBUF_TAIL_REG 0x2008              /* Command Buffer Tail Pointer */
#define AMDVI_EVTLOG_HEAD_REG 0x2010              /* Event Log Head Pointer */
#define AMDVI_EVTLOG_TAIL_REG 0x2018              /* Event Log Tail Pointer */
#define   AMDVI_RING_PTR AMDVI_MASK(18, 4)        /* byte offset into the ring, 16-byte aligned */

#define AMDVI_STATUS_REG 0x2020                   /* IOMMU Status (3.4.9) */
#define   AMDVI_STS_EVENT_OVERFLOW AMDVI_BIT(0)   /* RW1C: the event log was full, events were lost */
#define   AMDVI_STS_EVENT_LOG_INT AMDVI_BIT(1)    /* RW1C */
#define   AMDVI_STS_COMWAIT_INT AMDVI_BIT(2)      /* RW1C */
#define   AMDVI_STS_EVENT_LOG_RUN AMDVI_BIT(3)    /* RO: the IOMMU is writing events */
#define   AMDVI_STS_CMDBUF_RUN AMDVI_BIT(4)       /* RO: the IOMMU is fetching commands; cleared when
						     it stops on an illegal command or a hardware error */
#define   AMDVI_STS_W1C (AMDVI_STS_EVENT_OVERFLOW | AMDVI_STS_EVENT_LOG_INT | AMDVI_STS_COMWAIT_INT)

/* Ring sizes Moat uses: one page each, 256 entries of 16 bytes (length code 8). */
#define AMDVI_RING_ENTRY_SIZE 16u
#define AMDVI_RING_LEN_CODE 8u
#define AMDVI_RING_ENTRIES (1u << AMDVI_RING_LEN_CODE)

/* ---------------------------------------------------------------------------------------------
 * Device table (section 2.2.2): one 256-bit entry per device id, 4 KiB pages of 128 entries,
 * at most 2 MiB (65536 entries). Bit numbers below are within each of the four quadwords.
 * ------------------------------------------------------------------------------------------- */

#define AMDVI_DTE_SIZE 32u
#define AMDVI_DTE_PER_PAGE 128u
#define AMDVI_DEVTAB_MAX_ENTRIES 65536u
#define AMDVI_DEVTAB_MAX_PAGES (AMDVI_DEVTAB_MAX_ENTRIES / AMDVI_DTE_PER_PAGE)

/* Quadword 0 (bits 63:0) */
#define AMDVI_DTE0_V AMDVI_BIT(0)                 /* entry valid; V = 0 means no checks at all */
#define AMDVI_DTE0_TV AMDVI_BIT(1)                /* translation information valid */
#define AMDVI_DTE0_MODE AMDVI_MASK(11, 9)         /* 0: untranslated, 1..6: page-table levels */
#define AMDVI_DTE0_PT_ROOT AMDVI_MASK(51, 12)     /* host page-table root */
#define AMDVI_DTE0_PPR AMDVI_BIT(52)
#define AMDVI_DTE0_GV AMDVI_BIT(55)
#define AMDVI_DTE0_IR AMDVI_BIT(61)               /* reads allowed (ANDed with the page tables') */
#define AMDVI_DTE0_IW AMDVI_BIT(62)               /* writes allowed */
/* Quadword 1 (bits 127:64) */
#define AMDVI_DTE1_DOMAIN_ID AMDVI_MASK(15, 0)
#define AMDVI_DTE1_I AMDVI_BIT(32)                /* device IOTLB (ATS) enabled */
#define AMDVI_DTE1_SE AMDVI_BIT(33)               /* suppress all events */
#define AMDVI_DTE1_SA AMDVI_BIT(34)               /* suppress repeated events */
#define AMDVI_DTE1_IOCTL AMDVI_MASK(36, 35)       /* port I/O: 00b aborted */
#define AMDVI_DTE1_SYSMGT AMDVI_MASK(41, 40)      /* system management messages: 00b aborted */
/* Quadword 2 (bits 191:128): interrupt remapping (2.2.5); one quadword, so one store changes it */
#define AMDVI_DTE2_IV AMDVI_BIT(0)                /* interrupt map valid (else interrupts pass unmapped) */
#define AMDVI_DTE2_INT_TAB_LEN AMDVI_MASK(4, 1)   /* the table has 2^IntTabLen entries (0 .. 11) */
#define AMDVI_DTE2_IG AMDVI_BIT(5)                /* ignore unmapped interrupts: no event (Moat keeps 0) */
#define AMDVI_DTE2_INT_ROOT AMDVI_MASK(51, 6)     /* interrupt table root, 128-byte aligned */
#define AMDVI_DTE2_INIT_PASS AMDVI_BIT(56)        /* INIT messages pass through */
#define AMDVI_DTE2_EINT_PASS AMDVI_BIT(57)        /* ExtInt messages pass through */
#define AMDVI_DTE2_NMI_PASS AMDVI_BIT(58)         /* NMIs pass through */
#define AMDVI_DTE2_INT_CTL AMDVI_MASK(61, 60)     /* fixed and arbitrated interrupts: */
#define   AMDVI_INTCTL_ABORT 0u                   /*   target abort */
#define   AMDVI_INTCTL_FORWARD 1u                 /*   forwarded unmapped */
#define   AMDVI_INTCTL_REMAP 2u                   /*   remapped through the table (11b reserved) */
#define AMDVI_DTE2_LINT0_PASS AMDVI_BIT(62)       /* LINT0 passes through */
#define AMDVI_DTE2_LINT1_PASS AMDVI_BIT(63)       /* LINT1 passes through */
#define AMDVI_DTE2_PASS (AMDVI_DTE2_INIT_PASS | AMDVI_DTE2_EINT_PASS | AMDVI_DTE2_NMI_PASS | AMDVI_DTE2_LINT0_PASS | \
			 AMDVI_DTE2_LINT1_PASS)

/*
 * Interrupt remapping table entries (2.2.5): the offset is MSI data bits 10:0. Basic format: 32
 * bits, written with one store. GA format (Control.GAEn): 128 bits, the destination split between
 * the quadwords (bits 23:0 in the low one, 31:24 in the high one) and the vector in the high one.
 */
#define AMDVI_IRTE_REMAP_EN AMDVI_BIT(0)          /* remapping enabled (else the interrupt is aborted) */
#define AMDVI_IRTE_SUP_IOPF AMDVI_BIT(1)          /* suppress the IO_PAGE_FAULT event (Moat keeps 0) */
#define AMDVI_IRTE_INT_TYPE AMDVI_MASK(4, 2)      /* 000b fixed, 001b arbitrated */
#define AMDVI_IRTE_RQ_EOI AMDVI_BIT(5)
#define AMDVI_IRTE_DM AMDVI_BIT(6)                /* destination mode: 1 logical */
#define AMDVI_IRTE_GUEST_MODE AMDVI_BIT(7)        /* GA format: posted to a guest (Moat keeps 0) */
#define AMDVI_IRTE_DEST AMDVI_MASK(15, 8)         /* basic: the 8-bit APIC id */
#define AMDVI_IRTE_VECTOR AMDVI_MASK(23, 16)      /* basic: the vector */
#define AMDVI_IRTE_GA_LO_DEST AMDVI_MASK(31, 8)   /* GA: destination[23:0] */
#define AMDVI_IRTE_GA_HI_VECTOR AMDVI_MASK(7, 0)  /* GA: the vector */
#define AMDVI_IRTE_GA_HI_DEST AMDVI_MASK(63, 56)  /* GA: destination[31:24] */
#define AMDVI_MSI_ADDR_BASE 0xfee00000u
#define AMDVI_MSI_DATA_OFFSET AMDVI_MASK(10, 0)   /* the entry's offset in the device's table */

/* ---------------------------------------------------------------------------------------------
 * Commands (section 2.4): 128 bits, two quadwords; the opcode is bits 63:60 of the first.
 * ------------------------------------------------------------------------------------------- */

#define AMDVI_CMD_OPCODE AMDVI_MASK(63, 60)
#define AMDVI_OP_COMPLETION_WAIT 0x1u             /* 2.4.1 */
#define AMDVI_OP_INVALIDATE_DEVTAB_ENTRY 0x2u     /* 2.4.2 */
#define AMDVI_OP_INVALIDATE_IOMMU_PAGES 0x3u      /* 2.4.3 */
#define AMDVI_OP_INVALIDATE_IOTLB_PAGES 0x4u      /* 2.4.4 */
#define AMDVI_OP_INVALIDATE_INTERRUPT_TABLE 0x5u  /* 2.4.5 */
#define AMDVI_OP_PREFETCH_IOMMU_PAGES 0x6u        /* 2.4.6 */
#define AMDVI_OP_COMPLETE_PPR_REQUEST 0x7u        /* 2.4.7 */
#define AMDVI_OP_INVALIDATE_IOMMU_ALL 0x8u        /* 2.4.8; only with EFR.IASup */

/* COMPLETION_WAIT: quadword 0 */
#define AMDVI_CW0_S AMDVI_BIT(0)                  /* store the data at the address on completion */
#define AMDVI_CW0_I AMDVI_BIT(1)                  /* raise the completion interrupt */
#define AMDVI_CW0_F AMDVI_BIT(2)                  /* flush queue */
#define AMDVI_CW0_STORE_ADDR AMDVI_MASK(51, 3)    /* 8-byte aligned store address */
/* quadword 1: the 64-bit store data */

/* INVALIDATE_DEVTAB_ENTRY: quadword 0 */
#define AMDVI_IDE0_DEVICE_ID AMDVI_MASK(15, 0)

/* INVALIDATE_INTERRUPT_TABLE: quadword 0 (2.4.5) */
#define AMDVI_IIT0_DEVICE_ID AMDVI_MASK(15, 0)

/* INVALIDATE_IOMMU_PAGES */
#define AMDVI_IIP0_PASID AMDVI_MASK(19, 0)
#define AMDVI_IIP0_DOMAIN_ID AMDVI_MASK(47, 32)
#define AMDVI_IIP1_S AMDVI_BIT(0)                 /* size: the range is given by the address */
#define AMDVI_IIP1_PDE AMDVI_BIT(1)               /* also page directory entries */
#define AMDVI_IIP1_GN AMDVI_BIT(2)                /* guest (PASID) translations */
#define AMDVI_IIP1_ADDR AMDVI_MASK(63, 12)
/*
 * With S = 1 the range is a naturally aligned block of 2^(z + 1) bytes where z is the lowest
 * clear address bit at or above bit 12 (the bits below it are set to 1). The whole address space
 * of the domain is 7FFF_FFFF_FFFF_F000h (table "Example Page Size Encodings").
 */
#define AMDVI_IIP1_ADDR_ALL 0x7ffffffffffff000ull
/* Largest block Moat encodes as a range (2^51 bytes); larger ranges use the whole-domain form. */
#define AMDVI_IIP_MAX_ORDER 39u

/* ---------------------------------------------------------------------------------------------
 * Event log entries (section 2.5): 128 bits, read as two quadwords. The event code is bits
 * 63:60 of the first, the device id bits 15:0, the flags bits 59:48 (the event's "flags" field,
 * bits 27:16 of its second doubleword), the address the whole second quadword.
 * ------------------------------------------------------------------------------------------- */

#define AMDVI_EV0_DEVICE_ID AMDVI_MASK(15, 0)
#define AMDVI_EV0_PASID_HI AMDVI_MASK(19, 16)     /* PASID[19:16] when GN = 1 */
#define AMDVI_EV0_DOMAIN_ID AMDVI_MASK(47, 32)    /* DomainID, or PASID[15:0] when GN = 1 */
#define AMDVI_EV0_FLAGS AMDVI_MASK(59, 48)
#define AMDVI_EV0_CODE AMDVI_MASK(63, 60)
#define AMDVI_EV0_TYPE2 AMDVI_MASK(58, 57)        /* hardware errors: 00b master abort, 01b target
						     abort, 10b data error */
#define AMDVI_EV0_TYPE3 AMDVI_MASK(59, 57)        /* INVALID_DEVICE_REQUEST: the request type */
#define   AMDVI_IDR_INTERRUPT_ABORTED 5u          /*   posted write to the interrupt range from a
						     device whose IntCtl is 00b */

#define AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY 0x1u     /* 2.5.2 */
#define AMDVI_EV_IO_PAGE_FAULT 0x2u               /* 2.5.3 */
#define AMDVI_EV_DEV_TAB_HARDWARE_ERROR 0x3u      /* 2.5.4 */
#define AMDVI_EV_PAGE_TAB_HARDWARE_ERROR 0x4u     /* 2.5.5 */
#define AMDVI_EV_ILLEGAL_COMMAND_ERROR 0x5u       /* 2.5.6 */
#define AMDVI_EV_COMMAND_HARDWARE_ERROR 0x6u      /* 2.5.7 */
#define AMDVI_EV_IOTLB_INV_TIMEOUT 0x7u           /* 2.5.8 */
#define AMDVI_EV_INVALID_DEVICE_REQUEST 0x8u      /* 2.5.9 */
#define AMDVI_EV_INVALID_PPR_REQUEST 0x9u         /* 2.5.10 */
#define AMDVI_EV_EVENT_COUNTER_ZERO 0xau          /* 2.5.11 */
#define AMDVI_EV_RMP_PAGE_FAULT 0xdu              /* SEV-SNP reverse-map table check failed */
#define AMDVI_EV_RMP_HARDWARE_ERROR 0xeu          /* SEV-SNP reverse-map table unreadable */

/* Page-table levels: DTE Mode 1..6; EFR.HATS gives the most a unit walks (4 + HATS). */
#define AMDVI_LEVELS_MIN 1u
#define AMDVI_LEVELS_MAX 6u

#endif
