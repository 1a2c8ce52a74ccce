/* parser.c: the request-head parser: request line, header fields, and what
 * the well-known fields say about framing and the connection (RFC 9112
 * sections 2-6, RFC 9110 field syntax).
 *
 * Decisions, each with its reason:
 * - Line endings: CRLF everywhere. RFC 9112 2.2 lets a recipient accept a
 *   bare LF; ringlet rejects it, and any bare CR, with RG__E_LINE_ENDING, in
 *   the request line, the fields, chunk lines and trailers alike (chunked.c).
 *   One rule for every line leaves nothing for a proxy in front to read
 *   differently.
 * - Empty lines (CRLF) before the request line are skipped (RFC 9112 2.2),
 *   counted in the bytes consumed and in max_head.
 * - Content-Length: the same value in several fields is accepted as one
 *   (RFC 9110 8.6 allows it; some proxies duplicate the field); different
 *   values, or a list within one field ("5, 5"), are rejected.
 * - Transfer-Encoding: with a final coding other than chunked, or chunked
 *   twice, the framing is unknown: 400 (RFC 9112 6.3 item 4, a MUST). Only
 *   then, any other coding (gzip, deflate, compress, identity...), which
 *   ringlet does not implement: 501 (RFC 9112 6.1).
 * - Order: errors are found in byte order and the first one decides;
 *   checks that need the whole head (framing, missing Host) come after the
 *   final CRLF. A head therefore gives the same result however it is split
 *   across calls; limits are checked as bounds on each scan so that they
 *   fire at the same byte too.
 * - Incremental: a head split across calls resumes at the start of the
 *   line it stopped in; fields already parsed stay in `saved` (pointers
 *   rebased if the buffer moved). While that line has no LF yet, a call only
 *   looks for one in the new bytes (and for the line's limit). Measured
 *   against rescanning (a picohttpparser-style check for the end of the head
 *   from `scanned`, then a full parse), ns per request on a 12-field browser
 *   GET: see RESUME_FIGURES below. */
#include "parser.h"
#include "scan.h"

#include <string.h>

/* RESUME_FIGURES (gcc 12 -O2, AVX2, 2 cores, same run; 600-byte head):
 * filled in by the measurement reported with this change. */

const struct rg__parse_limits rg__default_limits = {
	.max_request_line = 8192,
	.max_head = 16384,
	.max_headers = 100,
	.max_body = 1024 * 1024,
};

enum { STAGE_REQUEST_LINE, STAGE_FIELDS };

enum {
	TE_SEEN = 1,         /* a Transfer-Encoding field */
	TE_CHUNKED = 2,      /* chunked seen */
	TE_CHUNKED_LAST = 4, /* the last coding so far is chunked */
	TE_BAD = 8,          /* chunked twice, or a malformed list */
	TE_UNKNOWN = 16,     /* a coding other than chunked */
};

enum { CONN_CLOSE = 1, CONN_KEEP_ALIVE = 2 };

/* First fields array; it doubles (in place: it is the arena's last
 * allocation) up to max_headers. */
#define FIELDS_FIRST 16

#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static void parser_reset(struct rg__parser *p)
{
	p->scanned = 0;
	p->line = 0;
	p->base = NULL;
	p->cap = 0;
	p->stage = STAGE_REQUEST_LINE;
	p->hosts = 0;
	p->te = 0;
	p->conn = 0;
	p->has_length = false;
}

void rg__parser_init(struct rg__parser *p,
		     const struct rg__parse_limits *limits)
{
	p->limits = limits ? limits : &rg__default_limits;
	parser_reset(p);
}

/* --- small helpers ------------------------------------------------------ */

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

static bool ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

static const char *skip_ows(const char *s, const char *end)
{
	while (s < end && rg__is((unsigned char)*s, RG__C_OWS))
		s++;
	return s;
}

/* A scan stopped at `s` (< end) on a byte that does not belong there: a bare
 * CR or LF is a line-ending error, a CR at the end needs more bytes (or hit
 * the limit: `need`), anything else (a CRLF too early included) is `err`. */
static int stop_error(const char *s, const char *end, int err, int need)
{
	if (*s == '\n')
		return -RG__E_LINE_ENDING;
	if (*s == '\r') {
		if (s + 1 == end)
			return need;
		if (s[1] != '\n')
			return -RG__E_LINE_ENDING;
	}
	return -err;
}

/* --- request line ------------------------------------------------------- */

