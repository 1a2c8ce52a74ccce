/* date.c: HTTP-dates (RFC 9110 5.6.7): the per-worker Date header cache,
 * the IMF-fixdate formatter, and the parser of all three forms. */
#include "http/response.h"

#include "http/decimal.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what four digits can show. */
#define DATE_MIN ((int64_t)-62167219200)
#define DATE_MAX ((int64_t)253402300799)

void rg__date_format(char out[RG__DATE_LEN + 1], time_t t)
{
	static const char wdays[] = "ThuFriSatSunMonTueWed";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int64_t s = t < DATE_MIN ? DATE_MIN : t > DATE_MAX ? DATE_MAX : t;
	int64_t days = s / 86400, rem = s % 86400;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	/* days since 1970-01-01 (a Thursday) to a proleptic Gregorian date:
	 * H. Hinnant, "chrono-Compatible Low-Level Date Algorithms",
	 * civil_from_days, with eras of 400 years = 146097 days that start on
	 * March 1st so the leap day ends each year. */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned mday = doy - (153 * mp + 2) / 5 + 1;
	unsigned mon = mp < 10 ? mp + 2 : mp - 10; /* 0 = January */
	unsigned year = (unsigned)(yoe + era * 400 + (mon < 2));
	unsigned wday = (unsigned)(((days % 7) + 7) % 7); /* 0 = Thursday */
	unsigned sec = (unsigned)rem;

	memcpy(out, wdays + 3 * wday, 3);
	memcpy(out + 3, ", ", 2);
	rg__dec2(out + 5, mday);
	out[7] = ' ';
	memcpy(out + 8, months + 3 * mon, 3);
	out[11] = ' ';
	rg__dec2(out + 12, year / 100);
	rg__dec2(out + 14, year % 100);
	out[16] = ' ';
	rg__dec2(out + 17, sec / 3600);
	out[19] = ':';
	rg__dec2(out + 20, sec / 60 % 60);
	out[22] = ':';
	rg__dec2(out + 23, sec % 60);
	memcpy(out + 25, " GMT", 5);
}

const char *rg__date_get(struct rg__date_cache *c, time_t now)
{
	if (now != c->second || !c->text[0]) {
		rg__date_format(c->text, now);
		c->second = now;
	}
	return c->text;
}

/* ------------------------------------------------------------------------
 * HTTP-date
 * ------------------------------------------------------------------------ */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

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
