/* SPDX-License-Identifier: BSD-2-Clause */
#include <moat/internal/lib.h>

size_t moat_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t moat_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}
