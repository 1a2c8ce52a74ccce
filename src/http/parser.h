/* parser.h: the strict, zero-copy, incremental HTTP/1.1 request-head parser
 * (RFC 9112 sections 2-7, RFC 9110 field syntax) and chunked body decoder.
 *
 * Nothing is copied: every rg_str of a parsed request points into the buffer
 * the caller passed. The header array is allocated from the request arena.
 * Both stay valid until the arena is reset and the buffer reused. */
#ifndef RG_HTTP_PARSER_H
#define RG_HTTP_PARSER_H

#include "ringlet.h"

#include <stdbool.h>
#include <sys/types.h>

/* Methods recognised while parsing; any other token is RG_METHOD_OTHER (the
 * server answers 501 for those it does not route). */
enum rg_method {
	RG_METHOD_OTHER = 0,
	RG_METHOD_GET,
	RG_METHOD_HEAD,
	RG_METHOD_POST,
	RG_METHOD_PUT,
	RG_METHOD_DELETE,
	RG_METHOD_OPTIONS,
	RG_METHOD_PATCH,
	RG_METHOD_CONNECT,
	RG_METHOD_TRACE,
};

/* The id of method m[0, n) (case-sensitive), RG_METHOD_OTHER if it is none
 * of the above. */
enum rg_method rg__method_id(const char *m, size_t n);

/* Header fields recognised once, while parsing, so that nothing searches for
 * them again. rg__request.known[id] is the index of the field in `headers`,
 * or -1 when absent. Where a field may appear several times (Accept-Encoding,
 * If-None-Match, Connection), it is the first occurrence. */
enum rg__known_header {
	RG__H_HOST,
	RG__H_CONTENT_LENGTH,
	RG__H_TRANSFER_ENCODING,
	RG__H_CONNECTION,
	RG__H_EXPECT,
	RG__H_CONTENT_TYPE,
	RG__H_ACCEPT_ENCODING,
	RG__H_IF_NONE_MATCH,
	RG__H_IF_MODIFIED_SINCE,
	RG__H_RANGE,
	RG__H_UPGRADE,
	RG__H_COUNT
};

/* The name of each, lowercase ("host", "content-length", ...). */
extern const char *const rg__known_name[RG__H_COUNT];

enum rg__body_kind {
	RG__BODY_NONE,	 /* no body: next request starts right after the head */
	RG__BODY_LENGTH, /* Content-Length bytes follow */
	RG__BODY_CHUNKED, /* chunked transfer coding follows: rg__chunked_* */
};

/* Every reason the parser rejects a request. Each maps to exactly one HTTP
 * status and one message, in one table (rg__http_error_status/_reason). The
 * parser returns them negated. */
enum rg__http_error {
	RG__E_NONE = 0,
	RG__E_METHOD,	   /* 400 empty method or non-token byte */
	RG__E_METHOD_LONG, /* 501 method reaching the request-line limit */
	RG__E_TARGET, /* 400 bad request-target (CTL, space, non-ASCII, form) */
	RG__E_VERSION,		   /* 400 malformed HTTP-version */
	RG__E_VERSION_UNSUPPORTED, /* 505 well-formed, not HTTP/1.0 or 1.1 */
	RG__E_LINE_ENDING,	   /* 400 bare CR or bare LF */
	RG__E_REQUEST_LINE_LONG,   /* 414 request line over the limit */
	RG__E_HEADER_NAME,  /* 400 empty/non-token name, space before colon */
	RG__E_HEADER_VALUE, /* 400 CTL, NUL or DEL in a field value */
	RG__E_OBS_FOLD,	    /* 400 line folding */
	RG__E_HEADERS_TOO_LARGE, /* 431 header section over the byte limit */
	RG__E_TOO_MANY_HEADERS,	 /* 431 more fields than the limit */
	RG__E_HOST_MISSING,	 /* 400 HTTP/1.1 without Host */
	RG__E_HOST_DUPLICATE,	 /* 400 several Host fields */
	RG__E_HOST_INVALID,	 /* 400 Host value not a valid authority */
	RG__E_HOST_EMPTY,	 /* 400 empty Host, the target giving none */
	RG__E_CONTENT_LENGTH,	 /* 400 non-digits, list, overflow, conflict */
	RG__E_CL_AND_TE, /* 400 both Content-Length and Transfer-Encoding */
	RG__E_TE_NOT_CHUNKED, /* 400 final coding not chunked, or chunked twice
			       */
	RG__E_TE_UNKNOWN,     /* 501 a coding ringlet does not implement */
	RG__E_TE_HTTP10,      /* 400 Transfer-Encoding in an HTTP/1.0 request */
	RG__E_BODY_TOO_LARGE, /* 413 Content-Length or chunked total over limit
			       */
	RG__E_CHUNK_SIZE,     /* 400 bad or overflowing chunk size */
	RG__E_CHUNK_EXT,      /* 400 malformed or over-long chunk extension */
	RG__E_CHUNK_DATA_END, /* 400 chunk data not followed by CRLF */
	RG__E_TRAILER,	      /* 400 malformed trailer field */
	RG__E_TRAILER_TOO_LARGE, /* 431 trailer section over the limit */
	RG__E_TRAILER_FIELD,	 /* 400 a field that may not be a trailer */
	RG__E_NO_MEMORY,	 /* 503 the arena could not hold the fields */
	RG__E_COUNT
};

int rg__http_error_status(enum rg__http_error err);
const char *rg__http_error_reason(enum rg__http_error err);

