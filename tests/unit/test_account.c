/* test_account.c: memory accounting across the tiers: the memory limit,
 * reserved and peak, and the return to zero after destroy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ringlet.h"

static struct rg_pool_stats pool_stats(const struct rg_pool *pool)
{
	struct rg_pool_stats st;
	rg_pool_stats(pool, &st);
	return st;
}

static void pool_growth_stops_at_limit(void **state)
{
	(void)state;
	struct rg_mem_account account = {0};
	struct rg_pool_config cfg = {
	    .object_size = 1024, .initial = 4, .grow_by = 4, .max = 100};
	struct rg_pool *pool = rg_pool_create(&cfg, &account);
	assert_non_null(pool);
	/* A growth step maps a chunk just like the first one. */
	uint64_t chunk = account.reserved;
	assert_int_equal(chunk, pool_stats(pool).bytes_reserved);

	account.limit = 2 * chunk - 1;
	for (int i = 0; i < 4; i++)
		assert_non_null(rg_pool_get(pool));
	assert_null(rg_pool_get(pool));
	assert_null(rg_pool_get(pool));
	assert_int_equal(pool_stats(pool).failures, 2);
	assert_int_equal(pool_stats(pool).capacity, 4);
	assert_int_equal(account.failures, 2);
	assert_int_equal(account.reserved, chunk);
	assert_int_equal(account.peak, chunk);

	/* Exactly at the limit is allowed. */
	account.limit = 2 * chunk;
	assert_non_null(rg_pool_get(pool));
	assert_int_equal(account.reserved, 2 * chunk);
	assert_int_equal(account.failures, 2);
	rg_pool_destroy(pool);
	assert_int_equal(account.reserved, 0);
	assert_int_equal(account.peak, 2 * chunk);
}

static void pool_create_over_limit(void **state)
{
	(void)state;
	struct rg_mem_account account = {.limit = 1 << 20};
	struct rg_pool_config cfg = {.object_size = 4096, .initial = 256};
	errno = 0;
	assert_null(rg_pool_create(&cfg, &account));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(account.failures, 1);
	assert_int_equal(account.reserved, 0);
	assert_int_equal(account.peak, 0);

	/* A slab whose last class does not fit gives back the others. */
	struct rg_slab_config scfg = {.initial = 120};
	errno = 0;
	assert_null(rg_slab_create(&scfg, &account));
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(account.failures, 2);
	assert_int_equal(account.reserved, 0);
	assert_true(account.peak > 0);
}

static void arena_respects_limit(void **state)
{
	(void)state;
	struct rg_mem_account account = {0};
	struct rg_arena_stats stats = {0};
	struct rg_pool_config cfg = {
	    .object_size = 4096, .initial = 1, .grow_by = 1, .max = 8};
	struct rg_pool *blocks = rg_pool_create(&cfg, &account);
	assert_non_null(blocks);
	struct rg_arena *arena = rg_arena_create(blocks, &stats);
	assert_non_null(arena);
	uint64_t base = account.reserved;
	account.limit = base + 10000;

	char *a = rg_arena_alloc(arena, 5000);
	assert_non_null(a);
	memset(a, 1, 5000);
	assert_int_equal(account.reserved, base + 5000);
	assert_null(rg_arena_alloc(arena, 5001));
	assert_int_equal(account.failures, 1);
	assert_int_equal(stats.failures, 1);
	assert_int_equal(account.reserved, base + 5000);
	assert_non_null(rg_arena_alloc(arena, 5000));
	assert_int_equal(account.reserved, base + 10000);

	/* A spill grown past the limit fails and stays as it was. */
	assert_null(rg_arena_realloc(arena, a, 5000, 5001));
	assert_int_equal(account.failures, 2);
	assert_int_equal(stats.failures, 2);
	assert_int_equal(a[4999], 1);

	/* So does a block the pool would have to map. */
	while (rg_arena_reserved(arena) == 4096)
		if (!rg_arena_alloc(arena, 1000))
			break;
	assert_int_equal(rg_arena_reserved(arena), 4096);
	assert_int_equal(account.failures, 3);
	assert_int_equal(stats.failures, 3);
	assert_int_equal(pool_stats(blocks).failures, 1);

	rg_arena_reset(arena);
	assert_int_equal(account.reserved, base);
	assert_int_equal(account.peak, base + 10000);
	assert_int_equal(stats.spills, 2);
	rg_arena_destroy(arena);
	rg_pool_destroy(blocks);
	assert_int_equal(account.reserved, 0);
}

