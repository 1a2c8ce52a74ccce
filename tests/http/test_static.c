/* test_static.c: GET /static/... as a black box, served by the library's
 * static file server from a root this program builds (mkdtemp): files and
 * their types, paths that must not leave the root (raw sockets: curl would
 * normalise them), symbolic links in and out, a FIFO, directories and
 * their index, validators and 304, ranges (206/416, If-Range), HEAD,
 * precompressed siblings by Accept-Encoding with Vary, a file larger than
 * the socket buffers read slowly (sendfile and EAGAIN) or not at all
 * (write timeout), files changing on disk, descriptors not leaking; and
 * the shared HttpArena assets with their siblings. Both io backends. */
#include "fixture.h"

#include <sys/stat.h>
#include <sys/time.h>

#define BIG_SIZE ((5u << 20) + 12345) /* beyond tcp_wmem's 4 MiB ceiling */

static char base[64];  /* the test's directory */
static char root[128]; /* base/root: served */
static char *big;      /* root/big.bin's bytes */

static const char hello[] = "Hello, static world\n"; /* 20 bytes */

/* ------------------------------------------------------------------------
 * The root
 * ------------------------------------------------------------------------ */

static void put(const char *name, const void *data, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void put_str(const char *name, const char *s)
{
	put(name, s, strlen(s));
}

static void link_to(const char *target, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, name);
	assert_int_equal(symlink(target, path), 0);
}

static int build_root(void)
{
	snprintf(base, sizeof(base), "/tmp/rg-static-XXXXXX");
	if (!mkdtemp(base))
		return -1;
	snprintf(root, sizeof(root), "%s/root", base);
	char path[512];
	if (mkdir(root, 0755))
		return -1;
	snprintf(path, sizeof(path), "%s/outside.txt", base);
	FILE *fp = fopen(path, "w");
	if (!fp)
		return -1;
	fputs("TOP SECRET outside the root\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/sub", root);
	if (mkdir(path, 0755))
		return -1;
	snprintf(path, sizeof(path), "%s/nested", root);
	if (mkdir(path, 0755))
		return -1;

	put_str("hello.txt", hello);
	put_str("a b.txt", "spaced\n");
	put("empty.txt", "", 0);
	put_str("style.css", "body { color: black }\n");
	put_str("style.css.gz", "GZIP-BYTES-of-style.css");
	put_str("style.css.br", "BROTLI-BYTES-of-style.css");
	put_str("only.js", "console.log('plain')\n");
	put_str("only.js.gz", "GZIP-BYTES-of-only.js");
	put_str("sub/index.html", "<h1>sub index</h1>\n");
	put_str("sub/page.html", "<p>page</p>\n");
	put_str("nested/data.json", "{\"ok\":true}\n");
	put_str("wed.txt", "modified on a Wednesday\n");
	snprintf(path, sizeof(path), "%s/wed.txt", root);
	/* Wed, 01 Jan 2031 00:00:00 GMT: an If-Range date starting with W */
	struct timeval wed[2] = {{1924992000, 0}, {1924992000, 0}};
	if (utimes(path, wed))
		return -1;
	link_to("hello.txt", "link.txt");	 /* inside: served */
	link_to("sub", "sublink");		 /* a directory inside */
	link_to("/etc/passwd", "passwd");	 /* absolute: refused */
	link_to("/etc", "etc");			 /* a directory outside */
	link_to("../outside.txt", "escape.txt"); /* relative, outside */
	link_to("..", "up");
	snprintf(path, sizeof(path), "%s/fifo", root);
	if (mkfifo(path, 0644))
		return -1;
	big = malloc(BIG_SIZE);
	if (!big)
		return -1;
	struct rng r = {0x5eed};
	rng_fill(&r, big, BIG_SIZE);
	put("big.bin", big, BIG_SIZE);
	return 0;
}

