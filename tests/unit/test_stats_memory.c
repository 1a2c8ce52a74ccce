/* test_stats_memory.c: the memory dump and the history (src/core/
 * stats_dump.c, stats_history.c). The history ring keeps the last 60
 * samples oldest first and its growth rate is the slope of a line through
 * them; the board's history, sampled as the master does, is the same in
 * every worker's /stats, and keeps the requests of a worker gone. Against
 * a server run in this process on a board: GET /stats?detail=memory lists
 * every pool and slab class with figures that agree with each other (the
 * touched bound is min(high water, mapped) x object size, within what is
 * reserved; the
 * arena histogram counts every request), an unknown detail is 400, the
 * dump the master writes on SIGUSR2 has a line per pool and class, and
 * neither document calls the allocator (counted by this program's own
 * malloc; under ASan, which owns malloc, that test skips, saying so). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../http/json.h"
#include "core/server.h"
#include "core/stats.h"
#include "ringlet.h"
#include "server.h"

#include "heap_count.h"

/* ------------------------------------------------------------------------
 * The history ring
 * ------------------------------------------------------------------------ */

#define OFF(f) offsetof(struct rg__stats_sample, f)

static void test_ring_keeps_the_last_60(void **state)
{
	(void)state;
	static struct rg__stats_history h;
	static struct rg__stats_sample out[RG__HISTORY_SAMPLES];
	assert_int_equal(rg__history_read(&h, out), 0);
	for (unsigned i = 0; i < 3; i++) {
		struct rg__stats_sample s = {.mono_ms = i * 10000, .rss = i};
		rg__history_push(&h, &s);
	}
	assert_int_equal(rg__history_read(&h, out), 3);
	assert_int_equal(out[0].rss, 0);
	assert_int_equal(out[2].rss, 2);
	/* Past 60, the oldest go; the copy is oldest first across the
	 * ring's end. */
	for (unsigned i = 3; i < 75; i++) {
		struct rg__stats_sample s = {.mono_ms = i * 10000, .rss = i};
		rg__history_push(&h, &s);
	}
	assert_int_equal(rg__history_read(&h, out), RG__HISTORY_SAMPLES);
	for (unsigned i = 0; i < RG__HISTORY_SAMPLES; i++)
		assert_int_equal(out[i].rss, 15 + i);
	assert_int_equal(atomic_load(&h.seq) & 1, 0);
}

static void test_slope(void **state)
{
	(void)state;
	struct rg__stats_sample s[RG__HISTORY_SAMPLES] = {{0}};
	double v = -1;
	/* One sample, or two at the same time: no rate. */
	assert_false(rg__history_slope(s, 1, OFF(rss), &v));
	assert_true(v == 0);
	assert_false(rg__history_slope(s, 2, OFF(rss), &v));
	/* 1 MiB every 10 s: 6 MiB a minute, whatever the noise around the
	 * line (+-4 kB, alternating). */
	for (unsigned i = 0; i < RG__HISTORY_SAMPLES; i++) {
		s[i].mono_ms = 5000 + (int64_t)i * 10000;
		s[i].rss =
		    100000000 + (uint64_t)i * 1048576 + (i & 1 ? 4096 : 0);
		s[i].reserved = 5000000;
	}
	assert_true(rg__history_slope(s, RG__HISTORY_SAMPLES, OFF(rss), &v));
	assert_true(v > 6 * 1048576.0 - 100 && v < 6 * 1048576.0 + 100);
	assert_true(
	    rg__history_slope(s, RG__HISTORY_SAMPLES, OFF(reserved), &v));
	assert_true(v > -1e-6 && v < 1e-6);
	/* Going down is negative. */
	for (unsigned i = 0; i < 10; i++)
		s[i].tier[RG__TIER_SLAB] = 1000000 - i * 60000;
	assert_true(rg__history_slope(
	    s, 10, OFF(tier) + RG__TIER_SLAB * sizeof(uint64_t), &v));
	assert_true(v > -360000.5 && v < -359999.5);
}

/* The members `key` of the object at `path` ("a.b"), or NULL. */
static const struct json *at(const struct json *j, const char *a, const char *b)
{
	const struct json *v = json_get(j, a);
	return b ? json_get(v, b) : v;
}

