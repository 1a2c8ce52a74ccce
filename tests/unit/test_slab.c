/* test_slab.c: Tier 3 buffer slab: class selection, custom classes,
 * config checks, fragmentation stats, exhaustion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ringlet.h"

static struct rg_slab_stats stats_of(const struct rg_slab *slab)
{
	struct rg_slab_stats st;
	rg_slab_stats(slab, &st);
	return st;
}

static void default_classes(void **state)
{
	(void)state;
	struct rg_slab_config cfg = {.initial = 4};
	struct rg_slab *slab = rg_slab_create(&cfg, NULL);
	assert_non_null(slab);
	const struct {
		size_t ask, capacity;
	} cases[] = {
	    {1, 256},	  {255, 256},	{256, 256},   {257, 1024},
	    {1000, 1024}, {1024, 1024}, {1025, 8192}, {8192, 8192},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t capacity = 0;
		char *buf = rg_slab_alloc(slab, cases[i].ask, &capacity);
		assert_non_null(buf);
		assert_int_equal(capacity, cases[i].capacity);
		memset(buf, 'b', capacity);
		rg_slab_free(slab, buf, cases[i].ask);
	}
	struct rg_slab_stats st = stats_of(slab);
	assert_int_equal(st.nclasses, 3);
	assert_int_equal(st.classes[0].size, 256);
	assert_int_equal(st.classes[1].size, 1024);
	assert_int_equal(st.classes[2].size, 8192);
	assert_int_equal(st.classes[0].allocs, 3);
	assert_int_equal(st.classes[1].allocs, 3);
	assert_int_equal(st.classes[2].allocs, 2);
	for (int i = 0; i < 3; i++)
		assert_int_equal(st.classes[i].pool.in_use, 0);
	assert_int_equal(st.too_large, 0);
	rg_slab_destroy(slab);
}

static void too_large(void **state)
{
	(void)state;
	struct rg_slab_config cfg = {.initial = 1};
	struct rg_slab *slab = rg_slab_create(&cfg, NULL);
	assert_non_null(slab);
	size_t capacity;
	assert_null(rg_slab_alloc(slab, 8193, &capacity));
	assert_null(rg_slab_alloc(slab, SIZE_MAX, NULL));
	assert_int_equal(stats_of(slab).too_large, 2);
	for (int i = 0; i < 3; i++)
		assert_int_equal(stats_of(slab).classes[i].allocs, 0);
	rg_slab_destroy(slab);
}

static void capacity_may_be_used_and_freed_by(void **state)
{
	(void)state;
	struct rg_slab_config cfg = {.initial = 2};
	struct rg_slab *slab = rg_slab_create(&cfg, NULL);
	assert_non_null(slab);
	size_t capacity;
	char *a = rg_slab_alloc(slab, 300, &capacity);
	char *b = rg_slab_alloc(slab, 300, NULL);
	assert_non_null(a);
	assert_non_null(b);
	memset(a, 'a', capacity);
	memset(b, 'b', capacity);
	for (size_t i = 0; i < capacity; i++)
		assert_int_equal(a[i], 'a');
	/* Freed by its capacity: back to the same class, reused first. */
	rg_slab_free(slab, a, capacity);
	assert_int_equal(stats_of(slab).classes[1].pool.in_use, 1);
	assert_ptr_equal(rg_slab_alloc(slab, 1024, NULL), a);
	rg_slab_destroy(slab);
}

static void custom_classes(void **state)
{
	(void)state;
	struct rg_slab_config cfg = {
	    .sizes = {64, 100, 4000, 65536}, .initial = 2, .max = 4};
	struct rg_slab *slab = rg_slab_create(&cfg, NULL);
	assert_non_null(slab);
	struct rg_slab_stats st = stats_of(slab);
	assert_int_equal(st.nclasses, 4);
	/* Classes are pool objects: rounded up to 16. */
	const uint64_t sizes[] = {64, 112, 4000, 65536};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(st.classes[i].size, sizes[i]);
		assert_int_equal(st.classes[i].pool.capacity, 2);
		assert_int_equal(st.classes[i].pool.max, 4);
	}
	size_t capacity;
	assert_non_null(rg_slab_alloc(slab, 65, &capacity));
	assert_int_equal(capacity, 112);
	assert_non_null(rg_slab_alloc(slab, 113, &capacity));
	assert_int_equal(capacity, 4000);
	assert_non_null(rg_slab_alloc(slab, 60000, &capacity));
	assert_int_equal(capacity, 65536);
	assert_null(rg_slab_alloc(slab, 65537, &capacity));
	rg_slab_destroy(slab);

	/* All eight classes. */
	struct rg_slab_config eight = {.initial = 1};
	for (int i = 0; i < RG_SLAB_MAX_CLASSES; i++)
		eight.sizes[i] = (size_t)16 << i;
	slab = rg_slab_create(&eight, NULL);
	assert_non_null(slab);
	assert_int_equal(stats_of(slab).nclasses, RG_SLAB_MAX_CLASSES);
	assert_non_null(rg_slab_alloc(slab, 2048, &capacity));
	assert_int_equal(capacity, 2048);
	assert_null(rg_slab_alloc(slab, 2049, NULL));
	rg_slab_destroy(slab);
}

