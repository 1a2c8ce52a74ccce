/* pool.c: Tier 2, fixed-size object pools with a LIFO free list.
 *
 * Objects are carved from large anonymous mappings ("chunks"). A chunk's
 * objects are handed out in address order from its untouched tail first, so
 * pages the kernel has not yet backed stay unbacked until an object on them
 * is really used; objects that come back go on a LIFO free list whose link
 * lives in the object's first word. */
#include "account.h"
#include "poison.h"
#include "pool.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

struct rg__pool_chunk {
	struct rg__pool_chunk *next;
	size_t bytes;
};

struct rg_pool {
	void *free;		 /* LIFO list of returned objects */
	char *fresh, *fresh_end; /* never-used objects of the last chunk */
	size_t slot;		 /* bytes between two objects */
	size_t lead;		 /* bytes from slot start to object */
	size_t header;		 /* bytes from chunk start to 1st slot */
	size_t grow_by;
	struct rg__pool_chunk *chunks;
	struct rg_mem_account *account;
	struct rg_pool_stats stats;
};

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

/* Maps a chunk of `n` objects and makes it the fresh region. */
static int pool_grow(struct rg_pool *pool, size_t n)
{
	size_t bytes = pool->header + n * pool->slot;
	struct rg__pool_chunk *chunk = rg__sys_map(pool->account, bytes);
	if (!chunk)
		return -ENOMEM;
	chunk->bytes = bytes;
	chunk->next = pool->chunks;
	pool->chunks = chunk;

	char *first = (char *)chunk + pool->header;
	/* Fresh pages stay untouched (unbacked) until used: mark them for
	 * ASan only, never fill them. */
	rg__shadow_poison(first, n * pool->slot);
	if (pool->lead) {
		for (size_t i = 0; i < n; i++) {
			if (mprotect(first + i * pool->slot, pool->lead,
				     PROT_NONE) < 0) {
				int err = errno;
				pool->chunks = chunk->next;
				rg__unpoison(chunk, bytes);
				rg__sys_unmap(pool->account, chunk, bytes);
				errno = err;
				return -err;
			}
		}
	}
	pool->fresh = first;
	pool->fresh_end = first + n * pool->slot;
	pool->stats.capacity += n;
	pool->stats.bytes_reserved += bytes;
	return 0;
}

struct rg_pool *rg_pool_create(const struct rg_pool_config *config,
			       struct rg_mem_account *account)
{
	size_t max = config->max ? config->max : config->initial;
	if (config->object_size == 0 || config->object_size > SIZE_MAX / 4 ||
	    config->initial > max) {
		errno = EINVAL;
		return NULL;
	}
	struct rg_pool *pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t size = round_up(config->object_size, 16);
	if (config->guard_pages) {
		size = round_up(size, page);
		pool->lead = page;
		pool->header = page;
	} else {
		pool->header = round_up(sizeof(struct rg__pool_chunk), 64);
	}
	pool->slot = pool->lead + size;
	if (max > (SIZE_MAX - pool->header) / pool->slot) {
		free(pool);
		errno = EINVAL;
		return NULL;
	}
	pool->grow_by = config->grow_by;
	pool->account = account;
	pool->stats.object_size = size;
	pool->stats.max = max;
	if (config->initial && pool_grow(pool, config->initial) < 0) {
		int err = errno ? errno : ENOMEM;
		free(pool);
		errno = err;
		return NULL;
	}
	return pool;
}

void rg_pool_destroy(struct rg_pool *pool)
{
	if (!pool)
		return;
	struct rg__pool_chunk *chunk = pool->chunks;
	while (chunk) {
		struct rg__pool_chunk *next = chunk->next;
		rg__unpoison(chunk, chunk->bytes);
		rg__sys_unmap(pool->account, chunk, chunk->bytes);
		chunk = next;
	}
	free(pool);
}

void *rg_pool_get(struct rg_pool *pool)
{
	char *obj;
	if (pool->free) {
		obj = pool->free;
		rg__unpoison(obj, sizeof(void *));
		pool->free = *(void **)obj;
	} else {
		if (pool->fresh == pool->fresh_end) {
			size_t room = pool->stats.max - pool->stats.capacity;
			size_t n = pool->grow_by < room ? pool->grow_by : room;
			if (n == 0 || pool_grow(pool, n) < 0) {
				pool->stats.failures++;
				return NULL;
			}
		}
		obj = pool->fresh + pool->lead;
		pool->fresh += pool->slot;
	}
	rg__unpoison(obj, pool->stats.object_size);
	pool->stats.gets++;
	if (++pool->stats.in_use > pool->stats.high_water)
		pool->stats.high_water = pool->stats.in_use;
	return obj;
}

void rg_pool_put(struct rg_pool *pool, void *object)
{
	rg__poison(object, pool->stats.object_size);
	rg__unpoison(object, sizeof(void *));
	*(void **)object = pool->free;
	rg__shadow_poison(object, sizeof(void *));
	pool->free = object;
	pool->stats.in_use--;
}

size_t rg_pool_object_size(const struct rg_pool *pool)
{
	return pool->stats.object_size;
}

void rg_pool_stats(const struct rg_pool *pool, struct rg_pool_stats *out)
{
	*out = pool->stats;
}

struct rg_mem_account *rg__pool_account(const struct rg_pool *pool)
{
	return pool->account;
}