/* Two workers on a board, sampled as the master does: each one's /stats
 * shows the same history, sums of both, and requests that never go down
 * when a worker goes. */
static void test_board_history(void **state)
{
	(void)state;
	struct rg_stats_board *b = rg_stats_board_create(4);
	assert_non_null(b);
	struct rg_server *s0 = board_server(b, 0, NULL),
			 *s1 = board_server(b, 1, NULL);
	s0->w.stats.requests = 5;
	s1->w.stats.requests = 7;
	rg__stats_publish(&s0->w);
	rg__stats_publish(&s1->w);
	/* Slots past the last published are not read. */
	assert_int_equal(rg__stats_board_slots(b), 2);
	rg__stats_board_sample(b, 1000, 1700000000);
	rg__stats_board_sample(b, 11000, 1700000010);
	static char buf0[65536], buf1[65536];
	rg_server_stats_json(s0, buf0, sizeof(buf0));
	rg_server_stats_json(s1, buf1, sizeof(buf1));
	struct json *j0 = json_parse(buf0, strlen(buf0));
	struct json *j1 = json_parse(buf1, strlen(buf1));
	assert_non_null(j0);
	assert_non_null(j1);
	const struct json *h0 = json_get(j0, "history"),
			  *h1 = json_get(j1, "history");
	assert_non_null(h0);
	assert_true(json_equal(h0, h1));
	assert_true(json_equal(json_get(j0, "growth"), json_get(j1, "growth")));
	assert_int_equal(at(h0, "interval_s", NULL)->num, 10);
	assert_int_equal(at(h0, "capacity", NULL)->num, 60);
	const struct json *smp = json_get(h0, "samples");
	assert_int_equal(smp->type, JSON_ARR);
	assert_int_equal(smp->len, 2);
	const struct json *last = &smp->item[1];
	assert_int_equal(json_get(last, "t")->num, 1700000010);
	assert_int_equal(json_get(last, "workers")->num, 2);
	assert_int_equal(json_get(last, "requests")->num, 12);
	assert_true(json_get(last, "rss")->num > 0);
	/* The tiers add up to what is reserved. */
	const struct json *tiers = json_get(last, "tiers");
	double sum = 0;
	for (unsigned t = 0; t < RG__TIERS; t++)
		sum += json_get(tiers, rg__tier_names[t])->num;
	assert_true(sum == json_get(last, "reserved")->num);
	const struct json *g = json_get(j0, "growth");
	assert_int_equal(json_get(g, "window_s")->num, 10);
	assert_int_equal(json_get(g, "rss_bytes_per_min")->type, JSON_NUM);
	assert_int_equal(json_get(g, "reserved_bytes_per_min")->num, 0);
	assert_int_equal(at(g, "tiers_bytes_per_min", "arena")->type, JSON_NUM);
	assert_true(json_get(g, "requests_per_s")->num == 0);
	json_free(j0);
	json_free(j1);

	/* Worker 1 goes (the master retires its slot): its 7 requests stay
	 * in the count; its memory leaves the sums. */
	rg__stats_board_retire(b, 1);
	s0->w.stats.requests = 8;
	rg__stats_publish(&s0->w);
	rg__stats_board_sample(b, 21000, 1700000020);
	static struct rg__stats_sample out[RG__HISTORY_SAMPLES];
	unsigned n = rg__history_read(rg__stats_board_history(b), out);
	assert_int_equal(n, 3);
	assert_int_equal(out[2].workers, 1);
	assert_int_equal(out[2].requests, 15);
	assert_true(out[2].requests >= out[1].requests);
	rg_server_stats_json(s0, buf0, sizeof(buf0));
	j0 = json_parse(buf0, strlen(buf0));
	assert_non_null(j0);
	assert_true(at(j0, "growth", "requests_per_s")->num == 0.15);
	assert_int_equal(json_get(j0, "worker_count")->num, 1);
	json_free(j0);
	rg_server_destroy(s0);
	rg_server_destroy(s1);
	rg_stats_board_destroy(b);
}

