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
 * HTTP-date
 * ------------------------------------------------------------------------ */

static int month_of(const char *p)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	for (int m = 0; m < 12; m++)
		if (!memcmp(p, names + 3 * m, 3))
			return m;
	return -1;
}

/* n decimal digits at p, or -1. A leading space stands for 0 when
 * `space` (asctime's day). */
static int num(const char *p, int n, bool space)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (space && i == 0 && p[i] == ' ' && n > 1)
			continue;
		if (!is_digit(p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; m 1-12). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool is_alpha(char c)
{
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'z';
}

/* "hh:mm:ss" at p. */
static bool clock_of(const char *p, int *h, int *mi, int *s)
{
	*h = num(p, 2, false);
	*mi = num(p + 3, 2, false);
	*s = num(p + 6, 2, false);
	return p[2] == ':' && p[5] == ':' && *h >= 0 && *h <= 23 && *mi >= 0 &&
	       *mi <= 59 && *s >= 0 && *s <= 60;
}

int rg__http_date_parse(struct rg_str str, int64_t *t)
{
	const char *p = str.ptr;
	size_t n = str.len;
	int y, mo, d, h, mi, s;
	if (n == 29 && p[3] == ',') {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		if (!is_alpha(p[0]) || p[4] != ' ' || p[7] != ' ' ||
		    p[11] != ' ' || p[16] != ' ' || memcmp(p + 25, " GMT", 4))
			return -EINVAL;
		d = num(p + 5, 2, false);
		mo = month_of(p + 8);
		y = num(p + 12, 4, false);
		if (!clock_of(p + 17, &h, &mi, &s))
			return -EINVAL;
	} else if (n == 24 && p[3] == ' ') {
		/* asctime: "Sun Nov  6 08:49:37 1994" */
		if (!is_alpha(p[0]) || p[7] != ' ' || p[10] != ' ' ||
		    p[19] != ' ')
			return -EINVAL;
		mo = month_of(p + 4);
		d = num(p + 8, 2, true);
		y = num(p + 20, 4, false);
		if (!clock_of(p + 11, &h, &mi, &s))
			return -EINVAL;
	} else {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
		const char *comma = memchr(p, ',', n);
		if (!comma || comma == p)
			return -EINVAL;
		for (const char *q = p; q < comma; q++)
			if (!is_alpha(*q))
				return -EINVAL;
		const char *r = comma + 1;
		if ((size_t)(p + n - r) != 23 || r[0] != ' ' || r[3] != '-' ||
		    r[7] != '-' || r[10] != ' ' || memcmp(r + 19, " GMT", 4))
			return -EINVAL;
		d = num(r + 1, 2, false);
		mo = month_of(r + 4);
		y = num(r + 8, 2, false);
		if (!clock_of(r + 11, &h, &mi, &s))
			return -EINVAL;
		/* Two digits: RFC 9110 wants the year not more than 50 years
		 * ahead; 70-99 as 19xx, the rest as 20xx does that until
		 * 2049. */
		if (y >= 0)
			y += y >= 70 ? 1900 : 2000;
	}
	if (d < 1 || d > 31 || mo < 0 || y < 0)
		return -EINVAL;
	*t = days_from_civil(y, mo + 1, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
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
