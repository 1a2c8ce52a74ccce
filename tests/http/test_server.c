/* test_server.c: the ringlet binary as a black box, driven over real sockets
 * and by curl: every demo endpoint with fixed and random inputs; HTTP/1.1
 * framing (pipelining, requests split anywhere, keep-alive, HTTP/1.0, HEAD,
 * 100-continue, chunked bodies); each parser rejection reaching the client
 * as its status, then a close; timeouts, slowloris, pool exhaustion, and
 * slow handlers that must not hold up the worker. The group runs once per
 * io backend (io_uring, then epoll). Every test starts its own server and
 * its teardown stops it with SIGTERM and requires exit status 0: under ASan
 * that is the leak check. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "client.h"
#include "json.h"

#define DATA_DIR RG_SHARED_DIR "/data"
#define STATIC_DIR DATA_DIR "/static"
#define DATASET DATA_DIR "/dataset.json"

/* ------------------------------------------------------------------------
 * Fixtures: a backend per group, a server per test
 * ------------------------------------------------------------------------ */

struct backend {
	const char *name;    /* the --io value */
	const char *why_not; /* set when it cannot run here */
	char why[160];
};

static struct backend backends[] = {{.name = "io_uring"}, {.name = "epoll"}};

struct fixture {
	struct backend *be;
	struct server srv;
	uint16_t port;
	bool running;
};

static bool have_data(void)
{
	struct stat st;
	return !stat(DATASET, &st) && !stat(STATIC_DIR, &st);
}

/* Why io_uring as the backend uses it cannot run here, or NULL: the
 * kernel's own answer, not the server's (a server that fails to start with
 * --io io_uring where the kernel has what it needs is a failure, not a
 * skip). The backend needs io_uring_setup and provided buffer rings
 * (IORING_REGISTER_PBUF_RING, Linux 5.19, the release that also brought
 * the multishot accept it uses). */
static const char *uring_unavailable(char *why, size_t cap)
{
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	int fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (fd < 0) {
		snprintf(why, cap,
			 "io_uring unavailable here (io_uring_setup: %s)",
			 strerror(errno));
		return why;
	}
	const char *res = NULL;
	void *ring = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ring != MAP_FAILED) {
		struct io_uring_buf_reg reg = {.ring_addr = (uintptr_t)ring,
					       .ring_entries = 8};
		if (syscall(__NR_io_uring_register, fd,
			    IORING_REGISTER_PBUF_RING, &reg, 1) < 0) {
			snprintf(why, cap,
				 "io_uring here lacks provided buffer rings "
				 "(Linux 5.19): %s",
				 strerror(errno));
			res = why;
		}
		munmap(ring, 4096);
	}
	close(fd);
	return res;
}

static int group_uring(void **state)
{
	struct backend *be = &backends[0];
	be->why_not = uring_unavailable(be->why, sizeof(be->why));
	print_message("backend: --io io_uring%s%s\n", be->why_not ? ": " : "",
		      be->why_not ? be->why_not : "");
	*state = be;
	return 0;
}

static int group_epoll(void **state)
{
	print_message("backend: --io epoll\n");
	*state = &backends[1];
	return 0;
}

static int start_with(void **state, const char *const extra[])
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->be = *state;
	*state = f;
	if (f->be->why_not)
		return 0; /* the test skips, saying why */
	const char *args[32];
	int n = 0;
	args[n++] = "--io";
	args[n++] = f->be->name;
	if (have_data()) {
		args[n++] = "--root";
		args[n++] = STATIC_DIR;
		args[n++] = "--data";
		args[n++] = DATASET;
	}
	for (int i = 0; extra && extra[i] && n < 31; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	if (server_start(&f->srv, args)) {
		fprintf(stderr, "could not start %s --io %s\n", RG_RINGLET_BIN,
			f->be->name);
		*state = f->be;
		free(f);
		return -1;
	}
	f->port = f->srv.port;
	f->running = true;
	return 0;
}

static int setup(void **state)
{
	return start_with(state, NULL);
}

/* Pool exhaustion needs a small pool: the binary's --max-connections. */
#define POOL_SIZE 16
static int setup_pool(void **state)
{
	static const char *const extra[] = {"--max-connections", "16", NULL};
	return start_with(state, extra);
}

static void stub_cleanup(void);
static void trickle_cleanup(void);

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = 0;
	stub_cleanup();
	trickle_cleanup();
	socket_close_all();
	if (f->running) {
		int st = server_stop(&f->srv, 5000);
		if (st != 0) {
			fprintf(stderr,
				"FAIL: the server (--io %s) did not exit with "
				"status 0 on SIGTERM (a leak under ASan, a "
				"crash, or a hang)\n",
				f->be->name);
			rc = -1;
		}
	}
	free(f);
	return rc;
}

/* The test's fixture; skips (saying why) when the backend cannot run. */
static struct fixture *fixture_get(void **state)
{
	struct fixture *f = *state;
	if (f->be->why_not) {
		print_message("SKIP: %s\n", f->be->why_not);
		skip();
	}
	return f;
}

static void need_data(void)
{
	if (!have_data()) {
		print_message("SKIP: %s is absent\n", DATA_DIR);
		skip();
	}
}

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		assert_non_null(b->p);
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	if ((size_t)n < sizeof(small)) {
		sb_add(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	assert_non_null(big);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_add(b, big, (size_t)n);
	free(big);
}

static void sb_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Appends body[0, n) in chunked coding: chunks of 1..maxchunk bytes, hex
 * sizes in random case, sometimes with extensions, then the last chunk. */
static void sb_chunked(struct sbuf *b, struct rng *r, const void *body,
		       size_t n, size_t maxchunk, bool ext)
{
	const char *p = body;
	while (n) {
		size_t k = (size_t)rng_range(r, 1, maxchunk < n ? maxchunk : n);
		sb_printf(b, rng_next(r) & 1 ? "%zx" : "%zX", k);
		if (ext && rng_range(r, 0, 3) == 0)
			sb_str(b, rng_next(r) & 1 ? ";ext=v" : ";a;b=\"q s\"");
		sb_str(b, "\r\n");
		sb_add(b, p, k);
		sb_str(b, "\r\n");
		p += k;
		n -= k;
	}
	sb_str(b, "0\r\n\r\n");
}

static char *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long size = ftell(fp);
	assert_true(size >= 0);
	fseek(fp, 0, SEEK_SET);
	char *p = malloc((size_t)size + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)size, fp), (size_t)size);
	p[size] = '\0';
	fclose(fp);
	*len = (size_t)size;
	return p;
}

static void conn_open(struct fixture *f, struct http_conn *c)
{
	assert_int_equal(http_open(c, f->port), 0);
}

static void send_bytes(struct http_conn *c, const void *p, size_t n)
{
	int rc = http_send(c, p, n);
	if (rc)
		print_message("send: %s\n", strerror(-rc));
	assert_int_equal(rc, 0);
}

