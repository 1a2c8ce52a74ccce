/* test_sendfile.c: rg_stream_file against a server run in this process
 * (a thread) on both io backends: small bodies copied and large ones sent
 * with sendfile, pieces of a file one after another and mixed with
 * rg_stream_write, chunked and HTTP/1.0 close-delimited streams, HEAD,
 * more than announced (-EINVAL), a file that ends early (-EIO, the
 * connection closed), and a client gone half-way (-ECONNRESET). A server
 * that does not start fails the test, except on io_uring where the kernel
 * itself says it cannot run (../uring_probe.h): that skips, saying why. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../uring_probe.h"
#include "ringlet.h"
#include "server.h"

#define FILE_SIZE (8u << 20)

static char path[] = "/tmp/rg-test-sendfile-XXXXXX";
static char *content;
static int file_fd = -1;

/* What the last handler's calls returned. */
static int res_a, res_b, res_c;

static struct rg_server *server;
static uint16_t port;
/* Why the test whose setup started no server cannot run, and whether that
 * fails it (any backend the kernel can run) or skips it (io_uring where
 * the kernel cannot). */
static char why_not[256];
static bool must_fail;

/* ------------------------------------------------------------------------
 * Handlers: the query says which bytes ("?off=N&len=N").
 * ------------------------------------------------------------------------ */

static int64_t q(struct rg_request *req, const char *name, int64_t dflt)
{
	struct rg_str v;
	if (rg_query_param(req, name, &v) != 1)
		return dflt;
	char buf[32];
	snprintf(buf, sizeof(buf), "%.*s", (int)v.len, v.ptr);
	return strtoll(buf, NULL, 10);
}

/* Content-Length: len; the file's [off, off + len). */
static void h_range(struct rg_request *req, void *data)
{
	(void)data;
	int64_t off = q(req, "off", 0), len = q(req, "len", 0);
	res_a = rg_stream_begin(req, 200, "application/octet-stream", len);
	res_b = rg_stream_file(req, file_fd, off, len);
	res_c = rg_stream_end(req);
}

/* "<" + file[0, n) + file[n, 2n) + ">", Content-Length announced. */
static void h_mixed(struct rg_request *req, void *data)
{
	(void)data;
	int64_t n = q(req, "n", 0);
	res_a = rg_stream_begin(req, 200, NULL, 2 * n + 2);
	rg_stream_write(req, "<", 1);
	res_b = rg_stream_file(req, file_fd, 0, n);
	if (!res_b)
		res_b = rg_stream_file(req, file_fd, n, n);
	rg_stream_write(req, ">", 1);
	res_c = rg_stream_end(req);
}

/* Unknown length: chunked on HTTP/1.1, until close on HTTP/1.0. */
static void h_stream(struct rg_request *req, void *data)
{
	(void)data;
	int64_t n = q(req, "n", 0);
	res_a = rg_stream_begin(req, 200, NULL, RG_LENGTH_UNKNOWN);
	res_b = rg_stream_file(req, file_fd, 0, n);
	if (!res_b)
		res_b = rg_stream_file(req, file_fd, 0, n);
	res_c = rg_stream_end(req);
}

/* Announces `len`, then asks for more. */
static void h_over(struct rg_request *req, void *data)
{
	(void)data;
	res_a = rg_stream_begin(req, 200, NULL, 10);
	res_b = rg_stream_file(req, file_fd, 0, 11);
	if (res_b == -EINVAL)
		res_b = rg_stream_file(req, file_fd, 0, 10);
	res_c = rg_stream_end(req);
}

/* Reads past the file's end: it ends early. */
static void h_short(struct rg_request *req, void *data)
{
	(void)data;
	int64_t len = q(req, "len", 0);
	res_a = rg_stream_begin(req, 200, NULL, len);
	res_b = rg_stream_file(req, file_fd, FILE_SIZE - len / 2, len);
	res_c = rg_stream_end(req);
}

