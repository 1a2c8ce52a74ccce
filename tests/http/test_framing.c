/* test_framing.c: HTTP/1.1 message framing through the ringlet binary:
 * pipelining (answers strictly in order), requests split at every byte,
 * keep-alive and Connection: close, HTTP/1.0, HEAD against GET,
 * Expect: 100-continue, chunked request bodies, curl as a real client on
 * every endpoint, and a pooled connection reused by the next client with
 * nothing of the previous one left in it. Every test runs on both io
 * backends (fixture.h). */
#include "fixture.h"
#include "json.h"

static void test_pipelining(void **state)
{
	struct fixture *f = fixture_get(state);
	struct rng rng = rng_for(__func__);
	struct http_conn c;
	struct http_resp r;
	struct sbuf b = {0};
	conn_open(f, &c);

	/* 16 deep, one write. */
	for (int i = 0; i < 16; i++)
		sb_str(&b, GET("/pipeline"));
	send_bytes(&c, b.p, b.len);
	for (int i = 0; i < 16; i++) {
		read_resp(&c, &r, 0);
		check_str(&r, 200, "ok");
		http_resp_free(&r);
	}
	expect_open(&c, 50);

	/* 16 different requests with distinct answers, strictly in order. */
	char want[16][64];
	int flags[16];
	b.len = 0;
	for (int i = 0; i < 16; i++) {
		long long x = (long long)rng_range(&rng, 0, 1000000);
		flags[i] = 0;
		switch (i % 4) {
		case 0:
			sb_printf(&b, GET("/baseline11?a=%d&b=%lld"), i, x);
			snprintf(want[i], sizeof(want[i]), "%lld", i + x);
			break;
		case 1:
			snprintf(want[i], sizeof(want[i]), "body-%d-%lld", i,
				 x);
			sb_printf(&b,
				  "POST / HTTP/1.1\r\nHost: localhost\r\n"
				  "Content-Length: %zu\r\n\r\n%s",
				  strlen(want[i]), want[i]);
			break;
		case 2: {
			char digits[32];
			snprintf(digits, sizeof(digits), "%lld", x);
			sb_printf(&b,
				  "POST /baseline11?a=%d&b=7 HTTP/1.1\r\n"
				  "Host: localhost\r\nTransfer-Encoding: "
				  "chunked\r\n\r\n",
				  i);
			sb_chunked(&b, &rng, digits, strlen(digits), 2, true);
			snprintf(want[i], sizeof(want[i]), "%lld", i + 7 + x);
			break;
		}
		default:
			sb_str(&b, "HEAD /plaintext HTTP/1.1\r\nHost: "
				   "localhost\r\n\r\n");
			want[i][0] = '\0';
			flags[i] = HTTP_HEAD_ONLY;
		}
	}
	send_bytes(&c, b.p, b.len);
	for (int i = 0; i < 16; i++) {
		read_resp(&c, &r, flags[i]);
		check_str(&r, 200, want[i]);
		if (flags[i])
			assert_string_equal(http_header(&r, "Content-Length"),
					    "13");
		http_resp_free(&r);
	}

	/* Handlers that finish in the reverse order still answer in order. */
	b.len = 0;
	for (int i = 0; i < 8; i++)
		sb_printf(&b, GET("/sleep?ms=%d"), (8 - i) * 15);
	send_bytes(&c, b.p, b.len);
	for (int i = 0; i < 8; i++) {
		char s[32];
		snprintf(s, sizeof(s), "slept %d", (8 - i) * 15);
		read_resp(&c, &r, 0);
		check_str(&r, 200, s);
		http_resp_free(&r);
	}

	/* 100 deep. */
	b.len = 0;
	for (int i = 0; i < 100; i++)
		sb_str(&b, GET("/plaintext"));
	send_bytes(&c, b.p, b.len);
	for (int i = 0; i < 100; i++) {
		read_resp(&c, &r, 0);
		check_str(&r, 200, "Hello, World!");
		http_resp_free(&r);
	}
	expect_open(&c, 50);
	sb_free(&b);
	http_close(&c);
}

struct split_case {
	const char *req;
	const char *body;
};

