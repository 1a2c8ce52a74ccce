/* test_llhttp_corpus.c: runs llhttp's request test cases (markdown files in
 * ../shared/corpus/llhttp) through ringlet's request parser and chunked
 * decoder and checks that ringlet agrees with llhttp's expected log, except
 * for the cases listed, with the reason, in `differences` below.
 *
 * Each strict case ("type": "request") is converted to bytes by llhttp's own
 * rules (test/md-test.ts), run through ringlet the way a connection would run
 * it (head, then the body by Content-Length or rg__chunked_decode, then any
 * pipelined request that follows, until a request without keep-alive), and
 * compared with the log: accept or reject; for accepted messages the method,
 * target, header fields and body. The run is repeated a byte at a time and at
 * every lower SIMD level the CPU has (scalar, SSE4.2); all must give the same
 * results. Lenient cases (llhttp's opt-in modes) and other types are counted
 * and skipped.
 *
 * Two llhttp outcomes are not rejections: error 22/23 (paused for CONNECT,
 * Upgrade or the HTTP/2 preface) hands the bytes after the message to
 * another protocol, so only the messages up to there are compared, and
 * ringlet must end that message at the same byte; error 5 (data after
 * `Connection: close`) matches ringlet closing with bytes left unread.
 *
 * The corpus directory is $RG_SHARED_DIR/corpus/llhttp, RG_SHARED_DIR being
 * the environment variable, else the directory the Makefile compiled in,
 * else ../shared beside the source tree. Without the corpus the test reports
 * SKIPPED. Set RG_CORPUS_VERBOSE=1 to print every case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/parser.h"
#include "http/scan.h"
#include "ringlet.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------------
 * Where ringlet deliberately disagrees with llhttp. Every entry names a case
 * ("file.md: section title"; a title repeated in one file gets " (2)") and
 * says why. The test fails if a listed case agrees or a case not listed
 * disagrees, so a change in either direction is noticed.
 *
 * Entries of kind SPLIT list cases where ringlet's results depend on how the
 * input was cut into calls (one piece against a byte at a time), which the
 * parser's contract rules out. They are believed to be defects ("PARSER
 * BUG?") and are listed only until fixed.
 * ------------------------------------------------------------------------ */

enum difference_kind {
	LLHTTP, /* ringlet's result differs from llhttp's log */
	SPLIT,	/* one-piece and byte-at-a-time parsing differ */
};

struct difference {
	const char *name;
	enum difference_kind kind;
	const char *reason;
};

static const struct difference differences[] = {
    /* Methods: any token is a method (RFC 9110 9.1); which ones are
     * served is the application's business (501 for the others). llhttp
     * knows a fixed list, per protocol. Ringlet accepts, llhttp rejects. */
    {"invalid.md: Invalid method", LLHTTP,
     "MKCOLA is a valid token; llhttp only knows listed methods"},
    {"invalid.md: HTTP protocol and ANNOUNCE method", LLHTTP,
     "ANNOUNCE is a valid token; llhttp allows it only with RTSP/"},

    /* Protocols other than HTTP/1.x. */
    {"method.md: SOURCE request with ICE", LLHTTP,
     "ringlet speaks HTTP only: ICE/1.0 is a malformed version (400)"},
    {"method.md: OPTIONS request with RTSP", LLHTTP,
     "ringlet speaks HTTP only: RTSP/1.0 is a malformed version (400)"},
    {"method.md: ANNOUNCE request with RTSP", LLHTTP,
     "ringlet speaks HTTP only: RTSP/1.0 is a malformed version (400)"},
    {"sample.md: No HTTP version", LLHTTP,
     "HTTP/0.9 simple requests are not supported (400)"},
    {"method.md: PRI request HTTP2", LLHTTP,
     "no HTTP/2 prior-knowledge hand-over; and asterisk-form is only "
     "for OPTIONS (RFC 9112 3.2.4): 400"},

    /* Request-target forms. */
    {"method.md: M-SEARCH request", LLHTTP,
     "asterisk-form is only for OPTIONS (RFC 9112 3.2.4): 400"},
    {"uri.md: `host:port` and basic auth", LLHTTP,
     "userinfo in an http URI is treated as an error (RFC 9110 4.2.4)"},

    /* Framing. */
    {"transfer-encoding.md: POST with `chunked` as last transfer-encoding",
     LLHTTP,
     "no transfer coding but chunked is implemented: deflate "
     "gets 501 (RFC 9112 6.1)"},
    {"transfer-encoding.md: POST with `chunked` as last transfer-encoding "
     "(multiple headers)",
     LLHTTP,
     "no transfer coding but chunked is implemented: deflate "
     "gets 501 (RFC 9112 6.1)"},
    {"content-length.md: Content-Length reset when no body is received", LLHTTP,
     "skipBody is an llhttp callback option (for responses to "
     "HEAD); a server reads the Content-Length body of a request"},
    {"method.md: CONNECT with body", LLHTTP,
     "no CONNECT tunnels: Content-Length frames a body as for any "
     "method, where llhttp hands the bytes after the head to the tunnel"},

    /* Incomplete input. */
    {"invalid.md: Invalid HTTP version", LLHTTP,
     "the case has no CRLF: ringlet checks the version when the request "
     "line ends (then 505), llhttp at the first bad digit"},

    /* RFC 9112 3.2 and RFC 9110 6.5.1, where llhttp is lenient. */
    {"uri.md: Fragment in URI", LLHTTP,
     "a fragment is in no request-target form (RFC 9112 3.2): 400"},
    {"transfer-encoding.md: Trailing headers", LLHTTP,
     "Content-Type may not be a trailer (RFC 9110 6.5.1): 400"},
    {NULL, LLHTTP, NULL},
};

/* ------------------------------------------------------------------------
 * Growable byte strings and small helpers
 * ------------------------------------------------------------------------ */

struct bytes {
	char *p;
	size_t len, cap;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		abort();
	return p;
}