static void remove_root(void)
{
	char cmd[128];
	if (base[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", base);
	}
	free(big);
}

static int setup_root(void **state)
{
	const char *const args[] = {"--root", root, NULL};
	return start_with(state, args);
}

#define TR(fn) T_WITH(fn, setup_root)

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* `method path` with extra header lines `hdrs` ("Name: v\r\n"...). */
static void ask(struct http_conn *c, const char *method, const char *path,
		const char *hdrs, struct http_resp *r)
{
	char req[2048];
	snprintf(req, sizeof(req),
		 "%s %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n", method, path,
		 hdrs ? hdrs : "");
	send_str(c, req);
	read_resp(c, r, !strcmp(method, "HEAD") ? HTTP_HEAD_ONLY : 0);
}

static void get(struct http_conn *c, const char *path, const char *hdrs,
		struct http_resp *r)
{
	ask(c, "GET", path, hdrs, r);
}

/* `method path` answered with `status`; the response is dropped. */
static void ask_status(struct http_conn *c, const char *method,
		       const char *path, const char *hdrs, int status)
{
	struct http_resp r;
	ask(c, method, path, hdrs, &r);
	assert_int_equal(r.status, status);
	http_resp_free(&r);
}

static void header_is(const struct http_resp *r, const char *name,
		      const char *want)
{
	const char *v = http_header(r, name);
	if (!want) {
		if (v)
			print_message("%s: %s, expected none\n", name, v);
		assert_null(v);
		return;
	}
	if (!v || strcmp(v, want))
		print_message("%s: %s, expected %s\n", name, v ? v : "(none)",
			      want);
	assert_non_null(v);
	assert_string_equal(v, want);
}

static char *dup_header(const struct http_resp *r, const char *name)
{
	const char *v = http_header(r, name);
	assert_non_null(v);
	char *s = strdup(v);
	assert_non_null(s);
	return s;
}

/* A response that must not carry any of the files outside the root. */
static void check_refused(const char *path, const struct http_resp *r)
{
	static const char *const secrets[] = {"TOP SECRET", "root:", "PREFIX",
					      "BROTLI", "daemon:"};
	bool leaked = false;
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		leaked |= memmem(r->body, r->body_len, secrets[i],
				 strlen(secrets[i])) != NULL;
	if (leaked || (r->status != 400 && r->status != 404))
		print_message("%s: %d %s\n", path, r->status,
			      http_snippet(r->body, r->body_len));
	assert_false(leaked);
	assert_true(r->status == 400 || r->status == 404);
}

/* The worker process (the fixture's pid is the master's). */
static pid_t worker_of(pid_t master)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)master,
		 (int)master);
	for (int i = 0; i < 200; i++) {
		FILE *fp = fopen(path, "r");
		if (fp) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
			fclose(fp);
			buf[n] = '\0';
			int pid = atoi(buf);
			if (pid > 0)
				return (pid_t)pid;
		}
		sleep_ms(10);
	}
	return master; /* a server without a master */
}

static int count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The count once the closes of earlier tests' connections have landed
 * (io_uring closes asynchronously): the same twice 20 ms apart. */
static int settled_fds(pid_t pid)
{
	int n = count_fds(pid);
	for (int i = 0; i < 100; i++) {
		sleep_ms(20);
		int m = count_fds(pid);
		if (m == n)
			break;
		n = m;
	}
	return n;
}

/* A connection whose receive buffer is tiny, so that the server's sends
 * soon meet a full socket. */
