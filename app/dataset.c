/* dataset.c: loads the /json/{count} catalogue: reads the file and parses
 * it, strictly (RFC 8259 syntax, exactly the members struct dataset_item
 * has), into typed items. Start-up only, so it may allocate. */
#include "dataset.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DATASET_MAX_FILE (64u << 20) /* a catalogue, not a database */
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

struct parser {
	char *p, *end;
	size_t line; /* counted as whitespace is skipped: decoding in place
			can turn a "\n" escape behind p into a newline */
	char *why;
	size_t why_len;
	bool nomem;
	struct dataset_item *items;
	size_t nitems, items_cap;
	struct rg_str *tags;
	size_t ntags, tags_cap;
};

enum item_member { ID, NAME, CATEGORY, PRICE, QUANTITY, ACTIVE, TAGS, RATING };

static const char *const item_members[] = {
    [ID] = "id",       [NAME] = "name",		[CATEGORY] = "category",
    [PRICE] = "price", [QUANTITY] = "quantity", [ACTIVE] = "active",
    [TAGS] = "tags",   [RATING] = "rating",
};

static bool fail(struct parser *ps, const char *fmt, ...)
{
	if (ps->why_len == 0 || ps->why[0] != '\0')
		return false; /* keep the first, innermost message */
	int n = snprintf(ps->why, ps->why_len, "line %zu: ", ps->line);
	if (n >= 0 && (size_t)n < ps->why_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ps->why + n, ps->why_len - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return false;
}

/* Room for element n of `array` (*cap elements of `size` bytes): the
 * array, perhaps moved, or NULL with the old one left as it was. */
static void *grow(struct parser *ps, void *array, size_t *cap, size_t n,
		  size_t size)
{
	if (n < *cap)
		return array;
	size_t c = *cap ? *cap * 2 : 64;
	array = realloc(array, c * size);
	if (!array) {
		ps->nomem = true;
		return NULL;
	}
	*cap = c;
	return array;
}

static void skip_ws(struct parser *ps)
{
	for (; ps->p < ps->end; ps->p++) {
		if (*ps->p == '\n')
			ps->line++;
		else if (*ps->p != ' ' && *ps->p != '\t' && *ps->p != '\r')
			break;
	}
}

/* Skips whitespace, then consumes `c` if it comes next. */
static bool eat(struct parser *ps, char c)
{
	skip_ws(ps);
	if (ps->p == ps->end || *ps->p != c)
		return false;
	ps->p++;
	return true;
}

/* Steps through an array or object whose opening bracket was read: 1 when
 * an element follows, 0 after the closing bracket, -1 on an error. */
static int next(struct parser *ps, bool *first, char close)
{
	if (*first) {
		*first = false;
		return eat(ps, close) ? 0 : 1;
	}
	if (eat(ps, ','))
		return 1;
	if (eat(ps, close))
		return 0;
	fail(ps, "expected ',' or '%c'", close);
	return -1;
}

/* Four hex digits at p (moved past them): their value, or -1. */
static long hex4(struct parser *ps)
{
	if (ps->end - ps->p < 4)
		return -1;
	long v = 0;
	for (int i = 0; i < 4; i++) {
		char c = *ps->p++;
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* A \u escape, p just past the 'u' (a UTF-16 surrogate pair takes two),
 * written at *w as UTF-8: never more bytes than the escape had. */
static bool read_u_escape(struct parser *ps, char **w)
{
	long cp = hex4(ps);
	if (cp < 0)
		return fail(ps, "bad \\u escape");
	if (cp >= 0xd800 && cp <= 0xdbff && ps->end - ps->p >= 2 &&
	    ps->p[0] == '\\' && ps->p[1] == 'u') {
		ps->p += 2;
		long lo = hex4(ps);
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(ps, "bad surrogate pair in \\u escapes");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	} else if (cp >= 0xd800 && cp <= 0xdfff) {
		return fail(ps, "lone surrogate in a \\u escape");
	}
	char *o = *w;
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	*w = o;
	return true;
}

/* A string, decoded in place: *out points into the file's text. `what`
 * names it in messages ("a tag"). */
static bool read_string(struct parser *ps, const char *what, struct rg_str *out)
{
	static const char esc[] = "\"\\/bfnrt", raw[] = "\"\\/\b\f\n\r\t";
	if (!eat(ps, '"'))
		return fail(ps, "%s must be a string", what);
	char *start = ps->p, *w = ps->p;
	for (;;) {
		if (ps->p == ps->end)
			return fail(ps, "unterminated string");
		unsigned char c = (unsigned char)*ps->p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(ps, "control character in a string");
		if (c != '\\') {
			*w++ = (char)c;
			continue;
		}
		if (ps->p == ps->end)
			return fail(ps, "unterminated string");
		char e = *ps->p++;
		const char *k = e ? strchr(esc, e) : NULL;
		if (k)
			*w++ = raw[k - esc];
		else if (e != 'u')
			return fail(ps, "bad escape in a string");
		else if (!read_u_escape(ps, &w))
			return false;
	}
	*out = (struct rg_str){start, (size_t)(w - start)};
	return true;
}

/* Member `name`'s integer: JSON number syntax without fraction or
 * exponent, in int64_t. */
static bool read_int(struct parser *ps, const char *name, int64_t *out)
{
	skip_ws(ps);
	bool neg = ps->p < ps->end && *ps->p == '-';
	ps->p += neg;
	const char *digits = ps->p;
	int64_t v = 0; /* negative while accumulating: holds INT64_MIN */
	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
		int d = *ps->p++ - '0';
		if (v < (INT64_MIN + d) / 10)
			return fail(ps, "\"%s\" is out of range", name);
		v = v * 10 - d;
	}
	size_t n = (size_t)(ps->p - digits);
	if (n == 0 || (n > 1 && digits[0] == '0') ||
	    (ps->p < ps->end &&
	     (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E')))
		return fail(ps, "\"%s\" must be an integer", name);
	if (!neg && v == INT64_MIN)
		return fail(ps, "\"%s\" is out of range", name);
	*out = neg ? v : -v;
	return true;
}

static bool read_bool(struct parser *ps, const char *name, bool *out)
{
	skip_ws(ps);
	size_t left = (size_t)(ps->end - ps->p);
	*out = left >= 4 && !memcmp(ps->p, "true", 4);
	if (*out || (left >= 5 && !memcmp(ps->p, "false", 5))) {
		ps->p += *out ? 4 : 5;
		return true;
	}
	return fail(ps, "\"%s\" must be true or false", name);
}

/* The next member of an object whose '{' was read: 1 with *m the index of
 * its name in names[0, n), its ':' read; 0 after the '}'; -1 on an error,
 * an unknown or repeated name among them. */
static int next_member(struct parser *ps, bool *first, const char *const *names,
		       int n, unsigned *seen, int *m)
{
	int rc = next(ps, first, '}');
	struct rg_str key;
	if (rc <= 0)
		return rc;
	if (!read_string(ps, "a member name", &key))
		return -1;
	for (*m = 0; *m < n; ++*m)
		if (strlen(names[*m]) == key.len &&
		    !memcmp(names[*m], key.ptr, key.len))
			break;
	if (*m == n) {
		fail(ps, "unknown member \"%.*s\"", (int)key.len, key.ptr);
		return -1;
	}
	if (*seen & 1u << *m) {
		fail(ps, "repeated member \"%s\"", names[*m]);
		return -1;
	}
	if (!eat(ps, ':')) {
		fail(ps, "expected ':'");
		return -1;
	}
	*seen |= 1u << *m;
	return 1;
}

/* After an object's '}': has it every one of names[0, n)? */
static bool has_all(struct parser *ps, const char *what,
		    const char *const *names, int n, unsigned seen)
{
	for (int m = 0; m < n; m++)
		if (!(seen & 1u << m))
			return fail(ps, "%s has no \"%s\"", what, names[m]);
	return true;
}

static bool read_tags(struct parser *ps, struct dataset_item *it)
{
	if (!eat(ps, '['))
		return fail(ps, "\"tags\" must be an array");
	bool first = true;
	int rc;
	while ((rc = next(ps, &first, ']')) > 0) {
		struct rg_str *tags =
		    grow(ps, ps->tags, &ps->tags_cap, ps->ntags, sizeof(*tags));
		if (!tags)
			return false;
		ps->tags = tags;
		if (!read_string(ps, "a tag", &tags[ps->ntags]))
			return false;
		ps->ntags++;
		it->ntags++;
	}
	return rc == 0;
}

static bool read_rating(struct parser *ps, struct dataset_item *it)
{
	static const char *const names[] = {"score", "count"};
	int64_t *slots[] = {&it->rating.score, &it->rating.count};
	if (!eat(ps, '{'))
		return fail(ps, "\"rating\" must be an object");
	unsigned seen = 0;
	bool first = true;
	int rc, m, n = COUNT(names);
	while ((rc = next_member(ps, &first, names, n, &seen, &m)) > 0)
		if (!read_int(ps, names[m], slots[m]))
			return false;
	return rc == 0 && has_all(ps, "\"rating\"", names, n, seen);
}

static bool read_item(struct parser *ps, struct dataset_item *it)
{
	char what[32];
	snprintf(what, sizeof(what), "item %zu", ps->nitems + 1);
	if (!eat(ps, '{'))
		return fail(ps, "%s is not an object", what);
	unsigned seen = 0;
	bool first = true, ok = true;
	int rc, m, n = COUNT(item_members);
	while ((rc = next_member(ps, &first, item_members, n, &seen, &m)) > 0) {
		const char *name = item_members[m];
		switch ((enum item_member)m) {
		case ID:
			ok = read_int(ps, name, &it->id);
			break;
		case NAME:
			ok = read_string(ps, "\"name\"", &it->name);
			break;
		case CATEGORY:
			ok = read_string(ps, "\"category\"", &it->category);
			break;
		case PRICE:
			ok = read_int(ps, name, &it->price);
			break;
		case QUANTITY:
			ok = read_int(ps, name, &it->quantity);
			break;
		case ACTIVE:
			ok = read_bool(ps, name, &it->active);
			break;
		case TAGS:
			ok = read_tags(ps, it);
			break;
		case RATING:
			ok = read_rating(ps, it);
			break;
		}
		if (!ok)
			return false;
	}
	return rc == 0 && has_all(ps, what, item_members, n, seen);
}

static bool read_items(struct parser *ps)
{
	if (!eat(ps, '['))
		return fail(ps, "expected an array of items");
	bool first = true;
	int rc;
	while ((rc = next(ps, &first, ']')) > 0) {
		struct dataset_item *items = grow(ps, ps->items, &ps->items_cap,
						  ps->nitems, sizeof(*items));
		if (!items)
			return false;
		ps->items = items;
		items[ps->nitems] = (struct dataset_item){0};
		if (!read_item(ps, &items[ps->nitems]))
			return false;
		ps->nitems++;
	}
	skip_ws(ps);
	if (rc == 0 && ps->p != ps->end)
		return fail(ps, "unexpected text after the array");
	return rc == 0;
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

	struct parser ps = {.p = text,
			    .end = text + len,
			    .line = 1,
			    .why = why,
			    .why_len = why_len};
	if (!read_items(&ps)) {
		if (ps.nomem && why_len)
			snprintf(why, why_len, "%s", strerror(ENOMEM));
		free(ps.items);
		free(ps.tags);
		free(text);
		return ps.nomem ? -ENOMEM : -EINVAL;
	}
	/* The tags array moved as it grew: point each item at its own now. */
	for (size_t i = 0, t = 0; i < ps.nitems; t += ps.items[i++].ntags)
		if (ps.items[i].ntags)
			ps.items[i].tags = ps.tags + t;
	*ds = (struct dataset){.items = ps.items,
			       .count = ps.nitems,
			       .tags = ps.tags,
			       .text = text};
	return 0;
}

void dataset_free(struct dataset *ds)
{
	free(ds->items);
	free(ds->tags);
	free(ds->text);
	*ds = (struct dataset){0};
}
