/* test_chunked.c: the chunked-body decoder against a table of bodies, each
 * fed whole, in two pieces split at every byte, one byte at a time, and in
 * random pieces; every piece sits against a PROT_NONE page. The decoded
 * bytes, the bytes consumed and the error must not depend on the split. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/parser.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct crow {
	const char *name;
	const char *raw;
	size_t len;
	const char *body; /* decoded, for valid rows */
	size_t body_len;
	enum rg__http_error err;
	int status;
	uint64_t max_body;    /* 0: 1 MiB (the default limit) */
	uint32_t max_trailer; /* 0: the decoder's default */
	size_t consumed;      /* 0: all of raw */
	bool open;	      /* valid but not finished: more is needed */
};

#define RAW(s) .raw = s, .len = sizeof(s) - 1
#define BODY(s) .body = s, .body_len = sizeof(s) - 1
#define OK(nm, s, b, ...)                                                      \
	{                                                                      \
		.name = nm, RAW(s), BODY(b), __VA_ARGS__                       \
	}
#define BAD(nm, s, e, st, ...)                                                 \
	{                                                                      \
		.name = nm, RAW(s), .err = e, .status = st, __VA_ARGS__        \
	}

static const struct crow rows[] = {
    OK("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"),
    OK("several chunks", "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n",
       "hello world"),
    OK("hex digits, both cases",
       "A\r\n0123456789\r\na\r\nabcdefghij\r\nF\r\n0123456789abcde\r\n"
       "0\r\n\r\n",
       "0123456789abcdefghij0123456789abcde"),
    OK("empty body", "0\r\n\r\n", ""),
    OK("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"),
    OK("16 hex digits", "0000000000000005\r\nhello\r\n0\r\n\r\n", "hello"),
    OK("extension", "5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello"),
    OK("extensions, several", "5;a;b=c;d=\"e f\"\r\nhello\r\n0\r\n\r\n",
       "hello"),
    OK("extension, quoted-pair and ';' in quotes",
       "5;n=\"a;b\\\"c\\\\\"\r\nhello\r\n0\r\n\r\n", "hello"),
    OK("extension, BWS", "5 \t; a = b ;c\r\nhello\r\n0\r\n\r\n", "hello"),
    OK("extension, obs-text in quotes",
       "5;n=\"\xc3\xa9\"\r\nhello\r\n0\r\n\r\n", "hello"),
    OK("trailer fields",
       "5\r\nhello\r\n0\r\nX-Sum: abc\r\nY:\r\nZ: \t a\tb \xc3\xa9\r\n\r\n",
       "hello"),
    OK("data holding CRLFs", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"),
    OK("data holding NUL bytes", "3\r\n\0\0\0\r\n0\r\n\r\n", "\0\0\0"),
    OK("long chunk",
       "40\r\n0123456789abcdef0123456789abcdef0123456789abcdef"
       "0123456789abcdef\r\n0\r\n\r\n",
       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
    OK("pipelined request after the body",
       "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", "hello",
       .consumed = 15),
    OK("body at max_body", "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n",
       "helloworld", .max_body = 10),
    OK("trailer at max_trailer", "0\r\nX: 12345\r\n\r\n", "",
       .max_trailer = 12),
    OK("unlimited body, huge size line", "ffffffffffffffff\r\nabc", "abc",
       .max_body = UINT64_MAX, .open = true),
    OK("incomplete: in a size line", "5\r\nhello\r\n1", "hello", .open = true),
    OK("incomplete: in the trailers", "0\r\nX: y\r\n", "", .open = true),

    BAD("size not hex", "x\r\nhello\r\n0\r\n\r\n", RG__E_CHUNK_SIZE, 400),
    BAD("empty size line", "\r\nhello\r\n", RG__E_CHUNK_SIZE, 400),
    BAD("negative size", "-5\r\nhello\r\n", RG__E_CHUNK_SIZE, 400),
    BAD("0x prefix", "0x5\r\nhello\r\n", RG__E_CHUNK_SIZE, 400),
    BAD("17 hex digits", "00000000000000005\r\nhello\r\n", RG__E_CHUNK_SIZE,
	400),
    BAD("size overflows 64 bits", "10000000000000000\r\n", RG__E_CHUNK_SIZE,
	400, .max_body = UINT64_MAX),
    BAD("size over max_body", "ffffffffffffffff\r\n", RG__E_BODY_TOO_LARGE,
	413),
    BAD("size over a small max_body", "b\r\nhello world\r\n0\r\n\r\n",
	RG__E_BODY_TOO_LARGE, 413, .max_body = 10),
    BAD("total over max_body", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	RG__E_BODY_TOO_LARGE, 413, .max_body = 10),
    BAD("data longer than the size", "5\r\nhelloX\r\n0\r\n\r\n",
	RG__E_CHUNK_DATA_END, 400),
    BAD("no CRLF after the data", "5\r\nhello0\r\n\r\n", RG__E_CHUNK_DATA_END,
	400),
    BAD("bare LF after the size", "5\nhello\r\n0\r\n\r\n", RG__E_LINE_ENDING,
	400),
    BAD("bare LF after an extension", "5;a=b\nhello\r\n0\r\n\r\n",
	RG__E_LINE_ENDING, 400),
    BAD("bare CR after the size", "5\rhello\r\n0\r\n\r\n", RG__E_LINE_ENDING,
	400),
    BAD("bare LF after the data", "5\r\nhello\n0\r\n\r\n", RG__E_LINE_ENDING,
	400),
    BAD("bare CR after the data", "5\r\nhello\rX0\r\n\r\n", RG__E_LINE_ENDING,
	400),
    BAD("bare LF at the end", "0\r\n\n", RG__E_LINE_ENDING, 400),
    BAD("CR CR at the end", "0\r\n\r\r", RG__E_LINE_ENDING, 400),
    BAD("bare LF after a trailer", "0\r\nX: a\n\r\n", RG__E_LINE_ENDING, 400),
    BAD("whitespace after the size", "5 \r\nhello\r\n0\r\n\r\n",
	RG__E_CHUNK_EXT, 400),
    BAD("';' without a name", "5;\r\nhello\r\n", RG__E_CHUNK_EXT, 400),
    BAD("extension without a name", "5;=a\r\nhello\r\n", RG__E_CHUNK_EXT, 400),
    BAD("extension without a value", "5;a=\r\nhello\r\n", RG__E_CHUNK_EXT, 400),
    BAD("extension name then space", "5;a \r\nhello\r\n", RG__E_CHUNK_EXT, 400),
    BAD("extension value with a space", "5;a=b c\r\nhello\r\n", RG__E_CHUNK_EXT,
	400),
    BAD("unterminated quoted value", "5;a=\"b\r\nhello\r\n", RG__E_CHUNK_EXT,
	400),
    BAD("NUL in an extension", "5;a\0\r\nhello\r\n", RG__E_CHUNK_EXT, 400),
    BAD("CTL in a quoted value", "5;a=\"\x01\"\r\nhello\r\n", RG__E_CHUNK_EXT,
	400),
    BAD("trailer obs-fold", "0\r\nX: a\r\n b\r\n\r\n", RG__E_TRAILER, 400),
    BAD("trailer without colon", "0\r\nXa\r\n\r\n", RG__E_TRAILER, 400),
    BAD("trailer space before colon", "0\r\nX : a\r\n\r\n", RG__E_TRAILER, 400),
    BAD("trailer empty name", "0\r\n: a\r\n\r\n", RG__E_TRAILER, 400),
    BAD("trailer NUL in value", "0\r\nX: a\0\r\n\r\n", RG__E_TRAILER, 400),
    BAD("trailer DEL in value", "0\r\nX: a\x7f\r\n\r\n", RG__E_TRAILER, 400),
    BAD("trailer over max_trailer", "0\r\nX: 123456\r\n\r\n",
	RG__E_TRAILER_TOO_LARGE, 431, .max_trailer = 12),
    /* Fields that may not be trailers (RFC 9110 6.5.1): 400, whatever
     * the case, wherever in the section. */
    BAD("trailer Content-Length",
	"5\r\nhello\r\n0\r\nContent-Length: x\r\n\r\n", RG__E_TRAILER_FIELD,
	400),
    BAD("trailer Transfer-Encoding",
	"5\r\nhello\r\n0\r\nTransfer-Encoding: x\r\n\r\n", RG__E_TRAILER_FIELD,
	400),
    BAD("trailer Host", "5\r\nhello\r\n0\r\nHost: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Authorization", "5\r\nhello\r\n0\r\nAuthorization: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Content-Type", "5\r\nhello\r\n0\r\nContent-Type: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Content-Encoding",
	"5\r\nhello\r\n0\r\nContent-Encoding: x\r\n\r\n", RG__E_TRAILER_FIELD,
	400),
    BAD("trailer Content-Range", "5\r\nhello\r\n0\r\nContent-Range: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Trailer", "5\r\nhello\r\n0\r\nTrailer: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer TE", "5\r\nhello\r\n0\r\nTE: x\r\n\r\n", RG__E_TRAILER_FIELD,
	400),
    BAD("trailer Connection", "5\r\nhello\r\n0\r\nConnection: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Keep-Alive", "5\r\nhello\r\n0\r\nKeep-Alive: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Upgrade", "5\r\nhello\r\n0\r\nUpgrade: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Expect", "5\r\nhello\r\n0\r\nExpect: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Range", "5\r\nhello\r\n0\r\nRange: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer If-Match", "5\r\nhello\r\n0\r\nIf-Match: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer If-None-Match", "5\r\nhello\r\n0\r\nIf-None-Match: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer If-Modified-Since",
	"5\r\nhello\r\n0\r\nIf-Modified-Since: x\r\n\r\n", RG__E_TRAILER_FIELD,
	400),
    BAD("trailer If-Unmodified-Since",
	"5\r\nhello\r\n0\r\nIf-Unmodified-Since: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer If-Range", "5\r\nhello\r\n0\r\nIf-Range: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Max-Forwards", "5\r\nhello\r\n0\r\nMax-Forwards: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Cache-Control", "5\r\nhello\r\n0\r\nCache-Control: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Pragma", "5\r\nhello\r\n0\r\nPragma: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Cookie", "5\r\nhello\r\n0\r\nCookie: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Proxy-Authorization",
	"5\r\nhello\r\n0\r\nProxy-Authorization: x\r\n\r\n",
	RG__E_TRAILER_FIELD, 400),
    BAD("trailer Proxy-Connection",
	"5\r\nhello\r\n0\r\nProxy-Connection: x\r\n\r\n", RG__E_TRAILER_FIELD,
	400),
    BAD("trailer content-length, lowercase, after another",
	"0\r\nX-Sum: 1\r\ncontent-length: 5\r\n\r\n", RG__E_TRAILER_FIELD, 400),
    BAD("trailer HOST, uppercase", "0\r\nHOST: a\r\n\r\n", RG__E_TRAILER_FIELD,
	400),
    OK("trailer names that only begin like forbidden ones",
       "0\r\nHost-X: a\r\nContent-Lengths: 1\r\nT: 2\r\n"
       "X-Proxy-Authorization-Hint: 3\r\nProxy-Authorization-Extra: 4\r\n\r\n",
       ""),
    OK("trailer names beyond the longest forbidden one",
       "0\r\nX-A-Very-Long-Trailer-Field-Name: a\r\n\r\n", ""),
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static char *guard_end;
static const size_t room = 64 * 1024;

static int setup(void **state)
{
	(void)state;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, room + page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	guard_end = m + room;
	return mprotect(guard_end, page, PROT_NONE) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	munmap(guard_end - room, room + (size_t)sysconf(_SC_PAGESIZE));
	return 0;
}

struct outcome {
	char body[8192];
	size_t body_len;
	size_t consumed;
	bool done;
	ssize_t err; /* 0 or the negative error */
};

static void init(struct rg__chunked *d, const struct crow *row)
{
	rg__chunked_init(d, row->max_body ? row->max_body : 1024 * 1024);
	if (row->max_body == UINT64_MAX)
		d->max_body = 0;
	if (row->max_trailer)
		d->max_trailer = row->max_trailer;
}

/* Feeds raw[off, off+n) against the guard; stops at done or error. */
static void feed(struct rg__chunked *d, const struct crow *row, size_t off,
		 size_t n, struct outcome *o)
{
	if (o->done || o->err || n == 0)
		return;
	char *b = guard_end - n;
	memcpy(b, row->raw + off, n);
	size_t data_len = 12345;
	bool done = false;
	ssize_t r = rg__chunked_decode(d, b, n, &data_len, &done);
	if (r < 0) {
		o->err = r;
		return;
	}
	assert_true(data_len <= (size_t)r);
	if (!done)
		assert_int_equal(r, n); /* everything consumed */
	assert_true(o->body_len + data_len <= sizeof(o->body));
	memcpy(o->body + o->body_len, b, data_len);
	o->body_len += data_len;
	o->consumed += (size_t)r;
	o->done = done;
	if (done) /* the rest, the next request's, is left untouched */
		assert_memory_equal(b + r, row->raw + off + (size_t)r,
				    n - (size_t)r);
}

static void check(const struct crow *row, const struct outcome *o,
		  const char *how)
{
	if (row->err) {
		if (o->err != -(ssize_t)row->err)
			fail_msg("%s: got %zd (%s), want %s", how, o->err,
				 o->err ? rg__http_error_reason(
					      (enum rg__http_error) - o->err)
					: "no error",
				 rg__http_error_reason(row->err));
		return;
	}
	if (o->err)
		fail_msg("%s: error %s", how,
			 rg__http_error_reason((enum rg__http_error) - o->err));
	assert_int_equal(o->done, !row->open);
	assert_int_equal(o->consumed, row->consumed ? row->consumed : row->len);
	if (o->body_len != row->body_len ||
	    memcmp(o->body, row->body, o->body_len))
		fail_msg("%s: decoded \"%.*s\"", how, (int)o->body_len,
			 o->body);
}

static void run_row(void **state)
{
	const struct crow *row = *state;
	struct rg__chunked d;
	static struct outcome o;
	char how[64];

	if (row->err)
		assert_int_equal(rg__http_error_status(row->err), row->status);

	init(&d, row);
	memset(&o, 0, sizeof(o));
	feed(&d, row, 0, row->len, &o);
	check(row, &o, "whole");

	for (size_t k = 1; k < row->len; k++) {
		init(&d, row);
		memset(&o, 0, sizeof(o));
		feed(&d, row, 0, k, &o);
		feed(&d, row, k, row->len - k, &o);
		snprintf(how, sizeof(how), "split at %zu", k);
		check(row, &o, how);
	}

	init(&d, row);
	memset(&o, 0, sizeof(o));
	for (size_t k = 0; k < row->len; k++)
		feed(&d, row, k, 1, &o);
	check(row, &o, "byte at a time");

	unsigned seed = (unsigned)row->len;
	for (int iter = 0; iter < 20; iter++) {
		init(&d, row);
		memset(&o, 0, sizeof(o));
		for (size_t k = 0; k < row->len;) {
			seed = seed * 1103515245 + 12345;
			size_t n = 1 + (seed >> 16) % 7;
			if (n > row->len - k)
				n = row->len - k;
			feed(&d, row, k, n, &o);
			k += n;
		}
		snprintf(how, sizeof(how), "random pieces, seed %d", iter);
		check(row, &o, how);
	}
}

/* An over-long size line (an extension of 5000 bytes) is refused as soon
 * as it passes 4096 bytes, before its CRLF arrives. */
static void size_line_cap(void **state)
{
	(void)state;
	char *raw = malloc(6000);
	memcpy(raw, "5;x=", 4);
	memset(raw + 4, 'y', 5996);
	struct rg__chunked d;
	rg__chunked_init(&d, 0);
	size_t data_len;
	bool done;
	ssize_t r = rg__chunked_decode(&d, raw, 4096, &data_len, &done);
	assert_int_equal(r, 4096);
	r = rg__chunked_decode(&d, raw + 4096, 1, &data_len, &done);
	assert_int_equal(r, -RG__E_CHUNK_EXT);
	free(raw);
}

/* A big body in big pieces: the data path moves bytes in bulk. */
static void large_body(void **state)
{
	(void)state;
	enum { CHUNK = 3000, N = 20 };
	size_t cap = N * (CHUNK + 16) + 16;
	char *raw = malloc(cap), *want = malloc(N * CHUNK), *d8 = raw;
	for (int i = 0; i < N; i++) {
		d8 += sprintf(d8, "%x\r\n", CHUNK);
		for (int j = 0; j < CHUNK; j++)
			want[i * CHUNK + j] = *d8++ = (char)(i * 7 + j);
		d8 += sprintf(d8, "\r\n");
	}
	d8 += sprintf(d8, "0\r\n\r\n");
	size_t len = (size_t)(d8 - raw), got = 0;
	char *out = malloc(N * CHUNK);
	struct rg__chunked d;
	rg__chunked_init(&d, 0);
	bool done = false;
	for (size_t off = 0; off < len && !done;) {
		size_t n = len - off < 4093 ? len - off : 4093, data_len;
		ssize_t r =
		    rg__chunked_decode(&d, raw + off, n, &data_len, &done);
		assert_true(r > 0);
		memcpy(out + got, raw + off, data_len);
		got += data_len;
		off += (size_t)r;
	}
	assert_true(done);
	assert_int_equal(got, N * CHUNK);
	assert_int_equal(d.total, N * CHUNK);
	assert_memory_equal(out, want, N * CHUNK);
	free(raw);
	free(want);
	free(out);
}

static void defaults(void **state)
{
	(void)state;
	struct rg__chunked d;
	rg__chunked_init(&d, 77);
	assert_int_equal(d.max_body, 77);
	assert_int_equal(d.max_trailer, 8192);
	assert_int_equal(d.total, 0);
	/* Once done, nothing more is taken. */
	char b[] = "0\r\n\r\nX";
	size_t data_len;
	bool done;
	assert_int_equal(rg__chunked_decode(&d, b, 6, &data_len, &done), 5);
	assert_true(done);
	assert_int_equal(rg__chunked_decode(&d, b + 5, 1, &data_len, &done), 0);
	assert_true(done);
	assert_int_equal(data_len, 0);
}

int main(void)
{
	struct CMUnitTest *tests = calloc(NROWS + 3, sizeof(*tests));
	size_t t = 0;
	for (size_t i = 0; i < NROWS; i++)
		tests[t++] =
		    (struct CMUnitTest){.name = rows[i].name,
					.test_func = run_row,
					.initial_state = (void *)&rows[i]};
	tests[t++] = (struct CMUnitTest)cmocka_unit_test(size_line_cap);
	tests[t++] = (struct CMUnitTest)cmocka_unit_test(large_body);
	tests[t++] = (struct CMUnitTest)cmocka_unit_test(defaults);
	return _cmocka_run_group_tests("chunked", tests, t, setup, teardown);
}
