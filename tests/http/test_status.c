/* test_status.c: the ringlet binary's [status] endpoints (/stats, /metrics,
 * /status) and who may read them: 200 from an allowed client address, 403
 * and nothing of the figures from another (127.0.0.2, a second loopback
 * address: the client binds it before connecting), the connection kept
 * open either way; paths moved or turned off by the configuration file.
 * Every test runs on both io backends (fixture.h). */
#include "fixture.h"

/* GET `path` on c: asserts the status, and for 403 the whole answer. */
static void get(struct http_conn *c, const char *path, int status)
{
	char req[256];
	snprintf(req, sizeof(req), GET("%s"), path);
	struct http_resp r;
	send_str(c, req);
	read_resp(c, &r, 0);
	if (r.status != status)
		print_message("GET %s: %d, expected %d\n", path, r.status,
			      status);
	assert_int_equal(r.status, status);
	if (status == 403)
		check_str(&r, 403, "forbidden\n");
	if (status == 200 && !strcmp(path, "/status"))
		check_type(&r, "text/html");
	http_resp_free(&r);
}

static void test_default_allow(void **state)
{
	struct fixture *f = fixture_get(state);
	static const char *const paths[] = {"/stats", "/metrics", "/status"};
	struct http_conn ok, denied;
	conn_open_from(f, &ok, "127.0.0.1");
	conn_open_from(f, &denied, "127.0.0.2");
	for (size_t i = 0; i < 3; i++) {
		get(&ok, paths[i], 200);
		get(&denied, paths[i], 403);
	}
	/* Denied the figures, not the service. */
	roundtrip(&denied, GET("/plaintext"), 200, "Hello, World!");
	expect_open(&denied, 50);
	http_close(&ok);
	http_close(&denied);
}

static int setup_moved(void **state)
{
	return start_with_config(state, "[server]\n"
					"listen = [\"127.0.0.1:8080\"]\n"
					"[performance]\n"
					"workers = 1\n"
					"[status]\n"
					"stats_path = \"/_ops/stats\"\n"
					"metrics_path = \"off\"\n"
					"page_path = \"/_ops/page\"\n"
					"allow = [\"127.0.0.2\"]\n");
}

static void test_moved_and_narrowed(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c1, c2;
	conn_open_from(f, &c1, "127.0.0.1");
	conn_open_from(f, &c2, "127.0.0.2");
	get(&c1, "/_ops/stats", 403);
	get(&c2, "/_ops/stats", 200);
	get(&c2, "/_ops/page", 200);
	get(&c1, "/stats", 404);
	get(&c2, "/metrics", 404);
	http_close(&c1);
	http_close(&c2);
}

static int setup_nobody(void **state)
{
	return start_with_config(state, "[server]\n"
					"listen = [\"127.0.0.1:8080\"]\n"
					"[performance]\n"
					"workers = 1\n"
					"[status]\n"
					"allow = []\n");
}

static void test_nobody(void **state)
{
	struct fixture *f = fixture_get(state);
	struct http_conn c;
	conn_open(f, &c);
	get(&c, "/stats", 403);
	get(&c, "/metrics", 403);
	get(&c, "/status", 403);
	http_close(&c);
}

int main(void)
{
	fixture_init();
	const struct CMUnitTest tests[] = {
	    T(test_default_allow),
	    T_WITH(test_moved_and_narrowed, setup_moved),
	    T_WITH(test_nobody, setup_nobody),
	};
	return FIXTURE_RUN(tests) ? 1 : 0;
}
