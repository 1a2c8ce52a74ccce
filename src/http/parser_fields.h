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

/* What field `id` (<= RG__H_EXPECT; Host and Content-Length have their
 * own, rg__host_field and rg__content_length, below) with value v[0, n)
 * says, as it is parsed: 0 or -error. Checks across fields wait for
 * rg__head_done. */
int rg__field_meaning(struct rg__parser *p, struct rg__request *req, int id,
		      const char *v, size_t n);

/* Framing, Host and persistence once the head is complete: 0 or -error. */
int rg__head_done_any(struct rg__parser *p, struct rg__request *req);

/* A Content-Length body, within the body limit: 0 or -error. */
static inline int rg__length_body(struct rg__parser *p,
				  struct rg__request *req)
{
	uint64_t max = p->limits->max_body;
	if (max && req->content_length > max)
		return -RG__E_BODY_TOO_LARGE;
	req->body = RG__BODY_LENGTH;
	return 0;
}

/* rg__head_done_any, the usual HTTP/1.1 head (one Host, no
 * Transfer-Encoding, no "close") decided inline. */
static inline int rg__head_done(struct rg__parser *p, struct rg__request *req)
{
	if (req->version_minor == 1 && p->hosts && !p->te &&
	    !(p->conn & CONN_CLOSE)) {
		int err = p->has_length ? rg__length_body(p, req) : 0;
		req->keep_alive = !err;
		return err;
	}
	return rg__head_done_any(p, req);
}

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

/* rg__authority_ok(v, n, need_host, false) for a Host value, the usual
 * one (a reg-name, then perhaps ':' and at most five digits) with one SIMD
 * lookup: 100 instructions fewer than the byte loop for "localhost:8080".
 * Bytes [lo, end) may be read; anything else (an IP-literal, a
 * pct-encoding, an error) goes to the byte loop. */
static inline bool host_ok(const char *v, size_t n, bool need_host,
			   const char *lo, const char *end)
{
#if defined(__x86_64__)
	if (n <= 16 && rg__simd_level != RG__SIMD_SCALAR) {
		/* The 16 bytes from v if they are there, else those ending
		 * at v + n (if the buffer starts early enough). */
		const char *q = NULL;
		if (end - v >= 16)
			q = v;
		else if ((size_t)(v - lo) + n >= 16)
			q = v + n - 16;
		if (q) {
			struct rg__host_masks m = rg__host_masks16(q);
			unsigned k = (unsigned)(v - q);
			unsigned i =
			    (unsigned)__builtin_ctz((m.stop >> k) | 1u << n);
			if (i == n) /* a reg-name alone */
				return n || !need_host;
			/* then ':' and a port: at most 5 digits, 65535 */
			unsigned digits = (unsigned)n - i - 1;
			if (v[i] == ':' && (i || !need_host) && digits <= 5 &&
			    !((m.nondigit >> (k + i + 1)) &
			      ((1u << digits) - 1)) &&
			    (digits < 5 || memcmp(v + i + 1, "65535", 5) <= 0))
				return true;
		}
	}
#else
	(void)lo;
	(void)end;
#endif
	return rg__authority_ok(v, n, need_host, false);
}

/* rg__field_meaning for Host, which every HTTP/1.1 head has: inline, it
 * saves a call and the registers the other fields' checks need (3% of a
 * curl GET's parse). */
static inline int rg__host_field(struct rg__parser *p, struct rg__request *req,
				 const char *v, size_t n, const char *lo,
				 const char *end)
{
	/* RFC 9112 3.2: one Host, with a valid value. Empty only where the
	 * target has the authority (absolute- and authority-form, which
	 * replace it): an http URI with an empty host is invalid (RFC 9110
	 * 4.2.1). */
	if (++p->hosts > 1)
		return -RG__E_HOST_DUPLICATE;
	if (!host_ok(v, n, !req->authority.ptr, lo, end))
		return n ? -RG__E_HOST_INVALID : -RG__E_HOST_EMPTY;
	if (!req->authority.ptr)
		req->authority = (struct rg_str){v, n};
	return 0;
}

/* Content-Length = 1*DIGIT, at most 19 digits (below 2^64, so no overflow
 * check is needed); a list, a sign, a space inside: invalid. Inline, as
 * Host: most bodies come with one (4% of a form POST's parse). */
static inline int rg__content_length(struct rg__parser *p,
				     struct rg__request *req, const char *v,
				     size_t n)
{
	if (n == 0 || n > 19)
		return -RG__E_CONTENT_LENGTH;
	uint64_t len = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)v[i] - '0';
		if (d > 9)
			return -RG__E_CONTENT_LENGTH;
		len = len * 10 + d;
	}
	if (p->has_length && len != req->content_length)
		return -RG__E_CONTENT_LENGTH;
	p->has_length = true;
	req->content_length = len;
	return 0;
}

#endif /* RG_HTTP_PARSER_FIELDS_H */
