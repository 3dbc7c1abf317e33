/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupt and exception entry stubs: 256 stubs of 16 bytes each (stub N at isr_stubs + 16 * N).
 * Each pushes a zero where the CPU pushes no error code (Intel SDM vol. 3, table 6-1: vectors 8, 10-14,
 * 17, 21, 29 and 30 have one), then the vector, and jumps to the common path, which saves the
 * general registers and calls trap_handler(struct trap_frame *). An exception never comes back
 * (trap_handler reports it and leaves QEMU); an interrupt (vector 0x20 and up, taken only inside
 * the kernel's interrupt wait) does: the registers are restored, the vector and error code slots
 * dropped, and IRETQ resumes the interrupted code.
 */
	.section .text
	.code64
	.balign 16
	.globl isr_stubs
isr_stubs:
	.set vector, 0
	.rept 256
	.balign 16
	.if (vector == 8) || ((vector >= 10) && (vector <= 14)) || (vector == 17) || (vector == 21) || \
	    (vector == 29) || (vector == 30)
	.else
	pushq $0
	.endif
	pushq $vector
	jmp isr_common
	.set vector, vector + 1
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	movq %rsp, %rbx            /* callee-saved: the frame, to come back to after the call */
	andq $-16, %rsp
	call trap_handler
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp             /* vector and error code */
	iretq
