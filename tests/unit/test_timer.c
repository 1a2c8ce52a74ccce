/* test_timer.c: the worker's timer heap (src/core/timer.c), checked against
 * a plain array model under random adds, deletes and runs, and the rules a
 * fire function relies on (it may re-arm itself and delete others). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <limits.h>

#include "core/timer.h"

#define N 512

static struct rg__timers heap;
static struct rg__timer timers[N];
static uint64_t fired_at[N]; /* the heap's clock when timer i fired */
static int fired[N * 8];     /* indices in firing order */
static int nfired;

static int index_of(const struct rg__timer *t)
{
	return (int)(t - timers);
}

static void record(struct rg__timer *t)
{
	assert_false(rg__timer_armed(t)); /* disarmed before it fires */
	fired_at[index_of(t)] = heap.now;
	fired[nfired++] = index_of(t);
}

static void reset(void)
{
	heap = (struct rg__timers){.now = 1000};
	for (int i = 0; i < N; i++)
		timers[i] = (struct rg__timer){.fire = record};
	nfired = 0;
}

static void empty_heap(void **state)
{
	(void)state;
	reset();
	assert_int_equal(rg__timers_next(&heap), -1);
	rg__timers_run(&heap, heap.now, UINT_MAX);
	assert_int_equal(nfired, 0);
	rg__timer_del(&heap, &timers[0]); /* not armed: harmless */
	assert_int_equal(rg__timers_next(&heap), -1);
}

/* A run of at most `max` fires that many of the due ones, earliest first,
 * and says whether some are left; the rest wait for the next run. */
static void run_in_batches(void **state)
{
	(void)state;
	reset();
	for (int i = 0; i < 5; i++)
		rg__timer_add(&heap, &timers[i], 1000 - (uint64_t)i);
	rg__timer_add(&heap, &timers[5], 2000); /* not due */
	assert_true(rg__timers_run(&heap, heap.now, 2));
	assert_int_equal(nfired, 2);
	assert_int_equal(fired[0], 4);
	assert_int_equal(fired[1], 3);
	assert_false(rg__timers_run(&heap, heap.now, 3)); /* exactly the rest */
	assert_int_equal(nfired, 5);
	assert_false(rg__timers_run(&heap, heap.now, 3));
	assert_int_equal(nfired, 5);
	assert_int_equal(rg__timers_next(&heap), 1000);
}

/* A run fires only what was due at the `until` it is given: a timer that
 * fell due since (the clock moved while the loop took in io between
 * batches) waits for the next run. */
static void run_until(void **state)
{
	(void)state;
	reset();
	rg__timer_add(&heap, &timers[0], 1000);
	rg__timer_add(&heap, &timers[1], 1400);
	uint64_t due = heap.now;
	heap.now = 1500;
	assert_false(rg__timers_run(&heap, due, UINT_MAX));
	assert_int_equal(nfired, 1);
	assert_int_equal(fired[0], 0);
	assert_int_equal(rg__timers_next(&heap), 0); /* the other is due */
	assert_false(rg__timers_run(&heap, heap.now, UINT_MAX));
	assert_int_equal(nfired, 2);
}

static void next_is_the_earliest(void **state)
{
	(void)state;
	reset();
	rg__timer_add(&heap, &timers[0], 1500);
	rg__timer_add(&heap, &timers[1], 1200);
	rg__timer_add(&heap, &timers[2], 1900);
	assert_int_equal(rg__timers_next(&heap), 200);
	rg__timer_del(&heap, &timers[1]);
	assert_int_equal(rg__timers_next(&heap), 500);
	heap.now = 1600;
	assert_int_equal(rg__timers_next(&heap), 0);
	/* A far deadline is capped at an hour (an int of milliseconds). */
	reset();
	rg__timer_add(&heap, &timers[0], UINT64_C(1) << 40);
	assert_int_equal(rg__timers_next(&heap), 3600000);
}

/* Random operations against a model: every armed timer fires exactly once,
 * not before its deadline, in deadline order; deleted ones never fire. */
