/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Intel VT-d remapping hardware: register offsets, register fields and in-memory structure layouts.
 *
 * Source: Intel Virtualization Technology for Directed I/O, Architecture Specification, revision 4.1.
 * Section numbers below are those of revision 4.1 (chapter 9 "Translation Structure Formats",
 * chapter 10 "Register Descriptions"); later revisions renumber chapters but keep register names,
 * offsets and fields. Each register is listed with its fields indented under it; fields are masks
 * read and written with VTD_GET() / VTD_PREP().
 *
 * Internal: used by src/vtd/ and the tests' simulated unit. Not API.
 */
#ifndef MOAT_INTERNAL_VTD_REGS_H
#define MOAT_INTERNAL_VTD_REGS_H

#include <stdint.h>

/* Field helpers: @mask is a constant contiguous bit mask (MOAT_GENMASK or a single bit). */
#define VTD_MASK(hi, lo) (((~0ull) >> (63 - (hi))) & ~((1ull << (lo)) - 1))
#define VTD_BIT(n) (1ull << (n))
#define VTD_GET(mask, v) ((((uint64_t)(v)) & (mask)) >> __builtin_ctzll(mask))
#define VTD_PREP(mask, v) ((((uint64_t)(v)) << __builtin_ctzll(mask)) & (mask))

/* ---------------------------------------------------------------------------------------------
 * Registers (section 10.4). Widths: 32 or 64 bits as noted; 64-bit registers are accessed with
 * single 8-byte accesses.
 * ------------------------------------------------------------------------------------------- */

#define VTD_VER_REG 0x00                       /* 32: Version (10.4.1) */
#define   VTD_VER_MIN VTD_MASK(3, 0)
#define   VTD_VER_MAX VTD_MASK(7, 4)

#define VTD_CAP_REG 0x08                       /* 64: Capability (10.4.2) */
#define   VTD_CAP_ND VTD_MASK(2, 0)            /* domain-id width: 4 + 2 * ND bits (7: reserved) */
#define   VTD_CAP_AFL VTD_BIT(3)               /* advanced fault logging */
#define   VTD_CAP_RWBF VTD_BIT(4)              /* required write-buffer flushing */
#define   VTD_CAP_PLMR VTD_BIT(5)              /* protected low-memory region */
#define   VTD_CAP_PHMR VTD_BIT(6)              /* protected high-memory region */
#define   VTD_CAP_CM VTD_BIT(7)                /* caching mode: not-present entries may be cached */
#define   VTD_CAP_SAGAW VTD_MASK(12, 8)        /* bit 1: 39-bit/3-level, 2: 48/4, 3: 57/5 */
#define   VTD_CAP_MGAW VTD_MASK(21, 16)        /* maximum guest address width - 1 */
#define   VTD_CAP_ZLR VTD_BIT(22)              /* zero-length read */
#define   VTD_CAP_FRO VTD_MASK(33, 24)         /* fault-recording register offset, 16-byte units */
#define   VTD_CAP_SLLPS VTD_MASK(37, 34)       /* second-level large pages: bit 0 2 MiB, bit 1 1 GiB */
#define   VTD_CAP_PSI VTD_BIT(39)              /* page-selective invalidation */
#define   VTD_CAP_NFR VTD_MASK(47, 40)         /* number of fault-recording registers - 1 */
#define   VTD_CAP_MAMV VTD_MASK(53, 48)        /* maximum address mask value (PSI) */
#define   VTD_CAP_DWD VTD_BIT(54)              /* write draining */
#define   VTD_CAP_DRD VTD_BIT(55)              /* read draining */
#define   VTD_CAP_FL1GP VTD_BIT(56)            /* first-level 1 GiB pages */
#define   VTD_CAP_PI VTD_BIT(59)               /* posted interrupts */
#define   VTD_CAP_FL5LP VTD_BIT(60)            /* first-level 5-level paging */
#define   VTD_CAP_ESIRTPS VTD_BIT(62)          /* SIRTP also invalidates the interrupt entry cache */
#define   VTD_CAP_ESRTPS VTD_BIT(63)           /* SRTP also invalidates caches */