static void reserved_and_peak_exact(void **state)
{
	(void)state;
	struct rg_mem_account account = {0};
	struct rg_pool_config a_cfg = {.object_size = 100, .initial = 10};
	struct rg_pool_config b_cfg = {.object_size = 8192, .initial = 3};
	struct rg_pool *a = rg_pool_create(&a_cfg, &account);
	struct rg_pool *b = rg_pool_create(&b_cfg, &account);
	assert_non_null(a);
	assert_non_null(b);
	uint64_t ra = pool_stats(a).bytes_reserved;
	uint64_t rb = pool_stats(b).bytes_reserved;
	assert_true(ra >= 10 * 112);
	assert_true(rb >= 3 * 8192);
	assert_int_equal(account.reserved, ra + rb);
	assert_int_equal(account.peak, ra + rb);
	rg_pool_destroy(a);
	assert_int_equal(account.reserved, rb);
	assert_int_equal(account.peak, ra + rb);

	/* Spills are charged by the size asked, reallocs by the change. */
	struct rg_arena *arena = rg_arena_create(b, NULL);
	assert_non_null(arena);
	char *s = rg_arena_alloc(arena, 100000);
	assert_non_null(s);
	assert_int_equal(account.reserved, rb + 100000);
	s = rg_arena_realloc(arena, s, 100000, 150000);
	assert_non_null(s);
	assert_int_equal(account.reserved, rb + 150000);
	s = rg_arena_realloc(arena, s, 150000, 120000);
	assert_non_null(s);
	assert_int_equal(account.reserved, rb + 120000);
	assert_int_equal(account.peak, rb + 150000);
	rg_arena_destroy(arena);
	assert_int_equal(account.reserved, rb);
	rg_pool_destroy(b);
	assert_int_equal(account.reserved, 0);
	assert_int_equal(account.peak, rb + 150000);
	assert_int_equal(account.failures, 0);
}

static void everything_returns_to_zero(void **state)
{
	(void)state;
	struct rg_mem_account account = {0};
	struct rg_pool_config bcfg = {
	    .object_size = 4096, .initial = 2, .grow_by = 2, .max = 64};
	struct rg_pool_config scfg = {.object_size = 65536,
				      .initial = 1,
				      .grow_by = 1,
				      .max = 4,
				      .guard_pages = 1};
	struct rg_slab_config slcfg = {.initial = 2, .max = 8};
	struct rg_pool *blocks = rg_pool_create(&bcfg, &account);
	struct rg_pool *stacks = rg_pool_create(&scfg, &account);
	struct rg_slab *slab = rg_slab_create(&slcfg, &account);
	assert_non_null(blocks);
	assert_non_null(stacks);
	assert_non_null(slab);
	struct rg_arena *arena[3];
	for (int i = 0; i < 3; i++) {
		arena[i] = rg_arena_create(blocks, NULL);
		assert_non_null(arena[i]);
		for (int j = 0; j < 50; j++)
			assert_non_null(rg_arena_alloc(arena[i], 500));
		assert_non_null(rg_arena_alloc(arena[i], 20000 * (i + 1)));
	}
	for (int i = 0; i < 4; i++)
		assert_non_null(rg_pool_get(stacks));
	for (int i = 0; i < 8; i++)
		assert_non_null(rg_slab_alloc(slab, 100 * (size_t)i * i, NULL));
	assert_true(account.reserved > 120000);

	rg_arena_reset(arena[0]);
	for (int i = 0; i < 3; i++)
		rg_arena_destroy(arena[i]);
	rg_slab_destroy(slab);
	rg_pool_destroy(stacks);
	rg_pool_destroy(blocks);
	assert_int_equal(account.reserved, 0);
	assert_int_equal(account.failures, 0);
	assert_true(account.peak > 120000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(pool_growth_stops_at_limit),
	    cmocka_unit_test(pool_create_over_limit),
	    cmocka_unit_test(arena_respects_limit),
	    cmocka_unit_test(reserved_and_peak_exact),
	    cmocka_unit_test(everything_returns_to_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
