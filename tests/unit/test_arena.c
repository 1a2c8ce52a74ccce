/* test_arena.c: Tier 1 request arena: alignment, growth, spills, cleanups,
 * reset, overflow, exhaustion, stats and poisoning of reset memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ringlet.h"
#include "child.h"
#include "mem/poison.h"

/* Block size of every test arena: a quarter of it (1024) is the largest
 * allocation served from blocks, so three of those fill any block. */
#define BLOCK 4096
#define QUARTER (BLOCK / 4)

struct trace {
	char order[16];
	int n;
};

struct fixture {
	struct trace trace; /* outlives a test that fails with cleanups due */
	struct rg_mem_account account;
	struct rg_arena_stats stats;
	struct rg_pool *blocks;
	struct rg_arena *arena;
};

static struct fixture *fixture_new(size_t initial, size_t max)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	struct rg_pool_config cfg = {
	    .object_size = BLOCK,
	    .initial = initial,
	    .grow_by = 16,
	    .max = max,
	};
	f->blocks = rg_pool_create(&cfg, &f->account);
	assert_non_null(f->blocks);
	f->arena = rg_arena_create(f->blocks, &f->stats);
	assert_non_null(f->arena);
	return f;
}

static int setup(void **state)
{
	*state = fixture_new(64, 4096);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rg_arena_destroy(f->arena);
	rg_pool_destroy(f->blocks);
	free(f);
	return 0;
}

static size_t pool_in_use(const struct rg_pool *pool)
{
	struct rg_pool_stats st;
	rg_pool_stats(pool, &st);
	return st.in_use;
}

static size_t pool_capacity(const struct rg_pool *pool)
{
	struct rg_pool_stats st;
	rg_pool_stats(pool, &st);
	return st.capacity;
}

static int in_block(const void *p, const void *block)
{
	return (const char *)p >= (const char *)block &&
	       (const char *)p < (const char *)block + BLOCK;
}

static void natural_alignment(void **state)
{
	struct fixture *f = *state;
	for (size_t size = 1; size <= 512; size++) {
		/* A 1-byte allocation first leaves the bump pointer odd. */
		assert_non_null(rg_arena_alloc(f->arena, 1));
		char *p = rg_arena_alloc(f->arena, size);
		assert_non_null(p);
		size_t align = 1;
		while (align < 16 && size % (align * 2) == 0)
			align *= 2;
		assert_int_equal((uintptr_t)p % align, 0);
		memset(p, 0x5a, size);
	}
	for (size_t align = 1; align <= 16; align *= 2) {
		for (size_t size = 1; size <= 64; size++) {
			assert_non_null(rg_arena_alloc(f->arena, 1));
			char *p = rg_arena_alloc_aligned(f->arena, size, align);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % align, 0);
			memset(p, 0x5a, size);
		}
	}
}

static void calloc_zeroes_and_checks_overflow(void **state)
{
	struct fixture *f = *state;
	/* Dirty the block, then reset: calloc must not rely on fresh pages. */
	memset(rg_arena_alloc(f->arena, 800), 0xff, 800);
	rg_arena_reset(f->arena);

	uint32_t *v = rg_arena_calloc(f->arena, 200, sizeof(*v));
	assert_non_null(v);
	assert_int_equal((uintptr_t)v % 4, 0);
	for (size_t i = 0; i < 200; i++)
		assert_int_equal(v[i], 0);

	uint64_t failures = f->stats.failures;
	assert_null(rg_arena_calloc(f->arena, SIZE_MAX / 2 + 2, 2));
	assert_null(rg_arena_calloc(f->arena, (SIZE_MAX >> 4) + 1, 32));
	assert_null(rg_arena_calloc(f->arena, SIZE_MAX, SIZE_MAX));
	assert_int_equal(f->stats.failures, failures + 3);
}

