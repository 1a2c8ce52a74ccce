/* test_rejections.c: each parser rejection reaching the client as its one
 * status (400, 413, 414, 431, 501, 505), after which the server closes (a
 * request pipelined behind the bad one is never answered); and requests
 * just inside the limits, which must be served. Every test runs on both io
 * backends (fixture.h). */
#include "fixture.h"

#define NEXT GET("/plaintext")
#define CASE(name, status, s)                                                  \
	{                                                                      \
		name, s, sizeof(s) - 1, status                                 \
	}

struct reject {
	const char *name;
	const char *req;
	size_t len;
	int status;
};

static const struct reject rejects[] = {
    CASE("bare LF line ends", 400,
	 "GET /plaintext HTTP/1.1\nHost: localhost\n\n" NEXT),
    CASE("bare LF after the request line", 400,
	 "GET /plaintext HTTP/1.1\nHost: localhost\r\n\r\n" NEXT),
    CASE("bare LF after a field", 400,
	 "GET /plaintext HTTP/1.1\r\nHost: localhost\nX-A: b\r\n\r\n" NEXT),
    CASE("bare CR in a field", 400,
	 "GET /plaintext HTTP/1.1\r\nHost: localhost\rX-A: b\r\n\r\n" NEXT),
    CASE("obs-fold (space)", 400,
	 "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n b\r\n"
	 "\r\n" NEXT),
    CASE("obs-fold (tab)", 400,
	 "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n\tb\r\n"
	 "\r\n" NEXT),
    CASE("HTTP/1.1 without Host", 400,
	 "GET /plaintext HTTP/1.1\r\nUser-Agent: t\r\n\r\n" NEXT),
    CASE("two Host fields", 400,
	 "GET /plaintext HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" NEXT),
    CASE("two identical Host fields", 400,
	 "GET /plaintext HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n" NEXT),
    CASE("Content-Length not a number", 400,
	 "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1x\r\n\r\n"
	 "1x" NEXT),
    CASE("negative Content-Length", 400,
	 "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n"
	 "a" NEXT),
    CASE("Content-Length list", 400,
	 "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1, 2\r\n\r\n"
	 "ab" NEXT),
    CASE("conflicting Content-Length fields", 400,
	 "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n"
	 "Content-Length: 2\r\n\r\nab" NEXT),
    CASE("Content-Length overflow", 400,
	 "POST / HTTP/1.1\r\nHost: localhost\r\n"
	 "Content-Length: 99999999999999999999999\r\n\r\n" NEXT),
    CASE("Content-Length with Transfer-Encoding", 400,
	 "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
	 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" NEXT),
    CASE("Transfer-Encoding gzip, chunked", 501,
	 "POST / HTTP/1.1\r\nHost: localhost\r\n"
	 "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n" NEXT),
    CASE("Transfer-Encoding gzip (not ending in chunked)", 400,
	 "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n"
	 "\r\n" NEXT),
    CASE("chunked twice", 400,
	 "POST / HTTP/1.1\r\nHost: localhost\r\n"
	 "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n" NEXT),
    CASE("Transfer-Encoding in HTTP/1.0", 400,
	 "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    CASE("HTTP/2.0", 505,
	 "GET /plaintext HTTP/2.0\r\nHost: localhost\r\n"
	 "\r\n" NEXT),
    CASE("malformed version", 400,
	 "GET /plaintext HTTP/1.x\r\nHost: localhost\r\n\r\n" NEXT),
    CASE("lower-case HTTP-name", 400,
	 "GET /plaintext http/1.1\r\nHost: localhost\r\n\r\n" NEXT),
    CASE(
	"NUL in a field value", 400,
	"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nX-A: a\0b\r\n\r\n" NEXT),
    CASE("NUL in a field name", 400,
	 "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nX-\0A: b\r\n\r\n" NEXT),
    CASE("NUL in the request line", 400,
	 "GET /plain\0text HTTP/1.1\r\nHost: localhost\r\n\r\n" NEXT),
    CASE("space before the colon", 400,
	 "GET /plaintext HTTP/1.1\r\nHost : localhost\r\n\r\n" NEXT),
    CASE("control byte in the target", 400,
	 "GET /plain\x01text HTTP/1.1\r\nHost: localhost\r\n\r\n" NEXT),
    CASE("bad byte in the method", 400,
	 "GE(T /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n" NEXT),
    CASE("bad chunk size", 400,
	 "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked"
	 "\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" NEXT),
    CASE("bad chunk size (0x)", 400,
	 "POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: "
	 "chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n" NEXT),
    CASE("chunk size missing", 400,
	 "POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: "
	 "chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n" NEXT),
    CASE("chunk data without CRLF", 400,
	 "POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: "
	 "chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n" NEXT),
    CASE("bare LF in a chunk line", 400,
	 "POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: "
	 "chunked\r\n\r\n3\nabc\r\n0\r\n\r\n" NEXT),
    /* RFC 9112 3.2: no request-target form has a fragment. */
    CASE("fragment in the target", 400,
	 "GET /plaintext#x HTTP/1.1\r\nHost: localhost\r\n\r\n" NEXT),
    /* RFC 9110 4.2.1: an http URI with an empty host is invalid. */
    CASE("empty Host", 400, "GET /plaintext HTTP/1.1\r\nHost:\r\n\r\n" NEXT),
    CASE("Host of a port only", 400,
	 "GET /plaintext HTTP/1.1\r\nHost: :8080\r\n\r\n" NEXT),
    /* Not HTTP at all: answered at the byte at fault, not after the
     * head timeout (reject_one waits 5 s; the timeout is 10 s). */
    CASE("TLS ClientHello on the plain port", 400,
	 "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\0\0\0\0\0\0\0\0"),
    CASE("SSH banner", 400, "SSH-2.0-OpenSSH_9.2p1 Debian-2"),
    CASE("NUL in a method, no line end", 400, "GE\0T /plaintext HTTP/1.1"),
    CASE("bad byte in a field name, no line end", 400,
	 "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nX(A"),
    CASE("Content-Length over max_body_size", 413,
	 "POST /upload HTTP/1.1\r\nHost: localhost\r\n"
	 "Content-Length: 67108865\r\n\r\n"),
    CASE("Content-Length far over max_body_size", 413,
	 "POST / HTTP/1.1\r\nHost: localhost\r\n"
	 "Content-Length: 1099511627776\r\n\r\n"),
};

/* Sends a bad request and checks: `status`, then the server closes. Returns
 * whether it did, saying what went wrong otherwise. */
static bool reject_one(struct fixture *f, const char *name, const char *req,
		       size_t len, int status)
{
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	c.timeout_ms = 5000;
	/* The server may close before it has read everything: a failed send
	 * is no failure, the response is what counts. */
	http_send(&c, req, len);
	int rc = http_read(&c, &r, 0);
	bool ok = !rc && r.status == status;
	if (rc)
		print_message("FAIL %s: no response (%s)\n", name, http_error);
	else if (r.status != status)
		print_message("FAIL %s: %d, expected %d\n", name, r.status,
			      status);
	if (ok && http_expect_closed(&c, 3000)) {
		print_message("FAIL %s: %d as expected but not closed: %s\n",
			      name, status, http_error);
		ok = false;
	}
	http_resp_free(&r);
	http_close(&c);
	return ok;
}

static void test_rejections(void **state)
{
	struct fixture *f = fixture_get(state);
	int failed = 0, total = 0;
	for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
		failed += !reject_one(f, rejects[i].name, rejects[i].req,
				      rejects[i].len, rejects[i].status);
		total++;
	}
	struct sbuf b = {0};
	/* Request line over 8192 bytes: 414. */
	sb_str(&b, "GET /plaintext?q=");
	for (int i = 0; i < 9000; i++)
		sb_str(&b, "a");
	sb_str(&b, " HTTP/1.1\r\nHost: localhost\r\n\r\n");
	failed += !reject_one(f, "request line over 8192", b.p, b.len, 414);
	total++;
	/* A method over it: an unknown method (501), not a long target. */
	b.len = 0;
	for (int i = 0; i < 9000; i++)
		sb_str(&b, "M");
	sb_str(&b, " /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n");
	failed += !reject_one(f, "method over 8192", b.p, b.len, 501);
	total++;
	/* Header section over 16384 bytes: 431. */
	b.len = 0;
	sb_str(&b, "GET /plaintext HTTP/1.1\r\nHost: localhost\r\n");
	for (int i = 0; i < 20; i++) {
		sb_printf(&b, "X-Pad-%02d: ", i);
		for (int k = 0; k < 1000; k++)
			sb_str(&b, "p");
		sb_str(&b, "\r\n");
	}
	sb_str(&b, "\r\n");
	failed += !reject_one(f, "header section over 16384", b.p, b.len, 431);
	total++;
	/* More than 100 fields: 431. */
	b.len = 0;
	sb_str(&b, "GET /plaintext HTTP/1.1\r\nHost: localhost\r\n");
	for (int i = 0; i < 120; i++)
		sb_printf(&b, "X-%d: v\r\n", i);
	sb_str(&b, "\r\n");
	failed += !reject_one(f, "more than 100 fields", b.p, b.len, 431);
	total++;
	sb_free(&b);
	print_message("%d of %d rejections as expected\n", total - failed,
		      total);
	assert_int_equal(failed, 0);
}

