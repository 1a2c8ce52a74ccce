/* dataset.c: loads the /json/{count} catalogue: reads the file, checks it is
 * JSON (RFC 8259) while minifying it, and splits it into per-item heads with
 * their price and quantity. Start-up only, so it may allocate. */
#include "dataset.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DATASET_MAX_FILE (64u << 20) /* a catalogue, not a database */
#define DATASET_MAX_DEPTH 64

/* The minified output, grown by doubling. */
struct out {
	char *buf;
	size_t len, cap;
};

struct parser {
	const char *start, *p, *end;
	struct out out;
	char *why;
	size_t why_len;
	bool nomem;
};

/* What an item's top-level members told us. */
struct item_fields {
	bool has_price, has_quantity;
	int64_t price, quantity;
};

static bool fail(struct parser *ps, const char *fmt, ...)
{
	if (ps->why_len == 0 || ps->why[0] != '\0')
		return false; /* keep the first, innermost message */
	size_t line = 1;
	for (const char *q = ps->start; q < ps->p && q < ps->end; q++)
		line += *q == '\n';
	int n = snprintf(ps->why, ps->why_len, "line %zu: ", line);
	if (n >= 0 && (size_t)n < ps->why_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->why + n, ps->why_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return false;
}

static bool put(struct parser *ps, const char *s, size_t n)
{
	struct out *o = &ps->out;
	if (n > o->cap - o->len) {
		size_t cap = o->cap ? o->cap : 4096;
		while (n > cap - o->len)
			cap *= 2;
		char *buf = realloc(o->buf, cap);
		if (!buf) {
			ps->nomem = true;
			return fail(ps, "out of memory");
		}
		o->buf = buf;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	return true;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string, copied as written (escapes kept). */
static bool parse_string(struct parser *ps)
{
	const char *s = ps->p++; /* the opening quote */
	for (;;) {
		if (ps->p >= ps->end)
			return fail(ps, "unterminated string");
		unsigned char c = (unsigned char)*ps->p;
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(ps, "control character in a string");
		if (c == '\\') {
			if (ps->end - ps->p < 2 ||
			    !strchr("\"\\/bfnrtu", ps->p[1]))
				return fail(ps, "bad escape in a string");
			if (ps->p[1] == 'u') {
				if (ps->end - ps->p < 6 || !is_hex(ps->p[2]) ||
				    !is_hex(ps->p[3]) || !is_hex(ps->p[4]) ||
				    !is_hex(ps->p[5]))
					return fail(ps, "bad \\u escape");
				ps->p += 4;
			}
			ps->p++;
		}
		ps->p++;
	}
	ps->p++;
	return put(ps, s, (size_t)(ps->p - s));
}

/* A number; *is_int and *ival say whether it is an integer that fits
 * int64_t, and which. */
static bool parse_number(struct parser *ps, bool *is_int, int64_t *ival)
{
	const char *s = ps->p;
	bool neg = ps->p < ps->end && *ps->p == '-';
	if (neg)
		ps->p++;
	if (ps->p >= ps->end || !is_digit(*ps->p))
		return fail(ps, "bad number");
	bool fits = true;
	int64_t v = 0; /* negative while accumulating: holds INT64_MIN */
	if (*ps->p == '0') {
		ps->p++;
	} else {
		while (ps->p < ps->end && is_digit(*ps->p)) {
			int d = *ps->p++ - '0';
			if (v < (INT64_MIN + d) / 10)
				fits = false;
			else
				v = v * 10 - d;
		}
	}
	bool integer = true;
	if (ps->p < ps->end && *ps->p == '.') {
		integer = false;
		ps->p++;
		if (ps->p >= ps->end || !is_digit(*ps->p))
			return fail(ps, "bad number");
		while (ps->p < ps->end && is_digit(*ps->p))
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		integer = false;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || !is_digit(*ps->p))
			return fail(ps, "bad number");
		while (ps->p < ps->end && is_digit(*ps->p))
			ps->p++;
	}
	if (!neg && v == INT64_MIN)
		fits = false;
	*is_int = integer && fits;
	*ival = neg ? v : -v;
	return put(ps, s, (size_t)(ps->p - s));
}

static bool parse_value(struct parser *ps, int depth);

/* An object; with `fields` set (a dataset item), its integer "price" and
 * "quantity" are recorded and the closing brace is left out. */
static bool parse_object(struct parser *ps, int depth,
			 struct item_fields *fields)
{
	ps->p++;
	if (!put(ps, "{", 1))
		return false;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return fields || put(ps, "}", 1);
	}
	for (;;) {
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"')
			return fail(ps, "expected a member name");
		size_t key = ps->out.len;
		if (!parse_string(ps))
			return false;
		size_t key_len = ps->out.len - key;
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':')
			return fail(ps, "expected ':'");
		ps->p++;
		if (!put(ps, ":", 1))
			return false;
		skip_ws(ps);

		int64_t *slot = NULL;
		bool *seen = NULL;
		if (fields && key_len == 7 &&
		    !memcmp(ps->out.buf + key, "\"price\"", 7)) {
			slot = &fields->price;
			seen = &fields->has_price;
		} else if (fields && key_len == 10 &&
			   !memcmp(ps->out.buf + key, "\"quantity\"", 10)) {
			slot = &fields->quantity;
			seen = &fields->has_quantity;
		}
		if (slot) {
			bool is_int = false;
			if (ps->p >= ps->end ||
			    (*ps->p != '-' && !is_digit(*ps->p)) ||
			    !parse_number(ps, &is_int, slot) || !is_int)
				return fail(ps, "%.*s must be an integer",
					    (int)key_len, ps->out.buf + key);
			*seen = true;
		} else if (!parse_value(ps, depth + 1)) {
			return false;
		}

		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			if (!put(ps, ",", 1))
				return false;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			return fields || put(ps, "}", 1);
		}
		return fail(ps, "expected ',' or '}'");
	}
}

