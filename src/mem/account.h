/* account.h: charging system memory to a worker's rg_mem_account. */
#ifndef RG_MEM_ACCOUNT_H
#define RG_MEM_ACCOUNT_H

#include "ringlet.h"

/* What a charge is for, which decides how much of the limit it may use.
 * Essential charges admit and answer requests (connections, the first
 * arena block of a request, header, input and output buffers, coroutine
 * stacks): the whole limit. Bulk charges are what a request grows by (heap
 * spills, so buffered bodies, and arena blocks beyond the first): refused
 * once the account would pass the limit less its reserve, so that a flood
 * of large work leaves room for small requests to be served. */
enum rg__mem_class {
	RG__MEM_ESSENTIAL,
	RG__MEM_BULK,
};

/* The bytes of `limit` kept for essential charges: an eighth. At 32 MiB
 * that is 4 MiB, above one growth step of every essential pool at the
 * default sizes (16 coroutine stacks: 1.1 MiB, 64 arena blocks: 512 KiB,
 * 32 header or output buffers: 512 KiB), and a pool near the limit grows
 * by what fits (pool.c): the small requests a flood of bulk work leaves
 * room for find their objects, while bulk keeps seven eighths. A fixed
 * floor would take the whole of a small limit. */
static inline uint64_t rg__account_reserve(uint64_t limit)
{
	return limit / 8;
}

/* Bytes a charge of class `k` may take now; UINT64_MAX without a limit. */
uint64_t rg__account_room(const struct rg_mem_account *account,
			  enum rg__mem_class k);

/* Charges `n` bytes of class `k`; -ENOMEM (and a counted failure) past
 * what the class may use. `account` may be NULL: nothing is counted. */
int rg__account_charge(struct rg_mem_account *account, size_t n,
		       enum rg__mem_class k);
void rg__account_credit(struct rg_mem_account *account, size_t n);

/* Anonymous private mapping of `n` bytes, charged; NULL on failure. */
void *rg__sys_map(struct rg_mem_account *account, size_t n,
		  enum rg__mem_class k);
void rg__sys_unmap(struct rg_mem_account *account, void *p, size_t n);

/* Heap memory, charged as bulk by the size asked; NULL on failure. Only
 * the arena's spills use it. */
void *rg__sys_alloc(struct rg_mem_account *account, size_t n);
void *rg__sys_realloc(struct rg_mem_account *account, void *p, size_t old_n,
		      size_t new_n);
void rg__sys_free(struct rg_mem_account *account, void *p, size_t n);

#endif /* RG_MEM_ACCOUNT_H */
