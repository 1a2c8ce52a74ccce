/* response.h: the HTTP/1.1 response writer (RFC 9110, RFC 9112 sections 4,
 * 6, 7.1, 9) and the per-worker Date cache.
 *
 * The writer formats responses straight into a caller-owned output buffer
 * and never allocates. Each call is all or nothing: it either appends its
 * whole output or returns -ENOSPC with the buffer untouched, so the caller
 * can move to a larger buffer and call again. Several responses (pipelined
 * requests) may be appended to one buffer and sent together. */
#ifndef RG_HTTP_RESPONSE_H
#define RG_HTTP_RESPONSE_H

#include "ringlet.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* A connection's output buffer: `data[0, len)` is pending output, `cap` the
 * bytes usable at `data`. The memory belongs to the caller (a slab buffer);
 * the writer only appends within `cap`. */
struct rg__wbuf {
	char *data;
	size_t len, cap;
};

/* How the body of a response is delimited. */
enum rg__framing {
	/* `content_length` bytes follow: Content-Length. */
	RG__FRAMING_LENGTH,
	/* Streamed, length unknown: Transfer-Encoding: chunked on HTTP/1.1;
	 * on HTTP/1.0 no header, and the body ends when the connection
	 * closes (keep-alive is turned off). */
	RG__FRAMING_CHUNKED,
	/* No framing header. For a status that has no content (1xx, 204, 304)
	 * or a HEAD request nothing more is implied; otherwise whatever
	 * follows ends at close, so keep-alive is turned off. */
	RG__FRAMING_NONE,
};

/* Everything the writer needs to know about one response. Statuses 1xx,
 * 204 and 304 never get Content-Length, Transfer-Encoding, Content-Type or
 * a body, whatever `framing` says. */
struct rg__response_head {
	int status;	       /* 100-599 */
	uint8_t version_minor; /* of the request: 0 or 1 */
	bool keep_alive;       /* what the request allows (rg__request) */
	bool is_head;	       /* HEAD: framing headers as for GET, no body */
	enum rg__framing framing;
	uint64_t content_length;	 /* with RG__FRAMING_LENGTH */
	struct rg_str content_type;	 /* written when len > 0 */
	const struct rg_header *headers; /* written verbatim, in order, after
					    the writer's own; not validated */
	size_t nheaders;
	const char *date; /* RG__DATE_LEN bytes (rg__date_get), NULL = none */
	struct rg_str reason; /* len > 0: the status line's phrase instead of
				 the standard one; not validated */
};

/* Bits of a successful rg__response_head/_simple result: what the caller
 * does after the head. The body mode is `result & RG__RESP_BODY_MASK`. */
enum {
	RG__RESP_NO_BODY = 0,	   /* nothing follows the head */
	RG__RESP_RAW_BODY = 1,	   /* body bytes follow as they are:
				      content_length of them, or until close */
	RG__RESP_CHUNKED_BODY = 2, /* body goes through rg__chunk_write and
				      ends with rg__chunk_end */
	RG__RESP_BODY_MASK = 3,
	RG__RESP_CLOSE = 4, /* close the connection after this response;
			       never set for 1xx, which are interim */
};

/* Bytes rg__response_head would append for `h` (to size a retry after
 * -ENOSPC); SIZE_MAX for a bad status or if the sum overflows. */
size_t rg__response_head_size(const struct rg__response_head *h);

/* Appends the status line ("HTTP/1.1", the server's own version, RFC 9110
 * 6.2) and header section for `h`: Server, Date, Content-Type,
 * Content-Length or Transfer-Encoding, Connection when it differs from the
 * version's default (RFC 9112 9.3), then `h->headers`.
 * Returns RG__RESP_* bits (>= 0), or -ENOSPC with b->len unchanged, or
 * -EINVAL for a status outside 100-599. */
int rg__response_head(struct rg__wbuf *b, const struct rg__response_head *h);

/* A complete response whose body is body[0, n): the head as above with
 * Content-Length: n (`h->framing` and `h->content_length` are ignored), then
 * the body, which is left out for HEAD and for 1xx, 204 and 304. Returns
 * RG__RESP_CLOSE or 0, or -ENOSPC / -EINVAL as rg__response_head. */
int rg__response_simple(struct rg__wbuf *b, const struct rg__response_head *h,
			const void *body, size_t n);

/* The server's own rejection: status `status` (400-599) with a text/plain
 * body "<status> <reason>: <detail>\n" (or "<status> <reason>\n" when
 * `detail` is NULL) and Connection: close. `date` as in rg__response_head.
 * Returns 0, or -ENOSPC / -EINVAL as rg__response_head. */
int rg__response_error(struct rg__wbuf *b, int status, const char *detail,
		       const char *date);

/* Appends the interim "HTTP/1.1 100 Continue\r\n\r\n" (RFC 9110 10.1.1).
 * Returns 0 or -ENOSPC with b->len unchanged. */
int rg__response_continue(struct rg__wbuf *b);

/* Appends one chunk "<hex size>\r\n<data>\r\n" (RFC 9112 7.1). n == 0
 * appends nothing: only rg__chunk_end writes the last chunk.
 * Returns 0 or -ENOSPC with b->len unchanged. */
int rg__chunk_write(struct rg__wbuf *b, const void *data, size_t n);

/* Appends the last chunk and the empty trailer section, "0\r\n\r\n".
 * Returns 0 or -ENOSPC with b->len unchanged. */
int rg__chunk_end(struct rg__wbuf *b);

/* ------------------------------------------------------------------------
 * Date cache
 * ------------------------------------------------------------------------ */

/* Length of an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT". */
#define RG__DATE_LEN 29

/* One per worker (not thread-safe). Zero-initialise it; nothing to free. */
struct rg__date_cache {
	time_t second;		     /* the second `text` shows */
	char text[RG__DATE_LEN + 1]; /* NUL-terminated; empty until first use */
};

/* The IMF-fixdate (RFC 9110 5.6.7) of `now`, reformatted only when `now`
 * differs from the cached second. Valid until the next call with another
 * second. */
const char *rg__date_get(struct rg__date_cache *c, time_t now);

/* Writes the IMF-fixdate of `t` and a NUL into `out`, by hand (no gmtime,
 * no locale, no tz lock). `t` is clamped to years 0000-9999, the range the
 * format can show. */
void rg__date_format(char out[RG__DATE_LEN + 1], time_t t);

/* Seconds since the epoch of an HTTP-date (RFC 9110 5.6.7): IMF-fixdate,
 * and the obsolete RFC 850 and asctime forms. 0, or -EINVAL. */
int rg__http_date_parse(struct rg_str s, int64_t *t);

#endif /* RG_HTTP_RESPONSE_H */