#define VTD_ECAP_REG 0x10                      /* 64: Extended Capability (10.4.3) */
#define   VTD_ECAP_C VTD_BIT(0)                /* page-walk coherency */
#define   VTD_ECAP_QI VTD_BIT(1)               /* queued invalidation */
#define   VTD_ECAP_DT VTD_BIT(2)               /* device-TLB */
#define   VTD_ECAP_IR VTD_BIT(3)               /* interrupt remapping */
#define   VTD_ECAP_EIM VTD_BIT(4)              /* extended interrupt mode (x2APIC) */
#define   VTD_ECAP_PT VTD_BIT(6)               /* pass-through translation type */
#define   VTD_ECAP_SC VTD_BIT(7)               /* snoop control */
#define   VTD_ECAP_IRO VTD_MASK(17, 8)         /* IOTLB register offset, 16-byte units */
#define   VTD_ECAP_MHMV VTD_MASK(23, 20)       /* maximum handle mask value (IEC) */
#define   VTD_ECAP_MTS VTD_BIT(25)             /* memory type */
#define   VTD_ECAP_NEST VTD_BIT(26)            /* nested translation */
#define   VTD_ECAP_PRS VTD_BIT(29)             /* page requests */
#define   VTD_ECAP_PASID VTD_BIT(40)           /* PASID */
#define   VTD_ECAP_SMTS VTD_BIT(43)            /* scalable-mode translation */
#define   VTD_ECAP_SLTS VTD_BIT(46)            /* second-stage translation (scalable mode) */
#define   VTD_ECAP_FLTS VTD_BIT(47)            /* first-stage translation (scalable mode) */
#define   VTD_ECAP_ADMS VTD_BIT(51)            /* abort-DMA mode */

/*
 * GCMD and GSTS share bit positions: each command bit has its status bit at the same place. GCMD
 * is write-only; software writes the current status of the persistent bits plus the one bit it
 * changes (10.4.4): persistent = TE, EAFL, QIE, IRE, CFI; one-shot = SRTP, SFL, WBF, SIRTP.
 */
#define VTD_GCMD_REG 0x18                      /* 32: Global Command (10.4.4) */
#define   VTD_GCMD_TE VTD_BIT(31)              /* translation enable */
#define   VTD_GCMD_SRTP VTD_BIT(30)            /* set root table pointer (one-shot) */
#define   VTD_GCMD_SFL VTD_BIT(29)             /* set fault log (one-shot) */
#define   VTD_GCMD_EAFL VTD_BIT(28)            /* enable advanced fault logging */
#define   VTD_GCMD_WBF VTD_BIT(27)             /* write buffer flush (one-shot) */
#define   VTD_GCMD_QIE VTD_BIT(26)             /* queued invalidation enable */
#define   VTD_GCMD_IRE VTD_BIT(25)             /* interrupt remapping enable */
#define   VTD_GCMD_SIRTP VTD_BIT(24)           /* set interrupt remap table pointer (one-shot) */
#define   VTD_GCMD_CFI VTD_BIT(23)             /* compatibility format interrupts */
#define   VTD_GCMD_PERSISTENT 0x96FFFFFFu      /* GSTS bits to carry into a GCMD write */

#define VTD_GSTS_REG 0x1c                      /* 32: Global Status (10.4.5) */
#define   VTD_GSTS_TES VTD_BIT(31)
#define   VTD_GSTS_RTPS VTD_BIT(30)
#define   VTD_GSTS_FLS VTD_BIT(29)
#define   VTD_GSTS_AFLS VTD_BIT(28)
#define   VTD_GSTS_WBFS VTD_BIT(27)
#define   VTD_GSTS_QIES VTD_BIT(26)
#define   VTD_GSTS_IRES VTD_BIT(25)
#define   VTD_GSTS_IRTPS VTD_BIT(24)
#define   VTD_GSTS_CFIS VTD_BIT(23)

