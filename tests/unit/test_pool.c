/* test_pool.c: Tier 2 object pool: LIFO order, growth, cap, accounting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "ringlet.h"

static void lifo_order(void **state)
{
	(void)state;
	struct rg_pool_config cfg = {.object_size = 40, .initial = 4};
	struct rg_pool *pool = rg_pool_create(&cfg, NULL);
	assert_non_null(pool);
	void *a = rg_pool_get(pool), *b = rg_pool_get(pool);
	rg_pool_put(pool, a);
	rg_pool_put(pool, b);
	assert_ptr_equal(rg_pool_get(pool), b);
	assert_ptr_equal(rg_pool_get(pool), a);
	rg_pool_destroy(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lifo_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