static void bytes_put(struct bytes *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void bytes_putc(struct bytes *b, char c)
{
	bytes_put(b, &c, 1);
}

static void bytes_free(struct bytes *b)
{
	free(b->p);
	*b = (struct bytes){0};
}

static bool bytes_eq(const struct bytes *a, const struct bytes *b)
{
	return a->len == b->len && (a->len == 0 || !memcmp(a->p, b->p, a->len));
}

/* Appends `s` to `out` with non-printable bytes escaped, for messages. */
static void put_escaped(struct bytes *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[8];
		if (c == '\r')
			bytes_put(out, "\\r", 2);
		else if (c == '\n')
			bytes_put(out, "\\n", 2);
		else if (c == '\t')
			bytes_put(out, "\\t", 2);
		else if (c == '\\' || c == '"')
			bytes_put(out, (char[]){'\\', (char)c}, 2);
		else if (c < 0x20 || c >= 0x7f)
			bytes_put(
			    out, tmp,
			    (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", c));
		else
			bytes_putc(out, (char)c);
	}
}

static void putf(struct bytes *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void putf(struct bytes *out, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		bytes_put(out, tmp,
			  (size_t)n < sizeof(tmp) ? (size_t)n
						  : sizeof(tmp) - 1);
}

/* ------------------------------------------------------------------------
 * Case input: llhttp's md-test.ts conversion, step by step and in its order.
 * The JavaScript works on a UTF-16 string and hands the parser its UTF-8
 * encoding, so an escape such as \xff becomes the two bytes C3 BF (the
 * corpus logs confirm it: "\xffValue2" is a span of 8 bytes). The steps run
 * on code points and the result is encoded last.
 * ------------------------------------------------------------------------ */

struct cps {
	uint32_t *v;
	size_t len, cap;
};

static void cps_push(struct cps *c, uint32_t cp)
{
	if (c->len == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->len++] = cp;
}

static void cps_from_utf8(struct cps *c, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		uint32_t cp = u[i];
		size_t k = cp < 0x80 ? 1 : cp < 0xe0 ? 2 : cp < 0xf0 ? 3 : 4;
		if (k > 1 && i + k <= n) {
			cp &= 0x3f >> (k - 1);
			for (size_t j = 1; j < k; j++)
				cp = cp << 6 | (u[i + j] & 0x3f);
		} else {
			k = 1;
		}
		cps_push(c, cp);
		i += k;
	}
}

static void cps_to_utf8(const struct cps *c, struct bytes *out)
{
	for (size_t i = 0; i < c->len; i++) {
		uint32_t cp = c->v[i];
		if (cp >= 0xd800 && cp < 0xe000)
			cp = 0xfffd; /* lone surrogate, as Node encodes it */
		if (cp < 0x80) {
			bytes_putc(out, (char)cp);
		} else if (cp < 0x800) {
			bytes_putc(out, (char)(0xc0 | cp >> 6));
			bytes_putc(out, (char)(0x80 | (cp & 0x3f)));
		} else if (cp < 0x10000) {
			bytes_putc(out, (char)(0xe0 | cp >> 12));
			bytes_putc(out, (char)(0x80 | (cp >> 6 & 0x3f)));
			bytes_putc(out, (char)(0x80 | (cp & 0x3f)));
		} else {
			bytes_putc(out, (char)(0xf0 | cp >> 18));
			bytes_putc(out, (char)(0x80 | (cp >> 12 & 0x3f)));
			bytes_putc(out, (char)(0x80 | (cp >> 6 & 0x3f)));
			bytes_putc(out, (char)(0x80 | (cp & 0x3f)));
		}
	}
}

static int hexval(uint32_t c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* One pass of `input.replace(/\\<letter>/g, value)`. */
static void pass_letter(struct cps *c, uint32_t letter, uint32_t value)
{
	size_t o = 0;
	for (size_t i = 0; i < c->len; i++) {
		if (c->v[i] == '\\' && i + 1 < c->len &&
		    c->v[i + 1] == letter) {
			c->v[o++] = value;
			i++;
		} else {
			c->v[o++] = c->v[i];
		}
	}
	c->len = o;
}

/* `replace(/\\x([0-9a-fA-F]+)/g, String.fromCharCode(parseInt(hex, 16)))`:
 * greedy, and fromCharCode keeps the low 16 bits. */
static void pass_hex(struct cps *c)
{
	size_t o = 0;
	for (size_t i = 0; i < c->len; i++) {
		if (c->v[i] == '\\' && i + 2 < c->len && c->v[i + 1] == 'x' &&
		    hexval(c->v[i + 2]) >= 0) {
			uint32_t v = 0;
			size_t j = i + 2;
			for (; j < c->len && hexval(c->v[j]) >= 0; j++)
				v = (v << 4 | (uint32_t)hexval(c->v[j])) &
				    0xffff;
			c->v[o++] = v;
			i = j - 1;
		} else {
			c->v[o++] = c->v[i];
		}
	}
	c->len = o;
}

/* `replace(/\\([0-7]{1,3})/g, String.fromCharCode(parseInt(digits, 8)))` */
static void pass_octal(struct cps *c)
{
	size_t o = 0;
	for (size_t i = 0; i < c->len; i++) {
		if (c->v[i] == '\\' && i + 1 < c->len && c->v[i + 1] >= '0' &&
		    c->v[i + 1] <= '7') {
			uint32_t v = 0;
			size_t j = i + 1;
			for (; j < c->len && j < i + 4 && c->v[j] >= '0' &&
			       c->v[j] <= '7';
			     j++)
				v = v << 3 | (c->v[j] - '0');
			c->v[o++] = v;
			i = j - 1;
		} else {
			c->v[o++] = c->v[i];
		}
	}
	c->len = o;
}

/* The tiny JavaScript of `${...}`: a sum of string literals, each optionally
 * followed by .repeat(N), such as "a".repeat(8000). Returns false on
 * anything else, which fails the test rather than guess. */
static bool eval_js(const uint32_t *s, size_t n, struct cps *out)
{
	size_t i = 0;
	for (;;) {
		while (i < n && s[i] == ' ')
			i++;
		if (i >= n || (s[i] != '"' && s[i] != '\''))
			return false;
		uint32_t q = s[i++];
		size_t start = i;
		while (i < n && s[i] != q && s[i] != '\\')
			i++;
		if (i >= n || s[i] != q)
			return false;
		size_t end = i++;
		unsigned long times = 1;
		static const char rep[] = ".repeat(";
		if (n - i >= sizeof(rep) - 1) {
			size_t k = 0;
			while (k < sizeof(rep) - 1 &&
			       s[i + k] == (uint32_t)rep[k])
				k++;
			if (k == sizeof(rep) - 1) {
				i += k;
				times = 0;
				if (i >= n || s[i] < '0' || s[i] > '9')
					return false;
				while (i < n && s[i] >= '0' && s[i] <= '9')
					times = times * 10 + (s[i++] - '0');
				if (i >= n || s[i] != ')' || times > 1u << 24)
					return false;
				i++;
			}
		}
		for (unsigned long t = 0; t < times; t++)
			for (size_t k = start; k < end; k++)
				cps_push(out, s[k]);
		while (i < n && s[i] == ' ')
			i++;
		if (i == n)
			return true;
		if (s[i++] != '+')
			return false;
	}
}

static bool pass_js(struct cps *c)
{
	struct cps out = {0};
	bool ok = true;
	for (size_t i = 0; i < c->len; i++) {
		if (c->v[i] == '$' && i + 1 < c->len && c->v[i + 1] == '{') {
			size_t j = i + 2;
			while (j < c->len && c->v[j] != '}')
				j++;
			/* .+? needs one character at least */
			if (j < c->len && j > i + 2) {
				ok = ok &&
				     eval_js(c->v + i + 2, j - i - 2, &out);
				i = j;
				continue;
			}
		}
		cps_push(&out, c->v[i]);
	}
	free(c->v);
	*c = out;
	return ok;
}

/* Converts the text of an ```http block (its lines joined by '\n', which is
 * md-test's value with the final newline removed) to the request bytes. */
static bool convert_input(const char *text, size_t n, struct bytes *out)
{
	struct cps c = {0}, d = {0};
	cps_from_utf8(&c, text, n);
	/* Remove escaped newlines: /\\(\r\n|\r|\n)/g -> "" */
	for (size_t i = 0; i < c.len; i++) {
		if (c.v[i] == '\\' && i + 1 < c.len &&
		    (c.v[i + 1] == '\r' || c.v[i + 1] == '\n')) {
			i += c.v[i + 1] == '\r' && i + 2 < c.len &&
				     c.v[i + 2] == '\n'
				 ? 2
				 : 1;
			continue;
		}
		cps_push(&d, c.v[i]);
	}
	/* Normalize all newlines: /\r\n|\r|\n/g -> "\r\n" */
	c.len = 0;
	for (size_t i = 0; i < d.len; i++) {
		if (d.v[i] == '\r' || d.v[i] == '\n') {
			if (d.v[i] == '\r' && i + 1 < d.len &&
			    d.v[i + 1] == '\n')
				i++;
			cps_push(&c, '\r');
			cps_push(&c, '\n');
		} else {
			cps_push(&c, d.v[i]);
		}
	}
	free(d.v);
	pass_letter(&c, 'r', '\r');
	pass_letter(&c, 'n', '\n');
	pass_letter(&c, 't', '\t');
	pass_letter(&c, 'f', '\f');
	pass_hex(&c);
	pass_octal(&c);
	bool ok = pass_js(&c);
	cps_to_utf8(&c, out);
	free(c.v);
	return ok;
}

/* ------------------------------------------------------------------------
 * Messages and results, for both sides
 * ------------------------------------------------------------------------ */

enum field_state { F_NAME, F_NAME_DONE, F_VALUE, F_VALUE_DONE };

struct field {
	struct bytes name, value;
	enum field_state state;
};

struct msg {
	struct bytes method, url, body;
	struct field *h;
	size_t nh, caph;
	bool head_complete, complete;
	size_t end; /* offset just past the message, when complete */
};

enum outcome {
	OUT_END,     /* every byte used, last message complete */
	OUT_PARTIAL, /* the last message needs more bytes */
	OUT_ERROR,   /* rejected */
	OUT_CLOSED,  /* connection done (Connection: close, HTTP/1.0) with
			bytes left over that are not read */
	OUT_UPGRADE, /* llhttp only: handed over to another protocol (CONNECT,
			Upgrade, PRI) at `off` */
};

struct result {
	struct msg *m;
	size_t n, cap;
	enum outcome out;
	int code;   /* llhttp error code, or ringlet's enum rg__http_error */
	int status; /* ringlet: HTTP status of `code` */
	size_t off; /* llhttp: offset of the error or hand-over */
	struct bytes reason;
};

static struct msg *result_push(struct result *r)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 4;
		r->m = xrealloc(r->m, r->cap * sizeof(*r->m));
	}
	r->m[r->n] = (struct msg){0};
	return &r->m[r->n++];
}

static struct field *msg_field(struct msg *m)
{
	if (m->nh == m->caph) {
		m->caph = m->caph ? m->caph * 2 : 8;
		m->h = xrealloc(m->h, m->caph * sizeof(*m->h));
	}
	m->h[m->nh] = (struct field){0};
	return &m->h[m->nh++];
}

static void result_free(struct result *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct msg *m = &r->m[i];
		bytes_free(&m->method);
		bytes_free(&m->url);
		bytes_free(&m->body);
		for (size_t j = 0; j < m->nh; j++) {
			bytes_free(&m->h[j].name);
			bytes_free(&m->h[j].value);
		}
		free(m->h);
	}
	free(r->m);
	bytes_free(&r->reason);
	*r = (struct result){0};
}

