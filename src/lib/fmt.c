/* SPDX-License-Identifier: BSD-2-Clause */
/* A small, bounded snprintf for freestanding use (see moat/internal/lib.h for what it supports). */
#include <moat/internal/lib.h>

struct out {
	char *buf;
	size_t size;
	size_t len; /* length the full output would have */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

static void put_str(struct out *o, const char *s, size_t n, int width, bool left)
{
	int fill = width > (int)n ? width - (int)n : 0;

	if (!left)
		pad(o, ' ', fill);
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		pad(o, ' ', fill);
}

static void put_num(struct out *o, unsigned long long v, bool neg, unsigned base, bool upper, int width,
		    bool zero, bool left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	int len = n + (neg ? 1 : 0);
	int fill = width > len ? width - len : 0;

	if (!left && !zero)
		pad(o, ' ', fill);
	if (neg)
		put(o, '-');
	if (!left && zero)
		pad(o, '0', fill);
	while (n)
		put(o, tmp[--n]);
	if (left)
		pad(o, ' ', fill);
}

int moat_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		p++;
		bool zero = false, left = false;
		for (;; p++) {
			if (*p == '0')
				zero = true;
			else if (*p == '-')
				left = true;
			else
				break;
		}
		int width = 0;
		if (*p == '*') {
			width = va_arg(ap, int);
			p++;
		} else {
			while (*p >= '0' && *p <= '9')
				width = width * 10 + (*p++ - '0');
		}
		int prec = -1;
		if (*p == '.') {
			p++;
			prec = 0;
			if (*p == '*') {
				prec = va_arg(ap, int);
				p++;
			} else {
				while (*p >= '0' && *p <= '9')
					prec = prec * 10 + (*p++ - '0');
			}
		}
		int lng = 0; /* 0 int, 1 long, 2 long long, 3 size_t */
		if (*p == 'l') {
			lng = 1;
			p++;
			if (*p == 'l') {
				lng = 2;
				p++;
			}
		} else if (*p == 'z') {
			lng = 3;
			p++;
		}
		unsigned long long u;
		long long s;
		switch (*p) {
		case '%':
			put(&o, '%');
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			size_t n = prec >= 0 ? moat_strnlen(str, (size_t)prec) : moat_strlen(str);
			put_str(&o, str, n, width, left);
			break;
		}
		case 'd':
		case 'i':
			s = lng == 2 ? va_arg(ap, long long) : lng == 1 ? va_arg(ap, long)
				: lng == 3 ? (long long)va_arg(ap, size_t) : va_arg(ap, int);
			u = s < 0 ? 0ull - (unsigned long long)s : (unsigned long long)s;
			put_num(&o, u, s < 0, 10, false, width, zero, left);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng == 2 ? va_arg(ap, unsigned long long) : lng == 1 ? va_arg(ap, unsigned long)
				: lng == 3 ? va_arg(ap, size_t) : va_arg(ap, unsigned int);
			put_num(&o, u, false, *p == 'u' ? 10 : 16, *p == 'X', width, zero, left);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, width, zero, left);
			break;
		case '\0':
			p--; /* a lone '%' at the end: stop */
			break;
		default:
			put(&o, '%');
			put(&o, *p);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int moat_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = moat_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