/* Just inside the limits is fine: an 8000-byte request line, a 16000-byte
 * head, exactly 100 fields. */
static void test_limits_accepted(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct sbuf b = {0};
	conn_open(f, &c);
	sb_str(&b, "GET /plaintext?q=");
	while (b.len < 8000 - 9)
		sb_str(&b, "a");
	sb_str(&b, " HTTP/1.1\r\nHost: localhost\r\n\r\n");
	roundtrip(&c, b.p, 200, "Hello, World!");

	b.len = 0;
	sb_str(&b, "GET /plaintext HTTP/1.1\r\nHost: localhost\r\n");
	for (int i = 0; i < 15; i++) {
		sb_printf(&b, "X-Pad-%02d: ", i);
		for (int k = 0; k < 1000; k++)
			sb_str(&b, "p");
		sb_str(&b, "\r\n");
	}
	sb_str(&b, "\r\n");
	assert_true(b.len > 15000 && b.len < 16000);
	roundtrip(&c, b.p, 200, "Hello, World!");

	char store[99][16];
	const char *hdr[100];
	hdr[0] = "Host: localhost";
	for (int i = 0; i < 99; i++) {
		snprintf(store[i], sizeof(store[i]), "X-%d: v%d", i, i);
		hdr[i + 1] = store[i];
	}
	echo(&c, hdr, 100, "");
	sb_free(&b);
	expect_open(&c, 50);
	http_close(&c);
}

int main(void)
{
	fixture_init();
	const struct CMUnitTest tests[] = {
	    T(test_rejections),
	    T(test_limits_accepted),
	};
	return FIXTURE_RUN(tests) ? 1 : 0;
}