static size_t complete_count(const struct result *r)
{
	size_t n = 0;
	while (n < r->n && r->m[n].complete)
		n++;
	return n;
}

/* ------------------------------------------------------------------------
 * The expected side: llhttp's log
 * ------------------------------------------------------------------------ */

/* Offsets where "Host: x\r\n" was inserted, in input coordinates. */
struct inject {
	size_t at[16];
	size_t n;
};

static const char host_line[] = "Host: x\r\n";
#define HOST_LINE_LEN (sizeof(host_line) - 1)

/* An llhttp offset moved past the lines inserted before it. */
static size_t map_off(const struct inject *inj, size_t off)
{
	size_t moved = off;
	for (size_t i = 0; i < inj->n; i++)
		if (inj->at[i] <= off)
			moved += HOST_LINE_LEN;
	return moved;
}

/* md-test replaces \t and \f in the expected log too. */
static void unescape_span(const char *s, size_t n, struct bytes *out)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n &&
		    (s[i + 1] == 't' || s[i + 1] == 'f')) {
			bytes_putc(out, s[i + 1] == 't' ? '\t' : '\f');
			i++;
		} else {
			bytes_putc(out, s[i]);
		}
	}
}

/* Reads the log into `r` (offsets in the unmodified input) and the offsets
 * where each message begins into `begins`. Returns false, with the reason
 * in r->reason, if a line cannot be read or a span's length disagrees with
 * its text (which would mean the conversion is wrong). */
