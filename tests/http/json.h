/* json.h: a small strict JSON reader (RFC 8259) for the black-box tests, so
 * that they compare what the server sends by value, not by formatting:
 * parse into a tree, look keys up, compare trees. */
#ifndef RG_TESTS_HTTP_JSON_H
#define RG_TESTS_HTTP_JSON_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR, JSON_OBJ };

/* One value. Strings are decoded (escapes resolved, UTF-8) and
 * NUL-terminated; objects keep their keys in the order received. */
struct json {
	enum json_type type;
	bool b;
	double num;
	char *str;
	size_t len;	   /* string length, or number of items/members */
	struct json *item; /* array items, object member values */
	char **key;	   /* object member names */
};

struct json_reader {
	const char *p, *end;
	int depth;
};

static inline void json_free_value(struct json *v)
{
	if (v->type == JSON_STR)
		free(v->str);
	if (v->type == JSON_ARR || v->type == JSON_OBJ) {
		for (size_t i = 0; i < v->len; i++) {
			json_free_value(&v->item[i]);
			if (v->key)
				free(v->key[i]);
		}
		free(v->item);
		free(v->key);
	}
}

/* Frees a tree returned by json_parse (NULL is fine). */
static inline void json_free(struct json *v)
{
	if (v)
		json_free_value(v);
	free(v);
}

static inline void json_ws(struct json_reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static inline int json_hex4(struct json_reader *r, unsigned *out)
{
	if (r->end - r->p < 4)
		return -1;
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = *r->p++;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static inline size_t json_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Reads a string at r->p (which is at its opening quote). */
static inline int json_string(struct json_reader *r, char **out, size_t *len)
{
	r->p++;
	const char *s = r->p;
	while (r->p < r->end && *r->p != '"') {
		if (*r->p == '\\')
			r->p++;
		r->p++;
	}
	if (r->p >= r->end)
		return -1;
	/* Decoded is never longer than encoded. */
	char *o = malloc((size_t)(r->p - s) + 1);
	if (!o)
		return -1;
	size_t n = 0;
	r->p = s;
	while (*r->p != '"') {
		unsigned char c = (unsigned char)*r->p++;
		if (c < 0x20)
			goto fail;
		if (c != '\\') {
			o[n++] = (char)c;
			continue;
		}
		char e = *r->p++;
		unsigned cp, lo;
		switch (e) {
		case '"':
		case '\\':
		case '/':
			o[n++] = e;
			break;
		case 'b':
			o[n++] = '\b';
			break;
		case 'f':
			o[n++] = '\f';
			break;
		case 'n':
			o[n++] = '\n';
			break;
		case 'r':
			o[n++] = '\r';
			break;
		case 't':
			o[n++] = '\t';
			break;
		case 'u':
			if (json_hex4(r, &cp))
				goto fail;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (r->end - r->p < 6 || r->p[0] != '\\' ||
				    r->p[1] != 'u')
					goto fail;
				r->p += 2;
				if (json_hex4(r, &lo) || lo < 0xdc00 ||
				    lo > 0xdfff)
					goto fail;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				goto fail;
			}
			n += json_utf8(o + n, cp);
			break;
		default:
			goto fail;
		}
	}
	r->p++;
	o[n] = '\0';
	*out = o;
	*len = n;
	return 0;
fail:
	free(o);
	return -1;
}

/* number = [ "-" ] int [ frac ] [ exp ] */
static inline int json_number(struct json_reader *r, double *out)
{
	const char *s = r->p;
	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p >= r->end)
		return -1;
	if (*r->p == '0') {
		r->p++;
	} else if (*r->p >= '1' && *r->p <= '9') {
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	} else {
		return -1;
	}
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return -1;
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || *r->p < '0' || *r->p > '9')
			return -1;
		while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
			r->p++;
	}
	char tmp[64];
	size_t n = (size_t)(r->p - s);
	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*out = strtod(tmp, NULL);
	return 0;
}

static inline int json_value(struct json_reader *r, struct json *v);

static inline int json_push(struct json *v, size_t *cap)
{
	if (v->len < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8;
	struct json *item = realloc(v->item, ncap * sizeof(*item));
	if (!item)
		return -1;
	v->item = item;
	if (v->type == JSON_OBJ) {
		char **key = realloc(v->key, ncap * sizeof(*key));
		if (!key)
			return -1;
		v->key = key;
	}
	*cap = ncap;
	return 0;
}

static inline int json_container(struct json_reader *r, struct json *v)
{
	bool obj = *r->p == '{';
	char close = obj ? '}' : ']';
	size_t cap = 0;
	v->type = obj ? JSON_OBJ : JSON_ARR;
	r->p++;
	json_ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return 0;
	}
	for (;;) {
		if (json_push(v, &cap))
			return -1;
		json_ws(r);
		char *key = NULL;
		if (obj) {
			size_t klen;
			if (r->p >= r->end || *r->p != '"' ||
			    json_string(r, &key, &klen))
				return -1;
			json_ws(r);
			if (r->p >= r->end || *r->p != ':') {
				free(key);
				return -1;
			}
			r->p++;
		}
		memset(&v->item[v->len], 0, sizeof(v->item[0]));
		if (obj)
			v->key[v->len] = key;
		v->len++;
		if (json_value(r, &v->item[v->len - 1]))
			return -1;
		json_ws(r);
		if (r->p >= r->end)
			return -1;
		if (*r->p == close) {
			r->p++;
			return 0;
		}
		if (*r->p++ != ',')
			return -1;
	}
}

