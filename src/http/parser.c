/* parser.c: the request-head parser: the request line and the field lines
 * (RFC 9112 sections 2-5, RFC 9110 field syntax), parsed in place and
 * resumed across calls; what the well-known fields mean is in
 * parser_fields.c.
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
 * - Order: errors are found in byte order and the first one decides, the
 *   moment its byte arrives (a TLS ClientHello on the plain port is a 400
 *   at its first byte, not after the head timeout); checks that need the
 *   whole line (the target's form, a field's meaning) come at its CRLF,
 *   those that need the whole head (framing, missing Host) after the
 *   final CRLF. A head therefore gives the same result, at the same byte,
 *   however it is split across calls; limits are checked as bounds on each
 *   scan so that they fire at their byte too.
 * - Fragment: '#' is in no request-target form (RFC 9112 3.2): 400 at it.
 * - Method: one still going at the request-line limit is 501 (not a
 *   method ringlet knows), not 414, which is about the target.
 * - Field names with '_' are dropped (not in `headers`, counted in
 *   `dropped`) unless limits->underscores: CGI and WSGI turn '-' and '_'
 *   alike into '_', so "Content_Length" would pass for Content-Length
 *   (nginx's underscores_in_headers off). '_' stops the name mask like a
 *   separator, so the scan notices one at no cost to other heads; they are
 *   taken out once the head is complete, having counted towards
 *   max_headers like any field.
 * - Incremental: a head split across calls resumes at the start of the
 *   line it stopped in; fields already parsed stay in `saved` (pointers
 *   rebased if the buffer moved). While the new bytes all belong where
 *   the line stopped (method, target, name or value bytes: p->skip), a
 *   call only checks them with one scan, and the line's limit. Measured
 *   against rescanning (picohttpparser's way: look for the end of the head
 *   from `scanned` - 3, then parse from byte 0), on a 597-byte, 12-field
 *   browser GET (gcc 12 -O2, AVX2, AMD EPYC, same run, best of 5):
 *     one byte a call: resume 2520 ns, rescan 3005 ns a request;
 *     in two halves:   resume  148 ns, rescan  366 ns;
 *     whole:           136 ns either way (the first call parses at once).
 *   So: resume. */
#include "parser_fields.h"

const struct rg__parse_limits rg__default_limits = {
    .max_request_line = 8192,
    .max_head = 16384,
    .max_headers = 100,
    .max_body = 1024 * 1024,
};

enum { STAGE_REQUEST_LINE, STAGE_FIELDS };

/* First fields array; it doubles (in place: it is the arena's last
 * allocation) up to max_headers. */
#define FIELDS_FIRST 16

#define UNLIKELY(x) __builtin_expect(!!(x), 0)

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

enum rg_method rg__method_id(const char *m, size_t n)
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

/* The first '?' of the target t[0, n), or NULL. From 16 bytes on, memchr
 * (its SIMD loop wins there: 2.5% of a browser GET's parse against the
 * loop below); from 8, eight bytes at a time (on little-endian machines):
 * y = x ^ "????????" has a zero byte where x has '?', and
 * (y - 0x01..) & ~y & 0x80.. marks the first zero byte exactly (a borrow
 * may mark bytes above it, never below). The last eight end at t + n, over
 * bytes already known to hold none: 40 instructions fewer than a byte loop
 * on "/plaintext". Shorter targets, one byte at a time. */
static inline const char *find_query(const char *t, size_t n)
{
	if (n >= 16)
		return memchr(t, '?', n);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n >= 8) {
		const uint64_t ones = 0x0101010101010101u;
		size_t i = 0;
		for (;; i += 8) {
			if (i + 8 > n)
				i = n - 8;
			uint64_t y = load64(t + i) ^ (ones * '?');
			uint64_t m = (y - ones) & ~y & (ones << 7);
			if (m)
				return t + i + (unsigned)__builtin_ctzll(m) / 8;
			if (i + 8 == n)
				return NULL;
		}
	}
#endif
	for (size_t i = 0; i < n; i++)
		if (t[i] == '?')
			return t + i;
	return NULL;
}

