/* cond.c: what a static file request asks beyond its path, parsed without
 * allocating: a byte range (RFC 9110 14.1), entity tags as If-None-Match
 * and If-Range compare them (8.8.3), HTTP-dates (5.6.7), and the codings
 * Accept-Encoding accepts (12.5.3). */
#include "static/static.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_ows(const char *p, const char *end)
{
	while (p < end && is_ows(*p))
		p++;
	return p;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal digits at *p (at least one), saturating at UINT64_MAX. */
static bool digits(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t n = 0;
	while (s < end && is_digit(*s)) {
		unsigned d = (unsigned)(*s - '0');
		n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
		s++;
	}
	if (s == *p)
		return false;
	*p = s;
	*v = n;
	return true;
}

/* ------------------------------------------------------------------------
 * Range
 * ------------------------------------------------------------------------ */

enum rg__range_result rg__range_parse(struct rg_str value, uint64_t size,
				      uint64_t *first, uint64_t *len)
{
	const char *p = value.ptr, *end = p + value.len;
	if (value.len < 6 || strncasecmp(p, "bytes=", 6))
		return RG__RANGE_IGNORE;
	p += 6;
	if (memchr(p, ',', (size_t)(end - p)))
		return RG__RANGE_IGNORE; /* several: the whole file instead */
	p = skip_ows(p, end);
	uint64_t a, b;
	if (p < end && *p == '-') {
		p++;
		if (!digits(&p, end, &b) || skip_ows(p, end) != end)
			return RG__RANGE_IGNORE;
		if (b == 0 || size == 0)
			return RG__RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*len = size - *first;
		return RG__RANGE_OK;
	}
	if (!digits(&p, end, &a) || p == end || *p++ != '-')
		return RG__RANGE_IGNORE;
	bool has_last = digits(&p, end, &b);
	if (skip_ows(p, end) != end || (has_last && b < a))
		return RG__RANGE_IGNORE;
	if (a >= size)
		return RG__RANGE_UNSATISFIABLE;
	uint64_t last = !has_last || b >= size ? size - 1 : b;
	*first = a;
	*len = last - a + 1;
	return RG__RANGE_OK;
}

/* ------------------------------------------------------------------------
 * Entity tags
 * ------------------------------------------------------------------------ */

/* One entity-tag at *p: its opaque part (quotes included) and weakness.
 * etagc is %x21 / %x23-7E / obs-text: anything but '"', controls, DEL. */
static bool etag_next(const char **p, const char *end, struct rg_str *opaque,
		      bool *weak)
{
	const char *s = *p;
	*weak = false;
	if (end - s >= 2 && s[0] == 'W' && s[1] == '/') {
		*weak = true;
		s += 2;
	}
	if (s == end || *s != '"')
		return false;
	const char *q = s + 1;
	while (q < end && *q != '"') {
		unsigned char c = (unsigned char)*q;
		if (c < 0x21 || c == 0x7f)
			return false;
		q++;
	}
	if (q == end)
		return false;
	*opaque = (struct rg_str){s, (size_t)(q + 1 - s)};
	*p = q + 1;
	return true;
}

static bool same(struct rg_str a, struct rg_str b)
{
	return a.len == b.len && !memcmp(a.ptr, b.ptr, a.len);
}

bool rg__etag_match_weak(struct rg_str list, struct rg_str etag)
{
	const char *e = etag.ptr, *eend = e + etag.len;
	struct rg_str mine;
	bool weak;
	if (!etag_next(&e, eend, &mine, &weak))
		return false;
	const char *p = list.ptr, *end = p + list.len;
	p = skip_ows(p, end);
	if (p < end && *p == '*')
		return skip_ows(p + 1, end) == end;
	bool found = false;
	for (;;) {
		while (p < end && (*p == ',' || is_ows(*p)))
			p++;
		if (p == end)
			return found;
		struct rg_str tag;
		if (!etag_next(&p, end, &tag, &weak))
			return false; /* malformed: matches nothing */
		if (same(tag, mine))
			found = true;
		p = skip_ows(p, end);
		if (p < end && *p != ',')
			return false;
	}
}

bool rg__etag_match_strong(struct rg_str tag, struct rg_str etag)
{
	const char *p = tag.ptr, *end = p + tag.len;
	struct rg_str theirs, mine;
	bool weak_theirs, weak_mine;
	p = skip_ows(p, end);
	if (!etag_next(&p, end, &theirs, &weak_theirs) ||
	    skip_ows(p, end) != end || weak_theirs)
		return false;
	const char *e = etag.ptr;
	if (!etag_next(&e, e + etag.len, &mine, &weak_mine) || weak_mine)
		return false;
	return same(theirs, mine);
}

/* ------------------------------------------------------------------------
 * Accept-Encoding
 * ------------------------------------------------------------------------ */

/* A qvalue: "0", "0.5", "1", "1.000" (at most three decimals; a 1 has only
 * zeros): thousandths, or -1. */
static int qvalue(const char *p, const char *end)
{
	if (p == end || (*p != '0' && *p != '1'))
		return -1;
	int v = (*p - '0') * 1000;
	p++;
	if (p == end)
		return v;
	if (*p++ != '.')
		return -1;
	int scale = 100;
	for (int i = 0; p < end; i++, p++) {
		if (i == 3 || !is_digit(*p))
			return -1;
		v += (*p - '0') * scale;
		scale /= 10;
	}
	return v > 1000 ? -1 : v;
}

static bool token_is(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && !strncasecmp(p, name, n);
}

void rg__accept_encoding(const struct rg_str *value, struct rg__codings *out)
{
	int br = -1, gzip = -1, star = -1;
	const char *p = value ? value->ptr : NULL;
	const char *end = value ? p + value->len : NULL;
	while (p && p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		p = skip_ows(p, stop);
		const char *name = p;
		while (p < stop && *p != ';' && !is_ows(*p))
			p++;
		size_t nlen = (size_t)(p - name);
		int q = 1000;
		/* Parameters: only q counts. */
		while ((p = skip_ows(p, stop)) < stop) {
			if (*p != ';') {
				q = 0; /* malformed */
				break;
			}
			p = skip_ows(p + 1, stop);
			const char *pv = p;
			while (p < stop && *p != ';' && !is_ows(*p))
				p++;
			if (p - pv >= 2 && (pv[0] | 0x20) == 'q' &&
			    pv[1] == '=') {
				int v = qvalue(pv + 2, p);
				q = v < 0 ? 0 : v;
			}
		}
		if (nlen) {
			if (token_is(name, nlen, "br"))
				br = q;
			else if (token_is(name, nlen, "gzip") ||
				 token_is(name, nlen, "x-gzip"))
				gzip = q;
			else if (token_is(name, nlen, "*"))
				star = q;
		}
		p = comma ? comma + 1 : end;
	}
	out->br = (uint16_t)(br >= 0 ? br : star >= 0 ? star : 0);
	out->gzip = (uint16_t)(gzip >= 0 ? gzip : star >= 0 ? star : 0);
}
