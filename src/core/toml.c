/* toml.c: the configuration language's reader (toml.h): the lexer of its
 * subset of TOML and the loop over lines that hands each table header and
 * key = value to a schema. What the keys mean is the schema's business
 * (config.c, a program's own tables). */
#include "core/toml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rg__toml_fail(struct rg__toml *ps, const char *fmt, ...)
{
	int n = snprintf(ps->err, ps->err_len, "%s:%u: ", ps->name, ps->line);
	if (n >= 0 && (size_t)n < ps->err_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->err + n, ps->err_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_bare(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void skip_ws(struct rg__toml *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

static bool at_eol(const struct rg__toml *ps)
{
	const char *p = ps->p;
	return p == ps->end || *p == '\n' || *p == '#' ||
	       (*p == '\r' && p + 1 < ps->end && p[1] == '\n');
}

/* Skips spaces and a comment, then requires the end of the line. */
static int end_line(struct rg__toml *ps, const char *what)
{
	skip_ws(ps);
	if (!at_eol(ps))
		return rg__toml_fail(ps, "unexpected '%c' after %s", *ps->p,
				     what);
	while (ps->p < ps->end && *ps->p != '\n') {
		/* TOML forbids control characters, even in comments */
		if ((unsigned char)*ps->p < 0x20 && *ps->p != '\t' &&
		    !(*ps->p == '\r' && ps->p + 1 < ps->end &&
		      ps->p[1] == '\n'))
			return rg__toml_fail(ps,
					     "control character in comment");
		ps->p++;
	}
	return 0;
}

static size_t bare_key(struct rg__toml *ps)
{
	const char *start = ps->p;
	while (ps->p < ps->end && is_bare(*ps->p))
		ps->p++;
	return (size_t)(ps->p - start);
}

static int hex4(const char *p, uint32_t *cp)
{
	*cp = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = is_digit(c) ? c - '0'
			: (c | 0x20) >= 'a' && (c | 0x20) <= 'f'
			    ? (c | 0x20) - 'a' + 10
			    : -1;
		if (d < 0)
			return -1;
		*cp = *cp << 4 | (uint32_t)d;
	}
	return 0;
}

/* A basic string, decoded into ps->buf; ps->p is on the opening quote. */
static int parse_string(struct rg__toml *ps, char **out)
{
	char *o = ps->buf + ps->used;
	*out = o;
	for (ps->p++;; ps->p++) {
		if (ps->p == ps->end || *ps->p == '\n')
			return rg__toml_fail(ps, "unterminated string");
		char c = *ps->p;
		if (c == '"')
			break;
		if ((unsigned char)c < 0x20 && c != '\t')
			return rg__toml_fail(ps, "control character in string");
		if (c != '\\') {
			*o++ = c;
			continue;
		}
		if (++ps->p == ps->end)
			return rg__toml_fail(ps, "unterminated string");
		uint32_t cp;
		switch (*ps->p) {
		case '"':
		case '\\':
			*o++ = *ps->p;
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			if (ps->end - ps->p < 5 || hex4(ps->p + 1, &cp) ||
			    (cp >= 0xd800 && cp < 0xe000) || cp == 0)
				return rg__toml_fail(
				    ps, "bad \\u escape in string");
			ps->p += 4;
			if (cp < 0x80) {
				*o++ = (char)cp;
			} else if (cp < 0x800) {
				*o++ = (char)(0xc0 | cp >> 6);
				*o++ = (char)(0x80 | (cp & 0x3f));
			} else {
				*o++ = (char)(0xe0 | cp >> 12);
				*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
				*o++ = (char)(0x80 | (cp & 0x3f));
			}
			break;
		default:
			return rg__toml_fail(
			    ps, "unknown escape '\\%c' in string", *ps->p);
		}
	}
	ps->p++;
	*o++ = '\0';
	ps->used = (size_t)(o - ps->buf);
	return 0;
}

/* TOML integer: optional sign, no leading zeros, '_' only between digits. */
static int parse_int(struct rg__toml *ps, int64_t *out)
{
	bool neg = *ps->p == '-';
	if (*ps->p == '-' || *ps->p == '+')
		ps->p++;
	const char *start = ps->p;
	uint64_t v = 0;
	for (; ps->p < ps->end; ps->p++) {
		char c = *ps->p;
		if (c == '_' && ps->p > start && ps->p + 1 < ps->end &&
		    is_digit(ps->p[1]) && is_digit(ps->p[-1]))
			continue;
		if (!is_digit(c))
			break;
		if (v > (UINT64_MAX - 9) / 10 ||
		    (v = v * 10 + (uint64_t)(c - '0')) >
			(uint64_t)INT64_MAX + neg)
			return rg__toml_fail(ps, "integer too large");
	}
	if (ps->p == start)
		return rg__toml_fail(ps, "expected a value");
	if (*start == '0' && ps->p - start > 1)
		return rg__toml_fail(
		    ps, "leading zeros are not allowed in integers");
	if (ps->p < ps->end && is_bare(*ps->p))
		return rg__toml_fail(
		    ps, "bad integer (sizes and durations with a unit "
			"must be quoted, as in \"8KiB\")");
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int parse_value(struct rg__toml *ps, struct rg_config_value *v)
{
	const char *p = ps->p;
	size_t left = (size_t)(ps->end - p);
	if (p == ps->end)
		return rg__toml_fail(ps, "expected a value");
	if (*p == '"') {
		v->type = RG_CONFIG_STRING;
		return parse_string(ps, &v->string);
	}
	if (*p == '[') { /* single-line array of strings */
		char *s;
		int r;
		v->type = RG_CONFIG_ARRAY;
		v->nitems = 0;
		for (ps->p++, skip_ws(ps); ps->p < ps->end && *ps->p != ']';) {
			if (*ps->p == '\n' || *ps->p == '#')
				break;
			if (*ps->p != '"')
				return rg__toml_fail(
				    ps, "arrays may hold only strings");
			if ((r = parse_string(ps, &s)))
				return r;
			if (v->nitems == RG_CONFIG_ARRAY_MAX)
				return rg__toml_fail(
				    ps,
				    "more than %d strings in an "
				    "array",
				    RG_CONFIG_ARRAY_MAX);
			v->items[v->nitems++] = s;
			skip_ws(ps);
			if (ps->p < ps->end && *ps->p == ',')
				ps->p++, skip_ws(ps);
			else if (ps->p < ps->end && *ps->p != ']' &&
				 *ps->p != '\n')
				return rg__toml_fail(
				    ps, "expected ',' or ']' in array");
		}
		if (ps->p == ps->end || *ps->p != ']')
			return rg__toml_fail(
			    ps, "unterminated array (arrays must fit "
				"on one line)");
		ps->p++;
		return 0;
	}
	if ((left >= 4 && !memcmp(p, "true", 4)) ||
	    (left >= 5 && !memcmp(p, "false", 5))) {
		v->type = RG_CONFIG_BOOLEAN;
		v->integer = *p == 't';
		ps->p += *p == 't' ? 4 : 5;
		if (ps->p < ps->end && is_bare(*ps->p))
			return rg__toml_fail(ps, "expected a value");
		return 0;
	}
	if (is_digit(*p) || *p == '+' || *p == '-') {
		v->type = RG_CONFIG_INTEGER;
		return parse_int(ps, &v->integer);
	}
	return rg__toml_fail(ps, "expected a value");
}

static int read_table(struct rg__toml *ps, const struct rg__toml_schema *s)
{
	ps->p++;
	skip_ws(ps);
	const char *name = ps->p;
	size_t n = bare_key(ps);
	skip_ws(ps);
	if (!n || ps->p == ps->end || *ps->p != ']')
		return rg__toml_fail(ps, "bad table header (expected [name])");
	ps->p++;
	int r = s->table(ps, s->arg, name, n);
	return r ? r : end_line(ps, "table header");
}

static int read_pair(struct rg__toml *ps, const struct rg__toml_schema *s)
{
	const char *name = ps->p;
	size_t n = bare_key(ps);
	struct rg_config_value v = {.line = ps->line};
	int r;
	if (!n)
		return rg__toml_fail(ps, "expected a key or a [table]");
	skip_ws(ps);
	if (ps->p == ps->end || *ps->p != '=')
		return rg__toml_fail(ps, "expected '=' after key '%.*s'",
				     (int)n, name);
	ps->p++;
	skip_ws(ps);
	if ((r = s->key(ps, s->arg, name, n)))
		return r;
	if ((r = parse_value(ps, &v)) || (r = end_line(ps, "value")))
		return r;
	return s->pair(ps, s->arg, name, n, &v);
}

int rg__toml_read(struct rg__toml *ps, const char *name, const char *text,
		  size_t len, const struct rg__toml_schema *s, char *err,
		  size_t err_len)
{
	*ps = (struct rg__toml){.p = text,
				.end = text + len,
				.name = name,
				.line = 1,
				.err = err,
				.err_len = err_len};
	if (err_len)
		err[0] = '\0';
	if (!(ps->buf = malloc(len + 1)))
		return -ENOMEM;
	int r = 0;
	while (ps->p < ps->end && !r) {
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == '[')
			r = read_table(ps, s);
		else if (at_eol(ps))
			r = end_line(ps, "");
		else
			r = read_pair(ps, s);
		if (!r && ps->p < ps->end) {
			ps->p++; /* the newline */
			ps->line++;
		}
	}
	if (r) {
		free(ps->buf);
		ps->buf = NULL;
	}
	return r;
}