static void send_str(struct http_conn *c, const char *s)
{
	send_bytes(c, s, strlen(s));
}

static void read_resp(struct http_conn *c, struct http_resp *r, int flags)
{
	assert_int_equal(http_read_final(c, r, flags), 0);
}

/* Asserts status and exact body bytes, showing what came on a mismatch. */
static void check(const struct http_resp *r, int status, const void *body,
		  size_t len)
{
	if (r->status != status || r->body_len != len ||
	    memcmp(r->body, body, len))
		print_message("expected %d with %zu bytes, got %d with %zu: "
			      "%s\n",
			      status, len, r->status, r->body_len,
			      http_snippet(r->body, r->body_len));
	assert_int_equal(r->status, status);
	assert_int_equal(r->body_len, len);
	assert_memory_equal(r->body, body, len);
}

static void check_str(const struct http_resp *r, int status, const char *body)
{
	check(r, status, body, strlen(body));
}

/* Sends req on c, reads the response, asserts status and body. */
static void roundtrip(struct http_conn *c, const char *req, int status,
		      const char *body)
{
	struct http_resp r;
	send_str(c, req);
	read_resp(c, &r, 0);
	check_str(&r, status, body);
	http_resp_free(&r);
}

static void expect_closed(struct http_conn *c, int64_t ms)
{
	assert_int_equal(http_expect_closed(c, ms), 0);
}

static void expect_open(struct http_conn *c, int64_t ms)
{
	assert_int_equal(http_expect_open(c, ms), 0);
}

static void check_type(const struct http_resp *r, const char *type)
{
	const char *ct = http_header(r, "Content-Type");
	if (!media_type_is(ct, type))
		print_message("Content-Type %s, expected %s\n",
			      ct ? ct : "(none)", type);
	assert_true(media_type_is(ct, type));
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: localhost\r\n\r\n"

/* ------------------------------------------------------------------------
 * Endpoints
 * ------------------------------------------------------------------------ */

static void test_plaintext(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	send_str(&c, GET("/plaintext"));
	read_resp(&c, &r, 0);
	check_str(&r, 200, "Hello, World!");
	check_type(&r, "text/plain");
	assert_non_null(http_header(&r, "Date")); /* RFC 9110 6.6.1 */
	if (!r.chunked)
		assert_string_equal(http_header(&r, "Content-Length"), "13");
	http_resp_free(&r);
	/* A query is not part of the path; absolute-form is accepted. */
	roundtrip(&c, GET("/plaintext?x=1&y"), 200, "Hello, World!");
	roundtrip(&c,
		  "GET http://localhost/plaintext HTTP/1.1\r\nHost: other\r\n"
		  "\r\n",
		  200, "Hello, World!");
	http_close(&c);
}

static void test_json(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	for (int i = 0; i < 3; i++) {
		send_str(&c, GET("/json"));
		read_resp(&c, &r, 0);
		assert_int_equal(r.status, 200);
		check_type(&r, "application/json");
		struct json *j = json_parse(r.body, r.body_len);
		assert_non_null(j);
		assert_int_equal(j->type, JSON_OBJ);
		assert_int_equal(j->len, 1);
		const struct json *m = json_get(j, "message");
		assert_non_null(m);
		assert_int_equal(m->type, JSON_STR);
		assert_string_equal(m->str, "Hello, World!");
		json_free(j);
		http_resp_free(&r);
	}
	http_close(&c);
}

static void baseline_get(struct http_conn *c, long long a, long long b)
{
	char req[256], want[32];
	snprintf(req, sizeof(req),
		 "GET /baseline11?a=%lld&b=%lld HTTP/1.1\r\nHost: localhost\r\n"
		 "\r\n",
		 a, b);
	snprintf(want, sizeof(want), "%lld", a + b);
	struct http_resp r;
	send_str(c, req);
	read_resp(c, &r, 0);
	check_str(&r, 200, want);
	check_type(&r, "text/plain");
	http_resp_free(&r);
}

static void test_baseline11_get(void **state)
{
	struct fixture *f = fixture_get(state);
	struct rng rng = rng_for(__func__);
	struct http_conn c;
	conn_open(f, &c);
	baseline_get(&c, 1, 2);
	baseline_get(&c, 0, 0);
	baseline_get(&c, 40, 2);
	baseline_get(&c, 123456789, 987654321);
	/* Parameters in the other order. */
	roundtrip(&c, GET("/baseline11?b=5&a=7"), 200, "12");
	for (int i = 0; i < 100; i++)
		baseline_get(&c, (long long)rng_range(&rng, 0, 1000000000),
			     (long long)rng_range(&rng, 0, 1000000000));
	http_close(&c);
}

/* POST /baseline11?a&b with `body` as Content-Length or chunked. */
static void baseline_post(struct http_conn *c, struct rng *rng, long long a,
			  long long b, long long body, bool chunked)
{
	char digits[32], want[32];
	snprintf(digits, sizeof(digits), "%lld", body);
	snprintf(want, sizeof(want), "%lld", a + b + body);
	struct sbuf req = {0};
	sb_printf(&req,
		  "POST /baseline11?a=%lld&b=%lld HTTP/1.1\r\nHost: "
		  "localhost\r\n",
		  a, b);
	if (chunked) {
		sb_str(&req, "Transfer-Encoding: chunked\r\n\r\n");
		sb_chunked(&req, rng, digits, strlen(digits), 3, true);
	} else {
		sb_printf(&req, "Content-Length: %zu\r\n\r\n%s", strlen(digits),
			  digits);
	}
	struct http_resp r;
	send_bytes(c, req.p, req.len);
	read_resp(c, &r, 0);
	check_str(&r, 200, want);
	http_resp_free(&r);
	sb_free(&req);
}

static void test_baseline11_post(void **state)
{
	struct fixture *f = fixture_get(state);
	struct rng rng = rng_for(__func__);
	struct http_conn c;
	conn_open(f, &c);
	roundtrip(&c,
		  "POST /baseline11?a=1&b=2 HTTP/1.1\r\nHost: localhost\r\n"
		  "Content-Length: 1\r\n\r\n3",
		  200, "6");
	roundtrip(&c,
		  "POST /baseline11?a=1&b=2 HTTP/1.1\r\nHost: localhost\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n2\r\n12\r\n3\r\n345\r\n"
		  "0\r\n\r\n",
		  200, "12348");
	for (int i = 0; i < 60; i++)
		baseline_post(&c, &rng, (long long)rng_range(&rng, 0, 1000000),
			      (long long)rng_range(&rng, 0, 1000000),
			      (long long)rng_range(&rng, 0, 1000000000), i & 1);
	http_close(&c);
}

static struct json *load_dataset(void)
{
	size_t len;
	char *text = read_file(DATASET, &len);
	struct json *ds = json_parse(text, len);
	free(text);
	assert_non_null(ds);
	assert_int_equal(ds->type, JSON_ARR);
	assert_true(ds->len > 0);
	return ds;
}

/* GET /json/{count}?m=M against our own reading of dataset.json: the first
 * `count` items, each as in the file plus "total": price * quantity * M. */
static void json_count(struct http_conn *c, const struct json *ds, size_t count,
		       int m)
{
	char req[256];
	snprintf(req, sizeof(req),
		 "GET /json/%zu?m=%d HTTP/1.1\r\nHost: localhost\r\n\r\n",
		 count, m);
	struct http_resp r;
	send_str(c, req);
	read_resp(c, &r, 0);
	if (r.status != 200)
		print_message("/json/%zu?m=%d: %d %s\n", count, m, r.status,
			      r.body);
	assert_int_equal(r.status, 200);
	check_type(&r, "application/json");
	struct json *j = json_parse(r.body, r.body_len);
	if (!j)
		print_message("not JSON: %.300s\n", r.body);
	assert_non_null(j);
	size_t want = count < ds->len ? count : ds->len;
	const struct json *n = json_get(j, "count");
	const struct json *items = json_get(j, "items");
	assert_non_null(n);
	assert_int_equal(n->type, JSON_NUM);
	assert_true(n->num == (double)want);
	assert_non_null(items);
	assert_int_equal(items->type, JSON_ARR);
	assert_int_equal(items->len, want);
	for (size_t i = 0; i < want; i++) {
		const struct json *it = &items->item[i], *src = &ds->item[i];
		assert_int_equal(it->type, JSON_OBJ);
		for (size_t k = 0; k < src->len; k++) {
			const struct json *v = json_get(it, src->key[k]);
			if (!v || !json_equal(v, &src->item[k]))
				print_message("/json/%zu?m=%d item %zu: \"%s\" "
					      "differs from dataset.json\n",
					      count, m, i, src->key[k]);
			assert_true(v && json_equal(v, &src->item[k]));
		}
		assert_int_equal(it->len, src->len + 1);
		const struct json *total = json_get(it, "total");
		const struct json *price = json_get(src, "price");
		const struct json *qty = json_get(src, "quantity");
		assert_non_null(total);
		assert_int_equal(total->type, JSON_NUM);
		double expect = price->num * qty->num * m;
		if (!json_num_close(total->num, expect))
			print_message("/json/%zu?m=%d item %zu: total %.17g, "
				      "expected %.17g\n",
				      count, m, i, total->num, expect);
		assert_true(json_num_close(total->num, expect));
	}
	json_free(j);
	http_resp_free(&r);
}

static void test_json_count(void **state)
{
	struct fixture *f = fixture_get(state);
	need_data();
	struct rng rng = rng_for(__func__);
	struct json *ds = load_dataset();
	struct http_conn c;
	conn_open(f, &c);
	static const struct {
		size_t count;
		int m;
	} fixed[] = {{1, 1}, {2, 3}, {10, 1}, {25, 7}, {50, 1}, {50, 2}};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		json_count(&c, ds, fixed[i].count, fixed[i].m);
	for (int i = 0; i < 25; i++)
		json_count(&c, ds, (size_t)rng_range(&rng, 1, ds->len),
			   (int)rng_range(&rng, 1, 10));
	http_close(&c);
	json_free(ds);
}

/* POST `path` with body[0, n) (Content-Length or chunked); returns the
 * response. */
static void post_body(struct http_conn *c, struct rng *rng, const char *path,
		      const void *body, size_t n, bool chunked,
		      struct http_resp *r)
{
	struct sbuf req = {0};
	sb_printf(&req, "POST %s HTTP/1.1\r\nHost: localhost\r\n", path);
	if (chunked) {
		sb_str(&req, "Transfer-Encoding: chunked\r\n\r\n");
		sb_chunked(&req, rng, body, n, (size_t)rng_range(rng, 1, 70000),
			   true);
	} else {
		sb_printf(&req, "Content-Length: %zu\r\n\r\n", n);
		sb_add(&req, body, n);
	}
	send_bytes(c, req.p, req.len);
	read_resp(c, r, 0);
	sb_free(&req);
}

static void upload(struct http_conn *c, struct rng *rng, const void *body,
		   size_t n, bool chunked)
{
	char want[32];
	snprintf(want, sizeof(want), "%zu", n);
	struct http_resp r;
	post_body(c, rng, "/upload", body, n, chunked, &r);
	check_str(&r, 200, want);
	http_resp_free(&r);
}

static void test_upload(void **state)
{
	struct fixture *f = fixture_get(state);
	struct rng rng = rng_for(__func__);
	size_t max = 4u << 20;
	char *data = malloc(max);
	assert_non_null(data);
	rng_fill(&rng, data, max);
	struct http_conn c;
	conn_open(f, &c);
	static const size_t fixed[] = {0,     1,     100,      65535,
				       65536, 65537, 1u << 20, (1u << 20) + 1};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		upload(&c, &rng, data, fixed[i], false);
		upload(&c, &rng, data, fixed[i], true);
	}
	for (int i = 0; i < 8; i++)
		upload(&c, &rng, data, (size_t)rng_range(&rng, 0, max), i & 1);
	http_close(&c);
	free(data);
}