static void random_against_model(void **state)
{
	(void)state;
	srand(7);
	for (int round = 0; round < 50; round++) {
		reset();
		uint64_t model[N] = {0}; /* deadline, 0 = not armed */
		for (int op = 0; op < 4000; op++) {
			int i = rand() % N;
			switch (rand() % 4) {
			case 0:
			case 1:
				if (!model[i]) {
					model[i] = heap.now + 1 +
						   (uint64_t)(rand() % 500);
					rg__timer_add(&heap, &timers[i],
						      model[i]);
				}
				break;
			case 2:
				rg__timer_del(&heap, &timers[i]);
				model[i] = 0;
				break;
			default: {
				heap.now += (uint64_t)(rand() % 40);
				int before = nfired;
				rg__timers_run(&heap, heap.now, UINT_MAX);
				uint64_t last = 0;
				for (int k = before; k < nfired; k++) {
					int j = fired[k];
					assert_true(model[j] != 0);
					assert_true(model[j] <= heap.now);
					assert_true(model[j] >= last);
					last = model[j];
					model[j] = 0;
				}
				nfired = 0;
				/* Nothing due is left armed. */
				uint64_t earliest = 0;
				for (int j = 0; j < N; j++) {
					assert_true(model[j] == 0 ||
						    model[j] > heap.now);
					assert_int_equal(
					    rg__timer_armed(&timers[j]),
					    model[j] != 0);
					if (model[j] &&
					    (!earliest || model[j] < earliest))
						earliest = model[j];
				}
				assert_int_equal(
				    rg__timers_next(&heap),
				    earliest ? (int)(earliest - heap.now) : -1);
			}
			}
		}
	}
}

/* A fire function may re-arm its own timer and delete another one. */
static int rearms;
static void rearm(struct rg__timer *t)
{
	record(t);
	if (++rearms < 3) /* at 1020, then 1030: due in the same run */
		rg__timer_add(&heap, t, 1010 + 10 * (uint64_t)rearms);
	rg__timer_del(&heap, &timers[2]);
}

static void fire_may_rearm_and_delete(void **state)
{
	(void)state;
	reset();
	rearms = 0;
	timers[0].fire = rearm;
	rg__timer_add(&heap, &timers[0], 1010);
	rg__timer_add(&heap, &timers[1], 1011);
	rg__timer_add(&heap, &timers[2], 1012);
	heap.now = 1100;
	rg__timers_run(&heap, heap.now, UINT_MAX);
	/* 0 at 1010, 1 at 1011, 0 again at 1020 (due, so in the same run),
	 * then at 1030; 2 deleted by the first firing. */
	assert_int_equal(nfired, 4);
	assert_int_equal(fired[0], 0);
	assert_int_equal(fired[1], 1);
	assert_int_equal(fired[2], 0);
	assert_int_equal(fired[3], 0);
	assert_false(rg__timer_armed(&timers[0]));
	assert_false(rg__timer_armed(&timers[2]));
	assert_int_equal(rg__timers_next(&heap), -1);
}

/* Equal deadlines all fire; 0 is a valid deadline (stored as 1). */
static void equal_and_zero_deadlines(void **state)
{
	(void)state;
	reset();
	for (int i = 0; i < 100; i++)
		rg__timer_add(&heap, &timers[i], i % 2 ? 1000 : 0);
	assert_int_equal(rg__timers_next(&heap), 0);
	rg__timers_run(&heap, heap.now, UINT_MAX);
	assert_int_equal(nfired, 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(fired_at[i], 1000);
}

static void clock_is_monotonic_and_never_zero(void **state)
{
	(void)state;
	uint64_t a = rg__clock_ms();
	uint64_t b = rg__clock_ms();
	assert_true(a != 0);
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(empty_heap),
	    cmocka_unit_test(next_is_the_earliest),
	    cmocka_unit_test(run_in_batches),
	    cmocka_unit_test(run_until),
	    cmocka_unit_test(random_against_model),
	    cmocka_unit_test(fire_may_rearm_and_delete),
	    cmocka_unit_test(equal_and_zero_deadlines),
	    cmocka_unit_test(clock_is_monotonic_and_never_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