static const struct split_case split_cases[] = {
    {"GET /baseline11?a=3&b=4 HTTP/1.1\r\nHost: localhost\r\n"
     "User-Agent: split-test\r\nAccept: */*\r\n\r\n",
     "7"},
    {"POST /baseline11?a=1&b=2 HTTP/1.1\r\nHost: localhost\r\n"
     "Content-Length: 2\r\n\r\n40",
     "43"},
    {"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
     "\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n",
     "abcde"},
};

/* Sends req in pieces cut at `cuts` (increasing offsets), pausing 2 ms
 * between writes, and checks the answer. */
static void send_split(struct http_conn *c, const struct split_case *sc,
		       const size_t *cuts, size_t ncuts)
{
	size_t len = strlen(sc->req), from = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;
		if (to > from)
			send_bytes(c, sc->req + from, to - from);
		if (i < ncuts)
			sleep_ms(2);
		from = to;
	}
	struct http_resp r;
	read_resp(c, &r, 0);
	if (r.status != 200 || strcmp(r.body, sc->body)) {
		print_message("split at");
		for (size_t i = 0; i < ncuts; i++)
			print_message(" %zu", cuts[i]);
		print_message(" of: %s\n", sc->req);
	}
	check_str(&r, 200, sc->body);
	http_resp_free(&r);
}

static void test_split_requests(void **state)
{
	struct fixture *f = fixture_get(state);
	struct rng rng = rng_for(__func__);
	struct http_conn c;
	conn_open(f, &c);
	size_t cuts[512];
	for (size_t k = 0; k < sizeof(split_cases) / sizeof(split_cases[0]);
	     k++) {
		const struct split_case *sc = &split_cases[k];
		size_t len = strlen(sc->req);
		/* At every byte boundary, in two pieces. */
		for (size_t i = 1; i < len; i++) {
			cuts[0] = i;
			send_split(&c, sc, cuts, 1);
		}
		/* One byte per write. */
		for (size_t i = 1; i < len; i++)
			cuts[i - 1] = i;
		send_split(&c, sc, cuts, len - 1);
		/* Random cuts. */
		for (int round = 0; round < 10; round++) {
			size_t n = 0;
			for (size_t i = 1; i < len; i++)
				if (rng_range(&rng, 0, 7) == 0)
					cuts[n++] = i;
			send_split(&c, sc, cuts, n);
		}
	}
	/* The three pipelined, cut at random. */
	struct sbuf all = {0};
	for (size_t k = 0; k < 3; k++)
		sb_str(&all, split_cases[k].req);
	for (int round = 0; round < 10; round++) {
		size_t from = 0;
		while (from < all.len) {
			size_t n = (size_t)rng_range(&rng, 1, 40);
			if (n > all.len - from)
				n = all.len - from;
			send_bytes(&c, all.p + from, n);
			from += n;
			sleep_ms(2);
		}
		for (size_t k = 0; k < 3; k++) {
			struct http_resp r;
			read_resp(&c, &r, 0);
			check_str(&r, 200, split_cases[k].body);
			http_resp_free(&r);
		}
	}
	sb_free(&all);
	expect_open(&c, 50);
	http_close(&c);
}