static bool read_log(const char *log, size_t n, struct result *r,
		     size_t *begins, size_t max_begins)
{
	struct msg *m = NULL;
	const char *line = log, *end = log + n;
	size_t len = 0;
	r->out = OUT_END;
	while (line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		len = (size_t)(eol - line);
		const char *next = eol < end ? eol + 1 : end;
		if (len == 0) {
			line = next;
			continue;
		}
		char *p;
		if (strncmp(line, "off=", 4) != 0)
			goto bad;
		size_t off = strtoul(line + 4, &p, 10);
		if (strncmp(line + 4, "NULL", 4) == 0)
			p = (char *)line + 8;
		if (*p++ != ' ')
			goto bad;
		const char *rest = p;
		size_t rlen = (size_t)(eol - rest);
#define IS(lit) (rlen >= sizeof(lit) - 1 && !memcmp(rest, lit, sizeof(lit) - 1))
		if (IS("message begin")) {
			if (r->n >= max_begins)
				goto bad;
			begins[r->n] = off;
			m = result_push(r);
		} else if (IS("headers complete")) {
			if (m)
				m->head_complete = true;
		} else if (IS("message complete")) {
			if (m) {
				m->complete = true;
				m->end = off;
			}
		} else if (IS("error code=")) {
			r->code = atoi(rest + 11);
			r->off = off;
			/* 22 and 23 are not rejections: llhttp pauses so that
			 * the caller can switch protocols (CONNECT, Upgrade,
			 * the HTTP/2 preface). */
			r->out = r->code == 22 || r->code == 23 ? OUT_UPGRADE
								: OUT_ERROR;
			/* Data after `Connection: close` */
			if (r->code == 5)
				r->out = OUT_CLOSED;
			bytes_put(&r->reason, rest, rlen);
		} else if (IS("len=")) {
			size_t slen = strtoul(rest + 4, &p, 10);
			const char *kind = strstr(p, "span[");
			const char *q = memchr(rest, '=', rlen);
			q = q ? memchr(q + 1, '=', (size_t)(eol - q - 1))
			      : NULL;
			if (kind == NULL || kind > eol || q == NULL ||
			    q + 2 > eol || q[1] != '"' || eol[-1] != '"')
				goto bad;
			struct bytes v = {0};
			unescape_span(q + 2, (size_t)(eol - 1 - (q + 2)), &v);
			bool sized = v.len == slen;
			kind += 5;
			size_t klen = strcspn(kind, "]");
			struct bytes *dst = NULL;
#define KIND(lit) (klen == sizeof(lit) - 1 && !memcmp(kind, lit, klen))
			if (m == NULL) {
				dst = NULL;
			} else if (KIND("method")) {
				dst = &m->method;
			} else if (KIND("url")) {
				dst = &m->url;
			} else if (KIND("body")) {
				dst = &m->body;
			} else if (KIND("header_field") && !m->head_complete) {
				if (m->nh == 0 ||
				    m->h[m->nh - 1].state != F_NAME)
					msg_field(m)->state = F_NAME;
				dst = &m->h[m->nh - 1].name;
			} else if (KIND("header_value") && !m->head_complete &&
				   m->nh > 0) {
				m->h[m->nh - 1].state = F_VALUE;
				dst = &m->h[m->nh - 1].value;
			}
#undef KIND
			if (dst)
				bytes_put(dst, v.p, v.len);
			bytes_free(&v);
			if (!sized) {
				putf(&r->reason,
				     "span length %zu disagrees "
				     "with its text: ",
				     slen);
				bytes_put(&r->reason, line, len);
				return false;
			}
		} else if (IS("header_field complete")) {
			if (m && m->nh && !m->head_complete)
				m->h[m->nh - 1].state = F_NAME_DONE;
		} else if (IS("header_value complete")) {
			if (m && m->nh && !m->head_complete)
				m->h[m->nh - 1].state = F_VALUE_DONE;
		}
#undef IS
		line = next;
	}
	if (r->out == OUT_END && r->n > 0 && !r->m[r->n - 1].complete)
		r->out = OUT_PARTIAL;
	/* llhttp's value spans keep trailing whitespace; RFC 9110 5.5 says
	 * it is not part of the value, and ringlet drops it. */
	for (size_t i = 0; i < r->n; i++) {
		for (size_t j = 0; j < r->m[i].nh; j++) {
			struct bytes *v = &r->m[i].h[j].value;
			while (v->len && (v->p[v->len - 1] == ' ' ||
					  v->p[v->len - 1] == '\t'))
				v->p[--v->len] = '\0';
		}
	}
	return true;
bad:
	bytes_put(&r->reason, "unreadable log line: ", 21);
	bytes_put(&r->reason, line, len);
	return false;
}

/* ------------------------------------------------------------------------
 * Host injection. llhttp's cases omit Host, which ringlet requires in
 * HTTP/1.1 (RFC 9112 3.2: a server MUST respond 400 to a request without
 * one). So every message of a case that has no Host field gets "Host: x\r\n"
 * inserted right after its request line, when that line ends in CRLF (a
 * request line that does not is rejected whatever follows). The inserted
 * field is left out when headers are compared. One consequence: in
 * "Invalid space after start line" the line " Host: foo" then follows a
 * field, and ringlet rejects it as obsolete line folding.
 * ------------------------------------------------------------------------ */

static bool has_host(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		const char *eol = memchr(s + i, '\n', n - i);
		size_t len = eol ? (size_t)(eol - (s + i)) : n - i;
		if (len == 0 || (len == 1 && s[i] == '\r'))
			return false; /* end of the header section */
		if (len >= 5 && !strncasecmp(s + i, "host:", 5))
			return true;
		i += len + 1;
	}
	return false;
}

static void inject_host(const struct bytes *in, const size_t *begins,
			size_t nbegins, struct bytes *out, struct inject *inj)
{
	inj->n = 0;
	for (size_t k = 0; k < nbegins && inj->n < 16; k++) {
		size_t b = begins[k];
		while (b < in->len && (in->p[b] == '\r' || in->p[b] == '\n'))
			b++;
		const char *lf =
		    b < in->len ? memchr(in->p + b, '\n', in->len - b) : NULL;
		if (lf == NULL || lf == in->p + b || lf[-1] != '\r')
			continue;
		size_t at = (size_t)(lf - in->p) + 1;
		if (has_host(in->p + at, in->len - at))
			continue;
		if (inj->n && inj->at[inj->n - 1] >= at)
			continue;
		inj->at[inj->n++] = at;
	}
	size_t from = 0;
	for (size_t i = 0; i < inj->n; i++) {
		bytes_put(out, in->p + from, inj->at[i] - from);
		bytes_put(out, host_line, HOST_LINE_LEN);
		from = inj->at[i];
	}
	bytes_put(out, in->p + from, in->len - from);
	/* From here on offsets are those of `out`. */
	for (size_t i = 0; i < inj->n; i++)
		inj->at[i] += i * HOST_LINE_LEN;
}

static bool injected(const struct inject *inj, size_t off)
{
	for (size_t i = 0; i < inj->n; i++)
		if (off >= inj->at[i] && off < inj->at[i] + HOST_LINE_LEN)
			return true;
	return false;
}

/* ------------------------------------------------------------------------
 * The actual side: ringlet, run like a connection runs it
 * ------------------------------------------------------------------------ */