static void conn_open_small(struct fixture *f, struct http_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->timeout_ms = 30000;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(f->port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socket_track(fd);
	c->fd = fd;
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

static void test_files(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	get(&c, "/static/hello.txt", NULL, &r);
	check_str(&r, 200, hello);
	check_type(&r, "text/plain");
	header_is(&r, "Content-Length", "20");
	header_is(&r, "Accept-Ranges", "bytes");
	header_is(&r, "Vary", NULL);
	header_is(&r, "Content-Encoding", NULL);
	const char *etag = http_header(&r, "ETag");
	assert_non_null(etag);
	assert_true(etag[0] == '"' && etag[strlen(etag) - 1] == '"');
	const char *lm = http_header(&r, "Last-Modified");
	assert_non_null(lm);
	assert_int_equal(strlen(lm), 29);
	assert_non_null(strstr(lm, " GMT"));
	http_resp_free(&r);

	get(&c, "/static/a%20b.txt", NULL, &r);
	check_str(&r, 200, "spaced\n");
	http_resp_free(&r);
	get(&c, "/static/empty.txt", NULL, &r);
	check_str(&r, 200, "");
	header_is(&r, "Content-Length", "0");
	http_resp_free(&r);
	get(&c, "/static/link.txt", NULL, &r); /* a link inside the root */
	check_str(&r, 200, hello);
	http_resp_free(&r);
	get(&c, "/static/sublink/page.html", NULL, &r);
	check_str(&r, 200, "<p>page</p>\n");
	check_type(&r, "text/html");
	http_resp_free(&r);
	get(&c, "/static/nested/data.json", NULL, &r);
	check_str(&r, 200, "{\"ok\":true}\n");
	check_type(&r, "application/json");
	http_resp_free(&r);
	get(&c, "/static/style.css", NULL, &r);
	check_type(&r, "text/css");
	http_resp_free(&r);
	get(&c, "/static/sub/../hello.txt", NULL, &r); /* stays inside */
	check_str(&r, 200, hello);
	http_resp_free(&r);
	ask_status(&c, "GET", "/static/nope.txt", NULL, 404);
	get(&c, "/static/hello.txt/", NULL, &r); /* a file is no directory */
	assert_int_equal(r.status, 404);
	http_resp_free(&r);
	/* Every answer kept the connection. */
	get(&c, "/static/hello.txt", NULL, &r);
	check_str(&r, 200, hello);
	http_resp_free(&r);
	http_close(&c);
	/* HTTP/1.0: the same file, then the server closes. */
	conn_open(f, &c);
	send_str(&c, "GET /static/big.bin HTTP/1.0\r\n\r\n");
	read_resp(&c, &r, 0);
	check(&r, 200, big, BIG_SIZE);
	http_resp_free(&r);
	expect_closed(&c, 2000);
	http_close(&c);
}

static void test_escapes(void **state)
{
	struct fixture *f = fixture_get(state);
	static const char *const paths[] = {
	    "/static/../Makefile",
	    "/static/../outside.txt",
	    "/static/%2e%2e/outside.txt",
	    "/static/%2e%2e/%2e%2e/etc/passwd",
	    "/static/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
	    "/static/..%2f..%2fetc/passwd",
	    "/static/..%2foutside.txt",
	    "/static/%2F%2Fetc/passwd",
	    "/static/%2Fetc/passwd",
	    "/static//etc/passwd",
	    "/static///etc/passwd",
	    "/static/sub/../../outside.txt",
	    "/static/sub/%2e%2e/%2e%2e/outside.txt",
	    "/static/..\\..\\etc\\passwd",
	    "/static/passwd",	      /* -> /etc/passwd */
	    "/static/etc/passwd",     /* -> /etc */
	    "/static/escape.txt",     /* -> ../outside.txt */
	    "/static/up/outside.txt", /* -> .. */
	    "/static/up/root/hello.txt",
	    "/static/%00",
	    "/static/hello.txt%00.css",
	    "/static/%",
	    "/static/%zz",
	    "/static/%2",
	    "/static/style.css.br/..",
	    "/static/..",
	    "/static/%2e%2e",
	    "/static/proc/self/environ",
	    "/static/%2e%2e%2f%2e%2e%2f%2e%2e%2fproc%2fself%2fenviron",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct http_conn c;
		struct http_resp r;
		char req[512];
		conn_open(f, &c);
		snprintf(req, sizeof(req), GET("%s"), paths[i]);
		send_str(&c, req);
		int rc = http_read_final(&c, &r, 0);
		if (rc) {
			/* The parser may refuse the target itself (400 and
			 * close is fine too); nothing of the file came. */
			assert_true(c.len == 0 ||
				    !memmem(c.buf, c.len, "root:", 5));
			http_close(&c);
			continue;
		}
		check_refused(paths[i], &r);
		http_resp_free(&r);
		http_close(&c);
	}
	/* Malformed escapes and NUL are 400 exactly. */
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	ask_status(&c, "GET", "/static/%00", NULL, 400);
	ask_status(&c, "GET", "/static/a%zzb", NULL, 400);
	get(&c, "/static/hello.txt", NULL, &r);
	check_str(&r, 200, hello);
	http_resp_free(&r);
	http_close(&c);
}

static void test_fifo(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	c.timeout_ms = 3000; /* a server that blocks on the FIFO fails here */
	ask_status(&c, "GET", "/static/fifo", NULL, 404);
	ask_status(&c, "HEAD", "/static/fifo", NULL, 404);
	get(&c, "/static/hello.txt", NULL, &r);
	check_str(&r, 200, hello);
	http_resp_free(&r);
	http_close(&c);
}

static void test_directories(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	get(&c, "/static/sub", NULL, &r);
	assert_int_equal(r.status, 301);
	header_is(&r, "Location", "/static/sub/");
	http_resp_free(&r);
	get(&c, "/static/sub?x=1&y", NULL, &r);
	assert_int_equal(r.status, 301);
	header_is(&r, "Location", "/static/sub/?x=1&y");
	http_resp_free(&r);
	get(&c, "/static/sublink", NULL, &r);
	assert_int_equal(r.status, 301);
	header_is(&r, "Location", "/static/sublink/");
	http_resp_free(&r);
	get(&c, "/static/sub/", NULL, &r);
	check_str(&r, 200, "<h1>sub index</h1>\n");
	check_type(&r, "text/html");
	assert_non_null(http_header(&r, "ETag"));
	http_resp_free(&r);
	get(&c, "/static/sub/?q=1", NULL, &r);
	check_str(&r, 200, "<h1>sub index</h1>\n");
	http_resp_free(&r);
	/* No index.html: 404, with or without the slash. */
	ask_status(&c, "GET", "/static/nested/", NULL, 404);
	ask_status(&c, "GET", "/static/", NULL, 404);
	http_close(&c);
}

static void test_methods(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	send_str(&c, "POST /static/hello.txt HTTP/1.1\r\nHost: localhost\r\n"
		     "Content-Length: 2\r\n\r\nhi");
	read_resp(&c, &r, 0);
	assert_int_equal(r.status, 405);
	const char *allow = http_header(&r, "Allow");
	assert_non_null(allow);
	assert_true(list_has_token(allow, "GET"));
	assert_true(list_has_token(allow, "HEAD"));
	http_resp_free(&r);
	ask_status(&c, "OPTIONS", "/static/hello.txt", NULL, 405);
	ask_status(&c, "DELETE", "/static/hello.txt", NULL, 501); /* no route */
	get(&c, "/static/hello.txt", NULL, &r);
	check_str(&r, 200, hello);
	http_resp_free(&r);
	http_close(&c);
}

static void test_head(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	ask(&c, "HEAD", "/static/hello.txt", NULL, &r);
	assert_int_equal(r.status, 200);
	header_is(&r, "Content-Length", "20");
	check_type(&r, "text/plain");
	assert_non_null(http_header(&r, "ETag"));
	assert_int_equal(r.body_len, 0);
	http_resp_free(&r);
	/* Nothing followed the head: the next response starts clean. */
	get(&c, "/static/hello.txt", NULL, &r);
	check_str(&r, 200, hello);
	http_resp_free(&r);
	/* The large file too (no sendfile after a HEAD), pipelined. */
	send_str(&c, "HEAD /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n"
		     "HEAD /static/style.css HTTP/1.1\r\nHost: x\r\n"
		     "Accept-Encoding: br\r\n\r\n" GET("/static/hello.txt"));
	read_resp(&c, &r, HTTP_HEAD_ONLY);
	assert_int_equal(r.status, 200);
	char len[32];
	snprintf(len, sizeof(len), "%u", BIG_SIZE);
	header_is(&r, "Content-Length", len);
	http_resp_free(&r);
	read_resp(&c, &r, HTTP_HEAD_ONLY);
	assert_int_equal(r.status, 200);
	header_is(&r, "Content-Encoding", "br");
	header_is(&r, "Content-Length", "25");
	http_resp_free(&r);
	read_resp(&c, &r, 0);
	check_str(&r, 200, hello);
	http_resp_free(&r);
	expect_open(&c, 50);
	http_close(&c);
}

static void test_not_modified(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	get(&c, "/static/hello.txt", NULL, &r);
	char *etag = dup_header(&r, "ETag");
	char *lm = dup_header(&r, "Last-Modified");
	http_resp_free(&r);
	char h[512];

	static const char *const inm_match[] = {"%s", "\"nope\", %s", "W/%s",
						"*", "\"a\",%s ,\"b\""};
	for (size_t i = 0; i < sizeof(inm_match) / sizeof(inm_match[0]); i++) {
		char list[256];
		snprintf(list, sizeof(list), inm_match[i], etag);
		snprintf(h, sizeof(h), "If-None-Match: %s\r\n", list);
		get(&c, "/static/hello.txt", h, &r);
		if (r.status != 304)
			print_message("If-None-Match: %s -> %d\n", list,
				      r.status);
		check_str(&r, 304, "");
		header_is(&r, "ETag", etag);
		header_is(&r, "Last-Modified", lm);
		header_is(&r, "Content-Length", NULL);
		http_resp_free(&r);
	}
	/* HEAD too. */
	snprintf(h, sizeof(h), "If-None-Match: %s\r\n", etag);
	ask_status(&c, "HEAD", "/static/hello.txt", h, 304);
	/* Another tag: the file. */
	get(&c, "/static/hello.txt", "If-None-Match: \"other\"\r\n", &r);
	check_str(&r, 200, hello);
	http_resp_free(&r);
	/* By date: equal or later is 304, earlier or malformed is 200. */
	snprintf(h, sizeof(h), "If-Modified-Since: %s\r\n", lm);
	get(&c, "/static/hello.txt", h, &r);
	check_str(&r, 304, "");
	header_is(&r, "ETag", etag);
	http_resp_free(&r);
	get(&c, "/static/hello.txt",
	    "If-Modified-Since: Fri, 31 Dec 2100 23:59:59 GMT\r\n", &r);
	check_str(&r, 304, "");
	http_resp_free(&r);
	get(&c, "/static/hello.txt",
	    "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", &r);
	check_str(&r, 200, hello);
	http_resp_free(&r);
	get(&c, "/static/hello.txt", "If-Modified-Since: yesterday\r\n", &r);
	check_str(&r, 200, hello);
	http_resp_free(&r);
	/* If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2). */
	snprintf(h, sizeof(h),
		 "If-None-Match: \"other\"\r\nIf-Modified-Since: %s\r\n", lm);
	get(&c, "/static/hello.txt", h, &r);
	check_str(&r, 200, hello);
	http_resp_free(&r);
	/* The connection went on through every 304. */
	expect_open(&c, 20);
	http_close(&c);
	free(etag);
	free(lm);
}

static void range_is(struct http_conn *c, const char *path, const char *range,
		     int status, const char *content_range, const void *body,
		     size_t len)
{
	char h[256];
	struct http_resp r;
	snprintf(h, sizeof(h), "Range: %s\r\n", range);
	get(c, path, h, &r);
	if (r.status != status)
		print_message("Range: %s -> %d\n", range, r.status);
	assert_int_equal(r.status, status);
	header_is(&r, "Content-Range", content_range);
	if (body)
		check(&r, status, body, len);
	http_resp_free(&r);
}

static void test_ranges(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	const char *p = "/static/hello.txt";
	range_is(&c, p, "bytes=0-4", 206, "bytes 0-4/20", "Hello", 5);
	range_is(&c, p, "bytes=7-12", 206, "bytes 7-12/20", "static", 6);
	range_is(&c, p, "bytes=14-", 206, "bytes 14-19/20", "world\n", 6);
	range_is(&c, p, "bytes=-6", 206, "bytes 14-19/20", "world\n", 6);
	range_is(&c, p, "bytes=-100", 206, "bytes 0-19/20", hello, 20);
	range_is(&c, p, "bytes=10-1000", 206, "bytes 10-19/20", "tic world\n",
		 10);
	range_is(&c, p, "bytes=19-19", 206, "bytes 19-19/20", "\n", 1);
	/* Unsatisfiable: 416 with the size. */
	range_is(&c, p, "bytes=20-", 416, "bytes */20", NULL, 0);
	range_is(&c, p, "bytes=99999999999999999999-", 416, "bytes */20", NULL,
		 0);
	range_is(&c, p, "bytes=-0", 416, "bytes */20", NULL, 0);
	range_is(&c, "/static/empty.txt", "bytes=0-", 416, "bytes */0", NULL,
		 0);
	/* Ignored: several ranges, malformed, other units. */
	range_is(&c, p, "bytes=0-1,3-4", 200, NULL, hello, 20);
	range_is(&c, p, "bytes=5-2", 200, NULL, hello, 20);
	range_is(&c, p, "bytes=x", 200, NULL, hello, 20);
	range_is(&c, p, "lines=1-2", 200, NULL, hello, 20);

	/* If-Range: the same validator lets the range apply. */
	get(&c, p, NULL, &r);
	char *etag = dup_header(&r, "ETag");
	char *lm = dup_header(&r, "Last-Modified");
	http_resp_free(&r);
	char h[512];
	snprintf(h, sizeof(h), "Range: bytes=0-4\r\nIf-Range: %s\r\n", etag);
	get(&c, p, h, &r);
	check_str(&r, 206, "Hello");
	http_resp_free(&r);
	snprintf(h, sizeof(h), "Range: bytes=0-4\r\nIf-Range: %s\r\n", lm);
	get(&c, p, h, &r);
	check_str(&r, 206, "Hello");
	http_resp_free(&r);
	static const char *const stale[] = {
	    "\"other\"", "W/%s", "Sun, 06 Nov 1994 08:49:37 GMT", "garbage"};
	for (size_t i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
		char v[128];
		snprintf(v, sizeof(v), stale[i], etag);
		snprintf(h, sizeof(h), "Range: bytes=0-4\r\nIf-Range: %s\r\n",
			 v);
		get(&c, p, h, &r);
		check_str(&r, 200, hello);
		http_resp_free(&r);
	}
	get(&c, "/static/wed.txt",
	    "Range: bytes=0-7\r\n"
	    "If-Range: Wed, 01 Jan 2031 00:00:00 GMT\r\n",
	    &r);
	header_is(&r, "Last-Modified", "Wed, 01 Jan 2031 00:00:00 GMT");
	check_str(&r, 206, "modified");
	http_resp_free(&r);
	get(&c, "/static/wed.txt",
	    "Range: bytes=0-7\r\n"
	    "If-Range: Thu, 02 Jan 2031 00:00:00 GMT\r\n",
	    &r);
	check_str(&r, 200, "modified on a Wednesday\n");
	http_resp_free(&r);
	/* HEAD ignores Range (only GET defines it). */
	ask(&c, "HEAD", p, "Range: bytes=0-4\r\n", &r);
	assert_int_equal(r.status, 200);
	header_is(&r, "Content-Length", "20");
	http_resp_free(&r);
	/* A range of a compressible file: the file itself, not a sibling. */
	get(&c, "/static/style.css",
	    "Range: bytes=0-3\r\n"
	    "Accept-Encoding: gzip, br\r\n",
	    &r);
	check_str(&r, 206, "body");
	header_is(&r, "Content-Encoding", NULL);
	header_is(&r, "Vary", "Accept-Encoding");
	http_resp_free(&r);
	/* Ranges of the large file, through sendfile. */
	char cr[96];
	snprintf(cr, sizeof(cr), "bytes 1000000-2999999/%u", BIG_SIZE);
	range_is(&c, "/static/big.bin", "bytes=1000000-2999999", 206, cr,
		 big + 1000000, 2000000);
	snprintf(cr, sizeof(cr), "bytes %u-%u/%u", BIG_SIZE - 70000,
		 BIG_SIZE - 1, BIG_SIZE);
	range_is(&c, "/static/big.bin", "bytes=-70000", 206, cr,
		 big + BIG_SIZE - 70000, 70000);
	snprintf(cr, sizeof(cr), "bytes 12345-12345/%u", BIG_SIZE);
	range_is(&c, "/static/big.bin", "bytes=12345-12345", 206, cr,
		 big + 12345, 1);
	expect_open(&c, 20);
	http_close(&c);
	free(etag);
	free(lm);
}

static void test_precompressed(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	static const struct {
		const char *path, *accept, *coding, *body;
	} cases[] = {
	    {"/static/style.css", NULL, NULL, "body { color: black }\n"},
	    {"/static/style.css", "gzip", "gzip", "GZIP-BYTES-of-style.css"},
	    {"/static/style.css", "br", "br", "BROTLI-BYTES-of-style.css"},
	    {"/static/style.css", "gzip, deflate, br", "br",
	     "BROTLI-BYTES-of-style.css"},
	    {"/static/style.css", "gzip;q=1, br;q=0.5", "gzip",
	     "GZIP-BYTES-of-style.css"},
	    {"/static/style.css", "br;q=0, gzip", "gzip",
	     "GZIP-BYTES-of-style.css"},
	    {"/static/style.css", "br;q=0", NULL, "body { color: black }\n"},
	    {"/static/style.css", "identity", NULL, "body { color: black }\n"},
	    {"/static/style.css", "*", "br", "BROTLI-BYTES-of-style.css"},
	    {"/static/style.css", "deflate", NULL, "body { color: black }\n"},
	    {"/static/only.js", "br", NULL, "console.log('plain')\n"},
	    {"/static/only.js", "br, gzip", "gzip", "GZIP-BYTES-of-only.js"},
	};
	char h[256], *etags[sizeof(cases) / sizeof(cases[0])];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(h, sizeof(h), "Accept-Encoding: %s\r\n",
			 cases[i].accept);
		get(&c, cases[i].path, cases[i].accept ? h : NULL, &r);
		if (r.status != 200 || strcmp(r.body, cases[i].body))
			print_message("%s with %s: %d %s\n", cases[i].path,
				      cases[i].accept ? cases[i].accept : "-",
				      r.status, r.body);
		check_str(&r, 200, cases[i].body);
		header_is(&r, "Content-Encoding", cases[i].coding);
		header_is(&r, "Vary", "Accept-Encoding");
		check_type(&r, strstr(cases[i].path, ".css")
				   ? "text/css"
				   : "text/javascript");
		etags[i] = dup_header(&r, "ETag");
		http_resp_free(&r);
	}
	/* Each representation has its own tag. */
	assert_string_not_equal(etags[0], etags[1]);
	assert_string_not_equal(etags[0], etags[2]);
	assert_string_not_equal(etags[1], etags[2]);
	assert_string_equal(etags[1], etags[4]);
	/* A 304 is per representation: the gzip tag matches a gzip
	 * request, not an identity one. */
	snprintf(h, sizeof(h), "Accept-Encoding: gzip\r\nIf-None-Match: %s\r\n",
		 etags[1]);
	get(&c, "/static/style.css", h, &r);
	check_str(&r, 304, "");
	header_is(&r, "Vary", "Accept-Encoding");
	header_is(&r, "ETag", etags[1]);
	http_resp_free(&r);
	snprintf(h, sizeof(h), "If-None-Match: %s\r\n", etags[1]);
	get(&c, "/static/style.css", h, &r);
	check_str(&r, 200, "body { color: black }\n");
	http_resp_free(&r);
	/* No sibling: no Vary. */
	get(&c, "/static/hello.txt", "Accept-Encoding: gzip, br\r\n", &r);
	check_str(&r, 200, hello);
	header_is(&r, "Vary", NULL);
	header_is(&r, "Content-Encoding", NULL);
	http_resp_free(&r);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		free(etags[i]);
	http_close(&c);
}

/* The large file to a client that reads slowly: the socket fills, the
 * handler waits for it to drain (sendfile, EAGAIN, poll), and the worker
 * serves others meanwhile. */
static void test_big_slow_reader(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn slow, quick;
	struct http_resp r;
	conn_open_small(f, &slow);
	send_str(&slow, GET("/static/big.bin") GET("/static/hello.txt"));
	sleep_ms(150);
	/* The slow client holds its handler; others are served at once. */
	conn_open(f, &quick);
	quick.timeout_ms = 2000;
	for (int i = 0; i < 5; i++) {
		get(&quick, "/static/hello.txt", NULL, &r);
		check_str(&r, 200, hello);
		http_resp_free(&r);
	}
	/* Drain in small sips for a while, then at full speed. */
	int64_t deadline = now_ms() + 20000;
	for (int i = 0; i < 60; i++) {
		assert_true(http_fill(&slow, deadline) > 0);
		sleep_ms(2);
	}
	read_resp(&slow, &r, 0);
	check(&r, 200, big, BIG_SIZE);
	http_resp_free(&r);
	read_resp(&slow, &r, 0);
	check_str(&r, 200, hello);
	http_resp_free(&r);
	/* Twice more on the same connection, pipelined with a range. */
	send_str(&slow, GET("/static/big.bin"));
	send_str(&slow, "GET /static/big.bin HTTP/1.1\r\nHost: x\r\n"
			"Range: bytes=4096-\r\n\r\n");
	read_resp(&slow, &r, 0);
	check(&r, 200, big, BIG_SIZE);
	http_resp_free(&r);
	read_resp(&slow, &r, 0);
	check(&r, 206, big + 4096, BIG_SIZE - 4096);
	http_resp_free(&r);
	http_close(&slow);
	http_close(&quick);
}

/* Several clients at once, each taking the large file at full speed. */
static void test_big_parallel(void **state)
{
	struct fixture *f = fixture_get(state);
	enum { N = 6 };
	struct http_conn c[N];
	for (int i = 0; i < N; i++) {
		conn_open(f, &c[i]);
		send_str(&c[i], GET("/static/big.bin"));
	}
	/* Read them round-robin, so that they progress together. */
	int64_t deadline = now_ms() + 30000;
	bool done[N] = {0};
	for (int left = N; left;) {
		left = 0;
		for (int i = 0; i < N; i++) {
			if (done[i])
				continue;
			if (c[i].len >= BIG_SIZE + 100) {
				done[i] = true;
				continue;
			}
			left++;
			ssize_t n = http_fill(&c[i], deadline);
			assert_true(n > 0);
		}
	}
	for (int i = 0; i < N; i++) {
		struct http_resp r;
		read_resp(&c[i], &r, 0);
		check(&r, 200, big, BIG_SIZE);
		http_resp_free(&r);
		http_close(&c[i]);
	}
}

/* A client that stops reading is dropped after write_timeout, and the
 * server stops cleanly with its file still open in a response. */
static int setup_short_write_timeout(void **state)
{
	static char conf[128];
	snprintf(conf, sizeof(conf), "%s/short.toml", base);
	FILE *fp = fopen(conf, "w");
	if (!fp)
		return -1;
	fputs("[server]\nwrite_timeout = \"300ms\"\n"
	      "[performance]\nworkers = 1\n",
	      fp);
	fclose(fp);
	const char *const args[] = {"-c", conf, "--root", root, NULL};
	return start_with(state, args);
}

static void test_write_timeout(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn stuck;
	conn_open_small(f, &stuck);
	send_str(&stuck, GET("/static/big.bin"));
	sleep_ms(1200);
	/* Closed: what was queued arrives, then the end, well short. */
	int64_t deadline = now_ms() + 5000;
	ssize_t n;
	while ((n = http_fill(&stuck, deadline)) > 0)
		;
	assert_true(n == 0 || n == -ECONNRESET);
	assert_true(stuck.len < BIG_SIZE);
	http_close(&stuck);
	/* The others go on. */
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	get(&c, "/static/big.bin", NULL, &r);
	check(&r, 200, big, BIG_SIZE);
	http_resp_free(&r);
	http_close(&c);
	/* One stuck mid-file when the server is told to stop. */
	conn_open_small(f, &stuck);
	send_str(&stuck, GET("/static/big.bin"));
	sleep_ms(100);
}

/* A file rewritten, replaced, removed and created while the server runs:
 * after the cache's validity (1 s by default) the new state is served. */
static void test_changes(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	struct http_resp r;
	put_str("mutable.txt", "version one\n");
	conn_open(f, &c);
	get(&c, "/static/mutable.txt", NULL, &r);
	check_str(&r, 200, "version one\n");
	char *etag1 = dup_header(&r, "ETag");
	http_resp_free(&r);
	put_str("mutable.txt", "version two, longer\n");
	sleep_ms(1100);
	get(&c, "/static/mutable.txt", NULL, &r);
	check_str(&r, 200, "version two, longer\n");
	assert_string_not_equal(http_header(&r, "ETag"), etag1);
	http_resp_free(&r);
	/* Replaced by rename (a new inode, as deployments do). */
	put_str("mutable.new", "version three\n");
	char from[512], to[512];
	snprintf(from, sizeof(from), "%s/mutable.new", root);
	snprintf(to, sizeof(to), "%s/mutable.txt", root);
	assert_int_equal(rename(from, to), 0);
	sleep_ms(1100);
	get(&c, "/static/mutable.txt", NULL, &r);
	check_str(&r, 200, "version three\n");
	http_resp_free(&r);
	/* A sibling appears. */
	put_str("mutable.txt.gz", "GZ three");
	sleep_ms(1100);
	get(&c, "/static/mutable.txt", "Accept-Encoding: gzip\r\n", &r);
	check_str(&r, 200, "GZ three");
	header_is(&r, "Vary", "Accept-Encoding");
	http_resp_free(&r);
	/* Removed. */
	assert_int_equal(unlink(to), 0);
	snprintf(to, sizeof(to), "%s/mutable.txt.gz", root);
	assert_int_equal(unlink(to), 0);
	sleep_ms(1100);
	ask_status(&c, "GET", "/static/mutable.txt", NULL, 404);
	http_close(&c);
	free(etag1);
}

/* Descriptors: after many distinct files, misses, directories, the FIFO
 * and aborted downloads, the worker holds no more than its cache allows;
 * with the cache off, exactly what it held before. */
static int setup_no_cache(void **state)
{
	static char conf[128];
	snprintf(conf, sizeof(conf), "%s/nocache.toml", base);
	FILE *fp = fopen(conf, "w");
	if (!fp)
		return -1;
	fputs("[static]\nopen_file_cache = 0\n[performance]\nworkers = 1\n",
	      fp);
	fclose(fp);
	const char *const args[] = {"-c", conf, "--root", root, NULL};
	return start_with(state, args);
}

static void churn(struct fixture *f)
{
	static const char *const paths[] = {
	    "/static/hello.txt", "/static/style.css",	  "/static/only.js",
	    "/static/sub/",	 "/static/sub",		  "/static/nope",
	    "/static/fifo",	 "/static/passwd",	  "/static/link.txt",
	    "/static/empty.txt", "/static/nested/",	  "/static/%00",
	    "/static/a%20b.txt", "/static/sub/page.html",
	};
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			get(&c, paths[i], "Accept-Encoding: gzip, br\r\n", &r);
			http_resp_free(&r);
		}
		for (int i = 0; i < 100; i++) {
			char p[64];
			snprintf(p, sizeof(p), "/static/many/f%d.txt", i);
			get(&c, p, NULL, &r);
			assert_int_equal(r.status, 200);
			http_resp_free(&r);
		}
	}
	http_close(&c);
	/* Downloads abandoned half-way. */
	for (int i = 0; i < 4; i++) {
		conn_open_small(f, &c);
		send_str(&c, GET("/static/big.bin"));
		sleep_ms(30);
		http_close(&c);
	}
	sleep_ms(300);
}

