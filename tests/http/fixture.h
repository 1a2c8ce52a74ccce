/* fixture.h: what every black-box test program shares: the two io backends
 * (one cmocka group each, skipped with the kernel's reason where io_uring
 * cannot run), a ringlet server started per test and stopped by its
 * teardown with SIGTERM, which must end in exit status 0 (under ASan that
 * is the leak check), cleanups for helpers a failed test leaves running,
 * RG_TEST_FILTER and RG_TEST_SEED; then the request helpers the tests
 * build on (buffers, chunked coding, round trips and checks, /echo) and the
 * shared data (../shared/data: the static files, the dataset). Include it
 * first; it brings <cmocka.h> and client.h. */
#ifndef RG_TESTS_HTTP_FIXTURE_H
#define RG_TESTS_HTTP_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <sys/stat.h>

#include "../uring_probe.h"
#include "client.h"

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

struct fixture {
	struct backend *be;
	struct server srv;
	uint16_t port;
	bool running;
};

static inline bool have_data(void)
{
	struct stat st;
	return !stat(DATASET, &st) && !stat(STATIC_DIR, &st);
}

static inline int group_uring(void **state)
{
	static struct backend be = {.name = "io_uring"};
	be.why_not = uring_unavailable(be.why, sizeof(be.why));
	print_message("backend: --io io_uring%s%s\n", be.why_not ? ": " : "",
		      be.why_not ? be.why_not : "");
	*state = &be;
	return 0;
}

static inline int group_epoll(void **state)
{
	static struct backend be = {.name = "epoll"};
	print_message("backend: --io epoll\n");
	*state = &be;
	return 0;
}

/* A test's setup: the server on the group's backend, serving the shared
 * data when it is there, with `extra` arguments (NULL-terminated) after. */
static inline int start_with(void **state, const char *const extra[])
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->be = *state;
	*state = f;
	if (f->be->why_not)
		return 0; /* the test skips, saying why */
	const char *args[32];
	int n = 0;
	/* One worker, unless the test says otherwise or its configuration
	 * file does (-w would override the file). */
	bool file = false;
	for (int i = 0; extra && extra[i]; i++)
		file |= !strcmp(extra[i], "-c");
	if (!file) {
		args[n++] = "-w";
		args[n++] = "1";
	}
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

static inline int setup(void **state)
{
	return start_with(state, NULL);
}

/* What a test starts beside the server (a stub upstream, client threads)
 * registers its cleanup here: a failed assertion leaves the test at once,
 * and the teardown must stop those before it stops the server. Each must
 * do nothing when there is nothing left to stop. */
#define FIXTURE_MAX_CLEANUPS 8
static void (*fixture_cleanups[FIXTURE_MAX_CLEANUPS])(void);

