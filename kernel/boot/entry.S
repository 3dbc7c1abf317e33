/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Multiboot1 entry (Multiboot Specification 0.6.96, section 3.1): the loader jumps to _start in 32-bit
 * protected mode, paging off, EAX = 0x2BADB002, EBX = physical address of the multiboot information.
 *
 * From there: clear .bss, check that the CPU has long mode, identity-map the first 4 GiB with 2 MiB
 * pages (enough for the kernel, low RAM and the MMIO hole below 4 GiB; the C code maps the rest from
 * the memory map), enable PAE, long mode and paging (Intel SDM vol. 3, section 10.8.5), load the
 * GDT, and jump to 64-bit code that calls kernel_main(magic, info).
 */
#include "boot/boot.h"

#define MB_MAGIC      0x1BADB002
#define MB_FLAGS      0x00000003  /* bit 0: page-align modules; bit 1: give the memory map */

#define CR0_PG        0x80000000
#define CR0_WP        0x00010000
#define CR4_PAE       0x00000020
#define MSR_EFER      0xC0000080
#define EFER_LME      0x00000100

#define PTE_P         0x001
#define PTE_W         0x002
#define PTE_PS        0x080

	.section .multiboot, "a"
	.balign 4
multiboot_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, boot_magic
	movl %ebx, boot_info

	/* .bss is ours to clear: nothing the loader gave us lives there. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb

	movl $boot_stack_top, %esp

	/* Long mode: CPUID 0x80000001, EDX bit 29. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* Page directories: 4 x 512 entries of 2 MiB, physical address = index << 21. */
	movl $boot_pd, %edi
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_W | PTE_PS), %eax
	movl %eax, (%edi,%ecx,8)
	movl $0, 4(%edi,%ecx,8)
	incl %ecx
	cmpl $(BOOT_PD_COUNT * 512), %ecx
	jne 1b

	/* PDPT entries 0..3 point to the page directories. */
	movl $boot_pdpt, %edi
	movl $boot_pd, %eax
	orl $(PTE_P | PTE_W), %eax
	xorl %ecx, %ecx
2:	movl %eax, (%edi,%ecx,8)
	movl $0, 4(%edi,%ecx,8)
	addl $4096, %eax
	incl %ecx
	cmpl $BOOT_PD_COUNT, %ecx
	jne 2b

	movl $boot_pdpt, %eax
	orl $(PTE_P | PTE_W), %eax
	movl %eax, boot_pml4

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP), %eax
	movl %eax, %cr0

	lgdt gdt_pointer
	ljmp $GDT_CODE64, $long_mode_entry

no_long_mode:
	/* Nothing can be printed reliably yet: leave QEMU with the failure code, else stop. */
	movw $0xf4, %dx
	movl $1, %eax
	outl %eax, %dx
3:	hlt
	jmp 3b

	.code64
long_mode_entry:
	movw $GDT_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movabsq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl boot_magic(%rip), %edi
	movl boot_info(%rip), %esi
	call kernel_main
	/* kernel_main does not return; if it did, fail. */
	movl $1, %edi
	call kernel_exit
4:	hlt
	jmp 4b

	.section .data
	.balign 8
	.globl gdt
gdt:
	.quad 0                         /* null */
	.quad 0x00209A0000000000        /* GDT_CODE64: present, DPL 0, code, execute/read, L = 1 */
	.quad 0x0000920000000000        /* GDT_DATA: present, DPL 0, data, read/write */
	.globl gdt_tss
gdt_tss:
	.quad 0, 0                      /* GDT_TSS: 16-byte TSS descriptor, filled by trap_init() */
gdt_end:

	.balign 8
	.globl gdt_pointer
gdt_pointer:
	.word gdt_end - gdt - 1
	.quad gdt

	.balign 4
	.globl boot_magic, boot_info
boot_magic:
	.long 0
boot_info:
	.long 0

	.section .bss
	.balign 4096
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4096 * BOOT_PD_COUNT

	.balign 16
	.globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	.skip BOOT_STACK_SIZE
boot_stack_top:
