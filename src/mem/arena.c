/* arena.c: Tier 1, the request arena: bump allocation over pooled blocks,
 * heap spills for large allocations, LIFO cleanups, O(blocks) reset.
 *
 * Layout, after nginx's ngx_pool_t: the arena header sits at the start of its
 * first block; every further block starts with a small block header. A block
 * that fails to satisfy more than RG__BLOCK_MAX_FAILS requests is skipped
 * from then on, so allocation never walks a long chain. */
#include "account.h"
#include "poison.h"
#include "pool.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define RG__BLOCK_MAX_FAILS 4

struct rg__block {
	char *last; /* first free byte */
	char *end;
	struct rg__block *next;
	unsigned failed;
};

struct rg__spill {
	struct rg__spill *next;
	void *ptr;
	size_t size;
};

struct rg__cleanup {
	struct rg__cleanup *next;
	void (*fn)(void *data);
	void *data;
};

struct rg_arena {
	struct rg__block first;
	struct rg__block *current; /* first block worth trying */
	struct rg__block *top_block;
	char *top; /* most recent block allocation, for in-place realloc */
	struct rg__spill *spills;
	struct rg__cleanup *cleanups;
	struct rg_pool *blocks;
	struct rg_mem_account *account;
	struct rg_arena_stats *stats;
	size_t block_size;
	size_t spill_above; /* larger allocations go to the heap */
	size_t used;	    /* this lifecycle, padding excluded */
	size_t spill_bytes;
	uint32_t allocs, nblocks, nspills;
};

/* Where the first block's payload begins. */
#define RG__ARENA_HEAD ((sizeof(struct rg_arena) + 15) & ~(size_t)15)

struct rg_arena *rg_arena_create(struct rg_pool *blocks,
				 struct rg_arena_stats *stats)
{
	size_t block_size = rg_pool_object_size(blocks);
	if (block_size < RG__ARENA_HEAD + 64) {
		errno = EINVAL;
		return NULL;
	}
	struct rg_arena *a = rg_pool_get(blocks);
	if (!a) {
		errno = ENOMEM;
		return NULL;
	}
	*a = (struct rg_arena){
	    .first = {.last = (char *)a + RG__ARENA_HEAD,
		      .end = (char *)a + block_size},
	    .blocks = blocks,
	    .account = rg__pool_account(blocks),
	    .stats = stats,
	    .block_size = block_size,
	    .spill_above = block_size / 4,
	    .nblocks = 1,
	};
	a->current = &a->first;
	rg__poison(a->first.last, (size_t)(a->first.end - a->first.last));
	if (stats)
		stats->live++;
	return a;
}

void rg_arena_set_spill(struct rg_arena *a, size_t bytes)
{
	/* What a fresh chained block can hold, its header and alignment
	 * slack aside: anything larger must go to the heap anyway. */
	size_t cap = a->block_size - sizeof(struct rg__block) - 16;
	a->spill_above = bytes < cap ? bytes : cap;
}

static void *alloc_failed(struct rg_arena *a)
{
	if (a->stats)
		a->stats->failures++;
	return NULL;
}

static void *carve(struct rg_arena *a, struct rg__block *b, char *p,
		   size_t size)
{
	b->last = p + size;
	a->top = p;
	a->top_block = b;
	rg__unpoison(p, size);
	return p;
}

/* The aligned start of `size` bytes in `b`, or NULL if they do not fit. */
static char *fit(const struct rg__block *b, size_t size, size_t align)
{
	uintptr_t p =
	    ((uintptr_t)b->last + align - 1) & ~(uintptr_t)(align - 1);
	if (p > (uintptr_t)b->end || (uintptr_t)b->end - p < size)
		return NULL;
	return (char *)p;
}

static void *alloc_block(struct rg_arena *a, size_t size, size_t align)
{
	/* A block beyond the first is growth: bulk (account.h). */
	struct rg__block *b = rg__pool_get_bulk(a->blocks);
	if (!b)
		return NULL;
	b->last = (char *)b + ((sizeof(*b) + 15) & ~(size_t)15);
	b->end = (char *)b + a->block_size;
	b->next = NULL;
	b->failed = 0;
	rg__poison(b->last, (size_t)(b->end - b->last));
	a->nblocks++;

	struct rg__block *tail = a->current;
	for (; tail->next; tail = tail->next)
		if (tail->failed++ > RG__BLOCK_MAX_FAILS)
			a->current = tail->next;
	tail->next = b;
	return carve(a, b, fit(b, size, align), size);
}

/* Bytes from the blocks, not counted as an allocation: the arena's own
 * records (spills, cleanups) come from here too. */
static void *block_alloc(struct rg_arena *a, size_t size, size_t align)
{
	for (struct rg__block *b = a->current; b; b = b->next) {
		char *p = fit(b, size, align);
		if (p)
			return carve(a, b, p, size);
	}
	return alloc_block(a, size, align);
}

/* The heap part first: a size that cannot be served must not cost a record
 * (or a block) in the arena. */
static void *spill(struct rg_arena *a, size_t size)
{
	void *p = rg__sys_alloc(a->account, size);
	if (!p)
		return NULL;
	struct rg__spill *s = block_alloc(a, sizeof(*s), 8);
	if (!s) {
		rg__sys_free(a->account, p, size);
		return NULL;
	}
	s->ptr = p;
	s->size = size;
	s->next = a->spills;
	a->spills = s;
	a->nspills++;
	a->spill_bytes += size;
	return p;
}