/* 20 MiB (and a few bytes) to /upload, streamed in writes of random sizes,
 * as Content-Length or as chunks of random sizes with extensions. */
static void upload_big(void **state, bool chunked)
{
	struct fixture *f = fixture_get(state);
	struct rng rng = rng_for(chunked ? "upload_big_chunked" : "upload_big");
	const size_t total = (20u << 20) + 7;
	const size_t block = 256u << 10;
	char *data = malloc(block);
	assert_non_null(data);
	rng_fill(&rng, data, block);
	struct http_conn c;
	conn_open(f, &c);
	c.timeout_ms = 60000;
	char head[256];
	int hn = snprintf(head, sizeof(head),
			  "POST /upload HTTP/1.1\r\nHost: localhost\r\n%s\r\n",
			  chunked ? "Transfer-Encoding: chunked\r\n"
				  : "Content-Length: 20971527\r\n");
	int64_t t0 = now_ms();
	send_bytes(&c, head, (size_t)hn);
	size_t sent = 0;
	while (sent < total) {
		size_t n = (size_t)rng_range(&rng, 1, block);
		if (n > total - sent)
			n = total - sent;
		if (chunked) {
			char line[64];
			int ln =
			    snprintf(line, sizeof(line), "%zx%s\r\n", n,
				     rng_range(&rng, 0, 7) ? "" : ";big=1");
			send_bytes(&c, line, (size_t)ln);
		}
		send_bytes(&c, data, n);
		if (chunked)
			send_bytes(&c, "\r\n", 2);
		sent += n;
	}
	if (chunked)
		send_str(&c, "0\r\n\r\n");
	struct http_resp r;
	read_resp(&c, &r, 0);
	check_str(&r, 200, "20971527");
	http_resp_free(&r);
	print_message("20 MiB %s upload in %lld ms\n",
		      chunked ? "chunked" : "Content-Length",
		      (long long)(now_ms() - t0));
	/* The connection goes on. */
	roundtrip(&c, GET("/pipeline"), 200, "ok");
	http_close(&c);
	free(data);
}

