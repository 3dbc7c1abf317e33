/* SPDX-License-Identifier: BSD-2-Clause */
/* Moat version: semantic versioning, checked at compile time by hosts. */
#ifndef MOAT_VERSION_H
#define MOAT_VERSION_H

#define MOAT_VERSION_MAJOR 0
#define MOAT_VERSION_MINOR 1
#define MOAT_VERSION_PATCH 0

/* One integer that compares correctly: 0xMMmmpp. */
#define MOAT_VERSION ((MOAT_VERSION_MAJOR << 16) | (MOAT_VERSION_MINOR << 8) | MOAT_VERSION_PATCH)
#define MOAT_VERSION_STRING "0.1.0"

#endif
