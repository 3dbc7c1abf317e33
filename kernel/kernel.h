/* SPDX-License-Identifier: BSD-2-Clause */
/* The kernel's console and exit: what every part of the kernel uses. */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Console on the first serial port (COM1, 0x3f8). Every '\n' goes out as "\r\n". */
void console_init(void);
void console_write(const char *s, size_t len);
void kputs(const char *s);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

/*
 * kernel_exit() - leave QEMU through isa-debug-exit (port 0xf4): QEMU exits with (code << 1) | 1.
 * 0 means success, 1 failure. If the device is absent, the kernel forces a triple fault, which QEMU
 * (-no-reboot) turns into an exit as well. Never returns.
 */
void kernel_exit(unsigned code) __attribute__((noreturn));

/* kernel_fatal() - print "FATAL: <message>" and leave QEMU with the failure code. */
void kernel_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The kernel's own string helpers (the Moat library has the rest in moat/internal/lib.h). */
bool kstr_eq(const char *a, const char *b);
bool kstr_starts_with(const char *s, const char *prefix);

/* Human-readable size: "512 MiB", "639 KiB", "5 GiB", "12 bytes". Returns @buf. */
const char *ksize_str(uint64_t bytes, char *buf, size_t size);

#endif
