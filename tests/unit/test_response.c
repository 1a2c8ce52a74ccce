/* test_response.c: response writer (exact bytes, framing rules, all or
 * nothing at every capacity against a guard page, chunks) and Date cache. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "http/response.h"

#define DATE "Sun, 06 Nov 1994 08:49:37 GMT"
#define SD "Server: ringlet\r\nDate: " DATE "\r\n"
/* clang-format off */
#define STR(s) {(s), sizeof(s) - 1}
/* clang-format on */

/* ---- a buffer that ends just before a PROT_NONE page ------------------- */

#define GUARD_SPAN (128 * 1024)
#include "guard.h"

/* A buffer of capacity `cap` whose last byte touches the guard page,
 * holding `prefix` bytes of pending output and filled with '~' after. */
static struct rg__wbuf guarded(size_t cap, size_t prefix)
{
	struct rg__wbuf b = {guard_tail(cap), prefix, cap};

	memset(b.data, 'p', prefix);
	memset(b.data + prefix, '~', cap - prefix);
	return b;
}

static bool untouched(const struct rg__wbuf *b, size_t prefix)
{
	for (size_t i = 0; i < b->cap; i++)
		if (b->data[i] != (i < prefix ? 'p' : '~'))
			return false;
	return true;
}

/* ---- the table of responses -------------------------------------------- */

enum op { OP_HEAD, OP_SIMPLE, OP_ERROR, OP_CONTINUE };

struct rcase {
	const char *name;
	enum op op;
	struct rg__response_head h;
	const char *body;   /* OP_SIMPLE; OP_ERROR: detail */
	const char *expect; /* exact bytes */
	int result;
};

static const struct rg_header extras[] = {
    {STR("Cache-Control"), STR("no-store")},
    {STR("X-Trace"), STR("a b\tc")},
};
static const struct rg_header etag[] = {{STR("ETag"), STR("\"v1\"")}};
static const struct rg_header retry[] = {{STR("retry-after"), STR("30")}};
static const struct rg_header upgrade[] = {
    {STR("Connection"), STR("Upgrade")},
    {STR("Upgrade"), STR("websocket")},
};

#define H11 .version_minor = 1, .keep_alive = true, .date = DATE
#define H11C .version_minor = 1, .date = DATE
#define H10 .version_minor = 0, .date = DATE
#define PLAIN .content_type = STR("text/plain")

