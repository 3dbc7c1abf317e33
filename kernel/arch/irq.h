/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Device interrupts. The kernel runs with interrupts off; they are let in only inside irq_wait() and
 * irq_open(), which halt the CPU until the awaited interrupt came or a time bound passed, so no other
 * code ever runs interrupted. Every vector from IRQ_VECTOR_FIRST to IRQ_VECTOR_LAST is counted per
 * CPU when it arrives (whoever sent it: a vector nobody was given is counted too, which is how a
 * forged interrupt is seen), runs the handler set for it, if any, and is acknowledged at the local
 * APIC. The 8259 PICs are remapped out of the exception vectors and masked.
 *
 * The design takes several CPUs (counts are per CPU, by the index irq_cpu_index() gives the running
 * one); only the boot CPU runs today.
 */
#ifndef KERNEL_ARCH_IRQ_H
#define KERNEL_ARCH_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "acpi/madt.h"

#define IRQ_VECTOR_PIC_BASE 0x20u   /* 0x20-0x2F: the 8259 PICs' vectors once remapped (all masked) */
#define IRQ_VECTOR_FIRST    0x30u   /* vectors devices are given */
#define IRQ_VECTOR_LAST     0xefu
#define IRQ_VECTOR_TIMER    0xf0u   /* the local APIC timer that bounds a halt in irq_wait() */
#define IRQ_VECTOR_SPURIOUS 0xffu

#define IRQ_MAX_CPUS 8

/*
 * irq_init() - interrupts for the boot CPU: the 8259 PICs remapped to 0x20-0x2F and masked, the
 * local APIC enabled (lapic_init(), with the MADT's address when it has one), the boot CPU given
 * index 0. False when the machine has no usable local APIC (the reason is printed): irq_ready() is
 * then false and nothing can wait for an interrupt.
 */
bool irq_init(const struct madt *madt);
bool irq_ready(void);

/* The running CPU's index (0 for the boot CPU), and the APIC id of CPU @cpu. */
unsigned irq_cpu_index(void);
uint32_t irq_cpu_apic_id(unsigned cpu);
unsigned irq_cpu_count(void);

/*
 * irq_vector_alloc() - give out the lowest free vector of IRQ_VECTOR_FIRST..IRQ_VECTOR_LAST, or -1
 * when all are given. irq_vector_free() gives it back (and drops its handler).
 * irq_vector_given() - whether @vector is given out now.
 */
int irq_vector_alloc(void);
void irq_vector_free(unsigned vector);
bool irq_vector_given(unsigned vector);

/*
 * irq_set_handler() - run @fn(@vector, @ctx) when @vector arrives, before its end of interrupt (a
 * level-triggered source must be quietened there, or it is delivered again at once). It runs with
 * interrupts off, inside irq_wait() or irq_open(). NULL removes it.
 */
typedef void (*irq_handler_fn)(unsigned vector, void *ctx);
void irq_set_handler(unsigned vector, irq_handler_fn fn, void *ctx);

/* How many interrupts of @vector CPU @cpu took since boot. */
uint32_t irq_count(unsigned cpu, unsigned vector);

/* The same summed over every CPU. */
uint64_t irq_count_all(unsigned vector);

/*
 * irq_wait() - let interrupts in on this CPU until it has counted more than @seen interrupts of
 * @vector, or @timeout_ns passed; interrupts are off again on return. The usual sequence takes the
 * count first: seen = irq_count(irq_cpu_index(), v); make the source send; irq_wait(v, seen, t).
 * (Nothing arrives between the two: interrupts are off.) True when the interrupt came.
 */
bool irq_wait(unsigned vector, uint32_t seen, uint64_t timeout_ns);

/*
 * irq_open() - let interrupts in for @ns nanoseconds, whatever comes: for seeing that something
 * does not arrive, or what does.
 */
void irq_open(uint64_t ns);

/* irq_handle() - the interrupt path (from the trap handler) for @vector >= 0x20. */
void irq_handle(unsigned vector);

#endif
