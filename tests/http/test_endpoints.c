/* test_endpoints.c: the ringlet binary's demo endpoints as a black box, each
 * with fixed and random inputs checked by value: /plaintext, /json,
 * /baseline11 (GET and POST), /json/{count} against dataset.json, /upload
 * (up to 20 MiB, Content-Length and chunked), /static (every file, and
 * paths that must not escape the root), /, /echo, /stats (and the memory
 * dump: ?detail=memory, SIGUSR2 to the master), /metrics (its counters,
 * and promtool's check of the output), /status (the page, its
 * stats path, its 304; and at paths of one's own), /sleep, /upstream against
 * a stub upstream, and routing (404, 405 with Allow, 501). Every test runs
 * on both io backends (fixture.h). */
#include "fixture.h"
#include "json.h"
#include "stub.h"

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

/* A header "Name: value": a random name (never one with framing meaning),
 * a value of visible bytes with spaces and tabs inside, none at the ends. */
static void random_header(struct rng *r, char *out, size_t cap)
{
	static const char name_chars[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
	/* No '_': such fields are dropped (test_conformance.c). */
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

/* A number member of `o`, failing the test when it is absent. */
static double stats_num(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);
	if (!v || v->type != JSON_NUM)
		fail_msg("no number \"%s\" in the memory dump", key);
	return v->num;
}

/* GET /stats?detail=memory: every pool and slab class of the worker with
 * figures that agree (touched bound = min(high water, mapped) x object
 * size, within what is reserved), the tiers adding up to what is reserved, and
 * the arena histogram counting the requests; /stats has the history; a detail
 * it does not know is 400. */
static void test_stats_memory(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	for (int i = 0; i < 5; i++)
		roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	send_str(&c, GET("/stats?detail=memory"));
	read_resp(&c, &r, 0);
	assert_int_equal(r.status, 200);
	check_type(&r, "application/json");
	struct json *j = json_parse(r.body, r.body_len);
	if (!j)
		print_message("not JSON: %.400s\n", r.body);
	assert_non_null(j);
	assert_string_equal(json_get(j, "detail")->str, "memory");
	const struct json *ws = json_get(j, "workers");
	assert_int_equal(ws->len, 1);
	assert_int_equal(stats_num(j, "worker_count"), 1);
	const struct json *w = &ws->item[0];
	assert_true(stats_num(w, "pid") > 0 && stats_num(w, "rss") > 0);
	const struct json *tiers = json_get(w, "tiers");
	assert_true(stats_num(tiers, "arena") + stats_num(tiers, "pool") +
			stats_num(tiers, "slab") + stats_num(tiers, "other") ==
		    stats_num(w, "reserved"));
	const struct json *pools = json_get(w, "pools");
	const struct json *classes = json_get(json_get(w, "slab"), "classes");
	assert_int_equal(pools->len, 3);
	assert_true(classes->len >= 1);
	static const char *const names[] = {"connections", "coroutine_stacks",
					    "arena_blocks"};
	double touched = 0;
	for (size_t i = 0; i < pools->len + classes->len; i++) {
		const struct json *p =
		    i < 3 ? &pools->item[i] : &classes->item[i - 3];
		if (i < 3)
			assert_string_equal(json_get(p, "name")->str, names[i]);
		double hw = stats_num(p, "high_water");
		double mapped = stats_num(p, "mapped");
		assert_true(stats_num(p, "in_use") <= hw);
		assert_true(stats_num(p, "bytes_touched_bound") ==
			    (hw < mapped ? hw : mapped) *
				stats_num(p, "object_size"));
		assert_true(stats_num(p, "bytes_touched_bound") <=
			    stats_num(p, "bytes_reserved"));
		assert_true(stats_num(p, "failures") >= 0);
		touched += stats_num(p, "bytes_touched_bound");
	}
	assert_true(stats_num(&pools->item[0], "high_water") >= 1);
	assert_true(stats_num(w, "bytes_touched_bound") == touched);
	const struct json *h =
	    json_get(json_get(w, "arena"), "bytes_per_request");
	const struct json *bk = json_get(h, "buckets");
	double count = 0;
	for (size_t i = 0; i < bk->len; i++)
		count += stats_num(&bk->item[i], "count");
	assert_true(count == stats_num(h, "count"));
	assert_true(count >= 5);
	json_free(j);
	http_resp_free(&r);

	send_str(&c, GET("/stats"));
	read_resp(&c, &r, 0);
	j = json_parse(r.body, r.body_len);
	assert_non_null(j);
	const struct json *hist = json_get(j, "history");
	assert_int_equal(stats_num(hist, "interval_s"), 10);
	assert_int_equal(stats_num(hist, "capacity"), 60);
	assert_int_equal(json_get(hist, "samples")->type, JSON_ARR);
	assert_non_null(json_get(json_get(j, "growth"), "rss_bytes_per_min"));
	json_free(j);
	http_resp_free(&r);
	roundtrip(&c, GET("/stats?detail=everything"), 400,
		  "detail: \"memory\" is the one known\n");
	http_close(&c);
}

/* SIGUSR2 to the master writes the memory dump to the error log (here
 * the server's standard error): a line per pool and slab class of the
 * worker; a worker sent SIGUSR2 itself ignores it. */
static void test_sigusr2_dump(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	conn_open(f, &c);
	roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	struct http_resp r;
	send_str(&c, GET("/stats")); /* the worker publishes */
	read_resp(&c, &r, 0);
	struct json *j = json_parse(r.body, r.body_len);
	assert_non_null(j);
	pid_t worker =
	    (pid_t)stats_num(&json_get(j, "workers")->item[0], "pid");
	json_free(j);
	http_resp_free(&r);

	assert_int_equal(kill(f->srv.pid, SIGUSR2), 0);
	size_t len;
	char *log = NULL;
	for (int i = 0; i < 250; i++) {
		free(log);
		log = read_file(f->srv.log, &len);
		if (log && strstr(log, "memory dump: end"))
			break;
		sleep_ms(20);
	}
	assert_non_null(log);
	char want[64];
	snprintf(want, sizeof(want), "worker 0 pid %d: rss ", (int)worker);
	const char *const lines[] = {
	    "SIGUSR2: memory dump",
	    "memory dump: 1 worker, rss ",
	    want,
	    "worker 0 pool connections: object 256 B, mapped ",
	    "worker 0 pool coroutine_stacks: object ",
	    "worker 0 pool arena_blocks: object ",
	    "worker 0 slab 256: object 256 B",
	    ", touched at most ",
	    "worker 0 arena bytes per request: ",
	    "memory dump: end",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (!strstr(log, lines[i]))
			print_message("no \"%s\" in the log:\n%s\n", lines[i],
				      log);
		assert_non_null(strstr(log, lines[i]));
	}
	free(log);

	assert_int_equal(kill(worker, SIGUSR2), 0);
	sleep_ms(200);
	roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	send_str(&c, GET("/stats"));
	read_resp(&c, &r, 0);
	j = json_parse(r.body, r.body_len);
	assert_non_null(j);
	assert_int_equal(stats_num(&json_get(j, "workers")->item[0], "pid"),
			 worker);
	json_free(j);
	http_resp_free(&r);
	http_close(&c);
}

/* GET /metrics: 200, the 0.0.4 text format's type; the body in *r. */
static void metrics_get(struct http_conn *c, struct http_resp *r)
{
	send_str(c, GET("/metrics"));
	read_resp(c, r, 0);
	assert_int_equal(r->status, 200);
	const char *ct = http_header(r, "Content-Type");
	assert_non_null(ct);
	assert_string_equal(ct, "text/plain; version=0.0.4; charset=utf-8");
	assert_true(r->body_len > 0 && r->body[r->body_len - 1] == '\n');
}

/* The sum of a family's series over its labels, every worker's (the
 * whole server's, worker="all", in *all if not NULL). */
static double metrics_sum_all(const char *text, const char *name, double *all)
{
	size_t n = strlen(name);
	double sum = 0;
	int seen = 0;
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		if (!strncmp(p, name, n) && (p[n] == '{' || p[n] == ' ')) {
			const char *v = memchr(p, ' ', (size_t)(nl - p));
			assert_non_null(v);
			bool whole = !strncmp(p + n, "{worker=\"all\"", 13);
			if (whole && all)
				*all = strtod(v + 1, NULL);
			else if (!whole)
				sum += strtod(v + 1, NULL);
			seen += !whole;
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (!seen)
		print_message("/metrics has no %s\n", name);
	assert_true(seen > 0);
	return sum;
}

static double metrics_sum(const char *text, const char *name)
{
	return metrics_sum_all(text, name, NULL);
}

/* Requests counted as they complete: those sent between two scrapes, and
 * the first scrape itself, each in the duration histogram too. */
static void test_metrics(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	metrics_get(&c, &r);
	double req0 = metrics_sum(r.body, "ringlet_requests_total");
	double dur0 =
	    metrics_sum(r.body, "ringlet_request_duration_seconds_count");
	assert_true(req0 == dur0);
	http_resp_free(&r);
	for (int i = 0; i < 7; i++)
		roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	metrics_get(&c, &r);
	double all = -1;
	double req1 = metrics_sum_all(r.body, "ringlet_requests_total", &all);
	assert_true(all == req1); /* the whole server's: the one worker */
	double dur1 =
	    metrics_sum(r.body, "ringlet_request_duration_seconds_count");
	double arena1 =
	    metrics_sum(r.body, "ringlet_request_arena_bytes_count");
	if (req1 != req0 + 8 || dur1 != dur0 + 8)
		print_message("requests %g then %g, durations %g then %g, "
			      "after 7 and a scrape\n",
			      req0, req1, dur0, dur1);
	assert_true(req1 == req0 + 8);
	assert_true(dur1 == dur0 + 8);
	assert_true(arena1 == req1);
	assert_true(metrics_sum(r.body, "ringlet_connections_active") >= 1);
	assert_true(metrics_sum(r.body, "process_resident_memory_bytes") > 0);
	assert_non_null(strstr(r.body, "# TYPE ringlet_requests_total "
				       "counter\n"));
	http_resp_free(&r);
	http_close(&c);
}

/* Prometheus's own linter on the real output: `promtool check metrics`
 * (Debian's prometheus package), after some traffic. */
static void test_metrics_promtool(void **state)
{
	struct fixture *f = fixture_get(state);
	static const char *const probe[] = {"sh", "-c", "command -v promtool",
					    NULL};
	char *out;
	size_t len;
	int st = run_capture(probe, &out, &len, 5000);
	free(out);
	if (st != 0) {
		print_message("SKIP: promtool is not installed (Debian "
			      "package prometheus)\n");
		skip();
	}
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	roundtrip(&c, GET("/plaintext"), 200, "Hello, World!");
	roundtrip(&c, GET("/no-such-path"), 404, "404 Not Found\n");
	metrics_get(&c, &r);
	char path[128];
	snprintf(path, sizeof(path), "%s/metrics.txt", fixture_tmpdir());
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(r.body, 1, r.body_len, fp), r.body_len);
	assert_int_equal(fclose(fp), 0);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
	const char *const check_argv[] = {"sh", "-c", cmd, NULL};
	st = run_capture(check_argv, &out, &len, 20000);
	if (st != 0 || len)
		print_message("promtool check metrics (status %d): %s\n", st,
			      out);
	assert_int_equal(st, 0);
	assert_int_equal(len, 0);
	free(out);
	http_resp_free(&r);
	http_close(&c);
}

/* GET `page`: the status page from memory, HTML naming `stats` (the
 * [status] stats_path, written in as it is served: `stats_html` escaped)
 * as the JSON it polls, which is there; its ETag makes a reload a 304
 * without a body. */
static void status_page_check(struct fixture *f, const char *page,
			      const char *stats, const char *stats_html)
{
	struct http_conn c;
	struct http_resp r;
	char req[256], meta[128], etag[64];
	conn_open(f, &c);
	snprintf(req, sizeof(req), GET("%s"), page);
	send_str(&c, req);
	read_resp(&c, &r, 0);
	assert_int_equal(r.status, 200);
	const char *ct = http_header(&r, "Content-Type");
	assert_non_null(ct);
	assert_string_equal(ct, "text/html; charset=utf-8");
	snprintf(meta, sizeof(meta),
		 "<meta name=\"ringlet-stats\" content=\"%s\">", stats_html);
	if (!strstr(r.body, meta))
		print_message("%s has no %s: %.300s\n", page, meta, r.body);
	assert_non_null(strstr(r.body, meta));
	assert_non_null(strstr(r.body, "<canvas"));
	assert_non_null(strstr(r.body, "</html>"));
	assert_null(strstr(r.body, "src=\"http")); /* no external asset */
	const char *tag = http_header(&r, "ETag");
	assert_non_null(tag);
	assert_true(strlen(tag) < sizeof(etag));
	strcpy(etag, tag);
	assert_string_equal(http_header(&r, "Cache-Control"), "no-cache");
	http_resp_free(&r);

	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: localhost\r\nIf-None-Match: "
		 "%s\r\n\r\n",
		 page, etag);
	send_str(&c, req);
	read_resp(&c, &r, 0);
	assert_int_equal(r.status, 304);
	assert_int_equal(r.body_len, 0);
	assert_string_equal(http_header(&r, "ETag"), etag);
	http_resp_free(&r);

	snprintf(req, sizeof(req), GET("%s"), stats);
	send_str(&c, req);
	read_resp(&c, &r, 0);
	assert_int_equal(r.status, 200);
	check_type(&r, "application/json");
	http_resp_free(&r);
	http_close(&c);
}