static void test_upload_20mb(void **state)
{
	upload_big(state, false);
}

static void test_upload_20mb_chunked(void **state)
{
	upload_big(state, true);
}

static bool static_type_ok(const char *name, const char *ct)
{
	const char *ext = strrchr(name, '.');
	if (!ext)
		return true;
	if (!strcmp(ext, ".css"))
		return media_type_is(ct, "text/css");
	if (!strcmp(ext, ".js"))
		return media_type_is(ct, "application/javascript") ||
		       media_type_is(ct, "text/javascript");
	if (!strcmp(ext, ".html"))
		return media_type_is(ct, "text/html");
	if (!strcmp(ext, ".svg"))
		return media_type_is(ct, "image/svg+xml");
	if (!strcmp(ext, ".webp"))
		return media_type_is(ct, "image/webp");
	if (!strcmp(ext, ".woff2"))
		return media_type_is(ct, "font/woff2");
	if (!strcmp(ext, ".json"))
		return media_type_is(ct, "application/json") ||
		       media_type_is(ct, "application/manifest+json");
	return ct != NULL;
}

struct static_file {
	char name[201];
	char *data;
	size_t len;
};

/* The assets of the shared data (not the .gz/.br siblings). */
static size_t static_files(struct static_file *out, size_t max)
{
	DIR *d = opendir(STATIC_DIR);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		const char *dot = strrchr(e->d_name, '.');
		if (e->d_name[0] == '.' || !dot || !strcmp(dot, ".gz") ||
		    !strcmp(dot, ".br"))
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "%.200s", e->d_name);
		char path[512];
		snprintf(path, sizeof(path), "%s/%.200s", STATIC_DIR,
			 e->d_name);
		out[n].data = read_file(path, &out[n].len);
		n++;
	}
	closedir(d);
	return n;
}

static void test_static(void **state)
{
	struct fixture *f = fixture_get(state);
	need_data();
	struct rng rng = rng_for(__func__);
	static struct static_file files[64];
	size_t n = static_files(files, 64);
	assert_true(n >= 1);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	char req[512];
	for (size_t i = 0; i < n; i++) {
		snprintf(req, sizeof(req), GET("/static/%.200s"),
			 files[i].name);
		send_str(&c, req);
		read_resp(&c, &r, 0);
		if (r.status != 200 || r.body_len != files[i].len)
			print_message("/static/%s\n", files[i].name);
		check(&r, 200, files[i].data, files[i].len);
		const char *ct = http_header(&r, "Content-Type");
		if (!static_type_ok(files[i].name, ct))
			print_message("/static/%s: Content-Type %s\n",
				      files[i].name, ct ? ct : "(none)");
		assert_true(static_type_ok(files[i].name, ct));
		http_resp_free(&r);
	}
	/* All of them pipelined in one write, in random order. */
	size_t order[64];
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)rng_range(&rng, 0, i - 1), t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	struct sbuf all = {0};
	for (size_t i = 0; i < n; i++)
		sb_printf(&all, GET("/static/%s"), files[order[i]].name);
	send_bytes(&c, all.p, all.len);
	sb_free(&all);
	for (size_t i = 0; i < n; i++) {
		read_resp(&c, &r, 0);
		check(&r, 200, files[order[i]].data, files[order[i]].len);
		http_resp_free(&r);
	}
	send_str(&c, GET("/static/no-such-file.css"));
	read_resp(&c, &r, 0);
	assert_int_equal(r.status, 404);
	http_resp_free(&r);
	expect_open(&c, 50);
	http_close(&c);
	for (size_t i = 0; i < n; i++)
		free(files[i].data);
}

static void test_static_missing(void **state)
{
	struct fixture *f = fixture_get(state);
	need_data();
	static const char *const paths[] = {
	    "/static/no-such-file.css",
	    "/static/app.js.missing",
	    "/static/../dataset.json",
	    "/static/%2e%2e/dataset.json",
	    "/static/..%2fdataset.json",
	    "/static/%2e%2e%2fdataset.json",
	    "/static/../../../../../../etc/passwd",
	    "/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct http_conn c;
		struct http_resp r;
		char req[512];
		conn_open(f, &c);
		snprintf(req, sizeof(req), GET("%s"), paths[i]);
		send_str(&c, req);
		read_resp(&c, &r, 0);
		if (r.status < 400 || r.status > 404 ||
		    strstr(r.body, "Widget") || strstr(r.body, "root:"))
			print_message("%s: %d %.200s\n", paths[i], r.status,
				      r.body);
		if (i < 2)
			assert_int_equal(r.status, 404);
		assert_true(r.status >= 400 && r.status <= 404);
		assert_null(strstr(r.body, "Widget"));
		assert_null(strstr(r.body, "root:"));
		http_resp_free(&r);
		http_close(&c);
	}
}

static void test_root(void **state)
{
	struct fixture *f = fixture_get(state);
	struct rng rng = rng_for(__func__);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	roundtrip(&c, GET("/"), 200, "OK");
	roundtrip(&c, "OPTIONS / HTTP/1.1\r\nHost: localhost\r\n\r\n", 200,
		  "OK");
	send_str(&c, "HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n" GET("/"));
	read_resp(&c, &r, HTTP_HEAD_ONLY);
	check_str(&r, 200, "");
	assert_string_equal(http_header(&r, "Content-Length"), "2");
	http_resp_free(&r);
	read_resp(&c, &r, 0);
	check_str(&r, 200, "OK");
	http_resp_free(&r);
	/* POST / echoes its body: fixed, empty, then random binary. */
	roundtrip(&c,
		  "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
		  "\r\nhello",
		  200, "hello");
	roundtrip(&c,
		  "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n"
		  "\r\n",
		  200, "");
	size_t max = 200000;
	char *data = malloc(max);
	assert_non_null(data);
	for (int i = 0; i < 16; i++) {
		size_t n = (size_t)rng_range(&rng, 1, i < 8 ? 300 : max);
		rng_fill(&rng, data, n);
		post_body(&c, &rng, "/", data, n, i & 1, &r);
		check(&r, 200, data, n);
		http_resp_free(&r);
	}
	free(data);
	http_close(&c);
}

