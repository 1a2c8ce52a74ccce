/* access_log_line.c: one access log line in nginx's "combined" format,
 *   $remote_addr - - [$time_local] "$request" $status $body_bytes_sent
 *   "$http_referer" "$http_user_agent"
 * with its escaping, time and address fields: pure functions, no state. */
#include "core/access_log.h"
#include "http/decimal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* Written as \xHH inside a quoted field: what could end the field ('"'),
 * start an escape ('\\'), end or fake a line (controls), or be read as
 * another encoding (DEL and non-ASCII). nginx escapes the same set. */
static bool needs_escape(unsigned char ch)
{
	return ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\';
}

size_t rg__alog_escape(char *out, size_t max, const char *s, size_t n,
		       bool *cut)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0, i = 0;
	*cut = false;
	while (i < n) {
		/* A run of bytes that need nothing, copied at once. */
		size_t j = i;
		while (j < n && !needs_escape((unsigned char)s[j]))
			j++;
		size_t run = j - i;
		if (run > max - o) {
			memcpy(out + o, s + i, max - o);
			*cut = true;
			return max;
		}
		memcpy(out + o, s + i, run);
		o += run;
		if (j == n)
			break;
		if (max - o < 4) {
			*cut = true;
			return o;
		}
		unsigned char ch = (unsigned char)s[j];
		out[o] = '\\';
		out[o + 1] = 'x';
		out[o + 2] = hex[ch >> 4];
		out[o + 3] = hex[ch & 15];
		o += 4;
		i = j + 1;
	}
	return o;
}

void rg__alog_format_time(char out[RG__ALOG_TIME_LEN + 1], const struct tm *tm)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	long year = (long)tm->tm_year + 1900;
	year = year < 0 ? 0 : year > 9999 ? 9999 : year;
	unsigned mon =
	    tm->tm_mon >= 0 && tm->tm_mon < 12 ? (unsigned)tm->tm_mon : 0;
	long off = tm->tm_gmtoff / 60; /* minutes east of UTC */
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	/* "01/Dec/2026:03:10:00 +0000" */
	rg__dec2(out, (unsigned)tm->tm_mday);
	out[2] = '/';
	memcpy(out + 3, months + 3 * mon, 3);
	out[6] = '/';
	rg__dec2(out + 7, (unsigned)(year / 100));
	rg__dec2(out + 9, (unsigned)(year % 100));
	out[11] = ':';
	rg__dec2(out + 12, (unsigned)tm->tm_hour);
	out[14] = ':';
	rg__dec2(out + 15, (unsigned)tm->tm_min);
	out[17] = ':';
	rg__dec2(out + 18, (unsigned)tm->tm_sec);
	out[20] = ' ';
	out[21] = sign;
	rg__dec2(out + 22, (unsigned)(off / 60 % 100));
	rg__dec2(out + 24, (unsigned)(off % 60));
	out[26] = '\0';
}

size_t rg__alog_format_addr(char out[RG__ALOG_ADDR_LEN + 1], int af,
			    const uint8_t *addr)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0,    0,
					     0, 0, 0, 0, 0xff, 0xff};
	if (af == AF_INET6 && !memcmp(addr, v4mapped, sizeof(v4mapped))) {
		af = AF_INET;
		addr += 12;
	}
	if (af == AF_INET) {
		char *p = out;
		for (int i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = rg__u64_put(p, addr[i]);
		}
		*p = '\0';
		return (size_t)(p - out);
	}
	if (af == AF_INET6 &&
	    inet_ntop(AF_INET6, addr, out, RG__ALOG_ADDR_LEN + 1))
		return strlen(out);
	const char *s = af == AF_UNIX ? "unix:" : "-";
	size_t n = strlen(s);
	memcpy(out, s, n + 1);
	return n;
}

/* ------------------------------------------------------------------------
 * The line
 * ------------------------------------------------------------------------ */

struct line {
	char *p, *end;
	bool full; /* something did not fit: the line is abandoned */
};

static void put(struct line *l, const char *s, size_t n)
{
	if ((size_t)(l->end - l->p) < n) {
		l->full = true;
		return;
	}
	memcpy(l->p, s, n);
	l->p += n;
}

#define PUT_LIT(l, s) put(l, s, sizeof(s) - 1)

/* Appends s[0, n) escaped, spending at most *budget bytes (decreased by
 * what it writes). false when the field was cut (by its budget, or by the
 * end of the buffer, which also marks the line full). */
static bool put_escaped(struct line *l, const char *s, size_t n, size_t *budget)
{
	size_t room = (size_t)(l->end - l->p);
	size_t max = *budget < room ? *budget : room;
	bool cut;
	size_t k = rg__alog_escape(l->p, max, s, n, &cut);
	l->p += k;
	if (cut && max == room && room < *budget)
		l->full = true;
	*budget -= k;
	return !cut;
}

/* A header field's value in quotes, or "-" when absent. */
static void put_field(struct line *l, const struct rg_str *v)
{
	if (!v) {
		PUT_LIT(l, "\"-\"");
		return;
	}
	size_t budget = RG__ALOG_FIELD_MAX;
	PUT_LIT(l, "\"");
	if (!put_escaped(l, v->ptr, v->len, &budget))
		PUT_LIT(l, "...");
	PUT_LIT(l, "\"");
}

size_t rg__alog_format(char *out, size_t cap, const struct rg__alog_entry *e)
{
	struct line l = {out, out + cap, false};
	char num[24];

	put(&l, e->addr.ptr, e->addr.len);
	PUT_LIT(&l, " - - [");
	put(&l, e->time, RG__ALOG_TIME_LEN);
	PUT_LIT(&l, "] \"");
	size_t budget = e->method.ptr ? RG__ALOG_REQUEST_MAX : RG__ALOG_RAW_MAX;
	bool whole;
	if (e->method.ptr) {
		char version[] = " HTTP/1.x";
		version[8] = (char)('0' + e->version_minor % 10);
		whole =
		    put_escaped(&l, e->method.ptr, e->method.len, &budget) &&
		    put_escaped(&l, " ", 1, &budget) &&
		    put_escaped(&l, e->target.ptr, e->target.len, &budget) &&
		    put_escaped(&l, version, sizeof(version) - 1, &budget);
	} else {
		whole = put_escaped(&l, e->target.ptr, e->target.len, &budget);
	}
	if (!whole)
		PUT_LIT(&l, "...");
	PUT_LIT(&l, "\" ");
	put(&l, num, (size_t)(rg__u64_put(num, e->status) - num));
	PUT_LIT(&l, " ");
	put(&l, num, (size_t)(rg__u64_put(num, e->bytes) - num));
	PUT_LIT(&l, " ");
	put_field(&l, e->referer);
	PUT_LIT(&l, " ");
	put_field(&l, e->user_agent);
	PUT_LIT(&l, "\n");
	return l.full ? 0 : (size_t)(l.p - out);
}