struct rg__parse_limits {
	uint32_t max_request_line; /* bytes, CRLF excluded; default 8192 */
	uint32_t max_head;	   /* whole head incl. request line; 16384 */
	uint32_t max_headers;	   /* fields; default 100 */
	uint64_t max_body;	   /* bytes; 0 = unlimited; default 1 MiB */
	bool underscores;	   /* keep fields whose name holds '_';
				      default false: they are dropped */
};

/* Defaults named in the comments of rg__parse_limits. */
extern const struct rg__parse_limits rg__default_limits;

/* A parsed request head. Slices point into the caller's buffer. */
struct rg__request {
	struct rg_str method;
	struct rg_str target; /* as sent */
	struct rg_str path;   /* origin-form path; for absolute-form, the
				 path part ("/" when empty) */
	struct rg_str query;  /* after '?', without it; len 0 if none */
	struct rg_str
	    authority; /* Host value, or the absolute-form authority
			  (which then overrides Host, RFC 9112 3.2.2) */
	enum rg_method method_id;
	uint8_t version_minor; /* 0 or 1 */
	bool keep_alive;       /* per version and Connection (RFC 9112 9.3) */
	bool expect_continue;  /* Expect: 100-continue, in HTTP/1.1 only */
	enum rg__body_kind body;
	uint64_t content_length;   /* when body == RG__BODY_LENGTH */
	struct rg_header *headers; /* in the arena */
	uint32_t nheaders;
	int16_t known[RG__H_COUNT];
	/* Fields dropped because their name holds '_' (unless
	 * limits->underscores): how many, and the first one's name. */
	uint32_t dropped;
	struct rg_str dropped_name;
};

/* Per-connection parse state; lets a head that arrives in pieces be resumed
 * without rescanning it whole. */
struct rg__parser {
	const struct rg__parse_limits *limits;
	size_t scanned; /* bytes already known to hold no complete head */
	/* implementation state may be added here */
	size_t line;		  /* offset of the first line not parsed yet */
	const char *base;	  /* the buffer `saved` points into */
	struct rg__request saved; /* what is parsed of a head split in calls */
	uint32_t cap;		  /* entries allocated at saved.headers */
	uint8_t stage;		  /* in the request line or in the fields */
	uint8_t skip;		  /* the RG__C_* class of the byte the line
				     stopped at: new bytes all in it cannot
				     change the outcome; 0 = parse again */
	uint8_t hosts;		  /* Host fields seen */
	uint8_t te;		  /* Transfer-Encoding codings seen, as flags */
	uint8_t conn;		  /* Connection options seen, as flags */
	bool has_length;	  /* a Content-Length field was seen */
	bool under;		  /* a field name with '_' was seen */
};

/* Ready for the next request's head (the parser does it itself after
 * each complete head). */
static inline void rg__parser_reset(struct rg__parser *p)
{
	p->scanned = 0;
	p->line = 0;
	p->base = NULL;
	p->cap = 0;
	p->stage = 0; /* the request line */
	p->hosts = 0;
	p->te = 0;
	p->conn = 0;
	p->skip = 0;
	p->under = false;
	p->has_length = false;
}

/* Inline: it runs once a request, a dozen stores that need no call. */
static inline void rg__parser_init(struct rg__parser *p,
				   const struct rg__parse_limits *limits)
{
	p->limits = limits ? limits : &rg__default_limits;
	rg__parser_reset(p);
}

/* Parses the request head at buf[0, len). `buf` always starts at the first
 * byte of the request; on each call it holds the bytes given before plus
 * new ones. Returns:
 *   > 0  head complete: that many bytes consumed; *req filled; the parser
 *        is ready for the next request;
 *   0    need more bytes (nothing in *req is valid yet);
 *   < 0  -enum rg__http_error: reject with rg__http_error_status().
 * Allocates the header array from `arena` (and nothing else). */
int rg__parse_request(struct rg__parser *p, struct rg_arena *arena,
		      const char *buf, size_t len, struct rg__request *req);

/* Case-insensitive lookup of a header by name: the first match or NULL. */
const struct rg_header *rg__request_header(const struct rg__request *req,
					   const char *name, size_t name_len);

/* Incremental chunked-body decoder (RFC 9112 section 7.1). */
struct rg__chunked {
	uint64_t max_body;  /* 0 = unlimited */
	uint64_t total;	    /* decoded body bytes so far */
	uint64_t remaining; /* bytes left in the current chunk */
	uint32_t state;
	uint32_t line_bytes; /* bytes of the current size/extension line */
	uint32_t trailer_bytes;
	uint32_t max_trailer; /* default 8192 */
	/* implementation state may be added here */
	uint32_t cr_error; /* after a CR where no line may end: the error
			      if an LF follows (else RG__E_LINE_ENDING) */
	uint8_t name_len;  /* of the trailer field name so far, in `name`
			      (lowercase); 0xff: longer than any name
			      a trailer may not carry */
	char name[20];
};

void rg__chunked_init(struct rg__chunked *d, uint64_t max_body);

/* Decodes buf[0, len) in place, consuming every byte it is given unless the
 * body ends inside it. On return the decoded data sits at buf[0, *data_len).
 * Returns the bytes of input consumed (== len unless *done; when *done the
 * bytes after the returned count belong to the next request), or
 * -enum rg__http_error. Partial size lines, extensions and trailers are
 * remembered in *d: the caller never re-presents input. */
ssize_t rg__chunked_decode(struct rg__chunked *d, char *buf, size_t len,
			   size_t *data_len, bool *done);

#endif /* RG_HTTP_PARSER_H */