/* The /echo body as lines (LF or CRLF) compared with want[0, n). */
static void check_echo(const struct http_resp *r, const char *const want[],
		       size_t n)
{
	assert_int_equal(r->status, 200);
	const char *p = r->body, *end = r->body + r->body_len;
	size_t i = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le > p && le[-1] == '\r')
			le--;
		if (i >= n || strlen(want[i]) != (size_t)(le - p) ||
		    memcmp(want[i], p, (size_t)(le - p)))
			print_message("echo line %zu: \"%.*s\", expected "
				      "\"%s\"\n",
				      i, (int)(le - p), p,
				      i < n ? want[i] : "(nothing)");
		assert_true(i < n);
		assert_int_equal(strlen(want[i]), (size_t)(le - p));
		assert_memory_equal(want[i], p, (size_t)(le - p));
		i++;
		p = nl ? nl + 1 : end;
	}
	if (i != n)
		print_message("echo: %zu lines, expected %zu\n", i, n);
	assert_int_equal(i, n);
}

static void echo(struct http_conn *c, const char *const hdr[], size_t n,
		 const char *body)
{
	struct sbuf req = {0};
	sb_str(&req, "POST /echo HTTP/1.1\r\n");
	for (size_t i = 0; i < n; i++)
		sb_printf(&req, "%s\r\n", hdr[i]);
	sb_printf(&req, "\r\n%s", body);
	struct http_resp r;
	send_bytes(c, req.p, req.len);
	read_resp(c, &r, 0);
	check_echo(&r, hdr, n);
	http_resp_free(&r);
	sb_free(&req);
}

/* A header "Name: value": a random name (never one with framing meaning),
 * a value of visible bytes with spaces and tabs inside, none at the ends. */
static void random_header(struct rng *r, char *out, size_t cap)
{
	static const char name_chars[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
	size_t n = (size_t)snprintf(out, cap, "X-");
	size_t nl = (size_t)rng_range(r, 1, 16);
	for (size_t i = 0; i < nl; i++)
		out[n++] = name_chars[rng_next(r) % (sizeof(name_chars) - 1)];
	out[n++] = ':';
	out[n++] = ' ';
	size_t vl = (size_t)rng_range(r, 1, 80);
	for (size_t i = 0; i < vl; i++) {
		char ch = (char)rng_range(r, 0x21, 0x7e);
		if (i && i + 1 < vl && rng_range(r, 0, 9) == 0)
			ch = rng_next(r) & 1 ? ' ' : '\t';
		out[n++] = ch;
	}
	out[n] = '\0';
	assert_true(n < cap);
}

static void test_echo(void **state)
{
	struct fixture *f = fixture_get(state);
	struct rng rng = rng_for(__func__);
	struct http_conn c;
	conn_open(f, &c);
	static const char *const fixed[] = {
	    "Host: localhost",	"User-Agent: ringlet-test/1", "X-Test: value",
	    "x-lower-case: v2", "X-Spaces: a b  c",	      "Accept: */*"};
	echo(&c, fixed, 6, "");
	static const char *const with_body[] = {
	    "Host: localhost", "Content-Length: 5", "X-After-Body: 1"};
	echo(&c, with_body, 3, "hello");
	char store[40][128];
	const char *hdr[41];
	for (int round = 0; round < 25; round++) {
		size_t n = (size_t)rng_range(&rng, 1, 40);
		hdr[0] = "Host: localhost";
		for (size_t i = 0; i < n; i++) {
			random_header(&rng, store[i], sizeof(store[i]));
			hdr[i + 1] = store[i];
		}
		echo(&c, hdr, n + 1, "");
	}
	http_close(&c);
}

/* "requests" in the /stats JSON, wherever it sits. */
static double stats_requests(struct http_conn *c)
{
	struct http_resp r;
	send_str(c, GET("/stats"));
	read_resp(c, &r, 0);
	assert_int_equal(r.status, 200);
	check_type(&r, "application/json");
	struct json *j = json_parse(r.body, r.body_len);
	if (!j)
		print_message("/stats is not JSON: %.400s\n", r.body);
	assert_non_null(j);
	assert_int_equal(j->type, JSON_OBJ);
	const struct json *req = json_find(j, "requests");
	assert_non_null(req);
	assert_int_equal(req->type, JSON_NUM);
	assert_true(json_has_key_part(j, "memory") ||
		    json_has_key_part(j, "rss"));
	double n = req->num;
	json_free(j);
	http_resp_free(&r);
	return n;
}

static void test_stats(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	conn_open(f, &c);
	double before = stats_requests(&c);
	for (int i = 0; i < 7; i++)
		roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	double after = stats_requests(&c);
	if (after < before + 7)
		print_message("requests %g then %g after 7 more\n", before,
			      after);
	assert_true(after >= before + 7);
	http_close(&c);
}

static void test_sleep(void **state)
{
	struct fixture *f = fixture_get(state);
	struct rng rng = rng_for(__func__);
	struct http_conn c;
	conn_open(f, &c);
	for (int i = 0; i < 8; i++) {
		int ms = i == 0 ? 0 : (int)rng_range(&rng, 1, 60);
		char req[128], want[32];
		snprintf(req, sizeof(req), GET("/sleep?ms=%d"), ms);
		snprintf(want, sizeof(want), "slept %d", ms);
		int64_t t0 = now_us();
		roundtrip(&c, req, 200, want);
		int64_t took = now_us() - t0;
		if (took < ms * 1000 - 1000)
			print_message("/sleep?ms=%d answered after %lld us\n",
				      ms, (long long)took);
		assert_true(took >= ms * 1000 - 1000);
	}
	http_close(&c);
}

/* ------------------------------------------------------------------------
 * An upstream for /upstream: a listener thread that answers each
 * connection, after reading its request head, after `delay_ms`, with a
 * response of body_len bytes, then closes (lingering: shutdown, drain).
 * ------------------------------------------------------------------------ */

#define STUB_MAX 64

struct stub;
struct stub_conn {
	struct stub *stub;
	int fd;
};

struct stub {
	int lfd;
	uint16_t port;
	int delay_ms;
	size_t body_len;
	atomic_int accepted, requests;
	atomic_bool stop;
	pthread_t acceptor;
	pthread_t workers[STUB_MAX];
	struct stub_conn conns[STUB_MAX];
	int nworkers;
	pthread_mutex_t lock;
	char first_line[256];
};

static struct stub *live_stub;

static int stub_head(const struct stub *s, char *out, size_t cap)
{
	return snprintf(out, cap,
			"HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
			"Connection: close\r\n\r\n",
			s->body_len);
}

/* Bytes the stub sends per connection (head and body). */
static size_t stub_reply_len(const struct stub *s)
{
	char head[256];
	return (size_t)stub_head(s, head, sizeof(head)) + s->body_len;
}

static void *stub_worker(void *arg)
{
	struct stub_conn *sc = arg;
	struct stub *s = sc->stub;
	char buf[8192];
	size_t got = 0;
	int64_t end = now_ms() + 3000;
	while (got < sizeof(buf) - 1) {
		ssize_t r = recv_timeout(sc->fd, buf + got,
					 sizeof(buf) - 1 - got, end - now_ms());
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n")) {
			pthread_mutex_lock(&s->lock);
			if (!s->first_line[0])
				snprintf(s->first_line, sizeof(s->first_line),
					 "%.*s", (int)strcspn(buf, "\r\n"),
					 buf);
			pthread_mutex_unlock(&s->lock);
			atomic_fetch_add(&s->requests, 1);
			break;
		}
	}
	sleep_ms(s->delay_ms);
	char head[256];
	int hn = stub_head(s, head, sizeof(head));
	int rc = send_all(sc->fd, head, (size_t)hn);
	static const char fill[4096] = {'u'};
	for (size_t left = s->body_len; !rc && left;) {
		size_t n = left < sizeof(fill) ? left : sizeof(fill);
		rc = send_all(sc->fd, fill, n);
		left -= n;
	}
	shutdown(sc->fd, SHUT_WR);
	end = now_ms() + 2000;
	while (recv_timeout(sc->fd, buf, sizeof(buf), end - now_ms()) > 0)
		;
	close(sc->fd);
	return NULL;
}

