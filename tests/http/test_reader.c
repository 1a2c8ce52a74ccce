/* test_reader.c: the tests' own response reader (client.h) on crafted
 * bytes, no server involved: interim 1xx, chunked bodies with extensions
 * and trailers, Content-Length, close-delimited bodies, and malformed
 * responses it must refuse; so that a chunked response from the server,
 * wherever one occurs, is known to be decoded right. */
#include "fixture.h"

static void reader_feed(const char *bytes, size_t n, struct http_conn *c,
			int *peer)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(send_all(sv[1], bytes, n), 0);
	shutdown(sv[1], SHUT_WR);
	memset(c, 0, sizeof(*c));
	c->fd = sv[0];
	c->timeout_ms = 1000;
	socket_track(sv[0]);
	*peer = sv[1];
}

static void test_reader(void **state)
{
	(void)state;
	static const char good[] =
	    "HTTP/1.1 100 Continue\r\n\r\n"
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5;x=y\r\nhello\r\n6\r\n world\r\nA\r\n0123456789\r\n0\r\n"
	    "T: v\r\n\r\n"
	    "HTTP/1.1 204 No Content\r\nX-A:  spaced  \r\n\r\n"
	    "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
	    "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "\r\nuntil close";
	struct http_conn c;
	struct http_resp r;
	int peer;
	reader_feed(good, sizeof(good) - 1, &c, &peer);
	assert_int_equal(http_read(&c, &r, 0), 0);
	assert_int_equal(r.status, 100);
	http_resp_free(&r);
	assert_int_equal(http_read(&c, &r, 0), 0);
	check_str(&r, 200, "hello world0123456789");
	assert_true(r.chunked);
	assert_int_equal(r.nchunks, 3);
	http_resp_free(&r);
	assert_int_equal(http_read(&c, &r, 0), 0);
	check_str(&r, 204, "");
	assert_string_equal(http_header(&r, "x-a"), "spaced");
	http_resp_free(&r);
	assert_int_equal(http_read(&c, &r, 0), 0);
	check_str(&r, 200, "abc");
	assert_false(r.chunked);
	http_resp_free(&r);
	assert_int_equal(http_read(&c, &r, 0), 0);
	check_str(&r, 200, "until close");
	assert_int_equal(r.minor, 0);
	assert_true(r.until_close);
	assert_true(
	    media_type_is(http_header(&r, "Content-Type"), "text/plain"));
	http_resp_free(&r);
	assert_int_equal(http_expect_closed(&c, 100), 0);
	http_close(&c);
	close(peer);

	static const char *const bad[] = {
	    "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabcX\r\n0\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
	    "HTTP/1.1 2000 OK\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reader_feed(bad[i], strlen(bad[i]), &c, &peer);
		assert_int_not_equal(http_read(&c, &r, 0), 0);
		http_resp_free(&r);
		http_close(&c);
		close(peer);
	}
}

int main(void)
{
	fixture_init();
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_reader)};
	int failed =
	    cmocka_run_group_tests_name("response reader", tests, NULL, NULL);
	return failed ? 1 : 0;
}