static void strndup_and_memdup(void **state)
{
	struct fixture *f = *state;
	char *s = rg_arena_strndup(f->arena, "Content-Length", 7);
	assert_string_equal(s, "Content");
	s = rg_arena_strndup(f->arena, "Host", 100);
	assert_string_equal(s, "Host");
	s = rg_arena_strndup(f->arena, "x", 0);
	assert_string_equal(s, "");

	const unsigned char bytes[] = {0, 1, 2, 0xff, 0, 7};
	unsigned char *d = rg_arena_memdup(f->arena, bytes, sizeof(bytes));
	assert_non_null(d);
	assert_ptr_not_equal(d, bytes);
	assert_memory_equal(d, bytes, sizeof(bytes));

	char big[3000];
	memset(big, 'z', sizeof(big));
	d = rg_arena_memdup(f->arena, big, sizeof(big));
	assert_non_null(d);
	assert_memory_equal(d, big, sizeof(big));
}

static void realloc_in_place_and_copy(void **state)
{
	struct fixture *f = *state;
	char *p = rg_arena_alloc(f->arena, 10);
	memcpy(p, "0123456789", 10);
	char *q = rg_arena_realloc(f->arena, p, 10, 100);
	assert_ptr_equal(q, p);
	assert_memory_equal(q, "0123456789", 10);
	memset(q + 10, 'a', 90);
	assert_int_equal(rg_arena_used(f->arena), 100);

	/* Once something else is allocated, p is no longer the top. */
	char *other = rg_arena_alloc(f->arena, 8);
	memset(other, 'o', 8);
	char *r = rg_arena_realloc(f->arena, q, 100, 200);
	assert_non_null(r);
	assert_ptr_not_equal(r, q);
	assert_memory_equal(r, "0123456789", 10);
	for (int i = 10; i < 100; i++)
		assert_int_equal(r[i], 'a');
	assert_memory_equal(other, "oooooooo", 8);

	/* A top allocation without room left in its block is copied. */
	rg_arena_reset(f->arena);
	for (int i = 0; i < 3; i++)
		assert_non_null(rg_arena_alloc(f->arena, QUARTER));
	char *tail = rg_arena_alloc(f->arena, BLOCK - 3 * QUARTER - 300);
	memcpy(tail, "tail", 4);
	char *t = rg_arena_realloc(f->arena, tail, BLOCK - 3 * QUARTER - 300,
				   QUARTER);
	assert_non_null(t);
	assert_ptr_not_equal(t, tail);
	assert_false(in_block(t, f->arena));
	assert_memory_equal(t, "tail", 4);

	/* NULL is a plain allocation; shrinking keeps the pointer. */
	char *n = rg_arena_realloc(f->arena, NULL, 0, 16);
	assert_non_null(n);
	assert_ptr_equal(rg_arena_realloc(f->arena, t, QUARTER, 5), t);
}

static void realloc_spilled(void **state)
{
	struct fixture *f = *state;
	uint64_t before = f->account.reserved;
	char *p = rg_arena_alloc(f->arena, 5000);
	assert_non_null(p);
	for (int i = 0; i < 5000; i++)
		p[i] = (char)i;
	assert_int_equal(f->account.reserved, before + 5000);

	char *q = rg_arena_realloc(f->arena, p, 5000, 100000);
	assert_non_null(q);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(q[i], (char)i);
	memset(q + 5000, 1, 95000);
	assert_int_equal(f->account.reserved, before + 100000);

	/* Growing a block allocation past a quarter block spills it. */
	char *s = rg_arena_alloc(f->arena, 100);
	memset(s, 's', 100);
	s = rg_arena_realloc(f->arena, s, 100, 2000);
	assert_non_null(s);
	assert_false(in_block(s, f->arena));
	assert_int_equal(s[99], 's');
	assert_int_equal(f->account.reserved, before + 102000);

	rg_arena_reset(f->arena);
	assert_int_equal(f->account.reserved, before);
	assert_int_equal(f->stats.spills, 2);
}

static void chains_blocks_when_full(void **state)
{
	struct fixture *f = *state;
	size_t reserved = rg_arena_reserved(f->arena);
	assert_int_equal(reserved, BLOCK);
	size_t in_use = pool_in_use(f->blocks);

	for (int i = 0; i < 3; i++)
		assert_non_null(rg_arena_alloc(f->arena, QUARTER));
	assert_int_equal(rg_arena_reserved(f->arena), BLOCK);
	char *p = rg_arena_alloc(f->arena, QUARTER);
	assert_non_null(p);
	assert_false(in_block(p, f->arena));
	assert_int_equal(rg_arena_reserved(f->arena), 2 * BLOCK);
	assert_int_equal(pool_in_use(f->blocks), in_use + 1);

	/* The first block's remaining room is still used for what fits. */
	char *small = rg_arena_alloc(f->arena, 64);
	assert_true(in_block(small, f->arena));
}

