/* test_pool.c: Tier 2 object pool: LIFO order, growth, cap, stats,
 * alignment, guard pages, poisoning of returned objects, and trimming
 * (chunks given back once free). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ringlet.h"
#include "mem/poison.h"
#include "mem/pool.h"
#include "child.h"

static struct rg_pool_stats stats_of(const struct rg_pool *pool)
{
	struct rg_pool_stats st;
	rg_pool_stats(pool, &st);
	return st;
}

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

static void objects_are_distinct(void **state)
{
	(void)state;
	struct rg_pool_config cfg = {
	    .object_size = 24, .initial = 8, .grow_by = 8, .max = 64};
	struct rg_pool *pool = rg_pool_create(&cfg, NULL);
	assert_non_null(pool);
	size_t size = rg_pool_object_size(pool);
	unsigned char *obj[64];
	for (int i = 0; i < 64; i++) {
		obj[i] = rg_pool_get(pool);
		assert_non_null(obj[i]);
		memset(obj[i], i, size);
	}
	for (int i = 0; i < 64; i++)
		for (size_t j = 0; j < size; j++)
			assert_int_equal(obj[i][j], i);
	rg_pool_destroy(pool);
}

static void grows_by_steps_up_to_max(void **state)
{
	(void)state;
	struct rg_pool_config cfg = {
	    .object_size = 100, .initial = 2, .grow_by = 3, .max = 7};
	struct rg_pool *pool = rg_pool_create(&cfg, NULL);
	assert_non_null(pool);
	const uint64_t capacity_after[7] = {2, 2, 5, 5, 5, 7, 7};
	for (int i = 0; i < 7; i++) {
		assert_non_null(rg_pool_get(pool));
		assert_int_equal(stats_of(pool).capacity, capacity_after[i]);
	}
	assert_null(rg_pool_get(pool));
	assert_null(rg_pool_get(pool));
	struct rg_pool_stats st = stats_of(pool);
	assert_int_equal(st.capacity, 7);
	assert_int_equal(st.max, 7);
	assert_int_equal(st.failures, 2);
	assert_int_equal(st.gets, 7);
	rg_pool_destroy(pool);
}

static void max_zero_means_initial(void **state)
{
	(void)state;
	struct rg_pool_config cfg = {
	    .object_size = 64, .initial = 3, .grow_by = 10, .max = 0};
	struct rg_pool *pool = rg_pool_create(&cfg, NULL);
	assert_non_null(pool);
	void *obj[3];
	for (int i = 0; i < 3; i++)
		assert_non_null(obj[i] = rg_pool_get(pool));
	assert_null(rg_pool_get(pool));
	assert_int_equal(stats_of(pool).capacity, 3);
	assert_int_equal(stats_of(pool).failures, 1);
	rg_pool_put(pool, obj[1]);
	assert_ptr_equal(rg_pool_get(pool), obj[1]);
	rg_pool_destroy(pool);

	/* grow_by 0 never grows, whatever the cap. */
	cfg = (struct rg_pool_config){
	    .object_size = 64, .initial = 1, .grow_by = 0, .max = 100};
	pool = rg_pool_create(&cfg, NULL);
	assert_non_null(pool);
	assert_non_null(rg_pool_get(pool));
	assert_null(rg_pool_get(pool));
	rg_pool_destroy(pool);
}

static void rejects_bad_config(void **state)
{
	(void)state;
	const struct rg_pool_config bad[] = {
	    {.object_size = 0, .initial = 1},
	    {.object_size = 16, .initial = 5, .max = 4},
	    {.object_size = SIZE_MAX, .initial = 1},
	    {.object_size = 1 << 20, .initial = 1, .max = SIZE_MAX / 4},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_null(rg_pool_create(&bad[i], NULL));
		assert_int_equal(errno, EINVAL);
	}
}

