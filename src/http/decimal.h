/* decimal.h: unsigned numbers in decimal, two digits per division (one
 * table load for a status code or a short Content-Length), for the
 * response writer, the Date cache and the access log (and, as
 * rg_format_u64, for programs). */
#ifndef RG_HTTP_DECIMAL_H
#define RG_HTTP_DECIMAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RG__U64_DEC_MAX 20 /* "18446744073709551615" */

/* "00" "01" ... "99" (decimal.c). */
extern const char rg__digit_pairs[201];

/* Writes v % 100 as two digits at p ("07"). */
static inline void rg__dec2(char *p, unsigned v)
{
	memcpy(p, rg__digit_pairs + 2 * (v % 100), 2);
}

/* Writes `v` so that it ends at `end`; returns its first byte. */
static inline char *rg__u64_dec(char *end, uint64_t v)
{
	char *p = end;
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		p -= 2;
		memcpy(p, rg__digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, rg__digit_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

/* Writes `v` at p (at most RG__U64_DEC_MAX bytes); returns the end. */
static inline char *rg__u64_put(char *p, uint64_t v)
{
	size_t n = 1;
	for (uint64_t ten = 10; n < RG__U64_DEC_MAX && v >= ten; ten *= 10)
		n++;
	rg__u64_dec(p + n, v);
	return p + n;
}

#endif