static void *stub_accept(void *arg)
{
	struct stub *s = arg;
	while (!atomic_load(&s->stop)) {
		if (!wait_readable(s->lfd, 50))
			continue;
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (s->nworkers == STUB_MAX) {
			close(fd);
			continue;
		}
		struct stub_conn *sc = &s->conns[s->nworkers];
		sc->stub = s;
		sc->fd = fd;
		/* Counted before the worker can answer: once the reply is
		 * seen, so is the count. */
		atomic_fetch_add(&s->accepted, 1);
		if (pthread_create(&s->workers[s->nworkers], NULL, stub_worker,
				   sc)) {
			atomic_fetch_sub(&s->accepted, 1);
			close(fd);
			continue;
		}
		s->nworkers++;
	}
	for (int i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	return NULL;
}

static void stub_start(struct stub *s, int delay_ms, size_t body_len)
{
	memset(s, 0, sizeof(*s));
	s->delay_ms = delay_ms;
	s->body_len = body_len;
	pthread_mutex_init(&s->lock, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->lfd, 64), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->acceptor, NULL, stub_accept, s), 0);
	live_stub = s;
}

static void stub_stop(struct stub *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->acceptor, NULL);
	close(s->lfd);
	pthread_mutex_destroy(&s->lock);
	if (live_stub == s)
		live_stub = NULL;
}

static void stub_cleanup(void)
{
	if (live_stub)
		stub_stop(live_stub);
}

static void upstream_req(char *out, size_t cap, uint16_t port, int ms)
{
	snprintf(out, cap, GET("/upstream?port=%u&ms=%d"), port, ms);
}

static void test_upstream(void **state)
{
	struct fixture *f = fixture_get(state);
	struct rng rng = rng_for(__func__);
	struct http_conn c;
	char req[256], want[32];
	conn_open(f, &c);
	for (int i = 0; i < 4; i++) {
		static struct stub s;
		size_t body = i == 0 ? 0 : (size_t)rng_range(&rng, 1, 300000);
		stub_start(&s, 0, body);
		/* ms well above the stub's delay, whether the handler takes
		 * it as a timeout or passes it on. */
		upstream_req(req, sizeof(req), s.port, 2000);
		snprintf(want, sizeof(want), "%zu", stub_reply_len(&s));
		roundtrip(&c, req, 200, want);
		assert_int_equal(atomic_load(&s.accepted), 1);
		assert_int_equal(atomic_load(&s.requests), 1);
		print_message("upstream saw: %s\n", s.first_line);
		assert_true(strstr(s.first_line, " HTTP/1.") != NULL);
		stub_stop(&s);
	}
	/* Nothing listening: 502. */
	uint16_t dead = free_port();
	upstream_req(req, sizeof(req), dead, 2000);
	struct http_resp r;
	send_str(&c, req);
	read_resp(&c, &r, 0);
	assert_int_equal(r.status, 502);
	http_resp_free(&r);
	roundtrip(&c, GET("/pipeline"), 200, "ok");
	http_close(&c);
}

static void routing(struct http_conn *c, const char *req, int status,
		    const char *const allow[])
{
	struct http_resp r;
	send_str(c, req);
	read_resp(c, &r, 0);
	if (r.status != status)
		print_message("%.*s: %d, expected %d\n",
			      (int)strcspn(req, "\r"), req, r.status, status);
	assert_int_equal(r.status, status);
	for (int i = 0; allow && allow[i]; i++) {
		const char *a = http_header(&r, "Allow");
		if (!http_header_has_token(&r, "Allow", allow[i]))
			print_message("%.*s: Allow: %s, lacks %s\n",
				      (int)strcspn(req, "\r"), req,
				      a ? a : "(none)", allow[i]);
		assert_true(http_header_has_token(&r, "Allow", allow[i]));
	}
	http_resp_free(&r);
}

static void test_routing(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	conn_open(f, &c);
	static const char *const get[] = {"GET", NULL};
	static const char *const post[] = {"POST", NULL};
	static const char *const root[] = {"GET", "OPTIONS", "POST", NULL};
	routing(&c, GET("/no-such-path"), 404, NULL);
	routing(&c, GET("/plaintextx"), 404, NULL);
	routing(&c, GET("/plaintext/more"), 404, NULL);
	/* Both keep the connection. */
	roundtrip(&c, GET("/pipeline"), 200, "ok");
	routing(&c, "DELETE /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n",
		405, get);
	routing(&c,
		"POST /json HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
		"2\r\n\r\n{}",
		405, get);
	routing(&c, GET("/upload"), 405, post);
	routing(&c, GET("/echo"), 405, post);
	routing(&c, "PUT / HTTP/1.1\r\nHost: localhost\r\n\r\n", 405, root);
	roundtrip(&c, GET("/pipeline"), 200, "ok");
	expect_open(&c, 50);
	routing(&c, "BREW / HTTP/1.1\r\nHost: localhost\r\n\r\n", 501, NULL);
	http_close(&c);
}

/* ------------------------------------------------------------------------
 * HTTP/1.1 framing
 * ------------------------------------------------------------------------ */

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
 * Parser rejections: the right status, then the server closes (a request
 * pipelined behind the bad one is never answered).
 * ------------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------------
 * Timeouts and slow clients
 * ------------------------------------------------------------------------ */

struct watched {
	struct http_conn c;
	int64_t since;	 /* when its timer should have started */
	int64_t closed;	 /* when the server closed it; 0 while open */
	struct sbuf got; /* what arrived before the close */
};

/* Waits (until `end`) for the server to close each of w[0, n). */
static void watch_closes(struct watched *w, int n, int64_t end)
{
	for (;;) {
		int open = 0;
		for (int i = 0; i < n; i++) {
			if (w[i].closed)
				continue;
			char buf[4096];
			ssize_t r =
			    recv_timeout(w[i].c.fd, buf, sizeof(buf), 0);
			if (r > 0) {
				sb_add(&w[i].got, buf, (size_t)r);
				open++;
			} else if (r == 0 || r == -ECONNRESET) {
				w[i].closed = now_ms();
			} else {
				open++;
			}
		}
		if (!open || now_ms() >= end)
			return;
		sleep_ms(20);
	}
}

