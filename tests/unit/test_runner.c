/* test_runner.c: the server runs handlers through rg_server_config.runner
 * and nothing else: a runner of the test's own (counting each call, on
 * the library's coroutines underneath) serves requests whose handlers
 * suspend (rg_sleep) and return, every start, suspend and resume goes
 * through it, and a runner that cannot start a task gets 503. Routes of
 * rg_route_inline take no task unless their body is still to come; their
 * calls that would wait are refused (-EWOULDBLOCK, logged, 500 if the
 * handler does not answer) and the connection goes on. One in-process
 * server on loopback (epoll: the runner does not depend on the io
 * backend). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/coro.h"
#include "ringlet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The test's runner: the library's coroutines, counted. */
struct counting {
	struct rg_runner inner;
	atomic_int starts, suspends, resumes;
	bool refuse; /* start fails: -EAGAIN */
};

static int c_start(void *ctx, void (*fn)(void *), void *arg)
{
	struct counting *c = ctx;
	if (c->refuse)
		return -EAGAIN;
	c->starts++;
	return c->inner.start(c->inner.ctx, fn, arg);
}
static void *c_self(void *ctx)
{
	struct counting *c = ctx;
	return c->inner.self(c->inner.ctx);
}
static void c_suspend(void *ctx)
{
	struct counting *c = ctx;
	c->suspends++;
	c->inner.suspend(c->inner.ctx);
}
static void c_resume(void *ctx, void *task)
{
	struct counting *c = ctx;
	c->resumes++;
	c->inner.resume(c->inner.ctx, task);
}
static unsigned long c_live(void *ctx)
{
	struct counting *c = ctx;
	return c->inner.live(c->inner.ctx);
}

static struct counting counting;
static struct rg__coro_sched sched;
static struct rg_pool *stacks;
static struct rg_server *server;
static pthread_t thread;
static atomic_int ready;

static void h_sleep(struct rg_request *req, void *data)
{
	(void)data;
	int a = rg_sleep(5), b = rg_sleep(5); /* two suspensions */
	rg_respond(req, a || b ? 500 : 200, "text/plain", "slept", 5);
}

static void h_plain(struct rg_request *req, void *data)
{
	(void)data;
	rg_respond(req, 200, "text/plain", "plain", 5);
}

/* The inline handlers: what their refused calls returned. */
static atomic_int inline_err;

static void h_inline(struct rg_request *req, void *data)
{
	(void)data;
	rg_respond(req, 200, "text/plain", "inline", 6);
}

/* Sleeps, which it cannot; with data, answers what the sleep returned. */
static void h_inline_sleep(struct rg_request *req, void *data)
{
	int err = rg_sleep(5);
	inline_err = err;
	if (data) {
		char b[16];
		int n = snprintf(b, sizeof(b), "%d", err);
		rg_respond(req, 200, "text/plain", b, (size_t)n);
	}
}

/* A response larger than the output buffer: written piece by piece,
 * suspending, so refused whole. */
static void h_inline_big(struct rg_request *req, void *data)
{
	(void)data;
	static char body[20000];
	inline_err = rg_respond(req, 200, "text/plain", body, sizeof(body));
}

/* 1 KiB: 64 of them pipelined fill the output buffer four times. */
static void h_inline_kib(struct rg_request *req, void *data)
{
	(void)data;
	static char body[1024];
	memset(body, 'k', sizeof(body));
	rg_respond(req, 200, "text/plain", body, sizeof(body));
}

/* Chunks until the buffer is full: cut short when the write would wait. */
static void h_inline_stream(struct rg_request *req, void *data)
{
	(void)data;
	static char piece[4096];
	memset(piece, 's', sizeof(piece));
	int err = rg_stream_begin(req, 200, "text/plain", -1);
	for (int i = 0; !err && i < 8; i++)
		err = rg_stream_write(req, piece, sizeof(piece));
	inline_err = err;
}

static void h_inline_echo(struct rg_request *req, void *data)
{
	(void)data;
	char b[64];
	long n = rg_body_read(req, b, sizeof(b));
	if (n < 0)
		rg_respond(req, 500, NULL, NULL, 0);
	else
		rg_respond(req, 200, "text/plain", b, (size_t)n);
}

/* The server's last error message. */
static char last_error[512];

static void on_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level == RG_LOG_ERROR)
		snprintf(last_error, sizeof(last_error), "%s", msg);
}

static void on_ready(void *arg)
{
	(void)arg;
	ready = 1;
}

