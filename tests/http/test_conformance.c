/* test_conformance.c: the RFC 9110 / 9112 rules the server applies itself,
 * for every application on the library: OPTIONS * answered with Allow, 501
 * for a method no route takes and 405 with Allow for a path served with
 * other methods, no 100 Continue to HTTP/1.0 or to a client that sent its
 * body, fields that may not be trailers refused, and header fields whose
 * name holds '_' kept from the application unless the configuration allows
 * them (and logged at debug level). Every test runs on both io backends
 * (fixture.h). */
#include "fixture.h"

/* One request on a fresh connection, its response in *r; the connection
 * stays open for more. */
static void ask(struct http_conn *c, const char *req, struct http_resp *r)
{
	send_str(c, req);
	assert_int_equal(http_read(c, r, 0), 0);
}

static void check_allow(const struct http_resp *r, const char *want)
{
	const char *allow = http_header(r, "Allow");
	if (!allow || strcmp(allow, want))
		print_message("Allow: \"%s\", expected \"%s\"\n",
			      allow ? allow : "(none)", want);
	assert_non_null(allow);
	assert_string_equal(allow, want);
}

/* RFC 9110 9.3.7: the server answers OPTIONS * itself (the demo routes no
 * "*"), listing the methods its routes serve, with no content. */