#define VTD_RTADDR_REG 0x20                    /* 64: Root Table Address (10.4.6) */
#define   VTD_RTADDR_TTM VTD_MASK(11, 10)      /* translation table mode: 00 legacy, 01 scalable */
#define   VTD_RTADDR_RTA VTD_MASK(63, 12)

#define VTD_CCMD_REG 0x28                      /* 64: Context Command (10.4.7) */
#define   VTD_CCMD_ICC VTD_BIT(63)             /* invalidate context cache; hardware clears it */
#define   VTD_CCMD_CIRG VTD_MASK(62, 61)       /* requested granularity (VTD_GRAN_*) */
#define   VTD_CCMD_CAIG VTD_MASK(60, 59)       /* actual granularity */
#define   VTD_CCMD_FM VTD_MASK(33, 32)         /* function mask */
#define   VTD_CCMD_SID VTD_MASK(31, 16)        /* source id */
#define   VTD_CCMD_DID VTD_MASK(15, 0)         /* domain id */

/* Invalidation granularities, context cache (CIRG, descriptor G) and IOTLB (IIRG, descriptor G). */
#define VTD_GRAN_GLOBAL 1u
#define VTD_GRAN_DOMAIN 2u
#define VTD_GRAN_DEVICE 3u                     /* context cache: device-selective */
#define VTD_GRAN_PAGE 3u                       /* IOTLB: page-selective within a domain */

#define VTD_FSTS_REG 0x34                      /* 32: Fault Status (10.4.9), RW1C bits */
#define   VTD_FSTS_PFO VTD_BIT(0)              /* primary fault overflow */
#define   VTD_FSTS_PPF VTD_BIT(1)              /* primary pending fault (read-only) */
#define   VTD_FSTS_IQE VTD_BIT(4)              /* invalidation queue error */
#define   VTD_FSTS_ICE VTD_BIT(5)              /* invalidation completion error */
#define   VTD_FSTS_ITE VTD_BIT(6)              /* invalidation time-out error */
#define   VTD_FSTS_FRI VTD_MASK(15, 8)         /* fault record index */

#define VTD_FECTL_REG 0x38                     /* 32: Fault Event Control (10.4.10) */
#define   VTD_FECTL_IM VTD_BIT(31)
#define   VTD_FECTL_IP VTD_BIT(30)
#define VTD_FEDATA_REG 0x3c                    /* 32: Fault Event Data */
#define VTD_FEADDR_REG 0x40                    /* 32: Fault Event Address */
#define VTD_FEUADDR_REG 0x44                   /* 32: Fault Event Upper Address */

#define VTD_PMEN_REG 0x64                      /* 32: Protected Memory Enable */
#define   VTD_PMEN_EPM VTD_BIT(31)             /* enable protected memory */
#define   VTD_PMEN_PRS VTD_BIT(0)              /* protected region status */

#define VTD_IQH_REG 0x80                       /* 64: Invalidation Queue Head */
#define   VTD_IQH_QH VTD_MASK(18, 4)           /* index of the next descriptor hardware reads */
#define VTD_IQT_REG 0x88                       /* 64: Invalidation Queue Tail */
#define   VTD_IQT_QT VTD_MASK(18, 4)           /* index of the next descriptor software writes */
#define VTD_IQA_REG 0x90                       /* 64: Invalidation Queue Address */
#define   VTD_IQA_IQA VTD_MASK(63, 12)         /* base, 4 KiB aligned */
#define   VTD_IQA_DW VTD_BIT(11)               /* descriptor width: 0 = 128-bit */
#define   VTD_IQA_QS VTD_MASK(2, 0)            /* size: 2^QS pages of 256 128-bit descriptors */
#define VTD_ICS_REG 0x9c                       /* 32: Invalidation Completion Status */
#define   VTD_ICS_IWC VTD_BIT(0)
#define VTD_IQERCD_REG 0xb0                    /* 64: Invalidation Queue Error Record */
#define   VTD_IQERCD_IQEI VTD_MASK(3, 0)
#define   VTD_IQERCD_ITESID VTD_MASK(47, 32)
#define   VTD_IQERCD_ICESID VTD_MASK(63, 48)
#define VTD_IRTA_REG 0xb8                      /* 64: Interrupt Remapping Table Address (10.4) */
#define   VTD_IRTA_IRTA VTD_MASK(63, 12)       /* base: 4 KiB aligned, and aligned to its size when larger */
#define   VTD_IRTA_EIME VTD_BIT(11)            /* extended interrupt mode: 32-bit (x2APIC) destinations */
#define   VTD_IRTA_S VTD_MASK(3, 0)            /* size: 2^(S + 1) entries */