/* Nothing, or a 408 response. */
static bool nothing_or_408(const struct sbuf *b)
{
	return b->len == 0 ||
	       (b->len > 12 && !memcmp(b->p, "HTTP/1.1 408 ", 13));
}

/* The header timeout (10 s by default) and the keep-alive timeout (5 s)
 * run side by side, on three connections: half a head; one request then
 * idle; nothing at all. */
static void test_timeouts(void **state)
{
	struct fixture *f = fixture_get(state);
	struct watched w[3];
	memset(w, 0, sizeof(w));
	for (int i = 0; i < 3; i++)
		conn_open(f, &w[i].c);
	w[0].since = now_ms();
	send_str(&w[0].c, "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nX-Ha");
	w[2].since = now_ms();
	struct http_resp r;
	send_str(&w[1].c, GET("/plaintext"));
	read_resp(&w[1].c, &r, 0);
	check_str(&r, 200, "Hello, World!");
	http_resp_free(&r);
	w[1].since = now_ms();

	watch_closes(w, 3, w[0].since + 13000);
	static const char *const what[] = {"half a head", "idle keep-alive",
					   "silent connection"};
	for (int i = 0; i < 3; i++) {
		if (w[i].closed)
			print_message("%s: closed after %lld ms, %zu bytes "
				      "first\n",
				      what[i],
				      (long long)(w[i].closed - w[i].since),
				      w[i].got.len);
		else
			print_message("%s: still open after 13 s\n", what[i]);
	}
	for (int i = 0; i < 3; i++)
		assert_true(w[i].closed != 0);
	int64_t head = w[0].closed - w[0].since;
	int64_t idle = w[1].closed - w[1].since;
	int64_t silent = w[2].closed - w[2].since;
	assert_true(head >= 8000 && head <= 12000);
	assert_true(nothing_or_408(&w[0].got));
	assert_true(idle >= 4000 && idle <= 7500);
	assert_int_equal(w[1].got.len, 0); /* an idle close is silent */
	assert_true(silent >= 4000 && silent <= 12000);
	assert_true(nothing_or_408(&w[2].got));
	for (int i = 0; i < 3; i++) {
		sb_free(&w[i].got);
		http_close(&w[i].c);
	}
}

/* Slowloris: clients that trickle a request head one byte every 500 ms. */
#define TRICKLERS 20

struct trickle {
	int fd[TRICKLERS];
	const char *req;
	size_t sent; /* bytes of req sent on each */
	atomic_bool stop;
	int err;
	pthread_t thread;
};

static struct trickle *live_trickle;

static void *trickle_run(void *arg)
{
	struct trickle *t = arg;
	size_t len = strlen(t->req);
	while (!atomic_load(&t->stop) && t->sent < len - 1) {
		for (int i = 0; i < TRICKLERS; i++)
			if (send_all(t->fd[i], t->req + t->sent, 1))
				t->err = errno;
		t->sent++;
		for (int k = 0; k < 10 && !atomic_load(&t->stop); k++)
			sleep_ms(50);
	}
	return NULL;
}

static void trickle_stop(struct trickle *t)
{
	atomic_store(&t->stop, true);
	pthread_join(t->thread, NULL);
	if (live_trickle == t)
		live_trickle = NULL;
}

static void trickle_cleanup(void)
{
	if (live_trickle)
		trickle_stop(live_trickle);
}

static void test_slowloris(void **state)
{
	struct fixture *f = fixture_get(state);
	static struct trickle t;
	memset(&t, 0, sizeof(t));
	t.req = GET("/plaintext");
	for (int i = 0; i < TRICKLERS; i++) {
		t.fd[i] = tcp_connect(f->port);
		assert_true(t.fd[i] >= 0);
	}
	assert_int_equal(pthread_create(&t.thread, NULL, trickle_run, &t), 0);
	live_trickle = &t;
	for (int round = 0; round < 3; round++) {
		sleep_ms(round ? 700 : 600);
		struct http_conn c;
		int64_t t0 = now_ms();
		conn_open(f, &c);
		roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
		int64_t took = now_ms() - t0;
		http_close(&c);
		print_message("a normal request beside %d slow clients: %lld "
			      "ms\n",
			      TRICKLERS, (long long)took);
		assert_true(took < 1000);
	}
	trickle_stop(&t);
	assert_int_equal(t.err, 0);
	assert_true(t.sent >= 4);
	/* The slow ones were served once their heads were complete. */
	size_t len = strlen(t.req);
	for (int i = 0; i < TRICKLERS; i++) {
		struct http_conn c;
		memset(&c, 0, sizeof(c));
		c.fd = t.fd[i];
		c.timeout_ms = 5000;
		send_bytes(&c, t.req + t.sent, len - t.sent);
		struct http_resp r;
		read_resp(&c, &r, 0);
		check_str(&r, 200, "Hello, World!");
		http_resp_free(&r);
		http_close(&c);
	}
}

/* With --max-connections 16: 16 connections held open, the 17th gets 503
 * and is closed, the 16 still work, and a closed one frees its slot. */
static void test_pool_exhaustion(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c[POOL_SIZE], extra;
	struct http_resp r;
	/* The 16 slots fill up; the start-up probe's connection (closed)
	 * must not hold one for long: a refused one is tried again for 2 s. */
	int64_t until = now_ms() + 2000;
	for (int i = 0; i < POOL_SIZE; i++) {
		for (;;) {
			conn_open(f, &c[i]);
			send_str(&c[i], GET("/pipeline"));
			read_resp(&c[i], &r, 0);
			if (r.status != 503 || now_ms() > until)
				break;
			http_resp_free(&r);
			http_close(&c[i]);
			sleep_ms(100);
		}
		if (r.status != 200)
			print_message("connection %d of %d: %d; a closed "
				      "connection still holds its slot?\n",
				      i + 1, POOL_SIZE, r.status);
		check_str(&r, 200, "ok");
		http_resp_free(&r);
	}
	conn_open(f, &extra);
	extra.timeout_ms = 5000;
	http_send_str(&extra, GET("/pipeline"));
	assert_int_equal(http_read(&extra, &r, 0), 0);
	if (r.status != 503)
		print_message("connection %d: %d, expected 503\n",
			      POOL_SIZE + 1, r.status);
	assert_int_equal(r.status, 503);
	http_resp_free(&r);
	expect_closed(&extra, 3000);
	http_close(&extra);
	for (int i = 0; i < POOL_SIZE; i++)
		roundtrip(&c[i], GET("/plaintext"), 200, "Hello, World!");
	/* One leaves; a newcomer is served (once the server saw it go). */
	http_close(&c[0]);
	int64_t end = now_ms() + 3000;
	int status = 0;
	while (now_ms() < end) {
		conn_open(f, &extra);
		extra.timeout_ms = 3000;
		http_send_str(&extra, GET("/pipeline"));
		int rc = http_read(&extra, &r, 0);
		status = rc ? 0 : r.status;
		if (status == 200)
			check_str(&r, 200, "ok");
		http_resp_free(&r);
		http_close(&extra);
		if (status == 200)
			break;
		sleep_ms(50);
	}
	assert_int_equal(status, 200);
	for (int i = 1; i < POOL_SIZE; i++)
		http_close(&c[i]);
}

