/* test_balancer.c: the ringlet binary behind a load balancer, played by
 * the test. With the PROXY protocol ([server] proxy_protocol = true):
 * the client a version 1 or 2 header names is the one the
 * access log shows and the [status] allow list judges (192.0.2.0/24 and
 * 2001:db8::/32 allowed, the real peer 127.0.0.1 not), also when the
 * header comes a byte at a time; a LOCAL header keeps the real peer; a
 * connection without a valid header (a plain request, a malformed line, a
 * version 2 header of another version, one too long, one cut short until
 * header_timeout) is closed without a byte of response, counted in
 * /stats, and the worker goes on. With trusted_proxies: the client an
 * X-Forwarded-For or Forwarded header names, from a trusted peer only.
 * The health check: open to all, 503 through the drain that precedes a
 * graceful stop. Both io backends (fixture.h). */
#include "fixture.h"

#define HEADER_MS 600

static char access_path[sizeof(fixture_dir) + 16];

static int setup_proxy(void **state)
{
	if (!((struct backend *)*state)->why_not)
		snprintf(access_path, sizeof(access_path), "%s/access.log",
			 fixture_tmpdir());
	char text[1024];
	snprintf(text, sizeof(text),
		 "[server]\n"
		 "listen = [\"127.0.0.1:8080\"]\n"
		 "proxy_protocol = true\n"
		 "header_timeout = \"%dms\"\n"
		 "[performance]\n"
		 "workers = 1\n"
		 "[log]\n"
		 "access_log = \"%s\"\n"
		 "[status]\n"
		 "allow = [\"192.0.2.0/24\", \"2001:db8::/32\"]\n",
		 HEADER_MS, access_path);
	server_probe_proxy = true;
	return start_with_config(state, text);
}

static const unsigned char v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* A version 2 PROXY header for TCP over IPv6 from 2001:db8::5 port 4000
 * (or a LOCAL one), into out: its length. */
static size_t v2_header(unsigned char *out, bool local)
{
	memcpy(out, v2_sig, 12);
	out[12] = local ? 0x20 : 0x21;
	out[13] = local ? 0x00 : 0x21;
	size_t len = local ? 0 : 36;
	out[14] = 0;
	out[15] = (unsigned char)len;
	if (!local) {
		static const unsigned char src[16] = {0x20, 0x01, 0x0d,
						      0xb8, [15] = 5};
		static const unsigned char dst[16] = {[15] = 1};
		memcpy(out + 16, src, 16);
		memcpy(out + 32, dst, 16);
		out[48] = 4000 >> 8;
		out[49] = 4000 & 0xff;
		out[50] = 0;
		out[51] = 80;
	}
	return 16 + len;
}

/* The response to GET `path` sent after the header h[0, n) on a new
 * connection; one byte per send when `trickle`. The connection stays
 * open in *c. */
static int get_after(struct fixture *f, struct http_conn *c, const void *h,
		     size_t n, const char *path, bool trickle)
{
	conn_open(f, c);
	char req[128];
	int rn = snprintf(req, sizeof(req), GET("%s"), path);
	struct sbuf b = {0};
	sb_add(&b, h, n);
	sb_add(&b, req, (size_t)rn);
	if (trickle)
		for (size_t i = 0; i < b.len; i++) {
			send_bytes(c, b.p + i, 1);
			sleep_ms(1);
		}
	else
		send_bytes(c, b.p, b.len);
	sb_free(&b);
	struct http_resp r;
	read_resp(c, &r, 0);
	int status = r.status;
	http_resp_free(&r);
	return status;
}

static void expect_logged(const char *needle)
{
	char *line = wait_line(access_path, needle, 5000);
	if (!line)
		print_message("no access log line with \"%s\"\n", needle);
	assert_non_null(line);
	free(line);
}

static void test_v1(void **state)
{
	struct fixture *f = fixture_get(state);
	static const char h[] =
	    "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
	struct http_conn c;
	assert_int_equal(get_after(f, &c, h, strlen(h), "/stats", false), 200);
	/* The header is read once: later requests are requests. */
	roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	http_close(&c);
	expect_logged("192.0.2.1 - - [");
	expect_logged("\"GET /plaintext HTTP/1.1\" 200");
}

static void test_v2_trickled(void **state)
{
	struct fixture *f = fixture_get(state);
	unsigned char h[64];
	size_t n = v2_header(h, false);
	struct http_conn c;
	assert_int_equal(get_after(f, &c, h, n, "/stats?v2", true), 200);
	http_close(&c);
	expect_logged("2001:db8::5 - - [");
	assert_int_equal(get_after(f, &c, h, n, "/plaintext", false), 200);
	http_close(&c);
}

/* LOCAL: the balancer speaking for itself (its health checks). */
static void test_local(void **state)
{
	struct fixture *f = fixture_get(state);
	unsigned char h[16];
	size_t n = v2_header(h, true);
	struct http_conn c;
	assert_int_equal(get_after(f, &c, h, n, "/stats?local", false), 403);
	roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	http_close(&c);
	expect_logged("127.0.0.1 - - [");
}

