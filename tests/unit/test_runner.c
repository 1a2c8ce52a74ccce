/* test_runner.c: the server runs handlers through rg_server_config.runner
 * and nothing else: a runner of the test's own (counting each call, on
 * the library's coroutines underneath) serves requests whose handlers
 * suspend (rg_sleep) and return, every start, suspend and resume goes
 * through it, and a runner that cannot start a task gets 503. One
 * in-process server on loopback (epoll: the runner does not depend on the
 * io backend). */
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
	server = rg_server_create(&cfg);
	assert_non_null(server);
	assert_int_equal(rg_route(server, "GET", "/sleep", h_sleep, NULL), 0);
	assert_int_equal(rg_route(server, "GET", "/plain", h_plain, NULL), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(handlers_run_on_the_runner),
	    cmocka_unit_test(a_task_refused_is_503),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