static void stats_exact(void **state)
{
	(void)state;
	struct rg_mem_account account = {0};
	struct rg_pool_config cfg = {
	    .object_size = 200, .initial = 4, .grow_by = 4, .max = 8};
	struct rg_pool *pool = rg_pool_create(&cfg, &account);
	assert_non_null(pool);
	struct rg_pool_stats st = stats_of(pool);
	assert_int_equal(st.object_size, 208);
	assert_int_equal(st.capacity, 4);
	assert_int_equal(st.max, 8);
	assert_int_equal(st.in_use + st.high_water + st.gets + st.failures, 0);
	/* One chunk: its objects plus a header of at most a page. */
	uint64_t header = st.bytes_reserved - 4 * 208;
	assert_true(header > 0 && header <= 4096);
	assert_int_equal(account.reserved, st.bytes_reserved);

	void *obj[8];
	for (int i = 0; i < 6; i++)
		obj[i] = rg_pool_get(pool);
	for (int i = 0; i < 3; i++)
		rg_pool_put(pool, obj[i]);
	for (int i = 0; i < 2; i++)
		obj[i] = rg_pool_get(pool);
	st = stats_of(pool);
	assert_int_equal(st.capacity, 8);
	assert_int_equal(st.in_use, 5);
	assert_int_equal(st.high_water, 6);
	assert_int_equal(st.gets, 8);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.bytes_reserved, 2 * header + 8 * 208);
	assert_int_equal(account.reserved, st.bytes_reserved);

	for (int i = 5; i < 8; i++)
		obj[i] = rg_pool_get(pool);
	assert_null(rg_pool_get(pool));
	st = stats_of(pool);
	assert_int_equal(st.in_use, 8);
	assert_int_equal(st.high_water, 8);
	assert_int_equal(st.gets, 11);
	assert_int_equal(st.failures, 1);
	rg_pool_destroy(pool);
	assert_int_equal(account.reserved, 0);
}

static void objects_are_16_byte_aligned(void **state)
{
	(void)state;
	for (size_t size = 1; size <= 100; size++) {
		struct rg_pool_config cfg = {
		    .object_size = size, .initial = 3, .grow_by = 2, .max = 9};
		struct rg_pool *pool = rg_pool_create(&cfg, NULL);
		assert_non_null(pool);
		assert_int_equal(rg_pool_object_size(pool), (size + 15) & ~15u);
		for (int i = 0; i < 9; i++) {
			char *p = rg_pool_get(pool);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % 16, 0);
		}
		rg_pool_destroy(pool);
	}
}

/* The guard page is the kernel's to enforce, not ASan's. */
#ifdef RG_ASAN
#define NOT_ASAN_CHECKED __attribute__((no_sanitize_address))
#else
#define NOT_ASAN_CHECKED
#endif

static NOT_ASAN_CHECKED void write_below(void *obj)
{
	((volatile char *)obj)[-1] = 1;
}

static void write_inside(void *obj)
{
	size_t size = (size_t)sysconf(_SC_PAGESIZE);
	memset(obj, 1, size);
}

static void guard_page_below_each_object(void **state)
{
	(void)state;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct rg_pool_config cfg = {.object_size = 1000,
				     .initial = 2,
				     .grow_by = 2,
				     .max = 4,
				     .guard_pages = 1};
	struct rg_pool *pool = rg_pool_create(&cfg, NULL);
	assert_non_null(pool);
	assert_int_equal(rg_pool_object_size(pool), page);
	char *obj[4];
	for (int i = 0; i < 4; i++) {
		obj[i] = rg_pool_get(pool);
		assert_non_null(obj[i]);
		assert_int_equal((uintptr_t)obj[i] % page, 0);
		memset(obj[i], 'x', page);
	}
	/* Two chunks of two: a header page, then a guard page and a page for
	 * each object. */
	assert_int_equal(stats_of(pool).bytes_reserved,
			 2 * (page + 2 * (page + page)));

	char err[4096];
	for (int i = 0; i < 4; i++) {
		int status = run_child(write_below, obj[i], err, sizeof(err));
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGSEGV);
	}
	/* The child is sound: the whole object is writable. */
	int status = run_child(write_inside, obj[0], err, sizeof(err));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* Still guarded once recycled. */
	rg_pool_put(pool, obj[2]);
	assert_ptr_equal(rg_pool_get(pool), obj[2]);
	status = run_child(write_below, obj[2], err, sizeof(err));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
	rg_pool_destroy(pool);
}

static void put_poisons_object(void **state)
{
#ifdef RG_ASAN
	(void)state;
	skip(); /* reading a returned object is itself an ASan report */
#elif !defined(RG_POISONING)
	(void)state;
	skip(); /* poisoning is for debug builds */
#else
	(void)state;
	struct rg_pool_config cfg = {.object_size = 96, .initial = 4};
	struct rg_pool *pool = rg_pool_create(&cfg, NULL);
	assert_non_null(pool);
	unsigned char *a = rg_pool_get(pool), *b = rg_pool_get(pool);
	memset(a, 0, 96);
	memset(b, 0, 96);
	rg_pool_put(pool, a);
	rg_pool_put(pool, b);
	/* The first word holds the free-list link. */
	for (int i = 8; i < 96; i++) {
		assert_int_equal(a[i], RG_POISON_BYTE);
		assert_int_equal(b[i], RG_POISON_BYTE);
	}
	rg_pool_destroy(pool);
#endif
}