/* The refusals /stats counts so far. */
static long long proxy_refused(struct fixture *f)
{
	static const char h[] = "PROXY TCP4 192.0.2.9 192.0.2.1 1 80\r\n";
	struct http_conn c;
	conn_open(f, &c);
	send_str(&c, h);
	send_str(&c, GET("/stats"));
	struct http_resp r;
	read_resp(&c, &r, 0);
	assert_int_equal(r.status, 200);
	const char *p = strstr(r.body, "\"proxy_refused\":");
	assert_non_null(p);
	long long n = strtoll(p + strlen("\"proxy_refused\":"), NULL, 10);
	http_resp_free(&r);
	http_close(&c);
	return n;
}

/* Bytes that are not a PROXY header: closed at once, nothing sent. */
static void refused(struct fixture *f, const void *p, size_t n)
{
	struct http_conn c;
	conn_open(f, &c);
	send_bytes(&c, p, n);
	expect_closed(&c, 2000);
	http_close(&c);
}

static void test_refused(void **state)
{
	struct fixture *f = fixture_get(state);
	long long before = proxy_refused(f);
	refused(f, GET("/plaintext"), strlen(GET("/plaintext")));
	static const char bad_v1[] = "PROXY TCP4 192.0.2.1 198.51.100.2 1 "
				     "080\r\nGET / HTTP/1.1\r\n\r\n";
	refused(f, bad_v1, strlen(bad_v1));
	char long_v1[200] = "PROXY TCP4 ";
	memset(long_v1 + 11, '1', sizeof(long_v1) - 11);
	refused(f, long_v1, sizeof(long_v1));
	unsigned char h[64];
	size_t n = v2_header(h, false);
	h[12] = 0x11; /* version 1 in a version 2 header */
	refused(f, h, n);
	n = v2_header(h, false);
	h[13] = 0x22; /* DGRAM */
	refused(f, h, n);
	n = v2_header(h, false);
	h[14] = h[15] = 0xff; /* 64 KiB of TLVs: more than a head may be */
	refused(f, h, 16);
	long long after = proxy_refused(f);
	if (after != before + 6)
		print_message("proxy_refused %lld, then %lld after 6\n", before,
			      after);
	assert_int_equal(after, before + 6);
}

/* A header cut short: closed once header_timeout has passed, silently. */
static void test_cut_short(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	conn_open(f, &c);
	send_str(&c, "PROXY TCP4 192.0.2.1 ");
	int64_t t0 = now_ms();
	expect_closed(&c, HEADER_MS + 3000);
	int64_t waited = now_ms() - t0;
	if (waited < HEADER_MS - 100)
		print_message("closed after %lld ms, header_timeout %d\n",
			      (long long)waited, HEADER_MS);
	assert_true(waited >= HEADER_MS - 100);
	http_close(&c);
	/* and silence from the start: closed at the same deadline */
	conn_open(f, &c);
	expect_closed(&c, HEADER_MS + 3000);
	http_close(&c);
}

/* GET `path` on a new connection from `from`, with the header line `fwd`
 * if not NULL: its status, the body in
 * body[cap], whether the response said Connection: close and the
 * connection then closed. */
static int get_once(struct fixture *f, const char *from, const char *path,
		    const char *fwd, char *body, size_t cap, bool *closed)
{
	struct http_conn c;
	conn_open_from(f, &c, from);
	char req[512];
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n%s%s\r\n",
		 path, fwd ? fwd : "", fwd ? "\r\n" : "");
	send_str(&c, req);
	struct http_resp r;
	read_resp(&c, &r, 0);
	int status = r.status;
	snprintf(body, cap, "%.*s", (int)r.body_len, r.body);
	*closed = http_header_has_token(&r, "Connection", "close") &&
		  http_expect_closed(&c, 2000) == 0;
	if (!strcmp(path, "/healthz")) {
		const char *cc = http_header(&r, "Cache-Control");
		assert_non_null(cc);
		assert_string_equal(cc, "no-store");
	}
	http_resp_free(&r);
	http_close(&c);
	return status;
}

/* ---- forwarding headers ------------------------------------------------ */

static int setup_forwarded(void **state, const char *header)
{
	if (!((struct backend *)*state)->why_not)
		snprintf(access_path, sizeof(access_path), "%s/access.log",
			 fixture_tmpdir());
	char text[1024];
	snprintf(text, sizeof(text),
		 "[server]\n"
		 "listen = [\"127.0.0.1:8080\"]\n"
		 "trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]\n"
		 "%s"
		 "[performance]\n"
		 "workers = 1\n"
		 "[log]\n"
		 "access_log = \"%s\"\n"
		 "[status]\n"
		 "allow = [\"192.0.2.0/24\"]\n",
		 header, access_path);
	server_probe_proxy = false;
	return start_with_config(state, text);
}

static int setup_xff(void **state)
{
	return setup_forwarded(state, "");
}