static bool parse_array(struct parser *ps, int depth)
{
	ps->p++;
	if (!put(ps, "[", 1))
		return false;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return put(ps, "]", 1);
	}
	for (;;) {
		if (!parse_value(ps, depth + 1))
			return false;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			if (!put(ps, ",", 1))
				return false;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return put(ps, "]", 1);
		}
		return fail(ps, "expected ',' or ']'");
	}
}

static bool parse_literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return fail(ps, "expected a value");
	ps->p += n;
	return put(ps, word, n);
}

static bool parse_value(struct parser *ps, int depth)
{
	if (depth > DATASET_MAX_DEPTH)
		return fail(ps, "nested deeper than %d", DATASET_MAX_DEPTH);
	skip_ws(ps);
	if (ps->p >= ps->end)
		return fail(ps, "expected a value");
	bool is_int;
	int64_t ignored;
	switch (*ps->p) {
	case '{':
		return parse_object(ps, depth, NULL);
	case '[':
		return parse_array(ps, depth);
	case '"':
		return parse_string(ps);
	case 't':
		return parse_literal(ps, "true");
	case 'f':
		return parse_literal(ps, "false");
	case 'n':
		return parse_literal(ps, "null");
	default:
		return parse_number(ps, &is_int, &ignored);
	}
}

/* Item i's head runs from offsets[i] to offsets[i + 1] in the output. */
static bool parse_items(struct parser *ps, size_t **offsets, size_t *count,
			struct item_fields **fields)
{
	size_t cap = 0;
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != '[')
		return fail(ps, "expected an array of items");
	ps->p++;
	skip_ws(ps);
	bool empty = ps->p < ps->end && *ps->p == ']';
	while (!empty) {
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '{')
			return fail(ps, "item %zu is not an object",
				    *count + 1);
		if (*count + 2 > cap) {
			cap = cap ? cap * 2 : 64;
			size_t *o = realloc(*offsets, cap * sizeof(*o));
			if (o)
				*offsets = o;
			struct item_fields *f =
			    realloc(*fields, cap * sizeof(*f));
			if (f)
				*fields = f;
			if (!o || !f) {
				ps->nomem = true;
				return fail(ps, "out of memory");
			}
		}
		struct item_fields *f = &(*fields)[*count];
		*f = (struct item_fields){0};
		(*offsets)[*count] = ps->out.len;
		if (!parse_object(ps, 1, f))
			return false;
		if (!f->has_price || !f->has_quantity)
			return fail(ps, "item %zu has no %s", *count + 1,
				    f->has_price ? "quantity" : "price");
		size_t head = (*offsets)[*count];
		bool members = ps->out.len - head > 1;
		if (!put(ps, members ? ",\"total\":" : "\"total\":",
			 members ? 9 : 8))
			return false;
		(*count)++;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']')
			break;
		return fail(ps, "expected ',' or ']'");
	}
	ps->p++;
	if (*count)
		(*offsets)[*count] = ps->out.len;
	skip_ws(ps);
	if (ps->p != ps->end)
		return fail(ps, "unexpected text after the array");
	return true;
}

static int read_file(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	char *buf = NULL;
	int rc;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > DATASET_MAX_FILE) {
		rc = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto fail;
	}
	size_t n = 0;
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto fail;
		}
		if (r == 0)
			break; /* shrank while we read: parse what is there */
		n += (size_t)r;
	}
	close(fd);
	*text = buf;
	*len = n;
	return 0;
fail:
	free(buf);
	close(fd);
	return rc;
}

int dataset_load(struct dataset *ds, const char *path, char *why,
		 size_t why_len)
{
	*ds = (struct dataset){0};
	if (why_len)
		why[0] = '\0';
	char *text = NULL;
	size_t len = 0;
	int rc = read_file(path, &text, &len);
	if (rc < 0) {
		if (why_len)
			snprintf(why, why_len, "%s",
				 rc == -EINVAL ? "not a regular file"
					       : strerror(-rc));
		return rc;
	}

	struct parser ps = {.start = text,
			    .p = text,
			    .end = text + len,
			    .why = why,
			    .why_len = why_len};
	size_t *offsets = NULL, count = 0;
	struct item_fields *fields = NULL;
	rc = 0;
	if (!parse_items(&ps, &offsets, &count, &fields))
		rc = ps.nomem ? -ENOMEM : -EINVAL;
	if (rc == 0 && count) {
		ds->items = calloc(count, sizeof(*ds->items));
		if (!ds->items)
			rc = -ENOMEM;
	}
	if (rc == 0) {
		ds->text = ps.out.buf;
		ds->count = count;
		for (size_t i = 0; i < count; i++)
			ds->items[i] = (struct dataset_item){
			    .head = ds->text + offsets[i],
			    .head_len = offsets[i + 1] - offsets[i],
			    .price = fields[i].price,
			    .quantity = fields[i].quantity,
			};
		ps.out.buf = NULL;
	} else if (rc == -ENOMEM && why_len) {
		snprintf(why, why_len, "%s", strerror(ENOMEM));
	}
	free(ps.out.buf);
	free(offsets);
	free(fields);
	free(text);
	return rc;
}

void dataset_free(struct dataset *ds)
{
	free(ds->items);
	free(ds->text);
	*ds = (struct dataset){0};
}
