/* SPDX-License-Identifier: BSD-2-Clause */
/* The narrated demo (`-append demo`, `make run`). */
#ifndef KERNEL_DEMO_H
#define KERNEL_DEMO_H

#include "system.h"

/* demo_run() - tell what the machine has and show a DMA; returns the exit code (0: all went well). */
unsigned demo_run(struct kernel_system *sys);

#endif