/* IOTLB registers, at ECAP.IRO * 16 (10.4.8) */
#define VTD_IVA_OFF 0x0                        /* 64: Invalidate Address */
#define   VTD_IVA_ADDR VTD_MASK(63, 12)
#define   VTD_IVA_IH VTD_BIT(6)                /* invalidation hint: only leaf entries changed */
#define   VTD_IVA_AM VTD_MASK(5, 0)            /* address mask: 2^AM pages */
#define VTD_IOTLB_OFF 0x8                      /* 64: IOTLB Invalidate */
#define   VTD_IOTLB_IVT VTD_BIT(63)            /* invalidate; hardware clears it */
#define   VTD_IOTLB_IIRG VTD_MASK(61, 60)      /* requested granularity */
#define   VTD_IOTLB_IAIG VTD_MASK(58, 57)      /* actual granularity */
#define   VTD_IOTLB_DR VTD_BIT(49)             /* drain reads */
#define   VTD_IOTLB_DW VTD_BIT(48)             /* drain writes */
#define   VTD_IOTLB_DID VTD_MASK(47, 32)

/*
 * Fault recording registers, at CAP.FRO * 16, CAP.NFR + 1 of them, 16 bytes each (10.4.14).
 * Low quadword at +0, high quadword at +8; bit numbers below are within each quadword.
 */
#define VTD_FRCD_SIZE 16
#define VTD_FRCD_LO 0x0
#define   VTD_FRCD_LO_FI VTD_MASK(63, 12)      /* fault information: page address */
#define   VTD_FRCD_LO_IRQ_INDEX VTD_MASK(63, 48) /* interrupt-remapping faults: interrupt index */
#define VTD_FRCD_HI 0x8
#define   VTD_FRCD_HI_F VTD_BIT(63)            /* fault (RW1C) */
#define   VTD_FRCD_HI_T1 VTD_BIT(62)           /* type bit 1: 0 write, 1 read or AtomicOp */
#define   VTD_FRCD_HI_AT VTD_MASK(61, 60)      /* address type of the request */
#define   VTD_FRCD_HI_PV VTD_MASK(59, 40)      /* PASID value */
#define   VTD_FRCD_HI_FR VTD_MASK(39, 32)      /* fault reason */
#define   VTD_FRCD_HI_PP VTD_BIT(31)           /* PASID present */
#define   VTD_FRCD_HI_EXE VTD_BIT(30)          /* execute permission requested */
#define   VTD_FRCD_HI_PRIV VTD_BIT(29)         /* privileged mode requested */
#define   VTD_FRCD_HI_T2 VTD_BIT(28)           /* type bit 2: with T1 = 1, 0 read, 1 AtomicOp */
#define   VTD_FRCD_HI_SID VTD_MASK(15, 0)      /* source id (requester id) */
#define VTD_FRCD_F_DWORD 0xc                   /* 32-bit view of the dword holding F (bit 31) */

/* ---------------------------------------------------------------------------------------------
 * In-memory structures, each 128 bits as two little-endian quadwords (lo, hi).
 * ------------------------------------------------------------------------------------------- */

#define VTD_ENTRY_SIZE 16
#define VTD_ENTRIES_PER_TABLE 256

/* Root entry, legacy mode (9.1): one per bus */
#define VTD_RE_LO_P VTD_BIT(0)
#define VTD_RE_LO_CTP VTD_MASK(63, 12)         /* context table pointer */

