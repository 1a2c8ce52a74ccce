/* account.c: the per-worker memory account and the only calls ringlet's
 * memory tiers make to the system allocator (mmap, malloc). */
#include "account.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

uint64_t rg__account_room(const struct rg_mem_account *account,
			  enum rg__mem_class k)
{
	if (!account || !account->limit)
		return UINT64_MAX;
	uint64_t cap = account->limit;
	if (k == RG__MEM_BULK)
		cap -= rg__account_reserve(cap);
	return account->reserved < cap ? cap - account->reserved : 0;
}

int rg__account_charge(struct rg_mem_account *account, size_t n,
		       enum rg__mem_class k)
{
	if (!account)
		return 0;
	if (n > rg__account_room(account, k)) {
		account->failures++;
		return -ENOMEM;
	}
	account->reserved += n;
	if (account->reserved > account->peak)
		account->peak = account->reserved;
	return 0;
}

void rg__account_credit(struct rg_mem_account *account, size_t n)
{
	if (account)
		account->reserved -= n;
}

void *rg__sys_map(struct rg_mem_account *account, size_t n,
		  enum rg__mem_class k)
{
	if (rg__account_charge(account, n, k) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		rg__account_credit(account, n);
		return NULL;
	}
	return p;
}

void rg__sys_unmap(struct rg_mem_account *account, void *p, size_t n)
{
	munmap(p, n);
	rg__account_credit(account, n);
}

void *rg__sys_alloc(struct rg_mem_account *account, size_t n)
{
	if (n > PTRDIFF_MAX)
		return NULL;
	if (rg__account_charge(account, n, RG__MEM_BULK) < 0)
		return NULL;
	void *p = malloc(n);
	if (!p)
		rg__account_credit(account, n);
	return p;
}

void *rg__sys_realloc(struct rg_mem_account *account, void *p, size_t old_n,
		      size_t new_n)
{
	if (new_n > PTRDIFF_MAX)
		return NULL;
	if (new_n > old_n &&
	    rg__account_charge(account, new_n - old_n, RG__MEM_BULK) < 0)
		return NULL;
	void *q = realloc(p, new_n);
	if (!q) {
		if (new_n > old_n)
			rg__account_credit(account, new_n - old_n);
		return NULL;
	}
	if (new_n < old_n)
		rg__account_credit(account, old_n - new_n);
	return q;
}

void rg__sys_free(struct rg_mem_account *account, void *p, size_t n)
{
	free(p);
	rg__account_credit(account, n);
}
