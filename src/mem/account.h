/* account.h: charging system memory to a worker's rg_mem_account. */
#ifndef RG_MEM_ACCOUNT_H
#define RG_MEM_ACCOUNT_H

#include "ringlet.h"

/* Charges `n` bytes; -ENOMEM (and a counted failure) past the limit.
 * `account` may be NULL: nothing is counted. */
int rg__account_charge(struct rg_mem_account *account, size_t n);
void rg__account_credit(struct rg_mem_account *account, size_t n);

/* Anonymous private mapping of `n` bytes, charged; NULL on failure. */
void *rg__sys_map(struct rg_mem_account *account, size_t n);
void rg__sys_unmap(struct rg_mem_account *account, void *p, size_t n);

/* Heap memory, charged by the size asked; NULL on failure. */
void *rg__sys_alloc(struct rg_mem_account *account, size_t n);
void *rg__sys_realloc(struct rg_mem_account *account, void *p, size_t old_n,
		      size_t new_n);
void rg__sys_free(struct rg_mem_account *account, void *p, size_t n);

#endif /* RG_MEM_ACCOUNT_H */