/* Context entry, legacy mode (9.3): one per device:function */
#define VTD_CE_LO_P VTD_BIT(0)
#define VTD_CE_LO_FPD VTD_BIT(1)               /* fault processing disable */
#define VTD_CE_LO_TT VTD_MASK(3, 2)            /* translation type */
#define   VTD_TT_UNTRANSLATED 0u               /* untranslated requests only, through SLPTPTR */
#define   VTD_TT_ALL 1u                        /* also translation requests (device-TLB) */
#define   VTD_TT_PASSTHROUGH 2u                /* untranslated requests pass through */
#define VTD_CE_LO_SLPTPTR VTD_MASK(63, 12)     /* second-level page-table pointer */
#define VTD_CE_HI_AW VTD_MASK(2, 0)            /* address width: 1 = 39-bit/3-level, 2 = 48/4, 3 = 57/5 */
#define VTD_CE_HI_DID VTD_MASK(23, 8)          /* domain id */

/* Invalidation descriptors, 128-bit form (6.5.2). Type in bits 3:0 of the low quadword. */
#define VTD_DESC_TYPE VTD_MASK(3, 0)
#define VTD_DESC_CC 0x1                        /* context-cache invalidate (6.5.2.1) */
#define   VTD_DESC_CC_G VTD_MASK(5, 4)
#define   VTD_DESC_CC_DID VTD_MASK(31, 16)
#define   VTD_DESC_CC_SID VTD_MASK(47, 32)
#define   VTD_DESC_CC_FM VTD_MASK(49, 48)
#define VTD_DESC_IOTLB 0x2                     /* IOTLB invalidate (6.5.2.3) */
#define   VTD_DESC_IOTLB_G VTD_MASK(5, 4)
#define   VTD_DESC_IOTLB_DW VTD_BIT(6)
#define   VTD_DESC_IOTLB_DR VTD_BIT(7)
#define   VTD_DESC_IOTLB_DID VTD_MASK(31, 16)
#define   VTD_DESC_IOTLB_HI_AM VTD_MASK(5, 0)
#define   VTD_DESC_IOTLB_HI_IH VTD_BIT(6)
#define   VTD_DESC_IOTLB_HI_ADDR VTD_MASK(63, 12)
#define VTD_DESC_DEVTLB 0x3                    /* device-TLB invalidate */
#define VTD_DESC_IEC 0x4                       /* interrupt entry cache invalidate (6.5.2.7) */
#define   VTD_DESC_IEC_G VTD_BIT(4)            /* 0 global, 1 index-selective */
#define   VTD_DESC_IEC_IM VTD_MASK(31, 27)     /* index mask: 2^IM entries */
#define   VTD_DESC_IEC_IIDX VTD_MASK(47, 32)
#define VTD_DESC_WAIT 0x5                      /* invalidation wait (6.5.2.8) */
#define   VTD_DESC_WAIT_IF VTD_BIT(4)          /* interrupt on completion */
#define   VTD_DESC_WAIT_SW VTD_BIT(5)          /* write status data on completion */
#define   VTD_DESC_WAIT_FN VTD_BIT(6)          /* fence */
#define   VTD_DESC_WAIT_SDATA VTD_MASK(63, 32)
#define   VTD_DESC_WAIT_HI_SADDR VTD_MASK(63, 2) /* status address, 4-byte aligned */

/*
 * Interrupt remapping table entry, remapped format (9.10): 128 bits. The delivery fields are all
 * in the low quadword, the source-id check in the high one, so a change of destination or vector
 * is one 64-bit store, and the source check is written while the entry is not present.
 */