static const struct rcase cases[] = {
    {"200 with body",
     OP_SIMPLE,
     {.status = 200, H11, PLAIN},
     "Hello, World!",
     "HTTP/1.1 200 OK\r\n" SD "Content-Type: text/plain\r\n"
     "Content-Length: 13\r\n\r\nHello, World!",
     0},
    {"HEAD: length of the GET, no body",
     OP_SIMPLE,
     {.status = 200, H11, PLAIN, .is_head = true},
     "Hello, World!",
     "HTTP/1.1 200 OK\r\n" SD "Content-Type: text/plain\r\n"
     "Content-Length: 13\r\n\r\n",
     0},
    {"HEAD head-only, known length",
     OP_HEAD,
     {.status = 200, H11, .is_head = true, .content_length = 1234567},
     NULL,
     "HTTP/1.1 200 OK\r\n" SD "Content-Length: 1234567\r\n\r\n",
     RG__RESP_NO_BODY},
    {"empty 200",
     OP_SIMPLE,
     {.status = 200, H11},
     "",
     "HTTP/1.1 200 OK\r\n" SD "Content-Length: 0\r\n\r\n",
     0},
    {"204 drops body, length and type",
     OP_SIMPLE,
     {.status = 204, H11, PLAIN},
     "ignored",
     "HTTP/1.1 204 No Content\r\n" SD "\r\n",
     0},
    {"304 drops length",
     OP_HEAD,
     {.status = 304,
      H11,
      PLAIN,
      .content_length = 100,
      .headers = etag,
      .nheaders = 1},
     NULL,
     "HTTP/1.1 304 Not Modified\r\n" SD "ETag: \"v1\"\r\n\r\n",
     RG__RESP_NO_BODY},
    {"304 simple drops body",
     OP_SIMPLE,
     {.status = 304, H11},
     "body",
     "HTTP/1.1 304 Not Modified\r\n" SD "\r\n",
     0},
    {"100 Continue",
     OP_CONTINUE,
     {.status = 0},
     NULL,
     "HTTP/1.1 100 Continue\r\n\r\n",
     0},
    {"101 upgrade carries its own Connection",
     OP_HEAD,
     {.status = 101,
      H11,
      .framing = RG__FRAMING_NONE,
      .headers = upgrade,
      .nheaders = 2},
     NULL,
     "HTTP/1.1 101 Switching Protocols\r\n" SD
     "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
     RG__RESP_NO_BODY},
    {"1xx never closes nor says Connection",
     OP_HEAD,
     {.status = 103, .version_minor = 1, .keep_alive = false},
     NULL,
     "HTTP/1.1 103 Informational\r\nServer: ringlet\r\n\r\n",
     RG__RESP_NO_BODY},
    {"HTTP/1.0 keep-alive",
     OP_SIMPLE,
     {.status = 200, H10, .keep_alive = true},
     "hi",
     "HTTP/1.1 200 OK\r\n" SD
     "Content-Length: 2\r\nConnection: keep-alive\r\n\r\nhi",
     0},
    {"HTTP/1.0 default close",
     OP_SIMPLE,
     {.status = 200, H10},
     "hi",
     "HTTP/1.1 200 OK\r\n" SD "Content-Length: 2\r\n\r\nhi",
     RG__RESP_CLOSE},
    {"HTTP/1.1 close",
     OP_SIMPLE,
     {.status = 200, H11C},
     "hi",
     "HTTP/1.1 200 OK\r\n" SD
     "Content-Length: 2\r\nConnection: close\r\n\r\nhi",
     RG__RESP_CLOSE},
    {"HTTP/1.1 known length head",
     OP_HEAD,
     {.status = 200, H11, .content_length = 18446744073709551615u},
     NULL,
     "HTTP/1.1 200 OK\r\n" SD "Content-Length: 18446744073709551615\r\n\r\n",
     RG__RESP_RAW_BODY},
    {"chunked on HTTP/1.1",
     OP_HEAD,
     {.status = 200, H11, PLAIN, .framing = RG__FRAMING_CHUNKED},
     NULL,
     "HTTP/1.1 200 OK\r\n" SD "Content-Type: text/plain\r\n"
     "Transfer-Encoding: chunked\r\n\r\n",
     RG__RESP_CHUNKED_BODY},
    {"chunked HTTP/1.1 close",
     OP_HEAD,
     {.status = 200, H11C, .framing = RG__FRAMING_CHUNKED},
     NULL,
     "HTTP/1.1 200 OK\r\n" SD
     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
     RG__RESP_CHUNKED_BODY | RG__RESP_CLOSE},
    {"unknown length on HTTP/1.0 forces close",
     OP_HEAD,
     {.status = 200, H10, .keep_alive = true, .framing = RG__FRAMING_CHUNKED},
     NULL,
     "HTTP/1.1 200 OK\r\n" SD "\r\n",
     RG__RESP_RAW_BODY | RG__RESP_CLOSE},
    {"HEAD chunked on HTTP/1.1 keeps the connection",
     OP_HEAD,
     {.status = 200, H11, .is_head = true, .framing = RG__FRAMING_CHUNKED},
     NULL,
     "HTTP/1.1 200 OK\r\n" SD "Transfer-Encoding: chunked\r\n\r\n",
     RG__RESP_NO_BODY},
    {"HEAD unknown length on HTTP/1.0 keeps the connection",
     OP_HEAD,
     {.status = 200,
      H10,
      .keep_alive = true,
      .is_head = true,
      .framing = RG__FRAMING_CHUNKED},
     NULL,
     "HTTP/1.1 200 OK\r\n" SD "Connection: keep-alive\r\n\r\n",
     RG__RESP_NO_BODY},
    {"no framing: body to close",
     OP_HEAD,
     {.status = 200, H11, .framing = RG__FRAMING_NONE},
     NULL,
     "HTTP/1.1 200 OK\r\n" SD "Connection: close\r\n\r\n",
     RG__RESP_RAW_BODY | RG__RESP_CLOSE},
    {"extra headers and content type",
     OP_SIMPLE,
     {.status = 404,
      H11,
      .content_type = STR("text/html; charset=utf-8"),
      .headers = extras,
      .nheaders = 2},
     "<p>no</p>",
     "HTTP/1.1 404 Not Found\r\n" SD
     "Content-Type: text/html; charset=utf-8\r\nContent-Length: 9\r\n"
     "Cache-Control: no-store\r\nX-Trace: a b\tc\r\n\r\n<p>no</p>",
     0},
    {"no date",
     OP_SIMPLE,
     {.status = 201, .version_minor = 1, .keep_alive = true},
     "x",
     "HTTP/1.1 201 Created\r\nServer: ringlet\r\n"
     "Content-Length: 1\r\n\r\nx",
     0},
    {"unknown code: class phrase",
     OP_SIMPLE,
     {.status = 599, H11},
     "",
     "HTTP/1.1 599 Server Error\r\n" SD "Content-Length: 0\r\n\r\n",
     0},
    {"418 is (Unused): class phrase",
     OP_SIMPLE,
     {.status = 418, H11},
     "",
     "HTTP/1.1 418 Client Error\r\n" SD "Content-Length: 0\r\n\r\n",
     0},
#define ERR(code, line, len, body)                                             \
	"HTTP/1.1 " #code " " line "\r\n" SD "Content-Type: text/plain\r\n"    \
	"Content-Length: " #len "\r\nConnection: close\r\n\r\n" body
    {"error 400",
     OP_ERROR,
     {.status = 400, .date = DATE},
     "both Content-Length and Transfer-Encoding",
     ERR(400, "Bad Request", 59,
	 "400 Bad Request: both Content-Length and Transfer-Encoding\n"),
     0},
    {"error 413",
     OP_ERROR,
     {.status = 413, .date = DATE},
     "body over the limit",
     ERR(413, "Content Too Large", 43,
	 "413 Content Too Large: body over the limit\n"),
     0},
    {"error 414",
     OP_ERROR,
     {.status = 414, .date = DATE},
     NULL,
     ERR(414, "URI Too Long", 17, "414 URI Too Long\n"),
     0},
    {"error 431",
     OP_ERROR,
     {.status = 431, .date = DATE},
     "too many fields",
     ERR(431, "Request Header Fields Too Large", 53,
	 "431 Request Header Fields Too Large: too many fields\n"),
     0},
    {"error 501",
     OP_ERROR,
     {.status = 501, .date = DATE},
     "transfer coding gzip",
     ERR(501, "Not Implemented", 42,
	 "501 Not Implemented: transfer coding gzip\n"),
     0},
    {"error 505",
     OP_ERROR,
     {.status = 505, .date = DATE},
     NULL,
     ERR(505, "HTTP Version Not Supported", 31,
	 "505 HTTP Version Not Supported\n"),
     0},
    /* Every 503 says when to come back (RFC 9110 10.2.3)... */
    {"error 503",
     OP_ERROR,
     {.status = 503, .date = DATE},
     "too many connections",
     "HTTP/1.1 503 Service Unavailable\r\n" SD
     "Content-Type: text/plain\r\nContent-Length: 46\r\n"
     "Connection: close\r\nRetry-After: 1\r\n\r\n"
     "503 Service Unavailable: too many connections\n",
     0},
    {"handler 503",
     OP_SIMPLE,
     {.status = 503, H11},
     "busy",
     "HTTP/1.1 503 Service Unavailable\r\n" SD
     "Content-Length: 4\r\nRetry-After: 1\r\n\r\nbusy",
     0},
    /* ...unless the handler said it, in any case. */
    {"handler 503 with its own Retry-After",
     OP_SIMPLE,
     {.status = 503, H11, .headers = retry, .nheaders = 1},
     "busy",
     "HTTP/1.1 503 Service Unavailable\r\n" SD
     "Content-Length: 4\r\nretry-after: 30\r\n\r\nbusy",
     0},
    /* The caller's reason phrase, for a code with one of its own and for
     * one without; the head sized and written all or nothing with it. */
    {"own reason",
     OP_SIMPLE,
     {.status = 200, H11, .reason = STR("All good\there")},
     "ok",
     "HTTP/1.1 200 All good\there\r\n" SD "Content-Length: 2\r\n\r\nok",
     0},
    {"own reason, unlisted code, HTTP/1.0",
     OP_HEAD,
     {.status = 299, H10, .framing = RG__FRAMING_CHUNKED,
      .reason = STR("\xe9t\xe9")},
     NULL,
     "HTTP/1.1 299 \xe9t\xe9\r\n" SD "\r\n",
     RG__RESP_RAW_BODY | RG__RESP_CLOSE},
};