__attribute__((always_inline)) static inline void
split_query(struct rg__request *req, const char *t, size_t n)
{
	const char *q = find_query(t, n);
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
		if (!rg__authority_ok(t, n, true, true))
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
	if (!rg__authority_ok(a, (size_t)(s - a), true, false))
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

/* rg__scan_target, with "/" (the commonest target of all: curl's, a
 * home page's) recognised first: 5% of a curl GET's parse, the call to a
 * SIMD scanner for one byte. */
static inline const char *target_end(const char *s, const char *end)
{
	if (end - s >= 2 && s[0] == '/' && s[1] == ' ')
		return s + 1;
	return rg__scan_target(s, end);
}

/* method SP request-target SP HTTP-version CRLF. Returns 1 (*sp past the
 * CRLF), `need` when [*sp, end) ends first (with *skip, see rg__parser), or
 * -error. A method still going at the line's limit is not a known one: 501,
 * not 414, which is about the target. */
static int request_line(struct rg__request *req, const char **sp,
			const char *end, int need, uint8_t *skip)
{
	const char *s = *sp, *m = s;

	if (end - s >= 4 && load32(s) == load32("GET ")) {
		s += 3;
		req->method_id = RG_METHOD_GET;
	} else if (end - s >= 5 && load32(s) == load32("POST") && s[4] == ' ') {
		s += 4;
		req->method_id = RG_METHOD_POST;
	} else {
		s = rg__scan_token(s, end);
		if (s == end) {
			*skip = RG__C_TCHAR;
			return need < 0 && s > m ? -RG__E_METHOD_LONG : need;
		}
		if (*s != ' ' || s == m)
			return stop_error(s, end, RG__E_METHOD, need);
		req->method_id = rg__method_id(m, (size_t)(s - m));
	}
	req->method = (struct rg_str){m, (size_t)(s - m)};

	const char *t = ++s;
	/* Its first byte names the target's form (RFC 9112 3.2): '/', '*',
	 * "http", or for CONNECT an authority. Any other is an error now,
	 * not at the end of the line (an SSH or SMTP banner, say). */
	if (UNLIKELY(s == end || *s != '/') && s < end && *s != '*' &&
	    (*s | 0x20) != 'h' && req->method_id != RG_METHOD_CONNECT)
		return -RG__E_TARGET;
	s = target_end(s, end);
	if (s == end) {
		*skip =
		    s > t ? RG__C_TARGET : 0; /* the first byte: see above */
		return need;
	}
	if (*s != ' ' || s == t)
		return stop_error(s, end, RG__E_TARGET, need);
	req->target = (struct rg_str){t, (size_t)(s - t)};
	int r = target_form(req);
	if (r)
		return r;

	s++;
	if (end - s >= 10 &&
	    (load64(s) == load64("HTTP/1.1") ||
	     load64(s) == load64("HTTP/1.0")) &&
	    s[8] == '\r' && s[9] == '\n') {
		req->version_minor = (uint8_t)(s[7] - '0');
		*sp = s + 10;
		return 1;
	}
	*sp = s;
	return version_slow(req, sp, end, need);
}

/* --- fields --------------------------------------------------------------- */

const char *const rg__known_name[RG__H_COUNT] = {
    [RG__H_HOST] = "host",
    [RG__H_CONTENT_LENGTH] = "content-length",
    [RG__H_TRANSFER_ENCODING] = "transfer-encoding",
    [RG__H_CONNECTION] = "connection",
    [RG__H_EXPECT] = "expect",
    [RG__H_CONTENT_TYPE] = "content-type",
    [RG__H_ACCEPT_ENCODING] = "accept-encoding",
    [RG__H_IF_NONE_MATCH] = "if-none-match",
    [RG__H_IF_MODIFIED_SINCE] = "if-modified-since",
    [RG__H_RANGE] = "range",
    [RG__H_UPGRADE] = "upgrade",
};

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
		return token_ieq(n, "content-length", 14) ? RG__H_CONTENT_LENGTH
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

/* The class masks of the 64 bytes at `base` (rg__classify64): searching
 * them is a shift and a count of zeros, so finding where a name or a line
 * ends does not wait for a scan that itself waited for the previous one.
 * Measured on a 12-field browser GET: 225 ns with a SIMD scan per name and
 * per value, 137 ns with the masks (same run, AVX2). */
struct block {
	const char *base;
	struct rg__masks m;
};

/* The first byte at or after q whose bit is set in the value mask (or, if
 * !value, the name mask), or `end`; moves the block forward as needed
 * (searches only ever move forward). On the scalar level the table loop
 * gives the same answer for less than building masks byte by byte. */
static inline const char *next_stop(struct block *b, bool value, const char *q,
				    const char *lo, const char *end)
{
	if (!b->base)
		return rg__scan_scalar(q, end,
				       value ? RG__C_VALUE : RG__C_NAME);
	for (;;) {
		size_t off = (size_t)(q - b->base);
		if (off < 64) {
			uint64_t m = (value ? b->m.value : b->m.name) >> off;
			if (m)
				return q + __builtin_ctzll(m);
			q = b->base + 64;
		}
		if (q >= end)
			return end;
		b->base = q;
		b->m = rg__classify64(lo, q, end);
	}
}

static struct rg_header *
fields_grow(struct rg__parser *p, struct rg_arena *arena, struct rg_header *h)
{
	uint32_t max = p->limits->max_headers;
	uint32_t cap = p->cap ? p->cap * 2 : FIELDS_FIRST;
	if (cap > max || cap < p->cap)
		cap = max;
	h = p->cap ? rg_arena_realloc(arena, h, p->cap * sizeof(*h),
				      cap * sizeof(*h))
		   : rg_arena_alloc_aligned(arena, cap * sizeof(*h), 8);
	if (h)
		p->cap = cap;
	return h;
}

static inline uint16_t load16(const char *s)
{
	uint16_t v;
	memcpy(&v, s, 2);
	return v;
}

/* What name_slow returns when the line is a field after all. */
enum { NAME_OK = 2 };

/* A field line whose name did not end in a colon within the block as the
 * fast path expects: the end of the head (*sp past its CRLF, 1), line
 * folding, one field too many, a name cut short by `end` or holding '_'
 * (*sp at the colon past it, NAME_OK), or an invalid byte. `n` is the line,
 * *sp where the name mask stopped. The checks keep the byte order of a
 * straight parse: the line's first byte, the field count, then the name. */
static int name_slow(struct rg__parser *p, struct block *b, const char *lo,
		     const char *n, const char **sp, const char *end, int need,
		     uint32_t nh)
{
	const char *s = *sp;
	if (n == end)
		return need;
	if (*n == '\r') {
		if (n + 1 == end)
			return need;
		if (n[1] != '\n')
			return -RG__E_LINE_ENDING;
		*sp = n + 2;
		return 1;
	}
	/* RFC 9112 5.2: obs-fold; before the first field, 2.2. */
	if (*n == ' ' || *n == '\t')
		return -RG__E_OBS_FOLD;
	if (nh == p->limits->max_headers)
		return -RG__E_TOO_MANY_HEADERS;
	/* '_' stops the name mask: step over it. */
	while (s < end && *s == '_') {
		p->under = true;
		s = next_stop(b, false, s + 1, lo, end);
	}
	if (s == end) {
		p->skip = RG__C_TCHAR;
		return need;
	}
	if (*s != ':' || s == n)
		return stop_error(s, end, RG__E_HEADER_NAME, need);
	*sp = s;
	return NAME_OK;
}

/* A value that did not end in CRLF: `need` or -error. `s` is where the
 * value mask stopped. */
static int value_end_slow(struct rg__parser *p, const char *s, const char *end,
			  int need)
{
	if (s == end) {
		p->skip = RG__C_VALUE;
		return need;
	}
	if (*s != '\r')
		return *s == '\n' ? -RG__E_LINE_ENDING : -RG__E_HEADER_VALUE;
	if (s + 1 == end)
		return need;
	return -RG__E_LINE_ENDING;
}

/* The spans of the value between `v` (past the colon) and `ve` (its CR)
 * without OWS around it (RFC 9110 5.5). Every byte between is a field-value
 * byte (the mask said so), and of those only SP and HTAB are <= 0x20: one
 * compare a byte. */
static inline struct rg_str value_trim(const char *v, const char *ve)
{
	while (v < ve && (unsigned char)*v <= ' ')
		v++;
	while (ve > v && (unsigned char)ve[-1] <= ' ')
		ve--;
	return (struct rg_str){v, (size_t)(ve - v)};
}

/* The usual field line, whole in the block: a non-empty name ending in
 * ':', a value ending in CRLF. Both ends are searched from the line's start,
 * side by side: name bytes and ':' are value bytes, so the first value stop
 * from there is the value's. True with *colon and *cr; anything else (the
 * end of the head included) is for line_slow. On the scalar level
 * (b->base NULL) the offset, taken on integers, is never below 64: no
 * object lives in the first page. */
static inline bool line_fast(const struct block *b, const char *line,
			     const char *end, const char **colon,
			     const char **cr)
{
	uintptr_t off = (uintptr_t)line - (uintptr_t)b->base;
	if (off >= 64)
		return false;
	uint64_t vm = b->m.value >> off;
	if (!vm) /* the line goes on past the block */
		return false;
	/* Every value stop is a name stop: the name mask is not 0 either. */
	const char *c = line + (unsigned)__builtin_ctzll(b->m.name >> off);
	const char *e = line + (unsigned)__builtin_ctzll(vm);
	if (end - e < 2 || c == line || *c != ':' ||
	    load16(e) != load16("\r\n"))
		return false;
	*colon = c;
	*cr = e;
	return true;
}

/* Any field line, the end of the head or an error, searched step by step
 * (moving the block as needed): NAME_OK with *colon and *cr as line_fast
 * gives them, 1 at the end of the head (*colon past its CRLF), `need`, or
 * -error. Inline, as the rest: the block stays in registers (out of line,
 * in memory, it measured 10% slower on a browser GET). */
static inline int line_slow(struct rg__parser *p, struct block *b,
			    const char *lo, const char *line, const char *end,
			    int need, uint32_t nh, const char **colon,
			    const char **cr)
{
	const char *s = next_stop(b, false, line, lo, end);
	if (s == line || s == end || *s != ':' ||
	    nh == p->limits->max_headers) {
		int r = name_slow(p, b, lo, line, &s, end, need, nh);
		if (r != NAME_OK) {
			*colon = s;
			return r;
		}
	}
	*colon = s;
	/* From the colon: OWS bytes are value bytes. */
	s = next_stop(b, true, s, lo, end);
	if (end - s < 2 || load16(s) != load16("\r\n"))
		return value_end_slow(p, s, end, need);
	*cr = s;
	return NAME_OK;
}

/* field-line CRLF ... CRLF, from *sp. Returns 1 with *sp past the final
 * CRLF, `need`, or -error. Bytes from `lo` on may be read. The array and
 * its count stay in registers until the end. Lines whole in the 64-byte
 * block take line_fast, the others line_slow: against line_slow for every
 * line (its two searches one after the other), 11% less time on a curl
 * GET, 8% on a form POST, 3% on a browser GET (same run, AVX2). */
static int fields(struct rg__parser *p, struct rg_arena *arena,
		  struct rg__request *req, const char *lo, const char **sp,
		  const char *end, int need)
{
	const char *s = *sp, *line = s;
	struct block b = {NULL, {0, 0}};
	if (rg__simd_level != RG__SIMD_SCALAR)
		b = (struct block){s, rg__classify64(lo, s, end)};
	struct rg_header *hdr = req->headers;
	uint32_t nh = req->nheaders, max = p->limits->max_headers;
	int r;
	for (;;) {
		line = s;
		const char *colon, *cr = NULL;
		if (UNLIKELY(!line_fast(&b, line, end, &colon, &cr) ||
			     nh == max)) {
			/* The empty line that ends the head, here rather than
			 * in line_slow: every head has one. */
			if (end - line >= 2 && load16(line) == load16("\r\n")) {
				line += 2;
				r = 1;
				goto out;
			}
			r = line_slow(p, &b, lo, line, end, need, nh, &colon,
				      &cr);
			if (r != NAME_OK) {
				if (r == 1)
					line = colon;
				goto out;
			}
		}
		struct rg_str value = value_trim(colon + 1, cr);
		s = cr + 2;

		if (UNLIKELY(nh == p->cap)) {
			hdr = fields_grow(p, arena, hdr);
			if (!hdr) {
				r = -RG__E_NO_MEMORY;
				goto out;
			}
			req->headers = hdr;
		}
		size_t nlen = (size_t)(colon - line);
		hdr[nh] = (struct rg_header){{line, nlen}, value};
		int id = known_id(line, nlen);
		nh++;
		if (id >= 0) {
			if (req->known[id] < 0)
				req->known[id] = (int16_t)(nh - 1);
			r = 0;
			if (id == RG__H_HOST)
				r = rg__host_field(p, req, value.ptr, value.len,
						   lo, end);
			else if (id == RG__H_CONTENT_LENGTH)
				r = rg__content_length(p, req, value.ptr,
						       value.len);
			else if (id <= RG__H_EXPECT)
				r = rg__field_meaning(p, req, id, value.ptr,
						      value.len);
			if (r)
				goto out;
		}
	}
out:
	req->nheaders = nh;
	*sp = line;
	return r;
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

/* The fields the request line and the fields do not always set (a
 * whole-struct clear costs a rep stos, 5% of a parse). */

static void request_init(struct rg__request *req)
{
	req->authority = (struct rg_str){NULL, 0};
	req->expect_continue = false;
	req->body = RG__BODY_NONE;
	req->content_length = 0;
	req->headers = NULL;
	req->nheaders = 0;
	memset(req->known, 0xff, sizeof(req->known));
	req->dropped = 0; /* dropped_name is set with the first */
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
	if (req->dropped)
		rebase_str(&req->dropped_name, f, n, to);
	for (uint32_t i = 0; i < req->nheaders; i++) {
		rebase_str(&req->headers[i].name, f, n, to);
		rebase_str(&req->headers[i].value, f, n, to);
	}
}

/* Takes the fields whose name holds '_' out of the array, in place, and
 * moves the known[] indices after them down. Only for a head that has one:
 * the name scan noticed it (p->under), so the common path pays nothing. */
static void drop_underscored(struct rg__request *req)
{
	struct rg_header *h = req->headers;
	uint32_t j = 0;
	for (uint32_t i = 0; i < req->nheaders; i++) {
		if (!memchr(h[i].name.ptr, '_', h[i].name.len)) {
			h[j++] = h[i];
			continue;
		}
		if (!req->dropped++)
			req->dropped_name = h[i].name;
		for (int id = 0; id < RG__H_COUNT; id++)
			if (req->known[id] > (int16_t)j)
				req->known[id]--;
	}
	req->nheaders = j;
}

/* The first byte of [s, end) outside `cls` (one of the classes p->skip
 * holds), or `end`. */
static const char *scan_class(uint8_t cls, const char *s, const char *end)
{
	switch (cls) {
	case RG__C_TCHAR:
		return rg__scan_token(s, end);
	case RG__C_TARGET:
		return rg__scan_target(s, end);
	default:
		return rg__scan_value(s, end);
	}
}

static int parse(struct rg__parser *p, struct rg_arena *arena, const char *buf,
		 size_t len, struct rg__request *req)
{
	int err;
	size_t lim;
	const char *s = buf + p->line;

	p->skip = 0;
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
		int r =
		    request_line(req, &s, end, len >= lim ? -err : 0, &p->skip);
		if (r <= 0)
			return r;
		p->stage = STAGE_FIELDS;
		p->line = (size_t)(s - buf);
	}

	lim = line_limit(p, &err);
	const char *end = buf + (len < lim ? len : lim);
	int r = fields(p, arena, req, buf, &s, end, len >= lim ? -err : 0);
	p->line = (size_t)(s - buf);
	if (r <= 0)
		return r;
	if (UNLIKELY(p->under) && !p->limits->underscores)
		drop_underscored(req);
	r = rg__head_done(p, req);
	return r ? r : (int)p->line;
}

int rg__parse_request(struct rg__parser *p, struct rg_arena *arena,
		      const char *buf, size_t len, struct rg__request *req)
{
	if (p->scanned > p->line) {
		/* The current line is incomplete and stopped in a method, a
		 * target, a name or a value: until a byte outside that class
		 * arrives (an LF, a separator, an invalid byte) or the line
		 * reaches its limit, there is nothing to parse. */
		if (len <= p->scanned)
			return 0;
		int err;
		size_t lim = line_limit(p, &err);
		if (len < lim && p->skip &&
		    scan_class(p->skip, buf + p->scanned, buf + len) ==
			buf + len) {
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
	/* Spare entries of a grown array go back to the arena; those of the
	 * first one (at most 15, 480 bytes, freed with the arena) are left:
	 * the call costs 2-3 ns a request. */
	if (r > 0 && p->cap > FIELDS_FIRST && req->nheaders < p->cap)
		req->headers = rg_arena_realloc(
		    arena, req->headers, p->cap * sizeof(*req->headers),
		    req->nheaders * sizeof(*req->headers));
	rg__parser_reset(p);
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