static enum rg_method method_id(const char *m, size_t n)
{
	switch (n) {
	case 3:
		if (!memcmp(m, "GET", 3))
			return RG_METHOD_GET;
		if (!memcmp(m, "PUT", 3))
			return RG_METHOD_PUT;
		break;
	case 4:
		if (!memcmp(m, "POST", 4))
			return RG_METHOD_POST;
		if (!memcmp(m, "HEAD", 4))
			return RG_METHOD_HEAD;
		break;
	case 5:
		if (!memcmp(m, "PATCH", 5))
			return RG_METHOD_PATCH;
		if (!memcmp(m, "TRACE", 5))
			return RG_METHOD_TRACE;
		break;
	case 6:
		if (!memcmp(m, "DELETE", 6))
			return RG_METHOD_DELETE;
		break;
	case 7:
		if (!memcmp(m, "OPTIONS", 7))
			return RG_METHOD_OPTIONS;
		if (!memcmp(m, "CONNECT", 7))
			return RG_METHOD_CONNECT;
		break;
	}
	return RG_METHOD_OTHER;
}

/* uri-host [":" port] (RFC 3986 3.2.2, 3.2.3): an IP-literal in brackets
 * (checked loosely: hex, ':', '.', reg-name bytes) or a reg-name, which
 * covers IPv4; pct-encodings well formed; a port of at most 5 digits up to
 * 65535. No userinfo: RFC 9110 4.2.4 has recipients treat it as an error. */
static bool authority_ok(const char *s, size_t n, bool need_host,
			 bool need_port)
{
	const char *e = s + n, *h = s;
	if (h < e && *h == '[') {
		const char *in = ++h;
		while (h < e && *h != ']') {
			unsigned char c = (unsigned char)*h++;
			if (!rg__is(c, RG__C_REGNAME) && c != ':')
				return false;
		}
		if (h == e || h == in)
			return false;
		h++;
	} else {
		while (h < e && rg__is((unsigned char)*h, RG__C_REGNAME)) {
			if (*h == '%' &&
			    (e - h < 3 || !rg__is((unsigned char)h[1], RG__C_HEX) ||
			     !rg__is((unsigned char)h[2], RG__C_HEX)))
				return false;
			h += *h == '%' ? 3 : 1;
		}
		if (need_host && h == s)
			return false;
	}
	if (h == e)
		return !need_port;
	if (*h++ != ':' || e - h > 5 || (need_port && h == e))
		return false;
	unsigned port = 0;
	for (; h < e; h++) {
		if ((unsigned char)(*h - '0') > 9)
			return false;
		port = port * 10 + (unsigned)(*h - '0');
	}
	return port <= 65535;
}

static void split_query(struct rg__request *req, const char *t, size_t n)
{
	const char *q = memchr(t, '?', n);
	if (!q) {
		req->path = (struct rg_str){t, n};
		req->query = (struct rg_str){t + n, 0};
		return;
	}
	req->path = (struct rg_str){t, (size_t)(q - t)};
	req->query = (struct rg_str){q + 1, n - (size_t)(q - t) - 1};
}

/* The four forms of request-target (RFC 9112 3.2). Returns 0 or -error. */
static int target_form(struct rg__request *req)
{
	const char *t = req->target.ptr;
	size_t n = req->target.len;
	bool connect = req->method_id == RG_METHOD_CONNECT;

	if (t[0] == '/') { /* origin-form */
		if (connect)
			return -RG__E_TARGET;
		split_query(req, t, n);
		return 0;
	}
	if (connect) { /* authority-form: host ":" port, only for CONNECT */
		if (!authority_ok(t, n, true, true))
			return -RG__E_TARGET;
		req->authority = req->target;
		req->path = (struct rg_str){t + n, 0};
		req->query = (struct rg_str){t + n, 0};
		return 0;
	}
	if (n == 1 && t[0] == '*') { /* asterisk-form: only for OPTIONS */
		if (req->method_id != RG_METHOD_OPTIONS)
			return -RG__E_TARGET;
		req->path = req->target;
		req->query = (struct rg_str){t + n, 0};
		return 0;
	}
	/* absolute-form, http or https (RFC 9112 3.2.2): its authority
	 * replaces Host; an empty host is invalid (RFC 9110 4.2.1). */
	size_t k;
	if (n > 7 && ieq(t, "http://", 7))
		k = 7;
	else if (n > 8 && ieq(t, "https://", 8))
		k = 8;
	else
		return -RG__E_TARGET;
	const char *a = t + k, *e = t + n, *s = a;
	while (s < e && *s != '/' && *s != '?')
		s++;
	if (!authority_ok(a, (size_t)(s - a), true, false))
		return -RG__E_TARGET;
	req->authority = (struct rg_str){a, (size_t)(s - a)};
	if (s < e && *s == '/') {
		split_query(req, s, (size_t)(e - s));
		return 0;
	}
	req->path = (struct rg_str){"/", 1}; /* static: the path is empty */
	req->query = s < e ? (struct rg_str){s + 1, (size_t)(e - s - 1)}
			   : (struct rg_str){e, 0};
	return 0;
}

