/* parser_fields.h: what parser.c and parser_fields.c share: the flags a
 * head's well-known fields leave in struct rg__parser, the checks of their
 * meaning, and small byte helpers. Internal to src/http. */
#ifndef RG_HTTP_PARSER_FIELDS_H
#define RG_HTTP_PARSER_FIELDS_H

#include "parser.h"
#include "scan.h"

#include <string.h>

enum {
	TE_SEEN = 1,	     /* a Transfer-Encoding field */
	TE_CHUNKED = 2,	     /* chunked seen */
	TE_CHUNKED_LAST = 4, /* the last coding so far is chunked */
	TE_BAD = 8,	     /* chunked twice, or a malformed list */
	TE_UNKNOWN = 16,     /* a coding other than chunked */
};

enum { CONN_CLOSE = 1, CONN_KEEP_ALIVE = 2 };

/* uri-host [":" port] (RFC 3986 3.2.2, 3.2.3); see parser_fields.c. */
bool rg__authority_ok(const char *s, size_t n, bool need_host, bool need_port);

/* What field `id` (<= RG__H_EXPECT) with value v[0, n) says, as it is
 * parsed: 0 or -error. Checks across fields wait for rg__head_done. */
int rg__field_meaning(struct rg__parser *p, struct rg__request *req, int id,
		      const char *v, size_t n);

/* Framing, Host and persistence once the head is complete: 0 or -error. */
int rg__head_done(struct rg__parser *p, struct rg__request *req);

static inline uint32_t load32(const char *s)
{
	uint32_t v;
	memcpy(&v, s, 4);
	return v;
}

static inline uint64_t load64(const char *s)
{
	uint64_t v;
	memcpy(&v, s, 8);
	return v;
}

/* `s` equals the lowercase `lit`, both `n` >= 4 bytes, ignoring case. Only
 * for field names and values (no CTL but HTAB): or-ing 0x20 maps no such
 * byte but an uppercase letter onto a letter, and none onto '-' or a digit
 * but itself. */
static inline bool token_ieq(const char *s, const char *lit, size_t n)
{
	if (n < 8)
		return (load32(s) | 0x20202020u) == load32(lit) &&
		       (load32(s + n - 4) | 0x20202020u) == load32(lit + n - 4);
	const uint64_t m = 0x2020202020202020u;
	for (size_t i = 0; i + 8 < n; i += 8)
		if ((load64(s + i) | m) != load64(lit + i))
			return false;
	return (load64(s + n - 8) | m) == load64(lit + n - 8);
}

static inline unsigned char lower(unsigned char c)
{
	return (unsigned)(c - 'A') < 26u ? (unsigned char)(c + 32) : c;
}

static inline bool ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

static inline const char *skip_ows(const char *s, const char *end)
{
	while (s < end && rg__is((unsigned char)*s, RG__C_OWS))
		s++;
	return s;
}

#endif /* RG_HTTP_PARSER_FIELDS_H */
