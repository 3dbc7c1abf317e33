/* SPDX-License-Identifier: BSD-2-Clause */
/* Common includes for cmocka tests. */
#ifndef MOAT_TEST_H
#define MOAT_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#endif