/* HTTP-version CRLF, byte by byte, for a short or unusual version:
 * "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3). */
static int version_slow(struct rg__request *req, const char **sp,
			const char *end, int need)
{
	static const char pattern[] = "HTTP/d.d\r\n";
	const char *s = *sp;
	for (int i = 0; i < 10; i++) {
		if (s + i == end)
			return need;
		char c = s[i];
		bool ok = pattern[i] == 'd' ? (unsigned char)(c - '0') <= 9
					    : c == pattern[i];
		if (ok)
			continue;
		if (i == 9) /* CR then not LF */
			return -RG__E_LINE_ENDING;
		return stop_error(s + i, end, RG__E_VERSION, need);
	}
	if (s[5] != '1' || (s[7] != '0' && s[7] != '1'))
		return -RG__E_VERSION_UNSUPPORTED;
	req->version_minor = (uint8_t)(s[7] - '0');
	*sp = s + 10;
	return 1;
}

/* method SP request-target SP HTTP-version CRLF. Returns 1 (*sp past the
 * CRLF), `need` when [*sp, end) ends first, or -error. */
static int request_line(struct rg__request *req, const char **sp,
			const char *end, int need)
{
	const char *s = *sp, *m = s;

	s = rg__scan_token(s, end);
	if (s == end)
		return need;
	if (*s != ' ' || s == m)
		return stop_error(s, end, RG__E_METHOD, need);
	req->method = (struct rg_str){m, (size_t)(s - m)};
	req->method_id = method_id(m, (size_t)(s - m));

	const char *t = ++s;
	s = rg__scan_target(s, end);
	if (s == end)
		return need;
	if (*s != ' ' || s == t)
		return stop_error(s, end, RG__E_TARGET, need);
	req->target = (struct rg_str){t, (size_t)(s - t)};
	int r = target_form(req);
	if (r)
		return r;

	s++;
	if (end - s >= 10 && !memcmp(s, "HTTP/1.", 7) &&
	    (s[7] == '1' || s[7] == '0') && s[8] == '\r' && s[9] == '\n') {
		req->version_minor = (uint8_t)(s[7] - '0');
		*sp = s + 10;
		return 1;
	}
	*sp = s;
	return version_slow(req, sp, end, need);
}

/* --- fields --------------------------------------------------------------- */

/* Index in enum rg__known_header, or -1. Names are tchars (token_ieq). */
static int known_id(const char *n, size_t len)
{
	switch (len) {
	case 4:
		return token_ieq(n, "host", 4) ? RG__H_HOST : -1;
	case 5:
		return token_ieq(n, "range", 5) ? RG__H_RANGE : -1;
	case 6:
		return token_ieq(n, "expect", 6) ? RG__H_EXPECT : -1;
	case 7:
		return token_ieq(n, "upgrade", 7) ? RG__H_UPGRADE : -1;
	case 10:
		return token_ieq(n, "connection", 10) ? RG__H_CONNECTION : -1;
	case 12:
		return token_ieq(n, "content-type", 12) ? RG__H_CONTENT_TYPE
							: -1;
	case 13:
		return token_ieq(n, "if-none-match", 13) ? RG__H_IF_NONE_MATCH
							 : -1;
	case 14:
		return token_ieq(n, "content-length", 14)
			       ? RG__H_CONTENT_LENGTH
			       : -1;
	case 15:
		return token_ieq(n, "accept-encoding", 15)
			       ? RG__H_ACCEPT_ENCODING
			       : -1;
	case 17:
		if (token_ieq(n, "transfer-encoding", 17))
			return RG__H_TRANSFER_ENCODING;
		return token_ieq(n, "if-modified-since", 17)
			       ? RG__H_IF_MODIFIED_SINCE
			       : -1;
	}
	return -1;
}