static __attribute__((noinline)) void *alloc_slow(struct rg_arena *a,
						  size_t size, size_t align)
{
	void *p = size > a->spill_above ? spill(a, size)
					: block_alloc(a, size, align);
	if (!p)
		return alloc_failed(a);
	a->used += size;
	a->allocs++;
	return p;
}

/* The fast path: the current block has room. */
static inline __attribute__((always_inline)) void *
arena_alloc(struct rg_arena *a, size_t size, size_t align)
{
	struct rg__block *b = a->current;
	char *p = fit(b, size, align);
	if (__builtin_expect(p && size <= a->spill_above, 1)) {
		a->used += size;
		a->allocs++;
		return carve(a, b, p, size);
	}
	return alloc_slow(a, size, align);
}

void *rg_arena_alloc_aligned(struct rg_arena *a, size_t size, size_t align)
{
	return arena_alloc(a, size, align);
}

void *rg_arena_alloc(struct rg_arena *a, size_t size)
{
	size_t align = size & -size; /* largest power of two dividing size */
	if (align == 0 || align > 16)
		align = 16;
	return arena_alloc(a, size, align);
}

void *rg_arena_calloc(struct rg_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return alloc_failed(a);
	void *p = rg_arena_alloc(a, n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

static struct rg__spill *find_spill(struct rg_arena *a, const void *ptr)
{
	for (struct rg__spill *s = a->spills; s; s = s->next)
		if (s->ptr == ptr)
			return s;
	return NULL;
}

void *rg_arena_realloc(struct rg_arena *a, void *ptr, size_t old_size,
		       size_t new_size)
{
	if (!ptr)
		return rg_arena_alloc(a, new_size);
	if (ptr == a->top) {
		struct rg__block *b = a->top_block;
		if ((size_t)(b->end - a->top) >= new_size &&
		    new_size <= a->spill_above) {
			b->last = a->top + new_size;
			if (new_size > old_size) {
				rg__unpoison(a->top + old_size,
					     new_size - old_size);
				a->used += new_size - old_size;
			} else {
				rg__poison(a->top + new_size,
					   old_size - new_size);
			}
			return ptr;
		}
	} else if (old_size > a->spill_above && new_size > a->spill_above) {
		struct rg__spill *s = find_spill(a, ptr);
		if (s) {
			void *q = rg__sys_realloc(a->account, s->ptr, s->size,
						  new_size);
			if (!q)
				return alloc_failed(a);
			if (new_size > s->size) {
				a->used += new_size - s->size;
				a->spill_bytes += new_size - s->size;
			}
			s->ptr = q;
			s->size = new_size;
			return q;
		}
	}
	if (new_size <= old_size)
		return ptr;
	void *q = rg_arena_alloc(a, new_size);
	if (q)
		memcpy(q, ptr, old_size);
	return q;
}

void *rg_arena_memdup(struct rg_arena *a, const void *src, size_t size)
{
	void *p = rg_arena_alloc_aligned(a, size, 1);
	if (p && size)
		memcpy(p, src, size);
	return p;
}

char *rg_arena_strndup(struct rg_arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	if (len == SIZE_MAX)
		return alloc_failed(a);
	char *p = rg_arena_alloc_aligned(a, len + 1, 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

int rg_arena_cleanup_add(struct rg_arena *a, void (*fn)(void *data), void *data)
{
	struct rg__cleanup *c = block_alloc(a, sizeof(*c), 8);
	if (!c) {
		alloc_failed(a);
		return -ENOMEM;
	}
	c->fn = fn;
	c->data = data;
	c->next = a->cleanups;
	a->cleanups = c;
	return 0;
}

size_t rg_arena_used(const struct rg_arena *a)
{
	return a->used;
}

size_t rg_arena_reserved(const struct rg_arena *a)
{
	return a->nblocks * a->block_size;
}

/* Runs cleanups, frees spills and extra blocks, folds counters into stats.
 * Leaves the first block as it is. */
static void release(struct rg_arena *a)
{
	/* A cleanup may allocate from the arena (rarely useful, but legal):
	 * take the list first so that it runs each handler once. */
	while (a->cleanups) {
		struct rg__cleanup *c = a->cleanups;
		a->cleanups = c->next;
		c->fn(c->data);
	}
	for (struct rg__spill *s = a->spills; s; s = s->next)
		rg__sys_free(a->account, s->ptr, s->size);

	struct rg_arena_stats *st = a->stats;
	if (st) {
		st->lifecycles++;
		st->allocs += a->allocs;
		/* Block bytes only: utilisation is used / reserved, and
		 * spills are heap, not block (they are spill_bytes). */
		st->bytes_used += a->used - a->spill_bytes;
		st->bytes_reserved += rg_arena_reserved(a);
		st->extra_blocks += a->nblocks - 1;
		st->spills += a->nspills;
		st->spill_bytes += a->spill_bytes;
	}

	struct rg__block *b = a->first.next;
	while (b) {
		struct rg__block *next = b->next;
		rg_pool_put(a->blocks, b);
		b = next;
	}
}

void rg_arena_reset(struct rg_arena *a)
{
	release(a);
	char *start = (char *)a + RG__ARENA_HEAD;
	rg__poison(start, (size_t)(a->first.last - start));
	a->first.last = start;
	a->first.next = NULL;
	a->first.failed = 0;
	a->current = &a->first;
	a->top = NULL;
	a->top_block = NULL;
	a->spills = NULL;
	a->used = 0;
	a->spill_bytes = 0;
	a->allocs = 0;
	a->nblocks = 1;
	a->nspills = 0;
}

void rg_arena_destroy(struct rg_arena *a)
{
	if (!a)
		return;
	release(a);
	if (a->stats)
		a->stats->live--;
	rg_pool_put(a->blocks, a);
}