static inline int json_literal(struct json_reader *r, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n))
		return -1;
	r->p += n;
	return 0;
}

static inline int json_value(struct json_reader *r, struct json *v)
{
	memset(v, 0, sizeof(*v));
	json_ws(r);
	if (r->p >= r->end || ++r->depth > 64)
		return -1;
	int rc;
	switch (*r->p) {
	case '{':
	case '[':
		rc = json_container(r, v);
		break;
	case '"':
		v->type = JSON_STR;
		rc = json_string(r, &v->str, &v->len);
		break;
	case 't':
		v->type = JSON_BOOL;
		v->b = true;
		rc = json_literal(r, "true");
		break;
	case 'f':
		v->type = JSON_BOOL;
		rc = json_literal(r, "false");
		break;
	case 'n':
		rc = json_literal(r, "null");
		break;
	default:
		v->type = JSON_NUM;
		rc = json_number(r, &v->num);
	}
	r->depth--;
	return rc;
}

/* Parses s[0, n) as one JSON text (whitespace around allowed). Returns a
 * tree to free with json_free, or NULL if the text is not valid JSON. */
static inline struct json *json_parse(const char *s, size_t n)
{
	struct json_reader r = {s, s + n, 0};
	struct json *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	if (json_value(&r, v)) {
		json_free(v);
		return NULL;
	}
	json_ws(&r);
	if (r.p != r.end) {
		json_free(v);
		return NULL;
	}
	return v;
}

/* The member `key` of object `v`, or NULL (also when v is not an object). */
static inline const struct json *json_get(const struct json *v, const char *key)
{
	if (!v || v->type != JSON_OBJ)
		return NULL;
	for (size_t i = 0; i < v->len; i++)
		if (!strcmp(v->key[i], key))
			return &v->item[i];
	return NULL;
}

/* The first member named `key` anywhere in the tree (depth first), or
 * NULL. */
static inline const struct json *json_find(const struct json *v,
					   const char *key)
{
	if (!v || (v->type != JSON_OBJ && v->type != JSON_ARR))
		return NULL;
	const struct json *hit = json_get(v, key);
	for (size_t i = 0; !hit && i < v->len; i++)
		hit = json_find(&v->item[i], key);
	return hit;
}

/* Whether some member name in the tree contains `part`. */
static inline bool json_has_key_part(const struct json *v, const char *part)
{
	if (!v || (v->type != JSON_OBJ && v->type != JSON_ARR))
		return false;
	for (size_t i = 0; i < v->len; i++)
		if ((v->key && strstr(v->key[i], part)) ||
		    json_has_key_part(&v->item[i], part))
			return true;
	return false;
}

/* Deep equality: same type; numbers by value; strings by content; arrays
 * in order; objects as sets of members (order ignored). */
static inline bool json_equal(const struct json *a, const struct json *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case JSON_NULL:
		return true;
	case JSON_BOOL:
		return a->b == b->b;
	case JSON_NUM:
		return a->num == b->num;
	case JSON_STR:
		return a->len == b->len && !memcmp(a->str, b->str, a->len);
	case JSON_ARR:
		if (a->len != b->len)
			return false;
		for (size_t i = 0; i < a->len; i++)
			if (!json_equal(&a->item[i], &b->item[i]))
				return false;
		return true;
	case JSON_OBJ:
		if (a->len != b->len)
			return false;
		for (size_t i = 0; i < a->len; i++) {
			const struct json *m = json_get(b, a->key[i]);
			if (!m || !json_equal(&a->item[i], m))
				return false;
		}
		return true;
	}
	return false;
}

/* Whether x and y agree to 1e-9 relative (a total computed as a double by
 * the server may be printed with fewer digits than a double holds). Kept
 * free of libm: the tests link only libc and cmocka. */
static inline bool json_num_close(double x, double y)
{
	double ax = x < 0 ? -x : x, ay = y < 0 ? -y : y;
	double d = x - y, scale = ax > ay ? ax : ay;
	return (d < 0 ? -d : d) <= 1e-9 * (scale > 1.0 ? scale : 1.0);
}

#endif /* RG_TESTS_HTTP_JSON_H */