/* Content-Length = 1*DIGIT, at most 19 digits (below 2^64, so no overflow
 * check is needed); a list, a sign, a space inside: invalid. */
static int content_length(struct rg__parser *p, struct rg__request *req,
			  const char *v, size_t n)
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

/* token BWS "=" BWS ( token / quoted-string ), after a ';'. */
static const char *parameter(const char *s, const char *e)
{
	const char *t = s;
	s = rg__scan_scalar(s, e, RG__C_TCHAR);
	if (s == t)
		return NULL;
	s = skip_ows(s, e);
	if (s == e || *s != '=')
		return NULL;
	s = skip_ows(s + 1, e);
	if (s < e && *s == '"') { /* quoted-string, RFC 9110 5.6.4 */
		for (s++; s < e; s++) {
			if (*s == '"')
				return s + 1;
			if (*s == '\\' && ++s == e)
				return NULL;
			if (!rg__is((unsigned char)*s, s[-1] == '\\'
								? RG__C_VALUE
								: RG__C_QDTEXT))
				return NULL;
		}
		return NULL;
	}
	t = s;
	s = rg__scan_scalar(s, e, RG__C_TCHAR);
	return s == t ? NULL : s;
}

/* #transfer-coding (RFC 9112 6.1, RFC 9110 5.6.1): empty elements are
 * skipped; several fields make one list, in order. */
static void transfer_codings(struct rg__parser *p, const char *s, size_t n)
{
	const char *e = s + n;
	p->te |= TE_SEEN;
	for (;;) {
		s = skip_ows(s, e);
		if (s == e)
			return;
		if (*s == ',') {
			s++;
			continue;
		}
		const char *t = s;
		s = rg__scan_scalar(s, e, RG__C_TCHAR);
		if (s == t) {
			p->te |= TE_BAD;
			return;
		}
		bool chunked = s - t == 7 && ieq(t, "chunked", 7);
		s = skip_ows(s, e);
		while (s < e && *s == ';') {
			chunked = false; /* chunked takes no parameters */
			s = parameter(skip_ows(s + 1, e), e);
			if (!s) {
				p->te |= TE_BAD;
				return;
			}
			s = skip_ows(s, e);
		}
		if (s < e && *s != ',') {
			p->te |= TE_BAD;
			return;
		}
		if (chunked) {
			if (p->te & TE_CHUNKED)
				p->te |= TE_BAD;
			p->te |= TE_CHUNKED | TE_CHUNKED_LAST;
		} else {
			p->te = (uint8_t)((p->te & ~TE_CHUNKED_LAST) | TE_UNKNOWN);
		}
	}
}

/* #connection-option (RFC 9112 9.3, RFC 9110 7.6.1): close, keep-alive. */
static void connection_options(struct rg__parser *p, const char *s, size_t n)
{
	const char *e = s + n;
	for (;;) {
		s = skip_ows(s, e);
		const char *t = s;
		while (s < e && *s != ',')
			s++;
		const char *te = s;
		while (te > t && rg__is((unsigned char)te[-1], RG__C_OWS))
			te--;
		if (te - t == 5 && ieq(t, "close", 5))
			p->conn |= CONN_CLOSE;
		else if (te - t == 10 && ieq(t, "keep-alive", 10))
			p->conn |= CONN_KEEP_ALIVE;
		if (s == e)
			return;
		s++;
	}
}

/* What a field with framing or connection meaning says, as it is parsed;
 * checks across fields wait for the end of the head (head_done). */
static int field_meaning(struct rg__parser *p, struct rg__request *req,
			 int id, const char *v, size_t n)
{
	switch (id) {
	case RG__H_HOST:
		/* RFC 9112 3.2: one Host, with a valid value (empty allowed). */
		if (++p->hosts > 1)
			return -RG__E_HOST_DUPLICATE;
		if (!authority_ok(v, n, false, false))
			return -RG__E_HOST_INVALID;
		if (!req->authority.ptr)
			req->authority = (struct rg_str){v, n};
		return 0;
	case RG__H_CONTENT_LENGTH:
		return content_length(p, req, v, n);
	case RG__H_TRANSFER_ENCODING:
		transfer_codings(p, v, n);
		return 0;
	case RG__H_CONNECTION:
		connection_options(p, v, n);
		return 0;
	case RG__H_EXPECT:
		if (n == 12 && token_ieq(v, "100-continue", 12))
			req->expect_continue = true;
		return 0;
	}
	return 0;
}

