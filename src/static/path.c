/* path.c: a request path's percent-decoding for the static file server
 * (RFC 3986 2.1), strict: a malformed escape or a NUL is refused. */
#include "static/static.h"

#include <errno.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

long rg__path_decode(const char *s, size_t n, char *out)
{
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '%') {
			int hi, lo;
			if (n - i < 3)
				return -EINVAL;
			if ((hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return -EINVAL;
			ch = (char)(hi << 4 | lo);
			i += 2;
		}
		if (ch == '\0')
			return -EINVAL;
		out[j++] = ch;
	}
	out[j] = '\0';
	return (long)j;
}
