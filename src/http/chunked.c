/* chunked.c: the incremental decoder of the chunked transfer coding
 * (RFC 9112 7.1), in place, one state per grammar position so that input
 * may stop at any byte.
 *
 * Lines end in CRLF only, as in the head (see parser.c): a bare LF or bare
 * CR anywhere is RG__E_LINE_ENDING. Chunk extensions are checked against
 * the grammar and skipped; trailer fields follow the field syntax of the
 * head and are skipped too (RFC 9112 7.1.2: a server may discard them),
 * but one that may not be a trailer (RFC 9110 6.5.1: framing, routing,
 * authentication, request modifiers, content format) rejects the request
 * with 400: a client sending one is confused or probing for a smuggling
 * path, and no handler ever sees a trailer as a header field. */
#include "parser.h"
#include "scan.h"

#include <string.h>

#define SIZE_LINE_MAX 4096 /* bytes of chunk-size [ chunk-ext ] CR */
#define SIZE_DIGITS_MAX 16 /* hex digits: 64 bits */

enum {
	/* chunk-size [ chunk-ext ] CRLF; counted in line_bytes */
	CH_SIZE_FIRST,	 /* the first hex digit */
	CH_SIZE,	 /* more hex digits */
	CH_EXT_BWS,	 /* BWS after the size or a value: ';' must follow */
	CH_EXT_NAME_BWS, /* after ';' */
	CH_EXT_NAME,
	CH_EXT_NAME_END,  /* BWS after a name: '=' or ';' must follow */
	CH_EXT_VALUE_BWS, /* after '=' */
	CH_EXT_VALUE,	  /* a token */
	CH_EXT_QUOTED,	  /* in a quoted-string */
	CH_EXT_QPAIR,	  /* after '\' in a quoted-string */
	CH_EXT_VALUE_END, /* after the closing quote */
	CH_SIZE_LF,
	/* chunk-data CRLF */
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	/* trailer-section CRLF; counted in trailer_bytes */
	CH_TRAILER, /* the start of a field line, or the final CRLF */
	CH_TRAILER_NAME,
	CH_TRAILER_VALUE,
	CH_TRAILER_LF,
	CH_FINAL_LF,
	/* a CR where no line may end: d->cr_error if an LF follows */
	CH_CR,
	CH_DONE,
};

void rg__chunked_init(struct rg__chunked *d, uint64_t max_body)
{
	*d = (struct rg__chunked){.max_body = max_body, .max_trailer = 8192};
}

/* Fields that must not be trailers (RFC 9110 6.5.1), lowercase: framing
 * (6.5.1 names Content-Length and Transfer-Encoding), routing (Host),
 * connection (7.6.1), authentication (11.6), request modifiers (10.1,
 * 13.1), response controls a client could aim at a cache (Cache-Control,
 * Pragma) and the content's format (8.3-8.5, 14.4). */
static const char *const not_trailers[] = {
    "authorization",
    "cache-control",
    "connection",
    "content-encoding",
    "content-length",
    "content-range",
    "content-type",
    "cookie",
    "expect",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "keep-alive",
    "max-forwards",
    "pragma",
    "proxy-authorization",
    "proxy-connection",
    "range",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
};

static bool trailer_allowed(const struct rg__chunked *d)
{
	for (size_t i = 0; i < sizeof(not_trailers) / sizeof(*not_trailers);
	     i++)
		if (strlen(not_trailers[i]) == d->name_len &&
		    !memcmp(not_trailers[i], d->name, d->name_len))
			return false;
	return true;
}

static void name_add(struct rg__chunked *d, unsigned char c)
{
	if (d->name_len >= sizeof(d->name)) {
		d->name_len = 0xff;
		return;
	}
	d->name[d->name_len++] = (char)((unsigned)(c - 'A') < 26 ? c + 32 : c);
}