static void test_keepalive(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	for (int i = 0; i < 20; i++) {
		const char *req = i % 3 == 0   ? GET("/plaintext")
				  : i % 3 == 1 ? GET("/json")
					       : GET("/pipeline");
		send_str(&c, req);
		read_resp(&c, &r, 0);
		assert_int_equal(r.status, 200);
		assert_false(http_header_has_token(&r, "Connection", "close"));
		http_resp_free(&r);
		if (i == 10)
			expect_open(&c, 100);
	}
	/* A GET with a body that looks like a request: the server must read
	 * it as the body, and answer only the request it belongs to. */
	static const char smuggle[] = "GET /json HTTP/1.1\r\nHost: x\r\n\r\n";
	char req[256];
	snprintf(req, sizeof(req),
		 "GET /plaintext HTTP/1.1\r\nHost: localhost\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 sizeof(smuggle) - 1, smuggle);
	roundtrip(&c, req, 200, "Hello, World!");
	roundtrip(&c, GET("/pipeline"), 200, "ok");
	expect_open(&c, 100);
	/* Connection: close from the client ends it after the response. */
	send_str(&c, "GET /pipeline HTTP/1.1\r\nHost: localhost\r\n"
		     "Connection: close\r\n\r\n");
	read_resp(&c, &r, 0);
	check_str(&r, 200, "ok");
	assert_true(http_header_has_token(&r, "Connection", "close"));
	http_resp_free(&r);
	expect_closed(&c, 2000);
	http_close(&c);
}

static void test_http10(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;

	/* Closed by default, with or without Host. */
	conn_open(f, &c);
	send_str(&c, "GET /plaintext HTTP/1.0\r\n\r\n");
	read_resp(&c, &r, 0);
	check_str(&r, 200, "Hello, World!");
	http_resp_free(&r);
	expect_closed(&c, 2000);
	http_close(&c);

	conn_open(f, &c);
	send_str(&c, "POST /baseline11?a=1&b=2 HTTP/1.0\r\nHost: localhost\r\n"
		     "Content-Length: 1\r\n\r\n3");
	read_resp(&c, &r, 0);
	check_str(&r, 200, "6");
	http_resp_free(&r);
	expect_closed(&c, 2000);
	http_close(&c);

	/* Keep-alive when asked, and said so in the response. */
	conn_open(f, &c);
	for (int i = 0; i < 3; i++) {
		send_str(&c, "GET /plaintext HTTP/1.0\r\n"
			     "Connection: keep-alive\r\n\r\n");
		read_resp(&c, &r, 0);
		check_str(&r, 200, "Hello, World!");
		assert_false(r.until_close);
		assert_true(
		    http_header_has_token(&r, "Connection", "keep-alive"));
		http_resp_free(&r);
		expect_open(&c, 50);
	}
	/* The last one without: closed after it. */
	send_str(&c, "GET /pipeline HTTP/1.0\r\n\r\n");
	read_resp(&c, &r, 0);
	check_str(&r, 200, "ok");
	http_resp_free(&r);
	expect_closed(&c, 2000);
	http_close(&c);
}

/* HEAD `path` pipelined with GET `path`: the HEAD response has the GET's
 * status, Content-Type and Content-Length and no body (the GET response
 * starts right after its head). */
static void head_vs_get(struct http_conn *c, const char *path)
{
	char req[512];
	snprintf(req, sizeof(req),
		 "HEAD %s HTTP/1.1\r\nHost: localhost\r\n\r\n" GET("%s"), path,
		 path);
	send_str(c, req);
	struct http_resp h, g;
	read_resp(c, &h, HTTP_HEAD_ONLY);
	read_resp(c, &g, 0);
	assert_int_equal(h.status, g.status);
	const char *hct = http_header(&h, "Content-Type");
	const char *gct = http_header(&g, "Content-Type");
	assert_true((hct == NULL) == (gct == NULL));
	if (hct)
		assert_string_equal(hct, gct);
	if (g.status == 200) {
		const char *cl = http_header(&h, "Content-Length");
		if (!cl)
			print_message("HEAD %s: no Content-Length\n", path);
		assert_non_null(cl);
		assert_int_equal(strtoull(cl, NULL, 10), g.body_len);
	}
	http_resp_free(&h);
	http_resp_free(&g);
}

static void test_head(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	conn_open(f, &c);
	head_vs_get(&c, "/plaintext");
	head_vs_get(&c, "/json");
	head_vs_get(&c, "/baseline11?a=20&b=22");
	head_vs_get(&c, "/");
	head_vs_get(&c, "/pipeline");
	head_vs_get(&c, "/no-such-path");
	if (have_data()) {
		head_vs_get(&c, "/static/app.js");
		head_vs_get(&c, "/static/hero.webp");
		head_vs_get(&c, "/json/5?m=2");
	}
	expect_open(&c, 50);
	http_close(&c);
}

/* Sends head, waits for 100 Continue, sends body, returns the final
 * response. */
static void expect_100(struct http_conn *c, const char *head, const void *body,
		       size_t n, struct http_resp *r)
{
	send_str(c, head);
	int64_t saved = c->timeout_ms;
	c->timeout_ms = 3000;
	assert_int_equal(http_read(c, r, 0), 0);
	c->timeout_ms = saved;
	if (r->status != 100)
		print_message("got %d instead of 100 Continue\n", r->status);
	assert_int_equal(r->status, 100);
	assert_int_equal(r->body_len, 0);
	http_resp_free(r);
	send_bytes(c, body, n);
	assert_int_equal(http_read(c, r, 0), 0);
}

static void test_expect_continue(void **state)
{
	struct fixture *f = fixture_get(state);
	struct rng rng = rng_for(__func__);
	struct http_conn c;
	struct http_resp r;
	size_t n = 100000;
	char *data = malloc(n);
	assert_non_null(data);
	rng_fill(&rng, data, n);
	conn_open(f, &c);

	expect_100(&c,
		   "POST /upload HTTP/1.1\r\nHost: localhost\r\n"
		   "Content-Length: 100000\r\nExpect: 100-continue\r\n\r\n",
		   data, n, &r);
	check_str(&r, 200, "100000");
	http_resp_free(&r);

	expect_100(&c,
		   "POST / HTTP/1.1\r\nHost: localhost\r\nExpect: "
		   "100-continue\r\nTransfer-Encoding: chunked\r\n\r\n",
		   "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 26, &r);
	check_str(&r, 200, "hello world");
	http_resp_free(&r);

	expect_100(&c,
		   "POST /baseline11?a=1&b=1 HTTP/1.1\r\nHost: localhost\r\n"
		   "Expect: 100-continue\r\nContent-Length: 1\r\n\r\n",
		   "5", 1, &r);
	check_str(&r, 200, "7");
	http_resp_free(&r);

	/* A client that does not wait gets the right answer (an interim 100
	 * before it or not). */
	struct sbuf b = {0};
	sb_str(&b, "POST / HTTP/1.1\r\nHost: localhost\r\nExpect: "
		   "100-continue\r\nContent-Length: 100000\r\n\r\n");
	sb_add(&b, data, n);
	send_bytes(&c, b.p, b.len);
	sb_free(&b);
	read_resp(&c, &r, 0);
	check(&r, 200, data, n);
	http_resp_free(&r);
	roundtrip(&c, GET("/pipeline"), 200, "ok");
	expect_open(&c, 50);
	http_close(&c);

	/* Too large: the final status at once, never a 100. */
	conn_open(f, &c);
	send_str(&c,
		 "POST /upload HTTP/1.1\r\nHost: localhost\r\n"
		 "Content-Length: 67108865\r\nExpect: 100-continue\r\n\r\n");
	assert_int_equal(http_read(&c, &r, 0), 0);
	assert_int_equal(r.status, 413);
	http_resp_free(&r);
	expect_closed(&c, 3000);
	http_close(&c);
	free(data);
}

static void test_chunked_requests(void **state)
{
	struct fixture *f = fixture_get(state);
	struct rng rng = rng_for(__func__);
	struct http_conn c;
	struct http_resp r;
	struct sbuf b = {0};
	conn_open(f, &c);

	/* Extensions (token and quoted values), upper/lower-case hex with
	 * leading zeros, trailers, and a request right behind it. */
	roundtrip(&c,
		  "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: "
		  "chunked\r\n\r\n5;name=value\r\nhello\r\n"
		  "6;a;b=\"quoted; str\"\r\n world\r\n000A\r\n0123456789\r\n"
		  "a\r\nabcdefghij\r\n0;last\r\nX-Trailer: 1\r\n"
		  "X-Other: two\r\n\r\n" GET("/pipeline"),
		  200, "hello world0123456789abcdefghij");
	struct http_resp r2;
	read_resp(&c, &r2, 0);
	check_str(&r2, 200, "ok");
	http_resp_free(&r2);

	/* 2000 one-byte chunks. */
	char body[2000];
	rng_fill(&rng, body, sizeof(body));
	sb_str(&b, "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: "
		   "chunked\r\n\r\n");
	sb_chunked(&b, &rng, body, sizeof(body), 1, false);
	send_bytes(&c, b.p, b.len);
	read_resp(&c, &r, 0);
	check(&r, 200, body, sizeof(body));
	http_resp_free(&r);

	/* An empty chunked body. */
	roundtrip(&c,
		  "POST /upload HTTP/1.1\r\nHost: localhost\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		  200, "0");

	/* Random bodies in random chunks with random extensions. */
	char *data = malloc(100000);
	assert_non_null(data);
	for (int i = 0; i < 20; i++) {
		size_t n = (size_t)rng_range(&rng, 1, 100000);
		rng_fill(&rng, data, n);
		b.len = 0;
		sb_str(&b, "POST / HTTP/1.1\r\nHost: localhost\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n");
		sb_chunked(&b, &rng, data, n, (size_t)rng_range(&rng, 1, 5000),
			   true);
		send_bytes(&c, b.p, b.len);
		read_resp(&c, &r, 0);
		check(&r, 200, data, n);
		http_resp_free(&r);
	}
	free(data);
	sb_free(&b);
	expect_open(&c, 50);
	http_close(&c);
}

/* ------------------------------------------------------------------------
 * curl, on every endpoint: a real client, whatever framing the server
 * chooses (Content-Length or chunked) for each response.
 * ------------------------------------------------------------------------ */

static void curl(struct fixture *f, const char *path, const char *const extra[],
		 struct curl_result *res)
{
	char url[512];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", f->port, path);
	const char *args[32];
	int n = 0;
	for (int i = 0; extra && extra[i] && n < 30; i++)
		args[n++] = extra[i];
	args[n++] = url;
	args[n] = NULL;
	int rc = curl_run(args, res);
	if (rc || res->exit)
		print_message("curl %s: exit %d\n", path, res->exit);
	assert_int_equal(rc, 0);
	assert_int_equal(res->exit, 0);
}

static void curl_check(struct fixture *f, const char *path,
		       const char *const extra[], int status, const void *body,
		       size_t len, const char *type)
{
	struct curl_result res;
	curl(f, path, extra, &res);
	if (res.status != status || res.len != len ||
	    memcmp(res.body, body, len))
		print_message("curl %s: %d with %zu bytes, expected %d with "
			      "%zu\n",
			      path, res.status, res.len, status, len);
	assert_int_equal(res.status, status);
	assert_int_equal(res.len, len);
	assert_memory_equal(res.body, body, len);
	if (type)
		assert_true(media_type_is(res.content_type, type));
	curl_result_free(&res);
}

static char *temp_file(const void *data, size_t n, char *path, size_t cap)
{
	snprintf(path, cap, "/tmp/ringlet-curl-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
	return path;
}

static void test_curl(void **state)
{
	struct fixture *f = fixture_get(state);
	if (!curl_available()) {
		print_message("SKIP: curl is not installed\n");
		skip();
	}
	struct rng rng = rng_for(__func__);
	curl_check(f, "/plaintext", NULL, 200, "Hello, World!", 13,
		   "text/plain");
	curl_check(f, "/baseline11?a=5&b=6", NULL, 200, "11", 2, NULL);
	curl_check(f, "/pipeline", NULL, 200, "ok", 2, NULL);
	curl_check(f, "/", NULL, 200, "OK", 2, NULL);
	static const char *const options[] = {"-X", "OPTIONS", NULL};
	curl_check(f, "/", options, 200, "OK", 2, NULL);
	curl_check(f, "/sleep?ms=5", NULL, 200, "slept 5", 7, NULL);
	static const char *const http10[] = {"--http1.0", NULL};
	curl_check(f, "/plaintext", http10, 200, "Hello, World!", 13, NULL);
	struct curl_result res;
	curl(f, "/no-such-path", NULL, &res);
	assert_int_equal(res.status, 404);
	curl_result_free(&res);

	static const char *const head[] = {"-I", NULL};
	curl(f, "/", head, &res);
	assert_int_equal(res.status, 200);
	curl_result_free(&res);

	curl(f, "/json", NULL, &res);
	assert_int_equal(res.status, 200);
	struct json *j = json_parse(res.body, res.len);
	assert_non_null(j);
	assert_non_null(json_get(j, "message"));
	assert_string_equal(json_get(j, "message")->str, "Hello, World!");
	json_free(j);
	curl_result_free(&res);

	curl(f, "/stats", NULL, &res);
	assert_int_equal(res.status, 200);
	j = json_parse(res.body, res.len);
	assert_non_null(j);
	assert_non_null(json_find(j, "requests"));
	json_free(j);
	curl_result_free(&res);

	static const char *const echo_hdr[] = {"-X", "POST", "-H",
					       "X-Curl: yes", NULL};
	curl(f, "/echo", echo_hdr, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body, "X-Curl: yes"));
	assert_non_null(strstr(res.body, "User-Agent: curl/"));
	curl_result_free(&res);

	static const char *const post39[] = {"--data-binary", "39", NULL};
	curl_check(f, "/baseline11?a=1&b=2", post39, 200, "42", 2, NULL);

	/* Bodies from a file: Content-Length, chunked, 100-continue. */
	size_t n = 900000; /* POST / echoes at most 1 MiB */
	char *data = malloc(n), path[64], at[80], count[32];
	assert_non_null(data);
	rng_fill(&rng, data, n);
	temp_file(data, n, path, sizeof(path));
	snprintf(at, sizeof(at), "@%s", path);
	snprintf(count, sizeof(count), "%zu", n);
	const char *plain[] = {"--data-binary", at, NULL};
	const char *chunked[] = {"--data-binary", at, "-H",
				 "Transfer-Encoding: chunked", NULL};
	const char *expect[] = {"--data-binary", at, "-H",
				"Expect: 100-continue", NULL};
	curl_check(f, "/upload", plain, 200, count, strlen(count), NULL);
	curl_check(f, "/upload", chunked, 200, count, strlen(count), NULL);
	curl_check(f, "/upload", expect, 200, count, strlen(count), NULL);
	curl_check(f, "/", plain, 200, data, n, NULL);
	curl_check(f, "/", chunked, 200, data, n, NULL);
	unlink(path);
	free(data);

	if (have_data()) {
		static struct static_file files[64];
		size_t nf = static_files(files, 64);
		for (size_t i = 0; i < nf; i++) {
			char p[300];
			snprintf(p, sizeof(p), "/static/%.200s", files[i].name);
			curl(f, p, NULL, &res);
			assert_int_equal(res.status, 200);
			assert_int_equal(res.len, files[i].len);
			assert_memory_equal(res.body, files[i].data,
					    files[i].len);
			assert_true(
			    static_type_ok(files[i].name, res.content_type));
			curl_result_free(&res);
			free(files[i].data);
		}
		curl(f, "/json/7?m=2", NULL, &res);
		assert_int_equal(res.status, 200);
		j = json_parse(res.body, res.len);
		assert_non_null(j);
		assert_non_null(json_get(j, "items"));
		assert_int_equal(json_get(j, "items")->len, 7);
		json_free(j);
		curl_result_free(&res);
	}
}

/* ------------------------------------------------------------------------
 * A pooled connection reused. With --max-connections 1 each client gets
 * the connection object the one before it left, so whatever a release does
 * not reset (buffered input, parser or chunked-decoder state, the header
 * table, a handler waiting on a body) would show in the next client's
 * answers; debug builds fill freed memory with 0xa5, so a stale pointer
 * into it would show too.
 * ------------------------------------------------------------------------ */

static int setup_one_slot(void **state)
{
	static const char *const extra[] = {"--max-connections", "1", NULL};
	return start_with(state, extra);
}

/* Opens a connection the server has taken into its one slot. A refused
 * one is answered 503 at once, unasked, and closed; the slot frees once
 * the server has seen the previous client go, so this tries again for up
 * to 3 s. */
static void slot_open(struct fixture *f, struct http_conn *c)
{
	int64_t end = now_ms() + 3000;
	for (;;) {
		conn_open(f, c);
		if (!wait_readable(c->fd, 100))
			return; /* taken in: nothing comes unasked */
		struct http_resp r;
		int rc = http_read(c, &r, 0);
		int status = rc ? 0 : r.status;
		http_resp_free(&r);
		http_close(c);
		if (status != 503 || now_ms() > end)
			print_message("a new connection got %d unasked (%s)\n",
				      status, rc ? http_error : "a response");
		assert_int_equal(status, 503);
		assert_true(now_ms() <= end);
		sleep_ms(10);
	}
}

/* What client A leaves in the server when it goes. */
static const struct {
	const char *what;
	const char *bytes;
} leftovers[] = {
    {"a partial request head",
     "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nX-Left: over-aaaa"},
    {"a chunked body to /echo cut inside a chunk",
     "POST /echo HTTP/1.1\r\nHost: localhost\r\nX-Left: over-aaaa\r\n"
     "Transfer-Encoding: chunked\r\n\r\n20\r\nAAAAAAAAAAAA"},
    {"a chunked body to POST / cut inside a chunk",
     "POST / HTTP/1.1\r\nHost: localhost\r\nX-Left: over-aaaa\r\n"
     "Transfer-Encoding: chunked\r\n\r\n10\r\nAAAAAAAAAAAAAAAA\r\n"
     "40\r\nAAAAAAAAAAAAAAAAAAAAAAAA"},
    {"a chunked body to /upload cut in a chunk line",
     "POST /upload HTTP/1.1\r\nHost: localhost\r\nX-Left: over-aaaa\r\n"
     "Transfer-Encoding: chunked\r\n\r\n10\r\nAAAAAAAAAAAAAAAA\r\n"
     "1f;ext=\"AAAA"},
};

/* Whether p[0, n) holds anything of client A's: its markers, or a byte
 * of freed memory (0xa5). */
static const char *trace_of_a(const char *p, size_t n)
{
	static const char *const marks[] = {"aaaa", "AAAA", "X-Secret",
					    "X-Left", "over-"};
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (memmem(p, n, marks[i], strlen(marks[i])))
			return marks[i];
	return memchr(p, 0xa5, n) ? "a 0xa5 byte (freed memory)" : NULL;
}

/* Client B's response is its own: nothing of A's in its status line,
 * header fields or body. */
static void check_clean(const struct http_resp *r, const char *what)
{
	const char *t = trace_of_a(r->reason, strlen(r->reason));
	for (size_t i = 0; !t && i < r->nhdr; i++) {
		t = trace_of_a(r->hdr[i].name, strlen(r->hdr[i].name));
		if (!t)
			t = trace_of_a(r->hdr[i].value,
				       strlen(r->hdr[i].value));
	}
	if (!t)
		t = trace_of_a(r->body, r->body_len);
	if (t)
		print_message("after A left %s, B's response holds %s: %d "
			      "%s\n",
			      what, t, r->status,
			      http_snippet(r->body, r->body_len));
	assert_null(t);
}

/* Client A: its distinctive header fields echoed, then `left` sent and
 * the connection closed (with a reset when `reset`). */
static void client_a(struct fixture *f, struct rng *rng, const char *left,
		     bool reset)
{
	char store[40][160], value[141];
	const char *hdr[41];
	size_t n = (size_t)rng_range(rng, 20, 40);
	hdr[0] = "Host: localhost";
	for (size_t i = 0; i < n; i++) {
		size_t k = (size_t)rng_range(rng, 4, 140);
		memset(value, 'a', k);
		value[k] = '\0';
		snprintf(store[i], sizeof(store[i]), "X-Secret-%02zu: %s", i,
			 value);
		hdr[i + 1] = store[i];
	}
	struct http_conn a;
	slot_open(f, &a);
	echo(&a, hdr, n + 1, "");
	send_str(&a, left);
	sleep_ms(30); /* so the server holds it before the close */
	if (reset) {
		struct linger l = {.l_onoff = 1, .l_linger = 0};
		assert_int_equal(
		    setsockopt(a.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	}
	http_close(&a);
}

/* Client B, on the slot A left: its first request is POST /echo, which
 * must show exactly its own header fields, then a chunked POST / whose
 * body must come back exactly, then /plaintext; nothing else arrives. The
 * head goes in two writes when `split`. */
static void client_b(struct fixture *f, struct rng *rng, const char *what,
		     bool split)
{
	char id[32], bee[160], value[151];
	snprintf(id, sizeof(id), "X-Client: b-%llu",
		 (unsigned long long)rng_range(rng, 0, 999999));
	size_t k = (size_t)rng_range(rng, 1, 150);
	memset(value, 'b', k);
	value[k] = '\0';
	snprintf(bee, sizeof(bee), "X-Bee: %s", value);
	const char *const hdr[] = {"Host: localhost", id, bee};
	struct sbuf req = {0};
	sb_str(&req, "POST /echo HTTP/1.1\r\n");
	for (size_t i = 0; i < 3; i++)
		sb_printf(&req, "%s\r\n", hdr[i]);
	sb_str(&req, "\r\n");

	struct http_conn b;
	struct http_resp r;
	slot_open(f, &b);
	size_t cut = split ? (size_t)rng_range(rng, 1, req.len - 1) : req.len;
	send_bytes(&b, req.p, cut);
	if (cut < req.len) {
		sleep_ms(5);
		send_bytes(&b, req.p + cut, req.len - cut);
	}
	read_resp(&b, &r, 0);
	if (r.status != 200)
		print_message("after A left %s: B's POST /echo got %d %s\n",
			      what, r.status, http_snippet(r.body, r.body_len));
	check_clean(&r, what);
	check_echo(&r, hdr, 3);
	assert_false(http_header_has_token(&r, "Connection", "close"));
	http_resp_free(&r);

	char body[3000];
	size_t n = (size_t)rng_range(rng, 1, sizeof(body));
	for (size_t i = 0; i < n; i++)
		body[i] = "0123456789bcdefghij"[rng_range(rng, 0, 18)];
	req.len = 0;
	sb_str(&req, "POST / HTTP/1.1\r\nHost: localhost\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n");
	sb_chunked(&req, rng, body, n, 700, true);
	send_bytes(&b, req.p, req.len);
	read_resp(&b, &r, 0);
	check_clean(&r, what);
	check(&r, 200, body, n);
	http_resp_free(&r);

	send_str(&b, GET("/plaintext"));
	read_resp(&b, &r, 0);
	check_clean(&r, what);
	check_str(&r, 200, "Hello, World!");
	http_resp_free(&r);
	expect_open(&b, 50);
	sb_free(&req);
	http_close(&b);
}

static void test_conn_reuse(void **state)
{
	struct fixture *f = fixture_get(state);
	struct rng rng = rng_for(__func__);
	size_t nleft = sizeof(leftovers) / sizeof(leftovers[0]);
	for (size_t round = 0; round < 4 * nleft; round++) {
		size_t v = round % nleft;
		bool reset = round / nleft % 2, split = round / nleft >= 2;
		client_a(f, &rng, leftovers[v].bytes, reset);
		client_b(f, &rng, leftovers[v].what, split);
	}
}

/* A response of unknown length: chunked on HTTP/1.1 (pieces larger than
 * the output buffer split into several chunks, the connection kept), read
 * to the close on HTTP/1.0; HEAD gets the head alone. */
static void check_stream_body(const struct http_resp *r, size_t n)
{
	assert_int_equal(r->status, 200);
	assert_int_equal(r->body_len, n);
	for (size_t i = 0; i < n; i++)
		if (r->body[i] != (char)('a' + i % 26))
			fail_msg("byte %zu of the streamed body is wrong", i);
}

static void test_chunked_responses(void **state)
{
	struct fixture *f = fixture_get(state);
	static const struct {
		size_t n, piece;
	} cases[] = {
	    {0, 1}, {1, 1}, {1000, 7}, {100000, 40000}, {300000, 300000}};
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char req[128];
		snprintf(req, sizeof(req),
			 "GET /stream?n=%zu&piece=%zu HTTP/1.1\r\n"
			 "Host: localhost\r\n\r\n",
			 cases[i].n, cases[i].piece);
		send_str(&c, req);
		read_resp(&c, &r, 0);
		assert_true(r.chunked);
		assert_null(http_header(&r, "Content-Length"));
		check_stream_body(&r, cases[i].n);
		if (cases[i].n > 16384) /* more than one output buffer */
			assert_true(r.nchunks > 1);
		http_resp_free(&r);
	}
	send_str(&c, "HEAD /stream?n=500 HTTP/1.1\r\nHost: localhost\r\n\r\n");
	read_resp(&c, &r, HTTP_HEAD_ONLY);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 0);
	http_resp_free(&r);
	roundtrip(&c, GET("/pipeline"), 200, "ok");
	http_close(&c);

	conn_open(f, &c);
	send_str(&c, "GET /stream?n=5000&piece=300 HTTP/1.0\r\n\r\n");
	read_resp(&c, &r, 0);
	assert_false(r.chunked);
	assert_true(r.until_close);
	check_stream_body(&r, 5000);
	http_resp_free(&r);
	http_close(&c);
}

int main(void)
{
	fixture_init();
	const struct CMUnitTest tests[] = {
	    T(test_pipelining),
	    T(test_split_requests),
	    T(test_keepalive),
	    T(test_http10),
	    T(test_head),
	    T(test_expect_continue),
	    T(test_chunked_requests),
	    T(test_chunked_responses),
	    T(test_curl),
	    T_WITH(test_conn_reuse, setup_one_slot),
	};
	return FIXTURE_RUN(tests) ? 1 : 0;
}