/* While /upstream waits 1 s on a slow upstream, the worker serves others
 * at once; four such waits overlap instead of adding up. */
static void test_slow_upstream(void **state)
{
	struct fixture *f = fixture_get(state);
	static struct stub s;
	char req[256], want[32];
	stub_start(&s, 1000, 1000);
	snprintf(want, sizeof(want), "%zu", stub_reply_len(&s));
	upstream_req(req, sizeof(req), s.port, 3000);

	struct http_conn a, b;
	conn_open(f, &a);
	int64_t t0 = now_ms();
	send_str(&a, req);
	while (atomic_load(&s.accepted) < 1 && now_ms() < t0 + 3000)
		sleep_ms(2);
	assert_int_equal(atomic_load(&s.accepted), 1);
	sleep_ms(20);
	conn_open(f, &b);
	int64_t t1 = now_ms();
	roundtrip(&b, GET("/plaintext"), 200, "Hello, World!");
	int64_t quick = now_ms() - t1;
	struct http_resp r;
	read_resp(&a, &r, 0);
	int64_t slow = now_ms() - t0;
	check_str(&r, 200, want);
	http_resp_free(&r);
	print_message("/plaintext in %lld ms while /upstream took %lld ms\n",
		      (long long)quick, (long long)slow);
	assert_true(quick < 200);
	assert_true(slow >= 990);

	struct http_conn many[4];
	t0 = now_ms();
	for (int i = 0; i < 4; i++) {
		conn_open(f, &many[i]);
		send_str(&many[i], req);
	}
	for (int i = 0; i < 4; i++) {
		read_resp(&many[i], &r, 0);
		check_str(&r, 200, want);
		http_resp_free(&r);
		http_close(&many[i]);
	}
	int64_t four = now_ms() - t0;
	print_message("four slow upstream calls at once: %lld ms\n",
		      (long long)four);
	assert_true(four >= 990 && four < 2500);
	assert_int_equal(atomic_load(&s.accepted), 5);
	stub_stop(&s);
	http_close(&a);
	http_close(&b);
}

/* /sleep does not hold the worker either. */
static void test_sleep_concurrent(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c[8], b;
	struct http_resp r;
	int64_t t0 = now_ms();
	for (int i = 0; i < 8; i++) {
		conn_open(f, &c[i]);
		send_str(&c[i], GET("/sleep?ms=700"));
	}
	sleep_ms(100);
	conn_open(f, &b);
	int64_t t1 = now_ms();
	roundtrip(&b, GET("/plaintext"), 200, "Hello, World!");
	int64_t quick = now_ms() - t1;
	for (int i = 0; i < 8; i++) {
		read_resp(&c[i], &r, 0);
		check_str(&r, 200, "slept 700");
		http_resp_free(&r);
		http_close(&c[i]);
	}
	int64_t all = now_ms() - t0;
	print_message("/plaintext in %lld ms beside 8 sleepers; they took "
		      "%lld ms together\n",
		      (long long)quick, (long long)all);
	assert_true(quick < 200);
	assert_true(all >= 700 && all < 1700);
	http_close(&b);
}

/* SIGTERM: a request in progress is finished, an idle connection closed,
 * and the server exits 0. */
static void test_graceful_stop(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn busy, idle;
	struct http_resp r;
	conn_open(f, &idle);
	roundtrip(&idle, GET("/pipeline"), 200, "ok");
	conn_open(f, &busy);
	send_str(&busy, GET("/sleep?ms=500"));
	sleep_ms(150);
	int64_t t0 = now_ms();
	assert_int_equal(kill(f->srv.pid, SIGTERM), 0);
	read_resp(&busy, &r, 0);
	check_str(&r, 200, "slept 500");
	http_resp_free(&r);
	expect_closed(&idle, 3000);
	int status = -1;
	pid_t w = 0;
	while ((w = waitpid(f->srv.pid, &status, WNOHANG)) == 0 &&
	       now_ms() < t0 + 5000)
		sleep_ms(5);
	if (w != f->srv.pid) {
		print_message("still running 5 s after SIGTERM\n");
		kill(f->srv.pid, SIGKILL);
		waitpid(f->srv.pid, &status, 0);
	}
	f->running = false;
	if (status != 0)
		server_print_log(&f->srv, 16384);
	unlink(f->srv.log);
	assert_int_equal(w, f->srv.pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	http_close(&busy);
	http_close(&idle);
}

/* ------------------------------------------------------------------------
 * The response reader itself, on crafted bytes: so that a chunked response
 * from the server, wherever one occurs, is known to be decoded right.
 * ------------------------------------------------------------------------ */

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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	rng_base_seed();
	/* RG_TEST_FILTER=test_head runs only the tests matching it (cmocka's
	 * glob: * and ?). */
	const char *filter = getenv("RG_TEST_FILTER");
	if (filter && *filter)
		cmocka_set_test_filter(filter);
	const struct CMUnitTest reader[] = {cmocka_unit_test(test_reader)};
	const struct CMUnitTest tests[] = {
	    T(test_plaintext),
	    T(test_json),
	    T(test_baseline11_get),
	    T(test_baseline11_post),
	    T(test_json_count),
	    T(test_upload),
	    T(test_upload_20mb),
	    T(test_upload_20mb_chunked),
	    T(test_static),
	    T(test_static_missing),
	    T(test_root),
	    T(test_echo),
	    T(test_stats),
	    T(test_sleep),
	    T(test_upstream),
	    T(test_routing),
	    T(test_pipelining),
	    T(test_split_requests),
	    T(test_keepalive),
	    T(test_http10),
	    T(test_head),
	    T(test_expect_continue),
	    T(test_chunked_requests),
	    T(test_curl),
	    T(test_rejections),
	    T(test_limits_accepted),
	    T(test_timeouts),
	    T(test_slowloris),
	    cmocka_unit_test_setup_teardown(test_pool_exhaustion, setup_pool,
					    teardown),
	    T(test_slow_upstream),
	    T(test_sleep_concurrent),
	    T(test_graceful_stop),
	};
	int failed =
	    cmocka_run_group_tests_name("response reader", reader, NULL, NULL);
	failed +=
	    cmocka_run_group_tests_name("io_uring", tests, group_uring, NULL);
	failed +=
	    cmocka_run_group_tests_name("epoll", tests, group_epoll, NULL);
	return failed ? 1 : 0;
}