/* Probes with a small allocation that fits in any block's slack; returns
 * the index of the block (by its first quarter-block allocation) it lands in,
 * or -1 for the first block. */
static int probe_block(struct rg_arena *arena, char **firsts, int nfirsts)
{
	char *p = rg_arena_alloc(arena, 16);
	assert_non_null(p);
	if (in_block(p, arena))
		return -1;
	for (int i = 0; i < nfirsts; i++)
		if (p >= firsts[i] + 3 * QUARTER && p < firsts[i] + BLOCK)
			return i;
	fail_msg("probe %p in no known block", (void *)p);
	return -2;
}

static void skips_blocks_that_keep_failing(void **state)
{
	struct fixture *f = *state;
	enum { EXTRA = 64 };
	char *firsts[EXTRA];
	int nfirsts = 0;

	/* Every block keeps some slack that a quarter block cannot use. */
	while (nfirsts < EXTRA) {
		size_t reserved = rg_arena_reserved(f->arena);
		char *p = rg_arena_alloc(f->arena, QUARTER);
		assert_non_null(p);
		if (rg_arena_reserved(f->arena) == reserved)
			continue;
		assert_int_equal(rg_arena_reserved(f->arena), reserved + BLOCK);
		firsts[nfirsts++] = p;
		if (nfirsts == 1)
			assert_int_equal(probe_block(f->arena, firsts, 0), -1);
	}
	/* Without skipping, the probe would land in the first block, which
	 * still has room: allocation would walk 64 blocks to find it. */
	int i = probe_block(f->arena, firsts, nfirsts);
	assert_true(i >= EXTRA - 8);
}

/* rg_arena_set_spill (large_alloc_spill): raised, allocations up to a
 * block's room chain blocks from the pool instead of calling the heap;
 * capped, a block-sized one still spills; lowered, small ones spill. */
static void spill_threshold_is_settable(void **state)
{
	struct fixture *f = *state;
	uint64_t account = f->account.reserved;
	rg_arena_set_spill(f->arena, 1 << 20);
	char *a = rg_arena_alloc(f->arena, 3 * QUARTER);
	char *b = rg_arena_alloc(f->arena, 3 * QUARTER); /* a second block */
	assert_true(in_block(a, f->arena) && b && !in_block(b, f->arena));
	assert_int_equal(f->account.reserved, account);	  /* no heap */
	assert_non_null(rg_arena_alloc(f->arena, BLOCK)); /* above the cap */
	assert_int_equal(f->account.reserved, account + BLOCK);
	rg_arena_reset(f->arena);
	assert_int_equal(f->stats.spills, 1);
	assert_int_equal(f->stats.extra_blocks, 1);

	rg_arena_set_spill(f->arena, 64);
	char *c = rg_arena_alloc(f->arena, 65);
	assert_false(in_block(c, f->arena));
	assert_true(in_block(rg_arena_alloc(f->arena, 64), f->arena));
	rg_arena_reset(f->arena);
	assert_int_equal(f->stats.spills, 2);
}

static void large_allocations_spill_to_heap(void **state)
{
	struct fixture *f = *state;
	uint64_t account = f->account.reserved;
	size_t pool_used = pool_in_use(f->blocks);

	char *at_limit = rg_arena_alloc(f->arena, QUARTER);
	assert_true(in_block(at_limit, f->arena));
	char *big = rg_arena_alloc(f->arena, QUARTER + 1);
	assert_non_null(big);
	assert_false(in_block(big, f->arena));
	memset(big, 1, QUARTER + 1);
	char *huge = rg_arena_alloc(f->arena, 1 << 20);
	assert_non_null(huge);
	memset(huge, 2, 1 << 20);
	assert_int_equal(f->account.reserved,
			 account + QUARTER + 1 + (1 << 20));
	assert_int_equal(pool_in_use(f->blocks), pool_used);

	rg_arena_reset(f->arena);
	assert_int_equal(f->stats.spills, 2);
	assert_int_equal(f->stats.spill_bytes, QUARTER + 1 + (1 << 20));
	assert_int_equal(f->account.reserved, account);

	/* Spills of the next lifecycle are counted on their own. */
	assert_non_null(rg_arena_alloc(f->arena, 2 * QUARTER));
	rg_arena_destroy(f->arena);
	assert_int_equal(f->stats.spills, 3);
	assert_int_equal(f->account.reserved, account);
	f->arena = rg_arena_create(f->blocks, &f->stats);
	assert_non_null(f->arena);
}