/* Without a board (no master): the members are there, empty. */
static void test_no_board_history(void **state)
{
	(void)state;
	struct rg_server *s = board_server(NULL, 0, NULL);
	static char buf[65536];
	rg_server_stats_json(s, buf, sizeof(buf));
	struct json *j = json_parse(buf, strlen(buf));
	assert_non_null(j);
	assert_int_equal(at(j, "history", "samples")->len, 0);
	assert_int_equal(at(j, "growth", "rss_bytes_per_min")->type, JSON_NULL);
	assert_non_null(at(j, "memory", "tiers"));
	json_free(j);
	/* The dump is this worker alone. */
	size_t len = rg_server_memory_json(s, buf, sizeof(buf));
	assert_true(len < sizeof(buf));
	j = json_parse(buf, len);
	assert_non_null(j);
	assert_int_equal(json_get(j, "worker_count")->num, 1);
	assert_int_equal(json_get(&json_get(j, "workers")->item[0], "pid")->num,
			 getpid());
	json_free(j);
	rg_server_destroy(s);
}

/* ------------------------------------------------------------------------
 * A server run in this process on a board (epoll: no kernel feature)
 * ------------------------------------------------------------------------ */

static struct rg_stats_board *board;
static struct rg_server *server;
static uint16_t port;
static unsigned long calls_stats;

static void h_hello(struct rg_request *req, void *data)
{
	(void)data;
	rg_respond(req, 200, "text/plain", "hi", 2);
}

/* The library's handler, counted from its start to its return. */
static void h_stats(struct rg_request *req, void *data)
{
	unsigned long before = atomic_load(&heap_calls);
	counting = true;
	rg_stats_handler(req, data);
	counting = false;
	calls_stats += atomic_load(&heap_calls) - before;
}

static int setup_server(void **state)
{
	(void)state;
	board = rg_stats_board_create(2);
	if (!board)
		return -1;
	struct rg_server_config cfg;
	thread_server_config(&cfg, RG_IO_EPOLL);
	cfg.max_connections = 64;
	cfg.stats_board = board;
	server = rg_server_create(&cfg);
	if (!server)
		return -1;
	if (rg_route(server, "GET", "/hello", h_hello, NULL) ||
	    rg_route(server, "GET", "/stats", h_stats, server))
		return -1;
	int st = thread_server_start(server);
	if (st < 0) {
		server = NULL;
		fprintf(stderr, "server not started: %s\n", strerror(-st));
		return -1;
	}
	port = rg_server_port(server);
	calls_stats = 0;
	return 0;
}

static int teardown_server(void **state)
{
	(void)state;
	thread_server_stop(server);
	server = NULL;
	rg_stats_board_destroy(board);
	board = NULL;
	return 0;
}

/* GET `path` on a connection of its own: the status, the body
 * (de-chunked, malloc'd) in *body. */
static int get(const char *path, char **body)
{
	int fd = thread_server_connect(port);
	char req[256];
	int rn = snprintf(req, sizeof(req),
			  "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			  "\r\n",
			  path);
	assert_int_equal(send(fd, req, (size_t)rn, MSG_NOSIGNAL), rn);
	size_t cap = 1 << 16, n = 0;
	char *all = malloc(cap);
	ssize_t r;
	while ((r = recv(fd, all + n, cap - n - 1, 0)) > 0)
		if ((n += (size_t)r) + 1 == cap)
			all = realloc(all, cap *= 2);
	close(fd);
	all[n] = '\0';
	char *end = strstr(all, "\r\n\r\n");
	assert_non_null(end);
	int status = atoi(all + 9);
	*body = strdup(end + 4);
	if (strstr(all, "Transfer-Encoding: chunked")) {
		size_t out = 0;
		for (char *p = end + 4;;) {
			char *e;
			unsigned long k = strtoul(p, &e, 16);
			assert_true(e != p && e[0] == '\r' && e[1] == '\n');
			if (!k)
				break;
			memcpy(*body + out, e + 2, k);
			out += k;
			p = e + 2 + k + 2;
		}
		(*body)[out] = '\0';
	}
	free(all);
	return status;
}

static double num(const struct json *o, const char *key)
{
	const struct json *v = json_get(o, key);
	if (!v || v->type != JSON_NUM)
		fail_msg("no number \"%s\"", key);
	return v->num;
}

