/* ringlet.h: the one public header of ringlet, an HTTP/1.1 server framework.
 *
 * Conventions: functions return 0 or a negative errno unless they return a
 * pointer (NULL on failure); the allocator or owner comes first in every
 * signature; every pointer returned says how long it lives. */
#ifndef RINGLET_H
#define RINGLET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RG_VERSION "0.1.0"

/* A slice of bytes, not NUL-terminated. Slices of a request point into the
 * connection's receive buffer or the request's arena: valid until the
 * request's arena is reset (the response is done). */
struct rg_str {
	const char *ptr;
	size_t len;
};

/* A header field as received: name and value, value without surrounding
 * whitespace. */
struct rg_header {
	struct rg_str name;
	struct rg_str value;
};

/* ------------------------------------------------------------------------
 * Memory accounting
 *
 * Every tier charges what it takes from the system (mappings, heap spills)
 * to one account per worker. The account is a plain struct of counters so it
 * can live in shared memory; fill in `limit` and zero the rest.
 * ------------------------------------------------------------------------ */

struct rg_mem_account {
	uint64_t limit;    /* bytes; 0 = unlimited (memory_limit) */
	uint64_t reserved; /* bytes currently taken from the system */
	uint64_t peak;     /* high-water mark of `reserved` */
	uint64_t failures; /* requests refused because of `limit` */
};

/* ------------------------------------------------------------------------
 * Tier 2: object pool
 *
 * Fixed-size objects carved from large mappings, handed out LIFO (the most
 * recently freed object first, for cache warmth). get and put are O(1) and
 * never call malloc. Not thread-safe: one pool per worker.
 * ------------------------------------------------------------------------ */

struct rg_pool;

struct rg_pool_config {
	size_t object_size; /* bytes per object; rounded up to 16 */
	size_t initial;     /* objects mapped at creation */
	size_t grow_by;     /* objects mapped per growth step; 0 = never grow */
	size_t max;         /* hard cap on objects; 0 = `initial` */
	int guard_pages;    /* nonzero: page-align objects, PROT_NONE page below
	                       each one (coroutine stacks) */
};

struct rg_pool_stats {
	uint64_t object_size;    /* bytes per object after rounding */
	uint64_t capacity;       /* objects mapped now */
	uint64_t max;            /* hard cap */
	uint64_t in_use;         /* objects handed out now */
	uint64_t high_water;     /* most objects ever handed out at once */
	uint64_t gets;           /* successful gets */
	uint64_t failures;       /* gets refused (cap or memory limit) */
	uint64_t bytes_reserved; /* bytes mapped, headers and guards included */
};

/* Creates a pool and maps `initial` objects up front. `account` may be NULL.
 * Returns NULL (errno set) on a bad config or if the mapping fails. */
struct rg_pool *rg_pool_create(const struct rg_pool_config *config,
			       struct rg_mem_account *account);

/* Unmaps every chunk. Objects still out become invalid. */
void rg_pool_destroy(struct rg_pool *pool);

/* An object of `object_size` bytes, or NULL when the cap or the memory limit
 * is reached (counted in `failures`). Contents are unspecified. */
void *rg_pool_get(struct rg_pool *pool);

/* Returns an object obtained from rg_pool_get of the same pool. */
void rg_pool_put(struct rg_pool *pool, void *object);

/* Object size after rounding. */
size_t rg_pool_object_size(const struct rg_pool *pool);

void rg_pool_stats(const struct rg_pool *pool, struct rg_pool_stats *out);

/* ------------------------------------------------------------------------
 * Tier 3: buffer slab
 *
 * Size classes, each backed by a pool. A buffer belongs to the class of the
 * size it was asked with; free it with the same size.
 * ------------------------------------------------------------------------ */

#define RG_SLAB_MAX_CLASSES 8

struct rg_slab;

struct rg_slab_config {
	size_t sizes[RG_SLAB_MAX_CLASSES]; /* ascending; 0 ends the list;
	                                      all zero = 256, 1024, 8192 */
	size_t initial;                    /* buffers mapped per class */
	size_t max;                        /* cap per class; 0 = `initial` */
};

struct rg_slab_class_stats {
	uint64_t size;        /* class size in bytes */
	uint64_t allocs;      /* buffers handed out, ever */
	uint64_t bytes_asked; /* sum of the sizes asked for */
	uint64_t bytes_given; /* sum of the class sizes given */
	struct rg_pool_stats pool;
};