static int run(const struct rcase *c, struct rg__wbuf *b)
{
	switch (c->op) {
	case OP_HEAD:
		return rg__response_head(b, &c->h);
	case OP_SIMPLE:
		return rg__response_simple(b, &c->h, c->body, strlen(c->body));
	case OP_ERROR:
		return rg__response_error(b, c->h.status, c->body, c->h.date);
	case OP_CONTINUE:
		return rg__response_continue(b);
	}
	return -1;
}

static void check_bytes(const struct rcase *c, const struct rg__wbuf *b,
			size_t prefix)
{
	size_t n = strlen(c->expect);

	if (b->len != prefix + n || memcmp(b->data + prefix, c->expect, n))
		fail_msg("%s:\nwant [%s]\ngot  [%.*s]", c->name, c->expect,
			 (int)(b->len - prefix), b->data + prefix);
}

static void exact_bytes(void **state)
{
	(void)state;
	char mem[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *c = &cases[i];
		struct rg__wbuf b = {mem, 0, sizeof(mem)};
		int r = run(c, &b);
		if (r != c->result)
			fail_msg("%s: result %d, want %d", c->name, r,
				 c->result);
		check_bytes(c, &b, 0);
		if (c->op == OP_HEAD)
			assert_int_equal(rg__response_head_size(&c->h), b.len);
	}
}

