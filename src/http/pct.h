/* pct.h: percent-decoding (RFC 3986 2.1), the one decoder of the library:
 * strict for a path the static file server opens, lenient with '+' as a
 * space for form-encoded query strings (rg_query_param). */
#ifndef RG_HTTP_PCT_H
#define RG_HTTP_PCT_H

#include <stddef.h>

enum rg__pct {
	/* A malformed escape or a NUL, escaped or not: -EINVAL. */
	RG__PCT_STRICT,
	/* application/x-www-form-urlencoded: '+' is a space, a malformed
	 * escape stays as it is. Never fails. */
	RG__PCT_FORM,
};

/* Decodes s[0, n) into out (n + 1 bytes: the result is NUL-terminated and
 * never longer than the input). Returns its length, or -EINVAL. */
long rg__pct_decode(const char *s, size_t n, char *out, enum rg__pct how);

#endif