static inline void fixture_on_teardown(void (*fn)(void))
{
	for (int i = 0; i < FIXTURE_MAX_CLEANUPS; i++) {
		if (fixture_cleanups[i] == fn)
			return;
		if (!fixture_cleanups[i]) {
			fixture_cleanups[i] = fn;
			return;
		}
	}
	fail_msg("more than %d teardown cleanups", FIXTURE_MAX_CLEANUPS);
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = 0;
	for (int i = 0; i < FIXTURE_MAX_CLEANUPS && fixture_cleanups[i]; i++)
		fixture_cleanups[i]();
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

/* A test's own directory under /tmp: made once per test, removed with
 * whatever the server wrote in it (its logs) by the teardown. */
static char fixture_dir[64];

static inline void fixture_dir_cleanup(void)
{
	if (!fixture_dir[0])
		return;
	DIR *d = opendir(fixture_dir);
	struct dirent *e;
	char p[sizeof(fixture_dir) + 256 + 2];
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", fixture_dir, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	rmdir(fixture_dir);
	fixture_dir[0] = '\0';
}

static inline const char *fixture_tmpdir(void)
{
	if (!fixture_dir[0]) {
		snprintf(fixture_dir, sizeof(fixture_dir),
			 "/tmp/ringlet-test-XXXXXX");
		assert_non_null(mkdtemp(fixture_dir));
		fixture_on_teardown(fixture_dir_cleanup);
	}
	return fixture_dir;
}

/* A test's setup on its own configuration: `text` as ringlet.toml in the
 * test's directory, the server started with -c on it (the directory goes
 * at once if it does not start: no teardown follows a failed setup). */
static inline int start_with_config(void **state, const char *text)
{
	struct backend *be = *state;
	if (be->why_not)
		return start_with(state, NULL); /* the test skips */
	static char conf[sizeof(fixture_dir) + 16];
	snprintf(conf, sizeof(conf), "%s/ringlet.toml", fixture_tmpdir());
	FILE *fp = fopen(conf, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	static const char *const extra[] = {"-c", conf, NULL};
	int rc = start_with(state, extra);
	if (rc)
		fixture_dir_cleanup();
	return rc;
}

/* The test's fixture; skips (saying why) when the backend cannot run. */
static inline struct fixture *fixture_get(void **state)
{
	struct fixture *f = *state;
	if (f->be->why_not) {
		print_message("SKIP: %s\n", f->be->why_not);
		skip();
	}
	return f;
}

static inline void need_data(void)
{
	if (!have_data()) {
		print_message("SKIP: %s is absent\n", DATA_DIR);
		skip();
	}
}

/* What every program's main does first: SIGPIPE ignored, the run's seed
 * printed, and RG_TEST_FILTER=test_head (cmocka's glob: * and ?) runs only
 * the tests matching it. */
static inline void fixture_init(void)
{
	signal(SIGPIPE, SIG_IGN);
	rng_base_seed();
	const char *filter = getenv("RG_TEST_FILTER");
	if (filter && *filter)
		cmocka_set_test_filter(filter);
}

/* A test with a server per test (started with `setup`, or `set` for
 * other arguments). */
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T_WITH(fn, set) cmocka_unit_test_setup_teardown(fn, set, teardown)

/* Runs the array `tests` once per backend; the number of failures. */
#define FIXTURE_RUN(tests)                                                     \
	(cmocka_run_group_tests_name("io_uring", tests, group_uring, NULL) +   \
	 cmocka_run_group_tests_name("epoll", tests, group_epoll, NULL))

/* ------------------------------------------------------------------------
 * Requests and checks
 * ------------------------------------------------------------------------ */

struct sbuf {
	char *p;
	size_t len, cap;
};

static inline void sb_add(struct sbuf *b, const void *p, size_t n)
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

static inline void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static inline void
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

static inline void sb_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Appends body[0, n) in chunked coding: chunks of 1..maxchunk bytes, hex
 * sizes in random case, sometimes with extensions, then the last chunk. */
static inline void sb_chunked(struct sbuf *b, struct rng *r, const void *body,
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

static inline void conn_open(struct fixture *f, struct http_conn *c)
{
	assert_int_equal(http_open(c, f->port), 0);
}

/* A connection to the server from the client address `from` (a second
 * loopback address, 127.0.0.2, is another client). */
static inline void conn_open_from(struct fixture *f, struct http_conn *c,
				  const char *from)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = 10000;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	assert_int_equal(inet_pton(AF_INET, from, &a.sin_addr), 1);
	assert_int_equal(bind(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	a.sin_port = htons(f->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socket_track(c->fd);
}

static inline void send_bytes(struct http_conn *c, const void *p, size_t n)
{
	int rc = http_send(c, p, n);
	if (rc)
		print_message("send: %s\n", strerror(-rc));
	assert_int_equal(rc, 0);
}

static inline void send_str(struct http_conn *c, const char *s)
{
	send_bytes(c, s, strlen(s));
}

static inline void read_resp(struct http_conn *c, struct http_resp *r,
			     int flags)
{
	assert_int_equal(http_read_final(c, r, flags), 0);
}

/* Asserts status and exact body bytes, showing what came on a mismatch. */
static inline void check(const struct http_resp *r, int status,
			 const void *body, size_t len)
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

static inline void check_str(const struct http_resp *r, int status,
			     const char *body)
{
	check(r, status, body, strlen(body));
}

/* Sends req on c, reads the response, asserts status and body. */
static inline void roundtrip(struct http_conn *c, const char *req, int status,
			     const char *body)
{
	struct http_resp r;
	send_str(c, req);
	read_resp(c, &r, 0);
	check_str(&r, status, body);
	http_resp_free(&r);
}

static inline void expect_closed(struct http_conn *c, int64_t ms)
{
	assert_int_equal(http_expect_closed(c, ms), 0);
}

static inline void expect_open(struct http_conn *c, int64_t ms)
{
	assert_int_equal(http_expect_open(c, ms), 0);
}

static inline void check_type(const struct http_resp *r, const char *type)
{
	const char *ct = http_header(r, "Content-Type");
	if (!media_type_is(ct, type))
		print_message("Content-Type %s, expected %s\n",
			      ct ? ct : "(none)", type);
	assert_true(media_type_is(ct, type));
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: localhost\r\n\r\n"

/* The /echo body as lines (LF or CRLF) compared with want[0, n). */
static inline void check_echo(const struct http_resp *r,
			      const char *const want[], size_t n)
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

static inline void echo(struct http_conn *c, const char *const hdr[], size_t n,
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

/* ------------------------------------------------------------------------
 * Logs the server writes
 * ------------------------------------------------------------------------ */

/* The file's bytes, NUL-terminated (malloc'd), or NULL if absent. */
static inline char *log_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct sbuf b = {0};
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_add(&b, buf, n);
	fclose(f);
	if (!b.p)
		sb_add(&b, "", 0);
	return b.p;
}

/* The first line of `path` containing `needle` (malloc'd, without its
 * newline), waiting up to ms for it to appear; NULL if it does not. */
static inline char *wait_line(const char *path, const char *needle, int64_t ms)
{
	int64_t end = now_ms() + ms;
	for (;;) {
		char *text = log_slurp(path);
		const char *hit = text ? strstr(text, needle) : NULL;
		if (hit) {
			const char *start = hit;
			while (start > text && start[-1] != '\n')
				start--;
			const char *nl = strchr(hit, '\n');
			if (nl) { /* a whole line only */
				char *line =
				    strndup(start, (size_t)(nl - start));
				free(text);
				return line;
			}
		}
		free(text);
		if (now_ms() >= end)
			return NULL;
		sleep_ms(50);
	}
}

/* ------------------------------------------------------------------------
 * The shared data: ../shared/data/static and dataset.json
 * ------------------------------------------------------------------------ */

static inline char *read_file(const char *path, size_t *len)
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

static inline bool static_type_ok(const char *name, const char *ct)
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
static inline size_t static_files(struct static_file *out, size_t max)
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

#endif