static void *run(void *arg)
{
	(void)arg;
	int err = rg_server_run(server);
	if (err < 0) {
		fprintf(stderr, "rg_server_run: %s\n", strerror(-err));
		ready = -1;
	}
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	struct rg_pool_config pc = {.object_size = 65536,
				    .initial = 4,
				    .grow_by = 4,
				    .max = 64,
				    .guard_pages = 1};
	stacks = rg_pool_create(&pc, NULL);
	assert_non_null(stacks);
	assert_int_equal(rg__coro_sched_init(&sched, stacks), 0);
	rg__coro_runner(&counting.inner, &sched);
	struct rg_runner runner = {c_start,  c_self, c_suspend,
				   c_resume, c_live, &counting};
	struct rg_server_config cfg;
	rg_server_config_init(&cfg);
	cfg.host = "127.0.0.1";
	cfg.port = 0;
	cfg.io_backend = RG_IO_EPOLL;
	cfg.ready = on_ready;
	cfg.runner = &runner; /* copied: may go out of scope */
	cfg.log = on_log;
	server = rg_server_create(&cfg);
	assert_non_null(server);
	assert_int_equal(rg_route(server, "GET", "/sleep", h_sleep, NULL), 0);
	assert_int_equal(rg_route(server, "GET", "/plain", h_plain, NULL), 0);
	static const struct {
		const char *method, *path;
		rg_handler *h;
		void *data;
	} inl[] = {
	    {"GET", "/inline", h_inline, NULL},
	    {"GET", "/inline/sleep", h_inline_sleep, NULL},
	    {"GET", "/inline/sleep-answer", h_inline_sleep, (void *)1},
	    {"GET", "/inline/big", h_inline_big, NULL},
	    {"GET", "/inline/kib", h_inline_kib, NULL},
	    {"GET", "/inline/stream", h_inline_stream, NULL},
	    {"POST", "/inline/echo", h_inline_echo, NULL},
	};
	for (size_t i = 0; i < sizeof(inl) / sizeof(inl[0]); i++)
		assert_int_equal(rg_route_inline(server, inl[i].method,
						 inl[i].path, inl[i].h,
						 inl[i].data),
				 0);
	assert_int_equal(rg_server_listen(server), 0);
	assert_int_equal(pthread_create(&thread, NULL, run, NULL), 0);
	while (!ready)
		usleep(1000);
	return ready < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	rg_server_stop(server);
	pthread_join(thread, NULL);
	rg_server_destroy(server);
	rg_pool_destroy(stacks);
	return 0;
}