static void test_options_asterisk(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	ask(&c, "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	check_allow(&r, "GET, HEAD, POST, OPTIONS");
	assert_string_equal(http_header(&r, "Content-Length"), "0");
	assert_null(http_header(&r, "Content-Type"));
	assert_int_equal(r.body_len, 0);
	http_resp_free(&r);
	/* HTTP/1.0 too; and the connection goes on after HTTP/1.1. */
	roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	ask(&c, "OPTIONS * HTTP/1.0\r\n\r\n", &r);
	assert_int_equal(r.status, 200);
	check_allow(&r, "GET, HEAD, POST, OPTIONS");
	http_resp_free(&r);
	expect_closed(&c, 3000);
	http_close(&c);
	/* Asterisk-form is for OPTIONS only (RFC 9112 3.2.4). */
	conn_open(f, &c);
	ask(&c, "GET * HTTP/1.1\r\nHost: localhost\r\n\r\n", &r);
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
	expect_closed(&c, 3000);
	http_close(&c);
}

/* RFC 9110 15.6.2 and 15.5.6: 501 for a method no route takes, anywhere;
 * 405 with Allow for a path served with other methods; 404 otherwise. The
 * connection stays open after each: the request was well-formed. */
static void test_methods(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	static const char *const unrouted[] = {
	    "CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n",
	    "DELETE /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n",
	    ("PUT /upload HTTP/1.1\r\nHost: localhost\r\n"
	     "Content-Length: 0\r\n\r\n"),
	    "PATCH /nope HTTP/1.1\r\nHost: localhost\r\n\r\n",
	    "TRACE / HTTP/1.1\r\nHost: localhost\r\n\r\n",
	    "PURGE /static/app.js HTTP/1.1\r\nHost: localhost\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(unrouted) / sizeof(unrouted[0]); i++) {
		ask(&c, unrouted[i], &r);
		if (r.status != 501)
			print_message("%.20s...: %d\n", unrouted[i], r.status);
		assert_int_equal(r.status, 501);
		assert_null(http_header(&r, "Allow"));
		http_resp_free(&r);
	}
	/* A 1 KiB method is an unknown method, not a long target. */
	struct sbuf b = {0};
	for (int i = 0; i < 1024; i++)
		sb_str(&b, "M");
	sb_str(&b, " /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n");
	send_bytes(&c, b.p, b.len);
	sb_free(&b);
	assert_int_equal(http_read(&c, &r, 0), 0);
	assert_int_equal(r.status, 501);
	http_resp_free(&r);

	ask(&c,
	    "POST /plaintext HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Length: 0\r\n\r\n",
	    &r);
	assert_int_equal(r.status, 405);
	check_allow(&r, "GET, HEAD");
	http_resp_free(&r);
	ask(&c, "OPTIONS /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n", &r);
	assert_int_equal(r.status, 405);
	check_allow(&r, "GET, HEAD");
	http_resp_free(&r);
	ask(&c, "GET /upload HTTP/1.1\r\nHost: localhost\r\n\r\n", &r);
	assert_int_equal(r.status, 405);
	check_allow(&r, "POST");
	http_resp_free(&r);
	ask(&c,
	    "POST /nope HTTP/1.1\r\nHost: localhost\r\n"
	    "Content-Length: 0\r\n\r\n",
	    &r);
	assert_int_equal(r.status, 404);
	http_resp_free(&r);
	roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	expect_open(&c, 50);
	http_close(&c);
}

/* RFC 9110 15.2: no 1xx to an HTTP/1.0 client, which waits for nothing;
 * and none to a client that sent its body with the head (nginx's way). */
static void test_no_stray_continue(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	/* HTTP/1.0: the head alone, a pause in which nothing may come, then
	 * the body and the one, final, response. */
	conn_open(f, &c);
	send_str(&c, "POST /upload HTTP/1.0\r\nContent-Length: 5\r\n"
		     "Expect: 100-continue\r\n\r\n");
	assert_int_equal(wait_readable(c.fd, 300), 0);
	send_str(&c, "hello");
	assert_int_equal(http_read(&c, &r, 0), 0);
	check_str(&r, 200, "5");
	http_resp_free(&r);
	expect_closed(&c, 3000);
	http_close(&c);

	/* HTTP/1.1, the body in the same write as the head: the first
	 * response is the final one; then a client that waits still gets
	 * its 100 on the same connection. */
	conn_open(f, &c);
	send_str(&c, "POST /upload HTTP/1.1\r\nHost: localhost\r\n"
		     "Content-Length: 5\r\nExpect: 100-continue\r\n\r\nhello");
	assert_int_equal(http_read(&c, &r, 0), 0);
	check_str(&r, 200, "5");
	http_resp_free(&r);
	send_str(&c,
		 "POST / HTTP/1.1\r\nHost: localhost\r\n"
		 "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
		 "5\r\nhello\r\n0\r\n\r\n");
	assert_int_equal(http_read(&c, &r, 0), 0);
	check_str(&r, 200, "hello");
	http_resp_free(&r);
	send_str(&c, "POST /upload HTTP/1.1\r\nHost: localhost\r\n"
		     "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n");
	assert_int_equal(http_read(&c, &r, 0), 0);
	assert_int_equal(r.status, 100);
	http_resp_free(&r);
	send_str(&c, "hello");
	assert_int_equal(http_read(&c, &r, 0), 0);
	check_str(&r, 200, "5");
	http_resp_free(&r);
	expect_open(&c, 50);
	http_close(&c);
}

/* RFC 9110 6.5.1: a field that may not be a trailer makes the body
 * invalid (400, then close); an ordinary trailer is fine. */
static void test_trailers(void **state)
{
	struct fixture *f = fixture_get(state);
	static const char *const fields[] = {
	    "Content-Length: 5",    "Transfer-Encoding: chunked",
	    "Host: evil.example",   "Authorization: Basic YTpi",
	    "Content-Type: text/x", "content-length: 0",
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		struct http_conn c;
		struct http_resp r;
		struct sbuf b = {0};
		conn_open(f, &c);
		sb_printf(&b,
			  "POST /upload HTTP/1.1\r\nHost: localhost\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
			  "0\r\n%s\r\n\r\n" GET("/plaintext"),
			  fields[i]);
		send_bytes(&c, b.p, b.len);
		sb_free(&b);
		assert_int_equal(http_read(&c, &r, 0), 0);
		if (r.status != 400)
			print_message("trailer %s: %d\n", fields[i], r.status);
		assert_int_equal(r.status, 400);
		http_resp_free(&r);
		expect_closed(&c, 3000);
		http_close(&c);
	}
	struct http_conn c;
	conn_open(f, &c);
	roundtrip(&c,
		  "POST /upload HTTP/1.1\r\nHost: localhost\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
		  "0\r\nX-Checksum: 1234\r\nServer-Timing: db;dur=5\r\n\r\n",
		  200, "5");
	expect_open(&c, 50);
	http_close(&c);
}

/* The decisions README's parser list states for bytes a path may carry:
 * the router matches the raw path, so "%00" and "%0d%0a" are six bytes
 * of it, never a NUL or a line end (404); a backslash is an ordinary byte
 * (404, never a separator). Content-Length with leading zeros is decimal
 * (1*DIGIT); a tab before a field value is whitespace. */
static void test_path_bytes(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	static const char *const paths[] = {
	    "/plaintext%00", "/plaintext%0d%0aX-Injected:%20yes",
	    "/plaintext\\", "\\plaintext", "/json%2F1"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct sbuf b = {0};
		sb_printf(&b, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n",
			  paths[i]);
		send_bytes(&c, b.p, b.len);
		sb_free(&b);
		assert_int_equal(http_read(&c, &r, 0), 0);
		if (r.status != (paths[i][0] == '/' ? 404 : 400))
			print_message("%s: %d\n", paths[i], r.status);
		assert_int_equal(r.status, paths[i][0] == '/' ? 404 : 400);
		assert_null(http_header(&r, "X-Injected"));
		http_resp_free(&r);
		if (paths[i][0] != '/') { /* not origin-form: closed */
			http_close(&c);
			conn_open(f, &c);
		}
	}
	roundtrip(&c,
		  "POST /upload HTTP/1.1\r\nHost:\tlocalhost\r\n"
		  "Content-Length: 005\r\n\r\nhello",
		  200, "5");
	expect_open(&c, 50);
	http_close(&c);
}

/* --- '_' in field names ---------------------------------------------- */

static char error_log[sizeof(fixture_dir) + 16];

/* A configuration with `server` lines in [server] and the error log at
 * debug level in the test's own directory. */
static int start_configured(void **state, const char *server)
{
	struct backend *be = *state;
	if (be->why_not)
		return start_with(state, NULL); /* the test skips */
	snprintf(error_log, sizeof(error_log), "%s/error.log",
		 fixture_tmpdir());
	char text[512];
	snprintf(text, sizeof(text),
		 "[server]\nlisten = [\"127.0.0.1:8080\"]\n%s\n"
		 "[performance]\nworkers = 1\n"
		 "[log]\nerror_log = \"%s\"\nlevel = \"debug\"\n",
		 server, error_log);
	return start_with_config(state, text);
}

static int setup_default(void **state)
{
	return start_configured(state, "");
}

static int setup_underscores(void **state)
{
	return start_configured(state, "underscores_in_headers = true");
}

static const char *const echo_req =
    "POST /echo HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\n"
    "Content_Length: 5\r\nX_Forwarded_For: 10.0.0.1\r\nX-B: 2\r\n"
    "Transfer_Encoding: chunked\r\nContent-Length: 0\r\n\r\n";

/* Whether the error log holds `needle`, waiting a little for it. */
static bool log_has(const char *needle)
{
	for (int i = 0; i < 50; i++) {
		size_t n;
		char *s = read_file(error_log, &n);
		bool found = s && strstr(s, needle);
		free(s);
		if (found)
			return true;
		sleep_ms(20);
	}
	return false;
}

/* By default the handler sees none of them, and the framing ignores them
 * (Content_Length and Transfer_Encoding are not framing fields). */
static void test_underscores_dropped(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	send_str(&c, echo_req);
	read_resp(&c, &r, 0);
	static const char *const want[] = {"Host: localhost", "X-A: 1",
					   "X-B: 2", "Content-Length: 0"};
	check_echo(&r, want, 4);
	http_resp_free(&r);
	roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	expect_open(&c, 50);
	http_close(&c);
	assert_true(log_has("dropped 3 header field(s) with '_' in the name "
			    "(first: Content_Length)"));
}

static void test_underscores_allowed(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	send_str(&c, echo_req);
	read_resp(&c, &r, 0);
	static const char *const want[] = {
	    "Host: localhost",		 "X-A: 1", "Content_Length: 5",
	    "X_Forwarded_For: 10.0.0.1", "X-B: 2", "Transfer_Encoding: chunked",
	    "Content-Length: 0"};
	check_echo(&r, want, 7);
	http_resp_free(&r);
	expect_open(&c, 50);
	http_close(&c);
}

int main(void)
{
	fixture_init();
	const struct CMUnitTest tests[] = {
	    T(test_options_asterisk),
	    T(test_methods),
	    T(test_no_stray_continue),
	    T(test_trailers),
	    T(test_path_bytes),
	    T_WITH(test_underscores_dropped, setup_default),
	    T_WITH(test_underscores_allowed, setup_underscores),
	};
	return FIXTURE_RUN(tests) ? 1 : 0;
}