/* A pool's figures agree with each other. */
static void check_pool(const struct json *p)
{
	double size = num(p, "object_size"), hw = num(p, "high_water");
	assert_true(size > 0);
	double mapped = num(p, "mapped");
	assert_true(num(p, "in_use") <= hw);
	assert_true(num(p, "in_use") <= mapped);
	assert_true(mapped <= num(p, "max"));
	assert_true(num(p, "bytes_touched_bound") ==
		    (hw < mapped ? hw : mapped) * size);
	assert_true(num(p, "bytes_reserved") >= num(p, "mapped") * size);
	assert_true(num(p, "bytes_touched_bound") <= num(p, "bytes_reserved"));
	assert_true(num(p, "gets") >= hw);
	assert_int_equal(json_get(p, "failures")->type, JSON_NUM);
}

static void test_memory_detail(void **state)
{
	(void)state;
	char *body;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(get("/hello", &body), 200);
		free(body);
	}
	assert_int_equal(get("/stats?detail=memory", &body), 200);
	struct json *j = json_parse(body, strlen(body));
	if (!j)
		print_message("not JSON: %.400s\n", body);
	assert_non_null(j);
	assert_string_equal(json_get(j, "detail")->str, "memory");
	assert_int_equal(num(j, "worker_count"), 1);
	const struct json *w = &json_get(j, "workers")->item[0];
	assert_int_equal(num(w, "pid"), getpid());
	assert_true(num(w, "rss") > 0);
	const struct json *pools = json_get(w, "pools");
	assert_int_equal(pools->len, 3);
	static const char *const names[] = {"connections", "coroutine_stacks",
					    "arena_blocks"};
	double touched = 0, tiers = 0;
	for (size_t i = 0; i < 3; i++) {
		assert_string_equal(json_get(&pools->item[i], "name")->str,
				    names[i]);
		check_pool(&pools->item[i]);
		touched += num(&pools->item[i], "bytes_touched_bound");
	}
	/* The requests so far used a connection, a stack, a block each. */
	assert_true(num(&pools->item[0], "high_water") >= 1);
	assert_true(num(&pools->item[2], "high_water") >= 1);
	const struct json *classes = at(w, "slab", "classes");
	assert_true(classes->len >= 3);
	for (size_t i = 0; i < classes->len; i++) {
		const struct json *c = &classes->item[i];
		check_pool(c);
		assert_true(num(c, "size") == num(c, "object_size"));
		assert_true(num(c, "bytes_asked") <= num(c, "bytes_given"));
		touched += num(c, "bytes_touched_bound");
	}
	assert_true(num(w, "bytes_touched_bound") == touched);
	assert_true(num(w, "rss_outside_pools_at_least") ==
		    (num(w, "rss") > touched ? num(w, "rss") - touched : 0));
	const struct json *t = json_get(w, "tiers");
	for (unsigned i = 0; i < RG__TIERS; i++)
		tiers += num(t, rg__tier_names[i]);
	assert_true(tiers == num(w, "reserved"));
	/* The arena histogram: the four requests (this one is not complete
	 * yet), each holding its head at least. */
	const struct json *h = at(w, "arena", "bytes_per_request");
	assert_int_equal(num(h, "count"), 4);
	const struct json *bk = json_get(h, "buckets");
	assert_int_equal(bk->len, RG_STATS_ARENA_BUCKETS);
	double count = 0;
	for (size_t i = 0; i < bk->len; i++) {
		const struct json *le = json_get(&bk->item[i], "le");
		if (i + 1 < bk->len)
			assert_true(le->num == (double)(256u << i));
		else
			assert_int_equal(le->type, JSON_NULL);
		count += num(&bk->item[i], "count");
	}
	assert_true(count == 4);
	assert_true(num(&bk->item[0], "count") == 0);
	assert_true(num(h, "sum") > 4 * 256);
	assert_true(num(h, "p50_at_most") >= 512);
	assert_true(num(h, "p99_at_most") >= num(h, "p50_at_most"));
	json_free(j);
	free(body);

	/* The usual document, with a full history (sampled here as the
	 * master does, while the server reads it): more than twice the
	 * handler's buffer, streamed whole in one pass. */
	for (int i = 0; i < RG__HISTORY_SAMPLES + 5; i++)
		rg__stats_board_sample(board, (int64_t)i * 10000,
				       1700000000 + i * 10);
	assert_int_equal(get("/stats", &body), 200);
	if (strlen(body) <= 2 * 4096)
		print_message("%zu bytes\n", strlen(body));
	assert_true(strlen(body) > 2 * 4096);
	j = json_parse(body, strlen(body));
	if (!j)
		print_message("not JSON: %s\n", body);
	assert_non_null(j);
	assert_int_equal(at(j, "history", "samples")->len, RG__HISTORY_SAMPLES);
	assert_int_equal(at(j, "growth", "window_s")->num, 590);
	assert_int_equal(at(j, "growth", "rss_bytes_per_min")->type, JSON_NUM);
	json_free(j);
	free(body);
	/* A detail it does not know is refused. */
	assert_int_equal(get("/stats?detail=everything", &body), 400);
	free(body);
}

