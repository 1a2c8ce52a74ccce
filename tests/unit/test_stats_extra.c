/* test_stats_extra.c: a program's own figures in the statistics
 * (rg_server_config.stats_extra): read when the worker publishes, shown
 * per worker and for the whole server, summed or (max_mask) maximised,
 * and absent when no program gives any. Two servers on one board stand
 * for two workers; neither needs to run. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ringlet.h"
#include "server.h"

#include <string.h>

struct figures {
	uint64_t calls, longest;
	int reads;
};

static void read_figures(void *arg, uint64_t *v)
{
	struct figures *f = arg;
	f->reads++;
	v[0] = f->calls;
	v[1] = f->longest;
}

static void test_sum_and_max(void **state)
{
	(void)state;
	struct figures f0 = {5, 700, 0}, f1 = {7, 300, 0};
	struct rg_stats_extra x0 = {
	    .section = "python",
	    .names = {"calls", "longest_us"},
	    .max_mask = 1u << 1,
	    .read = read_figures,
	    .arg = &f0,
	};
	struct rg_stats_extra x1 = x0;
	x1.arg = &f1;
	struct rg_stats_board *b = rg_stats_board_create(2);
	assert_non_null(b);
	struct rg_server *s0 = board_server(b, 0, &x0), *s1 = board_server(b, 1, &x1);
	static char buf[65536];
	rg_server_stats_json(s1, buf, sizeof(buf)); /* publishes slot 1 */
	size_t n = rg_server_stats_json(s0, buf, sizeof(buf));
	assert_true(n < sizeof(buf));
	assert_true(f0.reads >= 1 && f1.reads >= 1);
	/* Each worker's own, then the server's: 5 + 7 calls, max(700, 300). */
	assert_non_null(strstr(buf, "\"slot\":0,"));
	assert_non_null(strstr(buf, "\"python\":{\"calls\":5,"
				    "\"longest_us\":700}}"));
	assert_non_null(strstr(buf, "\"python\":{\"calls\":7,"
				    "\"longest_us\":300}}"));
	const char *total = strstr(buf, "\"worker_count\":2,");
	assert_non_null(total);
	assert_non_null(strstr(total, "\"python\":{\"calls\":12,"
				      "\"longest_us\":700}}"));
	rg_server_destroy(s0);
	rg_server_destroy(s1);
	rg_stats_board_destroy(b);
}

static void test_none(void **state)
{
	(void)state;
	struct rg_server *s = board_server(NULL, 0, NULL);
	static char buf[65536];
	rg_server_stats_json(s, buf, sizeof(buf));
	assert_null(strstr(buf, "python"));
	assert_non_null(strstr(buf, "\"slab\":"));
	rg_server_destroy(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sum_and_max),
	    cmocka_unit_test(test_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