static void make_many(void)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/many", root);
	if (mkdir(p, 0755) && errno != EEXIST)
		fail_msg("mkdir %s: %s", p, strerror(errno));
	for (int i = 0; i < 100; i++) {
		char name[64];
		snprintf(name, sizeof(name), "many/f%d.txt", i);
		put_str(name, "x\n");
	}
}

static void test_fds_cached(void **state)
{
	struct fixture *f = fixture_get(state);
	make_many();
	pid_t w = worker_of(f->srv.pid);
	int before = settled_fds(w);
	churn(f);
	int after = count_fds(w);
	/* 64 entries of at most three files each. */
	if (after > before + 64 * 3)
		print_message("fds: %d before, %d after\n", before, after);
	assert_true(after <= before + 64 * 3);
	churn(f);
	assert_true(count_fds(w) <= after + 3);
}

static void test_fds_uncached(void **state)
{
	struct fixture *f = fixture_get(state);
	make_many();
	pid_t w = worker_of(f->srv.pid);
	int before = settled_fds(w);
	churn(f);
	/* The last connections' closes may still be in flight (io_uring
	 * closes asynchronously): wait for them, a little. */
	int after = count_fds(w);
	for (int i = 0; i < 100 && after != before; i++) {
		sleep_ms(20);
		after = count_fds(w);
	}
	if (after != before)
		print_message("fds: %d before, %d after\n", before, after);
	assert_int_equal(after, before);
	/* And it still serves, uncached. */
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	get(&c, "/static/style.css", "Accept-Encoding: br\r\n", &r);
	check_str(&r, 200, "BROTLI-BYTES-of-style.css");
	http_resp_free(&r);
	get(&c, "/static/big.bin", NULL, &r);
	check(&r, 200, big, BIG_SIZE);
	http_resp_free(&r);
	http_close(&c);
}

