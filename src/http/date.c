/* date.c: the per-worker Date header cache and its IMF-fixdate formatter. */
#include "http/response.h"

#include "http/decimal.h"

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