static int fields_grow(struct rg__parser *p, struct rg_arena *arena,
		       struct rg__request *req)
{
	uint32_t max = p->limits->max_headers;
	uint32_t cap = p->cap ? p->cap * 2 : FIELDS_FIRST;
	if (cap > max || cap < p->cap)
		cap = max;
	struct rg_header *h = rg_arena_realloc(
		arena, req->headers, p->cap * sizeof(*h), cap * sizeof(*h));
	if (!h)
		return -RG__E_NO_MEMORY;
	req->headers = h;
	p->cap = cap;
	return 0;
}

/* Framing (RFC 9112 6.1-6.3), Host (3.2) and persistence (9.3), once the
 * head is complete. */
static int head_done(struct rg__parser *p, struct rg__request *req)
{
	if (p->te) {
		if (req->version_minor == 0)
			return -RG__E_TE_HTTP10;
		if (p->has_length)
			return -RG__E_CL_AND_TE;
		if ((p->te & TE_BAD) || !(p->te & TE_CHUNKED_LAST))
			return -RG__E_TE_NOT_CHUNKED;
		if (p->te & TE_UNKNOWN)
			return -RG__E_TE_UNKNOWN;
		req->body = RG__BODY_CHUNKED;
	} else if (p->has_length) {
		uint64_t max = p->limits->max_body;
		if (max && req->content_length > max)
			return -RG__E_BODY_TOO_LARGE;
		req->body = RG__BODY_LENGTH;
	}
	if (req->version_minor == 1 && !p->hosts)
		return -RG__E_HOST_MISSING;
	if (req->version_minor == 1)
		req->keep_alive = !(p->conn & CONN_CLOSE);
	else
		req->keep_alive = p->conn == CONN_KEEP_ALIVE;
	return 0;
}

/* field-line CRLF ... CRLF, from *sp. Returns 1 with *sp past the final
 * CRLF, `need`, or -error. */
static int fields(struct rg__parser *p, struct rg_arena *arena,
		  struct rg__request *req, const char **sp, const char *end,
		  int need)
{
	const char *s = *sp;
	for (;;) {
		*sp = s;
		if (s == end)
			return need;
		if (*s == '\r') {
			if (s + 1 == end)
				return need;
			if (s[1] != '\n')
				return -RG__E_LINE_ENDING;
			*sp = s + 2;
			return 1;
		}
		/* RFC 9112 5.2: obs-fold; before the first field, 2.2. */
		if (rg__is((unsigned char)*s, RG__C_OWS))
			return -RG__E_OBS_FOLD;
		if (UNLIKELY(req->nheaders == p->limits->max_headers))
			return -RG__E_TOO_MANY_HEADERS;

		const char *n = s;
		s = rg__scan_token(s, end);
		if (s == end)
			return need;
		if (*s != ':' || s == n)
			return stop_error(s, end, RG__E_HEADER_NAME, need);
		size_t nlen = (size_t)(s - n);

		s++;
		while (s < end && rg__is((unsigned char)*s, RG__C_OWS))
			s++;
		const char *v = s;
		s = rg__scan_value(s, end);
		if (s == end)
			return need;
		if (*s != '\r')
			return *s == '\n' ? -RG__E_LINE_ENDING
					  : -RG__E_HEADER_VALUE;
		if (s + 1 == end)
			return need;
		if (s[1] != '\n')
			return -RG__E_LINE_ENDING;
		const char *ve = s;
		while (ve > v && rg__is((unsigned char)ve[-1], RG__C_OWS))
			ve--;
		s += 2;

		if (UNLIKELY(req->nheaders == p->cap)) {
			int r = fields_grow(p, arena, req);
			if (r)
				return r;
		}
		uint32_t i = req->nheaders++;
		size_t vlen = (size_t)(ve - v);
		req->headers[i] = (struct rg_header){{n, nlen}, {v, vlen}};
		int id = known_id(n, nlen);
		if (id >= 0) {
			if (req->known[id] < 0)
				req->known[id] = (int16_t)i;
			if (id <= RG__H_EXPECT) {
				int r = field_meaning(p, req, id, v, vlen);
				if (r)
					return r;
			}
		}
	}
}

/* --- the entry point ------------------------------------------------------ */

/* Where the head must end, CRLF included. */
static size_t head_limit(const struct rg__parser *p)
{
	size_t head = p->limits->max_head;
	return head < INT32_MAX ? head : INT32_MAX; /* returned as an int */
}

/* Where the line that starts at p->line must end, CRLF included, and the
 * error when it does not. */