/* The HttpArena static workload on the shared data: every asset with its
 * size and type, and each precompressed sibling byte for byte. */
static void test_arena_assets(void **state)
{
	struct fixture *f = fixture_get(state);
	need_data();
	static struct static_file files[64];
	size_t n = static_files(files, 64);
	assert_true(n >= 1);
	struct http_conn c;
	struct http_resp r;
	conn_open(f, &c);
	char path[512];
	size_t siblings = 0;
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/static/%.200s", files[i].name);
		get(&c, path, NULL, &r);
		check(&r, 200, files[i].data, files[i].len);
		const char *ct = http_header(&r, "Content-Type");
		if (!static_type_ok(files[i].name, ct))
			print_message("%s: Content-Type %s\n", path, ct);
		assert_true(static_type_ok(files[i].name, ct));
		http_resp_free(&r);
		static const char *const codings[] = {"gzip", "br"};
		static const char *const exts[] = {"gz", "br"};
		for (int k = 0; k < 2; k++) {
			char sib[512], h[64];
			snprintf(sib, sizeof(sib), "%s/%.200s.%s", STATIC_DIR,
				 files[i].name, exts[k]);
			struct stat sb;
			if (stat(sib, &sb))
				continue;
			siblings++;
			size_t len;
			char *want = read_file(sib, &len);
			snprintf(h, sizeof(h), "Accept-Encoding: %s\r\n",
				 codings[k]);
			get(&c, path, h, &r);
			check(&r, 200, want, len);
			header_is(&r, "Content-Encoding", codings[k]);
			header_is(&r, "Vary", "Accept-Encoding");
			assert_true(static_type_ok(
			    files[i].name, http_header(&r, "Content-Type")));
			http_resp_free(&r);
			free(want);
		}
	}
	assert_true(siblings > 0);
	ask_status(&c, "GET", "/static/no-such-asset.js", NULL, 404);
	http_close(&c);
	for (size_t i = 0; i < n; i++)
		free(files[i].data);
}

int main(void)
{
	fixture_init();
	if (build_root()) {
		fprintf(stderr, "cannot build the test root: %s\n",
			strerror(errno));
		remove_root();
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    TR(test_files),
	    TR(test_escapes),
	    TR(test_fifo),
	    TR(test_directories),
	    TR(test_methods),
	    TR(test_head),
	    TR(test_not_modified),
	    TR(test_ranges),
	    TR(test_precompressed),
	    TR(test_big_slow_reader),
	    TR(test_big_parallel),
	    T_WITH(test_write_timeout, setup_short_write_timeout),
	    TR(test_changes),
	    TR(test_fds_cached),
	    T_WITH(test_fds_uncached, setup_no_cache),
	    T(test_arena_assets),
	};
	int failed = FIXTURE_RUN(tests);
	remove_root();
	return failed;
}
