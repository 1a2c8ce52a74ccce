/* pool.h: the pools' internal side: what the other tiers and the worker
 * need beyond the public API (the account, growth classes, trimming). */
#ifndef RG_MEM_POOL_H
#define RG_MEM_POOL_H

#include "ringlet.h"

/* The account the pool charges; arenas charge their spills to it too. */
struct rg_mem_account *rg__pool_account(const struct rg_pool *pool);

/* rg_pool_get, but a growth it needs is a bulk charge (account.h): for
 * what a request grows by, not what admits it. */
void *rg__pool_get_bulk(struct rg_pool *pool);

/* Unmaps the chunks a growth added once all their objects are free again
 * (and, with nothing out, returns the first chunk's pages): see pool.c. */
void rg__pool_trim(struct rg_pool *pool);

/* rg__pool_trim for each size class of the slab. */
void rg__slab_trim(struct rg_slab *slab);

#endif /* RG_MEM_POOL_H */
