/* SPDX-License-Identifier: BSD-2-Clause */
/* Constants shared by the boot assembly and the C code. */
#ifndef KERNEL_BOOT_H
#define KERNEL_BOOT_H

#define GDT_CODE64 0x08
#define GDT_DATA   0x10
#define GDT_TSS    0x18

/* Page directories the boot code fills: 4 x 1 GiB, identity, 2 MiB pages. */
#define BOOT_PD_COUNT 4
#define BOOT_IDENTITY_LIMIT 0x100000000ull

#define BOOT_STACK_SIZE (64 * 1024)

#endif