/* Every capacity below the exact size fails with nothing written, with and
 * without output already pending; the exact size succeeds and ends on the
 * guard page's doorstep. */
static void all_or_nothing(void **state)
{
	(void)state;
	static const size_t prefixes[] = {0, 1, 37};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct rcase *c = &cases[i];
		size_t n = strlen(c->expect);
		for (size_t k = 0; k < 3; k++) {
			size_t pre = prefixes[k];
			for (size_t cap = pre; cap < pre + n; cap++) {
				struct rg__wbuf b = guarded(cap, pre);
				int r = run(c, &b);
				if (r != -ENOSPC || b.len != pre ||
				    !untouched(&b, pre))
					fail_msg("%s: cap %zu prefix %zu: %d",
						 c->name, cap, pre, r);
			}
			struct rg__wbuf b = guarded(pre + n, pre);
			assert_int_equal(run(c, &b), c->result);
			check_bytes(c, &b, pre);
		}
	}
}

static void pipelined(void **state)
{
	(void)state;
	char mem[8192], want[8192];
	struct rg__wbuf b = {mem, 0, sizeof(mem)};
	size_t w = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(run(&cases[i], &b), cases[i].result);
		size_t n = strlen(cases[i].expect);
		memcpy(want + w, cases[i].expect, n);
		w += n;
		assert_int_equal(b.len, w);
	}
	const struct rg__response_head h = {
	    .status = 200, H11, .framing = RG__FRAMING_CHUNKED};
	assert_int_equal(rg__response_head(&b, &h), RG__RESP_CHUNKED_BODY);
	assert_int_equal(rg__chunk_write(&b, "abc", 3), 0);
	assert_int_equal(rg__chunk_write(&b, "", 0), 0);
	assert_int_equal(rg__chunk_end(&b), 0);
	static const char tail[] =
	    "HTTP/1.1 200 OK\r\n" SD "Transfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n0\r\n\r\n";
	memcpy(want + w, tail, sizeof(tail) - 1);
	w += sizeof(tail) - 1;
	assert_int_equal(b.len, w);
	assert_memory_equal(mem, want, w);
}

static void invalid_status(void **state)
{
	(void)state;
	char mem[256];
	struct rg__wbuf b = {mem, 0, sizeof(mem)};
	struct rg__response_head h = {.status = 99, H11};

	assert_int_equal(rg__response_head(&b, &h), -EINVAL);
	h.status = 600;
	assert_int_equal(rg__response_simple(&b, &h, "x", 1), -EINVAL);
	assert_int_equal(rg__response_error(&b, 0, NULL, NULL), -EINVAL);
	assert_int_equal(rg__response_head_size(&h), SIZE_MAX);
	assert_int_equal(b.len, 0);
}

