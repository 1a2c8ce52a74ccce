/* cache.c: the static file server's open-file cache: a fixed table of
 * entries allocated once (nothing per request), found through hash
 * buckets, evicted by a clock hand that passes over pinned entries. */
#include "static/static.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

enum { FREE, LIVE, DETACHED };

int rg__static_cache_init(struct rg__static_cache *c, uint32_t n)
{
	memset(c, 0, sizeof(*c));
	if (!n)
		return 0;
	uint32_t buckets = 1;
	while (buckets < n && buckets < (1u << 30))
		buckets <<= 1;
	c->e = calloc(n, sizeof(*c->e));
	c->bucket = malloc(buckets * sizeof(*c->bucket));
	if (!c->e || !c->bucket) {
		free(c->e);
		free(c->bucket);
		memset(c, 0, sizeof(*c));
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < buckets; i++)
		c->bucket[i] = NONE;
	for (uint32_t i = 0; i < n; i++)
		c->e[i].cache = c;
	c->n = n;
	c->mask = buckets - 1;
	return 0;
}

void rg__static_cache_fini(struct rg__static_cache *c)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (c->e[i].state != FREE)
			rg__static_file_close(&c->e[i].file);
	free(c->e);
	free(c->bucket);
	memset(c, 0, sizeof(*c));
}

/* FNV-1a. */
uint64_t rg__static_hash(const char *key, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
	return h;
}

struct rg__static_entry *rg__static_cache_find(struct rg__static_cache *c,
					       const char *key, size_t len,
					       uint64_t hash)
{
	if (!c->n)
		return NULL;
	for (uint32_t i = c->bucket[hash & c->mask]; i != NONE;
	     i = c->e[i].next) {
		struct rg__static_entry *e = &c->e[i];
		if (e->hash == hash && e->key_len == len &&
		    !memcmp(e->key, key, len)) {
			e->recent = true;
			return e;
		}
	}
	return NULL;
}

static void unlink_entry(struct rg__static_cache *c, struct rg__static_entry *e)
{
	uint32_t idx = (uint32_t)(e - c->e);
	for (uint32_t *p = &c->bucket[e->hash & c->mask]; *p != NONE;
	     p = &c->e[*p].next) {
		if (*p == idx) {
			*p = e->next;
			break;
		}
	}
	e->next = NONE;
}

static void release(struct rg__static_entry *e)
{
	rg__static_file_close(&e->file);
	e->state = FREE;
}

struct rg__static_entry *rg__static_cache_add(struct rg__static_cache *c,
					      const char *key, size_t len,
					      uint64_t hash,
					      const struct rg__static_file *f)
{
	if (!c->n || len > RG__STATIC_KEY_MAX)
		return NULL;
	/* Two turns of the clock: the first clears reference bits. */
	struct rg__static_entry *e = NULL;
	for (uint32_t step = 0; step < 2 * c->n && !e; step++) {
		struct rg__static_entry *x = &c->e[c->hand];
		c->hand = c->hand + 1 == c->n ? 0 : c->hand + 1;
		if (x->state == FREE) {
			e = x;
		} else if (x->state == LIVE && !x->refs) {
			if (x->recent) {
				x->recent = false;
			} else {
				unlink_entry(c, x);
				release(x);
				e = x;
			}
		}
	}
	if (!e)
		return NULL;
	e->file = *f;
	e->hash = hash;
	e->key_len = (uint16_t)len;
	memcpy(e->key, key, len);
	e->refs = 0;
	e->recent = true;
	e->state = LIVE;
	uint32_t *head = &c->bucket[hash & c->mask];
	e->next = *head;
	*head = (uint32_t)(e - c->e);
	return e;
}

void rg__static_cache_detach(struct rg__static_entry *e)
{
	if (e->state != LIVE)
		return;
	unlink_entry(e->cache, e);
	e->state = DETACHED;
	if (!e->refs)
		release(e);
}

void rg__static_cache_pin(struct rg__static_entry *e)
{
	e->refs++;
}

void rg__static_cache_unpin(void *arg)
{
	struct rg__static_entry *e = arg;
	if (--e->refs == 0 && e->state == DETACHED)
		release(e);
}