static int setup_rfc7239(void **state)
{
	return setup_forwarded(state, "forwarded_header = \"Forwarded\"\n");
}

/* GET `path` with the header line `fwd` from client address `from`. */
static int get_from(struct fixture *f, const char *from, const char *path,
		    const char *fwd)
{
	char body[16];
	bool closed;
	return get_once(f, from, path, fwd, body, sizeof(body), &closed);
}

static void test_x_forwarded_for(void **state)
{
	struct fixture *f = fixture_get(state);
	/* From a trusted proxy: the right-most address not trusted. */
	assert_int_equal(get_from(f, "127.0.0.1", "/stats?a",
				  "X-Forwarded-For: 1.1.1.1, 192.0.2.1, "
				  "10.0.0.7"),
			 200);
	expect_logged("192.0.2.1 - - [");
	/* From anyone else: the header is the client's word, not believed. */
	assert_int_equal(
	    get_from(f, "127.0.0.2", "/stats?b", "X-Forwarded-For: 192.0.2.1"),
	    403);
	expect_logged("127.0.0.2 - - [");
	/* The other header is not this configuration's. */
	assert_int_equal(
	    get_from(f, "127.0.0.1", "/stats?c", "Forwarded: for=192.0.2.1"),
	    403);
	/* Not an address: the peer stands. */
	assert_int_equal(get_from(f, "127.0.0.1", "/plaintext?d",
				  "X-Forwarded-For: unknown"),
			 200);
	expect_logged("127.0.0.1 - - [");
}

static void test_forwarded(void **state)
{
	struct fixture *f = fixture_get(state);
	assert_int_equal(get_from(f, "127.0.0.1", "/stats?e",
				  "Forwarded: for=\"[2001:db8::9]:4711\", "
				  "for=192.0.2.44;proto=https"),
			 200);
	expect_logged("192.0.2.44 - - [");
	assert_int_equal(
	    get_from(f, "127.0.0.1", "/stats?f", "X-Forwarded-For: 192.0.2.1"),
	    403);
	assert_int_equal(
	    get_from(f, "127.0.0.2", "/stats?g", "Forwarded: for=192.0.2.44"),
	    403);
}

/* ---- health and drain --------------------------------------------------- */

#define DRAIN_MS 1000

static int setup_drain(void **state)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "[server]\n"
		 "listen = [\"127.0.0.1:8080\"]\n"
		 "drain_delay = \"%dms\"\n"
		 "[performance]\n"
		 "workers = 1\n",
		 DRAIN_MS);
	server_probe_proxy = false;
	return start_with_config(state, text);
}

/* The health check answers anyone (127.0.0.2 is outside the default
 * allow list): 200 while the worker serves; from SIGTERM on, for
 * drain_delay, 503 while every other request is still served, each on a
 * connection then closed; then the port closes and the server exits. */
static void test_health_and_drain(void **state)
{
	struct fixture *f = fixture_get(state);
	char body[64];
	bool closed;
	assert_int_equal(get_once(f, "127.0.0.2", "/healthz", NULL, body,
				  sizeof(body), &closed),
			 200);
	assert_string_equal(body, "ok\n");
	assert_false(closed);
	assert_int_equal(get_once(f, "127.0.0.2", "/stats", NULL, body,
				  sizeof(body), &closed),
			 403);
	int64_t t0 = now_ms();
	assert_int_equal(kill(f->srv.pid, SIGTERM), 0);
	sleep_ms(200);
	assert_int_equal(get_once(f, "127.0.0.2", "/healthz", NULL, body,
				  sizeof(body), &closed),
			 503);
	assert_string_equal(body, "draining\n");
	assert_true(closed);
	assert_int_equal(get_once(f, "127.0.0.1", "/plaintext", NULL, body,
				  sizeof(body), &closed),
			 200);
	assert_string_equal(body, "Hello, World!");
	assert_true(closed);
	assert_true(now_ms() - t0 < DRAIN_MS); /* all that within the drain */
	assert_int_equal(server_signal_wait(&f->srv, 0, DRAIN_MS + 5000), 0);
	f->running = false;
	int64_t took = now_ms() - t0;
	if (took < DRAIN_MS - 50)
		print_message("exited %lld ms after SIGTERM, drain_delay %d\n",
			      (long long)took, DRAIN_MS);
	assert_true(took >= DRAIN_MS - 50);
}

int main(void)
{
	fixture_init();
	const struct CMUnitTest tests[] = {
	    T_WITH(test_v1, setup_proxy),
	    T_WITH(test_v2_trickled, setup_proxy),
	    T_WITH(test_local, setup_proxy),
	    T_WITH(test_refused, setup_proxy),
	    T_WITH(test_cut_short, setup_proxy),
	    T_WITH(test_x_forwarded_for, setup_xff),
	    T_WITH(test_forwarded, setup_rfc7239),
	    T_WITH(test_health_and_drain, setup_drain),
	};
	return FIXTURE_RUN(tests) ? 1 : 0;
}
