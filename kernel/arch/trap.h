/* SPDX-License-Identifier: BSD-2-Clause */
/* The GDT's task-state segment, the IDT, and what happens on a CPU exception. */
#ifndef KERNEL_ARCH_TRAP_H
#define KERNEL_ARCH_TRAP_H

#include <stdint.h>

/* What isr.S saves, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

/*
 * trap_init() - load the TSS (with separate stacks for double fault, NMI and machine check, so that
 * a kernel stack overflow is still reported) and an IDT whose 256 vectors all lead to trap_handler():
 * exceptions (0-31) are fatal, interrupts (0x20 and up) go to irq_handle() and return.
 */
void trap_init(void);

/*
 * Called by trap_handler() after it printed the exception, before leaving QEMU, with a one-line
 * description ("CPU exception 14 (#PF) at RIP 0x..."): the scenario runner sets it to report the
 * running scenario as failed. NULL when nothing needs to be told.
 */
extern void (*trap_abort_hook)(const char *what);

/* The address range of each exception stack, for the list of memory the kernel uses. */
void trap_stacks(uint64_t *base, uint64_t *size);

/* The common entry of every vector: returns only for an interrupt. */
void trap_handler(struct trap_frame *f);

#endif
