/* pool.c: Tier 2, fixed-size object pools with a LIFO free list.
 *
 * Objects are carved from large anonymous mappings ("chunks"). A chunk's
 * objects are handed out in address order from its untouched tail first, so
 * pages the kernel has not yet backed stay unbacked until an object on them
 * is really used; objects that come back go on a LIFO free list whose link
 * lives in the object's first word. The chunks a burst added go back to
 * the system once all their objects are free again (rg__pool_trim). */
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
	size_t nfree; /* free objects in it, counted by rg__pool_trim */
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

/* Maps a chunk of `n` objects, charged as `k`, and makes it the fresh
 * region. */
static int pool_grow(struct rg_pool *pool, size_t n, enum rg__mem_class k)
{
	size_t bytes = pool->header + n * pool->slot;
	struct rg__pool_chunk *chunk = rg__sys_map(pool->account, bytes, k);
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
	if (config->initial &&
	    pool_grow(pool, config->initial, RG__MEM_ESSENTIAL) < 0) {
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

/* Grows by grow_by objects, or by what the memory limit leaves room for
 * when that is less (a chunk of one at least): near the limit a request
 * still gets its object. */
static __attribute__((noinline)) int pool_grow_step(struct rg_pool *pool,
						    enum rg__mem_class k)
{
	size_t left = pool->stats.max - pool->stats.capacity;
	size_t n = pool->grow_by < left ? pool->grow_by : left;
	if (n == 0)
		return -ENOMEM;
	uint64_t room = rg__account_room(pool->account, k);
	if (room < pool->header + n * pool->slot)
		n = room > pool->header + pool->slot
			? (size_t)(room - pool->header) / pool->slot
			: 1; /* refused, and counted, by the account */
	return pool_grow(pool, n, k);
}

/* An object; a growth it needs is charged as `k`. */
static inline __attribute__((always_inline)) void *
pool_get(struct rg_pool *pool, enum rg__mem_class k)
{
	char *obj;
	if (pool->free) {
		obj = pool->free;
		rg__unpoison(obj, sizeof(void *));
		pool->free = *(void **)obj;
	} else {
		if (pool->fresh == pool->fresh_end &&
		    pool_grow_step(pool, k) < 0) {
			pool->stats.failures++;
			return NULL;
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

void *rg_pool_get(struct rg_pool *pool)
{
	return pool_get(pool, RG__MEM_ESSENTIAL);
}

void *rg__pool_get_bulk(struct rg_pool *pool)
{
	return pool_get(pool, RG__MEM_BULK);
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

static size_t chunk_objects(const struct rg_pool *pool,
			    const struct rg__pool_chunk *c)
{
	return (c->bytes - pool->header) / pool->slot;
}

static struct rg__pool_chunk *chunk_of(const struct rg_pool *pool,
				       const char *obj)
{
	struct rg__pool_chunk *c = pool->chunks;
	while (obj < (char *)c || obj >= (char *)c + c->bytes)
		c = c->next;
	return c;
}

/* A free object's link, which ASan keeps unaddressable in between. */
static void *link_get(void *obj)
{
	rg__unpoison(obj, sizeof(void *));
	void *next = *(void **)obj;
	rg__shadow_poison(obj, sizeof(void *));
	return next;
}

static void link_set(void *obj, void *next)
{
	rg__unpoison(obj, sizeof(void *));
	*(void **)obj = next;
	rg__shadow_poison(obj, sizeof(void *));
}

/* Nothing out: the chunks beyond the oldest go, and the oldest's pages
 * too (MADV_DONTNEED; the guard pages keep their PROT_NONE), its objects
 * fresh again: the pool is as it was created. */
static void trim_all(struct rg_pool *pool, struct rg__pool_chunk *oldest)
{
	while (pool->chunks != oldest) {
		struct rg__pool_chunk *c = pool->chunks;
		pool->chunks = c->next;
		rg__unpoison(c, c->bytes);
		rg__sys_unmap(pool->account, c, c->bytes);
	}
	size_t n = chunk_objects(pool, oldest);
	char *first = (char *)oldest + pool->header;
	madvise(first, n * pool->slot, MADV_DONTNEED);
	rg__shadow_poison(first, n * pool->slot);
	pool->free = NULL;
	pool->fresh = first;
	pool->fresh_end = first + n * pool->slot;
	pool->stats.capacity = n;
	pool->stats.bytes_reserved = oldest->bytes;
}

/* Objects out: each chunk but the oldest whose objects are all free goes;
 * the free list is relinked without their objects. */
static void trim_free_chunks(struct rg_pool *pool,
			     struct rg__pool_chunk *oldest)
{
	pool->chunks->nfree = (size_t)(pool->fresh_end - pool->fresh) /
			      pool->slot; /* never handed out */
	size_t going = 0;
	for (char *o = pool->free; o; o = link_get(o))
		chunk_of(pool, o)->nfree++;
	for (struct rg__pool_chunk *c = pool->chunks; c != oldest; c = c->next)
		going += c->nfree == chunk_objects(pool, c);
	if (!going)
		return;
	char *prev = NULL;
	for (char *o = pool->free, *next; o; o = next) {
		next = link_get(o);
		struct rg__pool_chunk *c = chunk_of(pool, o);
		if (c != oldest && c->nfree == chunk_objects(pool, c))
			continue;
		if (prev)
			link_set(prev, o);
		else
			pool->free = o;
		prev = o;
	}
	if (prev)
		link_set(prev, NULL);
	else
		pool->free = NULL;
	for (struct rg__pool_chunk **p = &pool->chunks; *p != oldest;) {
		struct rg__pool_chunk *c = *p;
		size_t n = chunk_objects(pool, c);
		if (c->nfree != n) {
			p = &c->next;
			continue;
		}
		if (c == pool->chunks)
			pool->fresh = pool->fresh_end = NULL;
		*p = c->next;
		pool->stats.capacity -= n;
		pool->stats.bytes_reserved -= c->bytes;
		rg__unpoison(c, c->bytes);
		rg__sys_unmap(pool->account, c, c->bytes);
	}
}

/* Gives back to the system what a burst grew the pool by, once it is free
 * again, so that reserved memory and RSS come back to their idle level.
 * The oldest chunk (the `initial` objects) always stays. Called about once
 * a second by the worker: O(free objects x chunks) when the pool has grown
 * and has objects out, O(chunks) otherwise. */
void rg__pool_trim(struct rg_pool *pool)
{
	struct rg__pool_chunk *oldest = pool->chunks;
	if (!oldest)
		return;
	for (struct rg__pool_chunk *c = oldest; c; c = c->next) {
		c->nfree = 0;
		oldest = c;
	}
	if (!pool->stats.in_use)
		trim_all(pool, oldest);
	else if (oldest != pool->chunks)
		trim_free_chunks(pool, oldest);
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