static bool only_crlf(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

static bool status_allowed(int status)
{
	return status == 400 || status == 413 || status == 414 ||
	       status == 431 || status == 501 || status == 505;
}

/* Parses the head at buf[0, len): in one call, or growing the buffer a byte
 * at a time as if every byte arrived in its own read. */
static int parse_head(struct rg__parser *p, struct rg_arena *arena,
		      const char *buf, size_t len, struct rg__request *req,
		      bool bytewise)
{
	if (!bytewise)
		return rg__parse_request(p, arena, buf, len, req);
	for (size_t k = 1; k <= len; k++) {
		int rc = rg__parse_request(p, arena, buf, k, req);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Decodes a chunked body from `in` into m->body. Returns the bytes of `in`
 * consumed, or a negative error; *done when the body ended. */
static ssize_t decode_chunked(const char *in, size_t len, struct msg *m,
			      bool *done, bool bytewise)
{
	struct rg__chunked d;
	rg__chunked_init(&d, rg__default_limits.max_body);
	*done = false;
	char *copy = xrealloc(NULL, len);
	if (len)
		memcpy(copy, in, len);
	size_t used = 0;
	ssize_t ret = 0;
	while (used < len && !*done) {
		size_t n = bytewise ? 1 : len - used, data = 0;
		ssize_t rc =
		    rg__chunked_decode(&d, copy + used, n, &data, done);
		if (rc < 0) {
			/* The body is refused: what was decoded before the
			 * error depends on where the input was cut. */
			m->body.len = 0;
			ret = rc;
			goto out;
		}
		assert_true((size_t)rc <= n);
		assert_true(data <= (size_t)rc);
		if (!*done)
			assert_int_equal((size_t)rc, n);
		bytes_put(&m->body, copy + used, data);
		used += (size_t)rc;
	}
	ret = (ssize_t)used;
out:
	free(copy);
	return ret;
}

static void record_head(struct msg *m, const struct rg__request *req,
			const char *base, const struct inject *inj)
{
	bytes_put(&m->method, req->method.ptr, req->method.len);
	bytes_put(&m->url, req->target.ptr, req->target.len);
	assert_true(req->nheaders <= rg__default_limits.max_headers);
	for (uint32_t i = 0; i < req->nheaders; i++) {
		const struct rg_header *h = &req->headers[i];
		if (injected(inj, (size_t)(h->name.ptr - base)))
			continue;
		struct field *f = msg_field(m);
		bytes_put(&f->name, h->name.ptr, h->name.len);
		bytes_put(&f->value, h->value.ptr, h->value.len);
	}
	m->head_complete = true;
}

static void run_ringlet(const struct bytes *in, const struct inject *inj,
			struct rg_pool *blocks, bool bytewise, struct result *r)
{
	struct rg_arena *arena = rg_arena_create(blocks, NULL);
	assert_non_null(arena);
	struct rg__parser parser;
	rg__parser_init(&parser, &rg__default_limits);
	size_t pos = 0;
	r->out = OUT_END;
	while (pos < in->len) {
		const char *buf = in->p + pos;
		size_t len = in->len - pos;
		struct rg__request req;
		int rc = parse_head(&parser, arena, buf, len, &req, bytewise);
		if (rc == 0) {
			/* Empty lines before a request are ignorable (RFC
			 * 9112 2.2): nothing of a message has arrived. */
			if (!only_crlf(buf, len)) {
				result_push(r);
				r->out = OUT_PARTIAL;
			}
			break;
		}
		if (rc < 0) {
			r->out = OUT_ERROR;
			r->code = -rc;
			r->status = rg__http_error_status(-rc);
			r->off = pos;
			assert_true(status_allowed(r->status));
			const char *why = rg__http_error_reason(-rc);
			bytes_put(&r->reason, why, strlen(why));
			break;
		}
		assert_true((size_t)rc <= len);
		struct msg *m = result_push(r);
		record_head(m, &req, in->p, inj);
		pos += (size_t)rc;
		if (req.body == RG__BODY_LENGTH) {
			size_t have = in->len - pos;
			size_t take = req.content_length < have
					  ? (size_t)req.content_length
					  : have;
			bytes_put(&m->body, in->p + pos, take);
			pos += take;
			m->complete = take == req.content_length;
		} else if (req.body == RG__BODY_CHUNKED) {
			bool done;
			ssize_t used = decode_chunked(
			    in->p + pos, in->len - pos, m, &done, bytewise);
			if (used < 0) {
				r->out = OUT_ERROR;
				r->code = (int)-used;
				r->status = rg__http_error_status(r->code);
				r->off = pos;
				assert_true(status_allowed(r->status));
				const char *why =
				    rg__http_error_reason(r->code);
				bytes_put(&r->reason, why, strlen(why));
				break;
			}
			pos += (size_t)used;
			m->complete = done;
		} else {
			m->complete = true;
		}
		m->end = pos;
		rg_arena_reset(arena);
		if (!m->complete) {
			r->out = OUT_PARTIAL;
			break;
		}
		if (!req.keep_alive) {
			/* The server closes the connection and reads no
			 * further. */
			if (!only_crlf(in->p + pos, in->len - pos))
				r->out = OUT_CLOSED;
			break;
		}
	}
	rg_arena_destroy(arena);
}

/* ------------------------------------------------------------------------
 * Comparison
 * ------------------------------------------------------------------------ */

static void describe(const struct result *r, bool ringlet, struct bytes *out)
{
	size_t c = complete_count(r);
	putf(out, "%zu message%s complete, then ", c, c == 1 ? "" : "s");
	switch (r->out) {
	case OUT_END:
		putf(out, "end of input");
		break;
	case OUT_PARTIAL:
		putf(out, "waits for more (%s)",
		     r->n && r->m[r->n - 1].head_complete ? "in the body"
							  : "in the head");
		break;
	case OUT_ERROR:
		if (ringlet)
			putf(out, "rejects with %d (%.*s)", r->status,
			     (int)r->reason.len, r->reason.p);
		else
			putf(out, "rejects (%.*s)", (int)r->reason.len,
			     r->reason.p);
		break;
	case OUT_CLOSED:
		putf(out, "closes, bytes left unread");
		break;
	case OUT_UPGRADE:
		putf(out, "switches protocol at offset %zu", r->off);
		break;
	}
}

/* Names of the two sides compared, for messages. */
struct sides {
	const char *e, *a;
};

static const struct sides vs_llhttp = {"llhttp", "ringlet"};
static const struct sides vs_split = {"in one piece", "a byte at a time"};
static const struct sides vs_level[] = {
    [RG__SIMD_SCALAR] = {"best SIMD level", "scalar"},
    [RG__SIMD_SSE42] = {"best SIMD level", "SSE4.2"},
};

static bool same_text(const char *what, const struct bytes *e,
		      const struct bytes *a, const struct sides *who,
		      struct bytes *why)
{
	if (bytes_eq(e, a))
		return true;
	putf(why, "%s: %s \"", what, who->e);
	put_escaped(why, e->p, e->len);
	putf(why, "\", %s \"", who->a);
	put_escaped(why, a->p, a->len);
	putf(why, "\"");
	return false;
}

static bool same_head(const struct msg *e, const struct msg *a, size_t i,
		      const struct sides *who, struct bytes *why)
{
	char what[64];
	snprintf(what, sizeof(what), "message %zu method", i);
	if (!same_text(what, &e->method, &a->method, who, why))
		return false;
	snprintf(what, sizeof(what), "message %zu target", i);
	if (!same_text(what, &e->url, &a->url, who, why))
		return false;
	if (e->nh != a->nh) {
		putf(why, "message %zu: %s has %zu fields, %s %zu", i, who->e,
		     e->nh, who->a, a->nh);
		return false;
	}
	for (size_t j = 0; j < e->nh; j++) {
		snprintf(what, sizeof(what), "message %zu field %zu name", i,
			 j);
		if (!same_text(what, &e->h[j].name, &a->h[j].name, who, why))
			return false;
		snprintf(what, sizeof(what), "message %zu field %zu value", i,
			 j);
		if (!same_text(what, &e->h[j].value, &a->h[j].value, who, why))
			return false;
	}
	return true;
}

static bool same_msg(const struct msg *e, const struct msg *a, size_t i,
		     const struct sides *who, struct bytes *why)
{
	char what[64];
	snprintf(what, sizeof(what), "message %zu body", i);
	return same_head(e, a, i, who, why) &&
	       same_text(what, &e->body, &a->body, who, why);
}

/* Whether ringlet's result `a` agrees with llhttp's `e`; if not, why. */
static bool agree(const struct result *e, const struct result *a,
		  const struct inject *inj, struct bytes *why)
{
	size_t ec = complete_count(e), ac = complete_count(a);
	if (e->out == OUT_UPGRADE) {
		/* Compare up to the message llhttp hands over after; the
		 * bytes beyond it are not HTTP for llhttp. */
		if (e->n == 0)
			return putf(why, "empty log"), false;
		size_t u = e->n - 1;
		for (size_t i = 0; i < u; i++)
			if (i >= ac ||
			    !same_msg(&e->m[i], &a->m[i], i, &vs_llhttp, why))
				goto differ;
		if (a->n <= u || !a->m[u].complete ||
		    a->m[u].end != map_off(inj, e->off))
			goto differ;
		return same_msg(&e->m[u], &a->m[u], u, &vs_llhttp, why);
	}
	if (a->out != e->out || ac != ec)
		goto differ;
	for (size_t i = 0; i < ec; i++)
		if (!same_msg(&e->m[i], &a->m[i], i, &vs_llhttp, why))
			return false;
	if (e->out == OUT_PARTIAL) {
		const struct msg *em = &e->m[e->n - 1];
		if (a->n != e->n)
			goto differ;
		const struct msg *am = &a->m[a->n - 1];
		if (em->head_complete != am->head_complete)
			goto differ;
		if (em->head_complete)
			return same_msg(em, am, e->n - 1, &vs_llhttp, why);
	}
	return true;
differ:
	putf(why, "llhttp: ");
	describe(e, false, why);
	putf(why, "; ringlet: ");
	describe(a, true, why);
	return false;
}

/* Whether two runs of ringlet on the same input are the same. */
static bool same_runs(const struct result *x, const struct result *y,
		      const struct sides *who, struct bytes *why)
{
	if (x->out != y->out || x->n != y->n || x->code != y->code) {
		putf(why, "%s: ", who->e);
		describe(x, true, why);
		putf(why, "; %s: ", who->a);
		describe(y, true, why);
		return false;
	}
	for (size_t i = 0; i < x->n; i++) {
		if (x->m[i].head_complete != y->m[i].head_complete ||
		    x->m[i].complete != y->m[i].complete ||
		    x->m[i].end != y->m[i].end) {
			putf(why, "message %zu ends differently", i);
			return false;
		}
		if (x->m[i].head_complete &&
		    !same_msg(&x->m[i], &y->m[i], i, who, why))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------------
 * The corpus walk
 * ------------------------------------------------------------------------ */

struct tally {
	unsigned cases, converted, agreeing, differing, skipped_lenient,
	    skipped_other, unconvertible, unexpected, split_mismatch,
	    split_listed, scalar_mismatch;
	bool seen[sizeof(differences) / sizeof(differences[0])];
	bool verbose;
	struct bytes failures; /* messages for the end */
	struct rg_pool *blocks;
};

static const struct difference *listed(const char *name,
				       enum difference_kind kind, size_t *index)
{
	for (size_t i = 0; differences[i].name; i++) {
		if (differences[i].kind == kind &&
		    !strcmp(differences[i].name, name)) {
			*index = i;
			return &differences[i];
		}
	}
	return NULL;
}

static void run_case(struct tally *t, const char *name, const char *http,
		     size_t http_len, const char *log, size_t log_len)
{
	struct bytes raw = {0}, in = {0}, why = {0};
	struct result e = {0}, a = {0}, b = {0}, c = {0};
	struct inject inj = {0};
	size_t begins[64];

	if (!convert_input(http, http_len, &raw)) {
		t->unconvertible++;
		putf(&t->failures, "  %s: cannot evaluate its ${...}\n", name);
		goto out;
	}
	if (!read_log(log, log_len, &e, begins, 64)) {
		t->unconvertible++;
		putf(&t->failures, "  %s: %.*s\n", name, (int)e.reason.len,
		     e.reason.p);
		goto out;
	}
	t->converted++;
	inject_host(&raw, begins, e.n, &in, &inj);
	run_ringlet(&in, &inj, t->blocks, false, &a);
	run_ringlet(&in, &inj, t->blocks, true, &b);
	enum rg__simd best = rg__simd_best();
	for (int level = RG__SIMD_SCALAR; level < (int)best; level++) {
		rg__simd_select((enum rg__simd)level);
		run_ringlet(&in, &inj, t->blocks, false, &c);
		rg__simd_select(best);
		if (!same_runs(&a, &c, &vs_level[level], &why)) {
			t->scalar_mismatch++;
			putf(&t->failures,
			     "  %s: PARSER BUG?: SIMD levels "
			     "differ: %.*s\n",
			     name, (int)why.len, why.p);
		}
		why.len = 0;
		result_free(&c);
	}
	size_t index = 0;
	bool consistent = same_runs(&a, &b, &vs_split, &why);
	const struct difference *d = listed(name, SPLIT, &index);
	if (d)
		t->seen[index] = true;
	if (!consistent && d) {
		t->split_listed++;
	} else if (!consistent || d) {
		t->split_mismatch++;
		if (consistent) {
			putf(&t->failures,
			     "  %s: listed as parsing "
			     "differently when split (%s) but "
			     "now consistent: remove it\n",
			     name, d->reason);
		} else {
			putf(&t->failures,
			     "  %s: PARSER BUG?: one-piece "
			     "and byte-at-a-time parsing "
			     "differ: %.*s\n    input \"",
			     name, (int)why.len, why.p);
			put_escaped(&t->failures, in.p, in.len);
			putf(&t->failures, "\"\n");
		}
	}
	why.len = 0;
	bool agrees = agree(&e, &a, &inj, &why);
	d = listed(name, LLHTTP, &index);
	if (d)
		t->seen[index] = true;
	if (agrees && d) {
		t->unexpected++;
		putf(&t->failures,
		     "  %s: listed as differing (%s) but now "
		     "agrees: remove it from the table\n",
		     name, d->reason);
	} else if (!agrees && d) {
		t->differing++;
	} else if (!agrees) {
		t->unexpected++;
		putf(&t->failures, "  %s: %.*s\n    input \"", name,
		     (int)why.len, why.p);
		put_escaped(&t->failures, in.p, in.len);
		putf(&t->failures, "\"\n");
	} else {
		t->agreeing++;
	}
	if (t->verbose) {
		struct bytes v = {0};
		putf(&v, "%-9s %s\n  llhttp:  ",
		     agrees ? "agree"
		     : d    ? "differ"
			    : "UNEXPECT",
		     name);
		describe(&e, false, &v);
		putf(&v, "\n  ringlet: ");
		describe(&a, true, &v);
		if (!agrees)
			putf(&v, "\n  why:     %.*s", (int)why.len, why.p);
		fflush(stdout);
		printf("%s\n", v.p);
		bytes_free(&v);
	}
out:
	bytes_free(&raw);
	bytes_free(&in);
	bytes_free(&why);
	result_free(&e);
	result_free(&a);
	result_free(&b);
	result_free(&c);
}

static char *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	struct bytes b = {0};
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		bytes_put(&b, tmp, n);
	fclose(f);
	bytes_put(&b, "", 0);
	*len = b.len;
	return b.p;
}

/* The value of "type" in a `<!-- meta={...} -->` line. */
static void meta_type(const char *line, size_t len, char *out, size_t size)
{
	out[0] = '\0';
	const char *end = line + len;
	const char *p = strstr(line, "\"type\"");
	if (p == NULL || p >= end)
		return;
	p += 6;
	while (p < end && (*p == ' ' || *p == ':'))
		p++;
	if (p >= end || *p++ != '"')
		return;
	size_t n = 0;
	while (p < end && *p != '"' && n + 1 < size)
		out[n++] = *p++;
	out[n] = '\0';
}

/* Walks one markdown file: every `##`/`###` heading names the cases under
 * it; a case is a meta line, an ```http block and a ```log block. */
static void run_file(struct tally *t, const char *dir, const char *file)
{
	char path[8192];
	snprintf(path, sizeof(path), "%.4000s/%.255s", dir, file);
	size_t len = 0;
	char *text = read_whole(path, &len);
	assert_non_null(text);

	char heading[256] = "", type[64] = "";
	char names[128][300];
	size_t nnames = 0;
	const char *http = NULL, *log = NULL;
	size_t http_len = 0, log_len = 0;
	bool have_meta = false;
	enum { TEXT, IN_HTTP, IN_LOG, IN_OTHER } mode = TEXT;
	const char *block = NULL;

	for (const char *line = text, *end = text + len; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		size_t n = (size_t)(eol - line);
		const char *next = eol < end ? eol + 1 : end;
		bool fence = n >= 3 && !strncmp(line, "```", 3);
		if (mode != TEXT) {
			if (fence) {
				/* The block is its lines joined by '\n'. */
				size_t blen = line > block
						  ? (size_t)(line - 1 - block)
						  : 0;
				if (mode == IN_HTTP)
					http = block, http_len = blen;
				else if (mode == IN_LOG)
					log = block, log_len = blen;
				mode = TEXT;
			}
		} else if (fence) {
			mode = n == 7 && !strncmp(line, "```http", 7) ? IN_HTTP
			       : n == 6 && !strncmp(line, "```log", 6)
				   ? IN_LOG
				   : IN_OTHER;
			block = next;
		} else if (line[0] == '#') {
			const char *h = line;
			while (h < eol && *h == '#')
				h++;
			while (h < eol && *h == ' ')
				h++;
			snprintf(heading, sizeof(heading), "%.*s",
				 (int)(eol - h), h);
		} else if (n >= 10 && strstr(line, "<!-- meta=") == line) {
			meta_type(line, n, type, sizeof(type));
			have_meta = true;
			http = log = NULL;
		}
		if (have_meta && http && log) {
			char name[300];
			snprintf(name, sizeof(name), "%s: %s", file, heading);
			unsigned dup = 1;
			for (size_t i = 0; i < nnames; i++)
				if (!strcmp(names[i], name))
					dup++;
			if (nnames < 128)
				snprintf(names[nnames++], sizeof(names[0]),
					 "%s", name);
			if (dup > 1) {
				size_t l = strlen(name);
				snprintf(name + l, sizeof(name) - l, " (%u)",
					 dup);
			}
			t->cases++;
			if (!strcmp(type, "request"))
				run_case(t, name, http, http_len, log, log_len);
			else if (!strncmp(type, "request-lenient", 15))
				t->skipped_lenient++;
			else
				t->skipped_other++;
			have_meta = false;
			http = log = NULL;
		}
		line = next;
	}
	free(text);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The corpus directory, or NULL when it is not there. */
static const char *corpus_dir(char *buf, size_t size)
{
	const char *shared = getenv("RG_SHARED_DIR");
#ifdef RG_SHARED_DIR
	if (shared == NULL || !*shared)
		shared = RG_SHARED_DIR;
#endif
	if (shared && *shared) {
		snprintf(buf, size, "%s/corpus/llhttp", shared);
	} else {
		/* __FILE__ is tests/unit/test_llhttp_corpus.c, relative to
		 * the tree when make compiles it. */
		snprintf(buf, size, "%s", __FILE__);
		char *slash = strrchr(buf, '/');
		if (slash)
			*slash = '\0';
		else
			snprintf(buf, size, ".");
		size_t l = strlen(buf);
		snprintf(buf + l, size - l, "/../../../shared/corpus/llhttp");
	}
	DIR *d = opendir(buf);
	if (d == NULL)
		return NULL;
	closedir(d);
	return buf;
}

static void llhttp_corpus(void **state)
{
	(void)state;
	char dirbuf[4096];
	const char *dir = corpus_dir(dirbuf, sizeof(dirbuf));
	if (dir == NULL) {
		print_message("SKIP: llhttp corpus not found (%s); set "
			      "RG_SHARED_DIR\n",
			      dirbuf);
		skip();
	}
	DIR *d = opendir(dir);
	assert_non_null(d);
	char *files[64];
	size_t nfiles = 0;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		size_t l = strlen(de->d_name);
		if (l > 3 && !strcmp(de->d_name + l - 3, ".md") &&
		    strcmp(de->d_name, "README.md") && nfiles < 64)
			files[nfiles++] = strdup(de->d_name);
	}
	closedir(d);
	if (nfiles == 0) {
		print_message("SKIP: no .md files in %s\n", dir);
		skip();
	}
	qsort(files, nfiles, sizeof(files[0]), by_name);

	struct tally t = {0};
	const char *v = getenv("RG_CORPUS_VERBOSE");
	t.verbose = v && *v && strcmp(v, "0");
	struct rg_pool_config cfg = {
	    .object_size = 16384, .initial = 4, .grow_by = 4, .max = 256};
	t.blocks = rg_pool_create(&cfg, NULL);
	assert_non_null(t.blocks);
	for (size_t i = 0; i < nfiles; i++) {
		run_file(&t, dir, files[i]);
		free(files[i]);
	}
	rg_pool_destroy(t.blocks);

	unsigned stale = 0;
	for (size_t i = 0; differences[i].name; i++) {
		if (!t.seen[i]) {
			stale++;
			putf(&t.failures,
			     "  %s: listed as differing but no "
			     "such strict case in the corpus\n",
			     differences[i].name);
		}
	}
	print_message("llhttp corpus: %u cases; %u strict converted, %u agree, "
		      "%u differ as listed; skipped %u lenient, %u of other "
		      "types; %u unconvertible, %u unexpected, %u stale "
		      "entries; split parsing: %u inconsistent as listed, %u "
		      "unexpected; %u SIMD-level mismatches\n",
		      t.cases, t.converted, t.agreeing, t.differing,
		      t.skipped_lenient, t.skipped_other, t.unconvertible,
		      t.unexpected, stale, t.split_listed, t.split_mismatch,
		      t.scalar_mismatch);
	/* print_message() truncates long messages; these hold inputs. */
	fflush(stdout);
	if (t.failures.len)
		fwrite(t.failures.p, 1, t.failures.len, stdout);
	fflush(stdout);
	bytes_free(&t.failures);
	assert_true(t.converted > 0);
	assert_int_equal(t.unconvertible, 0);
	assert_int_equal(t.split_mismatch, 0);
	assert_int_equal(t.scalar_mismatch, 0);
	assert_int_equal(t.unexpected, 0);
	assert_int_equal(stale, 0);
}

/* ------------------------------------------------------------------------
 * The conversion and the log reader on their own, so that a mistake in them
 * cannot pass for agreement (these need no corpus).
 * ------------------------------------------------------------------------ */

static void check_convert(const char *md, const char *want, size_t want_len)
{
	struct bytes out = {0};
	assert_true(convert_input(md, strlen(md), &out));
	assert_int_equal(out.len, want_len);
	assert_memory_equal(out.p, want, want_len);
	bytes_free(&out);
}

static void conversion_rules(void **state)
{
	(void)state;
	/* Block of "GET / HTTP/1.1", "", "" (two empty lines): one CRLF
	 * per line break, the final newline having been dropped. */
	check_convert("GET / HTTP/1.1\n\n", "GET / HTTP/1.1\r\n\r\n", 18);
	/* Backslash-newline joins lines; escapes; \x above 0x7f is UTF-8. */
	check_convert("a\\n\\\nb\\tc\\f\\r", "a\nb\tc\f\r", 7);
	check_convert("\\xffV", "\xc3\xbfV", 3);
	check_convert("\\033\\065\\325e",
		      "\x1b"
		      "5\xc3\x95"
		      "e",
		      5);
	/* \t is replaced before the octal pass: "\01\test". */
	check_convert("Foo\\01\\test", "Foo\x01\test", 8);
	check_convert("${\"ab\".repeat(3)}!", "ababab!", 7);
	check_convert("x${'a' + \"b\".repeat(2)}", "xabb", 4);
	struct bytes out = {0};
	assert_false(convert_input("${1+1}", 6, &out));
	bytes_free(&out);
}

static void log_reader(void **state)
{
	(void)state;
	static const char log[] =
	    "off=0 message begin\n"
	    "off=0 len=3 span[method]=\"PUT\"\n"
	    "off=4 len=4 span[url]=\"/url\"\n"
	    "off=19 len=3 span[header_field]=\"Hea\"\n"
	    "off=22 len=3 span[header_field]=\"der\"\n"
	    "off=26 header_field complete\n"
	    "off=27 len=4 span[header_value]=\"a\\tb \"\n"
	    "off=31 header_value complete\n"
	    "off=31 len=1 span[header_field]=\"X\"\n"
	    "off=33 header_field complete\n"
	    "off=35 header_value complete\n"
	    "off=37 headers complete method=4 v=1/1 flags=0\n"
	    "off=37 len=5 span[body]=\"he\"lo\"\n"
	    "off=42 message complete\n"
	    "off=44 message begin\n"
	    "off=44 len=3 span[method]=\"GET\"\n"
	    "off=48 error code=22 reason=\"Pause on CONNECT/Upgrade\"";
	struct result r = {0};
	size_t begins[4];
	assert_true(read_log(log, sizeof(log) - 1, &r, begins, 4));
	assert_int_equal(r.n, 2);
	assert_int_equal(r.out, OUT_UPGRADE);
	assert_int_equal(r.off, 48);
	assert_int_equal(begins[1], 44);
	assert_int_equal(r.m[0].nh, 2);
	assert_string_equal(r.m[0].h[0].name.p, "Header");
	assert_string_equal(r.m[0].h[0].value.p, "a\tb");
	assert_string_equal(r.m[0].h[1].name.p, "X");
	assert_int_equal(r.m[0].h[1].value.len, 0);
	assert_string_equal(r.m[0].body.p, "he\"lo");
	assert_true(r.m[0].complete);
	assert_int_equal(r.m[0].end, 42);
	assert_false(r.m[1].head_complete);
	result_free(&r);

	/* A span whose length disagrees with its text is refused. */
	static const char bad[] = "off=0 message begin\n"
				  "off=0 len=4 span[method]=\"PUT\"\n";
	assert_false(read_log(bad, sizeof(bad) - 1, &r, begins, 4));
	result_free(&r);
}

static void host_injection(void **state)
{
	(void)state;
	struct bytes in = {0}, out = {0};
	struct inject inj;
	static const char two[] = "GET / HTTP/1.1\r\n\r\n"
				  "\r\nPUT / HTTP/1.1\r\nHOST: a\r\n\r\n";
	bytes_put(&in, two, sizeof(two) - 1);
	size_t begins[] = {0, 18};
	inject_host(&in, begins, 2, &out, &inj);
	assert_int_equal(inj.n, 1);
	assert_int_equal(inj.at[0], 16);
	assert_int_equal(out.len, in.len + HOST_LINE_LEN);
	assert_memory_equal(out.p, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
	assert_int_equal(map_off(&inj, 18), 27);
	assert_int_equal(map_off(&inj, 10), 10);
	bytes_free(&in);
	bytes_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(conversion_rules),
	    cmocka_unit_test(log_reader),
	    cmocka_unit_test(host_injection),
	    cmocka_unit_test(llhttp_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
