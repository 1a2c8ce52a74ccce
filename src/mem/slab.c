/* slab.c: Tier 3, the buffer slab: a few size classes, each an rg_pool, and
 * the internal fragmentation they cause. */
#include "account.h"
#include "pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct rg__slab_class {
	size_t size;
	struct rg_pool *pool;
	uint64_t allocs, bytes_asked, bytes_given;
};

struct rg_slab {
	unsigned nclasses;
	uint64_t too_large;
	struct rg__slab_class classes[RG_SLAB_MAX_CLASSES];
};

static const size_t default_sizes[] = {256, 1024, 8192};

struct rg_slab *rg_slab_create(const struct rg_slab_config *config,
			       struct rg_mem_account *account)
{
	struct rg_slab *slab = calloc(1, sizeof(*slab));
	if (!slab)
		return NULL;
	/* The distinct sizes given, ascending (an insertion: a few). */
	size_t sizes[RG_SLAB_MAX_CLASSES];
	unsigned n = 0;
	for (unsigned i = 0; i < RG_SLAB_MAX_CLASSES && config->sizes[i]; i++) {
		size_t v = config->sizes[i];
		unsigned j = n;
		while (j > 0 && sizes[j - 1] > v)
			j--;
		if (j > 0 && sizes[j - 1] == v)
			continue;
		memmove(&sizes[j + 1], &sizes[j], (n - j) * sizeof(size_t));
		sizes[j] = v;
		n++;
	}
	if (n == 0) {
		memcpy(sizes, default_sizes, sizeof(default_sizes));
		n = sizeof(default_sizes) / sizeof(default_sizes[0]);
	}
	for (unsigned i = 0; i < n; i++) {
		struct rg_pool_config pc = {
		    .object_size = sizes[i],
		    .initial = config->initial,
		    .grow_by = config->initial ? config->initial : 16,
		    .max = config->max ? config->max : config->initial,
		};
		slab->classes[i].pool = rg_pool_create(&pc, account);
		if (!slab->classes[i].pool)
			goto fail;
		slab->classes[i].size =
		    rg_pool_object_size(slab->classes[i].pool);
		slab->nclasses = i + 1;
	}
	return slab;
fail:
	rg_slab_destroy(slab);
	return NULL;
}

void rg_slab_destroy(struct rg_slab *slab)
{
	if (!slab)
		return;
	int err = errno;
	for (unsigned i = 0; i < slab->nclasses; i++)
		rg_pool_destroy(slab->classes[i].pool);
	free(slab);
	errno = err;
}

static struct rg__slab_class *class_of(struct rg_slab *slab, size_t size)
{
	for (unsigned i = 0; i < slab->nclasses; i++)
		if (size <= slab->classes[i].size)
			return &slab->classes[i];
	return NULL;
}

void *rg_slab_alloc(struct rg_slab *slab, size_t size, size_t *capacity)
{
	struct rg__slab_class *c = class_of(slab, size);
	if (!c) {
		slab->too_large++;
		return NULL;
	}
	void *buf = rg_pool_get(c->pool);
	if (!buf)
		return NULL;
	c->allocs++;
	c->bytes_asked += size;
	c->bytes_given += c->size;
	if (capacity)
		*capacity = c->size;
	return buf;
}

void rg_slab_free(struct rg_slab *slab, void *buffer, size_t size)
{
	rg_pool_put(class_of(slab, size)->pool, buffer);
}

void rg__slab_trim(struct rg_slab *slab)
{
	for (unsigned i = 0; i < slab->nclasses; i++)
		rg__pool_trim(slab->classes[i].pool);
}

void rg_slab_stats(const struct rg_slab *slab, struct rg_slab_stats *out)
{
	*out = (struct rg_slab_stats){.nclasses = slab->nclasses,
				      .too_large = slab->too_large};
	for (unsigned i = 0; i < slab->nclasses; i++) {
		const struct rg__slab_class *c = &slab->classes[i];
		struct rg_slab_class_stats *o = &out->classes[i];
		o->size = c->size;
		o->allocs = c->allocs;
		o->bytes_asked = c->bytes_asked;
		o->bytes_given = c->bytes_given;
		rg_pool_stats(c->pool, &o->pool);
	}
}
