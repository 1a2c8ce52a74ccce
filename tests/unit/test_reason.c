/* test_reason.c: rg_reason_set, the status line's phrase of a handler's
 * own, on a server run on a thread: what it refuses (empty, too long,
 * control characters), and that what it takes is on the wire, for a
 * response whole and streamed, and gone by the next request on the same
 * connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ringlet.h"
#include "server.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static struct rg_server *server;

/* /bad: every refused phrase, then the response names those that were
 * not refused (none, when all is well). */
static void h_bad(struct rg_request *req, void *data)
{
	(void)data;
	char long_one[258];
	memset(long_one, 'x', sizeof(long_one) - 1);
	long_one[sizeof(long_one) - 1] = '\0';
	const char *bad[] = {"", long_one, "a\r\nX-Injected: 1", "a\nb",
			     "bell\a", "del\x7f"};
	char body[256] = "";
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (rg_reason_set(req, bad[i]) != -EINVAL)
			snprintf(body + strlen(body),
				 sizeof(body) - strlen(body), "%zu ", i);
	rg_respond(req, 200, "text/plain", body, strlen(body));
}

static void h_own(struct rg_request *req, void *data)
{
	(void)data;
	char phrase[257];
	memset(phrase, 'y', 256);
	phrase[256] = '\0';
	const char *q = rg_query(req).len ? phrase : "Fine\tand \xe9l\xe9gant";
	if (rg_reason_set(req, q) < 0)
		rg_respond(req, 500, NULL, NULL, 0);
	else if (rg_query(req).len)
		rg_respond(req, 299, "text/plain", "long", 4);
	else if (rg_stream_begin(req, 201, "text/plain", RG_LENGTH_UNKNOWN) ==
		 0)
		rg_stream_write(req, "streamed", 8);
}

static void h_plain(struct rg_request *req, void *data)
{
	(void)data;
	rg_respond(req, 200, "text/plain", "plain", 5);
}

static int setup(void **state)
{
	(void)state;
	struct rg_server_config cfg;
	thread_server_config(&cfg, RG_IO_EPOLL);
	server = rg_server_create(&cfg);
	assert_non_null(server);
	assert_int_equal(rg_route(server, "GET", "/bad", h_bad, NULL), 0);
	assert_int_equal(rg_route(server, "GET", "/own", h_own, NULL), 0);
	assert_int_equal(rg_route(server, "GET", "/plain", h_plain, NULL), 0);
	return thread_server_start(server);
}

static int teardown(void **state)
{
	(void)state;
	thread_server_stop(server);
	return 0;
}

/* More bytes into buf[*got, cap - 1), NUL-terminated; fails the test
 * after 5 s without any or at the end of the stream. */
static void more(int fd, char *buf, size_t *got, size_t cap)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 5000), 1);
	ssize_t r = read(fd, buf + *got, cap - 1 - *got);
	assert_true(r > 0);
	*got += (size_t)r;
	buf[*got] = '\0';
}

/* Sends `req` on `fd` and reads one response: its status line, CRLF
 * dropped, into line; its body into body. */
static void exchange(int fd, const char *req, char *line, size_t cap,
		     char *body, size_t body_cap)
{
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	char buf[2048];
	size_t got = 0;
	char *end = NULL;
	while (!end) {
		more(fd, buf, &got, sizeof(buf));
		end = strstr(buf, "\r\n\r\n");
	}
	char *eol = strstr(buf, "\r\n");
	snprintf(line, cap, "%.*s", (int)(eol - buf), buf);
	/* The bodies here are short: whole in what came with the head, or
	 * for the streamed one, its single chunk and the last one. */
	while (!strstr(end, "0\r\n\r\n") && !strstr(buf, "Content-Length"))
		more(fd, buf, &got, sizeof(buf));
	snprintf(body, body_cap, "%s", end + 4);
}

static void refused(void **state)
{
	(void)state;
	int fd = thread_server_connect(rg_server_port(server));
	char line[512], body[512];
	exchange(fd, "GET /bad HTTP/1.1\r\nHost: t\r\n\r\n", line,
		 sizeof(line), body, sizeof(body));
	assert_string_equal(line, "HTTP/1.1 200 OK");
	assert_string_equal(body, "");
	close(fd);
}

static void on_the_wire(void **state)
{
	(void)state;
	int fd = thread_server_connect(rg_server_port(server));
	char line[512], body[512];
	exchange(fd, "GET /own HTTP/1.1\r\nHost: t\r\n\r\n", line,
		 sizeof(line), body, sizeof(body));
	assert_string_equal(line, "HTTP/1.1 201 Fine\tand \xe9l\xe9gant");
	assert_string_equal(body, "8\r\nstreamed\r\n0\r\n\r\n");
	/* The next request on the connection has the standard phrase. */
	exchange(fd, "GET /plain HTTP/1.1\r\nHost: t\r\n\r\n", line,
		 sizeof(line), body, sizeof(body));
	assert_string_equal(line, "HTTP/1.1 200 OK");
	assert_string_equal(body, "plain");
	/* The longest phrase taken, on a code without one of its own. */
	exchange(fd, "GET /own?long HTTP/1.1\r\nHost: t\r\n\r\n", line,
		 sizeof(line), body, sizeof(body));
	char want[300] = "HTTP/1.1 299 ";
	memset(want + strlen(want), 'y', 256);
	assert_string_equal(line, want);
	assert_string_equal(body, "long");
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(refused),
	    cmocka_unit_test(on_the_wire),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