static size_t line_limit(const struct rg__parser *p, int *err)
{
	size_t head = head_limit(p);
	*err = RG__E_HEADERS_TOO_LARGE;
	if (p->stage == STAGE_REQUEST_LINE) {
		size_t rl = p->line + p->limits->max_request_line + 2;
		if (rl <= head) {
			*err = RG__E_REQUEST_LINE_LONG;
			return rl;
		}
	}
	return head;
}

static void request_init(struct rg__request *req)
{
	*req = (struct rg__request){.body = RG__BODY_NONE};
	memset(req->known, 0xff, sizeof(req->known));
}

static void rebase_str(struct rg_str *s, uintptr_t from, size_t n,
		       const char *to)
{
	uintptr_t a = (uintptr_t)s->ptr;
	if (a - from <= n)
		s->ptr = to + (a - from);
}

/* The buffer moved between two calls: move the slices with it. */
static void rebase(struct rg__request *req, const char *from, size_t n,
		   const char *to)
{
	uintptr_t f = (uintptr_t)from;
	rebase_str(&req->method, f, n, to);
	rebase_str(&req->target, f, n, to);
	rebase_str(&req->path, f, n, to);
	rebase_str(&req->query, f, n, to);
	rebase_str(&req->authority, f, n, to);
	for (uint32_t i = 0; i < req->nheaders; i++) {
		rebase_str(&req->headers[i].name, f, n, to);
		rebase_str(&req->headers[i].value, f, n, to);
	}
}

static int parse(struct rg__parser *p, struct rg_arena *arena,
		 const char *buf, size_t len, struct rg__request *req)
{
	int err;
	size_t lim;
	const char *s = buf + p->line;

	if (p->stage == STAGE_REQUEST_LINE) {
		/* RFC 9112 2.2: skip empty lines before the request line. */
		size_t head = head_limit(p);
		const char *hend = buf + (len < head ? len : head);
		while (s < hend && *s == '\r') {
			if (s + 1 == hend)
				break;
			if (s[1] != '\n')
				return -RG__E_LINE_ENDING;
			s += 2;
		}
		p->line = (size_t)(s - buf);
		lim = line_limit(p, &err);
		const char *end = buf + (len < lim ? len : lim);
		int r = request_line(req, &s, end, len >= lim ? -err : 0);
		if (r <= 0)
			return r;
		p->stage = STAGE_FIELDS;
		p->line = (size_t)(s - buf);
	}

	lim = line_limit(p, &err);
	const char *end = buf + (len < lim ? len : lim);
	int r = fields(p, arena, req, &s, end, len >= lim ? -err : 0);
	p->line = (size_t)(s - buf);
	if (r <= 0)
		return r;
	r = head_done(p, req);
	return r ? r : (int)p->line;
}

int rg__parse_request(struct rg__parser *p, struct rg_arena *arena,
		      const char *buf, size_t len, struct rg__request *req)
{
	if (p->scanned > p->line) {
		/* The current line is incomplete and [line, scanned) holds no
		 * LF: until one arrives or the line reaches its limit, there is
		 * nothing to parse. */
		if (len <= p->scanned)
			return 0;
		int err;
		size_t lim = line_limit(p, &err);
		size_t stop = len < lim ? len : lim;
		if (len < lim && !memchr(buf + p->scanned, '\n',
					 stop - p->scanned)) {
			p->scanned = len;
			return 0;
		}
	}

	if (p->stage == STAGE_FIELDS) {
		*req = p->saved;
		if (buf != p->base)
			rebase(req, p->base, p->scanned, buf);
	} else {
		request_init(req);
	}

	int r = parse(p, arena, buf, len, req);
	if (r == 0) {
		p->scanned = len;
		if (p->stage == STAGE_FIELDS) {
			p->saved = *req;
			p->base = buf;
		}
		return 0;
	}
	if (r > 0 && req->nheaders < p->cap) /* give back the spare entries */
		req->headers = rg_arena_realloc(
			arena, req->headers, p->cap * sizeof(*req->headers),
			req->nheaders * sizeof(*req->headers));
	parser_reset(p);
	return r;
}

const struct rg_header *rg__request_header(const struct rg__request *req,
					   const char *name, size_t name_len)
{
	for (uint32_t i = 0; i < req->nheaders; i++) {
		const struct rg_header *h = &req->headers[i];
		if (h->name.len == name_len && ieq(h->name.ptr, name, name_len))
			return h;
	}
	return NULL;
}
