/* test_account.c: memory accounting across the tiers: the memory limit and
 * the reserve it keeps for essential charges, reserved and peak, and the
 * return to zero after destroy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ringlet.h"
#include "mem/account.h"
#include "mem/pool.h"

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
	/* A step of 4 does not fit: the pool grows by the 3 that do... */
	for (int i = 0; i < 3; i++)
		assert_non_null(rg_pool_get(pool));
	assert_int_equal(pool_stats(pool).capacity, 7);
	uint64_t step3 = account.reserved - chunk;
	assert_true(step3 < chunk);
	/* ...and then by nothing: one refusal per get, counted once. */
	assert_null(rg_pool_get(pool));
	assert_null(rg_pool_get(pool));
	assert_int_equal(pool_stats(pool).failures, 2);
	assert_int_equal(pool_stats(pool).capacity, 7);
	assert_int_equal(account.failures, 2);
	assert_int_equal(account.reserved, chunk + step3);
	assert_int_equal(account.peak, chunk + step3);

	/* Exactly at the limit is allowed. */
	account.limit = 2 * chunk + step3;
	assert_non_null(rg_pool_get(pool));
	assert_int_equal(account.reserved, 2 * chunk + step3);
	assert_int_equal(account.failures, 2);
	rg_pool_destroy(pool);
	assert_int_equal(account.reserved, 0);
	assert_int_equal(account.peak, 2 * chunk + step3);
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

/* Spills and chained blocks are bulk (mem/account.h): they stop at the
 * limit less its reserve. */
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
	account.limit = 80000;
	uint64_t bulk = account.limit - rg__account_reserve(account.limit);
	size_t room = (size_t)(bulk - base), half = room / 2;

	char *a = rg_arena_alloc(arena, half);
	assert_non_null(a);
	memset(a, 1, half);
	assert_int_equal(account.reserved, base + half);
	assert_null(rg_arena_alloc(arena, room - half + 1));
	assert_int_equal(account.failures, 1);
	assert_int_equal(stats.failures, 1);
	assert_int_equal(account.reserved, base + half);
	assert_non_null(rg_arena_alloc(arena, room - half));
	assert_int_equal(account.reserved, bulk);

	/* A spill grown past the bulk share fails and stays as it was. */
	assert_null(rg_arena_realloc(arena, a, half, half + 1));
	assert_int_equal(account.failures, 2);
	assert_int_equal(stats.failures, 2);
	assert_int_equal(a[half - 1], 1);

	/* So does a block the pool would have to map for a chain... */
	while (rg_arena_reserved(arena) == 4096)
		if (!rg_arena_alloc(arena, 1000))
			break;
	assert_int_equal(rg_arena_reserved(arena), 4096);
	assert_int_equal(account.failures, 3);
	assert_int_equal(stats.failures, 3);
	assert_int_equal(pool_stats(blocks).failures, 1);

	/* ...while the first block of another request comes from the
	 * reserve: it is essential. */
	struct rg_arena *next = rg_arena_create(blocks, &stats);
	assert_non_null(next);
	assert_true(account.reserved > bulk);
	assert_true(account.reserved <= account.limit);
	assert_int_equal(account.failures, 3);
	rg_arena_destroy(next);

	rg_arena_reset(arena);
	assert_int_equal(account.reserved, pool_stats(blocks).bytes_reserved);
	assert_int_equal(stats.spills, 2);
	rg_arena_destroy(arena);
	rg_pool_destroy(blocks);
	assert_int_equal(account.reserved, 0);
}

/* The reserve on its own: essential charges may use the whole limit, bulk
 * ones the limit less an eighth; a refusal changes nothing but the
 * failure count; no limit, no reserve. */
static void reserve_is_kept_for_essential(void **state)
{
	(void)state;
	struct rg_mem_account a = {.limit = 8000};
	assert_int_equal(rg__account_reserve(a.limit), 1000);
	assert_int_equal(rg__account_charge(&a, 7000, RG__MEM_BULK), 0);
	assert_int_equal(rg__account_charge(&a, 1, RG__MEM_BULK), -ENOMEM);
	assert_int_equal(a.reserved, 7000);
	assert_int_equal(a.failures, 1);
	assert_int_equal(rg__account_charge(&a, 1000, RG__MEM_ESSENTIAL), 0);
	assert_int_equal(rg__account_charge(&a, 1, RG__MEM_ESSENTIAL), -ENOMEM);
	assert_int_equal(a.reserved, 8000);
	assert_int_equal(a.peak, 8000);
	assert_int_equal(a.failures, 2);

	/* Essential usage past the bulk share shuts bulk out entirely. */
	rg__account_credit(&a, 7500);
	assert_int_equal(rg__account_charge(&a, 6500, RG__MEM_BULK), 0);
	assert_int_equal(rg__account_charge(&a, 1, RG__MEM_BULK), -ENOMEM);
	rg__account_credit(&a, 7000);
	assert_int_equal(a.reserved, 0);

	/* One charge larger than the bulk share, on an empty account. */
	assert_int_equal(rg__account_charge(&a, 7001, RG__MEM_BULK), -ENOMEM);
	assert_int_equal(rg__account_charge(&a, 7001, RG__MEM_ESSENTIAL), 0);
	rg__account_credit(&a, 7001);
	assert_int_equal(a.failures, 4);

	/* No limit: nothing refused, whatever the class. */
	struct rg_mem_account u = {0};
	assert_int_equal(rg__account_charge(&u, SIZE_MAX / 2, RG__MEM_BULK), 0);
	assert_int_equal(
	    rg__account_charge(&u, SIZE_MAX / 2, RG__MEM_ESSENTIAL), 0);
	assert_int_equal(u.failures, 0);
	assert_int_equal(rg__account_charge(NULL, 1, RG__MEM_BULK), 0);
}

/* A pool's growth is charged as its caller's class says. */
static void pool_growth_by_class(void **state)
{
	(void)state;
	struct rg_mem_account account = {0};
	struct rg_pool_config cfg = {
	    .object_size = 1024, .initial = 1, .grow_by = 1, .max = 100};
	struct rg_pool *pool = rg_pool_create(&cfg, &account);
	assert_non_null(pool);
	uint64_t chunk = account.reserved;
	/* Room for two more chunks, of which only one in the bulk share. */
	account.limit = 3 * chunk;
	uint64_t bulk = account.limit - rg__account_reserve(account.limit);
	assert_true(bulk >= 2 * chunk && bulk < 3 * chunk);
	assert_true(account.limit >= 3 * chunk);

	void *obj[3];
	obj[0] = rg__pool_get_bulk(pool); /* the initial one: no growth */
	obj[1] = rg__pool_get_bulk(pool); /* grows to 2 chunks */
	assert_non_null(obj[0]);
	assert_non_null(obj[1]);
	assert_null(rg__pool_get_bulk(pool));
	assert_int_equal(pool_stats(pool).failures, 1);
	assert_int_equal(account.failures, 1);
	obj[2] = rg_pool_get(pool);
	assert_non_null(obj[2]);
	assert_int_equal(account.reserved, 3 * chunk);

	/* An object back on the free list costs nothing to hand out again,
	 * bulk or not. */
	rg_pool_put(pool, obj[1]);
	assert_ptr_equal(rg__pool_get_bulk(pool), obj[1]);
	assert_int_equal(account.failures, 1);
	rg_pool_destroy(pool);
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
	    cmocka_unit_test(reserve_is_kept_for_essential),
	    cmocka_unit_test(pool_growth_by_class),
	    cmocka_unit_test(reserved_and_peak_exact),
	    cmocka_unit_test(everything_returns_to_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