#define VTD_IRTE_LO_P VTD_BIT(0)               /* present */
#define VTD_IRTE_LO_FPD VTD_BIT(1)             /* fault processing disable */
#define VTD_IRTE_LO_DM VTD_BIT(2)              /* destination mode: 1 logical */
#define VTD_IRTE_LO_RH VTD_BIT(3)              /* redirection hint */
#define VTD_IRTE_LO_TM VTD_BIT(4)              /* trigger mode: 1 level */
#define VTD_IRTE_LO_DLM VTD_MASK(7, 5)         /* delivery mode */
#define VTD_IRTE_LO_AVAIL VTD_MASK(11, 8)      /* available to software */
#define VTD_IRTE_LO_IM VTD_BIT(15)             /* IRTE mode: 1 posted (Moat never writes it) */
#define VTD_IRTE_LO_V VTD_MASK(23, 16)         /* vector */
#define VTD_IRTE_LO_DST VTD_MASK(63, 32)       /* destination: x2APIC id (EIME), else DST[15:8] */
#define VTD_IRTE_LO_DST_XAPIC VTD_MASK(47, 40) /* the 8-bit APIC id in xAPIC mode */
#define VTD_IRTE_LO_RSVD (VTD_MASK(14, 12) | VTD_MASK(31, 24))
#define VTD_IRTE_HI_SID VTD_MASK(15, 0)        /* source id */
#define VTD_IRTE_HI_SQ VTD_MASK(17, 16)        /* source-id qualifier: SID bits 2:0 ignored (01 bit 2, ...) */
#define VTD_IRTE_HI_SVT VTD_MASK(19, 18)       /* source validation type */
#define   VTD_SVT_NONE 0u                      /* no check */
#define   VTD_SVT_SID 1u                       /* requester id == SID (under SQ) */
#define   VTD_SVT_BUS 2u                       /* requester bus in SID[15:8]..SID[7:0] */
#define VTD_IRTE_HI_CHECK (VTD_IRTE_HI_SID | VTD_IRTE_HI_SQ | VTD_IRTE_HI_SVT)
#define VTD_IRTE_PER_PAGE 256u

/* Remappable MSI address (5.1.5.2); the data is the subhandle when SHV is set. */
#define VTD_MSI_ADDR_BASE 0xfee00000u
#define VTD_MSI_ADDR_HANDLE VTD_MASK(19, 5)    /* handle[14:0] */
#define VTD_MSI_ADDR_REMAP VTD_BIT(4)          /* interrupt format: 1 remappable */
#define VTD_MSI_ADDR_SHV VTD_BIT(3)            /* subhandle valid: index = handle + data[15:0] */
#define VTD_MSI_ADDR_HANDLE15 VTD_BIT(2)       /* handle[15] */

/* Remappable IOAPIC redirection table entry (5.1.5.1). */
#define VTD_RTE_VECTOR VTD_MASK(7, 0)          /* must equal the entry's vector (EOI matching) */
#define VTD_RTE_HANDLE15 VTD_BIT(11)
#define VTD_RTE_POLARITY VTD_BIT(13)
#define VTD_RTE_TRIGGER VTD_BIT(15)
#define VTD_RTE_REMAP VTD_BIT(48)              /* interrupt format: 1 remappable */
#define VTD_RTE_HANDLE VTD_MASK(63, 49)        /* handle[14:0] */

/* Fault event interrupt: compatibility-format message (10.4.11-10.4.13); the remapping hardware's
 * own interrupts are not remapped. */
#define VTD_FEDATA_VECTOR VTD_MASK(7, 0)
#define VTD_FEDATA_DLM VTD_MASK(10, 8)
#define VTD_FEADDR_DEST VTD_MASK(19, 12)       /* APIC id[7:0] */
#define VTD_FEADDR_RH VTD_BIT(3)
#define VTD_FEADDR_DM VTD_BIT(2)
#define VTD_FEUADDR_DEST_HI VTD_MASK(31, 8)    /* x2APIC id[31:8] (EIM units) */

/* Address widths of the legacy-mode second-level tables: 3, 4, 5 levels. */
#define VTD_LEVELS_MIN 3u
#define VTD_LEVELS_MAX 5u
#define VTD_LEVEL_WIDTH(levels) (12u + 9u * (levels))   /* 3: 39, 4: 48, 5: 57 */
#define VTD_AW_OF_LEVELS(levels) ((levels) - 2u)        /* AW field and SAGAW bit index */

#endif