static void record(struct trace *t, char c)
{
	assert_true(t->n < (int)sizeof(t->order) - 1);
	t->order[t->n++] = c;
}

static void cleanup_a(void *data)
{
	record(data, 'a');
}

static void cleanup_b(void *data)
{
	record(data, 'b');
}

static void cleanup_c(void *data)
{
	record(data, 'c');
}

static void cleanups_run_lifo_once(void **state)
{
	struct fixture *f = *state;
	struct trace *t = &f->trace;
	assert_int_equal(rg_arena_cleanup_add(f->arena, cleanup_a, t), 0);
	assert_int_equal(rg_arena_cleanup_add(f->arena, cleanup_b, t), 0);
	assert_int_equal(rg_arena_cleanup_add(f->arena, cleanup_c, t), 0);
	assert_int_equal(t->n, 0);
	rg_arena_reset(f->arena);
	assert_string_equal(t->order, "cba");
	rg_arena_reset(f->arena);
	assert_string_equal(t->order, "cba");

	assert_int_equal(rg_arena_cleanup_add(f->arena, cleanup_a, t), 0);
	assert_int_equal(rg_arena_cleanup_add(f->arena, cleanup_b, t), 0);
	rg_arena_destroy(f->arena);
	assert_string_equal(t->order, "cbaba");
	f->arena = rg_arena_create(f->blocks, &f->stats);
	assert_non_null(f->arena);
	rg_arena_reset(f->arena);
	assert_string_equal(t->order, "cbaba");
}

static void reset_keeps_first_block(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(pool_in_use(f->blocks), 1);
	char *first = rg_arena_alloc(f->arena, 32);
	assert_true(in_block(first, f->arena));
	for (int i = 0; i < 20; i++)
		assert_non_null(rg_arena_alloc(f->arena, QUARTER));
	assert_int_equal(pool_in_use(f->blocks), 7);
	assert_int_equal(rg_arena_reserved(f->arena), 7 * BLOCK);

	rg_arena_reset(f->arena);
	assert_int_equal(pool_in_use(f->blocks), 1);
	assert_int_equal(rg_arena_reserved(f->arena), BLOCK);
	assert_int_equal(rg_arena_used(f->arena), 0);
	/* The same arena serves the next request from the start of its
	 * block again. */
	assert_ptr_equal(rg_arena_alloc(f->arena, 32), first);

	rg_arena_destroy(f->arena);
	assert_int_equal(pool_in_use(f->blocks), 0);
	f->arena = rg_arena_create(f->blocks, &f->stats);
	assert_non_null(f->arena);
}

static void million_lifecycles_do_not_grow(void **state)
{
	struct fixture *f = *state;
	enum { CYCLES = 1000000, WARMUP = 1000 };
	uint32_t x = 12345;
	uint64_t reserved = 0, capacity = 0;
	for (int cycle = 0; cycle < CYCLES; cycle++) {
		if (cycle == WARMUP) {
			reserved = f->account.reserved;
			capacity = pool_capacity(f->blocks);
		}
		/* Now and then a whole arena lifetime, not just a reset. */
		if (cycle % 1000 == 999) {
			rg_arena_destroy(f->arena);
			f->arena = rg_arena_create(f->blocks, &f->stats);
			assert_non_null(f->arena);
		}
		x = x * 1103515245 + 12345;
		int n = 20 + (int)(x >> 16) % 21;
		for (int i = 0; i < n; i++) {
			x = x * 1103515245 + 12345;
			size_t size = 16 + (x >> 8) % 497;
			char *p = rg_arena_alloc(f->arena, size);
			if (!p)
				fail_msg("cycle %d alloc %d of %zu", cycle, i,
					 size);
			p[0] = p[size - 1] = 1;
		}
		rg_arena_reset(f->arena);
	}
	assert_int_equal(f->account.reserved, reserved);
	assert_int_equal(pool_capacity(f->blocks), capacity);
	assert_int_equal(pool_in_use(f->blocks), 1);
	assert_int_equal(f->stats.lifecycles, CYCLES + CYCLES / 1000);
	assert_int_equal(f->stats.failures, 0);
}

static void overflow_sizes_fail(void **state)
{
	struct fixture *f = *state;
	const size_t sizes[] = {
	    SIZE_MAX,
	    SIZE_MAX - 8,
	    SIZE_MAX - 15,
	    (size_t)PTRDIFF_MAX + 1,
	};
	uint64_t account = f->account.reserved;
	size_t reserved = rg_arena_reserved(f->arena);
	size_t used = rg_arena_used(f->arena);
	uint64_t failures = 0;
	/* Many times over, so that any per-failure cost would show. */
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			assert_null(rg_arena_alloc(f->arena, sizes[i]));
			assert_null(
			    rg_arena_alloc_aligned(f->arena, sizes[i], 16));
			assert_null(rg_arena_calloc(f->arena, 1, sizes[i]));
			failures += 3;
		}
	}
	char *p = rg_arena_alloc(f->arena, 8);
	assert_null(rg_arena_realloc(f->arena, p, 8, SIZE_MAX));
	assert_null(rg_arena_realloc(f->arena, p, 8, SIZE_MAX - 8));
	char *big = rg_arena_alloc(f->arena, 3 * QUARTER);
	assert_non_null(big);
	assert_null(rg_arena_realloc(f->arena, big, 3 * QUARTER, SIZE_MAX));
	assert_null(rg_arena_memdup(f->arena, p, SIZE_MAX));
	failures += 4;

	assert_int_equal(f->stats.failures, failures);
	assert_int_equal(f->account.reserved, account + 3 * QUARTER);
	assert_int_equal(rg_arena_reserved(f->arena), reserved);
	assert_int_equal(rg_arena_used(f->arena), used + 8 + 3 * QUARTER);
}

static void fails_cleanly_when_pool_exhausted(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(2, 2);
	char *a = rg_arena_alloc(f->arena, 100);
	memset(a, 'a', 100);
	int n = 0;
	while (rg_arena_alloc(f->arena, QUARTER))
		n++;
	assert_int_equal(n, 6); /* 3 per block, two blocks */
	assert_int_equal(f->stats.failures, 1);
	/* The blocks' slack still serves small requests, up to the end. */
	assert_non_null(rg_arena_alloc(f->arena, 16));
	while (rg_arena_alloc(f->arena, 16))
		;
	assert_int_equal(f->stats.failures, 2);
	assert_int_equal(rg_arena_cleanup_add(f->arena, cleanup_a, NULL),
			 -ENOMEM);
	assert_int_equal(f->stats.failures, 3);
	for (int i = 0; i < 100; i++)
		assert_int_equal(a[i], 'a');

	/* No arena at all without a block. */
	assert_null(rg_arena_create(f->blocks, &f->stats));
	assert_int_equal(errno, ENOMEM);

	rg_arena_reset(f->arena);
	assert_non_null(rg_arena_alloc(f->arena, QUARTER));
	assert_non_null(rg_arena_alloc(f->arena, QUARTER));
	teardown((void **)&f);
}

