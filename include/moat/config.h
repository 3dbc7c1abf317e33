/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Compile-time configuration. Override any value by defining it before this header is included
 * (for example with -DMOAT_MAX_CPUS=64 on the compiler command line). Every value is checked below.
 */
#ifndef MOAT_CONFIG_H
#define MOAT_CONFIG_H

/* Largest CPU number + 1 that moat_plat_cpu_id() may return (per-CPU caches of the DMA API). */
#ifndef MOAT_MAX_CPUS
#define MOAT_MAX_CPUS 16
#endif

/* Bytes of opaque storage a platform lock may use (see struct moat_lock in platform.h). */
#ifndef MOAT_LOCK_SIZE
#define MOAT_LOCK_SIZE 64
#endif

/* Size of a cache line for flushes of non-coherent page walkers. */
#ifndef MOAT_CACHE_LINE
#define MOAT_CACHE_LINE 64
#endif

/* Bound for hardware waits (register handshakes, queue completion), in nanoseconds. */
#ifndef MOAT_HW_TIMEOUT_NS
#define MOAT_HW_TIMEOUT_NS 1000000000ull
#endif

/* Alignment of a member, in C11 and in C++11 alike (public headers compile as both). */
#ifdef __cplusplus
#define MOAT_ALIGNAS(n) alignas(n)
#else
#define MOAT_ALIGNAS(n) _Alignas(n)
#endif

#if MOAT_MAX_CPUS < 1 || MOAT_MAX_CPUS > 4096
#error "MOAT_MAX_CPUS must be between 1 and 4096"
#endif
#if MOAT_LOCK_SIZE < 8
#error "MOAT_LOCK_SIZE must be at least 8"
#endif
#if MOAT_CACHE_LINE < 16 || (MOAT_CACHE_LINE & (MOAT_CACHE_LINE - 1))
#error "MOAT_CACHE_LINE must be a power of two, at least 16"
#endif

#endif