/* The server's own messages (why its io backend failed, say), on
 * cmocka's stream so that they stay in order with its lines. */
static void on_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level <= RG_LOG_WARN)
		print_message("server: %s\n", msg);
}

static int start(enum rg_io_backend io)
{
	struct rg_server_config cfg;
	thread_server_config(&cfg, io);
	cfg.write_timeout_ms = 5000;
	cfg.log = on_log;
	server = rg_server_create(&cfg);
	if (!server)
		return errno ? -errno : -ENOMEM;
	rg_route(server, "GET", "/range", h_range, NULL);
	rg_route(server, "GET", "/mixed", h_mixed, NULL);
	rg_route(server, "GET", "/stream", h_stream, NULL);
	rg_route(server, "GET", "/over", h_over, NULL);
	rg_route(server, "GET", "/short", h_short, NULL);
	/* Until the loop runs or the run fails (its io backend, say). */
	int err = thread_server_start(server);
	if (err < 0)
		server = NULL;
	else
		port = rg_server_port(server);
	return err;
}

/* The test fails or skips when no server started, saying why. */
static int setup(void **state, enum rg_io_backend io)
{
	int err = start(io);
	*state = err < 0 ? NULL : server;
	if (err < 0) {
		must_fail = io != RG_IO_URING ||
			    !uring_unavailable(why_not, sizeof(why_not));
		if (must_fail)
			snprintf(why_not, sizeof(why_not),
				 "%s server not started: %s",
				 io == RG_IO_URING ? "io_uring" : "epoll",
				 strerror(-err));
	}
	return 0;
}

static int setup_uring(void **state)
{
	return setup(state, RG_IO_URING);
}

static int setup_epoll(void **state)
{
	return setup(state, RG_IO_EPOLL);
}

static int teardown(void **state)
{
	if (!*state)
		return 0;
	thread_server_stop(server);
	server = NULL;
	return 0;
}

/* ------------------------------------------------------------------------
 * Client
 * ------------------------------------------------------------------------ */

static int client(void)
{
	return thread_server_connect(port);
}

/* Everything until the server closes (or 10 s pass). */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (cap - n < 65536)
			buf = realloc(buf, cap *= 2);
		ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Sends `req` and returns what came until close, the head cut off (in
 * *head, NUL-terminated). */
static char *exchange(const char *req, char **head, size_t *body_len)
{
	int fd = client();
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL),
			 (ssize_t)strlen(req));
	size_t n;
	char *all = read_all(fd, &n);
	close(fd);
	char *end = strstr(all, "\r\n\r\n");
	assert_non_null(end);
	*head = strndup(all, (size_t)(end - all) + 2);
	size_t hl = (size_t)(end + 4 - all);
	*body_len = n - hl;
	memmove(all, all + hl, *body_len);
	return all;
}

