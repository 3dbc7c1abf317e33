/* SPDX-License-Identifier: BSD-2-Clause */
#include "tool.h"

#include <inttypes.h>
#include <string.h>

void json_init(struct json *j, FILE *f)
{
	*j = (struct json){ .f = f };
}

static void before_value(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0 && j->need_comma[j->depth])
		fputc(',', j->f);
	if (j->depth > 0)
		j->need_comma[j->depth] = true;
}

static void open(struct json *j, char c)
{
	before_value(j);
	fputc(c, j->f);
	if (j->depth < 63)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct json *j, char c)
{
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
	if (j->depth == 0)
		fputc('\n', j->f);
}

void json_obj_begin(struct json *j)
{
	open(j, '{');
}

void json_obj_end(struct json *j)
{
	close_(j, '}');
}

void json_arr_begin(struct json *j)
{
	open(j, '[');
}

void json_arr_end(struct json *j)
{
	close_(j, ']');
}

static void put_string(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void json_key(struct json *j, const char *key)
{
	before_value(j);
	put_string(j->f, key, strlen(key));
	fputc(':', j->f);
	j->after_key = true;
}

void json_uint(struct json *j, uint64_t v)
{
	before_value(j);
	fprintf(j->f, "%" PRIu64, v);
}

void json_bool(struct json *j, bool v)
{
	before_value(j);
	fputs(v ? "true" : "false", j->f);
}

void json_strn(struct json *j, const char *s, size_t len)
{
	while (len && s[len - 1] == '\0')
		len--;
	before_value(j);
	put_string(j->f, s, len);
}

void json_str(struct json *j, const char *s)
{
	json_strn(j, s, strlen(s));
}
