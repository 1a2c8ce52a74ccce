/* pool.h: what other tiers need to know of a pool beyond the public API. */
#ifndef RG_MEM_POOL_H
#define RG_MEM_POOL_H

#include "ringlet.h"

/* The account the pool charges; arenas charge their spills to it too. */
struct rg_mem_account *rg__pool_account(const struct rg_pool *pool);

#endif /* RG_MEM_POOL_H */