static void need(void **state)
{
	if (!*state) {
		if (must_fail)
			fail_msg("%s", why_not);
		print_message("SKIP: %s\n", why_not);
		skip();
	}
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

static void lengths(void **state)
{
	need(state);
	static const struct {
		uint32_t off, len;
	} cases[] = {
	    {0, 0},
	    {0, 1},
	    {5, 100},
	    {0, 8192},
	    {1, 8193},
	    {100, 16384},
	    {7, 70000},
	    {0, FILE_SIZE},
	    {FILE_SIZE - 1, 1},
	    {12345, FILE_SIZE - 12345},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char req[256], *head;
		size_t n;
		snprintf(req, sizeof(req),
			 "GET /range?off=%u&len=%u HTTP/1.1\r\nHost: x\r\n"
			 "Connection: close\r\n\r\n",
			 cases[i].off, cases[i].len);
		char *body = exchange(req, &head, &n);
		char cl[64];
		snprintf(cl, sizeof(cl), "Content-Length: %u\r\n",
			 cases[i].len);
		assert_non_null(strstr(head, cl));
		assert_int_equal(n, cases[i].len);
		assert_memory_equal(body, content + cases[i].off, n);
		assert_int_equal(res_a, 0);
		assert_int_equal(res_b, 0);
		assert_int_equal(res_c, 0);
		free(body);
		free(head);
	}
}

/* Several responses on one connection, small and large alternating, sent
 * in one write: each follows the last in order. */
static void pipelined(void **state)
{
	need(state);
	static const uint32_t lens[] = {10, 300000, 5, 9000, 1 << 20, 1};
	char req[4096] = "";
	size_t total = 0;
	for (size_t i = 0; i < 6; i++) {
		char one[256];
		snprintf(
		    one, sizeof(one),
		    "GET /range?off=%zu&len=%u HTTP/1.1\r\nHost: x\r\n%s\r\n",
		    i, lens[i], i == 5 ? "Connection: close\r\n" : "");
		strcat(req, one);
		total += lens[i];
	}
	int fd = client();
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	size_t n;
	char *all = read_all(fd, &n);
	close(fd);
	char *p = all;
	for (size_t i = 0; i < 6; i++) {
		char *end = strstr(p, "\r\n\r\n");
		assert_non_null(end);
		char cl[64];
		snprintf(cl, sizeof(cl), "Content-Length: %u\r\n", lens[i]);
		assert_non_null(strstr(p, cl));
		assert_true(strstr(p, cl) < end);
		p = end + 4;
		assert_true((size_t)(all + n - p) >= lens[i]);
		assert_memory_equal(p, content + i, lens[i]);
		p += lens[i];
	}
	assert_ptr_equal(p, all + n);
	free(all);
	(void)total;
}

static void mixed_with_writes(void **state)
{
	need(state);
	static const uint32_t ns[] = {3, 5000, 100000};
	for (size_t i = 0; i < 3; i++) {
		char req[256], *head;
		size_t n;
		snprintf(req, sizeof(req),
			 "GET /mixed?n=%u HTTP/1.1\r\nHost: x\r\n"
			 "Connection: close\r\n\r\n",
			 ns[i]);
		char *body = exchange(req, &head, &n);
		assert_int_equal(n, 2 * ns[i] + 2);
		assert_int_equal(body[0], '<');
		assert_memory_equal(body + 1, content, 2 * ns[i]);
		assert_int_equal(body[n - 1], '>');
		assert_int_equal(res_b, 0);
		assert_int_equal(res_c, 0);
		free(body);
		free(head);
	}
}

/* One chunk per call: "<hex>\r\n" file "\r\n", then the last chunk. */
static void chunked(void **state)
{
	need(state);
	static const uint32_t ns[] = {4, 20000};
	for (size_t i = 0; i < 2; i++) {
		char req[256], *head;
		size_t n;
		snprintf(req, sizeof(req),
			 "GET /stream?n=%u HTTP/1.1\r\nHost: x\r\n"
			 "Connection: close\r\n\r\n",
			 ns[i]);
		char *body = exchange(req, &head, &n);
		assert_non_null(strstr(head, "Transfer-Encoding: chunked"));
		char line[32];
		int ll = snprintf(line, sizeof(line), "%x\r\n", ns[i]);
		size_t one = (size_t)ll + ns[i] + 2;
		assert_int_equal(n, 2 * one + 5);
		for (int k = 0; k < 2; k++) {
			char *c = body + k * one;
			assert_memory_equal(c, line, (size_t)ll);
			assert_memory_equal(c + ll, content, ns[i]);
			assert_memory_equal(c + ll + ns[i], "\r\n", 2);
		}
		assert_memory_equal(body + 2 * one, "0\r\n\r\n", 5);
		assert_int_equal(res_b, 0);
		free(body);
		free(head);
	}
	/* HTTP/1.0: the raw bytes, then the server closes. */
	char *head;
	size_t n;
	char *body =
	    exchange("GET /stream?n=50000 HTTP/1.0\r\n\r\n", &head, &n);
	assert_null(strstr(head, "Transfer-Encoding"));
	assert_int_equal(n, 100000);
	assert_memory_equal(body, content, 50000);
	assert_memory_equal(body + 50000, content, 50000);
	free(body);
	free(head);
}

static void head_and_errors(void **state)
{
	need(state);
	char *head;
	size_t n;
	/* HEAD: the length announced, nothing sent, every call 0. */
	char *body = exchange("HEAD /range?off=0&len=200000 HTTP/1.1\r\n"
			      "Host: x\r\nConnection: close\r\n\r\n",
			      &head, &n);
	assert_non_null(strstr(head, "Content-Length: 200000\r\n"));
	assert_int_equal(n, 0);
	assert_int_equal(res_b, 0);
	free(body);
	free(head);

	/* More than announced: -EINVAL, and the response goes on. */
	body = exchange("GET /over HTTP/1.1\r\nHost: x\r\nConnection: close"
			"\r\n\r\n",
			&head, &n);
	assert_int_equal(res_b, 0); /* the second call, within the length */
	assert_int_equal(n, 10);
	assert_memory_equal(body, content, 10);
	free(body);
	free(head);

	/* The file ends early: -EIO, and the connection closes although
	 * keep-alive was asked, short of the announced length. */
	static const uint32_t lens[] = {1000, 400000};
	for (int i = 0; i < 2; i++) {
		char req[128];
		snprintf(req, sizeof(req),
			 "GET /short?len=%u HTTP/1.1\r\nHost: x\r\n\r\n",
			 lens[i]);
		body = exchange(req, &head, &n);
		assert_int_equal(res_b, -EIO);
		assert_true(n < lens[i]);
		assert_memory_equal(body, content + FILE_SIZE - lens[i] / 2, n);
		free(body);
		free(head);
	}
}

/* A client that leaves in the middle of a large file. */
static void client_gone(void **state)
{
	need(state);
	res_b = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	char req[128];
	snprintf(req, sizeof(req),
		 "GET /range?off=0&len=%u HTTP/1.1\r\nHost: x\r\n\r\n",
		 FILE_SIZE);
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	char buf[1000];
	assert_true(recv(fd, buf, sizeof(buf), 0) > 0);
	usleep(100000);
	struct linger lg = {1, 0}; /* a reset */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	for (int i = 0; i < 200 && res_b == 1; i++)
		usleep(10000);
	assert_int_equal(res_b, -ECONNRESET);
	/* The server goes on. */
	char *head;
	size_t n;
	char *body = exchange("GET /range?off=0&len=70000 HTTP/1.1\r\nHost: x"
			      "\r\nConnection: close\r\n\r\n",
			      &head, &n);
	assert_int_equal(n, 70000);
	free(body);
	free(head);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	int tmp = mkstemp(path);
	if (tmp < 0)
		return 1;
	content = malloc(FILE_SIZE);
	for (uint32_t i = 0; i < FILE_SIZE; i++)
		content[i] = (char)(i * 2654435761u >> 13);
	if (write(tmp, content, FILE_SIZE) != (ssize_t)FILE_SIZE)
		return 1;
	close(tmp);
	file_fd = open(path, O_RDONLY | O_CLOEXEC);
#define BOTH(fn)                                                               \
	cmocka_unit_test_setup_teardown(fn, setup_uring, teardown),            \
	    cmocka_unit_test_setup_teardown(fn, setup_epoll, teardown)
	const struct CMUnitTest tests[] = {
	    BOTH(lengths), BOTH(pipelined),	  BOTH(mixed_with_writes),
	    BOTH(chunked), BOTH(head_and_errors), BOTH(client_gone),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	close(file_fd);
	unlink(path);
	free(content);
	return failed;
}