static void use_after_put_is_reported(void **state)
{
#ifndef RG_ASAN
	(void)state;
	skip(); /* needs AddressSanitizer */
#else
	(void)state;
	struct rg_pool_config cfg = {.object_size = 96, .initial = 4};
	struct rg_pool *pool = rg_pool_create(&cfg, NULL);
	assert_non_null(pool);
	char *a = rg_pool_get(pool);
	memset(a, 0, 96);
	char err[16384];
	int status = run_child(read_byte, a + 40, err, sizeof(err));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	rg_pool_put(pool, a);
	for (int offset = 0; offset < 96; offset += 40) {
		status = run_child(read_byte, a + offset, err, sizeof(err));
		assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		assert_non_null(strstr(err, "use-after-poison"));
	}
	rg_pool_destroy(pool);
#endif
}

/* A chunk goes back once all its objects are free, whichever order they
 * came back in; one with an object out stays, and so does the first; with
 * nothing out the pool is as created. The pool works on after each trim. */
static void trim_gives_back_free_chunks(void **state)
{
	(void)state;
	struct rg_mem_account account = {0};
	struct rg_pool_config cfg = {
	    .object_size = 4096, .initial = 2, .grow_by = 2, .max = 16};
	struct rg_pool *pool = rg_pool_create(&cfg, &account);
	assert_non_null(pool);
	uint64_t chunk = account.reserved;
	char *o[6];
	for (int i = 0; i < 6; i++) {
		o[i] = rg_pool_get(pool);
		assert_non_null(o[i]);
		memset(o[i], i, 4096);
	}
	assert_int_equal(account.reserved, 3 * chunk);
	rg__pool_trim(pool); /* nothing free: nothing goes */
	assert_int_equal(account.reserved, 3 * chunk);

	/* The chunks: {o0, o1}, {o2, o3}, {o4, o5}, in address order. */
	rg_pool_put(pool, o[5]);
	rg_pool_put(pool, o[0]);
	rg_pool_put(pool, o[4]);
	rg_pool_put(pool, o[2]);
	rg__pool_trim(pool);
	assert_int_equal(account.reserved, 2 * chunk);
	assert_int_equal(stats_of(pool).capacity, 4);
	assert_int_equal(stats_of(pool).bytes_reserved, 2 * chunk);
	assert_int_equal(stats_of(pool).in_use, 2);
	assert_int_equal(o[1][4095], 1);
	assert_int_equal(o[3][0], 3);

	/* What stays free is handed out again (LIFO), then the pool grows. */
	char *a = rg_pool_get(pool), *b = rg_pool_get(pool);
	assert_true((a == o[2] && b == o[0]) || (a == o[0] && b == o[2]));
	char *c = rg_pool_get(pool);
	assert_non_null(c);
	assert_int_equal(account.reserved, 3 * chunk);
	memset(c, 7, 4096);

	rg_pool_put(pool, a);
	rg_pool_put(pool, b);
	rg_pool_put(pool, c);
	rg_pool_put(pool, o[1]);
	rg_pool_put(pool, o[3]);
	rg__pool_trim(pool);
	assert_int_equal(account.reserved, chunk);
	assert_int_equal(stats_of(pool).capacity, 2);
	assert_int_equal(stats_of(pool).in_use, 0);
	for (int i = 0; i < 6; i++)
		assert_non_null(rg_pool_get(pool));
	assert_int_equal(account.reserved, 3 * chunk);
	rg_pool_destroy(pool);
	assert_int_equal(account.reserved, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lifo_order),
	    cmocka_unit_test(trim_gives_back_free_chunks),
	    cmocka_unit_test(objects_are_distinct),
	    cmocka_unit_test(grows_by_steps_up_to_max),
	    cmocka_unit_test(max_zero_means_initial),
	    cmocka_unit_test(rejects_bad_config),
	    cmocka_unit_test(stats_exact),
	    cmocka_unit_test(objects_are_16_byte_aligned),
	    cmocka_unit_test(guard_page_below_each_object),
	    cmocka_unit_test(put_poisons_object),
	    cmocka_unit_test(use_after_put_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
