/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Serial console on COM1 (a 16550 UART at I/O port 0x3f8), polled: 115200 baud, 8 data bits, no
 * parity, one stop bit. No lock: the kernel runs on one CPU with interrupts off, and the exception
 * path must be able to print whatever state the console was left in.
 */
#include <moat/internal/lib.h>

#include "arch/cpu.h"
#include "kernel.h"

#define COM1            0x3f8
#define UART_DATA       0       /* with DLAB = 0 */
#define UART_IER        1
#define UART_DLL        0       /* with DLAB = 1 */
#define UART_DLM        1
#define UART_FCR        2
#define UART_LCR        3
#define UART_MCR        4
#define UART_LSR        5
#define  LSR_THR_EMPTY  0x20
#define LCR_DLAB        0x80
#define LCR_8N1         0x03
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS     0x03

/* Enough polls for one character at 115200 baud on any real or emulated UART; then give up. */
#define UART_POLL_LIMIT 100000

void console_init(void)
{
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, 1);       /* divisor 1: 115200 baud */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1 + UART_MCR, MCR_DTR_RTS);
}

static void uart_putc(char c)
{
	for (unsigned i = 0; i < UART_POLL_LIMIT; i++) {
		if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY)
			break;
		cpu_pause();
	}
	outb(COM1 + UART_DATA, (uint8_t)c);
}

void console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

void kputs(const char *s)
{
	console_write(s, moat_strlen(s));
}

void kvprintf(const char *fmt, va_list ap)
{
	char buf[1024];
	int n = moat_vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0)
		return;
	console_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

#define DEBUG_EXIT_PORT 0xf4

void kernel_exit(unsigned code)
{
	/* The IDT limit of zero turns the next exception into a triple fault. */
	static const struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} no_idt = { 0, 0 };

	outl(DEBUG_EXIT_PORT, code);
	__asm__ __volatile__("lidt %0; int3" : : "m"(no_idt) : "memory");
	cpu_halt_forever();
}

void kernel_fatal(const char *fmt, ...)
{
	va_list ap;

	kputs("FATAL: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kputs("\n");
	kernel_exit(1);
}

bool kstr_eq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

bool kstr_starts_with(const char *s, const char *prefix)
{
	while (*prefix) {
		if (*s++ != *prefix++)
			return false;
	}
	return true;
}

const char *ksize_str(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;
	uint64_t unit = 1, tenths;

	/* The largest unit the size reaches; one decimal when it is not a whole number of it. */
	while (u + 1 < MOAT_ARRAY_SIZE(units) && bytes / 1024 >= unit) {
		unit *= 1024;
		u++;
	}
	if (bytes % unit == 0) {
		moat_snprintf(buf, size, "%llu %s", (unsigned long long)(bytes / unit), units[u]);
		return buf;
	}
	tenths = (bytes % unit) * 10 / unit;
	moat_snprintf(buf, size, "%llu.%llu %s", (unsigned long long)(bytes / unit), (unsigned long long)tenths,
		      units[u]);
	return buf;
}
