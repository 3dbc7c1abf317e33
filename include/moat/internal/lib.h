/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Internal helpers shared by the library's sources. Not API: may change at any time.
 */
#ifndef MOAT_INTERNAL_LIB_H
#define MOAT_INTERNAL_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <moat/diag.h>
#include <moat/platform.h>
#include <moat/status.h>

#define MOAT_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MOAT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MOAT_MAX(a, b) ((a) > (b) ? (a) : (b))
#define MOAT_BIT(n) (1ull << (n))
/* Mask of bits hi..lo inclusive, 64-bit. */
#define MOAT_GENMASK(hi, lo) (((~0ull) >> (63 - (hi))) & ~((1ull << (lo)) - 1))
#define MOAT_STATIC_ASSERT(c, m) _Static_assert(c, m)

/*
 * A full barrier right after an atomic read-modify-write (a store before it is ordered before a
 * load after it). On x86 a locked instruction already is one (Intel SDM vol. 3A, 8.2.2: loads and
 * stores are not reordered with locked instructions): only the compiler is held back there.
 */
#if defined(__x86_64__) || defined(__i386__)
#define moat_fence_after_rmw() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#else
#define moat_fence_after_rmw() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* Compiler-provided memory functions: freestanding compilers may emit calls to these anyway. */
#define moat_memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#define moat_memset(d, c, n) __builtin_memset((d), (c), (n))
#define moat_memcmp(a, b, n) __builtin_memcmp((a), (b), (n))
#define moat_memmove(d, s, n) __builtin_memmove((d), (s), (n))

/* Little-endian loads from unaligned bytes (ACPI tables are little-endian and packed). */
static inline uint16_t moat_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t moat_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t moat_le64(const uint8_t *p)
{
	return (uint64_t)moat_le32(p) | ((uint64_t)moat_le32(p + 4) << 32);
}

/* Append @v to @list of @max slots (kept only while there is room); *@n counts every value, so a
 * caller learns the size needed. */
static inline void moat_list_add64(uint64_t v, uint64_t *list, unsigned max, unsigned *n)
{
	if (*n < max)
		list[*n] = v;
	(*n)++;
}

size_t moat_strlen(const char *s);
size_t moat_strnlen(const char *s, size_t max);

/*
 * A small snprintf for freestanding use. Conversions: %% %c %s %d %i %u %x %X %p, length modifiers
 * l, ll, z, flags '0' and '-', a field width, and a precision for %s (%.*s allowed). Always
 * NUL-terminates when size > 0. Returns the length the full output would have had.
 */
int moat_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int moat_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Fill @d (if not NULL) and return @status, so a parser can write
 *     return moat_diag_set(d, MOAT_ERR_TRUNCATED, "DMAR", off, "DRHD length %u ...", len);
 * @table may be NULL for errors not tied to a table.
 */
moat_status moat_diag_set(struct moat_diag *d, moat_status status, const char *table, uint32_t offset,
			  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Format and log through moat_plat_log(). Messages longer than 255 bytes are cut. */
void moat_log(enum moat_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