static void reasons(void **state)
{
	(void)state;
	assert_string_equal(rg_status_reason(200), "OK");
	assert_string_equal(rg_status_reason(413), "Content Too Large");
	assert_string_equal(rg_status_reason(422), "Unprocessable Content");
	assert_string_equal(rg_status_reason(429), "Too Many Requests");
	assert_string_equal(rg_status_reason(431),
			    "Request Header Fields Too Large");
	assert_string_equal(rg_status_reason(308), "Permanent Redirect");
	assert_string_equal(rg_status_reason(199), "Informational");
	assert_string_equal(rg_status_reason(299), "Successful");
	assert_string_equal(rg_status_reason(306), "Redirection");
	assert_string_equal(rg_status_reason(499), "Client Error");
	assert_string_equal(rg_status_reason(599), "Server Error");
	assert_string_equal(rg_status_reason(600), "Unknown");
	assert_string_equal(rg_status_reason(-1), "Unknown");
	/* every known phrase reaches the status line unchanged */
	for (int s = 100; s < 600; s++) {
		char mem[256], want[128];
		struct rg__wbuf b = {mem, 0, sizeof(mem)};
		struct rg__response_head h = {.status = s, .version_minor = 1};
		assert_true(rg__response_head(&b, &h) >= 0);
		int n = snprintf(want, sizeof(want), "HTTP/1.1 %d %s\r\n", s,
				 rg_status_reason(s));
		assert_memory_equal(mem, want, (size_t)n);
	}
}

/* ---- chunks ------------------------------------------------------------- */

static void chunk_sizes(void **state)
{
	(void)state;
	static const struct {
		size_t n;
		const char *hex;
	} sizes[] = {{1, "1"},	      {15, "f"},      {16, "10"},
		     {255, "ff"},     {4096, "1000"}, {65535, "ffff"},
		     {65536, "10000"}};
	static char data[65536];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i].n, hl = strlen(sizes[i].hex);
		size_t full = hl + 2 + n + 2;
		/* every capacity for small chunks; the edges for large ones */
		for (size_t cap = 0; cap < full; cap++) {
			if (n > 16 && cap > 32 && cap < full - 32)
				cap = full - 32;
			struct rg__wbuf b = guarded(cap, 0);
			assert_int_equal(rg__chunk_write(&b, data, n), -ENOSPC);
			assert_int_equal(b.len, 0);
			if (cap <= 64)
				assert_true(untouched(&b, 0));
		}
		struct rg__wbuf b = guarded(full, 0);
		assert_int_equal(rg__chunk_write(&b, data, n), 0);
		assert_int_equal(b.len, full);
		assert_memory_equal(b.data, sizes[i].hex, hl);
		assert_memory_equal(b.data + hl, "\r\n", 2);
		assert_memory_equal(b.data + hl + 2, data, n);
		assert_memory_equal(b.data + hl + 2 + n, "\r\n", 2);
	}
}

static void chunk_end_and_empty(void **state)
{
	(void)state;
	for (size_t cap = 0; cap < 5; cap++) {
		struct rg__wbuf b = guarded(cap, 0);
		assert_int_equal(rg__chunk_end(&b), -ENOSPC);
		assert_int_equal(b.len, 0);
		assert_true(untouched(&b, 0));
		/* an empty chunk writes nothing and needs no room */
		assert_int_equal(rg__chunk_write(&b, NULL, 0), 0);
		assert_int_equal(b.len, 0);
	}
	struct rg__wbuf b = guarded(5, 0);
	assert_int_equal(rg__chunk_end(&b), 0);
	assert_memory_equal(b.data, "0\r\n\r\n", 5);
	assert_int_equal(b.len, 5);
}

/* ---- Date --------------------------------------------------------------- */

static void expect_date(time_t t, const char *want)
{
	char got[RG__DATE_LEN + 1];

	memset(got, '#', sizeof(got));
	rg__date_format(got, t);
	if (strcmp(got, want))
		fail_msg("t=%lld: got [%s] want [%s]", (long long)t, got, want);
}