static void stats_exact(void **state)
{
	struct fixture *f = *state;
	/* Lifecycle 1: 3 small allocations and a cleanup (not an allocation),
	 * 4 quarter blocks (the 4th chains a block), a spill. */
	assert_non_null(rg_arena_alloc(f->arena, 100));
	assert_non_null(rg_arena_alloc(f->arena, 24));
	assert_non_null(rg_arena_strndup(f->arena, "hello", 5)); /* 6 bytes */
	assert_int_equal(rg_arena_cleanup_add(f->arena, cleanup_a, &f->trace),
			 0);
	for (int i = 0; i < 4; i++)
		assert_non_null(rg_arena_alloc(f->arena, QUARTER));
	assert_non_null(rg_arena_alloc(f->arena, 3000));
	assert_int_equal(rg_arena_used(f->arena), 130 + 4 * QUARTER + 3000);
	assert_int_equal(rg_arena_reserved(f->arena), 2 * BLOCK);
	rg_arena_reset(f->arena);
	assert_string_equal(f->trace.order, "a");

	/* Lifecycle 2: two allocations, one failure, then destroy. */
	assert_non_null(rg_arena_calloc(f->arena, 4, 8));
	assert_non_null(rg_arena_alloc(f->arena, 1));
	assert_null(rg_arena_alloc(f->arena, SIZE_MAX));
	rg_arena_destroy(f->arena);
	f->arena = NULL;

	assert_int_equal(f->stats.live, 0);
	assert_int_equal(f->stats.lifecycles, 2);
	assert_int_equal(f->stats.allocs, 8 + 2);
	/* Block bytes: the spill is spill_bytes, not used bytes of a block. */
	assert_int_equal(f->stats.bytes_used, 130 + 4 * QUARTER + 33);
	assert_int_equal(f->stats.bytes_reserved, 2 * BLOCK + BLOCK);
	assert_int_equal(f->stats.extra_blocks, 1);
	assert_int_equal(f->stats.spills, 1);
	assert_int_equal(f->stats.spill_bytes, 3000);
	assert_int_equal(f->stats.failures, 1);

	f->arena = rg_arena_create(f->blocks, &f->stats);
	assert_int_equal(f->stats.live, 1);
}

static void reset_poisons_memory(void **state)
{
#ifdef RG_ASAN
	(void)state;
	skip(); /* reading reset memory is itself an ASan report */
#elif !defined(RG_POISONING)
	(void)state;
	skip(); /* poisoning is for debug builds */
#else
	struct fixture *f = *state;
	unsigned char *p = rg_arena_alloc(f->arena, 200);
	memset(p, 0, 200);
	unsigned char *q = NULL;
	for (int i = 0; i < 4; i++)
		q = rg_arena_alloc(f->arena, QUARTER);
	assert_false(in_block(q, f->arena));
	memset(q, 0, QUARTER);
	rg_arena_reset(f->arena);
	for (int i = 0; i < 200; i++)
		assert_int_equal(p[i], RG_POISON_BYTE);
	/* The extra block went back to the pool, poisoned there. */
	for (int i = 0; i < QUARTER; i++)
		assert_int_equal(q[i], RG_POISON_BYTE);
#endif
}

static void use_after_reset_is_reported(void **state)
{
#ifndef RG_ASAN
	(void)state;
	skip(); /* needs AddressSanitizer */
#else
	struct fixture *f = *state;
	char *p = rg_arena_alloc(f->arena, 64);
	memset(p, 1, 64);
	rg_arena_reset(f->arena);
	char err[16384];
	int status = run_child(read_byte, p + 8, err, sizeof(err));
	assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(strstr(err, "use-after-poison"));

	/* The same holds for an extra block back in the pool. */
	for (int i = 0; i < 4; i++)
		p = rg_arena_alloc(f->arena, QUARTER);
	assert_false(in_block(p, f->arena));
	rg_arena_reset(f->arena);
	status = run_child(read_byte, p, err, sizeof(err));
	assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(strstr(err, "use-after-poison"));
#endif
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(natural_alignment),
	    T(calloc_zeroes_and_checks_overflow),
	    T(strndup_and_memdup),
	    T(realloc_in_place_and_copy),
	    T(realloc_spilled),
	    T(chains_blocks_when_full),
	    T(skips_blocks_that_keep_failing),
	    T(large_allocations_spill_to_heap),
	    T(spill_threshold_is_settable),
	    T(cleanups_run_lifo_once),
	    T(reset_keeps_first_block),
	    T(million_lifecycles_do_not_grow),
	    T(overflow_sizes_fail),
	    cmocka_unit_test(fails_cleanly_when_pool_exhausted),
	    T(stats_exact),
	    T(reset_poisons_memory),
	    T(use_after_reset_is_reported),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
