/* fuzz_date.c: libFuzzer target for the HTTP-date parser,
 * rg__http_date_parse (static/cond.c), against the Date formatter,
 * rg__date_format (http/date.c).
 *
 * Input: the field value (If-Modified-Since, If-Unmodified-Since, If-Range),
 * in an exactly-sized buffer.
 *
 * Checked: the result is 0 or -EINVAL; an accepted date is one of the
 * three forms of RFC 9110 5.6.7 by its length (IMF-fixdate 29 bytes,
 * asctime 24, RFC 850 a weekday name and 24 more) and its second lies in
 * years 0000-9999 (1970-2069 for RFC 850's two-digit years, which
 * cond.c reads 70-99 as 19xx), with a month name, a day 1-31 and a time
 * up to 23:59:60 (a leap second); formatted back as an IMF-fixdate (where
 * the formatter does not clamp), it parses to the same second; when the
 * input names a real calendar date (no 31 November, second at most 59),
 * that IMF-fixdate shows the same day, month, year and time as the input
 * (all but the weekday name, which the parser does not check); and the
 * same second written as asctime and as RFC 850 (years 1970-2069) parses
 * to it too. Any difference calls abort(). */
#include "http/response.h"
#include "static/static.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_date"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0000-01-01T00:00:00Z, 9999-12-31T23:59:59Z, 1970 and 2070 starts. */
#define YEAR_0 ((int64_t)-62167219200)
#define YEAR_10000 ((int64_t)253402300800)
#define YEAR_2070 ((int64_t)3155760000)

static int parse(const char *s, size_t n, int64_t *t)
{
	char *copy = dup_exact(s, n);
	*t = INT64_MIN;
	int r = rg__http_date_parse((struct rg_str){copy, n}, t);
	free(copy);
	CHECK(r == 0 || r == -EINVAL);
	if (r == 0)
		CHECK(*t != INT64_MIN);
	return r;
}

static void fail_date(const char *what, const char *s, size_t n, int64_t t)
{
	fprintf(stderr, "fuzz_date: %s: \"%.*s\" (%" PRId64 ")\n", what,
		(int)(n > 100 ? 100 : n), s, t);
	abort();
}

static int two(const char *p)
{
	int hi = p[0] == ' ' ? 0 : p[0] - '0';
	return hi * 10 + (p[1] - '0');
}

static int month_days(int year, const char *mon)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	static const int days[] = {31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31};
	for (int m = 0; m < 12; m++)
		if (!memcmp(mon, names + 3 * m, 3)) {
			bool leap = (year % 4 == 0 && year % 100 != 0) ||
				    year % 400 == 0;
			return days[m] + (m == 1 && leap);
		}
	return 0;
}

/* The fields of an accepted date, by its form, as an IMF-fixdate without
 * its weekday ("06 Nov 1994 08:49:37 GMT", 24 bytes and a NUL), and
 * whether they name a real calendar date and time. */
static bool fields(const char *s, size_t n, char out[25])
{
	const char *mon, *clock;
	int day, year;
	if (n == 29 && s[3] == ',') {
		day = two(s + 5);
		mon = s + 8;
		year = two(s + 12) * 100 + two(s + 14);
		clock = s + 17;
	} else if (n == 24 && s[3] == ' ') {
		mon = s + 4;
		day = two(s + 8);
		clock = s + 11;
		year = two(s + 20) * 100 + two(s + 22);
	} else {
		const char *r = s + n - 23; /* after the weekday's ',' */
		day = two(r + 1);
		mon = r + 4;
		year = two(r + 8);
		year += year >= 70 ? 1900 : 2000;
		clock = r + 11;
	}
	snprintf(out, 25, "%02d %.3s %04d %.8s GMT", day, mon, year, clock);
	/* What an accepted date may hold: a month name, a day 1-31, a time
	 * up to 23:59:60 (a leap second). */
	int dim = month_days(year, mon);
	CHECK(dim > 0 && day >= 1 && day <= 31);
	CHECK(clock[2] == ':' && clock[5] == ':');
	CHECK(two(clock) <= 23 && two(clock + 3) <= 59 && two(clock + 6) <= 60);
	return day <= dim && two(clock + 6) <= 59;
}

/* The same second as asctime and RFC 850, from its IMF-fixdate f. */
static void other_forms(const char *f, int64_t t)
{
	static const char *const long_days[] = {
	    "Monday", "Tuesday",  "Wednesday", "Thursday",
	    "Friday", "Saturday", "Sunday"};
	static const char short_days[] = "MonTueWedThuFriSatSun";
	char a[40];
	/* "Sun Nov  6 08:49:37 1994" */
	int k = snprintf(a, sizeof(a), "%.3s %.3s %2d %.8s %.4s", f, f + 8,
			 two(f + 5), f + 17, f + 12);
	int64_t u;
	if (parse(a, (size_t)k, &u) || u != t)
		fail_date("asctime form", a, (size_t)k, u);
	int year = two(f + 12) * 100 + two(f + 14);
	if (year < 1970 || year > 2069)
		return;
	const char *wd = NULL;
	for (int i = 0; i < 7; i++)
		if (!memcmp(f, short_days + 3 * i, 3))
			wd = long_days[i];
	CHECK(wd != NULL);
	/* "Sunday, 06-Nov-94 08:49:37 GMT" */
	k = snprintf(a, sizeof(a), "%s, %.2s-%.3s-%.2s %.8s GMT", wd, f + 5,
		     f + 8, f + 14, f + 17);
	if (parse(a, (size_t)k, &u) || u != t)
		fail_date("RFC 850 form", a, (size_t)k, u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	int64_t t;
	if (parse(s, size, &t))
		return 0;
	bool imf = size == 29 && s[3] == ',';
	bool asc = size == 24 && s[3] == ' ';
	if (!imf && !asc) {
		/* RFC 850: a weekday of letters, ',', 23 more bytes. */
		CHECK(size > 24 && s[size - 24] == ',');
		if (t < 0 || t > YEAR_2070)
			fail_date("RFC 850 out of 1970-2069", s, size, t);
	}
	if (t < YEAR_0 || t > YEAR_10000)
		fail_date("out of years 0000-9999", s, size, t);
	if (t >= YEAR_10000)
		return 0; /* 9999-12-31 23:59:60: past what the format shows */

	char f[RG__DATE_LEN + 1];
	rg__date_format(f, (time_t)t);
	CHECK(f[RG__DATE_LEN] == '\0' && strlen(f) == RG__DATE_LEN);
	int64_t back;
	if (parse(f, RG__DATE_LEN, &back) || back != t)
		fail_date("formatted back", f, RG__DATE_LEN, back);
	char want[25];
	if (fields(s, size, want) && memcmp(f + 5, want, 24)) {
		fprintf(stderr, "fuzz_date: \"%.*s\" formats as \"%s\"\n",
			(int)size, s, f);
		abort();
	}
	other_forms(f, t);
	return 0;
}
