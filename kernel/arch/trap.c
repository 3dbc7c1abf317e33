/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Exceptions and interrupts. Every exception is fatal in this kernel: the handler prints the vector,
 * its name, the error code, RIP, CR2 and the registers, lets the scenario runner report the running
 * scenario as failed, and leaves QEMU with the failure code. Vectors 0x20 and up are interrupts
 * (arch/irq.c counts and acknowledges them) and return.
 * Layouts: Intel SDM vol. 3, sections 6.14.1 (64-bit IDT gate), 8.2.3 (64-bit TSS), 8.2.4 (TSS
 * descriptor in long mode).
 */
#include <moat/internal/lib.h>

#include "arch/cpu.h"
#include "arch/irq.h"
#include "arch/trap.h"
#include "boot/boot.h"
#include "kernel.h"

struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes");

struct __attribute__((packed)) idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate is 16 bytes");

#define GATE_INTERRUPT 0x8e   /* present, DPL 0, 64-bit interrupt gate */
#define TSS_AVAILABLE  0x89   /* present, DPL 0, available 64-bit TSS */

#define IST_STACK_SIZE (16 * 1024)
enum { IST_DOUBLE_FAULT = 1, IST_NMI = 2, IST_MACHINE_CHECK = 3, IST_COUNT = 3 };

#define VEC_NMI 2
#define VEC_DOUBLE_FAULT 8
#define VEC_PAGE_FAULT 14
#define VEC_MACHINE_CHECK 18

extern uint8_t gdt_tss[16];
extern const uint8_t isr_stubs[];

static struct tss64 tss;
static struct idt_gate idt[256];
static uint8_t ist_stacks[IST_COUNT][IST_STACK_SIZE] __attribute__((aligned(16)));
static unsigned trap_depth;

void (*trap_abort_hook)(const char *what);

static const char *const vector_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
	"#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor overrun",
	"#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved", "#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD error", "#VE virtualization", "#CP control protection",
};

static void set_gate(unsigned vector, uint8_t ist)
{
	uint64_t addr = (uint64_t)(uintptr_t)(isr_stubs + 16 * vector);

	idt[vector] = (struct idt_gate){
		.offset_low = (uint16_t)addr,
		.selector = GDT_CODE64,
		.ist = ist,
		.type_attr = GATE_INTERRUPT,
		.offset_mid = (uint16_t)(addr >> 16),
		.offset_high = (uint32_t)(addr >> 32),
	};
}

void trap_init(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	for (unsigned i = 0; i < IST_COUNT; i++)
		tss.ist[i] = (uint64_t)(uintptr_t)(ist_stacks[i] + IST_STACK_SIZE);
	tss.iomap_base = sizeof(tss); /* no I/O permission bitmap */

	gdt_tss[0] = (uint8_t)limit;
	gdt_tss[1] = (uint8_t)(limit >> 8);
	gdt_tss[2] = (uint8_t)base;
	gdt_tss[3] = (uint8_t)(base >> 8);
	gdt_tss[4] = (uint8_t)(base >> 16);
	gdt_tss[5] = TSS_AVAILABLE;
	gdt_tss[6] = (uint8_t)((limit >> 16) & 0xf);
	gdt_tss[7] = (uint8_t)(base >> 24);
	for (unsigned i = 0; i < 4; i++)
		gdt_tss[8 + i] = (uint8_t)(base >> (32 + 8 * i));
	for (unsigned i = 12; i < 16; i++)
		gdt_tss[i] = 0;
	__asm__ __volatile__("ltr %w0" : : "r"((uint16_t)GDT_TSS) : "memory");

	for (unsigned v = 0; v < 256; v++)
		set_gate(v, 0);
	set_gate(VEC_DOUBLE_FAULT, IST_DOUBLE_FAULT);
	set_gate(VEC_NMI, IST_NMI);
	set_gate(VEC_MACHINE_CHECK, IST_MACHINE_CHECK);
	__asm__ __volatile__("lidt %0" : : "m"(idtr) : "memory");
}

void trap_stacks(uint64_t *base, uint64_t *size)
{
	*base = (uint64_t)(uintptr_t)ist_stacks;
	*size = sizeof(ist_stacks);
}

static const char *vector_name(uint64_t v)
{
	return vector_names[v] ? vector_names[v] : "reserved";
}

void trap_handler(struct trap_frame *f)
{
	char what[128];

	if (f->vector >= IRQ_VECTOR_PIC_BASE) {
		irq_handle((unsigned)f->vector);
		return;
	}
	if (++trap_depth > 1) {
		kputs("\nFATAL: exception while reporting an exception\n");
		kernel_exit(1);
	}
	moat_snprintf(what, sizeof(what), "CPU exception %llu (%s) at RIP 0x%llx",
		      (unsigned long long)f->vector, vector_name(f->vector), (unsigned long long)f->rip);
	kprintf("\n%s\n", what);
	kprintf("  error code 0x%llx  CR2 0x%llx  CR3 0x%llx  RFLAGS 0x%llx\n", (unsigned long long)f->error,
		(unsigned long long)read_cr2(), (unsigned long long)read_cr3(), (unsigned long long)f->rflags);
	kprintf("  RSP 0x%016llx  RBP 0x%016llx  RAX 0x%016llx  RBX 0x%016llx\n", (unsigned long long)f->rsp,
		(unsigned long long)f->rbp, (unsigned long long)f->rax, (unsigned long long)f->rbx);
	kprintf("  RCX 0x%016llx  RDX 0x%016llx  RSI 0x%016llx  RDI 0x%016llx\n", (unsigned long long)f->rcx,
		(unsigned long long)f->rdx, (unsigned long long)f->rsi, (unsigned long long)f->rdi);
	kprintf("  R8  0x%016llx  R9  0x%016llx  R10 0x%016llx  R11 0x%016llx\n", (unsigned long long)f->r8,
		(unsigned long long)f->r9, (unsigned long long)f->r10, (unsigned long long)f->r11);
	kprintf("  R12 0x%016llx  R13 0x%016llx  R14 0x%016llx  R15 0x%016llx\n", (unsigned long long)f->r12,
		(unsigned long long)f->r13, (unsigned long long)f->r14, (unsigned long long)f->r15);
	if (f->vector == VEC_PAGE_FAULT)
		kprintf("  page fault: %s, %s access, %s mode%s\n",
			(f->error & 1) ? "protection violation" : "page not present",
			(f->error & 2) ? "write" : (f->error & 16) ? "instruction fetch" : "read",
			(f->error & 4) ? "user" : "kernel", (f->error & 8) ? ", reserved bit set" : "");
	if (trap_abort_hook)
		trap_abort_hook(what);
	kernel_exit(1);
}