static void test_status_page(void **state)
{
	status_page_check(fixture_get(state), "/status", "/stats", "/stats");
}

/* Paths of one's own: the page follows stats_path, escaped for HTML. */
static int setup_status_paths(void **state)
{
	return start_with_config(state,
				 "[performance]\nworkers = 1\n"
				 "[status]\nstats_path = \"/ops/stats&json\"\n"
				 "page_path = \"/ops/page\"\n");
}

static void test_status_page_paths(void **state)
{
	struct fixture *f = fixture_get(state);
	status_page_check(f, "/ops/page", "/ops/stats&json",
			  "/ops/stats&amp;json");
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
	/* 405 for a method some route takes; 501 for one none does. */
	routing(&c, "OPTIONS /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n",
		405, get);
	routing(&c, "DELETE /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n",
		501, NULL);
	routing(&c,
		"POST /json HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
		"2\r\n\r\n{}",
		405, get);
	routing(&c, GET("/upload"), 405, post);
	routing(&c, GET("/echo"), 405, post);
	routing(&c, "PUT / HTTP/1.1\r\nHost: localhost\r\n\r\n", 501, NULL);
	routing(&c,
		"POST /plaintext HTTP/1.1\r\nHost: localhost\r\n"
		"Content-Length: 0\r\n\r\n",
		405, get);
	routing(&c, "OPTIONS /json HTTP/1.1\r\nHost: localhost\r\n\r\n", 405,
		get);
	routing(&c, "OPTIONS / HTTP/1.1\r\nHost: localhost\r\n\r\n", 200, NULL);
	routing(&c, "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n", 200, root);
	roundtrip(&c, GET("/pipeline"), 200, "ok");
	expect_open(&c, 50);
	routing(&c, "BREW / HTTP/1.1\r\nHost: localhost\r\n\r\n", 501, NULL);
	http_close(&c);
}

int main(void)
{
	fixture_init();
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
	    T(test_stats_memory),
	    T(test_sigusr2_dump),
	    T(test_metrics),
	    T(test_metrics_promtool),
	    T(test_status_page),
	    T_WITH(test_status_page_paths, setup_status_paths),
	    T(test_sleep),
	    T(test_upstream),
	    T(test_routing),
	};
	return FIXTURE_RUN(tests) ? 1 : 0;
}