static void date_known(void **state)
{
	(void)state;
	expect_date(0, "Thu, 01 Jan 1970 00:00:00 GMT");
	expect_date(784111777, DATE);
	expect_date(951782400, "Tue, 29 Feb 2000 00:00:00 GMT");
	expect_date(951868799, "Tue, 29 Feb 2000 23:59:59 GMT");
	expect_date(4107542400, "Mon, 01 Mar 2100 00:00:00 GMT");
	expect_date(4107542399, "Sun, 28 Feb 2100 23:59:59 GMT");
	expect_date(2147483647, "Tue, 19 Jan 2038 03:14:07 GMT");
	expect_date(2147483648, "Tue, 19 Jan 2038 03:14:08 GMT");
	expect_date(-1, "Wed, 31 Dec 1969 23:59:59 GMT");
	expect_date(-62167219200, "Sat, 01 Jan 0000 00:00:00 GMT");
	expect_date(253402300799, "Fri, 31 Dec 9999 23:59:59 GMT");
	/* clamped to what four year digits can show */
	expect_date(253402300800, "Fri, 31 Dec 9999 23:59:59 GMT");
	expect_date(INT64_MAX, "Fri, 31 Dec 9999 23:59:59 GMT");
	expect_date(INT64_MIN, "Sat, 01 Jan 0000 00:00:00 GMT");
}

static void expect_like_libc(time_t t)
{
	struct tm tm;
	char want[64];

	assert_non_null(gmtime_r(&t, &tm));
	size_t n =
	    strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	assert_int_equal(n, RG__DATE_LEN);
	expect_date(t, want);
}

/* Against gmtime_r + strftime: every day boundary (and the seconds around
 * it) from 1970 to 2500, then random instants over years 1000-9999 (where
 * strftime's %Y has four digits). */
static void date_like_libc(void **state)
{
	(void)state;
	for (time_t day = 0; day < (time_t)195000 * 86400; day += 86400) {
		expect_like_libc(day);
		expect_like_libc(day - 1);
		expect_like_libc(day + 43201);
	}
	uint64_t x = 88172645463325252u;
	const int64_t lo = -30610224000, hi = 253402300799;
	for (int i = 0; i < 1000000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		expect_like_libc(
		    (time_t)(lo + (int64_t)(x % (uint64_t)(hi - lo))));
	}
}

static void date_cache(void **state)
{
	(void)state;
	struct rg__date_cache c;

	memset(&c, 0, sizeof(c));
	/* zero-initialised works even for the second it holds */
	assert_string_equal(rg__date_get(&c, 0),
			    "Thu, 01 Jan 1970 00:00:00 GMT");
	const char *p = rg__date_get(&c, 784111777);
	assert_string_equal(p, DATE);
	assert_int_equal(strlen(p), RG__DATE_LEN);
	/* same second: the text is not formatted again */
	c.text[0] = 'X';
	assert_ptr_equal(rg__date_get(&c, 784111777), p);
	assert_int_equal(p[0], 'X');
	/* a new second refreshes it, and so does going back */
	assert_string_equal(rg__date_get(&c, 784111778),
			    "Sun, 06 Nov 1994 08:49:38 GMT");
	assert_string_equal(rg__date_get(&c, 784111777), DATE);
	/* the cached text is what the writer puts in Date */
	char mem[256];
	struct rg__wbuf b = {mem, 0, sizeof(mem)};
	struct rg__response_head h = {.status = 200,
				      .version_minor = 1,
				      .keep_alive = true,
				      .date = rg__date_get(&c, 784111777)};
	assert_int_equal(rg__response_simple(&b, &h, NULL, 0), 0);
	static const char want[] =
	    "HTTP/1.1 200 OK\r\n" SD "Content-Length: 0\r\n\r\n";
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_memory_equal(mem, want, b.len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exact_bytes),
	    cmocka_unit_test(all_or_nothing),
	    cmocka_unit_test(pipelined),
	    cmocka_unit_test(invalid_status),
	    cmocka_unit_test(reasons),
	    cmocka_unit_test(chunk_sizes),
	    cmocka_unit_test(chunk_end_and_empty),
	    cmocka_unit_test(date_known),
	    cmocka_unit_test(date_like_libc),
	    cmocka_unit_test(date_cache),
	};
	return cmocka_run_group_tests(tests, guard_setup, guard_teardown);
}