static void line_count(void *arg, const char *text)
{
	char **lines = arg;
	while (*lines)
		lines++;
	*lines = strdup(text);
}

/* What the master writes on SIGUSR2, from the same board. */
static void test_dump_lines(void **state)
{
	(void)state;
	char *body;
	assert_int_equal(get("/hello", &body), 200);
	free(body);
	assert_int_equal(get("/stats", &body), 200); /* publishes */
	free(body);
	char *lines[64] = {0};
	rg__stats_board_dump(board, line_count, lines);
	unsigned n = 0;
	while (lines[n])
		n++;
	assert_non_null(strstr(lines[0], "memory dump: 1 worker, rss "));
	char want[64];
	snprintf(want, sizeof(want), "worker 0 pid %d: rss ", (int)getpid());
	assert_non_null(strstr(lines[1], want));
	assert_non_null(strstr(lines[1], "pools touched at most "));
	assert_non_null(strstr(lines[2], "worker 0 pool connections: object "
					 "256 B, mapped "));
	assert_non_null(strstr(lines[3], "worker 0 pool coroutine_stacks: "));
	assert_non_null(strstr(lines[4], "worker 0 pool arena_blocks: object "
					 "8192 B"));
	unsigned slabs = 0;
	for (unsigned i = 5; i < n && !strncmp(lines[i], "worker 0 slab ", 14);
	     i++)
		slabs++;
	assert_true(slabs >= 3);
	/* The arena line counts the /hello at least (the /stats too once
	 * the worker publishes again). */
	const char *arena = strstr(lines[5 + slabs], "worker 0 arena bytes per "
						     "request: ");
	assert_non_null(arena);
	assert_true(atoi(strchr(arena, ':') + 2) >= 1);
	assert_non_null(strstr(lines[5 + slabs], " <=256:0 "));
	assert_string_equal(lines[n - 1], "memory dump: end");
	assert_int_equal(n, 5 + slabs + 2);
	for (unsigned i = 0; i < n; i++) {
		assert_null(strchr(lines[i], '\n'));
		if (i >= 2 && i < 5 + slabs)
			assert_non_null(strstr(lines[i], "touched at most "));
		free(lines[i]);
	}
}

static void test_no_heap(void **state)
{
	(void)state;
#ifdef NO_HEAP_COUNT
	print_message("SKIP: %s\n", NO_HEAP_COUNT);
	skip();
#else
	char *body;
	assert_int_equal(get("/hello", &body), 200);
	free(body);
	assert_int_equal(get("/stats", &body), 200);
	assert_true(strlen(body) > 1000);
	free(body);
	assert_int_equal(get("/stats?detail=memory", &body), 200);
	assert_true(strlen(body) > 1000);
	free(body);
	/* The counter itself counts. */
	unsigned long before = atomic_load(&heap_calls);
	counting = true;
	char *volatile p = strdup("x");
	free(p);
	counting = false;
	assert_int_equal(atomic_load(&heap_calls) - before, 2);
	assert_int_equal(calls_stats, 0);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ring_keeps_the_last_60),
	    cmocka_unit_test(test_slope),
	    cmocka_unit_test(test_board_history),
	    cmocka_unit_test(test_no_board_history),
	    cmocka_unit_test_setup_teardown(test_memory_detail, setup_server,
					    teardown_server),
	    cmocka_unit_test_setup_teardown(test_dump_lines, setup_server,
					    teardown_server),
	    cmocka_unit_test_setup_teardown(test_no_heap, setup_server,
					    teardown_server),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