static unsigned hex_value(unsigned char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* The next state after a CR in a state where the line may not end. */
static uint32_t cr_then(struct rg__chunked *d, enum rg__http_error err)
{
	d->cr_error = err;
	return CH_CR;
}

ssize_t rg__chunked_decode(struct rg__chunked *d, char *buf, size_t len,
			   size_t *data_len, bool *done)
{
	size_t src = 0, dst = 0;
	enum rg__http_error err = RG__E_NONE;
	uint32_t st = d->state;

	*done = st == CH_DONE;
	while (src < len && st != CH_DONE) {
		if (st == CH_DATA) {
			size_t n = len - src;
			if (n > d->remaining)
				n = (size_t)d->remaining;
			if (dst != src)
				memmove(buf + dst, buf + src, n);
			src += n;
			dst += n;
			d->remaining -= n;
			d->total += n;
			if (d->remaining == 0)
				st = CH_DATA_CR;
			continue;
		}

		unsigned char c = (unsigned char)buf[src++];
		if (st <= CH_SIZE_LF && ++d->line_bytes > SIZE_LINE_MAX) {
			err = RG__E_CHUNK_EXT;
			goto fail;
		}
		if (st >= CH_TRAILER && st <= CH_FINAL_LF &&
		    ++d->trailer_bytes > d->max_trailer) {
			err = RG__E_TRAILER_TOO_LARGE;
			goto fail;
		}
		bool tchar = rg__is(c, RG__C_TCHAR), ows = rg__is(c, RG__C_OWS);
		if (c == '\n' && st != CH_SIZE_LF && st != CH_DATA_LF &&
		    st != CH_TRAILER_LF && st != CH_FINAL_LF && st != CH_CR) {
			err = RG__E_LINE_ENDING;
			goto fail;
		}

		switch (st) {
		case CH_SIZE_FIRST:
			if (rg__is(c, RG__C_HEX)) {
				d->remaining = hex_value(c);
				st = CH_SIZE;
			} else if (c == '\r') {
				st = cr_then(d, RG__E_CHUNK_SIZE);
			} else {
				err = RG__E_CHUNK_SIZE;
			}
			break;
		case CH_SIZE:
			if (rg__is(c, RG__C_HEX)) {
				if (d->line_bytes > SIZE_DIGITS_MAX)
					err = RG__E_CHUNK_SIZE;
				d->remaining = d->remaining << 4 | hex_value(c);
				break;
			}
			if (d->max_body &&
			    d->remaining > d->max_body - d->total) {
				err = RG__E_BODY_TOO_LARGE;
				break;
			}
			if (c == ';')
				st = CH_EXT_NAME_BWS;
			else if (ows)
				st = CH_EXT_BWS;
			else if (c == '\r')
				st = CH_SIZE_LF;
			else
				err = RG__E_CHUNK_SIZE;
			break;
		case CH_EXT_BWS:
			if (c == ';')
				st = CH_EXT_NAME_BWS;
			else if (c == '\r')
				st = cr_then(d, RG__E_CHUNK_EXT);
			else if (!ows)
				err = RG__E_CHUNK_EXT;
			break;
		case CH_EXT_NAME_BWS:
			if (tchar)
				st = CH_EXT_NAME;
			else if (c == '\r')
				st = cr_then(d, RG__E_CHUNK_EXT);
			else if (!ows)
				err = RG__E_CHUNK_EXT;
			break;
		case CH_EXT_NAME:
			if (tchar)
				break;
			if (c == '=')
				st = CH_EXT_VALUE_BWS;
			else if (c == ';')
				st = CH_EXT_NAME_BWS;
			else if (ows)
				st = CH_EXT_NAME_END;
			else if (c == '\r')
				st = CH_SIZE_LF;
			else
				err = RG__E_CHUNK_EXT;
			break;
		case CH_EXT_NAME_END:
			if (c == '=')
				st = CH_EXT_VALUE_BWS;
			else if (c == ';')
				st = CH_EXT_NAME_BWS;
			else if (c == '\r')
				st = cr_then(d, RG__E_CHUNK_EXT);
			else if (!ows)
				err = RG__E_CHUNK_EXT;
			break;
		case CH_EXT_VALUE_BWS:
			if (c == '"')
				st = CH_EXT_QUOTED;
			else if (tchar)
				st = CH_EXT_VALUE;
			else if (c == '\r')
				st = cr_then(d, RG__E_CHUNK_EXT);
			else if (!ows)
				err = RG__E_CHUNK_EXT;
			break;
		case CH_EXT_VALUE:
		case CH_EXT_VALUE_END:
			if (tchar && st == CH_EXT_VALUE)
				break;
			if (c == ';')
				st = CH_EXT_NAME_BWS;
			else if (ows)
				st = CH_EXT_BWS;
			else if (c == '\r')
				st = CH_SIZE_LF;
			else
				err = RG__E_CHUNK_EXT;
			break;
		case CH_EXT_QUOTED:
			if (c == '"')
				st = CH_EXT_VALUE_END;
			else if (c == '\\')
				st = CH_EXT_QPAIR;
			else if (c == '\r')
				st = cr_then(d, RG__E_CHUNK_EXT);
			else if (!rg__is(c, RG__C_QDTEXT))
				err = RG__E_CHUNK_EXT;
			break;
		case CH_EXT_QPAIR:
			if (rg__is(c, RG__C_VALUE))
				st = CH_EXT_QUOTED;
			else if (c == '\r')
				st = cr_then(d, RG__E_CHUNK_EXT);
			else
				err = RG__E_CHUNK_EXT;
			break;
		case CH_SIZE_LF:
			if (c != '\n') {
				err = RG__E_LINE_ENDING;
				break;
			}
			d->line_bytes = 0;
			st = d->remaining ? CH_DATA : CH_TRAILER;
			break;
		case CH_DATA_CR:
			if (c == '\r')
				st = CH_DATA_LF;
			else
				err = RG__E_CHUNK_DATA_END;
			break;
		case CH_DATA_LF:
			if (c == '\n')
				st = CH_SIZE_FIRST;
			else
				err = RG__E_LINE_ENDING;
			break;
		case CH_TRAILER:
			if (c == '\r') {
				st = CH_FINAL_LF;
			} else if (tchar) {
				st = CH_TRAILER_NAME;
				d->name_len = 0;
				name_add(d, c);
			} else {
				err = RG__E_TRAILER; /* obs-fold, empty name */
			}
			break;
		case CH_TRAILER_NAME:
			if (tchar)
				name_add(d, c);
			else if (c == ':' && !trailer_allowed(d))
				err = RG__E_TRAILER_FIELD;
			else if (c == ':')
				st = CH_TRAILER_VALUE;
			else if (c == '\r')
				st = cr_then(d, RG__E_TRAILER);
			else
				err = RG__E_TRAILER;
			break;
		case CH_TRAILER_VALUE:
			if (c == '\r')
				st = CH_TRAILER_LF;
			else if (!rg__is(c, RG__C_VALUE))
				err = RG__E_TRAILER;
			break;
		case CH_TRAILER_LF:
			if (c == '\n')
				st = CH_TRAILER;
			else
				err = RG__E_LINE_ENDING;
			break;
		case CH_FINAL_LF:
			if (c == '\n') {
				st = CH_DONE;
				*done = true;
			} else {
				err = RG__E_LINE_ENDING;
			}
			break;
		case CH_CR:
			err = c == '\n' ? (enum rg__http_error)d->cr_error
					: RG__E_LINE_ENDING;
			break;
		}
		if (err)
			goto fail;
	}
	d->state = st;
	*data_len = dst;
	return (ssize_t)src;

fail:
	d->state = st;
	*data_len = dst;
	return -(ssize_t)err;
}