struct rg_slab_stats {
	unsigned nclasses;
	uint64_t too_large; /* requests above the largest class */
	struct rg_slab_class_stats classes[RG_SLAB_MAX_CLASSES];
};

/* Creates the slab with one pool per class; NULL (errno set) on failure. */
struct rg_slab *rg_slab_create(const struct rg_slab_config *config,
			       struct rg_mem_account *account);
void rg_slab_destroy(struct rg_slab *slab);

/* A buffer of at least `size` bytes from the smallest class that fits, or
 * NULL if `size` exceeds the largest class (the caller falls back to the
 * arena or heap) or the class is exhausted. `*capacity`, if not NULL,
 * receives the class size: the whole of it may be used. */
void *rg_slab_alloc(struct rg_slab *slab, size_t size, size_t *capacity);

/* Returns a buffer; `size` is the size it was asked with (or its capacity). */
void rg_slab_free(struct rg_slab *slab, void *buffer, size_t size);

void rg_slab_stats(const struct rg_slab *slab, struct rg_slab_stats *out);

/* ------------------------------------------------------------------------
 * Tier 1: request arena
 *
 * A bump allocator over fixed-size blocks drawn from a pool (the block
 * source). The arena's own header lives in its first block. Allocations
 * larger than a quarter of a block go to the heap, are tracked, and are
 * freed at reset ("spills"). Everything an arena hands out stays valid until
 * the arena is reset or destroyed. Not thread-safe.
 * ------------------------------------------------------------------------ */

struct rg_arena;

/* Counters summed over every arena that reports to them; owned by the
 * caller (a worker keeps one set), plain integers so they can live in
 * shared memory. Updated at reset/destroy, except `failures`. */
struct rg_arena_stats {
	uint64_t live;           /* arenas created and not destroyed */
	uint64_t lifecycles;     /* resets + destroys */
	uint64_t allocs;         /* allocations served */
	uint64_t bytes_used;     /* bytes handed out, padding excluded */
	uint64_t bytes_reserved; /* block bytes held, summed per lifecycle */
	uint64_t extra_blocks;   /* blocks chained beyond the first */
	uint64_t spills;         /* allocations sent to the heap */
	uint64_t spill_bytes;
	uint64_t failures;       /* allocations that returned NULL */
};

/* Creates an arena in a block taken from `blocks`. `stats` may be NULL.
 * Returns NULL if the pool is exhausted or too small to hold an arena. */
struct rg_arena *rg_arena_create(struct rg_pool *blocks,
				 struct rg_arena_stats *stats);

/* Runs cleanups (last registered first), frees spills, returns every block
 * to the pool, the first one included. */
void rg_arena_destroy(struct rg_arena *arena);

/* Like destroy, but keeps the first block: the arena is ready for the next
 * request. O(number of extra blocks + spills + cleanups). */
void rg_arena_reset(struct rg_arena *arena);

/* `size` bytes aligned to the largest power of two dividing `size`, at most
 * 16 ("natural alignment": a 24-byte struct gets 8, a string gets 1).
 * NULL on overflow, exhausted pool or memory limit. */
void *rg_arena_alloc(struct rg_arena *arena, size_t size);

/* `size` bytes aligned to `align` (a power of two, at most 16). */
void *rg_arena_alloc_aligned(struct rg_arena *arena, size_t size,
			     size_t align);

/* Zeroed array of `n` elements; NULL if `n * size` overflows. */
void *rg_arena_calloc(struct rg_arena *arena, size_t n, size_t size);

/* Grows or shrinks `ptr` (allocated from this arena with `old_size`
 * bytes). When `ptr` is the most recent allocation and the block has room,
 * it grows in place; otherwise the bytes are copied. `ptr` may be NULL. */
void *rg_arena_realloc(struct rg_arena *arena, void *ptr, size_t old_size,
		       size_t new_size);

void *rg_arena_memdup(struct rg_arena *arena, const void *src, size_t size);

/* Copies at most `n` bytes of `s` and a terminating NUL. */
char *rg_arena_strndup(struct rg_arena *arena, const char *s, size_t n);

/* Registers `fn(data)` to run at reset/destroy, after those registered
 * later. Returns 0 or -ENOMEM. */
int rg_arena_cleanup_add(struct rg_arena *arena, void (*fn)(void *data),
			 void *data);

/* Bytes handed out since the last reset, and bytes of block held now. */
size_t rg_arena_used(const struct rg_arena *arena);
size_t rg_arena_reserved(const struct rg_arena *arena);

#ifdef __cplusplus
}
#endif

#endif /* RINGLET_H */