/* Sizes in any order, repeated or not: the distinct ones, ascending. */
static void classes_sorted_and_merged(void **state)
{
	(void)state;
	struct rg_mem_account account = {0};
	const struct rg_slab_config cfg[] = {
	    {.sizes = {1024, 256}, .initial = 1},
	    {.sizes = {256, 256, 1024, 256}, .initial = 1},
	    {.sizes = {1024, 256, 1024}, .initial = 1},
	};
	for (size_t i = 0; i < sizeof(cfg) / sizeof(cfg[0]); i++) {
		struct rg_slab *s = rg_slab_create(&cfg[i], &account);
		assert_non_null(s);
		size_t cap;
		void *a = rg_slab_alloc(s, 200, &cap);
		assert_int_equal(cap, 256);
		void *b = rg_slab_alloc(s, 300, &cap);
		assert_int_equal(cap, 1024);
		assert_null(rg_slab_alloc(s, 1025, NULL));
		rg_slab_free(s, a, 200);
		rg_slab_free(s, b, 300);
		rg_slab_destroy(s);
		assert_int_equal(account.reserved, 0);
	}
}

static void fragmentation_stats(void **state)
{
	(void)state;
	struct rg_slab_config cfg = {.initial = 8};
	struct rg_slab *slab = rg_slab_create(&cfg, NULL);
	assert_non_null(slab);
	const size_t asks[] = {10, 100, 256, 300, 1024, 5000, 7, 2000};
	void *buf[8];
	for (int i = 0; i < 8; i++)
		assert_non_null(buf[i] = rg_slab_alloc(slab, asks[i], NULL));
	for (int i = 0; i < 8; i++)
		rg_slab_free(slab, buf[i], asks[i]);
	assert_null(rg_slab_alloc(slab, 9000, NULL));

	struct rg_slab_stats st = stats_of(slab);
	assert_int_equal(st.classes[0].allocs, 4);
	assert_int_equal(st.classes[0].bytes_asked, 10 + 100 + 256 + 7);
	assert_int_equal(st.classes[0].bytes_given, 4 * 256);
	assert_int_equal(st.classes[1].allocs, 2);
	assert_int_equal(st.classes[1].bytes_asked, 300 + 1024);
	assert_int_equal(st.classes[1].bytes_given, 2 * 1024);
	assert_int_equal(st.classes[2].allocs, 2);
	assert_int_equal(st.classes[2].bytes_asked, 5000 + 2000);
	assert_int_equal(st.classes[2].bytes_given, 2 * 8192);
	assert_int_equal(st.too_large, 1);
	rg_slab_destroy(slab);
}

static void exhaustion_of_one_class(void **state)
{
	(void)state;
	struct rg_slab_config cfg = {.initial = 2, .max = 3};
	struct rg_slab *slab = rg_slab_create(&cfg, NULL);
	assert_non_null(slab);
	void *buf[3];
	for (int i = 0; i < 3; i++)
		assert_non_null(buf[i] = rg_slab_alloc(slab, 1000, NULL));
	size_t capacity;
	assert_null(rg_slab_alloc(slab, 1000, &capacity));
	assert_null(rg_slab_alloc(slab, 257, NULL));

	struct rg_slab_stats st = stats_of(slab);
	assert_int_equal(st.classes[1].allocs, 3);
	assert_int_equal(st.classes[1].bytes_asked, 3000);
	assert_int_equal(st.classes[1].pool.in_use, 3);
	assert_int_equal(st.classes[1].pool.failures, 2);
	assert_int_equal(st.too_large, 0);
	/* Exhausting one class leaves the others alone... */
	assert_non_null(rg_slab_alloc(slab, 256, NULL));
	assert_non_null(rg_slab_alloc(slab, 1025, NULL));
	/* ...and a buffer given back serves the next request. */
	rg_slab_free(slab, buf[1], 1000);
	assert_ptr_equal(rg_slab_alloc(slab, 600, NULL), buf[1]);
	rg_slab_destroy(slab);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(default_classes),
	    cmocka_unit_test(too_large),
	    cmocka_unit_test(capacity_may_be_used_and_freed_by),
	    cmocka_unit_test(custom_classes),
	    cmocka_unit_test(classes_sorted_and_merged),
	    cmocka_unit_test(fragmentation_stats),
	    cmocka_unit_test(exhaustion_of_one_class),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
