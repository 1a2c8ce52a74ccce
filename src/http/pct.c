/* pct.c: percent-decoding (pct.h). */
#include "http/pct.h"

#include <errno.h>
#include <stdbool.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long rg__pct_decode(const char *s, size_t n, char *out, enum rg__pct how)
{
	bool strict = how == RG__PCT_STRICT;
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int hi, lo;
		if (ch == '%' && n - i >= 3 && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			ch = (char)(hi << 4 | lo);
			i += 2;
		} else if (ch == '%' && strict) {
			return -EINVAL;
		} else if (ch == '+' && !strict) {
			ch = ' ';
		}
		if (ch == '\0' && strict)
			return -EINVAL;
		out[j++] = ch;
	}
	out[j] = '\0';
	return (long)j;
}