/* One request on a new connection: the status of the response. */
static int get(const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(rg_server_port(server))};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	char req[128], resp[512];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
			 "\r\n",
			 path);
	assert_int_equal(write(fd, req, (size_t)n), n);
	size_t got = 0;
	ssize_t r;
	while (got < sizeof(resp) - 1 &&
	       (r = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
		got += (size_t)r;
	close(fd);
	resp[got] = '\0';
	int status = 0;
	sscanf(resp, "HTTP/1.1 %d", &status);
	return status;
}

static void handlers_run_on_the_runner(void **state)
{
	(void)state;
	assert_int_equal(get("/plain"), 200);
	assert_int_equal(counting.starts, 1);
	assert_int_equal(counting.suspends, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(get("/sleep"), 200);
	assert_int_equal(counting.starts, 4);
	/* Two waits each: every suspension went through the runner, and
	 * each was resumed by it. */
	assert_int_equal(counting.suspends, 6);
	assert_int_equal(counting.resumes, 6);
	assert_int_equal(sched.live, 0);
}

static void a_task_refused_is_503(void **state)
{
	(void)state;
	counting.refuse = true;
	assert_int_equal(get("/plain"), 503);
	counting.refuse = false;
	assert_int_equal(get("/plain"), 200);
}

/* Sends `raw` (in two writes, `pause_ms` apart, when `split`), then reads
 * until the server closes: the bytes in resp (NUL-terminated). */
static size_t exchange(const char *raw, size_t split, int pause_ms, char *resp,
		       size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(rg_server_port(server))};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	size_t n = strlen(raw), first = split ? split : n;
	assert_int_equal(write(fd, raw, first), (ssize_t)first);
	if (first < n) {
		usleep((useconds_t)pause_ms * 1000);
		assert_int_equal(write(fd, raw + first, n - first),
				 (ssize_t)(n - first));
	}
	size_t got = 0;
	ssize_t r;
	while (got < cap - 1 && (r = read(fd, resp + got, cap - 1 - got)) > 0)
		got += (size_t)r;
	close(fd);
	resp[got] = '\0';
	return got;
}

static int count(const char *s, const char *what)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

#define CLOSE_GET(path)                                                        \
	"GET " path " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
#define KEEP_GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\n\r\n"

static void inline_routes_take_no_task(void **state)
{
	(void)state;
	int starts = counting.starts;
	char resp[1024];
	exchange(CLOSE_GET("/inline"), 0, 0, resp, sizeof(resp));
	assert_non_null(strstr(resp, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(resp, "\r\n\r\ninline"));
	assert_int_equal(counting.starts, starts);
	/* Routed with rg_route, the same server still starts a task. */
	assert_int_equal(get("/plain"), 200);
	assert_int_equal(counting.starts, starts + 1);
}

static void an_inline_wait_is_refused(void **state)
{
	(void)state;
	int starts = counting.starts;
	last_error[0] = '\0';
	char resp[1024];
	/* No answer after the refusal: 500, and the connection goes on. */
	exchange(KEEP_GET("/inline/sleep") CLOSE_GET("/inline"), 0, 0, resp,
		 sizeof(resp));
	assert_int_equal(inline_err, -EWOULDBLOCK);
	assert_true(strncmp(resp, "HTTP/1.1 500 ", 13) == 0);
	assert_non_null(strstr(resp, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(last_error, "GET /inline/sleep: its handler, "
					   "routed inline"));
	/* An answer after it is the handler's. */
	inline_err = 0;
	exchange(CLOSE_GET("/inline/sleep-answer"), 0, 0, resp, sizeof(resp));
	assert_int_equal(inline_err, -EWOULDBLOCK);
	assert_true(strncmp(resp, "HTTP/1.1 200 ", 13) == 0);
	char want[32];
	snprintf(want, sizeof(want), "\r\n\r\n%d", -EWOULDBLOCK);
	assert_non_null(strstr(resp, want));
	assert_int_equal(counting.starts, starts);
	assert_int_equal(sched.live, 0);
}

static void an_inline_response_too_big_is_500(void **state)
{
	(void)state;
	char resp[1024];
	inline_err = 0;
	exchange(KEEP_GET("/inline/big") CLOSE_GET("/inline"), 0, 0, resp,
		 sizeof(resp));
	assert_int_equal(inline_err, -EWOULDBLOCK);
	assert_true(strncmp(resp, "HTTP/1.1 500 ", 13) == 0);
	assert_non_null(strstr(resp, "Content-Length: 0\r\n"));
	assert_non_null(strstr(resp, "\r\n\r\ninline"));
	assert_int_equal(count(resp, "HTTP/1.1 "), 2);
}

/* 64 responses of 1 KiB pipelined in one write: four output buffers'
 * worth, each inline handler started with half a buffer free. */
static void inline_responses_pipelined(void **state)
{
	(void)state;
	static char raw[64 * 64], resp[64 * 1200];
	size_t n = 0;
	for (int i = 0; i < 63; i++)
		n += (size_t)snprintf(raw + n, sizeof(raw) - n, "%s",
				      KEEP_GET("/inline/kib"));
	snprintf(raw + n, sizeof(raw) - n, "%s", CLOSE_GET("/inline/kib"));
	int starts = counting.starts;
	size_t got = exchange(raw, 0, 0, resp, sizeof(resp));
	assert_int_equal(count(resp, "HTTP/1.1 200 OK\r\n"), 64);
	assert_int_equal(count(resp, "Content-Length: 1024\r\n"), 64);
	assert_true(got > 64 * 1024);
	assert_int_equal(counting.starts, starts);
}

/* A stream write that would wait: the stream is cut (no last chunk) and
 * the connection closed, as when a handler fails midway. */
static void an_inline_stream_is_cut(void **state)
{
	(void)state;
	static char resp[64 * 1024];
	inline_err = 0;
	size_t got = exchange(KEEP_GET("/inline/stream") CLOSE_GET("/inline"),
			      0, 0, resp, sizeof(resp));
	assert_int_equal(inline_err, -EWOULDBLOCK);
	assert_true(strncmp(resp, "HTTP/1.1 200 ", 13) == 0);
	assert_non_null(strstr(resp, "Transfer-Encoding: chunked\r\n"));
	assert_true(got > 4096 && got < 16384);
	assert_null(strstr(resp, "\r\n0\r\n\r\n"));
	assert_int_equal(count(resp, "HTTP/1.1 "), 1); /* not the second */
}

/* A body already received is read inline; one still to come takes a
 * task, which waits for it. */
static void inline_post_bodies(void **state)
{
	(void)state;
	const char *raw = "POST /inline/echo HTTP/1.1\r\nHost: t\r\n"
			  "Content-Length: 5\r\nConnection: close\r\n\r\n"
			  "hello";
	char resp[1024];
	int starts = counting.starts;
	exchange(raw, 0, 0, resp, sizeof(resp));
	assert_true(strncmp(resp, "HTTP/1.1 200 ", 13) == 0);
	assert_non_null(strstr(resp, "\r\n\r\nhello"));
	assert_int_equal(counting.starts, starts);
	exchange(raw, strlen(raw) - 5, 50, resp, sizeof(resp));
	assert_true(strncmp(resp, "HTTP/1.1 200 ", 13) == 0);
	assert_non_null(strstr(resp, "\r\n\r\nhello"));
	assert_int_equal(counting.starts, starts + 1);
	assert_int_equal(counting.suspends, counting.resumes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(handlers_run_on_the_runner),
	    cmocka_unit_test(a_task_refused_is_503),
	    cmocka_unit_test(inline_routes_take_no_task),
	    cmocka_unit_test(an_inline_wait_is_refused),
	    cmocka_unit_test(an_inline_response_too_big_is_500),
	    cmocka_unit_test(inline_responses_pipelined),
	    cmocka_unit_test(an_inline_stream_is_cut),
	    cmocka_unit_test(inline_post_bodies),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
