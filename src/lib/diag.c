/* SPDX-License-Identifier: BSD-2-Clause */
#include <moat/internal/lib.h>

moat_status moat_diag_set(struct moat_diag *d, moat_status status, const char *table, uint32_t offset,
			  const char *fmt, ...)
{
	if (!d)
		return status;
	d->status = status;
	d->offset = offset;
	moat_memset(d->table, 0, sizeof(d->table));
	for (unsigned i = 0; table && i < 4 && table[i]; i++)
		d->table[i] = table[i];
	va_list ap;
	va_start(ap, fmt);
	moat_vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return status;
}

char *moat_diag_format(const struct moat_diag *d, char *buf, unsigned size)
{
	if (!size)
		return buf;
	if (d->table[0])
		moat_snprintf(buf, size, "%s+0x%x: %s", d->table, (unsigned)d->offset, d->msg);
	else
		moat_snprintf(buf, size, "%s", d->msg);
	return buf;
}

void moat_log(enum moat_log_level level, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	moat_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	moat_plat_log(level, buf);
}
